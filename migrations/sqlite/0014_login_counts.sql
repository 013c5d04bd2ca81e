-- The login throttle's counts (domain::login_limits), shared by every instance on this database:
-- one row per account (`kind = 'account'`, key = SHA-256 of the lower-case email) and per client
-- address (`kind = 'address'`, key = SHA-256 of the address); neither is kept in clear. Rows are
-- read and written by each attempt under the writer lock, and purged a day after their last
-- attempt by the retention job. Version 0014 exists in migrations/postgres with the same meaning.
create table login_counts (
    kind text not null check (kind in ('account', 'address')),
    key text not null,
    attempts integer not null,
    started_at text not null,
    last_at text not null,
    blocked_until text,
    primary key (kind, key)
);
create index login_counts_last on login_counts (last_at);
