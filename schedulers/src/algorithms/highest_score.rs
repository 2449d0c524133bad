//! The placement loop the single-score algorithms share (`least-allocated`,
//! `most-allocated`): score every feasible node, keep the best, break ties uniformly at
//! random as kube-scheduler's `selectHost` does. Scores of unconstrained pods come from a
//! [`ShapeCache`], so a node is rescored only when it changed.

use rand::RngExt;

use crate::algorithms::least_allocated::best_nodes;
use crate::cluster::{ClusterState, NodeRow};
use crate::filters::{PodFilter, diagnose};
use crate::node::NodeId;
use crate::pod::{Pod, PodId};
use crate::scheduler::{Placement, SchedulerRng};
use crate::shape_cache::{INFEASIBLE, ShapeCache};

/// Reused buffers of a highest-score placement, so that a placement allocates nothing.
#[derive(Debug, Default, Clone)]
pub struct HighestScore {
    /// Nodes sharing the best score.
    tied: Vec<NodeId>,
    /// Scores of unconstrained pods by shape, refreshed for changed nodes only.
    cache: ShapeCache,
    /// Scores of a full scan, for pods the cache does not take.
    scratch: Vec<i32>,
}

impl HighestScore {
    /// Places one pod on a feasible node of the highest `score`, uniform among ties (one
    /// draw per pod, none when a single node is best).
    pub fn place(
        &mut self,
        cluster: &ClusterState,
        pod_id: PodId,
        rng: &mut SchedulerRng,
        score: impl Fn(&NodeRow, &Pod) -> i32,
    ) -> Placement {
        let Some(pod) = cluster.pod(pod_id) else {
            return Placement::Unschedulable(Default::default());
        };
        let filter = PodFilter::new(pod);
        let score = |row: &NodeRow| score(row, pod);
        let rows = cluster.rows();
        if let Some(tree) = self.cache.scores(cluster, &filter, |i| score(&rows[i])) {
            // The same draw as for a scan's list of ties: one, over their number, only
            // when there are several.
            let node = match tree.best() {
                None => return Placement::Unschedulable(diagnose(cluster, pod)),
                Some((_, 1)) => tree.kth_best(0),
                Some((_, n)) => tree.kth_best(rng.random_range(0..n as usize) as u32),
            };
            return match node {
                Some(i) => Placement::Node(NodeId(i as u32)),
                None => Placement::Unschedulable(diagnose(cluster, pod)),
            };
        }
        self.scratch.clear();
        self.scratch
            .extend(cluster.rows().iter().enumerate().map(|(i, row)| {
                if filter.feasible(cluster, i) {
                    score(row)
                } else {
                    INFEASIBLE
                }
            }));
        best_nodes(&self.scratch, &mut self.tied);
        match self.tied.len() {
            0 => Placement::Unschedulable(diagnose(cluster, pod)),
            1 => Placement::Node(self.tied[0]),
            n => Placement::Node(self.tied[rng.random_range(0..n)]),
        }
    }
}
