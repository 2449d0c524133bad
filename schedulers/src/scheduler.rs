//! The Scheduler trait: one shape for per-pod algorithms (the kube framework, first-fit)
//! and batch algorithms (min-cost flow) alike.

use std::fmt;

use rand::rngs::ChaCha8Rng;

use crate::cluster::{BindError, ClusterState};
use crate::framework::Explanation;
use crate::node::NodeId;
use crate::pod::PodId;

/// The random stream a scheduler may draw from (tie-breaks, random placement). The host
/// seeds it from the scenario; the scheduler must use no other source of randomness.
pub type SchedulerRng = ChaCha8Rng;

/// A scheduling algorithm.
///
/// The host (the simulator, or the real agent) calls [`Scheduler::schedule`] whenever
/// pods are waiting, handing it a [`Cycle`]: a view of the cluster, the pending pods in
/// queue order (priority, then arrival), and the means to decide. A per-pod algorithm
/// decides them one by one with [`Cycle::place_each`]; a batch algorithm looks at all of
/// them first. Bindings take effect at once, so later decisions in the same cycle see the
/// resources earlier ones took ("assume" in kube-scheduler's words). A pod left without
/// a decision stays pending, as if declared unschedulable with no reason.
pub trait Scheduler: Send {
    /// The name this algorithm is registered under.
    fn name(&self) -> &str;

    /// Decides for the pods in `cycle.pending()`.
    fn schedule(&mut self, cycle: &mut Cycle<'_>);

    /// Explains, node by node, where `pod` would go now, deciding exactly as a real
    /// attempt would (and drawing from `rng` as it would) but binding nothing. `None` for
    /// algorithms that cannot explain themselves.
    fn explain(
        &mut self,
        _cluster: &ClusterState,
        _pod: PodId,
        _rng: &mut SchedulerRng,
    ) -> Option<Explanation> {
        None
    }

    /// Why this scheduler can no longer decide (an external program crashed, hung or
    /// answered garbage), or `None` while it works. The host checks it after every cycle
    /// and stops the run with this message instead of carrying on with a broken scheduler.
    fn failure(&self) -> Option<&str> {
        None
    }
}

/// Why a pod could not be placed: how many nodes were considered and how many failed for
/// each reason, rendered in kube-scheduler's wording
/// (`0/5 nodes are available: 3 Insufficient cpu, 2 node(s) were unschedulable.`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnosis {
    /// Nodes in the cluster when the attempt was made.
    pub nodes: u32,
    /// Reason and how many nodes failed for it; a node may count under several reasons.
    pub reasons: Vec<(String, u32)>,
}

impl Diagnosis {
    /// Counts one more node under `reason`.
    pub fn add(&mut self, reason: &str) {
        match self.reasons.iter_mut().find(|(r, _)| r == reason) {
            Some((_, n)) => *n += 1,
            None => self.reasons.push((reason.to_string(), 1)),
        }
    }
}

impl fmt::Display for Diagnosis {
    /// Sorted as kube-scheduler sorts them: by the whole `"<count> <reason>"` string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .reasons
            .iter()
            .map(|(r, n)| format!("{n} {r}"))
            .collect();
        parts.sort();
        write!(f, "0/{} nodes are available", self.nodes)?;
        if parts.is_empty() {
            f.write_str(".")
        } else {
            write!(f, ": {}.", parts.join(", "))
        }
    }
}

/// What a scheduler decided for one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The pod was bound to the node.
    Bound {
        /// The pod.
        pod: PodId,
        /// Its node.
        node: NodeId,
    },
    /// The pod fits on `node` once `victims` are evicted; the node is nominated for it and
    /// the host evicts the victims, then the pod is retried.
    Preempt {
        /// The preemptor.
        pod: PodId,
        /// The nominated node.
        node: NodeId,
        /// Lower-priority pods to evict from that node.
        victims: Vec<PodId>,
    },
    /// No node can take the pod now.
    Unschedulable {
        /// The pod.
        pod: PodId,
        /// Why, per node.
        diagnosis: Diagnosis,
    },
}

/// Where a per-pod algorithm wants one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Bind to this node.
    Node(NodeId),
    /// Leave pending, for these reasons.
    Unschedulable(Diagnosis),
    /// Evict `victims` from `node` so the pod fits there (it is retried afterwards).
    Preempt {
        /// The nominated node.
        node: NodeId,
        /// The pods to evict.
        victims: Vec<PodId>,
    },
}

/// One scheduling cycle: the cluster, the pending pods and the decisions made so far.
pub struct Cycle<'a> {
    cluster: &'a mut ClusterState,
    pending: &'a [PodId],
    rng: &'a mut SchedulerRng,
    decisions: &'a mut Vec<Decision>,
    now_micros: u64,
}

impl<'a> Cycle<'a> {
    /// Opens a cycle; the host calls this. `decisions` is cleared first.
    pub fn new(
        cluster: &'a mut ClusterState,
        pending: &'a [PodId],
        rng: &'a mut SchedulerRng,
        decisions: &'a mut Vec<Decision>,
    ) -> Cycle<'a> {
        decisions.clear();
        Cycle {
            cluster,
            pending,
            rng,
            decisions,
            now_micros: 0,
        }
    }

    /// Tells the scheduler the host's clock (microseconds since the run began); hosts
    /// without a clock leave it at zero. Only external schedulers look at it, to pass it on.
    pub fn at_micros(mut self, now_micros: u64) -> Cycle<'a> {
        self.now_micros = now_micros;
        self
    }

    /// The host's clock when the cycle began, in microseconds (zero if it did not say).
    #[inline]
    pub fn now_micros(&self) -> u64 {
        self.now_micros
    }

    /// The cluster, including the bindings made earlier in this cycle.
    #[inline]
    pub fn cluster(&self) -> &ClusterState {
        self.cluster
    }

    /// The pods to decide, in queue order.
    #[inline]
    pub fn pending(&self) -> &'a [PodId] {
        self.pending
    }

    /// The scheduler's random stream.
    #[inline]
    pub fn rng(&mut self) -> &mut SchedulerRng {
        self.rng
    }

    /// The cluster and the random stream at once, for algorithms that read one while
    /// drawing from the other.
    #[inline]
    pub fn cluster_and_rng(&mut self) -> (&ClusterState, &mut SchedulerRng) {
        (self.cluster, self.rng)
    }

    /// Binds a pod; refused (and nothing changes) if it does not fit or is not pending.
    pub fn bind(&mut self, pod: PodId, node: NodeId) -> Result<(), BindError> {
        self.cluster.bind(pod, node)?;
        self.decisions.push(Decision::Bound { pod, node });
        Ok(())
    }

    /// Binds a pod that asks for GPUs to the GPUs in `gpus` (a bit mask over the node's
    /// GPUs), for schedulers that choose the GPU too; refused as [`Cycle::bind`] is.
    pub fn bind_gpus(&mut self, pod: PodId, node: NodeId, gpus: u64) -> Result<(), BindError> {
        self.cluster.bind_gpus(pod, node, Some(gpus))?;
        self.decisions.push(Decision::Bound { pod, node });
        Ok(())
    }

    /// Declares a pod unschedulable for now.
    pub fn unschedulable(&mut self, pod: PodId, diagnosis: Diagnosis) {
        self.decisions
            .push(Decision::Unschedulable { pod, diagnosis });
    }

    /// Asks the host to evict `victims` from `node` so that `pod` fits there later.
    pub fn preempt(&mut self, pod: PodId, node: NodeId, victims: Vec<PodId>) {
        self.cluster.set_nominated_node(pod, Some(node));
        self.decisions
            .push(Decision::Preempt { pod, node, victims });
    }

    /// The decisions made so far in this cycle, in the order they were made.
    #[inline]
    pub fn decisions(&self) -> &[Decision] {
        self.decisions
    }

    /// A cycle over the same cluster, random stream and decision list, deciding only
    /// `pending` (a reordered or filtered queue): wrappers such as gang scheduling run an
    /// inner algorithm through it. Decisions made there stay in this cycle's list.
    pub fn narrowed<'b>(&'b mut self, pending: &'b [PodId]) -> Cycle<'b> {
        Cycle {
            cluster: &mut *self.cluster,
            pending,
            rng: &mut *self.rng,
            decisions: &mut *self.decisions,
            now_micros: self.now_micros,
        }
    }

    /// Takes back every decision made from position `start` of [`Cycle::decisions`] on,
    /// latest first: bindings are undone ([`ClusterState::unbind`], which leaves each node
    /// as if the bind had never happened), and the pods of bindings and preemptions get
    /// back the nominated node `nominated` gives for them. For wrappers that run an inner
    /// algorithm again over part of the queue (gang scheduling).
    pub fn undo_since(&mut self, start: usize, nominated: impl Fn(PodId) -> Option<NodeId>) {
        while self.decisions.len() > start {
            match self.decisions.pop() {
                Some(Decision::Bound { pod, node }) => {
                    if self.cluster.pod(pod).and_then(|p| p.node) == Some(node) {
                        // Cannot fail: the pod is bound there and has not started.
                        let _ = self.cluster.unbind(pod);
                    }
                    self.cluster.set_nominated_node(pod, nominated(pod));
                }
                Some(Decision::Preempt { pod, .. }) => {
                    self.cluster.set_nominated_node(pod, nominated(pod));
                }
                _ => {}
            }
        }
    }

    /// Runs a per-pod algorithm over the pending pods in order, applying each placement
    /// before deciding the next pod.
    pub fn place_each(
        &mut self,
        mut place: impl FnMut(&ClusterState, PodId, &mut SchedulerRng) -> Placement,
    ) {
        for &pod in self.pending {
            match place(self.cluster, pod, self.rng) {
                Placement::Node(node) => {
                    if let Err(e) = self.bind(pod, node) {
                        let mut diagnosis = Diagnosis {
                            nodes: self.cluster.ready_node_count() as u32,
                            ..Default::default()
                        };
                        diagnosis.add(&format!(
                            "scheduler chose a node it could not bind to ({e})"
                        ));
                        self.unschedulable(pod, diagnosis);
                    }
                }
                Placement::Unschedulable(diagnosis) => self.unschedulable(pod, diagnosis),
                Placement::Preempt { node, victims } => self.preempt(pod, node, victims),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_reads_like_kube_scheduler() {
        let mut d = Diagnosis {
            nodes: 5,
            ..Default::default()
        };
        d.add("node(s) had untolerated taint(s)");
        d.add("Insufficient cpu");
        d.add("node(s) had untolerated taint(s)");
        d.add("Insufficient cpu");
        d.add("Insufficient cpu");
        assert_eq!(
            d.to_string(),
            "0/5 nodes are available: 2 node(s) had untolerated taint(s), 3 Insufficient cpu."
        );
        assert_eq!(
            Diagnosis {
                nodes: 0,
                reasons: vec![]
            }
            .to_string(),
            "0/0 nodes are available."
        );
    }
}
