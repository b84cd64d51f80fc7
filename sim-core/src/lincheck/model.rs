//! Sequential specifications the checker linearizes against: the [`Model`] trait, the
//! closed [`ModelKind`] list the CLI can name, and the five models (register, CAS
//! register, key-value store, multi-register, mutex).
//!
//! A model is a pure function `step(state, input, output) -> Option<new state>` (`None` =
//! this output is impossible from this state) plus a partition of the history into
//! independent sub-histories. Partitioning is sound by P-compositionality (Herlihy and
//! Wing 1990, "locality", Theorem 1): a history of independent objects is linearizable if
//! and only if each object's sub-history is. Keys are independent objects, so every model
//! but the multi-register (whose transactions span registers) partitions by
//! [`Operation::key`].

use std::fmt::Debug;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::digest::TextDigest;
use super::history::{
    MicroOperation, Operation, OperationInput, OperationOutput, OperationStatus, Value,
};

/// A sequential specification.
pub trait Model {
    /// The object's state; hashed and compared by the search's cache, so keep it small.
    type State: Clone + Eq + Hash + Debug;

    /// The model's name as [`ModelKind::name`] spells it.
    fn name(&self) -> String;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after `input` returned `output` from `state`, or `None` if that output is
    /// impossible. [`OperationOutput::Unknown`] must always be accepted.
    fn step(
        &self,
        state: &Self::State,
        input: &OperationInput,
        output: &OperationOutput,
    ) -> Option<Self::State>;

    /// `Err` naming the problem if this model cannot interpret the operation (a `get` in a
    /// register history, a read output on a write).
    fn accepts(&self, operation: &Operation) -> Result<(), String>;

    /// True if the operation is always legal and never changes the state (a read whose
    /// result is unknown): the search drops it, which cannot change the verdict.
    fn is_inert(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        let _ = input;
        let _ = output;
        false
    }

    /// True if the operation never changes the state from any state where it is legal
    /// (a read with a known result, a CAS reported as failed). The search linearizes such
    /// an operation as soon as it is legal and never tries it later; see
    /// [`super::search::PartitionSearch::run`]. Answering false is always safe.
    fn is_read_only(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        let _ = input;
        let _ = output;
        false
    }

    /// For a read-only operation, whether it is legal in `state`, without building the
    /// (unchanged) next state. The default asks [`Model::step`].
    fn is_legal_read_only(
        &self,
        state: &Self::State,
        input: &OperationInput,
        output: &OperationOutput,
    ) -> bool {
        self.step(state, input, output).is_some()
    }

    /// Splits the operations (indices into `operations`) into independently checkable
    /// sub-histories, each labelled with its key. The default groups by
    /// [`Operation::key`] in key order.
    fn partition(&self, operations: &[Operation]) -> Vec<Partition> {
        partition_by_key(operations)
    }

    /// A short rendering of a state for explanations.
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

/// One independently checkable sub-history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The key shared by its operations, `None` for the single unkeyed object.
    pub key: Option<String>,
    /// Indices into the history's operations, in history order.
    pub operation_indices: Vec<usize>,
}

/// Groups operations by key, keys in sorted order (deterministic), operations in history
/// order within a key.
pub fn partition_by_key(operations: &[Operation]) -> Vec<Partition> {
    let mut by_key: std::collections::BTreeMap<Option<&str>, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (operation_index, operation) in operations.iter().enumerate() {
        by_key
            .entry(operation.key.as_deref())
            .or_default()
            .push(operation_index);
    }
    let partitions: Vec<Partition> = by_key
        .into_iter()
        .map(|(key, operation_indices)| Partition {
            key: key.map(str::to_string),
            operation_indices,
        })
        .collect();
    assert_eq!(
        partitions
            .iter()
            .map(|partition| partition.operation_indices.len())
            .sum::<usize>(),
        operations.len()
    );
    partitions
}

/// The models the CLI and history files can name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ModelKind {
    /// Read/write register starting at `initial`.
    Register { initial: Value },
    /// Read/write/compare-and-set register starting at `initial`.
    CasRegister { initial: Value },
    /// String key-value store (get/put/append), every key starting as `""`.
    KeyValue,
    /// Registers read and written by atomic transactions, every register starting at
    /// `initial`.
    MultiRegister { initial: Value },
    /// A lock without owner: acquiring a held lock or releasing a free one is illegal.
    Mutex,
}

impl ModelKind {
    /// The model's name, as [`ModelKind::parse`] reads it back:
    /// `cas-register(init=nil)`, `kv`, `mutex`...
    pub fn name(&self) -> String {
        match self {
            ModelKind::Register { initial } => format!("register(init={initial})"),
            ModelKind::CasRegister { initial } => format!("cas-register(init={initial})"),
            ModelKind::KeyValue => "kv".to_string(),
            ModelKind::MultiRegister { initial } => format!("multi-register(init={initial})"),
            ModelKind::Mutex => "mutex".to_string(),
        }
    }

    /// Parses `register`, `cas-register`, `multi-register` (each optionally with
    /// `(init=nil)` or `(init=<integer>)`, default 0), `kv` and `mutex`.
    pub fn parse(text: &str) -> Result<ModelKind, String> {
        let text = text.trim();
        let (base, initial) = match text.find('(') {
            None => (text, Value::Int(0)),
            Some(open) => {
                let Some(argument) = text[open + 1..].strip_suffix(')') else {
                    return Err(format!("model {text:?}: expected `name(init=VALUE)`"));
                };
                let Some(value) = argument.trim().strip_prefix("init=") else {
                    return Err(format!("model {text:?}: the only parameter is `init=`"));
                };
                let initial = match value.trim() {
                    "nil" => Value::Nil,
                    number => Value::Int(number.parse().map_err(|_| {
                        format!("model {text:?}: init must be nil or an integer, not {number:?}")
                    })?),
                };
                (&text[..open], initial)
            }
        };
        match base {
            "register" => Ok(ModelKind::Register { initial }),
            "cas-register" => Ok(ModelKind::CasRegister { initial }),
            "multi-register" => Ok(ModelKind::MultiRegister { initial }),
            "kv" if text == "kv" => Ok(ModelKind::KeyValue),
            "mutex" if text == "mutex" => Ok(ModelKind::Mutex),
            _ => Err(format!(
                "unknown model {text:?}: expected register, cas-register, multi-register (optionally with (init=nil) or (init=N)), kv or mutex"
            )),
        }
    }
}

fn expect_output(
    operation: &Operation,
    allowed: &[fn(&OperationOutput) -> bool],
    expected: &str,
) -> Result<(), String> {
    if operation.status != OperationStatus::Ok
        || matches!(operation.output, OperationOutput::Unknown)
        || allowed.iter().any(|allowed| allowed(&operation.output))
    {
        Ok(())
    } else {
        Err(format!(
            "a {} returned {:?}; expected {expected}",
            operation.op.function_name(),
            operation.output
        ))
    }
}

/// Read/write register (no compare-and-set).
#[derive(Clone, Debug)]
pub struct RegisterModel {
    pub initial: Value,
}

/// Read/write/compare-and-set register.
#[derive(Clone, Debug)]
pub struct CasRegisterModel {
    pub initial: Value,
}

fn register_step(state: &Value, input: &OperationInput, output: &OperationOutput) -> Option<Value> {
    match (input, output) {
        (OperationInput::Read, OperationOutput::ReadValue { value }) => {
            (value == state).then(|| state.clone())
        }
        (OperationInput::Read, _) => Some(state.clone()),
        (OperationInput::Write { value }, _) => Some(value.clone()),
        (OperationInput::Cas { from, to }, OperationOutput::CasResult { succeeded }) => {
            match (from == state, *succeeded) {
                (true, true) => Some(to.clone()),
                (false, false) => Some(state.clone()),
                _ => None,
            }
        }
        // Unknown (or Done) outcome: the compare decides, as the register would.
        (OperationInput::Cas { from, to }, _) => {
            if from == state {
                Some(to.clone())
            } else {
                Some(state.clone())
            }
        }
        _ => unreachable!("register models reject other inputs in accepts()"),
    }
}

fn register_accepts(operation: &Operation, allow_cas: bool) -> Result<(), String> {
    match &operation.op {
        OperationInput::Read => expect_output(
            operation,
            &[|output| matches!(output, OperationOutput::ReadValue { .. })],
            "a read value",
        ),
        OperationInput::Write { .. } => expect_output(
            operation,
            &[|output| matches!(output, OperationOutput::Done)],
            "done",
        ),
        OperationInput::Cas { .. } if allow_cas => expect_output(
            operation,
            &[
                |output| matches!(output, OperationOutput::CasResult { .. }),
                // A bare "ok" CAS (Knossos) succeeded.
                |output| matches!(output, OperationOutput::Done),
            ],
            "a cas result",
        ),
        other => Err(format!(
            "the {} model has no {} operation",
            if allow_cas {
                "cas-register"
            } else {
                "register"
            },
            other.function_name()
        )),
    }
}

fn register_is_read_only(input: &OperationInput, output: &OperationOutput) -> bool {
    matches!(
        (input, output),
        (OperationInput::Read, _)
            | (
                OperationInput::Cas { .. },
                OperationOutput::CasResult { succeeded: false }
            )
    )
}

fn register_is_inert(input: &OperationInput, output: &OperationOutput) -> bool {
    matches!(input, OperationInput::Read) && !matches!(output, OperationOutput::ReadValue { .. })
}

impl Model for RegisterModel {
    type State = Value;

    fn name(&self) -> String {
        ModelKind::Register {
            initial: self.initial.clone(),
        }
        .name()
    }

    fn init(&self) -> Value {
        self.initial.clone()
    }

    fn step(
        &self,
        state: &Value,
        input: &OperationInput,
        output: &OperationOutput,
    ) -> Option<Value> {
        register_step(state, input, output)
    }

    fn accepts(&self, operation: &Operation) -> Result<(), String> {
        register_accepts(operation, false)
    }

    fn is_inert(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        register_is_inert(input, output)
    }

    fn is_read_only(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        register_is_read_only(input, output)
    }

    fn describe_state(&self, state: &Value) -> String {
        state.to_string()
    }
}

impl Model for CasRegisterModel {
    type State = Value;

    fn name(&self) -> String {
        ModelKind::CasRegister {
            initial: self.initial.clone(),
        }
        .name()
    }

    fn init(&self) -> Value {
        self.initial.clone()
    }

    fn step(
        &self,
        state: &Value,
        input: &OperationInput,
        output: &OperationOutput,
    ) -> Option<Value> {
        let output = match output {
            // Knossos reports a successful CAS as a plain ok.
            OperationOutput::Done => &OperationOutput::CasResult { succeeded: true },
            other => other,
        };
        register_step(state, input, output)
    }

    fn accepts(&self, operation: &Operation) -> Result<(), String> {
        register_accepts(operation, true)
    }

    fn is_inert(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        register_is_inert(input, output)
    }

    fn is_read_only(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        register_is_read_only(input, output)
    }

    fn describe_state(&self, state: &Value) -> String {
        state.to_string()
    }
}

/// The text a CAS operand compares with in the key-value model: an absent key reads as
/// the empty string, so `nil` compares equal to it.
fn kv_text(value: &Value) -> Option<String> {
    match value {
        Value::Nil => Some(String::new()),
        Value::Text(text) => Some(text.clone()),
        Value::Int(_) => None,
    }
}

/// String key-value store; each key is its own partition, so the state is one string,
/// held as its digest (`TextDigest`: constant size however long appends make it, so
/// states are cheap to clone and compare). Besides get, put and append it has
/// `cas {from, to}` (quorumlab's kv protocol): set the key to `to` if it holds `from`,
/// with operands as strings (or `nil` for absent). A get's output is its string or, for
/// long values, the string's digest.
#[derive(Clone, Debug, Default)]
pub struct KeyValueModel;

/// Does a get's output match the model's state?
fn get_matches(state: &TextDigest, output: &OperationOutput) -> bool {
    match output {
        OperationOutput::GetValue { value } => TextDigest::of(value) == *state,
        OperationOutput::GetDigest { digest } => digest == state,
        _ => true,
    }
}

impl Model for KeyValueModel {
    type State = TextDigest;

    fn name(&self) -> String {
        ModelKind::KeyValue.name()
    }

    fn init(&self) -> TextDigest {
        TextDigest::of("")
    }

    fn step(
        &self,
        state: &TextDigest,
        input: &OperationInput,
        output: &OperationOutput,
    ) -> Option<TextDigest> {
        match (input, output) {
            (OperationInput::Get, output) => get_matches(state, output).then(|| state.clone()),
            (OperationInput::Put { value }, _) => Some(TextDigest::of(value)),
            (OperationInput::Append { value }, _) => Some(state.concat(&TextDigest::of(value))),
            (OperationInput::Cas { from, to }, output) => {
                let from = kv_text(from).expect("accepts() admits only text and nil operands");
                let to = kv_text(to).expect("accepts() admits only text and nil operands");
                let (from, to) = (TextDigest::of(&from), TextDigest::of(&to));
                let matches = *state == from;
                match output {
                    OperationOutput::CasResult { succeeded: true } => matches.then_some(to),
                    OperationOutput::CasResult { succeeded: false } => {
                        (!matches).then(|| state.clone())
                    }
                    // Unknown: if it took effect, it compared against this state.
                    _ => Some(if matches { to } else { state.clone() }),
                }
            }
            _ => unreachable!("the kv model rejects other inputs in accepts()"),
        }
    }

    fn accepts(&self, operation: &Operation) -> Result<(), String> {
        match &operation.op {
            OperationInput::Get => expect_output(
                operation,
                &[|output| {
                    matches!(
                        output,
                        OperationOutput::GetValue { .. } | OperationOutput::GetDigest { .. }
                    )
                }],
                "a get value",
            ),
            OperationInput::Put { .. } | OperationInput::Append { .. } => expect_output(
                operation,
                &[|output| matches!(output, OperationOutput::Done)],
                "done",
            ),
            OperationInput::Cas { from, to } => {
                if kv_text(from).is_none() || kv_text(to).is_none() {
                    return Err(
                        "a kv cas compares and sets strings (or nil for absent), not integers"
                            .to_string(),
                    );
                }
                expect_output(
                    operation,
                    &[|output| matches!(output, OperationOutput::CasResult { .. })],
                    "a cas result",
                )
            }
            other => Err(format!(
                "the kv model has no {} operation",
                other.function_name()
            )),
        }
    }

    fn is_inert(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        matches!(input, OperationInput::Get)
            && !matches!(
                output,
                OperationOutput::GetValue { .. } | OperationOutput::GetDigest { .. }
            )
    }

    fn is_read_only(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        match input {
            OperationInput::Get => true,
            // A failed cas changes nothing wherever it is legal.
            OperationInput::Cas { .. } => {
                matches!(output, OperationOutput::CasResult { succeeded: false })
            }
            _ => false,
        }
    }

    fn is_legal_read_only(
        &self,
        state: &TextDigest,
        input: &OperationInput,
        output: &OperationOutput,
    ) -> bool {
        match (input, output) {
            (OperationInput::Get, output) => get_matches(state, output),
            (OperationInput::Cas { .. }, _) => self.step(state, input, output).is_some(),
            _ => unreachable!("only gets and failed cas are read-only"),
        }
    }

    fn describe_state(&self, state: &TextDigest) -> String {
        format!("{state:?}")
    }
}

/// Registers read and written by atomic transactions; one partition (transactions span
/// registers). The state lists the registers written so far, sorted by name; the others
/// hold `initial`.
#[derive(Clone, Debug)]
pub struct MultiRegisterModel {
    pub initial: Value,
}

impl Model for MultiRegisterModel {
    type State = Vec<(String, Value)>;

    fn name(&self) -> String {
        ModelKind::MultiRegister {
            initial: self.initial.clone(),
        }
        .name()
    }

    fn init(&self) -> Self::State {
        Vec::new()
    }

    fn step(
        &self,
        state: &Self::State,
        input: &OperationInput,
        output: &OperationOutput,
    ) -> Option<Self::State> {
        let OperationInput::Transaction { micro_operations } = input else {
            unreachable!("the multi-register model rejects other inputs in accepts()");
        };
        let results = match output {
            OperationOutput::TransactionResult { micro_operations } => Some(micro_operations),
            _ => None,
        };
        let mut next = state.clone();
        for (position, micro) in micro_operations.iter().enumerate() {
            match micro {
                MicroOperation::Read { register, .. } => {
                    let Some(results) = results else { continue };
                    let MicroOperation::Read { value: read, .. } = &results[position] else {
                        unreachable!("accepts() checked the result mirrors the input");
                    };
                    if *read == Value::Nil {
                        continue;
                    }
                    let current =
                        match next.binary_search_by(|(name, _)| name.as_str().cmp(register)) {
                            Ok(found) => &next[found].1,
                            Err(_) => &self.initial,
                        };
                    if current != read {
                        return None;
                    }
                }
                MicroOperation::Write { register, value } => {
                    match next.binary_search_by(|(name, _)| name.as_str().cmp(register)) {
                        Ok(found) => next[found].1 = value.clone(),
                        Err(insert_at) => next.insert(insert_at, (register.clone(), value.clone())),
                    }
                }
            }
        }
        Some(next)
    }

    fn accepts(&self, operation: &Operation) -> Result<(), String> {
        let OperationInput::Transaction { micro_operations } = &operation.op else {
            return Err(format!(
                "the multi-register model has no {} operation",
                operation.op.function_name()
            ));
        };
        match (&operation.status, &operation.output) {
            (
                OperationStatus::Ok,
                OperationOutput::TransactionResult {
                    micro_operations: results,
                },
            ) => {
                let mirrors = results.len() == micro_operations.len()
                    && micro_operations.iter().zip(results).all(|pair| match pair {
                        (
                            MicroOperation::Read { register: a, .. },
                            MicroOperation::Read { register: b, .. },
                        ) => a == b,
                        (MicroOperation::Write { .. }, MicroOperation::Write { .. }) => true,
                        _ => false,
                    });
                if mirrors {
                    Ok(())
                } else {
                    Err(
                        "a txn result does not list the same reads and writes as its invocation"
                            .to_string(),
                    )
                }
            }
            // Done: a transaction that reports no read values (all its reads unknown).
            (OperationStatus::Ok, OperationOutput::Unknown | OperationOutput::Done) => Ok(()),
            (OperationStatus::Ok, other) => Err(format!("a txn returned {other:?}")),
            _ => Ok(()),
        }
    }

    fn is_inert(&self, input: &OperationInput, output: &OperationOutput) -> bool {
        let OperationInput::Transaction { micro_operations } = input else {
            return false;
        };
        let writes = micro_operations
            .iter()
            .any(|micro| matches!(micro, MicroOperation::Write { .. }));
        !writes && !matches!(output, OperationOutput::TransactionResult { .. })
    }

    fn is_read_only(&self, input: &OperationInput, _output: &OperationOutput) -> bool {
        let OperationInput::Transaction { micro_operations } = input else {
            return false;
        };
        micro_operations
            .iter()
            .all(|micro| matches!(micro, MicroOperation::Read { .. }))
    }

    fn partition(&self, operations: &[Operation]) -> Vec<Partition> {
        vec![Partition {
            key: None,
            operation_indices: (0..operations.len()).collect(),
        }]
    }
}

/// A lock without owner (Knossos's `mutex`): `true` = held.
#[derive(Clone, Debug, Default)]
pub struct MutexModel;

impl Model for MutexModel {
    type State = bool;

    fn name(&self) -> String {
        ModelKind::Mutex.name()
    }

    fn init(&self) -> bool {
        false
    }

    fn step(&self, held: &bool, input: &OperationInput, _output: &OperationOutput) -> Option<bool> {
        match input {
            OperationInput::Acquire => (!*held).then_some(true),
            OperationInput::Release => held.then_some(false),
            _ => unreachable!("the mutex model rejects other inputs in accepts()"),
        }
    }

    fn accepts(&self, operation: &Operation) -> Result<(), String> {
        match &operation.op {
            OperationInput::Acquire | OperationInput::Release => expect_output(
                operation,
                &[|output| matches!(output, OperationOutput::Done)],
                "done",
            ),
            other => Err(format!(
                "the mutex model has no {} operation",
                other.function_name()
            )),
        }
    }

    fn describe_state(&self, held: &bool) -> String {
        if *held { "held" } else { "free" }.to_string()
    }
}
