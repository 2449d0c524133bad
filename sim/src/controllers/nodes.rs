//! Node lifecycle: the nodes the cluster starts with, and nodes joining, leaving, changing
//! condition and being cordoned during a run.
//!
//! A node that leaves is first marked not ready, so nothing new lands on it; its pods are
//! then evicted at once (their controllers replace them elsewhere, as Kubernetes'
//! pod garbage collector and ReplicaSets do for the pods of a deleted Node), and then it
//! leaves. A node that joins again under the same name is a new node with a new id.
//! A node that turns not ready keeps its pods here; taint-based eviction after
//! `tolerationSeconds` is not modelled yet.

use schedulers::{NodeId, NodeSpec};

use crate::controllers::Controller;
use crate::controllers::kubelet::KubeletEvent;
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact};

/// A change to the cluster's nodes, scripted at a time (see
/// [`crate::Simulation::schedule_node_action`]).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeAction {
    /// A node joins.
    Add(NodeSpec),
    /// The named node leaves, its pods evicted.
    Remove(String),
    /// The named node's Ready condition becomes this.
    SetReady(String, bool),
    /// The named node is cordoned (`true`) or uncordoned.
    Cordon(String, bool),
}

/// Node lifecycle's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeEvent {
    /// The scripted action with this index happens.
    Scripted {
        /// Its index in the order actions were scheduled.
        action: u32,
    },
    /// A leaving node's pods are gone: it leaves (follow-up work).
    Leave {
        /// The node.
        node: NodeId,
        /// Pods were found on it once already (it then stays, not ready, rather than
        /// loop).
        retried: bool,
    },
}

/// Adds, removes and changes nodes.
#[derive(Debug, Default)]
pub struct NodeLifecycle {
    actions: Vec<NodeAction>,
}

/// A node joins the cluster: what every controller that adds nodes does (scripted
/// actions, the cluster autoscaler).
pub(crate) fn join(spec: NodeSpec, ctx: &mut Ctx<'_>) -> NodeId {
    let node = ctx.cluster.add_node(spec);
    ctx.publish(Fact::NodeAdded { node });
    node
}

/// An empty node leaves the cluster; false (and nothing changes) while pods are on it.
pub(crate) fn leave(node: NodeId, ctx: &mut Ctx<'_>) -> bool {
    let left = ctx.cluster.remove_node(node).is_ok();
    if left {
        ctx.publish(Fact::NodeRemoved { node });
    }
    left
}

impl NodeLifecycle {
    /// Adds the nodes the cluster starts with.
    pub(crate) fn start(nodes: &[NodeSpec], ctx: &mut Ctx<'_>) -> NodeLifecycle {
        for spec in nodes {
            join(spec.clone(), ctx);
        }
        NodeLifecycle::default()
    }

    /// Remembers an action and returns the event that performs it.
    pub(crate) fn script(&mut self, action: NodeAction) -> Event {
        self.actions.push(action);
        Event::Nodes(NodeEvent::Scripted {
            action: (self.actions.len() - 1) as u32,
        })
    }

    fn perform(&mut self, index: usize, ctx: &mut Ctx<'_>) {
        let Some(action) = self.actions.get(index) else {
            return;
        };
        match action {
            NodeAction::Add(spec) => {
                join(spec.clone(), ctx);
            }
            NodeAction::Remove(name) => {
                let Some(node) = ctx.cluster.node_id(name) else {
                    return;
                };
                if ctx.cluster.node(node).ready && ctx.cluster.set_ready(node, false).is_ok() {
                    ctx.publish(Fact::NodeReady { node, ready: false });
                }
                for &pod in &ctx.cluster.node(node).pods.clone() {
                    ctx.then(Event::Kubelet(KubeletEvent::Evict {
                        pod,
                        reason: EvictionReason::NodeRemoved,
                    }));
                }
                ctx.then(Event::Nodes(NodeEvent::Leave {
                    node,
                    retried: false,
                }));
            }
            NodeAction::SetReady(name, ready) => {
                if let Some(node) = ctx.cluster.node_id(name)
                    && ctx.cluster.node(node).ready != *ready
                    && ctx.cluster.set_ready(node, *ready).is_ok()
                {
                    ctx.publish(Fact::NodeReady {
                        node,
                        ready: *ready,
                    });
                }
            }
            NodeAction::Cordon(name, unschedulable) => {
                if let Some(node) = ctx.cluster.node_id(name)
                    && ctx.cluster.node(node).spec.unschedulable != *unschedulable
                    && ctx.cluster.set_unschedulable(node, *unschedulable).is_ok()
                {
                    ctx.publish(Fact::NodeCordoned {
                        node,
                        unschedulable: *unschedulable,
                    });
                }
            }
        }
    }

    fn leave(&mut self, node: NodeId, retried: bool, ctx: &mut Ctx<'_>) {
        if !leave(node, ctx) && !retried && !ctx.cluster.node(node).removed {
            // A pod landed meanwhile (none should: the node is not ready); evict it too.
            for &pod in &ctx.cluster.node(node).pods.clone() {
                ctx.then(Event::Kubelet(KubeletEvent::Evict {
                    pod,
                    reason: EvictionReason::NodeRemoved,
                }));
            }
            ctx.then(Event::Nodes(NodeEvent::Leave {
                node,
                retried: true,
            }));
        }
    }
}

impl Controller for NodeLifecycle {
    type Event = NodeEvent;

    fn on(&mut self, event: NodeEvent, ctx: &mut Ctx<'_>) {
        match event {
            NodeEvent::Scripted { action } => self.perform(action as usize, ctx),
            NodeEvent::Leave { node, retried } => self.leave(node, retried, ctx),
        }
    }
}
