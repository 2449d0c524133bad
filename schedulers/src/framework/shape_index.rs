//! The framework's shape index: kube-scheduler's cycle for a common pod without visiting
//! the nodes one by one.
//!
//! A cycle filters nodes from a rotating start in the node tree's order until it has
//! found `numFeasibleNodesToFind` feasible ones, scores those, and picks the highest
//! total, uniformly among ties (`findNodesThatFitPod`, `prioritizeNodes` and
//! `selectHost` in kube-scheduler's `schedule_one.go`). At 10,000 nodes that is 500
//! nodes filtered and scored per pod, at 100,000 nodes 5,000.
//!
//! For most pods every verdict and every score that matters is a function of the node
//! and of the pod's requests alone: no node constraints, no host ports, no claims, no
//! (anti-)affinity or spread terms in play, so the plugins that would read more are
//! skipped at PreFilter or PreScore. Each plugin says so for the current pod
//! ([`Plugin::filter_by_shape`], [`Plugin::score_by_shape`]); when all do, pods of one
//! shape (requests, and the same plugins skipped) share one [`WindowTree`]: a segment
//! tree over the node order whose leaves hold each node's verdict and its total of the
//! per-node scores, and whose inner nodes hold how many feasible nodes lie below and the
//! best total with its number of ties. Only nodes the cluster's change log names are
//! re-filtered and rescored, and the cycle becomes four descents of the tree: where the
//! window of the first `numFeasibleNodesToFind` feasible nodes ends, the best total in
//! it, how many nodes share it, and which of them the one random draw picks.
//!
//! Exactness: it picks the node the scan picks, advances the start index by as much, and
//! draws the same number from the same stream. Scores the same on every node of the
//! window ([`ShapeScore::SameWhereZero`]: TaintToleration where no node has a
//! PreferNoSchedule taint) cannot change the winner and are left out of the totals; a
//! window holding a node such a plugin scores above 0 goes back to the scan, as does a window
//! with no feasible node (the diagnosis and preemption need the scan's verdicts), a pod
//! while nominated pods hold room, and a cycle that explains itself.
//! `framework::tests::shape_index_picks_what_the_scan_picks` runs both on random
//! clusters.

use std::collections::HashMap;

#[cfg(doc)]
use super::{Plugin, ShapeScore};
use crate::cluster::{ChangeCursor, ClusterState};
use crate::node::NodeId;
use crate::resources::Resources;

/// What makes two pods interchangeable for the index: their requests, and which
/// plugins' Filter and Score run for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct ShapeKey {
    /// The pod's requests.
    pub requests: Resources,
    /// CPU and memory as the scorers count them (unset requests as defaults).
    pub nonzero: (i64, i64),
    /// One bit per plugin whose Filter runs.
    pub filters: u64,
    /// One bit per plugin whose score enters the totals.
    pub scores: u64,
    /// One bit per plugin whose nonzero score sends the window back to the scan.
    pub zero: u64,
}

/// A node's verdict for one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Leaf {
    /// Fails a filter.
    Infeasible,
    /// Feasible, but a [`ShapeScore::SameWhereZero`] plugin scores it above 0: a window
    /// holding it goes back to the scan.
    Irregular,
    /// Feasible, with this total of per-node scores.
    Total(i64),
}

/// Per-shape trees, each brought up to date from the cluster's change log when used.
#[derive(Debug, Clone, Default)]
pub(super) struct ShapeIndex {
    /// Looked up, never iterated, so hash order cannot leak into decisions.
    shapes: HashMap<ShapeKey, usize>,
    entries: Vec<Entry>,
    /// The node order the trees are laid out in, as (cluster uid, node-set generation).
    order_key: (u64, u64),
    /// Each node's position in that order (`u32::MAX` for a node not in it).
    position: Vec<u32>,
    /// The leaves a catch-up computed, as (position, encoded leaf), before they go in.
    pending: Vec<(u32, i32)>,
}

#[derive(Debug, Clone)]
struct Entry {
    cursor: Option<ChangeCursor>,
    tree: WindowTree,
}

impl ShapeIndex {
    /// How many shapes are kept; pods of further shapes are scanned.
    pub const MAX_SHAPES: usize = 64;

    /// The tree of `key`, brought up to date: `leaf` gives a node's verdict. `None` when
    /// the index is full.
    pub(super) fn tree(
        &mut self,
        cluster: &ClusterState,
        order: &[NodeId],
        order_key: (u64, u64),
        key: ShapeKey,
        mut leaf: impl FnMut(NodeId) -> Leaf,
    ) -> Option<&WindowTree> {
        if order_key != self.order_key {
            // The order changed: every tree is laid out anew.
            self.order_key = order_key;
            self.position.clear();
            let len = cluster.rows().len();
            self.position.resize(len, u32::MAX);
            for (p, node) in order.iter().enumerate() {
                self.position[node.index()] = p as u32;
            }
            for e in &mut self.entries {
                e.cursor = None;
            }
        }
        let index = match self.shapes.get(&key) {
            Some(&i) => i,
            None if self.entries.len() < Self::MAX_SHAPES => {
                self.entries.push(Entry {
                    cursor: None,
                    tree: WindowTree::new(0),
                });
                self.shapes.insert(key, self.entries.len() - 1);
                self.entries.len() - 1
            }
            None => return None,
        };
        let entry = &mut self.entries[index];
        let changes = match entry.cursor {
            Some(cursor) if entry.tree.len() == order.len() => cluster.changes_since(cursor),
            _ => None,
        };
        match changes {
            Some(changes) => {
                // Three passes: the stored leaves are loaded first, all their cache
                // misses at once; then the verdicts (the nodes' rows were just written,
                // so they are in cache), of which only those that changed go on, with
                // their block summaries loaded; then the tree. Each loop waits on many
                // misses together instead of one after another.
                self.pending.clear();
                for node in changes.clone() {
                    let p = self.position.get(node.index()).copied().unwrap_or(u32::MAX);
                    if let Some(&stored) = entry.tree.leaves.get(p as usize) {
                        std::hint::black_box(stored);
                    }
                }
                for node in changes {
                    let p = self.position.get(node.index()).copied().unwrap_or(u32::MAX);
                    if p != u32::MAX {
                        let value = encode(leaf(node));
                        if value != entry.tree.leaves[p as usize] {
                            // Its block's summary is the tree pass's next miss.
                            let block = entry.tree.base + p as usize / BLOCK;
                            std::hint::black_box(entry.tree.blocks[block]);
                            self.pending.push((p, value));
                        }
                    }
                }
                for &(p, value) in &self.pending {
                    entry.tree.set(p as usize, value);
                }
            }
            None => {
                entry.tree = WindowTree::new(order.len());
                for (p, &node) in order.iter().enumerate() {
                    entry.tree.set_leaf(p, leaf(node));
                }
                entry.tree.rebuild();
            }
        }
        entry.cursor = Some(cluster.change_cursor());
        Some(&entry.tree)
    }
}

/// Below an inner node of the tree: how many feasible and irregular nodes, the best
/// total and how many share it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Summary {
    feasible: u32,
    irregular: u32,
    best: i32,
    ties: u32,
}

const EMPTY: Summary = Summary {
    feasible: 0,
    irregular: 0,
    best: i32::MIN,
    ties: 0,
};

impl Summary {
    /// The summary of a block once one of its leaves went from `old` to `new` (encoded,
    /// and different), without reading the block: `None` when the block must be scanned
    /// (the last leaf holding the best total fell below it). A change rescanned the
    /// block's 16 leaves before, ~40% of the index's own instructions.
    #[inline]
    fn replaced(self, old: i32, new: i32) -> Option<Summary> {
        let mut s = self;
        s.feasible = s.feasible - u32::from(old != INFEASIBLE) + u32::from(new != INFEASIBLE);
        s.irregular = s.irregular - u32::from(old == IRREGULAR) + u32::from(new == IRREGULAR);
        // Totals are the leaves above the sentinels; `best` is `EMPTY.best` without one.
        if old > IRREGULAR && old == s.best {
            s.ties -= 1;
        }
        if new > IRREGULAR {
            if new > s.best {
                s.best = new;
                s.ties = 1;
            } else if new == s.best {
                s.ties += 1;
            }
        }
        if s.ties == 0 && s.best != EMPTY.best {
            // The best is gone from the block, and the new leaf is below it.
            return None;
        }
        Some(s)
    }

    fn join(a: Summary, b: Summary) -> Summary {
        let (best, ties) = match a.best.cmp(&b.best) {
            std::cmp::Ordering::Greater => (a.best, a.ties),
            std::cmp::Ordering::Less => (b.best, b.ties),
            std::cmp::Ordering::Equal => (a.best, a.ties + b.ties),
        };
        Summary {
            feasible: a.feasible + b.feasible,
            irregular: a.irregular + b.irregular,
            best,
            ties,
        }
    }
}

/// Positions per block: a block's leaves are scanned, blocks are summed in a tree.
const BLOCK: usize = 16;

/// A leaf that fails a filter, as stored.
const INFEASIBLE: i32 = i32::MIN;
/// A leaf that is feasible but irregular, as stored.
const IRREGULAR: i32 = i32::MIN + 1;

/// A leaf as stored: 32 bits, so that a shape's leaves and summaries take half the cache
/// they would in 64 (the index is bound by cache misses). Totals are sums of weighted
/// scores in 0..=100; one that does not fit, or would be taken for a sentinel, is stored
/// as irregular, which sends a window holding it to the scan.
fn encode(leaf: Leaf) -> i32 {
    match leaf {
        Leaf::Infeasible => INFEASIBLE,
        Leaf::Irregular => IRREGULAR,
        Leaf::Total(t) => i32::try_from(t)
            .ok()
            .filter(|&t| t > IRREGULAR)
            .unwrap_or(IRREGULAR),
    }
}

/// Every position's leaf, with a summary per block of [`BLOCK`] positions kept in a
/// segment tree over the blocks (see the module docs). A change rewrites one leaf,
/// rescans its block and walks up the small block tree, so it touches a few cache lines
/// instead of a path through a tree over every node.
#[derive(Debug, Clone)]
pub(super) struct WindowTree {
    len: usize,
    /// Each position's leaf, encoded: a total, [`INFEASIBLE`] or [`IRREGULAR`].
    leaves: Vec<i32>,
    /// Block summaries: `blocks[1]` is the root, `blocks[base + b]` block `b`.
    blocks: Vec<Summary>,
    /// Where the blocks' own entries start; a power of two.
    base: usize,
}

/// What a window of the node order holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WindowStats {
    /// Feasible nodes in it.
    pub feasible: u32,
    /// Feasible nodes in it that a [`ShapeScore::SameWhereZero`] plugin scores above 0.
    pub irregular: u32,
    /// The best total.
    pub best: i32,
    /// How many nodes have the best total.
    pub ties: u32,
}

/// The summary of `leaves` (see [`WindowTree::scan`]).
#[inline(always)]
fn summarize<L: AsRef<[i32]> + ?Sized>(leaves: &L) -> Summary {
    let leaves = leaves.as_ref();
    let (mut feasible, mut irregular, mut best) = (0u32, 0u32, i32::MIN);
    for &v in leaves {
        feasible += u32::from(v != INFEASIBLE);
        irregular += u32::from(v == IRREGULAR);
        best = best.max(v);
    }
    if best <= IRREGULAR {
        return Summary {
            feasible,
            irregular,
            ..EMPTY
        };
    }
    let ties = leaves.iter().map(|&v| u32::from(v == best)).sum();
    Summary {
        feasible,
        irregular,
        best,
        ties,
    }
}

impl WindowTree {
    fn new(len: usize) -> WindowTree {
        let base = len.div_ceil(BLOCK).next_power_of_two().max(1);
        WindowTree {
            len,
            leaves: vec![INFEASIBLE; len],
            blocks: vec![EMPTY; 2 * base],
            base,
        }
    }

    /// How many positions it covers.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn set_leaf(&mut self, p: usize, leaf: Leaf) {
        self.leaves[p] = encode(leaf);
    }

    fn rebuild(&mut self) {
        for b in 0..self.len.div_ceil(BLOCK) {
            self.blocks[self.base + b] = self.scan(b * BLOCK, ((b + 1) * BLOCK).min(self.len));
        }
        for i in (1..self.base).rev() {
            self.blocks[i] = Summary::join(self.blocks[2 * i], self.blocks[2 * i + 1]);
        }
    }

    /// Rewrites the leaf at `p` with `value` (encoded) and the summaries above it.
    fn set(&mut self, p: usize, value: i32) {
        let old = self.leaves[p];
        if old == value {
            return;
        }
        self.leaves[p] = value;
        let b = p / BLOCK;
        let mut i = self.base + b;
        let summary = match self.blocks[i].replaced(old, value) {
            Some(summary) => summary,
            None => self.scan(b * BLOCK, ((b + 1) * BLOCK).min(self.len)),
        };
        debug_assert_eq!(
            summary,
            self.scan(b * BLOCK, ((b + 1) * BLOCK).min(self.len))
        );
        if self.blocks[i] == summary {
            return;
        }
        self.blocks[i] = summary;
        while i > 1 {
            i /= 2;
            let joined = Summary::join(self.blocks[2 * i], self.blocks[2 * i + 1]);
            // An entry that comes out the same leaves every one above it the same: most
            // changes stop a few levels up (a node's new total rarely moves the best or
            // the ties of a large part of the order).
            if self.blocks[i] == joined {
                return;
            }
            self.blocks[i] = joined;
        }
    }

    /// The summary of leaves `lo..hi`, read one by one. Two branch-free passes (counts
    /// and the best, then its ties), unrolled for a whole block (callgrind shows scalar
    /// code, ~11 instructions a leaf).
    fn scan(&self, lo: usize, hi: usize) -> Summary {
        let leaves = &self.leaves[lo..hi];
        // A whole block, as an array: its length known, the loops are unrolled and
        // vectorized without bounds checks.
        match <&[i32; BLOCK]>::try_from(leaves) {
            Ok(block) => summarize(block),
            Err(_) => summarize(leaves),
        }
    }

    /// The summary of blocks `lo..hi`, from the block tree.
    fn block_range(&self, lo: usize, hi: usize) -> Summary {
        let (mut left, mut right) = (EMPTY, EMPTY);
        let (mut l, mut r) = (lo + self.base, hi + self.base);
        while l < r {
            if l & 1 == 1 {
                left = Summary::join(left, self.blocks[l]);
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                right = Summary::join(self.blocks[r], right);
            }
            l /= 2;
            r /= 2;
        }
        Summary::join(left, right)
    }

    /// The summary of positions `lo..hi`.
    fn range(&self, lo: usize, hi: usize) -> Summary {
        if hi <= lo {
            return EMPTY;
        }
        let (first, last) = (lo / BLOCK, (hi - 1) / BLOCK);
        if first == last {
            return self.scan(lo, hi);
        }
        let head = self.scan(lo, (first + 1) * BLOCK);
        let middle = self.block_range(first + 1, last);
        let tail = self.scan(last * BLOCK, hi);
        Summary::join(Summary::join(head, middle), tail)
    }

    /// Feasible nodes in the whole order.
    pub(super) fn feasible(&self) -> u32 {
        self.blocks[1].feasible
    }

    /// What the positions in `ranges` hold together.
    pub(super) fn stats(&self, ranges: &[(usize, usize)]) -> WindowStats {
        let s = ranges.iter().fold(EMPTY, |acc, &(lo, hi)| {
            Summary::join(acc, self.range(lo, hi))
        });
        WindowStats {
            feasible: s.feasible,
            irregular: s.irregular,
            best: s.best,
            ties: s.ties,
        }
    }

    /// The `k`-th leaf (from 0) of `lo..hi` that `wanted` accepts, or `None` with `k`
    /// lowered by those passed.
    fn scan_kth(
        &self,
        lo: usize,
        hi: usize,
        wanted: impl Fn(i32) -> bool,
        k: &mut u32,
    ) -> Option<usize> {
        for (p, &v) in self.leaves[lo..hi].iter().enumerate() {
            if wanted(v) {
                if *k == 0 {
                    return Some(lo + p);
                }
                *k -= 1;
            }
        }
        None
    }

    /// The position of the `k`-th feasible node (from 0) at or after `from`, if any.
    pub(super) fn kth_feasible_from(&self, from: usize, k: u32) -> Option<usize> {
        if from >= self.len {
            return None;
        }
        let feasible = |v: i32| v != INFEASIBLE;
        let mut k = k;
        let block = from / BLOCK;
        let end = ((block + 1) * BLOCK).min(self.len);
        if let Some(p) = self.scan_kth(from, end, feasible, &mut k) {
            return Some(p);
        }
        // The block holding the rest: descend the block tree, counting from block 0.
        let mut k = k + self.block_range(0, block + 1).feasible;
        if k >= self.blocks[1].feasible {
            return None;
        }
        let mut i = 1;
        while i < self.base {
            let left = self.blocks[2 * i].feasible;
            if k < left {
                i *= 2;
            } else {
                k -= left;
                i = 2 * i + 1;
            }
        }
        let b = i - self.base;
        self.scan_kth(b * BLOCK, ((b + 1) * BLOCK).min(self.len), feasible, &mut k)
    }

    /// The position of the `k`-th node (from 0) in `ranges`, in their order, whose total
    /// is `best`.
    pub(super) fn kth_best(
        &self,
        ranges: &[(usize, usize)],
        best: i32,
        mut k: u32,
    ) -> Option<usize> {
        let is_best = |v: i32| v == best;
        for &(lo, hi) in ranges {
            if hi <= lo {
                continue;
            }
            let (first, last) = (lo / BLOCK, (hi - 1) / BLOCK);
            if first == last {
                if let Some(p) = self.scan_kth(lo, hi, is_best, &mut k) {
                    return Some(p);
                }
                continue;
            }
            if let Some(p) = self.scan_kth(lo, (first + 1) * BLOCK, is_best, &mut k) {
                return Some(p);
            }
            if let Some(b) = self.kth_best_block(1, 0, self.base, first + 1, last, best, &mut k) {
                return self.scan_kth(b * BLOCK, ((b + 1) * BLOCK).min(self.len), is_best, &mut k);
            }
            if let Some(p) = self.scan_kth(last * BLOCK, hi, is_best, &mut k) {
                return Some(p);
            }
        }
        None
    }

    /// Within block-tree entry `i` covering blocks `node_lo..node_hi`, clipped to
    /// `lo..hi`: the block holding the `k`-th leaf of total `best` (with `k` then
    /// counting within that block), or `None` with `k` lowered by those passed.
    #[allow(clippy::too_many_arguments)]
    fn kth_best_block(
        &self,
        i: usize,
        node_lo: usize,
        node_hi: usize,
        lo: usize,
        hi: usize,
        best: i32,
        k: &mut u32,
    ) -> Option<usize> {
        if node_hi <= lo || hi <= node_lo {
            return None;
        }
        let s = self.blocks[i];
        if s.best < best {
            return None;
        }
        let inside = lo <= node_lo && node_hi <= hi;
        if inside && s.best == best && *k >= s.ties {
            *k -= s.ties;
            return None;
        }
        if i >= self.base {
            return Some(i - self.base);
        }
        let mid = (node_lo + node_hi) / 2;
        self.kth_best_block(2 * i, node_lo, mid, lo, hi, best, k)
            .or_else(|| self.kth_best_block(2 * i + 1, mid, node_hi, lo, hi, best, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// Every query agrees with a walk over the leaves, after random changes.
    /// Totals that do not fit the stored width, or would read as a sentinel, are kept as
    /// irregular: a window holding one goes to the scan, which sums in 64 bits.
    #[test]
    fn totals_out_of_range_are_irregular() {
        assert_eq!(encode(Leaf::Total(300)), 300);
        assert_eq!(encode(Leaf::Total(-5)), -5);
        assert_eq!(encode(Leaf::Total(i64::from(i32::MAX) + 1)), IRREGULAR);
        assert_eq!(encode(Leaf::Total(i64::from(i32::MIN))), IRREGULAR);
        assert_eq!(encode(Leaf::Infeasible), INFEASIBLE);
    }

    /// Every block summary equals a rescan of its leaves and every entry above equals
    /// the join of its children, after each change: the incremental update of a block
    /// and the walk up that stops early keep the tree what a rebuild makes it.
    #[test]
    fn summaries_match_a_rebuild_after_each_change() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(5);
        for len in [1usize, 16, 40, 333] {
            let mut tree = WindowTree::new(len);
            tree.rebuild();
            for step in 0..3_000 {
                let p = rng.random_range(0..len);
                // Few distinct totals, so that bests and ties come and go.
                let value = match rng.random_range(0..8) {
                    0 => INFEASIBLE,
                    1 => IRREGULAR,
                    _ => rng.random_range(0..4),
                };
                tree.set(p, value);
                let mut rebuilt = tree.clone();
                rebuilt.rebuild();
                assert_eq!(tree.blocks, rebuilt.blocks, "len {len}, step {step}");
            }
        }
    }

    #[test]
    fn queries_agree_with_a_walk() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        for len in [1usize, 2, 3, 7, 64, 65, 100, 300, 1_000] {
            let mut tree = WindowTree::new(len);
            let mut leaves = vec![Leaf::Infeasible; len];
            for _ in 0..500 {
                let p = rng.random_range(0..len);
                let leaf = match rng.random_range(0..6) {
                    0 => Leaf::Infeasible,
                    1 => Leaf::Irregular,
                    _ => Leaf::Total(rng.random_range(0..4)),
                };
                leaves[p] = leaf;
                tree.set(p, encode(leaf));
                let lo = rng.random_range(0..=len);
                let hi = rng.random_range(lo..=len);
                let ranges = [(lo, hi), (0, lo.min(hi))];
                let walk: Vec<usize> = ranges.iter().flat_map(|&(a, b)| a..b).collect();
                let feasible = walk
                    .iter()
                    .filter(|&&q| leaves[q] != Leaf::Infeasible)
                    .count();
                let totals: Vec<(usize, i32)> = walk
                    .iter()
                    .filter_map(|&q| match leaves[q] {
                        Leaf::Total(t) => Some((q, t as i32)),
                        _ => None,
                    })
                    .collect();
                let stats = tree.stats(&ranges);
                assert_eq!(stats.feasible as usize, feasible);
                let best = totals.iter().map(|&(_, t)| t).max();
                match best {
                    None => assert_eq!(stats.ties, 0),
                    Some(b) => {
                        let tied: Vec<usize> = totals
                            .iter()
                            .filter(|&&(_, t)| t == b)
                            .map(|&(q, _)| q)
                            .collect();
                        assert_eq!((stats.best, stats.ties as usize), (b, tied.len()));
                        for (k, &q) in tied.iter().enumerate() {
                            assert_eq!(tree.kth_best(&ranges, b, k as u32), Some(q));
                        }
                        assert_eq!(tree.kth_best(&ranges, b, tied.len() as u32), None);
                    }
                }
                let from = rng.random_range(0..=len);
                let after: Vec<usize> = (from..len)
                    .filter(|&q| leaves[q] != Leaf::Infeasible)
                    .collect();
                for k in 0..=after.len() {
                    assert_eq!(
                        tree.kth_feasible_from(from, k as u32),
                        after.get(k).copied()
                    );
                }
            }
        }
    }
}
