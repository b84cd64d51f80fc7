//! An outside crate's `quorumlab`: the bundled protocols plus its own (`gossip-max`), with
//! every command (`run`, `sweep`, `test`, `check`, `shrink`, `report`, `list`, `schema`).
//!
//! `cargo run -p outside-protocol -- sweep tests/outside-protocol/scenarios/gossip.toml --seeds 1..50`

mod gossip;

fn main() {
    quorumlab::cli::main(vec![sim_core::runner::ProtocolEntry::new(
        gossip::registration(),
    )])
}
