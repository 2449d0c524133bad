//! `power-of-two`: draw two feasible nodes at random and keep the less loaded one.
//!
//! The "power of two choices" of randomized load balancing (Azar, Broder, Karlin and Upfal,
//! "Balanced allocations", STOC 1994; Mitzenmacher, "The Power of Two Choices in Randomized
//! Load Balancing", IEEE TPDS 12(10), 2001): placing each ball in the less loaded of two
//! bins drawn at random brings the fullest bin from about `ln n / ln ln n` above the mean
//! (one random choice) down to about `ln ln n / ln 2`. Sparrow (Ousterhout et al., SOSP
//! 2013) schedules tasks this way. Here a node's load is its dominant share, the larger
//! of its requested CPU and memory fractions, the measure of DRF (Ghodsi et al., NSDI
//! 2011), so a node whose memory is taken counts as busy however idle its CPU is.
//!
//! The algorithm sits between `random` (one draw, ignores load) and `least-allocated`
//! (scores every node, always the emptiest): it never picks the most loaded of the
//! feasible nodes, and picks the least loaded of `n` with probability `2/n`.

use rand::RngExt;
use schedulers::cluster::{ClusterState, NodeRow};
use schedulers::filters::{PodFilter, diagnose};
use schedulers::{Cycle, NodeId, Placement, PodId, Scheduler, SchedulerRng};

/// The `power-of-two` algorithm.
#[derive(Debug, Default, Clone)]
pub struct PowerOfTwo {
    /// The feasible nodes of the pod being placed; reused so a placement allocates nothing.
    feasible: Vec<NodeId>,
}

impl PowerOfTwo {
    /// The name it is registered under.
    pub const NAME: &'static str = "power-of-two";

    /// One line for `schedlab schedulers`-style listings.
    pub const SUMMARY: &'static str =
        "the less loaded (dominant CPU/memory share) of two feasible nodes drawn at random";

    /// Where one pod goes: the less loaded of two distinct feasible nodes drawn from
    /// `rng`, the lower node id on equal load. Draws exactly twice when two or more nodes
    /// are feasible and never otherwise: how far the stream moves never depends on loads.
    pub fn place(
        cluster: &ClusterState,
        pod_id: PodId,
        rng: &mut SchedulerRng,
        feasible: &mut Vec<NodeId>,
    ) -> Placement {
        let Some(pod) = cluster.pod(pod_id) else {
            return Placement::Unschedulable(Default::default());
        };
        // Filters first, as every built-in does: resources, cordons, taints, affinity.
        let filter = PodFilter::new(pod);
        feasible.clear();
        feasible.extend(
            (0..cluster.rows().len())
                .filter(|&i| filter.feasible(cluster, i))
                .map(|i| NodeId(i as u32)),
        );
        match feasible.len() {
            // kube-scheduler's message: "0/3 nodes are available: 3 Insufficient cpu."
            0 => Placement::Unschedulable(diagnose(cluster, pod)),
            1 => Placement::Node(feasible[0]),
            n => {
                // Two distinct indices: draw the second from the n - 1 others.
                let a = rng.random_range(0..n);
                let mut b = rng.random_range(0..n - 1);
                if b >= a {
                    b += 1;
                }
                let (a, b) = (feasible[a], feasible[b]);
                let load = |node: NodeId| (load_ppm(&cluster.rows()[node.index()]), node);
                // Tuples compare load first, then node id: the tie-break needs no draw.
                Placement::Node(if load(a) <= load(b) { a } else { b })
            }
        }
    }
}

/// A node's load: its dominant share, the larger of requested/allocatable for CPU and for
/// memory, in parts per million (1,000,000 = full). A resource the node does not offer
/// counts as unloaded.
pub fn load_ppm(row: &NodeRow) -> i64 {
    let share = |allocatable: i64, free: i64| -> i64 {
        if allocatable <= 0 {
            return 0;
        }
        // i128: requested * 10^6 overflows i64 beyond about 9 TB of memory.
        ((allocatable - free) as i128 * 1_000_000 / allocatable as i128) as i64
    };
    share(row.allocatable_cpu, row.free.cpu()).max(share(row.allocatable_memory, row.free.memory()))
}

impl Scheduler for PowerOfTwo {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let feasible = &mut self.feasible;
        cycle.place_each(|cluster, pod, rng| Self::place(cluster, pod, rng, feasible));
    }
}
