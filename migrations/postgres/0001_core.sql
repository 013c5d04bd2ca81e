-- Core tables: schools and their roster, devices, raw device messages, punches, device-reported
-- users/templates/photos. Version 0001 exists in migrations/sqlite with the same meaning.

create table settings (
    key text primary key,
    value text not null,
    updated_at timestamptz not null default now()
);

create table schools (
    id bigserial primary key,
    name text not null,
    timezone text not null default 'UTC',
    created_at timestamptz not null default now()
);

create table areas (
    id bigserial primary key,
    school_id bigint not null references schools(id) on delete cascade,
    name text not null,
    created_at timestamptz not null default now(),
    unique (school_id, name)
);

create table classes (
    id bigserial primary key,
    school_id bigint not null references schools(id) on delete cascade,
    name text not null,
    unique (school_id, name)
);

create table sections (
    id bigserial primary key,
    school_id bigint not null references schools(id) on delete cascade,
    class_id bigint references classes(id) on delete cascade,
    name text not null
);

create table students (
    id bigserial primary key,
    school_id bigint not null references schools(id) on delete cascade,
    class_id bigint references classes(id) on delete set null,
    section_id bigint references sections(id) on delete set null,
    full_name text not null,
    rfid_card_id text,
    pin text not null,
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (school_id, pin)
);

create table devices (
    id bigserial primary key,
    serial_number text not null unique,
    name text,
    school_id bigint references schools(id) on delete set null,
    area_id bigint references areas(id) on delete set null,
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
    options jsonb not null default '{}'::jsonb,
    poll_info jsonb,
    attlog_stamp text,
    operlog_stamp text,
    attphoto_stamp text,
    biodata_stamp text,
    first_seen_at timestamptz not null default now(),
    last_seen_at timestamptz,
    last_ip text,
    approved_at timestamptz,
    host text,
    port integer,
    transport text,
    comm_key_enc bytea
);

-- Every device upload, kept raw before anything else is derived from it.
create table device_messages (
    id bigserial primary key,
    device_id bigint references devices(id) on delete cascade,
    serial_number text not null,
    received_at timestamptz not null default now(),
    path text not null,
    query text not null,
    body bytea not null,
    -- Bodies that carry biometrics (templates, photos) are stored encrypted, like the tables derived from them.
    body_sealed boolean not null default false,
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
-- lz4 is several times cheaper in CPU than the default pglz for the raw bodies kept per upload.
alter table device_messages alter column body set compression lz4;

-- Lines that could not be parsed: kept with the reason, never failing their batch.
create table rejected_lines (
    id bigserial primary key,
    message_id bigint not null references device_messages(id) on delete cascade,
    device_id bigint references devices(id) on delete cascade,
    line_no integer not null,
    raw text not null,
    error text not null,
    created_at timestamptz not null default now()
);

create table attendance_logs (
    id bigserial primary key,
    device_id bigint not null references devices(id) on delete cascade,
    pin text not null,
    student_id bigint references students(id) on delete set null,
    local_time text not null,
    punched_at timestamptz,
    status integer,
    verify integer,
    workcode text,
    source text not null default 'attlog',
    clock_flag text,
    raw text not null,
    message_id bigint,
    received_at timestamptz not null default now(),
    unique (device_id, pin, local_time)
);
-- BRIN, not btree: punches arrive in roughly time order, so a block-range index answers date
-- range queries while costing almost nothing per insert (the hot path of every upload).
create index attendance_logs_punched_at on attendance_logs using brin (punched_at);
-- Partial: punches whose PIN matches no student cost no maintenance here.
create index attendance_logs_student on attendance_logs (student_id, punched_at) where student_id is not null;

-- What each device said it holds (OPERLOG USER lines, read-backs).
create table device_users (
    device_id bigint not null references devices(id) on delete cascade,
    pin text not null,
    name text,
    privilege integer,
    card text,
    group_id text,
    verify integer,
    attributes jsonb not null default '{}'::jsonb,
    reported_at timestamptz not null default now(),
    primary key (device_id, pin)
);

-- Biometric templates reported by devices; the template is encrypted (ChaCha20-Poly1305).
create table biometric_templates (
    id bigserial primary key,
    device_id bigint not null references devices(id) on delete cascade,
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
    template_enc bytea not null,
    reported_at timestamptz not null default now(),
    unique (device_id, pin, kind, bio_type, finger_no, template_index)
);

-- User photos, comparison photos and attendance photos; the image is encrypted.
create table device_photos (
    id bigserial primary key,
    device_id bigint not null references devices(id) on delete cascade,
    pin text,
    kind text not null,
    file_name text not null,
    bio_type integer,
    image_enc bytea not null,
    reported_at timestamptz not null default now(),
    unique (device_id, kind, file_name)
);

-- Operation log (OPLOG) and error log (ERRORLOG) lines.
create table device_events (
    id bigserial primary key,
    device_id bigint not null references devices(id) on delete cascade,
    kind text not null,
    code text not null,
    operator text,
    time_raw text,
    detail jsonb not null default '{}'::jsonb,
    raw text not null,
    received_at timestamptz not null default now()
);
create index device_events_device on device_events (device_id, received_at);
