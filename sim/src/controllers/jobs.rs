//! The job controller: runs each `job:` workload's pods to completion, as upstream's
//! (pkg/controller/job/job_controller.go, `syncJob` and `manageJob`, with
//! `backoff_utils.go`) does for a NonIndexed Job.
//!
//! - At the Job's start (`status.startTime`, its `at`) and whenever one of its pods
//!   leaves, it keeps `min(parallelism, completions - succeeded)` pods active, creating
//!   the missing ones one at a time at that instant.
//! - A pod that leaves Succeeded counts towards `completions`; one that leaves otherwise
//!   (Failed, evicted, its node gone) counts as failed. After failures, new pods wait the
//!   pod-failure back-off: 10 s (`DefaultJobPodFailureBackOff`) doubling per failure since
//!   the last success, capped at 10 minutes (`MaxJobPodFailureBackOff`; the Job docs say
//!   six minutes, the code says ten), counted from the last failure
//!   (`getRemainingTimeForFailuresCount`).
//! - The Job fails with `BackoffLimitExceeded` when its failed pods exceed
//!   `backoffLimit`, or, under restartPolicy OnFailure, when the in-place restarts of its
//!   active pods reach it (`pastBackoffLimitOnFailure`); with `DeadlineExceeded` once
//!   `activeDeadlineSeconds` have passed since its start. Its active pods are then
//!   deleted: pending ones at once, bound ones gracefully through the kubelet
//!   ([`EvictionReason::JobTerminated`]).
//!
//! - A pod creation the API server refuses (a ResourceQuota, a LimitRange) fails the
//!   sync, which is requeued with the controller's API back-off, 1 s doubling to a
//!   minute (`DefaultJobApiBackOff`, `MaxJobApiBackOff`).
//!
//! A cluster snapshot's Job (`Workload::adopted`, `JobSpec::succeeded`) starts with the
//! completions its `status.succeeded` shows (or its Succeeded pods, when it has none) and
//! its bound pods as its first active pods: they are created first, pinned to the
//! snapshot's nodes by `nodeName`, so the kubelet admits them there without the
//! scheduler; only what `parallelism` and the remaining completions still need is
//! created beyond them. A snapshot's Job that is already complete creates nothing. Its
//! `status.failed` counts towards `backoffLimit` (`JobSpec::failed`): a Job already past
//! it fails with `BackoffLimitExceeded` at its start and creates nothing, and one below
//! it fails after fewer new failures. Its `status.startTime`, measured against the
//! snapshot's "now" (`JobSpec::started_before`), starts `activeDeadlineSeconds` before
//! the run: a Job already past it fails with `DeadlineExceeded` at its start (upstream's
//! `pastActiveDeadline`, checked after the backoff limit as `syncJob` does), and its
//! adopted pods run what is left of their duration (`Workload::adopted_ran`,
//! [`left_to_run`]). Simplified there: those failures do not lengthen the pod-failure
//! back-off (the snapshot does not say when they happened relative to the last
//! success).
//!
//! Simplified: a pod counts when it leaves the cluster or, evicted, begins terminating
//! (upstream replaces a terminating pod at once, podReplacementPolicy
//! TerminatingOrFailed, but counts it failed once it is terminal); no Indexed completion mode,
//! `podFailurePolicy`, `successPolicy`, `suspend`, `backoffLimitPerIndex` or
//! `ttlSecondsAfterFinished`; a Job's finished pods are removed at once instead of staying
//! in the API. Whether a run of a pod fails is drawn when the pod is created, from the
//! Job's own stream ([`Concern::JobFailures`]), and carried by the pod
//! ([`schedulers::Pod::failing_runs`]) for the kubelet.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use schedulers::{PodId, PodPhase};

use crate::controllers::Controller;
use crate::controllers::admission::{self, CreateBackoff};
use crate::controllers::kubelet::KubeletEvent;
use crate::controllers::workloads::{left_to_run, new_pod_from};
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact, JobFailureReason};
use crate::rng::{Concern, stream};
use crate::scenario::{JobSpec, RestartPolicy, Scenario, WorkloadKind};
use crate::time::SimTime;

/// The first pod-failure back-off (`DefaultJobPodFailureBackOff`).
pub const POD_FAILURE_BACKOFF: SimTime = SimTime::from_secs(10);
/// The longest pod-failure back-off (`MaxJobPodFailureBackOff`).
pub const MAX_POD_FAILURE_BACKOFF: SimTime = SimTime::from_secs(600);

/// The job controller's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEvent {
    /// A Job is created and starts.
    Start {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// A Job is synced again: its back-off is over, or it created a pod and wants more.
    Sync {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// A Job is synced again after the API server refused one of its pods.
    Retry {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// A Job's `activeDeadlineSeconds` have passed.
    Deadline {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// A Job is deleted (a CronJob's `Replace`): its active pods are deleted and it
    /// creates no more, without a Complete or Failed condition.
    Delete {
        /// The workload's index in the scenario.
        workload: u32,
    },
}

impl JobEvent {
    /// A retry waits for a pod of its namespace to free its quota, so it does not keep a
    /// run without a horizon alive.
    pub(crate) fn keeps_run_alive(&self) -> bool {
        !matches!(self, JobEvent::Retry { .. })
    }
}

/// One Job's status and streams.
#[derive(Debug)]
struct Job {
    started: Option<SimTime>,
    /// Complete or Failed: nothing more happens to it.
    done: bool,
    /// Why it failed, once it has.
    failure: Option<JobFailureReason>,
    succeeded: u32,
    failed: u32,
    /// Failed pods since the last success, and when the last one failed: the back-off.
    failures_since_success: u32,
    last_failure: SimTime,
    /// The time of the back-off's queued sync, if one is queued.
    sync_at: Option<SimTime>,
    /// Pods created so far (their ordinals).
    created: u32,
    /// Its active pods: pending, bound or running, not being deleted.
    active: Vec<PodId>,
    durations: ChaCha8Rng,
    sizes: ChaCha8Rng,
    outcomes: ChaCha8Rng,
    /// The requeue after refused creations.
    api_backoff: CreateBackoff,
}

/// Every Job of the scenario.
#[derive(Debug, Default)]
pub struct Jobs {
    /// By workload index; `None` for workloads that are not Jobs.
    jobs: Vec<Option<Job>>,
}

impl Jobs {
    /// The completions so far of workload `w`'s Job once it has started (`None` before,
    /// or for a workload that is not a Job); read by [`crate::Simulation::workloads`].
    pub(crate) fn succeeded(&self, w: usize) -> Option<u32> {
        let job = self.jobs.get(w)?.as_ref()?;
        job.started.map(|_| job.succeeded)
    }

    /// Workload `w`'s Job's failed pods so far (`status.failed`) and, once it has failed,
    /// why (its Failed condition); read by [`crate::Simulation::workloads`].
    pub(crate) fn failures(&self, w: usize) -> (u32, Option<JobFailureReason>) {
        self.jobs
            .get(w)
            .and_then(Option::as_ref)
            .map_or((0, None), |job| (job.failed, job.failure))
    }

    /// Whether workload `w`'s Job has finished (Complete, Failed, or deleted by its
    /// CronJob): nothing more happens to it.
    pub(crate) fn finished(&self, w: usize) -> bool {
        self.jobs
            .get(w)
            .and_then(Option::as_ref)
            .is_some_and(|job| job.done)
    }

    /// The Jobs of `scenario` with their streams for `seed`; sets each one's start,
    /// except for a CronJob's Jobs, which their CronJob starts (or not).
    pub(crate) fn start(scenario: &Scenario, seed: u64, ctx: &mut Ctx<'_>) -> Jobs {
        let mut scheduled = vec![false; scenario.workloads.len()];
        for &(_, w) in scenario.cron_jobs.iter().flat_map(|c| &c.runs) {
            scheduled[w as usize] = true;
        }
        let jobs = scenario
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let WorkloadKind::Job { at, .. } = w.kind else {
                    return None;
                };
                if !scheduled[i] {
                    ctx.at(at, Event::Jobs(JobEvent::Start { workload: i as u32 }));
                }
                let i = i as u64;
                Some(Job {
                    started: None,
                    done: false,
                    failure: None,
                    succeeded: match &w.kind {
                        WorkloadKind::Job { spec, .. } => spec.succeeded,
                        _ => 0,
                    },
                    // A snapshot's failed pods count towards its backoffLimit.
                    failed: match &w.kind {
                        WorkloadKind::Job { spec, .. } => spec.failed,
                        _ => 0,
                    },
                    failures_since_success: 0,
                    last_failure: SimTime::ZERO,
                    sync_at: None,
                    created: 0,
                    active: Vec::new(),
                    durations: stream(seed, Concern::Durations, i),
                    sizes: stream(seed, Concern::Sizes, i),
                    outcomes: stream(seed, Concern::JobFailures, i),
                    api_backoff: CreateBackoff::job_api(),
                })
            })
            .collect();
        Jobs { jobs }
    }

    fn spec(ctx: &Ctx<'_>, w: usize) -> Option<JobSpec> {
        match &ctx.scenario.workloads.get(w)?.kind {
            WorkloadKind::Job { spec, .. } => Some(spec.clone()),
            _ => None,
        }
    }

    fn started(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        let Some(job) = self.jobs.get_mut(w).and_then(Option::as_mut) else {
            return;
        };
        job.started = Some(ctx.now);
        let spec = Self::spec(ctx, w);
        if spec
            .as_ref()
            .is_some_and(|s| s.succeeded > 0 && s.succeeded >= s.completions)
        {
            // A snapshot's Job that completed before the run: nothing more to do.
            job.done = true;
            return;
        }
        if let Some(reason) = spec.as_ref().and_then(|s| s.failed_before) {
            // A snapshot's Job that had failed before the run (its Failed condition).
            self.fail(w, reason, ctx);
            return;
        }
        if spec.as_ref().is_some_and(|s| s.failed > s.backoff_limit) {
            // A snapshot's Job already past its backoffLimit: it fails at its start.
            self.fail(w, JobFailureReason::BackoffLimitExceeded, ctx);
            return;
        }
        // A snapshot's Job counts its deadline from its `status.startTime`, before the
        // run; one already past it fails now (upstream's `pastActiveDeadline`: elapsed
        // >= allowed).
        if let Some((deadline, before)) =
            spec.and_then(|s| Some((s.active_deadline?, s.started_before)))
        {
            if before > SimTime::ZERO && before >= deadline {
                self.fail(w, JobFailureReason::DeadlineExceeded, ctx);
                return;
            }
            ctx.at(
                ctx.now.saturating_add(deadline.saturating_sub(before)),
                Event::Jobs(JobEvent::Deadline { workload: w as u32 }),
            );
        }
        self.sync(w, ctx);
    }

    /// `manageJob`: creates one missing pod now, or waits out the back-off; asks to be
    /// synced again while pods are missing.
    fn sync(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        let Some(spec) = Self::spec(ctx, w) else {
            return;
        };
        let Some(job) = self.jobs.get_mut(w).and_then(Option::as_mut) else {
            return;
        };
        if job.done || job.started.is_none() {
            return;
        }
        let want = spec
            .parallelism
            .min(spec.completions.saturating_sub(job.succeeded));
        if job.active.len() as u32 >= want {
            return;
        }
        let ready_at = job
            .last_failure
            .saturating_add(pod_failure_backoff(job.failures_since_success));
        if job.failures_since_success > 0 && ready_at > ctx.now {
            if job.sync_at != Some(ready_at) {
                job.sync_at = Some(ready_at);
                ctx.at(ready_at, Event::Jobs(JobEvent::Sync { workload: w as u32 }));
            }
            return;
        }
        let workload = &ctx.scenario.workloads[w];
        // A snapshot's pods first, on their nodes.
        let adopted = usize::try_from(job.created)
            .ok()
            .filter(|&i| i < workload.adopted.len());
        let template = adopted.map_or(&workload.template, |i| &workload.adopted[i]);
        let ran = adopted
            .and_then(|i| workload.adopted_ran.get(i).copied())
            .unwrap_or(SimTime::ZERO);
        let (mut pod, run_for) = new_pod_from(
            workload,
            std::sync::Arc::clone(template),
            w,
            job.created,
            &mut job.sizes,
            &mut job.durations,
            ctx.now,
        );
        // An adopted pod runs what is left of its duration.
        let run_for = left_to_run(&mut pod, run_for, ran);
        job.created += 1;
        // A pod under Never runs once; under OnFailure it runs until one run succeeds,
        // and more failures than the limit allows need not be drawn.
        let cap = match spec.restart_policy {
            RestartPolicy::Never => 0,
            RestartPolicy::OnFailure => spec.backoff_limit,
        };
        let mut failing = 0;
        while failing <= cap && job.outcomes.random::<f64>() < spec.failure_probability {
            failing += 1;
        }
        pod.failing_runs = failing;
        let Some(id) = admission::create_pod(ctx, pod, run_for) else {
            // The refused pod never existed: the next try takes its name.
            job.created -= 1;
            // The sync failed: requeued with the controller's API back-off.
            let retry = Event::Jobs(JobEvent::Retry { workload: w as u32 });
            job.api_backoff.requeue(ctx, retry);
            return;
        };
        job.api_backoff.succeeded();
        job.active.push(id);
        let more = (job.active.len() as u32) < want;
        // The next pod exists once this one is processed (queued).
        if more {
            ctx.then(Event::Jobs(JobEvent::Sync { workload: w as u32 }));
        }
    }

    /// One of a Job's pods stopped being active: it left Succeeded, or it failed (left
    /// otherwise, or began terminating).
    fn pod_left(&mut self, pod: PodId, owner: u32, phase: PodPhase, ctx: &mut Ctx<'_>) {
        let Some(job) = self.jobs.get_mut(owner as usize).and_then(Option::as_mut) else {
            return;
        };
        let Some(at) = job.active.iter().position(|&p| p == pod) else {
            return;
        };
        job.active.swap_remove(at);
        if job.done {
            return;
        }
        if phase == PodPhase::Succeeded {
            job.succeeded += 1;
            job.failures_since_success = 0;
        } else {
            job.failed += 1;
            job.failures_since_success += 1;
            job.last_failure = ctx.now;
        }
        self.check(owner as usize, ctx);
    }

    /// `syncJob`'s verdict: Failed, Complete, or more pods.
    fn check(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        let Some(spec) = Self::spec(ctx, w) else {
            return;
        };
        let past_limit = self.past_limit_on_failure(w, &spec, ctx);
        let Some(job) = self.jobs.get_mut(w).and_then(Option::as_mut) else {
            return;
        };
        if job.done {
            return;
        }
        if job.failed > spec.backoff_limit || past_limit {
            self.fail(w, JobFailureReason::BackoffLimitExceeded, ctx);
        } else if job.succeeded >= spec.completions {
            job.done = true;
            let duration = ctx.now.saturating_sub(job.started.unwrap_or(ctx.now));
            ctx.publish(Fact::JobCompleted {
                workload: w as u32,
                duration,
            });
        } else {
            self.sync(w, ctx);
        }
    }

    /// `pastBackoffLimitOnFailure`: the in-place restarts of the active pods reach the
    /// limit (any restart, for a limit of 0).
    fn past_limit_on_failure(&self, w: usize, spec: &JobSpec, ctx: &Ctx<'_>) -> bool {
        if spec.restart_policy != RestartPolicy::OnFailure {
            return false;
        }
        let Some(job) = self.jobs.get(w).and_then(Option::as_ref) else {
            return false;
        };
        let restarts: u32 = job
            .active
            .iter()
            .filter_map(|&p| ctx.cluster.pod(p))
            .map(|p| p.restarts)
            .sum();
        if spec.backoff_limit == 0 {
            restarts > 0
        } else {
            restarts >= spec.backoff_limit
        }
    }

    /// The Job fails: its active pods are deleted.
    fn fail(&mut self, w: usize, reason: JobFailureReason, ctx: &mut Ctx<'_>) {
        let Some(job) = self.jobs.get_mut(w).and_then(Option::as_mut) else {
            return;
        };
        job.done = true;
        job.failure = Some(reason);
        let duration = ctx.now.saturating_sub(job.started.unwrap_or(ctx.now));
        ctx.publish(Fact::JobFailed {
            workload: w as u32,
            reason,
            duration,
        });
        self.delete_pods(w, ctx);
    }

    /// The Job is deleted: it stops, and its active pods are deleted.
    fn delete(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        let Some(job) = self.jobs.get_mut(w).and_then(Option::as_mut) else {
            return;
        };
        if job.done {
            return;
        }
        job.done = true;
        self.delete_pods(w, ctx);
    }

    /// Deletes a Job's active pods: pending ones at once, bound ones gracefully through
    /// the kubelet.
    fn delete_pods(&mut self, w: usize, ctx: &mut Ctx<'_>) {
        let Some(job) = self.jobs.get_mut(w).and_then(Option::as_mut) else {
            return;
        };
        for i in 0..job.active.len() {
            let pod = job.active[i];
            if ctx.cluster.pod(pod).is_some_and(|p| p.node.is_some()) {
                ctx.then(Event::Kubelet(KubeletEvent::Evict {
                    pod,
                    reason: EvictionReason::JobTerminated,
                }));
            } else {
                ctx.remove_pod(pod, false);
            }
        }
    }
}

/// The pod-failure back-off after `failures` failures since the last success: none for
/// none, then 10 s doubling, capped at [`MAX_POD_FAILURE_BACKOFF`].
pub fn pod_failure_backoff(failures: u32) -> SimTime {
    if failures == 0 {
        return SimTime::ZERO;
    }
    let doublings = (failures - 1).min(16);
    let wait = POD_FAILURE_BACKOFF.as_micros() << doublings;
    SimTime::from_micros(wait.min(MAX_POD_FAILURE_BACKOFF.as_micros()))
}

impl Controller for Jobs {
    type Event = JobEvent;

    fn on(&mut self, event: JobEvent, ctx: &mut Ctx<'_>) {
        match event {
            JobEvent::Start { workload } => self.started(workload as usize, ctx),
            JobEvent::Sync { workload } => {
                if let Some(job) = self
                    .jobs
                    .get_mut(workload as usize)
                    .and_then(Option::as_mut)
                    && job.sync_at == Some(ctx.now)
                {
                    job.sync_at = None;
                }
                self.sync(workload as usize, ctx);
            }
            JobEvent::Retry { workload } => {
                if let Some(job) = self
                    .jobs
                    .get_mut(workload as usize)
                    .and_then(Option::as_mut)
                {
                    job.api_backoff.fired();
                }
                self.sync(workload as usize, ctx);
            }
            JobEvent::Deadline { workload } => {
                let w = workload as usize;
                if self
                    .jobs
                    .get(w)
                    .and_then(Option::as_ref)
                    .is_some_and(|j| !j.done)
                {
                    self.fail(w, JobFailureReason::DeadlineExceeded, ctx);
                }
            }
            JobEvent::Delete { workload } => self.delete(workload as usize, ctx),
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::PodDeleted { pod, .. } => {
                if let Some((owner, phase)) = ctx.departed(*pod).map(|p| (p.owner, p.phase)) {
                    self.pod_left(*pod, owner, phase, ctx);
                }
            }
            // Evicted and terminating: replaced at once (upstream's default
            // podReplacementPolicy, TerminatingOrFailed), and counted as failed.
            Fact::PodEvicted {
                pod,
                graceful: true,
                ..
            } => {
                if let Some(owner) = ctx.cluster.pod(*pod).map(|p| p.owner) {
                    self.pod_left(*pod, owner, PodPhase::Failed, ctx);
                }
            }
            Fact::PodFailed {
                pod,
                restarting: true,
            } => {
                if let Some(owner) = ctx.cluster.pod(*pod).map(|p| p.owner) {
                    self.check(owner as usize, ctx);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_to_ten_minutes() {
        let secs: Vec<u64> = (0..9)
            .map(|n| pod_failure_backoff(n).as_micros() / 1_000_000)
            .collect();
        assert_eq!(secs, [0, 10, 20, 40, 80, 160, 320, 600, 600]);
        assert_eq!(pod_failure_backoff(u32::MAX), MAX_POD_FAILURE_BACKOFF);
    }
}
