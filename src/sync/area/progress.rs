//! Live progress of an area sync: the phase (counting, reading, writing, reading back), devices
//! done of the phase's total, items written of the plan's total, and an ETA of the phase from its
//! measured rate. A run reports to the [`ProgressSink`] of its options (the CLI's progress bars;
//! the server's `job_executions` row, see `run`) through a [`Tracker`] the steps call at their
//! boundaries. PURE apart from the clock it reads.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::plan::Writes;

/// Where a run is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading each device's counts.
    #[default]
    Counting,
    /// Reading users, fingerprints, faces and photos.
    Reading,
    /// Writing each device's share of the plan (and reading each back when its writes end).
    Writing,
    /// Every write sent; devices are being read back.
    ReadingBack,
    /// The run ended.
    Done,
}

/// A snapshot of a run's progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AreaProgress {
    pub phase: Phase,
    /// Devices through the current phase.
    pub devices_done: usize,
    /// Devices taking part in the current phase.
    pub devices_total: usize,
    /// Items (removals, users, fingerprints, faces, photos) written so far.
    pub items_written: usize,
    /// Items the plan writes (known from the writing phase on; 0 before).
    pub items_total: usize,
    /// Since the run started.
    pub elapsed_ms: u64,
    /// Seconds until the current phase ends, from its measured rate (items while writing,
    /// devices otherwise); `None` until something was measured.
    pub eta_seconds: Option<u64>,
}

type SinkFn = dyn Fn(&AreaProgress) + Send + Sync;

/// Receives every change of a run's progress (called on the run's task; keep it quick).
#[derive(Clone, Default)]
pub struct ProgressSink(Option<Arc<SinkFn>>);

impl ProgressSink {
    pub fn new(f: impl Fn(&AreaProgress) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(f)))
    }

    /// This sink, then `then`.
    pub fn and(&self, then: impl Fn(&AreaProgress) + Send + Sync + 'static) -> Self {
        let first = self.0.clone();
        Self::new(move |p| {
            if let Some(f) = &first {
                f(p);
            }
            then(p);
        })
    }

    fn send(&self, p: &AreaProgress) {
        if let Some(f) = &self.0 {
            f(p);
        }
    }
}

impl fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "ProgressSink(..)" } else { "ProgressSink(none)" })
    }
}

/// Seconds left for `total - done` at the rate measured over `elapsed_s` (None before the first).
pub fn eta(done: usize, total: usize, elapsed_s: f64) -> Option<u64> {
    if done >= total {
        return Some(0);
    }
    if done == 0 || elapsed_s <= 0.0 {
        return None;
    }
    Some(((total - done) as f64 * elapsed_s / done as f64).ceil() as u64)
}

/// Items a device's share of the plan writes.
pub fn items(w: &Writes) -> usize {
    w.delete.len() + w.users.len() + w.fingers.len() + w.faces.len() + w.photos.len()
}

struct State {
    now: AreaProgress,
    started: Instant,
    phase_started: Instant,
    devices_written: usize,
}

/// A run's progress, shared by its steps (cheap to clone).
#[derive(Clone)]
pub struct Tracker {
    state: Arc<Mutex<State>>,
    sink: ProgressSink,
}

impl Tracker {
    pub fn new(sink: ProgressSink) -> Self {
        let now = Instant::now();
        let state = State { now: AreaProgress::default(), started: now, phase_started: now, devices_written: 0 };
        Self { state: Arc::new(Mutex::new(state)), sink }
    }

    /// A phase starts over `devices` devices (and `items` to write, for the writing phase).
    pub fn phase(&self, phase: Phase, devices: usize, items: usize) {
        self.update(|s| {
            s.phase_started = Instant::now();
            s.devices_written = 0;
            s.now.phase = phase;
            s.now.devices_done = 0;
            s.now.devices_total = devices;
            if phase == Phase::Writing {
                s.now.items_total = items;
                s.now.items_written = 0;
            }
        });
    }

    /// A device is through the current phase.
    pub fn device_done(&self) {
        self.update(|s| s.now.devices_done += 1);
    }

    /// `n` more items to write (faces and photos, planned once they were read).
    pub fn more_items(&self, n: usize) {
        if n > 0 {
            self.update(|s| s.now.items_total += n);
        }
    }

    /// `n` items written (or refused: they are through the writing either way).
    pub fn wrote(&self, n: usize) {
        if n > 0 {
            self.update(|s| s.now.items_written += n);
        }
    }

    /// A device sent all its writes (its read-back starts); when all have, the phase is
    /// [`Phase::ReadingBack`].
    pub fn writes_sent(&self) {
        self.update(|s| {
            s.devices_written += 1;
            if s.now.phase == Phase::Writing && s.devices_written >= s.now.devices_total {
                s.now.phase = Phase::ReadingBack;
            }
        });
    }

    /// The run ended.
    pub fn done(&self) {
        self.update(|s| {
            s.now.phase = Phase::Done;
            s.now.devices_done = s.now.devices_total;
        });
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> AreaProgress {
        self.state.lock().map(|s| s.now.clone()).unwrap_or_default()
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let snap = {
            let Ok(mut s) = self.state.lock() else { return };
            f(&mut s);
            let phase_s = s.phase_started.elapsed().as_secs_f64();
            s.now.elapsed_ms = u64::try_from(s.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            s.now.eta_seconds = match s.now.phase {
                Phase::Done => Some(0),
                Phase::Writing if s.now.items_total > 0 => eta(s.now.items_written, s.now.items_total, phase_s),
                _ => eta(s.now.devices_done, s.now.devices_total, phase_s),
            };
            s.now.clone()
        };
        self.sink.send(&snap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eta_follows_the_measured_rate() {
        assert_eq!(eta(0, 10, 3.0), None, "nothing measured yet");
        assert_eq!(eta(25, 100, 5.0), Some(15), "25 in 5 s: 75 more take 15 s");
        assert_eq!(eta(1, 3, 0.5), Some(1));
        assert_eq!(eta(10, 10, 9.0), Some(0));
    }

    #[test]
    fn the_tracker_reports_every_step_to_its_sink() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let t = Tracker::new(ProgressSink::default().and(move |p| into.lock().unwrap().push(p.clone())));
        t.phase(Phase::Counting, 2, 0);
        t.device_done();
        t.phase(Phase::Writing, 2, 10);
        t.wrote(4);
        t.writes_sent();
        assert_eq!(t.snapshot().phase, Phase::Writing, "one device of two still writing");
        t.wrote(6);
        t.writes_sent();
        let now = t.snapshot();
        assert_eq!(
            (now.phase, now.items_written, now.items_total, now.eta_seconds),
            (Phase::ReadingBack, 10, 10, None),
            "no device read back yet: nothing measured"
        );
        t.done();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 8);
        assert_eq!((seen[1].phase, seen[1].devices_done, seen[1].devices_total), (Phase::Counting, 1, 2));
        assert_eq!(seen.last().unwrap().phase, Phase::Done);
    }
}
