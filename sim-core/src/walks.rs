//! Seeded random walks through a `ProtocolModel`: the model checker's search strategy for
//! bounds too large to explore exhaustively.
//!
//! Breadth-first search proves a property within its bounds but its cost grows with the
//! number of states; the bugs that need five nodes, logs of two entries or several faults
//! live where that number is in the millions. A random walk starts at the initial state
//! and takes one randomly chosen action after another (the same actions, the same
//! `next_state`, the same boundary as the exhaustive search) until no action is left or
//! the walk is `depth` actions long; the check runs `walks` of them and stops at the first
//! violation. Its cost is linear in `walks * depth`, whatever the size of the space.
//!
//! Uniform choice is a poor walker: a client request is possible at every node from the
//! first step, so uniform walks spend the client budget before any leader exists, and fire
//! timers so often that terms run out before messages arrive. So each walk draws a weight
//! from {0, 1, 2, 4, 8} for each kind of action (deliver, drop, duplicate, timer, crash, restart,
//! client request, crash after persist) and chooses in proportion (swarm testing: Groce et
//! al., ISSTA 2012): some walks deliver a lot and fire few timers, some never crash, and
//! together they reach corners no single weighting does. A walk also ends where it
//! returns to a state it visited (a leader's heartbeats cycle), as stateright's own
//! simulation checker does.
//!
//! Walk `i` draws from its own ChaCha stream, derived from (seed, i) alone, so a
//! counterexample is reproduced from the seed and the walk's number, and the result is the
//! same on every machine. A walk that finds nothing proves nothing: a pass is reported as
//! incomplete.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use stateright::Model;

use crate::check::{CheckAction, CheckState, Findings, PropertyOutcome, ProtocolModel};
use crate::hash::{mix64, TraceHasher};
use crate::protocol::Protocol;
use crate::rng::{Purpose, Rng};

/// How many walks, how long, from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WalkPlan {
    pub walks: u64,
    /// Actions per walk at most (a walk also ends where no action is left).
    pub depth: u32,
    pub seed: u64,
}

/// The walk that found the first violation, for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WalkHit {
    /// The walk's number (0-based): walk `index` of `seed` reproduces it.
    pub index: u64,
    /// States visited by all walks up to and including this one.
    pub states: usize,
}

/// Run `plan`'s walks over `model`; stop at the first violated `always` property, or
/// once `max_states` states were visited.
pub(crate) fn random_walks<P: Protocol>(
    model: &ProtocolModel<P>,
    plan: &WalkPlan,
    max_states: Option<usize>,
) -> (Findings, Option<WalkHit>) {
    let initial = model.init_states();
    assert_eq!(initial.len(), 1, "the model has one initial state");
    let mut fingerprints = BTreeSet::new();
    let mut states = 0usize;
    let mut max_depth = 0usize;
    let mut seen = 0u32;
    let mut found: Option<(Vec<CheckAction<P>>, CheckState<P>, WalkHit)> = None;
    let mut actions = Vec::new();
    for index in 0..plan.walks {
        if max_states.is_some_and(|limit| states >= limit) {
            break;
        }
        let mut rng = Rng::new(mix64(plan.seed ^ mix64(index)), Purpose::CheckWalks);
        let weights: [u64; ACTION_KINDS] =
            std::array::from_fn(|_| WEIGHTS[rng.below(WEIGHTS.len() as u64) as usize]);
        let mut state = initial[0].clone();
        let mut path = Vec::new();
        let mut this_walk = BTreeSet::new();
        loop {
            states += 1;
            let print = fingerprint(&state);
            fingerprints.insert(print);
            if !this_walk.insert(print) {
                // A cycle (a leader's heartbeats, say): the rest of the walk would repeat.
                break;
            }
            seen |= state.seen;
            max_depth = max_depth.max(path.len());
            if state.violation.is_some() || path.len() >= plan.depth as usize {
                break;
            }
            actions.clear();
            model.actions(&state, &mut actions);
            // Draw among the actions left until one leads somewhere within the bounds.
            let next = loop {
                if actions.is_empty() {
                    break None;
                }
                let choice = choose(&mut rng, &weights, &actions);
                let action = actions.swap_remove(choice);
                match model.next_state(&state, action.clone()) {
                    Some(next) if model.within_boundary(&next) => break Some((action, next)),
                    _ => {}
                }
            };
            let Some((action, next)) = next else { break };
            path.push(action);
            state = next;
        }
        if state.violation.is_some() {
            let hit = WalkHit { index, states };
            found = Some((path, state, hit));
            break;
        }
    }
    let mut properties = Vec::new();
    for &name in model.always_names() {
        let violated = found.as_ref().filter(|(_, state, _)| {
            matches!(&state.violation, Some(violation) if violation.property == name)
        });
        properties.push(PropertyOutcome {
            name,
            expectation: "always",
            holds: violated.is_none(),
            detail: violated.map(|(_, state, _)| {
                let violation = state.violation.as_ref().expect("a violation");
                violation.detail.clone()
            }),
            counterexample: violated
                .map(|(path, ..)| path.iter().map(CheckAction::record).collect()),
        });
    }
    for (position, &name) in model.sometimes_names().iter().enumerate() {
        properties.push(PropertyOutcome {
            name,
            expectation: "sometimes",
            holds: seen & (1 << position) != 0,
            detail: None,
            counterexample: None,
        });
    }
    let findings = Findings {
        states,
        unique_states: fingerprints.len(),
        max_depth,
        properties,
    };
    (findings, found.map(|(.., hit)| hit))
}

/// A portable hash of a state, to count distinct states visited.
fn fingerprint<P: Protocol>(state: &CheckState<P>) -> u64 {
    let mut hasher = TraceHasher::default();
    state.hash(&mut hasher);
    hasher.finish()
}

/// The weights a walk draws for each kind of action.
const WEIGHTS: [u64; 5] = [0, 1, 2, 4, 8];

/// The kinds of `CheckAction`, for the walk's weights.
const ACTION_KINDS: usize = 8;

fn kind<P: Protocol>(action: &CheckAction<P>) -> usize {
    match action {
        CheckAction::Deliver(_) => 0,
        CheckAction::Drop(_) => 1,
        CheckAction::Duplicate(_) => 2,
        // Time passing shares the timers' weight: with a clock, it is what makes them due.
        CheckAction::Timer { .. } | CheckAction::Tick { .. } => 3,
        CheckAction::Crash { .. } => 4,
        CheckAction::Restart { .. } => 5,
        CheckAction::ClientRequest { .. } => 6,
        // Crashes within a step share a weight (one kind more would change every walk's
        // weight draws).
        // A Byzantine node's choice within its step shares that weight too.
        CheckAction::CrashAfterPersist(_)
        | CheckAction::CrashMidStep { .. }
        | CheckAction::Byzantine { .. } => 7,
    }
}

/// An index into `actions` (not empty), in proportion to the weights of their kinds, or
/// uniformly when every kind present weighs 0.
fn choose<P: Protocol>(
    rng: &mut Rng,
    weights: &[u64; ACTION_KINDS],
    actions: &[CheckAction<P>],
) -> usize {
    assert!(!actions.is_empty());
    let total: u64 = actions.iter().map(|action| weights[kind(action)]).sum();
    if total == 0 {
        return rng.below(actions.len() as u64) as usize;
    }
    let mut draw = rng.below(total);
    for (position, action) in actions.iter().enumerate() {
        let weight = weights[kind(action)];
        if draw < weight {
            return position;
        }
        draw -= weight;
    }
    unreachable!("the draw is below the total weight")
}
