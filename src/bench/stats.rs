//! Latency figures: every sample is kept and sorted, so the percentiles are exact.

use std::time::Duration;

use serde::Serialize;

/// Latencies of one kind of request, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    pub fn of(samples: &[Duration]) -> Self {
        if samples.is_empty() {
            return Self::default();
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        // Nearest rank: the smallest sample at or above the wanted share of all samples.
        let rank = |share: f64| {
            let index = ((share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
            millis(sorted[index])
        };
        Self {
            count: sorted.len(),
            p50_ms: rank(0.50),
            p95_ms: rank(0.95),
            p99_ms: rank(0.99),
            max_ms: millis(sorted[sorted.len() - 1]),
        }
    }

    /// From a histogram of microseconds (for sample counts too large to keep one by one).
    pub fn of_micros(histogram: &hdrhistogram::Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let ms = |micros: u64| micros as f64 / 1000.0;
        Self {
            count: histogram.len() as usize,
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p95_ms: ms(histogram.value_at_quantile(0.95)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        }
    }

    /// "p50 3.1 · p95 8.0 · p99 12.4 · max 40.2 ms"
    pub fn describe(&self) -> String {
        format!(
            "p50 {:.1} · p95 {:.1} · p99 {:.1} · max {:.1} ms",
            self.p50_ms, self.p95_ms, self.p99_ms, self.max_ms
        )
    }
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `count` per second over `elapsed`.
pub fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let latency = Latency::of(&samples);
        assert_eq!(latency.count, 100);
        assert_eq!(latency.p50_ms, 50.0);
        assert_eq!(latency.p95_ms, 95.0);
        assert_eq!(latency.p99_ms, 99.0);
        assert_eq!(latency.max_ms, 100.0);
    }

    #[test]
    fn one_sample_is_every_percentile_and_none_is_zero() {
        let latency = Latency::of(&[Duration::from_millis(7)]);
        assert_eq!((latency.p50_ms, latency.p99_ms, latency.max_ms), (7.0, 7.0, 7.0));
        assert_eq!(Latency::of(&[]).count, 0);
    }
}
