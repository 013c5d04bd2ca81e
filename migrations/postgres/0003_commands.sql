-- The command queue: every add, delete, query or setting change sent to a push device.
-- The id IS the CmdID sent to the device (numeric, far below 2^53: survives firmware that casts to int).

create table device_commands (
    id bigserial primary key,
    device_id bigint not null references devices(id) on delete cascade,
    kind text not null,
    -- Capability key of the command (e.g. `DATA UPDATE USERINFO`), learned unsupported from Return codes.
    verb text not null,
    -- The command text without the `C:<id>:` prefix, UTF-8 (re-encoded per device language on delivery).
    payload text not null,
    -- REBOOT, CLEAR DATA and UPGRADE must be the last command of a reply.
    ends_batch boolean not null default false,
    state text not null default 'queued' check (state in ('queued', 'sent', 'acked', 'failed', 'cancelled')),
    attempts integer not null default 0,
    max_attempts integer not null default 3,
    created_at timestamptz not null default now(),
    sent_at timestamptz,
    acked_at timestamptz,
    finished_at timestamptz,
    return_code bigint,
    return_message text,
    -- INFO dumps, query counts, Shell output: what the device answered beyond the code.
    result text,
    -- Why the command failed or was cancelled, in words an admin understands.
    error text,
    student_id bigint references students(id) on delete set null,
    pin text,
    depends_on bigint references device_commands(id) on delete set null,
    created_by text
);
-- Delivery scans only the open commands of one device, in id (FIFO) order.
create index device_commands_open on device_commands (device_id, id) where state in ('queued', 'sent');
create index device_commands_device on device_commands (device_id, id desc);
create index device_commands_student on device_commands (student_id) where student_id is not null;

-- What each device was seen to accept or reject (learned from Return codes).
create table device_capabilities (
    device_id bigint not null references devices(id) on delete cascade,
    capability text not null,
    supported boolean not null,
    return_code bigint,
    learned_at timestamptz not null default now(),
    primary key (device_id, capability)
);
