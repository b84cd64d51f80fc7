//! The protocol interface: a node is a pure step function from (state, input) to
//! (new state, ordered effects).
//!
//! A protocol never reads time, owns an RNG, or does I/O. Randomness enters as input
//! (a timer's delay is a *range*; the simulator draws from it, the model checker branches
//! on it). Durability is an effect: `Persist` carries the durable part of the state, and
//! the simulator may crash a node between a `Persist` and the sends that follow it.

use std::fmt::{self, Debug};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// Simulated time in integer microseconds.
pub type TimeUs = u64;

/// A node of the cluster, numbered from 0.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

impl NodeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// A simulated client, numbered from 0.
pub type ClientId = u32;

/// What a node knows of its surroundings: its own id, the cluster size and the cluster's
/// configuration (shared by reference: no node keeps a copy, so a configuration is never
/// part of a node's state or of a model checker's state), and, for a protocol whose
/// registration declares that it reads one (`Registration::reads_clock`), its node's
/// local clock. Nothing else (no randomness, no real time) reaches a protocol.
#[derive(Debug)]
pub struct Ctx<'a, C> {
    pub id: NodeId,
    pub cluster_size: u32,
    pub config: &'a C,
    /// The node's local clock at this step: set by the harness only for a protocol that
    /// declared it reads it, so a protocol that did not cannot come to depend on time.
    clock_us: Option<TimeUs>,
}

impl<'a, C> Ctx<'a, C> {
    /// A context without a clock.
    pub fn new(id: NodeId, cluster_size: u32, config: &'a C) -> Self {
        Ctx {
            id,
            cluster_size,
            config,
            clock_us: None,
        }
    }

    /// This context with the node's local clock reading `clock_us` (the simulator: real
    /// time with the node's skew and drift; the model checker: the node's abstract clock).
    pub fn with_clock(self, clock_us: TimeUs) -> Self {
        Ctx {
            clock_us: Some(clock_us),
            ..self
        }
    }

    /// The node's local clock, in microseconds: an input like a message, which may be
    /// skewed from real time and from other nodes' clocks, and may drift. Only a
    /// protocol whose registration sets `reads_clock` may read it.
    pub fn local_clock_us(&self) -> TimeUs {
        self.clock_us.expect(
            "the protocol read its local clock, but its registration does not declare \
             `reads_clock()`, so the harness gives it none",
        )
    }
}

impl<C> Clone for Ctx<'_, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C> Copy for Ctx<'_, C> {}

impl<C> Ctx<'_, C> {
    /// Every node but this one, in id order.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.cluster_size)
            .map(NodeId)
            .filter(move |&n| n != self.id)
    }

    /// The smallest number of nodes that is a majority of the cluster.
    pub fn majority(&self) -> usize {
        self.cluster_size as usize / 2 + 1
    }
}

/// One input to a node's step function. The set is closed: everything a node ever
/// reacts to is one of these.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Input<P: Protocol> {
    /// First start of a node whose state was built by `Protocol::new`.
    Init,
    /// Start after a crash; the state was rebuilt by `Protocol::recover` from what the
    /// node last persisted.
    Restart,
    /// A message from a peer.
    Message { from: NodeId, msg: P::Msg },
    /// A named timer fired.
    Timer(P::Timer),
    /// A client request. `request` is the client's request id; a retried request keeps it.
    Client {
        client: ClientId,
        request: u64,
        op: P::Op,
    },
}

impl<P: Protocol> Input<P> {
    /// The name of this input in traces (matches the TLA+ action vocabulary where one exists).
    pub fn kind(&self) -> &'static str {
        match self {
            Input::Init => "init",
            Input::Restart => "restart",
            Input::Message { msg, .. } => msg.kind(),
            Input::Timer(timer) => timer.kind(),
            Input::Client { .. } => "client_request",
        }
    }
}

/// One effect of a step. Effects are applied in the order they were written.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Effect<P: Protocol> {
    Send {
        to: NodeId,
        msg: P::Msg,
    },
    /// Arm (or re-arm) a named timer; the delay is drawn from `min_us..=max_us`.
    SetTimer {
        timer: P::Timer,
        min_us: TimeUs,
        max_us: TimeUs,
    },
    CancelTimer {
        timer: P::Timer,
    },
    /// Make this the durable state: what `Protocol::recover` gets after a crash.
    Persist(P::Durable),
    Reply {
        client: ClientId,
        request: u64,
        reply: P::Reply,
    },
    Observe(P::Obs),
}

/// The ordered effects of one step. The simulator reuses one buffer across steps.
#[derive(Debug)]
pub struct Effects<P: Protocol> {
    list: Vec<Effect<P>>,
}

impl<P: Protocol> Default for Effects<P> {
    fn default() -> Self {
        Effects { list: Vec::new() }
    }
}

impl<P: Protocol> Effects<P> {
    pub fn send(&mut self, to: NodeId, msg: P::Msg) {
        self.list.push(Effect::Send { to, msg });
    }

    /// Send `msg` to every peer of `ctx.id`, in id order.
    pub fn broadcast(&mut self, ctx: &Ctx<'_, P::Config>, msg: P::Msg) {
        for peer in ctx.peers() {
            self.send(peer, msg.clone());
        }
    }

    pub fn set_timer(&mut self, timer: P::Timer, min_us: TimeUs, max_us: TimeUs) {
        assert!(
            min_us <= max_us,
            "timer {timer:?}: min_us {min_us} > max_us {max_us}"
        );
        self.list.push(Effect::SetTimer {
            timer,
            min_us,
            max_us,
        });
    }

    pub fn cancel_timer(&mut self, timer: P::Timer) {
        self.list.push(Effect::CancelTimer { timer });
    }

    pub fn persist(&mut self, durable: P::Durable) {
        self.list.push(Effect::Persist(durable));
    }

    pub fn reply(&mut self, client: ClientId, request: u64, reply: P::Reply) {
        self.list.push(Effect::Reply {
            client,
            request,
            reply,
        });
    }

    pub fn observe(&mut self, observation: P::Obs) {
        self.list.push(Effect::Observe(observation));
    }

    pub fn as_slice(&self) -> &[Effect<P>] {
        &self.list
    }

    /// The effects, for a Byzantine strategy to rewrite before they are applied
    /// (`crate::byzantine`).
    pub fn list_mut(&mut self) -> &mut Vec<Effect<P>> {
        &mut self.list
    }

    pub fn clear(&mut self) {
        self.list.clear();
    }

    pub fn drain(&mut self) -> std::vec::Drain<'_, Effect<P>> {
        self.list.drain(..)
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Messages name their kind (for traces and message counts) and their size on the wire
/// (for the bandwidth model).
pub trait Message: Clone + Debug + Hash + Eq + Ord + Serialize + Send + Sync + 'static {
    fn kind(&self) -> &'static str;
    fn size_bytes(&self) -> u32;
}

/// Timers are named; a node has at most one armed timer of each name.
pub trait TimerName: Copy + Debug + Hash + Eq + Ord + Serialize + Send + Sync + 'static {
    fn kind(&self) -> &'static str;
}

/// Observations are what checkers, metrics and reports consume.
pub trait Observation: Clone + Debug + Hash + Eq + Serialize + Send + Sync + 'static {
    /// Every name `kind` can return: a scenario's `sometimes` may name only these (a
    /// misspelt one is refused when the scenario is bound, not reported at the run's end).
    const KINDS: &'static [&'static str];
    fn kind(&self) -> &'static str;
}

/// What a reply means to a simulated client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyOutcome {
    /// The operation took effect (or, for a read, returned a value).
    Ok,
    /// Not here: retry at the given node, or at another one when no hint is known.
    Redirect(Option<NodeId>),
    /// The operation definitely did not take effect.
    Failed,
}

pub trait ClientReply: Clone + Debug + Hash + Eq + Serialize + Send + Sync + 'static {
    fn outcome(&self) -> ReplyOutcome;
}

/// A deliberately broken variant of a protocol, selectable with `--mutant NAME`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MutantInfo {
    pub name: &'static str,
    /// What the bug is, in one sentence, and which real systems shipped it when known.
    pub description: &'static str,
    /// `true` when the bug shows as a liveness failure rather than a safety violation.
    pub liveness: bool,
}

/// A named property checked by the protocol's checker.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PropertyInfo {
    pub name: &'static str,
    pub description: &'static str,
}

/// How many faults of each kind the protocol claims to tolerate in a cluster of `n`.
/// Random faults stay inside these unless a scenario sets `exceed_fault_bound = true`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct FaultBound {
    /// Nodes that may be down at once.
    pub crashed: u32,
    /// Nodes that may be Byzantine.
    pub byzantine: u32,
}

/// A property failed. `property` is one of the checker's property names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Violation {
    pub property: &'static str,
    pub detail: String,
}

impl Violation {
    pub fn new(property: &'static str, detail: impl Into<String>) -> Violation {
        Violation {
            property,
            detail: detail.into(),
        }
    }
}

/// A bad protocol parameter in a scenario's `[protocol]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, as written in the scenario (e.g. `election_timeout_ms`).
    pub field: String,
    pub message: String,
    pub fix: String,
}

/// The cluster as the checker sees it: each node's current state, `None` while crashed.
pub type NodesView<'a, P> = &'a [Option<P>];

/// The protocol's checker: ghost state (history that no node holds, e.g. every leader
/// ever seen per term) plus the invariant functions over it and the nodes' states.
///
/// The simulator calls `on_step` after every step, with the observations that step
/// emitted, so checks can be incremental: a step can only have changed the stepping
/// node. `check_all` checks everything from scratch (the model checker uses it).
pub trait Checker<P: Protocol>: Clone + Debug + Default + Hash + Eq + Send + Sync {
    /// Every safety property this checker can report.
    fn properties() -> &'static [PropertyInfo];

    /// Called just before `stepped` takes `input`: a checker that judges a step by what
    /// came in (Raft: "a message with a higher term makes its receiver a follower", §5.1)
    /// notes here what it needs from the input and the state before; `on_step` follows.
    /// Whatever it notes must be cleared by `on_step`, so that it is never part of the
    /// state between steps. The default notes nothing.
    fn before_step(&mut self, _nodes: NodesView<'_, P>, _stepped: NodeId, _input: &Input<P>) {}

    /// Called for each effect of `stepped`'s step as it is applied, in order, between
    /// `before_step` and `on_step` (not for effects lost when the node crashes within its
    /// step). For rules about what a step *does* (Raft: "a client hears only of committed
    /// entries", "a follower re-arms its election timer only for the current leader or a
    /// vote it grants"): what it notes for `on_step` must be cleared there, like
    /// `before_step`'s notes. A `Persist` shows what a restart would recover from, for
    /// rules about stable storage (Raft: "a committed entry is stored on a majority");
    /// such ghost state may outlive the step. The default notes nothing.
    fn on_effect(&mut self, _stepped: NodeId, _effect: &Effect<P>) {}

    /// Update ghost state and check what the step of `stepped` could have broken.
    fn on_step(
        &mut self,
        nodes: NodesView<'_, P>,
        stepped: NodeId,
        observations: &[P::Obs],
    ) -> Result<(), Violation>;

    /// Check every invariant over the whole cluster (not incremental).
    fn check_all(&self, nodes: NodesView<'_, P>) -> Result<(), Violation>;

    /// How many items (entries, records) the ghost state holds, for `RunOutput::live`:
    /// a ghost that grows with the run should say so. The default counts nothing.
    fn ghost_items(&self) -> u64 {
        0
    }

    /// The nodes that are Byzantine in this run, told once before the first step. A
    /// checker judges honest nodes only: a Byzantine node's state and observations say
    /// nothing about the protocol. The default ignores it (a protocol that claims no
    /// Byzantine tolerance may judge every node).
    fn set_byzantine(&mut self, _byzantine: &[NodeId]) {}

    /// Liveness conditions this protocol defines (beyond the generic `client_progress`).
    fn liveness_conditions() -> &'static [PropertyInfo] {
        &[]
    }

    /// Does the named liveness condition hold now? `None` if the name is unknown, or if
    /// the condition is about time and the protocol's meter judges it at the run's end
    /// (`crate::meter`).
    fn liveness_holds(&self, _name: &str, _nodes: NodesView<'_, P>) -> Option<bool> {
        None
    }
}

/// A protocol: one node's state plus its pure step function, and nothing else. What the
/// harness needs to know about it (its `[params]` and `[check]` tables, mutants, fault
/// bound, roles, workload, history model) sits beside it in a
/// [`Registration`](crate::registration::Registration). Its types are `Sync` because the
/// model checker (`crate::check`) shares states between threads.
pub trait Protocol: Clone + Debug + Hash + Eq + Send + Sync + 'static {
    /// The cluster's configuration, built from the scenario's `[params]` by the
    /// registration and passed to every step by reference (`Ctx::config`).
    type Config: Clone + Debug + Send + Sync + 'static;
    type Msg: Message;
    type Timer: TimerName;
    /// The part of the state that survives a crash.
    type Durable: Clone + Debug + Hash + Eq + Send + Sync + 'static;
    type Op: Clone + Debug + Hash + Eq + Serialize + Send + Sync + 'static;
    type Reply: ClientReply;
    type Obs: Observation;
    type Checker: Checker<Self>;

    /// A fresh node; `step(Init)` follows.
    fn new(ctx: &Ctx<'_, Self::Config>) -> Self;

    /// A node rebuilt after a crash from what it last persisted (`None` if it never
    /// persisted anything); `step(Restart)` follows.
    fn recover(ctx: &Ctx<'_, Self::Config>, durable: Option<&Self::Durable>) -> Self;

    fn step(&mut self, ctx: &Ctx<'_, Self::Config>, input: Input<Self>, fx: &mut Effects<Self>);

    /// The node's current role, one of the names its registration declares
    /// (`Registration::roles`): timelines colour it, and role selectors
    /// (`node = "leader"`, `crash_leader`) target it.
    fn role(&self) -> &'static str;
}
