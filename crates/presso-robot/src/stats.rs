//! Latency samples and the run's report.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// Every sample of one latency, in microseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples(Vec<u64>);

/// A latency's summary, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.0
            .push(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Nearest-rank percentiles.
    pub fn summary(&self) -> Summary {
        if self.0.is_empty() {
            return Summary::default();
        }
        let mut v = self.0.clone();
        v.sort_unstable();
        let rank = |p: f64| {
            let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
            v[i.clamp(1, v.len()) - 1] as f64 / 1000.0
        };
        Summary {
            count: v.len(),
            p50_ms: rank(50.0),
            p90_ms: rank(90.0),
            p99_ms: rank(99.0),
            max_ms: *v.last().expect("not empty") as f64 / 1000.0,
            mean_ms: v.iter().sum::<u64>() as f64 / v.len() as f64 / 1000.0,
        }
    }
}

/// What `presso robot` writes with `--report`, and prints as a table.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub url: String,
    pub target_rate: f64,
    pub duration_seconds: f64,
    pub events: Vec<String>,
    pub customers: usize,
    pub baristas: usize,
    /// Journeys begun (a scan sent).
    pub started: u64,
    /// Journeys whose `orderFinished` reached the customer's phone.
    pub finished: u64,
    /// Journeys that ended in an error or never finished.
    pub failed: u64,
    /// From the first scan to the last journey finished.
    pub elapsed_seconds: f64,
    /// `finished / elapsed_seconds`.
    pub journeys_per_second: f64,
    /// Per step, in milliseconds: `scan`, `submit`, `make`, `complete` (the HTTP calls),
    /// `journey` (scan sent to `orderFinished` at the phone), `completeToCustomer` and
    /// `completeToDisplay` (complete sent to `OrderCompleted` at the subscriber).
    pub latency: BTreeMap<String, Summary>,
    /// Errors by kind (`scan 429 no_tokens_remaining`, `journey unfinished`, ...).
    pub errors: BTreeMap<String, u64>,
    /// MQTT messages the robot's subscribers received.
    pub mqtt_messages: u64,
    /// HTTP API calls the robot made (scan, drink, make, complete).
    pub api_calls: u64,
    /// What the run cost on AWS's prices, from presso's counters (`None` against AWS, and
    /// with `--hold`, whose workflows do not end).
    pub cost: Option<crate::cost::Cost>,
}

impl Report {
    /// The summary table printed at the end of a run.
    pub fn table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "journeys: {} started, {} finished, {} failed in {:.1} s = {:.1} journeys/s (target rate {:.1}/s)\n",
            self.started,
            self.finished,
            self.failed,
            self.elapsed_seconds,
            self.journeys_per_second,
            self.target_rate
        ));
        out.push_str(&format!(
            "{:<20} {:>8} {:>9} {:>9} {:>9} {:>9}\n",
            "latency (ms)", "count", "p50", "p90", "p99", "max"
        ));
        for (name, s) in &self.latency {
            out.push_str(&format!(
                "{:<20} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}\n",
                name, s.count, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms
            ));
        }
        if let Some(c) = &self.cost {
            out.push_str(&c.table());
        }
        if self.errors.is_empty() {
            out.push_str("errors: none\n");
        } else {
            out.push_str("errors:\n");
            for (k, n) in &self.errors {
                out.push_str(&format!("  {n:>8}  {k}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut s = Samples::default();
        for ms in 1..=100 {
            s.push(Duration::from_millis(ms));
        }
        let m = s.summary();
        assert_eq!(m.count, 100);
        assert_eq!(m.p50_ms, 50.0);
        assert_eq!(m.p99_ms, 99.0);
        assert_eq!(m.max_ms, 100.0);
        assert!((m.mean_ms - 50.5).abs() < 1e-9);
        assert_eq!(Samples::default().summary(), Summary::default());
    }
}
