//! Two-phase commit (Gray, "Notes on Data Base Operating Systems", 1978; Bernstein,
//! Hadzilacos & Goodman, "Concurrency Control and Recovery", 1987, §7.3-7.4): node 0
//! coordinates one transaction, every other node is a participant.
//!
//! The coordinator sends `prepare`; a participant persists its vote before sending it (a
//! yes vote is a promise to commit if told to) and a no voter aborts at once. With every
//! vote yes the coordinator decides commit, otherwise (a no, or a vote timeout) abort; it
//! persists the decision before telling anyone, and participants persist it before
//! acknowledging. Recovery reads the logs: a coordinator with a logged decision sends it
//! again, one without presumes abort (no participant can have heard commit); a participant
//! that voted yes is *uncertain* and asks the coordinator (`query`) until it hears.
//!
//! That uncertainty is 2PC's lesson (§7.4): while the coordinator is down, a participant
//! that voted yes can neither commit nor abort — it blocks. `scenarios/twopc/blocking*.toml`
//! show it.

mod invariants;
mod mutants;

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::*;

pub use invariants::TwoPcChecker;
pub use mutants::Mutant;

use crate::paxos::{range_us, NoReply};

/// The coordinator is always node 0.
pub const COORDINATOR: NodeId = NodeId(0);

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Commit,
    Abort,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoPcMsg {
    /// Phase 1: asks for a vote.
    Prepare,
    Vote {
        yes: bool,
    },
    /// Phase 2.
    Decision {
        outcome: Outcome,
    },
    /// The participant has logged the decision.
    Ack,
    /// An uncertain participant asks for the outcome (the termination protocol's ask).
    Query,
}

impl Message for TwoPcMsg {
    fn kind(&self) -> &'static str {
        match self {
            TwoPcMsg::Prepare => "prepare",
            TwoPcMsg::Vote { .. } => "vote",
            TwoPcMsg::Decision { .. } => "decision",
            TwoPcMsg::Ack => "ack",
            TwoPcMsg::Query => "query",
        }
    }
    fn size_bytes(&self) -> u32 {
        16
    }
}

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum TwoPcTimer {
    /// The coordinator starts the transaction.
    Start,
    /// The coordinator stops waiting for votes and aborts.
    Votes,
    /// A participant without a decision asks for it.
    Query,
}

impl TimerName for TwoPcTimer {
    fn kind(&self) -> &'static str {
        match self {
            TwoPcTimer::Start => "start_timeout",
            TwoPcTimer::Votes => "vote_timeout",
            TwoPcTimer::Query => "query_timeout",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoPcObs {
    /// A participant voted (durably).
    Voted { yes: bool },
    /// A node decided (the coordinator) or learnt the decision (a participant).
    Decided { outcome: Outcome },
}

impl Observation for TwoPcObs {
    fn kind(&self) -> &'static str {
        match self {
            TwoPcObs::Voted { .. } => "voted",
            TwoPcObs::Decided {
                outcome: Outcome::Commit,
            } => "committed",
            TwoPcObs::Decided {
                outcome: Outcome::Abort,
            } => "aborted",
        }
    }
}

/// The log: a participant's vote, and the decision.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, Serialize)]
pub struct TwoPcDurable {
    pub vote: Option<bool>,
    pub decision: Option<Outcome>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct TwoPc {
    pub coordinator: bool,
    pub vote: Option<bool>,
    pub decision: Option<Outcome>,
    /// What the log holds (the coordinator of `commit-before-persist` lags behind).
    pub logged: TwoPcDurable,
    /// The coordinator's count of votes.
    votes: BTreeMap<NodeId, bool>,
    /// Participants that acknowledged the decision.
    acked: BTreeSet<NodeId>,
}

#[derive(Clone, Debug)]
pub struct TwoPcConfig {
    /// `votes_yes[i]`: participant `i` votes yes.
    pub votes_yes: Vec<bool>,
    pub start_us: (u64, u64),
    pub vote_timeout_us: (u64, u64),
    pub query_us: (u64, u64),
    pub mutant: Option<Mutant>,
}

type Fx = Effects<TwoPc>;

impl TwoPc {
    fn mutant(ctx: &Ctx<'_, TwoPcConfig>, mutant: Mutant) -> bool {
        ctx.config.mutant == Some(mutant)
    }

    fn persist(&mut self, fx: &mut Fx) {
        self.logged = TwoPcDurable {
            vote: self.vote,
            decision: self.decision,
        };
        fx.persist(self.logged.clone());
    }

    fn arm(fx: &mut Fx, timer: TwoPcTimer, (min, max): (u64, u64)) {
        fx.set_timer(timer, min, max);
    }

    // --- the coordinator ---------------------------------------------------------------

    fn on_start_timeout(&mut self, ctx: &Ctx<'_, TwoPcConfig>, fx: &mut Fx) {
        if self.decision.is_some() {
            return;
        }
        fx.broadcast(ctx, TwoPcMsg::Prepare);
        Self::arm(fx, TwoPcTimer::Votes, ctx.config.vote_timeout_us);
    }

    fn on_vote(&mut self, ctx: &Ctx<'_, TwoPcConfig>, from: NodeId, yes: bool, fx: &mut Fx) {
        if let Some(outcome) = self.decision {
            fx.send(from, TwoPcMsg::Decision { outcome });
            return;
        }
        self.votes.insert(from, yes);
        let participants = ctx.cluster_size as usize - 1;
        let yes_votes = self.votes.values().filter(|&&yes| yes).count();
        let enough = if Self::mutant(ctx, Mutant::MajorityCommit) {
            yes_votes > participants / 2
        } else {
            yes_votes == participants
        };
        if !yes {
            self.decide(ctx, Outcome::Abort, fx);
        } else if enough {
            self.decide(ctx, Outcome::Commit, fx);
        }
    }

    fn on_vote_timeout(&mut self, ctx: &Ctx<'_, TwoPcConfig>, fx: &mut Fx) {
        if self.decision.is_none() {
            self.decide(ctx, Outcome::Abort, fx);
        }
    }

    /// The decision is logged before anyone hears it (§7.3: the coordinator's "commit
    /// point" is the log write).
    fn decide(&mut self, ctx: &Ctx<'_, TwoPcConfig>, outcome: Outcome, fx: &mut Fx) {
        assert!(self.coordinator, "{}: only the coordinator decides", ctx.id);
        self.decision = Some(outcome);
        if !Self::mutant(ctx, Mutant::CommitBeforePersist) {
            self.persist(fx);
        }
        fx.observe(TwoPcObs::Decided { outcome });
        fx.cancel_timer(TwoPcTimer::Votes);
        fx.broadcast(ctx, TwoPcMsg::Decision { outcome });
    }

    fn on_query(&mut self, from: NodeId, fx: &mut Fx) {
        if let Some(outcome) = self.decision {
            fx.send(from, TwoPcMsg::Decision { outcome });
        }
    }

    fn on_ack(&mut self, from: NodeId, fx: &mut Fx) {
        self.acked.insert(from);
        if self.logged.decision != self.decision {
            // commit-before-persist: the write-behind decision record lands now.
            self.persist(fx);
        }
    }

    fn on_coordinator_restart(&mut self, ctx: &Ctx<'_, TwoPcConfig>, fx: &mut Fx) {
        match self.decision {
            Some(outcome) if !Self::mutant(ctx, Mutant::RedecideOnRecovery) => {
                fx.broadcast(ctx, TwoPcMsg::Decision { outcome });
            }
            // Nothing logged: no participant can have heard commit, so presume abort.
            _ => self.decide(ctx, Outcome::Abort, fx),
        }
    }

    // --- a participant ------------------------------------------------------------------

    fn on_prepare(&mut self, ctx: &Ctx<'_, TwoPcConfig>, fx: &mut Fx) {
        let yes = match self.vote {
            Some(yes) => yes,
            None => {
                let yes = ctx.config.votes_yes[ctx.id.index()];
                self.vote = Some(yes);
                if !yes && self.decision.is_none() {
                    // A no voter may abort unilaterally: the transaction cannot commit.
                    self.decision = Some(Outcome::Abort);
                    fx.observe(TwoPcObs::Decided {
                        outcome: Outcome::Abort,
                    });
                }
                self.persist(fx);
                fx.observe(TwoPcObs::Voted { yes });
                yes
            }
        };
        fx.send(COORDINATOR, TwoPcMsg::Vote { yes });
        if self.decision.is_none() {
            Self::arm(fx, TwoPcTimer::Query, ctx.config.query_us);
        }
    }

    fn on_decision(&mut self, outcome: Outcome, fx: &mut Fx) {
        if self.decision.is_none() {
            self.decision = Some(outcome);
            self.persist(fx);
            fx.observe(TwoPcObs::Decided { outcome });
            fx.cancel_timer(TwoPcTimer::Query);
        }
        fx.send(COORDINATOR, TwoPcMsg::Ack);
    }

    fn on_query_timeout(&mut self, ctx: &Ctx<'_, TwoPcConfig>, fx: &mut Fx) {
        if self.decision.is_some() {
            return;
        }
        if self.vote == Some(true) && Self::mutant(ctx, Mutant::AbortAfterYesTimeout) {
            self.decision = Some(Outcome::Abort);
            self.persist(fx);
            fx.observe(TwoPcObs::Decided {
                outcome: Outcome::Abort,
            });
            return;
        }
        fx.send(COORDINATOR, TwoPcMsg::Query);
        Self::arm(fx, TwoPcTimer::Query, ctx.config.query_us);
    }
}

impl Protocol for TwoPc {
    type Config = TwoPcConfig;
    type Msg = TwoPcMsg;
    type Timer = TwoPcTimer;
    type Durable = TwoPcDurable;
    type Op = ();
    type Reply = NoReply;
    type Obs = TwoPcObs;
    type Checker = TwoPcChecker;

    fn new(ctx: &Ctx<'_, TwoPcConfig>) -> TwoPc {
        TwoPc::recover(ctx, None)
    }

    fn recover(ctx: &Ctx<'_, TwoPcConfig>, durable: Option<&TwoPcDurable>) -> TwoPc {
        let logged = durable.cloned().unwrap_or_default();
        TwoPc {
            coordinator: ctx.id == COORDINATOR,
            vote: logged.vote,
            decision: logged.decision,
            logged,
            votes: BTreeMap::new(),
            acked: BTreeSet::new(),
        }
    }

    fn step(&mut self, ctx: &Ctx<'_, TwoPcConfig>, input: Input<TwoPc>, fx: &mut Fx) {
        match (self.coordinator, input) {
            (true, Input::Init) => Self::arm(fx, TwoPcTimer::Start, ctx.config.start_us),
            (true, Input::Restart) => self.on_coordinator_restart(ctx, fx),
            (true, Input::Timer(TwoPcTimer::Start)) => self.on_start_timeout(ctx, fx),
            (true, Input::Timer(TwoPcTimer::Votes)) => self.on_vote_timeout(ctx, fx),
            (true, Input::Message { from, msg }) => match msg {
                TwoPcMsg::Vote { yes } => self.on_vote(ctx, from, yes, fx),
                TwoPcMsg::Query => self.on_query(from, fx),
                TwoPcMsg::Ack => self.on_ack(from, fx),
                TwoPcMsg::Prepare | TwoPcMsg::Decision { .. } => {
                    unreachable!("{}: a coordinator got {msg:?} from {from}", ctx.id)
                }
            },
            (false, Input::Init | Input::Restart) => {
                if self.decision.is_none() {
                    Self::arm(fx, TwoPcTimer::Query, ctx.config.query_us);
                }
            }
            (false, Input::Timer(TwoPcTimer::Query)) => self.on_query_timeout(ctx, fx),
            (false, Input::Message { from, msg }) => match msg {
                TwoPcMsg::Prepare => self.on_prepare(ctx, fx),
                TwoPcMsg::Decision { outcome } => self.on_decision(outcome, fx),
                TwoPcMsg::Vote { .. } | TwoPcMsg::Ack | TwoPcMsg::Query => {
                    unreachable!("{}: a participant got {msg:?} from {from}", ctx.id)
                }
            },
            (coordinator, Input::Timer(timer)) => {
                unreachable!("{}: timer {timer:?} (coordinator: {coordinator})", ctx.id)
            }
            (_, Input::Client { .. }) => unreachable!("twopc registers no workload"),
        }
    }

    fn role(&self) -> &'static str {
        match (self.coordinator, self.decision, self.vote) {
            (true, ..) => "coordinator",
            (false, Some(Outcome::Commit), _) => "committed",
            (false, Some(Outcome::Abort), _) => "aborted",
            (false, None, Some(true)) => "uncertain",
            (false, None, _) => "working",
        }
    }
}

const ROLES: &[RoleInfo] = &[
    RoleInfo {
        name: "coordinator",
        colour: "#6a51a3",
        leader: true,
    },
    RoleInfo {
        name: "working",
        colour: "#9ecae1",
        leader: false,
    },
    RoleInfo {
        name: "uncertain",
        colour: "#fd8d3c",
        leader: false,
    },
    RoleInfo {
        name: "committed",
        colour: "#31a354",
        leader: false,
    },
    RoleInfo {
        name: "aborted",
        colour: "#de2d26",
        leader: false,
    },
];

/// Two-phase commit's `[params]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TwoPcParams {
    /// Participants (node ids 1..) that vote no; the others vote yes.
    #[serde(default)]
    pub vote_no: Vec<u32>,
    /// When the coordinator starts the transaction, in ms, `[min, max]`.
    #[serde(
        default = "TwoPcParams::default_start_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub start_ms: [u64; 2],
    /// How long the coordinator waits for votes before it aborts, `[min, max]`.
    #[serde(
        default = "TwoPcParams::default_vote_timeout_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub vote_timeout_ms: [u64; 2],
    /// How often a participant without a decision asks for it, `[min, max]`.
    #[serde(
        default = "TwoPcParams::default_query_ms",
        deserialize_with = "sim_core::scenario::exactly_two"
    )]
    pub query_ms: [u64; 2],
}

impl TwoPcParams {
    fn default_start_ms() -> [u64; 2] {
        [1, 10]
    }
    fn default_vote_timeout_ms() -> [u64; 2] {
        [100, 150]
    }
    fn default_query_ms() -> [u64; 2] {
        [50, 100]
    }

    fn config(self, setup: Setup<Mutant>) -> Result<TwoPcConfig, ConfigError> {
        let nodes = setup.cluster_size;
        if nodes < 2 {
            return Err(ConfigError {
                field: "nodes".to_string(),
                message: format!("{nodes} node: 2PC needs a coordinator and a participant"),
                fix: "set `nodes = 2` or more (node 0 coordinates)".to_string(),
            });
        }
        if let Some(bad) = self.vote_no.iter().find(|&&id| id == 0 || id >= nodes) {
            return Err(ConfigError {
                field: "vote_no".to_string(),
                message: format!("node {bad} is not a participant"),
                fix: format!("name participants 1..{} (node 0 coordinates)", nodes - 1),
            });
        }
        let query_us = range_us("query_ms", self.query_ms)?;
        let vote_timeout_us = range_us("vote_timeout_ms", self.vote_timeout_ms)?;
        for (field, (min, _)) in [("query_ms", query_us), ("vote_timeout_ms", vote_timeout_us)] {
            if min == 0 {
                return Err(ConfigError {
                    field: field.to_string(),
                    message: "a timeout of 0 ms fires before any reply can arrive".to_string(),
                    fix: format!("write e.g. `{field} = [50, 100]`"),
                });
            }
        }
        Ok(TwoPcConfig {
            votes_yes: (0..nodes).map(|id| !self.vote_no.contains(&id)).collect(),
            start_us: range_us("start_ms", self.start_ms)?,
            vote_timeout_us,
            query_us,
            mutant: setup.mutant,
        })
    }
}

/// The `twopc` protocol's registration.
pub fn registration() -> Registration<TwoPc> {
    Registration::new(
        "twopc",
        "two-phase commit (Gray 1978): one coordinator, votes and decision logged; blocks while the coordinator is down",
    )
    .params::<TwoPcParams, Mutant>(|params, setup| params.config(setup))
    .roles(ROLES)
    // Safe whatever crashes; live once everyone is back (which is the blocking lesson).
    .fault_bound(|cluster_size| FaultBound {
        crashed: cluster_size,
        byzantine: 0,
    })
}
