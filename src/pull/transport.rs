//! The two transports: TCP (a byte stream cut into enveloped frames, which may coalesce or
//! split anywhere) and UDP (one connected socket, one bare packet per datagram, spec §1.1).
//! Both count the bytes they move so callers can report wire overhead.

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::wire::envelope::{split_frame, Split, DEFAULT_MAX_PACKET};
use super::wire::{Packet, WireError};

/// Which transport a session uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// TCP with the `50 50 82 7D` envelope.
    Tcp,
    /// Bare UDP datagrams.
    Udp,
}

/// Bytes and packets moved by one session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WireStats {
    /// Bytes written (envelopes and headers included).
    pub bytes_sent: u64,
    /// Bytes read (envelopes and headers included).
    pub bytes_received: u64,
    /// Packets written.
    pub packets_sent: u64,
    /// Packets read.
    pub packets_received: u64,
}

/// A connected transport.
#[derive(Debug)]
pub enum Transport {
    /// TCP stream and its receive buffer.
    Tcp {
        /// The socket.
        stream: TcpStream,
        /// Received bytes not yet cut into frames.
        buf: Vec<u8>,
        /// Start of unconsumed bytes in `buf`.
        start: usize,
        /// Counters.
        stats: WireStats,
    },
    /// UDP socket connected to the device.
    Udp {
        /// The socket (one local port for the whole session: the device keys sessions by it).
        socket: UdpSocket,
        /// Receive buffer.
        buf: Vec<u8>,
        /// Counters.
        stats: WireStats,
    },
}

/// The UDP receive buffer asked for: room for the largest streamed reply (a 1 MB photo or
/// template table in about 1,000 datagrams of ≤ 1,032 bytes plus their overhead).
pub const UDP_RECEIVE_BUFFER: usize = 4 * 1024 * 1024;

/// Result of one receive.
pub enum Received {
    /// A packet with a correct checksum.
    Packet(Packet),
    /// Something that is not a valid packet (dropped, as the firmware drops bad checksums).
    Garbage(WireError),
}

impl Transport {
    /// Opens a TCP connection.
    pub async fn tcp(addr: SocketAddr) -> io::Result<Transport> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Transport::Tcp { stream, buf: Vec::with_capacity(128 * 1024), start: 0, stats: WireStats::default() })
    }

    /// Binds a UDP socket on an ephemeral port and connects it to the device.
    ///
    /// A streamed reply (a photo, a template table) arrives as back-to-back datagrams that nothing
    /// paces: with the kernel's default receive buffer (about 208 KB) the tail of a large one is
    /// dropped before it is read. The buffer asked for is [`UDP_RECEIVE_BUFFER`] (the kernel caps
    /// it at `net.core.rmem_max`; best effort).
    pub async fn udp(addr: SocketAddr) -> io::Result<Transport> {
        let local: SocketAddr = if addr.is_ipv4() { ([0, 0, 0, 0], 0).into() } else { ([0u16; 8], 0).into() };
        let raw = socket2::Socket::new(socket2::Domain::for_address(local), socket2::Type::DGRAM, None)?;
        let _ = raw.set_recv_buffer_size(UDP_RECEIVE_BUFFER);
        raw.set_nonblocking(true)?;
        raw.bind(&local.into())?;
        let socket = UdpSocket::from_std(raw.into())?;
        socket.connect(addr).await?;
        Ok(Transport::Udp { socket, buf: vec![0; 65_536], stats: WireStats::default() })
    }

    /// Which transport this is.
    pub fn kind(&self) -> TransportKind {
        match self {
            Transport::Tcp { .. } => TransportKind::Tcp,
            Transport::Udp { .. } => TransportKind::Udp,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> WireStats {
        match self {
            Transport::Tcp { stats, .. } | Transport::Udp { stats, .. } => *stats,
        }
    }

    /// The bytes `packet` takes on this transport.
    pub fn frame(&self, packet: &Packet) -> Vec<u8> {
        match self {
            Transport::Tcp { .. } => packet.encode_tcp(),
            Transport::Udp { .. } => packet.encode(),
        }
    }

    /// Sends one packet.
    pub async fn send(&mut self, packet: &Packet) -> io::Result<()> {
        let bytes = self.frame(packet);
        match self {
            Transport::Tcp { stream, stats, .. } => {
                stream.write_all(&bytes).await?;
                stats.bytes_sent += bytes.len() as u64;
                stats.packets_sent += 1;
            }
            Transport::Udp { socket, stats, .. } => {
                socket.send(&bytes).await?;
                stats.bytes_sent += bytes.len() as u64;
                stats.packets_sent += 1;
            }
        }
        Ok(())
    }

    /// Sends without waiting (best effort, for Drop): true if the whole packet went out.
    pub fn try_send(&mut self, packet: &Packet) -> bool {
        let bytes = self.frame(packet);
        match self {
            Transport::Tcp { stream, .. } => stream.try_write(&bytes).is_ok_and(|n| n == bytes.len()),
            Transport::Udp { socket, .. } => socket.try_send(&bytes).is_ok_and(|n| n == bytes.len()),
        }
    }

    /// Receives the next packet (waits as long as it takes; callers bound it with a timeout).
    /// A TCP stream that loses framing is an error: nothing after it can be trusted.
    pub async fn recv(&mut self) -> io::Result<Received> {
        match self {
            Transport::Tcp { stream, buf, start, stats } => loop {
                match split_frame(&buf[*start..], DEFAULT_MAX_PACKET) {
                    Ok(Split::Complete { packet, consumed }) => {
                        let bytes = &buf[*start + packet.start..*start + packet.end];
                        let decoded = Packet::decode(bytes);
                        *start += consumed;
                        stats.packets_received += 1;
                        return Ok(match decoded {
                            Ok(p) => Received::Packet(p),
                            Err(e) => Received::Garbage(e),
                        });
                    }
                    Ok(Split::Partial { needed }) => {
                        if *start > 0 {
                            buf.drain(..*start);
                            *start = 0;
                        }
                        buf.reserve(needed.saturating_sub(buf.len()).max(64 * 1024));
                        let n = stream.read_buf(buf).await?;
                        if n == 0 {
                            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "device closed the connection"));
                        }
                        stats.bytes_received += n as u64;
                    }
                    Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
                }
            },
            Transport::Udp { socket, buf, stats } => {
                let n = socket.recv(buf).await?;
                stats.bytes_received += n as u64;
                stats.packets_received += 1;
                Ok(match Packet::decode(&buf[..n]) {
                    Ok(p) => Received::Packet(p),
                    Err(e) => Received::Garbage(e),
                })
            }
        }
    }
}
