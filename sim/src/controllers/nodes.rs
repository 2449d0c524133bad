//! Node lifecycle: the nodes the cluster starts with, and nodes joining, leaving, changing
//! condition and being cordoned during a run.
//!
//! A node that leaves is first marked not ready, so nothing new lands on it; its pods are
//! then evicted at once (their controllers replace them elsewhere, as Kubernetes'
//! pod garbage collector and ReplicaSets do for the pods of a deleted Node), and then it
//! leaves. A node that joins again under the same name is a new node with a new id.
//! A node that turns not ready keeps its pods here; taint-based eviction after
//! `tolerationSeconds` is not modelled yet.
//!
//! A node resized (a trace's machine whose capacity changed) takes its new allocatable
//! at once when its pods fit in it. Otherwise the kubelet, which a resized machine
//! restarts, admits its pods again oldest first (upstream's `HandlePodAdditions` sorts
//! by creation time and runs admission for each against what the admitted ones leave)
//! and rejects those that no longer fit (`OutOfcpu`, `OutOfmemory`): they fail at once,
//! evicted as [`EvictionReason::NodeResized`], and their controllers replace them;
//! pods already terminating do not come back. Then the node takes its new size, in the
//! same instant. Simplified: the node stays Ready throughout (a kubelet restart is
//! shorter than the node monitor's grace period), and GPUs keep their count.

use schedulers::{NodeId, NodeSpec, Resources};

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
    /// The named node's allocatable becomes this; pods that no longer fit are rejected.
    Resize(String, Resources),
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
    /// A shrinking node's rejected pods are gone: it takes the size of scripted action
    /// `action` (follow-up work).
    Resize {
        /// The node.
        node: NodeId,
        /// The [`NodeAction::Resize`] it performs.
        action: u32,
        /// Pods were rejected for it once already (it then keeps its size rather than
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
            NodeAction::Resize(name, _) => {
                if let Some(node) = ctx.cluster.node_id(name) {
                    self.resize(node, index as u32, false, ctx);
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

    /// Gives `node` the size of scripted action `action` now if its pods fit in it, else
    /// rejects the pods the kubelet's admission would and does it once they are gone.
    fn resize(&mut self, node: NodeId, action: u32, retried: bool, ctx: &mut Ctx<'_>) {
        let Some(NodeAction::Resize(_, allocatable)) = self.actions.get(action as usize) else {
            return;
        };
        let before = ctx.cluster.node(node).spec.allocatable;
        if ctx.cluster.set_allocatable(node, *allocatable).is_ok() {
            if before != *allocatable {
                ctx.publish(Fact::NodeResized {
                    node,
                    cpu_before: before.cpu(),
                    memory_before: before.memory(),
                });
            }
            return;
        }
        if retried {
            return;
        }
        for pod in rejected_at_admission(ctx, node, allocatable) {
            ctx.then(Event::Kubelet(KubeletEvent::Evict {
                pod,
                reason: EvictionReason::NodeResized,
            }));
        }
        ctx.then(Event::Nodes(NodeEvent::Resize {
            node,
            action,
            retried: true,
        }));
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
            NodeEvent::Resize {
                node,
                action,
                retried,
            } => {
                if !ctx.cluster.node(node).removed {
                    self.resize(node, action, retried, ctx);
                }
            }
        }
    }
}

/// The pods of `node` a kubelet restarting with `allocatable` does not admit again: it
/// admits them oldest first (by creation, then start, then id), each against what the
/// ones before it leave; a pod that does not fit is rejected and the next is tried.
/// Terminating pods are not admitted again at all.
fn rejected_at_admission(
    ctx: &Ctx<'_>,
    node: NodeId,
    allocatable: &Resources,
) -> Vec<schedulers::PodId> {
    // Admission order (oldest first) with what each pod needs, read in one pass.
    let mut pods: Vec<(u64, u64, schedulers::PodId, bool, Resources)> = ctx
        .cluster
        .node(node)
        .pods
        .iter()
        .filter_map(|&id| {
            let p = ctx.cluster.pod(id)?;
            Some((
                p.created_stamp,
                p.start_stamp,
                id,
                p.terminating,
                p.requests,
            ))
        })
        .collect();
    pods.sort_unstable_by_key(|&(created, start, id, ..)| (created, start, id));
    let mut room = *allocatable;
    let mut rejected = Vec::new();
    for (_, _, id, terminating, requests) in pods {
        if !terminating && requests.fits_in(&room) {
            room -= requests;
        } else {
            rejected.push(id);
        }
    }
    rejected
}
