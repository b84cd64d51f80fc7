//! Twins (`strategy = "twins"`): a node run as two honest copies of one identity. Each
//! copy hears only the peers of its part of `twins_split` and its sends to the others
//! are dropped; a twins run is reproducible from its seed and from its recorded tape;
//! bad splits are refused naming the field and the fix; `check` refuses twins.

use std::path::Path;

use sim_core::scenario::Scenario;
use sim_core::trace::{TraceDetail, TraceEffect, TraceFate};

use crate::{inline, quorumlab, scenario_path, stderr, temp_dir};

fn raft_twin(byzantine: &str) -> String {
    format!(
        "protocol = \"raft\"\nnodes = 4\nduration_ms = 2000\nexceed_fault_bound = true\n\n\
         [byzantine]\n{byzantine}\n\n\
         [network]\nlatency = {{ dist = \"uniform\", min_us = 1000, max_us = 5000 }}\n"
    )
}

/// The trace lines of one traced run.
fn trace_of(scenario: &Scenario, seed: u64) -> Vec<sim_core::trace::TraceEvent> {
    let runner = quorumlab::commands::prepare_scenario(scenario, None, false).expect("valid");
    let output = runner.run(seed, true);
    output
        .trace
        .expect("traced")
        .iter()
        .map(|line| serde_json::from_str(line).expect("a trace line"))
        .collect()
}

/// Node 0 is a twin with copy 0 on {1, 3} and copy 1 on {2, 3}: copy 0 never hears 2,
/// copy 1 never hears 1, both hear 3, and every send across the split is dropped.
#[test]
fn each_copy_hears_and_reaches_only_its_part() {
    let scenario = inline(&raft_twin(
        "nodes = [0]\nstrategy = \"twins\"\ntwins_split = [[1, 3], [2, 3]]",
    ));
    let mut heard = [[0u32; 4]; 2];
    let mut cut = [[0u32; 4]; 2];
    let mut delivered = [[0u32; 4]; 2];
    for seed in 1..=3 {
        for line in trace_of(&scenario, seed) {
            let TraceDetail::Step { input, effects, .. } = &line.detail else {
                continue;
            };
            assert_eq!(line.twin.is_some(), line.node == Some(0), "{line:?}");
            let Some(copy) = line.twin.map(usize::from) else {
                continue;
            };
            if let Some(from) = input.get("from").and_then(|from| from.as_u64()) {
                heard[copy][from as usize] += 1;
            }
            for effect in effects {
                if let TraceEffect::Send { to, fate, .. } = effect {
                    match fate {
                        Some(TraceFate::Dropped { dropped }) if dropped == "twin_split" => {
                            cut[copy][*to as usize] += 1
                        }
                        _ => delivered[copy][*to as usize] += 1,
                    }
                }
            }
        }
    }
    assert!(
        heard[0][1] > 0 && heard[0][3] > 0 && heard[0][2] == 0,
        "{heard:?}"
    );
    assert!(
        heard[1][2] > 0 && heard[1][3] > 0 && heard[1][1] == 0,
        "{heard:?}"
    );
    assert!(cut[0][2] > 0 && cut[0][1] == 0 && cut[0][3] == 0, "{cut:?}");
    assert!(cut[1][1] > 0 && cut[1][2] == 0 && cut[1][3] == 0, "{cut:?}");
    assert!(
        delivered[0][2] == 0 && delivered[1][1] == 0,
        "{delivered:?}"
    );
}

/// A twins run replays from its seed and from its recorded tape (same trace hash), and
/// it is not the honest run.
#[test]
fn a_twins_run_is_reproducible_and_replays_from_its_tape() {
    for (path, seed) in [
        ("scenarios/raft/twins.toml", 24),
        ("scenarios/pbft/twins_n4.toml", 1),
        ("scenarios/pbft/twins_tight.toml", 1),
    ] {
        let mut scenario = Scenario::load(&scenario_path(path)).expect("bundled");
        let prepare = |scenario: &Scenario| {
            quorumlab::commands::prepare_scenario(scenario, None, false).expect("valid")
        };
        let plain = prepare(&scenario).run(seed, false);
        assert_eq!(
            plain.result,
            prepare(&scenario).run(seed, true).result,
            "{path}"
        );
        assert!(
            plain
                .result
                .faults_fired
                .get("byzantine_steps")
                .copied()
                .unwrap_or(0)
                > 0,
            "{path}: copy 1's steps count as Byzantine steps"
        );
        let recorded = prepare(&scenario).run_with(seed, false, true);
        assert_eq!(
            plain.result.trace_hash, recorded.result.trace_hash,
            "{path}"
        );
        scenario.file.tape = Some(recorded.tape.expect("recorded"));
        let replayed = prepare(&scenario).run(seed, false);
        assert_eq!(
            (&plain.result.trace_hash, plain.result.verdict),
            (&replayed.result.trace_hash, replayed.result.verdict),
            "{path} seed {seed} from its tape"
        );
        let mut honest = Scenario::load(&scenario_path(path)).expect("bundled").file;
        honest.byzantine = None;
        honest.exceed_fault_bound = false;
        let honest = Scenario::from_file(Path::new("honest.toml"), honest).expect("valid");
        assert_ne!(
            prepare(&honest).run(seed, false).result.trace_hash,
            plain.result.trace_hash,
            "{path}"
        );
    }
}

/// Bad twins tables are refused (exit 2) naming the file, the line, the field and a fix.
#[test]
fn bad_twins_tables_are_refused_with_the_field_and_the_fix() {
    let cases = [
        (
            "nodes = [0]\nstrategy = \"twins\"\ntwins_split = [[1, 7], [2]]",
            "node 7 does not exist",
        ),
        (
            "nodes = [0]\nstrategy = \"twins\"",
            "twins_split = [[0, 2], [3]]",
        ),
        (
            "nodes = [0]\nstrategy = \"twins\"\ntwins_split = [[0, 1], [2]]",
            "node 0 is a twin itself",
        ),
        (
            "nodes = [0]\nstrategy = \"twins\"\ntwins_split = [[1], [2], [3]]",
            "3 parts",
        ),
        (
            "count = 1\nstrategy = \"twins\"\ntwins_split = [[1], [2]]",
            "twins_split = \\\"per_seed\\\"",
        ),
        (
            "nodes = [0]\nstrategy = \"silent\"\ntwins_split = [[1], [2]]",
            "is for `strategy = \\\"twins\\\"`",
        ),
        (
            "nodes = [0]\nstrategy = [\"twins\", \"silent\"]\ntwins_split = \"per_seed\"",
            "alone",
        ),
    ];
    for (index, (byzantine, expected)) in cases.into_iter().enumerate() {
        let dir = temp_dir(&format!("twins-bad-{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("twins.toml");
        std::fs::write(&path, raft_twin(byzantine)).unwrap();
        let output = quorumlab(&["run", path.to_str().unwrap()]);
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{byzantine}: {message}");
        // `FILE:LINE: field `byzantine.…``, then the fix.
        let located = message.split("twins.toml:").nth(1).unwrap_or_default();
        assert!(
            located.starts_with(|c: char| c.is_ascii_digit()),
            "{message}"
        );
        assert!(message.contains("field `byzantine."), "{message}");
        assert!(message.contains("fix:"), "{message}");
        let unescaped = expected.replace("\\\"", "\"");
        assert!(message.contains(&unescaped), "{byzantine}: {message}");
    }
}

/// A twin counts against the protocol's Byzantine bound.
#[test]
fn a_twin_counts_against_the_fault_bound() {
    let source = raft_twin("nodes = [0]\nstrategy = \"twins\"\ntwins_split = [[1], [2]]")
        .replace("exceed_fault_bound = true\n", "");
    let dir = temp_dir("twins-bound");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("twins.toml");
    std::fs::write(&path, source).unwrap();
    let output = quorumlab(&["run", path.to_str().unwrap()]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("tolerates at most 0"), "{message}");
}

#[test]
fn check_refuses_twins_as_not_yet_supported() {
    let dir = temp_dir("twins-check");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("twins.toml");
    let source = format!(
        "{}\n[check]\nmax_byzantine_actions = 1\nsometimes = [\"became_leader\"]\n",
        raft_twin("nodes = [0]\nstrategy = \"twins\"\ntwins_split = [[1], [2]]")
    );
    std::fs::write(&path, source).unwrap();
    let output = quorumlab(&["check", path.to_str().unwrap()]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("not yet supported: twins"), "{message}");
}
