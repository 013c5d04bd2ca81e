-- Device-side security (issue 15, findings 2, 3, 4, 9): rows keep the school they were written
-- for, quarantined lines are sealed, and devices can be pinned to the address they were approved
-- from. Version 0008 exists in migrations/postgres with the same meaning.

-- Finding 4: the school a row was written for, so moving a device does not hand its history to
-- the new school. Backfilled from the device's current school (the only record there is).
alter table attendance_logs add column school_id integer references schools(id) on delete set null;
alter table device_commands add column school_id integer references schools(id) on delete set null;
alter table device_users add column school_id integer references schools(id) on delete set null;
alter table device_events add column school_id integer references schools(id) on delete set null;
update attendance_logs set school_id = (select d.school_id from devices d where d.id = attendance_logs.device_id);
update device_commands set school_id = (select d.school_id from devices d where d.id = device_commands.device_id);
update device_users set school_id = (select d.school_id from devices d where d.id = device_users.device_id);
update device_events set school_id = (select d.school_id from devices d where d.id = device_events.device_id);
create index attendance_logs_school on attendance_logs (school_id, punched_at);

-- Finding 9: `raw` holds base64 of the line sealed with the data key when this is set.
alter table rejected_lines add column raw_sealed integer not null default 0;

-- Finding 2: per-school pinning policy and per-device pin (address approved from, subnet width)
-- and the hash of the device's optional secret path token.
alter table schools add column device_pinning text not null default 'off'
    check (device_pinning in ('off', 'alert', 'refuse'));
alter table devices add column pinned_ip text;
alter table devices add column pin_prefix integer;
alter table devices add column path_token_hash text;
-- Devices approved before pinning existed are pinned to the address they last called from.
update devices set pinned_ip = last_ip where approval = 'approved' and mode = 'push';
