//! gossip-max: every node starts with its own id and keeps the largest id it has heard of,
//! telling every peer on each gossip round. A node that knows the cluster's largest id
//! (`cluster_size - 1`) is `settled`. The largest value known never decreases (it is
//! persisted before it is gossiped), and once the network heals every node settles.
//!
//! It is here to show what a protocol written outside quorumlab's tree needs: the
//! `Protocol` trait (types, `new`, `recover`, `step`, `role`), a `Checker`, and a
//! `Registration` with its `[params]`, roles and mutants; nothing else.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::*;

sim_core::mutants! {
    /// gossip-max's broken variants.
    pub enum Mutant {
        /// Adopts whatever value it hears, larger or not.
        AdoptAny => "adopt-any", safety,
            "a node adopts every value it hears, so a stale gossip lowers what it knows",
    }
}

#[derive(Clone, Debug)]
pub struct GossipConfig {
    pub round_us: u64,
    pub mutant: Option<Mutant>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Gossip {
    known: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Rumour {
    pub value: u32,
}

impl Message for Rumour {
    fn kind(&self) -> &'static str {
        "rumour"
    }
    fn size_bytes(&self) -> u32 {
        4
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum GossipTimer {
    Round,
}

impl TimerName for GossipTimer {
    fn kind(&self) -> &'static str {
        "round_timeout"
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub enum GossipObs {
    /// The node now knows `value`.
    Learnt { value: u32 },
    /// The node knows the largest id.
    Settled,
}

impl Observation for GossipObs {
    const KINDS: &'static [&'static str] = &["learnt", "settled"];
    fn kind(&self) -> &'static str {
        match self {
            GossipObs::Learnt { .. } => "learnt",
            GossipObs::Settled => "settled",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub enum NoReply {}

impl ClientReply for NoReply {
    fn outcome(&self) -> ReplyOutcome {
        match *self {}
    }
}

/// Ghost state: the largest value each node ever knew.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct GossipChecker {
    highest: Vec<u32>,
}

const MONOTONE: &str = "monotone";
const ALL_SETTLED: &str = "all_settled";

impl Checker<Gossip> for GossipChecker {
    fn properties() -> &'static [PropertyInfo] {
        &[PropertyInfo {
            name: MONOTONE,
            description: "the largest value a node knows never decreases, across restarts too",
        }]
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, Gossip>,
        stepped: NodeId,
        _observations: &[GossipObs],
    ) -> Result<(), Violation> {
        self.highest.resize(nodes.len(), 0);
        let Some(node) = &nodes[stepped.index()] else {
            return Ok(());
        };
        let highest = &mut self.highest[stepped.index()];
        if node.known < *highest {
            return Err(Violation::new(
                MONOTONE,
                format!("{stepped} knew {highest}, now knows {}", node.known),
            ));
        }
        *highest = node.known;
        Ok(())
    }

    fn check_all(&self, nodes: NodesView<'_, Gossip>) -> Result<(), Violation> {
        for (index, node) in nodes.iter().enumerate() {
            let highest = self.highest.get(index).copied().unwrap_or(0);
            if node.as_ref().is_some_and(|node| node.known < highest) {
                return Err(Violation::new(MONOTONE, format!("n{index} went back")));
            }
        }
        Ok(())
    }

    fn liveness_conditions() -> &'static [PropertyInfo] {
        &[PropertyInfo {
            name: ALL_SETTLED,
            description: "every node knows the largest id",
        }]
    }

    fn liveness_holds(&self, name: &str, nodes: NodesView<'_, Gossip>) -> Option<bool> {
        (name == ALL_SETTLED).then(|| {
            let largest = nodes.len() as u32 - 1;
            nodes
                .iter()
                .all(|node| node.as_ref().is_some_and(|n| n.known == largest))
        })
    }
}

impl Protocol for Gossip {
    type Config = GossipConfig;
    type Msg = Rumour;
    type Timer = GossipTimer;
    type Durable = u32;
    type Op = ();
    type Reply = NoReply;
    type Obs = GossipObs;
    type Checker = GossipChecker;

    fn new(ctx: &Ctx<'_, GossipConfig>) -> Gossip {
        Gossip { known: ctx.id.0 }
    }

    fn recover(ctx: &Ctx<'_, GossipConfig>, durable: Option<&u32>) -> Gossip {
        Gossip {
            known: durable.copied().unwrap_or(ctx.id.0),
        }
    }

    fn step(
        &mut self,
        ctx: &Ctx<'_, GossipConfig>,
        input: Input<Gossip>,
        fx: &mut Effects<Gossip>,
    ) {
        match input {
            Input::Init | Input::Restart => {
                fx.persist(self.known);
                fx.set_timer(
                    GossipTimer::Round,
                    ctx.config.round_us / 2,
                    ctx.config.round_us,
                );
            }
            Input::Timer(GossipTimer::Round) => {
                fx.broadcast(ctx, Rumour { value: self.known });
                fx.set_timer(
                    GossipTimer::Round,
                    ctx.config.round_us / 2,
                    ctx.config.round_us,
                );
            }
            Input::Message { msg, .. } => {
                let adopt_any = ctx.config.mutant == Some(Mutant::AdoptAny);
                if msg.value > self.known || (adopt_any && msg.value != self.known) {
                    self.known = msg.value;
                    // Durable before anyone hears of it.
                    fx.persist(self.known);
                    fx.observe(GossipObs::Learnt { value: self.known });
                    if self.known == ctx.cluster_size - 1 {
                        fx.observe(GossipObs::Settled);
                    }
                }
            }
            Input::Client { .. } => unreachable!("gossip-max takes no clients"),
        }
    }

    fn role(&self) -> &'static str {
        // The role cannot see the cluster size, so a node that has heard of any larger
        // id than its own is "spreading"; the checker's liveness condition says settled.
        if self.known == 0 {
            "waiting"
        } else {
            "spreading"
        }
    }
}

/// gossip-max's `[params]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GossipParams {
    /// A gossip round lasts between half this and this many ms.
    #[serde(default = "GossipParams::default_round_ms")]
    pub round_ms: u64,
}

impl GossipParams {
    fn default_round_ms() -> u64 {
        20
    }
}

pub fn registration() -> Registration<Gossip> {
    Registration::new(
        "gossip-max",
        "an outside crate's protocol: every node learns the largest id by gossip",
    )
    .params::<GossipParams, Mutant>(|params, setup| {
        if params.round_ms == 0 || params.round_ms > 60_000 {
            return Err(ConfigError {
                field: "round_ms".to_string(),
                message: format!("{} ms is not a gossip round", params.round_ms),
                fix: "write e.g. `round_ms = 20`".to_string(),
            });
        }
        Ok(GossipConfig {
            round_us: params.round_ms * 1000,
            mutant: setup.mutant,
        })
    })
    .roles(&[
        RoleInfo {
            name: "waiting",
            colour: "#9ecae1",
            leader: false,
        },
        RoleInfo {
            name: "spreading",
            colour: "#31a354",
            leader: false,
        },
    ])
    .fault_bound(|cluster_size| FaultBound {
        crashed: cluster_size.saturating_sub(1),
        byzantine: 0,
    })
}
