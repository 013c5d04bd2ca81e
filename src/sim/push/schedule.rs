//! When a simulated device talks to the server, like firmware: polls every `Delay` seconds with
//! jitter (units boot at different moments and their clocks drift, so polls never arrive in
//! lockstep), a pause of `ErrorDelay` after a failed request (push.md 2.4: the option block's
//! ErrorDelay, 30 s from ironclock), and an optional network outage during which the device
//! keeps taking punches but cannot reach the server, then sends its backlog in bursts.

use std::time::Duration;

use rand::Rng;

use super::SimPushArgs;

/// Fallback `ErrorDelay` when the server's option block did not name one (push.md 2.4 default).
const DEFAULT_ERROR_DELAY: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Schedule {
    poll: Duration,
    boot_spread: Duration,
    jitter: f64,
    error_delay: Option<Duration>,
    outage: Option<(Duration, Duration)>,
}

impl Schedule {
    pub fn from_args(args: &SimPushArgs) -> Self {
        let outage = (args.outage_secs > 0)
            .then(|| (Duration::from_secs(args.outage_at_secs), Duration::from_secs(args.outage_secs)));
        Self {
            poll: Duration::from_millis(args.poll_interval_ms),
            boot_spread: Duration::from_millis(args.boot_spread_ms.unwrap_or(args.poll_interval_ms)),
            jitter: f64::from(args.poll_jitter_pct.min(100)) / 100.0,
            error_delay: args.error_delay_ms.map(Duration::from_millis),
            outage,
        }
    }

    /// When the device boots (handshakes) after start: anywhere within the boot spread.
    pub fn boot(&self, rng: &mut impl Rng) -> Duration {
        self.boot_spread.mul_f64(rng.gen_range(0.0..=1.0))
    }

    /// When the first poll is due after start: anywhere within one interval.
    pub fn first_poll(&self, rng: &mut impl Rng) -> Duration {
        self.poll.mul_f64(rng.gen_range(0.0..=1.0))
    }

    /// The gap to the next poll: the interval ± the jitter.
    pub fn next_poll_gap(&self, rng: &mut impl Rng) -> Duration {
        if self.jitter == 0.0 {
            return self.poll;
        }
        self.poll.mul_f64(rng.gen_range(1.0 - self.jitter..=1.0 + self.jitter))
    }

    /// How long to wait after a failed request: the `--error-delay-ms` override, else the
    /// `ErrorDelay` of the server's option block, else 30 s.
    pub fn error_delay(&self, announced: Option<Duration>) -> Duration {
        self.error_delay.or(announced).unwrap_or(DEFAULT_ERROR_DELAY)
    }

    /// Whether the device is cut off from the server `elapsed` after the start.
    pub fn offline(&self, elapsed: Duration) -> bool {
        self.outage.is_some_and(|(at, len)| elapsed >= at && elapsed < at + len)
    }
}

/// `ErrorDelay=<seconds>` from an option block, if present and numeric.
pub fn announced_error_delay(options: &str) -> Option<Duration> {
    options
        .lines()
        .find_map(|l| l.trim().strip_prefix("ErrorDelay="))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn schedule(jitter: u32, outage: Option<(u64, u64)>) -> Schedule {
        Schedule {
            poll: Duration::from_secs(5),
            boot_spread: Duration::from_secs(5),
            jitter: f64::from(jitter) / 100.0,
            error_delay: None,
            outage: outage.map(|(a, l)| (Duration::from_secs(a), Duration::from_secs(l))),
        }
    }

    #[test]
    fn poll_gaps_stay_within_the_jitter_and_are_not_all_equal() {
        let s = schedule(20, None);
        let mut rng = StdRng::seed_from_u64(7);
        let gaps: Vec<Duration> = (0..200).map(|_| s.next_poll_gap(&mut rng)).collect();
        assert!(gaps.iter().all(|g| *g >= Duration::from_secs(4) && *g <= Duration::from_secs(6)));
        assert!(
            gaps.iter().any(|g| *g < Duration::from_millis(4500))
                && gaps.iter().any(|g| *g > Duration::from_millis(5500))
        );
        assert_eq!(schedule(0, None).next_poll_gap(&mut rng), Duration::from_secs(5));
    }

    #[test]
    fn devices_boot_spread_over_the_boot_window_or_all_at_once() {
        let mut rng = StdRng::seed_from_u64(11);
        let s = schedule(20, None);
        let boots: Vec<Duration> = (0..500).map(|_| s.boot(&mut rng)).collect();
        assert!(boots.iter().all(|b| *b <= Duration::from_secs(5)));
        assert!(boots.iter().any(|b| *b < Duration::from_secs(1)) && boots.iter().any(|b| *b > Duration::from_secs(4)));
        let storm = Schedule { boot_spread: Duration::ZERO, ..schedule(20, None) };
        assert!((0..50).all(|_| storm.boot(&mut rng) == Duration::ZERO));
        // The CLI default is one poll interval.
        let args = SimPushArgs { poll_interval_ms: 2000, ..SimPushArgs::new("http://127.0.0.1:1") };
        assert_eq!(Schedule::from_args(&args).boot_spread, Duration::from_secs(2));
        let args = SimPushArgs { boot_spread_ms: Some(0), ..args };
        assert_eq!(Schedule::from_args(&args).boot_spread, Duration::ZERO);
    }

    #[test]
    fn the_error_delay_comes_from_the_override_then_the_option_block_then_the_default() {
        let mut s = schedule(0, None);
        assert_eq!(s.error_delay(None), Duration::from_secs(30));
        let block = "GET OPTION FROM: X\nATTLOGStamp=9999\nErrorDelay=12\nDelay=5\n";
        assert_eq!(s.error_delay(announced_error_delay(block)), Duration::from_secs(12));
        s.error_delay = Some(Duration::from_millis(100));
        assert_eq!(s.error_delay(announced_error_delay(block)), Duration::from_millis(100));
        assert_eq!(announced_error_delay("ErrorDelay=soon"), None);
    }

    #[test]
    fn the_device_is_offline_only_inside_the_outage_window() {
        let s = schedule(0, Some((10, 5)));
        assert!(!s.offline(Duration::from_secs(9)));
        assert!(s.offline(Duration::from_secs(10)));
        assert!(s.offline(Duration::from_millis(14_999)));
        assert!(!s.offline(Duration::from_secs(15)));
        assert!(!schedule(0, None).offline(Duration::from_secs(10)));
    }
}
