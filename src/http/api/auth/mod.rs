//! Authentication for the admin API: argon2id passwords, HS256 access tokens, revocable
//! refresh tokens, and the `Caller` extractor that applies tenancy.

pub mod caller;
pub mod keys;
pub mod password;
pub mod tokens;

pub use caller::{Caller, SuperAdmin};
pub use keys::AuthKeys;
