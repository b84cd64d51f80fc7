//! `quorumlab shrink`: reduce a failing run to a minimal scenario file that still
//! violates the same property with the same seed.
//!
//! The run's realised faults (whatever the schedule, nemesis or swarm chose, with their
//! targets resolved) become an explicit schedule, and the nemesis goes. Because every
//! purpose has its own random stream, the network's, timers' and clients' draws do not
//! depend on where faults came from. Then, delta-debugging style (Zeller's ddmin), each
//! reduction is kept if the property still fails: drop faults (in halves, quarters, ...
//! then one by one), end the run just after the failure, drop the liveness window for a
//! safety failure, drop or reduce the clients, turn the clients' operations into an
//! explicit list and drop operations from it, calm the network (no loss, duplication or
//! reordering), drop `sometimes` conditions. Attempts run in a fixed order, so the same
//! input gives the same output (unless the time budget cuts the search short).

use std::path::{Path, PathBuf};

use serde::Serialize;
use sim_core::result::{RunOutput, RunResult};
use sim_core::scenario::{ClientOpSpec, Scenario, ScenarioFile, SeedsSpec};

use crate::bench::Stopwatch;
use crate::commands::{prepare_scenario, write_run_dir};
use crate::{to_json_pretty, write_file, CliError, EXIT_PASS};

/// How big a failing run is, before and after shrinking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Size {
    pub faults: usize,
    pub client_ops: usize,
    pub events: u64,
    pub sim_time_us: u64,
}

impl Size {
    fn of(output: &RunOutput) -> Size {
        Size {
            faults: output.faults.len(),
            client_ops: output.history.len(),
            events: output.result.metrics.events,
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
    pub scenario: String,
    /// True if the time budget ended the search before every reduction was tried.
    pub budget_exhausted: bool,
}

/// What shrinking minimises: faults plus client operations in the run.
fn weight(output: &RunOutput) -> usize {
    output.faults.len() + output.history.len()
}

struct Shrinker<'a> {
    path: &'a Path,
    seed: u64,
    mutant: Option<String>,
    property: String,
    attempts: u64,
    clock: Stopwatch,
    budget_seconds: f64,
    bar: indicatif::ProgressBar,
}

impl Shrinker<'_> {
    fn out_of_time(&self) -> bool {
        self.clock.seconds() > self.budget_seconds
    }

    /// Does `file` still fail with the property, at the same seed? Returns the output.
    fn fails(&mut self, file: &ScenarioFile) -> Option<RunOutput> {
        self.attempts += 1;
        self.bar.set_message(format!("{} attempts", self.attempts));
        self.bar.tick();
        let source = toml::to_string(file).ok()?;
        let scenario = Scenario::parse(self.path, source).ok()?;
        let runner = prepare_scenario(&scenario, self.mutant.as_deref(), false).ok()?;
        let output = runner.run(self.seed, false);
        let same = output.result.verdict.is_failure()
            && output.result.property.as_deref() == Some(self.property.as_str());
        same.then_some(output)
    }

    /// Keep `candidate` if it still fails.
    fn try_keep(&mut self, best: &mut (ScenarioFile, RunOutput), candidate: ScenarioFile) -> bool {
        if self.out_of_time() {
            return false;
        }
        match self.fails(&candidate) {
            // Removing something can change the run so that more happens in it; only a
            // run no bigger (in faults plus client operations) counts as progress.
            Some(output) if weight(&output) <= weight(&best.1) => {
                *best = (candidate, output);
                true
            }
            _ => false,
        }
    }
}

/// ddmin (Zeller and Hildebrandt 2002) over one list of the scenario: drop chunks of
/// it, halving the chunk size when no chunk can go, while the failure persists.
fn ddmin<T: Clone>(
    shrinker: &mut Shrinker,
    best: &mut (ScenarioFile, RunOutput),
    get: fn(&ScenarioFile) -> Option<&Vec<T>>,
    set: fn(&mut ScenarioFile, Vec<T>),
) {
    let mut chunks = 2;
    while !shrinker.out_of_time() {
        let Some(items) = get(&best.0).filter(|items| !items.is_empty()).cloned() else {
            return;
        };
        let chunk_len = items.len().div_ceil(chunks).max(1);
        let mut reduced = false;
        for start in (0..items.len()).step_by(chunk_len) {
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
            if chunk_len == 1 {
                return;
            }
            chunks = (chunks * 2).min(items.len());
        }
    }
}

fn shrink_faults(shrinker: &mut Shrinker, best: &mut (ScenarioFile, RunOutput)) {
    if best.0.nemesis.is_none() {
        ddmin(
            shrinker,
            best,
            |file| Some(&file.faults),
            |file, faults| file.faults = faults,
        );
    }
}

fn shrink_ops(shrinker: &mut Shrinker, best: &mut (ScenarioFile, RunOutput)) {
    ddmin(
        shrinker,
        best,
        |file| file.workload.as_ref().and_then(|w| w.ops.as_ref()),
        |file, ops| {
            if let Some(workload) = &mut file.workload {
                workload.ops = Some(ops);
            }
        },
    );
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
        "shrunk `{}` (seed {}) in {} attempts: faults {} -> {}, client ops {} -> {}, events {} -> {}, simulated {} us -> {} us{}",
        report.property,
        report.seed,
        report.attempts,
        report.before.faults,
        report.after.faults,
        report.before.client_ops,
        report.after.client_ops,
        report.before.events,
        report.after.events,
        report.before.sim_time_us,
        report.after.sim_time_us,
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
    };

    // The realised faults as an explicit schedule, without the nemesis.
    let mut explicit = scenario.file.clone();
    explicit.nemesis = None;
    explicit.swarm = false;
    explicit.faults = original
        .faults
        .iter()
        .map(|fault| fault.action.to_spec(fault.at_us, fault.duration_us))
        .collect();
    explicit.seeds = Some(SeedsSpec::Range(format!("{0}..{0}", recorded.seed)));
    explicit.expect = property.clone();
    explicit.mutant = recorded.mutant.clone();
    explicit.name = Some(format!("{}-shrunk", scenario.name()));
    let mut best = match shrinker.fails(&explicit) {
        Some(output) => (explicit, output),
        None => {
            // The explicit schedule did not reproduce it (e.g. a fault timed exactly
            // like another event): shrink what does not touch the faults.
            let mut same = scenario.file.clone();
            same.seeds = explicit.seeds.clone();
            same.expect = property.clone();
            same.mutant = recorded.mutant.clone();
            (same, original.clone())
        }
    };
    shrink_faults(&mut shrinker, &mut best);

    let safety = matches!(
        best.1.result.verdict,
        sim_core::result::Verdict::Violation | sim_core::result::Verdict::Panic
    );
    if safety {
        let mut candidate = best.0.clone();
        candidate.liveness = None;
        shrinker.try_keep(&mut best, candidate);
        // End the fault phase just after the failure.
        let end_ms = best.1.result.time_us / 1000 + 1;
        if end_ms < best.0.duration_ms {
            let mut candidate = best.0.clone();
            candidate.duration_ms = end_ms;
            candidate.faults.retain(|fault| fault.at() <= end_ms * 1000);
            shrinker.try_keep(&mut best, candidate);
        }
    }
    if property != "client_progress" {
        let mut candidate = best.0.clone();
        candidate.workload = None;
        if let Some(liveness) = &mut candidate.liveness {
            liveness.require.retain(|name| name != "client_progress");
        }
        if !shrinker.try_keep(&mut best, candidate) {
            while best.0.workload.as_ref().is_some_and(|w| w.clients > 1) {
                let mut candidate = best.0.clone();
                if let Some(workload) = &mut candidate.workload {
                    workload.clients -= 1;
                }
                if !shrinker.try_keep(&mut best, candidate) {
                    break;
                }
            }
        }
    }
    // The clients' operations as an explicit list, so single operations can go.
    if best.0.workload.as_ref().is_some_and(|w| w.ops.is_none()) {
        let mut candidate = best.0.clone();
        let ops = best.1.history.iter().map(|op| ClientOpSpec {
            at_us: op.invoke_us,
            client: op.client,
            draw: op.draw,
        });
        if let Some(workload) = &mut candidate.workload {
            workload.ops = Some(ops.collect());
        }
        if shrinker.try_keep(&mut best, candidate) {
            shrink_ops(&mut shrinker, &mut best);
        }
    }
    for calm in [
        |f: &mut ScenarioFile| f.network.drop_per_million = 0,
        |f: &mut ScenarioFile| f.network.duplicate_per_million = 0,
        |f: &mut ScenarioFile| f.network.reorder_per_million = 0,
        |f: &mut ScenarioFile| f.sometimes.clear(),
    ] {
        let mut candidate = best.0.clone();
        calm(&mut candidate);
        if toml::to_string(&candidate).ok() != toml::to_string(&best.0).ok() {
            shrinker.try_keep(&mut best, candidate);
        }
    }
    // Dropping other things can make more faults and operations unnecessary.
    shrink_faults(&mut shrinker, &mut best);
    shrink_ops(&mut shrinker, &mut best);
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
        scenario: target.display().to_string(),
        budget_exhausted: shrinker.out_of_time(),
    };
    Ok(report)
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
