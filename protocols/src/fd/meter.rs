//! The failure detector's meter (`sim_core::meter`): detection times, false suspicions,
//! and the timed liveness conditions `complete` and `accurate`, measured on the
//! simulator's clock from what every node suspects after each of its steps.
//!
//! A suspicion of a node by a node is *false* while both are up (a suspicion that
//! outlives its target's restart counts from the restart, until the first fresh
//! heartbeat). A crash of `t` at `c` lasting until `r` (its restart, or the run's end) is
//! *detected* by every node `o` up throughout `[c, r)` that suspects `t` at `r`; its
//! detection time is when `o`'s suspicion began, less `c` (0 if it began before).

use sim_core::meter::{Meter, MeterSetup};
use sim_core::scenario::Synchrony;
use sim_core::*;

use super::invariants::{ACCURATE, COMPLETE};
use super::{Fd, FdConfig};

/// A false suspicion: `observer` suspected `target` while both were up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FalseSuspicion {
    observer: NodeId,
    target: NodeId,
    from_us: TimeUs,
    to_us: TimeUs,
}

#[derive(Debug)]
pub struct FdMeter {
    complete_within_us: u64,
    accurate_after_gst_within_us: u64,
    synchronous: bool,
    up: Vec<bool>,
    up_since: Vec<TimeUs>,
    down_since: Vec<Option<TimeUs>>,
    /// `[observer][target]`: since when the observer suspects the target (observer up).
    suspects: Vec<Vec<Option<TimeUs>>>,
    /// `[observer][target]`: since when the suspicion is false (both up).
    false_since: Vec<Vec<Option<TimeUs>>>,
    heal_us: Option<TimeUs>,
    end_us: Option<TimeUs>,
    detections: u64,
    detection_us_total: u64,
    detection_us_max: u64,
    false_suspicions: u64,
    false_suspicions_after_gst: u64,
    false_suspicion_us: u64,
    /// The false suspicion that ended last (the one `accurate` is judged on).
    last_false: Option<FalseSuspicion>,
    /// The first crash not detected in time, as `complete`'s failure detail.
    incomplete: Option<String>,
}

impl FdMeter {
    pub fn new(config: &FdConfig, setup: MeterSetup) -> FdMeter {
        let n = setup.cluster_size as usize;
        FdMeter {
            complete_within_us: config.complete_within_us,
            accurate_after_gst_within_us: config.accurate_after_gst_within_us,
            synchronous: setup.synchrony == Synchrony::Synchronous,
            up: vec![false; n],
            up_since: vec![0; n],
            down_since: vec![None; n],
            suspects: vec![vec![None; n]; n],
            false_since: vec![vec![None; n]; n],
            heal_us: None,
            end_us: None,
            detections: 0,
            detection_us_total: 0,
            detection_us_max: 0,
            false_suspicions: 0,
            false_suspicions_after_gst: 0,
            false_suspicion_us: 0,
            last_false: None,
            incomplete: None,
        }
    }

    /// `Registration::meter`'s constructor.
    pub fn boxed(config: &FdConfig, setup: MeterSetup) -> Box<dyn Meter<Fd>> {
        Box::new(FdMeter::new(config, setup))
    }

    fn open_false(&mut self, now: TimeUs, observer: NodeId, target: NodeId) {
        let slot = &mut self.false_since[observer.index()][target.index()];
        if slot.is_none() {
            *slot = Some(now);
            self.false_suspicions += 1;
            if self.heal_us.is_some() {
                self.false_suspicions_after_gst += 1;
            }
        }
    }

    fn close_false(&mut self, now: TimeUs, observer: NodeId, target: NodeId) {
        if let Some(from_us) = self.false_since[observer.index()][target.index()].take() {
            self.false_suspicion_us += now - from_us;
            if self.last_false.is_none_or(|last| now >= last.to_us) {
                self.last_false = Some(FalseSuspicion {
                    observer,
                    target,
                    from_us,
                    to_us: now,
                });
            }
        }
    }

    fn nodes(&self) -> impl Iterator<Item = NodeId> {
        (0..self.up.len() as u32).map(NodeId)
    }

    /// When the network is bounded for a crash at `crash_us`, if it is by `until_us`: a
    /// synchronous one always, otherwise from the heal (GST).
    fn bounded_from(&self, crash_us: TimeUs, until_us: TimeUs) -> Option<TimeUs> {
        let gst = if self.synchronous {
            Some(0)
        } else {
            self.heal_us.filter(|&heal| heal <= until_us)
        };
        gst.map(|gst| gst.max(crash_us))
    }

    /// `target`'s crash at `crash_us` ended at `until_us`: note who detected it and when,
    /// and whether each did by the deadline.
    fn judge_crash(&mut self, target: NodeId, crash_us: TimeUs, until_us: TimeUs) {
        let deadline = self
            .bounded_from(crash_us, until_us)
            .map(|from| from + self.complete_within_us)
            .filter(|&deadline| deadline < until_us);
        for observer in self.nodes().filter(|&node| node != target) {
            let up_throughout =
                self.up[observer.index()] && self.up_since[observer.index()] <= crash_us;
            if !up_throughout {
                continue;
            }
            let since = self.suspects[observer.index()][target.index()];
            if let Some(since) = since {
                let detection = since.saturating_sub(crash_us);
                self.detections += 1;
                self.detection_us_total += detection;
                self.detection_us_max = self.detection_us_max.max(detection);
            }
            let Some(deadline) = deadline else { continue };
            if since.is_none_or(|since| since > deadline) && self.incomplete.is_none() {
                let what = match since {
                    Some(since) => format!("suspected it only from {since} us on"),
                    None => format!("did not suspect it at {until_us} us"),
                };
                self.incomplete = Some(format!(
                    "{target} was down from {crash_us} us to {until_us} us, and {observer} \
                     {what}: the deadline was {deadline} us (complete_within_ms = {})",
                    self.complete_within_us / 1000
                ));
            }
        }
    }
}

impl Meter<Fd> for FdMeter {
    fn on_step(&mut self, now: TimeUs, node: NodeId, nodes: NodesView<'_, Fd>) {
        let index = node.index();
        if !self.up[index] {
            self.up[index] = true;
            self.up_since[index] = now;
            if let Some(crash_us) = self.down_since[index].take() {
                self.judge_crash(node, crash_us, now);
            }
            // Whoever still suspects it suspects a node that is up.
            for observer in self.nodes() {
                if self.up[observer.index()] && self.suspects[observer.index()][index].is_some() {
                    self.open_false(now, observer, node);
                }
            }
        }
        let Some(state) = nodes[index].as_ref() else {
            return; // crashed within its step: `on_crash` follows
        };
        for target in self.nodes().filter(|&target| target != node) {
            let suspects = state.suspected.contains(&target);
            let slot = &mut self.suspects[index][target.index()];
            match (suspects, slot.is_some()) {
                (true, false) => {
                    *slot = Some(now);
                    if self.up[target.index()] {
                        self.open_false(now, node, target);
                    }
                }
                (false, true) => {
                    *slot = None;
                    self.close_false(now, node, target);
                }
                _ => {}
            }
        }
    }

    fn on_crash(&mut self, now: TimeUs, node: NodeId) {
        let index = node.index();
        self.up[index] = false;
        self.down_since[index] = Some(now);
        for other in self.nodes() {
            // Its own suspicions die with its state; suspicions of it are now true.
            self.suspects[index][other.index()] = None;
            self.close_false(now, node, other);
            self.close_false(now, other, node);
        }
    }

    fn on_heal(&mut self, now: TimeUs) {
        self.heal_us = Some(now);
    }

    fn on_end(&mut self, now: TimeUs) {
        self.end_us = Some(now);
        for node in self.nodes() {
            if let Some(crash_us) = self.down_since[node.index()] {
                self.judge_crash(node, crash_us, now);
            }
            for target in self.nodes() {
                self.close_false(now, node, target);
            }
        }
    }

    fn judge(&self, condition: &str) -> Option<Result<(), String>> {
        match condition {
            COMPLETE => Some(self.incomplete.clone().map_or(Ok(()), Err)),
            ACCURATE => Some(self.judge_accurate()),
            _ => None,
        }
    }

    fn metrics(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("detections", self.detections),
            ("detection_us_max", self.detection_us_max),
            (
                "detection_us_mean",
                self.detection_us_total
                    .checked_div(self.detections)
                    .unwrap_or(0),
            ),
            ("detection_us_total", self.detection_us_total),
            ("false_suspicions", self.false_suspicions),
            (
                "false_suspicions_after_gst",
                self.false_suspicions_after_gst,
            ),
            ("false_suspicion_us", self.false_suspicion_us),
        ]
    }
}

impl FdMeter {
    fn judge_accurate(&self) -> Result<(), String> {
        let (Some(heal), Some(end)) = (self.heal_us, self.end_us) else {
            return Err("the run ended before the liveness window opened".to_string());
        };
        let from = heal + self.accurate_after_gst_within_us;
        if from >= end {
            return Err(format!(
                "the run ended at {end} us, before GST ({heal} us) + \
                 accurate_after_gst_within_ms = {} ms: nothing was judged; make \
                 [liveness] within_ms longer than accurate_after_gst_within_ms",
                self.accurate_after_gst_within_us / 1000
            ));
        }
        match self.last_false.filter(|last| last.to_us > from) {
            None => Ok(()),
            Some(last) => Err(format!(
                "{} suspected {} from {} us to {} us{}, while both were up: past GST \
                 ({heal} us) + accurate_after_gst_within_ms = {} ms ({} false suspicions \
                 after GST)",
                last.observer,
                last.target,
                last.from_us,
                last.to_us,
                if last.to_us == end {
                    " (the run's end)"
                } else {
                    ""
                },
                self.accurate_after_gst_within_us / 1000,
                self.false_suspicions_after_gst
            )),
        }
    }
}
