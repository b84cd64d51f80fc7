//! Single-decree Paxos (Lamport, "Paxos Made Simple", 2001, §2): every node is a proposer,
//! an acceptor and a learner, and the cluster chooses one value.
//!
//! A proposer picks a ballot higher than any it has seen and sends `prepare` (phase 1a).
//! An acceptor promises never to accept a lower ballot, persists the promise, and replies
//! with the highest-ballot value it has accepted (phase 1b); a lower ballot gets a `nack`
//! naming the promise. With promises from a majority the proposer sends `accept` with the
//! value of the highest-ballot acceptance they reported, or its own value if none did
//! (phase 2a, §2.2 P2c). An acceptor accepts unless it promised a higher ballot, persists
//! the acceptance and tells every learner (phase 2b); a learner that hears the same ballot
//! and value from a majority has learnt the chosen value (§2.3) and persists it.
//!
//! Liveness (§2.4) needs one distinguished proposer: here a proposer that is refused waits
//! a randomised, growing backoff before its next ballot, so after GST one proposer runs
//! both phases undisturbed. With `backoff_ms = [0, 0]` it retries at once, and two
//! proposers can preempt each other forever (the dueling-proposers livelock).
//!
//! A node's own messages to itself are handled in the same step that sends them: its
//! acceptor persists its promise of its own ballot in the step that sends the prepare,
//! which is what keeps ballots unique across restarts (a proposer's next round is above
//! every promise its acceptor persisted).

mod invariants;
mod mutants;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::*;

pub(crate) use invariants::accepted_within_promise;
pub use invariants::PaxosChecker;
pub use mutants::Mutant;

/// A proposed value. Node `i` proposes `100 + i`.
pub type Value = u64;

/// The value node `id` proposes when no acceptance constrains it.
pub fn own_value(id: NodeId) -> Value {
    100 + u64::from(id.0)
}

/// A ballot: rounds are ordered, and the proposer's id breaks ties, so no two proposers
/// ever share one.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Ballot {
    pub round: u64,
    pub node: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaxosMsg {
    /// Phase 1a.
    Prepare { ballot: Ballot },
    /// Phase 1b: the acceptor's highest-ballot acceptance, if any.
    Promise {
        ballot: Ballot,
        accepted: Option<(Ballot, Value)>,
    },
    /// A refused prepare or accept: the acceptor promised `promised`.
    Nack { ballot: Ballot, promised: Ballot },
    /// Phase 2a.
    Accept { ballot: Ballot, value: Value },
    /// Phase 2b, sent to every learner.
    Accepted { ballot: Ballot, value: Value },
}

impl Ballot {
    /// `node`'s next ballot: a round above both `round` (the highest it has used or seen,
    /// which becomes the new one) and its acceptor's persisted promise, so its ballots stay
    /// unique across restarts (shared with Multi-Paxos's phase 1).
    pub fn next(round: &mut u64, promised: Option<Ballot>, node: NodeId) -> Ballot {
        let promised_round = promised.map_or(0, |ballot| ballot.round);
        *round = (*round).max(promised_round) + 1;
        Ballot {
            round: *round,
            node: node.0,
        }
    }
}

impl std::fmt::Display for Ballot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({}, n{})", self.round, self.node)
    }
}

impl Message for PaxosMsg {
    fn kind(&self) -> &'static str {
        match self {
            PaxosMsg::Prepare { .. } => "prepare",
            PaxosMsg::Promise { .. } => "promise",
            PaxosMsg::Nack { .. } => "nack",
            PaxosMsg::Accept { .. } => "accept",
            PaxosMsg::Accepted { .. } => "accepted",
        }
    }
    fn size_bytes(&self) -> u32 {
        48
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum PaxosTimer {
    /// Start (or restart, with a higher ballot) phase 1.
    Propose,
}

impl TimerName for PaxosTimer {
    fn kind(&self) -> &'static str {
        "propose_timeout"
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaxosObs {
    /// A proposer starts phase 1 with `ballot`; `value` is its own proposal.
    Prepare { ballot: Ballot, value: Value },
    /// A proposer starts phase 2.
    Propose { ballot: Ballot, value: Value },
    /// An acceptor promised `ballot`.
    Promised { ballot: Ballot },
    /// An acceptor accepted.
    Accepted { ballot: Ballot, value: Value },
    /// A learner learnt the chosen value.
    Decided { value: Value },
}

impl Observation for PaxosObs {
    const KINDS: &'static [&'static str] =
        &["prepare", "propose", "promised", "accepted", "decided"];
    fn kind(&self) -> &'static str {
        match self {
            PaxosObs::Prepare { .. } => "prepare",
            PaxosObs::Propose { .. } => "propose",
            PaxosObs::Promised { .. } => "promised",
            PaxosObs::Accepted { .. } => "accepted",
            PaxosObs::Decided { .. } => "decided",
        }
    }
}

/// Paxos takes no client requests.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub enum NoReply {}

impl ClientReply for NoReply {
    fn outcome(&self) -> ReplyOutcome {
        match *self {}
    }
}

/// What survives a crash: the acceptor's promise and acceptance, and what the learner learnt.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, Serialize)]
pub struct PaxosDurable {
    pub promised: Option<Ballot>,
    pub accepted: Option<(Ballot, Value)>,
    pub decided: Option<Value>,
}

/// Where the node's proposer is.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Preparing {
        ballot: Ballot,
        promises: BTreeSet<NodeId>,
        highest: Option<(Ballot, Value)>,
    },
    Accepting {
        ballot: Ballot,
        value: Value,
    },
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Paxos {
    pub durable: PaxosDurable,
    /// The highest round this proposer has used or been refused by (volatile: after a
    /// restart the persisted promise bounds it from below).
    pub round: u64,
    pub phase: Phase,
    /// Refusals in a row, for the growing backoff (capped, to keep states finite).
    refusals: u64,
    /// The learner's count: which acceptors accepted each (ballot, value).
    learnt: BTreeMap<(Ballot, Value), BTreeSet<NodeId>>,
}

/// The backoff grows linearly with refusals up to this many.
const REFUSALS_MAX: u64 = 8;

#[derive(Clone, Debug)]
pub struct PaxosConfig {
    /// `proposes_at_start[i]`: node `i` starts phase 1 within `start_us`; the others only
    /// if nothing was learnt within `retry_us`.
    pub proposes_at_start: Vec<bool>,
    pub start_us: (u64, u64),
    pub retry_us: (u64, u64),
    /// `None`: a refused proposer retries at once.
    pub backoff_us: Option<(u64, u64)>,
    pub mutant: Option<Mutant>,
}

impl Paxos {
    fn mutant(ctx: &Ctx<'_, PaxosConfig>, mutant: Mutant) -> bool {
        ctx.config.mutant == Some(mutant)
    }

    fn persist(&self, fx: &mut Effects<Paxos>) {
        fx.persist(self.durable.clone());
    }

    /// Send `msg` to every peer, then handle this node's own copy in this step.
    fn send_all(&mut self, ctx: &Ctx<'_, PaxosConfig>, msg: PaxosMsg, fx: &mut Effects<Paxos>) {
        fx.broadcast(ctx, msg.clone());
        self.on_message(ctx, ctx.id, msg, fx);
    }

    fn send_to(
        &mut self,
        ctx: &Ctx<'_, PaxosConfig>,
        to: NodeId,
        msg: PaxosMsg,
        fx: &mut Effects<Paxos>,
    ) {
        if to == ctx.id {
            self.on_message(ctx, to, msg, fx);
        } else {
            fx.send(to, msg);
        }
    }

    fn on_message(
        &mut self,
        ctx: &Ctx<'_, PaxosConfig>,
        from: NodeId,
        msg: PaxosMsg,
        fx: &mut Effects<Paxos>,
    ) {
        match msg {
            PaxosMsg::Prepare { ballot } => self.on_prepare(ctx, from, ballot, fx),
            PaxosMsg::Promise { ballot, accepted } => {
                self.on_promise(ctx, from, ballot, accepted, fx)
            }
            PaxosMsg::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised, fx),
            PaxosMsg::Accept { ballot, value } => self.on_accept(ctx, from, ballot, value, fx),
            PaxosMsg::Accepted { ballot, value } => self.on_accepted(ctx, from, ballot, value, fx),
        }
    }

    fn on_propose_timeout(&mut self, ctx: &Ctx<'_, PaxosConfig>, fx: &mut Effects<Paxos>) {
        if self.durable.decided.is_some() {
            return;
        }
        let ballot = Ballot::next(&mut self.round, self.durable.promised, ctx.id);
        self.phase = Phase::Preparing {
            ballot,
            promises: BTreeSet::new(),
            highest: None,
        };
        fx.observe(PaxosObs::Prepare {
            ballot,
            value: own_value(ctx.id),
        });
        // If this ballot stalls (lost messages, a crashed majority), try a higher one.
        let (min, max) = ctx.config.retry_us;
        fx.set_timer(PaxosTimer::Propose, min, max);
        self.send_all(ctx, PaxosMsg::Prepare { ballot }, fx);
    }

    /// Phase 1b (§2.2): promise a ballot above every earlier promise, durably, first.
    fn on_prepare(
        &mut self,
        ctx: &Ctx<'_, PaxosConfig>,
        from: NodeId,
        ballot: Ballot,
        fx: &mut Effects<Paxos>,
    ) {
        match self.durable.promised {
            Some(promised) if ballot <= promised => {
                self.send_to(ctx, from, PaxosMsg::Nack { ballot, promised }, fx);
            }
            _ => {
                self.durable.promised = Some(ballot);
                if !Self::mutant(ctx, Mutant::VolatilePromise) {
                    self.persist(fx);
                }
                fx.observe(PaxosObs::Promised { ballot });
                let accepted = self.durable.accepted;
                self.send_to(ctx, from, PaxosMsg::Promise { ballot, accepted }, fx);
            }
        }
    }

    fn on_promise(
        &mut self,
        ctx: &Ctx<'_, PaxosConfig>,
        from: NodeId,
        ballot: Ballot,
        accepted: Option<(Ballot, Value)>,
        fx: &mut Effects<Paxos>,
    ) {
        let Phase::Preparing {
            ballot: current,
            promises,
            highest,
        } = &mut self.phase
        else {
            return;
        };
        if *current != ballot {
            return;
        }
        promises.insert(from);
        if accepted > *highest {
            *highest = accepted;
        }
        let needed = if Self::mutant(ctx, Mutant::MinorityPromises) {
            (ctx.majority() - 1).max(1)
        } else {
            ctx.majority()
        };
        if promises.len() < needed {
            return;
        }
        // Phase 2a (§2.2, P2c): the value of the highest-ballot acceptance reported, else
        // this proposer's own.
        let value = match highest {
            Some((_, value)) if !Self::mutant(ctx, Mutant::ProposeOwnValue) => *value,
            _ => own_value(ctx.id),
        };
        self.phase = Phase::Accepting { ballot, value };
        fx.observe(PaxosObs::Propose { ballot, value });
        self.send_all(ctx, PaxosMsg::Accept { ballot, value }, fx);
    }

    fn on_nack(
        &mut self,
        ctx: &Ctx<'_, PaxosConfig>,
        ballot: Ballot,
        promised: Ballot,
        fx: &mut Effects<Paxos>,
    ) {
        let current = match &self.phase {
            Phase::Preparing { ballot, .. } | Phase::Accepting { ballot, .. } => *ballot,
            Phase::Idle => return,
        };
        if current != ballot || self.durable.decided.is_some() {
            return;
        }
        // Preempted: the next ballot must be above the one that won the acceptor.
        self.round = self.round.max(promised.round);
        self.phase = Phase::Idle;
        self.refusals = (self.refusals + 1).min(REFUSALS_MAX);
        match ctx.config.backoff_us {
            Some((min, max)) => {
                fx.set_timer(PaxosTimer::Propose, min, max.saturating_mul(self.refusals));
            }
            None => self.on_propose_timeout(ctx, fx),
        }
    }

    /// Phase 2b (§2.2): accept unless a higher ballot was promised, durably, then tell
    /// every learner.
    fn on_accept(
        &mut self,
        ctx: &Ctx<'_, PaxosConfig>,
        from: NodeId,
        ballot: Ballot,
        value: Value,
        fx: &mut Effects<Paxos>,
    ) {
        if let Some(promised) = self.durable.promised {
            let refused = if Self::mutant(ctx, Mutant::StrictAcceptBallot) {
                ballot <= promised
            } else {
                ballot < promised
            };
            if refused {
                self.send_to(ctx, from, PaxosMsg::Nack { ballot, promised }, fx);
                return;
            }
        }
        self.durable.promised = Some(ballot);
        self.durable.accepted = Some((ballot, value));
        self.persist(fx);
        fx.observe(PaxosObs::Accepted { ballot, value });
        self.send_all(ctx, PaxosMsg::Accepted { ballot, value }, fx);
    }

    /// The learner (§2.3): a value is chosen when a majority accepted it in one ballot.
    fn on_accepted(
        &mut self,
        ctx: &Ctx<'_, PaxosConfig>,
        from: NodeId,
        ballot: Ballot,
        value: Value,
        fx: &mut Effects<Paxos>,
    ) {
        if self.durable.decided.is_some() {
            return;
        }
        let acceptors = self.learnt.entry((ballot, value)).or_default();
        acceptors.insert(from);
        if acceptors.len() < ctx.majority() {
            return;
        }
        self.durable.decided = Some(value);
        self.learnt.clear();
        self.phase = Phase::Idle;
        self.persist(fx);
        fx.observe(PaxosObs::Decided { value });
        fx.cancel_timer(PaxosTimer::Propose);
    }

    fn arm_first_proposal(&self, ctx: &Ctx<'_, PaxosConfig>, fx: &mut Effects<Paxos>) {
        if self.durable.decided.is_some() {
            return;
        }
        let proposes = ctx.config.proposes_at_start[ctx.id.index()];
        let (min, max) = if proposes {
            ctx.config.start_us
        } else {
            ctx.config.retry_us
        };
        fx.set_timer(PaxosTimer::Propose, min, max);
    }
}

impl Protocol for Paxos {
    type Config = PaxosConfig;
    type Msg = PaxosMsg;
    type Timer = PaxosTimer;
    type Durable = PaxosDurable;
    type Op = ();
    type Reply = NoReply;
    type Obs = PaxosObs;
    type Checker = PaxosChecker;

    fn new(ctx: &Ctx<'_, PaxosConfig>) -> Paxos {
        Paxos::recover(ctx, None)
    }

    fn recover(_ctx: &Ctx<'_, PaxosConfig>, durable: Option<&PaxosDurable>) -> Paxos {
        Paxos {
            durable: durable.cloned().unwrap_or_default(),
            round: 0,
            phase: Phase::Idle,
            refusals: 0,
            learnt: BTreeMap::new(),
        }
    }

    fn step(&mut self, ctx: &Ctx<'_, PaxosConfig>, input: Input<Paxos>, fx: &mut Effects<Paxos>) {
        match input {
            Input::Init | Input::Restart => self.arm_first_proposal(ctx, fx),
            Input::Timer(PaxosTimer::Propose) => self.on_propose_timeout(ctx, fx),
            Input::Message { from, msg } => self.on_message(ctx, from, msg, fx),
            Input::Client { .. } => unreachable!("paxos registers no workload"),
        }
    }

    fn role(&self) -> &'static str {
        if self.durable.decided.is_some() {
            return "decided";
        }
        match self.phase {
            Phase::Idle => "idle",
            Phase::Preparing { .. } => "preparing",
            Phase::Accepting { .. } => "accepting",
        }
    }
}

const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "idle",
        colour: "#9ecae1",
        leader: false,
    },
    RoleInfo {
        name: "preparing",
        colour: "#fd8d3c",
        leader: false,
    },
    RoleInfo {
        name: "accepting",
        colour: "#e6550d",
        leader: false,
    },
    RoleInfo {
        name: "decided",
        colour: "#31a354",
        leader: false,
    },
];

/// Paxos's `[params]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaxosParams {
    /// The nodes that propose at start (default: every node); the others propose only if
    /// they learn nothing within `retry_ms`.
    pub proposers: Option<Vec<u32>>,
    /// When a proposer starts, in ms, `[min, max]`.
    #[serde(
        default = "PaxosParams::default_start_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub start_ms: [u64; 2],
    /// How long a ballot may stall before the proposer tries a higher one, `[min, max]`.
    #[serde(
        default = "PaxosParams::default_retry_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub retry_ms: [u64; 2],
    /// The randomised backoff after a refusal, `[min, max]`; `max` grows with each refusal
    /// in a row (up to 8 times). `[0, 0]`: retry at once (no backoff).
    #[serde(
        default = "PaxosParams::default_backoff_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub backoff_ms: [u64; 2],
}

impl PaxosParams {
    fn default_start_ms() -> [u64; 2] {
        [0, 5]
    }
    fn default_retry_ms() -> [u64; 2] {
        [40, 80]
    }
    fn default_backoff_ms() -> [u64; 2] {
        [1, 20]
    }

    fn config(self, setup: Setup<Mutant>) -> Result<PaxosConfig, ConfigError> {
        let nodes = setup.cluster_size;
        let proposers = self.proposers.unwrap_or_else(|| (0..nodes).collect());
        if proposers.is_empty() {
            return Err(ConfigError {
                field: "proposers".to_string(),
                message: "no proposer: nothing would ever be proposed".to_string(),
                fix: "name at least one node, e.g. `proposers = [0]`".to_string(),
            });
        }
        if let Some(bad) = proposers.iter().find(|&&id| id >= nodes) {
            return Err(ConfigError {
                field: "proposers".to_string(),
                message: format!("node {bad} does not exist in a cluster of {nodes}"),
                fix: format!("use node ids 0..{}", nodes.saturating_sub(1)),
            });
        }
        let start_us = range_us("start_ms", self.start_ms)?;
        let retry_us = range_us("retry_ms", self.retry_ms)?;
        if retry_us.0 == 0 {
            return Err(ConfigError {
                field: "retry_ms".to_string(),
                message: "a retry timeout of 0 ms retries before any reply can arrive".to_string(),
                fix: "write e.g. `retry_ms = [40, 80]`".to_string(),
            });
        }
        let backoff_us = range_us("backoff_ms", self.backoff_ms)?;
        Ok(PaxosConfig {
            proposes_at_start: (0..nodes).map(|id| proposers.contains(&id)).collect(),
            start_us,
            retry_us,
            backoff_us: (backoff_us.1 > 0).then_some(backoff_us),
            mutant: setup.mutant,
        })
    }
}

/// A `[min, max]` range in ms as microseconds, refused unless min <= max.
pub(crate) fn range_us(field: &str, [min, max]: [u64; 2]) -> Result<(u64, u64), ConfigError> {
    const MS_MAX: u64 = 3_600_000;
    if min > max || max > MS_MAX {
        return Err(ConfigError {
            field: field.to_string(),
            message: format!("[{min}, {max}]: expected [min, max] with min <= max <= {MS_MAX}"),
            fix: format!("write e.g. `{field} = [10, 50]`"),
        });
    }
    Ok((min * 1000, max * 1000))
}

/// The model checker's bound on Paxos.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaxosCheckBounds {
    /// The highest ballot round a node may use or promise (so proposals stop).
    pub max_round: Option<u64>,
}

impl PaxosCheckBounds {
    fn within(&self, node: &Paxos) -> bool {
        let promised = node.durable.promised.map_or(0, |ballot| ballot.round);
        self.max_round
            .is_none_or(|max| node.round <= max && promised <= max)
    }
}

/// Paxos is safe with any number of crashes and live with a majority up.
pub fn fault_bound(cluster_size: u32) -> FaultBound {
    FaultBound {
        crashed: cluster_size.saturating_sub(1) / 2,
        byzantine: 0,
    }
}

/// The `paxos` protocol's registration.
pub fn registration() -> Registration<Paxos> {
    Registration::new(
        "paxos",
        "single-decree Paxos (Lamport 2001): prepare/promise, accept/accepted, one value chosen",
    )
    .params::<PaxosParams, Mutant>(|params, setup| params.config(setup))
    .roles(ROLES)
    .fault_bound(fault_bound)
    .check_bounds::<PaxosCheckBounds>(PaxosCheckBounds::within)
    .trace_state(trace_state)
}

/// What trace validation (`quorumlab tlc --validate-trace`, `tla/TracePaxos.tla`) compares
/// after every step: the acceptor's promise and acceptance (`Paxos.tla`'s `promised` and
/// `accepted`), the learner's decided value, and the proposer's phase, ballot, the
/// acceptors whose promises it counted and the value of its phase 2a (the trace spec's
/// auxiliary variables). The refusal count and the learner's tally are left out: the
/// trace spec recomputes the tally from the messages, and the backoff is not modelled.
fn trace_state(node: &Paxos) -> serde_json::Value {
    let (phase, ballot, promises, value) = match &node.phase {
        Phase::Idle => ("idle", None, Vec::new(), None),
        Phase::Preparing {
            ballot, promises, ..
        } => (
            "preparing",
            Some(*ballot),
            promises.iter().map(|id| id.0).collect(),
            None,
        ),
        Phase::Accepting { ballot, value } => {
            ("accepting", Some(*ballot), Vec::new(), Some(*value))
        }
    };
    serde_json::json!({
        "promised": node.durable.promised,
        "accepted": node.durable.accepted,
        "decided": node.durable.decided,
        "phase": phase,
        "ballot": ballot,
        "promises": promises,
        "value": value,
    })
}
