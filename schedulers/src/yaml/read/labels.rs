//! Labels and label selectors.

use crate::field_path;
use crate::labels::{Labels, SelectorOperator, SelectorRequirement};
use crate::pod_affinity::LabelSelector;

use super::super::kube::{RawLabelSelector, RawRequirement};
use super::super::message::{did_you_mean, one_of, quoted};
use super::super::names::{label_value_error, qualified_name_error};
use super::super::scalar::LabelMap;
use super::super::{Location, Spanned};
use super::{Reader, Result};

/// The operators of a label selector; `Gt` and `Lt` exist only in node selectors.
const LABEL_SELECTOR_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist"];

impl Reader<'_> {
    /// A label map (`labels`, `nodeSelector`): keys must not be empty.
    pub fn labels(&self, map: Option<&LabelMap>, base: &str) -> Result<Labels> {
        let mut labels = Labels::default();
        for (key, value) in map.map(|m| m.0.as_slice()).unwrap_or_default() {
            let field = field_path::key(base, &key.value);
            let key = self.non_empty(key, &field, "a label key")?;
            labels.insert(key, value.value.clone());
        }
        Ok(labels)
    }

    /// A label key: a Kubernetes qualified name such as `app` or `topology.kubernetes.io/zone`.
    pub fn label_key(&self, v: &Spanned<String>, field: &str) -> Result<String> {
        match qualified_name_error(&v.value) {
            None => Ok(v.value.clone()),
            Some(why) => Err(self.err(
                &v.referenced,
                field,
                format!("invalid label key {}: {why}", quoted(&v.value)),
            )),
        }
    }

    /// A label value in a selector: empty, or up to 63 letters, digits, `-`, `_` and `.`.
    pub fn label_value(&self, v: &Spanned<String>, field: &str) -> Result<String> {
        match label_value_error(&v.value) {
            None => Ok(v.value.clone()),
            Some(why) => Err(self.err(
                &v.referenced,
                field,
                format!("invalid label value {}: {why}", quoted(&v.value)),
            )),
        }
    }

    /// A label selector over pods or namespaces, checked as the API server does: valid keys
    /// and values, and only the operators `In`, `NotIn`, `Exists` and `DoesNotExist`.
    pub fn label_selector(&self, s: &RawLabelSelector, base: &str) -> Result<LabelSelector> {
        let mut selector = LabelSelector::default();
        let labels_base = format!("{base}.matchLabels");
        for (key, value) in s.match_labels.iter().flat_map(|m| &m.0) {
            let field = field_path::key(&labels_base, &key.value);
            let key = self.label_key(key, &field)?;
            let value = self.label_value(value, &field)?;
            selector.match_labels.insert(key, value);
        }
        for (i, r) in s.match_expressions.iter().flatten().enumerate() {
            selector
                .match_expressions
                .push(self.label_requirement(r, &format!("{base}.matchExpressions[{i}]"))?);
        }
        Ok(selector)
    }

    /// One `matchExpressions` item of a label selector.
    fn label_requirement(
        &self,
        r: &Spanned<RawRequirement>,
        base: &str,
    ) -> Result<SelectorRequirement> {
        let raw = &r.value;
        let key = self.label_key(&raw.key, &format!("{base}.key"))?;
        let op = raw.operator.value.as_str();
        let operator = match SelectorOperator::parse(op) {
            Some(
                o @ (SelectorOperator::In
                | SelectorOperator::NotIn
                | SelectorOperator::Exists
                | SelectorOperator::DoesNotExist),
            ) => o,
            parsed => {
                let what = if parsed.is_some() {
                    format!("operator {op} only applies to node selectors")
                } else {
                    format!(
                        "unknown selector operator {op:?}{}",
                        did_you_mean(op, LABEL_SELECTOR_OPERATORS)
                    )
                };
                return Err(self.err(
                    &raw.operator.referenced,
                    &format!("{base}.operator"),
                    format!(
                        "{what}; a label selector takes {}",
                        one_of(LABEL_SELECTOR_OPERATORS)
                    ),
                ));
            }
        };
        let values = raw
            .values
            .as_ref()
            .map(|v| v.value.as_slice())
            .unwrap_or_default();
        let values_at = raw.values.as_ref().map_or(&r.referenced, |v| &v.referenced);
        let values_field = format!("{base}.values");
        self.check_value_count(operator, values.len(), values_at, &values_field, op)?;
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            out.push(self.label_value(v, &format!("{values_field}[{i}]"))?);
        }
        Ok(SelectorRequirement {
            key,
            operator,
            values: out,
        })
    }

    /// The value count rules shared by node and label selector requirements: `In` and
    /// `NotIn` need values, `Exists` and `DoesNotExist` take none.
    pub(super) fn check_value_count(
        &self,
        operator: SelectorOperator,
        count: usize,
        at: &Location,
        field: &str,
        op: &str,
    ) -> Result<()> {
        match operator {
            SelectorOperator::In | SelectorOperator::NotIn if count == 0 => {
                Err(self.err(at, field, format!("operator {op} needs at least one value")))
            }
            SelectorOperator::Exists | SelectorOperator::DoesNotExist if count != 0 => {
                Err(self.err(at, field, format!("operator {op} takes no values")))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_error, reader, value};
    use super::*;

    fn selector(text: &str) -> Result<LabelSelector> {
        reader().label_selector(&value::<RawLabelSelector>(text).value, "s")
    }

    #[test]
    fn a_selector_reads_labels_and_expressions() {
        let s = selector(
            "{matchLabels: {app: web, k8s.io/tier: \"\"}, matchExpressions: [{key: env, operator: NotIn, values: [dev, test]}, {key: x, operator: Exists}]}",
        )
        .unwrap();
        let mut want = LabelSelector::default();
        want.match_labels.insert("app".into(), "web".into());
        want.match_labels
            .insert("k8s.io/tier".into(), String::new());
        want.match_expressions = vec![
            SelectorRequirement {
                key: "env".into(),
                operator: SelectorOperator::NotIn,
                values: vec!["dev".into(), "test".into()],
            },
            SelectorRequirement {
                key: "x".into(),
                operator: SelectorOperator::Exists,
                values: vec![],
            },
        ];
        assert_eq!(s, want);
    }

    #[test]
    fn selector_errors_are_located() {
        let e = selector("{matchLabels: {-app: web}}").unwrap_err();
        assert_error(
            &e,
            1,
            16,
            "s.matchLabels.-app",
            "invalid label key \"-app\": the name part must consist of letters, digits, `-`, `_` and `.`, and start and end with a letter or digit",
        );
        let e =
            selector("{matchExpressions: [{key: a, operator: Gt, values: [\"1\"]}]}").unwrap_err();
        assert_error(
            &e,
            1,
            40,
            "s.matchExpressions[0].operator",
            "operator Gt only applies to node selectors; a label selector takes In, NotIn, Exists or DoesNotExist",
        );
        let e = selector("{matchExpressions: [{key: a, operator: Exist}]}").unwrap_err();
        assert!(
            e.message
                .starts_with("unknown selector operator \"Exist\" (did you mean Exists?)"),
            "{e}"
        );
        let e = selector("{matchExpressions: [{key: a, operator: In}]}").unwrap_err();
        assert_error(
            &e,
            1,
            21,
            "s.matchExpressions[0].values",
            "operator In needs at least one value",
        );
        let e =
            selector("{matchExpressions: [{key: a, operator: Exists, values: [b]}]}").unwrap_err();
        assert_error(
            &e,
            1,
            56,
            "s.matchExpressions[0].values",
            "operator Exists takes no values",
        );
        let e =
            selector("{matchExpressions: [{key: a, operator: In, values: [b c]}]}").unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("s.matchExpressions[0].values[0]"),
            "{e}"
        );
    }

    #[test]
    fn label_maps_need_keys() {
        let r = reader();
        let map = value::<LabelMap>("{a: \"1\", b: ''}");
        let labels = r.labels(Some(&map.value), "labels").unwrap();
        assert_eq!(labels.get("a"), Some("1"));
        assert_eq!(labels.get("b"), Some(""));
        let map = value::<LabelMap>("{'': x}");
        let e = r.labels(Some(&map.value), "labels").unwrap_err();
        assert_error(
            &e,
            1,
            2,
            "labels[\"\"]",
            "expected a label key, got an empty string",
        );
    }
}
