//! PBFT's checker: agreement, total order, validity and view-change safety, judged over
//! honest replicas only (Castro and Liskov 1999, §4.5: the safety properties hold for
//! non-faulty replicas; a Byzantine one may do and claim anything).

use std::collections::{BTreeMap, BTreeSet};

use sim_core::{Checker, ClientId, Input, NodeId, NodesView, PropertyInfo, Violation};

use super::*;

const AGREEMENT: &str = "agreement";
const TOTAL_ORDER: &str = "total_order";
const VALIDITY: &str = "validity";
const VIEW_CHANGE_SAFETY: &str = "view_change_safety";
const COMMITTED_PREPARED: &str = "committed_prepared";
const PRIMARY_AUTHORITY: &str = "primary_authority";

/// Ghost state: what honest replicas committed, what clients issued.
#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct PbftChecker {
    byzantine: BTreeSet<NodeId>,
    /// Per sequence number: the first value an honest replica committed, in which view.
    committed: BTreeMap<Seq, (View, Value)>,
    /// Every request a client issued (client, request id, op).
    issued: BTreeSet<(ClientId, u64, KvOp)>,
    /// Per honest replica: the last sequence number it executed.
    executed: BTreeMap<NodeId, Seq>,
    /// Noted by `before_step`, used by `on_step`: a client request, or a restart.
    noted_request: Option<(ClientId, u64, KvOp)>,
    noted_restart: Option<NodeId>,
    /// The sender and view of a pre-prepare an honest replica is about to take.
    noted_pre_prepare: Option<(NodeId, View)>,
}

impl PbftChecker {
    fn check_value(&self, seq: Seq, value: &Value, node: NodeId) -> Result<(), Violation> {
        if let Some((view, first)) = self.committed.get(&seq) {
            if first != value {
                return Err(Violation::new(
                    AGREEMENT,
                    format!(
                        "{node} has {value:?} at seq {seq}, but {first:?} was committed there \
                         in view {view}"
                    ),
                ));
            }
        }
        if let Some(request) = value {
            if !self
                .issued
                .contains(&(request.client, request.request, request.op))
            {
                return Err(Violation::new(
                    VALIDITY,
                    format!("{node} executes {request:?} at seq {seq}, which no client issued"),
                ));
            }
        }
        Ok(())
    }

    fn observe(&mut self, node: NodeId, observation: &PbftObs) -> Result<(), Violation> {
        match observation {
            PbftObs::Committed { view, seq, value } => {
                if let Some((first_view, first)) = self.committed.get(seq) {
                    if first != value {
                        return Err(Violation::new(
                            AGREEMENT,
                            format!(
                                "{node} committed {value:?} at seq {seq} in view {view}, but \
                                 {first:?} was committed there in view {first_view}"
                            ),
                        ));
                    }
                } else {
                    self.committed.insert(*seq, (*view, *value));
                }
            }
            PbftObs::Accepted { view, seq, value } => {
                if let Some((first_view, first)) = self.committed.get(seq) {
                    if view > first_view && first != value {
                        return Err(Violation::new(
                            VIEW_CHANGE_SAFETY,
                            format!(
                                "{node} accepted {value:?} at seq {seq} in view {view}, but \
                                 {first:?} was committed there in view {first_view}"
                            ),
                        ));
                    }
                }
            }
            PbftObs::Executed { seq, value } => {
                let last = self.executed.entry(node).or_insert(0);
                if *seq != *last + 1 {
                    return Err(Violation::new(
                        TOTAL_ORDER,
                        format!("{node} executed seq {seq} after seq {last}"),
                    ));
                }
                *last = *seq;
                self.check_value(*seq, value, node)?;
            }
            PbftObs::Transferred { seq, history } => {
                for (index, value) in history.iter().enumerate() {
                    self.check_value(index as Seq + 1, value, node)?;
                }
                self.executed.insert(node, *seq);
            }
            PbftObs::ViewChangeStarted { .. }
            | PbftObs::NewViewEntered { .. }
            | PbftObs::CheckpointStable { .. } => {}
        }
        Ok(())
    }
}

impl Checker<Replica> for PbftChecker {
    fn properties() -> &'static [PropertyInfo] {
        &[
            PropertyInfo {
                name: AGREEMENT,
                description: "no two honest replicas commit or execute different requests at \
                              the same sequence number, in any views",
            },
            PropertyInfo {
                name: TOTAL_ORDER,
                description: "an honest replica executes sequence numbers one after another \
                              (or takes a stable checkpoint's state)",
            },
            PropertyInfo {
                name: VALIDITY,
                description: "an honest replica executes only requests a client issued",
            },
            PropertyInfo {
                name: COMMITTED_PREPARED,
                description: "an honest replica's request is committed-local only where it is \
                              prepared (§4.2: committed-local(m, v, n, i) needs prepared)",
            },
            PropertyInfo {
                name: PRIMARY_AUTHORITY,
                description: "an honest replica takes a pre-prepare only from the primary of \
                              its view (§4.2)",
            },
            PropertyInfo {
                name: VIEW_CHANGE_SAFETY,
                description: "a request committed in one view keeps its sequence number in \
                              every later view an honest replica accepts",
            },
        ]
    }

    fn set_byzantine(&mut self, byzantine: &[NodeId]) {
        self.byzantine = byzantine.iter().copied().collect();
    }

    fn before_step(
        &mut self,
        _nodes: NodesView<'_, Replica>,
        stepped: NodeId,
        input: &Input<Replica>,
    ) {
        match input {
            Input::Client {
                client,
                request,
                op,
            } => self.noted_request = Some((*client, *request, *op)),
            Input::Restart => self.noted_restart = Some(stepped),
            Input::Message {
                from,
                msg: PbftMsg::PrePrepare(vote),
            } => self.noted_pre_prepare = Some((*from, vote.view)),
            _ => {}
        }
    }

    fn on_step(
        &mut self,
        nodes: NodesView<'_, Replica>,
        stepped: NodeId,
        observations: &[PbftObs],
    ) -> Result<(), Violation> {
        if let Some(request) = self.noted_request.take() {
            self.issued.insert(request);
        }
        if let Some(node) = self.noted_restart.take() {
            self.executed.insert(node, 0);
        }
        let pre_prepare = self.noted_pre_prepare.take();
        if self.byzantine.contains(&stepped) {
            return Ok(());
        }
        for observation in observations {
            self.observe(stepped, observation)?;
            check_step_rules(nodes, stepped, pre_prepare, observation)?;
        }
        Ok(())
    }

    fn check_all(&self, nodes: NodesView<'_, Replica>) -> Result<(), Violation> {
        let honest: Vec<&Replica> = nodes
            .iter()
            .flatten()
            .filter(|replica| !self.byzantine.contains(&replica.me))
            .collect();
        for replica in &honest {
            for (index, value) in replica.history.iter().enumerate() {
                self.check_value(index as Seq + 1, value, replica.me)?;
            }
        }
        for (a, b) in honest.iter().zip(honest.iter().skip(1)) {
            let common = a.history.len().min(b.history.len());
            if let Some(seq) = (0..common).find(|&i| a.history[i] != b.history[i]) {
                return Err(Violation::new(
                    AGREEMENT,
                    format!(
                        "{} and {} executed different values at seq {}",
                        a.me,
                        b.me,
                        seq + 1
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The rules of one step (§4.2), from the step's input and the state it reached: a
/// commit is local only where the request is prepared, and a pre-prepare is taken only
/// from the view's primary.
fn check_step_rules(
    nodes: NodesView<'_, Replica>,
    stepped: NodeId,
    pre_prepare: Option<(NodeId, View)>,
    observation: &PbftObs,
) -> Result<(), Violation> {
    let cluster_size = nodes.len() as u64;
    match observation {
        PbftObs::Committed { view, seq, .. } => {
            let replica = nodes[stepped.index()]
                .as_ref()
                .expect("a live replica stepped");
            // The slot may already be discarded below a checkpoint the step made stable.
            let prepared = *seq <= replica.stable.seq
                || replica.log.get(seq).is_some_and(|slot| slot.prepared);
            if !prepared {
                return Err(Violation::new(
                    COMMITTED_PREPARED,
                    format!("{stepped} committed seq {seq} in view {view} without a prepared certificate"),
                ));
            }
        }
        PbftObs::Accepted { view, seq, .. } => {
            if let Some((from, pre_prepare_view)) = pre_prepare {
                let primary = NodeId((pre_prepare_view % cluster_size) as u32);
                if pre_prepare_view == *view && from != primary {
                    return Err(Violation::new(
                        PRIMARY_AUTHORITY,
                        format!(
                            "{stepped} accepted seq {seq} in view {view} from a pre-prepare by \
                             {from}, not the primary {primary}"
                        ),
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}
