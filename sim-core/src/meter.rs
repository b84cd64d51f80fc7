//! Meters: a protocol's timed view of one simulated run (`Registration::meter`).
//!
//! A checker sees no time — the model checker has none, and its states must stay finite —
//! so what a property says about *how long* (a failure detector's detection time, how
//! long a false suspicion lasted, "accurate from GST + 300 ms on") is measured here, in
//! the simulator only. The simulator shows a meter every step (with the time and the
//! cluster), every crash and the heal; at the run's end the meter names its figures
//! (`result.json`'s `metrics.protocol`, summed over a sweep in `summary.json`'s
//! `protocol_metrics`) and judges the timed liveness conditions it owns. Such a condition
//! is declared by the checker like any other (`Checker::liveness_conditions`), whose
//! `liveness_holds` answers `None` for it: it stays pending through the liveness window,
//! and the meter's verdict at the end replaces the pending failure.
//!
//! A meter reads; it never changes a run: a scenario's trace hash is the same with or
//! without it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::{NodeId, NodesView, Protocol, TimeUs};
use crate::scenario::Synchrony;

/// What a meter is built with, besides the protocol's configuration.
#[derive(Clone, Copy, Debug)]
pub struct MeterSetup {
    pub cluster_size: u32,
    /// The scenario's synchrony model: a synchronous network is bounded from time 0, a
    /// partially synchronous one from the heal (GST), an asynchronous one never.
    pub synchrony: Synchrony,
}

/// A protocol's timed measurements of one run. Built per run by the function its
/// registration gives (`Registration::meter`).
pub trait Meter<P: Protocol>: Send {
    /// `node` took a step at `now_us` (its first after a start or restart too); `nodes`
    /// is the cluster after it.
    fn on_step(&mut self, now_us: TimeUs, node: NodeId, nodes: NodesView<'_, P>);

    /// `node` crashed at `now_us` (its state is gone).
    fn on_crash(&mut self, now_us: TimeUs, node: NodeId);

    /// The liveness window opened at `now_us` (the heal: GST under partial synchrony).
    fn on_heal(&mut self, now_us: TimeUs);

    /// The run ended at `now_us` (called once, before `judge` and `metrics`).
    fn on_end(&mut self, now_us: TimeUs);

    /// The verdict on a timed liveness condition: `Some(Err(detail))` if it failed,
    /// `None` if this meter does not judge `condition`.
    fn judge(&self, condition: &str) -> Option<Result<(), String>>;

    /// The run's figures, by name (integers: they decide nothing, but stay portable).
    fn metrics(&self) -> Vec<(&'static str, u64)>;
}

/// Builds a run's meter from the configuration.
pub type MeterFn<P> = fn(&<P as Protocol>::Config, MeterSetup) -> Box<dyn Meter<P>>;

/// One protocol metric summed over a sweep's seeds (`summary.json`'s `protocol_metrics`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricTotal {
    /// Seeds that reported it.
    pub seeds: u64,
    pub sum: u64,
    /// The largest value one seed reported.
    pub max: u64,
}

/// Protocol metrics summed over seeds, by name.
pub type MetricTotals = BTreeMap<String, MetricTotal>;

/// Add one run's protocol metrics to `totals`.
pub fn add_run(totals: &mut MetricTotals, run: &BTreeMap<String, u64>) {
    for (name, &value) in run {
        add(
            totals,
            name,
            MetricTotal {
                seeds: 1,
                sum: value,
                max: value,
            },
        );
    }
}

/// Add another sweep's (or shard's, or thread's) totals to `totals`.
pub fn merge(totals: &mut MetricTotals, other: &MetricTotals) {
    for (name, total) in other {
        add(totals, name, *total);
    }
}

fn add(totals: &mut MetricTotals, name: &str, more: MetricTotal) {
    let total = totals.entry(name.to_string()).or_default();
    total.seeds += more.seeds;
    total.sum = total.sum.saturating_add(more.sum);
    total.max = total.max.max(more.max);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_sum_and_keep_the_maximum_in_any_order() {
        let runs: Vec<BTreeMap<String, u64>> = vec![
            [("a".to_string(), 3)].into(),
            [("a".to_string(), 7), ("b".to_string(), 1)].into(),
            [("a".to_string(), 5)].into(),
        ];
        let mut one = MetricTotals::new();
        runs.iter().for_each(|run| add_run(&mut one, run));
        let (mut left, mut right) = (MetricTotals::new(), MetricTotals::new());
        add_run(&mut left, &runs[2]);
        add_run(&mut right, &runs[0]);
        add_run(&mut right, &runs[1]);
        merge(&mut left, &right);
        assert_eq!(one, left);
        assert_eq!(
            one["a"],
            MetricTotal {
                seeds: 3,
                sum: 15,
                max: 7
            }
        );
        assert_eq!(one["b"].seeds, 1);
    }
}
