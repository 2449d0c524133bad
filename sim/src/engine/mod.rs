//! The engine: simulated time, the future event queue, and the dispatcher that hands each
//! event to the controller that owns it and each fact to the observers and the
//! controllers that react to it.
//!
//! # Event flow
//!
//! A timed [`Event`] comes out of the [`EventQueue`] in (time, sequence) order and goes to
//! its controller. A controller's handler changes the cluster and its own state, and may
//! set timers ([`Ctx::at`]), publish facts ([`Ctx::publish`]) and ask for follow-up work
//! at the same instant ([`Ctx::then`]). Observers see a fact the moment it is published,
//! with the cluster as the change left it. The reactions of controllers, and follow-up
//! work, are processed after the handler returns, in the order they were emitted, depth
//! first: each reacting controller in a fixed order, and whatever one of them emits
//! processed completely before the next one reacts. That is the order of nested calls,
//! so a controller never sees a half-applied change of another, yet no controller calls
//! another: controllers communicate only through events, facts and the
//! [`ClusterState`]. A handler publishes at most one fact whose reactions publish facts
//! in turn, as its last fact, so observers see facts in the order nested calls would
//! have made them.
//!
//! Follow-up work at the same instant is not an event of the queue: it is not counted in
//! [`crate::Simulation::events_processed`] and costs no heap operation.
//!
//! # The end of a run
//!
//! The engine, not the controllers, decides when a run is over: at the scenario's horizon
//! (`duration:`), or when every event still queued is one that cannot change the cluster
//! by itself ([`Event::keeps_run_alive`] is false: sampling ticks, the timers of pods
//! that wait for a change). Each event kind declares this once.

pub mod queue;
pub mod status;

use schedulers::{ClusterState, Pod, PodId};

use crate::controllers::Routes;
use crate::controllers::autoscaler::AutoscalerEvent;
use crate::controllers::cron_jobs::CronJobEvent;
use crate::controllers::daemonsets::DaemonSetEvent;
use crate::controllers::failures::FailureEvent;
use crate::controllers::gang::GangEvent;
use crate::controllers::hpa::HpaEvent;
use crate::controllers::jobs::JobEvent;
use crate::controllers::keda::KedaEvent;
use crate::controllers::kubelet::KubeletEvent;
use crate::controllers::node_pressure::PressureEvent;
use crate::controllers::nodes::NodeEvent;
use crate::controllers::scheduling::QueueEvent;
use crate::controllers::services::ServiceEvent;
use crate::controllers::statefulsets::StatefulSetEvent;
use crate::controllers::taint_eviction::TaintEvent;
use crate::controllers::workloads::WorkloadEvent;
use crate::controllers::workqueue::WorkQueueEvent;
use crate::observe::{Fact, Observers, View};
use crate::scenario::Scenario;
use crate::time::SimTime;
pub use queue::EventQueue;
pub use status::PodStatuses;

/// Every event of a run, by the controller that handles it; each controller's events
/// are a closed set of its own. Small and `Copy`, so queueing one never allocates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// For the workload controllers (pods, Deployments, batch arrivals, trace replays).
    Workloads(WorkloadEvent),
    /// For the scheduling queue (cycles, backoffs).
    Queue(QueueEvent),
    /// For the kubelet (pod start, finish, termination, eviction).
    Kubelet(KubeletEvent),
    /// For gang waiting (pod-group timeouts).
    Gang(GangEvent),
    /// For node lifecycle (nodes joining, leaving, changing condition).
    Nodes(NodeEvent),
    /// For the cluster autoscaler (scans, nodes joining after their provisioning delay).
    Autoscaler(AutoscalerEvent),
    /// Time to record a row of the time series.
    Sample,
    /// For node failures, drains and spot reclaims.
    Failures(FailureEvent),
    /// For the taint eviction controller (NoExecute timers).
    Taint(TaintEvent),
    /// For Services (readiness, load, usage scrapes).
    Services(ServiceEvent),
    /// For HorizontalPodAutoscalers (their syncs).
    Hpa(HpaEvent),
    /// For StatefulSets (their syncs).
    StatefulSets(StatefulSetEvent),
    /// For work queues (their steps).
    WorkQueue(WorkQueueEvent),
    /// For KEDA ScaledObjects (polls and their HPAs' syncs).
    Keda(KedaEvent),
    /// For the kubelets' eviction managers and container restarts (housekeeping, OOM
    /// kills, CrashLoopBackOff).
    Pressure(PressureEvent),
    /// For the job controller (Job starts, back-offs, deadlines).
    Jobs(JobEvent),
    /// For DaemonSets (their syncs).
    DaemonSets(DaemonSetEvent),
    /// For CronJobs (their scheduled times).
    CronJobs(CronJobEvent),
}

impl Event {
    /// True when the event can change the cluster by itself, so a run without a horizon
    /// goes on while one is queued. Sampling ticks and the timers of pods that wait for
    /// something else to change (an unschedulable pod's periodic retry, a pod group's
    /// timeout, a controller's retry of a refused creation) do not keep a run alive.
    pub fn keeps_run_alive(&self) -> bool {
        match self {
            Event::Kubelet(_) | Event::Nodes(_) | Event::Taint(_) | Event::CronJobs(_) => true,
            // Except their retries after a refused creation.
            Event::DaemonSets(e) => e.keeps_run_alive(),
            Event::Workloads(e) => e.keeps_run_alive(),
            Event::StatefulSets(e) => e.keeps_run_alive(),
            Event::Jobs(e) => e.keeps_run_alive(),
            Event::Failures(e) => e.keeps_run_alive(),
            Event::Queue(e) => e.keeps_run_alive(),
            Event::Autoscaler(e) => e.keeps_run_alive(),
            Event::Services(e) => e.keeps_run_alive(),
            Event::Gang(_) | Event::Sample | Event::Hpa(_) => false,
            // Recurring clocks: a run with a queue needs a horizon.
            Event::WorkQueue(_) | Event::Keda(_) => false,
            // A crash loop or a pass of the eviction manager recurs for ever.
            Event::Pressure(_) => false,
        }
    }

    /// True for the scheduling cycle: the cluster is not settled at an instant while one
    /// is queued, so a sampling tick waits for it.
    fn unsettles_instant(&self) -> bool {
        matches!(self, Event::Queue(QueueEvent::Schedule))
    }
}

/// The queue of timed events, with the counts the end of a run and sampling depend on.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    queue: EventQueue<Event>,
    /// Queued events that keep the run alive.
    alive: u64,
    /// Queued scheduling cycles.
    unsettled: u64,
}

impl Timers {
    pub(crate) fn with_capacity(capacity: usize) -> Timers {
        Timers {
            queue: EventQueue::with_capacity(capacity),
            alive: 0,
            unsettled: 0,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, at: SimTime, event: Event) {
        self.alive += u64::from(event.keeps_run_alive());
        self.unsettled += u64::from(event.unsettles_instant());
        self.queue.push(at, event);
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<(SimTime, Event)> {
        let (at, event) = self.queue.pop()?;
        self.alive -= u64::from(event.keeps_run_alive());
        self.unsettled -= u64::from(event.unsettles_instant());
        Some((at, event))
    }

    #[inline]
    pub(crate) fn peek_time(&mut self) -> Option<SimTime> {
        self.queue.peek_time()
    }

    /// True while an event that can change the cluster is queued.
    #[inline]
    pub(crate) fn any_alive(&self) -> bool {
        self.alive > 0
    }

    /// True while a scheduling cycle is queued.
    #[inline]
    pub(crate) fn cycle_queued(&self) -> bool {
        self.unsettled > 0
    }
}

/// Work waiting at the current instant: an event for a controller, or a fact on its way
/// to the controllers that react to it, from the `next`-th one on (observers saw it when
/// it was published).
#[derive(Debug)]
pub(crate) enum Work {
    /// A follow-up event.
    Event(Event),
    /// A fact, with the index of the next reacting controller.
    Fact(Fact, u8),
    /// A timer to set once the work emitted before it is done.
    Timer(SimTime, Event),
    /// A slot whose work was taken out to be processed.
    Taken,
}

/// The work waiting at the current instant, processed depth first: what a piece of work
/// emits is a frame of its own, processed to the end (with whatever its items emit)
/// before the next item of the enclosing frame. Frames are ranges of one vector, so
/// nothing is copied or reversed and nothing allocates once the vector has grown.
#[derive(Debug, Default)]
pub(crate) struct Agenda {
    items: Vec<Work>,
    /// (next item, end) of each open frame, innermost last.
    frames: Vec<(usize, usize)>,
}

impl Agenda {
    /// Where the next piece of work's output will start.
    #[inline]
    pub(crate) fn mark(&self) -> usize {
        self.items.len()
    }

    /// Opens a frame of what was emitted since `mark`, if anything.
    #[inline]
    pub(crate) fn open(&mut self, mark: usize) {
        if self.items.len() > mark {
            self.frames.push((mark, self.items.len()));
        }
    }

    /// Takes the next piece of work, closing the frames it exhausts.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<Work> {
        loop {
            let frame = self.frames.last_mut()?;
            if frame.0 < frame.1 {
                let item = std::mem::replace(&mut self.items[frame.0], Work::Taken);
                frame.0 += 1;
                return Some(item);
            }
            let end = frame.1;
            self.frames.pop();
            // The frame's items are all taken: it was the last thing on the vector.
            debug_assert_eq!(end, self.items.len());
            let start = self.frames.last().map_or(0, |f| f.1);
            self.items.truncate(start.min(end));
        }
    }

    /// Appends work (a handler's output, or a fact's continuation).
    #[inline]
    pub(crate) fn push(&mut self, work: Work) {
        self.items.push(work);
    }

    /// Drops everything waiting (the run stopped).
    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.frames.clear();
    }
}

/// The engine's own state besides the cluster: timers, observers, routes, the agenda of
/// the current instant, and whether a controller stopped the run.
pub(crate) struct Bus {
    pub timers: Timers,
    pub observers: Observers,
    pub routes: Routes,
    pub agenda: Agenda,
    /// Pod status and metrics beyond the cluster (readiness, usage).
    pub status: PodStatuses,
    pub stopped: bool,
    /// Pods that left the cluster at this instant, as they were: what observers and
    /// controllers read of a [`Fact::PodDeleted`]. Emptied at every event.
    pub departed: Vec<(PodId, Pod)>,
}

impl Bus {
    /// Hands `fact` to every observer; true when some controller reacts to it in this
    /// run. One branch on the kind of fact: in each arm the kind is known, so the pod
    /// look-up, the observers' own matches and the routing fold into straight code, and
    /// a fact costs one indirect jump rather than one per observer.
    #[inline(never)]
    pub(crate) fn observe(&mut self, fact: &Fact, now: SimTime, cluster: &ClusterState) -> bool {
        macro_rules! arm {
            () => {{
                let mut view = View::of(fact, now, cluster);
                if let Fact::PodDeleted { pod, .. } = fact {
                    view.pod = departed(&self.departed, *pod);
                }
                self.observers.observe(fact, &view);
                self.routes.reacts(fact)
            }};
        }
        for_each_fact!(fact, arm)
    }
}

/// The departed pod `pod`, if it left at this instant.
#[inline]
fn departed(departed: &[(PodId, Pod)], pod: PodId) -> Option<&Pod> {
    departed
        .iter()
        .rev()
        .find(|(id, _)| *id == pod)
        .map(|(_, p)| p)
}

/// Expands `$arm!()` in one match arm per kind of [`Fact`], so that code inlined into an
/// arm sees which kind it handles.
macro_rules! for_each_fact {
    ($fact:expr, $arm:ident) => {
        match $fact {
            Fact::NodeAdded { .. } => $arm!(),
            Fact::NodeRemoved { .. } => $arm!(),
            Fact::NodeReady { .. } => $arm!(),
            Fact::NodeCordoned { .. } => $arm!(),
            Fact::NodeResized { .. } => $arm!(),
            Fact::PodCreated { .. } => $arm!(),
            Fact::PodActivated { .. } => $arm!(),
            Fact::CycleStarted { .. } => $arm!(),
            Fact::PodBound { .. } => $arm!(),
            Fact::PodWaiting { .. } => $arm!(),
            Fact::PermitRejected { .. } => $arm!(),
            Fact::BindRefused { .. } => $arm!(),
            Fact::AttemptFailed { .. } => $arm!(),
            Fact::GangTimedOut { .. } => $arm!(),
            Fact::MemberTimedOut { .. } => $arm!(),
            Fact::PodAbandoned { .. } => $arm!(),
            Fact::PodRejected { .. } => $arm!(),
            Fact::PodStarted { .. } => $arm!(),
            Fact::PodFinished { .. } => $arm!(),
            Fact::TraceLateEnd { .. } => $arm!(),
            Fact::VolumesBound { .. } => $arm!(),
            Fact::PodEvicted { .. } => $arm!(),
            Fact::PodDeleted { .. } => $arm!(),
            Fact::Sample => $arm!(),
            Fact::NodeFailed { .. } => $arm!(),
            Fact::NodeRecovered { .. } => $arm!(),
            Fact::NodeTaintsChanged { .. } => $arm!(),
            Fact::ScaleUp(_) => $arm!(),
            Fact::ScaleDown { .. } => $arm!(),
            Fact::NodeProvisionFailed { .. } => $arm!(),
            Fact::PodReady { .. } => $arm!(),
            Fact::EndpointsChanged { .. } => $arm!(),
            Fact::Scaled { .. } => $arm!(),
            Fact::RolloutStarted { .. } => $arm!(),
            Fact::RolloutFinished { .. } => $arm!(),
            Fact::CreateRefused { .. } => $arm!(),
            Fact::QueueLength { .. } => $arm!(),
            Fact::QueueServed { .. } => $arm!(),
            Fact::QueueDropped { .. } => $arm!(),
            Fact::KedaScaled { .. } => $arm!(),
            Fact::PodOomKilled { .. } => $arm!(),
            Fact::ContainerRestarted { .. } => $arm!(),
            Fact::NodeMemoryPressure { .. } => $arm!(),
            Fact::PodFailed { .. } => $arm!(),
            Fact::JobCreated { .. } => $arm!(),
            Fact::JobCompleted { .. } => $arm!(),
            Fact::JobFailed { .. } => $arm!(),
        }
    };
}
pub(crate) use for_each_fact;

/// What a controller's handler may touch: the clock, the cluster, the scenario, and the
/// engine's timers, observers and agenda of follow-up work.
pub(crate) struct Ctx<'a> {
    /// Simulated time now.
    pub now: SimTime,
    /// The cluster, shared by every controller.
    pub cluster: &'a mut ClusterState,
    /// The scenario being played.
    pub scenario: &'a Scenario,
    bus: &'a mut Bus,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        now: SimTime,
        cluster: &'a mut ClusterState,
        scenario: &'a Scenario,
        bus: &'a mut Bus,
    ) -> Ctx<'a> {
        Ctx {
            now,
            cluster,
            scenario,
            bus,
        }
    }

    /// Sets a timer: `event` happens at `at`.
    #[inline]
    pub fn at(&mut self, at: SimTime, event: Event) {
        self.bus.timers.push(at, event);
    }

    /// Publishes a fact: observers record it now; the controllers that react to it do so
    /// once this handler has returned.
    #[inline]
    pub fn publish(&mut self, fact: Fact) {
        if self.bus.observe(&fact, self.now, self.cluster) {
            self.bus.agenda.push(Work::Fact(fact, 0));
        }
    }

    /// Sets a timer once what this handler published before has been processed, so that
    /// it falls after any timer those reactions set for the same time (a handler whose
    /// timer could coincide with its reactions' keeps the order of nested calls).
    #[inline]
    pub fn at_after(&mut self, at: SimTime, event: Event) {
        self.bus.agenda.push(Work::Timer(at, event));
    }

    /// Asks for `event` at this same instant, once this handler has returned and what it
    /// published before has been processed.
    #[inline]
    pub fn then(&mut self, event: Event) {
        self.bus.agenda.push(Work::Event(event));
    }

    /// Takes a pod out of the cluster and publishes its departure; the pod stays readable
    /// ([`Ctx::departed`]) until the next event.
    pub fn remove_pod(&mut self, pod: PodId, replace: bool) {
        if let Some(p) = self.cluster.remove_pod(pod) {
            self.bus.departed.push((pod, p));
            self.publish(Fact::PodDeleted { pod, replace });
        }
    }

    /// A pod that left the cluster at this instant, as it was.
    #[inline]
    pub fn departed(&self, pod: PodId) -> Option<&Pod> {
        departed(&self.bus.departed, pod)
    }

    /// Pod status and metrics beyond the cluster.
    #[inline]
    pub fn status(&self) -> &PodStatuses {
        &self.bus.status
    }

    /// Pod status and metrics, to change them (the Services controller).
    #[inline]
    pub fn status_mut(&mut self) -> &mut PodStatuses {
        &mut self.bus.status
    }

    /// Which controllers react to facts in this run.
    #[inline(always)]
    pub(crate) fn routes(&self) -> Routes {
        self.bus.routes
    }

    /// How much work has been emitted so far (to tell whether a call emitted any).
    #[inline]
    pub(crate) fn emitted(&self) -> usize {
        self.bus.agenda.mark()
    }

    /// Appends work after what the handler emitted (a fact's continuation).
    #[inline]
    pub(crate) fn append(&mut self, work: Work) {
        self.bus.agenda.push(work);
    }

    /// True while a scheduling cycle is queued.
    #[inline]
    pub fn cycle_queued(&self) -> bool {
        self.bus.timers.cycle_queued()
    }

    /// Ends the run after this handler (the explained attempt was reached, or the
    /// scheduler failed); work not yet processed is dropped.
    pub fn stop(&mut self) {
        self.bus.stopped = true;
    }
}
