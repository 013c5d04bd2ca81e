-- The login throttle's counts (domain::login_limits), shared by every instance on this database:
-- one row per account (`kind = 'account'`) and per client address (`kind = 'address'`), keyed by
-- an HMAC-SHA256 under a server key of the lower-case email / the address (AuthKeys::login_key):
-- neither is kept in clear, and a dump does not tell which tried to log in. Rows are
-- read and written under a row lock by each attempt, and purged a day after their last attempt
-- by the retention job. Version 0014 exists in migrations/sqlite with the same meaning.
create table login_counts (
    kind text not null check (kind in ('account', 'address')),
    key text not null,
    attempts integer not null,
    started_at timestamptz not null,
    last_at timestamptz not null,
    blocked_until timestamptz,
    primary key (kind, key)
);
create index login_counts_last on login_counts (last_at);
