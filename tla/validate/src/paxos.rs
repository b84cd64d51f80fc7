//! Trace validation of single-decree Paxos runs: is a `protocol = "paxos"` run's
//! `trace.ndjson` a behaviour of `tla/Paxos.tla`, through `tla/TracePaxos.tla`?
//!
//! Each node step or crash becomes one TLA+ record (the event's input as a Paxos.tla
//! message, the node's logged state after it, the Paxos.tla messages it sent), written as
//! the generated module `TraceData` beside copies of the two specs compiled into this crate,
//! and TLC walks it: one simulator step is a bounded sequence of spec actions (the input,
//! then the node's own messages to itself), with the logged state compared at the step's
//! end. Single-decree runs are short (a nemesis run of 2 s is about 100 events), so a trace
//! is checked whole, without Raft's windows, up to [`MAX_PAXOS_EVENTS`].

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;
use sim_core::trace::{TraceDetail, TraceEffect};
use sim_core::trace_delta::StateDecoder;

use crate::tlc::{self, TlcOutcome};
use crate::trace::{
    field_u64, node_event, set_tla, tla_bool, NodeEvent, Parsed, Rejection, TraceEvent,
};
use crate::window::{first_rejection, Checked};
use crate::{write_file, Error};

const PAXOS_TLA: &str = include_str!("../../Paxos.tla");
const TRACE_PAXOS_TLA: &str = include_str!("../../TracePaxos.tla");

/// The longest Paxos trace (node steps and crashes) we validate: checked whole, each TLC
/// state carries every message sent so far, so a much longer single-decree run (one that
/// keeps failing to decide) is refused rather than left to run for minutes.
pub const MAX_PAXOS_EVENTS: usize = 20_000;

/// The simulator's event names and the Paxos.tla input each one is (`Start`, `Timeout`
/// and `Crash` are trace-spec inputs; the rest are messages).
const EVENTS: &[(&str, &str)] = &[
    ("init", "Init"),
    ("restart", "Restart"),
    ("crash", "Crash"),
    ("propose_timeout", "ProposeTimeout"),
    ("prepare", "Prepare"),
    ("promise", "Promise"),
    ("nack", "Nack"),
    ("accept", "Accept"),
    ("accepted", "Accepted"),
];

/// Paxos.tla's `NoBallot` and TracePaxos.tla's `None`.
const NONE: i64 = -1;

/// How node ids, ballots and values of one run map to Paxos.tla's integers.
struct Mapping {
    nodes: u64,
}

impl Mapping {
    fn node(&self, value: &Value, field: &str) -> Parsed<u64> {
        match value.as_u64() {
            Some(id) if id < self.nodes => Ok(id),
            _ => Err(format!(
                "`{field}` holds {value}, not a node of the cluster of {}",
                self.nodes
            )),
        }
    }

    /// Ballot `{round, node}` is Paxos.tla's `round * N + node`: ballot b belongs to the
    /// proposer of rank `b % N`, and the integer order is the implementation's.
    fn ballot(&self, ballot: &Value) -> Parsed<i64> {
        let round = field_u64(ballot, "round")?;
        let node = self.node(&ballot["node"], "ballot.node")?;
        round
            .checked_mul(self.nodes)
            .and_then(|b| b.checked_add(node))
            .filter(|&b| b <= i32::MAX as u64)
            .map(|b| b as i64)
            .ok_or_else(|| format!("ballot {ballot} is beyond TLC's 32-bit integers"))
    }

    fn optional_ballot(&self, ballot: &Value) -> Parsed<i64> {
        match ballot {
            Value::Null => Ok(NONE),
            ballot => self.ballot(ballot),
        }
    }

    /// Node i proposes 100 + i; Paxos.tla's proposer p proposes p.
    fn value(&self, value: &Value) -> Parsed<i64> {
        match value.as_u64() {
            Some(v) if (100..100 + self.nodes).contains(&v) => Ok((v - 100) as i64),
            _ => Err(format!(
                "value {value} is not a node's own value (100 + node id): Paxos.tla knows \
                 only those"
            )),
        }
    }

    fn optional_value(&self, value: &Value) -> Parsed<i64> {
        match value {
            Value::Null => Ok(NONE),
            value => self.value(value),
        }
    }

    /// An acceptance `[ballot, value]` (or none) as `[bal |-> b, val |-> v]`.
    fn acceptance(&self, accepted: &Value) -> Parsed<String> {
        let (bal, val) = match accepted {
            Value::Null => (NONE, NONE),
            Value::Array(pair) if pair.len() == 2 => {
                (self.ballot(&pair[0])?, self.value(&pair[1])?)
            }
            other => return Err(format!("an acceptance is {other}, not [ballot, value]")),
        };
        Ok(format!("[bal |-> {bal}, val |-> {val}]"))
    }

    /// A Paxos message (`{"prepare": {"ballot": ..}}`, ...) from node `from` as Paxos.tla's
    /// record; a nack as `[type |-> "Nack", bal |-> b]` (not a Paxos.tla message).
    fn message(&self, msg: &Value, from: u64) -> Parsed<String> {
        let (kind, body) = msg
            .as_object()
            .and_then(|object| object.iter().next())
            .ok_or_else(|| format!("a message is not a tagged object: {msg}"))?;
        let bal = self.ballot(&body["ballot"])?;
        Ok(match kind.as_str() {
            "prepare" | "nack" => {
                let kind = if kind == "prepare" { "Prepare" } else { "Nack" };
                format!("[type |-> \"{kind}\", bal |-> {bal}]")
            }
            "promise" => format!(
                "[type |-> \"Promise\", bal |-> {bal}, from |-> {from}, acc |-> {}]",
                self.acceptance(&body["accepted"])?
            ),
            "accept" => format!(
                "[type |-> \"Accept\", bal |-> {bal}, val |-> {}]",
                self.value(&body["value"])?
            ),
            "accepted" => format!(
                "[type |-> \"Accepted\", bal |-> {bal}, val |-> {}, from |-> {from}]",
                self.value(&body["value"])?
            ),
            other => return Err(format!("`{other}` is not a Paxos message")),
        })
    }

    /// A node's logged state (`Registration::trace_state` of the paxos protocol) as the
    /// record TracePaxos.tla's `PostMatches` compares.
    fn state(&self, state: &Value) -> Parsed<String> {
        let phase = match state["phase"].as_str() {
            Some(phase @ ("idle" | "preparing" | "accepting")) => phase,
            _ => {
                return Err(format!(
                    "`state.phase` is not a Paxos proposer phase: {}",
                    state["phase"]
                ))
            }
        };
        let promises = state["promises"]
            .as_array()
            .ok_or("`state.promises` is not an array")?
            .iter()
            .map(|id| self.node(id, "state.promises").map(|id| id.to_string()))
            .collect::<Parsed<Vec<_>>>()?;
        Ok(format!(
            "[promised |-> {}, accepted |-> {}, decided |-> {}, phase |-> \"{phase}\", \
             ballot |-> {}, promises |-> {}, value |-> {}]",
            self.optional_ballot(&state["promised"])?,
            self.acceptance(&state["accepted"])?,
            self.optional_value(&state["decided"])?,
            self.optional_ballot(&state["ballot"])?,
            set_tla(&promises),
            self.optional_value(&state["value"])?,
        ))
    }

    fn initial_state() -> String {
        format!(
            "[promised |-> {NONE}, accepted |-> [bal |-> {NONE}, val |-> {NONE}], decided |-> \
             {NONE}, phase |-> \"idle\", ballot |-> {NONE}, promises |-> {{}}, value |-> {NONE}]"
        )
    }
}

/// What one step sent, as TracePaxos.tla compares it.
struct StepSends {
    /// The Paxos.tla messages sent to other nodes (nacks aside), including those the
    /// network dropped and those lost in a crash right after a persist.
    messages: BTreeSet<String>,
    /// The ballot of the prepare it sent (the ballot it chose), or `NONE`.
    proposed: i64,
}

fn step_sends(mapping: &Mapping, effects: &[TraceEffect], from: u64) -> Parsed<StepSends> {
    let mut sends = StepSends {
        messages: BTreeSet::new(),
        proposed: NONE,
    };
    for effect in effects {
        let effect = match effect {
            TraceEffect::LostInCrash(lost) => lost.as_ref(),
            other => other,
        };
        let TraceEffect::Send { msg, .. } = effect else {
            continue;
        };
        // `msg` is `{kind: PaxosMsg}`, e.g. {"prepare": {"prepare": {...}}}.
        let msg = msg
            .as_object()
            .and_then(|object| object.values().next())
            .ok_or("a send without a message")?;
        if let Some(prepare) = msg.get("prepare") {
            let ballot = mapping.ballot(&prepare["ballot"])?;
            if sends.proposed != NONE && sends.proposed != ballot {
                return Err("one step sent prepares of two ballots".to_string());
            }
            sends.proposed = ballot;
        }
        if msg.get("nack").is_none() {
            sends.messages.insert(mapping.message(msg, from)?);
        }
    }
    Ok(sends)
}

/// Whether a crash right after a persist cut a later persist off this step (the learner's
/// write of the decided value, which follows the acceptor's).
fn lost_a_persist(effects: &[TraceEffect]) -> bool {
    effects.iter().any(|effect| {
        matches!(effect, TraceEffect::LostInCrash(lost) if matches!(**lost, TraceEffect::Persist(_)))
    })
}

/// One validated event: its TLA+ record and what a rejection says about it.
struct PaxosStep {
    event: TraceEvent,
    record: String,
    max_ballot: i64,
}

/// Turns trace.ndjson into validated events, each node's logged state tracked.
fn paxos_steps(text: &str, cluster_size: u32) -> Parsed<Vec<PaxosStep>> {
    let mapping = Mapping {
        nodes: u64::from(cluster_size),
    };
    let mut nodes = vec![Mapping::initial_state(); cluster_size as usize];
    let mut states = StateDecoder::default();
    let mut steps = Vec::new();
    for (offset, raw) in text.lines().enumerate() {
        let line = offset + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let step = paxos_step(&mapping, &mut nodes, &mut states, line, raw)
            .map_err(|message| format!("trace.ndjson:{line}: {message}"))?;
        if let Some(step) = step {
            steps.push(step);
        }
        if steps.len() > MAX_PAXOS_EVENTS {
            return Err(format!(
                "trace.ndjson:{line}: trace too long for validation (over {MAX_PAXOS_EVENTS} \
                 events; a Paxos trace is checked whole): validate a shorter run (lower \
                 `duration_ms`)"
            ));
        }
    }
    Ok(steps)
}

fn paxos_step(
    mapping: &Mapping,
    nodes: &mut [String],
    states: &mut StateDecoder,
    line: usize,
    raw: &str,
) -> Parsed<Option<PaxosStep>> {
    let cluster_size = mapping.nodes as u32;
    let Some(NodeEvent {
        event,
        node,
        action,
    }) = node_event(raw, EVENTS, "Paxos", cluster_size, &[], states)?
    else {
        return Ok(None);
    };
    let name = event.event.as_str();
    let slot = node as usize;
    let pre_state = nodes[slot].clone();
    let (input, post_state, sends, lost) = match &event.detail {
        TraceDetail::Crash { .. } => {
            let none = StepSends {
                messages: BTreeSet::new(),
                proposed: NONE,
            };
            ("[type |-> \"Crash\"]".to_string(), None, none, false)
        }
        TraceDetail::Step {
            input,
            effects,
            state,
            ..
        } => {
            let Some(state) = state.as_ref().filter(|state| !state.is_null()) else {
                return Err(format!(
                    "field `state` is missing: this trace was written before Paxos trace \
                     validation existed; re-run the run with this quorumlab (`quorumlab run \
                     SCENARIO --seed N --trace --out DIR`) and validate DIR (event `{name}`)"
                ));
            };
            let input = match action {
                "Init" | "Restart" => "[type |-> \"Start\"]".to_string(),
                "ProposeTimeout" => "[type |-> \"Timeout\"]".to_string(),
                _ => {
                    let from = mapping.node(&input["from"], "input.from")?;
                    mapping.message(&input["msg"], from)?
                }
            };
            let sends = step_sends(mapping, effects, node)?;
            (
                input,
                Some(mapping.state(state)?),
                sends,
                lost_a_persist(effects),
            )
        }
        _ => return Err(format!("event `{name}` is not a step")),
    };
    // A crash logs no state (the node is down): the record repeats the last one, which
    // TracePaxos.tla does not compare, and the restart's state is compared instead.
    let post = post_state.clone().unwrap_or_else(|| pre_state.clone());
    let record = format!(
        "[kind |-> \"{action}\", node |-> {node}, msg |-> {input}, proposed |-> {}, lost |-> \
         {},\n   post |-> {post},\n   sends |-> {}]",
        sends.proposed,
        tla_bool(lost),
        set_tla(&sends.messages.iter().cloned().collect::<Vec<_>>())
    );
    let max_ballot = input_ballot(&input).max(sends.proposed);
    nodes[slot] = post;
    let message = matches!(
        action,
        "Prepare" | "Promise" | "Nack" | "Accept" | "Accepted"
    )
    .then_some(input);
    Ok(Some(PaxosStep {
        event: TraceEvent {
            line,
            index: event.i,
            time_us: event.time_us,
            node: node as u32,
            event: name.to_string(),
            action,
            message,
            pre_state,
            post_state: post_state.unwrap_or_else(|| "down (crashed)".to_string()),
        },
        record,
        max_ballot,
    }))
}

/// The ballot a message record names (`bal |-> b`), or `NONE`.
fn input_ballot(record: &str) -> i64 {
    record
        .split_once("bal |-> ")
        .and_then(|(_, rest)| rest.split([',', ']']).next())
        .and_then(|b| b.trim().parse().ok())
        .unwrap_or(NONE)
}

/// The generated module: the nodes, the bounds and the events.
fn module_text(run: &str, cluster_size: u32, steps: &[PaxosStep]) -> String {
    let max_ballot = steps.iter().map(|step| step.max_ballot).max().unwrap_or(0);
    let crashes = steps
        .iter()
        .filter(|step| step.event.action == "Crash")
        .count();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "----------------------------- MODULE TraceData -----------------------------"
    );
    text.push_str(&format!(
        "(* Generated by `quorumlab tlc --validate-trace` from {run}/trace.ndjson
   ({} events). Do not edit: it is rewritten on every validation.

   Trace[p] is validated event p, one per node step or crash, in trace order:
     kind     the event: Init, Restart, Crash, ProposeTimeout, or the message
              handled (Prepare, Promise, Nack, Accept, Accepted)
     node     the node: simulator node i is acceptor i and proposer i
     msg      the input as a Paxos.tla message record (ballot {{round, node}}
              is round * N + node; node i's value 100 + i is i); a nack, a
              timer, a start and a crash as [type |-> \"Nack\"/\"Timeout\"/
              \"Start\"/\"Crash\"]
     proposed the ballot of the prepare the step sent (the ballot the
              proposer chose), else -1
     lost     whether a crash right after a persist cut a later persist (the
              decided value's) off the step
     post     the node's logged state after the step (-1 for none): the
              acceptor's promised and accepted, the learner's decided, the
              proposer's phase, ballot, promises counted and phase-2a value
     sends    the Paxos.tla messages sent to other nodes (nacks aside)

   What the simulator does that the spec abstracts, and how it is mapped:
   - Timers: the propose timer and the backoff are when a proposer starts a
     ballot, which Paxos.tla leaves free; the ballot must be the proposer's
     own and unused. Delays, drift and re-arming are not modelled.
   - Network: Paxos.tla's msgs is the set of messages sent; a delivered
     message must be in it. Loss, duplication, delay and reordering are free
     (a set: a duplicate is the same message). Drops on arrival are no steps.
   - Nacks are not in Paxos.tla: an acceptor's refusal is checked as the
     logged state not changing, and a nack reaching a proposer is taken as
     sent; the proposer must then give up exactly its current ballot.
   - Crashes: Crash (the promise back to the one on disk; the proposer and
     learner lose everything but the decided value on disk); the restart's
     logged state is compared. A crash right after a persist loses the
     step's later effects: sends count as sent, a later persist is lost.
   - Node-local bookkeeping the spec has no variable for (the proposer's
     phase, ballot, promises and value; the learner's tally and decided
     value) is TracePaxos.tla's auxiliary state, compared after every step. *)
",
        steps.len()
    ));
    let _ = writeln!(text, "EXTENDS Integers, Sequences\n");
    let _ = writeln!(text, "TraceNodes == 0..{}", cluster_size.saturating_sub(1));
    let _ = writeln!(text, "TraceMaxBallot == {}", max_ballot.max(0));
    let _ = writeln!(text, "TraceCrashes == {crashes}\n");
    let _ = writeln!(text, "Trace == <<");
    for (k, step) in steps.iter().enumerate() {
        let separator = if k + 1 < steps.len() { "," } else { "" };
        let event = &step.event;
        let _ = writeln!(
            text,
            "\\* {}: i={} t={}us n{} {}\n  {}{separator}",
            k + 1,
            event.index,
            event.time_us,
            event.node,
            event.event,
            step.record
        );
    }
    let _ = writeln!(text, ">>\n");
    let _ = writeln!(
        text,
        "============================================================================="
    );
    text
}

const CONFIG: &str = "\\* Generated by `quorumlab tlc --validate-trace`; see TracePaxos.tla.
INIT TraceInit
NEXT TraceNext
CONSTANTS
    Acceptor <- TraceNodes
    Proposer <- TraceNodes
    MaxBallot <- TraceMaxBallot
    MaxCrashes <- TraceCrashes
    PersistPromise = TRUE
    ProposeHighest = TRUE
INVARIANT ReportPosition
";

/// A Paxos trace's events and TLC's verdict on them.
pub(crate) struct PaxosChecked {
    pub(crate) events: usize,
    pub(crate) checked: Checked,
    pub(crate) rejection: Option<Rejection>,
}

/// Checks the Paxos trace `text` in one TLC run, writing the specs to `spec_dir`.
pub(crate) fn check(
    spec_dir: &Path,
    run: &str,
    cluster_size: u32,
    text: &str,
) -> Result<PaxosChecked, Error> {
    let bad_trace = |message: String| Error::BadInput(format!("{run}/{message}"));
    let steps = paxos_steps(text, cluster_size).map_err(bad_trace)?;
    if steps.is_empty() {
        return Err(Error::BadInput(format!(
            "{run}/trace.ndjson: no node steps to validate"
        )));
    }
    if spec_dir.exists() {
        std::fs::remove_dir_all(spec_dir).map_err(|error| {
            Error::BadInput(format!("cannot clear {}: {error}", spec_dir.display()))
        })?;
    }
    let dir = spec_dir.join("part-1");
    write_file(&dir.join("Paxos.tla"), PAXOS_TLA)?;
    write_file(&dir.join("TracePaxos.tla"), TRACE_PAXOS_TLA)?;
    write_file(&dir.join("TracePaxos.cfg"), CONFIG)?;
    write_file(
        &dir.join("TraceData.tla"),
        &module_text(run, cluster_size, &steps),
    )?;
    let jar = tlc::locate_or_install_jar(Path::new(".")).map_err(Error::BadInput)?;
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)] // times the child JVM
    let start = std::time::Instant::now();
    let report = tlc::run_tlc_with_args(
        &jar,
        &dir.join("TracePaxos.tla"),
        Some(&dir.join("TracePaxos.cfg")),
        1,
        &["-deadlock"],
    )
    .map_err(Error::Internal)?;
    let elapsed_ms = start.elapsed().as_millis() as u64;
    if report.outcome != TlcOutcome::Ok {
        return Err(Error::Internal(format!(
            "TLC on {}: {:?} (exit {}): {}",
            dir.join("TracePaxos.tla").display(),
            report.outcome,
            report.exit_code,
            report.errors.join(" | ")
        )));
    }
    let rejected = first_rejection(&report.printed, &[(1, steps.len())], "inner")?;
    let rejection = rejected.as_ref().map(|(position, phase)| Rejection {
        position: *position,
        event: steps[position - 1].event.clone(),
        phase: phase.clone(),
        spec: "Paxos.tla",
    });
    Ok(PaxosChecked {
        events: steps.len(),
        checked: Checked {
            rejected,
            tlc_runs: 1,
            states_generated: report.states_generated,
            distinct_states: report.distinct_states,
            elapsed_ms,
        },
        rejection,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROMISE_STEP: &str = r#"{"i":23,"time_us":5801,"node":4,"event":"promise","input":{"from":1,"msg":{"promise":{"ballot":{"round":1,"node":4},"accepted":[{"round":1,"node":2},102]}}},"effects":[{"send":{"to":0,"msg":{"accept":{"accept":{"ballot":{"round":1,"node":4},"value":102}}},"fate":{"dropped":"loss"},"id":40}},{"send":{"to":1,"msg":{"nack":{"nack":{"ballot":{"round":1,"node":0},"promised":{"round":1,"node":4}}}}}},{"persist":true},{"lost_in_crash":{"persist":true}}],"observations":[],"role":null,"state":{"promised":{"round":1,"node":4},"accepted":[{"round":1,"node":4},102],"decided":null,"phase":"accepting","ballot":{"round":1,"node":4},"promises":[],"value":102}}"#;

    #[test]
    fn ballots_values_and_sends_map_to_paxos_tla() {
        let steps = paxos_steps(PROMISE_STEP, 5).unwrap();
        let step = &steps[0];
        // Ballot (1, n4) of 5 nodes is 9, (1, n2) is 7; value 102 is proposer 2's.
        assert_eq!(
            step.event.message.as_deref(),
            Some("[type |-> \"Promise\", bal |-> 9, from |-> 1, acc |-> [bal |-> 7, val |-> 2]]")
        );
        assert!(
            step.record
                .contains("sends |-> {[type |-> \"Accept\", bal |-> 9, val |-> 2]}")
                && step.record.contains("lost |-> TRUE")
                && step.record.contains("proposed |-> -1")
                && step
                    .record
                    .contains("phase |-> \"accepting\", ballot |-> 9"),
            "{}",
            step.record
        );
        assert_eq!(step.max_ballot, 9);
    }

    #[test]
    fn bad_paxos_traces_are_refused_naming_the_line() {
        let error = paxos_steps(&format!("\n{PROMISE_STEP}"), 3).err().unwrap();
        assert!(error.starts_with("trace.ndjson:2: "), "{error}");
        let odd = PROMISE_STEP.replace("102]}}}", "7]}}}");
        let error = paxos_steps(&odd, 5).err().unwrap();
        assert!(error.contains("not a node's own value"), "{error}");
        let raft = r#"{"i":1,"time_us":5,"node":1,"event":"request_vote","input":null,"effects":[],"observations":[],"role":null,"state":{}}"#;
        let error = paxos_steps(raft, 3).err().unwrap();
        assert!(error.contains("is this a Paxos trace?"), "{error}");
        let cut = r#"{"i":9,"time_us":7,"node":0,"event":"crash","cause":"crash_mid_step"}"#;
        let error = paxos_steps(cut, 3).err().unwrap();
        assert!(
            error.contains("not yet supported: a `crash_mid_step`"),
            "{error}"
        );
    }
}
