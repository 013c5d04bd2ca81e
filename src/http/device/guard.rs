//! What a device's serial alone cannot prove (issue 15, finding 2): where the request comes
//! from and whether it carries the device's secret path. ADMS has no authentication of its own,
//! so an admin can pin a device to the address it was approved from (per-school policy `off`,
//! `alert` or `refuse`) and give it a secret path prefix (`/<token>/iclock/…`, stored hashed).

use std::net::IpAddr;

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{DeviceError, KnownDevice};

/// A school's answer to an approved device calling from outside its pinned address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pinning {
    #[default]
    Off,
    /// Serve the request, record a device event the admin sees, deliver no commands.
    Alert,
    /// 403 with the reason, nothing stored (a device event is recorded).
    Refuse,
}

impl Pinning {
    /// The school's `device_pinning` value (anything unknown is `off`).
    pub fn parse(raw: &str) -> Pinning {
        match raw {
            "alert" => Pinning::Alert,
            "refuse" => Pinning::Refuse,
            _ => Pinning::Off,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Pinning::Off => "off",
            Pinning::Alert => "alert",
            Pinning::Refuse => "refuse",
        }
    }
}

/// A request from outside the device's pinned address or subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffPin {
    pub ip: String,
    pub pinned: String,
}

/// `Some` when pinning applies to the device (its school's policy is on, it is approved and
/// pinned) and `ip` is outside its pinned address or subnet. An unknown address is outside.
pub fn off_pin(known: &KnownDevice, ip: Option<&str>) -> Option<OffPin> {
    let device = &known.device;
    if known.pinning == Pinning::Off || device.approval != crate::domain::Approval::Approved {
        return None;
    }
    let pinned = device.pinned_ip.as_deref()?;
    let shown = match device.pin_prefix {
        Some(prefix) => format!("{pinned}/{prefix}"),
        None => pinned.to_string(),
    };
    let inside = match (ip.and_then(|ip| ip.parse::<IpAddr>().ok()), pinned.parse::<IpAddr>().ok()) {
        (Some(ip), Some(base)) => in_subnet(ip, base, device.pin_prefix),
        _ => false,
    };
    (!inside).then(|| OffPin { ip: ip.unwrap_or("unknown").to_string(), pinned: shown })
}

/// Whether `ip` is in the subnet of `base` with `prefix` bits (`None`: the address itself).
pub fn in_subnet(ip: IpAddr, base: IpAddr, prefix: Option<i32>) -> bool {
    match (ip.to_canonical(), base.to_canonical()) {
        (IpAddr::V4(ip), IpAddr::V4(base)) => {
            let bits = prefix.unwrap_or(32).clamp(0, 32) as u32;
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(ip) & mask == u32::from(base) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(base)) => {
            let bits = prefix.unwrap_or(128).clamp(0, 128) as u32;
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(ip) & mask == u128::from(base) & mask
        }
        _ => false,
    }
}

/// The request path from `/iclock/` on: any prefix (a proxy's, or a device's secret token) is
/// never stored or logged.
pub fn device_path(path: &str) -> &str {
    match path.to_ascii_lowercase().rfind("/iclock/") {
        Some(at) => &path[at..],
        None => path,
    }
}

/// The last path segment before `/iclock/` (the secret token when the device has one).
fn prefix_segment(path: &str) -> &str {
    match path.to_ascii_lowercase().rfind("/iclock/") {
        Some(at) => path[..at].rsplit('/').next().unwrap_or(""),
        None => "",
    }
}

/// Refuses a request of a device that has a secret path token unless the path carries it.
pub fn check_path_token(known: &KnownDevice, path: &str) -> Result<(), DeviceError> {
    let Some(expected) = known.device.path_token_hash.as_deref() else {
        return Ok(());
    };
    let segment = prefix_segment(path);
    if !segment.is_empty() && constant_time_eq(hash_token(segment).as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(DeviceError::SecretPathRequired(known.device.serial_number.clone()))
    }
}

/// A new secret path token: 128 random bits, hex (fits any firmware's server path field).
pub fn new_path_token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What is stored of a token: SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal without an early exit (the time taken does not tell how much of a secret matched).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_match_by_prefix_and_family() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_subnet(ip("10.0.5.7"), ip("10.0.5.7"), None));
        assert!(!in_subnet(ip("10.0.5.8"), ip("10.0.5.7"), None));
        assert!(in_subnet(ip("10.0.5.200"), ip("10.0.5.7"), Some(24)));
        assert!(!in_subnet(ip("10.0.6.1"), ip("10.0.5.7"), Some(24)));
        assert!(in_subnet(ip("::ffff:10.0.5.7"), ip("10.0.5.7"), None));
        assert!(!in_subnet(ip("fe80::1"), ip("10.0.5.7"), Some(0)));
        assert!(in_subnet(ip("fe80::1:2"), ip("fe80::1"), Some(64)));
    }

    #[test]
    fn the_prefix_is_cut_from_stored_paths_and_read_as_the_token() {
        assert_eq!(device_path("/abc123/iclock/cdata"), "/iclock/cdata");
        assert_eq!(device_path("/iclock/getrequest"), "/iclock/getrequest");
        assert_eq!(prefix_segment("/school/abc123/ICLOCK/cdata"), "abc123");
        assert_eq!(prefix_segment("/iclock/cdata"), "");
        let token = new_path_token();
        assert_eq!(token.len(), 32);
        assert_eq!(hash_token(&token).len(), 64);
        assert_ne!(hash_token(&token), token);
    }
}
