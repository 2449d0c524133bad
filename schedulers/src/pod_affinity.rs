//! What a pod says about other pods: label selectors, inter-pod affinity and
//! anti-affinity terms, and topology spread constraints, with Kubernetes' shapes.

use crate::kubernetes_enum;
use crate::labels::{Labels, SelectorOperator, SelectorRequirement};

/// A label selector over pods (`matchLabels` and `matchExpressions`, ANDed). An empty
/// selector matches every pod; an absent one (`None` where it is optional) matches none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    /// Labels that must be set to exactly these values.
    pub match_labels: Labels,
    /// Requirements (`In`, `NotIn`, `Exists`, `DoesNotExist`).
    pub match_expressions: Vec<SelectorRequirement>,
}

impl LabelSelector {
    /// True when the labels satisfy every part of the selector.
    pub fn matches(&self, labels: &Labels) -> bool {
        labels.contains_all(&self.match_labels)
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// A selector that requires `key` to have exactly `value`.
    pub fn equals(key: &str, value: &str) -> LabelSelector {
        LabelSelector {
            match_labels: Labels::default(),
            match_expressions: vec![SelectorRequirement {
                key: key.to_string(),
                operator: SelectorOperator::In,
                values: vec![value.to_string()],
            }],
        }
    }
}

/// One inter-pod (anti-)affinity term: pods matching `label_selector` in `namespaces`,
/// counted per domain of `topology_key`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PodAffinityTerm {
    /// Which pods the term is about; `None` matches no pod.
    pub label_selector: Option<LabelSelector>,
    /// Namespaces to look in; empty with no `namespace_selector` means the pod's own.
    pub namespaces: Vec<String>,
    /// Namespaces to look in by their labels; `Some(empty)` means every namespace.
    /// schedlab models a namespace's labels as `kubernetes.io/metadata.name: <name>` only.
    pub namespace_selector: Option<LabelSelector>,
    /// The node label whose values are the domains (`kubernetes.io/hostname`, a zone key).
    pub topology_key: String,
    /// Label keys whose values are taken from the incoming pod and added to the selector.
    pub match_label_keys: Vec<String>,
    /// Label keys whose values, taken from the incoming pod, must NOT match.
    pub mismatch_label_keys: Vec<String>,
}

/// A preferred term with its weight (1..=100).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WeightedPodAffinityTerm {
    /// How much a satisfying node gains (affinity) or loses (anti-affinity).
    pub weight: i32,
    /// The term.
    pub term: PodAffinityTerm,
}

/// `podAffinity` or `podAntiAffinity`: required and preferred terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PodAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    pub required: Vec<PodAffinityTerm>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred: Vec<WeightedPodAffinityTerm>,
}

kubernetes_enum! {
    /// What to do when a spread constraint cannot be satisfied.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub enum WhenUnsatisfiable {
        /// A hard constraint: filter out nodes that would break it.
        #[default]
        DoNotSchedule => "DoNotSchedule",
        /// A soft constraint: score nodes that keep the skew low higher.
        ScheduleAnyway => "ScheduleAnyway",
    }
}

kubernetes_enum! {
    /// Whether a spread constraint counts nodes the pod could not be placed on.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum InclusionPolicy {
        /// Only nodes that satisfy the pod's node affinity / tolerate its taints count.
        Honor => "Honor",
        /// Every node counts.
        Ignore => "Ignore",
    }
}

/// A `topologySpreadConstraints` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TopologySpreadConstraint {
    /// Largest allowed difference between a domain's matching pods and the global minimum.
    pub max_skew: i32,
    /// The node label whose values are the domains.
    pub topology_key: String,
    /// Hard or soft.
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// Which pods are counted; `None` counts none.
    pub label_selector: Option<LabelSelector>,
    /// Fewest eligible domains; fewer make the global minimum 0.
    pub min_domains: Option<i32>,
    /// `nodeAffinityPolicy` (default Honor).
    pub node_affinity_policy: InclusionPolicy,
    /// `nodeTaintsPolicy` (default Ignore).
    pub node_taints_policy: InclusionPolicy,
    /// Label keys whose values are taken from the incoming pod and added to the selector.
    pub match_label_keys: Vec<String>,
}

impl Default for TopologySpreadConstraint {
    fn default() -> Self {
        TopologySpreadConstraint {
            max_skew: 1,
            topology_key: String::new(),
            when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
            label_selector: None,
            min_domains: None,
            node_affinity_policy: InclusionPolicy::Honor,
            node_taints_policy: InclusionPolicy::Ignore,
            match_label_keys: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_like_kubernetes() {
        let pod = Labels::new([("app", "web"), ("tier", "front")]);
        assert!(
            LabelSelector::default().matches(&pod),
            "empty selector matches all"
        );
        assert!(LabelSelector::equals("app", "web").matches(&pod));
        assert!(!LabelSelector::equals("app", "db").matches(&pod));
        let both = LabelSelector {
            match_labels: Labels::new([("tier", "front")]),
            match_expressions: vec![SelectorRequirement {
                key: "app".into(),
                operator: SelectorOperator::NotIn,
                values: vec!["db".into()],
            }],
        };
        assert!(both.matches(&pod));
    }
}
