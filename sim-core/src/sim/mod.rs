//! The discrete-event simulator: one run of a scenario with one seed.
//!
//! Events are ordered by (time, insertion sequence), so ties break deterministically.
//! Each node input is one *step*: the protocol's step function runs, its effects are
//! applied in order (sends go through the network model, timers draw their delay from
//! the timer stream, `Persist` updates the durable copy), and the checker checks what
//! that step could have changed. Faults come from the scenario's schedule, its nemesis,
//! or swarm mode; after `duration_ms` a scenario with `[liveness]` heals everything and
//! its liveness conditions must hold within the window.

//!
//! The parts: `queue` (events and the event queue), `decisions` (network, timer and
//! workload decisions from the streams or the tape), `clients` (the workload), `faults`
//! (fault application, the nemesis, the heal), `end` (end-of-run checks and metrics),
//! `history` (the linearizability check).

mod adversary;
pub(crate) mod byzantine;
mod clients;
mod clock;
mod command_check;
mod decisions;
mod end;
mod endpoints;
mod faults;
mod history;
mod live;
mod queue;
mod run_checks;
mod selectors;
mod trace_buffer;
mod twins;

use std::collections::BTreeMap;
use std::hash::Hash;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::faults::{FaultAction, NemesisPlan};
use crate::hash::TraceHasher;
use crate::interpret::{self, EffectSink};
use crate::network::{DropCause, Fate, Network};
use crate::protocol::*;
use crate::registration::{Registration, GENERIC_CHECK_FIELDS};
use crate::result::{AppliedFault, HistoryOp, Metrics, RunOutput, Verdict};
use crate::rng::{Purpose, Rng};
use crate::scenario::{Scenario, ScenarioError, Synchrony};
use crate::tape::{ClientDraw, Tape};
use crate::trace::{Arrival, TraceDetail, TraceEffect, TraceEvent, TraceFate};

use clients::Client;
use decisions::Decisions;
pub use history::{lincheck_history, LINCHECK_MAX_STEPS, LINEARIZABLE};
use queue::{Event, EventQueue};
use trace_buffer::TraceBuffer;

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
    /// The scenario's `[byzantine]` table, bound to the protocol.
    byzantine: Option<byzantine::ByzantinePlan>,
}
/// A role selector every protocol with a leader role understands (`node = "leader"`):
/// the role its registration marks as the leader, whatever its name.
pub const LEADER_ALIAS: &str = "leader";

/// Names a scenario's `expect` may use besides property names.
pub const VERDICT_EXPECTATIONS: &[&str] = &["pass", "violation", "liveness", "panic", "budget"];

impl<P: Protocol> Prepared<P> {
    /// The scenario's `[byzantine]` table bound to the protocol (the model checker's
    /// Byzantine nodes come from it too).
    #[cfg(feature = "check")]
    pub(crate) fn byzantine_plan(&self) -> Option<&byzantine::ByzantinePlan> {
        self.byzantine.as_ref()
    }

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
        clients::check_written_ops(&registration, &config, scenario)?;
        selectors::check_names(&registration, scenario)?;
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
            || file.checks.iter().any(|check| check.property() == expect)
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
        check_sometimes_names(scenario, "sometimes", &file.sometimes, P::Obs::KINDS)?;
        if let Some(table) = &file.check {
            // `run` ignores `[check]`, but a misspelt bound there is still refused here,
            // not only when `quorumlab check` reads the table.
            if let Some(toml::Value::Array(items)) = table.get("sometimes") {
                let names: Vec<String> = items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect();
                check_sometimes_names(scenario, "check.sometimes", &names, P::Obs::KINDS)?;
            }
            let own: toml::Table = table
                .iter()
                .filter(|(field, _)| !GENERIC_CHECK_FIELDS.contains(&field.as_str()))
                .map(|(field, value)| (field.clone(), value.clone()))
                .collect();
            registration.check_filter(own).map_err(|error| {
                scenario.error(&format!("check.{}", error.field), error.message, error.fix)
            })?;
        }
        if let Some(liveness) = &file.liveness {
            for condition in &liveness.require {
                if !crate::scenario::CLIENT_CONDITIONS.contains(&condition.as_str())
                    && !P::Checker::liveness_conditions()
                        .iter()
                        .any(|c| c.name == condition)
                {
                    return Err(scenario.error(
                        "liveness.require",
                        format!("unknown liveness condition `{condition}` for {name}"),
                        format!(
                            "use some of: {}{}",
                            crate::scenario::CLIENT_CONDITIONS.join(", "),
                            P::Checker::liveness_conditions()
                                .iter()
                                .map(|c| format!(", {}", c.name))
                                .collect::<String>()
                        ),
                    ));
                }
            }
        }
        check_rules_apply(&registration, scenario)?;
        adversary::check_starved_kinds(scenario, P::Obs::KINDS)?;
        let byzantine = match &file.byzantine {
            Some(spec) => Some(byzantine::ByzantinePlan::new(
                &registration,
                &config,
                scenario,
                spec,
            )?),
            None => None,
        };
        Ok(Prepared {
            byzantine,
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
            sim.failure = Some(if crate::panics::last_panic_was_protocol() {
                (Verdict::Panic, "panic".to_string(), message)
            } else {
                (
                    Verdict::Internal,
                    "internal".to_string(),
                    format!(
                        "internal error in the simulator (a bug in quorumlab, not in the \
                         protocol): {message}"
                    ),
                )
            });
        }
        sim.finish()
    }
}

/// Refuse a `sometimes` name (at `field`) that is neither `fault_fired` nor one of the
/// protocol's observation kinds: it could never happen, so every run would fail at its end.
fn check_sometimes_names(
    scenario: &Scenario,
    field: &str,
    names: &[String],
    kinds: &[&str],
) -> Result<(), ScenarioError> {
    match names
        .iter()
        .position(|name| name != FAULT_FIRED && !kinds.contains(&name.as_str()))
    {
        None => Ok(()),
        Some(index) => Err(scenario.error(
            &format!("{field}[{index}]"),
            format!(
                "`{}` is not an observation kind of {}",
                names[index], scenario.file.protocol
            ),
            format!("use some of: {FAULT_FIRED}, {}", kinds.join(", ")),
        )),
    }
}

/// The `sometimes` name met by any fault that fired.
pub(crate) const FAULT_FIRED: &str = "fault_fired";

/// `[[checks]]` about leaders need a leader role, about commits a commit observation.
fn check_rules_apply<P: Protocol>(
    registration: &Registration<P>,
    scenario: &Scenario,
) -> Result<(), ScenarioError> {
    use crate::run_checks::CheckRule;
    let name = registration.name;
    for (index, check) in scenario.file.checks.iter().enumerate() {
        let field = format!("checks[{index}].kind");
        let kind = check.rule.kind();
        match check.rule {
            CheckRule::Leader { .. } | CheckRule::NoLeaderInMinority { .. }
                if registration.leader_role().is_none() =>
            {
                return Err(scenario.error(
                    &field,
                    format!("`{kind}` needs a leader role, and {name} declares none"),
                    "drop the check",
                ));
            }
            CheckRule::CommandEverywhere { .. } if registration.applied.is_none() => {
                return Err(scenario.error(
                    &field,
                    format!("`{kind}` needs the nodes' applied logs, and {name} exposes none"),
                    "drop the check (a protocol exposes them with `Registration::applied`)",
                ));
            }
            CheckRule::NoCommitInMinority { .. } if registration.commits.is_none() => {
                return Err(scenario.error(
                    &field,
                    format!("`{kind}` needs commit observations, and {name} declares none"),
                    "drop the check (a protocol declares commits with `Registration::commits`)",
                ));
            }
            _ => {}
        }
    }
    Ok(())
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
    names.extend(
        crate::scenario::CLIENT_CONDITIONS
            .iter()
            .map(|name| name.to_string()),
    );
    if registration.history.is_some() {
        names.push(LINEARIZABLE.to_string());
    }
    names
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
    /// Per node, its local clock: drift (which also stretches its timers) and skew.
    clocks: Vec<clock::LocalClock>,
    /// Per node, `Some` while paused: the events that wait for it to resume, in order.
    paused: Vec<Option<Vec<Event<P>>>>,
    crash_after_persist: Vec<bool>,
    /// An armed `crash_mid_step`: the node's next step with more effects than this is
    /// cut after this many.
    crash_mid_step: Vec<Option<u32>>,
    network: Network,
    /// Network, timer and workload decisions: from the tape or the streams.
    decisions: Decisions<'a>,
    /// The nemesis's stream (faults are not on the tape).
    rng_faults: Rng,
    checker: P::Checker,
    fx: Effects<P>,
    observations: Vec<P::Obs>,
    hasher: TraceHasher,
    trace: Option<TraceBuffer>,
    trace_effects: Vec<TraceEffect>,
    /// The id the next message sent gets (ids are per run, in send order).
    next_message_id: u64,
    /// The message whose delivery is stepping now, for its trace line.
    delivering: Option<Arrival>,
    events: u64,
    metrics: Metrics,
    messages_by_kind: BTreeMap<&'static str, u64>,
    drops_by_cause: BTreeMap<&'static str, u64>,
    observation_counts: BTreeMap<&'static str, u64>,
    faults_fired: BTreeMap<&'static str, u64>,
    clients: Vec<Client<P>>,
    /// Where clients sit on the network, and the cuts that name them.
    endpoints: endpoints::Endpoints,
    /// The node the last fault aimed at one node hit (the selector `previous`).
    last_hit: Option<NodeId>,
    /// Nemesis actions taken so far (its rounds and pauses count them).
    nemesis_actions: u64,
    history: Vec<HistoryOp>,
    latencies_us: Vec<u64>,
    roles: Vec<(u64, u32, &'static str)>,
    applied_faults: Vec<AppliedFault>,
    nemesis: Option<NemesisPlan>,
    end_us: TimeUs,
    healed_at: Option<TimeUs>,
    liveness_pending: Vec<String>,
    /// The requests outstanding at the heal, for `client_ops_complete`.
    outstanding_at_heal: Vec<(ClientId, u64)>,
    /// The scenario's `[[checks]]`, if it has any.
    run_checks: Option<run_checks::RunChecks>,
    failure: Option<(Verdict, String, String)>,
    finished: bool,
    /// Per node, its Byzantine strategy (all `None`, or empty, in an honest run).
    byzantine: Vec<Option<byzantine::ByzantineNode<P>>>,
    /// The extra delays a `delay` node's sends of the current step get, in send order.
    held_us: std::collections::VecDeque<TimeUs>,
    /// The protocol's timed measurements (`crate::meter`), if it registers a meter.
    meter: Option<Box<dyn crate::meter::Meter<P>>>,
    /// The meter has been told the run ended.
    meter_ended: bool,
    /// Per node, its second copy if it is a twin (empty in a run without twins).
    twins: Vec<Option<twins::Twin<P>>>,
    /// The twin whose copy 1 is in its slots now (`twins::Sim::as_copy_1`).
    copy_1_acting: Option<NodeId>,
    /// What each node's state holds (`Registration::state_items`), for the budget.
    state_items: live::StateItems,
    /// The adversarial scheduler, when the scenario has an `[adversary]`.
    adversary: Option<adversary::Adversary<P::Msg>>,
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
            clocks: vec![clock::LocalClock::default(); n],
            paused: (0..n).map(|_| None).collect(),
            crash_after_persist: vec![false; n],
            crash_mid_step: vec![None; n],
            network,
            decisions: Decisions::new(
                seed,
                rng_network,
                prepared.tape.as_ref(),
                record_tape,
                file.nodes,
                clients,
            ),
            rng_faults: Rng::new(seed, Purpose::Faults),
            checker: P::Checker::default(),
            fx: Effects::default(),
            observations: Vec::new(),
            hasher: TraceHasher::default(),
            trace: trace.then(|| TraceBuffer::new(prepared.scenario.file.budget.max_trace_mb)),
            trace_effects: Vec::new(),
            next_message_id: 0,
            delivering: None,
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
                    unwaited: BTreeMap::new(),
                    leader_guess: None,
                    outstanding: None,
                })
                .collect(),
            endpoints: endpoints::Endpoints::new(file),
            last_hit: None,
            nemesis_actions: 0,
            history: Vec::new(),
            state_items: live::StateItems::new(n),
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
            outstanding_at_heal: Vec::new(),
            run_checks: run_checks::RunChecks::new(&file.checks, file.nodes),
            failure: None,
            finished: false,
            byzantine: prepared
                .byzantine
                .as_ref()
                .map_or_else(Vec::new, |plan| plan.nodes(seed, file.nodes)),
            held_us: std::collections::VecDeque::new(),
            meter: prepared.registration.meter.map(|meter| {
                let setup = crate::meter::MeterSetup {
                    cluster_size: file.nodes,
                    synchrony: file.synchrony,
                };
                meter(&prepared.config, setup)
            }),
            meter_ended: false,
            twins: Vec::new(),
            copy_1_acting: None,
            adversary: file
                .adversary
                .as_ref()
                .map(|spec| adversary::Adversary::new(spec, file.nodes)),
        };
        sim.twins = sim
            .byzantine
            .iter_mut()
            .map(|node| {
                node.as_mut()
                    .and_then(|node| node.twin.take())
                    .map(twins::Twin::new)
            })
            .collect();
        if sim.twins.iter().all(Option::is_none) {
            sim.twins.clear();
        }
        let byzantine = sim.byzantine_ids();
        if !byzantine.is_empty() {
            sim.checker.set_byzantine(&byzantine);
            sim.faults_fired.insert("byzantine", byzantine.len() as u64);
            (0u64, "byzantine", &byzantine).hash(&mut sim.hasher);
        }
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
        for (index, op) in explicit_ops.into_iter().flatten().enumerate() {
            let explicit = match op.draw {
                Some(draw) => clients::Explicit::Draw(index, draw),
                None => clients::Explicit::Written(index),
            };
            sim.schedule(
                op.at(),
                Event::ClientInvoke {
                    client: op.client,
                    op: explicit,
                },
            );
        }
        for client in 0..clients {
            let [min, max] = sim.workload().interval_ms;
            // Drawn even for explicit operations, so both consume the workload stream alike.
            let first = sim
                .decisions
                .client_draw(client, ClientDraw::Think, min * 1000, |rng| {
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
        // Validated: max_sim_ms <= u64::MAX / 1000.
        let max_sim_us = self.prepared.scenario.file.budget.max_sim_ms * 1000;
        while let Some((time, event)) = self.queue.pop() {
            if self.is_stale_release(&event) {
                continue;
            }
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
            } else if time > max_sim_us {
                self.fail(
                    Verdict::Budget,
                    "budget",
                    format!(
                        "simulated time passed {} ms (budget.max_sim_ms)",
                        max_sim_us / 1000
                    ),
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
        if let Some(waiting) = self.waiting_list(&event) {
            waiting.push(event);
            return;
        }
        match event {
            Event::Start { node } => {
                self.start_copy(node);
                self.start_copy_1(node);
            }
            Event::Deliver {
                from,
                to,
                msg,
                ordinal,
                id,
                duplicate,
                from_copy,
            } => {
                // A twin's copies are outside the adversary's reach (it holds messages
                // for one step function per node).
                if self.is_twin(to) {
                    let arrival = Arrival { id, duplicate };
                    self.deliver_to_twin(from, from_copy, to, msg, ordinal, arrival);
                } else {
                    self.arrive(from, to, msg, ordinal, id, duplicate);
                }
            }
            Event::Release { to, id, duplicate } => self.release(to, id, duplicate),
            Event::Timer {
                node,
                timer,
                generation,
            } => {
                if self.timers[node.index()].get(&timer) == Some(&generation) {
                    self.timers[node.index()].remove(&timer);
                    self.step(node, Input::Timer(timer));
                } else if self.is_twin(node) {
                    self.twin_timer(node, timer, generation);
                }
            }
            Event::ClientArrive {
                node,
                client,
                request,
                op,
                id,
            } => {
                if self.is_twin(node) {
                    self.client_arrive_twin(node, client, request, op, id);
                } else if self.nodes[node.index()].is_some() {
                    self.delivering = id.map(|id| Arrival {
                        id,
                        duplicate: false,
                    });
                    self.step(
                        node,
                        Input::Client {
                            client,
                            request,
                            op,
                        },
                    );
                } else if let Some(id) = id {
                    self.client_request_lost(client, node, request, id);
                }
            }
            Event::ClientReply {
                client,
                node,
                request,
                reply,
                id,
            } => {
                if let Some(id) = id {
                    self.trace_client_reply(client, request, id);
                }
                self.on_client_reply(client, node, request, reply)
            }
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
                    let draw = self
                        .decisions
                        .client_draw(client, ClientDraw::Op, 0, Rng::next_u64);
                    let wait = self.workload().wait;
                    self.client_invoke(client, draw, wait);
                }
            }
            Event::ClientInvoke { client, op } => {
                if self.clients[client as usize].outstanding.is_some() {
                    self.clients[client as usize].queued.push_back(op);
                } else {
                    self.client_invoke_explicit(client, op);
                }
            }
            Event::Fault {
                action,
                duration_us,
            } => {
                self.apply_fault(action, duration_us);
                self.topology_changed();
            }
            Event::Revert { action } => {
                if self.healed_at.is_none() {
                    self.revert(action);
                    self.topology_changed();
                }
            }
            Event::Nemesis => {
                self.nemesis_tick();
                self.topology_changed();
            }
            Event::Heal => {
                self.heal();
                self.topology_changed();
            }
            Event::End => self.end(),
        }
        if self.healed_at.is_some() && !self.liveness_pending.is_empty() {
            self.check_liveness();
        }
        if self.failure.is_none() && !self.finished {
            self.judge_checks_after_event();
        }
    }

    /// Start `node` (the copy in its slots) from `Protocol::new`.
    fn start_copy(&mut self, node: NodeId) {
        let ctx = self.ctx(node);
        self.nodes[node.index()] = Some(crate::panics::protocol_code(|| P::new(&ctx)));
        self.topology_changed();
        self.step(node, Input::Init);
    }

    /// A message reaches its receiver (unless it is down or omits it) and is its step.
    fn deliver(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: P::Msg,
        ordinal: u64,
        id: u64,
        duplicate: bool,
    ) {
        let arrival = Arrival { id, duplicate };
        if self.nodes[to.index()].is_none() {
            self.drop_on_arrival(from, to, &msg, DropCause::Crashed, arrival);
        } else if self.network.bounded.is_none()
            && self.decisions.receive_omitted(
                self.network.receive_omission_per_million[to.index()],
                from,
                to,
                ordinal,
                duplicate,
            )
        {
            self.drop_on_arrival(from, to, &msg, DropCause::ReceiveOmission, arrival);
        } else {
            self.metrics.messages_delivered += 1;
            self.delivering = Some(arrival);
            self.step(to, Input::Message { from, msg });
        }
    }

    fn ctx(&self, node: NodeId) -> Ctx<'a, P::Config> {
        let ctx = Ctx::new(node, self.cluster_size, &self.prepared.config);
        if self.prepared.registration.reads_clock {
            ctx.with_clock(self.clocks[node.index()].read(self.now))
        } else {
            ctx
        }
    }

    /// Where an event for a paused node waits: an input to it (a start, a message, a
    /// timer, a client request) is held, in order, until it resumes.
    fn waiting_list(&mut self, event: &Event<P>) -> Option<&mut Vec<Event<P>>> {
        let node = match event {
            Event::Start { node }
            | Event::Timer { node, .. }
            | Event::ClientArrive { node, .. } => *node,
            Event::Deliver { to, .. } | Event::Release { to, .. } => *to,
            _ => return None,
        };
        self.paused[node.index()].as_mut()
    }

    /// End a pause: what waited is handled now, in the order it arrived (a timer that
    /// expired during the pause fires now).
    fn resume(&mut self, node: NodeId) {
        for event in self.paused[node.index()].take().into_iter().flatten() {
            self.schedule(self.now, event);
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
        self.note_twin_step(node);
        let trace_input = self.trace.is_some().then(|| input_json::<P>(&input));
        let delivered = self.delivering.take();
        let kind = input.kind();
        // A start or restart always reports the role the node starts in.
        let restarted = matches!(input, Input::Init | Input::Restart);
        let role_before = match input {
            Input::Init | Input::Restart => None,
            _ => self.nodes[index].as_ref().map(P::role),
        };
        if let Some(Some(byzantine)) = self.byzantine.get_mut(index) {
            let recording = self.decisions.recording();
            byzantine.begin_step(node, self.prepared.tape.as_ref(), recording);
            if let Input::Message { msg, .. } = &input {
                byzantine.saw(msg);
            }
        }
        let mut fx = std::mem::take(&mut self.fx);
        crate::panics::protocol_code(|| self.checker.before_step(&self.nodes, node, &input));
        let stepped = interpret::step(self, &ctx, input, &mut fx);
        self.fx = fx;
        // Delays held for sends lost in a crash are dropped with them.
        self.held_us.clear();

        let verdict = crate::panics::protocol_code(|| {
            self.checker.on_step(&self.nodes, node, &self.observations)
        });
        let role_after = self.nodes[index].as_ref().map(P::role);
        let state_after = match (&mut self.trace, &self.nodes[index]) {
            (Some(trace), Some(stepped)) => {
                let registration = &self.prepared.registration;
                registration.trace_state.map(|state| {
                    let mut value = state(stepped);
                    let sequences = registration
                        .trace_sequences
                        .iter()
                        .map(|sequence| (sequence.field, (sequence.read)(stepped)))
                        .collect();
                    trace.encode_state(node.0, &mut value, sequences, restarted);
                    value
                })
            }
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
        }
        // A Byzantine node shows as such in the role timeline, whatever its role.
        let role_shown = if self.is_byzantine(node) {
            role_changed
                .filter(|_| role_before.is_none())
                .map(|_| byzantine::ROLE)
        } else {
            role_changed
        };
        // A twin's timeline is its copy 0's.
        if let (Some(role), None) = (role_shown, self.copy_1_acting) {
            self.roles.push((self.now, node.0, role));
        }
        let twin = self.twin_copy(node);
        if let Some(trace) = &mut self.trace {
            let observations: Vec<Value> = self
                .observations
                .iter()
                .map(|o| json!({o.kind(): o}))
                .collect();
            let line = TraceEvent {
                i: self.events,
                time_us: self.now,
                node: Some(node.0),
                event: kind.to_string(),
                twin,
                detail: TraceDetail::Step {
                    input: trace_input.unwrap_or(Value::Null),
                    effects: std::mem::take(&mut self.trace_effects),
                    observations,
                    role: role_shown.map(str::to_string),
                    state: state_after,
                    delivered,
                },
            };
            trace.push(line);
        }
        if let Err(violation) = verdict {
            self.fail(Verdict::Violation, violation.property, violation.detail);
        }
        if let Some(meter) = &mut self.meter {
            crate::panics::protocol_code(|| meter.on_step(self.now, node, &self.nodes));
        }
        self.judge_step(node, role_changed);
        self.observations.clear();
        // Only the copy that stepped crashes (a twin's other copy lives on).
        if stepped.crashed_after_persist {
            self.crash_copy(node, "crash_after_persist");
        }
        if stepped.crashed_mid_step {
            self.crash_copy(node, "crash_mid_step");
        }
        self.count_state_items(node);
        self.reconsider_held(node);
    }

    fn send_message(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        self.metrics.messages_sent += 1;
        self.metrics.bytes_sent += u64::from(msg.size_bytes());
        self.count_send(msg.kind(), msg.size_bytes());
        *self.messages_by_kind.entry(msg.kind()).or_insert(0) += 1;
        let (ordinal, mut fate) = if self.twin_split_blocks(from, to) {
            (0, Fate::Drop(DropCause::TwinSplit))
        } else {
            self.decisions.message_fate(
                &mut self.network,
                self.now,
                from,
                to,
                msg.size_bytes(),
                msg.kind(),
            )
        };
        if let (Some(held_us), Fate::Deliver { delay_us, .. }) =
            (self.held_us.pop_front(), &mut fate)
        {
            *delay_us += held_us;
        }
        fate.hash(&mut self.hasher);
        let id = self.next_message_id;
        self.next_message_id += 1;
        if self.trace.is_some() {
            let fate = trace_fate(fate);
            self.trace_effects.push(TraceEffect::Send {
                to: to.0,
                msg: json!({msg.kind(): &msg}),
                fate: Some(fate),
                id: Some(id),
            });
        }
        let from_copy = self.twin_copy(from).unwrap_or(0);
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
                            id,
                            duplicate: true,
                            from_copy,
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
                        id,
                        duplicate: false,
                        from_copy,
                    },
                );
            }
            Fate::Drop(cause) => {
                self.metrics.messages_dropped += 1;
                *self.drops_by_cause.entry(cause.name()).or_insert(0) += 1;
            }
        }
    }

    fn drop_on_arrival(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: &P::Msg,
        cause: DropCause,
        arrival: Arrival,
    ) {
        self.metrics.messages_dropped += 1;
        *self.drops_by_cause.entry(cause.name()).or_insert(0) += 1;
        (self.now, from, to, cause).hash(&mut self.hasher);
        self.trace_line(Some(to), "drop", || TraceDetail::Drop {
            from: from.0,
            msg: msg.kind().to_string(),
            cause: cause.name().to_string(),
            arrival: Some(arrival),
        });
    }

    /// Append a line to the trace, when tracing: an event at `node` (or cluster-wide).
    fn trace_line(
        &mut self,
        node: Option<NodeId>,
        event: &str,
        detail: impl FnOnce() -> TraceDetail,
    ) {
        let twin = node.and_then(|node| self.twin_copy(node));
        if let Some(trace) = &mut self.trace {
            let line = TraceEvent {
                i: self.events,
                time_us: self.now,
                node: node.map(|node| node.0),
                event: event.to_string(),
                twin,
                detail: detail(),
            };
            trace.push(line);
        }
    }

    fn is_byzantine(&self, node: NodeId) -> bool {
        matches!(self.byzantine.get(node.index()), Some(Some(_)))
    }

    /// The run's Byzantine nodes, in id order.
    fn byzantine_ids(&self) -> Vec<NodeId> {
        (0..self.cluster_size)
            .map(NodeId)
            .filter(|&node| self.is_byzantine(node))
            .collect()
    }

    /// Crash `node` (both copies of a twin).
    fn crash(&mut self, node: NodeId, cause: &'static str) {
        self.crash_copy(node, cause);
        self.also_copy_1(node, |sim| sim.crash_copy(node, cause));
    }

    /// Crash the copy of `node` in its slots.
    fn crash_copy(&mut self, node: NodeId, cause: &'static str) {
        if self.nodes[node.index()].take().is_none() {
            return;
        }
        self.timers[node.index()].clear();
        self.count_state_items(node);
        // A crash ends a pause: what waited meets a crashed node.
        self.resume(node);
        self.crash_after_persist[node.index()] = false;
        self.crash_mid_step[node.index()] = None;
        if self.copy_1_acting.is_none() {
            self.roles.push((self.now, node.0, "crashed"));
            if let Some(meter) = &mut self.meter {
                crate::panics::protocol_code(|| meter.on_crash(self.now, node));
            }
        }
        self.topology_changed();
        (self.now, node, "crash").hash(&mut self.hasher);
        if let Some(copy) = self.twin_copy(node) {
            copy.hash(&mut self.hasher);
        }
        self.trace_line(Some(node), "crash", || TraceDetail::Crash {
            cause: cause.to_string(),
        });
    }

    /// Restart `node` (each crashed copy of a twin).
    fn restart(&mut self, node: NodeId) {
        self.restart_copy(node);
        self.also_copy_1(node, |sim| sim.restart_copy(node));
    }

    /// Restart the copy of `node` in its slots from what it persisted.
    fn restart_copy(&mut self, node: NodeId) {
        if self.nodes[node.index()].is_some() {
            return;
        }
        let ctx = self.ctx(node);
        let durable = self.durable[node.index()].as_ref();
        self.nodes[node.index()] = Some(crate::panics::protocol_code(|| P::recover(&ctx, durable)));
        self.topology_changed();
        self.step(node, Input::Restart);
    }
}

/// The simulator's side of the effect interpreter: sends go through the network model,
/// timers draw their delay, replies travel back to their client, and everything applied
/// feeds the trace hash.
impl<P: Protocol> EffectSink<P> for Sim<'_, P> {
    fn node_mut(&mut self, node: NodeId) -> &mut P {
        self.nodes[node.index()]
            .as_mut()
            .expect("only live nodes step")
    }

    fn intercept(&mut self, ctx: &Ctx<'_, P::Config>, fx: &mut Effects<P>) {
        let Some(Some(byzantine)) = self.byzantine.get_mut(ctx.id.index()) else {
            return;
        };
        let plan = self
            .prepared
            .byzantine
            .as_ref()
            .expect("Byzantine nodes come from a plan");
        let state = self.nodes[ctx.id.index()]
            .as_ref()
            .expect("only live nodes step");
        let before = fx.as_slice().to_vec();
        let held = byzantine.rewrite(
            &self.prepared.registration,
            ctx,
            state,
            fx.list_mut(),
            plan,
            self.now,
        );
        let changed = held.iter().any(|&delay| delay > 0) || before != fx.as_slice();
        if changed {
            *self.faults_fired.entry("byzantine_steps").or_insert(0) += 1;
        }
        if let Some((n, draws)) = byzantine.end_step(changed) {
            self.decisions.record_byzantine(ctx.id, n, draws);
        }
        assert!(
            self.held_us.is_empty(),
            "held delays are used up by their step"
        );
        self.held_us.extend(held);
    }

    fn applying(&mut self, _node: NodeId, effect: &Effect<P>) {
        // The durable state is a function of the inputs hashed so far, so a marker
        // stands for it (hashing whole logs on every persist would dominate a run).
        match effect {
            Effect::Persist(_) => "persist".hash(&mut self.hasher),
            other => other.hash(&mut self.hasher),
        }
    }

    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg) {
        self.send_message(from, to, msg);
    }

    fn set_timer(&mut self, node: NodeId, timer: P::Timer, min_us: TimeUs, max_us: TimeUs) {
        let index = node.index();
        let drawn = self.decisions.timer_delay(node, min_us, max_us);
        let delay = drifted(drawn, self.clocks[index].drift_ppm);
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
            self.trace_effects.push(TraceEffect::SetTimer {
                timer: timer.kind().to_string(),
                delay_us: Some(delay),
                min_us: None,
                max_us: None,
            });
        }
    }

    fn cancel_timer(&mut self, node: NodeId, timer: P::Timer) {
        self.timers[node.index()].remove(&timer);
        if self.trace.is_some() {
            self.trace_effects.push(TraceEffect::CancelTimer {
                timer: timer.kind().to_string(),
            });
        }
    }

    fn persist(&mut self, node: NodeId, durable: P::Durable) {
        if self.trace.is_some() {
            self.trace_effects.push(TraceEffect::Persist(true));
        }
        self.durable[node.index()] = Some(durable);
    }

    fn crash_after_persist(&mut self, node: NodeId) -> bool {
        self.crash_after_persist[node.index()]
    }

    fn crash_mid_step(&mut self, node: NodeId, applied: usize, _total: usize) -> bool {
        self.crash_mid_step[node.index()] == Some(applied as u32)
    }

    fn checker(&mut self) -> Option<&mut P::Checker> {
        Some(&mut self.checker)
    }

    fn reply(&mut self, node: NodeId, client: ClientId, request: u64, reply: P::Reply) {
        if self.endpoints.on_network(client) {
            let traced = self
                .trace
                .is_some()
                .then(|| serde_json::to_value(&reply).unwrap_or(Value::Null));
            let (id, fate) = self.send_client_reply(node, client, request, reply);
            if let Some(reply) = traced {
                self.trace_effects.push(TraceEffect::Reply {
                    client,
                    request,
                    reply,
                    fate,
                    id: Some(id),
                });
            }
            return;
        }
        if self.trace.is_some() {
            self.trace_effects.push(TraceEffect::Reply {
                client,
                request,
                reply: serde_json::to_value(&reply).unwrap_or(Value::Null),
                fate: None,
                id: None,
            });
        }
        if (client as usize) < self.clients.len() {
            let latency = self.client_latency(client);
            self.schedule(
                self.now + latency,
                Event::ClientReply {
                    client,
                    node,
                    request,
                    reply,
                    id: None,
                },
            );
        }
    }

    fn observe(&mut self, _node: NodeId, observation: P::Obs) {
        *self
            .observation_counts
            .entry(observation.kind())
            .or_insert(0) += 1;
        self.observations.push(observation);
    }

    fn lost_in_crash(&mut self, _node: NodeId, effect: Effect<P>) {
        // The node crashed within its step (after a persist, or at a boundary a
        // `crash_mid_step` chose): the rest of this step's effects never happened.
        if self.trace.is_some() {
            self.trace_effects
                .push(TraceEffect::LostInCrash(Box::new(effect_trace::<P>(
                    &effect,
                ))));
        }
    }
}

/// A network decision as the trace writes it.
fn trace_fate(fate: Fate) -> TraceFate {
    match fate {
        Fate::Deliver {
            delay_us,
            duplicate_delay_us,
        } => TraceFate::Delivered {
            delay_us,
            duplicate_delay_us,
        },
        Fate::Drop(cause) => TraceFate::Dropped {
            dropped: cause.name().to_string(),
        },
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

/// An effect lost in a crash, as traced (nothing was drawn or decided for it).
fn effect_trace<P: Protocol>(effect: &Effect<P>) -> TraceEffect {
    match effect {
        Effect::Send { to, msg } => TraceEffect::Send {
            to: to.0,
            msg: json!({msg.kind(): msg}),
            fate: None,
            id: None,
        },
        Effect::SetTimer {
            timer,
            min_us,
            max_us,
        } => TraceEffect::SetTimer {
            timer: timer.kind().to_string(),
            delay_us: None,
            min_us: Some(*min_us),
            max_us: Some(*max_us),
        },
        Effect::CancelTimer { timer } => TraceEffect::CancelTimer {
            timer: timer.kind().to_string(),
        },
        Effect::Persist(_) => TraceEffect::Persist(true),
        Effect::Reply {
            client,
            request,
            reply,
        } => TraceEffect::Reply {
            client: *client,
            request: *request,
            reply: serde_json::to_value(reply).unwrap_or(Value::Null),
            fate: None,
            id: None,
        },
        Effect::Observe(observation) => {
            TraceEffect::Observe(json!({observation.kind(): observation}))
        }
    }
}
