//! The model checker's Byzantine nodes: a `[check]` scenario's `[byzantine]` table, with
//! each strategy's random draws turned into nondeterministic choices.
//!
//! In the simulator a strategy rewrites a Byzantine node's step with draws from the
//! node's stream (`sim/byzantine.rs`); here the same rewrites (`crate::byzantine`'s
//! `silence`, `perturb_effect`, `equivocate`, a protocol's `StrategyFn`) are applied for
//! every draw that makes a difference, each a separate action
//! (`CheckAction::Byzantine`). The plain action of a Byzantine node is its step with
//! only the strategy's fixed part (`silent`'s silence), so a Byzantine node may also
//! behave; each choice spends one of `[check] max_byzantine_actions`. The choices:
//! - `mutate`: which one of the step's sends is perturbed, and how (a draw below the
//!   protocol's `PerturbHooks::variants`). Replies are not perturbed: the model has no
//!   clients to lie to.
//! - `equivocate`: which set of peers gets the perturbed copy, and how.
//! - `crash_like`: falling silent at this step, for the rest of the behaviour.
//! - a protocol's own strategy: its draw, below `ProtocolStrategy::choices`.
//! - `silent` and `delay` make no choice (the model checker already delays every message
//!   arbitrarily, so `delay` behaves honestly here).
//!
//! Which nodes are Byzantine is the table's `nodes`, or every set of `count` nodes (one
//! initial state each; with `count = "per_seed"` every set of every size it may draw,
//! the empty one too), and with several strategies every assignment of them: the
//! checker explores them all. `replay` is not supported (a node's memory of old messages
//! would enter the state); the scenario is refused with the field named.

use crate::byzantine::{
    equivocate, perturb_effect, silence, PerturbHooks, ProtocolStrategy, Strategy,
};
use crate::protocol::{Ctx, Effect, NodeId, Protocol};
use crate::registration::Registration;
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::byzantine::ByzantinePlan;

/// A Byzantine node in a model state.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct ByzantineRole {
    /// An index into the model's strategies.
    pub strategy: u8,
    /// A `crash_like` node that has fallen silent.
    pub silent: bool,
}

/// The most equivocation masks a step may branch over (peers of a cluster of 8).
const EQUIVOCATE_NODES_MAX: u32 = 8;

/// The `[byzantine]` table as the model checker explores it.
pub struct ByzantineModel<P: Protocol> {
    /// The sets of Byzantine nodes the initial states range over, each sorted.
    node_sets: Vec<Vec<NodeId>>,
    strategies: Vec<Strategy>,
    perturb: Option<PerturbHooks<P>>,
    /// The protocol's own strategies.
    protocol: Vec<ProtocolStrategy<P>>,
}

impl<P: Protocol> ByzantineModel<P> {
    /// Bind the table (already checked by the simulator's plan) to the model: refuse
    /// what the model checker cannot explore, and a choice-making strategy without a
    /// `max_byzantine_actions` bound.
    pub(crate) fn new(
        registration: &Registration<P>,
        plan: &ByzantinePlan,
        scenario: &Scenario,
        max_byzantine_actions: u32,
    ) -> Result<ByzantineModel<P>, ScenarioError> {
        let cluster_size = scenario.file.nodes;
        for &strategy in &plan.strategies {
            if strategy == Strategy::Twins {
                return Err(scenario.error(
                    "byzantine.strategy",
                    "not yet supported: twins under `quorumlab check` (its two copies would be \
                     two actors sharing one id)",
                    "run the scenario with `quorumlab run` or `sweep`, or check another \
                     strategy",
                ));
            }
            if strategy == Strategy::Replay {
                return Err(scenario.error(
                    "byzantine.strategy",
                    "`replay` is not yet supported by `quorumlab check`: a replaying node's \
                     memory of old messages would enter every state",
                    "use silent, crash_like, delay, mutate, equivocate or the protocol's own \
                     strategies; `quorumlab run` and `sweep` run `replay`",
                ));
            }
            if strategy == Strategy::Equivocate && cluster_size > EQUIVOCATE_NODES_MAX {
                return Err(scenario.error(
                    "byzantine.strategy",
                    format!(
                        "`equivocate` branches over every set of peers, and {cluster_size} \
                         nodes have too many for `quorumlab check`"
                    ),
                    format!("use at most {EQUIVOCATE_NODES_MAX} nodes, or `mutate`"),
                ));
            }
        }
        let chooses = plan
            .strategies
            .iter()
            .any(|strategy| !matches!(strategy, Strategy::Silent | Strategy::Delay));
        if chooses && max_byzantine_actions == 0 {
            return Err(scenario.error(
                "check.max_byzantine_actions",
                "the [byzantine] strategy makes choices (which message to change, and how), \
                 each a model-checker action, and no bound allows any",
                "add e.g. `max_byzantine_actions = 2` under [check]",
            ));
        }
        let node_sets = match &plan.fixed {
            Some(nodes) => {
                let mut nodes = nodes.clone();
                nodes.sort_unstable();
                vec![nodes]
            }
            None if plan.per_seed => (0..=plan.count)
                .flat_map(|count| combinations(cluster_size, count))
                .collect(),
            None => combinations(cluster_size, plan.count),
        };
        Ok(ByzantineModel {
            node_sets,
            strategies: plan.strategies.clone(),
            perturb: registration.perturb,
            protocol: registration.byzantine_strategies.clone(),
        })
    }

    /// Every initial assignment: per node, its role (`None`: honest).
    pub(crate) fn assignments(&self, cluster_size: u32) -> Vec<Vec<Option<ByzantineRole>>> {
        let mut assignments = Vec::new();
        for nodes in &self.node_sets {
            let per_node = self.strategies.len();
            let total = per_node.pow(nodes.len() as u32);
            for mut code in 0..total {
                let mut roles = vec![None; cluster_size as usize];
                for node in nodes {
                    roles[node.index()] = Some(ByzantineRole {
                        strategy: (code % per_node) as u8,
                        silent: false,
                    });
                    code /= per_node;
                }
                assignments.push(roles);
            }
        }
        assignments
    }

    fn strategy(&self, role: &ByzantineRole) -> Strategy {
        self.strategies[usize::from(role.strategy)]
    }

    /// What the node's step does without a choice: `silent` (and a silent `crash_like`)
    /// sends nothing; every other strategy behaves.
    pub(crate) fn base(&self, role: &ByzantineRole, effects: &mut Vec<Effect<P>>) {
        match self.strategy(role) {
            Strategy::Silent => silence(effects),
            Strategy::CrashLike if role.silent => silence(effects),
            _ => {}
        }
    }

    /// How many choices the step whose effects (after `base`) are `effects` offers; some
    /// may rewrite them alike, which the caller dedupes.
    pub(crate) fn choice_count(
        &self,
        role: &ByzantineRole,
        cluster_size: u32,
        effects: &[Effect<P>],
    ) -> u32 {
        let sends = effects
            .iter()
            .filter(|effect| matches!(effect, Effect::Send { .. }))
            .count() as u64;
        let variants = self.perturb.map_or(0, |hooks| hooks.variants);
        let count = match self.strategy(role) {
            Strategy::Silent | Strategy::Delay | Strategy::Replay | Strategy::Twins => 0,
            Strategy::CrashLike => u64::from(!role.silent),
            Strategy::Mutate => sends * variants,
            Strategy::Equivocate if sends == 0 => 0,
            Strategy::Equivocate => ((1u64 << cluster_size) - 1) * variants,
            Strategy::Protocol(index) => (self.protocol[index].choices)(cluster_size),
        };
        u32::try_from(count).expect("bounded by the cluster size and the protocol's choices")
    }

    /// Apply choice `choice` (below `choice_count`) to a step's effects (after `base`);
    /// returns what it does, in words, for counterexamples.
    pub(crate) fn apply_choice(
        &self,
        role: &mut ByzantineRole,
        ctx: &Ctx<'_, P::Config>,
        state: &P,
        effects: &mut Vec<Effect<P>>,
        choice: u32,
    ) -> String {
        let choice = u64::from(choice);
        let variants = self.perturb.map_or(1, |hooks| hooks.variants.max(1));
        match self.strategy(role) {
            Strategy::Silent | Strategy::Delay | Strategy::Replay | Strategy::Twins => {
                unreachable!("no choices (`choice_count`)")
            }
            Strategy::CrashLike => {
                role.silent = true;
                silence(effects);
                "crash_like: falls silent for good".to_string()
            }
            Strategy::Mutate => {
                let hooks = self
                    .perturb
                    .as_ref()
                    .expect("mutate needs hooks (the plan)");
                let (send, draw) = (choice / variants, choice % variants);
                let effect = effects
                    .iter_mut()
                    .filter(|effect| matches!(effect, Effect::Send { .. }))
                    .nth(send as usize)
                    .expect("a choice names one of the step's sends");
                perturb_effect(hooks, ctx.config, effect, draw);
                match effect {
                    Effect::Send { to, msg } => format!("mutate: sends {msg:?} to {to}"),
                    _ => unreachable!("a send"),
                }
            }
            Strategy::Equivocate => {
                let hooks = self.perturb.as_ref().expect("equivocate needs hooks");
                let (split, draw) = (choice / variants + 1, choice % variants);
                equivocate(hooks, ctx.config, effects, draw, split);
                let peers: Vec<String> = (0..ctx.cluster_size)
                    .filter(|node| (split >> node) & 1 == 1)
                    .map(|node| NodeId(node).to_string())
                    .collect();
                format!(
                    "equivocate: {} get variant {draw} of its sends",
                    peers.join(", ")
                )
            }
            Strategy::Protocol(index) => {
                let strategy = &self.protocol[index];
                (strategy.rewrite)(ctx, state, effects, choice);
                format!("{} (choice {choice})", strategy.name)
            }
        }
    }
}

/// Every set of `count` nodes of `cluster_size`, in lexicographic order.
fn combinations(cluster_size: u32, count: u32) -> Vec<Vec<NodeId>> {
    let mut sets = Vec::new();
    let mut current = Vec::new();
    fn extend(
        next: u32,
        cluster_size: u32,
        count: u32,
        current: &mut Vec<NodeId>,
        sets: &mut Vec<Vec<NodeId>>,
    ) {
        if current.len() as u32 == count {
            sets.push(current.clone());
            return;
        }
        for node in next..cluster_size {
            current.push(NodeId(node));
            extend(node + 1, cluster_size, count, current, sets);
            current.pop();
        }
    }
    extend(0, cluster_size, count, &mut current, &mut sets);
    sets
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combinations_are_every_subset_of_the_size() {
        let sets = combinations(4, 2);
        assert_eq!(sets.len(), 6);
        assert_eq!(sets[0], [NodeId(0), NodeId(1)]);
        assert_eq!(sets[5], [NodeId(2), NodeId(3)]);
        assert_eq!(combinations(3, 3).len(), 1);
    }
}
