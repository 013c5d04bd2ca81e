//! Reaching a pull device: its address resolved, its comm key unsealed, and the client's
//! errors turned into messages an admin can act on (a refused connection, a timeout and a wrong
//! comm key each say what to check).

use std::net::SocketAddr;
use std::time::Duration;

use crate::crypto::DataCipher;
use crate::domain::PullTransport;
use crate::pull::client::{ConnectOptions, TransportMode};
use crate::pull::Error;
use crate::store::pull::PullDevice;

/// Why a device could not be reached, in words for the admin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// Resolves `host:port` (an IP address or a name) to one socket address.
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, Unreachable> {
    let mut addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| {
        Unreachable(format!("the address {host:?} does not resolve ({e}): use the device's IP address"))
    })?;
    addrs.next().ok_or_else(|| Unreachable(format!("the address {host:?} resolves to nothing")))
}

/// The comm key sealed for the device (0 when none).
pub fn comm_key(cipher: &DataCipher, sealed: Option<&[u8]>) -> Result<u32, Unreachable> {
    let Some(sealed) = sealed else { return Ok(0) };
    let plain = cipher
        .open(sealed)
        .map_err(|_| Unreachable("the stored comm key cannot be decrypted with this server's data key".into()))?;
    std::str::from_utf8(&plain)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Unreachable("the stored comm key is not a number".into()))
}

/// Connection options for the device, each reply waited for at most `timeout`.
pub async fn options(
    device: &PullDevice,
    cipher: &DataCipher,
    timeout: Duration,
    retries: u32,
) -> Result<ConnectOptions, Unreachable> {
    let mut opts = ConnectOptions::new(resolve(&device.host, device.port).await?);
    opts.comm_key = comm_key(cipher, device.comm_key_enc.as_deref())?;
    opts.transport = match device.transport {
        PullTransport::Auto => TransportMode::Auto,
        PullTransport::Tcp => TransportMode::Tcp,
        PullTransport::Udp => TransportMode::Udp,
    };
    opts.timeout = timeout;
    opts.retries = retries;
    Ok(opts)
}

/// The client's error as an admin reads it.
pub fn explain(error: &Error, addr: &str) -> String {
    match error {
        Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "connection refused by {addr}: nothing listens there (check the IP address and port, usually 4370, and \
             that the device's TCP/IP communication is on)"
        ),
        Error::Io(e) => format!("could not reach {addr}: {e}"),
        Error::Timeout { waited, .. } => format!(
            "no answer from {addr} within {} s: check that the device is on, the address is right and no firewall \
             blocks port 4370 (TCP and UDP)",
            waited.as_secs().max(1)
        ),
        Error::AuthFailed(_) => format!(
            "{addr} refused the comm key: set the same Comm Key here as on the device (Menu → Comm. → Comm Key)"
        ),
        Error::Busy(_) => format!("{addr} is busy with another program (only one may be connected at a time)"),
        other => format!("{addr}: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_gets_its_own_message() {
        let refused = Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(explain(&refused, "10.0.0.5:4370").contains("connection refused"));
        let timeout = Error::Timeout { command: 1000, waited: Duration::from_secs(3) };
        assert!(explain(&timeout, "10.0.0.5:4370").contains("no answer"));
        assert!(explain(&Error::AuthFailed("x"), "10.0.0.5:4370").contains("comm key"));
    }

    #[test]
    fn a_sealed_comm_key_opens_to_its_number() {
        let cipher = DataCipher::random();
        assert_eq!(comm_key(&cipher, Some(&cipher.seal(b"123456"))), Ok(123_456));
        assert_eq!(comm_key(&cipher, None), Ok(0));
        assert!(comm_key(&DataCipher::random(), Some(&cipher.seal(b"1"))).is_err(), "another server's key");
    }

    #[tokio::test]
    async fn a_host_that_does_not_resolve_is_named() {
        let err = resolve("no-such-host.invalid", 4370).await.unwrap_err();
        assert!(err.0.contains("no-such-host.invalid"));
    }
}
