//! The first node a pod fits on, found without scanning the nodes before it.
//!
//! First-fit visits nodes in order until one takes the pod; on a cluster it has packed,
//! the nodes in front are full and a scan crosses them all for every pod. This index is
//! a segment tree over node indices whose cells hold the largest free CPU, memory and pod
//! slots of the plain nodes (ready, schedulable, untainted) below them, and whether any
//! other node is below them. A search descends to the leftmost leaf that may take the
//! pod, skipping every subtree whose largest free amounts fall short (a necessary
//! condition, so nothing that fits is skipped) unless it holds a node that needs the
//! full filters. It gives exactly the node a scan gives: the first plain node whose free
//! CPU, memory and slots cover the pod's, or the first other node that passes the
//! filters, whichever comes first. The index follows the cluster's change log
//! ([`ClusterState::changes_since`]), so keeping it up to date costs O(log n) per
//! changed node.

use crate::cluster::{ChangeCursor, ClusterState, NodeRow};

/// One cell: the largest free CPU, memory and pod slots among the plain nodes below it,
/// and whether a node that needs the full filters is below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    cpu: i64,
    memory: i64,
    pods: i64,
    other: bool,
}

/// A cell with no node below it.
const EMPTY: Cell = Cell {
    cpu: i64::MIN,
    memory: i64::MIN,
    pods: i64::MIN,
    other: false,
};

impl Cell {
    fn of(row: &NodeRow) -> Cell {
        if row.plain {
            Cell {
                cpu: row.free.cpu(),
                memory: row.free.memory(),
                pods: row.free.pods(),
                other: false,
            }
        } else {
            Cell {
                other: true,
                ..EMPTY
            }
        }
    }

    #[inline]
    fn join(a: Cell, b: Cell) -> Cell {
        Cell {
            cpu: a.cpu.max(b.cpu),
            memory: a.memory.max(b.memory),
            pods: a.pods.max(b.pods),
            other: a.other || b.other,
        }
    }

    /// True when a plain node below may take a pod asking for these amounts.
    #[inline]
    fn may_fit(&self, cpu: i64, memory: i64, pods: i64) -> bool {
        self.cpu >= cpu && self.memory >= memory && self.pods >= pods
    }
}

/// The first-fit index over a cluster's nodes.
#[derive(Debug, Clone, Default)]
pub struct FitIndex {
    /// Leaves in `[leaves, 2 * leaves)`; inner cell `j` joins `2j` and `2j + 1`.
    cells: Vec<Cell>,
    leaves: usize,
    len: usize,
    cursor: Option<ChangeCursor>,
}

impl FitIndex {
    /// Brings the index up to date with `cluster`: the nodes its change log names, or
    /// every node when the log cannot tell (another cluster, nodes added, too far
    /// behind).
    pub fn sync(&mut self, cluster: &ClusterState) {
        let rows = cluster.rows();
        let changes = match self.cursor {
            Some(cursor) if self.len == rows.len() => cluster.changes_since(cursor),
            _ => None,
        };
        match changes {
            Some(changes) => {
                for node in changes {
                    self.set(node.index(), Cell::of(&rows[node.index()]));
                }
            }
            None => {
                self.len = rows.len();
                self.leaves = rows.len().next_power_of_two().max(1);
                self.cells = vec![EMPTY; 2 * self.leaves];
                for (i, row) in rows.iter().enumerate() {
                    self.cells[self.leaves + i] = Cell::of(row);
                }
                for j in (1..self.leaves).rev() {
                    self.cells[j] = Cell::join(self.cells[2 * j], self.cells[2 * j + 1]);
                }
            }
        }
        self.cursor = Some(cluster.change_cursor());
    }

    fn set(&mut self, i: usize, cell: Cell) {
        let mut j = self.leaves + i;
        if self.cells[j] == cell {
            return;
        }
        self.cells[j] = cell;
        while j > 1 {
            j /= 2;
            let joined = Cell::join(self.cells[2 * j], self.cells[2 * j + 1]);
            if self.cells[j] == joined {
                break;
            }
            self.cells[j] = joined;
        }
    }

    /// The first node, in index order, that is plain with at least `cpu`, `memory` and
    /// `pods` free, or that is not plain and passes `check` (the full filters). Call
    /// [`FitIndex::sync`] first. A pod that does not ask for a resource passes
    /// `i64::MIN` for it.
    pub fn first(
        &self,
        cpu: i64,
        memory: i64,
        pods: i64,
        mut check: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        // Depth first, left before right, on a stack of at most 2 x 64 cells.
        let mut stack = [0usize; 128];
        let mut top = 0;
        stack[top] = 1;
        top += 1;
        while top > 0 {
            top -= 1;
            let j = stack[top];
            let cell = self.cells[j];
            if !cell.other && !cell.may_fit(cpu, memory, pods) {
                continue;
            }
            if j >= self.leaves {
                let i = j - self.leaves;
                if i < self.len && (!cell.other || check(i)) {
                    return Some(i);
                }
                continue;
            }
            stack[top] = 2 * j + 1;
            stack[top + 1] = 2 * j;
            top += 2;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use rand::{RngExt, SeedableRng};

    use super::*;
    use crate::filters::PodFilter;
    use crate::node::{NodeId, NodeSpec};
    use crate::pod::{Pod, PodTemplate};
    use crate::resources::{ResourceKind, Resources};
    use crate::taints::{Taint, TaintEffect};
    use std::sync::Arc;

    fn pod(cpu: i64, mem: i64) -> Pod {
        let mut r = Resources::cpu_mem(cpu, mem);
        r.set(ResourceKind::PODS, 1);
        Pod::with_requests(Arc::new(PodTemplate::default()), 0, r, cpu, mem)
    }

    /// The index finds what a scan finds, on random clusters whose nodes fill, empty,
    /// turn not ready, get cordoned and tainted, and join, with the index following the
    /// change log (and a copy of the cluster, whose history diverges).
    #[test]
    fn agrees_with_a_scan() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(11);
        for nodes in [1usize, 2, 5, 33, 100] {
            let mut c = ClusterState::default();
            let add = |c: &mut ClusterState, rng: &mut rand::rngs::ChaCha8Rng, i: usize| {
                let mut alloc = Resources::cpu_mem(rng.random_range(1..9) * 1000, 8 << 30);
                alloc.set(ResourceKind::PODS, rng.random_range(1..6));
                c.add_node(NodeSpec {
                    name: format!("n{i}"),
                    allocatable: alloc,
                    ..Default::default()
                });
            };
            for i in 0..nodes {
                add(&mut c, &mut rng, i);
            }
            let mut index = FitIndex::default();
            let mut bound = Vec::new();
            for step in 0..3000 {
                match rng.random_range(0..10) {
                    0..=4 => {
                        let p = c.add_pod(pod(rng.random_range(1..4) * 500, 1 << 28));
                        let n = rng.random_range(0..c.rows().len());
                        if c.bind(p, NodeId(n as u32)).is_ok() {
                            bound.push(p);
                        } else {
                            c.remove_pod(p);
                        }
                    }
                    5..=6 if !bound.is_empty() => {
                        let p = bound.swap_remove(rng.random_range(0..bound.len()));
                        c.remove_pod(p);
                    }
                    7 => {
                        let n = NodeId(rng.random_range(0..c.rows().len()) as u32);
                        let _ = c.set_ready(n, rng.random_range(0..4) != 0);
                        let _ = c.set_unschedulable(n, rng.random_range(0..4) == 0);
                    }
                    8 => {
                        let n = NodeId(rng.random_range(0..c.rows().len()) as u32);
                        let taints = if rng.random_range(0..2) == 0 {
                            vec![]
                        } else {
                            vec![Taint {
                                key: "k".into(),
                                value: String::new(),
                                effect: TaintEffect::NoSchedule,
                            }]
                        };
                        let _ = c.set_taints(n, taints);
                    }
                    _ if step % 500 == 0 => {
                        let i = c.rows().len();
                        add(&mut c, &mut rng, i);
                    }
                    _ => {}
                }
                // Some probes ask for no CPU or no memory: those lanes always pass.
                let probe = pod(rng.random_range(0..6) * 500, rng.random_range(0..2) << 28);
                let id = c.add_pod(probe);
                let filter = PodFilter::new(c.pod(id).unwrap());
                let scan = filter.first_feasible(&c);
                let mut copy_index = index.clone();
                index.sync(&c);
                let (cpu, mem, pods) = filter.fast_thresholds().unwrap();
                let found = index.first(cpu, mem, pods, |i| filter.feasible(&c, i));
                assert_eq!(found, scan, "{nodes} nodes, step {step}");
                // A copy that took its own way is not mistaken for the original.
                let mut other = c.clone();
                let n = NodeId(rng.random_range(0..other.rows().len()) as u32);
                let _ = other.set_unschedulable(n, true);
                copy_index.sync(&other);
                let filter = PodFilter::new(other.pod(id).unwrap());
                assert_eq!(
                    copy_index.first(cpu, mem, pods, |i| filter.feasible(&other, i)),
                    filter.first_feasible(&other)
                );
                c.remove_pod(id);
            }
        }
    }
}
