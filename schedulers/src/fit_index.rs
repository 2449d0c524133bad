//! The first node a pod fits on, found without visiting every node in front of it.
//!
//! First-fit visits nodes in order until one takes the pod; on a cluster it has packed,
//! the nodes in front are full and a scan crosses them all for every pod. This index
//! keeps what a plain node's check needs (free CPU, memory and pod slots) in one dense
//! array, 32 bytes a node instead of the hundreds a full node row takes, and for every
//! block of 16 nodes the largest free amounts among its plain nodes and whether it
//! holds another node (not ready, cordoned, tainted) that needs the full filters. A
//! search skips every block whose largest amounts fall short of the pod's (a necessary
//! condition, so nothing that fits is skipped) unless it holds such a node, and scans
//! the others. It gives exactly the node a scan of the rows gives: the first plain node
//! whose free CPU, memory and slots cover the pod's, or the first other node that passes
//! the full filters, whichever comes first. It follows the cluster's change log
//! ([`ClusterState::changes_since`]), so keeping it up to date costs a little per
//! changed node.

use crate::cluster::{ChangeCursor, ClusterState, NodeRow};

/// Nodes per block.
const BLOCK: usize = 16;

/// A node's free CPU, memory and pod slots, and whether it is plain (ready,
/// schedulable, untainted: its free amounts alone decide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Free {
    cpu: i64,
    memory: i64,
    pods: i64,
    plain: bool,
}

impl Free {
    fn of(row: &NodeRow) -> Free {
        Free {
            cpu: row.free.cpu(),
            memory: row.free.memory(),
            pods: row.free.pods(),
            plain: row.plain,
        }
    }
}

/// A block's largest free amounts over its plain nodes (`i64::MIN` when it has none),
/// and whether it holds a node that is not plain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    cpu: i64,
    memory: i64,
    pods: i64,
    other: bool,
}

impl Block {
    fn of(nodes: &[Free]) -> Block {
        let mut b = Block {
            cpu: i64::MIN,
            memory: i64::MIN,
            pods: i64::MIN,
            other: false,
        };
        for f in nodes {
            if f.plain {
                b.cpu = b.cpu.max(f.cpu);
                b.memory = b.memory.max(f.memory);
                b.pods = b.pods.max(f.pods);
            } else {
                b.other = true;
            }
        }
        b
    }
}

/// The first-fit index over a cluster's nodes.
#[derive(Debug, Clone, Default)]
pub struct FitIndex {
    free: Vec<Free>,
    blocks: Vec<Block>,
    cursor: Option<ChangeCursor>,
}

impl FitIndex {
    /// Brings the index up to date with `cluster`: the nodes its change log names, or
    /// every node when the log cannot tell (another cluster, nodes added, too far
    /// behind).
    pub fn sync(&mut self, cluster: &ClusterState) {
        let rows = cluster.rows();
        let changes = match self.cursor {
            Some(cursor) if self.free.len() == rows.len() => cluster.changes_since(cursor),
            _ => None,
        };
        match changes {
            Some(changes) => {
                for node in changes {
                    let i = node.index();
                    let f = Free::of(&rows[i]);
                    if self.free[i] == f {
                        continue;
                    }
                    self.free[i] = f;
                    let b = i / BLOCK;
                    let block = &mut self.blocks[b];
                    if f.plain
                        && !block.other
                        && f.cpu >= block.cpu
                        && f.memory >= block.memory
                        && f.pods >= block.pods
                    {
                        // It leads in every lane: the block's new maxima are its amounts.
                        (block.cpu, block.memory, block.pods) = (f.cpu, f.memory, f.pods);
                    } else {
                        let end = (b * BLOCK + BLOCK).min(self.free.len());
                        *block = Block::of(&self.free[b * BLOCK..end]);
                    }
                }
            }
            None => {
                self.free.clear();
                self.free.extend(rows.iter().map(Free::of));
                self.blocks.clear();
                self.blocks.extend(self.free.chunks(BLOCK).map(Block::of));
            }
        }
        self.cursor = Some(cluster.change_cursor());
    }

    /// The first node, in index order, that is plain with at least `cpu`, `memory` and
    /// `pods` free, or that is not plain and passes `check` (the full filters). Call
    /// [`FitIndex::sync`] first. A pod that does not ask for a resource passes
    /// `i64::MIN` for it.
    #[inline]
    pub fn first(
        &self,
        cpu: i64,
        memory: i64,
        pods: i64,
        mut check: impl FnMut(usize) -> bool,
    ) -> Option<usize> {
        for (b, block) in self.blocks.iter().enumerate() {
            let may_fit = block.pods >= pods && block.cpu >= cpu && block.memory >= memory;
            if !(block.other || may_fit) {
                continue;
            }
            let start = b * BLOCK;
            let end = (start + BLOCK).min(self.free.len());
            for (i, f) in self.free[start..end].iter().enumerate() {
                if f.plain {
                    if f.pods >= pods && f.cpu >= cpu && f.memory >= memory {
                        return Some(start + i);
                    }
                } else if check(start + i) {
                    return Some(start + i);
                }
            }
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
