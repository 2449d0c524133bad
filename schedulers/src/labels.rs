//! Labels and the selectors that match them (nodeSelector, node affinity).

use crate::kubernetes_enum;
use std::fmt;

/// A set of `key: value` labels, kept sorted by key so that lookups are binary searches
/// and iteration order never depends on insertion order.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// Builds a label set; a later duplicate key overrides an earlier one.
    pub fn new<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Labels {
        let mut labels = Labels::default();
        for (k, v) in pairs {
            labels.insert(k.into(), v.into());
        }
        labels
    }

    /// Sets one label.
    pub fn insert(&mut self, key: String, value: String) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    /// The value of a label, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| self.0[i].1.as_str())
    }

    /// True when no label is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The labels in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// True when every label of `selector` is set here with the same value (a nodeSelector).
    pub fn contains_all(&self, selector: &Labels) -> bool {
        selector.iter().all(|(k, v)| self.get(k) == Some(v))
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

kubernetes_enum! {
    /// The operator of a node selector requirement.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SelectorOperator {
        /// The label's value is one of the values.
        In => "In",
        /// The label is absent or its value is none of the values.
        NotIn => "NotIn",
        /// The label is set.
        Exists => "Exists",
        /// The label is not set.
        DoesNotExist => "DoesNotExist",
        /// The label's value, read as an integer, is greater than the single value.
        Gt => "Gt",
        /// The label's value, read as an integer, is less than the single value.
        Lt => "Lt",
    }
}

/// One requirement of a node selector term: `key operator values`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectorRequirement {
    /// The label key.
    pub key: String,
    /// How the label is compared.
    pub operator: SelectorOperator,
    /// The values compared against (one integer for Gt and Lt, none for Exists).
    pub values: Vec<String>,
}

impl SelectorRequirement {
    /// True when the labels satisfy this requirement, with Kubernetes' semantics.
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            SelectorOperator::In => value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            SelectorOperator::NotIn => !value.is_some_and(|v| self.values.iter().any(|x| x == v)),
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
            SelectorOperator::Gt | SelectorOperator::Lt => {
                let (Some(v), Some(bound)) = (value, self.values.first()) else {
                    return false;
                };
                let (Ok(v), Ok(bound)) = (v.parse::<i64>(), bound.parse::<i64>()) else {
                    return false;
                };
                if self.operator == SelectorOperator::Gt {
                    v > bound
                } else {
                    v < bound
                }
            }
        }
    }
}

/// A node selector term: requirements that must all hold (an empty term matches nothing,
/// as in Kubernetes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodeSelectorTerm {
    /// Requirements on node labels (`matchExpressions`).
    pub match_expressions: Vec<SelectorRequirement>,
    /// Requirements on node fields (`matchFields`); only `metadata.name` exists.
    pub match_fields: Vec<SelectorRequirement>,
}

impl NodeSelectorTerm {
    /// True when the node with these labels and this name satisfies the term.
    pub fn matches(&self, labels: &Labels, node_name: &str) -> bool {
        if self.match_expressions.is_empty() && self.match_fields.is_empty() {
            return false;
        }
        self.match_expressions.iter().all(|r| r.matches(labels))
            && self.match_fields.iter().all(|r| {
                r.key == "metadata.name" && r.matches(&Labels::new([("metadata.name", node_name)]))
            })
    }
}

/// A preferred scheduling term: a weight (1..=100) and the term it rewards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreferredTerm {
    /// How much a matching node gains.
    pub weight: i32,
    /// The term to match.
    pub preference: NodeSelectorTerm,
}

/// A pod's node affinity: required terms (ORed) and preferred weighted terms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodeAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; `None` means no
    /// requirement, `Some(vec![])` matches no node.
    pub required: Option<Vec<NodeSelectorTerm>>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred: Vec<PreferredTerm>,
}

impl NodeAffinity {
    /// True when the required terms admit this node.
    pub fn required_matches(&self, labels: &Labels, node_name: &str) -> bool {
        match &self.required {
            None => true,
            Some(terms) => terms.iter().any(|t| t.matches(labels, node_name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(key: &str, op: SelectorOperator, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement {
            key: key.into(),
            operator: op,
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn operators_follow_kubernetes() {
        use SelectorOperator::*;
        let l = Labels::new([("zone", "a"), ("cores", "8")]);
        let rows = [
            (req("zone", In, &["a", "b"]), true),
            (req("zone", In, &["b"]), false),
            (req("zone", NotIn, &["b"]), true),
            (req("missing", NotIn, &["b"]), true),
            (req("zone", Exists, &[]), true),
            (req("zone", DoesNotExist, &[]), false),
            (req("cores", Gt, &["4"]), true),
            (req("cores", Lt, &["4"]), false),
            (req("zone", Gt, &["4"]), false),
        ];
        for (r, want) in rows {
            assert_eq!(r.matches(&l), want, "{r:?}");
        }
    }

    #[test]
    fn terms_or_requirements_and() {
        use SelectorOperator::*;
        let l = Labels::new([("zone", "a"), ("disk", "ssd")]);
        let t1 = NodeSelectorTerm {
            match_expressions: vec![req("zone", In, &["a"]), req("disk", In, &["hdd"])],
            match_fields: vec![],
        };
        let t2 = NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![req("metadata.name", In, &["n1"])],
        };
        let aff = NodeAffinity {
            required: Some(vec![t1.clone(), t2]),
            preferred: vec![],
        };
        assert!(!t1.matches(&l, "n1"));
        assert!(aff.required_matches(&l, "n1"));
        assert!(!aff.required_matches(&l, "n2"));
        assert!(!NodeSelectorTerm::default().matches(&l, "n1"));
        assert!(
            !NodeAffinity {
                required: Some(vec![]),
                preferred: vec![]
            }
            .required_matches(&l, "n1")
        );
    }
}
