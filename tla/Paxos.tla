------------------------------- MODULE Paxos -------------------------------
(***************************************************************************)
(* Single-decree Paxos (Lamport, "Paxos Made Simple", 2001, section 2),   *)
(* written for quorumlab after protocols/src/paxos/.  Action names are    *)
(* the CamelCase forms of the simulator's trace events, as in Raft.tla:   *)
(* `Prepare` is an acceptor handling a prepare, `Promise` a proposer      *)
(* handling the promises, and so on.                                       *)
(*                                                                         *)
(* Ballots are 0..MaxBallot.  With K proposers, ballot b is round b \div K *)
(* of the proposer of rank b % K (ranked by id): the integer order is the *)
(* implementation's `Ballot { round, node }` order (round, then node), so *)
(* no two proposers share one.  Proposer p proposes its own value p (the  *)
(* implementation's node i proposes 100 + i) unless a promise reports an  *)
(* acceptance.  The implementation runs proposer, acceptor and learner on *)
(* every node; here the roles are separate sets, and the learner is the   *)
(* `Chosen` operator: a value is chosen once a majority accepted it in    *)
(* one ballot, whether or not any learner heard.                          *)
(*                                                                         *)
(* Network: `msgs` is the set of every message sent; a receiver may act   *)
(* on any of them at any time, or never (loss, delay, duplication,        *)
(* reordering).  Nacks only hurry a proposer to a higher ballot and are   *)
(* not modelled; a proposer may start any of its ballots at any time.     *)
(*                                                                         *)
(* Crashes: an acceptor persists its promise and acceptance before it     *)
(* replies, so a crash (with an immediate restart: a crashed acceptor is  *)
(* just a slow one) loses nothing.  With PersistPromise = FALSE phase 1b  *)
(* skips the write (the implementation's `volatile-promise` mutant), so a *)
(* crash takes the promise back to the last one persisted (phase 2b       *)
(* persists).  A proposer's state is only which messages it sent; the     *)
(* implementation keeps ballots unique across its restarts by starting    *)
(* above its own acceptor's persisted promise, which the spec takes as    *)
(* given (a ballot is used for at most one phase-2a value).               *)
(***************************************************************************)
EXTENDS Integers, FiniteSets

CONSTANTS
    Acceptor,        \* the acceptors
    Proposer,        \* the proposers' ids (integers: they break ballot ties)
    MaxBallot,       \* ballots are 0..MaxBallot
    MaxCrashes,      \* at most this many acceptor crashes in a behaviour
    PersistPromise,  \* TRUE: phase 1b persists the promise (correct)
    ProposeHighest   \* TRUE: phase 2a takes the value of the highest-ballot
                     \* acceptance the promises report (correct).  FALSE:
                     \* the proposer's own value (`propose-own-value`)

ASSUME Proposer \subseteq Nat /\ Proposer /= {} /\ MaxBallot \in Nat /\ MaxCrashes \in Nat
ASSUME PersistPromise \in BOOLEAN /\ ProposeHighest \in BOOLEAN

Value  == Proposer
Ballot == 0..MaxBallot
Rank(p) == Cardinality({q \in Proposer : q < p})
\* The proposer whose ballot b is.
Owner(b) == CHOOSE p \in Proposer : Rank(p) = b % Cardinality(Proposer)
\* Below every ballot: an acceptor that promised or accepted nothing.
NoBallot == -1
NoAcceptance == [bal |-> NoBallot, val |-> -1]

Majority == {Q \in SUBSET Acceptor : 2 * Cardinality(Q) > Cardinality(Acceptor)}

VARIABLES
    promised,   \* [Acceptor -> ballot]: the promise in memory
    durable,    \* [Acceptor -> ballot]: the promise on disk
    accepted,   \* [Acceptor -> [bal, val]]: the acceptance (always on disk)
    msgs,       \* the set of messages sent
    crashes     \* acceptor crashes so far (bounding counter)

vars == <<promised, durable, accepted, msgs, crashes>>

----------------------------------------------------------------------------
Init ==
    /\ promised = [a \in Acceptor |-> NoBallot]
    /\ durable  = [a \in Acceptor |-> NoBallot]
    /\ accepted = [a \in Acceptor |-> NoAcceptance]
    /\ msgs = {}
    /\ crashes = 0

\* propose_timeout: b's proposer starts phase 1 with ballot b (phase 1a).
ProposeTimeout(b) ==
    /\ [type |-> "Prepare", bal |-> b] \notin msgs
    /\ msgs' = msgs \cup {[type |-> "Prepare", bal |-> b]}
    /\ UNCHANGED <<promised, durable, accepted, crashes>>

\* prepare: acceptor a promises b, above every earlier promise, and reports
\* its acceptance (phase 1b).
\* Whether acceptor a may promise ballot b, and accept in it (factored out so
\* that TracePaxos.tla can say what an acceptor must do with a message).
CanPromise(a, b) == promised[a] < b
CanAccept(a, b)  == promised[a] <= b

Prepare(a, b) ==
    /\ [type |-> "Prepare", bal |-> b] \in msgs
    /\ CanPromise(a, b)
    /\ promised' = [promised EXCEPT ![a] = b]
    /\ durable'  = IF PersistPromise THEN [durable EXCEPT ![a] = b] ELSE durable
    /\ msgs' = msgs \cup {[type |-> "Promise", bal |-> b, from |-> a,
                           acc |-> accepted[a]]}
    /\ UNCHANGED <<accepted, crashes>>

\* The value phase 2a may send for ballot b after the promises P: the
\* highest-ballot acceptance they report, else the proposer's own value.
SafeValue(b, P) ==
    LET reported == {m.acc : m \in {m \in P : m.acc.bal /= NoBallot}}
        top      == CHOOSE x \in reported : \A y \in reported : y.bal <= x.bal
    IN  IF reported = {} \/ ~ProposeHighest THEN Owner(b) ELSE top.val

\* The promises for ballot b sent by the acceptors Q.
PromisesFor(b, Q) == {m \in msgs : m.type = "Promise" /\ m.bal = b /\ m.from \in Q}

\* b's proposer, holding promises for b from every acceptor of Q, sends
\* accept (phase 2a), once per ballot.  (Factored out of Promise so that
\* TracePaxos.tla can name the promises the implementation counted.)
PromiseFrom(b, Q) ==
    LET P == PromisesFor(b, Q) IN
    /\ ~\E m \in msgs : m.type = "Accept" /\ m.bal = b
    /\ \A a \in Q : \E m \in P : m.from = a
    /\ msgs' = msgs \cup {[type |-> "Accept", bal |-> b, val |-> SafeValue(b, P)]}
    /\ UNCHANGED <<promised, durable, accepted, crashes>>

\* promise: with promises for b from a majority, b's proposer sends accept.
Promise(b) == \E Q \in Majority : PromiseFrom(b, Q)

\* accept: acceptor a accepts v in ballot b unless it promised a higher
\* ballot, persists, and tells the learners (phase 2b).
Accept(a, b, v) ==
    /\ [type |-> "Accept", bal |-> b, val |-> v] \in msgs
    /\ CanAccept(a, b)
    /\ promised' = [promised EXCEPT ![a] = b]
    /\ durable'  = [durable EXCEPT ![a] = b]
    /\ accepted' = [accepted EXCEPT ![a] = [bal |-> b, val |-> v]]
    /\ msgs' = msgs \cup {[type |-> "Accepted", bal |-> b, val |-> v, from |-> a]}
    /\ UNCHANGED crashes

\* crash and restart: acceptor a comes back with what it persisted.
Crash(a) ==
    /\ crashes < MaxCrashes
    /\ promised' = [promised EXCEPT ![a] = durable[a]]
    /\ crashes'  = crashes + 1
    /\ UNCHANGED <<durable, accepted, msgs>>

Next ==
    \/ \E b \in Ballot : ProposeTimeout(b)
    \/ \E a \in Acceptor, b \in Ballot : Prepare(a, b)
    \/ \E b \in Ballot : Promise(b)
    \/ \E a \in Acceptor, b \in Ballot, v \in Value : Accept(a, b, v)
    \/ \E a \in Acceptor : Crash(a)

Spec == Init /\ [][Next]_vars

----------------------------------------------------------------------------
\* Invariants.

TypeOK ==
    /\ promised \in [Acceptor -> Ballot \cup {NoBallot}]
    /\ durable  \in [Acceptor -> Ballot \cup {NoBallot}]
    /\ accepted \in [Acceptor -> [bal : Ballot, val : Value] \cup {NoAcceptance}]
    /\ crashes \in 0..MaxCrashes

Chosen(v) ==
    \E b \in Ballot, Q \in Majority :
        \A a \in Q : [type |-> "Accepted", bal |-> b, val |-> v, from |-> a] \in msgs

\* At most one value is ever chosen.
Agreement == \A v, w \in Value : Chosen(v) /\ Chosen(w) => v = w

\* Only a value some proposer proposed (started a ballot for) is accepted.
Validity ==
    \A m \in msgs : m.type = "Accepted" =>
        \E b \in Ballot : Owner(b) = m.val /\ [type |-> "Prepare", bal |-> b] \in msgs

\* An acceptor's accepted ballot never exceeds its promise.
AcceptorPromise == \A a \in Acceptor : accepted[a].bal <= promised[a]

=============================================================================
