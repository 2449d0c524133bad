//! The Scheduler trait: one shape for per-pod algorithms (the kube framework, first-fit)
//! and batch algorithms (min-cost flow) alike.

use std::fmt;

use rand::rngs::ChaCha8Rng;

use crate::cluster::{BindError, ClusterState};
use crate::framework::Explanation;
use crate::node::NodeId;
use crate::pod::PodId;
use crate::reason::Reason;
use crate::resources::ResourceNames;

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
/// each [`Reason`], rendered in kube-scheduler's wording only when written
/// (`0/5 nodes are available: 3 Insufficient cpu, 2 node(s) were unschedulable.`).
///
/// Counting a reason that is already there allocates nothing; the reason list allocates
/// once, when the first reason arrives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnosis {
    /// Nodes in the cluster when the attempt was made.
    pub nodes: u32,
    reasons: Vec<(Reason, u32)>,
    /// The cluster's names, kept only once a shortfall of an extended resource is counted:
    /// writing it needs them, and the cluster may be gone by then.
    names: Option<ResourceNames>,
}

impl Diagnosis {
    /// No reasons yet, out of `nodes` nodes.
    pub const fn new(nodes: u32) -> Diagnosis {
        Diagnosis {
            nodes,
            reasons: Vec::new(),
            names: None,
        }
    }

    /// `nodes` nodes and these reasons with their counts, merged as [`Diagnosis::add_nodes`]
    /// merges them.
    pub fn from_counts<R: Into<Reason>>(
        nodes: u32,
        counts: impl IntoIterator<Item = (R, u32)>,
    ) -> Diagnosis {
        let mut diagnosis = Diagnosis::new(nodes);
        for (reason, n) in counts {
            diagnosis.add_nodes(reason, n);
        }
        diagnosis
    }

    /// Counts one more node under `reason`. A shortfall of an extended resource needs the
    /// cluster's names to be written: count it with [`Diagnosis::add_named`].
    pub fn add(&mut self, reason: impl Into<Reason>) {
        self.add_nodes(reason, 1);
    }

    /// Counts `nodes` more nodes under `reason`, listing it even for zero nodes. As
    /// [`Diagnosis::add`], for reasons that name no extended resource.
    pub fn add_nodes(&mut self, reason: impl Into<Reason>, nodes: u32) {
        let reason = reason.into();
        debug_assert!(
            self.names.is_some() || !reason.names_extended_resource(),
            "{reason:?} needs the cluster's names: count it with Diagnosis::add_named"
        );
        match self.reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += nodes,
            None => self.reasons.push((reason, nodes)),
        }
    }

    /// Counts `nodes` more nodes under any reason, keeping `names` (the cluster's) if the
    /// reason needs them to be written. Clones the reason only the first time it is seen.
    pub fn add_named(&mut self, reason: &Reason, nodes: u32, names: &ResourceNames) {
        if reason.names_extended_resource() && self.names.is_none() {
            self.names = Some(names.clone());
        }
        match self.reasons.iter_mut().find(|(r, _)| r == reason) {
            Some((_, n)) => *n += nodes,
            None => self.reasons.push((reason.clone(), nodes)),
        }
    }

    /// Each reason with the number of nodes that failed for it, in the order first
    /// counted; a node may count under several reasons.
    #[inline]
    pub fn reasons(&self) -> &[(Reason, u32)] {
        &self.reasons
    }

    /// True when the scheduler chose a node and the cluster refused the bind
    /// ([`Reason::RefusedBind`]).
    pub fn refused_bind(&self) -> bool {
        self.reasons.iter().any(|(r, _)| r.is_refused_bind())
    }
}

impl fmt::Display for Diagnosis {
    /// Sorted as kube-scheduler sorts them: by the whole `"<count> <reason>"` string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = self
            .reasons
            .iter()
            .map(|(r, n)| {
                let mut part = format!("{n} ");
                // Writing to a String cannot fail.
                let _ = r.write(&mut part, self.names.as_ref());
                part
            })
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
    /// The pod holds `node`'s resources but waits at Permit for its pod group to reach
    /// `minMember` ([`crate::PodPhase::Waiting`]); only gang scheduling decides this.
    Waiting {
        /// The pod.
        pod: PodId,
        /// The node it holds.
        node: NodeId,
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

    /// Binds a pod (to the GPUs in `gpus` when given) or, when the cluster refuses the
    /// bind, declares it unschedulable with the refusal as its reason, so every pod still
    /// gets a decision; true when bound.
    pub fn bind_or_unschedulable(&mut self, pod: PodId, node: NodeId, gpus: Option<u64>) -> bool {
        match self.cluster.bind_gpus(pod, node, gpus) {
            Ok(()) => {
                self.decisions.push(Decision::Bound { pod, node });
                true
            }
            Err(e) => {
                let mut diagnosis = Diagnosis::new(self.cluster.ready_node_count() as u32);
                diagnosis.add(Reason::RefusedBind(e));
                self.unschedulable(pod, diagnosis);
                false
            }
        }
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

    /// Makes the binding at position `index` of [`Cycle::decisions`] a wait at Permit
    /// ([`ClusterState::hold`]): the pod keeps its node's resources without being bound,
    /// and the decision becomes [`Decision::Waiting`]. For gang scheduling, whose group
    /// has not reached `minMember`. Refused, changing nothing, for any other decision.
    pub fn hold(&mut self, index: usize) -> Result<(), BindError> {
        let Some(&Decision::Bound { pod, node }) = self.decisions.get(index) else {
            return Err(BindError::NotBound);
        };
        self.cluster.hold(pod)?;
        self.decisions[index] = Decision::Waiting { pod, node };
        Ok(())
    }

    /// Binds a pod that waits at Permit to the node it holds ([`ClusterState::permit`]),
    /// recorded as a [`Decision::Bound`]: its group reached `minMember`. The pod need not
    /// be one of this cycle's.
    pub fn permit(&mut self, pod: PodId) -> Result<(), BindError> {
        let node = self.cluster.permit(pod)?;
        self.decisions.push(Decision::Bound { pod, node });
        Ok(())
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

    /// Runs a per-pod algorithm over the pending pods in order, applying each placement
    /// before deciding the next pod.
    pub fn place_each(
        &mut self,
        mut place: impl FnMut(&ClusterState, PodId, &mut SchedulerRng) -> Placement,
    ) {
        for &pod in self.pending {
            match place(self.cluster, pod, self.rng) {
                Placement::Node(node) => {
                    self.bind_or_unschedulable(pod, node, None);
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
        let mut d = Diagnosis::new(5);
        d.add("node(s) had untolerated taint(s)");
        d.add("Insufficient cpu");
        d.add("node(s) had untolerated taint(s)");
        d.add("Insufficient cpu");
        d.add("Insufficient cpu");
        assert_eq!(
            d.to_string(),
            "0/5 nodes are available: 2 node(s) had untolerated taint(s), 3 Insufficient cpu."
        );
        assert_eq!(Diagnosis::new(0).to_string(), "0/0 nodes are available.");
    }

    #[test]
    fn text_and_codes_count_as_one_reason() {
        let mut d = Diagnosis::new(5);
        d.add(Reason::UntoleratedTaint);
        d.add("node(s) had untolerated taint(s)");
        d.add(String::from("node(s) had untolerated taint(s)"));
        d.add(Reason::Insufficient(crate::ResourceKind::CPU));
        d.add("Insufficient cpu");
        assert_eq!(
            d.reasons(),
            [
                (Reason::UntoleratedTaint, 3),
                (Reason::Insufficient(crate::ResourceKind::CPU), 2)
            ]
        );
        assert_eq!(
            d.to_string(),
            "0/5 nodes are available: 2 Insufficient cpu, 3 node(s) had untolerated taint(s)."
        );
        assert!(!d.refused_bind());
    }

    /// kube-scheduler sorts the `"<count> <reason>"` strings, so 10 comes before 9.
    #[test]
    fn parts_sort_as_strings_as_upstream() {
        let d = Diagnosis::from_counts(
            30,
            [
                (Reason::Unschedulable, 9),
                (Reason::TooManyPods, 10),
                (Reason::NodeAffinity, 9),
                (Reason::RefusedBind(BindError::DoesNotFit), 2),
            ],
        );
        assert_eq!(
            d.to_string(),
            "0/30 nodes are available: 10 Too many pods, \
             2 scheduler chose a node it could not bind to (pod does not fit on the node), \
             9 node(s) didn't match Pod's node affinity/selector, \
             9 node(s) were unschedulable."
        );
        assert!(d.refused_bind());
        // A reason listed for no node is still written, as a gang rejection of an empty
        // cluster always was.
        assert_eq!(
            Diagnosis::from_counts(0, [("pod group \"g\" timed out", 0)]).to_string(),
            "0/0 nodes are available: 0 pod group \"g\" timed out."
        );
    }

    /// A diagnosis keeps the names of extended resources it needs, so it can be written
    /// after the cluster is gone; reasons that need none keep none.
    #[test]
    fn diagnosis_keeps_the_names_it_needs() {
        let mut names = ResourceNames::default();
        let gpu = names.intern("nvidia.com/gpu").unwrap();
        let mut d = Diagnosis::new(3);
        d.add_named(
            &Reason::Insufficient(crate::ResourceKind::MEMORY),
            1,
            &names,
        );
        assert_eq!(d.names, None);
        d.add_named(&Reason::Insufficient(gpu), 2, &names);
        d.add_named(&Reason::Insufficient(gpu), 1, &names);
        drop(names);
        assert_eq!(
            d.to_string(),
            "0/3 nodes are available: 1 Insufficient memory, 3 Insufficient nvidia.com/gpu."
        );
    }

    #[test]
    fn a_refused_bind_in_place_each_is_a_code() {
        use crate::node::NodeSpec;
        use rand::SeedableRng;
        let mut cluster = ClusterState::default();
        cluster.add_node(NodeSpec {
            name: "a".into(),
            ..Default::default()
        });
        let template = std::sync::Arc::new(crate::pod::PodTemplate::default());
        let pod = cluster.add_pod(crate::pod::Pod::from_template(template, 0));
        let mut rng = SchedulerRng::seed_from_u64(1);
        let mut decisions = Vec::new();
        Cycle::new(&mut cluster, &[pod], &mut rng, &mut decisions)
            .place_each(|_, _, _| Placement::Node(NodeId(7)));
        let Decision::Unschedulable { diagnosis, .. } = &decisions[0] else {
            panic!("{decisions:?}");
        };
        assert_eq!(
            diagnosis.reasons(),
            [(Reason::RefusedBind(BindError::NoSuchNode), 1)]
        );
        assert!(diagnosis.refused_bind());
        assert_eq!(
            diagnosis.to_string(),
            "0/1 nodes are available: 1 scheduler chose a node it could not bind to \
             (node does not exist or is not ready)."
        );
    }
}
