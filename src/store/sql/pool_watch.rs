//! Waiting for a pooled connection, watched. sqlx warns once per slow acquire, which under load
//! is one log line per request (104,939 lines in one 20,000-device run); its warning is off and
//! slow waits are counted here instead and summarised in at most one line a minute.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A wait for a connection longer than this counts as slow.
pub(super) const SLOW: Duration = Duration::from_millis(500);
/// At most one summary line per this period.
const EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub(super) struct AcquireWatch {
    slow: AtomicU64,
    longest_ms: AtomicU64,
    last_report: Mutex<Option<Instant>>,
}

impl Default for AcquireWatch {
    fn default() -> Self {
        Self { slow: AtomicU64::new(0), longest_ms: AtomicU64::new(0), last_report: Mutex::new(None) }
    }
}

/// What a summary line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SlowWaits {
    pub count: u64,
    pub longest_ms: u64,
}

impl AcquireWatch {
    /// Notes one wait; logs a summary when it is slow and the last summary is a minute old.
    pub fn observe(&self, waited: Duration, pool_size: u32) {
        if let Some(summary) = self.note(waited, Instant::now()) {
            tracing::warn!(
                slow_waits = summary.count,
                longest_ms = summary.longest_ms,
                pool_size,
                "waits for a database connection over {} ms since the last report (at most one line a minute); \
                 the database is slower than the load or the pool is too small (--db-max-connections)",
                SLOW.as_millis()
            );
        }
    }

    /// Counts a slow wait; returns the summary to log when one is due (then starts over).
    fn note(&self, waited: Duration, now: Instant) -> Option<SlowWaits> {
        if waited < SLOW {
            return None;
        }
        self.slow.fetch_add(1, Ordering::Relaxed);
        self.longest_ms.fetch_max(waited.as_millis() as u64, Ordering::Relaxed);
        let mut last = self.last_report.lock().ok()?;
        if last.is_some_and(|at| now.duration_since(at) < EVERY) {
            return None;
        }
        *last = Some(now);
        Some(SlowWaits {
            count: self.slow.swap(0, Ordering::Relaxed),
            longest_ms: self.longest_ms.swap(0, Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_waits_are_summarised_at_most_once_a_minute() {
        let watch = AcquireWatch::default();
        let start = Instant::now();
        assert_eq!(watch.note(Duration::from_millis(10), start), None, "a fast wait is not counted");
        assert_eq!(watch.note(Duration::from_millis(700), start), Some(SlowWaits { count: 1, longest_ms: 700 }));
        for ms in [600, 900, 800] {
            assert_eq!(watch.note(Duration::from_millis(ms), start + Duration::from_secs(1)), None);
        }
        let next = watch.note(Duration::from_millis(550), start + Duration::from_secs(61));
        assert_eq!(next, Some(SlowWaits { count: 4, longest_ms: 900 }));
    }
}
