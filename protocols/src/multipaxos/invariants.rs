//! Multi-Paxos's checker. Ghost state: every request a client issued, every acceptance
//! ever made (so a slot is chosen the moment a majority accepted one value in one ballot,
//! whether or not the leader heard), the values executed per slot, and what each
//! candidate's promises reported in its phase 1. From these: agreement and validity per
//! slot, the acceptor invariant, executed prefixes that agree and hold only chosen values,
//! and two rules of a step from the paper: a node that sees a higher ballot stops leading,
//! and a leader proposes in a slot the value of the highest-ballot acceptance its phase 1
//! reported there.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Checker, ClientId, Input, NodeId, NodesView, PropertyInfo, Violation};

use super::{
    Acceptance, Ballot, MultiPaxos, MultiPaxosMsg, MultiPaxosObs, Report, Role, Slot, Value,
};
use crate::kv::KvOp;

pub const AGREEMENT: &str = "agreement";
pub const VALIDITY: &str = "validity";
pub const ACCEPTOR_PROMISE: &str = "acceptor_promise";
pub const EXECUTED_CHOSEN: &str = "executed_chosen";
pub const EXECUTED_PREFIX: &str = "executed_prefix";
pub const HIGHER_BALLOT_STEPS_DOWN: &str = "higher_ballot_steps_down";
pub const PHASE2_VALUE: &str = "phase2_value";
pub const LEADER: &str = "leader";
pub const CAUGHT_UP: &str = "caught_up";

const PROPERTIES: &[PropertyInfo] = &[
    PropertyInfo {
        name: AGREEMENT,
        description: "at most one value is ever chosen per slot (accepted by a majority in \
                      one ballot), over the whole run",
    },
    PropertyInfo {
        name: VALIDITY,
        description: "only a no-op or a command a client issued is proposed or accepted",
    },
    PropertyInfo {
        name: ACCEPTOR_PROMISE,
        description: "an acceptor's accepted ballot never exceeds its promise",
    },
    PropertyInfo {
        name: EXECUTED_CHOSEN,
        description: "a replica learns and executes at a slot only the value chosen there",
    },
    PropertyInfo {
        name: EXECUTED_PREFIX,
        description: "replicas execute slots in order, and their executed prefixes agree",
    },
    PropertyInfo {
        name: HIGHER_BALLOT_STEPS_DOWN,
        description: "a step rule: a leader or candidate that receives a message naming a \
                      higher ballot no longer leads with its own after the step",
    },
    PropertyInfo {
        name: PHASE2_VALUE,
        description: "a step rule (P2c): a leader proposes in a slot the value of the \
                      highest-ballot acceptance reported there by the promises of its phase 1",
    },
];

const LIVENESS: &[PropertyInfo] = &[
    PropertyInfo {
        name: LEADER,
        description: "a live node leads with a ballot no live node has promised above",
    },
    PropertyInfo {
        name: CAUGHT_UP,
        description: "every live node has executed every slot the leader has",
    },
];

/// What a candidate's promises reported so far, highest ballot per slot.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct PhaseOne {
    ballot: Ballot,
    highest: BTreeMap<Slot, Acceptance>,
}

impl PhaseOne {
    fn report(&mut self, slot: Slot, acceptance: Acceptance) {
        let highest = self.highest.entry(slot).or_insert(acceptance);
        if acceptance.0 > highest.0 {
            *highest = acceptance;
        }
    }
}

/// What `before_step` notes for `on_step` (cleared there).
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
struct StepNote {
    /// The ballot the stepping node led or ran phase 1 with, and the message's ballot.
    leading_and_seen: Option<(Ballot, Ballot)>,
    /// A promise a candidate receives for its own ballot: its reports.
    promise: Option<(Ballot, Vec<Report>)>,
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct MultiPaxosChecker {
    requested: BTreeMap<(ClientId, u64), KvOp>,
    acceptances: BTreeMap<(Slot, Ballot, Value), BTreeSet<NodeId>>,
    chosen: BTreeMap<Slot, Acceptance>,
    /// The value executed at each slot, by whichever replica executed it first.
    executed: Vec<Value>,
    phase_one: BTreeMap<NodeId, PhaseOne>,
    note: StepNote,
}

impl MultiPaxosChecker {
    fn valid(&self, value: Value, stepped: NodeId, what: &str) -> Result<(), Violation> {
        let Some(command) = value else {
            return Ok(());
        };
        if self.requested.get(&(command.client, command.request)) == Some(&command.op) {
            return Ok(());
        }
        Err(Violation::new(
            VALIDITY,
            format!("{stepped} {what} {command:?}, which no client requested"),
        ))
    }

    fn on_accepted(
        &mut self,
        majority: usize,
        stepped: NodeId,
        slot: Slot,
        ballot: Ballot,
        value: Value,
    ) -> Result<(), Violation> {
        self.valid(value, stepped, "accepted")?;
        let acceptors = self.acceptances.entry((slot, ballot, value)).or_default();
        acceptors.insert(stepped);
        if acceptors.len() < majority {
            return Ok(());
        }
        match self.chosen.get(&slot) {
            Some(&(first, chosen)) if chosen != value => Err(Violation::new(
                AGREEMENT,
                format!(
                    "slot {slot}: {chosen:?} was chosen in ballot {first}, and now \
                     {value:?} is chosen in ballot {ballot} by {acceptors:?}"
                ),
            )),
            Some(_) => Ok(()),
            None => {
                self.chosen.insert(slot, (ballot, value));
                Ok(())
            }
        }
    }

    fn is_chosen(
        &self,
        stepped: NodeId,
        what: &str,
        slot: Slot,
        value: Value,
    ) -> Result<(), Violation> {
        match self.chosen.get(&slot) {
            Some(&(_, chosen)) if chosen == value => Ok(()),
            Some(&(ballot, chosen)) => Err(Violation::new(
                EXECUTED_CHOSEN,
                format!(
                    "{stepped} {what} {value:?} at slot {slot}, where {chosen:?} was chosen \
                     in ballot {ballot}"
                ),
            )),
            None => Err(Violation::new(
                EXECUTED_CHOSEN,
                format!(
                    "{stepped} {what} {value:?} at slot {slot}, which no majority has accepted"
                ),
            )),
        }
    }

    fn on_executed(&mut self, stepped: NodeId, slot: Slot, value: Value) -> Result<(), Violation> {
        self.is_chosen(stepped, "executed", slot, value)?;
        let known = self.executed.len() as Slot;
        if slot == known {
            self.executed.push(value);
            return Ok(());
        }
        match self.executed.get(slot as usize) {
            Some(&first) if first == value => Ok(()),
            Some(&first) => Err(Violation::new(
                EXECUTED_PREFIX,
                format!("{stepped} executed {value:?} at slot {slot}, another replica {first:?}"),
            )),
            None => Err(Violation::new(
                EXECUTED_PREFIX,
                format!("{stepped} executed slot {slot}, but no replica has executed slot {known}"),
            )),
        }
    }

    /// A leader's proposal against what its phase 1 reported at that slot.
    fn phase2_value(
        &self,
        stepped: NodeId,
        ballot: Ballot,
        slot: Slot,
        value: Value,
    ) -> Result<(), Violation> {
        let Some(phase_one) = self.phase_one.get(&stepped) else {
            return Ok(());
        };
        if phase_one.ballot != ballot {
            return Ok(());
        }
        match phase_one.highest.get(&slot) {
            Some(&(reported, highest)) if highest != value => Err(Violation::new(
                PHASE2_VALUE,
                format!(
                    "{stepped} proposes {value:?} at slot {slot} in ballot {ballot}, but its \
                     phase 1 reported {highest:?} accepted there in ballot {reported}"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The candidate's own acceptor reports in the step that starts phase 1.
    fn start_phase_one(&mut self, node: &MultiPaxos, stepped: NodeId, ballot: Ballot, from: Slot) {
        let mut phase_one = PhaseOne {
            ballot,
            highest: BTreeMap::new(),
        };
        let start = usize::try_from(from).unwrap_or(usize::MAX);
        for (index, acceptance) in node.durable.accepted.iter().enumerate().skip(start) {
            if let Some(acceptance) = *acceptance {
                phase_one.report(index as Slot, acceptance);
            }
        }
        self.phase_one.insert(stepped, phase_one);
    }
}

fn acceptor_promise(node: &MultiPaxos, id: NodeId, accepted: Ballot) -> Result<(), Violation> {
    crate::paxos::accepted_within_promise(id, accepted, node.durable.promised)
}

impl Checker<MultiPaxos> for MultiPaxosChecker {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn before_step(
        &mut self,
        nodes: NodesView<'_, MultiPaxos>,
        stepped: NodeId,
        input: &Input<MultiPaxos>,
    ) {
        let node = nodes[stepped.index()].as_ref();
        match input {
            Input::Client {
                client,
                request,
                op,
            } => {
                self.requested.insert((*client, *request), *op);
            }
            Input::Message { msg, .. } => {
                let leading = node.and_then(MultiPaxos::leading_ballot);
                self.note.leading_and_seen = leading.map(|own| (own, msg.ballot()));
                if let MultiPaxosMsg::Promise { ballot, accepted } = msg {
                    let candidate = node.is_some_and(
                        |node| matches!(&node.role, Role::Candidate(c) if c.ballot == *ballot),
                    );
                    if candidate {
                        self.note.promise = Some((*ballot, accepted.clone()));
                    }
                }
            }
            _ => {}
        }
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, MultiPaxos>,
        stepped: NodeId,
        observations: &[MultiPaxosObs],
    ) -> Result<(), Violation> {
        let note = std::mem::take(&mut self.note);
        let node = nodes[stepped.index()].as_ref();
        if let Some((ballot, reports)) = note.promise {
            if let Some(phase_one) = self
                .phase_one
                .get_mut(&stepped)
                .filter(|phase_one| phase_one.ballot == ballot)
            {
                for (slot, accepted, value) in reports {
                    phase_one.report(slot, (accepted, value));
                }
            }
        }
        let majority = nodes.len() / 2 + 1;
        for observation in observations {
            match *observation {
                MultiPaxosObs::Prepare { ballot, from_slot } => {
                    if let Some(node) = node {
                        self.start_phase_one(node, stepped, ballot, from_slot);
                    }
                }
                MultiPaxosObs::Propose {
                    ballot,
                    slot,
                    value,
                } => {
                    self.valid(value, stepped, "proposed")?;
                    self.phase2_value(stepped, ballot, slot, value)?;
                }
                MultiPaxosObs::Accepted {
                    ballot,
                    slot,
                    value,
                } => {
                    if let Some(node) = node {
                        acceptor_promise(node, stepped, ballot)?;
                    }
                    self.on_accepted(majority, stepped, slot, ballot, value)?;
                }
                MultiPaxosObs::Chosen { slot, value } => {
                    self.is_chosen(stepped, "learnt", slot, value)?;
                }
                MultiPaxosObs::Executed { slot, value } => {
                    self.on_executed(stepped, slot, value)?;
                }
                MultiPaxosObs::Elected { .. }
                | MultiPaxosObs::Promised { .. }
                | MultiPaxosObs::SteppedDown { .. }
                | MultiPaxosObs::Recovered => {}
            }
        }
        if let Some((own, seen)) = note.leading_and_seen {
            let still_leading = node.and_then(MultiPaxos::leading_ballot) == Some(own);
            if seen > own && still_leading {
                return Err(Violation::new(
                    HIGHER_BALLOT_STEPS_DOWN,
                    format!("{stepped} received ballot {seen} and still leads with ballot {own}"),
                ));
            }
        }
        Ok(())
    }

    fn check_all(&self, nodes: NodesView<'_, MultiPaxos>) -> Result<(), Violation> {
        for (index, node) in nodes.iter().enumerate() {
            let Some(node) = node else {
                continue;
            };
            let id = NodeId(index as u32);
            for (accepted, _) in node.durable.accepted.iter().flatten() {
                acceptor_promise(node, id, *accepted)?;
            }
            for (slot, value) in node.executed.iter().enumerate() {
                self.is_chosen(id, "holds as executed", slot as Slot, *value)?;
            }
        }
        Ok(())
    }

    fn liveness_conditions() -> &'static [PropertyInfo] {
        LIVENESS
    }

    fn liveness_holds(&self, name: &str, nodes: NodesView<'_, MultiPaxos>) -> Option<bool> {
        let live = || nodes.iter().flatten();
        let leader = live()
            .filter_map(|node| match &node.role {
                Role::Leader(leadership) => Some((node, leadership.ballot)),
                _ => None,
            })
            .find(|(_, ballot)| live().all(|node| node.durable.promised <= Some(*ballot)));
        match name {
            LEADER => Some(leader.is_some()),
            CAUGHT_UP => Some(leader.is_some_and(|(leader, _)| {
                live().all(|node| node.executed.len() == leader.executed.len())
            })),
            _ => None,
        }
    }
}
