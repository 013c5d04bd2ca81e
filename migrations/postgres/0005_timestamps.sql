-- SQLite-only: version 0005 rewrites SQLite's text timestamps into one fixed-width form.
-- PostgreSQL stores timestamptz, which has one representation already; nothing to do.
select 1;
