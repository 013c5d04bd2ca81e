//! The simulator's sockets: one TCP listener and one UDP socket on the same port, a task per
//! TCP connection, one task for every UDP peer, and the traffic counters they keep.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio_util::sync::CancellationToken;

use crate::pull::wire::command::DATA;
use crate::pull::wire::envelope::{split_frame, Split, DEFAULT_MAX_PACKET};
use crate::pull::wire::Packet;

use super::device::{Device, Outcome};
use super::reply::Transport;

/// How often connections look for queued events.
const EVENT_TICK: Duration = Duration::from_millis(50);
/// UDP sessions without traffic for this long are dropped (TCP ones end with the connection).
const UDP_IDLE: Duration = Duration::from_secs(60);

/// Traffic counters (both transports).
#[derive(Debug, Default)]
pub struct SimStats {
    /// Bytes received, TCP envelopes included.
    pub bytes_in: AtomicU64,
    /// Bytes sent, TCP envelopes included.
    pub bytes_out: AtomicU64,
    /// Packets received.
    pub packets_in: AtomicU64,
    /// Packets sent.
    pub packets_out: AtomicU64,
    /// Payload bytes carried in CMD_DATA frames sent (table and blob contents).
    pub data_payload_out: AtomicU64,
}

/// A snapshot of [`SimStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// CMD_DATA payload bytes sent.
    pub data_payload_out: u64,
}

pub(super) fn lock(device: &Mutex<Device>) -> MutexGuard<'_, Device> {
    // a panic in another connection task must not take the device down with it
    device.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A TCP socket (bound, not yet listening) and a UDP socket on the same port.
pub(super) async fn bind_pair(listen: SocketAddr) -> io::Result<(TcpSocket, UdpSocket)> {
    let tcp_socket = || -> io::Result<TcpSocket> {
        let s = if listen.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        s.set_reuseaddr(true)?;
        Ok(s)
    };
    if listen.port() != 0 {
        let tcp = tcp_socket()?;
        tcp.bind(listen)?;
        return Ok((tcp, UdpSocket::bind(listen).await?));
    }
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no port free for both TCP and UDP");
    for _ in 0..32 {
        let tcp = tcp_socket()?;
        tcp.bind(listen)?;
        let mut both = listen;
        both.set_port(tcp.local_addr()?.port());
        match UdpSocket::bind(both).await {
            Ok(udp) => return Ok((tcp, udp)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn count_out(stats: &SimStats, packets: &[Packet], framed: usize) {
    stats.bytes_out.fetch_add(framed as u64, Ordering::Relaxed);
    stats.packets_out.fetch_add(packets.len() as u64, Ordering::Relaxed);
    let payload: usize = packets.iter().filter(|p| p.command == DATA).map(|p| p.data.len()).sum();
    stats.data_payload_out.fetch_add(payload as u64, Ordering::Relaxed);
}

pub(super) async fn accept_loop(
    tcp: TcpListener,
    device: Arc<Mutex<Device>>,
    stats: Arc<SimStats>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = tcp.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_tcp(stream, Arc::clone(&device), Arc::clone(&stats), cancel.clone()));
                }
                Err(e) => tracing::warn!(error = %e, "simulator: accept failed"),
            },
        }
    }
}

async fn serve_tcp(stream: TcpStream, device: Arc<Mutex<Device>>, stats: Arc<SimStats>, cancel: CancellationToken) {
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut session: Option<u16> = None;
    let mut tick = tokio::time::interval(EVENT_TICK);
    'conn: loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            read = rd.read_buf(&mut buf) => {
                let n = match read { Ok(0) | Err(_) => break, Ok(n) => n };
                stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                loop {
                    let (range, consumed) = match split_frame(&buf, DEFAULT_MAX_PACKET) {
                        Ok(Split::Complete { packet, consumed }) => (packet, consumed),
                        Ok(Split::Partial { .. }) => break,
                        Err(_) => break 'conn, // not this protocol: hang up
                    };
                    let packet = Packet::decode(&buf[range]);
                    buf.drain(..consumed);
                    stats.packets_in.fetch_add(1, Ordering::Relaxed);
                    // a bad checksum is dropped without a reply, as the firmware does
                    let Ok(packet) = packet else { continue };
                    let (outcome, slow) = {
                        let mut d = lock(&device);
                        (d.handle(session, Transport::Tcp, &packet), d.config.faults.slow_reply)
                    };
                    let Outcome { replies, session: next, close } = outcome;
                    session = next;
                    if !slow.is_zero() {
                        tokio::time::sleep(slow).await;
                    }
                    let mut out = Vec::new();
                    for p in &replies {
                        p.encode_tcp_into(&mut out);
                    }
                    count_out(&stats, &replies, out.len());
                    if wr.write_all(&out).await.is_err() || close {
                        break 'conn;
                    }
                }
            }
            _ = tick.tick() => {
                let Some(sid) = session else { continue };
                let event = lock(&device).next_event(sid, Instant::now());
                if let Some(p) = event {
                    let out = p.encode_tcp();
                    count_out(&stats, std::slice::from_ref(&p), out.len());
                    if wr.write_all(&out).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
    if let Some(sid) = session {
        let mut d = lock(&device);
        d.sessions.remove(&sid);
        if d.sessions.is_empty() {
            d.enabled = true;
        }
    }
}

pub(super) async fn udp_loop(
    udp: UdpSocket,
    device: Arc<Mutex<Device>>,
    stats: Arc<SimStats>,
    cancel: CancellationToken,
) {
    let mut buf = vec![0u8; 65_536];
    let mut peers: HashMap<SocketAddr, u16> = HashMap::new();
    let mut tick = tokio::time::interval(EVENT_TICK);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            received = udp.recv_from(&mut buf) => {
                let Ok((n, peer)) = received else { continue };
                stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                stats.packets_in.fetch_add(1, Ordering::Relaxed);
                let Ok(packet) = Packet::decode(&buf[..n]) else { continue };
                let (outcome, slow, pacing) = {
                    let mut d = lock(&device);
                    let o = d.handle(peers.get(&peer).copied(), Transport::Udp, &packet);
                    (o, d.config.faults.slow_reply, d.config.udp_frame_pacing)
                };
                match outcome.session {
                    Some(sid) => peers.insert(peer, sid),
                    None => peers.remove(&peer),
                };
                if !slow.is_zero() {
                    tokio::time::sleep(slow).await;
                }
                for p in &outcome.replies {
                    let bytes = p.encode();
                    count_out(&stats, std::slice::from_ref(p), bytes.len());
                    let _ = udp.send_to(&bytes, peer).await;
                    if p.command == DATA && !pacing.is_zero() {
                        tokio::time::sleep(pacing).await;
                    }
                }
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let mut events = Vec::new();
                {
                    let mut d = lock(&device);
                    let sids: Vec<u16> = peers.values().copied().collect();
                    d.tick(now, UDP_IDLE, &sids);
                    peers.retain(|_, sid| d.sessions.contains_key(sid));
                    for (peer, sid) in &peers {
                        if let Some(p) = d.next_event(*sid, now) {
                            events.push((*peer, p));
                        }
                    }
                }
                for (peer, p) in events {
                    let bytes = p.encode();
                    count_out(&stats, std::slice::from_ref(&p), bytes.len());
                    let _ = udp.send_to(&bytes, peer).await;
                }
            }
        }
    }
}
