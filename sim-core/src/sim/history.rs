//! The run's client history in the linearizability checker's vocabulary, and the
//! end-of-run linearizability check.

use serde_json::Value;

use crate::protocol::*;
use crate::result::{HistoryOp, Verdict};

use super::Sim;

/// The property a protocol with a history model fails when its client history is not
/// linearizable (or, with verdict `budget`, when the check ran out of budget).
pub const LINEARIZABLE: &str = "linearizable";

/// The end-of-run linearizability check's budget, in model steps over all keys. Most kv
/// runs need about one step per operation (a millisecond or two); the hardest seen, 2,563
/// operations with 20 clients on a zipf-hot key (`scenarios/kv/many_clients.toml` seed 15),
/// needs 1.2 million (0.3 s). Ten million keeps a run within a few seconds at worst; over
/// budget the verdict is `budget`, never a pass.
pub const LINCHECK_MAX_STEPS: u64 = 10_000_000;

impl<P: Protocol> Sim<'_, P> {
    /// Record an invoked operation; returns its index in the history. A protocol with a
    /// history model records its operations in the linearizability checker's vocabulary,
    /// so that `history.json` is what `quorumlab lincheck` reads.
    pub(super) fn record_invoke(
        &mut self,
        client: ClientId,
        request: u64,
        op: &P::Op,
        draw: u64,
        fire_and_forget: bool,
    ) -> usize {
        let history = self.prepared.registration.history.as_ref();
        let (key, op_json) = match history.and_then(|hooks| (hooks.input)(op)) {
            Some((key, input)) => (key, serde_json::to_value(&input).unwrap_or(Value::Null)),
            None => (None, serde_json::to_value(op).unwrap_or(Value::Null)),
        };
        self.note_invoke(client, request);
        self.history.push(HistoryOp {
            client,
            request,
            invoke_us: self.now,
            complete_us: None,
            status: "info".to_string(),
            key,
            op: op_json,
            reply: None,
            output: None,
            draw,
            fire_and_forget,
        });
        self.history.len() - 1
    }

    /// Record the completion of the operation at `history_index`; returns its invoke time.
    pub(super) fn record_completion(
        &mut self,
        history_index: usize,
        status: &str,
        op: &P::Op,
        reply: &P::Reply,
    ) -> TimeUs {
        let entry = &mut self.history[history_index];
        entry.complete_us = Some(self.now);
        entry.status = status.to_string();
        entry.reply = Some(serde_json::to_value(reply).unwrap_or(Value::Null));
        if let Some(hooks) = &self.prepared.registration.history {
            entry.output = (hooks.output)(op, reply)
                .map(|output| serde_json::to_value(&output).unwrap_or(Value::Null));
        }
        entry.invoke_us
    }
}

/// The run's client history as the linearizability checker reads it (the same
/// conversion `quorumlab lincheck` applies to `history.json`).
pub fn lincheck_history(
    history: &[HistoryOp],
    model: crate::lincheck::ModelKind,
) -> Result<crate::lincheck::History, String> {
    use crate::lincheck::{Operation, OperationOutput, OperationStatus};
    let mut operations = Vec::with_capacity(history.len());
    for (index, op) in history.iter().enumerate() {
        let status = match op.status.as_str() {
            "ok" => OperationStatus::Ok,
            "fail" => OperationStatus::Fail,
            "info" => OperationStatus::Info,
            other => return Err(format!("operation {index}: unknown status {other:?}")),
        };
        let input = serde_json::from_value(op.op.clone())
            .map_err(|error| format!("operation {index}: op {}: {error}", op.op))?;
        let output = match (&op.output, status) {
            (Some(output), OperationStatus::Ok) => serde_json::from_value(output.clone())
                .map_err(|error| format!("operation {index}: output {output}: {error}"))?,
            _ => OperationOutput::Unknown,
        };
        // A client has one pending operation at a time, except for its fire-and-forget
        // submissions, which stay pending forever: each is its own process (as Jepsen
        // gives a client whose operation is indeterminate a fresh process).
        let process = if op.fire_and_forget {
            u64::from(op.client) | ((index as u64 + 1) << 32)
        } else {
            u64::from(op.client)
        };
        operations.push(Operation {
            client: process,
            invoke_us: op.invoke_us,
            complete_us: op.complete_us,
            key: op.key.clone(),
            op: input,
            output,
            status,
            source: None,
        });
    }
    Ok(crate::lincheck::History {
        model: Some(model),
        operations,
    })
}

/// Check the run's history for linearizability within `LINCHECK_MAX_STEPS`. `Err` holds
/// the failing verdict (`violation`, or `budget` for an unknown answer) and a detail
/// naming the key, the time window and the operations that could not be placed.
pub(super) fn check_linearizable(
    history: &[HistoryOp],
    model: crate::lincheck::ModelKind,
    max_steps: u64,
) -> Result<(), (Verdict, String)> {
    use crate::lincheck::Verdict as Lin;
    let lincheck_history = lincheck_history(history, model.clone())
        .map_err(|error| (Verdict::Panic, format!("history not checkable: {error}")))?;
    let budget = crate::lincheck::Budget { max_steps };
    let report = crate::lincheck::check_history(&lincheck_history, Some(model), budget)
        .map_err(|error| (Verdict::Panic, format!("history not checkable: {error}")))?;
    match report.verdict {
        Lin::Linearizable => Ok(()),
        Lin::Unknown => Err((
            Verdict::Budget,
            format!(
                "linearizability unknown: the check used its budget of {max_steps} steps over \
                 {} operations without an answer",
                report.operation_count
            ),
        )),
        Lin::NotLinearizable => {
            let failing = report
                .partitions
                .iter()
                .find(|partition| partition.verdict == Lin::NotLinearizable)
                .expect("a non-linearizable report names its partition");
            let counterexample = failing
                .counterexample
                .as_ref()
                .expect("a non-linearizable partition has a counterexample");
            let operations = &lincheck_history.operations;
            let window_start = counterexample
                .unplaced
                .iter()
                .map(|&index| operations[index].invoke_us)
                .min()
                .unwrap_or(0);
            let window_end = counterexample
                .unplaced
                .iter()
                .filter_map(|&index| operations[index].complete_us)
                .max()
                .map_or("open".to_string(), |end| format!("{end} us"));
            let key = failing.key.as_deref().unwrap_or("(single object)");
            Err((
                Verdict::Violation,
                format!(
                    "key {key:?} is not linearizable in the window {window_start} us .. \
                     {window_end}: after a linearizable prefix of {} operations (state {}), \
                     none of these could be placed: {}",
                    counterexample.longest_prefix.len(),
                    counterexample.state_after_prefix,
                    counterexample.unplaced_descriptions.join("; ")
                ),
            ))
        }
    }
}

#[cfg(test)]
mod lincheck_tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::lincheck::ModelKind;

    /// A key-value history operation as the simulator records it.
    fn op(client: u32, span: (u64, Option<u64>), op: Value, output: Option<Value>) -> HistoryOp {
        HistoryOp {
            client,
            request: 1,
            invoke_us: span.0,
            complete_us: span.1,
            status: if span.1.is_some() { "ok" } else { "info" }.to_string(),
            key: Some("k0".to_string()),
            op,
            reply: None,
            output,
            draw: 0,
            fire_and_forget: false,
        }
    }

    fn history(read_back: &str) -> Vec<HistoryOp> {
        let append = |value: &str| json!({"type": "append", "value": value});
        let done = Some(json!({"type": "done"}));
        vec![
            op(0, (0, Some(10)), append("a"), done.clone()),
            op(1, (20, Some(30)), append("b"), done),
            op(2, (25, None), append("c"), None),
            op(
                3,
                (40, Some(50)),
                json!({"type": "get"}),
                Some(json!({"type": "get_value", "value": read_back})),
            ),
        ]
    }

    #[test]
    fn a_linearizable_history_passes_and_a_lost_write_names_key_window_and_op() {
        assert_eq!(
            check_linearizable(&history("abc"), ModelKind::KeyValue, 1000),
            Ok(())
        );
        // The info append may or may not have happened: both reads are fine.
        assert_eq!(
            check_linearizable(&history("ab"), ModelKind::KeyValue, 1000),
            Ok(())
        );
        let (verdict, detail) =
            check_linearizable(&history("a"), ModelKind::KeyValue, 1000).unwrap_err();
        assert_eq!(verdict, Verdict::Violation);
        assert!(
            detail.starts_with("key \"k0\" is not linearizable in the window"),
            "{detail}"
        );
        assert!(detail.contains("get -> ok \"a\""), "{detail}");
    }

    #[test]
    fn over_budget_is_a_budget_verdict_not_a_pass() {
        let (verdict, detail) =
            check_linearizable(&history("abc"), ModelKind::KeyValue, 1).unwrap_err();
        assert_eq!(verdict, Verdict::Budget);
        assert!(detail.starts_with("linearizability unknown"), "{detail}");
    }
}
