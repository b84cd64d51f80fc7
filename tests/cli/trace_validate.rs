//! `quorumlab tlc --validate-trace`: simulator traces checked against tla/Raft.tla and
//! tla/Paxos.tla.
//!
//! Each TLC run takes a few seconds (about 200 events of scenarios/raft/trace_validate.toml).
//! Tests that need TLC skip, saying so, when Java is absent (and fail when
//! `QUORUMLAB_REQUIRE` requires it).

use std::path::{Path, PathBuf};

use crate::{quorumlab, stderr, stdout, temp_dir};

/// `quorumlab run scenarios/raft/trace_validate.toml --seed SEED [--mutant M] --trace`.
fn traced_run(name: &str, seed: u64, mutant: Option<&str>) -> PathBuf {
    traced_run_of(name, "scenarios/raft/trace_validate.toml", seed, mutant)
}

/// `quorumlab run SCENARIO --seed SEED [--mutant M] --trace` into a fresh directory (the
/// run may pass or find a violation).
fn traced_run_of(name: &str, scenario: &str, seed: u64, mutant: Option<&str>) -> PathBuf {
    let out = temp_dir(name);
    let seed = seed.to_string();
    let mut args = vec![
        "run",
        scenario,
        "--seed",
        &seed,
        "--trace",
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(mutant) = mutant {
        args.extend(["--mutant", mutant]);
    }
    let output = quorumlab(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    out
}

/// Whether Java is there to run TLC; without it the test skips, or fails when
/// `QUORUMLAB_REQUIRE` requires `java` or `tlc`.
fn java_or_skip() -> bool {
    match quorumlab_tla::tlc::check_java() {
        Ok(_) => true,
        Err(error) => {
            quorumlab::require::skip_or_fail("java", &error);
            false
        }
    }
}

fn validate(run_dir: &Path) -> (Option<i32>, String) {
    let output = quorumlab(&["tlc", "--validate-trace", run_dir.to_str().unwrap()]);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    (output.status.code(), text)
}

#[test]
fn correct_raft_traces_under_crashes_loss_and_duplication_validate() {
    if !java_or_skip() {
        return;
    }
    // Seed 1: a crash between a persist and its sends, 6 duplicated messages, 2 rejected
    // AppendEntries (fast-backtracking hints). Seed 3: 10 duplicates, 4 lost sends.
    for (seed, events) in [(1, 245), (3, 203)] {
        let run = traced_run(&format!("tv-correct-{seed}"), seed, None);
        let trace = std::fs::read_to_string(run.join("trace.ndjson")).unwrap();
        assert!(trace.contains("\"event\":\"crash\"") && trace.contains("\"event\":\"restart\""));
        let duplicated = trace.matches("\"duplicate_delay_us\":").count()
            - trace.matches("\"duplicate_delay_us\":null").count();
        assert!(trace.contains("Conflict") && duplicated > 0, "seed {seed}");
        let (code, text) = validate(&run);
        assert_eq!(code, Some(0), "seed {seed}: {text}");
        assert!(
            text.contains(&format!("trace valid: {events} events matched")),
            "seed {seed}: {text}"
        );
        let data = std::fs::read_to_string(run.join("tlc-validate/part-1/TraceData.tla")).unwrap();
        assert!(data.contains("fast-backtracking") || data.contains("Fast backtracking"));
    }
}

#[test]
fn mutant_traces_are_rejected_at_the_first_step_the_spec_cannot_take() {
    if !java_or_skip() {
        return;
    }
    let cases = [
        // n1 restarts with term 0 and no vote; Raft.tla's Restart keeps both.
        (
            "volatile-voted-for",
            "scenarios/raft/trace_validate.toml",
            "trace rejected at event 59 of 245 (trace.ndjson line 65, i=117, t=423000 us, n1, \
             restart): the spec cannot take Restart(n1)",
        ),
        // n1 grants a vote to n2, whose log is behind its own.
        (
            "vote-ignores-log",
            "scenarios/raft/trace_validate.toml",
            "trace rejected at event 64 of 245 (trace.ndjson line 73, i=138, t=529962 us, n1, \
             request_vote): the spec cannot take RequestVote(n1)",
        ),
        // The mutant's own scenario (30% duplication) breaks election safety at 45 ms: n2
        // counts a duplicated vote a second time and becomes leader.
        (
            "count-duplicate-votes",
            "scenarios/raft/mutants/count-duplicate-votes.toml",
            "trace rejected at event 29 of 33 (trace.ndjson line 29, i=31, t=44411 us, n2, \
             request_vote_response): the spec cannot take RequestVoteResponse(n2)",
        ),
    ];
    for (mutant, scenario, expected) in cases {
        let run = traced_run_of(&format!("tv-{mutant}"), scenario, 1, Some(mutant));
        let (code, text) = validate(&run);
        assert_eq!(code, Some(1), "{mutant}: {text}");
        assert!(
            text.contains(expected),
            "{mutant}: expected {expected:?} in {text}"
        );
    }
}

#[test]
fn commit_prior_term_is_rejected_at_the_early_commit() {
    if !java_or_skip() {
        return;
    }
    let run = traced_run("tv-commit-prior-term-json", 1, Some("commit-prior-term"));
    let output = quorumlab(&["tlc", "--validate-trace", run.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["valid"], false);
    assert_eq!(json["events"], 245);
    let rejected = &json["rejected"];
    assert_eq!(rejected["position"], 68);
    assert_eq!(rejected["phase"], "step");
    assert_eq!(rejected["event"], "append_entries_response");
    assert_eq!(rejected["action"], "AppendEntriesResponse");
    assert_eq!(rejected["index"], 143);
    assert_eq!(rejected["node"], 2);
    // The leader committed (logged) what the spec's commit rule does not allow.
    let post = rejected["post_state"].as_str().unwrap();
    let pre = rejected["pre_state"].as_str().unwrap();
    assert!(pre.contains("state |-> \"Leader\""), "{pre}");
    assert_ne!(pre, post);
}

#[test]
fn validation_errors_exit_two_naming_the_file_and_fix() {
    // No run directory.
    let missing = temp_dir("tv-missing");
    let output = quorumlab(&["tlc", "--validate-trace", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("result.json"),
        "{}",
        stderr(&output)
    );

    // A trace written without the state snapshots.
    let run = traced_run("tv-stateless", 2, None);
    let trace = std::fs::read_to_string(run.join("trace.ndjson")).unwrap();
    let stripped: Vec<String> = trace
        .lines()
        .map(|line| {
            let mut event: serde_json::Value = serde_json::from_str(line).unwrap();
            if let Some(object) = event.as_object_mut() {
                object.remove("state");
            }
            event.to_string()
        })
        .collect();
    std::fs::write(run.join("trace.ndjson"), stripped.join("\n")).unwrap();
    let output = quorumlab(&["tlc", "--validate-trace", run.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("trace.ndjson:1: field `state` is missing") && text.contains("--trace"),
        "{text}"
    );
}

/// A nemesis.toml run at `duration_ms`, traced, with `--mutant` if given.
fn nemesis_run(name: &str, duration_ms: u64, mutant: Option<&str>) -> PathBuf {
    let dir = temp_dir(&format!("{name}-scenario"));
    std::fs::create_dir_all(&dir).unwrap();
    let source = std::fs::read_to_string(crate::scenario_path("scenarios/raft/nemesis.toml"))
        .unwrap()
        .replace(
            "duration_ms = 10000",
            &format!("duration_ms = {duration_ms}"),
        );
    let scenario = dir.join("nemesis.toml");
    std::fs::write(&scenario, source).unwrap();
    traced_run_of(name, scenario.to_str().unwrap(), 1, mutant)
}

#[test]
fn a_long_trace_validates_in_windows_spread_over_tlc_runs() {
    if !java_or_skip() {
        return;
    }
    // 2 s of the nemesis mix: about 700 events, beyond one window of 300.
    let run = nemesis_run("tv-long", 2000, None);
    let output = quorumlab(&[
        "tlc",
        "--validate-trace",
        run.to_str().unwrap(),
        "--jobs",
        "2",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let events = json["events"].as_u64().unwrap();
    assert!(events > 600, "{json}");
    assert_eq!(json["windows"].as_u64().unwrap(), events.div_ceil(300));
    assert_eq!(json["tlc_runs"], 2);
    assert!(run.join("tlc-validate/part-2/TraceData.tla").is_file());
}

#[test]
fn a_window_boundary_does_not_move_a_rejection() {
    if !java_or_skip() {
        return;
    }
    // Windows of 10 events: the rejected event (59, a restart) is deep in window 6, and
    // its window starts from the logged state and the bag rebuilt from the trace.
    let run = traced_run("tv-windows-volatile", 1, Some("volatile-voted-for"));
    let output = quorumlab(&[
        "tlc",
        "--validate-trace",
        run.to_str().unwrap(),
        "--window",
        "10",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("trace rejected at event 59 of 245 (trace.ndjson line 65")
            && text.contains("25 windows of 10 events"),
        "{text}"
    );
    // And a correct trace is valid cut anywhere.
    let run = traced_run("tv-windows-correct", 3, None);
    for window in ["1", "7"] {
        let output = quorumlab(&[
            "tlc",
            "--validate-trace",
            run.to_str().unwrap(),
            "--window",
            window,
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "window {window}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn an_election_timer_reset_on_a_stale_append_is_rejected() {
    if !java_or_skip() {
        return;
    }
    // The mutant's own scenario: a deposed leader's stale heartbeat re-arms n3's election
    // timer, which Raft.tla's RestartsElectionTimer forbids; the logged state is right.
    let run = traced_run_of(
        "tv-reset-timer",
        "scenarios/raft/mutants/reset-timer-on-stale-append.toml",
        1,
        None,
    );
    let (code, text) = validate(&run);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "trace rejected at event 552 of 552 (trace.ndjson line 563, i=897, t=2006413 us, \
             n3, append_entries): the spec cannot take AppendEntries(n3)"
        ) && text.contains("term |-> 1, leader |-> \"n0\""),
        "{text}"
    );
}

/// `quorumlab sweep SCENARIO --seeds SEEDS --validate-trace N [extra] --out DIR --json`.
fn validating_sweep(
    name: &str,
    scenario: &str,
    seeds: &str,
    extra: &[&str],
) -> (Option<i32>, serde_json::Value, String) {
    let out = temp_dir(name);
    let mut args = vec![
        "sweep",
        scenario,
        "--seeds",
        seeds,
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "2",
    ];
    args.extend(extra);
    let output = quorumlab(&args);
    let summary = std::fs::read_to_string(out.join("summary.json"))
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (
        output.status.code(),
        summary,
        format!("{}{}", stdout(&output), stderr(&output)),
    )
}

/// The verdicts of a `--seeds 1..4 --validate-trace 2` sweep that passed: seeds 1 and 3,
/// both valid.
fn valid_verdicts_of_seeds_1_and_3<'a>(
    code: Option<i32>,
    summary: &'a serde_json::Value,
    text: &str,
) -> &'a [serde_json::Value] {
    assert_eq!(code, Some(0), "{text}");
    let verdicts = summary["trace_validation"].as_array().unwrap();
    let seeds: Vec<u64> = verdicts
        .iter()
        .map(|v| v["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, [1, 3], "{text}");
    assert!(verdicts.iter().all(|v| v["valid"] == true), "{text}");
    verdicts
}

#[test]
fn a_sweep_validates_an_evenly_spaced_sample_of_its_seeds() {
    if !java_or_skip() {
        return;
    }
    let (code, summary, text) = validating_sweep(
        "tv-sweep-correct",
        "scenarios/raft/trace_validate.toml",
        "1..4",
        &["--validate-trace", "2"],
    );
    let verdicts = valid_verdicts_of_seeds_1_and_3(code, &summary, &text);
    let seed_dir = PathBuf::from(verdicts[1]["run_dir"].as_str().unwrap());
    let recorded: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(seed_dir.join("trace-validation.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(recorded["valid"], true);
    assert_eq!(recorded["events"], 203);
}

#[test]
fn a_sweep_fails_on_a_trace_the_spec_rejects_though_every_seed_passes() {
    if !java_or_skip() {
        return;
    }
    // volatile-voted-for passes the simulator's checks on seed 1 of trace_validate.toml,
    // but its restart forgets the term and vote, which Raft.tla's Restart keeps.
    let (code, summary, text) = validating_sweep(
        "tv-sweep-mutant",
        "scenarios/raft/trace_validate.toml",
        "1..1",
        &["--mutant", "volatile-voted-for", "--validate-trace", "1"],
    );
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(summary["failed"], 0, "{text}");
    let verdict = &summary["trace_validation"][0];
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["rejected"]["line"], 65);
    assert!(
        text.contains("seed 1: REJECTED at event 59 of 245 (trace.ndjson line 65, n1 restart)")
            && text.contains("trace validation rejected scenarios/raft/trace_validate.toml seed 1"),
        "{text}"
    );
}

#[test]
fn a_sweep_refuses_trace_validation_for_a_protocol_without_a_spec() {
    let (code, summary, text) = validating_sweep(
        "tv-sweep-kv",
        "scenarios/kv/basic.toml",
        "1..2",
        &["--validate-trace", "1"],
    );
    assert_eq!(code, Some(2), "{text}");
    assert_eq!(summary, serde_json::Value::Null, "nothing ran: {text}");
    assert!(
        text.contains("protocol `kv`: --validate-trace needs a TLA+ spec")
            && text.contains("raft (tla/Raft.tla) and paxos (tla/Paxos.tla) only"),
        "{text}"
    );
}

#[test]
fn correct_paxos_traces_under_crashes_loss_and_duplication_validate() {
    if !java_or_skip() {
        return;
    }
    // Seed 1 of the nemesis mix: 5 proposers, crashes (one right after a persist),
    // loss, duplication, partitions; every node decides.
    let run = traced_run_of("tv-paxos-correct", "scenarios/paxos/nemesis.toml", 1, None);
    let trace = std::fs::read_to_string(run.join("trace.ndjson")).unwrap();
    assert!(trace.contains("\"event\":\"restart\"") && trace.contains("\"decided\":{"));
    let (code, text) = validate(&run);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("trace valid: 84 events matched"), "{text}");
    let data = std::fs::read_to_string(run.join("tlc-validate/part-1/TraceData.tla")).unwrap();
    assert!(data.contains("kind |-> \"Crash\"") && data.contains("kind |-> \"Accepted\""));
    assert!(run.join("tlc-validate/part-1/TracePaxos.tla").is_file());
}

#[test]
fn paxos_mutant_traces_are_rejected_at_the_first_step_the_spec_cannot_take() {
    if !java_or_skip() {
        return;
    }
    let cases = [
        // n1 promised ballot 4 without persisting it, crashed, and restarts with no promise.
        (
            "volatile-promise",
            "trace rejected at event 9 of 1372 (trace.ndjson line 11, i=10, t=6000 us, n1, \
             restart): the spec took Restart(n1)",
        ),
        // n1's quorum reported value 2 accepted in ballot 5; it proposes its own value 1.
        (
            "propose-own-value",
            "trace rejected at event 43 of 412 (trace.ndjson line 44, i=45, t=24557 us, n1, \
             promise): the spec took Promise(n1)",
        ),
        // n1 sends accept on its own promise alone, one short of a majority of 3.
        (
            "minority-promises",
            "trace rejected at event 4 of 17 (trace.ndjson line 4, i=4, t=2026 us, n1, \
             propose_timeout): the spec took ProposeTimeout(n1)",
        ),
        // n2's own acceptor refuses n2's accept for the ballot it promised.
        (
            "strict-accept-ballot",
            "trace rejected at event 9 of 472 (trace.ndjson line 9, i=9, t=5071 us, n2, \
             promise): the spec took Promise(n2)",
        ),
    ];
    for (mutant, expected) in cases {
        let scenario = format!("scenarios/paxos/mutants/{mutant}.toml");
        let run = traced_run_of(&format!("tv-paxos-{mutant}"), &scenario, 1, None);
        let (code, text) = validate(&run);
        assert_eq!(code, Some(1), "{mutant}: {text}");
        assert!(
            text.contains(expected),
            "{mutant}: expected {expected:?} in {text}"
        );
    }
}

#[test]
fn a_paxos_rejection_names_the_logged_state_in_json() {
    if !java_or_skip() {
        return;
    }
    let run = traced_run_of(
        "tv-paxos-json",
        "scenarios/paxos/mutants/propose-own-value.toml",
        1,
        None,
    );
    let output = quorumlab(&["tlc", "--validate-trace", run.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["windows"], 1);
    let rejected = &json["rejected"];
    assert_eq!(rejected["position"], 43);
    assert_eq!(rejected["phase"], "inner");
    assert_eq!(rejected["action"], "Promise");
    // The promise reports value 2 accepted in ballot 5 (round 1 of n2 with 3 nodes); the
    // proposer's phase 2a logged its own value 1.
    let message = rejected["message"].as_str().unwrap();
    assert!(
        message.contains("acc |-> [bal |-> 5, val |-> 2]"),
        "{message}"
    );
    let post = rejected["post_state"].as_str().unwrap();
    assert!(
        post.contains("phase |-> \"accepting\"") && post.contains("value |-> 1]"),
        "{post}"
    );
}

#[test]
fn a_sweep_validates_paxos_traces() {
    if !java_or_skip() {
        return;
    }
    let (code, summary, text) = validating_sweep(
        "tv-sweep-paxos",
        "scenarios/paxos/nemesis.toml",
        "1..4",
        &["--validate-trace", "2"],
    );
    let verdicts = valid_verdicts_of_seeds_1_and_3(code, &summary, &text);
    assert_eq!(verdicts[0]["events"], 84, "{text}");
}
