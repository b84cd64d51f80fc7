//! A Multi-Paxos node: acceptor, learner, and leader when phase 1 makes it one; its
//! state and step function.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Ctx, Effects, Input, NodeId, Protocol};

use super::*;

/// Chosen values a heartbeat carries at most, so a restarted follower catches up over
/// several heartbeats instead of in one message the size of the log.
const HEARTBEAT_VALUES_MAX: usize = 64;
/// Unanswered accepts the leader resends to a peer per heartbeat at most.
const RESEND_MAX: usize = 16;

/// A node running phase 1.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Candidacy {
    pub ballot: Ballot,
    pub from_slot: Slot,
    pub promises: BTreeSet<NodeId>,
    /// The highest-ballot acceptance reported per slot (§2.2, P2c).
    pub highest: BTreeMap<Slot, Acceptance>,
}

/// A slot the leader proposed and has not yet seen chosen.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Proposal {
    pub value: Value,
    pub acceptors: BTreeSet<NodeId>,
}

/// A leader's state: its ballot, where new commands go, and its open proposals.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Leadership {
    pub ballot: Ballot,
    pub next_slot: Slot,
    pub proposals: BTreeMap<Slot, Proposal>,
    /// Per node: how many slots it has executed, from its heartbeat acks.
    pub executed_by: Vec<Slot>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub enum Role {
    Follower,
    Candidate(Candidacy),
    Leader(Leadership),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct MultiPaxos {
    pub durable: MultiPaxosDurable,
    pub role: Role,
    /// The ballot of the leader this node last heard (a client's redirect hint).
    pub leader: Option<Ballot>,
    /// The highest ballot round seen (volatile: the persisted promise bounds it after a
    /// restart, which keeps this node's ballots unique).
    round: u64,
    /// The chosen values executed, in slot order (volatile: relearnt after a restart).
    pub executed: Vec<Value>,
    /// Chosen values learnt above a hole, waiting for the slots below them.
    learnt: BTreeMap<Slot, Value>,
    machine: KvMachine,
}

type Cx<'a> = Ctx<'a, MultiPaxosConfig>;
type Fx = Effects<MultiPaxos>;

impl MultiPaxos {
    /// The highest ballot round this node has used or seen.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// The ballot this node leads or runs phase 1 with.
    pub fn leading_ballot(&self) -> Option<Ballot> {
        match &self.role {
            Role::Follower => None,
            Role::Candidate(candidacy) => Some(candidacy.ballot),
            Role::Leader(leadership) => Some(leadership.ballot),
        }
    }

    /// The ballot this node believes current: the one it leads with, else its promise.
    pub fn ballot(&self) -> Option<Ballot> {
        self.leading_ballot().or(self.durable.promised)
    }

    /// The acceptance this acceptor holds at `slot`.
    pub fn accepted_at(&self, slot: Slot) -> Option<Acceptance> {
        usize::try_from(slot)
            .ok()
            .and_then(|index| self.durable.accepted.get(index).copied().flatten())
    }

    fn executed_slots(&self) -> Slot {
        self.executed.len() as Slot
    }

    fn persist(&self, fx: &mut Effects<MultiPaxos>) {
        fx.persist(self.durable.clone());
    }

    fn arm_election_timer(&self, ctx: &Cx<'_>, fx: &mut Fx) {
        let (min, max) = ctx.config.election_timeout_us;
        fx.set_timer(MultiPaxosTimer::Election, min, max);
    }

    /// Send `msg` to every peer, then handle this node's own copy in this step.
    fn send_all(&mut self, ctx: &Cx<'_>, fx: &mut Fx, msg: MultiPaxosMsg) {
        fx.broadcast(ctx, msg.clone());
        self.on_message(ctx, fx, ctx.id, msg);
    }

    fn send_to(&mut self, ctx: &Cx<'_>, fx: &mut Fx, to: NodeId, msg: MultiPaxosMsg) {
        if to == ctx.id {
            self.on_message(ctx, fx, to, msg);
        } else {
            fx.send(to, msg);
        }
    }

    fn on_message(&mut self, ctx: &Cx<'_>, fx: &mut Fx, from: NodeId, msg: MultiPaxosMsg) {
        self.see_ballot(ctx, fx, msg.ballot());
        match msg {
            MultiPaxosMsg::Prepare { ballot, from_slot } => {
                self.on_prepare(ctx, fx, from, ballot, from_slot)
            }
            MultiPaxosMsg::Promise { ballot, accepted } => {
                self.on_promise(ctx, fx, from, ballot, accepted)
            }
            // A refusal's only news is its ballot, which `see_ballot` has acted on.
            MultiPaxosMsg::Nack { .. } => {}
            MultiPaxosMsg::Accept {
                ballot,
                slot,
                value,
            } => self.on_accept(ctx, fx, from, ballot, slot, value),
            MultiPaxosMsg::Accepted { ballot, slot } => {
                self.on_accepted(ctx, fx, from, ballot, slot)
            }
            MultiPaxosMsg::Heartbeat {
                ballot,
                first,
                chosen,
            } => self.on_heartbeat(ctx, fx, from, ballot, first, chosen),
            MultiPaxosMsg::HeartbeatAck { ballot, executed } => {
                if let Role::Leader(leadership) = &mut self.role {
                    if leadership.ballot == ballot {
                        leadership.executed_by[from.index()] = executed;
                    }
                }
            }
        }
    }

    /// A ballot above the one this node leads with deposes it (§3: a leader that learns
    /// of a higher ballot has been superseded).
    fn see_ballot(&mut self, ctx: &Cx<'_>, fx: &mut Fx, ballot: Ballot) {
        self.round = self.round.max(ballot.round);
        let Some(own) = self.leading_ballot() else {
            return;
        };
        if ballot > own {
            self.role = Role::Follower;
            fx.observe(MultiPaxosObs::SteppedDown { ballot: own });
            fx.cancel_timer(MultiPaxosTimer::Heartbeat);
            self.arm_election_timer(ctx, fx);
        }
    }

    /// Phase 1a, once for every slot this node has not learnt chosen.
    fn on_election_timeout(&mut self, ctx: &Cx<'_>, fx: &mut Fx) {
        if matches!(self.role, Role::Leader(_)) {
            return;
        }
        let ballot = Ballot::next(&mut self.round, self.durable.promised, ctx.id);
        let from_slot = self.executed_slots();
        self.role = Role::Candidate(Candidacy {
            ballot,
            from_slot,
            promises: BTreeSet::new(),
            highest: BTreeMap::new(),
        });
        fx.observe(MultiPaxosObs::Prepare { ballot, from_slot });
        // If this ballot stalls (lost messages, a rival), try again with a higher one.
        self.arm_election_timer(ctx, fx);
        self.send_all(ctx, fx, MultiPaxosMsg::Prepare { ballot, from_slot });
    }

    /// Phase 1b: promise a ballot above every earlier promise, durably, first, and report
    /// every acceptance from `from_slot` on.
    fn on_prepare(
        &mut self,
        ctx: &Cx<'_>,
        fx: &mut Fx,
        from: NodeId,
        ballot: Ballot,
        from_slot: Slot,
    ) {
        if let Some(promised) = self.durable.promised.filter(|&p| ballot <= p) {
            self.send_to(ctx, fx, from, MultiPaxosMsg::Nack { ballot, promised });
            return;
        }
        self.durable.promised = Some(ballot);
        self.persist(fx);
        fx.observe(MultiPaxosObs::Promised { ballot });
        if from != ctx.id {
            // Give the candidate its chance before running phase 1 against it.
            self.arm_election_timer(ctx, fx);
        }
        let start = usize::try_from(from_slot).unwrap_or(usize::MAX);
        let accepted = (start..self.durable.accepted.len())
            .filter_map(|index| {
                let (accepted_ballot, value) = self.durable.accepted[index]?;
                Some((index as Slot, accepted_ballot, value))
            })
            .collect();
        self.send_to(ctx, fx, from, MultiPaxosMsg::Promise { ballot, accepted });
    }

    fn on_promise(
        &mut self,
        ctx: &Cx<'_>,
        fx: &mut Fx,
        from: NodeId,
        ballot: Ballot,
        accepted: Vec<Report>,
    ) {
        let Role::Candidate(candidacy) = &mut self.role else {
            return;
        };
        if candidacy.ballot != ballot {
            return;
        }
        candidacy.promises.insert(from);
        for (slot, accepted_ballot, value) in accepted {
            let highest = candidacy
                .highest
                .entry(slot)
                .or_insert((accepted_ballot, value));
            if accepted_ballot > highest.0 {
                *highest = (accepted_ballot, value);
            }
        }
        if candidacy.promises.len() >= ctx.majority() {
            let candidacy = candidacy.clone();
            self.become_leader(ctx, fx, candidacy);
        }
    }

    /// Phase 1 done: re-propose what the promises reported, fill the holes with no-ops
    /// (§3), and take new commands after the highest reported slot.
    fn become_leader(&mut self, ctx: &Cx<'_>, fx: &mut Fx, candidacy: Candidacy) {
        let Candidacy {
            ballot,
            from_slot,
            highest,
            ..
        } = candidacy;
        let reported_end = highest
            .keys()
            .next_back()
            .map_or(from_slot, |slot| slot + 1);
        let end = if ctx.config.mutant(MultiPaxosMutant::SkipPhase1Unseen) {
            // Only the slots this node's own acceptor has seen count.
            (self.durable.accepted.len() as Slot).max(from_slot)
        } else {
            reported_end.max(from_slot)
        };
        self.role = Role::Leader(Leadership {
            ballot,
            next_slot: end,
            proposals: BTreeMap::new(),
            executed_by: vec![self.executed_slots(); ctx.cluster_size as usize],
        });
        self.leader = Some(ballot);
        fx.observe(MultiPaxosObs::Elected {
            ballot,
            from_slot,
            next_slot: end,
        });
        fx.cancel_timer(MultiPaxosTimer::Election);
        for slot in from_slot..end {
            let value = match highest.get(&slot) {
                Some(&(_, value)) => value,
                None if ctx.config.mutant(MultiPaxosMutant::NoGapFill) => continue,
                None => None,
            };
            self.propose(ctx, fx, ballot, slot, value);
        }
        self.on_heartbeat_timeout(ctx, fx);
    }

    /// Phase 2a for one slot.
    fn propose(&mut self, ctx: &Cx<'_>, fx: &mut Fx, ballot: Ballot, slot: Slot, value: Value) {
        let Role::Leader(leadership) = &mut self.role else {
            unreachable!("only a leader proposes");
        };
        let fresh = Proposal {
            value,
            acceptors: BTreeSet::new(),
        };
        assert!(
            leadership.proposals.insert(slot, fresh).is_none(),
            "slot {slot} proposed twice in ballot {ballot}"
        );
        fx.observe(MultiPaxosObs::Propose {
            ballot,
            slot,
            value,
        });
        self.send_all(
            ctx,
            fx,
            MultiPaxosMsg::Accept {
                ballot,
                slot,
                value,
            },
        );
    }

    /// Phase 2b: accept unless a higher ballot was promised, durably, then tell the leader.
    fn on_accept(
        &mut self,
        ctx: &Cx<'_>,
        fx: &mut Fx,
        from: NodeId,
        ballot: Ballot,
        slot: Slot,
        value: Value,
    ) {
        if let Some(promised) = self.durable.promised.filter(|&p| ballot < p) {
            self.send_to(ctx, fx, from, MultiPaxosMsg::Nack { ballot, promised });
            return;
        }
        let index = usize::try_from(slot).expect("a slot fits in memory");
        let accepted = &mut self.durable.accepted;
        while accepted.len() <= index {
            accepted.push(None);
        }
        accepted.set(index, Some((ballot, value)));
        self.durable.promised = Some(ballot);
        if !ctx.config.mutant(MultiPaxosMutant::VolatileAccept) {
            self.persist(fx);
        }
        fx.observe(MultiPaxosObs::Accepted {
            ballot,
            slot,
            value,
        });
        if from != ctx.id {
            self.leader = Some(ballot);
            self.arm_election_timer(ctx, fx);
        }
        self.send_to(ctx, fx, from, MultiPaxosMsg::Accepted { ballot, slot });
    }

    /// The leader as distinguished learner: a majority of acceptances chooses the slot.
    fn on_accepted(&mut self, ctx: &Cx<'_>, fx: &mut Fx, from: NodeId, ballot: Ballot, slot: Slot) {
        let Role::Leader(leadership) = &mut self.role else {
            return;
        };
        if leadership.ballot != ballot {
            return;
        }
        let Some(proposal) = leadership.proposals.get_mut(&slot) else {
            return;
        };
        proposal.acceptors.insert(from);
        let needed = if ctx.config.mutant(MultiPaxosMutant::ReplyBeforeChosen) {
            1
        } else {
            ctx.majority()
        };
        if proposal.acceptors.len() < needed {
            return;
        }
        let value = proposal.value;
        leadership.proposals.remove(&slot);
        fx.observe(MultiPaxosObs::Chosen { slot, value });
        self.learn(ctx, fx, slot, value);
    }

    /// A chosen value: execute it when every slot below it is executed.
    fn learn(&mut self, ctx: &Cx<'_>, fx: &mut Fx, slot: Slot, value: Value) {
        if slot < self.executed_slots() {
            return;
        }
        self.learnt.insert(slot, value);
        while let Some(value) = self.learnt.remove(&self.executed_slots()) {
            let slot = self.executed_slots();
            self.executed.push(value);
            fx.observe(MultiPaxosObs::Executed { slot, value });
            let Some(command) = value else {
                continue;
            };
            let output = self.machine.apply(
                &ctx.config.machine,
                command.client,
                command.request,
                &command.op,
            );
            // Only the leader answers: every replica executes, one replies.
            if matches!(self.role, Role::Leader(_)) {
                let reply = MultiPaxosReply::Done { slot, output };
                fx.reply(command.client, command.request, reply);
            }
        }
    }

    /// The leader's heartbeat: to each follower the chosen values it lacks, and again
    /// each accept it has not answered (messages are lost).
    fn on_heartbeat_timeout(&mut self, ctx: &Cx<'_>, fx: &mut Fx) {
        let Role::Leader(leadership) = &self.role else {
            return;
        };
        for peer in ctx.peers() {
            let first = leadership.executed_by[peer.index()].min(self.executed_slots());
            let start = usize::try_from(first).expect("a slot fits in memory");
            let end = self.executed.len().min(start + HEARTBEAT_VALUES_MAX);
            fx.send(
                peer,
                MultiPaxosMsg::Heartbeat {
                    ballot: leadership.ballot,
                    first,
                    chosen: self.executed[start..end].to_vec(),
                },
            );
            let unanswered = leadership
                .proposals
                .iter()
                .filter(|(_, proposal)| !proposal.acceptors.contains(&peer))
                .take(RESEND_MAX);
            for (&slot, proposal) in unanswered {
                fx.send(
                    peer,
                    MultiPaxosMsg::Accept {
                        ballot: leadership.ballot,
                        slot,
                        value: proposal.value,
                    },
                );
            }
        }
        let (min, max) = ctx.config.heartbeat_us;
        fx.set_timer(MultiPaxosTimer::Heartbeat, min, max);
    }

    /// A follower hears its leader: stay a follower, learn the chosen values sent.
    fn on_heartbeat(
        &mut self,
        ctx: &Cx<'_>,
        fx: &mut Fx,
        from: NodeId,
        ballot: Ballot,
        first: Slot,
        chosen: Vec<Value>,
    ) {
        if let Some(promised) = self.durable.promised.filter(|&p| ballot < p) {
            self.send_to(ctx, fx, from, MultiPaxosMsg::Nack { ballot, promised });
            return;
        }
        if matches!(self.role, Role::Candidate(_)) {
            // A candidate with a lower ballot than this leader's was deposed by
            // `see_ballot`; one with a higher ballot was refused above.
            unreachable!("a candidate's ballot is its promise");
        }
        self.leader = Some(ballot);
        self.arm_election_timer(ctx, fx);
        for (offset, value) in (first..).zip(chosen) {
            self.learn(ctx, fx, offset, value);
        }
        let executed = self.executed_slots();
        fx.send(from, MultiPaxosMsg::HeartbeatAck { ballot, executed });
    }

    fn on_client_request(
        &mut self,
        ctx: &Cx<'_>,
        fx: &mut Fx,
        client: sim_core::ClientId,
        request: u64,
        op: KvOp,
    ) {
        let Role::Leader(leadership) = &mut self.role else {
            let hint = self
                .leader
                .map(|ballot| NodeId(ballot.node))
                .filter(|&node| node != ctx.id);
            fx.reply(client, request, MultiPaxosReply::NotLeader { hint });
            return;
        };
        let (ballot, slot) = (leadership.ballot, leadership.next_slot);
        leadership.next_slot += 1;
        let command = Command {
            client,
            request,
            op,
        };
        self.propose(ctx, fx, ballot, slot, Some(command));
    }
}

impl Protocol for MultiPaxos {
    type Config = MultiPaxosConfig;
    type Msg = MultiPaxosMsg;
    type Timer = MultiPaxosTimer;
    type Durable = MultiPaxosDurable;
    type Op = KvOp;
    type Reply = MultiPaxosReply;
    type Obs = MultiPaxosObs;
    type Checker = MultiPaxosChecker;

    fn new(ctx: &Ctx<'_, MultiPaxosConfig>) -> MultiPaxos {
        MultiPaxos::recover(ctx, None)
    }

    fn recover(
        _ctx: &Ctx<'_, MultiPaxosConfig>,
        durable: Option<&MultiPaxosDurable>,
    ) -> MultiPaxos {
        let durable = durable.cloned().unwrap_or_default();
        MultiPaxos {
            round: durable.promised.map_or(0, |ballot| ballot.round),
            durable,
            role: Role::Follower,
            leader: None,
            executed: Vec::new(),
            learnt: BTreeMap::new(),
            machine: KvMachine::default(),
        }
    }

    fn step(
        &mut self,
        ctx: &Ctx<'_, MultiPaxosConfig>,
        input: Input<MultiPaxos>,
        fx: &mut Effects<MultiPaxos>,
    ) {
        match input {
            Input::Init => self.arm_election_timer(ctx, fx),
            Input::Restart => {
                fx.observe(MultiPaxosObs::Recovered);
                self.arm_election_timer(ctx, fx);
            }
            Input::Timer(MultiPaxosTimer::Election) => self.on_election_timeout(ctx, fx),
            Input::Timer(MultiPaxosTimer::Heartbeat) => self.on_heartbeat_timeout(ctx, fx),
            Input::Message { from, msg } => self.on_message(ctx, fx, from, msg),
            Input::Client {
                client,
                request,
                op,
            } => self.on_client_request(ctx, fx, client, request, op),
        }
    }

    fn role(&self) -> &'static str {
        match self.role {
            Role::Follower => "follower",
            Role::Candidate(_) => "candidate",
            Role::Leader(_) => "leader",
        }
    }
}
