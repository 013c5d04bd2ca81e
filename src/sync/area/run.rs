//! The area sync itself, a plain async function: reach every device, read counts, choose the
//! primary; stage 1: read users and fingerprints (bulk) and plan the people; stage 2, in each
//! device's lane: read its faces and photos (per user), write its people; then plan the faces
//! and photos and teach the biometric store; stage 3: write faces and photos, read back; report;
//! the run is recorded in `job_executions`. A device failing at any step is reported and left
//! out; the others converge. At most `concurrency` devices are worked on at once in every step.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use futures::FutureExt;

use super::device::{AreaDevice, DeviceCounts};
use super::plan::{self, Holdings, RosterView, Writes};
use super::progress::{self, Phase, ProgressSink, Tracker};
use super::report::{AreaSyncResult, DeviceFailure, PrimaryDevice};
use super::steps::{count_member, media_then_people, media_then_read_back, read_people, Interner, Member};
use crate::core::Core;
use crate::domain::biometric::{face_records, BiometricCopy, BiometricKind, BiometricSource};
use crate::domain::{Device, DeviceId, SchoolId};
use crate::store::admin::JobStatus;
use crate::store::pull::PullDevice;
use crate::store::StoreError;

/// How a run goes.
#[derive(Debug, Clone)]
pub struct AreaSyncOptions {
    /// Devices read or written at once (`IRONCLOCK_AREA_SYNC_CONCURRENCY`, default 2).
    pub concurrency: usize,
    /// How long each device reply is waited for.
    pub reply_timeout: Duration,
    /// Who asked (recorded with the run).
    pub started_by: String,
    /// Receives the run's live progress (the server also keeps it in the run's job row).
    pub progress: ProgressSink,
    /// The area synced (set by [`sync_area`]; recorded with the run).
    pub area_id: Option<i64>,
    /// The device of a single-device sync (set by [`sync_device`]; recorded with the run).
    pub device_id: Option<i64>,
}

impl Default for AreaSyncOptions {
    fn default() -> Self {
        Self {
            concurrency: 2,
            reply_timeout: Duration::from_secs(5),
            started_by: "schedule".into(),
            progress: ProgressSink::default(),
            area_id: None,
            device_id: None,
        }
    }
}

/// Syncs the devices of `area` in `school`: its pull devices in service and its approved push
/// devices (whose writes are queued commands).
pub async fn sync_area(
    core: &Core,
    school: SchoolId,
    area: i64,
    opts: &AreaSyncOptions,
) -> Result<AreaSyncResult, StoreError> {
    // One sync of an area at a time, on every instance: the scheduled run, an admin's click and
    // a handed-off request would otherwise write the same devices at once.
    let Some(lock) = core.store.try_job_lock(area_lock_key(area)).await? else {
        return Ok(AreaSyncResult { error: Some(AREA_BUSY.into()), area_id: Some(area), ..Default::default() });
    };
    let result = sync_area_locked(core, school, area, opts).await;
    lock.release().await;
    result
}

/// The base of the per-area locks (an area's key is this plus its id; the fixed job keys are
/// far below).
const AREA_LOCK_BASE: i64 = 0x1c_10c5_0000_0000;

/// The instance-wide lock of one area's sync.
pub fn area_lock_key(area: i64) -> i64 {
    AREA_LOCK_BASE + area
}

/// What a sync asked for while its area is being synced says (nothing was run).
pub const AREA_BUSY: &str = "a sync of this area is already running (scheduled, or asked for by someone else): \
                             follow it with GET /api/v1/areas/{id}/sync; nothing was started";

async fn sync_area_locked(
    core: &Core,
    school: SchoolId,
    area: i64,
    opts: &AreaSyncOptions,
) -> Result<AreaSyncResult, StoreError> {
    let devices: Vec<PullDevice> = core
        .store
        .pull_devices()
        .await?
        .into_iter()
        .filter(|d| d.area_id == Some(area) && d.school_id == Some(school) && d.in_service())
        .collect();
    let push = super::push::members(core, school, area).await?;
    sync_members(core, school, &devices, &push, false, &AreaSyncOptions { area_id: Some(area), ..opts.clone() }).await
}

/// Syncs one device of `school` (a device in no area; pull: written and read back, push:
/// queued) with the school's roster and the biometric store, which stand in for the other
/// devices (see [`super::single`]): the store is the primary and is never written. The device
/// must be of `school`; a device that is neither pull nor push of the store is an empty run.
pub async fn sync_device(
    core: &Core,
    school: SchoolId,
    device: DeviceId,
    opts: &AreaSyncOptions,
) -> Result<AreaSyncResult, StoreError> {
    let pull: Vec<PullDevice> = core.store.pull_device(device).await?.into_iter().collect();
    let push: Vec<Device> = match pull.is_empty() {
        true => core.store.get_device(device).await?.into_iter().collect(),
        false => Vec::new(),
    };
    sync_members(core, school, &pull, &push, true, &AreaSyncOptions { device_id: Some(device.0), ..opts.clone() }).await
}

/// Syncs `devices` (pull devices of `school`) with each other; records the run.
pub async fn sync_devices(
    core: &Core,
    school: SchoolId,
    devices: &[PullDevice],
    opts: &AreaSyncOptions,
) -> Result<AreaSyncResult, StoreError> {
    sync_members(core, school, devices, &[], false, opts).await
}

async fn sync_members(
    core: &Core,
    school: SchoolId,
    devices: &[PullDevice],
    push: &[Device],
    from_store: bool,
    opts: &AreaSyncOptions,
) -> Result<AreaSyncResult, StoreError> {
    let started = Instant::now();
    let job = core.store.start_job("area_sync", Some(school), Some(&opts.started_by), core.clock.now()).await?;
    let (mut result, ()) = super::live::recorded(core, job, opts, |opts| async move {
        run(core, school, devices, push, from_store, &opts).await
    })
    .await;
    result.job_id = Some(job);
    result.area_id = opts.area_id;
    result.device_id = opts.device_id;
    result.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let summary = serde_json::to_value(&result).unwrap_or_default();
    let status = if result.success { JobStatus::Succeeded } else { JobStatus::Failed };
    core.store.finish_job(job, status, &summary, result.error.as_deref()).await?;
    Ok(result)
}

async fn run(
    core: &Core,
    school: SchoolId,
    devices: &[PullDevice],
    push: &[Device],
    from_store: bool,
    opts: &AreaSyncOptions,
) -> AreaSyncResult {
    let roster = match roster(core, school).await {
        Ok(r) => r,
        Err(e) => {
            return AreaSyncResult { error: Some(format!("reading the roster: {e}")), ..Default::default() };
        }
    };
    let mut opening: Vec<BoxFuture<'_, _>> =
        devices.iter().cloned().map(|d| open_pull(core, d, opts).boxed()).collect();
    opening.extend(push.iter().map(|d| open_push(core, d).boxed()));
    let mut opened: Vec<Result<Box<dyn AreaDevice>, DeviceFailure>> =
        stream::iter(opening).buffer_unordered(opts.concurrency.max(1)).collect().await;
    if from_store {
        match super::single::members(core, school).await {
            Ok(members) => opened.extend(members.into_iter().map(Ok)),
            Err(e) => {
                for dev in opened.into_iter().flatten() {
                    dev.finish(true).await;
                }
                return AreaSyncResult {
                    error: Some(format!("reading the biometric store: {e}")),
                    ..Default::default()
                };
            }
        }
    }
    converge(opened, &roster, Some((core, school)), opts).await
}

/// Loads what ironclock knows a push device holds.
async fn open_push<'a>(core: &'a Core, d: &'a Device) -> Result<Box<dyn AreaDevice>, DeviceFailure> {
    super::push::open(core, d).await.map_err(|error| DeviceFailure {
        device_id: d.id.0,
        device: d.name.clone().unwrap_or_else(|| d.serial_number.clone()),
        error,
    })
}

/// Reaches a pull device of the server.
async fn open_pull(core: &Core, d: PullDevice, opts: &AreaSyncOptions) -> Result<Box<dyn AreaDevice>, DeviceFailure> {
    let label = d.name.clone().unwrap_or_else(|| format!("{}:{}", d.host, d.port));
    super::pull::open(core, &d, opts.reply_timeout).await.map_err(|error| DeviceFailure {
        device_id: d.id.0,
        device: label,
        error,
    })
}

/// The sync over devices already reached (`opened`; those that could not be are reported):
/// counts, primary, reads, plan, writes, read-back. With `store` (the server) the biometric
/// store learns the students' copies; without (the shell tool) nothing is stored.
pub async fn converge(
    opened: Vec<Result<Box<dyn AreaDevice>, DeviceFailure>>,
    roster: &RosterView,
    store: Option<(&Core, SchoolId)>,
    opts: &AreaSyncOptions,
) -> AreaSyncResult {
    let n = opts.concurrency.max(1);
    let expected = opened.len();
    let tracker = Tracker::new(opts.progress.clone());
    let mut result = AreaSyncResult::default();
    let mut reached = Vec::new();
    for o in opened {
        match o {
            Ok(dev) => reached.push(dev),
            Err(f) => result.errors.push(f),
        }
    }
    // Progress counts the devices written to (not the store's read-only members).
    let done = |ro: bool| {
        if !ro {
            tracker.device_done();
        }
    };
    tracker.phase(Phase::Counting, reached.iter().filter(|d| !d.read_only()).count(), 0);
    let counting: Vec<BoxFuture<'_, _>> = reached
        .into_iter()
        .map(|dev| {
            let ro = dev.read_only();
            count_member(dev).inspect(move |_| done(ro)).boxed()
        })
        .collect();
    let counted: Vec<Result<Member, DeviceFailure>> = stream::iter(counting).buffer_unordered(n).collect().await;
    let mut members = Vec::new();
    for c in counted {
        match c {
            Ok(m) => members.push(m),
            Err(f) => result.errors.push(f),
        }
    }
    members.sort_by_key(|m| m.holdings.id);
    if let Some(why) = too_few(&members, expected) {
        result.error = Some(why);
        finish_all(members, &mut result).await;
        tracker.done();
        return result;
    }
    // Stage 1: everyone's users and fingerprints (bulk reads), and the people plan from them.
    tracker.phase(Phase::Reading, members.iter().filter(|m| !m.dev.read_only()).count(), 0);
    let reading: Vec<BoxFuture<'_, Member>> = members
        .into_iter()
        .map(|m| {
            let ro = m.dev.read_only();
            read_people(m).inspect(move |_| done(ro)).boxed()
        })
        .collect();
    members = stream::iter(reading).buffer_unordered(n).collect().await;
    members.sort_by_key(|m| m.holdings.id);
    let (live, failed): (Vec<Member>, Vec<Member>) = members.into_iter().partition(|m| m.failed.is_none());
    finish_all(failed, &mut result).await;
    if too_few(&live, live.len()).is_some() {
        result.error = Some("fewer than two devices could be read; nothing was written".into());
        finish_all(live, &mut result).await;
        tracker.done();
        return result;
    }
    let counts: Vec<(DeviceId, &DeviceCounts)> = live.iter().map(|m| (m.holdings.id, &m.holdings.counts)).collect();
    let read_only: Vec<bool> = live.iter().map(|m| m.dev.read_only()).collect();
    // The store, when it takes part, is the primary; else the device with the most.
    let primary = read_only.iter().position(|&r| r).or_else(|| plan::primary(&counts)).unwrap_or(0);
    let p = &live[primary].holdings;
    result.primary_device = Some(PrimaryDevice {
        id: p.id.0,
        name: p.label.clone(),
        users: p.counts.users,
        templates: p.counts.fingerprints,
    });
    let people: Vec<Writes> = {
        let holdings: Vec<Holdings> = live.iter().map(|m| m.holdings.clone()).collect();
        let mut planned = plan::plan(&holdings, primary, roster);
        for (w, &ro) in planned.writes.iter_mut().zip(&read_only) {
            *w = match ro {
                true => Writes::default(),
                false => Writes { faces: Vec::new(), photos: Vec::new(), ..std::mem::take(w) },
            };
        }
        planned.writes
    };
    // Stage 2, per device, longest lane first: its faces and photos read, then its people
    // written (see `steps::media_then_people`).
    tracker.phase(Phase::Writing, read_only.iter().filter(|&&r| !r).count(), people.iter().map(progress::items).sum());
    let blobs = Interner::default();
    let primary_id = live[primary].holdings.id;
    let mut lanes: Vec<(usize, Member, Writes)> =
        live.into_iter().zip(people).map(|(m, w)| (lane_cost(&m, &w), m, w)).collect();
    lanes.sort_by_key(|(cost, m, _)| (std::cmp::Reverse(*cost), m.holdings.id));
    let staged: Vec<BoxFuture<'_, (Member, Writes)>> =
        lanes.into_iter().map(|(_, m, w)| media_then_people(m, blobs.clone(), w, &tracker).boxed()).collect();
    let staged: Vec<(Member, Writes)> = stream::iter(staged).buffer_unordered(n).collect().await;
    // A device that failed in stage 2 is reported and left out of the rest (its faces and
    // photos may be half read); the others go on.
    let (mut staged, failed): (Vec<_>, Vec<_>) = staged.into_iter().partition(|(m, _)| m.failed.is_none());
    for _ in &failed {
        tracker.writes_sent();
        tracker.device_done();
    }
    finish_all(failed.into_iter().map(|(m, _)| m).collect(), &mut result).await;
    staged.sort_by_key(|(m, _)| m.holdings.id);
    let (live, people): (Vec<Member>, Vec<Writes>) = staged.into_iter().unzip();
    let read_only: Vec<bool> = live.iter().map(|m| m.dev.read_only()).collect();
    let counts: Vec<(DeviceId, &DeviceCounts)> = live.iter().map(|m| (m.holdings.id, &m.holdings.counts)).collect();
    let primary = live
        .iter()
        .position(|m| m.holdings.id == primary_id)
        .or_else(|| read_only.iter().position(|&r| r))
        .or_else(|| plan::primary(&counts))
        .unwrap_or(0);
    // The full plan, now with faces and photos (its people part is stage 1's: the holdings'
    // users and fingerprints are those read then).
    let holdings: Vec<Holdings> = live.iter().map(|m| m.holdings.clone()).collect();
    let mut planned = plan::plan(&holdings, primary, roster);
    if let Some((core, school)) = store {
        result.biometrics_stored = learn(core, school, &holdings, &read_only, primary, roster).await;
    }
    // A read-only member is never written, nor reported on.
    for (w, _) in planned.writes.iter_mut().zip(&read_only).filter(|(_, &r)| r) {
        *w = plan::Writes::default();
    }
    planned.skipped.retain(|s| !holdings.iter().zip(&read_only).any(|(h, &r)| r && h.id.0 == s.device_id));
    result.skipped = planned.skipped.clone();
    result.conflicts = planned.conflicts.clone();
    result.adoptable = planned.adoptable.clone();
    tracker.more_items(planned.writes.iter().map(|w| w.faces.len() + w.photos.len()).sum());
    // Stage 3: faces and photos written, then everything written read back.
    let finishing: Vec<BoxFuture<'_, Member>> = live
        .into_iter()
        .zip(planned.writes)
        .zip(people)
        .map(|((m, w), people)| match m.dev.read_only() {
            true => futures::future::ready(m).boxed(),
            false => {
                let media = Writes { faces: w.faces.clone(), photos: w.photos.clone(), ..Default::default() };
                let all = Writes { faces: w.faces, photos: w.photos, ..people };
                media_then_read_back(m, media, all, &tracker).boxed()
            }
        })
        .collect();
    let mut live: Vec<Member> = stream::iter(finishing).buffer_unordered(n).collect().await;
    live.sort_by_key(|m| m.holdings.id);
    finish_all(live, &mut result).await;
    if result.error.is_none() && !result.errors.is_empty() {
        result.error = Some(format!(
            "{} device(s) failed; they are retried on the next run, the others converged",
            result.errors.len()
        ));
    }
    result.success = result.error.is_none();
    tracker.done();
    result
}

/// Round trips a device's stage-2 lane takes, roughly: a face and a photo request per user
/// held, the people written (a fingerprint is about one 1 KiB upload frame, a user a
/// fourteenth of one, a removal a few requests). Lanes start longest first, so that the
/// longest does not start last.
fn lane_cost(m: &Member, w: &Writes) -> usize {
    let per_user = 1 + usize::from(m.holdings.counts.face_version.is_some() && m.holdings.counts.faces > 0);
    m.holdings.users.len() * per_user + w.users.len() / 14 + w.fingers.len() + 4 * w.delete.len()
}

/// Ends every member's use of its device and adds its figures to the result.
async fn finish_all(members: Vec<Member>, result: &mut AreaSyncResult) {
    for m in members {
        let Member { dev, line, failed, not_taken, .. } = m;
        if dev.read_only() {
            dev.finish(true).await;
            continue;
        }
        dev.finish(failed.is_none()).await;
        if line.queued {
            result.users_queued += line.users_written;
            result.removals_queued += line.users_removed;
            result.templates_queued += line.fingerprints_written;
            result.faces_queued += line.faces_written;
            result.photos_queued += line.photos_written;
        } else {
            result.total_users_synced += line.users_written;
            result.users_removed += line.users_removed;
            result.total_templates_synced += line.fingerprints_written;
            result.face_templates_synced += line.faces_written;
            result.photos_synced += line.photos_written;
        }
        result.not_taken.extend(not_taken);
        match failed {
            Some(error) => {
                result.errors.push(DeviceFailure { device_id: line.device_id, device: line.device.clone(), error })
            }
            None => result.synced_devices += 1,
        }
        result.devices.push(line);
    }
}

/// Why the members reached cannot sync, if so: two devices at least, or with read-only members
/// (the store) one writable device at least.
fn too_few(members: &[Member], expected: usize) -> Option<String> {
    let writable = members.iter().filter(|m| !m.dev.read_only()).count();
    if writable < members.len() {
        return (writable == 0).then(|| "the device could not be reached; nothing was written".to_string());
    }
    (members.len() < 2).then(|| {
        format!("an area sync needs at least two reachable devices; {} of {} answered", members.len(), expected)
    })
}

async fn roster(core: &Core, school: SchoolId) -> Result<RosterView, StoreError> {
    let mut view = RosterView::default();
    for s in core.store.roster_standing(school).await? {
        if s.deleted || !s.active {
            view.removed.insert(s.pin);
        } else {
            view.students.insert(s.pin);
        }
    }
    // A PIN deleted once and given again is not possible (PINs are never reused), but be sure.
    view.removed.retain(|pin| !view.students.contains(pin));
    Ok(view)
}

/// Keeps the students' copies in the biometric store (the preferred holder's copy of each). A
/// read-only member (the store itself) is not saved again, but its copies win over the devices'.
async fn learn(
    core: &Core,
    school: SchoolId,
    devices: &[Holdings],
    read_only: &[bool],
    primary: usize,
    roster: &RosterView,
) -> usize {
    let mut order: Vec<usize> = (0..devices.len()).collect();
    order.sort_by_key(|&i| (i != primary, devices[i].id.0));
    let mut seen = std::collections::HashSet::new();
    let mut stored = 0;
    for i in order {
        let d = &devices[i];
        let mut copies = Vec::new();
        let mut add = |copy: BiometricCopy| {
            let key = (copy.pin.clone(), copy.kind, copy.slot, copy.version.clone());
            if roster.students.contains(&copy.pin) && seen.insert(key) {
                copies.push(copy.seal(&core.cipher));
            }
        };
        if let Some(v) = &d.counts.fp_version {
            for f in d.fingers.values() {
                let (kind, slot, version, flag) = (BiometricKind::Finger, f.finger, Some(v.clone()), f.flag);
                add(BiometricCopy { pin: f.pin.clone(), kind, slot, version, flag, records: 1, data: f.data.clone() });
            }
        }
        if let Some(v) = &d.counts.face_version {
            for (pin, blob) in &d.faces {
                let (kind, version, records) = (BiometricKind::Face, Some(v.clone()), face_records(blob));
                add(BiometricCopy { pin: pin.clone(), kind, slot: 0, version, flag: 1, records, data: blob.to_vec() });
            }
        }
        for (pin, jpeg) in d.photos.iter().flatten() {
            let (kind, version) = (BiometricKind::Photo, Some(String::new()));
            add(BiometricCopy { pin: pin.clone(), kind, slot: 0, version, flag: 1, records: 1, data: jpeg.to_vec() });
        }
        if read_only[i] {
            continue;
        }
        let source = BiometricSource { device: Some(d.id), via: "area_sync" };
        match core.store.save_biometrics(school, source, &copies, core.clock.now()).await {
            Ok(n) => stored += n,
            Err(e) => tracing::warn!(device = d.id.0, error = %e, "area sync: biometric store not updated"),
        }
    }
    stored
}
