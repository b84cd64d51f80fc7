//! The model checker's time, for a protocol that reads its local clock
//! (`Registration::reads_clock`, the `lease` lock service). A protocol that reads no clock
//! gets none: its states carry no clock and its checks explore exactly what they did.
//!
//! The model: every node has its own local clock, in microseconds, starting at 0, and
//! time passes in discrete ticks (`[check] tick_ms`), as an action like a delivery:
//! - `tick`: every clock advances one tick (time passes for the whole cluster);
//! - `tick` at one node (only with `max_clock_skew_ms` > 0): that node's clock runs ahead
//!   one tick (drift), as long as no two clocks then read more than `max_clock_skew_ms`
//!   apart. So the clocks may drift and step apart arbitrarily within that bound: a node
//!   whose clock is behind the others is a slow clock.
//!
//! No clock passes `max_time_ms`, which keeps the space finite (a clock-reading protocol
//! keeps absolute times in its state). A crashed node's clock runs on (a hardware clock),
//! and a restarted node reads it.
//!
//! Timers, as in the simulator (`sim/clock.rs`), measure intervals on their node's clock:
//! a timer armed with a delay of at least `min` may fire once its node's clock has
//! advanced `min` since it was armed, never earlier, and at any later time: nothing forces
//! a node to step, so a node that lets ticks pass while its timers are due is a paused
//! node (the simulator's `pause` fault, a GC pause), and the messages it sends then are as
//! late as the pause was long. Messages stay untimed: any one in flight may be delivered
//! after any number of ticks (an unbounded network delay).
//!
//! Bounds: `tick_ms`, `max_time_ms` (a multiple of the tick) and `max_clock_skew_ms` (a
//! multiple of the tick; default 0: the clocks agree). `CheckBounds` parses them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::protocol::{NodeId, TimeUs};
use crate::scenario::{Scenario, ScenarioError};

/// The `[check]` fields of the model of time.
pub const TIME_FIELDS: &[&str] = &["tick_ms", "max_time_ms", "max_clock_skew_ms"];

/// The largest `max_time_ms`: an hour of model time.
pub const TIME_MS_MAX: u64 = 3_600_000;

/// The `[check]` table's model of time, as written (milliseconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct TimeBounds {
    /// How far a clock advances in one tick.
    pub tick_ms: u64,
    /// No clock reads past this.
    pub max_time_ms: u64,
    /// No two clocks read further apart than this.
    pub max_clock_skew_ms: u64,
}

impl TimeBounds {
    /// The model of time from the `[check]` fields `TIME_FIELDS` (`None`: none was
    /// written). `tick_ms` and `max_time_ms` come together; errors name the field.
    pub fn from_fields(
        scenario: &Scenario,
        tick_ms: Option<u64>,
        max_time_ms: Option<u64>,
        max_clock_skew_ms: Option<u64>,
    ) -> Result<Option<TimeBounds>, ScenarioError> {
        let example = "write e.g. `tick_ms = 1` and `max_time_ms = 12` under [check]";
        let (tick_ms, max_time_ms) = match (tick_ms, max_time_ms) {
            (None, None) if max_clock_skew_ms.is_none() => return Ok(None),
            (Some(tick_ms), Some(max_time_ms)) => (tick_ms, max_time_ms),
            (None, _) => {
                return Err(scenario.error(
                    "check.tick_ms",
                    "a model of time needs the tick it advances by",
                    example,
                ))
            }
            (Some(_), None) => {
                return Err(scenario.error(
                    "check.max_time_ms",
                    "a model of time needs a horizon, or the clocks would run for ever",
                    example,
                ))
            }
        };
        if tick_ms == 0 {
            return Err(scenario.error(
                "check.tick_ms",
                "a tick of 0 ms: time would never pass",
                "write e.g. `tick_ms = 1`",
            ));
        }
        let whole_ticks = |field: &str, value: u64, least: u64| {
            if value < least || value > TIME_MS_MAX || !value.is_multiple_of(tick_ms) {
                Err(scenario.error(
                    &format!("check.{field}"),
                    format!(
                        "{value} ms: expected a multiple of tick_ms ({tick_ms} ms) from \
                         {least} to {TIME_MS_MAX}"
                    ),
                    format!("write e.g. `{field} = {}`", least.max(tick_ms) * 4),
                ))
            } else {
                Ok(value)
            }
        };
        let max_time_ms = whole_ticks("max_time_ms", max_time_ms, tick_ms)?;
        let max_clock_skew_ms =
            whole_ticks("max_clock_skew_ms", max_clock_skew_ms.unwrap_or(0), 0)?;
        if max_clock_skew_ms > max_time_ms {
            return Err(scenario.error(
                "check.max_clock_skew_ms",
                format!(
                    "{max_clock_skew_ms} ms of skew is more than the {max_time_ms} ms any \
                     clock may read"
                ),
                "use at most max_time_ms",
            ));
        }
        Ok(Some(TimeBounds {
            tick_ms,
            max_time_ms,
            max_clock_skew_ms,
        }))
    }

    fn tick_us(&self) -> TimeUs {
        self.tick_ms * 1000
    }
}

/// One state's clocks and timer deadlines (only for a protocol that reads its clock).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct ModelClock<T: Ord> {
    /// Each node's local clock, in µs.
    pub local_us: Vec<TimeUs>,
    /// The earliest reading of its node's clock at which each armed timer may fire.
    pub due_us: BTreeMap<(NodeId, T), TimeUs>,
}

impl<T: Ord + Copy> ModelClock<T> {
    /// Every clock at 0, no timer armed.
    pub fn new(nodes: u32) -> ModelClock<T> {
        ModelClock {
            local_us: vec![0; nodes as usize],
            due_us: BTreeMap::new(),
        }
    }

    pub fn read(&self, node: NodeId) -> TimeUs {
        self.local_us[node.index()]
    }

    /// `timer` at `node` is armed (again), with a delay of at least `min_us`.
    pub fn arm(&mut self, node: NodeId, timer: T, min_us: TimeUs) {
        let due = self.read(node) + min_us;
        self.due_us.insert((node, timer), due);
    }

    pub fn disarm(&mut self, node: NodeId, timer: T) {
        self.due_us.remove(&(node, timer));
    }

    /// A crash disarms every timer of the node (its clock runs on).
    pub fn forget(&mut self, node: NodeId) {
        self.due_us.retain(|&(owner, _), _| owner != node);
    }

    /// May the armed `timer` fire now?
    pub fn due(&self, node: NodeId, timer: T) -> bool {
        let due = self.due_us.get(&(node, timer)).expect("only armed timers");
        self.read(node) >= *due
    }

    /// The ticks possible in this state: `None` for every clock, `Some(node)` for one.
    pub fn ticks(&self, bounds: &TimeBounds, ticks: &mut Vec<Option<NodeId>>) {
        let tick = bounds.tick_us();
        let horizon = bounds.max_time_ms * 1000;
        let fastest = self.local_us.iter().copied().max().unwrap_or(0);
        let slowest = self.local_us.iter().copied().min().unwrap_or(0);
        if fastest + tick <= horizon {
            ticks.push(None);
        }
        if bounds.max_clock_skew_ms == 0 {
            return;
        }
        let skew = bounds.max_clock_skew_ms * 1000;
        for (index, &local) in self.local_us.iter().enumerate() {
            if local + tick <= horizon && local + tick - slowest <= skew {
                ticks.push(Some(NodeId(index as u32)));
            }
        }
    }

    /// One tick passes, for every clock or for one node's.
    pub fn tick(&mut self, bounds: &TimeBounds, node: Option<NodeId>) {
        let tick = bounds.tick_us();
        match node {
            Some(node) => self.local_us[node.index()] += tick,
            None => self.local_us.iter_mut().for_each(|local| *local += tick),
        }
        let fastest = self.local_us.iter().copied().max().unwrap_or(0);
        let slowest = self.local_us.iter().copied().min().unwrap_or(0);
        assert!(
            fastest <= bounds.max_time_ms * 1000,
            "a clock passed the horizon"
        );
        assert!(
            fastest - slowest <= bounds.max_clock_skew_ms * 1000,
            "clocks drifted past the skew bound"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bounds(skew: u64) -> TimeBounds {
        TimeBounds {
            tick_ms: 1,
            max_time_ms: 3,
            max_clock_skew_ms: skew,
        }
    }

    #[test]
    fn timers_fire_no_earlier_than_their_delay_on_their_nodes_clock() {
        let bounds = bounds(1);
        let mut clock = ModelClock::<u8>::new(2);
        clock.arm(NodeId(0), 7, 2000);
        clock.tick(&bounds, None);
        assert!(!clock.due(NodeId(0), 7));
        // Node 1 running ahead moves no timer of node 0.
        clock.tick(&bounds, Some(NodeId(1)));
        assert!(!clock.due(NodeId(0), 7));
        clock.tick(&bounds, Some(NodeId(0)));
        assert!(clock.due(NodeId(0), 7));
        clock.forget(NodeId(0));
        assert!(clock.due_us.is_empty());
    }

    #[test]
    fn clocks_stay_within_the_skew_and_the_horizon() {
        let mut ticks = Vec::new();
        let mut clock = ModelClock::<u8>::new(2);
        clock.ticks(&bounds(0), &mut ticks);
        assert_eq!(ticks, [None], "without skew the clocks advance together");
        ticks.clear();
        clock.tick(&bounds(1), Some(NodeId(0)));
        clock.ticks(&bounds(1), &mut ticks);
        assert_eq!(
            ticks,
            [None, Some(NodeId(1))],
            "node 0 is a tick ahead already"
        );
        ticks.clear();
        clock.tick(&bounds(1), None);
        clock.tick(&bounds(1), None);
        clock.ticks(&bounds(1), &mut ticks);
        assert_eq!(ticks, [Some(NodeId(1))], "node 0 reads 3 ms, the horizon");
    }
}
