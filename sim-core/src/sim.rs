//! The discrete-event simulator: one run of a scenario with one seed.
//!
//! Events are ordered by (time, insertion sequence), so ties break deterministically.
//! Each node input is one *step*: the protocol's step function runs, its effects are
//! applied in order (sends go through the network model, timers draw their delay from
//! the timer stream, `Persist` updates the durable copy), and the checker checks what
//! that step could have changed. Faults come from the scenario's schedule, its nemesis,
//! or swarm mode; after `duration_ms` a scenario with `[liveness]` heals everything and
//! its liveness conditions must hold within the window.

use std::collections::{BTreeMap, BinaryHeap};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::faults::{FaultAction, NemesisPlan, Target};
use crate::hash::{hex, TraceHasher};
use crate::network::{DropCause, Fate, Network};
use crate::protocol::*;
use crate::registration::Registration;
use crate::result::{percentile, AppliedFault, HistoryOp, Metrics, RunOutput, RunResult, Verdict};
use crate::rng::{Purpose, Rng};
use crate::scenario::{Scenario, ScenarioError, Synchrony, WorkloadSpec};
use crate::stats::{per_second, ratio, Unavailability};
use crate::tape::{ClientDraw, MessageEntry, Tape, TapeDrop};

/// A scenario bound to a protocol and validated against it; shared by every seed of a
/// sweep (it is `Sync`).
#[derive(Clone)]
pub struct Prepared<P: Protocol> {
    pub registration: Arc<Registration<P>>,
    pub scenario: Scenario,
    pub config: P::Config,
    pub mutant: Option<String>,
    pub swarm: bool,
    schedule: Vec<(TimeUs, FaultAction, Option<TimeUs>)>,
    nemesis: Option<NemesisPlan>,
    bound: FaultBound,
    /// The scenario's `[tape]`: when present, the run takes its network, timer and
    /// workload decisions from it instead of the random streams.
    tape: Option<Tape>,
}

/// The property a protocol with a history model fails when its client history is not
/// linearizable (or, with verdict `budget`, when the check ran out of budget).
pub const LINEARIZABLE: &str = "linearizable";

/// The end-of-run linearizability check's budget, in model steps over all keys. Most kv
/// runs need about one step per operation (a millisecond or two); the hardest seen, 2,563
/// operations with 20 clients on a zipf-hot key (`scenarios/kv/many_clients.toml` seed 15),
/// needs 1.2 million (0.3 s). Ten million keeps a run within a few seconds at worst; over
/// budget the verdict is `budget`, never a pass.
pub const LINCHECK_MAX_STEPS: u64 = 10_000_000;

/// A role selector every protocol with a leader role understands (`node = "leader"`):
/// the role its registration marks as the leader, whatever its name.
pub const LEADER_ALIAS: &str = "leader";

/// Names a scenario's `expect` may use besides property names.
pub const VERDICT_EXPECTATIONS: &[&str] = &["pass", "violation", "liveness", "panic", "budget"];

impl<P: Protocol> Prepared<P> {
    /// Bind `scenario` to `P`. `mutant` and `swarm` override the scenario's own.
    pub fn new(
        registration: Arc<Registration<P>>,
        scenario: &Scenario,
        mutant: Option<&str>,
        swarm: bool,
    ) -> Result<Prepared<P>, ScenarioError> {
        let file = &scenario.file;
        assert_eq!(file.protocol, registration.name);
        let name = registration.name;
        let mutant = mutant.map(str::to_string).or_else(|| file.mutant.clone());
        let config = registration
            .configure(file.params.clone(), file.nodes, mutant.as_deref())
            .map_err(|error| {
                let field = if error.field == "mutant" {
                    "mutant".to_string()
                } else {
                    format!("params.{}", error.field)
                };
                scenario.error(&field, error.message, error.fix)
            })?;
        if file.workload.is_some() && registration.workload.is_none() {
            return Err(scenario.error(
                "workload",
                format!("{name} takes no client operations"),
                "remove the [workload] table",
            ));
        }
        for (index, fault) in file.faults.iter().enumerate() {
            if let Some(crate::scenario::NodeSelector::Role(role)) = fault.action.node_selector() {
                let declared = registration.roles.iter().any(|r| r.name == role.as_str())
                    || (role == LEADER_ALIAS && registration.leader_role().is_some());
                if !declared {
                    let mut known: Vec<&str> = registration.roles.iter().map(|r| r.name).collect();
                    if registration.leader_role().is_some() && !known.contains(&LEADER_ALIAS) {
                        known.push(LEADER_ALIAS);
                    }
                    return Err(scenario.error(
                        &format!("faults[{index}].node"),
                        format!("{name} has no role `{role}`"),
                        format!("use a node id or one of the roles: {}", known.join(", ")),
                    ));
                }
            }
        }
        let schedule = file
            .faults
            .iter()
            .map(|spec| {
                let action = FaultAction::from_spec(&spec.action, file.nodes)
                    .expect("validated when the scenario loaded");
                (spec.at(), action, spec.duration())
            })
            .collect();
        let names = property_names(&registration);
        let expect = file.expect.as_str();
        let expect_known = names.iter().any(|name| name == expect)
            || VERDICT_EXPECTATIONS.contains(&expect)
            || expect
                .strip_prefix("sometimes.")
                .is_some_and(|name| file.sometimes.iter().any(|s| s == name));
        if !expect_known {
            return Err(scenario.error(
                "expect",
                format!("`{expect}` is neither \"pass\", a verdict, nor a property of {name}"),
                format!(
                    "use one of: {}, {}",
                    VERDICT_EXPECTATIONS.join(", "),
                    names.join(", ")
                ),
            ));
        }
        if let Some(liveness) = &file.liveness {
            for condition in &liveness.require {
                if condition != "client_progress"
                    && !P::Checker::liveness_conditions()
                        .iter()
                        .any(|c| c.name == condition)
                {
                    return Err(scenario.error(
                        "liveness.require",
                        format!("unknown liveness condition `{condition}` for {name}"),
                        format!(
                            "use some of: client_progress{}",
                            P::Checker::liveness_conditions()
                                .iter()
                                .map(|c| format!(", {}", c.name))
                                .collect::<String>()
                        ),
                    ));
                }
            }
        }
        Ok(Prepared {
            bound: (registration.fault_bound)(file.nodes),
            registration,
            scenario: scenario.clone(),
            config,
            mutant,
            swarm: swarm || file.swarm,
            schedule,
            nemesis: file.nemesis.as_ref().map(NemesisPlan::from_spec),
            tape: file.tape.as_ref().map(Tape::from_spec),
        })
    }

    /// The command that reproduces `seed`.
    pub fn repro(&self, seed: u64) -> String {
        let mut command = format!(
            "quorumlab run {} --seed {seed}",
            self.scenario.path.display()
        );
        if let Some(mutant) = &self.mutant {
            if self.scenario.file.mutant.as_deref() != Some(mutant) {
                command.push_str(&format!(" --mutant {mutant}"));
            }
        }
        if self.swarm && !self.scenario.file.swarm {
            command.push_str(" --swarm");
        }
        command
    }

    /// Run one seed. Never panics: a protocol panic is a `panic` verdict.
    pub fn run(&self, seed: u64, trace: bool) -> RunOutput {
        self.run_with(seed, trace, false)
    }

    /// Run one seed; with `record_tape`, the output carries the run's decision tape
    /// (`RunOutput::tape`), which replays this run exactly when set as the scenario's
    /// `[tape]`.
    pub fn run_with(&self, seed: u64, trace: bool, record_tape: bool) -> RunOutput {
        let mut sim = Sim::new(self, seed, trace, record_tape);
        let outcome = crate::panics::quietly(|| catch_unwind(AssertUnwindSafe(|| sim.run_loop())));
        if let Err(payload) = outcome {
            let message = crate::panics::take_message()
                .unwrap_or_else(|| crate::panics::payload_text(payload.as_ref()));
            sim.failure = Some((Verdict::Panic, "panic".to_string(), message));
        }
        sim.finish()
    }
}

/// Every property name a scenario of `P` may expect: invariants, liveness conditions.
pub fn property_names<P: Protocol>(registration: &Registration<P>) -> Vec<String> {
    let mut names: Vec<String> = P::Checker::properties()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    names.extend(
        P::Checker::liveness_conditions()
            .iter()
            .map(|c| c.name.to_string()),
    );
    names.push("client_progress".to_string());
    if registration.history.is_some() {
        names.push(LINEARIZABLE.to_string());
    }
    names
}

enum Event<P: Protocol> {
    Start {
        node: NodeId,
    },
    Deliver {
        from: NodeId,
        to: NodeId,
        msg: P::Msg,
        /// The message's ordinal on its (from, to) pair, its key on the tape.
        ordinal: u64,
        duplicate: bool,
    },
    Timer {
        node: NodeId,
        timer: P::Timer,
        generation: u64,
    },
    ClientArrive {
        node: NodeId,
        client: ClientId,
        request: u64,
        op: P::Op,
    },
    ClientReply {
        client: ClientId,
        request: u64,
        reply: P::Reply,
    },
    ClientTimeout {
        client: ClientId,
        request: u64,
        attempt: u32,
    },
    ClientSend {
        client: ClientId,
    },
    /// An explicitly scheduled operation (`[[workload.ops]]`).
    ClientInvoke {
        client: ClientId,
        draw: u64,
    },
    ClientNext {
        client: ClientId,
    },
    Fault {
        action: FaultAction,
        duration_us: Option<TimeUs>,
    },
    Revert {
        action: FaultAction,
    },
    Nemesis,
    Heal,
    End,
}

/// The event queue: a heap of small keys ordered by (time, class, insertion sequence),
/// with the events themselves in a slab so that sifting the heap moves 32 bytes, not a
/// message. Within one instant, fault reverts come first, then faults, then everything
/// else: so a fault fires at the same point among its instant's events whether a nemesis
/// chose it at run time or a schedule named it in advance (which is what lets `shrink`
/// turn a nemesis run into an explicit schedule without changing the run).
struct EventQueue<P: Protocol> {
    heap: BinaryHeap<std::cmp::Reverse<(TimeUs, u8, u64, u32)>>,
    slots: Vec<Option<Event<P>>>,
    free: Vec<u32>,
    seq: u64,
}

impl<P: Protocol> EventQueue<P> {
    fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }

    fn push(&mut self, time: TimeUs, event: Event<P>) {
        self.seq += 1;
        let class = match event {
            Event::Revert { .. } => 0,
            Event::Fault { .. } | Event::Nemesis => 1,
            _ => 2,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                assert!(self.slots[slot as usize].is_none());
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 queued events")
            }
        };
        self.heap
            .push(std::cmp::Reverse((time, class, self.seq, slot)));
    }

    fn pop(&mut self) -> Option<(TimeUs, Event<P>)> {
        let std::cmp::Reverse((time, _, _, slot)) = self.heap.pop()?;
        let event = self.slots[slot as usize]
            .take()
            .expect("a queued slot holds its event");
        self.free.push(slot);
        Some((time, event))
    }

    fn len(&self) -> usize {
        self.heap.len()
    }
}

struct Client<P: Protocol> {
    next_seq: u64,
    /// Explicit operations waiting for the outstanding one to complete.
    queued: std::collections::VecDeque<u64>,
    leader_guess: Option<NodeId>,
    outstanding: Option<Outstanding<P>>,
}

struct Outstanding<P: Protocol> {
    request: u64,
    op: P::Op,
    attempt: u32,
    history_index: usize,
}

/// Upper bound on queued events; more is a `budget` failure (a protocol flooding the
/// network), never unbounded memory.
const QUEUE_EVENTS_MAX: usize = 4_000_000;

struct Sim<'a, P: Protocol> {
    prepared: &'a Prepared<P>,
    seed: u64,
    cluster_size: u32,
    now: TimeUs,
    queue: EventQueue<P>,
    nodes: Vec<Option<P>>,
    durable: Vec<Option<P::Durable>>,
    /// Armed timers per node: name -> generation. A firing whose generation is not the
    /// armed one was cancelled or re-armed, and is ignored.
    timers: Vec<BTreeMap<P::Timer, u64>>,
    timer_generation: u64,
    drift_ppm: Vec<i64>,
    crash_after_persist: Vec<bool>,
    network: Network,
    rng_network: Rng,
    rng_faults: Rng,
    rng_workload: Rng,
    rng_timers: Rng,
    /// The decisions taken so far, when recording (see `tape.rs`).
    tape_out: Option<Tape>,
    /// Tape keys: messages sent per (from, to) pair, timers armed per node, workload
    /// draws per client. Counted on every run (it is cheap); read only with a tape.
    link_sends: Vec<u64>,
    timer_arms: Vec<u64>,
    client_draws: Vec<u64>,
    checker: P::Checker,
    fx: Effects<P>,
    observations: Vec<P::Obs>,
    hasher: TraceHasher,
    trace: Option<Vec<String>>,
    trace_effects: Vec<Value>,
    events: u64,
    metrics: Metrics,
    messages_by_kind: BTreeMap<&'static str, u64>,
    drops_by_cause: BTreeMap<&'static str, u64>,
    observation_counts: BTreeMap<&'static str, u64>,
    faults_fired: BTreeMap<&'static str, u64>,
    clients: Vec<Client<P>>,
    history: Vec<HistoryOp>,
    latencies_us: Vec<u64>,
    roles: Vec<(u64, u32, &'static str)>,
    applied_faults: Vec<AppliedFault>,
    nemesis: Option<NemesisPlan>,
    end_us: TimeUs,
    healed_at: Option<TimeUs>,
    liveness_pending: Vec<String>,
    failure: Option<(Verdict, String, String)>,
    finished: bool,
}

impl<'a, P: Protocol> Sim<'a, P> {
    fn new(prepared: &'a Prepared<P>, seed: u64, trace: bool, record_tape: bool) -> Sim<'a, P> {
        let file = &prepared.scenario.file;
        let n = file.nodes as usize;
        let mut rng_network = Rng::new(seed, Purpose::Network);
        let mut network = Network::new(&file.network, file.nodes, &mut rng_network);
        if file.synchrony == Synchrony::Synchronous {
            network.stabilise();
        }
        let mut rng_swarm = Rng::new(seed, Purpose::Swarm);
        let nemesis = if prepared.swarm {
            Some(NemesisPlan::swarm(
                prepared.nemesis.as_ref(),
                &mut rng_swarm,
            ))
        } else {
            prepared.nemesis.clone()
        };
        let duration_us = file.duration_ms * 1000;
        let end_us = duration_us
            + file
                .liveness
                .as_ref()
                .map_or(0, |liveness| liveness.within_ms * 1000);
        let clients = file
            .workload
            .as_ref()
            .map_or(0, |workload| workload.clients);
        let mut sim = Sim {
            prepared,
            seed,
            cluster_size: file.nodes,
            now: 0,
            queue: EventQueue::new(),
            nodes: vec![None; n],
            durable: vec![None; n],
            timers: vec![BTreeMap::new(); n],
            timer_generation: 0,
            drift_ppm: vec![0; n],
            crash_after_persist: vec![false; n],
            network,
            rng_network,
            rng_faults: Rng::new(seed, Purpose::Faults),
            rng_workload: Rng::new(seed, Purpose::Workload),
            rng_timers: Rng::new(seed, Purpose::Timers),
            tape_out: record_tape.then(Tape::default),
            link_sends: vec![0; n * n],
            timer_arms: vec![0; n],
            client_draws: vec![0; clients as usize],
            checker: P::Checker::default(),
            fx: Effects::default(),
            observations: Vec::new(),
            hasher: TraceHasher::default(),
            trace: trace.then(Vec::new),
            trace_effects: Vec::new(),
            events: 0,
            metrics: Metrics::default(),
            messages_by_kind: BTreeMap::new(),
            drops_by_cause: BTreeMap::new(),
            observation_counts: BTreeMap::new(),
            faults_fired: BTreeMap::new(),
            clients: (0..clients)
                .map(|_| Client {
                    next_seq: 0,
                    queued: std::collections::VecDeque::new(),
                    leader_guess: None,
                    outstanding: None,
                })
                .collect(),
            history: Vec::new(),
            latencies_us: Vec::new(),
            roles: Vec::new(),
            applied_faults: Vec::new(),
            nemesis,
            end_us,
            healed_at: None,
            liveness_pending: file
                .liveness
                .as_ref()
                .map_or_else(Vec::new, |liveness| liveness.require.clone()),
            failure: None,
            finished: false,
        };
        // Scheduled faults come first, so a fault at 0 ms holds from the start.
        for (at, action, duration_us) in &prepared.schedule {
            sim.schedule(
                *at,
                Event::Fault {
                    action: action.clone(),
                    duration_us: *duration_us,
                },
            );
        }
        for node in 0..file.nodes {
            sim.schedule(0, Event::Start { node: NodeId(node) });
        }
        if let Some(plan) = &sim.nemesis {
            let [min, max] = plan.interval_ms;
            let first = sim.rng_faults.range_inclusive(min, max) * 1000;
            sim.schedule(first, Event::Nemesis);
        }
        let explicit_ops = file.workload.as_ref().and_then(|w| w.ops.as_ref());
        for op in explicit_ops.into_iter().flatten() {
            sim.schedule(
                op.at_us,
                Event::ClientInvoke {
                    client: op.client,
                    draw: op.draw,
                },
            );
        }
        for client in 0..clients {
            let [min, max] = sim.workload().interval_ms;
            // Drawn even for explicit operations, so both consume the workload stream alike.
            let first = sim.workload_draw(client, ClientDraw::Think, min * 1000, |rng| {
                rng.range_inclusive(min, max) * 1000
            });
            if explicit_ops.is_none() {
                sim.schedule(first, Event::ClientNext { client });
            }
        }
        if file.liveness.is_some() {
            sim.schedule(duration_us, Event::Heal);
        }
        sim.schedule(end_us, Event::End);
        sim
    }

    fn schedule(&mut self, time: TimeUs, event: Event<P>) {
        self.queue.push(time, event);
    }

    fn fail(&mut self, verdict: Verdict, property: impl Into<String>, detail: impl Into<String>) {
        if self.failure.is_none() {
            self.failure = Some((verdict, property.into(), detail.into()));
        }
    }

    fn run_loop(&mut self) {
        let max_events = self.prepared.scenario.file.budget.max_events;
        while let Some((time, event)) = self.queue.pop() {
            assert!(
                time >= self.now,
                "time went backwards: {} -> {time}",
                self.now
            );
            self.now = time;
            self.events += 1;
            if self.events > max_events {
                self.fail(
                    Verdict::Budget,
                    "budget",
                    format!("more than {max_events} events (budget.max_events)"),
                );
            } else if self.queue.len() > QUEUE_EVENTS_MAX {
                self.fail(
                    Verdict::Budget,
                    "budget",
                    format!("more than {QUEUE_EVENTS_MAX} events queued at once"),
                );
            } else {
                self.handle(event);
            }
            if self.failure.is_some() || self.finished {
                break;
            }
        }
    }

    fn handle(&mut self, event: Event<P>) {
        match event {
            Event::Start { node } => {
                let ctx = self.ctx(node);
                self.nodes[node.index()] = Some(P::new(&ctx));
                self.step(node, Input::Init);
            }
            Event::Deliver {
                from,
                to,
                msg,
                ordinal,
                duplicate,
            } => {
                if self.nodes[to.index()].is_none() {
                    self.drop_on_arrival(from, to, &msg, DropCause::Crashed);
                } else if self.network.bounded.is_none()
                    && self.receive_omitted(from, to, ordinal, duplicate)
                {
                    self.drop_on_arrival(from, to, &msg, DropCause::ReceiveOmission);
                } else {
                    self.metrics.messages_delivered += 1;
                    self.step(to, Input::Message { from, msg });
                }
            }
            Event::Timer {
                node,
                timer,
                generation,
            } => {
                if self.timers[node.index()].get(&timer) == Some(&generation) {
                    self.timers[node.index()].remove(&timer);
                    self.step(node, Input::Timer(timer));
                }
            }
            Event::ClientArrive {
                node,
                client,
                request,
                op,
            } => {
                if self.nodes[node.index()].is_some() {
                    self.step(
                        node,
                        Input::Client {
                            client,
                            request,
                            op,
                        },
                    );
                }
            }
            Event::ClientReply {
                client,
                request,
                reply,
            } => self.on_client_reply(client, request, reply),
            Event::ClientTimeout {
                client,
                request,
                attempt,
            } => {
                let state = &mut self.clients[client as usize];
                if let Some(outstanding) = &mut state.outstanding {
                    if outstanding.request == request && outstanding.attempt == attempt {
                        state.leader_guess = None;
                        self.client_send(client);
                    }
                }
            }
            Event::ClientSend { client } => {
                if self.clients[client as usize].outstanding.is_some() {
                    self.client_send(client);
                }
            }
            Event::ClientNext { client } => {
                if self.now < self.end_us {
                    let draw = self.workload_draw(client, ClientDraw::Op, 0, Rng::next_u64);
                    self.client_invoke(client, draw);
                }
            }
            Event::ClientInvoke { client, draw } => {
                if self.clients[client as usize].outstanding.is_some() {
                    self.clients[client as usize].queued.push_back(draw);
                } else {
                    self.client_invoke_explicit(client, draw);
                }
            }
            Event::Fault {
                action,
                duration_us,
            } => self.apply_fault(action, duration_us),
            Event::Revert { action } => {
                if self.healed_at.is_none() {
                    self.revert(action);
                }
            }
            Event::Nemesis => self.nemesis_tick(),
            Event::Heal => self.heal(),
            Event::End => self.end(),
        }
        if self.healed_at.is_some() && !self.liveness_pending.is_empty() {
            self.check_liveness();
        }
    }

    fn ctx(&self, node: NodeId) -> Ctx<'a, P::Config> {
        Ctx {
            id: node,
            cluster_size: self.cluster_size,
            config: &self.prepared.config,
        }
    }

    /// One input to one node: the protocol's step, its effects, then the checker.
    fn step(&mut self, node: NodeId, input: Input<P>) {
        let index = node.index();
        let ctx = self.ctx(node);
        self.metrics.steps += 1;
        self.now.hash(&mut self.hasher);
        node.hash(&mut self.hasher);
        input.hash(&mut self.hasher);
        let trace_input = self.trace.is_some().then(|| input_json::<P>(&input));
        let kind = input.kind();
        // A start or restart always reports the role the node starts in.
        let role_before = match input {
            Input::Init | Input::Restart => None,
            _ => self.nodes[index].as_ref().map(P::role),
        };
        self.nodes[index]
            .as_mut()
            .expect("only live nodes step")
            .step(&ctx, input, &mut self.fx);

        let mut fx = std::mem::take(&mut self.fx);
        let mut crash_now = false;
        for effect in fx.drain() {
            if crash_now {
                // The node crashed right after persisting: the rest of this step's
                // effects never happened.
                if self.trace.is_some() {
                    self.trace_effects
                        .push(json!({"lost_in_crash": effect_json::<P>(&effect)}));
                }
                continue;
            }
            // The durable state is a function of the inputs hashed so far, so a marker
            // stands for it (hashing whole logs on every persist would dominate a run).
            match &effect {
                Effect::Persist(_) => "persist".hash(&mut self.hasher),
                other => other.hash(&mut self.hasher),
            }
            match effect {
                Effect::Send { to, msg } => self.send(node, to, msg),
                Effect::SetTimer {
                    timer,
                    min_us,
                    max_us,
                } => {
                    let drawn = self.timer_draw(node, min_us, max_us);
                    let delay = drifted(drawn, self.drift_ppm[index]);
                    self.timer_generation += 1;
                    self.timers[index].insert(timer, self.timer_generation);
                    let generation = self.timer_generation;
                    self.schedule(
                        self.now + delay,
                        Event::Timer {
                            node,
                            timer,
                            generation,
                        },
                    );
                    delay.hash(&mut self.hasher);
                    if self.trace.is_some() {
                        self.trace_effects
                            .push(json!({"set_timer": {"timer": timer.kind(), "delay_us": delay}}));
                    }
                }
                Effect::CancelTimer { timer } => {
                    self.timers[index].remove(&timer);
                    if self.trace.is_some() {
                        self.trace_effects
                            .push(json!({"cancel_timer": {"timer": timer.kind()}}));
                    }
                }
                Effect::Persist(durable) => {
                    if self.trace.is_some() {
                        self.trace_effects.push(json!({"persist": true}));
                    }
                    self.durable[index] = Some(durable);
                    if self.crash_after_persist[index] {
                        crash_now = true;
                    }
                }
                Effect::Reply {
                    client,
                    request,
                    reply,
                } => {
                    if self.trace.is_some() {
                        self.trace_effects.push(json!({"reply": {"client": client, "request": request, "reply": reply}}));
                    }
                    if (client as usize) < self.clients.len() {
                        let latency = self.client_latency(client);
                        self.schedule(
                            self.now + latency,
                            Event::ClientReply {
                                client,
                                request,
                                reply,
                            },
                        );
                    }
                }
                Effect::Observe(observation) => {
                    *self
                        .observation_counts
                        .entry(observation.kind())
                        .or_insert(0) += 1;
                    self.observations.push(observation);
                }
            }
        }
        self.fx = fx;

        let verdict = self.checker.on_step(&self.nodes, node, &self.observations);
        let role_after = self.nodes[index].as_ref().map(P::role);
        let state_after = match (&self.trace, &self.nodes[index]) {
            (Some(_), Some(node)) => self
                .prepared
                .registration
                .trace_state
                .map(|state| state(node)),
            _ => None,
        };
        let role_changed = role_after.filter(|role| Some(*role) != role_before);
        if let Some(role) = role_changed {
            let registration = &self.prepared.registration;
            assert!(
                registration
                    .roles
                    .iter()
                    .any(|declared| declared.name == role),
                "{node} is in role `{role}`, which the registration of {} does not declare",
                registration.name
            );
            if Some(role) == registration.leader_role() {
                self.metrics.leader_changes += 1;
            }
            self.roles.push((self.now, node.0, role));
        }
        if let Some(trace) = &mut self.trace {
            let observations: Vec<Value> = self
                .observations
                .iter()
                .map(|o| json!({o.kind(): o}))
                .collect();
            let line = json!({
                "i": self.events,
                "time_us": self.now,
                "node": node.0,
                "event": kind,
                "input": trace_input,
                "effects": std::mem::take(&mut self.trace_effects),
                "observations": observations,
                "role": role_changed,
                "state": state_after,
            });
            trace.push(line.to_string());
        }
        self.observations.clear();
        if let Err(violation) = verdict {
            self.fail(Verdict::Violation, violation.property, violation.detail);
        }
        if crash_now {
            self.crash(node, "crash_after_persist");
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        self.metrics.messages_sent += 1;
        *self.messages_by_kind.entry(msg.kind()).or_insert(0) += 1;
        let link = from.index() * self.cluster_size as usize + to.index();
        let ordinal = self.link_sends[link];
        self.link_sends[link] += 1;
        let fate = match &self.prepared.tape {
            None => self
                .network
                .send(self.now, from, to, msg.size_bytes(), &mut self.rng_network),
            Some(tape) => {
                self.network
                    .send_from_tape(from, to, tape.message(from.0, to.0, ordinal))
            }
        };
        if let Some(tape_out) = &mut self.tape_out {
            record_fate(tape_out, from, to, ordinal, fate);
        }
        fate.hash(&mut self.hasher);
        if self.trace.is_some() {
            let fate_json = match fate {
                Fate::Deliver {
                    delay_us,
                    duplicate_delay_us,
                } => json!({"delay_us": delay_us, "duplicate_delay_us": duplicate_delay_us}),
                Fate::Drop(cause) => json!({"dropped": cause.name()}),
            };
            self.trace_effects
                .push(json!({"send": {"to": to.0, "msg": {msg.kind(): &msg}, "fate": fate_json}}));
        }
        match fate {
            Fate::Deliver {
                delay_us,
                duplicate_delay_us,
            } => {
                if let Some(duplicate_delay) = duplicate_delay_us {
                    self.metrics.messages_duplicated += 1;
                    self.schedule(
                        self.now + duplicate_delay,
                        Event::Deliver {
                            from,
                            to,
                            msg: msg.clone(),
                            ordinal,
                            duplicate: true,
                        },
                    );
                }
                self.schedule(
                    self.now + delay_us,
                    Event::Deliver {
                        from,
                        to,
                        msg,
                        ordinal,
                        duplicate: false,
                    },
                );
            }
            Fate::Drop(cause) => {
                self.metrics.messages_dropped += 1;
                *self.drops_by_cause.entry(cause.name()).or_insert(0) += 1;
            }
        }
    }

    fn drop_on_arrival(&mut self, from: NodeId, to: NodeId, msg: &P::Msg, cause: DropCause) {
        self.metrics.messages_dropped += 1;
        *self.drops_by_cause.entry(cause.name()).or_insert(0) += 1;
        (self.now, from, to, cause).hash(&mut self.hasher);
        self.trace_line(|sim| {
            json!({"i": sim.events, "time_us": sim.now, "node": to.0, "event": "drop",
                   "from": from.0, "msg": msg.kind(), "cause": cause.name()})
        });
    }

    fn trace_line(&mut self, line: impl FnOnce(&Self) -> Value) {
        if self.trace.is_some() {
            let value = line(self).to_string();
            if let Some(trace) = &mut self.trace {
                trace.push(value);
            }
        }
    }

    fn crash(&mut self, node: NodeId, cause: &'static str) {
        if self.nodes[node.index()].take().is_none() {
            return;
        }
        self.timers[node.index()].clear();
        self.crash_after_persist[node.index()] = false;
        self.roles.push((self.now, node.0, "crashed"));
        (self.now, node, "crash").hash(&mut self.hasher);
        self.trace_line(|sim| json!({"i": sim.events, "time_us": sim.now, "node": node.0, "event": "crash", "cause": cause}));
    }

    fn restart(&mut self, node: NodeId) {
        if self.nodes[node.index()].is_some() {
            return;
        }
        let ctx = self.ctx(node);
        self.nodes[node.index()] = Some(P::recover(&ctx, self.durable[node.index()].as_ref()));
        self.step(node, Input::Restart);
    }

    /// The scenario's workload; only called where clients exist.
    fn workload(&self) -> &'a WorkloadSpec {
        self.prepared
            .scenario
            .file
            .workload
            .as_ref()
            .expect("clients need a workload")
    }

    fn client_latency(&mut self, client: ClientId) -> TimeUs {
        let prepared = self.prepared;
        let latency = &prepared.scenario.file.network.latency;
        self.workload_draw(client, ClientDraw::Latency, latency.min_us(), |rng| {
            latency.draw(rng)
        })
    }

    /// An explicit operation: the random draw a random operation would take is taken
    /// (and unused), for the same reason as the think time above. (A run from a tape
    /// draws nothing, so it skips this too.)
    fn client_invoke_explicit(&mut self, client: ClientId, draw: u64) {
        if self.prepared.tape.is_none() {
            self.rng_workload.next_u64();
        }
        self.client_invoke(client, draw);
    }

    /// One workload decision of `client`: from the tape (or `fallback` where the tape
    /// has none) when the run has one, else drawn by `draw`; recorded when recording.
    fn workload_draw(
        &mut self,
        client: ClientId,
        kind: ClientDraw,
        fallback: u64,
        draw: impl FnOnce(&mut Rng) -> u64,
    ) -> u64 {
        let n = self.client_draws[client as usize];
        self.client_draws[client as usize] += 1;
        let value = match &self.prepared.tape {
            None => draw(&mut self.rng_workload),
            Some(tape) => tape.client(client, n, kind).unwrap_or(fallback),
        };
        if let Some(tape_out) = &mut self.tape_out {
            tape_out.record_client(client, n, kind, value);
        }
        value
    }

    /// A timer's delay in `min_us..=max_us`, before drift: drawn, or from the tape
    /// (the range's minimum where the tape has no entry).
    fn timer_draw(&mut self, node: NodeId, min_us: TimeUs, max_us: TimeUs) -> TimeUs {
        let n = self.timer_arms[node.index()];
        self.timer_arms[node.index()] += 1;
        let drawn = match &self.prepared.tape {
            None => self.rng_timers.range_inclusive(min_us, max_us),
            // Clamped: the protocol's range is its contract, whatever the tape says.
            Some(tape) => tape
                .timer(node.0, n)
                .map_or(min_us, |delay| delay.clamp(min_us, max_us)),
        };
        if let Some(tape_out) = &mut self.tape_out {
            tape_out.record_timer(node.0, n, drawn);
        }
        drawn
    }

    /// Does the receiver's omission fault lose this copy on arrival? A tape decides
    /// only while the fault is active, as the random stream does.
    fn receive_omitted(&mut self, from: NodeId, to: NodeId, ordinal: u64, duplicate: bool) -> bool {
        let per_million = self.network.receive_omission_per_million[to.index()];
        let omitted = match &self.prepared.tape {
            None => self.rng_network.chance(per_million),
            Some(tape) => {
                per_million > 0
                    && tape.message(from.0, to.0, ordinal).is_some_and(|entry| {
                        if duplicate {
                            entry.duplicate_receive_omitted
                        } else {
                            entry.receive_omitted
                        }
                    })
            }
        };
        if omitted {
            if let Some(entry) = self
                .tape_out
                .as_mut()
                .and_then(|tape| tape.message_mut(from.0, to.0, ordinal))
            {
                if duplicate {
                    entry.duplicate_receive_omitted = true;
                } else {
                    entry.receive_omitted = true;
                }
            }
        }
        omitted
    }

    /// The client invokes its next operation, built from `draw`.
    fn client_invoke(&mut self, client: ClientId, draw: u64) {
        let state = &mut self.clients[client as usize];
        assert!(
            state.outstanding.is_none(),
            "client {client} has one operation at a time"
        );
        state.next_seq += 1;
        let request = state.next_seq;
        let workload = self.prepared.registration.workload;
        let op = workload.expect("checked by Prepared::new")(
            &self.prepared.config,
            client,
            request,
            draw,
        );
        self.metrics.client_ops_invoked += 1;
        // A protocol with a history model records its operations in the linearizability
        // checker's vocabulary, so that `history.json` is what `quorumlab lincheck` reads.
        let history = self.prepared.registration.history.as_ref();
        let (key, op_json) = match history.and_then(|hooks| (hooks.input)(&op)) {
            Some((key, input)) => (key, serde_json::to_value(&input).unwrap_or(Value::Null)),
            None => (None, serde_json::to_value(&op).unwrap_or(Value::Null)),
        };
        self.history.push(HistoryOp {
            client,
            request,
            invoke_us: self.now,
            complete_us: None,
            status: "info".to_string(),
            key,
            op: op_json,
            reply: None,
            output: None,
            draw,
        });
        let history_index = self.history.len() - 1;
        self.clients[client as usize].outstanding = Some(Outstanding {
            request,
            op,
            attempt: 0,
            history_index,
        });
        self.client_send(client);
    }

    /// (Re)send the client's outstanding request to its leader guess, or a random node.
    fn client_send(&mut self, client: ClientId) {
        let timeout_us = self.workload().timeout_ms * 1000;
        let target = match self.clients[client as usize].leader_guess {
            Some(node) => node,
            None => {
                let nodes = self.cluster_size as u64;
                let fallback = client as u64 % nodes;
                let drawn = self
                    .workload_draw(client, ClientDraw::Target, fallback, |rng| rng.below(nodes));
                // A tape from a larger cluster may name a node this run lacks.
                NodeId(if drawn < nodes { drawn } else { fallback } as u32)
            }
        };
        let latency = self.client_latency(client);
        let outstanding = self.clients[client as usize]
            .outstanding
            .as_mut()
            .expect("a request to send");
        outstanding.attempt += 1;
        let (request, attempt, op) = (
            outstanding.request,
            outstanding.attempt,
            outstanding.op.clone(),
        );
        self.schedule(
            self.now + latency,
            Event::ClientArrive {
                node: target,
                client,
                request,
                op,
            },
        );
        self.schedule(
            self.now + timeout_us,
            Event::ClientTimeout {
                client,
                request,
                attempt,
            },
        );
    }

    fn on_client_reply(&mut self, client: ClientId, request: u64, reply: P::Reply) {
        let backoff_us = self
            .prepared
            .scenario
            .file
            .workload
            .as_ref()
            .map_or(0, |w| w.backoff_ms * 1000);
        let state = &mut self.clients[client as usize];
        let Some(outstanding) = &state.outstanding else {
            return;
        };
        if outstanding.request != request {
            return;
        }
        let history_index = outstanding.history_index;
        let status = match reply.outcome() {
            ReplyOutcome::Redirect(hint) => {
                state.leader_guess = hint;
                match hint {
                    Some(_) => self.client_send(client),
                    None => self.schedule(self.now + backoff_us, Event::ClientSend { client }),
                }
                return;
            }
            ReplyOutcome::Ok => {
                self.metrics.client_ops_ok += 1;
                "ok"
            }
            ReplyOutcome::Failed => {
                self.metrics.client_ops_failed += 1;
                "fail"
            }
        };
        let completed = state.outstanding.take().expect("checked above");
        let op = &mut self.history[history_index];
        op.complete_us = Some(self.now);
        op.status = status.to_string();
        op.reply = Some(serde_json::to_value(&reply).unwrap_or(Value::Null));
        if let Some(hooks) = &self.prepared.registration.history {
            op.output = (hooks.output)(&completed.op, &reply)
                .map(|output| serde_json::to_value(&output).unwrap_or(Value::Null));
        }
        self.latencies_us.push(self.now - op.invoke_us);
        if let Some(healed_at) = self.healed_at {
            if status == "ok" && op.invoke_us >= healed_at {
                self.liveness_pending
                    .retain(|condition| condition != "client_progress");
            }
        }
        let [min, max] = self.workload().interval_ms;
        let think = self.workload_draw(client, ClientDraw::Think, min * 1000, |rng| {
            rng.range_inclusive(min, max) * 1000
        });
        if self.workload().ops.is_some() {
            // Explicit operations: the next one queued for this client goes now. The
            // think time above is still drawn (and unused) so that the workload stream is
            // consumed exactly as with random operations: a run whose operations were
            // made explicit (by `shrink`) is the same run.
            if let Some(draw) = self.clients[client as usize].queued.pop_front() {
                self.client_invoke_explicit(client, draw);
            }
            return;
        }
        self.schedule(self.now + think, Event::ClientNext { client });
    }

    /// Does a node in `role` match the selector `selector` (a role name, or `leader` for
    /// the role the registration marks as the leader)?
    fn role_matches(&self, role: &str, selector: &str) -> bool {
        role == selector
            || (selector == LEADER_ALIAS && self.prepared.registration.leader_role() == Some(role))
    }

    /// Resolve a fault's target to a node id, if any node matches now.
    fn resolve(&self, target: &Target) -> Option<NodeId> {
        match target {
            Target::Node(id) => Some(NodeId(*id)),
            Target::Role(role) => (0..self.cluster_size).map(NodeId).find(|node| {
                self.nodes[node.index()]
                    .as_ref()
                    .is_some_and(|state| self.role_matches(state.role(), role))
            }),
        }
    }

    fn apply_fault(&mut self, action: FaultAction, duration_us: Option<TimeUs>) {
        let fired = match &action {
            FaultAction::Crash { node } => self
                .resolve(node)
                .filter(|id| self.nodes[id.index()].is_some())
                .map(|id| {
                    self.crash(id, "fault");
                    FaultAction::Crash {
                        node: Target::Node(id.0),
                    }
                }),
            FaultAction::CrashAfterPersist { node } => self.resolve(node).map(|id| {
                self.crash_after_persist[id.index()] = true;
                FaultAction::CrashAfterPersist {
                    node: Target::Node(id.0),
                }
            }),
            FaultAction::Restart { node } => self
                .resolve(node)
                .filter(|id| self.nodes[id.index()].is_none())
                .map(|id| {
                    self.restart(id);
                    FaultAction::Restart {
                        node: Target::Node(id.0),
                    }
                }),
            FaultAction::Partition { .. } | FaultAction::OneWay { .. } => {
                self.cut(&action, true);
                Some(action.clone())
            }
            FaultAction::Isolate { node } => self.resolve(node).map(|id| {
                let resolved = FaultAction::Isolate {
                    node: Target::Node(id.0),
                };
                self.cut(&resolved, true);
                resolved
            }),
            FaultAction::Bridge { node } => self.resolve(node).map(|id| {
                let resolved = FaultAction::Bridge {
                    node: Target::Node(id.0),
                };
                self.cut(&resolved, true);
                resolved
            }),
            FaultAction::Heal => {
                self.network.heal_partitions();
                Some(action.clone())
            }
            FaultAction::SendOmission { node, per_million } => self.resolve(node).map(|id| {
                self.network.send_omission_per_million[id.index()] = *per_million;
                FaultAction::SendOmission {
                    node: Target::Node(id.0),
                    per_million: *per_million,
                }
            }),
            FaultAction::ReceiveOmission { node, per_million } => self.resolve(node).map(|id| {
                self.network.receive_omission_per_million[id.index()] = *per_million;
                FaultAction::ReceiveOmission {
                    node: Target::Node(id.0),
                    per_million: *per_million,
                }
            }),
            FaultAction::LossBurst { per_million } => {
                self.network.bursts.loss_per_million = *per_million;
                Some(action.clone())
            }
            FaultAction::DuplicateBurst { per_million } => {
                self.network.bursts.duplicate_per_million = *per_million;
                Some(action.clone())
            }
            FaultAction::DelayBurst { extra_latency_us } => {
                self.network.bursts.extra_latency_us = *extra_latency_us;
                Some(action.clone())
            }
            FaultAction::ClockDrift { node, drift_ppm } => self.resolve(node).map(|id| {
                self.drift_ppm[id.index()] = *drift_ppm;
                FaultAction::ClockDrift {
                    node: Target::Node(id.0),
                    drift_ppm: *drift_ppm,
                }
            }),
        };
        action.hash(&mut self.hasher);
        match fired {
            Some(resolved) => {
                self.applied_faults.push(AppliedFault {
                    at_us: self.now,
                    action: resolved.clone(),
                    duration_us,
                });
                *self.faults_fired.entry(resolved.kind()).or_insert(0) += 1;
                (self.now, &resolved).hash(&mut self.hasher);
                self.trace_line(|sim| json!({"i": sim.events, "time_us": sim.now, "node": null, "event": "fault", "fault": &resolved}));
                if let Some(duration) = duration_us {
                    self.schedule(self.now + duration, Event::Revert { action: resolved });
                }
            }
            None => {
                self.trace_line(|sim| json!({"i": sim.events, "time_us": sim.now, "node": null, "event": "fault_skipped", "fault": &action}));
            }
        }
    }

    /// Block (or, when `on` is false, unblock) the pairs a resolved partition-like action
    /// cuts. Cuts count: a pair stays blocked while any active cut blocks it.
    fn cut(&mut self, action: &FaultAction, on: bool) {
        let n = self.cluster_size;
        let node = |target: &Target| match target {
            Target::Node(id) => *id,
            Target::Role(_) => unreachable!("cuts name resolved nodes"),
        };
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        match action {
            FaultAction::Partition { groups } => {
                let group_of = |node: u32| groups.iter().position(|group| group.contains(&node));
                for a in 0..n {
                    for b in (0..n).filter(|&b| b != a) {
                        if group_of(a).is_none() || group_of(a) != group_of(b) {
                            pairs.push((a, b));
                        }
                    }
                }
            }
            FaultAction::Isolate { node: target } => {
                let id = node(target);
                for other in (0..n).filter(|&other| other != id) {
                    pairs.extend([(id, other), (other, id)]);
                }
            }
            FaultAction::Bridge { node: target } => {
                let bridge = node(target);
                let others: Vec<u32> = (0..n).filter(|&other| other != bridge).collect();
                let (left, right) = others.split_at(others.len() / 2);
                for &a in left {
                    for &b in right {
                        pairs.extend([(a, b), (b, a)]);
                    }
                }
            }
            FaultAction::OneWay { from, to } => {
                for &a in from {
                    pairs.extend(to.iter().filter(|&&b| b != a).map(|&b| (a, b)));
                }
            }
            other => unreachable!("{other:?} is not a cut"),
        }
        for (a, b) in pairs {
            if on {
                self.network.block(NodeId(a), NodeId(b));
            } else {
                self.network.unblock(NodeId(a), NodeId(b));
            }
        }
    }

    fn revert(&mut self, action: FaultAction) {
        let node_of = |target: &Target| match target {
            Target::Node(id) => NodeId(*id),
            Target::Role(_) => unreachable!("reverts name resolved nodes"),
        };
        match &action {
            FaultAction::Crash { node } => self.restart(node_of(node)),
            FaultAction::CrashAfterPersist { node } => {
                let id = node_of(node);
                self.crash_after_persist[id.index()] = false;
                self.restart(id);
            }
            FaultAction::Restart { .. } | FaultAction::Heal => {}
            FaultAction::Partition { .. }
            | FaultAction::Isolate { .. }
            | FaultAction::Bridge { .. }
            | FaultAction::OneWay { .. } => {
                // Lift this cut only: others that overlap it stay.
                self.cut(&action, false)
            }
            FaultAction::SendOmission { node, .. } => {
                self.network.send_omission_per_million[node_of(node).index()] = 0
            }
            FaultAction::ReceiveOmission { node, .. } => {
                self.network.receive_omission_per_million[node_of(node).index()] = 0
            }
            FaultAction::LossBurst { .. } => self.network.bursts.loss_per_million = 0,
            FaultAction::DuplicateBurst { .. } => self.network.bursts.duplicate_per_million = 0,
            FaultAction::DelayBurst { .. } => self.network.bursts.extra_latency_us = 0,
            FaultAction::ClockDrift { node, .. } => self.drift_ppm[node_of(node).index()] = 0,
        }
        (self.now, "revert", &action).hash(&mut self.hasher);
        self.trace_line(|sim| json!({"i": sim.events, "time_us": sim.now, "node": null, "event": "revert", "fault": &action}));
    }

    /// Nodes currently faulty in a way that counts against the crash bound.
    fn faulty_nodes(&self) -> u32 {
        (0..self.cluster_size as usize)
            .filter(|&i| {
                self.nodes[i].is_none()
                    || self.crash_after_persist[i]
                    || self.network.send_omission_per_million[i] > 0
                    || self.network.receive_omission_per_million[i] > 0
            })
            .count() as u32
    }

    fn nemesis_tick(&mut self) {
        if self.healed_at.is_some() || self.now >= self.prepared.scenario.file.duration_ms * 1000 {
            return;
        }
        let plan = self.nemesis.clone().expect("a nemesis is configured");
        let rng = &mut self.rng_faults;
        let kind = plan.draw_kind(rng);
        let duration_us = rng.range_inclusive(plan.duration_ms[0], plan.duration_ms[1]) * 1000;
        let n = self.cluster_size;
        let bound_allows = self.prepared.scenario.file.exceed_fault_bound
            || self.faulty_nodes() < self.prepared.bound.crashed;
        let up: Vec<u32> = (0..n)
            .filter(|&i| self.nodes[i as usize].is_some())
            .collect();
        let rng = &mut self.rng_faults;
        let random_node = |rng: &mut Rng| Target::Node(rng.below(n as u64) as u32);
        let action = match kind {
            "crash_leader" if bound_allows => {
                let leader = up.iter().copied().find(|&i| {
                    self.nodes[i as usize]
                        .as_ref()
                        .is_some_and(|s| Some(s.role()) == self.prepared.registration.leader_role())
                });
                leader.map(|node| FaultAction::Crash {
                    node: Target::Node(node),
                })
            }
            "crash" | "crash_after_persist" if bound_allows && !up.is_empty() => {
                let node = Target::Node(*rng.pick(&up));
                Some(if kind == "crash" {
                    FaultAction::Crash { node }
                } else {
                    FaultAction::CrashAfterPersist { node }
                })
            }
            "send_omission" | "receive_omission" if bound_allows && !up.is_empty() => {
                let node = Target::Node(*rng.pick(&up));
                let per_million = rng.range_inclusive(100_000, 1_000_000) as u32;
                Some(if kind == "send_omission" {
                    FaultAction::SendOmission { node, per_million }
                } else {
                    FaultAction::ReceiveOmission { node, per_million }
                })
            }
            "partition" => Some(match rng.below(4) {
                0 => {
                    let mut order: Vec<u32> = (0..n).collect();
                    for i in (1..order.len()).rev() {
                        order.swap(i, rng.below(i as u64 + 1) as usize);
                    }
                    let cut = rng.range_inclusive(1, (n as u64 - 1).max(1)) as usize;
                    let (left, right) = order.split_at(cut.min(order.len()));
                    FaultAction::Partition {
                        groups: vec![left.to_vec(), right.to_vec()],
                    }
                }
                1 => FaultAction::Isolate {
                    node: random_node(rng),
                },
                2 => FaultAction::Bridge {
                    node: random_node(rng),
                },
                _ => {
                    let from: Vec<u32> = (0..n).filter(|_| rng.chance(500_000)).collect();
                    let to: Vec<u32> = (0..n).filter(|i| !from.contains(i)).collect();
                    FaultAction::OneWay { from, to }
                }
            }),
            "loss" => Some(FaultAction::LossBurst {
                per_million: plan.loss_per_million,
            }),
            "duplicate" => Some(FaultAction::DuplicateBurst {
                per_million: plan.duplicate_per_million,
            }),
            "delay" => Some(FaultAction::DelayBurst {
                extra_latency_us: plan.extra_latency_us,
            }),
            "clock_drift" => {
                let max = plan.drift_ppm_max.clamp(0, 900_000) as u64;
                let drift = rng.range_inclusive(0, 2 * max) as i64 - max as i64;
                Some(FaultAction::ClockDrift {
                    node: random_node(rng),
                    drift_ppm: drift,
                })
            }
            _ => None,
        };
        if let Some(action) = action {
            self.apply_fault(action, Some(duration_us));
        }
        let next = self
            .rng_faults
            .range_inclusive(plan.interval_ms[0], plan.interval_ms[1])
            * 1000;
        self.schedule(self.now + next.max(1), Event::Nemesis);
    }

    /// End of the fault phase: restart every crashed node, heal the network, and (for
    /// partial synchrony) enter the bounded regime.
    fn heal(&mut self) {
        self.healed_at = Some(self.now);
        if self
            .prepared
            .scenario
            .file
            .liveness
            .as_ref()
            .is_some_and(|liveness| !liveness.heal)
        {
            // The liveness window starts with the faults left as they are.
            self.trace_line(|sim| json!({"i": sim.events, "time_us": sim.now, "node": null, "event": "liveness_window"}));
            return;
        }
        (self.now, "heal").hash(&mut self.hasher);
        self.trace_line(
            |sim| json!({"i": sim.events, "time_us": sim.now, "node": null, "event": "heal_all"}),
        );
        self.network.heal_all();
        self.drift_ppm.iter_mut().for_each(|drift| *drift = 0);
        self.crash_after_persist
            .iter_mut()
            .for_each(|flag| *flag = false);
        if self.prepared.scenario.file.synchrony == Synchrony::Partial {
            self.network.stabilise();
        }
        for node in (0..self.cluster_size).map(NodeId) {
            if self.nodes[node.index()].is_none() {
                self.restart(node);
                if self.failure.is_some() {
                    return;
                }
            }
        }
    }

    fn check_liveness(&mut self) {
        let checker = &self.checker;
        let nodes = &self.nodes;
        self.liveness_pending.retain(|condition| {
            condition == "client_progress" || checker.liveness_holds(condition, nodes) != Some(true)
        });
        if self.liveness_pending.is_empty() {
            // Every condition held within the window: the run has shown what it must.
            self.end();
        }
    }

    fn end(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        if let Some(condition) = self.liveness_pending.first() {
            let healed_at = self.healed_at.unwrap_or(0);
            let within_ms = self
                .prepared
                .scenario
                .file
                .liveness
                .as_ref()
                .map_or(0, |l| l.within_ms);
            let detail = format!(
                "`{condition}` did not hold within {within_ms} ms of the heal at {} us",
                healed_at
            );
            let condition = condition.clone();
            self.fail(Verdict::Liveness, condition, detail);
            return;
        }
        if let Err(violation) = self.checker.check_all(&self.nodes) {
            self.fail(
                Verdict::Violation,
                violation.property,
                format!("{} (end-of-run check)", violation.detail),
            );
            return;
        }
        if let Some(model) = self
            .prepared
            .registration
            .history
            .as_ref()
            .map(|hooks| hooks.model.clone())
        {
            if let Err((verdict, detail)) =
                check_linearizable(&self.history, model, LINCHECK_MAX_STEPS)
            {
                self.fail(verdict, LINEARIZABLE, detail);
                return;
            }
        }
        if let Some(bounds) = &self.prepared.scenario.file.bounds {
            self.metrics.client_latency_us_max = self
                .history
                .iter()
                .filter(|op| op.status == "ok")
                .filter_map(|op| op.complete_us.map(|complete| complete - op.invoke_us))
                .max()
                .unwrap_or(0);
            if let Some((property, detail)) = bounds.first_exceeded(&self.metrics) {
                self.fail(Verdict::Violation, property, detail);
                return;
            }
        }
        for name in &self.prepared.scenario.file.sometimes {
            let happened = if name == "fault_fired" {
                !self.faults_fired.is_empty()
            } else {
                self.observation_counts
                    .get(name.as_str())
                    .is_some_and(|&count| count > 0)
            };
            if !happened {
                let detail = format!("`{name}` never happened in the run: it proves nothing");
                self.fail(Verdict::Liveness, format!("sometimes.{name}"), detail);
                return;
            }
        }
    }

    fn finish(mut self) -> RunOutput {
        let prepared = self.prepared;
        let (verdict, property, detail) = match self.failure.take() {
            Some((verdict, property, detail)) => (verdict, Some(property), Some(detail)),
            None => (Verdict::Pass, None, None),
        };
        self.trace_line(|sim| {
            json!({"i": sim.events, "time_us": sim.now, "node": null, "event": "end", "verdict": verdict.name(), "property": &property})
        });
        for op in &self.history {
            if op.complete_us.is_none() {
                self.metrics.client_ops_unknown += 1;
            }
        }
        self.latencies_us.sort_unstable();
        self.metrics.client_latency_us_p50 = percentile(&self.latencies_us, 50);
        self.metrics.client_latency_us_p99 = percentile(&self.latencies_us, 99);
        self.metrics.client_latency_us_max = self.latencies_us.last().copied().unwrap_or(0);
        self.metrics.events = self.events;
        self.metrics.throughput_ops_per_sec = per_second(self.metrics.client_ops_ok, self.now);
        self.metrics.messages_per_committed_op =
            ratio(self.metrics.messages_sent, self.metrics.client_ops_ok);
        if let Some(workload) = &prepared.scenario.file.workload {
            self.metrics.unavailability =
                Unavailability::of(&self.history, self.now, workload.timeout_ms.max(1) * 1000);
        }
        let to_strings = |map: &BTreeMap<&'static str, u64>| {
            map.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        self.metrics.messages_by_kind = to_strings(&self.messages_by_kind);
        self.metrics.drops_by_cause = to_strings(&self.drops_by_cause);
        self.metrics.observations = to_strings(&self.observation_counts);
        self.events.hash(&mut self.hasher);
        RunOutput {
            result: RunResult {
                scenario: prepared.scenario.path.display().to_string(),
                seed: self.seed,
                mutant: prepared.mutant.clone(),
                swarm: prepared.swarm,
                verdict,
                property,
                detail,
                time_us: self.now,
                event_index: self.events,
                trace_hash: hex(self.hasher.finish()),
                metrics: self.metrics,
                faults_fired: to_strings(&self.faults_fired),
                repro: prepared.repro(self.seed),
                roles: prepared
                    .registration
                    .roles
                    .iter()
                    .map(|role| crate::result::DeclaredRole {
                        name: role.name.to_string(),
                        colour: role.colour.to_string(),
                        leader: role.leader,
                    })
                    .collect(),
            },
            trace: self.trace,
            history: self.history,
            history_model: prepared
                .registration
                .history
                .as_ref()
                .map(|hooks| hooks.model.clone()),
            roles: self.roles,
            faults: self.applied_faults,
            tape: self.tape_out.map(|tape| tape.to_spec()),
        }
    }
}

/// Write a send's fate on the tape. Partition and no-route drops are not decisions
/// (the fault schedule makes them), so they leave no entry.
fn record_fate(tape: &mut Tape, from: NodeId, to: NodeId, ordinal: u64, fate: Fate) {
    let drop = match fate {
        Fate::Drop(DropCause::Loss) => Some(TapeDrop::Loss),
        Fate::Drop(DropCause::SendOmission) => Some(TapeDrop::SendOmission),
        Fate::Drop(_) => return,
        Fate::Deliver { .. } => None,
    };
    let (delay_us, duplicate_delay_us) = match fate {
        Fate::Deliver {
            delay_us,
            duplicate_delay_us,
        } => (Some(delay_us), duplicate_delay_us),
        Fate::Drop(_) => (None, None),
    };
    tape.record_message(MessageEntry {
        from: from.0,
        to: to.0,
        n: ordinal,
        drop,
        delay_us,
        duplicate_delay_us,
        receive_omitted: false,
        duplicate_receive_omitted: false,
    });
}

/// The run's client history as the linearizability checker reads it (the same
/// conversion `quorumlab lincheck` applies to `history.json`).
pub fn lincheck_history(
    history: &[HistoryOp],
    model: crate::lincheck::ModelKind,
) -> Result<crate::lincheck::History, String> {
    use crate::lincheck::{Operation, OperationOutput, OperationStatus};
    let mut operations = Vec::with_capacity(history.len());
    for (index, op) in history.iter().enumerate() {
        let status = match op.status.as_str() {
            "ok" => OperationStatus::Ok,
            "fail" => OperationStatus::Fail,
            "info" => OperationStatus::Info,
            other => return Err(format!("operation {index}: unknown status {other:?}")),
        };
        let input = serde_json::from_value(op.op.clone())
            .map_err(|error| format!("operation {index}: op {}: {error}", op.op))?;
        let output = match (&op.output, status) {
            (Some(output), OperationStatus::Ok) => serde_json::from_value(output.clone())
                .map_err(|error| format!("operation {index}: output {output}: {error}"))?,
            _ => OperationOutput::Unknown,
        };
        operations.push(Operation {
            client: u64::from(op.client),
            invoke_us: op.invoke_us,
            complete_us: op.complete_us,
            key: op.key.clone(),
            op: input,
            output,
            status,
            source: None,
        });
    }
    Ok(crate::lincheck::History {
        model: Some(model),
        operations,
    })
}

/// Check the run's history for linearizability within `LINCHECK_MAX_STEPS`. `Err` holds
/// the failing verdict (`violation`, or `budget` for an unknown answer) and a detail
/// naming the key, the time window and the operations that could not be placed.
fn check_linearizable(
    history: &[HistoryOp],
    model: crate::lincheck::ModelKind,
    max_steps: u64,
) -> Result<(), (Verdict, String)> {
    use crate::lincheck::Verdict as Lin;
    let lincheck_history = lincheck_history(history, model.clone())
        .map_err(|error| (Verdict::Panic, format!("history not checkable: {error}")))?;
    let budget = crate::lincheck::Budget { max_steps };
    let report = crate::lincheck::check_history(&lincheck_history, Some(model), budget)
        .map_err(|error| (Verdict::Panic, format!("history not checkable: {error}")))?;
    match report.verdict {
        Lin::Linearizable => Ok(()),
        Lin::Unknown => Err((
            Verdict::Budget,
            format!(
                "linearizability unknown: the check used its budget of {max_steps} steps over \
                 {} operations without an answer",
                report.operation_count
            ),
        )),
        Lin::NotLinearizable => {
            let failing = report
                .partitions
                .iter()
                .find(|partition| partition.verdict == Lin::NotLinearizable)
                .expect("a non-linearizable report names its partition");
            let counterexample = failing
                .counterexample
                .as_ref()
                .expect("a non-linearizable partition has a counterexample");
            let operations = &lincheck_history.operations;
            let window_start = counterexample
                .unplaced
                .iter()
                .map(|&index| operations[index].invoke_us)
                .min()
                .unwrap_or(0);
            let window_end = counterexample
                .unplaced
                .iter()
                .filter_map(|&index| operations[index].complete_us)
                .max()
                .map_or("open".to_string(), |end| format!("{end} us"));
            let key = failing.key.as_deref().unwrap_or("(single object)");
            Err((
                Verdict::Violation,
                format!(
                    "key {key:?} is not linearizable in the window {window_start} us .. \
                     {window_end}: after a linearizable prefix of {} operations (state {}), \
                     none of these could be placed: {}",
                    counterexample.longest_prefix.len(),
                    counterexample.state_after_prefix,
                    counterexample.unplaced_descriptions.join("; ")
                ),
            ))
        }
    }
}

/// A timer delay stretched or shrunk by the node's clock drift.
fn drifted(delay_us: TimeUs, drift_ppm: i64) -> TimeUs {
    if drift_ppm == 0 {
        return delay_us;
    }
    let scaled = delay_us as i128 * (1_000_000 + drift_ppm as i128) / 1_000_000;
    scaled.max(0) as TimeUs
}

fn input_json<P: Protocol>(input: &Input<P>) -> Value {
    match input {
        Input::Init | Input::Restart => Value::Null,
        Input::Message { from, msg } => json!({"from": from.0, "msg": msg}),
        Input::Timer(timer) => json!({"timer": timer}),
        Input::Client {
            client,
            request,
            op,
        } => json!({"client": client, "request": request, "op": op}),
    }
}

fn effect_json<P: Protocol>(effect: &Effect<P>) -> Value {
    match effect {
        Effect::Send { to, msg } => json!({"send": {"to": to.0, "msg": {msg.kind(): msg}}}),
        Effect::SetTimer {
            timer,
            min_us,
            max_us,
        } => json!({"set_timer": {"timer": timer.kind(), "min_us": min_us, "max_us": max_us}}),
        Effect::CancelTimer { timer } => json!({"cancel_timer": {"timer": timer.kind()}}),
        Effect::Persist(_) => json!({"persist": true}),
        Effect::Reply {
            client,
            request,
            reply,
        } => json!({"reply": {"client": client, "request": request, "reply": reply}}),
        Effect::Observe(observation) => json!({"observe": {observation.kind(): observation}}),
    }
}

#[cfg(test)]
mod lincheck_tests {
    use super::*;
    use crate::lincheck::ModelKind;

    /// A key-value history operation as the simulator records it.
    fn op(client: u32, span: (u64, Option<u64>), op: Value, output: Option<Value>) -> HistoryOp {
        HistoryOp {
            client,
            request: 1,
            invoke_us: span.0,
            complete_us: span.1,
            status: if span.1.is_some() { "ok" } else { "info" }.to_string(),
            key: Some("k0".to_string()),
            op,
            reply: None,
            output,
            draw: 0,
        }
    }

    fn history(read_back: &str) -> Vec<HistoryOp> {
        let append = |value: &str| json!({"type": "append", "value": value});
        let done = Some(json!({"type": "done"}));
        vec![
            op(0, (0, Some(10)), append("a"), done.clone()),
            op(1, (20, Some(30)), append("b"), done),
            op(2, (25, None), append("c"), None),
            op(
                3,
                (40, Some(50)),
                json!({"type": "get"}),
                Some(json!({"type": "get_value", "value": read_back})),
            ),
        ]
    }

    #[test]
    fn a_linearizable_history_passes_and_a_lost_write_names_key_window_and_op() {
        assert_eq!(
            check_linearizable(&history("abc"), ModelKind::KeyValue, 1000),
            Ok(())
        );
        // The info append may or may not have happened: both reads are fine.
        assert_eq!(
            check_linearizable(&history("ab"), ModelKind::KeyValue, 1000),
            Ok(())
        );
        let (verdict, detail) =
            check_linearizable(&history("a"), ModelKind::KeyValue, 1000).unwrap_err();
        assert_eq!(verdict, Verdict::Violation);
        assert!(
            detail.starts_with("key \"k0\" is not linearizable in the window"),
            "{detail}"
        );
        assert!(detail.contains("get -> ok \"a\""), "{detail}");
    }

    #[test]
    fn over_budget_is_a_budget_verdict_not_a_pass() {
        let (verdict, detail) =
            check_linearizable(&history("abc"), ModelKind::KeyValue, 1).unwrap_err();
        assert_eq!(verdict, Verdict::Budget);
        assert!(detail.starts_with("linearizability unknown"), "{detail}");
    }
}
