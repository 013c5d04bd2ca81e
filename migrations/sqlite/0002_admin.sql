-- Admin API: admin users and their refresh tokens, the audit log, job history, and what the
-- roster needs for stable PINs (per-school counter, soft-deleted students keep their PIN).
-- Version 0002 exists in migrations/postgres with the same meaning.

create table admin_users (
    id integer primary key autoincrement,
    email text not null,
    password_hash text not null,
    role text not null check (role in ('super_admin', 'school_admin')),
    school_id integer references schools(id) on delete cascade,
    disabled integer not null default 0,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    last_login_at text,
    -- A school admin belongs to exactly one school; a super admin to none.
    check ((role = 'school_admin') = (school_id is not null))
);
create unique index admin_users_email on admin_users (lower(email));

-- Refresh tokens are kept as SHA-256 hashes: a database dump does not let anyone log in.
create table refresh_tokens (
    id integer primary key autoincrement,
    admin_id integer not null references admin_users(id) on delete cascade,
    token_hash text not null unique,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    expires_at text not null,
    revoked_at text
);
create index refresh_tokens_admin on refresh_tokens (admin_id);

create table audit_log (
    id integer primary key autoincrement,
    at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    actor_id integer,
    actor_email text,
    action text not null,
    target_type text,
    target_id integer,
    school_id integer,
    ip text,
    detail text not null default '{}'
);
create index audit_log_at on audit_log (at);

create table job_executions (
    id integer primary key autoincrement,
    job text not null,
    school_id integer references schools(id) on delete cascade,
    started_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    finished_at text,
    status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
    summary text not null default '{}',
    error text,
    instance text
);
create index job_executions_started on job_executions (started_at);

-- PINs: auto-assigned from pin_start upwards; next_pin only ever grows, so a PIN is never handed out twice.
alter table schools add column pin_start integer not null default 1000 check (pin_start between 1 and 999999999);
alter table schools add column next_pin integer not null default 1000;

-- Deleted students stay (soft delete): their PIN stays reserved and their punches keep their student.
alter table students add column deleted_at text;
-- A card belongs to one current student of a school; a deleted student's card may be handed on.
create unique index students_school_card on students (school_id, rfid_card_id)
    where rfid_card_id is not null and deleted_at is null;
create index students_school_live on students (school_id, id) where deleted_at is null;
