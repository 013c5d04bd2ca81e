-- A per-admin session version: every dashboard session and access token carries the version it
-- was issued under; logout, a password or role change and disabling bump it, ending them all.
alter table admin_users add column session_version integer not null default 0;
