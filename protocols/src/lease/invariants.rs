//! The lock service's checker: mutual exclusion as the storage sees it, fencing tokens
//! granted in increasing order, and each server's own lease rule, over ghost records of
//! every grant and every accepted write.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::*;

use super::{LeaseNode, LeaseObs};

pub const STORAGE_EXCLUSION: &str = "storage_exclusion";
pub const TOKEN_MONOTONIC: &str = "token_monotonic";
pub const LEASE_EXCLUSION: &str = "lease_exclusion";

const PROPERTIES: &[PropertyInfo] = &[
    PropertyInfo {
        name: STORAGE_EXCLUSION,
        description: "mutual exclusion as the storage sees it: once it accepted a write \
                      under a lease, it accepts none under an older lease (a lower token), \
                      and a token's writes come from one client",
    },
    PropertyInfo {
        name: TOKEN_MONOTONIC,
        description: "each lease a majority of servers grants has a fencing token above \
                      every token granted before it",
    },
    PropertyInfo {
        name: LEASE_EXCLUSION,
        description: "a server grants the lock to another client only once the lease it \
                      holds has expired by its own clock",
    },
];

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct LeaseChecker {
    /// The servers that accepted each (token, client) grant, until a majority did.
    accepts: BTreeMap<(u64, NodeId), BTreeSet<NodeId>>,
    /// The highest token a majority granted, and to whom.
    granted: Option<(u64, NodeId)>,
    /// The last write the storage accepted: (token, client).
    last_write: Option<(u64, NodeId)>,
}

impl LeaseChecker {
    fn on_accepted(
        &mut self,
        servers: usize,
        server: NodeId,
        client: NodeId,
        token: u64,
    ) -> Result<(), Violation> {
        let accepted = self.accepts.entry((token, client)).or_default();
        accepted.insert(server);
        if accepted.len() < servers / 2 + 1 {
            return Ok(());
        }
        self.accepts.remove(&(token, client));
        if let Some((before, holder)) = self.granted {
            if token <= before {
                return Err(Violation::new(
                    TOKEN_MONOTONIC,
                    format!(
                        "a majority granted {client} the lease with token {token}, after \
                         granting {holder} token {before}"
                    ),
                ));
            }
        }
        self.granted = Some((token, client));
        // Grants below it can never complete in a correct run; forget them.
        self.accepts.retain(|&(other, _), _| other > token);
        Ok(())
    }

    fn on_write(&mut self, client: NodeId, token: u64) -> Result<(), Violation> {
        if let Some((before, writer)) = self.last_write {
            if token < before || (token == before && client != writer) {
                return Err(Violation::new(
                    STORAGE_EXCLUSION,
                    format!(
                        "the storage accepted a write from {client} with token {token} after \
                         one from {writer} with token {before}"
                    ),
                ));
            }
        }
        self.last_write = Some((token, client));
        Ok(())
    }
}

impl Checker<LeaseNode> for LeaseChecker {
    fn properties() -> &'static [PropertyInfo] {
        PROPERTIES
    }

    fn on_step(
        &mut self,
        _nodes: NodesView<'_, LeaseNode>,
        stepped: NodeId,
        observations: &[LeaseObs],
    ) -> Result<(), Violation> {
        for observation in observations {
            match observation {
                LeaseObs::Accepted {
                    client,
                    token,
                    replaced,
                    clock_us,
                    servers,
                } => {
                    if let Some(lease) = replaced.filter(|lease| *clock_us < lease.expires_us) {
                        return Err(Violation::new(
                            LEASE_EXCLUSION,
                            format!(
                                "{stepped} granted {client} token {token} at {clock_us} us by \
                                 its clock, while {}'s lease (token {}) ran until {} us",
                                lease.client, lease.token, lease.expires_us
                            ),
                        ));
                    }
                    self.on_accepted(*servers as usize, stepped, *client, *token)?;
                }
                LeaseObs::WriteAccepted { client, token } => self.on_write(*client, *token)?,
                LeaseObs::Acquired { .. }
                | LeaseObs::Renewed { .. }
                | LeaseObs::Released { .. }
                | LeaseObs::WriteRejected { .. } => {}
            }
        }
        Ok(())
    }

    fn check_all(&self, _nodes: NodesView<'_, LeaseNode>) -> Result<(), Violation> {
        // Every property is about steps (grants and writes), judged as they happen.
        Ok(())
    }
}
