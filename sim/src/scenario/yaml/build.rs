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

use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::quantity::{QuantityError, parse_bytes, parse_count, parse_cpu_millis};
use schedulers::volumes::{
    PersistentVolume, PersistentVolumeClaim, StorageClass, VolumeBindingMode, VolumeState,
};
use schedulers::{
    ContainerResources, HostPort, InclusionPolicy, LabelSelector, Labels, NodeAffinity,
    NodeSelectorTerm, NodeSpec, OwnerKind, PodAffinity, PodAffinityTerm, PodTemplate,
    PreemptionPolicy, PreferredTerm, Protocol, ResourceKind, ResourceNames, Resources,
    SelectorOperator, SelectorRequirement, Taint, TaintEffect, Toleration, TolerationOperator,
    TopologySpreadConstraint, WeightedPodAffinityTerm, WhenUnsatisfiable,
};
use serde_saphyr::{Location, Spanned};

use super::names::{dns_label_error, dns_subdomain_error, label_value_error, qualified_name_error};
use super::raw::RawPodGroup;
use super::raw::{
    Entries, LabelMap, QuantityMap, RawArrivals, RawCluster, RawContainer, RawDist,
    RawLabelSelector, RawNodeAffinity, RawPodAffinity, RawPodAffinityTerm, RawPool, RawPort,
    RawPriorityClass, RawRequirement, RawScenario, RawSchedulerConfig, RawSpreadConstraint,
    RawTaint, RawTerm, RawToleration, RawWorkload, RequestMap, Scalar, ScalarOrDist,
};
use super::raw::{RawClaim, RawPersistentVolume, RawStorage, RawStorageClass, RawVolume};
use super::raw::{RawNamespace, RawPdb};
use super::{ScenarioError, closest, join_key, line_column, shown};
use crate::scenario::{ArrivalProcess, Arrivals, Dist, Scenario, Workload, WorkloadKind};
use crate::scheduler_config::{
    SchedulerConfigError, load_scheduler_config, parse_scheduler_config,
};
use crate::time::{SimTime, parse_duration};
use schedulers::gang::{DEFAULT_SCHEDULE_TIMEOUT_SECONDS, POD_GROUP_LABEL, PodGroupSpec};
use schedulers::pdb::{Budget, IntOrPercent, PodDisruptionBudget};

mod gpu;

const BINDING_MODES: &[&str] = &["Immediate", "WaitForFirstConsumer"];

/// Pod slots a node offers when its `allocatable` leaves `pods` out (the kubelet default).
const DEFAULT_MAX_PODS: i64 = 110;
/// The most nodes one scenario may define. Far above the 10,000-node target scale, but a
/// typo'd `count: 1000000000` is an error instead of an allocation that aborts the process.
const MAX_NODES: u64 = 1_000_000;
/// `sampleInterval` when absent.
const DEFAULT_SAMPLE_INTERVAL: SimTime = SimTime::from_secs(60);
/// `startLatency` when absent.
const DEFAULT_START_LATENCY: SimTime = SimTime::from_secs(1);

const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];
const SELECTOR_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"];
const TOLERATION_OPERATORS: &[&str] = &["Equal", "Exists"];
const PROCESSES: &[&str] = &["poisson", "fixed", "burst"];
const DISTS: &[&str] = &["exponential", "uniform", "lognormal", "choice"];
const BUILTIN_RESOURCES: &[&str] = &["cpu", "memory", "ephemeral-storage", "pods"];
/// The operators of a label selector; `Gt` and `Lt` exist only in node selectors.
const LABEL_SELECTOR_OPERATORS: &[&str] = &["In", "NotIn", "Exists", "DoesNotExist"];
const PREEMPTION_POLICIES: &[&str] = &["PreemptLowerPriority", "Never"];
const WHEN_UNSATISFIABLE: &[&str] = &["DoNotSchedule", "ScheduleAnyway"];
const INCLUSION_POLICIES: &[&str] = &["Honor", "Ignore"];
/// The longest port name Kubernetes accepts (an IANA service name).
const MAX_PORT_NAME_LEN: usize = 15;
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
        file,
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
            let n = b.integer(v, "seed", 0, u64::MAX.into(), "a non-negative integer")?;
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
        queue: Default::default(),
        gpu_fill: None,
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

/// Where a value is, for "already defined at line N" in messages.
fn at_line(loc: &Location) -> String {
    if loc.line() == 0 {
        String::new()
    } else {
        format!(" (line {})", loc.line())
    }
}

/// A list of names for a message: `a, b or c`.
fn one_of(options: &[&str]) -> String {
    match options {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// "; expected X" after a parser's reason, unless the reason already says what it expected.
fn with_hint(reason: &str, expected: &str) -> String {
    if reason.contains("expected") {
        String::new()
    } else {
        format!("; expected {expected}")
    }
}

/// " (did you mean X?)" when `word` is a likely typo of one of `options`.
fn did_you_mean(word: &str, options: &[&str]) -> String {
    closest(word, options)
        .map(|c| format!(" (did you mean {c}?)"))
        .unwrap_or_default()
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

/// A value for a message, always quoted and escaped, and shortened when long.
fn quoted(s: &str) -> String {
    const MAX_CHARS: usize = 60;
    if s.chars().count() > MAX_CHARS {
        format!("{:?}…", s.chars().take(MAX_CHARS).collect::<String>())
    } else {
        format!("{s:?}")
    }
}

/// The name of a preemption policy, as the file spells it.
fn policy_name(p: PreemptionPolicy) -> &'static str {
    match p {
        PreemptionPolicy::PreemptLowerPriority => "PreemptLowerPriority",
        PreemptionPolicy::Never => "Never",
    }
}

/// The name of a `whenUnsatisfiable` action, as the file spells it.
fn when_name(w: WhenUnsatisfiable) -> &'static str {
    match w {
        WhenUnsatisfiable::DoNotSchedule => "DoNotSchedule",
        WhenUnsatisfiable::ScheduleAnyway => "ScheduleAnyway",
    }
}

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
    file: &'a str,
    names: ResourceNames,
    classes: Vec<PriorityClass>,
    /// Storage, checked before workloads, which name its claims.
    volumes: VolumeState,
    /// Pod groups, checked before workloads, which join them.
    pod_groups: Vec<PodGroupSpec>,
}

impl Builder<'_> {
    /// An error at `at` in `field`.
    fn err(&self, at: &Location, field: &str, message: impl Into<String>) -> ScenarioError {
        let (line, column) = line_column(at);
        ScenarioError {
            path: self.file.to_owned(),
            line,
            column,
            field: (!field.is_empty()).then(|| field.to_owned()),
            message: message.into(),
        }
    }

    // ----- single values -------------------------------------------------------------

    /// A name that must not be empty.
    fn non_empty(&self, v: &Spanned<String>, field: &str, what: &str) -> Result<String> {
        if v.value.is_empty() {
            return Err(self.err(
                &v.referenced,
                field,
                format!("expected {what}, got an empty string"),
            ));
        }
        Ok(v.value.clone())
    }

    /// The scenario name, which ends up in output paths.
    fn scenario_name(&self, v: &Spanned<String>) -> Result<String> {
        let name = self.non_empty(v, "name", "a name")?;
        if name == "."
            || name == ".."
            || name.contains(['/', '\\'])
            || name.chars().any(char::is_control)
        {
            return Err(self.err(
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

    /// An integer in `min..=max`; `what` describes the expected value for the message.
    fn integer(
        &self,
        v: &Spanned<Scalar>,
        field: &str,
        min: i128,
        max: i128,
        what: &str,
    ) -> Result<i128> {
        let text = &v.value.0;
        // The range is worth stating when the number was out of it, or always when it is
        // small enough to be a rule of its own (a weight from 1 to 100); a negative number
        // for "a non-negative integer" needs no range to explain it.
        let range = format!(" from {min} to {max}");
        let bound = match text.parse::<i128>() {
            Ok(n) if (min..=max).contains(&n) => return Ok(n),
            Ok(n) if n < 0 && min == 0 => String::new(),
            Ok(_) => range,
            Err(_) if max - min <= 1000 => range,
            Err(_) => String::new(),
        };
        Err(self.err(
            &v.referenced,
            field,
            format!("expected {what}{bound}, got {}", shown(text)),
        ))
    }

    /// A `u32` count (`count`, `replicas`).
    fn count_u32(&self, v: &Spanned<Scalar>, field: &str) -> Result<u32> {
        let n = self.integer(v, field, 0, u32::MAX.into(), "a non-negative integer")?;
        // In range by the check above.
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// A finite number that is positive, or non-negative when `allow_zero`.
    fn number(&self, v: &Spanned<Scalar>, field: &str, allow_zero: bool) -> Result<f64> {
        let text = &v.value.0;
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (x > 0.0 || (allow_zero && x == 0.0)) => Ok(x),
            _ => {
                let what = if allow_zero {
                    "a non-negative number"
                } else {
                    "a positive number"
                };
                Err(self.err(
                    &v.referenced,
                    field,
                    format!("expected {what}, got {}", shown(text)),
                ))
            }
        }
    }

    /// A Go-style duration (`90s`, `1h30m`).
    fn duration(&self, v: &Spanned<Scalar>, field: &str) -> Result<SimTime> {
        parse_duration(&v.value.0).map_err(|e| {
            let hint = with_hint(&e.reason, "a duration such as 500ms, 90s, 10m or 1h30m");
            self.err(&v.referenced, field, format!("{e}{hint}"))
        })
    }

    /// A duration that must be longer than zero.
    fn positive_duration(&self, v: &Spanned<Scalar>, field: &str) -> Result<SimTime> {
        let d = self.duration(v, field)?;
        if d == SimTime::ZERO {
            return Err(self.err(
                &v.referenced,
                field,
                "expected a duration longer than zero, got 0",
            ));
        }
        Ok(d)
    }

    /// A quantity of resource `kind`, in its base unit (millicores, bytes or a count).
    fn quantity(&self, kind: ResourceKind, v: &Spanned<Scalar>, field: &str) -> Result<i64> {
        let parse: fn(&str) -> std::result::Result<i64, QuantityError> = match kind {
            ResourceKind::CPU => parse_cpu_millis,
            ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => parse_bytes,
            _ => parse_count,
        };
        parse(&v.value.0).map_err(|e| {
            let example = match kind {
                ResourceKind::CPU => "a cpu quantity such as 500m, 2 or 1.5",
                ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => {
                    "a size such as 512Mi, 4Gi or 1G"
                }
                _ => "a count such as 1, 8 or 110",
            };
            let hint = with_hint(&e.reason, example);
            self.err(&v.referenced, field, format!("{e}{hint}"))
        })
    }

    // ----- resources -----------------------------------------------------------------

    /// The kind a resource name stands for, numbering extended resources in file order.
    fn resource_kind(&mut self, key: &Spanned<String>, field: &str) -> Result<ResourceKind> {
        let name = key.value.as_str();
        if let Some(kind) = self.names.lookup(name) {
            return Ok(kind);
        }
        // Kubernetes extended resources are domain-prefixed (`nvidia.com/gpu`); hugepages
        // are the one unprefixed family. Anything else is most likely a typo of a built-in.
        if !(name.contains('/') || name.starts_with("hugepages-")) {
            return Err(self.err(
                &key.referenced,
                field,
                format!(
                    "unknown resource {name:?}{}; expected cpu, memory, ephemeral-storage, pods or an extended resource with a domain prefix such as nvidia.com/gpu",
                    did_you_mean(name, BUILTIN_RESOURCES)
                ),
            ));
        }
        self.names
            .intern(name)
            .map_err(|e| self.err(&key.referenced, field, e.to_string()))
    }

    /// A node's `allocatable`: pods default to 110, other kinds to zero.
    fn allocatable(&mut self, map: Option<&QuantityMap>, base: &str) -> Result<Resources> {
        let mut r = Resources::ZERO;
        r.set(ResourceKind::PODS, DEFAULT_MAX_PODS);
        for (key, value) in map.map(|m| m.0.as_slice()).unwrap_or_default() {
            let field = join_key(base, &key.value);
            let kind = self.resource_kind(key, &field)?;
            r.set(kind, self.quantity(kind, value, &field)?);
        }
        Ok(r)
    }

    /// The kind of a key in a pod's `requests`, `limits` or `overhead`, where pod slots cannot
    /// be asked for: every pod takes exactly one.
    fn pod_resource_kind(&mut self, key: &Spanned<String>, field: &str) -> Result<ResourceKind> {
        let kind = self.resource_kind(key, field)?;
        if kind == ResourceKind::PODS {
            return Err(self.err(
                &key.referenced,
                field,
                "`pods` is only set in a node's allocatable; every pod takes one pod slot",
            ));
        }
        Ok(kind)
    }

    /// A map of single quantities on the pod side (`overhead`, `limits`).
    fn pod_quantities(
        &mut self,
        map: &QuantityMap,
        base: &str,
    ) -> Result<Vec<(ResourceKind, i64)>> {
        let mut out = Vec::new();
        for (key, value) in &map.0 {
            let field = join_key(base, &key.value);
            let kind = self.pod_resource_kind(key, &field)?;
            out.push((kind, self.quantity(kind, value, &field)?));
        }
        Ok(out)
    }

    // ----- labels, taints, selectors ---------------------------------------------------

    /// A label map (`labels`, `nodeSelector`).
    fn labels(&self, map: Option<&LabelMap>, base: &str) -> Result<Labels> {
        let mut labels = Labels::default();
        for (key, value) in map.map(|m| m.0.as_slice()).unwrap_or_default() {
            let field = join_key(base, &key.value);
            let key = self.non_empty(key, &field, "a label key")?;
            labels.insert(key, value.value.clone());
        }
        Ok(labels)
    }

    /// The value count rules shared by node and label selector requirements: `In` and
    /// `NotIn` need values, `Exists` and `DoesNotExist` take none.
    fn check_value_count(
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

    /// A taint effect, which Kubernetes spells in CamelCase.
    fn taint_effect(&self, v: &Spanned<String>, field: &str) -> Result<TaintEffect> {
        TaintEffect::parse(&v.value).ok_or_else(|| {
            self.err(
                &v.referenced,
                field,
                format!(
                    "unknown taint effect {:?}{}; expected {}",
                    v.value,
                    did_you_mean(&v.value, TAINT_EFFECTS),
                    one_of(TAINT_EFFECTS)
                ),
            )
        })
    }

    /// A node taint.
    fn taint(&self, t: &RawTaint, base: &str) -> Result<Taint> {
        Ok(Taint {
            key: self.non_empty(&t.key, &format!("{base}.key"), "a taint key")?,
            value: t.value.clone().unwrap_or_default(),
            effect: self.taint_effect(&t.effect, &format!("{base}.effect"))?,
        })
    }

    /// A pod toleration, with Kubernetes' validation rules.
    fn toleration(&self, t: &Spanned<RawToleration>, base: &str) -> Result<Toleration> {
        let raw = &t.value;
        let operator = match &raw.operator {
            None => TolerationOperator::Equal,
            Some(op) => match op.value.as_str() {
                "Equal" => TolerationOperator::Equal,
                "Exists" => TolerationOperator::Exists,
                other => {
                    return Err(self.err(
                        &op.referenced,
                        &format!("{base}.operator"),
                        format!(
                            "unknown toleration operator {other:?}{}; expected {}",
                            did_you_mean(other, TOLERATION_OPERATORS),
                            one_of(TOLERATION_OPERATORS)
                        ),
                    ));
                }
            },
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

    /// A selector requirement; `fields` for `matchFields`, where only `metadata.name` exists.
    fn requirement(
        &self,
        r: &Spanned<RawRequirement>,
        base: &str,
        fields: bool,
    ) -> Result<SelectorRequirement> {
        let raw = &r.value;
        let key = self.non_empty(&raw.key, &format!("{base}.key"), "a label key")?;
        if fields && key != "metadata.name" {
            return Err(self.err(
                &raw.key.referenced,
                &format!("{base}.key"),
                format!("unknown node field {key:?}; matchFields supports only metadata.name"),
            ));
        }
        let op_field = format!("{base}.operator");
        let operator = SelectorOperator::parse(&raw.operator.value).ok_or_else(|| {
            self.err(
                &raw.operator.referenced,
                &op_field,
                format!(
                    "unknown selector operator {:?}{}; expected {}",
                    raw.operator.value,
                    did_you_mean(&raw.operator.value, SELECTOR_OPERATORS),
                    one_of(SELECTOR_OPERATORS)
                ),
            )
        })?;
        if fields && !matches!(operator, SelectorOperator::In | SelectorOperator::NotIn) {
            return Err(self.err(
                &raw.operator.referenced,
                &op_field,
                "matchFields supports only In and NotIn",
            ));
        }
        let values: Vec<String> = raw
            .values
            .as_ref()
            .map(|v| v.value.iter().map(|s| s.value.clone()).collect())
            .unwrap_or_default();
        let values_at = raw.values.as_ref().map_or(&r.referenced, |v| &v.referenced);
        let values_field = format!("{base}.values");
        let op = &raw.operator.value;
        match operator {
            SelectorOperator::In
            | SelectorOperator::NotIn
            | SelectorOperator::Exists
            | SelectorOperator::DoesNotExist => {
                self.check_value_count(operator, values.len(), values_at, &values_field, op)?;
            }
            SelectorOperator::Gt | SelectorOperator::Lt => {
                if values.len() != 1 {
                    return Err(self.err(
                        values_at,
                        &values_field,
                        format!(
                            "operator {op} needs exactly one integer value, got {}",
                            values.len()
                        ),
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
            }
        }
        Ok(SelectorRequirement {
            key,
            operator,
            values,
        })
    }

    /// A node selector term.
    fn term(&self, t: &RawTerm, base: &str) -> Result<NodeSelectorTerm> {
        let mut term = NodeSelectorTerm::default();
        for (i, r) in t.match_expressions.iter().flatten().enumerate() {
            term.match_expressions.push(self.requirement(
                r,
                &format!("{base}.matchExpressions[{i}]"),
                false,
            )?);
        }
        for (i, r) in t.match_fields.iter().flatten().enumerate() {
            term.match_fields.push(self.requirement(
                r,
                &format!("{base}.matchFields[{i}]"),
                true,
            )?);
        }
        Ok(term)
    }

    /// `affinity.nodeAffinity`.
    fn node_affinity(&self, a: &RawNodeAffinity, base: &str) -> Result<NodeAffinity> {
        let mut affinity = NodeAffinity::default();
        if let Some(required) = &a.required_during_scheduling_ignored_during_execution {
            let req_base =
                format!("{base}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
            let mut terms = Vec::new();
            for (i, t) in required.node_selector_terms.value.iter().enumerate() {
                terms.push(self.term(&t.value, &format!("{req_base}[{i}]"))?);
            }
            if terms.is_empty() {
                // Kubernetes rejects this too: an empty list would match no node at all.
                let at = &required.node_selector_terms.referenced;
                return Err(self.err(at, &req_base, "expected at least one node selector term"));
            }
            affinity.required = Some(terms);
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
            affinity.preferred.push(PreferredTerm {
                weight: i32::try_from(weight).unwrap_or(100),
                preference: self.term(&p.value.preference.value, &format!("{item}.preference"))?,
            });
        }
        Ok(affinity)
    }

    // ----- pod affinity and topology spread --------------------------------------------

    /// A label key: a Kubernetes qualified name such as `app` or `topology.kubernetes.io/zone`.
    fn label_key(&self, v: &Spanned<String>, field: &str) -> Result<String> {
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
    fn label_value(&self, v: &Spanned<String>, field: &str) -> Result<String> {
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
    fn label_selector(&self, s: &RawLabelSelector, base: &str) -> Result<LabelSelector> {
        let mut selector = LabelSelector::default();
        let labels_base = format!("{base}.matchLabels");
        for (key, value) in s.match_labels.iter().flat_map(|m| &m.0) {
            let field = join_key(&labels_base, &key.value);
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

    /// `affinity.podAffinity` or `affinity.podAntiAffinity`.
    fn pod_affinity(&self, a: &RawPodAffinity, base: &str) -> Result<PodAffinity> {
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
        match v.value.as_str() {
            "Honor" => Ok(InclusionPolicy::Honor),
            "Ignore" => Ok(InclusionPolicy::Ignore),
            other => Err(self.err(
                &v.referenced,
                field,
                format!(
                    "unknown policy {other:?}{}; expected {}",
                    did_you_mean(other, INCLUSION_POLICIES),
                    one_of(INCLUSION_POLICIES)
                ),
            )),
        }
    }

    /// `topologySpreadConstraints`, checked as the API server does; no two may share their
    /// `topologyKey` and `whenUnsatisfiable`.
    fn spread_constraints(
        &self,
        list: &[Spanned<RawSpreadConstraint>],
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
                Some(v) => match v.value.as_str() {
                    "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
                    "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
                    other => {
                        return Err(self.err(
                            &v.referenced,
                            &when_field,
                            format!(
                                "unknown whenUnsatisfiable {other:?}{}; expected {}",
                                did_you_mean(other, WHEN_UNSATISFIABLE),
                                one_of(WHEN_UNSATISFIABLE)
                            ),
                        ));
                    }
                },
                None => {
                    return Err(self.err(
                        &item.referenced,
                        &when_field,
                        "missing required field `whenUnsatisfiable` (DoNotSchedule for a hard constraint, ScheduleAnyway for a soft one)",
                    ));
                }
            };
            let when = when_name(when_unsatisfiable);
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

    // ----- priority classes ------------------------------------------------------------

    /// A `preemptionPolicy`: `PreemptLowerPriority` or `Never`.
    fn preemption_policy(&self, v: &Spanned<String>, field: &str) -> Result<PreemptionPolicy> {
        match v.value.as_str() {
            "PreemptLowerPriority" => Ok(PreemptionPolicy::PreemptLowerPriority),
            "Never" => Ok(PreemptionPolicy::Never),
            other => Err(self.err(
                &v.referenced,
                field,
                format!(
                    "unknown preemption policy {other:?}{}; expected {}",
                    did_you_mean(other, PREEMPTION_POLICIES),
                    one_of(PREEMPTION_POLICIES)
                ),
            )),
        }
    }

    /// An object's `name` (a DNS subdomain) and `namespace` (a DNS label, `default` when
    /// absent), as PodDisruptionBudgets and PodGroups have them; `kind` names the object in
    /// errors.
    fn object_name(
        &self,
        name: &Spanned<String>,
        namespace: Option<&Spanned<String>>,
        base: &str,
        kind: &str,
    ) -> Result<(String, String)> {
        let name_field = format!("{base}.name");
        let value = self.non_empty(name, &name_field, &format!("a {kind} name"))?;
        if let Some(why) = dns_subdomain_error(&value) {
            return Err(self.err(
                &name.referenced,
                &name_field,
                format!("invalid {kind} name {}: {why}", quoted(&value)),
            ));
        }
        let namespace = match namespace {
            Some(ns) => {
                let field = format!("{base}.namespace");
                let ns_name = self.non_empty(ns, &field, "a namespace")?;
                if let Some(why) = dns_label_error(&ns_name) {
                    return Err(self.err(
                        &ns.referenced,
                        &field,
                        format!("invalid namespace name {}: {why}", quoted(&ns_name)),
                    ));
                }
                ns_name
            }
            None => "default".to_owned(),
        };
        Ok((value, namespace))
    }

    /// `podDisruptionBudgets:`: a name unique in its namespace, a selector, and exactly one
    /// of `minAvailable` and `maxUnavailable`, each a non-negative integer or a percentage.
    fn pod_disruption_budgets(&self, list: &[Spanned<RawPdb>]) -> Result<Vec<PodDisruptionBudget>> {
        let mut out: Vec<PodDisruptionBudget> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let base = format!("podDisruptionBudgets[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let (name, namespace) = self.object_name(
                &raw.name,
                raw.namespace.as_ref(),
                &base,
                "PodDisruptionBudget",
            )?;
            if out
                .iter()
                .any(|p| p.name == name && p.namespace == namespace)
            {
                return Err(self.err(
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
                Some(s) => self.label_selector(&s.value, &format!("{base}.selector"))?,
                // Upstream: a budget without a selector matches no pod.
                None => LabelSelector::default(),
            };
            let budget = match (&raw.min_available, &raw.max_unavailable) {
                (Some(v), None) => {
                    Budget::MinAvailable(self.int_or_percent(v, &format!("{base}.minAvailable"))?)
                }
                (None, Some(v)) => Budget::MaxUnavailable(
                    self.int_or_percent(v, &format!("{base}.maxUnavailable"))?,
                ),
                (Some(_), Some(v)) => {
                    return Err(self.err(
                        &v.referenced,
                        &format!("{base}.maxUnavailable"),
                        "minAvailable and maxUnavailable cannot both be set",
                    ));
                }
                (None, None) => {
                    return Err(self.err(
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
                self.object_name(&raw.name, raw.namespace.as_ref(), &base, "PodGroup")?;
            if self
                .pod_groups
                .iter()
                .any(|g| g.name == name && g.namespace == namespace)
            {
                return Err(self.err(
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
                return Err(self.err(
                    &item.referenced,
                    &base,
                    "expected minMember: how many of the group's pods must be able to run together",
                ));
            };
            let min_member = self.integer(
                min,
                &format!("{base}.minMember"),
                1,
                i32::MAX.into(),
                "a number of pods",
            )? as u32;
            let schedule_timeout_seconds = match &raw.schedule_timeout_seconds {
                Some(v) => self.integer(
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
                return Err(self.err(
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
            (None, Some(l)) => (l, join_key(&format!("{base}.labels"), POD_GROUP_LABEL)),
            (None, None) => return Ok(None),
        };
        let name = self.non_empty(value, &field, "a PodGroup name")?;
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
            return Err(self.err(
                &value.referenced,
                &field,
                format!("unknown pod group {} ({listed})", quoted(&name)),
            ));
        };
        labels.insert(POD_GROUP_LABEL.to_owned(), name);
        Ok(Some(index as u32))
    }

    /// A non-negative integer or a percentage from `0%` to `100%`, as a budget's
    /// `minAvailable` or `maxUnavailable`.
    fn int_or_percent(&self, v: &Spanned<Scalar>, field: &str) -> Result<IntOrPercent> {
        let text = v.value.0.trim();
        if let Some(number) = text.strip_suffix('%') {
            return match number.parse::<i32>() {
                Ok(p) if (0..=100).contains(&p) && !number.starts_with('+') => {
                    Ok(IntOrPercent::Percent(p))
                }
                _ => Err(self.err(
                    &v.referenced,
                    field,
                    format!(
                        "expected a percentage from 0% to 100%, got {}",
                        shown(&v.value.0)
                    ),
                )),
            };
        }
        let n = self.integer(
            v,
            field,
            0,
            i32::MAX.into(),
            "a non-negative integer or a percentage such as \"50%\"",
        )?;
        Ok(IntOrPercent::Int(i32::try_from(n).unwrap_or(i32::MAX)))
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
                        return Err(self.err(
                            &item.referenced,
                            &field,
                            "missing required field `name` (the namespace's name)",
                        ));
                    };
                    let weight = match &spec.weight {
                        Some(w) => {
                            let n = self.integer(
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
                return Err(self.err(at, &field, "expected a namespace name, got an empty string"));
            }
            if let Some(why) = dns_label_error(&name) {
                return Err(self.err(
                    at,
                    &field,
                    format!("invalid namespace name {}: {why}", quoted(&name)),
                ));
            }
            if out.iter().any(|(n, _)| *n == name) {
                return Err(self.err(
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
            let name = self.non_empty(&raw.name, &name_field, "a priority class name")?;
            if let Some(why) = dns_subdomain_error(&name) {
                return Err(self.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("invalid priority class name {}: {why}", quoted(&name)),
                ));
            }
            if name.starts_with("system-") {
                return Err(self.err(
                    &raw.name.referenced,
                    &name_field,
                    "names starting with `system-` are reserved; the built-in classes system-cluster-critical (2000000000) and system-node-critical (2000001000) exist without being declared",
                ));
            }
            if let Some(first) = classes.iter().find(|c| c.name == name) {
                return Err(self.err(
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
                    let n = self.integer(
                        v,
                        &value_field,
                        i32::MIN.into(),
                        i32::MAX.into(),
                        "an integer",
                    )?;
                    if n > MAX_USER_PRIORITY.into() {
                        return Err(self.err(
                            &v.referenced,
                            &value_field,
                            format!("a declared priority class may have a value of at most {MAX_USER_PRIORITY} (higher values are reserved for the system classes), got {n}"),
                        ));
                    }
                    i32::try_from(n).unwrap_or(0)
                }
                None => {
                    return Err(self.err(
                        &item.referenced,
                        &value_field,
                        "missing required field `value` (the priority of pods in this class; higher goes first)",
                    ));
                }
            };
            let preemption_policy = match &raw.preemption_policy {
                Some(p) => self.preemption_policy(p, &format!("{base}.preemptionPolicy"))?,
                None => PreemptionPolicy::PreemptLowerPriority,
            };
            let global_default = raw.global_default.as_ref().is_some_and(|g| g.value);
            if let Some(g) = &raw.global_default
                && g.value
                && let Some(first) = classes.iter().find(|c| c.global_default)
            {
                return Err(self.err(
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
        let name = self.non_empty(v, field, "a priority class name")?;
        self.classes.iter().find(|c| c.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.classes.iter().map(|c| c.name.as_str()).collect();
            self.err(
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
                let n = self.integer(
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
            Some(p) => Some((p, self.preemption_policy(p, &policy_field)?)),
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
            return Err(self.err(
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
            return Err(self.err(
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
        let from_config = |e: SchedulerConfigError| ScenarioError {
            path: e.path,
            line: e.line,
            column: e.column,
            field: e.field,
            message: e.message,
        };
        let at = &config.referenced;
        let loaded = match &config.value {
            RawSchedulerConfig::Path(path) => {
                if path.trim().is_empty() {
                    return Err(self.err(
                        at,
                        FIELD,
                        "expected the path of a KubeSchedulerConfiguration file, got an empty string",
                    ));
                }
                let dir = Path::new(self.file).parent().unwrap_or(Path::new(""));
                let full = dir.join(path);
                if !full.is_file() {
                    return Err(self.err(
                        at,
                        FIELD,
                        format!(
                            "no scheduler configuration at {} (the path is relative to the scenario's directory)",
                            full.display()
                        ),
                    ));
                }
                load_scheduler_config(&full).map_err(from_config)
            }
            RawSchedulerConfig::Inline => {
                let Some(inline) = inline_text(text, at) else {
                    return Err(self.err(
                        at,
                        FIELD,
                        "cannot find the inline configuration in the text (write it as a block \
                         mapping under a top-level `schedulerConfig:`)",
                    ));
                };
                parse_scheduler_config(&inline, self.file).map_err(|e| ScenarioError {
                    field: Some(match &e.field {
                        Some(f) => format!("{FIELD}.{f}"),
                        None => FIELD.to_owned(),
                    }),
                    ..from_config(e)
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
                    self.file,
                    line.map(|l| format!(":{l}:{}", column.unwrap_or(1)))
                        .unwrap_or_default()
                ),
                ..from_config(e)
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
                return Err(self.err(
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
                return Err(self.err(
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
            let name = self.non_empty(&p.name, &name_field, "a pool name")?;
            if let Some(first) = pool_names.insert(
                name.clone(),
                format!("{base}{}", at_line(&p.name.referenced)),
            ) {
                return Err(self.err(
                    &p.name.referenced,
                    &name_field,
                    format!("duplicate node pool name {name:?}: already used by {first}"),
                ));
            }
            let count_field = format!("{base}.count");
            let count = match &p.count {
                Some(c) => self.count_u32(c, &count_field)?,
                None => {
                    return Err(self.err(
                        &pool.referenced,
                        &count_field,
                        "missing required field `count` (how many nodes the pool has)",
                    ));
                }
            };
            let total = nodes.len() as u64 + u64::from(count);
            if total > MAX_NODES {
                let at = p.count.as_ref().map_or(&pool.referenced, |c| &c.referenced);
                return Err(self.err(
                    at,
                    &count_field,
                    format!("this pool brings the cluster to {total} nodes; a scenario may define at most {MAX_NODES}"),
                ));
            }
            let template = NodeSpec {
                name: String::new(),
                allocatable: self
                    .allocatable(p.allocatable.as_ref(), &format!("{base}.allocatable"))?,
                labels: self.labels(p.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.taints(p.taints.as_deref(), &base)?,
                unschedulable: p.unschedulable.unwrap_or(false),
                gpu: self.node_gpus(p.gpus.as_ref(), p.gpu_model.as_ref(), &base)?,
            };
            let origin = format!("node pool {name:?}{}", at_line(&p.name.referenced));
            for ordinal in 0..count {
                let node_name = format!("{name}-{ordinal}");
                if let Some(first) = seen.get(&node_name) {
                    return Err(self.err(
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
            let name = self.non_empty(&n.name, &name_field, "a node name")?;
            if let Some(first) = seen.get(&name) {
                return Err(self.err(
                    &n.name.referenced,
                    &name_field,
                    format!("duplicate node name {name:?}: {first} already defines it"),
                ));
            }
            if nodes.len() as u64 >= MAX_NODES {
                return Err(self.err(
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
                allocatable: self
                    .allocatable(n.allocatable.as_ref(), &format!("{base}.allocatable"))?,
                labels: self.labels(n.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.taints(n.taints.as_deref(), &base)?,
                unschedulable: n.unschedulable.unwrap_or(false),
                gpu: self.node_gpus(n.gpus.as_ref(), n.gpu_model.as_ref(), &base)?,
            }));
        }
        Ok(())
    }

    /// A node's `taints`.
    fn taints(&self, taints: Option<&[Spanned<RawTaint>]>, base: &str) -> Result<Vec<Taint>> {
        let mut out = Vec::new();
        for (i, t) in taints.unwrap_or_default().iter().enumerate() {
            out.push(self.taint(&t.value, &format!("{base}.taints[{i}]"))?);
        }
        Ok(out)
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
            let name = self.non_empty(name_value, &name_field, "a workload name")?;
            if let Some(first) = seen.get(&name) {
                return Err(self.err(
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
            [] => Err(self.err(
                &w.referenced,
                base,
                "a workload needs exactly one of `pod`, `deployment` or `batch`, naming it; found none",
            )),
            [(first, _), (second, value), ..] => {
                let (first, second) = (first.key(), second.key());
                Err(self.err(
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
                return Err(self.err(
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
                    Some(v) => self.count_u32(v, &format!("{base}.count"))?,
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
                    Some(v) => self.count_u32(v, &format!("{base}.replicas"))?,
                    None => {
                        return Err(self.err(
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
                        return Err(self.err(
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
            return Err(self.err(
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
            self.err(
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
                    let rate = self.number(v, &format!("{base}.{key}"), false)?;
                    ArrivalProcess::Poisson {
                        rate_per_second: rate / per,
                    }
                }
                [] => {
                    return Err(self.err(
                        &a.referenced,
                        base,
                        "process: poisson needs one of ratePerSecond, ratePerMinute or ratePerHour",
                    ));
                }
                [(first, _, _), (second, v, _), ..] => {
                    return Err(self.err(
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
                    return Err(self.err(
                        &a.referenced,
                        &format!("{base}.interval"),
                        "process: fixed needs `interval` (time between arrivals)",
                    ));
                }
            },
            // "burst", the one name left after the check above.
            _ => {
                if raw.count.is_none() {
                    return Err(self.err(
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
                    return Err(self.err(
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
                let n = self.integer(
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
                return Err(self.err(
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
                return Err(self.err(
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
                None => Err(self.err(
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
            Err(self.err(
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
                    return Err(self.err(
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
                    Some(s) => self.number(s, &format!("{base}.sigma"), true)?,
                    None => {
                        return Err(self.err(
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
                    return Err(self.err(
                        at,
                        &values_field,
                        format!("dist: choice needs {takes_text}; `values` is missing"),
                    ));
                };
                if values.value.is_empty() {
                    return Err(self.err(
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
            Some(ns) => self.non_empty(ns, &format!("{base}.namespace"), "a namespace")?,
            None => "default".to_owned(),
        };
        let mut labels = self.labels(w.labels.as_ref(), &format!("{base}.labels"))?;
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
                    return Err(self.err(
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
                    return Err(self.err(
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
                    return Err(self.err(
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
                        let field = join_key(&req_base, &key.value);
                        let kind = self.pod_resource_kind(key, &field)?;
                        match &value.value {
                            ScalarOrDist::Dist(_) if is_batch => {
                                let quantity = |b: &Builder<'_>, v: &Spanned<Scalar>, f: &str| {
                                    b.quantity(kind, v, f)
                                };
                                sized.push((
                                    kind,
                                    self.scalar_or_dist(value, &field, &quantity, 0)?,
                                ));
                            }
                            _ => {
                                let v = self.constant(value, &field)?;
                                c.set_request(kind, self.quantity(kind, &v, &field)?);
                            }
                        }
                    }
                }
                if let Some(limits) = &w.limits {
                    self.set_limits(&mut c, &limits.value, &format!("{base}.limits"))?;
                }
                if let Some(ports) = &w.ports {
                    c.host_ports =
                        self.ports(ports, &format!("{base}.ports"), &mut HashMap::new())?;
                }
                self.check_requests_within_limits(
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
            for (kind, amount) in self.pod_quantities(map, &format!("{base}.overhead"))? {
                overhead.set(kind, amount);
            }
        }
        let node_selector =
            self.labels(w.node_selector.as_ref(), &format!("{base}.nodeSelector"))?;
        let mut tolerations = Vec::new();
        for (i, t) in w.tolerations.iter().flatten().enumerate() {
            tolerations.push(self.toleration(t, &format!("{base}.tolerations[{i}]"))?);
        }
        let affinity = w.affinity.as_ref();
        let node_affinity = match affinity.and_then(|a| a.node_affinity.as_ref()) {
            Some(a) => Some(self.node_affinity(a, &format!("{base}.affinity.nodeAffinity"))?),
            None => None,
        };
        let pod_affinity = match affinity.and_then(|a| a.pod_affinity.as_ref()) {
            Some(a) => Some(self.pod_affinity(a, &format!("{base}.affinity.podAffinity"))?),
            None => None,
        };
        let pod_anti_affinity = match affinity.and_then(|a| a.pod_anti_affinity.as_ref()) {
            Some(a) => Some(self.pod_affinity(a, &format!("{base}.affinity.podAntiAffinity"))?),
            None => None,
        };
        let topology_spread_constraints = self.spread_constraints(
            w.topology_spread_constraints.as_deref().unwrap_or_default(),
            &format!("{base}.topologySpreadConstraints"),
        )?;
        let node_name = match &w.node_name {
            Some(n) => Some(self.non_empty(n, &format!("{base}.nodeName"), "a node name")?),
            None => None,
        };
        let volume_claims = self.pod_volumes(
            w.volumes.as_deref().unwrap_or_default(),
            &namespace,
            &format!("{base}.volumes"),
        )?;
        let termination_grace_period_seconds = match &w.termination_grace_period_seconds {
            Some(v) => self.integer(
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
            ScalarOrDist::Dist(_) => Err(self.err(
                &v.referenced,
                field,
                "a distribution is only allowed in a batch workload's top-level `requests`; expected a single quantity",
            )),
        }
    }

    /// Sets a container's limits.
    fn set_limits(
        &mut self,
        c: &mut ContainerResources,
        map: &QuantityMap,
        base: &str,
    ) -> Result<()> {
        for (kind, amount) in self.pod_quantities(map, base)? {
            c.set_limit(kind, amount);
        }
        Ok(())
    }

    /// Kubernetes rejects a request above its limit; so do we, at the request.
    fn check_requests_within_limits(
        &self,
        c: &ContainerResources,
        requests: Option<&RequestMap>,
        base: &str,
    ) -> Result<()> {
        for (key, value) in requests.map(|r| r.0.as_slice()).unwrap_or_default() {
            let Some(kind) = self.names.lookup(&key.value) else {
                continue;
            };
            if c.has_request(kind) && c.has_limit(kind) && c.requests.get(kind) > c.limits.get(kind)
            {
                return Err(self.err(
                    &value.referenced,
                    &join_key(base, &key.value),
                    format!("the request is larger than the limit ({}); a request must not exceed its limit", self.amount(kind, c.limits.get(kind))),
                ));
            }
        }
        Ok(())
    }

    /// An amount in the file's own notation, for messages.
    fn amount(&self, kind: ResourceKind, v: i64) -> String {
        match kind {
            ResourceKind::CPU => schedulers::quantity::format_cpu_millis(v),
            ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => {
                schedulers::quantity::format_bytes(v)
            }
            _ => v.to_string(),
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
            let name = self.non_empty(&raw.name, &name_field, "a container name")?;
            if let Some(first) = names.get(&name) {
                return Err(self.err(
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
                let field = join_key(&format!("{c_base}.requests"), &key.value);
                let kind = self.pod_resource_kind(key, &field)?;
                let v = self.constant(value, &field)?;
                c.set_request(kind, self.quantity(kind, &v, &field)?);
            }
            if let Some(limits) = &raw.limits {
                self.set_limits(&mut c, limits, &format!("{c_base}.limits"))?;
            }
            self.check_requests_within_limits(
                &c,
                raw.requests.as_ref(),
                &format!("{c_base}.requests"),
            )?;
            if let Some(ports) = &raw.ports {
                c.host_ports = self.ports(ports, &format!("{c_base}.ports"), &mut host_ports)?;
            }
            out.push(c);
        }
        Ok(out)
    }

    /// A container's `ports`, as Kubernetes validates them; only the ports with a
    /// `hostPort` are kept, since only they concern the scheduler. `seen` maps the host
    /// ports of the containers before this one to where they are declared: a
    /// (hostPort, protocol, hostIP) may appear only once.
    fn ports(
        &self,
        list: &Spanned<Vec<Spanned<RawPort>>>,
        base: &str,
        seen: &mut HashMap<HostPort, String>,
    ) -> Result<Vec<HostPort>> {
        let mut out = Vec::new();
        let mut names: HashMap<&str, String> = HashMap::new();
        for (i, item) in list.value.iter().enumerate() {
            let p_base = format!("{base}[{i}]");
            let raw = &item.value;
            let field = format!("{p_base}.containerPort");
            let Some(container_port) = &raw.container_port else {
                return Err(self.err(
                    &item.referenced,
                    &field,
                    "missing `containerPort`: expected a port number from 1 to 65535",
                ));
            };
            self.integer(container_port, &field, 1, 65535, "a port number")?;
            let port = match &raw.host_port {
                // 0 is Kubernetes' "no host port".
                Some(v) if v.value.0.trim() == "0" => 0,
                Some(v) => {
                    let n =
                        self.integer(v, &format!("{p_base}.hostPort"), 1, 65535, "a port number")?;
                    u16::try_from(n).unwrap_or(u16::MAX)
                }
                None => 0,
            };
            let protocol = match &raw.protocol {
                Some(v) => Protocol::parse(&v.value).ok_or_else(|| {
                    self.err(
                        &v.referenced,
                        &format!("{p_base}.protocol"),
                        format!(
                            "unknown protocol {:?}{}; expected {}",
                            v.value,
                            did_you_mean(&v.value, Protocol::NAMES),
                            one_of(Protocol::NAMES)
                        ),
                    )
                })?,
                None => Protocol::Tcp,
            };
            let host_ip = match &raw.host_ip {
                Some(v) if !v.value.is_empty() => {
                    if v.value.parse::<std::net::IpAddr>().is_err() {
                        return Err(self.err(
                            &v.referenced,
                            &format!("{p_base}.hostIP"),
                            format!(
                                "expected an IP address such as 0.0.0.0 or 10.0.0.1, got {}",
                                shown(&v.value)
                            ),
                        ));
                    }
                    v.value.clone()
                }
                _ => HostPort::ANY_IP.to_owned(),
            };
            if let Some(name) = &raw.name {
                let field = format!("{p_base}.name");
                if let Some(why) = port_name_error(&name.value) {
                    return Err(self.err(
                        &name.referenced,
                        &field,
                        format!("invalid port name {}: {why}", shown(&name.value)),
                    ));
                }
                if let Some(first) = names.get(name.value.as_str()) {
                    return Err(self.err(
                        &name.referenced,
                        &field,
                        format!(
                            "duplicate port name {:?}: {first} already uses it",
                            name.value
                        ),
                    ));
                }
                names.insert(
                    &name.value,
                    format!("{p_base}{}", at_line(&name.referenced)),
                );
            }
            if port == 0 {
                continue;
            }
            let host_port = HostPort {
                port,
                protocol,
                host_ip,
            };
            let at = raw
                .host_port
                .as_ref()
                .map_or(item.referenced, |v| v.referenced);
            if let Some(first) = seen.get(&host_port) {
                return Err(self.err(
                    &at,
                    &format!("{p_base}.hostPort"),
                    format!(
                        "duplicate host port {port}/{protocol} on {}: {first} already binds it; a pod may bind a (hostPort, protocol, hostIP) only once",
                        host_port.host_ip
                    ),
                ));
            }
            seen.insert(host_port.clone(), format!("{p_base}{}", at_line(&at)));
            out.push(host_port);
        }
        Ok(out)
    }
}

/// Why a port name is not an IANA service name, as Kubernetes requires (at most 15
/// lowercase letters, digits and inner single hyphens, with at least one letter).
fn port_name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("expected a name, got an empty string".to_owned());
    }
    if name.len() > MAX_PORT_NAME_LEN {
        return Some(format!("must be at most {MAX_PORT_NAME_LEN} characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some("must contain only lowercase letters, digits and '-'".to_owned());
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        return Some("must contain at least one letter".to_owned());
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Some("must not begin or end with '-' or contain '--'".to_owned());
    }
    None
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
        let name = self.non_empty(v, field, &format!("a {what} name"))?;
        match dns_subdomain_error(&name) {
            None => Ok(name),
            Some(why) => Err(self.err(
                &v.referenced,
                field,
                format!("invalid {what} name {}: {why}", quoted(&name)),
            )),
        }
    }

    /// A `storage` size.
    fn storage(&self, v: &RawStorage, field: &str) -> Result<i64> {
        let bytes = self.quantity(ResourceKind::EPHEMERAL_STORAGE, &v.storage, field)?;
        if bytes <= 0 {
            return Err(self.err(
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
        Err(self.err(
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
                return Err(self.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate storage class {}", quoted(&name)),
                ));
            }
            let volume_binding_mode = match &raw.volume_binding_mode {
                None => VolumeBindingMode::Immediate,
                Some(v) => VolumeBindingMode::parse(&v.value).ok_or_else(|| {
                    self.err(
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
                    return Err(self.err(
                        &exprs.referenced,
                        &tbase,
                        "expected at least one label expression",
                    ));
                }
                let mut out = NodeSelectorTerm::default();
                for (r, req) in exprs.value.iter().enumerate() {
                    let rbase = format!("{tbase}[{r}]");
                    let key = self.label_key(&req.value.key, &format!("{rbase}.key"))?;
                    if req.value.values.value.is_empty() {
                        return Err(self.err(
                            &req.value.values.referenced,
                            &format!("{rbase}.values"),
                            "expected at least one value",
                        ));
                    }
                    let mut values = Vec::new();
                    for (k, v) in req.value.values.value.iter().enumerate() {
                        values.push(self.label_value(v, &format!("{rbase}.values[{k}]"))?);
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
                return Err(self.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate persistent volume {}", quoted(&name)),
                ));
            }
            let labels = self.labels(raw.labels.as_ref(), &format!("{base}.labels"))?;
            let capacity =
                self.storage(&raw.capacity.value, &format!("{base}.capacity.storage"))?;
            let storage_class = self.storage_class_name(
                raw.storage_class_name.as_ref(),
                &format!("{base}.storageClassName"),
            )?;
            let node_affinity = match &raw.node_affinity {
                None => None,
                Some(a) => {
                    let sbase = format!("{base}.nodeAffinity.required.nodeSelectorTerms");
                    let terms = &a.value.required.node_selector_terms;
                    if terms.value.is_empty() {
                        return Err(self.err(
                            &terms.referenced,
                            &sbase,
                            "expected at least one node selector term",
                        ));
                    }
                    let mut out = Vec::new();
                    for (t, term) in terms.value.iter().enumerate() {
                        out.push(self.term(&term.value, &format!("{sbase}[{t}]"))?);
                    }
                    Some(out)
                }
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
                Some(ns) => self.non_empty(ns, &format!("{base}.namespace"), "a namespace")?,
                None => "default".to_owned(),
            };
            if self.volumes.claim(&namespace, &name).is_some() {
                return Err(self.err(
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
                    return Err(self.err(&v.referenced, &field, message));
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
            let name = self.non_empty(&v.value.name, &format!("{vbase}.name"), "a volume name")?;
            if names.contains(&name.as_str()) {
                return Err(self.err(
                    &v.value.name.referenced,
                    &format!("{vbase}.name"),
                    format!("duplicate volume name {}", quoted(&name)),
                ));
            }
            names.push(&v.value.name.value);
            let Some(source) = &v.value.persistent_volume_claim else {
                return Err(self.err(
                    &v.referenced,
                    &vbase,
                    "expected `persistentVolumeClaim: {claimName: ...}`: schedlab models no other volume sources",
                ));
            };
            let claim = &source.value.claim_name;
            let field = format!("{vbase}.persistentVolumeClaim.claimName");
            let claim_name = self.non_empty(claim, &field, "a claim name")?;
            if self.volumes.claim(namespace, &claim_name).is_none() {
                let known: Vec<&str> = self
                    .volumes
                    .claims()
                    .iter()
                    .filter(|c| c.namespace == namespace)
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(self.err(
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
