//! Log compaction by snapshots (Ongaro & Ousterhout 2014, §7; the classic lab's part D).
//!
//! With `snapshot_every = N > 0`, a node whose state machine has applied N entries past its
//! last snapshot replaces that applied prefix of its log with a `Snapshot`: the machine's
//! state (for kv, the data *and* the client sessions that deduplicate retries), the index
//! and term of the last entry it covers, and a digest of the entries it covers. The
//! snapshot and the log after it are what a node persists and recovers from. A leader whose
//! follower needs an entry the leader has compacted sends its snapshot (InstallSnapshot).
//!
//! The digest chains every applied entry (`chain`), so two snapshots of the same index
//! have the same digest exactly when they cover the same entries (up to 64-bit hash
//! collisions): the checker compares it with the digest of the committed sequence it has
//! seen, which is how State Machine Safety reaches across compacted prefixes.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::Serialize;
use sim_core::hash::TraceHasher;

use super::{Entry, LogIndex, Term};

/// The digest of the empty prefix.
pub const EMPTY_DIGEST: u64 = 0;

/// The digest of a prefix extended by `entry`: a chain, so it names the whole sequence.
pub fn chain<Command: Hash>(digest: u64, entry: &Entry<Command>) -> u64 {
    let mut hasher = TraceHasher::default();
    digest.hash(&mut hasher);
    entry.hash(&mut hasher);
    hasher.finish()
}

/// A state-machine snapshot (§7, Figure 12): the machine after applying entries
/// `1..=last_included_index`. The machine is shared (`Arc`), so persisting a snapshot or
/// sending it is O(1); traces show its index, term and digest, not the machine.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Snapshot<M> {
    pub last_included_index: LogIndex,
    pub last_included_term: Term,
    /// `chain` over the entries `1..=last_included_index`.
    pub digest: u64,
    #[serde(skip)]
    pub machine: Arc<M>,
}
