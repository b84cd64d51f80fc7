//! The Wing–Gong linearizability search with Lowe's memoisation (Wing and Gong 1993;
//! Lowe 2017, "Testing for linearizability", section 3), the algorithm Knossos and
//! Porcupine use, written afresh for quorumlab.
//!
//! The history becomes a doubly linked list of call and return entries in time order. The
//! search walks the list from the front: at a call entry it tries to linearize that
//! operation next (the model accepts its output from the current state); on success it
//! lifts the call and its return out of the list and starts again from the front. Reaching
//! a return entry means the operation it closes should already have been linearized, so
//! the search backtracks: it restores the last lifted operation and tries the next call
//! after it. A cache of (set of linearized operations, model state) pairs already seen
//! prunes every configuration reached twice (Lowe's improvement): two paths that
//! linearized the same operations and left the same state have the same futures.
//!
//! Operations whose outcome is unknown (`info`) have no return entry: they may be
//! linearized anywhere after their call or never, so the history is linearizable as soon
//! as every operation that did return has been linearized.
//!
//! Speed: the set of linearized operations is a `Vec<u64>` bitset hashed incrementally
//! (each operation owns a random 64-bit word that is XORed in and out, Zobrist hashing),
//! model states live once in the cache and the stack only holds their index, so the inner
//! loop allocates nothing beyond what the model's `step` itself allocates. The search
//! stops after `max_steps` model steps with [`Verdict::Unknown`].

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::history::{OperationInput, OperationOutput};
use super::model::Model;

/// The outcome of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable,
    /// The budget ran out before the search finished.
    Unknown,
}

/// How much work a check may do before it answers [`Verdict::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// Model steps (attempts to linearize one operation), summed over all partitions.
    pub max_steps: u64,
}

impl Default for Budget {
    /// Fifty million steps: a few seconds at worst, and far above what any of the
    /// public Jepsen/Porcupine/Knossos histories need.
    fn default() -> Budget {
        Budget {
            max_steps: 50_000_000,
        }
    }
}

/// One operation as the search sees it.
#[derive(Clone, Debug)]
pub struct SearchOperation<'history> {
    /// Index in the caller's operation list, reported back in outcomes.
    pub operation_index: usize,
    pub invoke_time: u64,
    /// `None`: unknown outcome, completes at +infinity and may never take effect.
    pub complete_time: Option<u64>,
    pub input: &'history OperationInput,
    pub output: &'history OperationOutput,
}

/// What one search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchOutcome {
    pub verdict: Verdict,
    /// Model steps taken.
    pub steps: u64,
    /// Distinct (linearized set, state) configurations cached.
    pub configurations: u64,
    /// For a linearizable history, a witness order; otherwise the longest linearizable
    /// prefix found. Caller's operation indices.
    pub linearized: Vec<usize>,
    /// The model state after `linearized`, rendered by the model.
    pub state_after_linearized: String,
    /// For a non-linearizable history: the operations that were pending after the
    /// longest prefix and none of which could be linearized next into a complete
    /// linearization; the last one listed is the operation whose return forced the
    /// backtrack.
    pub unplaced: Vec<usize>,
}

const NO_NODE: u32 = u32::MAX;

/// A deterministic, fast, non-cryptographic hasher (multiply-rotate, in the style of
/// rustc's FxHasher). Good enough for the cache: collisions are resolved by equality.
#[derive(Default)]
struct StateHasher {
    hash: u64,
}

impl Hasher for StateHasher {
    fn finish(&self) -> u64 {
        self.hash
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.write_u64(u64::from_le_bytes(chunk.try_into().expect("chunk of 8")));
        }
        let mut tail: u64 = 0;
        for (position, byte) in chunks.remainder().iter().enumerate() {
            tail |= u64::from(*byte) << (8 * position);
        }
        self.write_u64(tail ^ (bytes.len() as u64) << 56);
    }

    fn write_u8(&mut self, value: u8) {
        self.write_u64(u64::from(value));
    }

    fn write_u32(&mut self, value: u32) {
        self.write_u64(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.write_u64(value as u64);
    }

    fn write_u64(&mut self, value: u64) {
        self.hash = (self.hash.rotate_left(5) ^ value).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

fn hash_state<State: Hash>(state: &State) -> u64 {
    let mut hasher = StateHasher::default();
    state.hash(&mut hasher);
    // Final avalanche so the low bits (the table index) depend on every input bit.
    let mut hash = hasher.finish();
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash
}

/// SplitMix64: the per-operation Zobrist words, a fixed function of the index so runs
/// are reproducible.
fn zobrist_word(operation: usize) -> u64 {
    let mut value = (operation as u64)
        .wrapping_add(1)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    value = (value ^ (value >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    value ^ (value >> 31)
}

/// The memo of configurations seen: an open-addressing table; each entry's bitset lives
/// in one flat `Vec<u64>` and its state in `states`. Entries are never removed, so an
/// entry id is a stable handle on a state.
struct ConfigurationCache<State> {
    words_per_entry: usize,
    bitset_words: Vec<u64>,
    states: Vec<State>,
    /// Full hash per entry, read only when the table grows.
    hashes: Vec<u64>,
    /// Hash of each entry's state alone, so a read-only step reuses it.
    state_hashes: Vec<u64>,
    /// Slots: 0 for empty, else the high 32 bits of the hash (a tag that rejects most
    /// mismatches without touching the entry) above the entry id plus one. Length is a
    /// power of two, at most half full.
    table: Vec<u64>,
}

const EMPTY_SLOT: u64 = 0;

fn slot_value(hash: u64, entry: u32) -> u64 {
    (hash & 0xffff_ffff_0000_0000) | (u64::from(entry) + 1)
}

impl<State: Eq> ConfigurationCache<State> {
    fn new(words_per_entry: usize) -> Self {
        assert!(words_per_entry > 0);
        ConfigurationCache {
            words_per_entry,
            bitset_words: Vec::new(),
            states: Vec::new(),
            hashes: Vec::new(),
            state_hashes: Vec::new(),
            table: vec![EMPTY_SLOT; 1024],
        }
    }

    fn len(&self) -> usize {
        self.states.len()
    }

    /// Inserts (bitset, state) unless present; returns the new entry id, or `None` if the
    /// configuration was already cached (and drops `state`). `hash` covers both;
    /// `state_hash` the state alone.
    fn insert(&mut self, hash: u64, state_hash: u64, bitset: &[u64], state: State) -> Option<u32> {
        let slot = self.find_slot(hash, bitset, &state)?;
        Some(self.fill_slot(slot, hash, state_hash, bitset, state))
    }

    /// [`Self::insert`] of a copy of entry `source`'s state, cloned only if new.
    fn insert_copy(&mut self, hash: u64, bitset: &[u64], source: u32) -> Option<u32>
    where
        State: Clone,
    {
        let source = source as usize;
        let slot = self.find_slot(hash, bitset, &self.states[source])?;
        let state = self.states[source].clone();
        let state_hash = self.state_hashes[source];
        Some(self.fill_slot(slot, hash, state_hash, bitset, state))
    }

    /// The empty slot where (bitset, state) belongs, or `None` if it is cached.
    fn find_slot(&self, hash: u64, bitset: &[u64], state: &State) -> Option<usize> {
        assert_eq!(bitset.len(), self.words_per_entry);
        let mask = self.table.len() - 1;
        let tag = hash & 0xffff_ffff_0000_0000;
        let mut slot = (hash as usize) & mask;
        loop {
            let slot_content = self.table[slot];
            if slot_content == EMPTY_SLOT {
                return Some(slot);
            }
            if slot_content & 0xffff_ffff_0000_0000 == tag {
                let entry_index = (slot_content & 0xffff_ffff) as usize - 1;
                if self.bitset_words[entry_index * self.words_per_entry..][..self.words_per_entry]
                    == *bitset
                    && self.states[entry_index] == *state
                {
                    return None;
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    fn fill_slot(
        &mut self,
        slot: usize,
        hash: u64,
        state_hash: u64,
        bitset: &[u64],
        state: State,
    ) -> u32 {
        assert_eq!(self.table[slot], EMPTY_SLOT);
        let entry =
            u32::try_from(self.states.len()).expect("fewer than 2^32 cached configurations");
        assert!(entry < u32::MAX - 1);
        self.table[slot] = slot_value(hash, entry);
        self.bitset_words.extend_from_slice(bitset);
        self.states.push(state);
        self.hashes.push(hash);
        self.state_hashes.push(state_hash);
        if self.states.len() * 2 > self.table.len() {
            self.grow();
        }
        entry
    }

    fn grow(&mut self) {
        let capacity = self.table.len() * 2;
        let mask = capacity - 1;
        let mut table = vec![EMPTY_SLOT; capacity];
        for (entry, hash) in self.hashes.iter().enumerate() {
            let mut slot = (*hash as usize) & mask;
            while table[slot] != EMPTY_SLOT {
                slot = (slot + 1) & mask;
            }
            table[slot] = slot_value(*hash, entry as u32);
        }
        self.table = table;
    }
}

/// A lifted operation on the search stack.
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// The call node lifted out of the list.
    call_node: u32,
    /// Cache entry of the state before the operation.
    previous_entry: u32,
    /// The operation is read-only, so linearizing it as soon as it is legal is as good
    /// as any later placement (see [`PartitionSearch::run`]): its alternatives are
    /// skipped.
    forced: bool,
}

/// A resumable search over one partition: [`PartitionSearch::run`] advances it by a
/// number of model steps, so a caller can interleave partitions deterministically and
/// stop at the first violation.
pub struct PartitionSearch<'model, 'history, M: Model> {
    model: &'model M,
    operations: &'history [SearchOperation<'history>],
    /// Per list node: the operation position, and whether it is a call.
    node_operation: Vec<u32>,
    node_is_call: Vec<bool>,
    /// Per operation position: the model says it never changes the state.
    read_only: Vec<bool>,
    /// Per operation position: for an unknown-outcome operation, the closest earlier-
    /// invoked unknown-outcome operation with an identical input (`NO_NODE` if none).
    /// Such twins are interchangeable, so the search only linearizes them in invocation
    /// order (see [`PartitionSearch::run`]).
    earlier_twin: Vec<u32>,
    /// Per operation position: its return node, `NO_NODE` for unknown outcomes.
    return_node_of: Vec<u32>,
    /// Doubly linked list over nodes, with the head sentinel at index `node_count`.
    next: Vec<u32>,
    prev: Vec<u32>,
    head: usize,
    zobrist: Vec<u64>,
    linearized_bits: Vec<u64>,
    bits_hash: u64,
    cache: ConfigurationCache<M::State>,
    current_entry: u32,
    returned_remaining: usize,
    stack: Vec<Frame>,
    /// The next list node to try.
    entry: u32,
    /// Candidates are tried in two passes over the pending calls: first the operations
    /// that returned (they must be linearized), then those with unknown outcomes (they
    /// may be). False during the first pass.
    unknown_outcome_pass: bool,
    steps: u64,
    verdict: Option<Verdict>,
    best_depth: usize,
    best_linearized: Vec<u32>,
    best_state_entry: u32,
    best_unplaced: Vec<u32>,
    best_unplaced_recorded: bool,
}

impl<'model, 'history, M: Model> PartitionSearch<'model, 'history, M> {
    /// Builds the call/return list. Nothing is searched yet.
    pub fn new(model: &'model M, operations: &'history [SearchOperation<'history>]) -> Self {
        let operation_count = operations.len();
        assert!(
            operation_count < (u32::MAX / 4) as usize,
            "too many operations for one partition"
        );
        for operation in operations {
            if let Some(complete_time) = operation.complete_time {
                assert!(
                    complete_time >= operation.invoke_time,
                    "completion before invocation"
                );
            }
        }
        // Entries in time order; at equal times calls come first, so operations that touch
        // at an instant count as concurrent (the reading that never invents a violation).
        // Ties are broken by position so the order is deterministic.
        let mut events: Vec<(u64, u8, u32)> = Vec::with_capacity(operation_count * 2);
        for (position, operation) in operations.iter().enumerate() {
            events.push((operation.invoke_time, 0, position as u32));
            if let Some(complete_time) = operation.complete_time {
                events.push((complete_time, 1, position as u32));
            }
        }
        events.sort_unstable();
        let node_count = events.len();
        let head = node_count;
        let mut node_operation: Vec<u32> = Vec::with_capacity(node_count);
        let mut node_is_call: Vec<bool> = Vec::with_capacity(node_count);
        let mut return_node_of: Vec<u32> = vec![NO_NODE; operation_count];
        for (node, (_, kind, position)) in events.iter().enumerate() {
            node_operation.push(*position);
            node_is_call.push(*kind == 0);
            if *kind == 1 {
                return_node_of[*position as usize] = node as u32;
            }
        }
        let mut next: Vec<u32> = Vec::with_capacity(node_count + 1);
        let mut prev: Vec<u32> = Vec::with_capacity(node_count + 1);
        for node in 0..node_count {
            next.push(if node + 1 < node_count {
                node as u32 + 1
            } else {
                NO_NODE
            });
            prev.push(if node == 0 {
                head as u32
            } else {
                node as u32 - 1
            });
        }
        next.push(if node_count == 0 { NO_NODE } else { 0 });
        prev.push(NO_NODE);
        assert_eq!(next.len(), node_count + 1);

        let words_per_entry = operation_count.div_ceil(64).max(1);
        let linearized_bits: Vec<u64> = vec![0; words_per_entry];
        let mut cache: ConfigurationCache<M::State> = ConfigurationCache::new(words_per_entry);
        let initial_state = model.init();
        let initial_hash = hash_state(&initial_state);
        let current_entry = cache
            .insert(initial_hash, initial_hash, &linearized_bits, initial_state)
            .expect("the empty cache has no entry");
        let returned_remaining = operations
            .iter()
            .filter(|operation| operation.complete_time.is_some())
            .count();
        let read_only: Vec<bool> = operations
            .iter()
            .map(|operation| model.is_read_only(operation.input, operation.output))
            .collect();
        let mut earlier_twin: Vec<u32> = vec![NO_NODE; operation_count];
        let mut unknown_by_invocation: Vec<u32> = (0..operation_count as u32)
            .filter(|position| operations[*position as usize].complete_time.is_none())
            .collect();
        unknown_by_invocation
            .sort_by_key(|position| (operations[*position as usize].invoke_time, *position));
        for (rank, position) in unknown_by_invocation.iter().enumerate() {
            let input = operations[*position as usize].input;
            earlier_twin[*position as usize] = unknown_by_invocation[..rank]
                .iter()
                .rev()
                .find(|earlier| operations[**earlier as usize].input == input)
                .copied()
                .unwrap_or(NO_NODE);
        }
        PartitionSearch {
            model,
            read_only,
            earlier_twin,
            operations,
            node_operation,
            node_is_call,
            return_node_of,
            entry: next[head],
            unknown_outcome_pass: false,
            next,
            prev,
            head,
            zobrist: (0..operation_count).map(zobrist_word).collect(),
            linearized_bits,
            bits_hash: 0,
            cache,
            current_entry,
            returned_remaining,
            stack: Vec::with_capacity(operation_count),
            steps: 0,
            verdict: None,
            best_depth: 0,
            best_linearized: Vec::new(),
            best_state_entry: current_entry,
            best_unplaced: Vec::new(),
            best_unplaced_recorded: false,
        }
    }

    /// Model steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// The verdict, once the search has finished.
    pub fn verdict(&self) -> Option<Verdict> {
        self.verdict
    }

    fn lift(&mut self, call_node: u32, position: usize) {
        let call = call_node as usize;
        self.next[self.prev[call] as usize] = self.next[call];
        if self.next[call] != NO_NODE {
            self.prev[self.next[call] as usize] = self.prev[call];
        }
        let return_node = self.return_node_of[position];
        if return_node != NO_NODE {
            let return_node = return_node as usize;
            self.next[self.prev[return_node] as usize] = self.next[return_node];
            if self.next[return_node] != NO_NODE {
                self.prev[self.next[return_node] as usize] = self.prev[return_node];
            }
            self.returned_remaining -= 1;
        }
    }

    /// Undoes [`Self::lift`]; nodes go back in the reverse order they left.
    fn unlift(&mut self, call_node: u32, position: usize) {
        let return_node = self.return_node_of[position];
        if return_node != NO_NODE {
            let node = return_node as usize;
            self.next[self.prev[node] as usize] = return_node;
            if self.next[node] != NO_NODE {
                self.prev[self.next[node] as usize] = return_node;
            }
            self.returned_remaining += 1;
        }
        let call = call_node as usize;
        self.next[self.prev[call] as usize] = call_node;
        if self.next[call] != NO_NODE {
            self.prev[self.next[call] as usize] = call_node;
        }
    }

    /// At the deepest point reached, remembers the pending calls up to and including
    /// the first return in the list: the operations that could not be placed.
    fn record_unplaced(&mut self) {
        if self.stack.len() != self.best_depth || self.best_unplaced_recorded {
            return;
        }
        self.best_unplaced_recorded = true;
        self.best_unplaced.clear();
        let mut node = self.next[self.head];
        while node != NO_NODE {
            let position = self.node_operation[node as usize];
            if !self.node_is_call[node as usize] {
                if !self.best_unplaced.contains(&position) {
                    self.best_unplaced.push(position);
                }
                break;
            }
            self.best_unplaced.push(position);
            node = self.next[node as usize];
        }
    }

    /// Pops frames until one whose alternatives are still worth trying; false if the
    /// stack ran out (no linearization exists).
    fn backtrack(&mut self) -> bool {
        self.record_unplaced();
        while let Some(frame) = self.stack.pop() {
            let position = self.node_operation[frame.call_node as usize] as usize;
            self.linearized_bits[position / 64] &= !(1u64 << (position % 64));
            self.bits_hash ^= self.zobrist[position];
            self.current_entry = frame.previous_entry;
            self.unlift(frame.call_node, position);
            if !frame.forced {
                self.entry = self.next[frame.call_node as usize];
                self.unknown_outcome_pass = self.return_node_of[position] == NO_NODE;
                return true;
            }
        }
        false
    }

    /// Advances the search by at most `step_limit` model steps; returns the verdict once
    /// there is one.
    ///
    /// Pruning beyond Lowe's cache: when a read-only operation ([`Model::is_read_only`]:
    /// it changes no state it is legal in, such as a read or a failed CAS) is legal now,
    /// it is linearized at once and its alternatives are never tried. That loses
    /// nothing: in any linearization from here, moving that operation to the front is
    /// legal (it is legal in the current state) and keeps every other step's state (it
    /// changes none), and real time allows it because every operation that returned
    /// before its call is already linearized (its call precedes the first return left
    /// in the list). For the same reason a cache hit on such an operation ends the
    /// branch. Note that "this step left the state unchanged" is not enough: a write of
    /// the current value is a no-op here but not later.
    ///
    /// Second pruning: unknown-outcome operations with identical inputs are
    /// interchangeable (no return time constrains them, and the earlier-invoked one is
    /// available whenever the later one is), so they are linearized only in invocation
    /// order: any linearization can be rewritten that way by reassigning the twins to
    /// the positions they occupy, earliest-invoked first.
    pub fn run(&mut self, step_limit: u64) -> Option<Verdict> {
        if self.verdict.is_some() {
            return self.verdict;
        }
        let steps_end = self.steps.saturating_add(step_limit);
        loop {
            if self.returned_remaining == 0 {
                self.verdict = Some(Verdict::Linearizable);
                return self.verdict;
            }
            let entry = self.entry;
            if entry != NO_NODE && self.node_is_call[entry as usize] {
                let position = self.node_operation[entry as usize] as usize;
                let outcome_unknown = self.return_node_of[position] == NO_NODE;
                if outcome_unknown != self.unknown_outcome_pass {
                    self.entry = self.next[entry as usize];
                    continue;
                }
                let twin = self.earlier_twin[position];
                if twin != NO_NODE
                    && self.linearized_bits[twin as usize / 64] & (1u64 << (twin % 64)) == 0
                {
                    // Its earlier twin is not linearized yet: try that one instead.
                    self.entry = self.next[entry as usize];
                    continue;
                }
                if self.steps >= steps_end {
                    return None;
                }
                self.steps += 1;
                let operation = &self.operations[position];
                let state = &self.cache.states[self.current_entry as usize];
                let forced = self.read_only[position];
                let word = position / 64;
                let bit = 1u64 << (position % 64);
                let inserted = if forced {
                    if !self
                        .model
                        .is_legal_read_only(state, operation.input, operation.output)
                    {
                        self.entry = self.next[entry as usize];
                        continue;
                    }
                    self.linearized_bits[word] |= bit;
                    let hash = self.bits_hash
                        ^ self.zobrist[position]
                        ^ self.cache.state_hashes[self.current_entry as usize];
                    self.cache
                        .insert_copy(hash, &self.linearized_bits, self.current_entry)
                } else {
                    let Some(new_state) = self.model.step(state, operation.input, operation.output)
                    else {
                        self.entry = self.next[entry as usize];
                        continue;
                    };
                    self.linearized_bits[word] |= bit;
                    let state_hash = hash_state(&new_state);
                    let hash = self.bits_hash ^ self.zobrist[position] ^ state_hash;
                    self.cache
                        .insert(hash, state_hash, &self.linearized_bits, new_state)
                };
                match inserted {
                    Some(new_entry) => {
                        self.bits_hash ^= self.zobrist[position];
                        self.stack.push(Frame {
                            call_node: entry,
                            previous_entry: self.current_entry,
                            forced,
                        });
                        self.current_entry = new_entry;
                        self.lift(entry, position);
                        if self.stack.len() > self.best_depth {
                            self.best_depth = self.stack.len();
                            self.best_linearized.clear();
                            let node_operation = &self.node_operation;
                            self.best_linearized.extend(
                                self.stack
                                    .iter()
                                    .map(|frame| node_operation[frame.call_node as usize]),
                            );
                            self.best_state_entry = new_entry;
                            self.best_unplaced_recorded = false;
                        }
                        self.entry = self.next[self.head];
                        self.unknown_outcome_pass = false;
                    }
                    None => {
                        self.linearized_bits[word] &= !bit;
                        if forced {
                            // Already explored from here, and skipping this operation
                            // cannot do better (see above).
                            if !self.backtrack() {
                                self.verdict = Some(Verdict::NotLinearizable);
                                return self.verdict;
                            }
                        } else {
                            self.entry = self.next[entry as usize];
                        }
                    }
                }
            } else {
                // A return entry: the operation it closes was not linearized in time, so
                // this branch is dead. (The end of the list cannot be reached while an
                // operation that returned is left: its return node would come first.)
                assert!(entry != NO_NODE);
                if !self.unknown_outcome_pass {
                    // Second pass: the unknown-outcome calls before this return.
                    self.unknown_outcome_pass = true;
                    self.entry = self.next[self.head];
                    continue;
                }
                if !self.backtrack() {
                    self.verdict = Some(Verdict::NotLinearizable);
                    return self.verdict;
                }
            }
        }
    }

    /// What the search found so far (the full result once [`Self::run`] has answered).
    pub fn outcome(&self) -> SearchOutcome {
        let verdict = self.verdict.unwrap_or(Verdict::Unknown);
        let to_indices = |positions: &[u32]| -> Vec<usize> {
            positions
                .iter()
                .map(|position| self.operations[*position as usize].operation_index)
                .collect()
        };
        let (linearized, state_entry, unplaced) = match verdict {
            Verdict::Linearizable => {
                let order: Vec<u32> = self
                    .stack
                    .iter()
                    .map(|frame| self.node_operation[frame.call_node as usize])
                    .collect();
                (to_indices(&order), self.current_entry, Vec::new())
            }
            Verdict::NotLinearizable => (
                to_indices(&self.best_linearized),
                self.best_state_entry,
                to_indices(&self.best_unplaced),
            ),
            Verdict::Unknown => (
                to_indices(&self.best_linearized),
                self.best_state_entry,
                Vec::new(),
            ),
        };
        assert!(verdict != Verdict::NotLinearizable || self.stack.is_empty());
        assert!(verdict != Verdict::NotLinearizable || !unplaced.is_empty());
        SearchOutcome {
            verdict,
            steps: self.steps,
            configurations: self.cache.len() as u64,
            linearized,
            state_after_linearized: self
                .model
                .describe_state(&self.cache.states[state_entry as usize]),
            unplaced,
        }
    }
}

/// Runs the search on one partition to the end or for at most `max_steps` model steps.
pub fn search<M: Model>(
    model: &M,
    operations: &[SearchOperation<'_>],
    max_steps: u64,
) -> SearchOutcome {
    let mut partition_search = PartitionSearch::new(model, operations);
    partition_search.run(max_steps);
    let outcome = partition_search.outcome();
    assert!(outcome.steps <= max_steps);
    outcome
}
