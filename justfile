# Shortcuts for the common commands. Nothing requires `just`: each recipe is the plain
# cargo command shown.

# One seed of a scenario: just run scenarios/raft/nemesis.toml 7
run scenario="scenarios/raft/nemesis.toml" seed="1":
    cargo run --release -- run {{scenario}} --seed {{seed}}

# The main job: a fault-injection sweep.
sweep scenario="scenarios/raft/nemesis.toml" seeds="1..1000":
    cargo run --release -- sweep {{scenario}} --seeds {{seeds}}

# An HTML report of a run or sweep directory: just report runs/nemesis-seed1
report dir:
    cargo run --release -- report {{dir}}

# Every test (the README's test command).
test:
    cargo test --workspace --release

# Simulator speed: bare loop vs Raft, seeds/s.
bench:
    cargo run --release -- bench

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
