-- Admin API: admin users and their refresh tokens, the audit log, job history, and what the
-- roster needs for stable PINs (per-school counter, soft-deleted students keep their PIN).
-- Version 0002 exists in migrations/sqlite with the same meaning.

create table admin_users (
    id bigserial primary key,
    email text not null,
    password_hash text not null,
    role text not null check (role in ('super_admin', 'school_admin')),
    school_id bigint references schools(id) on delete cascade,
    disabled boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_login_at timestamptz,
    -- A school admin belongs to exactly one school; a super admin to none.
    check ((role = 'school_admin') = (school_id is not null))
);
create unique index admin_users_email on admin_users (lower(email));

-- Refresh tokens are kept as SHA-256 hashes: a database dump does not let anyone log in.
create table refresh_tokens (
    id bigserial primary key,
    admin_id bigint not null references admin_users(id) on delete cascade,
    token_hash text not null unique,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz
);
create index refresh_tokens_admin on refresh_tokens (admin_id);

create table audit_log (
    id bigserial primary key,
    at timestamptz not null default now(),
    actor_id bigint,
    actor_email text,
    action text not null,
    target_type text,
    target_id bigint,
    school_id bigint,
    ip text,
    detail jsonb not null default '{}'::jsonb
);
create index audit_log_at on audit_log (at);

create table job_executions (
    id bigserial primary key,
    job text not null,
    school_id bigint references schools(id) on delete cascade,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
    summary jsonb not null default '{}'::jsonb,
    error text,
    instance text
);
create index job_executions_started on job_executions (started_at);

-- PINs: auto-assigned from pin_start upwards; next_pin only ever grows, so a PIN is never handed out twice.
alter table schools add column pin_start bigint not null default 1000 check (pin_start between 1 and 999999999);
alter table schools add column next_pin bigint not null default 1000;

-- Deleted students stay (soft delete): their PIN stays reserved and their punches keep their student.
alter table students add column deleted_at timestamptz;
-- A card belongs to one current student of a school; a deleted student's card may be handed on.
create unique index students_school_card on students (school_id, rfid_card_id)
    where rfid_card_id is not null and deleted_at is null;
create index students_school_live on students (school_id, id) where deleted_at is null;
