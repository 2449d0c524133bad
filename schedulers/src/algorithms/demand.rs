//! What a pod asks of a node and what the node has left, per resource, as the packing
//! algorithms (`best-fit`, `worst-fit`, `tetris`) count them.
//!
//! The resources are CPU and memory, counted as kube-scheduler's scorers count them (a
//! container without a request counts as 100m / 200 MiB, on the pod and on the node's
//! charges alike, so a best-effort pod still has a shape), plus ephemeral storage and every
//! extended resource the pod actually requests, counted as charged, and the pod's GPU ask
//! (whole GPUs or a share, in milli-GPU) against the node's GPUs taken as one pool. The `pods` slot is never
//! a dimension: it is a count, not a quantity to pack. A resource the node does not offer
//! (allocatable 0) is left out on that node, as upstream's resource scorers do.

use crate::cluster::ClusterState;
use crate::pod::Pod;
use crate::resources::{NUM_RESOURCES, ResourceKind};

/// A pod's demand vector, built once per scheduling attempt.
#[derive(Debug, Clone, Copy)]
pub struct Demand {
    /// The kinds, CPU and memory first, then the rest in kind order.
    kinds: [ResourceKind; NUM_RESOURCES],
    /// The amount of each kind, in the same order.
    amounts: [i64; NUM_RESOURCES],
    /// How many entries are in use.
    len: usize,
    /// Milli-GPU asked in all (0 for none): a dimension of its own, measured against the
    /// node's GPUs as a pool (see [`crate::gpu`]).
    gpu_milli: i64,
}

/// One resource of the demand on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimension {
    /// The resource: a kind of [`crate::Resources`], or `None` for the node's GPUs as a
    /// pool.
    pub resource: Option<ResourceKind>,
    /// The pod's demand.
    pub demand: i64,
    /// The node's allocatable amount; never 0.
    pub capacity: i64,
    /// What is charged on the node already, without the pod.
    pub used: i64,
}

impl Dimension {
    /// What the node has free before the pod, never below 0 (the non-zero defaults may
    /// charge more than a node offers).
    #[inline]
    pub fn free(&self) -> i64 {
        (self.capacity - self.used).max(0)
    }

    /// What the node has left once the pod is placed, never below 0.
    #[inline]
    pub fn leftover(&self) -> i64 {
        self.capacity
            .saturating_sub(self.used)
            .saturating_sub(self.demand)
            .max(0)
    }
}

impl Demand {
    /// The demand vector of `pod`.
    pub fn of(pod: &Pod) -> Demand {
        let mut d = Demand {
            kinds: [ResourceKind::CPU; NUM_RESOURCES],
            amounts: [0; NUM_RESOURCES],
            len: 2,
            gpu_milli: pod.template.gpu.total_milli() as i64,
        };
        d.kinds[1] = ResourceKind::MEMORY;
        d.amounts[0] = pod.nonzero_cpu;
        d.amounts[1] = pod.nonzero_memory;
        for k in ResourceKind::MEMORY.index() + 1..NUM_RESOURCES {
            let kind = ResourceKind(k as u8);
            let amount = pod.requests.get(kind);
            if kind != ResourceKind::PODS && amount > 0 {
                d.kinds[d.len] = kind;
                d.amounts[d.len] = amount;
                d.len += 1;
            }
        }
        d
    }

    /// Calls `f` with every dimension of the demand that node `node` offers, in order.
    #[inline(always)]
    pub fn for_each_on(&self, cluster: &ClusterState, node: usize, mut f: impl FnMut(Dimension)) {
        let row = &cluster.rows()[node];
        if row.allocatable_cpu > 0 {
            f(Dimension {
                resource: Some(ResourceKind::CPU),
                demand: self.amounts[0],
                capacity: row.allocatable_cpu,
                used: row.nonzero_cpu,
            });
        }
        if row.allocatable_memory > 0 {
            f(Dimension {
                resource: Some(ResourceKind::MEMORY),
                demand: self.amounts[1],
                capacity: row.allocatable_memory,
                used: row.nonzero_memory,
            });
        }
        // Only pods that ask for more than CPU and memory reach the node record.
        for j in 2..self.len {
            let kind = self.kinds[j];
            let capacity = cluster.nodes()[node].spec.allocatable.get(kind);
            if capacity > 0 {
                f(Dimension {
                    resource: Some(kind),
                    demand: self.amounts[j],
                    capacity,
                    used: capacity - row.free.get(kind),
                });
            }
        }
        if self.gpu_milli > 0
            && let Some(books) = cluster.gpus()
        {
            let used = books.used(crate::node::NodeId(node as u32));
            if !used.is_empty() {
                f(Dimension {
                    resource: None,
                    demand: self.gpu_milli,
                    capacity: used.len() as i64 * i64::from(crate::gpu::GPU_MILLI),
                    used: used.iter().map(|&u| i64::from(u)).sum(),
                });
            }
        }
    }
}

/// Compares the fractions `a.0 / a.1` and `b.0 / b.1` exactly (denominators positive,
/// numerators non-negative): 64-bit factors cannot overflow a 128-bit product.
#[inline]
pub fn cmp_fractions(a: (i64, i64), b: (i64, i64)) -> std::cmp::Ordering {
    (a.0 as i128 * b.1 as i128).cmp(&(b.0 as i128 * a.1 as i128))
}

/// The pod's dominant resource on node `node` and what is left of it once the pod is
/// placed, as the fraction `(leftover, capacity)` of the node's allocatable.
///
/// The dominant resource is the one where the demand is the largest share of the node's
/// allocatable (DRF's "dominant share", here per node), compared exactly; between equal
/// shares the first in demand order (CPU, memory, then kind order) wins. A node that offers
/// none of the pod's resources counts as having nothing left, `(0, 1)`.
#[inline(always)]
pub fn dominant_leftover(demand: &Demand, cluster: &ClusterState, node: usize) -> (i64, i64) {
    let mut best: Option<Dimension> = None;
    demand.for_each_on(cluster, node, |d| {
        let larger = best
            .is_none_or(|b| cmp_fractions((d.demand, d.capacity), (b.demand, b.capacity)).is_gt());
        if larger {
            best = Some(d);
        }
    });
    best.map_or((0, 1), |d| (d.leftover(), d.capacity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::testkit::{GIB, cluster, pod_of};

    #[test]
    fn dominant_resource_is_the_largest_share_per_node() {
        // Node 0: 4 CPU / 16 GiB; node 1: 16 CPU / 4 GiB.
        let c = cluster(&[(4000, 16 * GIB), (16_000, 4 * GIB)]);
        let p = pod_of(1000, 2 * GIB);
        let d = Demand::of(&p);
        // Node 0: cpu share 1/4 > memory share 1/8, so CPU: 3000 of 4000 left.
        assert_eq!(dominant_leftover(&d, &c, 0), (3000, 4000));
        // Node 1: cpu share 1/16 < memory share 1/2, so memory: 2 GiB of 4 GiB left.
        assert_eq!(dominant_leftover(&d, &c, 1), (2 * GIB, 4 * GIB));
    }

    #[test]
    fn equal_shares_pick_cpu_and_unset_requests_count_as_defaults() {
        let c = cluster(&[(1000, 2000 << 20)]);
        // 100m of 1000m and 200 MiB of 2000 MiB: equal shares, CPU first.
        let p = pod_of(0, 0);
        let d = Demand::of(&p);
        assert_eq!(dominant_leftover(&d, &c, 0), (900, 1000));
    }

    #[test]
    fn fractions_compare_exactly() {
        use std::cmp::Ordering::*;
        assert_eq!(cmp_fractions((1, 3), (2, 6)), Equal);
        assert_eq!(cmp_fractions((i64::MAX - 1, i64::MAX), (1, 1)), Less);
        assert_eq!(cmp_fractions((i64::MAX, i64::MAX - 1), (1, 1)), Greater);
    }
}
