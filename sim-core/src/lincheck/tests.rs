//! Unit tests of the linearizability checker: small hand-written histories for each
//! model, linearizable and not, unknown outcomes placed late or never, the budget, the
//! parsers and the JSON format.

use super::*;

/// Builds operations tersely: `(client, invoke, complete, input, output)`;
/// `complete = None` means status info.
fn operation(
    client: u64,
    invoke_us: u64,
    complete_us: Option<u64>,
    op: OperationInput,
    output: OperationOutput,
) -> Operation {
    Operation {
        client,
        invoke_us,
        complete_us,
        key: None,
        op,
        output,
        status: if complete_us.is_some() {
            OperationStatus::Ok
        } else {
            OperationStatus::Info
        },
        source: None,
    }
}

fn write(value: i64) -> OperationInput {
    OperationInput::Write {
        value: Value::Int(value),
    }
}

fn read_value(value: i64) -> OperationOutput {
    OperationOutput::ReadValue {
        value: Value::Int(value),
    }
}

fn cas(from: i64, to: i64) -> OperationInput {
    OperationInput::Cas {
        from: Value::Int(from),
        to: Value::Int(to),
    }
}

fn check(operations: Vec<Operation>, model: ModelKind) -> CheckReport {
    let history = History {
        model: None,
        operations,
    };
    check_history(&history, Some(model), Budget::default()).expect("valid history")
}

fn register() -> ModelKind {
    ModelKind::Register {
        initial: Value::Int(0),
    }
}

fn cas_register() -> ModelKind {
    ModelKind::CasRegister {
        initial: Value::Int(0),
    }
}

#[test]
fn register_concurrent_write_and_read_are_linearizable() {
    let report = check(
        vec![
            operation(1, 0, Some(10), write(1), OperationOutput::Done),
            operation(2, 5, Some(6), OperationInput::Read, read_value(1)),
            operation(3, 7, Some(8), OperationInput::Read, read_value(1)),
        ],
        register(),
    );
    assert_eq!(
        report.verdict,
        Verdict::Linearizable,
        "{}",
        report.explanation
    );
}

#[test]
fn register_read_that_goes_back_in_time_is_not_linearizable() {
    let report = check(
        vec![
            operation(1, 0, Some(10), write(1), OperationOutput::Done),
            operation(2, 5, Some(6), OperationInput::Read, read_value(1)),
            // Once a read saw 1, a later read cannot see the initial 0.
            operation(3, 7, Some(8), OperationInput::Read, read_value(0)),
        ],
        register(),
    );
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    let counterexample = report.partitions[0]
        .counterexample
        .as_ref()
        .expect("explained");
    assert!(counterexample.unplaced.contains(&2), "{counterexample:?}");
    assert!(
        report.explanation.contains("read -> ok 0"),
        "{}",
        report.explanation
    );
}

#[test]
fn register_rejects_cas_and_kv_operations() {
    let history = History {
        model: None,
        operations: vec![operation(1, 0, Some(1), cas(0, 1), OperationOutput::Done)],
    };
    let error = check_history(&history, Some(register()), Budget::default()).expect_err("no cas");
    assert!(error.contains("has no cas"), "{error}");
}

#[test]
fn cas_register_success_and_failure_must_match_the_state() {
    let succeeded = |value| OperationOutput::CasResult { succeeded: value };
    let good = check(
        vec![
            operation(1, 0, Some(1), cas(0, 2), succeeded(true)),
            operation(2, 2, Some(3), cas(0, 3), succeeded(false)),
            operation(3, 4, Some(5), OperationInput::Read, read_value(2)),
        ],
        cas_register(),
    );
    assert_eq!(good.verdict, Verdict::Linearizable, "{}", good.explanation);
    // A CAS that reports a failed compare while the value equals `from` is impossible.
    let bad = check(
        vec![
            operation(1, 0, Some(1), cas(0, 2), succeeded(false)),
            operation(3, 4, Some(5), OperationInput::Read, read_value(0)),
        ],
        cas_register(),
    );
    assert_eq!(bad.verdict, Verdict::NotLinearizable);
}

#[test]
fn writing_the_current_value_is_not_a_read_only_operation() {
    // The second write of 1 is a no-op if linearized first, but it must be linearized
    // after the write of 3 for the final read to see 1. A search that treated "left the
    // state unchanged this time" as read-only would call this non-linearizable.
    let report = check(
        vec![
            operation(1, 1, Some(2), write(1), OperationOutput::Done),
            operation(1, 3, Some(6), write(1), OperationOutput::Done),
            operation(2, 4, Some(5), write(3), OperationOutput::Done),
            operation(3, 7, Some(8), OperationInput::Read, read_value(1)),
        ],
        register(),
    );
    assert_eq!(
        report.verdict,
        Verdict::Linearizable,
        "{}",
        report.explanation
    );
}

#[test]
fn unknown_outcome_takes_effect_late_or_never_but_not_before_its_invocation() {
    // Info write of 1 invoked at 5: a read of 1 that completed before 5 is impossible.
    let too_early = check(
        vec![
            operation(1, 5, None, write(1), OperationOutput::Unknown),
            operation(2, 1, Some(2), OperationInput::Read, read_value(1)),
        ],
        register(),
    );
    assert_eq!(too_early.verdict, Verdict::NotLinearizable);
    // Placed late: reads long after still see 0, then 1.
    let late = check(
        vec![
            operation(1, 5, None, write(1), OperationOutput::Unknown),
            operation(2, 10, Some(11), OperationInput::Read, read_value(0)),
            operation(2, 20, Some(21), OperationInput::Read, read_value(1)),
            operation(2, 30, Some(31), OperationInput::Read, read_value(1)),
        ],
        register(),
    );
    assert_eq!(late.verdict, Verdict::Linearizable, "{}", late.explanation);
    // Never: the value stays 0 forever.
    let never = check(
        vec![
            operation(1, 5, None, write(1), OperationOutput::Unknown),
            operation(2, 10, Some(11), OperationInput::Read, read_value(0)),
            operation(2, 90, Some(91), OperationInput::Read, read_value(0)),
        ],
        register(),
    );
    assert_eq!(
        never.verdict,
        Verdict::Linearizable,
        "{}",
        never.explanation
    );
    // But it takes effect at most once: 0, 1, 0 is impossible.
    let twice = check(
        vec![
            operation(1, 5, None, write(1), OperationOutput::Unknown),
            operation(2, 10, Some(11), OperationInput::Read, read_value(0)),
            operation(2, 20, Some(21), OperationInput::Read, read_value(1)),
            operation(2, 30, Some(31), OperationInput::Read, read_value(0)),
        ],
        register(),
    );
    assert_eq!(twice.verdict, Verdict::NotLinearizable);
}

#[test]
fn failed_operations_did_not_happen() {
    let mut failed_write = operation(1, 0, Some(1), write(1), OperationOutput::Done);
    failed_write.status = OperationStatus::Fail;
    let report = check(
        vec![
            failed_write,
            operation(2, 5, Some(6), OperationInput::Read, read_value(1)),
        ],
        register(),
    );
    assert_eq!(report.verdict, Verdict::NotLinearizable);
}

#[test]
fn key_value_store_is_checked_per_key_and_names_the_failing_key() {
    let keyed = |client, invoke, complete, key: &str, op, output| Operation {
        key: Some(key.to_string()),
        ..operation(client, invoke, Some(complete), op, output)
    };
    let get = |value: &str| OperationOutput::GetValue {
        value: value.to_string(),
    };
    let append = |value: &str| OperationInput::Append {
        value: value.to_string(),
    };
    let mut operations = vec![
        keyed(1, 0, 3, "a", append("x"), OperationOutput::Done),
        keyed(2, 1, 2, "a", append("y"), OperationOutput::Done),
        keyed(3, 4, 5, "a", OperationInput::Get, get("yx")),
        keyed(
            4,
            0,
            1,
            "b",
            OperationInput::Put { value: "p".into() },
            OperationOutput::Done,
        ),
        keyed(5, 2, 3, "b", OperationInput::Get, get("p")),
    ];
    let good = check(operations.clone(), ModelKind::KeyValue);
    assert_eq!(good.verdict, Verdict::Linearizable, "{}", good.explanation);
    assert_eq!(good.partitions.len(), 2);
    // "b" then reads a value nobody wrote.
    operations.push(keyed(5, 6, 7, "b", OperationInput::Get, get("q")));
    let bad = check(operations, ModelKind::KeyValue);
    assert_eq!(bad.verdict, Verdict::NotLinearizable);
    let failed: Vec<_> = bad
        .partitions
        .iter()
        .filter(|partition| partition.verdict == Verdict::NotLinearizable)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key.as_deref(), Some("b"));
    assert!(bad.explanation.contains("key \"b\""), "{}", bad.explanation);
}

#[test]
fn key_value_cas_must_match_the_value_and_failed_cas_changes_nothing() {
    let text = |value: &str| Value::Text(value.to_string());
    let kv_cas = |from: &str, to: &str| OperationInput::Cas {
        from: text(from),
        to: text(to),
    };
    let result = |succeeded| OperationOutput::CasResult { succeeded };
    let get = |value: &str| OperationOutput::GetValue {
        value: value.to_string(),
    };
    let put = OperationInput::Put { value: "v0".into() };
    let sequential = |operations: Vec<(OperationInput, OperationOutput)>| {
        let operations = operations
            .into_iter()
            .enumerate()
            .map(|(position, (op, output))| {
                let at = 10 * position as u64;
                operation(1, at, Some(at + 5), op, output)
            })
            .collect();
        check(operations, ModelKind::KeyValue).verdict
    };
    // An absent key reads as the empty string: a cas from "" succeeds on it.
    assert_eq!(
        sequential(vec![
            (kv_cas("", "v1"), result(true)),
            (OperationInput::Get, get("v1")),
            (kv_cas("v0", "v2"), result(false)),
            (OperationInput::Get, get("v1")),
        ]),
        Verdict::Linearizable
    );
    assert_eq!(
        sequential(vec![
            (put.clone(), OperationOutput::Done),
            (kv_cas("v1", "v2"), result(true)),
        ]),
        Verdict::NotLinearizable
    );
    assert_eq!(
        sequential(vec![
            (put, OperationOutput::Done),
            (kv_cas("v0", "v2"), result(false)),
        ]),
        Verdict::NotLinearizable
    );
    let integer_cas = operation(1, 0, Some(1), cas(1, 2), result(true));
    let history = History {
        model: None,
        operations: vec![integer_cas],
    };
    let error = check_history(&history, Some(ModelKind::KeyValue), Budget::default());
    assert!(error.unwrap_err().contains("not integers"));
}

#[test]
fn multi_register_transactions_are_atomic() {
    let write_both = OperationInput::Transaction {
        micro_operations: vec![
            MicroOperation::Write {
                register: "x".into(),
                value: Value::Int(1),
            },
            MicroOperation::Write {
                register: "y".into(),
                value: Value::Int(1),
            },
        ],
    };
    let read_both = |x, y| {
        (
            OperationInput::Transaction {
                micro_operations: vec![
                    MicroOperation::Read {
                        register: "x".into(),
                        value: Value::Nil,
                    },
                    MicroOperation::Read {
                        register: "y".into(),
                        value: Value::Nil,
                    },
                ],
            },
            OperationOutput::TransactionResult {
                micro_operations: vec![
                    MicroOperation::Read {
                        register: "x".into(),
                        value: Value::Int(x),
                    },
                    MicroOperation::Read {
                        register: "y".into(),
                        value: Value::Int(y),
                    },
                ],
            },
        )
    };
    let model = ModelKind::MultiRegister {
        initial: Value::Int(0),
    };
    let (input, output) = read_both(1, 1);
    let good = check(
        vec![
            operation(1, 0, Some(10), write_both.clone(), OperationOutput::Done),
            operation(2, 2, Some(3), input, output),
        ],
        model.clone(),
    );
    assert_eq!(good.verdict, Verdict::Linearizable, "{}", good.explanation);
    // Concurrent with the write, a read may see all or nothing, never half.
    let (input, output) = read_both(1, 0);
    let torn = check(
        vec![
            operation(1, 0, Some(10), write_both, OperationOutput::Done),
            operation(2, 2, Some(3), input, output),
        ],
        model,
    );
    assert_eq!(torn.verdict, Verdict::NotLinearizable);
}

#[test]
fn mutex_cannot_be_held_twice() {
    let done = || OperationOutput::Done;
    let good = check(
        vec![
            operation(1, 0, Some(1), OperationInput::Acquire, done()),
            operation(2, 2, Some(5), OperationInput::Acquire, done()),
            operation(1, 3, Some(4), OperationInput::Release, done()),
        ],
        ModelKind::Mutex,
    );
    assert_eq!(good.verdict, Verdict::Linearizable, "{}", good.explanation);
    let bad = check(
        vec![
            operation(1, 0, Some(1), OperationInput::Acquire, done()),
            operation(2, 2, Some(3), OperationInput::Acquire, done()),
        ],
        ModelKind::Mutex,
    );
    assert_eq!(bad.verdict, Verdict::NotLinearizable);
    // An acquire with an unknown outcome may never have happened.
    let crashed = check(
        vec![
            operation(
                1,
                0,
                None,
                OperationInput::Acquire,
                OperationOutput::Unknown,
            ),
            operation(2, 2, Some(3), OperationInput::Acquire, done()),
        ],
        ModelKind::Mutex,
    );
    assert_eq!(
        crashed.verdict,
        Verdict::Linearizable,
        "{}",
        crashed.explanation
    );
}

#[test]
fn exhausted_budget_answers_unknown_not_a_verdict() {
    // Twelve concurrent writes then an impossible read: a full search needs thousands
    // of steps.
    let mut operations: Vec<Operation> = (0..12)
        .map(|client| {
            operation(
                client,
                0,
                Some(100),
                write(client as i64 + 1),
                OperationOutput::Done,
            )
        })
        .collect();
    operations.push(operation(
        99,
        200,
        Some(201),
        OperationInput::Read,
        read_value(77),
    ));
    let history = History {
        model: None,
        operations,
    };
    let starved =
        check_history(&history, Some(register()), Budget { max_steps: 50 }).expect("valid");
    assert_eq!(starved.verdict, Verdict::Unknown);
    assert_eq!(starved.steps, 50);
    assert!(
        starved.explanation.contains("budget"),
        "{}",
        starved.explanation
    );
    let full = check_history(&history, Some(register()), Budget::default()).expect("valid");
    assert_eq!(full.verdict, Verdict::NotLinearizable);
    assert!(full.steps > 50);
}

#[test]
fn partition_search_resumes_where_it_stopped() {
    let operations: Vec<Operation> = (0..8)
        .map(|client| {
            operation(
                client,
                0,
                Some(100),
                write(client as i64 + 1),
                OperationOutput::Done,
            )
        })
        .chain([operation(
            99,
            200,
            Some(201),
            OperationInput::Read,
            read_value(77),
        )])
        .collect();
    let search_operations: Vec<SearchOperation<'_>> = operations
        .iter()
        .enumerate()
        .map(|(operation_index, operation)| SearchOperation {
            operation_index,
            invoke_time: operation.invoke_us,
            complete_time: operation.complete_us,
            input: &operation.op,
            output: &operation.output,
        })
        .collect();
    let model = RegisterModel {
        initial: Value::Int(0),
    };
    let whole = search::search(&model, &search_operations, u64::MAX);
    let mut partition_search = search::PartitionSearch::new(&model, &search_operations);
    let mut calls = 0;
    while partition_search.run(7).is_none() {
        calls += 1;
        assert!(calls < 1_000_000);
    }
    assert!(calls > 1);
    assert_eq!(partition_search.outcome(), whole);
    assert_eq!(whole.verdict, Verdict::NotLinearizable);
}

#[test]
fn history_json_round_trips_and_matches_the_documented_example() {
    let text = r#"{
      "model": {"kind": "cas-register", "initial": null},
      "operations": [
        {"client": 1, "invoke_us": 10, "complete_us": 25, "key": null,
         "op": {"type": "cas", "from": null, "to": 2},
         "output": {"type": "cas_result", "succeeded": true}, "status": "ok"},
        {"client": 2, "invoke_us": 12, "complete_us": null,
         "op": {"type": "write", "value": 3}, "output": {"type": "unknown"},
         "status": "info"},
        {"client": 3, "invoke_us": 30, "complete_us": 31,
         "op": {"type": "read"}, "output": {"type": "read_value", "value": 3},
         "status": "ok", "source": "node3.log:17"}
      ]
    }"#;
    let history = History::from_json(text).expect("the documented format parses");
    assert_eq!(
        history.model,
        Some(ModelKind::CasRegister {
            initial: Value::Nil
        })
    );
    assert_eq!(
        history.operations[0].op,
        OperationInput::Cas {
            from: Value::Nil,
            to: Value::Int(2)
        }
    );
    assert_eq!(
        History::from_json(&history.to_json()).expect("round trip"),
        history
    );
    let verdict = check_text("history.json", text, None, Budget::default()).expect("checks");
    assert_eq!(verdict.format, HistoryFormat::QuorumlabJson);
    assert_eq!(
        verdict.verdict(),
        Verdict::Linearizable,
        "{}",
        verdict.report.explanation
    );
    assert_eq!(verdict.report.model, "cas-register(init=nil)");

    let info_with_completion = text.replace(r#""complete_us": null"#, r#""complete_us": 13"#);
    let error = History::from_json(&info_with_completion).expect_err("info must not complete");
    assert!(
        error.contains("status info must have complete_us null"),
        "{error}"
    );
}

#[test]
fn client_with_two_pending_operations_is_rejected() {
    let history = History {
        model: None,
        operations: vec![
            operation(1, 0, Some(10), write(1), OperationOutput::Done),
            operation(1, 5, Some(6), OperationInput::Read, read_value(1)),
        ],
    };
    let error = check_history(&history, Some(register()), Budget::default()).expect_err("overlap");
    assert!(error.contains("still pending"), "{error}");
}

#[test]
fn jepsen_etcd_log_semantics() {
    // nil read = absent; :fail :cas = compare failed (so the value was not 1);
    // :fail :read = nothing; :info = unknown.
    let log = "\
noise line that is not a history event
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]
INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]
INFO  jepsen.util - 2\t:invoke\t:write\t4
INFO  jepsen.util - 2\t:info\t:write\t:timed-out
INFO  jepsen.util - 3\t:invoke\t:read\tnil
INFO  jepsen.util - 3\t:fail\t:read\t:timed-out
INFO  jepsen.util - 4\t:invoke\t:read\tnil
INFO  jepsen.util - 4\t:ok\t:read\t4
";
    let verdict = check_text("etcd.log", log, None, Budget::default()).expect("parses");
    assert_eq!(verdict.format, HistoryFormat::JepsenEtcdLog);
    assert_eq!(verdict.report.model, "cas-register(init=nil)");
    assert_eq!(
        verdict.verdict(),
        Verdict::Linearizable,
        "{}",
        verdict.report.explanation
    );
    // Reading 2 is impossible: the only CAS to 2 failed.
    let bad = log.replace("4\t:ok\t:read\t4", "4\t:ok\t:read\t2");
    let verdict = check_text("etcd.log", &bad, None, Budget::default()).expect("parses");
    assert_eq!(verdict.verdict(), Verdict::NotLinearizable);
    assert!(
        verdict.report.explanation.contains("etcd.log:10"),
        "{}",
        verdict.report.explanation
    );

    let malformed = log.replace("1\t:fail\t:cas\t[1 2]", "1\t:done\t:cas\t[1 2]");
    let error = check_text("etcd.log", &malformed, None, Budget::default()).expect_err("bad type");
    assert!(error.starts_with("etcd.log:5: unknown type"), "{error}");
}

#[test]
fn knossos_edn_semantics_and_errors() {
    let edn = r#"; comment line
[{:process 0, :type :invoke, :f :write, :value 1}
 {:process :nemesis, :type :info, :f :start, :value nil}
 {:process 0, :type :ok, :f :write, :value 1}
 ; nil read = unknown result
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 1, :type :ok, :f :read, :value nil}
 {:process 2, :type :invoke, :f :cas, :value [1 3]}
 {:process 2, :type :fail, :f :cas, :value [1 3]}
 {:process 3, :type :invoke, :f :read, :value nil}
 {:process 3, :type :ok, :f :read, :value 1}]
"#;
    let verdict = check_text("h.edn", edn, None, Budget::default()).expect("parses");
    assert_eq!(verdict.format, HistoryFormat::KnossosEdn);
    assert_eq!(verdict.report.model, "cas-register(init=0)");
    assert_eq!(
        verdict.verdict(),
        Verdict::Linearizable,
        "{}",
        verdict.report.explanation
    );
    // Under Knossos a :fail CAS did not happen, so reading its value is impossible.
    let bad = edn.replace(":ok, :f :read, :value 1}", ":ok, :f :read, :value 3}");
    let verdict = check_text("h.edn", &bad, None, Budget::default()).expect("parses");
    assert_eq!(verdict.verdict(), Verdict::NotLinearizable);

    let unclosed = edn.replace("{:process 2, :type :invoke", "{:process 2 :type :invoke [");
    let error = check_text("h.edn", &unclosed, None, Budget::default()).expect_err("unbalanced");
    assert!(error.starts_with("h.edn: line"), "{error}");
    let orphan = edn.replace("{:process 3, :type :invoke, :f :read, :value nil}", "");
    let error = check_text("h.edn", &orphan, None, Budget::default()).expect_err("no invoke");
    assert!(
        error.starts_with("h.edn:11: process 3 completes an operation it never invoked"),
        "{error}"
    );
}

#[test]
fn edn_operation_lines_are_key_value_histories() {
    let lines = r#"{:process 0, :type :invoke, :f :put, :key "k", :value "a"}
{:process 0, :type :ok, :f :put, :key "k", :value "a"}
{:process 1, :type :invoke, :f :get, :key "k", :value nil}
{:process 1, :type :ok, :f :get, :key "k", :value "a"}
{:process 1, :type :invoke, :f :get, :key "other", :value nil}
{:process 1, :type :ok, :f :get, :key "other", :value ""}
"#;
    let verdict = check_text("kv.txt", lines, None, Budget::default()).expect("parses");
    assert_eq!(verdict.format, HistoryFormat::EdnOperationLines);
    assert_eq!(verdict.report.model, "kv");
    assert_eq!(
        verdict.verdict(),
        Verdict::Linearizable,
        "{}",
        verdict.report.explanation
    );
    assert_eq!(verdict.report.partitions.len(), 2);
    // Overriding the model is checked against the operations.
    let error = check_text("kv.txt", lines, Some(ModelKind::Mutex), Budget::default())
        .expect_err("a get is not a mutex operation");
    assert!(
        error.contains("the mutex model has no put operation"),
        "{error}"
    );
}

#[test]
fn format_detection_and_model_names() {
    assert_eq!(
        parse::detect_format("; c\n[{:process 0}]").expect("edn"),
        HistoryFormat::KnossosEdn
    );
    assert_eq!(
        parse::detect_format(" {\"operations\": []}").expect("json"),
        HistoryFormat::QuorumlabJson
    );
    assert!(parse::detect_format("\n  \n").is_err());
    assert!(parse::detect_format("hello").is_err());
    for name in [
        "register(init=0)",
        "cas-register(init=nil)",
        "kv",
        "multi-register(init=0)",
        "mutex",
    ] {
        assert_eq!(ModelKind::parse(name).expect(name).name(), name);
    }
    assert_eq!(
        ModelKind::parse("cas-register").expect("default init"),
        cas_register()
    );
    assert!(ModelKind::parse("queue").is_err());
    assert!(ModelKind::parse("register(init=x)").is_err());
}

#[test]
fn identical_unknown_outcome_operations_are_used_in_invocation_order_only() {
    // Two crashed writes of 1 can both take effect, at different times.
    let both_used = |second_invoke_us| {
        check(
            vec![
                operation(1, 1, None, write(1), OperationOutput::Unknown),
                operation(
                    2,
                    second_invoke_us,
                    None,
                    write(1),
                    OperationOutput::Unknown,
                ),
                operation(3, 3, Some(4), OperationInput::Read, read_value(1)),
                operation(3, 5, Some(6), write(0), OperationOutput::Done),
                operation(3, 7, Some(8), OperationInput::Read, read_value(1)),
            ],
            register(),
        )
    };
    let report = both_used(2);
    assert_eq!(
        report.verdict,
        Verdict::Linearizable,
        "{}",
        report.explanation
    );
    // But not before the later one is invoked.
    assert_eq!(both_used(10).verdict, Verdict::NotLinearizable);
}

/// A get recorded as its value's digest (what a long kv value becomes in a history) is
/// checked as the value itself would be (issue 14: histories linear in operations).
#[test]
fn key_value_gets_recorded_as_digests_are_checked_as_their_values() {
    let long = |count: usize| "c1s1;".repeat(count);
    let history = |read: OperationOutput| {
        let mut operations: Vec<Operation> = (0..40)
            .map(|i| Operation {
                key: Some("k".to_string()),
                ..operation(
                    1,
                    10 * i,
                    Some(10 * i + 5),
                    OperationInput::Append {
                        value: "c1s1;".to_string(),
                    },
                    OperationOutput::Done,
                )
            })
            .collect();
        operations.push(Operation {
            key: Some("k".to_string()),
            ..operation(2, 1000, Some(1001), OperationInput::Get, read)
        });
        check(operations, ModelKind::KeyValue).verdict
    };
    let digest = |text: &str| OperationOutput::GetDigest {
        digest: crate::lincheck::TextDigest::of(text),
    };
    assert_eq!(history(digest(&long(40))), Verdict::Linearizable);
    assert_eq!(
        history(OperationOutput::GetValue { value: long(40) }),
        Verdict::Linearizable
    );
    assert_eq!(history(digest(&long(39))), Verdict::NotLinearizable);
    assert_eq!(
        history(digest(&(long(39) + "c1s2;"))),
        Verdict::NotLinearizable
    );
}
