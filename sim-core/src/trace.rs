//! One line of `trace.ndjson`, typed: the simulator writes `TraceEvent`s, and reports,
//! replay and the data-driven tests read them back (trace validation reads the same
//! fields). Protocol-specific payloads (messages, inputs, observations, replies, node
//! states) are JSON values, so a reader needs no protocol types.
//!
//! Every message sent carries an `id`, unique in its run; its delivery (or its drop on
//! arrival) names the same id, and a network duplicate arrives as a second delivery of
//! it with `duplicate: true`. So a reader pairs a send with its arrivals exactly.
//! (Traces written before ids existed have none; readers fall back to matching by
//! source, target and arrival time.)

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One line of `trace.ndjson`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// The run's event counter when this happened (a fault and the crash it causes share
    /// one; `result.json`'s `event_index` names the failing one).
    pub i: u64,
    pub time_us: u64,
    /// The node it happens at; `None` for cluster-wide events (faults, the heal, the end).
    pub node: Option<u32>,
    /// A step's input kind (`init`, `restart`, a message or timer kind,
    /// `client_request`), or `drop`, `crash`, `fault`, `fault_skipped`, `revert`,
    /// `liveness_window`, `heal_all`, `end`, `trace_truncated`.
    pub event: String,
    /// At a twin (`strategy = "twins"`): which of its two copies (0 or 1) acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub twin: Option<u8>,
    #[serde(flatten)]
    pub detail: TraceDetail,
}

/// What an event holds besides its time, node and name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraceDetail {
    /// A node's step.
    Step {
        /// The input: `null` for init and restart; `{from, msg}` for a message,
        /// `{timer}`, or `{client, request, op}`.
        input: Value,
        /// The step's effects, in order.
        effects: Vec<TraceEffect>,
        /// The observations it emitted, each `{kind: value}`.
        observations: Vec<Value>,
        /// The node's role after the step, when it changed (or the node started).
        role: Option<String>,
        /// The node's state for trace validation (`Registration::trace_state`).
        #[serde(default)]
        state: Option<Value>,
        /// For a message delivery: which message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivered: Option<Arrival>,
    },
    /// A message lost on arrival (the receiver was down, or a receive omission).
    Drop {
        from: u32,
        /// The message's kind.
        msg: String,
        cause: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        arrival: Option<Arrival>,
    },
    /// A node crashed (`cause`: `fault`, `crash_after_persist` or `crash_mid_step`).
    Crash { cause: String },
    /// A fault fired, was skipped (no node matched), or was reverted.
    Fault { fault: Value },
    /// The run ended.
    End {
        verdict: String,
        property: Option<String>,
    },
    /// `trace_truncated`, the last line of a trace cut at `budget.max_trace_mb`:
    /// `omitted_lines` lines after the cut were counted, not kept.
    Truncated {
        omitted_lines: u64,
        max_trace_mb: u64,
    },
    /// A message of a client on the network (`[clients]`): its request sent
    /// (`client_send`: `to`, `fate`, `id`), lost on arrival at a crashed node
    /// (`client_drop`: `to`, `cause`, `delivered`), or its reply arriving (`client_reply`:
    /// `delivered`). The request's arrival is the node's `client_request` step, whose
    /// `delivered` names the request's id.
    Client {
        client: u32,
        request: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fate: Option<TraceFate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delivered: Option<Arrival>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<String>,
    },
    /// `liveness_window`, `heal_all`: nothing more to say.
    Marker {},
}

/// Which message arrived: its id, and whether this is the network's duplicate of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrival {
    pub id: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub duplicate: bool,
}

/// One effect of a step, as traced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceEffect {
    Send {
        to: u32,
        /// `{kind: message}`.
        msg: Value,
        /// What the network decided (absent for a send lost in a crash).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fate: Option<TraceFate>,
        /// The message's id in this run (absent for a send lost in a crash).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    SetTimer {
        timer: String,
        /// The delay drawn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delay_us: Option<u64>,
        /// The range asked for (for a timer lost in a crash, which drew nothing).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_us: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_us: Option<u64>,
    },
    CancelTimer {
        timer: String,
    },
    Persist(bool),
    Reply {
        client: u32,
        request: u64,
        reply: Value,
        /// For a client on the network: what the network decided, and the reply's id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fate: Option<TraceFate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
    },
    Observe(Value),
    /// An effect after a crash at a `Persist`: it never happened.
    LostInCrash(Box<TraceEffect>),
}

/// The network's decision about a send.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TraceFate {
    Delivered {
        delay_us: u64,
        duplicate_delay_us: Option<u64>,
    },
    Dropped {
        dropped: String,
    },
}

impl TraceEvent {
    /// One line of JSON, as `trace.ndjson` holds it.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("trace events serialise")
    }

    /// Read one line of `trace.ndjson`.
    pub fn parse(line: &str) -> Result<TraceEvent, String> {
        serde_json::from_str(line).map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as the simulator wrote them before events were typed (no message ids) read
    /// and write back byte for byte, so old run directories stay readable.
    #[test]
    fn lines_round_trip_byte_for_byte() {
        let lines = [
            r#"{"i":1,"time_us":0,"node":0,"event":"init","input":null,"effects":[{"send":{"to":1,"msg":{"ping":{"Ping":1}},"fate":{"delay_us":100,"duplicate_delay_us":null}}},{"send":{"to":2,"msg":{"ping":{"Ping":1}},"fate":{"dropped":"loss"}}},{"set_timer":{"timer":"election_timeout","delay_us":150000}},{"persist":true},{"lost_in_crash":{"send":{"to":2,"msg":{"ping":{}}}}}],"observations":[{"became_leader":{"term":1}}],"role":"leader","state":null}"#,
            r#"{"i":2,"time_us":100,"node":1,"event":"ping","input":{"from":0,"msg":{"Ping":1}},"effects":[],"observations":[],"role":null,"state":null,"delivered":{"id":4,"duplicate":true}}"#,
            r#"{"i":3,"time_us":5,"node":1,"event":"drop","from":0,"msg":"ping","cause":"crashed","arrival":{"id":7}}"#,
            r#"{"i":4,"time_us":5,"node":1,"event":"crash","cause":"fault"}"#,
            r#"{"i":4,"time_us":5,"node":null,"event":"fault","fault":{"action":"crash","node":1}}"#,
            r#"{"i":9,"time_us":9,"node":null,"event":"heal_all"}"#,
            r#"{"i":9,"time_us":9,"node":null,"event":"end","verdict":"pass","property":null}"#,
        ];
        for line in lines {
            let event = TraceEvent::parse(line).unwrap_or_else(|error| panic!("{line}: {error}"));
            assert_eq!(event.to_line(), line);
        }
        let step = TraceEvent::parse(lines[1]).unwrap();
        assert!(matches!(
            step.detail,
            TraceDetail::Step {
                delivered: Some(Arrival {
                    id: 4,
                    duplicate: true
                }),
                ..
            }
        ));
    }
}
