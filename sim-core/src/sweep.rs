//! Sweeps: one scenario over many seeds, in parallel, sharded across machines.
//!
//! Each seed's result is independent of which thread or shard ran it. The sweep hash is
//! an order-independent sum over seeds of `mix(seed, trace_hash)`, so it is the same for
//! any `--jobs`, it is computed without keeping per-seed results (memory stays flat in
//! the number of seeds), and shard hashes add up to the whole sweep's.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::hash::{hex, mix64};
use crate::meter::MetricTotals;
use crate::result::{RunOutput, Verdict};
use crate::runner::Runner;
use crate::scenario::SeedRange;
use crate::stats::ClientTotals;

/// `--shard K/N`: this machine runs the seeds whose position in the range is K-1 mod N.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    pub fn parse(text: &str) -> Result<Shard, String> {
        let (index, count) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not K/N"))?;
        let index: u64 = index
            .trim()
            .parse()
            .map_err(|_| format!("`{index}` is not a shard number"))?;
        let count: u64 = count
            .trim()
            .parse()
            .map_err(|_| format!("`{count}` is not a shard count"))?;
        if count == 0 || index == 0 || index > count {
            return Err(format!("shard {index}/{count}: need 1 <= K <= N"));
        }
        Ok(Shard { index, count })
    }

    /// The seeds of `range` this shard runs, in order.
    pub fn seeds(self, range: SeedRange) -> impl Iterator<Item = u64> + Clone {
        (range.first + self.index - 1..=range.last).step_by(self.count as usize)
    }

    pub fn seed_count(self, range: SeedRange) -> u64 {
        let offset = self.index - 1;
        if range.len() <= offset {
            0
        } else {
            (range.len() - offset).div_ceil(self.count)
        }
    }
}

#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub seeds: SeedRange,
    pub jobs: usize,
    pub shard: Shard,
    pub fail_fast: bool,
    /// Re-run about one seed in this many and compare trace hashes (0 = never).
    pub recheck_one_in: u64,
    /// Keep at most this many failures in the summary (all are counted).
    pub failures_kept_max: usize,
}

/// One failing seed, as `summary.json` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureEntry {
    pub seed: u64,
    pub verdict: Verdict,
    pub property: Option<String>,
    pub detail: Option<String>,
    pub repro: String,
}

/// `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSummary {
    pub scenario: String,
    pub protocol: String,
    pub mutant: Option<String>,
    pub swarm: bool,
    pub seed_first: u64,
    pub seed_last: u64,
    pub shard: String,
    /// Seeds this sweep ran.
    pub seeds: u64,
    pub passed: u64,
    pub failed: u64,
    pub verdicts: BTreeMap<String, u64>,
    pub properties_violated: BTreeMap<String, u64>,
    pub failures: Vec<FailureEntry>,
    /// Faults that actually fired, by kind, summed over seeds.
    pub fault_counts: BTreeMap<String, u64>,
    /// Seeds in which at least one fault fired.
    pub seeds_with_faults: u64,
    pub events: u64,
    pub sim_time_us: u64,
    pub sweep_hash: String,
    /// Seeds re-run to prove determinism, and how many differed (must be 0).
    pub determinism_rechecked: u64,
    pub determinism_mismatches: Vec<u64>,
    /// True if `--fail-fast` stopped the sweep early.
    pub stopped_early: bool,
    /// True if the sweep was interrupted (SIGINT) before every seed ran: resume it with
    /// the same command and `--resume`.
    #[serde(default)]
    pub interrupted: bool,
    /// Seeds counted from the journal of an earlier, interrupted run (`--resume`).
    #[serde(default)]
    pub resumed_seeds: u64,
    /// Client latency, throughput, cost and availability over every seed.
    #[serde(default)]
    pub clients: ClientTotals,
    /// The protocol's own figures (`crate::meter`), summed over seeds.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub protocol_metrics: MetricTotals,
}

#[derive(Default)]
struct Tally {
    seeds: u64,
    passed: u64,
    failed: u64,
    verdicts: BTreeMap<&'static str, u64>,
    properties: BTreeMap<String, u64>,
    failures: Vec<FailureEntry>,
    fault_counts: BTreeMap<String, u64>,
    seeds_with_faults: u64,
    events: u64,
    sim_time_us: u64,
    hash_sum: u64,
    rechecked: u64,
    mismatches: Vec<u64>,
    clients: ClientTotals,
    protocol_metrics: MetricTotals,
}

/// A seed's contribution to the sweep hash.
pub fn seed_hash(seed: u64, trace_hash: &str) -> u64 {
    let trace = u64::from_str_radix(trace_hash, 16).expect("trace hashes are hex");
    mix64(seed ^ mix64(trace))
}

/// One seed's contribution to a sweep: everything `summary.json` sums over seeds. A
/// sweep's journal holds one per finished seed, so a resumed sweep adds the journal's
/// records instead of re-running those seeds and ends with the same summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedRecord {
    pub seed: u64,
    pub verdict: Verdict,
    pub property: Option<String>,
    pub detail: Option<String>,
    pub repro: String,
    pub trace_hash: String,
    pub events: u64,
    pub time_us: u64,
    pub faults_fired: BTreeMap<String, u64>,
    /// The seed was re-run to prove determinism, and whether its hash differed.
    pub rechecked: bool,
    pub mismatch: bool,
    pub clients: ClientTotals,
    /// The run's protocol metrics (`metrics.protocol`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub protocol_metrics: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, record: &SeedRecord, failures_kept_max: usize) {
        self.seeds += 1;
        self.events += record.events;
        self.sim_time_us += record.time_us;
        self.clients.merge(&record.clients);
        crate::meter::add_run(&mut self.protocol_metrics, &record.protocol_metrics);
        self.hash_sum = self
            .hash_sum
            .wrapping_add(seed_hash(record.seed, &record.trace_hash));
        *self.verdicts.entry(record.verdict.name()).or_insert(0) += 1;
        if record.rechecked {
            self.rechecked += 1;
        }
        if record.mismatch {
            self.mismatches.push(record.seed);
        }
        if !record.faults_fired.is_empty() {
            self.seeds_with_faults += 1;
        }
        for (kind, count) in &record.faults_fired {
            *self.fault_counts.entry(kind.clone()).or_insert(0) += count;
        }
        if record.verdict.is_failure() {
            self.failed += 1;
            if let Some(property) = &record.property {
                *self.properties.entry(property.clone()).or_insert(0) += 1;
            }
            if self.failures.len() < failures_kept_max {
                self.failures.push(FailureEntry {
                    seed: record.seed,
                    verdict: record.verdict,
                    property: record.property.clone(),
                    detail: record.detail.clone(),
                    repro: record.repro.clone(),
                });
            }
        } else {
            self.passed += 1;
        }
    }
}

/// Run the sweep. `on_done` is called (from worker threads) after each seed with its
/// output and record; the CLI uses it for progress, the journal, and to write run
/// directories of failures.
pub fn sweep(
    runner: &dyn Runner,
    options: &SweepOptions,
    on_done: &(dyn Fn(&RunOutput, &SeedRecord) + Sync),
) -> SweepSummary {
    sweep_from(runner, options, &[], &AtomicBool::new(false), on_done)
}

/// Run the sweep, counting `finished` (records of seeds an earlier, interrupted run of the
/// same sweep completed: a journal's) without running them again, and stopping early
/// — seeds in flight finish, no new one starts — once `interrupt` is set. Records of
/// seeds outside this sweep's range or shard, and repeats, are ignored.
pub fn sweep_from(
    runner: &dyn Runner,
    options: &SweepOptions,
    finished: &[SeedRecord],
    interrupt: &AtomicBool,
    on_done: &(dyn Fn(&RunOutput, &SeedRecord) + Sync),
) -> SweepSummary {
    let total = options.shard.seed_count(options.seeds);
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let mut resumed = Tally::default();
    let mut done = std::collections::BTreeSet::new();
    let in_sweep = |seed: u64| {
        seed >= options.seeds.first
            && seed <= options.seeds.last
            && (seed - options.seeds.first) % options.shard.count == options.shard.index - 1
    };
    for record in finished {
        if in_sweep(record.seed) && done.insert(record.seed) {
            resumed.add(record, options.failures_kept_max);
        }
    }
    let tally = Mutex::new(resumed);
    let first = options.seeds.first + options.shard.index - 1;
    let jobs = options.jobs.max(1).min(total.max(1) as usize);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut local = Tally::default();
                loop {
                    if stop.load(Ordering::Relaxed) || interrupt.load(Ordering::Relaxed) {
                        break;
                    }
                    let position = next.fetch_add(1, Ordering::Relaxed);
                    if position >= total {
                        break;
                    }
                    let seed = first + position * options.shard.count;
                    if done.contains(&seed) {
                        continue;
                    }
                    let output = runner.run(seed, false);
                    let result = &output.result;
                    let rechecked = options.recheck_one_in > 0
                        && mix64(seed).is_multiple_of(options.recheck_one_in);
                    let mismatch =
                        rechecked && runner.run(seed, false).result.trace_hash != result.trace_hash;
                    let mut clients = ClientTotals::default();
                    clients.add_run(&result.metrics, &output.history);
                    let record = SeedRecord {
                        seed,
                        verdict: result.verdict,
                        property: result.property.clone(),
                        detail: result.detail.clone(),
                        repro: result.repro.clone(),
                        trace_hash: result.trace_hash.clone(),
                        events: result.metrics.events,
                        time_us: result.time_us,
                        faults_fired: result.faults_fired.clone(),
                        rechecked,
                        mismatch,
                        clients,
                        protocol_metrics: result.metrics.protocol.clone(),
                    };
                    local.add(&record, options.failures_kept_max);
                    if record.verdict.is_failure() && options.fail_fast {
                        stop.store(true, Ordering::Relaxed);
                    }
                    on_done(&output, &record);
                }
                merge(
                    &mut tally
                        .lock()
                        .expect("no worker panics while holding the tally"),
                    local,
                );
            });
        }
    });
    let mut tally = tally.into_inner().expect("workers are done");
    tally.failures.sort_by_key(|failure| failure.seed);
    tally.failures.truncate(options.failures_kept_max);
    tally.mismatches.sort_unstable();
    let incomplete = tally.seeds < total;
    SweepSummary {
        scenario: runner.scenario().path.display().to_string(),
        protocol: runner.scenario().file.protocol.clone(),
        mutant: runner.mutant().map(str::to_string),
        swarm: runner.swarm(),
        seed_first: options.seeds.first,
        seed_last: options.seeds.last,
        shard: format!("{}/{}", options.shard.index, options.shard.count),
        seeds: tally.seeds,
        passed: tally.passed,
        failed: tally.failed,
        verdicts: tally
            .verdicts
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        properties_violated: tally.properties,
        failures: tally.failures,
        fault_counts: tally.fault_counts,
        seeds_with_faults: tally.seeds_with_faults,
        events: tally.events,
        sim_time_us: tally.sim_time_us,
        sweep_hash: hex(tally.hash_sum),
        determinism_rechecked: tally.rechecked,
        determinism_mismatches: tally.mismatches,
        stopped_early: stop.load(Ordering::Relaxed) && incomplete,
        interrupted: interrupt.load(Ordering::Relaxed) && incomplete,
        resumed_seeds: done.len() as u64,
        clients: {
            let mut clients = tally.clients;
            clients.finish(tally.sim_time_us);
            clients
        },
        protocol_metrics: tally.protocol_metrics,
    }
}

fn merge(into: &mut Tally, from: Tally) {
    into.seeds += from.seeds;
    into.passed += from.passed;
    into.failed += from.failed;
    for (k, v) in from.verdicts {
        *into.verdicts.entry(k).or_insert(0) += v;
    }
    for (k, v) in from.properties {
        *into.properties.entry(k).or_insert(0) += v;
    }
    into.failures.extend(from.failures);
    for (k, v) in from.fault_counts {
        *into.fault_counts.entry(k).or_insert(0) += v;
    }
    into.seeds_with_faults += from.seeds_with_faults;
    into.events += from.events;
    into.sim_time_us += from.sim_time_us;
    into.hash_sum = into.hash_sum.wrapping_add(from.hash_sum);
    into.rechecked += from.rechecked;
    into.mismatches.extend(from.mismatches);
    into.clients.merge(&from.clients);
    crate::meter::merge(&mut into.protocol_metrics, &from.protocol_metrics);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_range() {
        let range = SeedRange { first: 1, last: 10 };
        let one: Vec<u64> = Shard { index: 1, count: 3 }.seeds(range).collect();
        let two: Vec<u64> = Shard { index: 2, count: 3 }.seeds(range).collect();
        let three: Vec<u64> = Shard { index: 3, count: 3 }.seeds(range).collect();
        assert_eq!(one, vec![1, 4, 7, 10]);
        assert_eq!(two, vec![2, 5, 8]);
        assert_eq!(three, vec![3, 6, 9]);
        for (shard, seeds) in [(1, &one), (2, &two), (3, &three)] {
            assert_eq!(
                Shard {
                    index: shard,
                    count: 3
                }
                .seed_count(range),
                seeds.len() as u64
            );
        }
        assert!(Shard::parse("0/2").is_err() && Shard::parse("3/2").is_err());
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
    }
}
