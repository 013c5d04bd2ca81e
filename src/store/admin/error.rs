//! `AdminError`: the outcomes of an admin store operation that are not success, so the API
//! can answer 404, 409 or 422 instead of a generic storage failure.

use crate::domain::RowError;
use crate::store::StoreError;

/// Why an admin store operation did not happen. Nothing was written in every case.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The row does not exist or is outside the caller's scope (the two are indistinguishable).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The write would break a uniqueness rule (duplicate name, card, email, PIN).
    #[error("{field}: {message}")]
    Conflict { field: &'static str, message: String },
    /// A value refers to something that is not valid here (a class of another school, …).
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// Row-level problems of a bulk import.
    #[error("{} rows have errors", .0.len())]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AdminError {
    fn from(e: sqlx::Error) -> Self {
        AdminError::Store(StoreError::Database(e))
    }
}

/// Result of an admin store operation.
pub type AdminResult<T> = Result<T, AdminError>;

/// Maps a unique-constraint violation to a `Conflict` on `field`; other errors pass through.
pub(crate) fn conflict_on_unique(e: StoreError, field: &'static str, message: impl FnOnce() -> String) -> AdminError {
    match &e {
        StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            AdminError::Conflict { field, message: message() }
        }
        _ => AdminError::from(e),
    }
}

/// A stored enum value this build does not know (a corrupt or newer row).
#[derive(Debug, thiserror::Error)]
#[error("unknown stored value {0:?}")]
pub struct UnknownValue(pub String);
