----------------------------- MODULE TraceRaft -----------------------------
(***************************************************************************)
(* Trace validation: is a quorumlab simulator trace a behaviour of Raft?   *)
(*                                                                         *)
(* `quorumlab tlc --validate-trace RUN_DIR` writes the run's trace as the  *)
(* generated module TraceData (a sequence `Trace` of records, one per node *)
(* step or crash; see the header of that module for the record fields),    *)
(* copies this module and Raft.tla next to it and runs TLC on TraceRaft.   *)
(*                                                                         *)
(* A position counter `l` walks the trace.  Every event takes two TLA+    *)
(* steps:                                                                  *)
(*   phase "step": the one Raft action named by event l, with the action's *)
(*     parameters fixed by the record (node, message, value); the logged   *)
(*     post-state of that node (currentTerm, votedFor, state, commitIndex, *)
(*     log) must equal the record's, and the messages the spec sends in    *)
(*     that action must be exactly the RequestVote, RequestVoteResponse    *)
(*     and AppendEntriesResponse messages the implementation sent.         *)
(*   phase "net": the AppendEntries messages the implementation sent in    *)
(*     that event join the bag, each checked against the leader's state    *)
(*     (see WellFormedAppend), and messages the network duplicated get a   *)
(*     second copy (the spec's DuplicateMessage).  Then l advances.       *)
(* Unlogged state stays free in the sense that it is whatever the spec     *)
(* computes and is never compared: votesGranted, nextIndex, matchIndex     *)
(* and the ghost variables.                                                *)
(*                                                                         *)
(* Acceptance: TLC runs with -deadlock (a state without successors is not *)
(* an error) and the invariant TraceNotConsumed == l <= Len(Trace).  Its   *)
(* violation means some behaviour consumed the whole trace: ACCEPTED (TLC  *)
(* exit 12, invariant TraceNotConsumed).  If TLC finishes without a        *)
(* violation (exit 0), every behaviour got stuck: REJECTED.  The first     *)
(* event the spec cannot take is the largest l any reachable state has:    *)
(* the invariant ReportPosition prints <<"trace-position", l, phase>> for  *)
(* every distinct state (PrintT is TRUE), and quorumlab takes the maximum. *)
(* A maximum reached only in phase "net" means the event's own action was  *)
(* taken but its AppendEntries sends or duplicates were not acceptable.    *)
(***************************************************************************)
EXTENDS Raft, TraceData

VARIABLES
    l,       \* the trace event being matched, 1..Len(Trace)+1
    phase    \* "step" (the event's action) or "net" (its AppendEntries sends)

traceVars == <<vars, l, phase>>

----------------------------------------------------------------------------
\* The logged state of node i after the step equals the record's.
PostMatches(e) ==
    LET i == e.node IN
    /\ currentTerm'[i] = e.post.term
    /\ votedFor'[i]    = e.post.voted_for
    /\ state'[i]       = e.post.state
    /\ commitIndex'[i] = e.post.commit_index
    /\ log'[i]         = e.post.log

\* The messages the spec action sent (added to the bag) are exactly the
\* non-AppendEntries messages the implementation sent, including those the
\* network then dropped and those lost because the node crashed mid-step.
SendsMatch(e) == BagToSet(messages' (-) messages) = e.sends

\* A message the implementation received must be in flight in the spec.
Received(e) == e.msg \in BagToSet(messages) /\ state[e.node] /= Down

\* A step that changes nothing the spec models: a timer that found its
\* node in the wrong role (a stale election timer at a leader, a heartbeat
\* timer at a follower), a client request at a non-leader (the
\* implementation answers with a redirect, which the spec does not model),
\* and a node's first start.  PostMatches and SendsMatch still apply, so the
\* implementation must really have changed nothing and sent nothing.
NoChange == UNCHANGED vars

\* The spec action for event e (before the post-state checks).
SpecAction(e) ==
    LET i == e.node IN
    CASE e.kind = "Init"                  -> NoChange
      [] e.kind = "ElectionTimeout"       -> ElectionTimeout(i) \/ NoChange
      [] e.kind = "HeartbeatTimeout"      -> NoChange
      [] e.kind = "ClientRequest"         -> ClientRequest(i, e.value) \/ NoChange
      [] e.kind = "RequestVote"           -> Received(e) /\ HandleRequestVote(i, e.msg)
      [] e.kind = "RequestVoteResponse"   -> Received(e) /\ HandleRequestVoteResponse(i, e.msg)
      [] e.kind = "AppendEntries"         -> Received(e) /\ HandleAppendEntries(i, e.msg)
      [] e.kind = "AppendEntriesResponse" -> Received(e) /\ HandleAppendEntriesResponse(i, e.msg)
      [] e.kind = "Crash"                 -> Crash(i)
      [] e.kind = "Restart"               -> Restart(i)

TraceStep ==
    /\ phase = "step"
    /\ l <= Len(Trace)
    /\ SpecAction(Trace[l])
    /\ PostMatches(Trace[l])
    /\ SendsMatch(Trace[l])
    /\ phase' = "net"
    /\ UNCHANGED l

\* An AppendEntries that leader i may send now: its current term and commit
\* index, and a slice of its own log after a prefix it names correctly.
\* Which slice is the leader's choice: the implementation picks it from its
\* nextIndex (optimistically advanced, reset by the fast-backtracking hints
\* of a rejection, capped by max_entries_per_append), which the spec leaves
\* free, so any prev_log_index and any number of following entries is a
\* step of the spec.
WellFormedAppend(i, a) ==
    /\ a.type = "AppendEntries"
    /\ a.from = i /\ a.leader = i /\ a.to \in Server \ {i}
    /\ state[i] = Leader
    /\ a.term = currentTerm[i]
    /\ a.leader_commit = commitIndex[i]
    /\ a.prev_log_index + Len(a.entries) <= Len(log[i])
    /\ a.prev_log_term = IF a.prev_log_index > 0
                           THEN log[i][a.prev_log_index].term ELSE 0
    /\ a.entries = SubSeq(log[i], a.prev_log_index + 1,
                          a.prev_log_index + Len(a.entries))

TraceNet ==
    /\ phase = "net"
    /\ l <= Len(Trace)
    /\ \A a \in Trace[l].appends : WellFormedAppend(Trace[l].node, a)
    /\ messages' = messages (+) SetToBag(Trace[l].appends) (+) SetToBag(Trace[l].dups)
    /\ phase' = "step"
    /\ l' = l + 1
    /\ UNCHANGED <<persistentVars, volatileVars, ghostVars>>

TraceInit == Init /\ l = 1 /\ phase = "step"
TraceNext == TraceStep \/ TraceNet
TraceSpec == TraceInit /\ [][TraceNext]_traceVars

----------------------------------------------------------------------------
\* Violated exactly when the whole trace was consumed: ACCEPTED.
TraceNotConsumed == l <= Len(Trace)

\* Always TRUE; prints the position of every distinct state TLC reaches.
ReportPosition == PrintT(<<"trace-position", l, phase>>)

=============================================================================
