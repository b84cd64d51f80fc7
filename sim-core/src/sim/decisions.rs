//! The run's decisions: network fates, timer delays, workload draws and omissions,
//! taken from the decision tape when the scenario has one and from the random streams
//! otherwise, and written down when recording.

use crate::network::{DropCause, Fate};
use crate::protocol::*;
use crate::rng::Rng;
use crate::tape::{ClientDraw, MessageEntry, Tape, TapeDrop};

use super::Sim;

impl<'a, P: Protocol> Sim<'a, P> {
    /// An explicit operation: the random draw a random operation would take is taken
    /// (and unused), for the same reason as the think time above. (A run from a tape
    /// draws nothing, so it skips this too.)
    pub(super) fn client_invoke_explicit(&mut self, client: ClientId, draw: u64) {
        if self.prepared.tape.is_none() {
            self.rng_workload.next_u64();
        }
        self.client_invoke(client, draw);
    }

    /// One workload decision of `client`: from the tape (or `fallback` where the tape
    /// has none) when the run has one, else drawn by `draw`; recorded when recording.
    pub(super) fn workload_draw(
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
    pub(super) fn timer_draw(&mut self, node: NodeId, min_us: TimeUs, max_us: TimeUs) -> TimeUs {
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
    pub(super) fn receive_omitted(
        &mut self,
        from: NodeId,
        to: NodeId,
        ordinal: u64,
        duplicate: bool,
    ) -> bool {
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
}

/// Write a send's fate on the tape. Partition and no-route drops are not decisions
/// (the fault schedule makes them), so they leave no entry.
pub(super) fn record_fate(tape: &mut Tape, from: NodeId, to: NodeId, ordinal: u64, fate: Fate) {
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
