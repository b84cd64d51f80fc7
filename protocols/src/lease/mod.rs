//! A lock service with leases and fencing tokens (Gray & Cheriton, "Leases", SOSP 1989;
//! Burrows, "The Chubby lock service", OSDI 2006, §2.4 "sequencers"; Kleppmann, "How to
//! do distributed locking", 2016).
//!
//! Nodes `0..servers` are lock servers, the next `clients` nodes are lock clients, and
//! the last node is the storage the lock protects. A client acquires the lock in two
//! majority rounds, as a Paxos proposer picks a ballot: it asks the servers for the
//! highest fencing token they have seen (`query`), takes one above the highest of a
//! majority, and asks them to grant it the lease with that token (`grant`). A server
//! grants when the token is above every token it has seen and the lease it holds (for
//! another client) has expired by its own clock; it persists the token and the lease
//! before answering. Any two majorities intersect, so the leases granted by a majority
//! have increasing tokens. The holder renews before its lease runs out, writes to the
//! storage with its token, and after a few writes releases the lock.
//!
//! A client times its lease on its own clock (`Ctx::local_clock_us`: leases need time),
//! from when it asked, minus a safety margin. That is never enough: between its check
//! and its write it may pause (a GC pause) or its clock may run slow, and its write then
//! lands after the lease passed to someone else. The storage's fencing check (reject a
//! token below one it has seen) is what keeps it consistent: `scenarios/lease/` shows
//! both, and the `no-fencing` mutant's corruption.

mod invariants;
mod mutants;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::*;

pub use invariants::LeaseChecker;
pub use mutants::Mutant;

use crate::paxos::{range_us, NoReply};

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseMsg {
    /// Phase 1: the highest token a server has seen. `attempt` pairs replies with asks.
    Query {
        attempt: u64,
    },
    QueryReply {
        attempt: u64,
        max_token: u64,
    },
    /// Phase 2: grant the sender the lease with this token.
    Grant {
        token: u64,
    },
    GrantReply {
        token: u64,
        ok: bool,
    },
    /// Extend the sender's lease with this token.
    Renew {
        token: u64,
    },
    RenewReply {
        token: u64,
        ok: bool,
    },
    Release {
        token: u64,
    },
    /// To the storage: a write under the lease with this token.
    Write {
        token: u64,
        seq: u64,
    },
}

impl Message for LeaseMsg {
    fn kind(&self) -> &'static str {
        match self {
            LeaseMsg::Query { .. } => "query",
            LeaseMsg::QueryReply { .. } => "query_reply",
            LeaseMsg::Grant { .. } => "grant",
            LeaseMsg::GrantReply { .. } => "grant_reply",
            LeaseMsg::Renew { .. } => "renew",
            LeaseMsg::RenewReply { .. } => "renew_reply",
            LeaseMsg::Release { .. } => "release",
            LeaseMsg::Write { .. } => "write",
        }
    }
    fn size_bytes(&self) -> u32 {
        24
    }
}

const MESSAGE_KINDS: &[&str] = &[
    "query",
    "query_reply",
    "grant",
    "grant_reply",
    "renew",
    "renew_reply",
    "release",
    "write",
];

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum LeaseTimer {
    /// A client without the lock (re)starts acquiring it.
    Acquire,
    /// A holder's periodic work: check the lease, renew, start a write or release.
    Work,
    /// A holder's write, started by `Work`, goes out (the gap a pause falls into).
    Write,
}

impl TimerName for LeaseTimer {
    fn kind(&self) -> &'static str {
        match self {
            LeaseTimer::Acquire => "acquire_timeout",
            LeaseTimer::Work => "work_timeout",
            LeaseTimer::Write => "write_timeout",
        }
    }
}

/// A lease as a server holds it (and persists it).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub client: NodeId,
    pub token: u64,
    /// When it expires, by the server's clock.
    pub expires_us: TimeUs,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseObs {
    /// A server granted `client` the lease with `token`; `replaced` is the lease it held
    /// before (for another client), `clock_us` its clock then, and `servers` how many
    /// servers there are (a majority of them grants a lease).
    Accepted {
        client: NodeId,
        token: u64,
        replaced: Option<Lease>,
        clock_us: TimeUs,
        servers: u32,
    },
    /// A client heard a majority grant it the lease.
    Acquired {
        token: u64,
    },
    Renewed {
        token: u64,
    },
    Released {
        token: u64,
    },
    /// The storage took a write.
    WriteAccepted {
        client: NodeId,
        token: u64,
    },
    /// The storage refused a write whose token is below one it has seen.
    WriteRejected {
        client: NodeId,
        token: u64,
        seen: u64,
    },
}

impl Observation for LeaseObs {
    const KINDS: &'static [&'static str] = &[
        "accepted",
        "acquired",
        "renewed",
        "released",
        "write_accepted",
        "write_rejected",
    ];
    fn kind(&self) -> &'static str {
        match self {
            LeaseObs::Accepted { .. } => "accepted",
            LeaseObs::Acquired { .. } => "acquired",
            LeaseObs::Renewed { .. } => "renewed",
            LeaseObs::Released { .. } => "released",
            LeaseObs::WriteAccepted { .. } => "write_accepted",
            LeaseObs::WriteRejected { .. } => "write_rejected",
        }
    }
}

/// What survives a crash: a server's highest token and its lease; the storage's highest
/// token (`lease` stays `None`). Clients persist nothing: a restarted client starts over.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, Serialize)]
pub struct LeaseDurable {
    pub max_token: u64,
    pub lease: Option<Lease>,
}

/// Where a client is in getting and holding the lock.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum ClientPhase {
    Idle,
    /// Asked the servers for their highest token.
    Querying {
        replies: BTreeMap<NodeId, u64>,
    },
    /// Asked them to grant `token`, at `asked_us` by its clock.
    Granting {
        token: u64,
        asked_us: TimeUs,
        granted: BTreeSet<NodeId>,
    },
    /// Holds the lease with `token` until `valid_until_us` by its clock.
    Holding {
        token: u64,
        valid_until_us: TimeUs,
        /// A renewal asked at this time, and who granted it.
        renewal: Option<(TimeUs, BTreeSet<NodeId>)>,
        writes: u32,
    },
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum LeaseNode {
    Server(LeaseDurable),
    Client {
        attempt: u64,
        phase: ClientPhase,
        /// The token of a write started and not yet sent.
        pending: Option<u64>,
        seq: u64,
    },
    Storage {
        max_token: u64,
        accepted: u64,
    },
}

#[derive(Clone, Debug)]
pub struct LeaseConfig {
    pub servers: u32,
    pub clients: u32,
    pub ttl_us: u64,
    pub margin_us: u64,
    pub start_us: (u64, u64),
    pub retry_us: (u64, u64),
    pub work_us: (u64, u64),
    pub write_us: (u64, u64),
    pub writes_per_lease: u32,
    pub mutant: Option<Mutant>,
}

impl LeaseConfig {
    fn is_server(&self, node: NodeId) -> bool {
        node.0 < self.servers
    }

    fn servers(&self) -> impl Iterator<Item = NodeId> {
        (0..self.servers).map(NodeId)
    }

    fn majority(&self) -> usize {
        self.servers as usize / 2 + 1
    }

    /// The storage is the last node.
    pub fn storage(&self) -> NodeId {
        NodeId(self.servers + self.clients)
    }

    fn mutant(&self, mutant: Mutant) -> bool {
        self.mutant == Some(mutant)
    }
}

type Fx = Effects<LeaseNode>;
type LeaseCtx<'a, 'b> = &'a Ctx<'b, LeaseConfig>;

// --- a server ----------------------------------------------------------------------------

fn server_step(state: &mut LeaseDurable, ctx: LeaseCtx, from: NodeId, msg: LeaseMsg, fx: &mut Fx) {
    let config = ctx.config;
    let now = ctx.local_clock_us();
    match msg {
        LeaseMsg::Query { attempt } => fx.send(
            from,
            LeaseMsg::QueryReply {
                attempt,
                max_token: state.max_token,
            },
        ),
        LeaseMsg::Grant { token } => {
            // The lease ends at its expiry by this server's clock (early-grant: halfway).
            let cut_us = if config.mutant(Mutant::EarlyGrant) {
                config.ttl_us / 2
            } else {
                0
            };
            let free = state.lease.is_none_or(|lease| {
                lease.client == from || now >= lease.expires_us.saturating_sub(cut_us)
            });
            let ok = free && token > state.max_token;
            if ok {
                let replaced = state.lease.filter(|lease| lease.client != from);
                state.max_token = token;
                state.lease = Some(Lease {
                    client: from,
                    token,
                    expires_us: now + config.ttl_us,
                });
                persist_server(state, ctx, fx);
                fx.observe(LeaseObs::Accepted {
                    client: from,
                    token,
                    replaced,
                    clock_us: now,
                    servers: config.servers,
                });
            }
            fx.send(from, LeaseMsg::GrantReply { token, ok });
        }
        LeaseMsg::Renew { token } => {
            let ok = match &mut state.lease {
                Some(lease) if lease.client == from && lease.token == token => {
                    lease.expires_us = now + config.ttl_us;
                    true
                }
                _ => false,
            };
            if ok {
                persist_server(state, ctx, fx);
            }
            fx.send(from, LeaseMsg::RenewReply { token, ok });
        }
        LeaseMsg::Release { token } => {
            if state
                .lease
                .is_some_and(|lease| lease.client == from && lease.token == token)
            {
                state.lease = None;
                persist_server(state, ctx, fx);
            }
        }
        other => unreachable!("{}: a server got {other:?} from {from}", ctx.id),
    }
}

/// The token and the lease are durable before the reply that depends on them leaves
/// (token-not-persisted: never).
fn persist_server(state: &LeaseDurable, ctx: LeaseCtx, fx: &mut Fx) {
    if !ctx.config.mutant(Mutant::TokenNotPersisted) {
        fx.persist(state.clone());
    }
}

// --- a client ----------------------------------------------------------------------------

struct ClientState<'a> {
    attempt: &'a mut u64,
    phase: &'a mut ClientPhase,
    pending: &'a mut Option<u64>,
    seq: &'a mut u64,
}

impl ClientState<'_> {
    fn on_acquire_timeout(&mut self, ctx: LeaseCtx, fx: &mut Fx) {
        if matches!(self.phase, ClientPhase::Holding { .. }) {
            return;
        }
        *self.attempt += 1;
        *self.phase = ClientPhase::Querying {
            replies: BTreeMap::new(),
        };
        for server in ctx.config.servers() {
            fx.send(
                server,
                LeaseMsg::Query {
                    attempt: *self.attempt,
                },
            );
        }
        // No answer from a majority in time: ask again.
        let (min, max) = ctx.config.retry_us;
        fx.set_timer(LeaseTimer::Acquire, min, max);
    }

    fn on_query_reply(
        &mut self,
        ctx: LeaseCtx,
        from: NodeId,
        attempt: u64,
        max_token: u64,
        fx: &mut Fx,
    ) {
        let ClientPhase::Querying { replies } = self.phase else {
            return;
        };
        if attempt != *self.attempt {
            return;
        }
        replies.insert(from, max_token);
        if replies.len() < ctx.config.majority() {
            return;
        }
        let token = replies.values().max().copied().unwrap_or(0) + 1;
        *self.phase = ClientPhase::Granting {
            token,
            asked_us: ctx.local_clock_us(),
            granted: BTreeSet::new(),
        };
        for server in ctx.config.servers() {
            fx.send(server, LeaseMsg::Grant { token });
        }
    }

    fn on_grant_reply(&mut self, ctx: LeaseCtx, from: NodeId, token: u64, ok: bool, fx: &mut Fx) {
        let ClientPhase::Granting {
            token: asked,
            asked_us,
            granted,
        } = self.phase
        else {
            return;
        };
        if token != *asked || !ok {
            return;
        }
        granted.insert(from);
        if granted.len() < ctx.config.majority() {
            return;
        }
        // The lease runs from when it was asked for: the servers' leases end later.
        let valid_until_us = lease_end(ctx, *asked_us);
        *self.phase = ClientPhase::Holding {
            token,
            valid_until_us,
            renewal: None,
            writes: 0,
        };
        fx.observe(LeaseObs::Acquired { token });
        fx.cancel_timer(LeaseTimer::Acquire);
        let (min, max) = ctx.config.work_us;
        fx.set_timer(LeaseTimer::Work, min, max);
    }

    fn on_work_timeout(&mut self, ctx: LeaseCtx, fx: &mut Fx) {
        let config = ctx.config;
        let now = ctx.local_clock_us();
        let ClientPhase::Holding {
            token,
            valid_until_us,
            renewal,
            writes,
        } = self.phase
        else {
            return;
        };
        let token = *token;
        if now >= *valid_until_us || *writes >= config.writes_per_lease {
            if *writes >= config.writes_per_lease {
                for server in config.servers() {
                    fx.send(server, LeaseMsg::Release { token });
                }
                fx.observe(LeaseObs::Released { token });
            }
            *self.phase = ClientPhase::Idle;
            let (min, max) = config.retry_us;
            fx.set_timer(LeaseTimer::Acquire, min, max);
            return;
        }
        // Valid by this client's clock: start a write (it goes out when `Write` fires,
        // without a second look: the check-then-act gap every lease client has).
        if self.pending.is_none() {
            *self.pending = Some(token);
            *writes += 1;
            let (min, max) = config.write_us;
            fx.set_timer(LeaseTimer::Write, min, max);
        }
        if *valid_until_us - now < config.ttl_us / 2 && renewal.is_none() {
            *renewal = Some((now, BTreeSet::new()));
            for server in config.servers() {
                fx.send(server, LeaseMsg::Renew { token });
            }
        }
        let (min, max) = config.work_us;
        fx.set_timer(LeaseTimer::Work, min, max);
    }

    fn on_write_timeout(&mut self, ctx: LeaseCtx, fx: &mut Fx) {
        if let Some(token) = self.pending.take() {
            *self.seq += 1;
            fx.send(
                ctx.config.storage(),
                LeaseMsg::Write {
                    token,
                    seq: *self.seq,
                },
            );
        }
    }

    fn on_renew_reply(&mut self, ctx: LeaseCtx, from: NodeId, token: u64, ok: bool, fx: &mut Fx) {
        let ClientPhase::Holding {
            token: held,
            valid_until_us,
            renewal,
            ..
        } = self.phase
        else {
            return;
        };
        let Some((asked_us, granted)) = renewal else {
            return;
        };
        if token != *held || !ok {
            return;
        }
        granted.insert(from);
        if granted.len() >= ctx.config.majority() {
            *valid_until_us = lease_end(ctx, *asked_us);
            *renewal = None;
            fx.observe(LeaseObs::Renewed { token });
        }
    }
}

/// Where a lease asked for at `asked_us` (by the client's clock) ends for the client:
/// its duration less the safety margin for clock drift.
fn lease_end(ctx: LeaseCtx, asked_us: TimeUs) -> TimeUs {
    asked_us + ctx.config.ttl_us - ctx.config.margin_us
}

// --- the storage -------------------------------------------------------------------------

fn storage_write(
    max_token: &mut u64,
    accepted: &mut u64,
    ctx: LeaseCtx,
    client: NodeId,
    token: u64,
    fx: &mut Fx,
) {
    if token >= *max_token || ctx.config.mutant(Mutant::NoFencing) {
        if token > *max_token {
            // Durable before the write counts, or a restarted storage forgets the fence.
            *max_token = token;
            fx.persist(LeaseDurable {
                max_token: token,
                lease: None,
            });
        }
        *accepted += 1;
        fx.observe(LeaseObs::WriteAccepted { client, token });
    } else {
        fx.observe(LeaseObs::WriteRejected {
            client,
            token,
            seen: *max_token,
        });
    }
}

impl Protocol for LeaseNode {
    type Config = LeaseConfig;
    type Msg = LeaseMsg;
    type Timer = LeaseTimer;
    type Durable = LeaseDurable;
    type Op = ();
    type Reply = NoReply;
    type Obs = LeaseObs;
    type Checker = LeaseChecker;

    fn new(ctx: &Ctx<'_, LeaseConfig>) -> LeaseNode {
        LeaseNode::recover(ctx, None)
    }

    fn recover(ctx: &Ctx<'_, LeaseConfig>, durable: Option<&LeaseDurable>) -> LeaseNode {
        let config = ctx.config;
        if config.is_server(ctx.id) {
            LeaseNode::Server(durable.cloned().unwrap_or_default())
        } else if ctx.id == config.storage() {
            LeaseNode::Storage {
                max_token: durable.map_or(0, |durable| durable.max_token),
                accepted: 0,
            }
        } else {
            LeaseNode::Client {
                attempt: 0,
                phase: ClientPhase::Idle,
                pending: None,
                seq: 0,
            }
        }
    }

    fn step(&mut self, ctx: &Ctx<'_, LeaseConfig>, input: Input<LeaseNode>, fx: &mut Fx) {
        match self {
            LeaseNode::Server(state) => match input {
                Input::Init | Input::Restart => {}
                Input::Message { from, msg } => server_step(state, ctx, from, msg, fx),
                other => unreachable!("{}: a server got {other:?}", ctx.id),
            },
            LeaseNode::Storage {
                max_token,
                accepted,
            } => match input {
                Input::Init | Input::Restart => {}
                Input::Message {
                    from,
                    msg: LeaseMsg::Write { token, .. },
                } => storage_write(max_token, accepted, ctx, from, token, fx),
                other => unreachable!("{}: the storage got {other:?}", ctx.id),
            },
            LeaseNode::Client {
                attempt,
                phase,
                pending,
                seq,
            } => {
                let mut client = ClientState {
                    attempt,
                    phase,
                    pending,
                    seq,
                };
                match input {
                    Input::Init | Input::Restart => {
                        let (min, max) = ctx.config.start_us;
                        fx.set_timer(LeaseTimer::Acquire, min, max);
                    }
                    Input::Timer(LeaseTimer::Acquire) => client.on_acquire_timeout(ctx, fx),
                    Input::Timer(LeaseTimer::Work) => client.on_work_timeout(ctx, fx),
                    Input::Timer(LeaseTimer::Write) => client.on_write_timeout(ctx, fx),
                    Input::Message { from, msg } => match msg {
                        LeaseMsg::QueryReply { attempt, max_token } => {
                            client.on_query_reply(ctx, from, attempt, max_token, fx)
                        }
                        LeaseMsg::GrantReply { token, ok } => {
                            client.on_grant_reply(ctx, from, token, ok, fx)
                        }
                        LeaseMsg::RenewReply { token, ok } => {
                            client.on_renew_reply(ctx, from, token, ok, fx)
                        }
                        other => unreachable!("{}: a client got {other:?} from {from}", ctx.id),
                    },
                    Input::Client { .. } => unreachable!("lease registers no workload"),
                }
            }
        }
    }

    fn role(&self) -> &'static str {
        match self {
            LeaseNode::Server(_) => "server",
            LeaseNode::Storage { .. } => "storage",
            LeaseNode::Client {
                phase: ClientPhase::Holding { .. },
                ..
            } => "holder",
            LeaseNode::Client { .. } => "client",
        }
    }
}

const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "server",
        colour: "#6a51a3",
        leader: false,
    },
    RoleInfo {
        name: "client",
        colour: "#9ecae1",
        leader: false,
    },
    RoleInfo {
        name: "holder",
        colour: "#31a354",
        leader: false,
    },
    RoleInfo {
        name: "storage",
        colour: "#fd8d3c",
        leader: false,
    },
];

/// The lock service's `[params]`. `nodes` must be `servers + clients + 1`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseParams {
    /// Lock servers: nodes `0..servers` (a majority grants the lease).
    #[serde(default = "LeaseParams::default_servers")]
    pub servers: u32,
    /// Lock clients: the nodes after the servers; the storage is the last node.
    #[serde(default = "LeaseParams::default_clients")]
    pub clients: u32,
    /// How long a lease lasts, in ms.
    #[serde(default = "LeaseParams::default_ttl_ms")]
    pub ttl_ms: u64,
    /// How much earlier than the lease a client stops trusting it, in ms (for drift).
    #[serde(default = "LeaseParams::default_margin_ms")]
    pub margin_ms: u64,
    /// When clients first try for the lock, `[min, max]` ms.
    #[serde(
        default = "LeaseParams::default_start_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub start_ms: [u64; 2],
    /// How long a client waits before trying again, `[min, max]` ms.
    #[serde(
        default = "LeaseParams::default_retry_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub retry_ms: [u64; 2],
    /// A holder's work period (check the lease, renew, start a write), `[min, max]` ms.
    #[serde(
        default = "LeaseParams::default_work_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub work_ms: [u64; 2],
    /// How long a write takes from the lease check to its send, `[min, max]` ms.
    #[serde(
        default = "LeaseParams::default_write_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub write_ms: [u64; 2],
    /// Writes a holder makes before it releases the lock.
    #[serde(default = "LeaseParams::default_writes_per_lease")]
    pub writes_per_lease: u32,
}

impl LeaseParams {
    fn default_servers() -> u32 {
        3
    }
    fn default_clients() -> u32 {
        2
    }
    fn default_ttl_ms() -> u64 {
        100
    }
    fn default_margin_ms() -> u64 {
        10
    }
    fn default_start_ms() -> [u64; 2] {
        [1, 20]
    }
    fn default_retry_ms() -> [u64; 2] {
        [20, 60]
    }
    fn default_work_ms() -> [u64; 2] {
        [15, 25]
    }
    fn default_write_ms() -> [u64; 2] {
        [5, 15]
    }
    fn default_writes_per_lease() -> u32 {
        8
    }

    fn config(self, setup: Setup<Mutant>) -> Result<LeaseConfig, ConfigError> {
        let error = |field: &str, message: String, fix: String| ConfigError {
            field: field.to_string(),
            message,
            fix,
        };
        if self.servers == 0 || self.clients == 0 {
            return Err(error(
                "servers",
                format!(
                    "{} servers and {} clients: the service needs at least one of each",
                    self.servers, self.clients
                ),
                "write e.g. `servers = 3` and `clients = 2`".to_string(),
            ));
        }
        let wanted = self.servers.saturating_add(self.clients).saturating_add(1);
        if setup.cluster_size != wanted {
            return Err(error(
                "clients",
                format!(
                    "{} servers, {} clients and the storage make {wanted} nodes, but the \
                     scenario has {}",
                    self.servers, self.clients, setup.cluster_size
                ),
                format!("set `nodes = {wanted}`, or change `servers`/`clients`"),
            ));
        }
        if self.ttl_ms == 0 || self.margin_ms >= self.ttl_ms || self.ttl_ms > 3_600_000 {
            return Err(error(
                "margin_ms",
                format!(
                    "a lease of {} ms with a safety margin of {} ms leaves no time to hold it",
                    self.ttl_ms, self.margin_ms
                ),
                "use 0 < margin_ms < ttl_ms <= 3600000, e.g. `ttl_ms = 100`, `margin_ms = 10`"
                    .to_string(),
            ));
        }
        let work_us = range_us("work_ms", self.work_ms)?;
        let retry_us = range_us("retry_ms", self.retry_ms)?;
        for (field, (min, _)) in [("work_ms", work_us), ("retry_ms", retry_us)] {
            if min == 0 {
                return Err(error(
                    field,
                    "a period of 0 ms would loop without time passing".to_string(),
                    format!("write e.g. `{field} = [10, 20]`"),
                ));
            }
        }
        Ok(LeaseConfig {
            servers: self.servers,
            clients: self.clients,
            ttl_us: self.ttl_ms * 1000,
            margin_us: self.margin_ms * 1000,
            start_us: range_us("start_ms", self.start_ms)?,
            retry_us,
            work_us,
            write_us: range_us("write_ms", self.write_ms)?,
            writes_per_lease: self.writes_per_lease.max(1),
            mutant: setup.mutant,
        })
    }
}

/// The `lease` protocol's registration.
pub fn registration() -> Registration<LeaseNode> {
    Registration::new(
        "lease",
        "a lock service: leases granted by a majority of servers with increasing fencing tokens; clients write to a storage that fences stale tokens",
    )
    .params::<LeaseParams, Mutant>(|params, setup| params.config(setup))
    .roles(ROLES)
    .message_kinds(MESSAGE_KINDS)
    .reads_clock()
    // Random faults leave a majority of three servers: one node at a time.
    .fault_bound(|_| FaultBound {
        crashed: 1,
        byzantine: 0,
    })
}
