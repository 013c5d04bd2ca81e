//! Storage: one `Store` trait, SQLite and PostgreSQL backends. All SQL lives here.
