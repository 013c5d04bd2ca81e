//! The realtime reconnect policy, PURE: back-off from 5 s doubling to 300 s, an alert after 5
//! consecutive failures, and realtime switched off after 24 hours of failure (it comes back
//! when a poll or a connection succeeds).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The policy's numbers (configurable so tests need not wait minutes).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// Consecutive failures after which an alert is raised.
    pub alert_after: i32,
    /// Failing this long switches realtime off.
    pub disable_after: chrono::Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            max: Duration::from_secs(300),
            alert_after: 5,
            disable_after: chrono::Duration::hours(24),
        }
    }
}

/// What to do after the `failures`-th consecutive failure (counting from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterFailure {
    /// Wait this long before the next attempt.
    pub wait: Duration,
    /// Raise the alert now (exactly once, at the threshold).
    pub alert: bool,
    /// Switch realtime off, with this reason.
    pub disable: Option<String>,
}

impl Backoff {
    /// The wait after `failures` failures: `first`, doubling, at most `max`.
    pub fn wait(&self, failures: i32) -> Duration {
        let doublings = failures.saturating_sub(1).clamp(0, 16) as u32;
        self.first.saturating_mul(1 << doublings).min(self.max)
    }

    /// Decides after a failure; `failing_since` is when the run of failures began.
    pub fn after_failure(
        &self,
        failures: i32,
        failing_since: DateTime<Utc>,
        now: DateTime<Utc>,
        last_error: &str,
    ) -> AfterFailure {
        let disable = (now - failing_since >= self.disable_after).then(|| {
            format!(
                "no realtime connection for {} hours ({failures} attempts; last: {last_error}); \
                 switched back on by the next successful poll or connection",
                self.disable_after.num_hours()
            )
        });
        AfterFailure { wait: self.wait(failures), alert: failures == self.alert_after, disable }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_from_five_seconds_to_five_minutes() {
        let b = Backoff::default();
        let waits: Vec<u64> = (1..=9).map(|n| b.wait(n).as_secs()).collect();
        assert_eq!(waits, vec![5, 10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn the_fifth_failure_alerts_once_and_a_day_of_failure_switches_realtime_off() {
        let b = Backoff::default();
        let start: DateTime<Utc> = "2026-12-01T08:00:00Z".parse().unwrap();
        let early = b.after_failure(5, start, start + chrono::Duration::minutes(10), "refused");
        assert!(early.alert && early.disable.is_none());
        assert!(!b.after_failure(6, start, start, "refused").alert);
        let late = b.after_failure(300, start, start + chrono::Duration::hours(24), "refused");
        assert!(late.disable.unwrap().contains("24 hours"));
    }
}
