//! The failure detector's meter through the whole pipeline: its figures in `result.json`,
//! summed per sweep (and per shard, adding up), bounded by the scenario's deadline, and
//! without effect on the run itself.

use std::collections::BTreeMap;

use sim_core::meter::MetricTotals;
use sim_core::runner::ProtocolEntry;
use sim_core::scenario::{Scenario, SeedRange};
use sim_core::sweep::{sweep, Shard, SweepOptions};

use crate::scenario_path;

const CRASHES: &str = "scenarios/fd/crash_detection.toml";

fn prepare(entry: ProtocolEntry) -> Box<dyn sim_core::runner::Runner> {
    let scenario = Scenario::load(&scenario_path(CRASHES)).expect("bundled");
    sim_core::runner::prepare(&[entry], &scenario, None, false).expect("valid")
}

fn options(shard: Shard) -> SweepOptions {
    SweepOptions {
        seeds: SeedRange { first: 1, last: 12 },
        jobs: 2,
        shard,
        fail_fast: false,
        recheck_one_in: 0,
        failures_kept_max: 10,
    }
}

#[test]
fn detection_figures_are_summed_per_sweep_and_shards_add_up() {
    let runner = prepare(ProtocolEntry::new(protocols::fd::registration()));
    let mut expected = MetricTotals::new();
    for seed in 1..=12 {
        let metrics = runner.run(seed, false).result.metrics.protocol;
        // Two crashes, each watched by the 3 (or 4) nodes up throughout it.
        assert!(metrics["detections"] >= 6, "seed {seed}: {metrics:?}");
        // The scenario's deadline is 60 ms; the worst case is a 5 ms delay plus 35 ms.
        assert!(
            metrics["detection_us_max"] <= 40_000,
            "seed {seed}: {metrics:?}"
        );
        sim_core::meter::add_run(&mut expected, &metrics);
    }
    let whole = sweep(runner.as_ref(), &options(Shard::WHOLE), &|_, _| {});
    assert_eq!(whole.protocol_metrics, expected);
    let mut shards = MetricTotals::new();
    for index in 1..=2 {
        let shard = sweep(
            runner.as_ref(),
            &options(Shard { index, count: 2 }),
            &|_, _| {},
        );
        sim_core::meter::merge(&mut shards, &shard.protocol_metrics);
    }
    assert_eq!(shards, expected);
    let summary = serde_json::to_value(&whole).unwrap();
    assert_eq!(summary["protocol_metrics"]["detections"]["seeds"], 12);
}

#[test]
fn a_meter_only_reads_the_run() {
    let metered = prepare(ProtocolEntry::new(protocols::fd::registration()));
    let mut registration = protocols::fd::registration();
    registration.meter = None;
    let unmetered = prepare(ProtocolEntry::new(registration));
    for seed in [1, 2, 3] {
        let with = metered.run(seed, false).result;
        let without = unmetered.run(seed, false).result;
        assert_eq!(with.trace_hash, without.trace_hash, "seed {seed}");
        assert!(!with.metrics.protocol.is_empty());
        assert_eq!(without.metrics.protocol, BTreeMap::new());
    }
    // Without its meter nothing judges `complete` and `accurate`: they stay pending and
    // fail, rather than pass unjudged.
    let without = unmetered.run(1, false).result;
    assert_eq!(without.property.as_deref(), Some("complete"));
    let json = serde_json::to_value(unmetered.run(1, false).result).unwrap();
    assert!(
        json["metrics"].get("protocol").is_none(),
        "result.json as before"
    );
}
