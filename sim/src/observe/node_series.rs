//! Per-node requests over time, for small clusters: at every sampling tick, each ready
//! node's requested and allocatable CPU and memory. It is what a student needs to see the
//! placement (the report's utilization heat map); on large clusters it would be a row per
//! node per tick, so it is only kept for clusters of at most [`MAX_NODES`] nodes.

use crate::observe::{Fact, Observer, View};
use crate::time::SimTime;

/// Largest number of nodes (present at a tick) whose series is kept; ticks with more are
/// skipped.
pub const MAX_NODES: usize = 50;

/// One node at one tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSample {
    /// When it was taken.
    pub time: SimTime,
    /// The node's name.
    pub node: String,
    /// CPU millicores requested by its pods.
    pub cpu_requested: i64,
    /// Its allocatable CPU millicores.
    pub cpu_allocatable: i64,
    /// Memory bytes requested by its pods.
    pub mem_requested: i64,
    /// Its allocatable memory bytes.
    pub mem_allocatable: i64,
}

/// Takes a [`NodeSample`] of every ready node at every [`Fact::Sample`] tick.
#[derive(Debug, Clone, Default)]
pub struct NodeSeries {
    rows: Vec<NodeSample>,
}

impl NodeSeries {
    /// The rows, once the run has closed.
    pub fn into_rows(self) -> Vec<NodeSample> {
        self.rows
    }
}

impl Observer for NodeSeries {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        if !matches!(fact, Fact::Sample) {
            return;
        }
        let cluster = view.cluster;
        if cluster.present_node_count() > MAX_NODES {
            return;
        }
        for node in cluster.nodes().iter().filter(|n| n.ready) {
            self.rows.push(NodeSample {
                time: view.now,
                node: node.spec.name.clone(),
                cpu_requested: node.requested.cpu(),
                cpu_allocatable: node.spec.allocatable.cpu(),
                mem_requested: node.requested.memory(),
                mem_allocatable: node.spec.allocatable.memory(),
            });
        }
    }
}
