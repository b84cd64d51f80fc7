//! Faults: the actions a schedule, a random nemesis or swarm mode applies to a run.

use serde::Serialize;

use crate::rng::Rng;
use crate::scenario::{FaultSpec, NemesisSpec, NodeSelector, NEMESIS_KINDS};

/// Which node a fault hits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Target {
    Node(u32),
    /// A node whose role (`Protocol::role`) is this at the time (lowest id if several).
    Role(String),
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
}

impl FaultAction {
    /// The fault kind, as counted in sweep summaries.
    pub fn kind(&self) -> &'static str {
        match self {
            FaultAction::Crash { .. } => "crash",
            FaultAction::CrashAfterPersist { .. } => "crash_after_persist",
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
        }
    }

    /// The `[[faults]]` entry that applies this action at `at_us` for `duration_us`
    /// (targets must be resolved node ids).
    pub fn to_spec(&self, at_us: u64, duration_us: Option<u64>) -> FaultSpec {
        let mut spec = FaultSpec {
            at_ms: None,
            at_us: Some(at_us),
            action: self.kind().to_string(),
            node: None,
            groups: None,
            from: None,
            to: None,
            duration_ms: None,
            duration_us,
            per_million: None,
            extra_latency_us: None,
            drift_ppm: None,
        };
        let selector = |target: &Target| match target {
            Target::Node(id) => NodeSelector::Id(*id),
            Target::Role(role) => NodeSelector::Role(role.clone()),
        };
        match self {
            FaultAction::Crash { node }
            | FaultAction::CrashAfterPersist { node }
            | FaultAction::Restart { node }
            | FaultAction::Isolate { node }
            | FaultAction::Bridge { node } => spec.node = Some(selector(node)),
            FaultAction::Partition { groups } => spec.groups = Some(groups.clone()),
            FaultAction::OneWay { from, to } => {
                spec.from = Some(from.clone());
                spec.to = Some(to.clone());
            }
            FaultAction::Heal => {}
            FaultAction::SendOmission { node, per_million }
            | FaultAction::ReceiveOmission { node, per_million } => {
                spec.node = Some(selector(node));
                spec.per_million = Some(*per_million);
            }
            FaultAction::LossBurst { per_million }
            | FaultAction::DuplicateBurst { per_million } => spec.per_million = Some(*per_million),
            FaultAction::DelayBurst { extra_latency_us } => {
                spec.extra_latency_us = Some(*extra_latency_us)
            }
            FaultAction::ClockDrift { node, drift_ppm } => {
                spec.node = Some(selector(node));
                spec.drift_ppm = Some(*drift_ppm);
            }
        }
        spec
    }

    /// Build an action from a `[[faults]]` entry. Errors are `(field, message, fix)`.
    pub fn from_spec(
        spec: &FaultSpec,
        nodes: u32,
    ) -> Result<FaultAction, (String, String, String)> {
        let missing = |field: &str, example: &str| {
            (
                field.to_string(),
                format!("action `{}` needs `{field}`", spec.action),
                format!("add e.g. `{field} = {example}`"),
            )
        };
        let node = || -> Result<Target, (String, String, String)> {
            match &spec.node {
                None => Err(missing("node", "0")),
                Some(NodeSelector::Id(id)) if *id >= nodes => Err((
                    "node".to_string(),
                    format!("node {id} does not exist in a cluster of {nodes}"),
                    format!("use a node id below {nodes}, or \"leader\""),
                )),
                Some(NodeSelector::Id(id)) => Ok(Target::Node(*id)),
                Some(NodeSelector::Role(role)) => Ok(Target::Role(role.clone())),
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
        let per_million = || match spec.per_million {
            None => Err(missing("per_million", "1000000")),
            Some(p) if p > 1_000_000 => Err((
                "per_million".to_string(),
                format!("{p} is above 1,000,000"),
                "use 0..=1000000".to_string(),
            )),
            Some(p) => Ok(p),
        };
        let action = match spec.action.as_str() {
            "crash" => FaultAction::Crash { node: node()? },
            "crash_after_persist" => FaultAction::CrashAfterPersist { node: node()? },
            "restart" => FaultAction::Restart { node: node()? },
            "partition" => {
                let groups = spec.groups.clone().ok_or_else(|| missing("groups", "[[0, 1], [2, 3, 4]]"))?;
                for group in &groups {
                    check_ids("groups", group)?;
                }
                FaultAction::Partition { groups }
            }
            "isolate" => FaultAction::Isolate { node: node()? },
            "bridge" => FaultAction::Bridge { node: node()? },
            "one_way" => {
                let from = spec.from.clone().ok_or_else(|| missing("from", "[0]"))?;
                let to = spec.to.clone().ok_or_else(|| missing("to", "[1, 2]"))?;
                check_ids("from", &from)?;
                check_ids("to", &to)?;
                FaultAction::OneWay { from, to }
            }
            "heal" => FaultAction::Heal,
            "send_omission" => FaultAction::SendOmission { node: node()?, per_million: per_million()? },
            "receive_omission" => FaultAction::ReceiveOmission { node: node()?, per_million: per_million()? },
            "loss" => FaultAction::LossBurst { per_million: per_million()? },
            "duplicate" => FaultAction::DuplicateBurst { per_million: per_million()? },
            "delay" => FaultAction::DelayBurst {
                extra_latency_us: spec.extra_latency_us.ok_or_else(|| missing("extra_latency_us", "50000"))?,
            },
            "clock_drift" => FaultAction::ClockDrift {
                node: node()?,
                drift_ppm: match spec.drift_ppm {
                    None => return Err(missing("drift_ppm", "100000")),
                    Some(d) if d <= -1_000_000 => {
                        return Err(("drift_ppm".into(), format!("{d} would make timers fire at or before they are set"), "use a value above -1000000".into()))
                    }
                    Some(d) => d,
                },
            },
            other => {
                return Err((
                    "action".to_string(),
                    format!("unknown fault action `{other}`"),
                    "use one of: crash, crash_after_persist, restart, partition, isolate, bridge, one_way, heal, send_omission, receive_omission, loss, duplicate, delay, clock_drift".to_string(),
                ))
            }
        };
        Ok(action)
    }
}

/// A nemesis as one run sees it: the kinds it may use and their strengths. In swarm
/// mode each seed draws its own from the scenario's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NemesisPlan {
    pub kinds: Vec<&'static str>,
    pub interval_ms: [u64; 2],
    pub duration_ms: [u64; 2],
    pub loss_per_million: u32,
    pub duplicate_per_million: u32,
    pub extra_latency_us: u64,
    pub drift_ppm_max: i64,
}

impl NemesisPlan {
    pub fn from_spec(spec: &NemesisSpec) -> NemesisPlan {
        NemesisPlan {
            kinds: spec.kinds.iter().map(|kind| intern_kind(kind)).collect(),
            interval_ms: spec.interval_ms,
            duration_ms: spec.duration_ms,
            loss_per_million: spec.loss_per_million,
            duplicate_per_million: spec.duplicate_per_million,
            extra_latency_us: spec.extra_latency_us,
            drift_ppm_max: spec.drift_ppm_max,
        }
    }

    /// Swarm testing (Groce et al. 2012): switch each kind on with probability 1/2 (at
    /// least one stays on) and scale the strengths, all from the swarm stream.
    pub fn swarm(base: Option<&NemesisPlan>, rng: &mut Rng) -> NemesisPlan {
        let default_base;
        let base = match base {
            Some(base) => base,
            None => {
                default_base = NemesisPlan {
                    kinds: NEMESIS_KINDS.to_vec(),
                    interval_ms: [200, 1000],
                    duration_ms: [100, 2000],
                    loss_per_million: 300_000,
                    duplicate_per_million: 200_000,
                    extra_latency_us: 50_000,
                    drift_ppm_max: 200_000,
                };
                &default_base
            }
        };
        let mut kinds: Vec<&'static str> = base
            .kinds
            .iter()
            .copied()
            .filter(|_| rng.chance(500_000))
            .collect();
        if kinds.is_empty() {
            kinds.push(*rng.pick(&base.kinds));
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
        }
    }
}

fn intern_kind(kind: &str) -> &'static str {
    NEMESIS_KINDS
        .iter()
        .copied()
        .find(|&known| known == kind)
        .expect("kinds are validated when the scenario loads")
}
