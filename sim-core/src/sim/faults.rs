//! Faults in a run: applying and reverting fault actions (crashes, partitions,
//! omissions, bursts, clock drift), the nemesis's ticks, and the heal that opens the
//! liveness window.

use std::hash::Hash;

use serde_json::Value;

use crate::faults::{FaultAction, Target, MID_STEP_CUT_DRAW_MAX};
use crate::protocol::*;
use crate::result::AppliedFault;
use crate::rng::Rng;
use crate::scenario::Synchrony;
use crate::trace::TraceDetail;

use super::queue::Event;
use super::{Sim, LEADER_ALIAS};

/// A random two-way split: the nodes shuffled, then cut at a random point (each side
/// non-empty when there are two nodes or more).
fn random_split(rng: &mut Rng, n: u32) -> FaultAction {
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

impl<'a, P: Protocol> Sim<'a, P> {
    pub(super) fn apply_fault(&mut self, action: FaultAction, duration_us: Option<TimeUs>) {
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
            FaultAction::CrashMidStep {
                node,
                after_effects,
            } => self.resolve(node).map(|id| {
                // An unstated cut is drawn now and written into the applied fault, so a
                // schedule made from this run (`shrink`) cuts at the same boundary.
                let after_effects = after_effects.unwrap_or_else(|| {
                    self.rng_faults.range_inclusive(1, MID_STEP_CUT_DRAW_MAX) as u32
                });
                self.crash_mid_step[id.index()] = Some(after_effects);
                FaultAction::CrashMidStep {
                    node: Target::Node(id.0),
                    after_effects: Some(after_effects),
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
            FaultAction::Partition { .. }
            | FaultAction::OneWay { .. }
            | FaultAction::PartitionClients { .. } => {
                self.cut(&action, true);
                Some(action.clone())
            }
            FaultAction::PartitionOf { groups } => self
                .resolve_groups(groups)
                .inspect(|resolved| self.cut(resolved, true)),
            FaultAction::Reorder(rule) => {
                self.network.reorder_rules.push(rule.clone());
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
                self.endpoints.heal();
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
                self.clocks[id.index()].set_drift(self.now, *drift_ppm);
                FaultAction::ClockDrift {
                    node: Target::Node(id.0),
                    drift_ppm: *drift_ppm,
                }
            }),
            FaultAction::Pause { node } => self
                .resolve(node)
                .filter(|id| self.nodes[id.index()].is_some() && self.paused[id.index()].is_none())
                .map(|id| {
                    self.paused[id.index()] = Some(Vec::new());
                    FaultAction::Pause {
                        node: Target::Node(id.0),
                    }
                }),
            FaultAction::ClockSkew { node, offset_ms } => self.resolve(node).map(|id| {
                self.clocks[id.index()].set_offset_ms(*offset_ms);
                FaultAction::ClockSkew {
                    node: Target::Node(id.0),
                    offset_ms: *offset_ms,
                }
            }),
        };
        action.hash(&mut self.hasher);
        match fired {
            Some(resolved) => {
                if let Some(Target::Node(id)) = resolved.target() {
                    self.last_hit = Some(NodeId(*id));
                }
                self.applied_faults.push(AppliedFault {
                    at_us: self.now,
                    action: resolved.clone(),
                    duration_us,
                });
                *self.faults_fired.entry(resolved.kind()).or_insert(0) += 1;
                (self.now, &resolved).hash(&mut self.hasher);
                self.trace_line(None, "fault", || TraceDetail::Fault {
                    fault: serde_json::to_value(&resolved).unwrap_or(Value::Null),
                });
                if let Some(duration) = duration_us {
                    self.schedule(self.now + duration, Event::Revert { action: resolved });
                }
            }
            None => {
                self.trace_line(None, "fault_skipped", || TraceDetail::Fault {
                    fault: serde_json::to_value(&action).unwrap_or(Value::Null),
                });
            }
        }
    }

    /// Block (or, when `on` is false, unblock) the pairs a resolved partition-like action
    /// cuts. Cuts count: a pair stays blocked while any active cut blocks it.
    pub(super) fn cut(&mut self, action: &FaultAction, on: bool) {
        let n = self.cluster_size;
        let node = |target: &Target| match target {
            Target::Node(id) => *id,
            Target::Role(_) | Target::Select(_) => unreachable!("cuts name resolved nodes"),
        };
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        match action {
            FaultAction::Partition { groups } | FaultAction::PartitionClients { groups, .. } => {
                if let FaultAction::PartitionClients { clients, .. } = action {
                    for (side, clients) in groups.iter().zip(clients) {
                        for &client in clients {
                            self.endpoints.cut(client, side, on);
                        }
                    }
                }
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

    pub(super) fn revert(&mut self, action: FaultAction) {
        let node_of = |target: &Target| match target {
            Target::Node(id) => NodeId(*id),
            Target::Role(_) | Target::Select(_) => unreachable!("reverts name resolved nodes"),
        };
        match &action {
            FaultAction::Crash { node } => self.restart(node_of(node)),
            FaultAction::CrashAfterPersist { node } => {
                let id = node_of(node);
                self.crash_after_persist[id.index()] = false;
                self.restart(id);
            }
            FaultAction::CrashMidStep { node, .. } => {
                let id = node_of(node);
                self.crash_mid_step[id.index()] = None;
                self.restart(id);
            }
            FaultAction::Restart { .. } | FaultAction::Heal => {}
            FaultAction::Partition { .. }
            | FaultAction::PartitionClients { .. }
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
            FaultAction::ClockDrift { node, .. } => {
                self.clocks[node_of(node).index()].set_drift(self.now, 0)
            }
            FaultAction::Pause { node } => self.resume(node_of(node)),
            FaultAction::ClockSkew { node, .. } => {
                self.clocks[node_of(node).index()].set_offset_ms(0)
            }
            FaultAction::Reorder(rule) => {
                if let Some(at) = self.network.reorder_rules.iter().position(|r| r == rule) {
                    self.network.reorder_rules.remove(at);
                }
            }
            FaultAction::PartitionOf { .. } => unreachable!("reverts name resolved partitions"),
        }
        (self.now, "revert", &action).hash(&mut self.hasher);
        self.trace_line(None, "revert", || TraceDetail::Fault {
            fault: serde_json::to_value(&action).unwrap_or(Value::Null),
        });
    }

    /// Nodes currently faulty in a way that counts against the crash bound.
    pub(super) fn faulty_nodes(&self) -> u32 {
        (0..self.cluster_size as usize)
            .filter(|&i| {
                self.nodes[i].is_none()
                    || self.crash_after_persist[i]
                    || self.crash_mid_step[i].is_some()
                    || self.paused[i].is_some()
                    || self.network.send_omission_per_million[i] > 0
                    || self.network.receive_omission_per_million[i] > 0
            })
            .count() as u32
    }

    pub(super) fn nemesis_tick(&mut self) {
        if self.healed_at.is_some() || self.now >= self.prepared.scenario.file.duration_ms * 1000 {
            return;
        }
        let plan = self.nemesis.clone().expect("a nemesis is configured");
        let rng = &mut self.rng_faults;
        let kind = plan.draw_kind(rng);
        let duration_us = rng.range_inclusive(plan.duration_ms[0], plan.duration_ms[1]) * 1000;
        let n = self.cluster_size;
        let file = &self.prepared.scenario.file;
        let in_exceed_window = plan.exceed_window_ms.is_none_or(|[from, to]| {
            (from.saturating_mul(1000)..=to.saturating_mul(1000)).contains(&self.now)
        });
        let bound_allows = (file.exceed_fault_bound && in_exceed_window)
            || self.faulty_nodes() < self.prepared.bound.crashed;
        let up: Vec<u32> = (0..n)
            .filter(|&i| self.nodes[i as usize].is_some())
            .collect();
        let down: Vec<u32> = (0..n)
            .filter(|&i| self.nodes[i as usize].is_none())
            .collect();
        let leader_now = if kind == "isolate_leader" {
            self.connected_leader()
                .or_else(|| self.node_in_role(LEADER_ALIAS))
        } else {
            None
        };
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
            "crash_mid_step" if bound_allows && !up.is_empty() => {
                let node = Target::Node(*rng.pick(&up));
                let after_effects = Some(rng.range_inclusive(1, MID_STEP_CUT_DRAW_MAX) as u32);
                Some(FaultAction::CrashMidStep {
                    node,
                    after_effects,
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
                0 => random_split(rng, n),
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
            "split" => Some(random_split(rng, n)),
            "isolate_leader" => leader_now.map(|node| FaultAction::Isolate {
                node: Target::Node(node.0),
            }),
            "isolate" => {
                // k distinct nodes, each cut off from everyone: a partition whose first
                // side is the rest and whose other sides are one isolated node each.
                let mut order: Vec<u32> = (0..n).collect();
                let k = (plan.isolate_nodes as usize).min(order.len().saturating_sub(1));
                for i in 0..k {
                    let j = i + rng.below((order.len() - i) as u64) as usize;
                    order.swap(i, j);
                }
                let (isolated, rest) = order.split_at(k);
                let mut rest = rest.to_vec();
                rest.sort_unstable();
                let mut groups = vec![rest];
                groups.extend(isolated.iter().map(|&node| vec![node]));
                (k > 0).then_some(FaultAction::Partition { groups })
            }
            "restart" if !down.is_empty() => Some(FaultAction::Restart {
                node: Target::Node(*rng.pick(&down)),
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
            "pause" if bound_allows && !up.is_empty() => Some(FaultAction::Pause {
                node: Target::Node(*rng.pick(&up)),
            }),
            "clock_skew" => {
                let max = plan.skew_ms_max.min(crate::faults::CLOCK_SKEW_MAX_MS);
                let offset_ms = rng.range_inclusive(0, 2 * max) as i64 - max as i64;
                Some(FaultAction::ClockSkew {
                    node: random_node(rng),
                    offset_ms,
                })
            }
            _ => None,
        };
        if let Some(action) = action {
            // A restart is not undone.
            let duration = (kind != "restart").then_some(duration_us);
            self.apply_fault(action, duration);
        }
        let mut next = self
            .rng_faults
            .range_inclusive(plan.interval_ms[0], plan.interval_ms[1])
            * 1000;
        self.nemesis_actions += 1;
        if let Some((actions, [min, max])) = plan.rounds {
            if self.nemesis_actions.is_multiple_of(actions as u64) {
                let pause = self.rng_faults.range_inclusive(min, max) * 1000;
                self.trace_line(None, "nemesis_pause", || TraceDetail::Marker {});
                next += pause;
            }
        }
        self.schedule(self.now + next.max(1), Event::Nemesis);
    }

    /// End of the fault phase: restart every crashed node, heal the network, and (for
    /// partial synchrony) enter the bounded regime.
    pub(super) fn heal(&mut self) {
        self.healed_at = Some(self.now);
        if let Some(meter) = &mut self.meter {
            crate::panics::protocol_code(|| meter.on_heal(self.now));
        }
        self.note_outstanding_at_heal();
        if self
            .prepared
            .scenario
            .file
            .liveness
            .as_ref()
            .is_some_and(|liveness| !liveness.heal)
        {
            // The liveness window starts with the faults left as they are.
            self.trace_line(None, "liveness_window", || TraceDetail::Marker {});
            return;
        }
        (self.now, "heal").hash(&mut self.hasher);
        self.trace_line(None, "heal_all", || TraceDetail::Marker {});
        self.network.heal_all();
        self.endpoints.heal();
        let now = self.now;
        for clock in &mut self.clocks {
            clock.set_drift(now, 0);
            clock.set_offset_ms(0);
        }
        for node in (0..self.cluster_size).map(NodeId) {
            self.resume(node);
        }
        self.crash_after_persist
            .iter_mut()
            .for_each(|flag| *flag = false);
        self.crash_mid_step.iter_mut().for_each(|cut| *cut = None);
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
}
