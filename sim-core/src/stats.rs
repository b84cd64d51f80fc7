//! Client-facing figures computed from a run's history, and their aggregation over a
//! sweep: unavailability windows, and a latency histogram that merges across shards.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::result::HistoryOp;

/// At most this many windows are listed one by one in `result.json` (all are counted).
pub const WINDOWS_LISTED_MAX: usize = 16;

/// When clients waited and nothing got done.
///
/// A window is a maximal interval, at least `threshold_us` long, during which some
/// client operation was outstanding at every instant and none completed `ok`. The
/// threshold is the client request timeout: a shorter wait is an ordinary slow request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unavailability {
    pub windows: u64,
    pub total_us: u64,
    pub longest_us: u64,
    /// The first windows, `[start_us, end_us]`.
    pub listed: Vec<[u64; 2]>,
}

impl Unavailability {
    /// `end_us` closes the operations that never completed.
    pub fn of(history: &[HistoryOp], end_us: u64, threshold_us: u64) -> Unavailability {
        assert!(
            threshold_us > 0,
            "a zero threshold makes every instant a window"
        );
        let mut pending: Vec<(u64, u64)> = history
            .iter()
            .map(|op| {
                (
                    op.invoke_us,
                    op.complete_us.unwrap_or(end_us).max(op.invoke_us),
                )
            })
            .collect();
        pending.sort_unstable();
        let mut completions: Vec<u64> = history
            .iter()
            .filter(|op| op.status == "ok")
            .filter_map(|op| op.complete_us)
            .collect();
        completions.sort_unstable();

        let mut result = Unavailability::default();
        let mut next_completion = 0;
        for (start, end) in covered_segments(&pending) {
            // Cut the covered segment at every ok completion inside it.
            let mut from = start;
            while next_completion < completions.len() && completions[next_completion] < start {
                next_completion += 1;
            }
            while next_completion < completions.len() && completions[next_completion] <= end {
                result.add_window(from, completions[next_completion], threshold_us);
                from = completions[next_completion];
                next_completion += 1;
            }
            result.add_window(from, end, threshold_us);
        }
        result
    }

    fn add_window(&mut self, start_us: u64, end_us: u64, threshold_us: u64) {
        assert!(start_us <= end_us);
        let length = end_us - start_us;
        if length < threshold_us {
            return;
        }
        self.windows += 1;
        self.total_us += length;
        self.longest_us = self.longest_us.max(length);
        if self.listed.len() < WINDOWS_LISTED_MAX {
            self.listed.push([start_us, end_us]);
        }
    }
}

/// The union of `[start, end]` intervals sorted by start, as disjoint segments.
fn covered_segments(sorted: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut segments: Vec<(u64, u64)> = Vec::new();
    for &(start, end) in sorted {
        match segments.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => segments.push((start, end)),
        }
    }
    segments
}

/// A log-linear histogram (HDR-style: 7 significant bits, under 1% relative error), so
/// that percentiles over a whole sweep need no per-operation memory and shard
/// histograms add up.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyHistogram {
    /// Bucket lower bound (µs) → count.
    pub buckets: BTreeMap<u64, u64>,
    pub count: u64,
    pub max_us: u64,
}

const SIGNIFICANT_BITS: u32 = 7;

impl LatencyHistogram {
    pub fn record(&mut self, value_us: u64) {
        *self.buckets.entry(bucket_floor(value_us)).or_insert(0) += 1;
        self.count += 1;
        self.max_us = self.max_us.max(value_us);
    }

    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (bucket, count) in &other.buckets {
            *self.buckets.entry(*bucket).or_insert(0) += count;
        }
        self.count += other.count;
        self.max_us = self.max_us.max(other.max_us);
    }

    /// Nearest-rank percentile, as the lower bound of its bucket (the exact value for
    /// values below 128 µs).
    pub fn percentile(&self, per_hundred: u64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = (self.count * per_hundred).div_ceil(100).max(1);
        let mut seen = 0;
        for (bucket, count) in &self.buckets {
            seen += count;
            if seen >= rank {
                return *bucket;
            }
        }
        unreachable!("the counts add up to `count`")
    }
}

fn bucket_floor(value: u64) -> u64 {
    let bits = u64::BITS - value.leading_zeros();
    if bits <= SIGNIFICANT_BITS {
        return value;
    }
    let shift = bits - SIGNIFICANT_BITS;
    (value >> shift) << shift
}

/// Client figures summed over a sweep's seeds (`summary.json`'s `clients`). The ratios
/// are recomputed from the sums by [`ClientTotals::finish`], also after `merge`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientTotals {
    pub ops_invoked: u64,
    pub ops_ok: u64,
    pub ops_failed: u64,
    pub ops_unknown: u64,
    pub messages_sent: u64,
    pub leader_changes: u64,
    pub unavailability_windows: u64,
    pub unavailable_us: u64,
    pub longest_unavailable_us: u64,
    pub latency: LatencyHistogram,
    /// Derived: ok operations per simulated second, over the whole sweep.
    pub throughput_ops_per_sec: f64,
    /// Derived: messages sent per ok operation.
    pub messages_per_committed_op: f64,
    pub latency_us_p50: u64,
    pub latency_us_p99: u64,
    pub latency_us_max: u64,
}

impl ClientTotals {
    pub fn add_run(&mut self, metrics: &crate::result::Metrics, history: &[HistoryOp]) {
        self.ops_invoked += metrics.client_ops_invoked;
        self.ops_ok += metrics.client_ops_ok;
        self.ops_failed += metrics.client_ops_failed;
        self.ops_unknown += metrics.client_ops_unknown;
        self.messages_sent += metrics.messages_sent;
        self.leader_changes += metrics.leader_changes;
        self.unavailability_windows += metrics.unavailability.windows;
        self.unavailable_us += metrics.unavailability.total_us;
        self.longest_unavailable_us = self
            .longest_unavailable_us
            .max(metrics.unavailability.longest_us);
        for op in history {
            if let (Some(complete_us), "ok") = (op.complete_us, op.status.as_str()) {
                self.latency.record(complete_us - op.invoke_us);
            }
        }
    }

    pub fn merge(&mut self, other: &ClientTotals) {
        self.ops_invoked += other.ops_invoked;
        self.ops_ok += other.ops_ok;
        self.ops_failed += other.ops_failed;
        self.ops_unknown += other.ops_unknown;
        self.messages_sent += other.messages_sent;
        self.leader_changes += other.leader_changes;
        self.unavailability_windows += other.unavailability_windows;
        self.unavailable_us += other.unavailable_us;
        self.longest_unavailable_us = self
            .longest_unavailable_us
            .max(other.longest_unavailable_us);
        self.latency.merge(&other.latency);
    }

    /// Recompute the derived figures; `sim_time_us` is the sweep's total simulated time.
    pub fn finish(&mut self, sim_time_us: u64) {
        self.throughput_ops_per_sec = per_second(self.ops_ok, sim_time_us);
        self.messages_per_committed_op = ratio(self.messages_sent, self.ops_ok);
        self.latency_us_p50 = self.latency.percentile(50);
        self.latency_us_p99 = self.latency.percentile(99);
        self.latency_us_max = self.latency.max_us;
    }
}

/// `count` per simulated second over `time_us`, 0 for an empty interval.
pub fn per_second(count: u64, time_us: u64) -> f64 {
    if time_us == 0 {
        return 0.0;
    }
    count as f64 * 1e6 / time_us as f64
}

/// `a / b`, 0 when `b` is 0.
pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        return 0.0;
    }
    a as f64 / b as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(invoke_us: u64, complete_us: Option<u64>, status: &str) -> HistoryOp {
        HistoryOp {
            client: 0,
            request: 0,
            invoke_us,
            complete_us,
            status: status.to_string(),
            key: None,
            op: serde_json::Value::Null,
            reply: None,
            output: None,
            draw: 0,
            fire_and_forget: false,
        }
    }

    #[test]
    fn windows_are_waits_without_an_ok_completion() {
        // Client 0 waits 0..1000 (ok); client 1 waits 1050..3000 (ok); client 2 waits
        // from 1100 to the end at 5000 (info). Covered: 0..1000 and 1050..5000, cut at the
        // ok completion at 3000. With a 1500 µs threshold, 1050..3000 and 3000..5000 count.
        let history = [
            op(0, Some(1000), "ok"),
            op(1100, None, "info"),
            op(1050, Some(3000), "ok"),
        ];
        let u = Unavailability::of(&history, 5000, 1500);
        assert_eq!(u.listed, vec![[1050, 3000], [3000, 5000]]);
        assert_eq!((u.windows, u.total_us, u.longest_us), (2, 3950, 2000));
        // Nothing waits longer than the threshold: no window.
        assert_eq!(Unavailability::of(&history, 5000, 2500).windows, 0);
        // A failed completion does not end a window.
        let failed = [op(0, Some(4000), "fail")];
        assert_eq!(
            Unavailability::of(&failed, 4000, 1000).listed,
            vec![[0, 4000]]
        );
    }

    #[test]
    fn histogram_percentiles_are_close_and_merge() {
        let mut a = LatencyHistogram::default();
        let mut b = LatencyHistogram::default();
        for v in 1..=1000u64 {
            if v % 2 == 0 {
                a.record(v * 37)
            } else {
                b.record(v * 37)
            }
        }
        a.merge(&b);
        assert_eq!(a.count, 1000);
        let p50 = a.percentile(50);
        assert!(p50 <= 500 * 37 && p50 * 100 >= 500 * 37 * 99, "{p50}");
        assert_eq!(a.max_us, 37_000);
        assert_eq!(a.percentile(100), bucket_floor(37_000));
        assert_eq!(bucket_floor(100), 100);
        assert_eq!(bucket_floor(0b1111_1111), 0b1111_1110);
    }
}
