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
                for node in changes {
                    let p = self.position.get(node.index()).copied().unwrap_or(u32::MAX);
                    if p != u32::MAX {
                        entry.tree.set(p as usize, leaf(node));
                    }
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
    best: i64,
    ties: u32,
}

const EMPTY: Summary = Summary {
    feasible: 0,
    irregular: 0,
    best: i64::MIN,
    ties: 0,
};

impl Summary {
    fn of(leaf: Leaf) -> Summary {
        match leaf {
            Leaf::Infeasible => EMPTY,
            Leaf::Irregular => Summary {
                feasible: 1,
                irregular: 1,
                ..EMPTY
            },
            Leaf::Total(t) => Summary {
                feasible: 1,
                irregular: 0,
                best: t,
                ties: 1,
            },
        }
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

/// A segment tree over positions in the node order (see the module docs).
#[derive(Debug, Clone)]
pub(super) struct WindowTree {
    len: usize,
    /// Leaves start here; a power of two.
    base: usize,
    /// `nodes[1]` is the root, `nodes[base + p]` position `p`'s leaf.
    nodes: Vec<Summary>,
}

/// What a window of the node order holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WindowStats {
    /// Feasible nodes in it.
    pub feasible: u32,
    /// Feasible nodes in it that are not plain.
    pub irregular: u32,
    /// The best total and how many nodes share it.
    pub best: i64,
    pub ties: u32,
}

impl WindowTree {
    fn new(len: usize) -> WindowTree {
        let base = len.next_power_of_two().max(1);
        WindowTree {
            len,
            base,
            nodes: vec![EMPTY; 2 * base],
        }
    }

    /// How many positions it covers.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn set_leaf(&mut self, p: usize, leaf: Leaf) {
        self.nodes[self.base + p] = Summary::of(leaf);
    }

    fn rebuild(&mut self) {
        for i in (1..self.base).rev() {
            self.nodes[i] = Summary::join(self.nodes[2 * i], self.nodes[2 * i + 1]);
        }
    }

    fn set(&mut self, p: usize, leaf: Leaf) {
        let mut i = self.base + p;
        let s = Summary::of(leaf);
        if self.nodes[i] == s {
            return;
        }
        self.nodes[i] = s;
        while i > 1 {
            i /= 2;
            self.nodes[i] = Summary::join(self.nodes[2 * i], self.nodes[2 * i + 1]);
        }
    }

    /// Feasible nodes in the whole order.
    pub(super) fn feasible(&self) -> u32 {
        self.nodes[1].feasible
    }

    /// The summary of positions `lo..hi`.
    fn range(&self, lo: usize, hi: usize) -> Summary {
        let (mut left, mut right) = (EMPTY, EMPTY);
        let (mut l, mut r) = (lo + self.base, hi + self.base);
        while l < r {
            if l & 1 == 1 {
                left = Summary::join(left, self.nodes[l]);
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                right = Summary::join(self.nodes[r], right);
            }
            l /= 2;
            r /= 2;
        }
        Summary::join(left, right)
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

    /// The position of the `k`-th feasible node (from 0) at or after `from`, if any.
    pub(super) fn kth_feasible_from(&self, from: usize, k: u32) -> Option<usize> {
        let mut k = k + self.range(0, from).feasible;
        if k >= self.nodes[1].feasible {
            return None;
        }
        let mut i = 1;
        while i < self.base {
            let left = self.nodes[2 * i].feasible;
            if k < left {
                i *= 2;
            } else {
                k -= left;
                i = 2 * i + 1;
            }
        }
        Some(i - self.base)
    }

    /// The position of the `k`-th node (from 0) in `ranges`, in their order, whose total
    /// is `best`.
    pub(super) fn kth_best(
        &self,
        ranges: &[(usize, usize)],
        best: i64,
        mut k: u32,
    ) -> Option<usize> {
        for &(lo, hi) in ranges {
            match self.kth_best_below(1, 0, self.base, lo, hi, best, &mut k) {
                Some(p) => return Some(p),
                None => continue,
            }
        }
        None
    }

    /// Within the subtree `i` covering `node_lo..node_hi`, clipped to `lo..hi`: the
    /// `k`-th leaf of total `best`, or `None` with `k` lowered by those it passed.
    #[allow(clippy::too_many_arguments)]
    fn kth_best_below(
        &self,
        i: usize,
        node_lo: usize,
        node_hi: usize,
        lo: usize,
        hi: usize,
        best: i64,
        k: &mut u32,
    ) -> Option<usize> {
        if node_hi <= lo || hi <= node_lo {
            return None;
        }
        let s = self.nodes[i];
        if s.best < best {
            return None;
        }
        if lo <= node_lo && node_hi <= hi && s.best == best && *k >= s.ties {
            *k -= s.ties;
            return None;
        }
        if i >= self.base {
            // A leaf inside the range with the best total, and the one wanted.
            return Some(i - self.base);
        }
        let mid = (node_lo + node_hi) / 2;
        self.kth_best_below(2 * i, node_lo, mid, lo, hi, best, k)
            .or_else(|| self.kth_best_below(2 * i + 1, mid, node_hi, lo, hi, best, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// Every query agrees with a walk over the leaves, after random changes.
    #[test]
    fn queries_agree_with_a_walk() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        for len in [1usize, 2, 3, 7, 64, 100] {
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
                tree.set(p, leaf);
                let lo = rng.random_range(0..=len);
                let hi = rng.random_range(lo..=len);
                let ranges = [(lo, hi), (0, lo.min(hi))];
                let walk: Vec<usize> = ranges.iter().flat_map(|&(a, b)| a..b).collect();
                let feasible = walk
                    .iter()
                    .filter(|&&q| leaves[q] != Leaf::Infeasible)
                    .count();
                let totals: Vec<(usize, i64)> = walk
                    .iter()
                    .filter_map(|&q| match leaves[q] {
                        Leaf::Total(t) => Some((q, t)),
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
