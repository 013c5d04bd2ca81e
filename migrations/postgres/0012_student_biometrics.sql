-- The biometric store per student: the master copies area sync writes to devices. One row per
-- (student, kind, slot, version): a fingerprint per finger and ZKFinger version, a face set per
-- ZKFace version (all its records), a photo. Bytes are sealed with the server's data cipher;
-- `hash` is the SHA-256 of the plain bytes (faces with the device-local uid zeroed), so copies
-- are compared without opening them. Version 0012 exists in migrations/sqlite with the same
-- meaning.
create table student_biometrics (
    id bigserial primary key,
    student_id bigint not null references students(id) on delete cascade,
    school_id bigint not null references schools(id) on delete cascade,
    kind text not null check (kind in ('finger', 'face', 'photo')),
    -- finger 0-9; 0 for faces and photos
    slot integer not null default 0,
    -- ZKFinger algorithm version, ZKFace version, '' for photos; 'unknown' when the source did not say
    version text not null default '',
    -- fingerprint flag (1 valid, 3 duress); face records in the set; 1 for photos
    flag integer not null default 1,
    records integer not null default 1,
    size integer not null,
    hash text not null,
    data_enc bytea not null,
    source_device_id bigint references devices(id) on delete set null,
    source text not null,
    updated_at timestamptz not null default now(),
    unique (student_id, kind, slot, version)
);
create index student_biometrics_school on student_biometrics (school_id, kind);
