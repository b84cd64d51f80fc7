//! Primary-backup's checker. Ghost state: the node that took up the primary's role in
//! each view, and per client the last write a primary acknowledged. From these: at most
//! one primary per view, over the whole run (split brain), and a node that takes up the
//! primary's role holds every write acknowledged so far (a promotion loses nothing). The
//! client history's linearizability is checked at the end of the run, as for kv.

use std::collections::BTreeMap;

use sim_core::{Checker, ClientId, Effect, NodeId, NodesView, PropertyInfo, Violation};

use super::{PbObs, PbReply, PrimaryBackup, Server, View, VIEW_SERVICE};
use crate::kv::KvOutput;

pub const ONE_PRIMARY_PER_VIEW: &str = "one_primary_per_view";
pub const ACKNOWLEDGED_SURVIVE: &str = "acknowledged_survive";
pub const SERVING: &str = "serving";

const PROPERTIES: &[PropertyInfo] = &[
    PropertyInfo {
        name: ONE_PRIMARY_PER_VIEW,
        description: "at most one node takes up the primary's role in each view number, \
                      over the whole run (no split brain)",
    },
    PropertyInfo {
        name: ACKNOWLEDGED_SURVIVE,
        description: "a node that takes up the primary's role holds every write a primary \
                      acknowledged to a client before (a promotion loses no acknowledged \
                      write)",
    },
];

const LIVENESS: &[PropertyInfo] = &[PropertyInfo {
    name: SERVING,
    description: "the view service is up, its view is acknowledged, and that view's primary \
                  is up, holds the view and is ready (its backup has its state)",
}];

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct PrimaryBackupChecker {
    primaries: BTreeMap<u64, NodeId>,
    /// Per client, the highest request id of a write a primary acknowledged. (A client
    /// has one request outstanding, so a machine whose session for the client reached
    /// it has applied every earlier one too.)
    acknowledged: BTreeMap<ClientId, u64>,
}

impl PrimaryBackupChecker {
    fn one_primary(&mut self, stepped: NodeId, view: View) -> Result<(), Violation> {
        let first = *self.primaries.entry(view.number).or_insert(stepped);
        if first == stepped {
            return Ok(());
        }
        Err(Violation::new(
            ONE_PRIMARY_PER_VIEW,
            format!(
                "{stepped} takes up the primary's role in view {} ({view:?}), where {first} \
                 already serves as primary",
                view.number
            ),
        ))
    }

    fn holds_acknowledged(&self, stepped: NodeId, server: &Server) -> Result<(), Violation> {
        let machine = &server.durable.machine;
        for (&client, &request) in &self.acknowledged {
            let last = machine.last_request(client);
            if last.is_some_and(|last| last >= request) {
                continue;
            }
            return Err(Violation::new(
                ACKNOWLEDGED_SURVIVE,
                format!(
                    "{stepped} takes up the primary's role in view {} without client \
                     {client}'s acknowledged write {request} (its machine's last request \
                     from that client: {last:?})",
                    server.durable.view.number
                ),
            ));
        }
        Ok(())
    }
}

impl Checker<PrimaryBackup> for PrimaryBackupChecker {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn on_effect(&mut self, _stepped: NodeId, effect: &Effect<PrimaryBackup>) {
        let Effect::Reply {
            client,
            request,
            reply: PbReply::Done { output, .. },
        } = effect
        else {
            return;
        };
        // A get changes nothing a promotion could lose.
        if matches!(output, KvOutput::Value { .. }) {
            return;
        }
        let last = self.acknowledged.entry(*client).or_insert(*request);
        *last = (*last).max(*request);
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, PrimaryBackup>,
        stepped: NodeId,
        observations: &[PbObs],
    ) -> Result<(), Violation> {
        for observation in observations {
            if let PbObs::Primary { view } = observation {
                self.one_primary(stepped, *view)?;
                if let Some(server) = nodes[stepped.index()]
                    .as_ref()
                    .and_then(PrimaryBackup::server)
                {
                    self.holds_acknowledged(stepped, server)?;
                }
            }
        }
        Ok(())
    }

    fn check_all(&self, nodes: NodesView<'_, PrimaryBackup>) -> Result<(), Violation> {
        for (index, node) in nodes.iter().enumerate() {
            let Some(server) = node.as_ref().and_then(PrimaryBackup::server) else {
                continue;
            };
            let view = server.durable.view;
            if !server.is_primary() {
                continue;
            }
            match self.primaries.get(&view.number) {
                Some(&first) if first != NodeId(index as u32) => {
                    return Err(Violation::new(
                        ONE_PRIMARY_PER_VIEW,
                        format!(
                            "n{index} is primary of view {}, where {first} served",
                            view.number
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn liveness_conditions() -> &'static [PropertyInfo] {
        LIVENESS
    }

    fn liveness_holds(&self, name: &str, nodes: NodesView<'_, PrimaryBackup>) -> Option<bool> {
        if name != SERVING {
            return None;
        }
        let Some(PrimaryBackup::ViewService(service)) = &nodes[VIEW_SERVICE.index()] else {
            return Some(false);
        };
        let view = service.view;
        let primary = view
            .primary
            .and_then(|primary| nodes[primary.index()].as_ref())
            .and_then(PrimaryBackup::server);
        Some(
            service.acked
                && primary.is_some_and(|primary| primary.durable.view == view && primary.ready),
        )
    }
}
