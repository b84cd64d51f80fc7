//! Faults: the actions a schedule, a random nemesis or swarm mode applies to a run.

use serde::Serialize;

use crate::network::ReorderRule;
use crate::rng::Rng;
use crate::scenario::{
    FaultActionSpec, FaultSpec, NemesisSpec, NodeSelector, ScenarioFile, NEMESIS_KINDS,
    SWARM_DEFAULT_KINDS,
};
use crate::selectors::{Group, GroupSpec, Member, Selector};

/// The most effects a `crash_mid_step` may let through before its cut (`after_effects`).
pub const MID_STEP_CUT_MAX: u32 = 1000;

/// The cut a nemesis's (or an unstated) `crash_mid_step` draws: after 1..=this many
/// effects. Small, because most steps have few effects (a Raft follower's reply step has
/// three to five); a draw beyond a step's effects waits for a longer step.
pub const MID_STEP_CUT_DRAW_MAX: u64 = 4;

/// The largest clock offset (`clock_skew`) a scenario may set, either way: a day.
pub const CLOCK_SKEW_MAX_MS: u64 = 86_400_000;

/// Which node a fault hits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Target {
    Node(u32),
    /// A node whose role (`Protocol::role`) is this at the time (lowest id if several).
    Role(String),
    /// Any other selector (`selectors.rs`): `connected_leader`, `random`, `previous`, or
    /// one with an offset. (A plain role stays `Role`, so its runs hash as before.)
    Select(Selector),
}

impl Target {
    /// The target a written selector names (ids checked by the caller).
    fn of_text(text: &str) -> Result<Target, (String, String)> {
        let selector = Selector::parse(text)?;
        Ok(match selector.role() {
            Some(role) if selector.offset == 0 => Target::Role(role.to_string()),
            _ => Target::Select(selector),
        })
    }

    fn spec(&self) -> NodeSelector {
        match self {
            Target::Node(id) => NodeSelector::Id(*id),
            Target::Role(role) => NodeSelector::Role(role.clone()),
            Target::Select(selector) => NodeSelector::Role(selector.text()),
        }
    }
}

/// One fault action. Actions with a duration are reverted by the simulator after it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FaultAction {
    Crash {
        node: Target,
    },
    /// Crash the node in the middle of its next step, right after that step's first
    /// `Persist` effect: the sends that follow the persist are lost.
    CrashAfterPersist {
        node: Target,
    },
    Restart {
        node: Target,
    },
    /// Split the cluster: nodes in different groups cannot talk (nodes in no group are
    /// cut off from everyone).
    Partition {
        groups: Vec<Vec<u32>>,
    },
    /// One node cannot talk to anyone.
    Isolate {
        node: Target,
    },
    /// Two halves that cannot talk to each other, both talking to the bridge node.
    Bridge {
        node: Target,
    },
    /// Messages from `from` to `to` are dropped; the other direction works.
    OneWay {
        from: Vec<u32>,
        to: Vec<u32>,
    },
    /// Heal every partition.
    Heal,
    SendOmission {
        node: Target,
        per_million: u32,
    },
    ReceiveOmission {
        node: Target,
        per_million: u32,
    },
    LossBurst {
        per_million: u32,
    },
    DuplicateBurst {
        per_million: u32,
    },
    DelayBurst {
        extra_latency_us: u64,
    },
    /// The node's timers run fast (negative) or slow (positive) by this many parts
    /// per million.
    ClockDrift {
        node: Target,
        drift_ppm: i64,
    },
    // Variants below were added after trace hashes were pinned: new ones go last, so the
    // derived `Hash` of the ones above stays the same.
    /// A partition whose groups name selectors, clients or `rest`: resolved when it fires
    /// into `Partition` or `PartitionClients`.
    PartitionOf {
        groups: Vec<Group>,
    },
    /// A resolved partition that places clients: `clients[i]` are on the side of
    /// `groups[i]`.
    PartitionClients {
        groups: Vec<Vec<u32>>,
        clients: Vec<Vec<u32>>,
    },
    /// Reorder matching messages (`network::ReorderRule`).
    Reorder(ReorderRule),
    /// Crash the node in the middle of its next step that has more than `after_effects`
    /// effects, right after its first `after_effects` of them (after a send and before a
    /// `Persist`, between two sends, ...): the rest of the step is lost. `None` until
    /// applied: the simulator then draws it from the fault stream.
    CrashMidStep {
        node: Target,
        after_effects: Option<u32>,
    },
    /// Freeze the node: no steps; its messages and timers wait for the resume.
    Pause {
        node: Target,
    },
    /// Set the node's local clock this far from real time (see `ClockSkew` in the
    /// scenario format).
    ClockSkew {
        node: Target,
        offset_ms: i64,
    },
}

impl FaultAction {
    /// The fault kind, as counted in sweep summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultAction::Crash { .. } => "crash",
            FaultAction::CrashAfterPersist { .. } => "crash_after_persist",
            FaultAction::CrashMidStep { .. } => "crash_mid_step",
            FaultAction::Restart { .. } => "restart",
            FaultAction::Partition { .. } => "partition",
            FaultAction::Isolate { .. } => "isolate",
            FaultAction::Bridge { .. } => "bridge",
            FaultAction::OneWay { .. } => "one_way",
            FaultAction::Heal => "heal",
            FaultAction::SendOmission { .. } => "send_omission",
            FaultAction::ReceiveOmission { .. } => "receive_omission",
            FaultAction::LossBurst { .. } => "loss",
            FaultAction::DuplicateBurst { .. } => "duplicate",
            FaultAction::DelayBurst { .. } => "delay",
            FaultAction::ClockDrift { .. } => "clock_drift",
            FaultAction::PartitionOf { .. } | FaultAction::PartitionClients { .. } => "partition",
            FaultAction::Reorder(_) => "reorder",
            FaultAction::Pause { .. } => "pause",
            FaultAction::ClockSkew { .. } => "clock_skew",
        }
    }

    /// The node an action aimed at one node names (`node = ...`).
    pub fn target(&self) -> Option<&Target> {
        match self {
            FaultAction::Crash { node }
            | FaultAction::CrashAfterPersist { node }
            | FaultAction::Restart { node }
            | FaultAction::Isolate { node }
            | FaultAction::Bridge { node }
            | FaultAction::SendOmission { node, .. }
            | FaultAction::ReceiveOmission { node, .. }
            | FaultAction::ClockDrift { node, .. }
            | FaultAction::Pause { node }
            | FaultAction::ClockSkew { node, .. } => Some(node),
            _ => None,
        }
    }

    /// The `[[faults]]` entry that applies this action at `at_us` for `duration_us`
    /// (targets must be resolved node ids).
    pub fn to_spec(&self, at_us: u64, duration_us: Option<u64>) -> FaultSpec {
        let selector = Target::spec;
        let action = match self {
            FaultAction::Crash { node } => FaultActionSpec::Crash {
                node: selector(node),
            },
            FaultAction::CrashAfterPersist { node } => FaultActionSpec::CrashAfterPersist {
                node: selector(node),
            },
            FaultAction::CrashMidStep {
                node,
                after_effects,
            } => FaultActionSpec::CrashMidStep {
                node: selector(node),
                after_effects: *after_effects,
            },
            FaultAction::Restart { node } => FaultActionSpec::Restart {
                node: selector(node),
            },
            FaultAction::Partition { groups } => FaultActionSpec::Partition {
                groups: groups
                    .iter()
                    .map(|group| Group::spec_of(group, &[]))
                    .collect(),
            },
            FaultAction::PartitionOf { groups } => FaultActionSpec::Partition {
                groups: groups.iter().map(Group::spec).collect(),
            },
            FaultAction::PartitionClients { groups, clients } => FaultActionSpec::Partition {
                groups: groups
                    .iter()
                    .zip(clients)
                    .map(|(group, clients)| Group::spec_of(group, clients))
                    .collect(),
            },
            FaultAction::Reorder(rule) => FaultActionSpec::Reorder {
                per_million: rule.per_million,
                min_delay_us: rule.min_delay_us,
                max_delay_us: rule.max_delay_us,
                from: rule.from.clone(),
                to: rule.to.clone(),
                kinds: rule.kinds.clone(),
            },
            FaultAction::Isolate { node } => FaultActionSpec::Isolate {
                node: selector(node),
            },
            FaultAction::Bridge { node } => FaultActionSpec::Bridge {
                node: selector(node),
            },
            FaultAction::OneWay { from, to } => FaultActionSpec::OneWay {
                from: from.clone(),
                to: to.clone(),
            },
            FaultAction::Heal => FaultActionSpec::Heal {},
            FaultAction::SendOmission { node, per_million } => FaultActionSpec::SendOmission {
                node: selector(node),
                per_million: *per_million,
            },
            FaultAction::ReceiveOmission { node, per_million } => {
                FaultActionSpec::ReceiveOmission {
                    node: selector(node),
                    per_million: *per_million,
                }
            }
            FaultAction::LossBurst { per_million } => FaultActionSpec::Loss {
                per_million: *per_million,
            },
            FaultAction::DuplicateBurst { per_million } => FaultActionSpec::Duplicate {
                per_million: *per_million,
            },
            FaultAction::DelayBurst { extra_latency_us } => FaultActionSpec::Delay {
                extra_latency_us: *extra_latency_us,
            },
            FaultAction::ClockDrift { node, drift_ppm } => FaultActionSpec::ClockDrift {
                node: selector(node),
                drift_ppm: *drift_ppm,
            },
            FaultAction::Pause { node } => FaultActionSpec::Pause {
                node: selector(node),
            },
            FaultAction::ClockSkew { node, offset_ms } => FaultActionSpec::ClockSkew {
                node: selector(node),
                offset_ms: *offset_ms,
            },
        };
        FaultSpec {
            at_ms: None,
            at_us: Some(at_us),
            duration_ms: None,
            duration_us,
            action,
        }
    }

    /// The action a `[[faults]]` entry names, once its values are checked against the
    /// cluster (its shape was checked when it was parsed). Errors are
    /// `(field, message, fix)`.
    pub fn from_spec(
        spec: &FaultActionSpec,
        nodes: u32,
    ) -> Result<FaultAction, (String, String, String)> {
        let node = |selector: &NodeSelector| match selector {
            NodeSelector::Id(id) if *id >= nodes => Err((
                "node".to_string(),
                format!("node {id} does not exist in a cluster of {nodes}"),
                format!("use a node id below {nodes}, or \"leader\""),
            )),
            NodeSelector::Id(id) => Ok(Target::Node(*id)),
            NodeSelector::Role(text) => {
                Target::of_text(text).map_err(|(message, fix)| ("node".to_string(), message, fix))
            }
        };
        let check_ids = |field: &str, ids: &[u32]| match ids.iter().find(|&&id| id >= nodes) {
            Some(id) => Err((
                field.to_string(),
                format!("node {id} does not exist in a cluster of {nodes}"),
                format!("use node ids below {nodes}"),
            )),
            None => Ok(()),
        };
        let per_million = |p: u32| {
            if p > 1_000_000 {
                Err((
                    "per_million".to_string(),
                    format!("{p} is above 1,000,000"),
                    "use 0..=1000000".to_string(),
                ))
            } else {
                Ok(p)
            }
        };
        let action = match spec {
            FaultActionSpec::Crash { node: n } => FaultAction::Crash { node: node(n)? },
            FaultActionSpec::CrashAfterPersist { node: n } => {
                FaultAction::CrashAfterPersist { node: node(n)? }
            }
            FaultActionSpec::CrashMidStep {
                node: n,
                after_effects,
            } => {
                if let Some(count) = after_effects {
                    if !(1..=MID_STEP_CUT_MAX).contains(count) {
                        return Err((
                            "after_effects".to_string(),
                            format!(
                                "{count} is outside 1..={MID_STEP_CUT_MAX}: a step is cut \
                                 after at least one of its effects"
                            ),
                            format!(
                                "use 1..={MID_STEP_CUT_MAX}, or `action = \"crash\"` for a \
                                 crash between steps"
                            ),
                        ));
                    }
                }
                FaultAction::CrashMidStep {
                    node: node(n)?,
                    after_effects: *after_effects,
                }
            }
            FaultActionSpec::Restart { node: n } => FaultAction::Restart { node: node(n)? },
            FaultActionSpec::Partition { groups } => {
                let ids: Option<Vec<Vec<u32>>> = groups.iter().map(GroupSpec::as_ids).collect();
                let Some(groups) = ids else {
                    return partition_of(groups, nodes);
                };
                for group in &groups {
                    check_ids("groups", group)?;
                }
                disjoint_sets(
                    "groups",
                    &groups.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                )?;
                if groups.len() < 2 {
                    return Err((
                        "groups".to_string(),
                        format!(
                            "{} group: a partition splits the cluster in two or more",
                            groups.len()
                        ),
                        "write e.g. `groups = [[0, 1], [2, 3, 4]]`".to_string(),
                    ));
                }
                FaultAction::Partition { groups }
            }
            FaultActionSpec::Isolate { node: n } => FaultAction::Isolate { node: node(n)? },
            FaultActionSpec::Bridge { node: n } => FaultAction::Bridge { node: node(n)? },
            FaultActionSpec::OneWay { from, to } => {
                check_ids("from", from)?;
                check_ids("to", to)?;
                disjoint_sets("from", &[from.as_slice(), to.as_slice()])?;
                FaultAction::OneWay {
                    from: from.clone(),
                    to: to.clone(),
                }
            }
            FaultActionSpec::Heal {} => FaultAction::Heal,
            FaultActionSpec::SendOmission {
                node: n,
                per_million: p,
            } => FaultAction::SendOmission {
                node: node(n)?,
                per_million: per_million(*p)?,
            },
            FaultActionSpec::ReceiveOmission {
                node: n,
                per_million: p,
            } => FaultAction::ReceiveOmission {
                node: node(n)?,
                per_million: per_million(*p)?,
            },
            FaultActionSpec::Loss { per_million: p } => FaultAction::LossBurst {
                per_million: per_million(*p)?,
            },
            FaultActionSpec::Duplicate { per_million: p } => FaultAction::DuplicateBurst {
                per_million: per_million(*p)?,
            },
            FaultActionSpec::Delay { extra_latency_us } => FaultAction::DelayBurst {
                extra_latency_us: *extra_latency_us,
            },
            FaultActionSpec::ClockDrift { node: n, drift_ppm } => {
                if *drift_ppm <= -1_000_000 {
                    return Err((
                        "drift_ppm".to_string(),
                        format!("{drift_ppm} would make timers fire at or before they are set"),
                        "use a value above -1000000".to_string(),
                    ));
                }
                // As the nemesis's `drift_ppm_max`: at most twice as slow, so a drifted
                // delay stays within the simulated clock.
                if *drift_ppm > 1_000_000 {
                    return Err((
                        "drift_ppm".to_string(),
                        format!("{drift_ppm} is above 1000000 parts per million"),
                        "use a value from -999999 to 1000000".to_string(),
                    ));
                }
                FaultAction::ClockDrift {
                    node: node(n)?,
                    drift_ppm: *drift_ppm,
                }
            }
            FaultActionSpec::Pause { node: n } => FaultAction::Pause { node: node(n)? },
            FaultActionSpec::ClockSkew { node: n, offset_ms } => {
                if offset_ms.unsigned_abs() > CLOCK_SKEW_MAX_MS {
                    return Err((
                        "offset_ms".to_string(),
                        format!("{offset_ms} ms is more than a day either way"),
                        format!("use -{CLOCK_SKEW_MAX_MS}..={CLOCK_SKEW_MAX_MS}"),
                    ));
                }
                FaultAction::ClockSkew {
                    node: node(n)?,
                    offset_ms: *offset_ms,
                }
            }
            FaultActionSpec::Reorder {
                per_million: p,
                min_delay_us,
                max_delay_us,
                from,
                to,
                kinds,
            } => {
                check_ids("from", from)?;
                check_ids("to", to)?;
                if min_delay_us > max_delay_us {
                    return Err((
                        "min_delay_us".to_string(),
                        format!("min_delay_us {min_delay_us} > max_delay_us {max_delay_us}"),
                        "make min_delay_us <= max_delay_us".to_string(),
                    ));
                }
                FaultAction::Reorder(ReorderRule {
                    per_million: per_million(*p)?,
                    min_delay_us: *min_delay_us,
                    max_delay_us: *max_delay_us,
                    from: from.clone(),
                    to: to.clone(),
                    kinds: kinds.clone(),
                })
            }
        };
        Ok(action)
    }
}

/// A nemesis as one run sees it: the kinds it may use and their strengths. In swarm
/// mode each seed draws its own from the scenario's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NemesisPlan {
    /// (kind, weight) in draw order (see `NemesisKinds::entries`); weights are above 0.
    pub kinds: Vec<(&'static str, u32)>,
    pub interval_ms: [u64; 2],
    pub duration_ms: [u64; 2],
    pub loss_per_million: u32,
    pub duplicate_per_million: u32,
    pub extra_latency_us: u64,
    pub drift_ppm_max: i64,
    /// The largest offset the kind `clock_skew` sets, in ms either way.
    pub skew_ms_max: u64,
    /// Nodes the kind `isolate` cuts off.
    pub isolate_nodes: u32,
    /// Actions per round, and the pause between rounds.
    pub rounds: Option<(u32, [u64; 2])>,
    /// Where the fault bound may be exceeded (with `exceed_fault_bound`); `None`: the
    /// whole run.
    pub exceed_window_ms: Option<[u64; 2]>,
}

impl NemesisSpec {
    /// The fields of rounds and of the exceed window, checked against the scenario.
    /// Errors are `(field, message, fix)`.
    pub fn check_rounds_and_windows(
        &self,
        file: &ScenarioFile,
    ) -> Result<(), (String, String, String)> {
        let error = |field: &str, message: String, fix: &str| {
            Err((format!("nemesis.{field}"), message, fix.to_string()))
        };
        match (self.round_actions, self.pause_ms) {
            (Some(0), _) => {
                return error(
                    "round_actions",
                    "a round of 0 actions".into(),
                    "write e.g. `round_actions = 3`",
                )
            }
            (Some(_), Some([min, max])) if min > max => {
                return error(
                    "pause_ms",
                    format!("[{min}, {max}]: min > max"),
                    "write e.g. `pause_ms = [1000, 2000]`",
                )
            }
            (Some(_), None) | (None, Some(_)) => {
                return error(
                    "round_actions",
                    "`round_actions` and `pause_ms` go together".into(),
                    "give both (e.g. `round_actions = 3` and `pause_ms = [1000, 2000]`) or neither",
                )
            }
            _ => {}
        }
        if self.isolate_nodes == 0 || self.isolate_nodes >= file.nodes.max(2) {
            return error(
                "isolate_nodes",
                format!(
                    "{} nodes to isolate in a cluster of {}",
                    self.isolate_nodes, file.nodes
                ),
                "isolate at least 1 node and fewer than the cluster's",
            );
        }
        if let Some([from, to]) = self.exceed_window_ms {
            if !file.exceed_fault_bound {
                return error(
                    "exceed_window_ms",
                    "a window to exceed the fault bound, but `exceed_fault_bound` is not set"
                        .into(),
                    "add `exceed_fault_bound = true` at the top level, or remove the window",
                );
            }
            if from > to || to > file.duration_ms {
                return error(
                    "exceed_window_ms",
                    format!(
                        "[{from}, {to}] is not a window within the fault phase (0..={} ms)",
                        file.duration_ms
                    ),
                    "write `[from_ms, to_ms]` with from <= to <= duration_ms",
                );
            }
        }
        Ok(())
    }
}

impl NemesisPlan {
    pub fn from_spec(spec: &NemesisSpec) -> NemesisPlan {
        NemesisPlan {
            kinds: spec
                .kinds
                .entries()
                .expect("kinds are validated when the scenario loads"),
            interval_ms: spec.interval_ms,
            duration_ms: spec.duration_ms,
            loss_per_million: spec.loss_per_million,
            duplicate_per_million: spec.duplicate_per_million,
            extra_latency_us: spec.extra_latency_us,
            drift_ppm_max: spec.drift_ppm_max,
            skew_ms_max: spec.skew_ms_max,
            isolate_nodes: spec.isolate_nodes,
            rounds: spec.round_actions.zip(spec.pause_ms),
            exceed_window_ms: spec.exceed_window_ms,
        }
    }

    /// The kind of the next action: a cumulative-weight draw over `kinds`.
    pub fn draw_kind(&self, rng: &mut Rng) -> &'static str {
        self.kinds[self.draw_index(rng)].0
    }

    /// An index into `kinds`, drawn by weight: one `below(total)` draw, so with every
    /// weight 1 (a list in the file) it is exactly the uniform `Rng::pick` lists always
    /// used, and their runs (and trace hashes) are unchanged.
    fn draw_index(&self, rng: &mut Rng) -> usize {
        assert!(!self.kinds.is_empty(), "a nemesis has at least one kind");
        let total: u64 = self.kinds.iter().map(|&(_, weight)| weight as u64).sum();
        assert!(total > 0, "a nemesis has a kind of weight above 0");
        let mut draw = rng.below(total);
        for (index, &(_, weight)) in self.kinds.iter().enumerate() {
            if draw < weight as u64 {
                return index;
            }
            draw -= weight as u64;
        }
        unreachable!("a draw below the total weight falls within some kind")
    }

    /// Swarm testing (Groce et al. 2012): switch each kind on with probability 1/2 (at
    /// least one stays on) and scale the strengths, all from the swarm stream.
    pub fn swarm(base: Option<&NemesisPlan>, rng: &mut Rng) -> NemesisPlan {
        let default_base;
        let base = match base {
            Some(base) => base,
            None => {
                default_base = NemesisPlan {
                    kinds: NEMESIS_KINDS[..SWARM_DEFAULT_KINDS]
                        .iter()
                        .map(|&kind| (kind, 1))
                        .collect(),
                    interval_ms: [200, 1000],
                    duration_ms: [100, 2000],
                    loss_per_million: 300_000,
                    duplicate_per_million: 200_000,
                    extra_latency_us: 50_000,
                    drift_ppm_max: 200_000,
                    skew_ms_max: 1000,
                    isolate_nodes: 1,
                    rounds: None,
                    exceed_window_ms: None,
                };
                &default_base
            }
        };
        let mut kinds: Vec<(&'static str, u32)> = base
            .kinds
            .iter()
            .copied()
            .filter(|_| rng.chance(500_000))
            .collect();
        if kinds.is_empty() {
            kinds.push(base.kinds[base.draw_index(rng)]);
        }
        let scale = |value: u64, rng: &mut Rng| {
            rng.range_inclusive(value / 4, value.saturating_mul(2))
                .max(1)
        };
        let interval_max = scale(base.interval_ms[1], rng);
        let duration_max = scale(base.duration_ms[1], rng);
        NemesisPlan {
            kinds,
            interval_ms: [base.interval_ms[0].min(interval_max), interval_max],
            duration_ms: [base.duration_ms[0].min(duration_max), duration_max],
            loss_per_million: rng
                .range_inclusive(0, base.loss_per_million as u64 * 2)
                .min(1_000_000) as u32,
            duplicate_per_million: rng
                .range_inclusive(0, base.duplicate_per_million as u64 * 2)
                .min(1_000_000) as u32,
            extra_latency_us: scale(base.extra_latency_us, rng),
            drift_ppm_max: rng.range_inclusive(0, base.drift_ppm_max.max(0) as u64) as i64,
            // Taken as they are (no draws), so swarm seeds draw as before.
            skew_ms_max: base.skew_ms_max,
            isolate_nodes: base.isolate_nodes,
            rounds: base.rounds,
            exceed_window_ms: base.exceed_window_ms,
        }
    }
}

/// A partition whose groups name more than node ids: each group checked, explicit node
/// ids and clients named once, at most one `rest`, at least two groups.
fn partition_of(specs: &[GroupSpec], nodes: u32) -> Result<FaultAction, (String, String, String)> {
    let groups: Vec<Group> = specs
        .iter()
        .map(|spec| Group::from_spec(spec, nodes))
        .collect::<Result<_, _>>()
        .map_err(|(message, fix)| ("groups".to_string(), message, fix))?;
    let rests = groups.iter().filter(|group| **group == Group::Rest).count();
    if groups.len() < 2 || rests > 1 {
        return Err((
            "groups".to_string(),
            format!(
                "{} groups, {rests} of them \"rest\": a partition has two or more sides, at \
                 most one of them \"rest\"",
                groups.len()
            ),
            "write e.g. `groups = [[\"leader\"], \"rest\"]`".to_string(),
        ));
    }
    let members = |wanted: fn(&Member) -> Option<u32>| -> Vec<Vec<u32>> {
        groups
            .iter()
            .filter_map(|group| match group {
                Group::Members(members) => Some(members.iter().filter_map(wanted).collect()),
                Group::Rest => None,
            })
            .collect()
    };
    for (what, sets) in [
        (
            "node",
            members(|member| match member {
                Member::Node(id) => Some(*id),
                _ => None,
            }),
        ),
        (
            "client",
            members(|member| match member {
                Member::Client(client) => Some(*client),
                _ => None,
            }),
        ),
    ] {
        let mut seen = std::collections::BTreeSet::new();
        if let Some(twice) = sets.iter().flatten().find(|&&id| !seen.insert(id)) {
            return Err((
                "groups".to_string(),
                format!("{what} {twice} is named twice"),
                "name every node and client at most once across the groups".to_string(),
            ));
        }
    }
    if groups
        .iter()
        .any(|group| matches!(group, Group::Members(members) if members.is_empty()))
    {
        return Err((
            "groups".to_string(),
            "an empty group".to_string(),
            "give every group at least one member, or drop it".to_string(),
        ));
    }
    Ok(FaultAction::PartitionOf { groups })
}

/// Node sets that must each be non-empty, without repeats, and pairwise disjoint (a
/// partition's groups, a one-way cut's sides). Errors name `field`.
fn disjoint_sets(field: &str, sets: &[&[u32]]) -> Result<(), (String, String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    for set in sets {
        if set.is_empty() {
            return Err((
                field.to_string(),
                "an empty node set".to_string(),
                "give every set at least one node id, or drop it".to_string(),
            ));
        }
        for &id in *set {
            if !seen.insert(id) {
                return Err((
                    field.to_string(),
                    format!("node {id} is named twice"),
                    "name every node at most once across the sets".to_string(),
                ));
            }
        }
    }
    Ok(())
}
