//! `quorumlab replay`: re-execute a run directory's (scenario, seed, mutant), prove the
//! trace hash matches what was recorded, and print the events readably.

use std::path::Path;

use serde_json::Value;
use sim_core::result::RunResult;
use sim_core::scenario::Scenario;
use sim_core::trace::{TraceDetail, TraceEffect, TraceEvent, TraceFate};

use crate::commands::prepare_scenario;
use crate::{CliError, EXIT_INTERNAL, EXIT_PASS};

/// A run directory's recorded result and the scenario as it was run (its path is the
/// original one, so repro commands read the same).
pub fn load_run_dir(run_dir: &Path) -> Result<(RunResult, Scenario), CliError> {
    let result_path = run_dir.join("result.json");
    let text = std::fs::read_to_string(&result_path).map_err(|error| {
        CliError::BadInput(format!(
            "{}: {error} (is this a run directory?)",
            result_path.display()
        ))
    })?;
    let recorded: RunResult = serde_json::from_str(&text).map_err(|error| {
        CliError::BadInput(format!(
            "{}: not a quorumlab result.json: {error}",
            result_path.display()
        ))
    })?;
    // The run directory keeps the scenario as it was run; its path stays the original
    // one, so the repro command reads the same.
    let scenario_path = run_dir.join("scenario.toml");
    let source = std::fs::read_to_string(&scenario_path)
        .map_err(|error| CliError::BadInput(format!("{}: {error}", scenario_path.display())))?;
    let scenario = Scenario::parse(Path::new(&recorded.scenario), source)?;
    Ok((recorded, scenario))
}

pub fn replay(run_dir: &Path, from: Option<u64>, to: Option<u64>) -> Result<i32, CliError> {
    sim_core::panics::install_quiet_hook();
    let (recorded, scenario) = load_run_dir(run_dir)?;
    let runner = prepare_scenario(&scenario, recorded.mutant.as_deref(), recorded.swarm)?;
    let output = runner.run(recorded.seed, true);
    let trace = output.trace.as_ref().expect("tracing was asked for");
    let from = from.unwrap_or(0);
    let to = to.unwrap_or(u64::MAX);
    for line in trace {
        let event = TraceEvent::parse(line).map_err(|error| {
            CliError::Internal(format!(
                "the simulator wrote a trace line it cannot read: {error}"
            ))
        })?;
        if (from..=to).contains(&event.i) {
            println!("{}", format_event(&event));
        }
    }
    let result = &output.result;
    if result.trace_hash != recorded.trace_hash {
        eprintln!(
            "internal error: trace hash {} differs from the recorded {} (seed {}): the run is not reproducible",
            result.trace_hash, recorded.trace_hash, recorded.seed
        );
        return Ok(EXIT_INTERNAL);
    }
    println!(
        "replayed {} seed {}: {} {} — trace hash {} matches",
        recorded.scenario,
        recorded.seed,
        result.verdict.name(),
        result.property.as_deref().unwrap_or(""),
        result.trace_hash
    );
    Ok(EXIT_PASS)
}

/// One trace event as a line a person reads: time, index, node, what came in, what went out.
pub fn format_event(event: &TraceEvent) -> String {
    let time = event.time_us as f64 / 1e6;
    let index = event.i;
    let node = match event.node {
        Some(node) => format!("n{node}"),
        None => "--".to_string(),
    };
    let mut line = format!("[{time:>10.6}s] #{index:<7} {node:<3} {}", event.event);
    match &event.detail {
        TraceDetail::Step {
            input,
            effects,
            observations,
            delivered,
            ..
        } => {
            if let Some(from) = input.get("from") {
                line.push_str(&format!(" from n{from}"));
            }
            if let Some(msg) = input.get("msg") {
                line.push_str(&format!(" {}", compact(msg)));
            }
            if let Some(arrival) = delivered {
                let duplicate = if arrival.duplicate {
                    " (duplicate)"
                } else {
                    ""
                };
                line.push_str(&format!(" [message #{}{duplicate}]", arrival.id));
            }
            if let Some(op) = input.get("op") {
                line.push_str(&format!(
                    " client {} request {} {}",
                    input["client"],
                    input["request"],
                    compact(op)
                ));
            }
            for effect in effects {
                line.push_str("\n      -> ");
                line.push_str(&format_effect(effect));
            }
            for observation in observations {
                line.push_str(&format!("\n      ** {}", compact(observation)));
            }
        }
        TraceDetail::Drop {
            from,
            msg,
            cause,
            arrival,
        } => {
            line.push_str(&format!(" from n{from} {msg} cause={cause}"));
            if let Some(arrival) = arrival {
                line.push_str(&format!(" [message #{}]", arrival.id));
            }
        }
        TraceDetail::Crash { cause } => line.push_str(&format!(" cause={cause}")),
        TraceDetail::Fault { fault } => line.push_str(&format!(" fault={}", compact(fault))),
        TraceDetail::End { verdict, property } => {
            line.push_str(&format!(" verdict={verdict}"));
            if let Some(property) = property {
                line.push_str(&format!(" property={property}"));
            }
        }
        TraceDetail::Client {
            client,
            request,
            to,
            fate,
            id,
            delivered,
            cause,
        } => {
            line.push_str(&format!(" c{client} request {request}"));
            if let Some(to) = to {
                line.push_str(&format!(" to n{to}"));
            }
            if let Some(id) = id {
                line.push_str(&format!(" #{id} [{}]", format_fate(fate)));
            }
            if let Some(arrival) = delivered {
                line.push_str(&format!(" [message #{}]", arrival.id));
            }
            if let Some(cause) = cause {
                line.push_str(&format!(" cause={cause}"));
            }
        }
        TraceDetail::Marker {} => {}
    }
    line
}

/// What the network decided about a send, readably.
fn format_fate(fate: &Option<TraceFate>) -> String {
    match fate {
        Some(TraceFate::Dropped { dropped }) => format!("DROPPED ({dropped})"),
        Some(TraceFate::Delivered {
            delay_us,
            duplicate_delay_us,
        }) => {
            let mut text = format!("arrives +{:.3}ms", *delay_us as f64 / 1e3);
            if let Some(duplicate) = duplicate_delay_us {
                text.push_str(&format!(", duplicate +{:.3}ms", *duplicate as f64 / 1e3));
            }
            text
        }
        None => "not sent".to_string(),
    }
}

fn format_effect(effect: &TraceEffect) -> String {
    match effect {
        TraceEffect::Send { to, msg, fate, id } => {
            let id = id.map_or(String::new(), |id| format!(" #{id}"));
            format!("send n{to} {}{id} [{}]", compact(msg), format_fate(fate))
        }
        TraceEffect::Reply {
            client,
            request,
            reply,
            fate,
            id: Some(id),
        } => format!(
            "reply c{client} request {request} {} #{id} [{}]",
            compact(reply),
            format_fate(fate)
        ),
        TraceEffect::SetTimer {
            timer,
            delay_us: Some(delay_us),
            ..
        } => format!("set {timer} in {:.3}ms", *delay_us as f64 / 1e3),
        other => compact(&serde_json::to_value(other).unwrap_or(Value::Null)),
    }
}

fn compact(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 240 {
        format!(
            "{}…",
            &text[..text.char_indices().nth(240).map_or(text.len(), |(i, _)| i)]
        )
    } else {
        text
    }
}
