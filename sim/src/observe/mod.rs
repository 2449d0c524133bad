//! What a run publishes, and who listens.
//!
//! Controllers change the cluster and publish a typed [`Fact`] for every change: a pod
//! created, bound, started, finished, evicted; a node added or removed; a scheduling
//! cycle. The engine hands each fact to every [`Observer`] first, then to the controllers
//! that react to it. Observers measure and record; they never change the simulation, so
//! a run with more observers (a trace, a chart's series, a user's own) makes exactly the
//! same decisions. Metrics, `timeseries.csv`, `trace.csv`, `namespaces.csv` and the GPU
//! allocation curve are the built-in observers; each declares the summary columns it
//! fills ([`summary::Column`]).
//!
//! Reasons stay data ([`schedulers::Diagnosis`] is codes and counts) until an observer
//! that writes text, the trace, renders them.

pub mod allocation;
pub mod autoscaling;
pub mod disruptions;
pub mod fairness;
pub mod gpu_fill;
pub mod jobs;
pub mod node_series;
pub mod pods;
pub mod pressure;
pub mod queues;
pub mod rollouts;
pub mod services;
pub mod summary;
pub mod timeseries;
pub mod trace;

use schedulers::{ClusterState, Diagnosis, NodeId, PodId};

use crate::time::SimTime;
pub use summary::{Column, Metric, Summary, Unit, Value};

/// Every built-in summary column, and the order `summary.csv` lists them in (columns of
/// added observers follow, in the order the observers were added).
pub mod columns {
    pub use super::allocation::{
        CPU_ALLOC_MEAN, CPU_ALLOC_PEAK, MEM_ALLOC_MEAN, MEM_ALLOC_PEAK, NODES_MAX,
        PODS_PER_NODE_MAX, PODS_PER_NODE_MEAN,
    };
    pub use super::autoscaling::{
        CA_NODES_ADDED, CA_NODES_REMOVED, CA_SCALE_DOWNS, CA_SCALE_UPS, NODE_COST, NODE_HOURS,
    };
    pub use super::disruptions::{
        EVICTIONS_DRAIN, EVICTIONS_NODE_REMOVED, EVICTIONS_NODE_RESIZED, EVICTIONS_TAINT,
        NODE_DOWN, NODE_FAILURES, PODS_LOST, RECOVERY_MAX, RECOVERY_MEAN,
    };
    pub use super::fairness::JAIN_INDEX;
    pub use super::jobs::{JOB_DURATION_MEAN, JOBS_COMPLETED, JOBS_FAILED};
    pub use super::pods::{
        ADMISSION_REJECTIONS, GANG_TIMEOUTS, LATENCY_MAX, LATENCY_P50, LATENCY_P95, LATENCY_P99,
        MAKESPAN, MEAN_COMPLETION, PODS_COMPLETED, PODS_FAILED, PODS_PENDING_AT_END,
        PODS_RUNNING_AT_END, PODS_SCHEDULED, PODS_SUBMITTED, PREEMPTIONS, REFUSED_BINDS,
        SCHEDULING_ATTEMPTS, TRACE_LATE_ENDS, UNSCHEDULABLE_ATTEMPTS,
    };
    pub use super::pressure::{EVICTIONS_NODE_PRESSURE, OOM_KILLS, RESTARTS};
    pub use super::queues::{
        KEDA_ACTIVATIONS, KEDA_DEACTIVATIONS, QUEUE_DELAY_P50, QUEUE_DELAY_P99,
    };
    pub use super::rollouts::{ROLLOUT_DURATION_MAX, ROLLOUTS_COMPLETED};
    pub use super::services::{
        AVAILABILITY_MIN, HPA_SCALE_DOWNS, HPA_SCALE_UPS, REQUESTS_DROPPED, REQUESTS_SERVED,
    };
    use super::summary::{Column, Unit};
    pub use super::timeseries::FRAGMENTATION;

    /// `events`: filled by the engine.
    pub static EVENTS: Column = Column {
        name: "events",
        unit: Unit::Count,
        doc: "timed events the engine processed",
    };
    /// `sim_end_s`: filled by the engine.
    pub static SIM_END: Column = Column {
        name: "sim_end_s",
        unit: Unit::Seconds,
        doc: "simulated time when the run ended: its horizon, or the last event",
    };

    /// The order of the built-in columns in `summary.csv`: as it has always been, and
    /// later columns after.
    pub static ORDER: [&Column; 62] = [
        &PODS_SUBMITTED,
        &PODS_SCHEDULED,
        &PODS_COMPLETED,
        &PODS_FAILED,
        &PODS_PENDING_AT_END,
        &PODS_RUNNING_AT_END,
        &LATENCY_P50,
        &LATENCY_P95,
        &LATENCY_P99,
        &LATENCY_MAX,
        &CPU_ALLOC_MEAN,
        &MEM_ALLOC_MEAN,
        &CPU_ALLOC_PEAK,
        &MEM_ALLOC_PEAK,
        &NODES_MAX,
        &SCHEDULING_ATTEMPTS,
        &UNSCHEDULABLE_ATTEMPTS,
        &REFUSED_BINDS,
        &PREEMPTIONS,
        &GANG_TIMEOUTS,
        &EVENTS,
        &SIM_END,
        &FRAGMENTATION,
        &JAIN_INDEX,
        &MAKESPAN,
        &MEAN_COMPLETION,
        &PODS_PER_NODE_MEAN,
        &PODS_PER_NODE_MAX,
        &EVICTIONS_TAINT,
        &EVICTIONS_DRAIN,
        &EVICTIONS_NODE_REMOVED,
        &NODE_FAILURES,
        &NODE_DOWN,
        &RECOVERY_MEAN,
        &RECOVERY_MAX,
        &PODS_LOST,
        &NODE_HOURS,
        &NODE_COST,
        &CA_SCALE_UPS,
        &CA_NODES_ADDED,
        &CA_SCALE_DOWNS,
        &CA_NODES_REMOVED,
        &REQUESTS_SERVED,
        &REQUESTS_DROPPED,
        &AVAILABILITY_MIN,
        &HPA_SCALE_UPS,
        &HPA_SCALE_DOWNS,
        &QUEUE_DELAY_P50,
        &QUEUE_DELAY_P99,
        &KEDA_ACTIVATIONS,
        &KEDA_DEACTIVATIONS,
        &JOBS_COMPLETED,
        &JOBS_FAILED,
        &JOB_DURATION_MEAN,
        &ROLLOUTS_COMPLETED,
        &ROLLOUT_DURATION_MAX,
        &EVICTIONS_NODE_PRESSURE,
        &OOM_KILLS,
        &RESTARTS,
        &ADMISSION_REJECTIONS,
        &TRACE_LATE_ENDS,
        &EVICTIONS_NODE_RESIZED,
    ];
}

/// Something that happened in a run. Published by the controller that made it happen,
/// after the cluster already shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// A node joined the cluster.
    NodeAdded {
        /// The node.
        node: NodeId,
    },
    /// A node left the cluster (its pods were gone first).
    NodeRemoved {
        /// The node.
        node: NodeId,
    },
    /// A node's Ready condition changed.
    NodeReady {
        /// The node.
        node: NodeId,
        /// The new condition.
        ready: bool,
    },
    /// A node's allocatable changed (a trace's machine resized); `cpu_before` and
    /// `memory_before` are what it was, the cluster has what it is.
    NodeResized {
        /// The node.
        node: NodeId,
        /// Its allocatable CPU millicores before.
        cpu_before: i64,
        /// Its allocatable memory bytes before.
        memory_before: i64,
    },
    /// A node was cordoned (`unschedulable`) or uncordoned.
    NodeCordoned {
        /// The node.
        node: NodeId,
        /// The new `spec.unschedulable`.
        unschedulable: bool,
    },
    /// A pod was created, pending, to run for `run_for` once started.
    PodCreated {
        /// The pod.
        pod: PodId,
        /// How long it runs once started; [`SimTime::MAX`] runs until the end.
        run_for: SimTime,
    },
    /// A pending pod entered the scheduling queue's active queue (so its pod group's
    /// waiting members can follow it).
    PodActivated {
        /// The pod.
        pod: PodId,
    },
    /// A scheduling cycle began: the scheduler decides for `pods` pending pods.
    CycleStarted {
        /// Pods attempted in the cycle.
        pods: u32,
    },
    /// A pod was bound to a node.
    PodBound {
        /// The pod.
        pod: PodId,
        /// Its node.
        node: NodeId,
        /// True when the pod had been waiting at Permit on that node (its gang was just
        /// admitted): its resources were already held there since [`Fact::PodWaiting`].
        waited: bool,
    },
    /// A pod group member holds a node's resources and waits at Permit for its group to
    /// reach `minMember`; it is not bound and does not start.
    PodWaiting {
        /// The pod.
        pod: PodId,
        /// The node it holds.
        node: NodeId,
    },
    /// A pod waiting at Permit was rejected: it gave up the node it held and is pending
    /// again.
    PermitRejected {
        /// The pod.
        pod: PodId,
        /// The node it held.
        node: NodeId,
        /// Why.
        cause: PermitRejection,
    },
    /// The scheduler reported binding a pod that the cluster does not show bound.
    BindRefused {
        /// The pod.
        pod: PodId,
    },
    /// A scheduling attempt left a pod pending.
    AttemptFailed {
        /// The pod.
        pod: PodId,
        /// Why.
        why: AttemptFailure,
    },
    /// A pod group waited past its `scheduleTimeoutSeconds` without being admitted.
    GangTimedOut {
        /// The group's index in the scenario.
        group: u32,
        /// Members bound when it timed out.
        bound: u32,
    },
    /// A pending member of a pod group that timed out; it backs off with its group.
    MemberTimedOut {
        /// The pod.
        pod: PodId,
        /// Its group.
        group: u32,
        /// Members bound when the group timed out.
        bound: u32,
    },
    /// A pod failed for good without running: the queue gave up on it after its last
    /// allowed attempt (a trace replay's one-attempt protocol).
    PodAbandoned {
        /// The pod.
        pod: PodId,
    },
    /// The kubelet refused a pod that named its node (Kubernetes' `OutOfcpu` and kin).
    PodRejected {
        /// The pod.
        pod: PodId,
    },
    /// A bound pod's containers started.
    PodStarted {
        /// The pod.
        pod: PodId,
    },
    /// A running pod's work ended successfully.
    PodFinished {
        /// The pod.
        pod: PodId,
    },
    /// A streamed Google replay read a running pod's end row only after the moment its
    /// recorded run time ended: it ends now, `late` after that moment (see
    /// [`crate::scenario::trace_stream`]).
    TraceLateEnd {
        /// The pod.
        pod: PodId,
        /// How long after its recorded end.
        late: SimTime,
    },
    /// The PersistentVolume binder bound or provisioned volumes for a pod's claims,
    /// which may let pods waiting on those claims fit.
    VolumesBound {
        /// The pod whose claims were bound.
        pod: PodId,
    },
    /// A pod was evicted from its node.
    PodEvicted {
        /// The pod.
        pod: PodId,
        /// Why.
        reason: EvictionReason,
        /// How long it was meant to run, for its controller's replacement.
        run_for: SimTime,
        /// True when it stays on its node, terminating, for its grace period; false when
        /// it leaves at once (a [`Fact::PodDeleted`] follows).
        graceful: bool,
    },
    /// A pod left the cluster: finished, evicted, terminated, rejected or given up. The
    /// cluster no longer has it; observers see it as it was in [`View::pod`], controllers
    /// through the engine's record of departed pods.
    PodDeleted {
        /// Its id (now dead).
        pod: PodId,
        /// Its controller should replace it (it finished, or was evicted outright).
        replace: bool,
    },
    /// Time to record a row of the time series.
    Sample,
    /// A node failed: its kubelet stopped (a crash, a zone outage), or its provider gave
    /// notice that it reclaims the node (a spot instance).
    NodeFailed {
        /// The node.
        node: NodeId,
        /// How it failed.
        kind: NodeFailure,
    },
    /// A crashed node's kubelet is back.
    NodeRecovered {
        /// The node.
        node: NodeId,
    },
    /// A node's taints changed (the node lifecycle controller added or removed
    /// `node.kubernetes.io/unreachable:NoExecute`).
    NodeTaintsChanged {
        /// The node.
        node: NodeId,
    },
    /// The cluster autoscaler asked a node group for nodes (they join after its
    /// provisioning delay), with what it weighed.
    ScaleUp(Box<ScaleUpDecision>),
    /// The cluster autoscaler began removing a node: tainted
    /// `ToBeDeletedByClusterAutoscaler:NoSchedule`, its pods evicted; it leaves once they
    /// are gone.
    ScaleDown {
        /// The node.
        node: NodeId,
        /// Its requested utilization (the larger of CPU and memory requests over
        /// allocatable), in thousandths.
        utilization_permille: u32,
        /// Pods it had to evict.
        pods: u32,
        /// When it became unneeded.
        unneeded_since: SimTime,
    },
    /// A node the cluster autoscaler asked for did not join within
    /// `maxNodeProvisionTime`; its group is skipped by scale-up for a while.
    NodeProvisionFailed {
        /// The node group's name.
        group: Box<str>,
    },
    /// A pod's Ready condition turned true: it serves its Service's requests.
    PodReady {
        /// The pod.
        pod: PodId,
    },
    /// The number of ready endpoints of a workload's Service changed.
    EndpointsChanged {
        /// The workload's index in the scenario.
        workload: u32,
        /// Ready pods now.
        ready: u32,
    },
    /// A HorizontalPodAutoscaler set its Deployment's replicas.
    Scaled {
        /// The workload's index in the scenario.
        workload: u32,
        /// Replicas before.
        from: u32,
        /// Replicas now.
        to: u32,
        /// What the metrics asked for, before stabilization and policies.
        recommended: u32,
        /// The deciding metric's current value: percent of requests for a utilization
        /// target, milli-units per pod for a value target.
        utilization: i64,
        /// What bounded the change, if anything.
        limit: crate::controllers::hpa::behavior::Limit,
        /// The deciding metric's target, in the units of `utilization` (0 when
        /// `minReplicas` or `maxReplicas` alone set the replicas): `utilization / target`
        /// is the usage ratio the replica calculator scaled by.
        target: i64,
    },
    /// A workload's work queue changed length (at most once per queue step).
    QueueLength {
        /// The workload's index in the scenario.
        workload: u32,
        /// Items waiting now.
        length: u64,
    },
    /// Items that arrived together left a work queue, served by its ready pods.
    QueueServed {
        /// The workload's index in the scenario.
        workload: u32,
        /// How many.
        items: u64,
        /// How long they waited.
        waited: SimTime,
    },
    /// Items were dropped from a work queue: it was full when they arrived, or they
    /// waited past its timeout.
    QueueDropped {
        /// The workload's index in the scenario.
        workload: u32,
        /// How many.
        items: u64,
        /// True when they waited past the timeout; false when the queue was full.
        expired: bool,
    },
    /// KEDA's scale executor set a Deployment's replicas itself: from zero when its
    /// trigger turned active, to zero after the cooldown, or up to `minReplicaCount`.
    KedaScaled {
        /// The workload's index in the scenario.
        workload: u32,
        /// Replicas before.
        from: u32,
        /// Replicas now.
        to: u32,
        /// The queue length the trigger saw.
        queue: u64,
        /// When the trigger was last active (the cooldown counts from there).
        last_active: Option<SimTime>,
    },
    /// A pod's containers exited with an error (its phase is Failed, unless the kubelet
    /// restarts it in place).
    PodFailed {
        /// The pod.
        pod: PodId,
        /// True when its restartPolicy (OnFailure) restarts the containers in place: the
        /// pod stays on its node.
        restarting: bool,
    },
    /// A CronJob created one of its Jobs, which starts now.
    JobCreated {
        /// The Job's workload index in the scenario.
        workload: u32,
    },
    /// A Job's pods succeeded `completions` times (condition Complete).
    JobCompleted {
        /// The workload's index in the scenario.
        workload: u32,
        /// From the Job's start to its completion.
        duration: SimTime,
    },
    /// A Job failed (condition Failed) and its active pods are deleted.
    JobFailed {
        /// The workload's index in the scenario.
        workload: u32,
        /// Why.
        reason: JobFailureReason,
        /// From the Job's start to its failure.
        duration: SimTime,
    },
    /// A Deployment's rollout began: its template changed and a new ReplicaSet exists.
    RolloutStarted {
        /// The workload's index in the scenario.
        workload: u32,
        /// The rollout's index in the Deployment's rollouts.
        rollout: u32,
    },
    /// A Deployment's rollout finished: every replica is an available pod of the new
    /// template and no old pod counts any more.
    RolloutFinished {
        /// The workload's index in the scenario.
        workload: u32,
        /// The rollout's index in the Deployment's rollouts.
        rollout: u32,
        /// From its start to now.
        took: SimTime,
    },
    /// The API server's admission refused a pod a workload's controller tried to create
    /// (a ResourceQuota it would exceed, a LimitRange it violates): the pod does not
    /// exist; the controller tries again after its back-off, if it retries at all.
    CreateRefused {
        /// The workload's index in the scenario.
        workload: u32,
        /// Upstream's message: `pods "NAME" is forbidden: exceeded quota: ...`.
        message: std::sync::Arc<str>,
    },
    /// A running pod's containers used more memory than their limit and were OOM-killed;
    /// they restart after their CrashLoopBackOff delay.
    PodOomKilled {
        /// The pod.
        pod: PodId,
        /// When its containers start again.
        restart_at: SimTime,
    },
    /// An OOM-killed pod's containers started again.
    ContainerRestarted {
        /// The pod.
        pod: PodId,
        /// Its restarts so far (`restartCount`).
        restarts: u32,
    },
    /// A node's MemoryPressure condition changed (the kubelet's eviction manager); the
    /// node is tainted `node.kubernetes.io/memory-pressure:NoSchedule` while it holds.
    NodeMemoryPressure {
        /// The node.
        node: NodeId,
        /// The new condition.
        pressure: bool,
        /// `memory.available` at the pass that changed it, in bytes.
        available: i64,
    },
}

schedulers::kubernetes_enum! {
    /// Why a Job failed: the `reason` of its Failed condition, worded as upstream.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum JobFailureReason {
        /// More pods failed (or restarted) than `backoffLimit` allows.
        BackoffLimitExceeded => "BackoffLimitExceeded",
        /// It ran for longer than `activeDeadlineSeconds`.
        DeadlineExceeded => "DeadlineExceeded",
    }
}

/// What the cluster autoscaler weighed when it grew a node group: each group that could
/// help the pending pods, and the one its expander chose.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleUpDecision {
    /// The expander that chose.
    pub expander: crate::scenario::Expander,
    /// Unschedulable pods the scan found, before those that fit existing or upcoming
    /// nodes were set aside.
    pub pending: u32,
    /// Pods no existing or upcoming node could take: what the options compete for.
    pub unhelped: u32,
    /// Every group that could help, in group order.
    pub options: Vec<ScaleUpOption>,
    /// The index in `options` of the chosen one.
    pub chosen: usize,
}

/// One node group's answer to a scale-up: the binpacking estimate and its expander score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleUpOption {
    /// The group's index in the scenario.
    pub group: u32,
    /// Its name.
    pub name: String,
    /// New nodes the estimate needs (capped by the group's `max`).
    pub nodes: u32,
    /// Pending pods those nodes would take.
    pub pods: u32,
    /// The expander's score: least-waste's wasted CPU + memory fractions, price's cost per
    /// hour per pod, most-pods' pod count; 0 for random.
    pub score: f64,
}

/// How a node failed ([`Fact::NodeFailed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeFailure {
    /// Its kubelet stopped: the node is unreachable until it recovers.
    Crash,
    /// Its provider reclaims it (a spot instance's notice): drained, then terminated.
    SpotReclaim,
}

/// Why a pod waiting at Permit was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitRejection {
    /// Its group's `scheduleTimeoutSeconds` ran out (coscheduling's permit timeout).
    Timeout,
    /// It was to be evicted (a preemption's victim, its node leaving, ...): upstream
    /// rejects a waiting pod instead of deleting it.
    Evicted,
    /// Another waiting member of its group was rejected (coscheduling's Unreserve rejects
    /// the whole group).
    Group,
}

impl PermitRejection {
    /// As the trace words it.
    pub fn as_str(self) -> &'static str {
        match self {
            PermitRejection::Timeout => "timeout",
            PermitRejection::Evicted => "evicted",
            PermitRejection::Group => "group rejected",
        }
    }
}

/// Why a pod was evicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionReason {
    /// To make room for a higher-priority pod (DefaultPreemption).
    Preemption,
    /// Its node left the cluster.
    NodeRemoved,
    /// The cluster autoscaler drained its node to remove it.
    ScaleDown,
    /// Its node has a NoExecute taint it does not tolerate, or tolerates for a time that
    /// ran out (the taint eviction controller).
    Taint,
    /// Its node was drained (the Eviction API, within the PodDisruptionBudgets).
    Drain,
    /// Its Deployment was scaled down (a ReplicaSet's deletion, graceful).
    DeploymentScaledDown,
    /// Its StatefulSet was scaled down: the highest ordinals go (graceful).
    StatefulSetScaledDown,
    /// Its Job failed and the job controller deleted its active pods (graceful).
    JobTerminated,
    /// A rollout replaced it: its old ReplicaSet was scaled down (graceful).
    RolloutReplaced,
    /// Its node ran short of memory: the kubelet's eviction manager chose it
    /// (node-pressure eviction).
    NodePressure,
    /// Its node's machine shrank and the kubelet, admitting its pods again, found no room
    /// for it (`OutOfcpu`, `OutOfmemory`).
    NodeResized,
}

impl EvictionReason {
    /// The reason as the trace words it.
    pub fn as_str(self) -> &'static str {
        match self {
            EvictionReason::Preemption => "preemption",
            EvictionReason::NodeRemoved => "node-removed",
            EvictionReason::Taint => "taint",
            EvictionReason::Drain => "drain",
            EvictionReason::ScaleDown => "scale-down",
            EvictionReason::DeploymentScaledDown => "deployment-scaled-down",
            EvictionReason::StatefulSetScaledDown => "statefulset-scaled-down",
            EvictionReason::JobTerminated => "job-terminated",
            EvictionReason::RolloutReplaced => "rollout-replaced",
            EvictionReason::NodePressure => "node-pressure",
            EvictionReason::NodeResized => "node-resized",
        }
    }
    /// True when the pod's owner deletes it (a scale-down, a rollout, a failed Job):
    /// the pod is gone, not merely moved off its node.
    pub fn deletes_pod(self) -> bool {
        matches!(
            self,
            EvictionReason::DeploymentScaledDown
                | EvictionReason::StatefulSetScaledDown
                | EvictionReason::JobTerminated
                | EvictionReason::RolloutReplaced
        )
    }
}

/// Why a scheduling attempt left a pod pending.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptFailure {
    /// No node can take it; the reasons, per node.
    Unschedulable(Diagnosis),
    /// It fits once victims on `node` are evicted; it is retried when they are gone.
    Preempting {
        /// The nominated node.
        node: NodeId,
        /// How many pods are evicted.
        victims: u32,
    },
    /// It asked to preempt again at an instant it already had, or was not waiting: it
    /// backs off instead (no text is recorded).
    PreemptionRefused,
    /// The scheduler said nothing about it (no text is recorded).
    NoDecision,
}

/// What observers may read when a fact arrives: the time and the cluster after the change.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// Simulated time now.
    pub now: SimTime,
    /// The cluster, already showing the change.
    pub cluster: &'a ClusterState,
    /// The pod the fact is about, if it names one: from the cluster, or for
    /// [`Fact::PodDeleted`] the pod as it was when it left (looked up once for every
    /// observer).
    pub pod: Option<&'a schedulers::Pod>,
}

impl<'a> View<'a> {
    /// The view of `fact` at `now`.
    #[inline(always)]
    pub fn of(fact: &Fact, now: SimTime, cluster: &'a ClusterState) -> View<'a> {
        View {
            now,
            cluster,
            pod: fact.pod().and_then(|p| cluster.pod(p)),
        }
    }
}

impl Fact {
    /// The pod the fact is about, if any.
    #[inline(always)]
    pub fn pod(&self) -> Option<PodId> {
        match self {
            Fact::PodCreated { pod, .. }
            | Fact::PodActivated { pod }
            | Fact::PodBound { pod, .. }
            | Fact::PodWaiting { pod, .. }
            | Fact::PermitRejected { pod, .. }
            | Fact::BindRefused { pod }
            | Fact::AttemptFailed { pod, .. }
            | Fact::MemberTimedOut { pod, .. }
            | Fact::PodAbandoned { pod }
            | Fact::PodRejected { pod }
            | Fact::PodStarted { pod }
            | Fact::PodFinished { pod }
            | Fact::TraceLateEnd { pod, .. }
            | Fact::VolumesBound { pod }
            | Fact::PodEvicted { pod, .. }
            | Fact::PodDeleted { pod, .. }
            | Fact::PodReady { pod }
            | Fact::PodFailed { pod, .. }
            | Fact::PodOomKilled { pod, .. }
            | Fact::ContainerRestarted { pod, .. } => Some(*pod),
            Fact::NodeAdded { .. }
            | Fact::NodeRemoved { .. }
            | Fact::NodeReady { .. }
            | Fact::NodeCordoned { .. }
            | Fact::NodeResized { .. }
            | Fact::CycleStarted { .. }
            | Fact::GangTimedOut { .. }
            | Fact::Sample
            | Fact::NodeFailed { .. }
            | Fact::NodeRecovered { .. }
            | Fact::NodeTaintsChanged { .. }
            | Fact::ScaleUp(_)
            | Fact::ScaleDown { .. }
            | Fact::NodeProvisionFailed { .. }
            | Fact::EndpointsChanged { .. }
            | Fact::Scaled { .. }
            | Fact::QueueLength { .. }
            | Fact::QueueServed { .. }
            | Fact::QueueDropped { .. }
            | Fact::KedaScaled { .. }
            | Fact::JobCreated { .. }
            | Fact::JobCompleted { .. }
            | Fact::JobFailed { .. }
            | Fact::RolloutStarted { .. }
            | Fact::RolloutFinished { .. }
            | Fact::CreateRefused { .. } => None,
            Fact::NodeMemoryPressure { .. } => None,
        }
    }
}

/// What a run's observers see when it closes.
#[derive(Debug, Clone, Copy)]
pub struct RunEnd<'a> {
    /// When the run ended: its horizon, or the last event.
    pub end: SimTime,
    /// The cluster at the end.
    pub cluster: &'a ClusterState,
    /// Events the engine processed.
    pub events: u64,
}

/// Something that records or measures a run without changing it.
pub trait Observer: Send {
    /// A fact was published.
    fn observe(&mut self, fact: &Fact, view: &View<'_>);

    /// The run closed: adds this observer's summary values, one per column it declares.
    fn finish(&mut self, _end: &RunEnd<'_>, _summary: &mut Summary) {}
}

/// The built-in observers and any added ones. Built-ins are called directly, so a fact
/// costs no virtual call unless extra observers are attached.
pub(crate) struct Observers {
    pub pods: pods::PodMetrics,
    pub allocation: allocation::Allocation,
    pub autoscaling: autoscaling::AutoscalerMetrics,
    pub fairness: fairness::Fairness,
    pub disruptions: disruptions::Disruptions,
    pub series: timeseries::TimeSeries,
    pub services: services::ServiceMetrics,
    pub trace: Option<trace::TraceLog>,
    pub nodes: Option<node_series::NodeSeries>,
    pub gpu: Option<gpu_fill::GpuFill>,
    pub queues: queues::QueueMetrics,
    pub extra: Vec<Box<dyn Observer>>,
    pub jobs: jobs::JobMetrics,
    pub rollouts: rollouts::RolloutMetrics,
    pub pressure: pressure::PressureMetrics,
}

impl Observers {
    /// Hands a fact to every observer. Inlined into the engine's one branch on the kind
    /// of fact ([`crate::engine::Bus::observe`]), where each built-in's match folds away.
    #[inline(always)]
    pub(crate) fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        self.pods.observe(fact, view);
        self.allocation.observe(fact, view);
        self.autoscaling.observe(fact, view);
        self.fairness.observe(fact, view);
        self.disruptions.observe(fact, view);
        self.series.observe(fact, view);
        self.services.observe(fact, view);
        self.jobs.observe(fact, view);
        self.pressure.observe(fact, view);
        if let Some(trace) = &mut self.trace {
            trace.observe(fact, view);
        }
        if let Some(nodes) = &mut self.nodes {
            nodes.observe(fact, view);
        }
        if let Some(gpu) = &mut self.gpu {
            gpu.observe(fact, view);
        }
        self.queues.observe(fact, view);
        self.rollouts.observe(fact, view);
        if !self.extra.is_empty() {
            for o in &mut self.extra {
                o.observe(fact, view);
            }
        }
    }
}
