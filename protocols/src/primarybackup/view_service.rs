//! The view service (node 0): a ping-counting failure detector and the one authority
//! that names each view's primary and backup.

use sim_core::{Ctx, Effects, Input, NodeId};

use super::{PbConfig, PbDurable, PbMsg, PbObs, PbTimer, PrimaryBackup, PrimaryBackupMutant, View};

type Cx<'a> = Ctx<'a, PbConfig>;
type Fx = Effects<PrimaryBackup>;

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct ViewService {
    /// The current view (durable).
    pub view: View,
    /// Whether the current view's primary acknowledged it (durable): until it has, the
    /// view service makes no new view.
    pub acked: bool,
    /// Per node: ticks since its last ping, at most `dead_pings` (volatile: a restarted
    /// view service gives every server a full `dead_pings` ticks to ping again).
    missed: Vec<u32>,
    /// Per node: pinged since this view service started (volatile).
    heard: Vec<bool>,
}

impl ViewService {
    pub(super) fn recover(ctx: &Cx<'_>, view: View, acked: bool) -> ViewService {
        let nodes = ctx.cluster_size as usize;
        ViewService {
            view,
            acked,
            missed: vec![0; nodes],
            heard: vec![false; nodes],
        }
    }

    pub(super) fn step(
        &mut self,
        ctx: &Cx<'_>,
        input: sim_core::Input<PrimaryBackup>,
        fx: &mut Fx,
    ) {
        match input {
            Input::Init => self.arm_tick(ctx, fx),
            Input::Restart => {
                fx.observe(PbObs::Recovered);
                self.arm_tick(ctx, fx);
            }
            Input::Timer(PbTimer::Tick) => self.on_tick_timeout(ctx, fx),
            Input::Timer(PbTimer::Ping) => unreachable!("the view service never pings"),
            Input::Message {
                from,
                msg: PbMsg::Ping { view, ready },
            } => self.on_ping(fx, from, view, ready),
            // Only servers' pings are addressed to the view service.
            Input::Message { .. } => {}
            Input::Client {
                client, request, ..
            } => {
                let hint = self.view.primary;
                fx.reply(client, request, super::PbReply::NotPrimary { hint });
            }
        }
    }

    fn arm_tick(&self, ctx: &Cx<'_>, fx: &mut Fx) {
        let (min, max) = ctx.config.ping_us;
        fx.set_timer(PbTimer::Tick, min, max);
    }

    fn persist(&self, fx: &mut Fx) {
        fx.persist(PbDurable::ViewService {
            view: self.view,
            acked: self.acked,
        });
    }

    /// A server is alive; the current view's primary acknowledges the view by pinging
    /// with it once ready. Every ping is answered with the current view.
    fn on_ping(&mut self, fx: &mut Fx, from: NodeId, view: u64, ready: bool) {
        self.missed[from.index()] = 0;
        self.heard[from.index()] = true;
        if self.view.primary == Some(from) && view == self.view.number && ready && !self.acked {
            self.acked = true;
            self.persist(fx);
            fx.observe(PbObs::ViewAcked { view });
        }
        fx.send(from, PbMsg::View { view: self.view });
    }

    fn dead(&self, ctx: &Cx<'_>, node: NodeId) -> bool {
        self.missed[node.index()] >= ctx.config.dead_pings
    }

    /// The lowest-numbered server that pinged lately and is neither primary nor backup.
    fn idle_server(&self, ctx: &Cx<'_>) -> Option<NodeId> {
        ctx.peers().find(|&node| {
            self.heard[node.index()]
                && !self.dead(ctx, node)
                && self.view.primary != Some(node)
                && self.view.backup != Some(node)
        })
    }

    /// Count a missed ping for every server, then move to the next view if the current
    /// one is acknowledged and its primary or backup died, or it lacks a backup an idle
    /// server could be.
    fn on_tick_timeout(&mut self, ctx: &Cx<'_>, fx: &mut Fx) {
        self.arm_tick(ctx, fx);
        for node in ctx.peers() {
            let missed = &mut self.missed[node.index()];
            *missed = (*missed + 1).min(ctx.config.dead_pings);
        }
        let Some(primary) = self.view.primary else {
            // View 0: the first live server becomes the primary of view 1.
            if let Some(first) = self.idle_server(ctx) {
                self.new_view(fx, first, None);
            }
            return;
        };
        if !self.acked && !ctx.config.mutant(PrimaryBackupMutant::ViewBeforeAck) {
            return;
        }
        let backup = self.view.backup;
        let idle = self.idle_server(ctx);
        if self.dead(ctx, primary) {
            // Only the backup holds what the primary acknowledged: with no live backup,
            // wait for the primary to come back.
            if let Some(backup) = backup.filter(|&backup| !self.dead(ctx, backup)) {
                self.new_view(fx, backup, idle);
            }
        } else {
            // A dead backup is replaced (by nobody when no server is idle); a missing one
            // is added when a server is idle.
            let backup_dead = backup.is_some_and(|backup| self.dead(ctx, backup));
            if backup_dead || (backup.is_none() && idle.is_some()) {
                self.new_view(fx, primary, idle);
            }
        }
    }

    fn new_view(&mut self, fx: &mut Fx, primary: NodeId, backup: Option<NodeId>) {
        assert_ne!(Some(primary), backup, "a primary is not its own backup");
        self.view = View {
            number: self.view.number + 1,
            primary: Some(primary),
            backup,
        };
        self.acked = false;
        self.persist(fx);
        fx.observe(PbObs::NewView { view: self.view });
    }
}
