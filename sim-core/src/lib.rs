//! sim-core: quorumlab's deterministic simulator. It knows no protocol: protocols
//! implement [`protocol::Protocol`] and everything else (network, faults, checking,
//! traces, sweeps) comes from here.
//!
//! Architecture invariant: nothing in this crate reads the wall clock, an OS-seeded RNG,
//! or iterates a hash-ordered collection. Every run is a function of (scenario, seed).

pub mod adversary;
pub mod byzantine;
#[cfg(feature = "check")]
pub mod check;
#[cfg(feature = "check")]
pub mod check_byzantine;
#[cfg(feature = "check")]
pub mod check_clock;
pub mod endpoints;
pub mod faults;
pub mod hash;
pub mod interpret;
pub mod lincheck;
pub mod meter;
pub mod network;
pub mod panics;
pub mod persistent;
pub mod protocol;
pub mod registration;
pub mod result;
pub mod rng;
pub mod run_checks;
pub mod runner;
pub mod scenario;
pub mod selectors;
pub mod shrink;
pub mod sim;
pub mod stats;
pub mod sweep;
pub mod tape;
pub mod trace;
pub mod trace_delta;
#[cfg(feature = "check")]
pub mod walks;

pub use interpret::{EffectSink, Stepped};
pub use protocol::*;
pub use registration::{MutantSet, Registration, RoleInfo, Setup};
