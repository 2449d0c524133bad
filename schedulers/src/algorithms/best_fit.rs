//! `best-fit`: the feasible node with the least left over, once the pod is placed, of the
//! pod's dominant resource.
//!
//! Best Fit is the classic bin-packing heuristic (Johnson, "Near-optimal bin packing
//! algorithms", MIT, 1973; Johnson et al., "Worst-case performance bounds for simple
//! one-dimensional packing algorithms", SIAM J. Computing 3(4), 1974): put each item in
//! the fullest bin it fits in. Pods have several dimensions, so "fullest" is measured on the
//! pod's dominant resource, the one where its demand is the largest share of the node's
//! allocatable (Ghodsi et al., "Dominant Resource Fairness", NSDI 2011, define the dominant
//! share this way), evaluated per node since nodes differ.
//!
//! - Leftover is compared as a share of the node's allocatable, exactly (128-bit
//!   cross-multiplication), so nodes of different sizes, and nodes whose dominant resource
//!   differs, are comparable. CPU and memory count as kube-scheduler's scorers count them
//!   (see [`crate::algorithms::demand`]).
//! - Ties (equal leftover shares) go to the lowest node index, as in textbook best fit, so
//!   the algorithm draws nothing from the random stream.
//! - Feasibility is [`PodFilter`]'s, the same filters as `first-fit`; a pod that fits
//!   nowhere gets [`crate::filters::diagnose`]'s kube-scheduler-worded reasons.

use std::cmp::Ordering;

use crate::algorithms::demand::{Demand, cmp_fractions, dominant_leftover};
use crate::cluster::ClusterState;
use crate::filters::PodFilter;
use crate::pod::PodId;
use crate::rank_set::{Fraction, RankSet, place_by_rank};
use crate::scheduler::{Cycle, Placement, Scheduler};
use crate::shape_cache::ShapeCache;

/// The `best-fit` algorithm. Unconstrained pods read the best node from a shape cache of
/// the nodes ordered by leftover share ([`RankSet`]) instead of a scan.
#[derive(Debug, Default, Clone)]
pub struct BestFit {
    cache: ShapeCache<RankSet<Fraction>>,
}

impl BestFit {
    /// The name it is registered under.
    pub const NAME: &'static str = "best-fit";
}

/// The feasible node whose dominant-resource leftover share is the smallest (`Less`,
/// best fit) or the largest (`Greater`, worst fit) of all, the lowest index among
/// equals; or the diagnosis when no node is feasible. `cache` orders nodes by `key` of
/// their share, so that its first node is that one: unconstrained pods read it there,
/// others scan.
pub(crate) fn place_by_leftover<K: Ord + Copy>(
    cache: &mut ShapeCache<RankSet<K>>,
    key: impl Fn(Fraction) -> K,
    cluster: &ClusterState,
    pod_id: PodId,
    wanted: Ordering,
) -> Placement {
    let share = |demand: &Demand, i: usize| {
        let (left, capacity) = dominant_leftover(demand, cluster, i);
        key(Fraction(left, capacity))
    };
    place_by_rank(cache, cluster, pod_id, share, |filter, demand| {
        scan_by_leftover(cluster, filter, demand, wanted)
    })
}

/// [`place_by_leftover`]'s node by a scan over every node, in one pass.
pub(crate) fn scan_by_leftover(
    cluster: &ClusterState,
    filter: &PodFilter<'_>,
    demand: &Demand,
    wanted: Ordering,
) -> Option<usize> {
    let mut best: Option<(usize, (i64, i64))> = None;
    for i in 0..cluster.rows().len() {
        if !filter.feasible(cluster, i) {
            continue;
        }
        let left = dominant_leftover(demand, cluster, i);
        // Strictly better only, so the first node of equal leftover keeps its place.
        if best.is_none_or(|(_, b)| cmp_fractions(left, b) == wanted) {
            best = Some((i, left));
        }
    }
    best.map(|(i, _)| i)
}

impl Scheduler for BestFit {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let cache = &mut self.cache;
        cycle.place_each(|cluster, pod, _rng| {
            place_by_leftover(cache, |f| f, cluster, pod, Ordering::Less)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::testkit::*;
    use crate::resources::ResourceKind;
    use crate::shape_cache::placement;

    #[test]
    fn packs_the_node_with_least_dominant_leftover() {
        // Four nodes of 8 GiB: 4, 8, 2 and 8 CPU; node 3 already holds a 4-CPU pod (4
        // CPU free). CPU-heavy pods: their dominant resource is CPU everywhere.
        let mut c = cluster(&[
            (4000, 8 * GIB),
            (8000, 8 * GIB),
            (2000, 8 * GIB),
            (8000, 8 * GIB),
        ]);
        preload(&mut c, 3, 4000, GIB);
        let d = run(
            &mut BestFit::default(),
            &mut c,
            &[(2000, GIB), (2000, GIB), (1000, GIB), (3000, GIB)],
        );
        // Pod 0 (2 CPU): leftover shares n0 2/4, n1 6/8, n2 0/2, n3 2/8 -> n2 (0).
        // Pod 1 (2 CPU): n2 is full; n0 2/4, n1 6/8, n3 2/8 -> n3 (1/4).
        // Pod 2 (1 CPU): n0 3/4, n1 7/8, n3 1/8 -> n3.
        // Pod 3 (3 CPU): n3 has 1 CPU left, so n0 1/4 against n1 5/8 -> n0.
        assert_eq!(nodes(&d), vec![2, 3, 3, 0]);
    }

    #[test]
    fn dominant_resource_decides_per_node() {
        // n0: 4 CPU / 32 GiB, n1: 16 CPU / 8 GiB. The pod asks 1 CPU and 4 GiB.
        // n0: shares 1/4 cpu, 1/8 mem -> CPU dominant, leftover 3/4.
        // n1: shares 1/16 cpu, 1/2 mem -> memory dominant, leftover 4/8 = 1/2 -> n1.
        // Second pod: n1 now memory 0/8 left -> n1 again (nothing beats 0).
        // Third pod: n1 full on memory -> n0 (3/4).
        let mut c = cluster(&[(4000, 32 * GIB), (16_000, 8 * GIB)]);
        let d = run(
            &mut BestFit::default(),
            &mut c,
            &[(1000, 4 * GIB), (1000, 4 * GIB), (1000, 4 * GIB)],
        );
        assert_eq!(nodes(&d), vec![1, 1, 0]);
    }

    #[test]
    fn ties_go_to_the_lowest_index() {
        // Three identical nodes: the first pod ties everywhere and takes n0; after that n0
        // has the least left, so it fills first, then n1.
        let mut c = cluster(&[(4000, 8 * GIB); 3]);
        let d = run(&mut BestFit::default(), &mut c, &[(2000, GIB); 5]);
        assert_eq!(nodes(&d), vec![0, 0, 1, 1, 2]);
    }

    #[test]
    fn extended_resources_can_dominate() {
        let gpu = ResourceKind(crate::resources::FIRST_EXTENDED as u8);
        let with_gpus = |mut spec: crate::node::NodeSpec, n| {
            spec.allocatable.set(gpu, n);
            spec
        };
        let mut c = cluster_of(vec![
            node(0, 4000, 8 * GIB),
            with_gpus(node(1, 32_000, 64 * GIB), 4),
            with_gpus(node(2, 64_000, 128 * GIB), 8),
        ]);
        // A pod asking 1 CPU, 1 GiB and 2 GPUs: n0 has no GPU; on n1 and n2 the GPU share
        // (2/4, 2/8) beats CPU and memory. Leftover 2/4 on n1 against 6/8 on n2 -> n1;
        // then n1 has 0/4 left -> n1; the third pod only fits on n2.
        let pods = (0..3).map(|_| pod_with(1000, GIB, &[(gpu, 2)])).collect();
        let d = run_pods(&mut BestFit::default(), &mut c, pods);
        assert_eq!(nodes(&d), vec![1, 1, 2]);
    }

    #[test]
    fn gpu_asks_are_a_dimension() {
        use crate::gpu::{GpuRequest, NodeGpus};
        use crate::pod::{Pod, PodTemplate};
        use std::sync::Arc;
        // Same CPU and memory everywhere; node 0 has 8 GPUs, node 1 has 2. A pod asking
        // for one whole GPU has the larger share on node 1 (1/2 of its GPUs against 1/8),
        // so GPU is its dominant resource there and 1000 of 2000 milli-GPU are left over,
        // against 7000 of 8000 on node 0: best-fit takes node 1, then node 1 again (0 of
        // 2000 left), then node 0.
        let gpus = |mut spec: crate::node::NodeSpec, count| {
            spec.gpu = NodeGpus {
                count,
                model: String::new(),
            };
            spec
        };
        let mut c = cluster_of(vec![
            gpus(node(0, 32_000, 64 * GIB), 8),
            gpus(node(1, 32_000, 64 * GIB), 2),
        ]);
        let template = Arc::new(PodTemplate {
            gpu: GpuRequest::whole(1),
            ..(*pod_of(1000, GIB).template).clone()
        });
        let pods = (0..3)
            .map(|i| Pod::from_template(template.clone(), i))
            .collect();
        let d = run_pods(&mut BestFit::default(), &mut c, pods);
        assert_eq!(nodes(&d), vec![1, 1, 0]);
    }

    #[test]
    fn infeasible_pods_get_kube_style_diagnoses() {
        let mut c = cluster_of(vec![
            node(0, 2000, 4 * GIB),
            tainted(node(1, 16_000, 64 * GIB), "dedicated"),
            node(2, 1000, 64 * GIB),
        ]);
        let d = run(&mut BestFit::default(), &mut c, &[(4000, GIB)]);
        assert_eq!(
            outcome(&d),
            vec![Err(
                "0/3 nodes are available: 1 node(s) had untolerated taint(s), \
                 2 Insufficient cpu."
                    .to_string()
            )]
        );
    }

    /// Best fit and worst fit from their caches pick what the scan picks, pod after pod,
    /// while pods come and go on nodes of three sizes (so equal shares come in different
    /// terms) and a few nodes are cordoned.
    #[test]
    fn the_caches_pick_what_the_scan_picks() {
        use std::cmp::Reverse;
        let sizes: Vec<(i64, i64)> = (0..120)
            .map(|i| ([2_000, 4_000, 8_000][i % 3], [4, 8, 16][i % 3] * GIB))
            .collect();
        let shapes = [(0, GIB / 2), (500, GIB), (1_000, 0), (2_000, 2 * GIB)];
        let scanned = |c: &ClusterState, id: PodId, wanted: Ordering| {
            let pod = c.pod(id).unwrap();
            let node = scan_by_leftover(c, &PodFilter::new(pod), &Demand::of(pod), wanted);
            placement(c, pod, node)
        };
        // As BestFit and WorstFit place pods.
        let mut best: ShapeCache<RankSet<Fraction>> = ShapeCache::default();
        churn(&mut cluster(&sizes), 12, 3_000, &shapes, |c, id| {
            let cached = place_by_leftover(&mut best, |f| f, c, id, Ordering::Less);
            (cached, scanned(c, id, Ordering::Less))
        });
        let mut worst: ShapeCache<RankSet<Reverse<Fraction>>> = ShapeCache::default();
        churn(&mut cluster(&sizes), 13, 3_000, &shapes, |c, id| {
            let cached = place_by_leftover(&mut worst, Reverse, c, id, Ordering::Greater);
            (cached, scanned(c, id, Ordering::Greater))
        });
    }
}
