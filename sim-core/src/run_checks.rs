//! `[[checks]]`: conditions checked throughout a run, not only at its end — the classic
//! Raft labs' "a leader within 5 s whenever a majority is connected", "nothing commits in
//! a minority", "every command completes within 2 s", and per-phase message bounds.
//! A broken check fails the run at the first event after the window it breaks, with
//! property `checks.<name>` (the check's `name`, or its `kind`).
//!
//! Connectivity is the simulator's own view: a node is *in the majority* when it is up
//! and connected (transitively, both ways: no partition, isolation or one-way cut on
//! the path) to more than half of the cluster; loss and omissions do not disconnect.
//! The negative assertions count a node as *outside* the majority only when it is cut
//! off from it in both directions (behind a one-way cut it still hears the leader). Leaders are nodes in the role the registration marks
//! as the leader; commits are the observations its `commits` hook reads. This module is
//! the file's syntax; `sim/run_checks.rs` runs them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One `[[checks]]` entry: an optional name and window, and the rule.
// As for faults, `unevaluatedProperties` refuses what neither the common fields nor the
// rule of this `kind` take (serde cannot combine `deny_unknown_fields` with `flatten`).
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[schemars(extend("unevaluatedProperties" = false))]
pub struct CheckSpec {
    /// The property name is `checks.<name>`; defaults to the `kind`. Names are unique.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The check holds from this time on (ms; default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<u64>,
    /// ... up to this time (ms; default: the end of the run). A window must close by the
    /// end of the run (`duration_ms` plus the liveness window).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
    /// What is checked: `kind`, and exactly the fields that kind takes.
    #[serde(flatten)]
    pub rule: CheckRule,
}

/// What a `[[checks]]` entry asserts.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckRule {
    /// Whenever a majority is up and connected, a node among it is in the leader role:
    /// the majority never goes without one for longer than `within_ms`.
    Leader {
        /// The longest a connected majority may be leaderless, in ms.
        within_ms: u64,
    },
    /// No node becomes leader while it is outside the majority (a negative assertion:
    /// an election needs a majority's votes).
    NoLeaderInMinority {
        /// How long a node must have been outside the majority before the rule applies,
        /// in ms: long enough for messages in flight at the split to land (e.g. twice the
        /// largest latency).
        grace_ms: u64,
    },
    /// Nothing new is committed by a node while it is outside the majority (the
    /// protocol's commit observations, `Registration::commits`): after the grace, it
    /// commits no index above the highest one committed outside the majority then.
    /// Meant for clean splits: under overlapping random cuts a leader may legitimately
    /// commit late an entry a majority stored before the split, which this flags.
    NoCommitInMinority {
        /// As for `no_leader_in_minority`.
        grace_ms: u64,
    },
    /// Every client operation completes within `within_ms` of being issued, or of the
    /// moment the current majority formed if that is later; operations issued while
    /// no majority is connected wait for one.
    OpLatency {
        /// In ms.
        within_ms: u64,
    },
    /// Every client command applied by a node is applied at the same log index on every
    /// node (the first index each applies it at), and within `within_ms` of being issued
    /// (or of the current majority forming, if later) it has been applied by every node
    /// `nodes` names. A command no node applies is not judged here (`op_latency` is
    /// about completion). Reads the protocol's applied log (`Registration::applied`).
    CommandEverywhere {
        /// In ms.
        within_ms: u64,
        /// Which nodes must have applied it by then.
        #[serde(default)]
        nodes: CommandNodes,
    },
    /// Messages sent in the window, at least `min` and at most `max`, counted as
    /// `unit`. Exceeding `max` fails at once; `min` is judged when the window closes.
    Messages {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
        /// What one message counts as.
        #[serde(default)]
        unit: CountUnit,
        /// Count client requests and replies too (only with clients on the network, a
        /// `[clients]` table; in `rpcs` a request and its reply count once). Default:
        /// node-to-node messages only.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        clients: bool,
    },
}

/// Which nodes a `command_everywhere` check requires a command on.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CommandNodes {
    /// Every node of the connected majority (the default); the clock waits while there
    /// is none.
    #[default]
    Connected,
    /// All the cluster's nodes; the clock waits while any is down or cut off.
    All,
}

/// What a message counts as in a `messages` check.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CountUnit {
    /// Each message is one.
    #[default]
    Messages,
    /// Each message counts its size on the wire.
    Bytes,
    /// A request and its reply are one RPC: replies (the message kinds the protocol
    /// declares with `Registration::rpc_replies`) count nothing.
    Rpcs,
}

impl CheckRule {
    pub fn kind(&self) -> &'static str {
        match self {
            CheckRule::Leader { .. } => "leader",
            CheckRule::NoLeaderInMinority { .. } => "no_leader_in_minority",
            CheckRule::NoCommitInMinority { .. } => "no_commit_in_minority",
            CheckRule::OpLatency { .. } => "op_latency",
            CheckRule::CommandEverywhere { .. } => "command_everywhere",
            CheckRule::Messages { .. } => "messages",
        }
    }

    /// The times the rule states, as (field, ms), for the scenario's time limits.
    pub fn times_ms(&self) -> Vec<(&'static str, u64)> {
        match self {
            CheckRule::Leader { within_ms }
            | CheckRule::OpLatency { within_ms }
            | CheckRule::CommandEverywhere { within_ms, .. } => {
                vec![("within_ms", *within_ms)]
            }
            CheckRule::NoLeaderInMinority { grace_ms }
            | CheckRule::NoCommitInMinority { grace_ms } => vec![("grace_ms", *grace_ms)],
            CheckRule::Messages { .. } => Vec::new(),
        }
    }
}

impl CheckSpec {
    /// The property a broken check reports: `checks.<name>`.
    pub fn property(&self) -> String {
        format!(
            "checks.{}",
            self.name.as_deref().unwrap_or(self.rule.kind())
        )
    }

    /// The window in microseconds, `until` defaulting to `end_us`.
    pub fn window_us(&self, end_us: u64) -> (u64, u64) {
        (
            self.from_ms.unwrap_or(0).saturating_mul(1000),
            self.until_ms.map_or(end_us, |ms| ms.saturating_mul(1000)),
        )
    }

    /// Checks that need no protocol, as (field under `checks[i]`, message, fix).
    pub fn validate(&self, end_ms: u64) -> Result<(), (String, String, String)> {
        let error = |field: &str, message: String, fix: &str| {
            Err((field.to_string(), message, fix.to_string()))
        };
        if let Some(name) = &self.name {
            let plain = !name.is_empty()
                && name.len() <= 60
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
            if !plain {
                return error(
                    "name",
                    format!("{name:?} is not a plain name"),
                    "use letters, digits, `_` and `-`, e.g. `name = \"leader_after_crash\"`",
                );
            }
        }
        let from = self.from_ms.unwrap_or(0);
        let until = self.until_ms.unwrap_or(end_ms);
        if from >= until {
            return error(
                "until_ms",
                format!("the window [{from}, {until}) ms is empty"),
                "make `until_ms` later than `from_ms`",
            );
        }
        if until > end_ms {
            return error(
                "until_ms",
                format!(
                    "the window closes at {until} ms, after the run ends ({end_ms} ms: \
                     duration_ms plus the liveness window)"
                ),
                "close the window by the end of the run, or lengthen the run",
            );
        }
        match &self.rule {
            CheckRule::Leader { within_ms: 0 }
            | CheckRule::OpLatency { within_ms: 0 }
            | CheckRule::CommandEverywhere { within_ms: 0, .. } => error(
                "within_ms",
                "a bound of 0 ms cannot be met".to_string(),
                "write e.g. `within_ms = 2000`",
            ),
            CheckRule::Messages {
                min: None,
                max: None,
                ..
            } => error(
                "max",
                "a `messages` check with neither `min` nor `max` checks nothing".to_string(),
                "add `max = ...` and/or `min = ...`",
            ),
            CheckRule::Messages {
                min: Some(min),
                max: Some(max),
                ..
            } if min > max => error(
                "min",
                format!("min {min} is above max {max}"),
                "make `min` at most `max`",
            ),
            CheckRule::Messages {
                unit: CountUnit::Bytes,
                clients: true,
                ..
            } => error(
                "clients",
                "client messages have no size in the network model, so they cannot be \
                 counted in bytes"
                    .to_string(),
                "count them as `unit = \"messages\"` or `\"rpcs\"`, or drop `clients`",
            ),
            _ => Ok(()),
        }
    }
}
