//! ShiViz export: a trace as a log of events with vector clocks.
//!
//! ShiViz (Beschastnikh et al., "Debugging distributed systems", CACM 2016) reads a log
//! whose first line is the regular expression that parses it, then an empty line, then
//! the events. We use the GoVector layout: for each event, a line `host {"host":n,...}`
//! with the vector clock, then a line with the event's description. The clock ticks the
//! host's own entry at every event and, at a delivery, first takes the component-wise
//! maximum with the sender's clock at the send, so ShiViz draws the message.

use std::collections::BTreeMap;

use crate::trace::Trace;

/// The parser regex ShiViz needs on the file's first line.
pub const SHIVIZ_REGEX: &str = r"(?<host>\S*) (?<clock>{.*})\n(?<event>.*)";

type Clock = BTreeMap<u32, u64>;

fn clock_json(clock: &Clock) -> String {
    let entries: Vec<String> = clock
        .iter()
        .map(|(node, count)| format!("\"n{node}\":{count}"))
        .collect();
    format!("{{{}}}", entries.join(","))
}

/// Convert a `trace.ndjson` text to a ShiViz log. Lines that are not JSON yield an
/// explanatory log with no events rather than a panic.
pub fn shiviz(trace_text: &str) -> String {
    let mut out = String::new();
    out.push_str(SHIVIZ_REGEX);
    out.push_str("\n\n");
    let trace = match Trace::parse(trace_text) {
        Ok(trace) => trace,
        Err(_) => return out,
    };
    // The clock of the sending event, for each message delivered.
    let mut sender_clock_of_receive: BTreeMap<usize, usize> = BTreeMap::new();
    for message in &trace.messages {
        if let (Some(receive), None) = (message.receive_position, &message.dropped) {
            sender_clock_of_receive.insert(receive, message.send_position);
        }
    }
    let mut clocks: Vec<Clock> = vec![Clock::new(); trace.lanes() as usize];
    let mut clock_after: Vec<Option<Clock>> = vec![None; trace.events.len()];
    for (position, event) in trace.events.iter().enumerate() {
        let Some(node) = event.node else { continue };
        if event.name == "end" {
            continue;
        }
        let clock = &mut clocks[node as usize];
        if let Some(send_position) = sender_clock_of_receive.get(&position) {
            let sender = clock_after[*send_position]
                .as_ref()
                .expect("a send precedes its delivery");
            for (other, count) in sender {
                let entry = clock.entry(*other).or_insert(0);
                *entry = (*entry).max(*count);
            }
        }
        *clock.entry(node).or_insert(0) += 1;
        clock_after[position] = Some(clock.clone());
        let mut description = event.name.clone();
        if let Some(from) = event.from {
            description.push_str(&format!(" from n{from}"));
        }
        if let Some(cause) = &event.cause {
            description.push_str(&format!(" ({cause})"));
        }
        for send in &event.sends {
            let fate = match &send.dropped {
                Some(cause) => format!(" dropped:{cause}"),
                None => String::new(),
            };
            description.push_str(&format!("; send {} to n{}{fate}", send.kind, send.to));
        }
        if let Some(role) = &event.role {
            description.push_str(&format!("; role {role}"));
        }
        description.push_str(&format!(" [i={} t={}us]", event.index, event.time_us));
        out.push_str(&format!("n{node} {}\n{description}\n", clock_json(clock)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = r#"{"i":1,"time_us":0,"node":0,"event":"init","input":null,"effects":[{"send":{"to":1,"msg":{"ping":{}},"fate":{"delay_us":100,"duplicate_delay_us":null}}}],"observations":[],"role":"leader"}
{"i":2,"time_us":10,"node":1,"event":"tick","input":null,"effects":[],"observations":[]}
{"i":3,"time_us":100,"node":1,"event":"ping","input":{"from":0,"msg":{}},"effects":[{"send":{"to":0,"msg":{"pong":{}},"fate":{"delay_us":5,"duplicate_delay_us":null}}}],"observations":[]}
{"i":4,"time_us":105,"node":0,"event":"pong","input":{"from":1,"msg":{}},"effects":[],"observations":[]}
{"i":4,"time_us":105,"node":null,"event":"end","verdict":"pass"}
"#;

    /// Parse the log the way ShiViz's regex does: header, blank line, (host clock, event) pairs.
    fn parse(log: &str) -> Vec<(String, BTreeMap<String, u64>, String)> {
        let mut lines = log.lines();
        assert_eq!(lines.next(), Some(SHIVIZ_REGEX));
        assert_eq!(lines.next(), Some(""));
        let rest: Vec<&str> = lines.collect();
        assert_eq!(rest.len() % 2, 0);
        rest.chunks(2)
            .map(|pair| {
                let (host, clock) = pair[0].split_once(' ').expect("host then clock");
                assert!(!host.is_empty() && !host.contains(char::is_whitespace));
                let clock: BTreeMap<String, u64> =
                    serde_json::from_str(clock).expect("the clock is a JSON object");
                assert!(clock[host] >= 1, "a host's own entry is in its clock");
                (host.to_string(), clock, pair[1].to_string())
            })
            .collect()
    }

    #[test]
    fn vector_clocks_follow_messages() {
        let events = parse(&shiviz(TRACE));
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].1, BTreeMap::from([("n0".into(), 1)]));
        assert_eq!(events[1].1, BTreeMap::from([("n1".into(), 1)]));
        // The delivery of the ping merges n0's clock at the send.
        assert_eq!(
            events[2].1,
            BTreeMap::from([("n0".into(), 1), ("n1".into(), 2)])
        );
        assert_eq!(
            events[3].1,
            BTreeMap::from([("n0".into(), 2), ("n1".into(), 2)])
        );
        assert!(events[2].2.starts_with("ping from n0"));
    }

    #[test]
    fn exports_a_real_looking_trace() {
        let log = shiviz(crate::trace::tests_support::SMALL);
        let events = parse(&log);
        assert!(events
            .iter()
            .any(|(_, _, text)| text.contains("dropped:loss")));
    }
}
