//! [`SchedulingLoop`]: the control plane's scheduler. It owns one [`ClusterState`] that
//! lives across cycles, changed incrementally as the API server's objects change (nodes
//! join, leave, turn NotReady or get cordoned; pods arrive, bind and go), and runs the
//! same [`Scheduler`] the simulator runs, built by the same [`Registry`], over the same
//! [`Cycle`].
//!
//! Each [`SchedulingLoop::schedule`] is one cycle over every pending pod, in
//! kube-scheduler's queue order (priority, then creation time; PrioritySort), and returns
//! what the server must do: bind, record FailedScheduling with upstream's message (the
//! wording of the simulator's trace: [`schedulers::Diagnosis`]'s), or delete a
//! preemption's victims.
//!
//! The queue order is PrioritySort's `Less` (pkg/scheduler/framework/plugins/queuesort/
//! priority_sort.go): higher priority first, then the earlier timestamp. Upstream's
//! timestamp is when the pod entered the queue; here it is `metadata.creationTimestamp`,
//! the same for a scheduler that watched from the start, then the order the loop learnt of
//! the pods.
//!
//! Where this simplifies kube-scheduler: there is no backoff and no unschedulable list;
//! every pending pod is offered to every cycle, and the server decides how often to run
//! one (after a change, or on a timer). A FailedScheduling message is the filters' part
//! only (`0/3 nodes are available: 3 Insufficient cpu.`), as the simulator's trace has it;
//! upstream appends the PostFilter's outcome (` preemption: 0/3 nodes are available: ...`)
//! when preemption ran. A pod that names its node (`spec.nodeName`) is charged to that
//! node and never scheduled, as upstream leaves such pods to the kubelet.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::yaml::YamlError;
use schedulers::{
    BuildContext, ClusterState, Cycle, Decision, NodeId, Pod, PodId, PodPhase, Registry,
    ResourceNames, Scheduler, SchedulerRng, SchedulerSpec, SpecError,
};
use serde_json::Value;

use crate::objects::{node_ready, node_spec, pod_template};

/// What the server must do after a cycle, for one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Bind the pod to the node (`POST .../pods/NAME/binding`).
    Bound {
        /// The pod's `metadata.uid`.
        uid: String,
        /// The node's name.
        node: String,
    },
    /// No node can take the pod now: a FailedScheduling event with this message.
    Unschedulable {
        /// The pod's `metadata.uid`.
        uid: String,
        /// kube-scheduler's wording: `0/3 nodes are available: 3 Insufficient cpu.`
        message: String,
    },
    /// The pod fits on `node` once `victims` are gone: the server deletes them (they hold
    /// their resources, terminating, until then) and sets the pod's
    /// `status.nominatedNodeName`; the pod is retried in a later cycle.
    Preempt {
        /// The preemptor's `metadata.uid`.
        uid: String,
        /// The nominated node.
        node: String,
        /// The victims' uids.
        victims: Vec<String>,
    },
}

/// Why the loop refused an object or a change.
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    /// The object does not read as a Pod or Node.
    #[error(transparent)]
    Object(#[from] YamlError),
    /// The object has no `metadata.uid` (or, for a node, no name).
    #[error("{0}")]
    Missing(String),
    /// A change the cluster state cannot take (a node's allocatable or labels changed
    /// while pods are bound to it, too many extended resources).
    #[error("{0}")]
    Refused(String),
}

/// One pending or bound pod the loop knows.
#[derive(Debug, Clone)]
struct Known {
    id: PodId,
    /// Creation time (µs since the epoch) then arrival order: the queue's order among
    /// equal priorities.
    created: u64,
    seq: u64,
}

/// The control plane's scheduler over one persistent [`ClusterState`].
pub struct SchedulingLoop {
    cluster: ClusterState,
    scheduler: Box<dyn Scheduler>,
    rng: SchedulerRng,
    /// Pods by `metadata.uid`.
    pods: BTreeMap<String, Known>,
    /// The reverse of `pods`, for decisions; looked up only, never iterated.
    uids: HashMap<PodId, String>,
    decisions: Vec<Decision>,
    next_seq: u64,
    failure: Option<String>,
}

impl SchedulingLoop {
    /// A loop over an empty cluster scheduling with `spec` (a built-in name with its
    /// arguments, a profile of `profiles` (a `--scheduler-config` file's, by name), or
    /// `exec:PATH`), drawing its tie-breaks from `rng`.
    pub fn new(
        registry: &Registry,
        spec: &SchedulerSpec,
        profiles: &[(String, ResolvedProfile)],
        rng: SchedulerRng,
    ) -> Result<SchedulingLoop, SpecError> {
        let ctx = BuildContext {
            profiles,
            ..BuildContext::default()
        };
        Ok(SchedulingLoop {
            cluster: ClusterState::new(ResourceNames::default()),
            scheduler: registry.build(spec, &ctx)?,
            rng,
            pods: BTreeMap::new(),
            uids: HashMap::new(),
            decisions: Vec::new(),
            next_seq: 0,
            failure: None,
        })
    }

    /// [`SchedulingLoop::new`] with the tie-break stream seeded by `seed`.
    pub fn seeded(
        registry: &Registry,
        spec: &SchedulerSpec,
        profiles: &[(String, ResolvedProfile)],
        seed: u64,
    ) -> Result<SchedulingLoop, SpecError> {
        use rand::SeedableRng;
        SchedulingLoop::new(registry, spec, profiles, SchedulerRng::seed_from_u64(seed))
    }

    /// The cluster as the scheduler sees it.
    pub fn cluster(&self) -> &ClusterState {
        &self.cluster
    }

    /// Why the scheduler stopped deciding (an `exec:` program crashed), if it did; no
    /// cycle binds anything after that.
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// The node a pod is bound to (or charged to, for a pod naming its node), if any.
    pub fn node_of(&self, uid: &str) -> Option<&str> {
        let known = self.pods.get(uid)?;
        let node = self.cluster.pod(known.id)?.node?;
        Some(self.cluster.node(node).name())
    }

    /// Reads an object with a copy of the cluster's resource names, then names in the
    /// cluster the extended resources it brought.
    fn with_names<T>(
        &mut self,
        read: impl FnOnce(&mut ResourceNames) -> Result<T, YamlError>,
    ) -> Result<T, LoopError> {
        let mut names = self.cluster.resource_names().clone();
        let out = read(&mut names)?;
        for kind in names.kinds() {
            self.cluster
                .intern_resource(names.name(kind))
                .map_err(|e| LoopError::Refused(e.to_string()))?;
        }
        Ok(out)
    }

    /// A Node was created or changed: it joins, or its readiness, cordon and taints are
    /// brought up to date. A change of allocatable or labels re-adds the node, which is
    /// refused while pods are bound to it.
    pub fn upsert_node(&mut self, node: &Value) -> Result<(), LoopError> {
        let spec = self.with_names(|names| node_spec(node, names))?;
        let ready = node_ready(node);
        let id = match self.cluster.node_id(&spec.name) {
            None => self.cluster.add_node(spec),
            Some(id) => {
                let old = &self.cluster.node(id).spec;
                if old.allocatable != spec.allocatable || old.labels != spec.labels {
                    if !self.cluster.node(id).pods.is_empty() {
                        return Err(LoopError::Refused(format!(
                            "node {}: allocatable or labels changed while {} pod(s) are bound to it",
                            spec.name,
                            self.cluster.node(id).pods.len()
                        )));
                    }
                    // No pods: nothing is charged, so the node is re-added fresh.
                    self.remove_node_id(id);
                    self.cluster.add_node(spec)
                } else {
                    let unschedulable = spec.unschedulable;
                    if old.taints != spec.taints {
                        self.cluster
                            .set_taints(id, spec.taints)
                            .map_err(|e| LoopError::Refused(e.to_string()))?;
                    }
                    self.cluster
                        .set_unschedulable(id, unschedulable)
                        .map_err(|e| LoopError::Refused(e.to_string()))?;
                    id
                }
            }
        };
        self.cluster
            .set_ready(id, ready)
            .map_err(|e| LoopError::Refused(e.to_string()))
    }

    /// Takes `id` out, with the pods bound to it; returns their uids.
    fn remove_node_id(&mut self, id: NodeId) -> Vec<String> {
        let pods = self.cluster.node(id).pods.clone();
        let mut gone: Vec<String> = pods
            .iter()
            .filter_map(|p| self.uids.get(p).cloned())
            .collect();
        gone.sort();
        for uid in &gone {
            self.remove_pod(uid);
        }
        // Its pods are gone, so removal cannot be refused.
        let _ = self.cluster.remove_node(id);
        gone
    }

    /// A Node was deleted: it leaves, and the pods bound to it are forgotten (upstream's
    /// pod garbage collector deletes them). Returns their uids, sorted.
    pub fn remove_node(&mut self, name: &str) -> Vec<String> {
        match self.cluster.node_id(name) {
            Some(id) => self.remove_node_id(id),
            None => Vec::new(),
        }
    }

    /// A Pod was created or changed. A new pod joins the queue, or is charged to its node
    /// at once if it names one (a pod bound before the loop started); a pod that
    /// finished (`status.phase` Succeeded or Failed) leaves and frees its node; a pod being
    /// deleted (`metadata.deletionTimestamp`) keeps its node until it is removed.
    pub fn upsert_pod(&mut self, pod: &Value) -> Result<(), LoopError> {
        let uid = pod["metadata"]["uid"]
            .as_str()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| LoopError::Missing("a pod needs a `metadata.uid`".to_owned()))?
            .to_owned();
        if matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        ) {
            self.remove_pod(&uid);
            return Ok(());
        }
        if let Some(known) = self.pods.get(&uid) {
            let id = known.id;
            if pod["metadata"]["deletionTimestamp"].is_string() {
                self.cluster.set_terminating(id);
            }
            // A pod the server bound after an Outcome::Bound is bound here already; one
            // bound by someone else is charged to its node now.
            if let Some(node) = pod["spec"]["nodeName"].as_str()
                && self
                    .cluster
                    .pod(id)
                    .is_some_and(|p| p.phase == PodPhase::Pending)
                && let Some(node) = self.cluster.node_id(node)
            {
                self.cluster.set_nominated_node(id, None);
                let _ = self.cluster.bind(id, node);
            }
            return Ok(());
        }
        let template = self.with_names(|names| pod_template(pod, names))?;
        let node_name = template.node_name.clone();
        let mut p = Pod::from_template(Arc::new(template), 0);
        let created = pod["metadata"]["creationTimestamp"]
            .as_str()
            .and_then(|t| humantime::parse_rfc3339(t).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_micros() as u64);
        p.created_stamp = created;
        let id = self.cluster.add_pod(p);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pods.insert(uid.clone(), Known { id, created, seq });
        self.uids.insert(id, uid);
        if let Some(node) = node_name.as_deref().and_then(|n| self.cluster.node_id(n)) {
            // Refused when it does not fit: the kubelet's admission rejects it then, and
            // the scheduler leaves it alone either way.
            let _ = self.cluster.bind(id, node);
        }
        Ok(())
    }

    /// A Pod was deleted (or its Binding failed and it is gone): it leaves, freeing what
    /// it held on its node. False if the loop did not know it.
    pub fn remove_pod(&mut self, uid: &str) -> bool {
        let Some(known) = self.pods.remove(uid) else {
            return false;
        };
        self.uids.remove(&known.id);
        self.cluster.remove_pod(known.id);
        true
    }

    /// The server could not bind a pod the loop bound (the Binding POST failed): the pod
    /// goes back to the queue and its node is freed.
    pub fn unbind(&mut self, uid: &str) -> bool {
        self.pods
            .get(uid)
            .is_some_and(|k| self.cluster.unbind(k.id).is_ok())
    }

    /// The pending pods the scheduler decides, in kube-scheduler's queue order: higher
    /// priority first, then earlier creation, then arrival at the loop.
    fn queue(&self) -> Vec<PodId> {
        let mut pending: Vec<(Reverse<i32>, u64, u64, PodId)> = self
            .pods
            .values()
            .filter_map(|k| {
                let p = self.cluster.pod(k.id)?;
                (p.phase == PodPhase::Pending && p.template.node_name.is_none()).then_some((
                    Reverse(p.priority()),
                    k.created,
                    k.seq,
                    k.id,
                ))
            })
            .collect();
        pending.sort_unstable_by_key(|&(pr, c, s, _)| (pr, c, s));
        pending.into_iter().map(|(_, _, _, id)| id).collect()
    }

    /// One scheduling cycle at `now_micros` (the host's clock, passed on to `exec:`
    /// schedulers): every pending pod gets a decision, in queue order. Bindings take
    /// effect in the loop's state at once.
    pub fn schedule(&mut self, now_micros: u64) -> Vec<Outcome> {
        if self.failure.is_some() {
            return Vec::new();
        }
        let pending = self.queue();
        if pending.is_empty() {
            return Vec::new();
        }
        self.scheduler.schedule(
            &mut Cycle::new(
                &mut self.cluster,
                &pending,
                &mut self.rng,
                &mut self.decisions,
            )
            .at_micros(now_micros),
        );
        if let Some(message) = self.scheduler.failure() {
            // A broken scheduler's decisions cannot be trusted: its binds are undone.
            self.failure = Some(message.to_owned());
            for d in std::mem::take(&mut self.decisions) {
                if let Decision::Bound { pod, .. } = d {
                    let _ = self.cluster.unbind(pod);
                }
            }
            return Vec::new();
        }
        let mut out = Vec::new();
        for d in std::mem::take(&mut self.decisions) {
            match d {
                Decision::Bound { pod, node } => {
                    let (Some(uid), Some(p)) = (self.uids.get(&pod), self.cluster.pod(pod)) else {
                        continue;
                    };
                    // A scheduler may report a bind the cluster does not show.
                    if p.phase != PodPhase::Bound {
                        continue;
                    }
                    let uid = uid.clone();
                    self.cluster.set_nominated_node(pod, None);
                    out.push(Outcome::Bound {
                        uid,
                        node: self.cluster.node(node).name().to_owned(),
                    });
                }
                Decision::Unschedulable { pod, diagnosis } => {
                    if let Some(uid) = self.uids.get(&pod) {
                        out.push(Outcome::Unschedulable {
                            uid: uid.clone(),
                            message: diagnosis.to_string(),
                        });
                    }
                }
                Decision::Preempt { pod, node, victims } => {
                    let Some(uid) = self.uids.get(&pod).cloned() else {
                        continue;
                    };
                    self.cluster.set_nominated_node(pod, Some(node));
                    let mut gone = Vec::new();
                    for v in victims {
                        // Victims keep their node while they terminate, as upstream's
                        // do through their grace period.
                        self.cluster.set_terminating(v);
                        if let Some(v) = self.uids.get(&v) {
                            gone.push(v.clone());
                        }
                    }
                    out.push(Outcome::Preempt {
                        uid,
                        node: self.cluster.node(node).name().to_owned(),
                        victims: gone,
                    });
                }
                // Only gang scheduling holds pods at Permit, and the loop has no pod
                // groups: release such a pod back to the queue.
                Decision::Waiting { pod, .. } => {
                    let _ = self.cluster.release(pod);
                }
            }
        }
        out
    }
}
