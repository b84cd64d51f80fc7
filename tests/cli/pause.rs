//! The `pause` fault (a GC pause, a frozen VM) and per-node clock skew, on pingpong:
//! a paused node takes no steps, loses nothing, and resumes with its state.

use serde_json::Value;
use sim_core::result::{RunOutput, Verdict};

use crate::inline;

fn run(source: &str, seed: u64) -> RunOutput {
    sim_core::panics::install_quiet_hook();
    quorumlab::commands::prepare_scenario(&inline(source), None, false)
        .expect("valid")
        .run(seed, true)
}

fn events(output: &RunOutput) -> Vec<Value> {
    output
        .trace
        .as_ref()
        .unwrap()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const BASE: &str = "protocol = \"pingpong\"\nnodes = 3\nduration_ms = 1000\n";

/// Steps of node 1 (its inputs) in `from_us..to_us`, and drops on the way to it.
fn node1(events: &[Value], from_us: u64, to_us: u64) -> (usize, usize) {
    let within = |event: &&Value| {
        event["node"] == 1 && (from_us..to_us).contains(&event["time_us"].as_u64().unwrap())
    };
    let steps = events
        .iter()
        .filter(within)
        .filter(|event| matches!(event["event"].as_str(), Some("token" | "tick_timeout")))
        .count();
    let drops = events
        .iter()
        .filter(within)
        .filter(|event| event["event"] == "drop")
        .count();
    (steps, drops)
}

#[test]
fn a_paused_node_takes_no_steps_and_loses_nothing() {
    let paused = run(
        &format!(
            "{BASE}[[faults]]\nat_ms = 100\naction = \"pause\"\nnode = 1\nduration_ms = 300\n"
        ),
        1,
    );
    assert_eq!(paused.result.verdict, Verdict::Pass);
    assert_eq!(paused.result.faults_fired.get("pause"), Some(&1));
    let trace = events(&paused);
    let (during, dropped) = node1(&trace, 100_001, 400_000);
    assert_eq!(
        (during, dropped),
        (0, 0),
        "no step and no drop while paused"
    );
    // At the resume, what waited (the tokens sent to it, its expired tick) is handled.
    let (at_resume, _) = node1(&trace, 400_000, 400_001);
    assert!(at_resume >= 2, "{at_resume} inputs handled at the resume");
    assert!(
        !trace
            .iter()
            .any(|event| event["event"] == "restart" || event["event"] == "crash"),
        "a pause is not a crash: the node keeps its state"
    );
    // Every token still circulates: one per node, none lost (an isolation loses them).
    let tokens_after = |output: &RunOutput| {
        events(output)
            .iter()
            .filter(|event| {
                event["event"] == "token" && event["time_us"].as_u64().unwrap() > 900_000
            })
            .count()
    };
    let isolated = run(
        &format!(
            "{BASE}[[faults]]\nat_ms = 100\naction = \"isolate\"\nnode = 1\nduration_ms = 300\n"
        ),
        1,
    );
    assert!(tokens_after(&paused) > tokens_after(&isolated));
    assert_eq!(tokens_after(&isolated), 0, "an isolation drops the tokens");
}

#[test]
fn a_crash_ends_a_pause_and_what_waited_meets_a_crashed_node() {
    let output = run(
        &format!(
            "{BASE}[[faults]]\nat_ms = 100\naction = \"pause\"\nnode = 1\nduration_ms = 300\n\
             [[faults]]\nat_ms = 200\naction = \"crash\"\nnode = 1\nduration_ms = 100\n"
        ),
        1,
    );
    let trace = events(&output);
    let (during, dropped) = node1(&trace, 100_001, 200_000);
    assert_eq!(during, 0);
    assert_eq!(dropped, 0);
    let (_, dropped) = node1(&trace, 200_000, 200_001);
    assert!(
        dropped >= 1,
        "the tokens that waited are dropped at the crash"
    );
    let (after_restart, _) = node1(&trace, 300_000, 1_000_000);
    assert!(after_restart > 0);
}

#[test]
fn the_nemesis_pauses_within_the_fault_bound() {
    let source = format!(
        "{BASE}[nemesis]\nkinds = [\"pause\"]\ninterval_ms = [1, 5]\nduration_ms = [100, 200]\n"
    );
    let output = run(&source, 3);
    let fired = output
        .result
        .faults_fired
        .get("pause")
        .copied()
        .unwrap_or(0);
    assert!(fired >= 2, "{:?}", output.result.faults_fired);
    // pingpong tolerates n - 1 faulty nodes: one node always runs.
    let mut paused = std::collections::BTreeSet::new();
    for event in events(&output) {
        let fault = &event["fault"];
        match (event["event"].as_str(), fault["action"].as_str()) {
            (Some("fault"), Some("pause")) => {
                paused.insert(fault["node"].as_u64());
            }
            (Some("revert"), Some("pause")) => {
                paused.remove(&fault["node"].as_u64());
            }
            _ => {}
        }
        assert!(paused.len() <= 2, "{paused:?}");
    }
}

#[test]
fn bad_pauses_and_skews_are_refused() {
    for (fault, field) in [
        ("action = \"pause\"\nnode = 7\n", "faults[0].node"),
        ("action = \"pause\"\n", "faults[0]"),
        (
            "action = \"clock_skew\"\nnode = 0\noffset_ms = 90000000\n",
            "faults[0].offset_ms",
        ),
        (
            "action = \"clock_skew\"\nnode = 0\noffset_ms = 5\nfoo = 1\n",
            "faults[0]",
        ),
    ] {
        let source = format!("{BASE}[[faults]]\nat_ms = 1\n{fault}");
        let error = sim_core::scenario::Scenario::parse(std::path::Path::new("x.toml"), source)
            .expect_err(fault);
        assert!(error.field.starts_with(field), "{fault}: {error}");
        assert!(!error.fix.is_empty());
    }
    let source = format!("{BASE}[nemesis]\nkinds = [\"clock_skew\"]\nskew_ms_max = 90000000\n");
    let error =
        sim_core::scenario::Scenario::parse(std::path::Path::new("x.toml"), source).unwrap_err();
    assert_eq!(error.field, "nemesis.skew_ms_max");
}

#[test]
fn the_shrinker_can_write_a_pause_back_as_a_fault() {
    let action = sim_core::faults::FaultAction::Pause {
        node: sim_core::faults::Target::Node(2),
    };
    let spec = action.to_spec(5_000, Some(7_000));
    let back = sim_core::faults::FaultAction::from_spec(&spec.action, 3).unwrap();
    assert_eq!(back, action);
    let skew = sim_core::faults::FaultAction::ClockSkew {
        node: sim_core::faults::Target::Node(0),
        offset_ms: -250,
    };
    let spec = skew.to_spec(0, None);
    assert_eq!(
        sim_core::faults::FaultAction::from_spec(&spec.action, 3).unwrap(),
        skew
    );
}

#[test]
#[should_panic(expected = "reads_clock")]
fn a_protocol_that_did_not_declare_it_gets_no_clock() {
    let ctx = sim_core::Ctx::new(sim_core::NodeId(0), 1, &());
    let _ = ctx.local_clock_us();
}

#[test]
fn a_declared_clock_reads_real_time_with_skew() {
    let ctx = sim_core::Ctx::new(sim_core::NodeId(0), 1, &()).with_clock(1234);
    assert_eq!(ctx.local_clock_us(), 1234);
}

/// Skewing the clock of a protocol that reads none would change nothing: refused when the
/// scenario is bound to its protocol, naming the field.
#[test]
fn a_skew_for_a_protocol_without_a_clock_is_refused() {
    let dir = crate::temp_dir("skew-no-clock");
    std::fs::create_dir_all(&dir).unwrap();
    for (extra, field) in [
        (
            "[[faults]]\nat_ms = 1\naction = \"clock_skew\"\nnode = 0\noffset_ms = 5\n",
            "faults[0].action",
        ),
        (
            "[nemesis]\nkinds = [\"crash\", \"clock_skew\"]\n",
            "nemesis.kinds",
        ),
    ] {
        let file = dir.join("skew.toml");
        std::fs::write(&file, format!("{BASE}{extra}")).unwrap();
        let output = crate::quorumlab(&["run", file.to_str().unwrap()]);
        let stderr = crate::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(field) && stderr.contains("reads no clock"),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
