//! `most-allocated`: pack pods onto the nodes whose CPU and memory are the most requested.
//!
//! Scores every feasible node with kube-scheduler's NodeResourcesFit `MostAllocated`
//! strategy (`pkg/scheduler/framework/plugins/noderesources/most_allocated.go`,
//! `mostRequestedScore`): per resource, `min(requested, capacity) * 100 / capacity` in
//! integer arithmetic after adding the pod, over CPU and memory with weight 1 each, counting
//! unset requests as 100m / 200 MiB (`NonZeroRequested`), averaged with integer division
//! over the resources the node offers. The highest score wins and ties are broken uniformly
//! at random, as kube-scheduler's `selectHost` does. It is that one scoring plugin alone,
//! the packing mirror of `least-allocated`, without the rest of a kube profile.

use crate::algorithms::highest_score::HighestScore;
use crate::algorithms::least_allocated::MAX_NODE_SCORE;
use crate::cluster::NodeRow;
// The 128-bit per-resource score, shared with the NodeResourcesFit plugin.
use crate::framework::plugins::resource_allocation::most_requested_score;
use crate::scheduler::{Cycle, Scheduler};

/// The `most-allocated` algorithm.
#[derive(Debug, Default, Clone)]
pub struct MostAllocated {
    /// The shared scan, with its reused buffers.
    scan: HighestScore,
}

impl MostAllocated {
    /// The name it is registered under.
    pub const NAME: &'static str = "most-allocated";
}

/// The MostAllocated score of one node for a pod charging `cpu` and `memory` (nonzero
/// requests): the average of the per-resource scores over the resources the node offers,
/// exactly as upstream computes it.
#[inline]
pub fn most_allocated_score(row: &NodeRow, cpu: i64, memory: i64) -> i64 {
    if row.exact_float_scores {
        // Same integers as the general branch: the requested amount is capped at a
        // capacity of at most 2^45, so `100 * requested` is exact in an f64 and one correctly
        // rounded division truncates to upstream's quotient (see
        // `NodeRow::exact_float_scores`).
        let used_cpu = row.nonzero_cpu.saturating_add(cpu).min(row.allocatable_cpu);
        let used_mem = row
            .nonzero_memory
            .saturating_add(memory)
            .min(row.allocatable_memory);
        let cpu_score = ((used_cpu * MAX_NODE_SCORE) as f64 / row.allocatable_cpu_f64) as i64;
        let mem_score = ((used_mem * MAX_NODE_SCORE) as f64 / row.allocatable_memory_f64) as i64;
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
            sum += most_requested_score(requested, capacity);
            weights += 1;
        }
    }
    if weights == 0 { 0 } else { sum / weights }
}

impl Scheduler for MostAllocated {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let scan = &mut self.scan;
        cycle.place_each(|cluster, pod, rng| {
            scan.place(cluster, pod, rng, |row, pod| {
                most_allocated_score(row, pod.nonzero_cpu, pod.nonzero_memory) as i32
            })
        });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::algorithms::testkit::*;
    use crate::cluster::ClusterState;
    use crate::node::NodeSpec;
    use crate::resources::Resources;

    #[test]
    fn float_scores_equal_upstream_integers() {
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
            let (mut r, mut step) = (0i64, 1i64);
            // Past capacity too: non-zero defaults can over-request.
            while r <= 2 * cpu_cap.max(mem_cap) + 2 {
                let (rc, rm) = (r, r / 3);
                let want =
                    (most_requested_score(rc, cpu_cap) + most_requested_score(rm, mem_cap)) / 2;
                assert_eq!(most_allocated_score(&row, rc, rm), want, "{rc} {rm}");
                assert_eq!(most_allocated_score(&wide, rc, rm), want, "{rc} {rm}");
                r += step;
                step = step * 3 / 2 + 1;
            }
        }
    }

    #[test]
    fn scores_follow_most_requested_score() {
        // Upstream's arithmetic on a 4-CPU / 8 GiB node holding 1 CPU / 2 GiB: a pod of
        // 1 CPU / 1 GiB makes cpu 2000*100/4000 = 50 and memory 3*100/8 = 37 (37.5
        // truncated), averaged (50 + 37) / 2 = 43.
        let mut c = cluster(&[(4000, 8 * GIB)]);
        preload(&mut c, 0, 1000, 2 * GIB);
        assert_eq!(most_allocated_score(&c.rows()[0], 1000, GIB), 43);
    }

    #[test]
    fn packs_the_most_requested_node() {
        // Four nodes of 4 CPU / 8 GiB; n1 holds 2 CPU / 2 GiB, n2 1 CPU / 6 GiB.
        let mut c = cluster(&[(4000, 8 * GIB); 4]);
        preload(&mut c, 1, 2000, 2 * GIB);
        preload(&mut c, 2, 1000, 6 * GIB);
        let d = run(
            &mut MostAllocated::default(),
            &mut c,
            &[(1000, GIB), (1000, GIB), (2000, GIB)],
        );
        // Pod 0 (1 CPU, 1 GiB): n0 (25 + 12) / 2 = 18; n1 (75 + 37) / 2 = 56;
        // n2 (50 + 87) / 2 = 68; n3 18 -> n2.
        // Pod 1: n1 56; n2 now 2 CPU / 7 GiB: (75 + 100) / 2 = 87 -> n2.
        // Pod 2 (2 CPU, 1 GiB): n2 has 1 CPU and 0 GiB left; n1 (100 + 37) / 2 = 68
        // against n0/n3 (50 + 12) / 2 = 31 -> n1.
        assert_eq!(nodes(&d), vec![2, 2, 1]);
    }

    #[test]
    fn ties_are_broken_at_random_among_the_best_only() {
        // Four empty identical nodes and one busier one: the first pod must go to n4 (the
        // only best); on a cluster of only identical empty nodes every node must be drawn
        // for some seed, and nothing else.
        let mut c = cluster(&[(4000, 8 * GIB); 5]);
        preload(&mut c, 4, 1000, GIB);
        let d = run(&mut MostAllocated::default(), &mut c, &[(1000, GIB)]);
        assert_eq!(nodes(&d), vec![4]);

        let mut seen = BTreeSet::new();
        for seed in 0..64 {
            let mut c = cluster(&[(4000, 8 * GIB); 4]);
            let id = c.add_pod(pod_of(1000, GIB));
            let mut rng =
                <crate::scheduler::SchedulerRng as rand::SeedableRng>::seed_from_u64(seed);
            let mut decisions = Vec::new();
            MostAllocated::default().schedule(&mut Cycle::new(
                &mut c,
                &[id],
                &mut rng,
                &mut decisions,
            ));
            seen.extend(nodes(&decisions));
        }
        assert_eq!(seen, BTreeSet::from([0, 1, 2, 3]));
    }

    #[test]
    fn infeasible_pods_get_kube_style_diagnoses() {
        let mut c = cluster_of(vec![
            node(0, 4000, 8 * GIB),
            tainted(node(1, 4000, 8 * GIB), "gpu"),
        ]);
        preload(&mut c, 0, 3000, GIB);
        let d = run(&mut MostAllocated::default(), &mut c, &[(2000, GIB)]);
        assert_eq!(
            outcome(&d),
            vec![Err(
                "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s)."
                    .to_string()
            )]
        );
    }
}
