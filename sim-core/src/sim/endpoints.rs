//! Clients on the network (`[clients]`, see `crate::endpoints`): the fate of a client's
//! request or reply (cuts, loss, delay), drawn from the client's own workload draws, and
//! the cuts that name clients. A client outside the network takes the old path in
//! `clients.rs` (a latency draw, nothing lost), so scenarios without `[clients]` run as
//! before.

use std::hash::Hash;

use crate::endpoints::Placement;
use crate::network::{DropCause, Fate, LatencySpec};
use crate::protocol::*;
use crate::scenario::ScenarioFile;
use crate::tape::ClientDraw;
use crate::trace::{Arrival, TraceDetail, TraceFate};

use super::queue::Event;
use super::Sim;

/// The clients' places on the network and their cuts.
pub(super) struct Endpoints {
    placement: Vec<Placement>,
    latency: LatencySpec,
    drop_per_million: u32,
    nodes: usize,
    /// Active cuts per (client, node, direction), at `(client * nodes + node) * 2 +
    /// (0 towards the node, 1 towards the client)`.
    blocked: Vec<u32>,
}

impl Endpoints {
    pub(super) fn new(file: &ScenarioFile) -> Endpoints {
        let clients = file.workload.as_ref().map_or(0, |w| w.clients);
        let placement = match &file.clients {
            Some(spec) => spec
                .placements(clients, file.nodes)
                .expect("validated when the scenario loaded"),
            None => vec![Placement::Outside; clients as usize],
        };
        let spec = file.clients.as_ref();
        Endpoints {
            placement,
            latency: spec
                .and_then(|spec| spec.latency.clone())
                .unwrap_or_else(|| file.network.latency.clone()),
            drop_per_million: spec
                .and_then(|spec| spec.drop_per_million)
                .unwrap_or(file.network.drop_per_million),
            nodes: file.nodes as usize,
            blocked: vec![0; clients as usize * file.nodes as usize * 2],
        }
    }

    pub(super) fn on_network(&self, client: ClientId) -> bool {
        self.placement
            .get(client as usize)
            .is_some_and(|placement| *placement != Placement::Outside)
    }

    fn slot(&self, client: ClientId, node: NodeId, towards_node: bool) -> usize {
        (client as usize * self.nodes + node.index()) * 2 + usize::from(!towards_node)
    }

    /// Cut (or, with `on` false, lift the cut of) `client` from every node not in `side`.
    pub(super) fn cut(&mut self, client: ClientId, side: &[u32], on: bool) {
        for node in (0..self.nodes as u32).filter(|node| !side.contains(node)) {
            for towards_node in [true, false] {
                let slot = self.slot(client, NodeId(node), towards_node);
                self.blocked[slot] = if on {
                    self.blocked[slot] + 1
                } else {
                    self.blocked[slot].saturating_sub(1)
                };
            }
        }
    }

    pub(super) fn heal(&mut self) {
        self.blocked.iter_mut().for_each(|cuts| *cuts = 0);
    }
}

impl<P: Protocol> Sim<'_, P> {
    /// Is `client` cut off from `node` in this direction: by a cut naming it, or (beside
    /// a node) by a cut between its node and `node`?
    fn client_cut_off(&self, client: ClientId, node: NodeId, towards_node: bool) -> bool {
        let endpoints = &self.endpoints;
        if endpoints.blocked[endpoints.slot(client, node, towards_node)] > 0 {
            return true;
        }
        match endpoints.placement[client as usize] {
            Placement::Beside(anchor) if anchor != node.0 => {
                let anchor = NodeId(anchor);
                if towards_node {
                    self.network.is_blocked(anchor, node)
                } else {
                    self.network.is_blocked(node, anchor)
                }
            }
            _ => false,
        }
    }

    /// The fate of a message between `client` and `node` (a request when `towards_node`).
    fn client_fate(&mut self, client: ClientId, node: NodeId, towards_node: bool) -> Fate {
        if self.client_cut_off(client, node, towards_node) {
            return Fate::Drop(DropCause::Partition);
        }
        let endpoints = &self.endpoints;
        // A client beside a node reaches the others over that node's routes.
        let route = match endpoints.placement[client as usize] {
            Placement::Beside(anchor) if anchor != node.0 => Some(if towards_node {
                (NodeId(anchor), node)
            } else {
                (node, NodeId(anchor))
            }),
            _ => None,
        };
        if route.is_some_and(|(from, to)| !self.network.has_route(from, to)) {
            return Fate::Drop(DropCause::NoRoute);
        }
        let network = &self.network;
        let loss = route
            .map_or(0, |(from, to)| network.route_loss(from, to))
            .saturating_add(endpoints.drop_per_million)
            .saturating_add(network.bursts.loss_per_million)
            .min(1_000_000);
        if network.bounded.is_none() && loss > 0 {
            let lost = self
                .decisions
                .client_draw(client, ClientDraw::Lost, 0, |rng| {
                    u64::from(rng.chance(loss))
                });
            if lost == 1 {
                return Fate::Drop(DropCause::Loss);
            }
        }
        let latency = &endpoints.latency;
        let drawn =
            self.decisions
                .client_draw(client, ClientDraw::Latency, latency.min_us(), |rng| {
                    latency.draw(rng)
                        + route.map_or(0, |(from, to)| network.route_latency(from, to, rng))
                });
        let delay_us = drawn + network.bursts.extra_latency_us;
        Fate::Deliver {
            delay_us: network
                .bounded
                .map_or(delay_us, |bound| delay_us.min(bound)),
            duplicate_delay_us: None,
        }
    }

    /// A fresh message id, and the fate of a client message, hashed.
    fn client_message(
        &mut self,
        client: ClientId,
        node: NodeId,
        towards_node: bool,
    ) -> (u64, Fate, Option<TraceFate>) {
        let fate = self.client_fate(client, node, towards_node);
        (client, node, towards_node, fate).hash(&mut self.hasher);
        self.count_client_send(towards_node);
        let id = self.next_message_id;
        self.next_message_id += 1;
        let traced = self.trace.is_some().then(|| super::trace_fate(fate));
        (id, fate, traced)
    }

    /// Send `client`'s request over the network to `node`.
    pub(super) fn send_client_request(
        &mut self,
        client: ClientId,
        node: NodeId,
        request: u64,
        op: P::Op,
    ) {
        let (id, fate, traced) = self.client_message(client, node, true);
        self.trace_line(None, "client_send", || TraceDetail::Client {
            client,
            request,
            to: Some(node.0),
            fate: traced,
            id: Some(id),
            delivered: None,
            cause: None,
        });
        if let Fate::Deliver { delay_us, .. } = fate {
            self.schedule(
                self.now + delay_us,
                Event::ClientArrive {
                    node,
                    client,
                    request,
                    op,
                    id: Some(id),
                },
            );
        }
    }

    /// A request that reached a crashed node: lost, and traced as such.
    pub(super) fn client_request_lost(
        &mut self,
        client: ClientId,
        node: NodeId,
        request: u64,
        id: u64,
    ) {
        (self.now, client, node, "client_drop").hash(&mut self.hasher);
        self.trace_line(Some(node), "client_drop", || TraceDetail::Client {
            client,
            request,
            to: Some(node.0),
            fate: None,
            id: None,
            delivered: Some(Arrival {
                id,
                duplicate: false,
            }),
            cause: Some(DropCause::Crashed.name().to_string()),
        });
    }

    /// Send `node`'s reply to `client` over the network; returns its id and fate for the
    /// step's trace.
    pub(super) fn send_client_reply(
        &mut self,
        node: NodeId,
        client: ClientId,
        request: u64,
        reply: P::Reply,
    ) -> (u64, Option<TraceFate>) {
        let (id, fate, traced) = self.client_message(client, node, false);
        if let Fate::Deliver { delay_us, .. } = fate {
            self.schedule(
                self.now + delay_us,
                Event::ClientReply {
                    client,
                    node,
                    request,
                    reply,
                    id: Some(id),
                },
            );
        }
        (id, traced)
    }

    /// A reply reached its client on the network: traced before the client acts on it.
    pub(super) fn trace_client_reply(&mut self, client: ClientId, request: u64, id: u64) {
        self.trace_line(None, "client_reply", || TraceDetail::Client {
            client,
            request,
            to: None,
            fate: None,
            id: None,
            delivered: Some(Arrival {
                id,
                duplicate: false,
            }),
            cause: None,
        });
    }
}
