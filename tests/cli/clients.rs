//! Clients on the network, node selectors, the labs' nemesis kinds and reordering: each
//! shown to matter (a test that would fail without the feature), and their bad input
//! refused with file, line, field and fix.

use sim_core::faults::FaultAction;
use sim_core::result::RunOutput;
use sim_core::scenario::Scenario;

use crate::{inline, quorumlab, scenario_path, stderr, temp_dir};

fn run(scenario: &Scenario, seed: u64) -> RunOutput {
    sim_core::panics::install_quiet_hook();
    quorumlab::commands::prepare_scenario(scenario, None, false)
        .expect("valid")
        .run(seed, true)
}

fn trace_events(output: &RunOutput) -> Vec<serde_json::Value> {
    output
        .trace
        .as_ref()
        .expect("traced")
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

const PARTITION_US: u64 = 500_000;
const HEAL_US: u64 = 4_000_000;

/// Operations of `client` invoked during the partition that completed before the heal.
fn completed_during_partition(output: &RunOutput, client: u32) -> usize {
    output
        .history
        .iter()
        .filter(|op| op.client == client && op.invoke_us >= PARTITION_US)
        .filter(|op| op.complete_us.is_some_and(|at| at < HEAL_US))
        .count()
}

#[test]
fn a_client_on_the_minority_side_completes_nothing_until_the_heal() {
    let path = scenario_path("scenarios/kv/minority_client.toml");
    let scenario = Scenario::load(&path).unwrap();
    for seed in 1..=5 {
        let output = run(&scenario, seed);
        assert_eq!(
            output.result.verdict,
            sim_core::result::Verdict::Pass,
            "seed {seed}"
        );
        assert_eq!(completed_during_partition(&output, 0), 0, "seed {seed}: c0");
        assert!(
            completed_during_partition(&output, 1) > 5,
            "seed {seed}: c1, on the majority side, keeps going"
        );
        assert!(
            output.history.iter().any(|op| op.client == 0
                && op.status == "ok"
                && op.complete_us.is_some_and(|at| at >= HEAL_US)),
            "seed {seed}: c0 completes operations after the heal"
        );
    }
    // The same run with clients outside the network: c0 is not held by the cut, and its
    // operations complete during the partition (what the old harness did).
    let outside = scenario
        .source
        .replace("[clients]\nplacement = [\"own\", \"beside:3\"]\n", "")
        .replace("[0, 1, \"c0\"]", "[0, 1]");
    let output = run(&inline(&outside), 1);
    assert!(completed_during_partition(&output, 0) > 5);
}

#[test]
fn client_messages_are_traced_and_paired_in_the_report() {
    let scenario = Scenario::load(&scenario_path("scenarios/kv/minority_client.toml")).unwrap();
    let output = run(&scenario, 2);
    let text = output.trace.as_ref().unwrap().join("\n");
    let trace = reports::Trace::parse(&text).unwrap();
    assert_eq!((trace.nodes, trace.clients), (5, 2));
    assert_eq!(trace.lane_label(5), "c0");
    let delivered = |kind: &str| {
        trace
            .messages
            .iter()
            .filter(|m| m.kind == kind && m.receive_position.is_some() && m.dropped.is_none())
            .count()
    };
    assert!(delivered("client_request") > 20 && delivered("client_reply") > 20);
    assert!(
        trace
            .messages
            .iter()
            .any(|m| m.kind == "client_request" && m.dropped.as_deref() == Some("partition")),
        "c0's requests to the majority are cut"
    );
    let out = temp_dir("clients-report");
    let output = quorumlab(&[
        "run",
        "scenarios/kv/minority_client.toml",
        "--seed",
        "2",
        "--report",
        "--trace",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains(">c1</text>"),
        "a lane per client in the space-time diagram"
    );
}

/// The node each applied fault hit, in order, with its time.
fn hits(output: &RunOutput) -> Vec<(u64, FaultAction)> {
    output
        .faults
        .iter()
        .map(|fault| (fault.at_us, fault.action.clone()))
        .collect()
}

fn node_of(action: &FaultAction) -> u32 {
    match action.target() {
        Some(sim_core::faults::Target::Node(id)) => *id,
        other => panic!("{action:?} names {other:?}"),
    }
}

#[test]
fn connected_leader_skips_a_stale_leader_that_leader_picks() {
    // The leader is isolated at 1 s and stays a (stale) leader; the majority elects a new
    // one. At 2 s, `connected_leader` is the new one; `leader` (the lowest-id node in the
    // role) is the stale one whenever its id is lower.
    let source = "protocol = \"raft\"\nnodes = 5\nduration_ms = 2500\n\
        [[faults]]\nat_ms = 1000\naction = \"isolate\"\nnode = \"connected_leader\"\n\
        [[faults]]\nat_ms = 2000\naction = \"clock_drift\"\nnode = \"connected_leader\"\ndrift_ppm = 1\n\
        [[faults]]\nat_ms = 2000\naction = \"clock_drift\"\nnode = \"leader\"\ndrift_ppm = 2\n";
    let scenario = inline(source);
    let mut leader_was_stale = 0;
    for seed in 1..=12 {
        let output = run(&scenario, seed);
        let hits = hits(&output);
        assert_eq!(hits.len(), 3, "seed {seed}: {hits:?}");
        let isolated = node_of(&hits[0].1);
        assert_ne!(node_of(&hits[1].1), isolated, "seed {seed}");
        if node_of(&hits[2].1) == isolated {
            leader_was_stale += 1;
        }
    }
    assert!(
        leader_was_stale > 0,
        "`leader` picks the stale leader on some seed"
    );
}

#[test]
fn previous_offsets_and_random_resolve_when_the_fault_fires() {
    let source = "protocol = \"raft\"\nnodes = 5\nduration_ms = 3000\n\
        [[faults]]\nat_ms = 1000\naction = \"crash\"\nnode = \"leader\"\nduration_ms = 500\n\
        [[faults]]\nat_ms = 1100\naction = \"clock_drift\"\nnode = \"previous\"\ndrift_ppm = 5\n\
        [[faults]]\nat_ms = 1200\naction = \"clock_drift\"\nnode = \"previous-1\"\ndrift_ppm = 5\n\
        [[faults]]\nat_ms = 1300\naction = \"send_omission\"\nnode = \"random\"\nper_million = 1\n\
        [[faults]]\nat_ms = 2000\naction = \"partition\"\ngroups = [[\"leader\"], \"rest\"]\n";
    let output = run(&inline(source), 3);
    let hits = hits(&output);
    let crashed = node_of(&hits[0].1);
    assert_eq!(node_of(&hits[1].1), crashed);
    assert_eq!(node_of(&hits[2].1), (crashed + 4) % 5);
    assert!(node_of(&hits[3].1) < 5);
    let FaultAction::Partition { groups } = &hits[4].1 else {
        panic!("{:?}", hits[4]);
    };
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].len(), 1);
    assert_eq!(groups[1].len(), 4, "rest is every other node: {groups:?}");
    // The same seed resolves the same way.
    assert_eq!(self::hits(&run(&inline(source), 3)), hits);
}

fn nemesis_run(kinds: &str, extra: &str, seed: u64) -> RunOutput {
    let source = format!(
        "protocol = \"raft\"\nnodes = 5\nduration_ms = 4000\n{extra}\
         [nemesis]\nkinds = {kinds}\ninterval_ms = [50, 150]\nduration_ms = [100, 400]\n"
    );
    run(&inline(&source), seed)
}

#[test]
fn the_labs_nemesis_kinds_do_what_they_say() {
    let split = nemesis_run("[\"split\"]", "", 1);
    assert!(split.faults.len() > 10);
    for fault in &split.faults {
        let FaultAction::Partition { groups } = &fault.action else {
            panic!("split made {:?}", fault.action);
        };
        assert_eq!(groups.len(), 2, "a two-way split");
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 5);
    }
    let isolate = nemesis_run("[\"isolate\"]", "", 1);
    let isolate_two = nemesis_run("[\"isolate\"]\nisolate_nodes = 2", "", 1);
    for (output, k) in [(isolate, 1), (isolate_two, 2)] {
        for fault in &output.faults {
            let FaultAction::Partition { groups } = &fault.action else {
                panic!("isolate made {:?}", fault.action);
            };
            assert_eq!(groups[0].len(), 5 - k);
            assert!(groups[1..].iter().all(|side| side.len() == 1));
        }
    }
    let leader = nemesis_run("[\"isolate_leader\"]", "", 2);
    assert!(leader
        .faults
        .iter()
        .all(|fault| matches!(fault.action, FaultAction::Isolate { .. })));
    let restarts = nemesis_run("[\"crash\", \"restart\"]", "", 3);
    assert!(restarts
        .faults
        .iter()
        .any(|fault| matches!(fault.action, FaultAction::Restart { .. })
            && fault.duration_us.is_none()));
    // Rounds: with a long pause after every 2 actions, far fewer actions fit.
    let paused = nemesis_run(
        "[\"split\"]\nround_actions = 2\npause_ms = [1000, 1000]",
        "",
        1,
    );
    assert!(
        paused.faults.len() < split.faults.len() / 3,
        "{}",
        paused.faults.len()
    );
    let pauses = trace_events(&paused)
        .iter()
        .filter(|e| e["event"] == "nemesis_pause")
        .count();
    assert!(pauses >= 2);
}

#[test]
fn the_fault_bound_is_exceeded_only_within_its_window() {
    // Raft tolerates 2 crashes of 5. With the window [0, 1000] ms, more are down at once
    // only in it: a crash after 1 s never takes the count above the bound.
    let crashes = "[\"crash\"]\nduration_ms = [300, 600]";
    let within = |output: &RunOutput| {
        let mut down = std::collections::BTreeSet::new();
        let (mut max_in, mut max_after) = (0, 0);
        for event in trace_events(output) {
            match event["event"].as_str() {
                Some("crash") => {
                    down.insert(event["node"].as_u64());
                    let at = event["time_us"].as_u64().unwrap();
                    if at <= 1_000_000 {
                        max_in = max_in.max(down.len());
                    } else {
                        max_after = max_after.max(down.len());
                    }
                }
                Some("restart") => {
                    down.remove(&event["node"].as_u64());
                }
                _ => {}
            }
        }
        (max_in, max_after)
    };
    let source = |window: &str| {
        format!(
            "protocol = \"raft\"\nnodes = 5\nduration_ms = 3000\nexceed_fault_bound = true\n\
             [nemesis]\nkinds = {crashes}\ninterval_ms = [20, 60]\n{window}"
        )
    };
    let windowed = run(&inline(&source("exceed_window_ms = [0, 1000]\n")), 1);
    let (max_in, max_after) = within(&windowed);
    assert!(max_in > 2, "the bound is exceeded in the window: {max_in}");
    assert!(max_after <= 2, "and not after it: {max_after}");
    let unbounded = run(&inline(&source("")), 1);
    assert!(
        within(&unbounded).1 > 2,
        "without a window, the whole run exceeds it"
    );
}

#[test]
fn reordering_delays_only_its_kinds_and_stops_when_reverted() {
    // Every append_entries from 1 s to 2 s gets 30-40 ms more; votes do not.
    let source = "protocol = \"raft\"\nnodes = 3\nduration_ms = 3000\n\
        [network]\nlatency = { dist = \"constant\", us = 1000 }\n\
        [[faults]]\nat_ms = 1000\naction = \"reorder\"\nper_million = 1000000\n\
        min_delay_us = 30000\nmax_delay_us = 40000\nkinds = [\"append_entries\"]\nduration_ms = 1000\n";
    let output = run(&inline(source), 1);
    let mut delays = Vec::new();
    for event in trace_events(&output) {
        let at = event["time_us"].as_u64().unwrap();
        for effect in event["effects"].as_array().into_iter().flatten() {
            let Some(send) = effect.get("send") else {
                continue;
            };
            let kind = send["msg"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone();
            if let Some(delay) = send["fate"]["delay_us"].as_u64() {
                delays.push((at, kind, delay));
            }
        }
    }
    let inside = |at: u64| (1_000_000..2_000_000).contains(&at);
    assert!(delays
        .iter()
        .filter(|(at, kind, _)| inside(*at) && kind == "append_entries")
        .all(|(_, _, delay)| (31_000..=41_000).contains(delay)));
    assert!(delays
        .iter()
        .filter(|(at, kind, _)| !inside(*at) || kind != "append_entries")
        .all(|(_, _, delay)| *delay == 1000));
    assert!(delays.iter().any(|(at, _, _)| *at >= 2_000_000));
}

#[test]
fn bad_selectors_placements_and_nemesis_fields_are_refused_with_a_fix() {
    let dir = temp_dir("clients-errors");
    std::fs::create_dir_all(&dir).unwrap();
    let head = "protocol = \"kv\"\nnodes = 3\nduration_ms = 100\n";
    let workload = "[workload]\nclients = 2\n";
    let cases = [
        (
            format!("{head}[[faults]]\nat_ms = 1\naction = \"crash\"\nnode = \"Leader+1\"\n"),
            ":7: field `faults[0].node`: kv has no role `Leader`",
        ),
        (
            format!("{head}[[faults]]\nat_ms = 1\naction = \"partition\"\ngroups = [[\"leader\"], \"others\"]\n"),
            ":7: field `faults[0].groups`: `others` is not a group",
        ),
        (
            format!("{head}[[faults]]\nat_ms = 1\naction = \"partition\"\ngroups = [[0, \"c0\"], \"rest\"]\n{workload}"),
            ":7: field `faults[0].groups`: client c0 is not on the network",
        ),
        (
            format!("{head}[[faults]]\nat_ms = 1\naction = \"partition\"\ngroups = [[0, \"c5\"], \"rest\"]\n{workload}[clients]\n"),
            ":7: field `faults[0].groups`: client c5 does not exist",
        ),
        (
            format!("{head}{workload}[clients]\nplacement = \"beside:3\"\n"),
            ":7: field `clients.placement`: node 3 does not exist",
        ),
        (
            format!("{head}[clients]\n"),
            ":4: field `clients`: a [clients] table without a [workload]",
        ),
        (
            format!("{head}[nemesis]\nkinds = [\"crash\"]\nexceed_window_ms = [0, 50]\n"),
            ":6: field `nemesis.exceed_window_ms`: a window to exceed the fault bound",
        ),
        (
            format!("{head}[nemesis]\nkinds = [\"split\"]\nround_actions = 2\n"),
            ":6: field `nemesis.round_actions`: `round_actions` and `pause_ms` go together",
        ),
        (
            format!("{head}[[faults]]\nat_ms = 1\naction = \"reorder\"\nper_million = 5\nmax_delay_us = 9\nkinds = [\"vote\"]\n"),
            ":9: field `faults[0].kinds`: kv sends no message of kind `vote`",
        ),
    ];
    for (index, (source, expected)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{index}.toml"));
        std::fs::write(&path, source).unwrap();
        let output = quorumlab(&["run", path.to_str().unwrap()]);
        let error = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "case {index}: {error}");
        assert!(
            error.contains(expected),
            "case {index}: expected `{expected}` in:\n{error}"
        );
        assert!(error.contains("fix:"), "case {index}: {error}");
    }
}

/// The highest commit index each node observed in a traced run.
fn commits_by_node(output: &RunOutput, nodes: usize) -> Vec<u64> {
    let mut commits = vec![0; nodes];
    for event in trace_events(output) {
        let Some(node) = event["node"].as_u64() else {
            continue;
        };
        for observation in event["observations"].as_array().into_iter().flatten() {
            if let Some(index) = observation["commit"]["Commit"]["index"].as_u64() {
                commits[node as usize] = commits[node as usize].max(index);
            }
        }
    }
    commits
}

/// Fifty fire-and-forget submissions at one instant all commit on every node, though the
/// client never waits: each stays pending (`info`) in the history, marked as such, and
/// none counts as a completed operation.
#[test]
fn fire_and_forget_submissions_load_the_leader_at_once() {
    let path = scenario_path("scenarios/raft/lab/fire_and_forget.toml");
    let scenario = Scenario::load(&path).unwrap();
    let output = run(&scenario, 1);
    assert!(!output.result.verdict.is_failure(), "{:?}", output.result);
    assert_eq!(output.history.len(), 50);
    assert!(output
        .history
        .iter()
        .all(|op| op.fire_and_forget && op.status == "info" && op.invoke_us == 1_000_000));
    assert_eq!(output.result.metrics.client_ops_ok, 0);
    assert_eq!(commits_by_node(&output, 3), vec![50, 50, 50]);
}

/// The no-op a new leader appends is no client command: the history holds the one
/// command written, and every survivor commits past it.
#[test]
fn the_noop_on_election_is_not_a_client_command() {
    let path = scenario_path("scenarios/raft/lab/noop_on_election.toml");
    let scenario = Scenario::load(&path).unwrap();
    let output = run(&scenario, 1);
    assert!(!output.result.verdict.is_failure(), "{:?}", output.result);
    assert_eq!(output.history.len(), 1);
    let commits = commits_by_node(&output, 3);
    assert!(
        commits.iter().filter(|&&c| c >= 3).count() >= 2,
        "{commits:?}"
    );
}

#[test]
fn fire_and_forget_everywhere_refuses_conditions_on_completions() {
    let dir = temp_dir("fire-and-forget-bad");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(
        &file,
        "protocol = \"raft\"\nnodes = 3\nduration_ms = 2000\n\n[workload]\nclients = 1\n\
         wait = false\n\n[liveness]\nwithin_ms = 1000\nrequire = [\"client_progress\"]\n",
    )
    .unwrap();
    let output = quorumlab(&["run", file.to_str().unwrap(), "--seed", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("bad.toml:7")
            && text.contains("field `workload.wait`")
            && text.contains("`client_progress` cannot hold")
            && text.contains("command_everywhere"),
        "{text}"
    );
}
