//! `quorumlab shrink`: reduce a failing run to a minimal scenario file that still
//! violates the same property with the same seed.
//!
//! First the run is made explicit, so that later edits stay local: its realised faults
//! (whatever the schedule, nemesis or swarm chose, with targets resolved) become a
//! `[[faults]]` schedule without the nemesis, its client operations a `[[workload.ops]]`
//! list, and every other random decision (each message's fate and delay, each timer's
//! delay, each client draw) a decision tape (`sim_core::tape`, embedded as `[tape]`).
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
//! minimum), try fewer nodes (down to 3), reduce clock drift, drop `sometimes`
//! conditions; then once more over faults, operations and the tape. Attempts run in a
//! fixed order, so the same input gives the same output (unless the time budget cuts
//! the search short). A spinner on stderr shows the phase and the attempts.
//!
//! What is counted ("faults" in the size line): each fault action that fired, plus each
//! message the network's random decisions dropped (loss, send or receive omission) or
//! duplicated. Messages a partition or a crash dropped are the consequence of a fault
//! already counted, and delays are not faults (an asynchronous network may take any).
//! A tape drop is therefore a fault the shrinker can remove, like a scheduled one.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sim_core::result::{RunOutput, RunResult, Verdict};
use sim_core::scenario::{ClientOpSpec, FaultActionSpec, Scenario, ScenarioFile, SeedsSpec};
use sim_core::tape::TapeSpec;

use crate::bench::Stopwatch;
use crate::commands::{prepare_scenario, write_run_dir};
use crate::{to_json_pretty, write_file, CliError, EXIT_PASS};

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
        Size {
            faults: output.faults.len() + (random_drops + metrics.messages_duplicated) as usize,
            client_ops: output.history.len(),
            events: metrics.events,
            sim_time_us: output.result.time_us,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ShrinkReport {
    pub property: String,
    pub seed: u64,
    pub before: Size,
    pub after: Size,
    pub attempts: u64,
    /// Entries left on the shrunk scenario's decision tape (0: no tape was needed).
    pub tape_entries: usize,
    pub seconds: f64,
    pub scenario: String,
    /// True if the time budget ended the search before every reduction was tried.
    pub budget_exhausted: bool,
}

/// What shrinking minimises: faults plus client operations in the run.
fn weight(output: &RunOutput) -> usize {
    let size = Size::of(output);
    size.faults + size.client_ops
}

/// The best scenario so far and its failing run.
type Best = (ScenarioFile, RunOutput);

struct Shrinker<'a> {
    path: &'a Path,
    seed: u64,
    mutant: Option<String>,
    property: String,
    attempts: u64,
    clock: Stopwatch,
    budget_seconds: f64,
    bar: indicatif::ProgressBar,
    phase: &'static str,
    /// ddmin's chunk order: the latest chunk first, or the earliest.
    latest_first: bool,
    /// A candidate run may not have more than twice the original's events: a shrunk
    /// run that is much slower to replay (and to shrink further) is no progress.
    events_max: u64,
}

impl Shrinker<'_> {
    fn out_of_time(&self) -> bool {
        self.clock.seconds() > self.budget_seconds
    }

    fn phase(&mut self, phase: &'static str) {
        self.phase = phase;
    }

    /// Does `file` still fail with the property, at the same seed? Returns the output.
    fn fails(&mut self, file: &ScenarioFile, record_tape: bool) -> Option<RunOutput> {
        self.attempts += 1;
        self.bar
            .set_message(format!("{}: {} attempts", self.phase, self.attempts));
        self.bar.tick();
        let scenario = Scenario::from_file(self.path, file.clone()).ok()?;
        let runner = prepare_scenario(&scenario, self.mutant.as_deref(), false).ok()?;
        let output = runner.run_with(self.seed, false, record_tape);
        let same = output.result.verdict.is_failure()
            && output.result.property.as_deref() == Some(self.property.as_str());
        same.then_some(output)
    }

    /// Keep `candidate` if it still fails, and is no bigger.
    fn try_keep(&mut self, best: &mut Best, candidate: ScenarioFile) -> bool {
        if self.out_of_time() {
            return false;
        }
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
        if self.out_of_time() {
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
    while !shrinker.out_of_time() {
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

fn shrink_ops(shrinker: &mut Shrinker, best: &mut Best) {
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
                ops.retain(|op| op.at_us <= end_ms * 1000);
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
    shrink_clients(shrinker, best);
    shrink_ops(shrinker, best);
    calm_network(shrinker, best);
    shrink_tape(shrinker, best);
    shrink_nodes(shrinker, best);
    shrink_drift(shrinker, best);
    // Dropping other things can make more faults, operations and decisions unnecessary:
    // go round again while a round makes progress.
    let mut previous = None;
    while previous != Some(rank(best)) && !shrinker.out_of_time() {
        previous = Some(rank(best));
        shrink_faults(shrinker, best);
        end_after_failure(shrinker, best);
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
    if shrinker.property == "client_progress" {
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
fn fault_within(fault: &sim_core::scenario::FaultSpec, nodes: u32) -> bool {
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
            }
        });
        if kept {
            return;
        }
    }
}

/// Clock drift towards zero: halve each drift while the failure persists.
fn shrink_drift(shrinker: &mut Shrinker, best: &mut Best) {
    shrinker.phase("clock drift");
    for index in 0..best.0.faults.len() {
        while best.0.faults.get(index).is_some_and(
            |f| matches!(f.action, FaultActionSpec::ClockDrift { drift_ppm, .. } if drift_ppm != 0),
        ) {
            let kept = shrinker.try_edit(best, |file| {
                if let FaultActionSpec::ClockDrift { drift_ppm, .. } =
                    &mut file.faults[index].action
                {
                    *drift_ppm /= 2;
                }
            });
            if !kept {
                break;
            }
        }
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

pub fn shrink(
    run_dir: &Path,
    budget_seconds: u64,
    out: Option<PathBuf>,
    json_output: bool,
) -> Result<i32, CliError> {
    let report = shrink_run(run_dir, budget_seconds, out)?;
    if json_output {
        print!("{}", to_json_pretty(&report));
    } else {
        print_report(&report);
    }
    Ok(EXIT_PASS)
}

pub fn print_report(report: &ShrinkReport) {
    println!(
        "shrunk `{}` (seed {}) in {} attempts, {:.1} s: faults {} -> {}, client ops {} -> {}, events {} -> {}, simulated {} us -> {} us, {} tape entries left{}",
        report.property,
        report.seed,
        report.attempts,
        report.seconds,
        report.before.faults,
        report.after.faults,
        report.before.client_ops,
        report.after.client_ops,
        report.before.events,
        report.after.events,
        report.before.sim_time_us,
        report.after.sim_time_us,
        report.tape_entries,
        if report.budget_exhausted { " (time budget reached)" } else { "" }
    );
    println!(
        "  wrote {} (its traced run is beside it, in {})",
        report.scenario,
        Path::new(&report.scenario).with_extension("run").display()
    );
}

/// Shrink the failing run in `run_dir`; write the shrunk scenario and its traced run.
pub fn shrink_run(
    run_dir: &Path,
    budget_seconds: u64,
    out: Option<PathBuf>,
) -> Result<ShrinkReport, CliError> {
    sim_core::panics::install_quiet_hook();
    let (recorded, scenario) = crate::replay::load_run_dir(run_dir)?;
    let Some(property) = recorded
        .property
        .clone()
        .filter(|_| recorded.verdict.is_failure())
    else {
        return Err(CliError::BadInput(format!(
            "{}: the run passed; there is nothing to shrink",
            run_dir.display()
        )));
    };
    let runner = prepare_scenario(&scenario, recorded.mutant.as_deref(), recorded.swarm)?;
    let original = runner.run(recorded.seed, false);
    check_reproduces(&recorded, &original.result)?;

    let bar = indicatif::ProgressBar::new_spinner();
    let mut shrinker = Shrinker {
        path: &scenario.path,
        seed: recorded.seed,
        mutant: recorded.mutant.clone(),
        property: property.clone(),
        attempts: 0,
        clock: Stopwatch::start(),
        budget_seconds: budget_seconds as f64,
        bar,
        phase: "explicit",
        latest_first: false,
        events_max: original.result.metrics.events.saturating_mul(2),
    };
    let explicit = explicit_run(&mut shrinker, &scenario, &recorded, &original);
    // ddmin finds a local minimum, and which one depends on the order chunks are tried
    // in: dropping late things first keeps the run's beginning, dropping early things
    // first its end. Both passes run (the second while budget remains); the smaller wins.
    let mut best = explicit.clone();
    minimise(&mut shrinker, &mut best);
    if !shrinker.out_of_time() {
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
    shrinker.bar.finish_and_clear();

    let (file, output) = best;
    let before = Size::of(&original);
    let after = Size::of(&output);
    let target = out.unwrap_or_else(|| run_dir.join("shrunk.toml"));
    let header = format!(
        "# Shrunk by `quorumlab shrink {}` from {} (seed {}{}).\n\
         # Violates `{property}` at seed {}: before {} faults, {} client ops, {} events, {} us simulated;\n\
         # after {} faults, {} client ops, {} events, {} us simulated.\n\
         # Reproduce: quorumlab run {} --seed {}   (or: quorumlab test {})\n",
        run_dir.display(),
        recorded.scenario,
        recorded.seed,
        recorded.mutant.as_ref().map(|m| format!(", mutant {m}")).unwrap_or_default(),
        recorded.seed,
        before.faults,
        before.client_ops,
        before.events,
        before.sim_time_us,
        after.faults,
        after.client_ops,
        after.events,
        after.sim_time_us,
        target.display(),
        recorded.seed,
        target.display(),
    );
    let body = toml::to_string(&file).map_err(|error| {
        CliError::Internal(format!("cannot write the shrunk scenario: {error}"))
    })?;
    write_file(&target, format!("{header}{body}"))?;
    // The shrunk run, traced, beside it.
    let shrunk = Scenario::parse(&target, format!("{header}{body}"))?;
    let runner = prepare_scenario(&shrunk, None, false)?;
    let traced = runner.run(recorded.seed, true);
    let shrunk_dir = target.with_extension("run");
    write_run_dir(&shrunk_dir, runner.as_ref(), &traced)?;
    if !traced.result.verdict.is_failure()
        || traced.result.property.as_deref() != Some(property.as_str())
    {
        return Err(CliError::Internal(format!(
            "{} does not reproduce `{property}` on replay",
            target.display()
        )));
    }
    let report = ShrinkReport {
        property,
        seed: recorded.seed,
        before,
        after,
        attempts: shrinker.attempts,
        tape_entries: file.tape.as_ref().map_or(0, TapeSpec::len),
        seconds: shrinker.clock.seconds(),
        scenario: target.display().to_string(),
        budget_exhausted: shrinker.out_of_time(),
    };
    Ok(report)
}

/// The failing run made explicit, as far as it still reproduces: faults as a schedule
/// (no nemesis, no swarm), client operations as a list, every other decision on a tape.
/// Each step is kept only if the run still fails the same way.
fn explicit_run(
    shrinker: &mut Shrinker,
    scenario: &Scenario,
    recorded: &RunResult,
    original: &RunOutput,
) -> Best {
    let mut same = scenario.file.clone();
    same.seeds = Some(SeedsSpec::Range(format!("{0}..{0}", recorded.seed)));
    same.expect = shrinker.property.clone();
    same.mutant = recorded.mutant.clone();
    same.swarm = same.swarm || recorded.swarm;
    same.name = Some(format!("{}-shrunk", scenario.name()));
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
                at_us: op.invoke_us,
                client: op.client,
                draw: op.draw,
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
        if let Some(tape) = shrinker.fails(&best.0, true).and_then(|output| output.tape) {
            shrinker.try_edit(&mut best, |file| file.tape = Some(tape));
        }
    }
    best
}

fn check_reproduces(recorded: &RunResult, rerun: &RunResult) -> Result<(), CliError> {
    if rerun.trace_hash != recorded.trace_hash {
        return Err(CliError::Internal(format!(
            "re-running seed {} gives trace hash {} instead of the recorded {}",
            recorded.seed, rerun.trace_hash, recorded.trace_hash
        )));
    }
    Ok(())
}

/// The size `shrink_failures` stops at: the bar of at most 10 faults plus
/// client operations.
pub const SMALL_ENOUGH: usize = 10;

/// Shrink the failing seeds of a scenario (one whose `expect` names a property), in
/// order, until one shrinks to at most `SMALL_ENOUGH` faults plus client operations or
/// `seeds_max` have been tried; returns each one's report, in order. Run directories
/// and shrunk scenarios go under `out_dir`. For `quorumlab bench shrink` and tests.
pub fn shrink_failures(
    scenario_path: &Path,
    budget_seconds: u64,
    seeds_max: usize,
    out_dir: &Path,
) -> Result<Vec<ShrinkReport>, CliError> {
    sim_core::panics::install_quiet_hook();
    let scenario = Scenario::load(scenario_path)?;
    let runner = prepare_scenario(&scenario, None, false)?;
    let seeds = scenario.test_seeds()?;
    let mut reports = Vec::new();
    for seed in seeds.first..=seeds.last {
        if reports.len() >= seeds_max {
            break;
        }
        if !runner.run(seed, false).result.verdict.is_failure() {
            continue;
        }
        let output = runner.run(seed, true);
        let run_dir = out_dir.join(format!("{}-seed{seed}", scenario.name()));
        write_run_dir(&run_dir, runner.as_ref(), &output)?;
        let target = out_dir.join(format!("{}-seed{seed}-shrunk.toml", scenario.name()));
        let report = shrink_run(&run_dir, budget_seconds, Some(target))?;
        let small = report.after.faults + report.after.client_ops <= SMALL_ENOUGH;
        reports.push(report);
        if small {
            break;
        }
    }
    if reports.is_empty() {
        return Err(CliError::BadInput(format!(
            "{}: no seed in {}..{} fails; there is nothing to shrink",
            scenario_path.display(),
            seeds.first,
            seeds.last
        )));
    }
    Ok(reports)
}
