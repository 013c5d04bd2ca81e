//! PURE: the login throttle's rules. Attempts are counted per account (email) and per client
//! address BEFORE the password is checked, so a burst of parallel guesses gets no more checks
//! than the limit. Past the account's limit every further attempt is spaced by a back-off that
//! doubles up to a cap (a stranger can keep an admin waiting at most the cap, never locked out
//! for long); past the address's limit that address waits for its window to end. A successful
//! login clears the account and gives the address its attempt back.
//!
//! The counts are kept in the database (`login_counts`, by keyed hashes of the lower-case email
//! and of the address, `AuthKeys::login_key`), read and written under a row lock, so instances
//! sharing one database share the limits.

use chrono::{DateTime, Duration, Utc};

/// Limits: attempts allowed for one account before the back-off, and per address per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    pub per_account: u32,
    pub per_ip: u32,
    /// The address window; also how long an idle account's count is remembered.
    pub window: Duration,
    /// The account's first wait after its limit; each further attempt doubles it…
    pub backoff_first: Duration,
    /// …up to this.
    pub backoff_cap: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_ip: 20,
            window: Duration::minutes(15),
            backoff_first: Duration::seconds(15),
            backoff_cap: Duration::seconds(120),
        }
    }
}

/// One account's or address's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginCount {
    pub attempts: u32,
    /// When the address's window started.
    pub started: DateTime<Utc>,
    /// The latest attempt (an account idle for a window starts afresh).
    pub last: DateTime<Utc>,
    /// An account waits until then.
    pub blocked_until: Option<DateTime<Utc>>,
}

impl LoginCount {
    fn fresh(now: DateTime<Utc>) -> Self {
        Self { attempts: 0, started: now, last: now, blocked_until: None }
    }
}

/// Counts one attempt: the account's and (when the client address is known, `Some`, with its
/// stored count or `None`) the address's new counts; or `Err(seconds to wait)`, nothing counted.
pub fn count_attempt(
    limits: &LoginLimits,
    account: Option<LoginCount>,
    address: Option<Option<LoginCount>>,
    now: DateTime<Utc>,
) -> Result<(LoginCount, Option<LoginCount>), u64> {
    let mut wait = Duration::zero();
    if let Some(until) = account.and_then(|a| a.blocked_until).filter(|until| *until > now) {
        wait = until - now;
    }
    if let Some(Some(a)) = address {
        let elapsed = now - a.started;
        if a.attempts >= limits.per_ip && elapsed < limits.window {
            wait = wait.max(limits.window - elapsed);
        }
    }
    if wait > Duration::zero() {
        let ms = wait.num_milliseconds();
        return Err(u64::try_from(ms / 1000 + i64::from(ms % 1000 > 0)).unwrap_or(u64::MAX));
    }
    let mut account = account.filter(|a| now - a.last < limits.window).unwrap_or(LoginCount::fresh(now));
    account.attempts += 1;
    account.last = now;
    if account.attempts >= limits.per_account {
        let doublings = (account.attempts - limits.per_account).min(16);
        let backoff = (limits.backoff_first * (1 << doublings)).min(limits.backoff_cap);
        account.blocked_until = Some(now + backoff);
    }
    let address = address.map(|a| {
        let mut a = a.filter(|a| now - a.started < limits.window).unwrap_or(LoginCount::fresh(now));
        a.attempts += 1;
        a.last = now;
        a
    });
    Ok((account, address))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(first_ms: i64, cap_ms: i64) -> LoginLimits {
        LoginLimits {
            per_account: 3,
            per_ip: 5,
            window: Duration::seconds(60),
            backoff_first: Duration::milliseconds(first_ms),
            backoff_cap: Duration::milliseconds(cap_ms),
        }
    }

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000) + Duration::milliseconds(ms)
    }

    /// Runs attempts through the rules as the store does (keeping the counts between them).
    #[derive(Default)]
    struct Counts {
        account: Option<LoginCount>,
        address: Option<LoginCount>,
    }

    impl Counts {
        fn attempt(&mut self, l: &LoginLimits, with_address: bool, now: DateTime<Utc>) -> Result<(), u64> {
            let (account, address) = count_attempt(l, self.account, with_address.then_some(self.address), now)?;
            self.account = Some(account);
            if address.is_some() {
                self.address = address;
            }
            Ok(())
        }
    }

    #[test]
    fn an_account_waits_after_its_limit_and_the_back_off_doubles_up_to_the_cap() {
        let l = limits(20_000, 50_000);
        let mut c = Counts::default();
        for i in 0..3 {
            c.attempt(&l, false, at(i)).unwrap();
        }
        assert_eq!(c.attempt(&l, false, at(3)), Err(20), "20 s after the third attempt");
        // Each attempt let through doubles the next wait: 20 s, 40 s, then the 50 s cap.
        c.attempt(&l, false, at(20_002)).unwrap();
        assert_eq!(c.attempt(&l, false, at(20_003)), Err(40));
        c.attempt(&l, false, at(60_003)).unwrap();
        assert_eq!(c.attempt(&l, false, at(60_004)), Err(50));
        // Idle for a window: afresh.
        let mut later = c.account.unwrap();
        later.blocked_until = None;
        let (fresh, _) = count_attempt(&l, Some(later), None, at(60_004 + 61_000)).unwrap();
        assert_eq!(fresh.attempts, 1);
    }

    #[test]
    fn an_address_is_limited_for_its_window_across_accounts() {
        let l = limits(60_000, 120_000);
        let mut address = None;
        for i in 0..5 {
            let (_, a) = count_attempt(&l, None, Some(address), at(i)).unwrap();
            address = a;
        }
        assert_eq!(count_attempt(&l, None, Some(address), at(10_000)).unwrap_err(), 50, "the rest of the window");
        assert!(count_attempt(&l, None, None, at(10_000)).is_ok(), "no address known: the account alone");
        assert!(count_attempt(&l, None, Some(address), at(60_005)).is_ok(), "a new window");
    }
}
