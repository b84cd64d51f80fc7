//! The replicated state machine under Raft (Ongaro & Ousterhout 2014, §2 and §5.3:
//! "each server stores a log containing a series of commands, which its state machine
//! executes in order").
//!
//! Raft itself only orders opaque commands; a `StateMachine` says what a command is, how a
//! client operation becomes one, and what applying it in log order does. Every node applies
//! its committed prefix, in index order, exactly once per incarnation: after a restart the
//! commit index starts at 0 and the machine is rebuilt from the (persisted) log as commits
//! are learnt again. The leader answers a client with the output of applying its entry.
//!
//! Two machines exist: `ValueLog` (the `raft` protocol: a log of opaque u64 values, no
//! state, which keeps that protocol's behaviour exactly what it was before machines
//! existed) and `kv::KvMachine` (the `kv` protocol).

use std::fmt::Debug;
use std::hash::Hash;

use serde::Serialize;
use sim_core::lincheck::{ModelKind, OperationInput, OperationOutput};
use sim_core::ClientId;

/// A log entry's command: it goes on the wire, so it has a size.
pub trait MachineCommand:
    Clone + Debug + Hash + Eq + Ord + Serialize + Send + Sync + 'static
{
    /// Bytes on the wire (the bandwidth model).
    fn size_bytes(&self) -> u32;

    /// What a leader's no-op entry carries (`noop_on_election`); never applied.
    fn noop() -> Self;
}

impl MachineCommand for u64 {
    fn size_bytes(&self) -> u32 {
        8
    }

    fn noop() -> u64 {
        0
    }
}

/// What applying a command returns to a client.
pub trait MachineOutput: Clone + Debug + Hash + Eq + Serialize + Send + Sync + 'static {}

impl<T: Clone + Debug + Hash + Eq + Serialize + Send + Sync + 'static> MachineOutput for T {}

/// A deterministic state machine replicated by Raft. `apply` is a pure function of the
/// machine's state and the command; every node applies the same commands in the same
/// order, so every node's machine passes through the same states (State Machine Safety).
pub trait StateMachine: Clone + Debug + Default + Hash + Eq + Ord + Send + Sync + 'static {
    /// The machine's validated parameters (workload shape, mutant switches).
    type Config: Clone + Debug + Default + Hash + Eq + Send + Sync + 'static;
    /// What a client sends.
    type Op: Clone + Debug + Hash + Eq + Serialize + Send + Sync + 'static;
    /// What a log entry carries.
    type Command: MachineCommand;
    /// What applying a command returns to the client that sent it.
    type Output: MachineOutput;

    /// The `seq`-th operation of `client`, decided by `draw` (from the workload stream).
    fn client_op(config: &Self::Config, client: ClientId, seq: u64, draw: u64) -> Self::Op;

    /// An operation written out in a scenario (`[[workload.ops]] op = "..."`) as
    /// `client`'s `seq`-th request; `Err` says what the text should look like.
    fn parse_op(
        config: &Self::Config,
        client: ClientId,
        seq: u64,
        text: &str,
    ) -> Result<Self::Op, String>;

    /// The log command for a client operation.
    fn command(op: &Self::Op) -> Self::Command;

    /// The machine holds no state: `apply` changes nothing, so a restarted node has
    /// nothing to rebuild and skips re-applying the log up to the first entry a client
    /// waits for (re-applying a long log on every restart was the one cost of a run
    /// without snapshots that grew with the run's length).
    const HOLDS_NO_STATE: bool = false;

    /// Apply a committed command, in log order. `client` and `request` identify the
    /// request that proposed it (a retried request proposes the same pair again).
    fn apply(
        &mut self,
        config: &Self::Config,
        client: ClientId,
        request: u64,
        command: &Self::Command,
    ) -> Self::Output;

    /// The size of a snapshot of this state on the wire (InstallSnapshot, the bandwidth
    /// model).
    fn snapshot_bytes(&self) -> u64;

    /// For the stale-read mutant only: a read-only operation answered from this node's
    /// current state, without going through the log. `None` if `op` is not a read.
    fn read_locally(&self, op: &Self::Op) -> Option<Self::Output>;

    /// A service bug on Raft's request path (kv's `stale-read`): every node answers reads
    /// with `read_locally`, without a log round or a quorum check.
    fn reads_locally_without_quorum(_config: &Self::Config) -> bool {
        false
    }

    /// A service bug on Raft's request path (kv's `reply-before-commit`): the leader
    /// answers once the entry is in its own log, before it commits.
    fn replies_before_commit(_config: &Self::Config) -> bool {
        false
    }

    /// The sequential model client histories must linearize against, if the machine
    /// defines one; then the simulator checks every run's history against it.
    fn history_model() -> Option<ModelKind> {
        None
    }

    /// An operation in the history checker's vocabulary: its key and input.
    fn history_input(_op: &Self::Op) -> Option<(Option<String>, OperationInput)> {
        None
    }

    /// An output in the history checker's vocabulary.
    fn history_output(_op: &Self::Op, _output: &Self::Output) -> Option<OperationOutput> {
        None
    }
}

/// A client command of the `raft` protocol: the value to append to the replicated log.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Serialize)]
pub struct RaftOp {
    pub value: u64,
}

/// The `raft` protocol's machine: the log of opaque values is the whole point, so
/// applying a value changes nothing and answers nothing beyond "committed at index".
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct ValueLog;

impl StateMachine for ValueLog {
    type Config = ();
    type Op = RaftOp;
    type Command = u64;
    type Output = ();

    const HOLDS_NO_STATE: bool = true;

    fn client_op(_config: &(), client: ClientId, seq: u64, draw: u64) -> RaftOp {
        // Any value will do; mixing in client and seq keeps values distinct in traces.
        RaftOp {
            value: draw ^ (u64::from(client) << 48) ^ seq,
        }
    }

    fn parse_op(_config: &(), _client: ClientId, _seq: u64, text: &str) -> Result<RaftOp, String> {
        text.trim()
            .parse()
            .map(|value| RaftOp { value })
            .map_err(|_| "write the value to append, a number: e.g. `op = \"42\"`".to_string())
    }

    fn command(op: &RaftOp) -> u64 {
        op.value
    }

    fn apply(&mut self, _config: &(), _client: ClientId, _request: u64, _command: &u64) {}

    fn snapshot_bytes(&self) -> u64 {
        0
    }

    fn read_locally(&self, _op: &RaftOp) -> Option<()> {
        None
    }
}
