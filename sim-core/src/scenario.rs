//! Scenario files: what a run simulates (cluster, network, faults, workload, properties)
//! and what it must show (`expect`). Parsing is strict: an unknown field or a bad value
//! is a `ScenarioError` naming the file, the line, the field and the fix.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::network::NetworkSpec;

/// A scenario, parsed and validated (but not yet bound to a protocol).
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The path it was loaded from, as given.
    pub path: PathBuf,
    pub source: String,
    pub file: ScenarioFile,
}

/// The TOML layout of a scenario file.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A short name; defaults to the file stem.
    pub name: Option<String>,
    /// The protocol, as listed by `quorumlab list protocols`.
    pub protocol: String,
    /// Cluster size.
    pub nodes: u32,
    /// Length of the fault phase. With a `[liveness]` table, everything heals at this
    /// point and the liveness window follows.
    pub duration_ms: u64,
    /// Seeds `quorumlab test` runs: `"A..B"` (both ends included) or a count `N` (1..N).
    pub seeds: Option<SeedsSpec>,
    /// `"pass"`, or the property (or verdict) that must be violated.
    #[serde(default = "default_expect")]
    pub expect: String,
    /// Which seeds must show `expect` (when it is not `"pass"`): `"any"` (at least one,
    /// the default) or `"all"` (every seed: a negative demonstration).
    #[serde(default, skip_serializing_if = "ExpectSeeds::is_any")]
    pub expect_seeds: ExpectSeeds,
    pub mutant: Option<String>,
    #[serde(default)]
    pub exceed_fault_bound: bool,
    #[serde(default)]
    pub synchrony: Synchrony,
    #[serde(default)]
    pub network: NetworkSpec,
    /// An adversarial scheduler (`crate::adversary`), for `synchrony = "asynchronous"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adversary: Option<crate::adversary::AdversarySpec>,
    /// The explicit fault schedule: `[[faults]]` entries.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    pub nemesis: Option<NemesisSpec>,
    /// Byzantine nodes and their strategies (`crate::byzantine`).
    pub byzantine: Option<crate::byzantine::ByzantineSpec>,
    /// Swarm testing: each seed switches nemesis kinds on or off and picks strengths.
    #[serde(default)]
    pub swarm: bool,
    pub workload: Option<WorkloadSpec>,
    /// Clients as endpoints on the network (placement, links); without it clients sit
    /// outside the network model (see `endpoints.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<crate::endpoints::ClientsSpec>,
    pub liveness: Option<LivenessSpec>,
    /// Observation kinds (or `fault_fired`) that must occur at least once per run.
    #[serde(default)]
    pub sometimes: Vec<String>,
    #[serde(default)]
    pub budget: BudgetSpec,
    /// Upper bounds on what a run may cost, checked at its end.
    pub bounds: Option<BoundsSpec>,
    /// Conditions checked throughout the run (`run_checks.rs`): `[[checks]]` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<crate::run_checks::CheckSpec>,
    /// The protocol's own parameters.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub params: toml::Table,
    /// Bounds for the exhaustive model checker (`quorumlab check`).
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub check: Option<toml::Table>,
    /// A decision tape (see `tape.rs`): the run takes its network, timer and workload
    /// decisions from it instead of the seed's streams. `quorumlab shrink` writes one.
    pub tape: Option<crate::tape::TapeSpec>,
    /// The tape as a file (`tape.json` of `quorumlab run --tape`), relative to the
    /// scenario file; loaded into `tape` when the scenario is parsed.
    pub tape_file: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_expect() -> String {
    "pass".to_string()
}

/// Which of a scenario's seeds must show its `expect`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ExpectSeeds {
    /// At least one seed.
    #[default]
    Any,
    /// Every seed.
    All,
}

impl ExpectSeeds {
    pub fn is_any(&self) -> bool {
        *self == ExpectSeeds::Any
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SeedsSpec {
    Count(u64),
    Range(String),
}

/// The synchrony model (Dwork–Lynch–Stockmeyer): what the network promises.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Synchrony {
    /// Every delay is within the network's `bound_us`, always; no loss.
    Synchronous,
    /// Arbitrary delays and losses until GST (the heal point), bounded by `bound_us` after.
    #[default]
    Partial,
    /// No bound ever: the network keeps its configured behaviour through the liveness
    /// window (so liveness properties are not expected to hold), and an `[adversary]`
    /// may pick when each message arrives.
    Asynchronous,
}

/// One `[[faults]]` entry: when it fires, how long it holds, and what it does.
// In the schema, `unevaluatedProperties` refuses what neither the timing fields nor the
// matching action take (the flattened variants' `additionalProperties: false` would
// refuse the timing fields, so schemars drops it).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[schemars(extend("unevaluatedProperties" = false))]
pub struct FaultSpec {
    /// When, in ms (or `at_us` in microseconds: exactly one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// When, in microseconds (or `at_ms`: exactly one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_us: Option<u64>,
    /// How long until the fault is reverted, in ms (or `duration_us`); without either it
    /// holds until the heal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// How long until the fault is reverted, in microseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_us: Option<u64>,
    /// What the fault does: `action`, and exactly the fields that action takes. (No
    /// `deny_unknown_fields` here: serde cannot combine it with `flatten`, so the
    /// variants of `FaultActionSpec` refuse unknown fields instead.)
    #[serde(flatten)]
    pub action: FaultActionSpec,
}

impl FaultSpec {
    /// When the fault fires, in microseconds (saturating: validation refuses any time
    /// past `SIMULATED_TIME_MAX_US`).
    pub fn at(&self) -> u64 {
        self.at_us
            .unwrap_or(self.at_ms.unwrap_or(0).saturating_mul(1000))
    }

    /// How long until it is reverted, in microseconds, if it is.
    pub fn duration(&self) -> Option<u64> {
        self.duration_us
            .or(self.duration_ms.map(|ms| ms.saturating_mul(1000)))
    }
}

/// A `[min, max]` pair of exactly two integers (serde's fixed-size arrays let a third
/// element slip by unnoticed). Use with `#[serde(deserialize_with = "...")]`.
pub fn exactly_two<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<[u64; 2], D::Error> {
    let items = Vec::<u64>::deserialize(deserializer)?;
    <[u64; 2]>::try_from(items.as_slice()).map_err(|_| {
        serde::de::Error::custom(format!(
            "expected a [min, max] pair, found {} numbers",
            items.len()
        ))
    })
}

/// The longest a scenario may run, in simulated microseconds: thirty days. Every time a
/// scenario states (its length, fault times and durations, client timeouts, nemesis
/// intervals, the liveness window) must fit within it, so sums of them never overflow
/// the simulator's clock.
pub const SIMULATED_TIME_MAX_US: u64 = 30 * 24 * 3600 * 1_000_000;

/// The generic liveness conditions about clients: `client_progress` (an operation
/// invoked after the heal completes) and `client_ops_complete` (every operation
/// outstanding at the heal completes).
pub const CLIENT_CONDITIONS: &[&str] = &["client_progress", "client_ops_complete"];

/// The most simulated clients a scenario may have.
pub const CLIENTS_MAX: u32 = 10_000;

/// The most seeds one range may name (`--seeds`, `seeds`).
pub const SEED_RANGE_MAX: u64 = 1 << 48;

/// The largest scenario file read.
const SCENARIO_FILE_BYTES_MAX: u64 = 64 << 20;

/// The largest tape file `tape_file` may name.
const TAPE_FILE_BYTES_MAX: u64 = 256 << 20;

/// A fault's `action` and the fields it takes (the file's syntax of `faults::FaultAction`,
/// before node ids are checked against the cluster size).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultActionSpec {
    /// Crash a node; with a duration, restart it (from its persisted state) after.
    Crash { node: NodeSelector },
    /// Crash a node in the middle of its next step, right after that step's first
    /// `Persist` effect: the sends that follow the persist are lost.
    CrashAfterPersist { node: NodeSelector },
    /// Crash a node in the middle of its next step, at a boundary between two of its
    /// effects (after a send and before a `Persist`, between two sends, ...): the effects
    /// after the boundary are lost. With `after_effects = K`, the cut falls after the
    /// first K effects of the node's next step that has more than K; without it, K is
    /// drawn from the fault stream (1..=4).
    CrashMidStep {
        node: NodeSelector,
        /// Effects of the step applied before the crash, 1..=1000 (default: drawn).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_effects: Option<u32>,
    },
    /// Restart a crashed node from its persisted state.
    Restart { node: NodeSelector },
    /// Split the cluster: nodes in different groups cannot talk (nodes in no group are
    /// cut off from everyone).
    Partition {
        /// One list per side, e.g. `[[0, 1], [2, 3, 4]]`: node ids, node selectors
        /// (`"leader"`, `"connected_leader+1"`, ...), clients on the network (`"c0"`); a
        /// side may be `"rest"`: every node no other side names.
        groups: Vec<crate::selectors::GroupSpec>,
    },
    /// One node cannot talk to anyone.
    Isolate { node: NodeSelector },
    /// Two halves that cannot talk to each other, both talking to this bridge node.
    Bridge { node: NodeSelector },
    /// Messages from `from` to `to` are dropped; the other direction works.
    OneWay {
        /// Senders whose messages are dropped, e.g. `[0]`.
        from: Vec<u32>,
        /// Receivers that do not get them, e.g. `[1, 2]`.
        to: Vec<u32>,
    },
    /// Heal every partition.
    Heal {},
    /// The node loses each message it sends with this probability.
    SendOmission {
        node: NodeSelector,
        /// Probability per million, 0..=1000000.
        per_million: u32,
    },
    /// The node loses each message sent to it with this probability.
    ReceiveOmission {
        node: NodeSelector,
        /// Probability per million, 0..=1000000.
        per_million: u32,
    },
    /// Every link loses messages with this probability.
    Loss {
        /// Probability per million, 0..=1000000.
        per_million: u32,
    },
    /// Every link duplicates messages with this probability.
    Duplicate {
        /// Probability per million, 0..=1000000.
        per_million: u32,
    },
    /// Every message takes this much longer.
    Delay { extra_latency_us: u64 },
    /// The node's timers run slow (positive) or fast (negative) by this many parts per
    /// million (above -1000000).
    ClockDrift { node: NodeSelector, drift_ppm: i64 },
    /// Reorder messages: each one matching `from`, `to` and `kinds` gets, with this
    /// probability, an extra delay in `min_delay_us..=max_delay_us` (so later messages
    /// overtake it). Holds until reverted (its duration) or the heal.
    Reorder {
        /// Probability per million, 0..=1000000.
        per_million: u32,
        /// The least extra delay a reordered message gets.
        #[serde(default)]
        min_delay_us: u64,
        /// The most extra delay a reordered message gets.
        max_delay_us: u64,
        /// Only messages from these nodes (default: any).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        from: Vec<u32>,
        /// Only messages to these nodes (default: any).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        to: Vec<u32>,
        /// Only messages of these kinds, e.g. `["append_entries"]` (default: any).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        kinds: Vec<String>,
    },
    /// Freeze a node (a GC pause, a suspended VM): it takes no steps; messages to it and
    /// its timers wait, none lost, and when the pause ends (its duration, or the heal) it
    /// resumes with its state and handles what waited, in arrival order. A crash ends a
    /// pause (what waited then meets a crashed node).
    Pause { node: NodeSelector },
    /// Step the node's local clock (what a protocol that reads its clock sees) by this
    /// many milliseconds, ahead (positive) or behind (negative) of real time, within
    /// +-86400000 (a day); reverted after its duration. Timers are not moved (they
    /// measure intervals), and a clock never reads below 0.
    ClockSkew { node: NodeSelector, offset_ms: i64 },
}

impl FaultActionSpec {
    /// The node selector of an action aimed at one node (`node = ...`), if it has one.
    pub fn node_selector(&self) -> Option<&NodeSelector> {
        match self {
            FaultActionSpec::Crash { node }
            | FaultActionSpec::CrashAfterPersist { node }
            | FaultActionSpec::CrashMidStep { node, .. }
            | FaultActionSpec::Restart { node }
            | FaultActionSpec::Isolate { node }
            | FaultActionSpec::Bridge { node }
            | FaultActionSpec::SendOmission { node, .. }
            | FaultActionSpec::ReceiveOmission { node, .. }
            | FaultActionSpec::ClockDrift { node, .. }
            | FaultActionSpec::Pause { node }
            | FaultActionSpec::ClockSkew { node, .. } => Some(node),
            FaultActionSpec::Partition { .. }
            | FaultActionSpec::OneWay { .. }
            | FaultActionSpec::Heal {}
            | FaultActionSpec::Loss { .. }
            | FaultActionSpec::Duplicate { .. }
            | FaultActionSpec::Delay { .. }
            | FaultActionSpec::Reorder { .. } => None,
        }
    }

    /// Every node id the action names explicitly (not `"leader"`).
    pub fn node_ids(&self) -> Vec<u32> {
        match self {
            FaultActionSpec::Partition { groups } => groups
                .iter()
                .flat_map(crate::selectors::GroupSpec::node_ids)
                .collect(),
            FaultActionSpec::OneWay { from, to } | FaultActionSpec::Reorder { from, to, .. } => {
                from.iter().chain(to).copied().collect()
            }
            _ => match self.node_selector() {
                Some(NodeSelector::Id(id)) => vec![*id],
                Some(NodeSelector::Role(_)) | None => Vec::new(),
            },
        }
    }
}

/// A node id, or a role such as `"leader"` (a node whose role is that at the moment the
/// fault fires; the lowest id if several).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(untagged)]
pub enum NodeSelector {
    Id(u32),
    Role(String),
}

/// The fault kinds a random nemesis (and swarm mode) may choose from.
pub const NEMESIS_KINDS: &[&str] = &[
    "crash",
    "crash_leader",
    "crash_after_persist",
    "partition",
    "loss",
    "duplicate",
    "delay",
    "send_omission",
    "receive_omission",
    "clock_drift",
    // Added later; appended so that weighted maps draw the kinds above as before.
    "isolate_leader",
    "isolate",
    "split",
    "restart",
    "crash_mid_step",
    "pause",
    "clock_skew",
];

/// How many of `NEMESIS_KINDS` (the first ones) swarm mode turns on and off when the
/// scenario has no `[nemesis]`: the kinds it always used, so its seeds run as before.
pub const SWARM_DEFAULT_KINDS: usize = 10;

/// The kinds a nemesis draws from, with their weights.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum NemesisKinds {
    /// `kinds = ["crash", "crash", "partition"]`: each entry has weight 1.
    List(Vec<String>),
    /// `kinds = { crash = 2, partition = 1 }`: drawn by cumulative weight in the order
    /// of `NEMESIS_KINDS` (not the file's order, so reordering a map changes nothing).
    Weights(BTreeMap<String, u32>),
}

impl NemesisKinds {
    /// The (kind, weight) entries a draw walks, in draw order: a list's entries in its
    /// order with weight 1 each (so a draw is exactly a uniform pick, as lists always
    /// drew), a map's in `NEMESIS_KINDS` order, without weights of 0. Errors name the
    /// problem and its fix.
    pub fn entries(&self) -> Result<Vec<(&'static str, u32)>, (String, String)> {
        let known = |kind: &str| {
            NEMESIS_KINDS
                .iter()
                .copied()
                .find(|&known| known == kind)
                .ok_or_else(|| {
                    (
                        format!("unknown fault kind `{kind}`"),
                        format!("use some of: {}", NEMESIS_KINDS.join(", ")),
                    )
                })
        };
        let entries: Vec<(&'static str, u32)> = match self {
            NemesisKinds::List(kinds) => kinds
                .iter()
                .map(|kind| known(kind).map(|kind| (kind, 1)))
                .collect::<Result<_, _>>()?,
            NemesisKinds::Weights(weights) => {
                for kind in weights.keys() {
                    known(kind)?;
                }
                NEMESIS_KINDS
                    .iter()
                    .filter_map(|&kind| weights.get(kind).map(|&weight| (kind, weight)))
                    .filter(|&(_, weight)| weight > 0)
                    .collect()
            }
        };
        if entries.is_empty() {
            return Err((
                "no kind to draw from (an empty list, or every weight 0)".to_string(),
                "name at least one kind, e.g. `kinds = [\"crash\"]` or `kinds = { crash = 1 }`"
                    .to_string(),
            ));
        }
        Ok(entries)
    }
}

/// The schema of `kinds`: the names are those of `NEMESIS_KINDS` (an untagged enum of
/// strings would not say so).
impl JsonSchema for NemesisKinds {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NemesisKinds".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = NEMESIS_KINDS.to_vec();
        let weights: serde_json::Map<String, serde_json::Value> = NEMESIS_KINDS
            .iter()
            .map(|&kind| {
                let weight =
                    serde_json::json!({ "type": "integer", "minimum": 0, "maximum": u32::MAX });
                (kind.to_string(), weight)
            })
            .collect();
        schemars::json_schema!({
            "description": "Fault kinds to draw from: a list, where a kind named twice is drawn twice as often, or a map from kind to integer weight, drawn by cumulative weight in the order of the known kinds.",
            "anyOf": [
                { "type": "array", "items": { "enum": names }, "minItems": 1 },
                {
                    "type": "object",
                    "properties": weights,
                    "additionalProperties": false,
                    "minProperties": 1
                }
            ]
        })
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NemesisSpec {
    /// Fault kinds to draw from (see `NEMESIS_KINDS`): a list, where a kind named twice is
    /// drawn twice as often, or a map from kind to integer weight.
    pub kinds: NemesisKinds,
    /// Time between nemesis actions, drawn uniformly.
    #[serde(default = "default_nemesis_interval")]
    #[serde(deserialize_with = "exactly_two")]
    pub interval_ms: [u64; 2],
    /// How long each action lasts before it is reverted, drawn uniformly.
    #[serde(default = "default_nemesis_duration")]
    #[serde(deserialize_with = "exactly_two")]
    pub duration_ms: [u64; 2],
    #[serde(default = "default_loss")]
    pub loss_per_million: u32,
    #[serde(default = "default_duplicate")]
    pub duplicate_per_million: u32,
    #[serde(default = "default_extra_latency")]
    pub extra_latency_us: u64,
    #[serde(default = "default_drift")]
    pub drift_ppm_max: i64,
    /// The largest clock offset the kind `clock_skew` sets, in ms either way (default
    /// 1000, at most 86400000).
    #[serde(default = "default_skew")]
    pub skew_ms_max: u64,
    /// How many nodes the kind `isolate` cuts off, each from everyone (default 1).
    #[serde(default = "default_isolate_nodes")]
    pub isolate_nodes: u32,
    /// Rounds: after every `round_actions` actions the nemesis pauses for a time drawn
    /// from `pause_ms` (its faults revert meanwhile), so the cluster can recover between
    /// rounds. Give both or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_actions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause_ms: Option<[u64; 2]>,
    /// With `exceed_fault_bound = true`: exceed the fault bound only within this window of
    /// the fault phase, `[from_ms, to_ms]`; outside it, random faults stay within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceed_window_ms: Option<[u64; 2]>,
}

fn default_isolate_nodes() -> u32 {
    1
}

fn default_nemesis_interval() -> [u64; 2] {
    [200, 1000]
}
fn default_nemesis_duration() -> [u64; 2] {
    [100, 2000]
}
fn default_loss() -> u32 {
    300_000
}
fn default_duplicate() -> u32 {
    200_000
}
fn default_extra_latency() -> u64 {
    50_000
}
fn default_skew() -> u64 {
    1000
}
fn default_drift() -> i64 {
    200_000
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub clients: u32,
    /// Think time between a client's operations, drawn uniformly.
    #[serde(default = "default_client_interval")]
    #[serde(deserialize_with = "exactly_two")]
    pub interval_ms: [u64; 2],
    /// A request not answered within this is retried (same request id) at another node.
    #[serde(default = "default_client_timeout")]
    pub timeout_ms: u64,
    /// Wait before retrying after a redirect without a leader hint.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// `false`: fire-and-forget submissions (the labs' `Start()` without waiting): a
    /// client sends each operation, follows a leader redirect, and goes on to its next
    /// operation at once, never waiting for, timing out on or retrying it. Such an
    /// operation never completes in the history (status `info`: it may or may not have
    /// taken effect), so `client_progress`, `client_ops_complete` and `op_latency` never
    /// count it; `command_everywhere` does. `[[workload.ops]]` may set it per operation.
    #[serde(default = "default_true")]
    pub wait: bool,
    /// An explicit list of operations instead of random ones (what `shrink` writes): each
    /// is invoked at `at_us` (or `at_ms`) by `client` (or, if that client is busy, as soon
    /// as its outstanding operation completes), with `draw` as the operation's random
    /// input. Every operation must be invoked before the run ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<ClientOpSpec>>,
}

/// One scheduled client operation.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientOpSpec {
    /// When, in microseconds (or `at_ms`: exactly one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_us: Option<u64>,
    /// When, in ms (or `at_us`: exactly one of the two).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    pub client: u32,
    /// The operation's random input, as a random operation would draw it (what `shrink`
    /// writes); or give `op` instead: exactly one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draw: Option<u64>,
    /// The operation written out in the protocol's words (kv: `"put k1 v7"`, `"get k1"`,
    /// `"append k1"`, `"cas k1 v0 v2"`; raft: the value, `"42"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// `false`: a fire-and-forget submission (see `[workload] wait`, whose value it
    /// overrides for this operation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<bool>,
}

impl ClientOpSpec {
    /// When the operation is invoked, in microseconds (saturating: validation refuses
    /// any time past `SIMULATED_TIME_MAX_US`).
    pub fn at(&self) -> u64 {
        self.at_us
            .unwrap_or(self.at_ms.unwrap_or(0).saturating_mul(1000))
    }
}

fn default_client_interval() -> [u64; 2] {
    [10, 100]
}
fn default_client_timeout() -> u64 {
    500
}
fn default_backoff() -> u64 {
    20
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LivenessSpec {
    /// After the heal at `duration_ms`, every condition must hold within this window.
    pub within_ms: u64,
    /// `false`: do not heal at `duration_ms` (faults stay as they are), to show that a
    /// condition cannot hold without a quorum.
    #[serde(default = "default_true")]
    pub heal: bool,
    /// Conditions: `client_progress` (an operation invoked after the heal completes),
    /// `client_ops_complete` (every operation outstanding at the heal completes), or one
    /// the protocol defines (`quorumlab list invariants`).
    pub require: Vec<String>,
}

/// Cost bounds (the `[bounds]` table), checked when the run ends, like the classic Raft
/// labs' RPC-count tests: a run that exceeds one fails with property `bounds.<field>`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BoundsSpec {
    /// Messages sent over the whole run.
    pub max_messages: Option<u64>,
    /// Messages sent per client operation that completed ok.
    pub max_messages_per_committed_op: Option<f64>,
    /// Times any node became leader.
    pub max_leader_changes: Option<u64>,
    /// The slowest ok client operation, invoke to completion.
    pub max_client_latency_ms: Option<u64>,
}

impl BoundsSpec {
    /// The first bound `metrics` exceed, as (`bounds.<field>`, what happened).
    pub fn first_exceeded(&self, metrics: &crate::result::Metrics) -> Option<(String, String)> {
        let ok = metrics.client_ops_ok;
        let per_op = crate::stats::ratio(metrics.messages_sent, ok);
        let latency_max_ms = metrics.client_latency_us_max.div_ceil(1000);
        let exceeded = |name: &str, detail: String| Some((format!("bounds.{name}"), detail));
        if let Some(max) = self.max_messages.filter(|&max| metrics.messages_sent > max) {
            return exceeded(
                "max_messages",
                format!(
                    "{} messages sent; the bound is {max}",
                    metrics.messages_sent
                ),
            );
        }
        if let Some(max) = self.max_messages_per_committed_op {
            if ok == 0 || per_op > max {
                return exceeded(
                    "max_messages_per_committed_op",
                    format!(
                        "{} messages for {ok} committed operations ({per_op:.2} per op); the bound is {max}",
                        metrics.messages_sent
                    ),
                );
            }
        }
        if let Some(max) = self
            .max_leader_changes
            .filter(|&max| metrics.leader_changes > max)
        {
            return exceeded(
                "max_leader_changes",
                format!(
                    "{} leader changes; the bound is {max}",
                    metrics.leader_changes
                ),
            );
        }
        if let Some(max) = self
            .max_client_latency_ms
            .filter(|&max| latency_max_ms > max)
        {
            return exceeded(
                "max_client_latency_ms",
                format!("the slowest ok operation took {latency_max_ms} ms; the bound is {max}"),
            );
        }
        None
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Events one run may process; more is a `budget` failure, never a hang.
    #[serde(default = "default_max_events")]
    pub max_events: u64,
    /// Simulated time one run may reach, in ms (default: a day); an event past it is a
    /// `budget` failure. Raise it (and `max_events`) for longer runs.
    #[serde(default = "default_max_sim_ms")]
    pub max_sim_ms: u64,
    /// Memory a traced run may spend on its trace, in MiB (default 256). Past it the
    /// trace is cut, and ends with a `trace_truncated` line saying how many lines were
    /// left out; the run itself (verdict, trace hash) is unchanged.
    #[serde(default = "default_max_trace_mb")]
    pub max_trace_mb: u64,
    /// Items the live nodes may hold together, as the protocol counts them (Raft: log
    /// entries after each node's snapshot; default 4,000,000): a bound on memory that
    /// ends a run whose state outgrows it with a `budget` failure. Log compaction
    /// (`[params] snapshot_every`) keeps Raft's far below it.
    #[serde(default = "default_max_state_items")]
    pub max_state_items: u64,
}

impl Default for BudgetSpec {
    fn default() -> Self {
        BudgetSpec {
            max_events: default_max_events(),
            max_sim_ms: default_max_sim_ms(),
            max_trace_mb: default_max_trace_mb(),
            max_state_items: default_max_state_items(),
        }
    }
}

fn default_max_events() -> u64 {
    1_000_000
}

fn default_max_sim_ms() -> u64 {
    86_400_000
}

fn default_max_trace_mb() -> u64 {
    256
}

fn default_max_state_items() -> u64 {
    4_000_000
}

/// The JSON Schema of scenario files (draft 2020-12), with the scenario types' doc
/// comments as descriptions. `[params]` and `[check]` belong to the protocol: give
/// `protocol` and its sub-schemas to get a schema for that protocol's files (`protocol`
/// is then constrained to that name); a sub-schema left `None` is a free-form table.
pub fn schema(
    protocol: Option<&str>,
    params: Option<schemars::Schema>,
    check: Option<schemars::Schema>,
) -> schemars::Schema {
    let mut schema = schemars::schema_for!(ScenarioFile);
    let free_form = || schemars::json_schema!({ "type": "object" });
    let properties = schema
        .ensure_object()
        .entry("properties")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    let properties = properties
        .as_object_mut()
        .expect("a struct's schema has an object of properties");
    // A protocol's sub-schema may refer to its own definitions (`#/$defs/...`): they move
    // to the root, where such references resolve.
    let mut hoisted = serde_json::Map::new();
    let mut describe = |mut sub: schemars::Schema, description: &str| {
        if let Some(serde_json::Value::Object(defs)) = sub.remove("$defs") {
            hoisted.extend(defs);
        }
        sub.remove("$schema");
        if sub.get("description").is_none() {
            sub.insert("description".to_string(), description.into());
        }
        sub.to_value()
    };
    properties.insert(
        "params".to_string(),
        describe(
            params.unwrap_or_else(free_form),
            "The protocol's own parameters (`quorumlab list params`).",
        ),
    );
    properties.insert(
        "check".to_string(),
        describe(
            check.unwrap_or_else(free_form),
            "Bounds for the exhaustive model checker (`quorumlab check`).",
        ),
    );
    if !hoisted.is_empty() {
        let defs = schema
            .ensure_object()
            .entry("$defs")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if let Some(defs) = defs.as_object_mut() {
            for (name, definition) in hoisted {
                defs.entry(name).or_insert(definition);
            }
        }
    }
    let properties = schema
        .ensure_object()
        .get_mut("properties")
        .and_then(serde_json::Value::as_object_mut)
        .expect("a struct's schema has an object of properties");
    if let Some(name) = protocol {
        properties.insert(
            "protocol".to_string(),
            serde_json::json!({
                "description": "The protocol this schema is for.",
                "const": name,
            }),
        );
    }
    schema
}

/// A bad scenario: where, what, and how to fix it. Maps to exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if self.field.is_empty() {
            // About the file as a whole (unreadable, not UTF-8, not TOML): no field.
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": field `{}`: {}", self.field, self.message)?;
        }
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let refuse = |line: Option<usize>, message: String, fix: &str| ScenarioError {
            file: path.display().to_string(),
            line,
            field: String::new(),
            message,
            fix: fix.to_string(),
        };
        // A scenario is a small text file: not a folder, a device or anything huge.
        let metadata = std::fs::metadata(path).map_err(|error| {
            refuse(
                None,
                format!("cannot read the file: {error}"),
                "check the path (`quorumlab list scenarios` shows the bundled ones)",
            )
        })?;
        if !metadata.is_file() || metadata.len() > SCENARIO_FILE_BYTES_MAX {
            return Err(refuse(
                None,
                format!(
                    "not a regular file of at most {} MiB",
                    SCENARIO_FILE_BYTES_MAX >> 20
                ),
                "name a scenario's .toml file",
            ));
        }
        let bytes = std::fs::read(path).map_err(|error| {
            refuse(
                None,
                format!("cannot read the file: {error}"),
                "check the path and its permissions",
            )
        })?;
        let source = String::from_utf8(bytes).map_err(|error| {
            let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&byte| byte == b'\n').count() + 1;
            refuse(
                Some(line),
                format!("not UTF-8 text (an invalid byte at offset {})", valid.len()),
                "save the file as UTF-8 (TOML files are UTF-8)",
            )
        })?;
        Scenario::parse(path, source)
    }

    pub fn parse(path: &Path, source: String) -> Result<Scenario, ScenarioError> {
        check_toml_syntax(path, &source)?;
        let file: ScenarioFile = toml::from_str(&source).map_err(|error| {
            let mut message = error.message().to_string();
            if message.contains("untagged enum NemesisKinds") {
                message = "expected a list of kinds, or a map from kind to a weight (an integer \
                           from 0 to 4294967295)"
                    .to_string();
            }
            let (field, line) = match error.span() {
                Some(span) => locate_deserialize_error(&source, span, &message),
                None => (field_from_message(&message), None),
            };
            if let Some((clearer, fix)) = field.as_deref().and_then(|f| hint(f, &message)) {
                return ScenarioError {
                    file: path.display().to_string(),
                    line,
                    field: field.unwrap_or_default(),
                    message: clearer,
                    fix,
                };
            }
            let fix = if message.contains("unknown field") {
                "remove the field or correct its spelling (the message lists the known ones)"
            } else if message.contains("missing field") {
                "add the field (see README.md, \"Scenario files\")"
            } else if message.contains("unknown variant") {
                "use one of the values the message lists (see README.md, \"Scenario files\")"
            } else {
                "correct the value's type or range (see README.md, \"Scenario files\")"
            };
            ScenarioError {
                file: path.display().to_string(),
                line,
                field: field.unwrap_or_default(),
                message,
                fix: fix.to_string(),
            }
        })?;
        let mut scenario = Scenario {
            path: path.to_path_buf(),
            source,
            file,
        };
        scenario.load_tape_file()?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// A scenario built in memory (by `quorumlab shrink`, thousands of times), validated
    /// like a parsed one but without a TOML round trip; its source is empty.
    pub fn from_file(path: &Path, file: ScenarioFile) -> Result<Scenario, ScenarioError> {
        let scenario = Scenario {
            path: path.to_path_buf(),
            source: String::new(),
            file,
        };
        scenario.validate()?;
        Ok(scenario)
    }

    /// Read `tape_file` (relative to the scenario's folder) into `tape`.
    fn load_tape_file(&mut self) -> Result<(), ScenarioError> {
        let Some(relative) = &self.file.tape_file else {
            return Ok(());
        };
        if self.file.tape.is_some() {
            return Err(self.error(
                "tape_file",
                "both `tape_file` and a `[tape]` table are given",
                "keep one of them",
            ));
        }
        let path = self.path.parent().unwrap_or(Path::new(".")).join(relative);
        // A tape is a file `run --tape` wrote: not a device, a folder or anything huge.
        let size = std::fs::metadata(&path)
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|metadata| metadata.len());
        if size.is_some_and(|bytes| bytes > TAPE_FILE_BYTES_MAX)
            || (size.is_none() && path.exists())
        {
            return Err(self.error(
                "tape_file",
                format!(
                    "{} is not a regular file of at most {} MiB",
                    path.display(),
                    TAPE_FILE_BYTES_MAX >> 20
                ),
                "name the tape.json written by `quorumlab run --tape`",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|error| {
            self.error(
                "tape_file",
                format!("cannot read {}: {error}", path.display()),
                "give a path relative to the scenario file (e.g. `tape_file = \"tape.json\"`)",
            )
        })?;
        let tape = serde_json::from_str(&text).map_err(|error| {
            self.error(
                "tape_file",
                format!("{} is not a tape: {error}", path.display()),
                "use a tape.json written by `quorumlab run --tape`",
            )
        })?;
        self.file.tape = Some(tape);
        Ok(())
    }

    pub fn name(&self) -> String {
        self.file.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }

    /// When the run ends at the latest, in ms: the fault phase plus the liveness window.
    pub fn end_ms(&self) -> u64 {
        let liveness_ms = self.file.liveness.as_ref().map_or(0, |l| l.within_ms);
        self.file.duration_ms.saturating_add(liveness_ms)
    }

    /// An error about `field`, a dotted path such as `faults[2].duration_ms`, located at
    /// the line where the source sets it (by toml's spans; or where the nearest table on
    /// its path starts, if the field itself is not written).
    pub fn error(
        &self,
        field: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError {
            file: self.path.display().to_string(),
            line: line_of_field(&self.source, field),
            field: field.to_string(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// Seeds `quorumlab test` runs, from the file's `seeds` field (default 1..=20).
    pub fn test_seeds(&self) -> Result<SeedRange, ScenarioError> {
        match &self.file.seeds {
            None => Ok(SeedRange { first: 1, last: 20 }),
            Some(SeedsSpec::Count(count)) if *count > 0 => Ok(SeedRange {
                first: 1,
                last: *count,
            }),
            Some(SeedsSpec::Count(_)) => Err(self.error(
                "seeds",
                "a count of 0 seeds runs nothing",
                "write e.g. `seeds = 50`",
            )),
            Some(SeedsSpec::Range(text)) => SeedRange::parse(text)
                .map_err(|message| self.error("seeds", message, "write e.g. `seeds = \"1..200\"`")),
        }
    }

    /// Every stated time within `SIMULATED_TIME_MAX_US`, so no sum of them overflows.
    fn check_times(&self) -> Result<(), ScenarioError> {
        let file = &self.file;
        let mut times: Vec<(String, u64, u64)> =
            vec![("duration_ms".into(), file.duration_ms, 1000)];
        for (index, fault) in file.faults.iter().enumerate() {
            let field = |name: &str| format!("faults[{index}].{name}");
            times.extend(fault.at_ms.map(|ms| (field("at_ms"), ms, 1000)));
            times.extend(fault.at_us.map(|us| (field("at_us"), us, 1)));
            times.extend(fault.duration_ms.map(|ms| (field("duration_ms"), ms, 1000)));
            times.extend(fault.duration_us.map(|us| (field("duration_us"), us, 1)));
            if let FaultActionSpec::Delay { extra_latency_us } = fault.action {
                times.push((field("extra_latency_us"), extra_latency_us, 1));
            }
        }
        if let Some(workload) = &file.workload {
            times.push(("workload.interval_ms".into(), workload.interval_ms[1], 1000));
            times.push(("workload.timeout_ms".into(), workload.timeout_ms, 1000));
            times.push(("workload.backoff_ms".into(), workload.backoff_ms, 1000));
            for (index, op) in workload.ops.iter().flatten().enumerate() {
                let field = |name: &str| format!("workload.ops[{index}].{name}");
                times.extend(op.at_us.map(|us| (field("at_us"), us, 1)));
                times.extend(op.at_ms.map(|ms| (field("at_ms"), ms, 1000)));
            }
        }
        if let Some(nemesis) = &file.nemesis {
            times.push(("nemesis.interval_ms".into(), nemesis.interval_ms[1], 1000));
            times.push(("nemesis.duration_ms".into(), nemesis.duration_ms[1], 1000));
            times.push((
                "nemesis.extra_latency_us".into(),
                nemesis.extra_latency_us,
                1,
            ));
        }
        if let Some(liveness) = &file.liveness {
            times.push(("liveness.within_ms".into(), liveness.within_ms, 1000));
        }
        for (index, check) in file.checks.iter().enumerate() {
            let field = |name: &str| format!("checks[{index}].{name}");
            times.extend(check.from_ms.map(|ms| (field("from_ms"), ms, 1000)));
            times.extend(check.until_ms.map(|ms| (field("until_ms"), ms, 1000)));
            for (name, ms) in check.rule.times_ms() {
                times.push((field(name), ms, 1000));
            }
        }
        for (field, value, unit_us) in times {
            if value
                .checked_mul(unit_us)
                .is_none_or(|us| us > SIMULATED_TIME_MAX_US)
            {
                let unit = if unit_us == 1 { "us" } else { "ms" };
                return Err(self.error(
                    &field,
                    format!(
                        "{value} {unit} is longer than the simulator runs (at most 30 days, \
                         {} {unit})",
                        SIMULATED_TIME_MAX_US / unit_us
                    ),
                    "use a shorter time",
                ));
            }
        }
        if let Some(workload) = &file.workload {
            if workload.clients > CLIENTS_MAX {
                return Err(self.error(
                    "workload.clients",
                    format!(
                        "{} clients; at most {CLIENTS_MAX} are simulated",
                        workload.clients
                    ),
                    "use fewer clients",
                ));
            }
        }
        if let Some(nemesis) = &file.nemesis {
            if !(0..=1_000_000).contains(&nemesis.drift_ppm_max) {
                return Err(self.error(
                    "nemesis.drift_ppm_max",
                    format!(
                        "{} is outside 0..=1000000 parts per million",
                        nemesis.drift_ppm_max
                    ),
                    "write e.g. `drift_ppm_max = 200000`",
                ));
            }
            if nemesis.skew_ms_max > crate::faults::CLOCK_SKEW_MAX_MS {
                return Err(self.error(
                    "nemesis.skew_ms_max",
                    format!(
                        "{} ms is more than a day ({} ms)",
                        nemesis.skew_ms_max,
                        crate::faults::CLOCK_SKEW_MAX_MS
                    ),
                    "write e.g. `skew_ms_max = 1000`",
                ));
            }
        }
        if let Some(bounds) = &file.bounds {
            if let Some(max) = bounds.max_messages_per_committed_op {
                if !(max.is_finite() && max >= 0.0) {
                    return Err(self.error(
                        "bounds.max_messages_per_committed_op",
                        format!("{max} is not a finite non-negative number"),
                        "write e.g. `max_messages_per_committed_op = 20.0`",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks that need no protocol. Protocol-specific checks happen when it is bound.
    fn validate(&self) -> Result<(), ScenarioError> {
        let file = &self.file;
        if file.nodes == 0 || file.nodes > 64 {
            return Err(self.error(
                "nodes",
                format!("{} nodes is out of range", file.nodes),
                "use 1 to 64 nodes",
            ));
        }
        if file.duration_ms == 0 {
            return Err(self.error(
                "duration_ms",
                "a run of 0 ms simulates nothing",
                "write e.g. `duration_ms = 10000`",
            ));
        }
        if let Some(name) = &file.name {
            let plain = !name.is_empty()
                && name.len() <= 100
                && name != "."
                && name != ".."
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !plain {
                return Err(self.error(
                    "name",
                    format!("{name:?} is not a plain name (it names the output folder)"),
                    "use letters, digits, `-`, `_` and `.` only, e.g. `name = \"nemesis-5\"`",
                ));
            }
        }
        self.check_times()?;
        self.test_seeds()?;
        self.validate_endpoints()?;
        self.file
            .network
            .validate(file.nodes)
            .map_err(|(field, message, fix)| self.error(&field, message, fix))?;
        for (index, fault) in file.faults.iter().enumerate() {
            crate::faults::FaultAction::from_spec(&fault.action, file.nodes).map_err(
                |(field, message, fix)| {
                    self.error(&format!("faults[{index}].{field}"), message, fix)
                },
            )?;
            if fault.at_ms.is_none() && fault.at_us.is_none() {
                return Err(self.error(
                    &format!("faults[{index}]"),
                    "missing field `at_ms`: a fault needs exactly one of `at_ms` and `at_us`",
                    "write e.g. `at_ms = 1000`",
                ));
            }
            if fault.at_ms.is_some() && fault.at_us.is_some() {
                return Err(self.error(
                    &format!("faults[{index}].at_ms"),
                    "both `at_ms` and `at_us` are set: a fault needs exactly one of them",
                    "keep one of them",
                ));
            }
            if fault.duration_ms.is_some() && fault.duration_us.is_some() {
                return Err(self.error(
                    &format!("faults[{index}].duration_ms"),
                    "both `duration_ms` and `duration_us` are set",
                    "keep one of them",
                ));
            }
            if fault.at() > file.duration_ms * 1000 {
                return Err(self.error(
                    &format!("faults[{index}].at_ms"),
                    format!(
                        "the fault at {} us is after the fault phase ends (duration_ms = {})",
                        fault.at(),
                        file.duration_ms
                    ),
                    "schedule faults within duration_ms, or raise duration_ms",
                ));
            }
        }
        if let Some(byzantine) = &file.byzantine {
            byzantine
                .validate(file.nodes)
                .map_err(|(field, message, fix)| {
                    self.error(&format!("byzantine.{field}"), message, fix)
                })?;
        }
        if let Some(adversary) = &file.adversary {
            adversary
                .validate(file.synchrony)
                .map_err(|(field, message, fix)| self.error(&field, message, fix))?;
        }
        if let Some(tape) = &file.tape {
            let clients = file.workload.as_ref().map_or(0, |w| w.clients);
            tape.check_bounds(file.nodes, clients).map_err(|message| {
                self.error(
                    "tape",
                    message,
                    "remove the entry, or raise `nodes` or `workload.clients`",
                )
            })?;
            if file.adversary.is_none() && tape.messages.iter().any(|m| m.is_held()) {
                return Err(self.error(
                    "tape.messages",
                    "the tape holds messages back (`held_us`), and there is no [adversary] table",
                    "remove the `held_us` fields, or add the [adversary] table they were \
                     recorded with",
                ));
            }
            if !tape.byzantine.is_empty() && file.byzantine.is_none() {
                return Err(self.error(
                    "tape.byzantine",
                    "the tape has Byzantine steps, and there is no [byzantine] table",
                    "remove the `[[tape.byzantine]]` entries, or add the [byzantine] table \
                     they were recorded with",
                ));
            }
        }
        if let Some(nemesis) = &file.nemesis {
            nemesis
                .kinds
                .entries()
                .map_err(|(message, fix)| self.error("nemesis.kinds", message, fix))?;
            for (field, [min, max]) in [
                ("interval_ms", nemesis.interval_ms),
                ("duration_ms", nemesis.duration_ms),
            ] {
                if min > max || max == 0 {
                    return Err(self.error(
                        &format!("nemesis.{field}"),
                        format!("[{min}, {max}] is not a range with min <= max and max > 0"),
                        format!("write e.g. `{field} = [200, 1000]`"),
                    ));
                }
            }
            nemesis
                .check_rounds_and_windows(file)
                .map_err(|(field, message, fix)| self.error(&field, message, fix))?;
            for (field, value) in [
                ("loss_per_million", nemesis.loss_per_million),
                ("duplicate_per_million", nemesis.duplicate_per_million),
            ] {
                if value > 1_000_000 {
                    return Err(self.error(
                        &format!("nemesis.{field}"),
                        format!("{value} is a probability above 1,000,000 per million"),
                        "use 0..=1000000",
                    ));
                }
            }
        }
        if let Some(workload) = &file.workload {
            let [min, max] = workload.interval_ms;
            if min > max {
                return Err(self.error(
                    "workload.interval_ms",
                    format!("[{min}, {max}]: min > max"),
                    "write e.g. `interval_ms = [10, 100]`",
                ));
            }
            for (index, op) in workload.ops.iter().flatten().enumerate() {
                if op.at_ms.is_some() == op.at_us.is_some() {
                    return Err(self.error(
                        &format!("workload.ops[{index}].at_ms"),
                        "an operation needs exactly one of `at_ms` and `at_us`",
                        "write e.g. `at_ms = 1000`",
                    ));
                }
                if op.at() >= self.end_ms() * 1000 {
                    return Err(self.error(
                        &format!("workload.ops[{index}].at_ms"),
                        format!(
                            "the operation at {} us is never invoked: the run ends at {} ms \
                             (duration_ms plus the liveness window)",
                            op.at(),
                            self.end_ms()
                        ),
                        "schedule it before the run ends, or lengthen the run",
                    ));
                }
                if op.draw.is_some() == op.op.is_some() {
                    return Err(self.error(
                        &format!("workload.ops[{index}].op"),
                        "an operation needs exactly one of `op` and `draw`",
                        "write the operation, e.g. `op = \"put k1 v7\"` (kv) or `op = \"42\"` \
                         (raft), or a random draw, `draw = 12345`",
                    ));
                }
                if op.client >= workload.clients {
                    return Err(self.error(
                        &format!("workload.ops[{index}].client"),
                        format!(
                            "client {} does not exist (clients = {})",
                            op.client, workload.clients
                        ),
                        format!("use a client below {}", workload.clients),
                    ));
                }
            }
            let waits = workload.wait
                || workload
                    .ops
                    .iter()
                    .flatten()
                    .any(|op| op.wait == Some(true));
            let waiting_conditions = file
                .liveness
                .iter()
                .flat_map(|l| &l.require)
                .find(|name| CLIENT_CONDITIONS.contains(&name.as_str()));
            if let Some(name) = waiting_conditions.filter(|_| !waits) {
                return Err(self.error(
                    "workload.wait",
                    format!(
                        "every operation is fire-and-forget (`wait = false`), so none ever \
                         completes and `{name}` cannot hold"
                    ),
                    format!(
                        "drop `{name}` from `liveness.require` (use a `command_everywhere` \
                         check), or let some operations wait (`wait = true`)"
                    ),
                ));
            }
            if workload.timeout_ms == 0 {
                return Err(self.error(
                    "workload.timeout_ms",
                    "a timeout of 0 ms retries forever",
                    "write e.g. `timeout_ms = 500`",
                ));
            }
        }
        if let Some(liveness) = &file.liveness {
            if liveness.within_ms == 0 {
                return Err(self.error(
                    "liveness.within_ms",
                    "a window of 0 ms",
                    "write e.g. `within_ms = 5000`",
                ));
            }
            if let Some(name) = liveness
                .require
                .iter()
                .find(|name| CLIENT_CONDITIONS.contains(&name.as_str()))
                .filter(|_| file.workload.is_none())
            {
                return Err(self.error(
                    "liveness.require",
                    format!("`{name}` needs clients"),
                    format!("add a [workload] table, or drop `{name}`"),
                ));
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (index, check) in file.checks.iter().enumerate() {
            check
                .validate(self.end_ms())
                .map_err(|(field, message, fix)| {
                    self.error(&format!("checks[{index}].{field}"), message, fix)
                })?;
            if !names.insert(check.property()) {
                // Name the field that is there: `name` when written, else the kind that
                // gave the check its default name.
                let field = if check.name.is_some() { "name" } else { "kind" };
                return Err(self.error(
                    &format!("checks[{index}].{field}"),
                    format!("a second check named `{}`", check.property()),
                    "give each check of the same kind its own `name`",
                ));
            }
            if matches!(
                check.rule,
                crate::run_checks::CheckRule::Messages { clients: true, .. }
            ) && file.clients.is_none()
            {
                return Err(self.error(
                    &format!("checks[{index}].clients"),
                    "clients are outside the network (no [clients] table), so their \
                     messages cannot be counted",
                    "put the clients on the network with a [clients] table, or drop `clients`",
                ));
            }
            if matches!(
                check.rule,
                crate::run_checks::CheckRule::OpLatency { .. }
                    | crate::run_checks::CheckRule::CommandEverywhere { .. }
            ) && file.workload.is_none()
            {
                return Err(self.error(
                    &format!("checks[{index}].kind"),
                    format!("`{}` needs clients", check.rule.kind()),
                    "add a [workload] table, or drop the check",
                ));
            }
        }
        if file.budget.max_events == 0 {
            return Err(self.error(
                "budget.max_events",
                "a budget of 0 events",
                "write e.g. `max_events = 5000000`",
            ));
        }
        // Simulated time is kept in µs: a budget past u64::MAX µs would wrap.
        if file.budget.max_sim_ms == 0 || file.budget.max_sim_ms > u64::MAX / 1000 {
            return Err(self.error(
                "budget.max_sim_ms",
                format!("{} ms is not a usable time budget", file.budget.max_sim_ms),
                "write e.g. `max_sim_ms = 86400000` (a day)",
            ));
        }
        if file.duration_ms > file.budget.max_sim_ms {
            return Err(self.error(
                "duration_ms",
                format!(
                    "the run lasts {} ms, past budget.max_sim_ms ({} ms)",
                    file.duration_ms, file.budget.max_sim_ms
                ),
                format!(
                    "raise the budget: `[budget] max_sim_ms = {}` (and max_events to match)",
                    file.duration_ms.saturating_mul(2)
                ),
            ));
        }
        if file.budget.max_state_items == 0 {
            return Err(self.error(
                "budget.max_state_items",
                "a budget of 0 state items",
                "write e.g. `max_state_items = 4000000`",
            ));
        }
        if file.budget.max_trace_mb == 0 || file.budget.max_trace_mb > 1 << 20 {
            return Err(self.error(
                "budget.max_trace_mb",
                format!(
                    "{} MiB is not a usable trace budget",
                    file.budget.max_trace_mb
                ),
                "write e.g. `max_trace_mb = 256` (at most 1048576, a TiB)",
            ));
        }
        Ok(())
    }
}

/// An inclusive range of seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    pub first: u64,
    pub last: u64,
}

impl SeedRange {
    /// `"A..B"` or `"A..=B"` (both include B), or a single seed `"N"`.
    pub fn parse(text: &str) -> Result<SeedRange, String> {
        let text = text.trim();
        let parse = |part: &str| {
            part.trim()
                .replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("`{part}` is not a seed (a non-negative integer)"))
        };
        let (first, last) = match text.split_once("..") {
            Some((first, last)) => (parse(first)?, parse(last.trim_start_matches('='))?),
            None => {
                let seed = parse(text)?;
                (seed, seed)
            }
        };
        if first > last {
            return Err(format!("`{text}`: the first seed is after the last"));
        }
        if last - first >= SEED_RANGE_MAX {
            return Err(format!(
                "`{text}` names more than {SEED_RANGE_MAX} seeds; split it with --shard"
            ));
        }
        Ok(SeedRange { first, last })
    }

    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Refuse what is not TOML before reading it as a scenario: the error is then about the
/// text (its line, no field), with a fix for the syntax, and never echoes control bytes.
fn check_toml_syntax(path: &Path, source: &str) -> Result<(), ScenarioError> {
    let refuse = |line: usize, message: String, fix: &str| ScenarioError {
        file: path.display().to_string(),
        line: Some(line),
        field: String::new(),
        message,
        fix: fix.to_string(),
    };
    if let Some(offset) = source.find('\0') {
        return Err(refuse(
            line_of_offset(source, offset),
            "the file holds NUL bytes: it is not a text scenario file".to_string(),
            "write the scenario as TOML text (see README.md, \"Scenario files\")",
        ));
    }
    if let Err(error) = toml::de::DeTable::parse(source) {
        let line = error
            .span()
            .map_or(1, |span| line_of_offset(source, span.start));
        let message: String = error
            .message()
            .chars()
            .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
            .collect();
        let fix = if message.contains("recursion") {
            "nest fewer arrays and tables (a scenario needs only a few levels)"
        } else {
            "correct the TOML syntax on that line (see README.md, \"Scenario files\")"
        };
        return Err(refuse(
            line,
            format!("not valid TOML: {}", message.trim_end()),
            fix,
        ));
    }
    Ok(())
}

/// A clearer message and fix than serde's for errors a newcomer meets, by field.
fn hint(field: &str, message: &str) -> Option<(String, String)> {
    if field == "workload.clients" && message.starts_with("missing field") {
        return Some((
            "missing field `clients`: how many simulated clients there are (each \
             `[[workload.ops]]` entry names one of them, counting from 0)"
                .to_string(),
            "add e.g. `clients = 1` to the [workload] table".to_string(),
        ));
    }
    // A string inside a fault's list of nodes (`groups`, `from`, `to`) is located at the
    // fault's table only: toml reports no span inside a flattened table's arrays.
    let in_node_list = field.starts_with("faults[") && field.ends_with(']');
    if in_node_list
        && message.starts_with("invalid type: string")
        && message.ends_with("expected u32")
    {
        return Some((
            format!(
                "partition groups (and one-way `from`/`to`) hold node ids, not roles ({})",
                message.split(',').next().unwrap_or(message)
            ),
            "write node ids, e.g. `groups = [[0, 1], [2, 3, 4]]`; to cut off the leader, \
             use `action = \"isolate\"` with `node = \"leader\"`"
                .to_string(),
        ));
    }
    None
}

fn line_of_offset(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

fn field_from_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

/// One step of a field path: a key, then optionally an index into the array it holds.
fn path_steps(field: &str) -> Vec<(&str, Option<usize>)> {
    field
        .split('.')
        .map(|step| match step.split_once('[') {
            Some((key, rest)) => (key, rest.trim_end_matches(']').parse().ok()),
            None => (step, None),
        })
        .collect()
}

/// The line of `field` in `source`: the span of its key (or array element) in toml's own
/// parse, or the deepest table on the path that is written. `None` for a source that is
/// not TOML (or empty, for scenarios built in memory).
fn line_of_field(source: &str, field: &str) -> Option<usize> {
    let root = toml::de::DeTable::parse(source).ok()?;
    let mut table = root.get_ref();
    let mut offset = None;
    for (key, index) in path_steps(field) {
        let Some((key_spanned, value)) = table.get_key_value(key) else {
            break;
        };
        offset = Some(key_spanned.span().start);
        let mut value = value;
        if let Some(index) = index {
            let Some(item) = value
                .get_ref()
                .as_array()
                .and_then(|items| items.get(index))
            else {
                break;
            };
            offset = Some(item.span().start);
            value = item;
        }
        match value.get_ref() {
            toml::de::DeValue::Table(inner) => table = inner,
            _ => break,
        }
    }
    offset.map(|offset| line_of_offset(source, offset))
}

/// The dotted path (`faults[1]`, `network.latency`) of the value whose span is `span`,
/// searched depth-first below `table`; `prefix` is the path of `table`.
fn path_of_span(
    table: &toml::de::DeTable<'_>,
    prefix: &str,
    span: &std::ops::Range<usize>,
) -> Option<String> {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    // Children before their parent: an array of one table has the table's span.
    for (key, value) in table.iter() {
        let path = join(key.get_ref());
        match value.get_ref() {
            toml::de::DeValue::Table(inner) => {
                if let Some(found) = path_of_span(inner, &path, span) {
                    return Some(found);
                }
            }
            toml::de::DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let path = format!("{path}[{index}]");
                    if let toml::de::DeValue::Table(inner) = item.get_ref() {
                        if let Some(found) = path_of_span(inner, &path, span) {
                            return Some(found);
                        }
                    }
                    if item.span() == *span {
                        return Some(path);
                    }
                }
            }
            _ => {}
        }
        if value.span() == *span {
            return Some(path);
        }
    }
    None
}

/// The field and line of a deserialisation error. toml gives the span of the value that
/// failed; for a table (a fault refusing a field its action does not take, say) the
/// message names the key, whose own line is then looked up in the same parse.
fn locate_deserialize_error(
    source: &str,
    span: std::ops::Range<usize>,
    message: &str,
) -> (Option<String>, Option<usize>) {
    let span_line = Some(line_of_offset(source, span.start));
    let Ok(root) = toml::de::DeTable::parse(source) else {
        return (field_from_message(message), span_line);
    };
    let path = path_of_span(root.get_ref(), "", &span).unwrap_or_default();
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    let named = field_from_message(message);
    let field = match named {
        Some(key)
            if message.starts_with("unknown field") || message.starts_with("missing field") =>
        {
            join(&key)
        }
        // An unknown `action` (or `dist`): the tag is the key whose value the message
        // names.
        Some(value) if message.starts_with("unknown variant") => {
            let tag = (!path.is_empty())
                .then(|| tag_key_with_value(source, &path, &value))
                .flatten();
            match tag {
                Some(tag) => join(&tag),
                None if path.is_empty() => value,
                None => path.clone(),
            }
        }
        _ if path.is_empty() => return (named, span_line),
        // A value of the wrong type inside a fault reaches serde buffered, so toml's span
        // is the fault's table: a string names its key by its value.
        _ => match message
            .strip_prefix("invalid type: string \"")
            .and_then(|rest| rest.split_once("\", expected"))
            .and_then(|(value, _)| tag_key_with_value(source, &path, value))
        {
            Some(key) => join(&key),
            None => path.clone(),
        },
    };
    let line = line_of_field(source, &field).or(span_line);
    (Some(field), line)
}

/// The key of the table at `path` whose value is the string `value`.
fn tag_key_with_value(source: &str, path: &str, value: &str) -> Option<String> {
    let root = toml::de::DeTable::parse(source).ok()?;
    let mut current = root.get_ref();
    for (key, index) in path_steps(path) {
        let mut item = current.get(key)?;
        if let Some(index) = index {
            item = item.get_ref().as_array()?.get(index)?;
        }
        current = item.get_ref().as_table()?;
    }
    current
        .iter()
        .find(|(_, v)| v.get_ref().as_str() == Some(value))
        .map(|(k, _)| k.get_ref().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> Result<Scenario, ScenarioError> {
        Scenario::parse(Path::new("t.toml"), source.to_string())
    }

    const HEAD: &str = "protocol = \"raft\"\nnodes = 3\nduration_ms = 1000\n";

    #[test]
    fn a_key_in_two_tables_is_located_in_the_right_one() {
        // `duration_ms` is on line 3 at the top level and on line 8 in the fault: the
        // error is about the fault's.
        let source = format!(
            "{HEAD}[[faults]]\nat_ms = 10\naction = \"crash\"\nnode = 1\nduration_ms = 5\nduration_us = 5000\n"
        );
        let error = parse(&source).unwrap_err();
        assert_eq!(error.field, "faults[0].duration_ms");
        assert_eq!(error.line, Some(8), "{error}");
        // And a top-level error is located at the top level, even after a fault names it.
        let source = "protocol = \"raft\"\nnodes = 3\nduration_ms = 0\n\
                      [[faults]]\nat_ms = 0\naction = \"heal\"\nduration_ms = 5\n";
        let error = parse(source).unwrap_err();
        assert_eq!(
            (error.field.as_str(), error.line),
            ("duration_ms", Some(3)),
            "{error}"
        );
    }

    #[test]
    fn the_second_fault_is_located_not_the_first() {
        let source = format!(
            "{HEAD}[[faults]]\nat_ms = 10\naction = \"crash\"\nnode = 1\n\
             [[faults]]\nat_ms = 20\naction = \"crash\"\nnode = 7\n"
        );
        let error = parse(&source).unwrap_err();
        assert_eq!(error.field, "faults[1].node");
        assert_eq!(error.line, Some(11), "{error}");
    }

    #[test]
    fn a_field_the_action_does_not_take_is_refused_at_its_line() {
        let source = format!(
            "{HEAD}[[faults]]\nat_ms = 10\naction = \"isolate\"\nnode = 1\ngroups = [[0], [1, 2]]\n"
        );
        let error = parse(&source).unwrap_err();
        assert!(error.message.contains("unknown field `groups`"), "{error}");
        assert_eq!(error.field, "faults[0].groups");
        assert_eq!(error.line, Some(8), "{error}");
        assert!(error
            .to_string()
            .starts_with("t.toml:8: field `faults[0].groups`"));
    }

    #[test]
    fn an_unknown_action_and_a_missing_field_are_located() {
        let unknown = format!("{HEAD}[[faults]]\nat_ms = 10\naction = \"explode\"\nnode = 1\n");
        let error = parse(&unknown).unwrap_err();
        assert!(
            error.message.contains("unknown variant `explode`"),
            "{error}"
        );
        assert!(
            error.message.contains("clock_drift"),
            "lists the actions: {error}"
        );
        assert_eq!(
            (error.field.as_str(), error.line),
            ("faults[0].action", Some(6))
        );
        let missing = format!("{HEAD}[[faults]]\nat_ms = 10\naction = \"loss\"\n");
        let error = parse(&missing).unwrap_err();
        assert!(
            error.message.contains("missing field `per_million`"),
            "{error}"
        );
        assert_eq!(error.field, "faults[0].per_million");
        assert_eq!(error.line, Some(4), "the fault's table: {error}");
        let wrong_type =
            format!("{HEAD}[[faults]]\nat_ms = 10\naction = \"loss\"\nper_million = \"lots\"\n");
        let error = parse(&wrong_type).unwrap_err();
        assert!(error.message.contains("expected u32"), "{error}");
        assert_eq!(
            (error.field.as_str(), error.line),
            ("faults[0].per_million", Some(7))
        );
    }

    #[test]
    fn checks_are_typed_and_located() {
        let ok = parse(&format!(
            "{HEAD}[[checks]]\nkind = \"leader\"\nwithin_ms = 500\n\
             [[checks]]\nname = \"idle\"\nkind = \"messages\"\nfrom_ms = 200\nuntil_ms = 900\nunit = \"rpcs\"\nmax = 9\n"
        ))
        .unwrap();
        assert_eq!(ok.file.checks[0].property(), "checks.leader");
        assert_eq!(ok.file.checks[1].property(), "checks.idle");
        for (check, field, line, expected) in [
            (
                "kind = \"leader\"\ngrace_ms = 5",
                "checks[0].grace_ms",
                6,
                "unknown field `grace_ms`",
            ),
            (
                "kind = \"lead\"\nwithin_ms = 5",
                "checks[0].kind",
                5,
                "unknown variant `lead`",
            ),
            (
                "kind = \"leader\"\nwithin_ms = 5\nuntil_ms = 2000",
                "checks[0].until_ms",
                7,
                "after the run ends",
            ),
            ("kind = \"messages\"", "checks[0].max", 4, "checks nothing"),
            (
                "kind = \"messages\"\nmin = 5\nmax = 2",
                "checks[0].min",
                6,
                "above max",
            ),
            (
                "kind = \"leader\"\nwithin_ms = 0",
                "checks[0].within_ms",
                6,
                "cannot be met",
            ),
        ] {
            let error = parse(&format!("{HEAD}[[checks]]\n{check}\n")).unwrap_err();
            assert!(error.message.contains(expected), "{check}: {error}");
            assert_eq!(
                (error.field.as_str(), error.line),
                (field, Some(line)),
                "{check}: {error}"
            );
        }
        let twice = format!("{HEAD}[[checks]]\nkind = \"leader\"\nwithin_ms = 5\n[[checks]]\nkind = \"leader\"\nwithin_ms = 9\n");
        let error = parse(&twice).unwrap_err();
        assert_eq!(error.field, "checks[1].kind", "{error}");
    }

    #[test]
    fn workload_ops_take_at_ms_and_must_run_before_the_end() {
        let ops = |op: &str| {
            format!("{HEAD}[workload]\nclients = 1\n[[workload.ops]]\n{op}\nclient = 0\ndraw = 1\n")
        };
        let ok = parse(&ops("at_ms = 20")).unwrap();
        assert_eq!(ok.file.workload.unwrap().ops.unwrap()[0].at(), 20_000);
        let late = parse(&ops("at_ms = 1000")).unwrap_err();
        assert!(late.message.contains("never invoked"), "{late}");
        assert_eq!(
            (late.field.as_str(), late.line),
            ("workload.ops[0].at_ms", Some(7))
        );
        let both = parse(&ops("at_ms = 1\nat_us = 5")).unwrap_err();
        assert!(both.message.contains("exactly one"), "{both}");
        let error = parse(&format!(
            "{HEAD}[workload]\n[[workload.ops]]\nat_ms = 1\nclient = 0\ndraw = 1\n"
        ))
        .unwrap_err();
        assert!(
            error.message.contains("how many simulated clients"),
            "{error}"
        );
        assert!(error.fix.contains("clients = 1"), "{error}");
    }

    #[test]
    fn nemesis_kinds_accept_a_list_or_a_weighted_map() {
        let list = parse(&format!(
            "{HEAD}[nemesis]\nkinds = [\"crash\", \"crash\", \"loss\"]\n"
        ))
        .unwrap();
        let entries = list.file.nemesis.unwrap().kinds.entries().unwrap();
        assert_eq!(entries, vec![("crash", 1), ("crash", 1), ("loss", 1)]);
        // A map is walked in NEMESIS_KINDS order whatever the file's order; weight 0 drops.
        let map = parse(&format!(
            "{HEAD}[nemesis]\nkinds = {{ loss = 1, partition = 0, crash = 3 }}\n"
        ))
        .unwrap();
        let entries = map.file.nemesis.unwrap().kinds.entries().unwrap();
        assert_eq!(entries, vec![("crash", 3), ("loss", 1)]);
    }

    #[test]
    fn bad_nemesis_kinds_are_errors_at_load() {
        for (kinds, expected) in [
            ("[]", "no kind to draw from"),
            ("{ crash = 0, loss = 0 }", "no kind to draw from"),
            ("{}", "no kind to draw from"),
            ("[\"crash\", \"explode\"]", "unknown fault kind `explode`"),
            ("{ explode = 1 }", "unknown fault kind `explode`"),
        ] {
            let source = format!("{HEAD}# kinds below\n[nemesis]\nkinds = {kinds}\n");
            let error = parse(&source).unwrap_err();
            assert!(error.message.contains(expected), "{kinds}: {error}");
            assert_eq!(error.field, "nemesis.kinds", "{kinds}");
            assert_eq!(error.line, Some(6), "{kinds}: {error}");
        }
        let error = parse(&format!("{HEAD}[nemesis]\nkinds = [\"explode\"]\n")).unwrap_err();
        assert!(error.fix.contains("crash_leader") && error.fix.contains("clock_drift"));
        let error = parse(&format!("{HEAD}[nemesis]\nkinds = {{ crash = -1 }}\n")).unwrap_err();
        assert_eq!(error.line, Some(5), "{error}");
        assert!(
            error.message.contains("a map from kind to a weight"),
            "{error}"
        );
    }

    #[test]
    fn weighted_draws_follow_the_weights_and_lists_draw_as_a_pick() {
        use crate::faults::NemesisPlan;
        use crate::rng::{Purpose, Rng};
        let plan = |kinds: &str| {
            let scenario = parse(&format!("{HEAD}[nemesis]\nkinds = {kinds}\n")).unwrap();
            NemesisPlan::from_spec(scenario.file.nemesis.as_ref().unwrap())
        };
        // A list draws exactly as `Rng::pick` over its entries.
        let list = plan("[\"crash\", \"loss\", \"crash\", \"delay\"]");
        let names = ["crash", "loss", "crash", "delay"];
        let mut by_plan = Rng::new(9, Purpose::Faults);
        let mut by_pick = Rng::new(9, Purpose::Faults);
        for _ in 0..1000 {
            assert_eq!(list.draw_kind(&mut by_plan), *by_pick.pick(&names));
        }
        // A map draws in proportion to its weights.
        let map = plan("{ crash = 3, loss = 1 }");
        let mut rng = Rng::new(9, Purpose::Faults);
        let crashes = (0..40_000)
            .filter(|_| map.draw_kind(&mut rng) == "crash")
            .count();
        assert!((29_000..31_000).contains(&crashes), "{crashes}");
    }

    #[test]
    fn the_schema_puts_protocol_sub_schemas_in_place() {
        let free = schema(None, None, None);
        let free = free.as_value();
        assert_eq!(free["properties"]["params"]["type"], "object");
        assert!(free["properties"]["protocol"].get("const").is_none());
        let params = schemars::json_schema!({
            "type": "object",
            "properties": { "heartbeat_ms": { "type": "integer" } },
            "additionalProperties": false
        });
        let raft = schema(Some("raft"), Some(params), None);
        let raft = raft.as_value();
        assert_eq!(raft["properties"]["protocol"]["const"], "raft");
        assert_eq!(raft["properties"]["params"]["additionalProperties"], false);
        assert_eq!(raft["properties"]["check"]["type"], "object");
    }
}
