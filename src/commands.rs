//! `run`, `sweep` and `list`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use serde::Serialize;
use serde_json::json;
use sim_core::result::RunOutput;
use sim_core::runner::{self, Runner};
use sim_core::scenario::{Scenario, SeedRange};
use sim_core::sweep::{self, FailureEntry, Shard, SweepOptions, SweepSummary};

pub use crate::cli::SweepArgs;
use crate::{to_json_pretty, write_file, CliError, EXIT_INTERNAL, EXIT_PASS, EXIT_VIOLATION};

/// Load a scenario and bind it to its protocol.
pub fn prepare(
    path: &Path,
    mutant: Option<&str>,
    swarm: bool,
) -> Result<Box<dyn Runner>, CliError> {
    let scenario = Scenario::load(path)?;
    prepare_scenario(&scenario, mutant, swarm)
}

pub fn prepare_scenario(
    scenario: &Scenario,
    mutant: Option<&str>,
    swarm: bool,
) -> Result<Box<dyn Runner>, CliError> {
    Ok(runner::prepare(crate::registry(), scenario, mutant, swarm)?)
}

/// Write a run directory: result.json, scenario.toml, history.json, trace.ndjson.
pub fn write_run_dir(dir: &Path, runner: &dyn Runner, output: &RunOutput) -> Result<(), CliError> {
    write_file(&dir.join("result.json"), to_json_pretty(&output.result))?;
    write_file(&dir.join("scenario.toml"), &runner.scenario().source)?;
    if !output.history.is_empty() {
        write_file(
            &dir.join("history.json"),
            to_json_pretty(&match &output.history_model {
                Some(model) => json!({ "model": model, "operations": output.history }),
                None => json!({ "operations": output.history }),
            }),
        )?;
    }
    if let Some(trace) = &output.trace {
        let mut text = trace.join("\n");
        text.push('\n');
        write_file(&dir.join("trace.ndjson"), text)?;
    }
    if let Some(tape) = &output.tape {
        write_file(&dir.join("tape.json"), to_json_pretty(tape))?;
    }
    Ok(())
}

/// `quorumlab run`'s arguments.
pub struct RunArgs<'a> {
    pub path: &'a Path,
    pub seed: u64,
    pub mutant: Option<&'a str>,
    pub swarm: bool,
    pub out: Option<PathBuf>,
    pub trace: bool,
    pub json: bool,
    /// Also write report.html into the run directory.
    pub report: bool,
    /// Record the decision tape into tape.json.
    pub record_tape: bool,
}

pub fn run(args: RunArgs) -> Result<i32, CliError> {
    let RunArgs {
        path,
        seed,
        mutant,
        swarm,
        out,
        trace,
        json: json_output,
        report,
        record_tape,
    } = args;
    sim_core::panics::install_quiet_hook();
    let runner = prepare(path, mutant, swarm)?;
    let mut output = runner.run_with(seed, trace, record_tape);
    if output.result.verdict.is_failure() && output.trace.is_none() {
        // Same (scenario, seed): the traced re-run is the same run, now recorded.
        let traced = runner.run_with(seed, true, record_tape);
        if traced.result.trace_hash != output.result.trace_hash {
            return Err(CliError::Internal(format!(
                "seed {seed} is not deterministic: trace hash {} then {}",
                output.result.trace_hash, traced.result.trace_hash
            )));
        }
        output = traced;
    }
    let dir = out.unwrap_or_else(|| {
        PathBuf::from("runs").join(format!("{}-seed{seed}", runner.scenario().name()))
    });
    write_run_dir(&dir, runner.as_ref(), &output)?;
    if report {
        crate::report::write_report_into(&dir)?;
    }
    let result = &output.result;
    if json_output {
        print!("{}", to_json_pretty(result));
    } else {
        println!(
            "{:<9} {} seed {}  events {}  simulated {:.3}s  trace {}",
            result.verdict.name(),
            runner.scenario().name(),
            seed,
            result.metrics.events,
            result.time_us as f64 / 1e6,
            result.trace_hash
        );
        let metrics = &result.metrics;
        if metrics.client_ops_invoked > 0 {
            println!(
                "  clients: {} ok of {} ({:.1} ops/s)  latency p50 {} p99 {} max {}  {:.1} msgs/op  leader changes {}  unavailable {} ({} windows)",
                metrics.client_ops_ok,
                metrics.client_ops_invoked,
                metrics.throughput_ops_per_sec,
                micros(metrics.client_latency_us_p50),
                micros(metrics.client_latency_us_p99),
                micros(metrics.client_latency_us_max),
                metrics.messages_per_committed_op,
                metrics.leader_changes,
                micros(metrics.unavailability.total_us),
                metrics.unavailability.windows,
            );
        }
        if let (Some(property), Some(detail)) = (&result.property, &result.detail) {
            println!("  {property}: {detail}");
            println!(
                "  at event {} (t = {} us); trace in {}",
                result.event_index,
                result.time_us,
                dir.join("trace.ndjson").display()
            );
            println!("  repro: {}", result.repro);
        }
        println!("  wrote {}", dir.display());
        if report {
            println!("  report {}", dir.join("report.html").display());
        }
    }
    Ok(exit_code_of(result.verdict))
}

/// The exit code of one run's verdict: the simulator's own failure is internal (3), any
/// other failure the protocol's (1).
pub fn exit_code_of(verdict: sim_core::result::Verdict) -> i32 {
    match verdict {
        sim_core::result::Verdict::Pass => EXIT_PASS,
        sim_core::result::Verdict::Internal => EXIT_INTERNAL,
        _ => EXIT_VIOLATION,
    }
}

/// A sweep of one or more scenarios: `summary.json`.
#[derive(Debug, Serialize)]
pub struct SweepReport {
    pub seeds: u64,
    pub passed: u64,
    pub failed: u64,
    pub failures: Vec<FailureEntry>,
    pub fault_counts: BTreeMap<String, u64>,
    /// Sum of the scenarios' sweep hashes (each order-independent over seeds).
    pub sweep_hash: String,
    pub determinism_rechecked: u64,
    pub determinism_mismatches: u64,
    pub elapsed_seconds: f64,
    pub seeds_per_sec: f64,
    pub scenarios: Vec<SweepSummary>,
    /// Each scenario whose `expect` is not `"pass"`: whether enough seeds showed it
    /// (any, or every one with `expect_seeds = "all"`). Their matching failures are what
    /// they expect, so only an expectation that did not hold fails the sweep.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<SweepExpectation>,
    /// `--validate-trace N`: each sampled seed's verdict against its protocol's spec.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace_validation: Vec<crate::sweep_validate::SeedValidation>,
}

/// A sweep's verdict on one scenario's `expect`.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct SweepExpectation {
    pub scenario: String,
    pub expect: String,
    pub every_seed: bool,
    /// Seeds that violated `expect`.
    pub seeds_showing: u64,
    pub seeds: u64,
    pub held: bool,
}

/// Failing seeds whose run directory a sweep writes, per scenario.
const FAILURE_DIRS_MAX: usize = 20;

pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The exit code of a sweep stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

/// Set by the first SIGINT: the sweep stops taking seeds and writes what it has.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_signal: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
    // A second Ctrl-C ends the process at once (the journal already holds every seed
    // that finished).
    // SAFETY: signal() is async-signal-safe; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
    }
}

fn install_interrupt_handler() {
    let handler: extern "C" fn(libc::c_int) = on_interrupt;
    // SAFETY: the handler only stores to an atomic and resets the disposition, both
    // async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
    }
}

/// A scenario's sweep journal: a header line naming the sweep, then one `SeedRecord`
/// per finished seed, each flushed as the seed finishes.
const JOURNAL: &str = "journal.ndjson";

/// What a journal belongs to: `--resume` continues only the same sweep (same scenario
/// text, mutant, swarm, seed range and shard).
fn journal_identity(
    runner: &dyn Runner,
    args: &SweepArgs,
    seeds: SeedRange,
    shard: Shard,
) -> serde_json::Value {
    use std::hash::Hasher as _;
    let mut hasher = sim_core::hash::TraceHasher::default();
    hasher.write(runner.scenario().source.as_bytes());
    json!({
        "journal": 1,
        "scenario": runner.scenario().path.display().to_string(),
        "scenario_hash": sim_core::hash::hex(hasher.finish()),
        "mutant": runner.mutant(),
        "swarm": args.swarm || runner.scenario().file.swarm,
        "seeds": [seeds.first, seeds.last],
        "shard": [shard.index, shard.count],
    })
}

/// The records of an earlier run of this sweep (none if it has no journal). A torn last
/// line (the process died while writing it) is ignored: that seed runs again.
fn read_journal(
    dir: &Path,
    identity: &serde_json::Value,
) -> Result<Vec<sweep::SeedRecord>, CliError> {
    let path = dir.join(JOURNAL);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let mut lines = text.split_inclusive('\n');
    let header: Option<serde_json::Value> = lines
        .next()
        .and_then(|line| serde_json::from_str(line.trim_end()).ok());
    if header.as_ref() != Some(identity) {
        return Err(CliError::BadInput(format!(
            "{}: the journal belongs to another sweep (scenario text, mutant, swarm, seeds or \
             shard differ)\n  fix: run the same command as the interrupted sweep, or drop \
             --resume to start over",
            path.display()
        )));
    }
    let mut records = Vec::new();
    for (index, line) in lines.enumerate() {
        let complete = line.ends_with('\n');
        match serde_json::from_str::<sweep::SeedRecord>(line.trim_end()) {
            Ok(record) if complete => records.push(record),
            // A torn last line: the process died while writing it.
            _ if !complete => break,
            Ok(_) => unreachable!("complete is checked above"),
            Err(error) => {
                return Err(CliError::BadInput(format!(
                    "{}:{}: not a journal record: {error}\n  fix: drop --resume to start over",
                    path.display(),
                    index + 2
                )))
            }
        }
    }
    Ok(records)
}

/// Open the journal: appended to when resuming one, else started anew with its header.
fn open_journal(
    dir: &Path,
    identity: &serde_json::Value,
    resume: bool,
) -> Result<std::fs::File, CliError> {
    let path = dir.join(JOURNAL);
    let io =
        |error: std::io::Error| CliError::Io(format!("cannot write {}: {error}", path.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    if resume && path.is_file() {
        // Cut a torn last line, so the next record starts on a line of its own.
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let whole = text.rfind('\n').map_or(0, |end| end + 1);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io)?;
        file.set_len(whole as u64).map_err(io)?;
        drop(file);
        return std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io);
    }
    let mut file = std::fs::File::create(&path).map_err(io)?;
    writeln!(file, "{identity}")
        .and_then(|()| file.flush())
        .map_err(io)?;
    Ok(file)
}

pub fn sweep(args: SweepArgs) -> Result<i32, CliError> {
    sim_core::panics::install_quiet_hook();
    install_interrupt_handler();
    let seeds = SeedRange::parse(&args.seeds).map_err(|message| {
        CliError::BadInput(format!("--seeds: {message} (write e.g. --seeds 1..1000)"))
    })?;
    let shard = Shard::parse(&args.shard).map_err(|message| {
        CliError::BadInput(format!("--shard: {message} (write e.g. --shard 2/8)"))
    })?;
    let runners = args
        .scenarios
        .iter()
        .map(|path| prepare(path, args.mutant.as_deref(), args.swarm))
        .collect::<Result<Vec<_>, _>>()?;
    if args.validate_trace.is_some() {
        crate::sweep_validate::check_available(&runners)?;
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("sweeps").join(runners[0].scenario().name()));
    let options = SweepOptions {
        seeds,
        jobs: args.jobs.map_or_else(default_jobs, |jobs| jobs as usize),
        shard,
        fail_fast: args.fail_fast,
        recheck_one_in: 100,
        failures_kept_max: 1000,
    };
    let clock = crate::bench::Stopwatch::start();
    let mut summaries = Vec::new();
    // A seed on which the simulator itself failed makes the sweep's exit code 3.
    let internal_errors = AtomicBool::new(false);
    let mut expectations: Vec<SweepExpectation> = Vec::new();
    let mut trace_validation = Vec::new();
    for runner in &runners {
        let bar = progress_bar(shard.seed_count(seeds), &runner.scenario().name());
        let dirs_written = AtomicUsize::new(0);
        let dir_errors = std::sync::Mutex::new(Vec::new());
        let scenario_out = out.join(runner.scenario().name());
        let identity = journal_identity(runner.as_ref(), &args, seeds, shard);
        let finished = if args.resume {
            read_journal(&scenario_out, &identity)?
        } else {
            Vec::new()
        };
        let cleared = if args.resume {
            0
        } else {
            clear_earlier_results(&scenario_out)?
        };
        if args.resume && !args.json {
            eprintln!(
                "resuming {}: {} seeds already finished (from {})",
                runner.scenario().name(),
                finished.len(),
                scenario_out.join(JOURNAL).display()
            );
        }
        let journal = std::sync::Mutex::new(open_journal(&scenario_out, &identity, args.resume)?);
        if cleared > 0 && !args.json {
            eprintln!(
                "cleared {cleared} failing-seed folders of an earlier sweep in {}",
                scenario_out.display()
            );
        }
        // Failures are appended as they happen, so an interrupted sweep keeps them.
        let failures_log = std::sync::Mutex::new(open_failures_log(&scenario_out, args.resume)?);
        bar.inc(finished.len() as u64);
        let file = &runner.scenario().file;
        let shows = |verdict: sim_core::result::Verdict, property: Option<&str>| {
            crate::testing::shows_expectation(verdict, property, &file.expect)
        };
        let seeds_showing = AtomicU64::new(
            finished
                .iter()
                .filter(|record| shows(record.verdict, record.property.as_deref()))
                .count() as u64,
        );
        let on_done = |output: &RunOutput, record: &sweep::SeedRecord| {
            bar.inc(1);
            if output.result.verdict == sim_core::result::Verdict::Internal {
                internal_errors.store(true, Ordering::Relaxed);
            }
            if shows(record.verdict, record.property.as_deref()) {
                seeds_showing.fetch_add(1, Ordering::Relaxed);
            }
            let line = serde_json::to_string(record).expect("records serialise");
            let mut journal = journal.lock().expect("not poisoned");
            if let Err(error) = writeln!(journal, "{line}").and_then(|()| journal.flush()) {
                dir_errors
                    .lock()
                    .expect("not poisoned")
                    .push(format!("cannot append to {JOURNAL}: {error}"));
            }
            drop(journal);
            if !output.result.verdict.is_failure() {
                return;
            }
            let line = serde_json::json!({
                "seed": output.result.seed,
                "verdict": output.result.verdict,
                "property": output.result.property,
                "detail": output.result.detail,
                "repro": output.result.repro,
            });
            if let Err(error) = writeln!(failures_log.lock().expect("not poisoned"), "{line}") {
                dir_errors
                    .lock()
                    .expect("not poisoned")
                    .push(format!("cannot append to failures.ndjson: {error}"));
            }
            if dirs_written.fetch_add(1, Ordering::Relaxed) < FAILURE_DIRS_MAX {
                let traced = runner.run(output.result.seed, true);
                let dir = scenario_out.join(format!("seed-{}", output.result.seed));
                let written = write_run_dir(&dir, runner.as_ref(), &traced).and_then(|()| {
                    if args.report {
                        crate::report::write_report_into(&dir)
                    } else {
                        Ok(())
                    }
                });
                if let Err(error) = written {
                    dir_errors
                        .lock()
                        .expect("not poisoned")
                        .push(error.to_string());
                }
            }
        };
        let summary =
            sweep::sweep_from(runner.as_ref(), &options, &finished, &INTERRUPTED, &on_done);
        bar.finish_and_clear();
        if let Some(error) = dir_errors
            .into_inner()
            .expect("not poisoned")
            .into_iter()
            .next()
        {
            return Err(CliError::Io(error));
        }
        if !args.json {
            print_sweep_summary(&summary);
        }
        if args.shrink {
            shrink_distinct_failures(&summary, &scenario_out, args.json)?;
        }
        if file.expect != "pass" {
            let showing = seeds_showing.load(Ordering::Relaxed);
            let every_seed = file.expect_seeds == sim_core::scenario::ExpectSeeds::All;
            let expectation = SweepExpectation {
                scenario: runner.scenario().path.display().to_string(),
                expect: file.expect.clone(),
                every_seed,
                seeds_showing: showing,
                seeds: summary.seeds,
                held: if every_seed {
                    showing == summary.seeds
                } else {
                    showing > 0
                },
            };
            if !args.json {
                println!(
                    "expect `{}` ({} seeds): {} of {} seeds show it: {}",
                    expectation.expect,
                    if every_seed { "every" } else { "any" },
                    showing,
                    summary.seeds,
                    if expectation.held { "held" } else { "NOT held" }
                );
            }
            expectations.push(expectation);
        }
        summaries.push(summary);
        if INTERRUPTED.load(Ordering::Relaxed) {
            break;
        }
        if let Some(count) = args.validate_trace {
            let sample = crate::sweep_validate::sample(seeds, shard, count);
            let verdicts = crate::sweep_validate::validate_seeds(
                runner.as_ref(),
                &sample,
                &scenario_out,
                options.jobs,
            )?;
            if !args.json {
                crate::sweep_validate::print_verdicts(&verdicts);
            }
            trace_validation.extend(verdicts);
        }
    }
    let elapsed_seconds = clock.seconds();
    let seeds_run: u64 = summaries.iter().map(|s| s.seeds).sum();
    let hash_sum = summaries.iter().fold(0u64, |sum, s| {
        sum.wrapping_add(u64::from_str_radix(&s.sweep_hash, 16).expect("hex"))
    });
    let report = SweepReport {
        seeds: seeds_run,
        passed: summaries.iter().map(|s| s.passed).sum(),
        failed: summaries.iter().map(|s| s.failed).sum(),
        failures: summaries
            .iter()
            .flat_map(|s| s.failures.iter().cloned())
            .collect(),
        fault_counts: summaries.iter().fold(BTreeMap::new(), |mut all, s| {
            for (kind, count) in &s.fault_counts {
                *all.entry(kind.clone()).or_insert(0) += count;
            }
            all
        }),
        sweep_hash: sim_core::hash::hex(hash_sum),
        determinism_rechecked: summaries.iter().map(|s| s.determinism_rechecked).sum(),
        determinism_mismatches: summaries
            .iter()
            .map(|s| s.determinism_mismatches.len() as u64)
            .sum(),
        elapsed_seconds,
        seeds_per_sec: seeds_run as f64 / elapsed_seconds.max(1e-9),
        scenarios: summaries,
        expectations,
        trace_validation,
    };
    if let Some(path) = &args.junit {
        write_file(path, reports::ci::junit(&report.scenarios, elapsed_seconds))?;
    }
    if let Some(path) = &args.markdown {
        write_file(
            path,
            reports::ci::markdown(&report.scenarios, elapsed_seconds),
        )?;
    }
    write_file(&out.join("summary.json"), to_json_pretty(&report))?;
    if args.report {
        crate::report::write_report_into(&out)?;
    }
    if args.json {
        print!("{}", to_json_pretty(&report));
    } else {
        println!(
            "{} seeds, {} passed, {} failed in {:.1}s ({:.1} seeds/s); sweep hash {}; wrote {}",
            report.seeds,
            report.passed,
            report.failed,
            elapsed_seconds,
            report.seeds_per_sec,
            report.sweep_hash,
            out.join("summary.json").display()
        );
        if args.report {
            println!("report {}", out.join("report.html").display());
        }
        let rejected: Vec<String> = report
            .trace_validation
            .iter()
            .filter(|verdict| !verdict.valid)
            .map(|verdict| format!("{} seed {}", verdict.scenario, verdict.seed))
            .collect();
        if !rejected.is_empty() {
            println!(
                "trace validation rejected {}: the sweep fails",
                rejected.join(", ")
            );
        }
    }
    if INTERRUPTED.load(Ordering::Relaxed) {
        let mut command: Vec<String> = std::env::args().collect();
        if !command.iter().any(|arg| arg == "--resume") {
            command.push("--resume".to_string());
        }
        eprintln!(
            "interrupted: {} seeds finished, summary.json marked interrupted; resume with:\n  {}",
            report.seeds,
            command.join(" ")
        );
        return Ok(EXIT_INTERRUPTED);
    }
    if report.determinism_mismatches > 0 {
        let seeds: Vec<u64> = report
            .scenarios
            .iter()
            .flat_map(|s| s.determinism_mismatches.iter().copied())
            .collect();
        eprintln!("internal error: re-running seeds {seeds:?} gave different trace hashes: the simulation is not deterministic");
        return Ok(EXIT_INTERNAL);
    }
    if internal_errors.load(Ordering::Relaxed) {
        eprintln!(
            "internal error: the simulator failed on some seeds (verdict `internal` in \
             failures.ndjson): a bug in quorumlab, not in the protocol"
        );
        return Ok(EXIT_INTERNAL);
    }
    Ok(report.exit_code())
}

impl SweepReport {
    /// A scenario that expects a violation fails the sweep only if its expectation did
    /// not hold; one that expects "pass" fails it with any failing seed.
    pub fn exit_code(&self) -> i32 {
        let expected = |summary: &SweepSummary| {
            self.expectations
                .iter()
                .find(|e| e.scenario == summary.scenario)
        };
        let failed = self
            .scenarios
            .iter()
            .any(|summary| match expected(summary) {
                Some(expectation) => !expectation.held,
                None => summary.failed > 0,
            });
        let rejected = self.trace_validation.iter().any(|verdict| !verdict.valid);
        if failed || rejected {
            EXIT_VIOLATION
        } else {
            EXIT_PASS
        }
    }
}

/// `DIR/<scenario>/failures.ndjson`, truncated: one line per failing seed, written as
/// soon as the seed fails.
fn open_failures_log(dir: &Path, append: bool) -> Result<std::fs::File, CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|error| CliError::Io(format!("cannot create {}: {error}", dir.display())))?;
    let path = dir.join("failures.ndjson");
    std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(&path)
        .map_err(|error| CliError::Io(format!("cannot write {}: {error}", path.display())))
}

/// Clear what an earlier sweep left in `dir` (a scenario's output folder): its failing
/// seeds' run directories (`seed-N`), so that the folder holds only this sweep's results.
/// Nothing else is touched. Returns how many were removed.
fn clear_earlier_results(dir: &Path) -> Result<usize, CliError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_seed_dir = name
            .strip_prefix("seed-")
            .is_some_and(|seed| !seed.is_empty() && seed.bytes().all(|b| b.is_ascii_digit()));
        if is_seed_dir && entry.path().is_dir() {
            std::fs::remove_dir_all(entry.path()).map_err(|error| {
                CliError::Io(format!("cannot clear {}: {error}", entry.path().display()))
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Shrink the lowest failing seed of each distinct violated property (its run directory
/// was written during the sweep).
fn shrink_distinct_failures(
    summary: &SweepSummary,
    scenario_out: &Path,
    quiet: bool,
) -> Result<(), CliError> {
    let mut seen = std::collections::BTreeSet::new();
    for failure in &summary.failures {
        let property = failure.property.clone().unwrap_or_default();
        let dir = scenario_out.join(format!("seed-{}", failure.seed));
        if !dir.is_dir() || !seen.insert(property.clone()) {
            continue;
        }
        if !quiet {
            println!("  shrinking `{property}` (seed {}):", failure.seed);
        }
        let report = crate::shrink::shrink_run(&dir, crate::shrink::Limits::default(), None)?;
        if !quiet {
            crate::shrink::print_report(&report);
        }
    }
    Ok(())
}

fn print_sweep_summary(summary: &SweepSummary) {
    println!(
        "{}: {} seeds, {} passed, {} failed{}",
        summary.scenario,
        summary.seeds,
        summary.passed,
        summary.failed,
        if summary.stopped_early {
            " (stopped at the first failure)"
        } else {
            ""
        }
    );
    if !summary.fault_counts.is_empty() {
        let faults: Vec<String> = summary
            .fault_counts
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        println!(
            "  faults fired: {} (in {} of {} seeds)",
            faults.join(", "),
            summary.seeds_with_faults,
            summary.seeds
        );
    }
    let clients = &summary.clients;
    if clients.ops_invoked > 0 {
        println!(
            "  clients: {} ok of {} ({:.1} ops/s per seed)  latency p50 {} p99 {} max {}  {:.1} msgs/op  leader changes {}  unavailable {} ({} windows, longest {})",
            clients.ops_ok,
            clients.ops_invoked,
            clients.throughput_ops_per_sec,
            micros(clients.latency_us_p50),
            micros(clients.latency_us_p99),
            micros(clients.latency_us_max),
            clients.messages_per_committed_op,
            clients.leader_changes,
            micros(clients.unavailable_us),
            clients.unavailability_windows,
            micros(clients.longest_unavailable_us),
        );
    }
    for failure in summary.failures.iter().take(10) {
        println!(
            "  seed {}: {} {}: {}",
            failure.seed,
            failure.verdict.name(),
            failure.property.as_deref().unwrap_or("-"),
            failure.detail.as_deref().unwrap_or("")
        );
        println!("    repro: {}", failure.repro);
    }
    if summary.failures.len() > 10 {
        println!(
            "  ... and {} more failures in summary.json",
            summary.failed - 10
        );
    }
}

pub fn progress_bar(total: u64, label: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} seeds {per_sec} eta {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

pub fn list(what: crate::cli::ListWhat, json_output: bool, dir: &Path) -> Result<i32, CliError> {
    use crate::cli::ListWhat;
    let registry = crate::registry();
    let rows: Vec<serde_json::Value> = match what {
        ListWhat::Protocols => registry.iter().map(|p| json!({"name": p.name(), "description": p.description(), "roles": p.roles(), "mutants": p.mutants().len()})).collect(),
        ListWhat::Invariants => registry
            .iter()
            .flat_map(|p| {
                let safety = p.properties()
                    .iter()
                    .map(move |i| json!({"name": i.name, "protocol": p.name(), "kind": "safety", "description": i.description}));
                let liveness = p.liveness_conditions()
                    .iter()
                    .map(move |i| json!({"name": i.name, "protocol": p.name(), "kind": "liveness", "description": i.description}));
                safety.chain(liveness)
            })
            .collect(),
        ListWhat::Mutants => registry
            .iter()
            .flat_map(|p| {
                p.mutants().iter().map(move |m| {
                    json!({"name": m.name, "protocol": p.name(), "liveness": m.liveness, "description": m.description})
                })
            })
            .collect(),
        ListWhat::Strategies => registry
            .iter()
            .flat_map(|p| {
                p.strategies().into_iter().map(move |(name, description)| {
                    json!({"name": name, "protocol": p.name(), "description": description})
                })
            })
            .collect(),
        ListWhat::Scenarios => {
            let mut rows = Vec::new();
            for path in crate::collect_scenarios(&[dir.to_path_buf()])? {
                let scenario = Scenario::load(&path)?;
                let summary = scenario
                    .source
                    .lines()
                    .take_while(|line| line.starts_with('#'))
                    .map(|line| line.trim_start_matches('#').trim())
                    .find(|line| !line.is_empty())
                    .unwrap_or("")
                    .to_string();
                rows.push(json!({
                    "name": scenario.name(),
                    "path": path.display().to_string(),
                    "protocol": scenario.file.protocol,
                    "expect": scenario.file.expect,
                    "mutant": scenario.file.mutant,
                    "description": summary,
                }));
            }
            rows
        }
    };
    if json_output {
        print!("{}", to_json_pretty(&rows));
    } else {
        for row in &rows {
            let protocol = row
                .get("protocol")
                .and_then(|p| p.as_str())
                .map(|p| format!("{p:<10} "))
                .unwrap_or_default();
            let name = row
                .get("path")
                .or(row.get("name"))
                .and_then(|n| n.as_str())
                .unwrap_or("");
            let extra = match (row.get("expect").and_then(|e| e.as_str()), row.get("roles")) {
                (Some(expect), _) => format!("expect {expect}  "),
                (None, Some(roles)) => {
                    // Roles as the protocol declares them; `*` marks the leader role.
                    let roles: Vec<String> = roles
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|role| {
                            let name = role["name"].as_str().unwrap_or("?");
                            let leader = if role["leader"] == true { "*" } else { "" };
                            format!("{name}{leader}")
                        })
                        .collect();
                    let mutants = row.get("mutants").and_then(|m| m.as_u64()).unwrap_or(0);
                    format!("roles {}; {mutants} mutants  ", roles.join("/"))
                }
                (None, None) => String::new(),
            };
            println!(
                "{protocol}{name:<36} {extra}{}",
                row.get("description")
                    .and_then(|d| d.as_str())
                    .unwrap_or("")
            );
        }
    }
    Ok(EXIT_PASS)
}

/// A duration in µs, in the unit a person reads best.
fn micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us}us"),
        1_000..1_000_000 => format!("{:.1}ms", us as f64 / 1e3),
        _ => format!("{:.2}s", us as f64 / 1e6),
    }
}

/// `quorumlab schema`: the JSON Schema of scenario files on stdout.
pub fn schema(protocol: Option<&str>) -> Result<i32, CliError> {
    let schema = match protocol {
        None => sim_core::scenario::schema(None, None, None),
        Some(name) => {
            let registry = crate::registry();
            let Some(entry) = registry.iter().find(|known| known.name() == name) else {
                let names: Vec<&str> = registry.iter().map(|known| known.name()).collect();
                return Err(CliError::BadInput(format!(
                    "--protocol: unknown protocol `{name}`\n  fix: use one of: {}",
                    names.join(", ")
                )));
            };
            sim_core::scenario::schema(
                Some(name),
                Some(entry.params_schema()),
                Some(entry.check_schema()),
            )
        }
    };
    print!("{}", crate::to_json_pretty(&schema));
    Ok(0)
}
