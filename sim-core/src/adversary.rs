//! The `[adversary]` table: an adversarial scheduler for an asynchronous network.
//!
//! Asynchrony (Fischer, Lynch and Paterson 1985) bounds no delay: a message arrives
//! eventually, but when is the scheduler's choice, and the FLP scheduler chooses knowing
//! every process's state. This one is that scheduler, made concrete and protocol-agnostic:
//! the scenario names the observation kinds that are progress (`starve`, e.g. Paxos's
//! `accepted`, Raft's `became_leader`), and when a message arrives the scheduler runs the
//! receiver's step on a copy of its state; if that step would emit a starved observation,
//! the message is held back. A held message is delivered as soon as its receiver has
//! moved on so that the step would no longer make progress (re-judged after each of the
//! receiver's steps), and at the latest `hold_max_ms` after it arrived: every message is
//! delivered, after a finite delay (the asynchronous model's fairness). The scheduler
//! only delays: it never drops, duplicates, forges or reorders on its own behalf beyond
//! what delaying does.
//!
//! The run-time side is `sim/adversary.rs`; holds go on the decision tape (`held_us`), so
//! a run replays and shrinks as any other.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::{Synchrony, SIMULATED_TIME_MAX_US};

/// The scenario's `[adversary]` table.
#[derive(Clone, Debug, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AdversarySpec {
    /// Observation kinds the scheduler keeps from happening, e.g. `["accepted"]`: a
    /// message whose delivery would make its receiver emit one is held back.
    pub starve: Vec<String>,
    /// Fairness: no message is held longer than this after it arrives, in ms.
    pub hold_max_ms: u64,
}

impl AdversarySpec {
    /// Checks that need no protocol: the synchrony model, the bound, the list. (The
    /// starved kinds are checked against the protocol's observations when the scenario
    /// is bound to it.) Errors are (field, message, fix).
    pub fn validate(&self, synchrony: Synchrony) -> Result<(), (String, String, String)> {
        if synchrony != Synchrony::Asynchronous {
            let model = match synchrony {
                Synchrony::Synchronous => "synchronous",
                _ => "partial",
            };
            return Err((
                "adversary".to_string(),
                format!(
                    "an adversarial scheduler delays messages without bound, which the \
                     `{model}` synchrony model forbids"
                ),
                "set `synchrony = \"asynchronous\"`, or remove the [adversary] table".to_string(),
            ));
        }
        if self.starve.is_empty() {
            return Err((
                "adversary.starve".to_string(),
                "no observation kind to starve: the scheduler would never hold a message"
                    .to_string(),
                "name the progress observations, e.g. `starve = [\"accepted\"]`".to_string(),
            ));
        }
        if let Some(index) =
            (1..self.starve.len()).find(|&i| self.starve[..i].contains(&self.starve[i]))
        {
            return Err((
                format!("adversary.starve[{index}]"),
                format!("`{}` is named twice", self.starve[index]),
                "name each observation kind once".to_string(),
            ));
        }
        if self.hold_max_ms == 0 || self.hold_max_ms.saturating_mul(1000) > SIMULATED_TIME_MAX_US {
            return Err((
                "adversary.hold_max_ms".to_string(),
                format!(
                    "{} ms: a hold bound must be at least 1 ms (0 holds nothing) and at \
                     most {} ms",
                    self.hold_max_ms,
                    SIMULATED_TIME_MAX_US / 1000
                ),
                "write e.g. `hold_max_ms = 1000`".to_string(),
            ));
        }
        Ok(())
    }

    pub fn hold_max_us(&self) -> u64 {
        self.hold_max_ms * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(starve: &[&str], hold_max_ms: u64) -> AdversarySpec {
        AdversarySpec {
            starve: starve.iter().map(|kind| kind.to_string()).collect(),
            hold_max_ms,
        }
    }

    #[test]
    fn only_an_asynchronous_network_takes_an_adversary() {
        let good = spec(&["accepted"], 500);
        assert!(good.validate(Synchrony::Asynchronous).is_ok());
        for synchrony in [Synchrony::Synchronous, Synchrony::Partial] {
            let (field, message, fix) = good.validate(synchrony).unwrap_err();
            assert_eq!(field, "adversary");
            assert!(message.contains("forbids"), "{message}");
            assert!(fix.contains("asynchronous"), "{fix}");
        }
    }

    #[test]
    fn refuses_an_empty_list_a_repeat_and_a_bad_bound() {
        let field = |spec: AdversarySpec| spec.validate(Synchrony::Asynchronous).unwrap_err().0;
        assert_eq!(field(spec(&[], 500)), "adversary.starve");
        assert_eq!(field(spec(&["a", "b", "a"], 500)), "adversary.starve[2]");
        assert_eq!(field(spec(&["a"], 0)), "adversary.hold_max_ms");
        assert_eq!(field(spec(&["a"], u64::MAX)), "adversary.hold_max_ms");
    }
}
