//! Push devices in an area sync. A push device is never called: its "reads" are what ironclock
//! knows it holds ([`crate::store::biometrics::PushHoldings`]: the users it reported and the
//! students sync has on it, the templates and photos it uploaded, and the writes queued to it
//! that have not failed, which therefore are not queued again), and its "writes" are commands
//! queued through the command queue in the grammar its firmware takes (see [`super::push_profile`]),
//! each template after its user's write (the queue's dependency). Faces: a NIR ZKFace 7 device's
//! `FACE` uploads are its face sets, and a face set goes to it as one `DATA UPDATE FACE` line per
//! record ([`faces`]). A queued write is not confirmed at sync time: the report says `queued`,
//! and evidence confirms it later.

mod faces;

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use super::device::{Access, AccessError, AreaDevice, AreaFinger, AreaUser, DeviceCounts};
use super::push_profile::{fields, profile, FingerPath, PushProfile};
use crate::core::Core;
use crate::crypto::DataCipher;
use crate::domain::media::NewMediaToken;
use crate::domain::sync::SyncMode;
use crate::domain::{Approval, CommandFilter, CommandState, Device, DeviceId, DeviceMode, SchoolId};
use crate::push::command::{BioTemplate, Command, UserInfo};
use crate::queue::{EnqueueOptions, Enqueuer, Planned};
use crate::store::sync::{ReconcileOptions, SyncScope};
use crate::store::StoreError;

const BY: &str = "area sync";

/// A push device held for an area sync.
pub struct PushAreaDevice {
    device: Device,
    label: String,
    profile: PushProfile,
    queue: Enqueuer,
    store: crate::store::DynStore,
    cipher: DataCipher,
    clock: std::sync::Arc<dyn crate::core::Clock>,
    users: BTreeMap<String, AreaUser>,
    fingers: BTreeMap<(String, u8), AreaFinger>,
    photos: BTreeMap<String, Vec<u8>>,
    faces: faces::HeldFaces,
    /// The latest user write queued to it per PIN (templates wait for it).
    user_commands: HashMap<String, i64>,
    /// The school's current students by PIN: their user writes go through student sync.
    students: HashMap<String, i64>,
    max_attempts: i32,
}

/// The approved push devices of `area` in `school`.
pub async fn members(core: &Core, school: SchoolId, area: i64) -> Result<Vec<Device>, StoreError> {
    Ok(core
        .store
        .list_devices()
        .await?
        .into_iter()
        .filter(|d| d.mode == DeviceMode::Push && d.approval == Approval::Approved)
        .filter(|d| d.school_id == Some(school) && d.area_id == Some(area))
        .collect())
}

/// Loads what ironclock knows the device holds; `Err` says why not, in words.
pub async fn open(core: &Core, device: &Device) -> Result<Box<dyn AreaDevice>, String> {
    let label = device.name.clone().unwrap_or_else(|| device.serial_number.clone());
    let store = &core.store;
    let held = store.push_holdings(device.id).await.map_err(|e| format!("storage: {e}"))?;
    let caps = store.capabilities(device.id).await.map_err(|e| format!("storage: {e}"))?;
    let refused = caps.iter().any(|c| !c.supported && c.capability == "DATA UPDATE FINGERTMP");
    let profile = profile(&label, device.dialect, &held.options, &held.poll_info, refused);
    let mut dev = PushAreaDevice {
        device: device.clone(),
        label,
        profile,
        queue: core.queue.enqueuer(),
        store: store.clone(),
        cipher: core.cipher.clone(),
        clock: core.clock.clone(),
        users: BTreeMap::new(),
        fingers: BTreeMap::new(),
        photos: BTreeMap::new(),
        faces: faces::HeldFaces::default(),
        user_commands: HashMap::new(),
        students: HashMap::new(),
        max_attempts: core.max_attempts(),
    };
    if let Some(school) = device.school_id {
        let roster = store.roster_standing(school).await.map_err(|e| format!("storage: {e}"))?;
        dev.students = roster.into_iter().filter(|s| s.active && !s.deleted).map(|s| (s.pin, s.student_id)).collect();
    }
    for u in held.users {
        let user = AreaUser {
            name: u.name.unwrap_or_default(),
            privilege: u.privilege.and_then(|p| u8::try_from(p).ok()).unwrap_or(0),
            password: String::new(),
            card: u.card.and_then(|c| c.trim().parse().ok()).unwrap_or(0),
            group: 1,
            pin: u.pin,
        };
        dev.users.insert(user.pin.clone(), user);
    }
    for t in held.templates.iter().filter(|t| t.bio_type == 1 && (t.kind == "fp" || t.kind == "biodata")) {
        let (Ok(finger), Some(data)) = (u8::try_from(t.finger_no), open_b64(&core.cipher, &t.template_enc)) else {
            continue;
        };
        let flag = if t.duress == Some(1) || t.valid == Some(3) { 3 } else { 1 };
        dev.fingers.insert((t.pin.clone(), finger), AreaFinger { pin: t.pin.clone(), finger, flag, data });
    }
    for t in &held.templates {
        dev.faces.learn_upload(t, &core.cipher);
    }
    for p in held.photos.into_iter().chain(held.sent_photos) {
        if let Ok(jpeg) = core.cipher.open(&p.image_enc) {
            dev.photos.entry(p.pin).or_insert(jpeg);
        }
    }
    for w in held.writes {
        dev.learn_write(&w.kind, w.id, &w.payload, w.created_at);
    }
    Ok(Box::new(dev))
}

fn open_b64(cipher: &DataCipher, sealed: &[u8]) -> Option<Vec<u8>> {
    let text = cipher.open(sealed).ok()?;
    B64.decode(String::from_utf8(text).ok()?.trim()).ok().filter(|d| !d.is_empty())
}

impl PushAreaDevice {
    /// A write queued earlier (not failed): what it carries is on its way, not queued again.
    fn learn_write(&mut self, kind: &str, id: i64, payload: &str, at: chrono::DateTime<chrono::Utc>) {
        let f = fields(payload);
        let pin = f.get("pin").cloned().unwrap_or_default();
        if pin.is_empty() {
            return;
        }
        match kind {
            "user_update" => {
                self.user_commands.insert(pin.clone(), id);
                let name = f.get("name").cloned().unwrap_or_default();
                self.users.entry(pin.clone()).or_insert(AreaUser {
                    pin,
                    name,
                    privilege: f.get("pri").or(f.get("privilege")).and_then(|p| p.parse().ok()).unwrap_or(0),
                    password: String::new(),
                    card: f.get("card").or(f.get("cardno")).and_then(|c| c.parse().ok()).unwrap_or(0),
                    group: 1,
                });
            }
            "fingerprint_update" | "biodata_update" => {
                let finger = f.get("fid").or(f.get("no")).and_then(|n| n.parse::<u8>().ok());
                let data = f.get("tmp").and_then(|t| B64.decode(t.trim()).ok());
                if let (Some(finger), Some(data)) = (finger, data) {
                    let duress = f.get("valid").map(String::as_str) == Some("3")
                        || f.get("duress").map(String::as_str) == Some("1");
                    let flag = if duress { 3 } else { 1 };
                    self.fingers.entry((pin.clone(), finger)).or_insert(AreaFinger { pin, finger, flag, data });
                }
            }
            "face_update" | "face_delete" => self.faces.learn_write(kind, &pin, &f, at),
            "userpic_update" => {
                if let Some(jpeg) = f.get("content").and_then(|c| B64.decode(c.trim()).ok()) {
                    self.photos.entry(pin).or_insert(jpeg);
                }
            }
            _ => {}
        }
    }

    fn finger_command(&self, f: &AreaFinger) -> Result<Command, String> {
        let template = B64.encode(&f.data);
        match &self.profile.finger_path {
            FingerPath::FingerTmp => {
                Ok(Command::FingerprintUpdate { pin: f.pin.clone(), fid: f.finger, valid: f.flag, template })
            }
            FingerPath::BioData(version) => Ok(Command::BioDataUpdate(BioTemplate {
                pin: f.pin.clone(),
                no: f.finger,
                index: 0,
                valid: 1,
                duress: u8::from(f.flag == 3),
                bio_type: 1,
                major_ver: version.clone(),
                minor_ver: "0".into(),
                format: 0,
                template,
            })),
            FingerPath::None(reason) => Err(reason.clone()),
        }
    }

    async fn enqueue(&self, command: Command, after: Option<i64>) -> Access<i64> {
        match self.queue.enqueue_all(&self.device, vec![Self::planned(command, after)]).await {
            Ok(ids) => Ok(ids[0]),
            Err(crate::queue::QueueError::Store(e)) => Err(AccessError::Device(format!("storage: {e}"))),
            Err(e) => Err(AccessError::Item(e.to_string())),
        }
    }

    fn planned(command: Command, depends_on: Option<i64>) -> Planned {
        let options = EnqueueOptions { depends_on, created_by: Some(BY.into()), ..Default::default() };
        Planned { command, options, after: None }
    }
}

#[async_trait]
impl AreaDevice for PushAreaDevice {
    fn id(&self) -> DeviceId {
        self.device.id
    }

    fn label(&self) -> String {
        self.label.clone()
    }

    fn queues_writes(&self) -> bool {
        true
    }

    async fn counts(&mut self) -> Access<DeviceCounts> {
        Ok(DeviceCounts {
            users: self.users.len() as i64,
            fingerprints: self.fingers.len() as i64,
            faces: self.faces.count() as i64,
            fp_version: self.profile.fp_version.clone(),
            face_version: self.profile.face_version.clone(),
            faceless_reason: Some(self.profile.faceless_reason.clone()).filter(|r| !r.is_empty()),
        })
    }

    async fn users(&mut self) -> Access<Vec<AreaUser>> {
        Ok(self.users.values().cloned().collect())
    }

    async fn fingers(&mut self) -> Access<Vec<AreaFinger>> {
        Ok(self.fingers.values().cloned().collect())
    }

    async fn faces(&mut self, pin: &str) -> Access<Option<Vec<u8>>> {
        if self.profile.face_version.is_none() {
            return Err(AccessError::Unsupported);
        }
        Ok(self.faces.blob(pin))
    }

    async fn photo(&mut self, pin: &str) -> Access<Option<Vec<u8>>> {
        if !self.profile.photos {
            return Err(AccessError::Unsupported);
        }
        Ok(self.photos.get(pin).cloned())
    }

    async fn lock(&mut self) -> Access<()> {
        Ok(())
    }

    async fn unlock(&mut self) -> Access<()> {
        Ok(())
    }

    /// Students go through student sync (their sync rows on the device then carry the evidence);
    /// other people (staff, visitors) are queued as plain user writes.
    async fn write_users(&mut self, users: &[AreaUser]) -> Access<Vec<Option<String>>> {
        let storage = |e: StoreError| AccessError::Device(format!("storage: {e}"));
        let students: Vec<i64> = users.iter().filter_map(|u| self.students.get(&u.pin).copied()).collect();
        if let (false, Some(school)) = (students.is_empty(), self.device.school_id) {
            let scope =
                SyncScope { school_id: school, device_ids: Some(vec![self.device.id.0]), student_ids: Some(students) };
            let opts = ReconcileOptions { max_attempts: self.max_attempts, ..ReconcileOptions::new(BY) };
            self.store.reconcile(&scope, SyncMode::Force, &opts).await.map_err(storage)?;
            for w in self.store.push_holdings(self.device.id).await.map_err(storage)?.writes {
                if w.kind == "user_update" {
                    self.learn_write(&w.kind, w.id, &w.payload, w.created_at);
                }
            }
        }
        let mut out = Vec::with_capacity(users.len());
        for u in users {
            if self.students.contains_key(&u.pin) {
                out.push(None);
                continue;
            }
            let card = (u.card != 0).then(|| u.card.to_string());
            let info = UserInfo {
                privilege: u.privilege,
                group: u.group.max(1),
                ..UserInfo::student(&u.pin, &u.name, card.as_deref())
            };
            match self.queue.enqueue_all(&self.device, vec![Self::planned(Command::UserUpdate(info), None)]).await {
                Ok(ids) => {
                    self.user_commands.insert(u.pin.clone(), ids[0]);
                    out.push(None);
                }
                Err(crate::queue::QueueError::Store(e)) => return Err(AccessError::Device(format!("storage: {e}"))),
                Err(e) => out.push(Some(e.to_string())),
            }
        }
        Ok(out)
    }

    async fn write_fingers(&mut self, fingers: &[AreaFinger]) -> Access<()> {
        let mut planned = Vec::with_capacity(fingers.len());
        for f in fingers {
            let command = self.finger_command(f).map_err(AccessError::Item)?;
            planned.push(Self::planned(command, self.user_commands.get(&f.pin).copied()));
        }
        match self.queue.enqueue_all(&self.device, planned).await {
            Ok(_) => Ok(()),
            Err(crate::queue::QueueError::Store(e)) => Err(AccessError::Device(format!("storage: {e}"))),
            Err(e) => Err(AccessError::Item(e.to_string())),
        }
    }

    /// One `DATA UPDATE FACE` per record after the user's write (a `DATA DELETE FACE` first when
    /// records it holds would stay), only on a NIR ZKFace 7 device (the plan's version gating).
    async fn write_faces(&mut self, pin: &str, records: &[u8]) -> Access<()> {
        if self.profile.face_version.is_none() {
            return Err(AccessError::Item(self.profile.faceless_reason.clone()));
        }
        let after = self.user_commands.get(pin).copied();
        let commands = self.faces.commands(pin, records, self.clock.now()).map_err(AccessError::Item)?;
        let planned = commands.into_iter().map(|c| Self::planned(c, after)).collect();
        match self.queue.enqueue_all(&self.device, planned).await {
            Ok(_) => Ok(()),
            Err(crate::queue::QueueError::Store(e)) => Err(AccessError::Device(format!("storage: {e}"))),
            Err(e) => Err(AccessError::Item(e.to_string())),
        }
    }

    /// `USERPIC` inline where the device keeps photos; `BIOPHOTO` by a token URL with
    /// `PostBackTmpFlag=1` on a visible-light face device (it enrols the face from the photo).
    async fn write_photo(&mut self, pin: &str, jpeg: &[u8]) -> Access<()> {
        let storage = |e: StoreError| AccessError::Device(format!("storage: {e}"));
        let after = self.user_commands.get(pin).copied();
        if self.profile.userpic {
            let command = Command::UserPicUpdate { pin: pin.to_string(), content_base64: B64.encode(jpeg) };
            self.enqueue(command, after).await?;
        }
        if self.profile.biophoto {
            let now = self.clock.now();
            let token = NewMediaToken::issue(self.device.id, "biophoto", pin, self.cipher.seal(jpeg), now);
            self.store.issue_media_token(&token, now).await.map_err(storage)?;
            let command = Command::BioPhotoUrl { pin: pin.to_string(), bio_type: 9, url: token.url(), post_back: true };
            let id = self.enqueue(command, after).await?;
            self.store.attach_media_token(&token.token_hash, id).await.map_err(storage)?;
        }
        Ok(())
    }

    async fn delete_user(&mut self, pin: &str) -> Access<bool> {
        let storage = |e: StoreError| AccessError::Device(format!("storage: {e}"));
        for state in [CommandState::Queued, CommandState::Sent] {
            let filter = CommandFilter {
                kind: Some("user_delete".into()),
                pin: Some(pin.into()),
                state: Some(state),
                limit: Some(1),
                ..Default::default()
            };
            if !self.store.list_commands(self.device.id, &filter).await.map_err(storage)?.is_empty() {
                return Ok(true); // Already on its way (student sync queues the roster's deletes too).
            }
        }
        let command = Command::UserDelete { pin: pin.to_string() };
        match self.queue.enqueue_all(&self.device, vec![Self::planned(command, None)]).await {
            Ok(_) => Ok(true),
            Err(crate::queue::QueueError::Store(e)) => Err(storage(e)),
            Err(e) => Err(AccessError::Item(e.to_string())),
        }
    }

    async fn finish(self: Box<Self>, _healthy: bool) {}
}
