//! Single-decree Paxos's mutants: each is a bug real Paxos implementations shipped or
//! that the paper's proof rules out, caught by a scenario in `scenarios/paxos/mutants/`.

sim_core::mutants! {
    /// Broken variants of single-decree Paxos.
    pub enum Mutant {
        /// Phase 1b without the write: the promise lives only in memory.
        VolatilePromise => "volatile-promise", safety,
            "an acceptor replies to a prepare without persisting its promise, so after a \
             crash it accepts a lower ballot it had promised to ignore (the fsync-less \
             acceptor)",
        /// Phase 2a ignores what phase 1b reported.
        ProposeOwnValue => "propose-own-value", safety,
            "a proposer sends its own value in phase 2 instead of the value of the \
             highest-ballot acceptance its promises reported",
        /// Phase 2a on a minority.
        MinorityPromises => "minority-promises", safety,
            "a proposer starts phase 2 with one promise fewer than a majority",
        /// `>` where `>=` is needed, in the acceptor's phase 2b check.
        StrictAcceptBallot => "strict-accept-ballot", liveness,
            "an acceptor accepts only ballots strictly above its promise (`>` where `>=` \
             is needed), so the ballot it promised is never accepted and nothing is chosen",
    }
}
