//! The controllers of a simulated cluster, each a component that owns its state and
//! handles its own closed set of events:
//!
//! - [`admission`]: the API server's admission of every pod a controller creates
//!   (LimitRanges, ResourceQuotas), and the back-off of controllers whose creation it
//!   refused.
//! - [`workloads`]: bare pods, Deployments (their ReplicaSets), batch arrivals and trace
//!   replays create pods; a Deployment replaces the pods it loses, and rolls out new
//!   templates by the arithmetic of [`rollout`].
//! - [`scheduling`]: kube-scheduler's queue (active, backoff, unschedulable), the
//!   scheduling cycle that hands pending pods to the [`schedulers::Scheduler`], and the
//!   application of its decisions.
//! - [`kubelet`]: admission of pods that name their node, image pulls ([`image_pulls`]),
//!   start, finish, eviction and graceful termination.
//! - [`volumes`]: the PersistentVolume binder's work for a pod just bound.
//! - [`gang`]: pod groups waiting to be admitted, and their timeouts.
//! - [`nodes`]: nodes joining, leaving and changing condition.
//! - [`failures`]: node crashes and repairs (scripted or drawn), the node lifecycle
//!   controller's NotReady marking and unreachable taint, zone outages, spot reclaims and
//!   drains (only in scenarios with `failures:`).
//! - [`taint_eviction`]: the taint eviction controller: pods on NoExecute-tainted nodes
//!   evicted once their tolerations run out (only in scenarios with `failures:`).
//! - [`autoscaler`]: the cluster autoscaler, growing and shrinking node groups.
//! - [`services`]: Services' endpoints (ready pods), readiness delays, and the metrics
//!   server's usage samples.
//! - [`hpa`]: HorizontalPodAutoscalers, which set their Deployments' replicas.
//! - [`statefulsets`]: StatefulSets, one pod per ordinal with its own claims, created in
//!   order and recreated with the same identity.
//! - [`daemonsets`]: DaemonSets, one pod pinned to every node that should run it, on
//!   nodes present at the start and joining later, recreated while the node qualifies.
//! - [`workqueue`]: work queues in front of Services, filled by their load and drained
//!   by their ready pods.
//! - [`keda`]: KEDA ScaledObjects, which scale a Deployment on its queue's length, to
//!   zero and back.
//! - [`cron_jobs`]: CronJobs, which create their Jobs at the times their schedules name
//!   (only in scenarios with CronJob manifests).
//! - [`jobs`]: the job controller, which runs Jobs' pods to completion (only in
//!   scenarios with `job:` workloads).
//! - [`node_pressure`]: the kubelets' eviction managers (node-pressure eviction), OOM
//!   kills and CrashLoopBackOff restarts (only in scenarios with `nodePressure:`).
//!
//! Controllers never call one another. They change the [`schedulers::ClusterState`],
//! publish [`Fact`]s and set timers through [`Ctx`]; [`Controllers::react`] delivers each
//! fact to the controllers that react to it, in the order [`Routes`] fixes.

pub mod admission;
pub mod autoscaler;
pub mod cron_jobs;
pub mod daemonsets;
pub mod failures;
pub mod gang;
pub mod hpa;
pub mod image_pulls;
pub mod jobs;
pub mod keda;
pub mod kubelet;
pub mod node_pressure;
pub mod nodes;
pub mod rollout;
pub mod scheduling;
pub mod services;
pub mod statefulsets;
pub mod taint_eviction;
pub mod volumes;
pub mod workloads;
pub mod workqueue;

use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::scenario::{Scenario, WorkloadKind};

/// A controller of the simulated cluster.
pub(crate) trait Controller {
    /// The events it handles.
    type Event;

    /// Handles one of its events.
    fn on(&mut self, event: Self::Event, ctx: &mut Ctx<'_>);

    /// Reacts to a fact routed to it (see [`Routes`]).
    fn react(&mut self, _fact: &Fact, _ctx: &mut Ctx<'_>) {}
}

/// Names a controller in the fact routing table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Id {
    Workloads,
    Queue,
    Kubelet,
    /// The kubelet's admission of pods that name their node.
    Admission,
    Volumes,
    Gang,
    /// Node failures, drains and spot reclaims.
    Failures,
    /// The taint eviction controller.
    TaintEviction,
    /// The cluster autoscaler, which learns of unschedulable pods.
    Autoscaler,
    Services,
    /// The StatefulSet controller.
    StatefulSets,
    /// Work queues, which learn their ready pods.
    WorkQueue,
    /// KEDA ScaledObjects, which learn their queues' lengths.
    Keda,
    /// The job controller.
    Jobs,
    /// The kubelets' eviction managers and container restarts.
    NodePressure,
    /// The DaemonSet controller.
    DaemonSets,
    /// The CronJob controller, which learns when its Jobs finish.
    CronJobs,
}

/// The controllers that may react to `fact`, in the order they react. The order is the
/// order in which a real control plane's reactions would be observed here: a pod's
/// group learns of it before it is queued or admitted; the PV binder binds claims before
/// the kubelet starts the pod; a lost pod's group may start waiting before its
/// replacement is created, and the replacement exists before the scheduler looks again.
/// A deleted pod leaves its Service's endpoints (and the pod status store) before its
/// ReplicaSet replaces it: the replacement may reuse the deleted pod's slot in the
/// cluster's arena, and a store keyed by pod would then see the new pod before the old
/// one's deletion.
#[inline(always)]
pub(crate) fn subscribers(fact: &Fact) -> &'static [Id] {
    use Id::*;
    match fact {
        Fact::PodCreated { .. } => &[Services, Gang, Admission, Queue],
        Fact::PodActivated { .. } => &[Gang],
        Fact::PodBound { .. } => &[Volumes, Gang, Kubelet, TaintEviction],
        Fact::VolumesBound { .. } => &[Queue],
        Fact::PodRejected { .. } => &[Gang],
        Fact::PodWaiting { .. } => &[],
        Fact::PermitRejected { .. } => &[Gang, Queue],
        Fact::MemberTimedOut { .. } => &[Queue],
        Fact::AttemptFailed { .. } => &[Autoscaler],
        Fact::PodStarted { .. } => &[Services, StatefulSets, NodePressure, Workloads],
        Fact::PodEvicted { .. } => &[Gang, Workloads, Services, Jobs, DaemonSets],
        Fact::PodDeleted { .. } => &[
            Gang,
            Services,
            Workloads,
            Queue,
            Autoscaler,
            StatefulSets,
            Jobs,
            DaemonSets,
        ],
        Fact::Scaled { .. } => &[Workloads, StatefulSets],
        Fact::PodReady { .. } => &[Workloads],
        // A new node's daemon pods exist before the queue looks at the pods it may take.
        Fact::NodeAdded { .. } => &[Failures, DaemonSets, Queue],
        Fact::NodeTaintsChanged { .. } => &[TaintEviction, DaemonSets, Queue],
        Fact::NodeRemoved { .. } => &[DaemonSets, Queue],
        Fact::NodeFailed { .. } | Fact::NodeRecovered { .. } => &[Kubelet],
        Fact::NodeReady { .. } | Fact::NodeCordoned { .. } | Fact::NodeResized { .. } => &[Queue],
        Fact::EndpointsChanged { .. } => &[WorkQueue],
        Fact::QueueLength { .. } => &[Keda],
        Fact::KedaScaled { .. } => &[Workloads],
        Fact::PodFailed {
            restarting: true, ..
        } => &[Jobs],
        Fact::JobCompleted { .. } | Fact::JobFailed { .. } => &[CronJobs],
        Fact::PodOomKilled { .. } | Fact::ContainerRestarted { .. } => &[Services],
        _ => &[],
    }
}

/// Which controllers have anything to do in this run: no gang waiting without pod
/// groups, no volume binding without claims, no replacements without Deployments.
/// Delivering a fact to a controller that would ignore it costs a call per pod, so the
/// others are left out when the run starts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Routes {
    /// One bit per [`Id`].
    active: u32,
}

impl Routes {
    /// The routes for a run of `scenario`.
    pub(crate) fn for_scenario(scenario: &Scenario) -> Routes {
        let gangs = !scenario.pod_groups.is_empty();
        let stateful = scenario
            .workloads
            .iter()
            .any(|w| matches!(w.kind, WorkloadKind::StatefulSet { .. }));
        let volumes = scenario.workloads.iter().any(|w| {
            !w.template.volume_claims.is_empty()
                || matches!(&w.kind, WorkloadKind::StatefulSet { claim_templates, .. } if !claim_templates.is_empty())
        });
        // Deployments replace their pods; a streamed Google replay learns when its pods
        // start.
        let replacements = scenario.workloads.iter().any(|w| match &w.kind {
            WorkloadKind::Deployment { .. } => true,
            WorkloadKind::Trace(replay) => replay.reads_ahead(),
            _ => false,
        });
        let named = scenario
            .workloads
            .iter()
            .any(|w| w.template.node_name.is_some() || !w.adopted.is_empty());
        let dynamics = scenario.workloads.iter().any(|w| w.dynamics.is_some());
        let queues = scenario.workloads.iter().any(|w| {
            w.dynamics
                .as_ref()
                .and_then(|d| d.service.as_ref())
                .is_some_and(|s| s.queue.is_some())
        });
        let keda = scenario
            .workloads
            .iter()
            .any(|w| w.dynamics.as_ref().is_some_and(|d| d.keda.is_some()));
        let jobs = scenario
            .workloads
            .iter()
            .any(|w| matches!(w.kind, WorkloadKind::Job { .. }));
        let daemons = scenario
            .workloads
            .iter()
            .any(|w| matches!(w.kind, WorkloadKind::DaemonSet { .. }));
        let mut active = (1 << Id::Queue as u32) | (1 << Id::Kubelet as u32);
        for (id, on) in [
            (Id::Services, dynamics),
            (Id::Gang, gangs),
            (Id::Volumes, volumes),
            (Id::Workloads, replacements),
            (Id::Admission, named),
            (Id::Failures, scenario.failures.is_some()),
            (Id::TaintEviction, scenario.failures.is_some()),
            (Id::Autoscaler, scenario.autoscaler.is_some()),
            (Id::StatefulSets, stateful),
            (Id::WorkQueue, queues),
            (Id::Keda, keda),
            (Id::Jobs, jobs),
            (Id::NodePressure, scenario.node_pressure.is_some()),
            (Id::DaemonSets, daemons),
            (Id::CronJobs, !scenario.cron_jobs.is_empty()),
        ] {
            active |= u32::from(on) << id as u32;
        }
        Routes { active }
    }

    /// True when `id` reacts to facts in this run.
    #[inline(always)]
    pub(crate) fn active(&self, id: Id) -> bool {
        self.active & (1 << id as u32) != 0
    }

    /// True when some controller reacts to `fact` in this run.
    #[inline(always)]
    pub(crate) fn reacts(&self, fact: &Fact) -> bool {
        subscribers(fact).iter().any(|&id| self.active(id))
    }
}

/// Every controller of a run.
pub(crate) struct Controllers {
    pub workloads: workloads::Workloads,
    pub queue: scheduling::SchedulingQueue,
    pub kubelet: kubelet::Kubelet,
    pub volumes: volumes::VolumeBinder,
    pub gang: gang::Gangs,
    pub nodes: nodes::NodeLifecycle,
    pub failures: failures::NodeFailures,
    pub taints: taint_eviction::TaintEviction,
    /// Present only when the scenario autoscales a pool.
    pub autoscaler: Option<autoscaler::Autoscaler>,
    pub services: services::Services,
    pub hpa: hpa::Autoscalers,
    pub statefulsets: statefulsets::StatefulSets,
    pub workqueues: workqueue::WorkQueues,
    pub keda: keda::ScaledObjects,
    pub jobs: jobs::Jobs,
    pub daemonsets: daemonsets::DaemonSets,
    pub cron_jobs: cron_jobs::CronJobs,
    /// Present only when the scenario has `nodePressure:`.
    pub pressure: Option<node_pressure::NodePressure>,
}

impl Controllers {
    /// Hands an event to the controller that owns it.
    #[inline]
    pub(crate) fn dispatch(&mut self, event: Event, ctx: &mut Ctx<'_>) {
        match event {
            Event::Workloads(e) => self.workloads.on(e, ctx),
            Event::Queue(e) => self.queue.on(e, ctx),
            Event::Kubelet(e) => self.kubelet.on(e, ctx),
            Event::Gang(e) => self.gang.on(e, ctx),
            Event::Nodes(e) => self.nodes.on(e, ctx),
            Event::Failures(e) => self.failures.on(e, ctx),
            Event::Taint(e) => self.taints.on(e, ctx),
            Event::Autoscaler(e) => {
                if let Some(a) = &mut self.autoscaler {
                    a.on(e, ctx);
                }
            }
            Event::Services(e) => self.services.on(e, ctx),
            Event::Hpa(e) => self.hpa.on(e, ctx),
            Event::StatefulSets(e) => self.statefulsets.on(e, ctx),
            Event::WorkQueue(e) => self.workqueues.on(e, ctx),
            Event::Keda(e) => self.keda.on(e, ctx),
            Event::Jobs(e) => self.jobs.on(e, ctx),
            Event::DaemonSets(e) => self.daemonsets.on(e, ctx),
            Event::CronJobs(e) => self.cron_jobs.on(e, ctx),
            Event::Pressure(e) => {
                if let Some(p) = &mut self.pressure {
                    p.on(e, ctx);
                }
            }
            // Sampling ticks are the engine's own.
            Event::Sample => {}
        }
    }

    /// Lets one controller react to a fact.
    #[inline]
    pub(crate) fn react(&mut self, id: Id, fact: &Fact, ctx: &mut Ctx<'_>) {
        match id {
            Id::Workloads => self.workloads.react(fact, ctx),
            Id::Queue => self.queue.react(fact, ctx),
            Id::Kubelet | Id::Admission => self.kubelet.react(fact, ctx),
            Id::Volumes => self.volumes.react(fact, ctx),
            Id::Gang => self.gang.react(fact, ctx),
            Id::Failures => self.failures.react(fact, ctx),
            Id::TaintEviction => self.taints.react(fact, ctx),
            Id::Autoscaler => {
                if let Some(a) = &mut self.autoscaler {
                    a.react(fact, ctx);
                }
            }
            Id::Services => self.services.react(fact, ctx),
            Id::StatefulSets => self.statefulsets.react(fact, ctx),
            Id::WorkQueue => self.workqueues.react(fact, ctx),
            Id::Keda => self.keda.react(fact, ctx),
            Id::Jobs => self.jobs.react(fact, ctx),
            Id::DaemonSets => self.daemonsets.react(fact, ctx),
            Id::CronJobs => self.cron_jobs.react(fact, ctx),
            Id::NodePressure => {
                if let Some(p) = &mut self.pressure {
                    p.react(fact, ctx);
                }
            }
        }
    }
}
