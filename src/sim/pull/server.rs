//! The handle of a running simulated device: start it on an address (TCP and UDP on one
//! port), inject punches, read and seed its tables, switch faults, read its traffic counters.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpSocket;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::pull::wire::attendance::AttendanceRecord;
use crate::pull::wire::template::Template;
use crate::pull::wire::user::User;

use super::config::{Faults, SimConfig};
use super::data::{DeviceData, Seed};
use super::device::Device;
use super::net::{accept_loop, bind_pair, lock, udp_loop, SimStats, StatsSnapshot};

/// A running simulated device. Dropping it stops it.
pub struct SimDevice {
    addr: SocketAddr,
    device: Arc<Mutex<Device>>,
    stats: Arc<SimStats>,
    cancel: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    _parked_tcp: Option<TcpSocket>,
}

impl SimDevice {
    /// Binds TCP and UDP on the same port of `listen` (port 0: a free port) and starts serving
    /// a device described by `config` holding `seed`.
    pub async fn start(listen: SocketAddr, config: SimConfig, seed: &Seed) -> io::Result<SimDevice> {
        let data = DeviceData::seeded(seed, config.fp_version);
        let (tcp, udp) = bind_pair(listen).await?;
        let addr = tcp.local_addr()?;
        let mut parked_tcp = None;
        let punch_every = config.punch_every;
        let udp_only = config.udp_only;
        let device = Arc::new(Mutex::new(Device::new(config, data)));
        let stats = Arc::new(SimStats::default());
        let cancel = CancellationToken::new();
        let mut tasks = Vec::new();
        if udp_only {
            // keep the TCP port bound but not listening: connections are refused, and no other
            // socket can take the port meanwhile
            parked_tcp = Some(tcp);
        } else {
            let listener = tcp.listen(1024)?;
            let (d, st, c) = (Arc::clone(&device), Arc::clone(&stats), cancel.clone());
            tasks.push(tokio::spawn(accept_loop(listener, d, st, c)));
        }
        tasks.push(tokio::spawn(udp_loop(udp, Arc::clone(&device), Arc::clone(&stats), cancel.clone())));
        if let Some(every) = punch_every {
            let (device, cancel) = (Arc::clone(&device), cancel.clone());
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(every.max(Duration::from_millis(10)));
                tick.tick().await;
                loop {
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tick.tick() => lock(&device).auto_punch(),
                    }
                }
            }));
        }
        Ok(SimDevice { addr, device, stats, cancel, tasks, _parked_tcp: parked_tcp })
    }

    /// The address (TCP and UDP share the port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Records a punch for `user_id` now and pushes it to every client listening for events.
    pub fn inject_punch(&self, user_id: &str, verify: u8, state: u8) -> bool {
        lock(&self.device).punch(user_id, verify, state)
    }

    /// Users on the device.
    pub fn users(&self) -> Vec<User> {
        lock(&self.device).data.users.values().cloned().collect()
    }

    /// Deletes a user as an admin at the keypad would (templates, face and photo with it);
    /// false when no user has this id.
    pub fn delete_user_at_keypad(&self, user_id: &str) -> bool {
        let mut d = lock(&self.device);
        let uid = d.data.user_by_id(user_id).map(|u| u.uid);
        uid.is_some_and(|uid| d.data.delete_user(uid))
    }

    /// Fingerprint templates on the device.
    pub fn templates(&self) -> Vec<Template> {
        let d = lock(&self.device);
        d.data
            .templates
            .iter()
            .map(|(&(uid, finger), (flag, data))| Template { uid, finger, flag: *flag, data: data.clone() })
            .collect()
    }

    /// The attendance log.
    pub fn attendance(&self) -> Vec<AttendanceRecord> {
        lock(&self.device).data.attendance.clone()
    }

    /// The raw face records of the user with this uid, as stored.
    pub fn face_blob(&self, uid: u16) -> Option<Vec<u8>> {
        lock(&self.device).data.faces.get(&uid).map(|b| b.as_ref().clone())
    }

    /// The photo of `user_id`.
    pub fn photo(&self, user_id: &str) -> Option<Vec<u8>> {
        lock(&self.device).data.photos.get(user_id).cloned()
    }

    /// Stores a user as if enrolled on the keypad (replaces whoever has that uid).
    pub fn put_user(&self, user: User) {
        lock(&self.device).data.users.insert(user.uid, user);
    }

    /// Stores a template as if enrolled on the sensor.
    pub fn put_template(&self, template: Template) {
        let key = (template.uid, template.finger);
        lock(&self.device).data.templates.insert(key, (template.flag, template.data));
    }

    /// Stores face records for the user with this uid (the PIN field is rewritten on reads).
    pub fn put_face_blob(&self, uid: u16, blob: Vec<u8>) {
        lock(&self.device).data.faces.insert(uid, Arc::new(blob));
    }

    /// Stores a photo for `user_id`.
    pub fn put_photo(&self, user_id: &str, jpeg: Vec<u8>) {
        lock(&self.device).data.photos.insert(user_id.to_string(), jpeg);
    }

    /// Whether the device is enabled (not between DISABLEDEVICE and ENABLEDEVICE).
    pub fn is_enabled(&self) -> bool {
        lock(&self.device).enabled
    }

    /// Number of open sessions.
    pub fn session_count(&self) -> usize {
        lock(&self.device).sessions.len()
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.device).config.faults = faults;
    }

    /// Traffic counters so far.
    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.stats;
        StatsSnapshot {
            bytes_in: s.bytes_in.load(Ordering::Relaxed),
            bytes_out: s.bytes_out.load(Ordering::Relaxed),
            packets_in: s.packets_in.load(Ordering::Relaxed),
            packets_out: s.packets_out.load(Ordering::Relaxed),
            data_payload_out: s.data_payload_out.load(Ordering::Relaxed),
        }
    }

    /// Stops serving and waits for the tasks to end.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
    }
}

impl Drop for SimDevice {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
