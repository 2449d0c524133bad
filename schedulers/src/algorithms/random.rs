//! `random`: a node drawn uniformly from those that pass every filter.
//!
//! The null hypothesis of scheduling research: any algorithm worth publishing should beat it.

use rand::RngExt;

use crate::filters::{check_node, diagnose};
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
            feasible.clear();
            for i in 0..cluster.nodes().len() {
                let node = NodeId(i as u32);
                if check_node(cluster, pod, node).is_ok() {
                    feasible.push(node);
                }
            }
            if feasible.is_empty() {
                Placement::Unschedulable(diagnose(cluster, pod))
            } else {
                Placement::Node(feasible[rng.random_range(0..feasible.len())])
            }
        });
    }
}
