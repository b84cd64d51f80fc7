//! PBFT's Byzantine side: the fields a generic strategy may perturb (ByzzFuzz-style
//! small-scope mutations: a view or sequence number one off, another value, a shorter
//! certificate list), and PBFT's own attacks. A perturbed message is re-signed by its
//! own sender only (`Vote::replica`, `Checkpoint::replica`, ...): a Byzantine replica
//! can say anything as itself, but cannot sign as another.

use sim_core::byzantine::{PerturbHooks, ProtocolStrategy};
use sim_core::{Ctx, Effect};

use super::*;

pub fn perturb_hooks() -> PerturbHooks<Replica> {
    PerturbHooks {
        message: perturb_message,
        reply: perturb_reply,
        // `perturb_message` looks at `draw % 3`; `perturb_reply` ignores it.
        variants: 3,
    }
}

/// One field of `msg` changed, chosen by `draw`; `None` for a client's request (it is
/// signed by the client, so a change would only make it invalid).
fn perturb_message(config: &PbftConfig, msg: &PbftMsg, draw: u64) -> Option<PbftMsg> {
    let choice = draw % 3;
    Some(match msg {
        PbftMsg::Request(_) => return None,
        PbftMsg::PrePrepare(vote) => PbftMsg::PrePrepare(perturb_vote(vote, choice)),
        PbftMsg::Prepare(vote) => PbftMsg::Prepare(perturb_vote(vote, choice)),
        &PbftMsg::Commit { view, seq, value } => match choice {
            0 => PbftMsg::Commit {
                view: view + 1,
                seq,
                value,
            },
            1 => PbftMsg::Commit {
                view,
                seq: seq + 1,
                value,
            },
            _ => PbftMsg::Commit {
                view,
                seq,
                value: other_value(value),
            },
        },
        PbftMsg::Checkpoint(checkpoint) => {
            // A claim of a later checkpoint, over a history padded with null requests, or
            // the same sequence number over a history with its last value replaced.
            let mut history = checkpoint.history.clone();
            if choice == 0 {
                history.extend((0..config.checkpoint_interval).map(|_| None));
            } else if let Some(last) = history.last_mut() {
                *last = other_value(*last);
            }
            PbftMsg::Checkpoint(Checkpoint::new(
                history.len() as Seq,
                history,
                checkpoint.replica,
            ))
        }
        PbftMsg::ViewChange(view_change) => {
            let mut changed = view_change.clone();
            match choice {
                0 => changed.view += 1,
                _ => {
                    changed.prepared.pop();
                }
            }
            PbftMsg::ViewChange(changed.signed())
        }
        PbftMsg::NewView { view, proofs } => {
            let mut proofs = proofs.clone();
            proofs.pop();
            PbftMsg::NewView {
                view: *view,
                proofs,
            }
        }
    })
}

fn perturb_vote(vote: &Vote, choice: u64) -> Vote {
    let (view, seq, value) = match choice {
        0 => (vote.view + 1, vote.seq, vote.value),
        1 => (vote.view, vote.seq + 1, vote.value),
        _ => (vote.view, vote.seq, other_value(vote.value)),
    };
    Vote::new(view, seq, value, vote.replica)
}

/// A different value a Byzantine replica can name without a client's signature: the
/// null request instead of a request (a request instead of null needs a client's
/// signature, so a null stays null).
fn other_value(value: Value) -> Value {
    match value {
        Some(_) => None,
        None => None,
    }
}

/// A lie to a client: a different output for the same request.
fn perturb_reply(_config: &PbftConfig, reply: &PbftReply, _draw: u64) -> Option<PbftReply> {
    let output = match &reply.output {
        KvOutput::Value { value } => KvOutput::Value {
            value: crate::kv::Text::new(format!("{value}[lie]")),
        },
        KvOutput::Done => KvOutput::Cas { succeeded: false },
        KvOutput::Cas { succeeded } => KvOutput::Cas {
            succeeded: !succeeded,
        },
    };
    Some(PbftReply {
        request: reply.request,
        output,
    })
}

/// A primary that assigns one sequence number to two values: its pre-prepares, and its
/// commits, name the request to one half of the backups and the null request to the
/// other (§4.2's equivocating primary; a null request needs no client's signature).
pub const DOUBLE_ASSIGN: ProtocolStrategy<Replica> = ProtocolStrategy {
    name: "double_assign",
    description: "a primary that assigns each sequence number to two values (the request \
                  to one half of the backups, the null request to the other), and commits \
                  each half's value to it",
    rewrite: double_assign,
    // Which half of the backups gets the null request: `draw % 2`.
    choices: |_| 2,
};

// The signature is `StrategyFn`'s, which other strategies need to push effects.
#[allow(clippy::ptr_arg)]
fn double_assign(
    ctx: &Ctx<'_, PbftConfig>,
    _replica: &Replica,
    effects: &mut Vec<Effect<Replica>>,
    draw: u64,
) {
    for effect in effects.iter_mut() {
        let Effect::Send { to, msg } = effect else {
            continue;
        };
        if u64::from(to.0) % 2 != draw % 2 {
            continue;
        }
        match msg {
            PbftMsg::PrePrepare(vote) => *vote = Vote::new(vote.view, vote.seq, None, ctx.id),
            PbftMsg::Commit { value, .. } => *value = None,
            _ => {}
        }
    }
}

/// A backup that acts as a primary: for every prepare it sends, it pre-prepares the null
/// request to one peer, at the prepare's sequence number or the next (both from `draw`).
pub const ROGUE_PRIMARY: ProtocolStrategy<Replica> = ProtocolStrategy {
    name: "rogue_primary",
    description: "a backup that sends pre-prepares as if it were the primary (the null \
                  request, to one peer, at the sequence number of each prepare it sends or \
                  the next)",
    rewrite: rogue_primary,
    // Which peer (`draw / 2`, of n - 1) and which sequence number (`draw % 2`).
    choices: |cluster_size| 2 * u64::from(cluster_size.saturating_sub(1)),
};

fn rogue_primary(
    ctx: &Ctx<'_, PbftConfig>,
    _replica: &Replica,
    effects: &mut Vec<Effect<Replica>>,
    draw: u64,
) {
    let peers: Vec<NodeId> = ctx.peers().collect();
    if peers.is_empty() {
        return;
    }
    let to = peers[((draw / 2) % peers.len() as u64) as usize];
    let rogue: Vec<Effect<Replica>> = effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send {
                msg: PbftMsg::Prepare(vote),
                ..
            } => Some((vote.view, vote.seq + draw % 2)),
            _ => None,
        })
        // A prepare is multicast: one pre-prepare per (view, sequence number).
        .collect::<std::collections::BTreeSet<(View, Seq)>>()
        .into_iter()
        .map(|(view, seq)| Effect::Send {
            to,
            msg: PbftMsg::PrePrepare(Vote::new(view, seq, None, ctx.id)),
        })
        .collect();
    effects.extend(rogue);
}

/// A replica that prepares two values for one sequence number, one to each half of its
/// peers.
pub const PREPARE_TWO_DIGESTS: ProtocolStrategy<Replica> = ProtocolStrategy {
    name: "prepare_two_digests",
    description: "a replica that sends prepares for two different values at one sequence \
                  number, one to each half of its peers",
    rewrite: prepare_two_digests,
    // Which half of the peers gets the other value: `draw % 2`.
    choices: |_| 2,
};

// The signature is `StrategyFn`'s, which other strategies need to push effects.
#[allow(clippy::ptr_arg)]
fn prepare_two_digests(
    ctx: &Ctx<'_, PbftConfig>,
    replica: &Replica,
    effects: &mut Vec<Effect<Replica>>,
    draw: u64,
) {
    for effect in effects.iter_mut() {
        if let Effect::Send {
            to,
            msg: PbftMsg::Prepare(vote),
        } = effect
        {
            if u64::from(to.0) % 2 == draw % 2 {
                let other = replica
                    .pending
                    .values()
                    .find(|request| Some(**request) != vote.value)
                    .copied();
                *vote = Vote::new(vote.view, vote.seq, other, ctx.id);
            }
        }
    }
}

/// A replica that sends view-changes for the next view with a forged prepared
/// certificate: signatures it cannot make, for the null request at the next sequence
/// number. Honest replicas must reject it.
pub const FORGED_VIEW_CHANGE: ProtocolStrategy<Replica> = ProtocolStrategy {
    name: "forged_view_change",
    description: "a replica that keeps asking for the next view with a view-change whose \
                  prepared certificate carries forged signatures",
    rewrite: forged_view_change,
    // Draw 0 sends the forged view-change (`draw % 4 == 0`).
    choices: |_| 1,
};

fn forged_view_change(
    ctx: &Ctx<'_, PbftConfig>,
    replica: &Replica,
    effects: &mut Vec<Effect<Replica>>,
    draw: u64,
) {
    if !draw.is_multiple_of(4) {
        return;
    }
    let seq = replica.last_executed + 1;
    let forged = Certificate {
        view: replica.view,
        seq,
        value: None,
        signatures: ctx
            .peers()
            .chain([ctx.id])
            .map(|node| (node, draw ^ u64::from(node.0)))
            .collect(),
    };
    let view_change = ViewChange {
        view: replica.view + 1,
        replica: ctx.id,
        stable: replica.stable.clone(),
        prepared: vec![forged],
        signature: 0,
    }
    .signed();
    for peer in ctx.peers() {
        effects.push(Effect::Send {
            to: peer,
            msg: PbftMsg::ViewChange(view_change.clone()),
        });
    }
}
