//! `least-allocated`: spread pods onto the nodes with the most free CPU and memory.
//!
//! Scores every feasible node with kube-scheduler's NodeResourcesFit `LeastAllocated`
//! strategy (CPU and memory, weight 1 each, unset requests counted as 100m / 200 MiB) and
//! picks the highest score, breaking ties uniformly at random as kube-scheduler's
//! `selectHost` does. It is that one scoring plugin alone, without the rest of the
//! default profile.

use crate::algorithms::highest_score::HighestScore;
use crate::cluster::NodeRow;
// The 128-bit per-resource score, shared with the NodeResourcesFit plugin.
use crate::framework::plugins::resource_allocation::least_requested_score_wide;
use crate::node::NodeId;
use crate::scheduler::{Cycle, Scheduler};
use crate::shape_cache::INFEASIBLE;

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
pub struct LeastAllocated {
    /// The shared scan, with its reused buffers.
    scan: HighestScore,
}

impl LeastAllocated {
    /// The name it is registered under.
    pub const NAME: &'static str = "least-allocated";
}

/// The LeastAllocated score of one node for a pod charging `cpu` and `memory` (nonzero
/// requests): the average of the per-resource scores over the resources the node offers,
/// exactly as upstream computes it.
#[inline]
pub fn least_allocated_score(row: &NodeRow, cpu: i64, memory: i64) -> i64 {
    if row.exact_float_scores {
        // Same integers as the general branch; see `NodeRow::exact_float_scores`.
        let free_cpu = (row.allocatable_cpu - row.nonzero_cpu - cpu).max(0);
        let free_mem = (row.allocatable_memory - row.nonzero_memory - memory).max(0);
        let cpu_score = ((free_cpu * MAX_NODE_SCORE) as f64 / row.allocatable_cpu_f64) as i64;
        let mem_score = ((free_mem * MAX_NODE_SCORE) as f64 / row.allocatable_memory_f64) as i64;
        // Both scores are in 0..=100, so halving by shift is upstream's integer division.
        return (cpu_score + mem_score) >> 1;
    }
    let (mut sum, mut weights) = (0, 0);
    // Resources a node does not offer are left out of the average, as upstream does.
    for (requested, capacity) in [
        (row.nonzero_cpu.saturating_add(cpu), row.allocatable_cpu),
        (
            row.nonzero_memory.saturating_add(memory),
            row.allocatable_memory,
        ),
    ] {
        if capacity != 0 {
            sum += least_requested_score_wide(requested, capacity);
            weights += 1;
        }
    }
    if weights == 0 { 0 } else { sum / weights }
}

impl Scheduler for LeastAllocated {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let scan = &mut self.scan;
        cycle.place_each(|cluster, pod, rng| {
            scan.place(cluster, pod, rng, |row, pod| {
                least_allocated_score(row, pod.nonzero_cpu, pod.nonzero_memory) as i32
            })
        });
    }
}

/// Fills `tied` with the nodes of the highest score, in node order; empty if every node
/// is [`INFEASIBLE`].
pub fn best_nodes(scores: &[i32], tied: &mut Vec<NodeId>) {
    tied.clear();
    let best = scores.iter().copied().max().unwrap_or(INFEASIBLE);
    if best == INFEASIBLE {
        return;
    }
    tied.extend(
        scores
            .iter()
            .enumerate()
            .filter(|&(_, &s)| s == best)
            .map(|(i, _)| NodeId(i as u32)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_scores_equal_upstream_integers() {
        use crate::cluster::ClusterState;
        use crate::node::NodeSpec;
        use crate::resources::Resources;
        // Capacities at the edge of the float range and awkward divisors; every request
        // from 0 to past capacity in uneven steps.
        for (cpu_cap, mem_cap) in [
            (64_000, 256i64 << 30),
            (3, 7),
            (1 << 45, (1 << 45) - 1),
            (999_983, 1_000_003),
        ] {
            let mut c = ClusterState::default();
            c.add_node(NodeSpec {
                allocatable: Resources::cpu_mem(cpu_cap, mem_cap),
                ..Default::default()
            });
            let row = c.rows()[0];
            assert!(row.exact_float_scores);
            let mut wide = row;
            wide.exact_float_scores = false;
            let mut step = 1i64;
            let mut r = 0i64;
            while r <= cpu_cap.max(mem_cap) + 2 {
                let (rc, rm) = (r.min(cpu_cap + 1), r.min(mem_cap + 1) / 3);
                assert_eq!(
                    least_allocated_score(&row, rc, rm),
                    least_allocated_score(&wide, rc, rm),
                    "{rc} {rm} of {cpu_cap} {mem_cap}"
                );
                assert_eq!(
                    least_allocated_score(&wide, rc, rm),
                    (least_requested_score(rc, cpu_cap) + least_requested_score(rm, mem_cap)) / 2
                );
                r += step;
                step = step * 3 / 2 + 1;
            }
        }
    }

    #[test]
    fn least_requested_matches_upstream_arithmetic() {
        assert_eq!(least_requested_score(0, 4000), 100);
        assert_eq!(least_requested_score(3000, 4000), 25);
        assert_eq!(
            least_requested_score(1, 3),
            66,
            "integer division truncates"
        );
        assert_eq!(least_requested_score(5000, 4000), 0);
        assert_eq!(least_requested_score(10, 0), 0);
    }
}
