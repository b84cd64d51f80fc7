//! Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm",
//! USENIX ATC 2014; Ongaro's thesis, Stanford 2014, chapter 3) as a pure step function.
//!
//! Each node is a follower, a candidate or a leader (§5.1). A follower that hears from no
//! leader within a randomised election timeout becomes a candidate: it increments its term,
//! votes for itself and asks every peer with RequestVote (§5.2). A peer grants at most one
//! vote per term, and only to a candidate whose log is at least as up to date as its own
//! (§5.4.1). A candidate with votes from a majority becomes leader and replicates its log
//! with AppendEntries (§5.3): a follower accepts entries only after the entry at
//! prevLogIndex matches prevLogTerm, and truncates its log only on a real conflict. A
//! rejection carries a conflict hint (the conflicting term and the first index of that term
//! in the follower's log, or the follower's log length) so the leader can skip a whole term
//! per round trip (thesis §5.3, "accelerated log backtracking"). The leader commits index N
//! once a majority stores it and log[N] is from the leader's current term (§5.4.2, the
//! Figure 8 rule); followers learn the commit index from leaderCommit, capped at the index
//! of the last new entry (Figure 2, AppendEntries rule 5).
//!
//! Heartbeats: by default a heartbeat is an ordinary AppendEntries from nextIndex (so it
//! also carries any entries not yet sent). With the scenario parameter
//! `empty_heartbeats = true` a heartbeat carries no entries and uses prevLogIndex =
//! matchIndex[peer], the last index known to match, as etcd/raft does; a follower's
//! success reply then makes the leader send the missing entries from there. Such a
//! heartbeat verifies nothing past matchIndex, so Figure 2's
//! `commitIndex = min(leaderCommit, index of last new entry)` is what keeps a follower
//! from committing stale entries it holds beyond that point.
//!
//! Persistence (Figure 2, "persistent state on all servers"): currentTerm, votedFor and the
//! log are written with a `Persist` effect before any send or reply that depends on them,
//! because the simulator may crash a node between a `Persist` and the effects after it.
//!
//! Log compaction (§7, `snapshot.rs`): with the scenario parameter `snapshot_every = N`
//! (0, the default, turns it off), a node that has applied N entries past its last
//! snapshot replaces that prefix of its log with a snapshot of its state machine, at the
//! start of its next step. A leader sends InstallSnapshot to a follower whose nextIndex
//! falls inside its snapshot; the follower answers as to an AppendEntries that matched up
//! to the snapshot's last index. Installing discards the follower's log, except the
//! entries after the snapshot when its entry at lastIncludedIndex has lastIncludedTerm
//! (Figure 13, rule 6), and its machine state. Persistent state is the snapshot plus the
//! log after it; a restarted node resumes from its snapshot (commit index and applied
//! state at the snapshot's index) and replays only the log after it.
//!
//! Log indices are 1-based as in the paper: index 0 is the empty prefix, with term 0.
//! `self.log[i - s - 1]` holds index `i`, where `s` is the snapshot's last included index
//! (0 without a snapshot); the helpers `entry` and `term_at` do the arithmetic.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::lincheck::OperationOutput;
use sim_core::persistent::PersistentVec;
use sim_core::registration::{AppliedHooks, HistoryHooks};
use sim_core::trace_delta::{PersistentSequence, TracedSequence};
use sim_core::{
    ClientId, ClientReply, ConfigError, Ctx, Effects, FaultBound, Input, Message, NodeId,
    Observation, Protocol, Registration, ReplyOutcome, RoleInfo, TimeUs, TimerName,
};

mod byzantine;
pub mod invariants;
pub mod machine;
pub mod mutants;
pub mod snapshot;

#[cfg(test)]
mod checker_tests;
#[cfg(test)]
mod tests;

pub use invariants::RaftChecker;
pub use machine::{MachineCommand, MachineOutput, RaftOp, StateMachine, ValueLog};
pub use mutants::Mutant;
pub use snapshot::Snapshot;

/// The `raft` protocol: Raft over a log of opaque values.
pub type Raft = RaftNode<ValueLog>;

/// True for a zero-sized value (the value log's `()` output), which replies leave out of
/// their JSON.
fn is_zero_sized<T>(_value: &T) -> bool {
    std::mem::size_of::<T>() == 0
}

/// A node's term: a logical clock that only grows (§5.1).
pub type Term = u64;
/// A 1-based position in the log; 0 is the empty prefix.
pub type LogIndex = u64;

/// Raft's configuration, shared by every node of a cluster.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct RaftConfig<MachineConfig = ()> {
    /// The election timer's delay is drawn from `election_timeout_us_min..=election_timeout_us_max`.
    pub election_timeout_us_min: TimeUs,
    pub election_timeout_us_max: TimeUs,
    /// A leader sends AppendEntries (possibly empty) to every peer this often.
    pub heartbeat_us: TimeUs,
    /// The most entries one AppendEntries carries.
    pub max_entries_per_append: u64,
    /// Heartbeat-timer AppendEntries carry no entries and use prevLogIndex =
    /// matchIndex[peer] (etcd/raft style) rather than starting at nextIndex.
    pub empty_heartbeats: bool,
    /// Compact the log once this many applied entries follow the last snapshot (§7);
    /// 0 never compacts.
    pub snapshot_every: u64,
    /// A new leader appends a no-op entry of its term (§8, thesis §6.4), so that the
    /// entries of earlier terms commit (and are applied everywhere) without a new write.
    pub noop_on_election: bool,
    /// `None` is the correct protocol.
    pub mutant: Option<Mutant>,
    /// The replicated state machine's own parameters.
    pub machine: MachineConfig,
}

impl<MachineConfig: Default> Default for RaftConfig<MachineConfig> {
    /// The defaults of `configure`: election timeout 150-300 ms, heartbeat 50 ms, 64 entries
    /// per AppendEntries, heartbeats from nextIndex, no mutant.
    fn default() -> Self {
        RaftConfig {
            election_timeout_us_min: 150_000,
            election_timeout_us_max: 300_000,
            heartbeat_us: 50_000,
            max_entries_per_append: 64,
            empty_heartbeats: false,
            snapshot_every: 0,
            noop_on_election: false,
            mutant: None,
            machine: MachineConfig::default(),
        }
    }
}

impl<MachineConfig: Default> RaftConfig<MachineConfig> {
    /// Validate the scenario's values (in milliseconds, as written) and the mutant name.
    pub fn from_millis(
        (election_ms_min, election_ms_max): (u64, u64),
        heartbeat_ms: u64,
        max_entries_per_append: u64,
        mutant: Option<Mutant>,
    ) -> Result<Self, ConfigError> {
        assert!(
            election_ms_min <= election_ms_max,
            "RaftParams::config orders the pair"
        );
        if heartbeat_ms == 0 {
            return Err(ConfigError {
                field: "heartbeat_ms".to_string(),
                message: "a leader must send heartbeats at a positive interval".to_string(),
                fix: "write e.g. `heartbeat_ms = 50`".to_string(),
            });
        }
        if election_ms_min <= heartbeat_ms {
            return Err(ConfigError {
                field: "election_timeout_ms".to_string(),
                message: format!(
                    "the election timeout minimum ({election_ms_min} ms) must exceed heartbeat_ms \
                     ({heartbeat_ms} ms), or followers start elections while the leader is \
                     healthy (§5.6: broadcastTime << electionTimeout)"
                ),
                fix: format!(
                    "write e.g. `election_timeout_ms = [{}, {}]`, or lower heartbeat_ms",
                    heartbeat_ms.saturating_mul(3),
                    heartbeat_ms.saturating_mul(6)
                ),
            });
        }
        let an_hour_ms = 3_600_000;
        if election_ms_max > an_hour_ms {
            return Err(ConfigError {
                field: "election_timeout_ms".to_string(),
                message: format!("{election_ms_max} ms is longer than an hour"),
                fix: "write e.g. `election_timeout_ms = [150, 300]`".to_string(),
            });
        }
        if max_entries_per_append == 0 {
            return Err(ConfigError {
                field: "max_entries_per_append".to_string(),
                message: "AppendEntries must be able to carry at least one entry".to_string(),
                fix: "write e.g. `max_entries_per_append = 64`".to_string(),
            });
        }
        // heartbeat_ms < election_ms_min <= election_ms_max <= an hour: no overflow.
        Ok(RaftConfig {
            election_timeout_us_min: election_ms_min * 1000,
            election_timeout_us_max: election_ms_max * 1000,
            heartbeat_us: heartbeat_ms * 1000,
            max_entries_per_append,
            empty_heartbeats: false,
            snapshot_every: 0,
            noop_on_election: false,
            mutant,
            machine: MachineConfig::default(),
        })
    }
}

/// The client id of a leader's no-op entry (`noop_on_election`): no client has it, the
/// machine never applies it, and no client command is read at its index.
pub const NOOP_CLIENT: ClientId = ClientId::MAX;

/// One log entry: the term of the leader that created it and the client command, with
/// the client and request id that proposed it (the state machine's dedupe key); or a
/// leader's no-op (client `NOOP_CLIENT`, request 0).
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Entry<Command = u64> {
    pub term: Term,
    pub client: ClientId,
    pub request: u64,
    pub value: Command,
}

impl<Command> Entry<Command> {
    /// A leader's no-op entry, which carries no client command.
    pub fn is_noop(&self) -> bool {
        self.client == NOOP_CLIENT
    }
}

/// How a follower answered an AppendEntries.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum AppendResult {
    /// The follower's log now matches the leader's up to `match_index`
    /// (prevLogIndex + number of entries sent, echoed back).
    Success { match_index: LogIndex },
    /// The entry at prevLogIndex did not match. `conflict_term` is the term of the
    /// follower's entry at prevLogIndex and `conflict_index` the first index of that term in
    /// the follower's log; when the follower has no entry at prevLogIndex, `conflict_term`
    /// is `None` and `conflict_index` is its log length + 1 (thesis §5.3).
    Conflict {
        conflict_term: Option<Term>,
        conflict_index: LogIndex,
    },
    /// The request's term was older than the follower's; the response's term tells the
    /// sender to step down.
    StaleTerm,
}

/// Raft's RPCs (Figure 2, and Figure 13's InstallSnapshot). Responses are messages of
/// their own, matched by term.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(bound(serialize = "Command: Serialize"))]
pub enum RaftMsg<Command = u64, M = ValueLog> {
    RequestVote {
        term: Term,
        last_log_index: LogIndex,
        last_log_term: Term,
    },
    RequestVoteResponse {
        term: Term,
        vote_granted: bool,
    },
    AppendEntries {
        term: Term,
        prev_log_index: LogIndex,
        prev_log_term: Term,
        entries: Vec<Entry<Command>>,
        leader_commit: LogIndex,
    },
    AppendEntriesResponse {
        term: Term,
        result: AppendResult,
    },
    /// The leader's snapshot, sent whole (Figure 13 without chunking: offset 0, done).
    /// The follower answers with an AppendEntriesResponse: a success with match_index =
    /// lastIncludedIndex, or StaleTerm.
    InstallSnapshot {
        term: Term,
        snapshot: Snapshot<M>,
    },
}

impl<Command, M> RaftMsg<Command, M> {
    pub fn term(&self) -> Term {
        match self {
            RaftMsg::RequestVote { term, .. }
            | RaftMsg::RequestVoteResponse { term, .. }
            | RaftMsg::AppendEntries { term, .. }
            | RaftMsg::AppendEntriesResponse { term, .. }
            | RaftMsg::InstallSnapshot { term, .. } => *term,
        }
    }
}

impl<M: StateMachine> Message for RaftMsg<M::Command, M> {
    fn kind(&self) -> &'static str {
        match self {
            RaftMsg::RequestVote { .. } => "request_vote",
            RaftMsg::RequestVoteResponse { .. } => "request_vote_response",
            RaftMsg::AppendEntries { .. } => "append_entries",
            RaftMsg::AppendEntriesResponse { .. } => "append_entries_response",
            RaftMsg::InstallSnapshot { .. } => "install_snapshot",
        }
    }

    fn size_bytes(&self) -> u32 {
        // A header of terms and indices, plus term, client and request (16 bytes) and the
        // command per entry.
        match self {
            RaftMsg::AppendEntries { entries, .. } => {
                let entries_bytes: u64 = entries
                    .iter()
                    .map(|entry| 16 + u64::from(entry.value.size_bytes()))
                    .sum();
                u32::try_from(32 + entries_bytes).unwrap_or(u32::MAX)
            }
            RaftMsg::InstallSnapshot { snapshot, .. } => {
                u32::try_from(40 + snapshot.machine.snapshot_bytes()).unwrap_or(u32::MAX)
            }
            _ => 32,
        }
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum RaftTimer {
    /// Followers and candidates: no leader heard from, start an election (§5.2).
    Election,
    /// Leaders: send AppendEntries to every peer to keep followers from timing out (§5.2).
    Heartbeat,
}

impl TimerName for RaftTimer {
    fn kind(&self) -> &'static str {
        match self {
            RaftTimer::Election => "election_timeout",
            RaftTimer::Heartbeat => "heartbeat_timeout",
        }
    }
}

/// What a node keeps on stable storage (Figure 2, "persistent state on all servers", and
/// §7's snapshot). The log is a `PersistentVec` shared with the node's own, so a `Persist`
/// costs O(1) and the edit after it copies one path of the tree, never the whole log; it
/// holds the entries after the snapshot.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct RaftDurable<Command: Clone = u64, M = ValueLog> {
    pub current_term: Term,
    pub voted_for: Option<NodeId>,
    pub log: PersistentVec<Entry<Command>>,
    pub snapshot: Option<Snapshot<M>>,
}

impl<Command: Clone, M> RaftDurable<Command, M> {
    /// The index of the last entry the snapshot covers (0 without one).
    pub fn snapshot_index(&self) -> LogIndex {
        self.snapshot
            .as_ref()
            .map_or(0, |snapshot| snapshot.last_included_index)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub enum RaftReply<Output = ()> {
    /// The request's entry is committed at `index`, and applying it returned `output`
    /// (nothing, for the `raft` protocol's value log).
    Committed {
        index: LogIndex,
        #[serde(skip_serializing_if = "is_zero_sized")]
        output: Output,
    },
    /// This node is not the leader; `leader_hint` is the leader it last heard from in its
    /// current term, if any.
    NotLeader { leader_hint: Option<NodeId> },
}

impl<Output: MachineOutput> ClientReply for RaftReply<Output> {
    fn outcome(&self) -> ReplyOutcome {
        match self {
            RaftReply::Committed { .. } => ReplyOutcome::Ok,
            RaftReply::NotLeader { leader_hint } => ReplyOutcome::Redirect(*leader_hint),
        }
    }
}

/// What a node reports to checkers, metrics and traces.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub enum RaftObs {
    BecameCandidate {
        term: Term,
    },
    BecameLeader {
        term: Term,
    },
    /// A candidate or leader stepped down (to `term`, which may be its old term).
    BecameFollower {
        term: Term,
    },
    /// The log was changed: when `truncated_from` is set, every entry from that index on was
    /// deleted first; then indices `from_index..=to_index` were written (an empty range,
    /// `to_index == from_index - 1`, when nothing was appended). Every log mutation is
    /// reported, by the one helper that performs them all.
    LogWrite {
        from_index: LogIndex,
        to_index: LogIndex,
        truncated_from: Option<LogIndex>,
    },
    /// commitIndex advanced from `previous_index` to `index`.
    Commit {
        index: LogIndex,
        previous_index: LogIndex,
    },
    /// The node restarted with what it last persisted: `current_term` and a log of
    /// `last_log_index` entries. Checkers re-check the recovered log, since the step that
    /// wrote it may have been cut short by the crash before they saw it.
    Recovered {
        current_term: Term,
        last_log_index: LogIndex,
    },
    /// The node compacted its log: a snapshot of its machine now covers
    /// `1..=last_included_index`, and the log holds only what follows (§7).
    SnapshotTaken {
        last_included_index: LogIndex,
        last_included_term: Term,
    },
    /// The node installed `from`'s snapshot (Figure 13): its machine, commit index and
    /// applied index are the snapshot's, and its log holds only entries after it.
    SnapshotInstalled {
        last_included_index: LogIndex,
        last_included_term: Term,
        from: NodeId,
    },
}

impl Observation for RaftObs {
    const KINDS: &'static [&'static str] = &[
        "became_candidate",
        "became_leader",
        "became_follower",
        "log_write",
        "commit",
        "recovered",
        "snapshot_taken",
        "snapshot_installed",
    ];
    fn kind(&self) -> &'static str {
        match self {
            RaftObs::BecameCandidate { .. } => "became_candidate",
            RaftObs::BecameLeader { .. } => "became_leader",
            RaftObs::BecameFollower { .. } => "became_follower",
            RaftObs::LogWrite { .. } => "log_write",
            RaftObs::Commit { .. } => "commit",
            RaftObs::Recovered { .. } => "recovered",
            RaftObs::SnapshotTaken { .. } => "snapshot_taken",
            RaftObs::SnapshotInstalled { .. } => "snapshot_installed",
        }
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Role {
    Follower,
    Candidate,
    Leader,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        }
    }
}

/// One Raft node. The cluster's `RaftConfig` is not part of it: every step gets it by
/// reference (`Ctx::config`, kept in `Output` for the step's helpers).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct RaftNode<M: StateMachine> {
    id: NodeId,
    cluster_size: u32,

    // Persistent state on all servers (Figure 2).
    current_term: Term,
    voted_for: Option<NodeId>,
    /// Persistent (O(1) to clone), so persisting it costs nothing. The entries after the
    /// snapshot, if any.
    log: PersistentVec<Entry<M::Command>>,
    /// The latest snapshot (§7): it replaces the log's prefix `1..=last_included_index`.
    snapshot: Option<Snapshot<M>>,

    // Volatile state on all servers.
    commit_index: LogIndex,
    role: Role,
    /// The leader this node last heard from in `current_term`.
    leader_hint: Option<NodeId>,

    // Candidates: the voters that granted a vote in `current_term`. A `Vec` rather than a
    // set so that the count-duplicate-votes mutant can hold the same voter twice.
    votes_granted: Vec<NodeId>,

    // Leaders, indexed by `NodeId::index()` (Figure 2, "volatile state on leaders").
    next_index: Vec<LogIndex>,
    match_index: Vec<LogIndex>,
    /// Entries this leader appended for clients, by index, awaiting commit.
    pending: BTreeMap<LogIndex, (ClientId, u64)>,

    // The replicated state machine: the committed prefix `1..=last_applied` applied in
    // order (§5.3). Volatile: rebuilt from the log as commits are learnt after a restart.
    machine: M,
    last_applied: LogIndex,
    /// `snapshot::chain` over the entries `1..=last_applied`, for the next snapshot (kept
    /// only where `snapshot_every` is set; otherwise `EMPTY_DIGEST`).
    applied_digest: u64,
}

/// The effects of one step, plus whether the durable state changed since it was last
/// persisted in this step. Sends and replies go through `Raft::send` and `Raft::reply`,
/// which emit the `Persist` first when it is due.
struct Output<'a, M: StateMachine> {
    fx: &'a mut Effects<RaftNode<M>>,
    durable_changed: bool,
    config: &'a RaftConfig<M::Config>,
}

impl<M: StateMachine> Output<'_, M> {
    fn mutant(&self, mutant: Mutant) -> bool {
        self.config.mutant == Some(mutant)
    }
}

impl<M: StateMachine> RaftNode<M> {
    pub fn id(&self) -> NodeId {
        self.id
    }

    pub fn current_term(&self) -> Term {
        self.current_term
    }

    pub fn voted_for(&self) -> Option<NodeId> {
        self.voted_for
    }

    /// The log after the snapshot; `log()[i - snapshot_index() - 1]` is the entry at
    /// index `i` (use `entry`).
    pub fn log(&self) -> &PersistentVec<Entry<M::Command>> {
        &self.log
    }

    /// The latest snapshot, if the node has compacted its log or installed one.
    pub fn snapshot(&self) -> Option<&Snapshot<M>> {
        self.snapshot.as_ref()
    }

    /// The index of the last entry the snapshot covers (0 without a snapshot).
    pub fn snapshot_index(&self) -> LogIndex {
        self.snapshot
            .as_ref()
            .map_or(0, |snapshot| snapshot.last_included_index)
    }

    /// The state machine (what this node has applied).
    pub fn machine(&self) -> &M {
        &self.machine
    }

    pub fn commit_index(&self) -> LogIndex {
        self.commit_index
    }

    /// The last index applied to the state machine (0 again after a restart, until the
    /// node relearns commits).
    pub fn last_applied(&self) -> LogIndex {
        self.last_applied
    }

    pub fn role_kind(&self) -> Role {
        self.role
    }

    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    pub fn leader_hint(&self) -> Option<NodeId> {
        self.leader_hint
    }

    pub fn last_log_index(&self) -> LogIndex {
        self.snapshot_index() + self.log.len() as LogIndex
    }

    pub fn last_log_term(&self) -> Term {
        self.term_at(self.last_log_index())
    }

    /// The term of the entry at `index`; 0 for the empty prefix, the snapshot's
    /// lastIncludedTerm at its last index. Indices inside the snapshot have no term here.
    pub fn term_at(&self, index: LogIndex) -> Term {
        assert!(
            index <= self.last_log_index(),
            "term_at({index}) past the log end"
        );
        let snapshot_index = self.snapshot_index();
        assert!(
            index >= snapshot_index,
            "term_at({index}) inside the snapshot (up to {snapshot_index})"
        );
        match &self.snapshot {
            _ if index > snapshot_index => self.log[(index - snapshot_index) as usize - 1].term,
            Some(snapshot) => snapshot.last_included_term,
            None => 0,
        }
    }

    /// The entry at `index` (1-based), if the log holds one: not past its end, and not
    /// compacted into the snapshot.
    pub fn entry(&self, index: LogIndex) -> Option<&Entry<M::Command>> {
        let snapshot_index = self.snapshot_index();
        if index <= snapshot_index {
            None
        } else {
            self.log.get((index - snapshot_index) as usize - 1)
        }
    }

    fn majority(&self) -> usize {
        self.cluster_size as usize / 2 + 1
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> {
        let id = self.id;
        (0..self.cluster_size)
            .map(NodeId)
            .filter(move |&node| node != id)
    }

    fn durable(&self, config: &RaftConfig<M::Config>) -> RaftDurable<M::Command, M> {
        if config.mutant == Some(Mutant::VolatileVotedFor) {
            // The bug: only the log reaches stable storage.
            return RaftDurable {
                current_term: 0,
                voted_for: None,
                log: self.log.clone(),
                snapshot: self.snapshot.clone(),
            };
        }
        RaftDurable {
            current_term: self.current_term,
            voted_for: self.voted_for,
            log: self.log.clone(),
            snapshot: self.snapshot.clone(),
        }
    }

    /// Emit `Persist` if the durable state changed since it was last persisted this step.
    fn persist_if_changed(&self, out: &mut Output<'_, M>) {
        if out.durable_changed {
            out.fx.persist(self.durable(out.config));
            out.durable_changed = false;
        }
    }

    /// Every send goes through here so that it follows the persist it depends on.
    fn send(&self, out: &mut Output<'_, M>, to: NodeId, msg: RaftMsg<M::Command, M>) {
        assert!(to != self.id, "{}: send to itself", self.id);
        assert!(
            to.0 < self.cluster_size,
            "{}: send to unknown node {to}",
            self.id
        );
        let promise = matches!(
            msg,
            RaftMsg::RequestVoteResponse {
                vote_granted: true,
                ..
            } | RaftMsg::AppendEntriesResponse {
                result: AppendResult::Success { .. },
                ..
            }
        );
        if promise && out.mutant(Mutant::ReplyBeforePersist) {
            // The bug: the promise leaves before what it promises is on disk (the step's
            // last `persist_if_changed` writes it, after this send).
            out.fx.send(to, msg);
            return;
        }
        self.persist_if_changed(out);
        out.fx.send(to, msg);
    }

    /// Replies, like sends, follow the persist they depend on (a committed entry must be
    /// on this node's stable storage before the client hears about it).
    fn reply(
        &self,
        out: &mut Output<'_, M>,
        client: ClientId,
        request: u64,
        reply: RaftReply<M::Output>,
    ) {
        self.persist_if_changed(out);
        out.fx.reply(client, request, reply);
    }

    fn arm_election_timer(&self, out: &mut Output<'_, M>) {
        let min_us = out.config.election_timeout_us_min;
        let max_us = if out.mutant(Mutant::FixedElectionTimeout) {
            // The bug: every node waits exactly as long, so split votes repeat.
            min_us
        } else {
            out.config.election_timeout_us_max
        };
        out.fx.set_timer(RaftTimer::Election, min_us, max_us);
    }

    fn arm_heartbeat_timer(&self, out: &mut Output<'_, M>) {
        assert!(self.role == Role::Leader);
        out.fx.set_timer(
            RaftTimer::Heartbeat,
            out.config.heartbeat_us,
            out.config.heartbeat_us,
        );
    }

    /// The one place the log changes: delete every entry from `truncate_from` on (when
    /// set), then append `entries`, and report it with a `LogWrite` observation. Keeping
    /// every mutation here means no code path, mutant or not, escapes the checker.
    fn write_log(
        &mut self,
        out: &mut Output<'_, M>,
        truncate_from: Option<LogIndex>,
        entries: &[Entry<M::Command>],
    ) {
        assert!(
            truncate_from.is_some() || !entries.is_empty(),
            "write_log without a change"
        );
        if let Some(truncate_from) = truncate_from {
            assert!(truncate_from >= 1, "truncate_from is 1-based");
            assert!(
                truncate_from <= self.last_log_index(),
                "truncating past the log end"
            );
            assert!(
                self.role != Role::Leader,
                "{}: a leader never truncates its log (§5.3)",
                self.id
            );
            if out.config.mutant.is_none() {
                // Committed entries are never deleted (Leader Completeness, §5.4).
                assert!(
                    truncate_from > self.commit_index,
                    "{}: truncating from {truncate_from} below commit index {}",
                    self.id,
                    self.commit_index
                );
            }
            let snapshot_index = self.snapshot_index();
            assert!(
                truncate_from > snapshot_index,
                "{}: truncating from {truncate_from}, inside the snapshot (up to {snapshot_index})",
                self.id
            );
            self.log
                .truncate((truncate_from - snapshot_index) as usize - 1);
        }
        let from_index = self.last_log_index() + 1;
        for entry in entries {
            if out.config.mutant.is_none() {
                // Mutants may break these (e.g. a term forgotten across a restart); the
                // checker, not a panic, is what should report it.
                assert!(entry.term <= self.current_term, "entry from a future term");
                assert!(
                    entry.term >= self.last_log_term(),
                    "log terms must not decrease"
                );
            }
            self.log.push(entry.clone());
        }
        let to_index = self.last_log_index();
        out.durable_changed = true;
        out.fx.observe(RaftObs::LogWrite {
            from_index,
            to_index,
            truncated_from: truncate_from,
        });
    }

    /// Advance commitIndex to `index` (it never goes back), answer the clients whose
    /// entries are now committed, and report it.
    fn commit_to(&mut self, out: &mut Output<'_, M>, index: LogIndex) {
        assert!(index > self.commit_index, "commit index only grows");
        assert!(
            index <= self.last_log_index(),
            "committing past the log end"
        );
        let previous_index = self.commit_index;
        self.commit_index = index;
        out.fx.observe(RaftObs::Commit {
            index,
            previous_index,
        });
        // Apply the newly committed entries in log order (§5.3); the leader answers each
        // client whose entry it appended with the output of applying it.
        assert!(self.last_applied <= previous_index.max(self.last_applied));
        let apply_to = if out.mutant(Mutant::ApplyBeyondCommit) {
            // The bug: apply (and acknowledge) the entry after the committed one too.
            (index + 1).min(self.last_log_index())
        } else {
            index
        };
        let snapshot_index = self.snapshot_index();
        // The digest is for snapshots only: without them, a restarted node replaying its
        // whole log would hash every entry again for nothing.
        let digests = out.config.snapshot_every > 0;
        if M::HOLDS_NO_STATE && !digests {
            // Nothing to rebuild: skip to just before the first entry a client waits for.
            let waited = self.pending.first_key_value().map(|(&index, _)| index - 1);
            let skip_to = waited.unwrap_or(apply_to).min(apply_to);
            self.last_applied = self.last_applied.max(skip_to);
        }
        while self.last_applied < apply_to {
            self.last_applied += 1;
            let applied_index = self.last_applied;
            let entry = &self.log[(applied_index - snapshot_index) as usize - 1];
            if digests {
                self.applied_digest = snapshot::chain(self.applied_digest, entry);
            }
            if entry.is_noop() {
                continue; // nothing to apply, and no client waits for it
            }
            let output = self.machine.apply(
                &out.config.machine,
                entry.client,
                entry.request,
                &entry.value,
            );
            let Some((&pending_index, _)) = self.pending.first_key_value() else {
                continue;
            };
            assert!(
                pending_index >= applied_index,
                "a pending entry was skipped"
            );
            if pending_index > applied_index {
                continue;
            }
            let (_, (client, request)) = self.pending.pop_first().expect("non-empty");
            assert!(
                self.role == Role::Leader,
                "only a leader has pending requests"
            );
            assert!(entry.client == client && entry.request == request);
            self.reply(
                out,
                client,
                request,
                RaftReply::Committed {
                    index: pending_index,
                    output,
                },
            );
        }
        assert!(self.last_applied == self.commit_index || out.config.mutant.is_some());
    }

    /// Adopt `term` (when newer) and become a follower (§5.1: "if RPC request or response
    /// contains term T > currentTerm: set currentTerm = T, convert to follower").
    fn become_follower(&mut self, out: &mut Output<'_, M>, term: Term) {
        assert!(term >= self.current_term, "terms never go back");
        if term > self.current_term {
            self.current_term = term;
            self.voted_for = None;
            self.leader_hint = None;
            out.durable_changed = true;
        }
        let previous_role = self.role;
        self.role = Role::Follower;
        self.votes_granted.clear();
        if previous_role != Role::Follower {
            out.fx.observe(RaftObs::BecameFollower {
                term: self.current_term,
            });
        }
        if previous_role == Role::Leader {
            // The clients of dropped requests time out and retry at the new leader.
            self.pending.clear();
            out.fx.cancel_timer(RaftTimer::Heartbeat);
            self.arm_election_timer(out);
        }
    }

    /// Start an election (§5.2): new term, vote for self, ask every peer.
    fn become_candidate(&mut self, out: &mut Output<'_, M>) {
        assert!(
            self.role != Role::Leader,
            "{}: invalid transition leader -> candidate",
            self.id
        );
        self.role = Role::Candidate;
        self.current_term += 1;
        self.voted_for = Some(self.id);
        self.leader_hint = None;
        self.votes_granted.clear();
        self.votes_granted.push(self.id);
        out.durable_changed = true;
        out.fx.observe(RaftObs::BecameCandidate {
            term: self.current_term,
        });
        self.arm_election_timer(out);
        let request = RaftMsg::RequestVote {
            term: self.current_term,
            last_log_index: self.last_log_index(),
            last_log_term: self.last_log_term(),
        };
        for peer in self.peers() {
            self.send(out, peer, request.clone());
        }
        if self.votes_granted.len() >= self.majority() {
            self.become_leader(out);
        }
    }

    fn become_leader(&mut self, out: &mut Output<'_, M>) {
        assert!(
            self.role == Role::Candidate,
            "{}: invalid transition {:?} -> leader",
            self.id,
            self.role
        );
        assert!(self.voted_for == Some(self.id));
        self.role = Role::Leader;
        self.leader_hint = Some(self.id);
        self.votes_granted.clear();
        let next = self.last_log_index() + 1;
        self.next_index = vec![next; self.cluster_size as usize];
        self.match_index = vec![0; self.cluster_size as usize];
        assert!(self.pending.is_empty());
        out.fx.observe(RaftObs::BecameLeader {
            term: self.current_term,
        });
        if out.config.noop_on_election {
            // §8: a leader commits entries of earlier terms only through one of its own
            // term; the no-op is that entry when no client writes.
            let noop = Entry {
                term: self.current_term,
                client: NOOP_CLIENT,
                request: 0,
                value: M::Command::noop(),
            };
            self.write_log(out, None, &[noop]);
        }
        self.match_index[self.id.index()] = self.last_log_index();
        out.fx.cancel_timer(RaftTimer::Election);
        self.broadcast_append_entries(out);
        self.arm_heartbeat_timer(out);
    }

    /// Send AppendEntries from `next_index[peer]`, at most `max_entries_per_append` entries,
    /// and advance `next_index[peer]` past them optimistically (a rejection resets it).
    /// When the entry before `next_index[peer]` is compacted away, send the snapshot
    /// instead (§7), and advance `next_index[peer]` past it.
    fn send_append_entries(&mut self, out: &mut Output<'_, M>, peer: NodeId) {
        assert!(self.role == Role::Leader);
        let next = self.next_index[peer.index()];
        assert!(
            next >= 1 && next <= self.last_log_index() + 1,
            "next_index {next} out of range"
        );
        let prev_log_index = next - 1;
        let snapshot_index = self.snapshot_index();
        if let (Some(snapshot), true) = (&self.snapshot, prev_log_index < snapshot_index) {
            let msg = RaftMsg::InstallSnapshot {
                term: self.current_term,
                snapshot: snapshot.clone(),
            };
            self.next_index[peer.index()] = snapshot_index + 1;
            self.send(out, peer, msg);
            return;
        }
        let end = self
            .last_log_index()
            .min(prev_log_index + out.config.max_entries_per_append);
        let entries = self.log.to_vec_range(
            (prev_log_index - snapshot_index) as usize,
            (end - snapshot_index) as usize,
        );
        self.next_index[peer.index()] = end + 1;
        let msg = RaftMsg::AppendEntries {
            term: self.current_term,
            prev_log_index,
            prev_log_term: self.term_at(prev_log_index),
            entries,
            leader_commit: self.commit_index,
        };
        self.send(out, peer, msg);
    }

    fn broadcast_append_entries(&mut self, out: &mut Output<'_, M>) {
        let peers: Vec<NodeId> = self.peers().collect();
        for peer in peers {
            self.send_append_entries(out, peer);
        }
    }

    /// The leader's commit rule (§5.4.2): the largest N stored by a majority, committed only
    /// when log[N] is from the current term.
    fn advance_leader_commit(&mut self, out: &mut Output<'_, M>) {
        assert!(self.role == Role::Leader);
        assert!(self.match_index[self.id.index()] == self.last_log_index());
        let mut matched = self.match_index.clone();
        matched.sort_unstable_by(|a, b| b.cmp(a));
        // matched[majority - 1] is stored by at least a majority (the nodes before it too).
        let quorum = if out.mutant(Mutant::QuorumOffByOne) {
            // The bug: `>= n/2` for `> n/2` (at least 1, the leader itself).
            (self.cluster_size as usize / 2).max(1)
        } else {
            self.majority()
        };
        let majority_index = matched[quorum - 1];
        // (Below the snapshot only with snapshot-uncommitted, whose snapshot runs ahead.)
        if majority_index <= self.commit_index || majority_index < self.snapshot_index() {
            return;
        }
        let current_term_entry = self.term_at(majority_index) == self.current_term;
        // The bug of commit-prior-term: counting replicas is enough (the Figure 8 scenario).
        if current_term_entry || out.mutant(Mutant::CommitPriorTerm) {
            self.commit_to(out, majority_index);
        }
    }

    fn on_election_timeout(&mut self, out: &mut Output<'_, M>) {
        if self.role == Role::Leader {
            // A leader cancels its election timer; a timer that fired regardless is stale.
            return;
        }
        self.become_candidate(out);
    }

    fn on_heartbeat_timeout(&mut self, out: &mut Output<'_, M>) {
        if self.role != Role::Leader {
            // Stepping down cancels the heartbeat timer; a timer that fired regardless is stale.
            return;
        }
        if out.config.empty_heartbeats {
            self.broadcast_empty_heartbeats(out);
        } else {
            self.broadcast_append_entries(out);
        }
        self.arm_heartbeat_timer(out);
    }

    /// etcd/raft-style heartbeats: no entries, prevLogIndex = matchIndex[peer] (the last
    /// index known to match). nextIndex goes back to matchIndex + 1, so the success reply
    /// makes the leader (re)send whatever the peer has not acknowledged, which also
    /// retransmits lost AppendEntries.
    fn broadcast_empty_heartbeats(&mut self, out: &mut Output<'_, M>) {
        assert!(self.role == Role::Leader);
        let peers: Vec<NodeId> = self.peers().collect();
        for peer in peers {
            let prev_log_index = self.match_index[peer.index()];
            self.next_index[peer.index()] = prev_log_index + 1;
            if prev_log_index < self.snapshot_index() {
                // The entry to check is compacted away: the peer needs the snapshot.
                self.send_append_entries(out, peer);
                continue;
            }
            let msg = RaftMsg::AppendEntries {
                term: self.current_term,
                prev_log_index,
                prev_log_term: self.term_at(prev_log_index),
                entries: Vec::new(),
                leader_commit: self.commit_index,
            };
            self.send(out, peer, msg);
        }
    }

    fn on_request_vote(
        &mut self,
        out: &mut Output<'_, M>,
        from: NodeId,
        term: Term,
        last_log_index: LogIndex,
        last_log_term: Term,
    ) {
        assert!(
            term <= self.current_term,
            "newer terms are adopted before dispatch"
        );
        // §5.4.1: the candidate's log is at least as up to date as ours.
        let log_ok = last_log_term > self.last_log_term()
            || (last_log_term == self.last_log_term() && last_log_index >= self.last_log_index());
        let log_ok = log_ok || out.mutant(Mutant::VoteIgnoresLog);
        let vote_free = self.voted_for.is_none() || self.voted_for == Some(from);
        let vote_granted = term == self.current_term && vote_free && log_ok;
        if vote_granted {
            assert!(
                self.role == Role::Follower,
                "a candidate or leader has voted for itself"
            );
            if self.voted_for != Some(from) {
                self.voted_for = Some(from);
                out.durable_changed = true;
            }
            // §5.2: granting a vote resets the election timer.
            self.arm_election_timer(out);
        }
        let response = RaftMsg::RequestVoteResponse {
            term: self.current_term,
            vote_granted,
        };
        self.send(out, from, response);
    }

    fn on_request_vote_response(
        &mut self,
        out: &mut Output<'_, M>,
        from: NodeId,
        term: Term,
        vote_granted: bool,
    ) {
        assert!(
            term <= self.current_term,
            "newer terms are adopted before dispatch"
        );
        if term < self.current_term && !out.mutant(Mutant::AcceptStaleReplies) {
            return; // A vote from an earlier election (§5.1).
        }
        if self.role != Role::Candidate || !vote_granted {
            return;
        }
        // The bug of count-duplicate-votes: every granted message counts.
        if !self.votes_granted.contains(&from) || out.mutant(Mutant::CountDuplicateVotes) {
            self.votes_granted.push(from);
        }
        if self.votes_granted.len() >= self.majority() {
            self.become_leader(out);
        }
    }

    /// What AppendEntries and InstallSnapshot do first: answer a request of an older term
    /// with StaleTerm; otherwise take `from` as the leader of this term (a candidate steps
    /// down, §5.2) and re-arm the election timer. False when the request goes no further.
    fn hear_from_leader(&mut self, out: &mut Output<'_, M>, from: NodeId, term: Term) -> bool {
        assert!(
            term <= self.current_term,
            "newer terms are adopted before dispatch"
        );
        if term < self.current_term {
            if out.mutant(Mutant::ResetTimerOnStaleAppend) && self.role != Role::Leader {
                // The bug: any AppendEntries counts as a sign of life, whatever its term.
                self.arm_election_timer(out);
            }
            let response = RaftMsg::AppendEntriesResponse {
                term: self.current_term,
                result: AppendResult::StaleTerm,
            };
            self.send(out, from, response);
            return false;
        }
        if self.role == Role::Leader {
            // Two leaders in one term: impossible in Raft (Election Safety, §5.2); only a
            // mutant gets here, and the checker reports it.
            assert!(
                out.config.mutant.is_some(),
                "{}: two leaders in term {term}",
                self.id
            );
            return false;
        }
        if self.role == Role::Candidate {
            // §5.2: a candidate that hears from the leader of its term steps down.
            self.become_follower(out, term);
        }
        self.leader_hint = Some(from);
        self.arm_election_timer(out);
        true
    }

    fn on_append_entries(
        &mut self,
        out: &mut Output<'_, M>,
        from: NodeId,
        term: Term,
        (prev_log_index, prev_log_term): (LogIndex, Term),
        entries: Vec<Entry<M::Command>>,
        leader_commit: LogIndex,
    ) {
        if !self.hear_from_leader(out, from, term) {
            return;
        }

        // Entries our snapshot covers are committed, so they match the leader's: skip
        // them, and check the first entry after them instead (§7).
        let last_new_index = prev_log_index + entries.len() as LogIndex;
        let skipped = self
            .snapshot_index()
            .saturating_sub(prev_log_index)
            .min(entries.len() as LogIndex);
        let (prev_log_index, prev_log_term, entries) = match skipped {
            0 => (prev_log_index, prev_log_term, entries),
            _ => {
                let prev_term = entries[skipped as usize - 1].term;
                let rest = entries[skipped as usize..].to_vec();
                (prev_log_index + skipped, prev_term, rest)
            }
        };
        if prev_log_index < self.snapshot_index() {
            // Everything this request carries is inside our snapshot.
            let result = AppendResult::Success {
                match_index: last_new_index,
            };
            let response = RaftMsg::AppendEntriesResponse {
                term: self.current_term,
                result,
            };
            self.send(out, from, response);
            return;
        }

        // Consistency check (§5.3): our log must contain prevLogIndex with prevLogTerm.
        if prev_log_index > self.last_log_index() {
            let result = AppendResult::Conflict {
                conflict_term: None,
                conflict_index: self.last_log_index() + 1,
            };
            self.send(
                out,
                from,
                RaftMsg::AppendEntriesResponse {
                    term: self.current_term,
                    result,
                },
            );
            return;
        }
        let our_prev_term = self.term_at(prev_log_index);
        if our_prev_term != prev_log_term {
            assert!(prev_log_index >= 1, "index 0 always matches");
            let mut first_index_of_term = prev_log_index;
            let first_in_log = self.snapshot_index() + 1;
            while first_index_of_term > first_in_log
                && self.term_at(first_index_of_term - 1) == our_prev_term
            {
                first_index_of_term -= 1;
            }
            let result = AppendResult::Conflict {
                conflict_term: Some(our_prev_term),
                conflict_index: first_index_of_term,
            };
            self.send(
                out,
                from,
                RaftMsg::AppendEntriesResponse {
                    term: self.current_term,
                    result,
                },
            );
            return;
        }

        // §5.3 rule 3 and 4: delete only from the first conflicting entry, then append what
        // is new. An entry that already matches stays: this request may be stale.
        if out.mutant(Mutant::TruncateOnAnyAppend) {
            // The bug: delete everything after prevLogIndex whatever the entries say.
            let truncate_from =
                (prev_log_index < self.last_log_index()).then_some(prev_log_index + 1);
            if truncate_from.is_some() || !entries.is_empty() {
                self.write_log(out, truncate_from, &entries);
            }
        } else {
            let mut first_new = entries.len();
            let mut truncate_from = None;
            for (offset, entry) in entries.iter().enumerate() {
                let index = prev_log_index + 1 + offset as LogIndex;
                if index > self.last_log_index() {
                    first_new = offset;
                    break;
                }
                if self.term_at(index) != entry.term {
                    truncate_from = Some(index);
                    first_new = offset;
                    break;
                }
            }
            if truncate_from.is_some() || first_new < entries.len() {
                self.write_log(out, truncate_from, &entries[first_new..]);
            }
        }

        // Figure 2 rule 5: commitIndex = min(leaderCommit, index of last new entry).
        let new_commit = if out.mutant(Mutant::UnboundedLeaderCommit) {
            // The bug: trust leaderCommit beyond what this request verified. (Capped at
            // our log's end, since a node cannot apply entries it does not have.)
            leader_commit.min(self.last_log_index())
        } else if out.mutant(Mutant::CommitOnlyWithEntries) && entries.is_empty() {
            // The bug: the commit rule sits inside "if there are entries", so a heartbeat's
            // leaderCommit is never read.
            self.commit_index
        } else if out.mutant(Mutant::FollowerCommitsOnAppend) {
            // The bug: whatever the leader sent counts as committed once stored here.
            last_new_index
        } else {
            leader_commit.min(last_new_index)
        };
        if new_commit > self.commit_index {
            self.commit_to(out, new_commit);
        } else if new_commit < self.commit_index && out.mutant(Mutant::CommitIndexRegresses) {
            // The bug: commitIndex = min(leaderCommit, last new entry) even when that is
            // lower (a stale or reordered AppendEntries), so a committed index goes back.
            self.commit_index = new_commit;
        }
        let result = AppendResult::Success {
            match_index: last_new_index,
        };
        self.send(
            out,
            from,
            RaftMsg::AppendEntriesResponse {
                term: self.current_term,
                result,
            },
        );
    }

    fn on_append_entries_response(
        &mut self,
        out: &mut Output<'_, M>,
        from: NodeId,
        term: Term,
        result: AppendResult,
    ) {
        assert!(
            term <= self.current_term,
            "newer terms are adopted before dispatch"
        );
        if term < self.current_term && !out.mutant(Mutant::AcceptStaleReplies) {
            return; // An answer to an earlier leader's request (§5.1).
        }
        if self.role != Role::Leader {
            return;
        }
        let peer = from.index();
        match result {
            AppendResult::Success { match_index } => {
                let match_index = if out.mutant(Mutant::MatchIndexFromLogLen) {
                    // The bug: assume the follower now holds our whole log.
                    self.last_log_index()
                } else {
                    match_index
                };
                if match_index > self.last_log_index() {
                    // Only an answer from another leader's log can claim more than we have
                    // (accept-stale-replies); it cannot be matched against our log.
                    assert!(
                        out.config.mutant.is_some(),
                        "{}: match_index past the log end",
                        self.id
                    );
                    return;
                }
                // Replies can be reordered: matchIndex only grows.
                self.match_index[peer] = self.match_index[peer].max(match_index);
                self.next_index[peer] = self.next_index[peer].max(self.match_index[peer] + 1);
                self.advance_leader_commit(out);
                if self.next_index[peer] <= self.last_log_index() {
                    self.send_append_entries(out, from);
                }
            }
            AppendResult::Conflict {
                conflict_term,
                conflict_index,
            } => {
                // Thesis §5.3: jump to after our last entry of the conflicting term, or to
                // the follower's hint when we have no entry of that term.
                let hinted = match conflict_term.and_then(|term| self.last_index_of_term(term)) {
                    Some(index) => index + 1,
                    None => conflict_index,
                };
                let lowest = self.match_index[peer] + 1;
                self.next_index[peer] = hinted.clamp(lowest, self.last_log_index() + 1);
                self.send_append_entries(out, from);
            }
            AppendResult::StaleTerm => {
                // The follower's term was newer than that request's; if it is newer than
                // ours we have stepped down already, otherwise the request was old.
            }
        }
    }

    /// The output the entry at `index` would have if every entry up to it committed: a
    /// copy of the machine applies the uncommitted entries. Only the reply-before-commit
    /// mutant asks.
    fn speculative_output(&self, config: &RaftConfig<M::Config>, index: LogIndex) -> M::Output {
        assert!(index > self.last_applied && index <= self.last_log_index());
        let mut machine = self.machine.clone();
        let mut output = None;
        for applied_index in self.last_applied + 1..=index {
            let entry = self
                .entry(applied_index)
                .expect("unapplied entries are in the log");
            output =
                Some(machine.apply(&config.machine, entry.client, entry.request, &entry.value));
        }
        output.expect("at least the entry at index is applied")
    }

    /// The last index of our log whose entry has `term`, if any.
    fn last_index_of_term(&self, term: Term) -> Option<LogIndex> {
        (self.snapshot_index().max(1)..=self.last_log_index())
            .rev()
            .find(|&index| self.term_at(index) == term)
    }

    fn on_client_request(
        &mut self,
        out: &mut Output<'_, M>,
        client: ClientId,
        request: u64,
        op: M::Op,
    ) {
        if M::reads_locally_without_quorum(&out.config.machine) {
            // The bug: any node, leader or not, answers a read from the state it has
            // applied, without a log round or a quorum check that it is still current.
            if let Some(output) = self.machine.read_locally(&op) {
                let index = self.commit_index;
                self.reply(out, client, request, RaftReply::Committed { index, output });
                return;
            }
        }
        if self.role != Role::Leader {
            let reply = RaftReply::NotLeader {
                leader_hint: self.leader_hint,
            };
            self.reply(out, client, request, reply);
            return;
        }
        let entry = Entry {
            term: self.current_term,
            client,
            request,
            value: M::command(&op),
        };
        self.write_log(out, None, &[entry]);
        let index = self.last_log_index();
        self.match_index[self.id.index()] = index;
        if M::replies_before_commit(&out.config.machine) {
            // The bug: answer as soon as the entry is in the leader's log, with the output
            // of applying it (after the uncommitted entries before it) to a copy of the
            // machine. A leader that loses its uncommitted tail has acknowledged writes
            // that never happen.
            let output = self.speculative_output(out.config, index);
            self.reply(out, client, request, RaftReply::Committed { index, output });
        } else {
            let previous = self.pending.insert(index, (client, request));
            assert!(previous.is_none(), "a fresh index has no pending request");
        }
        // A single-node cluster commits at once.
        self.advance_leader_commit(out);
        let peers: Vec<NodeId> = self.peers().collect();
        for peer in peers {
            if self.next_index[peer.index()] == index {
                self.send_append_entries(out, peer);
            }
        }
    }

    fn on_message(&mut self, out: &mut Output<'_, M>, from: NodeId, msg: RaftMsg<M::Command, M>) {
        assert!(
            from != self.id && from.0 < self.cluster_size,
            "{}: message from {from}",
            self.id
        );
        if msg.term() > self.current_term {
            let reply = matches!(
                msg,
                RaftMsg::RequestVoteResponse { .. } | RaftMsg::AppendEntriesResponse { .. }
            );
            if reply && out.mutant(Mutant::IgnoreHigherTermReplies) {
                // The bug: a reply from a newer term is dropped instead of adopted.
                return;
            }
            self.become_follower(out, msg.term());
        }
        match msg {
            RaftMsg::RequestVote {
                term,
                last_log_index,
                last_log_term,
            } => self.on_request_vote(out, from, term, last_log_index, last_log_term),
            RaftMsg::RequestVoteResponse { term, vote_granted } => {
                self.on_request_vote_response(out, from, term, vote_granted)
            }
            RaftMsg::AppendEntries {
                term,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => self.on_append_entries(
                out,
                from,
                term,
                (prev_log_index, prev_log_term),
                entries,
                leader_commit,
            ),
            RaftMsg::AppendEntriesResponse { term, result } => {
                self.on_append_entries_response(out, from, term, result)
            }
            RaftMsg::InstallSnapshot { term, snapshot } => {
                self.on_install_snapshot(out, from, term, snapshot)
            }
        }
    }

    /// InstallSnapshot (Figure 13): a follower adopts the leader's snapshot when it covers
    /// more than the follower has committed, and answers as to an AppendEntries that
    /// matched up to the snapshot's last index.
    fn on_install_snapshot(
        &mut self,
        out: &mut Output<'_, M>,
        from: NodeId,
        term: Term,
        snapshot: Snapshot<M>,
    ) {
        if !self.hear_from_leader(out, from, term) {
            return;
        }
        let match_index = snapshot.last_included_index;
        if match_index > self.commit_index {
            self.install_snapshot(out, from, snapshot);
        }
        // Either way the log now matches the leader's up to the snapshot's last index: it
        // was installed, or that prefix is committed here already.
        let result = AppendResult::Success { match_index };
        let response = RaftMsg::AppendEntriesResponse {
            term: self.current_term,
            result,
        };
        self.send(out, from, response);
    }

    /// Replace the log's prefix and the machine's state with `snapshot` (Figure 13, rules 6
    /// to 8): the entries after it stay only when the log holds its last entry with its
    /// term; otherwise the whole log goes.
    fn install_snapshot(&mut self, out: &mut Output<'_, M>, from: NodeId, snapshot: Snapshot<M>) {
        let index = snapshot.last_included_index;
        let term = snapshot.last_included_term;
        assert!(index > self.commit_index && self.commit_index >= self.snapshot_index());
        let holds_last = index <= self.last_log_index();
        let keep = holds_last
            && (self.term_at(index) == term || out.mutant(Mutant::KeepConflictingAfterInstall));
        // The bug of keep-conflicting-after-install: entries after the snapshot stay even
        // when this log's entry at lastIncludedIndex has another term.
        self.log = if keep {
            self.log_after(index)
        } else {
            PersistentVec::new()
        };
        self.machine = M::clone(&snapshot.machine);
        self.commit_index = index;
        self.last_applied = index;
        self.applied_digest = snapshot.digest;
        self.snapshot = Some(snapshot);
        out.durable_changed = true;
        out.fx.observe(RaftObs::SnapshotInstalled {
            last_included_index: index,
            last_included_term: term,
            from,
        });
    }

    /// The log's entries after `index` (at most the unapplied tail: O(its length)).
    fn log_after(&self, index: LogIndex) -> PersistentVec<Entry<M::Command>> {
        let snapshot_index = self.snapshot_index();
        assert!(snapshot_index <= index && index <= self.last_log_index());
        let start = (index - snapshot_index) as usize;
        self.log.to_vec_range(start, self.log.len()).into()
    }

    /// §7: once `snapshot_every` applied entries follow the last snapshot, snapshot the
    /// machine and drop that prefix of the log. Called at the start of a step, so that
    /// checkers have seen the entries committed (in the step that applied them) before
    /// they leave the log.
    fn compact_if_due(&mut self, out: &mut Output<'_, M>) {
        let every = out.config.snapshot_every;
        if every == 0 || self.last_applied - self.snapshot_index() < every {
            return;
        }
        if out.mutant(Mutant::SnapshotUncommitted) {
            // The bug: the snapshot covers the whole log, committed or not.
            self.apply_uncommitted(out.config);
        }
        let index = self.last_applied;
        let snapshot = Snapshot {
            last_included_index: index,
            last_included_term: self.term_at(index),
            digest: self.applied_digest,
            machine: std::sync::Arc::new(self.machine.clone()),
        };
        self.log = self.log_after(index);
        self.snapshot = Some(snapshot);
        out.durable_changed = true;
        out.fx.observe(RaftObs::SnapshotTaken {
            last_included_index: index,
            last_included_term: self.term_at(index),
        });
    }

    /// For the snapshot-uncommitted mutant only: apply every entry of the log, committed
    /// or not, answering nobody (the clients of entries so applied time out).
    fn apply_uncommitted(&mut self, config: &RaftConfig<M::Config>) {
        let snapshot_index = self.snapshot_index();
        while self.last_applied < self.last_log_index() {
            self.last_applied += 1;
            let entry = &self.log[(self.last_applied - snapshot_index) as usize - 1];
            self.applied_digest = snapshot::chain(self.applied_digest, entry);
            self.machine
                .apply(&config.machine, entry.client, entry.request, &entry.value);
        }
        self.pending.retain(|&index, _| index > self.last_applied);
    }

    /// Invariants of one node's state, true between any two steps.
    fn assert_invariants(&self, config: &RaftConfig<M::Config>) {
        assert!(self.commit_index <= self.last_log_index() || config.mutant.is_some());
        assert!(self.last_applied >= self.snapshot_index());
        assert!(self.snapshot_index() <= self.commit_index || config.mutant.is_some());
        if config.mutant.is_none() {
            // Terms never decrease along the log (asserted at every write, in
            // `write_log`), so the last entry's term bounds them all: O(1) per step.
            assert!(
                self.last_log_term() <= self.current_term,
                "entry from a future term"
            );
        }
        match self.role {
            Role::Follower => assert!(self.votes_granted.is_empty() && self.pending.is_empty()),
            Role::Candidate => {
                assert!(self.voted_for == Some(self.id) && self.pending.is_empty());
                assert!(self.votes_granted.len() < self.majority());
            }
            Role::Leader => {
                assert!(self.voted_for == Some(self.id) || config.mutant.is_some());
                assert!(self.leader_hint == Some(self.id));
                assert!(self.match_index[self.id.index()] == self.last_log_index());
                assert!(self.next_index.len() == self.cluster_size as usize);
            }
        }
    }
}

impl<M: StateMachine> Protocol for RaftNode<M> {
    type Config = RaftConfig<M::Config>;
    type Msg = RaftMsg<M::Command, M>;
    type Timer = RaftTimer;
    type Durable = RaftDurable<M::Command, M>;
    type Op = M::Op;
    type Reply = RaftReply<M::Output>;
    type Obs = RaftObs;
    type Checker = RaftChecker<M::Command>;

    fn new(ctx: &Ctx<'_, RaftConfig<M::Config>>) -> Self {
        assert!(ctx.cluster_size >= 1 && ctx.id.0 < ctx.cluster_size);
        RaftNode {
            id: ctx.id,
            cluster_size: ctx.cluster_size,
            current_term: 0,
            voted_for: None,
            log: PersistentVec::new(),
            commit_index: 0,
            role: Role::Follower,
            leader_hint: None,
            votes_granted: Vec::new(),
            next_index: Vec::new(),
            match_index: Vec::new(),
            pending: BTreeMap::new(),
            snapshot: None,
            machine: M::default(),
            last_applied: 0,
            applied_digest: snapshot::EMPTY_DIGEST,
        }
    }

    fn recover(
        ctx: &Ctx<'_, RaftConfig<M::Config>>,
        durable: Option<&RaftDurable<M::Command, M>>,
    ) -> Self {
        let mut node = Self::new(ctx);
        if let Some(durable) = durable {
            node.current_term = durable.current_term;
            node.voted_for = durable.voted_for;
            node.log = durable.log.clone();
            if let Some(snapshot) = &durable.snapshot {
                // §7: the machine resumes from the snapshot; only the log after it is
                // replayed, as commits are learnt again.
                node.machine = M::clone(&snapshot.machine);
                node.commit_index = snapshot.last_included_index;
                node.last_applied = snapshot.last_included_index;
                node.applied_digest = snapshot.digest;
                node.snapshot = Some(snapshot.clone());
            }
            if ctx.config.mutant != Some(Mutant::VolatileVotedFor) {
                assert!(
                    node.last_log_term() <= node.current_term,
                    "log from a future term"
                );
            }
        }
        node.assert_invariants(ctx.config);
        node
    }

    fn step(
        &mut self,
        ctx: &Ctx<'_, RaftConfig<M::Config>>,
        input: Input<Self>,
        fx: &mut Effects<Self>,
    ) {
        assert!(ctx.id == self.id && ctx.cluster_size == self.cluster_size);
        let mut out = Output {
            fx,
            durable_changed: false,
            config: ctx.config,
        };
        match input {
            Input::Init => {
                assert!(self.role == Role::Follower && self.current_term == 0);
                assert!(self.log.is_empty());
                self.arm_election_timer(&mut out);
            }
            Input::Restart => {
                assert!(self.role == Role::Follower);
                assert!(self.commit_index == self.snapshot_index());
                out.fx.observe(RaftObs::Recovered {
                    current_term: self.current_term,
                    last_log_index: self.last_log_index(),
                });
                self.arm_election_timer(&mut out);
            }
            Input::Message { from, msg } => {
                self.compact_if_due(&mut out);
                self.on_message(&mut out, from, msg)
            }
            Input::Timer(timer) => {
                self.compact_if_due(&mut out);
                match timer {
                    RaftTimer::Election => self.on_election_timeout(&mut out),
                    RaftTimer::Heartbeat => self.on_heartbeat_timeout(&mut out),
                }
            }
            Input::Client {
                client,
                request,
                op,
            } => {
                self.compact_if_due(&mut out);
                self.on_client_request(&mut out, client, request, op)
            }
        }
        self.persist_if_changed(&mut out);
        self.assert_invariants(ctx.config);
    }

    fn role(&self) -> &'static str {
        self.role.name()
    }
}

/// Raft's roles (§5.1), as reports colour them; the leader is what `crash_leader` and the
/// leader-change metric aim at.
pub const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "follower",
        colour: "#9ecae1",
        leader: false,
    },
    RoleInfo {
        name: "candidate",
        colour: "#fd8d3c",
        leader: false,
    },
    RoleInfo {
        name: "leader",
        colour: "#31a354",
        leader: true,
    },
];

/// Raft's `[params]` (every service on Raft takes them too).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaftParams {
    /// The election timeout's range in ms, `[min, max]`; each timer draws from it (§5.2).
    #[serde(
        default = "RaftParams::default_election_timeout_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub election_timeout_ms: [u64; 2],
    /// How often a leader sends AppendEntries (possibly empty) to every peer, in ms.
    #[serde(default = "RaftParams::default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// The most entries one AppendEntries carries.
    #[serde(default = "RaftParams::default_max_entries_per_append")]
    pub max_entries_per_append: u64,
    /// Heartbeats carry no entries and use prevLogIndex = matchIndex (etcd/raft style).
    #[serde(default)]
    pub empty_heartbeats: bool,
    /// Log compaction (§7): a node snapshots its state machine and drops that prefix of
    /// its log once this many applied entries follow its last snapshot; 0 (the default)
    /// never compacts.
    #[serde(default)]
    pub snapshot_every: u64,
    /// A new leader appends a no-op entry of its term (§8, thesis §6.4), so that after
    /// a leader change every committed command is applied everywhere without a later
    /// write. Off by default (runs without it keep their pinned hashes).
    #[serde(default)]
    pub noop_on_election: bool,
}

impl Default for RaftParams {
    fn default() -> Self {
        RaftParams {
            election_timeout_ms: Self::default_election_timeout_ms(),
            heartbeat_ms: Self::default_heartbeat_ms(),
            max_entries_per_append: Self::default_max_entries_per_append(),
            empty_heartbeats: false,
            snapshot_every: 0,
            noop_on_election: false,
        }
    }
}

impl RaftParams {
    fn default_election_timeout_ms() -> [u64; 2] {
        [150, 300]
    }
    fn default_heartbeat_ms() -> u64 {
        50
    }
    fn default_max_entries_per_append() -> u64 {
        64
    }

    /// Validate and build Raft's configuration around the machine's.
    pub fn config<MachineConfig: Default>(
        &self,
        mutant: Option<Mutant>,
        machine: MachineConfig,
    ) -> Result<RaftConfig<MachineConfig>, ConfigError> {
        let [min, max] = self.election_timeout_ms;
        if min > max {
            return Err(ConfigError {
                field: "election_timeout_ms".to_string(),
                message: format!("[{min}, {max}]: expected [min, max] with min <= max"),
                fix: "write e.g. `election_timeout_ms = [150, 300]`".to_string(),
            });
        }
        let config = RaftConfig::from_millis(
            (min, max),
            self.heartbeat_ms,
            self.max_entries_per_append,
            mutant,
        )?;
        Ok(RaftConfig {
            empty_heartbeats: self.empty_heartbeats,
            snapshot_every: self.snapshot_every,
            noop_on_election: self.noop_on_election,
            machine,
            ..config
        })
    }
}

/// Raft's own `[check]` fields: the model checker's protocol bounds.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaftCheckBounds {
    /// The highest term a node may reach (so elections stop).
    pub max_term: Option<u64>,
    /// The longest log a node may hold (so heartbeats with new entries stop).
    pub max_log: Option<u64>,
}

impl RaftCheckBounds {
    pub fn within<M: StateMachine>(&self, node: &RaftNode<M>) -> bool {
        self.max_term.is_none_or(|max| node.current_term <= max)
            && self.max_log.is_none_or(|max| node.last_log_index() <= max)
    }
}

/// Raft claims to tolerate any minority of crashed nodes, and no Byzantine one.
pub fn fault_bound(cluster_size: u32) -> FaultBound {
    FaultBound {
        crashed: cluster_size.saturating_sub(1) / 2,
        byzantine: 0,
    }
}

/// What every protocol on Raft registers alike: roles, the fault bound, the model
/// checker's bounds, the workload (the machine's), the history model (if the machine has
/// one) and the state trace validation reads. The caller adds `params`.
pub fn registration_of<M: StateMachine>(
    name: &'static str,
    description: &'static str,
) -> Registration<RaftNode<M>> {
    let registration = Registration::new(name, description)
        .roles(ROLES)
        .fault_bound(fault_bound)
        .check_bounds::<RaftCheckBounds>(RaftCheckBounds::within::<M>)
        .perturb(byzantine::perturb_hooks::<M>())
        .workload(|config: &RaftConfig<M::Config>, client, seq, draw| {
            M::client_op(&config.machine, client, seq, draw)
        })
        .parse_op(|config: &RaftConfig<M::Config>, client, seq, text| {
            M::parse_op(&config.machine, client, seq, text)
        })
        .trace_state(trace_state::<M>)
        .trace_sequence("log", traced_log::<M>)
        .commits(|observation| match observation {
            RaftObs::Commit { index, .. } => Some(*index),
            _ => None,
        })
        .applied(AppliedHooks {
            applied_through: |node| node.last_applied(),
            command_at: |node, index| {
                node.entry(index)
                    .filter(|e| !e.is_noop())
                    .map(|e| (e.client, e.request))
            },
        })
        .rpc_replies(&["request_vote_response", "append_entries_response"])
        .epoch(|node| node.current_term())
        // The log after the snapshot: what grows with a run (`budget.max_state_items`).
        .state_items(|node| node.log().len() as u64)
        .message_kinds(&[
            "request_vote",
            "request_vote_response",
            "append_entries",
            "append_entries_response",
            "install_snapshot",
        ]);
    match M::history_model() {
        Some(model) => registration.history(HistoryHooks {
            model,
            input: M::history_input,
            output: history_output::<M>,
        }),
        None => registration,
    }
}

/// The `raft` protocol's registration.
pub fn registration() -> Registration<Raft> {
    registration_of::<ValueLog>(
        "raft",
        "Raft consensus (Ongaro & Ousterhout 2014): elections, log replication, commit",
    )
    .params::<RaftParams, Mutant>(|params, setup| params.config(setup.mutant, ()))
}

/// The variables of `tla/Raft.tla` that trace validation checks after every step
/// (`quorumlab tlc --validate-trace`): currentTerm, votedFor, the role, commitIndex, the
/// log as `[term, value]` pairs (the value is the command as JSON: a number for the
/// `raft` protocol), a candidate's votes (the voters counted, in order) and a leader's
/// matchIndex (by node index). With the votes and matchIndex logged, a window of the
/// trace can start from the logged state alone. nextIndex is left out: the trace spec
/// leaves which slice of its log a leader sends free. A node with a snapshot adds
/// `snapshot_index` (the log then starts after it), which Raft.tla does not model.
/// The node's state for trace validation, but its log (`traced_log`).
fn trace_state<M: StateMachine>(node: &RaftNode<M>) -> serde_json::Value {
    let mut state = serde_json::json!({
        "term": node.current_term,
        "voted_for": node.voted_for.map(|node| node.0),
        "role": node.role.name(),
        "commit_index": node.commit_index,
        "votes": node.votes_granted.iter().map(|voter| voter.0).collect::<Vec<_>>(),
        "match_index": (node.role == Role::Leader).then_some(&node.match_index),
    });
    if node.snapshot.is_some() {
        state["snapshot_index"] = node.snapshot_index().into();
    }
    state
}

/// The traced state's `log`: the entries after the snapshot, each as `[term, value]`.
fn traced_log<M: StateMachine>(node: &RaftNode<M>) -> Box<dyn TracedSequence> {
    Box::new(PersistentSequence {
        items: node.log.clone(),
        to_json: |entry: &Entry<M::Command>| {
            let value = serde_json::to_value(&entry.value).unwrap_or(serde_json::Value::Null);
            serde_json::json!([entry.term, value])
        },
    })
}

fn history_output<M: StateMachine>(
    op: &M::Op,
    reply: &RaftReply<M::Output>,
) -> Option<OperationOutput> {
    match reply {
        RaftReply::Committed { output, .. } => M::history_output(op, output),
        RaftReply::NotLeader { .. } => None,
    }
}
