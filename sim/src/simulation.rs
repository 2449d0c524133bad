//! One run: a scenario, one scheduler and one seed, played out by the engine.
//!
//! [`Simulation`] assembles the engine ([`crate::engine`]), the controllers
//! ([`crate::controllers`]) and the observers ([`crate::observe`]), and offers the ways
//! to play a run: to the end ([`Simulation::run`]), one event at a time
//! ([`Simulation::step`], for tests that check the cluster between events), or up to one
//! pod's scheduling attempt ([`Simulation::explain`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use schedulers::{ClusterState, PodId, PodPhase, PodTemplate, Scheduler};

use crate::controllers::autoscaler::Autoscaler;
use crate::controllers::failures::NodeFailures;
use crate::controllers::gang::Gangs;
use crate::controllers::hpa::Autoscalers;
use crate::controllers::kubelet::Kubelet;
use crate::controllers::node_pressure::NodePressure;
use crate::controllers::nodes::{NodeAction, NodeLifecycle};
use crate::controllers::scheduling::SchedulingQueue;
use crate::controllers::services::Services;
use crate::controllers::statefulsets::StatefulSets;
use crate::controllers::taint_eviction::TaintEviction;
use crate::controllers::volumes::VolumeBinder;
use crate::controllers::workloads::Workloads;
use crate::controllers::{Controllers, Routes, subscribers};
use crate::engine::PodStatuses;
use crate::engine::{Agenda, Bus, Ctx, Event, Timers, Work};
use crate::observe::allocation::Allocation;
use crate::observe::autoscaling::AutoscalerMetrics;
use crate::observe::disruptions::Disruptions;
use crate::observe::fairness::{Fairness, NamespaceSummary};
use crate::observe::gpu_fill::{GpuFill, GpuFillPoint};
use crate::observe::jobs::JobMetrics;
use crate::observe::node_series::{NodeSample, NodeSeries};
use crate::observe::pods::PodMetrics;
use crate::observe::pressure::PressureMetrics;
use crate::observe::services::ServiceMetrics;
use crate::observe::summary::{Summary, Value};
use crate::observe::timeseries::{Sample, TimeSeries};
use crate::observe::trace::{TraceLog, TraceRecord};
use crate::observe::{Fact, Observer, Observers, RunEnd, View, columns};
use crate::rng::{Concern, stream};
use crate::scenario::{Scenario, Workload, WorkloadKind};
use crate::time::SimTime;

pub use crate::controllers::scheduling::{ExplainOutcome, SchedulerFailure};

/// The result of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The scenario's name.
    pub scenario: String,
    /// The scheduler's name.
    pub scheduler: String,
    /// The seed used.
    pub seed: u64,
    /// The summary figures, one per column.
    pub summary: Summary,
    /// The time series.
    pub samples: Vec<Sample>,
    /// Per namespace, in name order.
    pub namespaces: Vec<NamespaceSummary>,
    /// Every pod event, if tracing was enabled ([`Simulation::enable_trace`]).
    pub trace: Vec<TraceRecord>,
    /// GPU allocated as GPU demand arrived, for scenarios with `gpuFill:` (which
    /// `gpuTrace:` implies); empty otherwise.
    pub gpu_fill: Vec<GpuFillPoint>,
    /// Per Service (Deployment with a load), in workload order; empty without Services.
    pub services: Vec<crate::observe::services::ServiceSummary>,
    /// Each ready node's requests at each sampling tick, if the node series was enabled
    /// ([`Simulation::enable_node_series`]) and the cluster was small enough.
    pub node_samples: Vec<NodeSample>,
}

/// One workload controller as it stands in a run (a Deployment, StatefulSet, DaemonSet
/// or Job that exists by now), for readers of a run's state such as `schedlab export`:
/// what its object would say and which live pods it owns. See [`Simulation::workloads`].
#[derive(Debug)]
pub struct WorkloadView<'s> {
    /// Its index in the scenario's workloads (the [`schedulers::Pod::owner`] of its pods).
    pub index: u32,
    /// The workload as the scenario gives it: kind (StatefulSet's policy and claim
    /// templates, Job's spec), name, namespace, sizes, duration.
    pub workload: &'s Workload,
    /// The template new pods are stamped from now: a Deployment's newest ReplicaSet's,
    /// the scenario's for the others (without a StatefulSet's per-ordinal claims and
    /// labels, or a DaemonSet's default tolerations and node pinning).
    pub template: &'s Arc<PodTemplate>,
    /// Desired replicas now: a Deployment's after its autoscaler or KEDA, a
    /// StatefulSet's; `None` for a DaemonSet or a Job.
    pub replicas: Option<u32>,
    /// A Deployment's ReplicaSets so far (more than one once a rollout began).
    pub replica_sets: u32,
    /// A Job's completions so far (0 for the others).
    pub succeeded: u32,
    /// A Job's failed pods so far, its `status.failed` (0 for the others).
    pub failed: u32,
    /// Why a Job failed, once it has (its Failed condition's reason); `None` otherwise.
    pub failure: Option<crate::observe::JobFailureReason>,
    /// Whether a Job has finished (Complete, Failed, or deleted by its CronJob); false
    /// for the others.
    pub finished: bool,
    /// Its live pods (Pending, waiting at Permit, Bound or Running, and not being
    /// deleted), by ordinal.
    pub pods: Vec<PodId>,
}

/// Events processed between two looks at a run's cancellation flag
/// ([`Simulation::set_cancel_flag`]). A power of two, so the test is a mask; events take
/// microseconds, so a cancelled run stops within milliseconds, at the cost of one branch
/// per event.
pub const CANCEL_CHECK_EVENTS: u64 = 4096;

/// A run in progress. [`Simulation::run`] plays it to the end; [`Simulation::step`] lets
/// tests and `explain` stop anywhere and look at the cluster.
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    seed: u64,
    now: SimTime,
    /// Timers, observers, routes, the agenda of the current instant, and whether a
    /// controller ended the run (an explained attempt, a failed scheduler).
    bus: Bus,
    processed: u64,
    done: bool,
    /// Set by another thread to stop the run early (see [`Simulation::set_cancel_flag`]).
    cancel: Option<Arc<AtomicBool>>,
    /// True once the run stopped because `cancel` was set.
    cancelled: bool,
    cluster: ClusterState,
    controllers: Controllers,
}

impl<'a> Simulation<'a> {
    /// Sets up the cluster at time zero and the first events.
    pub fn new(scenario: &'a Scenario, scheduler: Box<dyn Scheduler>, seed: u64) -> Simulation<'a> {
        let mut cluster = ClusterState::new(scenario.resource_names.clone());
        let gpu = scenario
            .gpu_fill
            .map(|f| GpuFill::new(f.step_permille, f.demand_permille));
        let mut bus = Bus {
            timers: Timers::with_capacity(1024),
            observers: Observers {
                pods: PodMetrics::default(),
                allocation: Allocation::default(),
                autoscaling: AutoscalerMetrics::new(scenario.autoscaler.as_ref()),
                fairness: Fairness::default(),
                disruptions: Disruptions::default(),
                series: TimeSeries::default(),
                services: ServiceMetrics::new(scenario),
                trace: None,
                nodes: None,
                gpu,
                queues: crate::observe::queues::QueueMetrics::new(scenario),
                extra: Vec::new(),
                pressure: PressureMetrics::default(),
                rollouts: crate::observe::rollouts::RolloutMetrics::new(scenario),
                jobs: JobMetrics::new(scenario),
            },
            routes: Routes::for_scenario(scenario),
            agenda: Agenda::default(),
            status: PodStatuses::new(scenario.workloads.len(), scenario.metrics_resolution),
            stopped: false,
            departed: Vec::new(),
        };
        let nodes = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            NodeLifecycle::start(&scenario.nodes, &mut ctx)
        };
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
        let queue = SchedulingQueue::new(
            scheduler,
            !scenario.pod_groups.is_empty(),
            scenario.queue,
            stream(seed, Concern::TieBreak, 0),
        );
        let workloads = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            Workloads::start(scenario, seed, &mut ctx)
        };
        let failures = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            NodeFailures::start(scenario.failures.as_ref(), seed, &mut ctx)
        };
        let taints = TaintEviction::new(
            scenario
                .failures
                .as_ref()
                .map_or(crate::scenario::DEFAULT_TOLERATION_SECONDS, |f| {
                    f.default_toleration_seconds
                }),
        );
        let (services, hpa) = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            (
                Services::start(scenario, seed, &mut ctx),
                Autoscalers::start(scenario, &mut ctx),
            )
        };
        let (workqueues, keda) = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            (
                crate::controllers::workqueue::WorkQueues::start(scenario, &mut ctx),
                crate::controllers::keda::ScaledObjects::start(scenario, &mut ctx),
            )
        };
        let jobs = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            crate::controllers::jobs::Jobs::start(scenario, seed, &mut ctx)
        };
        let cron_jobs = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            crate::controllers::cron_jobs::CronJobs::start(scenario, &mut ctx)
        };
        bus.timers.push(SimTime::ZERO, Event::Sample);
        let autoscaler = scenario.autoscaler.as_ref().map(|ca| {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            Autoscaler::start(ca, seed, &mut ctx)
        });
        let statefulsets = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            StatefulSets::new(scenario, seed, &mut ctx)
        };
        let daemonsets = {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            crate::controllers::daemonsets::DaemonSets::new(scenario, seed, &mut ctx)
        };
        let pressure = scenario.node_pressure.as_ref().map(|p| {
            let mut ctx = Ctx::new(SimTime::ZERO, &mut cluster, scenario, &mut bus);
            NodePressure::start(p, &mut ctx)
        });
        let mut sim = Simulation {
            scenario,
            seed,
            now: SimTime::ZERO,
            bus,
            processed: 0,
            done: false,
            cancel: None,
            cancelled: false,
            cluster,
            controllers: Controllers {
                workloads,
                queue,
                kubelet: Kubelet::default(),
                volumes: VolumeBinder,
                gang: Gangs::new(scenario.pod_groups.len()),
                nodes,
                failures,
                taints,
                autoscaler,
                services,
                hpa,
                statefulsets,
                workqueues,
                keda,
                pressure,
                jobs,
                daemonsets,
                cron_jobs,
            },
        };
        for (at, action) in &scenario.node_changes {
            sim.schedule_node_action(*at, action.clone());
        }
        // The nodes' arrival is published like any later change.
        sim.bus.agenda.open(0);
        sim.drain();
        sim
    }

    /// Records every pod event from now on, for [`RunResult::trace`]. Costs a string per
    /// event: meant for small scenarios, tutorials and tests.
    pub fn enable_trace(&mut self) {
        self.bus
            .observers
            .trace
            .get_or_insert_with(|| TraceLog::for_scenario(self.scenario));
    }

    /// Records each ready node's requests at every sampling tick, while the cluster has at
    /// most [`crate::observe::node_series::MAX_NODES`] nodes.
    pub fn enable_node_series(&mut self) {
        self.bus
            .observers
            .nodes
            .get_or_insert_with(NodeSeries::default);
    }

    /// Attaches an observer: it sees every fact from now on and adds its columns to the
    /// summary. Observers never change the run.
    pub fn add_observer(&mut self, observer: Box<dyn Observer>) {
        self.bus.observers.extra.push(observer);
    }

    /// Lets another thread stop the run: once `flag` is true, the run ends at its next
    /// look at it (before the first event, then every [`CANCEL_CHECK_EVENTS`] events), as
    /// if nothing more could happen, and [`Simulation::cancelled`] turns true. The results
    /// of a cancelled run are those of a run cut short: a host that cancels discards them.
    /// Never set, the flag changes nothing, so results stay deterministic.
    pub fn set_cancel_flag(&mut self, flag: Arc<AtomicBool>) {
        self.cancel = Some(flag);
    }

    /// Whether the run stopped because its cancellation flag was set.
    pub fn cancelled(&self) -> bool {
        self.cancelled
    }

    /// Schedules a change to the cluster's nodes at `at` (a node joining, leaving,
    /// changing condition, being cordoned).
    pub fn schedule_node_action(&mut self, at: SimTime, action: NodeAction) {
        let event = self.controllers.nodes.script(action);
        self.bus.timers.push(at.max(self.now), event);
    }

    /// Plays the run until the first scheduling attempt of the pod named `pod` at or
    /// after `from`, lets the scheduler explain that attempt node by node instead of
    /// making it, and stops there. Pods ahead of it in the same cycle are scheduled first,
    /// so the cluster is exactly as the real attempt would see it. `None` if the run ends
    /// first (the pod never exists, or is bound before `from`).
    pub fn explain(&mut self, pod: &str, from: SimTime) -> Option<ExplainOutcome> {
        self.controllers.queue.request_explanation(pod, from);
        let mut outcome = None;
        while outcome.is_none() && self.step() {
            outcome = self.controllers.queue.take_explanation();
        }
        outcome.or_else(|| self.controllers.queue.take_explanation())
    }

    /// Simulated time now.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The cluster as it is now.
    pub fn cluster(&self) -> &ClusterState {
        &self.cluster
    }

    /// The workload controllers that exist now, in scenario order, with their desired
    /// replicas, template and live pods: a Deployment, StatefulSet or DaemonSet once its
    /// creation time has come, a Job once started. Bare pods, batch arrivals and trace
    /// replays have no controller object and are not listed. Walks every pod once; meant
    /// for a snapshot, not for every event.
    pub fn workloads(&self) -> Vec<WorkloadView<'_>> {
        let workloads = &self.scenario.workloads;
        let c = &self.controllers;
        let views: Vec<Option<WorkloadView<'_>>> = workloads
            .iter()
            .enumerate()
            .map(|(w, workload)| {
                let view = |template, replicas, replica_sets, succeeded| WorkloadView {
                    index: w as u32,
                    workload,
                    template,
                    replicas,
                    replica_sets,
                    succeeded,
                    failed: 0,
                    failure: None,
                    finished: false,
                    pods: Vec::new(),
                };
                match &workload.kind {
                    WorkloadKind::Deployment { at, .. } if *at <= self.now => {
                        let (desired, template) = c.workloads.deployment(w)?;
                        let sets = c.workloads.replica_sets(w);
                        Some(view(template, Some(desired), sets, 0))
                    }
                    WorkloadKind::StatefulSet { replicas, .. } if c.statefulsets.is_live(w) => {
                        let replicas = c.statefulsets.replicas(w).unwrap_or(*replicas);
                        Some(view(&workload.template, Some(replicas), 0, 0))
                    }
                    WorkloadKind::DaemonSet { .. } if c.daemonsets.is_live(w) => {
                        Some(view(&workload.template, None, 0, 0))
                    }
                    WorkloadKind::Job { .. } => {
                        let succeeded = c.jobs.succeeded(w)?;
                        let mut job = view(&workload.template, None, 0, succeeded);
                        job.finished = c.jobs.finished(w);
                        (job.failed, job.failure) = c.jobs.failures(w);
                        Some(job)
                    }
                    _ => None,
                }
            })
            .collect();
        // Each view's live pods with their ordinals, taken in the one pass over the pods so
        // that ordering them needs no second lookup per pod.
        let mut members: Vec<Vec<(u32, PodId)>> = vec![Vec::new(); views.len()];
        for (id, pod) in self.cluster.pods() {
            let live = matches!(
                pod.phase,
                PodPhase::Pending | PodPhase::Waiting | PodPhase::Bound | PodPhase::Running
            ) && !pod.terminating;
            let owner = pod.owner as usize;
            if live && matches!(views.get(owner), Some(Some(_))) {
                members[owner].push((pod.ordinal, id));
            }
        }
        views
            .into_iter()
            .zip(members)
            .filter_map(|(view, mut found)| {
                let mut view = view?;
                // Stable, so pods sharing an ordinal keep the arena's order.
                found.sort_by_key(|&(ordinal, _)| ordinal);
                view.pods = found.into_iter().map(|(_, id)| id).collect();
                Some(view)
            })
            .collect()
    }

    /// Events processed so far.
    pub fn events_processed(&self) -> u64 {
        self.processed
    }

    /// Pods waiting for a node now.
    pub fn pending_pods(&self) -> u64 {
        self.cluster.pending_pod_count()
    }

    /// Pods bound or running (and not terminating) now.
    pub fn running_pods(&self) -> u64 {
        self.cluster.bound_pod_count()
    }

    /// Pods created so far.
    pub fn submitted_pods(&self) -> u64 {
        self.bus.observers.pods.submitted()
    }

    /// Pods finished so far (succeeded, failed).
    pub fn finished_pods(&self) -> (u64, u64) {
        self.bus.observers.pods.finished()
    }

    /// Processes every event up to and including time `until`; returns false once the run
    /// is over.
    pub fn step_until(&mut self, until: SimTime) -> bool {
        while self.bus.timers.peek_time().is_some_and(|t| t <= until) {
            if !self.step() {
                return false;
            }
        }
        !self.done
    }

    /// Processes the next event and everything it causes at that instant; returns false
    /// once the run is over.
    pub fn step(&mut self) -> bool {
        if self.done || self.bus.stopped {
            self.done = true;
            return false;
        }
        if self.processed.is_multiple_of(CANCEL_CHECK_EVENTS)
            && self
                .cancel
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            self.cancelled = true;
            self.done = true;
            return false;
        }
        let Some(next) = self.bus.timers.peek_time() else {
            self.done = true;
            return false;
        };
        let over = match self.scenario.duration {
            Some(end) => next > end,
            None => !self.bus.timers.any_alive(),
        };
        if over {
            self.done = true;
            return false;
        }
        let Some((time, event)) = self.bus.timers.pop() else {
            self.done = true;
            return false;
        };
        self.now = time;
        self.processed += 1;
        self.bus.departed.clear();
        if let Event::Sample = event {
            self.sample();
            return true;
        }
        let mut ctx = Ctx::new(self.now, &mut self.cluster, self.scenario, &mut self.bus);
        self.controllers.dispatch(event, &mut ctx);
        if self.bus.stopped {
            self.bus.agenda.clear();
        } else {
            self.bus.agenda.open(0);
            self.drain();
        }
        true
    }

    /// A sampling tick: a row of the time series, and the next tick.
    fn sample(&mut self) {
        if self.bus.timers.cycle_queued() {
            // Pods created at this instant are bound by the cycle queued for it: take
            // the sample after that cycle, so a row never shows as pending a pod that
            // was bound at the same time.
            self.bus.timers.push(self.now, Event::Sample);
            return;
        }
        let view = View::of(&Fact::Sample, self.now, &self.cluster);
        self.bus.observers.observe(&Fact::Sample, &view);
        let next = self.now.saturating_add(self.scenario.sample_interval);
        if next > self.now {
            self.bus.timers.push(next, Event::Sample);
        }
    }

    /// Processes the work waiting at this instant, depth first.
    fn drain(&mut self) {
        while let Some(work) = self.bus.agenda.next() {
            self.run_work(work);
        }
    }

    /// Runs one piece of work; what it emits becomes the next frame of the agenda. A
    /// controller that stops the run drops everything still waiting.
    #[inline]
    fn run_work(&mut self, work: Work) {
        let mark = self.bus.agenda.mark();
        self.process(work);
        if self.bus.stopped {
            self.bus.agenda.clear();
        } else {
            self.bus.agenda.open(mark);
        }
    }

    /// Runs one piece of work: an event's handler, or a fact's observers and reacting
    /// controllers up to the first one that emits work (the fact goes on to the others
    /// once that work is done).
    fn process(&mut self, work: Work) {
        match work {
            Work::Fact(fact, next) => self.react(fact, next),
            Work::Event(event) => {
                let mut ctx = Ctx::new(self.now, &mut self.cluster, self.scenario, &mut self.bus);
                self.controllers.dispatch(event, &mut ctx);
            }
            Work::Timer(at, event) => self.bus.timers.push(at, event),
            Work::Taken => {}
        }
    }

    /// Lets the controllers that react to `fact` do so, from the `next`-th on, up to the
    /// first one that emits work (the fact goes on to the others once that work is
    /// done).
    #[inline]
    fn react(&mut self, fact: Fact, next: u8) {
        let reacting = subscribers(&fact);
        let mut ctx = Ctx::new(self.now, &mut self.cluster, self.scenario, &mut self.bus);
        for (i, &id) in reacting.iter().enumerate().skip(usize::from(next)) {
            if !ctx.routes().active(id) {
                continue;
            }
            let mark = ctx.emitted();
            self.controllers.react(id, &fact, &mut ctx);
            if ctx.emitted() > mark {
                if i + 1 < reacting.len() {
                    ctx.append(Work::Fact(fact, (i + 1) as u8));
                }
                return;
            }
        }
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
        match self.controllers.queue.take_failure() {
            Some(failure) => Err(failure),
            None => Ok(self.finish()),
        }
    }

    /// The scheduler's failure, if it stopped the run.
    pub fn failure(&self) -> Option<&SchedulerFailure> {
        self.controllers.queue.failure()
    }

    /// Closes the run now (after [`Simulation::step`] returned false, or early).
    pub fn finish(mut self) -> RunResult {
        let end = match self.scenario.duration {
            Some(end) if self.done && !self.cancelled => end,
            _ => self.now,
        };
        let run_end = RunEnd {
            end,
            cluster: &self.cluster,
            events: self.processed,
        };
        let mut summary = Summary::default();
        let o = &mut self.bus.observers;
        o.pods.finish(&run_end, &mut summary);
        o.allocation.finish(&run_end, &mut summary);
        o.autoscaling.finish(&run_end, &mut summary);
        o.fairness.finish(&run_end, &mut summary);
        o.disruptions.finish(&run_end, &mut summary);
        o.series.finish(&run_end, &mut summary);
        o.services.finish(&run_end, &mut summary);
        o.rollouts.finish(&run_end, &mut summary);
        o.queues.finish(&run_end, &mut summary);
        o.pressure.finish(&run_end, &mut summary);
        o.jobs.finish(&run_end, &mut summary);
        summary.push(&columns::EVENTS, Value::Count(self.processed));
        summary.push(&columns::SIM_END, Value::Time(end));
        for extra in &mut o.extra {
            extra.finish(&run_end, &mut summary);
        }
        summary.sort_by_order(&columns::ORDER);
        let queues = &self.bus.observers.queues;
        let mut services = std::mem::take(&mut self.bus.observers.services).into_rows();
        for row in &mut services {
            row.queue_delay_p50 = queues.percentile_of(row.workload, 50);
            row.queue_delay_p99 = queues.percentile_of(row.workload, 99);
        }
        RunResult {
            scenario: self.scenario.name.clone(),
            scheduler: self.controllers.queue.scheduler_name().to_string(),
            seed: self.seed,
            summary,
            samples: self.bus.observers.series.into_samples(),
            namespaces: self.bus.observers.fairness.into_rows(),
            trace: self
                .bus
                .observers
                .trace
                .map(TraceLog::into_records)
                .unwrap_or_default(),
            gpu_fill: self
                .bus
                .observers
                .gpu
                .map(GpuFill::into_points)
                .unwrap_or_default(),
            services,
            node_samples: self
                .bus
                .observers
                .nodes
                .map(NodeSeries::into_rows)
                .unwrap_or_default(),
        }
    }
}

/// Runs a scenario with one scheduler and one seed. A scheduler that fails (see
/// [`Scheduler::failure`]) ends the run early, as [`Simulation::run`] does; use
/// [`try_run`] to learn why.
pub fn run(scenario: &Scenario, scheduler: Box<dyn Scheduler>, seed: u64) -> RunResult {
    Simulation::new(scenario, scheduler, seed).run()
}

/// [`run`], with the scheduler's failure as an error.
pub fn try_run(
    scenario: &Scenario,
    scheduler: Box<dyn Scheduler>,
    seed: u64,
) -> Result<RunResult, SchedulerFailure> {
    Simulation::new(scenario, scheduler, seed).try_run()
}
