//! `quorumlab lincheck`: check recorded histories for linearizability.

use std::path::PathBuf;

use serde::Serialize;
use sim_core::lincheck::{self, Budget, ModelKind, Verdict};

use crate::bench::Stopwatch;
use crate::{to_json_pretty, CliError, EXIT_BAD_INPUT, EXIT_PASS, EXIT_VIOLATION};

#[derive(Debug, Serialize)]
struct FileOutcome {
    path: String,
    format: String,
    model: String,
    verdict: Verdict,
    operations: usize,
    seconds: f64,
    explanation: String,
}

/// A file of the batch that could not be checked, with why.
#[derive(Debug, Serialize)]
struct FileError {
    path: String,
    error: String,
}

/// Check every file of the batch, even after one that cannot be read or parsed (each is
/// reported). Exit 2 if any file could not be checked, else 1 if any history is not
/// linearizable, else 0.
pub fn lincheck(
    files: &[PathBuf],
    model: Option<&str>,
    budget_steps: Option<u64>,
    json_output: bool,
) -> Result<i32, CliError> {
    let model = model
        .map(|text| {
            ModelKind::parse(text)
                .map_err(|message| CliError::BadInput(format!("--model: {message}")))
        })
        .transpose()?;
    let budget = budget_steps.map_or_else(Budget::default, |max_steps| Budget { max_steps });
    let mut outcomes = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        let clock = Stopwatch::start();
        let checked = lincheck::check_file(file, model.clone(), budget).and_then(|checked| {
            // `[]` is as empty as an empty file: neither has anything to check.
            if checked.report.operation_count == 0 {
                Err(format!(
                    "{}: empty history: no operations, so nothing to check",
                    file.display()
                ))
            } else {
                Ok(checked)
            }
        });
        let checked = match checked {
            Ok(checked) => checked,
            Err(error) => {
                if !json_output {
                    eprintln!("error: {error}");
                }
                errors.push(FileError {
                    path: file.display().to_string(),
                    error,
                });
                continue;
            }
        };
        let outcome = FileOutcome {
            path: file.display().to_string(),
            format: format!("{:?}", checked.format),
            model: checked.report.model.clone(),
            verdict: checked.verdict(),
            operations: checked.report.operation_count,
            seconds: clock.seconds(),
            explanation: checked.report.explanation.clone(),
        };
        if !json_output {
            let verdict = match outcome.verdict {
                Verdict::Linearizable => "linearizable",
                Verdict::NotLinearizable => "NOT linearizable",
                Verdict::Unknown => "unknown (budget exhausted)",
            };
            println!(
                "{}: {verdict} ({} ops, {}, {:.3} ms)",
                outcome.path,
                outcome.operations,
                outcome.model,
                outcome.seconds * 1e3
            );
            if outcome.verdict != Verdict::Linearizable {
                for line in outcome.explanation.lines() {
                    println!("    {line}");
                }
            }
        }
        outcomes.push(outcome);
    }
    if json_output {
        if errors.is_empty() {
            print!("{}", to_json_pretty(&outcomes));
        } else {
            print!(
                "{}",
                to_json_pretty(&serde_json::json!({ "checked": outcomes, "errors": errors }))
            );
        }
    } else if !errors.is_empty() {
        eprintln!(
            "{} of {} files could not be checked (see above)",
            errors.len(),
            files.len()
        );
    }
    let bad = outcomes
        .iter()
        .any(|o| o.verdict == Verdict::NotLinearizable);
    Ok(if !errors.is_empty() {
        EXIT_BAD_INPUT
    } else if bad {
        EXIT_VIOLATION
    } else {
        EXIT_PASS
    })
}
