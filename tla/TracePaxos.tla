----------------------------- MODULE TracePaxos -----------------------------
(***************************************************************************)
(* Trace validation: is a quorumlab simulator trace of single-decree      *)
(* Paxos a behaviour of Paxos.tla?                                         *)
(*                                                                         *)
(* `quorumlab tlc --validate-trace RUN_DIR` writes the run's trace as the  *)
(* generated module TraceData (`Trace`, one record per node step or crash; *)
(* see the header of that module for the fields), copies this module and  *)
(* Paxos.tla next to it and runs TLC on TracePaxos.                        *)
(*                                                                         *)
(* One simulator step is several spec actions.  Every node is proposer,   *)
(* acceptor and learner, and handles its own messages inside the step     *)
(* that sends them: a propose timeout is ProposeTimeout(b), then its own  *)
(* acceptor's Prepare(i, b), then its own proposer receiving that promise; *)
(* a promise that completes a majority is PromiseFrom(b, Q) (phase 2a),   *)
(* then its own Accept, then its own learner counting that acceptance.    *)
(* TLC has no action composition (A \cdot B), so a trace event is matched *)
(* by a bounded sequence of TLA+ steps with the logged state compared only *)
(* at the event's end:                                                     *)
(*   stage "step":  the event's own input (the delivered message, the     *)
(*     timer, the crash) is handled by node i, which must be possible      *)
(*     (a delivered message must have been sent: it is in `msgs`);        *)
(*   stage "inner": each message the node sent to itself (`inbox`) is     *)
(*     handled in turn, as the implementation does (each handler makes at *)
(*     most one, so the chain is at most five long);                      *)
(*   close (when `inbox` is empty): the node's logged state must equal    *)
(*     the spec's, and the messages the spec's actions sent to others must *)
(*     be exactly the ones the implementation sent; then l advances.       *)
(* The handlers are deterministic: an acceptor that may promise (accept)  *)
(* must (Paxos.tla's CanPromise / CanAccept), else it refuses; a node     *)
(* that decides must have counted a majority.  So there is about one      *)
(* distinct state per TLA+ step, and TLC's time is linear in the trace.   *)
(*                                                                         *)
(* Paxos.tla keeps no proposer or learner state (a proposer is the        *)
(* messages it sent; the learner is the Chosen operator).  The            *)
(* implementation's proposer (phase, ballot, the acceptors whose promises *)
(* it counted, the value it proposes) and learner (the acceptances it     *)
(* heard, the decided value in memory and on disk) are auxiliary          *)
(* variables here, compared with the logged state; phase 2a is            *)
(* Paxos.tla's PromiseFrom(b, Q) with Q the promises counted, so the      *)
(* value sent must be Paxos.tla's SafeValue of exactly those promises.    *)
(*                                                                         *)
(* Verdict: as TraceRaft.tla.  TLC runs with -deadlock to the end, the    *)
(* invariant ReportPosition prints <<"trace-position", 1, l, stage>> for  *)
(* every distinct state, and the trace is accepted when some state        *)
(* reached l = Len(Trace) + 1.  Otherwise the largest l printed is the    *)
(* first event no reachable state can take: in stage "step" its own input *)
(* could not be handled, in stage "inner" it was, but the result differs  *)
(* from the logged state or sends.                                         *)
(***************************************************************************)
EXTENDS Paxos, TraceData, TLC

VARIABLES
    pphase,     \* [node -> "idle" | "preparing" | "accepting"]: the proposer
    pbal,       \* [node -> ballot or None]: its current ballot
    ppromises,  \* [node -> SUBSET Acceptor]: promises counted for pbal
    pvalue,     \* [node -> value or None]: the value of its phase 2a
    learnt,     \* [node -> set of Accepted messages heard] (volatile)
    decided,    \* [node -> value or None]: the learner's value in memory
    ddecided,   \* [node -> value or None]: ... and on disk
    l,          \* the trace event being matched, 1..Len(Trace)+1
    stage,      \* "step" (its input) or "inner" (its own messages)
    inbox,      \* the messages node Trace[l].node sent itself, unhandled
    sent        \* the messages the spec's actions sent during event l

proposerVars == <<pphase, pbal, ppromises, pvalue>>
learnerVars  == <<learnt, decided, ddecided>>
traceVars    == <<vars, proposerVars, learnerVars, l, stage, inbox, sent>>

None == -1
Ev(p) == Trace[p]

IsMajority(S) == 2 * Cardinality(S) > Cardinality(Acceptor)

\* Messages a node handles itself inside the step that sends them: its
\* broadcasts (the implementation's send_all) and a promise to its own
\* proposer.
Inline(i, m) ==
    \/ m.type \in {"Prepare", "Accept", "Accepted"}
    \/ m.type = "Promise" /\ Owner(m.bal) = i

\* The messages M are sent by node i; the ones it handles itself join the
\* inbox (`rest` is the inbox without the message being handled).
Emit(i, M, rest) ==
    /\ sent'  = sent \cup M
    /\ inbox' = rest \cup {m \in M : Inline(i, m)}

Ignore(rest) == UNCHANGED <<vars, proposerVars, learnerVars, sent>> /\ inbox' = rest

ProposerIdle(i) ==
    /\ pphase'    = [pphase    EXCEPT ![i] = "idle"]
    /\ pbal'      = [pbal      EXCEPT ![i] = None]
    /\ ppromises' = [ppromises EXCEPT ![i] = {}]
    /\ pvalue'    = [pvalue    EXCEPT ![i] = None]

\* An acceptor's refusal: a nack, which reaches i's own proposer inline
\* when b is i's ballot (nacks to others are not in Paxos.tla).
Refuse(i, b, rest) ==
    /\ UNCHANGED <<vars, proposerVars, learnerVars, sent>>
    /\ inbox' = rest \cup (IF Owner(b) = i THEN {[type |-> "Nack", bal |-> b]} ELSE {})

\* The propose timer (or an immediate retry after a nack): phase 1a with the
\* ballot the implementation logged choosing, unless i has decided.
OnTimeout(i, b, rest) ==
    IF decided[i] /= None THEN Ignore(rest)
    ELSE /\ b /= None /\ Owner(b) = i
         /\ ProposeTimeout(b)
         /\ pphase'    = [pphase    EXCEPT ![i] = "preparing"]
         /\ pbal'      = [pbal      EXCEPT ![i] = b]
         /\ ppromises' = [ppromises EXCEPT ![i] = {}]
         /\ pvalue'    = [pvalue    EXCEPT ![i] = None]
         /\ UNCHANGED learnerVars
         /\ Emit(i, {[type |-> "Prepare", bal |-> b]}, rest)

\* Phase 1b at acceptor i.
OnPrepare(i, b, rest) ==
    IF CanPromise(i, b)
    THEN /\ Prepare(i, b)
         /\ UNCHANGED <<proposerVars, learnerVars>>
         /\ Emit(i, {[type |-> "Promise", bal |-> b, from |-> i, acc |-> accepted[i]]}, rest)
    ELSE Refuse(i, b, rest)

\* Proposer i counts a promise for its current ballot; with a majority it
\* runs phase 2a on exactly the promises it counted.
OnPromise(i, m, rest) ==
    IF pphase[i] /= "preparing" \/ pbal[i] /= m.bal THEN Ignore(rest)
    ELSE LET Q == ppromises[i] \cup {m.from} IN
         IF IsMajority(Q)
         THEN LET v == SafeValue(m.bal, PromisesFor(m.bal, Q)) IN
              /\ PromiseFrom(m.bal, Q)
              /\ pphase'    = [pphase    EXCEPT ![i] = "accepting"]
              /\ ppromises' = [ppromises EXCEPT ![i] = {}]
              /\ pvalue'    = [pvalue    EXCEPT ![i] = v]
              /\ UNCHANGED <<pbal, learnerVars>>
              /\ Emit(i, {[type |-> "Accept", bal |-> m.bal, val |-> v]}, rest)
         ELSE /\ ppromises' = [ppromises EXCEPT ![i] = Q]
              /\ UNCHANGED <<vars, pphase, pbal, pvalue, learnerVars, sent>>
              /\ inbox' = rest

\* A refusal of i's current ballot: the proposer gives it up, and retries
\* at once when the implementation logged a new ballot in this step (its
\* `backoff_ms = [0, 0]`); with a backoff the retry is a later timer.
OnNack(i, b, rest) ==
    IF pphase[i] = "idle" \/ pbal[i] /= b \/ decided[i] /= None THEN Ignore(rest)
    ELSE /\ ProposerIdle(i)
         /\ UNCHANGED <<vars, learnerVars, sent>>
         /\ inbox' = rest \cup (IF Ev(l).proposed /= None THEN {[type |-> "Timeout"]} ELSE {})

\* Phase 2b at acceptor i.
OnAccept(i, m, rest) ==
    IF CanAccept(i, m.bal)
    THEN /\ Accept(i, m.bal, m.val)
         /\ UNCHANGED <<proposerVars, learnerVars>>
         /\ Emit(i, {[type |-> "Accepted", bal |-> m.bal, val |-> m.val, from |-> i]}, rest)
    ELSE Refuse(i, m.bal, rest)

\* Learner i hears an acceptance; a majority for one ballot and value is
\* the chosen value, persisted (unless a crash cut the step before that
\* write: `lost`), and the proposer stops.
OnAccepted(i, m, rest) ==
    IF decided[i] /= None THEN Ignore(rest)
    ELSE LET heard  == learnt[i] \cup {m}
             voters == {x.from : x \in {y \in heard : y.bal = m.bal /\ y.val = m.val}}
         IN  IF IsMajority(voters)
             THEN /\ decided'  = [decided EXCEPT ![i] = m.val]
                  /\ ddecided' = IF Ev(l).lost THEN ddecided
                                 ELSE [ddecided EXCEPT ![i] = m.val]
                  /\ learnt'   = [learnt EXCEPT ![i] = {}]
                  /\ ProposerIdle(i)
                  /\ UNCHANGED <<vars, sent>>
                  /\ inbox' = rest
             ELSE /\ learnt' = [learnt EXCEPT ![i] = heard]
                  /\ UNCHANGED <<vars, proposerVars, decided, ddecided, sent>>
                  /\ inbox' = rest

\* A crash: Paxos.tla's Crash (the promise back to the one on disk), and
\* the proposer and learner lose all but the decided value on disk.
OnCrash(i) ==
    /\ Crash(i)
    /\ ProposerIdle(i)
    /\ learnt'  = [learnt  EXCEPT ![i] = {}]
    /\ decided' = [decided EXCEPT ![i] = ddecided[i]]
    /\ UNCHANGED <<ddecided, sent>>
    /\ inbox' = {}

\* Node i handles input x (an event's own input or a message to itself).
Handle(i, x, rest) ==
    CASE x.type = "Start"    -> Ignore(rest)
      [] x.type = "Crash"    -> OnCrash(i)
      [] x.type = "Timeout"  -> OnTimeout(i, Ev(l).proposed, rest)
      [] x.type = "Prepare"  -> OnPrepare(i, x.bal, rest)
      [] x.type = "Promise"  -> OnPromise(i, x, rest)
      [] x.type = "Nack"     -> OnNack(i, x.bal, rest)
      [] x.type = "Accept"   -> OnAccept(i, x, rest)
      [] x.type = "Accepted" -> OnAccepted(i, x, rest)

\* A delivered Paxos.tla message must have been sent.  Nacks are not in
\* Paxos.tla, so a delivered nack is taken as sent.
Received(e) ==
    e.msg.type \in {"Start", "Crash", "Timeout", "Nack"} \/ e.msg \in msgs

\* After event e, node e.node's logged state is the spec's (a crash logs
\* none: the next restart's state is compared).
PostMatches(e) ==
    LET i == e.node IN
    e.kind /= "Crash" =>
        /\ promised[i]  = e.post.promised
        /\ accepted[i]  = e.post.accepted
        /\ decided[i]   = e.post.decided
        /\ pphase[i]    = e.post.phase
        /\ pbal[i]      = e.post.ballot
        /\ ppromises[i] = e.post.promises
        /\ pvalue[i]    = e.post.value

\* The messages the spec sent to others are exactly the implementation's
\* sends (nacks aside), including those the network dropped and those lost
\* in a crash right after a persist.  A promise to the node's own proposer
\* is no send.
SendsMatch(e) ==
    {m \in sent : ~(m.type = "Promise" /\ Owner(m.bal) = e.node)} = e.sends

TraceStep ==
    /\ stage = "step"
    /\ l <= Len(Trace)
    /\ Received(Ev(l))
    /\ Handle(Ev(l).node, Ev(l).msg, {})
    /\ stage' = "inner"
    /\ UNCHANGED l

TraceInner ==
    /\ stage = "inner"
    /\ \E x \in inbox : Handle(Ev(l).node, x, inbox \ {x})
    /\ UNCHANGED <<l, stage>>

TraceClose ==
    /\ stage = "inner"
    /\ inbox = {}
    /\ PostMatches(Ev(l))
    /\ SendsMatch(Ev(l))
    /\ l' = l + 1
    /\ stage' = "step"
    /\ sent' = {}
    /\ UNCHANGED <<vars, proposerVars, learnerVars, inbox>>

TraceInit ==
    /\ Init
    /\ pphase    = [i \in Proposer |-> "idle"]
    /\ pbal      = [i \in Proposer |-> None]
    /\ ppromises = [i \in Proposer |-> {}]
    /\ pvalue    = [i \in Proposer |-> None]
    /\ learnt    = [i \in Proposer |-> {}]
    /\ decided   = [i \in Proposer |-> None]
    /\ ddecided  = [i \in Proposer |-> None]
    /\ l = 1
    /\ stage = "step"
    /\ inbox = {}
    /\ sent = {}

TraceNext == TraceStep \/ TraceInner \/ TraceClose
TraceSpec == TraceInit /\ [][TraceNext]_traceVars

----------------------------------------------------------------------------
\* Always TRUE; prints the position of every distinct state TLC reaches (the
\* 1 is the window: a Paxos trace is checked whole).
ReportPosition == PrintT(<<"trace-position", 1, l, stage>>)

=============================================================================
