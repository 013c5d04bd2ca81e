-- Student sync: what each push device should hold, what it was seen to hold, and the safety
-- rails around bulk changes. Version 0004 exists in migrations/sqlite with the same meaning.

-- One row per (device, student) ever targeted. `desired` is what ironclock wants on the device;
-- `want_name`/`want_card` are the user record it last queued (NULL = unknown, forces a re-send);
-- `status` is the evidence: pending (queued) -> sent (delivered) -> synced (acked AND seen on the
-- device) | failed; deletes go deleting -> deleted.
create table device_user_sync_status (
    device_id bigint not null references devices(id) on delete cascade,
    student_id bigint not null references students(id) on delete cascade,
    device_pin text not null,
    desired text not null check (desired in ('present', 'absent')),
    sync_status text not null check (sync_status in ('pending', 'sent', 'synced', 'failed', 'deleting', 'deleted')),
    want_name text,
    want_card text,
    last_command_id bigint references device_commands(id) on delete set null,
    -- The state of last_command_id this row last reflected (set-based refresh compares it).
    command_state text,
    sync_retries integer not null default 0,
    error_message text,
    next_retry_at timestamptz,
    last_sync_attempt timestamptz,
    last_sync_success timestamptz,
    -- Last time the device itself showed the user (read-back or upload), and how.
    verified_at timestamptz,
    confirmed_by text,
    updated_at timestamptz not null default now(),
    primary key (device_id, student_id)
);
create index device_user_sync_status_student on device_user_sync_status (student_id);
create index device_user_sync_status_open on device_user_sync_status (device_id, sync_status)
    where sync_status <> 'synced' and sync_status <> 'deleted';
create index device_user_sync_status_command on device_user_sync_status (last_command_id)
    where last_command_id is not null;

-- Bulk commands (full sync, verifier writes, read-backs) queued during a school's quiet hours
-- wait until this time; NULL = deliver at once.
alter table device_commands add column not_before timestamptz;

-- Per-school policy: quiet hours in the school's local time ("07:00-08:30,14:30-15:30"), and
-- what to do with users found on a device that ironclock does not know ('report' or 'delete').
alter table schools add column quiet_hours text not null default '';
alter table schools add column unknown_user_policy text not null default 'report'
    check (unknown_user_policy in ('report', 'delete'));

-- Safety alerts: the verifier refused to queue more deletes than the cap allows for a device.
create table sync_alerts (
    id bigserial primary key,
    school_id bigint references schools(id) on delete cascade,
    device_id bigint not null references devices(id) on delete cascade,
    kind text not null,
    message text not null,
    detail jsonb not null default '{}'::jsonb,
    created_at timestamptz not null default now(),
    resolved_at timestamptz,
    resolved_by text,
    resolution text check (resolution in ('confirmed', 'dismissed'))
);
create index sync_alerts_open on sync_alerts (device_id) where resolved_at is null;
