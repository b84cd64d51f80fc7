//! The network model: physical links in a topology, per-link latency distributions,
//! bandwidth, loss, duplication and reordering, plus logical partitions and omissions.
//!
//! Non-adjacent nodes communicate over the shortest path of the topology (ties go to the
//! lowest node ids); routing is done by the network, not by the protocol's nodes, so a
//! crashed node does not stop traffic passing "through" it. Each hop draws its own
//! latency, loss and serialisation delay. Partitions are end-to-end filters on
//! (source, target) pairs, like Jepsen's iptables rules: a message between two nodes
//! that may not talk is dropped whatever path it would take.

use serde::{Deserialize, Serialize};

use crate::protocol::{NodeId, TimeUs};
use crate::rng::Rng;
use crate::tape::{MessageEntry, TapeDrop};

/// A latency distribution. All times in microseconds; `cap_us` clips any draw.
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema, PartialEq)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencySpec {
    Constant {
        us: u64,
    },
    Uniform {
        min_us: u64,
        max_us: u64,
    },
    Normal {
        mean_us: u64,
        stddev_us: u64,
        cap_us: Option<u64>,
    },
    Exponential {
        mean_us: u64,
        cap_us: Option<u64>,
    },
    /// Long tail: Pareto with minimum `scale_us` and shape `alpha` (> 0; smaller is
    /// heavier); clipped at `cap_us` (default 100 × scale).
    Pareto {
        scale_us: u64,
        alpha: f64,
        cap_us: Option<u64>,
    },
}

impl Default for LatencySpec {
    fn default() -> Self {
        LatencySpec::Uniform {
            min_us: 1_000,
            max_us: 5_000,
        }
    }
}

impl LatencySpec {
    pub fn validate(&self) -> Result<(), (String, String)> {
        if let Some(too_long) = self.times().into_iter().find(|&us| us > TIME_MAX_US) {
            return Err((
                format!("{too_long} us is longer than the simulator runs (at most 30 days)"),
                format!("keep every time of the distribution at most {TIME_MAX_US} us"),
            ));
        }
        match *self {
            LatencySpec::Uniform { min_us, max_us } if min_us > max_us => Err((
                format!("min_us {min_us} > max_us {max_us}"),
                "make min_us <= max_us".into(),
            )),
            LatencySpec::Pareto { alpha, .. } if !(alpha > 0.0 && alpha.is_finite()) => Err((
                format!("alpha {alpha} is not a positive number"),
                "use e.g. alpha = 1.5".into(),
            )),
            LatencySpec::Pareto { scale_us: 0, .. } => Err((
                "scale_us must be > 0".into(),
                "use e.g. scale_us = 1000".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Every time the distribution states, in microseconds.
    fn times(&self) -> Vec<u64> {
        match *self {
            LatencySpec::Constant { us } => vec![us],
            LatencySpec::Uniform { min_us, max_us } => vec![min_us, max_us],
            LatencySpec::Normal {
                mean_us,
                stddev_us,
                cap_us,
            } => [Some(mean_us), Some(stddev_us), cap_us]
                .into_iter()
                .flatten()
                .collect(),
            LatencySpec::Exponential { mean_us, cap_us } => {
                [Some(mean_us), cap_us].into_iter().flatten().collect()
            }
            LatencySpec::Pareto {
                scale_us, cap_us, ..
            } => [Some(scale_us), cap_us].into_iter().flatten().collect(),
        }
    }

    pub fn draw(&self, rng: &mut Rng) -> TimeUs {
        match *self {
            LatencySpec::Constant { us } => us,
            LatencySpec::Uniform { min_us, max_us } => rng.range_inclusive(min_us, max_us),
            LatencySpec::Normal {
                mean_us,
                stddev_us,
                cap_us,
            } => {
                let draw = mean_us as f64 + stddev_us as f64 * rng.standard_normal();
                clip(draw, cap_us.unwrap_or(mean_us + 10 * stddev_us))
            }
            LatencySpec::Exponential { mean_us, cap_us } => clip(
                rng.exponential(mean_us as f64),
                cap_us.unwrap_or(mean_us * 20),
            ),
            LatencySpec::Pareto {
                scale_us,
                alpha,
                cap_us,
            } => clip(
                rng.pareto(scale_us as f64, alpha),
                cap_us.unwrap_or(scale_us * 100),
            ),
        }
    }

    /// The smallest value a draw can take (the tape's benign latency).
    pub fn min_us(&self) -> TimeUs {
        match *self {
            LatencySpec::Constant { us } => us,
            LatencySpec::Uniform { min_us, .. } => min_us,
            LatencySpec::Normal { .. } | LatencySpec::Exponential { .. } => 0,
            LatencySpec::Pareto { scale_us, .. } => scale_us,
        }
    }

    /// The largest value a draw can take.
    pub fn max_us(&self) -> TimeUs {
        match *self {
            LatencySpec::Constant { us } => us,
            LatencySpec::Uniform { max_us, .. } => max_us,
            LatencySpec::Normal {
                mean_us,
                stddev_us,
                cap_us,
            } => cap_us.unwrap_or(mean_us + 10 * stddev_us),
            LatencySpec::Exponential { mean_us, cap_us } => cap_us.unwrap_or(mean_us * 20),
            LatencySpec::Pareto {
                scale_us, cap_us, ..
            } => cap_us.unwrap_or(scale_us * 100),
        }
    }
}

/// The longest time a network setting may state (the scenario's own limit), so a delay
/// added to the clock never overflows it.
const TIME_MAX_US: u64 = crate::scenario::SIMULATED_TIME_MAX_US;

fn clip(value: f64, cap: u64) -> u64 {
    if value.is_nan() || value <= 0.0 {
        0
    } else if value >= cap as f64 {
        cap
    } else {
        value as u64
    }
}

#[derive(
    Clone, Copy, Debug, Default, Deserialize, Serialize, schemars::JsonSchema, PartialEq, Eq,
)]
#[serde(rename_all = "snake_case")]
pub enum Topology {
    /// Every pair of nodes is linked.
    #[default]
    Mesh,
    /// Node 0 is the hub; every other node links to it only.
    Star,
    /// Node i links to i-1 and i+1 (mod n).
    Ring,
    /// A binary tree: node i's parent is (i-1)/2.
    Tree,
    /// A random connected graph: a random spanning tree plus each other pair linked with
    /// probability `random_extra_link_per_million` (drawn from the network stream).
    Random,
}

/// Per-link overrides of the network's defaults, for the physical link between two
/// nodes (both directions unless `one_way`).
#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub from: u32,
    pub to: u32,
    #[serde(default)]
    pub one_way: bool,
    pub latency: Option<LatencySpec>,
    pub drop_per_million: Option<u32>,
    pub bandwidth_bytes_per_sec: Option<u64>,
}

#[derive(Clone, Debug, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    #[serde(default)]
    pub latency: LatencySpec,
    #[serde(default)]
    pub drop_per_million: u32,
    #[serde(default)]
    pub duplicate_per_million: u32,
    /// A reordered message gets an extra delay drawn from `0..=reorder_delay_us`.
    #[serde(default)]
    pub reorder_per_million: u32,
    #[serde(default = "default_reorder_delay")]
    pub reorder_delay_us: u64,
    /// 0 = unlimited. Otherwise each link serialises messages one after another.
    #[serde(default)]
    pub bandwidth_bytes_per_sec: u64,
    #[serde(default)]
    pub topology: Topology,
    #[serde(default = "default_extra_link")]
    pub random_extra_link_per_million: u32,
    /// The delay bound of synchronous networks, and of partially synchronous ones after
    /// GST. Default: the latency distribution's maximum.
    pub bound_us: Option<u64>,
    #[serde(default)]
    pub links: Vec<LinkSpec>,
}

fn default_reorder_delay() -> u64 {
    20_000
}
fn default_extra_link() -> u32 {
    300_000
}

impl Default for NetworkSpec {
    fn default() -> Self {
        toml::from_str("").expect("an empty network table is valid")
    }
}

impl NetworkSpec {
    /// Returns `(field, message, fix)` on error.
    pub fn validate(&self, nodes: u32) -> Result<(), (String, String, String)> {
        self.latency
            .validate()
            .map_err(|(message, fix)| ("network.latency".to_string(), message, fix))?;
        for (field, value) in [
            ("drop_per_million", self.drop_per_million),
            ("duplicate_per_million", self.duplicate_per_million),
            ("reorder_per_million", self.reorder_per_million),
            (
                "random_extra_link_per_million",
                self.random_extra_link_per_million,
            ),
        ] {
            if value > 1_000_000 {
                return Err((
                    format!("network.{field}"),
                    format!("{value} is above 1,000,000 per million"),
                    "use 0..=1000000".into(),
                ));
            }
        }
        for (field, value) in [
            ("reorder_delay_us", Some(self.reorder_delay_us)),
            ("bound_us", self.bound_us),
        ] {
            if value.is_some_and(|us| us > TIME_MAX_US) {
                return Err((
                    format!("network.{field}"),
                    format!(
                        "{} us is longer than the simulator runs (at most 30 days)",
                        value.unwrap_or(0)
                    ),
                    format!("use at most {TIME_MAX_US} us"),
                ));
            }
        }
        for (index, link) in self.links.iter().enumerate() {
            let field = format!("network.links[{index}]");
            if link.from >= nodes || link.to >= nodes || link.from == link.to {
                return Err((
                    format!("{field}.from"),
                    format!(
                        "link {} -> {} does not join two distinct nodes of 0..{nodes}",
                        link.from, link.to
                    ),
                    format!("use node ids below {nodes}"),
                ));
            }
            if let Some(latency) = &link.latency {
                latency
                    .validate()
                    .map_err(|(message, fix)| (format!("{field}.latency"), message, fix))?;
            }
        }
        Ok(())
    }
}

/// One directed physical link's properties.
#[derive(Clone, Debug)]
struct Link {
    latency: LatencySpec,
    drop_per_million: u32,
    bandwidth_bytes_per_sec: u64,
    /// When the link is free to serialise the next message (bandwidth model).
    busy_until_us: TimeUs,
}

/// Why a message did not arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropCause {
    Partition,
    Loss,
    SendOmission,
    ReceiveOmission,
    NoRoute,
    Crashed,
    /// Between a twin's copy and a peer outside its part (`twins_split`).
    TwinSplit,
}

impl DropCause {
    pub fn name(self) -> &'static str {
        match self {
            DropCause::Partition => "partition",
            DropCause::Loss => "loss",
            DropCause::SendOmission => "send_omission",
            DropCause::ReceiveOmission => "receive_omission",
            DropCause::NoRoute => "no_route",
            DropCause::Crashed => "crashed",
            DropCause::TwinSplit => "twin_split",
        }
    }
}

/// Faults layered on the network for a while (bursts).
#[derive(Clone, Debug, Default)]
pub struct Bursts {
    pub loss_per_million: u32,
    pub duplicate_per_million: u32,
    pub extra_latency_us: u64,
}

/// A reordering fault (`action = "reorder"`): messages from `from` to `to` (empty: any)
/// of `kinds` (empty: any) each get, with probability `per_million`, an extra delay in
/// `min_delay_us..=max_delay_us`, so that later messages overtake them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ReorderRule {
    pub per_million: u32,
    pub min_delay_us: u64,
    pub max_delay_us: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
}

impl ReorderRule {
    pub fn matches(&self, from: NodeId, to: NodeId, kind: &str) -> bool {
        (self.from.is_empty() || self.from.contains(&from.0))
            && (self.to.is_empty() || self.to.contains(&to.0))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
    }
}

/// The network's run-time state.
#[derive(Clone, Debug)]
pub struct Network {
    nodes: u32,
    /// Directed links, `links[from * n + to]`, `None` where no physical link exists.
    links: Vec<Option<Link>>,
    /// `routes[from * n + to]`: the hops of the shortest path.
    routes: Vec<Vec<(u32, u32)>>,
    /// `blocked[from * n + to]`: how many active cuts (partitions) forbid this pair.
    blocked: Vec<u32>,
    pub send_omission_per_million: Vec<u32>,
    pub receive_omission_per_million: Vec<u32>,
    pub bursts: Bursts,
    /// Active reordering faults, in the order they fired.
    pub reorder_rules: Vec<ReorderRule>,
    duplicate_per_million: u32,
    reorder_per_million: u32,
    reorder_delay_us: u64,
    /// After GST (or always, for synchronous networks): every delay is at most this and
    /// nothing is lost.
    pub bounded: Option<TimeUs>,
    bound_us: TimeUs,
}

/// Where a sent message goes: delivered after `delay_us`, and maybe a duplicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    Deliver {
        delay_us: TimeUs,
        duplicate_delay_us: Option<TimeUs>,
    },
    Drop(DropCause),
}

impl Network {
    pub fn new(spec: &NetworkSpec, nodes: u32, rng: &mut Rng) -> Network {
        let n = nodes as usize;
        let default_link = Link {
            latency: spec.latency.clone(),
            drop_per_million: spec.drop_per_million,
            bandwidth_bytes_per_sec: spec.bandwidth_bytes_per_sec,
            busy_until_us: 0,
        };
        let mut adjacent = vec![false; n * n];
        let mut link_pair = |a: usize, b: usize| {
            adjacent[a * n + b] = true;
            adjacent[b * n + a] = true;
        };
        match spec.topology {
            Topology::Mesh => {
                (0..n).for_each(|a| (0..n).filter(|&b| b != a).for_each(|b| link_pair(a, b)))
            }
            Topology::Star => (1..n).for_each(|b| link_pair(0, b)),
            Topology::Ring if n > 1 => (0..n).for_each(|a| link_pair(a, (a + 1) % n)),
            Topology::Ring => {}
            Topology::Tree => (1..n).for_each(|b| link_pair((b - 1) / 2, b)),
            Topology::Random => {
                // A random spanning tree keeps the graph connected.
                for b in 1..n {
                    let a = rng.below(b as u64) as usize;
                    link_pair(a, b);
                }
                for a in 0..n {
                    for b in a + 1..n {
                        if rng.chance(spec.random_extra_link_per_million) {
                            link_pair(a, b);
                        }
                    }
                }
            }
        }
        let mut links: Vec<Option<Link>> = (0..n * n)
            .map(|index| adjacent[index].then(|| default_link.clone()))
            .collect();
        for link in &spec.links {
            let (from, to) = (link.from as usize, link.to as usize);
            let directions: &[(usize, usize)] = if link.one_way {
                &[(from, to)]
            } else {
                &[(from, to), (to, from)]
            };
            for &(a, b) in directions {
                let entry = links[a * n + b].get_or_insert_with(|| default_link.clone());
                if let Some(latency) = &link.latency {
                    entry.latency = latency.clone();
                }
                if let Some(drop) = link.drop_per_million {
                    entry.drop_per_million = drop;
                }
                if let Some(bandwidth) = link.bandwidth_bytes_per_sec {
                    entry.bandwidth_bytes_per_sec = bandwidth;
                }
            }
        }
        let routes = shortest_paths(n, &links);
        let bound_us = spec.bound_us.unwrap_or_else(|| {
            let hops = routes.iter().map(Vec::len).max().unwrap_or(1).max(1) as u64;
            let per_hop = links
                .iter()
                .flatten()
                .map(|link| link.latency.max_us())
                .max()
                .unwrap_or(0);
            hops * per_hop
        });
        Network {
            nodes,
            links,
            routes,
            blocked: vec![0; n * n],
            send_omission_per_million: vec![0; n],
            receive_omission_per_million: vec![0; n],
            bursts: Bursts::default(),
            reorder_rules: Vec::new(),
            duplicate_per_million: spec.duplicate_per_million,
            reorder_per_million: spec.reorder_per_million,
            reorder_delay_us: spec.reorder_delay_us,
            bounded: None,
            bound_us,
        }
    }

    pub fn bound_us(&self) -> TimeUs {
        self.bound_us
    }

    /// Enter the bounded regime (GST): no loss, every delay within the bound.
    pub fn stabilise(&mut self) {
        self.bounded = Some(self.bound_us);
    }

    fn index(&self, from: NodeId, to: NodeId) -> usize {
        from.index() * self.nodes as usize + to.index()
    }

    pub fn is_blocked(&self, from: NodeId, to: NodeId) -> bool {
        self.blocked[self.index(from, to)] > 0
    }

    pub fn block(&mut self, from: NodeId, to: NodeId) {
        let index = self.index(from, to);
        self.blocked[index] += 1;
    }

    /// Lift one cut's block of this pair.
    pub fn unblock(&mut self, from: NodeId, to: NodeId) {
        let index = self.index(from, to);
        self.blocked[index] = self.blocked[index].saturating_sub(1);
    }

    pub fn heal_partitions(&mut self) {
        self.blocked.iter_mut().for_each(|blocked| *blocked = 0);
    }

    pub fn any_partition(&self) -> bool {
        self.blocked.iter().any(|&blocked| blocked > 0)
    }

    /// Clear every fault layered on the network (partitions, omissions, bursts).
    pub fn heal_all(&mut self) {
        self.heal_partitions();
        self.send_omission_per_million
            .iter_mut()
            .for_each(|p| *p = 0);
        self.receive_omission_per_million
            .iter_mut()
            .for_each(|p| *p = 0);
        self.bursts = Bursts::default();
        self.reorder_rules.clear();
    }

    /// The extra delay reordering faults give a message of `kind` from `from` to `to`
    /// (the first matching rule decides; nothing is drawn when none matches, so runs
    /// without reordering faults draw as before). None after GST.
    pub fn reorder_delay(&self, from: NodeId, to: NodeId, kind: &str, rng: &mut Rng) -> TimeUs {
        let rule = self
            .reorder_rules
            .iter()
            .find(|rule| rule.matches(from, to, kind));
        match rule {
            Some(rule) if self.bounded.is_none() && rng.chance(rule.per_million) => {
                rng.range_inclusive(rule.min_delay_us, rule.max_delay_us)
            }
            _ => 0,
        }
    }

    /// The links of the route from `from` to `to`, hop by hop.
    fn route_links(&self, from: NodeId, to: NodeId) -> impl Iterator<Item = &Link> {
        let nodes = self.nodes as usize;
        self.routes[self.index(from, to)]
            .iter()
            .map(move |&(a, b)| {
                self.links[a as usize * nodes + b as usize]
                    .as_ref()
                    .expect("routes follow links")
            })
    }

    /// The latency of the route from `from` to `to` for a client's message (one draw
    /// per hop). No bandwidth: client traffic does not queue on the nodes' links.
    pub fn route_latency(&self, from: NodeId, to: NodeId, rng: &mut Rng) -> TimeUs {
        self.route_links(from, to)
            .map(|link| link.latency.draw(rng))
            .sum()
    }

    /// The loss rate of the route from `from` to `to` for a client's message: its hops'
    /// rates summed (an upper bound of the chance that some hop loses it), at most 1.
    pub fn route_loss(&self, from: NodeId, to: NodeId) -> u32 {
        self.route_links(from, to)
            .map(|link| link.drop_per_million)
            .fold(0u32, u32::saturating_add)
            .min(1_000_000)
    }

    /// Does a route exist from `from` to `to`?
    pub fn has_route(&self, from: NodeId, to: NodeId) -> bool {
        !self.routes[self.index(from, to)].is_empty()
    }

    /// Decide the fate of a message of `size_bytes` sent now from `from` to `to`.
    pub fn send(
        &mut self,
        now: TimeUs,
        from: NodeId,
        to: NodeId,
        size_bytes: u32,
        rng: &mut Rng,
    ) -> Fate {
        assert_ne!(from, to, "a node sends to itself");
        let bounded = self.bounded;
        if bounded.is_none() && rng.chance(self.send_omission_per_million[from.index()]) {
            return Fate::Drop(DropCause::SendOmission);
        }
        let index = match self.route_or_drop(from, to) {
            Ok(index) => index,
            Err(fate) => return fate,
        };
        let delay = match self.path_delay(now, index, size_bytes, bounded.is_none(), rng) {
            Some(delay) => delay,
            None => return Fate::Drop(DropCause::Loss),
        };
        let duplicate_per_million = self
            .duplicate_per_million
            .saturating_add(self.bursts.duplicate_per_million);
        let duplicate = if bounded.is_none() && rng.chance(duplicate_per_million) {
            self.path_delay(now, index, size_bytes, false, rng)
        } else {
            None
        };
        match bounded {
            Some(bound) => Fate::Deliver {
                delay_us: delay.min(bound),
                duplicate_delay_us: None,
            },
            None => Fate::Deliver {
                delay_us: delay,
                duplicate_delay_us: duplicate,
            },
        }
    }

    /// The pair's route index, or the drop a partition or a missing route causes.
    #[inline]
    fn route_or_drop(&self, from: NodeId, to: NodeId) -> Result<usize, Fate> {
        if self.is_blocked(from, to) {
            return Err(Fate::Drop(DropCause::Partition));
        }
        let index = self.index(from, to);
        if self.routes[index].is_empty() {
            return Err(Fate::Drop(DropCause::NoRoute));
        }
        Ok(index)
    }

    /// Decide the fate of a message from the tape's entry instead of the random stream
    /// (see `tape.rs`). Partitions and routes still decide as in `send`; the tape's drops
    /// and duplicates count only where the scenario's probabilities allow them now (so
    /// that removing an omission fault or a loss rate removes its drops); a missing
    /// entry or delay means prompt delivery at the route's minimum latency.
    pub fn send_from_tape(&self, from: NodeId, to: NodeId, entry: Option<&MessageEntry>) -> Fate {
        assert_ne!(from, to, "a node sends to itself");
        let lossy = self.bounded.is_none();
        let drop = entry.and_then(|entry| entry.drop);
        if lossy
            && drop == Some(TapeDrop::SendOmission)
            && self.send_omission_per_million[from.index()] > 0
        {
            return Fate::Drop(DropCause::SendOmission);
        }
        let index = match self.route_or_drop(from, to) {
            Ok(index) => index,
            Err(fate) => return fate,
        };
        if lossy && drop == Some(TapeDrop::Loss) && self.route_may_lose(index) {
            return Fate::Drop(DropCause::Loss);
        }
        let delay_us = entry
            .and_then(|entry| entry.delay_us)
            .unwrap_or_else(|| self.prompt_delay_us(index));
        let duplicate_per_million = self
            .duplicate_per_million
            .saturating_add(self.bursts.duplicate_per_million);
        match self.bounded {
            Some(bound) => Fate::Deliver {
                delay_us: delay_us.min(bound),
                duplicate_delay_us: None,
            },
            None => Fate::Deliver {
                delay_us,
                duplicate_delay_us: entry
                    .and_then(|entry| entry.duplicate_delay_us)
                    .filter(|_| duplicate_per_million > 0),
            },
        }
    }

    /// The tape's fallback delay from `from` to `to` (see `send_from_tape`).
    pub fn prompt_delay(&self, from: NodeId, to: NodeId) -> TimeUs {
        self.prompt_delay_us(self.index(from, to))
    }

    fn prompt_delay_us(&self, route: usize) -> TimeUs {
        let nodes = self.nodes as usize;
        let latency: TimeUs = self.routes[route]
            .iter()
            .map(|&(a, b)| {
                self.links[a as usize * nodes + b as usize]
                    .as_ref()
                    .expect("routes follow links")
                    .latency
                    .min_us()
            })
            .sum();
        latency + self.bursts.extra_latency_us
    }

    /// Can a hop of this route lose a message now (link loss or a loss burst)?
    fn route_may_lose(&self, route: usize) -> bool {
        let nodes = self.nodes as usize;
        self.bursts.loss_per_million > 0
            || self.routes[route].iter().any(|&(a, b)| {
                self.links[a as usize * nodes + b as usize]
                    .as_ref()
                    .is_some_and(|link| link.drop_per_million > 0)
            })
    }

    /// Total delay along the route, or `None` if a hop lost the message.
    fn path_delay(
        &mut self,
        now: TimeUs,
        route: usize,
        size_bytes: u32,
        lossy: bool,
        rng: &mut Rng,
    ) -> Option<TimeUs> {
        let nodes = self.nodes as usize;
        let mut at = now;
        for hop in 0..self.routes[route].len() {
            let (a, b) = self.routes[route][hop];
            let link = self.links[a as usize * nodes + b as usize]
                .as_mut()
                .expect("routes follow links");
            if lossy
                && rng.chance(
                    link.drop_per_million
                        .saturating_add(self.bursts.loss_per_million),
                )
            {
                return None;
            }
            if let Some(serialisation) =
                (size_bytes as u64 * 1_000_000).checked_div(link.bandwidth_bytes_per_sec)
            {
                let start = at.max(link.busy_until_us);
                link.busy_until_us = start + serialisation;
                at = link.busy_until_us;
            }
            at += link.latency.draw(rng);
        }
        let mut delay = at - now + self.bursts.extra_latency_us;
        if lossy && rng.chance(self.reorder_per_million) {
            delay += rng.range_inclusive(0, self.reorder_delay_us);
        }
        Some(delay)
    }

    /// The number of physical links (directed), for reports.
    pub fn link_count(&self) -> usize {
        self.links.iter().flatten().count()
    }
}

/// Breadth-first shortest paths over directed links; ties go to lower node ids.
fn shortest_paths(n: usize, links: &[Option<Link>]) -> Vec<Vec<(u32, u32)>> {
    let mut routes = vec![Vec::new(); n * n];
    for source in 0..n {
        let mut parent = vec![usize::MAX; n];
        parent[source] = source;
        let mut frontier = std::collections::VecDeque::from([source]);
        while let Some(at) = frontier.pop_front() {
            for next in 0..n {
                if parent[next] == usize::MAX && links[at * n + next].is_some() {
                    parent[next] = at;
                    frontier.push_back(next);
                }
            }
        }
        for target in (0..n).filter(|&t| t != source && parent[t] != usize::MAX) {
            let mut hops = Vec::new();
            let mut at = target;
            while at != source {
                hops.push((parent[at] as u32, at as u32));
                at = parent[at];
            }
            hops.reverse();
            routes[source * n + target] = hops;
        }
    }
    routes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    fn network(toml_text: &str, nodes: u32) -> Network {
        let spec: NetworkSpec = toml::from_str(toml_text).unwrap();
        spec.validate(nodes).unwrap();
        Network::new(&spec, nodes, &mut Rng::new(1, Purpose::Network))
    }

    #[test]
    fn ring_routes_take_the_short_way_round() {
        let net = network("topology = \"ring\"", 6);
        assert_eq!(net.routes[3].len(), 3);
        assert_eq!(net.routes[5], vec![(0, 5)]);
        assert_eq!(net.routes[1], vec![(0, 1)]);
    }

    #[test]
    fn star_goes_through_the_hub() {
        let net = network("topology = \"star\"", 4);
        assert_eq!(net.routes[4 + 2], vec![(1, 0), (0, 2)]);
    }

    #[test]
    fn random_topology_is_connected() {
        let net = network(
            "topology = \"random\"\nrandom_extra_link_per_million = 0",
            8,
        );
        assert!((0..8).all(|a| (0..8)
            .filter(|&b| b != a)
            .all(|b| !net.routes[a * 8 + b].is_empty())));
    }

    #[test]
    fn partitions_and_loss_drop() {
        let mut net = network("latency = { dist = \"constant\", us = 100 }", 3);
        let mut rng = Rng::new(1, Purpose::Network);
        assert_eq!(
            net.send(0, NodeId(0), NodeId(1), 10, &mut rng),
            Fate::Deliver {
                delay_us: 100,
                duplicate_delay_us: None
            }
        );
        net.block(NodeId(0), NodeId(1));
        assert_eq!(
            net.send(0, NodeId(0), NodeId(1), 10, &mut rng),
            Fate::Drop(DropCause::Partition)
        );
        assert!(
            matches!(
                net.send(0, NodeId(1), NodeId(0), 10, &mut rng),
                Fate::Deliver { .. }
            ),
            "one-way block"
        );
        net.bursts.loss_per_million = 1_000_000;
        assert_eq!(
            net.send(0, NodeId(2), NodeId(1), 10, &mut rng),
            Fate::Drop(DropCause::Loss)
        );
        net.stabilise();
        assert!(
            matches!(
                net.send(0, NodeId(2), NodeId(1), 10, &mut rng),
                Fate::Deliver { .. }
            ),
            "no loss after GST"
        );
    }

    #[test]
    fn overlapping_cuts_count() {
        let mut net = network("", 3);
        net.block(NodeId(0), NodeId(1));
        net.block(NodeId(0), NodeId(1));
        net.unblock(NodeId(0), NodeId(1));
        assert!(net.is_blocked(NodeId(0), NodeId(1)), "one cut still holds");
        net.unblock(NodeId(0), NodeId(1));
        assert!(!net.is_blocked(NodeId(0), NodeId(1)));
        net.block(NodeId(2), NodeId(1));
        net.heal_partitions();
        assert!(!net.any_partition());
    }

    #[test]
    fn bandwidth_queues_messages() {
        let mut net = network(
            "latency = { dist = \"constant\", us = 0 }\nbandwidth_bytes_per_sec = 1000000",
            2,
        );
        let mut rng = Rng::new(1, Purpose::Network);
        let first = net.send(0, NodeId(0), NodeId(1), 1000, &mut rng);
        let second = net.send(0, NodeId(0), NodeId(1), 1000, &mut rng);
        assert_eq!(
            first,
            Fate::Deliver {
                delay_us: 1000,
                duplicate_delay_us: None
            }
        );
        assert_eq!(
            second,
            Fate::Deliver {
                delay_us: 2000,
                duplicate_delay_us: None
            }
        );
    }

    #[test]
    fn distributions_stay_within_caps() {
        let mut rng = Rng::new(9, Purpose::Network);
        for spec in [
            LatencySpec::Normal {
                mean_us: 1000,
                stddev_us: 300,
                cap_us: None,
            },
            LatencySpec::Exponential {
                mean_us: 1000,
                cap_us: Some(5000),
            },
            LatencySpec::Pareto {
                scale_us: 500,
                alpha: 1.2,
                cap_us: None,
            },
        ] {
            for _ in 0..10_000 {
                assert!(spec.draw(&mut rng) <= spec.max_us());
            }
        }
    }
}
