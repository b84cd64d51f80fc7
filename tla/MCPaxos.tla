------------------------------ MODULE MCPaxos ------------------------------
(***************************************************************************)
(* Bounded models of Paxos.tla for TLC: the bounds are the constants     *)
(* (ballots 0..MaxBallot, MaxCrashes), so no state constraint is needed.   *)
(***************************************************************************)
EXTENDS Paxos, TLC

\* The bounded model runs out of ballots, where real Paxos would go on:
\* stuttering there is not a deadlock.
MCNext == Next \/ UNCHANGED vars
MCSpec == Init /\ [][MCNext]_vars

\* Acceptors are interchangeable (proposers are not: their ids order ballots).
Symmetry == Permutations(Acceptor)

\* Non-vacuity witnesses: each must be VIOLATED, proving the bounded model
\* gets that far.
NoChoice == ~\E v \in Value : Chosen(v)
\* A value is chosen, and then a higher ballot's proposer is made to send it.
NoHigherBallotReproposes ==
    ~\E m, n \in msgs :
        /\ m.type = "Accepted" /\ n.type = "Accept"
        /\ m.bal < n.bal /\ m.val = n.val /\ n.val /= Owner(n.bal)
        /\ Chosen(m.val)
=============================================================================
