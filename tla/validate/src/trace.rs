//! Trace validation (`quorumlab tlc --validate-trace RUN_DIR`): check that a Raft run's
//! `trace.ndjson` is a behaviour of `tla/Raft.tla`, so the implementation and the spec are
//! checked against each other.
//!
//! The trace becomes a generated TLA+ module, `TraceData`, holding `Trace`, a sequence of
//! records, one per node step or crash. `tla/TraceRaft.tla` (compiled into this crate, as
//! is `tla/Raft.tla`, so the checked spec is the committed one) walks it with a position
//! counter and allows at step l only the Raft action event l names, with the logged
//! post-state and sends pinned to the record. TLC runs it with `-deadlock`; the invariant
//! `TraceNotConsumed` is violated exactly when the whole trace was consumed (accepted),
//! and otherwise the largest position any reachable state printed names the first event
//! the spec cannot take. The module header written by [`module_text`] and `tla/README.md`
//! list what the simulator does that the spec abstracts and how each part is mapped.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sim_core::result::RunResult;
use sim_core::scenario::Scenario;
use sim_core::trace::{TraceDetail, TraceEffect, TraceEvent as Line};

use crate::tlc::{self, TlcOutcome};
use crate::{write_file, Error};

/// The longest trace (in validated events: node steps and crashes) we hand to TLC. The
/// trace spec has two distinct states per event, but every state carries the whole
/// message bag and all logs, so TLC's time grows faster than linearly: ~100 events take
/// 4-6 s (mostly JVM start and parsing), 1,545 events took 67 s on this 2-core machine.
/// Longer runs: validate a shorter run (lower `duration_ms`).
pub const MAX_TRACE_EVENTS: usize = 2000;

const RAFT_TLA: &str = include_str!("../../Raft.tla");
const TRACE_RAFT_TLA: &str = include_str!("../../TraceRaft.tla");

/// The invariant whose violation means "the whole trace was consumed".
const ACCEPTED_INVARIANT: &str = "TraceNotConsumed";

/// One validated trace event, as TLA+ text plus what a rejection message needs.
#[derive(Debug, Clone, Serialize)]
pub struct TraceEvent {
    /// 1-based line of trace.ndjson.
    pub line: usize,
    /// The simulator's event number (`i`).
    pub index: u64,
    pub time_us: u64,
    pub node: u32,
    /// The simulator's event name (`request_vote`, `crash`, ...).
    pub event: String,
    /// The Raft.tla action it maps to (`RequestVote`, `Crash`, ...).
    pub action: &'static str,
    /// The received message, as a TLA+ record, for message events.
    pub message: Option<String>,
    /// The node's logged state before and after the event, as TLA+ records.
    pub pre_state: String,
    pub post_state: String,
    /// The TLA+ record of the whole event (`Trace[l]`).
    #[serde(skip)]
    pub record: String,
}

/// The simulator's event names and the Raft.tla actions they map to.
const ACTIONS: &[(&str, &str)] = &[
    ("init", "Init"),
    ("restart", "Restart"),
    ("crash", "Crash"),
    ("election_timeout", "ElectionTimeout"),
    ("heartbeat_timeout", "HeartbeatTimeout"),
    ("client_request", "ClientRequest"),
    ("request_vote", "RequestVote"),
    ("request_vote_response", "RequestVoteResponse"),
    ("append_entries", "AppendEntries"),
    ("append_entries_response", "AppendEntriesResponse"),
];

/// Lines that are not steps of any node: faults being applied or reverted, the end of the
/// run, and messages dropped on arrival (a message never delivered simply stays in the
/// spec's bag, which the spec allows: delivery is never forced).
const SKIPPED: &[&str] = &[
    "drop",
    "fault",
    "fault_skipped",
    "revert",
    "liveness_window",
    "end",
];

fn server(node: u64) -> String {
    format!("\"n{node}\"")
}

/// Client values are 64-bit; TLC's integers are 32-bit. Each distinct value becomes its
/// rank of first appearance in the trace (1, 2, ...), which keeps equality, all the spec
/// uses values for.
#[derive(Default)]
struct Values {
    ids: BTreeMap<u64, usize>,
}

impl Values {
    fn id(&mut self, value: u64) -> usize {
        let next = self.ids.len() + 1;
        *self.ids.entry(value).or_insert(next)
    }
}

type Parsed<T> = Result<T, String>;

fn field_u64(object: &Value, name: &str) -> Parsed<u64> {
    object[name]
        .as_u64()
        .ok_or_else(|| format!("field `{name}` is missing or not a number"))
}

fn field_bool(object: &Value, name: &str) -> Parsed<bool> {
    object[name]
        .as_bool()
        .ok_or_else(|| format!("field `{name}` is missing or not a boolean"))
}

/// A log or an AppendEntries' entries: `<<[term |-> t, value |-> v], ...>>`. Entries are
/// `{term, value, ...}` objects in messages and `[term, value]` pairs in state snapshots.
fn entries_tla(entries: &Value, values: &mut Values) -> Parsed<String> {
    let list = entries
        .as_array()
        .ok_or("a log or entry list is not an array")?;
    let mut parts = Vec::with_capacity(list.len());
    for entry in list {
        let (term, value) = match entry.as_array() {
            Some(pair) if pair.len() == 2 => (pair[0].as_u64(), pair[1].as_u64()),
            _ => (entry["term"].as_u64(), entry["value"].as_u64()),
        };
        let (Some(term), Some(value)) = (term, value) else {
            return Err(format!("a log entry without term and value: {entry}"));
        };
        parts.push(format!("[term |-> {term}, value |-> {}]", values.id(value)));
    }
    Ok(format!("<<{}>>", parts.join(", ")))
}

/// A Raft message as Raft.tla's record. `msg` is the serialized `RaftMsg`
/// (`{"RequestVote": {...}}`). The implementation's AppendEntriesResponse carries a
/// result (Success with match_index, Conflict with the fast-backtracking hints, or
/// StaleTerm); the spec's has `success` and `match_index` only, so a Conflict or
/// StaleTerm maps to `success |-> FALSE, match_index |-> 0` and the hints are dropped.
fn message_tla(msg: &Value, from: u64, to: u64, values: &mut Values) -> Parsed<String> {
    let (kind, body) = msg
        .as_object()
        .and_then(|object| object.iter().next())
        .ok_or_else(|| format!("a message is not a tagged object: {msg}"))?;
    let head = format!(
        "type |-> \"{kind}\", from |-> {}, to |-> {}, term |-> {}",
        server(from),
        server(to),
        field_u64(body, "term")?
    );
    let rest = match kind.as_str() {
        "RequestVote" => format!(
            "candidate |-> {}, last_log_index |-> {}, last_log_term |-> {}",
            server(from),
            field_u64(body, "last_log_index")?,
            field_u64(body, "last_log_term")?
        ),
        "RequestVoteResponse" => {
            format!(
                "vote_granted |-> {}",
                tla_bool(field_bool(body, "vote_granted")?)
            )
        }
        "AppendEntries" => format!(
            "leader |-> {}, prev_log_index |-> {}, prev_log_term |-> {}, entries |-> {}, \
             leader_commit |-> {}",
            server(from),
            field_u64(body, "prev_log_index")?,
            field_u64(body, "prev_log_term")?,
            entries_tla(&body["entries"], values)?,
            field_u64(body, "leader_commit")?
        ),
        "AppendEntriesResponse" => match body["result"].get("Success") {
            Some(success) => format!(
                "success |-> TRUE, match_index |-> {}",
                field_u64(success, "match_index")?
            ),
            None => "success |-> FALSE, match_index |-> 0".to_string(),
        },
        other => return Err(format!("`{other}` is not a Raft message")),
    };
    Ok(format!("[{head}, {rest}]"))
}

fn tla_bool(value: bool) -> &'static str {
    if value {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// A node's logged state as the record `PostMatches` compares.
fn state_tla(state: &Value, values: &mut Values) -> Parsed<String> {
    let role = match state["role"].as_str() {
        Some("follower") => "\"Follower\"",
        Some("candidate") => "\"Candidate\"",
        Some("leader") => "\"Leader\"",
        Some("down") => "\"Down\"",
        _ => {
            return Err(format!(
                "`state.role` is not a Raft role: {}",
                state["role"]
            ))
        }
    };
    let voted_for = match &state["voted_for"] {
        Value::Null => NIL.to_string(),
        vote => server(vote.as_u64().ok_or("`state.voted_for` is not a node")?),
    };
    Ok(format!(
        "[term |-> {}, voted_for |-> {voted_for}, state |-> {role}, commit_index |-> {}, \
         log |-> {}]",
        field_u64(state, "term")?,
        field_u64(state, "commit_index")?,
        entries_tla(&state["log"], values)?
    ))
}

/// The sends of one step, split as the trace spec wants them: AppendEntries (joined to
/// the bag in phase "net"), the others (compared with what the spec action sent), and the
/// messages the network duplicated. Sends cut off by a crash right after a persist
/// (`lost_in_crash`) count as sent and lost: the spec action still sends them.
struct Sends {
    appends: Vec<String>,
    others: Vec<String>,
    duplicated: Vec<String>,
}

fn sends_tla(effects: &[TraceEffect], from: u64, values: &mut Values) -> Parsed<Sends> {
    let mut sends = Sends {
        appends: Vec::new(),
        others: Vec::new(),
        duplicated: Vec::new(),
    };
    for effect in effects {
        // A send lost in a crash still counts as sent in the spec's terms; it just never
        // arrives (no fate).
        let effect = match effect {
            TraceEffect::LostInCrash(lost) => lost.as_ref(),
            other => other,
        };
        let TraceEffect::Send { to, msg, fate, .. } = effect else {
            continue;
        };
        let to = u64::from(*to);
        // `msg` is `{kind: RaftMsg}`, e.g. {"request_vote": {"RequestVote": {...}}}.
        let msg = msg
            .as_object()
            .and_then(|object| object.values().next())
            .ok_or("a send without a message")?;
        let record = message_tla(msg, from, to, values)?;
        let duplicated = matches!(
            fate,
            Some(sim_core::trace::TraceFate::Delivered {
                duplicate_delay_us: Some(_),
                ..
            })
        );
        if duplicated {
            sends.duplicated.push(record.clone());
        }
        if msg.get("AppendEntries").is_some() {
            sends.appends.push(record);
        } else {
            sends.others.push(record);
        }
    }
    Ok(sends)
}

fn set_tla(items: &[String]) -> String {
    format!("{{{}}}", items.join(", "))
}

/// The initial logged state of every node (Raft.tla's Init).
const INITIAL_STATE: &str = "[term |-> 0, voted_for |-> \"none\", state |-> \"Follower\", \
                             commit_index |-> 0, log |-> <<>>]";

/// Raft.tla's `Nil` (no vote): the config substitutes `TraceNil`, this string, for it.
const NIL: &str = "\"none\"";

/// Raft.tla has no log compaction: a trace whose nodes snapshot is refused, not guessed at.
const NO_SNAPSHOTS: &str = "not yet supported: runs with snapshots (Raft.tla has no log \
     compaction); set `snapshot_every = 0` in the scenario's [params] to validate its traces";

/// Turns trace.ndjson into validated events. `cluster_size` bounds node ids.
/// Also returns how many distinct client values the trace holds.
pub fn trace_events(text: &str, cluster_size: u32) -> Parsed<(Vec<TraceEvent>, usize)> {
    let mut values = Values::default();
    let mut events = Vec::new();
    // The last logged state of each node, for rejection messages and for Crash, whose
    // line carries no state: a crash keeps the persistent state and loses the rest.
    let mut last_state: Vec<String> = vec![INITIAL_STATE.to_string(); cluster_size as usize];
    let mut last_raw: Vec<Option<Value>> = vec![None; cluster_size as usize];
    for (offset, raw) in text.lines().enumerate() {
        let line = offset + 1;
        let at = |message: String| format!("trace.ndjson:{line}: {message}");
        if raw.trim().is_empty() {
            continue;
        }
        let event = Line::parse(raw).map_err(|error| at(format!("not a trace event: {error}")))?;
        let name = event.event.as_str();
        if name == "trace_truncated" {
            return Err(at(
                "the trace was cut at its memory budget, so it does not hold the whole run; \
                 fix: re-run with a larger `[budget] max_trace_mb`, or a shorter run"
                    .to_string(),
            ));
        }
        let Some(node) = event.node.filter(|_| !SKIPPED.contains(&name)) else {
            continue;
        };
        if name == "install_snapshot" {
            return Err(at(NO_SNAPSHOTS.to_string()));
        }
        let action = ACTIONS
            .iter()
            .find(|(event_name, _)| *event_name == name)
            .map(|(_, action)| *action)
            .ok_or_else(|| {
                at(format!(
                    "field `event`: `{name}` has no Raft.tla action (is this a Raft trace?)"
                ))
            })?;
        let node = u64::from(node);
        if node >= u64::from(cluster_size) {
            return Err(at(format!(
                "field `node`: node {node} is outside the cluster of {cluster_size}"
            )));
        }
        let slot = node as usize;
        if matches!(&event.detail, TraceDetail::Crash { cause } if cause == "crash_mid_step") {
            // A cut before a step's Persist recovers a state older than the step's logged
            // one, which Raft.tla's Crash (persistent state kept) cannot express.
            return Err(at(
                "not yet supported: a `crash_mid_step` crash (validate a run without that \
                 fault kind)"
                    .to_string(),
            ));
        }
        let (post_state, message, value, sends) = if action == "Crash" {
            // A crash keeps term, vote and log, loses the commit index and the role.
            let mut down = last_raw[slot]
                .clone()
                .unwrap_or_else(|| serde_json::json!({"term": 0, "voted_for": null, "log": []}));
            down["role"] = "down".into();
            down["commit_index"] = 0.into();
            let post = state_tla(&down, &mut values).map_err(&at)?;
            let none = Sends {
                appends: Vec::new(),
                others: Vec::new(),
                duplicated: Vec::new(),
            };
            (post, None, 0, none)
        } else {
            let TraceDetail::Step {
                input,
                effects,
                state,
                ..
            } = &event.detail
            else {
                return Err(at(format!("event `{name}` is not a step")));
            };
            let Some(state) = state.as_ref().filter(|state| !state.is_null()) else {
                return Err(at(format!(
                    "field `state` is missing: this trace was written before trace \
                     validation existed; re-run the run with this quorumlab \
                     (`quorumlab run SCENARIO --seed N --trace --out DIR`) and validate DIR \
                     (event `{name}`)"
                )));
            };
            if state.get("snapshot_index").is_some() {
                return Err(at(NO_SNAPSHOTS.to_string()));
            }
            let message = match input.get("msg") {
                Some(msg) => {
                    let from = field_u64(input, "from").map_err(&at)?;
                    Some(message_tla(msg, from, node, &mut values).map_err(&at)?)
                }
                None => None,
            };
            let value = match input.get("op") {
                Some(op) => values.id(field_u64(op, "value").map_err(&at)?),
                None => 0,
            };
            let post = state_tla(state, &mut values).map_err(&at)?;
            let sends = sends_tla(effects, node, &mut values).map_err(&at)?;
            last_raw[slot] = Some(state.clone());
            (post, message, value, sends)
        };
        let record = format!(
            "[kind |-> \"{action}\", node |-> {}, msg |-> {}, value |-> {value},\n   \
             post |-> {post_state},\n   sends |-> {},\n   appends |-> {},\n   dups |-> {}]",
            server(node),
            message.as_deref().unwrap_or("[type |-> \"none\"]"),
            set_tla(&sends.others),
            set_tla(&sends.appends),
            set_tla(&sends.duplicated),
        );
        let pre_state = std::mem::replace(&mut last_state[slot], post_state.clone());
        events.push(TraceEvent {
            line,
            index: event.i,
            time_us: event.time_us,
            node: node as u32,
            event: name.to_string(),
            action,
            message,
            pre_state,
            post_state,
            record,
        });
    }
    Ok((events, values.ids.len()))
}

/// The generated module: the servers, the value ids and the trace.
pub fn module_text(run: &str, cluster_size: u32, values: usize, events: &[TraceEvent]) -> String {
    let servers: Vec<String> = (0..u64::from(cluster_size)).map(server).collect();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "----------------------------- MODULE TraceData -----------------------------"
    );
    text.push_str(&format!(
        "(* Generated by `quorumlab tlc --validate-trace` from {run}/trace.ndjson.
   Do not edit: it is rewritten on every validation.

   One record per node step or crash of the run, in trace order:
     kind    the Raft.tla action (the simulator event name in CamelCase)
     node    the server: simulator node i is \"ni\"
     msg     the received message as a Raft.tla message record
     value   a client request's value (see below), else 0
     post    the node's logged state after the step: term, voted_for (Nil for
             none), state (Follower/Candidate/Leader/Down), commit_index, log
             (a sequence of [term, value])
     sends   RequestVote, RequestVoteResponse and AppendEntriesResponse sent
     appends AppendEntries sent (the leader's slice of its log is free)
     dups    messages the network delivered twice

   What the simulator does that the spec abstracts, and how it is mapped:
   - Timers: an election or heartbeat timeout is the spec's enabled action;
     delays, drift and re-arming are not modelled. A timer that finds its
     node in the wrong role (stale) and a client request at a non-leader
     (the redirect) must change nothing and send nothing.
   - Clients: a request at the leader is ClientRequest(node, value); replies,
     retries and redirects are not in the spec. Client values are 64-bit,
     TLC's integers 32-bit: each distinct value is numbered 1, 2, ... in
     order of first appearance (equality is all the spec needs).
   - Network: loss, duplication, delay and reordering are the spec's message
     bag: a sent message joins the bag (even if the network then drops it:
     an undelivered message just stays there), a delivered one must be in
     it and is consumed, a duplicated one gets a second copy
     (DuplicateMessage). Messages dropped on arrival are not steps.
   - Crashes: a crash is Crash (persistent state kept, the rest lost); a
     crash right after a persist still counts the step's later sends as
     sent (then lost). A restart is Restart.
   - Fast backtracking: a rejection's conflict_term/conflict_index hints
     are dropped (the response is success FALSE, match_index 0); nextIndex
     is unlogged, so the leader may send any slice of its log
     (WellFormedAppend): optimistic nextIndex, hint-driven backtracking and
     max_entries_per_append batching are all allowed.
   - Unlogged state (votesGranted, nextIndex, matchIndex, ghost variables)
     is whatever the spec computes and is never compared. *)
"
    ));
    let _ = writeln!(text, "EXTENDS Naturals, Sequences\n");
    let _ = writeln!(text, "TraceServer == {{{}}}", servers.join(", "));
    let _ = writeln!(text, "TraceValue == 1..{}", values.max(1));
    let _ = writeln!(text, "TraceNil == {NIL}\n");
    let _ = writeln!(text, "Trace == <<");
    for (position, event) in events.iter().enumerate() {
        let separator = if position + 1 < events.len() { "," } else { "" };
        let _ = writeln!(
            text,
            "\\* {}: i={} t={}us n{} {}\n  {}{separator}",
            position + 1,
            event.index,
            event.time_us,
            event.node,
            event.event,
            event.record
        );
    }
    let _ = writeln!(text, ">>\n");
    let _ = writeln!(
        text,
        "============================================================================="
    );
    text
}

const CONFIG: &str = "\\* Generated by `quorumlab tlc --validate-trace`; see TraceRaft.tla.
INIT TraceInit
NEXT TraceNext
CONSTANTS
    Server <- TraceServer
    Value <- TraceValue
    Nil <- TraceNil
    PersistVote = TRUE
INVARIANT ReportPosition
INVARIANT TraceNotConsumed
";

/// The first event the spec could not take.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// 1-based position in the validated events.
    pub position: usize,
    #[serde(flatten)]
    pub event: TraceEvent,
    /// "step": the event's action cannot be taken; "net": it was, but its AppendEntries
    /// sends or duplicates could not.
    pub phase: String,
}

/// The verdict on one run directory's trace, with TLC's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub run_dir: String,
    pub valid: bool,
    /// Validated events (node steps and crashes).
    pub events: usize,
    pub rejected: Option<Rejection>,
    pub states_generated: Option<u64>,
    pub distinct_states: Option<u64>,
    pub tlc_ms: u64,
    /// Where the generated spec was written (`RUN_DIR/tlc-validate/`).
    pub spec_dir: String,
}

/// The largest `<<"trace-position", l, "phase">>` TLC printed, with its phase ("step"
/// loses to "net" at the same position: "net" means the step itself was taken).
fn furthest_position(printed: &[String]) -> Option<(usize, String)> {
    printed
        .iter()
        .filter_map(|line| {
            let inner = line
                .strip_prefix("<<\"trace-position\", ")?
                .strip_suffix(">>")?;
            let (position, phase) = inner.split_once(", ")?;
            Some((
                position.trim().parse().ok()?,
                phase.trim_matches('"').to_string(),
            ))
        })
        .max_by_key(|(position, phase)| (*position, phase == "net"))
}

/// Validate the trace of the run directory `run_dir`, whose `result.json` and
/// `scenario.toml` the caller has read (`recorded`, `scenario`): writes the generated
/// spec to `RUN_DIR/tlc-validate/` and runs TLC on it (installing TLC if needed).
pub fn validate_trace(
    run_dir: &Path,
    recorded: &RunResult,
    scenario: &Scenario,
) -> Result<Validation, Error> {
    if scenario.file.protocol != "raft" {
        return Err(Error::BadInput(format!(
            "{}: protocol `{}`: trace validation has a spec for raft only (tla/Raft.tla)",
            run_dir.join("scenario.toml").display(),
            scenario.file.protocol
        )));
    }
    let trace_path = run_dir.join("trace.ndjson");
    let text = std::fs::read_to_string(&trace_path).map_err(|error| {
        Error::BadInput(format!(
            "{}: {error} (write one with `quorumlab run {} --seed {} --trace --out {}`)",
            trace_path.display(),
            recorded.scenario,
            recorded.seed,
            run_dir.display()
        ))
    })?;
    let cluster_size = scenario.file.nodes;
    let (events, values) = trace_events(&text, cluster_size)
        .map_err(|message| Error::BadInput(format!("{}/{message}", run_dir.display())))?;
    if events.is_empty() {
        return Err(Error::BadInput(format!(
            "{}: no node steps to validate",
            trace_path.display()
        )));
    }
    if events.len() > MAX_TRACE_EVENTS {
        return Err(Error::BadInput(format!(
            "{}: trace too long for validation ({} events; limit {MAX_TRACE_EVENTS}): \
             validate a shorter run (lower `duration_ms`)",
            trace_path.display(),
            events.len()
        )));
    }
    let spec_dir = run_dir.join("tlc-validate");
    let run_name = run_dir.display().to_string();
    write_file(&spec_dir.join("Raft.tla"), RAFT_TLA)?;
    write_file(&spec_dir.join("TraceRaft.tla"), TRACE_RAFT_TLA)?;
    write_file(&spec_dir.join("TraceRaft.cfg"), CONFIG)?;
    write_file(
        &spec_dir.join("TraceData.tla"),
        &module_text(&run_name, cluster_size, values, &events),
    )?;
    let jar = tlc::locate_or_install_jar(Path::new(".")).map_err(Error::BadInput)?;
    let report = tlc::run_tlc_with_args(
        &jar,
        &spec_dir.join("TraceRaft.tla"),
        Some(&spec_dir.join("TraceRaft.cfg")),
        1,
        &["-deadlock"],
    )
    .map_err(Error::Internal)?;
    let valid = match &report.outcome {
        TlcOutcome::InvariantViolated { name } if name == ACCEPTED_INVARIANT => true,
        TlcOutcome::Ok => false,
        other => {
            return Err(Error::Internal(format!(
                "TLC on {}: {other:?} (exit {}): {}",
                spec_dir.join("TraceRaft.tla").display(),
                report.exit_code,
                report.errors.join(" | ")
            )))
        }
    };
    let rejected = if valid {
        None
    } else {
        let (position, phase) = furthest_position(&report.printed).ok_or_else(|| {
            Error::Internal("TLC printed no trace positions (ReportPosition)".into())
        })?;
        assert!(
            position >= 1 && position <= events.len(),
            "position {position}"
        );
        Some(Rejection {
            position,
            event: events[position - 1].clone(),
            phase,
        })
    };
    Ok(Validation {
        run_dir: run_name,
        valid,
        events: events.len(),
        rejected,
        states_generated: report.states_generated,
        distinct_states: report.distinct_states,
        tlc_ms: report.elapsed_ms,
        spec_dir: spec_dir.display().to_string(),
    })
}

impl Rejection {
    /// Why the spec could not take this event, in a sentence.
    pub fn reason(&self) -> String {
        let event = &self.event;
        let message = event
            .message
            .as_ref()
            .map_or(String::new(), |m| format!(" on message {m}"));
        if self.phase == "net" {
            return format!(
                "the spec took {}(n{}){message} but not the AppendEntries sent or the \
                 messages duplicated in that step (AppendEntries must carry the leader's \
                 term, commit index and a slice of its log); the node's state was {}",
                event.action, event.node, event.post_state
            );
        }
        format!(
            "the spec cannot take {}(n{}){message} from the state {} to the logged state {} \
             with the logged sends",
            event.action, event.node, event.pre_state, event.post_state
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furthest_position_prefers_the_largest_and_net_over_step() {
        let printed = [
            "<<\"trace-position\", 1, \"step\">>".to_string(),
            "<<\"trace-position\", 7, \"step\">>".to_string(),
            "<<\"trace-position\", 7, \"net\">>".to_string(),
            "<<\"trace-position\", 3, \"net\">>".to_string(),
            "<<\"something else\", 99>>".to_string(),
        ];
        assert_eq!(furthest_position(&printed), Some((7, "net".to_string())));
        assert_eq!(furthest_position(&[]), None);
    }

    #[test]
    fn a_cut_trace_is_refused_not_validated_as_a_prefix() {
        let trace = concat!(
            r#"{"i":9,"time_us":7,"node":0,"event":"crash","cause":"nemesis"}"#,
            "\n",
            r#"{"i":9,"time_us":7,"node":null,"event":"trace_truncated","omitted_lines":5,"max_trace_mb":1}"#,
            "\n"
        );
        let error = trace_events(trace, 2).expect_err("refused");
        assert!(
            error.contains("trace.ndjson:2") && error.contains("max_trace_mb"),
            "{error}"
        );
    }

    #[test]
    fn conflict_hints_are_dropped_and_values_numbered() {
        let trace = concat!(
            r#"{"i":1,"time_us":5,"node":1,"event":"append_entries_response","input":{"from":0,"msg":{"AppendEntriesResponse":{"term":2,"result":{"Conflict":{"conflict_term":1,"conflict_index":3}}}}},"effects":[],"observations":[],"role":null,"state":{"term":2,"voted_for":1,"role":"leader","commit_index":0,"log":[[1,900000000000],[2,7]]}}"#,
            "\n",
            r#"{"i":2,"time_us":6,"node":null,"event":"fault","fault":{}}"#,
            "\n",
            r#"{"i":3,"time_us":7,"node":0,"event":"crash","cause":"nemesis"}"#,
            "\n"
        );
        let (events, values) = trace_events(trace, 2).unwrap();
        assert_eq!(values, 2);
        assert_eq!(events.len(), 2);
        let response = events[0].message.as_deref().unwrap();
        assert!(
            response.contains("success |-> FALSE, match_index |-> 0")
                && !response.contains("conflict"),
            "{response}"
        );
        assert!(events[0]
            .post_state
            .contains("log |-> <<[term |-> 1, value |-> 1], [term |-> 2, value |-> 2]>>"));
        assert_eq!(events[1].action, "Crash");
        assert!(events[1].post_state.contains("state |-> \"Down\""));
        let error = trace_events(trace, 1).unwrap_err();
        assert!(error.starts_with("trace.ndjson:1: field `node`"), "{error}");
        let cut = trace.replace("\"cause\":\"nemesis\"", "\"cause\":\"crash_mid_step\"");
        let error = trace_events(&cut, 2).unwrap_err();
        assert!(
            error.starts_with("trace.ndjson:3: not yet supported: a `crash_mid_step`"),
            "{error}"
        );
        let compacted = trace.replace(
            "\"commit_index\":0,",
            "\"commit_index\":0,\"snapshot_index\":4,",
        );
        let error = trace_events(&compacted, 2).unwrap_err();
        assert!(
            error.starts_with("trace.ndjson:1: not yet supported: runs with snapshots")
                && error.contains("snapshot_every = 0"),
            "{error}"
        );
    }
}
