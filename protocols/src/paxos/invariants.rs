//! Paxos's checker: agreement over the whole run (a ghost of every acceptance ever made,
//! so a value is "chosen" the moment a majority accepted it in one ballot, whether or not
//! any learner heard), validity, and the acceptor's own invariant.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::*;

use super::{Ballot, Paxos, PaxosObs, Value};

pub const AGREEMENT: &str = "agreement";
pub const VALIDITY: &str = "validity";
pub const ACCEPTOR_PROMISE: &str = "acceptor_promise";
pub const DECIDED: &str = "decided";
pub const CHOSEN: &str = "chosen";

const PROPERTIES: &[PropertyInfo] = &[
    PropertyInfo {
        name: AGREEMENT,
        description: "at most one value is ever chosen (accepted by a majority in one \
                      ballot), and every learner learns that value",
    },
    PropertyInfo {
        name: VALIDITY,
        description: "only a value some proposer proposed is accepted or learnt",
    },
    PropertyInfo {
        name: ACCEPTOR_PROMISE,
        description: "an acceptor's accepted ballot never exceeds its promise",
    },
];

const LIVENESS: &[PropertyInfo] = &[
    PropertyInfo {
        name: DECIDED,
        description: "every live node has learnt the chosen value",
    },
    PropertyInfo {
        name: CHOSEN,
        description: "some value has been chosen",
    },
];

/// Ghost state: every proposed value and every acceptance ever made.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct PaxosChecker {
    proposed: BTreeSet<Value>,
    acceptances: BTreeMap<(Ballot, Value), BTreeSet<NodeId>>,
    /// The first value chosen, with the ballot that chose it.
    chosen: Option<(Ballot, Value)>,
}

impl PaxosChecker {
    fn valid(&self, value: Value, stepped: NodeId, what: &str) -> Result<(), Violation> {
        if self.proposed.contains(&value) {
            return Ok(());
        }
        Err(Violation::new(
            VALIDITY,
            format!(
                "{stepped} {what} {value}, which no proposer proposed (proposed: {:?})",
                self.proposed
            ),
        ))
    }

    fn agree(
        &self,
        value: Value,
        detail: impl FnOnce(Ballot, Value) -> String,
    ) -> Result<(), Violation> {
        match self.chosen {
            Some((ballot, chosen)) if chosen != value => {
                Err(Violation::new(AGREEMENT, detail(ballot, chosen)))
            }
            _ => Ok(()),
        }
    }

    fn on_accepted(
        &mut self,
        majority: usize,
        stepped: NodeId,
        ballot: Ballot,
        value: Value,
    ) -> Result<(), Violation> {
        self.valid(value, stepped, "accepted")?;
        let acceptors = self.acceptances.entry((ballot, value)).or_default();
        acceptors.insert(stepped);
        if acceptors.len() < majority {
            return Ok(());
        }
        let acceptors = acceptors.clone();
        self.agree(value, |first, chosen| {
            format!(
                "{chosen} was chosen in ballot {first}, and now {value} is chosen in \
                 ballot {ballot} by {acceptors:?}"
            )
        })?;
        self.chosen.get_or_insert((ballot, value));
        Ok(())
    }
}

fn acceptor_promise(node: &Paxos, id: NodeId) -> Result<(), Violation> {
    match node.durable.accepted {
        Some((accepted, _)) => accepted_within_promise(id, accepted, node.durable.promised),
        None => Ok(()),
    }
}

/// The acceptor invariant for one acceptance (shared with Multi-Paxos, whose acceptors
/// hold one per slot): its ballot is within the acceptor's promise.
pub(crate) fn accepted_within_promise(
    id: NodeId,
    accepted: Ballot,
    promised: Option<Ballot>,
) -> Result<(), Violation> {
    if promised.is_some_and(|promised| accepted <= promised) {
        return Ok(());
    }
    Err(Violation::new(
        ACCEPTOR_PROMISE,
        format!("{id} accepted ballot {accepted} but promised only {promised:?}"),
    ))
}

impl Checker<Paxos> for PaxosChecker {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, Paxos>,
        stepped: NodeId,
        observations: &[PaxosObs],
    ) -> Result<(), Violation> {
        let majority = nodes.len() / 2 + 1;
        for observation in observations {
            match *observation {
                PaxosObs::Prepare { value, .. } => {
                    self.proposed.insert(value);
                }
                PaxosObs::Accepted { ballot, value } => {
                    self.on_accepted(majority, stepped, ballot, value)?;
                }
                PaxosObs::Decided { value } => {
                    self.valid(value, stepped, "learnt")?;
                    self.agree(value, |ballot, chosen| {
                        format!(
                            "{stepped} learnt {value}, but {chosen} was chosen in ballot {ballot}"
                        )
                    })?;
                    if self.chosen.is_none() {
                        return Err(Violation::new(
                            AGREEMENT,
                            format!("{stepped} learnt {value}, which no majority accepted"),
                        ));
                    }
                }
                PaxosObs::Propose { .. } | PaxosObs::Promised { .. } => {}
            }
        }
        match &nodes[stepped.index()] {
            Some(node) => acceptor_promise(node, stepped),
            None => Ok(()),
        }
    }

    fn check_all(&self, nodes: NodesView<'_, Paxos>) -> Result<(), Violation> {
        for (index, node) in nodes.iter().enumerate() {
            if let Some(node) = node {
                let id = NodeId(index as u32);
                acceptor_promise(node, id)?;
                if let Some(value) = node.durable.decided {
                    self.agree(value, |ballot, chosen| {
                        format!("{id} holds {value} as learnt, but {chosen} was chosen in ballot {ballot}")
                    })?;
                }
            }
        }
        Ok(())
    }

    fn liveness_conditions() -> &'static [PropertyInfo] {
        LIVENESS
    }

    fn liveness_holds(&self, name: &str, nodes: NodesView<'_, Paxos>) -> Option<bool> {
        match name {
            DECIDED => Some(
                nodes
                    .iter()
                    .flatten()
                    .all(|node| node.durable.decided.is_some()),
            ),
            CHOSEN => Some(self.chosen.is_some()),
            _ => None,
        }
    }
}
