//! `podDisruptionBudgets:`, which steer preemption's choice of victims.

use schedulers::LabelSelector;
use schedulers::pdb::{Budget, PodDisruptionBudget};
use schedulers::yaml::message::quoted;
use serde_saphyr::Spanned;

use super::super::raw::RawPdb;
use super::{Builder, Result};

impl Builder<'_> {
    /// `podDisruptionBudgets:`: a name unique in its namespace, a selector, and exactly one
    /// of `minAvailable` and `maxUnavailable`, each a non-negative integer or a percentage.
    pub(super) fn pod_disruption_budgets(
        &self,
        list: &[Spanned<RawPdb>],
    ) -> Result<Vec<PodDisruptionBudget>> {
        let mut out: Vec<PodDisruptionBudget> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let base = format!("podDisruptionBudgets[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let (name, namespace) = self.kube.object_name(
                &raw.name,
                raw.namespace.as_ref(),
                &base,
                "PodDisruptionBudget",
            )?;
            if out
                .iter()
                .any(|p| p.name == name && p.namespace == namespace)
            {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!(
                        "duplicate PodDisruptionBudget {} in namespace {}",
                        quoted(&name),
                        quoted(&namespace)
                    ),
                ));
            }
            let selector = match &raw.selector {
                Some(s) => self
                    .kube
                    .label_selector(&s.value, &format!("{base}.selector"))?,
                // Upstream: a budget without a selector matches no pod.
                None => LabelSelector::default(),
            };
            let budget = match (&raw.min_available, &raw.max_unavailable) {
                (Some(v), None) => Budget::MinAvailable(
                    self.kube
                        .int_or_percent(v, &format!("{base}.minAvailable"))?,
                ),
                (None, Some(v)) => Budget::MaxUnavailable(
                    self.kube
                        .int_or_percent(v, &format!("{base}.maxUnavailable"))?,
                ),
                (Some(_), Some(v)) => {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.maxUnavailable"),
                        "minAvailable and maxUnavailable cannot both be set",
                    ));
                }
                (None, None) => {
                    return Err(self.kube.err(
                        &item.referenced,
                        &base,
                        "expected one of minAvailable or maxUnavailable",
                    ));
                }
            };
            out.push(PodDisruptionBudget {
                name,
                namespace,
                selector,
                budget,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use schedulers::pdb::IntOrPercent;

    use super::super::testing::{check_at, load};
    use super::*;

    #[test]
    fn budgets_are_read() {
        let s = load(
            "podDisruptionBudgets:
  - {name: web, selector: {matchLabels: {app: web}}, minAvailable: 50%}
  - {name: db, namespace: data, maxUnavailable: 1}
",
        );
        let mut selector = LabelSelector::default();
        selector.match_labels.insert("app".into(), "web".into());
        assert_eq!(
            s.pod_disruption_budgets,
            [
                PodDisruptionBudget {
                    name: "web".into(),
                    namespace: "default".into(),
                    selector,
                    budget: Budget::MinAvailable(IntOrPercent::Percent(50)),
                },
                PodDisruptionBudget {
                    name: "db".into(),
                    namespace: "data".into(),
                    selector: LabelSelector::default(),
                    budget: Budget::MaxUnavailable(IntOrPercent::Int(1)),
                },
            ]
        );
    }

    #[test]
    fn budget_errors_are_located() {
        check_at(
            "podDisruptionBudgets: [{name: a, minAvailable: 1, maxUnavailable: 1}]\n",
            "1}",
            "podDisruptionBudgets[0].maxUnavailable",
            "minAvailable and maxUnavailable cannot both be set",
        );
        check_at(
            "podDisruptionBudgets: [{name: a}]\n",
            "{name",
            "podDisruptionBudgets[0]",
            "expected one of minAvailable or maxUnavailable",
        );
        check_at(
            "podDisruptionBudgets: [{name: a, maxUnavailable: 1}, {name: a, maxUnavailable: 2}]\n",
            "a, maxUnavailable: 2",
            "podDisruptionBudgets[1].name",
            "duplicate PodDisruptionBudget \"a\" in namespace \"default\"",
        );
        check_at(
            "podDisruptionBudgets: [{name: a, minAvailable: 120%}]\n",
            "120%",
            "podDisruptionBudgets[0].minAvailable",
            "expected a percentage from 0% to 100%, got 120%",
        );
    }
}
