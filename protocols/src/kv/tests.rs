//! Unit tests of the kv machine: sessions, the workload's op choice, configuration errors.

use super::*;

fn configure(text: &str, mutant: Option<&str>) -> Result<KvConfig, ConfigError> {
    let table: toml::Table = toml::from_str(text).expect("toml");
    registration()
        .configure(table, 3, mutant)
        .map(|config| config.machine)
}

fn append(key: u32, client: ClientId, seq: u64) -> KvOp {
    KvOp::Append { key, client, seq }
}

#[test]
fn a_retried_append_applies_once_and_answers_again() {
    let config = KvConfig::default();
    let mut machine = KvMachine::default();
    assert_eq!(
        machine.apply(&config, 1, 1, &append(0, 1, 1)),
        KvOutput::Done
    );
    // The same request committed a second time (a retry at a new leader).
    assert_eq!(
        machine.apply(&config, 1, 1, &append(0, 1, 1)),
        KvOutput::Done
    );
    assert_eq!(machine.value(0), "[1.1]");
    // Another client's request with the same request id is a different request.
    machine.apply(&config, 2, 1, &append(0, 2, 1));
    machine.apply(&config, 1, 2, &append(0, 1, 2));
    assert_eq!(machine.value(0), "[1.1][2.1][1.2]");
    // A stale duplicate of an older request changes nothing.
    machine.apply(&config, 1, 1, &append(0, 1, 1));
    assert_eq!(machine.value(0), "[1.1][2.1][1.2]");
}

#[test]
fn without_the_session_table_a_retried_append_applies_twice() {
    let config = configure("", Some("no-dedupe")).expect("valid");
    assert_eq!(config.mutant, Some(KvMutant::NoDedupe));
    let mut machine = KvMachine::default();
    machine.apply(&config, 1, 1, &append(0, 1, 1));
    machine.apply(&config, 1, 1, &append(0, 1, 1));
    assert_eq!(machine.value(0), "[1.1][1.1]");
}

#[test]
fn cas_sets_only_when_the_value_matches() {
    let config = KvConfig::default();
    let mut machine = KvMachine::default();
    let cas = |from: u32, to: u32| KvOp::Cas { key: 1, from, to };
    assert_eq!(
        machine.apply(&config, 1, 1, &cas(0, 1)),
        KvOutput::Cas { succeeded: false }
    );
    machine.apply(&config, 1, 2, &KvOp::Put { key: 1, value: 0 });
    assert_eq!(
        machine.apply(&config, 1, 3, &cas(0, 1)),
        KvOutput::Cas { succeeded: true }
    );
    assert_eq!(machine.value(1), "v1");
    assert_eq!(
        machine.apply(&config, 1, 4, &KvOp::Get { key: 1 }),
        KvOutput::Value { value: "v1".into() }
    );
}

#[test]
fn client_ops_follow_the_key_space_and_the_op_mix() {
    let config = configure(
        "keys = 3\nget_weight = 0\nput_weight = 0\ncas_weight = 0",
        None,
    )
    .expect("valid");
    let mut keys_seen = [0u32; 3];
    for draw in 0..300u64 {
        let draw = draw.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let op = KvMachine::client_op(&config, 7, draw, draw);
        assert_eq!(
            op,
            KvMachine::client_op(&config, 7, draw, draw),
            "deterministic"
        );
        let KvOp::Append { key, client, seq } = op else {
            panic!("only appends have weight: {op:?}");
        };
        assert_eq!((client, seq), (7, draw));
        keys_seen[key as usize] += 1;
    }
    assert!(keys_seen.iter().all(|&count| count > 50), "{keys_seen:?}");
}

#[test]
fn zipf_keys_favour_the_first_key() {
    let config = configure(
        "keys = 10\nkey_distribution = \"zipf\"\nzipf_exponent = 1.2",
        None,
    )
    .expect("valid");
    assert_eq!(config.key_distribution, KeyDistribution::Zipf);
    let mut counts = [0u32; 10];
    for draw in 0..10_000u64 {
        counts[config.key_index(draw.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 3) as usize] += 1;
    }
    assert!(counts[0] > counts[1] && counts[1] > counts[9], "{counts:?}");
    assert!(counts[0] > 2500, "{counts:?}");
}

#[test]
fn bad_params_name_the_field() {
    let field = |text: &str, mutant: Option<&str>| configure(text, mutant).unwrap_err().field;
    assert_eq!(field("keys = 0", None), "keys");
    assert_eq!(
        field("key_distribution = \"pareto\"", None),
        "key_distribution"
    );
    assert_eq!(
        field(
            "get_weight = 0\nput_weight = 0\nappend_weight = 0\ncas_weight = 0",
            None
        ),
        "get_weight"
    );
    assert_eq!(field("zipf_exponent = \"big\"", None), "zipf_exponent");
    assert_eq!(field("no_such_param = 1", None), "no_such_param");
    // Raft's own mutants belong to the raft protocol; kv has its three.
    assert_eq!(field("", Some("vote-ignores-log")), "mutant");
    for name in ["stale-read", "no-dedupe", "reply-before-commit"] {
        assert!(configure("", Some(name)).is_ok(), "{name}");
    }
}

#[test]
fn history_vocabulary_matches_the_key_value_model() {
    let op = KvOp::Cas {
        key: 2,
        from: 0,
        to: 1,
    };
    let (key, input) = KvMachine::history_input(&op).expect("kv has a history model");
    assert_eq!(key.as_deref(), Some("k2"));
    assert_eq!(
        serde_json::to_string(&input).unwrap(),
        r#"{"type":"cas","from":"v0","to":"v1"}"#
    );
    let output = KvMachine::history_output(&op, &KvOutput::Cas { succeeded: true });
    assert_eq!(
        serde_json::to_string(&output).unwrap(),
        r#"{"type":"cas_result","succeeded":true}"#
    );
}
