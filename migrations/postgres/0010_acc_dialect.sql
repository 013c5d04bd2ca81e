-- Access-control (acc, push 3.x) dialect (issue 17). Version 0010 exists in migrations/sqlite
-- with the same meaning.

-- Registration: the RegistryCode and SessionID a device was given, kept stable because the
-- `Cookie: token=md5(RegistryCode+SN+SessionID)` the firmware sends afterwards derives from them.
alter table devices add column registry_code text;
alter table devices add column session_id text;

-- rtlog punches carry the device's event counter `index`. It restarts, so it is unique only
-- together with the local time: a re-sent event is skipped even if its PIN were rewritten.
alter table attendance_logs add column event_index bigint;
create unique index attendance_logs_event_index on attendance_logs (device_id, event_index, local_time)
    where event_index is not null;

-- `POST /iclock/querydata` answers arrive in packets (`packcnt`/`packidx`), correlated to the
-- `DATA QUERY` command by `cmdid`; each packet is kept (sealed) until the set is complete.
create table acc_query_packets (
    device_id bigint not null references devices(id) on delete cascade,
    cmd_id bigint not null,
    pack_idx integer not null,
    pack_cnt integer not null,
    tablename text not null,
    body bytea not null,
    received_at timestamptz not null,
    primary key (device_id, cmd_id, pack_idx)
);
