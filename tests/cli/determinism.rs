//! Same (scenario, seed) => same trace hash, whatever the threads or shards; and the
//! hashes of a few runs are pinned so that any change of behaviour is seen.

use sim_core::scenario::{Scenario, SeedRange};
use sim_core::sweep::{sweep, Shard, SweepOptions};

use crate::scenario_path;

fn runner(relative: &str, mutant: Option<&str>) -> Box<dyn sim_core::runner::Runner> {
    let scenario = Scenario::load(&scenario_path(relative)).expect("bundled");
    quorumlab::commands::prepare_scenario(&scenario, mutant, false).expect("valid")
}

fn options(jobs: usize, shard: Shard) -> SweepOptions {
    SweepOptions {
        seeds: SeedRange { first: 1, last: 24 },
        jobs,
        shard,
        fail_fast: false,
        recheck_one_in: 0,
        failures_kept_max: 100,
    }
}

#[test]
fn same_seed_same_trace_hash() {
    let runner = runner("scenarios/raft/nemesis.toml", None);
    for seed in [1, 2, 99] {
        let first = runner.run(seed, false).result;
        let second = runner.run(seed, true).result;
        assert_eq!(
            first.trace_hash, second.trace_hash,
            "seed {seed}: tracing must not change the run"
        );
        assert_eq!(first, second);
    }
    assert_ne!(
        runner.run(1, false).result.trace_hash,
        runner.run(2, false).result.trace_hash
    );
}

#[test]
fn sweep_hash_is_the_same_for_any_jobs_and_shards_add_up() {
    let runner = runner("scenarios/raft/churn.toml", None);
    let one = sweep(runner.as_ref(), &options(1, Shard::WHOLE), &|_| {});
    let two = sweep(runner.as_ref(), &options(2, Shard::WHOLE), &|_| {});
    assert_eq!(one.sweep_hash, two.sweep_hash);
    assert_eq!(one.seeds, 24);
    let first = sweep(
        runner.as_ref(),
        &options(2, Shard { index: 1, count: 2 }),
        &|_| {},
    );
    let second = sweep(
        runner.as_ref(),
        &options(2, Shard { index: 2, count: 2 }),
        &|_| {},
    );
    assert_eq!(first.seeds + second.seeds, one.seeds);
    let sum = u64::from_str_radix(&first.sweep_hash, 16)
        .unwrap()
        .wrapping_add(u64::from_str_radix(&second.sweep_hash, 16).unwrap());
    assert_eq!(
        format!("{sum:016x}"),
        one.sweep_hash,
        "shard hashes add up to the whole sweep's"
    );
}

#[test]
fn failing_seeds_are_the_same_for_any_jobs() {
    let runner = runner("scenarios/raft/nemesis.toml", Some("vote-ignores-log"));
    let one = sweep(runner.as_ref(), &options(1, Shard::WHOLE), &|_| {});
    let two = sweep(runner.as_ref(), &options(2, Shard::WHOLE), &|_| {});
    assert!(one.failed > 0, "the mutant is caught in 24 seeds");
    assert_eq!(one.failures, two.failures);
}

/// Pinned trace hashes. A change here means the simulator or Raft behaves differently
/// for the same (scenario, seed): update the pins deliberately, in the commit that
/// changes the behaviour, and say why.
#[test]
fn pinned_trace_hashes() {
    let pins = [
        ("scenarios/raft/nemesis.toml", 1, PIN_NEMESIS_1),
        ("scenarios/raft/election.toml", 7, PIN_ELECTION_7),
        ("scenarios/pingpong/tokens.toml", 3, PIN_TOKENS_3),
    ];
    let mut actual = Vec::new();
    for (path, seed, _) in pins {
        actual.push(runner(path, None).run(seed, false).result.trace_hash);
    }
    let expected: Vec<String> = pins.iter().map(|(_, _, pin)| pin.to_string()).collect();
    assert_eq!(
        actual, expected,
        "trace hashes changed (see the comment on this test)"
    );
}

const PIN_NEMESIS_1: &str = "be7d348ea05d6637";
const PIN_ELECTION_7: &str = "f144be6c9f2a96fe";
const PIN_TOKENS_3: &str = "ca893eefbbc1acff";
