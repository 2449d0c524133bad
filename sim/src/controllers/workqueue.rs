//! Work queues: a Service with `queue:` receives its load as items that wait, first in
//! first out, until a ready pod takes them, instead of requests dropped when no pod is
//! free. The queue plays the broker (a RabbitMQ or SQS queue) and the workers' pulls;
//! KEDA's scaler reads its length ([`Fact::QueueLength`]).
//!
//! The queue runs on a clock of its own (`step`, default 1 s, from the Deployment's
//! creation). At each step, in this order:
//!
//! 1. Arrivals: the items of the load over the step, counted exactly and without
//!    randomness: the running integral of the load (exact for constant, step and spike
//!    loads, the midpoint rule on the step for smooth ones) is floored, and the items it
//!    passed since the last step join the queue together, stamped with this step's time.
//!    Fluid counting keeps a run reproducible and a test computable by hand, and a
//!    0.5 requests/s load still gives one item every other step. Items beyond `capacity`
//!    are dropped ([`Fact::QueueDropped`], not expired).
//! 2. Expiry: items that have waited longer than `timeout` are dropped (a message TTL).
//! 3. Service: each ready pod serves its Service's per-pod capacity (`maxRequestsPerPod`
//!    items per second, or what its CPU limit pays for) over the step; whole items leave
//!    the head of the queue, a fraction carries over while items wait, and capacity
//!    unused while the queue is empty is lost (an idle worker banks no work). Served
//!    items report how long they waited ([`Fact::QueueServed`]), in whole steps: an item
//!    served at the step it arrived waited 0.
//!
//! The length KEDA's scaler reads counts the items waiting and those in progress (the
//! pods busy over the step, rounded up), as RabbitMQ's message count (ready plus
//! unacknowledged) and the SQS scaler's default `scaleOnInFlight` do: a worker that keeps
//! up with its queue is still active, and is not scaled to zero while it works.
//!
//! Simplifications: the ready count is the one at the step (a pod that turns ready
//! mid-step serves the whole step); a pod's deletion loses no item (a worker hands its
//! item back, as an unacknowledged message returns to the broker).

use std::collections::VecDeque;

use crate::controllers::Controller;
use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::scenario::dynamics::LoadProfile;
use crate::scenario::keda::WorkQueueSpec;
use crate::scenario::{Scenario, WorkloadKind};
use crate::time::SimTime;

/// The work queues' events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkQueueEvent {
    /// The queue of this workload takes a step.
    Step {
        /// The workload's index in the scenario.
        workload: u32,
    },
}

/// The longest piece the midpoint rule integrates a smooth load over.
const PIECE: SimTime = SimTime::from_secs(60);

/// One queue's state.
#[derive(Debug)]
struct Queue {
    /// Items per second one ready pod serves.
    per_pod: f64,
    ready: u32,
    /// (arrival step, items), oldest first: one entry per step at most, so the length
    /// is bounded by the capacity and the timeout, not by the items.
    cohorts: VecDeque<(SimTime, u64)>,
    length: u64,
    /// The load's integral since the Deployment's creation, in items.
    fluid: f64,
    /// Items counted as arrived so far (the integral, floored).
    arrived: u64,
    /// Service owed to the queue, in items (below one while items wait).
    credit: f64,
    /// The last step.
    last: SimTime,
    /// The length last published: items waiting plus items in progress.
    reported: u64,
}

/// Every work queue of a run.
#[derive(Debug, Default)]
pub struct WorkQueues {
    /// By workload index; `None` for workloads without a queue.
    queues: Vec<Option<Queue>>,
}

/// The workload's queue spec and load, when it has a queue.
fn spec(scenario: &Scenario, w: u32) -> Option<(&WorkQueueSpec, &LoadProfile)> {
    let s = scenario
        .workloads
        .get(w as usize)?
        .dynamics
        .as_ref()?
        .service
        .as_ref()?;
    Some((s.queue.as_ref()?, &s.load))
}

/// The load's integral over [`from`, `to`), in items.
pub fn integral(load: &LoadProfile, from: SimTime, to: SimTime) -> f64 {
    let piecewise = matches!(
        load,
        LoadProfile::Constant(_) | LoadProfile::Steps(_) | LoadProfile::Spike { .. }
    );
    let mut t = from;
    let mut sum = 0.0;
    while t < to {
        let mut end = load.next_jump(t).map_or(to, |j| j.min(to));
        if !piecewise {
            end = end.min(t.saturating_add(PIECE));
        }
        let mid = SimTime(t.as_micros() + (end.as_micros() - t.as_micros()) / 2);
        sum += load.at(mid) * end.saturating_sub(t).as_secs_f64();
        t = end;
    }
    sum
}

impl WorkQueues {
    /// The queues of `scenario`, each with its first step.
    pub(crate) fn start(scenario: &Scenario, ctx: &mut Ctx<'_>) -> WorkQueues {
        let mut queues = Vec::with_capacity(scenario.workloads.len());
        for (i, w) in scenario.workloads.iter().enumerate() {
            let service = w.dynamics.as_ref().and_then(|d| d.service.as_ref());
            let (Some(s), WorkloadKind::Deployment { at, .. }) = (service, &w.kind) else {
                queues.push(None);
                continue;
            };
            let Some(q) = &s.queue else {
                queues.push(None);
                continue;
            };
            ctx.at(
                at.saturating_add(q.step),
                Event::WorkQueue(WorkQueueEvent::Step { workload: i as u32 }),
            );
            queues.push(Some(Queue {
                per_pod: s.capacity_per_pod(&w.template),
                ready: 0,
                cohorts: VecDeque::new(),
                length: 0,
                fluid: 0.0,
                arrived: 0,
                credit: 0.0,
                last: *at,
                reported: 0,
            }));
        }
        WorkQueues { queues }
    }

    fn step(&mut self, w: u32, ctx: &mut Ctx<'_>) {
        let Some((spec, load)) = spec(ctx.scenario, w) else {
            return;
        };
        let Some(q) = self.queues.get_mut(w as usize).and_then(Option::as_mut) else {
            return;
        };
        let now = ctx.now;
        // 1. Arrivals.
        q.fluid += integral(load, q.last, now);
        let total = q.fluid.floor() as u64;
        let arrived = total.saturating_sub(q.arrived);
        q.arrived = total.max(q.arrived);
        let admitted = spec
            .capacity
            .map_or(arrived, |c| arrived.min(c.saturating_sub(q.length)));
        if admitted > 0 {
            q.cohorts.push_back((now, admitted));
            q.length += admitted;
        }
        if arrived > admitted {
            ctx.publish(Fact::QueueDropped {
                workload: w,
                items: arrived - admitted,
                expired: false,
            });
        }
        // 2. Expiry.
        if let Some(timeout) = spec.timeout {
            let mut expired = 0;
            while let Some(&(at, n)) = q.cohorts.front() {
                if at.saturating_add(timeout) >= now {
                    break;
                }
                q.cohorts.pop_front();
                expired += n;
            }
            if expired > 0 {
                q.length -= expired;
                ctx.publish(Fact::QueueDropped {
                    workload: w,
                    items: expired,
                    expired: true,
                });
            }
        }
        // 3. Service.
        let dt = now.saturating_sub(q.last).as_secs_f64();
        let mut budget = if q.ready == 0 {
            q.credit = 0.0;
            0
        } else if q.per_pod.is_infinite() {
            q.length
        } else {
            q.credit += q.per_pod * f64::from(q.ready) * dt;
            (q.credit.floor() as u64).min(q.length)
        };
        q.credit -= budget as f64;
        // Items in progress: the pods busy over the step, rounded up (a pod that served
        // anything holds an item), none when serving takes no time.
        let in_flight = if budget == 0 || q.per_pod.is_infinite() || dt == 0.0 {
            0
        } else {
            ((budget as f64 / (q.per_pod * dt)).ceil() as u64).min(u64::from(q.ready))
        };
        while budget > 0 {
            let Some(front) = q.cohorts.front_mut() else {
                break;
            };
            let n = front.1.min(budget);
            let waited = now.saturating_sub(front.0);
            front.1 -= n;
            if front.1 == 0 {
                q.cohorts.pop_front();
            }
            budget -= n;
            q.length -= n;
            ctx.publish(Fact::QueueServed {
                workload: w,
                items: n,
                waited,
            });
        }
        if q.length == 0 {
            q.credit = 0.0;
        }
        q.last = now;
        let length = q.length + in_flight;
        if length != q.reported {
            q.reported = length;
            ctx.publish(Fact::QueueLength {
                workload: w,
                length,
            });
        }
        ctx.at(
            now.saturating_add(spec.step),
            Event::WorkQueue(WorkQueueEvent::Step { workload: w }),
        );
    }
}

impl Controller for WorkQueues {
    type Event = WorkQueueEvent;

    fn on(&mut self, event: WorkQueueEvent, ctx: &mut Ctx<'_>) {
        match event {
            WorkQueueEvent::Step { workload } => self.step(workload, ctx),
        }
    }

    fn react(&mut self, fact: &Fact, _ctx: &mut Ctx<'_>) {
        if let Fact::EndpointsChanged { workload, ready } = fact
            && let Some(Some(q)) = self.queues.get_mut(*workload as usize)
        {
            q.ready = *ready;
        }
    }
}
