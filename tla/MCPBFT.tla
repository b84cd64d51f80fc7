------------------------------- MODULE MCPBFT -------------------------------
(***************************************************************************)
(* Bounded models of PBFT.tla for TLC.  The bounds are the constants     *)
(* (views 0..MaxView, sequence numbers 1..MaxSeq, the request set): with *)
(* them the state space is finite without a state constraint.            *)
(***************************************************************************)
EXTENDS PBFT

\* The bounded model runs out of views and sequence numbers, where real
\* PBFT would go on: stuttering there is not a deadlock.
MCNext == Next \/ UNCHANGED vars
MCSpec == Init /\ [][MCNext]_vars

\* Only the primary of view 0 is Byzantine (a smaller model, for deeper views).
MCInitPrimaryByzantine == Init /\ byz = {0}

\* Requests are interchangeable (replicas are not: view v's primary is v % N).
Symmetry == Permutations(Request)

\* Non-vacuity witnesses: each must be VIOLATED (TLC then shows a trace
\* reaching the situation), proving the bounded model gets that far.
NoCommit == ~\E v \in View, s \in Seq, d \in Value : Committed(v, s, d)
NoNewView == ~\E r \in Honest : view[r] > 0 /\ active[r]
NoCommitInLaterView ==
    ~\E v \in View \ {0}, s \in Seq, d \in Value : Committed(v, s, d)
=============================================================================
