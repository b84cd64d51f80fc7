//! Exhaustive model checking: any `Protocol` as a stateright `Model`.
//!
//! The simulator follows one schedule per seed; the model checker follows all of them,
//! within bounds. A state is the whole cluster (every node, what each last persisted, the
//! messages in flight as a multiset, the armed timers), the remaining fault and client
//! budgets, and the checker's ghost state. An action is one thing the world can do next:
//! deliver, drop or duplicate a message in flight, fire any armed timer (a timer's delay
//! range is a nondeterministic choice, so any armed timer may fire first), crash or
//! restart a node, or hand a node a client request. Effects are applied exactly as the
//! simulator applies them (the one interpreter, `interpret.rs`), and the same `Checker::on_step` runs after every
//! step, so the protocol's invariants become stateright `always` properties unchanged.
//!
//! Bounds keep the space finite: fault and client budgets live in the state; messages in
//! flight and the protocol's own bounds (its typed `[check]` fields, declared by its
//! registration with `Registration::check_bounds`, e.g. Raft's term and log length) are
//! stateright boundaries. Observation kinds listed under
//! `sometimes` become `sometimes` properties, so a check that explores nothing fails.
//!
//! A protocol that reads its clock also gets a model of time (`check_clock.rs`): per-node
//! clocks in the state, a `Tick` action, and timers that fire only once due; any other
//! protocol's states carry no clock (`CheckState::clock` is `None`).
//!
//! Architecture invariant: like the rest of sim-core this module reads no clock (the CLI
//! times the check) and names no protocol.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde::Serialize;
use stateright::{Checker as _, HasDiscoveries, Model, Property};

use crate::check_byzantine::{ByzantineModel, ByzantineRole};
use crate::check_clock::{ModelClock, TimeBounds, TIME_FIELDS, TIME_MS_MAX};
use crate::interpret::{self, EffectSink};
use crate::protocol::{
    Checker, ClientId, Ctx, Effect, Effects, Input, Message, NodeId, Observation, Protocol, TimeUs,
    TimerName, Violation,
};
use crate::registration::{CheckFilter, Registration, GENERIC_CHECK_FIELDS};
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::Prepared;
use crate::walks::{WalkHit, WalkPlan};

/// The `[check]` table of a scenario: how far the model checker explores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckBounds {
    /// Crashes over a whole behaviour (restarts are free: a crashed node may restart).
    pub max_crashes: u32,
    /// Crashes in the middle of a step, right after its first `Persist`: the effects after
    /// it (sends, replies) are lost, as with the simulator's `crash_after_persist`.
    pub max_crashes_after_persist: u32,
    /// Crashes at any boundary between two effects of a step (after a send and before a
    /// `Persist`, between two sends, ...): every boundary of every step is a branch, and
    /// the effects after it are lost, as with the simulator's `crash_mid_step`.
    pub max_mid_step_crashes: u32,
    /// Messages the network may lose.
    pub max_drops: u32,
    /// Messages the network may duplicate.
    pub max_duplicates: u32,
    /// Client requests, issued to any live node.
    pub max_client_ops: u32,
    /// Choices of the `[byzantine]` table's nodes (a message perturbed, a set of peers
    /// lied to, a protocol strategy's draw), over a whole behaviour (`check_byzantine.rs`).
    pub max_byzantine_actions: u32,
    /// States with more messages in flight are not explored.
    pub max_in_flight: u32,
    /// The protocol's own fields of the table (`Registration::check_bounds`), as written.
    pub protocol: toml::Table,
    /// Observation kinds (or `fault_fired`) that some explored state must have seen.
    pub sometimes: Vec<String>,
    /// Search by this many seeded random walks instead of exhaustively (`walks.rs`): for
    /// bounds whose state space is too large to enumerate.
    pub walks: Option<u64>,
    /// Actions per random walk at most.
    pub walk_depth: u32,
    /// The model of time (`check_clock.rs`), for a protocol that reads its clock only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<TimeBounds>,
}

/// Actions per random walk unless `[check] walk_depth` says otherwise: deeper than any
/// counterexample the bundled configurations need, short enough that a walk stuck in a
/// heartbeat loop ends soon.
pub const DEFAULT_WALK_DEPTH: u32 = 200;

/// At most this many `always` and `sometimes` properties (one stateright condition
/// function is instantiated per slot, see `always_conditions`).
const ALWAYS_MAX: usize = 16;
const SOMETIMES_MAX: usize = 8;

/// The `sometimes` condition met by a crash, a drop or a duplicate (as in the simulator).
const FAULT_FIRED: &str = "fault_fired";

/// The property a panicking step violates.
pub const NO_PANIC: &str = "no_panic";

impl CheckBounds {
    /// Parse the scenario's `[check]` table. Errors name `check.<field>`. The protocol's
    /// own fields are kept as written (`protocol`) for its registration to check, and the
    /// `sometimes` conditions are checked by `check_sometimes`.
    pub fn from_scenario(scenario: &Scenario) -> Result<CheckBounds, ScenarioError> {
        let Some(table) = &scenario.file.check else {
            return Err(scenario.error(
                "check",
                "the scenario has no [check] table, so the model checker has no bounds",
                "add e.g. `[check]` with `max_crashes = 1`, `max_in_flight = 4`, \
                 `sometimes = [\"became_leader\"]` and the protocol's own bounds \
                 (`quorumlab schema --protocol NAME` lists them)",
            ));
        };
        let mut bounds = CheckBounds {
            max_crashes: 0,
            max_crashes_after_persist: 0,
            max_mid_step_crashes: 0,
            max_drops: 0,
            max_duplicates: 0,
            max_client_ops: 0,
            max_byzantine_actions: 0,
            max_in_flight: 4,
            protocol: toml::Table::new(),
            sometimes: Vec::new(),
            walks: None,
            walk_depth: DEFAULT_WALK_DEPTH,
            time: None,
        };
        let mut time_fields = [None; TIME_FIELDS.len()];
        for (field, value) in table {
            let name = format!("check.{field}");
            let integer = |limit: u64| -> Result<u64, ScenarioError> {
                match value {
                    toml::Value::Integer(number) if (0..=limit as i64).contains(number) => {
                        Ok(*number as u64)
                    }
                    other => Err(scenario.error(
                        &name,
                        format!("expected an integer from 0 to {limit}, found {other}"),
                        format!("write e.g. `{field} = 1`"),
                    )),
                }
            };
            let small = |limit: u64| integer(limit).map(|number| number as u32);
            match field.as_str() {
                "max_crashes" => bounds.max_crashes = small(1000)?,
                "max_crashes_after_persist" => bounds.max_crashes_after_persist = small(1000)?,
                "max_mid_step_crashes" => bounds.max_mid_step_crashes = small(1000)?,
                "max_drops" => bounds.max_drops = small(1000)?,
                "max_duplicates" => bounds.max_duplicates = small(1000)?,
                "max_client_ops" => bounds.max_client_ops = small(1000)?,
                "max_byzantine_actions" => bounds.max_byzantine_actions = small(1000)?,
                "max_in_flight" => bounds.max_in_flight = small(1000)?,
                time if TIME_FIELDS.contains(&time) => {
                    let position = TIME_FIELDS.iter().position(|name| *name == time);
                    time_fields[position.expect("listed")] = Some(integer(TIME_MS_MAX)?);
                }
                "walks" | "walk_depth" => {
                    let number = integer(1_000_000_000)?;
                    if number == 0 {
                        return Err(scenario.error(
                            &name,
                            "expected at least 1",
                            format!(
                                "write e.g. `{field} = 100`, or remove it to explore exhaustively"
                            ),
                        ));
                    }
                    if field == "walks" {
                        bounds.walks = Some(number);
                    } else {
                        bounds.walk_depth = number as u32;
                    }
                }
                "sometimes" => {
                    let kinds = value.as_array().and_then(|items| {
                        items
                            .iter()
                            .map(|item| item.as_str().map(str::to_string))
                            .collect::<Option<Vec<String>>>()
                    });
                    bounds.sometimes = kinds.ok_or_else(|| {
                        scenario.error(
                            &name,
                            format!("expected a list of observation kinds, found {value}"),
                            "write e.g. `sometimes = [\"became_leader\", \"commit\"]`",
                        )
                    })?;
                }
                _ => {
                    // The protocol's own: checked by its registration (`check_filter`).
                    assert!(!GENERIC_CHECK_FIELDS.contains(&field.as_str()));
                    bounds.protocol.insert(field.clone(), value.clone());
                }
            }
        }
        if !table.contains_key("sometimes") {
            bounds.sometimes = scenario.file.sometimes.clone();
        }
        let [tick_ms, max_time_ms, max_clock_skew_ms] = time_fields;
        bounds.time = TimeBounds::from_fields(scenario, tick_ms, max_time_ms, max_clock_skew_ms)?;
        Ok(bounds)
    }

    /// The `sometimes` conditions: at least one (so a check that explores nothing fails),
    /// at most `SOMETIMES_MAX`.
    pub fn check_sometimes(&self, scenario: &Scenario) -> Result<(), ScenarioError> {
        if self.sometimes.is_empty() {
            return Err(scenario.error(
                "check.sometimes",
                "no `sometimes` condition: a check that explores nothing would pass",
                "write e.g. `sometimes = [\"became_leader\"]` under [check] (or at the top level)",
            ));
        }
        if self.sometimes.len() > SOMETIMES_MAX {
            return Err(scenario.error(
                "check.sometimes",
                format!("at most {SOMETIMES_MAX} conditions are supported"),
                "keep the most telling ones",
            ));
        }
        Ok(())
    }
}

/// One message in flight.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Envelope<M> {
    pub from: NodeId,
    pub to: NodeId,
    pub msg: M,
}

/// What is left of the behaviour's fault and client budgets.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct Budget {
    pub crashes: u32,
    pub crashes_after_persist: u32,
    pub mid_step_crashes: u32,
    pub drops: u32,
    pub duplicates: u32,
    pub client_ops: u32,
    pub byzantine_actions: u32,
}

/// One state of the whole cluster. Only ordered collections, so it hashes the same on
/// every run and every thread.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct CheckState<P: Protocol> {
    /// Every node's state; `None` while crashed.
    pub nodes: Vec<Option<P>>,
    /// What each node last persisted.
    pub durable: Vec<Option<P::Durable>>,
    /// Messages in flight, as a multiset.
    pub network: BTreeMap<Envelope<P::Msg>, u32>,
    /// Armed timers; any of them may fire next (with a clock: any that is due).
    pub timers: BTreeSet<(NodeId, P::Timer)>,
    /// Every node's clock and when its timers are due, for a protocol that reads its
    /// clock only (`check_clock.rs`); `None` otherwise.
    pub clock: Option<ModelClock<P::Timer>>,
    /// Per node, its Byzantine role (all `None` without a `[byzantine]` table).
    pub byzantine: Vec<Option<ByzantineRole>>,
    pub budget: Budget,
    /// The checker's ghost state.
    pub checker: P::Checker,
    /// The first property violated on the way here; such a state has no successors.
    pub violation: Option<Violation>,
    /// Bit `i` is set once `sometimes[i]` was observed.
    pub seen: u32,
}

impl<P: Protocol> CheckState<P> {
    /// Messages in flight, counting duplicates.
    pub fn in_flight(&self) -> u64 {
        self.network.values().map(|&count| u64::from(count)).sum()
    }
}

/// One thing the world does next.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum CheckAction<P: Protocol> {
    Deliver(Envelope<P::Msg>),
    Drop(Envelope<P::Msg>),
    Duplicate(Envelope<P::Msg>),
    Timer {
        node: NodeId,
        timer: P::Timer,
    },
    Crash {
        node: NodeId,
    },
    Restart {
        node: NodeId,
    },
    ClientRequest {
        node: NodeId,
    },
    /// Time passes (`check_clock.rs`): one tick on every clock (`None`) or on one node's.
    Tick {
        node: Option<NodeId>,
    },
    /// The inner action (a delivery, a timer or a client request), with its node crashing
    /// right after the step's first `Persist`.
    CrashAfterPersist(Box<CheckAction<P>>),
    /// The inner action, with its node crashing after the first `after_effects` effects
    /// of its step (one branch per boundary the step has).
    CrashMidStep {
        inner: Box<CheckAction<P>>,
        after_effects: u32,
    },
    /// The inner action (a delivery, a timer or a client request) at a Byzantine node,
    /// with its strategy's choice `choice` (`check_byzantine.rs`); `what` says what the
    /// choice does, for counterexamples.
    Byzantine {
        inner: Box<CheckAction<P>>,
        choice: u32,
        what: String,
    },
}

impl<P: Protocol> CheckAction<P> {
    /// A delivery, a timer or a client request: an input to a node's step.
    fn is_input(&self) -> bool {
        matches!(
            self,
            CheckAction::Deliver(_) | CheckAction::Timer { .. } | CheckAction::ClientRequest { .. }
        )
    }

    /// The action in the simulator's trace vocabulary.
    pub fn record(&self) -> StepRecord {
        let (node, event, from, msg, detail) = match self {
            CheckAction::CrashAfterPersist(inner) => {
                let mut record = inner.record();
                record.crash_after_persist = true;
                return record;
            }
            CheckAction::CrashMidStep {
                inner,
                after_effects,
            } => {
                let mut record = inner.record();
                record.crash_mid_step = Some(*after_effects);
                return record;
            }
            CheckAction::Byzantine { inner, what, .. } => {
                let mut record = inner.record();
                record.byzantine = Some(what.clone());
                return record;
            }
            CheckAction::Deliver(envelope) => (
                envelope.to,
                envelope.msg.kind(),
                Some(envelope.from.0),
                None,
                format!("{:?}", envelope.msg),
            ),
            CheckAction::Drop(envelope) | CheckAction::Duplicate(envelope) => (
                envelope.to,
                if matches!(self, CheckAction::Drop(_)) {
                    "drop"
                } else {
                    "duplicate"
                },
                Some(envelope.from.0),
                Some(envelope.msg.kind()),
                format!("{:?}", envelope.msg),
            ),
            CheckAction::Timer { node, timer } => (*node, timer.kind(), None, None, String::new()),
            CheckAction::Tick { node } => {
                let detail = match node {
                    None => "every clock advances",
                    Some(_) => "its clock runs ahead",
                };
                return StepRecord {
                    node: node.map(|node| node.0),
                    event: "tick",
                    from: None,
                    msg: None,
                    detail: detail.to_string(),
                    crash_after_persist: false,
                    crash_mid_step: None,
                    byzantine: None,
                };
            }
            CheckAction::Crash { node } => (*node, "crash", None, None, String::new()),
            CheckAction::Restart { node } => (*node, "restart", None, None, String::new()),
            CheckAction::ClientRequest { node } => {
                (*node, "client_request", None, None, String::new())
            }
        };
        StepRecord {
            node: Some(node.0),
            event,
            from,
            msg,
            detail,
            crash_after_persist: false,
            crash_mid_step: None,
            byzantine: None,
        }
    }
}

/// One action of a counterexample, as printed and as written in `--json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StepRecord {
    /// The node the action happens at (for messages: the receiver); `None` for time
    /// passing at every node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// The input kind (`request_vote`, `election_timeout`, `crash`, `restart`,
    /// `client_request`) or the network fault (`drop`, `duplicate`).
    pub event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<u32>,
    /// For `drop` and `duplicate`: the message's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<&'static str>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The node crashed right after this step's first `Persist`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub crash_after_persist: bool,
    /// The node crashed after this many effects of this step; the rest were lost.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash_mid_step: Option<u32>,
    /// The node is Byzantine, and its strategy chose this rewrite of the step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byzantine: Option<String>,
}

impl fmt::Display for StepRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.node {
            Some(node) => write!(f, "n{node} {}", self.event)?,
            None => write!(f, "{}", self.event)?,
        }
        if let Some(msg) = self.msg {
            write!(f, " {msg}")?;
        }
        if let Some(from) = self.from {
            write!(f, " from n{from}")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if self.crash_after_persist {
            write!(f, " (then crash_after_persist)")?;
        }
        if let Some(after_effects) = self.crash_mid_step {
            write!(f, " (then crash_mid_step after {after_effects} effects)")?;
        }
        if let Some(what) = &self.byzantine {
            write!(f, " (byzantine {what})")?;
        }
        Ok(())
    }
}

/// A protocol, a cluster size and bounds, as a stateright model.
pub struct ProtocolModel<P: Protocol> {
    pub config: P::Config,
    pub cluster_size: u32,
    pub bounds: CheckBounds,
    /// The protocol's own bounds, from its typed `[check]` fields.
    within: CheckFilter<P>,
    /// How clients draw operations (`Registration::workload`); `None`: no clients.
    workload: Option<crate::registration::WorkloadFn<P>>,
    /// `always` property names: the checker's properties, then `no_panic`.
    always: Vec<&'static str>,
    /// `sometimes` property names, `sometimes.<kind>`, in the order of `bounds.sometimes`.
    sometimes: Vec<&'static str>,
    /// The scenario's `[byzantine]` table (`with_byzantine`); `None`: every node honest.
    byzantine: Option<ByzantineModel<P>>,
}

impl<P: Protocol> ProtocolModel<P> {
    /// A model of `cluster_size` nodes of the registered protocol. The protocol's own
    /// `[check]` fields (`bounds.protocol`) must already be valid: `check_filter` refuses
    /// them otherwise, with the field named.
    pub fn new(
        registration: &Registration<P>,
        config: P::Config,
        cluster_size: u32,
        bounds: CheckBounds,
    ) -> Result<ProtocolModel<P>, crate::protocol::ConfigError> {
        assert!(cluster_size >= 1);
        let within = registration.check_filter(bounds.protocol.clone())?;
        if bounds.max_client_ops > 0 && registration.workload.is_none() {
            return Err(crate::protocol::ConfigError {
                field: "max_client_ops".to_string(),
                message: format!("{} takes no client operations", registration.name),
                fix: "set `max_client_ops = 0` or remove it".to_string(),
            });
        }
        match (registration.reads_clock, bounds.time) {
            (true, None) => {
                return Err(crate::protocol::ConfigError {
                    field: "max_time_ms".to_string(),
                    message: format!(
                        "{} reads its local clock, so the model checker needs a model of time",
                        registration.name
                    ),
                    fix: "add `tick_ms = 1` and `max_time_ms = 12` (and, for drifting \
                          clocks, `max_clock_skew_ms = 1`): time passes a tick at a time \
                          up to max_time_ms"
                        .to_string(),
                });
            }
            (false, Some(_)) => {
                return Err(crate::protocol::ConfigError {
                    field: "tick_ms".to_string(),
                    message: format!(
                        "{} reads no clock, so a model of time would change nothing",
                        registration.name
                    ),
                    fix: "remove tick_ms, max_time_ms and max_clock_skew_ms".to_string(),
                });
            }
            _ => {}
        }
        let mut always: Vec<&'static str> = P::Checker::properties()
            .iter()
            .map(|property| property.name)
            .collect();
        always.push(NO_PANIC);
        assert!(
            always.len() <= ALWAYS_MAX,
            "{} has more than {ALWAYS_MAX} properties",
            registration.name
        );
        assert!(bounds.sometimes.len() <= SOMETIMES_MAX);
        // Property names are `&'static str` in stateright; a model is built once per check.
        let sometimes = bounds
            .sometimes
            .iter()
            .map(|kind| &*Box::leak(format!("sometimes.{kind}").into_boxed_str()))
            .collect();
        Ok(ProtocolModel {
            config,
            cluster_size,
            bounds,
            within,
            workload: registration.workload,
            always,
            sometimes,
            byzantine: None,
        })
    }

    /// Make some nodes Byzantine (`check_byzantine.rs`).
    pub fn with_byzantine(mut self, byzantine: ByzantineModel<P>) -> ProtocolModel<P> {
        self.byzantine = Some(byzantine);
        self
    }

    pub fn always_names(&self) -> &[&'static str] {
        &self.always
    }

    pub fn sometimes_names(&self) -> &[&'static str] {
        &self.sometimes
    }

    /// `node`'s context in `state`: with its clock, for a protocol that reads one.
    fn ctx(&self, state: &CheckState<P>, node: NodeId) -> Ctx<'_, P::Config> {
        let ctx = Ctx::new(node, self.cluster_size, &self.config);
        match &state.clock {
            Some(clock) => ctx.with_clock(clock.read(node)),
            None => ctx,
        }
    }

    fn mark_seen(&self, state: &mut CheckState<P>, kind: &str) {
        for (position, wanted) in self.bounds.sometimes.iter().enumerate() {
            if wanted == kind {
                state.seen |= 1 << position;
            }
        }
    }

    /// One input to one live node: its step, its effects applied as the simulator applies
    /// them, then the checker. A panic in either is a `no_panic` violation.
    /// With a `cut`, the node crashes within its step where the cut says and the effects
    /// after it are lost; returns whether that happened.
    /// A Byzantine node's strategy rewrites the step's effects (with `choice`, if any).
    fn step(
        &self,
        state: &mut CheckState<P>,
        node: NodeId,
        input: Input<P>,
        cut: Cut,
        choice: Option<u32>,
    ) -> bool {
        assert!(
            state.violation.is_none(),
            "a violating state has no successors"
        );
        let mut crashed = false;
        let ctx = self.ctx(state, node);
        let outcome = crate::panics::quietly(|| {
            catch_unwind(AssertUnwindSafe(|| {
                state.checker.before_step(&state.nodes, node, &input);
                let mut sink = ModelSink {
                    state: &mut *state,
                    cut,
                    observations: Vec::new(),
                    byzantine: self.byzantine.as_ref(),
                    choice,
                };
                let stepped = interpret::step(&mut sink, &ctx, input, &mut Effects::default());
                crashed = stepped.crashed_after_persist || stepped.crashed_mid_step;
                let observations = sink.observations;
                for observation in &observations {
                    self.mark_seen(state, observation.kind());
                }
                state.checker.on_step(&state.nodes, node, &observations)
            }))
        });
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(violation)) => state.violation = Some(violation),
            Err(payload) => {
                let message = crate::panics::take_message()
                    .unwrap_or_else(|| crate::panics::payload_text(payload.as_ref()));
                state.violation = Some(Violation::new(NO_PANIC, message));
            }
        }
        if crashed {
            Self::crash(state, node);
        }
        crashed
    }

    fn crash(state: &mut CheckState<P>, node: NodeId) {
        assert!(state.nodes[node.index()].is_some(), "only live nodes crash");
        state.nodes[node.index()] = None;
        state.timers.retain(|&(owner, _)| owner != node);
        if let Some(clock) = &mut state.clock {
            clock.forget(node);
        }
    }

    /// The node a delivery, timer or client request steps, and its input.
    fn input_of(&self, state: &CheckState<P>, action: &CheckAction<P>) -> (NodeId, Input<P>) {
        match action {
            CheckAction::Deliver(envelope) => {
                let input = Input::Message {
                    from: envelope.from,
                    msg: envelope.msg.clone(),
                };
                (envelope.to, input)
            }
            CheckAction::Timer { node, timer } => (*node, Input::Timer(*timer)),
            CheckAction::ClientRequest { node } => {
                assert!(state.budget.client_ops > 0);
                let request = u64::from(self.bounds.max_client_ops - state.budget.client_ops);
                let workload = self.workload.expect("client actions only with a workload");
                let op = workload(&self.config, 0, request, 0);
                let input = Input::Client {
                    client: 0,
                    request,
                    op,
                };
                (*node, input)
            }
            other => unreachable!("not an input to a node: {other:?}"),
        }
    }

    /// Apply a delivery, timer or client request; returns whether the node crashed within
    /// its step (only with a `cut`).
    fn apply_input(
        &self,
        state: &mut CheckState<P>,
        action: CheckAction<P>,
        cut: Cut,
        choice: Option<u32>,
    ) -> bool {
        let (node, input) = self.input_of(state, &action);
        match &action {
            CheckAction::Deliver(envelope) => Self::take_envelope(state, envelope),
            CheckAction::Timer { node, timer } => {
                // Firing disarms, as in the simulator.
                let armed = state.timers.remove(&(*node, *timer));
                assert!(armed, "only armed timers fire");
                if let Some(clock) = &mut state.clock {
                    assert!(clock.due(*node, *timer), "only due timers fire");
                    clock.disarm(*node, *timer);
                }
            }
            CheckAction::ClientRequest { .. } => state.budget.client_ops -= 1,
            other => unreachable!("not an input to a node: {other:?}"),
        }
        self.step(state, node, input, cut, choice)
    }

    /// How many effects `action`'s step emits (its boundaries are the cuts a mid-step
    /// crash may take), from a copy of the node; 0 if the step panics (the plain action
    /// reports that).
    fn effect_count(&self, state: &CheckState<P>, action: &CheckAction<P>) -> usize {
        self.step_copy(state, action)
            .map_or(0, |(_, _, effects)| effects.len())
    }

    /// `action`'s step on a copy of its node: the node, the copy after the step and the
    /// effects it wrote; `None` if the step panics (the plain action reports that).
    fn step_copy(
        &self,
        state: &CheckState<P>,
        action: &CheckAction<P>,
    ) -> Option<(NodeId, P, Vec<Effect<P>>)> {
        let (node, input) = self.input_of(state, action);
        let mut copy = state.nodes[node.index()].clone()?;
        let ctx = self.ctx(state, node);
        let mut fx = Effects::default();
        let stepped = crate::panics::quietly(|| {
            catch_unwind(AssertUnwindSafe(|| copy.step(&ctx, input, &mut fx)))
        });
        match stepped {
            Ok(()) => Some((node, copy, std::mem::take(fx.list_mut()))),
            Err(_) => {
                crate::panics::take_message();
                None
            }
        }
    }

    /// A Byzantine node's choices on `input`'s step: one action per distinct rewrite of
    /// its effects.
    fn byzantine_actions(
        &self,
        state: &CheckState<P>,
        input: &CheckAction<P>,
        actions: &mut Vec<CheckAction<P>>,
    ) {
        let Some(byzantine) = &self.byzantine else {
            return;
        };
        let (node, _) = self.input_of(state, input);
        let Some(role) = state.byzantine[node.index()] else {
            return;
        };
        let Some((node, copy, mut honest)) = self.step_copy(state, input) else {
            return;
        };
        byzantine.base(&role, &mut honest);
        let ctx = self.ctx(state, node);
        let mut seen = vec![honest.clone()];
        for choice in 0..byzantine.choice_count(&role, self.cluster_size, &honest) {
            let mut effects = honest.clone();
            let mut changed = role;
            let what = byzantine.apply_choice(&mut changed, &ctx, &copy, &mut effects, choice);
            if changed == role && seen.contains(&effects) {
                continue;
            }
            seen.push(effects);
            actions.push(CheckAction::Byzantine {
                inner: Box::new(input.clone()),
                choice,
                what,
            });
        }
    }

    fn take_envelope(state: &mut CheckState<P>, envelope: &Envelope<P::Msg>) {
        let count = state
            .network
            .get_mut(envelope)
            .expect("actions name envelopes in flight");
        *count -= 1;
        if *count == 0 {
            state.network.remove(envelope);
        }
    }
}

/// The model checker's side of the effect interpreter: sends join the network multiset,
/// timers are armed without a delay (any armed timer may fire next), and replies are not
/// part of the state (no clients to answer).
struct ModelSink<'s, P: Protocol> {
    state: &'s mut CheckState<P>,
    /// Where the action crashes the node within its step, if it does.
    cut: Cut,
    observations: Vec<P::Obs>,
    byzantine: Option<&'s ByzantineModel<P>>,
    /// The Byzantine node's choice for this step, if it makes one.
    choice: Option<u32>,
}

/// Where an action crashes its node within the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cut {
    /// Nowhere: the step runs whole.
    None,
    /// Right after the step's first `Persist`.
    AfterPersist,
    /// After the step's first this many effects.
    MidStep(u32),
}

impl<P: Protocol> EffectSink<P> for ModelSink<'_, P> {
    fn node_mut(&mut self, node: NodeId) -> &mut P {
        self.state.nodes[node.index()]
            .as_mut()
            .expect("only live nodes step")
    }

    fn intercept(&mut self, ctx: &Ctx<'_, P::Config>, fx: &mut Effects<P>) {
        let (Some(byzantine), Some(mut role)) =
            (self.byzantine, self.state.byzantine[ctx.id.index()])
        else {
            return;
        };
        byzantine.base(&role, fx.list_mut());
        if let Some(choice) = self.choice {
            let node = self.state.nodes[ctx.id.index()]
                .as_ref()
                .expect("only live nodes step");
            byzantine.apply_choice(&mut role, ctx, node, fx.list_mut(), choice);
            self.state.byzantine[ctx.id.index()] = Some(role);
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        let envelope = Envelope { from, to, msg };
        *self.state.network.entry(envelope).or_insert(0) += 1;
    }

    fn set_timer(&mut self, node: NodeId, timer: P::Timer, min_us: TimeUs, _max_us: TimeUs) {
        self.state.timers.insert((node, timer));
        if let Some(clock) = &mut self.state.clock {
            // No earlier than its delay's minimum; later is a pause.
            clock.arm(node, timer, min_us);
        }
    }

    fn cancel_timer(&mut self, node: NodeId, timer: P::Timer) {
        self.state.timers.remove(&(node, timer));
        if let Some(clock) = &mut self.state.clock {
            clock.disarm(node, timer);
        }
    }

    fn persist(&mut self, node: NodeId, durable: P::Durable) {
        self.state.durable[node.index()] = Some(durable);
    }

    fn crash_after_persist(&mut self, _node: NodeId) -> bool {
        self.cut == Cut::AfterPersist
    }

    fn crash_mid_step(&mut self, _node: NodeId, applied: usize, _total: usize) -> bool {
        self.cut == Cut::MidStep(applied as u32)
    }

    fn checker(&mut self) -> Option<&mut P::Checker> {
        Some(&mut self.state.checker)
    }

    fn reply(&mut self, _node: NodeId, _client: ClientId, _request: u64, _reply: P::Reply) {}

    fn observe(&mut self, _node: NodeId, observation: P::Obs) {
        self.observations.push(observation);
    }
}

impl<P: Protocol> Model for ProtocolModel<P> {
    type State = CheckState<P>;
    type Action = CheckAction<P>;

    fn init_states(&self) -> Vec<CheckState<P>> {
        let n = self.cluster_size as usize;
        let assignments = match &self.byzantine {
            Some(byzantine) => byzantine.assignments(self.cluster_size),
            None => vec![vec![None; n]],
        };
        let mut states = Vec::new();
        for byzantine in assignments {
            let mut state = CheckState {
                nodes: Vec::new(),
                durable: vec![None; n],
                network: BTreeMap::new(),
                timers: BTreeSet::new(),
                clock: self.bounds.time.map(|_| ModelClock::new(self.cluster_size)),
                byzantine,
                budget: Budget {
                    crashes: self.bounds.max_crashes,
                    crashes_after_persist: self.bounds.max_crashes_after_persist,
                    mid_step_crashes: self.bounds.max_mid_step_crashes,
                    drops: self.bounds.max_drops,
                    duplicates: self.bounds.max_duplicates,
                    client_ops: self.bounds.max_client_ops,
                    byzantine_actions: self.bounds.max_byzantine_actions,
                },
                checker: P::Checker::default(),
                violation: None,
                seen: 0,
            };
            state.nodes = (0..self.cluster_size)
                .map(|id| Some(P::new(&self.ctx(&state, NodeId(id)))))
                .collect();
            let byzantine_ids: Vec<NodeId> = (0..self.cluster_size)
                .map(NodeId)
                .filter(|node| state.byzantine[node.index()].is_some())
                .collect();
            if !byzantine_ids.is_empty() {
                // As in the simulator: the checker learns them before the first step.
                state.checker.set_byzantine(&byzantine_ids);
            }
            // As in the simulator: every node starts at time 0, in id order.
            for id in 0..self.cluster_size {
                if state.violation.is_none() {
                    self.step(&mut state, NodeId(id), Input::Init, Cut::None, None);
                }
            }
            states.push(state);
        }
        states
    }

    fn actions(&self, state: &CheckState<P>, actions: &mut Vec<CheckAction<P>>) {
        if state.violation.is_some() {
            return;
        }
        for envelope in state.network.keys() {
            if state.nodes[envelope.to.index()].is_some() {
                actions.push(CheckAction::Deliver(envelope.clone()));
            }
            if state.budget.drops > 0 {
                actions.push(CheckAction::Drop(envelope.clone()));
            }
            if state.budget.duplicates > 0 {
                actions.push(CheckAction::Duplicate(envelope.clone()));
            }
        }
        for &(node, timer) in &state.timers {
            if state
                .clock
                .as_ref()
                .is_none_or(|clock| clock.due(node, timer))
            {
                actions.push(CheckAction::Timer { node, timer });
            }
        }
        if let (Some(clock), Some(time)) = (&state.clock, &self.bounds.time) {
            let mut ticks = Vec::new();
            clock.ticks(time, &mut ticks);
            actions.extend(ticks.into_iter().map(|node| CheckAction::Tick { node }));
        }
        for (index, slot) in state.nodes.iter().enumerate() {
            let node = NodeId(index as u32);
            match slot {
                Some(_) if state.budget.crashes > 0 => actions.push(CheckAction::Crash { node }),
                Some(_) => {}
                None => actions.push(CheckAction::Restart { node }),
            }
        }
        if state.budget.client_ops > 0 {
            for (index, slot) in state.nodes.iter().enumerate() {
                if slot.is_some() {
                    let node = NodeId(index as u32);
                    actions.push(CheckAction::ClientRequest { node });
                }
            }
        }
        if state.budget.byzantine_actions > 0 {
            let inputs: Vec<CheckAction<P>> = actions
                .iter()
                .filter(|action| action.is_input())
                .cloned()
                .collect();
            for input in &inputs {
                self.byzantine_actions(state, input, actions);
            }
        }
        let crash_within = state.budget.crashes_after_persist > 0;
        let cut_anywhere = state.budget.mid_step_crashes > 0;
        if crash_within || cut_anywhere {
            let inputs: Vec<CheckAction<P>> = actions
                .iter()
                .filter(|action| action.is_input())
                .cloned()
                .collect();
            for input in inputs {
                if cut_anywhere {
                    for after_effects in 1..self.effect_count(state, &input) {
                        actions.push(CheckAction::CrashMidStep {
                            inner: Box::new(input.clone()),
                            after_effects: after_effects as u32,
                        });
                    }
                }
                if crash_within {
                    actions.push(CheckAction::CrashAfterPersist(Box::new(input)));
                }
            }
        }
    }

    fn next_state(&self, last: &CheckState<P>, action: CheckAction<P>) -> Option<CheckState<P>> {
        let mut state = last.clone();
        match action {
            CheckAction::Deliver(_)
            | CheckAction::Timer { .. }
            | CheckAction::ClientRequest { .. } => {
                self.apply_input(&mut state, action, Cut::None, None);
            }
            CheckAction::CrashAfterPersist(inner) => {
                assert!(state.budget.crashes_after_persist > 0);
                if !self.apply_input(&mut state, *inner, Cut::AfterPersist, None) {
                    // The step persisted nothing: the same as the plain action.
                    return None;
                }
                state.budget.crashes_after_persist -= 1;
                self.mark_seen(&mut state, FAULT_FIRED);
            }
            CheckAction::CrashMidStep {
                inner,
                after_effects,
            } => {
                assert!(state.budget.mid_step_crashes > 0);
                if !self.apply_input(&mut state, *inner, Cut::MidStep(after_effects), None) {
                    // The step had no such boundary (it panicked short of it).
                    return None;
                }
                state.budget.mid_step_crashes -= 1;
                self.mark_seen(&mut state, FAULT_FIRED);
            }
            CheckAction::Byzantine { inner, choice, .. } => {
                assert!(state.budget.byzantine_actions > 0);
                state.budget.byzantine_actions -= 1;
                self.apply_input(&mut state, *inner, Cut::None, Some(choice));
                self.mark_seen(&mut state, FAULT_FIRED);
            }
            CheckAction::Drop(envelope) => {
                assert!(state.budget.drops > 0);
                state.budget.drops -= 1;
                Self::take_envelope(&mut state, &envelope);
                self.mark_seen(&mut state, FAULT_FIRED);
            }
            CheckAction::Duplicate(envelope) => {
                assert!(state.budget.duplicates > 0);
                state.budget.duplicates -= 1;
                *state
                    .network
                    .get_mut(&envelope)
                    .expect("actions name envelopes in flight") += 1;
                self.mark_seen(&mut state, FAULT_FIRED);
            }
            CheckAction::Crash { node } => {
                assert!(state.budget.crashes > 0);
                state.budget.crashes -= 1;
                Self::crash(&mut state, node);
                self.mark_seen(&mut state, FAULT_FIRED);
            }
            CheckAction::Tick { node } => {
                let time = self.bounds.time.as_ref().expect("ticks only with a clock");
                let clock = state.clock.as_mut().expect("ticks only with a clock");
                clock.tick(time, node);
            }
            CheckAction::Restart { node } => {
                assert!(
                    state.nodes[node.index()].is_none(),
                    "only crashed nodes restart"
                );
                let ctx = self.ctx(&state, node);
                let durable = state.durable[node.index()].as_ref();
                state.nodes[node.index()] = Some(P::recover(&ctx, durable));
                self.step(&mut state, node, Input::Restart, Cut::None, None);
            }
        }
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let always = always_conditions::<P>();
        let sometimes = sometimes_conditions::<P>();
        let mut properties = Vec::new();
        for (position, &name) in self.always.iter().enumerate() {
            properties.push(Property::always(name, always[position]));
        }
        for (position, &name) in self.sometimes.iter().enumerate() {
            properties.push(Property::sometimes(name, sometimes[position]));
        }
        properties
    }

    fn within_boundary(&self, state: &CheckState<P>) -> bool {
        state.in_flight() <= u64::from(self.bounds.max_in_flight)
            && state.nodes.iter().flatten().all(|node| (self.within)(node))
    }

    fn format_action(&self, action: &CheckAction<P>) -> String {
        action.record().to_string()
    }
}

type Condition<P> = fn(&ProtocolModel<P>, &CheckState<P>) -> bool;

/// `always` slot `I` holds unless the recorded violation is of property `I`.
fn always_holds<P: Protocol, const I: usize>(
    model: &ProtocolModel<P>,
    state: &CheckState<P>,
) -> bool {
    let name = model.always[I];
    !matches!(&state.violation, Some(violation) if violation.property == name)
}

/// `sometimes` slot `I` is reached once its observation kind was seen.
fn sometimes_reached<P: Protocol, const I: usize>(
    _model: &ProtocolModel<P>,
    state: &CheckState<P>,
) -> bool {
    state.seen & (1 << I) != 0
}

/// stateright conditions are plain function pointers, so each property slot gets its own.
fn always_conditions<P: Protocol>() -> [Condition<P>; ALWAYS_MAX] {
    [
        always_holds::<P, 0>,
        always_holds::<P, 1>,
        always_holds::<P, 2>,
        always_holds::<P, 3>,
        always_holds::<P, 4>,
        always_holds::<P, 5>,
        always_holds::<P, 6>,
        always_holds::<P, 7>,
        always_holds::<P, 8>,
        always_holds::<P, 9>,
        always_holds::<P, 10>,
        always_holds::<P, 11>,
        always_holds::<P, 12>,
        always_holds::<P, 13>,
        always_holds::<P, 14>,
        always_holds::<P, 15>,
    ]
}

fn sometimes_conditions<P: Protocol>() -> [Condition<P>; SOMETIMES_MAX] {
    [
        sometimes_reached::<P, 0>,
        sometimes_reached::<P, 1>,
        sometimes_reached::<P, 2>,
        sometimes_reached::<P, 3>,
        sometimes_reached::<P, 4>,
        sometimes_reached::<P, 5>,
        sometimes_reached::<P, 6>,
        sometimes_reached::<P, 7>,
    ]
}

/// Breadth-first finds shortest counterexamples (with one thread); depth-first uses
/// less memory; random walks (`walks.rs`) sample state spaces too large for either.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    Bfs,
    Dfs,
    RandomWalks,
}

/// How to run a check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    pub strategy: Strategy,
    pub threads: usize,
    /// Stop after generating this many states (the check is then incomplete).
    pub max_states: Option<usize>,
    /// Serve stateright's Explorer at this (loopback) address instead of checking; the
    /// call then never returns.
    pub serve: Option<String>,
    /// Random walks instead of the `[check]` table's `walks` (with `Strategy::Bfs`; `Some(0)`:
    /// exhaustively, whatever the table says). `Strategy::Dfs` is always exhaustive.
    pub walks: Option<u64>,
    /// The random walks' seed.
    pub seed: u64,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            strategy: Strategy::Bfs,
            threads: 1,
            max_states: None,
            serve: None,
            walks: None,
            seed: 0,
        }
    }
}

/// One property's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyOutcome {
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub expectation: &'static str,
    /// `always`: no counterexample found; `sometimes`: an example found.
    pub holds: bool,
    /// The violation's detail, for a failed `always`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The actions from the initial state to the violation, for a failed `always`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<Vec<StepRecord>>,
}

/// What a check found.
#[derive(Clone, Debug, Serialize)]
pub struct CheckReport {
    pub scenario: String,
    pub protocol: &'static str,
    pub mutant: Option<String>,
    pub nodes: u32,
    pub strategy: Strategy,
    pub threads: usize,
    pub bounds: CheckBounds,
    /// States generated, counting revisits.
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    /// `false` when `--max-states` cut the exploration short, and for random walks.
    pub complete: bool,
    /// The random walks run (`Strategy::RandomWalks`), and the one that found the violation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walks: Option<WalkPlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub walk_hit: Option<WalkHit>,
    pub properties: Vec<PropertyOutcome>,
}

impl CheckReport {
    /// Every `always` holds and every `sometimes` was reached.
    pub fn passed(&self) -> bool {
        self.properties.iter().all(|property| property.holds)
    }

    /// The first failed `always` property, if any.
    pub fn violation(&self) -> Option<&PropertyOutcome> {
        self.properties
            .iter()
            .find(|property| property.expectation == "always" && !property.holds)
    }
}

/// Build the model of `scenario` (with `mutant` overriding the scenario's own).
pub fn model<P: Protocol>(
    registration: Arc<Registration<P>>,
    scenario: &Scenario,
    mutant: Option<&str>,
) -> Result<(ProtocolModel<P>, Option<String>), ScenarioError> {
    let prepared = Prepared::<P>::new(Arc::clone(&registration), scenario, mutant, false)?;
    let bounds = CheckBounds::from_scenario(scenario)?;
    let check_error = |error: crate::protocol::ConfigError| {
        scenario.error(&format!("check.{}", error.field), error.message, error.fix)
    };
    // The protocol's own fields first: a misspelt bound is the problem to report.
    registration
        .check_filter(bounds.protocol.clone())
        .map_err(check_error)?;
    bounds.check_sometimes(scenario)?;
    let byzantine = match prepared.byzantine_plan() {
        Some(plan) => Some(ByzantineModel::new(
            &registration,
            plan,
            scenario,
            bounds.max_byzantine_actions,
        )?),
        None if bounds.max_byzantine_actions > 0 => {
            return Err(scenario.error(
                "check.max_byzantine_actions",
                "there is no [byzantine] table, so no node makes Byzantine choices",
                "add a [byzantine] table (e.g. `nodes = [1]`, `strategy = \"mutate\"`) or \
                 remove `max_byzantine_actions`",
            ))
        }
        None => None,
    };
    let config = prepared.config.clone();
    let mut model = ProtocolModel::new(&registration, config, scenario.file.nodes, bounds)
        .map_err(check_error)?;
    if let Some(byzantine) = byzantine {
        model = model.with_byzantine(byzantine);
    }
    Ok((model, prepared.mutant))
}

/// Check `scenario` within its `[check]` bounds: exhaustively, or by random walks when
/// the table or `options` ask for them.
pub fn check<P: Protocol>(
    registration: Arc<Registration<P>>,
    scenario: &Scenario,
    mutant: Option<&str>,
    options: &CheckOptions,
) -> Result<CheckReport, ScenarioError> {
    let protocol = registration.name;
    let (model, mutant) = model::<P>(registration, scenario, mutant)?;
    let bounds = model.bounds.clone();
    let always = model.always.clone();
    let sometimes = model.sometimes.clone();
    let threads = options.threads.max(1);
    let walks = match (options.strategy, options.walks.or(bounds.walks)) {
        (Strategy::Dfs, _) | (_, None | Some(0)) => None,
        (_, Some(walks)) if options.serve.is_none() => Some(WalkPlan {
            walks,
            depth: bounds.walk_depth,
            seed: options.seed,
        }),
        _ => None,
    };
    crate::panics::install_quiet_hook();
    let mut walk_hit = None;
    let (strategy, found) = if let Some(plan) = &walks {
        let (found, hit) = crate::walks::random_walks(&model, plan, options.max_states);
        walk_hit = hit;
        (Strategy::RandomWalks, found)
    } else {
        let mut builder = model
            .checker()
            .threads(threads)
            .finish_when(HasDiscoveries::AnyFailures);
        if let Some(max_states) = options.max_states {
            builder = builder.target_state_count(max_states.max(1));
        }
        if let Some(address) = &options.serve {
            let _checker = builder.serve(address.as_str());
            loop {
                std::thread::park();
            }
        }
        match options.strategy {
            Strategy::Dfs => (
                Strategy::Dfs,
                findings(builder.spawn_dfs().join(), &always, &sometimes),
            ),
            _ => (
                Strategy::Bfs,
                findings(builder.spawn_bfs().join(), &always, &sometimes),
            ),
        }
    };
    let Findings {
        states,
        unique_states,
        max_depth,
        properties,
    } = found;
    Ok(CheckReport {
        scenario: scenario.name(),
        protocol,
        mutant,
        nodes: scenario.file.nodes,
        strategy,
        threads: if walks.is_some() { 1 } else { threads },
        bounds,
        states,
        unique_states,
        max_depth,
        complete: walks.is_none() && options.max_states.is_none_or(|limit| states < limit),
        walks,
        walk_hit,
        properties,
    })
}

/// What a finished stateright checker found, in the order of the model's properties.
pub(crate) struct Findings {
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub properties: Vec<PropertyOutcome>,
}

fn findings<P: Protocol>(
    checker: impl stateright::Checker<ProtocolModel<P>>,
    always: &[&'static str],
    sometimes: &[&'static str],
) -> Findings {
    let mut properties = Vec::new();
    for &name in always {
        let path = checker.discovery(name);
        let detail = path.as_ref().and_then(|path| {
            let violation = path.last_state().violation.as_ref();
            violation.map(|violation| violation.detail.clone())
        });
        let counterexample = path.map(|path| {
            let actions = path.into_actions();
            actions.iter().map(CheckAction::record).collect()
        });
        properties.push(PropertyOutcome {
            name,
            expectation: "always",
            holds: counterexample.is_none(),
            detail,
            counterexample,
        });
    }
    for &name in sometimes {
        properties.push(PropertyOutcome {
            name,
            expectation: "sometimes",
            holds: checker.discovery(name).is_some(),
            detail: None,
            counterexample: None,
        });
    }
    Findings {
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        properties,
    }
}
