//! Latency figures (every sample is kept and sorted, so the percentiles are exact), the errors
//! clients saw, and the longest stall of a sale.

use std::collections::BTreeMap;
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

/// The errors customers saw, by kind. Each was followed by a short pause and another try.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ErrorCounts {
    /// No connection: refused, or reset while connecting.
    pub connect: u64,
    /// No answer within the request's time.
    pub timeout: u64,
    /// The connection broke after the request went out, before the whole answer came.
    pub lost: u64,
    /// 5xx answers by status.
    pub status_5xx: BTreeMap<u16, u64>,
    /// 4xx answers other than `seats_taken`, by status and code ("409 seats_busy").
    pub status_4xx: BTreeMap<String, u64>,
}

impl ErrorCounts {
    pub fn total(&self) -> u64 {
        self.connect
            + self.timeout
            + self.lost
            + self.status_5xx.values().sum::<u64>()
            + self.status_4xx.values().sum::<u64>()
    }

    pub fn add(&mut self, other: &ErrorCounts) {
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.lost += other.lost;
        for (status, count) in &other.status_5xx {
            *self.status_5xx.entry(*status).or_default() += count;
        }
        for (code, count) in &other.status_4xx {
            *self.status_4xx.entry(code.clone()).or_default() += count;
        }
    }

    /// "none", or "connect 3 · timeout 1 · 502 ×12 · 409 seats_busy ×2"
    pub fn describe(&self) -> String {
        let transport = [("connect", self.connect), ("timeout", self.timeout), ("lost", self.lost)]
            .into_iter()
            .filter(|&(_, count)| count > 0)
            .map(|(kind, count)| format!("{kind} {count}"));
        let answers = self
            .status_5xx
            .iter()
            .map(|(status, count)| format!("{status} ×{count}"))
            .chain(self.status_4xx.iter().map(|(code, count)| format!("{code} ×{count}")));
        let all: Vec<String> = transport.chain(answers).collect();
        if all.is_empty() { "none".to_owned() } else { all.join(" · ") }
    }
}

/// The longest stretch of a sale with no booking answered, in seconds from the sale's start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Stall {
    pub seconds: f64,
    pub started_at_s: f64,
}

/// The longest gap between the sale's start, each successful answer (times after the start, in
/// any order) and the sale's `end`: how long customers waited for bookings to flow again.
/// The earliest of equal gaps.
pub fn longest_stall(answers: &[Duration], end: Duration) -> Stall {
    let mut times: Vec<Duration> = answers.iter().map(|&at| at.min(end)).collect();
    times.sort_unstable();
    times.push(end);
    let mut longest = (Duration::ZERO, Duration::ZERO);
    let mut previous = Duration::ZERO;
    for at in times {
        if at - previous > longest.0 {
            longest = (at - previous, previous);
        }
        previous = at;
    }
    Stall { seconds: longest.0.as_secs_f64(), started_at_s: longest.1.as_secs_f64() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_stall_is_the_widest_gap_between_answers_from_start_to_end() {
        let s = Duration::from_secs;
        // Answers at 1, 2, then nothing from 2 to 9 (a fault), then 10: the stall starts at 2.
        let stall = longest_stall(&[s(10), s(1), s(9), s(2)], s(10));
        assert_eq!(stall, Stall { seconds: 7.0, started_at_s: 2.0 });
        // A slow first answer counts from the start; no answer after 3 counts to the end.
        assert_eq!(longest_stall(&[s(5), s(6)], s(7)), Stall { seconds: 5.0, started_at_s: 0.0 });
        assert_eq!(longest_stall(&[s(1), s(3)], s(20)), Stall { seconds: 17.0, started_at_s: 3.0 });
        // No answer at all: the whole sale; equal gaps: the first.
        assert_eq!(longest_stall(&[], s(4)), Stall { seconds: 4.0, started_at_s: 0.0 });
        assert_eq!(longest_stall(&[s(2), s(4)], s(4)), Stall { seconds: 2.0, started_at_s: 0.0 });
    }

    #[test]
    fn errors_add_up_by_kind_and_read_as_one_line() {
        let mut errors = ErrorCounts { connect: 2, ..Default::default() };
        assert_eq!(ErrorCounts::default().describe(), "none");
        let other = ErrorCounts {
            timeout: 1,
            status_5xx: BTreeMap::from([(502, 3)]),
            status_4xx: BTreeMap::from([("409 seats_busy".to_owned(), 1)]),
            ..Default::default()
        };
        errors.add(&other);
        errors.add(&other);
        assert_eq!(errors.total(), 2 + 2 + 6 + 2);
        assert_eq!(errors.describe(), "connect 2 · timeout 2 · 502 ×6 · 409 seats_busy ×2");
        let json = serde_json::to_value(&errors).unwrap();
        assert_eq!(json["status_5xx"]["502"], 6);
        assert_eq!(json["status_4xx"]["409 seats_busy"], 2);
    }

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
