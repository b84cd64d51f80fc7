//! The model checker (`quorumlab check`, `sim_core::check`): the exhaustive check of Raft
//! on 3 nodes passes with a pinned state count, every mutant within reach of small bounds
//! is caught with the property it breaks, and the CLI behaves as documented.

use sim_core::check::{CheckOptions, CheckReport, StepRecord, Strategy};
use sim_core::scenario::Scenario;

use crate::{inline, quorumlab, scenario_path};

fn check(scenario: &Scenario, mutant: Option<&str>) -> CheckReport {
    // One thread, breadth first: the counterexample is a shortest one, and deterministic.
    let options = CheckOptions::default();
    sim_core::runner::check(&protocols::registry(), scenario, mutant, &options)
        .expect("the scenario is valid")
}

/// A 3-node Raft scenario whose `[check]` table is `bounds` (which may go on with a
/// `[params]` table).
fn raft3(bounds: &str) -> Scenario {
    inline(&format!(
        "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n\n[check]\n\
         sometimes = [\"became_leader\"]\n{bounds}\n"
    ))
}

#[test]
fn raft_three_nodes_every_property_holds_exhaustively() {
    let scenario = Scenario::load(&scenario_path("scenarios/raft/check3.toml")).unwrap();
    let report = check(&scenario, None);
    for property in &report.properties {
        assert!(property.holds, "{} fails: {property:?}", property.name);
    }
    assert!(report.passed() && report.complete);
    // Pinned: a change here means the model, the bounds or Raft's step changed.
    assert_eq!(report.unique_states, 141_118);
    assert_eq!(report.max_depth, 47);
    let sometimes: Vec<&str> = report
        .properties
        .iter()
        .filter(|property| property.expectation == "sometimes")
        .map(|property| property.name)
        .collect();
    assert_eq!(
        sometimes,
        [
            "sometimes.became_leader",
            "sometimes.commit",
            "sometimes.fault_fired"
        ]
    );
    let always: Vec<&str> = report
        .properties
        .iter()
        .filter(|property| property.expectation == "always")
        .map(|property| property.name)
        .collect();
    assert_eq!(
        always,
        [
            "election_safety",
            "log_matching",
            "leader_append_only",
            "leader_completeness",
            "state_machine_safety",
            "commit_index_monotonic",
            "higher_term_steps_down",
            "acknowledged_committed",
            "committed_on_majority",
            "snapshot_committed",
            "snapshot_install_no_conflict",
            "election_timer_reset",
            "no_panic"
        ]
    );
}

/// The mutants the model checker catches: (mutant, `[check]` bounds, property violated,
/// length of the shortest counterexample).
const CAUGHT: &[(&str, &str, &str, usize)] = &[
    // A stale heartbeat lowers a follower's commitIndex from 1 to 0.
    (
        "commit-index-regresses",
        CHECK3_BOUNDS,
        "commit_index_monotonic",
        15,
    ),
    // A leader drops a reply of term 2 and stays leader of term 1 (§5.1).
    (
        "ignore-higher-term-replies",
        CHECK3_BOUNDS,
        "higher_term_steps_down",
        10,
    ),
    // A restarted node forgets its vote and votes again in term 1.
    ("volatile-voted-for", CHECK3_BOUNDS, "election_safety", 14),
    // A candidate missing the committed entry wins anyway.
    ("vote-ignores-log", CHECK3_BOUNDS, "leader_completeness", 17),
    // A stale empty AppendEntries deletes an acknowledged entry from the follower's disk
    // before the leader counts that acknowledgement.
    (
        "truncate-on-any-append",
        CHECK3_BOUNDS,
        "committed_on_majority",
        11,
    ),
    // The leader of 3 commits its entry on its own disk alone.
    (
        "quorum-off-by-one",
        CHECK3_BOUNDS,
        "committed_on_majority",
        8,
    ),
    // A follower of term 2 re-arms its election timer on the term-1 leader's heartbeat.
    (
        "reset-timer-on-stale-append",
        CHECK3_BOUNDS,
        "election_timer_reset",
        10,
    ),
    // Two client entries: committing the first applies and acknowledges the second.
    (
        "apply-beyond-commit",
        "max_client_ops = 2\nmax_in_flight = 4\nmax_term = 1\nmax_log = 2",
        "acknowledged_committed",
        13,
    ),
    // A follower acknowledges an entry and crashes before persisting it; the leader
    // commits it on its own disk alone (needs a crash between the send and the Persist).
    (
        "reply-before-persist",
        MID_STEP_BOUNDS,
        "committed_on_majority",
        10,
    ),
    // A term-1 vote, delivered late, counts in the candidate's term-2 election.
    (
        "accept-stale-replies",
        "max_in_flight = 6\nmax_term = 2\nmax_log = 0",
        "election_safety",
        11,
    ),
    // An empty heartbeat's acknowledgement counts as storing the leader's new entry.
    (
        "match-index-from-log-len",
        "max_drops = 2\nmax_client_ops = 1\nmax_in_flight = 3\nmax_term = 2\nmax_log = 1",
        "committed_on_majority",
        8,
    ),
    // Compacting after every applied entry: the leader's first entry commits, its second
    // is appended, and its next step snapshots both.
    (
        "snapshot-uncommitted",
        "max_client_ops = 2\nmax_in_flight = 4\nmax_term = 1\nmax_log = 2\n\
         [params]\nsnapshot_every = 1",
        "snapshot_committed",
        13,
    ),
];

/// `scenarios/raft/check3.toml`'s bounds.
const CHECK3_BOUNDS: &str = "max_crashes = 1\nmax_client_ops = 1\nmax_in_flight = 3\n\
                             max_term = 2\nmax_log = 1";

/// check3's bounds with its crash moved to any boundary between two effects of a step.
const MID_STEP_BOUNDS: &str = "max_mid_step_crashes = 1\nmax_client_ops = 1\n\
                               max_in_flight = 3\nmax_term = 2\nmax_log = 1";

#[test]
fn mutants_within_reach_have_counterexamples() {
    for &(mutant, bounds, property, length) in CAUGHT {
        let report = check(&raft3(bounds), Some(mutant));
        let violation = report
            .violation()
            .unwrap_or_else(|| panic!("{mutant}: no counterexample within {bounds:?}"));
        assert_eq!(violation.name, property, "{mutant}");
        let steps = violation.counterexample.as_ref().expect("a path");
        assert_eq!(steps.len(), length, "{mutant}: {steps:#?}");
        assert!(!report.passed(), "{mutant}");
    }
}

/// The mutants out of reach, and why. The check of `check3.toml` passes for each (so the
/// list stays true: if one becomes reachable, this test says so).
const OUT_OF_REACH: &[(&str, &str)] = &[
    (
        "keep-conflicting-after-install",
        "needs a term-1 leader holding two uncommitted entries, a term-2 leader that commits \
         and compacts an entry of its own at index 1, and its InstallSnapshot to the old \
         leader: three client requests and two terms. With snapshot_every = 1, terms up to \
         2, logs of 2, three client requests and 3 messages in flight the check explores \
         485,974 states (28 s) and finds nothing (the old leader's AppendEntries must stay \
         in flight, which that bound forbids); adding 4 drops runs past 150 s. The \
         simulator catches it (scenarios/raft/mutants/keep-conflicting-after-install.toml)",
    ),
    (
        "fixed-election-timeout",
        "liveness only: the model lets any armed timer fire at any time, so timer delays \
         (and their lack of randomisation) do not exist in it; the simulator catches it",
    ),
    (
        "commit-only-with-entries",
        "liveness only: followers lag behind the leader's commit index but never disagree \
         with it, and the model checks safety; the simulator's `command_everywhere` check \
         catches it (scenarios/raft/mutants/commit-only-with-entries.toml)",
    ),
    (
        "follower-commits-on-append",
        "on 3 nodes a leader and the follower that appended its entry are a majority, so \
         what the follower commits early is on a majority's disk; the unsafe case needs a \
         leader without a majority (5 nodes, scenarios/raft/lab/follower-commits-on-append.toml) \
         or Figure 8's extra terms: check3 with it explores 150,526 states (8 s) and finds \
         nothing",
    ),
    (
        "commit-prior-term",
        "the Figure 8 interleaving needs four terms, two client requests in different \
         terms, and the term-1 AppendEntries kept from a majority while three more elections \
         happen: with terms up to 4, logs of one entry, two client requests and 3 messages in \
         flight the check explores 746,022 states (7 s) and finds nothing; adding two drops \
         exceeds the test budget (150 s, 8 GB without finishing), and random walks \
         (check_deep.toml's bounds with terms up to 4 and logs of 2) find nothing in 120 s",
    ),
];

#[test]
fn mutants_out_of_reach_pass_the_bounded_check() {
    let scenario = Scenario::load(&scenario_path("scenarios/raft/check3.toml")).unwrap();
    let caught: Vec<&str> = CAUGHT.iter().map(|(name, ..)| *name).collect();
    let out_of_reach: Vec<&str> = OUT_OF_REACH.iter().map(|(name, _)| *name).collect();
    let walked: Vec<&str> = CAUGHT_BY_WALKS.iter().map(|walk| walk.mutant).collect();
    for (_, info) in <protocols::raft::Mutant as sim_core::MutantSet>::ALL {
        let listed = [&caught, &out_of_reach, &walked]
            .iter()
            .filter(|list| list.contains(&info.name))
            .count();
        assert!(
            listed == 1,
            "{} must be listed once, as caught, caught by random walks or out of reach",
            info.name
        );
    }
    for &(mutant, _why) in OUT_OF_REACH {
        if mutant == "fixed-election-timeout" {
            // Checked cheaply: the model cannot express what these need within check3.
            let report = check(&scenario, Some(mutant));
            assert!(report.passed(), "{mutant} became reachable: {report:?}");
        }
    }
}

/// A mutant caught by a random-walk configuration: which file, which property, and the
/// walk (of seed 0) that finds it. One `#[test]` each, so the runner parallelises them.
struct Walked {
    mutant: &'static str,
    scenario: &'static str,
    property: &'static str,
    walk: u64,
    length: usize,
}

const CAUGHT_BY_WALKS: &[Walked] = &[
    // Two candidates of term 1 each count a duplicated grant: 5 nodes, two leaders.
    Walked {
        mutant: "count-duplicate-votes",
        scenario: "scenarios/raft/check_deep5.toml",
        property: "election_safety",
        walk: 736,
        length: 21,
    },
    // An empty heartbeat's leaderCommit commits a deposed leader's stale entry.
    Walked {
        mutant: "unbounded-leader-commit",
        scenario: "scenarios/raft/check_deep.toml",
        property: "state_machine_safety",
        walk: 53_957,
        length: 43,
    },
];

/// The vote-persistence bug, also caught by both walk configurations.
const VOLATILE_VOTED_FOR_WALKS: &[Walked] = &[
    Walked {
        mutant: "volatile-voted-for",
        scenario: "scenarios/raft/check_deep.toml",
        property: "election_safety",
        walk: 2073,
        length: 13,
    },
    Walked {
        mutant: "volatile-voted-for",
        scenario: "scenarios/raft/check_deep5.toml",
        property: "election_safety",
        walk: 2776,
        length: 25,
    },
];

/// Walk `expected.walk` of seed 0 finds `expected.property`, and no walk before it does.
fn assert_walks_find(expected: &Walked) {
    let scenario = Scenario::load(&scenario_path(expected.scenario)).unwrap();
    let report = check(&scenario, Some(expected.mutant));
    assert_eq!(report.strategy, Strategy::RandomWalks);
    assert!(!report.complete && !report.passed(), "{report:?}");
    let violation = report.violation().expect("a counterexample");
    assert_eq!(violation.name, expected.property, "{}", expected.mutant);
    let steps = violation.counterexample.as_ref().expect("a path");
    assert_eq!(
        steps.len(),
        expected.length,
        "{}: {steps:#?}",
        expected.mutant
    );
    let hit = report.walk_hit.expect("the walk that found it");
    assert_eq!(hit.index, expected.walk, "{}", expected.mutant);
}

#[test]
fn random_walks_catch_count_duplicate_votes() {
    assert_walks_find(&CAUGHT_BY_WALKS[0]);
}

#[test]
fn random_walks_catch_unbounded_leader_commit() {
    assert_walks_find(&CAUGHT_BY_WALKS[1]);
}

#[test]
fn random_walks_catch_volatile_voted_for() {
    for expected in VOLATILE_VOTED_FOR_WALKS {
        assert_walks_find(expected);
    }
}

#[test]
fn correct_raft_passes_the_random_walk_configurations() {
    // The first 3,000 walks of each (the files run 100,000 and 20,000; see their headers
    // for the full figures): cheap enough for CI, and past where count-duplicate-votes and
    // volatile-voted-for are found.
    for path in [
        "scenarios/raft/check_deep.toml",
        "scenarios/raft/check_deep5.toml",
    ] {
        let scenario = Scenario::load(&scenario_path(path)).unwrap();
        let options = CheckOptions {
            walks: Some(3000),
            ..CheckOptions::default()
        };
        let report = sim_core::runner::check(&protocols::registry(), &scenario, None, &options)
            .expect("valid");
        assert!(report.passed() && !report.complete, "{path}: {report:?}");
        assert!(report.walk_hit.is_none());
        // Exhaustive BFS of the same bounds is still available (`walks: Some(0)`), cut here.
        let exhaustive = CheckOptions {
            walks: Some(0),
            max_states: Some(1000),
            ..CheckOptions::default()
        };
        let report = sim_core::runner::check(&protocols::registry(), &scenario, None, &exhaustive)
            .expect("valid");
        assert_eq!(report.strategy, Strategy::Bfs);
    }
}

#[test]
fn walk_bounds_are_checked() {
    let registry = protocols::registry();
    for line in ["walks = 0", "walk_depth = 0", "walks = \"many\""] {
        let scenario = inline(&format!(
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[check]\n{line}\n\
             sometimes = [\"became_leader\"]\n"
        ));
        let error = sim_core::runner::check(&registry, &scenario, None, &CheckOptions::default())
            .unwrap_err();
        assert!(error.field.starts_with("check.walk"), "{line}: {error}");
    }
}

#[test]
fn the_state_count_does_not_depend_on_threads_or_strategy() {
    let scenario = Scenario::load(&scenario_path("scenarios/raft/check3.toml")).unwrap();
    for strategy in [Strategy::Bfs, Strategy::Dfs] {
        let options = CheckOptions {
            strategy,
            threads: 2,
            ..CheckOptions::default()
        };
        let report = sim_core::runner::check(&protocols::registry(), &scenario, None, &options)
            .expect("valid");
        assert!(report.passed() && report.complete);
        assert_eq!(report.unique_states, 141_118, "{strategy:?}");
    }
}

#[test]
fn crashes_after_persist_lose_the_rest_of_the_step() {
    // check3's bounds, with the crash moved into a step: right after its first Persist.
    let bounds = "max_crashes_after_persist = 1\nmax_client_ops = 1\nmax_in_flight = 3\n\
                  max_term = 2\nmax_log = 1";
    let report = check(&raft3(bounds), None);
    assert!(report.passed() && report.complete);
    assert_eq!(report.unique_states, 172_469);
    let report = check(&raft3(bounds), Some("volatile-voted-for"));
    let violation = report.violation().expect("a counterexample");
    assert_eq!(violation.name, "election_safety");
    let steps = violation.counterexample.as_ref().unwrap();
    assert!(
        steps.iter().any(|step| step.crash_after_persist),
        "{steps:#?}"
    );
}

#[test]
fn mid_step_crashes_cut_a_step_at_every_boundary() {
    // reply-before-persist is invisible to crashes between steps and right after a
    // Persist: its promise and its write are never separated.
    for bounds in [
        CHECK3_BOUNDS,
        &CHECK3_BOUNDS.replace("max_crashes", "max_crashes_after_persist"),
    ] {
        let report = check(&raft3(bounds), Some("reply-before-persist"));
        assert!(report.passed() && report.complete, "{bounds}: {report:?}");
    }
    // A crash at any boundary separates them; the counterexample shows where.
    let report = check(&raft3(MID_STEP_BOUNDS), Some("reply-before-persist"));
    let violation = report.violation().expect("a counterexample");
    let steps = violation.counterexample.as_ref().unwrap();
    let cut = steps.iter().find_map(|step| step.crash_mid_step);
    assert!(cut.is_some(), "{steps:#?}");
    assert!(steps
        .iter()
        .any(|step| step.to_string().contains("(then crash_mid_step after")));
    // Correct Raft keeps every property with a crash at any boundary (votes only, so the
    // check stays short; with a client request it is 426,639 states, 25 s).
    let votes = "max_mid_step_crashes = 1\nmax_in_flight = 3\nmax_term = 2\nmax_log = 0";
    let report = check(&raft3(votes), None);
    assert!(report.passed() && report.complete);
    assert_eq!(report.unique_states, 42_885);
}

#[test]
fn check_bounds_errors_name_the_field() {
    let registry = protocols::registry();
    let options = CheckOptions::default();
    let bad = [
        ("max_crashes = -1", "check.max_crashes"),
        ("max_terms = 2", "check.max_terms"),
        ("sometimes = 3", "check.sometimes"),
    ];
    for (line, field) in bad {
        let scenario = inline(&format!(
            "protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[check]\n{line}\n"
        ));
        let error = sim_core::runner::check(&registry, &scenario, None, &options).unwrap_err();
        assert_eq!(error.field, field, "{line}: {error}");
    }
    let no_table = inline("protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n");
    let error = sim_core::runner::check(&registry, &no_table, None, &options).unwrap_err();
    assert_eq!(error.field, "check");
    let no_sometimes =
        inline("protocol = \"raft\"\nnodes = 3\nduration_ms = 100\n[check]\nmax_term = 1\n");
    let error = sim_core::runner::check(&registry, &no_sometimes, None, &options).unwrap_err();
    assert_eq!(error.field, "check.sometimes");
}

#[test]
fn a_check_that_reaches_no_sometimes_condition_fails() {
    // With one message in flight no candidate ever collects a vote.
    let report = check(&raft3("max_in_flight = 1\nmax_term = 1\nmax_log = 0"), None);
    assert!(report.violation().is_none());
    assert!(!report.passed(), "became_leader is unreachable: {report:?}");
}

#[test]
fn cli_check_passes_fails_and_refuses() {
    let pass = quorumlab(&["check", "scenarios/raft/check3.toml"]);
    let text = String::from_utf8_lossy(&pass.stdout).into_owned();
    assert_eq!(pass.status.code(), Some(0), "{text}");
    assert!(text.contains("141118 unique") && text.contains("all properties hold"));
    assert!(text.contains("states/s") && text.contains("max depth 47"));

    let fail = quorumlab(&[
        "check",
        "scenarios/raft/check3.toml",
        "--mutant",
        "volatile-voted-for",
        "--json",
    ]);
    assert_eq!(fail.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&fail.stdout).unwrap();
    assert_eq!(json["verdict"], "fail");
    let failed: Vec<&serde_json::Value> = json["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|property| property["holds"] == false && property["expectation"] == "always")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "election_safety");
    let steps = failed[0]["counterexample"].as_array().unwrap();
    assert_eq!(steps[0]["event"], "election_timeout");
    assert!(steps.iter().any(|step| step["event"] == "crash"));
    assert!(steps.iter().any(|step| step["event"] == "restart"));

    let text = quorumlab(&[
        "check",
        "scenarios/raft/check3.toml",
        "--mutant",
        "volatile-voted-for",
    ]);
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(
        text.contains("property `election_safety` violated after 14 actions")
            && text.contains("  1. n")
            && text.contains(" request_vote from n"),
        "{text}"
    );

    let remote = quorumlab(&[
        "check",
        "scenarios/raft/check3.toml",
        "--serve",
        "0.0.0.0:3999",
    ]);
    assert_eq!(remote.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&remote.stderr).contains("loopback"));

    let no_bounds = quorumlab(&["check", "scenarios/raft/election.toml"]);
    assert_eq!(no_bounds.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_bounds.stderr).contains("[check]"));

    let partial = quorumlab(&[
        "check",
        "scenarios/raft/check3.toml",
        "--max-states",
        "50000",
        "--threads",
        "2",
        "--json",
    ]);
    assert_eq!(partial.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&partial.stdout).unwrap();
    assert_eq!(json["verdict"], "incomplete");
    assert_eq!(json["complete"], false);
    assert_eq!(json["strategy"], "bfs");
    assert_eq!(json["threads"], 2);

    let help = quorumlab(&["check", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}

#[test]
fn pbft_four_honest_replicas_hold_exhaustively_and_a_commit_before_prepared_is_found() {
    let scenario = Scenario::load(&scenario_path("scenarios/pbft/check4.toml")).unwrap();
    let report = check(&scenario, None);
    assert!(report.passed() && report.complete, "{report:?}");
    // Pinned: a change here means the model, the bounds or PBFT's step changed.
    assert_eq!(report.unique_states, 29_099);
    // The mutant's commits travel beside the prepares: two more messages in flight.
    let wider = inline(
        &std::fs::read_to_string(scenario_path("scenarios/pbft/check4.toml"))
            .unwrap()
            .replace("max_in_flight = 7", "max_in_flight = 9"),
    );
    let report = check(&wider, Some("commit-without-prepared"));
    let violation = report.violation().expect("a counterexample");
    assert_eq!(violation.name, "committed_prepared");
    assert_eq!(violation.counterexample.as_ref().expect("a path").len(), 13);
}

/// A scenario file's text with `edits` (from, to) applied, each of which must apply.
fn edited(relative: &str, edits: &[(&str, &str)]) -> Scenario {
    let mut text = std::fs::read_to_string(scenario_path(relative)).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{relative} has no `{from}`");
        text = text.replace(from, to);
    }
    inline(&text)
}

#[test]
fn pbft_with_a_byzantine_backup_holds_exhaustively_and_its_rogue_pre_prepare_catches_the_mutant() {
    let scenario = Scenario::load(&scenario_path("scenarios/pbft/check4_byzantine.toml")).unwrap();
    let report = check(&scenario, None);
    assert!(report.passed() && report.complete, "{report:?}");
    // Pinned: a change here means the model, the bounds, the strategy or PBFT's step changed.
    assert_eq!(report.unique_states, 56_974);

    let report = check(&scenario, Some("pre-prepare-from-non-primary"));
    let violation = report.violation().expect("a counterexample");
    assert_eq!(violation.name, "primary_authority");
    let path = violation.counterexample.as_ref().expect("a path");
    assert_eq!(path.len(), 7);
    let choices: Vec<&StepRecord> = path
        .iter()
        .filter(|step| step.byzantine.is_some())
        .collect();
    assert_eq!(choices.len(), 1, "{path:#?}");
    assert_eq!(choices[0].node, Some(1));
    assert!(choices[0].to_string().contains("(byzantine rogue_primary"));

    // Without the Byzantine backup the same bounds cannot reach the mutant: the choice is
    // what finds it.
    let honest = edited(
        "scenarios/pbft/check4_byzantine.toml",
        &[
            (
                "[byzantine]\nnodes = [1]\nstrategy = \"rogue_primary\"\n",
                "",
            ),
            ("max_byzantine_actions = 1\n", ""),
        ],
    );
    let report = check(&honest, Some("pre-prepare-from-non-primary"));
    assert!(report.passed() && report.complete, "{report:?}");
}

#[test]
fn pbft_bound_is_tight_exhaustively() {
    // n = 3 with one Byzantine primary (exceed_fault_bound): agreement breaks.
    let scenario = Scenario::load(&scenario_path("scenarios/pbft/tight_n3.toml")).unwrap();
    let report = check(&scenario, None);
    let violation = report.violation().expect("a counterexample");
    assert_eq!(violation.name, "agreement");
    assert_eq!(violation.counterexample.as_ref().expect("a path").len(), 10);
    assert_eq!(report.unique_states, 1_805);
    // Every choice of the Byzantine node (`count = 1`: each node in turn) finds it too.
    let any_node = edited(
        "scenarios/pbft/tight_n3.toml",
        &[("nodes = \"primary\"", "count = 1")],
    );
    let report = check(&any_node, None);
    assert_eq!(
        report.violation().expect("a counterexample").name,
        "agreement"
    );
    // n = 4 tolerates the same primary (f = 1): every property holds.
    let four = edited(
        "scenarios/pbft/tight_n3.toml",
        &[("nodes = 3", "nodes = 4")],
    );
    let report = check(&four, None);
    assert!(report.passed() && report.complete, "{report:?}");
    assert_eq!(report.unique_states, 27_487);
}

#[test]
fn byzantine_check_bounds_are_refused_with_the_field() {
    let registry = protocols::registry();
    let options = CheckOptions::default();
    let refused = [
        // A choice-making strategy with no bound on its choices.
        (
            "scenarios/pbft/check4_byzantine.toml",
            ("max_byzantine_actions = 1\n", ""),
            "check.max_byzantine_actions",
        ),
        // A bound on choices nobody makes.
        (
            "scenarios/pbft/check4.toml",
            (
                "max_client_ops = 1\n",
                "max_client_ops = 1\nmax_byzantine_actions = 1\n",
            ),
            "check.max_byzantine_actions",
        ),
        // `replay` would keep old messages in every state.
        (
            "scenarios/pbft/check4_byzantine.toml",
            ("strategy = \"rogue_primary\"", "strategy = \"replay\""),
            "byzantine.strategy",
        ),
    ];
    for (file, edit, field) in refused {
        let scenario = edited(file, &[edit]);
        let error = sim_core::runner::check(&registry, &scenario, None, &options).unwrap_err();
        assert_eq!(error.field, field, "{file} with {edit:?}: {error}");
        assert!(!error.fix.is_empty());
    }
}
