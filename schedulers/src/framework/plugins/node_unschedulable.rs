//! NodeUnschedulable: cordoned nodes take only pods that tolerate the
//! `node.kubernetes.io/unschedulable:NoSchedule` taint.

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Plugin, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::reason::Reason;
use crate::taints::{TaintEffect, TolerationOperator};

/// The NodeUnschedulable plugin.
#[derive(Debug, Default, Clone)]
pub struct NodeUnschedulable;

impl NodeUnschedulable {
    /// Its name.
    pub const NAME: &'static str = "NodeUnschedulable";
    /// Where it runs.
    pub const POINTS: Points = Points::FILTER;
    /// Upstream's reason for a cordoned node.
    pub const REASON: &'static str = "node(s) were unschedulable";
    /// The taint a pod must tolerate to land on a cordoned node.
    pub const TAINT_KEY: &'static str = "node.kubernetes.io/unschedulable";
}

impl Plugin for NodeUnschedulable {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn filter(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        // A plain node is schedulable by definition; only others need the node record.
        if cluster.rows()[node.index()].plain || !cluster.node(node).spec.unschedulable {
            return Status::success();
        }
        let tolerated = pod.template.tolerations.iter().any(|t| {
            (t.key.is_empty() || t.key == Self::TAINT_KEY)
                && t.effect.is_none_or(|e| e == TaintEffect::NoSchedule)
                && (t.operator == TolerationOperator::Exists || t.value.is_empty())
        });
        if tolerated {
            Status::success()
        } else {
            Status::unresolvable(Reason::Unschedulable)
        }
    }

    /// Reads only the node's flag and taints and the pod's tolerations, which a pod
    /// without node constraints does not have.
    fn filter_by_shape(&self) -> bool {
        true
    }
}
