//! The outside crate's binary is quorumlab's whole CLI with `gossip-max` beside the
//! bundled protocols: `list` names it, `sweep` runs it (and catches its mutant), `schema`
//! types its `[params]`, and a name that clashes with a bundled protocol is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn outside(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_outside-quorumlab"))
        .args(args)
        .current_dir(crate_dir())
        .output()
        .expect("the outside binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("outside-protocol-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn list_shows_the_outside_protocol_beside_the_bundled_ones() {
    let output = outside(&["list", "protocols", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let names: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|row| row["name"].as_str())
        .collect();
    assert!(
        names.contains(&"gossip-max") && names.contains(&"raft"),
        "{names:?}"
    );
}

#[test]
fn a_sweep_of_the_outside_protocol_passes_and_its_mutant_is_caught() {
    let out = temp_dir("sweep");
    let output = outside(&[
        "sweep",
        "scenarios/gossip.toml",
        "--seeds",
        "1..40",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
            .expect("summary.json");
    assert_eq!(summary["seeds"].as_u64(), Some(40), "{summary:#}");
    assert_eq!(summary["failed"].as_u64(), Some(0), "{summary:#}");

    let mutant_out = temp_dir("mutant");
    let output = outside(&[
        "sweep",
        "scenarios/gossip.toml",
        "--seeds",
        "1..40",
        "--mutant",
        "adopt-any",
        "--out",
        mutant_out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(
        text(&output.stdout).contains("monotone"),
        "{}",
        text(&output.stdout)
    );
    let _ = std::fs::remove_dir_all(out);
    let _ = std::fs::remove_dir_all(mutant_out);
}

#[test]
fn schema_types_the_outside_protocols_params() {
    let output = outside(&["schema", "--protocol", "gossip-max"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(
        schema["properties"]["params"]["properties"]["round_ms"].is_object(),
        "{schema:#}"
    );
}

#[test]
fn a_bad_param_of_the_outside_protocol_names_the_field() {
    let dir = temp_dir("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    let source = std::fs::read_to_string(crate_dir().join("scenarios/gossip.toml"))
        .unwrap()
        .replace("round_ms = 20", "round_ms = 0");
    std::fs::write(&path, source).unwrap();
    let output = outside(&["run", path.to_str().unwrap(), "--seed", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("params.round_ms"),
        "{}",
        text(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(dir);
}
