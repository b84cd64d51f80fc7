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

/// Load a one-op scenario of `protocol` and prepare it; the error text if refused.
fn prepare_op(protocol: &str, op_fields: &str) -> Result<(), String> {
    let text = format!(
        "protocol = \"{protocol}\"\nnodes = 3\nduration_ms = 1000\n[params]\n\
         [workload]\nclients = 1\n[[workload.ops]]\nat_ms = 10\nclient = 0\n{op_fields}\n"
    );
    let text = if protocol == "kv" {
        text.replace("[params]\n", "[params]\nkeys = 3\n")
    } else {
        text
    };
    let scenario = sim_core::scenario::Scenario::parse(std::path::Path::new("ops.toml"), text)
        .map_err(|error| error.to_string())?;
    quorumlab::commands::prepare_scenario(&scenario, None, false)
        .map(|_| ())
        .map_err(|error| error.to_string())
}

#[test]
fn written_operations_are_read_or_refused_naming_the_entry_and_the_syntax() {
    for good in ["get k0", "put k1 v7", "append k2", "cas k1 v0 v2"] {
        prepare_op("kv", &format!("op = \"{good}\"")).unwrap();
    }
    prepare_op("raft", "op = \"42\"").unwrap();
    for bad in ["put k3 v1", "put k1", "delete k1", "cas k1 v0", "get 1"] {
        let error = prepare_op("kv", &format!("op = \"{bad}\"")).unwrap_err();
        assert!(
            error.contains("ops.toml:11: field `workload.ops[0].op`")
                && error.contains("put kK vN")
                && error.contains("below 3"),
            "{bad}: {error}"
        );
    }
    let error = prepare_op("raft", "op = \"forty-two\"").unwrap_err();
    assert!(
        error.contains("workload.ops[0].op") && error.contains("a number"),
        "{error}"
    );
    let error = prepare_op("kv", "op = \"get k0\"\ndraw = 7").unwrap_err();
    assert!(error.contains("exactly one of `op` and `draw`"), "{error}");
    let error = prepare_op("kv", "").unwrap_err();
    assert!(error.contains("exactly one of `op` and `draw`"), "{error}");
}

#[test]
fn a_client_bound_to_its_own_key_touches_no_other() {
    let path = crate::root().join("scenarios/kv/basic.toml");
    let source = std::fs::read_to_string(&path).unwrap();
    let source = source.replace("[params]\n", "[params]\nkey_per_client = true\n");
    assert!(
        source.contains("key_per_client"),
        "basic.toml has a [params] table"
    );
    let scenario = sim_core::scenario::Scenario::parse(&path, source).unwrap();
    let output = quorumlab::commands::prepare_scenario(&scenario, None, false)
        .unwrap()
        .run(1, false);
    assert!(!output.result.verdict.is_failure(), "{:?}", output.result);
    let keys: std::collections::BTreeSet<(u32, String)> = output
        .history
        .iter()
        .map(|op| (op.client, op.key.clone().unwrap()))
        .collect();
    let clients: std::collections::BTreeSet<u32> = keys.iter().map(|(c, _)| *c).collect();
    assert!(clients.len() > 1, "{keys:?}");
    assert_eq!(keys.len(), clients.len(), "one key per client: {keys:?}");
}
