//! `quorumlab`: the command line with the bundled protocols (`quorumlab::cli::main`).

fn main() {
    quorumlab::cli::main(Vec::new())
}
