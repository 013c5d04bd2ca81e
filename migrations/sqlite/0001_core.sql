-- Core tables: schools and their roster, devices, raw device messages, punches, device-reported
-- users/templates/photos. Version 0001 exists in migrations/postgres with the same meaning.

create table settings (
    key text primary key,
    value text not null,
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now'))
);

create table schools (
    id integer primary key autoincrement,
    name text not null,
    timezone text not null default 'UTC',
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now'))
);

create table areas (
    id integer primary key autoincrement,
    school_id integer not null references schools(id) on delete cascade,
    name text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    unique (school_id, name)
);

create table classes (
    id integer primary key autoincrement,
    school_id integer not null references schools(id) on delete cascade,
    name text not null,
    unique (school_id, name)
);

create table sections (
    id integer primary key autoincrement,
    school_id integer not null references schools(id) on delete cascade,
    class_id integer references classes(id) on delete cascade,
    name text not null
);

create table students (
    id integer primary key autoincrement,
    school_id integer not null references schools(id) on delete cascade,
    class_id integer references classes(id) on delete set null,
    section_id integer references sections(id) on delete set null,
    full_name text not null,
    rfid_card_id text,
    pin text not null,
    is_active integer not null default 1,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    updated_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    unique (school_id, pin)
);

create table devices (
    id integer primary key autoincrement,
    serial_number text not null unique,
    name text,
    school_id integer references schools(id) on delete set null,
    area_id integer references areas(id) on delete set null,
    mode text not null default 'push' check (mode in ('push', 'pull')),
    approval text not null default 'pending' check (approval in ('pending', 'approved', 'blocked')),
    dialect text not null default 'att' check (dialect in ('att', 'acc')),
    pushver text,
    push_version text,
    firmware text,
    platform text,
    device_type text,
    language text,
    timezone text,
    options text not null default '{}',
    poll_info text,
    attlog_stamp text,
    operlog_stamp text,
    attphoto_stamp text,
    biodata_stamp text,
    first_seen_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    last_seen_at text,
    last_ip text,
    approved_at text,
    host text,
    port integer,
    transport text,
    comm_key_enc blob
);

-- Every device upload, kept raw before anything else is derived from it.
create table device_messages (
    id integer primary key autoincrement,
    device_id integer references devices(id) on delete cascade,
    serial_number text not null,
    received_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    path text not null,
    query text not null,
    body blob not null,
    -- Bodies that carry biometrics (templates, photos) are stored encrypted, like the tables derived from them.
    body_sealed integer not null default 0,
    tbl text,
    status text not null,
    records integer not null default 0,
    rejected integer not null default 0,
    note text
);
-- Partial: only uploads that need an admin's attention (refused, unparsed, with rejected
-- lines) are looked up by device; the clean majority costs no index maintenance.
create index device_messages_attention on device_messages (device_id, id)
    where status <> 'processed' or rejected > 0;

-- Lines that could not be parsed: kept with the reason, never failing their batch.
create table rejected_lines (
    id integer primary key autoincrement,
    message_id integer not null references device_messages(id) on delete cascade,
    device_id integer references devices(id) on delete cascade,
    line_no integer not null,
    raw text not null,
    error text not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now'))
);

create table attendance_logs (
    id integer primary key autoincrement,
    device_id integer not null references devices(id) on delete cascade,
    pin text not null,
    student_id integer references students(id) on delete set null,
    local_time text not null,
    punched_at text,
    status integer,
    verify integer,
    workcode text,
    source text not null default 'attlog',
    clock_flag text,
    raw text not null,
    message_id integer,
    received_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    unique (device_id, pin, local_time)
);
create index attendance_logs_punched_at on attendance_logs (punched_at);
create index attendance_logs_student on attendance_logs (student_id, punched_at) where student_id is not null;

-- What each device said it holds (OPERLOG USER lines, read-backs).
create table device_users (
    device_id integer not null references devices(id) on delete cascade,
    pin text not null,
    name text,
    privilege integer,
    card text,
    group_id text,
    verify integer,
    attributes text not null default '{}',
    reported_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    primary key (device_id, pin)
);

-- Biometric templates reported by devices; the template is encrypted (ChaCha20-Poly1305).
create table biometric_templates (
    id integer primary key autoincrement,
    device_id integer not null references devices(id) on delete cascade,
    pin text not null,
    kind text not null,
    bio_type integer not null,
    finger_no integer not null,
    template_index integer not null,
    major_ver text,
    minor_ver text,
    format integer,
    valid integer,
    duress integer,
    template_enc blob not null,
    reported_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    unique (device_id, pin, kind, bio_type, finger_no, template_index)
);

-- User photos, comparison photos and attendance photos; the image is encrypted.
create table device_photos (
    id integer primary key autoincrement,
    device_id integer not null references devices(id) on delete cascade,
    pin text,
    kind text not null,
    file_name text not null,
    bio_type integer,
    image_enc blob not null,
    reported_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    unique (device_id, kind, file_name)
);

-- Operation log (OPLOG) and error log (ERRORLOG) lines.
create table device_events (
    id integer primary key autoincrement,
    device_id integer not null references devices(id) on delete cascade,
    kind text not null,
    code text not null,
    operator text,
    time_raw text,
    detail text not null default '{}',
    raw text not null,
    received_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now'))
);
create index device_events_device on device_events (device_id, received_at);
