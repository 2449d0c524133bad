//! The cluster state a scheduler reads: nodes, pods and the bookkeeping of what is charged
//! where. The simulator owns it and changes it; schedulers change it only by binding
//! through a [`crate::Cycle`].

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use slotmap::SlotMap;

use crate::gang::PodGroupSpec;
use crate::gpu::{GpuBooks, GpuMiss, GpuRequest};
use crate::namespaces::{NamespaceId, Namespaces};
use crate::node::{Node, NodeId, NodeSpec};
use crate::pdb::PodDisruptionBudget;
use crate::pod::{Pod, PodId, PodPhase};
use crate::resources::{ResourceNames, Resources};
use crate::volumes::VolumeState;

/// Why a bind was refused. A refused bind changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum BindError {
    /// The pod id names no live pod.
    #[error("pod does not exist")]
    NoSuchPod,
    /// The node id names no node, or a node that left the cluster.
    #[error("node does not exist or is not ready")]
    NoSuchNode,
    /// The pod is bound already or finished.
    #[error("pod is not pending")]
    NotPending,
    /// The pod's requests exceed the node's free resources.
    #[error("pod does not fit on the node")]
    DoesNotFit,
    /// Only a pod bound and not yet started can be unbound.
    #[error("pod is not bound, or already running")]
    NotBound,
}

/// The per-node figures that placement scans read, kept in one dense array so a scan over
/// a thousand nodes streams through ~100 KB instead of chasing node records.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeRow {
    /// Allocatable minus requested.
    pub free: Resources,
    /// Allocatable CPU millicores.
    pub allocatable_cpu: i64,
    /// Allocatable memory bytes.
    pub allocatable_memory: i64,
    /// CPU millicores charged for scoring (unset requests count as 100m).
    pub nonzero_cpu: i64,
    /// Memory bytes charged for scoring (unset requests count as 200 MiB).
    pub nonzero_memory: i64,
    /// `allocatable_cpu` as a float, for scorers' divisions.
    pub allocatable_cpu_f64: f64,
    /// `allocatable_memory` as a float.
    pub allocatable_memory_f64: f64,
    /// Both capacities are in `1..=2^45`, so a score `floor(100 * free / capacity)`
    /// computed as one `f64` division equals upstream's integer division: the quotient is
    /// at most 100, a non-integer quotient lies at least `1/capacity >= 2^-45` below the
    /// next integer, and correctly rounded division moves it by at most `2^-47` there, so
    /// truncation lands on the same integer. A 64-bit integer division costs tens of
    /// cycles and dominated scoring scans; outside this range scorers divide exactly.
    pub exact_float_scores: bool,
    /// Ready, schedulable and untainted: takes any pod that has no node constraints, so
    /// filters can skip the label and taint checks.
    pub plain: bool,
}

impl NodeRow {
    fn new(node: &Node) -> NodeRow {
        NodeRow {
            free: node.free(),
            allocatable_cpu: node.spec.allocatable.cpu(),
            allocatable_memory: node.spec.allocatable.memory(),
            nonzero_cpu: 0,
            nonzero_memory: 0,
            allocatable_cpu_f64: node.spec.allocatable.cpu() as f64,
            allocatable_memory_f64: node.spec.allocatable.memory() as f64,
            exact_float_scores: [node.spec.allocatable.cpu(), node.spec.allocatable.memory()]
                .iter()
                .all(|&c| (1..=MAX_FLOAT_EXACT_CAPACITY).contains(&c)),
            plain: node.ready && !node.spec.unschedulable && node.spec.taints.is_empty(),
        }
    }
}

/// Largest capacity for which scoring may divide in `f64` and still get upstream's
/// integer results (see [`NodeRow::exact_float_scores`]).
pub const MAX_FLOAT_EXACT_CAPACITY: i64 = 1 << 45;

/// Nodes and pods, with per-node requested resources kept up to date incrementally.
///
/// Architecture invariant: for every node, `free(n) == allocatable - sum(requests of pods
/// bound to n)` and no bind ever makes `free` negative in a kind the pod requests.
#[derive(Debug)]
pub struct ClusterState {
    /// Distinguishes this cluster (and each clone) from every other in the process, so a
    /// scheduler's cache keyed by node generations is never applied to another cluster.
    uid: u64,
    /// The next node generation to hand out.
    next_generation: u64,
    /// `generations[n]` changes whenever anything a filter or scorer reads of node `n`
    /// changes (kube-scheduler's NodeInfo generation), so schedulers may cache per-node
    /// results and recompute only nodes whose generation moved.
    generations: Vec<u64>,
    /// Bound pods whose template has inter-pod affinity or anti-affinity terms, so
    /// InterPodAffinity can skip at once, without visiting nodes, when there are none.
    bound_with_pod_affinity: u64,
    nodes: Vec<Node>,
    /// `rows[n]` mirrors what scans need of `nodes[n]`.
    rows: Vec<NodeRow>,
    pods: SlotMap<PodId, Pod>,
    names: ResourceNames,
    /// StorageClasses, PersistentVolumes and PersistentVolumeClaims.
    volumes: VolumeState,
    /// PodDisruptionBudgets, which DefaultPreemption respects where it can.
    pdbs: Vec<PodDisruptionBudget>,
    /// Namespaces' weights and what their bound pods request, for fairness.
    namespaces: Namespaces,
    /// Allocatable resources summed over ready nodes: the pool dominant shares divide by.
    ready_capacity: Resources,
    /// Pod groups (gangs), indexed by [`crate::PodTemplate::pod_group`].
    pod_groups: Vec<PodGroupSpec>,
    /// `group_bound[g]`: pods of group `g` bound to a node and not terminating, kept
    /// incrementally so the gang check is O(1) per group.
    group_bound: Vec<u32>,
    /// Per-GPU bookkeeping, present once a node with GPUs has joined (see [`crate::gpu`]).
    gpu: Option<Box<GpuBooks>>,
    /// The GPU workload the scenario expects, for schedulers that measure fragmentation
    /// against it (`fgd`); empty when none was handed in.
    target_workload: std::sync::Arc<Vec<(GpuTask, u64)>>,
}

/// One kind of task of a GPU workload: what it asks of CPU and GPU. Fragmentation-aware
/// schedulers weigh nodes by how well they could still host each kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GpuTask {
    /// CPU millicores asked.
    pub cpu_milli: i64,
    /// GPUs asked.
    pub gpu: GpuRequest,
}

fn has_pod_affinity(pod: &Pod) -> bool {
    pod.template.pod_affinity.is_some() || pod.template.pod_anti_affinity.is_some()
}

fn fresh_uid() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, AtomicOrdering::Relaxed)
}

impl Default for ClusterState {
    fn default() -> ClusterState {
        ClusterState::new(ResourceNames::default())
    }
}

impl Clone for ClusterState {
    /// A clone diverges from its original, so it gets its own uid.
    fn clone(&self) -> ClusterState {
        ClusterState {
            uid: fresh_uid(),
            next_generation: self.next_generation,
            generations: self.generations.clone(),
            bound_with_pod_affinity: self.bound_with_pod_affinity,
            nodes: self.nodes.clone(),
            rows: self.rows.clone(),
            pods: self.pods.clone(),
            names: self.names.clone(),
            volumes: self.volumes.clone(),
            pdbs: self.pdbs.clone(),
            namespaces: self.namespaces.clone(),
            ready_capacity: self.ready_capacity,
            pod_groups: self.pod_groups.clone(),
            group_bound: self.group_bound.clone(),
            gpu: self.gpu.clone(),
            target_workload: self.target_workload.clone(),
        }
    }
}

impl ClusterState {
    /// An empty cluster whose extended resources are named by `names`.
    pub fn new(names: ResourceNames) -> ClusterState {
        ClusterState {
            uid: fresh_uid(),
            next_generation: 1,
            generations: Vec::new(),
            bound_with_pod_affinity: 0,
            nodes: Vec::new(),
            rows: Vec::new(),
            pods: SlotMap::with_key(),
            names,
            volumes: VolumeState::default(),
            pdbs: Vec::new(),
            namespaces: Namespaces::default(),
            ready_capacity: Resources::ZERO,
            pod_groups: Vec::new(),
            group_bound: Vec::new(),
            gpu: None,
            target_workload: Default::default(),
        }
    }

    /// Namespaces' weights and the resources their bound pods request.
    #[inline]
    pub fn namespaces(&self) -> &Namespaces {
        &self.namespaces
    }

    /// Declares a namespace's weight for fairness-aware schedulers (default 1).
    pub fn set_namespace_weight(&mut self, name: &str, weight: u32) -> NamespaceId {
        self.namespaces.set_weight(name, weight)
    }

    /// The weight of the named namespace: 1 unless declared otherwise.
    pub fn namespace_weight(&self, name: &str) -> u32 {
        self.namespaces
            .id(name)
            .map_or(crate::namespaces::DEFAULT_WEIGHT, |id| {
                self.namespaces.weight(id)
            })
    }

    /// Allocatable resources summed over ready nodes.
    #[inline]
    pub fn ready_capacity(&self) -> &Resources {
        &self.ready_capacity
    }

    /// The cluster's storage: StorageClasses, PersistentVolumes and claims.
    #[inline]
    pub fn volumes(&self) -> &VolumeState {
        &self.volumes
    }

    /// The cluster's PodDisruptionBudgets, in the order they were added.
    #[inline]
    pub fn pdbs(&self) -> &[PodDisruptionBudget] {
        &self.pdbs
    }

    /// Adds a PodDisruptionBudget. Budgets are not part of any node's generation: only
    /// preemption reads them, and it keeps no per-node caches.
    pub fn add_pdb(&mut self, pdb: PodDisruptionBudget) {
        self.pdbs.push(pdb);
    }

    /// Adds a pod group and returns its index, which pod templates name in
    /// [`crate::PodTemplate::pod_group`].
    pub fn add_pod_group(&mut self, spec: PodGroupSpec) -> u32 {
        self.pod_groups.push(spec);
        self.group_bound.push(0);
        (self.pod_groups.len() - 1) as u32
    }

    /// The pod groups, in the order they were added.
    #[inline]
    pub fn pod_groups(&self) -> &[PodGroupSpec] {
        &self.pod_groups
    }

    /// How many pods of group `group` are bound to a node and not terminating (0 for an
    /// unknown group).
    #[inline]
    pub fn group_bound(&self, group: u32) -> u32 {
        self.group_bound.get(group as usize).copied().unwrap_or(0)
    }

    fn count_in_group(&mut self, group: Option<u32>, delta: i32) {
        if let Some(n) = group.and_then(|g| self.group_bound.get_mut(g as usize)) {
            *n = n.wrapping_add_signed(delta);
        }
    }

    /// The cluster's storage, to add objects, bind claims and provision volumes. Volume
    /// state is not part of any node's generation: the volume plugins keep no per-node
    /// caches.
    pub fn volumes_mut(&mut self) -> &mut VolumeState {
        &mut self.volumes
    }

    /// This cluster's identity for caches (see [`ClusterState::generations`]). Unique
    /// within the process; it never influences a decision.
    pub fn uid(&self) -> u64 {
        self.uid
    }

    /// Per-node generations: a node's entry changes whenever its free resources, charges,
    /// pods or spec change. Two equal readings mean nothing about the node changed.
    #[inline]
    pub fn generations(&self) -> &[u64] {
        &self.generations
    }

    /// How many bound pods carry inter-pod affinity or anti-affinity terms.
    #[inline]
    pub fn bound_pods_with_pod_affinity(&self) -> u64 {
        self.bound_with_pod_affinity
    }

    fn touch(&mut self, node: NodeId) {
        self.generations[node.index()] = self.next_generation;
        self.next_generation += 1;
    }

    /// The names of resource kinds in this cluster.
    pub fn resource_names(&self) -> &ResourceNames {
        &self.names
    }

    /// The per-GPU books, or `None` when no node has GPUs.
    #[inline]
    pub fn gpus(&self) -> Option<&GpuBooks> {
        self.gpu.as_deref()
    }

    /// Milli-GPU allocated to pods and offered by nodes, cluster-wide.
    pub fn gpu_totals(&self) -> (u64, u64) {
        self.gpu
            .as_ref()
            .map_or((0, 0), |g| (g.used_total(), g.capacity_total()))
    }

    /// Why `node` cannot hold `pod`'s GPU ask, if it cannot (node-level filters aside).
    #[inline]
    pub fn gpu_miss(&self, pod: &Pod, node: NodeId) -> Option<GpuMiss> {
        let req = &pod.template.gpu;
        if !req.is_some() {
            return None;
        }
        let Some(books) = self.gpu.as_deref() else {
            return Some(GpuMiss::Insufficient);
        };
        if !req.models.is_empty() && !req.accepts_model(&self.nodes[node.index()].spec.gpu.model) {
            return Some(GpuMiss::Model);
        }
        (!books.fits(node, req)).then_some(GpuMiss::Insufficient)
    }

    /// The GPU workload the scenario expects (task kinds with their counts), for
    /// fragmentation-aware schedulers; empty when none was handed in.
    pub fn target_workload(&self) -> &[(GpuTask, u64)] {
        &self.target_workload
    }

    /// Hands schedulers the GPU workload to expect (the simulator sets it from a trace).
    pub fn set_target_workload(&mut self, tasks: Vec<(GpuTask, u64)>) {
        self.target_workload = std::sync::Arc::new(tasks);
    }

    /// Adds a node and returns its id (ids are dense and never reused).
    pub fn add_node(&mut self, spec: NodeSpec) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        if spec.gpu.count > 0 && self.gpu.is_none() {
            self.gpu = Some(Box::new(GpuBooks::with_gpuless_nodes(self.nodes.len())));
        }
        if let Some(books) = &mut self.gpu {
            books.push_node(spec.gpu.count);
        }
        let node = Node::new(spec);
        if node.ready {
            self.ready_capacity += node.spec.allocatable;
        }
        self.rows.push(NodeRow::new(&node));
        self.nodes.push(node);
        self.generations.push(0);
        self.touch(id);
        id
    }

    /// Every node slot, including nodes that left (`ready == false`).
    #[inline]
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// One node.
    #[inline]
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The dense per-node figures, indexed by node id: what fit and score scans read.
    #[inline]
    pub fn rows(&self) -> &[NodeRow] {
        &self.rows
    }

    /// Number of nodes that are in the cluster now.
    pub fn ready_node_count(&self) -> usize {
        self.nodes.iter().filter(|n| n.ready).count()
    }

    /// Adds a pending pod.
    pub fn add_pod(&mut self, mut pod: Pod) -> PodId {
        pod.phase = PodPhase::Pending;
        pod.node = None;
        pod.namespace_id = self.namespaces.intern(&pod.template.namespace);
        self.pods.insert(pod)
    }

    /// A live pod, or `None` if it finished and was removed (or never existed).
    #[inline]
    pub fn pod(&self, id: PodId) -> Option<&Pod> {
        self.pods.get(id)
    }

    /// Every live pod, in slot order (deterministic).
    pub fn pods(&self) -> impl Iterator<Item = (PodId, &Pod)> {
        self.pods.iter()
    }

    /// Number of live pods.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// Binds a pending pod to a node, charging its requests there; a pod that asks for
    /// GPUs gets them by the default rule of [`crate::gpu`].
    pub fn bind(&mut self, pod_id: PodId, node_id: NodeId) -> Result<(), BindError> {
        self.bind_gpus(pod_id, node_id, None)
    }

    /// Binds a pending pod to a node and, for a pod that asks for GPUs, to the GPUs in
    /// `gpus` (a bit mask over the node's GPUs; `None` picks by the default rule).
    /// Refused, changing nothing, when the GPUs named cannot hold the pod.
    pub fn bind_gpus(
        &mut self,
        pod_id: PodId,
        node_id: NodeId,
        gpus: Option<u64>,
    ) -> Result<(), BindError> {
        let pod = self.pods.get_mut(pod_id).ok_or(BindError::NoSuchPod)?;
        let node = self
            .nodes
            .get_mut(node_id.index())
            .filter(|n| n.ready)
            .ok_or(BindError::NoSuchNode)?;
        if pod.phase != PodPhase::Pending {
            return Err(BindError::NotPending);
        }
        let row = &mut self.rows[node_id.index()];
        if !pod.requests.fits_in(&row.free) {
            return Err(BindError::DoesNotFit);
        }
        let req = &pod.template.gpu;
        let mut mask = 0;
        if req.is_some() {
            let books = self.gpu.as_deref_mut().ok_or(BindError::DoesNotFit)?;
            if !req.accepts_model(&node.spec.gpu.model) {
                return Err(BindError::DoesNotFit);
            }
            mask = match gpus {
                Some(m) if books.valid_choice(node_id, req, m) => m,
                Some(_) => return Err(BindError::DoesNotFit),
                None => books
                    .default_choice(node_id, req)
                    .ok_or(BindError::DoesNotFit)?,
            };
            books.apply(node_id, req.milli, mask, 1);
        }
        pod.gpus = mask;
        row.free -= pod.requests;
        row.nonzero_cpu += pod.nonzero_cpu;
        row.nonzero_memory += pod.nonzero_memory;
        node.requested += pod.requests;
        pod.slot_on_node = node.pods.len() as u32;
        node.pods.push(pod_id);
        pod.phase = PodPhase::Bound;
        pod.node = Some(node_id);
        pod.nominated_node = None;
        if has_pod_affinity(pod) {
            self.bound_with_pod_affinity += 1;
        }
        self.namespaces.charge(pod.namespace_id, &pod.requests, 1);
        if let Some(n) = pod
            .template
            .pod_group
            .and_then(|g| self.group_bound.get_mut(g as usize))
        {
            *n += 1;
        }
        self.touch(node_id);
        Ok(())
    }

    /// Undoes [`ClusterState::bind`] for a pod that is still `Bound` (not yet running):
    /// releases its charges and makes it pending again with no node. Its node's pod list
    /// keeps the order of the others, so the node looks exactly as if the bind had never
    /// happened, except that its generation moves (caches saw the bind). Returns the node
    /// it left. For gang scheduling, which takes back the bindings of a group that fell
    /// short of its minimum within one cycle.
    pub fn unbind(&mut self, pod_id: PodId) -> Result<NodeId, BindError> {
        let pod = self.pods.get(pod_id).ok_or(BindError::NoSuchPod)?;
        if pod.phase != PodPhase::Bound || pod.terminating {
            return Err(BindError::NotBound);
        }
        let node_id = pod.node.ok_or(BindError::NotBound)?;
        let (requests, nonzero_cpu, nonzero_memory, slot) = (
            pod.requests,
            pod.nonzero_cpu,
            pod.nonzero_memory,
            pod.slot_on_node as usize,
        );
        let group = pod.template.pod_group;
        if has_pod_affinity(pod) {
            self.bound_with_pod_affinity -= 1;
        }
        self.namespaces.charge(pod.namespace_id, &requests, -1);
        self.count_in_group(group, -1);
        let node = &mut self.nodes[node_id.index()];
        node.requested -= requests;
        let row = &mut self.rows[node_id.index()];
        row.free += requests;
        row.nonzero_cpu -= nonzero_cpu;
        row.nonzero_memory -= nonzero_memory;
        // `remove`, not `swap_remove`: the pods after it keep their order.
        node.pods.remove(slot);
        for (i, &moved) in node.pods.iter().enumerate().skip(slot) {
            self.pods[moved].slot_on_node = i as u32;
        }
        let p = &mut self.pods[pod_id];
        p.phase = PodPhase::Pending;
        p.node = None;
        p.slot_on_node = u32::MAX;
        self.touch(node_id);
        Ok(node_id)
    }

    /// Sets a live pod's phase (the simulator's lifecycle controller calls this).
    /// Leaving a node goes through [`ClusterState::remove_pod`], not through here.
    pub fn set_phase(&mut self, pod: PodId, phase: PodPhase) {
        if let Some(p) = self.pods.get_mut(pod) {
            p.phase = phase;
        }
    }

    /// Records when a pod started, as an ordered stamp.
    pub fn set_start_stamp(&mut self, pod: PodId, stamp: u64) {
        if let Some(p) = self.pods.get_mut(pod) {
            p.start_stamp = stamp;
        }
    }

    /// Marks a bound pod as being deleted (it keeps its resources until removed).
    pub fn set_terminating(&mut self, pod: PodId) {
        if let Some(p) = self.pods.get_mut(pod)
            && !p.terminating
        {
            p.terminating = true;
            if let Some(node) = p.node {
                // A terminating member no longer counts towards its gang.
                let group = p.template.pod_group;
                self.count_in_group(group, -1);
                self.touch(node);
            }
        }
    }

    /// Records the node a preemption nominated for a pending pod.
    pub fn set_nominated_node(&mut self, pod: PodId, node: Option<NodeId>) {
        if let Some(p) = self.pods.get_mut(pod) {
            p.nominated_node = node;
        }
    }

    /// Removes a pod from the cluster, releasing what it held on its node. Returns the
    /// removed pod, or `None` if it was already gone.
    pub fn remove_pod(&mut self, pod_id: PodId) -> Option<Pod> {
        let pod = self.pods.remove(pod_id)?;
        if let Some(node_id) = pod.node {
            if has_pod_affinity(&pod) {
                self.bound_with_pod_affinity -= 1;
            }
            self.namespaces.charge(pod.namespace_id, &pod.requests, -1);
            if !pod.terminating {
                self.count_in_group(pod.template.pod_group, -1);
            }
            let node = &mut self.nodes[node_id.index()];
            node.requested -= pod.requests;
            let row = &mut self.rows[node_id.index()];
            row.free += pod.requests;
            row.nonzero_cpu -= pod.nonzero_cpu;
            row.nonzero_memory -= pod.nonzero_memory;
            if pod.gpus != 0
                && let Some(books) = self.gpu.as_deref_mut()
            {
                books.apply(node_id, pod.template.gpu.milli, pod.gpus, -1);
            }
            let slot = pod.slot_on_node as usize;
            node.pods.swap_remove(slot);
            if let Some(&moved) = node.pods.get(slot) {
                self.pods[moved].slot_on_node = slot as u32;
            }
            self.touch(node_id);
        }
        Some(pod)
    }

    /// Recomputes every node's charges from its pods and compares them with the
    /// incremental bookkeeping; returns a description of the first mismatch or
    /// over-commitment. For tests and debug checks: O(pods).
    pub fn check_invariants(&self) -> Result<(), String> {
        for (i, node) in self.nodes.iter().enumerate() {
            let mut sum = Resources::ZERO;
            let (mut cpu, mut mem) = (0, 0);
            for (slot, &p) in node.pods.iter().enumerate() {
                let pod = self
                    .pods
                    .get(p)
                    .ok_or_else(|| format!("node {} lists a dead pod", node.name()))?;
                if pod.node != Some(NodeId(i as u32)) || pod.slot_on_node as usize != slot {
                    return Err(format!(
                        "pod {} is listed on {} but points elsewhere",
                        pod.name(),
                        node.name()
                    ));
                }
                sum += pod.requests;
                cpu += pod.nonzero_cpu;
                mem += pod.nonzero_memory;
            }
            let row = &self.rows[i];
            if sum != node.requested || cpu != row.nonzero_cpu || mem != row.nonzero_memory {
                return Err(format!(
                    "node {}: requested {:?} but its pods sum to {:?}",
                    node.name(),
                    node.requested,
                    sum
                ));
            }
            let mut expected = NodeRow::new(node);
            (expected.nonzero_cpu, expected.nonzero_memory) = (cpu, mem);
            if *row != expected {
                return Err(format!("node {}: dense row out of date", node.name()));
            }
            if node
                .requested
                .0
                .iter()
                .zip(node.spec.allocatable.0.iter())
                .any(|(r, a)| r > a)
            {
                return Err(format!(
                    "node {} over-committed: requested {:?} > allocatable {:?}",
                    node.name(),
                    node.requested,
                    node.spec.allocatable
                ));
            }
        }
        let with_terms = self
            .pods
            .values()
            .filter(|p| p.node.is_some() && has_pod_affinity(p))
            .count() as u64;
        if with_terms != self.bound_with_pod_affinity {
            return Err(format!(
                "{} bound pods have inter-pod terms but the count says {}",
                with_terms, self.bound_with_pod_affinity
            ));
        }
        let mut by_namespace = vec![(Resources::ZERO, 0u64); self.namespaces.len()];
        for pod in self.pods.values().filter(|p| p.node.is_some()) {
            let entry = by_namespace
                .get_mut(pod.namespace_id.index())
                .ok_or_else(|| format!("pod {} has no namespace id", pod.name()))?;
            entry.0 += pod.requests;
            entry.1 += 1;
        }
        for (i, (sum, count)) in by_namespace.into_iter().enumerate() {
            let id = NamespaceId(i as u32);
            if *self.namespaces.requested(id) != sum || self.namespaces.bound_pods(id) != count {
                return Err(format!(
                    "namespace {}: books say {:?} in {} pods, its bound pods sum to {:?} in {}",
                    self.namespaces.name(id),
                    self.namespaces.requested(id),
                    self.namespaces.bound_pods(id),
                    sum,
                    count
                ));
            }
        }
        let mut group_bound = vec![0u32; self.pod_groups.len()];
        for pod in self.pods.values() {
            if let Some(g) = pod.template.pod_group
                && pod.node.is_some()
                && !pod.terminating
                && let Some(n) = group_bound.get_mut(g as usize)
            {
                *n += 1;
            }
        }
        if group_bound != self.group_bound {
            return Err(format!(
                "pod group counts {:?} but bound members are {:?}",
                self.group_bound, group_bound
            ));
        }
        if let Some(books) = self.gpu.as_deref() {
            let mut used = vec![0u16; books.len()];
            for pod in self.pods.values() {
                let Some(node) = pod.node else { continue };
                let req = &pod.template.gpu;
                if pod.gpus.count_ones() != req.count {
                    return Err(format!(
                        "pod {} holds {} GPUs but asks for {}",
                        pod.name(),
                        pod.gpus.count_ones(),
                        req.count
                    ));
                }
                let (lo, n) = (books.offset(node), books.used(node).len());
                for i in 0..64 {
                    if pod.gpus & (1 << i) != 0 {
                        if i >= n {
                            return Err(format!("pod {} holds a GPU its node lacks", pod.name()));
                        }
                        used[lo + i] += req.milli as u16;
                    }
                }
            }
            books.check(&used)?;
        } else if self.pods.values().any(|p| p.gpus != 0) {
            return Err("a pod holds GPUs in a cluster without GPUs".into());
        }
        for (id, pod) in self.pods.iter() {
            let listed = pod.node.is_some_and(|n| {
                self.nodes[n.index()].pods.get(pod.slot_on_node as usize) == Some(&id)
            });
            if pod.node.is_some() != listed {
                return Err(format!(
                    "pod {} bound but not listed on its node",
                    pod.name()
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod::PodTemplate;
    use std::sync::Arc;

    fn cluster(n: usize, cpu: i64) -> ClusterState {
        let mut c = ClusterState::default();
        for i in 0..n {
            let mut alloc = Resources::cpu_mem(cpu, 1 << 30);
            alloc.set(crate::ResourceKind::PODS, 110);
            c.add_node(NodeSpec {
                name: format!("n{i}"),
                allocatable: alloc,
                ..Default::default()
            });
        }
        c
    }

    fn pod(cpu: i64) -> Pod {
        let t = Arc::new(PodTemplate {
            name: "p".into(),
            ..Default::default()
        });
        let mut r = Resources::cpu_mem(cpu, 0);
        r.set(crate::ResourceKind::PODS, 1);
        Pod::with_requests(t, 0, r, cpu, 0)
    }

    #[test]
    fn bind_and_remove_keep_books() {
        let mut c = cluster(2, 1000);
        let a = c.add_pod(pod(600));
        let b = c.add_pod(pod(600));
        let d = c.add_pod(pod(300));
        c.bind(a, NodeId(0)).unwrap();
        assert_eq!(c.bind(b, NodeId(0)), Err(BindError::DoesNotFit));
        assert_eq!(c.bind(a, NodeId(1)), Err(BindError::NotPending));
        c.bind(d, NodeId(0)).unwrap();
        c.bind(b, NodeId(1)).unwrap();
        assert_eq!(c.rows()[0].free.cpu(), 100);
        c.check_invariants().unwrap();
        c.remove_pod(a).unwrap();
        assert_eq!(c.rows()[0].free.cpu(), 700);
        assert!(c.pod(a).is_none(), "the id of a removed pod names nothing");
        assert_eq!(c.bind(a, NodeId(0)), Err(BindError::NoSuchPod));
        c.check_invariants().unwrap();
        let e = c.add_pod(pod(1));
        assert_ne!(e, a, "a reused slot gets a new generation");
        let before = c.generations().to_vec();
        c.bind(e, NodeId(1)).unwrap();
        assert_eq!(
            c.generations()[0],
            before[0],
            "untouched node keeps its generation"
        );
        assert!(
            c.generations()[1] > before[1],
            "changed node gets a new generation"
        );
        assert_ne!(c.clone().uid(), c.uid());
    }
}
