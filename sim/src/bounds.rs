//! Bounds on the work of a run: an estimate made from the scenario alone, before anything
//! runs, the limits a host refuses runs above, and a way to play a run that stops it as
//! soon as it goes past a limit anyway.
//!
//! The estimate is arithmetic on the scenario (pods each workload creates by its horizon,
//! sampling ticks, work queue steps, a few events per pod, bytes per pod and per node
//! measured on the bundled scenarios); it reads no clock and draws no random number. It is an estimate:
//! random arrivals and durations are taken at their mean, and pods retried many times
//! cost events it does not count. The runtime checks of [`run_bounded`] are exact and
//! deterministic (the same run stops at the same event), except the host's `interrupted`
//! callback, which is how a wall-clock timeout stops a run without `sim` reading the clock.

use std::fmt;

use crate::controllers::workloads::{CRASH_LOOP_BACKOFF, recorded_run_time};
use crate::observe::timeseries::Sample;
use crate::scenario::dynamics::Dynamics;
use crate::scenario::{ArrivalProcess, Dist, Scenario, TraceSource, TraceTiming, WorkloadKind};
use crate::simulation::{RunResult, SchedulerFailure, Simulation};
use crate::time::SimTime;

/// Engine events per pod, on average: its creation, its share of scheduling cycles, its
/// start and its finish (measured: 3 to 5 on the bundled scenarios).
const EVENTS_PER_POD: u64 = 5;

/// Bytes one pod costs over a run: its record in the cluster, its queue entries and what
/// the observers keep of it. Measured: 1,000,000 pods that all stay bound on 10,000 nodes
/// peak at 483 MB resident (about 470 bytes a pod); 100,000 pods that finish, at 19 MB.
const BYTES_PER_POD: u64 = 512;

/// Bytes one node costs: its spec, its row, its name and per-node observer state.
const BYTES_PER_NODE: u64 = 2048;

/// Bytes a run costs before any pod or node: the engine, the observers, the scheduler.
const BYTES_PER_RUN: u64 = 4 << 20;

/// What one run of a scenario is expected to do, from the scenario alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkEstimate {
    /// Pods created over the run (`u64::MAX`: without end).
    pub pods: u64,
    /// Engine events processed.
    pub events: u64,
    /// Rows of the time series (sampling ticks).
    pub samples: u64,
    /// Bytes of memory the run holds at its peak, roughly.
    pub memory_bytes: u64,
    /// When the run ends: the horizon, or the last expected change.
    pub end: SimTime,
    /// The workload creating the most pods, by index into [`Scenario::workloads`].
    pub largest_workload: Option<usize>,
}

/// Estimates the work of one run of `scenario` (any scheduler, any seed: the estimate
/// takes random draws at their mean).
pub fn estimate(scenario: &Scenario) -> WorkEstimate {
    let horizon = scenario.duration;
    let gpu_capacity: u64 = scenario
        .nodes
        .iter()
        .map(|n| u64::from(n.gpu.count) * 1000)
        .sum();
    let mut pods = 0u64;
    let mut largest: Option<(usize, u64)> = None;
    let mut last_change = SimTime::ZERO;
    for (i, w) in scenario.workloads.iter().enumerate() {
        let ceiling = autoscaled_ceiling(w.dynamics.as_deref());
        let (n, last_creation, run_for) = workload_pods(
            &w.kind,
            w.duration.as_ref(),
            ceiling,
            scenario,
            gpu_capacity,
        );
        pods = pods.saturating_add(n);
        if largest.is_none_or(|(_, most)| n > most) {
            largest = Some((i, n));
        }
        let change = last_creation
            .saturating_add(scenario.start_latency)
            .saturating_add(run_for);
        last_change = last_change.max(change);
    }
    let end = horizon.unwrap_or(last_change);
    let interval = scenario.sample_interval.as_micros().max(1);
    let samples = (end.as_micros() / interval).saturating_add(1);
    // Machines a trace adds later count as nodes too; each change is one event.
    let nodes = (scenario.nodes.len() + scenario.node_changes.len()) as u64;
    // A work queue steps on its own clock until the end.
    let queue_steps = scenario
        .workloads
        .iter()
        .filter_map(|w| w.dynamics.as_ref()?.service.as_ref()?.queue.as_ref())
        .map(|q| end.as_micros() / q.step.as_micros().max(1))
        .fold(0, u64::saturating_add);
    let events = pods
        .saturating_mul(EVENTS_PER_POD)
        .saturating_add(samples)
        .saturating_add(nodes)
        .saturating_add(queue_steps);
    let memory_bytes = BYTES_PER_RUN
        .saturating_add(nodes.saturating_mul(BYTES_PER_NODE))
        .saturating_add(pods.saturating_mul(BYTES_PER_POD))
        .saturating_add(samples.saturating_mul(std::mem::size_of::<Sample>() as u64));
    WorkEstimate {
        pods,
        events,
        samples,
        memory_bytes,
        end,
        largest_workload: largest.filter(|&(_, n)| n > 0).map(|(i, _)| i),
    }
}

/// The most replicas a workload's HorizontalPodAutoscaler or ScaledObject may ask for (0
/// without one): the estimate takes a scaled workload at its ceiling, since a scale-up can
/// create that many pods at once.
fn autoscaled_ceiling(dynamics: Option<&Dynamics>) -> u32 {
    let Some(d) = dynamics else { return 0 };
    let hpa = d.hpa.as_ref().map_or(0, |h| h.max);
    let keda = d.keda.as_ref().map_or(0, |k| k.max);
    u32::try_from(hpa.max(keda)).unwrap_or(0)
}

/// Pods a workload creates, when it creates its last one, and how long its pods run
/// (zero for pods that run until the end, which do not extend a run without a horizon).
/// A Deployment or StatefulSet is counted at `ceiling` replicas when that is more.
fn workload_pods(
    kind: &WorkloadKind,
    duration: Option<&Dist<SimTime>>,
    ceiling: u32,
    scenario: &Scenario,
    gpu_capacity: u64,
) -> (u64, SimTime, SimTime) {
    let horizon = scenario.duration;
    let run_for = duration.map_or(SimTime::ZERO, high);
    let within = |at: SimTime| horizon.is_none_or(|h| at <= h);
    match kind {
        WorkloadKind::Pods { at, count } => {
            let n = if within(*at) { u64::from(*count) } else { 0 };
            (n, *at, run_for)
        }
        WorkloadKind::Deployment { at, replicas }
        | WorkloadKind::StatefulSet { at, replicas, .. } => {
            replicated(u64::from((*replicas).max(ceiling)), *at, duration, scenario)
        }
        // One pod per node: at most every node the cluster ever has.
        WorkloadKind::DaemonSet { at } => {
            let nodes = (scenario.nodes.len() + scenario.node_changes.len()) as u64;
            let grown: u64 = scenario
                .autoscaler
                .as_ref()
                .map_or(0, |a| a.groups.iter().map(|g| u64::from(g.max)).sum());
            replicated(nodes.saturating_add(grown), *at, duration, scenario)
        }
        WorkloadKind::Batch { arrivals } => {
            let end = match (arrivals.stop, horizon) {
                (Some(s), Some(h)) => Some(s.min(h)),
                (s, h) => s.or(h),
            };
            let window = end.map(|e| e.saturating_sub(arrivals.start));
            let count = arrivals.count;
            let (n, last) = match arrivals.process {
                ArrivalProcess::Burst => (count.unwrap_or(1), arrivals.start),
                ArrivalProcess::Poisson { rate_per_second } => {
                    let rate = rate_per_second.max(0.0);
                    let by_window = window.map(|w| to_u64((rate * w.as_secs_f64()).ceil()));
                    let n = min_known(by_window, count);
                    let span = window.unwrap_or_else(|| {
                        SimTime::from_secs_f64(n as f64 / rate.max(f64::MIN_POSITIVE))
                    });
                    (n, arrivals.start.saturating_add(span))
                }
                ArrivalProcess::Fixed { interval } => {
                    let step = interval.as_micros().max(1);
                    let by_window = window.map(|w| w.as_micros() / step + 1);
                    let n = min_known(by_window, count);
                    let last = SimTime::from_micros(n.saturating_sub(1).saturating_mul(step));
                    (n, arrivals.start.saturating_add(last))
                }
            };
            (n, last, run_for)
        }
        WorkloadKind::Trace(replay) => match (&replay.source, replay.timing) {
            // What the load-time scan summed up.
            (TraceSource::Streamed(s), _) => (
                s.pods,
                SimTime::from_micros(s.last_micros - s.first_micros),
                s.longest,
            ),
            (TraceSource::InMemory(pods), TraceTiming::Recorded) => {
                let created: Vec<u64> = pods.iter().filter_map(|p| p.created_micros).collect();
                let first = created.iter().copied().min().unwrap_or(0);
                let last = created.iter().copied().max().unwrap_or(0);
                let longest = pods
                    .iter()
                    .map(recorded_run_time)
                    .filter(|&t| t < SimTime::MAX)
                    .max()
                    .unwrap_or(SimTime::ZERO);
                (
                    created.len() as u64,
                    SimTime::from_micros(last - first),
                    longest,
                )
            }
            (
                TraceSource::InMemory(pods),
                TraceTiming::Shuffled {
                    demand_permille,
                    interval,
                },
            ) => {
                let trace_pods = pods.len() as u64;
                let asked: u64 = pods.iter().map(|p| p.gpu.total_milli()).sum();
                let n = if asked == 0 || trace_pods == 0 {
                    trace_pods
                } else {
                    // Pods drawn at the trace's mean ask until the demand is reached.
                    let target = u128::from(gpu_capacity) * u128::from(demand_permille) / 1000;
                    let per_pod = asked as f64 / trace_pods as f64;
                    to_u64((target as f64 / per_pod).ceil()).max(1)
                };
                let last =
                    SimTime::from_micros(n.saturating_sub(1).saturating_mul(interval.as_micros()));
                (n, last, SimTime::ZERO)
            }
        },
        WorkloadKind::Job { at, spec } => {
            if !within(*at) {
                return (0, *at, SimTime::ZERO);
            }
            // Every completion and every failure the limit allows, each pod the last
            // before the next after the longest back-off.
            let n = u64::from(spec.completions) + u64::from(spec.backoff_limit) + 1;
            let pod_cycle = scenario
                .start_latency
                .saturating_add(run_for)
                .saturating_add(crate::controllers::jobs::MAX_POD_FAILURE_BACKOFF);
            let mut last = at.saturating_add(SimTime::from_micros(
                pod_cycle.as_micros().saturating_mul(n),
            ));
            if let Some(d) = spec.active_deadline {
                last = last.min(at.saturating_add(d));
            }
            (n, last, run_for)
        }
    }
}

/// The smaller of two bounds, either of which may be unknown (`u64::MAX` if both are).
fn min_known(a: Option<u64>, b: Option<u64>) -> u64 {
    match (a, b) {
        (Some(a), Some(b)) => a.min(b),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => u64::MAX,
    }
}

/// A non-negative float as a count, saturating (NaN gives 0).
fn to_u64(x: f64) -> u64 {
    x.max(0.0) as u64
}
/// Pods of a workload that keeps `replicas` pods from `at` on and replaces each one that
/// finishes (a ReplicaSet, a StatefulSet, a DaemonSet), as [`workload_pods`] counts them.
fn replicated(
    replicas: u64,
    at: SimTime,
    duration: Option<&Dist<SimTime>>,
    scenario: &Scenario,
) -> (u64, SimTime, SimTime) {
    let horizon = scenario.duration;
    if horizon.is_some_and(|h| at > h) {
        return (0, at, SimTime::ZERO);
    }
    match (duration, horizon) {
        (None, _) => (replicas, at, SimTime::ZERO),
        // A ReplicaSet replaces each pod as it finishes: one generation per
        // lifetime until the horizon.
        (Some(d), Some(h)) => {
            let mut cycle = scenario.start_latency.saturating_add(mean(d));
            if mean(d) == SimTime::ZERO {
                cycle = cycle.saturating_add(CRASH_LOOP_BACKOFF);
            }
            let generations = h.saturating_sub(at).as_micros() / cycle.as_micros().max(1);
            (
                replicas.saturating_mul(generations.saturating_add(1)),
                h,
                SimTime::ZERO,
            )
        }
        // Replaced for ever (the loader refuses this; a scenario built in code
        // may still have it).
        (Some(_), None) => (u64::MAX, SimTime::MAX, SimTime::ZERO),
    }
}

/// The mean of a distribution of durations.
fn mean(d: &Dist<SimTime>) -> SimTime {
    match d {
        Dist::Constant(v) => *v,
        Dist::Uniform { min, max } => {
            SimTime::from_micros(min.as_micros() / 2 + max.as_micros() / 2)
        }
        Dist::Exponential { mean } => *mean,
        Dist::LogNormal { median, sigma } => {
            SimTime::from_secs_f64(median.as_secs_f64() * (sigma * sigma / 2.0).exp())
        }
        Dist::Choice(values) => {
            let sum: u128 = values.iter().map(|v| u128::from(v.as_micros())).sum();
            let n = values.len().max(1) as u128;
            SimTime::from_micros(u64::try_from(sum / n).unwrap_or(u64::MAX))
        }
    }
}

/// A duration few draws exceed: the maximum where there is one, else far in the tail
/// (ten means for an exponential, four sigmas for a log-normal).
fn high(d: &Dist<SimTime>) -> SimTime {
    match d {
        Dist::Constant(v) => *v,
        Dist::Uniform { max, .. } => *max,
        Dist::Exponential { mean } => SimTime::from_secs_f64(mean.as_secs_f64() * 10.0),
        Dist::LogNormal { median, sigma } => {
            SimTime::from_secs_f64(median.as_secs_f64() * (4.0 * sigma).exp())
        }
        Dist::Choice(values) => values.iter().copied().max().unwrap_or(SimTime::ZERO),
    }
}

/// What a limit bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Pods created over a run.
    Pods,
    /// Engine events processed.
    Events,
    /// Rows of the time series.
    Samples,
    /// Bytes of memory.
    Memory,
}

impl Bound {
    /// The unit a count of this bound is in, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Bound::Pods => "pods",
            Bound::Events => "events",
            Bound::Samples => "time-series samples",
            Bound::Memory => "bytes of memory",
        }
    }
}

/// The most work a host lets one run do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Pods created over the run.
    pub max_pods: u64,
    /// Engine events processed.
    pub max_events: u64,
    /// Rows of the time series.
    pub max_samples: u64,
    /// Bytes of memory, as [`WorkEstimate::memory_bytes`] estimates them.
    pub max_memory: u64,
}

impl Limits {
    /// Default `max_pods`: ten times the design's target of 1,000,000 pods per run.
    pub const DEFAULT_MAX_PODS: u64 = 10_000_000;
    /// Default `max_events`: about half an hour of a run at the engine's speed.
    pub const DEFAULT_MAX_EVENTS: u64 = 10_000_000_000;
    /// Default `max_samples`: a day sampled every tenth of a second, 100 MB of time series.
    pub const DEFAULT_MAX_SAMPLES: u64 = 1_000_000;

    /// The defaults, with `max_memory` bytes of memory per run.
    pub fn with_memory(max_memory: u64) -> Limits {
        Limits {
            max_pods: Self::DEFAULT_MAX_PODS,
            max_events: Self::DEFAULT_MAX_EVENTS,
            max_samples: Self::DEFAULT_MAX_SAMPLES,
            max_memory,
        }
    }

    /// The first limit `estimate` goes past, if any, in the order pods, samples, events,
    /// memory (the likeliest cause first).
    pub fn check(&self, estimate: &WorkEstimate) -> Result<(), Exceeded> {
        let checks = [
            (Bound::Pods, estimate.pods, self.max_pods),
            (Bound::Samples, estimate.samples, self.max_samples),
            (Bound::Events, estimate.events, self.max_events),
            (Bound::Memory, estimate.memory_bytes, self.max_memory),
        ];
        for (bound, value, limit) in checks {
            if value > limit {
                return Err(Exceeded {
                    bound,
                    value,
                    limit,
                });
            }
        }
        Ok(())
    }
}

/// A limit that an estimate (or a run) goes past.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    /// Which limit.
    pub bound: Bound,
    /// The estimate, or the count reached.
    pub value: u64,
    /// The limit.
    pub limit: u64,
}

/// Limits checked while a run plays, after every event; all of them optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunLimits {
    /// The run fails once simulated time passes this.
    pub max_sim_time: Option<SimTime>,
    /// The run fails once it has processed more events than this.
    pub max_events: Option<u64>,
    /// The run fails once it has created more pods than this.
    pub max_pods: Option<u64>,
}

/// Why [`run_bounded`] stopped a run before its end.
#[derive(Debug, Clone, PartialEq)]
pub enum RunStop {
    /// The scheduler failed ([`schedulers::Scheduler::failure`]).
    Scheduler(SchedulerFailure),
    /// Simulated time went past [`RunLimits::max_sim_time`].
    SimTime {
        /// The time of the event that went past it.
        at: SimTime,
        /// The limit.
        limit: SimTime,
    },
    /// A count went past [`RunLimits::max_events`] or [`RunLimits::max_pods`].
    Limit {
        /// Which count, and the limit.
        exceeded: Exceeded,
        /// Simulated time then.
        at: SimTime,
    },
    /// The host's `interrupted` callback said stop (a wall-clock timeout, a signal).
    Interrupted {
        /// Simulated time then.
        at: SimTime,
        /// Events processed by then.
        events: u64,
    },
}

impl fmt::Display for RunStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunStop::Scheduler(failure) => write!(f, "{failure}"),
            RunStop::SimTime { at, limit } => {
                write!(f, "simulated time reached {at}, past the limit of {limit}")
            }
            RunStop::Limit { exceeded, at } => write!(
                f,
                "the run went past {} {} at simulated time {at}",
                exceeded.limit,
                exceeded.bound.noun()
            ),
            RunStop::Interrupted { at, events } => write!(
                f,
                "interrupted at simulated time {at}, after {events} events"
            ),
        }
    }
}

impl std::error::Error for RunStop {}

/// How many events pass between two calls of the `interrupted` callback: often enough to
/// stop within milliseconds, rarely enough that reading a clock costs nothing.
pub const INTERRUPT_CHECK_EVERY: u64 = 4096;

/// Plays `simulation` to its end like [`Simulation::try_run`], but stops it as soon as it
/// goes past `limits`, or when `interrupted` (called every [`INTERRUPT_CHECK_EVERY`]
/// events) returns true. Checking changes nothing in the run: one that is not stopped
/// returns exactly what `try_run` would.
pub fn run_bounded(
    mut simulation: Simulation<'_>,
    limits: &RunLimits,
    mut interrupted: impl FnMut() -> bool,
) -> Result<RunResult, RunStop> {
    let mut next_check = INTERRUPT_CHECK_EVERY;
    while simulation.step() {
        let at = simulation.now();
        if let Some(limit) = limits.max_sim_time
            && at > limit
        {
            return Err(RunStop::SimTime { at, limit });
        }
        let events = simulation.events_processed();
        let counts = [
            (Bound::Events, events, limits.max_events),
            (Bound::Pods, simulation.submitted_pods(), limits.max_pods),
        ];
        for (bound, value, limit) in counts {
            if let Some(limit) = limit
                && value > limit
            {
                return Err(RunStop::Limit {
                    exceeded: Exceeded {
                        bound,
                        value,
                        limit,
                    },
                    at,
                });
            }
        }
        if events >= next_check {
            next_check = events.saturating_add(INTERRUPT_CHECK_EVERY);
            if interrupted() {
                return Err(RunStop::Interrupted { at, events });
            }
        }
    }
    match simulation.failure() {
        Some(failure) => Err(RunStop::Scheduler(failure.clone())),
        None => Ok(simulation.finish()),
    }
}
