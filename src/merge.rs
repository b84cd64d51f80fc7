//! `quorumlab merge`: combine the `summary.json` of sweep shards (`--shard K/N` on
//! several machines) into one, checking that every shard is there exactly once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sim_core::sweep::SweepSummary;

use crate::commands::{SweepExpectation, SweepReport};
use crate::sweep_validate::SeedValidation;
use crate::{to_json_pretty, write_file, CliError};

fn read_report(dir: &Path) -> Result<serde_json::Value, CliError> {
    let path = if dir.is_dir() {
        dir.join("summary.json")
    } else {
        dir.to_path_buf()
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|error| CliError::BadInput(format!("{}: {error}", path.display())))?;
    serde_json::from_str(&text).map_err(|error| {
        CliError::BadInput(format!(
            "{}: not a sweep summary.json: {error}",
            path.display()
        ))
    })
}

/// What identifies one sweep across shards: scenario, mutant, swarm, seed range.
type SweepKey = (String, Option<String>, bool, u64, u64);

/// Merge shard summaries of the same sweeps. Seeds are checked: each scenario's shards
/// must share one seed range and shard count, and cover shards 1..=N exactly once.
pub fn merge_reports(reports: &[(String, Vec<SweepSummary>)]) -> Result<Vec<SweepSummary>, String> {
    let mut groups: BTreeMap<SweepKey, Vec<(&str, &SweepSummary)>> = BTreeMap::new();
    for (source, summaries) in reports {
        for summary in summaries {
            let key = (
                summary.scenario.clone(),
                summary.mutant.clone(),
                summary.swarm,
                summary.seed_first,
                summary.seed_last,
            );
            groups
                .entry(key)
                .or_default()
                .push((source.as_str(), summary));
        }
    }
    refuse_mixed_sweeps(&groups)?;
    let mut merged = Vec::new();
    for ((scenario, ..), shards) in groups {
        let parsed: Vec<(u64, u64, &str)> = shards
            .iter()
            .map(|(source, s)| {
                let shard = sim_core::sweep::Shard::parse(&s.shard)
                    .map_err(|e| format!("{source}: {e}"))?;
                Ok((shard.index, shard.count, *source))
            })
            .collect::<Result<_, String>>()?;
        let count = parsed[0].1;
        if let Some((_, other, source)) = parsed.iter().find(|(_, c, _)| *c != count) {
            return Err(format!(
                "{scenario}: {source} is a shard of {other}, the others of {count}"
            ));
        }
        for index in 1..=count {
            let holders: Vec<&str> = parsed
                .iter()
                .filter(|(i, _, _)| *i == index)
                .map(|(_, _, s)| *s)
                .collect();
            match holders.len() {
                0 => return Err(format!("{scenario}: shard {index}/{count} is missing: its seeds were not run")),
                1 => {}
                _ => return Err(format!("{scenario}: shard {index}/{count} appears twice ({}): its seeds would count twice", holders.join(", "))),
            }
        }
        for ((index, count, source), (_, shard)) in parsed.iter().zip(&shards) {
            check_shard_counts(&scenario, source, *index, *count, shard)?;
        }
        let mut total = shards[0].1.clone();
        total.shard = "1/1".to_string();
        for (_, shard) in &shards[1..] {
            total.seeds += shard.seeds;
            total.passed += shard.passed;
            total.failed += shard.failed;
            for (k, v) in &shard.verdicts {
                *total.verdicts.entry(k.clone()).or_insert(0) += v;
            }
            for (k, v) in &shard.properties_violated {
                *total.properties_violated.entry(k.clone()).or_insert(0) += v;
            }
            for (k, v) in &shard.fault_counts {
                *total.fault_counts.entry(k.clone()).or_insert(0) += v;
            }
            total.failures.extend(shard.failures.iter().cloned());
            total.seeds_with_faults += shard.seeds_with_faults;
            total.events += shard.events;
            total.sim_time_us += shard.sim_time_us;
            total.sweep_hash = add_hex(&total.sweep_hash, &shard.sweep_hash);
            total.determinism_rechecked += shard.determinism_rechecked;
            total
                .determinism_mismatches
                .extend(shard.determinism_mismatches.iter().copied());
            total.stopped_early |= shard.stopped_early;
            total.clients.merge(&shard.clients);
            sim_core::meter::merge(&mut total.protocol_metrics, &shard.protocol_metrics);
        }
        total.failures.sort_by_key(|f| f.seed);
        total.clients.finish(total.sim_time_us);
        let expected = sim_core::scenario::SeedRange {
            first: total.seed_first,
            last: total.seed_last,
        }
        .len();
        if total.seeds != expected && !total.stopped_early {
            return Err(format!(
                "{scenario}: the shards ran {} seeds of the {expected} in {}..{}",
                total.seeds, total.seed_first, total.seed_last
            ));
        }
        merged.push(total);
    }
    Ok(merged)
}

/// A scenario's shards that belong to different sweeps (another mutant, swarm or seed
/// range) cannot merge: say how they differ, rather than that a shard is missing.
fn refuse_mixed_sweeps(
    groups: &BTreeMap<SweepKey, Vec<(&str, &SweepSummary)>>,
) -> Result<(), String> {
    let describe = |(_, mutant, swarm, first, last): &SweepKey| {
        format!(
            "seeds {first}..{last}, {}, {}",
            mutant
                .as_deref()
                .map_or("no mutant".to_string(), |m| format!("mutant {m}")),
            if *swarm { "--swarm" } else { "no --swarm" }
        )
    };
    let keys: Vec<&SweepKey> = groups.keys().collect();
    for pair in keys.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.0 == b.0 {
            return Err(format!(
                "{}: {} is a sweep of {}, but {} of {}: only shards of one sweep merge\n  \
                 fix: merge the shards of each sweep separately, or re-run the odd shard with \
                 the same --seeds, --mutant and --swarm",
                a.0,
                groups[a][0].0,
                describe(a),
                groups[b][0].0,
                describe(b)
            ));
        }
    }
    Ok(())
}

/// A shard's counts must add up: passed + failed = seeds, and (unless it stopped early)
/// it ran exactly the seeds its index and count give it.
fn check_shard_counts(
    scenario: &str,
    source: &str,
    index: u64,
    count: u64,
    shard: &SweepSummary,
) -> Result<(), String> {
    if shard.passed + shard.failed != shard.seeds {
        return Err(format!(
            "{scenario}: {source} counts {} passed + {} failed, but {} seeds: the summary is \
             inconsistent (edited or torn)\n  fix: re-run that shard",
            shard.passed, shard.failed, shard.seeds
        ));
    }
    let range = sim_core::scenario::SeedRange {
        first: shard.seed_first,
        last: shard.seed_last,
    };
    let expected = sim_core::sweep::Shard { index, count }.seed_count(range);
    if shard.seeds != expected && !shard.stopped_early {
        return Err(format!(
            "{scenario}: {source} (shard {index}/{count}) ran {} seeds, but that shard of \
             {}..{} has {expected}\n  fix: re-run that shard",
            shard.seeds, shard.seed_first, shard.seed_last
        ));
    }
    Ok(())
}

/// Add a shard's count of seeds showing a scenario's `expect` to the merged one.
fn merge_expectation(merged: &mut Vec<SweepExpectation>, shard: SweepExpectation) {
    let Some(total) = merged.iter_mut().find(|e| e.scenario == shard.scenario) else {
        merged.push(shard);
        return;
    };
    total.seeds_showing += shard.seeds_showing;
    total.seeds += shard.seeds;
    total.held = if total.every_seed {
        total.seeds_showing == total.seeds
    } else {
        total.seeds_showing > 0
    };
}

fn add_hex(a: &str, b: &str) -> String {
    let parse = |h: &str| u64::from_str_radix(h, 16).unwrap_or(0);
    sim_core::hash::hex(parse(a).wrapping_add(parse(b)))
}

pub fn merge(dirs: &[PathBuf], out: Option<PathBuf>, json_output: bool) -> Result<i32, CliError> {
    let mut reports = Vec::new();
    let mut expectations: Vec<SweepExpectation> = Vec::new();
    let mut trace_validation: Vec<SeedValidation> = Vec::new();
    for dir in dirs {
        let value = read_report(dir)?;
        if let Some(verdicts) = value.get("trace_validation") {
            let verdicts: Vec<SeedValidation> =
                serde_json::from_value(verdicts.clone()).map_err(|error| {
                    CliError::BadInput(format!(
                        "{}: `trace_validation` is not a list of verdicts: {error}; fix: \
                         re-run that shard's sweep",
                        dir.display()
                    ))
                })?;
            trace_validation.extend(verdicts);
        }
        let shard_expectations: Vec<SweepExpectation> =
            serde_json::from_value(value["expectations"].clone()).unwrap_or_default();
        for shard in shard_expectations {
            merge_expectation(&mut expectations, shard);
        }
        let summaries: Vec<SweepSummary> = serde_json::from_value(value["scenarios"].clone())
            .map_err(|error| {
                CliError::BadInput(format!("{}: no `scenarios` list: {error}", dir.display()))
            })?;
        reports.push((dir.display().to_string(), summaries));
    }
    let scenarios = merge_reports(&reports).map_err(CliError::BadInput)?;
    trace_validation.sort_by(|a, b| (&a.scenario, a.seed).cmp(&(&b.scenario, b.seed)));
    let hash = scenarios
        .iter()
        .fold(String::from("0000000000000000"), |sum, s| {
            add_hex(&sum, &s.sweep_hash)
        });
    let seeds: u64 = scenarios.iter().map(|s| s.seeds).sum();
    let report = SweepReport {
        seeds,
        passed: scenarios.iter().map(|s| s.passed).sum(),
        failed: scenarios.iter().map(|s| s.failed).sum(),
        failures: scenarios
            .iter()
            .flat_map(|s| s.failures.iter().cloned())
            .collect(),
        fault_counts: scenarios.iter().fold(BTreeMap::new(), |mut all, s| {
            for (kind, count) in &s.fault_counts {
                *all.entry(kind.clone()).or_insert(0) += count;
            }
            all
        }),
        sweep_hash: hash,
        determinism_rechecked: scenarios.iter().map(|s| s.determinism_rechecked).sum(),
        determinism_mismatches: scenarios
            .iter()
            .map(|s| s.determinism_mismatches.len() as u64)
            .sum(),
        elapsed_seconds: 0.0,
        seeds_per_sec: 0.0,
        scenarios,
        expectations,
        trace_validation,
    };
    let out = out.unwrap_or_else(|| PathBuf::from("sweeps/merged/summary.json"));
    write_file(&out, to_json_pretty(&report))?;
    if json_output {
        print!("{}", to_json_pretty(&report));
    } else {
        println!(
            "merged {} shard summaries: {} seeds, {} passed, {} failed; sweep hash {}; wrote {}",
            dirs.len(),
            report.seeds,
            report.passed,
            report.failed,
            report.sweep_hash,
            out.display()
        );
        for failure in report.failures.iter().take(10) {
            println!(
                "  seed {}: {}  repro: {}",
                failure.seed,
                failure.property.as_deref().unwrap_or("-"),
                failure.repro
            );
        }
        for verdict in report.trace_validation.iter().filter(|v| !v.valid) {
            println!(
                "  trace validation rejected {} seed {}: the merged sweep fails",
                verdict.scenario, verdict.seed
            );
        }
    }
    Ok(report.exit_code())
}
