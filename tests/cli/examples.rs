//! The documentation's own examples: every `quorumlab ...` command in README.md's shell
//! blocks and in the `Examples:` of every `--help` is either run here, in order, on a
//! fresh copy of the scenarios (so `runs/` and `sweeps/` start empty), and must exit
//! with the code the documentation implies, or is listed as not run here with the
//! reason. A new example that is in neither list fails the test, so the docs cannot go
//! stale unnoticed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::{quorumlab, root, stdout, temp_dir};

/// Run in this order (later ones read what earlier ones wrote), with their exit codes.
const RUN: &[(&str, i32)] = &[
    ("quorumlab list protocols", 0),
    ("quorumlab list mutants --json", 0),
    ("quorumlab list invariants", 0),
    ("quorumlab run scenarios/raft/nemesis.toml --seed 7", 0),
    // Every Raft file over 100 seeds (about 7 s): exit 0 means each file's `expect` held.
    ("quorumlab sweep scenarios/raft/*.toml --seeds 1..100 --jobs 2 --out sweeps/ci", 0),
    ("quorumlab replay runs/nemesis-seed7", 0),
    ("quorumlab replay runs/nemesis-seed7 --from 100 --to 140", 0),
    ("quorumlab report runs/nemesis-seed7", 0),
    ("quorumlab run scenarios/raft/nemesis.toml --seed 7 --trace", 0),
    (
        "quorumlab report runs/nemesis-seed7 --shiviz /tmp/nemesis-seed7.shiviz.log",
        0,
    ),
    ("quorumlab run scenarios/raft/nemesis.toml --seed 42", 0),
    (
        "quorumlab run scenarios/raft/election.toml --seed 3 --mutant fixed-election-timeout --trace --out /tmp/run",
        1,
    ),
    (
        "quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..200 --mutant vote-ignores-log --fail-fast",
        1,
    ),
    (
        "quorumlab replay sweeps/nemesis/nemesis/seed-4 --from 2000 --to 2100",
        0,
    ),
    ("quorumlab report sweeps/nemesis --out /tmp/sweep.html", 0),
    (
        "quorumlab run scenarios/raft/nemesis.toml --seed 4 --mutant vote-ignores-log",
        1,
    ),
    ("quorumlab shrink runs/nemesis-seed4", 0),
    (
        "quorumlab shrink sweeps/nemesis/nemesis/seed-4 --max-attempts 2000 --out /tmp/minimal.toml",
        0,
    ),
    (
        "quorumlab shrink runs/nemesis-seed4 --budget-seconds 60 --json",
        0,
    ),
    ("quorumlab test scenarios/raft/figure8.toml", 0),
    (
        "quorumlab check scenarios/raft/check3.toml --mutant volatile-voted-for",
        1,
    ),
    ("quorumlab run scenarios/kv/basic.toml --seed 3", 0),
    ("quorumlab lincheck runs/basic-seed3/history.json", 0),
];

/// Not run here, and why (each is covered elsewhere or needs what a test cannot have).
const NOT_RUN: &[(&str, &str)] = &[
    ("quorumlab bench long-runs", "runs of up to 3,600 s of simulated time (about a minute); the README shows its figures"),
    ("cargo run --release -- sweep scenarios/raft/nemesis.toml --seeds 1..1000", "the main job: 1,000 seeds take minutes on CI's 2 cores; tests/cli/determinism.rs pins its sweep hash"),
    ("quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..1000", "the main job (above)"),
    ("cargo test --workspace --release", "this is that command"),
    ("quorumlab sweep scenarios/raft/*.toml --seeds 1..200 --junit junit.xml --markdown $GITHUB_STEP_SUMMARY", "a CI template ($GITHUB_STEP_SUMMARY); the same sweep runs above with 100 seeds; junit/markdown are tested in commands.rs"),
    ("quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..100000 --shard 3/8", "12,500 seeds; shards are tested in commands.rs (merge)"),
    ("quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..500 --swarm --fail-fast", "500 seeds; swarm runs in scenarios and determinism tests"),
    ("quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..200000 --resume", "resume is tested by tests/cli/resume.rs"),
    ("cargo run --release -- sweep scenarios/raft/nemesis.toml --seeds 1..200000", "resume is tested by tests/cli/resume.rs"),
    ("cargo run --release -- sweep scenarios/raft/nemesis.toml --seeds 1..200000 --resume", "resume is tested by tests/cli/resume.rs"),
    ("quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..100000 --shard ${{ matrix.shard }}/8 --out sweep-${{ matrix.shard }}", "a CI template"),
    ("quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..100000 --shard $((JOB_COMPLETION_INDEX + 1))/8 --out /results/sweep-$JOB_COMPLETION_INDEX", "a Kubernetes template"),
    ("quorumlab sweep scenarios/raft/nemesis.toml --seeds 1..100000 --shard $SLURM_ARRAY_TASK_ID/8 --out sweep-$SLURM_ARRAY_TASK_ID", "a Slurm template"),
    ("quorumlab merge sweep-1 sweep-2 sweep-3 sweep-4 sweep-5 sweep-6 sweep-7 sweep-8 --out summary.json", "needs the eight shards above; merge is tested in commands.rs"),
    ("quorumlab merge sweep-1 sweep-2 sweep-3 sweep-4 --out sweeps/all/summary.json", "needs shards; merge is tested in commands.rs"),
    ("quorumlab test scenarios/", "every scenario: tests/scenarios/main.rs runs each"),
    ("quorumlab test", "every scenario: tests/scenarios/main.rs runs each"),
    ("quorumlab test scenarios/raft --json", "every Raft scenario: tests/scenarios/main.rs runs each"),
    ("quorumlab run scenarios/raft/nemesis.toml --json | jq .verdict", "a pipe into jq"),
    ("quorumlab check scenarios/raft/check3.toml", "141,118 states; tests/cli/check.rs pins it"),
    ("quorumlab check scenarios/raft/check3.toml --dfs --threads 2 --json", "141,118 states; tests/cli/check.rs"),
    ("quorumlab check scenarios/raft/check3.toml --max-states 100000", "100,000 states; tests/cli/check.rs"),
    ("quorumlab check scenarios/raft/check3.toml --serve 127.0.0.1:3000", "a server that runs until stopped"),
    ("quorumlab check scenarios/raft/check_deep.toml --mutant unbounded-leader-commit", "a deep model check: tests/cli/check.rs"),
    ("quorumlab check scenarios/raft/check_deep.toml --walks 2000 --seed 7", "a deep model check: tests/cli/check.rs"),
    ("quorumlab lincheck ../shared/histories/porcupine/jepsen/etcd_*.log", "the public histories (QUORUMLAB_REQUIRE=histories): commands.rs"),
    ("quorumlab lincheck history.edn --model cas-register --json", "a placeholder file name"),
    ("quorumlab bench lincheck --histories ../shared/histories --rounds 10", "the public histories: commands.rs"),
    ("quorumlab bench", "timing; benchmarks are not tests"),
    ("quorumlab bench lincheck", "timing, on the public histories: commands.rs runs it once"),
    ("quorumlab bench shrink --max-attempts 5000", "timing; shrinking is tested in tests/cli/shrink.rs"),
    ("quorumlab bench --json", "timing; benchmarks are not tests"),
    ("quorumlab tlc", "Java and TLC: tla/validate's tests (QUORUMLAB_REQUIRE=java,tlc)"),
    ("quorumlab tlc tla/MCRaftVolatileVote.cfg", "Java and TLC: tla/validate's tests"),
    ("quorumlab tlc tla/ --json", "Java and TLC: tla/validate's tests"),
    ("quorumlab tlc tla/MCPBFT.cfg", "Java and TLC: tla/validate/src/spec_models.rs"),
    ("quorumlab tlc tla/MCPBFTTight.cfg", "Java and TLC: tla/validate/src/spec_models.rs"),
    ("quorumlab tlc tla/MCPBFTPrepareQuorum2f.cfg", "Java and TLC: tla/validate/src/spec_models.rs"),
    ("quorumlab tlc tla/MCPaxos.cfg", "Java and TLC: tla/validate/src/spec_models.rs"),
    ("quorumlab tlc tla/MCPaxosVolatilePromise.cfg", "Java and TLC: tla/validate/src/spec_models.rs"),
    ("quorumlab tlc --validate-trace /tmp/run", "Java and TLC: tests/cli/trace_validate.rs"),
    ("quorumlab sweep scenarios/raft/trace_validate.toml --seeds 1..100 --validate-trace 5", "Java and TLC: tests/cli/trace_validate.rs runs sweeps with --validate-trace"),
    ("quorumlab run scenarios/raft/trace_validate.toml --seed 1 --trace --out /tmp/run", "with its validation: tests/cli/trace_validate.rs"),
    ("quorumlab tlc --validate-trace /tmp/bad", "Java and TLC: tests/cli/trace_validate.rs"),
    ("quorumlab run scenarios/raft/trace_validate.toml --seed 1 --mutant volatile-voted-for --trace --out /tmp/bad", "with its validation: tests/cli/trace_validate.rs"),
    ("quorumlab run scenarios/paxos/nemesis.toml --seed 1 --trace --out /tmp/paxos", "with its validation: tests/cli/trace_validate.rs"),
    ("quorumlab tlc --validate-trace /tmp/paxos", "Java and TLC: tests/cli/trace_validate.rs"),
    ("quorumlab run scenarios/paxos/mutants/propose-own-value.toml --seed 1 --trace --out /tmp/own", "with its validation: tests/cli/trace_validate.rs"),
    ("quorumlab tlc --validate-trace /tmp/own", "Java and TLC: tests/cli/trace_validate.rs"),
    ("cargo run --release -- schema --protocol raft > scenarios/raft/scenario.schema.json", "writes into the repository; `schema --protocol raft` runs here"),
    ("quorumlab schema > scenario.schema.json", "a redirect; `schema` runs here"),
    ("quorumlab schema --protocol raft > raft.schema.json", "a redirect; `schema --protocol raft` runs here"),
    ("cargo run --release -p outside-protocol -- list protocols", "tests/outside-protocol's own tests"),
    ("cargo run --release -p outside-protocol -- sweep tests/outside-protocol/scenarios/gossip.toml --seeds 1..200", "tests/outside-protocol's own tests"),
    ("cargo run --release -p outside-protocol -- sweep tests/outside-protocol/scenarios/gossip.toml --seeds 1..50 --mutant adopt-any", "tests/outside-protocol's own tests"),
];

/// A documented command line without its trailing comment.
fn command_of(line: &str) -> Option<String> {
    let line = line.trim();
    let line = line.split("  #").next().unwrap_or(line).trim();
    let line = line.split(" #").next().unwrap_or(line).trim();
    (line.starts_with("quorumlab ") || line == "quorumlab" || line.starts_with("cargo "))
        .then(|| line.to_string())
}

/// Every example command: README.md's `sh` blocks, and the `Examples:` of every help.
fn documented() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut in_sh = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            continue;
        }
        if in_sh {
            found.extend(command_of(line));
        }
    }
    let mut helps = vec![stdout(&quorumlab(&["--help"]))];
    for command in [
        "run", "sweep", "replay", "report", "test", "list", "check", "lincheck", "schema", "merge",
        "shrink", "tlc", "bench",
    ] {
        helps.push(stdout(&quorumlab(&[command, "--help"])));
    }
    for help in helps {
        for line in help.lines().filter(|line| line.starts_with("  quorumlab")) {
            found.extend(command_of(line));
        }
    }
    found
}

#[test]
fn every_documented_example_runs_with_its_exit_code_or_says_why_not() {
    let documented = documented();
    let listed: BTreeSet<String> = RUN
        .iter()
        .map(|(command, _)| command.to_string())
        .chain(NOT_RUN.iter().map(|(command, _)| command.to_string()))
        .collect();
    let unlisted: Vec<&String> = documented.difference(&listed).collect();
    assert!(
        unlisted.is_empty(),
        "examples in the docs that this test neither runs nor explains: {unlisted:#?}"
    );
    let stale: Vec<&String> = listed.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "listed here but not in the docs: {stale:#?}"
    );

    // A fresh copy: the scenarios only, so runs/ and sweeps/ start empty.
    let dir = temp_dir("examples");
    copy_dir(&root().join("scenarios"), &dir.join("scenarios"));
    let scratch = dir.join("tmp");
    std::fs::create_dir_all(&scratch).unwrap();
    for (command, expected) in RUN {
        // Absolute /tmp paths go to this test's own scratch folder.
        let command = command.replace("/tmp/", &format!("{}/", scratch.display()));
        let args: Vec<String> = command
            .split_whitespace()
            .skip(1)
            .flat_map(|arg| expand_glob(&dir, arg))
            .collect();
        let output = Command::new(env!("CARGO_BIN_EXE_quorumlab"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("the binary runs");
        assert_eq!(
            output.status.code(),
            Some(*expected),
            "`{command}` exited {:?}, the docs imply {expected}:\n{}\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `arg` as a shell would expand it in `dir`: `DIR/*SUFFIX` becomes the matching files,
/// sorted; any other argument stays as it is.
fn expand_glob(dir: &Path, arg: &str) -> Vec<String> {
    let Some((folder, suffix)) = arg.split_once("/*") else {
        return vec![arg.to_string()];
    };
    let mut matches: Vec<String> = std::fs::read_dir(dir.join(folder))
        .unwrap_or_else(|error| panic!("`{arg}`: {error}"))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(suffix))
        .map(|name| format!("{folder}/{name}"))
        .collect();
    matches.sort();
    assert!(!matches.is_empty(), "`{arg}` matches no file");
    matches
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
