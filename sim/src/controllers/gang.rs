//! Gang waiting: a pod group (coscheduling's PodGroup) waits to be admitted, with
//! `minMember` of its pods bound, for `scheduleTimeoutSeconds` at a time. Meanwhile its
//! members that found a node wait at Permit holding it ([`schedulers::PodPhase::Waiting`]).
//! When the time runs out, as coscheduling's permit timeout, the waiting members give
//! their nodes back ([`Fact::PermitRejected`]), and they and the other pending members
//! are rejected and back off together for [`GANG_TIMEOUT_BACKOFF`]; then the group waits
//! afresh. A waiting member that is evicted (a preemption's victim, its node leaving)
//! or deleted is rejected too, and with it, as coscheduling's Unreserve does, every
//! other waiting member of its group. A group with `minMember` pods bound is admitted,
//! and its extra pending pods do not time out. Placement and Permit are
//! [`schedulers::GangScheduler`]'s, inside the scheduling cycle.

use schedulers::{PodId, PodPhase, PodTemplate};

use crate::controllers::Controller;
use crate::controllers::scheduling::QueueEvent;
use crate::engine::{Ctx, Event};
use crate::observe::{Fact, PermitRejection};
use crate::time::SimTime;

/// How long a pod group's pending pods are held back after the group timed out:
/// kube-scheduler's maximum pod backoff, for the whole group.
pub const GANG_TIMEOUT_BACKOFF: SimTime = crate::controllers::scheduling::MAX_BACKOFF;

/// Gang waiting's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GangEvent {
    /// A pod group's `scheduleTimeoutSeconds` since it began waiting are over;
    /// `generation` tells stale timers apart.
    Timeout {
        /// The group's index in the scenario.
        group: u32,
        /// The wait the timer belongs to.
        generation: u32,
    },
    /// Starts the group's next wait (follow-up work, once its members have backed off).
    Rewait {
        /// The group's index in the scenario.
        group: u32,
    },
}

/// Per pod group: its pending pods and how long it has been waiting to be admitted.
#[derive(Debug, Clone)]
struct Group {
    /// Pending pods of the group (those waiting at Permit included), in creation order.
    pending: Vec<PodId>,
    /// When the current wait began; [`SimTime::MAX`] when the group waits for nothing.
    waiting_since: SimTime,
    /// Bumped whenever the wait restarts or stops, so older timeout timers are stale.
    generation: u32,
}

/// Every pod group of the scenario.
#[derive(Debug, Default)]
pub struct Gangs {
    groups: Vec<Group>,
}

impl Gangs {
    /// The scenario's `groups` pod groups, none waiting yet.
    pub fn new(groups: usize) -> Gangs {
        Gangs {
            groups: vec![
                Group {
                    pending: Vec::new(),
                    waiting_since: SimTime::MAX,
                    generation: 0,
                };
                groups
            ],
        }
    }

    /// The pod group of a template, if it names one of the scenario's (a hand-built
    /// scenario's out-of-range index counts as none).
    fn group_of(&self, template: &PodTemplate) -> Option<u32> {
        template
            .pod_group
            .filter(|&g| (g as usize) < self.groups.len())
    }

    fn group_of_pod(&self, pod: PodId, ctx: &Ctx<'_>) -> Option<u32> {
        if self.groups.is_empty() {
            return None;
        }
        ctx.cluster
            .pod(pod)
            .and_then(|p| self.group_of(&p.template))
    }

    /// Starts (or restarts) a group's wait now, with a timer at its timeout. The timer
    /// does not keep a run alive: a group that can never be admitted must not keep a run
    /// without `duration` going.
    fn restart_wait(&mut self, g: usize, ctx: &mut Ctx<'_>) {
        let timeout = SimTime::from_secs(u64::from(
            ctx.scenario.pod_groups[g].schedule_timeout_seconds,
        ));
        let group = &mut self.groups[g];
        group.waiting_since = ctx.now;
        group.generation = group.generation.wrapping_add(1);
        let generation = group.generation;
        ctx.at(
            ctx.now.saturating_add(timeout),
            Event::Gang(GangEvent::Timeout {
                group: g as u32,
                generation,
            }),
        );
    }

    /// Starts a group's wait if it is not running and the group now waits: it has
    /// pending pods and fewer than minMember bound.
    fn may_wait(&mut self, g: u32, ctx: &mut Ctx<'_>) {
        let group = &self.groups[g as usize];
        if group.waiting_since == SimTime::MAX
            && !group.pending.is_empty()
            && ctx.cluster.group_bound(g) < ctx.scenario.pod_groups[g as usize].min_member
        {
            self.restart_wait(g as usize, ctx);
        }
    }

    /// Stops a group's wait: it has no pending pods, or is admitted.
    fn stop_wait(&mut self, g: usize) {
        let group = &mut self.groups[g];
        group.waiting_since = SimTime::MAX;
        group.generation = group.generation.wrapping_add(1);
    }

    /// A pending pod of a group stops pending (bound or rejected); the group's wait ends
    /// if it has no pending pod left or is admitted.
    fn leave(&mut self, pod: PodId, g: u32, ctx: &Ctx<'_>) {
        let pending = &mut self.groups[g as usize].pending;
        if let Some(i) = pending.iter().position(|&p| p == pod) {
            pending.remove(i);
        }
        if pending.is_empty()
            || ctx.cluster.group_bound(g) >= ctx.scenario.pod_groups[g as usize].min_member
        {
            self.stop_wait(g as usize);
        }
    }

    /// Rejects every member of group `g` waiting at Permit: each gives its node back and
    /// is pending again.
    fn reject_waiting(&mut self, g: usize, cause: PermitRejection, ctx: &mut Ctx<'_>) {
        if ctx.cluster.group_waiting(g as u32) == 0 {
            return;
        }
        for &pod in &self.groups[g].pending {
            if ctx
                .cluster
                .pod(pod)
                .is_some_and(|p| p.phase == PodPhase::Waiting)
                && let Ok(node) = ctx.cluster.release(pod)
            {
                ctx.publish(Fact::PermitRejected { pod, node, cause });
            }
        }
    }

    /// A group waited its `scheduleTimeoutSeconds` without being admitted.
    fn timeout(&mut self, g: usize, ctx: &mut Ctx<'_>) {
        let bound = ctx.cluster.group_bound(g as u32);
        if self.groups[g].pending.is_empty() || bound >= ctx.scenario.pod_groups[g].min_member {
            self.stop_wait(g);
            return;
        }
        self.reject_waiting(g, PermitRejection::Timeout, ctx);
        ctx.publish(Fact::GangTimedOut {
            group: g as u32,
            bound,
        });
        for &pod in &self.groups[g].pending {
            ctx.publish(Fact::MemberTimedOut {
                pod,
                group: g as u32,
                bound,
            });
        }
        ctx.then(Event::Gang(GangEvent::Rewait { group: g as u32 }));
    }
}

impl Controller for Gangs {
    type Event = GangEvent;

    fn on(&mut self, event: GangEvent, ctx: &mut Ctx<'_>) {
        match event {
            GangEvent::Timeout { group, generation } => {
                if self
                    .groups
                    .get(group as usize)
                    .is_some_and(|g| g.generation == generation)
                {
                    self.timeout(group as usize, ctx);
                }
            }
            GangEvent::Rewait { group } => self.restart_wait(group as usize, ctx),
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        if self.groups.is_empty() {
            return;
        }
        match fact {
            Fact::PodCreated { pod, .. } => {
                if let Some(g) = self.group_of_pod(*pod, ctx) {
                    self.groups[g as usize].pending.push(*pod);
                    self.may_wait(g, ctx);
                }
            }
            Fact::PodActivated { pod } => {
                // The group is attempted in one cycle (the gang check sees only the pods
                // of one cycle), so its waiting members follow the pod into the queue.
                if let Some(g) = self.group_of_pod(*pod, ctx) {
                    for &member in &self.groups[g as usize].pending {
                        ctx.then(Event::Queue(QueueEvent::ActivateMember { pod: member }));
                    }
                }
            }
            Fact::PodBound { pod, .. } | Fact::PodRejected { pod } => {
                if let Some(g) = self.group_of_pod(*pod, ctx) {
                    self.leave(*pod, g, ctx);
                }
            }
            Fact::PodEvicted {
                pod,
                graceful: true,
                ..
            } => {
                // A terminating member no longer counts: its group may be short again.
                if let Some(g) = self.group_of_pod(*pod, ctx) {
                    self.may_wait(g, ctx);
                }
            }
            Fact::PermitRejected {
                pod,
                cause: PermitRejection::Evicted,
                ..
            } => {
                if let Some(g) = self.group_of_pod(*pod, ctx) {
                    self.reject_waiting(g as usize, PermitRejection::Group, ctx);
                }
            }
            Fact::PodDeleted { pod, .. } => {
                let Some((g, node, waited)) = ctx.departed(*pod).and_then(|p| {
                    let g = self.group_of(&p.template)?;
                    Some((g, p.node, p.phase == PodPhase::Waiting))
                }) else {
                    return;
                };
                if node.is_none() || waited {
                    let pending = &mut self.groups[g as usize].pending;
                    if let Some(i) = pending.iter().position(|&p| p == *pod) {
                        pending.remove(i);
                    }
                }
                if waited {
                    // Deleted while waiting at Permit: its group is rejected.
                    self.reject_waiting(g as usize, PermitRejection::Group, ctx);
                }
                if node.is_some() {
                    self.may_wait(g, ctx);
                }
            }
            _ => {}
        }
    }
}
