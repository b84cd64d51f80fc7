//! `[[checks]]` during a run, `expect_seeds`, and `sweep` honouring `expect`: each check
//! shown to fail where it should (the bundled mutant files show `leader`,
//! `no_leader_in_minority` and `no_commit_in_minority`; these show the rest).

use std::path::Path;

use sim_core::result::RunResult;
use sim_core::scenario::Scenario;

use crate::{quorumlab, root, stdout, temp_dir};

fn run(scenario: &Scenario, mutant: Option<&str>, seed: u64) -> RunResult {
    quorumlab::commands::prepare_scenario(scenario, mutant, false)
        .expect("valid")
        .run(seed, false)
        .result
}

fn with_extra(relative: &str, extra: &str) -> Scenario {
    let path = root().join(relative);
    let source = std::fs::read_to_string(&path).unwrap();
    Scenario::parse(&path, format!("{source}\n{extra}\n")).expect("valid")
}

#[test]
fn an_idle_message_bound_fails_a_chatty_heartbeat() {
    let chatty = with_extra(
        "scenarios/raft/lab/rpc_counts.toml",
        "[params]\nheartbeat_ms = 5",
    );
    let result = run(&chatty, None, 1);
    assert_eq!(
        result.property.as_deref(),
        Some("checks.election_rpcs"),
        "{result:?}"
    );
    assert!(result.detail.unwrap().contains("at most 50 allowed"));
    // The same bound over the idle second only: it fails there, at once.
    let source = std::fs::read_to_string(root().join("scenarios/raft/lab/rpc_counts.toml"))
        .unwrap()
        .replace("max = 50", "max = 500")
        .replace("max = 70", "max = 700")
        .replace("max = 80", "max = 800")
        .replace("max = 6000", "max = 60000");
    let idle = Scenario::parse(
        Path::new("idle.toml"),
        format!("{source}\n[params]\nheartbeat_ms = 5\n"),
    )
    .unwrap();
    let result = run(&idle, None, 1);
    assert_eq!(
        result.property.as_deref(),
        Some("checks.idle_rpcs"),
        "{result:?}"
    );
    assert!(result.time_us >= 2_500_000 && result.time_us < 3_500_000);
}

#[test]
fn a_minimum_bound_fails_when_too_little_is_sent() {
    // The idle second sends about 80 messages; a minimum of 100 is judged, and fails,
    // when the window closes at 3.5 s.
    let source = std::fs::read_to_string(root().join("scenarios/raft/lab/rpc_counts.toml"))
        .unwrap()
        .replace("min = 60", "min = 100");
    let demanding = Scenario::parse(Path::new("demanding.toml"), source).unwrap();
    let result = run(&demanding, None, 1);
    assert_eq!(
        result.property.as_deref(),
        Some("checks.idle_messages"),
        "{result:?}"
    );
    assert!(result.detail.unwrap().contains("at least 100 expected"));
    // Judged at the first event after the window closes.
    assert!(
        (3_500_000..3_600_000).contains(&result.time_us),
        "{}",
        result.time_us
    );
}

#[test]
fn op_latency_fails_when_no_leader_commits() {
    let scenario = Scenario::load(&root().join("scenarios/raft/lab/rpc_counts.toml")).unwrap();
    let result = run(&scenario, Some("fixed-election-timeout"), 1);
    assert_eq!(
        result.property.as_deref(),
        Some("checks.op_latency"),
        "{result:?}"
    );
    let detail = result.detail.unwrap();
    assert!(detail.contains("invoked at 1000000 us"), "{detail}");
    assert!((1_200_000..1_300_000).contains(&result.time_us));
}

#[test]
fn a_run_without_checks_is_unchanged_by_them() {
    // election.toml's checks hold on seed 7, so its pinned trace hash is that of the run
    // without them.
    let path = root().join("scenarios/raft/election.toml");
    let source = std::fs::read_to_string(&path).unwrap();
    let without = source[..source.find("[[checks]]").unwrap()].to_string();
    let with = Scenario::load(&path).unwrap();
    let without = Scenario::parse(&path, without).unwrap();
    assert!(without.file.checks.is_empty() && !with.file.checks.is_empty());
    assert_eq!(
        run(&with, None, 7).trace_hash,
        run(&without, None, 7).trace_hash
    );
}

#[test]
fn sweep_honours_expect_any_and_all() {
    let out = temp_dir("sweep-expect");
    let out_text = out.display().to_string();
    // A mutant file expecting its property: the sweep holds it and exits 0.
    let output = quorumlab(&[
        "sweep",
        "scenarios/raft/mutants/fixed-election-timeout-during-run.toml",
        "--seeds",
        "1..4",
        "--out",
        &out_text,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("4 of 4 seeds show it: held"));
    // A file whose mutant is not caught at seed 1, swept over seed 1 alone: no seed
    // shows it, so the expectation does not hold and the sweep fails.
    let output = quorumlab(&[
        "sweep",
        "scenarios/raft/mutants/quorum-off-by-one-minority.toml",
        "--seeds",
        "1..1",
        "--out",
        &out_text,
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("0 of 1 seeds show it: NOT held"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn expect_seeds_all_needs_every_seed() {
    // quorum-off-by-one is caught on most seeds but not all (1 and 6 commit nothing on 2
    // of 5): "any" holds, "all" does not, and says which seed got away.
    let path = root().join("scenarios/raft/mutants/quorum-off-by-one-minority.toml");
    let source = std::fs::read_to_string(&path).unwrap();
    let all = Scenario::parse(
        &path,
        source.replace("seeds = 30", "seeds = 30\nexpect_seeds = \"all\""),
    )
    .unwrap();
    let outcome = quorumlab::testing::check_expectation(&all, 2).unwrap();
    assert!(!outcome.held);
    assert!(outcome.problem.unwrap().contains("every seed must violate"));
    let any = Scenario::parse(&path, source).unwrap();
    assert!(quorumlab::testing::check_expectation(&any, 2).unwrap().held);
}

#[test]
fn command_everywhere_fails_at_the_first_command_a_follower_never_applies() {
    let path = root().join("scenarios/raft/lab/commands_everywhere.toml");
    let scenario = Scenario::load(&path).unwrap();
    let result = run(&scenario, Some("commit-only-with-entries"), 1);
    assert_eq!(
        result.property.as_deref(),
        Some("checks.command_everywhere"),
        "{result:?}"
    );
    assert_eq!(result.verdict, sim_core::result::Verdict::Liveness);
    let detail = result.detail.unwrap();
    assert!(
        detail.starts_with("client 0's request 1, invoked at ")
            && detail.contains("applied at index 1 (first by n1)")
            && detail.contains("was not applied by {n0, n2, n3, n4}"),
        "{detail}"
    );
    // Judged at the first event past the deadline: 250 ms after the invocation.
    let invoked: u64 = detail["client 0's request 1, invoked at ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((invoked + 250_000..invoked + 300_000).contains(&result.time_us));
    // The correct protocol keeps it on every seed of the file, crashed follower included.
    assert!(!run(&scenario, None, 1).verdict.is_failure());
}

#[test]
fn command_everywhere_is_refused_where_it_cannot_be_judged() {
    let load = |protocol: &str, check: &str| {
        let text = format!(
            "protocol = \"{protocol}\"\nnodes = 4\nduration_ms = 1000\n\
             [workload]\nclients = 1\n[[checks]]\nkind = \"command_everywhere\"\n{check}\n"
        );
        let scenario = Scenario::parse(Path::new("x.toml"), text).map_err(|e| e.to_string())?;
        quorumlab::commands::prepare_scenario(&scenario, None, false)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let error = load("pbft", "within_ms = 100").unwrap_err();
    assert!(
        error.contains("checks[0].kind") && error.contains("exposes none"),
        "{error}"
    );
    let error = load("raft", "within_ms = 0").unwrap_err();
    assert!(error.contains("checks[0].within_ms"), "{error}");
    let error = load("raft", "within_ms = 100\nnodes = \"most\"").unwrap_err();
    assert!(
        error.contains("nodes") && error.contains("connected"),
        "{error}"
    );
    assert!(load("kv", "within_ms = 100\nnodes = \"all\"").is_ok());
}

#[test]
fn a_messages_check_counts_client_requests_only_when_asked() {
    // rpc_counts.toml counts [1 s, 2 s) twice, without and with the client's messages;
    // an unreachable minimum makes each report its count.
    let source =
        std::fs::read_to_string(root().join("scenarios/raft/lab/rpc_counts.toml")).unwrap();
    let counted = |name: &str, bounds: &str| {
        let kept = source
            .replace(&format!("name = \"{name}\""), "name = \"judged\"")
            .replace(bounds, "min = 1000\nmax = 2000");
        let scenario = Scenario::parse(Path::new("counts.toml"), kept).unwrap();
        let result = run(&scenario, None, 1);
        let detail = result.detail.unwrap_or_default();
        assert_eq!(
            result.property.as_deref(),
            Some("checks.judged"),
            "{detail}"
        );
        detail.split(' ').next().unwrap().parse::<u64>().unwrap()
    };
    let nodes_only = counted("agreement_rpcs", "min = 20\nmax = 70");
    let with_clients = counted("agreement_rpcs_with_clients", "min = 30\nmax = 80");
    // Ten operations: at least ten requests (their replies count nothing as RPCs).
    assert!(
        with_clients >= nodes_only + 10,
        "{nodes_only} vs {with_clients}"
    );
    // And only with clients on the network.
    let table = source.find("\n[clients]").unwrap() + 1;
    let table_end = table + source[table..].find("\n\n").unwrap();
    let outside = format!("{}{}", &source[..table], &source[table_end..]);
    let error = Scenario::parse(Path::new("counts.toml"), outside)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(".clients`") && error.contains("with a [clients] table"),
        "{error}"
    );
}
