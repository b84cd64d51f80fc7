//! Raft's mutants: deliberately broken variants, each a bug that real Raft implementations
//! have shipped or that the Raft paper (Ongaro & Ousterhout 2014) warns against. Declared
//! once, with their names and descriptions (`sim_core::mutants!`).
//!
//! The correct protocol is `RaftConfig::mutant == None`. Each mutant changes exactly one
//! spot of `mod.rs`, guarded by `out.mutant(Mutant::X)`, so reading the guard shows the
//! bug next to the rule it breaks. The `kv` service's own mutants are declared in
//! `kv/mutants.rs`.

sim_core::mutants! {
    /// One deliberately broken variant of Raft, selected with `--mutant NAME`.
    pub enum Mutant {
        /// currentTerm and votedFor are not persisted (Figure 2 "persistent state").
        VolatileVotedFor => "volatile-voted-for", safety,
            "currentTerm and votedFor live only in memory: after a restart a node \
                      can vote twice in one term, so two leaders can be elected in a term \
                      (Figure 2 requires them on stable storage before replying).",
        /// A candidate counts vote-granted messages, not distinct voters (§5.2).
        CountDuplicateVotes => "count-duplicate-votes", safety,
            "a candidate counts vote-granted messages instead of distinct voters, so \
                      a duplicated network message can stand in for a missing voter and elect \
                      a leader without a majority (§5.2).",
        /// No term check on RequestVote and AppendEntries responses (§5.1).
        AcceptStaleReplies => "accept-stale-replies", safety,
            "RequestVote and AppendEntries responses from older terms are not \
                      discarded, so an old vote counts in a new election and an old \
                      acknowledgement raises matchIndex (§5.1: drop stale-term replies).",
        /// Votes are granted without the up-to-date log check (§5.4.1).
        VoteIgnoresLog => "vote-ignores-log", safety,
            "votes are granted without the up-to-date log check, so a candidate \
                      missing committed entries can win and overwrite them (§5.4.1).",
        /// A leader commits an entry of an earlier term by counting replicas (§5.4.2, Figure 8).
        CommitPriorTerm => "commit-prior-term", safety,
            "a leader commits an entry from an earlier term as soon as a majority \
                      stores it, which a later leader may still overwrite (the Figure 8 \
                      scenario of §5.4.2).",
        /// A follower truncates after prevLogIndex on every AppendEntries (§5.3, rule 3).
        TruncateOnAnyAppend => "truncate-on-any-append", safety,
            "a follower deletes everything after prevLogIndex on every \
                      AppendEntries, even when the entries match, so a stale reordered \
                      AppendEntries deletes acknowledged entries (§5.3 rule 3: truncate \
                      only on a conflict).",
        /// A leader sets matchIndex to its own last log index on success (§5.3).
        MatchIndexFromLogLen => "match-index-from-log-len", safety,
            "on a successful AppendEntries reply the leader sets matchIndex to its \
                      own last log index rather than to what the follower acknowledged, so \
                      it commits entries the follower never stored (§5.3).",
        /// A follower sets commitIndex = leaderCommit without the min() (Figure 2, rule 5).
        UnboundedLeaderCommit => "unbounded-leader-commit", safety,
            "a follower sets commitIndex to leaderCommit without taking the min \
                      with the index of the last new entry, so it commits stale entries \
                      the leader never verified (Figure 2, AppendEntries rule 5).",
        /// A follower's commitIndex follows leaderCommit down (Figure 2: it only grows).
        CommitIndexRegresses => "commit-index-regresses", safety,
            "a follower sets commitIndex to min(leaderCommit, index of last new entry) even \
             when that is below its commitIndex, so a stale or reordered AppendEntries \
             un-commits entries it already applied and reported (Figure 2: commitIndex \
             increases monotonically)",
        /// A reply with a higher term is dropped, not adopted (§5.1).
        IgnoreHigherTermReplies => "ignore-higher-term-replies", safety,
            "a RequestVote or AppendEntries reply that carries a higher term is dropped \
             instead of adopted, so a deposed leader or a stale candidate goes on in its old \
             term (§5.1: any RPC, request or response, with a higher term makes the receiver \
             step down)",
        /// A vote or an AppendEntries success is sent before the Persist it depends on.
        ReplyBeforePersist => "reply-before-persist", safety,
            "a granted vote or an AppendEntries success is sent before the Persist of the \
             same step (the vote, the new term, the appended entries), so a crash between \
             the two leaves a promise nothing on disk remembers: a restarted voter votes \
             again in the term, a leader counts entries a restarted follower lost \
             (Figure 2: respond to RPCs only after updating stable storage)",
        /// A node applies and acknowledges one entry beyond commitIndex (§5.3).
        ApplyBeyondCommit => "apply-beyond-commit", safety,
            "on every commit a node applies one entry more than commitIndex allows, and a \
             leader answers that entry's client, so a client hears of an entry a new leader \
             may still overwrite (§5.3: apply only committed entries)",
        /// The leader's commit rule counts one node short of a majority (§5.3).
        QuorumOffByOne => "quorum-off-by-one", safety,
            "the leader commits an entry once n/2 nodes (itself included) store it, one \
             short of a majority (`>= n/2` for `> n/2`), so a committed entry can be \
             missing from every node of the next leader's quorum (§5.3)",
        /// A stale leader's AppendEntries resets a follower's election timer (§5.2).
        ResetTimerOnStaleAppend => "reset-timer-on-stale-append", safety,
            "a node re-arms its election timer on an AppendEntries of an older term, so a \
             deposed leader that can still send (a one-way partition) keeps the cluster from \
             electing anyone (§5.2: only the current leader's AppendEntries, or a vote \
             granted, resets the timer)",
        /// A snapshot covers log entries beyond commitIndex (§7).
        SnapshotUncommitted => "snapshot-uncommitted", safety,
            "when a node compacts its log it applies and snapshots every entry it holds, \
             committed or not, so its state machine (and any follower that installs the \
             snapshot) holds entries a new leader may still overwrite (§7: a snapshot covers \
             only committed entries)",
        /// A follower keeps log entries that conflict with a snapshot it installs (§7).
        KeepConflictingAfterInstall => "keep-conflicting-after-install", safety,
            "a follower that installs a snapshot keeps the entries of its log after the \
             snapshot's last index even when its entry at that index has another term, so \
             it keeps entries that follow a different history than the snapshot's \
             (Figure 13 rule 6: retain the entries after the snapshot only if the log holds \
             its last entry with its term; otherwise discard the entire log)",
        /// The election timeout is not randomised (§5.2): split votes repeat forever.
        FixedElectionTimeout => "fixed-election-timeout", liveness,
            "the election timeout is a fixed delay rather than a random range, so \
                      candidates that start together split the vote again and again (§5.2).",
        /// A follower learns leaderCommit only from an AppendEntries with entries (Figure 2).
        CommitOnlyWithEntries => "commit-only-with-entries", liveness,
            "a follower takes leaderCommit only from an AppendEntries that carries entries, \
             so a heartbeat never tells it what is committed: once the workload pauses, the \
             followers never apply the last commands the leader applied and answered \
             (Figure 2: rule 5 holds for every AppendEntries, heartbeats included)",
        /// A follower commits what it appends, without waiting for leaderCommit (Figure 2).
        FollowerCommitsOnAppend => "follower-commits-on-append", safety,
            "a follower commits every entry as soon as it appends it, taking the leader's \
             sending it as proof it is committed, so a follower beside a stale leader cut \
             off in a minority commits (and applies) entries no majority stores (Figure 2: \
             a follower commits only up to leaderCommit)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::MutantSet;

    #[test]
    fn names_round_trip_and_are_unique() {
        for (position, (mutant, info)) in Mutant::ALL.iter().enumerate() {
            assert_eq!(Mutant::from_name(info.name), Some(*mutant));
            assert_eq!(mutant.name(), info.name);
            let duplicates = Mutant::ALL[position + 1..]
                .iter()
                .filter(|(_, other)| other.name == info.name);
            assert_eq!(duplicates.count(), 0, "duplicate mutant name {}", info.name);
        }
        assert_eq!(Mutant::ALL.len(), 19);
        assert_eq!(Mutant::from_name("no-such-mutant"), None);
        let liveness: Vec<&str> = Mutant::ALL
            .iter()
            .filter(|(_, info)| info.liveness)
            .map(|(_, info)| info.name)
            .collect();
        assert_eq!(
            liveness,
            ["fixed-election-timeout", "commit-only-with-entries"]
        );
    }
}
