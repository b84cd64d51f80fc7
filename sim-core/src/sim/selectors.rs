//! Resolving node selectors (`crate::selectors`) when a fault fires: roles, the
//! connected leader, random nodes, the previous fault's node, offsets, and partition
//! groups that name them, clients or `rest`.

use crate::faults::{FaultAction, Target};
use crate::protocol::*;
use crate::registration::Registration;
use crate::scenario::{FaultActionSpec, NodeSelector, Scenario, ScenarioError};
use crate::selectors::{Base, Group, Member, Selector};

use super::{Sim, LEADER_ALIAS};

/// Check the names a scenario's faults use against the protocol: roles in selectors and
/// partition groups (`node = "Leader"` is an error, not a fault silently skipped),
/// `connected_leader` only where the protocol has epochs, and message kinds.
pub(super) fn check_names<P: Protocol>(
    registration: &Registration<P>,
    scenario: &Scenario,
) -> Result<(), ScenarioError> {
    let name = registration.name;
    let check = |field: String, selector: &Selector| -> Result<(), ScenarioError> {
        match &selector.base {
            Base::Role(role) => {
                let declared = registration.roles.iter().any(|r| r.name == role.as_str())
                    || (role == LEADER_ALIAS && registration.leader_role().is_some());
                if declared {
                    return Ok(());
                }
                let mut known: Vec<&str> = registration.roles.iter().map(|r| r.name).collect();
                if registration.leader_role().is_some() && !known.contains(&LEADER_ALIAS) {
                    known.push(LEADER_ALIAS);
                }
                Err(scenario.error(
                    &field,
                    format!("{name} has no role `{role}`"),
                    format!(
                        "use a node id, one of the roles: {}, or \"{}\", \"{}\", \"{}\"",
                        known.join(", "),
                        crate::selectors::CONNECTED_LEADER,
                        crate::selectors::RANDOM,
                        crate::selectors::PREVIOUS
                    ),
                ))
            }
            Base::ConnectedLeader
                if registration.epoch.is_none() || registration.leader_role().is_none() =>
            {
                Err(scenario.error(
                    &field,
                    format!(
                        "{name} registers no epoch and leader role, so it has no connected leader"
                    ),
                    "use \"leader\" or a node id",
                ))
            }
            _ => Ok(()),
        }
    };
    for (index, fault) in scenario.file.faults.iter().enumerate() {
        if let Some(NodeSelector::Role(text)) = fault.action.node_selector() {
            let selector = Selector::parse(text).expect("checked when the scenario loaded");
            check(format!("faults[{index}].node"), &selector)?;
        }
        match &fault.action {
            FaultActionSpec::Partition { groups } => {
                for group in groups {
                    let group = Group::from_spec(group, scenario.file.nodes)
                        .expect("checked when the scenario loaded");
                    if let Group::Members(members) = group {
                        for member in &members {
                            if let Member::Select(selector) = member {
                                check(format!("faults[{index}].groups"), selector)?;
                            }
                        }
                    }
                }
            }
            FaultActionSpec::Reorder { kinds, .. } => {
                if let Some(unknown) = kinds
                    .iter()
                    .find(|kind| !registration.message_kinds.contains(&kind.as_str()))
                {
                    let fix = if registration.message_kinds.is_empty() {
                        format!("{name} declares no message kinds: drop `kinds`")
                    } else {
                        format!("use some of: {}", registration.message_kinds.join(", "))
                    };
                    return Err(scenario.error(
                        &format!("faults[{index}].kinds"),
                        format!("{name} sends no message of kind `{unknown}`"),
                        fix,
                    ));
                }
            }
            FaultActionSpec::ClockSkew { .. } if !registration.reads_clock => {
                return Err(scenario.error(
                    &format!("faults[{index}].action"),
                    format!("{name} reads no clock, so `clock_skew` would change nothing"),
                    "remove this fault (`clock_drift` stretches every protocol's timers)",
                ));
            }
            _ => {}
        }
    }
    let nemesis_skews = scenario.file.nemesis.as_ref().is_some_and(|nemesis| {
        nemesis
            .kinds
            .entries()
            .is_ok_and(|entries| entries.iter().any(|(kind, _)| *kind == "clock_skew"))
    });
    if nemesis_skews && !registration.reads_clock {
        return Err(scenario.error(
            "nemesis.kinds",
            format!("{name} reads no clock, so the nemesis's `clock_skew` would change nothing"),
            "drop `clock_skew` from the kinds (`clock_drift` stretches every protocol's timers)",
        ));
    }
    Ok(())
}

impl<P: Protocol> Sim<'_, P> {
    /// Does a node in `role` match the selector `selector` (a role name, or `leader` for
    /// the role the registration marks as the leader)?
    pub(super) fn role_matches(&self, role: &str, selector: &str) -> bool {
        role == selector
            || (selector == LEADER_ALIAS && self.prepared.registration.leader_role() == Some(role))
    }

    /// The lowest-id live node in `role`.
    pub(super) fn node_in_role(&self, role: &str) -> Option<NodeId> {
        (0..self.cluster_size).map(NodeId).find(|node| {
            self.nodes[node.index()]
                .as_ref()
                .is_some_and(|state| self.role_matches(state.role(), role))
        })
    }

    /// Resolve a fault's target to a node id, if any node matches now. `random` draws
    /// from the fault stream.
    pub(super) fn resolve(&mut self, target: &Target) -> Option<NodeId> {
        match target {
            Target::Node(id) => Some(NodeId(*id)),
            Target::Role(role) => self.node_in_role(role),
            Target::Select(selector) => self.select(selector),
        }
    }

    fn select(&mut self, selector: &Selector) -> Option<NodeId> {
        let n = self.cluster_size;
        let base = match &selector.base {
            Base::Role(role) => self.node_in_role(role)?,
            Base::ConnectedLeader => self.connected_leader()?,
            Base::Random => NodeId(self.rng_faults.below(n as u64) as u32),
            Base::Previous => self.last_hit?,
        };
        Some(NodeId(selector.shift(base.0, n)))
    }

    /// The leader of the highest epoch among the live leaders that reach a majority of
    /// the cluster both ways (themselves included); ties go to the lowest id. A leader
    /// cut off from the majority (a stale one) is not it.
    pub(super) fn connected_leader(&self) -> Option<NodeId> {
        let registration = &self.prepared.registration;
        let epoch = registration.epoch?;
        let leader = registration.leader_role()?;
        let n = self.cluster_size;
        let majority = n / 2 + 1;
        let connected = |a: NodeId| {
            (0..n)
                .map(NodeId)
                .filter(|&b| {
                    self.nodes[b.index()].is_some()
                        && (a == b
                            || (!self.network.is_blocked(a, b) && !self.network.is_blocked(b, a)))
                })
                .count() as u32
        };
        (0..n)
            .map(NodeId)
            .filter_map(|node| {
                let state = self.nodes[node.index()].as_ref()?;
                (state.role() == leader && connected(node) >= majority)
                    .then(|| (epoch(state), std::cmp::Reverse(node.0), node))
            })
            .max()
            .map(|(_, _, node)| node)
    }

    /// Resolve a partition's groups now: selectors to nodes, `rest` to every node no
    /// other group names. `None` (the fault is skipped) if a selector matches no node or
    /// two members resolve to one node.
    pub(super) fn resolve_groups(&mut self, groups: &[Group]) -> Option<FaultAction> {
        let n = self.cluster_size as usize;
        let mut taken = vec![false; n];
        let mut nodes: Vec<Vec<u32>> = Vec::with_capacity(groups.len());
        let mut clients: Vec<Vec<u32>> = Vec::with_capacity(groups.len());
        let mut rest = None;
        for (index, group) in groups.iter().enumerate() {
            let mut side = Vec::new();
            let mut side_clients = Vec::new();
            match group {
                Group::Rest => rest = Some(index),
                Group::Members(members) => {
                    for member in members {
                        let node = match member {
                            Member::Node(id) => NodeId(*id),
                            Member::Client(client) => {
                                side_clients.push(*client);
                                continue;
                            }
                            Member::Select(selector) => self.select(selector)?,
                        };
                        if std::mem::replace(&mut taken[node.index()], true) {
                            return None;
                        }
                        side.push(node.0);
                    }
                }
            }
            nodes.push(side);
            clients.push(side_clients);
        }
        if let Some(index) = rest {
            nodes[index] = (0..n as u32).filter(|&id| !taken[id as usize]).collect();
        }
        Some(if clients.iter().all(Vec::is_empty) {
            FaultAction::Partition { groups: nodes }
        } else {
            FaultAction::PartitionClients {
                groups: nodes,
                clients,
            }
        })
    }
}
