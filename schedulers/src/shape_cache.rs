//! The best nodes by pod shape, kept up to date for the nodes that changed.
//!
//! A scoring scan over every node for every pod is the cost of spreading and packing
//! algorithms. Yet between two pods only the nodes that gained or lost a pod change, and
//! most pods come in a few shapes (the pods of one Deployment or Job are identical). For
//! a pod without node constraints, whether a node is feasible and what it scores depend
//! only on the pod's requests and on the node, so this cache keeps, per shape, every
//! node's score bucketed by value ([`ScoreTree`]), rescores only the nodes the cluster's
//! change log names ([`ClusterState::changes_since`]), and reads the best nodes from the
//! highest bucket. A placement costs a little per changed node instead of a scan, and
//! its results are identical to a full scan's: the same best score, the same ties in
//! node order.

use std::collections::HashMap;

use crate::cluster::{ChangeCursor, ClusterState};
use crate::filters::{PodFilter, diagnose};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::resources::Resources;
use crate::scheduler::Placement;
use crate::score_tree::{NO_SCORE, ScoreTree};

/// What makes two pods interchangeable for feasibility and resource scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ShapeKey {
    requests: Resources,
    nonzero_cpu: i64,
    nonzero_memory: i64,
}

/// What a shape keeps of every node: its score, or nothing where it fails the filters,
/// in a structure that finds the best node without a scan.
pub trait NodeScores: Default {
    /// A node's score.
    type Score;
    /// Room for `len` nodes, none feasible yet.
    fn with_nodes(len: usize) -> Self;
    /// How many nodes it covers.
    fn node_count(&self) -> usize;
    /// Sets node `i`'s score, `None` when it fails the filters.
    fn set(&mut self, i: usize, score: Option<Self::Score>);
    /// Loads what [`NodeScores::set`] of node `i` will read first, so that a catch-up
    /// waits for many such cache misses at once instead of one after another.
    fn prefetch(&self, _i: usize) {}
}

impl NodeScores for ScoreTree {
    type Score = i32;
    fn with_nodes(len: usize) -> Self {
        ScoreTree::new(len)
    }
    fn node_count(&self) -> usize {
        ScoreTree::len(self)
    }
    fn set(&mut self, i: usize, score: Option<i32>) {
        ScoreTree::set(self, i, score.unwrap_or(NO_SCORE));
    }
    fn prefetch(&self, i: usize) {
        ScoreTree::prefetch(self, i);
    }
}

/// One shape's scores, and where in the cluster's change log they were last brought up
/// to date.
#[derive(Debug, Clone, Default)]
struct ShapeEntry<T> {
    cursor: Option<ChangeCursor>,
    tree: T,
}

/// The score of a node that fails the filters, in the full scans of callers that do
/// not use the cache.
pub const INFEASIBLE: i32 = -1;

/// Best nodes by pod shape. Holds at most [`ShapeCache::MAX_SHAPES`] shapes; pods of
/// further shapes, and pods with node constraints, are scored by a full scan.
#[derive(Debug, Clone)]
pub struct ShapeCache<T = ScoreTree> {
    /// Looked up, never iterated, so hash order cannot leak into decisions.
    shapes: HashMap<ShapeKey, usize>,
    entries: Vec<ShapeEntry<T>>,
}

impl<T> Default for ShapeCache<T> {
    fn default() -> Self {
        ShapeCache {
            shapes: HashMap::new(),
            entries: Vec::new(),
        }
    }
}

impl<T: NodeScores> ShapeCache<T> {
    /// How many shapes are remembered; beyond that, scans are not cached.
    pub const MAX_SHAPES: usize = 64;

    /// Every node's score for the filtered pod (none where it does not pass the
    /// filters), kept so that the best is at hand. `score` (of a node's index) must
    /// depend only on the node and the pod's requests; for a [`ScoreTree`], be from 0 to
    /// [`crate::score_tree::MAX_SCORE`] (kube-scheduler's node score range). Returns
    /// `None` when the pod cannot be cached (node constraints, a GPU ask, or too many
    /// shapes).
    pub fn scores(
        &mut self,
        cluster: &ClusterState,
        filter: &PodFilter<'_>,
        score: impl Fn(usize) -> T::Score,
    ) -> Option<&mut T> {
        // A GPU ask is not part of the shape: two pods of one shape may fit different
        // nodes' GPUs, so their feasibility cannot be shared.
        if !filter.is_unconstrained() || filter.pod().template.gpu.is_some() {
            return None;
        }
        let pod = filter.pod();
        let key = ShapeKey {
            requests: pod.requests,
            nonzero_cpu: pod.nonzero_cpu,
            nonzero_memory: pod.nonzero_memory,
        };
        let index = match self.shapes.get(&key) {
            Some(&i) => i,
            None if self.entries.len() < Self::MAX_SHAPES => {
                self.entries.push(ShapeEntry {
                    cursor: None,
                    tree: T::default(),
                });
                self.shapes.insert(key, self.entries.len() - 1);
                self.entries.len() - 1
            }
            None => return None,
        };
        let entry = &mut self.entries[index];
        let rows = cluster.rows();
        let rescore = |tree: &mut T, i: usize| {
            tree.set(i, filter.feasible(cluster, i).then(|| score(i)));
        };
        let changes = match entry.cursor {
            Some(cursor) if entry.tree.node_count() == rows.len() => cluster.changes_since(cursor),
            _ => None,
        };
        match changes {
            Some(changes) => {
                for node in changes.clone() {
                    entry.tree.prefetch(node.index());
                }
                for node in changes {
                    rescore(&mut entry.tree, node.index());
                }
            }
            None => {
                // Another cluster, nodes added, or too far behind: score every node.
                entry.tree = T::with_nodes(rows.len());
                for i in 0..rows.len() {
                    rescore(&mut entry.tree, i);
                }
            }
        }
        entry.cursor = Some(cluster.change_cursor());
        Some(&mut entry.tree)
    }
}

/// The pod's placement on node index `node`, or its kube-scheduler-worded diagnosis when
/// neither the cache nor the scan found a node: the last step of the algorithms that
/// read a shape cache.
pub(crate) fn placement(cluster: &ClusterState, pod: &Pod, node: Option<usize>) -> Placement {
    match node {
        Some(i) => Placement::Node(NodeId(i as u32)),
        None => Placement::Unschedulable(diagnose(cluster, pod)),
    }
}
