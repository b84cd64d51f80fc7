------------------------------- MODULE MCRaft -------------------------------
(***************************************************************************)
(* Bounded model of Raft.tla for TLC.  The bounds are a state constraint: *)
(* states past a bound are still generated and checked against the       *)
(* invariants, but not explored further.                                   *)
(***************************************************************************)
EXTENDS Raft

CONSTANTS
    MaxTerm,      \* no server's term exceeds this
    MaxLogLen,    \* no log is longer than this
    MaxMessages,  \* at most this many messages (counting copies) in flight
    MaxCrashes    \* at most this many Crash steps in a behaviour

\* Server ids are interchangeable.
Symmetry == Permutations(Server)

StateBound ==
    /\ \A i \in Server : currentTerm[i] <= MaxTerm
    /\ \A i \in Server : Len(log[i]) <= MaxLogLen
    /\ BagCardinality(messages) <= MaxMessages
    /\ crashes <= MaxCrashes

\* Non-vacuity witnesses: each must be VIOLATED (TLC then shows a trace
\* reaching the situation), proving the bounded model gets that far.
NoLeaderInTerm2  == ~\E e \in elections : e.term = 2
NoCommit         == committed = {}
NoLeaderAfterCommit ==
    ~\E c \in committed, e \in elections : e.term > c.cterm
NoCommitAfterRestart ==
    ~(crashes > 0 /\ \E c \in committed : c.cterm = 2)
=============================================================================
