//! From the raw structs to a validated [`Scenario`]: every value interpreted (quantities,
//! durations, distributions, selectors), defaults applied, and the rules that span fields
//! checked, each failure pointing at the value's line and column.
//!
//! `cluster` and `workloads` (and within `cluster`, `nodePools` and `nodes`) are processed in
//! the order they appear in the file, so extended resources are numbered in file order and,
//! of two errors in different sections, the earlier one is reported. `priorityClasses` is the
//! exception: workloads refer to its classes, so it is checked before both wherever it is.
//! Validation stops at the first error: one precise message is more useful than a cascade of
//! consequences.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schedulers::field_path;
use schedulers::framework::config::{load_scheduler_config, parse_scheduler_config};
use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::gang::{DEFAULT_SCHEDULE_TIMEOUT_SECONDS, POD_GROUP_LABEL, PodGroupSpec};
use schedulers::pdb::{Budget, PodDisruptionBudget};
use schedulers::volumes::{
    PersistentVolume, PersistentVolumeClaim, StorageClass, VolumeBindingMode, VolumeState,
};
use schedulers::yaml::kube::RawVolume;
use schedulers::yaml::message::{at_line, did_you_mean, one_of, quoted, shown, with_hint};
use schedulers::yaml::names::{dns_label_error, dns_subdomain_error};
use schedulers::yaml::{Entries, NodeAffinityRules, Reader, Scalar, line_column};
use schedulers::{
    ContainerResources, LabelSelector, Labels, NodeSelectorTerm, NodeSpec, OwnerKind, PodTemplate,
    PreemptionPolicy, ResourceKind, ResourceNames, Resources, SelectorOperator,
    SelectorRequirement,
};
use serde_saphyr::{Location, Spanned};

use super::ScenarioError;
use super::raw::{
    RawArrivals, RawClaim, RawCluster, RawContainer, RawDist, RawNamespace, RawPdb,
    RawPersistentVolume, RawPodGroup, RawPool, RawPriorityClass, RawScenario, RawSchedulerConfig,
    RawStorage, RawStorageClass, RawWorkload, RequestMap, ScalarOrDist,
};
use crate::scenario::{ArrivalProcess, Arrivals, Dist, Scenario, Workload, WorkloadKind};
use crate::time::{SimTime, parse_duration};

mod gpu;

const BINDING_MODES: &[&str] = &["Immediate", "WaitForFirstConsumer"];

/// The most nodes one scenario may define. Far above the 10,000-node target scale, but a
/// typo'd `count: 1000000000` is an error instead of an allocation that aborts the process.
const MAX_NODES: u64 = 1_000_000;
/// `sampleInterval` when absent.
const DEFAULT_SAMPLE_INTERVAL: SimTime = SimTime::from_secs(60);
/// `startLatency` when absent.
const DEFAULT_START_LATENCY: SimTime = SimTime::from_secs(1);

const PROCESSES: &[&str] = &["poisson", "fixed", "burst"];
const DISTS: &[&str] = &["exponential", "uniform", "lognormal", "choice"];
/// The highest value a declared PriorityClass may have; higher ones are the system classes'.
const MAX_USER_PRIORITY: i32 = 1_000_000_000;
/// The PriorityClasses every cluster has without declaring them, by name and value.
const SYSTEM_PRIORITY_CLASSES: &[(&str, i32)] = &[
    ("system-cluster-critical", 2_000_000_000),
    ("system-node-critical", 2_000_001_000),
];

type Result<T> = std::result::Result<T, ScenarioError>;
/// Parses one value of a distribution (a duration, or a quantity of one resource kind).
type ParseFn<'p, T> = dyn Fn(&Builder<'_>, &Spanned<Scalar>, &str) -> Result<T> + 'p;
/// Requests drawn per pod, by resource kind (`Workload::sized`).
type SizedRequests = Vec<(ResourceKind, Dist<i64>)>;
/// The profiles of a `schedulerConfig` by scheduler name (`Scenario::profiles`).
type Profiles = Vec<(String, ResolvedProfile)>;

/// Validates a parsed file into a [`Scenario`].
pub(super) fn build(
    raw: RawScenario,
    text: &str,
    file: &str,
    is_known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario> {
    let mut b = Builder {
        kube: Reader::new(file),
        names: ResourceNames::default(),
        classes: Vec::new(),
        volumes: VolumeState::default(),
        pod_groups: Vec::new(),
    };
    let name = match &raw.name {
        Some(name) => b.scenario_name(name)?,
        None => default_name(file),
    };
    let seed = match &raw.seed {
        Some(v) => {
            let n = b
                .kube
                .integer(v, "seed", 0, u64::MAX.into(), "a non-negative integer")?;
            u64::try_from(n).unwrap_or(u64::MAX)
        }
        None => 1,
    };
    let seeds = b.seeds(raw.seeds.as_ref(), raw.seed.is_some())?;
    let gpu_trace = match &raw.gpu_trace {
        Some(t) => Some(Arc::new(
            b.gpu_trace(t, raw.cluster.is_some() || raw.workloads.is_some())?,
        )),
        None => None,
    };
    let duration = match &raw.duration {
        Some(v) => Some(b.positive_duration(v, "duration")?),
        None => None,
    };
    let sample_interval = match &raw.sample_interval {
        Some(v) => b.positive_duration(v, "sampleInterval")?,
        None => DEFAULT_SAMPLE_INTERVAL,
    };
    let start_latency = match &raw.start_latency {
        Some(v) => b.duration(v, "startLatency")?,
        None => DEFAULT_START_LATENCY,
    };
    let (profiles, profile_warnings) = match &raw.scheduler_config {
        Some(config) => b.scheduler_config(config, text, is_known_scheduler)?,
        None => (Vec::new(), Vec::new()),
    };
    let known = |name: &str| is_known_scheduler(name) || profiles.iter().any(|(n, _)| n == name);
    let schedulers = b.schedulers(raw.schedulers.as_deref().unwrap_or_default(), &known)?;
    b.priority_classes(raw.priority_classes.as_deref().unwrap_or_default())?;
    b.storage_classes(raw.storage_classes.as_deref().unwrap_or_default())?;
    b.persistent_volumes(raw.persistent_volumes.as_deref().unwrap_or_default())?;
    b.claims(raw.persistent_volume_claims.as_deref().unwrap_or_default())?;
    let pod_disruption_budgets =
        b.pod_disruption_budgets(raw.pod_disruption_budgets.as_deref().unwrap_or_default())?;
    let namespaces = b.namespaces(raw.namespaces.as_deref().unwrap_or_default())?;
    b.pod_groups(raw.pod_groups.as_deref().unwrap_or_default())?;

    // File order: whichever of `cluster` and `workloads` comes first is checked first.
    let cluster_first = match (&raw.cluster, &raw.workloads) {
        (Some(c), Some(w)) => before(&c.referenced, &w.referenced),
        _ => true,
    };
    let raw_workloads = raw
        .workloads
        .as_ref()
        .map(|w| w.value.as_slice())
        .unwrap_or_default();
    let cluster = |b: &mut Builder<'_>| match &raw.cluster {
        Some(cluster) => b.cluster(&cluster.value),
        None => Ok(Vec::new()),
    };
    let (nodes, workloads) = if cluster_first {
        let nodes = cluster(&mut b)?;
        (nodes, b.workloads(raw_workloads)?)
    } else {
        let workloads = b.workloads(raw_workloads)?;
        (cluster(&mut b)?, workloads)
    };

    Ok(Scenario {
        name,
        description: raw
            .description
            .map(|d| d.trim_end().to_owned())
            .unwrap_or_default(),
        path: (!file.is_empty()).then(|| PathBuf::from(file)),
        seed,
        duration,
        sample_interval,
        start_latency,
        schedulers,
        profiles,
        profile_warnings,
        resource_names: b.names,
        nodes,
        workloads,
        volumes: b.volumes,
        pod_disruption_budgets,
        namespaces,
        pod_groups: b.pod_groups,
        seeds,
        gpu_trace,
    })
}

/// The text of an inline `schedulerConfig` mapping that starts at `at`, with everything
/// else blanked (earlier lines emptied, the rest of the starting line before `at` turned to
/// spaces), so that positions in it are positions in the scenario. The mapping ends before
/// the next line that starts a top-level key (any line not starting with a space, a tab or
/// `#`).
fn inline_text(text: &str, at: &Location) -> Option<String> {
    let (Some(line), Some(column)) = line_column(at) else {
        return None;
    };
    let line = usize::try_from(line).ok()?;
    let column = usize::try_from(column).ok()?;
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        let number = i + 1;
        if number < line {
            out.push('\n');
        } else if number == line {
            let skip = column.checked_sub(1)?;
            if skip > l.chars().count() {
                return None;
            }
            out.extend(std::iter::repeat_n(' ', skip));
            out.extend(l.chars().skip(skip));
            out.push('\n');
        } else if l.starts_with([' ', '\t', '#']) || l.is_empty() {
            out.push_str(l);
            out.push('\n');
        } else {
            break;
        }
    }
    Some(out)
}

/// The scenario name when the file gives none: the file stem, else a fixed word.
fn default_name(file: &str) -> String {
    Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "scenario".to_owned())
}

/// Whether `a` comes before `b` in the file.
fn before(a: &Location, b: &Location) -> bool {
    (a.line(), a.column()) < (b.line(), b.column())
}

/// The three kinds of workload, named by the key that introduces them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Pod,
    Deployment,
    Batch,
}

impl Kind {
    /// The key that names a workload of this kind.
    fn key(self) -> &'static str {
        match self {
            Kind::Pod => "pod",
            Kind::Deployment => "deployment",
            Kind::Batch => "batch",
        }
    }
}

/// The name of a preemption policy, as the file spells it.
fn policy_name(p: PreemptionPolicy) -> &'static str {
    match p {
        PreemptionPolicy::PreemptLowerPriority => "PreemptLowerPriority",
        PreemptionPolicy::Never => "Never",
    }
}

/// A PriorityClass a workload may name: declared in `priorityClasses`, or built in.
struct PriorityClass {
    /// The name workloads give in `priorityClassName`.
    name: String,
    /// The priority of its pods.
    value: i32,
    /// Whether its pods may preempt.
    preemption_policy: PreemptionPolicy,
    /// Whether the file sets the policy (rather than leaving the default), for messages.
    policy_given: bool,
    /// Whether workloads that name no class get this one.
    global_default: bool,
    /// Where it is declared (`priorityClasses[0] (line 3)`), for messages; empty when built in.
    origin: String,
}

/// The state of one validation: the file name for messages, the extended resources seen and
/// the priority classes workloads may name.
struct Builder<'a> {
    /// The shared reader of Kubernetes pieces, which knows the file's name.
    kube: Reader<'a>,
    names: ResourceNames,
    classes: Vec<PriorityClass>,
    /// Storage, checked before workloads, which name its claims.
    volumes: VolumeState,
    /// Pod groups, checked before workloads, which join them.
    pod_groups: Vec<PodGroupSpec>,
}

impl Builder<'_> {
    // ----- single values -------------------------------------------------------------

    /// The scenario name, which ends up in output paths.
    fn scenario_name(&self, v: &Spanned<String>) -> Result<String> {
        let name = self.kube.non_empty(v, "name", "a name")?;
        if name == "."
            || name == ".."
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control)
        {
            return Err(self.kube.err(
                &v.referenced,
                "name",
                format!(
                    "{} cannot be used in output paths: expected a name without slashes",
                    shown(&name)
                ),
            ));
        }
        Ok(name)
    }

    /// A Go-style duration (`90s`, `1h30m`).
    fn duration(&self, v: &Spanned<Scalar>, field: &str) -> Result<SimTime> {
        parse_duration(&v.value.0).map_err(|e| {
            let hint = with_hint(&e.reason, "a duration such as 500ms, 90s, 10m or 1h30m");
            self.kube.err(&v.referenced, field, format!("{e}{hint}"))
        })
    }

    /// A duration that must be longer than zero.
    fn positive_duration(&self, v: &Spanned<Scalar>, field: &str) -> Result<SimTime> {
        let d = self.duration(v, field)?;
        if d == SimTime::ZERO {
            return Err(self.kube.err(
                &v.referenced,
                field,
                "expected a duration longer than zero, got 0",
            ));
        }
        Ok(d)
    }

    // ----- priority classes ------------------------------------------------------------

    /// `podDisruptionBudgets:`: a name unique in its namespace, a selector, and exactly one
    /// of `minAvailable` and `maxUnavailable`, each a non-negative integer or a percentage.
    fn pod_disruption_budgets(&self, list: &[Spanned<RawPdb>]) -> Result<Vec<PodDisruptionBudget>> {
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

    /// `podGroups`: PodGroups by namespace and name.
    fn pod_groups(&mut self, list: &[Spanned<RawPodGroup>]) -> Result<()> {
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
    fn workload_pod_group(
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

    /// `priorityClasses:`, checked as the API server and its Priority admission plugin do;
    /// the built-in system classes follow the declared ones.
    /// `namespaces:`: valid, distinct names with weights of at least 1 (default 1).
    fn namespaces(&self, list: &[Spanned<RawNamespace>]) -> Result<Vec<(String, u32)>> {
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

    fn priority_classes(&mut self, list: &[Spanned<RawPriorityClass>]) -> Result<()> {
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
                origin: String::new(),
            });
        }
        self.classes = classes;
        Ok(())
    }

    /// The class a workload's `priorityClassName` names.
    fn priority_class(&self, v: &Spanned<String>, field: &str) -> Result<&PriorityClass> {
        let name = self.kube.non_empty(v, field, "a priority class name")?;
        self.classes.iter().find(|c| c.name == name).ok_or_else(|| {
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
    /// `preemptionPolicy` may only repeat what it says.
    fn pod_priority(&self, w: &RawWorkload, base: &str) -> Result<(i32, PreemptionPolicy)> {
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
            None => self.classes.iter().find(|c| c.global_default),
        };
        let Some(class) = class else {
            return Ok((
                priority.map_or(0, |(_, p)| p),
                policy.map_or(PreemptionPolicy::PreemptLowerPriority, |(_, p)| p),
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
                    policy_name(p),
                    policy_name(class.preemption_policy),
                    policy_name(p)
                ),
            ));
        }
        Ok((class.value, class.preemption_policy))
    }

    // ----- top level -------------------------------------------------------------------

    /// `schedulerConfig:`: a KubeSchedulerConfiguration file, relative to the scenario's
    /// directory, or one inline, read into its profiles and warnings. Errors inside a file
    /// point into it, errors inline into the scenario; a profile named like a scheduler that
    /// already exists is refused.
    fn scheduler_config(
        &self,
        config: &Spanned<RawSchedulerConfig>,
        text: &str,
        is_known: &dyn Fn(&str) -> bool,
    ) -> Result<(Profiles, Vec<String>)> {
        const FIELD: &str = "schedulerConfig";
        let at = &config.referenced;
        let loaded = match &config.value {
            RawSchedulerConfig::Path(path) => {
                if path.trim().is_empty() {
                    return Err(self.kube.err(
                        at,
                        FIELD,
                        "expected the path of a KubeSchedulerConfiguration file, got an empty string",
                    ));
                }
                let dir = Path::new(self.kube.file())
                    .parent()
                    .unwrap_or(Path::new(""));
                let full = dir.join(path);
                if !full.is_file() {
                    return Err(self.kube.err(
                        at,
                        FIELD,
                        format!(
                            "no scheduler configuration at {} (the path is relative to the scenario's directory)",
                            full.display()
                        ),
                    ));
                }
                load_scheduler_config(&full)
            }
            RawSchedulerConfig::Inline => {
                let Some(inline) = inline_text(text, at) else {
                    return Err(self.kube.err(
                        at,
                        FIELD,
                        "cannot find the inline configuration in the text (write it as a block \
                         mapping under a top-level `schedulerConfig:`)",
                    ));
                };
                // Positions in the blanked text are positions in the scenario; only the
                // field needs the prefix.
                parse_scheduler_config(&inline, self.kube.file()).map_err(|e| ScenarioError {
                    field: Some(field_path::join(
                        FIELD,
                        e.field.as_deref().unwrap_or_default(),
                    )),
                    ..e
                })
            }
        };
        let config = loaded?;
        config.refuse_taken_names(is_known).map_err(|e| {
            let (line, column) = line_column(at);
            ScenarioError {
                message: format!(
                    "{} (the scenario's schedulerConfig is at {}{})",
                    e.message,
                    self.kube.file(),
                    line.map(|l| format!(":{l}:{}", column.unwrap_or(1)))
                        .unwrap_or_default()
                ),
                ..e
            }
        })?;
        let warnings = config.warnings().to_vec();
        Ok((config.into_profiles(), warnings))
    }

    /// `schedulers:`: each must exist, none twice.
    fn schedulers(
        &self,
        list: &[Spanned<String>],
        is_known: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for (i, s) in list.iter().enumerate() {
            let field = format!("schedulers[{i}]");
            if !is_known(&s.value) {
                return Err(self.kube.err(
                    &s.referenced,
                    &field,
                    if s.value.starts_with("exec:") {
                        // External programs are started from the command line only, where
                        // their path is checked before anything runs.
                        format!(
                            "unknown scheduler {:?}: external schedulers are named on the command line only (--scheduler {})",
                            s.value, s.value
                        )
                    } else {
                        format!("unknown scheduler {:?}", s.value)
                    },
                ));
            }
            if out.contains(&s.value) {
                return Err(self.kube.err(
                    &s.referenced,
                    &field,
                    format!("scheduler {:?} is listed twice", s.value),
                ));
            }
            out.push(s.value.clone());
        }
        Ok(out)
    }

    // ----- cluster ---------------------------------------------------------------------

    /// `cluster:`: pools expanded to `<pool>-<i>`, then the named nodes, in file order.
    fn cluster(&mut self, c: &RawCluster) -> Result<Vec<NodeSpec>> {
        let mut nodes = Vec::new();
        // Where each node name was defined, to report duplicates.
        let mut seen: HashMap<String, String> = HashMap::new();
        let pools_first = match (&c.node_pools, &c.nodes) {
            (Some(p), Some(n)) => before(&p.referenced, &n.referenced),
            _ => true,
        };
        let pools = c
            .node_pools
            .as_ref()
            .map(|p| p.value.as_slice())
            .unwrap_or_default();
        let named = c
            .nodes
            .as_ref()
            .map(|n| n.value.as_slice())
            .unwrap_or_default();
        if pools_first {
            self.pools(pools, &mut nodes, &mut seen)?;
            self.named_nodes(named, &mut nodes, &mut seen)?;
        } else {
            self.named_nodes(named, &mut nodes, &mut seen)?;
            self.pools(pools, &mut nodes, &mut seen)?;
        }
        Ok(nodes)
    }

    /// `cluster.nodePools`.
    fn pools(
        &mut self,
        pools: &[Spanned<RawPool>],
        nodes: &mut Vec<NodeSpec>,
        seen: &mut HashMap<String, String>,
    ) -> Result<()> {
        let mut pool_names: HashMap<String, String> = HashMap::new();
        for (i, pool) in pools.iter().enumerate() {
            let base = format!("cluster.nodePools[{i}]");
            let p = &pool.value;
            let name_field = format!("{base}.name");
            let name = self.kube.non_empty(&p.name, &name_field, "a pool name")?;
            if let Some(first) = pool_names.insert(
                name.clone(),
                format!("{base}{}", at_line(&p.name.referenced)),
            ) {
                return Err(self.kube.err(
                    &p.name.referenced,
                    &name_field,
                    format!("duplicate node pool name {name:?}: already used by {first}"),
                ));
            }
            let count_field = format!("{base}.count");
            let count = match &p.count {
                Some(c) => self.kube.count_u32(c, &count_field)?,
                None => {
                    return Err(self.kube.err(
                        &pool.referenced,
                        &count_field,
                        "missing required field `count` (how many nodes the pool has)",
                    ));
                }
            };
            let total = nodes.len() as u64 + u64::from(count);
            if total > MAX_NODES {
                let at = p.count.as_ref().map_or(&pool.referenced, |c| &c.referenced);
                return Err(self.kube.err(
                    at,
                    &count_field,
                    format!("this pool brings the cluster to {total} nodes; a scenario may define at most {MAX_NODES}"),
                ));
            }
            let template = NodeSpec {
                name: String::new(),
                allocatable: self.kube.allocatable(
                    &mut self.names,
                    p.allocatable.as_ref(),
                    &format!("{base}.allocatable"),
                )?,
                labels: self
                    .kube
                    .labels(p.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.kube.taints(p.taints.as_deref(), &base)?,
                unschedulable: p.unschedulable.unwrap_or(false),
                gpu: self.node_gpus(p.gpus.as_ref(), p.gpu_model.as_ref(), &base)?,
            };
            let origin = format!("node pool {name:?}{}", at_line(&p.name.referenced));
            for ordinal in 0..count {
                let node_name = format!("{name}-{ordinal}");
                if let Some(first) = seen.get(&node_name) {
                    return Err(self.kube.err(
                        &p.name.referenced,
                        &name_field,
                        format!("pool {name:?} would create node {node_name:?}, which {first} already defines"),
                    ));
                }
                seen.insert(node_name.clone(), origin.clone());
                nodes.push(with_hostname_label(NodeSpec {
                    name: node_name,
                    ..template.clone()
                }));
            }
        }
        Ok(())
    }

    /// `cluster.nodes`.
    fn named_nodes(
        &mut self,
        list: &[Spanned<super::raw::RawNode>],
        nodes: &mut Vec<NodeSpec>,
        seen: &mut HashMap<String, String>,
    ) -> Result<()> {
        for (i, node) in list.iter().enumerate() {
            let base = format!("cluster.nodes[{i}]");
            let n = &node.value;
            let name_field = format!("{base}.name");
            let name = self.kube.non_empty(&n.name, &name_field, "a node name")?;
            if let Some(first) = seen.get(&name) {
                return Err(self.kube.err(
                    &n.name.referenced,
                    &name_field,
                    format!("duplicate node name {name:?}: {first} already defines it"),
                ));
            }
            if nodes.len() as u64 >= MAX_NODES {
                return Err(self.kube.err(
                    &n.name.referenced,
                    &name_field,
                    format!("a scenario may define at most {MAX_NODES} nodes"),
                ));
            }
            seen.insert(
                name.clone(),
                format!("{base}{}", at_line(&n.name.referenced)),
            );
            nodes.push(with_hostname_label(NodeSpec {
                name,
                allocatable: self.kube.allocatable(
                    &mut self.names,
                    n.allocatable.as_ref(),
                    &format!("{base}.allocatable"),
                )?,
                labels: self
                    .kube
                    .labels(n.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.kube.taints(n.taints.as_deref(), &base)?,
                unschedulable: n.unschedulable.unwrap_or(false),
                gpu: self.node_gpus(n.gpus.as_ref(), n.gpu_model.as_ref(), &base)?,
            }));
        }
        Ok(())
    }

    // ----- workloads -------------------------------------------------------------------

    /// `workloads:`.
    fn workloads(&mut self, list: &[Spanned<RawWorkload>]) -> Result<Vec<Workload>> {
        let mut out = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, w) in list.iter().enumerate() {
            let base = format!("workloads[{i}]");
            let (kind, name_value) = self.workload_kind(w, &base)?;
            let name_field = format!("{base}.{}", kind.key());
            let name = self
                .kube
                .non_empty(name_value, &name_field, "a workload name")?;
            if let Some(first) = seen.get(&name) {
                return Err(self.kube.err(
                    &name_value.referenced,
                    &name_field,
                    format!("duplicate workload name {name:?}: {first} already uses it"),
                ));
            }
            seen.insert(
                name.clone(),
                format!("{base}{}", at_line(&name_value.referenced)),
            );
            out.push(self.workload(w, kind, name, &base)?);
        }
        Ok(out)
    }

    /// Which of `pod`, `deployment` and `batch` the workload is: exactly one must be given.
    fn workload_kind<'w>(
        &self,
        w: &'w Spanned<RawWorkload>,
        base: &str,
    ) -> Result<(Kind, &'w Spanned<String>)> {
        let raw = &w.value;
        let given: Vec<(Kind, &Spanned<String>)> = [
            (Kind::Pod, &raw.pod),
            (Kind::Deployment, &raw.deployment),
            (Kind::Batch, &raw.batch),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        match given.as_slice() {
            [one] => Ok(*one),
            [] => Err(self.kube.err(
                &w.referenced,
                base,
                "a workload needs exactly one of `pod`, `deployment` or `batch`, naming it; found none",
            )),
            [(first, _), (second, value), ..] => {
                let (first, second) = (first.key(), second.key());
                Err(self.kube.err(
                    &value.referenced,
                    &format!("{base}.{second}"),
                    format!("a workload has exactly one kind, but this one has both `{first}` and `{second}`"),
                ))
            }
        }
    }

    /// Rejects keys that belong to another kind of workload, saying where they belong.
    fn kind_specific_keys(&self, w: &RawWorkload, kind: Kind, base: &str) -> Result<()> {
        let checks: [(&str, Option<&Location>, &[Kind], &str); 4] = [
            (
                "count",
                w.count.as_ref().map(|v| &v.referenced),
                &[Kind::Pod],
                " (for a batch workload, put it under `arrivals`)",
            ),
            (
                "replicas",
                w.replicas.as_ref().map(|v| &v.referenced),
                &[Kind::Deployment],
                "",
            ),
            (
                "at",
                w.at.as_ref().map(|v| &v.referenced),
                &[Kind::Pod, Kind::Deployment],
                " (a batch workload starts at `arrivals.start`)",
            ),
            (
                "arrivals",
                w.arrivals.as_ref().map(|v| &v.referenced),
                &[Kind::Batch],
                "",
            ),
        ];
        for (key, at, kinds, hint) in checks {
            if let Some(at) = at
                && !kinds.contains(&kind)
            {
                return Err(self.kube.err(
                    at,
                    &format!("{base}.{key}"),
                    format!(
                        "`{key}` applies to {} workloads only, not to a {}{hint}",
                        one_of(&kinds.iter().map(|k| k.key()).collect::<Vec<_>>()),
                        kind.key()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// One workload.
    fn workload(
        &mut self,
        w: &Spanned<RawWorkload>,
        kind: Kind,
        name: String,
        base: &str,
    ) -> Result<Workload> {
        let raw = &w.value;
        self.kind_specific_keys(raw, kind, base)?;
        let at = |b: &Self| match &raw.at {
            Some(v) => b.duration(v, &format!("{base}.at")),
            None => Ok(SimTime::ZERO),
        };
        let (workload_kind, owner, singleton) = match kind {
            Kind::Pod => {
                let count = match &raw.count {
                    Some(v) => self.kube.count_u32(v, &format!("{base}.count"))?,
                    None => 1,
                };
                (
                    WorkloadKind::Pods {
                        at: at(self)?,
                        count,
                    },
                    OwnerKind::None,
                    count == 1,
                )
            }
            Kind::Deployment => {
                let replicas = match &raw.replicas {
                    Some(v) => self.kube.count_u32(v, &format!("{base}.replicas"))?,
                    None => {
                        return Err(self.kube.err(
                            &w.referenced,
                            &format!("{base}.replicas"),
                            "missing required field `replicas` (how many pods the deployment keeps running)",
                        ));
                    }
                };
                (
                    WorkloadKind::Deployment {
                        at: at(self)?,
                        replicas,
                    },
                    OwnerKind::ReplicaSet,
                    false,
                )
            }
            Kind::Batch => {
                let arrivals = match &raw.arrivals {
                    Some(a) => self.arrivals(a, &format!("{base}.arrivals"))?,
                    None => {
                        return Err(self.kube.err(
                            &w.referenced,
                            &format!("{base}.arrivals"),
                            "missing required field `arrivals` (when the batch pods arrive, e.g. {process: poisson, ratePerMinute: 4})",
                        ));
                    }
                };
                (WorkloadKind::Batch { arrivals }, OwnerKind::Job, false)
            }
        };
        let (template, sized) =
            self.template(raw, name, owner, singleton, kind == Kind::Batch, base)?;
        let duration = match &raw.duration {
            None => None,
            Some(d) => Some(self.scalar_or_dist(
                d,
                &format!("{base}.duration"),
                &|b, v, f| b.duration(v, f),
                SimTime::ZERO,
            )?),
        };
        Ok(Workload {
            kind: workload_kind,
            template: Arc::new(template),
            sized,
            duration,
        })
    }

    /// `arrivals:` of a batch workload.
    fn arrivals(&self, a: &Spanned<RawArrivals>, base: &str) -> Result<Arrivals> {
        let raw = &a.value;
        let process_field = format!("{base}.process");
        let process_name = raw.process.value.as_str();
        if !PROCESSES.contains(&process_name) {
            return Err(self.kube.err(
                &raw.process.referenced,
                &process_field,
                format!(
                    "unknown arrival process {process_name:?}{}; expected {}",
                    did_you_mean(process_name, PROCESSES),
                    one_of(PROCESSES)
                ),
            ));
        }
        let rates = [
            ("ratePerSecond", &raw.rate_per_second, 1.0),
            ("ratePerMinute", &raw.rate_per_minute, 60.0),
            ("ratePerHour", &raw.rate_per_hour, 3600.0),
        ];
        let given: Vec<(&str, &Spanned<Scalar>, f64)> = rates
            .iter()
            .filter_map(|(k, v, per)| v.as_ref().map(|v| (*k, v, *per)))
            .collect();
        // Parameters of the other processes are mistakes, not silently ignored settings.
        let misplaced = |key: &str, at: &Location| {
            self.kube.err(
                at,
                &format!("{base}.{key}"),
                format!("`{key}` does not apply to process: {process_name}"),
            )
        };
        if process_name != "poisson"
            && let Some((key, v, _)) = given.first()
        {
            return Err(misplaced(key, &v.referenced));
        }
        if process_name != "fixed"
            && let Some(v) = &raw.interval
        {
            return Err(misplaced("interval", &v.referenced));
        }
        let process = match process_name {
            "poisson" => match given.as_slice() {
                [(key, v, per)] => {
                    let rate = self.kube.number(v, &format!("{base}.{key}"), false)?;
                    ArrivalProcess::Poisson {
                        rate_per_second: rate / per,
                    }
                }
                [] => {
                    return Err(self.kube.err(
                        &a.referenced,
                        base,
                        "process: poisson needs one of ratePerSecond, ratePerMinute or ratePerHour",
                    ));
                }
                [(first, _, _), (second, v, _), ..] => {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.{second}"),
                        format!("give only one rate; `{first}` is already set"),
                    ));
                }
            },
            "fixed" => match &raw.interval {
                Some(v) => ArrivalProcess::Fixed {
                    interval: self.positive_duration(v, &format!("{base}.interval"))?,
                },
                None => {
                    return Err(self.kube.err(
                        &a.referenced,
                        &format!("{base}.interval"),
                        "process: fixed needs `interval` (time between arrivals)",
                    ));
                }
            },
            // "burst", the one name left after the check above.
            _ => {
                if raw.count.is_none() {
                    return Err(self.kube.err(
                        &a.referenced,
                        &format!("{base}.count"),
                        "process: burst needs `count` (how many pods arrive at once)",
                    ));
                }
                ArrivalProcess::Burst
            }
        };
        let start = match &raw.start {
            Some(v) => self.duration(v, &format!("{base}.start"))?,
            None => SimTime::ZERO,
        };
        let stop = match &raw.stop {
            None => None,
            Some(v) => {
                let stop = self.duration(v, &format!("{base}.stop"))?;
                if stop <= start {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.stop"),
                        format!("stop must be later than start ({start}), got {stop}"),
                    ));
                }
                Some(stop)
            }
        };
        let count = match &raw.count {
            None => None,
            Some(v) => {
                let n = self.kube.integer(
                    v,
                    &format!("{base}.count"),
                    0,
                    u64::MAX.into(),
                    "a non-negative integer",
                )?;
                Some(u64::try_from(n).unwrap_or(u64::MAX))
            }
        };
        Ok(Arrivals {
            process,
            start,
            stop,
            count,
        })
    }

    /// A single value or a distribution of values, each parsed by `parse`; `zero` is the
    /// bound for parameters that must be positive.
    fn scalar_or_dist<T: PartialOrd + Clone + std::fmt::Display>(
        &self,
        v: &Spanned<ScalarOrDist>,
        field: &str,
        parse: &ParseFn<'_, T>,
        zero: T,
    ) -> Result<Dist<T>> {
        match &v.value {
            ScalarOrDist::Scalar(s) => {
                let spanned = Spanned::new(s.clone(), v.referenced, v.defined);
                Ok(Dist::Constant(parse(self, &spanned, field)?))
            }
            ScalarOrDist::Dist(d) => self.dist(d, &v.referenced, field, parse, zero),
        }
    }

    /// A `{dist: ...}` mapping.
    fn dist<T: PartialOrd + Clone + std::fmt::Display>(
        &self,
        d: &RawDist,
        at: &Location,
        base: &str,
        parse: &ParseFn<'_, T>,
        zero: T,
    ) -> Result<Dist<T>> {
        let kind = d.dist.value.as_str();
        let params: [(&str, Option<&Location>); 6] = [
            ("mean", d.mean.as_ref().map(|v| &v.referenced)),
            ("min", d.min.as_ref().map(|v| &v.referenced)),
            ("max", d.max.as_ref().map(|v| &v.referenced)),
            ("median", d.median.as_ref().map(|v| &v.referenced)),
            ("sigma", d.sigma.as_ref().map(|v| &v.referenced)),
            ("values", d.values.as_ref().map(|v| &v.referenced)),
        ];
        let takes: &[&str] = match kind {
            "exponential" => &["mean"],
            "uniform" => &["min", "max"],
            "lognormal" => &["median", "sigma"],
            "choice" => &["values"],
            other => {
                return Err(self.kube.err(
                    &d.dist.referenced,
                    &format!("{base}.dist"),
                    format!(
                        "unknown distribution {other:?}{}; expected {}",
                        did_you_mean(other, DISTS),
                        one_of(DISTS)
                    ),
                ));
            }
        };
        let takes_text = takes
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        for (key, loc) in params {
            if let Some(loc) = loc
                && !takes.contains(&key)
            {
                return Err(self.kube.err(
                    loc,
                    &format!("{base}.{key}"),
                    format!("`{key}` does not apply to dist: {kind}, which takes {takes_text}"),
                ));
            }
        }
        let required = |v: Option<&Spanned<Scalar>>, key: &str| -> Result<T> {
            let field = format!("{base}.{key}");
            match v {
                Some(v) => parse(self, v, &field),
                None => Err(self.kube.err(
                    at,
                    &field,
                    format!("dist: {kind} needs {takes_text}; `{key}` is missing"),
                )),
            }
        };
        let positive = |v: T, key: &str, loc: Option<&Spanned<Scalar>>| -> Result<T> {
            if v > zero {
                return Ok(v);
            }
            let loc = loc.map_or(at, |l| &l.referenced);
            Err(self.kube.err(
                loc,
                &format!("{base}.{key}"),
                format!("expected a {key} greater than zero, got {v}"),
            ))
        };
        Ok(match kind {
            "exponential" => Dist::Exponential {
                mean: positive(required(d.mean.as_ref(), "mean")?, "mean", d.mean.as_ref())?,
            },
            "uniform" => {
                let min = required(d.min.as_ref(), "min")?;
                let max = required(d.max.as_ref(), "max")?;
                if min > max {
                    let loc = d.max.as_ref().map_or(at, |m| &m.referenced);
                    return Err(self.kube.err(
                        loc,
                        &format!("{base}.max"),
                        format!("max must not be smaller than min ({min}), got {max}"),
                    ));
                }
                Dist::Uniform { min, max }
            }
            "lognormal" => {
                let median = positive(
                    required(d.median.as_ref(), "median")?,
                    "median",
                    d.median.as_ref(),
                )?;
                let sigma = match &d.sigma {
                    Some(s) => self.kube.number(s, &format!("{base}.sigma"), true)?,
                    None => {
                        return Err(self.kube.err(
                            at,
                            &format!("{base}.sigma"),
                            format!("dist: lognormal needs {takes_text}; `sigma` is missing"),
                        ));
                    }
                };
                Dist::LogNormal { median, sigma }
            }
            // "choice", the one name left after the check above.
            _ => {
                let values_field = format!("{base}.values");
                let Some(values) = &d.values else {
                    return Err(self.kube.err(
                        at,
                        &values_field,
                        format!("dist: choice needs {takes_text}; `values` is missing"),
                    ));
                };
                if values.value.is_empty() {
                    return Err(self.kube.err(
                        &values.referenced,
                        &values_field,
                        "expected at least one value to choose from",
                    ));
                }
                let mut out = Vec::with_capacity(values.value.len());
                for (i, v) in values.value.iter().enumerate() {
                    out.push(parse(self, v, &format!("{values_field}[{i}]"))?);
                }
                Dist::Choice(out)
            }
        })
    }

    // ----- pod template ----------------------------------------------------------------

    /// The pod template every pod of the workload shares, and the requests batch pods draw.
    fn template(
        &mut self,
        w: &RawWorkload,
        name: String,
        owner: OwnerKind,
        singleton: bool,
        is_batch: bool,
        base: &str,
    ) -> Result<(PodTemplate, SizedRequests)> {
        let namespace = match &w.namespace {
            Some(ns) => self
                .kube
                .non_empty(ns, &format!("{base}.namespace"), "a namespace")?,
            None => "default".to_owned(),
        };
        let mut labels = self
            .kube
            .labels(w.labels.as_ref(), &format!("{base}.labels"))?;
        let pod_group = self.workload_pod_group(w, &namespace, &mut labels, base)?;
        let (priority, preemption_policy) = self.pod_priority(w, base)?;

        // Either the shorthand (top-level requests/limits: one container named after the
        // workload) or explicit container lists, never both: mixing them would leave it
        // unclear which container the shorthand describes.
        if w.requests.is_some() || w.limits.is_some() {
            for (key, list) in [
                ("containers", &w.containers),
                ("initContainers", &w.init_containers),
            ] {
                if let Some(list) = list {
                    return Err(self.kube.err(
                        &list.referenced,
                        &format!("{base}.{key}"),
                        format!("`{key}` cannot be combined with the top-level `requests`/`limits`, which describe a single container named after the workload"),
                    ));
                }
            }
        }
        if let Some(ports) = &w.ports {
            for (key, list) in [
                ("containers", &w.containers),
                ("initContainers", &w.init_containers),
            ] {
                if let Some(list) = list {
                    return Err(self.kube.err(
                        &list.referenced,
                        &format!("{base}.{key}"),
                        format!("`{key}` cannot be combined with the top-level `ports` (line {}), which describe a single container named after the workload; list the ports under each container instead", ports.referenced.line()),
                    ));
                }
            }
        }
        let mut sized = Vec::new();
        let mut container_names: HashMap<String, String> = HashMap::new();
        let containers = match &w.containers {
            Some(list) => {
                if list.value.is_empty() {
                    return Err(self.kube.err(
                        &list.referenced,
                        &format!("{base}.containers"),
                        "expected at least one container",
                    ));
                }
                self.containers(
                    &list.value,
                    &format!("{base}.containers"),
                    &mut container_names,
                )?
            }
            None => {
                let mut c = ContainerResources {
                    name: name.clone(),
                    ..Default::default()
                };
                if let Some(requests) = &w.requests {
                    let req_base = format!("{base}.requests");
                    for (key, value) in &requests.value.0 {
                        let field = field_path::key(&req_base, &key.value);
                        let kind = self.kube.pod_resource_kind(&mut self.names, key, &field)?;
                        match &value.value {
                            ScalarOrDist::Dist(_) if is_batch => {
                                let quantity = |b: &Builder<'_>, v: &Spanned<Scalar>, f: &str| {
                                    b.kube.quantity(kind, v, f)
                                };
                                sized.push((
                                    kind,
                                    self.scalar_or_dist(value, &field, &quantity, 0)?,
                                ));
                            }
                            _ => {
                                let v = self.constant(value, &field)?;
                                c.set_request(kind, self.kube.quantity(kind, &v, &field)?);
                            }
                        }
                    }
                }
                if let Some(limits) = &w.limits {
                    self.kube.set_limits(
                        &mut self.names,
                        &mut c,
                        &limits.value,
                        &format!("{base}.limits"),
                    )?;
                }
                if let Some(ports) = &w.ports {
                    c.host_ports =
                        self.kube
                            .ports(ports, &format!("{base}.ports"), &mut HashMap::new())?;
                }
                self.kube.check_requests_within_limits(
                    &self.names,
                    &c,
                    w.requests.as_ref().map(|r| &r.value),
                    &format!("{base}.requests"),
                )?;
                vec![c]
            }
        };
        let init_containers = match &w.init_containers {
            Some(list) => self.containers(
                &list.value,
                &format!("{base}.initContainers"),
                &mut container_names,
            )?,
            None => Vec::new(),
        };

        let mut overhead = Resources::ZERO;
        if let Some(map) = &w.overhead {
            for (kind, amount) in
                self.kube
                    .pod_quantities(&mut self.names, map, &format!("{base}.overhead"))?
            {
                overhead.set(kind, amount);
            }
        }
        let node_selector = self
            .kube
            .labels(w.node_selector.as_ref(), &format!("{base}.nodeSelector"))?;
        let mut tolerations = Vec::new();
        for (i, t) in w.tolerations.iter().flatten().enumerate() {
            tolerations.push(
                self.kube
                    .toleration(t, &format!("{base}.tolerations[{i}]"))?,
            );
        }
        let affinity = w.affinity.as_ref();
        let node_affinity = match affinity.and_then(|a| a.node_affinity.as_ref()) {
            Some(a) => Some(self.kube.node_affinity(
                a,
                &format!("{base}.affinity.nodeAffinity"),
                NodeAffinityRules::Pod,
            )?),
            None => None,
        };
        let pod_affinity = match affinity.and_then(|a| a.pod_affinity.as_ref()) {
            Some(a) => Some(
                self.kube
                    .pod_affinity(a, &format!("{base}.affinity.podAffinity"))?,
            ),
            None => None,
        };
        let pod_anti_affinity = match affinity.and_then(|a| a.pod_anti_affinity.as_ref()) {
            Some(a) => Some(
                self.kube
                    .pod_affinity(a, &format!("{base}.affinity.podAntiAffinity"))?,
            ),
            None => None,
        };
        let topology_spread_constraints = self.kube.spread_constraints(
            w.topology_spread_constraints.as_deref().unwrap_or_default(),
            &format!("{base}.topologySpreadConstraints"),
        )?;
        let node_name = match &w.node_name {
            Some(n) => Some(
                self.kube
                    .non_empty(n, &format!("{base}.nodeName"), "a node name")?,
            ),
            None => None,
        };
        let volume_claims = self.pod_volumes(
            w.volumes.as_deref().unwrap_or_default(),
            &namespace,
            &format!("{base}.volumes"),
        )?;
        let termination_grace_period_seconds = match &w.termination_grace_period_seconds {
            Some(v) => self.kube.integer(
                v,
                &format!("{base}.terminationGracePeriodSeconds"),
                0,
                u32::MAX.into(),
                "a non-negative number of seconds",
            )? as u32,
            // Kubernetes' default.
            None => 30,
        };
        let template = PodTemplate {
            termination_grace_period_seconds,
            name,
            namespace,
            labels,
            containers,
            init_containers,
            overhead,
            priority,
            tolerations,
            node_selector,
            node_affinity,
            node_name,
            owner,
            singleton,
            preemption_policy,
            pod_affinity,
            pod_anti_affinity,
            topology_spread_constraints,
            volume_claims,
            pod_group,
            gpu: self.pod_gpu(w.gpu.as_ref(), w.gpu_models.as_ref(), base)?,
        };
        Ok((template, sized))
    }

    /// A single value where a distribution is not allowed.
    fn constant(&self, v: &Spanned<ScalarOrDist>, field: &str) -> Result<Spanned<Scalar>> {
        match &v.value {
            ScalarOrDist::Scalar(s) => Ok(Spanned::new(s.clone(), v.referenced, v.defined)),
            ScalarOrDist::Dist(_) => Err(self.kube.err(
                &v.referenced,
                field,
                "a distribution is only allowed in a batch workload's top-level `requests`; expected a single quantity",
            )),
        }
    }

    /// `containers` or `initContainers`; names must be unique across both lists.
    fn containers(
        &mut self,
        list: &[Spanned<RawContainer>],
        base: &str,
        names: &mut HashMap<String, String>,
    ) -> Result<Vec<ContainerResources>> {
        let mut out = Vec::new();
        // Host ports must be unique within the list, as Kubernetes checks each list.
        let mut host_ports = HashMap::new();
        for (i, item) in list.iter().enumerate() {
            let c_base = format!("{base}[{i}]");
            let raw = &item.value;
            let name_field = format!("{c_base}.name");
            let name = self
                .kube
                .non_empty(&raw.name, &name_field, "a container name")?;
            if let Some(first) = names.get(&name) {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate container name {name:?}: {first} already uses it"),
                ));
            }
            names.insert(
                name.clone(),
                format!("{c_base}{}", at_line(&raw.name.referenced)),
            );
            let mut c = ContainerResources {
                name,
                ..Default::default()
            };
            let requests = raw.requests.as_ref().unwrap_or(&EMPTY_REQUESTS);
            for (key, value) in &requests.0 {
                let field = field_path::key(&format!("{c_base}.requests"), &key.value);
                let kind = self.kube.pod_resource_kind(&mut self.names, key, &field)?;
                let v = self.constant(value, &field)?;
                c.set_request(kind, self.kube.quantity(kind, &v, &field)?);
            }
            if let Some(limits) = &raw.limits {
                self.kube.set_limits(
                    &mut self.names,
                    &mut c,
                    limits,
                    &format!("{c_base}.limits"),
                )?;
            }
            self.kube.check_requests_within_limits(
                &self.names,
                &c,
                raw.requests.as_ref(),
                &format!("{c_base}.requests"),
            )?;
            if let Some(ports) = &raw.ports {
                c.host_ports =
                    self.kube
                        .ports(ports, &format!("{c_base}.ports"), &mut host_ports)?;
            }
            out.push(c);
        }
        Ok(out)
    }
}

/// The requests of a container that gives none.
static EMPTY_REQUESTS: RequestMap = Entries(Vec::new());

/// The label every kubelet puts on its node, which hostname-keyed spread constraints and
/// anti-affinity terms rely on; a label the file sets itself is kept.
fn with_hostname_label(mut node: NodeSpec) -> NodeSpec {
    const HOSTNAME: &str = "kubernetes.io/hostname";
    if node.labels.get(HOSTNAME).is_none() {
        node.labels.insert(HOSTNAME.to_string(), node.name.clone());
    }
    node
}

// ----- storage ---------------------------------------------------------------------------

impl Builder<'_> {
    /// A DNS subdomain name of a storage object (`what`: "storage class", ...).
    fn storage_name(&self, v: &Spanned<String>, field: &str, what: &str) -> Result<String> {
        let name = self.kube.non_empty(v, field, &format!("a {what} name"))?;
        match dns_subdomain_error(&name) {
            None => Ok(name),
            Some(why) => Err(self.kube.err(
                &v.referenced,
                field,
                format!("invalid {what} name {}: {why}", quoted(&name)),
            )),
        }
    }

    /// A `storage` size.
    fn storage(&self, v: &RawStorage, field: &str) -> Result<i64> {
        let bytes = self
            .kube
            .quantity(ResourceKind::EPHEMERAL_STORAGE, &v.storage, field)?;
        if bytes <= 0 {
            return Err(self.kube.err(
                &v.storage.referenced,
                field,
                format!("expected a positive size, got {}", v.storage.value.0),
            ));
        }
        Ok(bytes)
    }

    /// A `storageClassName`, which must name a class of `storageClasses` (Kubernetes
    /// accepts a missing class, but in a scenario it can only be a typo).
    fn storage_class_name(&self, v: Option<&Spanned<String>>, field: &str) -> Result<String> {
        let Some(v) = v else {
            return Ok(String::new());
        };
        if v.value.is_empty() || self.volumes.class(&v.value).is_some() {
            return Ok(v.value.clone());
        }
        let known: Vec<&str> = self
            .volumes
            .classes()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        Err(self.kube.err(
            &v.referenced,
            field,
            format!(
                "unknown storage class {}{}; storageClasses defines {}",
                quoted(&v.value),
                did_you_mean(&v.value, &known),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    one_of(&known)
                }
            ),
        ))
    }

    /// `storageClasses`.
    fn storage_classes(&mut self, list: &[Spanned<RawStorageClass>]) -> Result<()> {
        for (i, item) in list.iter().enumerate() {
            let base = format!("storageClasses[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let name = self.storage_name(&raw.name, &name_field, "storage class")?;
            if self.volumes.class(&name).is_some() {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate storage class {}", quoted(&name)),
                ));
            }
            let volume_binding_mode = match &raw.volume_binding_mode {
                None => VolumeBindingMode::Immediate,
                Some(v) => VolumeBindingMode::parse(&v.value).ok_or_else(|| {
                    self.kube.err(
                        &v.referenced,
                        &format!("{base}.volumeBindingMode"),
                        format!(
                            "unknown volume binding mode {}{}; expected {}",
                            quoted(&v.value),
                            did_you_mean(&v.value, BINDING_MODES),
                            one_of(BINDING_MODES)
                        ),
                    )
                })?,
            };
            let mut allowed_topologies = Vec::new();
            for (t, term) in raw.allowed_topologies.iter().flatten().enumerate() {
                let tbase = format!("{base}.allowedTopologies[{t}].matchLabelExpressions");
                let exprs = &term.value.match_label_expressions;
                if exprs.value.is_empty() {
                    return Err(self.kube.err(
                        &exprs.referenced,
                        &tbase,
                        "expected at least one label expression",
                    ));
                }
                let mut out = NodeSelectorTerm::default();
                for (r, req) in exprs.value.iter().enumerate() {
                    let rbase = format!("{tbase}[{r}]");
                    let key = self
                        .kube
                        .label_key(&req.value.key, &format!("{rbase}.key"))?;
                    if req.value.values.value.is_empty() {
                        return Err(self.kube.err(
                            &req.value.values.referenced,
                            &format!("{rbase}.values"),
                            "expected at least one value",
                        ));
                    }
                    let mut values = Vec::new();
                    for (k, v) in req.value.values.value.iter().enumerate() {
                        values.push(self.kube.label_value(v, &format!("{rbase}.values[{k}]"))?);
                    }
                    out.match_expressions.push(SelectorRequirement {
                        key,
                        operator: SelectorOperator::In,
                        values,
                    });
                }
                allowed_topologies.push(out);
            }
            self.volumes
                .add_class(StorageClass {
                    name,
                    volume_binding_mode,
                    allowed_topologies,
                })
                .expect("the name was checked to be new");
        }
        Ok(())
    }

    /// `persistentVolumes`.
    fn persistent_volumes(&mut self, list: &[Spanned<RawPersistentVolume>]) -> Result<()> {
        for (i, item) in list.iter().enumerate() {
            let base = format!("persistentVolumes[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let name = self.storage_name(&raw.name, &name_field, "persistent volume")?;
            if self.volumes.volume(&name).is_some() {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate persistent volume {}", quoted(&name)),
                ));
            }
            let labels = self
                .kube
                .labels(raw.labels.as_ref(), &format!("{base}.labels"))?;
            let capacity =
                self.storage(&raw.capacity.value, &format!("{base}.capacity.storage"))?;
            let storage_class = self.storage_class_name(
                raw.storage_class_name.as_ref(),
                &format!("{base}.storageClassName"),
            )?;
            let node_affinity = match &raw.node_affinity {
                None => None,
                Some(a) => Some(self.kube.node_selector(
                    &a.value.required,
                    &format!("{base}.nodeAffinity.required"),
                    NodeAffinityRules::Pod,
                )?),
            };
            self.volumes
                .add_volume(PersistentVolume {
                    name,
                    capacity,
                    storage_class,
                    node_affinity,
                    labels,
                    claim_ref: None,
                })
                .expect("the name was checked to be new");
        }
        Ok(())
    }

    /// `persistentVolumeClaims`; a claim naming a `volumeName` is bound to it.
    fn claims(&mut self, list: &[Spanned<RawClaim>]) -> Result<()> {
        for (i, item) in list.iter().enumerate() {
            let base = format!("persistentVolumeClaims[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let name = self.storage_name(&raw.name, &name_field, "persistent volume claim")?;
            let namespace = match &raw.namespace {
                Some(ns) => self
                    .kube
                    .non_empty(ns, &format!("{base}.namespace"), "a namespace")?,
                None => "default".to_owned(),
            };
            if self.volumes.claim(&namespace, &name).is_some() {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!(
                        "duplicate persistent volume claim {} in namespace {}",
                        quoted(&name),
                        quoted(&namespace)
                    ),
                ));
            }
            let request = self.storage(
                &raw.resources.value.requests.value,
                &format!("{base}.resources.requests.storage"),
            )?;
            let storage_class = self.storage_class_name(
                raw.storage_class_name.as_ref(),
                &format!("{base}.storageClassName"),
            )?;
            self.volumes
                .add_claim(PersistentVolumeClaim {
                    name: name.clone(),
                    namespace: namespace.clone(),
                    storage_class,
                    request,
                    bound_volume: None,
                })
                .expect("the name was checked to be new");
            if let Some(v) = &raw.volume_name {
                let field = format!("{base}.volumeName");
                if let Err(e) = self.volumes.bind(&namespace, &name, &v.value) {
                    let message = match e {
                        schedulers::volumes::VolumeError::Unsuitable(_) => format!(
                            "persistent volume {} cannot hold this claim: it must have the claim's storage class and at least its requested size",
                            quoted(&v.value)
                        ),
                        other => other.to_string(),
                    };
                    return Err(self.kube.err(&v.referenced, &field, message));
                }
            }
        }
        Ok(())
    }

    /// A workload's `volumes`: the names of the claims it mounts, each of which must exist
    /// in the workload's namespace.
    fn pod_volumes(
        &self,
        list: &[Spanned<RawVolume>],
        namespace: &str,
        base: &str,
    ) -> Result<Vec<String>> {
        let mut claims = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let vbase = format!("{base}[{i}]");
            let name =
                self.kube
                    .non_empty(&v.value.name, &format!("{vbase}.name"), "a volume name")?;
            if names.contains(&name.as_str()) {
                return Err(self.kube.err(
                    &v.value.name.referenced,
                    &format!("{vbase}.name"),
                    format!("duplicate volume name {}", quoted(&name)),
                ));
            }
            names.push(&v.value.name.value);
            let Some(source) = &v.value.persistent_volume_claim else {
                return Err(self.kube.err(
                    &v.referenced,
                    &vbase,
                    "expected `persistentVolumeClaim: {claimName: ...}`: schedlab models no other volume sources",
                ));
            };
            let claim = &source.value.claim_name;
            let field = format!("{vbase}.persistentVolumeClaim.claimName");
            let claim_name = self.kube.non_empty(claim, &field, "a claim name")?;
            if self.volumes.claim(namespace, &claim_name).is_none() {
                let known: Vec<&str> = self
                    .volumes
                    .claims()
                    .iter()
                    .filter(|c| c.namespace == namespace)
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(self.kube.err(
                    &claim.referenced,
                    &field,
                    format!(
                        "persistentVolumeClaims has no claim {} in namespace {}{}",
                        quoted(&claim_name),
                        quoted(namespace),
                        did_you_mean(&claim_name, &known)
                    ),
                ));
            }
            if !claims.contains(&claim_name) {
                claims.push(claim_name);
            }
        }
        Ok(claims)
    }
}
