//! `quorumlab bench`: the simulator's speed, measured in one process. The CLI may read
//! the wall clock (only sim-core and protocols may not), and this is where it does.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sim_core::result::LiveState;
use sim_core::scenario::{Scenario, SeedRange};
use sim_core::sweep::{self, Shard, SweepOptions};

use crate::commands::{default_jobs, prepare, prepare_scenario};
use crate::{to_json_pretty, CliError, EXIT_PASS};

/// Wall-clock timing for the CLI's own reports.
pub struct Stopwatch(Instant);

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch(Instant::now())
    }
    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

#[derive(Debug, Serialize)]
pub struct BenchReport {
    pub bare_loop_events_per_sec: f64,
    pub raft_events_per_sec: f64,
    pub ratio: f64,
    /// One core: seeds of the scenario per second.
    pub seeds_per_sec: f64,
    /// All cores.
    pub seeds_per_sec_all_cores: f64,
    pub cores: usize,
    pub scenario: String,
    pub seeds: u64,
    pub raft_events_per_seed: f64,
}

/// The bare loop: the same simulator (queue, network, RNG streams, clients, checking
/// hooks) running a protocol whose step does almost nothing, on the benchmark
/// scenario's network and duration.
fn bare_scenario(raft: &Scenario) -> Result<Scenario, CliError> {
    let mut source = String::from("protocol = \"pingpong\"\n");
    source.push_str(&format!(
        "nodes = {}\nduration_ms = {}\n",
        raft.file.nodes, raft.file.duration_ms
    ));
    source.push_str("[network]\nlatency = { dist = \"uniform\", min_us = 1000, max_us = 5000 }\n");
    Ok(Scenario::parse(Path::new("<bench: pingpong>"), source)?)
}

fn events_per_sec(runner: &dyn sim_core::runner::Runner, seeds: u64) -> (f64, f64) {
    let clock = Stopwatch::start();
    let mut events = 0;
    for seed in 1..=seeds {
        events += runner.run(seed, false).result.metrics.events;
    }
    (
        events as f64 / clock.seconds(),
        events as f64 / seeds as f64,
    )
}

pub fn bench(json_output: bool, seeds: u64, scenario_path: &Path) -> Result<i32, CliError> {
    sim_core::panics::install_quiet_hook();
    let seeds = seeds.max(1);
    let raft = prepare(scenario_path, None, false)?;
    let bare = prepare_scenario(&bare_scenario(raft.scenario())?, None, false)?;
    // Warm up caches and the allocator before measuring.
    bare.run(0, false);
    raft.run(0, false);
    let (bare_eps, _) = events_per_sec(bare.as_ref(), seeds * 4);
    let (raft_eps, raft_events_per_seed) = events_per_sec(raft.as_ref(), seeds);
    let sweep_rate = |jobs: usize| {
        let options = SweepOptions {
            seeds: SeedRange {
                first: 1,
                last: seeds * jobs as u64,
            },
            jobs,
            shard: Shard::WHOLE,
            fail_fast: false,
            recheck_one_in: 0,
            failures_kept_max: 0,
        };
        let clock = Stopwatch::start();
        let summary = sweep::sweep(raft.as_ref(), &options, &|_, _| {});
        summary.seeds as f64 / clock.seconds()
    };
    let cores = default_jobs();
    let report = BenchReport {
        bare_loop_events_per_sec: bare_eps,
        raft_events_per_sec: raft_eps,
        ratio: raft_eps / bare_eps,
        seeds_per_sec: sweep_rate(1),
        seeds_per_sec_all_cores: sweep_rate(cores),
        cores,
        scenario: scenario_path.display().to_string(),
        seeds,
        raft_events_per_seed,
    };
    if json_output {
        print!("{}", to_json_pretty(&report));
    } else {
        println!(
            "bare loop:   {:>12.0} events/s (pingpong, same simulator)",
            report.bare_loop_events_per_sec
        );
        println!(
            "raft:        {:>12.0} events/s ({}, invariants on, {:.0} events/seed)",
            report.raft_events_per_sec, report.scenario, report.raft_events_per_seed
        );
        println!("ratio:       {:>12.3}   (goal >= 0.33)", report.ratio);
        println!(
            "sweep:       {:>12.1} seeds/s on 1 core (goal >= 12), {:.1} seeds/s on {} cores",
            report.seeds_per_sec, report.seeds_per_sec_all_cores, report.cores
        );
    }
    Ok(EXIT_PASS)
}

/// One set of histories timed by `bench lincheck`.
#[derive(Debug, Serialize)]
pub struct LincheckSet {
    pub set: &'static str,
    pub files: usize,
    /// Best of the rounds: parse + check of every file in the set.
    pub best_ms: f64,
    pub linearizable: usize,
    pub not_linearizable: usize,
    pub model_steps: u64,
    /// Porcupine's time for the same set on this kind of machine (from the issue), if known.
    pub porcupine_ms: Option<f64>,
}

/// The sets: (label, files relative to the histories folder, Porcupine's time in ms).
const LINCHECK_SETS: [(&str, &str, Option<f64>); 4] = [
    ("etcd (porcupine/jepsen)", "porcupine/jepsen", Some(900.0)),
    ("c50-ok by key", "porcupine/kv/c50-ok.txt", Some(400.0)),
    ("c50-bad by key", "porcupine/kv/c50-bad.txt", None),
    ("c10-ok by key", "porcupine/kv/c10-ok.txt", None),
];

/// `quorumlab bench lincheck`: the checker's speed on the public histories.
pub fn bench_lincheck(json_output: bool, histories: &Path, rounds: usize) -> Result<i32, CliError> {
    use sim_core::lincheck::{check_text, Budget, Verdict};
    if !histories.is_dir() {
        return Err(CliError::BadInput(format!(
            "{}: no such folder\n  fix: pass --histories DIR, the folder holding porcupine/jepsen and porcupine/kv",
            histories.display()
        )));
    }
    let rounds = rounds.max(1);
    let mut results = Vec::new();
    for (set, relative, porcupine_ms) in LINCHECK_SETS {
        let files = read_histories(&histories.join(relative))?;
        let mut best_ms = f64::INFINITY;
        let (mut linearizable, mut not_linearizable, mut model_steps) = (0, 0, 0);
        for _ in 0..rounds {
            let clock = Stopwatch::start();
            (linearizable, not_linearizable, model_steps) = (0, 0, 0);
            for (name, text) in &files {
                let verdict = check_text(name, text, None, Budget::default())
                    .map_err(|error| CliError::BadInput(format!("{name}: {error}")))?;
                match verdict.verdict() {
                    Verdict::Linearizable => linearizable += 1,
                    Verdict::NotLinearizable => not_linearizable += 1,
                    Verdict::Unknown => {
                        return Err(CliError::Internal(format!(
                            "{name}: the checker's budget ran out"
                        )))
                    }
                }
                model_steps += verdict.report.steps;
            }
            best_ms = best_ms.min(clock.seconds() * 1e3);
        }
        results.push(LincheckSet {
            set,
            files: files.len(),
            best_ms,
            linearizable,
            not_linearizable,
            model_steps,
            porcupine_ms,
        });
    }
    if json_output {
        print!("{}", to_json_pretty(&results));
        return Ok(EXIT_PASS);
    }
    for result in &results {
        let versus = result.porcupine_ms.map_or(String::new(), |porcupine| {
            format!(
                "  Porcupine {porcupine:.0} ms: {:.1}x faster",
                porcupine / result.best_ms
            )
        });
        println!(
            "{:<24} {:>3} files {:>9.2} ms  ({} linearizable, {} not, {} model steps; best of {rounds}){versus}",
            result.set,
            result.files,
            result.best_ms,
            result.linearizable,
            result.not_linearizable,
            result.model_steps
        );
    }
    Ok(EXIT_PASS)
}

/// The non-empty history files at `path` (a file, or every file in a folder), sorted.
fn read_histories(path: &Path) -> Result<Vec<(String, String)>, CliError> {
    let mut paths = if path.is_dir() {
        std::fs::read_dir(path)
            .and_then(|entries| entries.map(|entry| entry.map(|e| e.path())).collect())
            .map_err(|error| CliError::BadInput(format!("{}: {error}", path.display())))?
    } else {
        vec![path.to_path_buf()]
    };
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .map_err(|error| CliError::BadInput(format!("{}: {error}", path.display())))?;
        if !text.trim().is_empty() {
            files.push((path.display().to_string(), text));
        }
    }
    Ok(files)
}

/// `quorumlab bench shrink --dir DIR`: for every scenario in DIR, shrink its failing seeds
/// in order until one shrinks to at most 10 faults plus client operations (at most
/// `SEEDS_MAX` seeds), and print each shrink's sizes before and after and its time.
pub fn bench_shrink(
    json_output: bool,
    dir: &Path,
    limits: crate::shrink::Limits,
) -> Result<i32, CliError> {
    const SEEDS_MAX: usize = 4;
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|error| CliError::BadInput(format!("{}: {error}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let out_dir =
        std::env::temp_dir().join(format!("quorumlab-bench-shrink-{}", std::process::id()));
    let mut rows = Vec::new();
    for path in &paths {
        let reports = crate::shrink::shrink_failures(path, limits, SEEDS_MAX, &out_dir)?;
        for report in reports {
            if !json_output {
                print_shrink_row(path, &report);
            }
            rows.push(
                serde_json::json!({"scenario": path.display().to_string(), "shrink": report}),
            );
        }
    }
    if json_output {
        print!("{}", to_json_pretty(&rows));
    } else {
        println!(
            "shrunk scenarios and their traced runs are in {}",
            out_dir.display()
        );
    }
    Ok(EXIT_PASS)
}

fn print_shrink_row(path: &Path, report: &crate::shrink::ShrinkReport) {
    let (before, after) = (&report.before, &report.after);
    println!(
        "{:<26} seed {:>3}  faults {:>3} -> {:<3} client ops {:>3} -> {:<3} (total {:>2})  events {:>6} -> {:<6} sim {:>8} -> {:<8} us  tape {:>5}  {:>6} attempts  {:>5.1} s{}",
        path.file_stem().unwrap_or_default().to_string_lossy(),
        report.seed,
        before.faults,
        after.faults,
        before.client_ops,
        after.client_ops,
        after.faults + after.client_ops,
        before.events,
        after.events,
        before.sim_time_us,
        after.sim_time_us,
        report.tape_entries,
        report.attempts,
        report.seconds,
        match report.stopped_by {
            crate::shrink::StoppedBy::Finished => "",
            crate::shrink::StoppedBy::MaxAttempts => "  (attempt bound reached)",
            crate::shrink::StoppedBy::WallClockBudget => "  (wall-clock budget reached)",
        }
    );
}

/// One run of `bench long-runs`, measured in a child process of its own.
#[derive(Debug, Serialize, Deserialize)]
pub struct LongRun {
    pub scenario: String,
    pub simulated_s: u64,
    pub events: u64,
    pub wall_s: f64,
    pub us_per_event: f64,
    /// This run's time per event over the shortest run's of the same scenario.
    pub cost_per_event_vs_shortest: f64,
    /// The child process's peak resident memory (Linux's VmHWM): this run's alone.
    pub peak_rss_mb: Option<f64>,
    /// What the run held at its end: log entries, ghost entries, queue, trace, history.
    pub live: LiveState,
    /// `history.json`'s size.
    pub history_bytes: usize,
}

/// The scenario `source` with `duration_ms` replaced and budgets raised to fit it.
fn lengthened(source: &str, duration_s: u64) -> Result<Scenario, CliError> {
    let mut text = String::new();
    let mut replaced = false;
    for line in source.lines() {
        // The top-level `duration_ms` comes before any table (the nemesis has its own).
        if !replaced && line.starts_with("duration_ms") {
            replaced = true;
            text.push_str(&format!("duration_ms = {}\n", duration_s * 1000));
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    text.push_str(&format!(
        "\n[budget]\nmax_events = 100000000\nmax_sim_ms = {}\n",
        (duration_s + 60) * 1000
    ));
    Ok(Scenario::parse(
        Path::new(&format!("<bench: {duration_s} s>")),
        text,
    )?)
}

/// `source` compacting its log every 100 entries: the line goes into its `[params]`
/// table, or a new one.
fn with_snapshots(source: &str) -> String {
    const LINE: &str = "snapshot_every = 100";
    match source.lines().position(|line| line.trim() == "[params]") {
        Some(at) => {
            let mut lines: Vec<&str> = source.lines().collect();
            lines.insert(at + 1, LINE);
            lines.join("\n") + "\n"
        }
        None => format!("{source}\n[params]\n{LINE}\n"),
    }
}

/// Peak resident set size of this process (Linux's VmHWM), in MiB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A kv cluster whose clients mostly append to one key: every get returns the key's
/// whole value, which is what made histories grow with the square of their length.
const KV_APPENDS: &str = "protocol = \"kv\"\nnodes = 3\nduration_ms = 10000\n\
[params]\nkeys = 1\nget_weight = 1\nput_weight = 0\nappend_weight = 1\ncas_weight = 0\n\
[network]\nlatency = { dist = \"uniform\", min_us = 1000, max_us = 3000 }\n\
[workload]\nclients = 4\ninterval_ms = [5, 20]\ntimeout_ms = 400\n";

/// A day of a quiet 3-node Raft cluster: one client, now and then a crash or a partition.
/// With `snapshot_every` the log stays bounded however long the run (§7); `{SNAPSHOTS}` is
/// replaced by the `[params]` line.
const RAFT_DAY: &str = "protocol = \"raft\"\nnodes = 3\nduration_ms = 10000\n\
[params]\n{SNAPSHOTS}\n\
[network]\nlatency = { dist = \"uniform\", min_us = 1000, max_us = 5000 }\n\
[nemesis]\nkinds = [\"crash\", \"partition\"]\ninterval_ms = [20000, 60000]\nduration_ms = [500, 5000]\n\
[workload]\nclients = 1\ninterval_ms = [200, 1000]\ntimeout_ms = 1000\n";

/// The runs of `bench long-runs`: (label, scenario text, simulated seconds, traced).
/// The traced runs are the re-run a sweep makes of a failing seed, at two lengths.
fn long_run_plan(nemesis: &str) -> Vec<(&'static str, String, u64, bool)> {
    let day_snapshots = RAFT_DAY.replace("{SNAPSHOTS}", "snapshot_every = 100");
    let day_whole_log = RAFT_DAY.replace("{SNAPSHOTS}", "snapshot_every = 0");
    let nemesis_snapshots = with_snapshots(nemesis);
    let mut plan = Vec::new();
    for seconds in [100, 1000, 3600] {
        plan.push(("nemesis, whole log", nemesis.to_string(), seconds, false));
    }
    for seconds in [100, 1000, 3600] {
        plan.push((
            "nemesis, snapshots",
            nemesis_snapshots.clone(),
            seconds,
            false,
        ));
    }
    for seconds in [8640, 86400] {
        plan.push(("day, snapshots", day_snapshots.clone(), seconds, false));
    }
    for seconds in [8640, 86400] {
        plan.push(("day, whole log", day_whole_log.clone(), seconds, false));
    }
    plan.push(("nemesis traced", nemesis.to_string(), 40, true));
    plan.push(("nemesis traced", nemesis.to_string(), 400, true));
    plan.push(("kv appends", KV_APPENDS.to_string(), 30, false));
    plan.push(("kv appends", KV_APPENDS.to_string(), 120, false));
    plan
}

/// `quorumlab bench long-runs --child N`: run the plan's N-th entry in this process (a
/// child of `bench long-runs`, so that its peak RSS is its own) and print it as JSON.
pub fn long_run_child(scenario_path: &Path, index: usize) -> Result<i32, CliError> {
    sim_core::panics::install_quiet_hook();
    let plan = long_run_plan(&read_scenario(scenario_path)?);
    let Some((label, text, seconds, traced)) = plan.into_iter().nth(index) else {
        return Err(CliError::Internal(format!(
            "bench long-runs: no run {index}"
        )));
    };
    let runner = prepare_scenario(&lengthened(&text, seconds)?, None, false)?;
    let clock = Stopwatch::start();
    let output = runner.run(1, traced);
    let wall_s = clock.seconds();
    if output.result.verdict.is_failure() {
        return Err(CliError::Internal(format!(
            "bench long-runs: {label} {seconds} s failed: {:?} {:?}",
            output.result.property, output.result.detail
        )));
    }
    let events = output.result.metrics.events;
    let run = LongRun {
        scenario: label.to_string(),
        simulated_s: seconds,
        events,
        wall_s,
        us_per_event: wall_s * 1e6 / events.max(1) as f64,
        cost_per_event_vs_shortest: 1.0,
        // Before the history is serialised: the run's own peak.
        peak_rss_mb: peak_rss_mb(),
        live: output.live,
        history_bytes: serde_json::to_vec(&output.history).map_or(0, |bytes| bytes.len()),
    };
    println!(
        "{}",
        serde_json::to_string(&run).map_err(|e| CliError::Internal(e.to_string()))?
    );
    Ok(EXIT_PASS)
}

fn read_scenario(path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|error| CliError::BadInput(format!("{}: {error}", path.display())))
}

/// `quorumlab bench long-runs`: each run in a child process (`--child N`), so each peak
/// RSS is that run's alone. The scenario (the nemesis) for 100 s, 1,000 s and 3,600 s of
/// simulated time with its whole log and with snapshots every 100 entries; a quiet
/// cluster for a tenth of a day and a day, with and without snapshots; a traced nemesis
/// run at two lengths; kv appends to one key at two lengths.
pub fn bench_long_runs(json_output: bool, scenario_path: &Path) -> Result<i32, CliError> {
    let plan = long_run_plan(&read_scenario(scenario_path)?);
    let exe = std::env::current_exe().map_err(|error| CliError::Internal(error.to_string()))?;
    let mut runs: Vec<LongRun> = Vec::new();
    for index in 0..plan.len() {
        let output = std::process::Command::new(&exe)
            .args([
                "bench",
                "long-runs",
                "--child",
                &index.to_string(),
                "--scenario",
            ])
            .arg(scenario_path)
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|error| CliError::Internal(format!("bench long-runs: {error}")))?;
        if !output.status.success() {
            return Err(CliError::Internal(format!(
                "bench long-runs: run {index} exited with {}",
                output.status
            )));
        }
        let mut run: LongRun = serde_json::from_slice(&output.stdout).map_err(|error| {
            CliError::Internal(format!("bench long-runs: run {index}: {error}"))
        })?;
        if let Some(shortest) = runs
            .iter()
            .find(|shortest| shortest.scenario == run.scenario)
        {
            run.cost_per_event_vs_shortest = run.us_per_event / shortest.us_per_event;
        }
        if !json_output {
            print_long_run(&run);
        }
        runs.push(run);
    }
    if json_output {
        print!("{}", to_json_pretty(&runs));
        return Ok(EXIT_PASS);
    }
    println!(
        "goal: µs/event within 1.5x across lengths; with snapshots, log entries, ghost \
         entries and queue flat across lengths (peak RSS then grows only with the history, \
         which a run keeps whole); without, log and ghost entries linear in the run"
    );
    Ok(EXIT_PASS)
}

fn print_long_run(run: &LongRun) {
    let live = &run.live;
    println!(
        "{:<19} {:>5} s  {:>9} events {:>7.2} s {:>6.2} µs/event x{:<5.2} peak RSS {:>6}  log entries {:>7} (peak {:>7})  ghost {:>7}  queue {:>4}  history {:>6} ops {:>9} B{}",
        run.scenario,
        run.simulated_s,
        run.events,
        run.wall_s,
        run.us_per_event,
        run.cost_per_event_vs_shortest,
        run.peak_rss_mb.map_or("?".to_string(), |mb| format!("{mb:.0} MiB")),
        live.state_items,
        live.state_items_peak,
        live.ghost_items,
        live.queue_events,
        live.history_ops,
        run.history_bytes,
        match live.trace_bytes {
            0 => String::new(),
            bytes => format!(
                "  trace {bytes} B ({:.0} per event)",
                bytes as f64 / run.events.max(1) as f64
            ),
        }
    );
}
