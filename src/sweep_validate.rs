//! `sweep --validate-trace N`: a sweep checks the traces of N of its seeds against
//! `tla/Raft.tla` or `tla/Paxos.tla` (as `quorumlab tlc --validate-trace` does one run), so a sweep in CI
//! also checks the implementation against the spec.
//!
//! The sample is deterministic: N seeds evenly spaced over the seeds this shard runs
//! (the first, then every (count / N)-th), the same whatever `--jobs`. Each sampled seed
//! is re-run with its trace into `DIR/<scenario>/seed-<N>/` (a run directory, as failing
//! seeds get), validated there (`tlc-validate/` beside the trace) with its verdict in
//! `trace-validation.json`; the verdicts also go into `summary.json`. A rejected trace
//! fails the sweep (exit 1), naming the seed and the trace line.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use quorumlab_tla::trace::{validate_trace, Validation, HAS_SPEC};
use quorumlab_tla::window::Options;
use serde::Serialize;
use sim_core::runner::Runner;
use sim_core::scenario::SeedRange;
use sim_core::sweep::Shard;

use crate::commands::write_run_dir;
use crate::{to_json_pretty, write_file, CliError};

/// One sampled seed's verdict, as `summary.json` lists it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct SeedValidation {
    pub scenario: String,
    pub seed: u64,
    pub valid: bool,
    pub events: usize,
    pub windows: usize,
    /// The first event the spec cannot take: its position among the validated events,
    /// its line of trace.ndjson, the simulator event and node, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected: Option<RejectedAt>,
    pub tlc_ms: u64,
    /// The seed's run directory, which holds the trace and the generated spec.
    pub run_dir: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct RejectedAt {
    pub position: usize,
    pub line: usize,
    pub event: String,
    pub node: u32,
    pub reason: String,
}

/// Refuses `--validate-trace` up front (before any seed runs) when some scenario's
/// protocol has no spec, or when TLC cannot run here.
pub fn check_available(runners: &[Box<dyn Runner>]) -> Result<(), CliError> {
    for runner in runners {
        let scenario = runner.scenario();
        if !HAS_SPEC.contains(&scenario.file.protocol.as_str()) {
            return Err(CliError::BadInput(format!(
                "{}: protocol `{}`: --validate-trace needs a TLA+ spec, and there is one for \
                 raft (tla/Raft.tla) and paxos (tla/Paxos.tla) only; fix: sweep the other \
                 scenarios without --validate-trace",
                scenario.path.display(),
                scenario.file.protocol
            )));
        }
    }
    let cannot = |why: String| {
        CliError::BadInput(format!(
            "--validate-trace needs TLC, which cannot run here: {why}"
        ))
    };
    quorumlab_tla::tlc::check_java().map_err(cannot)?;
    quorumlab_tla::tlc::locate_or_install_jar(Path::new(".")).map_err(cannot)?;
    Ok(())
}

/// `count` seeds evenly spaced over the seeds `shard` runs of `range` (all of them when
/// there are fewer).
pub fn sample(range: SeedRange, shard: Shard, count: u64) -> Vec<u64> {
    let total = shard.seed_count(range);
    let count = count.min(total);
    let seeds: Vec<u64> = shard.seeds(range).collect();
    (0..count)
        .map(|k| seeds[(k * total / count) as usize])
        .collect()
}

/// Runs each of `seeds` with its trace into `out/seed-<N>/` and validates it, `jobs` at
/// a time; the verdicts in seed order.
pub fn validate_seeds(
    runner: &dyn Runner,
    seeds: &[u64],
    out: &Path,
    jobs: usize,
) -> Result<Vec<SeedValidation>, CliError> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<SeedValidation, CliError>>>> =
        Mutex::new(seeds.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, seeds.len().max(1)) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&seed) = seeds.get(k) else { break };
                let verdict = validate_seed(runner, seed, out);
                results.lock().expect("not poisoned")[k] = Some(verdict);
            });
        }
    });
    results
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .map(|verdict| verdict.expect("every sampled seed was validated"))
        .collect()
}

fn validate_seed(runner: &dyn Runner, seed: u64, out: &Path) -> Result<SeedValidation, CliError> {
    let output = runner.run(seed, true);
    let dir = out.join(format!("seed-{seed}"));
    write_run_dir(&dir, runner, &output)?;
    let options = Options {
        jobs: 1,
        ..Options::default()
    };
    let validation: Validation = validate_trace(&dir, &output.result, runner.scenario(), options)
        .map_err(|error| match error {
        quorumlab_tla::Error::BadInput(message) => {
            CliError::BadInput(format!("--validate-trace, seed {seed}: {message}"))
        }
        quorumlab_tla::Error::Internal(message) => {
            CliError::Internal(format!("--validate-trace, seed {seed}: {message}"))
        }
    })?;
    write_file(
        &dir.join("trace-validation.json"),
        to_json_pretty(&validation),
    )?;
    Ok(SeedValidation {
        scenario: runner.scenario().path.display().to_string(),
        seed,
        valid: validation.valid,
        events: validation.events,
        windows: validation.windows,
        rejected: validation.rejected.as_ref().map(|rejection| RejectedAt {
            position: rejection.position,
            line: rejection.event.line,
            event: rejection.event.event.clone(),
            node: rejection.event.node,
            reason: rejection.reason(),
        }),
        tlc_ms: validation.tlc_ms,
        run_dir: dir.display().to_string(),
    })
}

/// One line per sampled seed; a rejection names the trace line and how to see it.
pub fn print_verdicts(verdicts: &[SeedValidation]) {
    let valid = verdicts.iter().filter(|verdict| verdict.valid).count();
    println!(
        "trace validation: {valid} of {} sampled seeds valid against their TLA+ spec",
        verdicts.len()
    );
    for verdict in verdicts {
        match &verdict.rejected {
            None => println!(
                "  seed {}: valid ({} events, {} windows, {:.1} s)",
                verdict.seed,
                verdict.events,
                verdict.windows,
                verdict.tlc_ms as f64 / 1e3
            ),
            Some(rejected) => println!(
                "  seed {}: REJECTED at event {} of {} (trace.ndjson line {}, n{} {}); see \
                 `quorumlab tlc --validate-trace {}`",
                verdict.seed,
                rejected.position,
                verdict.events,
                rejected.line,
                rejected.node,
                rejected.event,
                verdict.run_dir
            ),
        }
    }
}
