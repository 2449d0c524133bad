//! `random`: a node drawn uniformly from those that pass every filter.
//!
//! The null hypothesis of scheduling research: any algorithm worth publishing should beat it.
//!
//! Pods without node constraints draw from a [`ShapeCache`] in which every feasible node
//! scores the same, so the feasible nodes of a shape are kept up to date from the
//! cluster's change log instead of found by a scan over every node; the draw is the
//! scan's (one, over their number, in node order).

use rand::RngExt;

use crate::cluster::ClusterState;
use crate::filters::PodFilter;
use crate::node::NodeId;
use crate::pod::PodId;
use crate::scheduler::{Cycle, Placement, Scheduler, SchedulerRng};
use crate::shape_cache::{ShapeCache, placement};

/// The `random` algorithm.
#[derive(Debug, Default, Clone)]
pub struct RandomFit {
    /// Reused between pods so that a placement allocates nothing.
    feasible: Vec<NodeId>,
    /// The feasible nodes of unconstrained pods by shape, all at one score.
    cache: ShapeCache,
}

impl RandomFit {
    /// The name it is registered under.
    pub const NAME: &'static str = "random";
}

impl RandomFit {
    /// One pod's placement: from the cache for an unconstrained pod, else by a scan.
    fn place(
        &mut self,
        cluster: &ClusterState,
        pod_id: PodId,
        rng: &mut SchedulerRng,
    ) -> Placement {
        let Some(pod) = cluster.pod(pod_id) else {
            return Placement::Unschedulable(Default::default());
        };
        let filter = PodFilter::new(pod);
        let Some(tree) = self.cache.scores(cluster, &filter, |_| 0) else {
            return scan(cluster, &filter, rng, &mut self.feasible);
        };
        let node = match tree.best() {
            Some((_, n)) => tree.kth_best(rng.random_range(0..n as usize) as u32),
            None => None,
        };
        placement(cluster, pod, node)
    }
}

/// A node drawn uniformly from every node that passes the filters, found by a scan into
/// `feasible`.
fn scan(
    cluster: &ClusterState,
    filter: &PodFilter<'_>,
    rng: &mut SchedulerRng,
    feasible: &mut Vec<NodeId>,
) -> Placement {
    feasible.clear();
    feasible.extend(
        (0..cluster.rows().len())
            .filter(|&i| filter.feasible(cluster, i))
            .map(|i| NodeId(i as u32)),
    );
    let node =
        (!feasible.is_empty()).then(|| feasible[rng.random_range(0..feasible.len())].index());
    placement(cluster, filter.pod(), node)
}

impl Scheduler for RandomFit {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|cluster, pod_id, rng| self.place(cluster, pod_id, rng));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::testkit::{GIB, churn, cluster, node, tainted};
    use rand::SeedableRng;

    /// The cache draws the node the scan draws, pod after pod, while pods come and go
    /// and nodes are cordoned; a tainted node and pods of a few shapes among them.
    #[test]
    fn the_cache_draws_what_the_scan_draws() {
        let sizes: Vec<(i64, i64)> = (0..150)
            .map(|i| ([2_000, 4_000, 8_000][i % 3], 8 * GIB))
            .collect();
        let mut c = cluster(&sizes);
        c.add_node(tainted(node(150, 8_000, 8 * GIB), "gpu"));
        let mut random = RandomFit::default();
        let (mut cached_rng, mut scan_rng) = (
            SchedulerRng::seed_from_u64(1),
            SchedulerRng::seed_from_u64(1),
        );
        let mut feasible = Vec::new();
        let shapes = [
            (250, GIB / 4),
            (500, GIB / 2),
            (1_000, GIB),
            (3_000, 2 * GIB),
        ];
        churn(&mut c, 9, 4_000, &shapes, |c, id| {
            let filter = PodFilter::new(c.pod(id).unwrap());
            (
                random.place(c, id, &mut cached_rng),
                scan(c, &filter, &mut scan_rng, &mut feasible),
            )
        });
        assert_eq!(
            cached_rng.random::<u64>(),
            scan_rng.random::<u64>(),
            "same draws"
        );
    }
}
