//! InterPodAffinity: a pod runs only where its required pod affinity finds matching pods
//! in the same topology domain, where its required anti-affinity finds none, and where no
//! existing pod's required anti-affinity objects to it; it prefers domains its preferred
//! (anti-)affinity terms, and the terms of the pods already there, favour.
//!
//! Follows kube-scheduler v1.35, `pkg/scheduler/framework/plugins/interpodaffinity`
//! (`filtering.go`, `scoring.go`, `plugin.go`), with the term matching of the framework's
//! `AffinityTerm.Matches`:
//! - A term matches a pod when the pod's namespace is one of `namespaces`, or its namespace
//!   matches `namespaceSelector` (an empty selector matches every namespace, an absent one
//!   none); with neither, the namespace of the pod that owns the term. Then its labels must
//!   match `labelSelector` (absent: no pod). A term counts a pod under the topology domain
//!   `(topologyKey, value of that label on the pod's node)`; a node without the label is in
//!   no domain of that key.
//! - PreFilter counts, over the pods on every node: (1) existing pods' required
//!   anti-affinity terms the incoming pod matches; (2) pods matching *all* of the incoming
//!   pod's required affinity terms, under each term's domain; (3) pods matching each of its
//!   required anti-affinity terms. It returns Skip when (1) is empty and the pod has no
//!   required terms.
//! - Filter checks, in upstream's order: affinity (every term's key must be on the node and
//!   its domain must hold a matching pod; unless no pod anywhere matches and the pod matches
//!   its own terms, so that the first pod of a group that wants to be together can land),
//!   rejected as UnschedulableAndUnresolvable `node(s) didn't match pod affinity rules`;
//!   then anti-affinity, Unschedulable `node(s) didn't match pod anti-affinity rules`; then
//!   existing pods' anti-affinity, Unschedulable `node(s) didn't satisfy existing pods
//!   anti-affinity rules`. Filter without PreFilter is an Error, as upstream.
//! - PreScore sums, per domain, `+weight` for each pod matching a preferred affinity term of
//!   the incoming pod and `-weight` for a preferred anti-affinity term; and symmetrically,
//!   for each existing pod whose terms match the incoming pod, `+hardPodAffinityWeight`
//!   (default 1) per required affinity term, `+weight` per preferred affinity term and
//!   `-weight` per preferred anti-affinity term. When the incoming pod has no preferred
//!   terms only pods with such terms are visited; with `ignorePreferredTermsOfExistingPods`
//!   it returns Skip at once; and it returns Skip when no term matched in any domain.
//! - Score is the sum of the node's domains' values; NormalizeScore maps the feasible
//!   nodes' scores from `[min, max]` to `0..=100` with upstream's float arithmetic,
//!   `int64(100 * (float64(score - min) / float64(max - min)))`, all 0 when `max == min`.
//!
//! `matchLabelKeys` and `mismatchLabelKeys` are merged into the selector as the API server
//! does when it creates the pod (feature `MatchLabelKeysInPodAffinity`, on in v1.35): each
//! key the term's own pod has adds `key In (value)`, respectively `key NotIn (value)`;
//! nothing is added to an absent selector.
//!
//! Simplifications, stated:
//! - Namespaces are not objects in schedlab: a namespace's only label is
//!   `kubernetes.io/metadata.name: <name>`, and `namespaceSelector` is evaluated against the
//!   candidate pod's namespace directly instead of listing matching Namespace objects (the
//!   same result, since a pod's namespace exists).
//! - Selectors are parsed when the scenario is loaded, so upstream's `parsing pod`
//!   rejection (PreFilter) and PreScore Error for invalid label values cannot arise here.
//! - Score without a PreScore for the pod is 0 rather than an Error.
//! - PreFilterExtensions (AddPod/RemovePod) are not modelled: the framework neither
//!   re-filters with nominated pods nor, in DefaultPreemption's dry run, re-runs this
//!   filter with the victims removed (see `framework/preemption.rs`).
//! - Nodes that left the cluster (`ready == false`) and their pods are not in the
//!   snapshot and count for nothing.
//!
//! Cost: upstream visits, in every PreFilter, each pod with required anti-affinity terms
//! (per-node lists its snapshot keeps), and in PreScore, for a pod without preferred terms,
//! each pod with affinity terms. This plugin keeps those pods grouped by template in a
//! census refreshed only for nodes whose generation ([`ClusterState::generations`])
//! moved, and matches each template once, weighing each node by its number of pods of
//! that template. So a pod without terms costs one pass over the generations in PreFilter
//! and in PreScore (and gets Skip when nothing concerns it), plus one match per distinct
//! template with terms. A pod with required or preferred terms of its own visits every
//! pod, as upstream does, tallying per node before touching the domain maps.
//!
//! The plugin keeps PreFilter's and PreScore's results for the template of the pod they
//! ran for; the framework runs them before Filter and Score for each pod.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Code, MAX_NODE_SCORE, Plugin, Status};
use crate::labels::Labels;
use crate::node::{Node, NodeId};
use crate::pod::{Pod, PodTemplate};
use crate::pod_affinity::{LabelSelector, PodAffinity, PodAffinityTerm, WeightedPodAffinityTerm};
use crate::reason::Reason;

/// The only label a namespace has in schedlab's model (set by Kubernetes on every
/// namespace), which `namespaceSelector` is matched against.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// `InterPodAffinityArgs`: the plugin's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterPodAffinityArgs {
    /// Score added to a domain per required affinity term of an existing pod there that
    /// the incoming pod matches (`hardPodAffinityWeight`, 0..=100, default 1).
    pub hard_pod_affinity_weight: i32,
    /// Skip scoring pods without preferred terms, ignoring the terms of existing pods
    /// (`ignorePreferredTermsOfExistingPods`, default false).
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs {
            hard_pod_affinity_weight: 1,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

/// Arguments kube-scheduler would refuse to start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("InterPodAffinity hardPodAffinityWeight: Invalid value: {0}: not in valid range [0, 100]")]
pub struct InvalidInterPodAffinityArgs(pub i32);

/// The InterPodAffinity plugin.
#[derive(Debug, Default)]
pub struct InterPodAffinity {
    args: InterPodAffinityArgs,
    /// The pods with terms, grouped by template, so that a pod need not visit every pod
    /// to learn that none concerns it.
    census: Census,
    /// Labels of the namespaces seen, for `namespaceSelector`.
    namespaces: NamespaceLabels,
    /// PreFilter's counts for Filter.
    filter: FilterState,
    /// PreScore's sums for Score and NormalizeScore.
    score: ScoreState,
}

impl InterPodAffinity {
    /// Its name.
    pub const NAME: &'static str = "InterPodAffinity";
    /// Where it runs.
    pub const POINTS: Points = Points::ALL;
    /// Filter reason: a required affinity term finds no matching pod in the node's domain
    /// (`ErrReasonAffinityRulesNotMatch`).
    pub const REASON_AFFINITY: &'static str = "node(s) didn't match pod affinity rules";
    /// Filter reason: a required anti-affinity term finds a matching pod in the node's
    /// domain (`ErrReasonAntiAffinityRulesNotMatch`).
    pub const REASON_ANTI_AFFINITY: &'static str = "node(s) didn't match pod anti-affinity rules";
    /// Filter reason: an existing pod's required anti-affinity term matches the incoming
    /// pod and the node is in that pod's domain (`ErrReasonExistingAntiAffinityRulesNotMatch`).
    pub const REASON_EXISTING_ANTI_AFFINITY: &'static str =
        "node(s) didn't satisfy existing pods anti-affinity rules";
    /// Filter's Error when PreFilter did not run for the pod, in upstream's wording.
    pub const REASON_NO_PRE_FILTER: &'static str =
        "error reading \"PreFilterInterPodAffinity\" from cycleState: not found";

    /// The plugin with these arguments; refused, as kube-scheduler refuses the
    /// configuration, when `hardPodAffinityWeight` is outside 0..=100.
    pub fn with_args(args: InterPodAffinityArgs) -> Result<Self, InvalidInterPodAffinityArgs> {
        if !(0..=100).contains(&args.hard_pod_affinity_weight) {
            return Err(InvalidInterPodAffinityArgs(args.hard_pod_affinity_weight));
        }
        Ok(InterPodAffinity {
            args,
            ..Default::default()
        })
    }

    /// Its arguments.
    pub fn args(&self) -> InterPodAffinityArgs {
        self.args
    }
}

impl Plugin for InterPodAffinity {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, cluster: &ClusterState) -> Status {
        let InterPodAffinity {
            census,
            namespaces,
            filter: state,
            ..
        } = self;
        let incoming = &pod.template;
        let affinity = required(&incoming.pod_affinity);
        let anti_affinity = required(&incoming.pod_anti_affinity);
        // Nothing to check on any node: neither the pod nor any bound pod has terms.
        // Upstream skips in the same case; here it also spares the census a node scan.
        if affinity.is_empty()
            && anti_affinity.is_empty()
            && cluster.bound_pods_with_pod_affinity() == 0
        {
            state.reset(incoming);
            state.skip = true;
            return Status::skip();
        }
        census.refresh(cluster);
        state.reset(incoming);

        // (1) Existing pods' required anti-affinity terms that the incoming pod matches,
        // matched once per template and counted for each node its pods are on.
        for (owner, nodes) in census.required_anti_affinity.iter() {
            for term in required(&owner.pod_anti_affinity) {
                if !term_matches(term, owner, incoming, namespaces) {
                    continue;
                }
                for (node, pods) in ready(cluster, nodes) {
                    if let Some(value) = node.spec.labels.get(&term.topology_key) {
                        state
                            .existing_anti_affinity
                            .add(&term.topology_key, value, pods);
                    }
                }
            }
        }

        if affinity.is_empty() && anti_affinity.is_empty() {
            if state.existing_anti_affinity.is_empty() {
                state.skip = true;
                return Status::skip();
            }
            return Status::success();
        }

        // (2) and (3): every pod on every node against the incoming pod's required terms,
        // tallied per node and added to the node's domains once.
        let mut anti_hits = vec![0; anti_affinity.len()];
        for node in cluster.nodes().iter().filter(|n| n.ready) {
            let mut affinity_hits = 0;
            anti_hits.fill(0);
            for existing in node.pods.iter().filter_map(|&id| cluster.pod(id)) {
                let target = &existing.template;
                // Affinity counts a pod only when it matches every term (upstream's
                // podMatchesAllAffinityTerms), then under each term's own domain.
                if !affinity.is_empty()
                    && affinity
                        .iter()
                        .all(|term| term_matches(term, incoming, target, namespaces))
                {
                    affinity_hits += 1;
                }
                for (term, hits) in anti_affinity.iter().zip(&mut anti_hits) {
                    if term_matches(term, incoming, target, namespaces) {
                        *hits += 1;
                    }
                }
            }
            let labels = &node.spec.labels;
            if affinity_hits > 0 {
                for term in affinity {
                    if let Some(value) = labels.get(&term.topology_key) {
                        state.affinity.add(&term.topology_key, value, affinity_hits);
                    }
                }
            }
            for (term, &hits) in anti_affinity.iter().zip(&anti_hits) {
                if hits > 0
                    && let Some(value) = labels.get(&term.topology_key)
                {
                    state.anti_affinity.add(&term.topology_key, value, hits);
                }
            }
        }
        state.matches_own_affinity = !affinity.is_empty()
            && affinity
                .iter()
                .all(|term| term_matches(term, incoming, incoming, namespaces));
        Status::success()
    }

    fn filter(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        let state = &self.filter;
        if !state.is_for(&pod.template) {
            return Status::new(Code::Error, Reason::InterPodAffinityNotPrepared);
        }
        if state.skip {
            // PreFilter found nothing to check; the framework may still call Filter (the
            // preemption pass does), and every node passes.
            return Status::success();
        }
        let labels = &cluster.node(node).spec.labels;
        let t = &pod.template;
        if !state.satisfies_affinity(required(&t.pod_affinity), labels) {
            return Status::unresolvable(Reason::PodAffinity);
        }
        if !state.satisfies_anti_affinity(required(&t.pod_anti_affinity), labels) {
            return Status::unschedulable(Reason::PodAntiAffinity);
        }
        if state.existing_anti_affinity.any_positive(labels) {
            return Status::unschedulable(Reason::ExistingPodAntiAffinity);
        }
        Status::success()
    }

    fn pre_score(&mut self, pod: &Pod, cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        let InterPodAffinity {
            args,
            census,
            namespaces,
            score: state,
            ..
        } = self;
        let incoming = &pod.template;
        state.template = Some(Arc::clone(incoming));
        state.topology.clear();
        let affinity = preferred(&incoming.pod_affinity);
        let anti_affinity = preferred(&incoming.pod_anti_affinity);
        let has_preferred = !affinity.is_empty() || !anti_affinity.is_empty();
        if !has_preferred && cluster.bound_pods_with_pod_affinity() == 0 {
            return Status::skip();
        }
        if args.ignore_preferred_terms_of_existing_pods && !has_preferred {
            return Status::skip();
        }
        let hard_weight = i64::from(args.hard_pod_affinity_weight);
        // The existing pod's terms that the incoming pod matches (symmetry), as (topology
        // key, signed weight); reused across pods.
        let mut matched: Vec<(&str, i64)> = Vec::new();
        if has_preferred {
            // The incoming pod's terms may match any pod: visit them all, tallying the
            // matches of its terms per node and adding them to the node's domains once.
            let terms: Vec<(&PodAffinityTerm, i64)> = affinity
                .iter()
                .map(|w| (&w.term, weight(w)))
                .chain(anti_affinity.iter().map(|w| (&w.term, -weight(w))))
                .collect();
            let mut hits = vec![0; terms.len()];
            for node in cluster.nodes().iter().filter(|n| n.ready) {
                let labels = &node.spec.labels;
                // Upstream skips nodes without any label: no term can find a domain.
                if labels.is_empty() {
                    continue;
                }
                hits.fill(0);
                for existing in node.pods.iter().filter_map(|&id| cluster.pod(id)) {
                    let existing = &existing.template;
                    for (&(term, _), hits) in terms.iter().zip(&mut hits) {
                        if term_matches(term, incoming, existing, namespaces) {
                            *hits += 1;
                        }
                    }
                    symmetric_terms(existing, incoming, hard_weight, namespaces, &mut matched);
                    for &(key, w) in &matched {
                        if let Some(value) = labels.get(key) {
                            state.topology.add(key, value, w);
                        }
                    }
                }
                for (&(term, w), &hits) in terms.iter().zip(&hits) {
                    if hits > 0
                        && let Some(value) = labels.get(&term.topology_key)
                    {
                        state.topology.add(&term.topology_key, value, w * hits);
                    }
                }
            }
        } else {
            // Only pods with scoring terms can contribute (upstream: PodsWithAffinity):
            // match each template once, and weigh each node by its pods of that template.
            census.refresh(cluster);
            for (existing, nodes) in census.scoring.iter() {
                symmetric_terms(existing, incoming, hard_weight, namespaces, &mut matched);
                if matched.is_empty() {
                    continue;
                }
                for (node, pods) in ready(cluster, nodes) {
                    for &(key, w) in &matched {
                        if let Some(value) = node.spec.labels.get(key) {
                            state.topology.add(key, value, w * pods);
                        }
                    }
                }
            }
        }
        if state.topology.is_empty() {
            // No term found a domain: every node would score the same.
            return Status::skip();
        }
        Status::success()
    }

    fn score(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> i64 {
        if !self.score.is_for(&pod.template) {
            return 0;
        }
        self.score.topology.sum(&cluster.node(node).spec.labels)
    }

    fn normalize_score(&self, pod: &Pod, scores: &mut [i64]) {
        if !self.score.is_for(&pod.template) || self.score.topology.is_empty() {
            return;
        }
        normalize(scores);
    }
}

/// Rescales scores from `[min, max]` of the list to `0..=MAX_NODE_SCORE`, as upstream's
/// NormalizeScore: the fraction is computed in `f64` first, then multiplied by 100 and
/// truncated, so results are the same as upstream's to the last rounding. All become 0
/// when every score is the same.
fn normalize(scores: &mut [i64]) {
    let (Some(&min), Some(&max)) = (scores.iter().min(), scores.iter().max()) else {
        return;
    };
    let spread = max - min;
    for score in scores.iter_mut() {
        *score = if spread > 0 {
            (MAX_NODE_SCORE as f64 * ((*score - min) as f64 / spread as f64)) as i64
        } else {
            0
        };
    }
}

/// `requiredDuringSchedulingIgnoredDuringExecution` of an optional (anti-)affinity.
fn required(affinity: &Option<PodAffinity>) -> &[PodAffinityTerm] {
    affinity.as_ref().map_or(&[], |a| &a.required)
}

/// `preferredDuringSchedulingIgnoredDuringExecution` of an optional (anti-)affinity.
fn preferred(affinity: &Option<PodAffinity>) -> &[WeightedPodAffinityTerm] {
    affinity.as_ref().map_or(&[], |a| &a.preferred)
}

fn weight(term: &WeightedPodAffinityTerm) -> i64 {
    i64::from(term.weight)
}

/// Fills `out` with the terms of `existing` that `incoming` matches, each as its topology
/// key and signed weight (upstream's `processExistingPod`, the existing pod's half):
/// `hard_weight` per required affinity term (none when 0), the weight of each preferred
/// affinity term, minus the weight of each preferred anti-affinity term.
fn symmetric_terms<'a>(
    existing: &'a PodTemplate,
    incoming: &PodTemplate,
    hard_weight: i64,
    namespaces: &mut NamespaceLabels,
    out: &mut Vec<(&'a str, i64)>,
) {
    out.clear();
    let hard = required(&existing.pod_affinity)
        .iter()
        .filter(|_| hard_weight > 0)
        .map(|term| (term, hard_weight));
    let soft = preferred(&existing.pod_affinity)
        .iter()
        .map(|w| (&w.term, weight(w)))
        .chain(
            preferred(&existing.pod_anti_affinity)
                .iter()
                .map(|w| (&w.term, -weight(w))),
        );
    for (term, w) in hard.chain(soft) {
        if term_matches(term, existing, incoming, namespaces) {
            out.push((term.topology_key.as_str(), w));
        }
    }
}

/// The ready nodes among `nodes` (node, number of pods there), with those numbers.
fn ready<'a>(
    cluster: &'a ClusterState,
    nodes: &'a BTreeMap<NodeId, i64>,
) -> impl Iterator<Item = (&'a Node, i64)> + 'a {
    nodes
        .iter()
        .map(|(&id, &pods)| (cluster.node(id), pods))
        .filter(|(node, _)| node.ready)
}

/// Does a pod stamped from `target` match `term`, one of `owner`'s terms? Upstream's
/// `AffinityTerm.Matches` on the term as the API server stored it: namespaces first, then
/// the label selector with `matchLabelKeys`/`mismatchLabelKeys` merged from the owner.
fn term_matches(
    term: &PodAffinityTerm,
    owner: &PodTemplate,
    target: &PodTemplate,
    namespaces: &mut NamespaceLabels,
) -> bool {
    namespace_matches(term, &owner.namespace, &target.namespace, namespaces)
        && selector_matches(term, &owner.labels, &target.labels)
}

fn namespace_matches(
    term: &PodAffinityTerm,
    owner_namespace: &str,
    target_namespace: &str,
    namespaces: &mut NamespaceLabels,
) -> bool {
    if term.namespaces.is_empty() && term.namespace_selector.is_none() {
        // Neither field: the namespace of the pod the term belongs to.
        return target_namespace == owner_namespace;
    }
    if term.namespaces.iter().any(|n| n == target_namespace) {
        return true;
    }
    match &term.namespace_selector {
        None => false,
        // An empty selector matches every namespace; no need to look its labels up.
        Some(s) if selects_everything(s) => true,
        Some(s) => s.matches(namespaces.get(target_namespace)),
    }
}

fn selector_matches(term: &PodAffinityTerm, owner_labels: &Labels, target_labels: &Labels) -> bool {
    // An absent selector matches no pod, and the API server merges no keys into it.
    let Some(selector) = &term.label_selector else {
        return false;
    };
    // What the API server merged at creation: `key In (owner's value)` for matchLabelKeys,
    // `key NotIn (owner's value)` for mismatchLabelKeys, for the keys the owner has.
    let merged_in = term.match_label_keys.iter().all(|key| {
        owner_labels
            .get(key)
            .is_none_or(|v| target_labels.get(key) == Some(v))
    });
    let merged_not_in = term.mismatch_label_keys.iter().all(|key| {
        owner_labels
            .get(key)
            .is_none_or(|v| target_labels.get(key) != Some(v))
    });
    merged_in && merged_not_in && selector.matches(target_labels)
}

/// An empty selector (`{}`), which matches everything.
fn selects_everything(selector: &LabelSelector) -> bool {
    selector.match_labels.is_empty() && selector.match_expressions.is_empty()
}

/// Counts (or score sums) per topology domain: topology key, then label value. Only ever
/// looked up or summed, never listed, so neither the order of the keys nor hash order can
/// reach a decision. The keys (a handful: the topology keys of the terms) are a list
/// searched by comparison, cheaper than hashing a key like `kubernetes.io/hostname` on
/// every lookup.
#[derive(Debug, Default, Clone)]
struct DomainCounts(Vec<(String, HashMap<String, i64>)>);

impl DomainCounts {
    fn clear(&mut self) {
        self.0.clear();
    }

    /// True when no term has counted any domain (an entry whose sum is 0 still counts,
    /// as in upstream's maps).
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn values(&self, key: &str) -> Option<&HashMap<String, i64>> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn add(&mut self, key: &str, value: &str, n: i64) {
        let i = match self.0.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.0.push((key.to_string(), HashMap::new()));
                self.0.len() - 1
            }
        };
        let values = &mut self.0[i].1;
        // Look up before inserting, so counting into an existing domain allocates nothing.
        match values.get_mut(value) {
            Some(count) => *count += n,
            None => {
                values.insert(value.to_string(), n);
            }
        }
    }

    fn get(&self, key: &str, value: &str) -> i64 {
        self.values(key)
            .and_then(|values| values.get(value))
            .copied()
            .unwrap_or(0)
    }

    /// The sum over the keys of the value of the domain a node with `labels` is in
    /// (upstream's Score).
    fn sum(&self, labels: &Labels) -> i64 {
        self.0
            .iter()
            .filter_map(|(key, values)| values.get(labels.get(key)?))
            .sum()
    }

    /// True when a node with `labels` is in some domain with a positive count (upstream
    /// iterates the node's labels; iterating the counted keys is the same test).
    fn any_positive(&self, labels: &Labels) -> bool {
        self.0.iter().any(|(key, values)| {
            labels
                .get(key)
                .and_then(|v| values.get(v))
                .is_some_and(|&count| count > 0)
        })
    }

    /// The counts in a canonical order, for comparing two of them in tests.
    #[cfg(test)]
    fn sorted(&self) -> std::collections::BTreeMap<(String, String), i64> {
        self.0
            .iter()
            .flat_map(|(k, values)| values.iter().map(|(v, &n)| ((k.clone(), v.clone()), n)))
            .collect()
    }
}

/// What PreFilter computed for one pod (upstream's `preFilterState`).
#[derive(Debug, Default)]
struct FilterState {
    /// The template PreFilter ran for: Filter for a pod of another template has no state.
    /// Holding the `Arc` keeps its address from being reused by another template.
    template: Option<Arc<PodTemplate>>,
    /// PreFilter returned Skip: every node passes.
    skip: bool,
    /// Domains where an existing pod's required anti-affinity term matches the pod.
    existing_anti_affinity: DomainCounts,
    /// Per domain, pods matching all of the pod's required affinity terms.
    affinity: DomainCounts,
    /// Per domain, pods matching each of the pod's required anti-affinity terms.
    anti_affinity: DomainCounts,
    /// The pod matches all its own required affinity terms.
    matches_own_affinity: bool,
}

impl FilterState {
    fn reset(&mut self, template: &Arc<PodTemplate>) {
        self.template = Some(Arc::clone(template));
        self.skip = false;
        self.existing_anti_affinity.clear();
        self.affinity.clear();
        self.anti_affinity.clear();
        self.matches_own_affinity = false;
    }

    fn is_for(&self, template: &Arc<PodTemplate>) -> bool {
        self.template
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(t, template))
    }

    /// Upstream's `satisfyPodAffinity`.
    fn satisfies_affinity(&self, terms: &[PodAffinityTerm], labels: &Labels) -> bool {
        let mut pods_exist = true;
        for term in terms {
            // Every term's topology key must be on the node, even for the first pod.
            let Some(value) = labels.get(&term.topology_key) else {
                return false;
            };
            if self.affinity.get(&term.topology_key, value) <= 0 {
                pods_exist = false;
            }
        }
        // The first pod of a group with affinity to itself would otherwise wait forever:
        // when no pod anywhere matches the terms and the pod matches them itself, it may go
        // to any node that has the keys.
        pods_exist || (self.affinity.is_empty() && self.matches_own_affinity)
    }

    /// Upstream's `satisfyPodAntiAffinity`.
    fn satisfies_anti_affinity(&self, terms: &[PodAffinityTerm], labels: &Labels) -> bool {
        if self.anti_affinity.is_empty() {
            return true;
        }
        !terms.iter().any(|term| {
            labels
                .get(&term.topology_key)
                .is_some_and(|value| self.anti_affinity.get(&term.topology_key, value) > 0)
        })
    }
}

/// What PreScore computed for one pod (upstream's `preScoreState`).
#[derive(Debug, Default)]
struct ScoreState {
    /// The template PreScore ran for (see [`FilterState::template`]).
    template: Option<Arc<PodTemplate>>,
    /// Score per domain.
    topology: DomainCounts,
}

impl ScoreState {
    fn is_for(&self, template: &Arc<PodTemplate>) -> bool {
        self.template
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(t, template))
    }
}

/// The pods with terms this plugin reads on existing pods, grouped by template: PreFilter
/// and PreScore match each template once and weigh each node by how many of its pods are
/// there, instead of visiting every such pod (upstream visits each pod in the per-node
/// lists its snapshot keeps). Refreshed only for nodes whose generation moved.
#[derive(Debug, Default)]
struct Census {
    /// The cluster the entries describe ([`ClusterState::uid`]).
    cluster_uid: u64,
    /// Per node slot: what was counted there, to uncount it when the node changes.
    nodes: Vec<NodeCensus>,
    /// Pods with required anti-affinity terms (upstream's `PodsWithRequiredAntiAffinity`),
    /// read by PreFilter.
    required_anti_affinity: TemplateIndex,
    /// Pods with required affinity, preferred affinity or preferred anti-affinity terms:
    /// the ones PreScore reads for a pod without preferred terms.
    scoring: TemplateIndex,
}

#[derive(Debug, Default)]
struct NodeCensus {
    /// The node generation the node was counted at; 0 (never handed out) means stale.
    generation: u64,
    /// The templates of the node's pods counted in [`Census::required_anti_affinity`].
    required_anti_affinity: Vec<Arc<PodTemplate>>,
    /// The templates of the node's pods counted in [`Census::scoring`].
    scoring: Vec<Arc<PodTemplate>>,
}

impl Census {
    fn refresh(&mut self, cluster: &ClusterState) {
        if self.cluster_uid != cluster.uid() {
            *self = Census {
                cluster_uid: cluster.uid(),
                ..Default::default()
            };
        }
        let generations = cluster.generations();
        self.nodes
            .resize_with(generations.len(), NodeCensus::default);
        for (i, (&generation, entry)) in generations.iter().zip(&mut self.nodes).enumerate() {
            if entry.generation == generation {
                continue;
            }
            let id = NodeId(i as u32);
            for t in entry.required_anti_affinity.drain(..) {
                self.required_anti_affinity.remove(&t, id);
            }
            for t in entry.scoring.drain(..) {
                self.scoring.remove(&t, id);
            }
            for pod in cluster.node(id).pods.iter().filter_map(|&p| cluster.pod(p)) {
                let t = &pod.template;
                if !required(&t.pod_anti_affinity).is_empty() {
                    self.required_anti_affinity.add(t, id);
                    entry.required_anti_affinity.push(Arc::clone(t));
                }
                if !required(&t.pod_affinity).is_empty()
                    || !preferred(&t.pod_affinity).is_empty()
                    || !preferred(&t.pod_anti_affinity).is_empty()
                {
                    self.scoring.add(t, id);
                    entry.scoring.push(Arc::clone(t));
                }
            }
            entry.generation = generation;
        }
    }
}

/// Pods grouped by template: for each template, how many of its pods are on each node.
#[derive(Debug, Default)]
struct TemplateIndex(HashMap<usize, (Arc<PodTemplate>, BTreeMap<NodeId, i64>)>);

impl TemplateIndex {
    /// Templates are keyed by address; the entry holds the `Arc`, so the address cannot
    /// be reused by another template while the entry exists.
    fn key(template: &Arc<PodTemplate>) -> usize {
        Arc::as_ptr(template) as usize
    }

    fn add(&mut self, template: &Arc<PodTemplate>, node: NodeId) {
        let (_, nodes) = self
            .0
            .entry(Self::key(template))
            .or_insert_with(|| (Arc::clone(template), BTreeMap::new()));
        *nodes.entry(node).or_insert(0) += 1;
    }

    fn remove(&mut self, template: &Arc<PodTemplate>, node: NodeId) {
        let key = Self::key(template);
        let Some((_, nodes)) = self.0.get_mut(&key) else {
            return;
        };
        if let Some(pods) = nodes.get_mut(&node) {
            *pods -= 1;
            if *pods <= 0 {
                nodes.remove(&node);
            }
        }
        if nodes.is_empty() {
            self.0.remove(&key);
        }
    }

    /// Each template with the nodes its pods are on. Unordered: callers only add up
    /// counts, which order cannot change.
    fn iter(&self) -> impl Iterator<Item = (&Arc<PodTemplate>, &BTreeMap<NodeId, i64>)> {
        self.0.values().map(|(t, nodes)| (t, nodes))
    }
}

/// Namespace labels in schedlab's model, built once per namespace seen.
#[derive(Debug, Default)]
struct NamespaceLabels(HashMap<String, Labels>);

impl NamespaceLabels {
    fn get(&mut self, namespace: &str) -> &Labels {
        if !self.0.contains_key(namespace) {
            self.0.insert(
                namespace.to_string(),
                Labels::new([(NAMESPACE_NAME_LABEL, namespace)]),
            );
        }
        &self.0[namespace]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node, normalized_scores};
    use rand::SeedableRng;

    use crate::framework::{FrameworkScheduler, Profile};
    use crate::labels::{SelectorOperator, SelectorRequirement};
    use crate::pod::PodId;
    use crate::scheduler::{Cycle, Decision, Scheduler, SchedulerRng};

    use SelectorOperator::{DoesNotExist, Exists, In, NotIn};

    fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn selector(requirements: Vec<SelectorRequirement>) -> LabelSelector {
        LabelSelector {
            match_labels: Labels::default(),
            match_expressions: requirements,
        }
    }

    /// A term over the pod's own namespace (upstream's `PodAffinityIn` and friends).
    fn term(requirements: Vec<SelectorRequirement>, topology_key: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(selector(requirements)),
            topology_key: topology_key.into(),
            ..Default::default()
        }
    }

    fn in_(key: &str, values: &[&str], topology_key: &str) -> PodAffinityTerm {
        term(vec![req(key, In, values)], topology_key)
    }

    fn exists(key: &str, topology_key: &str) -> PodAffinityTerm {
        term(vec![req(key, Exists, &[])], topology_key)
    }

    /// Upstream's test namespaces carry `team: team1` or `team: team2`; schedlab's carry
    /// only their name, so `team In (team1)` becomes the list of the team1 namespaces.
    fn team1() -> LabelSelector {
        selector(vec![req(
            NAMESPACE_NAME_LABEL,
            In,
            &["subteam1.team1", "subteam2.team1"],
        )])
    }

    /// A pod template built up like upstream's `st.MakePod()`: namespace "" and no labels.
    #[derive(Clone)]
    struct P(PodTemplate);

    impl P {
        fn new() -> P {
            P(PodTemplate {
                name: "p".into(),
                ..Default::default()
            })
        }

        fn ns(mut self, namespace: &str) -> P {
            self.0.namespace = namespace.into();
            self
        }

        fn labels(mut self, labels: &[(&str, &str)]) -> P {
            self.0.labels = Labels::new(labels.iter().copied());
            self
        }

        fn affinity(mut self, term: PodAffinityTerm) -> P {
            self.0
                .pod_affinity
                .get_or_insert_with(Default::default)
                .required
                .push(term);
            self
        }

        fn anti_affinity(mut self, term: PodAffinityTerm) -> P {
            self.0
                .pod_anti_affinity
                .get_or_insert_with(Default::default)
                .required
                .push(term);
            self
        }

        fn preferred_affinity(mut self, weight: i32, term: PodAffinityTerm) -> P {
            self.0
                .pod_affinity
                .get_or_insert_with(Default::default)
                .preferred
                .push(WeightedPodAffinityTerm { weight, term });
            self
        }

        fn preferred_anti_affinity(mut self, weight: i32, term: PodAffinityTerm) -> P {
            self.0
                .pod_anti_affinity
                .get_or_insert_with(Default::default)
                .preferred
                .push(WeightedPodAffinityTerm { weight, term });
            self
        }
    }

    type NodeLabels = &'static [(&'static str, &'static str)];

    /// The nodes, in order, the existing pods bound to the named nodes, and the incoming
    /// pod, pending.
    fn setup(
        nodes: &[(&str, NodeLabels)],
        existing: Vec<(&str, P)>,
        incoming: P,
    ) -> (ClusterState, PodId) {
        let mut c = cluster(
            nodes
                .iter()
                .map(|&(name, labels)| node(name, labels, vec![]))
                .collect(),
        );
        for (on, pod) in existing {
            let n = nodes
                .iter()
                .position(|&(name, _)| name == on)
                .expect("existing pods name a listed node");
            let id = add_pod(&mut c, pod.0);
            c.bind(id, NodeId(n as u32)).unwrap();
        }
        let pod = add_pod(&mut c, incoming.0);
        (c, pod)
    }

    /// A node's expected Filter verdict.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Want {
        Pass,
        Affinity,
        Anti,
        Existing,
    }

    use Want::{Affinity, Anti, Existing, Pass};

    impl Want {
        fn status(self) -> Status {
            match self {
                Pass => Status::success(),
                Affinity => Status::unresolvable(InterPodAffinity::REASON_AFFINITY),
                Anti => Status::unschedulable(InterPodAffinity::REASON_ANTI_AFFINITY),
                Existing => Status::unschedulable(InterPodAffinity::REASON_EXISTING_ANTI_AFFINITY),
            }
        }
    }

    struct FilterCase {
        name: &'static str,
        nodes: Vec<(&'static str, NodeLabels)>,
        existing: Vec<(&'static str, P)>,
        pod: P,
        /// PreFilter returns Skip (and then every node passes).
        skip: bool,
        /// Per node, in order.
        want: Vec<Want>,
    }

    fn run_filter_cases(cases: Vec<FilterCase>) {
        for case in cases {
            let (c, pod) = setup(&case.nodes, case.existing, case.pod);
            let pod = c.pod(pod).unwrap();
            let mut plugin = InterPodAffinity::default();
            let status = plugin.pre_filter(pod, &c);
            let want_code = if case.skip { Code::Skip } else { Code::Success };
            assert_eq!(status.code, want_code, "{}: PreFilter", case.name);
            for (i, want) in case.want.iter().enumerate() {
                let got = plugin.filter(pod, &c, NodeId(i as u32));
                assert_eq!(
                    got,
                    want.status(),
                    "{}: node {}",
                    case.name,
                    case.nodes[i].0
                );
            }
        }
    }

    const LABELS1: NodeLabels = &[("region", "r1"), ("zone", "z11")];
    const POD_LABEL: &[(&str, &str)] = &[("service", "securityscan")];
    const POD_LABEL2: &[(&str, &str)] = &[("security", "S1")];

    /// Mirrors TestRequiredAffinitySingleNode (filtering_test.go): one node, `node1`
    /// (`region: r1, zone: z11`), case by case.
    #[test]
    fn required_affinity_single_node_follows_upstream() {
        let node1 = || vec![("node1", LABELS1)];
        // Upstream's `pod`: `service: securityscan` on node1.
        let existing = || vec![("node1", P::new().labels(POD_LABEL))];
        let anti_securityscan = || in_("service", &["securityscan", "value2"], "zone");
        let cases = vec![
            // mirrors "A pod that has no required pod affinity scheduling rules can
            // schedule onto a node with no existing pods"
            FilterCase {
                name: "no required terms, no existing pods",
                nodes: node1(),
                existing: vec![],
                pod: P::new(),
                skip: true,
                want: vec![Pass],
            },
            // mirrors "satisfies with requiredDuringSchedulingIgnoredDuringExecution in
            // PodAffinity using In operator that matches the existing pod"
            FilterCase {
                name: "affinity In matches the existing pod",
                nodes: node1(),
                existing: existing(),
                pod: P::new().labels(POD_LABEL2).affinity(in_(
                    "service",
                    &["securityscan", "value2"],
                    "region",
                )),
                skip: false,
                want: vec![Pass],
            },
            // mirrors "satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution
            // in PodAffinity using not in operator in labelSelector that matches the
            // existing pod"
            FilterCase {
                name: "affinity NotIn matches the existing pod",
                nodes: node1(),
                existing: existing(),
                pod: P::new().labels(POD_LABEL2).affinity(term(
                    vec![req("service", NotIn, &["securityscan3", "value3"])],
                    "region",
                )),
                skip: false,
                want: vec![Pass],
            },
            // mirrors "Does not satisfy the PodAffinity with labelSelector because of diff
            // Namespace"
            FilterCase {
                name: "affinity looks in another namespace",
                nodes: node1(),
                existing: vec![("node1", P::new().ns("ns").labels(POD_LABEL))],
                pod: P::new().labels(POD_LABEL2).affinity(PodAffinityTerm {
                    namespaces: vec!["DiffNameSpace".into()],
                    ..in_("service", &["securityscan", "value2"], "")
                }),
                skip: false,
                want: vec![Affinity],
            },
            // mirrors "Doesn't satisfy the PodAffinity because of unmatching labelSelector
            // with the existing pod"
            FilterCase {
                name: "affinity selector matches no pod",
                nodes: node1(),
                existing: existing(),
                pod: P::new().labels(POD_LABEL).affinity(in_(
                    "service",
                    &["antivirusscan", "value2"],
                    "",
                )),
                skip: false,
                want: vec![Affinity],
            },
            // mirrors "satisfies the PodAffinity with different label Operators in multiple
            // RequiredDuringSchedulingIgnoredDuringExecution "
            FilterCase {
                name: "several terms with several operators all match",
                nodes: node1(),
                existing: existing(),
                pod: P::new()
                    .labels(POD_LABEL2)
                    .affinity(term(
                        vec![
                            req("service", Exists, &[]),
                            req("wrongkey", DoesNotExist, &[]),
                        ],
                        "region",
                    ))
                    .affinity(term(
                        vec![
                            req("service", In, &["securityscan"]),
                            req("service", NotIn, &["WrongValue"]),
                        ],
                        "region",
                    )),
                skip: false,
                want: vec![Pass],
            },
            // mirrors "The labelSelector requirements(items of matchExpressions) are ANDed,
            // the pod cannot schedule onto the node because one of the matchExpression
            // item don't match."
            FilterCase {
                name: "requirements are ANDed",
                nodes: node1(),
                existing: existing(),
                pod: P::new()
                    .labels(POD_LABEL2)
                    .affinity(term(
                        vec![
                            req("service", Exists, &[]),
                            req("wrongkey", DoesNotExist, &[]),
                        ],
                        "region",
                    ))
                    .affinity(term(
                        vec![
                            req("service", In, &["securityscan2"]),
                            req("service", NotIn, &["WrongValue"]),
                        ],
                        "region",
                    )),
                skip: false,
                want: vec![Affinity],
            },
            // mirrors "satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity
            // symmetry with the existing pod"
            FilterCase {
                name: "affinity, anti-affinity and the existing pod's anti-affinity hold",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new().labels(POD_LABEL).anti_affinity(in_(
                        "service",
                        &["antivirusscan", "value2"],
                        "node",
                    )),
                )],
                pod: P::new()
                    .labels(POD_LABEL2)
                    .affinity(in_("service", &["securityscan", "value2"], "region"))
                    .anti_affinity(in_("service", &["antivirusscan", "value2"], "node")),
                skip: false,
                want: vec![Pass],
            },
            // mirrors "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity
            // with the existing pod"
            FilterCase {
                name: "anti-affinity finds the existing pod",
                nodes: node1(),
                existing: existing(),
                pod: P::new()
                    .labels(POD_LABEL2)
                    .affinity(in_("service", &["securityscan", "value2"], "region"))
                    .anti_affinity(anti_securityscan()),
                skip: false,
                want: vec![Anti],
            },
            // mirrors "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy
            // PodAntiAffinity symmetry with the existing pod"
            FilterCase {
                name: "the existing pod's anti-affinity finds the incoming pod",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new()
                        .labels(POD_LABEL)
                        .anti_affinity(anti_securityscan()),
                )],
                pod: P::new()
                    .labels(POD_LABEL)
                    .affinity(in_("service", &["securityscan", "value2"], "region"))
                    .anti_affinity(in_("service", &["antivirusscan", "value2"], "node")),
                skip: false,
                want: vec![Existing],
            },
            // mirrors "pod matches its own Label in PodAffinity and that matches the existing
            // pod Labels". Upstream's existing pod is on a node2 its snapshot lacks; here
            // node2 exists without labels, which changes nothing for node1.
            FilterCase {
                name: "affinity NotIn its own label, the first-pod exception does not apply",
                nodes: vec![("node1", LABELS1), ("node2", &[])],
                existing: vec![("node2", P::new().labels(POD_LABEL))],
                pod: P::new().labels(POD_LABEL).affinity(term(
                    vec![req("service", NotIn, &["securityscan", "value2"])],
                    "region",
                )),
                skip: false,
                want: vec![Affinity, Affinity],
            },
            // mirrors "verify that PodAntiAffinity from existing pod is respected when pod
            // has no AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with
            // the existing pod"
            FilterCase {
                name: "a pod without terms meets an existing pod's anti-affinity",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new()
                        .labels(POD_LABEL)
                        .anti_affinity(anti_securityscan()),
                )],
                pod: P::new().labels(POD_LABEL),
                skip: false,
                want: vec![Existing],
            },
            // mirrors "verify that PodAntiAffinity from existing pod is respected when pod
            // has no AntiAffinity constraints. satisfy PodAntiAffinity symmetry with the
            // existing pod"
            FilterCase {
                name: "a pod without terms escapes an existing pod's NotIn anti-affinity",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new().labels(POD_LABEL).anti_affinity(term(
                        vec![req("service", NotIn, &["securityscan", "value2"])],
                        "zone",
                    )),
                )],
                pod: P::new().labels(POD_LABEL),
                skip: true,
                want: vec![Pass],
            },
            // mirrors "satisfies the PodAntiAffinity with existing pod but doesn't satisfy
            // PodAntiAffinity symmetry with incoming pod"
            FilterCase {
                name: "the incoming pod's anti-affinity is checked before the existing pod's",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new()
                        .labels(POD_LABEL2)
                        .anti_affinity(exists("security", "zone")),
                )],
                pod: P::new()
                    .labels(POD_LABEL)
                    .anti_affinity(exists("service", "region"))
                    .anti_affinity(exists("security", "region")),
                skip: false,
                want: vec![Anti],
            },
            // mirrors "PodAntiAffinity symmetry check a1: incoming pod and existing pod
            // partially match each other on AffinityTerms"
            FilterCase {
                name: "symmetry a1",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new()
                        .labels(POD_LABEL2)
                        .anti_affinity(exists("security", "zone")),
                )],
                pod: P::new()
                    .labels(POD_LABEL)
                    .anti_affinity(exists("service", "zone"))
                    .anti_affinity(exists("security", "zone")),
                skip: false,
                want: vec![Anti],
            },
            // mirrors "PodAntiAffinity symmetry check a2: incoming pod and existing pod
            // partially match each other on AffinityTerms"
            FilterCase {
                name: "symmetry a2",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new()
                        .labels(POD_LABEL)
                        .anti_affinity(exists("service", "zone"))
                        .anti_affinity(exists("security", "zone")),
                )],
                pod: P::new()
                    .labels(POD_LABEL2)
                    .anti_affinity(exists("security", "zone")),
                skip: false,
                want: vec![Existing],
            },
            // mirrors "PodAntiAffinity symmetry check b1: incoming pod and existing pod
            // partially match each other on AffinityTerms"
            FilterCase {
                name: "symmetry b1",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new()
                        .labels(&[("def", ""), ("xyz", "")])
                        .anti_affinity(exists("abc", "zone"))
                        .anti_affinity(exists("def", "zone")),
                )],
                pod: P::new()
                    .labels(&[("abc", ""), ("xyz", "")])
                    .anti_affinity(exists("abc", "zone"))
                    .anti_affinity(exists("def", "zone")),
                skip: false,
                want: vec![Anti],
            },
            // mirrors "PodAntiAffinity symmetry check b2: incoming pod and existing pod
            // partially match each other on AffinityTerms"
            FilterCase {
                name: "symmetry b2",
                nodes: node1(),
                existing: vec![(
                    "node1",
                    P::new()
                        .labels(&[("abc", ""), ("xyz", "")])
                        .anti_affinity(exists("abc", "zone"))
                        .anti_affinity(exists("def", "zone")),
                )],
                pod: P::new()
                    .labels(&[("def", ""), ("xyz", "")])
                    .anti_affinity(exists("abc", "zone"))
                    .anti_affinity(exists("def", "zone")),
                skip: false,
                want: vec![Anti],
            },
            // mirrors "affinity with NamespaceSelector"
            FilterCase {
                name: "affinity namespaceSelector finds the pod",
                nodes: node1(),
                existing: vec![("node1", P::new().ns("subteam1.team1").labels(POD_LABEL))],
                pod: P::new().labels(POD_LABEL2).affinity(PodAffinityTerm {
                    namespace_selector: Some(team1()),
                    ..in_("service", &["securityscan", "value2"], "region")
                }),
                skip: false,
                want: vec![Pass],
            },
            // mirrors "affinity with non-matching NamespaceSelector"
            FilterCase {
                name: "affinity namespaceSelector misses the pod",
                nodes: node1(),
                existing: vec![("node1", P::new().ns("subteam1.team2").labels(POD_LABEL))],
                pod: P::new().labels(POD_LABEL2).affinity(PodAffinityTerm {
                    namespace_selector: Some(team1()),
                    ..in_("service", &["securityscan", "value2"], "region")
                }),
                skip: false,
                want: vec![Affinity],
            },
            // mirrors "anti-affinity with matching NamespaceSelector"
            FilterCase {
                name: "anti-affinity namespaceSelector finds the pod",
                nodes: node1(),
                existing: vec![("node1", P::new().ns("subteam2.team1").labels(POD_LABEL))],
                pod: P::new()
                    .ns("subteam1.team1")
                    .labels(POD_LABEL2)
                    .anti_affinity(PodAffinityTerm {
                        namespace_selector: Some(team1()),
                        ..anti_securityscan()
                    }),
                skip: false,
                want: vec![Anti],
            },
            // mirrors "anti-affinity with matching all NamespaceSelector"
            FilterCase {
                name: "an empty namespaceSelector matches every namespace",
                nodes: node1(),
                existing: vec![("node1", P::new().ns("subteam2.team1").labels(POD_LABEL))],
                pod: P::new()
                    .ns("subteam1.team1")
                    .labels(POD_LABEL2)
                    .anti_affinity(PodAffinityTerm {
                        namespace_selector: Some(LabelSelector::default()),
                        ..anti_securityscan()
                    }),
                skip: false,
                want: vec![Anti],
            },
            // mirrors "anti-affinity with non-matching NamespaceSelector"
            FilterCase {
                name: "anti-affinity namespaceSelector misses the pod",
                nodes: node1(),
                existing: vec![("node1", P::new().ns("subteam1.team2").labels(POD_LABEL))],
                pod: P::new()
                    .ns("subteam1.team1")
                    .labels(POD_LABEL2)
                    .anti_affinity(PodAffinityTerm {
                        namespace_selector: Some(team1()),
                        ..anti_securityscan()
                    }),
                skip: false,
                want: vec![Pass],
            },
        ];
        run_filter_cases(cases);
    }

    const CHINA: NodeLabels = &[("region", "China")];
    const CHINA_AZ1: NodeLabels = &[("region", "China"), ("az", "az1")];
    const INDIA: NodeLabels = &[("region", "India")];
    const A_Z1: NodeLabels = &[("region", "r1"), ("zone", "z1"), ("hostname", "nodeA")];
    const B_Z1: NodeLabels = &[("region", "r1"), ("zone", "z1"), ("hostname", "nodeB")];
    const B_Z2: NodeLabels = &[("region", "r1"), ("zone", "z2"), ("hostname", "nodeB")];
    const C_Z3: NodeLabels = &[("region", "r1"), ("zone", "z3"), ("hostname", "nodeC")];

    /// Mirrors TestRequiredAffinityMultipleNodes (filtering_test.go), case by case.
    #[test]
    fn required_affinity_multiple_nodes_follows_upstream() {
        let china_india = || vec![("nodeA", CHINA), ("nodeB", CHINA_AZ1), ("nodeC", INDIA)];
        let ab = || vec![("nodeA", A_Z1), ("nodeB", B_Z2)];
        let foo_bar_labels: &[(&str, &str)] = &[("foo", ""), ("bar", "")];
        let cases = vec![
            // mirrors "A pod can be scheduled onto all the nodes that have the same topology
            // key & label value with one of them has an existing pod that matches the
            // affinity rules"
            FilterCase {
                name: "affinity admits every node of the matching domain",
                nodes: vec![("node1", CHINA), ("node2", CHINA_AZ1), ("node3", INDIA)],
                existing: vec![("node1", P::new().labels(&[("foo", "bar")]))],
                pod: P::new().affinity(in_("foo", &["bar"], "region")),
                skip: false,
                want: vec![Pass, Pass, Affinity],
            },
            // mirrors "The affinity rule is to schedule all of the pods of this collection to
            // the same zone. The first pod of the collection should not be blocked from
            // being scheduled onto any node, even there's no existing pod that matches the
            // rule anywhere."
            FilterCase {
                name: "the first pod of a collection may go anywhere with the keys",
                nodes: vec![
                    ("nodeA", &[("zone", "az1"), ("hostname", "h1")]),
                    ("nodeB", &[("zone", "az2"), ("hostname", "h2")]),
                ],
                existing: vec![("nodeA", P::new().labels(&[("foo", "bar")]))],
                pod: P::new()
                    .labels(&[("foo", "bar"), ("service", "securityscan")])
                    .affinity(in_("foo", &["bar"], "zone"))
                    .affinity(in_("service", &["securityscan"], "zone")),
                skip: false,
                want: vec![Pass, Pass],
            },
            // mirrors "The first pod of the collection can only be scheduled on nodes
            // labelled with the requested topology keys"
            FilterCase {
                name: "the first pod of a collection still needs the topology keys",
                nodes: vec![
                    ("nodeA", &[("zoneLabel", "az1"), ("hostname", "h1")]),
                    ("nodeB", &[("zoneLabel", "az2"), ("hostname", "h2")]),
                ],
                existing: vec![("nodeA", P::new().labels(&[("foo", "bar")]))],
                pod: P::new()
                    .labels(&[("foo", "bar"), ("service", "securityscan")])
                    .affinity(in_("foo", &["bar"], "zone"))
                    .affinity(in_("service", &["securityscan"], "zone")),
                skip: false,
                want: vec![Affinity, Affinity],
            },
            // mirrors "NodeA and nodeB have same topologyKey and label value. NodeA has an
            // existing pod that matches the inter pod affinity rule. The pod can not be
            // scheduled onto nodeA and nodeB."
            FilterCase {
                name: "anti-affinity rejects the whole domain",
                nodes: vec![
                    ("nodeA", &[("region", "r1"), ("hostname", "nodeA")]),
                    ("nodeB", &[("region", "r1"), ("hostname", "nodeB")]),
                ],
                existing: vec![("nodeA", P::new().labels(&[("foo", "abc")]))],
                pod: P::new().anti_affinity(in_("foo", &["abc"], "region")),
                skip: false,
                want: vec![Anti, Anti],
            },
            // mirrors "This test ensures that anti-affinity matches a pod when any term of the
            // anti-affinity rule matches a pod."
            FilterCase {
                name: "any anti-affinity term suffices",
                nodes: vec![
                    (
                        "nodeA",
                        &[("region", "r1"), ("zone", "z1"), ("hostname", "nodeA")],
                    ),
                    ("nodeB", B_Z2),
                ],
                existing: vec![(
                    "nodeA",
                    P::new().labels(&[("foo", "abc"), ("service", "securityscan")]),
                )],
                pod: P::new()
                    .anti_affinity(in_("foo", &["abc"], "region"))
                    .anti_affinity(in_("service", &["securityscan"], "zone")),
                skip: false,
                want: vec![Anti, Anti],
            },
            // mirrors "NodeA and nodeB have same topologyKey and label value. NodeA has an
            // existing pod that matches the inter pod affinity rule. The pod can not be
            // scheduled onto nodeA and nodeB but can be scheduled onto nodeC"
            FilterCase {
                name: "anti-affinity spares other domains",
                nodes: china_india(),
                existing: vec![("nodeA", P::new().labels(&[("foo", "abc")]))],
                pod: P::new().anti_affinity(in_("foo", &["abc"], "region")),
                skip: false,
                want: vec![Anti, Anti, Pass],
            },
            // mirrors "... The pod can not be scheduled onto nodeA, nodeB, but can be
            // scheduled onto nodeC (NodeC has an existing pod that match the inter pod
            // affinity rule but in different namespace)"
            FilterCase {
                name: "an existing pod's anti-affinity looks only in its own namespace",
                nodes: china_india(),
                existing: vec![
                    ("nodeA", P::new().ns("NS1").labels(&[("foo", "bar")])),
                    (
                        "nodeC",
                        P::new()
                            .ns("NS2")
                            .anti_affinity(in_("foo", &["123"], "region")),
                    ),
                ],
                pod: P::new()
                    .ns("NS1")
                    .labels(&[("foo", "123")])
                    .anti_affinity(in_("foo", &["bar"], "region")),
                skip: false,
                want: vec![Anti, Anti, Pass],
            },
            // mirrors "Test existing pod's anti-affinity: if an existing pod has a term with
            // invalid topologyKey, labelSelector of the term is firstly checked, and then
            // topologyKey of the term is also checked"
            FilterCase {
                name: "an existing pod's term whose key no node has counts nothing",
                nodes: vec![("nodeA", A_Z1), ("nodeB", B_Z1)],
                existing: vec![(
                    "nodeA",
                    P::new().anti_affinity(exists("foo", "invalid-node-label")),
                )],
                pod: P::new().labels(&[("foo", "")]),
                skip: true,
                want: vec![Pass, Pass],
            },
            // mirrors "Test incoming pod's anti-affinity: even if labelSelector matches, we
            // still check if topologyKey matches"
            FilterCase {
                name: "an incoming term whose key no node has counts nothing",
                nodes: vec![("nodeA", A_Z1), ("nodeB", B_Z1)],
                existing: vec![("nodeA", P::new().labels(&[("foo", "")]))],
                pod: P::new().anti_affinity(exists("foo", "invalid-node-label")),
                skip: false,
                want: vec![Pass, Pass],
            },
            // mirrors "Test existing pod's anti-affinity: incoming pod wouldn't considered as
            // a fit as it violates each existingPod's terms on all nodes"
            FilterCase {
                name: "each existing pod's anti-affinity covers a node",
                nodes: ab(),
                existing: vec![
                    ("nodeA", P::new().anti_affinity(exists("foo", "zone"))),
                    ("nodeA", P::new().anti_affinity(exists("bar", "region"))),
                ],
                pod: P::new().labels(foo_bar_labels),
                skip: false,
                want: vec![Existing, Existing],
            },
            // mirrors "Test incoming pod's anti-affinity: incoming pod wouldn't considered as
            // a fit as it at least violates one anti-affinity rule of existingPod"
            FilterCase {
                name: "each incoming anti-affinity term covers a node",
                nodes: ab(),
                existing: vec![
                    ("nodeA", P::new().labels(&[("foo", "")])),
                    ("nodeB", P::new().labels(&[("bar", "")])),
                ],
                pod: P::new()
                    .anti_affinity(exists("foo", "zone"))
                    .anti_affinity(exists("bar", "region")),
                skip: false,
                want: vec![Anti, Anti],
            },
            // mirrors "Test existing pod's anti-affinity: only when labelSelector and
            // topologyKey both match, it's counted as a single term match - case when one
            // term has invalid topologyKey"
            FilterCase {
                name: "existing pod: only terms with a domain count",
                nodes: ab(),
                existing: vec![(
                    "nodeA",
                    P::new()
                        .anti_affinity(exists("foo", "invalid-node-label"))
                        .anti_affinity(exists("bar", "zone")),
                )],
                pod: P::new().labels(foo_bar_labels),
                skip: false,
                want: vec![Existing, Pass],
            },
            // mirrors "Test incoming pod's anti-affinity: only when labelSelector and
            // topologyKey both match, it's counted as a single term match - case when one
            // term has invalid topologyKey"
            FilterCase {
                name: "incoming pod: only terms with a domain count",
                nodes: ab(),
                existing: vec![("nodeA", P::new().labels(foo_bar_labels))],
                pod: P::new()
                    .anti_affinity(exists("foo", "invalid-node-label"))
                    .anti_affinity(exists("bar", "zone")),
                skip: false,
                want: vec![Anti, Pass],
            },
            // mirrors "Test existing pod's anti-affinity: only when labelSelector and
            // topologyKey both match, it's counted as a single term match - case when all
            // terms have valid topologyKey"
            FilterCase {
                name: "existing pod: a region term covers both nodes",
                nodes: ab(),
                existing: vec![(
                    "nodeA",
                    P::new()
                        .anti_affinity(exists("foo", "region"))
                        .anti_affinity(exists("bar", "zone")),
                )],
                pod: P::new().labels(foo_bar_labels),
                skip: false,
                want: vec![Existing, Existing],
            },
            // mirrors "Test incoming pod's anti-affinity: only when labelSelector and
            // topologyKey both match, it's counted as a single term match - case when all
            // terms have valid topologyKey"
            FilterCase {
                name: "incoming pod: a region term covers both nodes",
                nodes: ab(),
                existing: vec![("nodeA", P::new().labels(foo_bar_labels))],
                pod: P::new()
                    .anti_affinity(exists("foo", "region"))
                    .anti_affinity(exists("bar", "zone")),
                skip: false,
                want: vec![Anti, Anti],
            },
            // mirrors "Test existing pod's anti-affinity: existingPod on nodeA and nodeB has
            // at least one anti-affinity term matches incoming pod, so incoming pod can only
            // be scheduled to nodeC"
            FilterCase {
                name: "existing pods' anti-affinity leaves only nodeC",
                nodes: vec![("nodeA", A_Z1), ("nodeB", B_Z2), ("nodeC", C_Z3)],
                existing: vec![
                    (
                        "nodeA",
                        P::new()
                            .anti_affinity(exists("foo", "zone"))
                            .anti_affinity(exists("labelA", "zone")),
                    ),
                    (
                        "nodeB",
                        P::new()
                            .anti_affinity(exists("bar", "zone"))
                            .anti_affinity(exists("labelB", "zone")),
                    ),
                ],
                pod: P::new().labels(foo_bar_labels),
                skip: false,
                want: vec![Existing, Existing, Pass],
            },
            // mirrors "Test incoming pod's affinity: firstly check if all affinityTerms
            // match, and then check if all topologyKeys match"
            FilterCase {
                name: "one pod matching every affinity term",
                nodes: vec![("nodeA", A_Z1), ("nodeB", B_Z1)],
                existing: vec![("nodeA", P::new().labels(foo_bar_labels))],
                pod: P::new()
                    .affinity(exists("foo", "region"))
                    .affinity(exists("bar", "zone")),
                skip: false,
                want: vec![Pass, Pass],
            },
            // mirrors "Test incoming pod's affinity: firstly check if all affinityTerms
            // match, and then check if all topologyKeys match, and the match logic should
            // be satisfied on the same pod"
            FilterCase {
                name: "affinity terms must be matched by the same pod",
                nodes: ab(),
                existing: vec![
                    ("nodeA", P::new().labels(&[("foo", "")])),
                    ("nodeB", P::new().labels(&[("bar", "")])),
                ],
                pod: P::new()
                    .affinity(exists("foo", "region"))
                    .affinity(exists("bar", "zone")),
                skip: false,
                want: vec![Affinity, Affinity],
            },
        ];
        run_filter_cases(cases);
    }

    /// The census (pods with terms grouped by template, refreshed per changed node) gives
    /// exactly what visiting every pod on every node gives, through random binds and
    /// removals with one plugin instance: PreFilter's existing-pods anti-affinity counts
    /// and PreScore's domain scores, compared with a direct transcription of upstream's
    /// loops over all pods.
    #[test]
    fn census_matches_visiting_every_pod() {
        use rand::RngExt;

        let zones = ["a", "b", "c"];
        let mut rng = SchedulerRng::seed_from_u64(11);
        let nodes: Vec<_> = (0..8)
            .map(|i| {
                let name = format!("n{i}");
                let mut labels = vec![("hostname", name.as_str())];
                // Some nodes lack the zone key.
                if i % 4 != 3 {
                    labels.push(("zone", zones[i % 3]));
                }
                node(&name, &labels, vec![])
            })
            .collect();
        let mut c = cluster(nodes);
        let apps = ["x", "y", "z"];
        let keys = ["zone", "hostname", "missing"];
        let pool: Vec<Arc<PodTemplate>> = (0..12)
            .map(|i| {
                let app = apps[rng.random_range(0..3)];
                let ns = ["default", "other"][rng.random_range(0..2)];
                let mut p = P::new().ns(ns).labels(&[("app", app)]);
                for _ in 0..rng.random_range(0..3) {
                    let t = in_(
                        "app",
                        &[apps[rng.random_range(0..3)]],
                        keys[rng.random_range(0..3)],
                    );
                    let t = if rng.random_range(0..4) == 0 {
                        PodAffinityTerm {
                            namespace_selector: Some(LabelSelector::default()),
                            ..t
                        }
                    } else {
                        t
                    };
                    let w = rng.random_range(1..10);
                    p = match rng.random_range(0..4) {
                        0 => p.affinity(t),
                        1 => p.anti_affinity(t),
                        2 => p.preferred_affinity(w, t),
                        _ => p.preferred_anti_affinity(w, t),
                    };
                }
                p.0.name = format!("t{i}");
                Arc::new(p.0)
            })
            .collect();
        let mut plugin = InterPodAffinity::default();
        let mut bound: Vec<PodId> = Vec::new();
        let all: Vec<NodeId> = (0..8).map(NodeId).collect();
        for step in 0..300 {
            if bound.len() > 4 && rng.random_range(0..3) == 0 {
                let victim = bound.swap_remove(rng.random_range(0..bound.len()));
                c.remove_pod(victim).unwrap();
            } else {
                let t = &pool[rng.random_range(0..pool.len())];
                let id = c.add_pod(Pod::from_template(Arc::clone(t), step));
                c.bind(id, NodeId(rng.random_range(0..8))).unwrap();
                bound.push(id);
            }
            let t = &pool[rng.random_range(0..pool.len())];
            let incoming = c.add_pod(Pod::from_template(Arc::clone(t), 1000 + step));
            let pod = c.pod(incoming).unwrap();

            let mut ns = NamespaceLabels::default();
            let mut existing_anti = DomainCounts::default();
            let mut scores = DomainCounts::default();
            for node in c.nodes() {
                let labels = &node.spec.labels;
                for existing in node.pods.iter().map(|&id| &c.pod(id).unwrap().template) {
                    for term in required(&existing.pod_anti_affinity) {
                        if term_matches(term, existing, &pod.template, &mut ns)
                            && let Some(v) = labels.get(&term.topology_key)
                        {
                            existing_anti.add(&term.topology_key, v, 1);
                        }
                    }
                    let mut add = |term: &PodAffinityTerm, w: i64, owner, target| {
                        if term_matches(term, owner, target, &mut ns)
                            && let Some(v) = labels.get(&term.topology_key)
                        {
                            scores.add(&term.topology_key, v, w);
                        }
                    };
                    let me: &PodTemplate = &pod.template;
                    for w in preferred(&me.pod_affinity) {
                        add(&w.term, weight(w), me, existing);
                    }
                    for w in preferred(&me.pod_anti_affinity) {
                        add(&w.term, -weight(w), me, existing);
                    }
                    for term in required(&existing.pod_affinity) {
                        add(term, 1, existing, me);
                    }
                    for w in preferred(&existing.pod_affinity) {
                        add(&w.term, weight(w), existing, me);
                    }
                    for w in preferred(&existing.pod_anti_affinity) {
                        add(&w.term, -weight(w), existing, me);
                    }
                }
            }

            plugin.pre_filter(pod, &c);
            assert_eq!(
                plugin.filter.existing_anti_affinity.sorted(),
                existing_anti.sorted(),
                "step {step}: existing pods' anti-affinity"
            );
            let status = plugin.pre_score(pod, &c, &all);
            assert_eq!(
                plugin.score.topology.sorted(),
                scores.sorted(),
                "step {step}: scores"
            );
            assert_eq!(status.code == Code::Skip, scores.is_empty(), "step {step}");
            c.remove_pod(incoming).unwrap();
        }
    }

    /// Mirrors TestPreFilterDisabled (filtering_test.go): Filter without PreFilter is an
    /// Error with upstream's message.
    #[test]
    fn filter_without_pre_filter_is_an_error() {
        let (c, pod) = setup(&[("n", &[])], vec![], P::new());
        let status = InterPodAffinity::default().filter(c.pod(pod).unwrap(), &c, NodeId(0));
        assert_eq!(status.code, Code::Error);
        assert_eq!(
            status.reasons.render(c.resource_names()),
            vec![InterPodAffinity::REASON_NO_PRE_FILTER]
        );
    }

    /// `matchLabelKeys` and `mismatchLabelKeys` act as the selector requirements the API
    /// server merges in from the term's own pod (`key In (v)`, `key NotIn (v)`).
    #[test]
    fn match_and_mismatch_label_keys() {
        let nodes = [("nodeA", A_Z1), ("nodeB", B_Z2)];
        // Anti-affinity against pods of the same app and the same version only.
        let (c, pod) = setup(
            &nodes,
            vec![
                (
                    "nodeA",
                    P::new().labels(&[("app", "web"), ("version", "v1")]),
                ),
                (
                    "nodeB",
                    P::new().labels(&[("app", "web"), ("version", "v2")]),
                ),
            ],
            P::new()
                .labels(&[("app", "web"), ("version", "v1")])
                .anti_affinity(PodAffinityTerm {
                    match_label_keys: vec!["version".into()],
                    ..in_("app", &["web"], "hostname")
                }),
        );
        let mut plugin = InterPodAffinity::default();
        let p = c.pod(pod).unwrap();
        assert_eq!(plugin.pre_filter(p, &c).code, Code::Success);
        assert_eq!(plugin.filter(p, &c, NodeId(0)), Anti.status());
        assert_eq!(plugin.filter(p, &c, NodeId(1)), Pass.status());

        // Affinity to any app of another tenant.
        let (c, pod) = setup(
            &nodes,
            vec![
                ("nodeA", P::new().labels(&[("app", "x"), ("tenant", "t1")])),
                ("nodeB", P::new().labels(&[("app", "y"), ("tenant", "t2")])),
            ],
            P::new()
                .labels(&[("tenant", "t1")])
                .affinity(PodAffinityTerm {
                    mismatch_label_keys: vec!["tenant".into()],
                    ..exists("app", "hostname")
                }),
        );
        let p = c.pod(pod).unwrap();
        assert_eq!(plugin.pre_filter(p, &c).code, Code::Success);
        assert_eq!(plugin.filter(p, &c, NodeId(0)), Affinity.status());
        assert_eq!(plugin.filter(p, &c, NodeId(1)), Pass.status());

        // A key the term's pod lacks adds nothing; an absent selector still matches none.
        let (c, pod) = setup(
            &nodes,
            vec![("nodeA", P::new().labels(&[("app", "web")]))],
            P::new()
                .labels(&[("app", "web")])
                .anti_affinity(PodAffinityTerm {
                    match_label_keys: vec!["version".into()],
                    ..in_("app", &["web"], "hostname")
                }),
        );
        let p = c.pod(pod).unwrap();
        assert_eq!(plugin.pre_filter(p, &c).code, Code::Success);
        assert_eq!(plugin.filter(p, &c, NodeId(0)), Anti.status());
        let no_selector = PodAffinityTerm {
            label_selector: None,
            match_label_keys: vec!["app".into()],
            ..in_("app", &["web"], "hostname")
        };
        let (c, pod) = setup(
            &nodes,
            vec![("nodeA", P::new().labels(&[("app", "web")]))],
            P::new()
                .labels(&[("app", "web")])
                .anti_affinity(no_selector),
        );
        let p = c.pod(pod).unwrap();
        assert_eq!(plugin.pre_filter(p, &c).code, Code::Success);
        assert_eq!(plugin.filter(p, &c, NodeId(0)), Pass.status());
    }

    /// One plugin across cluster changes: the census of pods with terms follows binds and
    /// removals, so a pod without terms sees an existing pod's anti-affinity as soon as
    /// that pod is bound, and is skipped again once it is gone.
    #[test]
    fn census_follows_the_cluster() {
        let nodes = [("nodeA", A_Z1), ("nodeB", B_Z2)];
        let (mut c, plain) = setup(&nodes, vec![], P::new().labels(&[("app", "web")]));
        let mut plugin = InterPodAffinity::default();
        assert_eq!(
            plugin.pre_filter(c.pod(plain).unwrap(), &c).code,
            Code::Skip
        );
        let nodes_: Vec<NodeId> = vec![NodeId(0), NodeId(1)];
        assert_eq!(
            plugin.pre_score(c.pod(plain).unwrap(), &c, &nodes_).code,
            Code::Skip
        );

        let guard = add_pod(
            &mut c,
            P::new()
                .anti_affinity(in_("app", &["web"], "zone"))
                .preferred_affinity(7, in_("app", &["web"], "zone"))
                .0,
        );
        c.bind(guard, NodeId(0)).unwrap();
        let p = c.pod(plain).unwrap();
        assert_eq!(plugin.pre_filter(p, &c).code, Code::Success);
        assert_eq!(plugin.filter(p, &c, NodeId(0)), Existing.status());
        assert_eq!(plugin.filter(p, &c, NodeId(1)), Pass.status());
        assert_eq!(plugin.pre_score(p, &c, &nodes_).code, Code::Success);
        assert_eq!(plugin.score(p, &c, NodeId(0)), 7);

        c.remove_pod(guard).unwrap();
        let p = c.pod(plain).unwrap();
        assert_eq!(plugin.pre_filter(p, &c).code, Code::Skip);
        assert_eq!(plugin.filter(p, &c, NodeId(0)), Pass.status());
        assert_eq!(plugin.pre_score(p, &c, &nodes_).code, Code::Skip);

        // A clone of the cluster is another cluster: the census starts over.
        let mut other = c.clone();
        let guard = add_pod(
            &mut other,
            P::new().anti_affinity(in_("app", &["web"], "zone")).0,
        );
        other.bind(guard, NodeId(1)).unwrap();
        let p = other.pod(plain).unwrap();
        assert_eq!(plugin.pre_filter(p, &other).code, Code::Success);
        assert_eq!(plugin.filter(p, &other, NodeId(1)), Existing.status());
    }

    struct ScoreCase {
        name: &'static str,
        nodes: Vec<(&'static str, NodeLabels)>,
        existing: Vec<(&'static str, P)>,
        pod: P,
        args: InterPodAffinityArgs,
        /// Normalized scores per node, or the PreScore code when it is not Success.
        want: Result<Vec<i64>, Code>,
    }

    fn run_score_cases(cases: Vec<ScoreCase>) {
        for case in cases {
            let (c, pod) = setup(&case.nodes, case.existing, case.pod);
            let mut plugin = InterPodAffinity::with_args(case.args).unwrap();
            let got = normalized_scores(&mut plugin, &c, pod, true).map_err(|s| s.code);
            assert_eq!(got, case.want, "{}", case.name);
        }
    }

    /// Mirrors TestPreferredAffinity (scoring_test.go), case by case, with
    /// `hardPodAffinityWeight: 1` as upstream's test.
    #[test]
    fn preferred_affinity_follows_upstream() {
        const AZ1: NodeLabels = &[("az", "az1")];
        const AZ2: NodeLabels = &[("az", "az2")];
        const S1: &[(&str, &str)] = &[("security", "S1")];
        const S2: &[(&str, &str)] = &[("security", "S2")];
        let s1 = || P::new().labels(S1);
        let s2 = || P::new().labels(S2);
        let security_in = |values: &[&str], key: &str| in_("security", values, key);
        let stay_with_s1_in_region = |p: P| p.preferred_affinity(5, security_in(&["S1"], "region"));
        let stay_with_s2_in_region = |p: P| p.preferred_affinity(6, security_in(&["S2"], "region"));
        let hard_affinity = |p: P| {
            p.affinity(security_in(&["S1", "value2"], "region"))
                .affinity(term(
                    vec![
                        req("security", Exists, &[]),
                        req("wrongkey", DoesNotExist, &[]),
                    ],
                    "region",
                ))
        };
        let away_from_s1_in_az = |p: P| p.preferred_anti_affinity(5, security_in(&["S1"], "az"));
        let away_from_s2_in_az = |p: P| p.preferred_anti_affinity(5, security_in(&["S2"], "az"));
        let stay_with_s1_in_region_away_from_s2_in_az = |p: P| {
            p.preferred_affinity(8, security_in(&["S1"], "region"))
                .preferred_anti_affinity(5, security_in(&["S2"], "az"))
        };
        // Upstream: namespaces [subteam2.team2] plus namespaceSelector `team In (team1)`.
        let with_team1 = |t: PodAffinityTerm| PodAffinityTerm {
            namespaces: vec!["subteam2.team2".into()],
            namespace_selector: Some(team1()),
            ..t
        };
        let affinity_namespace_selector =
            |p: P| p.preferred_affinity(5, with_team1(security_in(&["S1"], "region")));
        let anti_affinity_namespace_selector =
            |p: P| p.preferred_anti_affinity(5, with_team1(security_in(&["S1"], "region")));
        let three = || vec![("node1", CHINA), ("node2", INDIA), ("node3", AZ1)];
        let args = InterPodAffinityArgs::default();
        let cases = vec![
            // mirrors "all nodes are same priority as Affinity is nil"
            ScoreCase {
                name: "no terms anywhere",
                nodes: three(),
                existing: vec![],
                pod: s1(),
                args,
                want: Err(Code::Skip),
            },
            // mirrors "Affinity: pod that matches topology key & pods in nodes will get high
            // score comparing to others which doesn't match either pods in nodes or in
            // topology key"
            ScoreCase {
                name: "affinity rewards the matching domain only",
                nodes: three(),
                existing: vec![("node1", s1()), ("node2", s2()), ("node3", s1())],
                pod: stay_with_s1_in_region(s1()),
                args,
                want: Ok(vec![100, 0, 0]),
            },
            // mirrors "All the nodes that have the same topology key & label value with one of
            // them has an existing pod that match the affinity rules, have the same score"
            ScoreCase {
                name: "the whole domain scores alike",
                nodes: vec![("node1", CHINA), ("node2", CHINA_AZ1), ("node3", INDIA)],
                existing: vec![("node1", s1())],
                pod: stay_with_s1_in_region(P::new()),
                args,
                want: Ok(vec![100, 100, 0]),
            },
            // mirrors "Affinity: nodes in one region has more matching pods comparing to other
            // region, so the region which has more matches will get high score"
            ScoreCase {
                name: "the domain with more matches wins",
                nodes: vec![
                    ("node1", CHINA),
                    ("node2", INDIA),
                    ("node3", CHINA),
                    ("node4", CHINA),
                    ("node5", INDIA),
                ],
                existing: vec![
                    ("node1", s2()),
                    ("node1", s2()),
                    ("node2", s2()),
                    ("node3", s2()),
                    ("node4", s2()),
                    ("node5", s2()),
                ],
                pod: stay_with_s2_in_region(s1()),
                args,
                want: Ok(vec![100, 0, 100, 100, 0]),
            },
            // mirrors "Affinity: different Label operators and values for pod affinity
            // scheduling preference, including some match failures "
            ScoreCase {
                name: "weights add up per domain",
                nodes: three(),
                existing: vec![("node1", s1()), ("node2", s2()), ("node3", s1())],
                pod: s1()
                    .preferred_affinity(
                        8,
                        term(
                            vec![
                                req("security", NotIn, &["S1"]),
                                req("security", In, &["S2"]),
                            ],
                            "region",
                        ),
                    )
                    .preferred_affinity(
                        2,
                        term(
                            vec![
                                req("security", Exists, &[]),
                                req("wrongkey", DoesNotExist, &[]),
                            ],
                            "region",
                        ),
                    ),
                args,
                // China 2, India 8 + 2 = 10, node3 has no region: 100 * (2 / 10) = 20.
                want: Ok(vec![20, 100, 0]),
            },
            // mirrors "Affinity symmetry: considered only the
            // preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry"
            ScoreCase {
                name: "symmetry: existing pods' preferred affinity",
                nodes: three(),
                existing: vec![
                    ("node1", stay_with_s1_in_region(s1())),
                    ("node2", stay_with_s2_in_region(s2())),
                ],
                pod: s2(),
                args,
                want: Ok(vec![0, 100, 0]),
            },
            // mirrors "Affinity symmetry with namespace selector"
            ScoreCase {
                name: "symmetry: an existing pod's namespaceSelector finds the pod",
                nodes: three(),
                existing: vec![
                    ("node1", affinity_namespace_selector(s1())),
                    ("node2", stay_with_s2_in_region(s2())),
                ],
                pod: s1().ns("subteam1.team1"),
                args,
                want: Ok(vec![100, 0, 0]),
            },
            // mirrors "AntiAffinity symmetry with namespace selector"
            ScoreCase {
                name: "symmetry: anti-affinity with a namespaceSelector",
                nodes: three(),
                existing: vec![
                    ("node1", anti_affinity_namespace_selector(s1())),
                    ("node2", stay_with_s2_in_region(s2())),
                ],
                pod: s1().ns("subteam1.team1"),
                args,
                // China -5, the others 0: min -5, max 0.
                want: Ok(vec![0, 100, 100]),
            },
            // mirrors "Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution
            // in pod affinity symmetry"
            ScoreCase {
                name: "symmetry: existing pods' required affinity, hard weight 1",
                nodes: three(),
                existing: vec![
                    ("node1", hard_affinity(s1())),
                    ("node2", hard_affinity(s2())),
                ],
                pod: s1(),
                args,
                want: Ok(vec![100, 100, 0]),
            },
            // mirrors "Anti Affinity: pod that does not match existing pods in node will get
            // high score "
            ScoreCase {
                name: "anti-affinity penalizes the matching domain",
                nodes: vec![("node1", AZ1), ("node2", CHINA)],
                existing: vec![("node1", s1()), ("node2", s2())],
                pod: away_from_s1_in_az(s1()),
                args,
                want: Ok(vec![0, 100]),
            },
            // mirrors "Anti Affinity: pod that does not match topology key & match the pods in
            // nodes will get higher score comparing to others "
            ScoreCase {
                name: "anti-affinity ignores nodes without the key",
                nodes: vec![("node1", AZ1), ("node2", CHINA)],
                existing: vec![("node1", s1()), ("node2", s1())],
                pod: away_from_s1_in_az(s1()),
                args,
                want: Ok(vec![0, 100]),
            },
            // mirrors "Anti Affinity: one node has more matching pods comparing to other node,
            // so the node which has more unmatches will get high score"
            ScoreCase {
                name: "anti-affinity with more matches",
                nodes: vec![("node1", AZ1), ("node2", INDIA)],
                existing: vec![("node1", s1()), ("node1", s1()), ("node2", s2())],
                pod: away_from_s1_in_az(s1()),
                args,
                want: Ok(vec![0, 100]),
            },
            // mirrors "Anti Affinity symmetry: the existing pods in node which has anti
            // affinity match will get high score"
            ScoreCase {
                name: "symmetry: existing pods' preferred anti-affinity",
                nodes: vec![("node1", AZ1), ("node2", AZ2)],
                existing: vec![
                    ("node1", away_from_s2_in_az(s1())),
                    ("node2", away_from_s1_in_az(s2())),
                ],
                pod: s2(),
                args,
                want: Ok(vec![0, 100]),
            },
            // mirrors "Affinity and Anti Affinity: considered only
            // preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti
            // affinity"
            ScoreCase {
                name: "affinity and anti-affinity together",
                nodes: vec![("node1", CHINA), ("node2", AZ1)],
                existing: vec![("node1", s1()), ("node2", s1())],
                pod: stay_with_s1_in_region_away_from_s2_in_az(s1()),
                args,
                want: Ok(vec![100, 0]),
            },
            // mirrors "Affinity and Anti Affinity: considering both affinity and
            // anti-affinity, the pod to schedule and existing pods have the same labels"
            ScoreCase {
                name: "together with pods of the same labels",
                nodes: vec![
                    ("node1", CHINA_AZ1),
                    ("node2", INDIA),
                    ("node3", CHINA),
                    ("node4", CHINA),
                    ("node5", INDIA),
                ],
                existing: vec![
                    ("node1", s1()),
                    ("node1", s1()),
                    ("node2", s1()),
                    ("node3", s1()),
                    ("node3", s1()),
                    ("node4", s1()),
                    ("node5", s1()),
                ],
                pod: stay_with_s1_in_region_away_from_s2_in_az(s1()),
                args,
                want: Ok(vec![100, 0, 100, 100, 0]),
            },
            // mirrors "Affinity and Anti Affinity and symmetry: considered only
            // preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti
            // affinity & symmetry"
            ScoreCase {
                name: "affinity, anti-affinity and both symmetries",
                nodes: vec![
                    ("node1", CHINA),
                    ("node2", AZ1),
                    ("node3", INDIA),
                    ("node4", AZ2),
                ],
                existing: vec![
                    ("node1", s1()),
                    ("node2", s2()),
                    ("node3", stay_with_s1_in_region_away_from_s2_in_az(P::new())),
                    ("node4", away_from_s1_in_az(P::new())),
                ],
                pod: stay_with_s1_in_region_away_from_s2_in_az(s1()),
                args,
                // 8, -5, 8, -5.
                want: Ok(vec![100, 0, 100, 0]),
            },
            // mirrors "Avoid panic when partial nodes in a topology don't have pods with
            // affinity"
            ScoreCase {
                name: "a domain only partly holding pods with terms",
                nodes: vec![("node1", CHINA), ("node2", CHINA)],
                existing: vec![
                    ("node1", s1()),
                    ("node2", stay_with_s1_in_region_away_from_s2_in_az(P::new())),
                ],
                pod: s1(),
                args,
                want: Ok(vec![0, 0]),
            },
            // mirrors "Affinity with pods matching NamespaceSelector"
            ScoreCase {
                name: "the pod's namespaceSelector",
                nodes: vec![("node1", CHINA), ("node2", INDIA)],
                existing: vec![
                    ("node1", s1().ns("subteam1.team1")),
                    ("node1", s1().ns("subteam1.team1")),
                    ("node1", s1().ns("subteam1.team2")),
                    ("node2", s1().ns("subteam2.team1")),
                ],
                pod: affinity_namespace_selector(s1().ns("subteam1.team1")),
                args,
                want: Ok(vec![100, 0]),
            },
            // mirrors "Affinity with pods matching both NamespaceSelector and Namespaces
            // fields" (the affinity one)
            ScoreCase {
                name: "the pod's namespaceSelector and namespaces together",
                nodes: vec![("node1", CHINA), ("node2", INDIA)],
                existing: vec![
                    ("node1", s1().ns("subteam1.team1")),
                    ("node1", s1().ns("subteam1.team1")),
                    ("node1", s1().ns("subteam2.team2")),
                    ("node2", s1().ns("subteam2.team1")),
                ],
                pod: affinity_namespace_selector(s1().ns("subteam1.team1")),
                args,
                want: Ok(vec![100, 0]),
            },
            // mirrors "Affinity with pods matching NamespaceSelector" (the anti-affinity one)
            ScoreCase {
                name: "the pod's anti-affinity namespaceSelector",
                nodes: vec![("node1", CHINA), ("node2", INDIA)],
                existing: vec![
                    ("node1", s1().ns("subteam1.team1")),
                    ("node1", s1().ns("subteam1.team1")),
                    ("node1", s1().ns("subteam1.team2")),
                    ("node2", s1().ns("subteam2.team1")),
                ],
                pod: anti_affinity_namespace_selector(s1().ns("subteam1.team1")),
                args,
                want: Ok(vec![0, 100]),
            },
            // mirrors "Ignore preferred terms of existing pods"
            ScoreCase {
                name: "ignorePreferredTermsOfExistingPods",
                nodes: vec![("node1", CHINA), ("node2", INDIA)],
                existing: vec![
                    ("node1", stay_with_s1_in_region_away_from_s2_in_az(s1())),
                    ("node2", stay_with_s2_in_region(s2())),
                ],
                pod: s2(),
                args: InterPodAffinityArgs {
                    ignore_preferred_terms_of_existing_pods: true,
                    ..args
                },
                want: Err(Code::Skip),
            },
            // mirrors "Do not ignore preferred terms of existing pods"
            ScoreCase {
                name: "preferred terms of existing pods count by default",
                nodes: vec![("node1", CHINA), ("node2", INDIA)],
                existing: vec![
                    ("node1", stay_with_s1_in_region_away_from_s2_in_az(s1())),
                    ("node2", stay_with_s2_in_region(s2())),
                ],
                pod: s2(),
                args,
                want: Ok(vec![0, 100]),
            },
            // mirrors "No nodes to score"
            ScoreCase {
                name: "no nodes",
                nodes: vec![],
                existing: vec![],
                pod: s2(),
                args,
                want: Err(Code::Skip),
            },
        ];
        run_score_cases(cases);
    }

    /// Mirrors TestPreferredAffinityWithHardPodAffinitySymmetricWeight (scoring_test.go).
    #[test]
    fn hard_pod_affinity_weight_follows_upstream() {
        let nodes = || {
            vec![
                ("node1", CHINA),
                ("node2", INDIA),
                ("node3", &[("az", "az1")][..]),
            ]
        };
        // Required affinity to `service: S1` in namespaces "" and subteam2.team2, and in
        // the team1 namespaces by selector; the existing pods have no labels.
        let hard = || {
            P::new().affinity(PodAffinityTerm {
                namespaces: vec!["".into(), "subteam2.team2".into()],
                namespace_selector: Some(team1()),
                ..in_("service", &["S1"], "region")
            })
        };
        let existing = || vec![("node1", hard()), ("node2", hard())];
        let s1 = || P::new().labels(&[("service", "S1")]);
        let weight = |w: i32| InterPodAffinityArgs {
            hard_pod_affinity_weight: w,
            ..Default::default()
        };
        let cases = vec![
            // mirrors "with default weight"
            ScoreCase {
                name: "default weight",
                nodes: nodes(),
                existing: existing(),
                pod: s1(),
                args: weight(1),
                want: Ok(vec![100, 100, 0]),
            },
            // mirrors "with zero weight"
            ScoreCase {
                name: "zero weight",
                nodes: nodes(),
                existing: existing(),
                pod: s1(),
                args: weight(0),
                want: Err(Code::Skip),
            },
            // mirrors "with no matching namespace"
            ScoreCase {
                name: "no matching namespace",
                nodes: nodes(),
                existing: existing(),
                pod: s1().ns("subteam1.team2"),
                args: weight(1),
                want: Err(Code::Skip),
            },
            // mirrors "with matching NamespaceSelector"
            ScoreCase {
                name: "matching namespaceSelector",
                nodes: nodes(),
                existing: existing(),
                pod: s1().ns("subteam1.team1"),
                args: weight(1),
                want: Ok(vec![100, 100, 0]),
            },
            // mirrors "with matching Namespaces"
            ScoreCase {
                name: "matching namespaces",
                nodes: nodes(),
                existing: existing(),
                pod: s1().ns("subteam2.team2"),
                args: weight(1),
                want: Ok(vec![100, 100, 0]),
            },
        ];
        run_score_cases(cases);
        assert_eq!(
            InterPodAffinity::with_args(weight(101)).unwrap_err(),
            InvalidInterPodAffinityArgs(101)
        );
        assert!(InterPodAffinity::with_args(weight(-1)).is_err());
    }

    /// NormalizeScore divides in `f64` before multiplying by 100, as upstream, which is
    /// not always what integer arithmetic gives: 29 / 100 is 0.29, and 100 * 0.29 is
    /// 28.999999999999996, truncated to 28.
    #[test]
    fn normalize_uses_upstream_float_order() {
        let mut scores = [0, 29, 100];
        normalize(&mut scores);
        assert_eq!(scores, [0, 28, 100]);
        let mut scores = [-5, 0, 3];
        normalize(&mut scores);
        assert_eq!(scores, [0, 62, 100]);
        let mut same = [4, 4];
        normalize(&mut same);
        assert_eq!(same, [0, 0]);
        let mut empty: [i64; 0] = [];
        normalize(&mut empty);
    }

    /// Three nodes with hostname labels and four pods that refuse to share a hostname
    /// with each other; the first three are bound.
    fn hostname_anti_affinity_cluster() -> (ClusterState, Vec<PodId>, FrameworkScheduler) {
        const HOSTNAME: &str = "kubernetes.io/hostname";
        let mut c = cluster(
            ["a", "b", "c"]
                .into_iter()
                .map(|name| node(name, &[(HOSTNAME, name)], vec![]))
                .collect(),
        );
        let template = Arc::new(
            P::new()
                .labels(&[("app", "web")])
                .anti_affinity(in_("app", &["web"], HOSTNAME))
                .0,
        );
        let pods: Vec<PodId> = (0..4)
            .map(|i| c.add_pod(Pod::from_template(Arc::clone(&template), i)))
            .collect();
        let mut scheduler = FrameworkScheduler::new(Profile::kube_default());
        assert!(
            scheduler
                .profile()
                .plugin_names()
                .contains(&InterPodAffinity::NAME)
        );
        let mut rng = SchedulerRng::seed_from_u64(3);
        let mut decisions = Vec::new();
        scheduler.schedule(&mut Cycle::new(
            &mut c,
            &pods[..3],
            &mut rng,
            &mut decisions,
        ));
        let mut used: Vec<NodeId> = decisions
            .iter()
            .map(|d| match d {
                Decision::Bound { node, .. } => *node,
                other => panic!("expected a bind, got {other:?}"),
            })
            .collect();
        used.sort();
        assert_eq!(used, vec![NodeId(0), NodeId(1), NodeId(2)], "one per node");
        (c, pods, scheduler)
    }

    const NO_NODE_FOR_ANTI_AFFINITY: &str =
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.";

    /// The default profile end to end: pods that refuse to share a hostname spread one
    /// per node, and every node rejects the next one for upstream's reason.
    #[test]
    fn kube_default_spreads_hostname_anti_affinity() {
        let (c, pods, mut scheduler) = hostname_anti_affinity_cluster();
        let mut rng = SchedulerRng::seed_from_u64(4);
        let e = scheduler.explain(&c, pods[3], &mut rng);
        assert_eq!(e.selected, None);
        assert_eq!(e.nodes.len(), 3);
        for v in &e.nodes {
            assert!(v.evaluated && !v.feasible);
            assert_eq!(v.failed_plugin, Some(InterPodAffinity::NAME));
            assert_eq!(v.reasons, vec![InterPodAffinity::REASON_ANTI_AFFINITY]);
        }
        assert_eq!(e.diagnosis.unwrap().to_string(), NO_NODE_FOR_ANTI_AFFINITY);
    }

    /// Upstream leaves the fourth pod unschedulable: its DefaultPreemption finds no
    /// lower-priority pod to evict on any node ("No preemption victims found for incoming
    /// pod") and, with victims, would re-run this filter without them.
    #[test]
    fn kube_default_leaves_the_extra_pod_unschedulable() {
        let (mut c, pods, mut scheduler) = hostname_anti_affinity_cluster();
        let mut rng = SchedulerRng::seed_from_u64(4);
        let mut decisions = Vec::new();
        scheduler.schedule(&mut Cycle::new(
            &mut c,
            &pods[3..],
            &mut rng,
            &mut decisions,
        ));
        match &decisions[..] {
            [Decision::Unschedulable { pod, diagnosis }] => {
                assert_eq!(*pod, pods[3]);
                assert_eq!(diagnosis.to_string(), NO_NODE_FOR_ANTI_AFFINITY);
            }
            other => panic!("expected the pod unschedulable, got {other:?}"),
        }
    }
}
