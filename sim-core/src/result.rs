//! What a run produces: the verdict, the property it concerns, metrics, the trace hash
//! and the one-line command that reproduces it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a run ended. Each failure class maps to exit code 1 in `run` and `sweep`, but
/// `Internal` (the simulator's own bug) to 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// A safety property (an invariant) was violated.
    Violation,
    /// Something that had to happen did not: a liveness condition after the heal, or
    /// a `sometimes` condition over the whole run.
    Liveness,
    /// The protocol panicked (an assertion in its code failed).
    Panic,
    /// The run used up its event budget.
    Budget,
    /// The simulator itself failed (one of its own assertions): a bug in quorumlab, not
    /// in the protocol. The CLI exits 3.
    Internal,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Violation => "violation",
            Verdict::Liveness => "liveness",
            Verdict::Panic => "panic",
            Verdict::Budget => "budget",
            Verdict::Internal => "internal",
        }
    }

    pub fn is_failure(self) -> bool {
        self != Verdict::Pass
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Metrics {
    pub events: u64,
    pub steps: u64,
    pub messages_sent: u64,
    /// The size on the wire of every message sent (`Message::size_bytes`).
    pub bytes_sent: u64,
    pub messages_delivered: u64,
    pub messages_dropped: u64,
    pub messages_duplicated: u64,
    pub messages_by_kind: BTreeMap<String, u64>,
    pub drops_by_cause: BTreeMap<String, u64>,
    pub observations: BTreeMap<String, u64>,
    pub client_ops_invoked: u64,
    pub client_ops_ok: u64,
    pub client_ops_failed: u64,
    pub client_ops_unknown: u64,
    pub client_latency_us_p50: u64,
    pub client_latency_us_p99: u64,
    pub client_latency_us_max: u64,
    /// Ok operations per simulated second.
    pub throughput_ops_per_sec: f64,
    /// Messages sent (all kinds) per ok operation: the protocol's cost per committed op.
    pub messages_per_committed_op: f64,
    /// Times some node entered the role its protocol marks as the leader (`RoleInfo::leader`).
    pub leader_changes: u64,
    /// Waits without progress, longer than the client timeout.
    pub unavailability: crate::stats::Unavailability,
    /// The protocol's own figures, from its meter (`crate::meter`), by name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub protocol: BTreeMap<String, u64>,
    /// The longest the adversarial scheduler (`[adversary]`) held a message it delivered.
    #[serde(skip_serializing_if = "is_zero")]
    pub adversary_held_us_max: u64,
    /// Messages it still held when the run ended (each for less than `hold_max_ms`).
    #[serde(skip_serializing_if = "is_zero")]
    pub adversary_held_at_end: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

/// `result.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub scenario: String,
    pub seed: u64,
    pub mutant: Option<String>,
    pub swarm: bool,
    pub verdict: Verdict,
    /// The violated property (or liveness condition, or `sometimes.<name>`).
    pub property: Option<String>,
    pub detail: Option<String>,
    /// Simulated time at which the run ended (or failed).
    pub time_us: u64,
    /// Index of the event at which the run ended (or failed), as in `trace.ndjson`.
    pub event_index: u64,
    /// Hex FNV-based hash over every event of the run: same (scenario, seed) => same hash.
    pub trace_hash: String,
    pub metrics: Metrics,
    pub faults_fired: BTreeMap<String, u64>,
    /// The one-line command that reproduces this run.
    pub repro: String,
    /// The roles the protocol declares (`Registration::roles`), for reports' colours and
    /// legends. Absent in result files written before roles were data.
    #[serde(default)]
    pub roles: Vec<DeclaredRole>,
    /// The run's Byzantine nodes (`[byzantine]`); reports colour them apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byzantine: Vec<u32>,
}

/// A role as `result.json` records it: what reports need, and nothing protocol-specific.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredRole {
    pub name: String,
    /// A CSS colour.
    pub colour: String,
    /// The role leader-targeted faults and the leader-change metric aim at.
    pub leader: bool,
}

/// One client operation, invoke to completion, for `history.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryOp {
    pub client: u32,
    pub request: u64,
    pub invoke_us: u64,
    /// `None` if it never completed (status `info`).
    pub complete_us: Option<u64>,
    /// `ok`, `fail` (definitely did not take effect) or `info` (unknown).
    pub status: String,
    /// For a protocol with a history model: the key the operation touches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The operation: the protocol's own op, or for a protocol with a history model the
    /// linearizability checker's input (`crate::lincheck::OperationInput`).
    pub op: serde_json::Value,
    pub reply: Option<serde_json::Value>,
    /// For a protocol with a history model: an `ok` reply's output in the checker's
    /// vocabulary (`crate::lincheck::OperationOutput`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// The random input the operation was built from (`Protocol::client_op`).
    #[serde(default)]
    pub draw: u64,
    /// A fire-and-forget submission (`wait = false`): it never completes, and the client
    /// did not wait for it before its next operation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fire_and_forget: bool,
}

/// Everything a run hands back.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub result: RunResult,
    /// `trace.ndjson` lines, when tracing was on.
    pub trace: Option<Vec<String>>,
    pub history: Vec<HistoryOp>,
    /// The model `history` is checked against, when the protocol declares one; written
    /// into `history.json` so that `quorumlab lincheck` needs no `--model`.
    pub history_model: Option<crate::lincheck::ModelKind>,
    /// Per-node role changes `(time_us, node, role)`, for reports.
    pub roles: Vec<(u64, u32, &'static str)>,
    /// Every fault that fired, with its node resolved, in order: the run's realised
    /// fault schedule (what `shrink` starts from).
    pub faults: Vec<AppliedFault>,
    /// The run's decision tape, when it was recorded (`Prepared::run_with`).
    pub tape: Option<crate::tape::TapeSpec>,
    /// How much the run held at its end (not written to `result.json`).
    pub live: LiveState,
}

/// What a run holds in memory, counted at its end: how `bench long-runs` shows memory
/// bounded by the live state (flat across run lengths with log compaction) rather than
/// by the run's length.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LiveState {
    /// The items the live nodes hold, summed, as the protocol counts them
    /// (`Registration::state_items`; Raft: log entries after the snapshot).
    pub state_items: u64,
    /// The most `state_items` held at once during the run (`budget.max_state_items`
    /// bounds it).
    pub state_items_peak: u64,
    /// The checker's ghost state (`Checker::ghost_items`; Raft: the entries written and
    /// committed that it remembers).
    pub ghost_items: u64,
    /// Events in the queue.
    pub queue_events: u64,
    /// Bytes of `trace.ndjson` held (traced runs).
    pub trace_bytes: u64,
    /// Client operations in the history.
    pub history_ops: u64,
}

/// A fault as it fired: when, what (targets resolved to node ids), and for how long.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedFault {
    pub at_us: u64,
    pub action: crate::faults::FaultAction,
    pub duration_us: Option<u64>,
}

/// Percentile by nearest rank over a sorted slice.
pub fn percentile(sorted: &[u64], per_hundred: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() as u64 * per_hundred).div_ceil(100).max(1);
    sorted[(rank - 1) as usize]
}
