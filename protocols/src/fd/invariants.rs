//! The failure detector's checker: what holds at every step (a node suspects only its
//! peers; a timeout only grows within an incarnation), and the names of the timed
//! liveness conditions, which the meter (`meter.rs`) judges over the whole run.

use std::collections::BTreeMap;

use sim_core::*;

use super::Fd;

pub const SUSPECTS_ONLY_PEERS: &str = "suspects_only_peers";
pub const TIMEOUTS_GROW: &str = "timeouts_grow";
pub const COMPLETE: &str = "complete";
pub const ACCURATE: &str = "accurate";

const PROPERTIES: &[PropertyInfo] = &[
    PropertyInfo {
        name: SUSPECTS_ONLY_PEERS,
        description: "a node never suspects itself, and its suspicion list names only \
                      members of the cluster",
    },
    PropertyInfo {
        name: TIMEOUTS_GROW,
        description: "within one incarnation of a node, its timeout for a peer never \
                      shrinks (false suspicions only lengthen it; the detector asserts \
                      the upper bound `max_timeout_ms`)",
    },
];

const LIVENESS: &[PropertyInfo] = &[
    PropertyInfo {
        name: COMPLETE,
        description: "strong completeness: every crashed node is suspected by every node \
                      up throughout its crash, without interruption from \
                      `complete_within_ms` after the crash (or after GST, if later) until \
                      it restarts or the run ends (judged over time by the meter)",
    },
    PropertyInfo {
        name: ACCURATE,
        description: "eventual strong accuracy: from `accurate_after_gst_within_ms` after \
                      GST (the heal) to the run's end, no node that is up suspects a node \
                      that is up (judged over time by the meter)",
    },
];

/// Ghost state: each node's timeouts as last seen, with the incarnation they belong to.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct FdChecker {
    timeouts: BTreeMap<NodeId, (u64, Vec<u64>)>,
}

fn suspects_only_peers(id: NodeId, node: &Fd, cluster_size: usize) -> Result<(), Violation> {
    match node
        .suspected
        .iter()
        .find(|&&peer| peer == id || peer.index() >= cluster_size)
    {
        Some(bad) => Err(Violation::new(
            SUSPECTS_ONLY_PEERS,
            format!(
                "{id} suspects {bad}, which is not one of its peers (suspects {:?})",
                node.suspected
            ),
        )),
        None => Ok(()),
    }
}

impl FdChecker {
    fn timeouts_grow(&mut self, id: NodeId, node: &Fd) -> Result<(), Violation> {
        if let Some((incarnation, before)) = self.timeouts.get(&id) {
            if *incarnation == node.incarnation {
                let shrunk = before
                    .iter()
                    .zip(&node.timeout_us)
                    .position(|(before, now)| now < before);
                if let Some(peer) = shrunk {
                    return Err(Violation::new(
                        TIMEOUTS_GROW,
                        format!(
                            "{id}'s timeout for n{peer} shrank from {} us to {} us in \
                             incarnation {incarnation}",
                            before[peer], node.timeout_us[peer]
                        ),
                    ));
                }
            }
        }
        self.timeouts
            .insert(id, (node.incarnation, node.timeout_us.clone()));
        Ok(())
    }
}

impl Checker<Fd> for FdChecker {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, Fd>,
        stepped: NodeId,
        _observations: &[super::FdObs],
    ) -> Result<(), Violation> {
        let Some(node) = nodes[stepped.index()].as_ref() else {
            return Ok(());
        };
        suspects_only_peers(stepped, node, nodes.len())?;
        self.timeouts_grow(stepped, node)
    }

    fn check_all(&self, nodes: NodesView<'_, Fd>) -> Result<(), Violation> {
        for (index, node) in nodes.iter().enumerate() {
            if let Some(node) = node {
                suspects_only_peers(NodeId(index as u32), node, nodes.len())?;
            }
        }
        Ok(())
    }

    fn liveness_conditions() -> &'static [PropertyInfo] {
        LIVENESS
    }

    /// Both conditions are about time (a deadline, "from then on"): no single state
    /// decides them, so they stay pending and the meter judges them at the run's end.
    fn liveness_holds(&self, _name: &str, _nodes: NodesView<'_, Fd>) -> Option<bool> {
        None
    }
}
