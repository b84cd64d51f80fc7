//! sim-core: quorumlab's deterministic simulator. It knows no protocol: protocols
//! implement [`protocol::Protocol`] and everything else (network, faults, checking,
//! traces) comes from here.

pub mod lincheck;
pub mod params;
pub mod protocol;

pub use params::Params;
pub use protocol::*;
