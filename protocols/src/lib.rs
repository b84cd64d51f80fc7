//! quorumlab's protocols: pure step functions, their invariants and their mutants.
//! Each protocol lives in its own folder and implements `sim_core::Protocol`; the
//! registry below is the only list of them the CLI knows.
//!
//! Architecture invariant: nothing here reads time, randomness, the network or the disk.
//! A protocol sees only its inputs and writes only its effects.

pub mod fd;
pub mod kv;
pub mod lease;
pub mod multipaxos;
pub mod paxos;
pub mod pbft;
pub mod pingpong;
pub mod primarybackup;
pub mod raft;
pub mod twopc;

use sim_core::runner::ProtocolEntry;

/// Every bundled protocol, as `quorumlab list protocols` shows them. Adding a protocol is
/// its folder plus one line here.
pub fn registry() -> Vec<ProtocolEntry> {
    vec![
        ProtocolEntry::new(raft::registration()),
        ProtocolEntry::new(kv::registration()),
        ProtocolEntry::new(pingpong::registration()),
        ProtocolEntry::new(pbft::registration()),
        ProtocolEntry::new(paxos::registration()),
        ProtocolEntry::new(twopc::registration()),
        ProtocolEntry::new(multipaxos::registration()),
        ProtocolEntry::new(primarybackup::registration()),
        ProtocolEntry::new(fd::registration()),
        ProtocolEntry::new(lease::registration()),
    ]
}
