//! `AuthKeys`: signing and checking admin access tokens (JWT, HS256) and the token lifetimes.
//!
//! The secret is `--jwt-secret` / `IRONCLOCK_JWT_SECRET` when set (at least 32 bytes outside
//! `--dev`), else derived from the data key (HKDF, [`DataCipher::derive_key`]): it never enters
//! the database, so a database dump cannot sign tokens, and every instance with the same data
//! key agrees. Older versions kept a generated secret in `settings.jwt_secret`; that row is
//! deleted on start (sessions and access tokens signed with it end: one new login; refresh
//! tokens are not JWTs and keep working). There is no built-in default secret. The secret is
//! never logged.
//!
//! The CSRF key of the dashboard's forms is derived from the same secret (another label).

use std::time::Duration;

use anyhow::bail;
use base64::Engine;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::ServeArgs;
use crate::crypto::DataCipher;
use crate::domain::SchoolId;
use crate::http::api::error::ApiError;
use crate::store::admin::AdminUser;
use crate::store::DynStore;

/// Shortest explicitly configured secret accepted outside `--dev` (HS256 wants ≥ 256 bits).
pub const MIN_SECRET_BYTES: usize = 32;
/// The settings key where older versions kept the generated secret (deleted on start).
const OLD_SECRET_SETTING: &str = "jwt_secret";
/// The HKDF label of the JWT secret derived from the data key.
const SECRET_LABEL: &str = "ironclock jwt secret";
const ISSUER: &str = "ironclock";
const AUDIENCE: &str = "ironclock-admin-api";
/// Dashboard sessions are signed for another audience: a session cookie is not an API token.
const SESSION_AUDIENCE: &str = "ironclock-dashboard";

/// What an access token says. The admin's current role and school are re-read from the
/// database on every request, so a demoted or disabled admin loses access at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The admin's id.
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub role: String,
    pub school_id: Option<SchoolId>,
    /// The admin's session version when issued: a token of an older version is refused.
    #[serde(default)]
    pub sv: i64,
    /// A dashboard session's id (the CSRF token is bound to it); absent in API tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl AccessClaims {
    /// The admin id, if `sub` is one.
    pub fn admin_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

pub struct AuthKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// HMAC key of the dashboard's CSRF tokens.
    csrf_key: [u8; 32],
    /// HMAC key of what the login throttle stores of an email or address ([`Self::login_key`]).
    login_key: [u8; 32],
    /// Access token lifetime.
    pub access_ttl: Duration,
    /// Refresh token lifetime.
    pub refresh_ttl: Duration,
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKeys").field("secret", &"<redacted>").field("access_ttl", &self.access_ttl).finish()
    }
}

impl AuthKeys {
    /// Keys from a secret and lifetimes.
    pub fn new(secret: &[u8], access_ttl: Duration, refresh_ttl: Duration) -> Self {
        let mut csrf = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        csrf.update(b"ironclock csrf key");
        let mut login = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
        login.update(b"ironclock login throttle key");
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            csrf_key: csrf.finalize().into_bytes().into(),
            login_key: login.finalize().into_bytes().into(),
            access_ttl,
            refresh_ttl,
        }
    }

    /// The configured secret (checked), or the one derived from the data key. Deletes the
    /// secret older versions kept in the database.
    pub async fn resolve(args: &ServeArgs, store: &DynStore, cipher: &DataCipher) -> anyhow::Result<Self> {
        if args.access_token_ttl == 0 || args.refresh_token_ttl == 0 {
            bail!("--access-token-ttl and --refresh-token-ttl must be at least 1 second");
        }
        let secret = match &args.jwt_secret {
            Some(secret) if secret.len() < MIN_SECRET_BYTES && !args.dev => bail!(
                "the JWT secret (--jwt-secret / IRONCLOCK_JWT_SECRET) is {} bytes; at least {MIN_SECRET_BYTES} are \
                 required (e.g. `openssl rand -base64 48`), or unset it to have one generated and kept in the database",
                secret.len()
            ),
            Some(secret) => {
                if secret.len() < MIN_SECRET_BYTES {
                    tracing::warn!("the JWT secret is shorter than {MIN_SECRET_BYTES} bytes: accepted in --dev only");
                }
                secret.as_bytes().to_vec()
            }
            None => cipher.derive_key(SECRET_LABEL).to_vec(),
        };
        if store.delete_setting(OLD_SECRET_SETTING).await? {
            tracing::warn!(
                "the JWT secret is no longer kept in the database: the stored one was deleted; dashboard sessions \
                 and access tokens signed with it have ended (log in again; API refresh tokens keep working)"
            );
        }
        Ok(Self::new(&secret, Duration::from_secs(args.access_token_ttl), Duration::from_secs(args.refresh_token_ttl)))
    }

    /// A signed access token for `user` and its lifetime in seconds.
    pub fn issue(&self, user: &AdminUser) -> Result<(String, u64), ApiError> {
        self.sign(user, self.access_ttl.as_secs(), AUDIENCE, None)
    }

    /// Checks signature, algorithm (HS256 only), issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<AccessClaims, ApiError> {
        self.check(token, AUDIENCE)
    }

    /// A dashboard session token (the cookie) with session id `sid`, valid for `ttl_secs`.
    pub fn issue_session(&self, user: &AdminUser, sid: &str, ttl_secs: u64) -> Result<(String, u64), ApiError> {
        self.sign(user, ttl_secs, SESSION_AUDIENCE, Some(sid))
    }

    /// The CSRF token of forms bound to `binding` (a session id, or a pre-login nonce):
    /// base64url of HMAC-SHA256 under the server's CSRF key.
    pub fn csrf_token(&self, binding: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf_key).expect("HMAC takes any key length");
        mac.update(binding.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// What the login throttle stores of an account (`kind` `account`, the trimmed lower-case
    /// email) or a client address (`address`): hex HMAC-SHA256 under a server key, so a database
    /// dump does not tell which emails or addresses tried to log in (a plain hash of an IPv4
    /// address is reversed by trying them all). Every instance derives the same key.
    pub fn login_key(&self, kind: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.login_key).expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(b":");
        let value = if kind == "account" { value.trim().to_lowercase() } else { value.to_string() };
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `submitted` is the CSRF token of `binding` (constant time).
    pub fn csrf_valid(&self, binding: &str, submitted: &str) -> bool {
        let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(submitted) else { return false };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.csrf_key).expect("HMAC takes any key length");
        mac.update(binding.as_bytes());
        mac.verify_slice(&tag).is_ok()
    }

    /// Checks a dashboard session token.
    pub fn verify_session(&self, token: &str) -> Result<AccessClaims, ApiError> {
        self.check(token, SESSION_AUDIENCE)
    }

    fn sign(&self, user: &AdminUser, ttl: u64, audience: &str, sid: Option<&str>) -> Result<(String, u64), ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user.id.to_string(),
            iss: ISSUER.into(),
            aud: audience.into(),
            iat: now,
            exp: now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)),
            role: user.role.as_str().into(),
            school_id: user.school_id,
            sv: user.session_version,
            sid: sid.map(str::to_string),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::Internal(format!("signing a token: {e}")))?;
        Ok((token, ttl))
    }

    fn check(&self, token: &str, audience: &str) -> Result<AccessClaims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        decode::<AccessClaims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| ApiError::Unauthorized("the access token is invalid or expired".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::admin::AdminRole;

    fn user() -> AdminUser {
        AdminUser {
            id: 7,
            email: "a@x.org".into(),
            role: AdminRole::SchoolAdmin,
            school_id: Some(SchoolId(3)),
            disabled: false,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            last_login_at: None,
            session_version: 0,
        }
    }

    #[test]
    fn a_csrf_token_fits_its_binding_and_key_only() {
        let keys = AuthKeys::new(&[1u8; 32], Duration::from_secs(60), Duration::from_secs(600));
        let token = keys.csrf_token("session-a");
        assert!(keys.csrf_valid("session-a", &token));
        assert!(!keys.csrf_valid("session-b", &token));
        assert!(!keys.csrf_valid("session-a", ""));
        assert!(!keys.csrf_valid("session-a", "not base64 !"));
        let other = AuthKeys::new(&[2u8; 32], Duration::from_secs(60), Duration::from_secs(600));
        assert!(!other.csrf_valid("session-a", &token));
    }

    #[test]
    fn a_token_verifies_with_its_secret_only() {
        let keys = AuthKeys::new(&[1u8; 32], Duration::from_secs(60), Duration::from_secs(600));
        let (token, ttl) = keys.issue(&user()).unwrap();
        assert_eq!(ttl, 60);
        let claims = keys.verify(&token).unwrap();
        assert_eq!((claims.admin_id(), claims.school_id), (Some(7), Some(SchoolId(3))));
        let other = AuthKeys::new(&[2u8; 32], Duration::from_secs(60), Duration::from_secs(600));
        assert!(other.verify(&token).is_err());
        assert!(keys.verify("not.a.jwt").is_err());
    }

    #[test]
    fn an_unsigned_or_expired_token_is_refused() {
        let keys = AuthKeys::new(&[1u8; 32], Duration::from_secs(60), Duration::from_secs(600));
        let (token, _) = keys.issue(&user()).unwrap();
        let mut parts: Vec<&str> = token.split('.').collect();
        let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        parts[0] = &none_header;
        parts[2] = "";
        assert!(keys.verify(&parts.join(".")).is_err(), "alg=none must not verify");

        let now = chrono::Utc::now().timestamp();
        let claims = AccessClaims {
            sub: "7".into(),
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now - 600,
            exp: now - 60,
            role: "school_admin".into(),
            school_id: Some(SchoolId(3)),
            sv: 0,
            sid: None,
        };
        let expired = encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&[1u8; 32])).unwrap();
        assert!(keys.verify(&expired).is_err());
    }

    #[test]
    fn login_keys_are_keyed_and_hide_the_email_and_ignore_its_case() {
        let keys = AuthKeys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(keys.login_key("account", " A@X.org "), keys.login_key("account", "a@x.org"));
        assert!(!keys.login_key("account", "a@x.org").contains("x.org"));
        assert_ne!(keys.login_key("account", "10.0.0.1"), keys.login_key("address", "10.0.0.1"));
        let plain: String = {
            use sha2::Digest;
            Sha256::digest(b"address:10.0.0.1").iter().map(|b| format!("{b:02x}")).collect()
        };
        assert_ne!(keys.login_key("address", "10.0.0.1"), plain, "keyed: not a plain hash anyone can recompute");
        let other =
            AuthKeys::new(b"another secret of thirty-two b..", Duration::from_secs(60), Duration::from_secs(60));
        assert_ne!(keys.login_key("address", "10.0.0.1"), other.login_key("address", "10.0.0.1"));
    }
}
