//! TLC runs of the PBFT and Paxos specs' bounded models (`tla/MCPBFT*.cfg`,
//! `tla/MCPaxos*.cfg`): each correct model passes with its pinned state count, each
//! non-vacuity witness is reached, and each bug variant is caught. They skip without Java
//! (and fail then when `QUORUMLAB_REQUIRE` names java or tlc), like the Raft spec's tests.

use std::fs;
use std::path::{Path, PathBuf};

use crate::tlc::tests::{jar_or_skip, repo_root};
use crate::tlc::{run_tlc, unique_dir, TlcOutcome, TlcReport};

/// Runs TLC (one worker) on `tla/<spec>` with the config at `cfg`.
fn run(jar: &Path, spec: &str, cfg: &Path) -> TlcReport {
    let spec = repo_root().join("tla").join(spec);
    let report = run_tlc(jar, &spec, Some(cfg), 1).expect("TLC runs");
    eprintln!(
        "{}: {:?}, {:?} generated, {:?} distinct, depth {:?}, {} ms, trace {:?}",
        cfg.display(),
        report.outcome,
        report.states_generated,
        report.distinct_states,
        report.depth,
        report.elapsed_ms,
        report.trace_actions()
    );
    report
}

fn tla_file(name: &str) -> PathBuf {
    repo_root().join("tla").join(name)
}

/// A correct model: every invariant holds over exactly `distinct` states (pinned, so that
/// a change that shrinks the model shows).
fn check_passes(spec: &str, cfg: &str, distinct: u64) {
    let Some(jar) = jar_or_skip() else { return };
    let report = run(&jar, spec, &tla_file(cfg));
    assert_eq!(
        report.outcome,
        TlcOutcome::Ok,
        "errors: {:?}",
        report.errors
    );
    assert_eq!(report.distinct_states, Some(distinct), "{cfg}: state count");
}

/// A bug variant (or a witness): TLC must find `invariant` violated, with a trace that
/// takes every action in `actions`.
fn check_violates(jar: &Path, spec: &str, cfg: &Path, invariant: &str, actions: &[&str]) {
    let report = run(jar, spec, cfg);
    assert_eq!(
        report.outcome,
        TlcOutcome::InvariantViolated {
            name: invariant.to_string()
        },
        "{}: errors {:?}",
        cfg.display(),
        report.errors
    );
    let taken = report.trace_actions();
    for action in actions {
        assert!(
            taken.contains(action),
            "{}: the trace {taken:?} has no {action}",
            cfg.display()
        );
    }
}

fn check_bug_caught(spec: &str, cfg: &str, invariant: &str, actions: &[&str]) {
    let Some(jar) = jar_or_skip() else { return };
    check_violates(&jar, spec, &tla_file(cfg), invariant, actions);
}

/// Non-vacuity: each witness (an invariant stating that something never happens) must be
/// violated in the correct model `cfg`, run with the witness as its only invariant.
fn check_witnesses_reached(spec: &str, cfg: &str, witnesses: &[(&str, &[&str])]) {
    let Some(jar) = jar_or_skip() else { return };
    let base = fs::read_to_string(tla_file(cfg)).expect("the config");
    let (head, _) = base
        .split_once("\nINVARIANTS")
        .expect("the config lists INVARIANTS last");
    let dir = unique_dir(&std::env::temp_dir(), "quorumlab-tlc-witness").unwrap();
    for (witness, actions) in witnesses {
        let path = dir.join(format!("{witness}.cfg"));
        fs::write(&path, format!("{head}\nINVARIANTS\n    {witness}\n")).unwrap();
        check_violates(&jar, spec, &path, witness, actions);
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn tlc_checks_mcpbft_ok() {
    check_passes("MCPBFT.tla", "MCPBFT.cfg", 27_832);
}

#[test]
fn tlc_reaches_pbft_witnesses() {
    check_witnesses_reached(
        "MCPBFT.tla",
        "MCPBFT.cfg",
        &[
            ("NoCommit", &["Prepare", "Commit"]),
            ("NoNewView", &["StartViewChange", "NewView"]),
            (
                "NoCommitInLaterView",
                &["StartViewChange", "NewView", "EnterView", "Commit"],
            ),
        ],
    );
}

#[test]
fn tlc_catches_pbft_prepare_quorum_2f() {
    check_bug_caught(
        "MCPBFT.tla",
        "MCPBFTPrepareQuorum2f.cfg",
        "ViewChangeSafety",
        &["Prepare", "Commit", "StartViewChange", "NewView"],
    );
}

#[test]
fn tlc_catches_pbft_new_view_ignoring_prepared() {
    check_bug_caught(
        "MCPBFT.tla",
        "MCPBFTIgnorePrepared.cfg",
        "ViewChangeSafety",
        &["Commit", "NewView", "PrePrepare"],
    );
}

#[test]
fn tlc_shows_pbft_bound_tight_at_n3() {
    check_bug_caught(
        "MCPBFT.tla",
        "MCPBFTTight.cfg",
        "Agreement",
        &["Prepare", "Commit"],
    );
}

/// The implementation's view change loses a certificate of an earlier view (see the
/// config's comment): about 40 s of CPU, so it runs on request only.
#[test]
#[ignore = "about 40 s of TLC CPU time: cargo test -p quorumlab-tla -- --ignored"]
fn tlc_catches_pbft_current_view_certificates() {
    check_bug_caught(
        "MCPBFT.tla",
        "MCPBFTCurrentViewCerts.cfg",
        "ViewChangeSafety",
        &["Commit", "StartViewChange", "NewView", "PrePrepare"],
    );
}

#[test]
fn tlc_checks_mcpaxos_ok() {
    check_passes("MCPaxos.tla", "MCPaxos.cfg", 27_350);
}

#[test]
fn tlc_reaches_paxos_witnesses() {
    check_witnesses_reached(
        "MCPaxos.tla",
        "MCPaxos.cfg",
        &[
            (
                "NoChoice",
                &["ProposeTimeout", "Prepare", "PromiseFrom", "Accept"],
            ),
            ("NoHigherBallotReproposes", &["PromiseFrom", "Accept"]),
        ],
    );
}

#[test]
fn tlc_catches_paxos_propose_own_value() {
    check_bug_caught(
        "MCPaxos.tla",
        "MCPaxosProposeOwnValue.cfg",
        "Agreement",
        // TLC names an action by the operator that holds it: `Promise(b)` is
        // `PromiseFrom(b, Q)` for some majority `Q`.
        &["PromiseFrom", "Accept"],
    );
}

#[test]
fn tlc_catches_paxos_volatile_promise() {
    check_bug_caught(
        "MCPaxos.tla",
        "MCPaxosVolatilePromise.cfg",
        "Agreement",
        &["Prepare", "Crash", "Accept"],
    );
}
