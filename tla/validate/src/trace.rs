//! Trace validation (`quorumlab tlc --validate-trace RUN_DIR`): check that a Raft run's
//! `trace.ndjson` is a behaviour of `tla/Raft.tla`, so the implementation and the spec are
//! checked against each other.
//!
//! This module turns the trace into validated events ([`Step`]s: one per node step or
//! crash, each a TLA+ record), tracking every node's logged state ([`NodeState`]).
//! [`crate::window`] cuts the events into windows, each starting from the logged state
//! and the message bag rebuilt from the trace, writes them as the generated module
//! `TraceData` and runs TLC on `tla/TraceRaft.tla` (compiled into this crate, as is
//! `tla/Raft.tla`, so the checked spec is the committed one). The module header written
//! by [`crate::window`] and `tla/README.md` list what the simulator does that the spec
//! abstracts and how each part is mapped.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sim_core::result::RunResult;
use sim_core::scenario::Scenario;
use sim_core::trace::{TraceDetail, TraceEffect, TraceEvent as Line};
use sim_core::trace_delta::StateDecoder;

use crate::window::{self, Options};
use crate::Error;

/// The longest trace (in validated events: node steps and crashes) we validate. Time is
/// linear in the events (windows of [`Options::window`] events, each checked from the
/// logged state), but the trace file itself repeats every node's whole log on every
/// line, so a run this long is already hundreds of megabytes.
pub const MAX_TRACE_EVENTS: usize = 1_000_000;

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

pub(crate) type Parsed<T> = Result<T, String>;

pub(crate) fn field_u64(object: &Value, name: &str) -> Parsed<u64> {
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

pub(crate) fn tla_bool(value: bool) -> &'static str {
    if value {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// A node's logged state: what `TraceRaft.tla` compares after every step (`post`) and
/// what a window starts from. Log entries are `(term, value id)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeState {
    term: u64,
    voted_for: Option<u64>,
    /// Raft.tla's state: `Follower`, `Candidate`, `Leader` or `Down`.
    role: &'static str,
    commit_index: u64,
    log: Vec<(u64, usize)>,
    /// The voters a candidate counted (a set: the spec's `votesGranted`).
    votes: Vec<u64>,
    /// A leader's matchIndex by node, its own entry 0 as in the spec; all 0 otherwise.
    match_index: Vec<u64>,
}

impl NodeState {
    /// Raft.tla's Init for one node.
    fn initial(cluster_size: u32) -> NodeState {
        NodeState {
            term: 0,
            voted_for: None,
            role: "Follower",
            commit_index: 0,
            log: Vec::new(),
            votes: Vec::new(),
            match_index: vec![0; cluster_size as usize],
        }
    }

    /// Node `node`'s state from a trace line's `state` field.
    fn from_json(
        state: &Value,
        node: u64,
        cluster_size: u32,
        values: &mut Values,
    ) -> Parsed<NodeState> {
        let role = match state["role"].as_str() {
            Some("follower") => "Follower",
            Some("candidate") => "Candidate",
            Some("leader") => "Leader",
            _ => {
                return Err(format!(
                    "`state.role` is not a Raft role: {}",
                    state["role"]
                ))
            }
        };
        let node_id = |value: &Value, field: &str| match value.as_u64() {
            Some(id) if id < u64::from(cluster_size) => Ok(id),
            _ => Err(format!(
                "`state.{field}` holds {value}, not a node of the cluster"
            )),
        };
        let voted_for = match &state["voted_for"] {
            Value::Null => None,
            vote => Some(node_id(vote, "voted_for")?),
        };
        let log = state["log"]
            .as_array()
            .ok_or("`state.log` is not an array")?
            .iter()
            .map(|entry| match entry.as_array().map(Vec::as_slice) {
                Some([term, value]) => match (term.as_u64(), value.as_u64()) {
                    (Some(term), Some(value)) => Ok((term, values.id(value))),
                    _ => Err(format!("`state.log` holds {entry}, not [term, value]")),
                },
                _ => Err(format!("`state.log` holds {entry}, not [term, value]")),
            })
            .collect::<Parsed<Vec<_>>>()?;
        // Written by quorumlab before windows existed: refuse rather than guess.
        let missing = |field: &str| {
            format!(
                "field `state.{field}` is missing: this trace was written by an older \
                 quorumlab; re-run the run with this one (`quorumlab run SCENARIO --seed N \
                 --trace --out DIR`) and validate DIR"
            )
        };
        let mut votes = state
            .get("votes")
            .and_then(Value::as_array)
            .ok_or_else(|| missing("votes"))?
            .iter()
            .map(|voter| node_id(voter, "votes"))
            .collect::<Parsed<Vec<_>>>()?;
        votes.sort_unstable();
        votes.dedup();
        let mut match_index = vec![0; cluster_size as usize];
        match state
            .get("match_index")
            .ok_or_else(|| missing("match_index"))?
        {
            Value::Null => {}
            Value::Array(logged) if logged.len() == cluster_size as usize => {
                for (peer, index) in logged.iter().enumerate() {
                    if peer as u64 != node {
                        match_index[peer] = index
                            .as_u64()
                            .ok_or("`state.match_index` holds a non-number")?;
                    }
                }
            }
            other => {
                return Err(format!(
                    "`state.match_index` is {other}, not one index per node"
                ))
            }
        }
        Ok(NodeState {
            term: field_u64(state, "term")?,
            voted_for,
            role,
            commit_index: field_u64(state, "commit_index")?,
            log,
            votes,
            match_index,
        })
    }

    /// After Raft.tla's Crash: term, vote and log kept, the rest lost.
    fn crashed(&self) -> NodeState {
        NodeState {
            role: "Down",
            commit_index: 0,
            votes: Vec::new(),
            match_index: vec![0; self.match_index.len()],
            log: self.log.clone(),
            ..*self
        }
    }

    fn entries_tla(entries: &[(u64, usize)]) -> String {
        let parts: Vec<String> = entries
            .iter()
            .map(|(term, value)| format!("[term |-> {term}, value |-> {value}]"))
            .collect();
        format!("<<{}>>", parts.join(", "))
    }

    fn voted_for_tla(&self) -> String {
        self.voted_for.map_or(NIL.to_string(), server)
    }

    fn votes_tla(&self) -> String {
        let voters: Vec<String> = self.votes.iter().map(|voter| server(*voter)).collect();
        set_tla(&voters)
    }

    fn match_tla(&self) -> String {
        let indexes: Vec<String> = self.match_index.iter().map(u64::to_string).collect();
        format!("<<{}>>", indexes.join(", "))
    }

    /// The whole state as a TLA+ record (for people: rejection messages).
    pub(crate) fn tla(&self) -> String {
        format!(
            "[term |-> {}, voted_for |-> {}, state |-> \"{}\", commit_index |-> {}, log |-> {}, \
             votes |-> {}, match_index |-> {}]",
            self.term,
            self.voted_for_tla(),
            self.role,
            self.commit_index,
            Self::entries_tla(&self.log),
            self.votes_tla(),
            self.match_tla()
        )
    }

    /// The record `PostMatches` compares after a step from `pre`: the log as the length
    /// of the prefix kept from `pre`'s log and the entries after it, so a record costs
    /// what the step changed, not the whole log.
    fn post_tla(&self, pre: &NodeState) -> String {
        let keep = pre
            .log
            .iter()
            .zip(&self.log)
            .take_while(|(before, after)| before == after)
            .count();
        format!(
            "[term |-> {}, voted_for |-> {}, state |-> \"{}\", commit_index |-> {}, \
             keep |-> {keep}, tail |-> {}, votes |-> {}, match |-> {}]",
            self.term,
            self.voted_for_tla(),
            self.role,
            self.commit_index,
            Self::entries_tla(&self.log[keep..]),
            self.votes_tla(),
            self.match_tla()
        )
    }

    /// One field of a window's start (`TraceWindows[k]`), across the nodes.
    pub(crate) fn start_tla(nodes: &[NodeState]) -> String {
        let column = |field: &dyn Fn(&NodeState) -> String| {
            let items: Vec<String> = nodes.iter().map(field).collect();
            format!("<<{}>>", items.join(", "))
        };
        format!(
            "term |-> {},\n     voted_for |-> {},\n     state |-> {},\n     commit_index |-> {},\n     \
             log |-> {},\n     votes |-> {},\n     match |-> {}",
            column(&|node| node.term.to_string()),
            column(&|node| node.voted_for_tla()),
            column(&|node| format!("\"{}\"", node.role)),
            column(&|node| node.commit_index.to_string()),
            column(&|node| Self::entries_tla(&node.log)),
            column(&|node| node.votes_tla()),
            column(&|node| node.match_tla()),
        )
    }
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

pub(crate) fn set_tla(items: &[String]) -> String {
    format!("{{{}}}", items.join(", "))
}

/// Whether a step (re)armed its node's election timer, counting a timer lost in a crash
/// right after a persist (the step meant to arm it).
fn resets_election_timer(effects: &[TraceEffect]) -> bool {
    effects.iter().any(|effect| {
        let effect = match effect {
            TraceEffect::LostInCrash(lost) => lost.as_ref(),
            other => other,
        };
        matches!(effect, TraceEffect::SetTimer { timer, .. } if timer == ELECTION_TIMER)
    })
}

/// The election timer's name in traces (`RaftTimer::Election`).
const ELECTION_TIMER: &str = "election_timeout";

/// Raft.tla has no log compaction: a trace whose nodes snapshot is refused, not guessed at.
const NO_SNAPSHOTS: &str = "not yet supported: runs with snapshots (Raft.tla has no log \
     compaction); set `snapshot_every = 0` in the scenario's [params] to validate its traces";

/// A line of trace.ndjson that is a node's step or crash, and the spec action it maps to.
pub(crate) struct NodeEvent {
    pub(crate) event: Line,
    pub(crate) node: u64,
    pub(crate) action: &'static str,
}

/// Line `raw` as a node's step or crash that `actions` maps to an action of `spec`.tla,
/// or `None` for a line that is no node's step (a fault, a drop on arrival, the end).
/// Refused with the fix: a trace cut at its budget, an event of `refused` (with its
/// message), an event with no action, a node outside the cluster, a `crash_mid_step`
/// crash (cut before a step's persist, the node restarts from a state older than the
/// step's logged one, which the trace does not carry).
pub(crate) fn node_event(
    raw: &str,
    actions: &[(&str, &'static str)],
    spec: &str,
    cluster_size: u32,
    refused: &[(&str, &str)],
    states: &mut StateDecoder,
) -> Parsed<Option<NodeEvent>> {
    let mut event = Line::parse(raw).map_err(|error| format!("not a trace event: {error}"))?;
    // Expanded before any line is skipped: every delta is against the node's last line.
    if let (
        TraceDetail::Step {
            state: Some(state), ..
        },
        Some(node),
    ) = (&mut event.detail, event.node)
    {
        states.expand(node, state)?;
    }
    let name = event.event.as_str();
    if name == "trace_truncated" {
        return Err(TRUNCATED.to_string());
    }
    let Some(node) = event.node.filter(|_| !SKIPPED.contains(&name)) else {
        return Ok(None);
    };
    if let Some((_, why)) = refused.iter().find(|(refused, _)| *refused == name) {
        return Err(why.to_string());
    }
    let action = actions
        .iter()
        .find(|(event_name, _)| *event_name == name)
        .map(|(_, action)| *action)
        .ok_or_else(|| {
            format!("field `event`: `{name}` has no {spec}.tla action (is this a {spec} trace?)")
        })?;
    let node = u64::from(node);
    if node >= u64::from(cluster_size) {
        return Err(format!(
            "field `node`: node {node} is outside the cluster of {cluster_size}"
        ));
    }
    if matches!(&event.detail, TraceDetail::Crash { cause } if cause == "crash_mid_step") {
        return Err(CRASH_MID_STEP.to_string());
    }
    Ok(Some(NodeEvent {
        event,
        node,
        action,
    }))
}

/// A trace cut at `budget.max_trace_mb` (its last line `trace_truncated`) is refused: it
/// does not hold the whole run.
const TRUNCATED: &str = "the trace was cut at its memory budget, so it does not \
     hold the whole run; fix: re-run with a larger `[budget] max_trace_mb`, or a shorter run";

const CRASH_MID_STEP: &str =
    "not yet supported: a `crash_mid_step` crash (validate a run without that fault kind)";

/// Raft.tla's `Nil` (no vote): the config substitutes `TraceNil`, this string, for it.
const NIL: &str = "\"none\"";

/// One validated event: a node step or crash, as the TLA+ record `TraceRaft.tla` walks,
/// and what the message bag needs.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// 1-based line of trace.ndjson.
    pub(crate) line: usize,
    /// The simulator's event number (`i`).
    pub(crate) index: u64,
    pub(crate) time_us: u64,
    pub(crate) node: u32,
    /// The simulator's event name (`request_vote`, `crash`, ...).
    pub(crate) event: String,
    /// The Raft.tla action it maps to (`RequestVote`, `Crash`, ...).
    pub(crate) action: &'static str,
    /// The received message, as a TLA+ record, for message events.
    pub(crate) message: Option<String>,
    /// Every message the step adds to the spec's bag (sends, AppendEntries, duplicates).
    pub(crate) added: Vec<String>,
    /// The TLA+ record of the whole event (`Trace[l]`).
    pub(crate) record: String,
}

/// Walks trace.ndjson one validated event at a time, keeping every node's logged state.
struct Walk<'a> {
    lines: std::iter::Enumerate<std::str::Lines<'a>>,
    cluster_size: u32,
    values: Values,
    /// Every node's logged state after the events walked so far.
    nodes: Vec<NodeState>,
    /// Expands each step's log delta into the node's whole log.
    states: StateDecoder,
}

impl<'a> Walk<'a> {
    fn new(text: &'a str, cluster_size: u32) -> Walk<'a> {
        Walk {
            lines: text.lines().enumerate(),
            cluster_size,
            values: Values::default(),
            nodes: vec![NodeState::initial(cluster_size); cluster_size as usize],
            states: StateDecoder::default(),
        }
    }

    /// The next validated event, or `None` at the end of the trace.
    fn next_step(&mut self) -> Option<Parsed<Step>> {
        while let Some((offset, raw)) = self.lines.next() {
            let line = offset + 1;
            if raw.trim().is_empty() {
                continue;
            }
            match self.step(line, raw) {
                Ok(None) => continue,
                Ok(Some(step)) => return Some(Ok(step)),
                Err(message) => return Some(Err(format!("trace.ndjson:{line}: {message}"))),
            }
        }
        None
    }

    /// Line `line` (`raw`) as a validated event, `None` when it is not one.
    fn step(&mut self, line: usize, raw: &str) -> Parsed<Option<Step>> {
        let refused = [("install_snapshot", NO_SNAPSHOTS)];
        let Some(NodeEvent {
            event,
            node,
            action,
        }) = node_event(
            raw,
            ACTIONS,
            "Raft",
            self.cluster_size,
            &refused,
            &mut self.states,
        )?
        else {
            return Ok(None);
        };
        let name = event.event.as_str();
        let slot = node as usize;
        let values = &mut self.values;
        let (post, message, value, sends, reset) = if action == "Crash" {
            let none = Sends {
                appends: Vec::new(),
                others: Vec::new(),
                duplicated: Vec::new(),
            };
            (self.nodes[slot].crashed(), None, 0, none, false)
        } else {
            let TraceDetail::Step {
                input,
                effects,
                state,
                ..
            } = &event.detail
            else {
                return Err(format!("event `{name}` is not a step"));
            };
            let Some(state) = state.as_ref().filter(|state| !state.is_null()) else {
                return Err(format!(
                    "field `state` is missing: this trace was written before trace \
                     validation existed; re-run the run with this quorumlab \
                     (`quorumlab run SCENARIO --seed N --trace --out DIR`) and validate DIR \
                     (event `{name}`)"
                ));
            };
            if state.get("snapshot_index").is_some() {
                return Err(NO_SNAPSHOTS.to_string());
            }
            let message = match input.get("msg") {
                Some(msg) => {
                    let from = field_u64(input, "from")?;
                    Some(message_tla(msg, from, node, values)?)
                }
                None => None,
            };
            let value = match input.get("op") {
                Some(op) => values.id(field_u64(op, "value")?),
                None => 0,
            };
            let post = NodeState::from_json(state, node, self.cluster_size, values)?;
            let sends = sends_tla(effects, node, values)?;
            (post, message, value, sends, resets_election_timer(effects))
        };
        let record = format!(
            "[kind |-> \"{action}\", node |-> {}, msg |-> {}, value |-> {value}, reset |-> {},\n   \
             post |-> {},\n   sends |-> {},\n   appends |-> {},\n   dups |-> {}]",
            server(node),
            message.as_deref().unwrap_or("[type |-> \"none\"]"),
            tla_bool(reset),
            post.post_tla(&self.nodes[slot]),
            set_tla(&sends.others),
            set_tla(&sends.appends),
            set_tla(&sends.duplicated),
        );
        self.nodes[slot] = post;
        let mut added = sends.others;
        added.extend(sends.appends);
        added.extend(sends.duplicated);
        Ok(Some(Step {
            line,
            index: event.i,
            time_us: event.time_us,
            node: node as u32,
            event: name.to_string(),
            action,
            message,
            added,
            record,
        }))
    }
}

/// A trace as validated events.
pub(crate) struct Events {
    pub(crate) steps: Vec<Step>,
    /// Every node's logged state before event `k * window + 1`, for each window k.
    pub(crate) starts: Vec<Vec<NodeState>>,
    /// How many distinct client values the trace holds.
    pub(crate) values: usize,
}

/// Turns trace.ndjson into validated events, keeping the nodes' logged states every
/// `window` events. `cluster_size` bounds node ids.
pub(crate) fn trace_events(text: &str, cluster_size: u32, window: usize) -> Parsed<Events> {
    trace_events_within(text, cluster_size, window, MAX_TRACE_EVENTS)
}

fn trace_events_within(
    text: &str,
    cluster_size: u32,
    window: usize,
    max_events: usize,
) -> Parsed<Events> {
    assert!(window > 0);
    let mut walk = Walk::new(text, cluster_size);
    let mut steps = Vec::new();
    let mut starts = Vec::new();
    loop {
        if steps.len() % window == 0 {
            starts.push(walk.nodes.clone());
        }
        let Some(step) = walk.next_step() else { break };
        steps.push(step?);
        if steps.len() > max_events {
            return Err(format!(
                "trace.ndjson:{}: trace too long for validation (over {max_events} events): \
                 validate a shorter run (lower `duration_ms`)",
                steps[steps.len() - 1].line
            ));
        }
    }
    if steps.len() % window == 0 {
        starts.pop();
    }
    Ok(Events {
        steps,
        starts,
        values: walk.values.ids.len(),
    })
}

/// One validated event with the node's logged state around it, as a rejection names it.
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
}

/// Event `position` (1-based) of the trace, with its node's states around it: walks the
/// trace again rather than keeping every state (each holds the node's whole log).
pub(crate) fn describe(text: &str, cluster_size: u32, position: usize) -> Parsed<TraceEvent> {
    assert!(position >= 1);
    let mut walk = Walk::new(text, cluster_size);
    for _ in 1..position {
        walk.next_step().ok_or("the trace ended early")??;
    }
    let nodes_before = walk.nodes.clone();
    let step = walk.next_step().ok_or("the trace ended early")??;
    let slot = step.node as usize;
    Ok(TraceEvent {
        line: step.line,
        index: step.index,
        time_us: step.time_us,
        node: step.node,
        event: step.event,
        action: step.action,
        message: step.message,
        pre_state: nodes_before[slot].tla(),
        post_state: walk.nodes[slot].tla(),
    })
}

/// The first event the spec could not take.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    /// 1-based position in the validated events.
    pub position: usize,
    #[serde(flatten)]
    pub event: TraceEvent,
    /// "step": the event's action cannot be taken; "net" (Raft): it was, but its
    /// AppendEntries sends or duplicates could not; "inner" (Paxos): it was, but the node's
    /// messages to itself or the logged state or sends at the step's end could not.
    pub phase: String,
    /// The spec the trace was checked against (`Raft.tla`, `Paxos.tla`).
    #[serde(skip)]
    pub spec: &'static str,
}

/// The verdict on one run directory's trace, with TLC's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub run_dir: String,
    pub valid: bool,
    /// Validated events (node steps and crashes).
    pub events: usize,
    /// Windows the events were cut into, and their size in events (the last may be
    /// shorter).
    pub windows: usize,
    pub window: usize,
    /// TLC runs (JVMs) the windows were spread over.
    pub tlc_runs: usize,
    pub rejected: Option<Rejection>,
    /// Summed over the TLC runs.
    pub states_generated: Option<u64>,
    pub distinct_states: Option<u64>,
    /// Wall-clock time from the start of the first TLC run to the end of the last.
    pub tlc_ms: u64,
    /// Where the generated spec was written (`RUN_DIR/tlc-validate/`).
    pub spec_dir: String,
}

/// The protocols whose traces have a spec to be validated against.
pub const HAS_SPEC: &[&str] = &["raft", "paxos"];

/// Validate the trace of the run directory `run_dir`, whose `result.json` and
/// `scenario.toml` the caller has read (`recorded`, `scenario`): writes the generated
/// specs to `RUN_DIR/tlc-validate/` and runs TLC on them (installing TLC if needed).
pub fn validate_trace(
    run_dir: &Path,
    recorded: &RunResult,
    scenario: &Scenario,
    options: Options,
) -> Result<Validation, Error> {
    if !HAS_SPEC.contains(&scenario.file.protocol.as_str()) {
        return Err(Error::BadInput(format!(
            "{}: protocol `{}`: trace validation has specs for raft (tla/Raft.tla) and \
             paxos (tla/Paxos.tla) only",
            run_dir.join("scenario.toml").display(),
            scenario.file.protocol
        )));
    }
    if scenario
        .file
        .params
        .get("noop_on_election")
        .and_then(|v| v.as_bool())
        == Some(true)
    {
        return Err(Error::BadInput(format!(
            "{}: `[params] noop_on_election = true`: not yet supported: Raft.tla's \
             BecomeLeader appends no no-op entry, so a leader's no-op cannot be validated; \
             fix: validate a run of the scenario without `noop_on_election`",
            run_dir.join("scenario.toml").display(),
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
    let spec_dir = run_dir.join("tlc-validate");
    let run_name = run_dir.display().to_string();
    if scenario.file.protocol == "paxos" {
        let paxos = crate::paxos::check(&spec_dir, &run_name, cluster_size, &text)?;
        return Ok(Validation {
            run_dir: run_name,
            valid: paxos.rejection.is_none(),
            events: paxos.events,
            windows: 1,
            window: paxos.events,
            tlc_runs: paxos.checked.tlc_runs,
            rejected: paxos.rejection,
            states_generated: paxos.checked.states_generated,
            distinct_states: paxos.checked.distinct_states,
            tlc_ms: paxos.checked.elapsed_ms,
            spec_dir: spec_dir.display().to_string(),
        });
    }
    let bad_trace = |message: String| Error::BadInput(format!("{}/{message}", run_dir.display()));
    let events = trace_events(&text, cluster_size, options.window).map_err(bad_trace)?;
    if events.steps.is_empty() {
        return Err(Error::BadInput(format!(
            "{}: no node steps to validate",
            trace_path.display()
        )));
    }
    let checked = window::check(&spec_dir, &run_name, cluster_size, &events, options)?;
    let rejected = match checked.rejected {
        None => None,
        Some((position, phase)) => Some(Rejection {
            position,
            event: describe(&text, cluster_size, position).map_err(bad_trace)?,
            phase,
            spec: "Raft.tla",
        }),
    };
    Ok(Validation {
        run_dir: run_name,
        valid: rejected.is_none(),
        events: events.steps.len(),
        windows: events.starts.len(),
        window: options.window,
        tlc_runs: checked.tlc_runs,
        rejected,
        states_generated: checked.states_generated,
        distinct_states: checked.distinct_states,
        tlc_ms: checked.elapsed_ms,
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
        if self.spec == "Paxos.tla" {
            return self.paxos_reason(message);
        }
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
             with the logged sends and election-timer restart",
            event.action, event.node, event.pre_state, event.post_state
        )
    }

    fn paxos_reason(&self, message: String) -> String {
        let event = &self.event;
        if self.phase == "inner" {
            return format!(
                "the spec took {}(n{}){message} and the node's messages to itself, but cannot \
                 end in the logged state {} with the logged sends (from the state {})",
                event.action, event.node, event.post_state, event.pre_state
            );
        }
        format!(
            "the spec cannot take {}(n{}){message} at the state {} (a delivered message must \
             have been sent; a new ballot must be the proposer's own and unused)",
            event.action, event.node, event.pre_state
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_trace_is_refused_not_validated_as_a_prefix() {
        let trace = concat!(
            r#"{"i":9,"time_us":7,"node":0,"event":"crash","cause":"nemesis"}"#,
            "\n",
            r#"{"i":9,"time_us":7,"node":null,"event":"trace_truncated","omitted_lines":5,"max_trace_mb":1}"#,
            "\n"
        );
        let error = trace_events(trace, 2, 10).err().expect("refused");
        assert!(
            error.contains("trace.ndjson:2") && error.contains("max_trace_mb"),
            "{error}"
        );
    }

    const LEADER_STEP: &str = r#"{"i":1,"time_us":5,"node":1,"event":"append_entries_response","input":{"from":0,"msg":{"AppendEntriesResponse":{"term":2,"result":{"Conflict":{"conflict_term":1,"conflict_index":3}}}}},"effects":[{"set_timer":{"timer":"heartbeat_timeout","delay_us":5}}],"observations":[],"role":null,"state":{"term":2,"voted_for":1,"role":"leader","commit_index":0,"log":[[1,900000000000],[2,7]],"votes":[],"match_index":[0,2]}}"#;

    #[test]
    fn conflict_hints_are_dropped_and_values_numbered() {
        let trace = [
            LEADER_STEP,
            r#"{"i":2,"time_us":6,"node":null,"event":"fault","fault":{}}"#,
            r#"{"i":3,"time_us":7,"node":0,"event":"crash","cause":"nemesis"}"#,
        ]
        .join("\n");
        let events = trace_events(&trace, 2, 10).unwrap();
        assert_eq!(events.values, 2);
        assert_eq!(events.steps.len(), 2);
        assert_eq!(events.starts.len(), 1);
        let response = events.steps[0].message.as_deref().unwrap();
        assert!(
            response.contains("success |-> FALSE, match_index |-> 0")
                && !response.contains("conflict"),
            "{response}"
        );
        // The log is recorded as what changed: nothing kept, two entries; the leader's
        // own matchIndex entry is 0 as in the spec; the heartbeat timer is no reset.
        let record = &events.steps[0].record;
        assert!(
            record.contains(
                "keep |-> 0, tail |-> <<[term |-> 1, value |-> 1], [term |-> 2, value |-> 2]>>"
            ) && record.contains("match |-> <<0, 0>>")
                && record.contains("reset |-> FALSE"),
            "{record}"
        );
        assert_eq!(events.steps[1].action, "Crash");
        let crashed = describe(&trace, 2, 2).unwrap();
        assert!(crashed.post_state.contains("state |-> \"Down\""));
        assert!(crashed.pre_state.contains("state |-> \"Follower\""));
        let leader = describe(&trace, 2, 1).unwrap();
        assert!(leader.post_state.contains("match_index |-> <<0, 0>>"));
        let error = trace_events(&trace, 1, 10).err().unwrap();
        assert!(error.starts_with("trace.ndjson:1: field `node`"), "{error}");
        let cut = trace.replace("\"cause\":\"nemesis\"", "\"cause\":\"crash_mid_step\"");
        let error = trace_events(&cut, 2, 10).err().unwrap();
        assert!(
            error.starts_with("trace.ndjson:3: not yet supported: a `crash_mid_step`"),
            "{error}"
        );
        let compacted = trace.replace(
            "\"commit_index\":0,",
            "\"commit_index\":0,\"snapshot_index\":4,",
        );
        let error = trace_events(&compacted, 2, 10).err().unwrap();
        assert!(
            error.starts_with("trace.ndjson:1: not yet supported: runs with snapshots")
                && error.contains("snapshot_every = 0"),
            "{error}"
        );
    }

    #[test]
    fn a_window_start_is_kept_every_window_events() {
        let crash = |i: u32| {
            format!(r#"{{"i":{i},"time_us":7,"node":0,"event":"crash","cause":"nemesis"}}"#)
        };
        let trace: Vec<String> = (1..=5).map(crash).collect();
        let events = trace_events(&trace.join("\n"), 1, 2).unwrap();
        assert_eq!(events.steps.len(), 5);
        assert_eq!(events.starts.len(), 3);
        let events = trace_events(&trace[..4].join("\n"), 1, 2).unwrap();
        assert_eq!(events.starts.len(), 2);
        let error = trace_events_within(&trace.join("\n"), 1, 2, 4)
            .err()
            .unwrap();
        assert!(
            error.starts_with("trace.ndjson:5: trace too long for validation (over 4 events)"),
            "{error}"
        );
    }

    #[test]
    fn a_trace_of_an_older_quorumlab_is_refused_naming_the_field() {
        let old = LEADER_STEP.replace(r#","votes":[],"match_index":[0,2]"#, "");
        let error = trace_events(&old, 2, 10).err().unwrap();
        assert!(
            error.starts_with("trace.ndjson:1: field `state.votes` is missing"),
            "{error}"
        );
        let short = LEADER_STEP.replace("[0,2]", "[0]");
        let error = trace_events(&short, 2, 10).err().unwrap();
        assert!(error.contains("not one index per node"), "{error}");
    }
}
