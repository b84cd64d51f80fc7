//! Byzantine nodes: the scenario's `[byzantine]` table and the strategies.
//!
//! A Byzantine node runs the protocol's own step function, and a strategy then rewrites
//! the effects that step wrote before they are applied (ByzzFuzz's approach: the faulty
//! node is "the honest node with its messages tampered with", so every attack stays
//! within the protocol's vocabulary). The rewriting happens where effects are applied
//! (`interpret::step` asks its sink, `EffectSink::intercept`), so the simulator's network
//! still stamps each message with its true sender: identity is not forgeable.
//!
//! Generic strategies work on any protocol: `silent`, `crash_like`, `replay`, `delay`,
//! and, with the protocol's perturbation hook (`Registration::perturb`, the fields it
//! allows to be perturbed, as ByzzFuzz's small-scope mutations), `mutate` and
//! `equivocate`. A protocol adds its own (`Registration::byzantine_strategy`), e.g. PBFT's
//! primary that assigns one sequence number to two requests.
//!
//! A strategy's randomness comes from its node's own stream (`Rng::for_node`), so a run
//! with Byzantine nodes is a function of (scenario, seed) and a run without any takes
//! exactly the draws it took before Byzantine nodes existed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::protocol::{Ctx, Effect, Protocol};

/// The scenario's `[byzantine]` table: which nodes are Byzantine from the start of the
/// run and what each does.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ByzantineSpec {
    /// Which nodes: a list of ids (`[0, 3]`) or a role their fresh state starts in
    /// (`"primary"`). Give exactly one of `nodes` and `count`.
    pub nodes: Option<ByzantineNodes>,
    /// A number of nodes, chosen per seed; or `"per_seed"`: each seed also draws how
    /// many, from 0 up to the protocol's fault bound (one past it with
    /// `exceed_fault_bound = true`), so a sweep mixes honest and Byzantine runs.
    pub count: Option<ByzantineCount>,
    /// The strategy, or a list of strategies each Byzantine node draws one of per seed
    /// (`quorumlab list strategies` names them).
    pub strategy: StrategyChoice,
    /// How often `mutate` perturbs a send and `replay` re-sends an old message, per
    /// million sends (steps).
    #[serde(default = "ByzantineSpec::default_per_million")]
    pub per_million: u32,
    /// `delay`: how long each send is held, `[min, max]` in ms.
    #[serde(
        default = "ByzantineSpec::default_delay_ms",
        deserialize_with = "crate::scenario::exactly_two"
    )]
    pub delay_ms: [u64; 2],
    /// `crash_like`: when the node falls silent, `[min, max]` in ms (default: within the
    /// fault phase).
    #[serde(default, deserialize_with = "optional_two")]
    pub silent_after_ms: Option<[u64; 2]>,
    /// `twins`: which peers each of the two copies talks to, `[[0, 2], [3]]` (a peer in
    /// both parts hears both copies, a peer in neither is cut off from the twin), or
    /// `"per_seed"`: each seed puts every peer with copy 0, copy 1 or both.
    pub twins_split: Option<TwinsSplit>,
}

/// How a twin's peers are split between its two copies.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TwinsSplit {
    Parts(Vec<Vec<u32>>),
    PerSeed(PerSeed),
}

fn optional_two<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<[u64; 2]>, D::Error> {
    crate::scenario::exactly_two(deserializer).map(Some)
}

/// How many Byzantine nodes: a number, or drawn per seed within the fault bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ByzantineCount {
    Fixed(u32),
    PerSeed(PerSeed),
}

/// The word `"per_seed"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum PerSeed {
    #[serde(rename = "per_seed")]
    PerSeed,
}

/// Byzantine nodes by id, or by the role they start in.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ByzantineNodes {
    Ids(Vec<u32>),
    Role(String),
}

/// One strategy name, or several to draw from.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StrategyChoice {
    One(String),
    Many(Vec<String>),
}

impl StrategyChoice {
    pub fn names(&self) -> Vec<&str> {
        match self {
            StrategyChoice::One(name) => vec![name.as_str()],
            StrategyChoice::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

impl ByzantineSpec {
    fn default_per_million() -> u32 {
        200_000
    }
    fn default_delay_ms() -> [u64; 2] {
        [50, 500]
    }

    /// Checks that need no protocol: `(field under byzantine, message, fix)`.
    pub fn validate(&self, cluster_size: u32) -> Result<(), (String, String, String)> {
        let error = |field: &str, message: String, fix: &str| {
            Err((field.to_string(), message, fix.to_string()))
        };
        match (&self.nodes, self.count) {
            (Some(_), Some(_)) | (None, None) => {
                return error(
                    "nodes",
                    "give exactly one of `nodes` and `count`".to_string(),
                    "write e.g. `nodes = [0]`, `nodes = \"primary\"`, `count = 1` or \
                     `count = \"per_seed\"`",
                )
            }
            (Some(ByzantineNodes::Ids(ids)), None) => {
                if ids.is_empty() {
                    return error(
                        "nodes",
                        "an empty list".to_string(),
                        "name at least one node",
                    );
                }
                if let Some(id) = ids.iter().find(|&&id| id >= cluster_size) {
                    return error(
                        "nodes",
                        format!("node {id} does not exist (nodes = {cluster_size})"),
                        "use ids below the cluster size",
                    );
                }
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                sorted.dedup();
                if sorted.len() != ids.len() {
                    return error(
                        "nodes",
                        "a node is named twice".to_string(),
                        "name each once",
                    );
                }
            }
            (Some(ByzantineNodes::Role(_)), None) => {}
            (None, Some(ByzantineCount::PerSeed(_))) => {}
            (None, Some(ByzantineCount::Fixed(count))) => {
                if count == 0 || count > cluster_size {
                    return error(
                        "count",
                        format!("{count} Byzantine nodes in a cluster of {cluster_size}"),
                        "use 1 up to the cluster size",
                    );
                }
            }
        }
        if self.strategy.names().is_empty() {
            return error(
                "strategy",
                "no strategy".to_string(),
                "write e.g. `strategy = \"silent\"`",
            );
        }
        self.validate_twins(cluster_size)?;
        if self.per_million > 1_000_000 {
            return error(
                "per_million",
                format!("{} is above 1,000,000 per million", self.per_million),
                "use 0..=1000000",
            );
        }
        for (field, range) in [
            ("delay_ms", Some(self.delay_ms)),
            ("silent_after_ms", self.silent_after_ms),
        ] {
            if let Some([min, max]) = range {
                if min > max || max > 30 * 24 * 3600 * 1000 {
                    return error(
                        field,
                        format!("[{min}, {max}] is not a range with min <= max within 30 days"),
                        &format!("write e.g. `{field} = [50, 500]`"),
                    );
                }
            }
        }
        Ok(())
    }
}

impl ByzantineSpec {
    /// `twins` runs alone and needs a split; a split needs `twins`; a fixed split names
    /// each peer at most once per part, and never a twin itself.
    fn validate_twins(&self, cluster_size: u32) -> Result<(), (String, String, String)> {
        let error =
            |field: &str, message: String, fix: String| Err((field.to_string(), message, fix));
        let names = self.strategy.names();
        let twins = names.contains(&TWINS);
        if twins && names.len() > 1 {
            return error(
                "strategy",
                "`twins` cannot be drawn with other strategies: its node runs two honest \
                 copies, not a rewrite of one"
                    .to_string(),
                "write `strategy = \"twins\"` alone (or another table without it)".to_string(),
            );
        }
        let Some(split) = &self.twins_split else {
            if twins {
                return error(
                    "twins_split",
                    "`twins` needs to know which peers each copy talks to".to_string(),
                    "add e.g. `twins_split = [[0, 2], [3]]` (the peers of copy 0 and of copy 1) \
                     or `twins_split = \"per_seed\"`"
                        .to_string(),
                );
            }
            return Ok(());
        };
        if !twins {
            return error(
                "twins_split",
                "`twins_split` is for `strategy = \"twins\"`".to_string(),
                "remove it, or set `strategy = \"twins\"`".to_string(),
            );
        }
        let TwinsSplit::Parts(parts) = split else {
            return Ok(());
        };
        if parts.len() != 2 {
            return error(
                "twins_split",
                format!("{} parts; a twin has two copies", parts.len()),
                "write two lists, e.g. `twins_split = [[0, 2], [3]]`".to_string(),
            );
        }
        let twin_ids: &[u32] = match &self.nodes {
            Some(ByzantineNodes::Ids(ids)) => ids,
            Some(ByzantineNodes::Role(_)) => &[],
            None => {
                return error(
                    "twins_split",
                    "a fixed split with `count`: the twins are drawn per seed, so the split \
                     cannot know which nodes are peers"
                        .to_string(),
                    "name the twins (`nodes = [1]`), or write `twins_split = \"per_seed\"`"
                        .to_string(),
                )
            }
        };
        for part in parts {
            let mut sorted = part.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() != part.len() {
                return error(
                    "twins_split",
                    format!("{part:?} names a node twice"),
                    "name each peer once per part".to_string(),
                );
            }
            if let Some(id) = part.iter().find(|&&id| id >= cluster_size) {
                return error(
                    "twins_split",
                    format!("node {id} does not exist (nodes = {cluster_size})"),
                    "use ids below the cluster size".to_string(),
                );
            }
            if let Some(id) = part.iter().find(|id| twin_ids.contains(id)) {
                return error(
                    "twins_split",
                    format!("node {id} is a twin itself, not a peer of its copies"),
                    format!("remove {id} from the split"),
                );
            }
        }
        Ok(())
    }
}

/// The strategy that runs a node as two honest copies (Twins).
pub const TWINS: &str = "twins";

/// The generic strategies, with what each does.
pub const GENERIC_STRATEGIES: &[(&str, &str)] = &[
    ("silent", "sends nothing and answers no client"),
    (
        "crash_like",
        "honest until a time drawn from silent_after_ms, then silent (a crash nobody sees)",
    ),
    (
        "replay",
        "besides its own sends, re-sends (per_million of its steps) an old message it sent \
         or received to a random peer",
    ),
    (
        "delay",
        "holds each of its sends for a time drawn from delay_ms",
    ),
    (
        "mutate",
        "perturbs a field the protocol exposes (view, sequence number, digest, ...) in \
         per_million of its sends and client replies (ByzzFuzz's small-scope mutations)",
    ),
    (
        "equivocate",
        "sends a message perturbed the same way to part of the peers it sends to in one \
         step, and the original to the rest",
    ),
    (
        TWINS,
        "two honest copies of the node, same id, each talking to part of the peers \
         (twins_split): equivocation and amnesia from honest code (Twins, Bano et al. 2021)",
    ),
];

/// Which strategy a Byzantine node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    Silent,
    CrashLike,
    Replay,
    Delay,
    Mutate,
    Equivocate,
    /// Two honest copies of the node (`sim/twins.rs`); no step is rewritten.
    Twins,
    /// The protocol's own strategy number `i` (`Registration::byzantine_strategies`).
    Protocol(usize),
}

impl Strategy {
    /// The generic strategy called `name`.
    pub fn generic(name: &str) -> Option<Strategy> {
        Some(match name {
            "silent" => Strategy::Silent,
            "crash_like" => Strategy::CrashLike,
            "replay" => Strategy::Replay,
            "delay" => Strategy::Delay,
            "mutate" => Strategy::Mutate,
            "equivocate" => Strategy::Equivocate,
            TWINS => Strategy::Twins,
            _ => return None,
        })
    }

    /// Does it need the protocol's perturbation hook?
    pub fn needs_perturb(self) -> bool {
        matches!(self, Strategy::Mutate | Strategy::Equivocate)
    }
}

/// How a protocol lets messages and replies be perturbed: a small change to one field the
/// protocol names (e.g. view + 1, another digest), from a random `draw`; `None` when the
/// message has no perturbable field.
pub struct PerturbHooks<P: Protocol> {
    pub message: PerturbFn<P, <P as Protocol>::Msg>,
    pub reply: PerturbFn<P, <P as Protocol>::Reply>,
    /// Draws `0..variants` give every distinct perturbation the hooks make: the model
    /// checker branches over them (the simulator draws any `u64`).
    pub variants: u64,
}

// By hand: a derive would ask `P: Clone`, and the hooks are plain function pointers.
impl<P: Protocol> Clone for PerturbHooks<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: Protocol> Copy for PerturbHooks<P> {}

/// A perturbation of a `T` (a message or a reply) from a random draw.
pub type PerturbFn<P, T> = fn(&<P as Protocol>::Config, &T, u64) -> Option<T>;

/// A protocol-specific strategy: it sees the node's configuration, its (honest) state
/// after the step, and the effects the step wrote, and rewrites them; `draw` is random.
pub type StrategyFn<P> = fn(&Ctx<'_, <P as Protocol>::Config>, &P, &mut Vec<Effect<P>>, u64);

/// A protocol's own strategy, as its registration declares it.
pub struct ProtocolStrategy<P: Protocol> {
    pub name: &'static str,
    pub description: &'static str,
    pub rewrite: StrategyFn<P>,
    /// Draws `0..choices(cluster_size)` give every distinct rewrite (e.g. which half of
    /// the peers is lied to): the model checker branches over them (the simulator draws
    /// any `u64`).
    pub choices: fn(u32) -> u64,
}

// By hand, as `PerturbHooks`: plain data and function pointers.
impl<P: Protocol> Clone for ProtocolStrategy<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: Protocol> Copy for ProtocolStrategy<P> {}

/// Drop a step's sends and replies (`silent`, and `crash_like` once silent).
pub fn silence<P: Protocol>(effects: &mut Vec<Effect<P>>) {
    effects.retain(|effect| !matches!(effect, Effect::Send { .. } | Effect::Reply { .. }));
}

/// Perturb one send or reply with `draw` (`mutate`); returns whether it changed.
pub fn perturb_effect<P: Protocol>(
    hooks: &PerturbHooks<P>,
    config: &P::Config,
    effect: &mut Effect<P>,
    draw: u64,
) -> bool {
    match effect {
        Effect::Send { msg, .. } => {
            if let Some(changed) = (hooks.message)(config, msg, draw) {
                let differs = changed != *msg;
                *msg = changed;
                return differs;
            }
        }
        Effect::Reply { reply, .. } => {
            if let Some(changed) = (hooks.reply)(config, reply, draw) {
                let differs = changed != *reply;
                *reply = changed;
                return differs;
            }
        }
        _ => {}
    }
    false
}

/// Perturb, the same way (`draw`), every send to a node in `split` (bit `to` of it):
/// the other peers get the original (`equivocate`).
pub fn equivocate<P: Protocol>(
    hooks: &PerturbHooks<P>,
    config: &P::Config,
    effects: &mut [Effect<P>],
    draw: u64,
    split: u64,
) {
    for effect in effects.iter_mut() {
        if let Effect::Send { to, msg } = effect {
            if (split >> (to.0 % 64)) & 1 == 1 {
                if let Some(changed) = (hooks.message)(config, msg, draw) {
                    *msg = changed;
                }
            }
        }
    }
}
