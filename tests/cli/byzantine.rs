//! Byzantine nodes end to end: the fault bound is enforced with an error naming the field
//! and the bound, unknown strategies are refused with the known ones, a Byzantine run is
//! reproducible from its seed and says which nodes were Byzantine, and a strategy really
//! changes the run (the same seed without `[byzantine]` differs).

use std::path::Path;

use sim_core::scenario::Scenario;

use crate::{quorumlab, stderr, temp_dir};

fn pbft_scenario(byzantine: &str, extra: &str) -> String {
    format!(
        "protocol = \"pbft\"\nnodes = 4\nduration_ms = 1000\n{extra}\n\
         [workload]\nclients = 2\ninterval_ms = [10, 100]\ntimeout_ms = 500\n\n\
         [byzantine]\n{byzantine}\n"
    )
}

/// `quorumlab run` on a scenario written to a temporary file: exit code and stderr.
fn run_inline(name: &str, source: &str) -> (Option<i32>, String) {
    let dir = temp_dir(name);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scenario.toml");
    std::fs::write(&path, source).unwrap();
    let out = dir.join("out");
    let output = quorumlab(&[
        "run",
        path.to_str().unwrap(),
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    (output.status.code(), stderr(&output))
}

#[test]
fn more_byzantine_nodes_than_the_bound_is_an_error_unless_exceeded_on_purpose() {
    let source = pbft_scenario("count = 2\nstrategy = \"silent\"", "");
    let (code, message) = run_inline("byzantine-bound", &source);
    assert_eq!(code, Some(2), "{message}");
    assert!(message.contains("byzantine.count"), "{message}");
    assert!(message.contains("tolerates at most 1"), "{message}");
    assert!(message.contains("exceed_fault_bound = true"), "{message}");
    let exceeded = pbft_scenario(
        "count = 2\nstrategy = \"silent\"",
        "exceed_fault_bound = true",
    );
    let (code, message) = run_inline("byzantine-bound-exceeded", &exceeded);
    assert_ne!(code, Some(2), "{message}");
}

#[test]
fn an_unknown_strategy_is_refused_with_the_known_ones() {
    let source = pbft_scenario("nodes = [1]\nstrategy = \"sneaky\"", "");
    let (code, message) = run_inline("byzantine-strategy", &source);
    assert_eq!(code, Some(2), "{message}");
    assert!(message.contains("byzantine.strategy"), "{message}");
    for known in [
        "silent",
        "equivocate",
        "double_assign",
        "forged_view_change",
    ] {
        assert!(message.contains(known), "{known} missing: {message}");
    }
    // Raft exposes no PBFT strategy.
    let raft = "protocol = \"raft\"\nnodes = 3\nduration_ms = 1000\nexceed_fault_bound = true\n\
                [byzantine]\nnodes = [0]\nstrategy = \"double_assign\"\n";
    let (code, message) = run_inline("byzantine-raft-strategy", raft);
    assert_eq!(code, Some(2), "{message}");
}

#[test]
fn a_byzantine_run_is_reproducible_and_names_its_byzantine_nodes() {
    let scenario =
        Scenario::load(&crate::scenario_path("scenarios/pbft/generic_n4.toml")).expect("bundled");
    let runner = quorumlab::commands::prepare_scenario(&scenario, None, false).expect("valid");
    for seed in [1, 2, 3] {
        let first = runner.run(seed, false).result;
        let second = runner.run(seed, true).result;
        assert_eq!(first, second, "seed {seed}");
        assert_eq!(first.byzantine.len(), 1, "seed {seed}");
        assert_eq!(first.faults_fired.get("byzantine"), Some(&1), "seed {seed}");
    }
    // The same seed with the Byzantine table removed is a different run.
    let mut honest = scenario.file.clone();
    honest.byzantine = None;
    let honest = Scenario::from_file(Path::new("honest.toml"), honest).expect("valid");
    let honest = quorumlab::commands::prepare_scenario(&honest, None, false).expect("valid");
    let byzantine_hashes: Vec<String> = (1..=3)
        .map(|s| runner.run(s, false).result.trace_hash)
        .collect();
    let honest_hashes: Vec<String> = (1..=3)
        .map(|s| honest.run(s, false).result.trace_hash)
        .collect();
    assert!(byzantine_hashes
        .iter()
        .zip(&honest_hashes)
        .all(|(a, b)| a != b));
}

#[test]
fn list_strategies_names_generic_and_protocol_strategies() {
    let output = quorumlab(&["list", "strategies", "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let has = |protocol: &str, name: &str| {
        rows.iter()
            .any(|row| row["protocol"] == protocol && row["name"] == name)
    };
    assert!(has("pbft", "double_assign") && has("pbft", "mutate") && has("raft", "mutate"));
    assert!(has("pingpong", "silent") && !has("pingpong", "mutate"));
}

/// `count = "per_seed"`: each seed draws how many nodes are Byzantine, from 0 to the
/// protocol's bound (one past it with `exceed_fault_bound`), so a sweep mixes honest and
/// Byzantine runs; a protocol whose bound is 0 is refused with the field and the fix.
#[test]
fn a_per_seed_count_draws_within_the_bound() {
    let counts = |extra: &str, nodes: u32| -> std::collections::BTreeSet<u64> {
        let source = pbft_scenario("count = \"per_seed\"\nstrategy = \"silent\"", extra)
            .replace("nodes = 4", &format!("nodes = {nodes}"));
        let scenario = Scenario::parse(Path::new("per_seed.toml"), source).unwrap();
        let runner = quorumlab::commands::prepare_scenario(&scenario, None, false).unwrap();
        (1..=30)
            .map(|seed| {
                let output = runner.run(seed, false);
                output
                    .result
                    .faults_fired
                    .get("byzantine")
                    .copied()
                    .unwrap_or(0)
            })
            .collect()
    };
    assert_eq!(counts("", 7), [0, 1, 2].into_iter().collect());
    assert_eq!(counts("", 4), [0, 1].into_iter().collect());
    assert_eq!(
        counts("exceed_fault_bound = true", 4),
        [0, 1, 2].into_iter().collect()
    );
    let raft = "protocol = \"raft\"\nnodes = 3\nduration_ms = 1000\n\n\
                [byzantine]\ncount = \"per_seed\"\nstrategy = \"silent\"\n";
    let (code, message) = run_inline("byzantine-per-seed-raft", raft);
    assert_eq!(code, Some(2), "{message}");
    assert!(message.contains("byzantine.count"), "{message}");
    assert!(message.contains("exceed_fault_bound = true"), "{message}");
}
