//! The simulator's Byzantine nodes: which nodes they are (resolved per seed), and the
//! strategies of `crate::byzantine` applied to each step's effects before the simulator
//! applies them (`EffectSink::intercept`).
//!
//! Each step a strategy changes is a misbehaviour: counted (`faults_fired.byzantine_steps`)
//! and, when recording a tape, written down with the draws the strategy made at that
//! step (`[[tape.byzantine]]`, keyed by the node's step count). A taped run replays
//! those draws at those steps and leaves every other step of the node alone, so the
//! shrinker drops a misbehaviour by dropping its entry.

use crate::byzantine::{
    equivocate, perturb_effect, silence, ByzantineCount, ByzantineNodes, ByzantineSpec, Strategy,
    TwinsSplit,
};
use crate::protocol::*;
use crate::registration::Registration;
use crate::rng::{Purpose, Rng};
use crate::scenario::Scenario;
use crate::scenario::ScenarioError;
use crate::tape::Tape;

use super::LEADER_ALIAS;

/// The `[byzantine]` table bound to a protocol: strategies resolved, the bound checked.
#[derive(Clone, Debug)]
pub(crate) struct ByzantinePlan {
    /// Fixed nodes (ids, or the nodes a role names), or `None` to draw `count` per seed.
    pub(crate) fixed: Option<Vec<NodeId>>,
    /// How many nodes to draw (`count`), or with `per_seed` the most to draw.
    pub(crate) count: u32,
    /// `count = "per_seed"`: each seed draws how many, from 0 to `count`.
    pub(crate) per_seed: bool,
    pub(crate) strategies: Vec<Strategy>,
    per_million: u32,
    delay_us: [u64; 2],
    silent_after_us: [u64; 2],
    /// `twins`: how the peers are split between the two copies.
    twins_split: Option<TwinsSplit>,
}

/// A twin's peers per copy: `parts[copy][peer]` says whether they talk.
pub(super) type TwinParts = [Vec<bool>; 2];

/// The role a Byzantine node shows in the role timeline (reports give it its own colour).
pub(crate) const ROLE: &str = "byzantine";

/// The most messages a `replay` node remembers.
const REPLAY_MEMORY: usize = 64;

impl ByzantinePlan {
    /// Bind `spec` to `P`: strategy names known, hooks present, the bound respected.
    pub(crate) fn new<P: Protocol>(
        registration: &Registration<P>,
        config: &P::Config,
        scenario: &Scenario,
        spec: &ByzantineSpec,
    ) -> Result<ByzantinePlan, ScenarioError> {
        let file = &scenario.file;
        let name = registration.name;
        let mut strategies = Vec::new();
        for strategy_name in spec.strategy.names() {
            let strategy = Strategy::generic(strategy_name)
                .or_else(|| {
                    registration
                        .byzantine_strategies
                        .iter()
                        .position(|s| s.name == strategy_name)
                        .map(Strategy::Protocol)
                })
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        registration.strategy_names().iter().map(|s| s.0).collect();
                    scenario.error(
                        "byzantine.strategy",
                        format!("{name} has no Byzantine strategy `{strategy_name}`"),
                        format!("use one of: {}", known.join(", ")),
                    )
                })?;
            if strategy.needs_perturb() && registration.perturb.is_none() {
                return Err(scenario.error(
                    "byzantine.strategy",
                    format!("`{strategy_name}` needs fields to perturb, and {name} exposes none"),
                    "use silent, crash_like, replay or delay",
                ));
            }
            strategies.push(strategy);
        }
        let fixed = match &spec.nodes {
            None => None,
            Some(ByzantineNodes::Ids(ids)) => Some(ids.iter().copied().map(NodeId).collect()),
            Some(ByzantineNodes::Role(role)) => {
                let role = match role.as_str() {
                    LEADER_ALIAS => registration.leader_role().unwrap_or(LEADER_ALIAS),
                    other => other,
                };
                let nodes: Vec<NodeId> = (0..file.nodes)
                    .map(NodeId)
                    .filter(|&id| {
                        let ctx = Ctx::new(id, file.nodes, config);
                        P::new(&ctx).role() == role
                    })
                    .collect();
                if nodes.is_empty() {
                    let known: Vec<&str> = registration.roles.iter().map(|r| r.name).collect();
                    return Err(scenario.error(
                        "byzantine.nodes",
                        format!("no node of {name} starts in role `{role}`"),
                        format!(
                            "use node ids, or a role nodes start in: {}",
                            known.join(", ")
                        ),
                    ));
                }
                Some(nodes)
            }
        };
        if let (Some(nodes), Some(TwinsSplit::Parts(parts))) = (&fixed, &spec.twins_split) {
            if let Some(id) = parts
                .iter()
                .flatten()
                .find(|id| nodes.contains(&NodeId(**id)))
            {
                return Err(scenario.error(
                    "byzantine.twins_split",
                    format!("node {id} is a twin itself (its role), not a peer of its copies"),
                    format!("remove {id} from the split"),
                ));
            }
        }
        let bound = (registration.fault_bound)(file.nodes).byzantine;
        let per_seed = matches!(spec.count, Some(ByzantineCount::PerSeed(_)));
        let count = match (&fixed, spec.count) {
            (Some(nodes), _) => nodes.len() as u32,
            (None, Some(ByzantineCount::Fixed(count))) => count,
            // Up to the bound, or one past it to show the bound is tight.
            (None, _) => (bound + u32::from(file.exceed_fault_bound)).min(file.nodes),
        };
        if per_seed && count == 0 {
            return Err(scenario.error(
                "byzantine.count",
                format!(
                    "`per_seed` draws up to {name}'s bound, which is 0 Byzantine nodes in a \
                     cluster of {}: every run would be honest",
                    file.nodes
                ),
                "set `exceed_fault_bound = true` (then up to 1 per seed), or name the nodes",
            ));
        }
        if count > bound && !file.exceed_fault_bound {
            let field = if spec.count.is_some() {
                "byzantine.count"
            } else {
                "byzantine.nodes"
            };
            return Err(scenario.error(
                field,
                format!(
                    "{count} Byzantine nodes, but {name} tolerates at most {bound} in a cluster \
                     of {}",
                    file.nodes
                ),
                format!(
                    "use at most {bound}, or set `exceed_fault_bound = true` to show the bound \
                     is tight"
                ),
            ));
        }
        let silent_after_ms = spec.silent_after_ms.unwrap_or([0, file.duration_ms]);
        Ok(ByzantinePlan {
            fixed,
            count,
            per_seed,
            strategies,
            per_million: spec.per_million,
            delay_us: spec.delay_ms.map(|ms| ms * 1000),
            silent_after_us: silent_after_ms.map(|ms| ms * 1000),
            twins_split: spec.twins_split.clone(),
        })
    }

    /// This seed's Byzantine nodes, each with its strategy and its own stream.
    pub(super) fn nodes<P: Protocol>(
        &self,
        seed: u64,
        cluster_size: u32,
    ) -> Vec<Option<ByzantineNode<P>>> {
        let mut choose = Rng::new(seed, Purpose::Byzantine);
        let chosen: Vec<NodeId> = match &self.fixed {
            Some(nodes) => nodes.clone(),
            None => {
                let count = if self.per_seed {
                    choose.below(u64::from(self.count) + 1) as usize
                } else {
                    self.count as usize
                };
                // A partial Fisher-Yates shuffle: `count` distinct nodes.
                let mut all: Vec<NodeId> = (0..cluster_size).map(NodeId).collect();
                for i in 0..count {
                    let j = i + choose.below((all.len() - i) as u64) as usize;
                    all.swap(i, j);
                }
                all.truncate(count);
                all
            }
        };
        let mut nodes: Vec<Option<ByzantineNode<P>>> = (0..cluster_size).map(|_| None).collect();
        for &id in &chosen {
            let mut rng = Rng::for_node(seed, id.0);
            let strategy = self.strategies[rng.below(self.strategies.len() as u64) as usize];
            let [min, max] = self.silent_after_us;
            let silent_from_us = rng.range_inclusive(min, max);
            let twin = (strategy == Strategy::Twins)
                .then(|| self.twin_parts(&chosen, cluster_size, &mut rng));
            nodes[id.index()] = Some(ByzantineNode {
                twin,
                strategy,
                rng,
                seen: Vec::new(),
                silent_from_us,
                steps: 0,
                honest_step: false,
            });
        }
        nodes
    }

    /// A twin's split: the scenario's, or drawn from the node's own stream (each peer
    /// that is not a twin with copy 0, copy 1, or both, alike; twins talk copy to copy).
    fn twin_parts(&self, twins: &[NodeId], cluster_size: u32, rng: &mut Rng) -> TwinParts {
        let mut parts = [
            vec![false; cluster_size as usize],
            vec![false; cluster_size as usize],
        ];
        match self
            .twins_split
            .as_ref()
            .expect("a twin has a split (validated)")
        {
            TwinsSplit::Parts(fixed) => {
                for (copy, part) in fixed.iter().enumerate() {
                    for &peer in part {
                        parts[copy][peer as usize] = true;
                    }
                }
            }
            TwinsSplit::PerSeed(_) => {
                for peer in (0..cluster_size).filter(|&peer| !twins.contains(&NodeId(peer))) {
                    match rng.below(3) {
                        0 => parts[0][peer as usize] = true,
                        1 => parts[1][peer as usize] = true,
                        _ => {
                            parts[0][peer as usize] = true;
                            parts[1][peer as usize] = true;
                        }
                    }
                }
            }
        }
        parts
    }
}

/// One Byzantine node's strategy and what it needs between steps.
pub(super) struct ByzantineNode<P: Protocol> {
    strategy: Strategy,
    /// `twins`: its split, until the simulator takes it to make the second copy.
    pub(super) twin: Option<TwinParts>,
    rng: Rng,
    /// Messages it sent or received (`replay`), at most `REPLAY_MEMORY`.
    seen: Vec<P::Msg>,
    /// When a `crash_like` node falls silent.
    silent_from_us: TimeUs,
    /// The node's steps so far (the key of its tape entries).
    steps: u64,
    /// In a taped run: this step has no entry, so the strategy leaves it alone.
    honest_step: bool,
}

impl<P: Protocol> ByzantineNode<P> {
    /// Before each of the node's steps (and before `saw`): in a taped run the step's
    /// draws come from its tape entry, and a step without one is honest; when recording,
    /// the step's draws are logged.
    pub(super) fn begin_step(&mut self, node: NodeId, tape: Option<&Tape>, recording: bool) {
        self.honest_step = false;
        if let Some(tape) = tape {
            let draws = tape.byzantine(node.0, self.steps);
            self.honest_step = draws.is_none();
            self.rng.follow_script(draws.unwrap_or_default().to_vec());
        }
        if recording {
            self.rng.start_log();
        }
        self.steps += 1;
    }

    /// After the step's rewrite: its tape key and draws, to record when the strategy
    /// changed the step (or a `replay` node drew, since what it remembers depends on it).
    pub(super) fn end_step(&mut self, changed: bool) -> Option<(u64, Vec<u64>)> {
        let draws = self.rng.take_log();
        let keep = changed || (self.strategy == Strategy::Replay && !draws.is_empty());
        keep.then(|| (self.steps - 1, draws))
    }

    /// Remember a message for `replay`.
    pub(super) fn saw(&mut self, msg: &P::Msg) {
        if self.strategy != Strategy::Replay {
            return;
        }
        if self.seen.len() < REPLAY_MEMORY {
            self.seen.push(msg.clone());
        } else {
            let slot = self.rng.below(REPLAY_MEMORY as u64) as usize;
            self.seen[slot] = msg.clone();
        }
    }

    /// Rewrite one step's effects; returns the extra delay of each send left in
    /// `effects`, in order (`delay`; empty otherwise).
    pub(super) fn rewrite(
        &mut self,
        registration: &Registration<P>,
        ctx: &Ctx<'_, P::Config>,
        state: &P,
        effects: &mut Vec<Effect<P>>,
        plan: &ByzantinePlan,
        now: TimeUs,
    ) -> Vec<TimeUs> {
        if self.honest_step {
            return Vec::new();
        }
        match self.strategy {
            // Both copies are honest: the twin misbehaves by existing twice.
            Strategy::Twins => {}
            Strategy::Silent => silence(effects),
            Strategy::CrashLike => {
                if now >= self.silent_from_us {
                    silence(effects);
                }
            }
            Strategy::Replay => {
                let sent: Vec<P::Msg> = effects
                    .iter()
                    .filter_map(|e| match e {
                        Effect::Send { msg, .. } => Some(msg.clone()),
                        _ => None,
                    })
                    .collect();
                for msg in &sent {
                    self.saw(msg);
                }
                if !self.seen.is_empty()
                    && ctx.cluster_size > 1
                    && self.rng.chance(plan.per_million)
                {
                    let msg = self.seen[self.rng.below(self.seen.len() as u64) as usize].clone();
                    let peer = self.rng.below(u64::from(ctx.cluster_size) - 1) as u32;
                    let to = NodeId(if peer >= ctx.id.0 { peer + 1 } else { peer });
                    effects.push(Effect::Send { to, msg });
                }
            }
            Strategy::Delay => {
                let [min, max] = plan.delay_us;
                return effects
                    .iter()
                    .filter(|e| matches!(e, Effect::Send { .. }))
                    .map(|_| self.rng.range_inclusive(min, max))
                    .collect();
            }
            Strategy::Mutate => {
                let hooks = registration.perturb.as_ref().expect("checked by the plan");
                for effect in effects.iter_mut() {
                    if !self.rng.chance(plan.per_million) {
                        continue;
                    }
                    let draw = self.rng.next_u64();
                    perturb_effect(hooks, ctx.config, effect, draw);
                }
            }
            Strategy::Equivocate => {
                let hooks = registration.perturb.as_ref().expect("checked by the plan");
                // One draw per step: the same message is perturbed the same way for every
                // peer in the perturbed part, which `split` picks (bit `to` of it).
                let draw = self.rng.next_u64();
                let split = self.rng.next_u64();
                equivocate(hooks, ctx.config, effects, draw, split);
            }
            Strategy::Protocol(index) => {
                let draw = self.rng.next_u64();
                (registration.byzantine_strategies[index].rewrite)(ctx, state, effects, draw);
            }
        }
        Vec::new()
    }
}
