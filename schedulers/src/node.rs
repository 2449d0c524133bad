//! Nodes: what each offers and what is already charged to it.

use crate::labels::Labels;
use crate::pod::PodId;
use crate::resources::Resources;
use crate::taints::Taint;

/// A node's index in the cluster's node list. Nodes are never renumbered: a node that
/// leaves keeps its slot, marked [`Node::removed`], and a node that joins again under the
/// same name gets a new id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The index into node arrays.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a node is: its name, capacity for pods, labels and taints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSpec {
    /// The node's name.
    pub name: String,
    /// What pods may request in total (`status.allocatable`).
    pub allocatable: Resources,
    /// Node labels (zone, instance type, ...).
    pub labels: Labels,
    /// Node taints.
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// The node's GPUs, which pods may share (see [`crate::gpu`]).
    pub gpu: crate::gpu::NodeGpus,
    /// The container images it holds (`status.images`), for ImageLocality and pulls.
    pub images: Vec<crate::images::NodeImage>,
    /// How many volumes each CSI driver may attach to it (its CSINode's
    /// `spec.drivers[].allocatable.count`), by driver name; a driver not listed has no
    /// limit. NodeVolumeLimits reads it.
    pub csi_attach_limits: Vec<(String, u32)>,
}

/// A node as the scheduler sees it: its spec and what is charged to it (kube-scheduler's
/// NodeInfo). The figures scans need most are mirrored in [`crate::cluster::NodeRow`].
#[derive(Debug, Clone)]
pub struct Node {
    /// What the node is.
    pub spec: NodeSpec,
    /// Sum of the effective requests of the pods bound to it (pod slots included).
    pub requested: Resources,
    /// The pods bound to it, in no particular order.
    pub pods: Vec<PodId>,
    /// The node's Ready condition: a node that is not ready takes no new pods. Always
    /// false once the node has left the cluster.
    pub ready: bool,
    /// The node has left the cluster; its id is never reused.
    pub removed: bool,
}

impl Node {
    /// A fresh node with nothing bound.
    pub fn new(spec: NodeSpec) -> Node {
        Node {
            spec,
            requested: Resources::ZERO,
            pods: Vec::new(),
            ready: true,
            removed: false,
        }
    }

    /// Allocatable minus requested.
    #[inline]
    pub fn free(&self) -> Resources {
        self.spec.allocatable - self.requested
    }

    /// The node's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}
