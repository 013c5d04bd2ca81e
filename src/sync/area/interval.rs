//! The area-sync interval a super admin sets on the dashboard's settings page, kept in the
//! `settings` table so it takes effect without a restart: the scheduler ticks every minute and
//! asks [`tick`] whether a run is due.
//!
//! Precedence: `IRONCLOCK_AREA_SYNC_CRON=off` turns the scheduled area sync off on that instance
//! whatever is stored; otherwise a stored interval (`off` or every N minutes) replaces the cron;
//! with nothing stored the cron (`IRONCLOCK_AREA_SYNC_CRON`, hourly by default) decides.

use chrono::{DateTime, Duration, Utc};

use super::run::AreaSyncOptions;
use super::schedule::{sync_every_area, ScheduledRun, AREA_SYNC_LOCK_KEY};
use crate::core::Core;
use crate::store::StoreError;

/// The stored interval (`off` or minutes).
pub const INTERVAL_SETTING: &str = "area_sync.interval";
/// When the last run the interval decided started (RFC 3339), shared by every instance.
pub const LAST_RUN_SETTING: &str = "area_sync.last_interval_run";
/// Shortest and longest interval accepted, in minutes.
pub const MIN_MINUTES: u32 = 5;
pub const MAX_MINUTES: u32 = 7 * 24 * 60;

/// What the settings page stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Off,
    Minutes(u32),
}

impl Interval {
    /// Reads what an admin typed: `off`, or whole minutes between 5 and 10080 (a week). The error
    /// says what is accepted.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("off") {
            return Ok(Interval::Off);
        }
        match raw.parse::<u32>() {
            Ok(m) if (MIN_MINUTES..=MAX_MINUTES).contains(&m) => Ok(Interval::Minutes(m)),
            _ => Err(format!(
                "{raw:?} is not an interval: give whole minutes from {MIN_MINUTES} to {MAX_MINUTES} (a week), or off"
            )),
        }
    }

    /// As stored (and as the form shows it).
    pub fn as_setting(&self) -> String {
        match self {
            Interval::Off => "off".into(),
            Interval::Minutes(m) => m.to_string(),
        }
    }

    /// For people: "every 60 minutes", "off".
    pub fn describe(&self) -> String {
        match self {
            Interval::Off => "off".into(),
            Interval::Minutes(m) => format!("every {m} minutes"),
        }
    }
}

/// The stored interval; `None` when nothing (or something unreadable) is stored.
pub async fn stored(core: &Core) -> Result<Option<Interval>, StoreError> {
    Ok(core.store.get_setting(INTERVAL_SETTING).await?.and_then(|v| Interval::parse(&v).ok()))
}

/// Whether a run is due: never ran, or `minutes` passed since the last (less half a minute, so
/// the minute ticks do not drift a run by a minute).
pub fn due(last: Option<DateTime<Utc>>, minutes: u32, now: DateTime<Utc>) -> bool {
    last.is_none_or(|last| now - last >= Duration::minutes(i64::from(minutes)) - Duration::seconds(30))
}

/// The scheduler's minute tick: runs every area's sync when a stored interval says it is due
/// (one instance at a time: under the area sync's lock). `None`: nothing stored (the cron
/// decides), `off`, not due, or another instance is running it.
pub async fn tick(core: &Core, opts: &AreaSyncOptions) -> Result<Option<ScheduledRun>, StoreError> {
    let Some(Interval::Minutes(minutes)) = stored(core).await? else { return Ok(None) };
    let Some(lock) = core.store.try_job_lock(AREA_SYNC_LOCK_KEY).await? else { return Ok(None) };
    let now = core.clock.now();
    let last = core.store.get_setting(LAST_RUN_SETTING).await?.and_then(|v| v.parse::<DateTime<Utc>>().ok());
    if !due(last, minutes, now) {
        lock.release().await;
        return Ok(None);
    }
    let marked = core.store.put_setting(LAST_RUN_SETTING, &now.to_rfc3339()).await;
    let run = match marked {
        Ok(()) => sync_every_area(core, opts).await,
        Err(e) => Err(e),
    };
    lock.release().await;
    run.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_is_off_or_whole_minutes_in_range() {
        assert_eq!(Interval::parse(" 60 "), Ok(Interval::Minutes(60)));
        assert_eq!(Interval::parse("OFF"), Ok(Interval::Off));
        for bad in ["4", "0", "-5", "1.5", "hourly", "", "10081"] {
            assert!(Interval::parse(bad).unwrap_err().contains("whole minutes from 5"), "{bad}");
        }
        assert_eq!(Interval::Minutes(90).as_setting(), "90");
    }

    #[test]
    fn a_run_is_due_when_the_interval_passed() {
        let now: DateTime<Utc> = "2026-12-03T10:00:00Z".parse().unwrap();
        assert!(due(None, 60, now), "never ran");
        assert!(!due(Some(now - Duration::minutes(59)), 60, now));
        assert!(due(Some(now - Duration::seconds(59 * 60 + 45)), 60, now), "a tick a little early still runs");
        assert!(due(Some(now - Duration::minutes(61)), 60, now));
    }
}
