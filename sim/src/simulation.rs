//! One run: a scenario, one scheduler and one seed, played out event by event.
//!
//! The simulation is the cluster's control plane in miniature: workload controllers create
//! pods, a scheduling queue with kube-scheduler's semantics hands them to the scheduler,
//! the "kubelet" starts and finishes them, and [`Metrics`] records what happened.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use rand::rngs::ChaCha8Rng;
use schedulers::filters::check_admission;
use schedulers::framework::Explanation;
use schedulers::volumes::VolumeBindingMode;
use schedulers::{
    ClusterState, Cycle, Decision, GangScheduler, NodeId, Pod, PodId, PodPhase, PodTemplate,
    ResourceKind, Scheduler,
};
use slotmap::SecondaryMap;

use crate::engine::EventQueue;
use crate::metrics::{Metrics, RunSummary, Sample};
use crate::rng::{Concern, stream};
use crate::sampling::{exponential_gap, sample_duration, sample_size};
use crate::scenario::{ArrivalProcess, Scenario, WorkloadKind};
use crate::time::SimTime;

/// kube-scheduler's initial pod backoff (`podInitialBackoffSeconds`).
pub const INITIAL_BACKOFF: SimTime = SimTime::from_secs(1);
/// kube-scheduler's maximum pod backoff (`podMaxBackoffSeconds`).
pub const MAX_BACKOFF: SimTime = SimTime::from_secs(10);
/// How long the ReplicaSet controller's replacement of a pod that ran for no time at all
/// is held back: the kubelet's initial crash-loop back-off. Without it, a Deployment of
/// zero-length pods would create, bind and finish pods forever at one instant.
pub const CRASH_LOOP_BACKOFF: SimTime = SimTime::from_secs(10);
/// How long a pod may sit unschedulable before it is retried without any cluster event
/// (kube-scheduler's `podMaxInUnschedulablePodsDuration`).
pub const MAX_UNSCHEDULABLE: SimTime = SimTime::from_secs(300);
/// How long a pod group's pending pods are held back after the group timed out
/// (`scheduleTimeoutSeconds`): kube-scheduler's maximum pod backoff, for the whole group.
pub const GANG_TIMEOUT_BACKOFF: SimTime = MAX_BACKOFF;

/// Everything that can happen. Small and `Copy`, so the queue never allocates per event.
#[derive(Debug, Clone, Copy)]
enum Event {
    /// A workload creates pods (a bare pod's time, a Deployment's creation, a batch arrival).
    Create { workload: u32 },
    /// A bound pod's containers are up.
    Started { pod: PodId },
    /// A running pod ends successfully.
    Finished { pod: PodId },
    /// Run a scheduling cycle over the active queue.
    Schedule,
    /// A pod's backoff ended; `generation` guards against stale timers.
    BackoffDone { pod: PodId, generation: u32 },
    /// A pod has been unschedulable for [`MAX_UNSCHEDULABLE`].
    Unstick { pod: PodId, generation: u32 },
    /// Record a time-series row.
    Sample,
    /// A Deployment replaces a pod after [`CRASH_LOOP_BACKOFF`].
    Replace { workload: u32 },
    /// An evicted pod's termination grace period is over: it leaves its node.
    Terminated { pod: PodId },
    /// A pod group's `scheduleTimeoutSeconds` since it began waiting are over;
    /// `generation` guards against stale timers.
    GangTimeout { group: u32, generation: u32 },
}

/// Which of kube-scheduler's three queues holds a pending pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queue {
    /// Waiting for the next scheduling cycle.
    Active,
    /// Failed recently; waiting for its backoff to end.
    Backoff,
    /// Failed; waiting for a cluster change (or [`MAX_UNSCHEDULABLE`]).
    Unschedulable,
    /// Not pending.
    None,
}

/// What the simulation knows of a pod beyond the scheduler's view.
///
/// One lives per pod alive, so it is kept small (48 bytes): times use [`SimTime::MAX`] for
/// "never" rather than `Option`, which would add 8 bytes each.
#[derive(Debug, Clone)]
struct PodRuntime {
    workload: u32,
    /// Bumped on every queue move, so timers from an earlier stay are recognised as stale.
    generation: u32,
    attempts: u32,
    queue: Queue,
    created: SimTime,
    /// How long it runs once started; [`SimTime::MAX`] runs until the end.
    run_for: SimTime,
    backoff_until: SimTime,
    /// When the pod last evicted victims, so it preempts at most once per instant;
    /// [`SimTime::MAX`] if it never did.
    preempted_at: SimTime,
}

/// An entry of the active queue: higher priority first, then earlier enqueue, then FIFO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ActiveEntry {
    priority: i32,
    enqueued: SimTime,
    seq: u64,
    pod: PodId,
    generation: u32,
}

impl Ord for ActiveEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then(other.enqueued.cmp(&self.enqueued))
            .then(other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for ActiveEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Per pod group: its pending pods and how long it has been waiting to be admitted.
#[derive(Debug, Clone)]
struct GangState {
    /// Pending pods of the group, in creation order.
    pending: Vec<PodId>,
    /// When the current wait began; [`SimTime::MAX`] when the group waits for nothing.
    waiting_since: SimTime,
    /// Bumped whenever the wait restarts or stops, so older timeout timers are stale.
    generation: u32,
}

/// Per-workload state: how many pods it made and its own random streams.
#[derive(Debug)]
struct WorkloadState {
    created: u64,
    arrivals: ChaCha8Rng,
    durations: ChaCha8Rng,
    sizes: ChaCha8Rng,
}

/// What happened to a pod, in a run's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// The pod was created.
    Created,
    /// The pod was bound to this node.
    Bound {
        /// The node's name.
        node: String,
    },
    /// A scheduling attempt failed, for this reason (kube-scheduler's wording).
    Unschedulable {
        /// The diagnosis.
        reason: String,
    },
    /// The pod's containers started.
    Started,
    /// The pod finished successfully.
    Finished,
    /// The pod was evicted (preempted).
    Evicted,
    /// The node it named rejected it (kubelet admission).
    Rejected,
}

/// One line of a run's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// When.
    pub time: SimTime,
    /// The pod's name.
    pub pod: String,
    /// What happened.
    pub event: TraceEvent,
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The scenario's name.
    pub scenario: String,
    /// The scheduler's name.
    pub scheduler: String,
    /// The seed used.
    pub seed: u64,
    /// The summary figures.
    pub summary: RunSummary,
    /// The time series.
    pub samples: Vec<Sample>,
    /// Every pod event, if tracing was enabled ([`Simulation::enable_trace`]).
    pub trace: Vec<TraceRecord>,
    /// GPU allocated as GPU demand arrived, for GPU trace replays (`gpuTrace:`); empty
    /// otherwise.
    pub gpu_fill: Vec<crate::gpu_replay::GpuFillPoint>,
}

/// A run in progress. [`Simulation::run`] plays it to the end; [`Simulation::step`] lets
/// tests and `explain` stop anywhere and look at the cluster.
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    scheduler: Box<dyn Scheduler>,
    seed: u64,
    now: SimTime,
    events: EventQueue<Event>,
    processed: u64,
    /// Events that can still change the cluster (creations, starts, finishes, backoffs):
    /// when none is left and nothing is active, a run without `duration` is over.
    live_events: u64,
    cluster: ClusterState,
    runtime: SecondaryMap<PodId, PodRuntime>,
    workloads: Vec<WorkloadState>,
    /// Per pod group of the scenario, by index.
    gangs: Vec<GangState>,
    node_by_name: BTreeMap<String, NodeId>,
    active: BinaryHeap<ActiveEntry>,
    active_seq: u64,
    unschedulable: Vec<(PodId, u32)>,
    cycle_pending: bool,
    cluster_changed: bool,
    tie_break: ChaCha8Rng,
    pending_buf: Vec<PodId>,
    decisions: Vec<Decision>,
    start_stamps: u64,
    pending_pods: u64,
    running_pods: u64,
    metrics: Metrics,
    done: bool,
    /// Pod events, when tracing; `None` keeps the hot path free of string building.
    trace: Option<Vec<TraceRecord>>,
    /// The pod to explain instead of scheduling, and from when (see [`Simulation::explain`]).
    explain_request: Option<(String, SimTime)>,
    explained: Option<ExplainOutcome>,
    /// Set when the scheduler reported a failure: the run stopped there.
    failure: Option<SchedulerFailure>,
}

/// A run stopped early because its scheduler failed (see
/// [`schedulers::Scheduler::failure`]), e.g. an external program that crashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the scheduler failed at t={time}: {message}")]
pub struct SchedulerFailure {
    /// Simulated time of the cycle that failed.
    pub time: SimTime,
    /// The scheduler's own account of what went wrong.
    pub message: String,
}

/// What [`Simulation::explain`] found.
#[derive(Debug, Clone)]
pub enum ExplainOutcome {
    /// The scheduler's explanation of the attempt, and when it happened.
    Explained {
        /// When the attempt was made.
        time: SimTime,
        /// The pod's id in [`Simulation::cluster`].
        pod: PodId,
        /// Node by node.
        explanation: Explanation,
    },
    /// The scheduler cannot explain itself (only framework profiles can).
    NotExplainable {
        /// When the attempt was made.
        time: SimTime,
    },
}

impl<'a> Simulation<'a> {
    /// Sets up the cluster at time zero and the first events.
    pub fn new(scenario: &'a Scenario, scheduler: Box<dyn Scheduler>, seed: u64) -> Simulation<'a> {
        let mut cluster = ClusterState::new(scenario.resource_names.clone());
        let mut metrics = Metrics::default();
        let mut node_by_name = BTreeMap::new();
        for spec in &scenario.nodes {
            metrics.node_capacity(
                SimTime::ZERO,
                spec.allocatable.cpu(),
                spec.allocatable.memory(),
                1,
            );
            let id = cluster.add_node(spec.clone());
            node_by_name.entry(spec.name.clone()).or_insert(id);
        }
        if !scenario.volumes.is_empty() {
            *cluster.volumes_mut() = scenario.volumes.clone();
            // The PV controller binds Immediate claims as soon as they exist.
            cluster.volumes_mut().bind_immediate_claims();
        }
        for pdb in scenario.pdbs() {
            cluster.add_pdb(pdb.clone());
        }
        for (name, weight) in &scenario.namespaces {
            cluster.set_namespace_weight(name, *weight);
        }
        for group in &scenario.pod_groups {
            cluster.add_pod_group(group.clone());
        }
        let gangs = vec![
            GangState {
                pending: Vec::new(),
                waiting_since: SimTime::MAX,
                generation: 0,
            };
            scenario.pod_groups.len()
        ];
        // Gang semantics apply to any algorithm, which runs unchanged inside the wrapper.
        let scheduler: Box<dyn Scheduler> = if scenario.pod_groups.is_empty() {
            scheduler
        } else {
            Box::new(GangScheduler::new(scheduler))
        };
        let workloads = (0..scenario.workloads.len() as u64)
            .map(|i| WorkloadState {
                created: 0,
                arrivals: stream(seed, Concern::Arrivals, i),
                durations: stream(seed, Concern::Durations, i),
                sizes: stream(seed, Concern::Sizes, i),
            })
            .collect();
        let mut sim = Simulation {
            scenario,
            scheduler,
            seed,
            now: SimTime::ZERO,
            events: EventQueue::with_capacity(1024),
            processed: 0,
            live_events: 0,
            cluster,
            runtime: SecondaryMap::new(),
            workloads,
            gangs,
            node_by_name,
            active: BinaryHeap::new(),
            active_seq: 0,
            unschedulable: Vec::new(),
            cycle_pending: false,
            cluster_changed: false,
            tie_break: stream(seed, Concern::TieBreak, 0),
            pending_buf: Vec::new(),
            decisions: Vec::new(),
            start_stamps: 0,
            pending_pods: 0,
            running_pods: 0,
            metrics,
            done: false,
            trace: None,
            explain_request: None,
            explained: None,
            failure: None,
        };
        for w in 0..scenario.workloads.len() {
            if let Some(first) = sim.first_creation(w) {
                sim.push_live(first, Event::Create { workload: w as u32 });
            }
        }
        sim.events.push(SimTime::ZERO, Event::Sample);
        sim
    }

    /// Records every pod event from now on, for [`RunResult::trace`]. Costs a string per
    /// event: meant for small scenarios, tutorials and tests.
    pub fn enable_trace(&mut self) {
        self.trace.get_or_insert_with(Vec::new);
    }

    fn record(&mut self, pod: PodId, event: impl FnOnce(&ClusterState) -> TraceEvent) {
        if let Some(trace) = &mut self.trace
            && let Some(p) = self.cluster.pod(pod)
        {
            trace.push(TraceRecord {
                time: self.now,
                pod: p.name().to_string(),
                event: event(&self.cluster),
            });
        }
    }

    /// Plays the run until the first scheduling attempt of the pod named `pod` at or
    /// after `from`, lets the scheduler explain that attempt node by node instead of
    /// making it, and stops there. Pods ahead of it in the same cycle are scheduled first,
    /// so the cluster is exactly as the real attempt would see it. `None` if the run ends
    /// first (the pod never exists, or is bound before `from`).
    pub fn explain(&mut self, pod: &str, from: SimTime) -> Option<ExplainOutcome> {
        self.explain_request = Some((pod.to_string(), from));
        while self.explained.is_none() && self.step() {}
        self.explain_request = None;
        self.explained.take()
    }

    /// The position in `pending` of the pod to explain, if this cycle holds its attempt.
    fn explain_index(&self, pending: &[PodId]) -> Option<usize> {
        let (name, from) = self.explain_request.as_ref()?;
        if self.now < *from {
            return None;
        }
        pending.iter().position(|&p| {
            self.cluster
                .pod(p)
                .is_some_and(|p| p.name().to_string() == *name)
        })
    }

    /// Simulated time now.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The cluster as it is now.
    pub fn cluster(&self) -> &ClusterState {
        &self.cluster
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// Pods waiting for a node now.
    pub fn pending_pods(&self) -> u64 {
        self.pending_pods
    }

    /// Pods bound or running now.
    pub fn running_pods(&self) -> u64 {
        self.running_pods
    }

    /// Pods created so far.
    pub fn submitted_pods(&self) -> u64 {
        self.metrics.submitted
    }

    /// Pods finished so far (succeeded, failed).
    pub fn finished_pods(&self) -> (u64, u64) {
        (self.metrics.completed, self.metrics.failed)
    }

    /// Processes the next event; returns false once the run is over.
    pub fn step(&mut self) -> bool {
        if self.done {
            return false;
        }
        let Some(next) = self.events.peek_time() else {
            self.done = true;
            return false;
        };
        let over = match self.scenario.duration {
            Some(end) => next > end,
            None => self.live_events == 0 && !self.cycle_pending,
        };
        if over {
            self.done = true;
            return false;
        }
        let Some((time, event)) = self.events.pop() else {
            self.done = true;
            return false;
        };
        self.now = time;
        self.processed += 1;
        self.handle(event);
        true
    }

    /// Plays the run to its end and returns its results. A scheduler failure ends the
    /// run early with the results so far; [`Simulation::try_run`] reports it instead.
    pub fn run(mut self) -> RunResult {
        while self.step() {}
        self.finish()
    }

    /// Plays the run to its end; an error if the scheduler failed along the way.
    pub fn try_run(mut self) -> Result<RunResult, SchedulerFailure> {
        while self.step() {}
        match self.failure.take() {
            Some(failure) => Err(failure),
            None => Ok(self.finish()),
        }
    }

    /// The scheduler's failure, if it stopped the run.
    pub fn failure(&self) -> Option<&SchedulerFailure> {
        self.failure.as_ref()
    }

    /// Closes the run now (after [`Simulation::step`] returned false, or early).
    pub fn finish(mut self) -> RunResult {
        let end = match self.scenario.duration {
            Some(end) if self.done => end,
            _ => self.now,
        };
        if self.metrics.samples().last().is_none_or(|s| s.time < end) {
            self.metrics
                .sample(end, self.pending_pods, self.running_pods, &self.cluster);
        }
        let (summary, samples) = self.metrics.finish(
            end,
            self.pending_pods,
            self.running_pods,
            self.processed,
            self.cluster.namespaces(),
        );
        RunResult {
            scenario: self.scenario.name.clone(),
            scheduler: self.scheduler.name().to_string(),
            seed: self.seed,
            summary,
            samples,
            trace: self.trace.unwrap_or_default(),
            gpu_fill: Vec::new(),
        }
    }

    fn push_live(&mut self, at: SimTime, event: Event) {
        self.live_events += 1;
        self.events.push(at, event);
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Create { workload } => {
                self.live_events -= 1;
                self.create(workload as usize);
            }
            Event::Started { pod } => {
                self.live_events -= 1;
                self.started(pod);
            }
            Event::Finished { pod } => {
                self.live_events -= 1;
                self.finished(pod);
            }
            Event::Schedule => self.schedule_cycle(),
            Event::BackoffDone { pod, generation } => {
                self.live_events -= 1;
                if self
                    .runtime
                    .get(pod)
                    .is_some_and(|r| r.queue == Queue::Backoff && r.generation == generation)
                {
                    self.activate(pod);
                }
            }
            Event::Unstick { pod, generation } => {
                if self
                    .runtime
                    .get(pod)
                    .is_some_and(|r| r.queue == Queue::Unschedulable && r.generation == generation)
                {
                    self.activate(pod);
                }
            }
            Event::Terminated { pod } => {
                self.live_events -= 1;
                if self.cluster.pod(pod).is_some_and(|p| p.terminating) {
                    self.release(pod, false);
                }
            }
            Event::Replace { workload } => {
                self.live_events -= 1;
                self.create_pod(workload as usize);
            }
            Event::GangTimeout { group, generation } => {
                if self.gangs[group as usize].generation == generation {
                    self.gang_timeout(group as usize);
                }
            }
            Event::Sample if self.cycle_pending => {
                // Pods created at this instant are bound by the cycle queued for it: take
                // the sample after that cycle, so a row never shows as pending a pod that
                // was bound at the same time.
                self.events.push(self.now, Event::Sample);
            }
            Event::Sample => {
                self.metrics.sample(
                    self.now,
                    self.pending_pods,
                    self.running_pods,
                    &self.cluster,
                );
                let next = self.now.saturating_add(self.scenario.sample_interval);
                if next > self.now {
                    self.events.push(next, Event::Sample);
                }
            }
        }
    }

    /// When a workload first creates pods, if ever.
    fn first_creation(&mut self, w: usize) -> Option<SimTime> {
        match &self.scenario.workloads[w].kind {
            WorkloadKind::Pods { at, .. } | WorkloadKind::Deployment { at, .. } => Some(*at),
            WorkloadKind::Batch { arrivals } => {
                let first = match arrivals.process {
                    ArrivalProcess::Poisson { rate_per_second } => arrivals.start.saturating_add(
                        exponential_gap(rate_per_second, &mut self.workloads[w].arrivals),
                    ),
                    ArrivalProcess::Fixed { .. } | ArrivalProcess::Burst => arrivals.start,
                };
                self.arrival_allowed(w, first).then_some(first)
            }
        }
    }

    fn arrival_allowed(&self, w: usize, at: SimTime) -> bool {
        let WorkloadKind::Batch { arrivals } = &self.scenario.workloads[w].kind else {
            return false;
        };
        arrivals.stop.is_none_or(|stop| at < stop)
            && arrivals.count.is_none_or(|c| self.workloads[w].created < c)
    }

    fn create(&mut self, w: usize) {
        let scenario = self.scenario;
        match &scenario.workloads[w].kind {
            WorkloadKind::Pods { count, .. } => {
                for _ in 0..*count {
                    self.create_pod(w);
                }
            }
            WorkloadKind::Deployment { replicas, .. } => {
                for _ in 0..*replicas {
                    self.create_pod(w);
                }
            }
            WorkloadKind::Batch { arrivals } => match arrivals.process {
                ArrivalProcess::Burst => {
                    let count = arrivals.count.unwrap_or(1);
                    while self.workloads[w].created < count {
                        self.create_pod(w);
                    }
                }
                ArrivalProcess::Poisson { rate_per_second } => {
                    self.create_pod(w);
                    let next = self.now.saturating_add(exponential_gap(
                        rate_per_second,
                        &mut self.workloads[w].arrivals,
                    ));
                    if self.arrival_allowed(w, next) {
                        self.push_live(next, Event::Create { workload: w as u32 });
                    }
                }
                ArrivalProcess::Fixed { interval } => {
                    self.create_pod(w);
                    let next = self.now.saturating_add(interval);
                    if interval > SimTime::ZERO && self.arrival_allowed(w, next) {
                        self.push_live(next, Event::Create { workload: w as u32 });
                    }
                }
            },
        }
    }

    fn create_pod(&mut self, w: usize) {
        let workload = &self.scenario.workloads[w];
        let state = &mut self.workloads[w];
        let ordinal = state.created as u32;
        state.created += 1;
        let template = Arc::clone(&workload.template);
        let pod = if workload.sized.is_empty() {
            Pod::from_template(template, ordinal)
        } else {
            let mut requests = template.effective_requests();
            let (mut cpu, mut mem) = template.nonzero_cpu_mem();
            for (kind, dist) in &workload.sized {
                let amount = sample_size(dist, &mut state.sizes);
                requests.set(*kind, amount);
                if *kind == ResourceKind::CPU {
                    cpu = amount;
                } else if *kind == ResourceKind::MEMORY {
                    mem = amount;
                }
            }
            Pod::with_requests(template, ordinal, requests, cpu, mem)
        };
        let mut pod = pod;
        pod.created_stamp = self.now.as_micros();
        let run_for = workload
            .duration
            .as_ref()
            .map_or(SimTime::MAX, |d| sample_duration(d, &mut state.durations));
        let id = self.cluster.add_pod(pod);
        self.runtime.insert(
            id,
            PodRuntime {
                workload: w as u32,
                created: self.now,
                run_for,
                queue: Queue::None,
                generation: 0,
                attempts: 0,
                backoff_until: SimTime::ZERO,
                preempted_at: SimTime::MAX,
            },
        );
        if let Some(p) = self.cluster.pod(id) {
            self.metrics
                .pod_created(self.now, p.namespace_id(), run_for != SimTime::MAX);
        }
        self.record(id, |_| TraceEvent::Created);
        self.pending_pods += 1;
        if let Some(g) = self.gang_of(&workload.template) {
            self.gangs[g as usize].pending.push(id);
            self.gang_may_wait(g);
        }
        match &workload.template.node_name {
            // A pod that names its node skips the scheduler; the kubelet admits it or
            // rejects it (Kubernetes' OutOfcpu and friends).
            Some(name) => {
                let node = self.node_by_name.get(name).copied().filter(|&n| {
                    self.cluster
                        .pod(id)
                        .is_some_and(|p| check_admission(p, self.cluster.node(n)).is_ok())
                });
                match node.map(|n| self.cluster.bind(id, n)) {
                    Some(Ok(())) => self.bound(id),
                    _ => self.fail_pending(id),
                }
            }
            None => self.activate(id),
        }
    }

    /// Moves a pod to the active queue; for a member of a pod group, its other pending
    /// members too, wherever they wait, so that the group is attempted in one cycle (the
    /// gang check sees only the pods of one cycle).
    fn activate(&mut self, pod: PodId) {
        self.activate_one(pod);
        if self.gangs.is_empty() {
            return;
        }
        let Some(g) = self
            .cluster
            .pod(pod)
            .and_then(|p| self.gang_of(&p.template))
        else {
            return;
        };
        let members = std::mem::take(&mut self.gangs[g as usize].pending);
        for &member in &members {
            if self
                .runtime
                .get(member)
                .is_some_and(|r| matches!(r.queue, Queue::Backoff | Queue::Unschedulable))
            {
                self.activate_one(member);
            }
        }
        self.gangs[g as usize].pending = members;
    }

    /// The pod group of a template, if it names one of the scenario's (a hand-built
    /// scenario's out-of-range index counts as none).
    fn gang_of(&self, template: &PodTemplate) -> Option<u32> {
        template
            .pod_group
            .filter(|&g| (g as usize) < self.gangs.len())
    }

    /// Starts (or restarts) a pod group's wait now, with a timer at its timeout.
    fn restart_gang_wait(&mut self, g: usize) {
        let timeout = SimTime::from_secs(u64::from(
            self.scenario.pod_groups[g].schedule_timeout_seconds,
        ));
        let gang = &mut self.gangs[g];
        gang.waiting_since = self.now;
        gang.generation = gang.generation.wrapping_add(1);
        let generation = gang.generation;
        // Not a live event: a group that can never be admitted must not keep a run
        // without `duration` going.
        self.events.push(
            self.now.saturating_add(timeout),
            Event::GangTimeout {
                group: g as u32,
                generation,
            },
        );
    }

    /// Starts a pod group's wait if it is not running and the group now waits: it has
    /// pending pods and fewer than minMember bound (a group that has them is admitted,
    /// and its extra pods do not time out).
    fn gang_may_wait(&mut self, g: u32) {
        let gang = &self.gangs[g as usize];
        if gang.waiting_since == SimTime::MAX
            && !gang.pending.is_empty()
            && self.cluster.group_bound(g) < self.scenario.pod_groups[g as usize].min_member
        {
            self.restart_gang_wait(g as usize);
        }
    }

    /// Stops a pod group's wait: it has no pending pods, or is admitted.
    fn stop_gang_wait(&mut self, g: usize) {
        let gang = &mut self.gangs[g];
        gang.waiting_since = SimTime::MAX;
        gang.generation = gang.generation.wrapping_add(1);
    }

    /// A pending pod of a group leaves the pending state (bound or rejected); the group's
    /// wait ends if it has no pending pod left or is admitted.
    fn leave_gang(&mut self, pod: PodId, group: Option<u32>) {
        let Some(g) = group else {
            return;
        };
        let pending = &mut self.gangs[g as usize].pending;
        if let Some(i) = pending.iter().position(|&p| p == pod) {
            pending.remove(i);
        }
        if pending.is_empty()
            || self.cluster.group_bound(g) >= self.scenario.pod_groups[g as usize].min_member
        {
            self.stop_gang_wait(g as usize);
        }
    }

    /// A pod group waited `scheduleTimeoutSeconds` without being admitted: like
    /// coscheduling's rejection of the waiting pods at Permit, its pending pods are
    /// rejected and the whole group backs off for [`GANG_TIMEOUT_BACKOFF`]; then it waits
    /// afresh. A group with `minMember` pods bound is admitted, and its extra pending pods
    /// do not time out.
    fn gang_timeout(&mut self, g: usize) {
        let scenario = self.scenario;
        let spec = &scenario.pod_groups[g];
        let bound = self.cluster.group_bound(g as u32);
        if self.gangs[g].pending.is_empty() || bound >= spec.min_member {
            self.stop_gang_wait(g);
            return;
        }
        self.metrics.gang_timeouts += 1;
        let until = self.now.saturating_add(GANG_TIMEOUT_BACKOFF);
        let members = std::mem::take(&mut self.gangs[g].pending);
        for &member in &members {
            self.record(member, |_| TraceEvent::Unschedulable {
                reason: format!(
                    "pod group \"{}\" timed out: {bound}/{} members bound after {}s",
                    spec.display_name(),
                    spec.min_member,
                    spec.schedule_timeout_seconds
                ),
            });
            let Some(rt) = self.runtime.get_mut(member) else {
                continue;
            };
            if rt.queue == Queue::None {
                continue;
            }
            rt.queue = Queue::Backoff;
            rt.generation += 1;
            rt.backoff_until = until;
            let generation = rt.generation;
            self.push_live(
                until,
                Event::BackoffDone {
                    pod: member,
                    generation,
                },
            );
        }
        self.gangs[g].pending = members;
        self.restart_gang_wait(g);
    }

    fn activate_one(&mut self, pod: PodId) {
        let Some(rt) = self.runtime.get_mut(pod) else {
            return;
        };
        rt.queue = Queue::Active;
        rt.generation += 1;
        let priority = self.cluster.pod(pod).map_or(0, Pod::priority);
        self.active.push(ActiveEntry {
            priority,
            enqueued: self.now,
            seq: self.active_seq,
            pod,
            generation: rt.generation,
        });
        self.active_seq += 1;
        self.ensure_cycle();
    }

    fn ensure_cycle(&mut self) {
        if !self.cycle_pending {
            self.cycle_pending = true;
            self.events.push(self.now, Event::Schedule);
        }
    }

    /// Something changed that could make unschedulable pods fit (kube-scheduler's
    /// `MoveAllToActiveOrBackoffQueue`); the move happens at the next cycle, once.
    fn cluster_changed(&mut self) {
        self.cluster_changed = true;
        if !self.unschedulable.is_empty() {
            self.ensure_cycle();
        }
    }

    fn move_unschedulable(&mut self) {
        let stuck = std::mem::take(&mut self.unschedulable);
        for &(pod, generation) in &stuck {
            let Some(rt) = self.runtime.get_mut(pod) else {
                continue;
            };
            if rt.queue != Queue::Unschedulable || rt.generation != generation {
                continue;
            }
            if self.now >= rt.backoff_until {
                self.activate(pod);
            } else {
                rt.queue = Queue::Backoff;
                rt.generation += 1;
                let (until, generation) = (rt.backoff_until, rt.generation);
                self.push_live(until, Event::BackoffDone { pod, generation });
            }
        }
        // Reuse the allocation: a busy cluster moves pods on every completion.
        let mut stuck = stuck;
        stuck.clear();
        if self.unschedulable.is_empty() {
            self.unschedulable = stuck;
        }
    }

    fn schedule_cycle(&mut self) {
        self.cycle_pending = false;
        if self.cluster_changed {
            self.cluster_changed = false;
            // Pods moved to the active queue are popped right below; if the move queued
            // another cycle it stays flagged, so nothing else queues a duplicate.
            self.move_unschedulable();
        }
        let mut pending = std::mem::take(&mut self.pending_buf);
        pending.clear();
        while let Some(entry) = self.active.pop() {
            if self
                .runtime
                .get(entry.pod)
                .is_some_and(|r| r.queue == Queue::Active && r.generation == entry.generation)
            {
                pending.push(entry.pod);
            }
        }
        if let Some(index) = self.explain_index(&pending) {
            let target = pending[index];
            pending.truncate(index);
            self.decide(&pending);
            let explanation = self
                .scheduler
                .explain(&self.cluster, target, &mut self.tie_break);
            self.explained = Some(match explanation {
                Some(explanation) => ExplainOutcome::Explained {
                    time: self.now,
                    pod: target,
                    explanation,
                },
                None => ExplainOutcome::NotExplainable { time: self.now },
            });
            self.done = true;
            self.pending_buf = pending;
            return;
        }
        self.decide(&pending);
        self.pending_buf = pending;
    }

    /// One scheduling cycle over `pending`, applying the decisions.
    fn decide(&mut self, pending: &[PodId]) {
        if !pending.is_empty() {
            self.metrics.attempts += pending.len() as u64;
            let mut decisions = std::mem::take(&mut self.decisions);
            let mut preemptors = Vec::new();
            self.scheduler.schedule(
                &mut Cycle::new(
                    &mut self.cluster,
                    pending,
                    &mut self.tie_break,
                    &mut decisions,
                )
                .at_micros(self.now.as_micros()),
            );
            if let Some(message) = self.scheduler.failure() {
                // A broken scheduler's decisions cannot be trusted: the run ends here,
                // without recording them, and the host reports the failure.
                self.failure = Some(SchedulerFailure {
                    time: self.now,
                    message: message.to_string(),
                });
                self.done = true;
                decisions.clear();
                self.decisions = decisions;
                return;
            }
            for decision in decisions.drain(..) {
                match decision {
                    Decision::Bound { pod, .. } => self.bound(pod),
                    Decision::Unschedulable { pod, diagnosis } => {
                        self.record(pod, |_| TraceEvent::Unschedulable {
                            reason: diagnosis.to_string(),
                        });
                        self.unschedulable(pod);
                    }
                    Decision::Preempt { pod, node, victims } => {
                        if self.preempt(pod, node, victims) {
                            preemptors.push(pod);
                        }
                    }
                }
            }
            self.decisions = decisions;
            // A pod the scheduler said nothing about stays pending, as if unschedulable.
            for &pod in pending {
                if !preemptors.contains(&pod)
                    && self
                        .runtime
                        .get(pod)
                        .is_some_and(|r| r.queue == Queue::Active)
                {
                    self.unschedulable(pod);
                }
            }
            for pod in preemptors {
                self.activate(pod);
            }
        }
    }

    /// The PV controller's and VolumeBinding's PreBind work for a pod just bound: each of
    /// its unbound WaitForFirstConsumer claims, smallest first, gets the smallest available
    /// PV of its class that the node can reach, else a volume provisioned in the node's
    /// zone.
    fn bind_claims(&mut self, pod: PodId) {
        let Some(p) = self.cluster.pod(pod) else {
            return;
        };
        let Some(node) = p.node else {
            return;
        };
        let template = p.template.clone();
        let spec = self.cluster.node(node).spec.clone();
        let volumes = self.cluster.volumes_mut();
        let mut changed = false;
        // Smallest claims first, as the scheduler matched them.
        let mut claims: Vec<&String> = template.volume_claims.iter().collect();
        claims.sort_by_key(|name| {
            volumes
                .claim(&template.namespace, name)
                .map_or(0, |c| c.request)
        });
        for name in claims {
            let Some(claim) = volumes.claim(&template.namespace, name) else {
                continue;
            };
            let Some(class) = volumes.class(&claim.storage_class) else {
                continue;
            };
            if claim.bound_volume.is_some()
                || class.volume_binding_mode != VolumeBindingMode::WaitForFirstConsumer
            {
                continue;
            }
            // A pod that named its node skipped VolumeBinding: the class may not allow it.
            let provisionable = class.allows(&spec.labels, &spec.name);
            let matching = volumes
                .find_matching_volume(claim, Some((&spec.labels, &spec.name)))
                .map(|v| v.name.clone());
            let result = match matching {
                Some(v) => volumes.bind(&template.namespace, name, &v),
                None if provisionable => volumes
                    .provision(&template.namespace, name, Some(&spec.labels))
                    .map(|_| ()),
                None => continue,
            };
            changed |= result.is_ok();
        }
        if changed {
            // Other pods waiting on these claims may fit now (upstream requeues on PVC and
            // PV updates).
            self.cluster_changed();
        }
    }

    fn bound(&mut self, pod: PodId) {
        let Some(p) = self.cluster.pod(pod) else {
            return;
        };
        if p.phase != PodPhase::Bound {
            // A scheduler reported a bind the cluster does not show: not a real bind.
            self.metrics.refused_binds += 1;
            return;
        }
        let (cpu, mem) = (p.requests.cpu(), p.requests.memory());
        let namespace = p.namespace_id();
        let node = p.node;
        let group = self.gang_of(&p.template);
        if !p.template.volume_claims.is_empty() {
            self.bind_claims(pod);
        }
        self.record(pod, |c| TraceEvent::Bound {
            node: c
                .pod(pod)
                .and_then(|p| p.node)
                .map_or_else(String::new, |n| c.node(n).name().to_string()),
        });
        let Some(rt) = self.runtime.get_mut(pod) else {
            return;
        };
        rt.queue = Queue::None;
        rt.generation += 1;
        let latency = self.now.saturating_sub(rt.created);
        self.metrics.bound(latency);
        self.metrics.charge(self.now, cpu, mem, 1);
        if let Some(node) = node {
            self.metrics.pod_on_node(self.now, node.index(), 1);
        }
        self.metrics
            .namespace_changed(self.now, namespace, &self.cluster, true);
        self.pending_pods -= 1;
        self.running_pods += 1;
        self.leave_gang(pod, group);
        self.push_live(
            self.now.saturating_add(self.scenario.start_latency),
            Event::Started { pod },
        );
    }

    fn unschedulable(&mut self, pod: PodId) {
        let Some(rt) = self.runtime.get_mut(pod) else {
            return;
        };
        if rt.queue != Queue::Active {
            return;
        }
        rt.attempts += 1;
        rt.backoff_until = self.now.saturating_add(backoff(rt.attempts));
        rt.queue = Queue::Unschedulable;
        rt.generation += 1;
        let generation = rt.generation;
        self.unschedulable.push((pod, generation));
        self.events.push(
            self.now.saturating_add(MAX_UNSCHEDULABLE),
            Event::Unstick { pod, generation },
        );
        self.metrics.failed_attempts += 1;
    }

    /// Evicts a preemptor's victims. The preemptor is retried in the next cycle at this
    /// same instant (see [`Simulation::decide`]), ahead of the victims' replacements
    /// thanks to its higher priority: a stand-in for kube-scheduler's nominated-node
    /// reservation. A pod preempts at most once per instant; if its retry fails again at
    /// the same time it takes the ordinary back-off, so a dry run that was too hopeful
    /// cannot evict pods forever.
    fn preempt(&mut self, pod: PodId, node: NodeId, victims: Vec<PodId>) -> bool {
        let now = self.now;
        let Some(rt) = self.runtime.get_mut(pod) else {
            return false;
        };
        if rt.queue != Queue::Active || rt.preempted_at == now {
            self.unschedulable(pod);
            return false;
        }
        rt.preempted_at = now;
        rt.attempts += 1;
        self.metrics.failed_attempts += 1;
        self.record(pod, |c| TraceEvent::Unschedulable {
            reason: format!(
                "preempting {} pod(s) on node {}",
                victims.len(),
                c.node(node).name()
            ),
        });
        for victim in victims {
            self.evict(victim);
        }
        true
    }

    fn started(&mut self, pod: PodId) {
        if self
            .cluster
            .pod(pod)
            .is_none_or(|p| p.phase != PodPhase::Bound)
        {
            return;
        }
        self.cluster.set_phase(pod, PodPhase::Running);
        self.record(pod, |_| TraceEvent::Started);
        self.cluster.set_start_stamp(pod, self.start_stamps);
        self.start_stamps += 1;
        if let Some(run_for) = self.runtime.get(pod).map(|r| r.run_for)
            && run_for != SimTime::MAX
        {
            self.push_live(self.now.saturating_add(run_for), Event::Finished { pod });
        }
    }

    fn finished(&mut self, pod: PodId) {
        if self
            .cluster
            .pod(pod)
            .is_none_or(|p| p.phase != PodPhase::Running)
        {
            return;
        }
        if self.cluster.pod(pod).is_some_and(|p| p.terminating) {
            // Evicted and shutting down, and its work ended first: it leaves now. It
            // was counted when evicted and its replacement already exists.
            self.release(pod, false);
            return;
        }
        let created = self.runtime.get(pod).map_or(self.now, |r| r.created);
        self.metrics.pod_finished(self.now, created);
        self.record(pod, |_| TraceEvent::Finished);
        self.release(pod, true);
    }

    /// Evicts a bound or running pod for a higher-priority one. It keeps its node for its
    /// termination grace period (Kubernetes' graceful deletion), while its ReplicaSet
    /// replaces it at once, as the controller does for a pod being deleted.
    fn evict(&mut self, pod: PodId) {
        let Some(p) = self.cluster.pod(pod) else {
            return;
        };
        if p.node.is_none() || p.terminating {
            return;
        }
        let grace = SimTime::from_secs(u64::from(p.template.termination_grace_period_seconds));
        self.metrics.preemptions += 1;
        self.metrics.failed += 1;
        self.record(pod, |_| TraceEvent::Evicted);
        if grace == SimTime::ZERO {
            self.release(pod, true);
            return;
        }
        self.cluster.set_terminating(pod);
        // A terminating member no longer counts: its group may be short again.
        if let Some(g) = self
            .cluster
            .pod(pod)
            .and_then(|p| self.gang_of(&p.template))
        {
            self.gang_may_wait(g);
        }
        // Counted as failed from now on, not as running, though it holds its resources.
        self.running_pods -= 1;
        if let Some(rt) = self.runtime.get(pod) {
            let (workload, run_for) = (rt.workload, rt.run_for);
            self.replace(workload, run_for);
        }
        self.push_live(self.now.saturating_add(grace), Event::Terminated { pod });
    }

    /// The ReplicaSet controller's replacement of a pod of `workload` that ran for
    /// `run_for` and ends or is being deleted (nothing for other workload kinds).
    fn replace(&mut self, workload: u32, run_for: SimTime) {
        if !matches!(
            self.scenario.workloads[workload as usize].kind,
            WorkloadKind::Deployment { .. }
        ) {
            return;
        }
        // At once, unless the pod crashed on start.
        if run_for == SimTime::ZERO {
            self.push_live(
                self.now.saturating_add(CRASH_LOOP_BACKOFF),
                Event::Replace { workload },
            );
        } else {
            self.create_pod(workload as usize);
        }
    }

    /// A bound pod leaves its node: books closed, controller told (with `replace`),
    /// waiting pods retried.
    fn release(&mut self, pod: PodId, replace: bool) {
        let Some(p) = self.cluster.remove_pod(pod) else {
            return;
        };
        if let Some(g) = self.gang_of(&p.template) {
            self.gang_may_wait(g);
        }
        self.metrics
            .charge(self.now, p.requests.cpu(), p.requests.memory(), -1);
        if let Some(node) = p.node {
            self.metrics.pod_on_node(self.now, node.index(), -1);
        }
        self.metrics
            .namespace_changed(self.now, p.namespace_id(), &self.cluster, false);
        if !p.terminating {
            self.running_pods -= 1;
        }
        // Removed first, so the replacement reuses the freed arena slot.
        if let Some(rt) = self.runtime.remove(pod)
            && replace
        {
            self.replace(rt.workload, rt.run_for);
        }
        self.cluster_changed();
    }

    /// A pending pod that will never run (its node rejected it).
    fn fail_pending(&mut self, pod: PodId) {
        self.record(pod, |_| TraceEvent::Rejected);
        let group = self
            .cluster
            .pod(pod)
            .and_then(|p| self.gang_of(&p.template));
        self.leave_gang(pod, group);
        self.cluster.remove_pod(pod);
        self.runtime.remove(pod);
        self.pending_pods -= 1;
        self.metrics.failed += 1;
    }
}

/// kube-scheduler's per-pod backoff: 1 s doubled per failed attempt, at most 10 s.
pub fn backoff(attempts: u32) -> SimTime {
    let mut d = INITIAL_BACKOFF;
    for _ in 1..attempts {
        d = SimTime(d.0 * 2);
        if d >= MAX_BACKOFF {
            return MAX_BACKOFF;
        }
    }
    d
}

/// Runs a scenario with one scheduler and one seed: the event simulation, or for a
/// `gpuTrace` scenario the trace replay of [`crate::gpu_replay`]. A scheduler that fails
/// (see [`Scheduler::failure`]) ends the run early, as [`Simulation::run`] does; use
/// [`try_run`] to learn why.
pub fn run(scenario: &Scenario, scheduler: Box<dyn Scheduler>, seed: u64) -> RunResult {
    if let Some(trace) = &scenario.gpu_trace {
        return crate::gpu_replay::replay_partial(scenario, trace, scheduler, seed, &mut |_| {}).0;
    }
    Simulation::new(scenario, scheduler, seed).run()
}

/// [`run`], with the scheduler's failure as an error.
pub fn try_run(
    scenario: &Scenario,
    scheduler: Box<dyn Scheduler>,
    seed: u64,
) -> Result<RunResult, SchedulerFailure> {
    if let Some(trace) = &scenario.gpu_trace {
        return crate::gpu_replay::run_gpu_trace(scenario, trace, scheduler, seed);
    }
    Simulation::new(scenario, scheduler, seed).try_run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_runtime_stays_small() {
        assert_eq!(std::mem::size_of::<PodRuntime>(), 48);
    }

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        let secs: Vec<u64> = (1..=6).map(|a| backoff(a).0 / 1_000_000).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 10, 10]);
    }
}
