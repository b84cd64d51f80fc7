//! Times the linearizability checker on the public histories: all Porcupine etcd logs,
//! and the 50-client kv histories split by key. Run with
//! `cargo run -p sim-core --release --example lincheck_bench [-- HISTORIES_DIR [ROUNDS]]`.
//! Examples may read the wall clock; sim-core itself never does.

// Timing is this example's whole purpose; the clock never reaches sim-core.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use sim_core::lincheck::{check_text, Budget, Verdict};

fn read_all(paths: &[PathBuf]) -> Vec<(String, String)> {
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("history is readable");
            (path.display().to_string(), text)
        })
        .filter(|(_, text)| !text.trim().is_empty())
        .collect()
}

/// Best-of-`rounds` wall time (parse + check) for the whole set, and the verdict counts.
fn time_set(files: &[(String, String)], rounds: usize) -> (f64, usize, usize, u64) {
    let mut best_seconds = f64::INFINITY;
    let mut counts = (0, 0, 0);
    for _ in 0..rounds {
        let start = Instant::now();
        counts = (0, 0, 0);
        for (name, text) in files {
            let verdict = check_text(name, text, None, Budget::default()).expect("history checks");
            match verdict.verdict() {
                Verdict::Linearizable => counts.0 += 1,
                Verdict::NotLinearizable => counts.1 += 1,
                Verdict::Unknown => panic!("{name}: budget ran out"),
            }
            counts.2 += verdict.report.steps;
        }
        best_seconds = best_seconds.min(start.elapsed().as_secs_f64());
    }
    (best_seconds, counts.0, counts.1, counts.2)
}

fn main() {
    let mut arguments = std::env::args().skip(1);
    let folder = arguments
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/histories"));
    let rounds: usize = arguments
        .next()
        .map_or(5, |rounds| rounds.parse().expect("ROUNDS is a number"));
    let mut etcd: Vec<PathBuf> = std::fs::read_dir(folder.join("porcupine/jepsen"))
        .expect("porcupine/jepsen exists")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    etcd.sort();
    let sets = [
        ("etcd (102 logs)", read_all(&etcd)),
        (
            "c50-ok by key",
            read_all(&[folder.join("porcupine/kv/c50-ok.txt")]),
        ),
        (
            "c50-bad by key",
            read_all(&[folder.join("porcupine/kv/c50-bad.txt")]),
        ),
        (
            "c10-ok by key",
            read_all(&[folder.join("porcupine/kv/c10-ok.txt")]),
        ),
    ];
    for (label, files) in &sets {
        let (seconds, linearizable, not_linearizable, steps) = time_set(files, rounds);
        println!(
            "{label:<18} {:>9.2} ms  ({linearizable} linearizable, {not_linearizable} not, {steps} model steps, best of {rounds})",
            seconds * 1e3
        );
    }
}
