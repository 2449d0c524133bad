//! From the raw structs to a validated [`Scenario`]: every value interpreted (quantities,
//! durations, distributions, selectors), defaults applied, and the rules that span fields
//! checked, each failure pointing at the value's line and column.
//!
//! `cluster` and `workloads` (and within `cluster`, `nodePools` and `nodes`) are processed in
//! the order they appear in the file, so extended resources are numbered in file order and,
//! of two errors in different sections, the earlier one is reported. Validation stops at the
//! first error: one precise message is more useful than a cascade of consequences.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schedulers::quantity::{QuantityError, parse_bytes, parse_count, parse_cpu_millis};
use schedulers::{
    ContainerResources, Labels, NodeAffinity, NodeSelectorTerm, NodeSpec, OwnerKind, PodTemplate,
    PreemptionPolicy, PreferredTerm, ResourceKind, ResourceNames, Resources, SelectorOperator,
    SelectorRequirement, Taint, TaintEffect, Toleration, TolerationOperator,
};
use serde_saphyr::{Location, Spanned};

use super::raw::{
    Entries, LabelMap, QuantityMap, RawArrivals, RawCluster, RawContainer, RawDist,
    RawNodeAffinity, RawPool, RawRequirement, RawScenario, RawTaint, RawTerm, RawToleration,
    RawWorkload, RequestMap, Scalar, ScalarOrDist,
};
use super::{ScenarioError, closest, join_key, line_column, shown};
use crate::scenario::{ArrivalProcess, Arrivals, Dist, Scenario, Workload, WorkloadKind};
use crate::time::{SimTime, parse_duration};

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

type Result<T> = std::result::Result<T, ScenarioError>;
/// Parses one value of a distribution (a duration, or a quantity of one resource kind).
type ParseFn<'p, T> = dyn Fn(&Builder<'_>, &Spanned<Scalar>, &str) -> Result<T> + 'p;
/// Requests drawn per pod, by resource kind (`Workload::sized`).
type SizedRequests = Vec<(ResourceKind, Dist<i64>)>;

/// Validates a parsed file into a [`Scenario`].
pub(super) fn build(
    raw: RawScenario,
    file: &str,
    is_known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario> {
    let mut b = Builder {
        file,
        names: ResourceNames::default(),
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
    let schedulers = b.schedulers(
        raw.schedulers.as_deref().unwrap_or_default(),
        is_known_scheduler,
    )?;

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
        resource_names: b.names,
        nodes,
        workloads,
    })
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

/// The state of one validation: the file name for messages and the extended resources seen.
struct Builder<'a> {
    file: &'a str,
    names: ResourceNames,
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
            SelectorOperator::In | SelectorOperator::NotIn if values.is_empty() => {
                return Err(self.err(
                    values_at,
                    &values_field,
                    format!("operator {op} needs at least one value"),
                ));
            }
            SelectorOperator::Exists | SelectorOperator::DoesNotExist if !values.is_empty() => {
                return Err(self.err(
                    values_at,
                    &values_field,
                    format!("operator {op} takes no values"),
                ));
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
            _ => {}
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

    // ----- top level -------------------------------------------------------------------

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
                    format!("unknown scheduler {:?}", s.value),
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
                nodes.push(NodeSpec {
                    name: node_name,
                    ..template.clone()
                });
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
            nodes.push(NodeSpec {
                name,
                allocatable: self
                    .allocatable(n.allocatable.as_ref(), &format!("{base}.allocatable"))?,
                labels: self.labels(n.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.taints(n.taints.as_deref(), &base)?,
                unschedulable: n.unschedulable.unwrap_or(false),
            });
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
        let labels = self.labels(w.labels.as_ref(), &format!("{base}.labels"))?;
        let priority = match &w.priority {
            Some(p) => {
                let n = self.integer(
                    p,
                    &format!("{base}.priority"),
                    i32::MIN.into(),
                    i32::MAX.into(),
                    "an integer",
                )?;
                i32::try_from(n).unwrap_or(0)
            }
            None => 0,
        };
        let preemption_policy = match &w.preemption_policy {
            None => PreemptionPolicy::PreemptLowerPriority,
            Some(v) => match v.value.as_str() {
                "PreemptLowerPriority" => PreemptionPolicy::PreemptLowerPriority,
                "Never" => PreemptionPolicy::Never,
                other => {
                    return Err(self.err(
                        &v.referenced,
                        &format!("{base}.preemptionPolicy"),
                        format!("unknown preemption policy {other:?}; expected PreemptLowerPriority or Never"),
                    ));
                }
            },
        };

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
        let node_affinity = match w.affinity.as_ref().and_then(|a| a.node_affinity.as_ref()) {
            Some(a) => Some(self.node_affinity(a, &format!("{base}.affinity.nodeAffinity"))?),
            None => None,
        };
        let node_name = match &w.node_name {
            Some(n) => Some(self.non_empty(n, &format!("{base}.nodeName"), "a node name")?),
            None => None,
        };
        let template = PodTemplate {
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
            // Filled from `affinity.podAffinity`, `affinity.podAntiAffinity` and
            // `topologySpreadConstraints` once the loader reads them.
            pod_affinity: None,
            pod_anti_affinity: None,
            topology_spread_constraints: Vec::new(),
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
            out.push(c);
        }
        Ok(out)
    }
}

/// The requests of a container that gives none.
static EMPTY_REQUESTS: RequestMap = Entries(Vec::new());
