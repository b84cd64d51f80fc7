//! The fields of Raft's messages a Byzantine node may perturb (ByzzFuzz-style small-scope
//! mutations). Raft claims no Byzantine tolerance (`fault_bound`), so these exist to show
//! it: one node that lies about its vote or its term breaks election safety.

use sim_core::byzantine::PerturbHooks;

use super::{MachineCommand, RaftConfig, RaftMsg, RaftNode, RaftReply, StateMachine};

pub fn perturb_hooks<M: StateMachine>() -> PerturbHooks<RaftNode<M>> {
    PerturbHooks {
        message: perturb_message::<M::Command, M::Config>,
        // A reply's only content is the committed output: kv's history check judges it.
        reply: |_: &RaftConfig<M::Config>, _: &RaftReply<M::Output>, _| None,
        // `perturb_message` looks at `draw % 2` and `draw % 4`.
        variants: 4,
    }
}

/// One field changed, chosen by `draw`: a vote granted whatever the candidate, a term one
/// ahead, or a commit index ahead of the log.
fn perturb_message<Command: MachineCommand, Config>(
    _config: &RaftConfig<Config>,
    msg: &RaftMsg<Command>,
    draw: u64,
) -> Option<RaftMsg<Command>> {
    let mut changed = msg.clone();
    match &mut changed {
        RaftMsg::RequestVoteResponse { vote_granted, .. } => *vote_granted = true,
        RaftMsg::RequestVote { term, .. } | RaftMsg::AppendEntriesResponse { term, .. } => {
            *term += 1
        }
        RaftMsg::AppendEntries {
            term,
            leader_commit,
            ..
        } => {
            if draw.is_multiple_of(2) {
                *term += 1;
            } else {
                *leader_commit += 1 + draw % 4;
            }
        }
    }
    Some(changed)
}
