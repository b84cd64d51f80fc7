//! Raft's mutants: deliberately broken variants, each a bug that real Raft implementations
//! have shipped or that the Raft paper (Ongaro & Ousterhout 2014) warns against.
//!
//! The correct protocol is `RaftConfig::mutant == None`. Each mutant changes exactly one
//! spot of `mod.rs`, guarded by `config.mutant == Some(Mutant::X)`, so reading the guard
//! shows the bug next to the rule it breaks.

use sim_core::MutantInfo;

/// One deliberately broken variant of Raft, selected with `--mutant NAME`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mutant {
    /// currentTerm and votedFor are not persisted (Figure 2 "persistent state").
    VolatileVotedFor,
    /// A candidate counts vote-granted messages, not distinct voters (§5.2).
    CountDuplicateVotes,
    /// No term check on RequestVote and AppendEntries responses (§5.1).
    AcceptStaleReplies,
    /// Votes are granted without the up-to-date log check (§5.4.1).
    VoteIgnoresLog,
    /// A leader commits an entry of an earlier term by counting replicas (§5.4.2, Figure 8).
    CommitPriorTerm,
    /// A follower truncates after prevLogIndex on every AppendEntries (§5.3, rule 3).
    TruncateOnAnyAppend,
    /// A leader sets matchIndex to its own last log index on success (§5.3).
    MatchIndexFromLogLen,
    /// A follower sets commitIndex = leaderCommit without the min() (Figure 2, rule 5).
    UnboundedLeaderCommit,
    /// The election timeout is not randomised (§5.2): split votes repeat forever.
    FixedElectionTimeout,
    /// kv: any node answers a read from its applied state, with no quorum check.
    StaleRead,
    /// kv: the state machine keeps no per-client dedupe table.
    NoDedupe,
    /// kv: the leader answers when the entry is appended, before it commits.
    ReplyBeforeCommit,
}

/// Every mutant, in the order of `Mutant`'s variants.
pub const MUTANTS: &[MutantInfo] = &[
    MutantInfo {
        name: "volatile-voted-for",
        description: "currentTerm and votedFor live only in memory: after a restart a node \
                      can vote twice in one term, so two leaders can be elected in a term \
                      (Figure 2 requires them on stable storage before replying).",
        liveness: false,
    },
    MutantInfo {
        name: "count-duplicate-votes",
        description: "a candidate counts vote-granted messages instead of distinct voters, so \
                      a duplicated network message can stand in for a missing voter and elect \
                      a leader without a majority (§5.2).",
        liveness: false,
    },
    MutantInfo {
        name: "accept-stale-replies",
        description: "RequestVote and AppendEntries responses from older terms are not \
                      discarded, so an old vote counts in a new election and an old \
                      acknowledgement raises matchIndex (§5.1: drop stale-term replies).",
        liveness: false,
    },
    MutantInfo {
        name: "vote-ignores-log",
        description: "votes are granted without the up-to-date log check, so a candidate \
                      missing committed entries can win and overwrite them (§5.4.1).",
        liveness: false,
    },
    MutantInfo {
        name: "commit-prior-term",
        description: "a leader commits an entry from an earlier term as soon as a majority \
                      stores it, which a later leader may still overwrite (the Figure 8 \
                      scenario of §5.4.2).",
        liveness: false,
    },
    MutantInfo {
        name: "truncate-on-any-append",
        description: "a follower deletes everything after prevLogIndex on every \
                      AppendEntries, even when the entries match, so a stale reordered \
                      AppendEntries deletes acknowledged entries (§5.3 rule 3: truncate \
                      only on a conflict).",
        liveness: false,
    },
    MutantInfo {
        name: "match-index-from-log-len",
        description: "on a successful AppendEntries reply the leader sets matchIndex to its \
                      own last log index rather than to what the follower acknowledged, so \
                      it commits entries the follower never stored (§5.3).",
        liveness: false,
    },
    MutantInfo {
        name: "unbounded-leader-commit",
        description: "a follower sets commitIndex to leaderCommit without taking the min \
                      with the index of the last new entry, so it commits stale entries \
                      the leader never verified (Figure 2, AppendEntries rule 5).",
        liveness: false,
    },
    MutantInfo {
        name: "fixed-election-timeout",
        description: "the election timeout is a fixed delay rather than a random range, so \
                      candidates that start together split the vote again and again (§5.2).",
        liveness: true,
    },
];

/// The `kv` protocol's mutants: bugs of the service on top of Raft (client sessions,
/// reads, replies), in the order of `Mutant::KV`.
pub const KV_MUTANTS: &[MutantInfo] = &[
    MutantInfo {
        name: "stale-read",
        description: "any node, leader or follower, answers a get from the state it has \
                      applied, without a log round or a quorum check (Raft thesis §6.4: a \
                      leader must confirm it is still leader before serving a read), so a \
                      read can miss a write that completed before it began.",
        liveness: false,
    },
    MutantInfo {
        name: "no-dedupe",
        description: "the state machine keeps no per-client table of the last applied \
                      request, so a request retried after a lost reply is applied twice \
                      (thesis §6.3: linearizable semantics need client sessions).",
        liveness: false,
    },
    MutantInfo {
        name: "reply-before-commit",
        description: "the leader answers a client once the entry is in its own log, before a \
                      majority stores it, so a leader that loses its uncommitted tail has \
                      acknowledged writes that never take effect (§5.3: reply after \
                      applying a committed entry).",
        liveness: false,
    },
];

impl Mutant {
    /// The `kv` protocol's mutants, in the order of `KV_MUTANTS`.
    pub const KV: [Mutant; 3] = [
        Mutant::StaleRead,
        Mutant::NoDedupe,
        Mutant::ReplyBeforeCommit,
    ];

    /// Every Raft mutant, in the order of `MUTANTS`.
    pub const ALL: [Mutant; 9] = [
        Mutant::VolatileVotedFor,
        Mutant::CountDuplicateVotes,
        Mutant::AcceptStaleReplies,
        Mutant::VoteIgnoresLog,
        Mutant::CommitPriorTerm,
        Mutant::TruncateOnAnyAppend,
        Mutant::MatchIndexFromLogLen,
        Mutant::UnboundedLeaderCommit,
        Mutant::FixedElectionTimeout,
    ];

    /// The name used on the command line and in scenario files.
    pub fn name(self) -> &'static str {
        if let Some(position) = Mutant::ALL.iter().position(|&mutant| mutant == self) {
            return MUTANTS[position].name;
        }
        let position = Mutant::KV.iter().position(|&mutant| mutant == self);
        let position = position.expect("every mutant is in Mutant::ALL or Mutant::KV");
        KV_MUTANTS[position].name
    }

    /// The mutant called `name` (Raft's or kv's), or `None` when no mutant has that name.
    pub fn from_name(name: &str) -> Option<Mutant> {
        if let Some(position) = MUTANTS.iter().position(|info| info.name == name) {
            return Some(Mutant::ALL[position]);
        }
        let position = KV_MUTANTS.iter().position(|info| info.name == name)?;
        Some(Mutant::KV[position])
    }

    /// Every mutant's name, comma separated, for error messages.
    pub fn known_names() -> String {
        let names: Vec<&str> = MUTANTS.iter().map(|info| info.name).collect();
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        assert_eq!(Mutant::ALL.len(), MUTANTS.len());
        assert_eq!(Mutant::KV.len(), KV_MUTANTS.len());
        for mutant in Mutant::ALL.into_iter().chain(Mutant::KV) {
            assert_eq!(Mutant::from_name(mutant.name()), Some(mutant));
        }
        let every: Vec<MutantInfo> = MUTANTS.iter().chain(KV_MUTANTS).copied().collect();
        for (position, info) in every.iter().enumerate() {
            let duplicates = every[position + 1..]
                .iter()
                .filter(|other| other.name == info.name);
            assert_eq!(duplicates.count(), 0, "duplicate mutant name {}", info.name);
        }
        assert_eq!(Mutant::from_name("no-such-mutant"), None);
        let liveness: Vec<&str> = MUTANTS
            .iter()
            .filter(|info| info.liveness)
            .map(|info| info.name)
            .collect();
        assert_eq!(liveness, ["fixed-election-timeout"]);
    }
}
