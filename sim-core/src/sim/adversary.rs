//! The adversarial scheduler at run time (the `[adversary]` table; `crate::adversary`
//! says what it may do and why).
//!
//! A message that arrives is *probed*: its receiver's step runs on a copy of the
//! receiver's state, and if it would emit a starved observation the message is held.
//! After each step of a receiver its held messages are probed again, and one that would
//! no longer make progress is released at the next microsecond; every held message is
//! released `hold_max_ms` after it arrived at the latest. A release is an
//! `Event::Release`, ordered after everything else at its instant and by message id
//! (`queue.rs`), and the time a message was held goes on the decision tape (`held_us`):
//! a run from a tape takes its holds from there (schedules each release when the message
//! arrives, probes nothing) and so delivers every message at the same instant and in the
//! same order as the run it was recorded from.
//!
//! A run without `[adversary]` has no `Adversary`, and every arrival is delivered as
//! before.

use std::collections::BTreeMap;

use crate::adversary::AdversarySpec;
use crate::protocol::*;
use crate::scenario::{Scenario, ScenarioError};

use super::queue::Event;
use super::Sim;

/// The scheduler's state in one run.
pub(super) struct Adversary<M> {
    starve: Vec<String>,
    hold_max_us: TimeUs,
    /// Per receiver, the messages held back, by (message id, duplicate).
    held: Vec<BTreeMap<(u64, bool), Held<M>>>,
}

struct Held<M> {
    from: NodeId,
    msg: M,
    /// Its ordinal on its (from, to) pair: its key on the tape.
    ordinal: u64,
    arrived_us: TimeUs,
    /// Released early (its receiver moved on); the deadline's event finds it gone.
    released: bool,
}

impl<M> Adversary<M> {
    pub(super) fn new(spec: &AdversarySpec, nodes: u32) -> Adversary<M> {
        Adversary {
            starve: spec.starve.clone(),
            hold_max_us: spec.hold_max_us(),
            held: (0..nodes).map(|_| BTreeMap::new()).collect(),
        }
    }

    /// Messages held now (for the end-of-run metric).
    pub(super) fn held_count(&self) -> usize {
        self.held.iter().map(BTreeMap::len).sum()
    }
}

/// Refuse a starved kind that is not one of the protocol's observation kinds: the
/// scheduler would never hold anything for it.
pub(super) fn check_starved_kinds(
    scenario: &Scenario,
    kinds: &[&str],
) -> Result<(), ScenarioError> {
    let Some(adversary) = &scenario.file.adversary else {
        return Ok(());
    };
    match adversary
        .starve
        .iter()
        .position(|kind| !kinds.contains(&kind.as_str()))
    {
        None => Ok(()),
        Some(index) => Err(scenario.error(
            &format!("adversary.starve[{index}]"),
            format!(
                "`{}` is not an observation kind of {}",
                adversary.starve[index], scenario.file.protocol
            ),
            format!("use some of: {}", kinds.join(", ")),
        )),
    }
}

impl<P: Protocol> Sim<'_, P> {
    /// A message's arrival: held by the scheduler, or delivered now.
    pub(super) fn arrive(
        &mut self,
        from: NodeId,
        to: NodeId,
        msg: P::Msg,
        ordinal: u64,
        id: u64,
        duplicate: bool,
    ) {
        let Some(hold_us) = self.hold_for(from, to, &msg, ordinal, duplicate) else {
            self.deliver(from, to, msg, ordinal, id, duplicate);
            return;
        };
        let adversary = self.adversary.as_mut().expect("only the adversary holds");
        adversary.held[to.index()].insert(
            (id, duplicate),
            Held {
                from,
                msg,
                ordinal,
                arrived_us: self.now,
                released: false,
            },
        );
        *self.faults_fired.entry("adversary_holds").or_insert(0) += 1;
        self.schedule(self.now + hold_us, Event::Release { to, id, duplicate });
    }

    /// How long to hold an arriving copy, if at all: the tape's hold when the run has a
    /// tape, else the bound when delivering it now would make progress.
    fn hold_for(
        &self,
        from: NodeId,
        to: NodeId,
        msg: &P::Msg,
        ordinal: u64,
        duplicate: bool,
    ) -> Option<TimeUs> {
        let adversary = self.adversary.as_ref()?;
        match self.decisions.taped_hold(from, to, ordinal, duplicate) {
            Some(held_us) => (held_us > 0).then_some(held_us),
            None => self
                .makes_progress(from, to, msg)
                .then_some(adversary.hold_max_us),
        }
    }

    /// Would delivering `msg` to `to` now make it emit a starved observation? The
    /// receiver's step runs on a copy of its state; a down receiver makes no progress.
    fn makes_progress(&self, from: NodeId, to: NodeId, msg: &P::Msg) -> bool {
        let (Some(adversary), Some(node)) = (&self.adversary, &self.nodes[to.index()]) else {
            return false;
        };
        let ctx = self.ctx(to);
        let mut probe = node.clone();
        let mut fx = Effects::default();
        let input = Input::Message {
            from,
            msg: msg.clone(),
        };
        crate::panics::protocol_code(|| probe.step(&ctx, input, &mut fx));
        fx.as_slice().iter().any(|effect| {
            matches!(effect, Effect::Observe(observation)
                if adversary.starve.iter().any(|kind| kind == observation.kind()))
        })
    }

    /// A release whose message was already delivered (released early, this is its
    /// deadline): not an event at all, so a run replayed from its tape, which schedules
    /// one release per hold, counts the same events.
    pub(super) fn is_stale_release(&self, event: &Event<P>) -> bool {
        let Event::Release { to, id, duplicate } = event else {
            return false;
        };
        self.adversary
            .as_ref()
            .is_none_or(|adversary| !adversary.held[to.index()].contains_key(&(*id, *duplicate)))
    }

    /// Deliver a held message, and write down how long it was held.
    pub(super) fn release(&mut self, to: NodeId, id: u64, duplicate: bool) {
        let held = self
            .adversary
            .as_mut()
            .and_then(|adversary| adversary.held[to.index()].remove(&(id, duplicate)))
            .expect("stale releases are skipped");
        let held_us = self.now - held.arrived_us;
        self.metrics.adversary_held_us_max = self.metrics.adversary_held_us_max.max(held_us);
        self.decisions
            .record_hold(held.from, to, held.ordinal, duplicate, held_us);
        self.deliver(held.from, to, held.msg, held.ordinal, id, duplicate);
    }

    /// After a step of `node`: release (at the next microsecond) each message held for it
    /// that would no longer make progress. A down node keeps its messages held (its
    /// restart is a step); a run from a tape takes every hold from the tape.
    pub(super) fn reconsider_held(&mut self, node: NodeId) {
        let Some(adversary) = &self.adversary else {
            return;
        };
        if self.decisions.taped() || self.nodes[node.index()].is_none() {
            return;
        }
        let releasable: Vec<(u64, bool)> = adversary.held[node.index()]
            .iter()
            .filter(|(_, held)| !held.released && !self.makes_progress(held.from, node, &held.msg))
            .map(|(&key, _)| key)
            .collect();
        for (id, duplicate) in releasable {
            if let Some(held) = self
                .adversary
                .as_mut()
                .and_then(|adversary| adversary.held[node.index()].get_mut(&(id, duplicate)))
            {
                held.released = true;
            }
            self.schedule(
                self.now + 1,
                Event::Release {
                    to: node,
                    id,
                    duplicate,
                },
            );
        }
    }
}
