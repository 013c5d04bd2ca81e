//! Deterministic, unique punches for one simulated device.

/// Generates ATTLOG lines that are unique per (device, PIN, time): line `n` of a device uses
/// PIN `run*100000 + 1000 + n % 200` at `2026-01-01 00:00:00 + n*7 s` (local time), so two lines
/// never share a key and a rerun with another `run` never collides with the first.
#[derive(Debug, Clone)]
pub struct PunchGenerator {
    run: u32,
    next: u64,
}

impl PunchGenerator {
    pub fn new(run: u32) -> Self {
        Self { run, next: 0 }
    }

    /// The next punch as an ATTLOG line (7 TAB-separated fields, like the spec example).
    pub fn next_line(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        let pin = u64::from(self.run) * 100_000 + 1000 + n % 200;
        let base = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let at = base + chrono::Duration::seconds((n * 7) as i64);
        format!("{pin}\t{}\t0\t1\t0\t0\t0", at.format("%Y-%m-%d %H:%M:%S"))
    }

    pub fn generated(&self) -> u64 {
        self.next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_lines_never_repeat_a_pin_and_time() {
        let mut g = PunchGenerator::new(3);
        let keys: std::collections::HashSet<(String, String)> = (0..5000)
            .map(|_| {
                let line = g.next_line();
                let mut f = line.split('\t');
                (f.next().unwrap().to_string(), f.next().unwrap().to_string())
            })
            .collect();
        assert_eq!(keys.len(), 5000);
        assert!(keys.iter().all(|(pin, _)| pin.starts_with("30")));
    }
}
