//! `largest-first`: a batch algorithm. Sorts the whole pending queue by size, largest
//! first, then places each pod on the first node that fits.
//!
//! First-Fit Decreasing, the classic bin-packing heuristic (Johnson, "Near-optimal bin
//! packing algorithms", MIT, 1973; Johnson et al., SIAM J. Comput. 3(4), 1974): placing the
//! big items first leaves the small ones to fill the gaps, and uses at most 11/9 of the
//! optimal number of bins plus a constant, where plain first-fit in arrival order may use
//! 17/10. A per-pod algorithm cannot do this: it must decide the pod at the head of the
//! queue before it has looked at the next one. The sort keeps kube-scheduler's first rule,
//! higher priority first, and only reorders pods of equal priority (by CPU, then memory,
//! then queue position).

use std::cmp::Reverse;

use schedulers::algorithms::FirstFit;
use schedulers::{Cycle, Diagnosis, Placement, Scheduler};

/// The `largest-first` algorithm.
#[derive(Debug, Default, Clone)]
pub struct LargestFirst {
    /// Positions in the pending queue, in the order to place them; reused between cycles.
    order: Vec<usize>,
}

impl LargestFirst {
    /// The name it is registered under.
    pub const NAME: &'static str = "largest-first";

    /// One line for listings.
    pub const SUMMARY: &'static str =
        "batch first-fit decreasing: the cycle's pods by priority, then largest first";
}

impl Scheduler for LargestFirst {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let pending = cycle.pending();
        let cluster = cycle.cluster();
        let order = &mut self.order;
        order.clear();
        order.extend(0..pending.len());
        // The queue position ends every key, so no two keys are equal and the unstable
        // (allocation-free) sort has only one possible result.
        order.sort_unstable_by_key(|&i| {
            let size = cluster.pod(pending[i]).map_or((0, 0, 0), |p| {
                (p.priority(), p.requests.cpu(), p.requests.memory())
            });
            (Reverse(size.0), Reverse(size.1), Reverse(size.2), i)
        });
        for &i in order.iter() {
            let pod = pending[i];
            // Each placement sees the bindings made before it in this cycle.
            match FirstFit::place(cycle.cluster(), pod) {
                Placement::Node(node) => {
                    if let Err(e) = cycle.bind(pod, node) {
                        let mut diagnosis =
                            Diagnosis::new(cycle.cluster().ready_node_count() as u32);
                        diagnosis.add(format!("first-fit chose a node that refused the pod ({e})"));
                        cycle.unschedulable(pod, diagnosis);
                    }
                }
                Placement::Unschedulable(diagnosis) => cycle.unschedulable(pod, diagnosis),
                Placement::Preempt { node, victims } => cycle.preempt(pod, node, victims),
            }
        }
    }
}
