//! Primary-backup (issue 12) under the model checker and in `quorumlab list`:
//! `check3.toml` passes exhaustively with a pinned state count, the mutants within its
//! reach are caught with the property they break and a pinned shortest counterexample,
//! and the one out of reach is listed with the reason.

const CHECK3: &str = "scenarios/primarybackup/check3.toml";

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
    crate::classics::passes_with(CHECK3, 414_021);
    for &(mutant, property, length) in CAUGHT {
        crate::classics::caught(CHECK3, mutant, property, length);
    }
    let caught: Vec<&str> = CAUGHT.iter().map(|(name, ..)| *name).collect();
    crate::classics::accounts_for_every_mutant::<protocols::primarybackup::PrimaryBackupMutant>(
        &caught,
        OUT_OF_REACH,
    );
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
