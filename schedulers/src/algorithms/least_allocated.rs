//! `least-allocated`: spread pods onto the nodes with the most free CPU and memory.
//!
//! Scores every feasible node with kube-scheduler's NodeResourcesFit `LeastAllocated`
//! strategy (CPU and memory, weight 1 each, unset requests counted as 100m / 200 MiB) and
//! picks the highest score, breaking ties uniformly at random as kube-scheduler's
//! `selectHost` does. It is that one scoring plugin alone, without the rest of the
//! default profile.

use rand::RngExt;

use crate::filters::{check_node, diagnose};
use crate::node::NodeId;
use crate::scheduler::{Cycle, Placement, Scheduler};

/// kube-scheduler's MaxNodeScore.
pub const MAX_NODE_SCORE: i64 = 100;

/// kube-scheduler's `leastRequestedScore`: the free share of one resource after placing
/// the pod, on 0..=100, with integer division as upstream.
#[inline]
pub fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// The `least-allocated` algorithm.
#[derive(Debug, Default, Clone)]
pub struct LeastAllocated;

impl LeastAllocated {
    /// The name it is registered under.
    pub const NAME: &'static str = "least-allocated";
}

impl Scheduler for LeastAllocated {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|cluster, pod_id, rng| {
            let Some(pod) = cluster.pod(pod_id) else {
                return Placement::Unschedulable(Default::default());
            };
            let mut best: Option<NodeId> = None;
            let mut best_score = -1;
            let mut ties = 0u32;
            for (i, node) in cluster.nodes().iter().enumerate() {
                let id = NodeId(i as u32);
                if check_node(cluster, pod, id).is_err() {
                    continue;
                }
                let alloc = &node.spec.allocatable;
                // Resources a node does not offer are left out of the average, as upstream does.
                let (mut sum, mut weights) = (0, 0);
                if alloc.cpu() != 0 {
                    sum += least_requested_score(node.nonzero_cpu + pod.nonzero_cpu, alloc.cpu());
                    weights += 1;
                }
                if alloc.memory() != 0 {
                    sum += least_requested_score(node.nonzero_memory + pod.nonzero_memory, alloc.memory());
                    weights += 1;
                }
                let score = if weights == 0 { 0 } else { sum / weights };
                if score > best_score {
                    best_score = score;
                    best = Some(id);
                    ties = 1;
                } else if score == best_score {
                    // Reservoir sampling: each of the k tied nodes ends up chosen with
                    // probability 1/k, drawing only when a tie occurs.
                    ties += 1;
                    if rng.random_range(0..ties) == 0 {
                        best = Some(id);
                    }
                }
            }
            match best {
                Some(node) => Placement::Node(node),
                None => Placement::Unschedulable(diagnose(cluster, pod)),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_requested_matches_upstream_arithmetic() {
        assert_eq!(least_requested_score(0, 4000), 100);
        assert_eq!(least_requested_score(3000, 4000), 25);
        assert_eq!(least_requested_score(1, 3), 66, "integer division truncates");
        assert_eq!(least_requested_score(5000, 4000), 0);
        assert_eq!(least_requested_score(10, 0), 0);
    }
}
