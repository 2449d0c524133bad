//! The scenario file as written: serde structs that mirror the YAML one to one, before any
//! value is interpreted.
//!
//! Every struct denies unknown fields, so a misspelt key is an error that lists the allowed
//! ones. Values that need checking after parsing (quantities, durations, numbers, names) are
//! kept as text in [`Spanned`] wrappers, so that `build` can report their exact line and
//! column. serde only checks the shape here: which keys exist, and whether a value is a
//! mapping, a list or a single value. The pieces that are Kubernetes' own (affinity,
//! tolerations, taints, selectors, ports, volumes) are the located types of
//! `schedulers::yaml::kube`, which every Kubernetes-YAML reader shares.

use std::fmt;

use schedulers::ArgValue;
use schedulers::yaml::kube::{
    RawAffinity, RawContainerPort, RawLabelSelector, RawTaint, RawToleration,
    RawTopologySelectorTerm, RawTopologySpreadConstraint, RawVolume, RawVolumeNodeAffinity,
};
use schedulers::yaml::{Entries, LabelMap, QuantityMap, Scalar, ScalarVisitor};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A value that is either a single value or a distribution mapping (`{dist: ..., ...}`), as
/// workload durations and batch requests may be.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum ScalarOrDist {
    /// A single value, as text.
    Scalar(Scalar),
    /// A distribution.
    Dist(Box<RawDist>),
}

impl<'de> Deserialize<'de> for ScalarOrDist {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The shape decides, so the value has to be looked at untyped. Numbers then arrive
        // typed and are rendered back to text (`0.5` -> "0.5"), which the quantity and
        // duration parsers read exactly like a string.
        deserializer.deserialize_any(ScalarOrDistVisitor)
    }
}

struct ScalarOrDistVisitor;

impl<'de> Visitor<'de> for ScalarOrDistVisitor {
    type Value = ScalarOrDist;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single value or a distribution such as {dist: exponential, mean: 1h}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_str(v).map(ScalarOrDist::Scalar)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_string(v).map(ScalarOrDist::Scalar)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_bool(v).map(ScalarOrDist::Scalar)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_i64(v).map(ScalarOrDist::Scalar)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_u64(v).map(ScalarOrDist::Scalar)
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_i128(v).map(ScalarOrDist::Scalar)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_u128(v).map(ScalarOrDist::Scalar)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_f64(v).map(ScalarOrDist::Scalar)
    }

    fn visit_unit<E: de::Error>(self) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_unit().map(ScalarOrDist::Scalar)
    }

    fn visit_none<E: de::Error>(self) -> Result<ScalarOrDist, E> {
        ScalarVisitor.visit_none().map(ScalarOrDist::Scalar)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ScalarOrDist, A::Error> {
        // Hand the same mapping to the derived struct, so unknown keys and spans work as
        // everywhere else.
        RawDist::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|d| ScalarOrDist::Dist(Box::new(d)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<ScalarOrDist, A::Error> {
        // A custom error rather than serde's default `invalid_type`: serde-saphyr attaches the
        // position of this value to custom errors, but may attach the enclosing key's to the
        // default one.
        Err(de::Error::custom(
            "expected a single value or a distribution such as {dist: exponential, mean: 1h}, got a list",
        ))
    }
}

/// A map of resource names to values or distributions (`requests`).
pub(super) type RequestMap = Entries<Spanned<String>, Spanned<ScalarOrDist>>;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawScenario {
    pub(super) name: Option<Spanned<String>>,
    pub(super) description: Option<String>,
    pub(super) seed: Option<Spanned<Scalar>>,
    pub(super) duration: Option<Spanned<Scalar>>,
    pub(super) sample_interval: Option<Spanned<Scalar>>,
    pub(super) start_latency: Option<Spanned<Scalar>>,
    pub(super) metrics_resolution: Option<Spanned<Scalar>>,
    /// Schedulers to run when the command line names none: specs or `{name, args}` maps.
    pub(super) schedulers: Option<Vec<Spanned<RawSchedulerEntry>>>,
    /// A KubeSchedulerConfiguration: a file relative to the scenario's directory, or inline.
    pub(super) scheduler_config: Option<Spanned<RawSchedulerConfig>>,
    pub(super) priority_classes: Option<Vec<Spanned<RawPriorityClass>>>,
    pub(super) cluster: Option<Spanned<RawCluster>>,
    pub(super) workloads: Option<Spanned<Vec<Spanned<RawWorkload>>>>,
    pub(super) storage_classes: Option<Vec<Spanned<RawStorageClass>>>,
    pub(super) persistent_volumes: Option<Vec<Spanned<RawPersistentVolume>>>,
    pub(super) persistent_volume_claims: Option<Vec<Spanned<RawClaim>>>,
    pub(super) pod_disruption_budgets: Option<Vec<Spanned<RawPdb>>>,
    /// Namespaces with their fairness weights: names, or `{name, weight}` mappings.
    pub(super) namespaces: Option<Vec<Spanned<RawNamespace>>>,
    pub(super) pod_groups: Option<Vec<Spanned<RawPodGroup>>>,
    /// Seeds to run when the command line names none.
    pub(super) seeds: Option<Spanned<Vec<Spanned<Scalar>>>>,
    /// A GPU trace replay (see `scenario::gpu_trace`).
    pub(super) gpu_trace: Option<Spanned<RawGpuTrace>>,
    /// How the scheduling queue treats pods that fail.
    pub(super) queue: Option<Spanned<RawQueue>>,
    /// The GPU allocation curve to record (`gpu-fill.csv`).
    pub(super) gpu_fill: Option<Spanned<RawGpuFill>>,
    /// Node failures, drains and spot reclaims (see `build/failures.rs`).
    pub(super) failures: Option<Spanned<super::build::failures::RawFailures>>,
    /// The cluster autoscaler's flags (its node groups are pools with `autoscaling:`).
    pub(super) cluster_autoscaler: Option<Spanned<RawClusterAutoscaler>>,
    /// Node-pressure eviction and OOM kills (see `build/node_pressure.rs`).
    pub(super) node_pressure: Option<Spanned<super::build::node_pressure::RawNodePressure>>,
    /// Container images' sizes and the nodes' pull bandwidth (see `build/images.rs`).
    pub(super) images: Option<Spanned<super::build::images::RawImages>>,
    /// Kubernetes manifest files and directories, relative to the scenario's directory
    /// (see `build/manifests.rs`).
    pub(super) manifests: Option<Spanned<Vec<Spanned<String>>>>,
    /// The instant a cluster snapshot in `manifests:` was taken, RFC 3339: its "now",
    /// the run's time zero (see `build/manifests.rs`).
    pub(super) snapshot_time: Option<Spanned<Scalar>>,
    /// Load and usage for Deployments and StatefulSets of the manifests, durations for
    /// their Jobs (see `build/manifests/hpa.rs`).
    pub(super) manifest_dynamics: Option<Vec<Spanned<RawManifestDynamics>>>,
}

/// One item of `manifestDynamics:`: what the manifests cannot say about one of their
/// objects. For a Deployment, the dynamics a scenario's `deployment:` entry would give
/// (readiness, load, usage), on which an HPA manifest scales; for a StatefulSet, its load
/// and usage (not readiness: its pods are Ready once they run); for a Job or a CronJob's
/// Jobs, how long their pods run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawManifestDynamics {
    /// A Deployment's `metadata.name` (exactly one of `deployment`, `statefulSet`, `job`,
    /// `cronJob`).
    pub(super) deployment: Option<Spanned<String>>,
    /// A StatefulSet's `metadata.name`.
    pub(super) stateful_set: Option<Spanned<String>>,
    /// A Job's `metadata.name`.
    pub(super) job: Option<Spanned<String>>,
    /// A CronJob's `metadata.name`.
    pub(super) cron_job: Option<Spanned<String>>,
    /// Its namespace (`default` when absent).
    pub(super) namespace: Option<Spanned<String>>,
    /// How long each pod of the Job (or of each Job of the CronJob) runs.
    pub(super) duration: Option<Spanned<ScalarOrDist>>,
    pub(super) readiness_delay: Option<Spanned<Scalar>>,
    pub(super) service: Option<Spanned<super::build::dynamics::RawService>>,
    pub(super) memory_usage: Option<Spanned<super::build::dynamics::RawMemoryUsage>>,
    pub(super) usage: Option<Spanned<super::build::dynamics::RawUsage>>,
}

/// `queue:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawQueue {
    pub(super) max_attempts: Option<Spanned<Scalar>>,
}

/// `gpuFill:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawGpuFill {
    pub(super) step: Option<Spanned<Scalar>>,
    pub(super) demand: Option<Spanned<Scalar>>,
}

/// `workloads[i].trace`: a trace's pods replayed as a workload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawTraceWorkload {
    pub(super) format: Spanned<String>,
    /// The pod list, relative to the scenario's directory.
    pub(super) pods: Spanned<String>,
    /// The task table of a batch trace (Alibaba v2018's `batch_task`), relative to the
    /// scenario's directory: where its instances' requests are.
    pub(super) tasks: Option<Spanned<String>>,
    /// `shuffled` or `recorded`; required, but checked after parsing so that the message
    /// can say where and what the choices are.
    pub(super) timing: Option<Spanned<String>>,
    pub(super) demand: Option<Spanned<Scalar>>,
    pub(super) interval: Option<Spanned<Scalar>>,
    /// What 1.0 means in a trace normalized to its largest machine.
    pub(super) machine_scale: Option<Spanned<RawMachineScale>>,
    /// Only the pods arriving in this span of trace time.
    pub(super) window: Option<Spanned<RawTraceWindow>>,
    pub(super) sample: Option<Spanned<Scalar>>,
    pub(super) time_scale: Option<Spanned<Scalar>>,
    pub(super) size_scale: Option<Spanned<Scalar>>,
    /// The first row that cannot be read is an error, not skipped.
    pub(super) strict: Option<Spanned<bool>>,
    /// `false`: a recorded generic CSV or Google replay is read whole at load instead of
    /// as the run goes.
    pub(super) stream: Option<Spanned<bool>>,
    /// How far past the run's clock a streamed Google replay reads its file.
    pub(super) look_ahead: Option<Spanned<Scalar>>,
}

/// `trace.machineScale`: the largest machine's CPU and memory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawMachineScale {
    pub(super) cpu: Option<Spanned<Scalar>>,
    pub(super) memory: Option<Spanned<Scalar>>,
}

/// `trace.window`: a span of trace time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawTraceWindow {
    pub(super) start: Option<Spanned<Scalar>>,
    pub(super) end: Option<Spanned<Scalar>>,
}

/// `cluster.trace`: a trace's nodes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClusterTrace {
    pub(super) format: Spanned<String>,
    /// The node list, relative to the scenario's directory.
    pub(super) nodes: Spanned<String>,
    pub(super) gpu_nodes_only: Option<bool>,
}

/// One item of `namespaces:`: a bare name (weight 1) or a mapping with a weight.
#[derive(Debug)]
pub(super) enum RawNamespace {
    /// `- team-a`; a number or bool arrives as its text, for the name check to reject.
    Name(String),
    /// `- {name: team-a, weight: 2}`.
    Spec(RawNamespaceSpec),
}

/// The mapping form of a `namespaces:` item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawNamespaceSpec {
    pub(super) name: Option<Spanned<String>>,
    pub(super) weight: Option<Spanned<Scalar>>,
}

impl<'de> Deserialize<'de> for RawNamespace {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The shape decides, as for `schedulerConfig`.
        deserializer.deserialize_any(NamespaceVisitor)
    }
}

struct NamespaceVisitor;

impl<'de> Visitor<'de> for NamespaceVisitor {
    type Value = RawNamespace;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a namespace name, or a mapping such as {name: team-a, weight: 2}")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawNamespace::Name(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawNamespace::Name(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(RawNamespace::Name(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(RawNamespace::Name(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(RawNamespace::Name(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(RawNamespace::Name(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RawNamespace::Name(String::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        RawNamespaceSpec::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(RawNamespace::Spec)
    }
}

/// One item of `podGroups`, with the fields of a `scheduling.x-k8s.io/v1alpha1`
/// PodGroup's metadata and spec, flattened. `minMember` is required, but checked after
/// parsing so that the message can say where.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPodGroup {
    pub(super) name: Spanned<String>,
    pub(super) namespace: Option<Spanned<String>>,
    pub(super) min_member: Option<Spanned<Scalar>>,
    pub(super) schedule_timeout_seconds: Option<Spanned<Scalar>>,
}

/// `gpuTrace:`: a GPU trace replayed under the protocol of Weng et al. (ATC 2023).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawGpuTrace {
    pub(super) format: Spanned<String>,
    /// The node list, relative to the scenario's directory.
    pub(super) nodes: Spanned<String>,
    /// The pod list, relative to the scenario's directory.
    pub(super) pods: Spanned<String>,
    pub(super) gpu_nodes_only: Option<bool>,
    pub(super) demand: Option<Spanned<Scalar>>,
    pub(super) fill_step: Option<Spanned<Scalar>>,
}

/// One item of `podDisruptionBudgets`, with the fields of a `policy/v1`
/// PodDisruptionBudget's metadata and spec, flattened.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPdb {
    pub(super) name: Spanned<String>,
    pub(super) namespace: Option<Spanned<String>>,
    pub(super) selector: Option<Spanned<RawLabelSelector>>,
    pub(super) min_available: Option<Spanned<Scalar>>,
    pub(super) max_unavailable: Option<Spanned<Scalar>>,
}

/// `schedulerConfig:`: the path of a KubeSchedulerConfiguration file, or the configuration
/// itself as a mapping. The mapping is skipped here and read again, from the scenario's
/// text at its position, by the scheduler configuration reader.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RawSchedulerConfig {
    /// A path, relative to the scenario file's directory.
    Path(String),
    /// An inline mapping, read from the text at the field's position.
    Inline,
}

impl<'de> Deserialize<'de> for RawSchedulerConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SchedulerConfigVisitor)
    }
}

struct SchedulerConfigVisitor;

impl<'de> Visitor<'de> for SchedulerConfigVisitor {
    type Value = RawSchedulerConfig;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the path of a KubeSchedulerConfiguration file, or the configuration as a mapping",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawSchedulerConfig::Path(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawSchedulerConfig::Path(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
            .is_some()
        {}
        Ok(RawSchedulerConfig::Inline)
    }
}

/// One item of `schedulers:`: a spec in the command-line form, or a mapping with the name
/// and typed arguments.
#[derive(Debug)]
pub(super) enum RawSchedulerEntry {
    /// `- tetris:cpuWeight=2`; a number or bool arrives as its text, for the name check to
    /// refuse.
    Text(String),
    /// `- {name: tetris, args: {cpuWeight: 2}}`.
    Map(RawSchedulerMap),
}

/// The mapping form of a `schedulers:` item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedulerMap {
    /// Required, but checked after parsing so that the message can say where.
    pub(super) name: Option<Spanned<String>>,
    /// The arguments by name, in file order.
    pub(super) args: Option<Entries<Spanned<String>, Spanned<RawArg>>>,
}

/// One argument's value as YAML types it (`2`, `0.5`, `true`, `cluster`), or `None` when
/// the key has no value (`cpuWeight:` or `cpuWeight: ~`).
#[derive(Debug)]
pub(super) struct RawArg(pub(super) Option<ArgValue>);

impl<'de> Deserialize<'de> for RawSchedulerEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The shape decides, as for `namespaces`.
        deserializer.deserialize_any(SchedulerEntryVisitor)
    }
}

struct SchedulerEntryVisitor;

impl<'de> Visitor<'de> for SchedulerEntryVisitor {
    type Value = RawSchedulerEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a scheduler such as tetris:cpuWeight=2, or a mapping such as {name: tetris, args: {cpuWeight: 2}}",
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(RawSchedulerEntry::Text(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(RawSchedulerEntry::Text(v))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(RawSchedulerEntry::Text(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(RawSchedulerEntry::Text(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(RawSchedulerEntry::Text(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(RawSchedulerEntry::Text(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(RawSchedulerEntry::Text(String::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        RawSchedulerMap::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(RawSchedulerEntry::Map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Self::Value, A::Error> {
        // A custom error, which serde-saphyr places at this value (see `ScalarOrDist`).
        Err(de::Error::custom(
            "expected a scheduler such as tetris:cpuWeight=2, or a mapping such as {name: tetris, args: {cpuWeight: 2}}, got a list",
        ))
    }
}

impl<'de> Deserialize<'de> for RawArg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Typed, unlike `Scalar`: `2` is an integer and `"2"` a string, as for
        // `SchedulerSpec`'s own map form; the parameter decides what it accepts.
        deserializer.deserialize_any(ArgVisitor)
    }
}

struct ArgVisitor;

impl<'de> Visitor<'de> for ArgVisitor {
    type Value = RawArg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a single value (a number, a boolean or a word)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawArg, E> {
        Ok(RawArg(Some(ArgValue::Bool(v))))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawArg, E> {
        Ok(RawArg(Some(ArgValue::Int(v))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawArg, E> {
        // Too big for an integer parameter; as text it is still compared with the range.
        Ok(RawArg(Some(match i64::try_from(v) {
            Ok(i) => ArgValue::Int(i),
            Err(_) => ArgValue::Text(v.to_string()),
        })))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawArg, E> {
        Ok(RawArg(Some(match i64::try_from(v) {
            Ok(i) => ArgValue::Int(i),
            Err(_) => ArgValue::Text(v.to_string()),
        })))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawArg, E> {
        Ok(RawArg(Some(match i64::try_from(v) {
            Ok(i) => ArgValue::Int(i),
            Err(_) => ArgValue::Text(v.to_string()),
        })))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawArg, E> {
        Ok(RawArg(Some(ArgValue::Float(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawArg, E> {
        Ok(RawArg(Some(ArgValue::Text(v.to_owned()))))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<RawArg, E> {
        Ok(RawArg(Some(ArgValue::Text(v))))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RawArg, E> {
        Ok(RawArg(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<RawArg, E> {
        Ok(RawArg(None))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawArg, D::Error> {
        RawArg::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<RawArg, A::Error> {
        Err(de::Error::custom(
            "expected a single value (a number, a boolean or a word), got a list",
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<RawArg, A::Error> {
        Err(de::Error::custom(
            "expected a single value (a number, a boolean or a word), got a mapping",
        ))
    }
}

/// One item of `storageClasses`, with the fields of a Kubernetes StorageClass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawStorageClass {
    pub(super) name: Spanned<String>,
    /// The CSI driver of the volumes it provisions (NodeVolumeLimits counts them).
    pub(super) provisioner: Option<Spanned<String>>,
    pub(super) volume_binding_mode: Option<Spanned<String>>,
    pub(super) allowed_topologies: Option<Vec<Spanned<RawTopologySelectorTerm>>>,
    /// The default class (a manifest's `storageclass.kubernetes.io/is-default-class`
    /// annotation): claims that name no class get it.
    pub(super) default: Option<Spanned<bool>>,
}

/// `{storage: QUANTITY}` (`capacity`, `resources.requests`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawStorage {
    pub(super) storage: Spanned<Scalar>,
}

/// One item of `persistentVolumes`, with the fields of a PersistentVolume's spec (plus
/// `name` and `labels`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPersistentVolume {
    pub(super) name: Spanned<String>,
    pub(super) labels: Option<LabelMap>,
    pub(super) capacity: Spanned<RawStorage>,
    pub(super) storage_class_name: Option<Spanned<String>>,
    pub(super) node_affinity: Option<Spanned<RawVolumeNodeAffinity>>,
    pub(super) access_modes: Option<Spanned<Vec<Spanned<String>>>>,
    /// `csi:`: the CSI driver that attaches the volume.
    pub(super) csi: Option<Spanned<RawCsiSource>>,
}

/// A PersistentVolume's `csi:` source: the driver (what NodeVolumeLimits counts against);
/// the handle is accepted for familiarity, the volume's name standing for it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawCsiSource {
    pub(super) driver: Spanned<String>,
    #[expect(dead_code, reason = "the PV's name identifies the volume")]
    pub(super) volume_handle: Option<Spanned<String>>,
}

/// One item of `persistentVolumeClaims`, with the fields of a PersistentVolumeClaim's
/// spec (plus `name` and `namespace`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClaim {
    pub(super) name: Spanned<String>,
    pub(super) namespace: Option<Spanned<String>>,
    pub(super) storage_class_name: Option<Spanned<String>>,
    pub(super) resources: Spanned<RawClaimResources>,
    pub(super) volume_name: Option<Spanned<String>>,
    pub(super) access_modes: Option<Spanned<Vec<Spanned<String>>>>,
}

/// A claim's `resources`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClaimResources {
    pub(super) requests: Spanned<RawStorage>,
}

/// One item of `priorityClasses`, with the fields of a Kubernetes PriorityClass.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPriorityClass {
    pub(super) name: Spanned<String>,
    pub(super) value: Option<Spanned<Scalar>>,
    pub(super) preemption_policy: Option<Spanned<String>>,
    pub(super) global_default: Option<Spanned<bool>>,
    /// Accepted and checked to be text, as in Kubernetes: nothing runs on it, but
    /// `schedlab export` writes it back.
    pub(super) description: Option<String>,
}

/// `cluster:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawCluster {
    pub(super) node_pools: Option<Spanned<Vec<Spanned<RawPool>>>>,
    pub(super) nodes: Option<Spanned<Vec<Spanned<RawNode>>>>,
    /// The nodes of a trace.
    pub(super) trace: Option<Spanned<RawClusterTrace>>,
    /// The machines of a cluster trace, with their arrivals and departures.
    pub(super) machines: Option<Spanned<RawClusterMachines>>,
}

/// `cluster.machines`: a machine trace (see `scenario::machine_traces`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClusterMachines {
    pub(super) format: Spanned<String>,
    /// The machine table, relative to the scenario's directory.
    pub(super) path: Spanned<String>,
    pub(super) machine_scale: Option<Spanned<RawMachineScale>>,
    pub(super) window: Option<Spanned<RawTraceWindow>>,
    pub(super) strict: Option<Spanned<bool>>,
}

/// One item of `cluster.nodePools`.
///
/// The same fields as [`RawNode`] plus `count`; not shared through `#[serde(flatten)]`,
/// which would lose both `deny_unknown_fields` and the spans.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPool {
    pub(super) name: Spanned<String>,
    pub(super) count: Option<Spanned<Scalar>>,
    pub(super) allocatable: Option<QuantityMap>,
    pub(super) labels: Option<LabelMap>,
    pub(super) taints: Option<Vec<Spanned<RawTaint>>>,
    pub(super) unschedulable: Option<bool>,
    /// Whole GPUs on the node (see `schedulers::gpu`).
    pub(super) gpus: Option<Spanned<Scalar>>,
    pub(super) gpu_model: Option<Spanned<String>>,
    /// Makes the pool a node group of the cluster autoscaler.
    pub(super) autoscaling: Option<Spanned<RawPoolAutoscaling>>,
    /// Images its nodes hold at the start.
    pub(super) images: Option<Vec<Spanned<String>>>,
    /// Volumes each CSI driver may attach to a node (its CSINode's allocatable count).
    pub(super) csi_attach_limits: Option<QuantityMap>,
}

/// One item of `cluster.nodes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawNode {
    pub(super) name: Spanned<String>,
    /// Images the node holds at the start.
    pub(super) images: Option<Vec<Spanned<String>>>,
    /// Volumes each CSI driver may attach to the node (its CSINode's allocatable count).
    pub(super) csi_attach_limits: Option<QuantityMap>,
    pub(super) allocatable: Option<QuantityMap>,
    pub(super) labels: Option<LabelMap>,
    pub(super) taints: Option<Vec<Spanned<RawTaint>>>,
    pub(super) unschedulable: Option<bool>,
    /// Whole GPUs on the node (see `schedulers::gpu`).
    pub(super) gpus: Option<Spanned<Scalar>>,
    pub(super) gpu_model: Option<Spanned<String>>,
}

/// One item of `workloads`: every key any kind may use, checked against the kind later so
/// that the message can say which kind a key belongs to.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawWorkload {
    pub(super) pod: Option<Spanned<String>>,
    pub(super) deployment: Option<Spanned<String>>,
    pub(super) batch: Option<Spanned<String>>,
    pub(super) count: Option<Spanned<Scalar>>,
    pub(super) replicas: Option<Spanned<Scalar>>,
    pub(super) at: Option<Spanned<Scalar>>,
    pub(super) arrivals: Option<Spanned<RawArrivals>>,
    pub(super) duration: Option<Spanned<ScalarOrDist>>,
    pub(super) namespace: Option<Spanned<String>>,
    pub(super) labels: Option<LabelMap>,
    pub(super) annotations: Option<LabelMap>,
    pub(super) priority: Option<Spanned<Scalar>>,
    pub(super) termination_grace_period_seconds: Option<Spanned<Scalar>>,
    pub(super) priority_class_name: Option<Spanned<String>>,
    pub(super) preemption_policy: Option<Spanned<String>>,
    pub(super) requests: Option<Spanned<RequestMap>>,
    pub(super) limits: Option<Spanned<QuantityMap>>,
    pub(super) ports: Option<Spanned<Vec<Spanned<RawContainerPort>>>>,
    pub(super) containers: Option<Spanned<Vec<Spanned<RawContainer>>>>,
    /// The image of the one container a workload without `containers:` has.
    pub(super) image: Option<Spanned<String>>,
    pub(super) init_containers: Option<Spanned<Vec<Spanned<RawContainer>>>>,
    pub(super) overhead: Option<QuantityMap>,
    pub(super) node_selector: Option<LabelMap>,
    pub(super) tolerations: Option<Vec<Spanned<RawToleration>>>,
    pub(super) affinity: Option<RawAffinity>,
    pub(super) topology_spread_constraints: Option<Vec<Spanned<RawTopologySpreadConstraint>>>,
    pub(super) node_name: Option<Spanned<String>>,
    pub(super) volumes: Option<Vec<Spanned<RawVolume>>>,
    /// The pod group the pods join: shorthand for the `scheduling.x-k8s.io/pod-group` label.
    pub(super) pod_group: Option<Spanned<String>>,
    /// A share of one GPU (`0.5`) or whole GPUs (`2`); see `schedulers::gpu`.
    pub(super) gpu: Option<Spanned<Scalar>>,
    pub(super) gpu_models: Option<Spanned<Vec<Spanned<String>>>>,
    /// A trace replayed as a workload: the fourth kind, which takes no other key.
    pub(super) trace: Option<Spanned<RawTraceWorkload>>,
    /// A Deployment's dynamics (see `build::dynamics`).
    pub(super) readiness_delay: Option<Spanned<Scalar>>,
    pub(super) service: Option<Spanned<super::build::dynamics::RawService>>,
    pub(super) memory_usage: Option<Spanned<super::build::dynamics::RawMemoryUsage>>,
    pub(super) usage: Option<Spanned<super::build::dynamics::RawUsage>>,
    pub(super) horizontal_pod_autoscaler: Option<Spanned<super::build::dynamics::RawHpa>>,
    /// A Deployment's rollouts (see `build::rollout`).
    pub(super) rollouts: Option<Spanned<Vec<Spanned<super::build::rollout::RawRollout>>>>,
    pub(super) rollout: Option<Spanned<super::build::rollout::RawRollout>>,
    /// A StatefulSet's name (see `build::statefulset`).
    pub(super) stateful_set: Option<Spanned<String>>,
    pub(super) pod_management_policy: Option<Spanned<String>>,
    pub(super) volume_claim_templates: Option<Spanned<Vec<Spanned<RawClaimTemplate>>>>,
    pub(super) persistent_volume_claim_retention_policy:
        Option<Spanned<schedulers::yaml::kube::RawRetentionPolicy>>,
    /// A KEDA ScaledObject on the workload's queue (see `build::keda`).
    pub(super) scaled_object: Option<Spanned<super::build::keda::RawScaledObject>>,
    /// A DaemonSet's name: one pod per node that should run it.
    pub(super) daemon_set: Option<Spanned<String>>,
    /// A Job (see `build::jobs`): a kind of its own, and its spec's fields.
    pub(super) job: Option<Spanned<String>>,
    pub(super) completions: Option<Spanned<Scalar>>,
    pub(super) parallelism: Option<Spanned<Scalar>>,
    pub(super) backoff_limit: Option<Spanned<Scalar>>,
    pub(super) active_deadline_seconds: Option<Spanned<Scalar>>,
    pub(super) restart_policy: Option<Spanned<String>>,
    pub(super) failure_probability: Option<Spanned<Scalar>>,
}

/// `arrivals:` of a batch workload.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawArrivals {
    pub(super) process: Spanned<String>,
    pub(super) rate_per_second: Option<Spanned<Scalar>>,
    pub(super) rate_per_minute: Option<Spanned<Scalar>>,
    pub(super) rate_per_hour: Option<Spanned<Scalar>>,
    pub(super) interval: Option<Spanned<Scalar>>,
    pub(super) start: Option<Spanned<Scalar>>,
    pub(super) stop: Option<Spanned<Scalar>>,
    pub(super) count: Option<Spanned<Scalar>>,
}

/// A distribution: `dist` names it, the other keys are its parameters.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawDist {
    pub(super) dist: Spanned<String>,
    pub(super) mean: Option<Spanned<Scalar>>,
    pub(super) min: Option<Spanned<Scalar>>,
    pub(super) max: Option<Spanned<Scalar>>,
    pub(super) median: Option<Spanned<Scalar>>,
    pub(super) sigma: Option<Spanned<Scalar>>,
    pub(super) values: Option<Spanned<Vec<Spanned<Scalar>>>>,
}

/// One item of `containers` or `initContainers`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawContainer {
    pub(super) name: Spanned<String>,
    pub(super) requests: Option<RequestMap>,
    pub(super) limits: Option<QuantityMap>,
    pub(super) ports: Option<Spanned<Vec<Spanned<RawContainerPort>>>>,
    pub(super) image: Option<Spanned<String>>,
    /// `Always` on an init container makes it a sidecar.
    pub(super) restart_policy: Option<Spanned<String>>,
}

/// `clusterAutoscaler:`: cluster-autoscaler's flags, in camelCase.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClusterAutoscaler {
    pub(super) scan_interval: Option<Spanned<Scalar>>,
    pub(super) scale_down_enabled: Option<Spanned<bool>>,
    pub(super) scale_down_unneeded_time: Option<Spanned<Scalar>>,
    pub(super) scale_down_delay_after_add: Option<Spanned<Scalar>>,
    pub(super) scale_down_utilization_threshold: Option<Spanned<Scalar>>,
    pub(super) max_node_provision_time: Option<Spanned<Scalar>>,
    pub(super) max_empty_bulk_delete: Option<Spanned<Scalar>>,
    pub(super) expander: Option<Spanned<String>>,
}

/// `cluster.nodePools[i].autoscaling`: the pool as a node group.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPoolAutoscaling {
    pub(super) min: Option<Spanned<Scalar>>,
    pub(super) max: Option<Spanned<Scalar>>,
    pub(super) price_per_hour: Option<Spanned<Scalar>>,
    pub(super) provisioning_delay: Option<Spanned<Scalar>>,
}

/// One item of a StatefulSet's `volumeClaimTemplates`, shaped as Kubernetes' (a
/// PersistentVolumeClaim with `metadata` and `spec`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClaimTemplate {
    pub(super) metadata: Spanned<RawClaimTemplateMeta>,
    pub(super) spec: Spanned<RawClaimTemplateSpec>,
}

/// A claim template's `metadata`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClaimTemplateMeta {
    pub(super) name: Spanned<String>,
}

/// A claim template's `spec`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawClaimTemplateSpec {
    pub(super) access_modes: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) storage_class_name: Option<Spanned<String>>,
    pub(super) resources: Spanned<RawClaimResources>,
}
