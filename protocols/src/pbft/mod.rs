//! pbft: Practical Byzantine Fault Tolerance (Castro and Liskov, OSDI 1999) replicating
//! the kv state machine (`crate::kv::KvMachine`).
//!
//! n = 3f + 1 replicas tolerate f Byzantine ones. The primary of view v is replica
//! v mod n. A client's request reaches a replica, which multicasts it (§4.1: a backup
//! relays a request to the primary; here every replica learns it, so every backup can
//! time the primary out). Normal case (§4.2): the primary assigns the next sequence
//! number and multicasts a signed pre-prepare; a backup that accepts it (right view,
//! sent by the primary, within the water marks, no other request at that number)
//! multicasts a signed prepare. A request is *prepared* at a replica with 2f + 1
//! matching votes (the pre-prepare and 2f prepares); the replica then multicasts a
//! commit, and the request is *committed-local* with 2f + 1 matching commits. Replicas
//! execute committed requests in sequence order and reply; the client accepts f + 1
//! matching replies (`Registration::client_reply_quorum`).
//!
//! Checkpoints (§4.3): every K executed requests a replica multicasts a signed checkpoint
//! (the sequence number, a digest of the executed history, and the history itself, so a
//! lagging replica can transfer state); 2f + 1 matching ones make it stable, and the log
//! below it is discarded. View change (§4.4): a backup whose timer expires with a known
//! request unexecuted multicasts a signed view-change carrying its stable checkpoint
//! (with its 2f + 1 signatures) and a prepared certificate (2f + 1 signed votes) for
//! every request prepared above it; a replica that sees f + 1 view-changes for higher
//! views joins the lowest. The new primary, with 2f + 1 valid view-changes, multicasts a
//! new-view carrying them; every replica recomputes the new view's assignments from them
//! (the highest-view certificate per sequence number, null requests in the gaps), which
//! is how a backup checks the primary's new-view. Timers double per failed view change.
//!
//! Signatures are modelled as keyed hashes (`sign`): a Byzantine strategy signs as its
//! own node only (the network stamps every sender), so certificates cannot be forged.

mod byzantine;
mod invariants;
mod mutants;
mod replica;
#[cfg(test)]
mod tests;

use std::hash::{Hash, Hasher};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::registration::HistoryHooks;
use sim_core::{
    ClientId, ClientReply, ConfigError, FaultBound, Message, NodeId, Observation, Registration,
    ReplyOutcome, RoleInfo, Setup, TimeUs, TimerName,
};

use crate::kv::{KvConfig, KvMachine, KvOp, KvOutput, KvParams};
use crate::raft::StateMachine;

pub use invariants::PbftChecker;
pub use mutants::PbftMutant;
pub use replica::Replica;

/// A view number.
pub type View = u64;
/// A sequence number.
pub type Seq = u64;

/// A client's request, signed by the client (so that a replica cannot invent one).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Request {
    pub client: ClientId,
    pub request: u64,
    pub op: KvOp,
    pub signature: u64,
}

impl Request {
    pub fn new(client: ClientId, request: u64, op: KvOp) -> Request {
        Request {
            client,
            request,
            op,
            signature: sign_client(client, request, &op),
        }
    }

    pub fn signed_by_client(&self) -> bool {
        self.signature == sign_client(self.client, self.request, &self.op)
    }
}

/// What a sequence number is assigned: a request, or the null request a new view fills
/// gaps with.
pub type Value = Option<Request>;

/// A signed pre-prepare or prepare: `replica` votes for `value` at (`view`, `seq`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Vote {
    pub view: View,
    pub seq: Seq,
    pub value: Value,
    pub replica: NodeId,
    pub signature: u64,
}

impl Vote {
    pub fn new(view: View, seq: Seq, value: Value, replica: NodeId) -> Vote {
        Vote {
            view,
            seq,
            value,
            replica,
            signature: sign(replica, &(view, seq, value)),
        }
    }

    pub fn valid(&self) -> bool {
        self.signature == sign(self.replica, &(self.view, self.seq, self.value))
    }
}

/// A prepared certificate: 2f + 1 signed votes for one value at (view, seq).
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Certificate {
    pub view: View,
    pub seq: Seq,
    pub value: Value,
    pub signatures: Vec<(NodeId, u64)>,
}

impl Certificate {
    /// Signed by `quorum` distinct replicas.
    pub fn valid(&self, quorum: usize) -> bool {
        distinct_valid(&self.signatures, quorum, |replica| {
            sign(replica, &(self.view, self.seq, self.value))
        })
    }
}

/// A signed checkpoint: the replica's executed history up to `seq` (one value per
/// sequence number from 1), and its digest.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Checkpoint {
    pub seq: Seq,
    pub digest: u64,
    pub replica: NodeId,
    pub signature: u64,
    pub history: Vec<Value>,
}

impl Checkpoint {
    pub fn new(seq: Seq, history: Vec<Value>, replica: NodeId) -> Checkpoint {
        let digest = history_digest(&history);
        Checkpoint {
            seq,
            digest,
            replica,
            signature: sign(replica, &(seq, digest)),
            history,
        }
    }

    pub fn valid(&self) -> bool {
        self.history.len() as u64 == self.seq
            && self.digest == history_digest(&self.history)
            && self.signature == sign(self.replica, &(self.seq, self.digest))
    }
}

/// A stable checkpoint with its proof: `quorum` signatures over (seq, digest).
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StableCheckpoint {
    pub seq: Seq,
    pub history: Vec<Value>,
    pub signatures: Vec<(NodeId, u64)>,
}

impl StableCheckpoint {
    pub fn valid(&self, quorum: usize) -> bool {
        if self.seq == 0 {
            return self.history.is_empty();
        }
        let digest = history_digest(&self.history);
        self.history.len() as u64 == self.seq
            && distinct_valid(&self.signatures, quorum, |replica| {
                sign(replica, &(self.seq, digest))
            })
    }
}

/// A signed view-change message (§4.4).
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ViewChange {
    pub view: View,
    pub replica: NodeId,
    pub stable: StableCheckpoint,
    pub prepared: Vec<Certificate>,
    pub signature: u64,
}

impl ViewChange {
    pub fn signed(mut self) -> ViewChange {
        self.signature = self.expected_signature();
        self
    }

    fn expected_signature(&self) -> u64 {
        sign(
            self.replica,
            &(self.view, &self.stable, &self.prepared, "view-change"),
        )
    }

    /// Signed by its replica, with a stable checkpoint signed by `checkpoint_quorum`
    /// replicas and certificates above it signed by `prepare_quorum`.
    pub fn valid(&self, prepare_quorum: usize, checkpoint_quorum: usize) -> bool {
        self.signature == self.expected_signature()
            && self.stable.valid(checkpoint_quorum)
            && self
                .prepared
                .iter()
                .all(|c| c.seq > self.stable.seq && c.view < self.view && c.valid(prepare_quorum))
    }
}

/// PBFT's messages.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PbftMsg {
    /// A client request, relayed by the replica the client sent it to.
    Request(Request),
    PrePrepare(Vote),
    Prepare(Vote),
    Commit {
        view: View,
        seq: Seq,
        value: Value,
    },
    Checkpoint(Checkpoint),
    ViewChange(ViewChange),
    /// The new primary's proof: 2f + 1 view-changes for `view`.
    NewView {
        view: View,
        proofs: Vec<ViewChange>,
    },
}

impl Message for PbftMsg {
    fn kind(&self) -> &'static str {
        match self {
            PbftMsg::Request(_) => "request",
            PbftMsg::PrePrepare(_) => "pre_prepare",
            PbftMsg::Prepare(_) => "prepare",
            PbftMsg::Commit { .. } => "commit",
            PbftMsg::Checkpoint(_) => "checkpoint",
            PbftMsg::ViewChange(_) => "view_change",
            PbftMsg::NewView { .. } => "new_view",
        }
    }

    fn size_bytes(&self) -> u32 {
        let size = match self {
            PbftMsg::Request(_) | PbftMsg::Commit { .. } => 48,
            PbftMsg::PrePrepare(_) | PbftMsg::Prepare(_) => 64,
            PbftMsg::Checkpoint(c) => 40 + 32 * c.history.len(),
            PbftMsg::ViewChange(v) => 64 + 32 * v.stable.history.len() + 128 * v.prepared.len(),
            PbftMsg::NewView { proofs, .. } => {
                16 + proofs
                    .iter()
                    .map(|v| 64 + 128 * v.prepared.len())
                    .sum::<usize>()
            }
        };
        u32::try_from(size).unwrap_or(u32::MAX)
    }
}

/// PBFT's one timer: the view-change timer (§4.4), armed while a known request waits or
/// a view change is under way.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PbftTimer {
    ViewChange,
}

impl TimerName for PbftTimer {
    fn kind(&self) -> &'static str {
        "view_change_timeout"
    }
}

/// A replica's answer to a client: the request and the output of executing it. Every
/// honest replica sends the same one, which is what the client's f + 1 match on.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub struct PbftReply {
    pub request: u64,
    pub output: KvOutput,
}

impl ClientReply for PbftReply {
    fn outcome(&self) -> ReplyOutcome {
        ReplyOutcome::Ok
    }
}

/// What a replica reports to the checker, metrics and traces.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PbftObs {
    /// `value` is committed-local at `seq` in `view`.
    Committed {
        view: View,
        seq: Seq,
        value: Value,
    },
    /// The replica accepted `value` at `seq` in `view` (a pre-prepare or a new view's
    /// assignment): what view-change safety judges.
    Accepted {
        view: View,
        seq: Seq,
        value: Value,
    },
    /// The replica executed `seq`.
    Executed {
        seq: Seq,
        value: Value,
    },
    /// The replica adopted a stable checkpoint's history up to `seq` (state transfer).
    Transferred {
        seq: Seq,
        history: Vec<Value>,
    },
    ViewChangeStarted {
        view: View,
    },
    NewViewEntered {
        view: View,
    },
    CheckpointStable {
        seq: Seq,
    },
}

impl Observation for PbftObs {
    const KINDS: &'static [&'static str] = &[
        "commit",
        "accept",
        "execute",
        "state_transfer",
        "view_change",
        "new_view",
        "checkpoint_stable",
    ];
    fn kind(&self) -> &'static str {
        match self {
            PbftObs::Committed { .. } => "commit",
            PbftObs::Accepted { .. } => "accept",
            PbftObs::Executed { .. } => "execute",
            PbftObs::Transferred { .. } => "state_transfer",
            PbftObs::ViewChangeStarted { .. } => "view_change",
            PbftObs::NewViewEntered { .. } => "new_view",
            PbftObs::CheckpointStable { .. } => "checkpoint_stable",
        }
    }
}

/// The cluster's configuration.
#[derive(Clone, Debug)]
pub struct PbftConfig {
    pub checkpoint_interval: u64,
    /// The high water mark is the stable checkpoint plus this.
    pub log_window: u64,
    pub view_change_timeout_us: [TimeUs; 2],
    pub machine: KvConfig,
    pub mutant: Option<PbftMutant>,
}

impl PbftConfig {
    pub fn mutant(&self, mutant: PbftMutant) -> bool {
        self.mutant == Some(mutant)
    }
}

/// PBFT's `[params]`: its own and the kv workload's.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PbftParams {
    /// A checkpoint every this many executed requests (K, §4.3).
    #[serde(default = "PbftParams::default_checkpoint_interval")]
    pub checkpoint_interval: u64,
    /// How far above the stable checkpoint a primary may assign (the log size L).
    #[serde(default = "PbftParams::default_log_window")]
    pub log_window: u64,
    /// The view-change timer's range in ms, `[min, max]`; it doubles per failed view.
    #[serde(
        default = "PbftParams::default_view_change_timeout_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub view_change_timeout_ms: [u64; 2],
    /// The kv workload's fields (keys, distribution, op weights), as kv takes them.
    #[serde(flatten)]
    pub kv: KvWorkload,
}

/// kv's workload fields, without Raft's.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct KvWorkload {
    #[serde(default)]
    pub keys: Option<u64>,
    #[serde(default)]
    pub get_weight: Option<u64>,
    #[serde(default)]
    pub put_weight: Option<u64>,
    #[serde(default)]
    pub append_weight: Option<u64>,
    #[serde(default)]
    pub cas_weight: Option<u64>,
}

impl KvWorkload {
    /// The kv machine's configuration from these fields, checked as kv checks them
    /// (for the protocols that replicate kv's machine outside Raft: PBFT, Multi-Paxos).
    pub fn machine_config(
        &self,
        protocol: &str,
        cluster_size: u32,
    ) -> Result<KvConfig, ConfigError> {
        let mut kv = serde_json::Map::new();
        for (field, value) in [
            ("keys", self.keys),
            ("get_weight", self.get_weight),
            ("put_weight", self.put_weight),
            ("append_weight", self.append_weight),
            ("cas_weight", self.cas_weight),
        ] {
            if let Some(value) = value {
                kv.insert(field.to_string(), value.into());
            }
        }
        let kv_params: KvParams =
            KvParams::deserialize(serde_json::Value::Object(kv)).map_err(|e| ConfigError {
                field: "keys".to_string(),
                message: e.to_string(),
                fix: format!("see `quorumlab schema --protocol {protocol}`"),
            })?;
        Ok(kv_params
            .config(Setup {
                cluster_size,
                mutant: None,
            })?
            .machine)
    }
}

impl PbftParams {
    fn default_checkpoint_interval() -> u64 {
        4
    }
    fn default_log_window() -> u64 {
        16
    }
    fn default_view_change_timeout_ms() -> [u64; 2] {
        [300, 400]
    }

    fn config(self, setup: Setup<PbftMutant>) -> Result<PbftConfig, ConfigError> {
        if self.checkpoint_interval == 0 {
            return Err(ConfigError {
                field: "checkpoint_interval".to_string(),
                message: "a checkpoint every 0 requests".to_string(),
                fix: "write e.g. `checkpoint_interval = 4`".to_string(),
            });
        }
        if self.log_window < self.checkpoint_interval {
            return Err(ConfigError {
                field: "log_window".to_string(),
                message: format!(
                    "{} is below checkpoint_interval ({}): the primary could never reach the \
                     next checkpoint",
                    self.log_window, self.checkpoint_interval
                ),
                fix: "use a log_window of at least 2 * checkpoint_interval".to_string(),
            });
        }
        let [min, max] = self.view_change_timeout_ms;
        if min == 0 || min > max {
            return Err(ConfigError {
                field: "view_change_timeout_ms".to_string(),
                message: format!("[{min}, {max}]: expected [min, max] with 0 < min <= max"),
                fix: "write e.g. `view_change_timeout_ms = [300, 400]`".to_string(),
            });
        }
        let machine = self.kv.machine_config("pbft", setup.cluster_size)?;
        Ok(PbftConfig {
            checkpoint_interval: self.checkpoint_interval,
            log_window: self.log_window,
            view_change_timeout_us: [min * 1000, max * 1000],
            machine,
            mutant: setup.mutant,
        })
    }
}

/// PBFT's own `[check]` fields: the model checker's protocol bounds.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PbftCheckBounds {
    /// The highest view a replica may reach.
    pub max_view: Option<u64>,
    /// The highest sequence number a replica may execute.
    pub max_seq: Option<u64>,
}

impl PbftCheckBounds {
    fn within(&self, replica: &Replica) -> bool {
        self.max_view.is_none_or(|max| replica.view <= max)
            && self.max_seq.is_none_or(|max| replica.last_executed <= max)
    }
}

/// The number of faults `n` replicas tolerate: f = (n - 1) / 3.
pub fn faults_tolerated(cluster_size: u32) -> usize {
    (cluster_size.saturating_sub(1) / 3) as usize
}

/// PBFT tolerates f Byzantine replicas (and so f crashed ones) when n >= 3f + 1.
pub fn fault_bound(cluster_size: u32) -> FaultBound {
    let f = faults_tolerated(cluster_size) as u32;
    FaultBound {
        crashed: f,
        byzantine: f,
    }
}

/// The roles: the primary of the current view, the backups, and a replica between views.
pub const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "primary",
        colour: "#31a354",
        leader: true,
    },
    RoleInfo {
        name: "backup",
        colour: "#9ecae1",
        leader: false,
    },
    RoleInfo {
        name: "view_changing",
        colour: "#fdae6b",
        leader: false,
    },
];

/// The `pbft` protocol's registration.
pub fn registration() -> Registration<Replica> {
    Registration::new(
        "pbft",
        "PBFT (Castro & Liskov 1999) replicating the kv store: pre-prepare, prepare, commit, \
         checkpoints, view change; f < n/3 Byzantine replicas; every history checked for \
         linearizability",
    )
    .roles(ROLES)
    .fault_bound(fault_bound)
    .params::<PbftParams, PbftMutant>(PbftParams::config)
    .check_bounds::<PbftCheckBounds>(PbftCheckBounds::within)
    .workload(|config: &PbftConfig, client, seq, draw| {
        KvMachine::client_op(&config.machine, client, seq, draw)
    })
    .history(HistoryHooks {
        model: KvMachine::history_model().expect("kv has a history model"),
        input: KvMachine::history_input,
        output: |op, reply: &PbftReply| KvMachine::history_output(op, &reply.output),
    })
    .client_reply_quorum(|config, cluster_size| {
        if config.mutant(PbftMutant::ClientAcceptsFirstReply) {
            1
        } else {
            faults_tolerated(cluster_size) + 1
        }
    })
    .perturb(byzantine::perturb_hooks())
    .byzantine_strategy(byzantine::DOUBLE_ASSIGN)
    .byzantine_strategy(byzantine::ROGUE_PRIMARY)
    .byzantine_strategy(byzantine::PREPARE_TWO_DIGESTS)
    .byzantine_strategy(byzantine::FORGED_VIEW_CHANGE)
}

/// Keyed-hash signatures: `sign(replica, content)` is what only `replica` can compute (by
/// convention: strategies sign as their own node only).
pub fn sign(replica: NodeId, content: &impl Hash) -> u64 {
    let mut hasher = sim_core::hash::TraceHasher::default();
    (0x5eed_0f00_u64, replica.0).hash(&mut hasher);
    content.hash(&mut hasher);
    hasher.finish()
}

/// The client's signature on its request.
fn sign_client(client: ClientId, request: u64, op: &KvOp) -> u64 {
    let mut hasher = sim_core::hash::TraceHasher::default();
    (0xc11e_u64, client, request, op).hash(&mut hasher);
    hasher.finish()
}

/// The digest of an executed history.
pub fn history_digest(history: &[Value]) -> u64 {
    let mut hasher = sim_core::hash::TraceHasher::default();
    history.hash(&mut hasher);
    hasher.finish()
}

/// At least `quorum` distinct replicas, each with the signature `expected` gives.
fn distinct_valid(
    signatures: &[(NodeId, u64)],
    quorum: usize,
    expected: impl Fn(NodeId) -> u64,
) -> bool {
    let mut signers: Vec<NodeId> = signatures
        .iter()
        .filter(|(replica, signature)| *signature == expected(*replica))
        .map(|(replica, _)| *replica)
        .collect();
    signers.sort_unstable();
    signers.dedup();
    signers.len() >= quorum
}
