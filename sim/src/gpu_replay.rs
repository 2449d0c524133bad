//! A GPU trace replayed under the protocol of Weng et al., "Beware of Fragmentation:
//! Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent" (USENIX ATC
//! 2023), Section 6: the trace's nodes (those with GPUs); its pods in an order shuffled by
//! the seed, followed by pods drawn with replacement from the trace, arriving one at a time
//! until the GPU they ask for reaches `demand` times the cluster's GPUs; nothing departs,
//! and a pod no node can take fails at once (it is not retried).
//!
//! This is not the event simulation: there is no time, no queue and no retry, only the
//! sequence of arrivals, each offered to the scheduler alone. What it measures is how much
//! of the cluster's GPU the scheduler manages to allocate as demand arrives: one
//! [`GpuFillPoint`] every `fillStep` of arrived demand. Its [`RunSummary`] counts
//! arrivals as submitted pods and failures as failed pods; having no time, it reports the
//! CPU and memory allocation at the end as both mean and peak, and zero latencies.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::RngExt;
use schedulers::cluster::GpuTask;
use schedulers::{
    ClusterState, ContainerResources, Cycle, Decision, Pod, PodTemplate, ResourceKind, Resources,
    Scheduler,
};

use crate::metrics::RunSummary;
use crate::rng::{Concern, stream};
use crate::scenario::Scenario;
use crate::scenario::gpu_trace::GpuTrace;
use crate::simulation::{RunResult, SchedulerFailure};
use crate::time::SimTime;

/// The cluster's GPU allocation once arrived demand first reached a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuFillPoint {
    /// The step: arrived GPU demand, in thousandths of the cluster's GPUs.
    pub step_permille: u32,
    /// GPU asked by the pods arrived so far, in milli-GPU (at least the step's amount).
    pub arrived_milli: u64,
    /// GPU allocated to pods then, in milli-GPU.
    pub allocated_milli: u64,
    /// The cluster's GPU, in milli-GPU.
    pub capacity_milli: u64,
    /// Pods arrived so far.
    pub pods_arrived: u64,
    /// Pods that failed (no node could take them) so far.
    pub pods_failed: u64,
}

/// The order of arrivals for `seed`: indices into `trace.pods`, the whole trace shuffled
/// and then indices drawn with replacement, until the GPU they ask reaches the target.
/// Both draws come from the seed's arrival stream.
pub fn arrival_order(trace: &GpuTrace, capacity_milli: u64, seed: u64) -> Vec<u32> {
    let target = u128::from(capacity_milli) * u128::from(trace.demand_permille) / 1000;
    let n = trace.pods.len();
    let mut rng = stream(seed, Concern::Arrivals, 0);
    // Fisher-Yates with the generator's own bounded draws, so the order depends on
    // nothing but the stream.
    let mut shuffled: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = rng.random_range(0..=i);
        shuffled.swap(i, j);
    }
    let mut order = Vec::with_capacity(n + n / 2);
    let mut demand = 0u128;
    let mut next = shuffled.into_iter();
    while demand < target {
        let i = match next.next() {
            Some(i) => i,
            None => rng.random_range(0..n as u32),
        };
        demand += u128::from(trace.pods[i as usize].gpu.total_milli());
        order.push(i);
    }
    order
}

/// The GPU tasks of the trace with their counts: the workload fragmentation-aware
/// schedulers measure against, as the paper hands the whole trace's distribution to FGD.
pub fn target_workload(trace: &GpuTrace) -> Vec<(GpuTask, u64)> {
    let mut counts: BTreeMap<GpuTask, u64> = BTreeMap::new();
    for p in &trace.pods {
        *counts
            .entry(GpuTask {
                cpu_milli: p.cpu_milli,
                gpu: p.gpu.clone(),
            })
            .or_default() += 1;
    }
    counts.into_iter().collect()
}

/// Replays `trace` with `scheduler` and `seed`; an error if the scheduler failed (see
/// [`Scheduler::failure`]), which stops the replay at that arrival.
pub fn run_gpu_trace(
    scenario: &Scenario,
    trace: &GpuTrace,
    scheduler: Box<dyn Scheduler>,
    seed: u64,
) -> Result<RunResult, SchedulerFailure> {
    replay_observed(scenario, trace, scheduler, seed, &mut |_| {})
}

/// [`run_gpu_trace`], calling `observe` with the cluster after every arrival has been
/// placed (or has failed and left), for tests that check the cluster along the way.
pub fn replay_observed(
    scenario: &Scenario,
    trace: &GpuTrace,
    scheduler: Box<dyn Scheduler>,
    seed: u64,
    observe: &mut dyn FnMut(&ClusterState),
) -> Result<RunResult, SchedulerFailure> {
    match replay_partial(scenario, trace, scheduler, seed, observe) {
        (_, Some(failure)) => Err(failure),
        (result, None) => Ok(result),
    }
}

/// The replay, with what it did before the scheduler failed, if it did.
pub fn replay_partial(
    scenario: &Scenario,
    trace: &GpuTrace,
    mut scheduler: Box<dyn Scheduler>,
    seed: u64,
    observe: &mut dyn FnMut(&ClusterState),
) -> (RunResult, Option<SchedulerFailure>) {
    let mut cluster = ClusterState::new(scenario.resource_names.clone());
    for node in &trace.nodes {
        cluster.add_node(node.clone());
    }
    cluster.set_target_workload(target_workload(trace));
    let capacity = cluster.gpu_totals().1;
    let order = arrival_order(trace, capacity, seed);
    // One template per trace pod, shared by the pods drawn again from it.
    let templates: Vec<(Arc<PodTemplate>, Resources)> = trace
        .pods
        .iter()
        .map(|p| {
            let mut requests = Resources::cpu_mem(p.cpu_milli, p.memory_bytes);
            let template = PodTemplate {
                name: p.name.clone(),
                namespace: "default".into(),
                containers: vec![ContainerResources {
                    name: "main".into(),
                    requests,
                    requests_set: 0b11,
                    ..Default::default()
                }],
                gpu: p.gpu.clone(),
                ..Default::default()
            };
            requests.set(ResourceKind::PODS, 1);
            (Arc::new(template), requests)
        })
        .collect();
    let mut drawn = vec![0u32; trace.pods.len()];
    let mut rng = stream(seed, Concern::TieBreak, 0);
    let mut decisions = Vec::new();
    let mut failure = None;
    let mut fill = Vec::new();
    let (mut arrived, mut failed, mut bound, mut refused) = (0u64, 0u64, 0u64, 0u64);
    let mut arrived_milli = 0u64;
    let step_milli = |k: u64| -> u64 {
        (u128::from(capacity) * u128::from(k) * u128::from(trace.step_permille) / 1000) as u64
    };
    let steps = u64::from(trace.demand_permille / trace.step_permille);
    let mut next_step = 0u64;
    let mut record = |cluster: &ClusterState, arrived_milli, arrived, failed| {
        while next_step <= steps && arrived_milli >= step_milli(next_step) {
            fill.push(GpuFillPoint {
                step_permille: (next_step * u64::from(trace.step_permille)) as u32,
                arrived_milli,
                allocated_milli: cluster.gpu_totals().0,
                capacity_milli: capacity,
                pods_arrived: arrived,
                pods_failed: failed,
            });
            next_step += 1;
        }
    };
    record(&cluster, 0, 0, 0);
    for &i in &order {
        let i = i as usize;
        let (template, requests) = &templates[i];
        let pod = Pod::with_requests(
            template.clone(),
            drawn[i],
            *requests,
            requests.cpu(),
            requests.memory(),
        );
        drawn[i] += 1;
        let id = cluster.add_pod(pod);
        scheduler.schedule(&mut Cycle::new(
            &mut cluster,
            &[id],
            &mut rng,
            &mut decisions,
        ));
        if let Some(message) = scheduler.failure() {
            // The replay has no clock: the failure is dated at zero.
            failure = Some(SchedulerFailure {
                time: SimTime::ZERO,
                message: format!("at arrival {}: {message}", arrived + 1),
            });
            break;
        }
        arrived += 1;
        arrived_milli += trace.pods[i].gpu.total_milli();
        let placed = decisions
            .iter()
            .any(|d| matches!(d, Decision::Bound { pod, .. } if *pod == id));
        if placed {
            bound += 1;
        } else {
            if decisions.iter().any(|d| {
                matches!(d, Decision::Unschedulable { pod, diagnosis }
                    if *pod == id && diagnosis.refused_bind())
            }) {
                refused += 1;
            }
            cluster.remove_pod(id);
            failed += 1;
        }
        record(&cluster, arrived_milli, arrived, failed);
        observe(&cluster);
    }
    let ratio = |kind: ResourceKind| {
        let (mut requested, mut allocatable) = (0i128, 0i128);
        for n in cluster.nodes() {
            requested += i128::from(n.requested.get(kind));
            allocatable += i128::from(n.spec.allocatable.get(kind));
        }
        if allocatable == 0 {
            0.0
        } else {
            requested as f64 / allocatable as f64
        }
    };
    let (cpu, mem) = (ratio(ResourceKind::CPU), ratio(ResourceKind::MEMORY));
    let result = RunResult {
        scenario: scenario.name.clone(),
        scheduler: scheduler.name().to_string(),
        seed,
        summary: RunSummary {
            pods_submitted: arrived,
            pods_scheduled: bound,
            pods_completed: 0,
            pods_failed: failed,
            pods_pending_at_end: 0,
            pods_running_at_end: bound,
            latency_p50: SimTime::ZERO,
            latency_p95: SimTime::ZERO,
            latency_p99: SimTime::ZERO,
            latency_max: SimTime::ZERO,
            cpu_alloc_mean: cpu,
            mem_alloc_mean: mem,
            cpu_alloc_peak: cpu,
            mem_alloc_peak: mem,
            nodes_max: trace.nodes.len() as u64,
            scheduling_attempts: arrived,
            unschedulable_attempts: failed,
            refused_binds: refused,
            preemptions: 0,
            gang_timeouts: 0,
            events: arrived,
            end: SimTime::ZERO,
            // The replay has no clock and no pending queue: the figures that integrate
            // over time are taken from the end state, and fragmentation is the GPU chart's
            // business rather than this summary's.
            fragmentation: None,
            jain_index: if bound > 0 { 1.0 } else { 0.0 },
            makespan: None,
            completion_sum: SimTime::ZERO,
            pods_per_node_mean: pods_per_busy_node(&cluster),
            pods_per_node_max: cluster
                .nodes()
                .iter()
                .map(|n| n.pods.len() as u64)
                .max()
                .unwrap_or(0),
            namespaces: Vec::new(),
        },
        samples: Vec::new(),
        trace: Vec::new(),
        gpu_fill: fill,
    };
    (result, failure)
}

/// Bound pods per node, over the nodes that hold at least one.
fn pods_per_busy_node(cluster: &ClusterState) -> f64 {
    let (pods, busy) = cluster
        .nodes()
        .iter()
        .filter(|n| !n.pods.is_empty())
        .fold((0usize, 0usize), |(p, b), n| (p + n.pods.len(), b + 1));
    if busy == 0 {
        0.0
    } else {
        pods as f64 / busy as f64
    }
}
