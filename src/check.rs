//! `quorumlab check`: exhaustive model checking of a scenario within its `[check]` bounds
//! (stateright, through `sim_core::check`).

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::Path;

use serde::Serialize;
use sim_core::check::{CheckOptions, CheckReport, Strategy};
use sim_core::scenario::Scenario;

use crate::bench::Stopwatch;
use crate::{to_json_pretty, CliError, EXIT_PASS, EXIT_VIOLATION};

/// The command's arguments.
#[derive(Clone, Debug)]
pub struct CheckArgs<'a> {
    pub scenario: &'a Path,
    pub dfs: bool,
    /// `--walks N`; `Some(0)` for `--bfs` (exhaustive whatever the table says).
    pub walks: Option<u64>,
    pub seed: u64,
    pub threads: usize,
    pub max_states: Option<usize>,
    pub mutant: Option<&'a str>,
    pub json: bool,
    pub serve: Option<&'a str>,
}

/// The report plus how long it took (sim-core reads no clock; the CLI does).
#[derive(Debug, Serialize)]
struct TimedReport<'a> {
    verdict: &'static str,
    #[serde(flatten)]
    report: &'a CheckReport,
    seconds: f64,
    states_per_sec: f64,
}

/// Accept only loopback addresses: the Explorer has no authentication.
pub fn loopback_address(text: &str) -> Result<SocketAddr, CliError> {
    let addresses: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|error| {
            CliError::BadInput(format!(
                "--serve {text}: not an address ({error}); write e.g. 127.0.0.1:3000"
            ))
        })?
        .collect();
    match addresses.as_slice() {
        [] => Err(CliError::BadInput(format!(
            "--serve {text}: resolves to no address; write e.g. 127.0.0.1:3000"
        ))),
        [first, ..] if addresses.iter().all(|address| address.ip().is_loopback()) => Ok(*first),
        _ => Err(CliError::BadInput(format!(
            "--serve {text}: the Explorer binds loopback addresses only (it has no \
             authentication); write e.g. 127.0.0.1:3000"
        ))),
    }
}

pub fn check(args: &CheckArgs<'_>) -> Result<i32, CliError> {
    let serve = args.serve.map(loopback_address).transpose()?;
    let scenario = Scenario::load(args.scenario)?;
    let registry = crate::registry();
    if args.threads == 0 {
        return Err(CliError::BadInput(
            "--threads 0: at least one thread is needed".to_string(),
        ));
    }
    let mut options = CheckOptions {
        strategy: if args.dfs {
            Strategy::Dfs
        } else {
            Strategy::Bfs
        },
        threads: args.threads,
        max_states: args.max_states,
        serve: None,
        walks: args.walks,
        seed: args.seed,
    };
    if let Some(address) = serve {
        // Bind once here so that a busy port is an error, not a panic in the server thread.
        drop(TcpListener::bind(address).map_err(|error| {
            CliError::BadInput(format!("--serve {address}: cannot bind: {error}"))
        })?);
        println!("stateright Explorer at http://{address}/ (Ctrl-C to stop)");
        options.serve = Some(address.to_string());
    }
    let clock = Stopwatch::start();
    let report = sim_core::runner::check(registry, &scenario, args.mutant, &options)?;
    let seconds = clock.seconds();
    let states_per_sec = if seconds > 0.0 {
        report.states as f64 / seconds
    } else {
        0.0
    };
    let verdict = match (report.passed(), report.complete) {
        (false, _) => "fail",
        (true, true) => "pass",
        // Nothing failed in the states explored, but not every state was explored.
        (true, false) => "incomplete",
    };
    if args.json {
        let timed = TimedReport {
            verdict,
            report: &report,
            seconds,
            states_per_sec,
        };
        print!("{}", to_json_pretty(&timed));
    } else {
        print_summary(&report, seconds, states_per_sec);
    }
    Ok(if report.passed() {
        EXIT_PASS
    } else {
        EXIT_VIOLATION
    })
}

fn print_summary(report: &CheckReport, seconds: f64, states_per_sec: f64) {
    let mutant = report
        .mutant
        .as_deref()
        .map(|name| format!(" --mutant {name}"))
        .unwrap_or_default();
    let incomplete = match &report.walks {
        Some(plan) => format!(
            " (random walks: {} of at most {} actions, seed {})",
            plan.walks, plan.depth, plan.seed
        ),
        None if report.complete => String::new(),
        None => " (incomplete: --max-states reached)".to_string(),
    };
    println!(
        "{} ({}, {} nodes{mutant}): {} states generated, {} unique, max depth {}, {:.2} s, {:.0} states/s{incomplete}",
        report.scenario,
        report.protocol,
        report.nodes,
        report.states,
        report.unique_states,
        report.max_depth,
        seconds,
        states_per_sec,
    );
    if let Some(hit) = &report.walk_hit {
        println!(
            "found by walk {} (reproduce: --walks {} --seed {}), after {} states",
            hit.index,
            hit.index + 1,
            report.walks.map_or(0, |plan| plan.seed),
            hit.states
        );
    }
    if report.passed() {
        let names: Vec<&str> = report.properties.iter().map(|p| p.name).collect();
        if report.complete {
            println!("all properties hold: {}", names.join(", "));
        } else if report.walks.is_some() {
            println!(
                "no counterexample on these walks (a sample, not a proof): {}",
                names.join(", ")
            );
        } else {
            println!(
                "no counterexample in the states explored (not all of them): {}",
                names.join(", ")
            );
        }
        return;
    }
    if let Some(violation) = report.violation() {
        let steps = violation.counterexample.as_deref().unwrap_or_default();
        println!(
            "property `{}` violated after {} actions: {}",
            violation.name,
            steps.len(),
            violation.detail.as_deref().unwrap_or("")
        );
        for (position, step) in steps.iter().enumerate() {
            println!("  {:>3}. {step}", position + 1);
        }
    }
    for property in &report.properties {
        if property.expectation == "sometimes" && !property.holds {
            println!(
                "`{}` never reached{}",
                property.name,
                if report.violation().is_some() {
                    " (the check stopped at the counterexample)"
                } else if !report.complete {
                    " within --max-states"
                } else {
                    ": the bounds are too tight, or the check explores nothing"
                }
            );
        }
    }
}
