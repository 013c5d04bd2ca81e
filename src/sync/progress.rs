//! PURE progress of a device's sync: counts, percentage and an estimated finish from the
//! device's measured acknowledgement rate.

use chrono::{DateTime, Utc};

use crate::store::sync::SyncProgress;

/// `recent_acks` is the number of sync commands acknowledged in the last 10 minutes.
pub fn progress(queued: i64, delivered: i64, confirmed: i64, recent_acks: i64, now: DateTime<Utc>) -> SyncProgress {
    let total = queued + delivered + confirmed;
    let percent = if total == 0 { 100.0 } else { (confirmed as f64 * 1000.0 / total as f64).floor() / 10.0 };
    let rate_per_minute = recent_acks as f64 / 10.0;
    let remaining = queued + delivered;
    let estimated_finish = (remaining > 0 && rate_per_minute > 0.0)
        .then(|| now + chrono::Duration::seconds(((remaining as f64 / rate_per_minute) * 60.0).ceil() as i64));
    SyncProgress { queued, delivered, confirmed, percent, rate_per_minute, estimated_finish }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_estimate_follows_the_measured_rate() {
        let now: DateTime<Utc> = "2026-11-23T10:00:00Z".parse().unwrap();
        let p = progress(100, 20, 880, 600, now);
        assert_eq!(p.percent, 88.0);
        assert_eq!(p.rate_per_minute, 60.0);
        assert_eq!(p.estimated_finish, Some(now + chrono::Duration::minutes(2)));
        let idle = progress(0, 0, 0, 0, now);
        assert_eq!((idle.percent, idle.estimated_finish), (100.0, None));
        assert_eq!(progress(5, 0, 0, 0, now).estimated_finish, None, "no rate measured yet");
    }
}
