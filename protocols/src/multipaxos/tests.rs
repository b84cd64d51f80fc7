//! Multi-Paxos's checker on hand-made states and observations: each property can fail,
//! including those no bundled mutant breaks.

use sim_core::{Checker, Ctx, Effects, Input, NodeId, Protocol, Violation};

use super::invariants::{
    ACCEPTOR_PROMISE, AGREEMENT, EXECUTED_CHOSEN, EXECUTED_PREFIX, HIGHER_BALLOT_STEPS_DOWN,
    PHASE2_VALUE, VALIDITY,
};
use super::*;

fn ballot(round: u64, node: u32) -> Ballot {
    Ballot { round, node }
}

fn config() -> MultiPaxosConfig {
    MultiPaxosConfig {
        election_timeout_us: (150_000, 300_000),
        heartbeat_us: (20_000, 20_000),
        machine: KvConfig::default(),
        mutant: None,
    }
}

fn nodes(config: &MultiPaxosConfig) -> Vec<Option<MultiPaxos>> {
    (0..3)
        .map(|id| {
            let ctx = Ctx::new(NodeId(id), 3, config);
            Some(MultiPaxos::new(&ctx))
        })
        .collect()
}

fn put(client: ClientId, request: u64) -> Command {
    Command {
        client,
        request,
        op: KvOp::Put {
            key: 0,
            value: request as u32,
        },
    }
}

/// Tell the checker a client issued `command` (to node 0).
fn request(checker: &mut MultiPaxosChecker, nodes: &[Option<MultiPaxos>], command: Command) {
    let input = Input::Client {
        client: command.client,
        request: command.request,
        op: command.op,
    };
    checker.before_step(nodes, NodeId(0), &input);
    checker.on_step(nodes, NodeId(0), &[]).unwrap();
}

fn observe(
    checker: &mut MultiPaxosChecker,
    nodes: &[Option<MultiPaxos>],
    id: u32,
    observations: &[MultiPaxosObs],
) -> Result<(), Violation> {
    checker.on_step(nodes, NodeId(id), observations)
}

fn accepted(ballot: Ballot, slot: Slot, value: Value) -> MultiPaxosObs {
    MultiPaxosObs::Accepted {
        ballot,
        slot,
        value,
    }
}

/// Nodes that have promised `promised` (so that their acceptances are within it).
fn promised_nodes(config: &MultiPaxosConfig, promised: Ballot) -> Vec<Option<MultiPaxos>> {
    let mut nodes = nodes(config);
    for node in nodes.iter_mut().flatten() {
        node.durable.promised = Some(promised);
    }
    nodes
}

#[test]
fn two_values_chosen_in_one_slot_break_agreement() {
    let config = config();
    let nodes = promised_nodes(&config, ballot(2, 1));
    let mut checker = MultiPaxosChecker::default();
    let command = Some(put(0, 1));
    request(&mut checker, &nodes, put(0, 1));
    for id in [0, 1] {
        observe(
            &mut checker,
            &nodes,
            id,
            &[accepted(ballot(1, 0), 0, command)],
        )
        .unwrap();
    }
    observe(&mut checker, &nodes, 1, &[accepted(ballot(2, 1), 0, None)]).unwrap();
    let violation =
        observe(&mut checker, &nodes, 2, &[accepted(ballot(2, 1), 0, None)]).unwrap_err();
    assert_eq!(violation.property, AGREEMENT, "{violation:?}");
}

#[test]
fn an_unrequested_command_breaks_validity() {
    let config = config();
    let nodes = promised_nodes(&config, ballot(1, 0));
    let mut checker = MultiPaxosChecker::default();
    let violation = observe(
        &mut checker,
        &nodes,
        1,
        &[accepted(ballot(1, 0), 0, Some(put(3, 9)))],
    )
    .unwrap_err();
    assert_eq!(violation.property, VALIDITY);
    // A no-op needs no client.
    observe(&mut checker, &nodes, 1, &[accepted(ballot(1, 0), 1, None)]).unwrap();
}

#[test]
fn an_acceptance_above_the_promise_breaks_the_acceptor_invariant() {
    let config = config();
    let nodes = promised_nodes(&config, ballot(1, 0));
    let mut checker = MultiPaxosChecker::default();
    let violation =
        observe(&mut checker, &nodes, 0, &[accepted(ballot(2, 1), 0, None)]).unwrap_err();
    assert_eq!(violation.property, ACCEPTOR_PROMISE);
    let mut held = nodes.clone();
    let node = held[0].as_mut().unwrap();
    node.durable.accepted.push(Some((ballot(2, 1), None)));
    assert_eq!(
        checker.check_all(&held).unwrap_err().property,
        ACCEPTOR_PROMISE
    );
}

#[test]
fn executing_an_unchosen_or_out_of_order_slot_is_caught() {
    let config = config();
    let nodes = promised_nodes(&config, ballot(1, 0));
    let mut checker = MultiPaxosChecker::default();
    let executed = |slot, value| MultiPaxosObs::Executed { slot, value };
    let violation = observe(&mut checker, &nodes, 0, &[executed(0, None)]).unwrap_err();
    assert_eq!(violation.property, EXECUTED_CHOSEN);
    for slot in [0, 1] {
        for id in [0, 1] {
            observe(
                &mut checker,
                &nodes,
                id,
                &[accepted(ballot(1, 0), slot, None)],
            )
            .unwrap();
        }
    }
    // Slot 1 is chosen, but no replica executed slot 0 before it.
    let violation = observe(&mut checker, &nodes, 2, &[executed(1, None)]).unwrap_err();
    assert_eq!(violation.property, EXECUTED_PREFIX);
    observe(
        &mut checker,
        &nodes,
        2,
        &[executed(0, None), executed(1, None)],
    )
    .unwrap();
}

#[test]
fn a_leader_that_ignores_a_higher_ballot_breaks_the_step_rule() {
    let config = config();
    let ctx = Ctx::new(NodeId(0), 3, &config);
    let mut nodes = nodes(&config);
    let own = ballot(1, 0);
    nodes[0].as_mut().unwrap().role = Role::Leader(Leadership {
        ballot: own,
        next_slot: 0,
        proposals: Default::default(),
        executed_by: vec![0; 3],
    });
    let mut checker = MultiPaxosChecker::default();
    let higher = Input::Message {
        from: NodeId(1),
        msg: MultiPaxosMsg::HeartbeatAck {
            ballot: ballot(2, 1),
            executed: 0,
        },
    };
    // The node as it was (still leading) after the step: the rule fails.
    checker.before_step(&nodes, NodeId(0), &higher);
    let violation = observe(&mut checker, &nodes, 0, &[]).unwrap_err();
    assert_eq!(violation.property, HIGHER_BALLOT_STEPS_DOWN);
    // The real step steps down, and the rule holds.
    checker.before_step(&nodes, NodeId(0), &higher);
    let mut fx = Effects::default();
    nodes[0].as_mut().unwrap().step(&ctx, higher, &mut fx);
    assert_eq!(nodes[0].as_ref().unwrap().role(), "follower");
    observe(&mut checker, &nodes, 0, &[]).unwrap();
}

#[test]
fn a_proposal_that_ignores_phase_one_breaks_p2c() {
    let config = config();
    let mut nodes = nodes(&config);
    let own = ballot(2, 0);
    nodes[0].as_mut().unwrap().role = Role::Candidate(Candidacy {
        ballot: own,
        from_slot: 0,
        promises: Default::default(),
        highest: Default::default(),
    });
    let mut checker = MultiPaxosChecker::default();
    request(&mut checker, &nodes, put(0, 1));
    request(&mut checker, &nodes, put(0, 2));
    observe(
        &mut checker,
        &nodes,
        0,
        &[MultiPaxosObs::Prepare {
            ballot: own,
            from_slot: 0,
        }],
    )
    .unwrap();
    let promise = Input::Message {
        from: NodeId(1),
        msg: MultiPaxosMsg::Promise {
            ballot: own,
            accepted: vec![(3, ballot(1, 1), Some(put(0, 1)))],
        },
    };
    checker.before_step(&nodes, NodeId(0), &promise);
    let propose = |value| MultiPaxosObs::Propose {
        ballot: own,
        slot: 3,
        value,
    };
    let violation = observe(&mut checker, &nodes, 0, &[propose(Some(put(0, 2)))]).unwrap_err();
    assert_eq!(violation.property, PHASE2_VALUE, "{violation:?}");
    observe(&mut checker, &nodes, 0, &[propose(Some(put(0, 1)))]).unwrap();
}
