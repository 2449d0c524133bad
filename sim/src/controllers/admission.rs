//! The API server's admission of pod creations: the one way a controller's pod enters
//! the cluster ([`create_pod`]).
//!
//! A pod whose workload's template a LimitRange forbids
//! ([`crate::scenario::Workload::forbidden`], decided when the scenario was built), or
//! that would exceed a ResourceQuota of its namespace
//! ([`crate::scenario::admission::ResourceQuota::admit`]), is refused: it never exists,
//! and [`Fact::CreateRefused`] carries upstream's message for the trace and the summary.
//! The LimitRanger is checked first, as it precedes the ResourceQuota plugin in the
//! API server's admission chain; of several quotas, the first in file order that refuses
//! names itself, as upstream's evaluator returns its first error.
//!
//! Usage is counted from the cluster at each creation (the namespace's pods that are not
//! Succeeded or Failed), not kept as a ResourceQuota's `status.used`: upstream's quota
//! controller recalculates the same figure, so it is never stale here. Counting costs a
//! pass over the cluster's pods, and only for creations in a namespace with a quota.
//!
//! Controllers that retry a refused creation do so through [`CreateBackoff`], client-go's
//! per-item exponential back-off (`ItemExponentialFailureRateLimiter`) with each
//! upstream controller's base and cap, so a refusal never retries at the same instant.
//! A retry waits for a pod of the namespace to free its share, as an unschedulable pod's
//! periodic retry waits for the cluster to change: it does not keep a run without a
//! horizon alive ([`crate::engine::Event::keeps_run_alive`]), so such a run ends once
//! only retries remain.

use schedulers::{Pod, PodId};

use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::scenario::admission::counts;
use crate::time::SimTime;

/// The first retry of the ReplicaSet and StatefulSet controllers
/// (`workqueue.DefaultControllerRateLimiter`: 5 ms, doubling).
pub const CONTROLLER_BACKOFF: SimTime = SimTime::from_millis(5);
/// Their longest wait between retries (1000 s).
pub const MAX_CONTROLLER_BACKOFF: SimTime = SimTime::from_secs(1000);
/// The job controller's first retry after an API error (`DefaultJobApiBackOff`).
pub const JOB_API_BACKOFF: SimTime = SimTime::from_secs(1);
/// Its longest (`MaxJobApiBackOff`).
pub const MAX_JOB_API_BACKOFF: SimTime = SimTime::from_secs(60);

/// Why `pod` may not be created, as upstream words it after `pods "NAME" is forbidden: `.
fn refusal(ctx: &Ctx<'_>, pod: &Pod) -> Option<String> {
    if let Some(why) = ctx
        .scenario
        .workloads
        .get(pod.owner as usize)
        .and_then(|w| w.forbidden.as_deref())
    {
        return Some(why.to_owned());
    }
    let namespace = pod.template.namespace.as_str();
    for quota in ctx
        .scenario
        .quotas
        .iter()
        .filter(|q| q.namespace == namespace)
    {
        let used = quota.usage(
            ctx.cluster
                .pods()
                .map(|(_, p)| p)
                .filter(|p| p.template.namespace == namespace && counts(p)),
        );
        if let Err(why) = quota.admit(pod, &used) {
            return Some(why);
        }
    }
    None
}

/// Creates `pod` (to run for `run_for` once started) if admission lets it: adds it to
/// the cluster and publishes [`Fact::PodCreated`]. Otherwise publishes
/// [`Fact::CreateRefused`] for its workload (`pod.owner`) and returns `None`.
pub(crate) fn create_pod(ctx: &mut Ctx<'_>, pod: Pod, run_for: SimTime) -> Option<PodId> {
    if (!ctx.scenario.quotas.is_empty() || !ctx.scenario.limit_ranges.is_empty())
        && let Some(why) = refusal(ctx, &pod)
    {
        let message = format!("pods \"{}\" is forbidden: {why}", pod.name());
        ctx.publish(Fact::CreateRefused {
            workload: pod.owner,
            message: message.into(),
        });
        return None;
    }
    let id = ctx.cluster.add_pod(pod);
    ctx.publish(Fact::PodCreated { pod: id, run_for });
    Some(id)
}

/// A controller's requeue after refused creations: the delay doubles with each refusal
/// since the last success, from a base up to a cap, and one retry at most is queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateBackoff {
    /// The first delay.
    base: SimTime,
    /// The longest delay.
    max: SimTime,
    /// Refusals since the last success.
    failures: u32,
    /// When the queued retry fires, if one is queued.
    queued: Option<SimTime>,
}

impl CreateBackoff {
    /// The ReplicaSet and StatefulSet controllers' rate limiter.
    pub fn controller() -> Self {
        Self::new(CONTROLLER_BACKOFF, MAX_CONTROLLER_BACKOFF)
    }

    /// The job controller's back-off after API errors.
    pub fn job_api() -> Self {
        Self::new(JOB_API_BACKOFF, MAX_JOB_API_BACKOFF)
    }

    /// A back-off from `base` doubling up to `max`.
    pub fn new(base: SimTime, max: SimTime) -> Self {
        Self {
            base,
            max,
            failures: 0,
            queued: None,
        }
    }

    /// A creation was refused at `now`: the time of the retry to queue, or `None` when
    /// one is queued already.
    pub fn refused(&mut self, now: SimTime) -> Option<SimTime> {
        let delay = self
            .base
            .as_micros()
            .saturating_mul(1u64 << self.failures.min(40))
            .min(self.max.as_micros());
        self.failures = self.failures.saturating_add(1);
        if self.queued.is_some() {
            return None;
        }
        let at = now.saturating_add(SimTime(delay.max(1)));
        self.queued = Some(at);
        Some(at)
    }

    /// A creation was refused: queues `retry` at the back-off's next time, unless a retry
    /// is queued already (the sync failed and goes back to the work queue).
    pub(crate) fn requeue(&mut self, ctx: &mut Ctx<'_>, retry: Event) {
        if let Some(at) = self.refused(ctx.now) {
            ctx.at(at, retry);
        }
    }

    /// A creation succeeded: the next refusal waits `base` again (`Forget`).
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// The queued retry fired.
    pub fn fired(&mut self) {
        self.queued = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_to_its_cap_and_queues_one_retry() {
        let mut b = CreateBackoff::new(CONTROLLER_BACKOFF, SimTime::from_millis(18));
        let t = SimTime::from_secs(1);
        assert_eq!(
            b.refused(t),
            Some(t.saturating_add(SimTime::from_millis(5)))
        );
        // Queued already: no second timer, but the next delay doubled.
        assert_eq!(b.refused(t), None);
        b.fired();
        assert_eq!(
            b.refused(t),
            Some(t.saturating_add(SimTime::from_millis(18)))
        );
        b.fired();
        b.succeeded();
        assert_eq!(
            b.refused(t),
            Some(t.saturating_add(SimTime::from_millis(5)))
        );
    }
}
