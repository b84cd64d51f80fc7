//! `command_everywhere` checks (the syntax is `crate::run_checks`): the classic Raft
//! labs' "this command commits at the same index on every node, and is applied on all
//! of them within 2 s". After each step the node's newly applied commands are read
//! through the protocol's `Registration::applied` hooks; the first node to apply a
//! command fixes its index, every later one must apply it at the same index (a
//! violation at once), and each check waits for its deadline to see that every node it
//! requires has applied it (a liveness failure otherwise).
//!
//! Only a scenario with such a check has a `CommandTracker`; others read nothing.

use std::collections::{BTreeMap, BTreeSet};

use crate::protocol::*;
use crate::result::Verdict;
use crate::run_checks::{CheckRule, CheckSpec, CommandNodes};

use super::run_checks::members;
use super::Sim;

/// A client request: (client, request id).
type Command = (ClientId, u64);

/// What the `command_everywhere` checks of a run know about client commands.
pub(super) struct CommandTracker {
    /// When each request was first invoked.
    invoked: BTreeMap<Command, TimeUs>,
    /// Per node: the index through which its applied commands have been read (it goes
    /// back when a restarted node rebuilds its state from index 1).
    read_through: Vec<u64>,
    /// Every command some node applied.
    applied: BTreeMap<Command, Applied>,
    /// Per check (indexed like the scenario's checks; empty for other kinds): the
    /// applied commands it has yet to judge, by invocation time.
    pending: Vec<BTreeSet<(TimeUs, ClientId, u64)>>,
}

/// Where a command was applied.
struct Applied {
    /// The index the first node applied it at, and that node.
    index: u64,
    first: NodeId,
    /// The nodes that have applied it, as a bit set.
    by: u64,
}

impl CommandTracker {
    pub(super) fn new(specs: &[CheckSpec], nodes: u32) -> Option<CommandTracker> {
        specs
            .iter()
            .any(|spec| matches!(spec.rule, CheckRule::CommandEverywhere { .. }))
            .then(|| CommandTracker {
                invoked: BTreeMap::new(),
                read_through: vec![0; nodes as usize],
                applied: BTreeMap::new(),
                pending: vec![BTreeSet::new(); specs.len()],
            })
    }
}

impl CommandTracker {
    /// `node` applied `command` at `index`: the first node to apply a command fixes its
    /// index, and the command joins the pending commands of `checks`; a later node that
    /// applies it at another index breaks the check (the message says where). A node's
    /// second application (after a restart, or a retried request's second entry) is
    /// not judged again.
    fn record(
        &mut self,
        node: NodeId,
        index: u64,
        command: Command,
        all: u64,
        checks: &[usize],
    ) -> Option<String> {
        let bit = 1u64 << node.0;
        let invoked = self.invoked.get(&command).copied().unwrap_or(0);
        let applied = self.applied.entry(command).or_insert_with(|| {
            for &check in checks {
                self.pending[check].insert((invoked, command.0, command.1));
            }
            Applied {
                index,
                first: node,
                by: 0,
            }
        });
        if applied.by & bit != 0 {
            return None;
        }
        applied.by |= bit;
        let broken = (applied.index != index).then(|| {
            format!(
                "{node} applied client {}'s request {} at index {index}, but {} applied it at \
                 index {}",
                command.0, command.1, applied.first, applied.index
            )
        });
        if applied.by == all {
            for pending in &mut self.pending {
                pending.remove(&(invoked, command.0, command.1));
            }
        }
        broken
    }
}

impl<P: Protocol> Sim<'_, P> {
    /// A client invoked `request` (its retries keep the first invocation's time).
    pub(super) fn note_invoke(&mut self, client: ClientId, request: u64) {
        let now = self.now;
        if let Some(tracker) = self.command_tracker() {
            tracker.invoked.entry((client, request)).or_insert(now);
        }
    }

    fn command_tracker(&mut self) -> Option<&mut CommandTracker> {
        self.run_checks.as_mut()?.commands.as_mut()
    }

    /// After `node`'s step: read what it applied since last time. A command applied at
    /// another index than on the first node to apply it fails the run at once.
    pub(super) fn read_applied(&mut self, node: NodeId) {
        let Some(hooks) = self.prepared.registration.applied.as_ref() else {
            return;
        };
        let Some(state) = self.nodes[node.index()].as_ref() else {
            return;
        };
        let through = (hooks.applied_through)(state);
        let specs = &self.prepared.scenario.file.checks;
        let Some(tracker) = self.run_checks.as_mut().and_then(|c| c.commands.as_mut()) else {
            return;
        };
        let read = &mut tracker.read_through[node.index()];
        *read = (*read).min(through);
        let from = *read + 1;
        *read = through;
        let all = all_nodes(self.cluster_size);
        let checks: Vec<usize> = specs
            .iter()
            .enumerate()
            .filter(|(_, spec)| matches!(spec.rule, CheckRule::CommandEverywhere { .. }))
            .map(|(check, _)| check)
            .collect();
        let mut broken = None;
        for index in from..=through {
            let Some(command) = (hooks.command_at)(state, index) else {
                continue;
            };
            let detail = tracker.record(node, index, command, all, &checks);
            broken = broken.or(detail);
        }
        if let Some(detail) = broken {
            let property = specs
                .iter()
                .find(|spec| matches!(spec.rule, CheckRule::CommandEverywhere { .. }))
                .expect("a tracker exists only with such a check")
                .property();
            self.fail(Verdict::Violation, property, detail);
        }
    }

    /// After every event, for the `command_everywhere` check at `check`: the commands
    /// whose deadline has passed must be on every required node. `majority` is the
    /// connected majority and `formed` when it formed (or the window opened, if later).
    pub(super) fn judge_commands(
        &mut self,
        check: usize,
        within_ms: u64,
        nodes: CommandNodes,
        (majority, formed): (u64, TimeUs),
    ) -> Option<String> {
        let all = all_nodes(self.cluster_size);
        let required = match nodes {
            CommandNodes::Connected => majority,
            CommandNodes::All if majority == all => all,
            CommandNodes::All => 0,
        };
        if required == 0 {
            return None; // the clock waits for the nodes it needs
        }
        let now = self.now;
        let tracker = self.run_checks.as_mut()?.commands.as_mut()?;
        while let Some(&(invoked, client, request)) = tracker.pending[check].first() {
            let deadline = invoked.max(formed) + within_ms * 1000;
            if now <= deadline {
                return None;
            }
            let applied = &tracker.applied[&(client, request)];
            let missing = required & !applied.by;
            if missing != 0 {
                return Some(format!(
                    "client {client}'s request {request}, invoked at {invoked} us and applied \
                     at index {} (first by {}), was not applied by {} at {now} us, more than \
                     {within_ms} ms after it was invoked with {} connected (since {formed} us); \
                     applied by {}",
                    applied.index,
                    applied.first,
                    members(missing),
                    members(majority),
                    members(applied.by),
                ));
            }
            tracker.pending[check].pop_first();
        }
        None
    }
}

/// The bit set of every node of a cluster of `n` (1..=64).
fn all_nodes(n: u32) -> u64 {
    u64::MAX >> (64 - n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker() -> CommandTracker {
        CommandTracker {
            invoked: BTreeMap::from([((0, 7), 1000)]),
            read_through: vec![0; 3],
            applied: BTreeMap::new(),
            pending: vec![BTreeSet::new()],
        }
    }

    /// The "same index on every node" half, alone: each node's applied sequence is
    /// consistent (no other command shares an index), as a duplicated entry of a retried
    /// request would leave it, yet n2 applies client 0's request 7 at index 5 where n0
    /// and n1 applied it at index 3. (`state_machine_safety` fires first on Raft's
    /// mutants, so no mutant shows this half.)
    #[test]
    fn a_command_applied_at_another_index_is_reported_with_both_indexes() {
        let all = all_nodes(3);
        let mut tracker = tracker();
        assert_eq!(tracker.record(NodeId(0), 3, (0, 7), all, &[0]), None);
        assert!(tracker.pending[0].contains(&(1000, 0, 7)));
        assert_eq!(tracker.record(NodeId(1), 3, (0, 7), all, &[0]), None);
        // n1 applying the retried request's second entry is not judged again.
        assert_eq!(tracker.record(NodeId(1), 5, (0, 7), all, &[0]), None);
        let broken = tracker.record(NodeId(2), 5, (0, 7), all, &[0]);
        assert_eq!(
            broken.as_deref(),
            Some("n2 applied client 0's request 7 at index 5, but n0 applied it at index 3")
        );
        assert!(
            tracker.pending[0].is_empty(),
            "applied by all: judged no longer"
        );
    }

    #[test]
    fn a_command_at_the_same_index_everywhere_passes() {
        let all = all_nodes(3);
        let mut tracker = tracker();
        for node in 0..3 {
            assert_eq!(tracker.record(NodeId(node), 4, (0, 7), all, &[0]), None);
        }
        assert!(tracker.pending[0].is_empty());
    }
}
