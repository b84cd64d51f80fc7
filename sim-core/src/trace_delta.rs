//! Log deltas in `trace.ndjson`: how a traced node state's growing sequences (Raft's
//! log, named by `Registration::trace_sequences`) are written, and read back.
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

use serde_json::{Map, Value};

/// The suffix of the key holding a delta's kept-prefix length.
const FROM: &str = "_from";
/// The suffix of the key holding a delta's appended entries.
const APPEND: &str = "_append";

/// The writer's side: what each node's last logged sequences were.
pub struct StateEncoder {
    sequences: &'static [&'static str],
    nodes: Vec<Option<NodeSequences>>,
}

/// One node's last logged sequences, and how many bytes of delta lines it has written
/// since its last full state.
struct NodeSequences {
    /// Per sequence field: its entries, and the serialised bytes of each prefix
    /// (`prefix_bytes[i]` = the bytes of entries `0..i`), so a full state's size is
    /// known without serialising it again.
    entries: Vec<(Vec<Value>, Vec<u64>)>,
    delta_bytes: u64,
}

impl NodeSequences {
    fn full_bytes(&self) -> u64 {
        self.entries
            .iter()
            .map(|(_, prefix)| prefix.last().copied().unwrap_or(0))
            .sum()
    }
}

impl StateEncoder {
    /// An encoder for the fields `sequences` (none: states are written as they are).
    pub fn new(sequences: &'static [&'static str]) -> StateEncoder {
        StateEncoder {
            sequences,
            nodes: Vec::new(),
        }
    }

    /// Rewrite `state`, node `node`'s state after a step, into the form the trace
    /// holds: full when `restarted` (an init or restart step), at the node's first
    /// state, or at a checkpoint; otherwise each sequence as a delta.
    pub fn encode(&mut self, node: u32, state: &mut Value, restarted: bool) {
        if self.sequences.is_empty() {
            return;
        }
        let Some(object) = state.as_object_mut() else {
            return;
        };
        let slot = node as usize;
        if self.nodes.len() <= slot {
            self.nodes.resize_with(slot + 1, || None);
        }
        let previous = self.nodes[slot]
            .take()
            .filter(|previous| !restarted && previous.delta_bytes < previous.full_bytes());
        let mut next = NodeSequences {
            entries: Vec::with_capacity(self.sequences.len()),
            delta_bytes: previous.as_ref().map_or(0, |previous| previous.delta_bytes),
        };
        let mut previous_entries = previous.map(|previous| previous.entries.into_iter());
        for &name in self.sequences {
            let old = previous_entries.as_mut().and_then(Iterator::next);
            let Some(Value::Array(current)) = object.remove(name) else {
                // Not a sequence in this state: nothing to keep for it.
                next.entries.push((Vec::new(), vec![0]));
                continue;
            };
            let (mut kept, mut prefix) = old.unwrap_or_else(|| (Vec::new(), vec![0]));
            let full = previous_entries.is_none();
            let from = if full {
                0
            } else {
                kept.iter()
                    .zip(&current)
                    .take_while(|(old, new)| old == new)
                    .count()
            };
            kept.truncate(from);
            prefix.truncate(from + 1);
            let appended = &current[from..];
            for entry in appended {
                let bytes = serde_json::to_string(entry).map_or(0, |text| text.len() as u64 + 1);
                prefix.push(prefix.last().copied().unwrap_or(0) + bytes);
                kept.push(entry.clone());
            }
            if full {
                object.insert(name.to_string(), Value::Array(current));
            } else {
                object.insert(format!("{name}{FROM}"), Value::from(from as u64));
                object.insert(format!("{name}{APPEND}"), Value::Array(appended.to_vec()));
            }
            next.entries.push((kept, prefix));
        }
        if previous_entries.is_none() {
            next.delta_bytes = 0;
        }
        self.nodes[slot] = Some(next);
    }

    /// Node `node`'s line, just encoded, took `bytes` in the trace: a delta line counts
    /// toward its next checkpoint.
    pub fn wrote(&mut self, node: u32, state: &Value, bytes: u64) {
        let is_delta = self
            .sequences
            .iter()
            .any(|name| state.get(format!("{name}{FROM}")).is_some());
        if let Some(Some(sequences)) = self.nodes.get_mut(node as usize) {
            if is_delta {
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

    /// Writes `states` for node 0 (the first as an init step), returning each line's
    /// state as written.
    fn write(states: &[Value]) -> Vec<Value> {
        let mut encoder = StateEncoder::new(&["log"]);
        states
            .iter()
            .enumerate()
            .map(|(step, state)| {
                let mut written = state.clone();
                encoder.encode(0, &mut written, step == 0);
                let bytes = written.to_string().len() as u64;
                encoder.wrote(0, &written, bytes);
                written
            })
            .collect()
    }

    #[test]
    fn deltas_read_back_as_the_whole_states() {
        let states: Vec<Value> = (0..40u64)
            .map(|n| {
                // Grows, and every tenth step truncates a suffix and rewrites its last
                // entry (which the next step rewrites back).
                let rewrite = n % 10 == 9;
                let len = if rewrite { n - 3 } else { n };
                let entry = |i: u64| i * 100 + if rewrite && i + 1 == len { n } else { 0 };
                state(&(0..len).map(entry).collect::<Vec<_>>())
            })
            .collect();
        let written = write(&states);
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
        let states: Vec<Value> = (0..2000u64)
            .map(|n| state(&(0..n).collect::<Vec<_>>()))
            .collect();
        let written = write(&states);
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

        let mut encoder = StateEncoder::new(&["log"]);
        let mut first = state(&[1, 2]);
        encoder.encode(0, &mut first, true);
        let mut second = state(&[1, 2, 3]);
        encoder.encode(0, &mut second, true);
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
