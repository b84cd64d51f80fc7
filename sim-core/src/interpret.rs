//! The one effect interpreter: a node's step, then its effects walked in order and
//! handed to an [`EffectSink`]. The simulator (`sim/`), the model checker (`check.rs`)
//! and Raft's test driver each implement the sink; the interpretation is here, once.
//!
//! The semantics every sink gets:
//! - effects are applied in the order the step emitted them;
//! - after each `Persist` (until one says yes) the sink is asked whether the node
//!   crashes right after it (`crash_after_persist`); if so, every effect after that
//!   `Persist` is lost (`lost_in_crash`), as a real node's sends after a write never
//!   leave it when it dies between the two (etcd's `msgsAfterAppend`);
//! - at every boundary between two effects (after the first `applied` of `total`,
//!   `0 < applied < total`) the sink is asked whether the node crashes there
//!   (`crash_mid_step`): a crash may fall after a send and before a `Persist`, between
//!   two sends, anywhere; the effects after the boundary are lost in the same way;
//! - every effect applied (not one lost) is shown to the sink's checker, if it has one
//!   (`Checker::on_effect`), just before it is applied: rules about what a step does
//!   (a reply, a re-armed timer) and about what is on stable storage (a `Persist`);
//! - observations are handed to the sink as they come; the caller gives them to the
//!   checker after the step, and crashes the node after that when [`Stepped`] says so.

use crate::protocol::*;

/// Where a step's effects go.
pub trait EffectSink<P: Protocol> {
    /// The live node that steps (only live nodes step).
    fn node_mut(&mut self, node: NodeId) -> &mut P;
    /// The effects a step wrote, before any is applied: a Byzantine node's strategy
    /// rewrites them here (`crate::byzantine`). The default leaves them alone.
    fn intercept(&mut self, _ctx: &Ctx<'_, P::Config>, _fx: &mut Effects<P>) {}
    /// An effect about to be applied (not one lost in a crash). The simulator hashes it.
    fn applying(&mut self, _node: NodeId, _effect: &Effect<P>) {}
    fn send(&mut self, from: NodeId, to: NodeId, msg: P::Msg);
    fn set_timer(&mut self, node: NodeId, timer: P::Timer, min_us: TimeUs, max_us: TimeUs);
    fn cancel_timer(&mut self, node: NodeId, timer: P::Timer);
    fn persist(&mut self, node: NodeId, durable: P::Durable);
    /// Does `node` crash right after the `Persist` just applied?
    fn crash_after_persist(&mut self, node: NodeId) -> bool;
    /// Does `node` crash at this boundary of its step: after its first `applied` effects
    /// of `total` (`0 < applied < total`)? Asked after `crash_after_persist` at the same
    /// point. A sink that never cuts a step elsewhere keeps the default.
    fn crash_mid_step(&mut self, _node: NodeId, _applied: usize, _total: usize) -> bool {
        false
    }
    /// The checker that judges this sink's steps, shown every applied effect
    /// (`Checker::on_effect`). A sink that runs no checker keeps the default.
    fn checker(&mut self) -> Option<&mut P::Checker> {
        None
    }
    fn reply(&mut self, node: NodeId, client: ClientId, request: u64, reply: P::Reply);
    fn observe(&mut self, node: NodeId, observation: P::Obs);
    /// An effect lost because the node crashed within its step. The simulator traces it.
    fn lost_in_crash(&mut self, _node: NodeId, _effect: Effect<P>) {}
}

/// What a step did that its caller must finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct Stepped {
    /// The node crashed right after a `Persist`: the caller crashes it once the checker
    /// has seen the step.
    pub crashed_after_persist: bool,
    /// The node crashed at a boundary of its step that `crash_mid_step` chose: the
    /// caller crashes it once the checker has seen the step.
    pub crashed_mid_step: bool,
}

/// Run `ctx.id`'s step on `input` and apply its effects, in order, to `sink`. `fx` is a
/// reused buffer; it is empty again on return.
pub fn step<P: Protocol, S: EffectSink<P>>(
    sink: &mut S,
    ctx: &Ctx<'_, P::Config>,
    input: Input<P>,
    fx: &mut Effects<P>,
) -> Stepped {
    assert_eq!(fx.len(), 0, "the effects buffer starts empty");
    let node = ctx.id;
    let protocol = sink.node_mut(node);
    crate::panics::protocol_code(|| protocol.step(ctx, input, fx));
    sink.intercept(ctx, fx);
    let total = fx.len();
    let mut crashed = false;
    let mut crashed_mid_step = false;
    for (position, effect) in fx.drain().enumerate() {
        if crashed || crashed_mid_step {
            sink.lost_in_crash(node, effect);
            continue;
        }
        sink.applying(node, &effect);
        if let Some(checker) = sink.checker() {
            checker.on_effect(node, &effect);
        }
        match effect {
            Effect::Send { to, msg } => sink.send(node, to, msg),
            Effect::SetTimer {
                timer,
                min_us,
                max_us,
            } => sink.set_timer(node, timer, min_us, max_us),
            Effect::CancelTimer { timer } => sink.cancel_timer(node, timer),
            Effect::Persist(durable) => {
                sink.persist(node, durable);
                crashed = sink.crash_after_persist(node);
            }
            Effect::Reply {
                client,
                request,
                reply,
            } => sink.reply(node, client, request, reply),
            Effect::Observe(observation) => sink.observe(node, observation),
        }
        let applied = position + 1;
        if !crashed && applied < total {
            crashed_mid_step = sink.crash_mid_step(node, applied, total);
        }
    }
    Stepped {
        crashed_after_persist: crashed,
        crashed_mid_step,
    }
}
