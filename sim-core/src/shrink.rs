//! Shrinking: reduce a failing run to a minimal scenario that still violates the same
//! property with the same seed. Protocol-generic: it edits scenario files and runs them
//! through the registry's protocol-erased [`Runner`]s; `quorumlab shrink` is the command
//! around it (run directories, files, printing).
//!
//! First the run is made explicit, so that later edits stay local: its realised faults
//! (whatever the schedule, nemesis or swarm chose, with targets resolved) become a
//! `[[faults]]` schedule without the nemesis, its client operations a `[[workload.ops]]`
//! list, and every other random decision (each message's fate and delay, each timer's
//! delay, each client draw) a decision tape (`crate::tape`, embedded as `[tape]`).
//! On the tape a decision is keyed by (sender, receiver, n-th message on that pair),
//! (node, n-th timer) or (client, n-th draw), so removing a message or an operation no
//! longer reshuffles every later draw, and a missing entry means the benign choice.
//!
//! Then, delta-debugging style (Zeller's ddmin), each reduction is kept if the property
//! still fails and the run is no bigger: drop faults (in halves, quarters, ... then one
//! by one), end the run just after the failure, drop the liveness window for a safety
//! failure, drop or reduce the clients and their operations, calm the network (no loss,
//! duplication or reordering), drop tape entries (a dropped or slow message becomes a
//! prompt delivery, a timer takes the minimum of its range, a client draw its
//! minimum), try fewer nodes (down to 3), halve clock drifts and skews, drop `sometimes`
//! conditions; then once more over faults, operations and the tape. Byzantine nodes
//! shrink too: all of them made honest (no `[byzantine]` table), a `count` made the list
//! of nodes that misbehaved, fewer of those (a twin made honest joins both parts of the
//! other twins' split), then each misbehaviour (a step the strategy changed,
//! `[[tape.byzantine]]`) dropped, which leaves that step honest.
//!
//! A liveness failure is shrunk soundly, so that the shrunk file does not fail in a way
//! any implementation would: the "benign" choices of a safety shrink are not benign for
//! liveness (every election timer at its minimum splits votes forever; no client
//! operations, no client progress). So for a liveness failure the recorded timer draws
//! stay on the tape, a timer the shrunk run arms beyond them is drawn at random (the
//! tape's `missing_timers = "drawn"`), clients and their operations stay, and where the
//! run used a mutant each candidate must also pass without it: a candidate the correct
//! protocol fails too is backed off (each such check is one more attempt).
//!
//! The search is bounded by a count of candidate runs (`max_attempts`), and attempts run
//! in a fixed order, so the same input and bound give the same output on any machine.
//! Nothing here reads the wall clock: a caller that wants an early stop on time (the
//! CLI's `--budget-seconds`) answers [`ControlFlow::Break`] from the callback it passes,
//! which sees every attempt before it runs, and the result says it was cut short
//! ([`Stopped::Early`]), since where it stops then differs between machines.
//!
//! What is counted ("faults" in [`Size`]): each fault action that fired, plus each
//! message the network's random decisions dropped (loss, send or receive omission) or
//! duplicated, plus each step a Byzantine strategy changed. Messages a partition or a crash dropped are the consequence of a fault
//! already counted, and delays are not faults (an asynchronous network may take any).
//! A tape drop is therefore a fault the shrinker can remove, like a scheduled one.

use std::fmt;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;

use crate::byzantine::{ByzantineNodes, ByzantineSpec, TwinsSplit};
use crate::result::{RunOutput, Verdict};
use crate::runner::{prepare, ProtocolEntry};
use crate::scenario::{
    ClientOpSpec, FaultActionSpec, FaultSpec, Scenario, ScenarioError, ScenarioFile, SeedsSpec,
};
use crate::tape::{MissingTimers, TapeSpec};

/// How big a failing run is, before and after shrinking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Size {
    /// Faults that fired plus messages randomly dropped or duplicated (see the module doc).
    pub faults: usize,
    pub client_ops: usize,
    pub events: u64,
    pub sim_time_us: u64,
}

impl Size {
    pub fn of(output: &RunOutput) -> Size {
        let metrics = &output.result.metrics;
        let random_drops: u64 = ["loss", "send_omission", "receive_omission"]
            .iter()
            .filter_map(|cause| metrics.drops_by_cause.get(*cause))
            .sum();
        let byzantine_steps = output.result.faults_fired.get("byzantine_steps");
        let random_faults =
            random_drops + metrics.messages_duplicated + byzantine_steps.copied().unwrap_or(0);
        Size {
            faults: output.faults.len() + random_faults as usize,
            client_ops: output.history.len(),
            events: metrics.events,
            sim_time_us: output.result.time_us,
        }
    }
}

/// A failing run to shrink: its scenario, seed, mutant and swarm flag, and its output.
pub struct Failure<'a> {
    /// The protocols the scenario may name (its own is looked up by name).
    pub registry: &'a [ProtocolEntry],
    pub scenario: &'a Scenario,
    pub seed: u64,
    pub mutant: Option<&'a str>,
    pub swarm: bool,
    /// The run of (scenario, seed, mutant, swarm): it must have failed.
    pub output: &'a RunOutput,
}

/// What the callback of [`shrink`] sees before each attempt.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    /// The phase of the search (`explicit faults`, `client ops`, `tape: timers`, ...).
    pub phase: &'a str,
    /// This attempt's number, from 1.
    pub number: u64,
}

/// Why the search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// Every reduction was tried: the result is the search's fixed point.
    Finished,
    /// The attempt bound ran out first. Still deterministic: the same on any machine.
    MaxAttempts,
    /// The caller's callback stopped it (the CLI's wall-clock budget): where it stopped,
    /// and so the result, may differ on another machine.
    Early,
}

/// The shrunk scenario and what shrinking did.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The property the original run violated, and every shrunk candidate too.
    pub property: String,
    /// The shrunk scenario: `expect` is the property, `seeds` the one seed.
    pub file: ScenarioFile,
    /// Its run (untraced).
    pub output: RunOutput,
    pub before: Size,
    pub after: Size,
    /// Candidate runs made (never more than the bound).
    pub attempts: u64,
    pub stopped: Stopped,
}

/// Why there is nothing to shrink.
#[derive(Debug)]
pub enum ShrinkError {
    /// The given run did not fail.
    Passed,
    /// The scenario cannot be bound to its protocol.
    Scenario(ScenarioError),
}

impl fmt::Display for ShrinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShrinkError::Passed => write!(f, "the run passed; there is nothing to shrink"),
            ShrinkError::Scenario(error) => write!(f, "{error}"),
        }
    }
}

/// Shrink `failure` in at most `max_attempts` candidate runs. `before_attempt` is called
/// before each one (for a progress display, or to stop early: [`ControlFlow::Break`]
/// ends the search and the result is the best found so far, [`Stopped::Early`]).
pub fn shrink(
    failure: &Failure,
    max_attempts: u64,
    before_attempt: &mut dyn FnMut(Attempt) -> ControlFlow<()>,
) -> Result<Shrunk, ShrinkError> {
    let result = &failure.output.result;
    let Some(property) = result
        .property
        .clone()
        .filter(|_| result.verdict.is_failure())
    else {
        return Err(ShrinkError::Passed);
    };
    // The registry must know the scenario's protocol: refuse here, not on every attempt.
    prepare(
        failure.registry,
        failure.scenario,
        failure.mutant,
        failure.swarm,
    )
    .map_err(ShrinkError::Scenario)?;
    let mut shrinker = Shrinker {
        registry: failure.registry,
        path: &failure.scenario.path,
        seed: failure.seed,
        mutant: failure.mutant.map(str::to_string),
        property: property.clone(),
        attempts: 0,
        max_attempts,
        stopped_early: false,
        before_attempt,
        phase: "explicit",
        latest_first: false,
        events_max: result.metrics.events.saturating_mul(2),
        liveness: result.verdict == Verdict::Liveness,
    };
    let explicit = explicit_run(&mut shrinker, failure);
    // ddmin finds a local minimum, and which one depends on the order chunks are tried
    // in: dropping late things first keeps the run's beginning, dropping early things
    // first its end. Both passes run (the second while attempts remain); the smaller wins.
    let mut best = explicit.clone();
    minimise(&mut shrinker, &mut best);
    if !shrinker.exhausted() {
        shrinker.latest_first = true;
        let mut other = explicit;
        minimise(&mut shrinker, &mut other);
        if rank(&other) < rank(&best) {
            best = other;
        }
    }
    shrinker.phase("tidy");
    if best.0.tape.as_ref().is_some_and(TapeSpec::is_empty) {
        shrinker.try_edit(&mut best, |file| file.tape = None);
    }
    let stopped = if shrinker.stopped_early {
        Stopped::Early
    } else if shrinker.attempts >= shrinker.max_attempts {
        Stopped::MaxAttempts
    } else {
        Stopped::Finished
    };
    assert!(shrinker.attempts <= max_attempts);
    let (file, output) = best;
    Ok(Shrunk {
        property,
        before: Size::of(failure.output),
        after: Size::of(&output),
        file,
        output,
        attempts: shrinker.attempts,
        stopped,
    })
}

/// What shrinking minimises: faults plus client operations in the run.
fn weight(output: &RunOutput) -> usize {
    let size = Size::of(output);
    size.faults + size.client_ops
}

/// The best scenario so far and its failing run.
type Best = (ScenarioFile, RunOutput);

struct Shrinker<'a> {
    registry: &'a [ProtocolEntry],
    path: &'a Path,
    seed: u64,
    mutant: Option<String>,
    property: String,
    attempts: u64,
    max_attempts: u64,
    /// The callback answered `Break`: no more attempts.
    stopped_early: bool,
    before_attempt: &'a mut dyn FnMut(Attempt) -> ControlFlow<()>,
    phase: &'static str,
    /// ddmin's chunk order: the latest chunk first, or the earliest.
    latest_first: bool,
    /// A candidate run may not have more than twice the original's events: a shrunk
    /// run that is much slower to replay (and to shrink further) is no progress.
    events_max: u64,
    /// The failure is a liveness one: shrink soundly (see the module doc).
    liveness: bool,
}

impl Shrinker<'_> {
    /// No attempt may run any more: the bound is reached or the caller stopped us.
    fn exhausted(&self) -> bool {
        self.stopped_early || self.attempts >= self.max_attempts
    }

    fn phase(&mut self, phase: &'static str) {
        self.phase = phase;
    }

    /// Does `file` still fail with the property, at the same seed? Returns the output.
    /// Every call is one attempt, within the bound.
    fn fails(&mut self, file: &ScenarioFile, record_tape: bool) -> Option<RunOutput> {
        if self.exhausted() {
            return None;
        }
        let attempt = Attempt {
            phase: self.phase,
            number: self.attempts + 1,
        };
        if (self.before_attempt)(attempt).is_break() {
            self.stopped_early = true;
            return None;
        }
        self.attempts += 1;
        let scenario = Scenario::from_file(self.path, file.clone()).ok()?;
        let runner = prepare(self.registry, &scenario, self.mutant.as_deref(), false).ok()?;
        let output = runner.run_with(self.seed, false, record_tape);
        let same = output.result.verdict.is_failure()
            && output.result.property.as_deref() == Some(self.property.as_str());
        if same && self.liveness && self.mutant.is_some() && !self.passes_without_mutant(file) {
            return None;
        }
        same.then_some(output)
    }

    /// Does `file` pass on the correct protocol (no mutant)? One more attempt; `false`
    /// when the bound is reached first, so an unchecked candidate is never kept.
    fn passes_without_mutant(&mut self, file: &ScenarioFile) -> bool {
        if self.exhausted() {
            return false;
        }
        self.attempts += 1;
        let mut correct = file.clone();
        correct.mutant = None;
        let Ok(scenario) = Scenario::from_file(self.path, correct) else {
            return false;
        };
        let Ok(runner) = prepare(self.registry, &scenario, None, false) else {
            return false;
        };
        runner.run_with(self.seed, false, false).result.verdict == Verdict::Pass
    }

    /// Keep `candidate` if it still fails, and is no bigger.
    fn try_keep(&mut self, best: &mut Best, candidate: ScenarioFile) -> bool {
        match self.fails(&candidate, false) {
            // Removing something can change the run so that more happens in it; only a
            // run no bigger (in faults plus client operations) counts as progress.
            Some(output)
                if weight(&output) <= weight(&best.1)
                    && output.result.metrics.events <= self.events_max =>
            {
                *best = (candidate, output);
                true
            }
            _ => false,
        }
    }

    /// Keep the result of `edit` on the best scenario if it changes it and still fails.
    fn try_edit(&mut self, best: &mut Best, edit: impl FnOnce(&mut ScenarioFile)) -> bool {
        if self.exhausted() {
            return false;
        }
        let mut candidate = best.0.clone();
        edit(&mut candidate);
        if serde_json::to_value(&candidate).ok() == serde_json::to_value(&best.0).ok() {
            return false;
        }
        self.try_keep(best, candidate)
    }
}

/// ddmin (Zeller and Hildebrandt 2002) over one list of the scenario: drop chunks of
/// it, halving the chunk size when no chunk can go, while the failure persists. The
/// whole list goes first: often none of it is needed. `chunks_max` bounds the
/// granularity (and so the attempts) for long lists whose single items do not count.
fn ddmin<T: Clone>(
    shrinker: &mut Shrinker,
    best: &mut Best,
    chunks_max: usize,
    get: impl Fn(&ScenarioFile) -> Vec<T>,
    set: impl Fn(&mut ScenarioFile, Vec<T>),
) {
    let mut chunks = 1;
    while !shrinker.exhausted() {
        let items = get(&best.0);
        if items.is_empty() {
            return;
        }
        let chunk_len = items.len().div_ceil(chunks).max(1);
        let mut reduced = false;
        let mut starts: Vec<usize> = (0..items.len()).step_by(chunk_len).collect();
        if shrinker.latest_first {
            starts.reverse();
        }
        for start in starts {
            let mut candidate = best.0.clone();
            let kept = items
                .iter()
                .enumerate()
                .filter(|(i, _)| !(start..start + chunk_len).contains(i))
                .map(|(_, item)| item.clone());
            set(&mut candidate, kept.collect());
            if shrinker.try_keep(best, candidate) {
                chunks = (chunks - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if chunk_len == 1 || chunks >= chunks_max {
                return;
            }
            chunks = (chunks * 2).min(items.len());
        }
    }
}

fn shrink_faults(shrinker: &mut Shrinker, best: &mut Best) {
    if best.0.nemesis.is_none() {
        shrinker.phase("faults");
        ddmin(
            shrinker,
            best,
            usize::MAX,
            |file| file.faults.clone(),
            |file, faults| file.faults = faults,
        );
    }
}

/// Byzantine nodes: all honest, else the ones that misbehaved by id and fewer of them,
/// then their misbehaviours one by one (each a tape entry; without it the step is honest).
fn shrink_byzantine(shrinker: &mut Shrinker, best: &mut Best) {
    let Some(spec) = best.0.byzantine.clone() else {
        return;
    };
    shrinker.phase("byzantine");
    let honest = shrinker.try_edit(best, |file| {
        file.byzantine = None;
        if let Some(tape) = &mut file.tape {
            tape.byzantine.clear();
        }
    });
    if honest {
        return;
    }
    if spec.count.is_some() {
        // Which nodes misbehaved: the ones with tape entries (a node's own stream, and
        // so its strategy, is the same whether it was drawn or named).
        let mut misbehaved: Vec<u32> = tape_of(&best.0).byzantine.iter().map(|b| b.node).collect();
        misbehaved.dedup();
        if !misbehaved.is_empty() {
            shrinker.try_edit(best, |file| {
                if let Some(byzantine) = &mut file.byzantine {
                    byzantine.count = None;
                    byzantine.nodes = Some(ByzantineNodes::Ids(misbehaved));
                }
            });
        }
    }
    if matches!(
        best.0.byzantine.as_ref().and_then(|b| b.nodes.as_ref()),
        Some(ByzantineNodes::Ids(ids)) if ids.len() > 1
    ) {
        ddmin(
            shrinker,
            best,
            usize::MAX,
            |file| match file.byzantine.as_ref().and_then(|b| b.nodes.as_ref()) {
                Some(ByzantineNodes::Ids(ids)) => ids.clone(),
                _ => Vec::new(),
            },
            |file, ids| {
                if let Some(tape) = &mut file.tape {
                    tape.byzantine.retain(|entry| ids.contains(&entry.node));
                }
                if let Some(byzantine) = &mut file.byzantine {
                    honest_twins_join_both_parts(byzantine, &ids);
                    byzantine.nodes = Some(ByzantineNodes::Ids(ids));
                }
            },
        );
    }
    ddmin(
        shrinker,
        best,
        usize::MAX,
        |file| tape_of(file).byzantine,
        |file, entries| tape_mut(file).byzantine = entries,
    );
}

/// A twin made honest (no longer in `kept`) was in no part of the other twins' fixed
/// split (twins talk copy to copy); as one honest node it talks to both of their copies.
fn honest_twins_join_both_parts(byzantine: &mut ByzantineSpec, kept: &[u32]) {
    let (Some(ByzantineNodes::Ids(before)), Some(TwinsSplit::Parts(parts))) =
        (&byzantine.nodes, &mut byzantine.twins_split)
    else {
        return;
    };
    for id in before.iter().filter(|id| !kept.contains(id)) {
        for part in parts.iter_mut() {
            part.push(*id);
        }
    }
}

fn shrink_ops(shrinker: &mut Shrinker, best: &mut Best) {
    if shrinker.liveness {
        // A liveness condition may need the operations (client progress does).
        return;
    }
    shrinker.phase("client ops");
    ddmin(
        shrinker,
        best,
        usize::MAX,
        |file| {
            let ops = file.workload.as_ref().and_then(|w| w.ops.clone());
            ops.unwrap_or_default()
        },
        |file, ops| {
            if let Some(workload) = &mut file.workload {
                workload.ops = Some(ops);
            }
        },
    );
}

/// The tape of a candidate (which has one: these are only called on a taped scenario).
fn tape_mut(file: &mut ScenarioFile) -> &mut TapeSpec {
    file.tape.get_or_insert_with(TapeSpec::default)
}

/// Tape entries left in the scenario.
fn tape_of(file: &ScenarioFile) -> TapeSpec {
    file.tape.clone().unwrap_or_default()
}

/// How finely the tape's long lists are cut: a tape entry that is not a fault does not
/// count in the size, so its list is thinned in at most this many chunks, not one by
/// one (which would cost an attempt per message on a long run).
const TAPE_CHUNKS_MAX: usize = 64;

/// Drop tape entries: first every message fault one by one (a dropped or duplicated
/// message becomes a prompt single delivery; these count), then messages, timers and
/// client draws in chunks (a delay becomes the minimum latency, a timer the minimum of
/// its range, a client draw its benign value).
fn shrink_tape(shrinker: &mut Shrinker, best: &mut Best) {
    if best.0.tape.is_none() {
        return;
    }
    shrinker.phase("tape: message faults");
    ddmin(
        shrinker,
        best,
        usize::MAX,
        |file| {
            let tape = tape_of(file);
            tape.messages.into_iter().filter(|m| m.is_fault()).collect()
        },
        |file, faults| {
            let tape = tape_mut(file);
            tape.messages.retain(|m| !m.is_fault());
            tape.messages.extend(faults);
            tape.messages.sort_by_key(|m| (m.from, m.to, m.n));
        },
    );
    shrinker.phase("tape: messages");
    ddmin(
        shrinker,
        best,
        TAPE_CHUNKS_MAX,
        |file| tape_of(file).messages,
        |file, messages| tape_mut(file).messages = messages,
    );
    if shrinker.liveness {
        // Liveness depends on timers being random: keep the recorded draws.
        return;
    }
    shrinker.phase("tape: timers");
    ddmin(
        shrinker,
        best,
        TAPE_CHUNKS_MAX,
        |file| tape_of(file).timers,
        |file, timers| tape_mut(file).timers = timers,
    );
    shrinker.phase("tape: clients");
    ddmin(
        shrinker,
        best,
        TAPE_CHUNKS_MAX,
        |file| tape_of(file).clients,
        |file, clients| tape_mut(file).clients = clients,
    );
}

/// For a safety failure: no liveness window, and the run ends just after the failure.
fn end_after_failure(shrinker: &mut Shrinker, best: &mut Best) {
    let safety = matches!(best.1.result.verdict, Verdict::Violation | Verdict::Panic);
    if !safety {
        return;
    }
    shrinker.phase("shorten");
    shrinker.try_edit(best, |file| file.liveness = None);
    let end_ms = best.1.result.time_us / 1000 + 1;
    if end_ms < best.0.duration_ms {
        shrinker.try_edit(best, |file| {
            file.duration_ms = end_ms;
            file.faults.retain(|fault| fault.at() <= end_ms * 1000);
            if let Some(ops) = file.workload.as_mut().and_then(|w| w.ops.as_mut()) {
                ops.retain(|op| op.at() <= end_ms * 1000);
            }
        });
    }
}

/// Which of two shrunk runs is smaller: faults plus operations, then tape entries,
/// then events.
fn rank(best: &Best) -> (usize, usize, u64) {
    let tape = best.0.tape.as_ref().map_or(0, TapeSpec::len);
    (weight(&best.1), tape, best.1.result.metrics.events)
}

/// One shrinking pass from the explicit run, in the shrinker's chunk order.
fn minimise(shrinker: &mut Shrinker, best: &mut Best) {
    shrink_faults(shrinker, best);
    end_after_failure(shrinker, best);
    shrink_byzantine(shrinker, best);
    shrink_clients(shrinker, best);
    shrink_ops(shrinker, best);
    calm_network(shrinker, best);
    shrink_tape(shrinker, best);
    shrink_nodes(shrinker, best);
    shrink_drift(shrinker, best);
    // Dropping other things can make more faults, operations and decisions unnecessary:
    // go round again while a round makes progress.
    let mut previous = None;
    while previous != Some(rank(best)) && !shrinker.exhausted() {
        previous = Some(rank(best));
        shrink_faults(shrinker, best);
        end_after_failure(shrinker, best);
        shrink_byzantine(shrinker, best);
        shrink_ops(shrinker, best);
        shrink_tape(shrinker, best);
        shrink_nodes(shrinker, best);
        shrink_drift(shrinker, best);
    }
}

/// Keep only the first `clients` clients (their operations and tape entries too).
fn keep_clients(file: &mut ScenarioFile, clients: u32) {
    if clients == 0 {
        file.workload = None;
        if let Some(liveness) = &mut file.liveness {
            liveness.require.retain(|name| name != "client_progress");
        }
    } else if let Some(workload) = &mut file.workload {
        workload.clients = clients;
        if let Some(ops) = &mut workload.ops {
            ops.retain(|op| op.client < clients);
        }
    }
    if let Some(tape) = &mut file.tape {
        tape.clients.retain(|entry| entry.client < clients);
    }
}

fn shrink_clients(shrinker: &mut Shrinker, best: &mut Best) {
    if shrinker.liveness || shrinker.property == "client_progress" {
        return;
    }
    shrinker.phase("clients");
    if !shrinker.try_edit(best, |file| keep_clients(file, 0)) {
        while let Some(clients) = best.0.workload.as_ref().map(|w| w.clients) {
            if clients <= 1 || !shrinker.try_edit(best, |file| keep_clients(file, clients - 1)) {
                break;
            }
        }
    }
}

/// Does a fault name only nodes below `nodes`?
fn fault_within(fault: &FaultSpec, nodes: u32) -> bool {
    fault.action.node_ids().iter().all(|&id| id < nodes)
}

/// Fewer nodes, smallest first (down to 3): faults and tape entries naming a node
/// beyond the new cluster go; the others keep their keys, so the run stays alike.
fn shrink_nodes(shrinker: &mut Shrinker, best: &mut Best) {
    shrinker.phase("nodes");
    let nodes = best.0.nodes;
    for fewer in 3..nodes {
        let kept = shrinker.try_edit(best, |file| {
            file.nodes = fewer;
            file.faults.retain(|fault| fault_within(fault, fewer));
            file.network
                .links
                .retain(|link| link.from < fewer && link.to < fewer);
            if let Some(tape) = &mut file.tape {
                tape.messages
                    .retain(|entry| entry.from < fewer && entry.to < fewer);
                tape.timers.retain(|entry| entry.node < fewer);
                tape.byzantine.retain(|entry| entry.node < fewer);
            }
            if let Some(Some(ByzantineNodes::Ids(ids))) =
                file.byzantine.as_mut().map(|b| b.nodes.as_mut())
            {
                ids.retain(|&id| id < fewer);
            }
            if let Some(Some(TwinsSplit::Parts(parts))) =
                file.byzantine.as_mut().map(|b| b.twins_split.as_mut())
            {
                for part in parts {
                    part.retain(|&id| id < fewer);
                }
            }
        });
        if kept {
            return;
        }
    }
}

/// Clock trouble towards none: halve each drift and each skew's offset while the failure
/// persists.
fn shrink_drift(shrinker: &mut Shrinker, best: &mut Best) {
    shrinker.phase("clock drift and skew");
    for index in 0..best.0.faults.len() {
        while best
            .0
            .faults
            .get_mut(index)
            .and_then(clock_size)
            .is_some_and(|size| *size != 0)
        {
            let kept = shrinker.try_edit(best, |file| {
                if let Some(size) = clock_size(&mut file.faults[index]) {
                    *size /= 2;
                }
            });
            if !kept {
                break;
            }
        }
    }
}

/// The magnitude of a clock fault: a drift's rate, a skew's offset.
fn clock_size(fault: &mut FaultSpec) -> Option<&mut i64> {
    match &mut fault.action {
        FaultActionSpec::ClockDrift { drift_ppm, .. } => Some(drift_ppm),
        FaultActionSpec::ClockSkew { offset_ms, .. } => Some(offset_ms),
        _ => None,
    }
}

fn calm_network(shrinker: &mut Shrinker, best: &mut Best) {
    shrinker.phase("calm network");
    for calm in [
        |f: &mut ScenarioFile| f.network.drop_per_million = 0,
        |f: &mut ScenarioFile| f.network.duplicate_per_million = 0,
        |f: &mut ScenarioFile| f.network.reorder_per_million = 0,
        |f: &mut ScenarioFile| f.sometimes.clear(),
    ] {
        shrinker.try_edit(best, calm);
    }
}

/// The failing run made explicit, as far as it still reproduces: faults as a schedule
/// (no nemesis, no swarm), client operations as a list, every other decision on a tape.
/// Each step is kept only if the run still fails the same way.
fn explicit_run(shrinker: &mut Shrinker, failure: &Failure) -> Best {
    let original = failure.output;
    let mut same = failure.scenario.file.clone();
    same.seeds = Some(SeedsSpec::Range(format!("{0}..{0}", failure.seed)));
    same.expect = shrinker.property.clone();
    same.mutant = failure.mutant.map(str::to_string);
    same.swarm = same.swarm || failure.swarm;
    same.name = Some(format!("{}-shrunk", failure.scenario.name()));
    // A `tape_file` was read into `tape` when the scenario loaded; the shrunk file
    // embeds the tape it edits.
    same.tape_file = None;
    let mut best = (same, original.clone());

    shrinker.phase("explicit faults");
    shrinker.try_edit(&mut best, |file| {
        file.nemesis = None;
        file.swarm = false;
        file.faults = original
            .faults
            .iter()
            .map(|fault| fault.action.to_spec(fault.at_us, fault.duration_us))
            .collect();
    });
    shrinker.phase("explicit ops");
    if best.0.workload.as_ref().is_some_and(|w| w.ops.is_none()) {
        let ops: Vec<ClientOpSpec> = best
            .1
            .history
            .iter()
            .map(|op| ClientOpSpec {
                at_us: Some(op.invoke_us),
                at_ms: None,
                client: op.client,
                draw: Some(op.draw),
                op: None,
                wait: None,
            })
            .collect();
        shrinker.try_edit(&mut best, |file| {
            if let Some(workload) = &mut file.workload {
                workload.ops = Some(ops);
            }
        });
    }
    // The rest of the run's decisions on a tape: from here on, removing a message or an
    // operation leaves every other link's, timer's and client's decisions in place.
    shrinker.phase("record tape");
    if best.0.tape.is_none() {
        if let Some(mut tape) = shrinker.fails(&best.0, true).and_then(|output| output.tape) {
            if shrinker.liveness {
                tape.missing_timers = MissingTimers::Drawn;
            }
            shrinker.try_edit(&mut best, |file| file.tape = Some(tape));
        }
    }
    best
}
