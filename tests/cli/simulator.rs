//! The simulator's own semantics, on the pingpong protocol (whose behaviour is trivial,
//! so every difference is the simulator's).

use sim_core::result::Verdict;
use sim_core::scenario::Scenario;

use crate::inline;

fn run(scenario: &Scenario, seed: u64) -> sim_core::result::RunOutput {
    sim_core::panics::install_quiet_hook();
    quorumlab::commands::prepare_scenario(scenario, None, false)
        .expect("valid")
        .run(seed, true)
}

const BASE: &str = "protocol = \"pingpong\"\nnodes = 3\nduration_ms = 1000\n";

#[test]
fn a_protocol_panic_fails_the_seed_with_its_message() {
    let output = run(&inline(&format!("{BASE}[params]\npanic_after = 5\n")), 1);
    assert_eq!(output.result.verdict, Verdict::Panic);
    let detail = output.result.detail.unwrap();
    assert!(detail.contains("forwarded 5 tokens"), "{detail}");
    assert!(output.result.repro.contains("--seed 1"));
}

#[test]
fn a_simulator_assertion_is_an_internal_error_not_the_protocols_panic() {
    // A latency the loader refuses (past the simulated clock), forced past it: the first
    // message sent after time 0 wraps the simulator's clock and its own assertion ("time
    // went backwards") fails. That is quorumlab's bug
    // to report, not the protocol's.
    let mut scenario = inline("protocol = \"raft\"\nnodes = 3\nduration_ms = 1000\n");
    scenario.file.network.latency = sim_core::network::LatencySpec::Constant { us: u64::MAX - 5 };
    let output = run(&scenario, 1);
    assert_eq!(output.result.verdict, Verdict::Internal);
    let detail = output.result.detail.unwrap();
    assert!(
        detail.starts_with("internal error in the simulator"),
        "{detail}"
    );
    assert_eq!(quorumlab::commands::exit_code_of(output.result.verdict), 3);
    // `quorumlab test` (and each bundled file's test) flags it too, whatever `expect` says.
    let outcome = quorumlab::testing::check_expectation(&scenario, 1).unwrap();
    assert!(outcome.internal && !outcome.held, "{outcome:?}");
    // A panic in the protocol's own step stays the protocol's verdict (exit 1).
    let output = run(&inline(&format!("{BASE}[params]\npanic_after = 5\n")), 1);
    assert_eq!(output.result.verdict, Verdict::Panic);
    assert_eq!(quorumlab::commands::exit_code_of(output.result.verdict), 1);
}

#[test]
fn running_out_of_events_is_a_budget_failure() {
    let output = run(&inline(&format!("{BASE}[budget]\nmax_events = 50\n")), 1);
    assert_eq!(output.result.verdict, Verdict::Budget);
    assert_eq!(output.result.event_index, 51);
}

#[test]
fn passing_the_simulated_time_budget_is_a_budget_failure() {
    // The run lasts 100 ms, but its liveness window waits for a leader, which the
    // election timeout (150-300 ms) cannot produce within the 120 ms budget.
    let source = "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n\
                  [liveness]\nwithin_ms = 5000\nrequire = [\"leader\"]\n\
                  [budget]\nmax_sim_ms = 120\n";
    let output = run(&inline(source), 1);
    assert_eq!(output.result.verdict, Verdict::Budget);
    let detail = output.result.detail.unwrap();
    assert!(detail.contains("budget.max_sim_ms"), "{detail}");
    assert!(output.result.time_us > 120_000);
}

#[test]
fn a_run_longer_than_its_time_budget_is_refused_before_it_starts() {
    let source =
        "protocol = \"pingpong\"\nnodes = 3\nduration_ms = 5000\n[budget]\nmax_sim_ms = 1000\n";
    let error = Scenario::parse(std::path::Path::new("long.toml"), source.to_string())
        .expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("duration_ms") && message.contains("max_sim_ms"),
        "{message}"
    );
}

/// Raft with two busy clients for 5 s: about 600 entries in each of 3 logs.
const RAFT_BUSY: &str = "protocol = \"raft\"\nnodes = 3\nduration_ms = 5000\n\
                         [workload]\nclients = 2\ninterval_ms = [10, 20]\ntimeout_ms = 400\n";

/// Memory is bounded too (issue 13): a run whose nodes hold more log entries than
/// `budget.max_state_items` ends as a `budget` failure that names the field, and the same
/// run with log compaction, whose logs stay short, passes under the same bound.
#[test]
fn a_state_past_its_item_budget_is_a_budget_failure_and_compaction_keeps_under_it() {
    let bounded = |params: &str| {
        let source = format!("{RAFT_BUSY}{params}[budget]\nmax_state_items = 300\n");
        let output = run(&inline(&source), 1);
        (output.result.clone(), output.live)
    };
    let (result, live) = bounded("");
    assert_eq!(result.verdict, Verdict::Budget, "{result:?}");
    let detail = result.detail.unwrap();
    assert!(detail.contains("budget.max_state_items (300)"), "{detail}");
    // The run ends on the step that passes the bound (one AppendEntries adds at most 64).
    assert!((301..=364).contains(&live.state_items_peak), "{live:?}");
    let (result, live) = bounded("[params]\nsnapshot_every = 20\n");
    assert_eq!(result.verdict, Verdict::Pass, "{result:?}");
    assert!(live.state_items_peak <= 300, "{live:?}");
    assert!(live.history_ops > 300, "the clients kept writing: {live:?}");
    // Under the default bound the first run passes, holding far more.
    let output = run(&inline(RAFT_BUSY), 1);
    assert_eq!(output.result.verdict, Verdict::Pass, "{:?}", output.result);
    assert!(output.live.state_items_peak > 600, "{:?}", output.live);
}

#[test]
fn a_zero_state_item_budget_is_refused_naming_the_field() {
    let source = format!("{RAFT_BUSY}[budget]\nmax_state_items = 0\n");
    let error = Scenario::parse(std::path::Path::new("zero.toml"), source).expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("budget.max_state_items"), "{message}");
}

/// A traced run's trace stays within `budget.max_trace_mb` and says what it left out;
/// the run itself is the same run (issue 14: a failing seed's traced re-run must not
/// exhaust memory).
#[test]
fn a_trace_past_its_memory_budget_is_cut_and_says_so() {
    let source =
        "protocol = \"pingpong\"\nnodes = 3\nduration_ms = 200000\n[budget]\nmax_trace_mb = 1\n";
    let scenario = inline(source);
    let traced = run(&scenario, 1);
    let untraced = quorumlab::commands::prepare_scenario(&scenario, None, false)
        .expect("valid")
        .run(1, false);
    assert_eq!(traced.result.trace_hash, untraced.result.trace_hash);
    let lines = traced.trace.expect("traced");
    let bytes: usize = lines.iter().map(|line| line.len() + 1).sum();
    assert!(bytes <= (1 << 20) + 200, "{bytes} bytes");
    let last: sim_core::trace::TraceEvent = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(last.event, "trace_truncated");
    let sim_core::trace::TraceDetail::Truncated { omitted_lines, .. } = last.detail else {
        panic!("{last:?}");
    };
    assert!(omitted_lines > 1000, "{omitted_lines}");
}

#[test]
fn a_vacuous_run_fails_its_sometimes_condition() {
    // No faults are configured, so `fault_fired` never happens.
    let output = run(
        &inline(&format!(
            "sometimes = [\"forwarded\", \"fault_fired\"]\n{BASE}"
        )),
        1,
    );
    assert_eq!(output.result.verdict, Verdict::Liveness);
    assert_eq!(
        output.result.property.as_deref(),
        Some("sometimes.fault_fired")
    );
}

#[test]
fn a_partition_drops_and_a_heal_restores() {
    let partitioned = run(
        &inline(&format!(
            "{BASE}[[faults]]\nat_ms = 0\naction = \"partition\"\ngroups = [[0], [1], [2]]\n"
        )),
        1,
    );
    assert_eq!(partitioned.result.metrics.messages_delivered, 0);
    assert_eq!(
        partitioned.result.metrics.drops_by_cause.get("partition"),
        Some(&3)
    );
    let healed = run(
        &inline(&format!(
            "{BASE}[[faults]]\nat_ms = 0\naction = \"partition\"\ngroups = [[0], [1], [2]]\nduration_ms = 0\n"
        )),
        1,
    );
    assert_eq!(healed.result.faults_fired.get("partition"), Some(&1));
}

#[test]
fn a_crash_after_persist_loses_the_sends_after_it() {
    // Node 1 is down from 1 ms to 11 ms; armed while it is down, the crash hits its
    // restart step right after the persist, so the token it would send is lost.
    let source = format!(
        "{BASE}[[faults]]\nat_ms = 1\naction = \"crash\"\nnode = 1\nduration_ms = 10\n[[faults]]\nat_ms = 2\naction = \"crash_after_persist\"\nnode = 1\n"
    );
    let output = run(&inline(&source), 1);
    let trace = output.trace.unwrap().join("\n");
    assert!(
        trace.contains("lost_in_crash"),
        "a send after the persist was lost"
    );
    assert!(trace.contains("\"cause\":\"crash_after_persist\""));
}

#[test]
fn a_crash_mid_step_cuts_the_step_after_the_stated_effects() {
    // As above, but the restart step (persist, send, set timer) is cut after its second
    // effect: the send leaves, the timer is lost. A crash after a persist cannot do that.
    let source = format!(
        "{BASE}[[faults]]\nat_ms = 1\naction = \"crash\"\nnode = 1\nduration_ms = 10\n[[faults]]\nat_ms = 2\naction = \"crash_mid_step\"\nnode = 1\nafter_effects = 2\n"
    );
    let output = run(&inline(&source), 1);
    let trace = output.trace.unwrap();
    let restart = trace
        .iter()
        .find(|line| line.contains("\"event\":\"restart\"") && line.contains("lost_in_crash"))
        .expect("the restart step was cut");
    assert!(restart.contains("\"send\""), "{restart}");
    assert!(restart.contains("\"fate\""), "the send left: {restart}");
    assert!(
        restart.contains("\"lost_in_crash\":{\"set_timer\""),
        "{restart}"
    );
    assert!(trace
        .iter()
        .any(|line| line.contains("\"cause\":\"crash_mid_step\"")));
    assert_eq!(output.result.faults_fired.get("crash_mid_step"), Some(&1));
    // Unstated, the cut is drawn, and the applied fault says which it was.
    let drawn = source.replace("after_effects = 2\n", "");
    let output = run(&inline(&drawn), 1);
    let fault = output
        .faults
        .iter()
        .find(|fault| fault.action.kind() == "crash_mid_step")
        .expect("applied");
    assert!(
        matches!(
            fault.action,
            sim_core::faults::FaultAction::CrashMidStep {
                after_effects: Some(1..=4),
                ..
            }
        ),
        "{fault:?}"
    );
}

#[test]
fn clients_are_answered_and_recorded_in_the_history() {
    let output = run(
        &inline(&format!(
            "{BASE}[workload]\nclients = 2\ninterval_ms = [10, 20]\n"
        )),
        4,
    );
    assert!(
        output.result.metrics.client_ops_ok > 50,
        "{:?}",
        output.result.metrics
    );
    assert!(output
        .history
        .iter()
        .any(|op| op.status == "ok" && op.complete_us.is_some()));
    assert!(
        output.result.metrics.client_latency_us_p99 >= output.result.metrics.client_latency_us_p50
    );
}

#[test]
fn clock_drift_stretches_timers() {
    let ticks = |drift: i64| {
        let source = format!("{BASE}[[faults]]\nat_ms = 0\naction = \"clock_drift\"\nnode = 0\ndrift_ppm = {drift}\n");
        let output = run(&inline(&source), 1);
        output
            .trace
            .unwrap()
            .iter()
            .filter(|line| line.contains("\"node\":0,\"event\":\"tick_timeout\""))
            .count()
    };
    assert!(
        ticks(-500_000) > ticks(0) && ticks(0) > ticks(500_000),
        "{} {} {}",
        ticks(-500_000),
        ticks(0),
        ticks(500_000)
    );
}

#[test]
fn swarm_mode_varies_the_faults_per_seed() {
    let scenario = inline(&format!("swarm = true\n{BASE}"));
    let fired: Vec<_> = (1..=8)
        .map(|seed| run(&scenario, seed).result.faults_fired)
        .collect();
    assert!(fired.iter().any(|f| !f.is_empty()));
    assert!(
        fired
            .windows(2)
            .any(|pair| pair[0].keys().ne(pair[1].keys())),
        "swarm picks different kinds per seed: {fired:?}"
    );
}

#[test]
fn the_nemesis_respects_the_crash_bound_unless_told_otherwise() {
    // pingpong claims to tolerate n-1 crashes; a 3-node cluster therefore keeps one up.
    let source = format!(
        "{BASE}[nemesis]\nkinds = [\"crash\"]\ninterval_ms = [1, 5]\nduration_ms = [900, 1000]\n"
    );
    let output = run(&inline(&source), 2);
    let crashed_at_once = max_crashed(&output);
    assert_eq!(crashed_at_once, 2);
    let output = run(&inline(&format!("exceed_fault_bound = true\n{source}")), 2);
    assert_eq!(max_crashed(&output), 3);
}

fn max_crashed(output: &sim_core::result::RunOutput) -> usize {
    let mut down = std::collections::BTreeSet::new();
    let mut max = 0;
    for line in output.trace.as_ref().unwrap() {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        match event["event"].as_str() {
            Some("crash") => {
                down.insert(event["node"].as_u64());
            }
            Some("restart") => {
                down.remove(&event["node"].as_u64());
            }
            _ => {}
        }
        max = max.max(down.len());
    }
    max
}

#[test]
fn topologies_route_over_links() {
    for topology in ["star", "ring", "tree", "random", "mesh"] {
        let source = format!("protocol = \"pingpong\"\nnodes = 6\nduration_ms = 300\n[network]\ntopology = \"{topology}\"\n");
        let output = run(&inline(&source), 1);
        assert!(
            output.result.metrics.messages_delivered > 10,
            "{topology}: {:?}",
            output.result.metrics
        );
        assert_eq!(output.result.metrics.messages_dropped, 0, "{topology}");
    }
}

#[test]
fn a_revert_lifts_only_its_own_cut() {
    // Raft's heartbeats flow all the time. Node 0 is isolated for 3 s, and a one-way cut
    // 1 -> 2 lasts 100 ms inside that: when the one-way cut ends, node 0 must still be
    // isolated (nothing delivered to it before 3 s), and it hears again after.
    let source = "protocol = \"raft\"\nnodes = 3\nduration_ms = 4000\n\
        [[faults]]\nat_ms = 0\naction = \"isolate\"\nnode = 0\nduration_ms = 3000\n\
        [[faults]]\nat_ms = 10\naction = \"one_way\"\nfrom = [1]\nto = [2]\nduration_ms = 100\n";
    let output = run(&inline(source), 1);
    let deliveries_to_zero: Vec<u64> = output
        .trace
        .unwrap()
        .iter()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|event| event["node"] == 0 && event["input"].get("from").is_some())
        .map(|event| event["time_us"].as_u64().unwrap())
        .collect();
    assert!(
        deliveries_to_zero.iter().all(|&t| t >= 3_000_000),
        "node 0 heard something while isolated: {deliveries_to_zero:?}"
    );
    assert!(
        !deliveries_to_zero.is_empty(),
        "node 0 hears again after its isolation ends"
    );
}
