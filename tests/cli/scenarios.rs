//! Checks over the bundled scenarios as a set: every mutant has a file that catches it,
//! and a bound catches what it should. Each file's own `expect` (and, for a mutant file,
//! passing without its mutant) is a test of its own in tests/scenarios/main.rs.

use sim_core::scenario::Scenario;

use crate::root;

fn bundled() -> Vec<Scenario> {
    let files =
        quorumlab::collect_scenarios(&[root().join("scenarios")]).expect("scenarios/ exists");
    assert!(
        files.len() >= 8,
        "the bundled scenarios are missing: {files:?}"
    );
    files
        .iter()
        .map(|file| Scenario::load(file).unwrap_or_else(|error| panic!("{error}")))
        .collect()
}

#[test]
fn every_mutant_has_a_scenario_that_catches_it() {
    let scenarios = bundled();
    let registry = protocols::registry();
    for protocol in &registry {
        for mutant in protocol.mutants() {
            assert!(
                scenarios.iter().any(|s| s.file.protocol == protocol.name()
                    && s.file.mutant.as_deref() == Some(mutant.name)
                    && s.file.expect != "pass"),
                "no bundled {} scenario expects mutant `{}` to be caught",
                protocol.name(),
                mutant.name
            );
        }
    }
    assert!(
        registry
            .iter()
            .any(|p| p.name() == "kv" && p.mutants().len() == 3),
        "kv has its three mutants"
    );
}

#[test]
fn rpc_count_bounds_fail_a_chatty_configuration() {
    // rpc_count.toml passes with the default 50 ms heartbeat; a 2 ms heartbeat sends
    // dozens of messages per committed command and must trip the bound.
    let path = root().join("scenarios/raft/rpc_count.toml");
    let source = std::fs::read_to_string(&path).unwrap();
    let chatty =
        Scenario::parse(&path, format!("{source}\n[params]\nheartbeat_ms = 2\n")).expect("valid");
    let run = |scenario: &Scenario| {
        quorumlab::commands::prepare_scenario(scenario, None, false)
            .expect("valid")
            .run(1, false)
            .result
    };
    let result = run(&chatty);
    assert_eq!(
        result.property.as_deref(),
        Some("bounds.max_messages_per_committed_op"),
        "{result:?}"
    );
    assert!(result.detail.unwrap().contains("per op"));
    let normal = run(&Scenario::load(&path).unwrap());
    assert!(!normal.verdict.is_failure(), "{normal:?}");
}
