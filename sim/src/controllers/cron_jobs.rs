//! The CronJob controller: creates each CronJob's Jobs at the times its schedule names,
//! after upstream's `pkg/controller/cronjob/cronjob_controllerv2.go` (`syncCronJob`).
//!
//! The Jobs a CronJob may create in the run are laid out when the scenario loads (one Job
//! workload per scheduled time within the horizon, named `<cronjob>-<Unix minutes>`; see
//! [`crate::scenario::cron_jobs`]); this controller decides, at each scheduled time,
//! whether its Job is created, and hands it to the job controller
//! ([`JobEvent::Start`]), which runs it like any Job.
//!
//! - `Allow`: every scheduled time creates its Job.
//! - `Forbid`: a scheduled time while a Job of the CronJob is active is not run then. As
//!   upstream, the controller syncs again when that Job finishes and runs the most recent
//!   missed time then, late, unless `startingDeadlineSeconds` have passed since it (then
//!   the time is skipped); a later scheduled time replaces an earlier missed one.
//! - `Replace`: the active Jobs are deleted, with their pods ([`JobEvent::Delete`]),
//!   and the new Job is created.
//!
//! A cluster snapshot's running Job owned by a CronJob (`CronJob::adopted`) is one of its
//! active Jobs from the start (the job controller starts it as any Job): Forbid holds
//! scheduled times back until it finishes, Replace deletes it.
//!
//! Simplified: the controller is never late itself, so `startingDeadlineSeconds` only
//! matters to Forbid's late runs; `suspend` is fixed for the run (a suspended CronJob
//! schedules nothing); finished Jobs are not kept (`successfulJobsHistoryLimit`,
//! `failedJobsHistoryLimit` have nothing to prune); `timeZone` only moves the laid-out times
//! (`crate::scenario::cron_jobs::Zone`).

use crate::controllers::Controller;
use crate::controllers::jobs::JobEvent;
use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::scenario::Scenario;
use crate::scenario::cron_jobs::ConcurrencyPolicy;

/// The CronJob controller's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CronJobEvent {
    /// A CronJob's scheduled time.
    Scheduled {
        /// The CronJob's index in the scenario's `cron_jobs`.
        cron_job: u32,
        /// Which of its runs.
        run: u32,
    },
}

/// One CronJob's status.
#[derive(Debug, Default)]
struct Status {
    /// Its active Jobs (workload indices), in creation order.
    active: Vec<u32>,
    /// The most recent scheduled time Forbid held back (a run index).
    missed: Option<u32>,
}

/// Every CronJob of the scenario.
#[derive(Debug, Default)]
pub struct CronJobs {
    /// By CronJob index.
    status: Vec<Status>,
    /// By workload index: the CronJob that owns the Job workload, if any.
    owner: Vec<Option<u32>>,
}

impl CronJobs {
    /// The CronJobs of `scenario`; queues each one's first scheduled time.
    pub(crate) fn start(scenario: &Scenario, ctx: &mut Ctx<'_>) -> CronJobs {
        let mut owner = vec![None; scenario.workloads.len()];
        for (c, cron) in scenario.cron_jobs.iter().enumerate() {
            for &(_, w) in &cron.runs {
                owner[w as usize] = Some(c as u32);
            }
            for &w in &cron.adopted {
                owner[w as usize] = Some(c as u32);
            }
            if let Some(&(at, _)) = cron.runs.first() {
                ctx.at(
                    at,
                    Event::CronJobs(CronJobEvent::Scheduled {
                        cron_job: c as u32,
                        run: 0,
                    }),
                );
            }
        }
        CronJobs {
            status: scenario
                .cron_jobs
                .iter()
                .map(|c| Status {
                    active: c.adopted.clone(),
                    missed: None,
                })
                .collect(),
            owner,
        }
    }

    /// Creates the Job of `run`: the job controller starts it at once.
    fn create(&mut self, c: usize, run: u32, ctx: &mut Ctx<'_>) {
        let workload = ctx.scenario.cron_jobs[c].runs[run as usize].1;
        self.status[c].active.push(workload);
        ctx.publish(Fact::JobCreated { workload });
        ctx.then(Event::Jobs(JobEvent::Start { workload }));
    }

    /// One scheduled time.
    fn scheduled(&mut self, c: usize, run: u32, ctx: &mut Ctx<'_>) {
        let scenario = ctx.scenario;
        let cron = &scenario.cron_jobs[c];
        if let Some(&(at, _)) = cron.runs.get(run as usize + 1) {
            ctx.at(
                at,
                Event::CronJobs(CronJobEvent::Scheduled {
                    cron_job: c as u32,
                    run: run + 1,
                }),
            );
        }
        let status = &mut self.status[c];
        match cron.concurrency_policy {
            ConcurrencyPolicy::Allow => {}
            ConcurrencyPolicy::Forbid if !status.active.is_empty() => {
                status.missed = Some(run);
                return;
            }
            ConcurrencyPolicy::Forbid => {}
            ConcurrencyPolicy::Replace => {
                for workload in status.active.drain(..) {
                    ctx.then(Event::Jobs(JobEvent::Delete { workload }));
                }
            }
        }
        status.missed = None;
        self.create(c, run, ctx);
    }

    /// A Job finished (Complete or Failed): under Forbid, the most recent missed time
    /// runs now if its starting deadline allows.
    fn finished(&mut self, workload: u32, ctx: &mut Ctx<'_>) {
        let Some(c) = self.owner.get(workload as usize).copied().flatten() else {
            return;
        };
        let c = c as usize;
        let status = &mut self.status[c];
        status.active.retain(|&w| w != workload);
        if !status.active.is_empty() {
            return;
        }
        let Some(run) = status.missed.take() else {
            return;
        };
        let scenario = ctx.scenario;
        let cron = &scenario.cron_jobs[c];
        let scheduled = cron.runs[run as usize].0;
        let late = ctx.now.saturating_sub(scheduled);
        if cron.starting_deadline.is_none_or(|d| late <= d) {
            self.create(c, run, ctx);
        }
    }
}

impl Controller for CronJobs {
    type Event = CronJobEvent;

    fn on(&mut self, event: CronJobEvent, ctx: &mut Ctx<'_>) {
        match event {
            CronJobEvent::Scheduled { cron_job, run } => {
                self.scheduled(cron_job as usize, run, ctx);
            }
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        if let Fact::JobCompleted { workload, .. } | Fact::JobFailed { workload, .. } = fact {
            self.finished(*workload, ctx);
        }
    }
}
