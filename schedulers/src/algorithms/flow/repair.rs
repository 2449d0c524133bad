//! Repair after the flow: the greedy baselines on the same batch, then a local search.
//!
//! With several pod shapes the flow model is a relaxation (see the module docs of
//! [`super`]), and the plan it settles can leave out pods that a greedy pass would place
//! (issue 11: two 12-CPU nodes, pods 6, 6, 8, 8 CPU; the flow plans one 8 per node and
//! then no 6 fits). So when the chosen plan leaves any pod out:
//!
//! 1. Greedy baselines: the batch is placed, on the cluster as the cycle found it, by
//!    `first-fit` (queue order, first feasible node in node order), first-fit decreasing
//!    (pods by dominant share of the cluster's allocatable, largest first, then queue
//!    order) and `best-fit` (queue order, the feasible node with the least left of the
//!    pod's dominant resource, as [`crate::algorithms::BestFit`] measures it). A baseline
//!    replaces the plan only if it places strictly more pods, so ties keep flow's plan.
//!    `first-fit` and `best-fit` here place exactly as many pods as those schedulers would
//!    on a batch of pods flow plans (GPUs aside, which flow places afterwards).
//! 2. Local search on the winner, each move accepted only if it places more pods:
//!    - insert: an unplaced pod goes to its cheapest node with room;
//!    - relocate: one placed pod moves to another node to make room for an unplaced pod;
//!    - repack: one placed pod leaves its node and two or more unplaced pods (smallest
//!      dominant share first) take its room; the one that left is unplaced, and may be
//!      inserted or relocated in the next pass.
//!
//! Moves see the same filters as the flow's arcs (resources on the plan's rows and the
//! pod's node constraints), so every plan stays bindable. The local search stops when a
//! pass finds no move or after [`REPAIR_BUDGET`] steps (node visits), which bounds its
//! cost on large queues; the budget is a count, not a clock, so plans stay deterministic.
//! Firmament has no such step (its flow is exact for its single-slot machines); this is
//! the multi-resource bin-packing repair of the vector-packing literature (e.g. Panigrahy
//! et al., "Heuristics for Vector Bin Packing", 2011), in its simplest form.

use super::*;
use crate::algorithms::demand::cmp_fractions;
use crate::resources::ResourceKind;

/// Node visits the local search may spend per cycle: about a few milliseconds.
pub const REPAIR_BUDGET: u64 = 2_000_000;
/// Largest class-by-node count table the local search builds (classes times nodes).
pub const MAX_COUNTS: usize = 4_000_000;

/// A greedy baseline the repair compares flow's plan with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Greedy {
    /// Queue order, first feasible node.
    FirstFit,
    /// Largest dominant share first, first feasible node.
    FirstFitDecreasing,
    /// Queue order, least dominant leftover.
    BestFit,
}

/// Charges a pod of `pod`'s requests to `row`.
#[inline]
fn charge(row: &mut NodeRow, pod: &Pod) {
    row.free -= pod.requests;
    row.nonzero_cpu += pod.nonzero_cpu;
    row.nonzero_memory += pod.nonzero_memory;
}

/// Takes a pod of `pod`'s requests off `row`.
#[inline]
fn uncharge(row: &mut NodeRow, pod: &Pod) {
    row.free += pod.requests;
    row.nonzero_cpu -= pod.nonzero_cpu;
    row.nonzero_memory -= pod.nonzero_memory;
}

/// True when the pod passes the node's constraints and fits in `free`.
#[inline]
fn fits_with(
    cluster: &ClusterState,
    filter: &PodFilter<'_>,
    plain: bool,
    free: &Resources,
    n: usize,
) -> bool {
    filter.fits(free)
        && ((filter.is_unconstrained() && plain)
            || check_constraints(filter.pod(), &cluster.nodes()[n]).is_ok())
}

/// What is left of the pod's dominant resource on node `n` after it, as `(left,
/// capacity)`: `best-fit`'s measure (see [`crate::algorithms::demand`]) on the plan's row.
fn dominant_left(cluster: &ClusterState, row: &NodeRow, n: usize, pod: &Pod) -> (i64, i64) {
    let mut best: Option<(i64, i64, i64)> = None;
    let mut consider = |demand: i64, capacity: i64, used: i64| {
        if capacity > 0
            && best.is_none_or(|b| cmp_fractions((demand, capacity), (b.0, b.1)).is_gt())
        {
            best = Some((demand, capacity, used));
        }
    };
    consider(pod.nonzero_cpu, row.allocatable_cpu, row.nonzero_cpu);
    consider(
        pod.nonzero_memory,
        row.allocatable_memory,
        row.nonzero_memory,
    );
    for k in ResourceKind::MEMORY.index() + 1..NUM_RESOURCES {
        let r = pod.requests.0[k];
        if k != ResourceKind::PODS.index() && r > 0 {
            let capacity = cluster.nodes()[n].spec.allocatable.0[k];
            consider(r, capacity, capacity - row.free.0[k]);
        }
    }
    best.map_or((0, 1), |(d, c, u)| {
        (c.saturating_sub(u).saturating_sub(d).max(0), c)
    })
}

impl Flow {
    /// Repairs the chosen plan in `assign` (see the module docs): greedy baselines, then
    /// local search. Leaves `assign` a plan that places at least as many pods as each
    /// baseline.
    pub(super) fn repair(&mut self, cluster: &ClusterState) {
        let total = self.members.len();
        let mut left = self.assign.iter().filter(|&&a| a == u32::MAX).count();
        if left == 0 {
            return;
        }
        for g in [
            Greedy::FirstFit,
            Greedy::FirstFitDecreasing,
            Greedy::BestFit,
        ] {
            let placed = self.greedy(cluster, g);
            if total - placed < left {
                left = total - placed;
                std::mem::swap(&mut self.assign, &mut self.alt);
            }
            if left == 0 {
                return;
            }
        }
        self.local_search(cluster);
    }

    /// Places the batch with a greedy baseline into `alt`; returns how many it placed.
    pub(super) fn greedy(&mut self, cluster: &ClusterState, g: Greedy) -> usize {
        let n_nodes = cluster.rows().len();
        self.rows.clear();
        self.rows.extend_from_slice(cluster.rows());
        self.alt.clear();
        self.alt.resize(self.members.len(), u32::MAX);
        self.order.clear();
        self.order.extend(0..self.members.len() as u32);
        let (members, classes) = (&self.members, &self.classes);
        match g {
            Greedy::FirstFitDecreasing => self.order.sort_unstable_by_key(|&i| {
                let m = members[i as usize];
                (-classes[m.class as usize].share, m.queue_pos)
            }),
            _ => self
                .order
                .sort_unstable_by_key(|&i| members[i as usize].queue_pos),
        }
        // Per class, no node before this one is feasible: nodes only fill up here, and
        // constraints do not change, so a class's first feasible node only moves right.
        self.cursor.clear();
        self.cursor.resize(self.classes.len(), 0);
        let mut placed = 0;
        for k in 0..self.order.len() {
            let i = self.order[k] as usize;
            let ci = self.members[i].class as usize;
            let Some(pod) = cluster.pod(self.classes[ci].rep) else {
                continue;
            };
            let filter = PodFilter::new(pod);
            let mut n = self.cursor[ci] as usize;
            while n < n_nodes && !feasible(cluster, &filter, &self.rows[n], n) {
                n += 1;
            }
            self.cursor[ci] = n as u32;
            if n == n_nodes {
                continue;
            }
            if g == Greedy::BestFit {
                let mut best = (n, dominant_left(cluster, &self.rows[n], n, pod));
                for m in n + 1..n_nodes {
                    if feasible(cluster, &filter, &self.rows[m], m) {
                        let l = dominant_left(cluster, &self.rows[m], m, pod);
                        // Strictly less only: the lowest index among equals, as best-fit.
                        if cmp_fractions(l, best.1).is_lt() {
                            best = (m, l);
                        }
                    }
                }
                n = best.0;
            }
            charge(&mut self.rows[n], pod);
            self.alt[i] = n as u32;
            placed += 1;
        }
        placed
    }

    /// Local search on the plan in `assign` (see the module docs).
    fn local_search(&mut self, cluster: &ClusterState) {
        let (nn, nc) = (cluster.rows().len(), self.classes.len());
        if nn.saturating_mul(nc) > MAX_COUNTS {
            return;
        }
        self.rows.clear();
        self.rows.extend_from_slice(cluster.rows());
        self.count.clear();
        self.count.resize(nn * nc, 0);
        self.left.clear();
        self.left.resize(nc, 0);
        for i in 0..self.members.len() {
            let c = self.members[i].class as usize;
            let n = self.assign[i];
            if n == u32::MAX {
                self.left[c] += 1;
            } else if let Some(pod) = cluster.pod(self.classes[c].rep) {
                charge(&mut self.rows[n as usize], pod);
                self.count[c * nn + n as usize] += 1;
            }
        }
        // Classes by dominant share, smallest first: the order a repack fills a node in.
        self.order.clear();
        self.order.extend(0..nc as u32);
        let classes = &self.classes;
        self.order
            .sort_unstable_by_key(|&c| (classes[c as usize].share, c));
        let mut budget = REPAIR_BUDGET;
        loop {
            let mut improved = false;
            for c in 0..nc {
                while self.left[c] > 0 && budget > 0 {
                    if !(self.insert(cluster, c, &mut budget)
                        || self.relocate(cluster, c, &mut budget))
                    {
                        break;
                    }
                    improved = true;
                }
            }
            if self.left.iter().all(|&l| l == 0) || budget == 0 {
                break;
            }
            improved |= self.repack(cluster, &mut budget);
            if !improved || budget == 0 {
                break;
            }
        }
    }

    /// Moves member `i` (of class `c`) to node `to` (`u32::MAX`: unplaced), keeping rows,
    /// counts and unplaced counts in step.
    fn reassign(&mut self, cluster: &ClusterState, i: usize, to: u32) {
        let c = self.members[i].class as usize;
        let nn = self.rows.len();
        let Some(pod) = cluster.pod(self.classes[c].rep) else {
            return;
        };
        let from = self.assign[i];
        if from == u32::MAX {
            self.left[c] -= 1;
        } else {
            uncharge(&mut self.rows[from as usize], pod);
            self.count[c * nn + from as usize] -= 1;
        }
        if to == u32::MAX {
            self.left[c] += 1;
        } else {
            charge(&mut self.rows[to as usize], pod);
            self.count[c * nn + to as usize] += 1;
        }
        self.assign[i] = to;
    }

    /// The member of class `c` on node `n` (`u32::MAX`: unplaced) to move: the oldest
    /// unplaced (the longest wait goes first), the youngest placed.
    fn member_of(&self, c: usize, n: u32, budget: &mut u64) -> Option<usize> {
        let class = self.classes[c];
        let range = class.start as usize..(class.start + class.len) as usize;
        *budget = budget.saturating_sub(class.len as u64);
        if n == u32::MAX {
            range.into_iter().find(|&i| self.assign[i] == n)
        } else {
            range.into_iter().rev().find(|&i| self.assign[i] == n)
        }
    }

    /// Places one unplaced pod of class `c` on its cheapest node with room.
    fn insert(&mut self, cluster: &ClusterState, c: usize, budget: &mut u64) -> bool {
        let Some(pod) = cluster.pod(self.classes[c].rep) else {
            return false;
        };
        let filter = PodFilter::new(pod);
        *budget = budget.saturating_sub(self.rows.len() as u64);
        let best = (0..self.rows.len())
            .filter(|&n| feasible(cluster, &filter, &self.rows[n], n))
            .min_by_key(|&n| (self.costs.placement(&self.rows[n], pod), n));
        let (Some(n), Some(i)) = (best, self.member_of(c, u32::MAX, budget)) else {
            return false;
        };
        self.reassign(cluster, i, n as u32);
        true
    }

    /// Makes room for one unplaced pod of class `c` on some node by moving one pod of
    /// another class from there to a node with room for it.
    fn relocate(&mut self, cluster: &ClusterState, c: usize, budget: &mut u64) -> bool {
        let nn = self.rows.len();
        let Some(pod) = cluster.pod(self.classes[c].rep) else {
            return false;
        };
        let filter = PodFilter::new(pod);
        for n in 0..nn {
            for d in 0..self.classes.len() {
                if d == c || self.count[d * nn + n] == 0 || *budget == 0 {
                    continue;
                }
                let Some(other) = cluster.pod(self.classes[d].rep) else {
                    continue;
                };
                let room = self.rows[n].free + other.requests;
                if !fits_with(cluster, &filter, self.rows[n].plain, &room, n) {
                    continue;
                }
                let other_filter = PodFilter::new(other);
                *budget = budget.saturating_sub(nn as u64);
                let Some(m) =
                    (0..nn).find(|&m| m != n && feasible(cluster, &other_filter, &self.rows[m], m))
                else {
                    continue;
                };
                let (Some(moved), Some(u)) = (
                    self.member_of(d, n as u32, budget),
                    self.member_of(c, u32::MAX, budget),
                ) else {
                    continue;
                };
                self.reassign(cluster, moved, m as u32);
                self.reassign(cluster, u, n as u32);
                return true;
            }
        }
        false
    }

    /// One pass over the nodes: where one placed pod's room, with the node's free room,
    /// takes two or more unplaced pods of other classes, they replace it.
    fn repack(&mut self, cluster: &ClusterState, budget: &mut u64) -> bool {
        let (nn, nc) = (self.rows.len(), self.classes.len());
        let mut improved = false;
        for n in 0..nn {
            for d in 0..nc {
                if self.count[d * nn + n] == 0 || *budget == 0 {
                    continue;
                }
                let Some(out) = cluster.pod(self.classes[d].rep) else {
                    continue;
                };
                *budget = budget.saturating_sub(nc as u64);
                // Counts the fill first, without changing anything.
                let mut room = self.rows[n].free + out.requests;
                let mut fill = 0;
                for k in 0..nc {
                    let e = self.order[k] as usize;
                    if e == d || self.left[e] == 0 {
                        continue;
                    }
                    let Some(p) = cluster.pod(self.classes[e].rep) else {
                        continue;
                    };
                    let f = PodFilter::new(p);
                    let mut take = 0;
                    while take < self.left[e]
                        && fits_with(cluster, &f, self.rows[n].plain, &room, n)
                    {
                        room -= p.requests;
                        take += 1;
                    }
                    fill += take;
                }
                if fill < 2 {
                    continue;
                }
                let Some(i) = self.member_of(d, n as u32, budget) else {
                    continue;
                };
                self.reassign(cluster, i, u32::MAX);
                for k in 0..nc {
                    let e = self.order[k] as usize;
                    if e == d {
                        continue;
                    }
                    let Some(p) = cluster.pod(self.classes[e].rep) else {
                        continue;
                    };
                    let f = PodFilter::new(p);
                    while self.left[e] > 0 && feasible(cluster, &f, &self.rows[n], n) {
                        let Some(u) = self.member_of(e, u32::MAX, budget) else {
                            break;
                        };
                        self.reassign(cluster, u, n as u32);
                    }
                }
                improved = true;
            }
        }
        improved
    }
}
