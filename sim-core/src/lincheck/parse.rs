//! Readers for the history formats the checker accepts, with format and model
//! autodetection: Jepsen etcd log lines, Porcupine's one-EDN-map-per-line key-value
//! histories, Knossos EDN histories, and quorumlab's own `history.json`. Each reader maps
//! its format's semantics onto [`History`]; the rules are in the module doc of
//! [`crate::lincheck`]. Errors name the file, the line and the problem.

use serde::{Deserialize, Serialize};

use super::edn::{self, Edn};
use super::history::{
    History, MicroOperation, Operation, OperationInput, OperationOutput, OperationStatus, Value,
};
use super::model::ModelKind;

/// The formats [`detect_format`] recognises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryFormat {
    /// `INFO  jepsen.util - <process>\t:<type>\t:<f>\t<value>` lines (Jepsen's etcd test,
    /// as in Porcupine's `test_data/jepsen`): one CAS register starting at nil.
    JepsenEtcdLog,
    /// One Jepsen operation map per line (Porcupine's `test_data/kv`).
    EdnOperationLines,
    /// One EDN vector or list of Jepsen operation maps (Knossos's `data/`).
    KnossosEdn,
    /// quorumlab's `history.json`.
    QuorumlabJson,
}

impl HistoryFormat {
    pub fn name(self) -> &'static str {
        match self {
            HistoryFormat::JepsenEtcdLog => "jepsen-etcd-log",
            HistoryFormat::EdnOperationLines => "edn-operation-lines",
            HistoryFormat::KnossosEdn => "knossos-edn",
            HistoryFormat::QuorumlabJson => "quorumlab-json",
        }
    }
}

const JEPSEN_LOG_MARKER: &str = "jepsen.util - ";

/// Guesses the format from the content: a `jepsen.util - ` line means an etcd log; else
/// the first byte that is not blank or inside a `;` comment decides: `{"` or `{}` is JSON,
/// `{` followed by anything else is EDN map lines, `[` or `(` is Knossos EDN.
pub fn detect_format(text: &str) -> Result<HistoryFormat, String> {
    if text.lines().any(|line| line.contains(JEPSEN_LOG_MARKER)) {
        return Ok(HistoryFormat::JepsenEtcdLog);
    }
    // Lines that are wholly `;` comments (EDN) are skipped; the first two significant
    // characters decide.
    let mut significant = text
        .lines()
        .filter(|line| !line.trim_start().starts_with(';'))
        .flat_map(str::chars)
        .filter(|character| !character.is_whitespace());
    match (significant.next(), significant.next()) {
        (None, _) => Err("empty history: no operations and no recognisable format".to_string()),
        (Some('{'), Some('"' | '}')) => Ok(HistoryFormat::QuorumlabJson),
        (Some('{'), _) => Ok(HistoryFormat::EdnOperationLines),
        (Some('[' | '('), _) => Ok(HistoryFormat::KnossosEdn),
        (Some(other), _) => Err(format!(
            "unrecognised history format: starts with {other:?}; expected Jepsen log lines, EDN operation maps, a Knossos EDN vector or quorumlab JSON"
        )),
    }
}

/// Parses `text` in `format`. `file` is only used in error messages.
pub fn parse_history(file: &str, text: &str, format: HistoryFormat) -> Result<History, String> {
    let located = |error: String| format!("{file}: {error}");
    match format {
        HistoryFormat::QuorumlabJson => History::from_json(text).map_err(located),
        HistoryFormat::JepsenEtcdLog => {
            let events = read_jepsen_log(file, text)?;
            let operations = interpret_events(file, &events, Dialect::EtcdLog)?;
            Ok(History {
                model: None,
                operations,
            })
        }
        HistoryFormat::EdnOperationLines | HistoryFormat::KnossosEdn => {
            let forms = edn::read_all(text).map_err(located)?;
            let mut maps: Vec<(usize, &Edn)> = Vec::new();
            if format == HistoryFormat::KnossosEdn {
                let [form] = forms.as_slice() else {
                    return Err(located(format!(
                        "a Knossos history is one vector or list of operations, found {} top-level forms",
                        forms.len()
                    )));
                };
                let Some(items) = form.form.as_sequence() else {
                    return Err(format!(
                        "{file}:{}: expected a vector or list of operations",
                        form.line
                    ));
                };
                maps.extend(form.element_lines.iter().copied().zip(items));
            } else {
                maps.extend(forms.iter().map(|form| (form.line, &form.form)));
            }
            let events = maps
                .into_iter()
                .map(|(line, form)| read_edn_event(file, line, form))
                .collect::<Result<Vec<_>, String>>()?;
            let operations = interpret_events(file, &events, Dialect::Knossos)?;
            Ok(History {
                model: None,
                operations,
            })
        }
    }
}

/// The model a history's operations call for: transactions → multi-register,
/// get/put/append → kv, acquire/release → mutex, cas → cas-register, read/write →
/// register. Registers start at nil for etcd logs and at 0 otherwise (Knossos's
/// `test-examples`). Mixed families are an error.
pub fn detect_model(history: &History, format: HistoryFormat) -> Result<ModelKind, String> {
    if let Some(model) = &history.model {
        return Ok(model.clone());
    }
    let initial = match format {
        HistoryFormat::JepsenEtcdLog => Value::Nil,
        _ => Value::Int(0),
    };
    let family = |input: &OperationInput| match input {
        OperationInput::Read | OperationInput::Write { .. } | OperationInput::Cas { .. } => 0,
        OperationInput::Get | OperationInput::Put { .. } | OperationInput::Append { .. } => 1,
        OperationInput::Acquire | OperationInput::Release => 2,
        OperationInput::Transaction { .. } => 3,
    };
    let mut families = history
        .operations
        .iter()
        .map(|operation| family(&operation.op));
    let first = families.next().unwrap_or(0);
    if let Some(position) = history
        .operations
        .iter()
        .position(|operation| family(&operation.op) != first)
    {
        return Err(format!(
            "cannot pick a model: operation {position} is a {} but operation 0 is a {}",
            history.operations[position].op.function_name(),
            history.operations[0].op.function_name()
        ));
    }
    Ok(match first {
        0 if history
            .operations
            .iter()
            .any(|operation| matches!(operation.op, OperationInput::Cas { .. })) =>
        {
            ModelKind::CasRegister { initial }
        }
        0 if history.operations.is_empty() => ModelKind::CasRegister { initial },
        0 => ModelKind::Register { initial },
        1 => ModelKind::KeyValue,
        2 => ModelKind::Mutex,
        _ => ModelKind::MultiRegister { initial },
    })
}

/// How a format reads `:fail` and `nil`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dialect {
    /// Jepsen's etcd test: `:fail :cas` is a CAS whose compare failed (it happened);
    /// `:fail` on anything else did not happen; an ok read of `nil` means "absent".
    EtcdLog,
    /// Knossos: `:fail` did not happen; an ok read of `nil` means "unknown".
    Knossos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventType {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// One line of a Jepsen history, before invocations and completions are paired.
#[derive(Clone, Debug)]
struct JepsenEvent {
    line: usize,
    /// `None` for `:nemesis` and other non-client processes: ignored.
    process: Option<u64>,
    event_type: EventType,
    function: String,
    value: Edn,
    key: Option<String>,
}

fn read_jepsen_log(file: &str, text: &str) -> Result<Vec<JepsenEvent>, String> {
    let mut events = Vec::new();
    for (line_index, line) in text.lines().enumerate() {
        let line_number = line_index + 1;
        let Some(marker) = line.find(JEPSEN_LOG_MARKER) else {
            continue;
        };
        let problem = |message: String| format!("{file}:{line_number}: {message}");
        let rest = &line[marker + JEPSEN_LOG_MARKER.len()..];
        let mut fields = rest.split_whitespace();
        let (Some(process), Some(event_type), Some(function)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return Err(problem(format!(
                "expected `<process> :<type> :<f> <value>` after `{JEPSEN_LOG_MARKER}`, found {rest:?}"
            )));
        };
        let value_text = fields.collect::<Vec<_>>().join(" ");
        let process = if process.starts_with(':') {
            None
        } else {
            Some(process.parse::<u64>().map_err(|_| {
                problem(format!(
                    "process {process:?} is neither a number nor a :keyword"
                ))
            })?)
        };
        let event_type = parse_event_type(event_type.strip_prefix(':').unwrap_or(event_type))
            .ok_or_else(|| {
                problem(format!(
                    "unknown type {event_type:?}; expected :invoke, :ok, :fail or :info"
                ))
            })?;
        let Some(function) = function.strip_prefix(':') else {
            return Err(problem(format!(
                "function {function:?} should be a :keyword"
            )));
        };
        let value = if value_text.is_empty() {
            Edn::Nil
        } else {
            let forms = edn::read_all(&value_text)
                .map_err(|error| problem(format!("value {value_text:?}: {error}")))?;
            match <[_; 1]>::try_from(forms) {
                Ok([form]) => form.form,
                Err(_) => return Err(problem(format!("value {value_text:?} is not one EDN form"))),
            }
        };
        events.push(JepsenEvent {
            line: line_number,
            process,
            event_type,
            function: function.to_string(),
            value,
            key: None,
        });
    }
    Ok(events)
}

fn parse_event_type(name: &str) -> Option<EventType> {
    match name {
        "invoke" => Some(EventType::Invoke),
        "ok" => Some(EventType::Ok),
        "fail" => Some(EventType::Fail),
        "info" => Some(EventType::Info),
        _ => None,
    }
}

fn read_edn_event(file: &str, line: usize, form: &Edn) -> Result<JepsenEvent, String> {
    let problem = |message: String| format!("{file}:{line}: {message}");
    if !matches!(form, Edn::Map(_)) {
        return Err(problem(format!(
            "expected an operation map, found {}",
            form.render()
        )));
    }
    let process = match form.get("process") {
        Some(Edn::Int(process)) if *process >= 0 => Some(*process as u64),
        Some(Edn::Keyword(_)) => None,
        Some(other) => {
            return Err(problem(format!(
                ":process {} is neither a number nor a keyword",
                other.render()
            )))
        }
        None => return Err(problem("operation has no :process".to_string())),
    };
    let event_type = match form.get("type") {
        Some(Edn::Keyword(name)) => parse_event_type(name).ok_or_else(|| {
            problem(format!(
                "unknown :type :{name}; expected :invoke, :ok, :fail or :info"
            ))
        })?,
        _ => return Err(problem("operation has no :type keyword".to_string())),
    };
    let function = match form.get("f") {
        Some(Edn::Keyword(name) | Edn::Symbol(name) | Edn::Text(name)) => name.clone(),
        _ => return Err(problem("operation has no :f".to_string())),
    };
    let key = match form.get("key") {
        None | Some(Edn::Nil) => None,
        Some(Edn::Text(key) | Edn::Keyword(key) | Edn::Symbol(key)) => Some(key.clone()),
        Some(Edn::Int(key)) => Some(key.to_string()),
        Some(other) => {
            return Err(problem(format!(
                ":key {} is not a string, keyword or number",
                other.render()
            )))
        }
    };
    Ok(JepsenEvent {
        line,
        process,
        event_type,
        function,
        value: form.get("value").cloned().unwrap_or(Edn::Nil),
        key,
    })
}

fn edn_to_value(value: &Edn) -> Result<Value, String> {
    match value {
        Edn::Nil => Ok(Value::Nil),
        Edn::Int(number) => Ok(Value::Int(*number)),
        Edn::Text(text) | Edn::Keyword(text) | Edn::Symbol(text) => Ok(Value::Text(text.clone())),
        other => Err(format!(
            "value {} is not nil, an integer or a string",
            other.render()
        )),
    }
}

fn edn_to_text(function: &str, value: &Edn) -> Result<String, String> {
    match value {
        Edn::Text(text) => Ok(text.clone()),
        Edn::Int(number) => Ok(number.to_string()),
        other => Err(format!(
            ":{function} value {} is not a string",
            other.render()
        )),
    }
}

fn read_micro_operations(value: &Edn) -> Result<Vec<MicroOperation>, String> {
    let Some(items) = value.as_sequence() else {
        return Err(format!(
            ":txn value {} is not a list of [:read|:write key value]",
            value.render()
        ));
    };
    items
        .iter()
        .map(|item| {
            let parts = item.as_sequence().unwrap_or(&[]);
            let [Edn::Keyword(kind), register, micro_value] = parts else {
                return Err(format!(
                    "txn element {} is not [:read|:write key value]",
                    item.render()
                ));
            };
            let register = match register {
                Edn::Keyword(name) | Edn::Text(name) | Edn::Symbol(name) => name.clone(),
                Edn::Int(number) => number.to_string(),
                other => return Err(format!("txn register {} is not a name", other.render())),
            };
            let value = edn_to_value(micro_value)?;
            match kind.as_str() {
                "read" | "r" => Ok(MicroOperation::Read { register, value }),
                "write" | "w" => Ok(MicroOperation::Write { register, value }),
                other => Err(format!(
                    "txn element kind :{other} is neither :read nor :write"
                )),
            }
        })
        .collect()
}

/// The call of an invocation event.
fn read_input(event: &JepsenEvent) -> Result<OperationInput, String> {
    let function = event.function.as_str();
    Ok(match function {
        "read" => OperationInput::Read,
        "write" => OperationInput::Write {
            value: edn_to_value(&event.value)?,
        },
        "cas" => {
            let pair = event.value.as_sequence().unwrap_or(&[]);
            let [from, to] = pair else {
                return Err(format!(":cas value {} is not [from to]", event.value.render()));
            };
            OperationInput::Cas {
                from: edn_to_value(from)?,
                to: edn_to_value(to)?,
            }
        }
        "get" => OperationInput::Get,
        "put" => OperationInput::Put {
            value: edn_to_text(function, &event.value)?,
        },
        "append" => OperationInput::Append {
            value: edn_to_text(function, &event.value)?,
        },
        "acquire" => OperationInput::Acquire,
        "release" => OperationInput::Release,
        "txn" => OperationInput::Transaction {
            micro_operations: read_micro_operations(&event.value)?,
        },
        other => {
            return Err(format!(
                "unknown operation :{other}; expected read, write, cas, get, put, append, acquire, release or txn"
            ))
        }
    })
}

/// The output of an `:ok` completion.
fn read_ok_output(event: &JepsenEvent, dialect: Dialect) -> Result<OperationOutput, String> {
    Ok(match (event.function.as_str(), &event.value) {
        ("read", Edn::Nil) if dialect == Dialect::Knossos => OperationOutput::Unknown,
        ("read", value) => OperationOutput::ReadValue {
            value: edn_to_value(value)?,
        },
        ("cas", _) => OperationOutput::CasResult { succeeded: true },
        ("get", Edn::Nil) => OperationOutput::Unknown,
        ("get", value) => OperationOutput::GetValue {
            value: edn_to_text("get", value)?,
        },
        ("txn", Edn::Nil) => OperationOutput::Unknown,
        ("txn", value) => OperationOutput::TransactionResult {
            micro_operations: read_micro_operations(value)?,
        },
        _ => OperationOutput::Done,
    })
}

/// Pairs invocations with completions per process. Time is the event's position among
/// client events, so real-time order is the file order.
fn interpret_events(
    file: &str,
    events: &[JepsenEvent],
    dialect: Dialect,
) -> Result<Vec<Operation>, String> {
    // Per process: index into `operations` of its pending invocation.
    let mut pending: std::collections::BTreeMap<u64, usize> = std::collections::BTreeMap::new();
    let mut operations: Vec<Operation> = Vec::new();
    let mut time: u64 = 0;
    for event in events {
        let Some(process) = event.process else {
            continue;
        };
        let problem = |message: String| format!("{file}:{}: {message}", event.line);
        time += 1;
        if event.event_type == EventType::Invoke {
            if let Some(&earlier) = pending.get(&process) {
                return Err(problem(format!(
                    "process {process} invokes while its operation from {} is still pending",
                    operations[earlier].source.as_deref().unwrap_or("earlier")
                )));
            }
            let input = read_input(event).map_err(problem)?;
            pending.insert(process, operations.len());
            operations.push(Operation {
                client: process,
                invoke_us: time,
                complete_us: None,
                key: event.key.clone(),
                op: input,
                output: OperationOutput::Unknown,
                status: OperationStatus::Info,
                source: Some(format!("{}:{}", short_name(file), event.line)),
            });
            continue;
        }
        let Some(operation_index) = pending.remove(&process) else {
            if event.event_type == EventType::Info {
                // Jepsen logs an :info for a process that crashed between operations;
                // nothing was pending, so there is nothing to complete.
                continue;
            }
            return Err(problem(format!(
                "process {process} completes an operation it never invoked"
            )));
        };
        let operation = &mut operations[operation_index];
        if operation.op.function_name() != event.function {
            return Err(problem(format!(
                "process {process} completes :{} but invoked :{}",
                event.function,
                operation.op.function_name()
            )));
        }
        match event.event_type {
            EventType::Invoke => unreachable!("handled above"),
            EventType::Ok => {
                operation.complete_us = Some(time);
                operation.status = OperationStatus::Ok;
                operation.output = read_ok_output(event, dialect).map_err(problem)?;
            }
            EventType::Fail if dialect == Dialect::EtcdLog && event.function == "cas" => {
                operation.complete_us = Some(time);
                operation.status = OperationStatus::Ok;
                operation.output = OperationOutput::CasResult { succeeded: false };
            }
            EventType::Fail => {
                operation.complete_us = Some(time);
                operation.status = OperationStatus::Fail;
            }
            EventType::Info => {
                // Unknown outcome: completes at +infinity.
                operation.status = OperationStatus::Info;
            }
        }
    }
    // Invocations never completed stay `info`, as initialised.
    assert!(operations
        .iter()
        .all(|operation| (operation.status == OperationStatus::Info)
            == operation.complete_us.is_none()));
    Ok(operations)
}

fn short_name(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}
