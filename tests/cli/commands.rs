//! The `quorumlab` binary as a user meets it: exit codes, files written, error messages.

use std::path::Path;

use crate::{failing_run, quorumlab, root, stderr, stdout, temp_dir};

#[test]
fn run_writes_result_json_and_exits_zero_on_pass() {
    let out = temp_dir("run-pass");
    let output = quorumlab(&[
        "run",
        "scenarios/raft/churn.toml",
        "--seed",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap()).unwrap();
    for key in [
        "scenario",
        "seed",
        "verdict",
        "property",
        "time_us",
        "event_index",
        "trace_hash",
        "metrics",
        "repro",
    ] {
        assert!(result.get(key).is_some(), "result.json lacks `{key}`");
    }
    assert_eq!(result["verdict"], "pass");
    let metrics = &result["metrics"];
    assert!(
        metrics["leader_changes"].as_u64().unwrap() >= 1,
        "{metrics}"
    );
    let ok = metrics["client_ops_ok"].as_f64().unwrap();
    let seconds = result["time_us"].as_f64().unwrap() / 1e6;
    let throughput = metrics["throughput_ops_per_sec"].as_f64().unwrap();
    assert!(
        ok > 0.0 && (throughput * seconds - ok).abs() < 1e-6,
        "{metrics}"
    );
    let per_op = metrics["messages_per_committed_op"].as_f64().unwrap();
    assert!(
        per_op * ok - metrics["messages_sent"].as_f64().unwrap() < 1e-6,
        "{metrics}"
    );
    assert!(metrics["unavailability"]["windows"].is_u64(), "{metrics}");
    assert_eq!(
        result["repro"],
        "quorumlab run scenarios/raft/churn.toml --seed 3"
    );
    assert!(
        !out.join("trace.ndjson").exists(),
        "a passing run without --trace writes no trace"
    );
}

#[test]
fn a_violation_exits_one_writes_the_trace_and_replays() {
    let out = temp_dir("run-fail");
    let output = quorumlab(&[
        "run",
        "scenarios/raft/nemesis.toml",
        "--seed",
        "4",
        "--mutant",
        "vote-ignores-log",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stdout(&output).contains(
        "repro: quorumlab run scenarios/raft/nemesis.toml --seed 4 --mutant vote-ignores-log"
    ));
    let trace = std::fs::read_to_string(out.join("trace.ndjson")).unwrap();
    let first: serde_json::Value = serde_json::from_str(trace.lines().next().unwrap()).unwrap();
    for key in [
        "i",
        "time_us",
        "node",
        "event",
        "input",
        "effects",
        "observations",
    ] {
        assert!(first.get(key).is_some(), "trace events carry `{key}`");
    }
    let replay = quorumlab(&["replay", out.to_str().unwrap(), "--from", "1", "--to", "3"]);
    assert_eq!(replay.status.code(), Some(0), "{}", stderr(&replay));
    let text = stdout(&replay);
    assert!(text.contains("init") && text.contains("matches"), "{text}");
}

#[test]
fn bad_scenarios_exit_two_naming_file_line_field_and_fix() {
    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("unknown.toml", "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\nnodez = 4\n", "unknown.toml:4: field `nodez`"),
        (
            "negative.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[network]\nlatency = { dist = \"constant\", us = -3 }\n",
            "negative.toml:5: field `network.latency`",
        ),
        ("protocol.toml", "protocol = \"rafft\"\nnodes = 3\nduration_ms = 100\n", "field `protocol`: unknown protocol `rafft`"),
        (
            "param.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[params]\nelection_timeout_ms = [300, 100]\n",
            "param.toml:5: field `params.election_timeout_ms`",
        ),
        ("mutant.toml", "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\nmutant = \"nope\"\n", "field `mutant`"),
        (
            "node.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[[faults]]\nat_ms = 1\naction = \"crash\"\nnode = 5\n",
            "field `faults[0].node`: node 5 does not exist",
        ),
        // Values that used to be accepted and silently wrong, or that crashed.
        (
            "at-overflow.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[[faults]]\nat_ms = 18446744073709552\naction = \"crash\"\nnode = 1\n",
            "at-overflow.toml:5: field `faults[0].at_ms`: 18446744073709552 ms is longer than",
        ),
        (
            "duration-overflow.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 18446744073709552\n",
            "duration-overflow.toml:3: field `duration_ms`",
        ),
        (
            "timeout-huge.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[workload]\nclients = 1\ntimeout_ms = 9223372036854775\n",
            "field `workload.timeout_ms`",
        ),
        (
            "escaping-name.toml",
            "name = \"../../escaped\"\nprotocol = \"raft\"\nnodes = 3\nduration_ms = 100\n",
            "escaping-name.toml:1: field `name`",
        ),
        (
            "clients.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[workload]\nclients = 4294967295\n",
            "field `workload.clients`: 4294967295 clients",
        ),
        (
            "overlapping-groups.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[[faults]]\nat_ms = 1\naction = \"partition\"\ngroups = [[0, 1], [1, 2]]\n",
            "field `faults[0].groups`: node 1 is named twice",
        ),
        (
            "empty-side.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[[faults]]\nat_ms = 1\naction = \"one_way\"\nfrom = []\nto = [1]\n",
            "field `faults[0].from`: an empty node set",
        ),
        (
            "three-pair.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[nemesis]\nkinds = [\"crash\"]\ninterval_ms = [1, 2, 3]\n",
            "field `nemesis.interval_ms`: expected a [min, max] pair, found 3 numbers",
        ),
        (
            "nan-bound.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[bounds]\nmax_messages_per_committed_op = nan\n",
            "field `bounds.max_messages_per_committed_op`: NaN",
        ),
        (
            "drift.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[nemesis]\nkinds = [\"clock_drift\"]\ndrift_ppm_max = 5000000\n",
            "field `nemesis.drift_ppm_max`",
        ),
        (
            "tape-device.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\ntape_file = \"/dev/zero\"\n",
            "field `tape_file`: /dev/zero is not a regular file",
        ),
        (
            "role.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[[faults]]\nat_ms = 1\naction = \"crash\"\nnode = \"Leader\"\n",
            "field `faults[0].node`: raft has no role `Leader`",
        ),
        (
            "sometimes-typo.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\nsometimes = [\"commit\", \"became_leaderr\"]\n",
            "field `sometimes[1]`: `became_leaderr` is not an observation kind of raft",
        ),
        (
            "check-typo.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[check]\nmax_crashs = 1\n",
            "field `check.max_crashs`: unknown field",
        ),
        (
            "duplicate-probability.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[nemesis]\nkinds = [\"duplicate\"]\nduplicate_per_million = 2000000\n",
            "field `nemesis.duplicate_per_million`",
        ),
        (
            "huge-mean.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[network]\nlatency = { dist = \"exponential\", mean_us = 9223372036854775807 }\n",
            "field `network.latency`: 9223372036854775807 us is longer than the simulator runs",
        ),
        (
            "huge-drift.toml",
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[[faults]]\nat_ms = 1\naction = \"clock_drift\"\nnode = 0\ndrift_ppm = 9223372036854775807\n",
            "field `faults[0].drift_ppm`",
        ),
        (
            "nul.toml",
            "\0\0\0\0",
            "nul.toml:1: the file holds NUL bytes",
        ),
        (
            "deep.toml",
            &format!("a = {}{}\n", "[".repeat(5000), "]".repeat(5000)),
            "deep.toml:1: not valid TOML: cannot recurse further",
        ),
        (
            "non-utf8.toml",
            "protocol = \"raft\"\nname = \"\u{fffd}\"\n",
            "non-utf8.toml:2: not UTF-8 text",
        ),
    ];
    for (name, source, expected) in cases {
        let path = dir.join(name);
        let bytes: Vec<u8> = if name == "non-utf8.toml" {
            // The byte 0xff (never valid in UTF-8) where the replacement character is.
            source
                .replace('\u{fffd}', "\u{7f}")
                .bytes()
                .map(|byte| if byte == 0x7f { 0xff } else { byte })
                .collect()
        } else {
            source.as_bytes().to_vec()
        };
        std::fs::write(&path, bytes).unwrap();
        let output = quorumlab(&["run", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{name}: {}", stderr(&output));
        let error = stderr(&output);
        assert!(
            error.contains(expected),
            "{name}: expected `{expected}` in:\n{error}"
        );
        assert!(
            error.contains("fix:"),
            "{name}: every error says how to fix it:\n{error}"
        );
    }
}

#[test]
fn sweep_writes_summary_json_and_exits_one_on_failures() {
    let out = temp_dir("sweep");
    let output = quorumlab(&[
        "sweep",
        "scenarios/raft/nemesis.toml",
        "--seeds",
        "1..12",
        "--mutant",
        "vote-ignores-log",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "seeds",
        "passed",
        "failed",
        "failures",
        "fault_counts",
        "sweep_hash",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks `{key}`");
    }
    assert_eq!(summary["seeds"], 12);
    let failure = &summary["failures"][0];
    assert!(failure["repro"]
        .as_str()
        .unwrap()
        .starts_with("quorumlab run scenarios/raft/nemesis.toml --seed "));
    let seed = failure["seed"].as_u64().unwrap();
    assert!(out
        .join("nemesis")
        .join(format!("seed-{seed}"))
        .join("trace.ndjson")
        .exists());
    for bad in [
        ["--seeds", "9..2"],
        ["--seeds", "0..18446744073709551615"],
        ["--jobs", "0"],
    ] {
        let mut args = vec!["sweep", "scenarios/raft/nemesis.toml"];
        args.extend(bad);
        let output = quorumlab(&args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{bad:?}: {}",
            stderr(&output)
        );
    }
    assert!(
        quorumlab(&["sweep", "scenarios/raft/nemesis.toml", "--seeds", "9..2"])
            .status
            .code()
            == Some(2)
    );
}

#[test]
fn list_json_names_protocols_mutants_and_invariants() {
    for (what, must_contain) in [
        ("protocols", "raft"),
        ("mutants", "commit-prior-term"),
        ("invariants", "election_safety"),
    ] {
        let output = quorumlab(&["list", what, "--json"]);
        assert_eq!(output.status.code(), Some(0));
        let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
        assert!(
            rows.iter().any(|row| row["name"] == must_contain),
            "{what}: {rows:?}"
        );
        if what != "protocols" {
            assert!(rows.iter().all(|row| row.get("protocol").is_some()));
        }
    }
    let scenarios = quorumlab(&["list", "scenarios", "--json"]);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&scenarios)).unwrap();
    assert!(rows
        .iter()
        .any(|row| row["path"] == "scenarios/raft/nemesis.toml"));
}

#[test]
fn help_has_examples_and_exit_codes() {
    let output = quorumlab(&["--help"]);
    let text = stdout(&output);
    assert!(
        text.contains("Examples:")
            && text.contains(
                "Exit codes: 0 pass, 1 a property violated, 2 bad input, 3 internal error"
            )
    );
    for command in [
        "run", "sweep", "replay", "report", "test", "list", "bench", "check",
    ] {
        let help = stdout(&quorumlab(&[command, "--help"]));
        assert!(
            help.contains("Examples:"),
            "`{command} --help` has examples"
        );
    }
    assert_eq!(quorumlab(&["frobnicate"]).status.code(), Some(2));
}

#[test]
fn test_command_checks_expectations() {
    let output = quorumlab(&[
        "test",
        "scenarios/raft/no_majority.toml",
        "scenarios/raft/election.toml",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("client_progress caught at seed 1"));
    assert!(Path::new(&root().join("scenarios")).is_dir());
}

#[test]
fn lincheck_reads_public_histories_and_exits_one_on_a_violation() {
    let histories = quorumlab::require::histories_dir(root()).join("porcupine/jepsen");
    if !histories.is_dir() {
        let reason = format!(
            "{} is not a directory (set QUORUMLAB_HISTORIES to the histories folder)",
            histories.display()
        );
        quorumlab::require::skip_or_fail("histories", &reason);
        return;
    }
    let good = histories.join("etcd_002.log");
    let bad = histories.join("etcd_000.log");
    let output = quorumlab(&["lincheck", good.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = quorumlab(&[
        "lincheck",
        good.to_str().unwrap(),
        bad.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(rows[0]["verdict"], "linearizable");
    assert_eq!(rows[1]["verdict"], "not_linearizable");
    let missing = quorumlab(&["lincheck", "no/such/history.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn lincheck_checks_every_file_of_a_batch_and_empty_histories_alike() {
    let dir = temp_dir("lincheck-batch");
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (brackets, empty) = (file("brackets.json", "[]"), file("empty.json", ""));
    let run = quorumlab(&[
        "run",
        "scenarios/kv/basic.toml",
        "--seed",
        "1",
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let good = dir.join("run/history.json");
    // An unreadable file first: the good history after it is still checked.
    let batch = quorumlab(&[
        "lincheck",
        "no/such/history.json",
        &brackets,
        &empty,
        good.to_str().unwrap(),
    ]);
    assert_eq!(batch.status.code(), Some(2), "{}", stderr(&batch));
    let (out, err) = (stdout(&batch), stderr(&batch));
    assert!(out.contains("history.json: linearizable"), "{out}");
    assert!(err.contains("no/such/history.json"), "{err}");
    assert!(err.contains("3 of 4 files could not be checked"), "{err}");
    // `[]` and an empty file are both empty histories, refused alike.
    for path in [&brackets, &empty] {
        let alone = quorumlab(&["lincheck", path]);
        assert_eq!(alone.status.code(), Some(2), "{path}: {}", stderr(&alone));
        assert!(
            stderr(&alone).contains("empty history"),
            "{}",
            stderr(&alone)
        );
    }
}

#[test]
fn bench_lincheck_times_every_public_set() {
    let histories = quorumlab::require::histories_dir(root());
    if !histories.is_dir() {
        let reason = format!(
            "{} is not a directory (set QUORUMLAB_HISTORIES to the histories folder)",
            histories.display()
        );
        quorumlab::require::skip_or_fail("histories", &reason);
        return;
    }
    let output = quorumlab(&[
        "bench",
        "lincheck",
        "--histories",
        histories.to_str().unwrap(),
        "--rounds",
        "1",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let sets: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    let counts: Vec<(u64, u64, u64)> = sets
        .iter()
        .map(|set| {
            let field = |name: &str| set[name].as_u64().unwrap();
            (
                field("files"),
                field("linearizable"),
                field("not_linearizable"),
            )
        })
        .collect();
    // The verdicts are those of verdicts.tsv; the times are for the person reading.
    assert_eq!(counts, vec![(102, 23, 79), (1, 1, 0), (1, 0, 1), (1, 1, 0)]);
    assert!(sets
        .iter()
        .all(|set| set["best_ms"].as_f64().unwrap() > 0.0));
    let missing = quorumlab(&["bench", "lincheck", "--histories", "no/such/folder"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("fix: pass --histories"));
}

#[test]
fn tlc_rejects_what_is_not_a_spec() {
    let output = quorumlab(&["tlc", "README.md"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("expected a .tla spec, a .cfg or a directory"));
}

#[test]
fn shrink_writes_a_smaller_scenario_that_still_fails_and_is_deterministic() {
    let run = failing_run("shrink-run");
    let shrink = |name: &str| {
        let target = run.join(name);
        let output = quorumlab(&[
            "shrink",
            run.to_str().unwrap(),
            "--out",
            target.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        (report, std::fs::read_to_string(&target).unwrap(), target)
    };
    let (report, text, target) = shrink("a.toml");
    for side in ["before", "after"] {
        for key in ["faults", "client_ops", "events", "sim_time_us"] {
            assert!(report[side].get(key).is_some(), "{side}.{key}");
        }
    }
    assert!(report["after"]["faults"].as_u64() < report["before"]["faults"].as_u64());
    assert!(text.contains("expect = \"leader_completeness\""));
    let (_, again, _) = shrink("b.toml");
    let body = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&text), body(&again), "shrinking is deterministic");
    let replay = quorumlab(&["test", target.to_str().unwrap()]);
    assert_eq!(
        replay.status.code(),
        Some(0),
        "the shrunk scenario still fails as expected: {}",
        stdout(&replay)
    );
}

#[test]
fn merge_of_all_shards_equals_the_whole_sweep_and_a_missing_shard_is_an_error() {
    let base = temp_dir("merge");
    let dir = |name: &str| base.join(name).to_str().unwrap().to_string();
    // `quorumlab merge` of the named shard folders into `out`, with `--json` if asked.
    let merge = |shards: &[&str], out: &str, json: bool| {
        let mut args = vec!["merge".to_string()];
        args.extend(shards.iter().map(|shard| dir(shard)));
        args.extend(["--out".to_string(), dir(out)]);
        if json {
            args.push("--json".to_string());
        }
        quorumlab(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    for shard in ["1/3", "2/3", "3/3"] {
        let out = dir(&format!("shard-{}", &shard[..1]));
        let output = quorumlab(&[
            "sweep",
            "scenarios/raft/churn.toml",
            "--seeds",
            "1..18",
            "--shard",
            shard,
            "--out",
            &out,
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let whole = quorumlab(&[
        "sweep",
        "scenarios/raft/churn.toml",
        "--seeds",
        "1..18",
        "--out",
        &dir("whole"),
        "--json",
    ]);
    let whole: serde_json::Value = serde_json::from_str(&stdout(&whole)).unwrap();
    let merged = merge(&["shard-1", "shard-2", "shard-3"], "merged.json", true);
    assert_eq!(merged.status.code(), Some(0), "{}", stderr(&merged));
    let merged: serde_json::Value = serde_json::from_str(&stdout(&merged)).unwrap();
    assert_eq!(merged["seeds"], 18);
    assert_eq!(merged["sweep_hash"], whole["sweep_hash"]);
    // Client figures merge too: latency histograms add up, ratios are recomputed.
    let clients = &whole["scenarios"][0]["clients"];
    assert!(clients["ops_ok"].as_u64().unwrap() > 0, "{clients}");
    assert_eq!(merged["scenarios"][0]["clients"], *clients);
    // `--validate-trace` verdicts travel through merge, and a rejected one fails it.
    let summary_path = base.join("shard-2").join("summary.json");
    let mut summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary_path).unwrap()).unwrap();
    summary["trace_validation"] = serde_json::json!([{
        "scenario": "churn", "seed": 2, "valid": false, "events": 40, "windows": 1,
        "rejected": {"position": 7, "line": 9, "event": "request_vote", "node": 1,
                     "reason": "the spec cannot take this step"},
        "tlc_ms": 1000, "run_dir": "x/churn/seed-2"
    }]);
    std::fs::write(&summary_path, summary.to_string()).unwrap();
    let rejected = merge(
        &["shard-1", "shard-2", "shard-3"],
        "merged-rejected.json",
        true,
    );
    assert_eq!(rejected.status.code(), Some(1), "{}", stderr(&rejected));
    let rejected: serde_json::Value = serde_json::from_str(&stdout(&rejected)).unwrap();
    assert_eq!(rejected["trace_validation"][0]["seed"], 2);
    assert_eq!(rejected["trace_validation"][0]["valid"], false);
    assert_eq!(rejected["sweep_hash"], whole["sweep_hash"]);
    summary["trace_validation"] = serde_json::json!("not a list");
    std::fs::write(&summary_path, summary.to_string()).unwrap();
    let malformed = merge(&["shard-1", "shard-2", "shard-3"], "bad.json", false);
    assert_eq!(malformed.status.code(), Some(2), "{}", stderr(&malformed));
    assert!(
        stderr(&malformed).contains("trace_validation"),
        "{}",
        stderr(&malformed)
    );
    summary.as_object_mut().unwrap().remove("trace_validation");
    std::fs::write(&summary_path, summary.to_string()).unwrap();
    let missing = merge(&["shard-1", "shard-3"], "bad.json", false);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("shard 2/3 is missing"),
        "{}",
        stderr(&missing)
    );
    let doubled = merge(
        &["shard-1", "shard-1", "shard-2", "shard-3"],
        "bad.json",
        false,
    );
    assert!(
        stderr(&doubled).contains("appears twice"),
        "{}",
        stderr(&doubled)
    );
    // A shard of another sweep (here: --swarm) is named as such, not as a missing shard.
    let swarm = quorumlab(&[
        "sweep",
        "scenarios/raft/churn.toml",
        "--seeds",
        "1..18",
        "--shard",
        "2/3",
        "--swarm",
        "--out",
        &dir("swarm-2"),
    ]);
    assert!(
        matches!(swarm.status.code(), Some(0 | 1)),
        "{}",
        stderr(&swarm)
    );
    let mixed = merge(&["shard-1", "swarm-2", "shard-3"], "bad.json", false);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(
        stderr(&mixed).contains("--swarm")
            && stderr(&mixed).contains("only shards of one sweep merge"),
        "{}",
        stderr(&mixed)
    );
    // Counts that do not add up (an edited summary) are refused.
    let summary = base.join("shard-2/summary.json");
    let text = std::fs::read_to_string(&summary).unwrap();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let passed = value["scenarios"][0]["passed"].as_u64().unwrap();
    value["scenarios"][0]["passed"] = (passed + 1).into();
    std::fs::write(&summary, value.to_string()).unwrap();
    let inconsistent = merge(&["shard-1", "shard-2", "shard-3"], "bad.json", false);
    assert_eq!(inconsistent.status.code(), Some(2));
    assert!(
        stderr(&inconsistent).contains("the summary is inconsistent"),
        "{}",
        stderr(&inconsistent)
    );
}

#[test]
fn replay_of_a_run_folder_with_a_corrupt_scenario_blames_that_file() {
    let out = temp_dir("replay-corrupt");
    let run = quorumlab(&[
        "run",
        "scenarios/raft/election.toml",
        "--seed",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    std::fs::write(
        out.join("scenario.toml"),
        "protocol = \"raft\"\nnodes = 3\nnodez = 3\n",
    )
    .unwrap();
    let replay = quorumlab(&["replay", out.to_str().unwrap()]);
    assert_eq!(replay.status.code(), Some(2));
    let error = stderr(&replay);
    let copy = out.join("scenario.toml");
    assert!(
        error.contains(&format!("{}:3: field `nodez`", copy.display())),
        "{error}"
    );
}

#[test]
fn sweep_writes_junit_and_markdown_for_ci() {
    let out = temp_dir("ci-outputs");
    let (junit, markdown) = (out.join("junit.xml"), out.join("summary.md"));
    let output = quorumlab(&[
        "sweep",
        "scenarios/raft/nemesis.toml",
        "scenarios/raft/election.toml",
        "--seeds",
        "1..6",
        "--out",
        out.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        "--markdown",
        markdown.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 2, "{xml}");
    assert!(xml.contains("failures=\"0\""));
    let text = std::fs::read_to_string(&markdown).unwrap();
    assert!(
        text.contains("all seeds passed") && text.contains("`scenarios/raft/election.toml`"),
        "{text}"
    );
}

#[test]
fn run_records_a_tape_that_a_scenario_replays_by_reference() {
    let out = temp_dir("run-tape");
    let output = quorumlab(&[
        "run",
        "scenarios/raft/nemesis.toml",
        "--seed",
        "2",
        "--tape",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let recorded: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let tape: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tape.json")).unwrap()).unwrap();
    assert!(tape["messages"].as_array().is_some_and(|m| m.len() > 100));
    assert!(
        tape["timers"][0]["delay_us"].is_u64(),
        "{}",
        tape["timers"][0]
    );
    // The same scenario, now reading every decision from the tape: the same run.
    let source = std::fs::read_to_string(out.join("scenario.toml")).unwrap();
    let replay = out.join("replay.toml");
    std::fs::write(&replay, format!("tape_file = \"tape.json\"\n{source}")).unwrap();
    let output = quorumlab(&["run", replay.to_str().unwrap(), "--seed", "2", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let replayed: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(replayed["trace_hash"], recorded["trace_hash"]);
    // A tape naming a node the cluster lacks is bad input, with its field and fix.
    std::fs::write(
        &replay,
        format!("{source}\n[[tape.timers]]\nnode = 9\nn = 0\ndelay_us = 5\n"),
    )
    .unwrap();
    let output = quorumlab(&["run", replay.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("tape"), "{}", stderr(&output));
}

#[test]
fn a_failed_write_is_an_io_error_not_bad_input() {
    // /proc refuses new directories even to root: the write fails, the input is fine.
    let output = quorumlab(&[
        "run",
        "scenarios/raft/election.toml",
        "--seed",
        "1",
        "--out",
        "/proc/quorumlab-cannot-write-here",
    ]);
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(stderr(&output).contains("I/O error"), "{}", stderr(&output));
}

#[test]
fn a_sweep_clears_an_earlier_sweeps_failing_seeds_and_says_so() {
    let out = temp_dir("resweep");
    let sweep = |mutant: Option<&str>| {
        let mut args = vec![
            "sweep",
            "scenarios/raft/mutants/vote-ignores-log.toml",
            "--seeds",
            "1..20",
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(mutant) = mutant {
            args.extend(["--mutant", mutant]);
        }
        quorumlab(&args)
    };
    // The mutant file's seeds fail; its `expect` holds, so the sweep exits 0.
    let failing = sweep(None);
    assert_eq!(
        failing.status.code(),
        Some(0),
        "the mutant file's expect holds"
    );
    let scenario_out = out.join("vote-ignores-log");
    let seed_dirs = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("seed-"))
            .count()
    };
    let before = seed_dirs(&scenario_out);
    assert!(before > 0);
    // The same file without its mutant: every seed passes, nothing of the earlier sweep stays.
    let scenario = std::fs::read_to_string(crate::scenario_path(
        "scenarios/raft/mutants/vote-ignores-log.toml",
    ))
    .unwrap()
    .replace("mutant = \"vote-ignores-log\"", "")
    .replace("expect = \"leader_completeness\"", "");
    let copy = out.join("vote-ignores-log.toml");
    std::fs::write(&copy, scenario).unwrap();
    let passing = quorumlab(&[
        "sweep",
        copy.to_str().unwrap(),
        "--seeds",
        "1..20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(passing.status.code(), Some(0), "{}", stdout(&passing));
    assert_eq!(seed_dirs(&scenario_out), 0);
    assert!(
        stderr(&passing).contains(&format!("cleared {before} failing-seed folders")),
        "{}",
        stderr(&passing)
    );
}
