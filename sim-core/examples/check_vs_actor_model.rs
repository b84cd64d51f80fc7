//! Benchmark: the stateright adapter (`sim_core::check::ProtocolModel`) against
//! stateright's own `ActorModel`, on the same protocol written both ways here — two-phase
//! commit, one coordinator (node 0) and N participants that all vote yes, over an
//! unordered network that neither loses nor duplicates. Both explore the same behaviours
//! (every delivery order), so their unique state counts must agree; the figure of
//! interest is states per second, single-threaded, breadth first.
//!
//! Run: `cargo run --release -p sim-core --example check_vs_actor_model [-- PARTICIPANTS]`
//! (the clock is read here, in an example, never in sim-core itself).
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::borrow::Cow;
use std::time::Instant;

use serde::Serialize;
use sim_core::check::{CheckBounds, ProtocolModel};
use sim_core::*;
use stateright::actor::{Actor, ActorModel, Id, Network, Out};
use stateright::{Checker as _, Expectation, Model};

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
enum Msg {
    Prepare,
    Vote,
    Decide { commit: bool },
}

impl Message for Msg {
    fn kind(&self) -> &'static str {
        match self {
            Msg::Prepare => "prepare",
            Msg::Vote => "vote",
            Msg::Decide { .. } => "decide",
        }
    }
    fn size_bytes(&self) -> u32 {
        16
    }
}

/// The protocol's node state, shared by both encodings.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Node {
    /// Coordinator: the participants that voted yes, as a bitmask.
    votes: u64,
    prepared: bool,
    decided: Option<bool>,
}

impl Node {
    const FRESH: Node = Node {
        votes: 0,
        prepared: false,
        decided: None,
    };

    /// The step both encodings share: returns the messages to send.
    fn on_message(&mut self, id: u32, participants: u32, from: u32, msg: &Msg) -> Vec<(u32, Msg)> {
        match msg {
            Msg::Prepare => {
                self.prepared = true;
                vec![(0, Msg::Vote)]
            }
            Msg::Vote => {
                assert_eq!(id, 0);
                self.votes |= 1 << from;
                let all = ((1u64 << participants) - 1) << 1;
                if self.votes == all && self.decided.is_none() {
                    self.decided = Some(true);
                    (1..=participants)
                        .map(|p| (p, Msg::Decide { commit: true }))
                        .collect()
                } else {
                    Vec::new()
                }
            }
            Msg::Decide { commit } => {
                self.decided = Some(*commit);
                Vec::new()
            }
        }
    }
}

fn atomic(nodes: impl Iterator<Item = Option<bool>>) -> bool {
    let decisions: Vec<bool> = nodes.flatten().collect();
    decisions.windows(2).all(|pair| pair[0] == pair[1])
}

// ---- as a quorumlab Protocol ----

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct TwoPc(Node);

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
enum NoTimer {}

impl TimerName for NoTimer {
    fn kind(&self) -> &'static str {
        match *self {}
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
struct NoReply;

impl ClientReply for NoReply {
    fn outcome(&self) -> ReplyOutcome {
        ReplyOutcome::Failed
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
enum Decided {
    Decided,
}

impl Observation for Decided {
    const KINDS: &'static [&'static str] = &["decided"];
    fn kind(&self) -> &'static str {
        "decided"
    }
}

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
struct Atomicity;

const PROPERTIES: &[PropertyInfo] = &[PropertyInfo {
    name: "atomic",
    description: "no two nodes decide differently",
}];

impl Checker<TwoPc> for Atomicity {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }
    fn on_step(
        &mut self,
        nodes: NodesView<'_, TwoPc>,
        _: NodeId,
        _: &[Decided],
    ) -> Result<(), Violation> {
        self.check_all(nodes)
    }
    fn check_all(&self, nodes: NodesView<'_, TwoPc>) -> Result<(), Violation> {
        match atomic(
            nodes
                .iter()
                .map(|node| node.as_ref().and_then(|n| n.0.decided)),
        ) {
            true => Ok(()),
            false => Err(Violation::new("atomic", "two nodes decided differently")),
        }
    }
}

impl Protocol for TwoPc {
    type Config = ();
    type Msg = Msg;
    type Timer = NoTimer;
    type Durable = ();
    type Op = u64;
    type Reply = NoReply;
    type Obs = Decided;
    type Checker = Atomicity;

    fn new(_: &Ctx<'_, ()>) -> TwoPc {
        TwoPc(Node::FRESH)
    }
    fn recover(_: &Ctx<'_, ()>, _: Option<&()>) -> TwoPc {
        TwoPc(Node::FRESH)
    }
    fn step(&mut self, ctx: &Ctx<'_, ()>, input: Input<TwoPc>, fx: &mut Effects<TwoPc>) {
        let participants = ctx.cluster_size - 1;
        let sends = match input {
            Input::Init if ctx.id.0 == 0 => (1..=participants).map(|p| (p, Msg::Prepare)).collect(),
            Input::Message { from, msg } => self.0.on_message(ctx.id.0, participants, from.0, &msg),
            _ => Vec::new(),
        };
        if self.0.decided.is_some() {
            fx.observe(Decided::Decided);
        }
        for (to, msg) in sends {
            fx.send(NodeId(to), msg);
        }
    }
    fn role(&self) -> &'static str {
        "node"
    }
}

// ---- as a stateright Actor ----

#[derive(Clone)]
struct TwoPcActor {
    participants: u32,
}

impl Actor for TwoPcActor {
    type Msg = Msg;
    type State = Node;
    type Timer = ();
    type Random = ();
    type Storage = ();

    fn on_start(&self, id: Id, _: &Option<()>, o: &mut Out<Self>) -> Node {
        if usize::from(id) == 0 {
            for p in 1..=self.participants {
                o.send(Id::from(p as usize), Msg::Prepare);
            }
        }
        Node::FRESH
    }

    fn on_msg(&self, id: Id, state: &mut Cow<Node>, src: Id, msg: Msg, o: &mut Out<Self>) {
        let mut node = state.as_ref().clone();
        let sends = node.on_message(
            usize::from(id) as u32,
            self.participants,
            usize::from(src) as u32,
            &msg,
        );
        if node != **state {
            *state.to_mut() = node;
        }
        for (to, msg) in sends {
            o.send(Id::from(to as usize), msg);
        }
    }
}

fn measure<M>(name: &str, model: M) -> (usize, f64)
where
    M: Model + Send + Sync + 'static,
    M::State: std::hash::Hash + Send + Sync + Clone + PartialEq + 'static,
    M::Action: Clone + PartialEq,
{
    let start = Instant::now();
    let checker = model.checker().spawn_bfs().join();
    let seconds = start.elapsed().as_secs_f64();
    let unique = checker.unique_state_count();
    let generated = checker.state_count();
    // A `sometimes` that holds is also a discovery (an example); `atomic` must not be one.
    assert!(
        checker.discovery("atomic").is_none(),
        "{name}: atomicity failed"
    );
    assert!(
        checker.discovery("no_panic").is_none(),
        "{name}: a step panicked"
    );
    println!(
        "{name:<34} {unique:>10} unique {generated:>10} generated {seconds:>8.3} s {:>12.0} states/s",
        generated as f64 / seconds
    );
    (unique, generated as f64 / seconds)
}

fn main() {
    let participants: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(6);
    println!("two-phase commit, 1 coordinator + {participants} participants, BFS, 1 thread");
    let bounds = CheckBounds {
        max_crashes: 0,
        max_crashes_after_persist: 0,
        max_mid_step_crashes: 0,
        max_drops: 0,
        max_duplicates: 0,
        max_client_ops: 0,
        max_byzantine_actions: 0,
        max_in_flight: 1000,
        protocol: toml::Table::new(),
        sometimes: vec!["decided".to_string()],
        walks: None,
        walk_depth: sim_core::check::DEFAULT_WALK_DEPTH,
        time: None,
    };
    let registration = Registration::<TwoPc>::new("two-phase-commit-bench", "the bench's 2PC")
        .params::<sim_core::registration::NoFields, sim_core::registration::NoMutants>(
        |_, _| Ok(()),
    );
    let adapter = ProtocolModel::new(&registration, (), participants + 1, bounds)
        .expect("the bench's bounds are valid");
    let actor = ActorModel::new((), ())
        .actors((0..=participants).map(|_| TwoPcActor { participants }))
        .init_network(Network::new_unordered_nonduplicating([]))
        .property(Expectation::Always, "atomic", |_, state| {
            atomic(state.actor_states.iter().map(|s| s.decided))
        })
        .property(Expectation::Sometimes, "decided", |_, state| {
            state.actor_states.iter().any(|s| s.decided.is_some())
        });
    let (adapter_unique, adapter_rate) = measure("quorumlab adapter (ProtocolModel)", adapter);
    let (actor_unique, actor_rate) = measure("stateright ActorModel", actor);
    println!(
        "ratio adapter/actor states/s: {:.2} (goal: >= 1, not slower)",
        adapter_rate / actor_rate
    );
    if adapter_unique != actor_unique {
        println!("note: unique states differ ({adapter_unique} vs {actor_unique}): the encodings' states are not one-to-one");
    }
}
