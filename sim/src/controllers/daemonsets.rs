//! The DaemonSet controller (upstream's pkg/controller/daemon, `DaemonSetsController
//! .manage`): each DaemonSet keeps one pod on every node that should run it, in node
//! order, from its creation time on, including nodes that join later (scripted additions,
//! the cluster autoscaler's new nodes, machine trace arrivals).
//!
//! Which nodes, as upstream's `NodeShouldRunDaemonPod`: the template's `nodeName` (if
//! any) names the node, its `nodeSelector` and required node affinity match the node, and
//! every NoSchedule and NoExecute taint of the node is tolerated by the template's
//! tolerations plus the ones the controller adds to every daemon pod
//! (`AddOrUpdateDaemonPodTolerations`: `node.kubernetes.io/not-ready` and
//! `node.kubernetes.io/unreachable` NoExecute, `disk-pressure`, `memory-pressure`,
//! `pid-pressure` and `unschedulable` NoSchedule, all with `Exists` and no time limit).
//! Since Kubernetes 1.12 the pods go through the default scheduler: each one is pinned
//! to its node by a required node affinity `matchFields: metadata.name In [node]`
//! (`ReplaceDaemonSetPodNodeNameNodeAffinity`, which replaces the template's required
//! terms; its preferred terms stay), so it may stay Pending when its node is full, or
//! preempt there if its priority allows.
//!
//! A daemon pod that is evicted, fails, finishes or is deleted is recreated while its
//! node still should run it (a pod that ran for no time, or was refused, after the
//! kubelet's initial crash-loop back-off, as the StatefulSet controller here does); one
//! whose node is leaving (evicted because its node is removed or scaled down) is not.
//! When a node leaves, a daemon pod still Pending for it is deleted (upstream deletes
//! unscheduled daemon pods whose node is gone). When a node's taints change, a node that
//! now should run the pod gets one, and a Pending pod whose node no longer tolerates it
//! is deleted.
//!
//! A cluster snapshot's daemon pods (`Workload::adopted`: bound, not finished, on nodes
//! the set would keep running them on) are the set's from its first sync: each is
//! created on its node, pinned by `nodeName` as well as by the node affinity, so the
//! kubelet admits it there without the scheduler, before any node gets a new pod; nodes
//! that should run the set and have none of its pods get one as above. A snapshot has
//! one pod per node at most that is kept (the loader leaves out the others, and the pods
//! on nodes the set would not run). An adopted pod runs what is left of its `duration`
//! (`Workload::adopted_ran`). A lost adopted pod is recreated as any other.
//!
//! Simplified: a bound daemon pod whose node gains a NoExecute taint it does not
//! tolerate is left to the taint eviction controller rather than deleted by this one; no
//! `updateStrategy` (templates do not change), no `minReadySeconds`, no `hostNetwork`
//! (so no `network-unavailable` toleration); pods are named `<set>-<ordinal>` rather
//! than with a random suffix.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rand::rngs::ChaCha8Rng;
use schedulers::taints::first_untolerated;
use schedulers::{
    NodeAffinity, NodeId, NodeSelectorTerm, NodeSpec, Pod, PodId, PodPhase, PodTemplate,
    SelectorOperator, SelectorRequirement, TaintEffect, Toleration, TolerationOperator,
};

use crate::controllers::Controller;
use crate::controllers::workloads::{CRASH_LOOP_BACKOFF, left_to_run, owned_pod};
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact};
use crate::rng::{Concern, stream};
use crate::scenario::{Scenario, WorkloadKind};
use crate::time::SimTime;

/// The tolerations upstream's DaemonSet controller adds to every daemon pod, by key and
/// effect (`AddOrUpdateDaemonPodTolerations`, without `hostNetwork`'s).
pub const DEFAULT_TOLERATIONS: &[(&str, TaintEffect)] = &[
    ("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
    ("node.kubernetes.io/unreachable", TaintEffect::NoExecute),
    ("node.kubernetes.io/disk-pressure", TaintEffect::NoSchedule),
    (
        "node.kubernetes.io/memory-pressure",
        TaintEffect::NoSchedule,
    ),
    ("node.kubernetes.io/pid-pressure", TaintEffect::NoSchedule),
    ("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
];

/// `template` with the default daemon tolerations added (upstream's
/// `AddOrUpdateTolerationInPodSpec` replaces a toleration equal in key, operator and
/// effect, so one already there is not doubled).
pub fn with_daemon_tolerations(template: &PodTemplate) -> PodTemplate {
    let mut t = template.clone();
    for &(key, effect) in DEFAULT_TOLERATIONS {
        let toleration = Toleration {
            key: key.to_owned(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect: Some(effect),
            toleration_seconds: None,
        };
        match t.tolerations.iter_mut().find(|x| {
            x.key == toleration.key
                && x.operator == toleration.operator
                && x.effect == toleration.effect
        }) {
            Some(x) => *x = toleration,
            None => t.tolerations.push(toleration),
        }
    }
    t
}

/// Upstream's `NodeShouldRunDaemonPod` for a template that already carries the default
/// tolerations: (should run, should continue running). A node that fails the node name,
/// selector or affinity runs nothing; one with an untolerated NoSchedule or NoExecute
/// taint gets no new pod, and keeps one only if no untolerated taint is NoExecute.
pub fn should_run(template: &PodTemplate, node: &NodeSpec) -> (bool, bool) {
    if template
        .node_name
        .as_deref()
        .is_some_and(|n| n != node.name)
    {
        return (false, false);
    }
    let fits_affinity = node.labels.contains_all(&template.node_selector)
        && template
            .node_affinity
            .as_ref()
            .is_none_or(|a| a.required_matches(&node.labels, &node.name));
    if !fits_affinity {
        return (false, false);
    }
    if first_untolerated(&node.taints, &template.tolerations).is_none() {
        return (true, true);
    }
    let no_execute = node.taints.iter().any(|t| {
        t.effect == TaintEffect::NoExecute
            && !template.tolerations.iter().any(|tol| tol.tolerates(t))
    });
    (false, !no_execute)
}

/// The daemon pod template for the node named `node`: `base` (with the default
/// tolerations) pinned to it by required node affinity on `metadata.name`, which
/// replaces the template's required terms.
pub fn pinned_template(base: &PodTemplate, node: &str) -> PodTemplate {
    let mut t = base.clone();
    let term = NodeSelectorTerm {
        match_expressions: Vec::new(),
        match_fields: vec![SelectorRequirement {
            key: "metadata.name".to_owned(),
            operator: SelectorOperator::In,
            values: vec![node.to_owned()],
        }],
    };
    let preferred = t
        .node_affinity
        .take()
        .map(|a| a.preferred)
        .unwrap_or_default();
    t.node_affinity = Some(NodeAffinity {
        required: Some(vec![term]),
        preferred,
    });
    t
}

/// The DaemonSet controller's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaemonSetEvent {
    /// A set reconciles every node: at its creation time, and when a held-back pod may
    /// be recreated.
    Sync {
        /// The set's index among the scenario's DaemonSets.
        set: u32,
    },
    /// As `Sync`, after admission refused a pod: like the other controllers' retries of
    /// a refused creation, it does not keep a run without a horizon alive.
    Retry {
        /// The set's index among the scenario's DaemonSets.
        set: u32,
    },
}

impl DaemonSetEvent {
    /// False for a retry after a refused creation (see `Event::keeps_run_alive`).
    pub fn keeps_run_alive(&self) -> bool {
        matches!(self, DaemonSetEvent::Sync { .. })
    }
}

/// One DaemonSet.
#[derive(Debug)]
struct Set {
    workload: u32,
    /// Created: its creation time has come.
    live: bool,
    /// The workload's template with the default daemon tolerations.
    base: Arc<PodTemplate>,
    /// By node: its daemon pod.
    pods: BTreeMap<NodeId, PodId>,
    /// By node: the pinned template, made once per node.
    templates: BTreeMap<NodeId, Arc<PodTemplate>>,
    /// By node: when a lost pod may be recreated.
    not_before: BTreeMap<NodeId, SimTime>,
    /// The next pod's ordinal (its name's suffix).
    next_ordinal: u32,
    /// The names of the nodes whose snapshot pod the set adopts at its first sync, with
    /// how long that pod had run (`Workload::adopted_ran`); empty after it.
    adopt: BTreeMap<String, SimTime>,
    /// The workload's duration stream (the workload controllers create none of its pods).
    durations: ChaCha8Rng,
}

/// Every DaemonSet of the scenario.
#[derive(Debug, Default)]
pub struct DaemonSets {
    sets: Vec<Set>,
    /// By workload index: the set's index, or `u32::MAX`.
    by_workload: Vec<u32>,
    /// Each daemon pod's set and node (looked up, never iterated).
    owner: HashMap<PodId, (u32, NodeId)>,
    /// Nodes being removed (their pods evicted for it): no daemon pod is recreated there.
    leaving: BTreeSet<NodeId>,
}

impl DaemonSets {
    /// Whether the set of workload `w` exists (its creation time has come); read by
    /// [`crate::Simulation::workloads`].
    pub(crate) fn is_live(&self, w: usize) -> bool {
        let set = self.by_workload.get(w).copied().unwrap_or(u32::MAX);
        self.sets.get(set as usize).is_some_and(|s| s.live)
    }

    /// The sets of `scenario`; sets the timer of each one's creation.
    pub(crate) fn new(scenario: &Scenario, seed: u64, ctx: &mut Ctx<'_>) -> DaemonSets {
        let mut s = DaemonSets {
            by_workload: vec![u32::MAX; scenario.workloads.len()],
            ..DaemonSets::default()
        };
        for (w, workload) in scenario.workloads.iter().enumerate() {
            let WorkloadKind::DaemonSet { at } = workload.kind else {
                continue;
            };
            let set = s.sets.len() as u32;
            s.by_workload[w] = set;
            s.sets.push(Set {
                workload: w as u32,
                live: false,
                base: Arc::new(with_daemon_tolerations(&workload.template)),
                pods: BTreeMap::new(),
                templates: BTreeMap::new(),
                not_before: BTreeMap::new(),
                next_ordinal: 0,
                adopt: workload
                    .adopted
                    .iter()
                    .enumerate()
                    .filter_map(|(i, t)| {
                        let ran = workload.adopted_ran.get(i).copied();
                        Some((t.node_name.clone()?, ran.unwrap_or(SimTime::ZERO)))
                    })
                    .collect(),
                durations: stream(seed, Concern::Durations, w as u64),
            });
            ctx.at(at, Event::DaemonSets(DaemonSetEvent::Sync { set }));
        }
        s
    }

    /// Reconciles every node for one set, in node order, after adopting a snapshot's
    /// pods.
    fn sync(&mut self, set: usize, ctx: &mut Ctx<'_>) {
        self.adopt(set, ctx);
        for i in 0..ctx.cluster.nodes().len() {
            self.sync_node(set, NodeId(i as u32), ctx);
        }
    }

    /// At a set's first sync, a snapshot's pods: each created on its node, pinned there
    /// by `nodeName` (the kubelet admits it without the scheduler).
    fn adopt(&mut self, set: usize, ctx: &mut Ctx<'_>) {
        let Some(s) = self.sets.get_mut(set) else {
            return;
        };
        if !s.live || s.adopt.is_empty() {
            return;
        }
        let names = std::mem::take(&mut s.adopt);
        let mut on: Vec<(NodeId, Arc<PodTemplate>, SimTime)> = Vec::new();
        for (i, n) in ctx.cluster.nodes().iter().enumerate() {
            let node = NodeId(i as u32);
            let Some(&ran) = names.get(&n.spec.name) else {
                continue;
            };
            if n.removed || s.pods.contains_key(&node) {
                continue;
            }
            let mut t = pinned_template(&s.base, &n.spec.name);
            t.node_name = Some(n.spec.name.clone());
            on.push((node, Arc::new(t), ran));
        }
        for (node, template, ran) in on {
            self.create(set, node, template, ran, ctx);
        }
    }

    /// Creates one set's pod for `node` from `template`; a creation refused at admission
    /// is retried after the back-off.
    fn create(
        &mut self,
        set: usize,
        node: NodeId,
        template: Arc<PodTemplate>,
        ran: SimTime,
        ctx: &mut Ctx<'_>,
    ) {
        let Some(s) = self.sets.get_mut(set) else {
            return;
        };
        let w = s.workload as usize;
        let (mut pod, run_for) = owned_pod(
            Pod::from_template(template, s.next_ordinal),
            &ctx.scenario.workloads[w],
            w,
            &mut s.durations,
            ctx.now,
        );
        s.next_ordinal += 1;
        let run_for = left_to_run(&mut pod, run_for, ran);
        match super::admission::create_pod(ctx, pod, run_for) {
            Some(id) => {
                s.pods.insert(node, id);
                self.owner.insert(id, (set as u32, node));
            }
            None => {
                // Refused at admission (a ResourceQuota): the sync failed and is
                // requeued, as a lost pod's recreation is.
                let at = ctx.now.saturating_add(CRASH_LOOP_BACKOFF);
                s.not_before.insert(node, at);
                let set = set as u32;
                ctx.at(at, Event::DaemonSets(DaemonSetEvent::Retry { set }));
            }
        }
    }

    /// Reconciles one node for one set: creates its pod if it should run one and has
    /// none, deletes a Pending one it should no longer run.
    fn sync_node(&mut self, set: usize, node: NodeId, ctx: &mut Ctx<'_>) {
        let Some(s) = self.sets.get_mut(set) else {
            return;
        };
        if !s.live || self.leaving.contains(&node) {
            return;
        }
        let Some(n) = ctx.cluster.nodes().get(node.0 as usize) else {
            return;
        };
        if n.removed {
            return;
        }
        let (run, keep) = should_run(&s.base, &n.spec);
        match s.pods.get(&node).copied() {
            None if run => {
                if s.not_before.get(&node).is_some_and(|&t| t > ctx.now) {
                    return;
                }
                let name = n.spec.name.clone();
                let template = Arc::clone(
                    s.templates
                        .entry(node)
                        .or_insert_with(|| Arc::new(pinned_template(&s.base, &name))),
                );
                self.create(set, node, template, SimTime::ZERO, ctx);
            }
            Some(id) if !keep => {
                let pending = ctx
                    .cluster
                    .pod(id)
                    .is_some_and(|p| p.phase == PodPhase::Pending && p.node.is_none());
                if pending {
                    s.pods.remove(&node);
                    self.owner.remove(&id);
                    ctx.remove_pod(id, false);
                }
            }
            _ => {}
        }
    }

    /// A node left: its Pending daemon pods go, and nothing is kept for it.
    fn node_removed(&mut self, node: NodeId, ctx: &mut Ctx<'_>) {
        self.leaving.remove(&node);
        for s in &mut self.sets {
            s.templates.remove(&node);
            s.not_before.remove(&node);
            if let Some(id) = s.pods.remove(&node) {
                self.owner.remove(&id);
                if ctx.cluster.pod(id).is_some_and(|p| p.node.is_none()) {
                    ctx.remove_pod(id, false);
                }
            }
        }
    }
}

impl Controller for DaemonSets {
    type Event = DaemonSetEvent;

    fn on(&mut self, event: DaemonSetEvent, ctx: &mut Ctx<'_>) {
        match event {
            DaemonSetEvent::Sync { set } | DaemonSetEvent::Retry { set } => {
                if let Some(s) = self.sets.get_mut(set as usize) {
                    s.live = true;
                }
                self.sync(set as usize, ctx);
            }
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::NodeAdded { node } | Fact::NodeTaintsChanged { node } => {
                for set in 0..self.sets.len() {
                    self.sync_node(set, *node, ctx);
                }
            }
            Fact::NodeRemoved { node } => self.node_removed(*node, ctx),
            Fact::PodEvicted {
                pod,
                reason: EvictionReason::NodeRemoved | EvictionReason::ScaleDown,
                ..
            } => {
                if let Some(&(_, node)) = self.owner.get(pod) {
                    self.leaving.insert(node);
                }
            }
            Fact::PodDeleted { pod, replace } => {
                let Some((set, node)) = self.owner.remove(pod) else {
                    return;
                };
                let s = &mut self.sets[set as usize];
                if s.pods.get(&node) != Some(pod) {
                    return;
                }
                s.pods.remove(&node);
                // Evicted outright, finished, or at the end of a graceful deletion; not
                // refused at admission or given up, nor crashed on start.
                let at_once = ctx
                    .departed(*pod)
                    .is_some_and(|p| (*replace || p.terminating) && p.run_micros != 0);
                if at_once {
                    self.sync_node(set as usize, node, ctx);
                } else {
                    let at = ctx.now.saturating_add(CRASH_LOOP_BACKOFF);
                    s.not_before.insert(node, at);
                    ctx.at(at, Event::DaemonSets(DaemonSetEvent::Sync { set }));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use schedulers::{Labels, Taint};

    use super::*;

    fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, TaintEffect)]) -> NodeSpec {
        NodeSpec {
            name: name.into(),
            labels: Labels::new(labels.iter().copied()),
            taints: taints
                .iter()
                .map(|&(key, effect)| Taint {
                    key: key.into(),
                    value: String::new(),
                    effect,
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Rows of upstream's `TestNodeShouldRunDaemonPod` (pkg/controller/daemon,
    /// daemon_controller_test.go), by their `predicateName` (the resource and host-port
    /// rows are left out: the scheduler decides those), then taint rows after its
    /// tainted-node tests (`TestTaintedNodeDaemonDoesNotLaunchIntolerantPod`,
    /// `TestNodeDaemonLaunchesToleratePod`, the node condition taints).
    #[test]
    fn node_should_run_daemon_pod() {
        let plain = with_daemon_tolerations(&PodTemplate::default());
        let t = |f: &dyn Fn(&mut PodTemplate)| {
            let mut t = PodTemplate::default();
            f(&mut t);
            with_daemon_tolerations(&t)
        };
        let affinity = |value: &str| NodeAffinity {
            required: Some(vec![NodeSelectorTerm {
                match_expressions: vec![SelectorRequirement {
                    key: "type".into(),
                    operator: SelectorOperator::In,
                    values: vec![value.into()],
                }],
                match_fields: Vec::new(),
            }]),
            preferred: Vec::new(),
        };
        let labelled = node("test-node", &[("type", "production")], &[]);
        let mut cordoned = labelled.clone();
        cordoned.unschedulable = true;
        let rows: Vec<(&str, PodTemplate, NodeSpec, (bool, bool))> = vec![
            (
                "ShouldRunDaemonPod",
                plain.clone(),
                labelled.clone(),
                (true, true),
            ),
            (
                "ErrPodNotMatchHostName",
                t(&|t| t.node_name = Some("other-node".into())),
                labelled.clone(),
                (false, false),
            ),
            (
                "ErrNodeSelectorNotMatch",
                t(&|t| t.node_selector = Labels::new([("type", "test")])),
                labelled.clone(),
                (false, false),
            ),
            (
                "ShouldRunDaemonPod (nodeSelector matches)",
                t(&|t| t.node_selector = Labels::new([("type", "production")])),
                labelled.clone(),
                (true, true),
            ),
            (
                "ErrPodAffinityNotMatch",
                t(&|t| t.node_affinity = Some(affinity("test"))),
                labelled.clone(),
                (false, false),
            ),
            (
                "ShouldRunDaemonPod (node affinity matches)",
                t(&|t| t.node_affinity = Some(affinity("production"))),
                labelled.clone(),
                (true, true),
            ),
            (
                "ShouldRunDaemonPodOnUnschedulableNode",
                plain.clone(),
                cordoned,
                (true, true),
            ),
            (
                "untolerated NoSchedule taint: no new pod, a running one stays",
                plain.clone(),
                node("a", &[], &[("dedicated", TaintEffect::NoSchedule)]),
                (false, true),
            ),
            (
                "untolerated NoExecute taint: neither",
                plain.clone(),
                node("a", &[], &[("dedicated", TaintEffect::NoExecute)]),
                (false, false),
            ),
            (
                "node condition taints are tolerated by default",
                plain,
                node(
                    "a",
                    &[],
                    &[
                        ("node.kubernetes.io/not-ready", TaintEffect::NoExecute),
                        ("node.kubernetes.io/unreachable", TaintEffect::NoExecute),
                        ("node.kubernetes.io/unschedulable", TaintEffect::NoSchedule),
                        (
                            "node.kubernetes.io/memory-pressure",
                            TaintEffect::NoSchedule,
                        ),
                    ],
                ),
                (true, true),
            ),
        ];
        for (name, t, n, want) in rows {
            assert_eq!(should_run(&t, &n), want, "{name}");
        }
    }

    #[test]
    fn a_daemon_pod_is_pinned_by_match_fields_replacing_required_terms() {
        let base = PodTemplate {
            node_affinity: Some(NodeAffinity {
                required: Some(vec![NodeSelectorTerm {
                    match_expressions: vec![SelectorRequirement {
                        key: "disk".into(),
                        operator: SelectorOperator::In,
                        values: vec!["ssd".into()],
                    }],
                    match_fields: Vec::new(),
                }]),
                preferred: Vec::new(),
            }),
            ..Default::default()
        };
        let t = pinned_template(&base, "n-1");
        let a = t.node_affinity.as_ref().unwrap();
        assert!(a.required_matches(&Labels::default(), "n-1"));
        assert!(!a.required_matches(&Labels::new([("disk", "ssd")]), "n-2"));
        // The defaults are added once, even to a template that has one already.
        let twice = with_daemon_tolerations(&with_daemon_tolerations(&base));
        assert_eq!(twice.tolerations.len(), DEFAULT_TOLERATIONS.len());
    }
}
