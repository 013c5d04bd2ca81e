//! Photo download tokens: a push device fetches a photo a command names by URL
//! (`Url=iclock/doc/biophoto/<token>/<pin>.jpg`). The token is 128 random bits (32 hex digits);
//! only its SHA-256 is stored, with the device it was issued for and an expiry.

use chrono::{DateTime, Utc};

use super::biometric::sha256_hex;
use super::DeviceId;

/// How long a download URL stays valid (a command may wait in the queue through quiet hours).
pub const MEDIA_TOKEN_TTL_HOURS: i64 = 48;

/// A token to issue: the plain token goes into the URL, the hash into the store.
#[derive(Debug, Clone)]
pub struct NewMediaToken {
    pub token: String,
    pub token_hash: String,
    pub device: DeviceId,
    /// `biophoto` or `userpic`.
    pub kind: &'static str,
    pub pin: String,
    /// The JPEG sealed with the data cipher.
    pub image_enc: Vec<u8>,
    pub expires_at: DateTime<Utc>,
}

impl NewMediaToken {
    /// A fresh random token for `device`'s download of `pin`'s photo, valid from `now`.
    pub fn issue(device: DeviceId, kind: &'static str, pin: &str, image_enc: Vec<u8>, now: DateTime<Utc>) -> Self {
        let token: String = rand::random::<[u8; 16]>().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            token_hash: token_hash(&token),
            token,
            device,
            kind,
            pin: pin.to_string(),
            image_enc,
            expires_at: now + chrono::Duration::hours(MEDIA_TOKEN_TTL_HOURS),
        }
    }

    /// The URL the command carries (relative to the server's `/`; devices resolve it there).
    pub fn url(&self) -> String {
        format!("iclock/doc/{}/{}/{}.jpg", self.kind, self.token, self.pin)
    }
}

/// The stored form of a token (SHA-256, lower-case hex).
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// A token as stored: whose photo, for which device.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MediaToken {
    pub device_id: i64,
    pub kind: String,
    pub pin: String,
    pub image_enc: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_128_random_bits_and_only_their_hash_is_kept() {
        let now = Utc::now();
        let a = NewMediaToken::issue(DeviceId(1), "biophoto", "7", vec![], now);
        let b = NewMediaToken::issue(DeviceId(1), "biophoto", "7", vec![], now);
        assert_eq!(a.token.len(), 32);
        assert_ne!(a.token, b.token);
        assert_eq!(a.token_hash, token_hash(&a.token));
        assert!(!a.token_hash.contains(&a.token));
        assert_eq!(a.url(), format!("iclock/doc/biophoto/{}/7.jpg", a.token));
    }
}
