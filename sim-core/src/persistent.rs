//! `PersistentVec`: a vector whose clone is O(1) and whose edits copy only what they
//! touch, for the part of a protocol's durable state that grows with the run (a log).
//!
//! Why: durability is an effect (`Effect::Persist(P::Durable)`), and a protocol that
//! persists its whole durable state on every change copies its log each time, so a run's
//! cost grows with the square of its length. A `Durable` that holds its log as a
//! `PersistentVec` is persisted in constant time: the persisted copy and the node's
//! working copy share every chunk the node has not changed since, and an append or a
//! truncation copies at most one path of the tree (O(log n) pointers and one leaf of at
//! most `LEAF` elements). Protocols that persist small states keep using plain types; this
//! is an additive tool, not a change to the `Protocol` trait.
//!
//! The tree is a radix tree of branching `LEAF`: leaves hold elements, branches hold
//! children, every level but the rightmost path is full. Shared nodes are copied on
//! write (`Arc::make_mut`), so a value nobody shares is edited in place. `Hash`, `Eq` and
//! `Debug` are those of the element sequence, exactly as for a `Vec` (a model checker that
//! hashes durable state sees the contents, not the sharing).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Elements per leaf and children per branch.
const LEAF: usize = 32;
const BITS: u32 = LEAF.trailing_zeros();

#[derive(Clone)]
enum Node<T> {
    Leaf(Vec<T>),
    Branch(Vec<Arc<Node<T>>>),
}

/// A persistent vector: `clone` is O(1), `push`, `set`, `truncate` and `get` are O(log n).
#[derive(Clone)]
pub struct PersistentVec<T> {
    len: usize,
    /// Height of the root above the leaves (0: the root is a leaf).
    height: u32,
    root: Arc<Node<T>>,
}

impl<T: Clone> Default for PersistentVec<T> {
    fn default() -> Self {
        PersistentVec::new()
    }
}

impl<T: Clone> PersistentVec<T> {
    pub fn new() -> Self {
        PersistentVec {
            len: 0,
            height: 0,
            root: Arc::new(Node::Leaf(Vec::new())),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many elements a tree of `height` holds when full.
    fn capacity(height: u32) -> usize {
        1usize
            .checked_shl(BITS * (height + 1))
            .unwrap_or(usize::MAX)
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        if index >= self.len {
            return None;
        }
        let mut node = &*self.root;
        let mut level = self.height;
        loop {
            match node {
                Node::Leaf(items) => return items.get(index & (LEAF - 1)),
                Node::Branch(children) => {
                    node = &children[(index >> (BITS * level)) & (LEAF - 1)];
                    level -= 1;
                }
            }
        }
    }

    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|last| self.get(last))
    }

    pub fn push(&mut self, value: T) {
        if self.len == Self::capacity(self.height) {
            // The tree is full: a new root above it.
            let old = std::mem::replace(&mut self.root, Arc::new(Node::Branch(Vec::new())));
            Arc::make_mut(&mut self.root).children().push(old);
            self.height += 1;
        }
        let index = self.len;
        let mut node = Arc::make_mut(&mut self.root);
        let mut level = self.height;
        while level > 0 {
            let children = node.children();
            let slot = (index >> (BITS * level)) & (LEAF - 1);
            if slot == children.len() {
                children.push(Arc::new(Node::empty(level - 1)));
            }
            node = Arc::make_mut(&mut children[slot]);
            level -= 1;
        }
        match node {
            Node::Leaf(items) => items.push(value),
            Node::Branch(_) => unreachable!("level 0 is a leaf"),
        }
        self.len += 1;
    }

    /// Replace the element at `index` (which must exist), copying one path of the tree
    /// when it is shared: how an acceptor overwrites one slot of its log (Multi-Paxos).
    pub fn set(&mut self, index: usize, value: T) {
        assert!(
            index < self.len,
            "set {index} past the end ({} elements)",
            self.len
        );
        let mut node = Arc::make_mut(&mut self.root);
        let mut level = self.height;
        while level > 0 {
            let slot = (index >> (BITS * level)) & (LEAF - 1);
            node = Arc::make_mut(&mut node.children()[slot]);
            level -= 1;
        }
        match node {
            Node::Leaf(items) => items[index & (LEAF - 1)] = value,
            Node::Branch(_) => unreachable!("level 0 is a leaf"),
        }
    }

    /// Keep the first `len` elements (nothing happens when `len >= self.len()`).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        if len == 0 {
            *self = PersistentVec::new();
            return;
        }
        // Lower the root while the kept elements fit in its first child.
        while self.height > 0 && len <= Self::capacity(self.height - 1) {
            let first = match &*self.root {
                Node::Branch(children) => Arc::clone(&children[0]),
                Node::Leaf(_) => unreachable!("height > 0 is a branch"),
            };
            self.root = first;
            self.height -= 1;
        }
        let mut node = Arc::make_mut(&mut self.root);
        let mut level = self.height;
        let mut keep = len;
        while level > 0 {
            let below = Self::capacity(level - 1);
            let children = node.children();
            let kept_children = keep.div_ceil(below);
            children.truncate(kept_children);
            keep -= (kept_children - 1) * below;
            node = Arc::make_mut(children.last_mut().expect("keep > 0"));
            level -= 1;
        }
        match node {
            Node::Leaf(items) => items.truncate(keep),
            Node::Branch(_) => unreachable!("level 0 is a leaf"),
        }
        self.len = len;
    }

    /// The elements in order.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            stack: vec![(&*self.root, 0)],
            remaining: self.len,
        }
    }

    /// How many leading elements `self` and `other` share: O(height × LEAF) plus the
    /// elements compared in the leaves that differ, because subtrees the two share (a
    /// clone, and every part of it neither side has changed since) are equal without a
    /// look. How a trace writes a log as a delta against the one it wrote last.
    pub fn common_prefix_len(&self, other: &Self) -> usize
    where
        T: PartialEq,
    {
        // A grown tree holds the smaller one's root as its first child: descend to it.
        let (mut a, mut b) = (&self.root, &other.root);
        let (mut height_a, mut height_b) = (self.height, other.height);
        while height_a > height_b {
            a = a.first_child();
            height_a -= 1;
        }
        while height_b > height_a {
            b = b.first_child();
            height_b -= 1;
        }
        Node::common_prefix(a, b, height_a, 0, self.len.min(other.len))
    }

    /// The elements from `start` (inclusive) to `end` (exclusive), cloned.
    pub fn to_vec_range(&self, start: usize, end: usize) -> Vec<T> {
        assert!(start <= end && end <= self.len, "range past the end");
        (start..end)
            .map(|index| self.get(index).expect("in range").clone())
            .collect()
    }
}

impl<T> Node<T> {
    fn empty(height: u32) -> Self {
        if height == 0 {
            Node::Leaf(Vec::with_capacity(LEAF))
        } else {
            Node::Branch(Vec::with_capacity(LEAF))
        }
    }

    fn first_child(&self) -> &Arc<Node<T>> {
        match self {
            Node::Branch(children) => &children[0],
            Node::Leaf(_) => unreachable!("a branch was expected"),
        }
    }

    /// The elements equal in `a` and `b`, subtrees of height `level` starting at
    /// position `offset`, counted up to position `limit` (the shorter sequence's end).
    fn common_prefix(
        a: &Arc<Node<T>>,
        b: &Arc<Node<T>>,
        level: u32,
        offset: usize,
        limit: usize,
    ) -> usize
    where
        T: PartialEq,
    {
        match (&**a, &**b) {
            (Node::Leaf(x), Node::Leaf(y)) => x
                .iter()
                .zip(y)
                .take(limit.saturating_sub(offset))
                .take_while(|(x, y)| x == y)
                .count(),
            (Node::Branch(xs), Node::Branch(ys)) => {
                // A child of a branch at `level` holds LEAF^level elements when full.
                let per_child = 1usize.checked_shl(BITS * level).unwrap_or(usize::MAX);
                let mut equal = 0;
                for (slot, (x, y)) in xs.iter().zip(ys).enumerate() {
                    let start = offset + slot * per_child;
                    if start >= limit {
                        break;
                    }
                    let wanted = per_child.min(limit - start);
                    let found = if Arc::ptr_eq(x, y) {
                        wanted
                    } else {
                        Node::common_prefix(x, y, level - 1, start, limit)
                    };
                    equal += found;
                    if found < wanted {
                        break;
                    }
                }
                equal
            }
            _ => unreachable!("subtrees of one height are both leaves or both branches"),
        }
    }

    fn children(&mut self) -> &mut Vec<Arc<Node<T>>> {
        match self {
            Node::Branch(children) => children,
            Node::Leaf(_) => unreachable!("a branch was expected"),
        }
    }
}

/// In-order iteration: a stack of (node, next child or item).
pub struct Iter<'a, T> {
    stack: Vec<(&'a Node<T>, usize)>,
    remaining: usize,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            let (node, position) = self.stack.last_mut()?;
            let node: &'a Node<T> = node;
            match node {
                Node::Leaf(items) => {
                    if let Some(item) = items.get(*position) {
                        *position += 1;
                        self.remaining -= 1;
                        return Some(item);
                    }
                    self.stack.pop();
                }
                Node::Branch(children) => {
                    if let Some(child) = children.get(*position) {
                        *position += 1;
                        self.stack.push((&**child, 0));
                    } else {
                        self.stack.pop();
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T: Clone> FromIterator<T> for PersistentVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut vec = PersistentVec::new();
        for item in iter {
            vec.push(item);
        }
        vec
    }
}

impl<T: Clone> From<Vec<T>> for PersistentVec<T> {
    fn from(items: Vec<T>) -> Self {
        items.into_iter().collect()
    }
}

impl<T: Clone> std::ops::Index<usize> for PersistentVec<T> {
    type Output = T;

    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(item) => item,
            None => panic!("index {index} past the end ({} elements)", self.len),
        }
    }
}

impl<T: Clone + PartialEq> PartialEq<[T]> for PersistentVec<T> {
    fn eq(&self, other: &[T]) -> bool {
        self.len == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Clone + PartialEq> PartialEq<Vec<T>> for PersistentVec<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        *self == **other
    }
}

impl<T: Clone + PartialEq> PartialEq for PersistentVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && (Arc::ptr_eq(&self.root, &other.root) || self.iter().eq(other.iter()))
    }
}

impl<T: Clone + Eq> Eq for PersistentVec<T> {}

impl<T: Clone + Hash> Hash for PersistentVec<T> {
    /// As a slice hashes: the length, then every element.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.len.hash(state);
        for item in self.iter() {
            item.hash(state);
        }
    }
}

impl<T: Clone + fmt::Debug> fmt::Debug for PersistentVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every edit is compared with a `Vec` doing the same, and every earlier clone must
    /// keep its contents (persistence).
    #[test]
    fn behaves_as_a_vec_and_clones_never_change() {
        let mut vec: Vec<u64> = Vec::new();
        let mut persistent = PersistentVec::new();
        let mut snapshots: Vec<(Vec<u64>, PersistentVec<u64>)> = Vec::new();
        // A deterministic walk of pushes and truncations across several tree heights.
        let mut x: u64 = 12345;
        let mut longest = 0;
        let mut previous = (Vec::new(), PersistentVec::new());
        for step in 0..6000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (x >> 33).is_multiple_of(7) && !vec.is_empty() {
                // Overwrite one element (an acceptor's slot).
                let index = ((x >> 40) as usize) % vec.len();
                vec[index] = step;
                persistent.set(index, step);
            } else if (x >> 33).is_multiple_of(10) && !vec.is_empty() {
                // Mostly short truncations (a Raft conflict), now and then a deep one.
                let keep = if step.is_multiple_of(500) {
                    ((x >> 40) as usize) % (vec.len() + 1)
                } else {
                    vec.len().saturating_sub(((x >> 40) as usize) % 60)
                };
                vec.truncate(keep);
                persistent.truncate(keep);
            } else {
                for i in 0..((x >> 50) % 70) {
                    vec.push(step * 100 + i);
                    persistent.push(step * 100 + i);
                }
            }
            assert_eq!(persistent.len(), vec.len());
            let naive = |a: &[u64], b: &[u64]| a.iter().zip(b).take_while(|(a, b)| a == b).count();
            assert_eq!(
                persistent.common_prefix_len(&previous.1),
                naive(&vec, &previous.0),
                "step {step}: the prefix shared with the step before"
            );
            previous = (vec.clone(), persistent.clone());
            longest = longest.max(vec.len());
            if step.is_multiple_of(97) {
                snapshots.push((vec.clone(), persistent.clone()));
            }
        }
        assert!(longest > LEAF * LEAF * 2, "the walk reaches height 2");
        assert!(persistent.iter().copied().eq(vec.iter().copied()));
        for (index, value) in vec.iter().enumerate() {
            assert_eq!(persistent.get(index), Some(value));
        }
        assert_eq!(persistent.get(vec.len()), None);
        assert_eq!(persistent.last(), vec.last());
        for (expected, snapshot) in &snapshots {
            assert!(snapshot.iter().eq(expected.iter()), "a clone changed");
            // Shared or not, of any height: the same count as comparing element by element.
            let naive = expected
                .iter()
                .zip(&vec)
                .take_while(|(a, b)| a == b)
                .count();
            assert_eq!(snapshot.common_prefix_len(&persistent), naive);
            assert_eq!(persistent.common_prefix_len(snapshot), naive);
            let unshared = PersistentVec::from(expected.clone());
            assert_eq!(unshared.common_prefix_len(&persistent), naive);
            assert_eq!(snapshot, &PersistentVec::from(expected.clone()));
        }
    }

    #[test]
    fn hashes_and_compares_by_contents_as_a_vec_does() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |value: &dyn Fn(&mut DefaultHasher)| {
            let mut hasher = DefaultHasher::new();
            value(&mut hasher);
            hasher.finish()
        };
        let items: Vec<u32> = (0..1500).collect();
        let built: PersistentVec<u32> = items.iter().copied().collect();
        let mut edited: PersistentVec<u32> = (0..2000).collect();
        edited.truncate(1500);
        assert_eq!(built, edited);
        assert_eq!(hash(&|h| built.hash(h)), hash(&|h| items.hash(h)));
        assert_eq!(hash(&|h| edited.hash(h)), hash(&|h| items.hash(h)));
        edited.truncate(1499);
        edited.push(7);
        assert_ne!(built, edited);
        assert_eq!(format!("{:?}", PersistentVec::from(vec![1, 2])), "[1, 2]");
    }
}
