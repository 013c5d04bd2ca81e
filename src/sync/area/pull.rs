//! Pull devices in an area sync. A device whose session this instance's pull service holds is
//! reached by BORROWING that session from its actor (one session per device, never a second
//! beside it; live punches arriving meanwhile are queued and stored when it returns). A device
//! nobody holds is leased for the sync under its own holder name and called directly. A device
//! another instance holds is reported and retried on the next run.

use std::time::Duration;

use async_trait::async_trait;

use super::device::{Access, AccessError, AreaDevice, AreaFinger, AreaUser, DeviceCounts};
use crate::core::sessions::Loan;
use crate::core::Core;
use crate::domain::DeviceId;
use crate::pull::client::{TemplateUpload, UserSpec};
use crate::pull::{Client, Error};
use crate::pull_service::connect::{self, Unreachable};
use crate::store::pull::PullDevice;
use crate::store::DynStore;

/// How long a lease taken for a sync lasts (a sync of thousands of faces takes minutes).
const SYNC_LEASE: Duration = Duration::from_secs(30 * 60);

enum Session {
    Borrowed(Loan),
    Direct(Client),
    Leased { client: Client, holder: String, store: DynStore },
}

/// A pull device held for an area sync.
pub struct PullAreaDevice {
    id: DeviceId,
    label: String,
    addr: String,
    session: Option<Session>,
}

/// Reaches the device for a sync (see the module doc); `Err` says why not, in words.
pub async fn open(core: &Core, device: &PullDevice, reply_timeout: Duration) -> Result<Box<dyn AreaDevice>, String> {
    let addr = format!("{}:{}", device.host, device.port);
    let label = device.name.clone().unwrap_or_else(|| addr.clone());
    if let Some(lent) = core.sessions.borrow(device.id).await {
        let loan = lent?;
        return Ok(Box::new(PullAreaDevice { id: device.id, label, addr, session: Some(Session::Borrowed(loan)) }));
    }
    let store = &core.store;
    let now = core.clock.now();
    if let Some(holder) = store.lease_holder(device.id, now).await.map_err(|e| format!("storage: {e}"))? {
        return Err(format!("its session is held by another instance ({holder}); it takes part in the next run"));
    }
    let holder = format!("area-sync:{:08x}", rand::random::<u32>());
    let until = now + chrono::Duration::from_std(SYNC_LEASE).unwrap_or_default();
    if !store.try_lease(device.id, &holder, now, until).await.map_err(|e| format!("storage: {e}"))? {
        return Err("another instance took its session just now; it takes part in the next run".into());
    }
    let connected = async {
        let opts = connect::options(device, &core.cipher, reply_timeout, 2).await.map_err(|Unreachable(m)| m)?;
        Client::connect(opts).await.map_err(|e| connect::explain(&e, &addr))
    }
    .await;
    match connected {
        Ok(client) => {
            let session = Session::Leased { client, holder, store: store.clone() };
            Ok(Box::new(PullAreaDevice { id: device.id, label, addr, session: Some(session) }))
        }
        Err(e) => {
            let _ = store.release_lease(device.id, &holder).await;
            Err(e)
        }
    }
}

impl PullAreaDevice {
    /// A device reached directly, without a server (`ironclock pull sync`): `id` numbers it in
    /// the report.
    pub fn direct(id: DeviceId, addr: String, client: Client) -> Self {
        Self { id, label: addr.clone(), addr, session: Some(Session::Direct(client)) }
    }

    fn client(&mut self) -> Access<&mut Client> {
        match self.session.as_mut() {
            Some(Session::Borrowed(loan)) => Ok(&mut loan.client),
            Some(Session::Direct(client)) => Ok(client),
            Some(Session::Leased { client, .. }) => Ok(client),
            None => Err(AccessError::Device("the session is closed".into())),
        }
    }

    fn fail(&self, e: Error) -> AccessError {
        match e {
            Error::Unsupported { .. } => AccessError::Unsupported,
            Error::Conflict(m) => AccessError::Item(m),
            e @ Error::Refused { .. } => AccessError::Item(e.to_string()),
            e => AccessError::Device(connect::explain(&e, &self.addr)),
        }
    }
}

fn spec(u: &AreaUser) -> UserSpec {
    UserSpec {
        user_id: u.pin.clone(),
        name: u.name.clone(),
        privilege: u.privilege,
        password: u.password.clone(),
        card: u.card,
        group: u.group,
    }
}

#[async_trait]
impl AreaDevice for PullAreaDevice {
    fn id(&self) -> DeviceId {
        self.id
    }

    fn label(&self) -> String {
        self.label.clone()
    }

    async fn counts(&mut self) -> Access<DeviceCounts> {
        let info = self.client()?.info().await;
        let info = info.map_err(|e| self.fail(e))?;
        Ok(DeviceCounts {
            users: i64::from(info.sizes.users),
            fingerprints: i64::from(info.sizes.fingers),
            faces: i64::from(info.sizes.faces.unwrap_or(0)),
            fp_version: info.fp_version.map(|v| v.to_string()),
            face_version: info.face_enabled.then_some(info.face_version).flatten().map(|v| v.to_string()),
            faceless_reason: None,
        })
    }

    async fn users(&mut self) -> Access<Vec<AreaUser>> {
        let users = self.client()?.read_users().await.map_err(|e| self.fail(e))?;
        Ok(users
            .into_iter()
            .map(|u| AreaUser {
                pin: u.user_id,
                name: u.name,
                privilege: u.privilege,
                password: u.password,
                card: u.card,
                group: u.group,
            })
            .collect())
    }

    async fn fingers(&mut self) -> Access<Vec<AreaFinger>> {
        let client = self.client()?;
        let users = client.read_users().await;
        let users = users.map_err(|e| self.fail(e))?;
        let templates = self.client()?.read_templates().await.map_err(|e| self.fail(e))?;
        let pin_of: std::collections::HashMap<u16, String> = users.into_iter().map(|u| (u.uid, u.user_id)).collect();
        Ok(templates
            .into_iter()
            .filter_map(|t| {
                let pin = pin_of.get(&t.uid)?.clone();
                Some(AreaFinger { pin, finger: t.finger, flag: t.flag, data: t.data })
            })
            .collect())
    }

    async fn faces(&mut self, pin: &str) -> Access<Option<Vec<u8>>> {
        let read = self.client()?.read_face_blob(pin).await;
        read.map_err(|e| self.fail(e))
    }

    async fn photo(&mut self, pin: &str) -> Access<Option<Vec<u8>>> {
        let read = self.client()?.read_photo(pin).await;
        read.map_err(|e| self.fail(e))
    }

    async fn lock(&mut self) -> Access<()> {
        let done = self.client()?.disable(Duration::from_secs(120)).await;
        done.map_err(|e| self.fail(e))
    }

    async fn unlock(&mut self) -> Access<()> {
        let done = self.client()?.enable().await;
        done.map_err(|e| self.fail(e))
    }

    async fn write_users(&mut self, users: &[AreaUser]) -> Access<Vec<Option<String>>> {
        let specs: Vec<UserSpec> = users.iter().map(spec).collect();
        let written = self.client()?.upsert_users_batched(&specs).await.map_err(|e| self.fail(e))?;
        Ok(written.into_iter().map(|r| r.err().map(|e| e.to_string())).collect())
    }

    async fn write_fingers(&mut self, fingers: &[AreaFinger]) -> Access<()> {
        let uploads: Vec<TemplateUpload> = fingers
            .iter()
            .map(|f| TemplateUpload { user_id: f.pin.clone(), finger: f.finger, flag: f.flag, data: f.data.clone() })
            .collect();
        let done = self.client()?.write_templates(&uploads).await;
        done.map_err(|e| self.fail(e))
    }

    async fn write_faces(&mut self, pin: &str, records: &[u8]) -> Access<()> {
        let done = self.client()?.write_faces(pin, records).await;
        done.map_err(|e| self.fail(e))
    }

    async fn write_photo(&mut self, pin: &str, jpeg: &[u8]) -> Access<()> {
        let done = self.client()?.write_photo(pin, jpeg).await;
        done.map_err(|e| self.fail(e))
    }

    async fn delete_user(&mut self, pin: &str) -> Access<bool> {
        let done = self.client()?.delete_user(pin).await;
        done.map_err(|e| self.fail(e))
    }

    async fn finish(mut self: Box<Self>, healthy: bool) {
        match self.session.take() {
            Some(Session::Borrowed(loan)) => loan.give_back(healthy),
            Some(Session::Direct(client)) => {
                let _ = client.close().await;
            }
            Some(Session::Leased { client, holder, store }) => {
                let _ = client.close().await;
                if let Err(e) = store.release_lease(self.id, &holder).await {
                    tracing::warn!(device = self.id.0, error = %e, "area sync: lease not released; it expires");
                }
            }
            None => {}
        }
    }
}
