//! Tests of `RaftChecker` on hand-built node states and observations: each property is
//! shown to fail on a state that breaks it (a checker that never fails is not a checker)
//! and to pass on a neighbouring state that does not.

use sim_core::{Checker, Ctx, Effect, Input, NodeId, Protocol, Violation};

use super::*;

fn n(id: u32) -> NodeId {
    NodeId(id)
}

fn entry(term: Term, value: u64) -> Entry {
    Entry {
        term,
        client: 1,
        request: value,
        value,
    }
}

/// A node of a cluster of `size` with the given term, role, log and commit index.
fn node(
    id: u32,
    size: u32,
    term: Term,
    role: Role,
    log: Vec<Entry>,
    commit_index: LogIndex,
) -> Raft {
    let config = RaftConfig::default();
    let ctx = Ctx::new(n(id), size, &config);
    let mut node = Raft::new(&ctx);
    node.current_term = term;
    node.log = log.into();
    node.commit_index = commit_index;
    node.role = role;
    if role == Role::Leader {
        node.voted_for = Some(node.id);
        node.leader_hint = Some(node.id);
        node.next_index = vec![node.last_log_index() + 1; size as usize];
        node.match_index = vec![0; size as usize];
        node.match_index[id as usize] = node.last_log_index();
    }
    node
}

fn written(from_index: LogIndex, to_index: LogIndex) -> RaftObs {
    RaftObs::LogWrite {
        from_index,
        to_index,
        truncated_from: None,
    }
}

fn property(result: Result<(), Violation>) -> &'static str {
    result.expect_err("expected a violation").property
}

#[test]
fn election_safety_catches_two_leaders_in_one_term() {
    let nodes = vec![
        Some(node(0, 3, 3, Role::Leader, Vec::new(), 0)),
        Some(node(1, 3, 3, Role::Leader, Vec::new(), 0)),
        Some(node(2, 3, 3, Role::Follower, Vec::new(), 0)),
    ];
    let mut checker = RaftChecker::default();
    let became_leader = [RaftObs::BecameLeader { term: 3 }];
    assert_eq!(checker.on_step(&nodes, n(0), &became_leader), Ok(()));
    let violation = checker
        .on_step(&nodes, n(1), &became_leader)
        .expect_err("two leaders");
    assert_eq!(
        violation,
        Violation::new("election_safety", "term 3: n0 and n1 both became leader")
    );
    let violation = RaftChecker::default()
        .check_all(&nodes)
        .expect_err("two leaders");
    assert_eq!(
        violation,
        Violation::new("election_safety", "term 3: n0 and n1 are both leader")
    );

    // Leaders of different terms are fine, and so is n1 alone once n0 is down.
    let mut checker = RaftChecker::default();
    let later = [RaftObs::BecameLeader { term: 4 }];
    assert_eq!(checker.on_step(&nodes, n(0), &became_leader), Ok(()));
    assert_eq!(checker.on_step(&nodes, n(1), &later), Ok(()));
    // The ghost remembers n0 led term 3 even after it is gone.
    let mut nodes = nodes;
    nodes[0] = None;
    let mut checker = RaftChecker::default();
    let n0_alone = vec![Some(node(0, 3, 3, Role::Leader, Vec::new(), 0)), None, None];
    assert_eq!(checker.on_step(&n0_alone, n(0), &became_leader), Ok(()));
    assert_eq!(property(checker.check_all(&nodes)), "election_safety");
}

#[test]
fn log_matching_catches_different_entries_at_one_index_and_term() {
    let nodes = vec![
        Some(node(0, 3, 1, Role::Follower, vec![entry(1, 10)], 0)),
        Some(node(1, 3, 1, Role::Follower, vec![entry(1, 20)], 0)),
    ];
    let mut checker = RaftChecker::default();
    assert_eq!(checker.on_step(&nodes, n(0), &[written(1, 1)]), Ok(()));
    let violation = checker
        .on_step(&nodes, n(1), &[written(1, 1)])
        .expect_err("mismatch");
    assert_eq!(violation.property, "log_matching");
    assert!(
        violation.detail.starts_with("index 1 term 1: n1 wrote"),
        "{}",
        violation.detail
    );
    assert_eq!(
        property(RaftChecker::default().check_all(&nodes)),
        "log_matching"
    );
}

#[test]
fn log_matching_catches_the_same_entry_after_different_prefixes() {
    // Index 2 term 3 holds the same entry, but index 1 differs: the logs are not identical
    // up to index 2. The registry sees it through the term of the previous entry.
    let nodes = vec![
        Some(node(
            0,
            3,
            3,
            Role::Follower,
            vec![entry(1, 10), entry(3, 30)],
            0,
        )),
        Some(node(
            1,
            3,
            3,
            Role::Follower,
            vec![entry(2, 20), entry(3, 30)],
            0,
        )),
    ];
    let mut checker = RaftChecker::default();
    assert_eq!(checker.on_step(&nodes, n(0), &[written(1, 2)]), Ok(()));
    let violation = checker
        .on_step(&nodes, n(1), &[written(1, 2)])
        .expect_err("mismatch");
    assert_eq!(violation.property, "log_matching");
    assert!(
        violation.detail.contains("after an entry of term 2"),
        "{}",
        violation.detail
    );
    assert_eq!(
        property(RaftChecker::default().check_all(&nodes)),
        "log_matching"
    );

    // Logs that diverge only after their last common (index, term) are fine.
    let nodes = vec![
        Some(node(
            0,
            3,
            3,
            Role::Follower,
            vec![entry(1, 10), entry(2, 20)],
            0,
        )),
        Some(node(
            1,
            3,
            3,
            Role::Follower,
            vec![entry(1, 10), entry(3, 30)],
            0,
        )),
    ];
    let mut checker = RaftChecker::default();
    assert_eq!(checker.on_step(&nodes, n(0), &[written(1, 2)]), Ok(()));
    assert_eq!(checker.on_step(&nodes, n(1), &[written(1, 2)]), Ok(()));
    assert_eq!(checker.check_all(&nodes), Ok(()));
}

#[test]
fn leader_append_only_catches_a_leader_truncating_its_log() {
    let nodes = vec![
        Some(node(0, 3, 2, Role::Leader, vec![entry(1, 10)], 0)),
        None,
        None,
    ];
    let mut checker = RaftChecker::default();
    let truncated = [RaftObs::LogWrite {
        from_index: 2,
        to_index: 1,
        truncated_from: Some(2),
    }];
    let violation = checker
        .on_step(&nodes, n(0), &truncated)
        .expect_err("leader truncated");
    assert_eq!(
        violation,
        Violation::new(
            "leader_append_only",
            "n0, leader of term 2, truncated its log from index 2"
        )
    );
}

#[test]
fn leader_append_only_catches_a_leader_log_shrinking_between_steps() {
    let log = vec![entry(1, 10), entry(2, 20), entry(2, 21)];
    let mut nodes = vec![
        Some(node(0, 3, 2, Role::Leader, log.clone(), 0)),
        None,
        None,
    ];
    let mut checker = RaftChecker::default();
    assert_eq!(
        checker.on_step(&nodes, n(0), &[RaftObs::BecameLeader { term: 2 }]),
        Ok(())
    );
    // Appending is fine.
    nodes[0].as_mut().expect("up").log.push(entry(2, 22));
    assert_eq!(checker.on_step(&nodes, n(0), &[written(4, 4)]), Ok(()));
    // Losing the last two entries is not.
    nodes[0].as_mut().expect("up").log.truncate(2);
    let violation = checker.check_all(&nodes).expect_err("shrunk");
    assert_eq!(violation.property, "leader_append_only");
    let violation = checker.on_step(&nodes, n(0), &[]).expect_err("shrunk");
    assert_eq!(
        violation.detail,
        "n0, leader of term 2, had 4 entries ending in term 2; now it has 2 ending in term 2"
    );
    // The same log in a later term belongs to a new leadership: nothing to compare.
    let mut checker = RaftChecker::default();
    nodes[0].as_mut().expect("up").log = log.into();
    assert_eq!(checker.on_step(&nodes, n(0), &[]), Ok(()));
    let node_0 = nodes[0].as_mut().expect("up");
    node_0.current_term = 3;
    node_0.log.truncate(2);
    node_0.match_index[0] = 2;
    assert_eq!(
        checker.on_step(&nodes, n(0), &[RaftObs::BecameLeader { term: 3 }]),
        Ok(())
    );
}

#[test]
fn leader_completeness_catches_a_leader_missing_a_committed_entry() {
    let nodes = vec![
        Some(node(0, 3, 1, Role::Follower, vec![entry(1, 10)], 1)),
        Some(node(1, 3, 2, Role::Leader, Vec::new(), 0)),
        Some(node(2, 3, 2, Role::Leader, vec![entry(1, 10)], 0)),
    ];
    let mut checker = RaftChecker::default();
    let committed = [
        written(1, 1),
        RaftObs::Commit {
            index: 1,
            previous_index: 0,
        },
    ];
    assert_eq!(checker.on_step(&nodes, n(0), &committed), Ok(()));
    let became_leader = [RaftObs::BecameLeader { term: 2 }];
    let violation = checker
        .on_step(&nodes, n(1), &became_leader)
        .expect_err("missing entry");
    assert_eq!(violation.property, "leader_completeness");
    assert!(
        violation
            .detail
            .starts_with("n1 is leader of term 2 but lacks committed index 1"),
        "{}",
        violation.detail
    );
    // n2 holds the entry: it may lead term 2 (checked against a fresh history).
    let mut checker = RaftChecker::default();
    assert_eq!(checker.on_step(&nodes, n(0), &committed), Ok(()));
    assert_eq!(checker.on_step(&nodes, n(2), &became_leader), Ok(()));
    // check_all sees n1 too (and n1, n2 both leading term 2).
    assert!(checker.check_all(&nodes).is_err());
    let only_n1 = vec![nodes[0].clone(), nodes[1].clone(), None];
    let mut checker = RaftChecker::default();
    assert_eq!(checker.on_step(&only_n1, n(0), &committed), Ok(()));
    assert_eq!(property(checker.check_all(&only_n1)), "leader_completeness");
}

#[test]
fn state_machine_safety_catches_two_entries_committed_at_one_index() {
    let nodes = vec![
        Some(node(0, 3, 1, Role::Follower, vec![entry(1, 10)], 1)),
        Some(node(1, 3, 2, Role::Follower, vec![entry(2, 20)], 1)),
    ];
    let commit = [RaftObs::Commit {
        index: 1,
        previous_index: 0,
    }];
    let mut checker = RaftChecker::default();
    assert_eq!(checker.on_step(&nodes, n(0), &commit), Ok(()));
    let violation = checker
        .on_step(&nodes, n(1), &commit)
        .expect_err("two entries");
    assert_eq!(violation.property, "state_machine_safety");
    assert!(
        violation.detail.starts_with("index 1: n1 committed Entry"),
        "{}",
        violation.detail
    );
    assert!(
        violation.detail.contains("but n0 committed Entry"),
        "{}",
        violation.detail
    );
    // Without any history, check_all compares the nodes' committed prefixes.
    assert_eq!(
        property(RaftChecker::default().check_all(&nodes)),
        "state_machine_safety"
    );
    // The same entries, committed by one node only, are fine.
    let mut only_n0 = nodes.clone();
    only_n0[1].as_mut().expect("up").commit_index = 0;
    assert_eq!(RaftChecker::default().check_all(&only_n0), Ok(()));
}

#[test]
fn state_machine_safety_catches_a_commit_past_the_log_end() {
    let nodes = vec![Some(node(0, 3, 1, Role::Follower, vec![entry(1, 10)], 1))];
    let commit = [RaftObs::Commit {
        index: 2,
        previous_index: 0,
    }];
    let violation = RaftChecker::default()
        .on_step(&nodes, n(0), &commit)
        .expect_err("past end");
    assert_eq!(
        violation,
        Violation::new(
            "state_machine_safety",
            "n0 committed index 2 but its log has only 1 entries"
        )
    );
}

#[test]
fn liveness_leader_needs_a_majority_in_the_leaders_term() {
    let checker = RaftChecker::default();
    let healthy = vec![
        Some(node(0, 3, 2, Role::Leader, Vec::new(), 0)),
        Some(node(1, 3, 2, Role::Follower, Vec::new(), 0)),
        None,
    ];
    assert_eq!(checker.liveness_holds("leader", &healthy), Some(true));
    // A deposed leader whose peers moved on does not count.
    let deposed = vec![
        Some(node(0, 3, 2, Role::Leader, Vec::new(), 0)),
        Some(node(1, 3, 3, Role::Candidate, Vec::new(), 0)),
        Some(node(2, 3, 3, Role::Follower, Vec::new(), 0)),
    ];
    assert_eq!(checker.liveness_holds("leader", &deposed), Some(false));
    let alone = vec![Some(node(0, 3, 2, Role::Leader, Vec::new(), 0)), None, None];
    assert_eq!(checker.liveness_holds("leader", &alone), Some(false));
    let names: Vec<&str> = <RaftChecker as Checker<Raft>>::liveness_conditions()
        .iter()
        .map(|info| info.name)
        .collect();
    assert_eq!(names, ["leader"]);
    let properties: Vec<&str> = <RaftChecker as Checker<Raft>>::properties()
        .iter()
        .map(|info| info.name)
        .collect();
    assert_eq!(
        properties,
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
            "election_timer_reset"
        ]
    );
    assert_eq!(registration().name, "raft");
}

/// One step of `stepped` as the interpreter shows it to the checker: the input, the
/// effects applied, then the state reached (`after`).
fn judge_step(
    checker: &mut RaftChecker,
    before: &[Option<Raft>],
    after: &[Option<Raft>],
    stepped: u32,
    input: Input<Raft>,
    effects: &[Effect<Raft>],
    observations: &[RaftObs],
) -> Result<(), Violation> {
    checker.before_step(before, n(stepped), &input);
    for effect in effects {
        checker.on_effect(n(stepped), effect);
    }
    checker.on_step(after, n(stepped), observations)
}

fn committed_reply(index: LogIndex) -> Effect<Raft> {
    Effect::Reply {
        client: 1,
        request: 1,
        reply: RaftReply::Committed { index, output: () },
    }
}

#[test]
fn acknowledged_committed_catches_a_reply_beyond_commit_index() {
    let log = vec![entry(1, 1), entry(1, 2)];
    let nodes = vec![
        Some(node(0, 3, 1, Role::Leader, log.clone(), 1)),
        Some(node(1, 3, 1, Role::Follower, Vec::new(), 0)),
        Some(node(2, 3, 1, Role::Follower, Vec::new(), 0)),
    ];
    let tick = Input::Timer(RaftTimer::Heartbeat);
    let mut checker = RaftChecker::default();
    let ok = [committed_reply(1)];
    let step = judge_step(&mut checker, &nodes, &nodes, 0, tick.clone(), &ok, &[]);
    assert_eq!(step, Ok(()));
    let beyond = [committed_reply(2)];
    let violation = judge_step(&mut checker, &nodes, &nodes, 0, tick, &beyond, &[])
        .expect_err("index 2 is not committed");
    assert_eq!(
        violation,
        Violation::new(
            "acknowledged_committed",
            "n0 told a client that index 2 is committed, but its commitIndex is 1 (log of 2 \
             entries)"
        )
    );
}

fn persisted(log: Vec<Entry>) -> Effect<Raft> {
    Effect::Persist(RaftDurable {
        current_term: 1,
        voted_for: None,
        log: log.into(),
        snapshot: None,
    })
}

#[test]
fn committed_on_majority_catches_a_commit_on_a_minority_of_disks() {
    let log = vec![entry(1, 1)];
    let leader = |commit| node(0, 5, 1, Role::Leader, log.clone(), commit);
    let before = vec![
        Some(leader(0)),
        Some(node(1, 5, 1, Role::Follower, log.clone(), 0)),
        Some(node(2, 5, 1, Role::Follower, log.clone(), 0)),
        Some(node(3, 5, 1, Role::Follower, Vec::new(), 0)),
        Some(node(4, 5, 1, Role::Follower, Vec::new(), 0)),
    ];
    let mut after = before.clone();
    after[0] = Some(leader(1));
    let tick = Input::Timer(RaftTimer::Heartbeat);
    let commit = [RaftObs::Commit {
        index: 1,
        previous_index: 0,
    }];
    let mut checker = RaftChecker::default();
    // n0 and n1 have index 1 on disk; n2 holds it only in memory (it acknowledged
    // before persisting): two disks of five.
    for id in [0, 1] {
        let write = [persisted(log.clone())];
        let step = judge_step(
            &mut checker,
            &before,
            &before,
            id,
            tick.clone(),
            &write,
            &[],
        );
        assert_eq!(step, Ok(()));
    }
    let violation = judge_step(&mut checker, &before, &after, 0, tick.clone(), &[], &commit)
        .expect_err("two of five");
    assert_eq!(violation.property, "committed_on_majority");
    assert!(
        violation.detail.contains("[n0, n1]"),
        "{}",
        violation.detail
    );
    // Once n2's disk has it too, the same commit rests on a majority.
    let mut checker_ok = checker.clone();
    let write = [persisted(log.clone())];
    let step = judge_step(
        &mut checker_ok,
        &before,
        &before,
        2,
        tick.clone(),
        &write,
        &[],
    );
    assert_eq!(step, Ok(()));
    assert_eq!(
        judge_step(&mut checker_ok, &before, &after, 0, tick, &[], &commit),
        Ok(())
    );
}

fn append_entries(term: Term) -> Input<Raft> {
    Input::Message {
        from: n(0),
        msg: RaftMsg::AppendEntries {
            term,
            prev_log_index: 0,
            prev_log_term: 0,
            entries: Vec::new(),
            leader_commit: 0,
        },
    }
}

#[test]
fn election_timer_reset_catches_a_reset_on_a_stale_append() {
    let nodes = vec![
        Some(node(0, 3, 1, Role::Leader, Vec::new(), 0)),
        Some(node(1, 3, 2, Role::Follower, Vec::new(), 0)),
        Some(node(2, 3, 2, Role::Follower, Vec::new(), 0)),
    ];
    let arm = [Effect::SetTimer {
        timer: RaftTimer::Election,
        min_us: 150_000,
        max_us: 300_000,
    }];
    let mut checker = RaftChecker::default();
    // The current leader's AppendEntries may re-arm it ...
    let step = judge_step(
        &mut checker,
        &nodes,
        &nodes,
        1,
        append_entries(2),
        &arm,
        &[],
    );
    assert_eq!(step, Ok(()));
    // ... a stale one may be answered, but must not re-arm it.
    assert_eq!(
        judge_step(&mut checker, &nodes, &nodes, 1, append_entries(1), &[], &[]),
        Ok(())
    );
    let violation = judge_step(
        &mut checker,
        &nodes,
        &nodes,
        1,
        append_entries(1),
        &arm,
        &[],
    )
    .expect_err("a stale append re-armed the timer");
    assert_eq!(
        violation,
        Violation::new(
            "election_timer_reset",
            "n1, follower of term 2, re-armed its election timer on append_entries of term 1 \
             from n0, which is neither its current leader's AppendEntries nor a vote it granted"
        )
    );
    // A RequestVote re-arms it only when the vote is granted.
    let request = Input::Message {
        from: n(2),
        msg: RaftMsg::RequestVote {
            term: 2,
            last_log_index: 0,
            last_log_term: 0,
        },
    };
    let violation = judge_step(&mut checker, &nodes, &nodes, 1, request.clone(), &arm, &[]);
    assert_eq!(property(violation), "election_timer_reset");
    let mut granted = nodes.clone();
    granted[1].as_mut().expect("up").voted_for = Some(n(2));
    let step = judge_step(&mut checker, &nodes, &granted, 1, request, &arm, &[]);
    assert_eq!(step, Ok(()));
}
