//! The run's decisions: one source the simulator asks for every network fate, timer
//! delay, workload draw and receive omission. It answers from the decision tape when the
//! scenario has one and from the random streams (`rng.rs`) otherwise, and writes each
//! answer down when recording. Keys are local (see `tape.rs`): the n-th message on a
//! (from, to) pair, a node's n-th timer, a client's n-th draw; they are counted on every
//! run, tape or not. The streams are drawn in the order the simulator asks, so a run
//! without a tape draws exactly what it drew before tapes existed. Faults are not
//! decisions here: the nemesis draws from its own stream, and a schedule is explicit.

use crate::network::{DropCause, Fate, Network};
use crate::protocol::*;
use crate::rng::{Purpose, Rng};
use crate::tape::{ClientDraw, MessageEntry, MissingTimers, Tape, TapeDrop, TapeSpec};

/// Where a run's decisions come from.
pub(super) struct Decisions<'a> {
    /// The scenario's `[tape]`; `None`: the streams decide.
    tape: Option<&'a Tape>,
    /// The decisions taken so far, when recording.
    recording: Option<Tape>,
    network: Rng,
    workload: Rng,
    timers: Rng,
    cluster_size: usize,
    /// Messages sent per (from, to) pair, timers armed per node, draws per client.
    link_sends: Vec<u64>,
    timer_arms: Vec<u64>,
    client_draws: Vec<u64>,
}

impl<'a> Decisions<'a> {
    /// `network` is the network stream after the network model drew its topology from it.
    pub(super) fn new(
        seed: u64,
        network: Rng,
        tape: Option<&'a Tape>,
        record: bool,
        nodes: u32,
        clients: u32,
    ) -> Decisions<'a> {
        let n = nodes as usize;
        Decisions {
            tape,
            recording: record.then(Tape::default),
            network,
            workload: Rng::new(seed, Purpose::Workload),
            timers: Rng::new(seed, Purpose::Timers),
            cluster_size: n,
            link_sends: vec![0; n * n],
            timer_arms: vec![0; n],
            client_draws: vec![0; clients as usize],
        }
    }

    /// The fate of the next message (of `kind`) from `from` to `to`, and its ordinal on
    /// that pair (its key on the tape).
    pub(super) fn message_fate(
        &mut self,
        network: &mut Network,
        now: TimeUs,
        from: NodeId,
        to: NodeId,
        size_bytes: u32,
        kind: &str,
    ) -> (u64, Fate) {
        let link = from.index() * self.cluster_size + to.index();
        let ordinal = self.link_sends[link];
        self.link_sends[link] += 1;
        let fate = match self.tape {
            None => match network.send(now, from, to, size_bytes, &mut self.network) {
                Fate::Deliver {
                    delay_us,
                    duplicate_delay_us,
                } if !network.reorder_rules.is_empty() => Fate::Deliver {
                    delay_us: delay_us + network.reorder_delay(from, to, kind, &mut self.network),
                    duplicate_delay_us,
                },
                fate => fate,
            },
            // The tape's delay already holds any reordering.
            Some(tape) => network.send_from_tape(from, to, tape.message(from.0, to.0, ordinal)),
        };
        if let Some(recording) = &mut self.recording {
            record_fate(recording, from, to, ordinal, fate);
        }
        (ordinal, fate)
    }

    /// Does the receiver's omission fault (`per_million`) lose this copy on arrival? A
    /// tape decides only while the fault is active, as the random stream does.
    pub(super) fn receive_omitted(
        &mut self,
        per_million: u32,
        from: NodeId,
        to: NodeId,
        ordinal: u64,
        duplicate: bool,
    ) -> bool {
        let omitted = match self.tape {
            None => self.network.chance(per_million),
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
                .recording
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

    /// The delay of `node`'s next timer in `min_us..=max_us`, before drift: drawn, or
    /// from the tape (where the tape has no entry: the range's minimum, or a draw when the
    /// tape says `missing_timers = "drawn"`).
    pub(super) fn timer_delay(&mut self, node: NodeId, min_us: TimeUs, max_us: TimeUs) -> TimeUs {
        let n = self.timer_arms[node.index()];
        self.timer_arms[node.index()] += 1;
        let drawn = match self.tape {
            None => self.timers.range_inclusive(min_us, max_us),
            // Clamped: the protocol's range is its contract, whatever the tape says.
            Some(tape) => match (tape.timer(node.0, n), tape.missing_timers()) {
                (Some(delay), _) => delay.clamp(min_us, max_us),
                (None, MissingTimers::Minimum) => min_us,
                (None, MissingTimers::Drawn) => self.timers.range_inclusive(min_us, max_us),
            },
        };
        if let Some(recording) = &mut self.recording {
            recording.record_timer(node.0, n, drawn);
        }
        drawn
    }

    /// `client`'s next workload decision: from the tape (or `fallback` where the tape
    /// has none) when the run has one, else drawn by `draw`.
    pub(super) fn client_draw(
        &mut self,
        client: ClientId,
        kind: ClientDraw,
        fallback: u64,
        draw: impl FnOnce(&mut Rng) -> u64,
    ) -> u64 {
        let n = self.client_draws[client as usize];
        self.client_draws[client as usize] += 1;
        let value = match self.tape {
            None => draw(&mut self.workload),
            Some(tape) => tape.client(client, n, kind).unwrap_or(fallback),
        };
        if let Some(recording) = &mut self.recording {
            recording.record_client(client, n, kind, value);
        }
        value
    }

    /// An explicit operation takes (and drops) the draw a random operation would take,
    /// so that both consume the workload stream alike. A run from a tape draws nothing.
    /// Not counted as a client draw: the tape never had it.
    pub(super) fn skip_op_draw(&mut self) {
        if self.tape.is_none() {
            self.workload.next_u64();
        }
    }

    /// Does the run take its decisions from a tape?
    pub(super) fn taped(&self) -> bool {
        self.tape.is_some()
    }

    /// With a tape, how long the adversarial scheduler holds this copy (0: not at all);
    /// `None` without a tape (the scheduler decides).
    pub(super) fn taped_hold(
        &self,
        from: NodeId,
        to: NodeId,
        ordinal: u64,
        duplicate: bool,
    ) -> Option<TimeUs> {
        let tape = self.tape?;
        Some(
            tape.message(from.0, to.0, ordinal)
                .map_or(0, |entry| entry.held(duplicate)),
        )
    }

    /// Write down how long the adversarial scheduler held a copy (when recording).
    pub(super) fn record_hold(
        &mut self,
        from: NodeId,
        to: NodeId,
        ordinal: u64,
        duplicate: bool,
        held_us: TimeUs,
    ) {
        if let Some(entry) = self
            .recording
            .as_mut()
            .and_then(|tape| tape.message_mut(from.0, to.0, ordinal))
        {
            if duplicate {
                entry.duplicate_held_us = Some(held_us);
            } else {
                entry.held_us = Some(held_us);
            }
        }
    }

    pub(super) fn recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Write down a Byzantine node's misbehaviour at its `n`-th step (when recording).
    pub(super) fn record_byzantine(&mut self, node: NodeId, n: u64, draws: Vec<u64>) {
        if let Some(recording) = &mut self.recording {
            recording.record_byzantine(node.0, n, draws);
        }
    }

    /// The decisions taken, when recording.
    pub(super) fn into_tape(self) -> Option<TapeSpec> {
        self.recording.map(|tape| tape.to_spec())
    }
}

/// Write a send's fate on the tape. Partition and no-route drops are not decisions
/// (the fault schedule makes them), so they leave no entry.
fn record_fate(tape: &mut Tape, from: NodeId, to: NodeId, ordinal: u64, fate: Fate) {
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
        held_us: None,
        duplicate_held_us: None,
    });
}
