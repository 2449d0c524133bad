//! `worst-fit`: the feasible node with the most left over, once the pod is placed, of the
//! pod's dominant resource. The mirror image of `best-fit`: it spreads.
//!
//! Worst Fit is the spreading counterpart of Best Fit in the classic bin-packing analyses
//! (Johnson, "Near-optimal bin packing algorithms", MIT, 1973; Johnson et al.,
//! "Worst-case performance bounds for simple one-dimensional packing algorithms", SIAM J.
//! Computing 3(4), 1974): put each item in the emptiest bin it fits in. As in `best-fit`,
//! "emptiest" is measured on the pod's dominant resource (the largest share of the node's
//! allocatable, per node; Ghodsi et al., "Dominant Resource Fairness", NSDI 2011), as an
//! exact share of the node's allocatable, with CPU and memory counted as kube-scheduler's
//! scorers count them (see [`crate::algorithms::demand`]).
//!
//! Ties go to the lowest node index, so on identical empty nodes it deals pods out one per
//! node in node order, and it draws nothing from the random stream. Feasibility and
//! diagnoses are those of every other algorithm ([`crate::filters::PodFilter`],
//! [`crate::filters::diagnose`]).

use std::cmp::{Ordering, Reverse};

use crate::algorithms::best_fit::place_by_leftover;
use crate::rank_set::{Fraction, RankSet};
use crate::scheduler::{Cycle, Scheduler};
use crate::shape_cache::ShapeCache;

/// The `worst-fit` algorithm. Unconstrained pods read the best node from a shape cache
/// of the nodes ordered by leftover share, largest first, instead of a scan.
#[derive(Debug, Default, Clone)]
pub struct WorstFit {
    cache: ShapeCache<RankSet<Reverse<Fraction>>>,
}

impl WorstFit {
    /// The name it is registered under.
    pub const NAME: &'static str = "worst-fit";
}

impl Scheduler for WorstFit {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let cache = &mut self.cache;
        cycle.place_each(|cluster, pod, _rng| {
            place_by_leftover(cache, Reverse, cluster, pod, Ordering::Greater)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::testkit::*;

    #[test]
    fn spreads_onto_the_node_with_most_dominant_leftover() {
        // The cluster of best-fit's first test: 4, 8, 2 and 8 CPU (8 GiB each), node 3
        // holding a 4-CPU pod.
        let mut c = cluster(&[
            (4000, 8 * GIB),
            (8000, 8 * GIB),
            (2000, 8 * GIB),
            (8000, 8 * GIB),
        ]);
        preload(&mut c, 3, 4000, GIB);
        let d = run(
            &mut WorstFit::default(),
            &mut c,
            &[(2000, GIB), (2000, GIB), (1000, GIB), (3000, GIB)],
        );
        // CPU dominates everywhere. Pod 0 (2 CPU): leftover n0 2/4, n1 6/8, n2 0/2, n3 2/8
        // -> n1. Pod 1 (2 CPU): n0 2/4, n1 4/8, n2 0/2, n3 2/8: n0 and n1 tie at 1/2, the
        // lower index wins -> n0. Pod 2 (1 CPU): n0 1/4, n1 5/8, n2 1/2, n3 3/8 -> n1.
        // Pod 3 (3 CPU): n0 and n2 lack CPU; n1 2/8 against n3 1/8 -> n1.
        assert_eq!(nodes(&d), vec![1, 0, 1, 1]);
    }

    #[test]
    fn ties_deal_one_pod_per_identical_node() {
        let mut c = cluster(&[(4000, 8 * GIB); 3]);
        let d = run(&mut WorstFit::default(), &mut c, &[(1000, GIB); 5]);
        // Empty nodes tie -> n0; then n1 and n2 would keep 3/4 against n0's 2/4 -> n1,
        // then n2; then all three would keep 2/4 -> n0; then n1 and n2 tie at 2/4 -> n1.
        assert_eq!(nodes(&d), vec![0, 1, 2, 0, 1]);
    }

    #[test]
    fn dominant_resource_decides_per_node() {
        // n0: 4 CPU / 32 GiB, n1: 16 CPU / 8 GiB; pods of 1 CPU and 4 GiB. On n0 CPU is
        // dominant (1/4 > 1/8), leftover 3/4; on n1 memory (1/2 > 1/16), leftover 1/2 ->
        // n0. Then n0: 2/4 against n1: 1/2, a tie -> n0. Then n0: 1/4 against 1/2 -> n1.
        let mut c = cluster(&[(4000, 32 * GIB), (16_000, 8 * GIB)]);
        let d = run(&mut WorstFit::default(), &mut c, &[(1000, 4 * GIB); 3]);
        assert_eq!(nodes(&d), vec![0, 0, 1]);
    }

    #[test]
    fn infeasible_pods_get_kube_style_diagnoses() {
        let mut c = cluster(&[(2000, GIB), (8000, GIB)]);
        // 3 CPU and 2 GiB: n0 lacks both, n1 lacks memory.
        let d = run(&mut WorstFit::default(), &mut c, &[(3000, 2 * GIB)]);
        assert_eq!(
            outcome(&d),
            vec![Err(
                "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.".to_string()
            )]
        );
    }
}
