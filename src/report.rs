//! `quorumlab report`: an HTML report of a run or sweep directory, and ShiViz export.

use std::path::{Path, PathBuf};

use crate::{write_file, CliError, EXIT_PASS};

/// Write `report.html` (or `out`) for a run or sweep directory; with `shiviz`, also the
/// run's trace as a ShiViz log.
pub fn report(dir: &Path, out: Option<PathBuf>, shiviz: Option<PathBuf>) -> Result<i32, CliError> {
    let is_run = reports::is_run_dir(dir);
    if !is_run && !reports::is_sweep_dir(dir) {
        return Err(CliError::BadInput(format!(
            "{}: neither a run directory (no result.json) nor a sweep directory (no summary.json)\n  fix: pass the --out directory of `quorumlab run` or `quorumlab sweep`",
            dir.display()
        )));
    }
    let html = if is_run {
        reports::run_report(dir)
    } else {
        reports::sweep_report(dir)
    }
    .map_err(CliError::BadInput)?;
    let out = out.unwrap_or_else(|| dir.join("report.html"));
    write_file(&out, html)?;
    println!("wrote {}", out.display());
    if let Some(shiviz_path) = shiviz {
        let trace_path = dir.join("trace.ndjson");
        if !is_run || !trace_path.is_file() {
            return Err(CliError::BadInput(format!(
                "--shiviz: {} has no trace.ndjson\n  fix: point at a run directory written with --trace (or a failing run)",
                dir.display()
            )));
        }
        let trace = std::fs::read_to_string(&trace_path).map_err(|error| {
            CliError::BadInput(format!("cannot read {}: {error}", trace_path.display()))
        })?;
        write_file(&shiviz_path, reports::shiviz(&trace))?;
        println!("wrote {} (load it at ShiViz)", shiviz_path.display());
    }
    Ok(EXIT_PASS)
}

/// `run --report` / `sweep --report`: write `report.html` into the directory just written.
pub fn write_report_into(dir: &Path) -> Result<(), CliError> {
    let html = if reports::is_run_dir(dir) {
        reports::run_report(dir)
    } else {
        reports::sweep_report(dir)
    }
    .map_err(CliError::BadInput)?;
    write_file(&dir.join("report.html"), html)
}
