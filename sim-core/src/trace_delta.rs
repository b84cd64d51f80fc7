//! Log deltas in `trace.ndjson`: how a traced node state's growing sequences (Raft's
//! log, registered with `Registration::trace_sequence`) are written, and read back.
//!
//! Why: a step's `state` field is the node's state for trace validation, and writing a
//! whole log on every step made a trace's bytes per event grow with the run (issue 14:
//! 1,789 → 6,571 bytes per event from 5,820 to 24,178 events, and one failing seed's
//! re-run past 24 GB). So a sequence field `log` is written in one of two forms:
//! - full: `"log": [...]`, the whole sequence;
//! - delta: `"log_from": k, "log_append": [...]`: keep the first `k` entries of this
//!   node's previous logged `log`, then append these.
//!
//! A node's state is written full at its first traced step, at every `init` and
//! `restart` step (so a reader never needs what came before a crash), and as a
//! checkpoint whenever the delta lines written for the node since its last full one add
//! up to at least the bytes of its full sequences: a reader can start at any node's
//! checkpoint, and checkpoints at most double a trace, whose bytes stay linear in its
//! events. Other fields of the state are always whole (they are small).

use std::any::Any;

use serde_json::{Map, Value};

use crate::persistent::PersistentVec;

/// The suffix of the key holding a delta's kept-prefix length.
const FROM: &str = "_from";
/// The suffix of the key holding a delta's appended entries.
const APPEND: &str = "_append";

/// A sequence field of a traced state (`Registration::trace_sequence`), as the writer
/// sees it: its length, its entries as JSON, and how much of it an earlier copy of it
/// holds. Comparing with the copy must cost what changed, not the sequence's length (a
/// `PersistentVec` shares what neither side changed): comparing whole logs, or writing
/// them to JSON, on every step made a traced run's cost grow with its square.
pub trait TracedSequence {
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry at `position`, as the trace writes it.
    fn entry(&self, position: usize) -> Value;

    /// How many leading entries `self` shares with `earlier`, a sequence the same
    /// registration returned for the same node at an earlier step.
    fn common_prefix_len(&self, earlier: &dyn TracedSequence) -> usize;

    fn as_any(&self) -> &dyn Any;
}

/// A node's sequence fields after a step: each field's name and its sequence.
pub type NamedSequences = Vec<(&'static str, Box<dyn TracedSequence>)>;

/// A `PersistentVec` traced through `to_json`, entry by entry: its clone and its
/// comparison with an earlier clone cost O(what changed).
pub struct PersistentSequence<T: 'static> {
    pub items: PersistentVec<T>,
    pub to_json: fn(&T) -> Value,
}

impl<T: Clone + PartialEq + 'static> TracedSequence for PersistentSequence<T> {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn entry(&self, position: usize) -> Value {
        self.items.get(position).map_or(Value::Null, self.to_json)
    }

    fn common_prefix_len(&self, earlier: &dyn TracedSequence) -> usize {
        earlier
            .as_any()
            .downcast_ref::<PersistentSequence<T>>()
            .map_or(0, |earlier| self.items.common_prefix_len(&earlier.items))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The writer's side: what each node's last logged sequences were.
#[derive(Default)]
pub struct StateEncoder {
    nodes: Vec<Option<NodeSequences>>,
}

/// One node's last logged sequences, and how many bytes of delta lines it has written
/// since its last full state.
struct NodeSequences {
    /// Per sequence field: the sequence as last written, and the serialised bytes of
    /// each prefix (`prefix_bytes[i]` = the bytes of entries `0..i`), so a full state's
    /// size is known without serialising it again.
    sequences: Vec<(Box<dyn TracedSequence>, Vec<u64>)>,
    delta_bytes: u64,
    /// The last state encoded was a delta.
    last_was_delta: bool,
}

impl NodeSequences {
    fn full_bytes(&self) -> u64 {
        self.sequences
            .iter()
            .map(|(_, prefix)| prefix.last().copied().unwrap_or(0))
            .sum()
    }
}

impl StateEncoder {
    /// Add `sequences`, node `node`'s sequence fields after a step, to `state` (its other
    /// fields) in the form the trace holds: whole when `restarted` (an init or restart
    /// step), at the node's first state, or at a checkpoint; otherwise as deltas against
    /// the node's previous ones.
    pub fn encode(
        &mut self,
        node: u32,
        state: &mut Value,
        sequences: NamedSequences,
        restarted: bool,
    ) {
        let Some(object) = state.as_object_mut() else {
            return;
        };
        let slot = node as usize;
        if self.nodes.len() <= slot {
            self.nodes.resize_with(slot + 1, || None);
        }
        let previous = self.nodes[slot]
            .take()
            .filter(|previous| !restarted && previous.delta_bytes < previous.full_bytes())
            .filter(|previous| previous.sequences.len() == sequences.len());
        let full = previous.is_none();
        let mut next = NodeSequences {
            sequences: Vec::with_capacity(sequences.len()),
            delta_bytes: previous.as_ref().map_or(0, |previous| previous.delta_bytes),
            last_was_delta: !full,
        };
        let mut earlier = previous.map(|previous| previous.sequences.into_iter());
        for (name, current) in sequences {
            let (from, mut prefix) = match earlier.as_mut().and_then(Iterator::next) {
                Some((old, mut prefix)) => {
                    let from = current.common_prefix_len(old.as_ref());
                    prefix.truncate(from + 1);
                    (from, prefix)
                }
                None => (0, vec![0]),
            };
            let appended: Vec<Value> = (from..current.len())
                .map(|position| current.entry(position))
                .collect();
            for entry in &appended {
                let bytes = serde_json::to_string(entry).map_or(0, |text| text.len() as u64 + 1);
                prefix.push(prefix.last().copied().unwrap_or(0) + bytes);
            }
            if full {
                object.insert(name.to_string(), Value::Array(appended));
            } else {
                object.insert(format!("{name}{FROM}"), Value::from(from as u64));
                object.insert(format!("{name}{APPEND}"), Value::Array(appended));
            }
            next.sequences.push((current, prefix));
        }
        if full {
            next.delta_bytes = 0;
        }
        self.nodes[slot] = Some(next);
    }

    /// Node `node`'s line, just encoded, took `bytes` in the trace: a delta line counts
    /// toward its next checkpoint.
    pub fn wrote(&mut self, node: u32, bytes: u64) {
        if let Some(Some(sequences)) = self.nodes.get_mut(node as usize) {
            if sequences.last_was_delta {
                sequences.delta_bytes += bytes;
            }
        }
    }
}

/// The reader's side: every node's last full sequences, to expand deltas against.
#[derive(Default)]
pub struct StateDecoder {
    nodes: Vec<Map<String, Value>>,
}

impl StateDecoder {
    /// Expand `state`, a step's `state` field at node `node`, in place into the node's
    /// whole state. An error says which field is inconsistent (a delta with no earlier
    /// full state for the node, e.g. a trace read from its middle, or a prefix longer
    /// than the sequence it keeps).
    pub fn expand(&mut self, node: u32, state: &mut Value) -> Result<(), String> {
        let Some(object) = state.as_object_mut() else {
            return Ok(());
        };
        let slot = node as usize;
        if self.nodes.len() <= slot {
            self.nodes.resize_with(slot + 1, Map::new);
        }
        let known = &mut self.nodes[slot];
        let deltas: Vec<String> = object
            .keys()
            .filter_map(|key| key.strip_suffix(FROM))
            .filter(|name| object.contains_key(&format!("{name}{APPEND}")))
            .map(str::to_string)
            .collect();
        for name in deltas {
            let from = object.remove(&format!("{name}{FROM}"));
            let append = object.remove(&format!("{name}{APPEND}"));
            let (Some(from), Some(Value::Array(append))) = (from.and_then(|f| f.as_u64()), append)
            else {
                return Err(format!(
                    "`state.{name}{FROM}` is not a count or `state.{name}{APPEND}` not an array"
                ));
            };
            let Some(Value::Array(previous)) = known.get(&name) else {
                return Err(format!(
                    "`state.{name}{FROM}`: node {node} has no earlier full `state.{name}` in \
                     this trace (read the trace from its start, or from the node's last full \
                     state)"
                ));
            };
            if from > previous.len() as u64 {
                return Err(format!(
                    "`state.{name}{FROM}` keeps {from} entries of node {node}'s `{name}`, \
                     which has {}",
                    previous.len()
                ));
            }
            let mut whole = previous[..from as usize].to_vec();
            whole.extend(append);
            object.insert(name, Value::Array(whole));
        }
        for (name, value) in object.iter() {
            if value.is_array() {
                known.insert(name.clone(), value.clone());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(log: &[u64]) -> Value {
        json!({"term": 1, "log": log, "votes": [0]})
    }

    /// `log` as a traced sequence, and `state(log)` without it.
    fn parts(log: &PersistentVec<u64>) -> (Value, NamedSequences) {
        let sequence = PersistentSequence {
            items: log.clone(),
            to_json: |entry: &u64| json!(entry),
        };
        (
            json!({"term": 1, "votes": [0]}),
            vec![("log", Box::new(sequence) as Box<dyn TracedSequence>)],
        )
    }

    /// Writes `logs` for node 0 (the first as an init step), returning each line's
    /// state as written. Each log is edited from the one before, as a protocol's is.
    fn write(logs: &[Vec<u64>]) -> Vec<Value> {
        let mut encoder = StateEncoder::default();
        let mut log = PersistentVec::new();
        logs.iter()
            .enumerate()
            .map(|(step, entries)| {
                let keep = log
                    .iter()
                    .zip(entries)
                    .take_while(|(old, new)| old == new)
                    .count();
                log.truncate(keep);
                for &entry in &entries[keep..] {
                    log.push(entry);
                }
                let (mut written, sequences) = parts(&log);
                encoder.encode(0, &mut written, sequences, step == 0);
                let bytes = written.to_string().len() as u64;
                encoder.wrote(0, bytes);
                written
            })
            .collect()
    }

    #[test]
    fn deltas_read_back_as_the_whole_states() {
        let logs: Vec<Vec<u64>> = (0..40u64)
            .map(|n| {
                // Grows, and every tenth step truncates a suffix and rewrites its last
                // entry (which the next step rewrites back).
                let rewrite = n % 10 == 9;
                let len = if rewrite { n - 3 } else { n };
                let entry = |i: u64| i * 100 + if rewrite && i + 1 == len { n } else { 0 };
                (0..len).map(entry).collect()
            })
            .collect();
        let states: Vec<Value> = logs.iter().map(|log| state(log)).collect();
        let written = write(&logs);
        assert_eq!(written[0], states[0], "the first state is whole");
        assert_eq!(written[2]["log_from"], json!(1));
        assert!(written[2].get("log").is_none());
        let mut decoder = StateDecoder::default();
        for (original, mut line) in states.iter().zip(written) {
            decoder.expand(0, &mut line).unwrap();
            assert_eq!(&line, original);
        }
    }

    #[test]
    fn restarts_and_checkpoints_write_whole_states_and_bytes_stay_linear() {
        let logs: Vec<Vec<u64>> = (0..2000u64).map(|n| (0..n).collect()).collect();
        let states: Vec<Value> = logs.iter().map(|log| state(log)).collect();
        let written = write(&logs);
        let full = written
            .iter()
            .filter(|line| line.get("log").is_some())
            .count();
        assert!(full > 5, "checkpoints are written: {full}");
        let bytes: usize = written.iter().map(|line| line.to_string().len()).sum();
        let whole: usize = states.iter().map(|line| line.to_string().len()).sum();
        // The whole states take quadratic bytes; the written ones at most twice the
        // deltas' (~55 bytes a line: fixed fields plus one entry), as checkpoints take
        // at most as many bytes as the delta lines before them.
        assert!(bytes * 20 < whole, "{bytes} vs {whole}");
        assert!(bytes < 2000 * 2 * 60, "{bytes}");

        let mut encoder = StateEncoder::default();
        let (mut first, sequences) = parts(&PersistentVec::from(vec![1, 2]));
        encoder.encode(0, &mut first, sequences, true);
        let (mut second, sequences) = parts(&PersistentVec::from(vec![1, 2, 3]));
        encoder.encode(0, &mut second, sequences, true);
        assert_eq!(
            second,
            state(&[1, 2, 3]),
            "a restart writes the whole state"
        );
    }

    #[test]
    fn a_delta_without_its_full_state_is_refused() {
        let mut decoder = StateDecoder::default();
        let mut line = json!({"term": 1, "log_from": 0, "log_append": [[1, 2]]});
        let error = decoder.expand(3, &mut line).unwrap_err();
        assert!(
            error.contains("node 3 has no earlier full `state.log`"),
            "{error}"
        );
        let mut full = state(&[5]);
        decoder.expand(3, &mut full).unwrap();
        let mut long = json!({"log_from": 4, "log_append": []});
        let error = decoder.expand(3, &mut long).unwrap_err();
        assert!(error.contains("keeps 4 entries"), "{error}");
    }
}
