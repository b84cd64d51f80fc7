//! A heartbeat failure detector: an eventually perfect detector (◇P) under partial
//! synchrony (Chandra & Toueg, "Unreliable Failure Detectors for Reliable Distributed
//! Systems", JACM 1996, §9.1; Dwork, Lynch & Stockmeyer 1988 for the model).
//!
//! Every node broadcasts a heartbeat every `heartbeat_ms` and keeps, per peer, a timeout
//! armed from the last fresh heartbeat it heard: when it fires, the peer is suspected. A
//! later fresh heartbeat from a suspected peer proves the suspicion false: the peer is
//! trusted again and its timeout grows by `timeout_increase_ms` (up to `max_timeout_ms`).
//! After GST the delay bound is finite, so each peer's timeout stops growing once it
//! exceeds the bound plus a heartbeat interval, and no correct node is suspected again
//! (eventual strong accuracy); a crashed node sends nothing, so every correct node's
//! timeout for it fires and the suspicion stays (strong completeness).
//!
//! A heartbeat carries (incarnation, sequence number): a stale or duplicated one (not
//! fresher than the freshest heard) is ignored, so reordering cannot trust a peer on old
//! news. The incarnation is the only durable state: a restarted node persists its next
//! incarnation before it sends, so its new heartbeats are fresher than its old ones.
//!
//! The checker (`invariants.rs`) judges what holds at every step; what is about time —
//! detection time, false suspicions, `complete` and `accurate` — is measured by the meter
//! (`meter.rs`), which only the simulator runs.

mod invariants;
mod meter;
mod mutants;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::*;

pub use invariants::FdChecker;
pub use meter::FdMeter;
pub use mutants::Mutant;

use crate::paxos::NoReply;

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FdMsg {
    /// "I am alive": the sender's incarnation and its heartbeat count in it.
    Heartbeat { incarnation: u64, seq: u64 },
}

impl Message for FdMsg {
    fn kind(&self) -> &'static str {
        "heartbeat"
    }
    fn size_bytes(&self) -> u32 {
        24
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FdTimer {
    /// Time to send the next heartbeat.
    Heartbeat,
    /// No fresh heartbeat from this peer within its timeout.
    Suspect(NodeId),
}

impl TimerName for FdTimer {
    fn kind(&self) -> &'static str {
        match self {
            FdTimer::Heartbeat => "heartbeat_timeout",
            FdTimer::Suspect(_) => "suspect_timeout",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FdObs {
    /// The node began to suspect `peer`.
    Suspected { peer: NodeId },
    /// The node trusts `peer` again; its timeout for it is now `timeout_us`.
    Trusted { peer: NodeId, timeout_us: u64 },
}

impl Observation for FdObs {
    const KINDS: &'static [&'static str] = &["suspected", "trusted"];
    fn kind(&self) -> &'static str {
        match self {
            FdObs::Suspected { .. } => "suspected",
            FdObs::Trusted { .. } => "trusted",
        }
    }
}

/// What survives a crash: the incarnation the node last started.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, Serialize)]
pub struct FdDurable {
    pub incarnation: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Fd {
    /// 0 on the first start, one more on every restart.
    pub incarnation: u64,
    /// Heartbeats sent in this incarnation.
    pub seq: u64,
    /// The peers this node suspects now.
    pub suspected: BTreeSet<NodeId>,
    /// Per node id, the timeout for that peer (this node's own entry is unused).
    pub timeout_us: Vec<u64>,
    /// Per node id, the freshest (incarnation, seq) heard from it.
    pub heard: Vec<(u64, u64)>,
}

#[derive(Clone, Debug)]
pub struct FdConfig {
    pub heartbeat_us: u64,
    pub timeout_us: u64,
    pub timeout_increase_us: u64,
    pub max_timeout_us: u64,
    /// The meter's deadlines (`meter.rs`).
    pub complete_within_us: u64,
    pub accurate_after_gst_within_us: u64,
    pub mutant: Option<Mutant>,
}

type Fx = Effects<Fd>;
type FdCtx<'a> = Ctx<'a, FdConfig>;

impl Fd {
    fn mutant(ctx: &FdCtx<'_>, mutant: Mutant) -> bool {
        ctx.config.mutant == Some(mutant)
    }

    /// The nodes this node watches: its peers (and itself, in `suspect-self`).
    fn watched(ctx: &FdCtx<'_>) -> Vec<NodeId> {
        (0..ctx.cluster_size)
            .map(NodeId)
            .filter(|&node| node != ctx.id || Self::mutant(ctx, Mutant::SuspectSelf))
            .collect()
    }

    fn fresh(ctx: &FdCtx<'_>, incarnation: u64) -> Fd {
        let n = ctx.cluster_size as usize;
        Fd {
            incarnation,
            seq: 0,
            suspected: BTreeSet::new(),
            timeout_us: vec![ctx.config.timeout_us; n],
            heard: vec![(0, 0); n],
        }
    }

    fn arm_suspect(&self, ctx: &FdCtx<'_>, peer: NodeId, fx: &mut Fx) {
        let timeout = self.timeout_us[peer.index()];
        assert!(
            (ctx.config.timeout_us..=ctx.config.max_timeout_us).contains(&timeout),
            "{}: timeout {timeout} us for {peer} is outside its bounds",
            ctx.id
        );
        fx.set_timer(FdTimer::Suspect(peer), timeout, timeout);
    }

    /// Start watching every peer, and (unless `heartbeat` is false) arm the heartbeat
    /// timer: the first heartbeat leaves `heartbeat_ms` after the start.
    fn on_start(&mut self, ctx: &FdCtx<'_>, heartbeat: bool, fx: &mut Fx) {
        for peer in Self::watched(ctx) {
            self.arm_suspect(ctx, peer, fx);
        }
        if heartbeat {
            Self::arm_heartbeat(ctx, fx);
        }
    }

    fn arm_heartbeat(ctx: &FdCtx<'_>, fx: &mut Fx) {
        let every = ctx.config.heartbeat_us;
        fx.set_timer(FdTimer::Heartbeat, every, every);
    }

    /// A restart persists the new incarnation before any heartbeat of it leaves.
    fn on_restart(&mut self, ctx: &FdCtx<'_>, fx: &mut Fx) {
        fx.persist(FdDurable {
            incarnation: self.incarnation,
        });
        let heartbeat = !Self::mutant(ctx, Mutant::NoRearmAfterRestart);
        self.on_start(ctx, heartbeat, fx);
    }

    fn on_heartbeat_timeout(&mut self, ctx: &FdCtx<'_>, fx: &mut Fx) {
        self.seq += 1;
        fx.broadcast(
            ctx,
            FdMsg::Heartbeat {
                incarnation: self.incarnation,
                seq: self.seq,
            },
        );
        Self::arm_heartbeat(ctx, fx);
    }

    fn on_suspect_timeout(&mut self, ctx: &FdCtx<'_>, peer: NodeId, fx: &mut Fx) {
        if self.suspected.insert(peer) {
            fx.observe(FdObs::Suspected { peer });
            if Self::mutant(ctx, Mutant::ExpiringSuspicion) {
                // The suspicion's time to live: when it runs out, the peer is trusted.
                self.arm_suspect(ctx, peer, fx);
            }
        } else if Self::mutant(ctx, Mutant::ExpiringSuspicion) {
            self.suspected.remove(&peer);
            let timeout_us = self.timeout_us[peer.index()];
            fx.observe(FdObs::Trusted { peer, timeout_us });
            self.arm_suspect(ctx, peer, fx);
        }
    }

    /// Chandra–Toueg §9.1: a heartbeat from a suspected peer proves the suspicion false,
    /// so the peer is trusted and its timeout grows.
    fn on_heartbeat(
        &mut self,
        ctx: &FdCtx<'_>,
        from: NodeId,
        incarnation: u64,
        seq: u64,
        fx: &mut Fx,
    ) {
        if (incarnation, seq) <= self.heard[from.index()] {
            return; // stale or duplicated: says nothing about now
        }
        self.heard[from.index()] = (incarnation, seq);
        let timeout = &mut self.timeout_us[from.index()];
        if self.suspected.remove(&from) {
            if !Self::mutant(ctx, Mutant::FixedTimeout) {
                *timeout =
                    (*timeout + ctx.config.timeout_increase_us).min(ctx.config.max_timeout_us);
            }
            fx.observe(FdObs::Trusted {
                peer: from,
                timeout_us: *timeout,
            });
        } else if Self::mutant(ctx, Mutant::TimeoutReset) {
            *timeout = ctx.config.timeout_us;
        }
        self.arm_suspect(ctx, from, fx);
    }
}

impl Protocol for Fd {
    type Config = FdConfig;
    type Msg = FdMsg;
    type Timer = FdTimer;
    type Durable = FdDurable;
    type Op = ();
    type Reply = NoReply;
    type Obs = FdObs;
    type Checker = FdChecker;

    fn new(ctx: &FdCtx<'_>) -> Fd {
        Fd::fresh(ctx, 0)
    }

    fn recover(ctx: &FdCtx<'_>, durable: Option<&FdDurable>) -> Fd {
        Fd::fresh(ctx, durable.map_or(0, |durable| durable.incarnation) + 1)
    }

    fn step(&mut self, ctx: &FdCtx<'_>, input: Input<Fd>, fx: &mut Fx) {
        match input {
            Input::Init => self.on_start(ctx, true, fx),
            Input::Restart => self.on_restart(ctx, fx),
            Input::Timer(FdTimer::Heartbeat) => self.on_heartbeat_timeout(ctx, fx),
            Input::Timer(FdTimer::Suspect(peer)) => self.on_suspect_timeout(ctx, peer, fx),
            Input::Message {
                from,
                msg: FdMsg::Heartbeat { incarnation, seq },
            } => self.on_heartbeat(ctx, from, incarnation, seq, fx),
            Input::Client { .. } => unreachable!("fd registers no workload"),
        }
    }

    fn role(&self) -> &'static str {
        if self.suspected.is_empty() {
            "trusting"
        } else {
            "suspecting"
        }
    }
}

const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "trusting",
        colour: "#9ecae1",
        leader: false,
    },
    RoleInfo {
        name: "suspecting",
        colour: "#fd8d3c",
        leader: false,
    },
];

/// The failure detector's `[params]` (times in ms).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FdParams {
    /// How often a node sends a heartbeat.
    #[serde(default = "FdParams::default_heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// The initial timeout for every peer.
    #[serde(default = "FdParams::default_timeout_ms")]
    pub timeout_ms: u64,
    /// How much a false suspicion lengthens that peer's timeout.
    #[serde(default = "FdParams::default_timeout_increase_ms")]
    pub timeout_increase_ms: u64,
    /// The longest a timeout grows.
    #[serde(default = "FdParams::default_max_timeout_ms")]
    pub max_timeout_ms: u64,
    /// Liveness condition `complete`: a crashed node is suspected by every correct node
    /// from this long after its crash (or after GST, if later) until it restarts.
    #[serde(default = "FdParams::default_complete_within_ms")]
    pub complete_within_ms: u64,
    /// Liveness condition `accurate`: no correct node is suspected by a correct node
    /// from this long after GST (the heal) to the run's end.
    #[serde(default = "FdParams::default_accurate_after_gst_within_ms")]
    pub accurate_after_gst_within_ms: u64,
}

impl FdParams {
    fn default_heartbeat_ms() -> u64 {
        10
    }
    fn default_timeout_ms() -> u64 {
        25
    }
    fn default_timeout_increase_ms() -> u64 {
        10
    }
    fn default_max_timeout_ms() -> u64 {
        200
    }
    fn default_complete_within_ms() -> u64 {
        400
    }
    fn default_accurate_after_gst_within_ms() -> u64 {
        500
    }

    fn config(self, setup: Setup<Mutant>) -> Result<FdConfig, ConfigError> {
        const MS_MAX: u64 = 3_600_000;
        let error = |field: &str, message: String, fix: String| ConfigError {
            field: field.to_string(),
            message,
            fix,
        };
        if setup.cluster_size < 2 {
            return Err(error(
                "nodes",
                format!(
                    "{} node: a failure detector needs peers",
                    setup.cluster_size
                ),
                "set `nodes = 2` or more".to_string(),
            ));
        }
        for (field, value) in [
            ("heartbeat_ms", self.heartbeat_ms),
            ("timeout_ms", self.timeout_ms),
            ("timeout_increase_ms", self.timeout_increase_ms),
            ("max_timeout_ms", self.max_timeout_ms),
            ("complete_within_ms", self.complete_within_ms),
            (
                "accurate_after_gst_within_ms",
                self.accurate_after_gst_within_ms,
            ),
        ] {
            if value == 0 || value > MS_MAX {
                let fix = if field == "timeout_increase_ms" {
                    "write e.g. `timeout_increase_ms = 10` (a timeout that never grows is \
                     the `fixed-timeout` mutant)"
                        .to_string()
                } else {
                    format!("write a time in 1..={MS_MAX} ms")
                };
                return Err(error(field, format!("{value} ms is out of range"), fix));
            }
        }
        if self.max_timeout_ms < self.timeout_ms {
            return Err(error(
                "max_timeout_ms",
                format!(
                    "{} ms is below the initial timeout_ms = {}",
                    self.max_timeout_ms, self.timeout_ms
                ),
                format!("write `max_timeout_ms = {}` or more", self.timeout_ms),
            ));
        }
        if self.complete_within_ms <= self.max_timeout_ms {
            return Err(error(
                "complete_within_ms",
                format!(
                    "{} ms is not above max_timeout_ms = {}: a correct detector may need \
                     its longest timeout before it suspects a crashed node",
                    self.complete_within_ms, self.max_timeout_ms
                ),
                format!(
                    "write `complete_within_ms = {}` or more (the longest timeout plus the \
                     network's delay bound)",
                    self.max_timeout_ms + self.heartbeat_ms
                ),
            ));
        }
        Ok(FdConfig {
            heartbeat_us: self.heartbeat_ms * 1000,
            timeout_us: self.timeout_ms * 1000,
            timeout_increase_us: self.timeout_increase_ms * 1000,
            max_timeout_us: self.max_timeout_ms * 1000,
            complete_within_us: self.complete_within_ms * 1000,
            accurate_after_gst_within_us: self.accurate_after_gst_within_ms * 1000,
            mutant: setup.mutant,
        })
    }
}

/// The model checker's bound on the detector.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FdCheckBounds {
    /// Heartbeats a node may send per incarnation (so sequence numbers stop).
    pub max_heartbeats: Option<u64>,
}

impl FdCheckBounds {
    fn within(&self, node: &Fd) -> bool {
        self.max_heartbeats.is_none_or(|max| node.seq <= max)
    }
}

/// The `fd` protocol's registration.
pub fn registration() -> Registration<Fd> {
    Registration::new(
        "fd",
        "heartbeat failure detector (Chandra-Toueg 1996): adaptive timeouts, eventually perfect (◇P) under partial synchrony",
    )
    .params::<FdParams, Mutant>(|params, setup| params.config(setup))
    .roles(ROLES)
    // A detector is safe with any number of crashes; completeness needs one observer.
    .fault_bound(|cluster_size| FaultBound {
        crashed: cluster_size - 1,
        byzantine: 0,
    })
    .check_bounds::<FdCheckBounds>(FdCheckBounds::within)
    .message_kinds(&["heartbeat"])
    .meter(FdMeter::boxed)
}
