//! quorumlab's protocols: pure step functions, their invariants and their mutants.
//! Each protocol lives in its own folder and implements `sim_core::Protocol`; the
//! registry below is the only list of them the CLI knows.
//!
//! Architecture invariant: nothing here reads time, randomness, the network or the disk.
//! A protocol sees only its inputs and writes only its effects.

pub mod kv;
pub mod pingpong;
pub mod raft;

use sim_core::runner::ProtocolEntry;

/// Every protocol, as `quorumlab list protocols` shows them.
pub fn registry() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry::of::<raft::Raft>(
            "Raft consensus (Ongaro & Ousterhout 2014): elections, log replication, commit",
        ),
        ProtocolEntry::of::<kv::Kv>(
            "a linearizable key-value store (get, put, append, cas) on Raft, with client \
             sessions; every run's history is checked for linearizability",
        ),
        ProtocolEntry::of::<pingpong::PingPong>(
            "tokens passed around a ring: the simulator's own benchmark and test protocol",
        ),
    ]
}
