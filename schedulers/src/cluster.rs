//! The cluster state a scheduler reads: nodes, pods and the bookkeeping of what is charged
//! where. The simulator owns it and changes it; schedulers change it only by binding
//! through a [`crate::Cycle`].

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use slotmap::SlotMap;

use crate::gang::PodGroupSpec;
use crate::gpu::{GpuBooks, GpuMiss, GpuRequest};
use crate::images::{ImageBooks, NodeImage};
use crate::namespaces::{NamespaceId, Namespaces};
use crate::node::{Node, NodeId, NodeSpec};
use crate::pdb::PodDisruptionBudget;
use crate::pod::{Pod, PodId, PodPhase};
use crate::resources::{ResourceKind, ResourceNames, Resources, TooManyExtendedResources};
use crate::volumes::VolumeState;

/// Why a bind was refused. A refused bind changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum BindError {
    /// The pod id names no live pod.
    #[error("pod does not exist")]
    NoSuchPod,
    /// The node id names no node, a node that left the cluster, or one that is not ready.
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

/// Why a node lifecycle change was refused. A refused change changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// The node id names no node, or a node that already left.
    #[error("node does not exist")]
    NoSuchNode,
    /// A node leaves only once its pods are gone (the host evicts them first).
    #[error("node still has {0} pod(s) bound")]
    HasPods(usize),
    /// A node shrinks only to what its pods fit in (the kubelet rejects the others first).
    #[error("node's pods request more than the new allocatable")]
    WouldOvercommit,
}

/// Nodes and pods, with per-node requested resources kept up to date incrementally.
///
/// Architecture invariant: for every node, `free(n) == allocatable - sum(requests of pods
/// bound to n)` and no bind ever makes `free` negative in a kind the pod requests.
///
/// Identity: [`ClusterState::uid`] names one cluster's lineage and survives cloning, and
/// every generation handed out ([`ClusterState::generations`],
/// [`ClusterState::node_set_generation`]) is unique in the process, whichever copy hands
/// it out. So a scheduler given a fresh snapshot (a clone) each cycle keeps its per-node
/// caches for the nodes that did not change, and a copy that diverged can never be
/// mistaken for another at the same generation.
#[derive(Debug)]
pub struct ClusterState {
    /// Names this cluster's lineage: kept by clones, distinct from every other cluster
    /// built in the process.
    uid: u64,
    /// This copy's block of generation numbers: the high 32 bits of every generation it
    /// hands out. Each clone (and each exhausted block) takes a fresh one.
    epoch: u64,
    /// The next generation to hand out within `epoch` (the low 32 bits).
    next_generation: u64,
    /// `generations[n]` changes whenever anything a filter or scorer reads of node `n`
    /// changes (kube-scheduler's NodeInfo generation), so schedulers may cache per-node
    /// results and recompute only nodes whose generation moved.
    generations: Vec<u64>,
    /// Changes whenever a node joins, leaves, or changes readiness: the set of nodes a
    /// scheduler may list, for caches of node orders.
    node_set_generation: u64,
    /// Every node change, in order, with the generation it gave the node, so a cache can
    /// follow what changed since it last looked instead of rescanning every node
    /// ([`ClusterState::changes_since`]). Trimmed from the front as it grows.
    change_log: Vec<(NodeId, u64)>,
    /// How many changes were trimmed from the front of `change_log`.
    change_base: u64,
    /// Nodes in the cluster by name, for hosts that look nodes up by name (a pod's
    /// `nodeName`, a scripted failure). Looked up, never iterated.
    node_names: std::collections::HashMap<String, NodeId>,
    /// Nodes that have not left, and of those the ready ones.
    present_nodes: usize,
    ready_nodes: usize,
    /// Pods not bound to any node (waiting at Permit included), and pods bound and not
    /// terminating.
    pending_pods: u64,
    bound_pods: u64,
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
    /// `group_waiting[g]`: pods of group `g` waiting at Permit ([`PodPhase::Waiting`]).
    group_waiting: Vec<u32>,
    /// Pods waiting at Permit, in the order they began waiting. Few: a gang's members
    /// until it is admitted or times out.
    waiting: Vec<PodId>,
    /// Per-GPU bookkeeping, present once a node with GPUs has joined (see [`crate::gpu`]).
    gpu: Option<Box<GpuBooks>>,
    /// Pending pods with a nominated node (preemptors waiting for their victims to
    /// leave), so filtering can hold their room without scanning every pod. Few.
    nominated: Vec<PodId>,
    /// The images nodes hold, for ImageLocality and image pulls.
    images: ImageBooks,
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

/// A block of generation numbers no other copy of any cluster in the process uses.
fn fresh_epoch() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, AtomicOrdering::Relaxed)
}

/// Generations handed out per epoch before a copy takes a fresh epoch.
const GENERATIONS_PER_EPOCH: u64 = 1 << 32;

/// Changes the log keeps at least before it trims (it keeps four per node, if more).
const CHANGE_LOG_LIMIT: usize = 4096;

/// A position in a cluster's change log (see [`ClusterState::changes_since`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeCursor {
    uid: u64,
    position: u64,
    generation: u64,
}

impl Default for ClusterState {
    fn default() -> ClusterState {
        ClusterState::new(ResourceNames::default())
    }
}

impl Clone for ClusterState {
    /// A clone is the same cluster (same uid, same generations for every node) but hands
    /// out generations from a block of its own, so the copies never collide as they
    /// diverge.
    fn clone(&self) -> ClusterState {
        ClusterState {
            uid: self.uid,
            epoch: fresh_epoch(),
            next_generation: 0,
            generations: self.generations.clone(),
            node_set_generation: self.node_set_generation,
            change_log: self.change_log.clone(),
            change_base: self.change_base,
            node_names: self.node_names.clone(),
            present_nodes: self.present_nodes,
            ready_nodes: self.ready_nodes,
            pending_pods: self.pending_pods,
            bound_pods: self.bound_pods,
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
            group_waiting: self.group_waiting.clone(),
            waiting: self.waiting.clone(),
            gpu: self.gpu.clone(),
            nominated: self.nominated.clone(),
            images: self.images.clone(),
        }
    }
}

impl ClusterState {
    /// An empty cluster whose extended resources are named by `names`.
    pub fn new(names: ResourceNames) -> ClusterState {
        ClusterState {
            uid: fresh_uid(),
            epoch: fresh_epoch(),
            next_generation: 0,
            generations: Vec::new(),
            node_set_generation: 0,
            change_log: Vec::new(),
            change_base: 0,
            node_names: std::collections::HashMap::new(),
            present_nodes: 0,
            ready_nodes: 0,
            pending_pods: 0,
            bound_pods: 0,
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
            group_waiting: Vec::new(),
            waiting: Vec::new(),
            gpu: None,
            nominated: Vec::new(),
            images: ImageBooks::default(),
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
        self.group_waiting.push(0);
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

    /// How many pods of group `group` wait at Permit (0 for an unknown group).
    #[inline]
    pub fn group_waiting(&self, group: u32) -> u32 {
        self.group_waiting.get(group as usize).copied().unwrap_or(0)
    }

    /// Pods waiting at Permit ([`PodPhase::Waiting`]), in the order they began waiting.
    #[inline]
    pub fn waiting_pods(&self) -> &[PodId] {
        &self.waiting
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

    /// This cluster's identity for caches (see [`ClusterState::generations`]): kept by
    /// clones, different for every other cluster in the process. It never influences a
    /// decision.
    pub fn uid(&self) -> u64 {
        self.uid
    }

    /// Per-node generations: a node's entry changes whenever its free resources, charges,
    /// pods, spec or condition change. Two equal readings, on this cluster or any copy of
    /// it, mean nothing about the node changed.
    #[inline]
    pub fn generations(&self) -> &[u64] {
        &self.generations
    }

    /// Changes whenever a node joins, leaves or changes readiness; equal readings (on this
    /// cluster or a copy) mean the same nodes are listed, for caches of node orders.
    #[inline]
    pub fn node_set_generation(&self) -> u64 {
        self.node_set_generation
    }

    /// Pods waiting for a node (created, not yet bound; a pod waiting at Permit holds a
    /// node's resources but is not bound yet).
    #[inline]
    pub fn pending_pod_count(&self) -> u64 {
        self.pending_pods
    }

    /// Pods bound to a node (starting or running) and not being deleted.
    #[inline]
    pub fn bound_pod_count(&self) -> u64 {
        self.bound_pods
    }

    /// A generation no copy of any cluster has handed out.
    fn next_generation(&mut self) -> u64 {
        if self.next_generation == GENERATIONS_PER_EPOCH {
            self.epoch = fresh_epoch();
            self.next_generation = 0;
        }
        let generation = (self.epoch << 32) | self.next_generation;
        self.next_generation += 1;
        generation
    }

    /// How many bound pods carry inter-pod affinity or anti-affinity terms.
    #[inline]
    pub fn bound_pods_with_pod_affinity(&self) -> u64 {
        self.bound_with_pod_affinity
    }

    fn touch(&mut self, node: NodeId) {
        let generation = self.next_generation();
        self.generations[node.index()] = generation;
        if self.change_log.len() >= CHANGE_LOG_LIMIT.max(4 * self.nodes.len()) {
            // Keep the newer half: a cache further behind rescans every node, which costs
            // what following this many changes would.
            let drop = self.change_log.len() / 2;
            self.change_log.drain(..drop);
            self.change_base += drop as u64;
        }
        self.change_log.push((node, generation));
    }

    /// Where the change log ends now: what a cache that is up to date remembers.
    pub fn change_cursor(&self) -> ChangeCursor {
        ChangeCursor {
            uid: self.uid,
            position: self.change_base + self.change_log.len() as u64,
            generation: self.change_log.last().map_or(0, |&(_, g)| g),
        }
    }

    /// The nodes that changed since `cursor` was taken, oldest first (a node may appear
    /// more than once), or `None` when the log cannot tell: the cursor belongs to another
    /// cluster or to a copy that has diverged from this one at that point, or the log no
    /// longer reaches back that far. On `None` a cache rescans every node.
    pub fn changes_since(
        &self,
        cursor: ChangeCursor,
    ) -> Option<impl Iterator<Item = NodeId> + Clone + '_> {
        if cursor.uid != self.uid || cursor.position <= self.change_base {
            return None;
        }
        let at = usize::try_from(cursor.position - self.change_base).ok()?;
        // The change just before the cursor must be the one the cursor saw: copies share
        // their history up to the copy and hand out distinct generations after it.
        if self.change_log.get(at - 1).map(|&(_, g)| g) != Some(cursor.generation) {
            return None;
        }
        Some(self.change_log[at..].iter().map(|&(node, _)| node))
    }

    /// A node joined, left or changed readiness.
    fn node_set_changed(&mut self) {
        self.node_set_generation = self.next_generation();
    }

    /// The names of resource kinds in this cluster.
    pub fn resource_names(&self) -> &ResourceNames {
        &self.names
    }

    /// Names one more extended resource (or finds it), for a host that learns of
    /// resources while it runs, as the real control plane does from the objects it is
    /// sent. Kinds already named keep their slot, so nothing charged so far moves.
    pub fn intern_resource(
        &mut self,
        name: &str,
    ) -> Result<ResourceKind, TooManyExtendedResources> {
        self.names.intern(name)
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

    /// Adds a node and returns its id (ids are dense and never reused).
    pub fn add_node(&mut self, spec: NodeSpec) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        if spec.gpu.count > 0 && self.gpu.is_none() {
            self.gpu = Some(Box::new(GpuBooks::with_gpuless_nodes(self.nodes.len())));
        }
        if let Some(books) = &mut self.gpu {
            books.push_node(spec.gpu.count);
        }
        self.images.push_node(id, &spec.images);
        let node = Node::new(spec);
        if node.ready {
            self.ready_capacity += node.spec.allocatable;
            self.ready_nodes += 1;
        }
        // The first node of a name keeps it (scenario loaders refuse duplicates anyway).
        self.node_names.entry(node.spec.name.clone()).or_insert(id);
        self.present_nodes += 1;
        self.rows.push(NodeRow::new(&node));
        self.nodes.push(node);
        self.generations.push(0);
        self.touch(id);
        self.node_set_changed();
        id
    }

    /// Takes a node out of the cluster. Refused while pods are bound to it: the host
    /// evicts them first. Its id stays taken; a node of the same name that joins again
    /// gets a new one.
    pub fn remove_node(&mut self, id: NodeId) -> Result<(), NodeError> {
        let node = self
            .nodes
            .get(id.index())
            .filter(|n| !n.removed)
            .ok_or(NodeError::NoSuchNode)?;
        if !node.pods.is_empty() {
            return Err(NodeError::HasPods(node.pods.len()));
        }
        self.set_ready(id, false)?;
        self.nodes[id.index()].removed = true;
        if self.node_names.get(self.nodes[id.index()].name()) == Some(&id) {
            self.node_names.remove(self.nodes[id.index()].name());
        }
        self.present_nodes -= 1;
        self.images.remove_node(id);
        if let Some(books) = self.gpu.as_deref_mut() {
            books.remove_node_capacity(id);
        }
        self.touch(id);
        self.node_set_changed();
        Ok(())
    }

    /// Sets a node's Ready condition. A node that is not ready takes no new pods and its
    /// capacity leaves [`ClusterState::ready_capacity`]; its pods stay where they are.
    pub fn set_ready(&mut self, id: NodeId, ready: bool) -> Result<(), NodeError> {
        let node = self
            .nodes
            .get_mut(id.index())
            .filter(|n| !n.removed)
            .ok_or(NodeError::NoSuchNode)?;
        if node.ready == ready {
            return Ok(());
        }
        node.ready = ready;
        if ready {
            self.ready_capacity += node.spec.allocatable;
            self.ready_nodes += 1;
        } else {
            self.ready_capacity -= node.spec.allocatable;
            self.ready_nodes -= 1;
        }
        self.refresh_row(id);
        self.touch(id);
        self.node_set_changed();
        Ok(())
    }

    /// Changes a node's allocatable, as a kubelet that restarts on a resized machine
    /// reports it. Refused when the pods bound to it would not fit: the kubelet rejects
    /// pods at its re-admission first. GPUs of the GPU-sharing model stay as they are.
    pub fn set_allocatable(&mut self, id: NodeId, allocatable: Resources) -> Result<(), NodeError> {
        let node = self
            .nodes
            .get_mut(id.index())
            .filter(|n| !n.removed)
            .ok_or(NodeError::NoSuchNode)?;
        if node.spec.allocatable == allocatable {
            return Ok(());
        }
        if !node.requested.fits_in(&allocatable) {
            return Err(NodeError::WouldOvercommit);
        }
        if node.ready {
            self.ready_capacity -= node.spec.allocatable;
            self.ready_capacity += allocatable;
        }
        node.spec.allocatable = allocatable;
        let fresh = NodeRow::new(node);
        let row = &mut self.rows[id.index()];
        *row = NodeRow {
            nonzero_cpu: row.nonzero_cpu,
            nonzero_memory: row.nonzero_memory,
            ..fresh
        };
        self.touch(id);
        Ok(())
    }

    /// Cordons (`true`) or uncordons a node: `spec.unschedulable`, as `kubectl cordon`
    /// sets it. Its pods stay.
    pub fn set_unschedulable(&mut self, id: NodeId, unschedulable: bool) -> Result<(), NodeError> {
        let node = self
            .nodes
            .get_mut(id.index())
            .filter(|n| !n.removed)
            .ok_or(NodeError::NoSuchNode)?;
        if node.spec.unschedulable != unschedulable {
            node.spec.unschedulable = unschedulable;
            self.refresh_row(id);
            self.touch(id);
        }
        Ok(())
    }

    /// Replaces a node's taints (as the node lifecycle controller or `kubectl taint` do).
    pub fn set_taints(
        &mut self,
        id: NodeId,
        taints: Vec<crate::taints::Taint>,
    ) -> Result<(), NodeError> {
        let node = self
            .nodes
            .get_mut(id.index())
            .filter(|n| !n.removed)
            .ok_or(NodeError::NoSuchNode)?;
        if node.spec.taints != taints {
            node.spec.taints = taints;
            self.refresh_row(id);
            self.touch(id);
        }
        Ok(())
    }

    /// The images nodes hold ([`crate::images`]).
    #[inline]
    pub fn images(&self) -> &ImageBooks {
        &self.images
    }

    /// Records that a node now holds `image` (the kubelet pulled it); returns whether the
    /// node did not hold it before.
    pub fn add_node_image(&mut self, id: NodeId, image: &NodeImage) -> Result<bool, NodeError> {
        let node = self
            .nodes
            .get_mut(id.index())
            .filter(|n| !n.removed)
            .ok_or(NodeError::NoSuchNode)?;
        if !self.images.add(id, image) {
            return Ok(false);
        }
        let names = &image.names;
        match node.spec.images.iter_mut().find(|i| i.names == *names) {
            Some(held) => held.size_bytes = held.size_bytes.max(image.size_bytes),
            None => node.spec.images.push(image.clone()),
        }
        self.touch(id);
        Ok(true)
    }

    /// Recomputes the flags of a node's dense row after its spec or condition changed
    /// (its charges are kept as they are).
    fn refresh_row(&mut self, id: NodeId) {
        let row = &mut self.rows[id.index()];
        let fresh = NodeRow::new(&self.nodes[id.index()]);
        row.plain = fresh.plain;
    }

    /// Every node slot, including nodes that left ([`Node::removed`]).
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

    /// The node of that name in the cluster now, if any.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.node_names.get(name).copied()
    }

    /// Number of nodes that are in the cluster and ready now.
    #[inline]
    pub fn ready_node_count(&self) -> usize {
        self.ready_nodes
    }

    /// Number of nodes in the cluster now, ready or not (those that left excluded).
    #[inline]
    pub fn present_node_count(&self) -> usize {
        self.present_nodes
    }

    /// Adds a pending pod.
    pub fn add_pod(&mut self, mut pod: Pod) -> PodId {
        pod.phase = PodPhase::Pending;
        pod.node = None;
        pod.terminating = false;
        pod.namespace_id = self.namespaces.intern(&pod.template.namespace);
        self.pending_pods += 1;
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
        if pod.nominated_node.take().is_some() {
            self.nominated.retain(|&p| p != pod_id);
        }
        self.pending_pods -= 1;
        self.bound_pods += 1;
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
        let (group, gpus, milli) = (pod.template.pod_group, pod.gpus, pod.template.gpu.milli);
        if has_pod_affinity(pod) {
            self.bound_with_pod_affinity -= 1;
        }
        self.namespaces.charge(pod.namespace_id, &requests, -1);
        self.count_in_group(group, -1);
        if gpus != 0
            && let Some(books) = self.gpu.as_deref_mut()
        {
            books.apply(node_id, milli, gpus, -1);
        }
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
        p.gpus = 0;
        self.pending_pods += 1;
        self.bound_pods -= 1;
        self.touch(node_id);
        Ok(node_id)
    }

    /// Turns a pod bound in this cycle (`Bound`, not started, not terminating) into one
    /// waiting at Permit ([`PodPhase::Waiting`]): it keeps its node, its charges and its
    /// GPUs, so no other pod can take them, but counts as pending and towards its group's
    /// [`ClusterState::group_waiting`] instead of [`ClusterState::group_bound`].
    pub fn hold(&mut self, pod_id: PodId) -> Result<NodeId, BindError> {
        let pod = self.pods.get_mut(pod_id).ok_or(BindError::NoSuchPod)?;
        if pod.phase != PodPhase::Bound || pod.terminating {
            return Err(BindError::NotBound);
        }
        let node = pod.node.ok_or(BindError::NotBound)?;
        pod.phase = PodPhase::Waiting;
        let group = pod.template.pod_group;
        self.count_in_group(group, -1);
        if let Some(n) = group.and_then(|g| self.group_waiting.get_mut(g as usize)) {
            *n += 1;
        }
        self.bound_pods -= 1;
        self.pending_pods += 1;
        self.waiting.push(pod_id);
        Ok(node)
    }

    /// Lets a pod waiting at Permit through: it is bound to the node it holds, as if
    /// [`ClusterState::bind`] had just bound it there.
    pub fn permit(&mut self, pod_id: PodId) -> Result<NodeId, BindError> {
        let pod = self.pods.get_mut(pod_id).ok_or(BindError::NoSuchPod)?;
        if pod.phase != PodPhase::Waiting {
            return Err(BindError::NotBound);
        }
        let node = pod.node.ok_or(BindError::NotBound)?;
        pod.phase = PodPhase::Bound;
        let group = pod.template.pod_group;
        self.count_in_group(group, 1);
        self.stop_waiting(pod_id, group);
        self.bound_pods += 1;
        self.pending_pods -= 1;
        Ok(node)
    }

    /// Rejects a pod waiting at Permit (coscheduling's timeout, or its group rejected):
    /// it gives up the node it held, which is left exactly as if the pod had never been
    /// placed there, and is pending again. Returns the node it held.
    pub fn release(&mut self, pod_id: PodId) -> Result<NodeId, BindError> {
        let pod = self.pods.get(pod_id).ok_or(BindError::NoSuchPod)?;
        if pod.phase != PodPhase::Waiting {
            return Err(BindError::NotBound);
        }
        // `unbind` undoes a bind, so first make the pod bound again, which `unbind`
        // then takes back in full (charges, GPUs, slot order, counts).
        self.permit(pod_id)?;
        self.unbind(pod_id)
    }

    /// Forgets a pod that no longer waits at Permit.
    fn stop_waiting(&mut self, pod_id: PodId, group: Option<u32>) {
        if let Some(n) = group.and_then(|g| self.group_waiting.get_mut(g as usize)) {
            *n -= 1;
        }
        if let Some(i) = self.waiting.iter().position(|&p| p == pod_id) {
            // `remove`: the list keeps the order pods began waiting in.
            self.waiting.remove(i);
        }
    }

    /// Sets a live pod's phase (the simulator's lifecycle controller calls this).
    /// Leaving a node goes through [`ClusterState::remove_pod`], not through here.
    pub fn set_phase(&mut self, pod: PodId, phase: PodPhase) {
        if let Some(p) = self.pods.get_mut(pod) {
            p.phase = phase;
        }
    }

    /// Sets how long a pod's work takes once started (a streamed trace learns a pod's
    /// only when it reads the pod's end).
    pub fn set_run_micros(&mut self, pod: PodId, micros: u64) {
        if let Some(p) = self.pods.get_mut(pod) {
            p.run_micros = micros;
        }
    }

    /// Counts an in-place restart of a pod's containers.
    pub fn record_restart(&mut self, pod: PodId) {
        if let Some(p) = self.pods.get_mut(pod) {
            p.restarts += 1;
        }
    }

    /// Records when a pod started, as an ordered stamp.
    pub fn set_start_stamp(&mut self, pod: PodId, stamp: u64) {
        if let Some(p) = self.pods.get_mut(pod) {
            p.start_stamp = stamp;
        }
    }

    /// Marks a bound pod as being deleted (it keeps its resources until removed). A pod
    /// waiting at Permit is not marked: it is rejected ([`ClusterState::release`]) or
    /// removed, never terminated.
    pub fn set_terminating(&mut self, pod: PodId) {
        if let Some(p) = self.pods.get_mut(pod)
            && !p.terminating
            && p.phase != PodPhase::Waiting
        {
            p.terminating = true;
            if let Some(node) = p.node {
                // A terminating member no longer counts towards its gang.
                let group = p.template.pod_group;
                self.bound_pods -= 1;
                self.count_in_group(group, -1);
                self.touch(node);
            }
        }
    }

    /// Records the node a preemption nominated for a pending pod.
    pub fn set_nominated_node(&mut self, pod: PodId, node: Option<NodeId>) {
        if let Some(p) = self.pods.get_mut(pod) {
            let was = std::mem::replace(&mut p.nominated_node, node);
            match (was, node) {
                (None, Some(_)) => self.nominated.push(pod),
                (Some(_), None) => self.nominated.retain(|&q| q != pod),
                _ => {}
            }
        }
    }

    /// Pending pods that a preemption nominated to a node, in nomination order.
    #[inline]
    pub fn nominated_pods(&self) -> &[PodId] {
        &self.nominated
    }

    /// Takes a pod off its node for a what-if on a copy of the cluster (preemption's dry
    /// run): the node's charges and pod list lose it, the pod keeps its id, phase and
    /// GPUs but has no node. [`ClusterState::put_back`] undoes it. Not for the live
    /// cluster: counts that follow pods' lifecycles (namespaces, gangs) are left as they
    /// were.
    pub fn set_aside(&mut self, pod_id: PodId) -> Result<NodeId, BindError> {
        let pod = self.pods.get(pod_id).ok_or(BindError::NoSuchPod)?;
        let node_id = pod.node.ok_or(BindError::NotBound)?;
        if has_pod_affinity(pod) {
            self.bound_with_pod_affinity -= 1;
        }
        let (requests, gpus, milli) = (pod.requests, pod.gpus, pod.template.gpu.milli);
        let (nonzero_cpu, nonzero_memory) = (pod.nonzero_cpu, pod.nonzero_memory);
        let slot = pod.slot_on_node as usize;
        let node = &mut self.nodes[node_id.index()];
        node.requested -= requests;
        node.pods.swap_remove(slot);
        if let Some(&moved) = node.pods.get(slot) {
            self.pods[moved].slot_on_node = slot as u32;
        }
        let row = &mut self.rows[node_id.index()];
        row.free += requests;
        row.nonzero_cpu -= nonzero_cpu;
        row.nonzero_memory -= nonzero_memory;
        if gpus != 0
            && let Some(books) = self.gpu.as_deref_mut()
        {
            books.apply(node_id, milli, gpus, -1);
        }
        let p = &mut self.pods[pod_id];
        p.node = None;
        p.slot_on_node = u32::MAX;
        self.touch(node_id);
        Ok(node_id)
    }

    /// Returns a pod [`ClusterState::set_aside`] took off `node_id`, with the same GPUs.
    pub fn put_back(&mut self, pod_id: PodId, node_id: NodeId) -> Result<(), BindError> {
        let pod = self.pods.get_mut(pod_id).ok_or(BindError::NoSuchPod)?;
        if pod.node.is_some() {
            return Err(BindError::NotPending);
        }
        let node = self
            .nodes
            .get_mut(node_id.index())
            .ok_or(BindError::NoSuchNode)?;
        let row = &mut self.rows[node_id.index()];
        row.free -= pod.requests;
        row.nonzero_cpu += pod.nonzero_cpu;
        row.nonzero_memory += pod.nonzero_memory;
        node.requested += pod.requests;
        pod.slot_on_node = node.pods.len() as u32;
        node.pods.push(pod_id);
        pod.node = Some(node_id);
        if pod.gpus != 0
            && let Some(books) = self.gpu.as_deref_mut()
        {
            books.apply(node_id, pod.template.gpu.milli, pod.gpus, 1);
        }
        if has_pod_affinity(pod) {
            self.bound_with_pod_affinity += 1;
        }
        self.touch(node_id);
        Ok(())
    }

    /// Removes a pod from the cluster, releasing what it held on its node. Returns the
    /// removed pod, or `None` if it was already gone.
    pub fn remove_pod(&mut self, pod_id: PodId) -> Option<Pod> {
        let pod = self.pods.remove(pod_id)?;
        if pod.nominated_node.is_some() {
            self.nominated.retain(|&p| p != pod_id);
        }
        let waiting = pod.phase == PodPhase::Waiting;
        if waiting {
            self.stop_waiting(pod_id, pod.template.pod_group);
        }
        match (pod.node, pod.terminating) {
            (None, _) => self.pending_pods -= 1,
            (Some(_), _) if waiting => self.pending_pods -= 1,
            (Some(_), false) => self.bound_pods -= 1,
            (Some(_), true) => {}
        }
        if let Some(node_id) = pod.node {
            if has_pod_affinity(&pod) {
                self.bound_with_pod_affinity -= 1;
            }
            self.namespaces.charge(pod.namespace_id, &pod.requests, -1);
            if !pod.terminating && !waiting {
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
        let mut ready_capacity = Resources::ZERO;
        let (mut present, mut ready) = (0, 0);
        for node in &self.nodes {
            if node.removed && (node.ready || !node.pods.is_empty()) {
                return Err(format!(
                    "node {} left but is ready or holds pods",
                    node.name()
                ));
            }
            present += usize::from(!node.removed);
            if node.ready {
                ready += 1;
                ready_capacity += node.spec.allocatable;
            }
        }
        if (present, ready) != (self.present_nodes, self.ready_nodes)
            || ready_capacity != self.ready_capacity
        {
            return Err(format!(
                "node counts ({}, {}) and ready capacity {:?} but the nodes give ({present}, {ready}) and {ready_capacity:?}",
                self.present_nodes, self.ready_nodes, self.ready_capacity
            ));
        }
        let nominated = self
            .pods
            .values()
            .filter(|p| p.nominated_node.is_some())
            .count();
        if nominated != self.nominated.len()
            || self
                .nominated
                .iter()
                .any(|&p| self.pods.get(p).is_none_or(|p| p.nominated_node.is_none()))
        {
            return Err(format!(
                "{nominated} pods have a nominated node but the list of nominations holds {}",
                self.nominated.len()
            ));
        }
        let waiting = |p: &Pod| p.phase == PodPhase::Waiting;
        if let Some(p) = self
            .pods
            .values()
            .find(|p| waiting(p) && (p.node.is_none() || p.terminating))
        {
            return Err(format!(
                "pod {} waits at Permit without a node or while terminating",
                p.name()
            ));
        }
        let pending = self
            .pods
            .values()
            .filter(|p| p.node.is_none() || waiting(p))
            .count() as u64;
        let bound = self
            .pods
            .values()
            .filter(|p| p.node.is_some() && !p.terminating && !waiting(p))
            .count() as u64;
        if (pending, bound) != (self.pending_pods, self.bound_pods) {
            return Err(format!(
                "pod counts say {} pending and {} bound, the pods say {pending} and {bound}",
                self.pending_pods, self.bound_pods
            ));
        }
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
        let mut group_waiting = vec![0u32; self.pod_groups.len()];
        for pod in self.pods.values() {
            let counts = if waiting(pod) {
                &mut group_waiting
            } else {
                &mut group_bound
            };
            if let Some(g) = pod.template.pod_group
                && pod.node.is_some()
                && !pod.terminating
                && let Some(n) = counts.get_mut(g as usize)
            {
                *n += 1;
            }
        }
        if group_bound != self.group_bound || group_waiting != self.group_waiting {
            return Err(format!(
                "pod group counts {:?} bound, {:?} waiting, but the members are {:?} and {:?}",
                self.group_bound, self.group_waiting, group_bound, group_waiting
            ));
        }
        let mut listed = self.waiting.clone();
        listed.sort();
        listed.dedup();
        let in_phase = self.pods.values().filter(|p| waiting(p)).count();
        if listed.len() != self.waiting.len()
            || in_phase != listed.len()
            || listed
                .iter()
                .any(|&p| self.pods.get(p).is_none_or(|p| !waiting(p)))
        {
            return Err(format!(
                "{in_phase} pods wait at Permit but the waiting list holds {:?}",
                self.waiting
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
        assert_eq!(c.clone().uid(), c.uid(), "a clone is the same cluster");
        assert_ne!(cluster(2, 1000).uid(), c.uid());
    }

    #[test]
    fn copies_never_hand_out_the_same_generation() {
        let mut a = cluster(2, 1000);
        let mut b = a.clone();
        assert_eq!(a.generations(), b.generations(), "a copy starts identical");
        let (p, q) = (a.add_pod(pod(100)), b.add_pod(pod(200)));
        a.bind(p, NodeId(0)).unwrap();
        b.bind(q, NodeId(0)).unwrap();
        assert_ne!(
            a.generations()[0],
            b.generations()[0],
            "node 0 differs between the copies, so must its generation"
        );
        assert_eq!(
            a.generations()[1],
            b.generations()[1],
            "node 1 is untouched"
        );
        let before = a.node_set_generation();
        a.set_unschedulable(NodeId(1), true).unwrap();
        assert_eq!(
            a.node_set_generation(),
            before,
            "a cordon keeps the node set"
        );
        a.set_ready(NodeId(1), false).unwrap();
        assert_ne!(a.node_set_generation(), before);
        assert_ne!(a.node_set_generation(), b.node_set_generation());
    }

    #[test]
    fn the_change_log_follows_changes_and_refuses_other_histories() {
        let mut c = cluster(3, 1000);
        let start = c.change_cursor();
        let a = c.add_pod(pod(100));
        c.bind(a, NodeId(2)).unwrap();
        c.set_unschedulable(NodeId(0), true).unwrap();
        let seen: Vec<NodeId> = c.changes_since(start).unwrap().collect();
        assert_eq!(seen, [NodeId(2), NodeId(0)]);
        let now = c.change_cursor();
        assert_eq!(c.changes_since(now).unwrap().count(), 0);
        // A copy shares the history up to the copy, not after it.
        let mut copy = c.clone();
        assert_eq!(copy.changes_since(start).unwrap().count(), 2);
        c.remove_pod(a);
        let after_c = c.change_cursor();
        copy.set_unschedulable(NodeId(1), true).unwrap();
        assert!(
            copy.changes_since(after_c).is_none(),
            "c's change is not copy's"
        );
        assert_eq!(
            copy.changes_since(now).unwrap().collect::<Vec<_>>(),
            [NodeId(1)]
        );
        assert!(
            cluster(3, 1000).changes_since(now).is_none(),
            "another cluster"
        );
        // A long history is trimmed: a cursor from before the trim asks for a rescan.
        for _ in 0..CHANGE_LOG_LIMIT {
            c.set_unschedulable(NodeId(0), true).unwrap();
            c.set_unschedulable(NodeId(0), false).unwrap();
        }
        assert!(c.changes_since(start).is_none());
        let recent = c.change_cursor();
        c.set_unschedulable(NodeId(1), true).unwrap();
        assert_eq!(c.changes_since(recent).unwrap().count(), 1);
    }

    #[test]
    fn a_node_shrinks_only_to_what_its_pods_fit_in() {
        let mut c = cluster(2, 1000);
        let a = c.add_pod(pod(600));
        c.bind(a, NodeId(0)).unwrap();
        let before = c.change_cursor();
        let mut smaller = c.node(NodeId(0)).spec.allocatable;
        smaller.set(ResourceKind::CPU, 500);
        assert_eq!(
            c.set_allocatable(NodeId(0), smaller),
            Err(NodeError::WouldOvercommit)
        );
        assert_eq!(
            c.changes_since(before).unwrap().count(),
            0,
            "a refusal changes nothing"
        );
        smaller.set(ResourceKind::CPU, 700);
        c.set_allocatable(NodeId(0), smaller).unwrap();
        assert_eq!(c.rows()[0].free.cpu(), 100);
        assert_eq!(c.rows()[0].allocatable_cpu, 700);
        assert_eq!(c.ready_capacity().cpu(), 1700);
        let seen: Vec<NodeId> = c.changes_since(before).unwrap().collect();
        assert_eq!(seen, [NodeId(0)]);
        c.check_invariants().unwrap();
        // A node that is not ready keeps its capacity out of the ready total.
        c.set_ready(NodeId(1), false).unwrap();
        let mut larger = c.node(NodeId(1)).spec.allocatable;
        larger.set(ResourceKind::CPU, 4000);
        c.set_allocatable(NodeId(1), larger).unwrap();
        assert_eq!(c.ready_capacity().cpu(), 700);
        c.set_ready(NodeId(1), true).unwrap();
        assert_eq!(c.ready_capacity().cpu(), 4700);
        c.check_invariants().unwrap();
    }

    #[test]
    fn nodes_leave_become_unready_and_join_again() {
        let mut c = cluster(2, 1000);
        let a = c.add_pod(pod(600));
        c.bind(a, NodeId(0)).unwrap();
        assert_eq!((c.pending_pod_count(), c.bound_pod_count()), (0, 1));
        assert_eq!(c.remove_node(NodeId(0)), Err(NodeError::HasPods(1)));
        c.remove_pod(a).unwrap();
        c.remove_node(NodeId(0)).unwrap();
        assert_eq!(c.remove_node(NodeId(0)), Err(NodeError::NoSuchNode));
        assert_eq!((c.present_node_count(), c.ready_node_count()), (1, 1));
        assert_eq!(c.ready_capacity().cpu(), 1000);
        let b = c.add_pod(pod(100));
        assert_eq!(c.bind(b, NodeId(0)), Err(BindError::NoSuchNode));
        c.set_ready(NodeId(1), false).unwrap();
        assert_eq!(
            c.bind(b, NodeId(1)),
            Err(BindError::NoSuchNode),
            "not ready"
        );
        assert_eq!(c.ready_capacity().cpu(), 0);
        c.set_ready(NodeId(1), true).unwrap();
        c.set_unschedulable(NodeId(1), true).unwrap();
        assert!(!c.rows()[1].plain, "a cordoned node is not plain");
        c.set_unschedulable(NodeId(1), false).unwrap();
        let again = c.add_node(NodeSpec {
            name: "n0".into(),
            ..c.node(NodeId(0)).spec.clone()
        });
        assert_eq!(again, NodeId(2), "a node that joins again gets a new id");
        assert_eq!(c.node_id("n0"), Some(again));
        assert_eq!(c.node_id("n1"), Some(NodeId(1)));
        c.bind(b, again).unwrap();
        assert_eq!((c.pending_pod_count(), c.bound_pod_count()), (0, 1));
        c.set_terminating(b);
        assert_eq!(
            c.bound_pod_count(),
            0,
            "a terminating pod is no longer counted"
        );
        c.check_invariants().unwrap();
    }
}
