//! quorumlab's protocols: pure step functions, their invariants and their mutants.
//! Each protocol lives in its own folder and implements `sim_core::Protocol`.

pub mod raft;
