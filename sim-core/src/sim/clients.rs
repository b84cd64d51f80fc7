//! Simulated clients: the workload's operations, each sent to a leader guess or a
//! drawn node, retried on timeout, redirected by replies, and recorded in the history.

use crate::protocol::*;
use crate::registration::Registration;
use crate::scenario::{Scenario, ScenarioError, WorkloadSpec};
use crate::tape::ClientDraw;

use super::queue::Event;
use super::Sim;

pub(super) struct Client<P: Protocol> {
    pub(super) next_seq: u64,
    /// Explicit operations waiting for the outstanding one to complete.
    pub(super) queued: std::collections::VecDeque<Explicit>,
    pub(super) leader_guess: Option<NodeId>,
    pub(super) outstanding: Option<Outstanding<P>>,
    /// Fire-and-forget submissions still following redirects: request → (op, sends).
    pub(super) unwaited: std::collections::BTreeMap<u64, (P::Op, u32)>,
}

/// An operation of `[[workload.ops]]`: a random draw, or the entry (by position) whose
/// `op` writes it out.
#[derive(Clone, Copy, Debug)]
pub(super) enum Explicit {
    /// Entry `.0`, with its draw.
    Draw(usize, u64),
    Written(usize),
}

/// Refuse written operations the protocol cannot read, naming the entry and what it reads.
pub(super) fn check_written_ops<P: Protocol>(
    registration: &Registration<P>,
    config: &P::Config,
    scenario: &Scenario,
) -> Result<(), ScenarioError> {
    let ops = scenario.file.workload.as_ref().and_then(|w| w.ops.as_ref());
    for (index, spec) in ops.into_iter().flatten().enumerate() {
        let Some(text) = &spec.op else {
            continue;
        };
        let field = format!("workload.ops[{index}].op");
        let Some(parse) = registration.parse_op else {
            return Err(scenario.error(
                &field,
                format!("{} cannot read written operations", registration.name),
                "give the operation as a random `draw = N` instead",
            ));
        };
        if let Err(expected) = parse(config, spec.client, 1, text) {
            return Err(scenario.error(
                &field,
                format!("{} cannot read the operation {text:?}", registration.name),
                expected,
            ));
        }
    }
    Ok(())
}

pub(super) struct Outstanding<P: Protocol> {
    pub(super) request: u64,
    pub(super) op: P::Op,
    pub(super) attempt: u32,
    pub(super) history_index: usize,
    /// The `Ok` replies so far, one per node, while a client waits for a quorum of
    /// matching ones (`Registration::client_reply_quorum`).
    pub(super) replies: Vec<(NodeId, P::Reply)>,
}

impl<'a, P: Protocol> Sim<'a, P> {
    /// The scenario's workload; only called where clients exist.
    pub(super) fn workload(&self) -> &'a WorkloadSpec {
        self.prepared
            .scenario
            .file
            .workload
            .as_ref()
            .expect("clients need a workload")
    }

    pub(super) fn client_latency(&mut self, client: ClientId) -> TimeUs {
        let prepared = self.prepared;
        let latency = &prepared.scenario.file.network.latency;
        self.decisions
            .client_draw(client, ClientDraw::Latency, latency.min_us(), |rng| {
                latency.draw(rng)
            })
    }

    /// An explicit operation: the random draw a random operation would take is taken
    /// (and unused), for the same reason as the think time above. (A run from a tape
    /// draws nothing, so it skips this too.)
    pub(super) fn client_invoke_explicit(&mut self, client: ClientId, explicit: Explicit) {
        self.decisions.skip_op_draw();
        match explicit {
            Explicit::Draw(index, draw) => {
                let wait = self.op_waits(index);
                self.client_invoke(client, draw, wait)
            }
            Explicit::Written(index) => {
                let wait = self.op_waits(index);
                let ops = self.workload().ops.as_deref().unwrap_or_default();
                let text = ops[index].op.as_deref().expect("a written operation");
                let parse = self.prepared.registration.parse_op;
                let request = self.clients[client as usize].next_seq + 1;
                let op = parse.expect("checked by Prepared::new")(
                    &self.prepared.config,
                    client,
                    request,
                    text,
                )
                .expect("checked by Prepared::new");
                self.client_invoke_op(client, op, 0, wait);
            }
        }
    }

    /// Does `[[workload.ops]]` entry `index` wait for its reply (`wait`, else the
    /// workload's)?
    fn op_waits(&self, index: usize) -> bool {
        let workload = self.workload();
        let ops = workload.ops.as_deref().unwrap_or_default();
        ops[index].wait.unwrap_or(workload.wait)
    }

    /// The client invokes its next operation, built from `draw`; `wait`: whether it waits
    /// for the reply (else a fire-and-forget submission).
    pub(super) fn client_invoke(&mut self, client: ClientId, draw: u64, wait: bool) {
        let workload = self.prepared.registration.workload;
        let request = self.clients[client as usize].next_seq + 1;
        let op = workload.expect("checked by Prepared::new")(
            &self.prepared.config,
            client,
            request,
            draw,
        );
        self.client_invoke_op(client, op, draw, wait);
    }

    /// The client invokes `op` as its next request; `draw` is recorded with it.
    fn client_invoke_op(&mut self, client: ClientId, op: P::Op, draw: u64, wait: bool) {
        let state = &mut self.clients[client as usize];
        assert!(
            state.outstanding.is_none(),
            "client {client} has one operation at a time"
        );
        state.next_seq += 1;
        let request = state.next_seq;
        self.metrics.client_ops_invoked += 1;
        let history_index = self.record_invoke(client, request, &op, draw, !wait);
        if !wait {
            self.clients[client as usize]
                .unwaited
                .insert(request, (op.clone(), 1));
            self.client_dispatch(client, request, op);
            self.client_next(client);
            return;
        }
        self.clients[client as usize].outstanding = Some(Outstanding {
            request,
            op,
            attempt: 0,
            history_index,
            replies: Vec::new(),
        });
        self.client_send(client);
    }

    /// (Re)send the client's outstanding request to its leader guess, or a random node.
    pub(super) fn client_send(&mut self, client: ClientId) {
        let timeout_us = self.workload().timeout_ms * 1000;
        let outstanding = self.clients[client as usize]
            .outstanding
            .as_mut()
            .expect("a request to send");
        outstanding.attempt += 1;
        let (request, attempt, op) = (
            outstanding.request,
            outstanding.attempt,
            outstanding.op.clone(),
        );
        self.client_dispatch(client, request, op);
        self.schedule(
            self.now + timeout_us,
            Event::ClientTimeout {
                client,
                request,
                attempt,
            },
        );
    }

    /// Send `request` to the client's leader guess, or a random node.
    fn client_dispatch(&mut self, client: ClientId, request: u64, op: P::Op) {
        let target = match self.clients[client as usize].leader_guess {
            Some(node) => node,
            None => {
                let nodes = self.cluster_size as u64;
                let fallback = client as u64 % nodes;
                let drawn =
                    self.decisions
                        .client_draw(client, ClientDraw::Target, fallback, |rng| rng.below(nodes));
                // A tape from a larger cluster may name a node this run lacks.
                NodeId(if drawn < nodes { drawn } else { fallback } as u32)
            }
        };
        let on_network = self.endpoints.on_network(client);
        // A client on the network draws its latency with the request's fate.
        let latency = if on_network {
            0
        } else {
            self.client_latency(client)
        };
        if on_network {
            self.send_client_request(client, target, request, op);
        } else {
            self.schedule(
                self.now + latency,
                Event::ClientArrive {
                    node: target,
                    client,
                    request,
                    op,
                    id: None,
                },
            );
        }
    }

    /// A reply to a fire-and-forget submission: a redirect with a leader hint sends it
    /// there (at most once per node, so stale hints cannot bounce it forever); any other
    /// reply ends it, unrecorded (its history entry stays `info`).
    fn on_unwaited_reply(&mut self, client: ClientId, request: u64, reply: &P::Reply) {
        let nodes = self.cluster_size;
        let state = &mut self.clients[client as usize];
        let Some((op, sends)) = state.unwaited.remove(&request) else {
            return;
        };
        if let ReplyOutcome::Redirect(Some(hint)) = reply.outcome() {
            state.leader_guess = Some(hint);
            if sends < nodes {
                state.unwaited.insert(request, (op.clone(), sends + 1));
                self.client_dispatch(client, request, op);
            }
        }
    }

    /// Does an `Ok` reply from `node` complete the outstanding request? Yes, unless the
    /// protocol asks for a quorum of matching replies from distinct nodes (PBFT's f + 1,
    /// so that a Byzantine replica's lie is never accepted alone) and it is not there yet.
    fn reply_quorum_reached(&mut self, client: ClientId, node: NodeId, reply: &P::Reply) -> bool {
        let Some(quorum) = self.prepared.registration.client_reply_quorum else {
            return true;
        };
        let quorum = quorum(&self.prepared.config, self.cluster_size);
        let outstanding = self.clients[client as usize]
            .outstanding
            .as_mut()
            .expect("a reply to an outstanding request");
        outstanding.replies.retain(|(from, _)| *from != node);
        outstanding.replies.push((node, reply.clone()));
        let matching = outstanding
            .replies
            .iter()
            .filter(|(_, other)| other == reply)
            .count();
        matching >= quorum
    }

    pub(super) fn on_client_reply(
        &mut self,
        client: ClientId,
        node: NodeId,
        request: u64,
        reply: P::Reply,
    ) {
        let backoff_us = self
            .prepared
            .scenario
            .file
            .workload
            .as_ref()
            .map_or(0, |w| w.backoff_ms * 1000);
        if self.clients[client as usize]
            .unwaited
            .contains_key(&request)
        {
            self.on_unwaited_reply(client, request, &reply);
            return;
        }
        let state = &mut self.clients[client as usize];
        let Some(outstanding) = &state.outstanding else {
            return;
        };
        if outstanding.request != request {
            return;
        }
        let history_index = outstanding.history_index;
        let status = match reply.outcome() {
            ReplyOutcome::Redirect(hint) => {
                self.clients[client as usize].leader_guess = hint;
                match hint {
                    Some(_) => self.client_send(client),
                    None => self.schedule(self.now + backoff_us, Event::ClientSend { client }),
                }
                return;
            }
            ReplyOutcome::Ok => {
                if !self.reply_quorum_reached(client, node, &reply) {
                    return;
                }
                self.metrics.client_ops_ok += 1;
                "ok"
            }
            ReplyOutcome::Failed => {
                self.metrics.client_ops_failed += 1;
                "fail"
            }
        };
        let completed = self.clients[client as usize]
            .outstanding
            .take()
            .expect("checked above");
        let invoke_us = self.record_completion(history_index, status, &completed.op, &reply);
        self.latencies_us.push(self.now - invoke_us);
        if let Some(healed_at) = self.healed_at {
            if status == "ok" && invoke_us >= healed_at {
                let pending = self.liveness_pending.len();
                self.liveness_pending
                    .retain(|condition| condition != "client_progress");
                // The last condition may have been this one: then the run has shown what
                // it must (as when a protocol's own condition is the last to hold).
                if self.liveness_pending.len() < pending {
                    self.end_if_shown();
                    if self.finished {
                        return;
                    }
                }
            }
        }
        self.client_next(client);
    }

    /// The client is free for its next operation: a random workload's after a drawn think
    /// time, or the next explicit one queued for it.
    fn client_next(&mut self, client: ClientId) {
        let [min, max] = self.workload().interval_ms;
        let think = self
            .decisions
            .client_draw(client, ClientDraw::Think, min * 1000, |rng| {
                rng.range_inclusive(min, max) * 1000
            });
        if self.workload().ops.is_some() {
            // Explicit operations: the next one queued for this client goes now. The
            // think time above is still drawn (and unused) so that the workload stream is
            // consumed exactly as with random operations: a run whose operations were
            // made explicit (by `shrink`) is the same run.
            if let Some(op) = self.clients[client as usize].queued.pop_front() {
                self.client_invoke_explicit(client, op);
            }
            return;
        }
        self.schedule(self.now + think, Event::ClientNext { client });
    }
}
