//! NodeAffinity: a pod runs only on nodes matching its `spec.nodeSelector` and its required
//! node affinity, and prefers nodes matching its preferred node affinity terms.
//!
//! Follows kube-scheduler v1.35, `pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go`,
//! with the term matching of `k8s.io/component-helpers/scheduling/corev1/nodeaffinity`:
//! - PreFilter returns Skip when the pod has no nodeSelector, no required node affinity and
//!   the plugin no added required affinity. When every required term names nodes
//!   (`matchFields` on `metadata.name` with `In`) and those names cancel out, it rejects
//!   the pod outright: `pod affinity terms conflict`.
//! - Filter requires every nodeSelector label and at least one required term (terms are
//!   ORed, a term's requirements ANDed, an empty term matches nothing), code
//!   UnschedulableAndUnresolvable, reason `node(s) didn't match Pod's node affinity/selector`.
//!   A term upstream cannot parse (bad label key or value, wrong number of values for the
//!   operator) matches no node, and the other terms still count.
//! - PreScore returns Skip when there are no preferred terms at all; a preferred term that
//!   cannot be parsed is an Error, as upstream.
//! - Score is the sum of the weights of the preferred terms the node matches, and
//!   NormalizeScore is `DefaultNormalizeScore(MaxNodeScore, reverse = false)`.
//! - The plugin argument `addedAffinity` is supported through
//!   [`NodeAffinity::with_added_affinity`]; the default profile has none.
//!
//! Not modelled: upstream's PreFilter also returns the node names the required terms
//! allow (a PreFilterResult) so that only those nodes are filtered. Every other node fails
//! Filter anyway, so the feasible nodes are the same; what differs is those nodes' reason
//! (upstream: `node(s) didn't satisfy plugin(s) [NodeAffinity]`) and how far the rotating
//! start index advances. [`required_node_names`] computes the set for a framework that
//! supports it.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::cluster::ClusterState;
use crate::filters::REASON_NODE_AFFINITY;
use crate::framework::plugins::helper::default_normalize_score;
use crate::framework::profile::Points;
use crate::framework::{Code, MAX_NODE_SCORE, Plugin, Status};
use crate::labels::{self, NodeSelectorTerm, PreferredTerm, SelectorOperator, SelectorRequirement};
use crate::node::NodeId;
use crate::pod::{Pod, PodTemplate};
use crate::reason::Reason;

/// The node field `matchFields` may name.
const NAME_FIELD: &str = "metadata.name";

/// The NodeAffinity plugin.
#[derive(Debug, Default, Clone)]
pub struct NodeAffinity {
    /// `addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`:
    /// every pod must also match one of these (all parse; checked when set).
    added_required: Option<Vec<NodeSelectorTerm>>,
    /// `addedAffinity.preferredDuringSchedulingIgnoredDuringExecution` (all parse).
    added_preferred: Vec<PreferredTerm>,
    /// Which of the current pod's terms parse, so Filter and Score need not re-validate
    /// label syntax on every node.
    parsed: ParsedTerms,
}

/// Per term of one pod template: does upstream parse it?
#[derive(Debug, Default, Clone)]
struct ParsedTerms {
    /// The template described. Templates are immutable behind their `Arc`, so pointer
    /// equality means the same terms; holding the `Arc` keeps the address from being
    /// reused by another template.
    template: Option<Arc<PodTemplate>>,
    /// For each required term.
    required: Vec<bool>,
    /// For each preferred term.
    preferred: Vec<bool>,
}

impl ParsedTerms {
    fn is_for(&self, template: &Arc<PodTemplate>) -> bool {
        self.template
            .as_ref()
            .is_some_and(|t| Arc::ptr_eq(t, template))
    }
}

/// `addedAffinity` that kube-scheduler would refuse to start with: one of its terms does
/// not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("NodeAffinity addedAffinity: {0}")]
pub struct InvalidAddedAffinity(pub String);

impl NodeAffinity {
    /// Its name.
    pub const NAME: &'static str = "NodeAffinity";
    /// Where it runs.
    pub const POINTS: Points = Points::ALL;
    /// Upstream's Filter reason when the pod's nodeSelector or required affinity fails.
    pub const REASON: &'static str = REASON_NODE_AFFINITY;
    /// Upstream's Filter reason when the added (scheduler-enforced) affinity fails.
    pub const REASON_ENFORCED: &'static str =
        "node(s) didn't match scheduler-enforced node affinity";
    /// Upstream's PreFilter reason when the required terms name no node at all.
    pub const REASON_CONFLICT: &'static str = "pod affinity terms conflict";

    /// The plugin with the `addedAffinity` argument: node affinity applied to every pod on
    /// top of its own (required terms must match too, preferred terms add to the score).
    /// Refused, as kube-scheduler refuses the configuration, when a non-empty term does
    /// not parse.
    pub fn with_added_affinity(
        added: labels::NodeAffinity,
    ) -> Result<NodeAffinity, InvalidAddedAffinity> {
        for (i, term) in added.required.iter().flatten().enumerate() {
            if !is_empty(term) {
                check_term(term).map_err(|e| {
                    InvalidAddedAffinity(format!(
                        "requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}].{e}"
                    ))
                })?;
            }
        }
        for (i, term) in added.preferred.iter().enumerate() {
            if counts(term) {
                check_term(&term.preference).map_err(|e| {
                    InvalidAddedAffinity(format!(
                        "preferredDuringSchedulingIgnoredDuringExecution[{i}].preference.{e}"
                    ))
                })?;
            }
        }
        Ok(NodeAffinity {
            added_required: added.required,
            added_preferred: added.preferred,
            parsed: ParsedTerms::default(),
        })
    }

    /// Records which of this template's terms parse, unless already done.
    fn parse(&mut self, template: &Arc<PodTemplate>) {
        if self.parsed.is_for(template) {
            return;
        }
        let p = &mut self.parsed;
        p.required.clear();
        p.required.extend(
            required_terms(template)
                .unwrap_or_default()
                .iter()
                .map(|t| check_term(t).is_ok()),
        );
        p.preferred.clear();
        p.preferred.extend(
            preferred_terms(template)
                .iter()
                .map(|t| check_term(&t.preference).is_ok()),
        );
        p.template = Some(Arc::clone(template));
    }

    /// Does required term `i` of this template parse? From the record when PreFilter made
    /// one for this template, otherwise checked now (Filter without PreFilter).
    fn required_parses(
        &self,
        template: &Arc<PodTemplate>,
        i: usize,
        term: &NodeSelectorTerm,
    ) -> bool {
        if self.parsed.is_for(template) {
            self.parsed.required[i]
        } else {
            check_term(term).is_ok()
        }
    }

    /// Does preferred term `i` of this template parse? As [`Self::required_parses`].
    fn preferred_parses(
        &self,
        template: &Arc<PodTemplate>,
        i: usize,
        term: &PreferredTerm,
    ) -> bool {
        if self.parsed.is_for(template) {
            self.parsed.preferred[i]
        } else {
            check_term(&term.preference).is_ok()
        }
    }
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, _cluster: &ClusterState) -> Status {
        let t = &pod.template;
        if required_terms(t).is_none()
            && self.added_required.is_none()
            && t.node_selector.is_empty()
        {
            // Nothing for Filter to check.
            return Status::skip();
        }
        self.parse(t);
        if required_node_names(t).is_some_and(|names| names.is_empty()) {
            return Status::unresolvable(Reason::NodeAffinityConflict);
        }
        Status::success()
    }

    fn filter(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        let node = cluster.node(node);
        let (labels, name) = (&node.spec.labels, node.name());
        if let Some(terms) = &self.added_required
            && !terms.iter().any(|term| term.matches(labels, name))
        {
            return Status::unresolvable(Reason::NodeAffinityEnforced);
        }
        let t = &pod.template;
        if !labels.contains_all(&t.node_selector) {
            return Status::unresolvable(Reason::NodeAffinity);
        }
        if let Some(terms) = required_terms(t) {
            // Terms that do not parse are passed over: upstream's LazyErrorNodeSelector
            // reports their errors only if no term matches, and Filter ignores them.
            let admitted = terms
                .iter()
                .enumerate()
                .any(|(i, term)| self.required_parses(t, i, term) && term.matches(labels, name));
            if !admitted {
                return Status::unresolvable(Reason::NodeAffinity);
            }
        }
        Status::success()
    }

    fn pre_score(&mut self, pod: &Pod, _cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        let preferred = preferred_terms(&pod.template);
        if preferred.is_empty() && self.added_preferred.is_empty() {
            // Every node would score 0.
            return Status::skip();
        }
        self.parse(&pod.template);
        // Upstream parses all preferred terms here and fails the attempt on any error
        // (terms of weight 0 and empty terms are dropped unparsed).
        let broken = preferred
            .iter()
            .zip(&self.parsed.preferred)
            .position(|(term, &parses)| counts(term) && !parses);
        if let Some(i) = broken
            && let Err(e) = check_term(&preferred[i].preference)
        {
            return Status::new(Code::Error, format!("[{i}].preference.{e}"));
        }
        Status::success()
    }

    fn score(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> i64 {
        let node = cluster.node(node);
        let (labels, name) = (&node.spec.labels, node.name());
        let t = &pod.template;
        let added: i64 = self
            .added_preferred
            .iter()
            .filter(|term| term.preference.matches(labels, name))
            .map(|term| i64::from(term.weight))
            .sum();
        let own: i64 = preferred_terms(t)
            .iter()
            .enumerate()
            .filter(|&(i, term)| {
                self.preferred_parses(t, i, term) && term.preference.matches(labels, name)
            })
            .map(|(_, term)| i64::from(term.weight))
            .sum();
        added + own
    }

    fn normalize_score(&self, _pod: &Pod, scores: &mut [i64]) {
        default_normalize_score(MAX_NODE_SCORE, false, scores);
    }
}

/// The node names a pod's required node affinity confines it to, as upstream's PreFilter
/// computes them for its PreFilterResult: when every required term has `matchFields`
/// requirements `metadata.name In [...]`, the union over terms of the intersection of each
/// term's name lists. `None` means any node may match (no required affinity, no terms, or
/// a term that names no node); `Some` of an empty set means the terms cancel out and no
/// node can match.
pub fn required_node_names(template: &PodTemplate) -> Option<BTreeSet<&str>> {
    let terms = required_terms(template)?;
    if terms.is_empty() {
        return None;
    }
    let mut names = BTreeSet::new();
    for term in terms {
        let mut term_names: Option<BTreeSet<&str>> = None;
        for r in &term.match_fields {
            if r.key == NAME_FIELD && r.operator == SelectorOperator::In {
                // A term's requirements are ANDed: intersect.
                let listed: BTreeSet<&str> = r.values.iter().map(String::as_str).collect();
                term_names = Some(match term_names {
                    None => listed,
                    Some(before) => before.intersection(&listed).copied().collect(),
                });
            }
        }
        // Terms are ORed: one that names no node lets every node through.
        names.extend(term_names?);
    }
    Some(names)
}

/// `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`.
fn required_terms(t: &PodTemplate) -> Option<&[NodeSelectorTerm]> {
    t.node_affinity.as_ref()?.required.as_deref()
}

/// `spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution`.
fn preferred_terms(t: &PodTemplate) -> &[PreferredTerm] {
    t.node_affinity.as_ref().map_or(&[], |a| &a.preferred)
}

fn is_empty(term: &NodeSelectorTerm) -> bool {
    term.match_expressions.is_empty() && term.match_fields.is_empty()
}

/// Upstream parses (and may reject) only preferred terms that can add to a score.
fn counts(term: &PreferredTerm) -> bool {
    term.weight != 0 && !is_empty(&term.preference)
}

/// Checks a term as upstream parses it (`labels.NewRequirement` for `matchExpressions`,
/// the field selector conversion for `matchFields`); the error names the first offence.
fn check_term(term: &NodeSelectorTerm) -> Result<(), String> {
    for (i, r) in term.match_expressions.iter().enumerate() {
        check_expression(r).map_err(|e| format!("matchExpressions[{i}].{e}"))?;
    }
    for (i, r) in term.match_fields.iter().enumerate() {
        if !matches!(r.operator, SelectorOperator::In | SelectorOperator::NotIn) {
            return Err(format!(
                "matchFields[{i}].operator: Unsupported value: {:?}: only In and NotIn",
                r.operator
            ));
        }
        if r.values.len() != 1 {
            return Err(format!("matchFields[{i}].values: must have one element"));
        }
    }
    Ok(())
}

/// One `matchExpressions` requirement, as `labels.NewRequirement` validates it.
fn check_expression(r: &SelectorRequirement) -> Result<(), String> {
    if !is_qualified_name(&r.key) {
        return Err(format!(
            "key: Invalid value: {:?}: not a qualified name",
            r.key
        ));
    }
    let values = &r.values;
    match r.operator {
        SelectorOperator::In | SelectorOperator::NotIn if values.is_empty() => {
            return Err("values: for 'in', 'notin' operators, values set can't be empty".into());
        }
        SelectorOperator::Exists | SelectorOperator::DoesNotExist if !values.is_empty() => {
            return Err("values: values set must be empty for exists and does not exist".into());
        }
        SelectorOperator::Gt | SelectorOperator::Lt => {
            if values.len() != 1 {
                return Err(
                    "values: for 'Gt', 'Lt' operators, exactly one value is required".into(),
                );
            }
            // Go's strconv.ParseInt(v, 10, 64) and Rust's i64 parsing accept the same
            // strings: an optional sign and decimal digits.
            if values[0].parse::<i64>().is_err() {
                return Err(format!(
                    "values[0]: Invalid value: {:?}: for 'Gt', 'Lt' operators, \
                     the value must be an integer",
                    values[0]
                ));
            }
        }
        _ => {}
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !is_label_value(v)) {
        return Err(format!(
            "values[{i}]: Invalid value: {v:?}: not a valid label value"
        ));
    }
    Ok(())
}

/// A label key: an optional DNS-subdomain prefix and `/`, then a name of at most 63
/// characters (`IsQualifiedName`).
fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        None => (None, key),
        Some((prefix, name)) => (Some(prefix), name),
    };
    if let Some(prefix) = prefix
        && !is_dns1123_subdomain(prefix)
    {
        return false;
    }
    // A second `/` lands in the name, where it is not allowed.
    !name.is_empty() && name.len() <= 63 && is_name_part(name)
}

/// A label value: empty, or at most 63 characters shaped like a name part
/// (`IsValidLabelValue`).
fn is_label_value(value: &str) -> bool {
    value.is_empty() || (value.len() <= 63 && is_name_part(value))
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`: alphanumerics at both ends, and `-`, `_`,
/// `.` allowed between.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// At most 253 characters of dot-separated lowercase labels, each alphanumeric at both
/// ends with `-` allowed between (`IsDNS1123Subdomain`).
fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            match (b.first(), b.last()) {
                (Some(first), Some(last)) => {
                    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
                    lower_alnum(first)
                        && lower_alnum(last)
                        && b.iter().all(|c| lower_alnum(c) || *c == b'-')
                }
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node, normalized_scores};
    use crate::framework::plugins::taint_toleration::TaintToleration;
    use crate::framework::{FrameworkScheduler, Profile};
    use crate::labels::Labels;
    use crate::scheduler::{Cycle, Decision, Scheduler, SchedulerRng};
    use crate::taints::{Taint, TaintEffect};

    use SelectorOperator::{DoesNotExist, Exists, Gt, In, Lt, NotIn};

    fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn exprs(match_expressions: Vec<SelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions,
            match_fields: vec![],
        }
    }

    fn fields(match_fields: Vec<SelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: vec![],
            match_fields,
        }
    }

    fn name_in(node: &str) -> SelectorRequirement {
        req(NAME_FIELD, In, &[node])
    }

    fn required(terms: Vec<NodeSelectorTerm>) -> labels::NodeAffinity {
        labels::NodeAffinity {
            required: Some(terms),
            preferred: vec![],
        }
    }

    fn preferred(terms: Vec<(i32, NodeSelectorTerm)>) -> labels::NodeAffinity {
        labels::NodeAffinity {
            required: None,
            preferred: terms
                .into_iter()
                .map(|(weight, preference)| PreferredTerm { weight, preference })
                .collect(),
        }
    }

    fn pod(selector: &[(&str, &str)], affinity: Option<labels::NodeAffinity>) -> PodTemplate {
        PodTemplate {
            name: "pod".into(),
            node_selector: Labels::new(selector.iter().copied()),
            node_affinity: affinity,
            ..Default::default()
        }
    }

    /// One row of TestNodeAffinity (node_affinity_test.go).
    struct FilterRow {
        name: &'static str,
        pod: PodTemplate,
        labels: &'static [(&'static str, &'static str)],
        node_name: &'static str,
        added: Option<labels::NodeAffinity>,
        run_pre_filter: bool,
        want_pre_filter: Status,
        /// Upstream's PreFilterResult node names (`None`: all nodes).
        want_node_names: Option<&'static [&'static str]>,
        want: Status,
    }

    impl Default for FilterRow {
        fn default() -> FilterRow {
            FilterRow {
                name: "",
                pod: pod(&[], None),
                labels: &[],
                node_name: "",
                added: None,
                run_pre_filter: true,
                want_pre_filter: Status::success(),
                want_node_names: None,
                want: Status::success(),
            }
        }
    }

    /// Mirrors TestNodeAffinity (node_affinity_test.go): PreFilter (when the row runs it),
    /// then Filter on a single node, whatever PreFilter said, as upstream's test does.
    #[test]
    fn filter_follows_upstream() {
        let fail = || Status::unresolvable(NodeAffinity::REASON);
        let foo_bar = &[("foo", "bar")];
        let rows = vec![
            // mirrors TestNodeAffinity "missing labels"
            FilterRow {
                name: "missing labels",
                pod: pod(&[("foo", "bar")], None),
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "same labels"
            FilterRow {
                name: "same labels",
                pod: pod(&[("foo", "bar")], None),
                labels: foo_bar,
                ..Default::default()
            },
            // mirrors TestNodeAffinity "node labels are superset"
            FilterRow {
                name: "node labels are superset",
                pod: pod(&[("foo", "bar")], None),
                labels: &[("foo", "bar"), ("baz", "blah")],
                ..Default::default()
            },
            // mirrors TestNodeAffinity "node labels are subset"
            FilterRow {
                name: "node labels are subset",
                pod: pod(&[("foo", "bar"), ("baz", "blah")], None),
                labels: foo_bar,
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with matchExpressions using In operator that
            // matches the existing node"
            FilterRow {
                name: "In matches",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req(
                        "foo",
                        In,
                        &["bar", "value2"],
                    )])])),
                ),
                labels: foo_bar,
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with matchExpressions using Gt operator that
            // matches the existing node"
            FilterRow {
                name: "Gt matches",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req(
                        "kernel-version",
                        Gt,
                        &["0204"],
                    )])])),
                ),
                labels: &[("kernel-version", "0206")],
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with matchExpressions using NotIn operator that
            // matches the existing node"
            FilterRow {
                name: "NotIn matches",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req(
                        "mem-type",
                        NotIn,
                        &["DDR", "DDR2"],
                    )])])),
                ),
                labels: &[("mem-type", "DDR3")],
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with matchExpressions using Exists operator that
            // matches the existing node"
            FilterRow {
                name: "Exists matches",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req("GPU", Exists, &[])])])),
                ),
                labels: &[("GPU", "NVIDIA-GRID-K1")],
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with affinity that don't match node's labels
            // won't schedule onto the node"
            FilterRow {
                name: "In does not match",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req(
                        "foo",
                        In,
                        &["value1", "value2"],
                    )])])),
                ),
                labels: foo_bar,
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with empty MatchExpressions is not a valid value
            // will match no objects and won't schedule onto the node"
            FilterRow {
                name: "empty term matches nothing",
                pod: pod(&[], Some(required(vec![exprs(vec![])]))),
                labels: foo_bar,
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with no Affinity will schedule onto a node"
            FilterRow {
                name: "no affinity",
                labels: foo_bar,
                want_pre_filter: Status::skip(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with Affinity but nil NodeSelector will schedule
            // onto a node"
            FilterRow {
                name: "affinity without required terms",
                pod: pod(&[], Some(labels::NodeAffinity::default())),
                labels: foo_bar,
                want_pre_filter: Status::skip(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with multiple matchExpressions ANDed that matches
            // the existing node"
            FilterRow {
                name: "ANDed expressions match",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![
                        req("GPU", Exists, &[]),
                        req("GPU", NotIn, &["AMD", "INTER"]),
                    ])])),
                ),
                labels: &[("GPU", "NVIDIA-GRID-K1")],
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with multiple matchExpressions ANDed that doesn't
            // match the existing node"
            FilterRow {
                name: "ANDed expressions do not match",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![
                        req("GPU", Exists, &[]),
                        req("GPU", In, &["AMD", "INTER"]),
                    ])])),
                ),
                labels: &[("GPU", "NVIDIA-GRID-K1")],
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with multiple NodeSelectorTerms ORed in affinity,
            // matches the node's labels and will schedule onto the node"
            FilterRow {
                name: "ORed terms, first matches",
                pod: pod(
                    &[],
                    Some(required(vec![
                        exprs(vec![req("foo", In, &["bar", "value2"])]),
                        exprs(vec![req("diffkey", In, &["wrong", "value2"])]),
                    ])),
                ),
                labels: foo_bar,
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with an Affinity and a PodSpec.NodeSelector(the
            // old thing that we are deprecating) both are satisfied, will schedule onto the
            // node"
            FilterRow {
                name: "affinity and nodeSelector both satisfied",
                pod: pod(
                    &[("foo", "bar")],
                    Some(required(vec![exprs(vec![req("foo", Exists, &[])])])),
                ),
                labels: foo_bar,
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with an Affinity matches node's labels but the
            // PodSpec.NodeSelector(the old thing that we are deprecating) is not satisfied,
            // won't schedule onto the node"
            FilterRow {
                name: "affinity satisfied, nodeSelector not",
                pod: pod(
                    &[("foo", "bar")],
                    Some(required(vec![exprs(vec![req("foo", Exists, &[])])])),
                ),
                labels: &[("foo", "barrrrrr")],
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with an invalid value in Affinity term won't be
            // scheduled onto the node"
            FilterRow {
                name: "invalid label value: the term matches nothing",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req(
                        "foo",
                        NotIn,
                        &["invalid value: ___@#$%^"],
                    )])])),
                ),
                labels: foo_bar,
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with matchFields using In operator that matches
            // the existing node"
            FilterRow {
                name: "matchFields In matches",
                pod: pod(&[], Some(required(vec![fields(vec![name_in("node1")])]))),
                node_name: "node1",
                want_node_names: Some(&["node1"]),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with matchFields using In operator that does not
            // match the existing node"
            FilterRow {
                name: "matchFields In does not match",
                pod: pod(&[], Some(required(vec![fields(vec![name_in("node1")])]))),
                node_name: "node2",
                want_node_names: Some(&["node1"]),
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with two terms: matchFields does not match, but
            // matchExpressions matches"
            FilterRow {
                name: "two terms: fields fail, expressions match",
                pod: pod(
                    &[],
                    Some(required(vec![
                        fields(vec![name_in("node1"), name_in("node2")]),
                        exprs(vec![req("foo", In, &["bar"])]),
                    ])),
                ),
                node_name: "node2",
                labels: foo_bar,
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with one term: matchFields does not match, but
            // matchExpressions matches"
            FilterRow {
                name: "one term: fields fail, expressions match",
                pod: pod(
                    &[],
                    Some(required(vec![NodeSelectorTerm {
                        match_expressions: vec![req("foo", In, &["bar"])],
                        match_fields: vec![name_in("node1")],
                    }])),
                ),
                node_name: "node2",
                labels: foo_bar,
                want_node_names: Some(&["node1"]),
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with one term: both matchFields and
            // matchExpressions match"
            FilterRow {
                name: "one term: fields and expressions match",
                pod: pod(
                    &[],
                    Some(required(vec![NodeSelectorTerm {
                        match_expressions: vec![req("foo", In, &["bar"])],
                        match_fields: vec![name_in("node1")],
                    }])),
                ),
                node_name: "node1",
                labels: foo_bar,
                want_node_names: Some(&["node1"]),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with two terms: both matchFields and
            // matchExpressions do not match"
            FilterRow {
                name: "two terms: neither matches",
                pod: pod(
                    &[],
                    Some(required(vec![
                        fields(vec![name_in("node1")]),
                        exprs(vec![req("foo", In, &["not-match-to-bar"])]),
                    ])),
                ),
                node_name: "node2",
                labels: foo_bar,
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with two terms of node.Name affinity"
            FilterRow {
                name: "two terms of node names",
                pod: pod(
                    &[],
                    Some(required(vec![
                        fields(vec![name_in("node1")]),
                        fields(vec![name_in("node2")]),
                    ])),
                ),
                node_name: "node2",
                want_node_names: Some(&["node1", "node2"]),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Pod with two conflicting mach field requirements";
            // upstream returns no PreFilterResult with the conflict, which
            // `required_node_names` reports as the empty set behind it.
            FilterRow {
                name: "conflicting node names",
                pod: pod(
                    &[],
                    Some(required(vec![fields(vec![
                        name_in("node1"),
                        name_in("node2"),
                    ])])),
                ),
                node_name: "node2",
                labels: foo_bar,
                want_pre_filter: Status::unresolvable(NodeAffinity::REASON_CONFLICT),
                want_node_names: Some(&[]),
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Matches added affinity and Pod's node affinity"
            FilterRow {
                name: "matches added and own affinity",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req("zone", In, &["foo"])])])),
                ),
                node_name: "node2",
                labels: &[("zone", "foo")],
                added: Some(required(vec![fields(vec![name_in("node2")])])),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Matches added affinity but not Pod's node affinity"
            FilterRow {
                name: "matches added affinity only",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![req("zone", In, &["bar"])])])),
                ),
                node_name: "node2",
                labels: &[("zone", "foo")],
                added: Some(required(vec![fields(vec![name_in("node2")])])),
                want: fail(),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Doesn't match added affinity"
            FilterRow {
                name: "does not match added affinity",
                node_name: "node2",
                labels: &[("zone", "foo")],
                added: Some(required(vec![exprs(vec![req("zone", In, &["bar"])])])),
                want: Status::unresolvable(NodeAffinity::REASON_ENFORCED),
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Matches node selector correctly even if PreFilter is
            // not called"
            FilterRow {
                name: "nodeSelector without PreFilter",
                pod: pod(&[("foo", "bar")], None),
                labels: &[("foo", "bar"), ("baz", "blah")],
                run_pre_filter: false,
                ..Default::default()
            },
            // mirrors TestNodeAffinity "Matches node affinity correctly even if PreFilter is
            // not called"
            FilterRow {
                name: "node affinity without PreFilter",
                pod: pod(
                    &[],
                    Some(required(vec![exprs(vec![
                        req("GPU", Exists, &[]),
                        req("GPU", NotIn, &["AMD", "INTER"]),
                    ])])),
                ),
                labels: &[("GPU", "NVIDIA-GRID-K1")],
                run_pre_filter: false,
                ..Default::default()
            },
        ];
        for row in rows {
            let name = row.name;
            let mut c = cluster(vec![node(row.node_name, row.labels, vec![])]);
            let pod_id = add_pod(&mut c, row.pod);
            let pod = c.pod(pod_id).unwrap();
            let mut plugin = match row.added {
                None => NodeAffinity::default(),
                Some(added) => NodeAffinity::with_added_affinity(added).unwrap(),
            };
            if row.run_pre_filter {
                assert_eq!(
                    plugin.pre_filter(pod, &c),
                    row.want_pre_filter,
                    "{name}: PreFilter"
                );
                let names =
                    required_node_names(&pod.template).map(|s| s.into_iter().collect::<Vec<_>>());
                assert_eq!(names.as_deref(), row.want_node_names, "{name}: node names");
            }
            assert_eq!(
                plugin.filter(pod, &c, NodeId(0)),
                row.want,
                "{name}: Filter"
            );
        }
    }

    /// Mirrors TestNodeAffinityPriority (node_affinity_test.go): PreScore (when the row
    /// runs it), Score on every node, NormalizeScore, and the final scores per node.
    #[test]
    fn score_follows_upstream() {
        const LABEL1: &[(&str, &str)] = &[("foo", "bar")];
        const LABEL2: &[(&str, &str)] = &[("key", "value")];
        const LABEL3: &[(&str, &str)] = &[("az", "az1")];
        const LABEL4: &[(&str, &str)] = &[("abc", "az11"), ("def", "az22")];
        const LABEL5: &[(&str, &str)] = &[("foo", "bar"), ("key", "value"), ("az", "az1")];
        let affinity1 = || preferred(vec![(2, exprs(vec![req("foo", In, &["bar"])]))]);
        let affinity2 = || {
            preferred(vec![
                (2, exprs(vec![req("foo", In, &["bar"])])),
                (4, exprs(vec![req("key", In, &["value"])])),
                (
                    5,
                    exprs(vec![
                        req("foo", In, &["bar"]),
                        req("key", In, &["value"]),
                        req("az", In, &["az1"]),
                    ]),
                ),
            ])
        };
        struct Row {
            name: &'static str,
            affinity: Option<labels::NodeAffinity>,
            nodes: Vec<(&'static str, &'static [(&'static str, &'static str)])>,
            added: Option<labels::NodeAffinity>,
            run_pre_score: bool,
            want: Result<Vec<i64>, Code>,
        }
        let rows = vec![
            // mirrors TestNodeAffinityPriority "all nodes are same priority as NodeAffinity
            // is nil" (Score without PreScore)
            Row {
                name: "no affinity, no PreScore",
                affinity: None,
                nodes: vec![("node1", LABEL1), ("node2", LABEL2), ("node3", LABEL3)],
                added: None,
                run_pre_score: false,
                want: Ok(vec![0, 0, 0]),
            },
            // mirrors TestNodeAffinityPriority "Skip is returned in PreScore when
            // NodeAffinity is nil"
            Row {
                name: "no affinity: PreScore skips",
                affinity: None,
                nodes: vec![("node1", LABEL1)],
                added: None,
                run_pre_score: true,
                want: Err(Code::Skip),
            },
            // mirrors TestNodeAffinityPriority "PreScore returns error when an incoming Pod
            // has a broken affinity" (the code only: the message is not upstream's
            // field-error text)
            Row {
                name: "broken preferred term: PreScore errs",
                affinity: Some(preferred(vec![(
                    2,
                    exprs(vec![req("invalid key", In, &["bar"])]),
                )])),
                nodes: vec![("node1", LABEL1)],
                added: None,
                run_pre_score: true,
                want: Err(Code::Error),
            },
            // mirrors TestNodeAffinityPriority "no node matches preferred scheduling
            // requirements in NodeAffinity of pod so all nodes' priority is zero"
            Row {
                name: "no node matches",
                affinity: Some(affinity1()),
                nodes: vec![("node1", LABEL4), ("node2", LABEL2), ("node3", LABEL3)],
                added: None,
                run_pre_score: true,
                want: Ok(vec![0, 0, 0]),
            },
            // mirrors TestNodeAffinityPriority "only node1 matches the preferred scheduling
            // requirements of pod"
            Row {
                name: "only node1 matches",
                affinity: Some(affinity1()),
                nodes: vec![("node1", LABEL1), ("node2", LABEL2), ("node3", LABEL3)],
                added: None,
                run_pre_score: true,
                want: Ok(vec![MAX_NODE_SCORE, 0, 0]),
            },
            // mirrors TestNodeAffinityPriority "all nodes matches the preferred scheduling
            // requirements of pod but with different priorities "
            Row {
                name: "different priorities",
                affinity: Some(affinity2()),
                nodes: vec![("node1", LABEL1), ("node5", LABEL5), ("node2", LABEL2)],
                added: None,
                run_pre_score: true,
                want: Ok(vec![18, MAX_NODE_SCORE, 36]),
            },
            // mirrors TestNodeAffinityPriority "added affinity"
            Row {
                name: "added affinity",
                affinity: None,
                nodes: vec![("node1", LABEL1), ("node2", LABEL2)],
                added: Some(affinity1()),
                run_pre_score: true,
                want: Ok(vec![MAX_NODE_SCORE, 0]),
            },
            // mirrors TestNodeAffinityPriority "added affinity and pod has default affinity"
            Row {
                name: "added affinity and the pod's own",
                affinity: Some(affinity1()),
                nodes: vec![("node1", LABEL1), ("node2", LABEL2), ("node3", LABEL5)],
                added: Some(preferred(vec![(
                    3,
                    exprs(vec![req("key", In, &["value"])]),
                )])),
                run_pre_score: true,
                want: Ok(vec![40, 60, MAX_NODE_SCORE]),
            },
            // mirrors TestNodeAffinityPriority "calculate the priorities correctly even if
            // PreScore is not called" (upstream's row does run PreScore despite its name;
            // this one does not, which is what the name asks for, with the same scores)
            Row {
                name: "different priorities without PreScore",
                affinity: Some(affinity2()),
                nodes: vec![("node1", LABEL1), ("node5", LABEL5), ("node2", LABEL2)],
                added: None,
                run_pre_score: false,
                want: Ok(vec![18, MAX_NODE_SCORE, 36]),
            },
        ];
        for row in rows {
            let mut c = cluster(
                row.nodes
                    .iter()
                    .map(|&(name, labels)| node(name, labels, vec![]))
                    .collect(),
            );
            let pod_id = add_pod(&mut c, pod(&[], row.affinity));
            let mut plugin = match row.added {
                None => NodeAffinity::default(),
                Some(added) => NodeAffinity::with_added_affinity(added).unwrap(),
            };
            let got = normalized_scores(&mut plugin, &c, pod_id, row.run_pre_score)
                .map_err(|status| status.code);
            assert_eq!(got, row.want, "{}", row.name);
        }
    }

    /// Label syntax as upstream's parser checks it: a term with a bad key or value, or
    /// the wrong number of values for its operator, never matches, while the pod's other
    /// terms still do.
    #[test]
    fn unparsable_terms_match_nothing() {
        let bad = [
            req("invalid key", Exists, &[]),
            req("example.com/", Exists, &[]),
            req("Example.com/zone", Exists, &[]),
            req("a/b/c", Exists, &[]),
            req(&"k".repeat(64), Exists, &[]),
            req("zone", In, &[]),
            req("zone", Exists, &["a"]),
            req("zone", DoesNotExist, &["a"]),
            req("cores", Gt, &["4", "5"]),
            req("cores", Gt, &["four"]),
            // Parses as an integer but is no label value.
            req("cores", Gt, &["-1"]),
            req("zone", NotIn, &["-a"]),
            req("zone", NotIn, &[&"v".repeat(64)]),
        ];
        for r in bad {
            assert!(check_expression(&r).is_err(), "{r:?} should not parse");
        }
        let good = [
            req("topology.kubernetes.io/zone", In, &["us-east-1a"]),
            req("zone", NotIn, &[""]),
            req("k_8.s-x", Exists, &[]),
            req("cores", Lt, &["016"]),
            req(&"k".repeat(63), In, &[&"v".repeat(63)]),
        ];
        for r in good {
            assert!(check_expression(&r).is_ok(), "{r:?} should parse");
        }
        let two_names = fields(vec![req(NAME_FIELD, In, &["n1", "n2"])]);
        assert!(
            check_term(&two_names).is_err(),
            "matchFields takes one value"
        );
        let exists_field = fields(vec![req(NAME_FIELD, Exists, &[])]);
        assert!(
            check_term(&exists_field).is_err(),
            "matchFields takes In or NotIn"
        );

        // An unparsable term beside one that matches: the node is admitted.
        let mut c = cluster(vec![node("n1", &[("zone", "a")], vec![])]);
        let p = add_pod(
            &mut c,
            pod(
                &[],
                Some(required(vec![
                    two_names,
                    exprs(vec![req("zone", In, &["a"])]),
                ])),
            ),
        );
        let mut plugin = NodeAffinity::default();
        let pod = c.pod(p).unwrap();
        assert!(plugin.pre_filter(pod, &c).is_success());
        assert!(plugin.filter(pod, &c, NodeId(0)).is_success());
    }

    /// kube-scheduler refuses to start with an `addedAffinity` term it cannot parse.
    #[test]
    fn invalid_added_affinity_is_refused() {
        let bad = required(vec![exprs(vec![req("zone", In, &[])])]);
        assert!(NodeAffinity::with_added_affinity(bad).is_err());
        let bad = preferred(vec![(1, exprs(vec![req("bad key", Exists, &[])]))]);
        assert!(NodeAffinity::with_added_affinity(bad).is_err());
        // Weight 0 and empty terms are dropped before parsing.
        let ignored = preferred(vec![(0, exprs(vec![req("bad key", Exists, &[])]))]);
        assert!(NodeAffinity::with_added_affinity(ignored).is_ok());
    }

    /// The whole default profile on four nodes: one rejected by TaintToleration, one by
    /// NodeAffinity, and two feasible ones that the two plugins' scores tell apart. The
    /// nodes are identical in resources and empty, so the resource plugins give both
    /// feasible nodes the same score whatever their implementation.
    #[test]
    fn kube_default_profile_end_to_end() {
        let taint = |key: &str, value: &str, effect| Taint {
            key: key.into(),
            value: value.into(),
            effect,
        };
        let mut c = cluster(vec![
            node(
                "tainted",
                &[("disk", "ssd"), ("zone", "a")],
                vec![taint("dedicated", "gpu", TaintEffect::NoSchedule)],
            ),
            node("hdd", &[("disk", "hdd"), ("zone", "a")], vec![]),
            node(
                "ssd-a",
                &[("disk", "ssd"), ("zone", "a")],
                vec![taint("soft", "", TaintEffect::PreferNoSchedule)],
            ),
            node("ssd-b", &[("disk", "ssd"), ("zone", "b")], vec![]),
        ]);
        let affinity = labels::NodeAffinity {
            required: Some(vec![exprs(vec![req("disk", In, &["ssd"])])]),
            preferred: vec![
                PreferredTerm {
                    weight: 3,
                    preference: exprs(vec![req("zone", In, &["a"])]),
                },
                PreferredTerm {
                    weight: 1,
                    preference: exprs(vec![req("disk", In, &["ssd"])]),
                },
            ],
        };
        let p = add_pod(&mut c, pod(&[], Some(affinity)));
        let mut scheduler = FrameworkScheduler::new(Profile::kube_default());
        let mut rng = SchedulerRng::seed_from_u64(7);
        let e = scheduler.explain(&c, p, &mut rng);

        // ssd-a: NodeAffinity raw 3 + 1 = 4 → 100, TaintToleration raw 1 → 0:
        //   2 * 100 + 3 * 0 = 200.
        // ssd-b: NodeAffinity raw 1 → 100 * 1 / 4 = 25, TaintToleration raw 0 → 100:
        //   2 * 25 + 3 * 100 = 350.
        assert_eq!(e.selected, Some(NodeId(3)));
        assert_eq!(e.diagnosis, None);
        let verdict = |n: u32| e.nodes.iter().find(|v| v.node == NodeId(n)).unwrap();
        for (n, plugin, reason) in [
            (0, TaintToleration::NAME, TaintToleration::REASON),
            (1, NodeAffinity::NAME, NodeAffinity::REASON),
        ] {
            let v = verdict(n);
            assert!(v.evaluated && !v.feasible, "node {n}");
            assert_eq!(v.failed_plugin, Some(plugin), "node {n}");
            assert_eq!(v.reasons, vec![reason.to_string()], "node {n}");
            assert!(v.scores.is_empty(), "node {n} is not scored");
        }
        let score = |n: u32, plugin: &str| {
            let s = verdict(n).scores.iter().find(|s| s.plugin == plugin);
            s.map(|s| (s.raw, s.normalized, s.weight))
        };
        assert_eq!(score(2, TaintToleration::NAME), Some((1, 0, 3)));
        assert_eq!(score(3, TaintToleration::NAME), Some((0, 100, 3)));
        assert_eq!(score(2, NodeAffinity::NAME), Some((4, 100, 2)));
        assert_eq!(score(3, NodeAffinity::NAME), Some((1, 25, 2)));
        let (a, b) = (verdict(2), verdict(3));
        assert!(a.feasible && b.feasible);
        // The other scorers (resources) see two identical empty nodes.
        for s in &a.scores {
            if s.plugin != TaintToleration::NAME && s.plugin != NodeAffinity::NAME {
                let other = b.scores.iter().find(|o| o.plugin == s.plugin).unwrap();
                assert_eq!(s, other, "{} scores both feasible nodes alike", s.plugin);
            }
        }
        assert_eq!(b.total - a.total, 350 - 200);

        // The real attempt binds where explain said.
        let mut decisions = Vec::new();
        scheduler.schedule(&mut Cycle::new(&mut c, &[p], &mut rng, &mut decisions));
        assert_eq!(
            decisions,
            vec![Decision::Bound {
                pod: p,
                node: NodeId(3)
            }]
        );

        // A pod no node admits: each node counts under the first filter that rejects it.
        let nowhere = add_pod(&mut c, pod(&[("disk", "nvme")], None));
        let e = scheduler.explain(&c, nowhere, &mut rng);
        assert_eq!(e.selected, None);
        assert_eq!(
            e.diagnosis.unwrap().to_string(),
            "0/4 nodes are available: 1 node(s) had untolerated taint(s), \
             3 node(s) didn't match Pod's node affinity/selector."
        );
    }
}
