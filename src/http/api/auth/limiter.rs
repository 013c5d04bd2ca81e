//! `LoginLimiter`: failed logins are counted per account (email) and per client IP in fixed
//! windows; past the limit, logins for that account or from that IP are refused until the
//! window ends. Counts live in memory, per instance (several instances each allow the limit).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits: failures allowed per window for one account and for one IP.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_account: u32,
    pub per_ip: u32,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        Self { per_account: 5, per_ip: 20, window: Duration::from_secs(15 * 60) }
    }
}

struct Window {
    started: Instant,
    failures: u32,
}

/// Entries kept before expired ones are swept (bounds memory under a spray of emails).
const SWEEP_ABOVE: usize = 10_000;

pub struct LoginLimiter {
    limits: LoginLimits,
    windows: Mutex<HashMap<String, Window>>,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        Self { limits, windows: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` when the account or the IP has used up its failures.
    pub fn check(&self, email: &str, ip: Option<&str>) -> Result<(), u64> {
        let Ok(windows) = self.windows.lock() else { return Ok(()) };
        let mut wait = 0u64;
        for (key, max) in self.keys(email, ip) {
            if let Some(w) = windows.get(&key) {
                let elapsed = w.started.elapsed();
                if w.failures >= max && elapsed < self.limits.window {
                    wait = wait.max((self.limits.window - elapsed).as_secs().max(1));
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    /// Counts a failed login for the account and the IP.
    pub fn record_failure(&self, email: &str, ip: Option<&str>) {
        let Ok(mut windows) = self.windows.lock() else { return };
        if windows.len() > SWEEP_ABOVE {
            let window = self.limits.window;
            windows.retain(|_, w| w.started.elapsed() < window);
        }
        for (key, _) in self.keys(email, ip) {
            let w = windows.entry(key).or_insert(Window { started: Instant::now(), failures: 0 });
            if w.started.elapsed() >= self.limits.window {
                *w = Window { started: Instant::now(), failures: 0 };
            }
            w.failures += 1;
        }
    }

    /// Forgets the account's failures after a successful login (the IP's count stays).
    pub fn record_success(&self, email: &str) {
        if let Ok(mut windows) = self.windows.lock() {
            windows.remove(&account_key(email));
        }
    }

    fn keys(&self, email: &str, ip: Option<&str>) -> Vec<(String, u32)> {
        let mut keys = vec![(account_key(email), self.limits.per_account)];
        if let Some(ip) = ip {
            keys.push((format!("ip:{ip}"), self.limits.per_ip));
        }
        keys
    }
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(window: Duration) -> LoginLimiter {
        LoginLimiter::new(LoginLimits { per_account: 3, per_ip: 5, window })
    }

    #[test]
    fn an_account_is_locked_after_its_failures_whatever_the_case_of_the_email() {
        let l = limiter(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.check("a@x.org", Some("1.1.1.1")).is_ok());
            l.record_failure("A@x.org", Some("1.1.1.1"));
        }
        let wait = l.check("a@X.org", Some("2.2.2.2")).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(l.check("b@x.org", Some("2.2.2.2")).is_ok(), "other accounts are not affected");
    }

    #[test]
    fn an_ip_is_locked_after_failures_across_accounts() {
        let l = limiter(Duration::from_secs(60));
        for i in 0..5 {
            l.record_failure(&format!("user{i}@x.org"), Some("9.9.9.9"));
        }
        assert!(l.check("fresh@x.org", Some("9.9.9.9")).is_err());
        assert!(l.check("fresh@x.org", Some("8.8.8.8")).is_ok());
    }

    #[test]
    fn success_clears_the_account_and_windows_expire() {
        let l = limiter(Duration::from_millis(30));
        for _ in 0..3 {
            l.record_failure("a@x.org", None);
        }
        assert!(l.check("a@x.org", None).is_err());
        l.record_success("a@x.org");
        assert!(l.check("a@x.org", None).is_ok());
        for _ in 0..3 {
            l.record_failure("a@x.org", None);
        }
        std::thread::sleep(Duration::from_millis(40));
        assert!(l.check("a@x.org", None).is_ok());
    }
}
