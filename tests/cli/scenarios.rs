//! Every bundled scenario holds its `expect`, through the same code as `quorumlab test`.
//! Scenarios with a mutant must also pass with the correct protocol: the same sweep that
//! catches the bug shows the real protocol does not have it.

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
fn every_bundled_scenario_holds_its_expectation() {
    sim_core::panics::install_quiet_hook();
    let mut problems = Vec::new();
    for scenario in bundled() {
        let outcome = quorumlab::testing::check_expectation(&scenario, 2)
            .expect("bundled scenarios are valid");
        quorumlab::testing::print_expectation(&outcome, 0.0);
        if !outcome.held {
            problems.push(format!(
                "{}: {}",
                outcome.scenario,
                outcome.problem.unwrap_or_default()
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "expectations failed:\n{}",
        problems.join("\n")
    );
}

#[test]
fn mutant_scenarios_pass_without_their_mutant() {
    sim_core::panics::install_quiet_hook();
    let mut checked = 0;
    for mut scenario in bundled().into_iter().filter(|s| s.file.mutant.is_some()) {
        scenario.file.mutant = None;
        if matches!(scenario.file.expect.as_str(), "client_progress" | "leader")
            && scenario.file.exceed_fault_bound
        {
            continue;
        }
        scenario.file.expect = "pass".to_string();
        let outcome = quorumlab::testing::check_expectation(&scenario, 2).expect("valid");
        assert!(
            outcome.held,
            "{} fails without its mutant: {}",
            outcome.scenario,
            outcome.problem.unwrap_or_default()
        );
        checked += 1;
    }
    assert!(
        checked >= 12,
        "expected a scenario per Raft and kv mutant, checked {checked}"
    );
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
