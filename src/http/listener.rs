//! The server's listening socket, with an accept queue sized for devices.
//!
//! Firmware opens a new TCP connection for most requests (`Connection: close`), so 20,000
//! devices polling every 5 s make about 4,000 connections a second. Rust's
//! `TcpListener::bind` asks the kernel for a backlog of 128: a pause of a few tens of
//! milliseconds overflows it, the kernel drops the SYNs, and each device waits out TCP's
//! retransmission backoff (1 s, then 3 s, then 7 s) before its request even reaches the server.
//! The backlog asked for here is capped by the kernel at `net.core.somaxconn` (4,096 on
//! current Linux).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use anyhow::Context;
use socket2::{Domain, Socket, Type};

/// Binds `addr` (`host:port`, the first address it resolves to that binds) with `SO_REUSEADDR`
/// (as `TcpListener::bind` does on Unix) and an accept queue of `backlog` connections.
pub fn bind(addr: &str, backlog: u32) -> anyhow::Result<TcpListener> {
    let mut last = None;
    for candidate in addr.to_socket_addrs().with_context(|| format!("resolving {addr}"))? {
        match bind_one(candidate, backlog) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => anyhow::Error::new(e).context(format!("binding {addr}")),
        None => anyhow::anyhow!("binding {addr}: it resolves to no address"),
    })
}

fn bind_one(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_a_free_port_and_accepts() {
        let listener = bind("127.0.0.1:0", 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let _client = std::net::TcpStream::connect(addr).unwrap();
        listener.accept().unwrap();
    }

    /// The kernel completes handshakes up to the backlog without the server accepting: with
    /// std's 128, connection 130 would wait for a SYN retransmission and time out here.
    #[test]
    fn the_accept_queue_holds_more_than_stds_128() {
        let listener = bind("127.0.0.1:0", 1024).unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting: Vec<_> = (0..300)
            .map(|i| {
                std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(500))
                    .unwrap_or_else(|e| panic!("connection {i} not queued: {e}"))
            })
            .collect();
        assert_eq!(waiting.len(), 300);
    }

    #[test]
    fn a_taken_port_is_a_clear_error() {
        let first = bind("127.0.0.1:0", 16).unwrap();
        let addr = first.local_addr().unwrap().to_string();
        let err = bind(&addr, 16).unwrap_err();
        assert!(format!("{err:#}").contains(&format!("binding {addr}")), "{err:#}");
    }

    #[test]
    fn an_unresolvable_host_is_a_clear_error() {
        let err = bind("no-such-host.invalid:80", 16).unwrap_err();
        assert!(format!("{err:#}").contains("no-such-host.invalid"), "{err:#}");
    }
}
