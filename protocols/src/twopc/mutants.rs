//! Two-phase commit's mutants: bugs real transaction managers shipped, each caught by a
//! scenario in `scenarios/twopc/mutants/`.

sim_core::mutants! {
    /// Broken variants of two-phase commit.
    pub enum Mutant {
        /// The decision record is written behind the decision messages.
        CommitBeforePersist => "commit-before-persist", safety,
            "the coordinator sends its decision before the decision is durable (it is \
             written only when the first acknowledgement arrives), so a crash in between \
             makes the recovered coordinator presume abort after a participant committed",
        /// Unilateral abort in the uncertainty window.
        AbortAfterYesTimeout => "abort-after-yes-timeout", safety,
            "a participant that voted yes aborts on its own when the decision is slow to \
             come, although the coordinator may already have decided commit",
        /// A quorum where unanimity is needed.
        MajorityCommit => "majority-commit", safety,
            "the coordinator commits once a majority of participants voted yes, without \
             waiting for every vote",
        /// Recovery that does not read the log.
        RedecideOnRecovery => "redecide-on-recovery", safety,
            "a recovering coordinator decides afresh (presumed abort) instead of reading \
             the decision it logged before the crash",
    }
}
