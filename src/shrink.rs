//! `quorumlab shrink`: reduce a failing run to a minimal scenario file that still
//! violates the same property with the same seed. The search is `sim_core::shrink`
//! (protocol-generic, bounded by a count of attempts, deterministic); this is the command
//! around it: it loads the run directory, checks the run reproduces, shows a spinner,
//! stops early on the optional wall-clock budget, and writes the shrunk scenario and its
//! traced run. Also `shrink_failures`, for `quorumlab bench shrink` and the tests.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sim_core::result::RunResult;
use sim_core::scenario::Scenario;
use sim_core::shrink::{Failure, ShrinkError, Stopped};
use sim_core::tape::TapeSpec;

pub use sim_core::shrink::Size;

use crate::bench::Stopwatch;
use crate::commands::{prepare_scenario, write_run_dir};
use crate::{registry, to_json_pretty, write_file, CliError, EXIT_PASS};

/// The default bound on candidate runs. Measured when the bound replaced a wall-clock
/// budget: the five mutant shrinks of `tests/cli/shrink.rs` finish in 7 to 2,728 attempts,
/// and every Raft mutant shrink `bench shrink` runs that reaches its fixed point at all
/// needs at most 6,530 (`match-index-from-log-len`); the bound is above both, so they
/// still finish, and a shrink that would not (5-node `commit-prior-term`) ends in minutes.
pub const DEFAULT_MAX_ATTEMPTS: u64 = 10_000;

/// How far a shrink may search: a count of candidate runs (the same result on every
/// machine), and optionally a wall-clock budget that stops it earlier (then the result
/// may differ between machines, and the report says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_attempts: u64,
    pub budget_seconds: Option<u64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            budget_seconds: None,
        }
    }
}

/// Why a shrink ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoppedBy {
    /// Every reduction was tried.
    Finished,
    /// `--max-attempts` ran out first (deterministic all the same).
    MaxAttempts,
    /// `--budget-seconds` ran out first: the result may differ on another machine.
    WallClockBudget,
}

#[derive(Debug, Serialize)]
pub struct ShrinkReport {
    pub property: String,
    pub seed: u64,
    pub before: Size,
    pub after: Size,
    /// Candidate runs made, at most `max_attempts`.
    pub attempts: u64,
    pub max_attempts: u64,
    pub budget_seconds: Option<u64>,
    pub stopped_by: StoppedBy,
    /// Set when the wall-clock budget stopped the search: "stopped by the wall-clock
    /// budget after N attempts; the result may differ on another machine".
    pub note: Option<String>,
    /// Entries left on the shrunk scenario's decision tape (0: no tape was needed).
    pub tape_entries: usize,
    pub seconds: f64,
    pub scenario: String,
}

pub fn shrink(
    run_dir: &Path,
    limits: Limits,
    out: Option<PathBuf>,
    json_output: bool,
) -> Result<i32, CliError> {
    let report = shrink_run(run_dir, limits, out)?;
    if json_output {
        print!("{}", to_json_pretty(&report));
    } else {
        print_report(&report);
    }
    Ok(EXIT_PASS)
}

pub fn print_report(report: &ShrinkReport) {
    let ended = match report.stopped_by {
        StoppedBy::Finished => String::new(),
        StoppedBy::MaxAttempts => {
            format!(" (the bound of {} attempts reached)", report.max_attempts)
        }
        StoppedBy::WallClockBudget => " (cut short: see below)".to_string(),
    };
    println!(
        "shrunk `{}` (seed {}) in {} attempts, {:.1} s: faults {} -> {}, client ops {} -> {}, events {} -> {}, simulated {} us -> {} us, {} tape entries left{ended}",
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
    );
    if let Some(note) = &report.note {
        println!("  {note}");
    }
    println!(
        "  wrote {} (its traced run is beside it, in {})",
        report.scenario,
        Path::new(&report.scenario).with_extension("run").display()
    );
}

/// Shrink the failing run in `run_dir`; write the shrunk scenario and its traced run.
pub fn shrink_run(
    run_dir: &Path,
    limits: Limits,
    out: Option<PathBuf>,
) -> Result<ShrinkReport, CliError> {
    sim_core::panics::install_quiet_hook();
    let (recorded, scenario) = crate::replay::load_run_dir(run_dir)?;
    if !recorded.verdict.is_failure() || recorded.property.is_none() {
        return Err(CliError::BadInput(format!(
            "{}: the run passed; there is nothing to shrink",
            run_dir.join("result.json").display()
        )));
    }
    let runner = prepare_scenario(&scenario, recorded.mutant.as_deref(), recorded.swarm)?;
    let original = runner.run(recorded.seed, false);
    check_reproduces(&recorded, &original.result)?;

    let clock = Stopwatch::start();
    let bar = indicatif::ProgressBar::new_spinner();
    // The wall clock is read here, in the CLI, never inside sim-core's search.
    let mut before_attempt = |attempt: sim_core::shrink::Attempt| {
        bar.set_message(format!("{}: attempt {}", attempt.phase, attempt.number));
        bar.tick();
        match limits.budget_seconds {
            Some(budget) if clock.seconds() >= budget as f64 => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    };
    let failure = Failure {
        registry: registry(),
        scenario: &scenario,
        seed: recorded.seed,
        mutant: recorded.mutant.as_deref(),
        swarm: recorded.swarm,
        output: &original,
    };
    let shrunk = sim_core::shrink::shrink(&failure, limits.max_attempts, &mut before_attempt)
        .map_err(|error| match error {
            ShrinkError::Passed => CliError::Internal(format!(
                "{}: the recorded failure passes on re-run",
                run_dir.display()
            )),
            ShrinkError::Scenario(error) => CliError::from(error),
        })?;
    bar.finish_and_clear();
    let property = shrunk.property.clone();
    let (before, after) = (&shrunk.before, &shrunk.after);

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
    let body = toml::to_string(&shrunk.file).map_err(|error| {
        CliError::Internal(format!("cannot write the shrunk scenario: {error}"))
    })?;
    write_file(&target, format!("{header}{body}"))?;
    // The shrunk run, traced, beside it.
    let reparsed = Scenario::parse(&target, format!("{header}{body}"))?;
    let runner = prepare_scenario(&reparsed, None, false)?;
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
    let stopped_by = match shrunk.stopped {
        Stopped::Finished => StoppedBy::Finished,
        Stopped::MaxAttempts => StoppedBy::MaxAttempts,
        Stopped::Early => StoppedBy::WallClockBudget,
    };
    let note = (stopped_by == StoppedBy::WallClockBudget).then(|| {
        format!(
            "stopped by the wall-clock budget after {} attempts; the result may differ on \
             another machine",
            shrunk.attempts
        )
    });
    Ok(ShrinkReport {
        property,
        seed: recorded.seed,
        before: shrunk.before,
        after: shrunk.after,
        attempts: shrunk.attempts,
        max_attempts: limits.max_attempts,
        budget_seconds: limits.budget_seconds,
        stopped_by,
        note,
        tape_entries: shrunk.file.tape.as_ref().map_or(0, TapeSpec::len),
        seconds: clock.seconds(),
        scenario: target.display().to_string(),
    })
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
    limits: Limits,
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
        let report = shrink_run(&run_dir, limits, Some(target))?;
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
