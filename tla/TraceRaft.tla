----------------------------- MODULE TraceRaft -----------------------------
(***************************************************************************)
(* Trace validation: is a quorumlab simulator trace a behaviour of Raft?   *)
(*                                                                         *)
(* `quorumlab tlc --validate-trace RUN_DIR` writes the run's trace as the  *)
(* generated module TraceData (`Trace`, one record per node step or crash; *)
(* see the header of that module for the record fields), copies this      *)
(* module and Raft.tla next to it and runs TLC on TraceRaft.               *)
(*                                                                         *)
(* Windows.  The events are cut into windows (TraceWindows); each window   *)
(* starts from every node's logged state before its first event and the    *)
(* message bag rebuilt from the trace (see tla/validate/src/window.rs for  *)
(* why this is exact).  TraceInit ranges over the windows (variable w), so *)
(* one TLC run checks them all, each as its own behaviour.                 *)
(*                                                                         *)
(* A position counter `l` walks a window.  Every event takes two TLA+     *)
(* steps:                                                                  *)
(*   phase "step": the one Raft action named by event l, with the action's *)
(*     parameters fixed by the record (node, message, value); the logged   *)
(*     post-state of that node (currentTerm, votedFor, state, commitIndex, *)
(*     log, votesGranted, matchIndex) must equal the record's, the         *)
(*     messages the spec sends in that action must be exactly the          *)
(*     RequestVote, RequestVoteResponse and AppendEntriesResponse messages *)
(*     the implementation sent, and the step restarted the election timer  *)
(*     exactly when Raft.tla's RestartsElectionTimer says it must.         *)
(*   phase "net": the AppendEntries messages the implementation sent in    *)
(*     that event join the bag, each checked against the leader's state    *)
(*     (see WellFormedAppend), and messages the network duplicated get a   *)
(*     second copy (the spec's DuplicateMessage).  Then l advances.       *)
(* Unlogged state stays free in the sense that it is whatever the spec     *)
(* computes and is never compared: nextIndex and the ghost variables.      *)
(*                                                                         *)
(* Verdict: TLC runs with -deadlock (a state without successors is not an *)
(* error) to the end.  The invariant ReportPosition prints                 *)
(* <<"trace-position", w, l, phase>> for every distinct state (PrintT is   *)
(* TRUE).  Window w is ACCEPTED when some state reached l = last + 1;      *)
(* otherwise the largest l printed for it is the first event no reachable  *)
(* state can take.  A maximum reached only in phase "net" means the        *)
(* event's own action was taken but its AppendEntries sends or duplicates  *)
(* were not acceptable.                                                    *)
(***************************************************************************)
EXTENDS Raft, TraceData

VARIABLES
    w,       \* the window being checked, an index of TraceWindows
    l,       \* the trace event being matched, first..last+1 of window w
    phase    \* "step" (the event's action) or "net" (its AppendEntries sends)

traceVars == <<vars, w, l, phase>>

\* Event p of the trace (TraceData holds the events of its windows only).
Ev(p) == Trace[p - TraceOffset]

\* A tuple by TraceServers order, as a function of the server.
Pos(j) == CHOOSE k \in DOMAIN TraceServers : TraceServers[k] = j
AtPos(t) == [j \in Server |-> t[Pos(j)]]

----------------------------------------------------------------------------
\* The logged state of node i after the step equals the record's.  The log
\* is recorded as the length of the prefix kept from the log before the
\* step and the entries after it (so a record is as long as the change).
PostMatches(e) ==
    LET i == e.node IN
    /\ currentTerm'[i]  = e.post.term
    /\ votedFor'[i]     = e.post.voted_for
    /\ state'[i]        = e.post.state
    /\ commitIndex'[i]  = e.post.commit_index
    /\ e.post.keep <= Len(log[i])
    /\ log'[i]          = SubSeq(log[i], 1, e.post.keep) \o e.post.tail
    /\ votesGranted'[i] = e.post.votes
    /\ matchIndex'[i]   = AtPos(e.post.match)

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

\* Whether event e restarted its node's election timer, as Raft.tla's
\* RestartsElectionTimer (messages) and 5.2 (a new election; a start or
\* restart) require.
TimerMatches(e) ==
    LET i == e.node IN
    e.reset = CASE e.kind \in {"Init", "Restart"}  -> TRUE
                [] e.kind = "ElectionTimeout"       -> state'[i] = Candidate
                [] e.kind \in {"RequestVote", "RequestVoteResponse",
                               "AppendEntries", "AppendEntriesResponse"}
                                                    -> RestartsElectionTimer(i, e.msg)
                [] OTHER                            -> FALSE

TraceStep ==
    /\ phase = "step"
    /\ l <= TraceWindows[w].last
    /\ SpecAction(Ev(l))
    /\ PostMatches(Ev(l))
    /\ SendsMatch(Ev(l))
    /\ TimerMatches(Ev(l))
    /\ phase' = "net"
    /\ UNCHANGED <<w, l>>

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
    /\ l <= TraceWindows[w].last
    /\ \A a \in Ev(l).appends : WellFormedAppend(Ev(l).node, a)
    /\ messages' = messages (+) SetToBag(Ev(l).appends) (+) SetToBag(Ev(l).dups)
    /\ phase' = "step"
    /\ l' = l + 1
    /\ UNCHANGED <<w, persistentVars, volatileVars, ghostVars>>

\* A bag given as a set of <<message, copies>> pairs.
PairsToBag(P) == [m \in {p[1] : p \in P} |-> CHOOSE c \in {p[2] : p \in P} : <<m, c>> \in P]

\* Window k's start: the logged state of every node before its first event
\* and the messages in flight then that it receives.  nextIndex (never
\* compared) starts at its follower value, the ghost variables empty.
TraceInit ==
    \E k \in DOMAIN TraceWindows :
        LET s == TraceWindows[k] IN
        /\ w = k
        /\ l = s.first
        /\ phase = "step"
        /\ currentTerm  = AtPos(s.term)
        /\ votedFor     = AtPos(s.voted_for)
        /\ log          = AtPos(s.log)
        /\ state        = AtPos(s.state)
        /\ commitIndex  = AtPos(s.commit_index)
        /\ votesGranted = AtPos(s.votes)
        /\ nextIndex    = [i \in Server |-> NoNext]
        /\ matchIndex   = [i \in Server |-> AtPos(s.match[Pos(i)])]
        /\ messages     = PairsToBag(s.bag)
        /\ elections    = {}
        /\ committed    = {}
        /\ crashes      = 0

TraceNext == TraceStep \/ TraceNet
TraceSpec == TraceInit /\ [][TraceNext]_traceVars

----------------------------------------------------------------------------
\* Always TRUE; prints the position of every distinct state TLC reaches.
ReportPosition == PrintT(<<"trace-position", w, l, phase>>)

=============================================================================
