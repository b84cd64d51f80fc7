//! `quorumlab lincheck`: check recorded histories for linearizability.

use std::path::PathBuf;

use serde::Serialize;
use sim_core::lincheck::{self, Budget, ModelKind, Verdict};

use crate::bench::Stopwatch;
use crate::{to_json_pretty, CliError, EXIT_PASS, EXIT_VIOLATION};

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
    for file in files {
        let clock = Stopwatch::start();
        let checked =
            lincheck::check_file(file, model.clone(), budget).map_err(CliError::BadInput)?;
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
        print!("{}", to_json_pretty(&outcomes));
    }
    let bad = outcomes
        .iter()
        .any(|o| o.verdict == Verdict::NotLinearizable);
    Ok(if bad { EXIT_VIOLATION } else { EXIT_PASS })
}
