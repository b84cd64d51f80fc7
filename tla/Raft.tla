-------------------------------- MODULE Raft --------------------------------
(***************************************************************************)
(* Raft consensus (elections, log replication, commitment, crash/restart) *)
(* over an asynchronous network, written for quorumlab.                   *)
(*                                                                         *)
(* Action names are the CamelCase forms of quorumlab's simulator trace     *)
(* events (election_timeout -> ElectionTimeout, request_vote ->            *)
(* RequestVote, ...), so a simulator trace can be replayed against, or     *)
(* compared with, a TLC counterexample step by step.                       *)
(*                                                                         *)
(* Network model: `messages` is a bag (multiset) of message records, i.e. *)
(* a function from records to positive counts (standard module Bags).      *)
(* Delivery is unordered.  A handler consumes exactly one copy of the      *)
(* message it handles.  DuplicateMessage adds a copy of a message in       *)
(* flight and DropMessage removes one, so loss, duplication and            *)
(* reordering are all explicit, separately countable steps.                *)
(*                                                                         *)
(* The spec itself is unbounded; MCRaft.tla bounds terms, log lengths,     *)
(* messages in flight and crashes for TLC with a state constraint.         *)
(***************************************************************************)
EXTENDS Naturals, Sequences, FiniteSets, Bags, TLC

CONSTANTS
    Server,       \* the set of server ids
    Value,        \* the set of values clients may propose
    Nil,          \* a value that is not a server (votedFor when no vote)
    PersistVote   \* TRUE: Restart keeps currentTerm and votedFor (correct
                  \* Raft).  FALSE: they are volatile and lost on a crash
                  \* (a deliberate bug that must break ElectionSafety).

ASSUME Nil \notin Server
ASSUME PersistVote \in BOOLEAN

\* Server states.  "Down" is a crashed server that has not restarted yet.
Follower  == "Follower"
Candidate == "Candidate"
Leader    == "Leader"
Down      == "Down"

----------------------------------------------------------------------------
VARIABLES
    \* --- persistent state, survives Crash/Restart (when PersistVote) ---
    currentTerm,   \* [Server -> Nat]
    votedFor,      \* [Server -> Server \cup {Nil}]
    log,           \* [Server -> Seq([term: Nat, value: Value])]
    \* --- volatile state, lost on Crash ---
    state,         \* [Server -> {Follower, Candidate, Leader, Down}]
    commitIndex,   \* [Server -> Nat]
    votesGranted,  \* [Server -> SUBSET Server]   (candidate bookkeeping)
    nextIndex,     \* [Server -> [Server -> Nat]] (leader bookkeeping)
    matchIndex,    \* [Server -> [Server -> Nat]] (leader bookkeeping)
    \* --- network ---
    messages,      \* bag of message records
    \* --- ghost / bounding variables, not read by any protocol action ---
    elections,     \* set of [term, leader] for every election ever won
    committed,     \* set of [index, term, value, cterm] for every entry a
                   \* leader of term cterm ever counted as committed
    crashes        \* number of Crash steps taken so far (for bounding)

persistentVars == <<currentTerm, votedFor, log>>
volatileVars   == <<state, commitIndex, votesGranted, nextIndex, matchIndex>>
ghostVars      == <<elections, committed, crashes>>
vars == <<persistentVars, volatileVars, messages, ghostVars>>

----------------------------------------------------------------------------
\* Helpers

Quorum(S) == 2 * Cardinality(S) > Cardinality(Server)

Max(a, b) == IF a >= b THEN a ELSE b
Min(a, b) == IF a <= b THEN a ELSE b

LastTerm(l) == IF Len(l) = 0 THEN 0 ELSE l[Len(l)].term

Entry == [term : Nat, value : Value]

Send(m, bag)    == bag (+) SetToBag({m})
Discard(m, bag) == bag (-) SetToBag({m})
SendAll(S, bag) == bag (+) SetToBag(S)
\* Consume message m and send reply r in the same step.
Reply(r, m) == messages' = Send(r, Discard(m, messages))

InFlight(type, i) ==
    {m \in BagToSet(messages) : m.type = type /\ m.to = i}

\* Term bookkeeping shared by all handlers: on seeing a higher term, adopt
\* it, clear the vote and step down to Follower (Raft figure 2, "all
\* servers").  These are the values the handler then works with.
NewTerm(i, t)  == Max(currentTerm[i], t)
NewVote(i, t)  == IF t > currentTerm[i] THEN Nil ELSE votedFor[i]
NewState(i, t) == IF t > currentTerm[i] THEN Follower ELSE state[i]

\* Role bookkeeping is only meaningful in its role: votesGranted for a
\* candidate, nextIndex/matchIndex for a leader.  Whenever server i ends a
\* step in role s, the bookkeeping of the other roles is reset to its
\* initial value, so stale leftovers do not create spurious distinct states.
\* (Each is re-initialised on entering the role anyway.)
NoIndexes == [j \in Server |-> 0]
NoNext    == [j \in Server |-> 1]
ClearRoleState(i, s) ==
    /\ votesGranted' = [votesGranted EXCEPT ![i] = IF s = Candidate THEN @ ELSE {}]
    /\ nextIndex'    = [nextIndex EXCEPT ![i] = IF s = Leader THEN @ ELSE NoNext]
    /\ matchIndex'   = [matchIndex EXCEPT ![i] = IF s = Leader THEN @ ELSE NoIndexes]

----------------------------------------------------------------------------
Init ==
    /\ currentTerm  = [i \in Server |-> 0]
    /\ votedFor     = [i \in Server |-> Nil]
    /\ log          = [i \in Server |-> << >>]
    /\ state        = [i \in Server |-> Follower]
    /\ commitIndex  = [i \in Server |-> 0]
    /\ votesGranted = [i \in Server |-> {}]
    /\ nextIndex    = [i \in Server |-> [j \in Server |-> 1]]
    /\ matchIndex   = [i \in Server |-> [j \in Server |-> 0]]
    /\ messages     = EmptyBag
    /\ elections    = {}
    /\ committed    = {}
    /\ crashes      = 0

----------------------------------------------------------------------------
\* election_timeout: i becomes a candidate, increments its term, votes for
\* itself and asks every other server for a vote.
ElectionTimeout(i) ==
    /\ state[i] \in {Follower, Candidate}
    /\ currentTerm'  = [currentTerm EXCEPT ![i] = @ + 1]
    /\ state'        = [state EXCEPT ![i] = Candidate]
    /\ votedFor'     = [votedFor EXCEPT ![i] = i]
    /\ votesGranted' = [votesGranted EXCEPT ![i] = {i}]
    /\ messages' = SendAll({[type           |-> "RequestVote",
                             from           |-> i,
                             to             |-> j,
                             term           |-> currentTerm[i] + 1,
                             candidate      |-> i,
                             last_log_index |-> Len(log[i]),
                             last_log_term  |-> LastTerm(log[i])]
                            : j \in Server \ {i}}, messages)
    /\ UNCHANGED <<log, commitIndex, nextIndex, matchIndex, ghostVars>>

\* heartbeat_timeout: leader i sends AppendEntries to every other server,
\* carrying all entries from that server's nextIndex on (possibly none).
HeartbeatTimeout(i) ==
    /\ state[i] = Leader
    /\ messages' = SendAll({
          LET prev == nextIndex[i][j] - 1
          IN  [type           |-> "AppendEntries",
               from           |-> i,
               to             |-> j,
               term           |-> currentTerm[i],
               leader         |-> i,
               prev_log_index |-> prev,
               prev_log_term  |-> IF prev > 0 THEN log[i][prev].term ELSE 0,
               entries        |-> SubSeq(log[i], prev + 1, Len(log[i])),
               leader_commit  |-> commitIndex[i]]
          : j \in Server \ {i}}, messages)
    /\ UNCHANGED <<persistentVars, volatileVars, ghostVars>>

\* client_request: leader i appends a new entry with value v to its log.
ClientRequest(i, v) ==
    /\ state[i] = Leader
    /\ log' = [log EXCEPT ![i] = Append(@, [term |-> currentTerm[i], value |-> v])]
    /\ UNCHANGED <<currentTerm, votedFor, volatileVars, messages, ghostVars>>

----------------------------------------------------------------------------
\* Whether server i grants its vote for the RequestVote m: m is of its
\* (possibly just adopted) term, i has not voted for another candidate in
\* that term, and the candidate's log is at least as up to date (5.4.1).
VoteGranted(i, m) ==
    LET logOk == \/ m.last_log_term > LastTerm(log[i])
                 \/ /\ m.last_log_term = LastTerm(log[i])
                    /\ m.last_log_index >= Len(log[i])
    IN  /\ m.term = NewTerm(i, m.term)
        /\ logOk
        /\ NewVote(i, m.term) \in {Nil, m.candidate}

\* request_vote: server i handles a RequestVote message m.
HandleRequestVote(i, m) ==
    LET t     == NewTerm(i, m.term)
        vote  == NewVote(i, m.term)
        grant == VoteGranted(i, m)
    IN
    /\ currentTerm' = [currentTerm EXCEPT ![i] = t]
    /\ state'       = [state EXCEPT ![i] = NewState(i, m.term)]
    /\ ClearRoleState(i, NewState(i, m.term))
    /\ votedFor'    = [votedFor EXCEPT ![i] = IF grant THEN m.candidate ELSE vote]
    /\ Reply([type         |-> "RequestVoteResponse",
              from         |-> i,
              to           |-> m.from,
              term         |-> t,
              vote_granted |-> grant], m)
    /\ UNCHANGED <<log, commitIndex, ghostVars>>

RequestVote ==
    \E i \in Server : state[i] /= Down /\
        \E m \in InFlight("RequestVote", i) : HandleRequestVote(i, m)

\* request_vote_response: server i handles a vote reply m.  A candidate
\* that reaches a quorum of votes becomes leader in this same step.
HandleRequestVoteResponse(i, m) ==
    \/ /\ m.term > currentTerm[i]                        \* newer term: step down
       /\ currentTerm' = [currentTerm EXCEPT ![i] = m.term]
       /\ state'       = [state EXCEPT ![i] = Follower]
       /\ votedFor'    = [votedFor EXCEPT ![i] = Nil]
       /\ ClearRoleState(i, Follower)
       /\ messages'    = Discard(m, messages)
       /\ UNCHANGED <<log, commitIndex, ghostVars>>
    \/ /\ m.term = currentTerm[i]
       /\ state[i] = Candidate
       /\ LET votes == IF m.vote_granted THEN votesGranted[i] \cup {m.from}
                                         ELSE votesGranted[i]
              won   == Quorum(votes)
          IN
          /\ votesGranted' = [votesGranted EXCEPT ![i] = IF won THEN {} ELSE votes]
          /\ IF won
               THEN /\ state'      = [state EXCEPT ![i] = Leader]
                    /\ nextIndex'  = [nextIndex EXCEPT ![i] =
                                        [j \in Server |-> Len(log[i]) + 1]]
                    /\ matchIndex' = [matchIndex EXCEPT ![i] =
                                        [j \in Server |-> 0]]
                    /\ elections'  = elections \cup
                                        {[term |-> currentTerm[i], leader |-> i]}
               ELSE UNCHANGED <<state, nextIndex, matchIndex, elections>>
       /\ messages' = Discard(m, messages)
       /\ UNCHANGED <<currentTerm, votedFor, log, commitIndex, committed, crashes>>
    \/ /\ \/ m.term < currentTerm[i]                     \* stale reply: drop it
          \/ m.term = currentTerm[i] /\ state[i] /= Candidate
       /\ messages' = Discard(m, messages)
       /\ UNCHANGED <<persistentVars, volatileVars, ghostVars>>

RequestVoteResponse ==
    \E i \in Server : state[i] /= Down /\
        \E m \in InFlight("RequestVoteResponse", i) : HandleRequestVoteResponse(i, m)

\* The log that results from accepting entries `ents` after index `prev`
\* (consistency check already passed).  Entries that are already present
\* are kept; on the first conflicting entry (same index, different term)
\* that entry and everything after it are replaced.  A duplicated or
\* reordered, shorter AppendEntries therefore never truncates the log.
MergeLog(l, prev, ents) ==
    LET conflict == \E k \in 1..Len(ents) :
                        /\ prev + k <= Len(l)
                        /\ l[prev + k].term /= ents[k].term
    IN  IF conflict \/ Len(l) < prev + Len(ents)
          THEN SubSeq(l, 1, prev) \o ents
          ELSE l

\* append_entries: server i handles an AppendEntries message m.
HandleAppendEntries(i, m) ==
    LET t      == NewTerm(i, m.term)
        prev   == m.prev_log_index
        logOk  == \/ prev = 0
                  \/ /\ prev <= Len(log[i])
                     /\ log[i][prev].term = m.prev_log_term
        accept == m.term = t /\ logOk
        last   == prev + Len(m.entries)
    IN
    /\ currentTerm' = [currentTerm EXCEPT ![i] = t]
    /\ votedFor'    = [votedFor EXCEPT ![i] = NewVote(i, m.term)]
    \* A current-term AppendEntries makes a candidate (or anyone) a follower.
    /\ state'       = [state EXCEPT ![i] = IF m.term = t THEN Follower
                                                        ELSE NewState(i, m.term)]
    /\ ClearRoleState(i, IF m.term = t THEN Follower ELSE NewState(i, m.term))
    /\ IF accept
         THEN /\ log' = [log EXCEPT ![i] = MergeLog(@, prev, m.entries)]
              /\ commitIndex' = [commitIndex EXCEPT ![i] =
                                    Max(@, Min(m.leader_commit, last))]
         ELSE UNCHANGED <<log, commitIndex>>
    /\ Reply([type        |-> "AppendEntriesResponse",
              from        |-> i,
              to          |-> m.from,
              term        |-> t,
              success     |-> accept,
              match_index |-> IF accept THEN last ELSE 0], m)
    /\ UNCHANGED ghostVars

AppendEntries ==
    \E i \in Server : state[i] /= Down /\
        \E m \in InFlight("AppendEntries", i) : HandleAppendEntries(i, m)

\* The largest index a leader may commit given match indexes `mi`: an entry
\* of the leader's current term stored on a quorum (Raft section 5.4.2).
\* Returns commitIndex[i] if no such index is larger.
NewCommitIndex(i, mi) ==
    LET Agree(n)   == {i} \cup {j \in Server \ {i} : mi[j] >= n}
        Committable == {n \in (commitIndex[i] + 1)..Len(log[i]) :
                            /\ log[i][n].term = currentTerm[i]
                            /\ Quorum(Agree(n))}
    IN  IF Committable = {} THEN commitIndex[i]
        ELSE CHOOSE n \in Committable : \A k \in Committable : k <= n

\* append_entries_response: leader i handles a reply m, updates
\* matchIndex/nextIndex for the sender and advances its commitIndex.
HandleAppendEntriesResponse(i, m) ==
    \/ /\ m.term > currentTerm[i]                        \* newer term: step down
       /\ currentTerm' = [currentTerm EXCEPT ![i] = m.term]
       /\ state'       = [state EXCEPT ![i] = Follower]
       /\ votedFor'    = [votedFor EXCEPT ![i] = Nil]
       /\ ClearRoleState(i, Follower)
       /\ messages'    = Discard(m, messages)
       /\ UNCHANGED <<log, commitIndex, ghostVars>>
    \/ /\ m.term = currentTerm[i]
       /\ state[i] = Leader
       /\ LET j   == m.from
              mi  == IF m.success
                       THEN [matchIndex[i] EXCEPT ![j] = Max(@, m.match_index)]
                       ELSE matchIndex[i]
              ni  == IF m.success
                       THEN Max(nextIndex[i][j], m.match_index + 1)
                       ELSE Max(nextIndex[i][j] - 1, 1)
              ci  == NewCommitIndex(i, mi)
          IN
          /\ matchIndex'  = [matchIndex EXCEPT ![i] = mi]
          /\ nextIndex'   = [nextIndex EXCEPT ![i][j] = ni]
          /\ commitIndex' = [commitIndex EXCEPT ![i] = ci]
          /\ committed'   = committed \cup
                              {[index |-> n,
                                term  |-> log[i][n].term,
                                value |-> log[i][n].value,
                                cterm |-> currentTerm[i]]
                               : n \in (commitIndex[i] + 1)..ci}
       /\ messages' = Discard(m, messages)
       /\ UNCHANGED <<persistentVars, state, votesGranted, elections, crashes>>
    \/ /\ \/ m.term < currentTerm[i]                     \* stale reply: drop it
          \/ m.term = currentTerm[i] /\ state[i] /= Leader
       /\ messages' = Discard(m, messages)
       /\ UNCHANGED <<persistentVars, volatileVars, ghostVars>>

AppendEntriesResponse ==
    \E i \in Server : state[i] /= Down /\
        \E m \in InFlight("AppendEntriesResponse", i) : HandleAppendEntriesResponse(i, m)

\* Election timers (5.2, Figure 2 "Followers").  The spec has no timers:
\* ElectionTimeout may fire at any time.  This action predicate states when
\* an implementation must restart server i's election timer in a step that
\* handles message m (evaluated on the step's before and after states):
\* on granting a vote, on an AppendEntries from the leader of its current
\* term (after adopting a newer term), and when a leader steps down (a
\* leader's election timer is stopped).  A follower must NOT restart it on
\* anything else, e.g. a stale AppendEntries from a deposed leader, or it
\* may never time out while that leader can still send.  Besides messages,
\* the timer starts on (re)start and restarts with each new election.
\* Trace validation (TraceRaft.tla) checks every traced step against it.
RestartsElectionTimer(i, m) ==
    \/ m.type = "RequestVote" /\ VoteGranted(i, m)
    \/ /\ m.type = "AppendEntries"
       /\ \/ m.term > currentTerm[i]
          \/ m.term = currentTerm[i] /\ state[i] /= Leader
    \/ state[i] = Leader /\ state'[i] /= Leader

----------------------------------------------------------------------------
\* crash: i stops; all volatile state is lost.
Crash(i) ==
    /\ state[i] /= Down
    /\ state'        = [state EXCEPT ![i] = Down]
    /\ commitIndex'  = [commitIndex EXCEPT ![i] = 0]
    /\ votesGranted' = [votesGranted EXCEPT ![i] = {}]
    /\ nextIndex'    = [nextIndex EXCEPT ![i] = NoNext]
    /\ matchIndex'   = [matchIndex EXCEPT ![i] = NoIndexes]
    /\ crashes'      = crashes + 1
    /\ UNCHANGED <<persistentVars, messages, elections, committed>>

\* restart: i comes back as a follower from its persisted state.  With
\* PersistVote = FALSE the term and vote were (wrongly) never persisted.
Restart(i) ==
    /\ state[i] = Down
    /\ state' = [state EXCEPT ![i] = Follower]
    /\ IF PersistVote
         THEN UNCHANGED <<currentTerm, votedFor>>
         ELSE /\ currentTerm' = [currentTerm EXCEPT ![i] = 0]
              /\ votedFor'    = [votedFor EXCEPT ![i] = Nil]
    /\ UNCHANGED <<log, commitIndex, votesGranted, nextIndex, matchIndex,
                   messages, ghostVars>>

\* Network faults.
DropMessage ==
    \E m \in BagToSet(messages) :
        /\ messages' = Discard(m, messages)
        /\ UNCHANGED <<persistentVars, volatileVars, ghostVars>>

DuplicateMessage ==
    \E m \in BagToSet(messages) :
        /\ messages' = Send(m, messages)
        /\ UNCHANGED <<persistentVars, volatileVars, ghostVars>>

----------------------------------------------------------------------------
Next ==
    \/ \E i \in Server : ElectionTimeout(i)
    \/ \E i \in Server : HeartbeatTimeout(i)
    \/ \E i \in Server, v \in Value : ClientRequest(i, v)
    \/ RequestVote
    \/ RequestVoteResponse
    \/ AppendEntries
    \/ AppendEntriesResponse
    \/ \E i \in Server : Crash(i)
    \/ \E i \in Server : Restart(i)
    \/ DropMessage
    \/ DuplicateMessage

Spec == Init /\ [][Next]_vars

----------------------------------------------------------------------------
\* Invariants

TypeOK ==
    /\ currentTerm  \in [Server -> Nat]
    /\ votedFor     \in [Server -> Server \cup {Nil}]
    /\ \A i \in Server : log[i] \in Seq(Entry)
    /\ state        \in [Server -> {Follower, Candidate, Leader, Down}]
    /\ commitIndex  \in [Server -> Nat]
    /\ votesGranted \in [Server -> SUBSET Server]
    /\ IsABag(messages)

\* At most one leader is ever elected in a term (over the whole history,
\* not only among servers that are leaders right now).
ElectionSafety ==
    \A e, f \in elections : e.term = f.term => e.leader = f.leader

\* If two logs have an entry with the same index and term, the logs are
\* identical up to and including that index.
LogMatching ==
    \A i, j \in Server :
        \A n \in 1..Min(Len(log[i]), Len(log[j])) :
            log[i][n].term = log[j][n].term =>
                SubSeq(log[i], 1, n) = SubSeq(log[j], 1, n)

\* Every entry committed in some term is in the log of every leader of a
\* later term.  (A leader never removes entries from its own log, so it is
\* enough to check the current leaders' logs.)
LeaderCompleteness ==
    \A i \in Server : state[i] = Leader =>
        \A c \in committed : c.cterm < currentTerm[i] =>
            /\ c.index <= Len(log[i])
            /\ log[i][c.index] = [term |-> c.term, value |-> c.value]

\* No two different entries are ever committed at the same index, and all
\* servers' committed prefixes agree (what state machines apply).
StateMachineSafety ==
    /\ \A c, d \in committed : c.index = d.index =>
           c.term = d.term /\ c.value = d.value
    /\ \A i, j \in Server :
           \A n \in 1..Min(commitIndex[i], commitIndex[j]) :
               /\ n <= Len(log[i]) /\ n <= Len(log[j])
               /\ log[i][n] = log[j][n]

=============================================================================
