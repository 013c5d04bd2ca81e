//! The async pull client: one session with one device over TCP or UDP (auto: TCP, then UDP),
//! comm-key authentication, request/response with per-reply timeouts and retries, pushed-event
//! demultiplexing, and a clean CMD_EXIT on close (best effort also on drop). Feature calls live
//! in the submodules: `info`, `users`, `templates`, `faces`, `photos`, `attendance`, `live`.

mod attendance;
mod buffered;
mod faces;
mod info;
mod live;
mod lock;
mod photos;
mod templates;
mod user_batch;
mod users;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

pub use info::DeviceInfo;
pub use live::DEFAULT_EVENT_MASK;
pub use lock::DeviceLocks;
pub use templates::{TemplateUpload, DURESS, VALID};
pub use users::{allocate_uid, UserSpec};

use super::error::{Error, Result};
use super::session::{Feed, ReplyAssembler, ReplyIds, Response};
use super::transport::{Received, Transport, TransportKind, WireStats};
use super::wire::command::{AUTH, CONNECT, ENABLEDEVICE, EXIT, OPTIONS_WRQ};
use super::wire::commkey::make_commkey;
use super::wire::event::{decode_events, LiveEvent};
use super::wire::reply::{classify, ReplyKind, ACK_OK};
use super::wire::user::UserRecordSize;
use super::wire::Packet;

/// Largest stream the client accepts in one reply (a 1504 chunk, a face blob, a photo).
const MAX_STREAM: usize = 16 << 20;

/// Transport choice for a device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TransportMode {
    /// TCP; if the TCP connection or its CONNECT fails, UDP (old devices answer only UDP).
    #[default]
    Auto,
    /// TCP only.
    Tcp,
    /// UDP only.
    Udp,
}

/// Progress callback: (what, done, total) in bytes or records.
pub type ProgressFn = Box<dyn FnMut(&str, u64, u64) + Send>;

/// How to reach and talk to one device.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Device address (port 4370 on real devices).
    pub addr: SocketAddr,
    /// Transport choice.
    pub transport: TransportMode,
    /// Comm key (0 = none).
    pub comm_key: u32,
    /// How long to wait for each reply (a 1504 chunk counts as one reply).
    pub timeout: Duration,
    /// Extra attempts after a timeout (reads retry with a new reply id, writes with the same one).
    pub retries: u32,
    /// CMD_READ_DATA chunk size; `None`: 65472 on TCP, 16384 on UDP (as pyzk).
    pub chunk_size: Option<u32>,
    /// Send `SDKBuild=1` after connecting (the official SDK does; newer firmware then uses SDK formats).
    pub sdk_build: bool,
    /// Fixed nonce byte for CMD_AUTH (tests); `None` = random.
    pub auth_nonce: Option<u8>,
}

impl ConnectOptions {
    /// Defaults for `addr`: auto transport, no key, 10 s per reply, 3 retries.
    pub fn new(addr: SocketAddr) -> ConnectOptions {
        ConnectOptions {
            addr,
            transport: TransportMode::Auto,
            comm_key: 0,
            timeout: Duration::from_secs(10),
            retries: 3,
            chunk_size: None,
            sdk_build: true,
            auth_nonce: None,
        }
    }
}

/// Retry policy of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads: retry with a new reply id (the device's cache holds only the final ACK of a stream).
    NewId,
    /// Writes: retry with the same reply id, so the device answers from its cache instead of
    /// executing twice (spec §1.5).
    SameId,
    /// Do not retry.
    Never,
}

/// A session with one device.
pub struct Client {
    transport: Transport,
    session: u16,
    ids: ReplyIds,
    opts: ConnectOptions,
    events: VecDeque<LiveEvent>,
    disabled: bool,
    closed: bool,
    user_record: Option<UserRecordSize>,
    progress: Option<ProgressFn>,
    payload_bytes: u64,
    legacy_reads: bool,
    _exclusive: Option<OwnedMutexGuard<()>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.opts.addr)
            .field("transport", &self.transport.kind())
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects (and authenticates) per `opts`.
    pub async fn connect(opts: ConnectOptions) -> Result<Client> {
        match opts.transport {
            TransportMode::Tcp => Client::handshake(Client::open_tcp(&opts).await?, opts).await,
            TransportMode::Udp => Client::handshake(Transport::udp(opts.addr).await?, opts).await,
            TransportMode::Auto => {
                let tcp_error = match Client::open_tcp(&opts).await {
                    Ok(t) => match Client::handshake(t, opts.clone()).await {
                        Ok(c) => return Ok(c),
                        Err(e @ (Error::Timeout { .. } | Error::Io(_))) => e,
                        Err(e) => return Err(e),
                    },
                    Err(e) => e,
                };
                tracing::info!(addr = %opts.addr, error = %tcp_error, "pull: TCP failed, trying UDP");
                Client::handshake(Transport::udp(opts.addr).await?, opts).await
            }
        }
    }

    /// Connects while holding the exclusive session lock for this device address: one client
    /// per device at a time. Waits at most `opts.timeout` for the lock, then fails as busy.
    pub async fn connect_exclusive(locks: &DeviceLocks, opts: ConnectOptions) -> Result<Client> {
        let guard = tokio::time::timeout(opts.timeout, locks.acquire(&opts.addr.to_string()))
            .await
            .map_err(|_| Error::Busy("another session with this device is open"))?;
        let mut client = Client::connect(opts).await?;
        client._exclusive = Some(guard);
        Ok(client)
    }

    async fn open_tcp(opts: &ConnectOptions) -> Result<Transport> {
        match tokio::time::timeout(opts.timeout, Transport::tcp(opts.addr)).await {
            Ok(t) => Ok(t?),
            Err(_) => Err(Error::Timeout { command: CONNECT, waited: opts.timeout }),
        }
    }

    async fn handshake(transport: Transport, opts: ConnectOptions) -> Result<Client> {
        let mut c = Client {
            transport,
            session: 0,
            ids: ReplyIds::default(),
            opts,
            events: VecDeque::new(),
            disabled: false,
            closed: false,
            user_record: None,
            progress: None,
            payload_bytes: 0,
            legacy_reads: false,
            _exclusive: None,
        };
        // CONNECT carries session 0 and reply id 0
        let mut reply = None;
        for _ in 0..=c.opts.retries {
            match c.attempt(CONNECT, &[], 0).await {
                Ok(r) => {
                    reply = Some(r);
                    break;
                }
                Err(Error::Timeout { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        let r = reply.ok_or(Error::Timeout { command: CONNECT, waited: c.opts.timeout })?;
        c.session = r.session;
        match classify(r.code) {
            ReplyKind::Ok => {}
            ReplyKind::Unauthorized => {
                if c.opts.comm_key == 0 {
                    c.closed = true;
                    return Err(Error::AuthFailed("the device requires a comm key"));
                }
                let nonce = c.opts.auth_nonce.unwrap_or_else(|| rand::random::<u8>().max(1));
                let proof = make_commkey(c.opts.comm_key, c.session, nonce);
                let a = c.call(AUTH, &proof, Retry::SameId).await?;
                if a.code != ACK_OK {
                    c.send_exit_best_effort();
                    c.closed = true;
                    return Err(Error::AuthFailed("the device refused the comm key"));
                }
            }
            ReplyKind::Error | ReplyKind::Busy => {
                c.closed = true;
                return Err(Error::Busy("the device refused the connection"));
            }
            _ => return Err(Error::Protocol(format!("CMD_CONNECT answered with code {}", r.code))),
        }
        if c.opts.sdk_build {
            // optional: older firmware refuses the option, which is fine
            let _ = c.call(OPTIONS_WRQ, b"SDKBuild=1", Retry::SameId).await?;
        }
        Ok(c)
    }

    /// The transport this session uses.
    pub fn transport_kind(&self) -> TransportKind {
        self.transport.kind()
    }

    /// The session id the device gave us.
    pub fn session_id(&self) -> u16 {
        self.session
    }

    /// Bytes and packets moved so far.
    pub fn wire_stats(&self) -> WireStats {
        self.transport.stats()
    }

    /// Payload bytes of tables and blobs received so far (what the bytes on the wire carried).
    pub fn payload_bytes(&self) -> u64 {
        self.payload_bytes
    }

    /// Installs (or removes) a progress callback for long reads and writes.
    pub fn set_progress(&mut self, progress: Option<ProgressFn>) {
        self.progress = progress;
    }

    fn report(&mut self, what: &str, done: u64, total: u64) {
        if let Some(p) = self.progress.as_mut() {
            p(what, done, total);
        }
    }

    /// Ends the session: re-enables the device if we disabled it, then CMD_EXIT.
    pub async fn close(mut self) -> Result<()> {
        self.closed = true;
        let enabled =
            if self.disabled { self.call(ENABLEDEVICE, &[], Retry::SameId).await.map(|_| ()) } else { Ok(()) };
        let exit = self.call(EXIT, &[], Retry::Never).await.map(|_| ());
        enabled.and(exit)
    }

    /// Sends one request and waits for its complete response, retrying per `retry`.
    pub(crate) async fn call(&mut self, command: u16, data: &[u8], retry: Retry) -> Result<Response> {
        let mut reply = self.ids.advance();
        let mut attempts = 0;
        loop {
            match self.attempt(command, data, reply).await {
                Err(Error::Timeout { .. }) if retry != Retry::Never && attempts < self.opts.retries => {
                    attempts += 1;
                    tracing::debug!(command, attempt = attempts, "pull: retrying after timeout");
                    if retry == Retry::NewId {
                        reply = self.ids.advance();
                    }
                }
                other => return other,
            }
        }
    }

    /// Like [`Client::call`] but maps every non-success reply code to an error.
    pub(crate) async fn call_ok(&mut self, command: u16, data: &[u8], retry: Retry) -> Result<Response> {
        let r = self.call(command, data, retry).await?;
        check(command, r)
    }

    async fn attempt(&mut self, command: u16, data: &[u8], reply: u16) -> Result<Response> {
        let packet = Packet::new(command, self.session, reply, data.to_vec());
        self.transport.send(&packet).await?;
        let mut assembler = ReplyAssembler::new(reply, MAX_STREAM);
        let waited = self.opts.timeout;
        let deadline = Instant::now() + waited;
        loop {
            let received = tokio::time::timeout_at(deadline, self.transport.recv())
                .await
                .map_err(|_| Error::Timeout { command, waited })??;
            let packet = match received {
                Received::Packet(p) => p,
                Received::Garbage(e) => {
                    tracing::warn!(error = %e, "pull: dropping an invalid packet");
                    continue;
                }
            };
            match assembler.feed(packet)? {
                Feed::Done(r) => return Ok(r),
                Feed::Pending | Feed::Stale => {}
                Feed::Event(event) => self.on_event(event).await?,
            }
        }
    }

    /// Acknowledges a pushed event (ACK_OK with the event's reply id, outside our reply-id
    /// sequence; spec §9.3) and queues what it carried.
    async fn on_event(&mut self, event: Packet) -> Result<()> {
        let ack = Packet::new(ACK_OK, self.session, event.reply, Vec::new());
        self.transport.send(&ack).await?;
        self.events.extend(decode_events(event.session, &event.data));
        Ok(())
    }

    fn send_exit_best_effort(&mut self) {
        if self.disabled {
            let enable = Packet::new(ENABLEDEVICE, self.session, self.ids.advance(), Vec::new());
            self.transport.try_send(&enable);
        }
        let exit = Packet::new(EXIT, self.session, self.ids.advance(), Vec::new());
        self.transport.try_send(&exit);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.closed {
            // dropped on an error path: tell the device we are gone without waiting
            self.send_exit_best_effort();
        }
    }
}

/// Maps a reply code to success or the matching error.
pub(crate) fn check(command: u16, r: Response) -> Result<Response> {
    match classify(r.code) {
        ReplyKind::Ok | ReplyKind::Data => Ok(r),
        ReplyKind::Unauthorized => Err(Error::AuthFailed("the device wants authentication")),
        ReplyKind::Unknown => Err(Error::Unsupported { command }),
        ReplyKind::Busy => Err(Error::Busy("the device asked to retry later")),
        ReplyKind::PrepareData => Err(Error::Protocol("unexpected CMD_PREPARE_DATA".into())),
        ReplyKind::NotFound | ReplyKind::Error => Err(Error::Refused { command, code: r.code, detail: r.session }),
    }
}

/// True when a reply means "nothing there" (ACK_ERROR with detail 2, or a no-data code).
pub(crate) fn is_not_found(r: &Response) -> bool {
    matches!(classify(r.code), ReplyKind::NotFound) || (classify(r.code) == ReplyKind::Error)
}
