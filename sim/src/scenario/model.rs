//! A scenario after loading and validation: plain data the simulation runs from. The YAML
//! form and its error reporting live in `yaml/`; nothing here knows about files.

use schedulers::kubernetes_enum;
use std::path::PathBuf;
use std::sync::Arc;

use schedulers::cluster::GpuTask;
use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::pdb::PodDisruptionBudget;
use schedulers::volumes::VolumeState;
use schedulers::{
    BuildContext, NodeSpec, PodGroupSpec, PodTemplate, ResourceKind, ResourceNames, SchedulerSpec,
};

use crate::time::SimTime;

/// A validated scenario: the cluster, the workloads and the run settings.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Short name, used in output paths and the summary (`name:`; defaults to the file stem).
    pub name: String,
    /// What the scenario shows (`description:`).
    pub description: String,
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// The master seed every random stream derives from (`seed:`, default 1).
    pub seed: u64,
    /// When the run stops (`duration:`). `None`: when nothing can change any more.
    pub duration: Option<SimTime>,
    /// Time-series sampling interval (`sampleInterval:`, default 60s).
    pub sample_interval: SimTime,
    /// Time from binding to running (`startLatency:`, default 1s).
    pub start_latency: SimTime,
    /// How often the metrics server samples pod usage (`metricsResolution:`, default
    /// 15s); only runs with dynamics sample.
    pub metrics_resolution: SimTime,
    /// Schedulers to run when the command line names none (`schedulers:`), in file order,
    /// each with its run label; no two share a label.
    pub schedulers: Vec<ListedScheduler>,
    /// The profiles of the scenario's own KubeSchedulerConfiguration (`schedulerConfig:`),
    /// by scheduler name, in file order; each builds a fresh scheduler per run.
    pub profiles: Vec<(String, ResolvedProfile)>,
    /// What that configuration asks that schedlab accepts but does not simulate, as
    /// `path:line:column: field: message`, for the caller to print.
    pub profile_warnings: Vec<String>,
    /// Rows of trace files that could not be read and were skipped, one warning per
    /// file (`trace.csv: 3 rows skipped, first at line 17: ...`), for the caller to print.
    pub trace_warnings: Vec<String>,
    /// Keys of the `manifests:` objects that schedlab does not model, one warning per
    /// kind and key path, as `path:line:column: document N (Kind name): field: ...`.
    pub manifest_warnings: Vec<String>,
    /// The one line naming the kinds of `manifests:` objects ignored (Services,
    /// ConfigMaps, ...), when there are any.
    pub manifests_ignored: Option<String>,
    /// The one line saying which instant a cluster snapshot's "now" (the run's time zero)
    /// is: `snapshotTime:` or the manifests' newest timestamp; none without either.
    pub manifests_now: Option<String>,
    /// Names of the extended resources used.
    pub resource_names: ResourceNames,
    /// Every node present at time zero, pools expanded (`<pool>-<i>`), in file order.
    pub nodes: Vec<NodeSpec>,
    /// The workloads, in file order.
    pub workloads: Vec<Workload>,
    /// StorageClasses, PersistentVolumes and PersistentVolumeClaims at time zero
    /// (`storageClasses`, `persistentVolumes`, `persistentVolumeClaims`), claims naming a
    /// `volumeName` already bound.
    pub volumes: VolumeState,
    /// PodDisruptionBudgets (`podDisruptionBudgets`), in file order.
    pub pod_disruption_budgets: Vec<PodDisruptionBudget>,
    /// Namespaces declared with their fairness weights (`namespaces:`), in file order;
    /// namespaces not listed have weight 1.
    pub namespaces: Vec<(String, u32)>,
    /// ResourceQuotas (manifests' `kind: ResourceQuota`), in file order: the admission of
    /// every pod created in their namespace checks them.
    pub quotas: Vec<super::admission::ResourceQuota>,
    /// LimitRanges (manifests' `kind: LimitRange`), in file order; already applied to the
    /// workloads' templates when the scenario was built.
    pub limit_ranges: Vec<super::admission::LimitRange>,
    /// Pod groups (`podGroups`), in file order; [`PodTemplate::pod_group`] indexes them.
    /// When there are any, the simulation runs its scheduler with gang semantics.
    pub pod_groups: Vec<PodGroupSpec>,
    /// Seeds to run when the command line names none (`seeds:`); empty: just `seed`.
    pub seeds: Vec<u64>,
    /// The GPU trace a `gpuTrace:` scenario replays (its nodes and pods are also in
    /// `nodes` and in a [`WorkloadKind::Trace`] workload).
    pub gpu_trace: Option<Arc<super::gpu_trace::GpuTrace>>,
    /// How the scheduling queue treats pods that fail (`queue:`; `gpuTrace:` replays give
    /// up after one attempt).
    pub queue: QueueOptions,
    /// The GPU allocation curve to record (`gpu-fill.csv`; `gpuFill:`, which `gpuTrace:`
    /// implies).
    pub gpu_fill: Option<GpuFillOptions>,
    /// The GPU task mix the scenario's trace replays ask for (task kinds with their
    /// counts): what fragmentation-aware schedulers measure against, as the paper hands
    /// the whole trace to FGD. Empty without a GPU trace.
    pub gpu_workload: Vec<(GpuTask, u64)>,
    /// Node failures, drains and spot reclaims, and the node lifecycle settings that
    /// govern them (`failures:`); `None`: no node fails, and the failure and
    /// taint-eviction controllers stay out of the run.
    pub failures: Option<super::FailureSettings>,
    /// The cluster autoscaler (`clusterAutoscaler:` and pools with `autoscaling:`);
    /// `None` when no pool is autoscaled.
    pub autoscaler: Option<super::autoscaler::ClusterAutoscaler>,
    /// Node-pressure eviction and OOM kills (`nodePressure:`); `None`: memory use is not
    /// enforced, and the eviction manager stays out of the run.
    pub node_pressure: Option<super::NodePressureSettings>,
    /// Container images' sizes and the nodes' pull bandwidth (`images:`).
    pub images: super::images::ImageCatalog,
    /// Nodes joining and leaving at given times, in time order: a machine trace's
    /// (`cluster.machines`).
    pub node_changes: Vec<(SimTime, crate::controllers::nodes::NodeAction)>,
    /// CronJobs (from manifests), each with its Jobs' workloads laid out by schedule.
    pub cron_jobs: Vec<super::cron_jobs::CronJob>,
    /// The PriorityClasses workloads may name: the declared ones (`priorityClasses:`,
    /// then the manifests'), with the built-in system classes among them; a pod
    /// template's [`PodTemplate::priority_class`] indexes them.
    pub priority_classes: Vec<PriorityClassSpec>,
}

/// A PriorityClass (scheduling.k8s.io/v1), kept after its value was resolved into the
/// pods' priorities so that `schedlab export` can write it and the pods' names of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityClassSpec {
    /// `metadata.name`, what pods give as `priorityClassName`.
    pub name: String,
    /// `value`: the priority of its pods.
    pub value: i32,
    /// `globalDefault`: pods naming no class get this one.
    pub global_default: bool,
    /// `preemptionPolicy`.
    pub preemption_policy: schedulers::PreemptionPolicy,
    /// `description`, for the reader only.
    pub description: Option<String>,
    /// Whether it is one of the system classes every cluster has without declaring them
    /// (`system-cluster-critical`, `system-node-critical`), which an export leaves out.
    pub built_in: bool,
}

/// A scheduler a scenario lists (`schedulers:`): what to build it from and the label of
/// its runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedScheduler {
    /// The name and the arguments as written, checked when the scenario was loaded.
    pub spec: SchedulerSpec,
    /// The run label (see [`schedulers::spec`]): the `scheduler` column of `summary.csv`
    /// and the runs' directory.
    pub label: String,
}

impl Scenario {
    /// What the scenario tells a scheduler factory: its own KubeSchedulerConfiguration
    /// profiles and its GPU task mix.
    pub fn build_context(&self) -> BuildContext<'_> {
        BuildContext {
            profiles: &self.profiles,
            gpu_workload: &self.gpu_workload,
        }
    }
}

/// Settings of the scheduling queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueOptions {
    /// After this many failed attempts a pod is given up: it fails and leaves the
    /// cluster. `None`: retried for ever, as kube-scheduler does.
    pub max_attempts: Option<u32>,
}

/// The GPU allocation curve of a trace replay: a point every `step_permille` of the
/// cluster's GPUs of arrived demand, up to `demand_permille`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuFillOptions {
    /// Spacing of the points, in thousandths of the cluster's GPUs.
    pub step_permille: u32,
    /// The last point, in thousandths of the cluster's GPUs.
    pub demand_permille: u32,
}

impl Scenario {
    /// The PodDisruptionBudgets to install in the cluster at time zero.
    pub fn pdbs(&self) -> &[PodDisruptionBudget] {
        &self.pod_disruption_budgets
    }
}

/// A source of pods.
#[derive(Debug, Clone)]
pub struct Workload {
    /// What creates the pods, and when.
    pub kind: WorkloadKind,
    /// What every pod of the workload shares (name, namespace, constraints, containers).
    pub template: Arc<PodTemplate>,
    /// Requests drawn per pod, overriding the template's single container for these kinds.
    pub sized: Vec<(ResourceKind, Dist<i64>)>,
    /// How long a pod runs once started; `None` runs until the end.
    pub duration: Option<Dist<SimTime>>,
    /// A Deployment's readiness, load, usage and autoscaler, if any are given.
    pub dynamics: Option<Arc<super::dynamics::Dynamics>>,
    /// The pods a cluster snapshot shows already on their nodes (a Deployment's,
    /// ReplicaSet's, StatefulSet's or Job's bound pods in the manifests): its first pods
    /// take these templates, each the workload's own pinned to one node by `nodeName`, so
    /// they start where the snapshot has them instead of meeting the scheduler.
    pub adopted: Vec<Arc<PodTemplate>>,
    /// A StatefulSet's: the ordinal of each of `adopted` (the pod `<set>-<ordinal>` keeps
    /// its identity and claims); empty for other kinds.
    pub adopted_ordinals: Vec<u32>,
    /// How long each of `adopted` had run at the snapshot's "now" (`now - status.startTime`,
    /// zero without one): it runs what is left of its `duration`. Empty reads as zeros.
    pub adopted_ran: Vec<SimTime>,
    /// Why the LimitRanges of its namespace forbid its pods (upstream's message after
    /// `pods "NAME" is forbidden: `); every creation of one is refused.
    pub forbidden: Option<Arc<str>>,
}

/// The controller or process that creates a workload's pods.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadKind {
    /// `pod: NAME`: `count` bare pods created at `at`.
    Pods {
        /// Creation time.
        at: SimTime,
        /// How many.
        count: u32,
    },
    /// `deployment: NAME`: a ReplicaSet that keeps `replicas` pods from `at` on, replacing
    /// any that finish or fail.
    Deployment {
        /// Creation time.
        at: SimTime,
        /// Desired replicas.
        replicas: u32,
    },
    /// `batch: NAME`: Job pods arriving by a random or fixed process.
    Batch {
        /// The arrival process.
        arrivals: Arrivals,
    },
    /// `trace: {...}` (or `gpuTrace:`): pods replayed from a cluster trace.
    Trace(Arc<TraceReplay>),
    /// `statefulSet: NAME`: pods `NAME-0` ... `NAME-(replicas-1)` with stable identities,
    /// each mounting its own claims, from `at` on; a lost pod is recreated with the same
    /// ordinal and claims.
    StatefulSet {
        /// Creation time.
        at: SimTime,
        /// Desired replicas.
        replicas: u32,
        /// The order in which pods are created.
        pod_management: PodManagementPolicy,
        /// Its `volumeClaimTemplates`: ordinal `i` mounts the claim
        /// `<template>-<NAME>-<i>` of each (created with the scenario's storage).
        claim_templates: Vec<ClaimTemplate>,
        /// `persistentVolumeClaimRetentionPolicy.whenScaled`: whether a scale-down
        /// deletes the claims of the ordinals it removes.
        when_scaled: ClaimRetention,
    },
    /// `daemonSet: NAME`: one pod on every node that should run it (its node selector,
    /// required node affinity and tolerations admit the node), from `at` on, including
    /// nodes that join later; a lost pod is recreated while its node still qualifies.
    DaemonSet {
        /// Creation time.
        at: SimTime,
    },
    /// `job: NAME`: a Job created at `at`, whose controller runs its pods to completion.
    Job {
        /// Creation time (the Job's `status.startTime`).
        at: SimTime,
        /// What it runs.
        spec: super::JobSpec,
    },
}

/// One of a StatefulSet's `volumeClaimTemplates`, kept whole so that the set can be
/// written back (`schedlab export`) even when none of its claims exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTemplate {
    /// `metadata.name`: the claims are `<name>-<set>-<ordinal>`.
    pub name: String,
    /// `spec.storageClassName`, the default StorageClass's when the template names none
    /// (empty for none).
    pub storage_class: String,
    /// `spec.resources.requests.storage`, in bytes.
    pub request: i64,
    /// `spec.accessModes`.
    pub access_modes: schedulers::volumes::AccessModes,
}

kubernetes_enum! {
    /// One case of a StatefulSet's `persistentVolumeClaimRetentionPolicy`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub enum ClaimRetention {
        /// The claims stay (the Kubernetes default).
        #[default]
        Retain => "Retain",
        /// The claims are deleted once their ordinal's pod is gone.
        Delete => "Delete",
    }
}

kubernetes_enum! {
    /// A StatefulSet's `podManagementPolicy`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub enum PodManagementPolicy {
        /// Ordinal `i+1` is created only once ordinal `i` is Running and Ready, and nothing
        /// is created while a lower ordinal is not (the Kubernetes default).
        #[default]
        OrderedReady => "OrderedReady",
        /// Every missing pod is created at once.
        Parallel => "Parallel",
    }
}

/// A trace replayed as a workload: which pods arrive when.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceReplay {
    /// Where the trace's pods are.
    pub source: TraceSource,
    /// When they arrive and whether they leave.
    pub timing: TraceTiming,
}

/// Where a replay's pods are: all in memory, or read from the file as the run goes.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceSource {
    /// The trace's pods, in file order.
    InMemory(Vec<super::gpu_trace::TracePod>),
    /// A recorded replay read from its file during the run (see
    /// [`super::trace_stream`]).
    Streamed(super::trace_stream::StreamedTrace),
}

impl TraceReplay {
    /// A replay of `pods`, held in memory.
    pub fn in_memory(pods: Vec<super::gpu_trace::TracePod>, timing: TraceTiming) -> TraceReplay {
        TraceReplay {
            source: TraceSource::InMemory(pods),
            timing,
        }
    }

    /// The replay's pods in file order; a streamed replay reads its whole file for them
    /// (for tests and analysis: a run never holds them all).
    pub fn pods(
        &self,
    ) -> Result<std::borrow::Cow<'_, [super::gpu_trace::TracePod]>, super::ScenarioError> {
        match &self.source {
            TraceSource::InMemory(pods) => Ok(std::borrow::Cow::Borrowed(pods)),
            TraceSource::Streamed(s) => s.read_all().map(std::borrow::Cow::Owned),
        }
    }

    /// Whether the replay reads its file as the run goes.
    pub fn is_streamed(&self) -> bool {
        matches!(self.source, TraceSource::Streamed(_))
    }

    /// Whether the replay streams a Google trace, reading ahead of the run's clock.
    pub fn reads_ahead(&self) -> bool {
        matches!(&self.source, TraceSource::Streamed(s)
            if matches!(s.format, super::trace_stream::StreamedFormat::Google2011 { .. }))
    }
}

/// How a trace's pods arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceTiming {
    /// The protocol of Weng et al. (ATC 2023): the trace's pods in an order shuffled by
    /// the seed, then pods drawn from the trace with replacement, until the GPU they ask
    /// for reaches `demand_permille` thousandths of the cluster's GPUs; one pod every
    /// `interval`, and none leaves.
    Shuffled {
        /// Arrived GPU demand at which arrivals stop, in thousandths of the cluster's GPUs.
        demand_permille: u32,
        /// Time between two arrivals.
        interval: SimTime,
    },
    /// The trace's own times: each pod arrives at its creation time, shifted so that the
    /// first arrival is at zero, in the order of those times (file order among equal
    /// ones), and once started runs for as long as it did in the trace: deletion minus
    /// scheduled time, or deletion minus creation time for a pod the trace never
    /// scheduled. A pod without a deletion time runs until the end; one without a
    /// creation time never arrives (the loader refuses such a trace).
    Recorded,
}

/// How batch pods arrive.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrivals {
    /// The process.
    pub process: ArrivalProcess,
    /// First possible arrival (`start:`, default 0s).
    pub start: SimTime,
    /// No arrivals at or after this time (`stop:`).
    pub stop: Option<SimTime>,
    /// At most this many pods (`count:`).
    pub count: Option<u64>,
}

/// The arrival process of a batch workload.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrivalProcess {
    /// Exponential inter-arrival times with this many arrivals per second on average
    /// (`process: poisson` with `ratePerSecond`, `ratePerMinute` or `ratePerHour`).
    Poisson {
        /// Mean arrivals per second.
        rate_per_second: f64,
    },
    /// One arrival every `interval` (`process: fixed`).
    Fixed {
        /// Time between arrivals.
        interval: SimTime,
    },
    /// `count` pods all at `start` (`process: burst`).
    Burst,
}

/// A distribution of durations or sizes, sampled with rand_distr.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist<T> {
    /// Always this value (a plain quantity or duration in the file).
    Constant(T),
    /// Uniform on `[min, max]` (`dist: uniform`).
    Uniform {
        /// Lower bound.
        min: T,
        /// Upper bound.
        max: T,
    },
    /// Exponential with this mean (`dist: exponential`).
    Exponential {
        /// The mean.
        mean: T,
    },
    /// Log-normal with this median and log-space standard deviation (`dist: lognormal`).
    LogNormal {
        /// The median (e^mu).
        median: T,
        /// sigma of the underlying normal.
        sigma: f64,
    },
    /// One of the values, each equally likely (`dist: choice`).
    Choice(Vec<T>),
}
