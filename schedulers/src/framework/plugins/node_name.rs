//! NodeName: a pod whose `spec.nodeName` is set fits only that node.

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Plugin, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::reason::Reason;

/// The NodeName plugin.
#[derive(Debug, Default, Clone)]
pub struct NodeName;

impl NodeName {
    /// Its name.
    pub const NAME: &'static str = "NodeName";
    /// Where it runs: PreFilter only to skip Filter for the pods that name no node.
    pub const POINTS: Points = Points {
        pre_filter: true,
        filter: true,
        pre_score: false,
        score: false,
    };
    /// Upstream's reason.
    pub const REASON: &'static str = "node(s) didn't match the requested node name";
}

impl Plugin for NodeName {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, _cluster: &ClusterState) -> Status {
        // Most pods name no node; skipping Filter for them saves a call per node and
        // changes no verdict.
        if pod.template.node_name.is_some() {
            Status::success()
        } else {
            Status::skip()
        }
    }

    fn filter(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        match &pod.template.node_name {
            Some(name) if name != cluster.node(node).name() => {
                Status::unresolvable(Reason::NodeName)
            }
            _ => Status::success(),
        }
    }
}
