//! The controllers of a simulated cluster, each a component that owns its state and
//! handles its own closed set of events:
//!
//! - [`workloads`]: bare pods, Deployments (their ReplicaSets), batch arrivals and trace
//!   replays create pods; a Deployment replaces the pods it loses.
//! - [`scheduling`]: kube-scheduler's queue (active, backoff, unschedulable), the
//!   scheduling cycle that hands pending pods to the [`schedulers::Scheduler`], and the
//!   application of its decisions.
//! - [`kubelet`]: admission of pods that name their node, start, finish, eviction and
//!   graceful termination.
//! - [`volumes`]: the PersistentVolume binder's work for a pod just bound.
//! - [`gang`]: pod groups waiting to be admitted, and their timeouts.
//! - [`nodes`]: nodes joining, leaving and changing condition.
//!
//! Controllers never call one another. They change the [`schedulers::ClusterState`],
//! publish [`Fact`]s and set timers through [`Ctx`]; [`Controllers::react`] delivers each
//! fact to the controllers that react to it, in the order [`Routes`] fixes.

pub mod gang;
pub mod kubelet;
pub mod nodes;
pub mod scheduling;
pub mod volumes;
pub mod workloads;

use schedulers::{NodeId, PodId};

use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::scenario::{Scenario, WorkloadKind};
use crate::time::SimTime;

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
pub(crate) enum Id {
    Workloads,
    Queue,
    Kubelet,
    Volumes,
    Gang,
}

/// The controllers that may react to `fact`, in the order they react. The order is the
/// order in which a real control plane's reactions would be observed here: a pod's
/// group learns of it before it is queued or admitted; the PV binder binds claims before
/// the kubelet starts the pod; a lost pod's group may start waiting before its
/// replacement is created, and the replacement exists before the scheduler looks again.
fn subscribers(fact: &Fact) -> &'static [Id] {
    use Id::*;
    match fact {
        Fact::PodCreated { .. } => &[Gang, Kubelet, Queue],
        Fact::PodActivated { .. } => &[Gang],
        Fact::PodBound { .. } => &[Volumes, Gang, Kubelet],
        Fact::VolumesBound { .. } => &[Queue],
        Fact::PodRejected { .. } => &[Gang],
        Fact::MemberTimedOut { .. } => &[Queue],
        Fact::PodEvicted { .. } => &[Gang, Workloads],
        Fact::PodDeleted(_) => &[Gang, Workloads, Queue, Kubelet],
        Fact::NodeAdded { .. }
        | Fact::NodeRemoved { .. }
        | Fact::NodeReady { .. }
        | Fact::NodeCordoned { .. } => &[Queue],
        _ => &[],
    }
}

/// Number of [`Fact`] variants: the rows of the [`Routes`] table.
const FACT_KINDS: usize = 20;

/// A fact's row in the [`Routes`] table.
fn kind(fact: &Fact) -> usize {
    match fact {
        Fact::NodeAdded { .. } => 0,
        Fact::NodeRemoved { .. } => 1,
        Fact::NodeReady { .. } => 2,
        Fact::NodeCordoned { .. } => 3,
        Fact::PodCreated { .. } => 4,
        Fact::PodActivated { .. } => 5,
        Fact::CycleStarted { .. } => 6,
        Fact::PodBound { .. } => 7,
        Fact::BindRefused { .. } => 8,
        Fact::AttemptFailed { .. } => 9,
        Fact::GangTimedOut { .. } => 10,
        Fact::MemberTimedOut { .. } => 11,
        Fact::PodAbandoned { .. } => 12,
        Fact::PodRejected { .. } => 13,
        Fact::PodStarted { .. } => 14,
        Fact::PodFinished { .. } => 15,
        Fact::VolumesBound { .. } => 16,
        Fact::PodEvicted { .. } => 17,
        Fact::PodDeleted(_) => 18,
        Fact::Sample => 19,
    }
}

/// [`subscribers`] narrowed to the controllers that have anything to do in this run: no
/// gang waiting without pod groups, no volume binding without claims, no replacements
/// without Deployments. Delivering a fact to a controller that would ignore it costs a
/// call per pod, so the table is cut once, when the run starts.
#[derive(Debug, Clone)]
pub(crate) struct Routes {
    table: [Route; FACT_KINDS],
}

/// The controllers that react to one kind of fact, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Route {
    len: u8,
    ids: [Id; 4],
}

impl Route {
    /// The controllers, in order.
    #[inline]
    pub(crate) fn ids(&self) -> &[Id] {
        &self.ids[..usize::from(self.len)]
    }
}

impl Routes {
    /// The routes for a run of `scenario`.
    pub(crate) fn for_scenario(scenario: &Scenario) -> Routes {
        let gangs = !scenario.pod_groups.is_empty();
        let volumes = scenario
            .workloads
            .iter()
            .any(|w| !w.template.volume_claims.is_empty());
        let replacements = scenario
            .workloads
            .iter()
            .any(|w| matches!(w.kind, WorkloadKind::Deployment { .. }));
        let active = |id: Id| match id {
            Id::Gang => gangs,
            Id::Volumes => volumes,
            Id::Workloads => replacements,
            Id::Queue | Id::Kubelet => true,
        };
        let samples = [
            Fact::NodeAdded { node: NodeId(0) },
            Fact::NodeRemoved { node: NodeId(0) },
            Fact::NodeReady {
                node: NodeId(0),
                ready: true,
            },
            Fact::NodeCordoned {
                node: NodeId(0),
                unschedulable: true,
            },
            Fact::PodCreated {
                pod: PodId::default(),
                run_for: SimTime::ZERO,
            },
            Fact::PodActivated {
                pod: PodId::default(),
            },
            Fact::PodBound {
                pod: PodId::default(),
                node: NodeId(0),
            },
            Fact::VolumesBound {
                pod: PodId::default(),
            },
            Fact::MemberTimedOut {
                pod: PodId::default(),
                group: 0,
                bound: 0,
            },
            Fact::PodRejected {
                pod: PodId::default(),
            },
            Fact::PodEvicted {
                pod: PodId::default(),
                reason: crate::observe::EvictionReason::Preemption,
                run_for: SimTime::ZERO,
                graceful: true,
            },
            Fact::PodDeleted(crate::observe::DeletedPod {
                pod: PodId::default(),
                node: None,
                namespace: schedulers::NamespaceId(0),
                cpu: 0,
                memory: 0,
                owner: 0,
                group: None,
                was_terminating: false,
                run_for: SimTime::ZERO,
                replace: false,
            }),
        ];
        let mut table = [Route {
            len: 0,
            ids: [Id::Queue; 4],
        }; FACT_KINDS];
        for fact in &samples {
            let row = &mut table[kind(fact)];
            for &id in subscribers(fact).iter().filter(|&&id| active(id)) {
                row.ids[usize::from(row.len)] = id;
                row.len += 1;
            }
        }
        Routes { table }
    }

    /// The controllers that react to `fact` in this run, in order.
    #[inline]
    pub(crate) fn of(&self, fact: &Fact) -> &[Id] {
        self.table[kind(fact)].ids()
    }

    /// [`Routes::of`], as a copy.
    #[inline]
    pub(crate) fn row(&self, fact: &Fact) -> Route {
        self.table[kind(fact)]
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
            Id::Kubelet => self.kubelet.react(fact, ctx),
            Id::Volumes => self.volumes.react(fact, ctx),
            Id::Gang => self.gang.react(fact, ctx),
        }
    }
}
