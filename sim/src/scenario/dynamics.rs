//! What a Deployment does once running: its readiness delay, the load its Service
//! receives and what that load costs its pods, and its HorizontalPodAutoscaler. Plain
//! data, read from a workload's `readinessDelay`, `service`, `memoryUsage`, `usage` and
//! `horizontalPodAutoscaler` keys.

use crate::controllers::hpa::behavior::Behavior;
use crate::controllers::hpa::calculator::{CalcSettings, Target};
use crate::scenario::Dist;
use crate::time::SimTime;

/// A Deployment's dynamics: everything besides creating and replacing its pods. The
/// default sets nothing (ready at start, no load, usage, autoscaler or rollout), for a
/// Deployment that gets only an HPA or a rollout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dynamics {
    /// From a pod's start to its Ready condition (`readinessDelay:`, default 0): image
    /// pull and start are the scenario's `startLatency`; this is the application's
    /// warm-up and its readiness probe's initial delay.
    pub readiness_delay: SimTime,
    /// The load its Service receives (`service:`), if any.
    pub service: Option<ServiceLoad>,
    /// Each pod's memory use (`memoryUsage:`), if modelled.
    pub memory: Option<MemoryUsage>,
    /// Usage set directly (`usage:`), overriding what the load and `memoryUsage` give.
    pub usage: UsageOverride,
    /// Its HorizontalPodAutoscaler (`horizontalPodAutoscaler:`), if any.
    pub hpa: Option<HpaSpec>,
    /// Its scripted rollouts (`rollouts:` or `rollout:`), by time.
    pub rollouts: Vec<super::rollout::Rollout>,
    /// Its KEDA ScaledObject (`scaledObject:`), if any; only with a queue.
    pub keda: Option<crate::scenario::keda::ScaledObjectSpec>,
}

/// The requests a Service receives and what serving one costs.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceLoad {
    /// Requests per second over time, spread evenly over the ready pods.
    pub load: LoadProfile,
    /// CPU a pod uses per request per second, in millicores (`cpuPerRequest:`).
    pub cpu_per_request_milli: f64,
    /// CPU a ready pod uses with no load, in millicores (`idleCpu:`, default 0).
    pub idle_cpu_milli: f64,
    /// Requests per second one pod can serve (`maxRequestsPerPod:`); above it requests
    /// are dropped. Default: what its CPU limit pays for beyond the idle use; unbounded
    /// without a CPU limit or when requests cost nothing.
    pub max_rps_per_pod: Option<f64>,
    /// A work queue in front of the pods (`queue:`): requests wait in it, FIFO, instead
    /// of being dropped when no pod is free.
    pub queue: Option<crate::scenario::keda::WorkQueueSpec>,
}

impl ServiceLoad {
    /// Requests per second one pod of `template` can serve: `maxRequestsPerPod`, or what
    /// its CPU limit pays for beyond the idle use; unbounded for a pod without a CPU
    /// limit (it may use its node's spare CPU) or when requests cost no CPU.
    pub fn capacity_per_pod(&self, template: &schedulers::PodTemplate) -> f64 {
        if let Some(max) = self.max_rps_per_pod {
            return max;
        }
        match cpu_limit(template) {
            Some(limit) if self.cpu_per_request_milli > 0.0 => {
                ((limit as f64 - self.idle_cpu_milli) / self.cpu_per_request_milli).max(0.0)
            }
            _ => f64::INFINITY,
        }
    }
}

/// A pod's CPU limit in millicores: the sum of its containers', if every one sets one.
pub fn cpu_limit(template: &schedulers::PodTemplate) -> Option<i64> {
    let cpu = schedulers::ResourceKind::CPU;
    let containers = &template.containers;
    (!containers.is_empty() && containers.iter().all(|c| c.has_limit(cpu)))
        .then(|| containers.iter().map(|c| c.limits.get(cpu)).sum())
}

/// A load over time, in requests per second.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadProfile {
    /// Always this many.
    Constant(f64),
    /// A step function: from each time on, that many (0 before the first step).
    Steps(Vec<(SimTime, f64)>),
    /// `base`, except `peak` during [`at`, `at` + `duration`).
    Spike {
        /// The load outside the spike.
        base: f64,
        /// The load during the spike.
        peak: f64,
        /// When the spike starts.
        at: SimTime,
        /// How long it lasts.
        duration: SimTime,
    },
    /// A sine around `mean` with this `amplitude` and `period`, at its highest at
    /// `peak_at` (and every period after), never below zero.
    Diurnal {
        /// The average.
        mean: f64,
        /// Half the distance from trough to peak.
        amplitude: f64,
        /// One cycle.
        period: SimTime,
        /// A time of the peak.
        peak_at: SimTime,
    },
    /// Points (time, rate) read from a CSV file, joined by straight lines; flat before the
    /// first and after the last.
    Series(Vec<(SimTime, f64)>),
}

impl LoadProfile {
    /// The rate at `t`.
    pub fn at(&self, t: SimTime) -> f64 {
        match self {
            LoadProfile::Constant(r) => *r,
            LoadProfile::Steps(steps) => {
                let i = steps.partition_point(|&(at, _)| at <= t);
                if i == 0 { 0.0 } else { steps[i - 1].1 }
            }
            LoadProfile::Spike {
                base,
                peak,
                at,
                duration,
            } => {
                if t >= *at && t < at.saturating_add(*duration) {
                    *peak
                } else {
                    *base
                }
            }
            LoadProfile::Diurnal {
                mean,
                amplitude,
                period,
                peak_at,
            } => {
                let p = period.as_micros().max(1) as f64;
                let phase = (t.as_micros() as f64 - peak_at.as_micros() as f64) / p;
                (mean + amplitude * (std::f64::consts::TAU * phase).cos()).max(0.0)
            }
            LoadProfile::Series(points) => {
                let i = points.partition_point(|&(at, _)| at <= t);
                match (i.checked_sub(1).map(|j| points[j]), points.get(i)) {
                    (Some((_, r)), None) => r,
                    (None, Some(&(_, r))) => r,
                    (None, None) => 0.0,
                    (Some((t0, r0)), Some(&(t1, r1))) => {
                        let span = (t1.as_micros() - t0.as_micros()) as f64;
                        let x = (t.as_micros() - t0.as_micros()) as f64 / span;
                        r0 + (r1 - r0) * x
                    }
                }
            }
        }
    }

    /// The first time after `t` at which a piecewise-constant profile jumps (where the
    /// served-request integral must start a new segment to stay exact).
    pub fn next_jump(&self, t: SimTime) -> Option<SimTime> {
        match self {
            LoadProfile::Steps(steps) => steps.iter().map(|&(at, _)| at).find(|&at| at > t),
            LoadProfile::Spike { at, duration, .. } => [*at, at.saturating_add(*duration)]
                .into_iter()
                .find(|&x| x > t),
            LoadProfile::Series(points) => points.iter().map(|&(at, _)| at).find(|&at| at > t),
            LoadProfile::Constant(_) | LoadProfile::Diurnal { .. } => None,
        }
    }
}

/// A pod's memory use: a base drawn per pod, growing by a leak while it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryUsage {
    /// Bytes a pod uses from its start (`base:`, a quantity or a distribution).
    pub base: Dist<i64>,
    /// Bytes added per hour of running (`leakPerHour:`, default 0).
    pub leak_per_hour: i64,
}

/// Usage set directly: a step function of time for every running pod, and per pod where
/// `pods:` names it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageOverride {
    /// CPU in millicores: (from, value) steps.
    pub cpu: Option<Vec<(SimTime, i64)>>,
    /// Memory in bytes: (from, value) steps.
    pub memory: Option<Vec<(SimTime, i64)>>,
    /// Per-pod series, sorted by the pod's ordinal (its name's `-N`), one entry per pod.
    pub pods: Vec<PodUsageOverride>,
}

/// Usage set directly for one pod of a Deployment, overriding the Deployment-wide one.
#[derive(Debug, Clone, PartialEq)]
pub struct PodUsageOverride {
    /// The pod's ordinal: `web-3` is ordinal 3 of Deployment `web`.
    pub ordinal: u32,
    /// CPU in millicores: (from, value) steps.
    pub cpu: Option<Vec<(SimTime, i64)>>,
    /// Memory in bytes: (from, value) steps.
    pub memory: Option<Vec<(SimTime, i64)>>,
}

impl UsageOverride {
    fn pod(&self, ordinal: u32) -> Option<&PodUsageOverride> {
        // Binary search over a usually empty list: no cost for Deployments without `pods:`.
        self.pods
            .binary_search_by_key(&ordinal, |p| p.ordinal)
            .ok()
            .map(|i| &self.pods[i])
    }

    /// The CPU steps that fix pod `ordinal`'s usage, if any: its own, else the Deployment's.
    pub fn cpu_of(&self, ordinal: u32) -> Option<&[(SimTime, i64)]> {
        self.pod(ordinal)
            .and_then(|p| p.cpu.as_deref())
            .or(self.cpu.as_deref())
    }

    /// The memory steps that fix pod `ordinal`'s usage, if any: its own, else the Deployment's.
    pub fn memory_of(&self, ordinal: u32) -> Option<&[(SimTime, i64)]> {
        self.pod(ordinal)
            .and_then(|p| p.memory.as_deref())
            .or(self.memory.as_deref())
    }
}

/// The value of a step function at `t` (0 before its first step).
pub fn step_value(steps: &[(SimTime, i64)], t: SimTime) -> i64 {
    let i = steps.partition_point(|&(at, _)| at <= t);
    if i == 0 { 0 } else { steps[i - 1].1 }
}

/// A HorizontalPodAutoscaler (autoscaling/v2) targeting its Deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct HpaSpec {
    /// `minReplicas` (default 1).
    pub min: i32,
    /// `maxReplicas`.
    pub max: i32,
    /// `metrics`: the largest recommendation wins.
    pub metrics: Vec<HpaMetric>,
    /// `behavior`, defaults filled in.
    pub behavior: Behavior,
    /// `--horizontal-pod-autoscaler-sync-period` (`syncPeriod:`, default 15 s).
    pub sync_period: SimTime,
    /// The calculator's tolerance and readiness settings.
    pub settings: CalcSettings,
}

/// One metric of an autoscaler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpaMetric {
    /// `resource: {name: cpu, target: ...}`.
    Cpu(Target),
    /// `resource: {name: memory, target: ...}`.
    Memory(Target),
    /// `pods: {metric: {name: requests_per_second}, target: {averageValue: ...}}`: the
    /// requests each pod serves, in milli-requests per second.
    RequestsPerSecond(i64),
}

/// A pod's memory limit in bytes: the sum of its containers', if every one sets one
/// (what the pod's cgroup is capped at).
pub fn memory_limit(template: &schedulers::PodTemplate) -> Option<i64> {
    let memory = schedulers::ResourceKind::MEMORY;
    let containers = &template.containers;
    (!containers.is_empty() && containers.iter().all(|c| c.has_limit(memory)))
        .then(|| containers.iter().map(|c| c.limits.get(memory)).sum())
}
