//! The `quorumlab` command line: wires scenarios, protocols, the simulator and reports.
//! `main.rs` only parses arguments and maps errors to exit codes; everything else is
//! here so that integration tests drive the same code.

pub mod bench;
pub mod check;
pub mod cli;
pub mod commands;
pub mod lincheck;
pub mod merge;
pub mod replay;
pub mod report;
pub mod require;
pub mod shrink;
pub mod sweep_validate;
pub mod testing;
pub mod tlc_command;
pub mod trace_validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sim_core::runner::ProtocolEntry;

/// The protocols this process knows: the bundled ones, plus any an outside crate
/// registered through `cli::main`. Set once, at start-up.
static REGISTRY: OnceLock<Vec<ProtocolEntry>> = OnceLock::new();

/// Every protocol the commands can run: `protocols::registry()` and whatever was
/// installed with `install_registry`.
pub fn registry() -> &'static [ProtocolEntry] {
    REGISTRY.get_or_init(protocols::registry)
}

/// Register `extra` protocols beside the bundled ones, before any command runs. A name
/// that is already taken is refused (bad input: the outside crate must rename it).
pub fn install_registry(extra: Vec<ProtocolEntry>) -> Result<(), CliError> {
    let mut all = protocols::registry();
    for entry in extra {
        if all.iter().any(|known| known.name() == entry.name()) {
            return Err(CliError::BadInput(format!(
                "protocol `{}` is registered twice; give the outside protocol another name",
                entry.name()
            )));
        }
        all.push(entry);
    }
    REGISTRY
        .set(all)
        .map_err(|_| CliError::Internal("the protocol registry was installed twice".to_string()))
}

/// Exit codes, everywhere: 0 pass, 1 a property violated, 2 bad input, 3 internal error,
/// 4 an I/O error (the disk or the file system, not the input: full, read-only, gone).
pub const EXIT_PASS: i32 = 0;
pub const EXIT_VIOLATION: i32 = 1;
pub const EXIT_BAD_INPUT: i32 = 2;
pub const EXIT_INTERNAL: i32 = 3;
pub const EXIT_IO: i32 = 4;

/// A command's failure that is not a protocol's: bad input or our own bug.
#[derive(Debug)]
pub enum CliError {
    BadInput(String),
    Internal(String),
    /// Writing results failed: the disk, not the input.
    Io(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::BadInput(_) => EXIT_BAD_INPUT,
            CliError::Internal(_) => EXIT_INTERNAL,
            CliError::Io(_) => EXIT_IO,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::BadInput(message) => write!(f, "error: {message}"),
            CliError::Internal(message) => write!(f, "internal error: {message}"),
            CliError::Io(message) => write!(f, "I/O error: {message}"),
        }
    }
}

impl From<sim_core::scenario::ScenarioError> for CliError {
    fn from(error: sim_core::scenario::ScenarioError) -> Self {
        CliError::BadInput(error.to_string())
    }
}

/// Write a file atomically, creating its directory: the contents go to a temporary file
/// beside it, reach the disk, and are renamed over `path`, so a reader (or a run that is
/// killed) sees the old file or the new one, never a torn one. Failures are I/O errors
/// (exit 4) naming the path.
pub fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), CliError> {
    use std::io::Write as _;
    let io = |what: &str, target: &Path, error: std::io::Error| {
        CliError::Io(format!("cannot {what} {}: {error}", target.display()))
    };
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(|error| io("create directory", parent, error))?;
    }
    let file_name = path.file_name().map_or_else(
        || "output".into(),
        |name| name.to_string_lossy().into_owned(),
    );
    let temporary = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(contents.as_ref())?;
        file.sync_all()
    });
    if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(io("write", path, error));
    }
    Ok(())
}

pub fn to_json_pretty<T: serde::Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("our outputs serialise");
    text.push('\n');
    text
}

/// Every `*.toml` under `paths` (files as given, directories recursively), sorted.
pub fn collect_scenarios(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found)?;
        } else if path.is_file() {
            found.push(path.clone());
        } else {
            return Err(CliError::BadInput(format!(
                "{}: no such file or directory",
                path.display()
            )));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), CliError> {
    let entries = std::fs::read_dir(dir).map_err(|error| {
        CliError::BadInput(format!("cannot read directory {}: {error}", dir.display()))
    })?;
    for entry in entries {
        let path = entry
            .map_err(|error| CliError::BadInput(format!("{}: {error}", dir.display())))?
            .path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|ext| ext == "toml") {
            found.push(path);
        }
    }
    Ok(())
}
