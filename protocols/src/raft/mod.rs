//! Raft: lands with the Raft implementation.
