//! A kube-scheduler-style framework: plugins at the PreFilter, Filter, PreScore, Score and
//! NormalizeScore extension points, composed into named profiles with weights, run one
//! pod at a time the way kube-scheduler's scheduling cycle runs them.
//!
//! Semantics that change placements follow kube-scheduler (v1.35):
//! - nodes are visited in zone-interleaved order (the scheduler cache's node tree), from a
//!   start index that rotates across pods, and filtering stops once
//!   `percentageOfNodesToScore` feasible nodes are found (adaptive default: 50% minus one
//!   point per 125 nodes, at least 5%, at least 100 nodes);
//! - a node's filter result is the first failing plugin's status, in profile order;
//! - a single feasible node is chosen without scoring;
//! - each score plugin's raw scores are normalized (NormalizeScore) to 0..=100 and
//!   multiplied by the plugin's weight; the highest total wins, ties broken uniformly at
//!   random (selectHost's reservoir sampling, drawn here with one draw per pod).
//!
//! Simplification: kube-scheduler filters nodes in parallel (16 goroutines) and may check
//! a few nodes past the quota; schedlab checks them one by one, so which nodes are
//! evaluated is exactly the first feasible ones in visiting order. A deterministic
//! parallel filter was measured 2 to 3 times slower at 5,000 and 10,000 nodes (a node's
//! filters cost less than handing work to another thread) and was not kept; see
//! BENCHMARKS.md, "Parallel filtering within one attempt".

use std::mem::ManuallyDrop;

use rand::RngExt;

use crate::cluster::ClusterState;
use crate::node::NodeId;
use crate::pod::{Pod, PodId};
use crate::reason::Reason;
use crate::resources::{NUM_RESOURCES, ResourceKind, ResourceNames, Resources};
use crate::scheduler::{Cycle, Diagnosis, Placement, Scheduler, SchedulerRng};

#[cfg(feature = "yaml")]
pub mod config;
pub mod plugin_registry;
pub mod plugins;
pub mod preemption;
pub mod profile;
pub mod shape_index;

pub use profile::{Profile, ProfileError};

/// kube-scheduler's MaxNodeScore: every normalized plugin score lies in `0..=MAX_NODE_SCORE`.
pub const MAX_NODE_SCORE: i64 = 100;
/// Below this many nodes every node is evaluated (`minFeasibleNodesToFind`).
pub const MIN_FEASIBLE_NODES_TO_FIND: usize = 100;
/// The adaptive percentage never goes below this (`minFeasibleNodesPercentageToFind`).
pub const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: usize = 5;

/// What a plugin's verdict means for the framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// Go on.
    Success,
    /// The pod cannot go there now; preemption may help.
    Unschedulable,
    /// The pod cannot go there and preemption would not help.
    UnschedulableAndUnresolvable,
    /// The plugin failed; the attempt fails.
    Error,
    /// From PreFilter or PreScore: this plugin has nothing to do for this pod, so its
    /// Filter or Score is not called.
    Skip,
}

/// A plugin's verdict: a code and reasons, in kube-scheduler's wording once written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// What happens next.
    pub code: Code,
    /// Why; each reason is counted separately in the "0/N nodes are available" message.
    pub reasons: Reasons,
}

impl Status {
    /// Success, allocating nothing.
    pub const fn success() -> Status {
        Status {
            code: Code::Success,
            reasons: Reasons::new(),
        }
    }

    /// Skip, allocating nothing.
    pub const fn skip() -> Status {
        Status {
            code: Code::Skip,
            reasons: Reasons::new(),
        }
    }

    /// Unschedulable for one reason.
    pub fn unschedulable(reason: impl Into<Reason>) -> Status {
        Status::new(Code::Unschedulable, reason)
    }

    /// UnschedulableAndUnresolvable for one reason.
    pub fn unresolvable(reason: impl Into<Reason>) -> Status {
        Status::new(Code::UnschedulableAndUnresolvable, reason)
    }

    /// This code for one reason; allocates nothing unless the reason is owned text.
    pub fn new(code: Code, reason: impl Into<Reason>) -> Status {
        let mut reasons = Reasons::new();
        reasons.push(reason.into());
        Status { code, reasons }
    }

    /// True for Success.
    #[inline]
    pub fn is_success(&self) -> bool {
        self.code == Code::Success
    }
}

/// A status's reasons, in the order the plugin gave them. Up to two codes live inline, so
/// a plugin that rejects a node for one or two reasons (the common cases: one filter, or
/// CPU and memory both short) allocates nothing; a third reason, or any text, moves them
/// all to the heap.
#[derive(Clone)]
pub struct Reasons {
    /// How many of `inline` are in use while there is no `heap`.
    len: u8,
    /// Never holds text, so it owns no memory and needs no drop: every filter call returns
    /// a `Status`, and drop glue for reasons kept here was an out-of-line call that cost
    /// about a tenth of a kube-default run (callgrind, 1k-node bench scenario). Unused
    /// slots hold a filler.
    inline: ManuallyDrop<[Reason; 2]>,
    /// All the reasons, once there are more than `inline` holds or one is text. A boxed
    /// slice rather than a `Vec`: a success writes one word for it, not three.
    heap: Option<Box<[Reason]>>,
}

impl Reasons {
    /// None yet.
    pub const fn new() -> Reasons {
        Reasons {
            len: 0,
            inline: ManuallyDrop::new([Reason::NotReady, Reason::NotReady]),
            heap: None,
        }
    }

    /// Appends one.
    pub fn push(&mut self, reason: Reason) {
        let len = self.len as usize;
        match self.heap.take() {
            None if len < self.inline.len() && !matches!(reason, Reason::Text(_)) => {
                self.inline[len] = reason;
                self.len += 1;
            }
            heap => {
                let mut all = match heap {
                    Some(heap) => heap.into_vec(),
                    None => self.inline[..len].to_vec(),
                };
                all.push(reason);
                self.heap = Some(all.into_boxed_slice());
            }
        }
    }

    /// The reasons as a slice.
    #[inline]
    pub fn as_slice(&self) -> &[Reason] {
        match &self.heap {
            None => &self.inline[..self.len as usize],
            Some(heap) => heap,
        }
    }

    /// Each reason in kube-scheduler's wording, extended resources named from `names`.
    pub fn render(&self, names: &ResourceNames) -> Vec<String> {
        self.iter().map(|r| r.display(names).to_string()).collect()
    }
}

impl std::ops::Deref for Reasons {
    type Target = [Reason];

    #[inline]
    fn deref(&self) -> &[Reason] {
        self.as_slice()
    }
}

impl PartialEq for Reasons {
    fn eq(&self, other: &Reasons) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Reasons {}

impl std::fmt::Debug for Reasons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl Default for Reasons {
    fn default() -> Reasons {
        Reasons::new()
    }
}

impl FromIterator<Reason> for Reasons {
    fn from_iter<I: IntoIterator<Item = Reason>>(iter: I) -> Reasons {
        let mut reasons = Reasons::new();
        for r in iter {
            reasons.push(r);
        }
        reasons
    }
}

/// A scheduling plugin. A plugin implements the extension points it needs; the profile
/// says at which points it runs. Methods taking `&mut self` run once per pod before the
/// per-node methods, so a plugin keeps what it precomputes for the current pod in its own
/// fields (kube-scheduler's CycleState, but typed and owned by the plugin).
pub trait Plugin: Send {
    /// The plugin's name, as in kube-scheduler's configuration (`NodeResourcesFit`).
    fn name(&self) -> &'static str;

    /// PreFilter: once per pod, before any Filter. Unschedulable rejects every node; Skip
    /// disables this plugin's Filter for this pod.
    fn pre_filter(&mut self, _pod: &Pod, _cluster: &ClusterState) -> Status {
        Status::success()
    }

    /// Filter: may this pod run on this node?
    fn filter(&self, _pod: &Pod, _cluster: &ClusterState, _node: NodeId) -> Status {
        Status::success()
    }

    /// PreScore: once per pod with the feasible nodes, before any Score. Skip disables
    /// this plugin's Score for this pod. The shape index runs it before Filter, with no
    /// feasible nodes (see [`Plugin::pre_score_reads_feasible`]).
    fn pre_score(&mut self, _pod: &Pod, _cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        Status::success()
    }

    /// True when this plugin's PreScore reads `feasible`. The shape index runs PreScore
    /// before Filter, with no feasible nodes; when the scan takes the pod over, only the
    /// plugins that say so run PreScore again, with the nodes it found, so that the
    /// others' PreScore runs once per pod. The default, false, suits a PreScore that
    /// ignores them.
    fn pre_score_reads_feasible(&self) -> bool {
        false
    }

    /// Score: the raw score of a feasible node.
    fn score(&self, _pod: &Pod, _cluster: &ClusterState, _node: NodeId) -> i64 {
        0
    }

    /// NormalizeScore: rescales the raw scores of all feasible nodes (in the order of
    /// `feasible` given to PreScore) into `0..=MAX_NODE_SCORE`, in place. The default
    /// leaves them as they are, for plugins whose raw scores are already in range.
    fn normalize_score(&self, _pod: &Pod, _scores: &mut [i64]) {}

    /// For the shape index ([`shape_index`]): true when, for the pod whose PreFilter just
    /// ran (a pod without node constraints), this plugin's Filter verdict on a node depends
    /// on nothing but that node's own state, as the cluster's change log tracks it, and
    /// the pod's requests. The default, false, keeps such pods on the full scan.
    fn filter_by_shape(&self) -> bool {
        false
    }

    /// For the shape index: how this plugin's normalized score depends on the node, for
    /// the pod whose PreScore just ran. The default, [`ShapeScore::Unknown`], keeps such
    /// pods on the full scan.
    fn score_by_shape(&self) -> ShapeScore {
        ShapeScore::Unknown
    }
}

/// How a plugin's normalized score for the current pod depends on the node (see
/// [`Plugin::score_by_shape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeScore {
    /// On anything else: the shape index cannot stand in for a scan.
    Unknown,
    /// The raw score is a function of the node's own state and the pod's requests, and
    /// NormalizeScore leaves it as it is.
    PerNode,
    /// The raw score is a function of the node's own state and the pod's requests, and
    /// when every node of the window scores 0 raw, NormalizeScore gives them all the same
    /// score, which cannot change which node wins.
    SameWhereZero,
}

/// How many feasible nodes to find before scoring (`numFeasibleNodesToFind`):
/// `percentage` is the profile's `percentageOfNodesToScore`, 0 for the adaptive default.
pub fn num_feasible_nodes_to_find(percentage: u32, all_nodes: usize) -> usize {
    if all_nodes < MIN_FEASIBLE_NODES_TO_FIND {
        return all_nodes;
    }
    let mut percentage = percentage as usize;
    if percentage == 0 {
        percentage = 50usize
            .saturating_sub(all_nodes / 125)
            .max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
    }
    let nodes = all_nodes * percentage.min(100) / 100;
    nodes.max(MIN_FEASIBLE_NODES_TO_FIND)
}

/// The order kube-scheduler's node tree lists nodes in: round-robin over zones (by the
/// `topology.kubernetes.io/region` and `topology.kubernetes.io/zone` labels, zones in
/// order of first appearance), each zone's nodes in the order they joined.
pub fn zone_interleaved_order(cluster: &ClusterState) -> Vec<NodeId> {
    let mut zones: Vec<(String, Vec<NodeId>)> = Vec::new();
    for (i, node) in cluster.nodes().iter().enumerate() {
        if !node.ready {
            continue;
        }
        let labels = &node.spec.labels;
        let region = labels.get("topology.kubernetes.io/region").unwrap_or("");
        let zone = labels.get("topology.kubernetes.io/zone").unwrap_or("");
        let key = if region.is_empty() && zone.is_empty() {
            String::new()
        } else {
            format!("{region}:\0:{zone}")
        };
        match zones.iter_mut().find(|(k, _)| *k == key) {
            Some((_, nodes)) => nodes.push(NodeId(i as u32)),
            None => zones.push((key, vec![NodeId(i as u32)])),
        }
    }
    let total: usize = zones.iter().map(|(_, n)| n.len()).sum();
    let mut order = Vec::with_capacity(total);
    let mut index = 0;
    while order.len() < total {
        for (_, nodes) in &zones {
            if let Some(&n) = nodes.get(index) {
                order.push(n);
            }
        }
        index += 1;
    }
    order
}

/// One score plugin's contribution to a node's total, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginScore {
    /// The plugin.
    pub plugin: &'static str,
    /// Score before normalization.
    pub raw: i64,
    /// Score after NormalizeScore.
    pub normalized: i64,
    /// The plugin's weight in the profile.
    pub weight: i64,
}

/// What happened to one node in one scheduling attempt, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeVerdict {
    /// The node.
    pub node: NodeId,
    /// False when the attempt stopped filtering before reaching this node
    /// (percentageOfNodesToScore).
    pub evaluated: bool,
    /// Passed every filter.
    pub feasible: bool,
    /// The filter plugin that rejected it, if any.
    pub failed_plugin: Option<&'static str>,
    /// Its reasons.
    pub reasons: Vec<String>,
    /// Per score plugin, in profile order (empty when not scored).
    pub scores: Vec<PluginScore>,
    /// Sum of normalized score times weight.
    pub total: i64,
}

/// Why a pod went where it went: every node's verdict and the choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The profile's name.
    pub profile: String,
    /// Verdicts, in the order the nodes were visited, unvisited nodes last.
    pub nodes: Vec<NodeVerdict>,
    /// The chosen node.
    pub selected: Option<NodeId>,
    /// Why no node was chosen, if none was.
    pub diagnosis: Option<Diagnosis>,
    /// The node nominated by preemption and the pods it would evict, if the pod fits
    /// nowhere but preemption can make room.
    pub preemption: Option<preemption::Candidate>,
    /// What Permit makes of the choice, when a wrapper adds a Permit stage (gang
    /// scheduling: whether the pod waits for its pod group or completes it).
    pub permit: Option<String>,
}

/// A scheduler running one [`Profile`], as kube-scheduler runs one profile.
pub struct FrameworkScheduler {
    profile: Profile,
    /// Where the next pod's filtering starts in the node order (`nextStartNodeIndex`).
    next_start: usize,
    order: Vec<NodeId>,
    /// (cluster uid, node-set generation) the order was computed for.
    order_key: (u64, u64),
    feasible: Vec<NodeId>,
    failures: Vec<(NodeId, &'static str, Status)>,
    skip_filter: Vec<bool>,
    skip_score: Vec<bool>,
    /// PreScore ran for the current pod before Filter, without the feasible nodes (the
    /// shape index ran it, then left the pod to the scan).
    pre_scored_early: bool,
    raw: Vec<i64>,
    totals: Vec<i64>,
    /// Room held for the current pod's betters: per node, the requests of pending pods
    /// nominated there whose priority is at least the pod's (upstream's
    /// `addNominatedPods`).
    reserved: Vec<(NodeId, Resources)>,
    /// Common pods' cycles without a scan; `None` when turned off.
    shape_index: Option<shape_index::ShapeIndex>,
    /// The current pod's plugins in play for the shape index, in the profile's order:
    /// Filter, the scores that must be 0, and the scores that are summed (with their
    /// weights). A catch-up computes ~30 leaves per pod; walking only these, rather than
    /// every plugin of the profile with a bit test, roughly halves a leaf's cost.
    shape_filters: Vec<usize>,
    shape_zero: Vec<usize>,
    shape_scores: Vec<(usize, i64)>,
    /// Cycles the shape index decided, for the tests that compare it with the scan.
    #[cfg(test)]
    shape_index_hits: u64,
}

impl FrameworkScheduler {
    /// A scheduler for this profile.
    pub fn new(profile: Profile) -> FrameworkScheduler {
        FrameworkScheduler {
            profile,
            next_start: 0,
            order: Vec::new(),
            order_key: (0, u64::MAX),
            feasible: Vec::new(),
            failures: Vec::new(),
            skip_filter: Vec::new(),
            skip_score: Vec::new(),
            pre_scored_early: false,
            raw: Vec::new(),
            totals: Vec::new(),
            reserved: Vec::new(),
            shape_index: Some(Default::default()),
            shape_filters: Vec::new(),
            shape_zero: Vec::new(),
            shape_scores: Vec::new(),
            #[cfg(test)]
            shape_index_hits: 0,
        }
    }

    /// The same scheduler with every cycle a full scan, as kube-scheduler runs it: for
    /// checking that the shape index changes no decision, and for measuring what it saves.
    pub fn without_shape_index(mut self) -> FrameworkScheduler {
        self.shape_index = None;
        self
    }

    /// The profile it runs.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    fn refresh_order(&mut self, cluster: &ClusterState) {
        let key = (cluster.uid(), cluster.node_set_generation());
        if key != self.order_key {
            self.order = zone_interleaved_order(cluster);
            self.order_key = key;
            self.next_start = self.next_start.min(self.order.len().saturating_sub(1));
        }
    }

    /// One scheduling cycle for one pod; with `explain`, records every node's verdict.
    pub fn schedule_pod(
        &mut self,
        cluster: &ClusterState,
        pod_id: PodId,
        rng: &mut SchedulerRng,
        mut explain: Option<&mut Explanation>,
    ) -> Placement {
        let Some(pod) = cluster.pod(pod_id) else {
            return Placement::Unschedulable(Diagnosis::default());
        };
        self.refresh_order(cluster);
        let n = self.order.len();
        let plugin_count = self.profile.plugins.len();
        self.skip_filter.clear();
        self.skip_filter.resize(plugin_count, false);
        self.skip_score.clear();
        self.skip_score.resize(plugin_count, false);
        self.pre_scored_early = false;

        // PreFilter.
        for &p in &self.profile.pre_filter {
            let plugin = &mut self.profile.plugins[p];
            let status = plugin.pre_filter(pod, cluster);
            match status.code {
                Code::Success => {}
                Code::Skip => self.skip_filter[p] = true,
                _ => {
                    let name = plugin.name();
                    let names = cluster.resource_names();
                    // Every node fails for the plugin's reasons.
                    let mut diagnosis = Diagnosis::new(n as u32);
                    if n > 0 {
                        for r in status.reasons.iter() {
                            diagnosis.add_named(r, n as u32, names);
                        }
                    }
                    if let Some(e) = explain.as_deref_mut() {
                        e.nodes = self
                            .order
                            .iter()
                            .map(|&node| rejected(node, name, &status, names))
                            .collect();
                        e.diagnosis = Some(diagnosis.clone());
                    }
                    return Placement::Unschedulable(diagnosis);
                }
            }
        }

        self.hold_for_nominated(pod_id, pod, cluster);

        // Filter, from the rotating start index, until enough feasible nodes are found.
        let to_find = num_feasible_nodes_to_find(self.profile.percentage_of_nodes_to_score, n);
        self.feasible.clear();
        self.failures.clear();
        let start = if n == 0 { 0 } else { self.next_start % n };
        if explain.is_none()
            && let Some(placement) = self.place_by_shape(pod, cluster, rng, start, to_find)
        {
            return placement;
        }
        let mut processed = 0;
        for k in 0..n {
            if self.feasible.len() >= to_find {
                break;
            }
            let node = self.order[(start + k) % n];
            processed += 1;
            match self.first_failure(pod, cluster, node) {
                None => self.feasible.push(node),
                Some((plugin, status)) => self.failures.push((node, plugin, status)),
            }
        }
        if n > 0 {
            self.next_start = (start + processed) % n;
        }
        if let Some(e) = explain.as_deref_mut() {
            e.nodes = (0..n)
                .map(|k| {
                    let node = self.order[(start + k) % n];
                    let mut v = NodeVerdict {
                        node,
                        evaluated: k < processed,
                        feasible: false,
                        failed_plugin: None,
                        reasons: Vec::new(),
                        scores: Vec::new(),
                        total: 0,
                    };
                    if let Some((_, plugin, status)) = self.failures.iter().find(|f| f.0 == node) {
                        v = rejected(node, plugin, status, cluster.resource_names());
                    } else if k < processed {
                        v.feasible = true;
                    }
                    v
                })
                .collect();
        }
        if self.feasible.is_empty() {
            let names = cluster.resource_names();
            let mut diagnosis = Diagnosis::new(n as u32);
            for (_, _, status) in &self.failures {
                for r in status.reasons.iter() {
                    diagnosis.add_named(r, 1, names);
                }
            }
            // PostFilter: DefaultPreemption.
            let candidate = if self.profile.preemption {
                self.preempt(pod, cluster, rng)
            } else {
                None
            };
            if let Some(e) = explain {
                e.diagnosis = Some(diagnosis.clone());
                e.preemption = candidate.clone();
            }
            return match candidate {
                Some(c) => Placement::Preempt {
                    node: c.node,
                    victims: c.victims,
                },
                None => Placement::Unschedulable(diagnosis),
            };
        }
        if self.feasible.len() == 1 && explain.is_none() {
            return Placement::Node(self.feasible[0]);
        }

        // PreScore and Score.
        self.run_pre_score(pod, cluster, true);
        self.totals.clear();
        self.totals.resize(self.feasible.len(), 0);
        for &(p, weight) in &self.profile.score {
            if self.skip_score[p] {
                continue;
            }
            let plugin = &self.profile.plugins[p];
            self.raw.clear();
            self.raw.extend(
                self.feasible
                    .iter()
                    .map(|&node| plugin.score(pod, cluster, node)),
            );
            let raw_copy = explain.is_some().then(|| self.raw.clone());
            plugin.normalize_score(pod, &mut self.raw);
            for (j, &s) in self.raw.iter().enumerate() {
                self.totals[j] += s * weight;
            }
            if let (Some(e), Some(raw_copy)) = (explain.as_deref_mut(), raw_copy) {
                for (j, &node) in self.feasible.iter().enumerate() {
                    if let Some(v) = e.nodes.iter_mut().find(|v| v.node == node) {
                        v.scores.push(PluginScore {
                            plugin: plugin.name(),
                            raw: raw_copy[j],
                            normalized: self.raw[j],
                            weight,
                        });
                    }
                }
            }
        }

        // selectHost: the highest total, uniformly among ties.
        let best = self.totals.iter().copied().max().unwrap_or(0);
        let ties = self.totals.iter().filter(|&&t| t == best).count();
        let pick = if ties > 1 {
            rng.random_range(0..ties)
        } else {
            0
        };
        let chosen = self
            .totals
            .iter()
            .enumerate()
            .filter(|&(_, &t)| t == best)
            .nth(pick)
            .map(|(j, _)| self.feasible[j]);
        if let Some(e) = explain {
            for (j, &node) in self.feasible.iter().enumerate() {
                if let Some(v) = e.nodes.iter_mut().find(|v| v.node == node) {
                    v.total = self.totals[j];
                }
            }
            e.selected = chosen;
        }
        match chosen {
            Some(node) => Placement::Node(node),
            None => Placement::Unschedulable(Diagnosis::default()),
        }
    }

    /// PreScore for the pod, once: for the Score plugins (in the profile's order, each
    /// noting in `skip_score` whether it turned its Score off), then for the others.
    /// `with_feasible` false runs it before Filter with no feasible nodes, as the shape
    /// index does; when the scan then takes the pod over, only the plugins whose PreScore
    /// reads the feasible nodes ([`Plugin::pre_score_reads_feasible`]) run it again.
    fn run_pre_score(&mut self, pod: &Pod, cluster: &ClusterState, with_feasible: bool) {
        let feasible: &[NodeId] = if with_feasible { &self.feasible } else { &[] };
        let again = std::mem::replace(&mut self.pre_scored_early, !with_feasible);
        let profile = &mut self.profile;
        let runs = |plugin: &dyn Plugin| !again || plugin.pre_score_reads_feasible();
        for &(p, _) in &profile.score {
            let plugin = &mut profile.plugins[p];
            if profile.pre_score.contains(&p) && runs(plugin.as_ref()) {
                self.skip_score[p] = plugin.pre_score(pod, cluster, feasible).code == Code::Skip;
            }
        }
        for &p in &profile.pre_score {
            let plugin = &mut profile.plugins[p];
            if !profile.score.iter().any(|&(s, _)| s == p) && runs(plugin.as_ref()) {
                plugin.pre_score(pod, cluster, feasible);
            }
        }
    }

    /// The cycle of [`Self::schedule_pod`] by the shape index (see [`shape_index`]), after
    /// PreFilter: `None` when the pod or the window needs the scan, with nothing decided
    /// and nothing drawn.
    fn place_by_shape(
        &mut self,
        pod: &Pod,
        cluster: &ClusterState,
        rng: &mut SchedulerRng,
        start: usize,
        to_find: usize,
    ) -> Option<Placement> {
        let plugin_count = self.profile.plugins.len();
        if self.shape_index.is_none()
            || !self.reserved.is_empty()
            || plugin_count > 64
            || pod.template.has_node_constraints()
            || pod.template.gpu.is_some()
        {
            return None;
        }
        let mut filters = 0u64;
        self.shape_filters.clear();
        for &p in &self.profile.filter {
            if !self.skip_filter[p] {
                if !self.profile.plugins[p].filter_by_shape() {
                    return None;
                }
                filters |= 1 << p;
                self.shape_filters.push(p);
            }
        }
        // PreScore as the scan runs it, before Filter; no plugin that looks at the
        // feasible nodes may stay in play (it would say Unknown below).
        self.run_pre_score(pod, cluster, false);
        let (mut scores, mut zero) = (0u64, 0u64);
        self.shape_zero.clear();
        self.shape_scores.clear();
        for &(p, weight) in &self.profile.score {
            if self.skip_score[p] {
                continue;
            }
            match self.profile.plugins[p].score_by_shape() {
                ShapeScore::Unknown => return None,
                ShapeScore::PerNode => {
                    scores |= 1 << p;
                    self.shape_scores.push((p, weight));
                }
                ShapeScore::SameWhereZero => {
                    zero |= 1 << p;
                    self.shape_zero.push(p);
                }
            }
        }
        let key = shape_index::ShapeKey {
            requests: pod.requests,
            nonzero: (pod.nonzero_cpu, pod.nonzero_memory),
            filters,
            scores,
            zero,
        };
        let plugins = &self.profile.plugins;
        let (shape_filters, shape_zero, shape_scores) =
            (&self.shape_filters, &self.shape_zero, &self.shape_scores);
        let leaf = |node: NodeId| {
            for &p in shape_filters {
                if !plugins[p].filter(pod, cluster, node).is_success() {
                    return shape_index::Leaf::Infeasible;
                }
            }
            for &p in shape_zero {
                if plugins[p].score(pod, cluster, node) != 0 {
                    return shape_index::Leaf::Irregular;
                }
            }
            let total = shape_scores
                .iter()
                .map(|&(p, weight)| plugins[p].score(pod, cluster, node) * weight)
                .sum();
            shape_index::Leaf::Total(total)
        };
        let index = self.shape_index.as_mut()?;
        let tree = index.tree(cluster, &self.order, self.order_key, key, leaf)?;

        // The window the scan's filtering would cover, from `start` round the order.
        let n = self.order.len();
        let all = tree.feasible() as usize;
        if all == 0 {
            return None;
        }
        let after_start = tree.stats(&[(start, n)]).feasible as usize;
        let (processed, ranges) = if after_start >= to_find {
            let end = tree.kth_feasible_from(start, (to_find - 1) as u32)?;
            (end + 1 - start, [(start, end + 1), (0, 0)])
        } else if all >= to_find {
            let end = tree.kth_feasible_from(0, (to_find - after_start - 1) as u32)?;
            (n - start + end + 1, [(start, n), (0, end + 1)])
        } else {
            (n, [(start, n), (0, start)])
        };
        let window = tree.stats(&ranges);
        if window.irregular > 0 {
            return None;
        }
        // selectHost, with the scan's one draw over the ties, and none for a lone node.
        let ties = window.ties as usize;
        let pick = if window.feasible > 1 && ties > 1 {
            rng.random_range(0..ties)
        } else {
            0
        };
        let position = tree.kth_best(&ranges, window.best, pick as u32)?;
        self.next_start = (start + processed) % n;
        #[cfg(test)]
        {
            self.shape_index_hits += 1;
        }
        Some(Placement::Node(self.order[position]))
    }

    /// DefaultPreemption. When the pod's verdicts can depend on other pods beyond their
    /// requests (InterPodAffinity, PodTopologySpread, NodePorts, VolumeRestrictions or
    /// NodeVolumeLimits active for it), every
    /// node rejected as Unschedulable is dry-run with all filters on a copy of the
    /// cluster, as upstream does; otherwise only NodeResourcesFit can be resolved by
    /// evicting, so the candidates are the nodes whose only objection is its, and the dry
    /// run re-checks resources (exact for them, and far cheaper).
    fn preempt(
        &mut self,
        pod: &Pod,
        cluster: &ClusterState,
        rng: &mut SchedulerRng,
    ) -> Option<preemption::Candidate> {
        if !preemption::eligible(pod) || waits_for_terminating_victims(pod, cluster) {
            return None;
        }
        let pod_dependent = self.profile.filter.iter().any(|&p| {
            !self.skip_filter[p] && POD_DEPENDENT_FILTERS.contains(&self.profile.plugins[p].name())
        });
        if pod_dependent {
            return self.preempt_with_every_filter(pod, cluster, rng);
        }
        let potential: Vec<(NodeId, Resources)> = self
            .failures
            .iter()
            .filter(|(_, plugin, status)| {
                *plugin == plugins::node_resources_fit::NodeResourcesFit::NAME
                    && status.code == Code::Unschedulable
            })
            .map(|&(node, _, _)| node)
            .filter(|&node| {
                self.profile.filter.iter().all(|&p| {
                    let plugin = &self.profile.plugins[p];
                    plugin.name() == plugins::node_resources_fit::NodeResourcesFit::NAME
                        || self.skip_filter[p]
                        || plugin.filter(pod, cluster, node).is_success()
                })
            })
            .map(|node| (node, self.held_on(node).unwrap_or(Resources::ZERO)))
            .collect();
        preemption::find(cluster, pod, &potential, rng)
    }

    /// Upstream's dry run (`SelectVictimsOnNode` with every filter): on a copy of the
    /// cluster, each node rejected as Unschedulable loses all its lower-priority pods; if
    /// the pod then passes every PreFilter and Filter there, the removed pods come back
    /// one by one (PDB-violating ones first, each group most important first) and those
    /// whose return keeps the pod passing are reprieved. Candidates are sought from a
    /// random offset until `max(10% of nodes, 100)` are found, and chosen as
    /// [`preemption::pick`] does.
    fn preempt_with_every_filter(
        &mut self,
        pod: &Pod,
        cluster: &ClusterState,
        rng: &mut SchedulerRng,
    ) -> Option<preemption::Candidate> {
        let potential: Vec<NodeId> = self
            .failures
            .iter()
            .filter(|(_, _, status)| status.code == Code::Unschedulable)
            .map(|&(node, _, _)| node)
            .collect();
        if potential.is_empty() {
            return None;
        }
        let wanted = preemption::candidates_wanted(cluster, potential.len());
        let offset = rng.random_range(0..potential.len());
        let allowed = crate::pdb::disruptions_allowed(cluster);
        // Cloned at the first node with lower-priority pods; restored after each node.
        let mut what_if: Option<ClusterState> = None;
        let mut candidates = Vec::new();
        for k in 0..potential.len() {
            if candidates.len() >= wanted {
                break;
            }
            let node = potential[(offset + k) % potential.len()];
            let lower = preemption::lower_priority_pods(cluster, pod, node);
            if lower.is_empty() {
                continue;
            }
            let copy = what_if.get_or_insert_with(|| cluster.clone());
            if let Some(c) = self.dry_run(copy, pod, node, lower, &allowed) {
                candidates.push(c);
            }
        }
        if what_if.is_some() {
            // The plugins' per-pod state was last computed on the copy.
            for &p in &self.profile.pre_filter {
                self.profile.plugins[p].pre_filter(pod, cluster);
            }
        }
        preemption::pick(cluster, candidates)
    }

    /// The dry run on one node of `copy`, which it leaves as it found it.
    fn dry_run(
        &mut self,
        copy: &mut ClusterState,
        pod: &Pod,
        node: NodeId,
        lower: Vec<(PodId, &Pod)>,
        allowed: &[i32],
    ) -> Option<preemption::Candidate> {
        for &(victim, _) in &lower {
            copy.set_aside(victim).ok()?;
        }
        let restore = |copy: &mut ClusterState, pods: &[(PodId, &Pod)]| {
            for &(victim, _) in pods {
                let _ = copy.put_back(victim, node);
            }
        };
        if !self.passes_every_filter(copy, pod, node) {
            restore(copy, &lower);
            return None;
        }
        let (violating, fine) = preemption::split_by_budget(copy, allowed, lower);
        let mut victims = Vec::new();
        let mut num_pdb_violations = 0;
        for (group, counts) in [(violating, true), (fine, false)] {
            for (victim, p) in group {
                let _ = copy.put_back(victim, node);
                if !self.passes_every_filter(copy, pod, node) {
                    let _ = copy.set_aside(victim);
                    victims.push((victim, p));
                    num_pdb_violations += usize::from(counts);
                }
            }
        }
        restore(copy, &victims);
        Some(preemption::candidate(node, victims, num_pdb_violations))
    }

    /// True when `pod` passes every PreFilter and Filter of the profile on `node` of
    /// `cluster`, nominated pods' room held.
    fn passes_every_filter(&mut self, cluster: &ClusterState, pod: &Pod, node: NodeId) -> bool {
        let mut skipped = vec![false; self.profile.plugins.len()];
        for &p in &self.profile.pre_filter {
            match self.profile.plugins[p].pre_filter(pod, cluster).code {
                Code::Success => {}
                Code::Skip => skipped[p] = true,
                _ => return false,
            }
        }
        let filters_pass = self.profile.filter.iter().all(|&p| {
            skipped.get(p).copied().unwrap_or(false)
                || self.profile.plugins[p]
                    .filter(pod, cluster, node)
                    .is_success()
        });
        filters_pass && {
            let free =
                cluster.rows()[node.index()].free - self.held_on(node).unwrap_or(Resources::ZERO);
            shortfall(&pod.requests, &free).is_success()
        }
    }

    /// The first filter plugin, in profile order, that rejects the node.
    fn first_failure(
        &self,
        pod: &Pod,
        cluster: &ClusterState,
        node: NodeId,
    ) -> Option<(&'static str, Status)> {
        for &p in &self.profile.filter {
            if self.skip_filter[p] {
                continue;
            }
            let plugin = &self.profile.plugins[p];
            let status = plugin.filter(pod, cluster, node);
            if !status.is_success() {
                return Some((plugin.name(), status));
            }
        }
        let held = self.held_on(node)?;
        let free = cluster.rows()[node.index()].free - held;
        let status = shortfall(&pod.requests, &free);
        (!status.is_success())
            .then_some((plugins::node_resources_fit::NodeResourcesFit::NAME, status))
    }

    /// What nominated pods hold on `node` for the current pod, if anything.
    #[inline]
    fn held_on(&self, node: NodeId) -> Option<Resources> {
        self.reserved
            .iter()
            .find(|(n, _)| *n == node)
            .map(|&(_, r)| r)
    }

    /// Upstream's `addNominatedPods`, for the resources: the pods nominated to a node with
    /// priority at least `pod`'s keep their room there while their victims terminate, so
    /// a lower-priority pod cannot take what a preemption freed. Simplified: a nominated
    /// pod counts by its requests (and its pod slot) only, not by its host ports or its
    /// labels for other pods' affinity, and the filters do not run a second time without
    /// it.
    fn hold_for_nominated(&mut self, pod_id: PodId, pod: &Pod, cluster: &ClusterState) {
        self.reserved.clear();
        for &q in cluster.nominated_pods() {
            let Some(other) = cluster.pod(q) else {
                continue;
            };
            let Some(node) = other.nominated_node else {
                continue;
            };
            if q == pod_id || other.node.is_some() || other.priority() < pod.priority() {
                continue;
            }
            match self.reserved.iter_mut().find(|(n, _)| *n == node) {
                Some((_, held)) => *held += other.requests,
                None => self.reserved.push((node, other.requests)),
            }
        }
    }

    /// Explains where the pod would go now, without binding it. Advances the rotating
    /// start index and draws from `rng` exactly as a real attempt would.
    pub fn explain(
        &mut self,
        cluster: &ClusterState,
        pod: PodId,
        rng: &mut SchedulerRng,
    ) -> Explanation {
        let mut e = Explanation {
            profile: self.profile.name.clone(),
            nodes: Vec::new(),
            selected: None,
            diagnosis: None,
            preemption: None,
            permit: None,
        };
        self.schedule_pod(cluster, pod, rng, Some(&mut e));
        e
    }
}

/// Filter plugins whose verdict on a node can change when pods other than by their
/// requests leave it: preemption dry-runs every filter when one of them is active.
const POD_DEPENDENT_FILTERS: [&str; 5] = [
    plugins::inter_pod_affinity::InterPodAffinity::NAME,
    plugins::pod_topology_spread::PodTopologySpread::NAME,
    plugins::node_ports::NodePorts::NAME,
    plugins::volume_restrictions::VolumeRestrictions::NAME,
    plugins::node_volume_limits::NodeVolumeLimits::NAME,
];

/// NodeResourcesFit's verdict for `request` against `free` (what is left once
/// nominated pods hold their room): every shortfall in upstream's order.
fn shortfall(request: &Resources, free: &Resources) -> Status {
    let mut status = Status::success();
    if free.pods() < 1 {
        status = Status::unschedulable(Reason::TooManyPods);
    }
    for i in (0..NUM_RESOURCES).filter(|&i| i != ResourceKind::PODS.index()) {
        let kind = ResourceKind(i as u8);
        let wanted = request.get(kind);
        if wanted > 0 && wanted > free.get(kind) {
            if status.is_success() {
                status = Status::unschedulable(Reason::Insufficient(kind));
            } else {
                status.reasons.push(Reason::Insufficient(kind));
            }
        }
    }
    status
}

/// Upstream's `PodEligibleToPreemptOthers`: a pod whose nominated node still has
/// lower-priority pods terminating (its earlier victims) waits for them instead of
/// preempting again.
fn waits_for_terminating_victims(pod: &Pod, cluster: &ClusterState) -> bool {
    pod.nominated_node.is_some_and(|node| {
        cluster
            .node(node)
            .pods
            .iter()
            .filter_map(|&p| cluster.pod(p))
            .any(|p| p.terminating && p.priority() < pod.priority())
    })
}

fn rejected(
    node: NodeId,
    plugin: &'static str,
    status: &Status,
    names: &ResourceNames,
) -> NodeVerdict {
    NodeVerdict {
        node,
        evaluated: true,
        feasible: false,
        failed_plugin: Some(plugin),
        reasons: status.reasons.render(names),
        scores: Vec::new(),
        total: 0,
    }
}

impl Scheduler for FrameworkScheduler {
    fn name(&self) -> &str {
        &self.profile.name
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|cluster, pod, rng| self.schedule_pod(cluster, pod, rng, None));
    }

    fn explain(
        &mut self,
        cluster: &ClusterState,
        pod: PodId,
        rng: &mut SchedulerRng,
    ) -> Option<Explanation> {
        Some(FrameworkScheduler::explain(self, cluster, pod, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape index and the scan make the same decision for every pod, advance the
    /// start index alike and draw alike, on random clusters that change under them: pods
    /// bound and removed, nodes cordoned, failing and joining, PreferNoSchedule and
    /// NoSchedule taints, pods with a node selector or a toleration among them.
    #[test]
    fn shape_index_picks_what_the_scan_picks() {
        use crate::algorithms::testkit::{GIB, node, pod_of};
        use crate::taints::{Taint, TaintEffect, Toleration, TolerationOperator};
        use rand::SeedableRng;
        use std::sync::Arc;

        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        let mut by_index = 0;
        for (round, &size) in [5usize, 60, 130, 400, 1_200].iter().enumerate() {
            let spec = |i: usize, rng: &mut rand::rngs::ChaCha8Rng| {
                let mut n = node(i, [4_000, 8_000, 16_000][i % 3], [8, 16, 64][i % 3] * GIB);
                n.labels
                    .insert(crate::volumes::ZONE_LABEL.into(), format!("zone-{}", i % 3));
                // PreferNoSchedule taints in one round only: a window that holds one
                // goes back to the scan.
                let effect = match rng.random_range(0..20) {
                    0 if round == 2 => Some(TaintEffect::PreferNoSchedule),
                    1 => Some(TaintEffect::NoSchedule),
                    _ => None,
                };
                if let Some(effect) = effect {
                    n.taints.push(Taint {
                        key: "dedicated".into(),
                        value: String::new(),
                        effect,
                    });
                }
                n
            };
            let mut cluster = ClusterState::default();
            for i in 0..size {
                cluster.add_node(spec(i, &mut rng));
            }
            let mut fast = FrameworkScheduler::new(Profile::kube_default());
            let mut scan = FrameworkScheduler::new(Profile::kube_default()).without_shape_index();
            let mut fast_rng = SchedulerRng::seed_from_u64(round as u64);
            let mut scan_rng = SchedulerRng::seed_from_u64(round as u64);
            let mut bound: Vec<PodId> = Vec::new();
            for step in 0..3_000 {
                match rng.random_range(0..100) {
                    0..70 => {
                        let shape = rng.random_range(0..8);
                        let mut pod = pod_of(
                            [250, 500, 1_000, 2_000, 0, 100, 3_000, 500][shape],
                            [GIB / 2, GIB, 2 * GIB, 0, GIB, 0, 4 * GIB, GIB][shape],
                        );
                        if shape == 7 {
                            let mut t = (*pod.template).clone();
                            if step % 2 == 0 {
                                t.tolerations.push(Toleration {
                                    key: "dedicated".into(),
                                    operator: TolerationOperator::Exists,
                                    ..Default::default()
                                });
                            } else {
                                t.node_selector
                                    .insert(crate::volumes::ZONE_LABEL.into(), "zone-1".into());
                            }
                            pod = Pod::from_template(Arc::new(t), 0);
                        }
                        let id = cluster.add_pod(pod);
                        let a = fast.schedule_pod(&cluster, id, &mut fast_rng, None);
                        let b = scan.schedule_pod(&cluster, id, &mut scan_rng, None);
                        assert_eq!(a, b, "round {round}, step {step}");
                        assert_eq!(
                            fast.next_start, scan.next_start,
                            "round {round}, step {step}"
                        );
                        match a {
                            Placement::Node(node) => {
                                cluster.bind(id, node).expect("the chosen node fits");
                                bound.push(id);
                            }
                            _ => {
                                cluster.remove_pod(id);
                            }
                        }
                    }
                    70..95 if !bound.is_empty() => {
                        let id = bound.swap_remove(rng.random_range(0..bound.len()));
                        cluster.unbind(id).expect("bound");
                        cluster.remove_pod(id);
                    }
                    95..97 => {
                        let node = NodeId(rng.random_range(0..cluster.rows().len()) as u32);
                        let cordoned = cluster.node(node).spec.unschedulable;
                        let _ = cluster.set_unschedulable(node, !cordoned);
                    }
                    97..99 => {
                        let node = NodeId(rng.random_range(0..cluster.rows().len()) as u32);
                        let ready = cluster.node(node).ready;
                        let _ = cluster.set_ready(node, !ready);
                    }
                    _ => {
                        let i = cluster.rows().len();
                        cluster.add_node(spec(i, &mut rng));
                    }
                }
            }
            by_index += fast.shape_index_hits;
            assert_eq!(
                fast_rng.random::<u64>(),
                scan_rng.random::<u64>(),
                "same draws"
            );
        }
        // Most pods went through the index, or the comparison says little.
        assert!(by_index > 6_000, "{by_index} cycles by the index");
    }

    /// Pods with soft spread constraints: the shape index runs PreScore before Filter and
    /// leaves them to the scan, whose PreScore must give PodTopologySpread the feasible
    /// nodes (those lacking a zone are ignored; how many domains they span weighs each
    /// constraint). A cordoned node and full nodes make them differ from all nodes.
    #[test]
    fn pod_topology_spread_pre_scores_the_feasible_nodes() {
        use crate::algorithms::testkit::{GIB, node, pod_of};
        use crate::framework::plugins::pod_topology_spread::LABEL_HOSTNAME;
        use crate::pod_affinity::{LabelSelector, TopologySpreadConstraint, WhenUnsatisfiable};
        use crate::volumes::ZONE_LABEL;
        use rand::SeedableRng;
        use std::sync::Arc;

        let mut cluster = ClusterState::default();
        for i in 0..12 {
            let mut n = node(i, 4_000, 8 * GIB);
            n.labels.insert(LABEL_HOSTNAME.into(), format!("n{i}"));
            if i % 4 != 3 {
                n.labels
                    .insert(ZONE_LABEL.into(), format!("zone-{}", i % 3));
            }
            cluster.add_node(n);
        }
        cluster.set_unschedulable(NodeId(1), true).unwrap();
        let mut t = (*pod_of(500, GIB).template).clone();
        t.labels.insert("app".into(), "web".into());
        let selector = LabelSelector {
            match_labels: t.labels.clone(),
            match_expressions: Vec::new(),
        };
        for key in [ZONE_LABEL, LABEL_HOSTNAME] {
            t.topology_spread_constraints
                .push(TopologySpreadConstraint {
                    topology_key: key.into(),
                    when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
                    label_selector: Some(selector.clone()),
                    ..Default::default()
                });
        }
        let template = Arc::new(t);
        let mut fast = FrameworkScheduler::new(Profile::kube_default());
        let mut scan = FrameworkScheduler::new(Profile::kube_default()).without_shape_index();
        let mut fast_rng = SchedulerRng::seed_from_u64(5);
        let mut scan_rng = SchedulerRng::seed_from_u64(5);
        let mut placed = Vec::new();
        for i in 0..80 {
            let id = cluster.add_pod(Pod::from_template(template.clone(), i));
            let a = fast.schedule_pod(&cluster, id, &mut fast_rng, None);
            let b = scan.schedule_pod(&cluster, id, &mut scan_rng, None);
            assert_eq!(a, b, "pod {i}");
            let Placement::Node(node) = a else {
                panic!("pod {i}: {a:?}");
            };
            cluster.bind(id, node).unwrap();
            placed.push(node.0);
        }
        assert_eq!(fast.shape_index_hits, 0, "every pod went to the scan");
        // The spread: the first eight pods on the eight zoned schedulable nodes, one
        // each; the nodes without a zone (scored 0 as ignored) only once those are full
        // (8 pods of 500m each).
        let mut first: Vec<u32> = placed[..8].to_vec();
        first.sort();
        assert_eq!(first, [0, 2, 4, 5, 6, 8, 9, 10]);
        assert!(placed[..64].iter().all(|n| n % 4 != 3), "{placed:?}");
        assert!(placed[64..].iter().all(|n| n % 4 == 3), "{placed:?}");
    }

    /// Mirrors kube-scheduler's TestNumFeasibleNodesToFind (schedule_one_test.go).
    #[test]
    fn feasible_nodes_to_find_follows_upstream() {
        let rows = [
            (0, 10, 10),
            (40, 10, 10),
            (0, 1000, 420),
            (40, 1000, 400),
            (0, 6000, 300),
            (40, 6000, 2400),
            (0, 50, 50),
            (0, 99, 99),
            (0, 100, 100),
            (0, 200, 100),
            (0, 5000, 500),
            (0, 10000, 500),
            (10, 5000, 500),
            (100, 5000, 5000),
        ];
        for (percentage, nodes, want) in rows {
            assert_eq!(
                num_feasible_nodes_to_find(percentage, nodes),
                want,
                "{percentage}% of {nodes}"
            );
        }
    }

    /// Two codes live inline; a third reason or text moves them to the heap; the order and
    /// equality do not depend on where they live.
    #[test]
    fn reasons_keep_order_wherever_they_live() {
        use crate::resources::ResourceKind;
        let all = [
            Reason::TooManyPods,
            Reason::Insufficient(ResourceKind::CPU),
            Reason::Insufficient(ResourceKind::MEMORY),
        ];
        let mut r = Reasons::new();
        assert!(r.is_empty());
        for (i, reason) in all.iter().enumerate() {
            r.push(reason.clone());
            assert_eq!(r.as_slice(), &all[..=i]);
        }
        assert_eq!(r.heap.as_deref(), Some(&all[..]));
        let two: Reasons = all[..2].iter().cloned().collect();
        assert!(two.heap.is_none());
        // Text goes to the heap at once, and takes the codes before it along.
        let mut text = Reasons::new();
        text.push(all[0].clone());
        text.push(Reason::from(String::from("volume \"v\" not found")));
        assert_eq!(text.heap.as_ref().map(|h| h.len()), Some(2));
        assert_eq!(
            text.render(&ResourceNames::default()),
            ["Too many pods", "volume \"v\" not found"]
        );
        let mut spilled = Reasons::new();
        spilled.heap = Some(all[..2].into());
        assert_eq!(spilled, two);
        assert_eq!(
            r.render(&ResourceNames::default()),
            ["Too many pods", "Insufficient cpu", "Insufficient memory"]
        );
        assert_eq!(
            Status::unresolvable(Reason::NodeAffinity),
            Status::unresolvable(crate::filters::REASON_NODE_AFFINITY)
        );
    }
}
