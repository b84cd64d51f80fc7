//! How much a run holds: the protocol's own count of what its nodes keep (a Raft log's
//! entries), bounded by `budget.max_state_items`, and at the end of the run the sizes
//! `RunOutput::live` reports (state, checker ghost, queue, trace, history), which is how
//! `bench long-runs` tells memory bounded by the live state from memory that grows with
//! the run.

use super::Sim;
use crate::protocol::{Checker, NodeId, Protocol};
use crate::result::{LiveState, Verdict};

/// Each node's last count, their sum and the largest sum so far: O(1) per step.
pub(super) struct StateItems {
    per_node: Vec<u64>,
    total: u64,
    peak: u64,
}

impl StateItems {
    pub(super) fn new(nodes: usize) -> StateItems {
        StateItems {
            per_node: vec![0; nodes],
            total: 0,
            peak: 0,
        }
    }

    /// Record that `node` now holds `items`; returns the total.
    fn set(&mut self, node: NodeId, items: u64) -> u64 {
        let slot = &mut self.per_node[node.index()];
        self.total = self.total - *slot + items;
        *slot = items;
        self.peak = self.peak.max(self.total);
        self.total
    }
}

impl<P: Protocol> Sim<'_, P> {
    /// Recount `node`'s state (0 once crashed) after it stepped or crashed, and end the
    /// run with a `budget` failure when all nodes together hold more than
    /// `budget.max_state_items`. A protocol that does not count its state is not bounded
    /// here (events and simulated time still are).
    pub(super) fn count_state_items(&mut self, node: NodeId) {
        let Some(count) = self.prepared.registration.state_items else {
            return;
        };
        let items = self.nodes[node.index()].as_ref().map_or(0, count);
        let total = self.state_items.set(node, items);
        let max = self.prepared.scenario.file.budget.max_state_items;
        if total > max {
            self.fail(
                Verdict::Budget,
                "budget",
                format!(
                    "the nodes hold {total} state items together (as {} counts them), more \
                     than budget.max_state_items ({max}); raise it, shorten the run, or \
                     compact the state (e.g. Raft's `[params] snapshot_every`)",
                    self.prepared.registration.name
                ),
            );
        }
    }

    pub(super) fn live_state(&self) -> LiveState {
        LiveState {
            state_items: self.state_items.total,
            state_items_peak: self.state_items.peak,
            ghost_items: self.checker.ghost_items(),
            queue_events: self.queue.len() as u64,
            trace_bytes: self.trace.as_ref().map_or(0, |trace| trace.bytes()),
            history_ops: self.history.len() as u64,
        }
    }
}
