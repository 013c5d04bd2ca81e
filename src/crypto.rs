//! `DataCipher`: encryption at rest for biometric templates and photos (ChaCha20-Poly1305).
//!
//! The key never lives in the database, so a stolen database dump does not reveal templates.
//! It comes from `IRONCLOCK_DATA_KEY` (base64 of 32 bytes) or a key file (default
//! `ironclock-data.key` beside the working directory, created with mode 0600 on first start).
//! Sealed format: `v1` tag byte (0x01) || 12-byte random nonce || ciphertext+tag.
//!
//! Other server keys that must stay out of the database (the generated JWT secret, the CSRF
//! key) are derived from the data key with HKDF-SHA256, one label per use ([`DataCipher::derive_key`]).

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const VERSION: u8 = 1;

#[derive(Clone)]
pub struct DataCipher {
    cipher: ChaCha20Poly1305,
    /// HKDF over the data key, for the keys derived from it.
    derive: Hkdf<Sha256>,
}

impl std::fmt::Debug for DataCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataCipher(<key redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("data key must be base64 of exactly 32 bytes")]
    BadKey,
    #[error("cannot read or create the data key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("sealed data is corrupt or was sealed with another key")]
    Open,
}

impl DataCipher {
    /// A cipher from a base64 key.
    pub fn from_base64(key: &str) -> Result<Self, CipherError> {
        let bytes = B64.decode(key.trim()).map_err(|_| CipherError::BadKey)?;
        if bytes.len() != 32 {
            return Err(CipherError::BadKey);
        }
        Ok(Self::from_bytes(&bytes))
    }

    fn from_bytes(key: &[u8]) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(Key::from_slice(key)),
            derive: Hkdf::<Sha256>::new(Some(b"ironclock derived keys v1"), key),
        }
    }

    /// A 32-byte key derived from the data key for one use, named by `label` (HKDF-SHA256).
    /// The same data key and label always give the same key; nothing else does.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit (255 × 32): expanding cannot fail.
        let _ = self.derive.expand(label.as_bytes(), &mut out);
        out
    }

    /// Loads the key file, creating it with a fresh random key (mode 0600) when absent.
    pub fn from_key_file(path: &Path) -> Result<Self, CipherError> {
        let io = |source| CipherError::KeyFile { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                let encoded = B64.encode(key);
                write_private(path, &encoded).map_err(io)?;
                Self::from_base64(&encoded)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// A throwaway random key (tests).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        Self::from_bytes(&key)
    }

    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption with a 12-byte nonce and an in-memory buffer cannot fail.
        let ciphertext = self.cipher.encrypt(Nonce::from_slice(&nonce), plaintext).unwrap_or_default();
        let mut out = Vec::with_capacity(1 + 12 + ciphertext.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        out
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
        if sealed.len() < 13 || sealed[0] != VERSION {
            return Err(CipherError::Open);
        }
        self.cipher.decrypt(Nonce::from_slice(&sealed[1..13]), &sealed[13..]).map_err(|_| CipherError::Open)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_with_the_same_key_only() {
        let a = DataCipher::random();
        let b = DataCipher::random();
        let sealed = a.seal(b"SS21 template bytes");
        assert!(!sealed.windows(4).any(|w| w == b"SS21"), "plaintext must not appear in the sealed bytes");
        assert_eq!(a.open(&sealed).unwrap(), b"SS21 template bytes");
        assert!(b.open(&sealed).is_err());
    }

    #[test]
    fn derived_keys_depend_on_the_data_key_and_the_label() {
        let key = B64.encode([9u8; 32]);
        let (a, b) = (DataCipher::from_base64(&key).unwrap(), DataCipher::from_base64(&key).unwrap());
        assert_eq!(a.derive_key("jwt"), b.derive_key("jwt"), "stable across restarts and instances");
        assert_ne!(a.derive_key("jwt"), a.derive_key("csrf"));
        assert_ne!(a.derive_key("jwt"), DataCipher::random().derive_key("jwt"));
        assert_ne!(a.derive_key("jwt"), [9u8; 32], "not the data key itself");
    }

    #[test]
    fn a_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let first = DataCipher::from_key_file(&path).unwrap();
        let second = DataCipher::from_key_file(&path).unwrap();
        assert_eq!(second.open(&first.seal(b"x")).unwrap(), b"x");
        assert!(DataCipher::from_base64("c2hvcnQ=").is_err());
    }
}
