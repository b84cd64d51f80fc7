//! quorumlab's integration tests: one binary, one module per area.

mod check;
mod commands;
mod determinism;
mod scenarios;
mod simulator;

use std::path::{Path, PathBuf};

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
