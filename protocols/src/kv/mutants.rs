//! The `kv` service's mutants: bugs of the service on top of Raft (client sessions, reads,
//! replies), declared once with their names and descriptions (`sim_core::mutants!`).
//! Two of them live on Raft's request path, which asks the machine whether to take the
//! buggy shortcut (`StateMachine::reads_locally_without_quorum`,
//! `StateMachine::replies_before_commit`); the third is in the machine's `apply`.

sim_core::mutants! {
    /// One deliberately broken variant of the kv service, selected with `--mutant NAME`.
    pub enum KvMutant {
        /// kv: any node answers a read from its applied state, with no quorum check.
        StaleRead => "stale-read", safety,
            "any node, leader or follower, answers a get from the state it has \
                      applied, without a log round or a quorum check (Raft thesis §6.4: a \
                      leader must confirm it is still leader before serving a read), so a \
                      read can miss a write that completed before it began.",
        /// kv: the state machine keeps no per-client dedupe table.
        NoDedupe => "no-dedupe", safety,
            "the state machine keeps no per-client table of the last applied \
                      request, so a request retried after a lost reply is applied twice \
                      (thesis §6.3: linearizable semantics need client sessions).",
        /// kv: the leader answers when the entry is appended, before it commits.
        ReplyBeforeCommit => "reply-before-commit", safety,
            "the leader answers a client once the entry is in its own log, before a \
                      majority stores it, so a leader that loses its uncommitted tail has \
                      acknowledged writes that never take effect (§5.3: reply after \
                      applying a committed entry).",
    }
}
