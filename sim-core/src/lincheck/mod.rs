//! Linearizability checking of recorded client histories: is there a total order of the
//! operations, consistent with real time, in which a sequential model explains every
//! output? (Herlihy and Wing 1990.)
//!
//! # Pieces
//! - [`history`]: the [`History`] type and quorumlab's `history.json`.
//! - [`model`]: the [`Model`] trait and the register, CAS register, key-value,
//!   multi-register and mutex models, with partitioning by key (P-compositionality).
//! - [`search`]: the Wing–Gong search with Lowe's cache, bounded by a [`Budget`].
//! - [`parse`] and [`edn`]: readers for Jepsen etcd logs, EDN operation lines
//!   (Porcupine's kv data), Knossos EDN histories and `history.json`, with autodetection.
//!
//! The entry points are [`check_file`] (what the CLI calls) and [`check_history`]. Neither
//! reads the wall clock: callers time them.
//!
//! # Semantics of an operation
//! - `ok`: completed between `invoke_us` and `complete_us` with `output`.
//! - `fail`: definitely did not take effect; dropped before the search.
//! - `info`: unknown; it may take effect at any point after `invoke_us`, or never. It is
//!   treated as completing at +infinity with an output every model accepts.
//! - An operation whose output is unknown and that cannot change the state (a read that
//!   timed out, a Knossos `nil` read) constrains nothing and is dropped.
//! - Operations that touch at the same instant (`complete_us` of one equals `invoke_us` of
//!   the other) count as concurrent.
//!
//! # Format semantics
//! - Jepsen etcd logs (`INFO  jepsen.util - 3\t:ok\t:cas\t[3 0]`): one CAS register that
//!   starts `nil` (absent); an ok read of `nil` means absent; `:fail :cas` is a completed
//!   CAS whose compare failed (`CasResult { succeeded: false }`); `:fail :read` (timed out)
//!   did nothing; `:info` is unknown. Event order is time order.
//! - EDN operation lines (`{:process 0, :type :ok, :f :get, :key "4", :value "x"}`) and
//!   Knossos EDN vectors follow Knossos: `:fail` did not happen, `:info` is unknown, an ok
//!   read of `nil` is unknown, registers start at 0, `:process :nemesis` events are
//!   ignored, event order is time order.
//!
//! # `history.json`
//! ```json
//! {
//!   "model": {"kind": "cas-register", "initial": null},
//!   "operations": [
//!     {"client": 1, "invoke_us": 10, "complete_us": 25, "key": null,
//!      "op": {"type": "cas", "from": 1, "to": 2},
//!      "output": {"type": "cas_result", "succeeded": true}, "status": "ok"},
//!     {"client": 2, "invoke_us": 12, "complete_us": null, "key": "x",
//!      "op": {"type": "write", "value": 3}, "output": {"type": "unknown"},
//!      "status": "info"}
//!   ]
//! }
//! ```
//! `model` is optional (autodetected from the operations when absent, register values
//! start at 0). `op` is one of `read`, `write {value}`, `cas {from, to}`, `get`,
//! `put {value}`, `append {value}`, `acquire`, `release`,
//! `transaction {micro_operations: [{"type": "read"|"write", "register", "value"}]}`;
//! `output` is one of `unknown`, `done`, `read_value {value}`, `cas_result {succeeded}`,
//! `get_value {value}`, `transaction_result {micro_operations}`; values are `null`,
//! integers or strings. `status` is `ok`, `fail` or `info`; `info` operations have
//! `complete_us: null`. An optional `source` string (e.g. `node3.log:17`) is echoed in
//! explanations.

pub mod digest;
pub mod edn;
pub mod history;
pub mod model;
pub mod parse;
pub mod search;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use digest::TextDigest;
pub use history::{
    History, MicroOperation, Operation, OperationInput, OperationOutput, OperationStatus, Value,
};
pub use model::{
    CasRegisterModel, KeyValueModel, Model, ModelKind, MultiRegisterModel, MutexModel, Partition,
    RegisterModel,
};
pub use parse::HistoryFormat;
pub use search::{Budget, SearchOperation, SearchOutcome, Verdict};

/// Why a sub-history is not linearizable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counterexample {
    /// The longest linearizable prefix the search found, in linearization order
    /// (history operation indices).
    pub longest_prefix: Vec<usize>,
    /// The model state after that prefix.
    pub state_after_prefix: String,
    /// Operations pending after the prefix, none of which could be placed next; the last
    /// is the one whose completion forced the search back.
    pub unplaced: Vec<usize>,
    /// One line per unplaced operation: client, input, output, times, source.
    pub unplaced_descriptions: Vec<String>,
}

/// The result for one partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionReport {
    /// The partition's key; `None` for the single unkeyed object.
    pub key: Option<String>,
    /// Operations searched (after dropping `fail` and inert ones).
    pub operation_count: usize,
    pub verdict: Verdict,
    pub steps: u64,
    pub configurations: u64,
    pub counterexample: Option<Counterexample>,
}

/// The result of checking one history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The model's name ([`ModelKind::name`] for the built-in ones).
    pub model: String,
    pub verdict: Verdict,
    /// Operations in the history (all statuses).
    pub operation_count: usize,
    /// Every partition, in key order. Partitions are searched in turns and checking
    /// stops at the first violation, so then the unfinished ones say `Unknown`.
    pub partitions: Vec<PartitionReport>,
    /// Model steps over all partitions.
    pub steps: u64,
    /// A human explanation, several lines for a violation.
    pub explanation: String,
}

/// The result of checking one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVerdict {
    pub path: String,
    pub format: HistoryFormat,
    pub report: CheckReport,
}

impl FileVerdict {
    pub fn verdict(&self) -> Verdict {
        self.report.verdict
    }
}

/// Reads, parses and checks a history file. The format is autodetected; the model is
/// `model` if given, else the file's own (`history.json` may name one), else detected
/// from the operations. `Err` for unreadable or malformed files, naming file and line.
pub fn check_file(
    path: &Path,
    model: Option<ModelKind>,
    budget: Budget,
) -> Result<FileVerdict, String> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("{display}: cannot read: {error}"))?;
    check_text(&display, &text, model, budget)
}

/// [`check_file`] on text already in memory; `file` names it in errors.
pub fn check_text(
    file: &str,
    text: &str,
    model: Option<ModelKind>,
    budget: Budget,
) -> Result<FileVerdict, String> {
    let format = parse::detect_format(text).map_err(|error| format!("{file}: {error}"))?;
    let history = parse::parse_history(file, text, format)?;
    let model = match model {
        Some(model) => model,
        None => {
            parse::detect_model(&history, format).map_err(|error| format!("{file}: {error}"))?
        }
    };
    let report =
        check_history(&history, Some(model), budget).map_err(|error| format!("{file}: {error}"))?;
    Ok(FileVerdict {
        path: file.to_string(),
        format,
        report,
    })
}

/// Checks an in-memory history against `model` (else the history's own model, else the
/// detected one; registers start at 0).
pub fn check_history(
    history: &History,
    model: Option<ModelKind>,
    budget: Budget,
) -> Result<CheckReport, String> {
    history.validate()?;
    let model = match model {
        Some(model) => model,
        None => parse::detect_model(history, HistoryFormat::QuorumlabJson)?,
    };
    let report = match &model {
        ModelKind::Register { initial } => check_with_model(
            &RegisterModel {
                initial: initial.clone(),
            },
            history,
            budget,
        )?,
        ModelKind::CasRegister { initial } => check_with_model(
            &CasRegisterModel {
                initial: initial.clone(),
            },
            history,
            budget,
        )?,
        ModelKind::KeyValue => check_with_model(&KeyValueModel, history, budget)?,
        ModelKind::MultiRegister { initial } => check_with_model(
            &MultiRegisterModel {
                initial: initial.clone(),
            },
            history,
            budget,
        )?,
        ModelKind::Mutex => check_with_model(&MutexModel, history, budget)?,
    };
    Ok(report)
}

/// Checks `history` against any [`Model`]: validates each operation, partitions, drops
/// `fail` and inert operations, and searches each partition with what is left of the
/// budget, stopping at the first violation.
pub fn check_with_model<M: Model>(
    model: &M,
    history: &History,
    budget: Budget,
) -> Result<CheckReport, String> {
    let operations = &history.operations;
    for (operation_index, operation) in operations.iter().enumerate() {
        model.accepts(operation).map_err(|problem| {
            format!(
                "{}: {problem} (model {})",
                history::describe_location(operation_index, operation),
                model.name()
            )
        })?;
    }
    let partitions = model.partition(operations);
    let partition_operations: Vec<Vec<SearchOperation<'_>>> = partitions
        .iter()
        .map(|partition| {
            partition
                .operation_indices
                .iter()
                .map(|&operation_index| (operation_index, &operations[operation_index]))
                .filter(|(_, operation)| operation.status != OperationStatus::Fail)
                .filter(|(_, operation)| {
                    !model.is_inert(&operation.op, effective_output(operation))
                })
                .map(|(operation_index, operation)| SearchOperation {
                    operation_index,
                    invoke_time: operation.invoke_us,
                    complete_time: operation.complete_us,
                    input: &operation.op,
                    output: effective_output(operation),
                })
                .collect()
        })
        .collect();
    let mut searches: Vec<search::PartitionSearch<'_, '_, M>> = partition_operations
        .iter()
        .map(|search_operations| search::PartitionSearch::new(model, search_operations))
        .collect();

    // Partitions advance in turns, each turn's slice of steps twice the last, so a
    // violation in any partition is found about as fast as if it were checked alone,
    // and the order of turns (hence the result) is deterministic.
    let mut slice_steps: u64 = 1 << 12;
    let mut steps_total: u64 = 0;
    let mut violation_found = false;
    'turns: while !violation_found {
        let mut all_finished = true;
        for partition_search in searches.iter_mut() {
            if partition_search.verdict().is_some() {
                continue;
            }
            let allowance = slice_steps.min(budget.max_steps - steps_total);
            if allowance == 0 {
                break 'turns;
            }
            let steps_before = partition_search.steps();
            let verdict = partition_search.run(allowance);
            steps_total += partition_search.steps() - steps_before;
            match verdict {
                None => all_finished = false,
                Some(Verdict::NotLinearizable) => {
                    violation_found = true;
                    break;
                }
                Some(_) => {}
            }
        }
        if all_finished {
            break;
        }
        slice_steps = slice_steps.saturating_mul(2);
    }

    let mut partition_reports: Vec<PartitionReport> = Vec::with_capacity(partitions.len());
    for ((partition, partition_search), search_operations) in
        partitions.iter().zip(&searches).zip(&partition_operations)
    {
        let outcome = partition_search.outcome();
        let counterexample =
            (outcome.verdict == Verdict::NotLinearizable).then(|| Counterexample {
                longest_prefix: outcome.linearized.clone(),
                state_after_prefix: outcome.state_after_linearized.clone(),
                unplaced: outcome.unplaced.clone(),
                unplaced_descriptions: outcome
                    .unplaced
                    .iter()
                    .map(|&operation_index| {
                        history::describe_operation(operation_index, &operations[operation_index])
                    })
                    .collect(),
            });
        partition_reports.push(PartitionReport {
            key: partition.key.clone(),
            operation_count: search_operations.len(),
            verdict: outcome.verdict,
            steps: outcome.steps,
            configurations: outcome.configurations,
            counterexample,
        });
    }
    let verdict = if violation_found {
        Verdict::NotLinearizable
    } else if partition_reports
        .iter()
        .all(|report| report.verdict == Verdict::Linearizable)
    {
        Verdict::Linearizable
    } else {
        Verdict::Unknown
    };
    assert!(steps_total <= budget.max_steps);
    let explanation = explain(
        model,
        history,
        verdict,
        &partition_reports,
        partitions.len(),
        budget,
    );
    Ok(CheckReport {
        model: model.name(),
        verdict,
        operation_count: operations.len(),
        partitions: partition_reports,
        steps: steps_total,
        explanation,
    })
}

/// `info` operations get the output every model accepts, whatever was recorded.
fn effective_output(operation: &Operation) -> &OperationOutput {
    match operation.status {
        OperationStatus::Info => &OperationOutput::Unknown,
        _ => &operation.output,
    }
}

fn describe_key(key: &Option<String>) -> String {
    match key {
        Some(key) => format!("key {key:?}"),
        None => "the history".to_string(),
    }
}

fn explain<M: Model>(
    model: &M,
    history: &History,
    verdict: Verdict,
    partition_reports: &[PartitionReport],
    partition_count: usize,
    budget: Budget,
) -> String {
    let steps: u64 = partition_reports.iter().map(|report| report.steps).sum();
    match verdict {
        Verdict::Linearizable => format!(
            "linearizable under {}: {} operations in {partition_count} partition(s), {steps} model steps",
            model.name(),
            history.operations.len()
        ),
        Verdict::Unknown => {
            let unknown: Vec<String> = partition_reports
                .iter()
                .filter(|report| report.verdict == Verdict::Unknown)
                .map(|report| describe_key(&report.key))
                .collect();
            format!(
                "unknown under {}: the budget of {} model steps ran out while checking {}",
                model.name(),
                budget.max_steps,
                unknown.join(", ")
            )
        }
        Verdict::NotLinearizable => {
            let failed = partition_reports
                .iter()
                .find(|report| report.verdict == Verdict::NotLinearizable)
                .expect("a violation comes from a checked partition");
            let counterexample = failed
                .counterexample
                .as_ref()
                .expect("a violation has a counterexample");
            let mut lines = vec![format!(
                "NOT linearizable under {}: {} ({} operations searched) has no linearization",
                model.name(),
                describe_key(&failed.key),
                failed.operation_count
            )];
            let prefix: Vec<String> = counterexample
                .longest_prefix
                .iter()
                .map(|index| format!("#{index}"))
                .collect();
            lines.push(format!(
                "longest linearizable prefix: {} operations [{}], leaving state {}",
                counterexample.longest_prefix.len(),
                prefix.join(" "),
                counterexample.state_after_prefix
            ));
            lines.push(
                "then none of these pending operations can be placed next (the last one had already returned):"
                    .to_string(),
            );
            for description in &counterexample.unplaced_descriptions {
                lines.push(format!("  {description}"));
            }
            lines.join("\n")
        }
    }
}

#[cfg(test)]
mod tests;
