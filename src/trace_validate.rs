//! `quorumlab tlc --validate-trace RUN_DIR`: the command around
//! `quorumlab_tla::trace::validate_trace` (is a Raft run's `trace.ndjson` a behaviour of
//! `tla/Raft.tla`?): it reads the run directory, and prints the verdict or its JSON.

use std::path::Path;

use quorumlab_tla::trace::{validate_trace as validate, Validation};
use quorumlab_tla::window::Options;

use crate::replay::load_run_dir;
use crate::{to_json_pretty, CliError, EXIT_PASS, EXIT_VIOLATION};

impl From<quorumlab_tla::Error> for CliError {
    fn from(error: quorumlab_tla::Error) -> Self {
        match error {
            quorumlab_tla::Error::BadInput(message) => CliError::BadInput(message),
            quorumlab_tla::Error::Internal(message) => CliError::Internal(message),
        }
    }
}

pub fn validate_trace(
    run_dir: &Path,
    options: Options,
    json_output: bool,
) -> Result<i32, CliError> {
    let (recorded, scenario) = load_run_dir(run_dir)?;
    let validation = validate(run_dir, &recorded, &scenario, options)?;
    if json_output {
        print!("{}", to_json_pretty(&validation));
    } else {
        print_validation(&validation);
    }
    Ok(if validation.valid {
        EXIT_PASS
    } else {
        EXIT_VIOLATION
    })
}

fn print_validation(validation: &Validation) {
    let count = |value: Option<u64>| value.map_or("?".to_string(), |v| v.to_string());
    let tlc = format!(
        "TLC: {} windows of {} events in {} runs, {} states generated, {} distinct, {:.1} s; \
         spec in {}",
        validation.windows,
        validation.window,
        validation.tlc_runs,
        count(validation.states_generated),
        count(validation.distinct_states),
        validation.tlc_ms as f64 / 1e3,
        validation.spec_dir
    );
    match &validation.rejected {
        None => println!("trace valid: {} events matched ({tlc})", validation.events),
        Some(rejection) => {
            let event = &rejection.event;
            println!(
                "trace rejected at event {} of {} (trace.ndjson line {}, i={}, t={} us, n{}, {}): {}",
                rejection.position,
                validation.events,
                event.line,
                event.index,
                event.time_us,
                event.node,
                event.event,
                rejection.reason()
            );
            println!("  {tlc}");
        }
    }
}
