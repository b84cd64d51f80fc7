//! The history type the linearizability checker reads: operations with a client, an
//! invocation time, a completion time, an input, an output and a status, plus the JSON
//! format (`history.json`) that quorumlab writes and reads. See the module doc of
//! [`crate::lincheck`] for the format.

use serde::{Deserialize, Serialize};

use super::digest::TextDigest;
use super::model::ModelKind;

/// A register value. `Nil` is "absent" (an etcd key that was never written) or, in a read
/// output, whatever the format's parser decided (Knossos's `nil` read is turned into
/// [`OperationOutput::Unknown`] before it reaches here).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Nil,
    Int(i64),
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Nil => write!(formatter, "nil"),
            Value::Int(number) => write!(formatter, "{number}"),
            Value::Text(text) => write!(formatter, "{text:?}"),
        }
    }
}

/// One read or write inside a multi-register transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MicroOperation {
    /// In an input the value is ignored; in an output it is the value read (`Nil` =
    /// unknown, always accepted).
    Read {
        register: String,
        value: Value,
    },
    Write {
        register: String,
        value: Value,
    },
}

/// What a client asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OperationInput {
    /// Register read.
    Read,
    /// Register write.
    Write { value: Value },
    /// Register compare-and-set: if the value equals `from`, set it to `to`.
    Cas { from: Value, to: Value },
    /// Key-value get (the key is [`Operation::key`]).
    Get,
    /// Key-value put.
    Put { value: String },
    /// Key-value append.
    Append { value: String },
    /// Mutex acquire.
    Acquire,
    /// Mutex release.
    Release,
    /// Multi-register transaction, applied in order, atomically.
    Transaction {
        micro_operations: Vec<MicroOperation>,
    },
}

impl OperationInput {
    /// The operation's name as Jepsen spells `:f`.
    pub fn function_name(&self) -> &'static str {
        match self {
            OperationInput::Read => "read",
            OperationInput::Write { .. } => "write",
            OperationInput::Cas { .. } => "cas",
            OperationInput::Get => "get",
            OperationInput::Put { .. } => "put",
            OperationInput::Append { .. } => "append",
            OperationInput::Acquire => "acquire",
            OperationInput::Release => "release",
            OperationInput::Transaction { .. } => "txn",
        }
    }
}

/// What the client was told.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OperationOutput {
    /// Nothing is known about the result: every model accepts it. Used for `info`
    /// operations and for reads whose result was lost (timed out, Knossos `nil`).
    Unknown,
    /// The operation completed and returns nothing (write, put, append, acquire, release).
    Done,
    /// A register read returned this value (`Nil` = absent).
    ReadValue { value: Value },
    /// A compare-and-set reports whether the compare matched (etcd's `:fail :cas` is a
    /// completed CAS whose compare failed, so it is `succeeded: false`, not status fail).
    CasResult { succeeded: bool },
    /// A key-value get returned this string.
    GetValue { value: String },
    /// A key-value get returned the string with this digest (recorded for long values,
    /// so that a history stays linear in its operations).
    GetDigest { digest: TextDigest },
    /// A transaction returned its micro-operations with the values read filled in.
    TransactionResult {
        micro_operations: Vec<MicroOperation>,
    },
}

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// Completed; the output is what the client was told.
    Ok,
    /// Definitely did not take effect: the checker drops it.
    Fail,
    /// Unknown: it may take effect at any point after its invocation, or never. The checker
    /// treats it as completing at +infinity with [`OperationOutput::Unknown`].
    Info,
}

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// Client (Jepsen process) that issued it. A client has at most one operation pending.
    pub client: u64,
    /// Invocation time; for line-based formats, the event's position in the file.
    pub invoke_us: u64,
    /// Completion time; `None` for `info` operations (they complete at +infinity).
    pub complete_us: Option<u64>,
    /// The key for keyed models (key-value store, or independent registers/mutexes);
    /// `None` for a single object.
    #[serde(default)]
    pub key: Option<String>,
    /// The call.
    pub op: OperationInput,
    /// The result; ignored for `fail`, and forced to `Unknown` for `info`.
    #[serde(default = "unknown_output")]
    pub output: OperationOutput,
    pub status: OperationStatus,
    /// Where the operation came from (for example `etcd_000.log:17`), for explanations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn unknown_output() -> OperationOutput {
    OperationOutput::Unknown
}

/// A whole history, in the order operations were invoked (not required: the checker
/// sorts by time).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The model to check against, when the writer knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelKind>,
    pub operations: Vec<Operation>,
}

impl History {
    /// Checks the invariants the search relies on: completion not before invocation,
    /// `info` operations have no completion time, `ok`/`fail` ones have one, and a client
    /// never has two operations pending at once.
    pub fn validate(&self) -> Result<(), String> {
        for (operation_index, operation) in self.operations.iter().enumerate() {
            let where_ = describe_location(operation_index, operation);
            match (operation.status, operation.complete_us) {
                (OperationStatus::Info, Some(_)) => {
                    return Err(format!(
                        "{where_}: status info must have complete_us null (an unknown outcome completes at +infinity)"
                    ))
                }
                (OperationStatus::Ok | OperationStatus::Fail, None) => {
                    return Err(format!(
                        "{where_}: status ok/fail needs a complete_us; use status info for an operation that never returned"
                    ))
                }
                (_, Some(complete_us)) if complete_us < operation.invoke_us => {
                    return Err(format!(
                        "{where_}: complete_us {complete_us} is before invoke_us {}",
                        operation.invoke_us
                    ))
                }
                _ => {}
            }
        }
        // A client has one pending operation at a time: sort each client's operations by
        // invocation and require each to complete before the next is invoked.
        let mut by_client: Vec<(u64, u64, Option<u64>, usize)> = self
            .operations
            .iter()
            .enumerate()
            .map(|(index, operation)| {
                (
                    operation.client,
                    operation.invoke_us,
                    operation.complete_us,
                    index,
                )
            })
            .collect();
        by_client.sort();
        for pair in by_client.windows(2) {
            let (client_a, _, complete_a, index_a) = pair[0];
            let (client_b, invoke_b, _, index_b) = pair[1];
            if client_a != client_b {
                continue;
            }
            let overlaps = match complete_a {
                None => true,
                Some(complete_a) => complete_a > invoke_b,
            };
            if overlaps {
                return Err(format!(
                    "{}: client {client_a} invoked it while {} was still pending",
                    describe_location(index_b, &self.operations[index_b]),
                    describe_location(index_a, &self.operations[index_a]),
                ));
            }
        }
        Ok(())
    }

    /// Parses quorumlab's `history.json`.
    pub fn from_json(text: &str) -> Result<History, String> {
        let history: History = serde_json::from_str(text).map_err(|error| {
            format!("line {}, column {}: {error}", error.line(), error.column())
        })?;
        history.validate()?;
        Ok(history)
    }

    /// Writes quorumlab's `history.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a history always serializes")
    }
}

/// "operation 3 (etcd_000.log:17)" or "operation 3".
pub fn describe_location(operation_index: usize, operation: &Operation) -> String {
    match &operation.source {
        Some(source) => format!("operation {operation_index} ({source})"),
        None => format!("operation {operation_index}"),
    }
}

/// A one-line human description: `client 3 cas 1->2 = ok true [10, 25]`.
pub fn describe_operation(operation_index: usize, operation: &Operation) -> String {
    let call = match &operation.op {
        OperationInput::Read => "read".to_string(),
        OperationInput::Write { value } => format!("write {value}"),
        OperationInput::Cas { from, to } => format!("cas {from}->{to}"),
        OperationInput::Get => "get".to_string(),
        OperationInput::Put { value } => format!("put {value:?}"),
        OperationInput::Append { value } => format!("append {value:?}"),
        OperationInput::Acquire => "acquire".to_string(),
        OperationInput::Release => "release".to_string(),
        OperationInput::Transaction { micro_operations } => {
            format!("txn {}", describe_micro_operations(micro_operations, false))
        }
    };
    let key = match &operation.key {
        Some(key) => format!(" key {key:?}"),
        None => String::new(),
    };
    let result = match (&operation.status, &operation.output) {
        (OperationStatus::Info, _) => "info (unknown)".to_string(),
        (OperationStatus::Fail, _) => "fail".to_string(),
        (OperationStatus::Ok, OperationOutput::Unknown) => "ok (result unknown)".to_string(),
        (OperationStatus::Ok, OperationOutput::Done) => "ok".to_string(),
        (OperationStatus::Ok, OperationOutput::ReadValue { value }) => format!("ok {value}"),
        (OperationStatus::Ok, OperationOutput::CasResult { succeeded }) => {
            if *succeeded {
                "ok (swapped)".to_string()
            } else {
                "ok (compare failed)".to_string()
            }
        }
        (OperationStatus::Ok, OperationOutput::GetValue { value }) => format!("ok {value:?}"),
        (OperationStatus::Ok, OperationOutput::GetDigest { digest }) => format!("ok {digest:?}"),
        (OperationStatus::Ok, OperationOutput::TransactionResult { micro_operations }) => {
            format!("ok {}", describe_micro_operations(micro_operations, true))
        }
    };
    let complete = match operation.complete_us {
        Some(complete_us) => complete_us.to_string(),
        None => "inf".to_string(),
    };
    let source = match &operation.source {
        Some(source) => format!(" at {source}"),
        None => String::new(),
    };
    format!(
        "#{operation_index} client {}{key} {call} -> {result} [{}, {complete}]{source}",
        operation.client, operation.invoke_us
    )
}

fn describe_micro_operations(
    micro_operations: &[MicroOperation],
    with_read_values: bool,
) -> String {
    let parts: Vec<String> = micro_operations
        .iter()
        .map(|micro| match micro {
            MicroOperation::Read { register, value } if with_read_values => {
                format!("r {register} {value}")
            }
            MicroOperation::Read { register, .. } => format!("r {register}"),
            MicroOperation::Write { register, value } => format!("w {register} {value}"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}
