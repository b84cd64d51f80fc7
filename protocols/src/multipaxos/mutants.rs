//! Multi-Paxos's mutants: bugs of the bug classes real Multi-Paxos implementations
//! shipped, each caught by a scenario in `scenarios/multipaxos/mutants/`.

sim_core::mutants! {
    /// Broken variants of Multi-Paxos.
    pub enum MultiPaxosMutant {
        /// Phase 1 only for the slots the new leader has itself seen.
        SkipPhase1Unseen => "skip-phase1-unseen", safety,
            "a new leader takes phase 1's reports only for slots its own acceptor has \
             seen, and assigns new commands from the end of its own log, so a command \
             chosen in a slot it never saw is overwritten (the takeover bug of leaders \
             that treat their own log as the cluster's)",
        /// A new leader leaves the holes in the log unfilled.
        NoGapFill => "no-gap-fill", liveness,
            "a new leader re-proposes the slots phase 1 reported but leaves the slots \
             nobody reported empty instead of filling them with no-ops, so execution, \
             which is in slot order, stops at the first hole for ever",
        /// Phase 2b without the write.
        VolatileAccept => "volatile-accept", safety,
            "an acceptor answers an accept without persisting it, so a crash makes it \
             forget a value that counted towards a majority, and a later leader's phase 1 \
             may not see the chosen value (the fsync-less acceptor)",
        /// The leader executes and answers on its own acceptance.
        ReplyBeforeChosen => "reply-before-chosen", safety,
            "the leader counts a slot chosen on its own acceptance, so it executes it and \
             answers the client before a majority accepted it",
    }
}
