//! `priorityClasses:` and the priority of a workload's pods, resolved as the Priority
//! admission plugin does.

use schedulers::PreemptionPolicy;
use schedulers::yaml::message::{at_line, did_you_mean, quoted};
use schedulers::yaml::names::dns_subdomain_error;
use serde_saphyr::Spanned;

use super::super::raw::{RawPriorityClass, RawWorkload};
use super::{Builder, Result};
use crate::scenario::PriorityClassSpec;

/// The highest value a declared PriorityClass may have; higher ones are the system classes'.
const MAX_USER_PRIORITY: i32 = 1_000_000_000;

/// The PriorityClasses every cluster has without declaring them, by name and value.
const SYSTEM_PRIORITY_CLASSES: &[(&str, i32)] = &[
    ("system-cluster-critical", 2_000_000_000),
    ("system-node-critical", 2_000_001_000),
];

/// A PriorityClass a workload may name: declared in `priorityClasses`, or built in.
pub(super) struct PriorityClass {
    /// The name workloads give in `priorityClassName`.
    pub(super) name: String,
    /// The priority of its pods.
    value: i32,
    /// Whether its pods may preempt.
    preemption_policy: PreemptionPolicy,
    /// Whether the file sets the policy (rather than leaving the default), for messages.
    policy_given: bool,
    /// Whether workloads that name no class get this one.
    global_default: bool,
    /// `description`, kept for `schedlab export`.
    description: Option<String>,
    /// Where it is declared (`priorityClasses[0] (line 3)`), for messages; empty when built in.
    pub(super) origin: String,
}

impl PriorityClass {
    /// The class as the scenario keeps it.
    pub(super) fn spec(&self) -> PriorityClassSpec {
        PriorityClassSpec {
            name: self.name.clone(),
            value: self.value,
            global_default: self.global_default,
            preemption_policy: self.preemption_policy,
            description: self.description.clone(),
            built_in: self.origin.is_empty(),
        }
    }
}

impl Builder<'_> {
    /// `priorityClasses:`, checked as the API server and its Priority admission plugin do;
    /// the built-in system classes follow the declared ones.
    pub(super) fn priority_classes(&mut self, list: &[Spanned<RawPriorityClass>]) -> Result<()> {
        let mut classes: Vec<PriorityClass> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let base = format!("priorityClasses[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let name = self
                .kube
                .non_empty(&raw.name, &name_field, "a priority class name")?;
            if let Some(why) = dns_subdomain_error(&name) {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("invalid priority class name {}: {why}", quoted(&name)),
                ));
            }
            if name.starts_with("system-") {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    "names starting with `system-` are reserved; the built-in classes system-cluster-critical (2000000000) and system-node-critical (2000001000) exist without being declared",
                ));
            }
            if let Some(first) = classes.iter().find(|c| c.name == name) {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!(
                        "duplicate priority class name {name:?}: {} already declares it",
                        first.origin
                    ),
                ));
            }
            let value_field = format!("{base}.value");
            let value = match &raw.value {
                Some(v) => {
                    let n = self.kube.integer(
                        v,
                        &value_field,
                        i32::MIN.into(),
                        i32::MAX.into(),
                        "an integer",
                    )?;
                    if n > MAX_USER_PRIORITY.into() {
                        return Err(self.kube.err(
                            &v.referenced,
                            &value_field,
                            format!("a declared priority class may have a value of at most {MAX_USER_PRIORITY} (higher values are reserved for the system classes), got {n}"),
                        ));
                    }
                    i32::try_from(n).unwrap_or(0)
                }
                None => {
                    return Err(self.kube.err(
                        &item.referenced,
                        &value_field,
                        "missing required field `value` (the priority of pods in this class; higher goes first)",
                    ));
                }
            };
            let preemption_policy = match &raw.preemption_policy {
                Some(p) => self
                    .kube
                    .preemption_policy(p, &format!("{base}.preemptionPolicy"))?,
                None => PreemptionPolicy::PreemptLowerPriority,
            };
            let global_default = raw.global_default.as_ref().is_some_and(|g| g.value);
            if let Some(g) = &raw.global_default
                && g.value
                && let Some(first) = classes.iter().find(|c| c.global_default)
            {
                return Err(self.kube.err(
                    &g.referenced,
                    &format!("{base}.globalDefault"),
                    format!(
                        "{} ({}) is already the global default; at most one class may be",
                        first.name, first.origin
                    ),
                ));
            }
            classes.push(PriorityClass {
                name,
                value,
                preemption_policy,
                policy_given: raw.preemption_policy.is_some(),
                global_default,
                description: raw.description.clone(),
                origin: format!("{base}{}", at_line(&raw.name.referenced)),
            });
        }
        for &(name, value) in SYSTEM_PRIORITY_CLASSES {
            classes.push(PriorityClass {
                name: name.to_owned(),
                value,
                preemption_policy: PreemptionPolicy::PreemptLowerPriority,
                policy_given: false,
                global_default: false,
                description: None,
                origin: String::new(),
            });
        }
        self.classes = classes;
        Ok(())
    }

    /// The class a workload's `priorityClassName` names, with its index.
    fn priority_class(&self, v: &Spanned<String>, field: &str) -> Result<(u32, &PriorityClass)> {
        let name = self.kube.non_empty(v, field, "a priority class name")?;
        let found = self
            .classes
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name);
        found.map(|(i, c)| (i as u32, c)).ok_or_else(|| {
            let known: Vec<&str> = self.classes.iter().map(|c| c.name.as_str()).collect();
            self.kube.err(
                &v.referenced,
                field,
                format!(
                    "unknown priority class {name:?}{}; the known classes are {} (declare classes under the top-level `priorityClasses`)",
                    did_you_mean(&name, &known),
                    known.join(", ")
                ),
            )
        })
    }

    /// The priority and preemption policy of a workload's pods, resolved as the Priority
    /// admission plugin does: from the class `priorityClassName` names, else from the
    /// globalDefault class, else from `priority` and `preemptionPolicy` themselves (0 and
    /// PreemptLowerPriority when absent). Where a class applies, `priority` and
    /// `preemptionPolicy` may only repeat what it says. With the index of the class that
    /// applies, which admission writes into the pod's `priorityClassName`.
    pub(super) fn pod_priority(
        &self,
        w: &RawWorkload,
        base: &str,
    ) -> Result<(i32, PreemptionPolicy, Option<u32>)> {
        let priority_field = format!("{base}.priority");
        let priority = match &w.priority {
            Some(p) => {
                let n = self.kube.integer(
                    p,
                    &priority_field,
                    i32::MIN.into(),
                    i32::MAX.into(),
                    "an integer",
                )?;
                Some((p, i32::try_from(n).unwrap_or(0)))
            }
            None => None,
        };
        let policy_field = format!("{base}.preemptionPolicy");
        let policy = match &w.preemption_policy {
            Some(p) => Some((p, self.kube.preemption_policy(p, &policy_field)?)),
            None => None,
        };
        let class = match &w.priority_class_name {
            Some(n) => Some(self.priority_class(n, &format!("{base}.priorityClassName"))?),
            None => {
                let found = self.classes.iter().enumerate();
                found
                    .map(|(i, c)| (i as u32, c))
                    .find(|(_, c)| c.global_default)
            }
        };
        let Some((index, class)) = class else {
            return Ok((
                priority.map_or(0, |(_, p)| p),
                policy.map_or(PreemptionPolicy::PreemptLowerPriority, |(_, p)| p),
                None,
            ));
        };
        let source = if w.priority_class_name.is_some() {
            format!("priorityClassName {}", class.name)
        } else {
            format!(
                "the globalDefault priority class {} (which every workload naming no priorityClassName gets)",
                class.name
            )
        };
        if let Some((at, p)) = priority
            && p != class.value
        {
            return Err(self.kube.err(
                &at.referenced,
                &priority_field,
                format!(
                    "priority {p} conflicts with {source}, whose value is {}; the class sets the priority, so leave `priority` out or make it equal",
                    class.value
                ),
            ));
        }
        if let Some((at, p)) = policy
            && p != class.preemption_policy
        {
            let default = if class.policy_given {
                ""
            } else {
                " (the default)"
            };
            return Err(self.kube.err(
                &at.referenced,
                &policy_field,
                format!(
                    "preemptionPolicy {} conflicts with {source}, whose preemptionPolicy is {}{default}; the class sets the policy, so leave `preemptionPolicy` out or name a class with preemptionPolicy: {}",
                    p.name(),
                    class.preemption_policy.name(),
                    p.name()
                ),
            ));
        }
        Ok((class.value, class.preemption_policy, Some(index)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, check_error, load};
    use super::*;

    /// The priority and policy of each workload of `text`.
    fn priorities(text: &str) -> Vec<(i32, PreemptionPolicy)> {
        load(text)
            .workloads
            .iter()
            .map(|w| (w.template.priority, w.template.preemption_policy))
            .collect()
    }

    #[test]
    fn classes_set_priorities_as_the_admission_plugin_does() {
        let got = priorities(
            "priorityClasses:
  - {name: high, value: 1000, preemptionPolicy: Never}
  - {name: base, value: 10, globalDefault: true}
workloads:
  - {pod: a, priorityClassName: high}
  - {pod: b}
  - {pod: c, priorityClassName: system-node-critical}
  - {pod: d, priorityClassName: base, priority: 10}
",
        );
        assert_eq!(
            got,
            [
                (1000, PreemptionPolicy::Never),
                (10, PreemptionPolicy::PreemptLowerPriority),
                (2_000_001_000, PreemptionPolicy::PreemptLowerPriority),
                (10, PreemptionPolicy::PreemptLowerPriority),
            ]
        );
        assert_eq!(
            priorities("workloads: [{pod: a, priority: -5, preemptionPolicy: Never}, {pod: b}]\n"),
            [
                (-5, PreemptionPolicy::Never),
                (0, PreemptionPolicy::PreemptLowerPriority)
            ],
            "without classes, the workload's own fields or their defaults"
        );
    }

    #[test]
    fn class_errors_are_located() {
        check_at(
            "priorityClasses: [{name: system-high, value: 1}]\n",
            "system-high",
            "priorityClasses[0].name",
            "names starting with `system-` are reserved; the built-in classes system-cluster-critical (2000000000) and system-node-critical (2000001000) exist without being declared",
        );
        check_at(
            "priorityClasses: [{name: a, value: 1}, {name: a, value: 2}]\n",
            "a, value: 2",
            "priorityClasses[1].name",
            "duplicate priority class name \"a\": priorityClasses[0] (line 1) already declares it",
        );
        check_at(
            "priorityClasses: [{name: a, value: 1000000001}]\n",
            "1000000001",
            "priorityClasses[0].value",
            "a declared priority class may have a value of at most 1000000000 (higher values are reserved for the system classes), got 1000000001",
        );
        check_at(
            "priorityClasses: [{name: a}]\n",
            "{name",
            "priorityClasses[0].value",
            "missing required field `value` (the priority of pods in this class; higher goes first)",
        );
        check_error(
            "priorityClasses:\n  - {name: a, value: 1, globalDefault: true}\n  - {name: b, value: 2, globalDefault: true}\n",
            3,
            40,
            "priorityClasses[1].globalDefault",
            "a (priorityClasses[0] (line 2)) is already the global default; at most one class may be",
        );
    }

    #[test]
    fn workload_priority_errors_are_located() {
        check_at(
            "workloads: [{pod: p, priorityClassName: hgh}]\npriorityClasses: [{name: high, value: 1}]\n",
            "hgh",
            "workloads[0].priorityClassName",
            "unknown priority class \"hgh\" (did you mean high?); the known classes are high, system-cluster-critical, system-node-critical (declare classes under the top-level `priorityClasses`)",
        );
        check_at(
            "priorityClasses: [{name: high, value: 100}]\nworkloads: [{pod: p, priorityClassName: high, priority: 5}]\n",
            "5}",
            "workloads[0].priority",
            "priority 5 conflicts with priorityClassName high, whose value is 100; the class sets the priority, so leave `priority` out or make it equal",
        );
        check_at(
            "priorityClasses: [{name: base, value: 1, globalDefault: true}]\nworkloads: [{pod: p, preemptionPolicy: Never}]\n",
            "Never",
            "workloads[0].preemptionPolicy",
            "preemptionPolicy Never conflicts with the globalDefault priority class base (which every workload naming no priorityClassName gets), whose preemptionPolicy is PreemptLowerPriority (the default); the class sets the policy, so leave `preemptionPolicy` out or name a class with preemptionPolicy: Never",
        );
    }
}
