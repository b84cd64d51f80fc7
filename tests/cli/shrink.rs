//! Shrinking the Raft mutants' failures: each shrinks to at most 10 faults plus client
//! operations, the shrunk scenario fails the same way on replay, and shrinking is
//! deterministic. The search is bounded by a count of attempts, which is honoured, and
//! a wall-clock early stop is reported as such. All nine mutants' figures: `quorumlab
//! bench shrink` (README).

use quorumlab::shrink::{Limits, StoppedBy};
use sim_core::scenario::Scenario;

use crate::{failing_run, quorumlab, scenario_path, stderr, stdout, temp_dir};

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
            let reports = quorumlab::shrink::shrink_failures(&path, Limits::default(), 1, &out)
                .expect("shrinks");
            let report = reports.into_iter().next().expect("one seed");
            let text = std::fs::read_to_string(&report.scenario).unwrap();
            (report, text)
        };
        let (report, text) = shrink("a");
        assert_eq!(
            report.stopped_by,
            StoppedBy::Finished,
            "{mutant}: the default attempt bound cut it short ({} attempts)",
            report.attempts
        );
        assert!(report.attempts < report.max_attempts && report.note.is_none());
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

/// Shrink a mutant's first failing seed into `out`, twice: the same paths each time, so
/// the two scenario files must be byte-identical, header and all.
fn shrink_twice(
    mutant: &str,
    limits: Limits,
    name: &str,
) -> [(quorumlab::shrink::ShrinkReport, String); 2] {
    let path = scenario_path(&format!("scenarios/raft/mutants/{mutant}.toml"));
    let out = temp_dir(&format!("shrink-twice-{mutant}-{name}"));
    [(), ()].map(|()| {
        let reports = quorumlab::shrink::shrink_failures(&path, limits, 1, &out).expect("shrinks");
        let report = reports.into_iter().next().expect("one seed");
        let text = std::fs::read_to_string(&report.scenario).unwrap();
        (report, text)
    })
}

#[test]
fn two_shrinks_of_one_run_write_identical_files_and_the_attempt_bound_is_honoured() {
    // vote-ignores-log's first failure takes a few hundred attempts to shrink fully.
    let [(full, full_text), (full_again, full_again_text)] =
        shrink_twice("vote-ignores-log", Limits::default(), "full");
    assert_eq!(full.stopped_by, StoppedBy::Finished);
    assert_eq!(full.attempts, full_again.attempts);
    assert_eq!(full_text, full_again_text, "shrinking is deterministic");

    // Cut at 40 attempts: exactly 40 are made, the report says the bound stopped it (and
    // no wall clock did), and where it stops is the same on every run.
    let bound = 40;
    assert!(full.attempts > bound, "{} attempts", full.attempts);
    let limits = Limits {
        max_attempts: bound,
        budget_seconds: None,
    };
    let [(cut, cut_text), (cut_again, cut_again_text)] =
        shrink_twice("vote-ignores-log", limits, "cut");
    for report in [&cut, &cut_again] {
        assert_eq!(report.attempts, bound);
        assert_eq!(report.max_attempts, bound);
        assert_eq!(report.stopped_by, StoppedBy::MaxAttempts);
        assert_eq!(report.note, None);
    }
    assert_eq!(
        cut_text, cut_again_text,
        "a bounded shrink is deterministic too"
    );
    assert_ne!(
        cut_text, full_text,
        "40 attempts do not reach the full shrink"
    );
    assert!(
        cut.after.faults + cut.after.client_ops >= full.after.faults + full.after.client_ops,
        "{cut:?} vs {full:?}"
    );
    // The bounded file still fails the same way on replay.
    let shrunk = Scenario::load(std::path::Path::new(&cut.scenario)).unwrap();
    let runner = quorumlab::commands::prepare_scenario(&shrunk, None, false).unwrap();
    let replay = runner.run(cut.seed, false);
    assert_eq!(
        replay.result.property.as_deref(),
        Some(cut.property.as_str())
    );
}

#[test]
fn a_wall_clock_stop_is_reported_as_machine_dependent() {
    let run = failing_run("shrink-wall-clock");
    let target = run.join("cut.toml");
    let args = |json: bool| {
        let mut args = vec![
            "shrink",
            run.to_str().unwrap(),
            "--budget-seconds",
            "0",
            "--out",
            target.to_str().unwrap(),
        ];
        if json {
            args.push("--json");
        }
        let output = quorumlab(&args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        stdout(&output)
    };
    let sentence =
        "stopped by the wall-clock budget after 0 attempts; the result may differ on another machine";
    let human = args(false);
    assert!(human.contains(sentence), "{human}");
    let report: serde_json::Value = serde_json::from_str(&args(true)).unwrap();
    assert_eq!(report["stopped_by"], "wall_clock_budget", "{report}");
    assert_eq!(report["note"], sentence, "{report}");
    assert_eq!(report["attempts"], 0, "{report}");
    assert_eq!(report["budget_seconds"], 0, "{report}");
    // A bound of no attempts at all is refused, naming the flag.
    let refused = quorumlab(&["shrink", run.to_str().unwrap(), "--max-attempts", "0"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("--max-attempts"),
        "{}",
        stderr(&refused)
    );
}

/// A liveness mutant's failure shrinks to a file the correct protocol passes: the shrink
/// keeps timers random and operations in place, and backs off any step after which the
/// correct protocol fails too (issue 15). Every `liveness` mutant of every protocol, each
/// from its scenario in scenarios/<protocol>/mutants/.
#[test]
fn liveness_mutants_shrink_to_files_the_correct_protocol_passes() {
    let mut checked = 0;
    for entry in quorumlab::registry() {
        for info in entry.mutants().iter().filter(|info| info.liveness) {
            let name = format!("scenarios/{}/mutants/{}.toml", entry.name(), info.name);
            let path = scenario_path(&name);
            let out = temp_dir(&format!("shrink-liveness-{}", info.name));
            let reports = quorumlab::shrink::shrink_failures(&path, Limits::default(), 1, &out)
                .expect("shrinks");
            let report = reports.into_iter().next().expect("one seed");
            let shrunk = Scenario::load(std::path::Path::new(&report.scenario)).unwrap();
            assert_eq!(shrunk.file.mutant.as_deref(), Some(info.name), "{name}");
            let with_mutant = quorumlab::commands::prepare_scenario(&shrunk, None, false).unwrap();
            let failed = with_mutant.run(report.seed, false);
            assert_eq!(
                failed.result.property.as_deref(),
                Some(report.property.as_str()),
                "{name}: the shrunk file fails with its mutant"
            );
            let mut correct = shrunk.file.clone();
            correct.mutant = None;
            let correct = Scenario::from_file(&shrunk.path, correct).unwrap();
            let runner = quorumlab::commands::prepare_scenario(&correct, None, false).unwrap();
            let output = runner.run(report.seed, false);
            assert!(
                !output.result.verdict.is_failure(),
                "{name}: the shrunk file fails on the correct protocol too: {:?}",
                output.result
            );
            checked += 1;
        }
    }
    assert!(checked >= 1, "no liveness mutant was checked");
}

/// Byzantine failures shrink to a few misbehaviours (`[[tape.byzantine]]` entries, each
/// a step the strategy changed): n = 6 with two Byzantine primaries-to-be (the bound is
/// tight), and a mutant caught by one replica drawn per seed (`count = 1`), which the
/// shrunk file names. Each shrunk file fails on its own and fits the JSON Schema.
#[test]
fn byzantine_failures_shrink_to_a_few_misbehaviours_and_replay() {
    let (_, validator) = crate::schema::printed_schema(&["schema"]);
    // (file, property, most misbehaviours left, the Byzantine nodes left)
    let cases = [
        (
            "scenarios/pbft/tight_n6.toml",
            "agreement",
            2,
            "nodes = [0, 1]",
        ),
        (
            "scenarios/pbft/mutants/gc-unstable-checkpoint.toml",
            "agreement",
            1,
            "nodes = [1]",
        ),
    ];
    for (file, property, misbehaviours, nodes) in cases {
        let out = temp_dir(&format!("shrink-byzantine-{}", file.replace('/', "-")));
        let reports =
            quorumlab::shrink::shrink_failures(&scenario_path(file), Limits::default(), 1, &out)
                .expect("shrinks");
        let report = reports.into_iter().next().expect("one seed");
        assert_eq!(report.property, property, "{file}");
        assert_eq!(report.stopped_by, StoppedBy::Finished, "{file}: {report:?}");
        let (before, after) = (&report.before, &report.after);
        assert!(
            after.faults < before.faults && after.faults <= misbehaviours,
            "{file}: {report:?}"
        );
        let shrunk = Scenario::load(std::path::Path::new(&report.scenario)).unwrap();
        let tape = shrunk.file.tape.as_ref().expect("a tape");
        assert!(
            !tape.byzantine.is_empty() && tape.byzantine.len() <= misbehaviours,
            "{file}: {:?}",
            tape.byzantine
        );
        let runner = quorumlab::commands::prepare_scenario(&shrunk, None, false).unwrap();
        let replay = runner.run(report.seed, false);
        assert_eq!(replay.result.property.as_deref(), Some(property), "{file}");
        assert_eq!(quorumlab::shrink::Size::of(&replay), report.after, "{file}");
        let text = std::fs::read_to_string(&report.scenario).unwrap();
        assert!(
            text.contains("[[tape.byzantine]]") && text.contains(nodes),
            "{file}: {text}"
        );
        // A client operation's `draw` may exceed 2^63, which `toml::Value` (i64) cannot
        // hold though the scenario loader reads it: zero those for the schema check.
        let small: Vec<String> = text
            .lines()
            .map(|line| match line.strip_prefix("draw = ") {
                Some(_) => "draw = 0".to_string(),
                None => line.to_string(),
            })
            .collect();
        let errors: Vec<String> = validator
            .iter_errors(&crate::schema::toml_as_json(&small.join("\n")))
            .map(|error| format!("{error} at {}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:#?}");
    }
}
