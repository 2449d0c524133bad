//! The feasibility checks every built-in algorithm applies before choosing a node: the
//! filters of kube-scheduler's default profile that concern one pod and one node, with
//! its reason strings.

use crate::cluster::ClusterState;
use crate::node::{Node, NodeId};
use crate::pod::{Pod, PodTemplate};
use crate::reason::Reason;
use crate::resources::{ResourceKind, Resources};
use crate::scheduler::Diagnosis;
use crate::taints::{Taint, TaintEffect, first_untolerated};

/// NodeUnschedulable's reason.
pub const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
/// NodeName's reason.
pub const REASON_NODE_NAME: &str = "node(s) didn't match the requested node name";
/// TaintToleration's reason (kube-scheduler v1.35 wording).
pub const REASON_UNTOLERATED_TAINT: &str = "node(s) had untolerated taint(s)";
/// NodeAffinity's reason (nodeSelector and required node affinity).
pub const REASON_NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
/// NodeResourcesFit's reason when the pod count is exhausted.
pub const REASON_TOO_MANY_PODS: &str = "Too many pods";
/// The GPU filter's reason when the node's free GPUs cannot hold the pod's GPU ask.
pub const REASON_INSUFFICIENT_GPU: &str = "Insufficient GPU";
/// The GPU filter's reason when the node's GPU model is not one the pod accepts.
pub const REASON_GPU_MODEL: &str = "node(s) didn't match Pod's GPU model";
/// The reason for a node that has left the cluster.
pub const REASON_NOT_READY: &str = "node(s) were not ready";

/// The taint Kubernetes puts on cordoned nodes; a pod that tolerates it passes
/// NodeUnschedulable.
const UNSCHEDULABLE_TAINT_KEY: &str = "node.kubernetes.io/unschedulable";

/// Why one node rejected one pod, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection<'a> {
    /// The node left the cluster.
    NotReady,
    /// The node is cordoned.
    Unschedulable,
    /// The pod asks for another node by name.
    NodeName,
    /// A taint the pod does not tolerate.
    Taint(&'a Taint),
    /// nodeSelector or required node affinity do not match.
    NodeAffinity,
    /// Not enough of the listed resources (one bit per [`ResourceKind`]).
    Insufficient(u8),
    /// The node's GPUs cannot hold the pod's GPU ask (see [`crate::gpu`]).
    Gpu(crate::gpu::GpuMiss),
}

/// True when the pod's requests fit in the node's free resources.
#[inline]
pub fn fits(pod: &Pod, free: &Resources) -> bool {
    pod.requests.fits_in(free)
}

/// Checks the non-resource filters in kube-scheduler's order: NodeUnschedulable,
/// NodeName, TaintToleration, NodeAffinity.
pub fn check_constraints<'n>(pod: &Pod, node: &'n Node) -> Result<(), Rejection<'n>> {
    if !node.ready {
        return Err(Rejection::NotReady);
    }
    let t = &pod.template;
    if node.spec.unschedulable {
        let tolerated = t.tolerations.iter().any(|tol| {
            tol.tolerates(&Taint {
                key: UNSCHEDULABLE_TAINT_KEY.to_string(),
                value: String::new(),
                effect: TaintEffect::NoSchedule,
            })
        });
        if !tolerated {
            return Err(Rejection::Unschedulable);
        }
    }
    if let Some(name) = &t.node_name
        && name != node.name()
    {
        return Err(Rejection::NodeName);
    }
    if let Some(taint) = first_untolerated(&node.spec.taints, &t.tolerations) {
        return Err(Rejection::Taint(taint));
    }
    if !matches_selector_and_affinity(t, node) {
        return Err(Rejection::NodeAffinity);
    }
    Ok(())
}

/// True when the node satisfies the pod's `nodeSelector` and its required node affinity:
/// the NodeAffinity filter, which the kubelet applies again at admission.
pub fn matches_selector_and_affinity(t: &PodTemplate, node: &Node) -> bool {
    node.spec.labels.contains_all(&t.node_selector)
        && t.node_affinity
            .as_ref()
            .is_none_or(|a| a.required_matches(&node.spec.labels, node.name()))
}

/// The kubelet's admission of a pod that names its node and so bypasses the scheduler:
/// cordons and NoSchedule taints do not apply, but the node must be ready, NoExecute
/// taints tolerated, and nodeSelector and required node affinity must match.
pub fn check_admission<'n>(pod: &Pod, node: &'n Node) -> Result<(), Rejection<'n>> {
    if !node.ready {
        return Err(Rejection::NotReady);
    }
    let t = &pod.template;
    let no_execute = node.spec.taints.iter().find(|taint| {
        taint.effect == TaintEffect::NoExecute
            && !t.tolerations.iter().any(|tol| tol.tolerates(taint))
    });
    if let Some(taint) = no_execute {
        return Err(Rejection::Taint(taint));
    }
    if !matches_selector_and_affinity(t, node) {
        return Err(Rejection::NodeAffinity);
    }
    Ok(())
}

/// One pod's filters, prepared once per scheduling attempt so that the per-node test in a
/// scan is a resource comparison and, for constrained pods or tainted nodes only, the
/// label and taint checks.
#[derive(Debug, Clone, Copy)]
pub struct PodFilter<'a> {
    pod: &'a Pod,
    /// All ones in the kinds the pod requests, zero elsewhere: kinds it does not request
    /// never reject a node, even where the node's free amount is negative.
    requested_mask: Resources,
    /// The pod has no node constraints: any plain node takes it if it fits.
    unconstrained: bool,
    /// The pod requests nothing but CPU, memory and its pod slot (most pods): three lanes
    /// to compare instead of eight.
    core_only: bool,
    /// The pod asks for GPUs, which the per-GPU books decide.
    gpu: bool,
}

impl<'a> PodFilter<'a> {
    /// Prepares the filters for one pod.
    #[inline]
    pub fn new(pod: &'a Pod) -> PodFilter<'a> {
        let mut requested_mask = Resources::ZERO;
        for (m, r) in requested_mask.0.iter_mut().zip(pod.requests.0) {
            *m = if r != 0 { -1 } else { 0 };
        }
        let core_only = pod.requests.0.iter().enumerate().all(|(i, &r)| {
            r == 0
                || i == ResourceKind::CPU.index()
                || i == ResourceKind::MEMORY.index()
                || i == ResourceKind::PODS.index()
        });
        PodFilter {
            pod,
            requested_mask,
            unconstrained: !pod.template.has_node_constraints(),
            core_only,
            gpu: pod.template.gpu.is_some(),
        }
    }

    /// True when the pod's requests fit in `free`; the same answer as
    /// [`Resources::fits_in`], computed branch-free: a requested kind that does not fit
    /// makes `free - request` negative, and OR-ing the masked differences keeps the sign
    /// bit. Eight subtractions, ANDs and ORs vectorise even on baseline x86-64.
    #[inline(always)]
    pub fn fits(&self, free: &Resources) -> bool {
        let (req, mask) = (&self.pod.requests.0, &self.requested_mask.0);
        if self.core_only {
            let lane = |i: usize| free.0[i].wrapping_sub(req[i]) & mask[i];
            return (lane(0) | lane(1) | lane(3)) >= 0;
        }
        let mut acc = 0i64;
        for i in 0..crate::resources::NUM_RESOURCES {
            // Amounts are non-negative and below 2^63, so free - request cannot wrap
            // unless free is already negative in a requested kind; then `bind`, which
            // checks exactly, refuses the pod and nothing is over-committed.
            acc |= free.0[i].wrapping_sub(self.pod.requests.0[i]) & self.requested_mask.0[i];
        }
        acc >= 0
    }

    /// The pod being filtered.
    #[inline]
    pub fn pod(&self) -> &'a Pod {
        self.pod
    }

    /// For the common pod (no node constraints, requests only CPU, memory and its slot,
    /// no GPU): the CPU, memory and pod slots a plain node must have free to take it, a
    /// resource it does not request being `i64::MIN` (see [`PodFilter::first_feasible`]).
    /// `None` for other pods, which every node must be checked for in full.
    #[inline]
    pub fn fast_thresholds(&self) -> Option<(i64, i64, i64)> {
        if !(self.unconstrained && self.core_only) || self.gpu {
            return None;
        }
        let threshold = |kind: ResourceKind| match self.pod.requests.get(kind) {
            0 => i64::MIN,
            r => r,
        };
        Some((
            threshold(ResourceKind::CPU),
            threshold(ResourceKind::MEMORY),
            threshold(ResourceKind::PODS),
        ))
    }

    /// The first feasible node, in node order. For the common pod (no node constraints,
    /// requests only CPU, memory and its slot, no GPU) the scan is three comparisons per plain node
    /// against thresholds, a lane the pod does not request being `i64::MIN` so it always
    /// passes, as in [`PodFilter::fits`]; other pods and nodes take [`PodFilter::feasible`].
    pub fn first_feasible(&self, cluster: &ClusterState) -> Option<usize> {
        let rows = cluster.rows();
        let Some((cpu, mem, pods)) = self.fast_thresholds() else {
            return (0..rows.len()).find(|&i| self.feasible(cluster, i));
        };
        rows.iter().enumerate().position(|(i, row)| {
            if row.plain {
                row.free.cpu() >= cpu && row.free.memory() >= mem && row.free.pods() >= pods
            } else {
                self.feasible(cluster, i)
            }
        })
    }

    /// True when the pod has no node constraints, so only its requests and the node
    /// decide feasibility.
    #[inline]
    pub fn is_unconstrained(&self) -> bool {
        self.unconstrained
    }

    /// True when the node passes every filter.
    // Forced: it is the body of every placement scan, and as a call it cost first-fit
    // several times the scan itself.
    #[inline(always)]
    pub fn feasible(&self, cluster: &ClusterState, node: usize) -> bool {
        let row = &cluster.rows()[node];
        self.fits(&row.free)
            && ((self.unconstrained && row.plain)
                || check_constraints(self.pod, &cluster.nodes()[node]).is_ok())
            && (!self.gpu || cluster.gpu_miss(self.pod, NodeId(node as u32)).is_none())
    }
}

/// Every filter, with the first rejection: constraints first, then resources, as
/// kube-scheduler's default profile orders them.
pub fn check_node<'n>(
    cluster: &'n ClusterState,
    pod: &Pod,
    node: NodeId,
) -> Result<(), Rejection<'n>> {
    let row = &cluster.rows()[node.index()];
    if !row.plain || pod.template.has_node_constraints() {
        check_constraints(pod, cluster.node(node))?;
    }
    let free = &row.free;
    if fits(pod, free) {
        match cluster.gpu_miss(pod, node) {
            None => Ok(()),
            Some(miss) => Err(Rejection::Gpu(miss)),
        }
    } else {
        let mut missing = 0u8;
        for i in 0..crate::resources::NUM_RESOURCES {
            if pod.requests.0[i] != 0 && pod.requests.0[i] > free.0[i] {
                missing |= 1 << i;
            }
        }
        Err(Rejection::Insufficient(missing))
    }
}

/// Counts a rejection under kube-scheduler's reason for it (a code: nothing is formatted
/// until the diagnosis is written).
pub fn record(diagnosis: &mut Diagnosis, cluster: &ClusterState, rejection: Rejection<'_>) {
    match rejection {
        Rejection::NotReady => diagnosis.add(Reason::NotReady),
        Rejection::Unschedulable => diagnosis.add(Reason::Unschedulable),
        Rejection::NodeName => diagnosis.add(Reason::NodeName),
        // kube-scheduler v1.35 no longer names the taint (keys and values may be
        // sensitive); the rejecting taint is still in `Rejection::Taint` for callers.
        Rejection::Taint(_) => diagnosis.add(Reason::UntoleratedTaint),
        Rejection::NodeAffinity => diagnosis.add(Reason::NodeAffinity),
        Rejection::Gpu(crate::gpu::GpuMiss::Insufficient) => diagnosis.add(Reason::InsufficientGpu),
        Rejection::Gpu(crate::gpu::GpuMiss::Model) => diagnosis.add(Reason::GpuModel),
        Rejection::Insufficient(bits) => {
            for i in 0..crate::resources::NUM_RESOURCES {
                if bits & (1 << i) != 0 {
                    let reason = Reason::shortfall(ResourceKind(i as u8));
                    diagnosis.add_named(&reason, 1, cluster.resource_names());
                }
            }
        }
    }
}

/// Runs every filter on every node that is in the cluster and explains why none took the
/// pod. Only called after a scan found no node; it allocates the diagnosis's reason list
/// once, not per node.
pub fn diagnose(cluster: &ClusterState, pod: &Pod) -> Diagnosis {
    let mut diagnosis = Diagnosis::new(cluster.ready_node_count() as u32);
    for (i, node) in cluster.nodes().iter().enumerate() {
        if !node.ready {
            continue;
        }
        if let Err(r) = check_node(cluster, pod, NodeId(i as u32)) {
            record(&mut diagnosis, cluster, r);
        }
    }
    diagnosis
}
