//! Primary-backup (issue 12) under the model checker and in `quorumlab list`:
//! `check3.toml` passes exhaustively with a pinned state count, the mutants within its
//! reach are caught with the property they break and a pinned shortest counterexample,
//! and the one out of reach is listed with the reason.

use sim_core::check::{CheckOptions, CheckReport};
use sim_core::scenario::Scenario;

use crate::scenario_path;

const CHECK3: &str = "scenarios/primarybackup/check3.toml";

fn check(mutant: Option<&str>) -> CheckReport {
    // One thread, breadth first: the counterexample is a shortest one, and deterministic.
    let scenario = Scenario::load(&scenario_path(CHECK3)).expect("valid");
    sim_core::runner::check(
        &protocols::registry(),
        &scenario,
        mutant,
        &CheckOptions::default(),
    )
    .expect("the scenario is valid")
}

/// Mutants the model checker cannot reach, and why.
const OUT_OF_REACH: &[(&str, &str)] = &[(
    "stale-read",
    "a stale read breaks only linearizability, which is judged on a client history, and \
     the model has no clients that read replies; the simulator catches it",
)];

/// (mutant, property, shortest counterexample length).
const CAUGHT: &[(&str, &str, usize)] = &[
    ("view-before-ack", "acknowledged_survive", 17),
    ("ack-before-transfer", "acknowledged_survive", 32),
    ("reply-before-ack", "acknowledged_survive", 34),
    ("promote-on-suspicion", "acknowledged_survive", 19),
];

#[test]
fn primary_backup_on_three_nodes_keeps_its_properties_and_catches_four_mutants() {
    let report = check(None);
    for property in &report.properties {
        assert!(property.holds, "{} fails: {property:?}", property.name);
    }
    assert!(report.passed() && report.complete);
    // Pinned: a change here means the model, the bounds or the protocol's step changed.
    assert_eq!(report.unique_states, 414_021);
    for &(mutant, property, length) in CAUGHT {
        let report = check(Some(mutant));
        let violation = report
            .violation()
            .unwrap_or_else(|| panic!("{mutant}: no counterexample"));
        assert_eq!(violation.name, property, "{mutant}");
        let steps = violation.counterexample.as_ref().expect("a path");
        assert_eq!(steps.len(), length, "{mutant}: {steps:#?}");
    }
    for (_, info) in <protocols::primarybackup::PrimaryBackupMutant as sim_core::MutantSet>::ALL {
        let listed = CAUGHT.iter().any(|(name, ..)| *name == info.name)
            || OUT_OF_REACH.iter().any(|(name, _)| *name == info.name);
        assert!(listed, "{}: caught or out of reach?", info.name);
    }
}

/// `quorumlab list` shows primary-backup and its five mutants, each with the scenario
/// file that catches it.
#[test]
fn list_describes_primary_backup_and_its_mutants() {
    crate::assert_listed(
        "primarybackup",
        "view service",
        &[
            "ack-before-transfer",
            "promote-on-suspicion",
            "reply-before-ack",
            "stale-read",
            "view-before-ack",
        ],
    );
}
