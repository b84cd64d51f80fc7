//! primarybackup: primary-backup replication of the kv store with a view service (the
//! classic design of MIT 6.824's "Primary/Backup Key/Value Service" lab, after Budhiraja,
//! Marzullo, Schneider and Toueg, "The Primary-Backup Approach", 1993, and the view
//! service of Oki and Liskov's Viewstamped Replication, 1988, reduced to one node).
//!
//! Node 0 is the view service; every other node is a server. Servers ping the view
//! service every `ping_ms`; it counts the pings each server missed, one per tick, and a
//! server that missed `dead_pings` in a row is dead to it. A view is (number, primary,
//! backup); the view service makes the first live server the primary of view 1, and moves
//! to view v + 1 — promoting the backup when the primary dies, replacing a dead backup,
//! adding an idle server as backup — only once the primary of view v has acknowledged v
//! (pinged with v and said it is ready), so it never skips a primary that may hold
//! acknowledged writes no one else has. A primary is ready in a view once its backup took
//! a state transfer of the whole machine in that view, so a backup the view service may
//! promote always holds everything.
//!
//! The primary applies each client request (get, put, append, cas, with kv's client
//! sessions: `crate::kv::KvMachine`) to its machine under the next sequence number,
//! forwards it to the backup and answers the client only when the backup acknowledged that
//! sequence number in the same view. Gets are forwarded too: the backup's answer in the
//! primary's view is what proves that view still current, so a primary cut off after the
//! view service moved on serves nothing (the lab's stale-read rule). A backup accepts
//! forwards and transfers only in the view it holds, so messages from old views are
//! ignored. Each server's machine, sequence number and view are on stable storage,
//! persisted before anything is acknowledged: a restarted server holds what it held, and
//! a restarted primary transfers its whole state to its backup again (the forwards it had
//! in flight were volatile). The view service persists its view too; its crash stops every
//! view change — the design's single point of failure.

mod invariants;
mod mutants;
mod server;
#[cfg(test)]
mod tests;
mod view_service;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::registration::HistoryHooks;
use sim_core::{
    ClientId, ClientReply, ConfigError, Ctx, Effects, FaultBound, Input, Message, NodeId,
    Observation, Protocol, Registration, ReplyOutcome, RoleInfo, Setup, TimerName,
};

use crate::kv::{KvConfig, KvMachine, KvOp, KvOutput};
use crate::paxos::range_us;
use crate::pbft::KvWorkload;
use crate::raft::StateMachine;

pub use invariants::PrimaryBackupChecker;
pub use mutants::PrimaryBackupMutant;
pub use server::{Server, ServerDurable};
pub use view_service::ViewService;

/// The view service's node.
pub const VIEW_SERVICE: NodeId = NodeId(0);

/// A view: its number, its primary and its backup. View 0 has neither.
#[derive(Clone, Copy, Debug, Default, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct View {
    pub number: u64,
    pub primary: Option<NodeId>,
    pub backup: Option<NodeId>,
}

/// A client's request as the primary forwards it.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Command {
    pub client: ClientId,
    pub request: u64,
    pub op: KvOp,
}

/// A state transfer's payload: the whole machine (data and sessions) and the sequence
/// number it reflects. Traces show its size, not its contents.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Image {
    pub machine: KvMachine,
    pub applied: u64,
}

impl Serialize for Image {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut image = serializer.serialize_struct("Image", 2)?;
        image.serialize_field("applied", &self.applied)?;
        image.serialize_field("bytes", &self.machine.snapshot_bytes())?;
        image.end()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PbMsg {
    /// Server to view service: the view the server holds, and whether it is a primary
    /// ready in it (its backup took the state transfer): the acknowledgement.
    Ping { view: u64, ready: bool },
    /// View service to server, the answer to every ping: the current view.
    View { view: View },
    /// Primary to backup: the requests from sequence number `first` on (none: a
    /// heartbeat that asks for the backup's position).
    Forward {
        view: u64,
        first: u64,
        commands: Vec<Command>,
    },
    /// Backup to primary: every request up to `applied` is applied and stored.
    ForwardAck { view: u64, applied: u64 },
    /// Primary to a new backup: the whole state.
    Transfer { view: u64, image: Image },
    /// Backup to primary: the state of `applied` is installed and stored.
    TransferAck { view: u64, applied: u64 },
}

/// Every message kind, for scenarios that name one.
const MESSAGE_KINDS: &[&str] = &[
    "ping",
    "view",
    "forward",
    "forward_ack",
    "transfer",
    "transfer_ack",
];

impl Message for PbMsg {
    fn kind(&self) -> &'static str {
        match self {
            PbMsg::Ping { .. } => "ping",
            PbMsg::View { .. } => "view",
            PbMsg::Forward { .. } => "forward",
            PbMsg::ForwardAck { .. } => "forward_ack",
            PbMsg::Transfer { .. } => "transfer",
            PbMsg::TransferAck { .. } => "transfer_ack",
        }
    }

    fn size_bytes(&self) -> u32 {
        let size = match self {
            PbMsg::Forward { commands, .. } => 32 + 32 * commands.len() as u64,
            PbMsg::Transfer { image, .. } => 32 + image.machine.snapshot_bytes(),
            _ => 32,
        };
        u32::try_from(size).unwrap_or(u32::MAX)
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PbTimer {
    /// The view service's: count a missed ping for every server, then decide the view.
    Tick,
    /// A server's: ping the view service; a primary also resends what is unacknowledged.
    Ping,
}

impl TimerName for PbTimer {
    fn kind(&self) -> &'static str {
        match self {
            PbTimer::Tick => "tick",
            PbTimer::Ping => "ping_timeout",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PbReply {
    /// The request was applied at `seq` in `view` and stored on the backup.
    Done {
        view: u64,
        seq: u64,
        output: KvOutput,
    },
    /// Not the primary; `hint` is the primary of the view this node holds.
    NotPrimary { hint: Option<NodeId> },
}

impl ClientReply for PbReply {
    fn outcome(&self) -> ReplyOutcome {
        match self {
            PbReply::Done { .. } => ReplyOutcome::Ok,
            PbReply::NotPrimary { hint } => ReplyOutcome::Redirect(*hint),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PbObs {
    /// The view service made a new view.
    NewView { view: View },
    /// The primary of the view service's view acknowledged it.
    ViewAcked { view: u64 },
    /// A server takes up the primary's role in `view`.
    Primary { view: View },
    /// A server is the backup of `view`, waiting for the state transfer.
    Backup { view: View },
    /// A backup installed the primary's state in `view`.
    StateTransfer { view: u64, applied: u64 },
    /// A primary applied a request at `seq`.
    Applied { view: u64, seq: u64 },
    /// A node restarted from stable storage.
    Recovered,
}

impl Observation for PbObs {
    const KINDS: &'static [&'static str] = &[
        "new_view",
        "view_acked",
        "primary",
        "backup",
        "state_transfer",
        "applied",
        "recovered",
    ];
    fn kind(&self) -> &'static str {
        match self {
            PbObs::NewView { .. } => "new_view",
            PbObs::ViewAcked { .. } => "view_acked",
            PbObs::Primary { .. } => "primary",
            PbObs::Backup { .. } => "backup",
            PbObs::StateTransfer { .. } => "state_transfer",
            PbObs::Applied { .. } => "applied",
            PbObs::Recovered => "recovered",
        }
    }
}

/// What survives a crash: the view service's view and whether it was acknowledged, or a
/// server's view, machine and position.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum PbDurable {
    ViewService { view: View, acked: bool },
    Server(ServerDurable),
}

/// The cluster's configuration.
#[derive(Clone, Debug)]
pub struct PbConfig {
    pub ping_us: (u64, u64),
    pub dead_pings: u32,
    pub machine: KvConfig,
    pub mutant: Option<PrimaryBackupMutant>,
}

impl PbConfig {
    pub fn mutant(&self, mutant: PrimaryBackupMutant) -> bool {
        self.mutant == Some(mutant)
    }
}

/// Primary-backup's `[params]`: the ping interval, the failure detector's patience, and
/// the kv workload's fields.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PbParams {
    /// How often servers ping the view service, and how often it ticks, in ms `[min, max]`.
    #[serde(
        default = "PbParams::default_ping_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub ping_ms: [u64; 2],
    /// Ticks without a ping after which the view service holds a server dead (2..=100).
    #[serde(default = "PbParams::default_dead_pings")]
    pub dead_pings: u32,
    /// The kv workload's fields (keys, op weights), as kv takes them.
    #[serde(flatten)]
    pub kv: KvWorkload,
}

impl PbParams {
    fn default_ping_ms() -> [u64; 2] {
        [10, 10]
    }
    fn default_dead_pings() -> u32 {
        5
    }

    fn config(self, setup: Setup<PrimaryBackupMutant>) -> Result<PbConfig, ConfigError> {
        if setup.cluster_size < 3 {
            return Err(ConfigError {
                field: "nodes".to_string(),
                message: format!(
                    "{} nodes: primary-backup needs the view service (node 0) and at least \
                     two servers",
                    setup.cluster_size
                ),
                fix: "write e.g. `nodes = 4` (the view service and three servers)".to_string(),
            });
        }
        let ping_us = range_us("ping_ms", self.ping_ms)?;
        if ping_us.0 == 0 {
            return Err(ConfigError {
                field: "ping_ms".to_string(),
                message: "a ping every 0 ms never lets time pass".to_string(),
                fix: "write e.g. `ping_ms = [10, 10]`".to_string(),
            });
        }
        if !(2..=100).contains(&self.dead_pings) {
            return Err(ConfigError {
                field: "dead_pings".to_string(),
                message: format!(
                    "{}: a server must be given 2 to 100 ticks (with 1, a ping that \
                     arrives just after a tick kills a healthy server)",
                    self.dead_pings
                ),
                fix: "write e.g. `dead_pings = 5`".to_string(),
            });
        }
        Ok(PbConfig {
            ping_us,
            dead_pings: self.dead_pings,
            machine: self
                .kv
                .machine_config("primarybackup", setup.cluster_size)?,
            mutant: setup.mutant,
        })
    }
}

/// The model checker's bounds on primary-backup.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PbCheckBounds {
    /// The highest view number a node may hold.
    pub max_view: Option<u64>,
}

impl PbCheckBounds {
    fn within(&self, node: &PrimaryBackup) -> bool {
        self.max_view.is_none_or(|max| node.view().number <= max)
    }
}

/// A node: the view service (node 0) or a server.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum PrimaryBackup {
    ViewService(ViewService),
    Server(Server),
}

type Cx<'a> = Ctx<'a, PbConfig>;
type Fx = Effects<PrimaryBackup>;

impl PrimaryBackup {
    /// The view this node holds (the view service's current one).
    pub fn view(&self) -> View {
        match self {
            PrimaryBackup::ViewService(service) => service.view,
            PrimaryBackup::Server(server) => server.durable.view,
        }
    }

    pub fn server(&self) -> Option<&Server> {
        match self {
            PrimaryBackup::Server(server) => Some(server),
            PrimaryBackup::ViewService(_) => None,
        }
    }
}

impl Protocol for PrimaryBackup {
    type Config = PbConfig;
    type Msg = PbMsg;
    type Timer = PbTimer;
    type Durable = PbDurable;
    type Op = KvOp;
    type Reply = PbReply;
    type Obs = PbObs;
    type Checker = PrimaryBackupChecker;

    fn new(ctx: &Cx<'_>) -> PrimaryBackup {
        PrimaryBackup::recover(ctx, None)
    }

    fn recover(ctx: &Cx<'_>, durable: Option<&PbDurable>) -> PrimaryBackup {
        if ctx.id == VIEW_SERVICE {
            let (view, acked) = match durable {
                Some(PbDurable::ViewService { view, acked }) => (*view, *acked),
                None => (View::default(), false),
                Some(PbDurable::Server(_)) => unreachable!("node 0 persists the view service"),
            };
            return PrimaryBackup::ViewService(ViewService::recover(ctx, view, acked));
        }
        let durable = match durable {
            Some(PbDurable::Server(durable)) => durable.clone(),
            None => ServerDurable::default(),
            Some(PbDurable::ViewService { .. }) => unreachable!("only node 0 is the view service"),
        };
        PrimaryBackup::Server(Server::recover(ctx.id, durable))
    }

    fn step(&mut self, ctx: &Cx<'_>, input: Input<PrimaryBackup>, fx: &mut Fx) {
        match self {
            PrimaryBackup::ViewService(service) => service.step(ctx, input, fx),
            PrimaryBackup::Server(server) => server.step(ctx, input, fx),
        }
    }

    fn role(&self) -> &'static str {
        match self {
            PrimaryBackup::ViewService(_) => "view_service",
            PrimaryBackup::Server(server) => server.role(),
        }
    }
}

/// The roles: the view service, the primary, the backup, and idle servers.
pub const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "view_service",
        colour: "#756bb1",
        leader: false,
    },
    RoleInfo {
        name: "primary",
        colour: "#31a354",
        leader: true,
    },
    RoleInfo {
        name: "backup",
        colour: "#fd8d3c",
        leader: false,
    },
    RoleInfo {
        name: "idle",
        colour: "#9ecae1",
        leader: false,
    },
];

/// One server may be down at a time: the backup takes over from a dead primary, and an
/// idle server from a dead backup. The view service may not fail (its crash blocks every
/// view change until it restarts), which no bound can express: scenarios show it.
fn fault_bound(_cluster_size: u32) -> FaultBound {
    FaultBound {
        crashed: 1,
        byzantine: 0,
    }
}

/// The `primarybackup` protocol's registration.
pub fn registration() -> Registration<PrimaryBackup> {
    Registration::new(
        "primarybackup",
        "primary-backup replication of the kv store with a view service (node 0): the \
         primary answers once the backup stored the request, the view service promotes the \
         backup when the primary stops pinging; every history checked for linearizability",
    )
    .roles(ROLES)
    .fault_bound(fault_bound)
    .params::<PbParams, PrimaryBackupMutant>(PbParams::config)
    .check_bounds::<PbCheckBounds>(PbCheckBounds::within)
    .workload(|config: &PbConfig, client, seq, draw| {
        KvMachine::client_op(&config.machine, client, seq, draw)
    })
    .parse_op(|config: &PbConfig, client, seq, text| {
        KvMachine::parse_op(&config.machine, client, seq, text)
    })
    .history(HistoryHooks {
        model: KvMachine::history_model().expect("kv has a history model"),
        input: KvMachine::history_input,
        output: |op, reply: &PbReply| match reply {
            PbReply::Done { output, .. } => KvMachine::history_output(op, output),
            PbReply::NotPrimary { .. } => None,
        },
    })
    .rpc_replies(&["view", "forward_ack", "transfer_ack"])
    .epoch(|node| node.view().number)
    .message_kinds(MESSAGE_KINDS)
}
