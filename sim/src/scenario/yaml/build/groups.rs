//! `namespaces:` (with their fairness weights), `podGroups:` and the group a workload's
//! pods join.

use schedulers::Labels;
use schedulers::field_path;
use schedulers::gang::{DEFAULT_SCHEDULE_TIMEOUT_SECONDS, POD_GROUP_LABEL, PodGroupSpec};
use schedulers::yaml::message::quoted;
use schedulers::yaml::names::dns_label_error;
use serde_saphyr::Spanned;

use super::super::raw::{RawNamespace, RawPodGroup, RawWorkload};
use super::{Builder, Result};

impl Builder<'_> {
    /// `namespaces:`: valid, distinct names with weights of at least 1 (default 1).
    pub(super) fn namespaces(&self, list: &[Spanned<RawNamespace>]) -> Result<Vec<(String, u32)>> {
        let mut out: Vec<(String, u32)> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let base = format!("namespaces[{i}]");
            let (name, at, field, weight) = match &item.value {
                RawNamespace::Name(name) => (name.clone(), &item.referenced, base.clone(), 1),
                RawNamespace::Spec(spec) => {
                    let field = format!("{base}.name");
                    let Some(name) = &spec.name else {
                        return Err(self.kube.err(
                            &item.referenced,
                            &field,
                            "missing required field `name` (the namespace's name)",
                        ));
                    };
                    let weight = match &spec.weight {
                        Some(w) => {
                            let n = self.kube.integer(
                                w,
                                &format!("{base}.weight"),
                                1,
                                u32::MAX.into(),
                                "a positive integer",
                            )?;
                            u32::try_from(n).unwrap_or(u32::MAX)
                        }
                        None => 1,
                    };
                    (name.value.clone(), &name.referenced, field, weight)
                }
            };
            if name.is_empty() {
                return Err(self.kube.err(
                    at,
                    &field,
                    "expected a namespace name, got an empty string",
                ));
            }
            if let Some(why) = dns_label_error(&name) {
                return Err(self.kube.err(
                    at,
                    &field,
                    format!("invalid namespace name {}: {why}", quoted(&name)),
                ));
            }
            if out.iter().any(|(n, _)| *n == name) {
                return Err(self.kube.err(
                    at,
                    &field,
                    format!("namespace {} is listed twice", quoted(&name)),
                ));
            }
            out.push((name, weight));
        }
        Ok(out)
    }

    /// `podGroups`: PodGroups by namespace and name.
    pub(super) fn pod_groups(&mut self, list: &[Spanned<RawPodGroup>]) -> Result<()> {
        for (i, item) in list.iter().enumerate() {
            let base = format!("podGroups[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let (name, namespace) =
                self.kube
                    .object_name(&raw.name, raw.namespace.as_ref(), &base, "PodGroup")?;
            if self
                .pod_groups
                .iter()
                .any(|g| g.name == name && g.namespace == namespace)
            {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!(
                        "duplicate PodGroup {} in namespace {}",
                        quoted(&name),
                        quoted(&namespace)
                    ),
                ));
            }
            let Some(min) = &raw.min_member else {
                return Err(self.kube.err(
                    &item.referenced,
                    &base,
                    "expected minMember: how many of the group's pods must be able to run together",
                ));
            };
            let min_member = self.kube.integer(
                min,
                &format!("{base}.minMember"),
                1,
                i32::MAX.into(),
                "a number of pods",
            )? as u32;
            let schedule_timeout_seconds = match &raw.schedule_timeout_seconds {
                Some(v) => self.kube.integer(
                    v,
                    &format!("{base}.scheduleTimeoutSeconds"),
                    1,
                    i32::MAX.into(),
                    "a positive number of seconds",
                )? as u32,
                None => DEFAULT_SCHEDULE_TIMEOUT_SECONDS,
            };
            self.pod_groups.push(PodGroupSpec {
                name,
                namespace,
                min_member,
                schedule_timeout_seconds,
            });
        }
        Ok(())
    }

    /// The pod group a workload's pods join: `podGroup`, or the
    /// `scheduling.x-k8s.io/pod-group` label, which `podGroup` sets.
    pub(super) fn workload_pod_group(
        &self,
        w: &RawWorkload,
        namespace: &str,
        labels: &mut Labels,
        base: &str,
    ) -> Result<Option<u32>> {
        let label = w
            .labels
            .iter()
            .flat_map(|m| m.0.iter())
            .find(|(k, _)| k.value == POD_GROUP_LABEL)
            .map(|(_, v)| v);
        let (value, field) = match (&w.pod_group, label) {
            (Some(g), Some(l)) if g.value != l.value => {
                return Err(self.kube.err(
                    &g.referenced,
                    &format!("{base}.podGroup"),
                    format!(
                        "podGroup {} disagrees with the label {POD_GROUP_LABEL}: {} (line {}); give one of them",
                        quoted(&g.value),
                        quoted(&l.value),
                        l.referenced.line()
                    ),
                ));
            }
            (Some(g), _) => (g, format!("{base}.podGroup")),
            (None, Some(l)) => (
                l,
                field_path::key(&format!("{base}.labels"), POD_GROUP_LABEL),
            ),
            (None, None) => return Ok(None),
        };
        let name = self.kube.non_empty(value, &field, "a PodGroup name")?;
        let Some(index) = self
            .pod_groups
            .iter()
            .position(|g| g.name == name && g.namespace == namespace)
        else {
            let known: Vec<&str> = self
                .pod_groups
                .iter()
                .filter(|g| g.namespace == namespace)
                .map(|g| g.name.as_str())
                .collect();
            let listed = if known.is_empty() {
                format!(
                    "no podGroups are declared in namespace {}",
                    quoted(namespace)
                )
            } else {
                format!(
                    "declared in namespace {}: {}",
                    quoted(namespace),
                    known.join(", ")
                )
            };
            return Err(self.kube.err(
                &value.referenced,
                &field,
                format!("unknown pod group {} ({listed})", quoted(&name)),
            ));
        };
        labels.insert(POD_GROUP_LABEL.to_owned(), name);
        Ok(Some(index as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, load};
    use super::*;

    #[test]
    fn namespaces_have_weights() {
        let s = load("namespaces: [team-a, {name: team-b, weight: 3}, {name: team-c}]\n");
        assert_eq!(
            s.namespaces,
            [
                ("team-a".to_owned(), 1),
                ("team-b".to_owned(), 3),
                ("team-c".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn workloads_join_groups_by_name_or_label() {
        let s = load(
            "podGroups:
  - {name: g, minMember: 2}
  - {name: h, namespace: ml, minMember: 4, scheduleTimeoutSeconds: 30}
workloads:
  - {pod: a, podGroup: g}
  - {pod: b, namespace: ml, labels: {scheduling.x-k8s.io/pod-group: h}}
  - {pod: c}
",
        );
        assert_eq!(
            s.pod_groups,
            [
                PodGroupSpec {
                    name: "g".into(),
                    namespace: "default".into(),
                    min_member: 2,
                    schedule_timeout_seconds: DEFAULT_SCHEDULE_TIMEOUT_SECONDS,
                },
                PodGroupSpec {
                    name: "h".into(),
                    namespace: "ml".into(),
                    min_member: 4,
                    schedule_timeout_seconds: 30,
                },
            ]
        );
        let groups: Vec<Option<u32>> = s.workloads.iter().map(|w| w.template.pod_group).collect();
        assert_eq!(groups, [Some(0), Some(1), None]);
        assert_eq!(
            s.workloads[0].template.labels.get(POD_GROUP_LABEL),
            Some("g"),
            "podGroup sets the label"
        );
    }

    #[test]
    fn namespace_and_group_errors_are_located() {
        check_at(
            "namespaces: [team-a, team-a]\n",
            "team-a]",
            "namespaces[1]",
            "namespace \"team-a\" is listed twice",
        );
        check_at(
            "namespaces: [{name: Team}]\n",
            "Team",
            "namespaces[0].name",
            "invalid namespace name \"Team\": it must consist of lowercase letters, digits and `-`, and start and end with a letter or digit",
        );
        check_at(
            "namespaces: [{name: a, weight: 0}]\n",
            "0}",
            "namespaces[0].weight",
            "expected a positive integer from 1 to 4294967295, got 0",
        );
        check_at(
            "podGroups: [{name: g}]\n",
            "{name",
            "podGroups[0]",
            "expected minMember: how many of the group's pods must be able to run together",
        );
        check_at(
            "podGroups: [{name: g, minMember: 1}]\nworkloads: [{pod: a, namespace: other, podGroup: g}]\n",
            "g}]\n",
            "workloads[0].podGroup",
            "unknown pod group \"g\" (no podGroups are declared in namespace \"other\")",
        );
        check_at(
            "podGroups: [{name: g, minMember: 1}, {name: h, minMember: 1}]\nworkloads: [{pod: a, podGroup: g, labels: {scheduling.x-k8s.io/pod-group: h}}]\n",
            "g, labels",
            "workloads[0].podGroup",
            "podGroup \"g\" disagrees with the label scheduling.x-k8s.io/pod-group: \"h\" (line 2); give one of them",
        );
    }
}
