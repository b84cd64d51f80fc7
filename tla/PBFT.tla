-------------------------------- MODULE PBFT --------------------------------
(***************************************************************************)
(* Practical Byzantine Fault Tolerance (Castro and Liskov, OSDI 1999,     *)
(* sections 4.2 and 4.4): the normal case (pre-prepare, prepare, commit)  *)
(* and the view change carrying prepared certificates into the new view,  *)
(* written for quorumlab after protocols/src/pbft/.                       *)
(*                                                                         *)
(* Replicas are 0..N-1; the primary of view v is v % N.  `byz` (chosen at *)
(* Init, F replicas) are Byzantine; the others are honest.                *)
(*                                                                         *)
(* Network: `msgs` is the set of every message an honest replica ever     *)
(* sent.  A receiver may act on any of them at any time, or never, so     *)
(* loss, delay, duplication and reordering are all covered.               *)
(*                                                                         *)
(* Byzantine replicas: signatures make identity unforgeable, so a         *)
(* Byzantine replica can send any message with itself as the sender, and  *)
(* nothing else.  Rather than adding its messages to `msgs` step by step, *)
(* the spec treats every message a Byzantine replica could send as sent   *)
(* already (the `...Sent` operators below answer TRUE for it).  This is   *)
(* exactly as strong: honest replicas' guards only ask whether enough     *)
(* messages exist, so a message existing earlier than the Byzantine       *)
(* replica would have sent it only lets a receiver act earlier, which it  *)
(* may also decline to do.  A Byzantine replica's view-change can carry   *)
(* any set of certificates that are provable (a quorum of signed votes    *)
(* exists), and a Byzantine new primary's new-view any assignment some    *)
(* quorum of view-changes justifies: backups recompute the assignment     *)
(* from the view-changes the new-view carries, as the implementation's    *)
(* do, so that is all it can get accepted.  Messages honest replicas      *)
(* ignore (a pre-prepare from a non-primary, an unjustified new-view) are *)
(* not modelled.                                                          *)
(*                                                                         *)
(* Abstracted: client requests are a constant set of signed requests      *)
(* (clients cannot be impersonated, so a Byzantine replica can only       *)
(* propose these or the null request); replies, execution order and      *)
(* checkpoints (the log low water mark stays 0); timers (a view change    *)
(* may start at any time, which covers every timeout and the f + 1 rule   *)
(* of joining a higher view).  Quorum sizes are constants so that a       *)
(* model can break them on purpose.                                       *)
(***************************************************************************)
EXTENDS Naturals, FiniteSets, TLC

CONSTANTS
    N,              \* number of replicas, 0..N-1
    F,              \* number of Byzantine replicas
    Quorum,         \* commit, view-change and new-view quorum: N - F
                    \* (= 2F + 1 when N = 3F + 1): what F silent replicas
                    \* cannot block
    PrepareQuorum,  \* matching votes (the pre-prepare counts as the
                    \* primary's) that make a request prepared: 2F + 1
    Request,        \* the client requests (signed by their clients)
    Null,           \* the null request a new view fills gaps with
    MaxView,        \* views are 0..MaxView
    MaxSeq,         \* sequence numbers are 1..MaxSeq
    KeepOldCerts,   \* TRUE: a view-change carries, per sequence number, the
                    \* certificate of the highest view its sender prepared
                    \* in (the paper).  FALSE: only those of the last view
                    \* its sender was active in (what protocols/src/pbft/
                    \* keeps: entering a view clears its log).
    UsePrepared     \* TRUE: the new view re-proposes the prepared
                    \* certificates of its view-changes (correct PBFT).
                    \* FALSE: the new primary ignores them (a bug).

ASSUME N \in Nat \ {0} /\ F \in 0..N /\ Quorum \in 1..N /\ PrepareQuorum \in 1..N
ASSUME Null \notin Request
ASSUME MaxView \in Nat /\ MaxSeq \in Nat \ {0}
ASSUME UsePrepared \in BOOLEAN /\ KeepOldCerts \in BOOLEAN

Replica == 0..(N - 1)
View    == 0..MaxView
Seq     == 1..MaxSeq
Value   == Request \cup {Null}
Primary(v) == v % N

\* A prepared certificate: the view, sequence number and value a quorum of
\* signed votes agrees on.
Cert == [view : View, seq : Seq, val : Value]

VARIABLES
    byz,     \* the Byzantine replicas (fixed at Init)
    view,    \* [Replica -> View]: an honest replica's current view
    active,  \* [Replica -> BOOLEAN]: FALSE between sending a view-change
             \* and entering the new view
    msgs     \* the set of messages honest replicas sent

vars == <<byz, view, active, msgs>>

Honest == Replica \ byz

----------------------------------------------------------------------------
\* Message constructors.  A view-change names its view, its sender and the
\* last view the sender was active in: an honest replica's prepared
\* certificates are a function of the commits it sent (PreparedCerts below),
\* and those never change once it left the lower views, so they need not be
\* copied into the message.

PrePrepareMsg(v, s, d, r) == [type |-> "PrePrepare", view |-> v, seq |-> s, val |-> d, from |-> r]
PrepareMsg(v, s, d, r)    == [type |-> "Prepare",    view |-> v, seq |-> s, val |-> d, from |-> r]
CommitMsg(v, s, d, r)     == [type |-> "Commit",     view |-> v, seq |-> s, val |-> d, from |-> r]
ViewChangeMsg(v, r, w)    == [type |-> "ViewChange", view |-> v, from |-> r, last |-> w]
ViewChangeSent(v, r) == \E w \in View : ViewChangeMsg(v, r, w) \in msgs
\* The last view honest r was active in before its view-change for v.
LastActive(v, r) == (CHOOSE m \in msgs : m.type = "ViewChange" /\ m.view = v /\ m.from = r).last
\* `o` is the new view's assignment: a set of [seq, val] records.
NewViewMsg(v, r, o)       == [type |-> "NewView",    view |-> v, from |-> r, o |-> o]

\* Was the message sent?  A Byzantine sender has sent every message.
PrePrepareSent(v, s, d) ==
    Primary(v) \in byz \/ PrePrepareMsg(v, s, d, Primary(v)) \in msgs

\* Replica r's signed vote for d at (v, s): the primary's pre-prepare or a
\* backup's prepare.
VoteSent(r, v, s, d) ==
    \/ r \in byz
    \/ r = Primary(v) /\ PrePrepareMsg(v, s, d, r) \in msgs
    \/ r /= Primary(v) /\ PrepareMsg(v, s, d, r) \in msgs

CommitSent(r, v, s, d) == r \in byz \/ CommitMsg(v, s, d, r) \in msgs

\* A prepared certificate for (v, s, d) can be assembled from signed votes.
Provable(v, s, d) ==
    Cardinality({r \in Replica : VoteSent(r, v, s, d)}) >= PrepareQuorum

\* Honest replica r accepted d at (v, s): its own vote (a primary's
\* pre-prepare, a backup's prepare) is how it records the acceptance.
Accepted(r, v, s, d) ==
    IF r = Primary(v) THEN PrePrepareMsg(v, s, d, r) \in msgs
                      ELSE PrepareMsg(v, s, d, r) \in msgs

AcceptedAny(r, v, s) == \E d \in Value : Accepted(r, v, s, d)

Prepared(r, v, s, d) == Accepted(r, v, s, d) /\ Provable(v, s, d)

\* Honest replica r is committed-local for d at (v, s): it prepared d (it
\* sends its commit exactly then) and a quorum sent matching commits.
CommittedLocal(r, v, s, d) ==
    /\ CommitMsg(v, s, d, r) \in msgs
    /\ Cardinality({q \in Replica : CommitSent(q, v, s, d)}) >= Quorum

Committed(v, s, d) == \E r \in Honest : CommittedLocal(r, v, s, d)

----------------------------------------------------------------------------
\* The view change (section 4.4).

\* The certificates honest replica r's view-change for view v carries: per
\* sequence number, the one of the highest view below v in which r
\* prepared (sent a commit); with KeepOldCerts = FALSE only those of the
\* last view r was active in.
PreparedCerts(r, v) ==
    {c \in Cert :
        /\ c.view < v
        /\ KeepOldCerts \/ c.view = LastActive(v, r)
        /\ CommitMsg(c.view, c.seq, c.val, r) \in msgs
        /\ ~\E w \in (c.view + 1)..(v - 1), d \in Value :
               CommitMsg(w, c.seq, d, r) \in msgs}

\* The certificates a Byzantine replica's view-change for v may carry: any
\* that it can prove.
ProvableCerts(v) == {c \in Cert : c.view < v /\ Provable(c.view, c.seq, c.val)}

Max(S) == CHOOSE x \in S : \A y \in S : y <= x

\* The new-view assignments a set of certificates yields: for each sequence
\* number up to the highest certified one, the value of a certificate of
\* the highest view (if a faulty quorum lets two differ, either), else the
\* null request.  With UsePrepared = FALSE (the bug) nothing is re-proposed.
Assignments(certs) ==
    IF ~UsePrepared \/ certs = {} THEN {{}}
    ELSE
    LET high     == Max({c.seq : c \in certs})
        At(s)    == {c \in certs : c.seq = s}
        Top(s)   == Max({c.view : c \in At(s)})
        Choices(s) == IF At(s) = {} THEN {Null}
                      ELSE {c.val : c \in {e \in At(s) : e.view = Top(s)}}
    IN  {{[seq |-> s, val |-> f[s]] : s \in 1..high} :
            f \in {g \in [1..high -> Value] : \A s \in 1..high : g[s] \in Choices(s)}}

\* Every assignment some quorum (or more) of view-changes for v justifies: the
\* implementation's new primary sends every view-change it has.
Justified(v) ==
    UNION {UNION {Assignments(UNION {PreparedCerts(r, v) : r \in Q \ byz} \cup B) :
                    B \in IF Q \cap byz = {} THEN {{}} ELSE SUBSET ProvableCerts(v)} :
           Q \in {Q \in SUBSET Replica :
                    /\ Cardinality(Q) >= Quorum
                    /\ \A r \in Q \ byz : ViewChangeSent(v, r)}}

\* The new-views for v a backup can receive.
NewViewsFor(v) ==
    IF Primary(v) \in byz
      THEN Justified(v)
      ELSE {m.o : m \in {m \in msgs : m.type = "NewView" /\ m.view = v}}

----------------------------------------------------------------------------
Init ==
    /\ byz \in {S \in SUBSET Replica : Cardinality(S) = F}
    /\ view = [r \in Replica |-> 0]
    /\ active = [r \in Replica |-> TRUE]
    /\ msgs = {}

\* pre_prepare: honest primary p assigns request d to sequence number s
\* (each request once, each number once, per view).
PrePrepare(p, s, d) ==
    LET v == view[p] IN
    /\ p \notin byz
    /\ active[p] /\ p = Primary(v)
    /\ ~AcceptedAny(p, v, s)
    /\ ~\E t \in Seq : Accepted(p, v, t, d)
    /\ msgs' = msgs \cup {PrePrepareMsg(v, s, d, p)}
    /\ UNCHANGED <<byz, view, active>>

\* prepare: honest backup r accepts the primary's pre-prepare of d at s,
\* unless it accepted a value there in this view already.
Prepare(r, s, d) ==
    LET v == view[r] IN
    /\ r \notin byz
    /\ active[r] /\ r /= Primary(v)
    /\ PrePrepareSent(v, s, d)
    /\ ~AcceptedAny(r, v, s)
    /\ msgs' = msgs \cup {PrepareMsg(v, s, d, r)}
    /\ UNCHANGED <<byz, view, active>>

\* commit: honest r has prepared d at s in its view and multicasts a commit.
Commit(r, s, d) ==
    LET v == view[r] IN
    /\ r \notin byz
    /\ active[r]
    /\ Prepared(r, v, s, d)
    /\ CommitMsg(v, s, d, r) \notin msgs
    /\ msgs' = msgs \cup {CommitMsg(v, s, d, r)}
    /\ UNCHANGED <<byz, view, active>>

\* view_change_timeout: honest r moves to a higher view v and multicasts a
\* view-change (its prepared certificates: PreparedCerts(r, v)).
StartViewChange(r, v) ==
    /\ r \notin byz
    /\ v > view[r]
    /\ view'   = [view EXCEPT ![r] = v]
    /\ active' = [active EXCEPT ![r] = FALSE]
    /\ msgs'   = msgs \cup {ViewChangeMsg(v, r, IF active[r] THEN view[r] ELSE LastActive(view[r], r))}
    /\ UNCHANGED byz

\* new_view: honest p, the primary of the view it is changing to, has a
\* quorum of view-changes; it multicasts the new-view and its pre-prepares
\* for an assignment o some quorum justifies, and enters the view.
NewView(p) ==
    LET v == view[p] IN
    /\ p \notin byz
    /\ ~active[p] /\ p = Primary(v)
    /\ \E o \in Justified(v) :
          msgs' = msgs \cup {NewViewMsg(v, p, o)}
                       \cup {PrePrepareMsg(v, a.seq, a.val, p) : a \in o}
    /\ active' = [active EXCEPT ![p] = TRUE]
    /\ UNCHANGED <<byz, view>>

\* new_view at a backup: honest r enters view v from its primary's new-view
\* and prepares every assignment in it.
EnterView(r, v) ==
    /\ r \notin byz
    /\ r /= Primary(v)
    /\ view[r] < v \/ (view[r] = v /\ ~active[r])
    /\ \E o \in NewViewsFor(v) :
          msgs' = msgs \cup {PrepareMsg(v, a.seq, a.val, r) : a \in o}
    /\ view'   = [view EXCEPT ![r] = v]
    /\ active' = [active EXCEPT ![r] = TRUE]
    /\ UNCHANGED byz

\* Only honest replicas take steps (Byzantine ones have sent everything).
Next ==
    \/ \E r \in Replica, s \in Seq, d \in Request : PrePrepare(r, s, d)
    \/ \E r \in Replica, s \in Seq, d \in Value : Prepare(r, s, d)
    \/ \E r \in Replica, s \in Seq, d \in Value : Commit(r, s, d)
    \/ \E r \in Replica, v \in View : StartViewChange(r, v)
    \/ \E r \in Replica : NewView(r)
    \/ \E r \in Replica, v \in View : EnterView(r, v)

Spec == Init /\ [][Next]_vars

----------------------------------------------------------------------------
\* Invariants (judged over honest replicas only).

TypeOK ==
    /\ byz \subseteq Replica /\ Cardinality(byz) = F
    /\ view \in [Replica -> View]
    /\ active \in [Replica -> BOOLEAN]

\* No two honest replicas commit different values at the same sequence
\* number, in any views.
Agreement ==
    \A s \in Seq, v1, v2 \in View, d1, d2 \in Value :
        Committed(v1, s, d1) /\ Committed(v2, s, d2) => d1 = d2

\* A value committed in one view is the value every honest replica accepts
\* at that sequence number in every later view.
ViewChangeSafety ==
    \A s \in Seq, v1, v2 \in View, d1, d2 \in Value, r \in Honest :
        v1 < v2 /\ Committed(v1, s, d1) /\ Accepted(r, v2, s, d2) => d1 = d2

=============================================================================
