//! `[[checks]]` during a run (the syntax is `crate::run_checks`): the simulator's view of
//! which nodes form a connected majority, kept up to date when faults, crashes and
//! restarts change it, and the rules judged against it after every event, on every
//! step's observations and role change, and on every send.
//!
//! A scenario without `[[checks]]` has no `RunChecks` at all: it runs exactly as before.

use crate::protocol::*;
use crate::result::Verdict;
use crate::run_checks::{CheckRule, CheckSpec, CountUnit};

use super::command_check::CommandTracker;
use super::Sim;

/// The state of a run's checks.
pub(super) struct RunChecks {
    /// The up nodes that are connected (transitively, both ways) to more than half of the
    /// cluster, as a bit set; 0 when no such set exists.
    majority: u64,
    /// When `majority` last changed.
    majority_since: TimeUs,
    /// The nodes connected at least one way to more than half of the cluster.
    reachable: u64,
    /// Per node: since when it has been up but outside `reachable`, or since `reachable`
    /// last changed if that is later (a node that leaves the majority brings what it
    /// committed there to the others outside: a new grace starts for them).
    outside_since: Vec<Option<TimeUs>>,
    /// Connectivity must be recomputed (a fault, crash or restart happened).
    stale: bool,
    /// Since when the majority has had no node in the leader role.
    leaderless_since: Option<TimeUs>,
    /// Per check: what a `messages` check has counted so far, and whether its `min`
    /// has been judged.
    counted: Vec<u64>,
    judged: Vec<bool>,
    /// Per node: the highest index it has committed (its commit observations).
    committed: Vec<u64>,
    /// Per check and node, for `no_commit_in_minority`: the highest index committed
    /// outside the majority when the node's grace ran out. What the minority commits up
    /// to it was decided before the split (acknowledgements in flight); beyond it is new.
    ceilings: Vec<Vec<Option<u64>>>,
    /// For `command_everywhere` checks: the client commands and where they were applied.
    pub(super) commands: Option<CommandTracker>,
}

impl RunChecks {
    pub(super) fn new(specs: &[CheckSpec], nodes: u32) -> Option<RunChecks> {
        (!specs.is_empty()).then(|| RunChecks {
            majority: 0,
            majority_since: 0,
            reachable: 0,
            outside_since: vec![None; nodes as usize],
            stale: true,
            leaderless_since: None,
            counted: vec![0; specs.len()],
            judged: vec![false; specs.len()],
            committed: vec![0; nodes as usize],
            ceilings: vec![vec![None; nodes as usize]; specs.len()],
            commands: CommandTracker::new(specs, nodes),
        })
    }
}

/// The up nodes in `up` (a bit set) connected to each other, transitively, starting
/// from `start`, where `linked(a, b)` says a and b talk both ways.
fn component(start: u32, up: u64, linked: impl Fn(u32, u32) -> bool) -> u64 {
    let mut members = 1u64 << start;
    let mut frontier = vec![start];
    while let Some(node) = frontier.pop() {
        for other in 0..64 {
            let bit = 1u64 << other;
            if up & bit != 0 && members & bit == 0 && linked(node, other) {
                members |= bit;
                frontier.push(other);
            }
        }
    }
    members
}

/// The component of more than half of the `n` nodes among the `up` ones, if there is one.
fn majority_of(n: u32, up: u64, linked: impl Fn(u32, u32) -> bool + Copy) -> u64 {
    let mut seen = 0u64;
    for node in 0..n {
        if up & !seen & (1 << node) == 0 {
            continue;
        }
        let members = component(node, up, linked);
        seen |= members;
        if members.count_ones() > n / 2 {
            return members;
        }
    }
    0
}

impl<P: Protocol> Sim<'_, P> {
    fn check_specs(&self) -> &[CheckSpec] {
        &self.prepared.scenario.file.checks
    }

    /// A fault, crash or restart may have changed who is connected to whom.
    pub(super) fn topology_changed(&mut self) {
        if let Some(checks) = &mut self.run_checks {
            checks.stale = true;
        }
    }

    /// Recompute the connected majority, if something changed.
    fn refresh_majority(&mut self) {
        let Some(checks) = &self.run_checks else {
            return;
        };
        if !checks.stale {
            return;
        }
        let n = self.cluster_size;
        let up: u64 = (0..n)
            .filter(|&i| self.nodes[i as usize].is_some())
            .fold(0, |set, i| set | 1 << i);
        let network = &self.network;
        let open = |a: u32, b: u32| !network.is_blocked(NodeId(a), NodeId(b));
        let majority = majority_of(n, up, |a, b| open(a, b) && open(b, a));
        // Outside the majority, for the negative assertions, is cut off both ways: a node
        // behind a one-way cut still hears the leader, and may learn its commits.
        let reachable = majority_of(n, up, |a, b| open(a, b) || open(b, a));
        let now = self.now;
        let checks = self.run_checks.as_mut().expect("checked above");
        checks.stale = false;
        if majority != checks.majority {
            checks.majority = majority;
            checks.majority_since = now;
            checks.leaderless_since = None;
        }
        let reachable_changed = reachable != checks.reachable;
        checks.reachable = reachable;
        for node in 0..n {
            let outside = up & (1 << node) != 0 && reachable & (1 << node) == 0;
            let since = &mut checks.outside_since[node as usize];
            let changed = match (outside, *since) {
                (true, None) => Some(Some(now)),
                (true, Some(_)) if reachable_changed => Some(Some(now)),
                (false, Some(_)) => Some(None),
                _ => None,
            };
            if let Some(new) = changed {
                *since = new;
                for ceilings in &mut checks.ceilings {
                    ceilings[node as usize] = None;
                }
            }
        }
    }

    /// After every event: the time-bounded rules (a leaderless majority, a slow
    /// operation) and windows that closed.
    pub(super) fn judge_checks_after_event(&mut self) {
        if self.run_checks.is_none() {
            return;
        }
        self.refresh_majority();
        let leader_role = self.prepared.registration.leader_role();
        let checks = self.run_checks.as_ref().expect("checked above");
        let majority = checks.majority;
        let has_leader = majority != 0
            && (0..self.cluster_size).any(|i| {
                majority & (1 << i) != 0
                    && self.nodes[i as usize]
                        .as_ref()
                        .is_some_and(|node| Some(node.role()) == leader_role)
            });
        let now = self.now;
        let checks = self.run_checks.as_mut().expect("checked above");
        checks.leaderless_since = match (majority, has_leader, checks.leaderless_since) {
            (0, _, _) | (_, true, _) => None,
            (_, false, None) => Some(now),
            (_, false, since) => since,
        };
        let mut broken = None;
        for (index, spec) in active(&self.prepared.scenario.file.checks, now, self.end_us) {
            let (from, _) = spec.window_us(self.end_us);
            let checks = self.run_checks.as_ref().expect("checked above");
            match spec.rule {
                CheckRule::Leader { within_ms } => {
                    if let Some(since) = checks.leaderless_since {
                        let since = since.max(from);
                        if now - since > within_ms * 1000 {
                            broken = Some((
                                index,
                                Verdict::Liveness,
                                format!(
                                    "no leader among the connected majority {} from {since} us \
                                     to {now} us (more than {within_ms} ms)",
                                    members(majority)
                                ),
                            ));
                        }
                    }
                }
                CheckRule::OpLatency { within_ms } if majority != 0 => {
                    let formed = checks.majority_since.max(from);
                    let late = self.clients.iter().enumerate().find_map(|(client, state)| {
                        let outstanding = state.outstanding.as_ref()?;
                        let invoked = self.history[outstanding.history_index].invoke_us;
                        let deadline = invoked.max(formed) + within_ms * 1000;
                        (now > deadline).then_some((client, outstanding.request, invoked))
                    });
                    if let Some((client, request, invoked)) = late {
                        broken = Some((
                            index,
                            Verdict::Liveness,
                            format!(
                                "client {client}'s request {request}, invoked at {invoked} us, \
                                 had not completed at {now} us, more than {within_ms} ms after \
                                 it was invoked with the majority {} connected (since {formed} us)",
                                members(majority)
                            ),
                        ));
                    }
                }
                CheckRule::CommandEverywhere { within_ms, nodes } => {
                    let formed = checks.majority_since.max(from);
                    if let Some(detail) =
                        self.judge_commands(index, within_ms, nodes, (majority, formed))
                    {
                        broken = Some((index, Verdict::Liveness, detail));
                    }
                }
                _ => {}
            }
            if broken.is_some() {
                break;
            }
        }
        if let Some((index, verdict, detail)) = broken {
            let property = self.check_specs()[index].property();
            self.fail(verdict, property, detail);
            return;
        }
        self.judge_closed_windows(false);
    }

    /// `min` of the `messages` checks whose window has closed (all of them at the end of
    /// the run, `at_end`).
    pub(super) fn judge_closed_windows(&mut self, at_end: bool) {
        let Some(checks) = &self.run_checks else {
            return;
        };
        let mut broken = None;
        let mut closed = Vec::new();
        for (index, spec) in self.check_specs().iter().enumerate() {
            let CheckRule::Messages {
                min: Some(min),
                unit,
                ..
            } = spec.rule
            else {
                continue;
            };
            let (from, until) = spec.window_us(self.end_us);
            if checks.judged[index] || !(at_end || self.now >= until) {
                continue;
            }
            closed.push(index);
            let counted = checks.counted[index];
            if counted < min && broken.is_none() {
                let until = until.min(self.now);
                broken = Some((
                    index,
                    format!(
                        "{counted} {} sent from {from} us to {until} us; at least {min} expected",
                        unit_name(unit)
                    ),
                ));
            }
        }
        let checks = self.run_checks.as_mut().expect("checked above");
        for index in closed {
            checks.judged[index] = true;
        }
        if let Some((index, detail)) = broken {
            let property = self.check_specs()[index].property();
            self.fail(Verdict::Violation, property, detail);
        }
    }

    /// Does a check's window stay open past now (so the run must go on)?
    pub(super) fn checks_hold_run_open(&self) -> bool {
        self.run_checks.is_some()
            && self
                .check_specs()
                .iter()
                .any(|spec| spec.until_ms.is_some_and(|ms| ms * 1000 > self.now))
    }

    /// After `node`'s step: commits and leaders that must not happen outside the majority.
    pub(super) fn judge_step(&mut self, node: NodeId, became: Option<&'static str>) {
        if self.run_checks.is_none() {
            return;
        }
        self.refresh_majority();
        self.read_applied(node);
        if self.failure.is_some() {
            return;
        }
        let registration = &self.prepared.registration;
        let committed_now = registration
            .commits
            .and_then(|index| self.observations.iter().filter_map(index).max());
        let now = self.now;
        let specs = &self.prepared.scenario.file.checks;
        let checks = self.run_checks.as_mut().expect("checked above");
        let Some(outside_since) = checks.outside_since[node.index()] else {
            if let Some(index) = committed_now {
                let committed = &mut checks.committed[node.index()];
                *committed = (*committed).max(index);
            }
            return;
        };
        // The ceilings of checks whose grace ran out, from what was committed before
        // this step.
        let outside_max = (0..self.cluster_size as usize)
            .filter(|&i| checks.outside_since[i].is_some())
            .map(|i| checks.committed[i])
            .max()
            .unwrap_or(0);
        for (index, spec) in active(specs, now, self.end_us) {
            if let CheckRule::NoCommitInMinority { grace_ms } = spec.rule {
                if now >= outside_since + grace_ms * 1000 {
                    checks.ceilings[index][node.index()].get_or_insert(outside_max);
                }
            }
        }
        if let Some(index) = committed_now {
            let committed = &mut checks.committed[node.index()];
            *committed = (*committed).max(index);
        }
        let checks = self.run_checks.as_ref().expect("checked above");
        let mut broken = None;
        for (index, spec) in active(&self.prepared.scenario.file.checks, now, self.end_us) {
            let (rule, grace_ms) = match spec.rule {
                CheckRule::NoLeaderInMinority { grace_ms } => ("leader", grace_ms),
                CheckRule::NoCommitInMinority { grace_ms } => ("commit", grace_ms),
                _ => continue,
            };
            if now < outside_since + grace_ms * 1000 {
                continue;
            }
            let what = if rule == "leader" {
                became
                    .filter(|&role| Some(role) == registration.leader_role())
                    .map(|role| format!("became {role}"))
            } else {
                let ceiling = checks.ceilings[index][node.index()];
                committed_now
                    .zip(ceiling)
                    .filter(|(committed, ceiling)| committed > ceiling)
                    .map(|(committed, ceiling)| {
                        format!(
                            "committed index {committed} (beyond {ceiling}, the highest index \
                             committed outside the majority when its grace ran out)"
                        )
                    })
            };
            if let Some(what) = what {
                broken = Some((
                    index,
                    format!(
                        "{node} {what} at {now} us while outside the majority (since \
                         {outside_since} us; the majority is {})",
                        members(checks.majority)
                    ),
                ));
                break;
            }
        }
        if let Some((index, detail)) = broken {
            let property = self.check_specs()[index].property();
            self.fail(Verdict::Violation, property, detail);
        }
    }

    /// A client request (`towards_node`) or reply was sent over the network: count it
    /// in the `messages` checks that count clients.
    pub(super) fn count_client_send(&mut self, towards_node: bool) {
        self.count(Some(towards_node), "", 0);
    }

    /// A message was sent: count it in the `messages` checks whose window holds.
    pub(super) fn count_send(&mut self, kind: &'static str, size_bytes: u32) {
        self.count(None, kind, size_bytes);
    }

    /// Count a message between nodes (`client` is `None`) or a client's request
    /// (`Some(true)`) or reply (`Some(false)`).
    fn count(&mut self, client: Option<bool>, kind: &'static str, size_bytes: u32) {
        let prepared = self.prepared;
        let Some(checks) = &mut self.run_checks else {
            return;
        };
        let replies = prepared.registration.rpc_replies;
        let specs = &prepared.scenario.file.checks;
        let mut exceeded = None;
        for (index, spec) in active(specs, self.now, self.end_us) {
            let CheckRule::Messages {
                max, unit, clients, ..
            } = spec.rule
            else {
                continue;
            };
            if client.is_some() && !clients {
                continue;
            }
            checks.counted[index] += match (unit, client) {
                (CountUnit::Messages, _) => 1,
                (CountUnit::Bytes, _) => u64::from(size_bytes),
                (CountUnit::Rpcs, None) => u64::from(!replies.contains(&kind)),
                (CountUnit::Rpcs, Some(request)) => u64::from(request),
            };
            let counted = checks.counted[index];
            if let Some(max) = max.filter(|&max| counted > max) {
                exceeded.get_or_insert((spec, counted, max, unit));
            }
        }
        if let Some((spec, counted, max, unit)) = exceeded {
            let (from, _) = spec.window_us(self.end_us);
            let detail = format!(
                "{counted} {} sent from {from} us to {} us; at most {max} allowed",
                unit_name(unit),
                self.now
            );
            self.fail(Verdict::Violation, spec.property(), detail);
        }
    }
}

/// The checks of `specs` whose window holds at `now`, with their index.
fn active(
    specs: &[CheckSpec],
    now: TimeUs,
    end_us: TimeUs,
) -> impl Iterator<Item = (usize, &CheckSpec)> {
    specs.iter().enumerate().filter(move |(_, spec)| {
        let (from, until) = spec.window_us(end_us);
        (from..until).contains(&now)
    })
}

fn unit_name(unit: CountUnit) -> &'static str {
    match unit {
        CountUnit::Messages => "messages",
        CountUnit::Bytes => "bytes",
        CountUnit::Rpcs => "RPCs",
    }
}

/// A bit set of nodes as `{n0, n2}`.
pub(super) fn members(set: u64) -> String {
    let names: Vec<String> = (0..64)
        .filter(|i| set & (1u64 << i) != 0)
        .map(|i| format!("n{i}"))
        .collect();
    format!("{{{}}}", names.join(", "))
}
