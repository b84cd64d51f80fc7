//! The kv protocol end to end: a run's `history.json` is what `quorumlab lincheck` reads,
//! the end-of-run check fails a mutant's run naming key, window and operations, and the
//! same seed passes on correct kv.

use crate::{quorumlab, stdout, temp_dir};

/// Run `scenarios/kv/<scenario>` at `seed` (with `mutant`), returning the run directory
/// and its result.json.
fn run(
    name: &str,
    scenario: &str,
    seed: &str,
    mutant: Option<&str>,
) -> (std::path::PathBuf, serde_json::Value) {
    let out = temp_dir(name);
    let mut args = vec![
        "run",
        scenario,
        "--seed",
        seed,
        "--out",
        out.to_str().unwrap(),
    ];
    if let Some(mutant) = mutant {
        args.extend(["--mutant", mutant]);
    }
    let output = quorumlab(&args);
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("result.json")).unwrap())
            .unwrap_or_else(|error| panic!("result.json: {error}\n{}", stdout(&output)));
    (out, result)
}

#[test]
fn a_kv_run_writes_a_history_that_lincheck_reads_as_linearizable() {
    let (out, result) = run("kv-basic", "scenarios/kv/basic.toml", "3", None);
    assert_eq!(result["verdict"], "pass", "{result}");
    let history: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("history.json")).unwrap()).unwrap();
    assert_eq!(history["model"]["kind"], "key-value");
    let operations = history["operations"].as_array().unwrap();
    assert!(operations.len() > 100, "{} operations", operations.len());
    for kind in ["get", "put", "append", "cas"] {
        assert!(
            operations
                .iter()
                .any(|op| op["op"]["type"] == kind && op["status"] == "ok"),
            "no completed {kind}"
        );
    }
    let output = quorumlab(&[
        "lincheck",
        out.join("history.json").to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(rows[0]["verdict"], "linearizable");
    assert_eq!(rows[0]["operations"], operations.len());
    assert_eq!(rows[0]["model"], "kv");
}

#[test]
fn a_stale_read_fails_the_run_naming_key_window_and_operations() {
    let scenario = "scenarios/kv/mutants/stale-read.toml";
    let (out, result) = run("kv-stale-read", scenario, "1", None);
    assert_eq!(result["verdict"], "violation", "{result}");
    assert_eq!(result["property"], "linearizable");
    let detail = result["detail"].as_str().unwrap();
    assert!(detail.starts_with("key \"k"), "{detail}");
    assert!(
        detail.contains("in the window") && detail.contains(" get -> ok "),
        "{detail}"
    );
    // The file agrees with the run's own check.
    let output = quorumlab(&["lincheck", out.join("history.json").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    // The same file without the mutant (partitions.toml) passes at this seed.
    let (_, result) = run("kv-partitions", "scenarios/kv/partitions.toml", "1", None);
    assert_eq!(result["verdict"], "pass", "{result}");
}
