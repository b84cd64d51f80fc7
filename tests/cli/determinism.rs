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
    let one = sweep(runner.as_ref(), &options(1, Shard::WHOLE), &|_, _| {});
    let two = sweep(runner.as_ref(), &options(2, Shard::WHOLE), &|_, _| {});
    assert_eq!(one.sweep_hash, two.sweep_hash);
    assert_eq!(one.seeds, 24);
    let first = sweep(
        runner.as_ref(),
        &options(2, Shard { index: 1, count: 2 }),
        &|_, _| {},
    );
    let second = sweep(
        runner.as_ref(),
        &options(2, Shard { index: 2, count: 2 }),
        &|_, _| {},
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
    let one = sweep(runner.as_ref(), &options(1, Shard::WHOLE), &|_, _| {});
    let two = sweep(runner.as_ref(), &options(2, Shard::WHOLE), &|_, _| {});
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

// Was be7d348ea05d6637: a run now ends as soon as its last liveness condition holds
// when that is `client_progress` (issue 14), as it always did for `leader`.
const PIN_NEMESIS_1: &str = "8ac66f095a81540c";
const PIN_ELECTION_7: &str = "f144be6c9f2a96fe";
const PIN_TOKENS_3: &str = "ca893eefbbc1acff";

/// A recorded decision tape replays its run exactly (same trace hash), and recording
/// does not change the run. The scenarios cover loss, duplication, reordering, send and
/// receive omissions, clients, a nemesis and swarm mode.
#[test]
fn a_recorded_tape_replays_the_run_exactly() {
    let cases = [
        ("scenarios/raft/nemesis.toml", 1, None, false),
        ("scenarios/raft/churn.toml", 2, None, true),
        ("scenarios/raft/figure8.toml", 3, None, false),
        ("scenarios/pingpong/tokens.toml", 3, None, false),
        (
            "scenarios/raft/mutants/accept-stale-replies.toml",
            4,
            Some("accept-stale-replies"),
            false,
        ),
    ];
    for (path, seed, mutant, swarm) in cases {
        let mut scenario = Scenario::load(&scenario_path(path)).expect("bundled");
        let plain = quorumlab::commands::prepare_scenario(&scenario, mutant, swarm)
            .expect("valid")
            .run(seed, false);
        let recorded = quorumlab::commands::prepare_scenario(&scenario, mutant, swarm)
            .expect("valid")
            .run_with(seed, false, true);
        assert_eq!(
            plain.result.trace_hash, recorded.result.trace_hash,
            "{path}"
        );
        let tape = recorded.tape.expect("recorded");
        assert!(
            !tape.messages.is_empty() && !tape.timers.is_empty(),
            "{path}"
        );
        scenario.file.tape = Some(tape);
        let replayed = quorumlab::commands::prepare_scenario(&scenario, mutant, swarm)
            .expect("valid")
            .run(seed, false);
        assert_eq!(
            (&plain.result.trace_hash, plain.result.verdict),
            (&replayed.result.trace_hash, replayed.result.verdict),
            "{path} seed {seed} from its tape"
        );
        // An empty tape is the benign run (prompt deliveries, minimum timers): a
        // different run, without a single lost message.
        scenario.file.tape = Some(Default::default());
        let benign = quorumlab::commands::prepare_scenario(&scenario, mutant, swarm)
            .expect("valid")
            .run(seed, false);
        assert_ne!(plain.result.trace_hash, benign.result.trace_hash, "{path}");
        assert_eq!(
            benign.result.metrics.drops_by_cause.get("loss"),
            None,
            "{path}"
        );
    }
}

/// Byzantine strategies on the tape: each step a strategy changed is an entry with its
/// draws, and the tape replays the run exactly, for every generic strategy and a
/// protocol's own (generic_n4.toml draws one per seed) and for a fixed primary.
#[test]
fn a_recorded_tape_replays_byzantine_misbehaviours_exactly() {
    let mut cases: Vec<(&str, u64)> = (1..=12)
        .map(|seed| ("scenarios/pbft/generic_n4.toml", seed))
        .collect();
    cases.push(("scenarios/pbft/tight_n3.toml", 1));
    cases.push(("scenarios/raft/byzantine.toml", 1));
    for (path, seed) in cases {
        let mut scenario = Scenario::load(&scenario_path(path)).expect("bundled");
        let prepare = |scenario: &Scenario| {
            quorumlab::commands::prepare_scenario(scenario, None, false).expect("valid")
        };
        let plain = prepare(&scenario).run(seed, false);
        let recorded = prepare(&scenario).run_with(seed, false, true);
        assert_eq!(
            plain.result.trace_hash, recorded.result.trace_hash,
            "{path}"
        );
        let tape = recorded.tape.expect("recorded");
        let misbehaved = plain.result.faults_fired.get("byzantine_steps").copied();
        if misbehaved.unwrap_or(0) > 0 {
            assert!(!tape.byzantine.is_empty(), "{path} seed {seed}");
        }
        scenario.file.tape = Some(tape.clone());
        let replayed = prepare(&scenario).run(seed, false);
        assert_eq!(
            (&plain.result.trace_hash, plain.result.verdict),
            (&replayed.result.trace_hash, replayed.result.verdict),
            "{path} seed {seed} from its tape"
        );
        // Without its Byzantine entries every step of the Byzantine nodes is honest.
        if !tape.byzantine.is_empty() {
            let mut honest_tape = tape;
            honest_tape.byzantine.clear();
            scenario.file.tape = Some(honest_tape);
            let honest = prepare(&scenario).run(seed, false);
            assert_eq!(
                honest.result.faults_fired.get("byzantine_steps"),
                None,
                "{path}"
            );
        }
    }
}
