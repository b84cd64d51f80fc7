//! The failure detector's mutants: bugs real heartbeat detectors shipped, each caught by a
//! scenario in `scenarios/fd/mutants/`.

sim_core::mutants! {
    /// Broken variants of the heartbeat failure detector.
    pub enum Mutant {
        /// The timeout is a constant.
        FixedTimeout => "fixed-timeout", liveness,
            "a false suspicion never lengthens the peer's timeout (a fixed timeout, as in \
             many hand-rolled keep-alive loops), so once the network's delay bound exceeds \
             it, correct nodes are suspected again and again, after GST too",
        /// Recovery forgets the heartbeat timer.
        NoRearmAfterRestart => "no-rearm-after-restart", liveness,
            "a restarted node recovers its incarnation and watches its peers but never \
             re-arms its own heartbeat timer (only the first start does), so every peer \
             suspects it for ever although it is up",
        /// Suspicions with a time to live.
        ExpiringSuspicion => "expiring-suspicion", liveness,
            "a suspicion expires after the peer's timeout and the peer is trusted again \
             without any heartbeat (an entry with a TTL in a suspect list), so a crashed \
             node is not suspected permanently",
        /// The membership list includes the node itself.
        SuspectSelf => "suspect-self", safety,
            "a node watches every member of the cluster, itself included, and since it \
             never hears its own heartbeat it ends up suspecting itself",
        /// An optimistic timeout that shrinks back.
        TimeoutReset => "timeout-reset", safety,
            "a timely heartbeat resets the peer's timeout to its initial value, undoing \
             what false suspicions taught (the adaptation is forgotten at once)",
    }
}
