//! An interrupted sweep loses nothing: a sweep killed (SIGKILL) part-way and resumed with
//! `--resume` ends with the same summary as an uninterrupted one; Ctrl-C (SIGINT) stops
//! it cleanly with a summary marked interrupted and exit 130.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{root, stderr, temp_dir};

const SEEDS: &str = "1..1500";

fn sweep(out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quorumlab"));
    command
        .args([
            "sweep",
            "scenarios/raft/nemesis.toml",
            "--seeds",
            SEEDS,
            "--json",
        ])
        .args(["--out", out.to_str().unwrap()])
        .args(extra)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Lines in the scenario's journal (header included).
fn journal_lines(out: &Path) -> usize {
    std::fs::read_to_string(out.join("nemesis/journal.ndjson"))
        .map_or(0, |text| text.lines().count())
}

/// Wait (bounded) until the journal records at least `records` finished seeds.
fn wait_for_records(child: &mut Child, out: &Path, records: usize) {
    for _ in 0..3000 {
        if journal_lines(out) > records {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before it was interrupted"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the journal did not reach {records} records in 30 s");
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_killed_sweep_resumes_to_the_summary_of_an_uninterrupted_one() {
    let whole_out = temp_dir("resume-whole");
    let whole = sweep(&whole_out, &["--jobs", "2"]).output().unwrap();
    assert_eq!(whole.status.code(), Some(0), "{}", stderr(&whole));
    let whole = summary(&whole_out);

    let out = temp_dir("resume-killed");
    let mut child = sweep(&out, &["--jobs", "1"]).spawn().unwrap();
    wait_for_records(&mut child, &out, 40);
    child.kill().unwrap(); // SIGKILL: no chance to write anything more
    child.wait().unwrap();
    let recorded = journal_lines(&out) - 1;
    assert!(
        (40..1500).contains(&recorded),
        "killed part-way: {recorded} records"
    );

    let resumed = sweep(&out, &["--jobs", "2", "--resume"]).output().unwrap();
    assert_eq!(resumed.status.code(), Some(0), "{}", stderr(&resumed));
    let resumed = summary(&out);
    for key in ["seeds", "passed", "failed", "sweep_hash", "fault_counts"] {
        assert_eq!(whole[key], resumed[key], "{key}");
    }
    let (whole, resumed) = (&whole["scenarios"][0], &resumed["scenarios"][0]);
    for (key, value) in whole.as_object().unwrap() {
        if key != "resumed_seeds" {
            assert_eq!(value, &resumed[key], "scenarios[0].{key}");
        }
    }
    assert!(resumed["resumed_seeds"].as_u64().unwrap() >= 40);
    assert_eq!(journal_lines(&out), 1501, "one record per seed, each once");
}

#[test]
fn ctrl_c_writes_an_interrupted_summary_and_says_how_to_resume() {
    let out = temp_dir("resume-sigint");
    let mut child = sweep(&out, &["--jobs", "1"]).spawn().unwrap();
    wait_for_records(&mut child, &out, 20);
    // SAFETY: kill(2) with a child's pid and a valid signal number.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(stderr(&output).contains("--resume"), "{}", stderr(&output));
    let interrupted = summary(&out);
    assert_eq!(interrupted["scenarios"][0]["interrupted"], true);
    let finished = interrupted["seeds"].as_u64().unwrap();
    assert!((20..1500).contains(&finished), "{finished}");
    // Every finished seed is in the journal.
    assert_eq!(journal_lines(&out) as u64 - 1, finished);
}

#[test]
fn resuming_another_sweeps_journal_is_refused() {
    let out = temp_dir("resume-other");
    let first = sweep(&out, &["--jobs", "2"]).output().unwrap();
    assert_eq!(first.status.code(), Some(0));
    let mut other = Command::new(env!("CARGO_BIN_EXE_quorumlab"));
    let output = other
        .args([
            "sweep",
            "scenarios/raft/nemesis.toml",
            "--seeds",
            "1..10",
            "--resume",
        ])
        .args(["--out", out.to_str().unwrap()])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("belongs to another sweep"),
        "{}",
        stderr(&output)
    );
}
