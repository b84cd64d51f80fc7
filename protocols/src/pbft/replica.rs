//! A PBFT replica: its state and step function (Castro and Liskov 1999, §4.2–§4.4).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{ClientId, Ctx, Effects, Input, NodeId, Protocol};

use super::*;

/// One sequence number's agreement state in the current view.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct Slot {
    pub view: View,
    /// The value accepted from the primary's pre-prepare (or the new view).
    pub accepted: Option<Value>,
    /// Signed votes per replica (the primary's pre-prepare is its vote).
    pub votes: BTreeMap<NodeId, Vote>,
    pub commits: BTreeMap<NodeId, Value>,
    pub prepared: bool,
    pub committed: bool,
}

impl Slot {
    fn fresh(view: View) -> Slot {
        Slot {
            view,
            ..Slot::default()
        }
    }

    fn matching_votes(&self, value: &Value) -> usize {
        self.votes.values().filter(|v| v.value == *value).count()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Replica {
    pub me: NodeId,
    cluster_size: u32,
    pub view: View,
    /// `false` between sending a view-change and entering the new view.
    pub view_active: bool,
    /// The last sequence number the primary assigned.
    pub next_seq: Seq,
    pub log: BTreeMap<Seq, Slot>,
    /// Prepared certificates of views before the one `log` belongs to: per sequence
    /// number above the stable checkpoint, the latest such view it prepared in. With the
    /// prepared slots of `log` this is §4.4's set P: a request prepared in view 0 and
    /// re-proposed in view 1 must still be carried into view 2 if it did not prepare
    /// again in view 1 (found by TLC in `tla/MCPBFTCurrentViewCerts.cfg`).
    certificates: BTreeMap<Seq, Certificate>,
    pub last_executed: Seq,
    /// One value per executed sequence number, from 1.
    pub history: Vec<Value>,
    machine: KvMachine,
    /// Per client: the last request executed and its reply.
    replies: BTreeMap<ClientId, (u64, KvOutput)>,
    pub stable: StableCheckpoint,
    /// Checkpoint messages received, by (seq, digest).
    checkpoints: BTreeMap<(Seq, u64), BTreeMap<NodeId, Checkpoint>>,
    /// Requests known and not yet executed.
    pub pending: BTreeMap<(ClientId, u64), Request>,
    /// Requests the primary assigned in this view.
    assigned: BTreeSet<(ClientId, u64)>,
    /// Valid view-change messages, by the view they ask for.
    view_changes: BTreeMap<View, BTreeMap<NodeId, ViewChange>>,
    /// View changes in a row without progress (the timer doubles per one).
    failed_views: u32,
    timer_armed: bool,
    /// Messages of a view this replica has not entered yet.
    future: Vec<(NodeId, PbftMsg)>,
}

/// The most messages of future views a replica holds.
const FUTURE_MAX: usize = 256;

struct Step<'a, 'b> {
    ctx: &'a Ctx<'b, PbftConfig>,
    fx: &'a mut Effects<Replica>,
}

impl Step<'_, '_> {
    fn config(&self) -> &PbftConfig {
        self.ctx.config
    }
    fn f(&self) -> usize {
        faults_tolerated(self.ctx.cluster_size)
    }
    fn quorum(&self) -> usize {
        2 * self.f() + 1
    }
    fn prepare_quorum(&self) -> usize {
        if self.config().mutant(PbftMutant::PrepareQuorum2f) {
            2 * self.f()
        } else {
            self.quorum()
        }
    }
    fn checkpoint_quorum(&self) -> usize {
        if self.config().mutant(PbftMutant::GcUnstableCheckpoint) {
            1
        } else {
            self.quorum()
        }
    }
    fn primary(&self, view: View) -> NodeId {
        NodeId((view % u64::from(self.ctx.cluster_size)) as u32)
    }
    fn broadcast(&mut self, msg: PbftMsg) {
        self.fx.broadcast(self.ctx, msg);
    }
}

impl Protocol for Replica {
    type Config = PbftConfig;
    type Msg = PbftMsg;
    type Timer = PbftTimer;
    /// PBFT's replicas here keep no durable state: a crashed replica restarts empty and
    /// catches up by state transfer (it counts against f meanwhile).
    type Durable = ();
    type Op = KvOp;
    type Reply = PbftReply;
    type Obs = PbftObs;
    type Checker = PbftChecker;

    fn new(ctx: &Ctx<'_, PbftConfig>) -> Replica {
        Replica {
            me: ctx.id,
            cluster_size: ctx.cluster_size,
            view: 0,
            view_active: true,
            next_seq: 0,
            log: BTreeMap::new(),
            certificates: BTreeMap::new(),
            last_executed: 0,
            history: Vec::new(),
            machine: KvMachine::default(),
            replies: BTreeMap::new(),
            stable: StableCheckpoint::default(),
            checkpoints: BTreeMap::new(),
            pending: BTreeMap::new(),
            assigned: BTreeSet::new(),
            view_changes: BTreeMap::new(),
            failed_views: 0,
            timer_armed: false,
            future: Vec::new(),
        }
    }

    fn recover(ctx: &Ctx<'_, PbftConfig>, _durable: Option<&()>) -> Replica {
        Replica::new(ctx)
    }

    fn step(
        &mut self,
        ctx: &Ctx<'_, PbftConfig>,
        input: Input<Replica>,
        fx: &mut Effects<Replica>,
    ) {
        let mut out = Step { ctx, fx };
        match input {
            Input::Init | Input::Restart => {}
            Input::Client {
                client,
                request,
                op,
            } => self.on_client_request(&mut out, Request::new(client, request, op)),
            Input::Message { from, msg } => self.on_message(&mut out, from, msg),
            Input::Timer(PbftTimer::ViewChange) => self.on_view_change_timeout(&mut out),
        }
    }

    fn role(&self) -> &'static str {
        if !self.view_active {
            "view_changing"
        } else if self.view % u64::from(self.cluster_size) == u64::from(self.me.0) {
            "primary"
        } else {
            "backup"
        }
    }
}

impl Replica {
    fn in_window(&self, config: &PbftConfig, seq: Seq) -> bool {
        seq > self.stable.seq && seq <= self.stable.seq + config.log_window
    }

    /// Has this client's `request` (or a later one) been executed here?
    fn executed_request(&self, client: ClientId, request: u64) -> bool {
        self.replies
            .get(&client)
            .is_some_and(|(last, _)| *last >= request)
    }

    fn on_client_request(&mut self, out: &mut Step<'_, '_>, request: Request) {
        if let Some((last, output)) = self.replies.get(&request.client) {
            if request.request == *last {
                // A retry of an executed request: answer it again (§4.1).
                let reply = PbftReply {
                    request: request.request,
                    output: output.clone(),
                };
                out.fx.reply(request.client, request.request, reply);
            }
            if request.request <= *last {
                return;
            }
        }
        out.broadcast(PbftMsg::Request(request));
        self.learn_request(out, request);
    }

    /// A valid client request joins the pending set; the timer watches it, and a primary
    /// assigns it.
    fn learn_request(&mut self, out: &mut Step<'_, '_>, request: Request) {
        if !request.signed_by_client() || self.executed_request(request.client, request.request) {
            return;
        }
        // A client has one request outstanding: a newer one supersedes older ones.
        self.pending
            .retain(|&(client, id), _| client != request.client || id >= request.request);
        self.pending
            .insert((request.client, request.request), request);
        self.arm_timer(out, false);
        self.assign_pending(out);
    }

    fn arm_timer(&mut self, out: &mut Step<'_, '_>, restart: bool) {
        let [min, max] = out.config().view_change_timeout_us;
        let factor = 1u64 << self.failed_views.min(5);
        if restart || !self.timer_armed {
            self.timer_armed = true;
            out.fx
                .set_timer(PbftTimer::ViewChange, min * factor, max * factor);
        }
    }

    /// The primary assigns sequence numbers to pending requests, within the window.
    fn assign_pending(&mut self, out: &mut Step<'_, '_>) {
        if !self.view_active || out.primary(self.view) != self.me {
            return;
        }
        let waiting: Vec<Request> = self
            .pending
            .values()
            .filter(|r| !self.assigned.contains(&(r.client, r.request)))
            .copied()
            .collect();
        for request in waiting {
            let seq = self.next_seq + 1;
            if !self.in_window(out.config(), seq) {
                break;
            }
            self.next_seq = seq;
            self.assigned.insert((request.client, request.request));
            let vote = Vote::new(self.view, seq, Some(request), self.me);
            out.broadcast(PbftMsg::PrePrepare(vote));
            self.accept(out, vote);
        }
    }

    /// Accept `vote` (a pre-prepare, or a new view's assignment) at its slot, and vote.
    fn accept(&mut self, out: &mut Step<'_, '_>, pre_prepare: Vote) {
        let Vote {
            view, seq, value, ..
        } = pre_prepare;
        let slot = self.log.entry(seq).or_insert_with(|| Slot::fresh(view));
        if slot.view != view {
            *slot = Slot::fresh(view);
        }
        slot.accepted = Some(value);
        slot.votes.insert(pre_prepare.replica, pre_prepare);
        out.fx.observe(PbftObs::Accepted { view, seq, value });
        if pre_prepare.replica != self.me {
            let own = Vote::new(view, seq, value, self.me);
            slot.votes.insert(self.me, own);
            out.broadcast(PbftMsg::Prepare(own));
        }
        if out.config().mutant(PbftMutant::CommitWithoutPrepared) {
            self.send_commit(out, seq);
        }
        self.progress(out, seq);
    }

    fn send_commit(&mut self, out: &mut Step<'_, '_>, seq: Seq) {
        let me = self.me;
        let slot = self.log.get_mut(&seq).expect("a slot to commit");
        let value = slot.accepted.expect("commit an accepted value");
        if slot.commits.get(&me) == Some(&value) {
            return;
        }
        slot.commits.insert(me, value);
        let view = slot.view;
        out.broadcast(PbftMsg::Commit { view, seq, value });
    }

    /// Prepared, committed-local, executed: whatever `seq`'s slot now allows (§4.2).
    fn progress(&mut self, out: &mut Step<'_, '_>, seq: Seq) {
        let Some(slot) = self.log.get_mut(&seq) else {
            return;
        };
        let Some(value) = slot.accepted else {
            return;
        };
        if !slot.prepared && slot.matching_votes(&value) >= out.prepare_quorum() {
            slot.prepared = true;
            self.send_commit(out, seq);
        }
        let slot = self.log.get_mut(&seq).expect("still there");
        let may_commit = slot.prepared || out.config().mutant(PbftMutant::CommitWithoutPrepared);
        let commits = slot.commits.values().filter(|v| **v == value).count();
        if may_commit && !slot.committed && commits >= out.quorum() {
            slot.committed = true;
            let view = slot.view;
            out.fx.observe(PbftObs::Committed { view, seq, value });
            self.execute(out);
        }
    }

    /// Execute committed requests in sequence order, reply, and checkpoint every K.
    fn execute(&mut self, out: &mut Step<'_, '_>) {
        let mut executed_any = false;
        while let Some(value) = self
            .log
            .get(&(self.last_executed + 1))
            .filter(|slot| slot.committed)
            .and_then(|slot| slot.accepted)
        {
            executed_any = true;
            let seq = self.last_executed + 1;
            if let Some(output) = self.apply(out.config(), &value) {
                let request = value.expect("an output comes from a request");
                let reply = PbftReply {
                    request: request.request,
                    output,
                };
                out.fx.reply(request.client, request.request, reply);
            }
            out.fx.observe(PbftObs::Executed { seq, value });
            if seq.is_multiple_of(out.config().checkpoint_interval) {
                self.take_checkpoint(out, seq);
            }
        }
        if executed_any {
            self.failed_views = 0;
            if self.pending.is_empty() {
                self.timer_armed = false;
                out.fx.cancel_timer(PbftTimer::ViewChange);
            } else {
                self.arm_timer(out, true);
            }
            self.assign_pending(out);
        }
    }

    /// Apply one value to the machine: its output, unless it is null or a duplicate.
    fn apply(&mut self, config: &PbftConfig, value: &Value) -> Option<KvOutput> {
        self.history.push(*value);
        self.last_executed += 1;
        let request = (*value)?;
        self.pending.remove(&(request.client, request.request));
        if self.executed_request(request.client, request.request) {
            return None;
        }
        let output = self.machine.apply(
            &config.machine,
            request.client,
            request.request,
            &request.op,
        );
        self.replies
            .insert(request.client, (request.request, output.clone()));
        Some(output)
    }

    fn take_checkpoint(&mut self, out: &mut Step<'_, '_>, seq: Seq) {
        let checkpoint = Checkpoint::new(seq, self.history.clone(), self.me);
        out.broadcast(PbftMsg::Checkpoint(checkpoint.clone()));
        self.on_checkpoint(out, checkpoint);
    }

    fn on_checkpoint(&mut self, out: &mut Step<'_, '_>, checkpoint: Checkpoint) {
        if checkpoint.seq <= self.stable.seq {
            return;
        }
        let key = (checkpoint.seq, checkpoint.digest);
        let signers = self.checkpoints.entry(key).or_default();
        signers.entry(checkpoint.replica).or_insert(checkpoint);
        if signers.len() >= out.checkpoint_quorum() {
            self.make_stable(out, key);
        }
    }

    /// A checkpoint with its quorum becomes stable: the log below it is discarded, and a
    /// replica behind it takes its state (§4.3, state transfer).
    fn make_stable(&mut self, out: &mut Step<'_, '_>, key: (Seq, u64)) {
        let signers = self
            .checkpoints
            .remove(&key)
            .expect("the quorum's checkpoints");
        let history = signers
            .values()
            .next()
            .expect("at least one checkpoint")
            .history
            .clone();
        let stable = StableCheckpoint {
            seq: key.0,
            history,
            signatures: signers.values().map(|c| (c.replica, c.signature)).collect(),
        };
        self.install_stable(out, stable);
    }

    fn install_stable(&mut self, out: &mut Step<'_, '_>, stable: StableCheckpoint) {
        if stable.seq <= self.stable.seq {
            return;
        }
        let seq = stable.seq;
        if self.last_executed < seq {
            self.transfer_state(out.config(), &stable.history);
            out.fx.observe(PbftObs::Transferred {
                seq,
                history: stable.history.clone(),
            });
        }
        self.stable = stable;
        self.log.retain(|&s, _| s > seq);
        self.certificates.retain(|&s, _| s > seq);
        self.checkpoints.retain(|&(s, _), _| s > seq);
        self.next_seq = self.next_seq.max(seq);
        out.fx.observe(PbftObs::CheckpointStable { seq });
        self.assign_pending(out);
    }

    /// Rebuild the machine from a stable checkpoint's history.
    fn transfer_state(&mut self, config: &PbftConfig, history: &[Value]) {
        self.machine = KvMachine::default();
        self.replies.clear();
        self.history.clear();
        self.last_executed = 0;
        for value in history {
            self.apply(config, value);
        }
        let replies = &self.replies;
        self.pending.retain(|&(client, request), _| {
            replies.get(&client).is_none_or(|(last, _)| *last < request)
        });
    }

    fn on_message(&mut self, out: &mut Step<'_, '_>, from: NodeId, msg: PbftMsg) {
        if let Some(view) = msg_view(&msg) {
            let entered = self.view_active && view == self.view;
            if view > self.view || (view == self.view && !entered) {
                if self.future.len() < FUTURE_MAX {
                    self.future.push((from, msg));
                }
                return;
            }
            if view < self.view {
                return;
            }
        }
        match msg {
            PbftMsg::Request(request) => self.learn_request(out, request),
            PbftMsg::PrePrepare(vote) => self.on_pre_prepare(out, from, vote),
            PbftMsg::Prepare(vote) => self.on_prepare(out, from, vote),
            PbftMsg::Commit { view, seq, value } => {
                if !self.in_window(out.config(), seq) {
                    return;
                }
                let slot = self.log.entry(seq).or_insert_with(|| Slot::fresh(view));
                if slot.view != view {
                    *slot = Slot::fresh(view);
                }
                slot.commits.entry(from).or_insert(value);
                self.progress(out, seq);
            }
            PbftMsg::Checkpoint(checkpoint) => {
                if checkpoint.replica == from && checkpoint.valid() {
                    self.on_checkpoint(out, checkpoint);
                }
            }
            PbftMsg::ViewChange(view_change) => self.on_view_change(out, from, view_change),
            PbftMsg::NewView { view, proofs } => self.on_new_view(out, from, view, proofs),
        }
    }

    fn on_pre_prepare(&mut self, out: &mut Step<'_, '_>, from: NodeId, vote: Vote) {
        let from_primary = from == out.primary(vote.view)
            || out.config().mutant(PbftMutant::AcceptPrePrepareFromAnyone);
        let request_valid = vote.value.is_none_or(|r| r.signed_by_client());
        if vote.replica != from
            || !vote.valid()
            || !from_primary
            || !request_valid
            || !self.in_window(out.config(), vote.seq)
        {
            return;
        }
        if let Some(slot) = self.log.get(&vote.seq) {
            if slot.view == vote.view && slot.accepted.is_some_and(|v| v != vote.value) {
                // One request per sequence number in a view (§4.2).
                return;
            }
            if slot.view == vote.view && slot.accepted.is_some() {
                return;
            }
        }
        if let Some(request) = vote.value {
            if !self.executed_request(request.client, request.request) {
                self.pending
                    .insert((request.client, request.request), request);
                self.arm_timer(out, false);
            }
        }
        self.accept(out, vote);
    }

    fn on_prepare(&mut self, out: &mut Step<'_, '_>, from: NodeId, vote: Vote) {
        if vote.replica != from
            || !vote.valid()
            || from == out.primary(vote.view)
            || !self.in_window(out.config(), vote.seq)
        {
            return;
        }
        let slot = self
            .log
            .entry(vote.seq)
            .or_insert_with(|| Slot::fresh(vote.view));
        if slot.view != vote.view {
            *slot = Slot::fresh(vote.view);
        }
        slot.votes.entry(from).or_insert(vote);
        self.progress(out, vote.seq);
    }

    fn on_view_change_timeout(&mut self, out: &mut Step<'_, '_>) {
        self.timer_armed = false;
        if self.view_active && self.pending.is_empty() {
            return;
        }
        self.failed_views += 1;
        self.start_view_change(out, self.view + 1);
    }

    /// Move to `view` and multicast a view-change with the prepared certificates (§4.4).
    fn start_view_change(&mut self, out: &mut Step<'_, '_>, view: View) {
        assert!(view > self.view || (view == self.view && self.view_active));
        self.view = view;
        self.view_active = false;
        let mut prepared = self.certificates.clone();
        if out.config().mutant(PbftMutant::ForgetOldCertificates) {
            prepared.clear();
        }
        prepared.extend(self.log_certificates(out.prepare_quorum()));
        let prepared = prepared
            .into_values()
            .filter(|c| c.seq > self.stable.seq)
            .collect();
        let view_change = ViewChange {
            view,
            replica: self.me,
            stable: self.stable.clone(),
            prepared,
            signature: 0,
        }
        .signed();
        out.fx.observe(PbftObs::ViewChangeStarted { view });
        out.broadcast(PbftMsg::ViewChange(view_change.clone()));
        self.arm_timer(out, true);
        self.on_view_change(out, self.me, view_change);
    }

    /// The prepared certificates of the slots in `log`, one per prepared sequence number.
    fn log_certificates(&self, quorum: usize) -> impl Iterator<Item = (Seq, Certificate)> + '_ {
        self.log
            .iter()
            .filter(|(_, slot)| slot.prepared)
            .filter_map(move |(&seq, slot)| {
                let value = slot.accepted?;
                let signatures = slot
                    .votes
                    .values()
                    .filter(|v| v.value == value)
                    .map(|v| (v.replica, v.signature))
                    .collect();
                let certificate = Certificate {
                    view: slot.view,
                    seq,
                    value,
                    signatures,
                };
                certificate.valid(quorum).then_some((seq, certificate))
            })
    }

    fn on_view_change(&mut self, out: &mut Step<'_, '_>, from: NodeId, view_change: ViewChange) {
        let view = view_change.view;
        let stale = view < self.view || (view == self.view && self.view_active);
        let valid = view_change.valid(out.prepare_quorum(), out.checkpoint_quorum());
        if view_change.replica != from || stale || !valid {
            return;
        }
        self.view_changes
            .entry(view)
            .or_default()
            .insert(from, view_change);
        // f + 1 replicas ask for later views: join the lowest of them (§4.5.2).
        let above: BTreeSet<NodeId> = self
            .view_changes
            .range(self.view + 1..)
            .flat_map(|(_, by)| by.keys().copied())
            .collect();
        if above.len() > out.f() {
            let lowest = *self
                .view_changes
                .range(self.view + 1..)
                .next()
                .expect("some view above")
                .0;
            self.start_view_change(out, lowest);
            return;
        }
        self.try_new_view(out, view);
    }

    /// The new primary, with 2f + 1 view-changes, announces the view (§4.4).
    fn try_new_view(&mut self, out: &mut Step<'_, '_>, view: View) {
        if view != self.view || self.view_active || out.primary(view) != self.me {
            return;
        }
        let proofs: Vec<ViewChange> = self
            .view_changes
            .get(&view)
            .map(|by| by.values().cloned().collect())
            .unwrap_or_default();
        if proofs.len() < out.quorum() {
            return;
        }
        out.broadcast(PbftMsg::NewView {
            view,
            proofs: proofs.clone(),
        });
        self.enter_view(out, view, &proofs);
    }

    fn on_new_view(
        &mut self,
        out: &mut Step<'_, '_>,
        from: NodeId,
        view: View,
        proofs: Vec<ViewChange>,
    ) {
        let signers: BTreeSet<NodeId> = proofs.iter().map(|p| p.replica).collect();
        let valid = from == out.primary(view)
            && (view > self.view || !self.view_active)
            && view >= self.view
            && signers.len() == proofs.len()
            && signers.len() >= out.quorum()
            && proofs
                .iter()
                .all(|p| p.view == view && p.valid(out.prepare_quorum(), out.checkpoint_quorum()));
        if valid {
            self.enter_view(out, view, &proofs);
        }
    }

    /// Enter `view` from its view-changes: every replica computes the same assignments
    /// (the new primary's pre-prepares), so a backup checks the primary by recomputing.
    fn enter_view(&mut self, out: &mut Step<'_, '_>, view: View, proofs: &[ViewChange]) {
        let best = proofs
            .iter()
            .map(|p| &p.stable)
            .max_by_key(|stable| stable.seq)
            .expect("a quorum of proofs")
            .clone();
        let low = best.seq;
        self.install_stable(out, best);
        let mut assignments: BTreeMap<Seq, (View, Value)> = BTreeMap::new();
        if !out.config().mutant(PbftMutant::NewViewIgnoresPrepared) {
            for certificate in proofs.iter().flat_map(|p| &p.prepared) {
                if certificate.seq <= low {
                    continue;
                }
                let entry = assignments
                    .entry(certificate.seq)
                    .or_insert((certificate.view, certificate.value));
                if certificate.view > entry.0 {
                    *entry = (certificate.view, certificate.value);
                }
            }
        }
        let high = assignments.keys().next_back().copied().unwrap_or(low);
        self.view = view;
        self.view_active = true;
        self.view_changes.retain(|&v, _| v > view);
        let carried: Vec<(Seq, Certificate)> =
            self.log_certificates(out.prepare_quorum()).collect();
        self.certificates.extend(carried);
        self.log.clear();
        self.assigned.clear();
        self.next_seq = high.max(self.last_executed);
        let primary = out.primary(view);
        out.fx.observe(PbftObs::NewViewEntered { view });
        for seq in low + 1..=high {
            let value = assignments.get(&seq).and_then(|(_, value)| *value);
            if let Some(request) = value {
                self.assigned.insert((request.client, request.request));
            }
            // The pre-prepare the new view stands for, as its primary signs it.
            self.accept(out, primary_vote(view, seq, value, primary));
        }
        if self.pending.is_empty() {
            self.timer_armed = false;
            out.fx.cancel_timer(PbftTimer::ViewChange);
        } else {
            self.arm_timer(out, true);
        }
        self.assign_pending(out);
        let future = std::mem::take(&mut self.future);
        for (from, msg) in future {
            self.on_message(out, from, msg);
        }
    }
}

/// The new primary's pre-prepare for a re-proposed value. The new-view message carries
/// the view-changes it derives from, which is what makes it checkable; the vote's
/// signature is the primary's (a replica computing it stands in for the signed copy the
/// new-view would carry).
fn primary_vote(view: View, seq: Seq, value: Value, primary: NodeId) -> Vote {
    Vote::new(view, seq, value, primary)
}

/// The view a normal-case or view-change message belongs to.
fn msg_view(msg: &PbftMsg) -> Option<View> {
    match msg {
        PbftMsg::PrePrepare(vote) | PbftMsg::Prepare(vote) => Some(vote.view),
        PbftMsg::Commit { view, .. } => Some(*view),
        PbftMsg::ViewChange(_) | PbftMsg::NewView { .. } => None,
        PbftMsg::Request(_) | PbftMsg::Checkpoint(_) => None,
    }
}
