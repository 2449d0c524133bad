//! `random`: a node drawn uniformly from those that pass every filter.
//!
//! The null hypothesis of scheduling research: any algorithm worth publishing should beat it.

use rand::RngExt;

use crate::filters::{PodFilter, diagnose};
use crate::node::NodeId;
use crate::scheduler::{Cycle, Placement, Scheduler};

/// The `random` algorithm.
#[derive(Debug, Default, Clone)]
pub struct RandomFit {
    /// Reused between pods so that a placement allocates nothing.
    feasible: Vec<NodeId>,
}

impl RandomFit {
    /// The name it is registered under.
    pub const NAME: &'static str = "random";
}

impl Scheduler for RandomFit {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let feasible = &mut self.feasible;
        cycle.place_each(|cluster, pod_id, rng| {
            let Some(pod) = cluster.pod(pod_id) else {
                return Placement::Unschedulable(Default::default());
            };
            let filter = PodFilter::new(pod);
            feasible.clear();
            feasible.extend(
                (0..cluster.rows().len())
                    .filter(|&i| filter.feasible(cluster, i))
                    .map(|i| NodeId(i as u32)),
            );
            if feasible.is_empty() {
                Placement::Unschedulable(diagnose(cluster, pod))
            } else {
                Placement::Node(feasible[rng.random_range(0..feasible.len())])
            }
        });
    }
}
