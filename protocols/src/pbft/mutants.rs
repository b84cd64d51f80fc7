//! PBFT's mutants: each a rule of Castro and Liskov (OSDI 1999) broken on purpose,
//! declared once with its name and description (`sim_core::mutants!`).

sim_core::mutants! {
    /// One deliberately broken variant of PBFT, selected with `--mutant NAME`.
    pub enum PbftMutant {
        /// A request counts as prepared with 2f matching votes instead of 2f + 1.
        PrepareQuorum2f => "prepare-quorum-2f", safety,
            "a replica counts a request prepared once the pre-prepare and prepares from 2f \
             replicas in all match (2f votes, not 2f + 1, §4.2), so two prepared quorums \
             no longer share an honest replica and a faulty primary gets two requests \
             prepared, and committed, at one sequence number.",
        /// A replica sends commit as soon as it accepts a pre-prepare.
        CommitWithoutPrepared => "commit-without-prepared", safety,
            "a replica multicasts its commit when it accepts a pre-prepare, without \
             waiting for the prepared certificate (§4.2: commit follows prepared), so an \
             equivocating primary's two requests can both gather 2f + 1 commits.",
        /// The new primary ignores the prepared certificates in view-change messages.
        NewViewIgnoresPrepared => "new-view-ignores-prepared", safety,
            "the new primary fills every sequence number above the stable checkpoint with \
             fresh requests instead of re-proposing the requests prepared certificates in \
             the view-change messages carry (§4.4), so a request committed in the old view \
             loses its sequence number in the new one.",
        /// A backup accepts a pre-prepare from any replica.
        AcceptPrePrepareFromAnyone => "pre-prepare-from-non-primary", safety,
            "a backup accepts a pre-prepare without checking that its sender is the \
             primary of the view (§4.2), so any faulty replica can assign sequence numbers.",
        /// The client accepts the first reply.
        ClientAcceptsFirstReply => "client-accepts-first-reply", safety,
            "the client accepts the first reply it gets instead of waiting for f + 1 \
             matching ones from different replicas (§4.1), so one faulty replica's lie \
             becomes the result.",
        /// A replica garbage-collects at its own checkpoint before it is stable.
        GcUnstableCheckpoint => "gc-unstable-checkpoint", safety,
            "a replica treats its own checkpoint as stable before 2f + 1 replicas confirm \
             it (§4.3) and discards its log below it, so the view-change message it sends \
             claims a stable checkpoint no quorum holds, and the new view starts above \
             requests the other replicas never executed.",
        /// A view-change carries only the certificates prepared in the current view.
        ForgetOldCertificates => "forget-old-certificates", safety,
            "a replica's view-change carries only the requests prepared in the view it was \
             last active in, because entering a view clears its log (§4.4 keeps the latest \
             certificate per sequence number across views), so a request committed in view \
             v, re-proposed in v + 1 and not prepared again before the next view change, \
             loses its sequence number in view v + 2. quorumlab's own PBFT had this bug \
             until TLC found it (tla/MCPBFTCurrentViewCerts.cfg).",
    }
}
