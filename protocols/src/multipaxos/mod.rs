//! multipaxos: Multi-Paxos with a stable leader (Lamport, "Paxos Made Simple", 2001, §3;
//! van Renesse and Altinbuken, "Paxos Made Moderately Complex", 2015) replicating the kv
//! state machine (`crate::kv::KvMachine`), as PBFT and Raft's kv do.
//!
//! Every node is an acceptor and a learner, and any node may lead. A node whose election
//! timer expires (randomised, re-armed by every heartbeat or accept of the leader it
//! follows) picks a ballot above every one it has seen and runs phase 1 *once* for all
//! slots from the first it has not learnt chosen (§3: "phase 1 for infinitely many
//! instances" with one short message). An acceptor promises the ballot for every slot,
//! persists the promise, and reports each acceptance it holds at those slots. With a
//! majority of promises the node leads: in every slot up to the highest reported it
//! proposes the value of the highest-ballot acceptance reported, and fills the slots
//! nobody reported with no-ops (§3: "the leader fills the gaps with no-op commands");
//! new client commands take the slots after. Phase 2 is per slot: an acceptor accepts
//! unless it promised a higher ballot, persists the acceptance and answers the leader; a
//! majority makes the slot chosen. The leader executes chosen slots in order, answering
//! each command's client with the machine's output; heartbeats tell the followers
//! (learners) the chosen values they lack, and carry the leader's ballot, so a node that
//! sees a higher ballot in any message stops leading.
//!
//! Durable: the promise and the acceptances, one per slot, as a `PersistentVec` (a persist
//! is O(1), an accept copies one path of the tree). Learnt values and the machine are
//! volatile: a restarted node relearns the chosen prefix from the leader's heartbeats and
//! rebuilds the machine by executing it again. A node's messages to itself are handled in
//! the step that sends them (its own promise and acceptance persist before its peers'
//! replies can count).

mod invariants;
mod mutants;
mod node;
#[cfg(test)]
mod tests;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::persistent::PersistentVec;
use sim_core::registration::HistoryHooks;
use sim_core::{
    ClientId, ClientReply, ConfigError, Message, NodeId, Observation, Registration, ReplyOutcome,
    RoleInfo, Setup, TimerName,
};

use crate::kv::{KvConfig, KvMachine, KvOp, KvOutput};
use crate::paxos::range_us;
use crate::pbft::KvWorkload;
use crate::raft::StateMachine;

pub use crate::paxos::Ballot;
pub use invariants::MultiPaxosChecker;
pub use mutants::MultiPaxosMutant;
pub use node::{Candidacy, Leadership, MultiPaxos, Role};

/// A slot of the replicated log, from 0.
pub type Slot = u64;

/// A client's command: the request that proposed it and its kv operation.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Command {
    pub client: ClientId,
    pub request: u64,
    pub op: KvOp,
}

/// What a slot holds: a command, or the no-op (`None`) a new leader fills a gap with.
pub type Value = Option<Command>;

/// An acceptance: the ballot and the value accepted in it.
pub type Acceptance = (Ballot, Value);

/// One acceptance a promise reports: its slot, ballot and value.
pub type Report = (Slot, Ballot, Value);

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiPaxosMsg {
    /// Phase 1a for every slot from `from_slot` on.
    Prepare { ballot: Ballot, from_slot: Slot },
    /// Phase 1b: the acceptor's acceptances at slots from `from_slot` on.
    Promise {
        ballot: Ballot,
        accepted: Vec<Report>,
    },
    /// A refused prepare, accept or heartbeat: the acceptor promised `promised`.
    Nack { ballot: Ballot, promised: Ballot },
    /// Phase 2a for one slot.
    Accept {
        ballot: Ballot,
        slot: Slot,
        value: Value,
    },
    /// Phase 2b, to the leader.
    Accepted { ballot: Ballot, slot: Slot },
    /// The leader is alive; `chosen` are the values of slots `first..` the follower lacks.
    Heartbeat {
        ballot: Ballot,
        first: Slot,
        chosen: Vec<Value>,
    },
    /// How many slots the follower has executed (the next heartbeat starts there).
    HeartbeatAck { ballot: Ballot, executed: Slot },
}

impl MultiPaxosMsg {
    /// The highest ballot the message names: what makes a leader step down.
    pub fn ballot(&self) -> Ballot {
        match *self {
            MultiPaxosMsg::Nack { ballot, promised } => ballot.max(promised),
            MultiPaxosMsg::Prepare { ballot, .. }
            | MultiPaxosMsg::Promise { ballot, .. }
            | MultiPaxosMsg::Accept { ballot, .. }
            | MultiPaxosMsg::Accepted { ballot, .. }
            | MultiPaxosMsg::Heartbeat { ballot, .. }
            | MultiPaxosMsg::HeartbeatAck { ballot, .. } => ballot,
        }
    }
}

/// Every message kind, for scenarios that name one.
const MESSAGE_KINDS: &[&str] = &[
    "prepare",
    "promise",
    "nack",
    "accept",
    "accepted",
    "heartbeat",
    "heartbeat_ack",
];

impl Message for MultiPaxosMsg {
    fn kind(&self) -> &'static str {
        match self {
            MultiPaxosMsg::Prepare { .. } => "prepare",
            MultiPaxosMsg::Promise { .. } => "promise",
            MultiPaxosMsg::Nack { .. } => "nack",
            MultiPaxosMsg::Accept { .. } => "accept",
            MultiPaxosMsg::Accepted { .. } => "accepted",
            MultiPaxosMsg::Heartbeat { .. } => "heartbeat",
            MultiPaxosMsg::HeartbeatAck { .. } => "heartbeat_ack",
        }
    }

    fn size_bytes(&self) -> u32 {
        let size = match self {
            MultiPaxosMsg::Promise { accepted, .. } => 32 + 48 * accepted.len(),
            MultiPaxosMsg::Heartbeat { chosen, .. } => 40 + 32 * chosen.len(),
            MultiPaxosMsg::Accept { .. } => 64,
            _ => 40,
        };
        u32::try_from(size).unwrap_or(u32::MAX)
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum MultiPaxosTimer {
    /// A follower's or candidate's: no leader heard from, so run phase 1.
    Election,
    /// The leader's: send heartbeats and resend unanswered accepts.
    Heartbeat,
}

impl TimerName for MultiPaxosTimer {
    fn kind(&self) -> &'static str {
        match self {
            MultiPaxosTimer::Election => "election_timeout",
            MultiPaxosTimer::Heartbeat => "heartbeat_timeout",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiPaxosReply {
    /// The command was chosen at `slot` and executing it returned `output`.
    Done { slot: Slot, output: KvOutput },
    /// Not the leader; `hint` is the leader this node follows, if it knows one.
    NotLeader { hint: Option<NodeId> },
}

impl ClientReply for MultiPaxosReply {
    fn outcome(&self) -> ReplyOutcome {
        match self {
            MultiPaxosReply::Done { .. } => ReplyOutcome::Ok,
            MultiPaxosReply::NotLeader { hint } => ReplyOutcome::Redirect(*hint),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MultiPaxosObs {
    /// A node starts phase 1 for every slot from `from_slot`.
    Prepare { ballot: Ballot, from_slot: Slot },
    /// A majority promised: the node leads; new commands start at `next_slot`.
    Elected {
        ballot: Ballot,
        from_slot: Slot,
        next_slot: Slot,
    },
    /// The leader proposes `value` at `slot` (phase 2a).
    Propose {
        ballot: Ballot,
        slot: Slot,
        value: Value,
    },
    /// An acceptor promised `ballot`.
    Promised { ballot: Ballot },
    /// An acceptor accepted (phase 2b).
    Accepted {
        ballot: Ballot,
        slot: Slot,
        value: Value,
    },
    /// The leader saw a majority accept `value` at `slot`.
    Chosen { slot: Slot, value: Value },
    /// A replica executed `slot` (in slot order).
    Executed { slot: Slot, value: Value },
    /// A leader or candidate saw a higher ballot and follows.
    SteppedDown { ballot: Ballot },
    /// A node restarted from its persisted promise and acceptances.
    Recovered,
}

impl Observation for MultiPaxosObs {
    const KINDS: &'static [&'static str] = &[
        "prepare",
        "elected",
        "propose",
        "fill_noop",
        "promised",
        "accepted",
        "chosen",
        "executed",
        "stepped_down",
        "recovered",
    ];
    fn kind(&self) -> &'static str {
        match self {
            MultiPaxosObs::Prepare { .. } => "prepare",
            MultiPaxosObs::Elected { .. } => "elected",
            MultiPaxosObs::Propose { value: None, .. } => "fill_noop",
            MultiPaxosObs::Propose { .. } => "propose",
            MultiPaxosObs::Promised { .. } => "promised",
            MultiPaxosObs::Accepted { .. } => "accepted",
            MultiPaxosObs::Chosen { .. } => "chosen",
            MultiPaxosObs::Executed { .. } => "executed",
            MultiPaxosObs::SteppedDown { .. } => "stepped_down",
            MultiPaxosObs::Recovered => "recovered",
        }
    }
}

/// What survives a crash: the acceptor's promise and its acceptance in each slot.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct MultiPaxosDurable {
    pub promised: Option<Ballot>,
    /// Index = slot; `None` where nothing was accepted.
    pub accepted: PersistentVec<Option<Acceptance>>,
}

/// The cluster's configuration.
#[derive(Clone, Debug)]
pub struct MultiPaxosConfig {
    pub election_timeout_us: (u64, u64),
    pub heartbeat_us: (u64, u64),
    pub machine: KvConfig,
    pub mutant: Option<MultiPaxosMutant>,
}

impl MultiPaxosConfig {
    pub fn mutant(&self, mutant: MultiPaxosMutant) -> bool {
        self.mutant == Some(mutant)
    }
}

/// Multi-Paxos's `[params]`: its timers and the kv workload's fields.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiPaxosParams {
    /// How long a follower waits without hearing its leader before running phase 1, in
    /// ms `[min, max]` (drawn afresh each time: the randomised backoff that lets one
    /// candidate win).
    #[serde(
        default = "MultiPaxosParams::default_election_timeout_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub election_timeout_ms: [u64; 2],
    /// The leader's heartbeat interval, in ms `[min, max]`.
    #[serde(
        default = "MultiPaxosParams::default_heartbeat_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub heartbeat_ms: [u64; 2],
    /// The kv workload's fields (keys, op weights), as kv takes them.
    #[serde(flatten)]
    pub kv: KvWorkload,
}

impl MultiPaxosParams {
    fn default_election_timeout_ms() -> [u64; 2] {
        [150, 300]
    }
    fn default_heartbeat_ms() -> [u64; 2] {
        [20, 20]
    }

    fn config(self, setup: Setup<MultiPaxosMutant>) -> Result<MultiPaxosConfig, ConfigError> {
        let election_timeout_us = range_us("election_timeout_ms", self.election_timeout_ms)?;
        let heartbeat_us = range_us("heartbeat_ms", self.heartbeat_ms)?;
        if heartbeat_us.0 == 0 {
            return Err(ConfigError {
                field: "heartbeat_ms".to_string(),
                message: "a heartbeat every 0 ms never lets time pass".to_string(),
                fix: "write e.g. `heartbeat_ms = [20, 20]`".to_string(),
            });
        }
        if election_timeout_us.0 <= heartbeat_us.1 {
            return Err(ConfigError {
                field: "election_timeout_ms".to_string(),
                message: format!(
                    "{:?} is not above the heartbeat interval {:?}: followers would depose \
                     a healthy leader between two heartbeats",
                    self.election_timeout_ms, self.heartbeat_ms
                ),
                fix: "make election_timeout_ms's min several heartbeats long, e.g. \
                      `election_timeout_ms = [150, 300]` with `heartbeat_ms = [20, 20]`"
                    .to_string(),
            });
        }
        Ok(MultiPaxosConfig {
            election_timeout_us,
            heartbeat_us,
            machine: self.kv.machine_config("multipaxos", setup.cluster_size)?,
            mutant: setup.mutant,
        })
    }
}

/// The model checker's bounds on Multi-Paxos.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultiPaxosCheckBounds {
    /// The highest ballot round a node may use or promise.
    pub max_round: Option<u64>,
    /// The most slots an acceptor may hold.
    pub max_slots: Option<u64>,
}

impl MultiPaxosCheckBounds {
    fn within(&self, node: &MultiPaxos) -> bool {
        let promised = node.durable.promised.map_or(0, |ballot| ballot.round);
        self.max_round
            .is_none_or(|max| node.round() <= max && promised <= max)
            && self
                .max_slots
                .is_none_or(|max| node.durable.accepted.len() as u64 <= max)
    }
}

/// The roles: the leader, a node running phase 1, and the followers.
pub const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "leader",
        colour: "#31a354",
        leader: true,
    },
    RoleInfo {
        name: "candidate",
        colour: "#fd8d3c",
        leader: false,
    },
    RoleInfo {
        name: "follower",
        colour: "#9ecae1",
        leader: false,
    },
];

/// The `multipaxos` protocol's registration.
pub fn registration() -> Registration<MultiPaxos> {
    Registration::new(
        "multipaxos",
        "Multi-Paxos with a stable leader (Lamport 2001 §3): phase 1 once per leader, phase 2 \
         per slot, gaps filled with no-ops, replicating the kv store; every history checked \
         for linearizability",
    )
    .roles(ROLES)
    .fault_bound(crate::paxos::fault_bound)
    .params::<MultiPaxosParams, MultiPaxosMutant>(MultiPaxosParams::config)
    .check_bounds::<MultiPaxosCheckBounds>(MultiPaxosCheckBounds::within)
    .workload(|config: &MultiPaxosConfig, client, seq, draw| {
        KvMachine::client_op(&config.machine, client, seq, draw)
    })
    .history(HistoryHooks {
        model: KvMachine::history_model().expect("kv has a history model"),
        input: KvMachine::history_input,
        output: |op, reply: &MultiPaxosReply| match reply {
            MultiPaxosReply::Done { output, .. } => KvMachine::history_output(op, output),
            MultiPaxosReply::NotLeader { .. } => None,
        },
    })
    .commits(|observation| match observation {
        MultiPaxosObs::Executed { slot, .. } => Some(slot + 1),
        _ => None,
    })
    .rpc_replies(&["promise", "accepted", "heartbeat_ack", "nack"])
    .epoch(|node| node.ballot().map_or(0, |ballot| ballot.round))
    .message_kinds(MESSAGE_KINDS)
}
