//! The decision tape: every random decision a run makes, as explicit, editable data.
//!
//! A run normally draws its decisions from seeded streams (`rng.rs`). With recording on,
//! it also writes each decision down; with a tape, it reads each decision from the tape
//! instead of drawing it. Decisions are keyed so that an edit stays local:
//!
//! - a message's fate by (from, to, n): the n-th message sent on that directed pair
//!   (dropped by loss or send omission, or delivered after a delay, maybe duplicated,
//!   maybe lost on arrival by receive omission);
//! - a timer's drawn delay by (node, n): the node's n-th armed timer (before clock drift);
//! - a client's draws by (client, n): its n-th workload decision (request latency, the
//!   node a request goes to, think time, the operation drawn).
//!
//! - a Byzantine node's misbehaviour by (node, n): the draws its strategy made at the
//!   node's n-th step, for each step its strategy changed (`[[tape.byzantine]]`).
//!
//! Faults are not on the tape: the explicit `[[faults]]` schedule already is their tape
//! (`shrink` turns whatever a nemesis chose into one), and `[[workload.ops]]` lists the
//! client operations. Which nodes are Byzantine, and their strategies, stay on the seed
//! (the `[byzantine]` table).
//!
//! A decision missing from the tape takes its benign fallback, so deleting an entry
//! means "make it harmless": a message is delivered once, promptly (the minimum latency
//! of its route, no loss, no duplicate); a timer takes the minimum of its range; a
//! request takes the minimum network latency and goes to node `client mod n`; a think
//! time is the minimum interval; an operation's draw is 0; a Byzantine node's step is
//! honest (its strategy leaves the step alone). Partitions, crashes and the
//! other faults still act: they come from the schedule.
//!
//! A minimum timer is benign for safety but not for liveness: with every election timer
//! at its minimum, candidates that start together split the vote forever, a failure any
//! Raft has. So a tape can say `missing_timers = "drawn"`: a timer missing from it is
//! drawn from the run's timer stream, as without a tape. The shrinker sets it when it
//! shrinks a liveness failure, so a run it changes keeps random timers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Why the tape drops a message when it is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TapeDrop {
    Loss,
    SendOmission,
}

/// The fate of the `n`-th message sent from `from` to `to`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageEntry {
    pub from: u32,
    pub to: u32,
    pub n: u64,
    /// Dropped when sent (the delays are then ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<TapeDrop>,
    /// Delivered after this delay (missing: the route's minimum latency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_us: Option<u64>,
    /// A duplicate is delivered after this delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_delay_us: Option<u64>,
    /// The receiver's omission fault loses the copy on arrival.
    #[serde(default, skip_serializing_if = "is_false")]
    pub receive_omitted: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub duplicate_receive_omitted: bool,
    /// The adversarial scheduler (`[adversary]`) held the message this long after it
    /// arrived (missing: delivered on arrival).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_us: Option<u64>,
    /// The same for the duplicate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_held_us: Option<u64>,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl MessageEntry {
    /// Is this the decision a missing entry would take, given the fallback delay?
    pub fn is_benign(&self, fallback_delay_us: u64) -> bool {
        self.drop.is_none()
            && self.delay_us.is_none_or(|delay| delay == fallback_delay_us)
            && self.duplicate_delay_us.is_none()
            && !self.receive_omitted
            && !self.duplicate_receive_omitted
            && !self.is_held()
    }

    /// Did the adversarial scheduler hold a copy back?
    pub fn is_held(&self) -> bool {
        self.held_us.is_some() || self.duplicate_held_us.is_some()
    }

    /// How long the adversarial scheduler held the copy (`duplicate` or not); 0: not held.
    pub fn held(&self, duplicate: bool) -> u64 {
        let held = if duplicate {
            self.duplicate_held_us
        } else {
            self.held_us
        };
        held.unwrap_or(0)
    }

    /// Does this decision fault the message (drop it or duplicate it)? Delays are not
    /// faults: any asynchronous network may take them.
    pub fn is_fault(&self) -> bool {
        self.drop.is_some()
            || self.duplicate_delay_us.is_some()
            || self.receive_omitted
            || self.duplicate_receive_omitted
    }
}

/// The delay drawn for the `n`-th timer `node` armed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimerEntry {
    pub node: u32,
    pub n: u64,
    pub delay_us: u64,
}

/// What a client's workload draw decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientDraw {
    /// A request's or reply's network latency, in microseconds.
    Latency,
    /// The node a request without a leader guess goes to.
    Target,
    /// The think time before the next operation, in microseconds.
    Think,
    /// The draw an operation is built from (`Protocol::client_op`).
    Op,
    /// Whether a request or reply of a client on the network is lost (1) or not (0).
    Lost,
}

/// The `n`-th workload draw of `client`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientEntry {
    pub client: u32,
    pub n: u64,
    pub kind: ClientDraw,
    pub value: u64,
}

/// One raw 64-bit draw, written as a hex string (TOML's integers stop at 2^63).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Draw(pub u64);

impl Serialize for Draw {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:#018x}", self.0))
    }
}

impl<'de> Deserialize<'de> for Draw {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Draw, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.strip_prefix("0x")
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .map(Draw)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "`{text}` is not a draw: write 0x and up to 16 hex digits, e.g. \"0x00000000000000ff\""
                ))
            })
    }
}

impl schemars::JsonSchema for Draw {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Draw".into()
    }
    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^0x[0-9a-fA-F]{1,16}$",
            "description": "A raw 64-bit draw in hex."
        })
    }
}

/// The draws a Byzantine node's strategy made at the node's `n`-th step (counting every
/// step, from its start). A step without an entry is honest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ByzantineEntry {
    pub node: u32,
    pub n: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draws: Vec<Draw>,
}

/// How a run decides a timer the tape has no entry for.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MissingTimers {
    /// The minimum of the timer's range (benign for safety).
    #[default]
    Minimum,
    /// Drawn from the run's timer stream, as without a tape (keeps timers random, which
    /// liveness needs).
    Drawn,
}

impl MissingTimers {
    fn is_minimum(&self) -> bool {
        *self == MissingTimers::Minimum
    }
}

/// A tape as written to `tape.json` or embedded in a scenario as `[tape]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TapeSpec {
    /// How a timer without an entry is decided (default: the minimum of its range).
    #[serde(default, skip_serializing_if = "MissingTimers::is_minimum")]
    pub missing_timers: MissingTimers,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<MessageEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<TimerEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<ClientEntry>,
    /// A Byzantine node's misbehaviours, one entry per step its strategy changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byzantine: Vec<ByzantineEntry>,
}

impl TapeSpec {
    pub fn len(&self) -> usize {
        self.messages.len() + self.timers.len() + self.clients.len() + self.byzantine.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages the tape drops or duplicates (see `MessageEntry::is_fault`).
    pub fn message_faults(&self) -> usize {
        self.messages.iter().filter(|m| m.is_fault()).count()
    }

    /// Entries naming a node or client that does not exist in a run of this size.
    pub fn check_bounds(&self, nodes: u32, clients: u32) -> Result<(), String> {
        if let Some(m) = self
            .messages
            .iter()
            .find(|m| m.from >= nodes || m.to >= nodes)
        {
            return Err(format!(
                "message entry {}->{} (n = {}) names a node outside 0..{nodes}",
                m.from, m.to, m.n
            ));
        }
        if let Some(b) = self.byzantine.iter().find(|b| b.node >= nodes) {
            return Err(format!(
                "byzantine entry of node {} names a node outside 0..{nodes}",
                b.node
            ));
        }
        if let Some(t) = self.timers.iter().find(|t| t.node >= nodes) {
            return Err(format!(
                "timer entry of node {} names a node outside 0..{nodes}",
                t.node
            ));
        }
        // A delay beyond a simulated day is an editing slip, and one near u64::MAX
        // would wrap the clock.
        const DELAY_MAX_US: u64 = 86_400_000_000;
        if let Some(m) = self.messages.iter().find(|m| {
            [
                m.delay_us,
                m.duplicate_delay_us,
                m.held_us,
                m.duplicate_held_us,
            ]
            .into_iter()
            .flatten()
            .any(|delay| delay > DELAY_MAX_US)
        }) {
            return Err(format!(
                "message entry {}->{} (n = {}) has a delay over {DELAY_MAX_US} us (a simulated day)",
                m.from, m.to, m.n
            ));
        }
        if let Some(c) = self.clients.iter().find(|c| {
            matches!(c.kind, ClientDraw::Latency | ClientDraw::Think) && c.value > DELAY_MAX_US
        }) {
            return Err(format!(
                "client entry of client {} (n = {}) has a time over {DELAY_MAX_US} us (a simulated day)",
                c.client, c.n
            ));
        }
        if let Some(c) = self.clients.iter().find(|c| c.client >= clients) {
            return Err(format!(
                "client entry of client {} names a client outside 0..{clients}",
                c.client
            ));
        }
        Ok(())
    }
}

/// A tape indexed for a run: lookups by key, in O(log n).
#[derive(Clone, Debug, Default)]
pub struct Tape {
    missing_timers: MissingTimers,
    messages: BTreeMap<(u32, u32, u64), MessageEntry>,
    timers: BTreeMap<(u32, u64), u64>,
    clients: BTreeMap<(u32, u64), (ClientDraw, u64)>,
    byzantine: BTreeMap<(u32, u64), Vec<u64>>,
}

impl Tape {
    pub fn from_spec(spec: &TapeSpec) -> Tape {
        Tape {
            missing_timers: spec.missing_timers,
            messages: spec
                .messages
                .iter()
                .map(|m| ((m.from, m.to, m.n), m.clone()))
                .collect(),
            timers: spec
                .timers
                .iter()
                .map(|t| ((t.node, t.n), t.delay_us))
                .collect(),
            clients: spec
                .clients
                .iter()
                .map(|c| ((c.client, c.n), (c.kind, c.value)))
                .collect(),
            byzantine: spec
                .byzantine
                .iter()
                .map(|b| ((b.node, b.n), b.draws.iter().map(|draw| draw.0).collect()))
                .collect(),
        }
    }

    /// The entries in key order, so the same run always writes the same tape.
    pub fn to_spec(&self) -> TapeSpec {
        TapeSpec {
            missing_timers: self.missing_timers,
            messages: self.messages.values().cloned().collect(),
            timers: self
                .timers
                .iter()
                .map(|(&(node, n), &delay_us)| TimerEntry { node, n, delay_us })
                .collect(),
            clients: self
                .clients
                .iter()
                .map(|(&(client, n), &(kind, value))| ClientEntry {
                    client,
                    n,
                    kind,
                    value,
                })
                .collect(),
            byzantine: self
                .byzantine
                .iter()
                .map(|(&(node, n), draws)| ByzantineEntry {
                    node,
                    n,
                    draws: draws.iter().copied().map(Draw).collect(),
                })
                .collect(),
        }
    }

    pub fn message(&self, from: u32, to: u32, n: u64) -> Option<&MessageEntry> {
        self.messages.get(&(from, to, n))
    }

    pub fn message_mut(&mut self, from: u32, to: u32, n: u64) -> Option<&mut MessageEntry> {
        self.messages.get_mut(&(from, to, n))
    }

    pub fn record_message(&mut self, entry: MessageEntry) {
        let previous = self.messages.insert((entry.from, entry.to, entry.n), entry);
        assert!(previous.is_none(), "a message is decided once");
    }

    pub fn timer(&self, node: u32, n: u64) -> Option<u64> {
        self.timers.get(&(node, n)).copied()
    }

    pub fn missing_timers(&self) -> MissingTimers {
        self.missing_timers
    }

    pub fn record_timer(&mut self, node: u32, n: u64, delay_us: u64) {
        let previous = self.timers.insert((node, n), delay_us);
        assert!(previous.is_none(), "a timer is drawn once");
    }

    /// The client's `n`-th draw, if the tape has one of this kind there.
    pub fn client(&self, client: u32, n: u64, kind: ClientDraw) -> Option<u64> {
        self.clients
            .get(&(client, n))
            .filter(|(recorded, _)| *recorded == kind)
            .map(|&(_, value)| value)
    }

    /// The draws of `node`'s strategy at its `n`-th step; `None`: the step is honest.
    pub fn byzantine(&self, node: u32, n: u64) -> Option<&[u64]> {
        self.byzantine.get(&(node, n)).map(Vec::as_slice)
    }

    pub fn record_byzantine(&mut self, node: u32, n: u64, draws: Vec<u64>) {
        let previous = self.byzantine.insert((node, n), draws);
        assert!(previous.is_none(), "a Byzantine step is decided once");
    }

    pub fn record_client(&mut self, client: u32, n: u64, kind: ClientDraw, value: u64) {
        let previous = self.clients.insert((client, n), (kind, value));
        assert!(previous.is_none(), "a client draw is made once");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_round_trips_in_key_order() {
        let spec = TapeSpec {
            missing_timers: MissingTimers::Drawn,
            messages: vec![
                MessageEntry {
                    from: 1,
                    to: 0,
                    n: 0,
                    drop: Some(TapeDrop::Loss),
                    ..MessageEntry::default()
                },
                MessageEntry {
                    from: 0,
                    to: 1,
                    n: 2,
                    delay_us: Some(700),
                    ..MessageEntry::default()
                },
            ],
            timers: vec![TimerEntry {
                node: 2,
                n: 5,
                delay_us: 90_000,
            }],
            clients: vec![ClientEntry {
                client: 0,
                n: 1,
                kind: ClientDraw::Think,
                value: 40_000,
            }],
            byzantine: vec![ByzantineEntry {
                node: 1,
                n: 3,
                draws: vec![Draw(u64::MAX), Draw(7)],
            }],
        };
        let tape = Tape::from_spec(&spec);
        let again = tape.to_spec();
        assert_eq!(again.messages[0].from, 0, "sorted by key");
        assert_eq!(Tape::from_spec(&again).to_spec(), again);
        assert_eq!(tape.timer(2, 5), Some(90_000));
        assert_eq!(tape.timer(2, 6), None);
        assert_eq!(tape.missing_timers(), MissingTimers::Drawn);
        assert_eq!(tape.client(0, 1, ClientDraw::Think), Some(40_000));
        assert_eq!(tape.client(0, 1, ClientDraw::Op), None, "kind must match");
        assert_eq!(tape.byzantine(1, 3), Some(&[u64::MAX, 7][..]));
        assert_eq!(tape.byzantine(1, 4), None);
        assert_eq!(spec.message_faults(), 1);
        assert!(spec.check_bounds(3, 1).is_ok());
        assert!(spec.check_bounds(2, 1).is_err());
    }

    #[test]
    fn benign_entries_equal_the_fallback() {
        let prompt = MessageEntry {
            delay_us: Some(300),
            ..MessageEntry::default()
        };
        assert!(prompt.is_benign(300));
        assert!(!prompt.is_benign(299));
        assert!(!prompt.is_fault());
        let duplicated = MessageEntry {
            duplicate_delay_us: Some(5),
            ..prompt.clone()
        };
        assert!(!duplicated.is_benign(300));
        assert!(duplicated.is_fault());
        let held = MessageEntry {
            held_us: Some(40_000),
            ..prompt.clone()
        };
        assert!(
            !held.is_benign(300),
            "a hold is a decision the shrinker may delete"
        );
        assert!(!held.is_fault(), "a hold is a delay, not a fault");
        assert_eq!((held.held(false), held.held(true)), (40_000, 0));
    }
}
