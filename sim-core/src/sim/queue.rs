//! The simulator's events and its event queue, ordered by (time, class, insertion
//! sequence).

use std::collections::BinaryHeap;

use crate::faults::FaultAction;
use crate::protocol::*;

pub(super) enum Event<P: Protocol> {
    Start {
        node: NodeId,
    },
    Deliver {
        from: NodeId,
        to: NodeId,
        msg: P::Msg,
        /// The message's ordinal on its (from, to) pair, its key on the tape.
        ordinal: u64,
        /// The message's id in the run's trace (`trace::Arrival`).
        id: u64,
        duplicate: bool,
        /// The copy that sent it, when `from` is a twin (`twins.rs`): another twin's
        /// same copy receives it. 0 otherwise.
        from_copy: u8,
    },
    /// A message the adversarial scheduler held (`sim/adversary.rs`) is delivered now,
    /// unless it already was (an early release leaves its deadline behind).
    Release {
        to: NodeId,
        id: u64,
        duplicate: bool,
    },
    Timer {
        node: NodeId,
        timer: P::Timer,
        generation: u64,
    },
    ClientArrive {
        node: NodeId,
        client: ClientId,
        request: u64,
        op: P::Op,
        /// The request's message id, for a client on the network.
        id: Option<u64>,
    },
    ClientReply {
        client: ClientId,
        /// The node that replied.
        node: NodeId,
        request: u64,
        reply: P::Reply,
        /// The reply's message id, for a client on the network.
        id: Option<u64>,
    },
    ClientTimeout {
        client: ClientId,
        request: u64,
        attempt: u32,
    },
    ClientSend {
        client: ClientId,
    },
    /// An explicitly scheduled operation (`[[workload.ops]]`).
    ClientInvoke {
        client: ClientId,
        op: super::clients::Explicit,
    },
    ClientNext {
        client: ClientId,
    },
    Fault {
        action: FaultAction,
        duration_us: Option<TimeUs>,
    },
    Revert {
        action: FaultAction,
    },
    Nemesis,
    Heal,
    End,
}

/// The event queue: a heap of small keys ordered by (time, class, insertion sequence),
/// with the events themselves in a slab so that sifting the heap moves 32 bytes, not a
/// message. Within one instant, fault reverts come first, then faults, then everything
/// else: so a fault fires at the same point among its instant's events whether a nemesis
/// chose it at run time or a schedule named it in advance (which is what lets `shrink`
/// turn a nemesis run into an explicit schedule without changing the run). Held messages
/// the adversary releases come last, ordered by message id instead of insertion: a run
/// replayed from its tape schedules each release when the message arrives, not when the
/// adversary decided it, and must still deliver them in the same order.
pub(super) struct EventQueue<P: Protocol> {
    heap: BinaryHeap<std::cmp::Reverse<(TimeUs, u8, u64, u32)>>,
    slots: Vec<Option<Event<P>>>,
    free: Vec<u32>,
    seq: u64,
}

impl<P: Protocol> EventQueue<P> {
    pub(super) fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            seq: 0,
        }
    }

    pub(super) fn push(&mut self, time: TimeUs, event: Event<P>) {
        self.seq += 1;
        let (class, seq) = match event {
            Event::Revert { .. } => (0, self.seq),
            Event::Fault { .. } | Event::Nemesis => (1, self.seq),
            Event::Release { id, duplicate, .. } => (3, id * 2 + u64::from(duplicate)),
            _ => (2, self.seq),
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                assert!(self.slots[slot as usize].is_none());
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 queued events")
            }
        };
        self.heap.push(std::cmp::Reverse((time, class, seq, slot)));
    }

    pub(super) fn pop(&mut self) -> Option<(TimeUs, Event<P>)> {
        let std::cmp::Reverse((time, _, _, slot)) = self.heap.pop()?;
        let event = self.slots[slot as usize]
            .take()
            .expect("a queued slot holds its event");
        self.free.push(slot);
        Some((time, event))
    }

    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }
}
