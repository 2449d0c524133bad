//! Node selectors and node affinity.

use crate::labels::{
    NodeAffinity, NodeSelectorTerm, PreferredTerm, SelectorOperator, SelectorRequirement,
};

use super::super::Spanned;
use super::super::kube::{RawNodeAffinity, RawNodeSelector, RawNodeSelectorTerm, RawRequirement};
use super::super::message::shown;
use super::{Reader, Result};

/// The operators of a node selector requirement.
/// The one node field `matchFields` may name.
const NODE_NAME_FIELD: &str = "metadata.name";

/// Which rules a node affinity is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAffinityRules {
    /// The API server's, for a pod or a PersistentVolume: `nodeSelectorTerms` required and
    /// not empty, keys not empty, value counts that suit the operator (one integer for
    /// `Gt` and `Lt`), `matchFields` with `In` or `NotIn` only, weights from 1 to 100.
    Pod,
    /// kube-scheduler's, for `NodeAffinityArgs.addedAffinity`: the plugin validates the
    /// terms when its arguments are (`NodeAffinity::with_added_affinity`, which names the
    /// field), so only what the model types need is read here: known operators,
    /// `metadata.name` in `matchFields`, and weights that are 32-bit integers.
    PluginArgs,
}

impl Reader<'_> {
    /// A node selector requirement; `fields` for `matchFields`, where only
    /// `metadata.name` exists.
    fn node_requirement(
        &self,
        r: &Spanned<RawRequirement>,
        base: &str,
        fields: bool,
        rules: NodeAffinityRules,
    ) -> Result<SelectorRequirement> {
        let raw = &r.value;
        let pod = rules == NodeAffinityRules::Pod;
        let key_field = format!("{base}.key");
        let key = if pod {
            self.non_empty(&raw.key, &key_field, "a label key")?
        } else {
            raw.key.value.clone()
        };
        if fields && key != NODE_NAME_FIELD {
            return Err(self.err(
                &raw.key.referenced,
                &key_field,
                format!("unknown node field {key:?}; matchFields supports only {NODE_NAME_FIELD}"),
            ));
        }
        let op_field = format!("{base}.operator");
        let operator =
            self.spelled::<SelectorOperator>(&raw.operator, &op_field, "selector operator")?;
        let values: Vec<String> = raw
            .values
            .as_ref()
            .map(|v| v.value.iter().map(|s| s.value.clone()).collect())
            .unwrap_or_default();
        if pod {
            if fields && !matches!(operator, SelectorOperator::In | SelectorOperator::NotIn) {
                return Err(self.err(
                    &raw.operator.referenced,
                    &op_field,
                    "matchFields supports only In and NotIn",
                ));
            }
            self.check_node_values(r, operator, values.len(), base)?;
        }
        Ok(SelectorRequirement {
            key,
            operator,
            values,
        })
    }

    /// The API server's value rules for a node selector requirement.
    fn check_node_values(
        &self,
        r: &Spanned<RawRequirement>,
        operator: SelectorOperator,
        count: usize,
        base: &str,
    ) -> Result<()> {
        let raw = &r.value;
        let values_at = raw.values.as_ref().map_or(&r.referenced, |v| &v.referenced);
        let values_field = format!("{base}.values");
        let op = &raw.operator.value;
        match operator {
            SelectorOperator::In
            | SelectorOperator::NotIn
            | SelectorOperator::Exists
            | SelectorOperator::DoesNotExist => {
                self.check_value_count(operator, count, values_at, &values_field, op)
            }
            SelectorOperator::Gt | SelectorOperator::Lt => {
                if count != 1 {
                    return Err(self.err(
                        values_at,
                        &values_field,
                        format!("operator {op} needs exactly one integer value, got {count}"),
                    ));
                }
                if let Some(v) = raw.values.as_ref().and_then(|v| v.value.first())
                    && v.value.parse::<i64>().is_err()
                {
                    return Err(self.err(
                        &v.referenced,
                        &format!("{values_field}[0]"),
                        format!(
                            "operator {op} compares integers: expected an integer, got {}",
                            shown(&v.value)
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// A node selector term.
    pub fn node_selector_term(
        &self,
        t: &RawNodeSelectorTerm,
        base: &str,
        rules: NodeAffinityRules,
    ) -> Result<NodeSelectorTerm> {
        let mut term = NodeSelectorTerm::default();
        for (i, r) in t.match_expressions.iter().flatten().enumerate() {
            let field = format!("{base}.matchExpressions[{i}]");
            term.match_expressions
                .push(self.node_requirement(r, &field, false, rules)?);
        }
        for (i, r) in t.match_fields.iter().flatten().enumerate() {
            let field = format!("{base}.matchFields[{i}]");
            term.match_fields
                .push(self.node_requirement(r, &field, true, rules)?);
        }
        Ok(term)
    }

    /// A node selector's terms; `base` is the selector's path.
    pub fn node_selector(
        &self,
        s: &Spanned<RawNodeSelector>,
        base: &str,
        rules: NodeAffinityRules,
    ) -> Result<Vec<NodeSelectorTerm>> {
        let field = format!("{base}.nodeSelectorTerms");
        let pod = rules == NodeAffinityRules::Pod;
        // Where and how serde would say it, had the field been a required list.
        let list = match &s.value.node_selector_terms {
            Some(Spanned {
                value: Some(list),
                referenced,
                ..
            }) => Spanned::new(list, *referenced, *referenced),
            None if pod => {
                return Err(self.err(
                    &s.referenced,
                    &field,
                    "missing required field `nodeSelectorTerms`",
                ));
            }
            Some(null) if pod => {
                return Err(self.err(
                    &null.referenced,
                    &field,
                    "expected a list, got nothing (an empty value)",
                ));
            }
            _ => return Ok(Vec::new()),
        };
        let mut terms = Vec::with_capacity(list.value.len());
        for (i, t) in list.value.iter().enumerate() {
            terms.push(self.node_selector_term(&t.value, &format!("{field}[{i}]"), rules)?);
        }
        if pod && terms.is_empty() {
            // An empty list would match no node at all.
            return Err(self.err(
                &list.referenced,
                &field,
                "expected at least one node selector term",
            ));
        }
        Ok(terms)
    }

    /// A node affinity (a pod's `affinity.nodeAffinity`, or kube-scheduler's
    /// `addedAffinity`, as `rules` says).
    pub fn node_affinity(
        &self,
        a: &RawNodeAffinity,
        base: &str,
        rules: NodeAffinityRules,
    ) -> Result<NodeAffinity> {
        let mut affinity = NodeAffinity::default();
        if let Some(required) = &a.required_during_scheduling_ignored_during_execution {
            let field = format!("{base}.requiredDuringSchedulingIgnoredDuringExecution");
            affinity.required = Some(self.node_selector(required, &field, rules)?);
        }
        let pref_base = format!("{base}.preferredDuringSchedulingIgnoredDuringExecution");
        for (i, p) in a
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            let item = format!("{pref_base}[{i}]");
            let weight_field = format!("{item}.weight");
            let weight = match rules {
                NodeAffinityRules::Pod => {
                    let w = self.integer(&p.value.weight, &weight_field, 1, 100, "an integer")?;
                    i32::try_from(w).unwrap_or(100)
                }
                NodeAffinityRules::PluginArgs => self.int32(&p.value.weight, &weight_field)?,
            };
            affinity.preferred.push(PreferredTerm {
                weight,
                preference: self.node_selector_term(
                    &p.value.preference.value,
                    &format!("{item}.preference"),
                    rules,
                )?,
            });
        }
        Ok(affinity)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_error, reader, value};
    use super::*;

    fn affinity(text: &str, rules: NodeAffinityRules) -> Result<NodeAffinity> {
        reader().node_affinity(&value::<RawNodeAffinity>(text).value, "a", rules)
    }

    fn requirement(key: &str, operator: SelectorOperator, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    const BOTH: &str = "
requiredDuringSchedulingIgnoredDuringExecution:
  nodeSelectorTerms:
  - matchExpressions: [{key: pool, operator: In, values: [a, b]}, {key: cores, operator: Gt, values: ['3']}]
    matchFields: [{key: metadata.name, operator: NotIn, values: [n1]}]
preferredDuringSchedulingIgnoredDuringExecution:
- weight: 7
  preference: {matchExpressions: [{key: zone, operator: Exists}]}
";

    #[test]
    fn required_and_preferred_terms_are_read() {
        let want = NodeAffinity {
            required: Some(vec![NodeSelectorTerm {
                match_expressions: vec![
                    requirement("pool", SelectorOperator::In, &["a", "b"]),
                    requirement("cores", SelectorOperator::Gt, &["3"]),
                ],
                match_fields: vec![requirement(
                    "metadata.name",
                    SelectorOperator::NotIn,
                    &["n1"],
                )],
            }]),
            preferred: vec![PreferredTerm {
                weight: 7,
                preference: NodeSelectorTerm {
                    match_expressions: vec![requirement("zone", SelectorOperator::Exists, &[])],
                    match_fields: vec![],
                },
            }],
        };
        assert_eq!(affinity(BOTH, NodeAffinityRules::Pod).unwrap(), want);
        assert_eq!(affinity(BOTH, NodeAffinityRules::PluginArgs).unwrap(), want);
    }

    #[test]
    fn pod_rules_are_the_api_servers() {
        let pod = |text: &str| affinity(text, NodeAffinityRules::Pod).unwrap_err();
        let e = pod("{requiredDuringSchedulingIgnoredDuringExecution: {}}");
        assert_error(
            &e,
            1,
            50,
            "a.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
            "missing required field `nodeSelectorTerms`",
        );
        let e = pod("{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: ~}}");
        assert_error(
            &e,
            1,
            70,
            "a.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
            "expected a list, got nothing (an empty value)",
        );
        let e = pod("{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}");
        assert_error(
            &e,
            1,
            70,
            "a.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
            "expected at least one node selector term",
        );
        let e =
            pod("{preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, preference: {}}]}");
        assert_error(
            &e,
            1,
            61,
            "a.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
            "expected an integer from 1 to 100, got 0",
        );
        let term = |expr: &str| {
            pod(&format!(
                "{{preferredDuringSchedulingIgnoredDuringExecution: [{{weight: 1, preference: {expr}}}]}}"
            ))
        };
        let base = "a.preferredDuringSchedulingIgnoredDuringExecution[0].preference";
        let e = term("{matchExpressions: [{key: k, operator: Lt, values: [big]}]}");
        assert_eq!(
            e.field.unwrap(),
            format!("{base}.matchExpressions[0].values[0]")
        );
        assert_eq!(
            e.message,
            "operator Lt compares integers: expected an integer, got big"
        );
        let e = term("{matchExpressions: [{key: k, operator: Gt, values: ['1', '2']}]}");
        assert_eq!(
            e.message,
            "operator Gt needs exactly one integer value, got 2"
        );
        let e = term("{matchFields: [{key: metadata.name, operator: Exists}]}");
        assert_eq!(e.field.unwrap(), format!("{base}.matchFields[0].operator"));
        assert_eq!(e.message, "matchFields supports only In and NotIn");
        let e = term("{matchExpressions: [{key: '', operator: Exists}]}");
        assert_eq!(e.message, "expected a label key, got an empty string");
    }

    #[test]
    fn plugin_args_rules_leave_the_terms_to_the_plugin() {
        let args = |text: &str| affinity(text, NodeAffinityRules::PluginArgs);
        for empty in ["{}", "{nodeSelectorTerms: ~}", "{nodeSelectorTerms: []}"] {
            let text = format!("{{requiredDuringSchedulingIgnoredDuringExecution: {empty}}}");
            assert_eq!(args(&text).unwrap().required, Some(vec![]), "{text}");
        }
        let got = args(
            "{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: In}]}]}, preferredDuringSchedulingIgnoredDuringExecution: [{weight: -5, preference: {}}]}",
        )
        .unwrap();
        assert_eq!(
            got.required.unwrap()[0].match_expressions[0].values,
            Vec::<String>::new()
        );
        assert_eq!(got.preferred[0].weight, -5);
        let e = args(
            "{preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1.5, preference: {}}]}",
        )
        .unwrap_err();
        assert_error(
            &e,
            1,
            61,
            "a.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
            "expected an integer (32 bits), got 1.5",
        );
        let e = args(
            "{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: metadata.labels, operator: Near}]}]}}",
        )
        .unwrap_err();
        assert_error(
            &e,
            1,
            92,
            "a.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key",
            "unknown node field \"metadata.labels\"; matchFields supports only metadata.name",
        );
        let e = args(
            "{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: a, operator: Near}]}]}}",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "unknown selector operator \"Near\"; expected In, NotIn, Exists, DoesNotExist, Gt or Lt"
        );
    }
}
