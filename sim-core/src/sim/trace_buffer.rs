//! The trace of a traced run, held in memory up to `budget.max_trace_mb`.
//!
//! Why a bound: a failing seed is re-run traced, and a step's line may carry the node's
//! whole state (Raft's log, for trace validation), so an unbounded trace of a long or
//! message-heavy run grows past any memory (issue 14: one re-run passed 24 GB). Past the
//! bound, lines are counted and dropped, and the trace ends with a `trace_truncated`
//! line; what the run does (verdict, trace hash) never depends on tracing. And why a
//! step's state carries its log as a delta (`trace_delta`): so that the bound is rarely
//! reached, and a trace's bytes are linear in its events.

use crate::trace::{TraceDetail, TraceEvent};
use crate::trace_delta::StateEncoder;

pub(super) struct TraceBuffer {
    lines: Vec<String>,
    bytes: u64,
    max_bytes: u64,
    max_trace_mb: u64,
    omitted: u64,
    /// The last event's counter and time, for the closing `trace_truncated` line.
    last: (u64, u64),
    states: StateEncoder,
}

impl TraceBuffer {
    /// A buffer of at most `max_trace_mb`.
    pub(super) fn new(max_trace_mb: u64) -> TraceBuffer {
        TraceBuffer {
            lines: Vec::new(),
            bytes: 0,
            max_bytes: max_trace_mb.saturating_mul(1 << 20),
            max_trace_mb,
            omitted: 0,
            last: (0, 0),
            states: StateEncoder::default(),
        }
    }

    /// Keep `event`'s line if it fits the budget (once one line is left out, every later
    /// one is too, so the kept trace is a prefix of the run).
    pub(super) fn push(&mut self, event: TraceEvent) {
        self.last = (event.i, event.time_us);
        if self.omitted > 0 {
            self.omitted += 1;
            return;
        }
        let mut line = event.to_line();
        // Kept at its exact size: serialising grows a string by doubling, and the slack
        // of every kept line added up to a fifth of a long traced run's memory.
        line.shrink_to_fit();
        let bytes = line.len() as u64 + 1;
        if let (TraceDetail::Step { state: Some(_), .. }, Some(node)) = (&event.detail, event.node)
        {
            self.states.wrote(node, bytes);
        }
        if self.bytes + bytes > self.max_bytes {
            self.omitted = 1;
            return;
        }
        self.bytes += bytes;
        self.lines.push(line);
    }

    /// `state`, node `node`'s traced state after a step (its fields but the sequences),
    /// with the sequences added, whole or as deltas (`StateEncoder::encode`).
    pub(super) fn encode_state(
        &mut self,
        node: u32,
        state: &mut serde_json::Value,
        sequences: crate::trace_delta::NamedSequences,
        restarted: bool,
    ) {
        self.states.encode(node, state, sequences, restarted);
    }

    /// Bytes of the lines kept so far.
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The trace's lines, ending with `trace_truncated` when it was cut.
    pub(super) fn finish(mut self) -> Vec<String> {
        if self.omitted > 0 {
            let (i, time_us) = self.last;
            let closing = TraceEvent {
                i,
                time_us,
                node: None,
                event: "trace_truncated".to_string(),
                twin: None,
                detail: TraceDetail::Truncated {
                    omitted_lines: self.omitted,
                    max_trace_mb: self.max_trace_mb,
                },
            };
            self.lines.push(closing.to_line());
        }
        self.lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(i: u64) -> TraceEvent {
        TraceEvent {
            i,
            time_us: i * 10,
            node: None,
            event: "heal_all".to_string(),
            twin: None,
            detail: TraceDetail::Marker {},
        }
    }

    #[test]
    fn a_trace_past_its_budget_is_a_prefix_that_says_how_much_is_missing() {
        let line_bytes = marker(0).to_line().len() as u64 + 1;
        let mut buffer = TraceBuffer::new(1);
        let fitting = (1 << 20) / line_bytes;
        for i in 0..fitting + 500 {
            buffer.push(marker(i));
        }
        let lines = buffer.finish();
        let last: TraceEvent = serde_json::from_str(lines.last().unwrap()).unwrap();
        assert_eq!(last.event, "trace_truncated");
        let TraceDetail::Truncated {
            omitted_lines,
            max_trace_mb: 1,
        } = last.detail
        else {
            panic!("{last:?}");
        };
        assert!(omitted_lines >= 500);
        assert_eq!(lines.len() as u64 - 1 + omitted_lines, fitting + 500);
        let kept: usize = lines[..lines.len() - 1].iter().map(|l| l.len() + 1).sum();
        assert!(kept as u64 <= 1 << 20);

        let mut small = TraceBuffer::new(1);
        small.push(marker(0));
        assert_eq!(small.finish().len(), 1, "a trace within budget is whole");
    }
}
