//! `LoginLimiter`: login attempts are counted per account (email) and per client address
//! BEFORE the password is checked, so a burst of parallel guesses gets no more checks than the
//! limit. Past the account's limit every further attempt is spaced by a back-off that doubles up
//! to a cap (a stranger can keep an admin waiting at most the cap, never locked out for long);
//! past the address's limit that address waits for its window to end. A successful login clears
//! the account and gives the address its attempt back.
//!
//! Counts live in memory, per instance: behind a load balancer each instance allows the limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits: attempts allowed for one account before the back-off, and per address per window.
#[derive(Debug, Clone, Copy)]
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
            window: Duration::from_secs(15 * 60),
            backoff_first: Duration::from_secs(15),
            backoff_cap: Duration::from_secs(120),
        }
    }
}

struct Account {
    attempts: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

struct Address {
    started: Instant,
    attempts: u32,
}

#[derive(Default)]
struct Counts {
    accounts: HashMap<String, Account>,
    addresses: HashMap<String, Address>,
}

/// An attempt that was counted; hand it back with [`LoginLimiter::succeeded`] after a good login.
#[derive(Debug)]
pub struct Attempt {
    account: String,
    ip: Option<String>,
}

/// Entries kept before expired ones are swept (bounds memory under a spray of emails).
const SWEEP_ABOVE: usize = 10_000;

pub struct LoginLimiter {
    limits: LoginLimits,
    counts: Mutex<Counts>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self { limits, counts: Mutex::new(Counts::default()) }
    }

    /// Counts an attempt for the account and the address, or `Err(seconds to wait)` when either
    /// must wait (nothing is counted then).
    pub fn begin(&self, email: &str, ip: Option<&str>) -> Result<Attempt, u64> {
        let limits = self.limits;
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts.accounts.len() + counts.addresses.len() > SWEEP_ABOVE {
            counts.accounts.retain(|_, a| now.duration_since(a.last) < limits.window);
            counts.addresses.retain(|_, a| now.duration_since(a.started) < limits.window);
        }
        let key = account_key(email);
        let mut wait = Duration::ZERO;
        if let Some(a) = counts.accounts.get(&key) {
            if let Some(until) = a.blocked_until.filter(|until| *until > now) {
                wait = until - now;
            }
        }
        if let Some(a) = ip.and_then(|ip| counts.addresses.get(ip)) {
            let elapsed = now.duration_since(a.started);
            if a.attempts >= limits.per_ip && elapsed < limits.window {
                wait = wait.max(limits.window - elapsed);
            }
        }
        if !wait.is_zero() {
            return Err(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        }
        let account =
            counts.accounts.entry(key.clone()).or_insert(Account { attempts: 0, last: now, blocked_until: None });
        if now.duration_since(account.last) >= limits.window {
            *account = Account { attempts: 0, last: now, blocked_until: None };
        }
        account.attempts += 1;
        account.last = now;
        if account.attempts >= limits.per_account {
            let doublings = (account.attempts - limits.per_account).min(16);
            let backoff = limits.backoff_first.saturating_mul(1 << doublings).min(limits.backoff_cap);
            account.blocked_until = Some(now + backoff);
        }
        if let Some(ip) = ip {
            let address = counts.addresses.entry(ip.to_string()).or_insert(Address { started: now, attempts: 0 });
            if now.duration_since(address.started) >= limits.window {
                *address = Address { started: now, attempts: 0 };
            }
            address.attempts += 1;
        }
        Ok(Attempt { account: key, ip: ip.map(str::to_string) })
    }

    /// After a good login: the account starts afresh and the address gets its attempt back.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        counts.accounts.remove(&attempt.account);
        if let Some(a) = attempt.ip.and_then(|ip| counts.addresses.get_mut(&ip)) {
            a.attempts = a.attempts.saturating_sub(1);
        }
    }
}

fn account_key(email: &str) -> String {
    email.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(first_ms: u64, cap_ms: u64) -> LoginLimiter {
        LoginLimiter::new(LoginLimits {
            per_account: 3,
            per_ip: 5,
            window: Duration::from_secs(60),
            backoff_first: Duration::from_millis(first_ms),
            backoff_cap: Duration::from_millis(cap_ms),
        })
    }

    #[test]
    fn an_account_waits_after_its_limit_whatever_the_case_of_the_email() {
        let l = limiter(60_000, 120_000);
        for _ in 0..3 {
            l.begin("A@x.org", Some("1.1.1.1")).unwrap();
        }
        let wait = l.begin("a@X.org", Some("2.2.2.2")).unwrap_err();
        assert!((59..=60).contains(&wait), "{wait}");
        assert!(l.begin("b@x.org", Some("2.2.2.2")).is_ok(), "other accounts are not affected");
    }

    #[test]
    fn the_back_off_doubles_per_attempt_up_to_the_cap() {
        let l = limiter(20, 50);
        for _ in 0..3 {
            l.begin("a@x.org", None).unwrap();
        }
        let mut waits = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            while l.begin("a@x.org", None).is_err() {
                std::thread::sleep(Duration::from_millis(2));
            }
            waits.push(started.elapsed());
        }
        // Waits after the 3rd, 4th and 5th attempts: 20 ms, 40 ms, then the 50 ms cap.
        assert!(waits[0] >= Duration::from_millis(15) && waits[0] < Duration::from_millis(40), "{waits:?}");
        assert!(waits[1] >= Duration::from_millis(35), "{waits:?}");
        assert!(waits[2] >= Duration::from_millis(45) && waits[2] < Duration::from_millis(90), "{waits:?}");
    }

    #[test]
    fn an_address_is_limited_across_accounts_and_a_success_gives_its_attempt_back() {
        let l = limiter(60_000, 120_000);
        for i in 0..4 {
            l.begin(&format!("user{i}@x.org"), Some("9.9.9.9")).unwrap();
        }
        let good = l.begin("admin@x.org", Some("9.9.9.9")).unwrap();
        l.succeeded(good);
        l.begin("fresh@x.org", Some("9.9.9.9")).unwrap();
        assert!(l.begin("fresh2@x.org", Some("9.9.9.9")).is_err());
        assert!(l.begin("fresh2@x.org", Some("8.8.8.8")).is_ok());
    }

    #[test]
    fn success_clears_the_account() {
        let l = limiter(60_000, 120_000);
        let mut last = None;
        for _ in 0..2 {
            last = Some(l.begin("a@x.org", None).unwrap());
        }
        l.succeeded(last.unwrap());
        for _ in 0..3 {
            l.begin("a@x.org", None).unwrap();
        }
        assert!(l.begin("a@x.org", None).is_err());
    }
}
