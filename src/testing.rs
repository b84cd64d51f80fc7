//! `quorumlab test`: every scenario file states what it must show (`expect`), and this
//! checks it over the file's own seeds. `cargo test` runs the bundled scenarios through
//! this same code (tests/scenarios/main.rs, one test per file).

use std::path::{Path, PathBuf};

use serde::Serialize;
use sim_core::result::{RunResult, Verdict};
use sim_core::runner::Runner;
use sim_core::scenario::{ExpectSeeds, Scenario};
use sim_core::sweep::{self, Shard, SweepOptions};

use crate::commands::{default_jobs, prepare_scenario};
use crate::{to_json_pretty, CliError, EXIT_INTERNAL, EXIT_PASS, EXIT_VIOLATION};

/// The outcome of one scenario's expectation.
#[derive(Clone, Debug, Serialize)]
pub struct Expectation {
    pub scenario: String,
    pub expect: String,
    pub mutant: Option<String>,
    pub held: bool,
    /// Seeds run before the verdict was known.
    pub seeds_run: u64,
    /// For a property expectation: the first seed that violated it.
    pub caught_at_seed: Option<u64>,
    /// Why the expectation failed, with a repro command.
    pub problem: Option<String>,
    pub sweep_hash: Option<String>,
    /// `expect_seeds = "all"`: every seed had to show it.
    pub every_seed: bool,
    /// Some seed ended with verdict `internal`: a bug in quorumlab, whatever `expect` says.
    pub internal: bool,
}

/// Does this failing result show what `expect` names?
pub fn matches_expectation(result: &RunResult, expect: &str) -> bool {
    shows_expectation(result.verdict, result.property.as_deref(), expect)
}

/// Does a run that ended with `verdict` on `property` show what `expect` names?
pub fn shows_expectation(verdict: Verdict, property: Option<&str>, expect: &str) -> bool {
    verdict.is_failure() && (verdict.name() == expect || property == Some(expect))
}

/// Check one scenario's expectation over its own seeds.
pub fn check_expectation(scenario: &Scenario, jobs: usize) -> Result<Expectation, CliError> {
    let runner = prepare_scenario(scenario, None, false)?;
    let seeds = scenario.test_seeds()?;
    let expect = scenario.file.expect.clone();
    let mut outcome = Expectation {
        scenario: scenario.path.display().to_string(),
        expect: expect.clone(),
        mutant: runner.mutant().map(str::to_string),
        held: false,
        seeds_run: 0,
        caught_at_seed: None,
        problem: None,
        sweep_hash: None,
        every_seed: scenario.file.expect_seeds == ExpectSeeds::All,
        internal: false,
    };
    if expect == "pass" {
        let options = SweepOptions {
            seeds,
            jobs,
            shard: Shard::WHOLE,
            fail_fast: false,
            recheck_one_in: 50,
            failures_kept_max: 5,
        };
        let summary = sweep::sweep(runner.as_ref(), &options, &|_, _| {});
        outcome.seeds_run = summary.seeds;
        outcome.sweep_hash = Some(summary.sweep_hash.clone());
        outcome.internal = summary
            .verdicts
            .get(Verdict::Internal.name())
            .is_some_and(|&count| count > 0);
        outcome.held = summary.failed == 0 && summary.determinism_mismatches.is_empty();
        if let Some(failure) = summary.failures.first() {
            outcome.problem = Some(format!(
                "seed {} failed ({} {}): {}\n    repro: {}",
                failure.seed,
                failure.verdict.name(),
                failure.property.as_deref().unwrap_or("-"),
                failure.detail.as_deref().unwrap_or(""),
                failure.repro
            ));
        } else if !summary.determinism_mismatches.is_empty() {
            outcome.problem = Some(format!(
                "not deterministic: seeds {:?}",
                summary.determinism_mismatches
            ));
        }
        return Ok(outcome);
    }
    if scenario.file.expect_seeds == ExpectSeeds::All {
        return Ok(every_seed_shows(runner.as_ref(), seeds, jobs, outcome));
    }
    // A violation is expected: find the lowest seed showing it, `jobs` seeds at a time.
    let mut other_failure: Option<RunResult> = None;
    let mut seed = seeds.first;
    while seed <= seeds.last {
        let batch: Vec<u64> = (seed..=seeds.last).take(jobs).collect();
        let results = run_batch(runner.as_ref(), &batch);
        for result in results {
            outcome.seeds_run += 1;
            outcome.internal |= result.verdict == Verdict::Internal;
            if result.verdict.is_failure() && matches_expectation(&result, &expect) {
                outcome.held = true;
                outcome.caught_at_seed = Some(result.seed);
                return Ok(outcome);
            }
            if result.verdict.is_failure() && other_failure.is_none() {
                other_failure = Some(result);
            }
        }
        seed += batch.len() as u64;
    }
    outcome.problem = Some(match other_failure {
        Some(result) => format!(
            "`{expect}` was never violated in seeds {}..{}; seed {} failed otherwise ({}",
            seeds.first,
            seeds.last,
            result.seed,
            how_it_ended(&result)
        ),
        None => format!(
            "`{expect}` was never violated in seeds {}..{} (every seed passed)",
            seeds.first, seeds.last
        ),
    });
    Ok(outcome)
}

/// `expect_seeds = "all"`: every seed must show `expect`; stops at the first that does not.
fn every_seed_shows(
    runner: &dyn Runner,
    seeds: sim_core::scenario::SeedRange,
    jobs: usize,
    mut outcome: Expectation,
) -> Expectation {
    let mut seed = seeds.first;
    while seed <= seeds.last {
        let batch: Vec<u64> = (seed..=seeds.last).take(jobs).collect();
        for result in run_batch(runner, &batch) {
            outcome.seeds_run += 1;
            outcome.internal |= result.verdict == Verdict::Internal;
            if !(result.verdict.is_failure() && matches_expectation(&result, &outcome.expect)) {
                outcome.problem = Some(format!(
                    "every seed must violate `{}` (expect_seeds = \"all\"), but seed {} did not ({}",
                    outcome.expect,
                    result.seed,
                    how_it_ended(&result)
                ));
                return outcome;
            }
            outcome.caught_at_seed.get_or_insert(result.seed);
        }
        seed += batch.len() as u64;
    }
    outcome.held = true;
    outcome
}

/// `verdict property): detail` and the repro command, for a problem's message.
fn how_it_ended(result: &RunResult) -> String {
    format!(
        "{} {}): {}\n    repro: {}",
        result.verdict.name(),
        result.property.as_deref().unwrap_or("-"),
        result.detail.as_deref().unwrap_or(""),
        result.repro
    )
}

/// Run seeds in parallel, results in seed order.
fn run_batch(runner: &dyn Runner, seeds: &[u64]) -> Vec<RunResult> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = seeds
            .iter()
            .map(|&seed| scope.spawn(move || runner.run(seed, false).result))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("runs catch protocol panics"))
            .collect()
    })
}

pub fn test(paths: &[PathBuf], jobs: Option<usize>, json_output: bool) -> Result<i32, CliError> {
    sim_core::panics::install_quiet_hook();
    let paths = if paths.is_empty() {
        vec![PathBuf::from("scenarios")]
    } else {
        paths.to_vec()
    };
    let files = crate::collect_scenarios(&paths)?;
    if files.is_empty() {
        return Err(CliError::BadInput(format!(
            "no scenario files (*.toml) under {}",
            display_paths(&paths)
        )));
    }
    let jobs = jobs.unwrap_or_else(default_jobs);
    let mut outcomes = Vec::new();
    for file in &files {
        let scenario = Scenario::load(file)?;
        let clock = crate::bench::Stopwatch::start();
        let outcome = check_expectation(&scenario, jobs)?;
        if !json_output {
            print_expectation(&outcome, clock.seconds());
        }
        outcomes.push(outcome);
    }
    let failed = outcomes.iter().filter(|o| !o.held).count();
    if json_output {
        print!("{}", to_json_pretty(&outcomes));
    } else {
        println!("{} passed, {} failed", outcomes.len() - failed, failed);
    }
    if let Some(outcome) = outcomes.iter().find(|o| o.internal) {
        eprintln!(
            "internal error: the simulator failed on a seed of {} (verdict `internal`): a bug \
             in quorumlab, not in the protocol",
            outcome.scenario
        );
        return Ok(EXIT_INTERNAL);
    }
    Ok(if failed == 0 {
        EXIT_PASS
    } else {
        EXIT_VIOLATION
    })
}

pub fn print_expectation(outcome: &Expectation, seconds: f64) {
    let status = if outcome.held { "ok  " } else { "FAIL" };
    let what = match (&outcome.caught_at_seed, outcome.expect.as_str()) {
        (_, "pass") => format!("pass over {} seeds", outcome.seeds_run),
        (Some(seed), expect) if outcome.every_seed => format!(
            "{expect} on every seed from {seed} ({} seeds run)",
            outcome.seeds_run
        ),
        (Some(seed), expect) => format!(
            "{expect} caught at seed {seed} ({} seeds run)",
            outcome.seeds_run
        ),
        (None, expect) => format!("{expect} expected"),
    };
    let mutant = outcome
        .mutant
        .as_ref()
        .map(|m| format!(" [mutant {m}]"))
        .unwrap_or_default();
    println!(
        "{status} {}{mutant}: {what} ({seconds:.1}s)",
        outcome.scenario
    );
    if let Some(problem) = &outcome.problem {
        println!("    {problem}");
    }
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The repository root, for tests that run from elsewhere.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
