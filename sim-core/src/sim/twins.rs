//! Twins (Bano et al., "Twins: BFT Systems Made Robust", 2021): a Byzantine node emulated
//! by two honest copies of one identity. Both copies run the protocol's own step function
//! from `Protocol::new`, each with its own state, durable state, timers and crash flags;
//! the network stamps both copies' messages with the shared id, and each copy talks only
//! to its part of the peers (`twins_split`), so equivocation and amnesia come from honest
//! code.
//!
//! How the simulator holds the second copy: copy 0 lives in the simulator's own per-node
//! slots (`nodes`, `durable`, `timers`, the crash flags), copy 1 in [`Twin::other`]. For
//! copy 1's step (or crash, restart, timer) the two are swapped ([`Sim::as_copy_1`]), so
//! everything that reads a node's slots, the step, the interpreter and the checker alike,
//! sees the copy that acts, and a run without twins runs the same code it ran before.
//!
//! Semantics: a message between a copy and a peer outside its part is dropped when sent
//! (`twin_split`); between two twins, copy c talks to copy c; a peer in both parts hears both copies, and its messages reach both;
//! a peer in neither is cut off from the twin. Clients are split too: client c's requests
//! reach copy c mod 2, and either copy's replies reach their client. A crash or restart fault at the twin's id
//! hits both copies; `crash_after_persist` and `crash_mid_step` arm copy 0.

use std::collections::BTreeMap;
use std::hash::Hash;

use crate::network::DropCause;
use crate::protocol::*;
use crate::trace::Arrival;

use super::byzantine::TwinParts;
use super::Sim;

/// A twin's second copy and its split.
pub(super) struct Twin<P: Protocol> {
    parts: TwinParts,
    /// The copy out of the simulator's slots: copy 1, except while it acts.
    other: CopyState<P>,
}

/// What each copy of a twin has of its own.
struct CopyState<P: Protocol> {
    node: Option<P>,
    durable: Option<P::Durable>,
    timers: BTreeMap<P::Timer, u64>,
    crash_after_persist: bool,
    crash_mid_step: Option<u32>,
}

impl<P: Protocol> Twin<P> {
    pub(super) fn new(parts: TwinParts) -> Twin<P> {
        Twin {
            parts,
            other: CopyState {
                node: None,
                durable: None,
                timers: BTreeMap::new(),
                crash_after_persist: false,
                crash_mid_step: None,
            },
        }
    }

    /// Does `copy` talk to `peer` (a node that is not a twin)?
    fn talks(&self, copy: usize, peer: NodeId) -> bool {
        self.parts[copy][peer.index()]
    }
}

impl<'a, P: Protocol> Sim<'a, P> {
    fn twin(&self, node: NodeId) -> Option<&Twin<P>> {
        self.twins.get(node.index()).and_then(Option::as_ref)
    }

    pub(super) fn is_twin(&self, node: NodeId) -> bool {
        self.twin(node).is_some()
    }

    /// Which copy of twin `node` is in its slots now (`None` for any other node).
    pub(super) fn twin_copy(&self, node: NodeId) -> Option<u8> {
        self.is_twin(node)
            .then(|| u8::from(self.copy_1_acting == Some(node)))
    }

    /// Run `f` with copy 1 of twin `node` in the node's slots.
    pub(super) fn as_copy_1<R>(&mut self, node: NodeId, f: impl FnOnce(&mut Self) -> R) -> R {
        assert!(self.copy_1_acting.is_none(), "one copy acts at a time");
        self.swap_copies(node);
        self.copy_1_acting = Some(node);
        let result = f(self);
        self.copy_1_acting = None;
        self.swap_copies(node);
        result
    }

    fn swap_copies(&mut self, node: NodeId) {
        let i = node.index();
        let other = &mut self.twins[i].as_mut().expect("a twin").other;
        std::mem::swap(&mut self.nodes[i], &mut other.node);
        std::mem::swap(&mut self.durable[i], &mut other.durable);
        std::mem::swap(&mut self.timers[i], &mut other.timers);
        std::mem::swap(
            &mut self.crash_after_persist[i],
            &mut other.crash_after_persist,
        );
        std::mem::swap(&mut self.crash_mid_step[i], &mut other.crash_mid_step);
    }

    /// Is a message from `from` (the copy in its slots, if a twin) to `to` cut by a
    /// twin's split? Between two twins, copy c talks to copy c.
    pub(super) fn twin_split_blocks(&self, from: NodeId, to: NodeId) -> bool {
        if self.is_twin(from) && self.is_twin(to) {
            return false;
        }
        let sender_cut = self.twin(from).is_some_and(|twin| {
            let copy = usize::from(self.copy_1_acting == Some(from));
            !twin.talks(copy, to)
        });
        let receiver_cut = self
            .twin(to)
            .is_some_and(|twin| !twin.talks(0, from) && !twin.talks(1, from));
        sender_cut || receiver_cut
    }

    /// Start copy 1 of a twin, as `Event::Start` starts copy 0.
    pub(super) fn start_copy_1(&mut self, node: NodeId) {
        if self.is_twin(node) {
            self.as_copy_1(node, |sim| sim.start_copy(node));
        }
    }

    /// A timer firing that copy 0 does not have armed: copy 1's, if it has.
    pub(super) fn twin_timer(&mut self, node: NodeId, timer: P::Timer, generation: u64) {
        let armed = self
            .twin(node)
            .is_some_and(|twin| twin.other.timers.get(&timer) == Some(&generation));
        if armed {
            self.as_copy_1(node, |sim| {
                sim.timers[node.index()].remove(&timer);
                sim.step(node, Input::Timer(timer));
            });
        }
    }

    /// A message to twin `to` reaches the copies whose part holds `from` (the send was
    /// dropped if none does), or from another twin's copy c, copy c; a receive omission
    /// loses it for both.
    pub(super) fn deliver_to_twin(
        &mut self,
        from: NodeId,
        from_copy: u8,
        to: NodeId,
        msg: P::Msg,
        ordinal: u64,
        arrival: Arrival,
    ) {
        let copies: Vec<bool> = if self.is_twin(from) {
            (0..2u8).map(|copy| copy == from_copy).collect()
        } else {
            let twin = self.twin(to).expect("a twin");
            (0..2).map(|copy| twin.talks(copy, from)).collect()
        };
        if self.network.bounded.is_none()
            && self.decisions.receive_omitted(
                self.network.receive_omission_per_million[to.index()],
                from,
                to,
                ordinal,
                arrival.duplicate,
            )
        {
            self.drop_on_arrival(from, to, &msg, DropCause::ReceiveOmission, arrival);
            return;
        }
        let deliver = |sim: &mut Self, msg: P::Msg| {
            if sim.nodes[to.index()].is_none() {
                sim.drop_on_arrival(from, to, &msg, DropCause::Crashed, arrival);
            } else {
                sim.metrics.messages_delivered += 1;
                sim.delivering = Some(arrival);
                sim.step(to, Input::Message { from, msg });
            }
        };
        match (copies[0], copies[1]) {
            (true, true) => {
                deliver(self, msg.clone());
                self.as_copy_1(to, |sim| deliver(sim, msg));
            }
            (true, false) => deliver(self, msg),
            (false, true) => self.as_copy_1(to, |sim| deliver(sim, msg)),
            (false, false) => unreachable!("dropped when sent (`twin_split_blocks`)"),
        }
    }

    /// A client request at twin `node` reaches one copy, `client % 2`: clients are
    /// split between the copies as peers are, so the copies see different requests.
    pub(super) fn client_arrive_twin(
        &mut self,
        node: NodeId,
        client: ClientId,
        request: u64,
        op: P::Op,
        id: Option<u64>,
    ) {
        let arrive = |sim: &mut Self| {
            if sim.nodes[node.index()].is_none() {
                return false;
            }
            sim.delivering = id.map(|id| Arrival {
                id,
                duplicate: false,
            });
            sim.step(
                node,
                Input::Client {
                    client,
                    request,
                    op,
                },
            );
            true
        };
        let reached = if client.is_multiple_of(2) {
            arrive(self)
        } else {
            self.as_copy_1(node, arrive)
        };
        if let (false, Some(id)) = (reached, id) {
            self.client_request_lost(client, node, request, id);
        }
    }

    /// A crash or restart fault at `node`: at a twin, copy 1 too.
    pub(super) fn also_copy_1(&mut self, node: NodeId, f: impl FnOnce(&mut Self)) {
        if self.is_twin(node) && self.copy_1_acting.is_none() {
            self.as_copy_1(node, f);
        }
    }

    /// A twin's copy 1 steps: the identity acting twice is the misbehaviour, counted as
    /// a Byzantine step; the copy feeds the trace hash.
    pub(super) fn note_twin_step(&mut self, node: NodeId) {
        if let Some(copy) = self.twin_copy(node) {
            copy.hash(&mut self.hasher);
            if copy == 1 {
                *self.faults_fired.entry("byzantine_steps").or_insert(0) += 1;
            }
        }
    }
}
