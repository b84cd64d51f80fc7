//! quorumlab's integration tests: one binary, one module per area.

mod adversary;
mod architecture;
mod byzantine;
mod check;
mod classics;
mod clients;
mod commands;
mod determinism;
mod examples;
mod fd;
mod fuzz;
mod kv;
mod lease;
mod pause;
mod primary_backup;
mod report;
mod require;
mod resume;
mod run_checks;
mod scenarios;
mod schema;
mod shrink;
mod simulator;
mod trace_validate;
mod twins;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sim_core::scenario::Scenario;

/// The repository root (tests run from anywhere).
pub fn root() -> &'static Path {
    quorumlab::testing::repo_root()
}

pub fn scenario_path(relative: &str) -> PathBuf {
    root().join(relative)
}

/// A scenario written inline in a test.
pub fn inline(source: &str) -> Scenario {
    Scenario::parse(Path::new("inline.toml"), source.to_string())
        .expect("the test's scenario is valid")
}

/// Run the `quorumlab` binary from the repository root.
pub fn quorumlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quorumlab"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that `quorumlab list protocols` describes `protocol` with words that include
/// `described_as`, and that `quorumlab list mutants` gives it exactly `mutants` (sorted),
/// each with its catching file `scenarios/<protocol>/mutants/<name>.toml`.
pub fn assert_listed(protocol: &str, described_as: &str, mutants: &[&str]) {
    let protocols = quorumlab(&["list", "protocols", "--json"]);
    assert_eq!(protocols.status.code(), Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&protocols)).expect("JSON");
    let row = rows
        .iter()
        .find(|row| row["name"] == protocol)
        .unwrap_or_else(|| panic!("{protocol} is not listed"));
    assert!(
        row["description"]
            .as_str()
            .is_some_and(|text| text.contains(described_as)),
        "{row}"
    );
    let listed = quorumlab(&["list", "mutants", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&listed)).expect("JSON");
    let mut names: Vec<&str> = rows
        .iter()
        .filter(|row| row["protocol"] == protocol)
        .filter_map(|row| row["name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, mutants);
    for name in names {
        let file = format!("scenarios/{protocol}/mutants/{name}.toml");
        assert!(scenario_path(&file).exists(), "{file}");
    }
}

/// A fresh, empty temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quorumlab-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A failing run (the mutant breaks leader completeness on this seed), with a trace.
pub fn failing_run(name: &str) -> PathBuf {
    let out = temp_dir(name);
    let output = quorumlab(&[
        "run",
        "scenarios/raft/nemesis.toml",
        "--seed",
        "4",
        "--mutant",
        "vote-ignores-log",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    out
}
