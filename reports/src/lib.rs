//! reports: turns run and sweep results into summaries for people and CI.
//!
//! Reads only what `run` and `sweep` write (`result.json`, `history.json`,
//! `trace.ndjson`, `summary.json`) and returns one self-contained HTML page: inline CSS
//! and SVG, no scripts, nothing fetched. Charts are drawn with plotters' SVG backend; the
//! role timeline and the space-time diagram are hand-written SVG. Also exports a trace
//! to ShiViz's log format.

mod charts;
pub mod ci;
mod diagrams;
mod html;
mod shiviz;
mod trace;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sim_core::result::{HistoryOp, RunResult};
use sim_core::sweep::{FailureEntry, SweepSummary};

pub use shiviz::{shiviz, SHIVIZ_REGEX};
pub use trace::Trace;

use html::{escape, key_value_table, page};

/// Events shown in the space-time diagram.
const SPACE_TIME_ROWS: usize = 70;

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))
}

fn read_optional(path: &Path) -> Result<Option<String>, String> {
    if path.is_file() {
        read(path).map(Some)
    } else {
        Ok(None)
    }
}

#[derive(Deserialize)]
struct HistoryFile {
    operations: Vec<HistoryOp>,
}

/// True if `dir` looks like a run directory (it has `result.json`).
pub fn is_run_dir(dir: &Path) -> bool {
    dir.join("result.json").is_file()
}

/// True if `dir` looks like a sweep directory (it has `summary.json`).
pub fn is_sweep_dir(dir: &Path) -> bool {
    dir.join("summary.json").is_file()
}

fn verdict_badge(verdict: &str) -> String {
    let class = if verdict == "pass" { "pass" } else { "fail" };
    format!("<span class=\"verdict {class}\">{}</span>", escape(verdict))
}

fn chart_or_note(chart: Option<String>, what: &str) -> String {
    chart.unwrap_or_else(|| format!("<p class=\"note\">No {what} to plot.</p>"))
}

fn counts_rows(counts: &BTreeMap<String, u64>) -> Vec<(String, String)> {
    counts
        .iter()
        .map(|(key, value)| (key.clone(), value.to_string()))
        .collect()
}

/// The HTML report of one run directory.
pub fn run_report(run_dir: &Path) -> Result<String, String> {
    let result_path = run_dir.join("result.json");
    let result: RunResult = serde_json::from_str(&read(&result_path)?)
        .map_err(|error| format!("{}: not a run result: {error}", result_path.display()))?;
    let history_path = run_dir.join("history.json");
    let history = match read_optional(&history_path)? {
        Some(text) => {
            serde_json::from_str::<HistoryFile>(&text)
                .map_err(|error| format!("{}: not a history: {error}", history_path.display()))?
                .operations
        }
        None => Vec::new(),
    };
    let trace = match read_optional(&run_dir.join("trace.ndjson"))? {
        Some(text) => Some(
            Trace::parse(&text)
                .map_err(|error| format!("{}: {error}", run_dir.join("trace.ndjson").display()))?,
        ),
        None => None,
    };
    let failed = result.verdict.is_failure();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{} seed {} {}</h1>",
        escape(&result.scenario),
        result.seed,
        verdict_badge(result.verdict.name())
    );
    let mut facts = vec![
        ("scenario".to_string(), result.scenario.clone()),
        ("seed".to_string(), result.seed.to_string()),
        (
            "mutant".to_string(),
            result.mutant.clone().unwrap_or_else(|| "none".into()),
        ),
        ("swarm".to_string(), result.swarm.to_string()),
        ("verdict".to_string(), result.verdict.name().to_string()),
    ];
    if let Some(property) = &result.property {
        facts.push(("property".to_string(), property.clone()));
    }
    facts.push((
        if failed { "failed at" } else { "ended at" }.to_string(),
        format!(
            "event {}, t = {:.6} s",
            result.event_index,
            result.time_us as f64 / 1e6
        ),
    ));
    facts.push(("trace hash".to_string(), result.trace_hash.clone()));
    body.push_str(&key_value_table("run", &facts));
    if let Some(detail) = &result.detail {
        let _ = write!(
            body,
            "<p><b>{}</b>: {}</p>",
            escape(result.property.as_deref().unwrap_or("detail")),
            escape(detail)
        );
    }
    let _ = write!(
        body,
        "<h2>Reproduce</h2><pre class=\"repro\">{}</pre>",
        escape(&result.repro)
    );

    let metrics = &result.metrics;
    let main_rows: Vec<(String, String)> = [
        ("events", metrics.events),
        ("steps", metrics.steps),
        ("messages sent", metrics.messages_sent),
        ("messages delivered", metrics.messages_delivered),
        ("messages dropped", metrics.messages_dropped),
        ("messages duplicated", metrics.messages_duplicated),
        ("client ops invoked", metrics.client_ops_invoked),
        ("client ops ok", metrics.client_ops_ok),
        ("client ops failed", metrics.client_ops_failed),
        ("client ops unknown", metrics.client_ops_unknown),
        ("client latency p50 (µs)", metrics.client_latency_us_p50),
        ("client latency p99 (µs)", metrics.client_latency_us_p99),
        ("client latency max (µs)", metrics.client_latency_us_max),
    ]
    .iter()
    .map(|(name, value)| (name.to_string(), value.to_string()))
    .chain([
        (
            "throughput (ok ops per simulated s)".to_string(),
            format!("{:.1}", metrics.throughput_ops_per_sec),
        ),
        (
            "messages per committed op".to_string(),
            format!("{:.2}", metrics.messages_per_committed_op),
        ),
        (
            "leader changes".to_string(),
            metrics.leader_changes.to_string(),
        ),
        (
            "unavailability windows (total, longest µs)".to_string(),
            format!(
                "{} ({}, {})",
                metrics.unavailability.windows,
                metrics.unavailability.total_us,
                metrics.unavailability.longest_us
            ),
        ),
    ])
    .collect();
    body.push_str("<h2>Metrics</h2><div class=\"tables\">");
    body.push_str(&key_value_table("run", &main_rows));
    body.push_str(&key_value_table(
        "drops by cause",
        &counts_rows(&metrics.drops_by_cause),
    ));
    body.push_str(&key_value_table(
        "observations",
        &counts_rows(&metrics.observations),
    ));
    body.push_str(&key_value_table(
        "faults fired",
        &counts_rows(&result.faults_fired),
    ));
    if !metrics.protocol.is_empty() {
        body.push_str(&key_value_table(
            "protocol metrics",
            &counts_rows(&metrics.protocol),
        ));
    }
    body.push_str("</div>");

    let end_time_us = trace
        .as_ref()
        .map_or(result.time_us, |t| t.end_time_us.max(result.time_us));
    let faults = trace.as_ref().map(Trace::fault_windows).unwrap_or_default();
    body.push_str("<h2>Clients and messages</h2>");
    if !faults.is_empty() {
        body.push_str("<p class=\"note\">Shaded: fault windows.</p>");
    }
    body.push_str("<div class=\"charts\">");
    let client_charts = if history.is_empty() {
        vec!["<p class=\"note\">No client operations (history.json): this scenario has no workload.</p>".to_string()]
    } else {
        vec![
            chart_or_note(charts::latency_cdf(&history)?, "completed client operation"),
            chart_or_note(
                charts::latency_over_time(&history, end_time_us, &faults)?,
                "completed client operation",
            ),
            chart_or_note(
                charts::throughput(&history, end_time_us, &faults)?,
                "completed client operation",
            ),
        ]
    };
    for chart in client_charts.into_iter().chain([chart_or_note(
        charts::bars_by_kind(
            &metrics.messages_by_kind,
            "messages sent by kind",
            "messages",
        )?,
        "message",
    )]) {
        let _ = write!(body, "<div class=\"chart\">{chart}</div>");
    }
    body.push_str("</div>");

    match &trace {
        Some(trace) if !trace.events.is_empty() => {
            body.push_str("<h2>Roles over time</h2>");
            body.push_str("<p class=\"note\">Each node's role from the trace; crashes in grey; fault windows hatched (on a node) or in the rows below (network-wide). Hover for times.</p>");
            let failing = if failed {
                trace.failing_position()
            } else {
                None
            };
            let last = failing.unwrap_or(trace.events.len() - 1);
            let shown = diagrams::window_positions(trace, last, SPACE_TIME_ROWS);
            let window_us = match (shown.first(), shown.last()) {
                (Some(&first), Some(&last)) => {
                    Some((trace.events[first].time_us, trace.events[last].time_us))
                }
                _ => None,
            };
            let failure = failed.then_some((result.time_us, result.verdict.name()));
            let palette = diagrams::Palette::new(&result.roles)
                .with_byzantine(!result.byzantine.is_empty());
            let _ = write!(
                body,
                "<div class=\"diagram\">{}</div>",
                diagrams::role_timeline(trace, &palette, failure, window_us)
            );
            let heading = if failing.is_some() {
                format!(
                    "Space-time diagram: the {SPACE_TIME_ROWS} events up to the failure ({})",
                    result.verdict.name()
                )
            } else {
                format!("Space-time diagram: the last {SPACE_TIME_ROWS} events")
            };
            let _ = write!(
                body,
                "<h2>{heading}</h2><p class=\"note\">Time flows down, one row per event; one lane per node. An arrow per delivered message from send to receive (dashed: sent before the window or still in flight); a red X marks a dropped message; the failing event is highlighted in red.</p><div class=\"diagram\">{}</div>",
                diagrams::space_time(trace, &palette, last, failing, SPACE_TIME_ROWS)
            );
        }
        _ => body.push_str(
            "<h2>Trace</h2><p class=\"note\">No trace.ndjson in this run directory: re-run with <code>--trace</code> for the role timeline and the space-time diagram.</p>",
        ),
    }
    let title = format!(
        "quorumlab: {} seed {} {}",
        result.scenario,
        result.seed,
        result.verdict.name()
    );
    Ok(page(&title, &body))
}

/// `summary.json` as `sweep` writes it.
#[derive(Deserialize)]
struct SweepFile {
    seeds: u64,
    passed: u64,
    failed: u64,
    #[serde(default)]
    failures: Vec<FailureEntry>,
    #[serde(default)]
    fault_counts: BTreeMap<String, u64>,
    sweep_hash: String,
    #[serde(default)]
    determinism_rechecked: u64,
    #[serde(default)]
    determinism_mismatches: u64,
    #[serde(default)]
    elapsed_seconds: f64,
    #[serde(default)]
    seeds_per_sec: f64,
    #[serde(default)]
    scenarios: Vec<SweepSummary>,
}

/// Run directories under a sweep directory, by (scenario path, seed), relative to it.
fn seed_dirs(sweep_dir: &Path) -> BTreeMap<(String, u64), PathBuf> {
    let mut found = BTreeMap::new();
    let Ok(scenario_dirs) = std::fs::read_dir(sweep_dir) else {
        return found;
    };
    for scenario_dir in scenario_dirs.flatten() {
        let Ok(seeds) = std::fs::read_dir(scenario_dir.path()) else {
            continue;
        };
        for seed_dir in seeds.flatten() {
            let path = seed_dir.path();
            let Ok(text) = std::fs::read_to_string(path.join("result.json")) else {
                continue;
            };
            let Ok(result) = serde_json::from_str::<RunResult>(&text) else {
                continue;
            };
            if let Ok(relative) = path.strip_prefix(sweep_dir) {
                found.insert((result.scenario, result.seed), relative.to_path_buf());
            }
        }
    }
    found
}

fn link(relative: &Path) -> String {
    relative
        .components()
        .map(|c| escape(&c.as_os_str().to_string_lossy()))
        .collect::<Vec<_>>()
        .join("/")
}

/// The HTML report of one sweep directory.
pub fn sweep_report(sweep_dir: &Path) -> Result<String, String> {
    let summary_path = sweep_dir.join("summary.json");
    let sweep: SweepFile = serde_json::from_str(&read(&summary_path)?)
        .map_err(|error| format!("{}: not a sweep summary: {error}", summary_path.display()))?;
    let dirs = seed_dirs(sweep_dir);
    let verdict = if sweep.failed == 0 {
        "pass"
    } else {
        "failures"
    };
    let mut body = String::new();
    let names: Vec<&str> = sweep
        .scenarios
        .iter()
        .map(|s| s.scenario.as_str())
        .collect();
    let _ = write!(
        body,
        "<h1>sweep of {} {}</h1>",
        escape(&names.join(", ")),
        verdict_badge(verdict)
    );
    let overall = vec![
        ("seeds".to_string(), sweep.seeds.to_string()),
        ("passed".to_string(), sweep.passed.to_string()),
        ("failed".to_string(), sweep.failed.to_string()),
        (
            "elapsed (wall-clock s)".to_string(),
            format!("{:.2}", sweep.elapsed_seconds),
        ),
        ("seeds/s".to_string(), format!("{:.1}", sweep.seeds_per_sec)),
        ("sweep hash".to_string(), sweep.sweep_hash.clone()),
        (
            "determinism rechecked".to_string(),
            sweep.determinism_rechecked.to_string(),
        ),
        (
            "determinism mismatches".to_string(),
            sweep.determinism_mismatches.to_string(),
        ),
    ];
    body.push_str("<div class=\"tables\">");
    body.push_str(&key_value_table("sweep", &overall));
    body.push_str(&key_value_table(
        "faults fired (all scenarios)",
        &counts_rows(&sweep.fault_counts),
    ));
    body.push_str("</div>");
    if let Some(chart) =
        charts::bars_by_kind(&sweep.fault_counts, "faults fired by kind", "faults fired")?
    {
        let _ = write!(body, "<div class=\"chart\">{chart}</div>");
    }
    for scenario in &sweep.scenarios {
        let _ = write!(
            body,
            "<h2>{} {}</h2>",
            escape(&scenario.scenario),
            verdict_badge(if scenario.failed == 0 {
                "pass"
            } else {
                "failures"
            })
        );
        let facts = vec![
            ("protocol".to_string(), scenario.protocol.clone()),
            (
                "mutant".to_string(),
                scenario.mutant.clone().unwrap_or_else(|| "none".into()),
            ),
            ("swarm".to_string(), scenario.swarm.to_string()),
            (
                "seeds".to_string(),
                format!(
                    "{}..{} (shard {}), {} run",
                    scenario.seed_first, scenario.seed_last, scenario.shard, scenario.seeds
                ),
            ),
            (
                "seeds with faults".to_string(),
                scenario.seeds_with_faults.to_string(),
            ),
            ("events".to_string(), scenario.events.to_string()),
            (
                "simulated time (s)".to_string(),
                format!("{:.1}", scenario.sim_time_us as f64 / 1e6),
            ),
            (
                "stopped early".to_string(),
                scenario.stopped_early.to_string(),
            ),
        ];
        body.push_str("<div class=\"tables\">");
        body.push_str(&key_value_table("scenario", &facts));
        body.push_str(&key_value_table(
            "verdicts",
            &counts_rows(&scenario.verdicts),
        ));
        body.push_str(&key_value_table(
            "failing properties",
            &counts_rows(&scenario.properties_violated),
        ));
        body.push_str(&key_value_table(
            "fault kinds fired",
            &counts_rows(&scenario.fault_counts),
        ));
        if scenario.clients.ops_invoked > 0 {
            body.push_str(&key_value_table("clients", &client_rows(&scenario.clients)));
        }
        if !scenario.protocol_metrics.is_empty() {
            body.push_str(&key_value_table(
                "protocol metrics (sum, max, mean over seeds)",
                &protocol_metric_rows(&scenario.protocol_metrics),
            ));
        }
        body.push_str("</div>");
        if scenario.failures.is_empty() {
            continue;
        }
        let _ = write!(
            body,
            "<h3>Failures ({} of {} listed)</h3><table><tr><th>seed</th><th>verdict</th><th>property</th><th>detail</th><th>repro</th><th>run</th></tr>",
            scenario.failures.len(),
            scenario.failed
        );
        for failure in &scenario.failures {
            let run = match dirs.get(&(scenario.scenario.clone(), failure.seed)) {
                Some(relative) if sweep_dir.join(relative).join("report.html").is_file() => {
                    format!("<a href=\"{}/report.html\">report</a>", link(relative))
                }
                Some(relative) => format!("<a href=\"{}/\">run dir</a>", link(relative)),
                None => String::new(),
            };
            let _ = write!(
                body,
                "<tr><td class=\"number\">{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td class=\"link\">{run}</td></tr>",
                failure.seed,
                failure.verdict.name(),
                escape(failure.property.as_deref().unwrap_or("-")),
                escape(failure.detail.as_deref().unwrap_or("")),
                escape(&failure.repro)
            );
        }
        body.push_str("</table>");
    }
    if sweep.scenarios.is_empty() && !sweep.failures.is_empty() {
        body.push_str(
            "<h2>Failures</h2><table><tr><th>seed</th><th>property</th><th>repro</th></tr>",
        );
        for failure in &sweep.failures {
            let _ = write!(
                body,
                "<tr><td class=\"number\">{}</td><td>{}</td><td><code>{}</code></td></tr>",
                failure.seed,
                escape(failure.property.as_deref().unwrap_or("-")),
                escape(&failure.repro)
            );
        }
        body.push_str("</table>");
    }
    Ok(page(
        &format!("quorumlab sweep: {}", names.join(", ")),
        &body,
    ))
}

/// A sweep scenario's client figures, summed over its seeds.
fn protocol_metric_rows(totals: &sim_core::meter::MetricTotals) -> Vec<(String, String)> {
    totals
        .iter()
        .map(|(name, total)| {
            let mean = total.sum.checked_div(total.seeds).unwrap_or(0);
            (
                name.clone(),
                format!("{}, {}, {mean}", total.sum, total.max),
            )
        })
        .collect()
}

fn client_rows(clients: &sim_core::stats::ClientTotals) -> Vec<(String, String)> {
    let ms = |us: u64| format!("{:.1}", us as f64 / 1e3);
    vec![
        (
            "operations ok / invoked".to_string(),
            format!("{} / {}", clients.ops_ok, clients.ops_invoked),
        ),
        (
            "failed / unknown".to_string(),
            format!("{} / {}", clients.ops_failed, clients.ops_unknown),
        ),
        (
            "throughput (ok ops per simulated s)".to_string(),
            format!("{:.1}", clients.throughput_ops_per_sec),
        ),
        (
            "latency p50 / p99 / max (ms)".to_string(),
            format!(
                "{} / {} / {}",
                ms(clients.latency_us_p50),
                ms(clients.latency_us_p99),
                ms(clients.latency_us_max)
            ),
        ),
        (
            "messages per committed op".to_string(),
            format!("{:.2}", clients.messages_per_committed_op),
        ),
        (
            "leader changes".to_string(),
            clients.leader_changes.to_string(),
        ),
        (
            "unavailability windows (total, longest ms)".to_string(),
            format!(
                "{} ({}, {})",
                clients.unavailability_windows,
                ms(clients.unavailable_us),
                ms(clients.longest_unavailable_us)
            ),
        ),
    ]
}
