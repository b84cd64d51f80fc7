//! Every bundled scenario file is its own test: `cargo test` lists one test per
//! `scenarios/**/*.toml`, named by its path, and runs the files in parallel on the test
//! runner's threads (`--test-threads`), so a failure names its file.
//!
//! Each file holds its `expect`, through the same code as `quorumlab test`. A file with a
//! mutant must also pass with the correct protocol: the same sweep that catches the bug
//! shows the real protocol does not have it. Checks that span files
//! (`every_mutant_has_a_scenario_that_catches_it`) stay in tests/cli/scenarios.rs.
//!
//! A `harness = false` target (libtest-mimic) because libtest cannot make a test per
//! file found at run time.

use std::path::{Path, PathBuf};

use libtest_mimic::{Arguments, Failed, Trial};
use sim_core::scenario::Scenario;

/// Seeds run at once inside one file's test, as `quorumlab test --jobs 2`.
const JOBS_PER_FILE: usize = 2;

/// Guards against a test list that silently shrinks (a moved folder, a broken walk).
const SCENARIO_FILES_MIN: usize = 8;
const MUTANT_FREE_CHECKS_MIN: usize = 12;

fn main() {
    let arguments = Arguments::from_args();
    sim_core::panics::install_quiet_hook();
    let root = quorumlab::testing::repo_root();
    let files = quorumlab::collect_scenarios(&[root.join("scenarios")])
        .unwrap_or_else(|error| panic!("{error}"));
    let mut trials: Vec<Trial> = files
        .iter()
        .map(|file| {
            let name = file
                .strip_prefix(root)
                .unwrap_or(file)
                .display()
                .to_string();
            let file = file.clone();
            Trial::test(name, move || check_file(&file))
        })
        .collect();
    let found = files.clone();
    trials.push(Trial::test(
        "all_bundled_scenario_files_are_found",
        move || files_are_found(&found),
    ));
    libtest_mimic::run(&arguments, trials).exit();
}

/// One file: its expectation holds and, if it names a mutant, the correct protocol
/// passes it.
fn check_file(file: &Path) -> Result<(), Failed> {
    let scenario = Scenario::load(file)?;
    let outcome = quorumlab::testing::check_expectation(&scenario, JOBS_PER_FILE)?;
    if outcome.internal {
        return Err(format!(
            "{}: the simulator failed on a seed (verdict `internal`): a bug in quorumlab",
            outcome.scenario
        )
        .into());
    }
    if !outcome.held {
        return Err(format!(
            "{}: expect = {:?} did not hold: {}",
            outcome.scenario,
            outcome.expect,
            outcome.problem.unwrap_or_default()
        )
        .into());
    }
    if let Some(without_mutant) = without_its_mutant(scenario) {
        let outcome = quorumlab::testing::check_expectation(&without_mutant, JOBS_PER_FILE)?;
        if !outcome.held {
            return Err(format!(
                "{} fails without its mutant: {}",
                outcome.scenario,
                outcome.problem.unwrap_or_default()
            )
            .into());
        }
    }
    Ok(())
}

/// The scenario with its mutant removed, expected to pass; `None` when it has no
/// mutant, or when it exceeds the fault bound on purpose and expects a liveness
/// property (`client_progress`, `leader`) to fail: that failure is the fault bound's,
/// not the mutant's, so the correct protocol shows it too.
fn without_its_mutant(mut scenario: Scenario) -> Option<Scenario> {
    scenario.file.mutant.as_ref()?;
    let liveness = matches!(scenario.file.expect.as_str(), "client_progress" | "leader");
    if liveness && scenario.file.exceed_fault_bound {
        return None;
    }
    scenario.file.mutant = None;
    scenario.file.expect = "pass".to_string();
    Some(scenario)
}

/// The test list is not silently short: enough files, and a mutant-free check per Raft
/// and kv mutant file.
fn files_are_found(files: &[PathBuf]) -> Result<(), Failed> {
    if files.len() < SCENARIO_FILES_MIN {
        return Err(format!("the bundled scenarios are missing: {files:?}").into());
    }
    let mut mutant_free_checks = 0;
    for file in files {
        if without_its_mutant(Scenario::load(file)?).is_some() {
            mutant_free_checks += 1;
        }
    }
    if mutant_free_checks < MUTANT_FREE_CHECKS_MIN {
        return Err(format!(
            "expected a scenario per Raft and kv mutant checked without its mutant, found \
             {mutant_free_checks} (at least {MUTANT_FREE_CHECKS_MIN})"
        )
        .into());
    }
    Ok(())
}
