-- Photos a push device downloads by URL (BIOPHOTO `Url=iclock/doc/biophoto/<token>/<pin>.jpg`):
-- the token is 128 random bits, kept only as its SHA-256 (hex); it serves one device's photo
-- until it expires. Rows stay after expiry (never served then) as the record of what was sent:
-- area sync does not queue a photo again while its command is queued, sent or acknowledged. The JPEG is sealed with the server's data cipher. Version 0013 exists in
-- migrations/postgres with the same meaning.
create table media_tokens (
    token_hash text primary key,
    device_id integer not null references devices(id) on delete cascade,
    kind text not null check (kind in ('biophoto', 'userpic')),
    pin text not null,
    -- the command that carries the URL (set once it is queued)
    command_id integer references device_commands(id) on delete set null,
    image_enc blob not null,
    created_at text not null default (strftime('%Y-%m-%dT%H:%M:%f+00:00','now')),
    expires_at text not null
);
create index media_tokens_expiry on media_tokens (expires_at);
