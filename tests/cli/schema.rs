//! `quorumlab schema`: the JSON Schema of scenario files accepts every bundled scenario
//! and refuses wrong ones.

use crate::{quorumlab, root, stderr, stdout};

/// The schema the CLI prints, as a validator.
pub(crate) fn printed_schema(args: &[&str]) -> (serde_json::Value, jsonschema::Validator) {
    let output = quorumlab(args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    (schema, validator)
}

/// A scenario file's TOML as the JSON a schema validator reads.
pub(crate) fn toml_as_json(source: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(source).expect("TOML");
    serde_json::to_value(value).expect("TOML values are JSON values")
}

fn bundled_scenarios() -> Vec<std::path::PathBuf> {
    quorumlab::collect_scenarios(&[root().join("scenarios")]).expect("scenarios/ is readable")
}

#[test]
fn every_bundled_scenario_validates_against_the_schema() {
    let (_, validator) = printed_schema(&["schema"]);
    let files = bundled_scenarios();
    assert!(
        files.len() > 30,
        "found only {} scenario files",
        files.len()
    );
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let instance = toml_as_json(&source);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn the_schema_refuses_wrong_scenarios() {
    let (_, validator) = printed_schema(&["schema"]);
    let valid = "protocol = \"raft\"\nnodes = 3\nduration_ms = 1000\n\
                 [[faults]]\nat_ms = 10\naction = \"crash\"\nnode = 1\n\
                 [nemesis]\nkinds = { crash = 2, partition = 1 }\n";
    assert!(
        validator.is_valid(&toml_as_json(valid)),
        "the baseline is valid"
    );
    let wrong = [
        (
            "an unknown action",
            valid.replace("\"crash\"", "\"explode\""),
        ),
        (
            "a string for a number",
            valid.replace("nodes = 3", "nodes = \"three\""),
        ),
        ("an unknown top-level field", format!("nodez = 3\n{valid}")),
        ("a missing field", valid.replace("duration_ms = 1000\n", "")),
        (
            "an unknown nemesis kind",
            valid.replace("crash = 2", "explode = 2"),
        ),
        (
            "a field the action does not take",
            valid.replace("node = 1", "node = 1\ngroups = [[0], [1, 2]]"),
        ),
    ];
    for (what, source) in wrong {
        assert!(
            !validator.is_valid(&toml_as_json(&source)),
            "{what} passes the schema:\n{source}"
        );
    }
}

#[test]
fn schema_for_a_protocol_constrains_protocol() {
    let (schema, validator) = printed_schema(&["schema", "--protocol", "raft"]);
    assert_eq!(
        schema["properties"]["protocol"]["const"], "raft",
        "{schema:#}"
    );
    let raft = toml_as_json("protocol = \"raft\"\nnodes = 3\nduration_ms = 1000\n");
    let kv = toml_as_json("protocol = \"kv\"\nnodes = 3\nduration_ms = 1000\n");
    assert!(validator.is_valid(&raft));
    assert!(
        !validator.is_valid(&kv),
        "a kv scenario passes the raft schema"
    );
    // Without --protocol, any protocol name is allowed.
    let (_, any) = printed_schema(&["schema"]);
    assert!(any.is_valid(&kv));
}

#[test]
fn schema_for_an_unknown_protocol_is_an_error_listing_the_known_ones() {
    let output = quorumlab(&["schema", "--protocol", "rafft"]);
    assert_eq!(output.status.code(), Some(2));
    let error = stderr(&output);
    assert!(
        error.contains("unknown protocol `rafft`") && error.contains("raft, kv, pingpong"),
        "{error}"
    );
}

#[test]
fn a_schema_comment_line_does_not_change_a_scenario() {
    // Taplo reads `#:schema PATH` on the first line; for TOML it is a comment.
    let path = root().join("scenarios/raft/nemesis.toml");
    let source = std::fs::read_to_string(&path).unwrap();
    let plain = sim_core::scenario::Scenario::parse(&path, source.clone()).expect("bundled");
    let marked = sim_core::scenario::Scenario::parse(
        &path,
        format!("#:schema ./scenario.schema.json\n{source}"),
    )
    .expect("a #:schema line parses");
    assert_eq!(
        format!("{:?}", plain.file),
        format!("{:?}", marked.file),
        "the #:schema line changed the parsed scenario"
    );
}

#[test]
fn every_bundled_scenario_validates_against_its_protocols_schema() {
    let mut validators = std::collections::BTreeMap::new();
    for file in bundled_scenarios() {
        let source = std::fs::read_to_string(&file).unwrap();
        let instance = toml_as_json(&source);
        let protocol = instance["protocol"].as_str().expect("protocol").to_string();
        let validator = validators
            .entry(protocol.clone())
            .or_insert_with(|| printed_schema(&["schema", "--protocol", &protocol]).1);
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|error| format!("{} at {}", error, error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
    assert!(validators.len() >= 3, "raft, kv and pingpong scenarios");
}

#[test]
fn a_protocols_schema_types_its_params_and_check_fields() {
    let (schema, validator) = printed_schema(&["schema", "--protocol", "kv"]);
    let params = &schema["properties"]["params"]["properties"];
    assert!(
        params["keys"].is_object() && params["election_timeout_ms"].is_object(),
        "{schema:#}"
    );
    let check = &schema["properties"]["check"]["properties"];
    assert!(
        check["max_term"].is_object() && check["max_crashes"].is_object(),
        "{schema:#}"
    );
    let base = "protocol = \"kv\"\nnodes = 3\nduration_ms = 100\n";
    for (what, extra) in [
        ("a misspelt param", "[params]\nkey = 5\n"),
        ("a string for a number", "[params]\nkeys = \"five\"\n"),
        (
            "an unknown key distribution",
            "[params]\nkey_distribution = \"zipfian\"\n",
        ),
        ("a misspelt check bound", "[check]\nmax_terms = 2\n"),
    ] {
        let instance = toml_as_json(&format!("{base}{extra}"));
        assert!(
            !validator.is_valid(&instance),
            "{what} passes the kv schema"
        );
    }
    let good = toml_as_json(&format!(
        "{base}[params]\nkeys = 3\nkey_distribution = \"zipf\"\nheartbeat_ms = 40\n[check]\nmax_term = 2\nmax_crashes = 1\n"
    ));
    let errors: Vec<String> = validator
        .iter_errors(&good)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
