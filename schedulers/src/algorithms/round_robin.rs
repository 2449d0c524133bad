//! `round-robin`: the next feasible node after the one it chose last, cyclically.
//!
//! Round robin is the oldest spreading rule there is: the rotation of time-sharing
//! schedulers and of load balancers (nginx balances an upstream group round-robin by
//! default), and kube-scheduler itself rotates where each node scan starts
//! (`nextStartNodeIndex`) so no node is always looked at first. As a placement baseline it looks
//! at nothing but feasibility: from the node after the last one it picked, in node order,
//! wrapping around, it takes the first node that passes the filters ([`PodFilter`]), so
//! consecutive pods land on consecutive nodes. The position is kept for the whole run,
//! across scheduling cycles, and starts at node 0. A pod that fits nowhere gets
//! [`diagnose`]'s kube-scheduler-worded reasons and does not move the position.

use crate::cluster::ClusterState;
use crate::filters::{PodFilter, diagnose};
use crate::node::NodeId;
use crate::pod::PodId;
use crate::scheduler::{Cycle, Placement, Scheduler};

/// The `round-robin` algorithm.
#[derive(Debug, Default, Clone)]
pub struct RoundRobin {
    /// The node index to try first: one past the last node chosen.
    next: usize,
}

impl RoundRobin {
    /// The name it is registered under.
    pub const NAME: &'static str = "round-robin";

    /// The first feasible node at or after the current position, cyclically, or why there
    /// is none; moves the position past the chosen node.
    pub fn place(&mut self, cluster: &ClusterState, pod_id: PodId) -> Placement {
        let Some(pod) = cluster.pod(pod_id) else {
            return Placement::Unschedulable(Default::default());
        };
        let filter = PodFilter::new(pod);
        let n = cluster.rows().len();
        // The cluster may have been a different size when the position was taken.
        let start = if self.next >= n { 0 } else { self.next };
        let found = (start..n)
            .chain(0..start)
            .find(|&i| filter.feasible(cluster, i));
        match found {
            Some(i) => {
                self.next = i + 1;
                Placement::Node(NodeId(i as u32))
            }
            None => Placement::Unschedulable(diagnose(cluster, pod)),
        }
    }
}

impl Scheduler for RoundRobin {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|cluster, pod, _rng| self.place(cluster, pod));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::testkit::*;

    #[test]
    fn deals_pods_in_turn_and_skips_nodes_that_do_not_fit() {
        // n0 and n2 have 4 CPU, n1 has 1 CPU, n3 2 CPU.
        let mut c = cluster(&[
            (4000, 8 * GIB),
            (1000, 8 * GIB),
            (4000, 8 * GIB),
            (2000, 8 * GIB),
        ]);
        let mut rr = RoundRobin::default();
        let d = run(
            &mut rr,
            &mut c,
            &[
                (1000, GIB),
                (2000, GIB),
                (2000, GIB),
                (1000, GIB),
                (3000, GIB),
            ],
        );
        // Pod 0 (1 CPU) -> n0. Pod 1 (2 CPU): n1 too small -> n2. Pod 2 (2 CPU) -> n3.
        // Pod 3 (1 CPU): wraps to n0 (3 CPU free). Pod 4 (3 CPU): from n1: n1 no, n2 has
        // 2 free, n3 0, n0 2 -> nothing fits anywhere.
        assert_eq!(
            outcome(&d),
            vec![
                Ok(0),
                Ok(2),
                Ok(3),
                Ok(0),
                Err("0/4 nodes are available: 4 Insufficient cpu.".to_string())
            ]
        );
        // The failure left the position after n0: the next pod starts at n1.
        let d = run(&mut rr, &mut c, &[(500, GIB)]);
        assert_eq!(nodes(&d), vec![1]);
    }

    #[test]
    fn position_survives_cycles_and_wraps() {
        let mut c = cluster(&[(4000, 8 * GIB); 3]);
        let mut rr = RoundRobin::default();
        let mut placed = Vec::new();
        for _ in 0..3 {
            placed.extend(nodes(&run(&mut rr, &mut c, &[(100, GIB), (100, GIB)])));
        }
        assert_eq!(placed, vec![0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn skips_tainted_nodes_and_diagnoses_them() {
        let mut c = cluster_of(vec![
            node(0, 4000, 8 * GIB),
            tainted(node(1, 4000, 8 * GIB), "dedicated"),
            node(2, 4000, 8 * GIB),
        ]);
        let mut rr = RoundRobin::default();
        let d = run(&mut rr, &mut c, &[(1000, GIB), (1000, GIB), (1000, GIB)]);
        assert_eq!(nodes(&d), vec![0, 2, 0]);
        let d = run(&mut rr, &mut c, &[(8000, GIB)]);
        assert_eq!(
            outcome(&d),
            vec![Err(
                "0/3 nodes are available: 1 node(s) had untolerated taint(s), \
                 2 Insufficient cpu."
                    .to_string()
            )]
        );
    }
}
