//! The lock service's mutants: bugs real lock services and their users shipped, each
//! caught by a scenario in `scenarios/lease/mutants/`.

sim_core::mutants! {
    /// Broken variants of the lease lock service.
    pub enum Mutant {
        /// The storage trusts whoever writes.
        NoFencing => "no-fencing", safety,
            "the storage accepts every write whatever its fencing token, so a client that \
             was paused (or whose clock ran slow) past its lease writes after the next \
             holder did (Kleppmann, \"How to do distributed locking\", 2016: the HBase \
             GC-pause corruption)",
        /// The server's lease is shorter than the client's.
        EarlyGrant => "early-grant", safety,
            "a server grants the lock to another client once half the current lease has \
             passed by its clock, as when servers and clients are configured with \
             different lease durations",
        /// The fencing counter lives in memory only.
        TokenNotPersisted => "token-not-persisted", safety,
            "a server keeps its highest fencing token and its lease in memory only, so \
             after a restart it hands out tokens it already gave (token reuse after a \
             server restart)",
    }
}
