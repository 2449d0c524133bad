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

use crate::cluster::{ChangeCursor, ClusterState, NodeRow};
use crate::filters::PodFilter;
use crate::resources::Resources;
use crate::score_tree::{NO_SCORE, ScoreTree};

/// What makes two pods interchangeable for feasibility and resource scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ShapeKey {
    requests: Resources,
    nonzero_cpu: i64,
    nonzero_memory: i64,
}

/// One shape's scores, and where in the cluster's change log they were last brought up
/// to date.
#[derive(Debug, Clone, Default)]
struct ShapeEntry {
    cursor: Option<ChangeCursor>,
    tree: ScoreTree,
}

/// The score of a node that fails the filters, in the full scans of callers that do
/// not use the cache.
pub const INFEASIBLE: i32 = -1;

/// Best nodes by pod shape. Holds at most [`ShapeCache::MAX_SHAPES`] shapes; pods of
/// further shapes, and pods with node constraints, are scored by a full scan.
#[derive(Debug, Clone, Default)]
pub struct ShapeCache {
    /// Looked up, never iterated, so hash order cannot leak into decisions.
    shapes: HashMap<ShapeKey, usize>,
    entries: Vec<ShapeEntry>,
}

impl ShapeCache {
    /// How many shapes are remembered; beyond that, scans are not cached.
    pub const MAX_SHAPES: usize = 64;

    /// Every node's score for the filtered pod ([`NO_SCORE`] where it does not pass the
    /// filters), bucketed so that the best score and its ties are at hand. `score` must
    /// depend only on the node row and the pod's requests, and be from 0 to
    /// [`crate::score_tree::MAX_SCORE`] (kube-scheduler's node score range). Returns
    /// `None` when the pod cannot be cached (node constraints, a GPU ask, or too many
    /// shapes).
    pub fn scores(
        &mut self,
        cluster: &ClusterState,
        filter: &PodFilter<'_>,
        score: impl Fn(&NodeRow) -> i32,
    ) -> Option<&mut ScoreTree> {
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
                self.entries.push(ShapeEntry::default());
                self.shapes.insert(key, self.entries.len() - 1);
                self.entries.len() - 1
            }
            None => return None,
        };
        let entry = &mut self.entries[index];
        let rows = cluster.rows();
        let rescore = |tree: &mut ScoreTree, i: usize| {
            let s = if filter.feasible(cluster, i) {
                score(&rows[i])
            } else {
                NO_SCORE
            };
            tree.set(i, s);
        };
        let changes = match entry.cursor {
            Some(cursor) if entry.tree.len() == rows.len() => cluster.changes_since(cursor),
            _ => None,
        };
        match changes {
            Some(changes) => {
                for node in changes {
                    rescore(&mut entry.tree, node.index());
                }
            }
            None => {
                // Another cluster, nodes added, or too far behind: score every node.
                entry.tree = ScoreTree::new(rows.len());
                for i in 0..rows.len() {
                    rescore(&mut entry.tree, i);
                }
            }
        }
        entry.cursor = Some(cluster.change_cursor());
        Some(&mut entry.tree)
    }
}
