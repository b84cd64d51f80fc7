//! Two-phase commit's checker: atomicity, validity and no reversal, over ghost records of
//! every vote and every decision ever made (so a decision lost in a crash still counts).

use std::collections::BTreeMap;

use sim_core::*;

use super::{Outcome, TwoPc, TwoPcObs};

pub const ATOMICITY: &str = "atomicity";
pub const VALIDITY: &str = "validity";
pub const NO_REVERSAL: &str = "no_reversal";
pub const ALL_DECIDED: &str = "all_decided";

const PROPERTIES: &[PropertyInfo] = &[
    PropertyInfo {
        name: ATOMICITY,
        description: "no node commits while another aborts (the coordinator's decision \
                      is the transaction's outcome, so it counts too)",
    },
    PropertyInfo {
        name: VALIDITY,
        description: "a node commits only if every participant voted yes",
    },
    PropertyInfo {
        name: NO_REVERSAL,
        description: "a node never decides differently from what it decided before, \
                      across crashes too",
    },
];

const LIVENESS: &[PropertyInfo] = &[PropertyInfo {
    name: ALL_DECIDED,
    description: "every participant has learnt the decision (a crashed one counts as \
                  undecided)",
}];

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct TwoPcChecker {
    votes: BTreeMap<NodeId, bool>,
    decisions: BTreeMap<NodeId, Outcome>,
}

impl TwoPcChecker {
    fn on_decided(
        &mut self,
        participants: u32,
        stepped: NodeId,
        outcome: Outcome,
    ) -> Result<(), Violation> {
        self.not_reversed(stepped, outcome)?;
        if outcome == Outcome::Commit {
            let yes = (1..=participants)
                .map(NodeId)
                .all(|id| self.votes.get(&id) == Some(&true));
            if !yes {
                return Err(Violation::new(
                    VALIDITY,
                    format!(
                        "{stepped} committed, but not every participant voted yes (votes: {:?})",
                        self.votes
                    ),
                ));
            }
        }
        let other = self
            .decisions
            .iter()
            .find(|&(&id, &other)| id != stepped && other != outcome);
        if let Some((id, other)) = other {
            return Err(Violation::new(
                ATOMICITY,
                format!("{stepped} decided {outcome:?}, but {id} decided {other:?}"),
            ));
        }
        self.decisions.insert(stepped, outcome);
        Ok(())
    }

    fn not_reversed(&self, id: NodeId, outcome: Outcome) -> Result<(), Violation> {
        match self.decisions.get(&id) {
            Some(&before) if before != outcome => Err(Violation::new(
                NO_REVERSAL,
                format!("{id} decided {before:?}, and now {outcome:?}"),
            )),
            _ => Ok(()),
        }
    }
}

impl Checker<TwoPc> for TwoPcChecker {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, TwoPc>,
        stepped: NodeId,
        observations: &[TwoPcObs],
    ) -> Result<(), Violation> {
        let participants = nodes.len() as u32 - 1;
        for observation in observations {
            match *observation {
                TwoPcObs::Voted { yes } => {
                    self.votes.entry(stepped).or_insert(yes);
                }
                TwoPcObs::Decided { outcome } => self.on_decided(participants, stepped, outcome)?,
            }
        }
        match nodes[stepped.index()]
            .as_ref()
            .and_then(|node| node.decision)
        {
            Some(outcome) => self.not_reversed(stepped, outcome),
            None => Ok(()),
        }
    }

    fn check_all(&self, nodes: NodesView<'_, TwoPc>) -> Result<(), Violation> {
        for (index, node) in nodes.iter().enumerate() {
            if let Some(outcome) = node.as_ref().and_then(|node| node.decision) {
                self.not_reversed(NodeId(index as u32), outcome)?;
            }
        }
        Ok(())
    }

    fn liveness_conditions() -> &'static [PropertyInfo] {
        LIVENESS
    }

    fn liveness_holds(&self, name: &str, nodes: NodesView<'_, TwoPc>) -> Option<bool> {
        (name == ALL_DECIDED).then(|| {
            nodes
                .iter()
                .skip(1)
                .all(|node| node.as_ref().is_some_and(|node| node.decision.is_some()))
        })
    }
}
