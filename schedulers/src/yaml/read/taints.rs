//! Taints and tolerations.

use crate::taints::{Taint, TaintEffect, Toleration, TolerationOperator};

use super::super::Spanned;
use super::super::kube::{RawTaint, RawToleration};
use super::{Reader, Result};

impl Reader<'_> {
    /// A taint effect, which Kubernetes spells in CamelCase.
    fn taint_effect(&self, v: &Spanned<String>, field: &str) -> Result<TaintEffect> {
        self.spelled::<TaintEffect>(v, field, "taint effect")
    }

    /// A node's `taints`; `base` is the node's path.
    pub fn taints(&self, taints: Option<&[Spanned<RawTaint>]>, base: &str) -> Result<Vec<Taint>> {
        let mut out = Vec::new();
        for (i, t) in taints.unwrap_or_default().iter().enumerate() {
            let t_base = format!("{base}.taints[{i}]");
            let t = &t.value;
            out.push(Taint {
                key: self.non_empty(&t.key, &format!("{t_base}.key"), "a taint key")?,
                value: t.value.clone().unwrap_or_default(),
                effect: self.taint_effect(&t.effect, &format!("{t_base}.effect"))?,
            });
        }
        Ok(out)
    }

    /// A pod toleration, with Kubernetes' validation rules.
    pub fn toleration(&self, t: &Spanned<RawToleration>, base: &str) -> Result<Toleration> {
        let raw = &t.value;
        let operator = match &raw.operator {
            None => TolerationOperator::Equal,
            Some(op) => self.spelled::<TolerationOperator>(
                op,
                &format!("{base}.operator"),
                "toleration operator",
            )?,
        };
        let key = raw
            .key
            .as_ref()
            .map(|k| k.value.clone())
            .unwrap_or_default();
        if key.is_empty() && operator != TolerationOperator::Exists {
            let at = raw.key.as_ref().map_or(&t.referenced, |k| &k.referenced);
            return Err(self.err(
                at,
                &format!("{base}.key"),
                "a toleration without a key must have operator: Exists (it then tolerates every taint)",
            ));
        }
        let value = raw
            .value
            .as_ref()
            .map(|v| v.value.clone())
            .unwrap_or_default();
        if let Some(v) = &raw.value
            && operator == TolerationOperator::Exists
            && !v.value.is_empty()
        {
            return Err(self.err(
                &v.referenced,
                &format!("{base}.value"),
                "a toleration with operator: Exists takes no value",
            ));
        }
        let effect = match &raw.effect {
            // An empty effect tolerates every effect, as in Kubernetes.
            Some(e) if !e.value.is_empty() => {
                Some(self.taint_effect(e, &format!("{base}.effect"))?)
            }
            _ => None,
        };
        let toleration_seconds = match &raw.toleration_seconds {
            None => None,
            Some(secs) => {
                let field = format!("{base}.tolerationSeconds");
                if effect != Some(TaintEffect::NoExecute) {
                    return Err(self.err(
                        &secs.referenced,
                        &field,
                        "tolerationSeconds only applies to effect: NoExecute",
                    ));
                }
                let n = self.integer(
                    secs,
                    &field,
                    i64::MIN.into(),
                    i64::MAX.into(),
                    "an integer number of seconds",
                )?;
                Some(i64::try_from(n).unwrap_or(i64::MAX))
            }
        };
        Ok(Toleration {
            key,
            operator,
            value,
            effect,
            toleration_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_error, reader, value};
    use super::*;

    fn toleration(text: &str) -> Result<Toleration> {
        reader().toleration(&value(text), "t")
    }

    #[test]
    fn tolerations_are_read_with_kubernetes_defaults() {
        assert_eq!(
            toleration("{key: k, value: v, effect: NoSchedule}").unwrap(),
            Toleration {
                key: "k".into(),
                operator: TolerationOperator::Equal,
                value: "v".into(),
                effect: Some(TaintEffect::NoSchedule),
                toleration_seconds: None,
            }
        );
        assert_eq!(
            toleration("{operator: Exists, effect: NoExecute, tolerationSeconds: 30}").unwrap(),
            Toleration {
                key: String::new(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: Some(TaintEffect::NoExecute),
                toleration_seconds: Some(30),
            }
        );
        assert_eq!(toleration("{key: k, effect: ''}").unwrap().effect, None);
    }

    #[test]
    fn toleration_errors_are_located() {
        let e = toleration("{key: k, operator: Exist}").unwrap_err();
        assert_error(
            &e,
            1,
            20,
            "t.operator",
            "unknown toleration operator \"Exist\" (did you mean Exists?); expected Equal or Exists",
        );
        let e = toleration("{value: x}").unwrap_err();
        assert_error(
            &e,
            1,
            1,
            "t.key",
            "a toleration without a key must have operator: Exists (it then tolerates every taint)",
        );
        let e = toleration("{key: k, operator: Exists, value: v}").unwrap_err();
        assert_error(
            &e,
            1,
            35,
            "t.value",
            "a toleration with operator: Exists takes no value",
        );
        let e = toleration("{key: k, effect: NoSchedule, tolerationSeconds: 5}").unwrap_err();
        assert_error(
            &e,
            1,
            49,
            "t.tolerationSeconds",
            "tolerationSeconds only applies to effect: NoExecute",
        );
        let e = toleration("{key: k, effect: Never}").unwrap_err();
        assert_error(
            &e,
            1,
            18,
            "t.effect",
            "unknown taint effect \"Never\"; expected NoSchedule, PreferNoSchedule or NoExecute",
        );
    }

    #[test]
    fn taints() {
        let list = value::<Vec<Spanned<RawTaint>>>(
            "[{key: a, value: b, effect: NoSchedule}, {key: c, effect: NoExecute}]",
        );
        let got = reader().taints(Some(&list.value), "node").unwrap();
        assert_eq!(
            got,
            [
                Taint {
                    key: "a".into(),
                    value: "b".into(),
                    effect: TaintEffect::NoSchedule
                },
                Taint {
                    key: "c".into(),
                    value: String::new(),
                    effect: TaintEffect::NoExecute
                },
            ]
        );
        let list = value::<Vec<Spanned<RawTaint>>>("[{key: '', effect: NoSchedule}]");
        let e = reader().taints(Some(&list.value), "node").unwrap_err();
        assert_error(
            &e,
            1,
            8,
            "node.taints[0].key",
            "expected a taint key, got an empty string",
        );
    }
}
