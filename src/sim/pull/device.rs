//! The simulated device's brain, without I/O: sessions, authentication, retransmit cache,
//! fault decisions, command dispatch, and the live-event queues. The server feeds it packets
//! and writes out whatever it returns.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::pull::wire::attendance::AttendanceRecord;
use crate::pull::wire::command as cmd;
use crate::pull::wire::commkey::verify_commkey;
use crate::pull::wire::event::{encode_attendance_event, AttendanceEvent};
use crate::pull::wire::reply::{ACK_ERROR, ACK_OK, ACK_UNAUTH, ACK_UNKNOWN};
use crate::pull::wire::Packet;

use super::config::SimConfig;
use super::data::DeviceData;
use super::reply::{Req, Transport, UDP_FRAME_MAX};
use super::session::SimSession;
use super::{cmd_info, cmd_media, cmd_tables, cmd_users};

/// How long a pushed event may stay unacknowledged before the next one is sent anyway.
const EVENT_ACK_TIMEOUT: Duration = Duration::from_secs(3);

/// Result of handling one incoming packet.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Packets to send back, in order (empty: stay silent).
    pub replies: Vec<Packet>,
    /// The sender's session after this packet (set by CONNECT, cleared by EXIT).
    pub session: Option<u16>,
    /// Close the connection after sending (TCP, after CMD_EXIT).
    pub close: bool,
}

/// Device state shared by every connection.
#[derive(Debug)]
pub struct Device {
    /// What the device is.
    pub config: SimConfig,
    /// Its tables.
    pub data: DeviceData,
    /// Open sessions by id.
    pub sessions: HashMap<u16, SimSession>,
    /// False between CMD_DISABLEDEVICE and CMD_ENABLEDEVICE (or the disable timeout).
    pub enabled: bool,
    /// When a disable with timeout runs out.
    pub disabled_until: Option<Instant>,
    next_session: u16,
    punch_cursor: usize,
}

impl Device {
    /// A device with the given configuration and tables.
    pub fn new(config: SimConfig, data: DeviceData) -> Device {
        let next_session = config.first_session_id.unwrap_or_else(|| {
            let secs =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1);
            (secs & 0xFFFF) as u16 // firmware: time(NULL) & 0xFFFF
        });
        Device {
            config,
            data,
            sessions: HashMap::new(),
            enabled: true,
            disabled_until: None,
            next_session,
            punch_cursor: 0,
        }
    }

    /// Handles one packet from a client whose current session is `session`.
    pub fn handle(&mut self, session: Option<u16>, transport: Transport, packet: &Packet) -> Outcome {
        if packet.command == cmd::CONNECT {
            return self.connect(session, packet);
        }
        let Some(sid) = session.filter(|s| self.sessions.contains_key(s)) else {
            // no CONNECT yet (or the session expired): nothing works but CONNECT
            let replies = if packet.command == ACK_OK {
                Vec::new()
            } else {
                vec![Packet::new(ACK_UNAUTH, 0, packet.reply, Vec::new())]
            };
            return Outcome { replies, session: None, close: false };
        };
        let Some(mut s) = self.sessions.remove(&sid) else {
            return Outcome::default();
        };
        s.last_seen = Some(Instant::now());
        let outcome = self.handle_in_session(sid, &mut s, transport, packet);
        if outcome.session.is_some() {
            self.sessions.insert(sid, s);
        }
        outcome
    }

    fn connect(&mut self, old: Option<u16>, packet: &Packet) -> Outcome {
        if let Some(old) = old {
            self.sessions.remove(&old);
        }
        let full = self.config.max_sessions > 0 && self.sessions.len() >= self.config.max_sessions;
        if self.config.faults.busy || full {
            let replies = vec![Packet::new(ACK_ERROR, 0, packet.reply, Vec::new())];
            return Outcome { replies, session: None, close: false };
        }
        let mut sid = self.next_session;
        while sid == 0 || self.sessions.contains_key(&sid) {
            sid = sid.wrapping_add(1);
        }
        self.next_session = sid.wrapping_add(1);
        let authenticated = self.config.comm_key == 0;
        let session = SimSession { authenticated, last_seen: Some(Instant::now()), ..SimSession::default() };
        self.sessions.insert(sid, session);
        let code = if authenticated { ACK_OK } else { ACK_UNAUTH };
        Outcome { replies: vec![Packet::new(code, sid, packet.reply, Vec::new())], session: Some(sid), close: false }
    }

    fn handle_in_session(&mut self, sid: u16, s: &mut SimSession, transport: Transport, p: &Packet) -> Outcome {
        let keep = |replies| Outcome { replies, session: Some(sid), close: false };
        if p.command == ACK_OK {
            s.awaiting_ack = None; // the client acknowledges a pushed event; no reply
            return keep(Vec::new());
        }
        // same reply id, command and data as the last request: a retransmit, answer from cache
        if let Some((reply, command, data, replies)) = &s.last {
            if *reply == p.reply && *command == p.command && *data == p.data {
                return keep(replies.clone());
            }
        }
        s.requests += 1;
        if self.config.faults.cut_at_request > 0 && s.requests == u64::from(self.config.faults.cut_at_request) {
            self.config.faults.cut_at_request = 0;
            return Outcome { replies: Vec::new(), session: Some(sid), close: true };
        }
        let frame_max = match transport {
            Transport::Tcp => self.config.tcp_frame_max,
            Transport::Udp => UDP_FRAME_MAX,
        };
        let req = Req { packet: p, session: sid, transport, frame_max };
        let mut close = false;
        let replies = if !s.authenticated && p.command != cmd::AUTH && p.command != cmd::EXIT {
            req.code(ACK_UNAUTH)
        } else {
            match p.command {
                cmd::AUTH => {
                    let ok = !self.config.faults.reject_auth && verify_commkey(self.config.comm_key, sid, &p.data);
                    s.authenticated = ok;
                    req.code(if ok { ACK_OK } else { ACK_UNAUTH })
                }
                cmd::EXIT => {
                    close = true;
                    if self.sessions.is_empty() {
                        self.enabled = true; // the last session re-enables the device [FW FreeSession]
                    }
                    req.ok()
                }
                _ => self.dispatch(s, &req),
            }
        };
        if self.config.faults.drop_every > 0 && s.requests % u64::from(self.config.faults.drop_every) == 0 {
            s.last = Some((p.reply, p.command, p.data.clone(), replies));
            return Outcome { replies: Vec::new(), session: (!close).then_some(sid), close };
        }
        s.last = Some((p.reply, p.command, p.data.clone(), replies.clone()));
        Outcome { replies, session: (!close).then_some(sid), close }
    }

    fn dispatch(&mut self, s: &mut SimSession, req: &Req<'_>) -> Vec<Packet> {
        let c = req.packet.command;
        if let Some(r) = cmd_info::handle(self, s, req) {
            return r;
        }
        if let Some(r) = cmd_tables::handle(self, s, req) {
            return r;
        }
        if let Some(r) = cmd_users::handle(self, s, req) {
            return r;
        }
        if let Some(r) = cmd_media::handle(self, s, req) {
            return r;
        }
        tracing::debug!(command = c, "simulator: unknown command");
        req.code(ACK_UNKNOWN)
    }

    /// Records a punch now for `user_id` and queues a live event for every subscribed session.
    /// Returns false when no such user exists.
    pub fn punch(&mut self, user_id: &str, verify: u8, state: u8) -> bool {
        let Some(uid) = self.data.user_by_id(user_id).map(|u| u.uid) else {
            return false;
        };
        let timestamp = self.data.now().with_nanosecond(0).unwrap_or_else(|| self.data.now());
        let rec = AttendanceRecord { uid, user_id: user_id.to_string(), timestamp, verify, state, workcode: 0 };
        self.data.attendance.push(rec);
        let ev = AttendanceEvent { user_id: user_id.to_string(), verify, state, timestamp, workcode: 0 };
        if let Ok(payload) = encode_attendance_event(&ev) {
            for s in self.sessions.values_mut().filter(|s| s.event_mask & u32::from(cmd::EF_ATTLOG) != 0) {
                s.events.push_back((cmd::EF_ATTLOG, payload.to_vec()));
            }
        }
        true
    }

    /// Punches for the next user in turn, if any session listens for attendance events.
    pub fn auto_punch(&mut self) {
        let listening = self.sessions.values().any(|s| s.event_mask & u32::from(cmd::EF_ATTLOG) != 0);
        if !listening || self.data.users.is_empty() {
            return;
        }
        let index = self.punch_cursor % self.data.users.len();
        self.punch_cursor += 1;
        let user_id = self.data.users.values().nth(index).map(|u| u.user_id.clone());
        if let Some(user_id) = user_id {
            self.punch(&user_id, 1, 0);
        }
    }

    /// The next event packet for session `sid`: one at a time, each after the previous one was
    /// acknowledged (pyzk mis-parses two events in one read, oracle README quirk 6).
    pub fn next_event(&mut self, sid: u16, now: Instant) -> Option<Packet> {
        let s = self.sessions.get_mut(&sid)?;
        if let Some(sent) = s.awaiting_ack {
            if now.duration_since(sent) < EVENT_ACK_TIMEOUT {
                return None;
            }
        }
        let (flag, data) = s.events.pop_front()?;
        s.awaiting_ack = Some(now);
        // reply id 0: the firmware's event-queue index, observed 0 (spec §9.2)
        Some(Packet::new(cmd::REG_EVENT, flag, 0, data))
    }

    /// Re-enables the device when a disable timeout has run out; drops idle UDP sessions.
    pub fn tick(&mut self, now: Instant, udp_idle: Duration, udp_sessions: &[u16]) {
        if self.disabled_until.is_some_and(|t| now >= t) {
            self.enabled = true;
            self.disabled_until = None;
        }
        for sid in udp_sessions {
            let idle =
                self.sessions.get(sid).and_then(|s| s.last_seen).is_some_and(|t| now.duration_since(t) > udp_idle);
            if idle {
                self.sessions.remove(sid);
            }
        }
    }
}

use chrono::Timelike as _;
