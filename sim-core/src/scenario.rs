//! Scenario files: what a run simulates (cluster, network, faults, workload, properties)
//! and what it must show (`expect`). Parsing is strict: an unknown field or a bad value
//! is a `ScenarioError` naming the file, the line, the field and the fix.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::network::NetworkSpec;

/// A scenario, parsed and validated (but not yet bound to a protocol).
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The path it was loaded from, as given.
    pub path: PathBuf,
    pub source: String,
    pub file: ScenarioFile,
}

/// The TOML layout of a scenario file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// A short name; defaults to the file stem.
    pub name: Option<String>,
    /// The protocol, as listed by `quorumlab list protocols`.
    pub protocol: String,
    /// Cluster size.
    pub nodes: u32,
    /// Length of the fault phase. With a `[liveness]` table, everything heals at this
    /// point and the liveness window follows.
    pub duration_ms: u64,
    /// Seeds `quorumlab test` runs: `"A..B"` (both ends included) or a count `N` (1..N).
    pub seeds: Option<SeedsSpec>,
    /// `"pass"`, or the property (or verdict) that must be violated.
    #[serde(default = "default_expect")]
    pub expect: String,
    pub mutant: Option<String>,
    #[serde(default)]
    pub exceed_fault_bound: bool,
    #[serde(default)]
    pub synchrony: Synchrony,
    #[serde(default)]
    pub network: NetworkSpec,
    /// The explicit fault schedule: `[[faults]]` entries.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    pub nemesis: Option<NemesisSpec>,
    /// Swarm testing: each seed switches nemesis kinds on or off and picks strengths.
    #[serde(default)]
    pub swarm: bool,
    pub workload: Option<WorkloadSpec>,
    pub liveness: Option<LivenessSpec>,
    /// Observation kinds (or `fault_fired`) that must occur at least once per run.
    #[serde(default)]
    pub sometimes: Vec<String>,
    #[serde(default)]
    pub budget: BudgetSpec,
    /// Upper bounds on what a run may cost, checked at its end.
    pub bounds: Option<BoundsSpec>,
    /// The protocol's own parameters.
    #[serde(default)]
    pub params: toml::Table,
    /// Bounds for the exhaustive model checker (`quorumlab check`).
    pub check: Option<toml::Table>,
    /// A decision tape (see `tape.rs`): the run takes its network, timer and workload
    /// decisions from it instead of the seed's streams. `quorumlab shrink` writes one.
    pub tape: Option<crate::tape::TapeSpec>,
    /// The tape as a file (`tape.json` of `quorumlab run --tape`), relative to the
    /// scenario file; loaded into `tape` when the scenario is parsed.
    pub tape_file: Option<String>,
}

fn default_true() -> bool {
    true
}

fn default_expect() -> String {
    "pass".to_string()
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SeedsSpec {
    Count(u64),
    Range(String),
}

/// The synchrony model (Dwork–Lynch–Stockmeyer): what the network promises.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Synchrony {
    /// Every delay is within the network's `bound_us`, always; no loss.
    Synchronous,
    /// Arbitrary delays and losses until GST (the heal point), bounded by `bound_us` after.
    #[default]
    Partial,
    /// No bound ever: the network keeps its configured behaviour through the liveness
    /// window (so liveness properties are not expected to hold).
    Asynchronous,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// When, in ms (or `at_us` in microseconds: exactly one of the two).
    pub at_ms: Option<u64>,
    pub at_us: Option<u64>,
    pub action: String,
    /// A node id, or `"leader"` (a node whose role is leader at that moment).
    pub node: Option<NodeSelector>,
    pub groups: Option<Vec<Vec<u32>>>,
    pub from: Option<Vec<u32>>,
    pub to: Option<Vec<u32>>,
    pub duration_ms: Option<u64>,
    pub duration_us: Option<u64>,
    pub per_million: Option<u32>,
    pub extra_latency_us: Option<u64>,
    pub drift_ppm: Option<i64>,
}

impl FaultSpec {
    /// When the fault fires, in microseconds.
    pub fn at(&self) -> u64 {
        self.at_us.unwrap_or(self.at_ms.unwrap_or(0) * 1000)
    }

    /// How long until it is reverted, in microseconds, if it is.
    pub fn duration(&self) -> Option<u64> {
        self.duration_us.or(self.duration_ms.map(|ms| ms * 1000))
    }
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum NodeSelector {
    Id(u32),
    Role(String),
}

/// The fault kinds a random nemesis (and swarm mode) may choose from.
pub const NEMESIS_KINDS: &[&str] = &[
    "crash",
    "crash_leader",
    "crash_after_persist",
    "partition",
    "loss",
    "duplicate",
    "delay",
    "send_omission",
    "receive_omission",
    "clock_drift",
];

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NemesisSpec {
    /// Fault kinds to draw from (see `NEMESIS_KINDS`).
    pub kinds: Vec<String>,
    /// Time between nemesis actions, drawn uniformly.
    #[serde(default = "default_nemesis_interval")]
    pub interval_ms: [u64; 2],
    /// How long each action lasts before it is reverted, drawn uniformly.
    #[serde(default = "default_nemesis_duration")]
    pub duration_ms: [u64; 2],
    #[serde(default = "default_loss")]
    pub loss_per_million: u32,
    #[serde(default = "default_duplicate")]
    pub duplicate_per_million: u32,
    #[serde(default = "default_extra_latency")]
    pub extra_latency_us: u64,
    #[serde(default = "default_drift")]
    pub drift_ppm_max: i64,
}

fn default_nemesis_interval() -> [u64; 2] {
    [200, 1000]
}
fn default_nemesis_duration() -> [u64; 2] {
    [100, 2000]
}
fn default_loss() -> u32 {
    300_000
}
fn default_duplicate() -> u32 {
    200_000
}
fn default_extra_latency() -> u64 {
    50_000
}
fn default_drift() -> i64 {
    200_000
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub clients: u32,
    /// Think time between a client's operations, drawn uniformly.
    #[serde(default = "default_client_interval")]
    pub interval_ms: [u64; 2],
    /// A request not answered within this is retried (same request id) at another node.
    #[serde(default = "default_client_timeout")]
    pub timeout_ms: u64,
    /// Wait before retrying after a redirect without a leader hint.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// An explicit list of operations instead of random ones (what `shrink` writes): each
    /// is invoked at `at_us` by `client` (or, if that client is busy, as soon as its
    /// outstanding operation completes), with `draw` as the operation's random input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ops: Option<Vec<ClientOpSpec>>,
}

/// One scheduled client operation.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClientOpSpec {
    pub at_us: u64,
    pub client: u32,
    pub draw: u64,
}

fn default_client_interval() -> [u64; 2] {
    [10, 100]
}
fn default_client_timeout() -> u64 {
    500
}
fn default_backoff() -> u64 {
    20
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LivenessSpec {
    /// After the heal at `duration_ms`, every condition must hold within this window.
    pub within_ms: u64,
    /// `false`: do not heal at `duration_ms` (faults stay as they are), to show that a
    /// condition cannot hold without a quorum.
    #[serde(default = "default_true")]
    pub heal: bool,
    /// Conditions: `client_progress` (an operation invoked after the heal completes),
    /// or one the protocol defines (`quorumlab list invariants`).
    pub require: Vec<String>,
}

/// Cost bounds (the `[bounds]` table), checked when the run ends, like the classic Raft
/// labs' RPC-count tests: a run that exceeds one fails with property `bounds.<field>`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BoundsSpec {
    /// Messages sent over the whole run.
    pub max_messages: Option<u64>,
    /// Messages sent per client operation that completed ok.
    pub max_messages_per_committed_op: Option<f64>,
    /// Times any node became leader.
    pub max_leader_changes: Option<u64>,
    /// The slowest ok client operation, invoke to completion.
    pub max_client_latency_ms: Option<u64>,
}

impl BoundsSpec {
    /// The first bound `metrics` exceed, as (`bounds.<field>`, what happened).
    pub fn first_exceeded(&self, metrics: &crate::result::Metrics) -> Option<(String, String)> {
        let ok = metrics.client_ops_ok;
        let per_op = crate::stats::ratio(metrics.messages_sent, ok);
        let latency_max_ms = metrics.client_latency_us_max.div_ceil(1000);
        let exceeded = |name: &str, detail: String| Some((format!("bounds.{name}"), detail));
        if let Some(max) = self.max_messages.filter(|&max| metrics.messages_sent > max) {
            return exceeded(
                "max_messages",
                format!(
                    "{} messages sent; the bound is {max}",
                    metrics.messages_sent
                ),
            );
        }
        if let Some(max) = self.max_messages_per_committed_op {
            if ok == 0 || per_op > max {
                return exceeded(
                    "max_messages_per_committed_op",
                    format!(
                        "{} messages for {ok} committed operations ({per_op:.2} per op); the bound is {max}",
                        metrics.messages_sent
                    ),
                );
            }
        }
        if let Some(max) = self
            .max_leader_changes
            .filter(|&max| metrics.leader_changes > max)
        {
            return exceeded(
                "max_leader_changes",
                format!(
                    "{} leader changes; the bound is {max}",
                    metrics.leader_changes
                ),
            );
        }
        if let Some(max) = self
            .max_client_latency_ms
            .filter(|&max| latency_max_ms > max)
        {
            return exceeded(
                "max_client_latency_ms",
                format!("the slowest ok operation took {latency_max_ms} ms; the bound is {max}"),
            );
        }
        None
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Events one run may process; more is a `budget` failure, never a hang.
    #[serde(default = "default_max_events")]
    pub max_events: u64,
}

impl Default for BudgetSpec {
    fn default() -> Self {
        BudgetSpec {
            max_events: default_max_events(),
        }
    }
}

fn default_max_events() -> u64 {
    1_000_000
}

/// A bad scenario: where, what, and how to fix it. Maps to exit code 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": field `{}`: {}", self.field, self.message)?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let source = std::fs::read_to_string(path).map_err(|error| ScenarioError {
            file: path.display().to_string(),
            line: None,
            field: "-".to_string(),
            message: format!("cannot read the file: {error}"),
            fix: "check the path (`quorumlab list scenarios` shows the bundled ones)".to_string(),
        })?;
        Scenario::parse(path, source)
    }

    pub fn parse(path: &Path, source: String) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile = toml::from_str(&source).map_err(|error| {
            let line = error.span().map(|span| line_of_offset(&source, span.start));
            let message = error.message().to_string();
            let names_field =
                message.starts_with("unknown field") || message.starts_with("missing field");
            let field = names_field
                .then(|| field_from_message(&message))
                .flatten()
                .or_else(|| error.span().map(|span| dotted_key_at(&source, span.start)))
                .unwrap_or_else(|| "-".to_string());
            let fix = if message.contains("unknown field") {
                "remove the field or correct its spelling (the message lists the known ones)"
            } else if message.contains("missing field") {
                "add the field (see README.md, \"Scenario files\")"
            } else {
                "correct the value's type or range (see README.md, \"Scenario files\")"
            };
            ScenarioError {
                file: path.display().to_string(),
                line,
                field,
                message,
                fix: fix.to_string(),
            }
        })?;
        let mut scenario = Scenario {
            path: path.to_path_buf(),
            source,
            file,
        };
        scenario.load_tape_file()?;
        scenario.validate()?;
        Ok(scenario)
    }

    /// A scenario built in memory (by `quorumlab shrink`, thousands of times), validated
    /// like a parsed one but without a TOML round trip; its source is empty.
    pub fn from_file(path: &Path, file: ScenarioFile) -> Result<Scenario, ScenarioError> {
        let scenario = Scenario {
            path: path.to_path_buf(),
            source: String::new(),
            file,
        };
        scenario.validate()?;
        Ok(scenario)
    }

    /// Read `tape_file` (relative to the scenario's folder) into `tape`.
    fn load_tape_file(&mut self) -> Result<(), ScenarioError> {
        let Some(relative) = &self.file.tape_file else {
            return Ok(());
        };
        if self.file.tape.is_some() {
            return Err(self.error(
                "tape_file",
                "both `tape_file` and a `[tape]` table are given",
                "keep one of them",
            ));
        }
        let path = self.path.parent().unwrap_or(Path::new(".")).join(relative);
        let text = std::fs::read_to_string(&path).map_err(|error| {
            self.error(
                "tape_file",
                format!("cannot read {}: {error}", path.display()),
                "give a path relative to the scenario file (e.g. `tape_file = \"tape.json\"`)",
            )
        })?;
        let tape = serde_json::from_str(&text).map_err(|error| {
            self.error(
                "tape_file",
                format!("{} is not a tape: {error}", path.display()),
                "use a tape.json written by `quorumlab run --tape`",
            )
        })?;
        self.file.tape = Some(tape);
        Ok(())
    }

    pub fn name(&self) -> String {
        self.file.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }

    /// An error about `field`, located at the first line that mentions it.
    pub fn error(
        &self,
        field: &str,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> ScenarioError {
        let key = field.rsplit(['.', ']']).next().unwrap_or(field);
        ScenarioError {
            file: self.path.display().to_string(),
            line: find_key_line(&self.source, key),
            field: field.to_string(),
            message: message.into(),
            fix: fix.into(),
        }
    }

    /// Seeds `quorumlab test` runs, from the file's `seeds` field (default 1..=20).
    pub fn test_seeds(&self) -> Result<SeedRange, ScenarioError> {
        match &self.file.seeds {
            None => Ok(SeedRange { first: 1, last: 20 }),
            Some(SeedsSpec::Count(count)) if *count > 0 => Ok(SeedRange {
                first: 1,
                last: *count,
            }),
            Some(SeedsSpec::Count(_)) => Err(self.error(
                "seeds",
                "a count of 0 seeds runs nothing",
                "write e.g. `seeds = 50`",
            )),
            Some(SeedsSpec::Range(text)) => SeedRange::parse(text)
                .map_err(|message| self.error("seeds", message, "write e.g. `seeds = \"1..200\"`")),
        }
    }

    /// Checks that need no protocol. Protocol-specific checks happen when it is bound.
    fn validate(&self) -> Result<(), ScenarioError> {
        let file = &self.file;
        if file.nodes == 0 || file.nodes > 64 {
            return Err(self.error(
                "nodes",
                format!("{} nodes is out of range", file.nodes),
                "use 1 to 64 nodes",
            ));
        }
        if file.duration_ms == 0 {
            return Err(self.error(
                "duration_ms",
                "a run of 0 ms simulates nothing",
                "write e.g. `duration_ms = 10000`",
            ));
        }
        self.test_seeds()?;
        self.file
            .network
            .validate(file.nodes)
            .map_err(|(field, message, fix)| self.error(&field, message, fix))?;
        for (index, fault) in file.faults.iter().enumerate() {
            crate::faults::FaultAction::from_spec(fault, file.nodes).map_err(
                |(field, message, fix)| {
                    self.error(&format!("faults[{index}].{field}"), message, fix)
                },
            )?;
            if fault.at_ms.is_some() == fault.at_us.is_some() {
                return Err(self.error(
                    &format!("faults[{index}].at_ms"),
                    "a fault needs exactly one of `at_ms` and `at_us`",
                    "write e.g. `at_ms = 1000`",
                ));
            }
            if fault.duration_ms.is_some() && fault.duration_us.is_some() {
                return Err(self.error(
                    &format!("faults[{index}].duration_ms"),
                    "both `duration_ms` and `duration_us` are set",
                    "keep one of them",
                ));
            }
            if fault.at() > file.duration_ms * 1000 {
                return Err(self.error(
                    &format!("faults[{index}].at_ms"),
                    format!(
                        "the fault at {} us is after the fault phase ends (duration_ms = {})",
                        fault.at(),
                        file.duration_ms
                    ),
                    "schedule faults within duration_ms, or raise duration_ms",
                ));
            }
        }
        if let Some(tape) = &file.tape {
            let clients = file.workload.as_ref().map_or(0, |w| w.clients);
            tape.check_bounds(file.nodes, clients).map_err(|message| {
                self.error(
                    "tape",
                    message,
                    "remove the entry, or raise `nodes` or `workload.clients`",
                )
            })?;
        }
        if let Some(nemesis) = &file.nemesis {
            for kind in &nemesis.kinds {
                if !NEMESIS_KINDS.contains(&kind.as_str()) {
                    return Err(self.error(
                        "nemesis.kinds",
                        format!("unknown fault kind `{kind}`"),
                        format!("use some of: {}", NEMESIS_KINDS.join(", ")),
                    ));
                }
            }
            for (field, [min, max]) in [
                ("interval_ms", nemesis.interval_ms),
                ("duration_ms", nemesis.duration_ms),
            ] {
                if min > max || max == 0 {
                    return Err(self.error(
                        &format!("nemesis.{field}"),
                        format!("[{min}, {max}] is not a range with min <= max and max > 0"),
                        format!("write e.g. `{field} = [200, 1000]`"),
                    ));
                }
            }
            if nemesis.loss_per_million > 1_000_000 || nemesis.duplicate_per_million > 1_000_000 {
                return Err(self.error(
                    "nemesis.loss_per_million",
                    "a probability above 1,000,000 per million",
                    "use 0..=1000000",
                ));
            }
        }
        if let Some(workload) = &file.workload {
            let [min, max] = workload.interval_ms;
            if min > max {
                return Err(self.error(
                    "workload.interval_ms",
                    format!("[{min}, {max}]: min > max"),
                    "write e.g. `interval_ms = [10, 100]`",
                ));
            }
            for (index, op) in workload.ops.iter().flatten().enumerate() {
                if op.client >= workload.clients {
                    return Err(self.error(
                        &format!("workload.ops[{index}].client"),
                        format!(
                            "client {} does not exist (clients = {})",
                            op.client, workload.clients
                        ),
                        format!("use a client below {}", workload.clients),
                    ));
                }
            }
            if workload.timeout_ms == 0 {
                return Err(self.error(
                    "workload.timeout_ms",
                    "a timeout of 0 ms retries forever",
                    "write e.g. `timeout_ms = 500`",
                ));
            }
        }
        if let Some(liveness) = &file.liveness {
            if liveness.within_ms == 0 {
                return Err(self.error(
                    "liveness.within_ms",
                    "a window of 0 ms",
                    "write e.g. `within_ms = 5000`",
                ));
            }
            if liveness
                .require
                .iter()
                .any(|name| name == "client_progress")
                && file.workload.is_none()
            {
                return Err(self.error(
                    "liveness.require",
                    "`client_progress` needs clients",
                    "add a [workload] table, or drop `client_progress`",
                ));
            }
        }
        if file.budget.max_events == 0 {
            return Err(self.error(
                "budget.max_events",
                "a budget of 0 events",
                "write e.g. `max_events = 5000000`",
            ));
        }
        Ok(())
    }
}

/// An inclusive range of seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRange {
    pub first: u64,
    pub last: u64,
}

impl SeedRange {
    /// `"A..B"` or `"A..=B"` (both include B), or a single seed `"N"`.
    pub fn parse(text: &str) -> Result<SeedRange, String> {
        let text = text.trim();
        let parse = |part: &str| {
            part.trim()
                .replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("`{part}` is not a seed (a non-negative integer)"))
        };
        let (first, last) = match text.split_once("..") {
            Some((first, last)) => (parse(first)?, parse(last.trim_start_matches('='))?),
            None => {
                let seed = parse(text)?;
                (seed, seed)
            }
        };
        if first > last {
            return Err(format!("`{text}`: the first seed is after the last"));
        }
        Ok(SeedRange { first, last })
    }

    pub fn len(&self) -> u64 {
        self.last - self.first + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

fn line_of_offset(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// The key written on the line of `offset`, prefixed by its table (`network.latency`),
/// for errors toml reports by position.
fn dotted_key_at(source: &str, offset: usize) -> String {
    let before = &source[..offset.min(source.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = source[line_start..].lines().next().unwrap_or("");
    let key = line
        .split('=')
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches(['[', ']'])
        .to_string();
    let table = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|header| header.trim_matches(['[', ']']).trim().to_string());
    match table {
        Some(table) if !line.trim_start().starts_with('[') => format!("{table}.{key}"),
        _ => key,
    }
}

fn field_from_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

/// The first line whose key is `key` (`key = ...`), or a table header naming it.
fn find_key_line(source: &str, key: &str) -> Option<usize> {
    source
        .lines()
        .position(|line| {
            let line = line.trim_start();
            if line.starts_with('#') {
                return false;
            }
            let head = line.split('=').next().unwrap_or("").trim();
            head == key || head.trim_matches(['[', ']']).rsplit('.').next() == Some(key)
        })
        .map(|index| index + 1)
}
