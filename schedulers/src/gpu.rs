//! GPU sharing: nodes with whole GPUs, pods that ask for whole GPUs or for a share of one.
//!
//! The model follows the GPU-sharing cluster of Weng et al., "Beware of Fragmentation:
//! Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent" (USENIX ATC 2023)
//! and its trace (Alibaba's openb, `alibaba-gpu-v2023`): a node has `N` GPUs of one model,
//! each worth 1000 milli-GPU; a pod asks either for `k >= 1` whole GPUs (each must be
//! entirely free) or for `m < 1000` milli-GPU of one GPU, which it shares with other such
//! pods; optionally it accepts only some GPU models. GPUs are not a [`crate::Resources`]
//! kind: a share must fit on one GPU, which a per-node sum cannot express, so the cluster
//! keeps a per-GPU side table ([`GpuBooks`]) that exists only once a node with GPUs joins.
//!
//! Binding picks the concrete GPUs deterministically unless the scheduler names them
//! ([`crate::Cycle::bind_gpus`]): a share goes to the GPU with the least free milli that
//! still fits it (best fit; ties to the lowest index), `k` whole GPUs to the `k`
//! lowest-indexed entirely free GPUs.

use crate::node::NodeId;

/// Milli-GPU in one whole GPU.
pub const GPU_MILLI: u32 = 1000;
/// Most GPUs one node may have: a pod's GPUs are a `u64` bit mask over its node's GPUs.
pub const MAX_GPUS_PER_NODE: u32 = 64;

/// A node's GPUs: how many and of which model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeGpus {
    /// Number of GPUs (0: none).
    pub count: u32,
    /// The GPU model (`V100M32`, `T4`, ...); empty when unknown.
    pub model: String,
}

/// What a pod asks of GPUs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GpuRequest {
    /// Number of GPUs: 0 for none, 1 for a share or one whole GPU, `k` for `k` whole GPUs.
    pub count: u32,
    /// Milli-GPU per GPU: 1000 for whole GPUs, `1..=999` for a share of one GPU.
    pub milli: u32,
    /// GPU models the pod accepts; empty accepts any.
    pub models: Vec<String>,
}

impl GpuRequest {
    /// `k` whole GPUs of any model.
    pub fn whole(k: u32) -> GpuRequest {
        GpuRequest {
            count: k,
            milli: if k == 0 { 0 } else { GPU_MILLI },
            models: Vec::new(),
        }
    }

    /// A share of `milli` (1..=999) milli-GPU of one GPU, or one whole GPU for 1000.
    pub fn share(milli: u32) -> GpuRequest {
        GpuRequest {
            count: u32::from(milli > 0),
            milli,
            models: Vec::new(),
        }
    }

    /// True when the pod asks for any GPU.
    #[inline]
    pub fn is_some(&self) -> bool {
        self.count > 0
    }

    /// True when the pod asks for part of one GPU.
    #[inline]
    pub fn is_share(&self) -> bool {
        self.count == 1 && self.milli < GPU_MILLI
    }

    /// Total milli-GPU asked (`count * milli`).
    #[inline]
    pub fn total_milli(&self) -> u64 {
        u64::from(self.count) * u64::from(self.milli)
    }

    /// True when a node of `model` is acceptable.
    #[inline]
    pub fn accepts_model(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == model)
    }
}

/// Why a node cannot take a pod's GPU ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuMiss {
    /// Not enough free GPU (or no GPU at all).
    Insufficient,
    /// The node's GPU model is not one the pod accepts.
    Model,
}

/// Per-GPU bookkeeping: which milli of which GPU of which node is taken. Indexed by node
/// id; nodes without GPUs have empty ranges.
#[derive(Debug, Clone, Default)]
pub struct GpuBooks {
    /// `first[n]..first[n + 1]` are node `n`'s GPUs in `used` (one more entry than nodes).
    first: Vec<u32>,
    /// Milli-GPU taken on each GPU, `0..=1000`.
    used: Vec<u16>,
    /// Per node: how many of its GPUs are entirely free (the filter for whole GPUs).
    whole_free: Vec<u8>,
    /// Per node: the most free milli on any one of its GPUs (the filter for shares).
    best_free: Vec<u16>,
    /// Milli-GPU taken in the whole cluster.
    used_total: u64,
    /// Milli-GPU offered by the nodes in the cluster (those that left no longer count).
    capacity_total: u64,
}

impl GpuBooks {
    /// Books for `nodes` GPU-less nodes (the side table appears when a GPU node joins).
    pub(crate) fn with_gpuless_nodes(nodes: usize) -> GpuBooks {
        GpuBooks {
            first: vec![0; nodes + 1],
            used: Vec::new(),
            whole_free: vec![0; nodes],
            best_free: vec![0; nodes],
            used_total: 0,
            capacity_total: 0,
        }
    }

    /// Appends a node with `count` free GPUs.
    pub(crate) fn push_node(&mut self, count: u32) {
        let count = count.min(MAX_GPUS_PER_NODE);
        self.used.extend(std::iter::repeat_n(0, count as usize));
        self.first.push(self.used.len() as u32);
        self.whole_free.push(count as u8);
        self.best_free
            .push(if count > 0 { GPU_MILLI as u16 } else { 0 });
        self.capacity_total += u64::from(count) * u64::from(GPU_MILLI);
    }

    /// A node left the cluster: its GPUs (all free by then) no longer count as capacity.
    pub(crate) fn remove_node_capacity(&mut self, node: NodeId) {
        let n = node.index();
        let count = u64::from(self.first[n + 1] - self.first[n]);
        self.capacity_total -= count * u64::from(GPU_MILLI);
    }

    /// Milli-GPU taken on each of node `n`'s GPUs, in GPU index order.
    #[inline]
    pub fn used(&self, node: NodeId) -> &[u16] {
        let n = node.index();
        &self.used[self.first[n] as usize..self.first[n + 1] as usize]
    }

    /// How many of node `n`'s GPUs are entirely free.
    #[inline]
    pub fn whole_free(&self, node: NodeId) -> u32 {
        u32::from(self.whole_free[node.index()])
    }

    /// The most free milli-GPU on any one of node `n`'s GPUs.
    #[inline]
    pub fn best_free(&self, node: NodeId) -> u32 {
        u32::from(self.best_free[node.index()])
    }

    /// Milli-GPU taken in the cluster.
    #[inline]
    pub fn used_total(&self) -> u64 {
        self.used_total
    }

    /// Milli-GPU offered by the cluster's nodes.
    #[inline]
    pub fn capacity_total(&self) -> u64 {
        self.capacity_total
    }

    /// True when the node's free GPUs can hold the request (models aside).
    #[inline]
    pub fn fits(&self, node: NodeId, req: &GpuRequest) -> bool {
        if req.is_share() {
            self.best_free(node) >= req.milli
        } else {
            self.whole_free(node) >= req.count
        }
    }

    /// The GPUs the default rule picks for `req` on `node` (see the module doc), as a
    /// bit mask over the node's GPUs; `None` when they do not fit.
    pub fn default_choice(&self, node: NodeId, req: &GpuRequest) -> Option<u64> {
        let used = self.used(node);
        if req.is_share() {
            let mut best: Option<(u32, usize)> = None;
            for (i, &u) in used.iter().enumerate() {
                let free = GPU_MILLI - u32::from(u);
                if free >= req.milli && best.is_none_or(|(f, _)| free < f) {
                    best = Some((free, i));
                }
            }
            best.map(|(_, i)| 1u64 << i)
        } else {
            let mut mask = 0u64;
            let mut left = req.count;
            for (i, &u) in used.iter().enumerate() {
                if left == 0 {
                    break;
                }
                if u == 0 {
                    mask |= 1 << i;
                    left -= 1;
                }
            }
            (left == 0).then_some(mask)
        }
    }

    /// True when `mask` names GPUs of `node` that can hold `req`: one GPU with room for a
    /// share, or exactly `count` entirely free GPUs.
    pub fn valid_choice(&self, node: NodeId, req: &GpuRequest, mask: u64) -> bool {
        let used = self.used(node);
        if used.len() < 64 && mask >> used.len() != 0 {
            return false;
        }
        if mask.count_ones() != req.count {
            return false;
        }
        (0..used.len())
            .filter(|&i| mask & (1 << i) != 0)
            .all(|i| u32::from(used[i]) + req.milli <= GPU_MILLI)
    }

    /// Charges (`sign = 1`) or releases (`sign = -1`) `milli` on the GPUs in `mask`.
    pub(crate) fn apply(&mut self, node: NodeId, milli: u32, mask: u64, sign: i32) {
        let n = node.index();
        let (lo, hi) = (self.first[n] as usize, self.first[n + 1] as usize);
        for i in 0..hi - lo {
            if mask & (1 << i) != 0 {
                let u = &mut self.used[lo + i];
                *u = if sign > 0 {
                    *u + milli as u16
                } else {
                    *u - milli as u16
                };
            }
        }
        let count = u64::from(mask.count_ones()) * u64::from(milli);
        if sign > 0 {
            self.used_total += count;
        } else {
            self.used_total -= count;
        }
        self.refresh(n);
    }

    /// Recomputes node `n`'s summaries from its GPUs (at most 64 of them).
    fn refresh(&mut self, n: usize) {
        let gpus = &self.used[self.first[n] as usize..self.first[n + 1] as usize];
        self.whole_free[n] = gpus.iter().filter(|&&u| u == 0).count() as u8;
        self.best_free[n] = gpus
            .iter()
            .map(|&u| GPU_MILLI as u16 - u)
            .max()
            .unwrap_or(0);
    }

    /// Checks the summaries against the per-GPU figures and `expected` (the per-GPU use
    /// recomputed from the pods); a description of the first mismatch.
    pub(crate) fn check(&self, expected: &[u16]) -> Result<(), String> {
        if expected != self.used.as_slice() {
            return Err("per-GPU use does not match the pods bound to the GPUs".into());
        }
        if let Some(i) = self.used.iter().position(|&u| u32::from(u) > GPU_MILLI) {
            return Err(format!("GPU {i} over-committed: {} milli", self.used[i]));
        }
        let total: u64 = self.used.iter().map(|&u| u64::from(u)).sum();
        if total != self.used_total {
            return Err(format!(
                "GPU use totals {total} but the books say {}",
                self.used_total
            ));
        }
        let mut copy = self.clone();
        for n in 0..self.whole_free.len() {
            copy.refresh(n);
        }
        if copy.whole_free != self.whole_free || copy.best_free != self.best_free {
            return Err("per-node GPU summaries out of date".into());
        }
        Ok(())
    }

    /// Index in the flat per-GPU table of node `n`'s first GPU.
    pub(crate) fn offset(&self, node: NodeId) -> usize {
        self.first[node.index()] as usize
    }

    /// Number of GPU entries in the flat table.
    pub(crate) fn len(&self) -> usize {
        self.used.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand::SeedableRng;

    use super::*;
    use crate::algorithms::FirstFit;
    use crate::cluster::{BindError, ClusterState};
    use crate::filters::{PodFilter, diagnose};
    use crate::node::NodeSpec;
    use crate::pod::{Pod, PodId, PodTemplate};
    use crate::resources::{ResourceKind, Resources};
    use crate::scheduler::{Cycle, Decision, Scheduler, SchedulerRng};

    fn node(name: &str, gpus: u32, model: &str) -> NodeSpec {
        let mut alloc = Resources::cpu_mem(32_000, 64 << 30);
        alloc.set(ResourceKind::PODS, 110);
        NodeSpec {
            name: name.into(),
            allocatable: alloc,
            gpu: NodeGpus {
                count: gpus,
                model: model.into(),
            },
            ..Default::default()
        }
    }

    fn pod(name: &str, gpu: GpuRequest) -> Pod {
        let t = Arc::new(PodTemplate {
            name: name.into(),
            singleton: true,
            gpu,
            ..Default::default()
        });
        let mut r = Resources::cpu_mem(1000, 1 << 30);
        r.set(ResourceKind::PODS, 1);
        Pod::with_requests(t, 0, r, 1000, 1 << 30)
    }

    /// Places one pod with first-fit and returns the decision.
    fn first_fit(c: &mut ClusterState, p: PodId) -> Decision {
        let (mut rng, mut out) = (SchedulerRng::seed_from_u64(1), Vec::new());
        FirstFit::default().schedule(&mut Cycle::new(c, &[p], &mut rng, &mut out));
        c.check_invariants().unwrap();
        out.pop().unwrap()
    }

    fn used(c: &ClusterState, n: u32) -> Vec<u16> {
        c.gpus().unwrap().used(NodeId(n)).to_vec()
    }

    /// Node a: 2 GPUs of model A; node b: 1 GPU of model B. Worked by hand:
    /// - 0.5 -> a, both GPUs free (1000, 1000): best fit ties, lowest index: GPU 0.
    /// - 0.3 -> a, frees (500, 1000): best fit is GPU 0 (500 >= 300, the smaller).
    /// - 0.5 -> a, frees (200, 1000): only GPU 1 holds it.
    /// - 1 whole GPU -> a has none entirely free (200, 500) -> b, GPU 0.
    /// - 1 whole GPU of model A -> none: a has no free GPU; b (model B) and the CPU-only
    ///   node (no model) do not match.
    /// - 0.15 -> a, GPU 0 (200 free, the best fit), which brings a's GPU 0 to 950 used; removing the first 0.5 pod takes it to 450.
    #[test]
    fn shares_pack_by_best_fit_and_whole_gpus_need_free_gpus() {
        let mut c = ClusterState::default();
        assert!(c.gpus().is_none(), "no GPU books without GPU nodes");
        c.add_node(node("cpu-only", 0, ""));
        c.add_node(node("a", 2, "A"));
        c.add_node(node("b", 1, "B"));
        assert_eq!(c.gpu_totals(), (0, 3000));
        let bound = |d: Decision| match d {
            Decision::Bound { node, .. } => node.0,
            other => panic!("not bound: {other:?}"),
        };
        let p1 = c.add_pod(pod("p1", GpuRequest::share(500)));
        assert_eq!(bound(first_fit(&mut c, p1)), 1);
        assert_eq!(used(&c, 1), [500, 0]);
        assert_eq!(c.pod(p1).unwrap().gpus(), 0b01);
        let p2 = c.add_pod(pod("p2", GpuRequest::share(300)));
        assert_eq!(bound(first_fit(&mut c, p2)), 1);
        assert_eq!(used(&c, 1), [800, 0]);
        let p3 = c.add_pod(pod("p3", GpuRequest::share(500)));
        assert_eq!(bound(first_fit(&mut c, p3)), 1);
        assert_eq!(used(&c, 1), [800, 500]);
        let p4 = c.add_pod(pod("p4", GpuRequest::whole(1)));
        assert_eq!(bound(first_fit(&mut c, p4)), 2);
        assert_eq!(used(&c, 2), [1000]);
        let mut typed = GpuRequest::whole(1);
        typed.models = vec!["A".into()];
        let p5 = c.add_pod(pod("p5", typed));
        match first_fit(&mut c, p5) {
            Decision::Unschedulable { diagnosis, .. } => assert_eq!(
                diagnosis.to_string(),
                "0/3 nodes are available: 1 Insufficient GPU, \
                 2 node(s) didn't match Pod's GPU model."
            ),
            other => panic!("{other:?}"),
        }
        let p6 = c.add_pod(pod("p6", GpuRequest::share(150)));
        assert_eq!(bound(first_fit(&mut c, p6)), 1);
        assert_eq!(used(&c, 1), [950, 500]);
        assert_eq!(c.gpu_totals(), (2450, 3000));
        c.remove_pod(p1).unwrap();
        assert_eq!(used(&c, 1), [450, 500]);
        assert_eq!(c.gpus().unwrap().whole_free(NodeId(1)), 0);
        assert_eq!(c.gpus().unwrap().best_free(NodeId(1)), 550);
        c.check_invariants().unwrap();
        // A scheduler may name the GPU; a GPU without room is refused and changes nothing.
        let p7 = c.add_pod(pod("p7", GpuRequest::share(550)));
        assert_eq!(
            c.bind_gpus(p7, NodeId(1), Some(0b10)),
            Err(BindError::DoesNotFit)
        );
        assert_eq!(c.bind_gpus(p7, NodeId(1), Some(0b01)), Ok(()));
        assert_eq!(used(&c, 1), [1000, 500]);
        c.check_invariants().unwrap();
        // Freed whole GPUs become whole again.
        c.remove_pod(p4).unwrap();
        assert_eq!(used(&c, 2), [0]);
        assert!(
            PodFilter::new(c.pod(p5).unwrap())
                .first_feasible(&c)
                .is_none()
        );
        assert_eq!(diagnose(&c, c.pod(p5).unwrap()).nodes, 3);
        c.check_invariants().unwrap();
    }

    /// Regression: least-allocated caches node scores by pod shape (requests only), and a
    /// share and a whole-GPU pod of one shape fit different nodes. Both nodes hold a 0.5
    /// share; the 0.3 share fits both, the whole GPU neither.
    #[test]
    fn same_shape_pods_with_different_gpu_asks_are_filtered_apart() {
        let mut c = ClusterState::default();
        c.add_node(node("a", 1, ""));
        c.add_node(node("b", 1, ""));
        for n in 0..2 {
            let p = c.add_pod(pod("half", GpuRequest::share(500)));
            c.bind(p, NodeId(n)).unwrap();
        }
        let mut la = crate::algorithms::LeastAllocated::default();
        let (mut rng, mut out) = (SchedulerRng::seed_from_u64(1), Vec::new());
        let s = c.add_pod(pod("s", GpuRequest::share(300)));
        la.schedule(&mut Cycle::new(&mut c, &[s], &mut rng, &mut out));
        assert!(matches!(out[0], Decision::Bound { .. }));
        let w = c.add_pod(pod("w", GpuRequest::whole(1)));
        la.schedule(&mut Cycle::new(&mut c, &[w], &mut rng, &mut out));
        match &out[0] {
            Decision::Unschedulable { diagnosis, .. } => assert_eq!(
                diagnosis.to_string(),
                "0/2 nodes are available: 2 Insufficient GPU."
            ),
            other => panic!("{other:?}"),
        }
        c.check_invariants().unwrap();
    }

    #[test]
    fn whole_gpus_take_the_lowest_free_indices() {
        let mut c = ClusterState::default();
        c.add_node(node("a", 4, ""));
        let s = c.add_pod(pod("s", GpuRequest::share(100)));
        c.bind_gpus(s, NodeId(0), Some(0b0010)).unwrap();
        let w = c.add_pod(pod("w", GpuRequest::whole(2)));
        c.bind(w, NodeId(0)).unwrap();
        assert_eq!(c.pod(w).unwrap().gpus(), 0b0101);
        let w3 = c.add_pod(pod("w3", GpuRequest::whole(2)));
        assert_eq!(c.bind(w3, NodeId(0)), Err(BindError::DoesNotFit));
        assert_eq!(used(&c, 0), [1000, 100, 1000, 0]);
        c.check_invariants().unwrap();
    }
}
