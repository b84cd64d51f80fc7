//! Trace validation in windows, so that its time is linear in the trace.
//!
//! Checked as one behaviour, a long trace is slow: every TLC state carries the whole
//! message bag, and a message the network dropped stays in it for ever. So the validated
//! events are cut into windows of [`Options::window`] events, and each window is checked
//! from its own initial state: every node's logged state before the window's first event
//! (term, vote, role, commit index, log, a candidate's votes, a leader's matchIndex; see
//! [`NodeState`]) and the message bag rebuilt here from the trace — the messages sent
//! before the window and not yet consumed, kept only as many times as the window receives
//! them (a copy nobody receives in the window cannot change its verdict).
//!
//! This is exact, not an approximation: the trace spec pins every node's logged state
//! after every step, the unlogged `nextIndex` decides nothing the trace spec compares
//! (which slice of its log a leader sends is free), the bag after each event is a function
//! of the trace (each action adds exactly the logged messages and consumes the received
//! one), and the ghost variables are never compared. So every window is accepted exactly
//! when the whole trace is, and the first event a rejected window cannot take is the
//! first event the whole trace cannot.
//!
//! All windows of one TLC run live in one generated module: `TraceInit` ranges over the
//! windows (variable `w`), so one JVM checks them all; with [`Options::jobs`] > 1 the
//! windows are split into that many runs in parallel. TLC runs to completion (with
//! `-deadlock`), `ReportPosition` prints `<<"trace-position", w, l, phase>>` for every
//! distinct state, and a window is accepted when some state got past its last event.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::tlc::{self, TlcOutcome, TlcReport};
use crate::trace::{Events, NodeState, Step};
use crate::{write_file, Error};

const RAFT_TLA: &str = include_str!("../../Raft.tla");
const TRACE_RAFT_TLA: &str = include_str!("../../TraceRaft.tla");

/// How to cut and spread a validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Events per window.
    pub window: usize,
    /// TLC runs (JVMs) at once; the windows are split evenly between them.
    pub jobs: usize,
}

impl Default for Options {
    /// 300 events per window (each window's start state and bag cost about what 300
    /// events do; see tla/README.md), one TLC run.
    fn default() -> Self {
        Options {
            window: 300,
            jobs: 1,
        }
    }
}

/// A window: events `first..=last` (1-based positions) and the spec state before them.
struct Window {
    first: usize,
    last: usize,
    nodes: Vec<NodeState>,
    /// The bag at `first`: each message record the window receives, with its copies.
    bag: Vec<(String, usize)>,
}

/// Cuts `events` into windows, rebuilding the message bag at each window's start.
fn windows(events: &Events, window: usize) -> Vec<Window> {
    let steps = &events.steps;
    // How many times each message is received from here on: a copy beyond that can never
    // be consumed, so the bag keeps no more (which keeps it small: dropped messages go).
    let mut future: BTreeMap<&str, usize> = BTreeMap::new();
    for step in steps {
        if let Some(message) = &step.message {
            *future.entry(message).or_default() += 1;
        }
    }
    let mut bag: BTreeMap<&str, usize> = BTreeMap::new();
    let mut cut = Vec::with_capacity(events.starts.len());
    for (k, nodes) in events.starts.iter().enumerate() {
        let first = k * window + 1;
        let last = (first + window - 1).min(steps.len());
        let chunk = &steps[first - 1..last];
        let mut received: BTreeMap<&str, usize> = BTreeMap::new();
        for step in chunk {
            if let Some(message) = &step.message {
                *received.entry(message).or_default() += 1;
            }
        }
        let start_bag = received
            .iter()
            .filter_map(|(message, times)| {
                let copies = bag.get(message).copied().unwrap_or(0).min(*times);
                (copies > 0).then(|| (message.to_string(), copies))
            })
            .collect();
        cut.push(Window {
            first,
            last,
            nodes: nodes.clone(),
            bag: start_bag,
        });
        for step in chunk {
            advance_bag(&mut bag, &mut future, step);
        }
    }
    cut
}

/// The bag after `step`: its received message consumed, its sends added (each capped at
/// the receipts still to come).
fn advance_bag<'a>(
    bag: &mut BTreeMap<&'a str, usize>,
    future: &mut BTreeMap<&'a str, usize>,
    step: &'a Step,
) {
    if let Some(message) = &step.message {
        let left = future.get_mut(message.as_str()).expect("counted");
        *left -= 1;
        if let Some(copies) = bag.get_mut(message.as_str()) {
            *copies -= 1;
        }
        let copies = bag.get(message.as_str()).copied().unwrap_or(0);
        if copies == 0 || *left == 0 {
            bag.remove(message.as_str());
        }
    }
    for message in &step.added {
        let left = future.get(message.as_str()).copied().unwrap_or(0);
        let copies = bag.entry(message).or_default();
        *copies = (*copies + 1).min(left);
        if *copies == 0 {
            bag.remove(message.as_str());
        }
    }
}

fn server(node: usize) -> String {
    format!("\"n{node}\"")
}

/// The generated module for the windows `group`: the servers, the value ids, the events
/// they span and each window's start.
fn module_text(
    run: &str,
    cluster_size: u32,
    values: usize,
    steps: &[Step],
    group: &[Window],
) -> String {
    let servers: Vec<String> = (0..cluster_size as usize).map(server).collect();
    let offset = group[0].first - 1;
    let last = group[group.len() - 1].last;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "----------------------------- MODULE TraceData -----------------------------"
    );
    text.push_str(&format!(
        "(* Generated by `quorumlab tlc --validate-trace` from {run}/trace.ndjson
   (events {}..{last}). Do not edit: it is rewritten on every validation.

   Trace[p - TraceOffset] is validated event p, one per node step or crash,
   in trace order:
     kind    the Raft.tla action (the simulator event name in CamelCase)
     node    the server: simulator node i is \"ni\"
     msg     the received message as a Raft.tla message record
     value   a client request's value (see below), else 0
     reset   whether the step (re)started the node's election timer
     post    the node's logged state after the step: term, voted_for (Nil for
             none), state (Follower/Candidate/Leader/Down), commit_index, the
             log as `keep` entries of the log before the step then `tail`,
             votes (votesGranted) and match (matchIndex, by TraceServers order;
             zeros unless a leader, and 0 for the node itself)
     sends   RequestVote, RequestVoteResponse and AppendEntriesResponse sent
     appends AppendEntries sent (the leader's slice of its log is free)
     dups    messages the network delivered twice

   TraceWindows[k] is a window: events first..last, checked from the logged
   state of every node before `first` (by TraceServers order) and `bag`, the
   messages in flight then that the window receives (<<message, copies>>).

   What the simulator does that the spec abstracts, and how it is mapped:
   - Timers: an election or heartbeat timeout is the spec's enabled action;
     delays, drift and re-arming are not modelled, except that whether a
     step restarted the election timer must agree with Raft.tla's
     RestartsElectionTimer. A timer that finds its node in the wrong role
     (stale) and a client request at a non-leader (the redirect) must change
     nothing and send nothing.
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
   - Unlogged state (nextIndex, ghost variables) is whatever the spec
     computes from the window's start and is never compared. *)
",
        offset + 1
    ));
    let _ = writeln!(text, "EXTENDS Naturals, Sequences\n");
    let _ = writeln!(text, "TraceServers == <<{}>>", servers.join(", "));
    let _ = writeln!(text, "TraceServer == {{{}}}", servers.join(", "));
    let _ = writeln!(text, "TraceValue == 1..{}", values.max(1));
    let _ = writeln!(text, "TraceNil == \"none\"\n");
    let _ = writeln!(text, "TraceOffset == {offset}\n");
    let _ = writeln!(text, "Trace == <<");
    for position in offset + 1..=last {
        let step = &steps[position - 1];
        let separator = if position < last { "," } else { "" };
        let _ = writeln!(
            text,
            "\\* {position}: i={} t={}us n{} {}\n  {}{separator}",
            step.index, step.time_us, step.node, step.event, step.record
        );
    }
    let _ = writeln!(text, ">>\n");
    let _ = writeln!(text, "TraceWindows == <<");
    for (k, window) in group.iter().enumerate() {
        let bag: Vec<String> = window
            .bag
            .iter()
            .map(|(message, copies)| format!("<<{message}, {copies}>>"))
            .collect();
        let separator = if k + 1 < group.len() { "," } else { "" };
        let _ = writeln!(
            text,
            "  [first |-> {}, last |-> {},\n     {},\n     bag |-> {{{}}}]{separator}",
            window.first,
            window.last,
            NodeState::start_tla(&window.nodes),
            bag.join(",\n       ")
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
";

/// What the TLC runs found.
pub(crate) struct Checked {
    /// The first event the spec cannot take (1-based position) and the phase.
    pub(crate) rejected: Option<(usize, String)>,
    pub(crate) tlc_runs: usize,
    pub(crate) states_generated: Option<u64>,
    pub(crate) distinct_states: Option<u64>,
    pub(crate) elapsed_ms: u64,
}

/// Checks every window of `events`, in `options.jobs` TLC runs at once, each in its own
/// folder `spec_dir/part-K/`.
pub(crate) fn check(
    spec_dir: &Path,
    run: &str,
    cluster_size: u32,
    events: &Events,
    options: Options,
) -> Result<Checked, Error> {
    assert!(options.window > 0 && options.jobs > 0);
    let cut = windows(events, options.window);
    assert!(!cut.is_empty());
    let runs = options.jobs.min(cut.len());
    let per_run = cut.len().div_ceil(runs);
    if spec_dir.exists() {
        std::fs::remove_dir_all(spec_dir).map_err(|error| {
            Error::BadInput(format!("cannot clear {}: {error}", spec_dir.display()))
        })?;
    }
    let mut parts: Vec<(PathBuf, &[Window])> = Vec::new();
    for (k, group) in cut.chunks(per_run).enumerate() {
        let dir = spec_dir.join(format!("part-{}", k + 1));
        write_file(&dir.join("Raft.tla"), RAFT_TLA)?;
        write_file(&dir.join("TraceRaft.tla"), TRACE_RAFT_TLA)?;
        write_file(&dir.join("TraceRaft.cfg"), CONFIG)?;
        let module = module_text(run, cluster_size, events.values, &events.steps, group);
        write_file(&dir.join("TraceData.tla"), &module)?;
        parts.push((dir, group));
    }
    let jar = tlc::locate_or_install_jar(Path::new(".")).map_err(Error::BadInput)?;
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)] // times child JVMs
    let start = std::time::Instant::now();
    let reports: Vec<Result<TlcReport, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .iter()
            .map(|(dir, _)| {
                let jar = &jar;
                scope.spawn(move || {
                    tlc::run_tlc_with_args(
                        jar,
                        &dir.join("TraceRaft.tla"),
                        Some(&dir.join("TraceRaft.cfg")),
                        1,
                        &["-deadlock"],
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("TLC thread panicked".into()))
            })
            .collect()
    });
    #[allow(clippy::disallowed_types, clippy::disallowed_methods)]
    let elapsed_ms = start.elapsed().as_millis() as u64;
    let mut rejected = None;
    let (mut generated, mut distinct) = (Some(0), Some(0));
    for ((dir, group), report) in parts.iter().zip(reports) {
        let report = report.map_err(Error::Internal)?;
        if report.outcome != TlcOutcome::Ok {
            return Err(Error::Internal(format!(
                "TLC on {}: {:?} (exit {}): {}",
                dir.join("TraceRaft.tla").display(),
                report.outcome,
                report.exit_code,
                report.errors.join(" | ")
            )));
        }
        generated = generated.zip(report.states_generated).map(|(a, b)| a + b);
        distinct = distinct.zip(report.distinct_states).map(|(a, b)| a + b);
        if rejected.is_none() {
            let spans: Vec<(usize, usize)> = group.iter().map(|w| (w.first, w.last)).collect();
            rejected = first_rejection(&report.printed, &spans, "net")?;
        }
    }
    Ok(Checked {
        rejected,
        tlc_runs: parts.len(),
        states_generated: generated,
        distinct_states: distinct,
        elapsed_ms,
    })
}

/// The furthest `<<"trace-position", w, l, phase>>` TLC printed for each window of the
/// run, by window index ("step" loses to "net" at the same position: "net" means the
/// event's action itself was taken).
fn furthest_positions(printed: &[String]) -> BTreeMap<usize, (usize, bool)> {
    let mut furthest: BTreeMap<usize, (usize, bool)> = BTreeMap::new();
    for line in printed {
        let Some(inner) = line
            .strip_prefix("<<\"trace-position\", ")
            .and_then(|rest| rest.strip_suffix(">>"))
        else {
            continue;
        };
        let fields: Vec<&str> = inner.split(", ").collect();
        let [w, l, phase] = fields.as_slice() else {
            continue;
        };
        let (Ok(w), Ok(l)) = (w.trim().parse::<usize>(), l.trim().parse::<usize>()) else {
            continue;
        };
        // Any phase but "step" means the event's own action was taken.
        let reached = (l, phase.trim_matches('"') != "step");
        let best = furthest.entry(w).or_insert(reached);
        *best = (*best).max(reached);
    }
    furthest
}

/// The first event some window (events `first..=last`) could not take, from TLC's printed
/// positions; `after` names the phase past the event's own action ("net" in TraceRaft.tla,
/// "inner" in TracePaxos.tla).
pub(crate) fn first_rejection(
    printed: &[String],
    windows: &[(usize, usize)],
    after: &str,
) -> Result<Option<(usize, String)>, Error> {
    let furthest = furthest_positions(printed);
    for (k, &(first, last)) in windows.iter().enumerate() {
        let (position, net) = *furthest.get(&(k + 1)).ok_or_else(|| {
            Error::Internal(format!(
                "TLC printed no trace position for window {} (events {}..{}): its start \
                 state is not a state of the spec",
                k + 1,
                first,
                last
            ))
        })?;
        assert!(position >= first && position <= last + 1);
        if position <= last {
            let phase = if net { after } else { "step" };
            return Ok(Some((position, phase.to_string())));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furthest_positions_are_per_window_and_prefer_net_over_step() {
        let printed = [
            "<<\"trace-position\", 1, 1, \"step\">>".to_string(),
            "<<\"trace-position\", 1, 7, \"step\">>".to_string(),
            "<<\"trace-position\", 1, 7, \"net\">>".to_string(),
            "<<\"trace-position\", 2, 12, \"step\">>".to_string(),
            "<<\"trace-position\", 1, 3, \"net\">>".to_string(),
            "<<\"something else\", 99>>".to_string(),
        ];
        let furthest = furthest_positions(&printed);
        assert_eq!(furthest.get(&1), Some(&(7, true)));
        assert_eq!(furthest.get(&2), Some(&(12, false)));
        assert_eq!(furthest.len(), 2);
    }
}
