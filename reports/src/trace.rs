//! Reading `trace.ndjson` into what the reports draw: events, messages matched from send
//! to delivery (or drop), per-node role spans and fault windows.
//!
//! Lines are `sim_core::trace::TraceEvent`s. Every send carries a message id and every
//! arrival (a delivery, or a drop on arrival) names it, so a send is matched to its
//! arrivals exactly. Traces written before ids existed are matched by (source, target,
//! arrival time) instead: the simulator delivers at exactly send time + delay, and sends
//! with the same key are matched first in, first out.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;
use sim_core::trace::{Arrival, TraceDetail, TraceEffect, TraceEvent, TraceFate};

/// One line of the trace.
#[derive(Clone, Debug)]
pub struct Event {
    /// The trace's `i` (not unique: a fault and the crash it causes share one).
    pub index: u64,
    pub time_us: u64,
    pub node: Option<u32>,
    /// `init`, `append_entries`, `crash`, `fault`, `drop`, `end`, ...
    pub name: String,
    /// The sender, for a message delivery or a receiver-side drop.
    pub from: Option<u32>,
    /// Which message arrived, for a delivery or a receiver-side drop (traces with ids).
    pub arrival: Option<Arrival>,
    pub sends: Vec<Send>,
    /// The node's role after this event, when it changed.
    pub role: Option<String>,
    /// `fault` and `revert` lines: the fault.
    pub fault: Option<Value>,
    /// `drop` lines: the cause (e.g. `crashed`).
    pub cause: Option<String>,
    /// `end` lines: the property violated, if any.
    pub property: Option<String>,
    /// A client on the network: the client whose lane this event is on (`client_send`,
    /// `client_reply`), before lanes are numbered.
    client_lane: Option<u32>,
    /// The client a delivered request came from (a `client_request` step or a
    /// `client_drop`), before lanes are numbered.
    from_client: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Send {
    pub to: u32,
    /// The message's kind, e.g. `append_entries`.
    pub kind: String,
    /// `None` if dropped at send time.
    pub delay_us: Option<u64>,
    pub duplicate_delay_us: Option<u64>,
    pub dropped: Option<String>,
    /// The message's id (traces with ids).
    pub id: Option<u64>,
    /// A reply to a client on the network: `to` is the client until lanes are numbered.
    to_client: bool,
}

/// A message from its send to its delivery, its drop, or neither (still in flight at
/// the end of the trace).
#[derive(Clone, Debug)]
pub struct Message {
    pub kind: String,
    pub source: u32,
    pub target: u32,
    /// Position in `Trace::events` of the sending event.
    pub send_position: usize,
    /// Position of the delivering event, or of the receiver-side `drop` line.
    pub receive_position: Option<usize>,
    /// Why it was dropped, at send time or on arrival.
    pub dropped: Option<String>,
}

/// A node's role from `start_us` to `end_us`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleSpan {
    pub node: u32,
    pub start_us: u64,
    pub end_us: u64,
    pub role: String,
}

/// A fault from its `fault` line to its `revert` (or a `heal_all`, or the trace's end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultWindow {
    pub action: String,
    /// The node the fault names, if it names one.
    pub node: Option<u32>,
    pub start_us: u64,
    pub end_us: u64,
    pub label: String,
}

#[derive(Clone, Debug, Default)]
pub struct Trace {
    pub events: Vec<Event>,
    pub messages: Vec<Message>,
    pub nodes: u32,
    /// Clients on the network seen in the trace: lanes `nodes..nodes + clients`.
    pub clients: u32,
    pub end_time_us: u64,
}

fn u32_field(value: &Value, key: &str) -> Option<u32> {
    value
        .get(key)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

fn string_field(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

/// The outer key of an externally tagged enum, e.g. `{"append_entries": {...}}`.
fn tag(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.keys().next().cloned(),
        Value::String(text) => Some(text.clone()),
        _ => None,
    }
}

fn parse_send(effect: &TraceEffect) -> Option<Send> {
    match effect {
        TraceEffect::Send { to, msg, fate, id } => {
            Some(send_of(*to, tag(msg).unwrap_or_default(), fate, *id, false))
        }
        // Only a reply that crossed the network (it has an id) is a message.
        TraceEffect::Reply {
            client,
            fate,
            id: Some(id),
            ..
        } => Some(send_of(
            *client,
            "client_reply".into(),
            fate,
            Some(*id),
            true,
        )),
        _ => None,
    }
}

fn send_of(
    to: u32,
    kind: String,
    fate: &Option<TraceFate>,
    id: Option<u64>,
    to_client: bool,
) -> Send {
    let (delay_us, duplicate_delay_us, dropped) = match fate {
        Some(TraceFate::Delivered {
            delay_us,
            duplicate_delay_us,
        }) => (Some(*delay_us), *duplicate_delay_us, None),
        Some(TraceFate::Dropped { dropped }) => (None, None, Some(dropped.clone())),
        None => (None, None, None),
    };
    Send {
        to,
        kind,
        delay_us,
        duplicate_delay_us,
        dropped,
        id,
        to_client,
    }
}

fn parse_line(number: usize, line: &str) -> Result<Event, String> {
    let line = TraceEvent::parse(line)
        .map_err(|error| format!("trace line {number}: not a trace event: {error}"))?;
    let mut event = Event {
        index: line.i,
        time_us: line.time_us,
        node: line.node,
        name: line.event,
        from: None,
        arrival: None,
        sends: Vec::new(),
        role: None,
        fault: None,
        cause: None,
        property: None,
        client_lane: None,
        from_client: None,
    };
    match line.detail {
        TraceDetail::Step {
            input,
            effects,
            role,
            delivered,
            ..
        } => {
            event.from = u32_field(&input, "from");
            if delivered.is_some() && event.from.is_none() {
                event.from_client = u32_field(&input, "client");
            }
            event.arrival = delivered;
            event.sends = effects.iter().filter_map(parse_send).collect();
            event.role = role;
        }
        TraceDetail::Drop {
            from,
            cause,
            arrival,
            ..
        } => {
            event.from = Some(from);
            event.cause = Some(cause);
            event.arrival = arrival;
        }
        TraceDetail::Crash { cause } => event.cause = Some(cause),
        TraceDetail::Fault { fault } => event.fault = Some(fault),
        TraceDetail::End { property, .. } => event.property = property,
        TraceDetail::Client {
            client,
            to,
            fate,
            id,
            delivered,
            cause,
            ..
        } => {
            event.arrival = delivered;
            event.cause = cause;
            if event.node.is_some() {
                event.from_client = Some(client);
            } else {
                event.client_lane = Some(client);
            }
            if let (Some(to), Some(_)) = (to, &fate) {
                event
                    .sends
                    .push(send_of(to, "client_request".into(), &fate, id, false));
            }
        }
        TraceDetail::Marker {} => {}
    }
    Ok(event)
}

impl Trace {
    pub fn parse(text: &str) -> Result<Trace, String> {
        let mut events = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            events.push(parse_line(number + 1, line)?);
        }
        let nodes = events
            .iter()
            .flat_map(|e| {
                e.node
                    .into_iter()
                    .chain(e.from)
                    .chain(e.sends.iter().filter(|s| !s.to_client).map(|s| s.to))
            })
            .max()
            .map_or(0, |n| n + 1);
        // Clients on the network get lanes after the nodes.
        let clients = events
            .iter()
            .flat_map(|e| {
                e.client_lane
                    .into_iter()
                    .chain(e.from_client)
                    .chain(e.sends.iter().filter(|s| s.to_client).map(|s| s.to))
            })
            .max()
            .map_or(0, |c| c + 1);
        for event in &mut events {
            if let Some(client) = event.client_lane {
                event.node = Some(nodes + client);
            }
            if let Some(client) = event.from_client {
                event.from = Some(nodes + client);
            }
            for send in event.sends.iter_mut().filter(|s| s.to_client) {
                send.to += nodes;
            }
        }
        let end_time_us = events.iter().map(|e| e.time_us).max().unwrap_or(0);
        let messages = match_messages(&events);
        assert!(messages
            .iter()
            .all(|m| m.receive_position.is_none_or(|r| r > m.send_position)));
        Ok(Trace {
            events,
            messages,
            nodes,
            clients,
            end_time_us,
        })
    }

    /// Lanes of the space-time diagram: the nodes, then the clients on the network.
    pub fn lanes(&self) -> u32 {
        self.nodes + self.clients
    }

    /// A lane's label: `n3` for a node, `c0` for a client.
    pub fn lane_label(&self, lane: u32) -> String {
        match lane.checked_sub(self.nodes) {
            Some(client) => format!("c{client}"),
            None => format!("n{lane}"),
        }
    }

    /// Position of the event at which a failed run failed: the last node event at or
    /// before the `end` line's index (a liveness or budget failure ends the run there).
    pub fn failing_position(&self) -> Option<usize> {
        let end = self.events.iter().rev().find(|e| e.name == "end")?;
        self.events
            .iter()
            .rposition(|e| e.name != "end" && e.node.is_some() && e.index <= end.index)
    }

    /// Role spans per node: from `role` fields, `crash` events and `restart`s.
    pub fn role_spans(&self) -> Vec<RoleSpan> {
        let mut current: BTreeMap<u32, (u64, String)> = BTreeMap::new();
        let mut spans = Vec::new();
        for event in &self.events {
            let Some(node) = event.node else { continue };
            let new_role = if event.name == "crash" {
                Some("crashed".to_string())
            } else {
                event.role.clone()
            };
            let Some(role) = new_role else { continue };
            if let Some((start_us, old)) = current.get(&node) {
                if *old == role {
                    continue;
                }
                spans.push(RoleSpan {
                    node,
                    start_us: *start_us,
                    end_us: event.time_us,
                    role: old.clone(),
                });
            }
            current.insert(node, (event.time_us, role));
        }
        for (node, (start_us, role)) in current {
            spans.push(RoleSpan {
                node,
                start_us,
                end_us: self.end_time_us,
                role,
            });
        }
        spans
    }

    /// Fault windows: `fault` to the `revert` of the same fault, a `heal_all`, or the end.
    pub fn fault_windows(&self) -> Vec<FaultWindow> {
        let mut open: Vec<(Value, u64)> = Vec::new();
        let mut windows = Vec::new();
        let close = |fault: &Value, start_us: u64, end_us: u64, windows: &mut Vec<FaultWindow>| {
            let action = string_field(fault, "action").unwrap_or_else(|| "fault".to_string());
            let node = u32_field(fault, "node");
            let label = match node {
                Some(node) => format!("{action} n{node}"),
                None => action.clone(),
            };
            windows.push(FaultWindow {
                action,
                node,
                start_us,
                end_us,
                label,
            });
        };
        for event in &self.events {
            match (event.name.as_str(), &event.fault) {
                ("fault", Some(fault)) => open.push((fault.clone(), event.time_us)),
                ("revert", Some(fault)) => {
                    if let Some(position) = open.iter().position(|(f, _)| f == fault) {
                        let (fault, start_us) = open.remove(position);
                        close(&fault, start_us, event.time_us, &mut windows);
                    }
                }
                ("heal_all", _) => {
                    for (fault, start_us) in open.drain(..) {
                        close(&fault, start_us, event.time_us, &mut windows);
                    }
                }
                _ => {}
            }
        }
        for (fault, start_us) in open {
            close(&fault, start_us, self.end_time_us, &mut windows);
        }
        windows.sort_by_key(|w| (w.start_us, w.end_us));
        windows
    }
}

/// How an arrival names its send: by message id, or (old traces) by (source, target,
/// arrival time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ArrivalKey {
    Id {
        id: u64,
        duplicate: bool,
    },
    Time {
        source: u32,
        target: u32,
        time_us: u64,
    },
    /// Not an arrival.
    None,
}

/// Match each send to its delivery (or receiver-side drop): by message id where the trace
/// has ids, else by (source, target, arrival time).
fn match_messages(events: &[Event]) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    let mut in_flight: BTreeMap<ArrivalKey, VecDeque<usize>> = BTreeMap::new();
    for (position, event) in events.iter().enumerate() {
        if let Some(node) = event.node {
            let key = match (event.arrival, event.from) {
                (Some(Arrival { id, duplicate }), _) => ArrivalKey::Id { id, duplicate },
                (None, Some(from)) => ArrivalKey::Time {
                    source: from,
                    target: node,
                    time_us: event.time_us,
                },
                (None, None) => ArrivalKey::None,
            };
            let matched = (key != ArrivalKey::None)
                .then(|| in_flight.get_mut(&key).and_then(VecDeque::pop_front))
                .flatten();
            if let Some(id) = matched {
                messages[id].receive_position = Some(position);
                if event.name == "drop" || event.name == "client_drop" {
                    messages[id].dropped = event.cause.clone().or(Some("dropped".into()));
                }
            }
        }
        let Some(source) = event.node else { continue };
        for send in &event.sends {
            let arrivals = send
                .delay_us
                .map(|delay| (delay, false))
                .into_iter()
                .chain(send.duplicate_delay_us.map(|delay| (delay, true)));
            let mut any = false;
            for (delay_us, duplicate) in arrivals {
                any = true;
                let position_in_messages = messages.len();
                messages.push(Message {
                    kind: send.kind.clone(),
                    source,
                    target: send.to,
                    send_position: position,
                    receive_position: None,
                    dropped: None,
                });
                let key = match send.id {
                    Some(id) => ArrivalKey::Id { id, duplicate },
                    None => ArrivalKey::Time {
                        source,
                        target: send.to,
                        time_us: event.time_us + delay_us,
                    },
                };
                in_flight
                    .entry(key)
                    .or_default()
                    .push_back(position_in_messages);
            }
            if !any {
                messages.push(Message {
                    kind: send.kind.clone(),
                    source,
                    target: send.to,
                    send_position: position,
                    receive_position: None,
                    dropped: Some(send.dropped.clone().unwrap_or_else(|| "dropped".into())),
                });
            }
        }
    }
    messages
}

#[cfg(test)]
pub(crate) mod tests_support {
    /// Three nodes: a delivered ping, a ping lost at send, a crash fault and its revert.
    pub const SMALL: &str = r#"{"i":1,"time_us":0,"node":0,"event":"init","input":null,"effects":[{"send":{"to":1,"msg":{"ping":{"Ping":1}},"fate":{"delay_us":100,"duplicate_delay_us":null}}},{"send":{"to":2,"msg":{"ping":{"Ping":1}},"fate":{"dropped":"loss"}}}],"observations":[],"role":"leader"}
{"i":2,"time_us":0,"node":1,"event":"init","input":null,"effects":[],"observations":[],"role":"follower"}
{"i":3,"time_us":50,"node":null,"event":"fault","fault":{"action":"crash","node":2}}
{"i":3,"time_us":50,"node":2,"event":"crash","cause":"fault"}
{"i":4,"time_us":100,"node":1,"event":"ping","input":{"from":0,"msg":{"Ping":1}},"effects":[],"observations":[],"role":null}
{"i":5,"time_us":300,"node":null,"event":"revert","fault":{"action":"crash","node":2}}
{"i":5,"time_us":400,"node":null,"event":"end","verdict":"violation","property":"p"}
"#;
}

#[cfg(test)]
mod tests {
    use super::tests_support::SMALL;
    use super::*;

    #[test]
    fn messages_match_sends_to_deliveries_and_drops() {
        let trace = Trace::parse(SMALL).unwrap();
        assert_eq!(trace.nodes, 3);
        assert_eq!(trace.messages.len(), 2);
        assert_eq!(trace.messages[0].receive_position, Some(4));
        assert_eq!(trace.messages[1].dropped.as_deref(), Some("loss"));
        assert_eq!(trace.failing_position(), Some(4));
    }

    /// Two messages from n0 to n1 that arrive at the same instant, the later-sent first:
    /// matching by arrival time pairs them crosswise; the ids pair them right.
    #[test]
    fn message_ids_pair_sends_with_their_own_arrivals() {
        let trace_with = |ids: bool| {
            let id = |n: u64| {
                if ids {
                    format!(r#","id":{n}"#)
                } else {
                    String::new()
                }
            };
            let delivered = |n: u64| {
                if ids {
                    format!(r#","delivered":{{"id":{n}}}"#)
                } else {
                    String::new()
                }
            };
            format!(
                r#"{{"i":1,"time_us":0,"node":0,"event":"init","input":null,"effects":[{{"send":{{"to":1,"msg":{{"a":{{}}}},"fate":{{"delay_us":200,"duplicate_delay_us":null}}{}}}}}],"observations":[],"role":null}}
{{"i":2,"time_us":100,"node":0,"event":"tick","input":{{"timer":"tick"}},"effects":[{{"send":{{"to":1,"msg":{{"b":{{}}}},"fate":{{"delay_us":100,"duplicate_delay_us":null}}{}}}}}],"observations":[],"role":null}}
{{"i":3,"time_us":200,"node":1,"event":"b","input":{{"from":0,"msg":{{}}}},"effects":[],"observations":[],"role":null{}}}
{{"i":4,"time_us":200,"node":1,"event":"a","input":{{"from":0,"msg":{{}}}},"effects":[],"observations":[],"role":null{}}}
"#,
                id(0),
                id(1),
                delivered(1),
                delivered(0)
            )
        };
        let exact = Trace::parse(&trace_with(true)).unwrap();
        let a = exact.messages.iter().find(|m| m.kind == "a").unwrap();
        let b = exact.messages.iter().find(|m| m.kind == "b").unwrap();
        assert_eq!((a.receive_position, b.receive_position), (Some(3), Some(2)));
        // Without ids (an old trace) the same arrivals pair first in, first out.
        let guessed = Trace::parse(&trace_with(false)).unwrap();
        let a = guessed.messages.iter().find(|m| m.kind == "a").unwrap();
        assert_eq!(a.receive_position, Some(2), "the heuristic's known limit");
    }

    #[test]
    fn roles_and_fault_windows() {
        let trace = Trace::parse(SMALL).unwrap();
        let spans = trace.role_spans();
        assert!(spans.contains(&RoleSpan {
            node: 0,
            start_us: 0,
            end_us: 400,
            role: "leader".into()
        }));
        assert!(spans.iter().any(|s| s.node == 2 && s.role == "crashed"));
        let windows = trace.fault_windows();
        assert_eq!(windows.len(), 1);
        assert_eq!((windows[0].start_us, windows[0].end_us), (50, 300));
        assert_eq!(windows[0].label, "crash n2");
    }
}
