//! `first-fit`: the first node, in node order, that passes every filter.
//!
//! The classic bin-packing heuristic (Johnson, "Near-optimal bin packing algorithms", 1973)
//! and the baseline every packing algorithm is compared with. It packs the low-numbered
//! nodes first, so it leaves whole nodes free at the end of the list.

use crate::cluster::ClusterState;
use crate::filters::{PodFilter, diagnose};
use crate::fit_index::FitIndex;
use crate::node::NodeId;
use crate::pod::PodId;
use crate::scheduler::{Cycle, Placement, Scheduler};

/// The `first-fit` algorithm. It keeps a [`FitIndex`] of the nodes, so that finding the
/// first node that takes a plain pod skips the full ones in front.
#[derive(Debug, Default, Clone)]
pub struct FirstFit {
    index: FitIndex,
}

impl FirstFit {
    /// The name it is registered under.
    pub const NAME: &'static str = "first-fit";

    /// The first feasible node for `pod`, or why there is none, by a scan of the nodes
    /// in order (what the `first-fit` scheduler computes faster with its index).
    pub fn place(cluster: &ClusterState, pod_id: PodId) -> Placement {
        let Some(pod) = cluster.pod(pod_id) else {
            return Placement::Unschedulable(Default::default());
        };
        let filter = PodFilter::new(pod);
        match filter.first_feasible(cluster) {
            Some(i) => Placement::Node(NodeId(i as u32)),
            None => Placement::Unschedulable(diagnose(cluster, pod)),
        }
    }

    /// [`FirstFit::place`], through the index for the pods it serves.
    fn place_indexed(&mut self, cluster: &ClusterState, pod_id: PodId) -> Placement {
        let Some(pod) = cluster.pod(pod_id) else {
            return Placement::Unschedulable(Default::default());
        };
        let filter = PodFilter::new(pod);
        let found = match filter.fast_thresholds() {
            Some((cpu, memory, pods)) => {
                self.index.sync(cluster);
                self.index
                    .first(cpu, memory, pods, |i| filter.feasible(cluster, i))
            }
            None => filter.first_feasible(cluster),
        };
        match found {
            Some(i) => Placement::Node(NodeId(i as u32)),
            None => Placement::Unschedulable(diagnose(cluster, pod)),
        }
    }
}

impl Scheduler for FirstFit {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|cluster, pod, _rng| self.place_indexed(cluster, pod));
    }
}
