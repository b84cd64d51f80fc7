//! A protocol's registration: everything the harness needs to know about a protocol
//! besides its step function, held as data beside it (the way stateright's `ActorModel`
//! holds properties and boundaries beside the actors).
//!
//! The `Protocol` trait is what a node *is* (types, `new`, `recover`, `step`, its role);
//! a `Registration` is how the harness *uses* it: the typed `[params]` and `[check]`
//! tables (serde structs, so the JSON Schema comes free), the mutants (declared once with
//! [`mutants!`](crate::mutants)), the fault bound, the roles (name, colour, and whether
//! leader-targeted faults and the leader-change metric aim at it), how clients draw
//! operations, the history model, and the state trace validation reads. sim-core names
//! no protocol and no role: it reads them from here.
//!
//! A registration becomes a [`ProtocolEntry`](crate::runner::ProtocolEntry) (protocol
//! erased) for the CLI's registry; an outside crate builds its own the same way.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;

use schemars::{JsonSchema, Schema};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::byzantine::{PerturbHooks, ProtocolStrategy};
use crate::lincheck::{ModelKind, OperationInput, OperationOutput};
use crate::meter::MeterFn;
use crate::protocol::{ClientId, ConfigError, FaultBound, MutantInfo, Protocol};

/// One role a node can be in, as the protocol declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RoleInfo {
    /// The name `Protocol::role` returns and scenarios use (`node = "leader"`).
    pub name: &'static str,
    /// Its colour in reports (a CSS colour, e.g. `#31a354`).
    pub colour: &'static str,
    /// The role leader-targeted faults (`crash_leader`) and the leader-change metric
    /// aim at: Raft's leader, PBFT's primary, 2PC's coordinator. At most one role has it.
    pub leader: bool,
}

/// A protocol's mutants, declared once as an enum with its metadata (use the
/// [`mutants!`](crate::mutants) macro rather than implementing this by hand).
pub trait MutantSet: Copy + Debug + Eq + Hash + Send + Sync + 'static {
    /// Every mutant with its name, description and kind, in declaration order.
    const ALL: &'static [(Self, MutantInfo)];

    /// The name used on the command line and in scenario files.
    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(mutant, _)| *mutant == self)
            .map(|(_, info)| info.name)
            .expect("every mutant is in ALL")
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(_, info)| info.name == name)
            .map(|(mutant, _)| *mutant)
    }
}

/// The mutant set of a protocol that has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoMutants {}

impl MutantSet for NoMutants {
    const ALL: &'static [(NoMutants, MutantInfo)] = &[];
}

/// Declare a protocol's mutants once: the enum and its metadata.
///
/// ```
/// sim_core::mutants! {
///     /// Broken variants of the example protocol.
///     pub enum Mutant {
///         /// Forgets to check the term.
///         NoTermCheck => "no-term-check", safety,
///             "messages from older terms are accepted",
///         SlowTimer => "slow-timer", liveness,
///             "the retry timer never fires",
///     }
/// }
/// use sim_core::registration::MutantSet;
/// assert_eq!(Mutant::from_name("slow-timer"), Some(Mutant::SlowTimer));
/// assert!(Mutant::ALL[1].1.liveness);
/// ```
#[macro_export]
macro_rules! mutants {
    (
        $(#[$meta:meta])*
        $vis:vis enum $enum:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident => $name:literal, $kind:ident, $description:expr
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
        $vis enum $enum {
            $( $(#[$variant_meta])* $variant, )*
        }

        impl $crate::registration::MutantSet for $enum {
            const ALL: &'static [($enum, $crate::protocol::MutantInfo)] = &[
                $(
                    (
                        $enum::$variant,
                        $crate::protocol::MutantInfo {
                            name: $name,
                            description: $description,
                            liveness: $crate::mutants!(@liveness $kind),
                        },
                    ),
                )*
            ];
        }
    };
    (@liveness safety) => { false };
    (@liveness liveness) => { true };
}

/// What `[params]` building sees besides the table: the cluster size and the mutant.
#[derive(Clone, Copy, Debug)]
pub struct Setup<M> {
    pub cluster_size: u32,
    /// `None` is the correct protocol.
    pub mutant: Option<M>,
}

/// How a history-checked protocol's operations read in the checker's vocabulary.
pub struct HistoryHooks<P: Protocol> {
    /// The sequential model every run's client history must linearize against.
    pub model: ModelKind,
    /// An operation's key and input.
    pub input: HistoryInputFn<P>,
    /// The output of an `Ok` reply.
    pub output: fn(&P::Op, &P::Reply) -> Option<OperationOutput>,
}

/// How a simulated client draws its `seq`-th operation from a random `draw`.
pub type WorkloadFn<P> = fn(&<P as Protocol>::Config, ClientId, u64, u64) -> <P as Protocol>::Op;

/// A client operation written out in a scenario (`[[workload.ops]] op = "put k1 v7"`),
/// read for `client`'s `seq`-th request; `Err` says what the text should look like.
pub type ParseOpFn<P> =
    fn(&<P as Protocol>::Config, ClientId, u64, &str) -> Result<<P as Protocol>::Op, String>;

/// The index an observation says its node committed through, if it reports a commit.
pub type CommitFn<P> = fn(&<P as Protocol>::Obs) -> Option<u64>;

/// What a node has applied, read after each of its steps by `[[checks]]` about client
/// commands (`command_everywhere`): a protocol whose log holds client requests (Raft, kv;
/// PBFT's executed sequence or Multi-Paxos's slots could answer the same way).
pub struct AppliedHooks<P: Protocol> {
    /// The highest log index the node has applied. It may go back (a restarted node
    /// rebuilds its state from index 1), and the node then applies those indices again.
    pub applied_through: fn(&P) -> u64,
    /// The client request (client, request id) whose command is at `index` of the node's
    /// log, if the entry there came from a client.
    pub command_at: fn(&P, u64) -> Option<(ClientId, u64)>,
}

/// An operation's key and input in the history checker's vocabulary.
pub type HistoryInputFn<P> = fn(&<P as Protocol>::Op) -> Option<(Option<String>, OperationInput)>;

/// A predicate over one node: is it inside the model checker's protocol bounds?
pub type CheckFilter<P> = Arc<dyn Fn(&P) -> bool + Send + Sync>;

type ConfigureFn<P> = Box<
    dyn Fn(toml::Table, u32, Option<&str>) -> Result<<P as Protocol>::Config, ConfigError>
        + Send
        + Sync,
>;
type CheckFn<P> = Box<dyn Fn(toml::Table) -> Result<CheckFilter<P>, ConfigError> + Send + Sync>;

/// A sequence field of a node's traced state (`Registration::trace_sequence`).
pub struct TraceSequence<P> {
    pub field: &'static str,
    pub read: fn(&P) -> Box<dyn crate::trace_delta::TracedSequence>,
}

/// A protocol as the harness knows it. Build one with [`Registration::new`] and the
/// builder methods; `params` is required.
pub struct Registration<P: Protocol> {
    /// The name used in scenario files (`protocol = "raft"`).
    pub name: &'static str,
    /// One line for `quorumlab list protocols`.
    pub description: &'static str,
    /// The roles `Protocol::role` may return. Default: one role, `node`.
    pub roles: &'static [RoleInfo],
    /// How many faults of each kind the protocol claims to tolerate in a cluster of `n`.
    pub fault_bound: fn(u32) -> FaultBound,
    /// The operation a simulated client issues as its `seq`-th request; `draw` is a
    /// random number from the workload stream. `None`: the protocol takes no clients.
    pub workload: Option<WorkloadFn<P>>,
    /// How operations written out in a scenario read. `None`: only `draw`s.
    pub parse_op: Option<ParseOpFn<P>>,
    /// Set for a linearizable service: every run's client history is checked.
    pub history: Option<HistoryHooks<P>>,
    /// The node's state as trace validation reads it (written into every traced step's
    /// `state` field). Only traced runs call it; it never feeds the trace hash.
    pub trace_state: Option<fn(&P) -> serde_json::Value>,
    /// Sequence fields of the traced state that grow through a run (Raft's `log`), read
    /// apart from `trace_state`: a trace writes each as a delta against the node's
    /// previous line (`crate::trace_delta`), so its bytes and its cost stay linear in its
    /// events.
    pub trace_sequences: Vec<TraceSequence<P>>,
    /// The index an observation says its node committed through, for `[[checks]]` about
    /// commits (`no_commit_in_minority`). `None`: the protocol observes no commits.
    pub commits: Option<CommitFn<P>>,
    /// What each node has applied, for `[[checks]]` about client commands
    /// (`command_everywhere`). `None`: the protocol exposes no applied log.
    pub applied: Option<AppliedHooks<P>>,
    /// Message kinds that answer a request: a `messages` check counting `rpcs` counts a
    /// request and its reply as one RPC.
    pub rpc_replies: &'static [&'static str],
    /// The fields a Byzantine node may perturb (`mutate`, `equivocate`).
    pub perturb: Option<PerturbHooks<P>>,
    /// The protocol's own Byzantine strategies, beside the generic ones.
    pub byzantine_strategies: Vec<ProtocolStrategy<P>>,
    /// How many matching replies from distinct nodes a client waits for before it accepts
    /// one (PBFT's f + 1); `None` is the first reply (crash-tolerant services).
    pub client_reply_quorum: Option<fn(&P::Config, u32) -> usize>,
    /// The epoch a node believes in (Raft's currentTerm, a view number): how the
    /// selector `connected_leader` tells a current leader from a stale one. `None`: the
    /// protocol has no epochs, and scenarios may not use that selector.
    pub epoch: Option<fn(&P) -> u64>,
    /// Every message kind (`Message::kind`) the protocol sends, so that a scenario naming
    /// a kind (a `reorder` fault's `kinds`) is checked when it loads. Empty: not declared,
    /// and such scenarios are refused.
    pub message_kinds: &'static [&'static str],
    /// The protocol's timed measurements of a run (`crate::meter`): figures for
    /// `result.json` and the timed liveness conditions. `None`: none.
    pub meter: Option<MeterFn<P>>,
    /// The items of a node's state that grow with the run (Raft: log entries after its
    /// snapshot), for `budget.max_state_items` and `RunOutput::live`. `None`: not counted.
    pub state_items: Option<fn(&P) -> u64>,
    /// The protocol reads its node's local clock (`Ctx::local_clock_us`); without this,
    /// no clock reaches it.
    pub reads_clock: bool,
    mutants: Vec<MutantInfo>,
    configure: Option<ConfigureFn<P>>,
    params_schema: fn() -> Schema,
    check: CheckFn<P>,
    check_schema: fn() -> Schema,
}

/// The `[check]` fields every protocol has (the model checker's fault, client and network
/// bounds, `crate::check::CheckBounds`); a protocol's own come from `check_bounds`.
pub const GENERIC_CHECK_FIELDS: &[&str] = &[
    "max_crashes",
    "max_crashes_after_persist",
    "max_mid_step_crashes",
    "max_drops",
    "max_duplicates",
    "max_client_ops",
    "max_byzantine_actions",
    "max_in_flight",
    "sometimes",
    "walks",
    "walk_depth",
    "tick_ms",
    "max_time_ms",
    "max_clock_skew_ms",
];

/// The generic `[check]` fields, for the schema (`GENERIC_CHECK_FIELDS` names the same;
/// `crate::check::CheckBounds` parses them).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct GenericCheckFields {
    /// Crashes over a whole behaviour (restarts are free).
    max_crashes: Option<u32>,
    /// Crashes right after a step's first `Persist`.
    max_crashes_after_persist: Option<u32>,
    /// Crashes at any boundary between two effects of a step (each boundary a branch).
    max_mid_step_crashes: Option<u32>,
    /// Messages the network may lose.
    max_drops: Option<u32>,
    /// Messages the network may duplicate.
    max_duplicates: Option<u32>,
    /// Client requests, issued to any live node.
    max_client_ops: Option<u32>,
    /// Choices of the `[byzantine]` table's nodes (a perturbed message, the peers lied
    /// to, a protocol strategy's draw), each one model-checker action.
    max_byzantine_actions: Option<u32>,
    /// States with more messages in flight are not explored.
    max_in_flight: Option<u32>,
    /// Observation kinds (or `fault_fired`) some explored state must have seen.
    sometimes: Option<Vec<String>>,
    /// Search by this many seeded random walks instead of exhaustively.
    walks: Option<u64>,
    /// Actions per random walk at most (default 200).
    walk_depth: Option<u32>,
    /// A clock-reading protocol only (required for it): time passes in ticks of this
    /// many ms (`sim_core::check_clock`).
    tick_ms: Option<u64>,
    /// A clock-reading protocol only (required for it): no clock reads past this (ms).
    max_time_ms: Option<u64>,
    /// A clock-reading protocol only: no two clocks read further apart (ms, default 0).
    max_clock_skew_ms: Option<u64>,
}

/// A table schema that refuses fields it does not list.
fn closed(mut schema: Schema) -> Schema {
    schema.insert("additionalProperties".to_string(), false.into());
    schema
}

/// The roles of a protocol that declares none.
pub const DEFAULT_ROLES: &[RoleInfo] = &[RoleInfo {
    name: "node",
    colour: "#9ecae1",
    leader: false,
}];

/// An empty table: the `[params]` or `[check]` fields of a protocol that has none.
#[derive(Clone, Debug, Default, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}

impl<P: Protocol> Registration<P> {
    pub fn new(name: &'static str, description: &'static str) -> Registration<P> {
        Registration {
            name,
            description,
            roles: DEFAULT_ROLES,
            fault_bound: |_| FaultBound {
                crashed: 0,
                byzantine: 0,
            },
            workload: None,
            parse_op: None,
            history: None,
            trace_state: None,
            trace_sequences: Vec::new(),
            commits: None,
            applied: None,
            rpc_replies: &[],
            perturb: None,
            byzantine_strategies: Vec::new(),
            client_reply_quorum: None,
            epoch: None,
            message_kinds: &[],
            meter: None,
            state_items: None,
            reads_clock: false,
            mutants: Vec::new(),
            configure: None,
            params_schema: || schemars::schema_for!(NoFields),
            check: Box::new(|table| {
                reject_unknown::<NoFields>(&table, &[])?;
                Ok(Arc::new(|_: &P| true) as CheckFilter<P>)
            }),
            check_schema: || schemars::schema_for!(NoFields),
        }
    }

    /// The `[params]` table as a serde struct `T`, and how it becomes the configuration;
    /// `M` is the protocol's mutant set (`NoMutants` for none). Unknown fields are refused
    /// with the list of known ones (from `T`'s schema, so `#[serde(flatten)]` works).
    pub fn params<T, M>(
        mut self,
        build: fn(T, Setup<M>) -> Result<P::Config, ConfigError>,
    ) -> Registration<P>
    where
        T: DeserializeOwned + JsonSchema + 'static,
        M: MutantSet,
    {
        let name = self.name;
        self.mutants = M::ALL.iter().map(|(_, info)| *info).collect();
        self.params_schema = || schemars::schema_for!(T);
        self.configure = Some(Box::new(move |table, cluster_size, mutant| {
            let mutant = match mutant {
                None => None,
                Some(text) => Some(M::from_name(text).ok_or_else(|| {
                    let known: Vec<&str> = M::ALL.iter().map(|(_, info)| info.name).collect();
                    ConfigError {
                        field: "mutant".to_string(),
                        message: format!("{name} has no mutant called {text:?}"),
                        fix: if known.is_empty() {
                            format!("{name} has no mutants: remove `mutant`")
                        } else {
                            format!("use one of: {}", known.join(", "))
                        },
                    }
                })?),
            };
            reject_unknown::<T>(&table, &[])?;
            let params = deserialize_table::<T>(table)?;
            build(
                params,
                Setup {
                    cluster_size,
                    mutant,
                },
            )
        }));
        self
    }

    /// The protocol's own `[check]` fields as a serde struct `T` (beside the generic
    /// ones, `quorumlab schema` lists both), and the predicate that keeps an exhaustive
    /// check finite: states with a node outside it are not explored further.
    pub fn check_bounds<T>(mut self, within: fn(&T, &P) -> bool) -> Registration<P>
    where
        T: DeserializeOwned + JsonSchema + Send + Sync + 'static,
    {
        self.check_schema = || schemars::schema_for!(T);
        self.check = Box::new(move |table| {
            reject_unknown::<T>(&table, GENERIC_CHECK_FIELDS)?;
            let bounds = deserialize_table::<T>(table)?;
            Ok(Arc::new(move |node: &P| within(&bounds, node)) as CheckFilter<P>)
        });
        self
    }

    pub fn roles(mut self, roles: &'static [RoleInfo]) -> Registration<P> {
        assert!(
            !roles.is_empty(),
            "{}: a protocol has at least one role",
            self.name
        );
        assert!(
            roles.iter().filter(|role| role.leader).count() <= 1,
            "{}: at most one role is the leader role",
            self.name
        );
        let names: BTreeSet<&str> = roles.iter().map(|role| role.name).collect();
        assert_eq!(
            names.len(),
            roles.len(),
            "{}: duplicate role names",
            self.name
        );
        self.roles = roles;
        self
    }

    pub fn fault_bound(mut self, bound: fn(u32) -> FaultBound) -> Registration<P> {
        self.fault_bound = bound;
        self
    }

    pub fn workload(mut self, op: WorkloadFn<P>) -> Registration<P> {
        self.workload = Some(op);
        self
    }

    pub fn parse_op(mut self, parse: ParseOpFn<P>) -> Registration<P> {
        self.parse_op = Some(parse);
        self
    }

    pub fn history(mut self, hooks: HistoryHooks<P>) -> Registration<P> {
        self.history = Some(hooks);
        self
    }

    pub fn trace_state(mut self, state: fn(&P) -> serde_json::Value) -> Registration<P> {
        self.trace_state = Some(state);
        self
    }

    /// Add the field `field` to the traced state, read by `read` (a sequence that grows
    /// by appends and loses mostly suffixes), written as deltas in traces.
    pub fn trace_sequence(
        mut self,
        field: &'static str,
        read: fn(&P) -> Box<dyn crate::trace_delta::TracedSequence>,
    ) -> Registration<P> {
        self.trace_sequences.push(TraceSequence { field, read });
        self
    }

    /// How to read a commit from an observation (the committed-through index).
    pub fn commits(mut self, index: CommitFn<P>) -> Registration<P> {
        self.commits = Some(index);
        self
    }

    /// How to read what a node has applied (for `command_everywhere` checks).
    pub fn applied(mut self, hooks: AppliedHooks<P>) -> Registration<P> {
        self.applied = Some(hooks);
        self
    }

    /// The message kinds that are replies to a request (counted with it as one RPC).
    pub fn rpc_replies(mut self, kinds: &'static [&'static str]) -> Registration<P> {
        self.rpc_replies = kinds;
        self
    }

    pub fn perturb(mut self, hooks: PerturbHooks<P>) -> Registration<P> {
        self.perturb = Some(hooks);
        self
    }

    pub fn byzantine_strategy(mut self, strategy: ProtocolStrategy<P>) -> Registration<P> {
        assert!(
            crate::byzantine::Strategy::generic(strategy.name).is_none()
                && self
                    .byzantine_strategies
                    .iter()
                    .all(|s| s.name != strategy.name),
            "{}: strategy `{}` is declared twice",
            self.name,
            strategy.name
        );
        self.byzantine_strategies.push(strategy);
        self
    }

    pub fn client_reply_quorum(mut self, quorum: fn(&P::Config, u32) -> usize) -> Registration<P> {
        self.client_reply_quorum = Some(quorum);
        self
    }

    /// Every Byzantine strategy a scenario of this protocol may name, with its description.
    pub fn strategy_names(&self) -> Vec<(&'static str, &'static str)> {
        let mut names = crate::byzantine::GENERIC_STRATEGIES.to_vec();
        names.extend(
            self.byzantine_strategies
                .iter()
                .map(|s| (s.name, s.description)),
        );
        names
    }

    pub fn epoch(mut self, epoch: fn(&P) -> u64) -> Registration<P> {
        self.epoch = Some(epoch);
        self
    }

    pub fn message_kinds(mut self, kinds: &'static [&'static str]) -> Registration<P> {
        self.message_kinds = kinds;
        self
    }

    /// How a run's meter is built (`crate::meter`).
    pub fn meter(mut self, meter: MeterFn<P>) -> Registration<P> {
        self.meter = Some(meter);
        self
    }

    /// How many items of a node's state grow with the run (`budget.max_state_items`).
    pub fn state_items(mut self, count: fn(&P) -> u64) -> Registration<P> {
        self.state_items = Some(count);
        self
    }

    /// The protocol reads its node's local clock: the simulator gives every step
    /// `Ctx::local_clock_us` (real time with the node's skew and drift); the model
    /// checker refuses such protocols (it has no clock yet).
    pub fn reads_clock(mut self) -> Registration<P> {
        self.reads_clock = true;
        self
    }

    pub fn mutants(&self) -> &[MutantInfo] {
        &self.mutants
    }

    /// The role the leader-targeted faults and metric aim at, if the protocol has one.
    pub fn leader_role(&self) -> Option<&'static str> {
        self.roles
            .iter()
            .find(|role| role.leader)
            .map(|role| role.name)
    }

    /// Build the configuration from a scenario's `[params]` and the mutant name. Errors
    /// name the field as written under `[params]` (or `mutant`).
    pub fn configure(
        &self,
        params: toml::Table,
        cluster_size: u32,
        mutant: Option<&str>,
    ) -> Result<P::Config, ConfigError> {
        let configure = self.configure.as_ref().unwrap_or_else(|| {
            panic!(
                "internal error: the registration of `{}` has no `.params(...)`",
                self.name
            )
        });
        configure(params, cluster_size, mutant)
    }

    /// The protocol's bounds from a `[check]` table with the generic fields removed.
    pub fn check_filter(
        &self,
        protocol_fields: toml::Table,
    ) -> Result<CheckFilter<P>, ConfigError> {
        (self.check)(protocol_fields)
    }

    /// The JSON Schema of the `[params]` table (unknown fields refused, as `configure`
    /// refuses them).
    pub fn params_schema(&self) -> Schema {
        closed((self.params_schema)())
    }

    /// The JSON Schema of the whole `[check]` table: the generic bounds and the
    /// protocol's own.
    pub fn check_schema(&self) -> Schema {
        let mut schema = schemars::schema_for!(GenericCheckFields);
        let own = (self.check_schema)();
        if let Some(serde_json::Value::Object(own_properties)) = own.get("properties") {
            if let Some(properties) = schema
                .get_mut("properties")
                .and_then(serde_json::Value::as_object_mut)
            {
                properties.extend(own_properties.clone());
            }
        }
        if let Some(serde_json::Value::Object(defs)) = own.get("$defs") {
            schema.insert("$defs".to_string(), serde_json::Value::Object(defs.clone()));
        }
        closed(schema)
    }
}

/// The top-level field names a serde struct's schema declares (flattened ones included).
pub fn schema_fields<T: JsonSchema>() -> Vec<String> {
    let schema = schemars::schema_for!(T);
    let mut fields: Vec<String> = schema
        .get("properties")
        .and_then(|properties| properties.as_object())
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default();
    fields.sort();
    fields
}

/// Refuse a field that is neither one of `T`'s nor in `also_allowed`, listing the known ones.
fn reject_unknown<T: JsonSchema>(
    table: &toml::Table,
    also_allowed: &[&str],
) -> Result<(), ConfigError> {
    let known = schema_fields::<T>();
    for field in table.keys() {
        if !known.iter().any(|name| name == field) && !also_allowed.contains(&field.as_str()) {
            let mut all: Vec<&str> = known.iter().map(String::as_str).collect();
            all.extend(also_allowed);
            return Err(ConfigError {
                field: field.clone(),
                message: format!("unknown field `{field}`"),
                fix: if all.is_empty() {
                    "this table takes no fields: remove it".to_string()
                } else {
                    format!(
                        "remove it or correct its spelling; known fields: {}",
                        all.join(", ")
                    )
                },
            });
        }
    }
    Ok(())
}

/// A table as `T`, with the offending field named when serde can tell which it is.
fn deserialize_table<T: DeserializeOwned>(table: toml::Table) -> Result<T, ConfigError> {
    let single_field = (table.len() == 1)
        .then(|| table.keys().next().cloned())
        .flatten();
    T::deserialize(toml::Value::Table(table.clone())).map_err(|error| {
        let message = error.to_string().trim().to_string();
        // serde names a missing field; a wrong type is reported without one, so find the
        // field whose value alone fails.
        let field = quoted_name(&message)
            .filter(|_| message.contains("missing field"))
            .or(single_field)
            .or_else(|| first_bad_field::<T>(&table))
            .unwrap_or_else(|| "-".to_string());
        ConfigError {
            field,
            message,
            fix: "correct the value's type or range (`quorumlab schema --protocol NAME` lists \
                  every field)"
                .to_string(),
        }
    })
}

/// The first field of `table` that `T` refuses on its own (with the others removed).
fn first_bad_field<T: DeserializeOwned>(table: &toml::Table) -> Option<String> {
    table.iter().find_map(|(field, value)| {
        let mut alone = toml::Table::new();
        alone.insert(field.clone(), value.clone());
        T::deserialize(toml::Value::Table(alone))
            .err()
            .filter(|error| !error.to_string().contains("missing field"))
            .map(|_| field.clone())
    })
}

fn quoted_name(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generic_check_fields_are_the_schema_fields() {
        let mut listed: Vec<&str> = GENERIC_CHECK_FIELDS.to_vec();
        listed.sort_unstable();
        assert_eq!(schema_fields::<GenericCheckFields>(), listed);
    }
}
