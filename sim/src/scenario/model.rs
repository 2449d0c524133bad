//! A scenario after loading and validation: plain data the simulation runs from. The YAML
//! form and its error reporting live in `yaml/`; nothing here knows about files.

use std::path::PathBuf;
use std::sync::Arc;

use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::pdb::PodDisruptionBudget;
use schedulers::volumes::VolumeState;
use schedulers::{NodeSpec, PodGroupSpec, PodTemplate, ResourceKind, ResourceNames};

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
    /// Schedulers to run when the command line names none (`schedulers:`).
    pub schedulers: Vec<String>,
    /// The profiles of the scenario's own KubeSchedulerConfiguration (`schedulerConfig:`),
    /// by scheduler name, in file order; each builds a fresh scheduler per run.
    pub profiles: Vec<(String, ResolvedProfile)>,
    /// What that configuration asks that schedlab accepts but does not simulate, as
    /// `path:line:column: field: message`, for the caller to print.
    pub profile_warnings: Vec<String>,
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
    /// Pod groups (`podGroups`), in file order; [`PodTemplate::pod_group`] indexes them.
    /// When there are any, the simulation runs its scheduler with gang semantics.
    pub pod_groups: Vec<PodGroupSpec>,
    /// Seeds to run when the command line names none (`seeds:`); empty: just `seed`.
    pub seeds: Vec<u64>,
    /// A GPU trace replayed under the fragmentation paper's protocol (`gpuTrace:`), which
    /// replaces the event simulation (see [`crate::gpu_replay`]).
    pub gpu_trace: Option<Arc<super::gpu_trace::GpuTrace>>,
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
