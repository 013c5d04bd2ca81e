//! The pull service's settings: the configuration's (`IRONCLOCK_PULL_*`) and the fixed
//! intervals, all in one place so that tests can shorten them.

use std::time::Duration;

use chrono_tz::Tz;

use super::backoff::Backoff;

#[derive(Debug, Clone)]
pub struct PullSettings {
    /// Collections and command runs at once (`IRONCLOCK_PULL_CONCURRENCY`, default 4).
    pub concurrency: usize,
    /// How long a lease lasts without renewal; a dead holder's devices are taken over after it.
    pub lease_ttl: Duration,
    /// How often an actor renews its lease.
    pub lease_renew: Duration,
    /// How often the supervisor looks for devices to take (and takes over expired leases).
    pub scan_every: Duration,
    /// Each reply waited for at most this long (a connection test answers within 10 s).
    pub reply_timeout: Duration,
    /// Extra attempts after a reply timeout.
    pub retries: u32,
    /// Longest wait for live events before the actor looks at its mailbox again.
    pub event_wait: Duration,
    /// Facts (serial, firmware, counters) are refreshed this often on an open session.
    pub facts_every: Duration,
    /// After a failed collection, retries after these delays (then the schedule takes over).
    pub retry_after: Vec<Duration>,
    /// Realtime reconnect policy.
    pub backoff: Backoff,
    /// Zone of devices with no zone of their own or of their school.
    pub default_timezone: Tz,
    /// Longest a scheduled collection of one device may take.
    pub collect_timeout: Duration,
    /// A device's queue is looked at this often without a wake-up (commands held back by quiet
    /// hours become deliverable; `sent` writes of a failed session time out and are re-sent).
    pub claim_every: Duration,
}

impl Default for PullSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            lease_ttl: Duration::from_secs(30),
            lease_renew: Duration::from_secs(10),
            scan_every: Duration::from_secs(10),
            reply_timeout: Duration::from_secs(4),
            retries: 1,
            event_wait: Duration::from_millis(250),
            facts_every: Duration::from_secs(300),
            retry_after: vec![Duration::from_secs(300), Duration::from_secs(600), Duration::from_secs(1200)],
            backoff: Backoff::default(),
            default_timezone: chrono_tz::UTC,
            collect_timeout: Duration::from_secs(600),
            claim_every: Duration::from_secs(30),
        }
    }
}
