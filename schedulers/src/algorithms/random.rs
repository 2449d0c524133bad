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
    use crate::algorithms::testkit::{GIB, cluster, pod_of, tainted};
    use rand::SeedableRng;

    /// The cache draws the node the scan draws, pod after pod, while pods come and go
    /// and nodes are cordoned; a tainted node and pods of a few shapes among them.
    #[test]
    fn the_cache_draws_what_the_scan_draws() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(9);
        let sizes: Vec<(i64, i64)> = (0..150)
            .map(|i| ([2_000, 4_000, 8_000][i % 3], 8 * GIB))
            .collect();
        let mut c = cluster(&sizes);
        c.add_node(tainted(
            crate::algorithms::testkit::node(150, 8_000, 8 * GIB),
            "gpu",
        ));
        let mut random = RandomFit::default();
        let (mut cached_rng, mut scan_rng) = (
            SchedulerRng::seed_from_u64(1),
            SchedulerRng::seed_from_u64(1),
        );
        let mut feasible = Vec::new();
        let mut bound = Vec::new();
        for step in 0..4_000 {
            match rng.random_range(0..10) {
                0..6 => {
                    let shape = rng.random_range(0..4);
                    let id = c.add_pod(pod_of(
                        [250, 500, 1_000, 3_000][shape],
                        [GIB / 4, GIB / 2, GIB, 2 * GIB][shape],
                    ));
                    let a = random.place(&c, id, &mut cached_rng);
                    let b = scan(
                        &c,
                        &PodFilter::new(c.pod(id).unwrap()),
                        &mut scan_rng,
                        &mut feasible,
                    );
                    assert_eq!(a, b, "step {step}");
                    match a {
                        Placement::Node(node) => {
                            c.bind(id, node).unwrap();
                            bound.push(id);
                        }
                        _ => {
                            c.remove_pod(id);
                        }
                    }
                }
                6..9 if !bound.is_empty() => {
                    let id = bound.swap_remove(rng.random_range(0..bound.len()));
                    c.unbind(id).unwrap();
                    c.remove_pod(id);
                }
                _ => {
                    let node = NodeId(rng.random_range(0..150));
                    let cordoned = c.node(node).spec.unschedulable;
                    c.set_unschedulable(node, !cordoned).unwrap();
                }
            }
        }
        assert_eq!(
            cached_rng.random::<u64>(),
            scan_rng.random::<u64>(),
            "same draws"
        );
    }
}
