//! The scheduling queue, with kube-scheduler's semantics, and the scheduling cycle.
//!
//! A pending pod waits in one of three queues: active (ordered by priority, then by when
//! it entered, then first in first out), backoff (it failed recently: 1 s doubled per
//! failed attempt, at most 10 s) or unschedulable (it failed and waits for a change in
//! the cluster, or for [`MAX_UNSCHEDULABLE`]). A change that could make pods fit (a pod
//! leaving a node, a node joining, volumes bound) moves every unschedulable pod to the
//! active or backoff queue at the next cycle (`MoveAllToActiveOrBackoffQueue`). A cycle
//! hands the whole active queue, in order, to the [`Scheduler`] and applies its
//! decisions one by one: binds, evictions of a preemptor's victims, and pods left
//! pending.
//!
//! Simplifications: a cycle takes every active pod at once rather than one pod per
//! cycle (the scheduler decides them in queue order against a cluster that already
//! shows the earlier binds, which is what kube-scheduler's assume cache gives);
//! preemptors have no nominated-node reservation (they are retried at once, ahead of
//! the victims' replacements by their higher priority).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rand::rngs::ChaCha8Rng;
use schedulers::framework::Explanation;
use schedulers::{Cycle, Decision, GangScheduler, NodeId, Pod, PodId, PodPhase, Scheduler};
use slotmap::SecondaryMap;

use crate::controllers::Controller;
use crate::controllers::kubelet::KubeletEvent;
use crate::engine::{Ctx, Event};
use crate::observe::{AttemptFailure, EvictionReason, Fact};
use crate::scenario::QueueOptions;
use crate::time::SimTime;

/// kube-scheduler's initial pod backoff (`podInitialBackoffSeconds`).
pub const INITIAL_BACKOFF: SimTime = SimTime::from_secs(1);
/// kube-scheduler's maximum pod backoff (`podMaxBackoffSeconds`).
pub const MAX_BACKOFF: SimTime = SimTime::from_secs(10);
/// How long a pod may sit unschedulable before it is retried without any cluster event
/// (kube-scheduler's `podMaxInUnschedulablePodsDuration`).
pub const MAX_UNSCHEDULABLE: SimTime = SimTime::from_secs(300);

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

/// The scheduling queue's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueEvent {
    /// Run a scheduling cycle over the active queue.
    Schedule,
    /// A pod's backoff ended; `generation` tells stale timers apart.
    BackoffDone {
        /// The pod.
        pod: PodId,
        /// Its queue generation when the timer was set.
        generation: u32,
    },
    /// A pod has been unschedulable for [`MAX_UNSCHEDULABLE`].
    Unstick {
        /// The pod.
        pod: PodId,
        /// Its queue generation when the timer was set.
        generation: u32,
    },
    /// Moves the unschedulable pods from this index on (follow-up work of a cycle after
    /// a cluster change).
    MoveUnschedulable {
        /// The next pod to move.
        index: u32,
    },
    /// Applies the cycle's decisions from this index on (follow-up work).
    Apply {
        /// The next decision.
        index: u32,
    },
    /// Finishes a cycle once its decisions and what they caused are processed
    /// (follow-up work).
    FinishCycle,
    /// Activates the cycle's preemptors from this index on, for their retry (follow-up
    /// work).
    RetryPreemptors {
        /// The next preemptor.
        index: u32,
    },
    /// A member of a pod group follows another member into the active queue if it is
    /// waiting (follow-up work).
    ActivateMember {
        /// The member.
        pod: PodId,
    },
    /// Gives up a pod after its last allowed attempt: it leaves the cluster (follow-up
    /// work).
    Abandon {
        /// The pod.
        pod: PodId,
    },
}

impl QueueEvent {
    /// Cycles and ends of backoff can change the cluster; an unschedulable pod's
    /// periodic retry only matters if something else changes.
    pub(crate) fn keeps_run_alive(&self) -> bool {
        matches!(self, QueueEvent::Schedule | QueueEvent::BackoffDone { .. })
    }
}

/// Which queue holds a pending pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Queue {
    /// Waiting for the next scheduling cycle.
    Active,
    /// Failed recently; waiting for its backoff to end.
    Backoff,
    /// Failed; waiting for a cluster change (or [`MAX_UNSCHEDULABLE`]).
    Unschedulable,
    /// Out of the queues: holding a node at Permit until its pod group is admitted
    /// (bound) or rejects it (back to backoff).
    Waiting,
}

/// What the queue knows of a pending pod. One lives per pending pod, so it is small.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Bumped on every queue move, so timers from an earlier stay are recognised as stale.
    generation: u32,
    attempts: u32,
    queue: Queue,
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

/// What [`crate::Simulation::explain`] found.
#[derive(Debug, Clone)]
pub enum ExplainOutcome {
    /// The scheduler's explanation of the attempt, and when it happened.
    Explained {
        /// When the attempt was made.
        time: SimTime,
        /// The pod's id in [`crate::Simulation::cluster`].
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

/// The scheduling queue and the scheduler it feeds.
pub struct SchedulingQueue {
    scheduler: Box<dyn Scheduler>,
    options: QueueOptions,
    entries: SecondaryMap<PodId, Entry>,
    active: BinaryHeap<ActiveEntry>,
    active_seq: u64,
    unschedulable: Vec<(PodId, u32)>,
    /// Something changed since the last cycle that could make unschedulable pods fit.
    cluster_changed: bool,
    tie_break: ChaCha8Rng,
    /// The cycle in progress: its pods, the scheduler's decisions, the pods that
    /// preempted, and the unschedulable pods being moved.
    pending: Vec<PodId>,
    decisions: Vec<Decision>,
    preemptors: Vec<PodId>,
    moving: Vec<(PodId, u32)>,
    /// The pod to explain instead of scheduling, and from when.
    explain_request: Option<(String, SimTime)>,
    /// This cycle's pod to explain once the pods ahead of it are decided.
    explain_target: Option<PodId>,
    explained: Option<ExplainOutcome>,
    failure: Option<SchedulerFailure>,
}

impl SchedulingQueue {
    /// A queue feeding `scheduler`, wrapped in gang semantics when the scenario has pod
    /// groups; `tie_break` is the scheduler's random stream.
    pub fn new(
        scheduler: Box<dyn Scheduler>,
        gangs: bool,
        options: QueueOptions,
        tie_break: ChaCha8Rng,
    ) -> SchedulingQueue {
        // Gang semantics apply to any algorithm, which runs unchanged inside the wrapper.
        let scheduler: Box<dyn Scheduler> = if gangs {
            Box::new(GangScheduler::new(scheduler))
        } else {
            scheduler
        };
        SchedulingQueue {
            scheduler,
            options,
            entries: SecondaryMap::new(),
            active: BinaryHeap::new(),
            active_seq: 0,
            unschedulable: Vec::new(),
            cluster_changed: false,
            tie_break,
            pending: Vec::new(),
            decisions: Vec::new(),
            preemptors: Vec::new(),
            moving: Vec::new(),
            explain_request: None,
            explain_target: None,
            explained: None,
            failure: None,
        }
    }

    /// The scheduler's name.
    pub fn scheduler_name(&self) -> &str {
        self.scheduler.name()
    }

    /// Asks to explain the first attempt of the pod named `pod` at or after `from`
    /// instead of making it; the run stops there.
    pub(crate) fn request_explanation(&mut self, pod: &str, from: SimTime) {
        self.explain_request = Some((pod.to_string(), from));
    }

    /// The explanation, once made.
    pub(crate) fn take_explanation(&mut self) -> Option<ExplainOutcome> {
        self.explained.take()
    }

    /// The scheduler's failure, if it stopped the run.
    pub(crate) fn failure(&self) -> Option<&SchedulerFailure> {
        self.failure.as_ref()
    }

    /// Takes the scheduler's failure.
    pub(crate) fn take_failure(&mut self) -> Option<SchedulerFailure> {
        self.failure.take()
    }

    fn ensure_cycle(&mut self, ctx: &mut Ctx<'_>) {
        if !ctx.cycle_queued() {
            ctx.at(ctx.now, Event::Queue(QueueEvent::Schedule));
        }
    }

    /// Something changed that could make unschedulable pods fit; they move at the next
    /// cycle, once.
    fn cluster_changed(&mut self, ctx: &mut Ctx<'_>) {
        self.cluster_changed = true;
        if !self.unschedulable.is_empty() {
            self.ensure_cycle(ctx);
        }
    }

    /// Moves a pod to the active queue; a member of a pod group publishes it, so that
    /// its waiting members follow (the gang check sees only the pods of one cycle).
    /// Returns true if it published.
    fn activate(&mut self, pod: PodId, ctx: &mut Ctx<'_>) -> bool {
        let Some(p) = ctx.cluster.pod(pod) else {
            return false;
        };
        let (priority, group) = (p.priority(), p.template.pod_group);
        self.activate_one(pod, priority, ctx);
        if group.is_some_and(|g| (g as usize) < ctx.cluster.pod_groups().len()) {
            ctx.publish(Fact::PodActivated { pod });
            return true;
        }
        false
    }

    /// Puts a pod with this priority in the active queue (a pod without an entry, which
    /// is not pending, stays out).
    fn activate_one(&mut self, pod: PodId, priority: i32, ctx: &mut Ctx<'_>) {
        let Some(entry) = self.entries.get_mut(pod) else {
            return;
        };
        entry.queue = Queue::Active;
        entry.generation += 1;
        self.active.push(ActiveEntry {
            priority,
            enqueued: ctx.now,
            seq: self.active_seq,
            pod,
            generation: entry.generation,
        });
        self.active_seq += 1;
        self.ensure_cycle(ctx);
    }

    /// A pod's attempt failed: it waits in the unschedulable queue (or is given up after
    /// its last allowed attempt).
    /// Returns true if the pod was given up (its removal is follow-up work).
    fn unschedulable(&mut self, pod: PodId, why: AttemptFailure, ctx: &mut Ctx<'_>) -> bool {
        let Some(entry) = self.entries.get_mut(pod) else {
            return false;
        };
        if entry.queue != Queue::Active {
            return false;
        }
        entry.attempts += 1;
        entry.backoff_until = ctx.now.saturating_add(backoff(entry.attempts));
        entry.queue = Queue::Unschedulable;
        entry.generation += 1;
        let (generation, attempts) = (entry.generation, entry.attempts);
        let give_up = self.options.max_attempts.is_some_and(|max| attempts >= max);
        if !give_up {
            self.unschedulable.push((pod, generation));
            ctx.at(
                ctx.now.saturating_add(MAX_UNSCHEDULABLE),
                Event::Queue(QueueEvent::Unstick { pod, generation }),
            );
        }
        ctx.publish(Fact::AttemptFailed { pod, why });
        if give_up {
            ctx.publish(Fact::PodAbandoned { pod });
            ctx.then(Event::Queue(QueueEvent::Abandon { pod }));
        }
        give_up
    }

    /// Starts a cycle: moves the unschedulable pods first if the cluster changed.
    fn schedule(&mut self, ctx: &mut Ctx<'_>) {
        if self.cluster_changed {
            self.cluster_changed = false;
            debug_assert!(self.moving.is_empty());
            std::mem::swap(&mut self.moving, &mut self.unschedulable);
            self.move_unschedulable(0, ctx);
        } else {
            self.run_cycle(ctx);
        }
    }

    /// Moves the unschedulable pods from `index` on to the active queue (their backoff
    /// over) or to the backoff queue, then runs the cycle. Stops after a move that
    /// published (a pod group's members follow first) and resumes in follow-up work.
    fn move_unschedulable(&mut self, mut index: usize, ctx: &mut Ctx<'_>) {
        while let Some(&(pod, generation)) = self.moving.get(index) {
            index += 1;
            let Some(entry) = self.entries.get_mut(pod) else {
                continue;
            };
            if entry.queue != Queue::Unschedulable || entry.generation != generation {
                continue;
            }
            if ctx.now >= entry.backoff_until {
                if self.activate(pod, ctx) {
                    ctx.then(Event::Queue(QueueEvent::MoveUnschedulable {
                        index: index as u32,
                    }));
                    return;
                }
            } else {
                entry.queue = Queue::Backoff;
                entry.generation += 1;
                let (until, generation) = (entry.backoff_until, entry.generation);
                ctx.at(
                    until,
                    Event::Queue(QueueEvent::BackoffDone { pod, generation }),
                );
            }
        }
        // Keep the allocation: a busy cluster moves pods on every completion.
        self.moving.clear();
        if self.unschedulable.is_empty() {
            std::mem::swap(&mut self.moving, &mut self.unschedulable);
        }
        self.run_cycle(ctx);
    }

    /// The position in `pending` of the pod to explain, if this cycle holds its attempt.
    fn explain_index(&self, ctx: &Ctx<'_>) -> Option<usize> {
        let (name, from) = self.explain_request.as_ref()?;
        if ctx.now < *from {
            return None;
        }
        self.pending.iter().position(|&p| {
            ctx.cluster
                .pod(p)
                .is_some_and(|p| p.name().to_string() == *name)
        })
    }

    /// One scheduling cycle over the active queue.
    fn run_cycle(&mut self, ctx: &mut Ctx<'_>) {
        self.pending.clear();
        while let Some(entry) = self.active.pop() {
            if self
                .entries
                .get(entry.pod)
                .is_some_and(|r| r.queue == Queue::Active && r.generation == entry.generation)
            {
                self.pending.push(entry.pod);
            }
        }
        if let Some(index) = self.explain_index(ctx) {
            // Pods ahead of it are decided first, so the cluster is exactly as the real
            // attempt would see it.
            self.explain_target = Some(self.pending[index]);
            self.pending.truncate(index);
        }
        self.preemptors.clear();
        self.decisions.clear();
        if !self.pending.is_empty() {
            ctx.publish(Fact::CycleStarted {
                pods: self.pending.len() as u32,
            });
            self.scheduler.schedule(
                &mut Cycle::new(
                    ctx.cluster,
                    &self.pending,
                    &mut self.tie_break,
                    &mut self.decisions,
                )
                .at_micros(ctx.now.as_micros()),
            );
            if let Some(message) = self.scheduler.failure() {
                // A broken scheduler's decisions cannot be trusted: the run ends here,
                // without applying them, and the host reports the failure.
                self.failure = Some(SchedulerFailure {
                    time: ctx.now,
                    message: message.to_string(),
                });
                self.decisions.clear();
                ctx.stop();
                return;
            }
        }
        self.apply(0, ctx);
    }

    /// Applies the cycle's decisions from `index` on, in order. A decision that sets
    /// other controllers to work (a preemption's evictions, a pod given up) is the last
    /// of its handler: the rest are applied once that work is done, so everything is
    /// observed in the order nested calls would make it.
    fn apply(&mut self, mut index: usize, ctx: &mut Ctx<'_>) {
        while index < self.decisions.len() {
            let decision = std::mem::replace(
                &mut self.decisions[index],
                Decision::Unschedulable {
                    pod: PodId::default(),
                    diagnosis: Default::default(),
                },
            );
            index += 1;
            let follow_up = match decision {
                Decision::Bound { pod, node } => {
                    self.bound(pod, node, ctx);
                    false
                }
                Decision::Unschedulable { pod, diagnosis } => {
                    self.unschedulable(pod, AttemptFailure::Unschedulable(diagnosis), ctx)
                }
                Decision::Preempt { pod, node, victims } => self.preempt(pod, node, &victims, ctx),
                Decision::Waiting { pod, node } => {
                    self.waiting(pod, node, ctx);
                    false
                }
            };
            if follow_up {
                ctx.then(Event::Queue(if index < self.decisions.len() {
                    QueueEvent::Apply {
                        index: index as u32,
                    }
                } else {
                    QueueEvent::FinishCycle
                }));
                return;
            }
        }
        self.finish_cycle(ctx);
    }

    fn bound(&mut self, pod: PodId, node: NodeId, ctx: &mut Ctx<'_>) {
        if ctx
            .cluster
            .pod(pod)
            .is_none_or(|p| p.phase != PodPhase::Bound)
        {
            // A scheduler reported a bind the cluster does not show: not a real bind.
            ctx.publish(Fact::BindRefused { pod });
            return;
        }
        let waited = self
            .entries
            .remove(pod)
            .is_some_and(|e| e.queue == Queue::Waiting);
        ctx.publish(Fact::PodBound { pod, node, waited });
    }

    /// A pod holds `node` at Permit: it leaves the queues until its group is admitted
    /// or rejects it.
    fn waiting(&mut self, pod: PodId, node: NodeId, ctx: &mut Ctx<'_>) {
        if ctx
            .cluster
            .pod(pod)
            .is_none_or(|p| p.phase != PodPhase::Waiting)
        {
            ctx.publish(Fact::BindRefused { pod });
            return;
        }
        let Some(entry) = self.entries.get_mut(pod) else {
            return;
        };
        entry.queue = Queue::Waiting;
        entry.generation += 1;
        ctx.publish(Fact::PodWaiting { pod, node });
    }

    /// Evicts a preemptor's victims. The preemptor is retried at the end of the cycle,
    /// at this same instant, ahead of the victims' replacements thanks to its higher
    /// priority: a stand-in for kube-scheduler's nominated-node reservation. A pod
    /// preempts at most once per instant; if its retry fails again at the same time it
    /// takes the ordinary back-off, so a dry run that was too hopeful cannot evict pods
    /// forever.
    /// Returns true if it set other controllers to work.
    fn preempt(&mut self, pod: PodId, node: NodeId, victims: &[PodId], ctx: &mut Ctx<'_>) -> bool {
        let now = ctx.now;
        let Some(entry) = self.entries.get_mut(pod) else {
            return false;
        };
        if entry.queue != Queue::Active || entry.preempted_at == now {
            return self.unschedulable(pod, AttemptFailure::PreemptionRefused, ctx);
        }
        entry.preempted_at = now;
        entry.attempts += 1;
        ctx.publish(Fact::AttemptFailed {
            pod,
            why: AttemptFailure::Preempting {
                node,
                victims: victims.len() as u32,
            },
        });
        for &victim in victims {
            ctx.then(Event::Kubelet(KubeletEvent::Evict {
                pod: victim,
                reason: EvictionReason::Preemption,
            }));
        }
        self.preemptors.push(pod);
        true
    }

    /// The end of a cycle: a pod the scheduler said nothing about stays pending, as if
    /// unschedulable; the preemptors are retried.
    fn finish_cycle(&mut self, ctx: &mut Ctx<'_>) {
        for i in 0..self.pending.len() {
            let pod = self.pending[i];
            if !self.preemptors.contains(&pod)
                && self
                    .entries
                    .get(pod)
                    .is_some_and(|r| r.queue == Queue::Active)
            {
                self.unschedulable(pod, AttemptFailure::NoDecision, ctx);
            }
        }
        self.retry_preemptors(0, ctx);
    }

    fn retry_preemptors(&mut self, mut index: usize, ctx: &mut Ctx<'_>) {
        while let Some(&pod) = self.preemptors.get(index) {
            index += 1;
            if self.activate(pod, ctx) {
                ctx.then(Event::Queue(QueueEvent::RetryPreemptors {
                    index: index as u32,
                }));
                return;
            }
        }
        if let Some(target) = self.explain_target.take() {
            let explanation = self
                .scheduler
                .explain(ctx.cluster, target, &mut self.tie_break);
            self.explained = Some(match explanation {
                Some(explanation) => ExplainOutcome::Explained {
                    time: ctx.now,
                    pod: target,
                    explanation,
                },
                None => ExplainOutcome::NotExplainable { time: ctx.now },
            });
            ctx.stop();
        }
    }
}

impl Controller for SchedulingQueue {
    type Event = QueueEvent;

    fn on(&mut self, event: QueueEvent, ctx: &mut Ctx<'_>) {
        match event {
            QueueEvent::Schedule => self.schedule(ctx),
            QueueEvent::BackoffDone { pod, generation } => {
                if self
                    .entries
                    .get(pod)
                    .is_some_and(|r| r.queue == Queue::Backoff && r.generation == generation)
                {
                    self.activate(pod, ctx);
                }
            }
            QueueEvent::Unstick { pod, generation } => {
                if self
                    .entries
                    .get(pod)
                    .is_some_and(|r| r.queue == Queue::Unschedulable && r.generation == generation)
                {
                    self.activate(pod, ctx);
                }
            }
            QueueEvent::MoveUnschedulable { index } => self.move_unschedulable(index as usize, ctx),
            QueueEvent::Apply { index } => self.apply(index as usize, ctx),
            QueueEvent::FinishCycle => self.finish_cycle(ctx),
            QueueEvent::RetryPreemptors { index } => self.retry_preemptors(index as usize, ctx),
            QueueEvent::ActivateMember { pod } => {
                if self
                    .entries
                    .get(pod)
                    .is_some_and(|r| matches!(r.queue, Queue::Backoff | Queue::Unschedulable))
                {
                    let priority = ctx.cluster.pod(pod).map_or(0, Pod::priority);
                    self.activate_one(pod, priority, ctx);
                }
            }
            QueueEvent::Abandon { pod } => {
                self.entries.remove(pod);
                ctx.remove_pod(pod, false);
            }
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            // A pod that names its node is the kubelet's, not the scheduler's.
            Fact::PodCreated { pod, .. } => {
                let Some(p) = ctx.cluster.pod(*pod) else {
                    return;
                };
                let (priority, group) = (p.priority(), p.template.pod_group);
                if p.template.node_name.is_none() {
                    self.entries.insert(
                        *pod,
                        Entry {
                            generation: 0,
                            attempts: 0,
                            queue: Queue::Active,
                            backoff_until: SimTime::ZERO,
                            preempted_at: SimTime::MAX,
                        },
                    );
                    self.activate_one(*pod, priority, ctx);
                    if group.is_some_and(|g| (g as usize) < ctx.cluster.pod_groups().len()) {
                        ctx.publish(Fact::PodActivated { pod: *pod });
                    }
                }
            }
            Fact::PodDeleted { pod, .. } => {
                // A bound pod left the queue when it was bound; a pod waiting at Permit
                // still has its entry, and both free room.
                self.entries.remove(*pod);
                if ctx.departed(*pod).is_some_and(|p| p.node.is_some()) {
                    self.cluster_changed(ctx);
                }
            }
            Fact::PermitRejected { pod, .. } => {
                // Rejected at Permit: a failed attempt, retried after its backoff (a
                // timed-out group's members then back off together, below). The room it
                // gave up may let unschedulable pods in.
                let now = ctx.now;
                if let Some(entry) = self.entries.get_mut(*pod)
                    && entry.queue == Queue::Waiting
                {
                    entry.attempts += 1;
                    entry.backoff_until = now.saturating_add(backoff(entry.attempts));
                    entry.queue = Queue::Backoff;
                    entry.generation += 1;
                    let (until, generation) = (entry.backoff_until, entry.generation);
                    ctx.at(
                        until,
                        Event::Queue(QueueEvent::BackoffDone {
                            pod: *pod,
                            generation,
                        }),
                    );
                }
                self.cluster_changed(ctx);
            }
            Fact::MemberTimedOut { pod, .. } => {
                let until = ctx
                    .now
                    .saturating_add(crate::controllers::gang::GANG_TIMEOUT_BACKOFF);
                if let Some(entry) = self.entries.get_mut(*pod) {
                    entry.queue = Queue::Backoff;
                    entry.generation += 1;
                    entry.backoff_until = until;
                    let generation = entry.generation;
                    ctx.at(
                        until,
                        Event::Queue(QueueEvent::BackoffDone {
                            pod: *pod,
                            generation,
                        }),
                    );
                }
            }
            Fact::VolumesBound { .. }
            | Fact::NodeAdded { .. }
            | Fact::NodeRemoved { .. }
            | Fact::NodeReady { .. }
            | Fact::NodeCordoned { .. }
            | Fact::NodeResized { .. } => self.cluster_changed(ctx),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_ten_seconds() {
        let secs: Vec<u64> = (1..=6).map(|a| backoff(a).0 / 1_000_000).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 10, 10]);
    }

    #[test]
    fn queue_entries_stay_small() {
        assert!(std::mem::size_of::<Entry>() <= 32);
    }
}
