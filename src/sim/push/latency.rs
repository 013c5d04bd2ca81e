//! Round-trip times of a simulator run: each device records the requests it completed, the run
//! merges them and reports percentiles (nearest-rank on the sorted samples).

/// Samples in microseconds; one per completed request.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    micros: Vec<u32>,
}

impl Latencies {
    /// Records one completed request.
    pub fn record(&mut self, elapsed: std::time::Duration) {
        self.micros.push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
    }

    /// Adds another device's samples.
    pub fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    pub fn is_empty(&self) -> bool {
        self.micros.is_empty()
    }

    /// The `p`-th percentile (0 < p ≤ 100) in milliseconds, rounded to 0.01 ms; 0 with no samples.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return 0.0;
        }
        self.micros.sort_unstable();
        let rank = ((p / 100.0) * self.micros.len() as f64).ceil() as usize;
        let micros = self.micros[rank.clamp(1, self.micros.len()) - 1];
        (f64::from(micros) / 10.0).round() / 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn percentiles_use_the_nearest_rank_of_the_merged_samples() {
        let mut a = Latencies::default();
        for ms in 1..=50 {
            a.record(Duration::from_millis(ms));
        }
        let mut b = Latencies::default();
        for ms in 51..=100 {
            b.record(Duration::from_millis(ms));
        }
        a.merge(b);
        assert_eq!(a.len(), 100);
        assert_eq!(a.percentile_ms(50.0), 50.0);
        assert_eq!(a.percentile_ms(99.0), 99.0);
        assert_eq!(a.percentile_ms(100.0), 100.0);
    }

    #[test]
    fn no_samples_report_zero_and_sub_millisecond_times_keep_two_decimals() {
        let mut none = Latencies::default();
        assert_eq!(none.percentile_ms(99.0), 0.0);
        let mut one = Latencies::default();
        one.record(Duration::from_micros(1_234));
        assert_eq!(one.percentile_ms(50.0), 1.23);
    }
}
