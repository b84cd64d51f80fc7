//! kv: a linearizable key-value store replicated by Raft (Ongaro's thesis, Stanford 2014,
//! chapter 6, "Client interaction"), as the state machine `KvMachine` under
//! `raft::RaftNode`.
//!
//! Operations are `get`, `put`, `append` and `cas` over string keys `k0`..`k{keys-1}`
//! with string values (an absent key reads as the empty string). Every operation, reads
//! included, is a log entry: the leader appends it, and answers the client with the output
//! of applying it once it commits (§6.4 lists cheaper reads, ReadIndex and leases; going
//! through the log is the simplest correct one, and a follower never answers from its own
//! state). Each node applies its committed prefix in log order; after a restart the commit
//! index starts at 0 and the machine is rebuilt from the persisted log as commits are
//! learnt again.
//!
//! Client sessions (§6.3): every command carries its client id and request id. A client has
//! one operation outstanding and retries it with the same request id (at another node after
//! a timeout or a redirect), so one request can be appended, and committed, several times.
//! The machine keeps, per client, the last request id it applied and that request's output;
//! a command whose request id is not newer is answered from this table and not applied
//! again, so a retried append takes effect once.
//!
//! The workload is decided here, from the scenario's `[params]`: the key space (`keys`), the
//! key distribution (`key_distribution = "uniform" | "zipf"`, `zipf_exponent`) and the op
//! mix (`get_weight`, `put_weight`, `append_weight`, `cas_weight`). Every run's history is
//! checked for linearizability against the key-value model at the end of the run.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sim_core::lincheck::{ModelKind, OperationInput, OperationOutput, Value};
use sim_core::{ClientId, ConfigError, Registration, Setup};

pub use text::Text;

use crate::raft::{MachineCommand, RaftNode, RaftParams, StateMachine};

mod mutants;
#[cfg(test)]
mod tests;
mod text;

pub use mutants::KvMutant;

/// The `kv` protocol: Raft over the key-value machine.
pub type Kv = RaftNode<KvMachine>;

/// The most keys a scenario may ask for.
const KEYS_MAX: u64 = 1000;

/// Put and cas values come from a small domain (`v0`..`v{PUT_VALUES-1}`) so that a cas
/// sometimes finds what it compares against; appends add unique suffixes, so a duplicated
/// append is visible in every later read.
const PUT_VALUES: u64 = 3;

/// A client operation, which is also the log command. Compact and `Copy`: the whole log
/// is copied whenever it is persisted, so an entry holds numbers, not strings. Key `3` is
/// the string `k3`, put value `1` is `v1`, and the append of (client 2, seq 7) appends
/// `[2.7]` (unique, so a duplicated append shows in every later read).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KvOp {
    Get {
        key: u32,
    },
    Put {
        key: u32,
        value: u32,
    },
    Append {
        key: u32,
        client: ClientId,
        seq: u64,
    },
    /// Set `key` to `to` if it holds `from`.
    Cas {
        key: u32,
        from: u32,
        to: u32,
    },
}

impl KvOp {
    pub fn key(&self) -> u32 {
        match *self {
            KvOp::Get { key }
            | KvOp::Put { key, .. }
            | KvOp::Append { key, .. }
            | KvOp::Cas { key, .. } => key,
        }
    }

    pub fn key_name(&self) -> String {
        format!("k{}", self.key())
    }
}

/// The string a put or cas operand stands for.
pub fn value_text(value: u32) -> String {
    format!("v{value}")
}

/// The string an append adds.
pub fn append_text(client: ClientId, seq: u64) -> String {
    format!("[{client}.{seq}]")
}

impl MachineCommand for KvOp {
    fn size_bytes(&self) -> u32 {
        // A tag byte and the fields.
        match self {
            KvOp::Get { .. } => 5,
            KvOp::Put { .. } => 9,
            KvOp::Append { .. } => 17,
            KvOp::Cas { .. } => 13,
        }
    }

    fn noop() -> KvOp {
        KvOp::Get { key: 0 }
    }
}

/// What applying an operation returns.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KvOutput {
    /// A get's value (the empty string for an absent key). Written to traces and
    /// `history.json` whole when short, as its digest when long (`summarise_value`).
    Value {
        #[serde(serialize_with = "summarise_value")]
        value: Text,
    },
    /// A put or append took effect.
    Done,
    Cas {
        succeeded: bool,
    },
}

/// The longest get value `history.json` and traces hold whole; a longer one is written
/// as its `TextDigest` (length, hash, last characters).
const RECORDED_VALUE_BYTES_MAX: usize = 64;

fn summarise_value<S: serde::Serializer>(value: &Text, serializer: S) -> Result<S::Ok, S::Error> {
    if value.len() > RECORDED_VALUE_BYTES_MAX {
        format!("{:?}", value.digest()).serialize(serializer)
    } else {
        value.as_str().serialize(serializer)
    }
}

/// How clients pick keys.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum KeyDistribution {
    Uniform,
    /// Key `k` (from 0) has weight proportional to `1 / (k + 1)^exponent`.
    Zipf,
}

/// The kv machine's parameters.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct KvConfig {
    pub keys: u64,
    pub key_distribution: KeyDistribution,
    /// Cumulative integer key weights: key `k` is picked when a draw below the total falls
    /// in `[cumulative[k-1], cumulative[k])`. Integers, computed once, so that op choice
    /// is exact arithmetic on every machine.
    pub key_cumulative_weights: Vec<u64>,
    /// Relative weights of get, put, append and cas.
    pub op_weights: [u64; 4],
    /// Client `c` uses key `k{c mod keys}` only (the key draw is taken and unused).
    pub key_per_client: bool,
    /// `None` is the correct service.
    pub mutant: Option<KvMutant>,
}

impl KvConfig {
    fn mutant(&self, mutant: KvMutant) -> bool {
        self.mutant == Some(mutant)
    }
}

impl Default for KvConfig {
    /// Five uniform keys; 40% gets, 25% puts, 25% appends, 10% cas.
    fn default() -> KvConfig {
        KvConfig {
            keys: 5,
            key_distribution: KeyDistribution::Uniform,
            key_cumulative_weights: (1..=5).collect(),
            op_weights: [40, 25, 25, 10],
            key_per_client: false,
            mutant: None,
        }
    }
}

/// kv's `[params]`: Raft's, and the workload's shape.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub struct KvParams {
    #[serde(flatten)]
    pub raft: RaftParams,
    /// The key space: keys `k0`..`k{keys-1}` (1 to 1000).
    #[serde(default = "KvParams::default_keys")]
    pub keys: u64,
    /// How clients pick keys.
    #[serde(default)]
    pub key_distribution: KeyDistributionName,
    /// The zipf distribution's exponent (with `key_distribution = "zipf"`).
    #[serde(default = "KvParams::default_zipf_exponent")]
    pub zipf_exponent: f64,
    /// Relative weight of gets in the op mix (the four weights add up to 1..=65535).
    #[serde(default = "KvParams::default_get_weight")]
    pub get_weight: u64,
    /// Relative weight of puts.
    #[serde(default = "KvParams::default_put_weight")]
    pub put_weight: u64,
    /// Relative weight of appends.
    #[serde(default = "KvParams::default_append_weight")]
    pub append_weight: u64,
    /// Relative weight of compare-and-sets.
    #[serde(default = "KvParams::default_cas_weight")]
    pub cas_weight: u64,
    /// Bind each client to its own key: client `c` uses only `k{c mod keys}` (the labs'
    /// "each client appends to its own key"), whatever `key_distribution` says.
    #[serde(default)]
    pub key_per_client: bool,
}

/// A key distribution's name in `[params]`.
#[derive(Clone, Copy, Debug, Default, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeyDistributionName {
    #[default]
    Uniform,
    Zipf,
}

impl KvParams {
    fn default_keys() -> u64 {
        KvConfig::default().keys
    }
    fn default_zipf_exponent() -> f64 {
        1.0
    }
    fn default_get_weight() -> u64 {
        KvConfig::default().op_weights[0]
    }
    fn default_put_weight() -> u64 {
        KvConfig::default().op_weights[1]
    }
    fn default_append_weight() -> u64 {
        KvConfig::default().op_weights[2]
    }
    fn default_cas_weight() -> u64 {
        KvConfig::default().op_weights[3]
    }

    /// Validate and build the whole configuration: Raft's around the machine's.
    pub fn config(
        self,
        setup: Setup<KvMutant>,
    ) -> Result<crate::raft::RaftConfig<KvConfig>, ConfigError> {
        let machine = self.machine_config(setup.mutant)?;
        self.raft.config(None, machine)
    }

    fn machine_config(&self, mutant: Option<KvMutant>) -> Result<KvConfig, ConfigError> {
        let keys = self.keys;
        if keys == 0 || keys > KEYS_MAX {
            return Err(ConfigError {
                field: "keys".to_string(),
                message: format!("{keys} keys: the key space must have 1 to {KEYS_MAX} keys"),
                fix: "write e.g. `keys = 5`".to_string(),
            });
        }
        let exponent = self.zipf_exponent;
        if !(exponent.is_finite() && exponent >= 0.0) {
            return Err(ConfigError {
                field: "zipf_exponent".to_string(),
                message: format!("expected a finite non-negative number, found {exponent}"),
                fix: "write e.g. `zipf_exponent = 1.0`".to_string(),
            });
        }
        let (key_distribution, key_cumulative_weights) = match self.key_distribution {
            KeyDistributionName::Uniform => (KeyDistribution::Uniform, (1..=keys).collect()),
            KeyDistributionName::Zipf => (
                KeyDistribution::Zipf,
                zipf_cumulative_weights(keys, exponent),
            ),
        };
        let op_weights = [
            self.get_weight,
            self.put_weight,
            self.append_weight,
            self.cas_weight,
        ];
        let weights_total = op_weights
            .iter()
            .try_fold(0u64, |sum, &w| sum.checked_add(w));
        if !weights_total.is_some_and(|total| total > 0 && total <= u64::from(u16::MAX)) {
            return Err(ConfigError {
                field: "get_weight".to_string(),
                message: "the op weights (get_weight, put_weight, append_weight, cas_weight) \
                          must add up to between 1 and 65535 (the op kind is drawn from 16 bits)"
                    .to_string(),
                fix: "write e.g. `get_weight = 40`, `put_weight = 25`, `append_weight = 25`, \
                      `cas_weight = 10`"
                    .to_string(),
            });
        }
        Ok(KvConfig {
            keys,
            key_distribution,
            key_cumulative_weights,
            op_weights,
            key_per_client: self.key_per_client,
            mutant,
        })
    }
}

/// The `kv` protocol's registration.
pub fn registration() -> Registration<Kv> {
    crate::raft::registration_of::<KvMachine>(
        "kv",
        "a linearizable key-value store (get, put, append, cas) on Raft, with client \
         sessions; every run's history is checked for linearizability",
    )
    .params::<KvParams, KvMutant>(KvParams::config)
}

/// Integer zipf weights `round(1e6 / (k + 1)^exponent)`, at least 1, cumulated. `powf` may
/// differ in the last bit between platforms' libms; rounding to integers makes a
/// difference in the weights (and so in the runs) practically impossible.
fn zipf_cumulative_weights(keys: u64, exponent: f64) -> Vec<u64> {
    assert!(keys >= 1 && exponent.is_finite() && exponent >= 0.0);
    let mut total = 0;
    (0..keys)
        .map(|k| {
            let weight = (1e6 / ((k + 1) as f64).powf(exponent)).round() as u64;
            total += weight.max(1);
            total
        })
        .collect()
}

impl KvConfig {
    /// The key a draw picks (`draw` below the total weight).
    fn key_index(&self, draw: u64) -> u64 {
        let total = *self
            .key_cumulative_weights
            .last()
            .expect("at least one key");
        let point = draw % total;
        let index = self
            .key_cumulative_weights
            .partition_point(|&cumulative| cumulative <= point);
        assert!((index as u64) < self.keys);
        index as u64
    }
}

/// The replicated key-value state plus the client session table. A Raft snapshot (§7)
/// holds both: a node that installed one without the sessions would apply a retried
/// request again.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct KvMachine {
    /// Key index to value; an absent key reads as the empty string.
    data: BTreeMap<u32, Text>,
    /// Per client: the last request id applied and its output (thesis §6.3).
    sessions: BTreeMap<ClientId, (u64, KvOutput)>,
}

impl KvMachine {
    /// The value of key `key` (an index); the empty string when absent.
    pub fn value(&self, key: u32) -> &str {
        self.data.get(&key).map_or("", Text::as_str)
    }

    /// The last request id applied for `client` (its session), if any: what a replica
    /// that must hold every acknowledged request is judged by (primary-backup's checker).
    pub fn last_request(&self, client: ClientId) -> Option<u64> {
        self.sessions.get(&client).map(|(request, _)| *request)
    }

    fn execute(&mut self, op: &KvOp) -> KvOutput {
        match *op {
            KvOp::Get { key } => KvOutput::Value {
                value: self.data.get(&key).cloned().unwrap_or_default(),
            },
            KvOp::Put { key, value } => {
                self.data.insert(key, Text::new(value_text(value)));
                KvOutput::Done
            }
            KvOp::Append { key, client, seq } => {
                let appended = append_text(client, seq);
                self.data.entry(key).or_default().push_str(&appended);
                KvOutput::Done
            }
            KvOp::Cas { key, from, to } => {
                let succeeded = self.value(key) == value_text(from);
                if succeeded {
                    self.data.insert(key, Text::new(value_text(to)));
                }
                KvOutput::Cas { succeeded }
            }
        }
    }
}

impl StateMachine for KvMachine {
    type Config = KvConfig;
    type Op = KvOp;
    type Command = KvOp;
    type Output = KvOutput;

    /// The low 32 bits of `draw` pick the key, the next 16 the operation, the top 16 the
    /// put and cas values. Append values are unique per (client, seq).
    fn client_op(config: &KvConfig, client: ClientId, seq: u64, draw: u64) -> KvOp {
        let key = if config.key_per_client {
            u64::from(client) % config.keys
        } else {
            config.key_index(draw & 0xffff_ffff)
        };
        let key = u32::try_from(key).expect("keys <= KEYS_MAX");
        let total: u64 = config.op_weights.iter().sum();
        let mut point = ((draw >> 32) & 0xffff) % total;
        let mut kind = 0;
        while point >= config.op_weights[kind] {
            point -= config.op_weights[kind];
            kind += 1;
        }
        let value_bits = draw >> 48;
        let small_value = |bits: u64| (bits % PUT_VALUES) as u32;
        match kind {
            0 => KvOp::Get { key },
            1 => KvOp::Put {
                key,
                value: small_value(value_bits),
            },
            2 => KvOp::Append { key, client, seq },
            3 => KvOp::Cas {
                key,
                from: small_value(value_bits),
                to: small_value(value_bits / PUT_VALUES + 1),
            },
            _ => unreachable!("four op kinds"),
        }
    }

    /// `get k1`, `put k1 v7`, `append k1` (appends `[client.seq]`, as drawn appends do)
    /// and `cas k1 v0 v2` (set k1 to v2 if it holds v0).
    fn parse_op(config: &KvConfig, client: ClientId, seq: u64, text: &str) -> Result<KvOp, String> {
        let usage = format!(
            "write one of `get kK`, `put kK vN`, `append kK`, `cas kK vN vM`, with K below \
             {} (`[params] keys`): e.g. `op = \"put k1 v7\"`",
            config.keys
        );
        let number = |word: &str, prefix: char| {
            word.strip_prefix(prefix)
                .and_then(|digits| digits.parse::<u32>().ok())
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let key = words
            .get(1)
            .and_then(|word| number(word, 'k'))
            .filter(|&key| u64::from(key) < config.keys);
        let value = |position: usize| words.get(position).and_then(|word| number(word, 'v'));
        let op = match (words.first().copied(), key, words.len()) {
            (Some("get"), Some(key), 2) => Some(KvOp::Get { key }),
            (Some("put"), Some(key), 3) => value(2).map(|value| KvOp::Put { key, value }),
            (Some("append"), Some(key), 2) => Some(KvOp::Append { key, client, seq }),
            (Some("cas"), Some(key), 4) => {
                value(2)
                    .zip(value(3))
                    .map(|(from, to)| KvOp::Cas { key, from, to })
            }
            _ => None,
        };
        op.ok_or(usage)
    }

    fn command(op: &KvOp) -> KvOp {
        *op
    }

    fn apply(
        &mut self,
        config: &KvConfig,
        client: ClientId,
        request: u64,
        command: &KvOp,
    ) -> KvOutput {
        if !config.mutant(KvMutant::NoDedupe) {
            if let Some((last_request, last_output)) = self.sessions.get(&client) {
                if request <= *last_request {
                    // A retry of the last request answers what it answered; an older one
                    // (its client has moved on, nobody waits for the reply) changes nothing.
                    return last_output.clone();
                }
            }
        }
        let output = self.execute(command);
        self.sessions.insert(client, (request, output.clone()));
        output
    }

    /// Keys and values as text, and per session a client, a request id and an output.
    fn snapshot_bytes(&self) -> u64 {
        let data: usize = self.data.values().map(|value| 4 + value.len()).sum();
        let sessions: usize = self
            .sessions
            .values()
            .map(|(_, output)| match output {
                KvOutput::Value { value } => 16 + value.len(),
                KvOutput::Done | KvOutput::Cas { .. } => 17,
            })
            .sum();
        (data + sessions) as u64
    }

    fn reads_locally_without_quorum(config: &KvConfig) -> bool {
        config.mutant(KvMutant::StaleRead)
    }

    fn replies_before_commit(config: &KvConfig) -> bool {
        config.mutant(KvMutant::ReplyBeforeCommit)
    }

    fn read_locally(&self, op: &KvOp) -> Option<KvOutput> {
        match *op {
            KvOp::Get { key } => Some(KvOutput::Value {
                value: self.data.get(&key).cloned().unwrap_or_default(),
            }),
            _ => None,
        }
    }

    fn history_model() -> Option<ModelKind> {
        Some(ModelKind::KeyValue)
    }

    fn history_input(op: &KvOp) -> Option<(Option<String>, OperationInput)> {
        let input = match *op {
            KvOp::Get { .. } => OperationInput::Get,
            KvOp::Put { value, .. } => OperationInput::Put {
                value: value_text(value),
            },
            KvOp::Append { client, seq, .. } => OperationInput::Append {
                value: append_text(client, seq),
            },
            KvOp::Cas { from, to, .. } => OperationInput::Cas {
                from: Value::Text(value_text(from)),
                to: Value::Text(value_text(to)),
            },
        };
        Some((Some(op.key_name()), input))
    }

    fn history_output(_op: &KvOp, output: &KvOutput) -> Option<OperationOutput> {
        Some(match output {
            // A long value (a key appended to many times) is recorded as its digest, so
            // the history grows linearly with the operations, not with their square.
            KvOutput::Value { value } if value.len() > RECORDED_VALUE_BYTES_MAX => {
                OperationOutput::GetDigest {
                    digest: value.digest().clone(),
                }
            }
            KvOutput::Value { value } => OperationOutput::GetValue {
                value: value.as_str().to_string(),
            },
            KvOutput::Done => OperationOutput::Done,
            KvOutput::Cas { succeeded } => OperationOutput::CasResult {
                succeeded: *succeeded,
            },
        })
    }
}
