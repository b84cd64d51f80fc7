//! The lock service (`protocols/src/lease/`): fencing is what keeps the storage safe
//! under pauses and clock trouble, and the model checker refuses a clock-reading protocol.

use sim_core::result::Verdict;
use sim_core::scenario::Scenario;

use crate::root;

fn load(path: &str) -> Scenario {
    Scenario::load(&root().join(path)).expect("a bundled scenario loads")
}

/// Over `seeds`, how many runs pass, and how many stale writes the storage rejected.
fn sweep(path: &str, mutant: Option<&str>, seeds: std::ops::RangeInclusive<u64>) -> (u64, u64) {
    sim_core::panics::install_quiet_hook();
    let prepared = quorumlab::commands::prepare_scenario(&load(path), mutant, false).unwrap();
    let (mut passed, mut rejected) = (0, 0);
    for seed in seeds {
        let output = prepared.run(seed, false);
        passed += u64::from(output.result.verdict == Verdict::Pass);
        rejected += output
            .result
            .metrics
            .observations
            .get("write_rejected")
            .copied()
            .unwrap_or(0);
    }
    (passed, rejected)
}

#[test]
fn fencing_rejects_the_stale_writes_of_paused_and_slow_clocked_clients() {
    for path in ["scenarios/lease/pause.toml", "scenarios/lease/skew.toml"] {
        let (passed, rejected) = sweep(path, None, 1..=20);
        assert_eq!(passed, 20, "{path}");
        assert!(rejected > 0, "{path}: no stale write reached the storage");
        // The same stale writes corrupt a storage that ignores tokens.
        let (passed, rejected) = sweep(path, Some("no-fencing"), 1..=20);
        assert!(passed < 20, "{path}");
        assert_eq!(rejected, 0);
    }
}

#[test]
fn the_model_checker_refuses_a_protocol_that_reads_its_clock() {
    let scenario = load("scenarios/lease/pause.toml");
    let error = sim_core::runner::check(
        &protocols::registry(),
        &scenario,
        None,
        &sim_core::check::CheckOptions::default(),
    )
    .unwrap_err();
    assert!(error.message.starts_with("not yet supported"), "{error}");
    assert!(error.fix.contains("quorumlab run"), "{error}");
}

#[test]
fn a_lease_cluster_of_the_wrong_size_is_refused() {
    let scenario = crate::inline("protocol = \"lease\"\nnodes = 5\nduration_ms = 100\n");
    let error = quorumlab::commands::prepare_scenario(&scenario, None, false)
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("params.clients"), "{error}");
    assert!(error.contains("nodes = 6"), "{error}");
}
