//! A server: primary, backup or idle, as the last view it heard of says; its state and
//! step function.

use std::collections::VecDeque;

use sim_core::{ClientId, Ctx, Effects, Input, NodeId};

use super::{
    Command, Image, PbConfig, PbDurable, PbMsg, PbObs, PbReply, PbTimer, PrimaryBackup,
    PrimaryBackupMutant, View, VIEW_SERVICE,
};
use crate::kv::{KvMachine, KvOp, KvOutput};
use crate::raft::StateMachine;

type Cx<'a> = Ctx<'a, PbConfig>;
type Fx = Effects<PrimaryBackup>;

/// Requests a forward carries at most, so a backup that fell behind catches up over
/// several pings instead of in one message the size of the backlog.
const FORWARD_COMMANDS_MAX: usize = 64;

/// What a server keeps on stable storage, persisted before it acknowledges anything.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct ServerDurable {
    /// The latest view this server heard of.
    pub view: View,
    /// The view in which this server's machine became the primary's: its own view as
    /// primary, the view of the last state transfer it installed as backup.
    pub synced: u64,
    pub machine: KvMachine,
    /// How many requests the machine has applied: the sequence number of the last.
    pub applied: u64,
}

/// A request the primary applied and the backup has not yet acknowledged.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Pending {
    seq: u64,
    command: Command,
    output: KvOutput,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Server {
    pub id: NodeId,
    pub durable: ServerDurable,
    /// A primary's: its backup installed its state in this view (or it has none), so it
    /// may acknowledge the view and answer clients (volatile: a restarted primary does
    /// not know what its backup holds, and transfers again).
    pub ready: bool,
    /// A primary's: the backup's acknowledged position.
    backup_applied: u64,
    /// A primary's: applied requests waiting for the backup, in sequence order.
    pending: VecDeque<Pending>,
    /// Ticks since the backup last heard its primary: counted only by the mutant
    /// `promote-on-suspicion`, whose backup acts on it.
    silent_ticks: u32,
}

impl Server {
    pub(super) fn recover(id: NodeId, durable: ServerDurable) -> Server {
        let mut server = Server {
            id,
            durable,
            ready: false,
            backup_applied: 0,
            pending: VecDeque::new(),
            silent_ticks: 0,
        };
        server.ready = server.is_primary() && server.durable.view.backup.is_none();
        server
    }

    pub fn is_primary(&self) -> bool {
        self.durable.view.primary == Some(self.id)
    }

    pub fn is_backup(&self) -> bool {
        self.durable.view.backup == Some(self.id)
    }

    pub(super) fn role(&self) -> &'static str {
        if self.is_primary() {
            "primary"
        } else if self.is_backup() {
            "backup"
        } else {
            "idle"
        }
    }

    pub(super) fn step(&mut self, ctx: &Cx<'_>, input: Input<PrimaryBackup>, fx: &mut Fx) {
        assert_ne!(ctx.id, VIEW_SERVICE, "node 0 is the view service");
        match input {
            Input::Init => self.arm_ping(ctx, fx),
            Input::Restart => {
                fx.observe(PbObs::Recovered);
                self.arm_ping(ctx, fx);
            }
            Input::Timer(PbTimer::Ping) => self.on_ping_timeout(ctx, fx),
            Input::Timer(PbTimer::Tick) => unreachable!("only the view service ticks"),
            Input::Message { from, msg } => match msg {
                PbMsg::View { view } if from == VIEW_SERVICE => self.on_view(ctx, fx, view),
                PbMsg::Forward {
                    view,
                    first,
                    commands,
                } => self.on_forward(ctx, fx, from, view, first, commands),
                PbMsg::ForwardAck { view, applied } => self.on_forward_ack(ctx, fx, view, applied),
                PbMsg::Transfer { view, image } => self.on_transfer(fx, from, view, image),
                PbMsg::TransferAck { view, applied } => {
                    self.on_transfer_ack(ctx, fx, view, applied)
                }
                // Pings are the view service's; views come only from it.
                PbMsg::Ping { .. } | PbMsg::View { .. } => {}
            },
            Input::Client {
                client,
                request,
                op,
            } => self.on_client_request(ctx, fx, client, request, op),
        }
    }

    fn arm_ping(&self, ctx: &Cx<'_>, fx: &mut Fx) {
        let (min, max) = ctx.config.ping_us;
        fx.set_timer(PbTimer::Ping, min, max);
    }

    fn persist(&self, fx: &mut Fx) {
        fx.persist(PbDurable::Server(self.durable.clone()));
    }

    /// Send the backup the whole state, as it is now.
    fn send_transfer(&self, fx: &mut Fx, backup: NodeId) {
        let image = Image {
            machine: self.durable.machine.clone(),
            applied: self.durable.applied,
        };
        let view = self.durable.view.number;
        fx.send(backup, PbMsg::Transfer { view, image });
    }

    /// Ping the view service (a ready primary thereby acknowledges its view); a primary
    /// resends its state transfer or its unacknowledged requests (a heartbeat when none).
    fn on_ping_timeout(&mut self, ctx: &Cx<'_>, fx: &mut Fx) {
        self.arm_ping(ctx, fx);
        let view = self.durable.view;
        let acknowledges = self.is_primary()
            && (self.ready || ctx.config.mutant(PrimaryBackupMutant::AckBeforeTransfer));
        fx.send(
            VIEW_SERVICE,
            PbMsg::Ping {
                view: view.number,
                ready: acknowledges,
            },
        );
        if let (true, Some(backup)) = (self.is_primary(), view.backup) {
            if self.ready {
                self.forward_pending(fx, backup);
            } else {
                self.send_transfer(fx, backup);
            }
        }
        if ctx.config.mutant(PrimaryBackupMutant::PromoteOnSuspicion) && self.is_backup() {
            self.silent_ticks += 1;
            if self.silent_ticks >= ctx.config.dead_pings {
                // The bug: the backup decides on its own that the primary is dead.
                self.silent_ticks = 0;
                let promoted = View {
                    number: view.number + 1,
                    primary: Some(self.id),
                    backup: None,
                };
                self.adopt(ctx, fx, promoted);
            }
        }
    }

    /// Send the backup every request it has not acknowledged, from its position on.
    fn forward_pending(&self, fx: &mut Fx, backup: NodeId) {
        let commands = self
            .pending
            .iter()
            .take(FORWARD_COMMANDS_MAX)
            .map(|pending| pending.command)
            .collect();
        fx.send(
            backup,
            PbMsg::Forward {
                view: self.durable.view.number,
                first: self.backup_applied + 1,
                commands,
            },
        );
    }

    /// The view service's answer: a newer view replaces this server's.
    fn on_view(&mut self, ctx: &Cx<'_>, fx: &mut Fx, view: View) {
        if view.number > self.durable.view.number {
            self.adopt(ctx, fx, view);
        }
    }

    fn adopt(&mut self, ctx: &Cx<'_>, fx: &mut Fx, view: View) {
        assert!(
            view.number > self.durable.view.number,
            "views only move forward"
        );
        self.durable.view = view;
        self.silent_ticks = 0;
        if !self.is_primary() {
            // Requests left unanswered here are the clients' to retry with the new primary.
            self.pending.clear();
            self.ready = false;
            self.persist(fx);
            if self.is_backup() {
                fx.observe(PbObs::Backup { view });
            }
            return;
        }
        self.durable.synced = view.number;
        self.ready = view.backup.is_none();
        self.backup_applied = 0;
        self.persist(fx);
        fx.observe(PbObs::Primary { view });
        match view.backup {
            // Alone, the primary's own storage is all there is: what waited is answered.
            None => self.acknowledge_through(ctx, fx, self.durable.applied),
            Some(backup) => self.send_transfer(fx, backup),
        }
    }

    /// The backup stored everything through `applied`: answer those clients.
    fn acknowledge_through(&mut self, ctx: &Cx<'_>, fx: &mut Fx, applied: u64) {
        self.backup_applied = self.backup_applied.max(applied);
        while self
            .pending
            .front()
            .is_some_and(|pending| pending.seq <= self.backup_applied)
        {
            let pending = self.pending.pop_front().expect("checked");
            if !ctx.config.mutant(PrimaryBackupMutant::ReplyBeforeAck) {
                self.reply_done(fx, pending.seq, pending.command, pending.output);
            }
        }
    }

    fn reply_done(&self, fx: &mut Fx, seq: u64, command: Command, output: KvOutput) {
        let view = self.durable.view.number;
        fx.reply(
            command.client,
            command.request,
            PbReply::Done { view, seq, output },
        );
    }

    fn on_client_request(
        &mut self,
        ctx: &Cx<'_>,
        fx: &mut Fx,
        client: ClientId,
        request: u64,
        op: KvOp,
    ) {
        if !self.is_primary() {
            let hint = self.durable.view.primary;
            fx.reply(client, request, PbReply::NotPrimary { hint });
            return;
        }
        let command = Command {
            client,
            request,
            op,
        };
        if ctx.config.mutant(PrimaryBackupMutant::StaleRead) {
            if let Some(output) = self.durable.machine.read_locally(&op) {
                // The bug: a read served without asking the backup whether this view
                // is still current.
                self.reply_done(fx, self.durable.applied, command, output);
                return;
            }
        }
        if self
            .pending
            .iter()
            .any(|pending| pending.command == command)
        {
            // A retry of a request still waiting for the backup: its answer will come.
            return;
        }
        let output = self
            .durable
            .machine
            .apply(&ctx.config.machine, client, request, &op);
        self.durable.applied += 1;
        let seq = self.durable.applied;
        self.persist(fx);
        let view = self.durable.view;
        fx.observe(PbObs::Applied {
            view: view.number,
            seq,
        });
        let Some(backup) = view.backup else {
            self.reply_done(fx, seq, command, output);
            return;
        };
        if ctx.config.mutant(PrimaryBackupMutant::ReplyBeforeAck) {
            // The bug: the client hears before the backup stored the request.
            self.reply_done(fx, seq, command, output.clone());
        }
        self.pending.push_back(Pending {
            seq,
            command,
            output,
        });
        if self.ready {
            fx.send(
                backup,
                PbMsg::Forward {
                    view: view.number,
                    first: seq,
                    commands: vec![command],
                },
            );
        }
    }

    /// A backup applies forwarded requests of its view, in sequence order, stores them,
    /// and says how far it got. Forwards from other views are ignored.
    fn on_forward(
        &mut self,
        ctx: &Cx<'_>,
        fx: &mut Fx,
        from: NodeId,
        view: u64,
        first: u64,
        commands: Vec<Command>,
    ) {
        let number = self.durable.view.number;
        if view != number || !self.is_backup() || self.durable.synced != number {
            return;
        }
        self.silent_ticks = 0;
        let before = self.durable.applied;
        for (seq, command) in (first..).zip(commands) {
            if seq <= self.durable.applied {
                continue;
            }
            if seq != self.durable.applied + 1 {
                break;
            }
            self.durable.machine.apply(
                &ctx.config.machine,
                command.client,
                command.request,
                &command.op,
            );
            self.durable.applied = seq;
        }
        if self.durable.applied != before {
            self.persist(fx);
        }
        let applied = self.durable.applied;
        fx.send(from, PbMsg::ForwardAck { view, applied });
    }

    fn on_forward_ack(&mut self, ctx: &Cx<'_>, fx: &mut Fx, view: u64, applied: u64) {
        if view == self.durable.view.number && self.is_primary() && self.ready {
            self.acknowledge_through(ctx, fx, applied);
        }
    }

    /// A backup installs the primary's state, once per view (a stale copy of an earlier
    /// transfer in the same view would undo forwards stored since).
    fn on_transfer(&mut self, fx: &mut Fx, from: NodeId, view: u64, image: Image) {
        let number = self.durable.view.number;
        if view != number || !self.is_backup() {
            return;
        }
        self.silent_ticks = 0;
        let stale = self.durable.synced == number && image.applied < self.durable.applied;
        if !stale {
            self.durable.machine = image.machine;
            self.durable.applied = image.applied;
            self.durable.synced = number;
            self.persist(fx);
            fx.observe(PbObs::StateTransfer {
                view,
                applied: image.applied,
            });
        }
        let applied = self.durable.applied;
        fx.send(from, PbMsg::TransferAck { view, applied });
    }

    /// The backup holds the primary's state: the primary is ready (its next ping
    /// acknowledges the view) and forwards what came since.
    fn on_transfer_ack(&mut self, ctx: &Cx<'_>, fx: &mut Fx, view: u64, applied: u64) {
        if view != self.durable.view.number || !self.is_primary() || self.ready {
            return;
        }
        self.ready = true;
        self.acknowledge_through(ctx, fx, applied);
        if let (false, Some(backup)) = (self.pending.is_empty(), self.durable.view.backup) {
            self.forward_pending(fx, backup);
        }
    }
}
