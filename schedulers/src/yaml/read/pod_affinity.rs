//! Inter-pod affinity and anti-affinity, and topology spread constraints: the rules that
//! count other pods by label.

use crate::pod_affinity::{
    InclusionPolicy, PodAffinity, PodAffinityTerm, TopologySpreadConstraint,
    WeightedPodAffinityTerm, WhenUnsatisfiable,
};

use super::super::kube::{
    RawLabelSelector, RawPodAffinity, RawPodAffinityTerm, RawTopologySpreadConstraint,
};
use super::super::message::{at_line, quoted};
use super::super::names::dns_label_error;
use super::super::{Location, Spanned};
use super::{Reader, Result};

/// Whether a label selector mentions `key`, in `matchLabels` or `matchExpressions`.
fn selector_has_key(s: &RawLabelSelector, key: &str) -> bool {
    s.match_labels
        .iter()
        .flat_map(|m| &m.0)
        .any(|(k, _)| k.value == key)
        || s.match_expressions
            .iter()
            .flatten()
            .any(|r| r.value.key.value == key)
}

impl Reader<'_> {
    /// The `topologyKey` of the term or constraint at `at`: required and not empty, and for
    /// pod affinity (`label_key`) a valid label key, which the API server checks there but
    /// not in spread constraints.
    fn topology_key(
        &self,
        v: Option<&Spanned<String>>,
        at: &Location,
        base: &str,
        label_key: bool,
    ) -> Result<String> {
        let field = format!("{base}.topologyKey");
        let Some(v) = v else {
            return Err(self.err(
                at,
                &field,
                "missing required field `topologyKey` (the node label whose values are the domains, such as topology.kubernetes.io/zone or kubernetes.io/hostname)",
            ));
        };
        if v.value.is_empty() {
            return Err(self.err(
                &v.referenced,
                &field,
                "expected a node label key such as topology.kubernetes.io/zone, got an empty string",
            ));
        }
        if label_key {
            self.label_key(v, &field)
        } else {
            Ok(v.value.clone())
        }
    }

    /// `matchLabelKeys` or `mismatchLabelKeys` (named by `key`): label keys whose values the
    /// incoming pod adds to `selector`. As the API server requires, they need a selector, and
    /// with `not_in_selector` (for `matchLabelKeys`) none may already be in the selector.
    fn label_keys(
        &self,
        list: Option<&Spanned<Vec<Spanned<String>>>>,
        key: &str,
        selector: Option<&Spanned<RawLabelSelector>>,
        not_in_selector: bool,
        base: &str,
    ) -> Result<Vec<String>> {
        let field = format!("{base}.{key}");
        let Some(list) = list.filter(|l| !l.value.is_empty()) else {
            return Ok(Vec::new());
        };
        let Some(selector) = selector else {
            return Err(self.err(
                &list.referenced,
                &field,
                format!("`{key}` needs a `labelSelector`, to which the incoming pod's values of these keys are added"),
            ));
        };
        let mut out = Vec::with_capacity(list.value.len());
        for (i, k) in list.value.iter().enumerate() {
            let item = format!("{field}[{i}]");
            let name = self.label_key(k, &item)?;
            if not_in_selector && selector_has_key(&selector.value, &name) {
                return Err(self.err(
                    &k.referenced,
                    &item,
                    format!("label key {name:?} is also in labelSelector; a key may be in `{key}` or in labelSelector, not both"),
                ));
            }
            out.push(name);
        }
        Ok(out)
    }

    /// An inter-pod (anti-)affinity term, checked as the API server does.
    fn pod_affinity_term(
        &self,
        t: &Spanned<RawPodAffinityTerm>,
        base: &str,
    ) -> Result<PodAffinityTerm> {
        let raw = &t.value;
        let label_selector = match &raw.label_selector {
            Some(s) => Some(self.label_selector(&s.value, &format!("{base}.labelSelector"))?),
            None => None,
        };
        let mut namespaces = Vec::new();
        for (i, ns) in raw.namespaces.iter().flatten().enumerate() {
            if let Some(why) = dns_label_error(&ns.value) {
                return Err(self.err(
                    &ns.referenced,
                    &format!("{base}.namespaces[{i}]"),
                    format!("invalid namespace name {}: {why}", quoted(&ns.value)),
                ));
            }
            namespaces.push(ns.value.clone());
        }
        let namespace_selector = match &raw.namespace_selector {
            Some(s) => Some(self.label_selector(&s.value, &format!("{base}.namespaceSelector"))?),
            None => None,
        };
        let topology_key =
            self.topology_key(raw.topology_key.as_ref(), &t.referenced, base, true)?;
        let selector = raw.label_selector.as_ref();
        let match_label_keys = self.label_keys(
            raw.match_label_keys.as_ref(),
            "matchLabelKeys",
            selector,
            true,
            base,
        )?;
        let mismatch_label_keys = self.label_keys(
            raw.mismatch_label_keys.as_ref(),
            "mismatchLabelKeys",
            selector,
            false,
            base,
        )?;
        // A key cannot select pods both with and without the incoming pod's value.
        for (i, key) in mismatch_label_keys.iter().enumerate() {
            if let Some(j) = match_label_keys.iter().position(|k| k == key)
                && let Some(at) = raw
                    .mismatch_label_keys
                    .as_ref()
                    .and_then(|l| l.value.get(i))
            {
                return Err(self.err(
                    &at.referenced,
                    &format!("{base}.mismatchLabelKeys[{i}]"),
                    format!("label key {key:?} is also in matchLabelKeys[{j}]; a key may be in matchLabelKeys or in mismatchLabelKeys, not both"),
                ));
            }
        }
        Ok(PodAffinityTerm {
            label_selector,
            namespaces,
            namespace_selector,
            topology_key,
            match_label_keys,
            mismatch_label_keys,
        })
    }

    /// A pod's `affinity.podAffinity` or `affinity.podAntiAffinity`.
    pub fn pod_affinity(&self, a: &RawPodAffinity, base: &str) -> Result<PodAffinity> {
        let mut affinity = PodAffinity::default();
        let req_base = format!("{base}.requiredDuringSchedulingIgnoredDuringExecution");
        for (i, t) in a
            .required_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            affinity
                .required
                .push(self.pod_affinity_term(t, &format!("{req_base}[{i}]"))?);
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
            let weight = self.integer(&p.value.weight, &weight_field, 1, 100, "an integer")?;
            affinity.preferred.push(WeightedPodAffinityTerm {
                weight: i32::try_from(weight).unwrap_or(100),
                term: self.pod_affinity_term(
                    &p.value.pod_affinity_term,
                    &format!("{item}.podAffinityTerm"),
                )?,
            });
        }
        Ok(affinity)
    }

    /// `nodeAffinityPolicy` or `nodeTaintsPolicy` of a spread constraint, `default` when absent.
    fn inclusion_policy(
        &self,
        v: Option<&Spanned<String>>,
        field: &str,
        default: InclusionPolicy,
    ) -> Result<InclusionPolicy> {
        let Some(v) = v else {
            return Ok(default);
        };
        self.spelled::<InclusionPolicy>(v, field, "policy")
    }

    /// A pod's `topologySpreadConstraints`, checked as the API server does; no two may share
    /// their `topologyKey` and `whenUnsatisfiable`.
    pub fn spread_constraints(
        &self,
        list: &[Spanned<RawTopologySpreadConstraint>],
        base: &str,
    ) -> Result<Vec<TopologySpreadConstraint>> {
        let mut out: Vec<TopologySpreadConstraint> = Vec::new();
        // Where each constraint of `out` is, for duplicate messages.
        let mut origins: Vec<String> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let c_base = format!("{base}[{i}]");
            let raw = &item.value;
            let skew_field = format!("{c_base}.maxSkew");
            let max_skew = match &raw.max_skew {
                Some(v) => {
                    let n = self.integer(v, &skew_field, 1, i32::MAX.into(), "an integer")?;
                    i32::try_from(n).unwrap_or(i32::MAX)
                }
                None => {
                    return Err(self.err(
                        &item.referenced,
                        &skew_field,
                        "missing required field `maxSkew` (how much the number of matching pods may differ between domains, at least 1)",
                    ));
                }
            };
            let topology_key =
                self.topology_key(raw.topology_key.as_ref(), &item.referenced, &c_base, false)?;
            let when_field = format!("{c_base}.whenUnsatisfiable");
            let when_unsatisfiable = match &raw.when_unsatisfiable {
                Some(v) => {
                    self.spelled::<WhenUnsatisfiable>(v, &when_field, "whenUnsatisfiable")?
                }
                None => {
                    return Err(self.err(
                        &item.referenced,
                        &when_field,
                        "missing required field `whenUnsatisfiable` (DoNotSchedule for a hard constraint, ScheduleAnyway for a soft one)",
                    ));
                }
            };
            let when = when_unsatisfiable.name();
            if let Some(j) = out.iter().position(|c| {
                c.topology_key == topology_key && c.when_unsatisfiable == when_unsatisfiable
            }) {
                let at = raw
                    .topology_key
                    .as_ref()
                    .map_or(&item.referenced, |k| &k.referenced);
                return Err(self.err(
                    at,
                    &format!("{c_base}.topologyKey"),
                    format!(
                        "{} already spreads over {topology_key} with whenUnsatisfiable: {when}; each pair of topologyKey and whenUnsatisfiable may appear only once",
                        origins[j]
                    ),
                ));
            }
            let min_domains = match &raw.min_domains {
                None => None,
                Some(v) => {
                    let field = format!("{c_base}.minDomains");
                    if when_unsatisfiable != WhenUnsatisfiable::DoNotSchedule {
                        return Err(self.err(
                            &v.referenced,
                            &field,
                            format!("minDomains only applies to whenUnsatisfiable: DoNotSchedule, not {when}"),
                        ));
                    }
                    let n = self.integer(v, &field, 1, i32::MAX.into(), "an integer")?;
                    Some(i32::try_from(n).unwrap_or(i32::MAX))
                }
            };
            let node_affinity_policy = self.inclusion_policy(
                raw.node_affinity_policy.as_ref(),
                &format!("{c_base}.nodeAffinityPolicy"),
                InclusionPolicy::Honor,
            )?;
            let node_taints_policy = self.inclusion_policy(
                raw.node_taints_policy.as_ref(),
                &format!("{c_base}.nodeTaintsPolicy"),
                InclusionPolicy::Ignore,
            )?;
            let label_selector = match &raw.label_selector {
                Some(s) => Some(self.label_selector(&s.value, &format!("{c_base}.labelSelector"))?),
                None => None,
            };
            let match_label_keys = self.label_keys(
                raw.match_label_keys.as_ref(),
                "matchLabelKeys",
                raw.label_selector.as_ref(),
                true,
                &c_base,
            )?;
            let key_at = raw
                .topology_key
                .as_ref()
                .map_or(&item.referenced, |k| &k.referenced);
            origins.push(format!("{c_base}{}", at_line(key_at)));
            out.push(TopologySpreadConstraint {
                max_skew,
                topology_key,
                when_unsatisfiable,
                label_selector,
                min_domains,
                node_affinity_policy,
                node_taints_policy,
                match_label_keys,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_error, reader, value};
    use super::*;
    use crate::labels::{SelectorOperator, SelectorRequirement};
    use crate::pod_affinity::LabelSelector;

    fn selector(key: &str, value: &str) -> LabelSelector {
        let mut s = LabelSelector::default();
        s.match_labels.insert(key.into(), value.into());
        s
    }

    fn affinity(text: &str) -> Result<PodAffinity> {
        reader().pod_affinity(&value::<RawPodAffinity>(text).value, "a")
    }

    fn spread(text: &str) -> Result<Vec<TopologySpreadConstraint>> {
        let list = value::<Vec<Spanned<RawTopologySpreadConstraint>>>(text);
        reader().spread_constraints(&list.value, "c")
    }

    #[test]
    fn pod_affinity_terms_are_read() {
        let got = affinity(
            "{requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: web}}, topologyKey: zone, namespaces: [a], matchLabelKeys: [tier]}], preferredDuringSchedulingIgnoredDuringExecution: [{weight: 10, podAffinityTerm: {namespaceSelector: {matchExpressions: [{key: team, operator: Exists}]}, topologyKey: kubernetes.io/hostname}}]}",
        )
        .unwrap();
        assert_eq!(
            got,
            PodAffinity {
                required: vec![PodAffinityTerm {
                    label_selector: Some(selector("app", "web")),
                    namespaces: vec!["a".into()],
                    namespace_selector: None,
                    topology_key: "zone".into(),
                    match_label_keys: vec!["tier".into()],
                    mismatch_label_keys: vec![],
                }],
                preferred: vec![WeightedPodAffinityTerm {
                    weight: 10,
                    term: PodAffinityTerm {
                        label_selector: None,
                        namespaces: vec![],
                        namespace_selector: Some(LabelSelector {
                            match_expressions: vec![SelectorRequirement {
                                key: "team".into(),
                                operator: SelectorOperator::Exists,
                                values: vec![],
                            }],
                            ..LabelSelector::default()
                        }),
                        topology_key: "kubernetes.io/hostname".into(),
                        match_label_keys: vec![],
                        mismatch_label_keys: vec![],
                    },
                }],
            }
        );
    }

    #[test]
    fn pod_affinity_errors_are_located() {
        let e = affinity("{requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {}}]}")
            .unwrap_err();
        assert_error(
            &e,
            1,
            51,
            "a.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
            "missing required field `topologyKey` (the node label whose values are the domains, such as topology.kubernetes.io/zone or kubernetes.io/hostname)",
        );
        let e = affinity(
            "{requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: z, matchLabelKeys: [app]}]}",
        )
        .unwrap_err();
        assert_error(
            &e,
            1,
            84,
            "a.requiredDuringSchedulingIgnoredDuringExecution[0].matchLabelKeys",
            "`matchLabelKeys` needs a `labelSelector`, to which the incoming pod's values of these keys are added",
        );
        let e = affinity(
            "{requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: z, labelSelector: {}, matchLabelKeys: [app], mismatchLabelKeys: [app]}]}",
        )
        .unwrap_err();
        assert_eq!(
            e.field.as_deref(),
            Some("a.requiredDuringSchedulingIgnoredDuringExecution[0].mismatchLabelKeys[0]")
        );
        let e = affinity("{requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: z, namespaces: [Team]}]}")
            .unwrap_err();
        assert!(
            e.message.starts_with("invalid namespace name \"Team\""),
            "{e}"
        );
        let e = affinity("{preferredDuringSchedulingIgnoredDuringExecution: [{weight: 101, podAffinityTerm: {topologyKey: z}}]}")
            .unwrap_err();
        assert_eq!(e.message, "expected an integer from 1 to 100, got 101");
    }

    #[test]
    fn spread_constraints_are_read_with_defaults() {
        let got = spread(
            "[{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, minDomains: 2, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [tier]}, {maxSkew: 3, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, nodeAffinityPolicy: Ignore, nodeTaintsPolicy: Honor}]",
        )
        .unwrap();
        assert_eq!(
            got,
            [
                TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: "zone".into(),
                    when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                    label_selector: Some(selector("app", "web")),
                    min_domains: Some(2),
                    node_affinity_policy: InclusionPolicy::Honor,
                    node_taints_policy: InclusionPolicy::Ignore,
                    match_label_keys: vec!["tier".into()],
                },
                TopologySpreadConstraint {
                    max_skew: 3,
                    topology_key: "zone".into(),
                    when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
                    label_selector: None,
                    min_domains: None,
                    node_affinity_policy: InclusionPolicy::Ignore,
                    node_taints_policy: InclusionPolicy::Honor,
                    match_label_keys: vec![],
                },
            ]
        );
    }

    #[test]
    fn spread_constraint_errors_are_located() {
        let e = spread("[{topologyKey: z, whenUnsatisfiable: DoNotSchedule}]").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.field.as_deref()),
            (Some(1), Some(2), Some("c[0].maxSkew"))
        );
        let e = spread("[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: Never}]").unwrap_err();
        assert_error(
            &e,
            1,
            50,
            "c[0].whenUnsatisfiable",
            "unknown whenUnsatisfiable \"Never\"; expected DoNotSchedule or ScheduleAnyway",
        );
        let e = spread(
            "[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule}, {maxSkew: 2, topologyKey: z, whenUnsatisfiable: DoNotSchedule}]",
        )
        .unwrap_err();
        assert_error(
            &e,
            1,
            92,
            "c[1].topologyKey",
            "c[0] (line 1) already spreads over z with whenUnsatisfiable: DoNotSchedule; each pair of topologyKey and whenUnsatisfiable may appear only once",
        );
        let e = spread(
            "[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: ScheduleAnyway, minDomains: 2}]",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "minDomains only applies to whenUnsatisfiable: DoNotSchedule, not ScheduleAnyway"
        );
        let e = spread("[{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: honor}]")
            .unwrap_err();
        assert_eq!(
            e.message,
            "unknown policy \"honor\" (did you mean Honor?); expected Honor or Ignore"
        );
    }
}
