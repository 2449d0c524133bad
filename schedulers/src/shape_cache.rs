//! A memo of per-node scores by pod shape, refreshed only for nodes that changed.
//!
//! A scoring scan over every node for every pod is the cost of spreading and packing
//! algorithms. Yet between two pods only the nodes that gained or lost a pod change, and
//! most pods come in a few shapes (the pods of one Deployment or Job are identical). For
//! a pod without node constraints, whether a node is feasible and what it scores depend
//! only on the pod's requests and on the node, so this cache keeps one score per node
//! per shape and recomputes a node only when its generation
//! ([`ClusterState::generations`]) moved. Results are identical to a full scan.

use std::collections::HashMap;

use crate::cluster::{ClusterState, NodeRow};
use crate::filters::PodFilter;
use crate::resources::Resources;

/// What makes two pods interchangeable for feasibility and resource scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ShapeKey {
    requests: Resources,
    nonzero_cpu: i64,
    nonzero_memory: i64,
}

/// One shape's scores.
#[derive(Debug, Clone, Default)]
struct ShapeEntry {
    /// The node generation each score was computed at.
    seen: Vec<u64>,
    /// The score, or [`INFEASIBLE`].
    scores: Vec<i32>,
}

/// The score of a node that fails the filters.
pub const INFEASIBLE: i32 = -1;

/// Scores by pod shape. Holds at most [`ShapeCache::MAX_SHAPES`] shapes; pods of further
/// shapes, and pods with node constraints, are scored by a full scan.
#[derive(Debug, Clone, Default)]
pub struct ShapeCache {
    cluster_uid: u64,
    /// Looked up, never iterated, so hash order cannot leak into decisions.
    shapes: HashMap<ShapeKey, usize>,
    entries: Vec<ShapeEntry>,
}

impl ShapeCache {
    /// How many shapes are remembered; beyond that, scans are not cached.
    pub const MAX_SHAPES: usize = 64;

    /// Every node's score for the filtered pod (or [`INFEASIBLE`]), by node index.
    /// `score` must depend only on the node row and the pod's requests. Returns `None`
    /// when the pod cannot be cached (node constraints, a GPU ask, or too many shapes).
    pub fn scores(
        &mut self,
        cluster: &ClusterState,
        filter: &PodFilter<'_>,
        score: impl Fn(&NodeRow) -> i32,
    ) -> Option<&[i32]> {
        // A GPU ask is not part of the shape: two pods of one shape may fit different
        // nodes' GPUs, so their feasibility cannot be shared.
        if !filter.is_unconstrained() || filter.pod().template.gpu.is_some() {
            return None;
        }
        if self.cluster_uid != cluster.uid() {
            self.shapes.clear();
            self.entries.clear();
            self.cluster_uid = cluster.uid();
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
        let (rows, generations) = (cluster.rows(), cluster.generations());
        // Generations start at 1, so a fresh slot (0) is always stale.
        entry.seen.resize(rows.len(), 0);
        entry.scores.resize(rows.len(), INFEASIBLE);
        for (i, (&generation, row)) in generations.iter().zip(rows).enumerate() {
            if entry.seen[i] != generation {
                entry.seen[i] = generation;
                entry.scores[i] = if filter.feasible(cluster, i) {
                    score(row)
                } else {
                    INFEASIBLE
                };
            }
        }
        Some(&entry.scores)
    }
}
