//! PodTopologySpread: keeps the pods a constraint selects spread evenly over topology
//! domains (zones, nodes, any node label), refusing nodes that would break a hard
//! constraint and preferring nodes that keep a soft one balanced.
//!
//! Follows kube-scheduler v1.35, `pkg/scheduler/framework/plugins/podtopologyspread/`
//! (`common.go`, `filtering.go`, `scoring.go`, `plugin.go`), with every feature gate of that
//! release at its default (minDomains, node inclusion policies and matchLabelKeys all on):
//!
//! - **Constraints.** A pod's own `topologySpreadConstraints` are used if it has any (of
//!   either kind); otherwise the plugin's default constraints apply (see below). A
//!   constraint's selector is its `labelSelector` (an absent one selects no pod) ANDed with
//!   `key In (value)` for each `matchLabelKeys` key the incoming pod has; when the selector is
//!   absent and some key is present, the keys alone form the selector, as upstream's merge
//!   does. `minDomains` defaults to 1, `nodeAffinityPolicy` to Honor, `nodeTaintsPolicy`
//!   to Ignore.
//! - **Counting.** Only pods in the incoming pod's namespace count. A node takes part only
//!   if it has the topology key of every constraint; then, per constraint, only if it
//!   passes the inclusion policies (Honor: it satisfies the pod's nodeSelector and required
//!   node affinity / it has no NoSchedule or NoExecute taint the pod does not tolerate).
//!   Each such node creates its domain (even with no matching pod) and adds its matching
//!   pods to it.
//! - **PreFilter / Filter (DoNotSchedule).** PreFilter returns Skip when the pod has no hard
//!   constraint. Filter takes the constraints in order: a node without the constraint's
//!   topology key is UnschedulableAndUnresolvable, `node(s) didn't match pod topology spread
//!   constraints (missing required label)`; a node where `matchNum + selfMatch - minMatch >
//!   maxSkew` is Unschedulable, `node(s) didn't match pod topology spread constraints`.
//!   `matchNum` is the count in the node's domain (0 for a domain no eligible node
//!   created), `selfMatch` is 1 when the selector matches the incoming pod, and `minMatch`
//!   is the smallest count over the eligible domains, or 0 when there are fewer of them than
//!   `minDomains`.
//! - **PreScore / Score / NormalizeScore (ScheduleAnyway).** PreScore returns Skip when the
//!   pod has no soft constraint. The feasible nodes lacking a topology key are ignored
//!   (scored 0), except under system-default constraints, where a node without a zone still
//!   counts (its pods are pooled in the domain `""`) and is scored on hostname alone. Domains
//!   are the values found on the scored nodes; each constraint's weight is
//!   `ln(domains + 2)`, where a `kubernetes.io/hostname` constraint has one domain per
//!   scored node and counts a node's own pods at Score time. A node's raw score is
//!   `round(Σ count × weight + (maxSkew − 1))` over the constraints whose key it has, in
//!   `f64` in upstream's order; NormalizeScore maps it to `100 × (max + min − s) / max`
//!   (integer division; 100 for all when `max` is 0; 0 for ignored nodes), so the
//!   emptiest domain scores highest.
//! - **Default constraints.** With system defaulting (the default, upstream's
//!   `defaultingType: System`): `{maxSkew: 3, kubernetes.io/hostname, ScheduleAnyway}` and
//!   `{maxSkew: 5, topology.kubernetes.io/zone, ScheduleAnyway}`; with
//!   [`PodTopologySpread::with_default_constraints`], the given list (`defaultingType:
//!   List`), whose nodes must then carry every key, as for a pod's own constraints.
//!
//! Simplifications, stated:
//! - Default constraints need a selector built from the Services, ReplicationControllers,
//!   ReplicaSets and StatefulSets selecting the pod. schedlab models only the owner's kind,
//!   so a pod owned by a ReplicaSet or a StatefulSet gets a selector equal to its own
//!   labels (`matchLabels`: the pods of its workload); other pods (bare, Job) get no
//!   default constraints, as if no Service selected them, and so does a workload without
//!   labels (upstream's empty selector). A real Deployment's ReplicaSet also selects on
//!   `pod-template-hash`; here other workloads whose pods carry all the same labels count
//!   too.
//! - Pods being deleted are not modelled (upstream skips pods with a deletion timestamp),
//!   and nominated pods are not added to the counts before filtering, since schedlab's
//!   framework does not run filters with nominated pods.
//! - Preemption's dry run (`PreFilterExtensions`: `AddPod`/`RemovePod`) is not
//!   implemented: schedlab's DefaultPreemption re-checks only resources with the victims
//!   removed, so it never evicts pods to repair a spread violation.
//! - `ln` is the platform's, not Go's `math.Log`; they may differ in the last bit, which
//!   could only matter for a raw score that lands exactly on `x.5`.
//!
//! Performance: a pod with no constraint of its own and no applicable default returns Skip
//! at PreFilter and PreScore before anything is built. Otherwise the plugin keeps, per
//! template (the eight last used), the parsed constraints and a tally of each
//! node's matching pods and topology value. A tally is refreshed by comparing node
//! generations ([`ClusterState::generations`]) and recounting only the nodes that moved,
//! so the replicas of a workload scheduled one after another cost a pass over the
//! generations plus the pods of the few nodes that changed, not every pod in the cluster.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cluster::ClusterState;
use crate::filters::matches_selector_and_affinity;
use crate::framework::profile::Points;
use crate::framework::{MAX_NODE_SCORE, Plugin, Status};
use crate::labels::{Labels, SelectorOperator, SelectorRequirement};
use crate::node::{Node, NodeId};
use crate::pod::{OwnerKind, Pod, PodTemplate};
use crate::pod_affinity::{
    InclusionPolicy, LabelSelector, TopologySpreadConstraint, WhenUnsatisfiable,
};
use crate::reason::Reason;
use crate::taints::first_untolerated;

/// The node label kubelets set to the node's name (`v1.LabelHostname`).
pub const LABEL_HOSTNAME: &str = "kubernetes.io/hostname";
/// The well-known zone label (`v1.LabelTopologyZone`).
pub const LABEL_ZONE: &str = "topology.kubernetes.io/zone";

/// A node's value id when it has no topology value for a constraint.
const NO_DOMAIN: u32 = u32::MAX;

/// The system default constraints (`systemDefaultConstraints` in `plugin.go`).
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    vec![
        TopologySpreadConstraint {
            max_skew: 3,
            topology_key: LABEL_HOSTNAME.to_string(),
            when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
            ..Default::default()
        },
        TopologySpreadConstraint {
            max_skew: 5,
            topology_key: LABEL_ZONE.to_string(),
            when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
            ..Default::default()
        },
    ]
}

/// A constraint as the plugin uses it: defaults filled in, selector merged.
#[derive(Debug, Clone)]
struct Constraint {
    max_skew: i32,
    topology_key: String,
    /// `None` selects no pod.
    selector: Option<LabelSelector>,
    min_domains: i32,
    node_affinity_policy: InclusionPolicy,
    node_taints_policy: InclusionPolicy,
    /// The key is `kubernetes.io/hostname`: scoring counts per node, not per domain.
    hostname: bool,
    /// The selector matches the incoming pod (Filter's `selfMatchNum`).
    self_match: bool,
}

impl Constraint {
    /// `filterTopologySpreadConstraints` for one constraint of the pod with these labels.
    fn from_spec(c: &TopologySpreadConstraint, pod_labels: &Labels) -> Constraint {
        let mut selector = c.label_selector.clone();
        // matchLabelKeys: the incoming pod's values for these keys, ANDed with the selector.
        // Requirements rather than matchLabels, so a key the selector already constrains is
        // ANDed, not overwritten.
        let extra: Vec<SelectorRequirement> = c
            .match_label_keys
            .iter()
            .filter_map(|key| {
                pod_labels.get(key).map(|value| SelectorRequirement {
                    key: key.clone(),
                    operator: SelectorOperator::In,
                    values: vec![value.to_string()],
                })
            })
            .collect();
        if !extra.is_empty() {
            // Upstream merges into an absent selector too: the keys alone then select.
            selector
                .get_or_insert_with(LabelSelector::default)
                .match_expressions
                .extend(extra);
        }
        let self_match = selector.as_ref().is_some_and(|s| s.matches(pod_labels));
        Constraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            selector,
            min_domains: c.min_domains.unwrap_or(1),
            node_affinity_policy: c.node_affinity_policy,
            node_taints_policy: c.node_taints_policy,
            hostname: c.topology_key == LABEL_HOSTNAME,
            self_match,
        }
    }
}

/// True when the node has the topology key of every constraint
/// (`nodeLabelsMatchSpreadConstraints`).
fn has_all_keys(labels: &Labels, constraints: &[Constraint]) -> bool {
    constraints
        .iter()
        .all(|c| labels.get(&c.topology_key).is_some())
}

/// A node's answers to the inclusion policies for one pod, worked out only when a
/// constraint with an Honor policy asks.
struct Inclusion<'a> {
    template: &'a PodTemplate,
    node: &'a Node,
    affinity: Option<bool>,
    taints: Option<bool>,
}

impl<'a> Inclusion<'a> {
    fn new(template: &'a PodTemplate, node: &'a Node) -> Inclusion<'a> {
        Inclusion {
            template,
            node,
            affinity: None,
            taints: None,
        }
    }

    /// `matchNodeInclusionPolicies`: does this node count for this constraint?
    fn includes(&mut self, c: &Constraint) -> bool {
        let (t, node) = (self.template, self.node);
        if c.node_affinity_policy == InclusionPolicy::Honor
            && !*self
                .affinity
                .get_or_insert_with(|| matches_selector_and_affinity(t, node))
        {
            return false;
        }
        if c.node_taints_policy == InclusionPolicy::Honor
            && !*self.taints.get_or_insert_with(|| {
                first_untolerated(&node.spec.taints, &t.tolerations).is_none()
            })
        {
            return false;
        }
        true
    }
}

/// The pods on `node` in `namespace` that `selector` matches (`countPodsMatchSelector`).
fn count_matching(
    cluster: &ClusterState,
    node: &Node,
    selector: Option<&LabelSelector>,
    namespace: &str,
) -> i64 {
    let Some(selector) = selector else {
        return 0;
    };
    // Pods of one workload share their template, so a node's pods mostly repeat a few
    // templates: remember the last verdict instead of matching the labels again.
    let mut last: Option<(*const PodTemplate, bool)> = None;
    let mut count = 0;
    for &id in &node.pods {
        let Some(p) = cluster.pod(id) else { continue };
        let ptr = Arc::as_ptr(&p.template);
        let matched = match last {
            Some((seen, verdict)) if seen == ptr => verdict,
            _ => {
                let t = &p.template;
                let verdict = t.namespace == namespace && selector.matches(&t.labels);
                last = Some((ptr, verdict));
                verdict
            }
        };
        count += i64::from(matched);
    }
    count
}

/// How a tally reads nodes: PreFilter's way or PreScore's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A node counts only if it has every key; a node without a key has no domain.
    Filter,
    /// A node counts if it has every key or `require_all` is false; a missing key reads
    /// as the value `""`. Hostname constraints are left to Score.
    Score {
        /// Scoring ignores nodes lacking a key (false only under system defaults).
        require_all: bool,
    },
}

/// One constraint's running tally over the cluster's nodes.
#[derive(Debug, Default)]
struct ConstraintTally {
    /// Topology values seen so far, each with its id. Ids index `totals` and
    /// `counted_nodes` and are never reused while the tally lives.
    ids: HashMap<String, u32>,
    /// Per node id: the id of its value, or [`NO_DOMAIN`].
    node_value: Vec<u32>,
    /// Per node id: its matching pods if it counts for this constraint, else -1.
    node_count: Vec<i64>,
    /// Per value id: the sum of `node_count` over the nodes that count.
    totals: Vec<i64>,
    /// Per value id: how many nodes count. A domain with none is not eligible.
    counted_nodes: Vec<u32>,
}

impl ConstraintTally {
    fn intern(&mut self, value: &str) -> u32 {
        if let Some(&id) = self.ids.get(value) {
            return id;
        }
        let id = self.totals.len() as u32;
        self.ids.insert(value.to_string(), id);
        self.totals.push(0);
        self.counted_nodes.push(0);
        id
    }

    /// Takes node `i` out of the tally.
    fn retract(&mut self, i: usize) {
        let count = self.node_count[i];
        if count >= 0 {
            let id = self.node_value[i] as usize;
            self.totals[id] -= count;
            self.counted_nodes[id] -= 1;
        }
        self.node_count[i] = -1;
        self.node_value[i] = NO_DOMAIN;
    }

    /// Counts node `i`, whose value id is already set, with `count` matching pods.
    fn add(&mut self, i: usize, count: i64) {
        let id = self.node_value[i] as usize;
        self.node_count[i] = count;
        self.totals[id] += count;
        self.counted_nodes[id] += 1;
    }
}

/// Per-node counts of a template's constraints, kept up to date incrementally: a node
/// is counted again only when its generation moved (a pod bound or removed there, its
/// spec changed), so scheduling the replicas of a workload one after another costs a
/// pass over the generations plus the pods of the few nodes that changed, instead of
/// every pod in the cluster for every replica.
#[derive(Debug, Default)]
struct Tally {
    /// The cluster (its uid) the figures are for; 0 before the first refresh.
    cluster: u64,
    /// Per node id: the generation and readiness the figures were computed at.
    seen: Vec<Option<(u64, bool)>>,
    per: Vec<ConstraintTally>,
}

impl Tally {
    /// Brings the figures up to date with `cluster` for these constraints of template `t`.
    fn refresh(
        &mut self,
        constraints: &[Constraint],
        mode: Mode,
        t: &PodTemplate,
        cluster: &ClusterState,
    ) {
        if self.cluster != cluster.uid() || self.per.len() != constraints.len() {
            self.cluster = cluster.uid();
            self.seen.clear();
            self.per.clear();
            self.per
                .resize_with(constraints.len(), ConstraintTally::default);
        }
        let nodes = cluster.nodes();
        let generations = cluster.generations();
        self.seen.resize(nodes.len(), None);
        for ct in &mut self.per {
            ct.node_value.resize(nodes.len(), NO_DOMAIN);
            ct.node_count.resize(nodes.len(), -1);
        }
        let scored = |c: &Constraint| mode == Mode::Filter || !c.hostname;
        for (i, node) in nodes.iter().enumerate() {
            let key = Some((generations[i], node.ready));
            if self.seen[i] == key {
                continue;
            }
            self.seen[i] = key;
            for ct in &mut self.per {
                ct.retract(i);
            }
            if !node.ready {
                continue;
            }
            let labels = &node.spec.labels;
            // Every node with the key gets its value, counted or not: Filter looks up any
            // node it is asked about, Score any feasible node.
            for (c, ct) in constraints.iter().zip(&mut self.per) {
                if !scored(c) {
                    continue;
                }
                let value = match mode {
                    Mode::Filter => labels.get(&c.topology_key),
                    Mode::Score { .. } => Some(labels.get(&c.topology_key).unwrap_or("")),
                };
                if let Some(value) = value {
                    ct.node_value[i] = ct.intern(value);
                }
            }
            let counts = match mode {
                Mode::Filter => has_all_keys(labels, constraints),
                Mode::Score { require_all } => !require_all || has_all_keys(labels, constraints),
            };
            if !counts {
                continue;
            }
            let mut inclusion = Inclusion::new(t, node);
            for (c, ct) in constraints.iter().zip(&mut self.per) {
                if scored(c) && inclusion.includes(c) {
                    let count = count_matching(cluster, node, c.selector.as_ref(), &t.namespace);
                    ct.add(i, count);
                }
            }
        }
    }
}

/// What the plugin keeps for one template: its constraints and their tallies.
#[derive(Debug)]
struct Entry {
    /// The template; holding the `Arc` keeps its address from being reused, so pointer
    /// equality means the same template.
    template: Arc<PodTemplate>,
    /// DoNotSchedule constraints, in the pod's order.
    hard: Vec<Constraint>,
    /// ScheduleAnyway constraints, in the pod's order.
    soft: Vec<Constraint>,
    /// Scoring ignores nodes lacking a key: false only under system-default constraints.
    require_all_topologies: bool,
    hard_tally: Tally,
    soft_tally: Tally,
    /// When it was last used, for eviction.
    used: u64,
}

/// How many templates' entries are kept. Workloads interleave (replicas of several
/// Deployments replaced one after another); beyond this, the least recently used goes.
const MAX_ENTRIES: usize = 8;

/// PreFilter's figures for one hard constraint and the current pod.
#[derive(Debug, Clone, Copy)]
struct HardSummary {
    /// How many domains are eligible (have a counted node).
    eligible_domains: usize,
    /// The smallest count over the eligible domains (`math.MaxInt32` if none).
    min_match: i64,
}

/// The PodTopologySpread plugin.
#[derive(Debug)]
pub struct PodTopologySpread {
    /// Constraints for pods that have none of their own.
    default_constraints: Vec<TopologySpreadConstraint>,
    /// `defaultingType: System`.
    system_defaulted: bool,
    entries: Vec<Entry>,
    /// Ticks once per lookup, to find the least recently used entry.
    clock: u64,
    /// The entry whose hard constraints PreFilter counted for the current pod.
    hard_pod: Option<usize>,
    /// Per hard constraint of that entry.
    hard_summary: Vec<HardSummary>,
    /// The entry whose soft constraints PreScore counted for the current pod.
    soft_pod: Option<usize>,
    /// Per soft constraint of that entry: `ln(domains + 2)`.
    weights: Vec<f64>,
    /// Per feasible node, in PreScore's order: it lacks a required key and scores 0.
    ignored: Vec<bool>,
    /// Scratch: per value id, whether it is a domain of a scored node.
    marks: Vec<bool>,
}

impl Default for PodTopologySpread {
    /// Upstream's default arguments: `defaultingType: System`.
    fn default() -> PodTopologySpread {
        PodTopologySpread {
            default_constraints: system_default_constraints(),
            system_defaulted: true,
            entries: Vec::new(),
            clock: 0,
            hard_pod: None,
            hard_summary: Vec::new(),
            soft_pod: None,
            weights: Vec::new(),
            ignored: Vec::new(),
            marks: Vec::new(),
        }
    }
}

impl PodTopologySpread {
    /// Its name.
    pub const NAME: &'static str = "PodTopologySpread";
    /// Where it runs.
    pub const POINTS: Points = Points::ALL;
    /// Filter's reason when a node would break a hard constraint (`ErrReasonConstraintsNotMatch`).
    pub const REASON: &'static str = "node(s) didn't match pod topology spread constraints";
    /// Filter's reason when a node lacks a hard constraint's topology key
    /// (`ErrReasonNodeLabelNotMatch`).
    pub const REASON_MISSING_LABEL: &'static str =
        "node(s) didn't match pod topology spread constraints (missing required label)";

    /// The plugin with `defaultingType: List` and these default constraints (possibly
    /// none). Their label selectors and matchLabelKeys are replaced by the workload's
    /// selector, as upstream does.
    pub fn with_default_constraints(
        constraints: Vec<TopologySpreadConstraint>,
    ) -> PodTopologySpread {
        PodTopologySpread {
            default_constraints: constraints,
            system_defaulted: false,
            ..PodTopologySpread::default()
        }
    }

    /// True when default constraints would apply to a pod without constraints of its own:
    /// it belongs to a ReplicaSet or a StatefulSet, which select on (here) its labels.
    fn defaults_apply(&self, t: &PodTemplate) -> bool {
        matches!(t.owner, OwnerKind::ReplicaSet | OwnerKind::StatefulSet)
            && !t.labels.is_empty()
            && !self.default_constraints.is_empty()
    }

    /// The cheap test that lets plain pods skip the plugin without building anything.
    fn may_have_constraints(&self, t: &PodTemplate) -> bool {
        !t.topology_spread_constraints.is_empty() || self.defaults_apply(t)
    }

    /// The entry for this template, built if needed (`getConstraints` and
    /// `initPreScoreState`'s choice of constraints), evicting the least recently used.
    fn entry(&mut self, template: &Arc<PodTemplate>) -> usize {
        self.clock += 1;
        if let Some(i) = self
            .entries
            .iter()
            .position(|e| Arc::ptr_eq(&e.template, template))
        {
            self.entries[i].used = self.clock;
            return i;
        }
        let t: &PodTemplate = template;
        let (mut hard, mut soft) = (Vec::new(), Vec::new());
        let require_all_topologies;
        let mut sort = |c: &TopologySpreadConstraint, built| match c.when_unsatisfiable {
            WhenUnsatisfiable::DoNotSchedule => hard.push(built),
            WhenUnsatisfiable::ScheduleAnyway => soft.push(built),
        };
        if !t.topology_spread_constraints.is_empty() {
            for c in &t.topology_spread_constraints {
                sort(c, Constraint::from_spec(c, &t.labels));
            }
            require_all_topologies = true;
        } else {
            if self.defaults_apply(t) {
                // buildDefaultConstraints: the defaults with the workload's selector.
                let selector = LabelSelector {
                    match_labels: t.labels.clone(),
                    match_expressions: Vec::new(),
                };
                for c in &self.default_constraints {
                    let mut built = Constraint::from_spec(c, &t.labels);
                    built.selector = Some(selector.clone());
                    built.self_match = true;
                    sort(c, built);
                }
            }
            // Only system defaults spare nodes without a zone from being ignored.
            require_all_topologies = !self.system_defaulted;
        }
        let entry = Entry {
            template: Arc::clone(template),
            hard,
            soft,
            require_all_topologies,
            hard_tally: Tally::default(),
            soft_tally: Tally::default(),
            used: self.clock,
        };
        if self.entries.len() < MAX_ENTRIES {
            self.entries.push(entry);
            return self.entries.len() - 1;
        }
        let oldest = (0..self.entries.len())
            .min_by_key(|&i| self.entries[i].used)
            .expect("entries are full");
        self.entries[oldest] = entry;
        oldest
    }
}

impl Plugin for PodTopologySpread {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, cluster: &ClusterState) -> Status {
        // Filter reads this; it must never see the previous pod's counts.
        self.hard_pod = None;
        if !self.may_have_constraints(&pod.template) {
            return Status::skip();
        }
        let i = self.entry(&pod.template);
        let e = &mut self.entries[i];
        if e.hard.is_empty() {
            return Status::skip();
        }
        e.hard_tally
            .refresh(&e.hard, Mode::Filter, &e.template, cluster);
        self.hard_summary.clear();
        for ct in &e.hard_tally.per {
            let eligible = || {
                ct.totals
                    .iter()
                    .zip(&ct.counted_nodes)
                    .filter(|(_, n)| **n > 0)
                    .map(|(&total, _)| total)
            };
            self.hard_summary.push(HardSummary {
                eligible_domains: eligible().count(),
                min_match: eligible().min().unwrap_or(i64::from(i32::MAX)),
            });
        }
        self.hard_pod = Some(i);
        Status::success()
    }

    fn filter(&self, _pod: &Pod, _cluster: &ClusterState, node: NodeId) -> Status {
        // Without PreFilter's counts for this pod (it had no hard constraint) every node
        // passes, as upstream's empty state does.
        let Some(e) = self.hard_pod.map(|i| &self.entries[i]) else {
            return Status::success();
        };
        for ((c, ct), s) in e.hard.iter().zip(&e.hard_tally.per).zip(&self.hard_summary) {
            let id = ct
                .node_value
                .get(node.index())
                .copied()
                .unwrap_or(NO_DOMAIN);
            if id == NO_DOMAIN {
                return Status::unresolvable(Reason::TopologySpreadMissingLabel);
            }
            // With fewer eligible domains than minDomains, the global minimum is 0.
            let min_match = if (s.eligible_domains as i64) < i64::from(c.min_domains) {
                0
            } else {
                s.min_match
            };
            // A domain without counted nodes has a total of 0, as upstream's missing entry.
            let skew = ct.totals[id as usize] + i64::from(c.self_match) - min_match;
            if skew > i64::from(c.max_skew) {
                return Status::unschedulable(Reason::TopologySpread);
            }
        }
        Status::success()
    }

    /// The feasible nodes decide which nodes are ignored and how many domains weigh each
    /// constraint.
    fn pre_score_reads_feasible(&self) -> bool {
        true
    }

    fn pre_score(&mut self, pod: &Pod, cluster: &ClusterState, feasible: &[NodeId]) -> Status {
        self.soft_pod = None;
        if !self.may_have_constraints(&pod.template) || !cluster.nodes().iter().any(|n| n.ready) {
            return Status::skip();
        }
        let i = self.entry(&pod.template);
        let e = &mut self.entries[i];
        if e.soft.is_empty() {
            return Status::skip();
        }
        let require_all = e.require_all_topologies;
        e.soft_tally
            .refresh(&e.soft, Mode::Score { require_all }, &e.template, cluster);
        // initPreScoreState: the feasible nodes lacking a key are ignored; the domains are
        // the values of the others.
        self.ignored.clear();
        let mut scored = 0usize;
        for &id in feasible {
            let skip = require_all && !has_all_keys(&cluster.node(id).spec.labels, &e.soft);
            self.ignored.push(skip);
            scored += usize::from(!skip);
        }
        self.weights.clear();
        for (c, ct) in e.soft.iter().zip(&e.soft_tally.per) {
            let size = if c.hostname {
                scored
            } else {
                self.marks.clear();
                self.marks.resize(ct.totals.len(), false);
                for (&id, &skip) in feasible.iter().zip(&self.ignored) {
                    if !skip {
                        self.marks[ct.node_value[id.index()] as usize] = true;
                    }
                }
                self.marks.iter().filter(|&&m| m).count()
            };
            self.weights.push((size as f64 + 2.0).ln());
        }
        self.soft_pod = Some(i);
        Status::success()
    }

    fn score(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> i64 {
        let Some(e) = self.soft_pod.map(|i| &self.entries[i]) else {
            return 0;
        };
        let n = cluster.node(node);
        let labels = &n.spec.labels;
        if e.require_all_topologies && !has_all_keys(labels, &e.soft) {
            return 0;
        }
        let mut score = 0.0f64;
        for ((c, ct), &weight) in e.soft.iter().zip(&e.soft_tally.per).zip(&self.weights) {
            if labels.get(&c.topology_key).is_none() {
                continue;
            }
            let count = if c.hostname {
                count_matching(cluster, n, c.selector.as_ref(), &pod.template.namespace)
            } else {
                // The domain's pods over every counted node, feasible or not.
                match ct.node_value.get(node.index()) {
                    Some(&id) if id != NO_DOMAIN => ct.totals[id as usize],
                    _ => 0,
                }
            };
            // scoreForCount: `maxSkew - 1` waters down small differences between domains.
            score += count as f64 * weight + f64::from(c.max_skew.wrapping_sub(1));
        }
        score.round() as i64
    }

    fn normalize_score(&self, _pod: &Pod, scores: &mut [i64]) {
        if self.soft_pod.is_none() {
            return;
        }
        let ignored = |j: usize| self.ignored.get(j).copied().unwrap_or(false);
        let (mut min, mut max) = (i64::MAX, 0i64);
        for (j, &s) in scores.iter().enumerate() {
            if !ignored(j) {
                min = min.min(s);
                max = max.max(s);
            }
        }
        for (j, s) in scores.iter_mut().enumerate() {
            *s = if ignored(j) {
                0
            } else if max == 0 {
                MAX_NODE_SCORE
            } else {
                // Fewer matching pods is better: the minimum maps to 100.
                MAX_NODE_SCORE * (max + min - *s) / max
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::SeedableRng;

    use super::*;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node};
    use crate::framework::{Code, FrameworkScheduler, Profile};
    use crate::labels::{NodeAffinity, NodeSelectorTerm};
    use crate::node::NodeSpec;
    use crate::pod::PodId;
    use crate::scheduler::{Cycle, Decision, Scheduler, SchedulerRng};
    use crate::taints::{Taint, TaintEffect, Toleration, TolerationOperator};

    use InclusionPolicy::{Honor, Ignore};
    use WhenUnsatisfiable::{DoNotSchedule as HARD, ScheduleAnyway as SOFT};

    const NS: &str = "default";
    const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

    // ----- builders, after upstream's st.MakePod / st.MakeNode / st.MakeLabelSelector -----

    /// `st.MakeLabelSelector().Exists(key)`: upstream's fooSelector and barSelector.
    fn exists(key: &str) -> Option<LabelSelector> {
        Some(LabelSelector {
            match_labels: Labels::default(),
            match_expressions: vec![SelectorRequirement {
                key: key.into(),
                operator: SelectorOperator::Exists,
                values: vec![],
            }],
        })
    }

    /// `st.MakeLabelSelector().Label(key, value)`.
    fn label_is(key: &str, value: &str) -> Option<LabelSelector> {
        Some(LabelSelector {
            match_labels: Labels::new([(key, value)]),
            match_expressions: vec![],
        })
    }

    /// `st.MakeLabelSelector().Obj()`: empty, selects every pod.
    fn everything() -> Option<LabelSelector> {
        Some(LabelSelector::default())
    }

    /// The incoming pod, `st.MakePod().Name("p")` in the default namespace.
    #[derive(Clone)]
    struct PodB(PodTemplate);

    fn make_pod() -> PodB {
        PodB(PodTemplate {
            name: "p".into(),
            namespace: NS.into(),
            ..Default::default()
        })
    }

    impl PodB {
        fn label(mut self, key: &str, value: &str) -> PodB {
            self.0.labels.insert(key.into(), value.into());
            self
        }

        /// `SpreadConstraint(maxSkew, key, when, selector, nil, nil, nil, nil)`.
        fn spread(
            self,
            max_skew: i32,
            key: &str,
            when: WhenUnsatisfiable,
            selector: Option<LabelSelector>,
        ) -> PodB {
            self.spread_with(TopologySpreadConstraint {
                max_skew,
                topology_key: key.into(),
                when_unsatisfiable: when,
                label_selector: selector,
                ..Default::default()
            })
        }

        fn spread_with(mut self, c: TopologySpreadConstraint) -> PodB {
            self.0.topology_spread_constraints.push(c);
            self
        }

        fn node_selector(mut self, key: &str, value: &str) -> PodB {
            self.0.node_selector.insert(key.into(), value.into());
            self
        }

        fn node_affinity(mut self, key: &str, op: SelectorOperator, values: &[&str]) -> PodB {
            self.0.node_affinity = Some(NodeAffinity {
                required: Some(vec![NodeSelectorTerm {
                    match_expressions: vec![SelectorRequirement {
                        key: key.into(),
                        operator: op,
                        values: values.iter().map(|v| v.to_string()).collect(),
                    }],
                    match_fields: vec![],
                }]),
                preferred: vec![],
            });
            self
        }

        /// `Toleration(key)`: tolerates any value of the key.
        fn toleration(mut self, key: &str) -> PodB {
            self.0.tolerations.push(Toleration {
                key: key.into(),
                operator: TolerationOperator::Exists,
                ..Default::default()
            });
            self
        }

        fn owner(mut self, owner: OwnerKind) -> PodB {
            self.0.owner = owner;
            self
        }

        fn obj(self) -> PodTemplate {
            self.0
        }
    }

    /// A constraint with every field given, for the policy and minDomains cases.
    fn constraint(
        max_skew: i32,
        key: &str,
        selector: Option<LabelSelector>,
        min_domains: Option<i32>,
        affinity: InclusionPolicy,
        taints: InclusionPolicy,
        match_label_keys: &[&str],
    ) -> TopologySpreadConstraint {
        TopologySpreadConstraint {
            max_skew,
            topology_key: key.into(),
            when_unsatisfiable: HARD,
            label_selector: selector,
            min_domains,
            node_affinity_policy: affinity,
            node_taints_policy: taints,
            match_label_keys: match_label_keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    /// A node with these labels.
    fn n(name: &str, labels: &[(&str, &str)]) -> NodeSpec {
        node(name, labels, vec![])
    }

    /// A node with upstream's test taint, `node.kubernetes.io/unschedulable:NoSchedule`.
    fn tainted(name: &str, labels: &[(&str, &str)]) -> NodeSpec {
        node(
            name,
            labels,
            vec![Taint {
                key: UNSCHEDULABLE_TAINT.into(),
                value: String::new(),
                effect: TaintEffect::NoSchedule,
            }],
        )
    }

    /// A node labelled `zone: zone` and `node: name`, as most upstream cases build them.
    fn zn(name: &str, zone: &str) -> NodeSpec {
        n(name, &[("zone", zone), ("node", name)])
    }

    /// node-a, node-b in zone1 and node-x, node-y in zone2.
    fn four_nodes() -> Vec<NodeSpec> {
        vec![
            zn("node-a", "zone1"),
            zn("node-b", "zone1"),
            zn("node-x", "zone2"),
            zn("node-y", "zone2"),
        ]
    }

    /// A node labelled only `kubernetes.io/hostname: name`.
    fn host(name: &str) -> NodeSpec {
        n(name, &[(LABEL_HOSTNAME, name)])
    }

    /// A node with a zone and a hostname label.
    fn zh(name: &str, zone: &str) -> NodeSpec {
        n(name, &[("zone", zone), (LABEL_HOSTNAME, name)])
    }

    /// An existing pod on `node`, in the default namespace, with these labels.
    fn on(node: &'static str, labels: &[(&str, &str)]) -> (&'static str, PodTemplate) {
        on_ns(node, NS, labels)
    }

    fn on_ns(
        node: &'static str,
        namespace: &str,
        labels: &[(&str, &str)],
    ) -> (&'static str, PodTemplate) {
        (
            node,
            PodTemplate {
                name: "existing".into(),
                namespace: namespace.into(),
                labels: Labels::new(labels.iter().copied()),
                ..Default::default()
            },
        )
    }

    /// `n` existing pods labelled `foo: ""` on `node`.
    fn foos(node: &'static str, count: usize) -> Vec<(&'static str, PodTemplate)> {
        (0..count).map(|_| on(node, &[("foo", "")])).collect()
    }

    /// The cluster: these nodes, in order, with the existing pods bound to them.
    fn world(nodes: Vec<NodeSpec>, existing: Vec<(&'static str, PodTemplate)>) -> ClusterState {
        let mut c = cluster(nodes);
        for (node_name, t) in existing {
            let id = add_pod(&mut c, t);
            let at = c
                .nodes()
                .iter()
                .position(|n| n.name() == node_name)
                .unwrap_or_else(|| panic!("no node {node_name}"));
            c.bind(id, NodeId(at as u32)).expect("test pods fit");
        }
        c
    }

    /// PreFilter's state as upstream's TestPreFilterState compares it: per hard
    /// constraint, the eligible domains with their counts (`TpValueToMatchNum`) and the
    /// minimum (`CriticalPaths[0].MatchNum`).
    type HardState = Vec<(Vec<(String, i64)>, i64)>;

    fn hard_state(pl: &PodTopologySpread) -> HardState {
        let e = &pl.entries[pl.hard_pod.expect("PreFilter counted")];
        e.hard_tally
            .per
            .iter()
            .zip(&pl.hard_summary)
            .map(|(ct, summary)| {
                let domains: BTreeMap<String, i64> = ct
                    .ids
                    .iter()
                    .filter(|&(_, &id)| ct.counted_nodes[id as usize] > 0)
                    .map(|(value, &id)| (value.clone(), ct.totals[id as usize]))
                    .collect();
                (domains.into_iter().collect(), summary.min_match)
            })
            .collect()
    }

    fn want_state(rows: &[(&[(&str, i64)], i64)]) -> HardState {
        rows.iter()
            .map(|(domains, min)| {
                let d = domains.iter().map(|&(v, c)| (v.to_string(), c)).collect();
                (d, *min)
            })
            .collect()
    }

    /// Runs PreFilter for the pod, then Filter on every node in order; the codes, or
    /// PreFilter's status when it is not Success.
    fn filter_codes(
        pl: &mut PodTopologySpread,
        c: &mut ClusterState,
        pod: PodTemplate,
    ) -> Result<Vec<Code>, Status> {
        let id = add_pod(c, pod);
        let pod = c.pod(id).unwrap();
        let status = pl.pre_filter(pod, c);
        if status.code != Code::Success {
            return Err(status);
        }
        Ok((0..c.nodes().len() as u32)
            .map(|i| pl.filter(pod, c, NodeId(i)).code)
            .collect())
    }

    /// Mirrors TestPreFilterState (filtering_test.go): the counts PreFilter builds.
    #[test]
    fn pre_filter_state_follows_upstream() {
        struct Row {
            name: &'static str,
            pod: PodTemplate,
            nodes: Vec<NodeSpec>,
            existing: Vec<(&'static str, PodTemplate)>,
            plugin: PodTopologySpread,
            /// `None`: PreFilter returns Skip.
            want: Option<HardState>,
        }
        let foo = exists("foo");
        let bar = exists("bar");
        let row = |name, pod, nodes, existing, want: Option<HardState>| Row {
            name,
            pod,
            nodes,
            existing,
            plugin: PodTopologySpread::with_default_constraints(vec![]),
            want,
        };
        let p_foo = || make_pod().label("foo", "");
        let spread_foo_bar = || [foos("node-a", 2), foos("node-b", 1), foos("node-y", 2)].concat();
        let seven = || [foos("node-a", 2), foos("node-b", 1), foos("node-y", 4)].concat();
        let three_nodes = || {
            vec![
                zn("node-a", "zone1"),
                zn("node-b", "zone1"),
                zn("node-y", "zone2"),
            ]
        };
        let policy_nodes = || {
            vec![
                n("node-a", &[("node", "node-a"), ("foo", "")]),
                n("node-b", &[("node", "node-b"), ("foo", "")]),
                n("node-c", &[("node", "node-c"), ("bar", "")]),
            ]
        };
        let policy_pods = || {
            vec![
                on("node-a", &[("bar", "")]),
                on("node-b", &[("bar", "")]),
                on("node-b", &[("bar", "")]),
                on("node-c", &[]),
            ]
        };
        let taint_nodes = || {
            vec![
                n("node-a", &[("node", "node-a")]),
                n("node-b", &[("node", "node-b")]),
                tainted("node-c", &[("node", "node-c"), ("bar", "")]),
            ]
        };
        let mut rows = vec![
            // mirrors "clean cluster with one spreadConstraint"
            row(
                "clean cluster",
                p_foo()
                    .spread(5, "zone", HARD, label_is("foo", "bar"))
                    .obj(),
                four_nodes(),
                vec![],
                Some(want_state(&[(&[("zone1", 0), ("zone2", 0)], 0)])),
            ),
            // mirrors "normal case with one spreadConstraint"
            row(
                "one constraint",
                p_foo().spread(1, "zone", HARD, foo.clone()).obj(),
                four_nodes(),
                spread_foo_bar(),
                Some(want_state(&[(&[("zone1", 3), ("zone2", 2)], 2)])),
            ),
            // mirrors "normal case with null label selector"
            row(
                "null selector",
                p_foo().spread(1, "zone", HARD, None).obj(),
                four_nodes(),
                spread_foo_bar(),
                Some(want_state(&[(&[("zone1", 0), ("zone2", 0)], 0)])),
            ),
            // mirrors "normal case with one spreadConstraint, on a 3-zone cluster"
            row(
                "three zones",
                p_foo().spread(1, "zone", HARD, foo.clone()).obj(),
                [
                    four_nodes(),
                    vec![zn("node-o", "zone3"), zn("node-p", "zone3")],
                ]
                .concat(),
                spread_foo_bar(),
                Some(want_state(&[(
                    &[("zone1", 3), ("zone2", 2), ("zone3", 0)],
                    0,
                )])),
            ),
            // mirrors "namespace mismatch doesn't count"
            row(
                "namespace mismatch",
                p_foo().spread(1, "zone", HARD, foo.clone()).obj(),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "")]),
                    on_ns("node-a", "ns1", &[("foo", "")]),
                    on("node-b", &[("foo", "")]),
                    on_ns("node-y", "ns2", &[("foo", "")]),
                    on("node-y", &[("foo", "")]),
                ],
                Some(want_state(&[(&[("zone1", 2), ("zone2", 1)], 1)])),
            ),
            // mirrors "normal case with two spreadConstraints" (and "TpKeyToDomainsNum is
            // calculated when MinDomains is enabled", the same cluster)
            row(
                "two constraints",
                p_foo()
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                four_nodes(),
                seven(),
                Some(want_state(&[
                    (&[("zone1", 3), ("zone2", 4)], 3),
                    (
                        &[("node-a", 2), ("node-b", 1), ("node-x", 0), ("node-y", 4)],
                        0,
                    ),
                ])),
            ),
            // mirrors "soft spreadConstraints should be bypassed"
            row(
                "soft constraints are bypassed",
                p_foo()
                    .spread(1, "zone", SOFT, foo.clone())
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "node", SOFT, foo.clone())
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                three_nodes(),
                seven(),
                Some(want_state(&[
                    (&[("zone1", 3), ("zone2", 4)], 3),
                    (&[("node-a", 2), ("node-b", 1), ("node-y", 4)], 1),
                ])),
            ),
            // mirrors "different labelSelectors - simple version"
            row(
                "different selectors, simple",
                p_foo()
                    .label("bar", "")
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "node", HARD, bar.clone())
                    .obj(),
                three_nodes(),
                vec![on("node-a", &[("foo", "")]), on("node-b", &[("bar", "")])],
                Some(want_state(&[
                    (&[("zone1", 1), ("zone2", 0)], 0),
                    (&[("node-a", 0), ("node-b", 1), ("node-y", 0)], 0),
                ])),
            ),
            // mirrors "different labelSelectors - complex pods"
            row(
                "different selectors, complex pods",
                p_foo()
                    .label("bar", "")
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "node", HARD, bar.clone())
                    .obj(),
                three_nodes(),
                vec![
                    on("node-a", &[("foo", "")]),
                    on("node-a", &[("foo", ""), ("bar", "")]),
                    on("node-b", &[("foo", "")]),
                    on("node-y", &[("foo", "")]),
                    on("node-y", &[("foo", ""), ("bar", "")]),
                    on("node-y", &[("foo", "")]),
                    on("node-y", &[("foo", ""), ("bar", "")]),
                ],
                Some(want_state(&[
                    (&[("zone1", 3), ("zone2", 4)], 3),
                    (&[("node-a", 1), ("node-b", 0), ("node-y", 2)], 0),
                ])),
            ),
            // mirrors "two spreadConstraints, and with podAffinity" (node affinity, in fact)
            row(
                "node affinity excludes node-x",
                p_foo()
                    .node_affinity("node", SelectorOperator::NotIn, &["node-x"])
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                four_nodes(),
                seven(),
                Some(want_state(&[
                    (&[("zone1", 3), ("zone2", 4)], 3),
                    (&[("node-a", 2), ("node-b", 1), ("node-y", 4)], 1),
                ])),
            ),
            // mirrors "NodeAffinityPolicy honored with labelSelectors"
            row(
                "NodeAffinityPolicy honored, nodeSelector",
                p_foo()
                    .node_selector("foo", "")
                    .spread(1, "node", HARD, bar.clone())
                    .obj(),
                policy_nodes(),
                policy_pods(),
                Some(want_state(&[(&[("node-a", 1), ("node-b", 2)], 1)])),
            ),
            // mirrors "NodeAffinityPolicy ignored with labelSelectors"
            row(
                "NodeAffinityPolicy ignored, nodeSelector",
                p_foo()
                    .node_selector("foo", "")
                    .spread_with(constraint(
                        1,
                        "node",
                        bar.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .obj(),
                policy_nodes(),
                policy_pods(),
                Some(want_state(&[(
                    &[("node-a", 1), ("node-b", 2), ("node-c", 0)],
                    0,
                )])),
            ),
            // mirrors "NodeAffinityPolicy honored with nodeAffinity"
            row(
                "NodeAffinityPolicy honored, node affinity",
                p_foo()
                    .node_affinity("foo", SelectorOperator::In, &[""])
                    .spread(1, "node", HARD, bar.clone())
                    .obj(),
                policy_nodes(),
                policy_pods(),
                Some(want_state(&[(&[("node-a", 1), ("node-b", 2)], 1)])),
            ),
            // mirrors "NodeAffinityPolicy ignored with nodeAffinity"
            row(
                "NodeAffinityPolicy ignored, node affinity",
                p_foo()
                    .node_affinity("foo", SelectorOperator::In, &[""])
                    .spread_with(constraint(
                        1,
                        "node",
                        bar.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .obj(),
                policy_nodes(),
                policy_pods(),
                Some(want_state(&[(
                    &[("node-a", 1), ("node-b", 2), ("node-c", 0)],
                    0,
                )])),
            ),
            // mirrors "NodeTaintsPolicy ignored"
            row(
                "NodeTaintsPolicy ignored",
                p_foo().spread(1, "node", HARD, bar.clone()).obj(),
                taint_nodes(),
                policy_pods(),
                Some(want_state(&[(
                    &[("node-a", 1), ("node-b", 2), ("node-c", 0)],
                    0,
                )])),
            ),
            // mirrors "NodeTaintsPolicy honored"
            row(
                "NodeTaintsPolicy honored",
                p_foo()
                    .spread_with(constraint(1, "node", bar.clone(), None, Honor, Honor, &[]))
                    .obj(),
                taint_nodes(),
                policy_pods(),
                Some(want_state(&[(&[("node-a", 1), ("node-b", 2)], 1)])),
            ),
            // mirrors "NodeTaintsPolicy honored with tolerated taints"
            row(
                "NodeTaintsPolicy honored, taint tolerated",
                p_foo()
                    .toleration(UNSCHEDULABLE_TAINT)
                    .spread_with(constraint(1, "node", bar.clone(), None, Honor, Honor, &[]))
                    .obj(),
                taint_nodes(),
                policy_pods(),
                Some(want_state(&[(
                    &[("node-a", 1), ("node-b", 2), ("node-c", 0)],
                    0,
                )])),
            ),
            // mirrors "two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore"
            row(
                "zone honor/ignore, node ignore/ignore",
                p_foo()
                    .node_selector("foo", "")
                    .spread(1, "zone", HARD, foo.clone())
                    .spread_with(constraint(
                        1,
                        "node",
                        foo.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .obj(),
                vec![
                    n(
                        "node-a",
                        &[("zone", "zone1"), ("node", "node-a"), ("foo", "")],
                    ),
                    n("node-b", &[("zone", "zone1"), ("node", "node-b")]),
                    n(
                        "node-x",
                        &[("zone", "zone2"), ("node", "node-x"), ("foo", "")],
                    ),
                ],
                [foos("node-b", 2), foos("node-x", 1)].concat(),
                Some(want_state(&[
                    (&[("zone1", 0), ("zone2", 1)], 0),
                    (&[("node-a", 0), ("node-b", 2), ("node-x", 1)], 0),
                ])),
            ),
            // mirrors "two node inclusion Constraints, zone: honor/honor, node: honor/ignore"
            row(
                "zone honor/honor, node honor/ignore",
                p_foo()
                    .spread_with(constraint(1, "zone", foo.clone(), None, Honor, Honor, &[]))
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                vec![
                    n(
                        "node-a",
                        &[("zone", "zone1"), ("node", "node-a"), ("foo", "")],
                    ),
                    tainted("node-b", &[("zone", "zone1"), ("node", "node-b")]),
                    n(
                        "node-x",
                        &[("zone", "zone2"), ("node", "node-x"), ("foo", "")],
                    ),
                ],
                [foos("node-b", 2), foos("node-x", 1)].concat(),
                Some(want_state(&[
                    (&[("zone1", 0), ("zone2", 1)], 0),
                    (&[("node-a", 0), ("node-b", 2), ("node-x", 1)], 0),
                ])),
            ),
            // mirrors "two node inclusion Constraints, zone: honor/ignore, node: honor/ignore"
            row(
                "zone honor/ignore, node honor/ignore",
                p_foo()
                    .node_selector("foo", "")
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                vec![
                    n("node-a", &[("zone", "zone1"), ("node", "node-a")]),
                    tainted(
                        "node-b",
                        &[("zone", "zone1"), ("node", "node-b"), ("foo", "")],
                    ),
                    n(
                        "node-x",
                        &[("zone", "zone2"), ("node", "node-x"), ("foo", "")],
                    ),
                    n("node-y", &[("zone", "zone2"), ("node", "node-y")]),
                ],
                [foos("node-a", 2), foos("node-x", 1), foos("node-y", 1)].concat(),
                Some(want_state(&[
                    (&[("zone1", 0), ("zone2", 1)], 0),
                    (&[("node-b", 0), ("node-x", 1)], 0),
                ])),
            ),
            // mirrors "two node inclusion Constraints, zone: ignore/ignore, node: honor/honor"
            row(
                "zone ignore/ignore, node honor/honor",
                p_foo()
                    .node_selector("foo", "")
                    .spread_with(constraint(
                        1,
                        "zone",
                        foo.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .spread_with(constraint(1, "node", foo.clone(), None, Honor, Honor, &[]))
                    .obj(),
                vec![
                    n("node-a", &[("zone", "zone1"), ("node", "node-a")]),
                    tainted(
                        "node-b",
                        &[("zone", "zone1"), ("node", "node-b"), ("foo", "")],
                    ),
                    n(
                        "node-x",
                        &[("zone", "zone2"), ("node", "node-x"), ("foo", "")],
                    ),
                    n(
                        "node-y",
                        &[("zone", "zone2"), ("node", "node-y"), ("foo", "")],
                    ),
                ],
                [foos("node-a", 2), foos("node-x", 2), foos("node-y", 1)].concat(),
                Some(want_state(&[
                    (&[("zone1", 2), ("zone2", 3)], 2),
                    (&[("node-x", 2), ("node-y", 1)], 1),
                ])),
            ),
            // mirrors "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty"
            row(
                "matchLabelKeys ANDed with a selector",
                p_foo()
                    .label("bar", "a")
                    .spread_with(constraint(
                        1,
                        "zone",
                        foo.clone(),
                        None,
                        Honor,
                        Ignore,
                        &["bar"],
                    ))
                    .obj(),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "")]),
                    on("node-a", &[("foo", ""), ("bar", "a")]),
                    on("node-b", &[("foo", "")]),
                    on("node-y", &[("foo", ""), ("bar", "a")]),
                    on("node-y", &[("bar", "")]),
                ],
                Some(want_state(&[(&[("zone1", 1), ("zone2", 1)], 1)])),
            ),
            // mirrors "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty"
            row(
                "matchLabelKeys ANDed with an empty selector",
                make_pod()
                    .label("foo", "a")
                    .spread_with(constraint(
                        1,
                        "zone",
                        everything(),
                        None,
                        Honor,
                        Ignore,
                        &["foo"],
                    ))
                    .obj(),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "a")]),
                    on("node-a", &[("foo", "a")]),
                    on("node-b", &[("foo", "a")]),
                    on("node-y", &[("foo", "a")]),
                    on("node-y", &[("foo", "a")]),
                ],
                Some(want_state(&[(&[("zone1", 3), ("zone2", 2)], 2)])),
            ),
            // mirrors "key in matchLabelKeys is ignored when LabelSelector is nil when
            // feature gate enabled"
            row(
                "matchLabelKeys with a null selector and no such label",
                p_foo()
                    .spread_with(constraint(1, "zone", None, None, Honor, Ignore, &["bar"]))
                    .obj(),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "a")]),
                    on("node-a", &[("foo", "a")]),
                    on("node-b", &[("foo", "a")]),
                    on("node-y", &[("foo", "a")]),
                    on("node-y", &[("foo", "a")]),
                ],
                Some(want_state(&[(&[("zone1", 0), ("zone2", 0)], 0)])),
            ),
            // mirrors "key in matchLabelKeys is ignored when it isn't exist in pod.labels"
            row(
                "matchLabelKeys key missing from the pod",
                p_foo()
                    .spread_with(constraint(
                        1,
                        "zone",
                        foo.clone(),
                        None,
                        Honor,
                        Ignore,
                        &["bar"],
                    ))
                    .obj(),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "a")]),
                    on("node-a", &[("foo", "a")]),
                    on("node-b", &[("foo", "a")]),
                    on("node-y", &[("foo", "a")]),
                    on("node-y", &[("foo", "a")]),
                ],
                Some(want_state(&[(&[("zone1", 3), ("zone2", 2)], 2)])),
            ),
            // mirrors "two spreadConstraints with the same topologyKey"
            row(
                "two constraints on one key",
                p_foo()
                    .label("bar", "")
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "zone", HARD, bar.clone())
                    .obj(),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", ""), ("bar", "")]),
                    on("node-b", &[("foo", "")]),
                    on("node-x", &[("bar", "")]),
                    on("node-y", &[("foo", ""), ("bar", "")]),
                    on("node-y", &[("bar", "")]),
                ],
                Some(want_state(&[
                    (&[("zone1", 2), ("zone2", 1)], 1),
                    (&[("zone1", 1), ("zone2", 3)], 1),
                ])),
            ),
            // mirrors "skip if not specified"
            row(
                "no constraints: Skip",
                p_foo().obj(),
                vec![zn("node-a", "zone1")],
                vec![],
                None,
            ),
        ];
        // The default-constraint cases: upstream selects with a Service's selector; here a
        // ReplicaSet-owned pod selects with its own labels (see the module doc).
        let list = || {
            vec![
                TopologySpreadConstraint {
                    max_skew: 3,
                    topology_key: "node".into(),
                    ..Default::default()
                },
                TopologySpreadConstraint {
                    max_skew: 2,
                    topology_key: "node".into(),
                    when_unsatisfiable: SOFT,
                    ..Default::default()
                },
                TopologySpreadConstraint {
                    max_skew: 5,
                    topology_key: "rack".into(),
                    ..Default::default()
                },
            ]
        };
        let rs_pod = || {
            make_pod()
                .label("foo", "bar")
                .label("baz", "kar")
                .owner(OwnerKind::ReplicaSet)
        };
        // mirrors "default constraints and a service": two hard defaults, no node.
        rows.push(Row {
            name: "default constraints",
            pod: rs_pod().obj(),
            nodes: vec![],
            existing: vec![],
            plugin: PodTopologySpread::with_default_constraints(list()),
            want: Some(want_state(&[
                (&[], i64::from(i32::MAX)),
                (&[], i64::from(i32::MAX)),
            ])),
        });
        // mirrors "default constraints and a service that doesn't match": no owner here.
        rows.push(Row {
            name: "default constraints, bare pod",
            pod: make_pod().label("foo", "bar").obj(),
            nodes: vec![],
            existing: vec![],
            plugin: PodTopologySpread::with_default_constraints(list()),
            want: None,
        });
        // mirrors "default constraints and a service, but pod has constraints"
        rows.push(Row {
            name: "default constraints, but the pod has its own",
            pod: rs_pod()
                .spread(1, "zone", HARD, label_is("baz", "tar"))
                .spread(2, "planet", SOFT, label_is("fot", "rok"))
                .obj(),
            nodes: vec![],
            existing: vec![],
            plugin: PodTopologySpread::with_default_constraints(list()),
            want: Some(want_state(&[(&[], i64::from(i32::MAX))])),
        });
        // mirrors "default soft constraints and a service"
        rows.push(Row {
            name: "soft default constraints: Skip",
            pod: rs_pod().obj(),
            nodes: vec![],
            existing: vec![],
            plugin: PodTopologySpread::with_default_constraints(vec![TopologySpreadConstraint {
                max_skew: 2,
                topology_key: "node".into(),
                when_unsatisfiable: SOFT,
                ..Default::default()
            }]),
            want: None,
        });
        for mut row in rows {
            let mut c = world(row.nodes, row.existing);
            let got = filter_codes(&mut row.plugin, &mut c, row.pod);
            match row.want {
                None => assert_eq!(
                    got.map(|_| ()).map_err(|s| s.code),
                    Err(Code::Skip),
                    "{}",
                    row.name
                ),
                Some(want) => {
                    assert!(got.is_ok(), "{}: {got:?}", row.name);
                    assert_eq!(hard_state(&row.plugin), want, "{}", row.name);
                }
            }
        }
    }

    /// Codes per node, one letter each: S Success, U Unschedulable, R
    /// UnschedulableAndUnresolvable.
    fn codes(letters: &str) -> Vec<Code> {
        letters
            .chars()
            .map(|l| match l {
                'S' => Code::Success,
                'U' => Code::Unschedulable,
                'R' => Code::UnschedulableAndUnresolvable,
                _ => panic!("unknown code letter {l}"),
            })
            .collect()
    }

    /// One Filter case: the incoming pod, the nodes, the pods on them, the expected code
    /// for each node in order.
    type FilterRow = (
        &'static str,
        PodTemplate,
        Vec<NodeSpec>,
        Vec<(&'static str, PodTemplate)>,
        &'static str,
    );

    fn check_filter_rows(rows: Vec<FilterRow>) {
        for (name, pod, nodes, existing, want) in rows {
            let mut c = world(nodes, existing);
            let mut pl = PodTopologySpread::with_default_constraints(vec![]);
            let got = filter_codes(&mut pl, &mut c, pod);
            assert_eq!(got, Ok(codes(want)), "{name}");
        }
    }

    /// Mirrors TestSingleConstraint (filtering_test.go), including its minDomains and node
    /// inclusion policy cases. Like upstream's, these run PodTopologySpread alone, so nodes
    /// NodeAffinity or TaintToleration would reject may still pass here.
    #[test]
    fn single_constraint_follows_upstream() {
        let foo = exists("foo");
        let p_foo = || make_pod().label("foo", "");
        let zone_foo = || p_foo().spread(1, "zone", HARD, exists("foo")).obj();
        let node_foo = |skew| p_foo().spread(skew, "node", HARD, exists("foo")).obj();
        // matching pods spread as 2/1/0/3 over node-a, node-b, node-x, node-y
        let two_one_zero_three =
            || [foos("node-a", 2), foos("node-b", 1), foos("node-y", 3)].concat();
        let three_nodes = || {
            vec![
                n("node-a", &[("node", "node-a")]),
                n("node-b", &[("node", "node-b")]),
                n("node-c", &[("node", "node-c")]),
            ]
        };
        let two_two_one = || [foos("node-a", 2), foos("node-b", 2), foos("node-c", 1)].concat();
        let min_domains = |key: &str, min| {
            p_foo()
                .spread_with(constraint(
                    2,
                    key,
                    exists("foo"),
                    Some(min),
                    Honor,
                    Ignore,
                    &[],
                ))
                .obj()
        };
        let zone_two_one = || [foos("node-a", 1), foos("node-b", 1), foos("node-y", 1)].concat();
        let foo_nodes = || {
            vec![
                n("node-a", &[("node", "node-a"), ("foo", "")]),
                n("node-b", &[("node", "node-b"), ("foo", "")]),
                n("node-x", &[("node", "node-x"), ("foo", "")]),
                n("node-y", &[("node", "node-y")]),
            ]
        };
        let foo_taint_nodes = || {
            vec![
                n("node-a", &[("node", "node-a"), ("foo", "")]),
                n("node-b", &[("node", "node-b"), ("foo", "")]),
                n("node-x", &[("node", "node-x"), ("foo", "")]),
                tainted("node-y", &[("node", "node-y")]),
            ]
        };
        let one_one_zero_one =
            || [foos("node-a", 1), foos("node-b", 1), foos("node-y", 1)].concat();
        let rows: Vec<FilterRow> = vec![
            // mirrors "no existing pods"
            ("no existing pods", zone_foo(), four_nodes(), vec![], "SSSS"),
            // mirrors "no existing pods, incoming pod doesn't match itself"
            (
                "pod does not match itself",
                p_foo().spread(1, "zone", HARD, exists("bar")).obj(),
                four_nodes(),
                vec![],
                "SSSS",
            ),
            // mirrors "existing pods in a different namespace do not count"
            (
                "other namespaces do not count",
                zone_foo(),
                four_nodes(),
                vec![
                    on_ns("node-a", "ns1", &[("foo", "")]),
                    on_ns("node-a", "ns2", &[("foo", "")]),
                    on("node-x", &[("foo", "")]),
                    on("node-y", &[("foo", "")]),
                ],
                "SSUU",
            ),
            // mirrors "existing pods do not match null selector"
            (
                "null selector matches nothing",
                p_foo().spread(1, "zone", HARD, None).obj(),
                four_nodes(),
                [foos("node-x", 1), foos("node-y", 1)].concat(),
                "SSSS",
            ),
            // mirrors "pods spread across zones as 3/3, all nodes fit"
            (
                "3/3 over zones",
                zone_foo(),
                four_nodes(),
                two_one_zero_three(),
                "SSSS",
            ),
            // mirrors "pods spread across zones as 1/2 due to absence of label 'zone' on node-b"
            (
                "node-b lacks the zone label",
                zone_foo(),
                vec![
                    zn("node-a", "zone1"),
                    n("node-b", &[("zon", "zone1"), ("node", "node-b")]),
                    zn("node-x", "zone2"),
                    zn("node-y", "zone2"),
                ],
                [
                    foos("node-a", 1),
                    foos("node-b", 1),
                    foos("node-x", 1),
                    foos("node-y", 1),
                ]
                .concat(),
                "SRUU",
            ),
            // mirrors "pod cannot be scheduled as all nodes don't have label 'rack'"
            (
                "no node has the key",
                p_foo().spread(1, "rack", HARD, foo.clone()).obj(),
                vec![zn("node-a", "zone1"), zn("node-x", "zone2")],
                vec![],
                "RR",
            ),
            // mirrors "pods spread across nodes as 2/1/0/3, only node-x fits"
            (
                "2/1/0/3, only node-x",
                node_foo(1),
                four_nodes(),
                two_one_zero_three(),
                "UUSU",
            ),
            // mirrors "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit"
            (
                "2/1/0/3, maxSkew 2",
                node_foo(2),
                four_nodes(),
                two_one_zero_three(),
                "USSU",
            ),
            // mirrors "pods spread across nodes as 2/1/0/3, but pod doesn't match itself"
            (
                "2/1/0/3, pod does not match itself",
                make_pod()
                    .label("bar", "")
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                four_nodes(),
                two_one_zero_three(),
                "USSU",
            ),
            // mirrors "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence
            // node-a fits"
            (
                "node affinity In node-a, node-y",
                p_foo()
                    .node_affinity("node", SelectorOperator::In, &["node-a", "node-y"])
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                four_nodes(),
                two_one_zero_three(),
                "SSSU",
            ),
            // mirrors "incoming pod has nodeAffinity, pods spread as 0/~2~/0/1, hence node-a
            // fits"
            (
                "node affinity NotIn node-b",
                p_foo()
                    .node_affinity("node", SelectorOperator::NotIn, &["node-b"])
                    .spread(1, "zone", HARD, foo.clone())
                    .obj(),
                four_nodes(),
                [foos("node-b", 2), foos("node-y", 1)].concat(),
                "SSUU",
            ),
            // mirrors "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of
            // domains < minDomains, then the third node fits"
            (
                "minDomains 4 of 3 nodes",
                min_domains("node", 4),
                three_nodes(),
                two_two_one(),
                "UUS",
            ),
            // mirrors "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of
            // domains > minDomains, then the all nodes fit"
            (
                "minDomains 2 of 3 nodes",
                min_domains("node", 2),
                three_nodes(),
                two_two_one(),
                "SSS",
            ),
            // mirrors "pods spread across zone as 2/1, maxSkew is 2 and the number of domains
            // < minDomains, then the third and fourth nodes fit"
            (
                "minDomains 3 of 2 zones",
                min_domains("zone", 3),
                four_nodes(),
                zone_two_one(),
                "UUSS",
            ),
            // mirrors "pods spread across zone as 2/1, maxSkew is 2 and the number of domains
            // > minDomains, then the all nodes fit"
            (
                "minDomains 1 of 2 zones",
                min_domains("zone", 1),
                four_nodes(),
                zone_two_one(),
                "SSSS",
            ),
            // mirrors "NodeAffinityPolicy honored with labelSelectors"
            (
                "NodeAffinityPolicy honored, nodeSelector",
                p_foo()
                    .node_selector("foo", "")
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                foo_nodes(),
                one_one_zero_one(),
                "UUSS",
            ),
            // mirrors "NodeAffinityPolicy ignored with labelSelectors"
            (
                "NodeAffinityPolicy ignored, nodeSelector",
                p_foo()
                    .node_selector("foo", "")
                    .spread_with(constraint(
                        1,
                        "node",
                        foo.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .obj(),
                foo_nodes(),
                one_one_zero_one(),
                "UUSU",
            ),
            // mirrors "NodeAffinityPolicy honored with nodeAffinity"
            (
                "NodeAffinityPolicy honored, node affinity",
                p_foo()
                    .node_affinity("foo", SelectorOperator::In, &[""])
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                foo_nodes(),
                one_one_zero_one(),
                "UUSS",
            ),
            // mirrors the second "NodeAffinityPolicy ignored with labelSelectors" (which
            // uses node affinity)
            (
                "NodeAffinityPolicy ignored, node affinity",
                p_foo()
                    .node_affinity("foo", SelectorOperator::In, &[""])
                    .spread_with(constraint(
                        1,
                        "node",
                        foo.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .obj(),
                foo_nodes(),
                one_one_zero_one(),
                "UUSU",
            ),
            // mirrors "NodeTaintsPolicy honored"
            (
                "NodeTaintsPolicy honored",
                p_foo()
                    .spread_with(constraint(1, "node", foo.clone(), None, Honor, Honor, &[]))
                    .obj(),
                foo_taint_nodes(),
                one_one_zero_one(),
                "UUSS",
            ),
            // mirrors "NodeTaintsPolicy ignored"
            (
                "NodeTaintsPolicy ignored",
                p_foo().spread(1, "node", HARD, foo.clone()).obj(),
                foo_taint_nodes(),
                one_one_zero_one(),
                "UUSU",
            ),
        ];
        check_filter_rows(rows);
    }

    /// Mirrors TestMultipleConstraints (filtering_test.go).
    #[test]
    fn multiple_constraints_follow_upstream() {
        let (foo, bar) = (exists("foo"), exists("bar"));
        let zone_and_node = || {
            make_pod()
                .label("foo", "")
                .spread(1, "zone", HARD, exists("foo"))
                .spread(1, "node", HARD, exists("foo"))
                .obj()
        };
        let foo_zone_bar_node = |pod: PodB| {
            pod.spread(1, "zone", HARD, exists("foo"))
                .spread(1, "node", HARD, exists("bar"))
                .obj()
        };
        let foo_bar = || make_pod().label("foo", "").label("bar", "");
        let inclusion_nodes = || {
            vec![
                n(
                    "node-a",
                    &[("zone", "zone1"), ("node", "node-a"), ("foo", "")],
                ),
                n("node-b", &[("zone", "zone1"), ("node", "node-b")]),
                n(
                    "node-x",
                    &[("zone", "zone2"), ("node", "node-x"), ("foo", "")],
                ),
                tainted(
                    "node-y",
                    &[("zone", "zone2"), ("node", "node-y"), ("foo", "")],
                ),
            ]
        };
        let a_b_y = || [foos("node-a", 1), foos("node-b", 1), foos("node-y", 1)].concat();
        let zone_pair = || {
            vec![
                on("node-a", &[("foo", ""), ("bar", "")]),
                on("node-a", &[("foo", "")]),
                on("node-b", &[("foo", ""), ("bar", "")]),
                on("node-y", &[("foo", "")]),
                on("node-y", &[("foo", ""), ("bar", "")]),
                on("node-y", &[("foo", "")]),
            ]
        };
        let two_on_zone = || {
            foo_bar()
                .spread(1, "zone", HARD, exists("bar"))
                .spread(1, "zone", HARD, exists("foo"))
                .obj()
        };
        let rows: Vec<FilterRow> = vec![
            // mirrors "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]"
            (
                "[3/3, 2/1/0/3]",
                zone_and_node(),
                four_nodes(),
                [foos("node-a", 2), foos("node-b", 1), foos("node-y", 3)].concat(),
                "UUSU",
            ),
            // mirrors "two Constraints on zone and node, spreads = [3/4, 2/1/0/4]"
            (
                "[3/4, 2/1/0/4]",
                zone_and_node(),
                four_nodes(),
                [foos("node-a", 2), foos("node-b", 1), foos("node-y", 4)].concat(),
                "UUUU",
            ),
            // mirrors "Constraints hold different labelSelectors, spreads = [1/0, 1/0/0/1]"
            (
                "different selectors [1/0, 1/0/0/1]",
                foo_zone_bar_node(foo_bar()),
                four_nodes(),
                vec![on("node-a", &[("foo", "")]), on("node-y", &[("bar", "")])],
                "UUSU",
            ),
            // mirrors "Constraints hold different labelSelectors, spreads = [1/0, 0/0/1/1]"
            (
                "different selectors [1/0, 0/0/1/1]",
                foo_zone_bar_node(foo_bar()),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "")]),
                    on("node-x", &[("bar", "")]),
                    on("node-y", &[("bar", "")]),
                ],
                "UUUU",
            ),
            // mirrors "Constraints hold different labelSelectors, spreads = [2/3, 1/0/0/1]"
            (
                "different selectors [2/3, 1/0/0/1]",
                foo_zone_bar_node(foo_bar()),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "")]),
                    on("node-a", &[("foo", ""), ("bar", "")]),
                    on("node-y", &[("foo", "")]),
                    on("node-y", &[("foo", ""), ("bar", "")]),
                    on("node-y", &[("foo", "")]),
                ],
                "USUU",
            ),
            // mirrors "Constraints hold different labelSelectors but pod doesn't match itself
            // on 'zone' constraint"
            (
                "pod does not match itself on zone",
                foo_zone_bar_node(make_pod().label("bar", "")),
                four_nodes(),
                vec![
                    on("node-a", &[("foo", "")]),
                    on("node-x", &[("bar", "")]),
                    on("node-y", &[("bar", "")]),
                ],
                "SSUU",
            ),
            // mirrors "two Constraints on zone and node, absence of label 'node' on node-x,
            // spreads = [1/1, 1/0/0/1]"
            (
                "node-x lacks the node label",
                zone_and_node(),
                vec![
                    zn("node-a", "zone1"),
                    zn("node-b", "zone1"),
                    n("node-x", &[("zone", "zone2")]),
                    zn("node-y", "zone2"),
                ],
                [foos("node-a", 1), foos("node-y", 1)].concat(),
                "USRU",
            ),
            // mirrors "two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore"
            (
                "zone honor/ignore, node ignore/ignore",
                make_pod()
                    .label("foo", "")
                    .node_selector("foo", "")
                    .spread(1, "zone", HARD, foo.clone())
                    .spread_with(constraint(
                        1,
                        "node",
                        foo.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .obj(),
                vec![
                    n(
                        "node-a",
                        &[("zone", "zone1"), ("node", "node-a"), ("foo", "")],
                    ),
                    n(
                        "node-b",
                        &[("zone", "zone1"), ("node", "node-b"), ("foo", "")],
                    ),
                    n(
                        "node-x",
                        &[("zone", "zone2"), ("node", "node-x"), ("foo", "")],
                    ),
                    n("node-y", &[("zone", "zone2"), ("node", "node-y")]),
                ],
                a_b_y(),
                "UUSU",
            ),
            // mirrors "two node inclusion Constraints, zone: honor/honor, node: honor/ignore"
            (
                "zone honor/honor, node honor/ignore",
                make_pod()
                    .label("foo", "")
                    .spread_with(constraint(1, "zone", foo.clone(), None, Honor, Honor, &[]))
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                vec![
                    n(
                        "node-a",
                        &[("zone", "zone1"), ("node", "node-a"), ("foo", "")],
                    ),
                    n(
                        "node-b",
                        &[("zone", "zone1"), ("node", "node-b"), ("foo", "")],
                    ),
                    n(
                        "node-x",
                        &[("zone", "zone2"), ("node", "node-x"), ("foo", "")],
                    ),
                    tainted("node-y", &[("zone", "zone2"), ("node", "node-y")]),
                ],
                a_b_y(),
                "UUSU",
            ),
            // mirrors "two node inclusion Constraints, zone: honor/ignore, node: honor/ignore"
            (
                "zone honor/ignore, node honor/ignore",
                make_pod()
                    .label("foo", "")
                    .node_selector("foo", "")
                    .spread(1, "zone", HARD, foo.clone())
                    .spread(1, "node", HARD, foo.clone())
                    .obj(),
                inclusion_nodes(),
                a_b_y(),
                "USSU",
            ),
            // mirrors "two node inclusion Constraints, zone: honor/honor, node: ignore/ignore"
            (
                "zone honor/honor, node ignore/ignore",
                make_pod()
                    .label("foo", "")
                    .node_selector("foo", "")
                    .spread_with(constraint(1, "zone", foo.clone(), None, Honor, Honor, &[]))
                    .spread_with(constraint(
                        1,
                        "node",
                        foo.clone(),
                        None,
                        Ignore,
                        Ignore,
                        &[],
                    ))
                    .obj(),
                inclusion_nodes(),
                a_b_y(),
                "UUSU",
            ),
            // mirrors "two Constraints on zone, spreads = [3/3, 2/1]"
            (
                "two on zone [3/3, 2/1]",
                two_on_zone(),
                four_nodes(),
                zone_pair(),
                "UUSS",
            ),
            // mirrors "two Constraints on zone, spreads = [3/4, 2/1]"
            (
                "two on zone [3/4, 2/1]",
                two_on_zone(),
                four_nodes(),
                [zone_pair(), foos("node-y", 1)].concat(),
                "UUUU",
            ),
        ];
        let _ = bar;
        check_filter_rows(rows);
    }

    /// Filter's reasons are upstream's, with upstream's codes.
    #[test]
    fn filter_reasons() {
        let mut c = world(
            vec![
                zn("node-a", "zone1"),
                zn("node-b", "zone2"),
                n("node-c", &[]),
            ],
            foos("node-a", 1),
        );
        let id = add_pod(
            &mut c,
            make_pod()
                .label("foo", "")
                .spread(1, "zone", HARD, exists("foo"))
                .obj(),
        );
        let pod = c.pod(id).unwrap();
        let mut pl = PodTopologySpread::default();
        assert!(pl.pre_filter(pod, &c).is_success());
        assert_eq!(
            pl.filter(pod, &c, NodeId(0)),
            Status::unschedulable("node(s) didn't match pod topology spread constraints")
        );
        assert!(pl.filter(pod, &c, NodeId(1)).is_success());
        assert_eq!(
            pl.filter(pod, &c, NodeId(2)),
            Status::unresolvable(
                "node(s) didn't match pod topology spread constraints (missing required label)"
            )
        );
    }

    /// A constraint with `ScheduleAnyway`.
    fn soft(mut c: TopologySpreadConstraint) -> TopologySpreadConstraint {
        c.when_unsatisfiable = SOFT;
        c
    }

    /// PreScore with `candidates` as the feasible nodes, Score on each, NormalizeScore:
    /// the final scores in candidate order, or PreScore's status when not Success.
    fn run_scores(
        pl: &mut PodTopologySpread,
        c: &mut ClusterState,
        pod: PodTemplate,
        candidates: &[NodeId],
    ) -> Result<Vec<i64>, Status> {
        let id = add_pod(c, pod);
        let pod = c.pod(id).unwrap();
        let status = pl.pre_score(pod, c, candidates);
        if status.code != Code::Success {
            return Err(status);
        }
        let mut scores: Vec<i64> = candidates.iter().map(|&n| pl.score(pod, c, n)).collect();
        pl.normalize_score(pod, &mut scores);
        Ok(scores)
    }

    /// Mirrors TestPodTopologySpreadScore (scoring_test.go): `nodes` are the candidates,
    /// `failed` the nodes that failed filtering (they still hold pods that count).
    #[test]
    fn score_follows_upstream() {
        struct Row {
            name: &'static str,
            pod: PodTemplate,
            nodes: Vec<NodeSpec>,
            failed: Vec<NodeSpec>,
            existing: Vec<(&'static str, PodTemplate)>,
            want: Vec<i64>,
        }
        let row = |name, pod, nodes, failed, existing, want| Row {
            name,
            pod,
            nodes,
            failed,
            existing,
            want,
        };
        let foo = exists("foo");
        let bar = exists("bar");
        let p_foo = || make_pod().label("foo", "");
        let host_foo = |skew| {
            p_foo()
                .spread(skew, LABEL_HOSTNAME, SOFT, exists("foo"))
                .obj()
        };
        let hosts = |names: &[&str]| names.iter().map(|&name| host(name)).collect::<Vec<_>>();
        let four_hosts = || hosts(&["node-a", "node-b", "node-c", "node-d"]);
        // matching pods spread as 2/1/0/3
        let two_one_zero_three =
            || [foos("node-a", 2), foos("node-b", 1), foos("node-d", 3)].concat();
        // matching pods spread as 4/3/2/1
        let four_three_two_one = || {
            [
                foos("node-a", 4),
                foos("node-b", 3),
                foos("node-c", 2),
                foos("node-d", 1),
            ]
            .concat()
        };
        // matching pods spread as 4/2/1/3 over node-a, node-b, node-x, node-y
        let four_two_one_three = || {
            [
                foos("node-a", 4),
                foos("node-b", 2),
                foos("node-x", 1),
                foos("node-y", 3),
            ]
            .concat()
        };
        let different_selectors = || {
            make_pod()
                .label("foo", "")
                .label("bar", "")
                .spread(1, "zone", SOFT, exists("foo"))
                .spread(1, LABEL_HOSTNAME, SOFT, exists("bar"))
                .obj()
        };
        let zone_hosts = || {
            vec![
                zh("node-a", "zone1"),
                zh("node-b", "zone1"),
                zh("node-x", "zone2"),
                zh("node-y", "zone2"),
            ]
        };
        let selector_pods = || {
            vec![
                on("node-a", &[("foo", "")]),
                on("node-b", &[("foo", ""), ("bar", "")]),
                on("node-y", &[("foo", "")]),
                on("node-y", &[("bar", "")]),
            ]
        };
        let policy_nodes = || {
            vec![
                n("node-a", &[("node", "node-a"), ("foo", "")]),
                n("node-b", &[("node", "node-b"), ("foo", "")]),
                n("node-c", &[("node", "node-c")]),
            ]
        };
        let taint_nodes = || {
            vec![
                n("node-a", &[("node", "node-a")]),
                n("node-b", &[("node", "node-b")]),
                tainted("node-c", &[("node", "node-c")]),
            ]
        };
        let policy_pods = || [foos("node-a", 2), foos("node-b", 1), foos("node-c", 1)].concat();
        let policy = |affinity, taints| {
            p_foo().spread_with(soft(constraint(
                1,
                "node",
                exists("foo"),
                None,
                affinity,
                taints,
                &[],
            )))
        };
        let label_key_nodes = || {
            vec![
                zh("node-a", "zone1"),
                zh("node-b", "zone1"),
                zh("node-c", "zone2"),
                zh("node-d", "zone2"),
            ]
        };
        let rows = vec![
            // mirrors "one constraint on node, no existing pods"
            row(
                "no existing pods",
                host_foo(1),
                hosts(&["node-a", "node-b"]),
                vec![],
                vec![],
                vec![100, 100],
            ),
            // mirrors "one constraint on node, only one node is candidate"
            row(
                "one candidate",
                host_foo(1),
                hosts(&["node-a"]),
                hosts(&["node-b"]),
                [foos("node-a", 2), foos("node-b", 1)].concat(),
                vec![100],
            ),
            // mirrors "one constraint on node, all nodes have the same number of matching pods"
            row(
                "same counts",
                host_foo(1),
                hosts(&["node-a", "node-b"]),
                vec![],
                [foos("node-a", 1), foos("node-b", 1)].concat(),
                vec![100, 100],
            ),
            // mirrors "one constraint on node, all 4 nodes are candidates"
            row(
                "2/1/0/3",
                host_foo(1),
                four_hosts(),
                vec![],
                two_one_zero_three(),
                vec![20, 60, 100, 0],
            ),
            // mirrors "one constraint on node, null selector"
            row(
                "null selector",
                p_foo().spread(1, LABEL_HOSTNAME, SOFT, None).obj(),
                four_hosts(),
                vec![],
                two_one_zero_three(),
                vec![100, 100, 100, 100],
            ),
            // mirrors "one constraint on node, all 4 nodes are candidates, maxSkew=2"
            row(
                "2/1/0/3, maxSkew 2",
                host_foo(2),
                four_hosts(),
                vec![],
                two_one_zero_three(),
                vec![33, 66, 100, 16],
            ),
            // mirrors "one constraint on node, all 4 nodes are candidates, maxSkew=3"
            row(
                "4/3/2/1, maxSkew 3",
                host_foo(3),
                four_hosts(),
                vec![],
                four_three_two_one(),
                vec![44, 66, 77, 100],
            ),
            // mirrors "system defaulting, nodes don't have zone, pods match service": here a
            // ReplicaSet's pod, whose own labels select the existing pods
            row(
                "system defaults without zones",
                p_foo().owner(OwnerKind::ReplicaSet).obj(),
                four_hosts(),
                vec![],
                four_three_two_one(),
                vec![44, 66, 77, 100],
            ),
            // mirrors "one constraint on node, 3 out of 4 nodes are candidates"
            row(
                "3 of 4 candidates",
                host_foo(1),
                hosts(&["node-a", "node-b", "node-x"]),
                hosts(&["node-y"]),
                four_two_one_three(),
                vec![33, 83, 100],
            ),
            // mirrors "one constraint on node, 3 out of 4 nodes are candidates, one node
            // doesn't match topology key"
            row(
                "3 of 4 candidates, one without the key",
                host_foo(1),
                vec![
                    host("node-a"),
                    n("node-b", &[("n", "node-b")]),
                    host("node-x"),
                ],
                hosts(&["node-y"]),
                four_two_one_three(),
                vec![16, 0, 100],
            ),
            // mirrors "one constraint on zone, 3 out of 4 nodes are candidates"
            row(
                "zone, 3 of 4 candidates",
                p_foo().spread(1, "zone", SOFT, foo.clone()).obj(),
                vec![
                    zh("node-a", "zone1"),
                    zh("node-b", "zone1"),
                    zh("node-x", "zone2"),
                ],
                vec![zh("node-y", "zone2")],
                four_two_one_three(),
                vec![75, 75, 100],
            ),
            // mirrors "two Constraints on zone and node, 2 out of 4 nodes are candidates"
            row(
                "zone and node, 2 of 4 candidates",
                p_foo()
                    .spread(1, "zone", SOFT, foo.clone())
                    .spread(1, LABEL_HOSTNAME, SOFT, foo.clone())
                    .obj(),
                vec![zh("node-a", "zone1"), zh("node-x", "zone2")],
                vec![zh("node-b", "zone1"), zh("node-y", "zone2")],
                [
                    foos("node-a", 2),
                    foos("node-b", 1),
                    foos("node-x", 2),
                    foos("node-y", 4),
                ]
                .concat(),
                vec![100, 63],
            ),
            // mirrors "two Constraints on zone, 2 out of 4 nodes are candidates"
            row(
                "two on zone, 2 of 4 candidates",
                p_foo()
                    .label("bar", "")
                    .spread(1, "zone", SOFT, foo.clone())
                    .spread(1, "zone", SOFT, bar.clone())
                    .obj(),
                vec![
                    n("node-a", &[("zone", "zone1")]),
                    n("node-x", &[("zone", "zone2")]),
                ],
                vec![
                    n("node-b", &[("zone", "zone1")]),
                    n("node-y", &[("zone", "zone2")]),
                ],
                vec![
                    on("node-a", &[("foo", ""), ("bar", "")]),
                    on("node-a", &[("foo", "")]),
                    on("node-b", &[("foo", ""), ("bar", "")]),
                    on("node-y", &[("foo", "")]),
                    on("node-y", &[("foo", ""), ("bar", "")]),
                    on("node-y", &[("foo", "")]),
                ],
                vec![85, 100],
            ),
            // mirrors "two Constraints on zone and node, with different labelSelectors"
            row(
                "different selectors",
                different_selectors(),
                zone_hosts(),
                vec![],
                selector_pods(),
                vec![60, 20, 100, 60],
            ),
            // mirrors "two Constraints on zone and node, with different labelSelectors, some
            // nodes have 0 pods"
            row(
                "different selectors, some nodes empty",
                different_selectors(),
                zone_hosts(),
                vec![],
                vec![
                    on("node-b", &[("bar", "")]),
                    on("node-x", &[("foo", "")]),
                    on("node-y", &[("foo", ""), ("bar", "")]),
                ],
                vec![100, 60, 40, 0],
            ),
            // mirrors "two Constraints on zone and node, with different labelSelectors, 3 out
            // of 4 nodes are candidates"
            row(
                "different selectors, 3 of 4 candidates",
                different_selectors(),
                vec![
                    zh("node-a", "zone1"),
                    zh("node-b", "zone1"),
                    zh("node-x", "zone2"),
                ],
                vec![zh("node-y", "zone2")],
                selector_pods(),
                vec![50, 25, 100],
            ),
            // mirrors "existing pods in a different namespace do not count"
            row(
                "other namespaces do not count",
                host_foo(1),
                hosts(&["node-a", "node-b"]),
                vec![],
                vec![
                    on_ns("node-a", "ns1", &[("foo", "")]),
                    on("node-a", &[("foo", "")]),
                    on("node-b", &[("foo", "")]),
                    on("node-b", &[("foo", "")]),
                ],
                vec![100, 33],
            ),
            // mirrors "minDomains has no effect when ScheduleAnyway"
            row(
                "minDomains ignored when soft",
                p_foo()
                    .spread_with(soft(constraint(
                        2,
                        "node",
                        foo.clone(),
                        Some(10),
                        Honor,
                        Ignore,
                        &[],
                    )))
                    .obj(),
                vec![
                    n("node-a", &[("node", "node-a")]),
                    n("node-b", &[("node", "node-b")]),
                    n("node-c", &[("node", "node-c")]),
                ],
                vec![],
                [foos("node-a", 2), foos("node-b", 2), foos("node-c", 1)].concat(),
                vec![75, 75, 100],
            ),
            // mirrors "NodeAffinityPolicy honoed with labelSelectors"
            row(
                "NodeAffinityPolicy honored, nodeSelector",
                policy(Honor, Ignore).node_selector("foo", "").obj(),
                policy_nodes(),
                vec![],
                policy_pods(),
                vec![0, 33, 100],
            ),
            // mirrors "NodeAffinityPolicy ignored with labelSelectors"
            row(
                "NodeAffinityPolicy ignored, nodeSelector",
                policy(Ignore, Ignore).node_selector("foo", "").obj(),
                policy_nodes(),
                vec![],
                policy_pods(),
                vec![66, 100, 100],
            ),
            // mirrors "NodeAffinityPolicy honoed with nodeAffinity"
            row(
                "NodeAffinityPolicy honored, node affinity",
                policy(Honor, Ignore)
                    .node_affinity("foo", SelectorOperator::In, &[""])
                    .obj(),
                policy_nodes(),
                vec![],
                policy_pods(),
                vec![0, 33, 100],
            ),
            // mirrors "NodeAffinityPolicy ignored with nodeAffinity"
            row(
                "NodeAffinityPolicy ignored, node affinity",
                policy(Ignore, Ignore)
                    .node_affinity("foo", SelectorOperator::In, &[""])
                    .obj(),
                policy_nodes(),
                vec![],
                policy_pods(),
                vec![66, 100, 100],
            ),
            // mirrors "NodeTaintsPolicy honored"
            row(
                "NodeTaintsPolicy honored",
                policy(Honor, Honor).obj(),
                taint_nodes(),
                vec![],
                policy_pods(),
                vec![0, 33, 100],
            ),
            // mirrors "NodeTaintsPolicy ignored"
            row(
                "NodeTaintsPolicy ignored",
                policy(Honor, Ignore).obj(),
                taint_nodes(),
                vec![],
                policy_pods(),
                vec![66, 100, 100],
            ),
            // mirrors "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty"
            row(
                "matchLabelKeys with empty selectors",
                make_pod()
                    .label("foo", "")
                    .label("bar", "")
                    .spread_with(soft(constraint(
                        1,
                        "zone",
                        everything(),
                        None,
                        Honor,
                        Ignore,
                        &["foo"],
                    )))
                    .spread_with(soft(constraint(
                        1,
                        LABEL_HOSTNAME,
                        everything(),
                        None,
                        Honor,
                        Ignore,
                        &["bar"],
                    )))
                    .obj(),
                label_key_nodes(),
                vec![],
                vec![
                    on("node-a", &[("foo", "")]),
                    on("node-b", &[("foo", ""), ("bar", "")]),
                    on("node-c", &[("foo", "")]),
                    on("node-c", &[("bar", "")]),
                ],
                vec![60, 20, 60, 100],
            ),
            // mirrors "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty"
            row(
                "matchLabelKeys with a selector",
                make_pod()
                    .label("foo", "")
                    .label("bar", "")
                    .label("baz", "")
                    .spread(1, "zone", SOFT, foo.clone())
                    .spread_with(soft(constraint(
                        1,
                        LABEL_HOSTNAME,
                        bar.clone(),
                        None,
                        Honor,
                        Ignore,
                        &["baz"],
                    )))
                    .obj(),
                label_key_nodes(),
                vec![],
                vec![
                    on("node-a", &[("foo", "")]),
                    on("node-b", &[("foo", ""), ("bar", ""), ("baz", "")]),
                    on("node-c", &[("foo", "")]),
                    on("node-c", &[("bar", "")]),
                    on("node-c", &[("bar", ""), ("baz", "")]),
                ],
                vec![60, 20, 60, 100],
            ),
        ];
        for row in rows {
            let candidates = row.nodes.len();
            let mut c = world([row.nodes, row.failed].concat(), row.existing);
            let feasible: Vec<NodeId> = (0..candidates as u32).map(NodeId).collect();
            let mut pl = PodTopologySpread::default();
            let got = run_scores(&mut pl, &mut c, row.pod, &feasible);
            assert_eq!(got, Ok(row.want), "{}", row.name);
        }
    }

    /// Per soft constraint its domains with their counts, the weights, the ignored nodes.
    type SoftState = (Vec<Vec<(String, i64)>>, Vec<f64>, Vec<String>);

    /// PreScore's state as upstream's TestPreScoreStateEmptyNodes compares it: per soft
    /// constraint, the domains and counts (none for hostname constraints) and the weight;
    /// and the ignored nodes.
    fn soft_state(pl: &PodTopologySpread, c: &ClusterState, feasible: &[NodeId]) -> SoftState {
        let e = &pl.entries[pl.soft_pod.expect("PreScore counted")];
        let domains = e
            .soft
            .iter()
            .zip(&e.soft_tally.per)
            .map(|(con, ct)| {
                let mut m = BTreeMap::new();
                if !con.hostname {
                    for (&id, &ignored) in feasible.iter().zip(&pl.ignored) {
                        if !ignored {
                            let labels = &c.node(id).spec.labels;
                            let value = labels.get(&con.topology_key).unwrap_or("");
                            let vid = ct.node_value[id.index()] as usize;
                            m.insert(value.to_string(), ct.totals[vid]);
                        }
                    }
                }
                m.into_iter().collect()
            })
            .collect();
        let ignored = feasible
            .iter()
            .zip(&pl.ignored)
            .filter(|(_, i)| **i)
            .map(|(&id, _)| c.node(id).name().to_string())
            .collect();
        (domains, pl.weights.clone(), ignored)
    }

    fn ln2(size: usize) -> f64 {
        (size as f64 + 2.0).ln()
    }

    /// Mirrors TestPreScoreStateEmptyNodes (scoring_test.go): domains, weights and ignored
    /// nodes of PreScore, with no pods anywhere.
    #[test]
    fn pre_score_state_follows_upstream() {
        type Want = (Vec<Vec<(&'static str, i64)>>, Vec<f64>, Vec<&'static str>);
        let (foo, bar) = (exists("foo"), exists("bar"));
        let three = || {
            vec![
                zh("node-a", "zone1"),
                zh("node-b", "zone1"),
                zh("node-x", "zone2"),
            ]
        };
        let policy_nodes = |taint_x: bool| {
            let x: &[(&str, &str)] = &[("zone", "zone2"), (LABEL_HOSTNAME, "node-x")];
            vec![
                n(
                    "node-a",
                    &[("zone", "zone1"), ("foo", ""), (LABEL_HOSTNAME, "node-a")],
                ),
                n(
                    "node-b",
                    &[("zone", "zone1"), ("foo", ""), (LABEL_HOSTNAME, "node-b")],
                ),
                if taint_x {
                    tainted("node-x", x)
                } else {
                    n("node-x", x)
                },
            ]
        };
        let list_defaults = vec![
            soft(constraint(
                1,
                LABEL_HOSTNAME,
                None,
                None,
                Honor,
                Ignore,
                &[],
            )),
            constraint(2, "rack", None, None, Honor, Ignore, &[]),
            soft(constraint(2, "planet", None, None, Honor, Ignore, &[])),
        ];
        let rs_pod = || {
            make_pod()
                .label("foo", "tar")
                .label("baz", "sup")
                .owner(OwnerKind::ReplicaSet)
        };
        let rows: Vec<(&str, PodTopologySpread, PodTemplate, Vec<NodeSpec>, Want)> = vec![
            // mirrors "normal case"
            (
                "normal case",
                PodTopologySpread::with_default_constraints(vec![]),
                make_pod()
                    .label("foo", "")
                    .spread(1, "zone", SOFT, foo.clone())
                    .spread(1, LABEL_HOSTNAME, SOFT, foo.clone())
                    .obj(),
                three(),
                (
                    vec![vec![("zone1", 0), ("zone2", 0)], vec![]],
                    vec![ln2(2), ln2(3)],
                    vec![],
                ),
            ),
            // mirrors "null selector"
            (
                "null selector",
                PodTopologySpread::with_default_constraints(vec![]),
                make_pod()
                    .label("foo", "")
                    .spread(1, "zone", SOFT, None)
                    .obj(),
                three(),
                (vec![vec![("zone1", 0), ("zone2", 0)]], vec![ln2(2)], vec![]),
            ),
            // mirrors "node-x doesn't have label zone"
            (
                "node-x without zone",
                PodTopologySpread::with_default_constraints(vec![]),
                make_pod()
                    .label("foo", "")
                    .spread(1, "zone", SOFT, foo.clone())
                    .spread(1, LABEL_HOSTNAME, SOFT, bar.clone())
                    .obj(),
                vec![zh("node-a", "zone1"), zh("node-b", "zone1"), host("node-x")],
                (
                    vec![vec![("zone1", 0)], vec![]],
                    vec![ln2(1), ln2(2)],
                    vec!["node-x"],
                ),
            ),
            // mirrors "system default constraints and a replicaset": nodes without a zone
            // are not ignored but pooled in the domain ""
            (
                "system defaults, a ReplicaSet's pod",
                PodTopologySpread::default(),
                rs_pod().obj(),
                vec![
                    n(
                        "node-a",
                        &[(LABEL_HOSTNAME, "node-a"), (LABEL_ZONE, "mars")],
                    ),
                    n(
                        "node-b",
                        &[(LABEL_HOSTNAME, "node-b"), (LABEL_ZONE, "mars")],
                    ),
                    host("node-c"),
                    host("node-d"),
                ],
                (
                    vec![vec![], vec![("", 0), ("mars", 0)]],
                    vec![ln2(4), ln2(2)],
                    vec![],
                ),
            ),
            // mirrors "default constraints and a replicaset"
            (
                "listed defaults, a ReplicaSet's pod",
                PodTopologySpread::with_default_constraints(list_defaults.clone()),
                rs_pod().obj(),
                vec![n(
                    "node-a",
                    &[
                        ("rack", "rack1"),
                        (LABEL_HOSTNAME, "node-a"),
                        ("planet", "mars"),
                    ],
                )],
                (
                    vec![vec![], vec![("mars", 0)]],
                    vec![ln2(1), ln2(1)],
                    vec![],
                ),
            ),
            // mirrors "default constraints and a replicaset, but pod has constraints"
            (
                "listed defaults, but the pod has its own",
                PodTopologySpread::with_default_constraints(list_defaults.clone()),
                rs_pod()
                    .spread(1, "zone", HARD, bar.clone())
                    .spread(2, "planet", SOFT, label_is("baz", "sup"))
                    .obj(),
                vec![n("node-a", &[("planet", "mars"), ("galaxy", "andromeda")])],
                (vec![vec![("mars", 0)]], vec![ln2(1)], vec![]),
            ),
            // mirrors "NodeAffinityPolicy honored with labelSelectors"
            (
                "NodeAffinityPolicy honored",
                PodTopologySpread::with_default_constraints(vec![]),
                make_pod()
                    .label("foo", "")
                    .node_selector("foo", "")
                    .spread(1, "zone", SOFT, bar.clone())
                    .obj(),
                policy_nodes(false),
                (vec![vec![("zone1", 0), ("zone2", 0)]], vec![ln2(2)], vec![]),
            ),
            // mirrors "NodeTaintsPolicy honored"
            (
                "NodeTaintsPolicy honored",
                PodTopologySpread::with_default_constraints(vec![]),
                make_pod()
                    .label("foo", "")
                    .spread_with(soft(constraint(
                        1,
                        "zone",
                        bar.clone(),
                        None,
                        Honor,
                        Honor,
                        &[],
                    )))
                    .obj(),
                policy_nodes(true),
                (vec![vec![("zone1", 0), ("zone2", 0)]], vec![ln2(2)], vec![]),
            ),
        ];
        for (name, mut pl, pod, nodes, want) in rows {
            let mut c = world(nodes, vec![]);
            let feasible: Vec<NodeId> = (0..c.nodes().len() as u32).map(NodeId).collect();
            let id = add_pod(&mut c, pod);
            let status = pl.pre_score(c.pod(id).unwrap(), &c, &feasible);
            assert!(status.is_success(), "{name}: {status:?}");
            let want = (
                want.0
                    .into_iter()
                    .map(|d| d.into_iter().map(|(v, n)| (v.to_string(), n)).collect())
                    .collect(),
                want.1,
                want.2.into_iter().map(String::from).collect(),
            );
            assert_eq!(soft_state(&pl, &c, &feasible), want, "{name}");
        }
    }

    /// Mirrors TestPreScoreSkip (scoring_test.go), and checks the hot path: a pod without
    /// constraints that no default applies to returns Skip at both PreFilter and PreScore.
    #[test]
    fn plain_pods_skip_the_plugin() {
        let mut c = world(vec![host("node-a"), host("node-b")], vec![]);
        let nodes = [NodeId(0), NodeId(1)];
        let cases = [
            // mirrors "the pod doesn't have soft topology spread Constraints"
            ("bare pod", make_pod().obj(), true, true),
            // mirrors "default constraints and a replicaset that doesn't match": a Job's
            // pod, which no ReplicaSet or StatefulSet selects
            (
                "Job pod",
                make_pod().label("foo", "bar").owner(OwnerKind::Job).obj(),
                true,
                true,
            ),
            (
                "unlabelled ReplicaSet pod",
                make_pod().owner(OwnerKind::ReplicaSet).obj(),
                true,
                true,
            ),
            (
                "hard constraint only",
                make_pod()
                    .spread(1, LABEL_HOSTNAME, HARD, exists("foo"))
                    .obj(),
                false,
                true,
            ),
            // The system defaults are soft: nothing to filter, something to score.
            (
                "labelled StatefulSet pod",
                make_pod()
                    .label("app", "db")
                    .owner(OwnerKind::StatefulSet)
                    .obj(),
                true,
                false,
            ),
        ];
        for (name, pod, skip_filter, skip_score) in cases {
            let id = add_pod(&mut c, pod);
            let pod = c.pod(id).unwrap();
            let mut pl = PodTopologySpread::default();
            assert_eq!(
                pl.pre_filter(pod, &c).code == Code::Skip,
                skip_filter,
                "{name}"
            );
            assert_eq!(
                pl.pre_score(pod, &c, &nodes).code == Code::Skip,
                skip_score,
                "{name}"
            );
            if skip_filter {
                // Even when called (preemption calls Filter regardless), it admits all.
                assert!(pl.filter(pod, &c, NodeId(0)).is_success(), "{name}");
            }
        }
    }

    /// kube-default runs PodTopologySpread after NodeResourcesFit, before
    /// NodeResourcesBalancedAllocation, with weight 2; a Deployment's pods with a hard zone
    /// spread constraint land evenly over three zones, starting from an uneven cluster.
    #[test]
    fn kube_default_spreads_a_deployment_over_zones() {
        let profile = Profile::kube_default();
        let names = profile.plugin_names();
        let at = |name| names.iter().position(|&n| n == name).unwrap();
        assert!(at("NodeResourcesFit") < at(PodTopologySpread::NAME));
        assert!(at(PodTopologySpread::NAME) < at("NodeResourcesBalancedAllocation"));
        let me = at(PodTopologySpread::NAME);
        assert!(profile.score.contains(&(me, 2)));

        let zones = ["a", "b", "c"];
        let mut nodes = Vec::new();
        for zone in zones {
            for i in 0..2 {
                let name = format!("{zone}{i}");
                nodes.push(n(&name, &[(LABEL_ZONE, zone), (LABEL_HOSTNAME, &name)]));
            }
        }
        let web = |owner| {
            make_pod()
                .label("app", "web")
                .owner(owner)
                .spread(1, LABEL_ZONE, HARD, label_is("app", "web"))
                .obj()
        };
        // Two replicas already run in zone a; the ReplicaSet now creates seven more.
        let mut c = world(
            nodes,
            vec![
                ("a0", web(OwnerKind::ReplicaSet)),
                ("a1", web(OwnerKind::ReplicaSet)),
            ],
        );
        let template = Arc::new(web(OwnerKind::ReplicaSet));
        let pods: Vec<PodId> = (0..7)
            .map(|i| c.add_pod(Pod::from_template(Arc::clone(&template), i)))
            .collect();
        let mut scheduler = FrameworkScheduler::new(Profile::kube_default());
        let mut rng = SchedulerRng::seed_from_u64(7);
        let zone_counts = |c: &ClusterState| {
            zones.map(|z| {
                c.nodes()
                    .iter()
                    .filter(|n| n.spec.labels.get(LABEL_ZONE) == Some(z))
                    .map(|n| n.pods.len())
                    .sum::<usize>()
            })
        };
        let mut skews = Vec::new();
        for &pod in &pods {
            let mut decisions = Vec::new();
            scheduler.schedule(&mut Cycle::new(&mut c, &[pod], &mut rng, &mut decisions));
            assert!(
                matches!(decisions[..], [Decision::Bound { .. }]),
                "{decisions:?}"
            );
            let counts = zone_counts(&c);
            skews.push(counts.iter().max().unwrap() - counts.iter().min().unwrap());
        }
        assert_eq!(zone_counts(&c), [3, 3, 3]);
        // From 2/0/0 each replica goes to a zone with the fewest: 2/1/0, 2/1/1, then
        // round-robin over the emptiest zones, never more than one apart again.
        assert_eq!(skews, [2, 1, 1, 0, 1, 1, 0]);
        c.check_invariants().unwrap();
    }

    /// The tallies kept across pods are exact: after any sequence of binds and removals,
    /// with more templates interleaving than entries are kept and a switch to an older
    /// copy of the cluster, one long-lived plugin gives the same Filter codes and scores as a fresh
    /// plugin that counts everything from scratch.
    #[test]
    fn incremental_tallies_match_a_fresh_count() {
        use rand::RngExt;

        let mut nodes = Vec::new();
        for i in 0..12 {
            let name = format!("n{i}");
            let zone = ["z1", "z2", "z3"][i % 3];
            let spec = match i {
                // No zone: ignored by soft constraints, missing label for hard ones.
                10 => n(&name, &[(LABEL_HOSTNAME, &name), ("rack", "r1")]),
                // No hostname label.
                11 => n(&name, &[(LABEL_ZONE, zone), ("zone", zone)]),
                _ if i % 4 == 1 => tainted(
                    &name,
                    &[(LABEL_ZONE, zone), ("zone", zone), (LABEL_HOSTNAME, &name)],
                ),
                _ => n(
                    &name,
                    &[
                        (LABEL_ZONE, zone),
                        ("zone", zone),
                        (LABEL_HOSTNAME, &name),
                        ("rack", ["r1", "r2"][i % 2]),
                    ],
                ),
            };
            nodes.push(spec);
        }
        let mut c = world(nodes, vec![]);
        let app = |i: usize| ["web", "db", "cache"][i % 3];
        let templates: Vec<Arc<PodTemplate>> = (0..10)
            .map(|i| {
                let pod = make_pod()
                    .label("app", app(i))
                    .label("tier", if i % 2 == 0 { "a" } else { "b" })
                    .owner(OwnerKind::ReplicaSet);
                let pod = match i % 5 {
                    // System defaults only.
                    0 => pod,
                    1 => pod.spread(1, "zone", HARD, label_is("app", app(i))),
                    2 => pod
                        .spread(2, LABEL_HOSTNAME, SOFT, label_is("app", app(i)))
                        .spread(1, "rack", SOFT, exists("tier")),
                    3 => pod
                        .node_selector("zone", "z1")
                        .spread(1, "zone", HARD, exists("app"))
                        .spread_with(soft(constraint(
                            1,
                            LABEL_ZONE,
                            exists("app"),
                            None,
                            Honor,
                            Honor,
                            &["tier"],
                        ))),
                    _ => pod
                        .spread_with(constraint(
                            1,
                            "rack",
                            label_is("app", app(i)),
                            Some(3),
                            Ignore,
                            Honor,
                            &[],
                        ))
                        .spread(1, LABEL_HOSTNAME, HARD, label_is("app", app(i))),
                };
                Arc::new(pod.obj())
            })
            .collect();
        let mut rng = SchedulerRng::seed_from_u64(3);
        let mut kept = PodTopologySpread::default();
        let mut bound: Vec<PodId> = Vec::new();
        let mut snapshot = None;
        for step in 0..400 {
            if step == 100 {
                snapshot = Some((c.clone(), bound.clone()));
            }
            if step == 200 {
                // Back to the copy taken at step 100: another cluster, whose generations
                // repeat numbers the original has already given to other contents, so
                // nothing counted for the original may be reused.
                (c, bound) = snapshot.take().expect("taken at step 100");
            }
            if rng.random_bool(0.3) && !bound.is_empty() {
                let k = rng.random_range(0..bound.len());
                c.remove_pod(bound.swap_remove(k));
            } else {
                let t = &templates[rng.random_range(0..templates.len())];
                let id = c.add_pod(Pod::from_template(Arc::clone(t), step));
                let node = NodeId(rng.random_range(0..c.nodes().len() as u32));
                c.bind(id, node).expect("test pods fit");
                bound.push(id);
            }
            let t = &templates[rng.random_range(0..templates.len())];
            let id = c.add_pod(Pod::from_template(Arc::clone(t), 10_000 + step));
            let pod = c.pod(id).unwrap();
            let mut fresh = PodTopologySpread::default();
            let all: Vec<NodeId> = (0..c.nodes().len() as u32).map(NodeId).collect();
            let feasible: Vec<NodeId> = all
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.7))
                .collect();
            let run = |pl: &mut PodTopologySpread| {
                let pre_filter = pl.pre_filter(pod, &c).code;
                let codes: Vec<Code> = all.iter().map(|&n| pl.filter(pod, &c, n).code).collect();
                let pre_score = pl.pre_score(pod, &c, &feasible).code;
                let mut scores: Vec<i64> = feasible.iter().map(|&n| pl.score(pod, &c, n)).collect();
                pl.normalize_score(pod, &mut scores);
                (pre_filter, codes, pre_score, scores)
            };
            assert_eq!(run(&mut kept), run(&mut fresh), "step {step}");
            c.remove_pod(id);
        }
        assert_eq!(kept.entries.len(), MAX_ENTRIES);
    }

    /// Two clones of one cluster that diverge give the same generation to different
    /// contents; the tallies are per cluster, so the second is counted afresh.
    #[test]
    fn diverging_clones_are_counted_apart() {
        let base = world(vec![zn("node-a", "zone1"), zn("node-x", "zone2")], vec![]);
        let (mut a, mut b) = (base.clone(), base.clone());
        for (c, app) in [(&mut a, "web"), (&mut b, "db")] {
            let id = add_pod(c, on("node-a", &[("app", app)]).1);
            c.bind(id, NodeId(0)).unwrap();
        }
        // The copies share their identity, but node-a changed differently in each, so its
        // generation differs and no cache can take one copy's figures for the other's.
        assert_eq!(a.uid(), b.uid());
        assert_ne!(a.generations()[0], b.generations()[0]);
        let template = Arc::new(
            make_pod()
                .label("app", "web")
                .spread(1, "zone", HARD, label_is("app", "web"))
                .obj(),
        );
        let mut pl = PodTopologySpread::default();
        let mut codes = |c: &mut ClusterState| {
            let id = c.add_pod(Pod::from_template(Arc::clone(&template), 0));
            let pod = c.pod(id).unwrap();
            assert!(pl.pre_filter(pod, c).is_success());
            [NodeId(0), NodeId(1)].map(|n| pl.filter(pod, c, n).code)
        };
        // In a, node-a's zone already has a web pod: only zone2 takes another.
        assert_eq!(codes(&mut a), [Code::Unschedulable, Code::Success]);
        // In b it has a db pod, which the selector does not count.
        assert_eq!(codes(&mut b), [Code::Success, Code::Success]);
    }
}
