//! Paxos's checker on hand-made states and observations: each property can fail.

use sim_core::*;

use super::invariants::{ACCEPTOR_PROMISE, AGREEMENT, VALIDITY};
use super::*;

fn ballot(round: u64, node: u32) -> Ballot {
    Ballot { round, node }
}

fn node(promised: Option<Ballot>, accepted: Option<(Ballot, Value)>) -> Option<Paxos> {
    let config = PaxosConfig {
        proposes_at_start: vec![true; 3],
        start_us: (0, 0),
        retry_us: (1, 1),
        backoff_us: None,
        mutant: None,
    };
    let ctx = Ctx::new(NodeId(0), 3, &config);
    let durable = PaxosDurable {
        promised,
        accepted,
        decided: None,
    };
    Some(Paxos::recover(&ctx, Some(&durable)))
}

fn step(
    checker: &mut PaxosChecker,
    nodes: &[Option<Paxos>],
    id: u32,
    observations: &[PaxosObs],
) -> Result<(), Violation> {
    checker.on_step(nodes, NodeId(id), observations)
}

#[test]
fn two_values_chosen_in_two_ballots_break_agreement() {
    let nodes = vec![node(None, None), node(None, None), node(None, None)];
    let mut checker = PaxosChecker::default();
    let (low, high) = (ballot(1, 0), ballot(1, 1));
    step(
        &mut checker,
        &nodes,
        0,
        &[PaxosObs::Prepare {
            ballot: low,
            value: 100,
        }],
    )
    .unwrap();
    step(
        &mut checker,
        &nodes,
        1,
        &[PaxosObs::Prepare {
            ballot: high,
            value: 101,
        }],
    )
    .unwrap();
    for (id, ballot, value) in [(0, low, 100), (1, low, 100), (1, high, 101)] {
        step(
            &mut checker,
            &nodes,
            id,
            &[PaxosObs::Accepted { ballot, value }],
        )
        .unwrap();
    }
    let violation = step(
        &mut checker,
        &nodes,
        2,
        &[PaxosObs::Accepted {
            ballot: high,
            value: 101,
        }],
    )
    .unwrap_err();
    assert_eq!(violation.property, AGREEMENT, "{violation:?}");
    // A learner that learns something no majority accepted breaks it too.
    let mut fresh = PaxosChecker::default();
    step(
        &mut fresh,
        &nodes,
        0,
        &[PaxosObs::Prepare {
            ballot: low,
            value: 100,
        }],
    )
    .unwrap();
    let violation = step(&mut fresh, &nodes, 0, &[PaxosObs::Decided { value: 100 }]).unwrap_err();
    assert_eq!(violation.property, AGREEMENT);
}

#[test]
fn an_unproposed_value_breaks_validity() {
    let nodes = vec![node(None, None), node(None, None), node(None, None)];
    let mut checker = PaxosChecker::default();
    let violation = step(
        &mut checker,
        &nodes,
        1,
        &[PaxosObs::Accepted {
            ballot: ballot(1, 1),
            value: 7,
        }],
    )
    .unwrap_err();
    assert_eq!(violation.property, VALIDITY);
}

#[test]
fn an_acceptance_above_the_promise_breaks_the_acceptor_invariant() {
    let nodes = vec![
        node(Some(ballot(1, 0)), Some((ballot(2, 1), 101))),
        node(None, None),
        node(None, None),
    ];
    let mut checker = PaxosChecker::default();
    let violation = step(&mut checker, &nodes, 0, &[]).unwrap_err();
    assert_eq!(violation.property, ACCEPTOR_PROMISE);
    assert_eq!(
        checker.check_all(&nodes).unwrap_err().property,
        ACCEPTOR_PROMISE
    );
    let fine = vec![
        node(Some(ballot(2, 1)), Some((ballot(2, 1), 101))),
        None,
        None,
    ];
    assert!(step(&mut checker, &fine, 0, &[]).is_ok());
}
