//! Unit tests of PBFT's pieces that scenarios reach only indirectly.

use super::*;

#[test]
fn a_perturbed_vote_signed_by_another_replica_is_invalid() {
    let vote = Vote::new(1, 2, None, NodeId(3));
    assert!(vote.valid());
    let forged = Vote {
        replica: NodeId(0),
        ..vote
    };
    assert!(!forged.valid());
}

#[test]
fn a_certificate_needs_a_quorum_of_distinct_signers() {
    let signatures: Vec<(NodeId, u64)> = (0..3)
        .map(|i| (NodeId(i), sign(NodeId(i), &(0u64, 1u64, None::<Request>))))
        .collect();
    let certificate = Certificate {
        view: 0,
        seq: 1,
        value: None,
        signatures: signatures.clone(),
    };
    assert!(certificate.valid(3));
    let repeated = Certificate {
        signatures: vec![signatures[0]; 3],
        ..certificate.clone()
    };
    assert!(!repeated.valid(3));
}

#[test]
fn the_fault_bound_is_f_below_a_third() {
    assert_eq!(faults_tolerated(3), 0);
    assert_eq!(faults_tolerated(4), 1);
    assert_eq!(faults_tolerated(6), 1);
    assert_eq!(faults_tolerated(7), 2);
}
