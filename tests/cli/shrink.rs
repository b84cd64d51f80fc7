//! Shrinking the Raft mutants' failures: each shrinks to at most 10 faults plus client
//! operations, the shrunk scenario fails the same way on replay, and shrinking is
//! deterministic. All nine mutants' figures: `quorumlab bench shrink` (README).

use sim_core::scenario::Scenario;

use crate::{scenario_path, temp_dir};

/// The mutant scenarios (files in scenarios/raft/mutants/) whose first failing seed
/// shrinks in a few seconds; the others take longer or need a later seed (see the
/// README's table) and are measured by `quorumlab bench shrink`.
const QUICK_MUTANTS: &[&str] = &[
    "accept-stale-replies",
    "commit-prior-term-3nodes",
    "count-duplicate-votes",
    "fixed-election-timeout",
    "vote-ignores-log",
];

fn body(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    lines.join("\n")
}

#[test]
fn raft_mutants_shrink_to_at_most_ten_faults_and_ops_and_replay() {
    for mutant in QUICK_MUTANTS {
        let path = scenario_path(&format!("scenarios/raft/mutants/{mutant}.toml"));
        let shrink = |name: &str| {
            let out = temp_dir(&format!("shrink-{mutant}-{name}"));
            let reports = quorumlab::shrink::shrink_failures(&path, 60, 1, &out).expect("shrinks");
            let report = reports.into_iter().next().expect("one seed");
            let text = std::fs::read_to_string(&report.scenario).unwrap();
            (report, text)
        };
        let (report, text) = shrink("a");
        assert!(
            !report.budget_exhausted,
            "{mutant}: the budget cut it short"
        );
        let after = &report.after;
        assert!(
            after.faults + after.client_ops <= 10,
            "{mutant}: {} faults + {} client ops left",
            after.faults,
            after.client_ops
        );
        // What shrinking minimises never grows, nor does the simulated time. Events may
        // (by a few): a calmer network or a prompt delivery can add a round of messages.
        let before = &report.before;
        assert!(
            after.faults + after.client_ops <= before.faults + before.client_ops
                && after.sim_time_us <= before.sim_time_us,
            "{mutant}: {report:?}"
        );
        // The shrunk file fails the same way on replay, on its own.
        let shrunk = Scenario::load(std::path::Path::new(&report.scenario)).unwrap();
        assert_eq!(shrunk.file.expect, report.property, "{mutant}");
        let runner = quorumlab::commands::prepare_scenario(&shrunk, None, false).unwrap();
        let replay = runner.run(report.seed, false);
        assert_eq!(
            replay.result.property.as_deref(),
            Some(report.property.as_str()),
            "{mutant}: the shrunk scenario replays the failure"
        );
        assert_eq!(
            quorumlab::shrink::Size::of(&replay),
            report.after,
            "{mutant}"
        );
        let (_, again) = shrink("b");
        assert_eq!(
            body(&text),
            body(&again),
            "{mutant}: shrinking is deterministic"
        );
    }
}
