-- Pull devices in service: what the pull service learns at every contact, how its polls and its
-- realtime session are doing, the admin's switches, and a lease per device so that exactly one
-- instance holds a device's session at a time. Version 0006 exists in migrations/sqlite with the
-- same meaning.

alter table devices add column enabled boolean not null default true;
alter table devices add column realtime_enabled boolean not null default true;
-- Clear the device's attendance log after a collection that stored every record (admin opt-in).
alter table devices add column clear_log_after_collect boolean not null default false;
alter table devices add column fp_version text;
alter table devices add column face_version text;
alter table devices add column user_count integer;
alter table devices add column fingerprint_count integer;
alter table devices add column face_count integer;
alter table devices add column record_count integer;
alter table devices add column last_contact_at timestamptz;
alter table devices add column last_poll_at timestamptz;
alter table devices add column last_poll_ok boolean;
alter table devices add column last_poll_error text;
alter table devices add column poll_failures integer not null default 0;
alter table devices add column next_poll_at timestamptz;
-- `connected`, `retrying` or `off`, as the instance holding the session last wrote it.
alter table devices add column realtime_state text;
alter table devices add column realtime_failures integer not null default 0;
alter table devices add column realtime_failing_since timestamptz;
alter table devices add column realtime_disabled_at timestamptz;
alter table devices add column realtime_disabled_reason text;
alter table devices add column realtime_error text;

create table device_leases (
    device_id bigint primary key references devices(id) on delete cascade,
    holder text not null,
    expires_at timestamptz not null
);
