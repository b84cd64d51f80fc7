//! The lock service (`protocols/src/lease/`): fencing is what keeps the storage safe
//! under pauses and clock trouble, in the simulator and in the model checker, which gives
//! a clock-reading protocol a model of time.

use sim_core::check::{CheckOptions, CheckReport, StepRecord};
use sim_core::result::Verdict;
use sim_core::scenario::{Scenario, ScenarioError};

use crate::classics::{caught, passes_with};
use crate::root;

fn load(path: &str) -> Scenario {
    Scenario::load(&root().join(path)).expect("a bundled scenario loads")
}

/// Over `seeds`, how many runs pass, and how many stale writes the storage rejected.
fn sweep(path: &str, mutant: Option<&str>, seeds: std::ops::RangeInclusive<u64>) -> (u64, u64) {
    sim_core::panics::install_quiet_hook();
    let prepared = quorumlab::commands::prepare_scenario(&load(path), mutant, false).unwrap();
    let (mut passed, mut rejected) = (0, 0);
    for seed in seeds {
        let output = prepared.run(seed, false);
        passed += u64::from(output.result.verdict == Verdict::Pass);
        rejected += output
            .result
            .metrics
            .observations
            .get("write_rejected")
            .copied()
            .unwrap_or(0);
    }
    (passed, rejected)
}

#[test]
fn fencing_rejects_the_stale_writes_of_paused_and_slow_clocked_clients() {
    for path in ["scenarios/lease/pause.toml", "scenarios/lease/skew.toml"] {
        let (passed, rejected) = sweep(path, None, 1..=20);
        assert_eq!(passed, 20, "{path}");
        assert!(rejected > 0, "{path}: no stale write reached the storage");
        // The same stale writes corrupt a storage that ignores tokens.
        let (passed, rejected) = sweep(path, Some("no-fencing"), 1..=20);
        assert!(passed < 20, "{path}");
        assert_eq!(rejected, 0);
    }
}

const CHECK4: &str = "scenarios/lease/check4.toml";
const CHECK4_CRASH: &str = "scenarios/lease/check4_crash.toml";
const CHECK4_SKEW: &str = "scenarios/lease/check4_skew.toml";

/// The model checker gives the lock service a model of time (`sim_core::check_clock`):
/// each check file passes exhaustively with a pinned state count, and every lease mutant
/// is caught, for the reason its description gives.
#[test]
fn the_model_checker_checks_the_lease_with_clocks_and_catches_every_mutant() {
    passes_with(CHECK4, 338_272);
    passes_with(CHECK4_CRASH, 163_016);
    passes_with(CHECK4_SKEW, 767_901);
    // A grant at 2 ms of a lease that runs until 3 ms by the server's clock.
    caught(CHECK4, "early-grant", "lease_exclusion", 10);
    // Token 1 granted, the server restarts with nothing on disk, token 1 granted again.
    caught(CHECK4_CRASH, "token-not-persisted", "token_monotonic", 10);
    // The holder starts a write and is paused: time passes with its write timer due, the
    // other client is granted the lease and writes, then the stale write lands.
    let steps = caught(CHECK4, "no-fencing", "storage_exclusion", 20);
    let started = position(&steps, "work_timeout");
    let holder = steps[started].node;
    let sent = steps
        .iter()
        .rposition(|step| step.node == holder && step.event == "write_timeout")
        .expect("the stale write goes out");
    let paused = &steps[started..sent];
    assert!(
        paused.iter().filter(|step| step.event == "tick").count() >= 3,
        "{steps:#?}"
    );
    assert!(paused
        .iter()
        .any(|step| step.node != holder && step.event == "write_timeout"));
    // With drifting clocks a shorter pause does, within 3 ms.
    let steps = caught(CHECK4_SKEW, "no-fencing", "storage_exclusion", 20);
    assert!(
        steps
            .iter()
            .any(|step| step.event == "tick" && step.node.is_some()),
        "a clock runs ahead: {steps:#?}"
    );
    crate::classics::accounts_for_every_mutant::<protocols::lease::Mutant>(
        &["early-grant", "token-not-persisted", "no-fencing"],
        &[],
    );
}

/// `quorumlab check` on `scenario`, with its default options (breadth first, one thread).
fn model_check(scenario: &Scenario, mutant: Option<&str>) -> Result<CheckReport, ScenarioError> {
    sim_core::runner::check(
        &protocols::registry(),
        scenario,
        mutant,
        &CheckOptions::default(),
    )
}

fn position(steps: &[StepRecord], event: &str) -> usize {
    let found = steps.iter().position(|step| step.event == event);
    found.unwrap_or_else(|| panic!("no {event}: {steps:#?}"))
}

/// Time is what early-grant needs: with clocks that never pass 1 ms (half the lease is
/// 1.5 ms) every property holds.
#[test]
fn without_time_passing_the_early_grant_is_out_of_reach() {
    let text = std::fs::read_to_string(crate::scenario_path(CHECK4)).unwrap();
    let scenario = crate::inline(&text.replace("max_time_ms = 4", "max_time_ms = 1"));
    let report = model_check(&scenario, Some("early-grant")).expect("valid");
    assert!(report.violation().is_none(), "{report:?}");
}

/// The model of time: required for a clock-reading protocol, refused for any other, and
/// its bounds checked, each error naming the field and the fix.
#[test]
fn the_model_of_time_is_required_checked_and_refused_where_it_means_nothing() {
    let text = std::fs::read_to_string(crate::scenario_path(CHECK4)).unwrap();
    let time = "tick_ms = 1\nmax_time_ms = 4\n";
    assert!(text.contains(time));
    let refused = [
        ("", "check.max_time_ms", "tick_ms = 1"),
        ("tick_ms = 1\n", "check.max_time_ms", "max_time_ms"),
        ("max_time_ms = 4\n", "check.tick_ms", "tick_ms"),
        (
            "tick_ms = 0\nmax_time_ms = 4\n",
            "check.tick_ms",
            "tick_ms = 1",
        ),
        (
            "tick_ms = 2\nmax_time_ms = 5\n",
            "check.max_time_ms",
            "max_time_ms = 8",
        ),
        (
            "tick_ms = 1\nmax_time_ms = 4\nmax_clock_skew_ms = 5\n",
            "check.max_clock_skew_ms",
            "max_time_ms",
        ),
        (
            "tick_ms = 1\nmax_time_ms = -4\n",
            "check.max_time_ms",
            "max_time_ms = 1",
        ),
    ];
    for (replacement, field, fix) in refused {
        let scenario = crate::inline(&text.replace(time, replacement));
        let error = model_check(&scenario, None).unwrap_err();
        assert_eq!(error.field, field, "{replacement:?}: {error}");
        assert!(error.fix.contains(fix), "{replacement:?}: {error}");
    }
    // Raft reads no clock: a model of time would change nothing.
    let raft = std::fs::read_to_string(crate::scenario_path("scenarios/raft/check3.toml"))
        .unwrap()
        .replace("[check]\n", "[check]\ntick_ms = 1\nmax_time_ms = 4\n");
    let error = model_check(&crate::inline(&raft), None).unwrap_err();
    assert_eq!(error.field, "check.tick_ms", "{error}");
    assert!(error.message.contains("reads no clock"), "{error}");
}

#[test]
fn a_lease_cluster_of_the_wrong_size_is_refused() {
    let scenario = crate::inline("protocol = \"lease\"\nnodes = 5\nduration_ms = 100\n");
    let error = quorumlab::commands::prepare_scenario(&scenario, None, false)
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("params.clients"), "{error}");
    assert!(error.contains("nodes = 6"), "{error}");
}

/// A client whose clock steps back 400 ms while it holds the lease writes past it; the
/// shrinker halves the step while the failure persists (to 100 ms: at 50 ms the lease
/// still expires before the next holder's grant matters).
#[test]
fn the_shrinker_halves_a_clock_skew() {
    let dir = crate::temp_dir("lease-shrink-skew");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("skew.toml");
    std::fs::write(
        &file,
        "protocol = \"lease\"\nnodes = 6\nduration_ms = 600\nseeds = 5\n\
         mutant = \"no-fencing\"\nexpect = \"storage_exclusion\"\n\n\
         [network]\nlatency = { dist = \"constant\", us = 1000 }\n\n\
         [params]\nwrite_ms = [1, 5]\n\n\
         [[faults]]\nat_ms = 40\naction = \"clock_skew\"\nnode = 3\noffset_ms = -400\n\
         duration_ms = 500\n",
    )
    .unwrap();
    let limits = quorumlab::shrink::Limits::default();
    let reports = quorumlab::shrink::shrink_failures(&file, limits, 1, &dir).expect("shrinks");
    let report = reports.into_iter().next().expect("a failing seed");
    assert_eq!(report.property, "storage_exclusion");
    let shrunk = Scenario::load(std::path::Path::new(&report.scenario)).unwrap();
    let skews: Vec<&sim_core::scenario::FaultActionSpec> = shrunk
        .file
        .faults
        .iter()
        .map(|fault| &fault.action)
        .collect();
    assert!(
        matches!(
            skews.as_slice(),
            [sim_core::scenario::FaultActionSpec::ClockSkew {
                offset_ms: -100,
                ..
            }]
        ),
        "{skews:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
