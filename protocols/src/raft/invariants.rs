//! Raft's safety properties (Ongaro & Ousterhout 2014, Figure 3 and §5.4.3) as a checker:
//! ghost state built from the nodes' observations, plus invariant functions over that ghost
//! state and the nodes' current states.
//!
//! - `election_safety`: at most one leader per term, ever (§5.2).
//! - `log_matching`: two logs with an entry of the same index and term are identical up to
//!   that index (§5.3). Checked incrementally: every written entry is registered under its
//!   (index, term) with its content and the term of the entry before it; a later write of
//!   the same (index, term) must agree on both, which by induction on the index is Log
//!   Matching.
//! - `leader_append_only`: a leader never deletes or overwrites entries of its own log
//!   during its term (§5.3).
//! - `leader_completeness`: a leader's log holds every entry committed in an earlier term
//!   (§5.4).
//! - `state_machine_safety`: no two nodes commit different entries at one index (§5.4.3).
//!
//! Rules about a step, judged from its input (`before_step`), what it did (`on_effect`)
//! and the state it reached (`on_step`):
//! - `commit_index_monotonic`, `higher_term_steps_down` (Figure 2, §5.1);
//! - `acknowledged_committed`: a client is told of an entry only once it is committed;
//! - `committed_on_majority`: a leader counts an entry as committed only when a majority
//!   has it on stable storage (the ghost keeps what each node last persisted);
//! - `election_timer_reset`: a node re-arms its election timer only when it may (§5.2);
//! - `snapshot_committed`: a snapshot covers only committed entries, exactly the committed
//!   sequence up to its last index (compared by digest, §7);
//! - `snapshot_install_no_conflict`: after installing a snapshot, a node keeps no entry
//!   that conflicts with it (Figure 13, rule 6).
//!
//! With snapshots, a node's log starts after its snapshot: the properties above compare
//! entries where logs hold them, and the compacted prefixes through the snapshot rules
//! (the ghost keeps, per committed index, the digest of the committed sequence up to it).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::persistent::PersistentVec;
use sim_core::{Checker, Effect, Input, NodeId, NodesView, PropertyInfo, Violation};

use super::{
    snapshot, Entry, LogIndex, MachineCommand, RaftMsg, RaftNode, RaftObs, RaftReply, RaftTimer,
    StateMachine, Term,
};

const PROPERTIES: &[PropertyInfo] = &[
    PropertyInfo {
        name: "election_safety",
        description: "at most one leader is elected in a term (§5.2)",
    },
    PropertyInfo {
        name: "log_matching",
        description: "if two logs contain an entry with the same index and term, the logs are \
                      identical in all entries up to that index (§5.3)",
    },
    PropertyInfo {
        name: "leader_append_only",
        description: "a leader never overwrites or deletes entries in its log; it only appends \
                      (§5.3)",
    },
    PropertyInfo {
        name: "leader_completeness",
        description: "an entry committed in a term is in the log of every leader of a later \
                      term (§5.4)",
    },
    PropertyInfo {
        name: "state_machine_safety",
        description: "no two nodes commit (and so apply) different entries at the same index \
                      (§5.4.3)",
    },
    PropertyInfo {
        name: COMMIT_INDEX_MONOTONIC,
        description: "a node's commitIndex never decreases within its life; only a restart \
                      resets it (Figure 2: commitIndex increases monotonically)",
    },
    PropertyInfo {
        name: HIGHER_TERM_STEPS_DOWN,
        description: "a node that receives any message, request or reply, with a term above \
                      its own adopts that term and is a follower after the step (§5.1)",
    },
    PropertyInfo {
        name: ACKNOWLEDGED_COMMITTED,
        description: "an entry acknowledged to a client is committed: when the reply leaves, \
                      its index is at most the replier's commitIndex and in its log (§5.3)",
    },
    PropertyInfo {
        name: COMMITTED_ON_MAJORITY,
        description: "an entry a leader counts as committed is on the stable storage (the last \
                      Persist) of a majority at that moment (§5.3, Figure 2)",
    },
    PropertyInfo {
        name: SNAPSHOT_COMMITTED,
        description: "a snapshot a node takes or installs covers only committed entries: its \
                      last index is at most the node's commitIndex, and it covers exactly the \
                      committed sequence up to that index (same digest) (§7)",
    },
    PropertyInfo {
        name: SNAPSHOT_INSTALL_NO_CONFLICT,
        description: "after a node installs a snapshot its log holds no entry that conflicts \
                      with it: an entry kept after lastIncludedIndex was written after an entry \
                      of lastIncludedTerm (Figure 13, rule 6)",
    },
    PropertyInfo {
        name: ELECTION_TIMER_RESET,
        description: "a node re-arms its election timer only on an AppendEntries of its current \
                      term or later, a vote it grants, stepping down as leader, its own \
                      timeout, or a (re)start (§5.2)",
    },
];

/// A client hears only of committed entries, checked on the step that replies.
const ACKNOWLEDGED_COMMITTED: &str = "acknowledged_committed";

/// A leader's commit rests on a majority's stable storage, checked on the committing step.
const COMMITTED_ON_MAJORITY: &str = "committed_on_majority";

/// §5.2's timer-reset rule, checked on the step that re-arms the timer.
const ELECTION_TIMER_RESET: &str = "election_timer_reset";

/// §7: snapshots hold committed state only, checked on the step that takes or installs one.
const SNAPSHOT_COMMITTED: &str = "snapshot_committed";

/// Figure 13 rule 6, checked on the step that installs a snapshot.
const SNAPSHOT_INSTALL_NO_CONFLICT: &str = "snapshot_install_no_conflict";

/// Figure 2's "commitIndex increases monotonically", checked on every step.
const COMMIT_INDEX_MONOTONIC: &str = "commit_index_monotonic";

/// The step-by-step rule of §5.1, checked on the step that receives the message.
const HIGHER_TERM_STEPS_DOWN: &str = "higher_term_steps_down";

const LIVENESS_CONDITIONS: &[PropertyInfo] = &[PropertyInfo {
    name: "leader",
    description: "some up node is leader in term T and a majority of the cluster is up with \
                  currentTerm T",
}];

/// What `before_step` notes for `on_step`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct Before {
    node: NodeId,
    commit_index: LogIndex,
    higher_term: Option<Term>,
    /// The input allows re-arming the election timer whatever the step does: a (re)start,
    /// the election timeout itself, or an AppendEntries of the node's term or later.
    reset_allowed: bool,
    /// The node was leader before the step (stepping down re-arms the timer).
    was_leader: bool,
    /// A RequestVote's sender and term: granting that vote re-arms the timer.
    vote_request: Option<(NodeId, Term)>,
    /// The input, for messages: its kind, sender and term.
    input: (&'static str, Option<NodeId>, Option<Term>),
}

/// What `on_effect` notes during a step for `on_step`.
#[derive(Clone, Copy, Debug, Default, Hash, PartialEq, Eq)]
struct Did {
    /// The step re-armed the election timer.
    armed_election_timer: bool,
    /// The highest index the step told a client is committed.
    acknowledged: Option<LogIndex>,
}

/// An entry as first written at its (index, term), and the term of the entry before it.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct RegisteredEntry<C> {
    entry: Entry<C>,
    previous_term: Term,
    writer: NodeId,
}

/// An entry as first committed at its index.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct CommittedEntry<C> {
    entry: Entry<C>,
    first_committer: NodeId,
    /// The smallest currentTerm of a node when it committed this entry. The entry was
    /// committed by a leader of this term or earlier (a follower learns commits from the
    /// leader of its current term), so every leader of a later term must hold it.
    commit_term: Term,
    /// `snapshot::chain` over the committed entries up to this one; `None` when the ghost
    /// did not see the entry before it committed (only a broken run gets there).
    prefix_digest: Option<u64>,
}

/// A node's log as it last persisted it: the entries after its snapshot's last index.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct DurableLog<C: Clone> {
    snapshot_index: LogIndex,
    log: PersistentVec<Entry<C>>,
}

impl<C: Clone> DurableLog<C> {
    /// The term stored at `index`, or `None` when the snapshot covers it or the log
    /// ends before it.
    fn term_at(&self, index: LogIndex) -> Option<Term> {
        let position = index.checked_sub(self.snapshot_index + 1)?;
        self.log.get(position as usize).map(|entry| entry.term)
    }
}

/// A leader's log as seen after its last step: its length and the term of its last entry.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct LeaderLog {
    term: Term,
    length: LogIndex,
    last_term: Term,
}

/// Ghost state: history that no node holds.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct RaftChecker<C: Clone = u64> {
    /// Every leader ever elected, by term.
    leaders: BTreeMap<Term, NodeId>,
    /// Every entry ever written, by (index, term).
    registry: BTreeMap<(LogIndex, Term), RegisteredEntry<C>>,
    /// Every entry ever committed, by index.
    committed: BTreeMap<LogIndex, CommittedEntry<C>>,
    /// The current leaders' logs after their last step.
    leader_logs: BTreeMap<NodeId, LeaderLog>,
    /// Between `before_step` and `on_step` only: the stepping node, its commit index
    /// before the step, and the term of the message it received when that term is above
    /// its own.
    before: Option<Before>,
    /// Between `before_step` and `on_step` only: what the step did.
    did: Did,
    /// Each node's log as it last persisted it (what a restart recovers): a
    /// `PersistentVec`, so keeping it is O(1) per Persist, not a copy of the log.
    durable_logs: BTreeMap<NodeId, DurableLog<C>>,
    /// Nodes that are Byzantine in this run: not judged (`Checker::set_byzantine`).
    byzantine: BTreeSet<NodeId>,
    /// Honest nodes whose last Persist came in a step the checker then judged without the
    /// node's state (it crashed inside the step, as in Raft's test driver): their durable
    /// log may hold entries no `LogWrite` check saw, so their recovery checks the whole
    /// recovered log. Empty between steps in the simulator and the model checker, which
    /// judge a step on the state it reached; so a restart there re-checks nothing.
    unchecked_durable: BTreeSet<NodeId>,
    /// Every node's snapshot, live and durable, covers this index: `registry` and
    /// `committed` keep nothing below it (`prune_compacted`), so with log compaction the
    /// ghost state stays bounded too. 0 without snapshots.
    compacted: LogIndex,
}

impl<C: Clone> Default for RaftChecker<C> {
    fn default() -> Self {
        RaftChecker {
            leaders: BTreeMap::new(),
            registry: BTreeMap::new(),
            committed: BTreeMap::new(),
            leader_logs: BTreeMap::new(),
            before: None,
            did: Did::default(),
            durable_logs: BTreeMap::new(),
            byzantine: BTreeSet::new(),
            unchecked_durable: BTreeSet::new(),
            compacted: 0,
        }
    }
}

impl<C: MachineCommand> RaftChecker<C> {
    /// Every leader ever elected, by term.
    pub fn leaders(&self) -> &BTreeMap<Term, NodeId> {
        &self.leaders
    }

    /// How many entries the ghost keeps (written, committed): bounded with compaction.
    #[cfg(test)]
    pub fn ghost_entries(&self) -> (usize, usize) {
        (self.registry.len(), self.committed.len())
    }

    /// The highest index known to be committed.
    pub fn committed_index(&self) -> LogIndex {
        self.committed
            .last_key_value()
            .map_or(0, |(&index, _)| index)
    }

    fn check_became_leader(&mut self, stepped: NodeId, term: Term) -> Result<(), Violation> {
        match self.leaders.get(&term) {
            Some(&leader) if leader != stepped => {
                return Err(Violation::new(
                    "election_safety",
                    format!("term {term}: {leader} and {stepped} both became leader"),
                ));
            }
            _ => {}
        }
        self.leaders.insert(term, stepped);
        Ok(())
    }

    fn check_log_write<M: StateMachine<Command = C>>(
        &mut self,
        node: &RaftNode<M>,
        from_index: LogIndex,
        to_index: LogIndex,
        truncated_from: Option<LogIndex>,
    ) -> Result<(), Violation> {
        let id = node.id();
        if let (true, Some(truncated_from)) = (node.is_leader(), truncated_from) {
            return Err(Violation::new(
                "leader_append_only",
                format!(
                    "{id}, leader of term {}, truncated its log from index {truncated_from}",
                    node.current_term()
                ),
            ));
        }
        let to_index = to_index.min(node.last_log_index());
        for index in from_index.max(node.snapshot_index() + 1)..=to_index {
            let entry = node.entry(index).expect("index within the log");
            let previous_term = node.term_at(index - 1);
            let key = (index, entry.term);
            match self.registry.get(&key) {
                None => {
                    let registered = RegisteredEntry {
                        entry: entry.clone(),
                        previous_term,
                        writer: id,
                    };
                    self.registry.insert(key, registered);
                }
                Some(registered) => {
                    if registered.entry != *entry || registered.previous_term != previous_term {
                        return Err(Violation::new(
                            "log_matching",
                            format!(
                                "index {index} term {}: {id} wrote {entry:?} after an entry of term \
                                 {previous_term}, but {} wrote {:?} after an entry of term {}",
                                entry.term,
                                registered.writer,
                                registered.entry,
                                registered.previous_term
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn check_commit<M: StateMachine<Command = C>>(
        &mut self,
        node: &RaftNode<M>,
        index: LogIndex,
        previous_index: LogIndex,
    ) -> Result<(), Violation> {
        let id = node.id();
        // Below the snapshot only with a mutant that lowers commitIndex: the snapshot
        // rules judged that prefix.
        let from = (previous_index + 1).max(node.snapshot_index() + 1);
        let from = self.check_recommits(node, from, index);
        for committed_index in from..=index {
            let Some(entry) = node.entry(committed_index) else {
                return Err(Violation::new(
                    "state_machine_safety",
                    format!(
                        "{id} committed index {committed_index} but its log has only {} entries",
                        node.last_log_index()
                    ),
                ));
            };
            match self.committed.get_mut(&committed_index) {
                None => {
                    let prefix_digest = match committed_index {
                        1 => Some(snapshot::EMPTY_DIGEST),
                        _ => self
                            .committed
                            .get(&(committed_index - 1))
                            .and_then(|before| before.prefix_digest),
                    }
                    .map(|digest| snapshot::chain(digest, entry));
                    let committed = CommittedEntry {
                        entry: entry.clone(),
                        first_committer: id,
                        commit_term: node.current_term(),
                        prefix_digest,
                    };
                    self.committed.insert(committed_index, committed);
                }
                Some(committed) => {
                    if committed.entry != *entry {
                        return Err(Violation::new(
                            "state_machine_safety",
                            format!(
                                "index {committed_index}: {id} committed {entry:?} but {} committed {:?}",
                                committed.first_committer, committed.entry
                            ),
                        ));
                    }
                    committed.commit_term = committed.commit_term.min(node.current_term());
                }
            }
        }
        Ok(())
    }

    /// The first part of `check_commit`'s range `from..=index` that the ghost has seen
    /// committed already (a restarted node relearning its log's commits: the whole log
    /// again, without snapshots), judged in one ordered walk of `committed` instead of a
    /// search per index (or none: `recommit_by_log_matching`): the same comparisons and
    /// `commit_term` updates as the loop in `check_commit`, in the same order, so the same
    /// verdicts. Returns the first index
    /// left to that loop: past the walk, or where it met an index the ghost has not seen
    /// committed, one the node's log does not hold, or a different entry (the loop
    /// reports it).
    fn check_recommits<M: StateMachine<Command = C>>(
        &mut self,
        node: &RaftNode<M>,
        from: LogIndex,
        index: LogIndex,
    ) -> LogIndex {
        let known = self.committed_index().min(index);
        if from > known {
            return from;
        }
        let term = node.current_term();
        if let Some(next) = self.recommit_by_log_matching(node, from, known, term) {
            return next;
        }
        let mut next = from;
        for (&committed_index, committed) in self.committed.range_mut(from..=known) {
            let same =
                committed_index == next && node.entry(committed_index) == Some(&committed.entry);
            if !same {
                break;
            }
            committed.commit_term = committed.commit_term.min(term);
            next += 1;
        }
        next
    }

    /// `check_recommits` in O(1) typically, where its walk would be O(log): a node that
    /// restarted without a snapshot relearns its whole log's commits, and walking them on
    /// every restart made a long run's cost grow with its square. The node's log is
    /// registered entry by entry by now (its writes are observed before its commits, and
    /// a recovered log unchecked since a crash is registered on `Recovered`), and so is
    /// every committed entry (copied from such a log). So when there is no Byzantine node
    /// (whose messages are not judged) and `committed` has no gap, the node's entry at
    /// `known` equal to the committed one means, by Log Matching (the registry holds one
    /// entry and one previous term per (index, term)), that its whole range `from..=known`
    /// equals the committed entries: the walk would find no difference. `commit_term` only grows with the index (whoever commits an index
    /// committed every index below it, in a term no later: the property
    /// `check_leader_completeness_latest` rests on too), so lowering it to `term` touches
    /// a suffix of the range only, walked from its end. `None` where this does not apply:
    /// the walk decides.
    fn recommit_by_log_matching<M: StateMachine<Command = C>>(
        &mut self,
        node: &RaftNode<M>,
        from: LogIndex,
        known: LogIndex,
        term: Term,
    ) -> Option<LogIndex> {
        let first = *self.committed.first_key_value()?.0;
        let gapless = self.committed.len() as u64 == self.committed_index() - first + 1;
        let entry = node.entry(known)?;
        let same_last = self
            .committed
            .get(&known)
            .is_some_and(|last| last.entry == *entry);
        if !(self.byzantine.is_empty() && gapless && from >= first && same_last) {
            return None;
        }
        for (_, committed) in self.committed.range_mut(from..=known).rev() {
            if committed.commit_term <= term {
                break;
            }
            committed.commit_term = term;
        }
        Some(known + 1)
    }

    /// Leader Completeness for `node`, leader of `term`: every entry committed in an
    /// earlier term is in its log.
    fn check_leader_completeness<M: StateMachine<Command = C>>(
        &self,
        node: &RaftNode<M>,
        term: Term,
    ) -> Result<(), Violation> {
        for (&index, committed) in &self.committed {
            if committed.commit_term >= term || Self::holds(node, index, committed) {
                continue;
            }
            return Err(Self::lacks_committed(node, term, index, committed));
        }
        Ok(())
    }

    /// Leader Completeness for `node`, which just became leader of `term`, in O(1)
    /// typically: entries committed before `term` form a prefix of the committed indices
    /// (whoever commits index i has committed every index below it, in a term no later),
    /// so it is enough that the leader holds the last of them: by Log Matching, checked on
    /// every write, the leader's log then equals the committer's up to it. `check_all`
    /// checks every committed entry.
    fn check_leader_completeness_latest<M: StateMachine<Command = C>>(
        &self,
        node: &RaftNode<M>,
        term: Term,
    ) -> Result<(), Violation> {
        let latest = self
            .committed
            .iter()
            .rev()
            .find(|(_, committed)| committed.commit_term < term);
        let Some((&index, committed)) = latest else {
            return Ok(());
        };
        if Self::holds(node, index, committed) {
            return Ok(());
        }
        Err(Self::lacks_committed(node, term, index, committed))
    }

    /// The leader_completeness violation of `node`, leader of `term`, missing `index`.
    fn lacks_committed<M: StateMachine<Command = C>>(
        node: &RaftNode<M>,
        term: Term,
        index: LogIndex,
        committed: &CommittedEntry<C>,
    ) -> Violation {
        let held = match node.entry(index) {
            Some(entry) => format!("{entry:?}"),
            None => format!("only {} entries", node.last_log_index()),
        };
        Violation::new(
            "leader_completeness",
            format!(
                "{} is leader of term {term} but lacks committed index {index} {:?} \
                 (committed by {} in term {}); its log has {held}",
                node.id(),
                committed.entry,
                committed.first_committer,
                committed.commit_term
            ),
        )
    }

    /// Whether `node` holds the committed entry at `index`: in its log, or in its
    /// snapshot (whose content the snapshot rules compared with the committed sequence).
    fn holds<M: StateMachine<Command = C>>(
        node: &RaftNode<M>,
        index: LogIndex,
        committed: &CommittedEntry<C>,
    ) -> bool {
        index <= node.snapshot_index() || node.entry(index) == Some(&committed.entry)
    }

    /// snapshot_committed (and, for an installed one, snapshot_install_no_conflict):
    /// `node` just took or installed its snapshot.
    fn check_snapshot<M: StateMachine<Command = C>>(
        &self,
        node: &RaftNode<M>,
        installed: bool,
    ) -> Result<(), Violation> {
        let Some(taken) = node.snapshot() else {
            return Ok(());
        };
        let index = taken.last_included_index;
        let id = node.id();
        if index > node.commit_index() {
            return Err(Violation::new(
                SNAPSHOT_COMMITTED,
                format!(
                    "{id}'s snapshot covers up to index {index}, beyond its commitIndex {}",
                    node.commit_index()
                ),
            ));
        }
        let Some(committed) = self.committed.get(&index) else {
            return Err(Violation::new(
                SNAPSHOT_COMMITTED,
                format!(
                    "{id}'s snapshot covers up to index {index}, which no node has committed \
                     (committed up to {})",
                    self.committed_index()
                ),
            ));
        };
        let digest_differs = committed
            .prefix_digest
            .is_some_and(|digest| digest != taken.digest);
        if committed.entry.term != taken.last_included_term || digest_differs {
            return Err(Violation::new(
                SNAPSHOT_COMMITTED,
                format!(
                    "{id}'s snapshot up to index {index} (term {}, digest {:016x}) is not the \
                     committed sequence up to it (its last entry {:?} committed by {}, \
                     digest {:016x?})",
                    taken.last_included_term,
                    taken.digest,
                    committed.entry,
                    committed.first_committer,
                    committed.prefix_digest
                ),
            ));
        }
        let Some(kept) = node.entry(index + 1).filter(|_| installed) else {
            return Ok(());
        };
        let written_after = self
            .registry
            .get(&(index + 1, kept.term))
            .map(|registered| registered.previous_term);
        if written_after == Some(taken.last_included_term) {
            return Ok(());
        }
        Err(Violation::new(
            SNAPSHOT_INSTALL_NO_CONFLICT,
            format!(
                "{id} installed a snapshot up to index {index} (term {}) and kept index {} \
                 (term {}), which was written after an entry of term {}",
                taken.last_included_term,
                index + 1,
                kept.term,
                written_after.map_or("unknown".to_string(), |term| term.to_string())
            ),
        ))
    }

    /// Leader Append-Only for a current leader against its log after its previous step.
    fn check_leader_log<M: StateMachine<Command = C>>(
        &self,
        node: &RaftNode<M>,
    ) -> Result<(), Violation> {
        assert!(node.is_leader());
        let Some(before) = self.leader_logs.get(&node.id()) else {
            return Ok(());
        };
        if before.term != node.current_term() {
            return Ok(());
        }
        let intact = node.last_log_index() >= before.length
            && before.length >= node.snapshot_index()
            && node.term_at(before.length) == before.last_term;
        if intact {
            return Ok(());
        }
        Err(Violation::new(
            "leader_append_only",
            format!(
                "{}, leader of term {}, had {} entries ending in term {}; now it has {} ending in term {}",
                node.id(),
                before.term,
                before.length,
                before.last_term,
                node.last_log_index(),
                node.last_log_term()
            ),
        ))
    }

    /// acknowledged_committed: `node` told a client that `index` is committed.
    fn check_acknowledged<M: StateMachine<Command = C>>(
        node: &RaftNode<M>,
        index: LogIndex,
    ) -> Result<(), Violation> {
        if index <= node.commit_index() && index <= node.last_log_index() {
            return Ok(());
        }
        Err(Violation::new(
            ACKNOWLEDGED_COMMITTED,
            format!(
                "{} told a client that index {index} is committed, but its commitIndex is {} \
                 (log of {} entries)",
                node.id(),
                node.commit_index(),
                node.last_log_index()
            ),
        ))
    }

    /// committed_on_majority: leader `node` just committed `previous_index + 1..=index`;
    /// each of those entries must be in the last persisted log of a majority of the
    /// `cluster_size` nodes.
    fn check_committed_on_majority<M: StateMachine<Command = C>>(
        &self,
        node: &RaftNode<M>,
        cluster_size: usize,
        index: LogIndex,
        previous_index: LogIndex,
    ) -> Result<(), Violation> {
        let majority = cluster_size / 2 + 1;
        // A durable snapshot covering the index stores it too (the snapshot rules check
        // that snapshots hold committed entries).
        let stored = |committed: LogIndex, term: Term| {
            self.durable_logs
                .iter()
                .filter(move |(_, durable)| {
                    committed <= durable.snapshot_index || durable.term_at(committed) == Some(term)
                })
                .map(|(&id, _)| id)
        };
        // A leader that restarted commits its whole log at once. Every log the checker
        // holds (the leader's, and each durable one) was registered entry by entry, so by
        // Log Matching a durable log that stores the range's last entry stores every entry
        // before it: when a majority stores the last, the range holds, in O(nodes). Only
        // when some log was not registered (a Byzantine node's, or one persisted in a step
        // the checker judged without the node's state) or the last entry misses a
        // majority are the entries counted one by one, for the same first violation.
        let registered = self.byzantine.is_empty() && self.unchecked_durable.is_empty();
        if let (true, Some(last)) = (registered && index > previous_index, node.entry(index)) {
            if stored(index, last.term).count() >= majority {
                return Ok(());
            }
        }
        for committed in previous_index + 1..=index {
            let Some(entry) = node.entry(committed) else {
                continue; // state_machine_safety reports a commit past the log.
            };
            let stored: Vec<NodeId> = stored(committed, entry.term).collect();
            if stored.len() < majority {
                return Err(Violation::new(
                    COMMITTED_ON_MAJORITY,
                    format!(
                        "{}, leader of term {}, committed index {committed} (term {}) but only \
                         {stored:?} have it on stable storage, fewer than a majority of \
                         {cluster_size}",
                        node.id(),
                        node.current_term(),
                        entry.term
                    ),
                ));
            }
        }
        Ok(())
    }

    /// election_timer_reset: `node` re-armed its election timer in the step `before`
    /// describes.
    fn check_timer_reset<M: StateMachine<Command = C>>(
        node: &RaftNode<M>,
        before: &Before,
    ) -> Result<(), Violation> {
        let stepped_down = before.was_leader && !node.is_leader();
        let granted = before.vote_request.is_some_and(|(from, term)| {
            node.current_term() == term && node.voted_for() == Some(from)
        });
        if before.reset_allowed || stepped_down || granted {
            return Ok(());
        }
        let (kind, from, term) = before.input;
        let from = from.map_or(String::new(), |from| format!(" from {from}"));
        let term = term.map_or(String::new(), |term| format!(" of term {term}"));
        Err(Violation::new(
            ELECTION_TIMER_RESET,
            format!(
                "{}, {} of term {}, re-armed its election timer on {kind}{term}{from}, \
                 which is neither its current leader's AppendEntries nor a vote it granted",
                node.id(),
                node.role_kind().name(),
                node.current_term()
            ),
        ))
    }

    /// Forget the ghost entries below the lowest snapshot of any node, live or durable.
    /// No node holds an entry there any more, or can again (a node writes, commits and
    /// snapshots only above its own snapshot, and recovers its durable one), so no check
    /// reads them; the committed entry at that index stays, as the digest new snapshots
    /// are compared with.
    fn prune_compacted<M: StateMachine<Command = C>>(&mut self, nodes: NodesView<'_, RaftNode<M>>) {
        let durable = |id: NodeId| {
            self.durable_logs
                .get(&id)
                .map_or(0, |log| log.snapshot_index)
        };
        let lowest = (0..nodes.len())
            .map(|position| {
                let id = NodeId(position as u32);
                let live = nodes[position]
                    .as_ref()
                    .map_or(LogIndex::MAX, |node| node.snapshot_index());
                live.min(durable(id))
            })
            .min()
            .unwrap_or(0);
        if lowest <= self.compacted {
            return;
        }
        self.compacted = lowest;
        self.committed = self.committed.split_off(&lowest);
        self.registry = self.registry.split_off(&(lowest + 1, 0));
    }

    fn record_leader_log<M: StateMachine<Command = C>>(&mut self, node: &RaftNode<M>) {
        if node.is_leader() {
            let log = LeaderLog {
                term: node.current_term(),
                length: node.last_log_index(),
                last_term: node.last_log_term(),
            };
            self.leader_logs.insert(node.id(), log);
        } else {
            self.leader_logs.remove(&node.id());
        }
    }
}

impl<M: StateMachine> Checker<RaftNode<M>> for RaftChecker<M::Command> {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn set_byzantine(&mut self, byzantine: &[NodeId]) {
        self.byzantine = byzantine.iter().copied().collect();
    }

    fn before_step(
        &mut self,
        nodes: NodesView<'_, RaftNode<M>>,
        stepped: NodeId,
        input: &Input<RaftNode<M>>,
    ) {
        assert!(
            self.before.is_none(),
            "on_step clears what before_step noted"
        );
        let Some(node) = nodes.get(stepped.index()).and_then(Option::as_ref) else {
            return;
        };
        let higher_term = match input {
            Input::Message { msg, .. } if msg.term() > node.current_term() => Some(msg.term()),
            _ => None,
        };
        let reset_allowed = match input {
            Input::Init | Input::Restart | Input::Timer(RaftTimer::Election) => true,
            Input::Message {
                msg: RaftMsg::AppendEntries { term, .. } | RaftMsg::InstallSnapshot { term, .. },
                ..
            } => *term >= node.current_term(),
            _ => false,
        };
        let vote_request = match input {
            Input::Message {
                from,
                msg: RaftMsg::RequestVote { term, .. },
            } => Some((*from, *term)),
            _ => None,
        };
        let input = match input {
            Input::Message { from, msg } => {
                (sim_core::Message::kind(msg), Some(*from), Some(msg.term()))
            }
            Input::Timer(timer) => (sim_core::TimerName::kind(timer), None, None),
            Input::Init => ("init", None, None),
            Input::Restart => ("restart", None, None),
            Input::Client { .. } => ("client_request", None, None),
        };
        self.before = Some(Before {
            node: stepped,
            commit_index: node.commit_index(),
            higher_term,
            reset_allowed,
            was_leader: node.is_leader(),
            vote_request,
            input,
        });
    }

    fn on_effect(&mut self, stepped: NodeId, effect: &Effect<RaftNode<M>>) {
        match effect {
            Effect::SetTimer {
                timer: RaftTimer::Election,
                ..
            } => self.did.armed_election_timer = true,
            Effect::Reply {
                reply: RaftReply::Committed { index, .. },
                ..
            } => {
                self.did.acknowledged = Some(self.did.acknowledged.unwrap_or(0).max(*index));
            }
            Effect::Persist(durable) => {
                if !self.byzantine.contains(&stepped) {
                    self.unchecked_durable.insert(stepped);
                }
                let log = DurableLog {
                    snapshot_index: durable.snapshot_index(),
                    log: durable.log.clone(),
                };
                self.durable_logs.insert(stepped, log);
            }
            _ => {}
        }
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, RaftNode<M>>,
        stepped: NodeId,
        observations: &[RaftObs],
    ) -> Result<(), Violation> {
        let before = self.before.take();
        let did = std::mem::take(&mut self.did);
        if self.byzantine.contains(&stepped) {
            return Ok(());
        }
        if let (Some(before), Some(node)) =
            (before, nodes.get(stepped.index()).and_then(Option::as_ref))
        {
            assert!(
                before.node == stepped,
                "before_step and on_step name the same node"
            );
            if node.commit_index() < before.commit_index {
                return Err(Violation::new(
                    COMMIT_INDEX_MONOTONIC,
                    format!(
                        "{stepped}'s commitIndex went from {} down to {} in one step",
                        before.commit_index,
                        node.commit_index()
                    ),
                ));
            }
        }
        if let (
            Some(Before {
                higher_term: Some(term),
                ..
            }),
            Some(node),
        ) = (before, nodes.get(stepped.index()).and_then(Option::as_ref))
        {
            if node.current_term() != term || node.role_kind() != super::Role::Follower {
                return Err(Violation::new(
                    HIGHER_TERM_STEPS_DOWN,
                    format!(
                        "{stepped} received a message of term {term} and is a {} of term {} \
                         after the step, not a follower of term {term}",
                        node.role_kind().name(),
                        node.current_term()
                    ),
                ));
            }
        }
        let Some(node) = nodes.get(stepped.index()).and_then(Option::as_ref) else {
            // Crashed within its step: only what needs no state can be checked.
            for observation in observations {
                if let RaftObs::BecameLeader { term } = observation {
                    self.check_became_leader(stepped, *term)?;
                }
            }
            self.leader_logs.remove(&stepped);
            return Ok(());
        };
        assert!(node.id() == stepped, "nodes view out of order");
        for observation in observations {
            match *observation {
                RaftObs::BecameCandidate { .. } | RaftObs::BecameFollower { .. } => {}
                RaftObs::Recovered { last_log_index, .. } => {
                    // The recovered log is the last one persisted, checked on the step that
                    // persisted it, unless that step was judged without the node's state:
                    // then the whole log, as the write may have been cut short by the crash.
                    if self.unchecked_durable.contains(&stepped) {
                        self.check_log_write(node, 1, last_log_index, None)?;
                    }
                    self.check_snapshot(node, false)?;
                }
                RaftObs::SnapshotTaken { .. } => self.check_snapshot(node, false)?,
                RaftObs::SnapshotInstalled { .. } => self.check_snapshot(node, true)?,
                RaftObs::BecameLeader { term } => {
                    self.check_became_leader(stepped, term)?;
                    self.check_leader_completeness_latest(node, term)?;
                    self.leader_logs.remove(&stepped);
                }
                RaftObs::LogWrite {
                    from_index,
                    to_index,
                    truncated_from,
                } => {
                    self.check_log_write(node, from_index, to_index, truncated_from)?;
                }
                RaftObs::Commit {
                    index,
                    previous_index,
                } => {
                    self.check_commit(node, index, previous_index)?;
                }
            }
        }
        // Every entry the node persisted this step is in its log, and checked above.
        self.unchecked_durable.remove(&stepped);
        if node.is_leader() {
            self.check_leader_log(node)?;
        }
        self.record_leader_log(node);
        if let Some(index) = did.acknowledged {
            Self::check_acknowledged(node, index)?;
        }
        if node.is_leader() {
            for observation in observations {
                if let RaftObs::Commit {
                    index,
                    previous_index,
                } = *observation
                {
                    self.check_committed_on_majority(node, nodes.len(), index, previous_index)?;
                }
            }
        }
        if let (true, Some(before)) = (did.armed_election_timer, before) {
            Self::check_timer_reset(node, &before)?;
        }
        self.prune_compacted(nodes);
        Ok(())
    }

    fn check_all(&self, nodes: NodesView<'_, RaftNode<M>>) -> Result<(), Violation> {
        let up: Vec<&RaftNode<M>> = nodes
            .iter()
            .flatten()
            .filter(|node| !self.byzantine.contains(&node.id()))
            .collect();

        // election_safety: one leader per term, now and in the ghost history.
        for (position, node) in up.iter().enumerate() {
            if !node.is_leader() {
                continue;
            }
            let term = node.current_term();
            if let Some(other) = up[position + 1..]
                .iter()
                .find(|other| other.is_leader() && other.current_term() == term)
            {
                return Err(Violation::new(
                    "election_safety",
                    format!(
                        "term {term}: {} and {} are both leader",
                        node.id(),
                        other.id()
                    ),
                ));
            }
            if let Some(&leader) = self.leaders.get(&term) {
                if leader != node.id() {
                    return Err(Violation::new(
                        "election_safety",
                        format!("term {term}: {leader} and {} both became leader", node.id()),
                    ));
                }
            }
        }

        // log_matching, pairwise: find the highest index where both logs hold the same
        // term, then compare the prefixes up to it.
        for (position, a) in up.iter().enumerate() {
            for b in &up[position + 1..] {
                // Compacted prefixes are compared by the snapshot rules.
                let floor = a.snapshot_index().max(b.snapshot_index());
                let mut index = a.last_log_index().min(b.last_log_index());
                while index > floor && a.term_at(index) != b.term_at(index) {
                    index -= 1;
                }
                if let Some(differs) = (floor + 1..=index).find(|&i| a.entry(i) != b.entry(i)) {
                    return Err(Violation::new(
                        "log_matching",
                        format!(
                            "{} and {} agree on index {index} term {} but differ at index {differs}: {:?} vs {:?}",
                            a.id(),
                            b.id(),
                            a.term_at(index),
                            a.entry(differs),
                            b.entry(differs)
                        ),
                    ));
                }
            }
        }

        // leader_append_only and leader_completeness for every current leader.
        for node in up.iter().filter(|node| node.is_leader()) {
            self.check_leader_log(node)?;
            self.check_leader_completeness(node, node.current_term())?;
        }

        // state_machine_safety: committed prefixes agree with the ghost and with each other.
        for (position, a) in up.iter().enumerate() {
            let a_committed = a.commit_index().min(a.last_log_index());
            for index in a.snapshot_index() + 1..=a_committed {
                let entry = a.entry(index).expect("within the log");
                if let Some(committed) = self.committed.get(&index) {
                    if committed.entry != *entry {
                        return Err(Violation::new(
                            "state_machine_safety",
                            format!(
                                "index {index}: {} committed {entry:?} but {} committed {:?}",
                                a.id(),
                                committed.first_committer,
                                committed.entry
                            ),
                        ));
                    }
                }
            }
            for b in &up[position + 1..] {
                let both = a_committed.min(b.commit_index().min(b.last_log_index()));
                let floor = a.snapshot_index().max(b.snapshot_index());
                for index in floor + 1..=both {
                    if a.entry(index) != b.entry(index) {
                        return Err(Violation::new(
                            "state_machine_safety",
                            format!(
                                "index {index}: {} committed {:?} but {} committed {:?}",
                                a.id(),
                                a.entry(index),
                                b.id(),
                                b.entry(index)
                            ),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn ghost_items(&self) -> u64 {
        (self.registry.len() + self.committed.len()) as u64
    }

    fn liveness_conditions() -> &'static [PropertyInfo] {
        LIVENESS_CONDITIONS
    }

    fn liveness_holds(&self, name: &str, nodes: NodesView<'_, RaftNode<M>>) -> Option<bool> {
        if name != "leader" {
            return None;
        }
        let majority = nodes.len() / 2 + 1;
        let up: Vec<&RaftNode<M>> = nodes
            .iter()
            .flatten()
            .filter(|node| !self.byzantine.contains(&node.id()))
            .collect();
        let holds = up.iter().filter(|node| node.is_leader()).any(|leader| {
            let term = leader.current_term();
            up.iter().filter(|node| node.current_term() == term).count() >= majority
        });
        Some(holds)
    }
}
