//! From the raw structs to a validated [`Scenario`]: every value interpreted (quantities,
//! durations, distributions, selectors), defaults applied, and the rules that span fields
//! checked, each failure pointing at the value's line and column.
//!
//! `cluster` and `workloads` (and within `cluster`, `nodePools` and `nodes`) are processed in
//! the order they appear in the file, so extended resources are numbered in file order and,
//! of two errors in different sections, the earlier one is reported. Every other section
//! is checked before both, in a fixed order, wherever it is: workloads refer to several of
//! them (priority classes, claims, pod groups). Validation stops at the first error: one
//! precise message is more useful than a cascade of consequences.
//!
//! One file per section, each on the [`Builder`] that carries what later sections look up:
//! `scheduling` (`schedulerConfig`, `schedulers`), `priority` (`priorityClasses` and a
//! workload's priority), `storage`, `disruption` (`podDisruptionBudgets`), `groups`
//! (`namespaces`, `podGroups` and the group a workload joins), `cluster`, `workloads`
//! (kinds and arrivals), `dist` (distributions), `pod` (the pod template and its
//! containers), `gpu` (`seeds`, `gpuTrace`, GPUs of nodes and pods) and `trace` (trace
//! workloads, `cluster.trace`, `queue`, `gpuFill`, and what `gpuTrace` expands to). The Kubernetes
//! pieces (selectors, affinity, tolerations, taints, ports, quantities) are read by the
//! builder's `kube`, the [`Reader`] every Kubernetes-YAML reader shares.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use schedulers::ResourceNames;
use schedulers::gang::PodGroupSpec;
use schedulers::volumes::VolumeState;
use schedulers::yaml::message::{shown, with_hint};
use schedulers::yaml::{Reader, Scalar};
use serde_saphyr::{Location, Spanned};

use super::raw::RawScenario;
use super::{LoadOptions, ScenarioError};
use crate::scenario::{
    GpuFillOptions, QueueOptions, Scenario, SchedulerCheck, TraceReplay, TraceTiming,
};
use crate::time::{SimTime, parse_duration};
use priority::PriorityClass;

mod admission;
mod autoscaler;
mod cluster;
mod disruption;
mod dist;
pub(super) mod dynamics;
pub(super) mod failures;
mod gpu;
mod groups;
pub(super) mod images;
mod jobs;
pub(super) mod keda;
mod machines;
mod manifests;
pub(super) mod node_pressure;
mod pod;
mod priority;
pub(super) mod rollout;
mod scheduling;
mod statefulset;
mod storage;
mod trace;
mod workloads;

/// `sampleInterval` when absent.
const DEFAULT_SAMPLE_INTERVAL: SimTime = SimTime::from_secs(60);
/// `startLatency` when absent.
const DEFAULT_START_LATENCY: SimTime = SimTime::from_secs(1);
/// `metricsResolution` when absent: the scrape interval metrics-server's HPA guidance
/// recommends (its own default is 60 s).
const DEFAULT_METRICS_RESOLUTION: SimTime = SimTime::from_secs(15);

type Result<T> = std::result::Result<T, ScenarioError>;

/// Validates a parsed file into a [`Scenario`].
pub(super) fn build(
    mut raw: RawScenario,
    text: &str,
    file: &str,
    check: &SchedulerCheck<'_>,
    options: &LoadOptions,
) -> Result<Scenario> {
    // Read first: the builder's reader borrows their names while it builds their objects.
    let manifest_files = manifests::read_files(
        &Reader::new(file),
        raw.manifests.as_ref(),
        &options.manifests,
    )?;
    let mut manifest_set = manifests::Manifests::read(&manifest_files)?;
    let snapshot_time = match &raw.snapshot_time {
        Some(t) => Some((
            schedulers::yaml::timestamp::parse(&t.value.0).ok_or_else(|| {
                Reader::new(file).err(
                    &t.referenced,
                    "snapshotTime",
                    format!(
                        "expected an RFC 3339 time (2024-05-01T12:00:00Z, 2024-05-01T14:00:00.5+02:00), got {:?}",
                        t.value.0
                    ),
                )
            })?,
            t.value.0.clone(),
        )),
        None => None,
    };
    let manifests_now = manifest_set.choose_now(snapshot_time);
    let mut b = Builder {
        kube: Reader::new(file),
        names: ResourceNames::default(),
        classes: Vec::new(),
        volumes: VolumeState::default(),
        pod_groups: Vec::new(),
        shuffled_traces: Vec::new(),
        trace_warnings: Vec::new(),
        horizon: None,
        capacity: [0; schedulers::resources::NUM_RESOURCES],
        node_groups: Vec::new(),
        image_catalog: Default::default(),
        node_changes: Vec::new(),
        strict_traces: options.strict,
        limit_ranges: Vec::new(),
        adopt_claims: false,
        default_class: None,
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
        Some(t) => {
            let replaced = [
                ("cluster", raw.cluster.as_ref().map(|v| &v.referenced)),
                ("workloads", raw.workloads.as_ref().map(|v| &v.referenced)),
                ("queue", raw.queue.as_ref().map(|v| &v.referenced)),
                ("gpuFill", raw.gpu_fill.as_ref().map(|v| &v.referenced)),
            ];
            Some(Arc::new(b.gpu_trace(t, &replaced)?))
        }
        None => None,
    };
    let duration = match &raw.duration {
        Some(v) => Some(b.positive_duration(v, "duration")?),
        None => None,
    };
    b.horizon = duration;
    let sample_interval = match &raw.sample_interval {
        Some(v) => b.positive_duration(v, "sampleInterval")?,
        None => DEFAULT_SAMPLE_INTERVAL,
    };
    let start_latency = match &raw.start_latency {
        Some(v) => b.duration(v, "startLatency")?,
        None => DEFAULT_START_LATENCY,
    };
    let metrics_resolution = match &raw.metrics_resolution {
        Some(v) => b.positive_duration(v, "metricsResolution")?,
        None => DEFAULT_METRICS_RESOLUTION,
    };
    let (profiles, profile_warnings) = match &raw.scheduler_config {
        Some(config) => b.scheduler_config(config, text, check)?,
        None => (Vec::new(), Vec::new()),
    };
    let schedulers = b.schedulers(
        raw.schedulers.as_deref().unwrap_or_default(),
        &profiles,
        check,
    )?;
    b.priority_classes(raw.priority_classes.as_deref().unwrap_or_default())?;
    b.manifest_priority_classes(&manifest_files, &manifest_set)?;
    let admission = b.manifest_admission(&manifest_files, &manifest_set)?;
    // Each storage kind of the manifests follows the scenario's own of that kind.
    // The scenario's own classes have no creation time: older than any manifest's.
    let mut marked_default: Vec<(Option<schedulers::yaml::timestamp::Instant>, String)> = b
        .storage_classes(raw.storage_classes.as_deref().unwrap_or_default())?
        .into_iter()
        .map(|name| (None, name))
        .collect();
    marked_default.extend(b.manifest_storage_classes(&manifest_files, &manifest_set)?);
    // Before any claim: those that name no class get the default one.
    let default_class_warning = b.choose_default_class(&marked_default);
    b.persistent_volumes(raw.persistent_volumes.as_deref().unwrap_or_default())?;
    b.manifest_volumes(&manifest_files, &manifest_set)?;
    b.claims(raw.persistent_volume_claims.as_deref().unwrap_or_default())?;
    let claim_warnings = b.manifest_claims(&manifest_files, &manifest_set)?;
    let mut pod_disruption_budgets =
        b.pod_disruption_budgets(raw.pod_disruption_budgets.as_deref().unwrap_or_default())?;
    let mut namespaces = b.namespaces(raw.namespaces.as_deref().unwrap_or_default())?;
    // A manifest's Namespace exists with the default weight unless `namespaces:` sets one.
    for ns in &admission.namespaces {
        if !namespaces.iter().any(|(n, _)| n == ns) {
            namespaces.push((ns.clone(), schedulers::namespaces::DEFAULT_WEIGHT));
        }
    }
    b.pod_groups(raw.pod_groups.as_deref().unwrap_or_default())?;
    b.image_catalog = b.images(raw.images.as_ref())?;
    let queue = match &raw.queue {
        Some(q) => b.queue(q)?,
        None => QueueOptions::default(),
    };

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
    let (mut nodes, mut workloads) = if cluster_first {
        let nodes = cluster(&mut b)?;
        (nodes, b.workloads(raw_workloads)?)
    } else {
        let workloads = b.workloads(raw_workloads)?;
        (cluster(&mut b)?, workloads)
    };
    // The manifests' objects follow the scenario's own.
    let mut from_manifests =
        b.manifest_objects(&manifest_files, &manifest_set, &nodes, &workloads)?;
    let mut cron_jobs = b.manifest_cron_jobs(&manifest_files, &manifest_set)?;
    b.manifest_dynamics(
        raw.manifest_dynamics.take().unwrap_or_default(),
        &mut from_manifests.workloads,
        &mut cron_jobs,
    )?;
    let hpa_warnings = b.manifest_hpas(
        &manifest_files,
        &manifest_set,
        &mut from_manifests.workloads,
    )?;
    nodes.extend(from_manifests.nodes);
    let daemon_pods_left_out =
        manifests::not_run_daemon_pods(&mut from_manifests.workloads, &nodes);
    manifest_set.not_adopted(daemon_pods_left_out);
    let daemon_warning = (daemon_pods_left_out > 0).then(|| {
        format!(
            "manifests: {daemon_pods_left_out} DaemonSet pod(s) bound to nodes their DaemonSet would not run them on (node selector, affinity, an untolerated NoExecute taint, or no such node) left out; the DaemonSet's controller does not recreate them there"
        )
    });
    let first_manifest_workload = workloads.len();
    workloads.extend(from_manifests.workloads);
    manifests::adopt_cron_jobs(
        &mut cron_jobs,
        &from_manifests.cron_adopted,
        first_manifest_workload,
        &mut workloads,
    );
    // A CronJob's Jobs follow every other workload.
    let cron_jobs = manifests::lay_out_cron_jobs(cron_jobs, &mut workloads);
    pod_disruption_budgets.extend(from_manifests.budgets);
    b.check_shuffled_traces(&nodes)?;
    let gpu_fill = match &raw.gpu_fill {
        Some(f) => Some(b.gpu_fill(f, &nodes)?),
        None => None,
    };
    // `gpuTrace:` is a shorthand for a cluster and a workload (given neither) and the
    // queue and curve of the paper's protocol.
    let (nodes, workloads, queue, gpu_fill) = match &gpu_trace {
        Some(t) => (
            t.nodes.clone(),
            vec![trace::trace_workload(TraceReplay::in_memory(
                t.pods.clone(),
                TraceTiming::Shuffled {
                    demand_permille: t.demand_permille,
                    interval: crate::scenario::GPU_TRACE_INTERVAL,
                },
            ))],
            QueueOptions {
                max_attempts: Some(1),
            },
            Some(GpuFillOptions {
                step_permille: t.step_permille,
                demand_permille: t.demand_permille,
            }),
        ),
        None => (nodes, workloads, queue, gpu_fill),
    };
    let gpu_workload = trace::trace_tasks(&workloads);
    let failures = match &raw.failures {
        Some(f) => Some(b.failures(f, &nodes)?),
        None => None,
    };
    let autoscaler = b.cluster_autoscaler(raw.cluster_autoscaler.as_ref())?;
    let node_pressure = match &raw.node_pressure {
        Some(p) => Some(b.node_pressure(p)?),
        None => None,
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
        metrics_resolution,
        schedulers,
        profiles,
        profile_warnings,
        trace_warnings: b.trace_warnings,
        manifest_warnings: manifest_set
            .warnings()
            .into_iter()
            .chain(admission.warnings)
            .chain(claim_warnings)
            .chain(default_class_warning)
            .chain(hpa_warnings)
            .chain(daemon_warning)
            .collect(),
        manifests_ignored: manifest_set.ignored_line(),
        manifests_now,
        resource_names: b.names,
        nodes,
        workloads,
        volumes: b.volumes,
        pod_disruption_budgets,
        namespaces,
        quotas: admission.quotas,
        limit_ranges: b.limit_ranges,
        pod_groups: b.pod_groups,
        seeds,
        gpu_trace,
        queue,
        gpu_fill,
        gpu_workload,
        failures,
        autoscaler,
        node_pressure,
        images: b.image_catalog,
        node_changes: b.node_changes,
        cron_jobs,
        priority_classes: b.classes.iter().map(PriorityClass::spec).collect(),
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
    /// The shuffled trace workloads, for the checks that need the cluster.
    shuffled_traces: Vec<trace::ShuffledTrace>,
    /// One warning per trace file whose bad rows were skipped.
    trace_warnings: Vec<String>,
    /// The scenario's `duration:`, read before the workloads: a workload that would create
    /// pods for ever needs it, or its run would never end.
    horizon: Option<SimTime>,
    /// The cluster's total allocatable so far, per resource kind, wide enough never to
    /// overflow itself: the simulation's own totals are `i64`.
    capacity: [i128; schedulers::resources::NUM_RESOURCES],
    /// The autoscaled pools, as the cluster section finds them.
    node_groups: Vec<crate::scenario::NodeGroup>,
    /// `images:`, read before the cluster, whose nodes name images by it.
    image_catalog: crate::scenario::images::ImageCatalog,
    /// Nodes joining and leaving during the run (`cluster.machines`).
    node_changes: Vec<(crate::time::SimTime, crate::controllers::nodes::NodeAction)>,
    /// `--strict`: every trace is read as if it said `strict: true`.
    strict_traces: bool,
    /// The LimitRanges, read before the workloads, whose templates they change.
    limit_ranges: Vec<crate::scenario::admission::LimitRange>,
    /// While a manifest's StatefulSet is built: a claim of one of its ordinals that
    /// exists already (a snapshot's PersistentVolumeClaim) is the ordinal's, as upstream's
    /// controller uses an existing claim of that name, instead of a clash.
    adopt_claims: bool,
    /// The default StorageClass (DefaultStorageClass admission), given to claims that
    /// name no `storageClassName`.
    default_class: Option<String>,
}

impl Builder<'_> {
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
}

/// What the sections' tests share: loading scenario text, and checking where an error
/// points.
#[cfg(test)]
mod testing {
    use schedulers::framework::plugin_registry::ResolvedProfile;
    use schedulers::{PodTemplate, Registry, SchedulerSpec, SpecError};

    use super::super::parse_scenario;
    use super::ScenarioError;
    use crate::scenario::Scenario;

    /// The file the tests' scenarios come from, as messages name it.
    pub(super) const FILE: &str = "t.yaml";

    /// The built-in registry's check, as hosts pass it.
    pub(super) fn known(
        spec: &SchedulerSpec,
        profiles: &[(String, ResolvedProfile)],
    ) -> Result<String, SpecError> {
        Registry::builtin().check(spec, profiles)
    }

    /// `text` loaded with the built-in schedulers known; panics with the error.
    pub(super) fn load(text: &str) -> Scenario {
        parse_scenario(text, FILE, &known).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The pod template of the first workload of `text`.
    pub(super) fn template(text: &str) -> PodTemplate {
        load(text).workloads[0].template.as_ref().clone()
    }

    /// The error `text` is refused with.
    pub(super) fn error(text: &str) -> ScenarioError {
        match parse_scenario(text, FILE, &known) {
            Ok(_) => panic!("{text:?} loaded, but it should have been refused"),
            Err(e) => e,
        }
    }

    /// Asserts that `text` is refused where `needle` first occurs in it, in `field`, with
    /// `message`.
    #[track_caller]
    pub(super) fn check_at(text: &str, needle: &str, field: &str, message: &str) {
        let offset = text.find(needle).expect("the needle is in the text");
        let line = text[..offset].matches('\n').count() as u64 + 1;
        let column = text[..offset]
            .rsplit('\n')
            .next()
            .unwrap_or("")
            .chars()
            .count() as u64
            + 1;
        check_error(text, line, column, field, message);
    }

    /// Asserts that `text` is refused at `line`:`column` in `field`, with `message`.
    #[track_caller]
    pub(super) fn check_error(text: &str, line: u64, column: u64, field: &str, message: &str) {
        let e = error(text);
        assert_eq!(
            (e.line, e.column, e.field.as_deref(), e.message.as_str()),
            (Some(line), Some(column), Some(field), message),
            "{e}"
        );
        assert_eq!(e.path, FILE);
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{FILE, check_error, error, load};
    use super::*;

    #[test]
    fn run_settings_default_as_documented() {
        let s = load("{}");
        assert_eq!(s.name, "t", "the file stem");
        assert_eq!(s.description, "");
        assert_eq!(s.path.as_deref(), Some(Path::new(FILE)));
        assert_eq!(s.seed, 1);
        assert_eq!(s.duration, None);
        assert_eq!(s.sample_interval, SimTime::from_secs(60));
        assert_eq!(s.start_latency, SimTime::from_secs(1));
        assert!(s.schedulers.is_empty() && s.nodes.is_empty() && s.workloads.is_empty());
        assert_eq!(default_name(""), "scenario");
    }

    #[test]
    fn run_settings_are_read() {
        let s = load(
            "name: demo\ndescription: |\n  two lines\n  of text\nseed: 42\nduration: 1h30m\nsampleInterval: 10s\nstartLatency: 0s\n",
        );
        assert_eq!(s.name, "demo");
        assert_eq!(
            s.description, "two lines\nof text",
            "trailing newline trimmed"
        );
        assert_eq!(s.seed, 42);
        assert_eq!(s.duration, Some(SimTime::from_secs(5400)));
        assert_eq!(s.sample_interval, SimTime::from_secs(10));
        assert_eq!(s.start_latency, SimTime::ZERO);
    }

    #[test]
    fn run_setting_errors_are_located() {
        check_error(
            "name: a/b\n",
            1,
            7,
            "name",
            "a/b cannot be used in output paths: expected a name without slashes",
        );
        check_error(
            "name: ''\n",
            1,
            7,
            "name",
            "expected a name, got an empty string",
        );
        check_error(
            "seed: -3\n",
            1,
            7,
            "seed",
            "expected a non-negative integer, got -3",
        );
        check_error(
            "duration: 0s\n",
            1,
            11,
            "duration",
            "expected a duration longer than zero, got 0",
        );
        let e = error("sampleInterval: 10x\n");
        assert_eq!((e.line, e.column), (Some(1), Some(17)));
        assert_eq!(e.field.as_deref(), Some("sampleInterval"));
        assert!(e.message.starts_with("invalid duration \"10x\""), "{e}");
    }

    #[test]
    fn cluster_and_workloads_are_checked_in_file_order() {
        let cluster = "cluster: {nodes: [{name: n, allocatable: {cpu: x}}]}\n";
        let workloads = "workloads: [{pod: p, requests: {cpu: y}}]\n";
        let first_field = |text: String| error(&text).field.unwrap();
        assert_eq!(
            first_field(format!("{cluster}{workloads}")),
            "cluster.nodes[0].allocatable.cpu"
        );
        assert_eq!(
            first_field(format!("{workloads}{cluster}")),
            "workloads[0].requests.cpu"
        );
    }
}
