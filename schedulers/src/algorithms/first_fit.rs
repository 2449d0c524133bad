//! `first-fit`: the first node, in node order, that passes every filter.
//!
//! The classic bin-packing heuristic (Johnson, "Near-optimal bin packing algorithms", 1973)
//! and the baseline every packing algorithm is compared with. It packs the low-numbered
//! nodes first, so it leaves whole nodes free at the end of the list.

use crate::cluster::ClusterState;
use crate::filters::{PodFilter, diagnose};
use crate::node::NodeId;
use crate::pod::PodId;
use crate::scheduler::{Cycle, Placement, Scheduler};

/// The `first-fit` algorithm.
#[derive(Debug, Default, Clone)]
pub struct FirstFit;

impl FirstFit {
    /// The name it is registered under.
    pub const NAME: &'static str = "first-fit";

    /// The first feasible node for `pod`, or why there is none.
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
}

impl Scheduler for FirstFit {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|cluster, pod, _rng| Self::place(cluster, pod));
    }
}
