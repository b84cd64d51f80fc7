//! `quorumlab tlc`: run TLC on the specs in `tla/` and report states, depth, time and any
//! counterexample, in the simulator's action vocabulary.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{to_json_pretty, CliError, EXIT_BAD_INPUT, EXIT_PASS, EXIT_VIOLATION};
use quorumlab_tla::tlc::{self, TlcOutcome, TlcReport};

#[derive(Debug, Serialize)]
struct Checked {
    spec: String,
    config: String,
    report: TlcReport,
}

/// (spec, config) pairs for a path: a `.tla` with its same-stem `.cfg` (or `--config`),
/// a `.cfg` with the `MC*.tla` whose stem prefixes it, or every `.cfg` of a directory.
fn jobs(path: &Path, config: Option<&Path>) -> Result<Vec<(PathBuf, PathBuf)>, CliError> {
    if path.is_dir() {
        let mut configs: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|error| CliError::BadInput(format!("{}: {error}", path.display())))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|ext| ext == "cfg"))
            .collect();
        configs.sort();
        if configs.is_empty() {
            return Err(CliError::BadInput(format!(
                "{}: no .cfg files to check",
                path.display()
            )));
        }
        return configs
            .iter()
            .map(|cfg| Ok((spec_for(cfg)?, cfg.clone())))
            .collect();
    }
    match path.extension().and_then(|ext| ext.to_str()) {
        Some("tla") => {
            let cfg = config
                .map(Path::to_path_buf)
                .unwrap_or_else(|| path.with_extension("cfg"));
            if !cfg.is_file() {
                return Err(CliError::BadInput(format!(
                    "{}: no such config (pass --config FILE)",
                    cfg.display()
                )));
            }
            Ok(vec![(path.to_path_buf(), cfg)])
        }
        Some("cfg") => Ok(vec![(spec_for(path)?, path.to_path_buf())]),
        _ => Err(CliError::BadInput(format!(
            "{}: expected a .tla spec, a .cfg or a directory",
            path.display()
        ))),
    }
}

/// The spec a config belongs to: the longest `*.tla` stem that prefixes the config's stem.
fn spec_for(cfg: &Path) -> Result<PathBuf, CliError> {
    let dir = cfg.parent().unwrap_or(Path::new("."));
    let stem = cfg.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let mut best: Option<PathBuf> = None;
    for entry in std::fs::read_dir(dir)
        .map_err(|error| CliError::BadInput(format!("{}: {error}", dir.display())))?
    {
        let candidate = entry
            .map_err(|error| CliError::BadInput(error.to_string()))?
            .path();
        let candidate_stem = candidate
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        if candidate.extension().is_some_and(|ext| ext == "tla")
            && stem.starts_with(&candidate_stem)
            && best
                .as_ref()
                .is_none_or(|b| b.file_stem().map_or(0, |s| s.len()) < candidate_stem.len())
        {
            best = Some(candidate);
        }
    }
    best.ok_or_else(|| {
        CliError::BadInput(format!(
            "{}: no spec whose name prefixes it in {}",
            cfg.display(),
            dir.display()
        ))
    })
}

pub fn tlc(
    path: Option<&Path>,
    config: Option<&Path>,
    workers: u32,
    json_output: bool,
) -> Result<i32, CliError> {
    let path = path.unwrap_or(Path::new("tla/MCRaft.tla"));
    let jobs = jobs(path, config)?;
    let jar = tlc::locate_or_install_jar(Path::new(".")).map_err(CliError::BadInput)?;
    let mut checked = Vec::new();
    for (spec, cfg) in jobs {
        let report = tlc::run_tlc(&jar, &spec, Some(&cfg), workers).map_err(CliError::Internal)?;
        if !json_output {
            print_report(&cfg, &report);
        }
        checked.push(Checked {
            spec: spec.display().to_string(),
            config: cfg.display().to_string(),
            report,
        });
    }
    if json_output {
        print!("{}", to_json_pretty(&checked));
    }
    let outcomes: Vec<&TlcOutcome> = checked.iter().map(|c| &c.report.outcome).collect();
    Ok(
        if outcomes.iter().any(|o| matches!(o, TlcOutcome::ParseError)) {
            EXIT_BAD_INPUT
        } else if outcomes.iter().all(|o| matches!(o, TlcOutcome::Ok)) {
            EXIT_PASS
        } else {
            EXIT_VIOLATION
        },
    )
}

fn print_report(cfg: &Path, report: &TlcReport) {
    let count = |value: Option<u64>| value.map_or("?".to_string(), |v| v.to_string());
    let outcome = match &report.outcome {
        TlcOutcome::Ok => "all properties hold".to_string(),
        TlcOutcome::InvariantViolated { name } => format!("invariant {name} is VIOLATED"),
        TlcOutcome::Deadlock => "deadlock".to_string(),
        TlcOutcome::Liveness => "a temporal property is VIOLATED".to_string(),
        TlcOutcome::ParseError => "the spec or config does not parse".to_string(),
        TlcOutcome::Other { code } => format!("TLC exited with code {code}"),
    };
    println!(
        "{}: {outcome} — {} states generated, {} distinct, depth {}, {:.1} s",
        cfg.display(),
        count(report.states_generated),
        count(report.distinct_states),
        count(report.depth),
        report.elapsed_ms as f64 / 1e3
    );
    if !report.counterexample.is_empty() {
        println!(
            "  counterexample ({} states): {}",
            report.counterexample.len(),
            report.trace_actions().join(" -> ")
        );
    }
    for error in report.errors.iter().take(5) {
        println!("  {error}");
    }
}
