//! The adversarial scheduler (`[adversary]`, issue 12): it keeps Paxos's dueling
//! proposers undecided on every seed while delivering every message within its bound;
//! without it the same duel decides; its runs reproduce and replay from their tape; and
//! bad tables are refused.

use std::collections::BTreeMap;
use std::path::Path;

use sim_core::result::{RunOutput, Verdict};
use sim_core::scenario::Scenario;
use sim_core::trace::{TraceDetail, TraceEffect, TraceEvent, TraceFate};

use crate::{quorumlab, scenario_path, stderr, temp_dir};

const DUEL: &str = "scenarios/paxos/dueling_async.toml";
const SEEDS: u64 = 20;

fn run(scenario: &Scenario, seed: u64, trace: bool) -> RunOutput {
    sim_core::panics::install_quiet_hook();
    quorumlab::commands::prepare_scenario(scenario, None, false)
        .expect("valid")
        .run(seed, trace)
}

fn duel_source() -> String {
    std::fs::read_to_string(scenario_path(DUEL)).expect("bundled")
}

fn parse(source: String) -> Scenario {
    Scenario::parse(Path::new("adversary.toml"), source).expect("valid")
}

/// Every message the network delivers arrives (as a step or a drop on arrival), unless
/// the run ended within `hold_max_us` of when it would have arrived unheld.
fn assert_every_message_arrives(trace: &[String], hold_max_us: u64, label: &str) {
    let events: Vec<TraceEvent> = trace
        .iter()
        .map(|line| serde_json::from_str(line).expect("a trace line"))
        .collect();
    let end_us = events.last().expect("a trace").time_us;
    let mut due: BTreeMap<u64, u64> = BTreeMap::new();
    for event in &events {
        match &event.detail {
            TraceDetail::Step {
                effects, delivered, ..
            } => {
                if let Some(arrival) = delivered {
                    due.remove(&arrival.id);
                }
                for effect in effects {
                    if let TraceEffect::Send {
                        fate: Some(TraceFate::Delivered { delay_us, .. }),
                        id: Some(id),
                        ..
                    } = effect
                    {
                        due.insert(*id, event.time_us + delay_us);
                    }
                }
            }
            TraceDetail::Drop {
                arrival: Some(arrival),
                ..
            } => {
                due.remove(&arrival.id);
            }
            _ => {}
        }
    }
    let late: Vec<_> = due
        .iter()
        .filter(|(_, &arrives_us)| arrives_us + hold_max_us <= end_us)
        .collect();
    assert!(late.is_empty(), "{label}: never delivered: {late:?}");
}

#[test]
fn the_adversary_keeps_the_duel_undecided_and_delivers_every_message() {
    let scenario = Scenario::load(&scenario_path(DUEL)).expect("bundled");
    let hold_max_us = scenario
        .file
        .adversary
        .as_ref()
        .expect("a table")
        .hold_max_us();
    for seed in 1..=SEEDS {
        let output = run(&scenario, seed, true);
        let result = &output.result;
        // A liveness verdict: safety held on every step until the run's end.
        assert_eq!(
            (result.verdict, result.property.as_deref()),
            (Verdict::Liveness, Some("decided")),
            "seed {seed}: {:?}",
            result.detail
        );
        assert_eq!(
            result.metrics.observations.get("decided"),
            None,
            "seed {seed}"
        );
        assert!(
            result.metrics.observations["prepare"] > 20,
            "seed {seed}: a duel"
        );
        assert!(result.faults_fired["adversary_holds"] > 0, "seed {seed}");
        assert!(
            result.metrics.adversary_held_us_max <= hold_max_us,
            "seed {seed}"
        );
        let trace = output.trace.as_ref().expect("traced");
        assert_every_message_arrives(trace, hold_max_us, &format!("seed {seed}"));
    }
}

/// Without the adversary (partial synchrony, the network's random delays) the very same
/// duel decides, with or without backoff: the scheduler is what keeps it undecided.
#[test]
fn without_the_adversary_the_same_duel_decides() {
    let source = duel_source();
    let (head, _) = source.split_once("\n[adversary]\n").expect("the table");
    let (_, tail) = source.split_once("\n[params]\n").expect("params");
    let partial = format!("{head}\n[params]\n{tail}")
        .replace("expect = \"decided\"\n", "")
        .replace("expect_seeds = \"all\"\n", "")
        .replace("synchrony = \"asynchronous\"", "synchrony = \"partial\"")
        .replace("\"fault_fired\"", "\"decided\"");
    for backoff in ["[0, 0]", "[2, 20]"] {
        let scenario =
            parse(partial.replace("backoff_ms = [0, 0]", &format!("backoff_ms = {backoff}")));
        for seed in 1..=SEEDS {
            let result = run(&scenario, seed, false).result;
            assert_eq!(
                result.verdict,
                Verdict::Pass,
                "backoff {backoff} seed {seed}: {:?}",
                result.detail
            );
        }
    }
}

/// With no competing proposer, nothing makes a held accept refusable: it waits out the
/// bound, is delivered, and the value is chosen. The bound is what makes the scheduler
/// fair.
#[test]
fn a_held_message_is_delivered_at_the_bound() {
    let source = duel_source()
        .replace("expect = \"decided\"\n", "")
        .replace("expect_seeds = \"all\"\n", "")
        .replace("proposers = [0, 1]", "proposers = [0]")
        .replace("retry_ms = [50, 100]", "retry_ms = [2000, 2000]")
        .replace("hold_max_ms = 1000", "hold_max_ms = 50")
        .replace("\"fault_fired\"", "\"decided\"");
    let scenario = parse(source);
    for seed in 1..=5 {
        let result = run(&scenario, seed, false).result;
        assert_eq!(
            result.verdict,
            Verdict::Pass,
            "seed {seed}: {:?}",
            result.detail
        );
        assert_eq!(result.metrics.adversary_held_us_max, 50_000, "seed {seed}");
    }
}

/// Same seed, same run; the recorded tape holds every hold (`held_us`) and replays the
/// run exactly; without its holds, the tape's run decides.
#[test]
fn adversarial_runs_reproduce_and_replay_from_their_tape() {
    let mut scenario = Scenario::load(&scenario_path(DUEL)).expect("bundled");
    for seed in [1, 7] {
        scenario.file.tape = None;
        let prepared =
            quorumlab::commands::prepare_scenario(&scenario, None, false).expect("valid");
        let first = prepared.run(seed, false).result;
        let recorded = prepared.run_with(seed, false, true);
        assert_eq!(first.trace_hash, recorded.result.trace_hash, "seed {seed}");
        assert_eq!(
            first.trace_hash,
            prepared.run(seed, false).result.trace_hash
        );
        let tape = recorded.tape.expect("recorded");
        let holds = tape.messages.iter().filter(|m| m.is_held()).count() as u64;
        assert_eq!(
            holds,
            first.faults_fired["adversary_holds"] - first.metrics.adversary_held_at_end
        );
        scenario.file.tape = Some(tape.clone());
        let replayed = run(&scenario, seed, false).result;
        assert_eq!(
            (
                &replayed.trace_hash,
                replayed.verdict,
                replayed.metrics.events
            ),
            (&first.trace_hash, first.verdict, first.metrics.events),
            "seed {seed} from its tape"
        );
        let mut unheld = tape;
        for message in &mut unheld.messages {
            message.held_us = None;
            message.duplicate_held_us = None;
        }
        scenario.file.tape = Some(unheld);
        // It decides (and so fails only `sometimes = ["fault_fired"]`: nothing was held).
        let unheld_run = run(&scenario, seed, false).result;
        assert!(
            unheld_run.metrics.observations.contains_key("decided"),
            "seed {seed}: {:?}",
            unheld_run.detail
        );
        assert_eq!(unheld_run.faults_fired.get("adversary_holds"), None);
    }
}

#[test]
fn bad_adversary_tables_are_refused() {
    let dir = temp_dir("adversary-refusals");
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let source = duel_source();
    let cases = [
        (
            source.replace("synchrony = \"asynchronous\"", "synchrony = \"partial\""),
            "field `adversary`: an adversarial scheduler delays messages without bound, \
             which the `partial` synchrony model forbids",
            "set `synchrony = \"asynchronous\"`",
        ),
        (
            source.replace("synchrony = \"asynchronous\"\n", ""),
            "field `adversary`",
            "set `synchrony = \"asynchronous\"`",
        ),
        (
            source.replace("starve = [\"accepted\"]", "starve = [\"acepted\"]"),
            "field `adversary.starve[0]`: `acepted` is not an observation kind of paxos",
            "use some of: prepare, propose, promised, accepted, decided",
        ),
        (
            source.replace("starve = [\"accepted\"]", "starve = []"),
            "field `adversary.starve`: no observation kind to starve",
            "starve = [\"accepted\"]",
        ),
        (
            source.replace("hold_max_ms = 1000", "hold_max_ms = 0"),
            "field `adversary.hold_max_ms`: 0 ms",
            "hold_max_ms = 1000",
        ),
        (
            source.replace("hold_max_ms = 1000", "hold_max_ms = 1000\nhold_min_ms = 5"),
            "unknown field `hold_min_ms`",
            "",
        ),
        (
            format!(
                "{}\n[[tape.messages]]\nfrom = 0\nto = 1\nn = 0\nheld_us = 5000\n",
                source.replace(
                    "[adversary]\nstarve = [\"accepted\"]\nhold_max_ms = 1000\n",
                    ""
                )
            ),
            "field `tape.messages`: the tape holds messages back (`held_us`), and there is no \
             [adversary] table",
            "add the [adversary] table",
        ),
    ];
    for (index, (text, message, fix)) in cases.iter().enumerate() {
        let path = dir.join(format!("bad{index}.toml"));
        std::fs::write(&path, text).expect("written");
        let output = quorumlab(&["run", path.to_str().expect("utf-8")]);
        let error = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "case {index}: {error}");
        assert!(
            error.contains(&format!("bad{index}.toml:")),
            "case {index} names the file and line: {error}"
        );
        assert!(error.contains(message), "case {index}: {error}");
        assert!(error.contains(fix), "case {index}: {error}");
    }
}
