//! CronJob (batch/v1) from manifests: its `jobTemplate` becomes a Job workload (built by
//! the same code as a Job manifest), laid out once per time its `schedule` names within
//! the run's horizon, for the CronJob controller (`sim/src/controllers/cron_jobs.rs`)
//! to create or skip. See [`crate::scenario::cron_jobs`] for the schedule, the epoch and
//! the Jobs' names.

use std::sync::Arc;

use schedulers::yaml::Scalar;
use schedulers::yaml::kube::{RawControllerSpec, RawObjectMeta};
use schedulers::yaml::message::quoted;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::super::super::raw::{RawClaimTemplate, RawWorkload};
use super::super::workloads::Kind;
use super::super::{Builder, Result};
use super::{ManifestFile, Manifests, Modelled, Parsed, at, name_of, pod_fields, respell};
use crate::scenario::cron_jobs::{
    ConcurrencyPolicy, CronJob, MAX_RUNS, SNAPSHOT_TIME_ANNOTATION, Schedule, Zone, job_name_on,
    parse_wall_clock,
};
use crate::scenario::{Workload, WorkloadKind};
use crate::time::SimTime;

/// A CronJob.
#[derive(Debug, Deserialize)]
struct CronJobObject {
    metadata: Option<RawObjectMeta>,
    spec: Option<CronJobSpec>,
}

/// Its spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CronJobSpec {
    schedule: Option<Spanned<String>>,
    time_zone: Option<Spanned<String>>,
    concurrency_policy: Option<Spanned<String>>,
    suspend: Option<Spanned<bool>>,
    starting_deadline_seconds: Option<Spanned<Scalar>>,
    job_template: Option<JobTemplate>,
}

/// `jobTemplate`: a Job's metadata and spec.
#[derive(Debug, Default, Deserialize)]
struct JobTemplate {
    spec: Option<RawControllerSpec<RawClaimTemplate>>,
}

/// A CronJob read from the manifests, before its Jobs are laid out (a `manifestDynamics:`
/// entry may still give its pods a duration).
pub(in super::super) struct PlannedCronJob {
    /// The CronJob, without its runs yet.
    pub(in super::super) cron_job: CronJob,
    /// Its scheduled times within the horizon (none when suspended).
    pub(in super::super) times: Vec<SimTime>,
    /// The Job its template describes, named after the CronJob.
    pub(in super::super) job: Workload,
}

/// Lays out every planned CronJob's Jobs at the end of `workloads`, one per scheduled
/// time, each named `<cronjob>-<Unix minutes>`; a time whose Job the snapshot already
/// shows running (an adopted Job of that name) is not laid out again, as upstream's
/// create would find the name taken.
pub(in super::super) fn lay_out(
    planned: Vec<PlannedCronJob>,
    workloads: &mut Vec<Workload>,
) -> Vec<CronJob> {
    planned
        .into_iter()
        .map(|p| {
            let mut cron_job = p.cron_job;
            for at in p.times {
                let name = job_name_on(&cron_job.name, cron_job.clock, at);
                let taken = cron_job
                    .adopted
                    .iter()
                    .any(|&w| workloads[w as usize].template.name == name);
                if taken {
                    continue;
                }
                let mut template = (*p.job.template).clone();
                template.name = name;
                let mut job = p.job.clone();
                job.template = Arc::new(template);
                if let WorkloadKind::Job { at: start, .. } = &mut job.kind {
                    *start = at;
                }
                cron_job.runs.push((at, workloads.len() as u32));
                workloads.push(job);
            }
            cron_job
        })
        .collect()
}

impl<'f> Builder<'f> {
    /// Reads the manifests' CronJobs: schedule, policy and Job template.
    pub(in super::super) fn manifest_cron_jobs(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
    ) -> Result<Vec<PlannedCronJob>> {
        let mut out: Vec<PlannedCronJob> = Vec::new();
        for parsed in m.of_kind(files, Modelled::CronJob) {
            let Parsed { file, kube, o, raw }: Parsed<'_, '_, CronJobObject> = parsed?;
            let name = name_of(&kube, &raw.metadata, o)?;
            let name = kube.non_empty(&name, "metadata.name", "a CronJob name")?;
            if out
                .iter()
                .any(|p| p.cron_job.name == name && p.cron_job.namespace == o.namespace)
            {
                return Err(kube.err(
                    &o.at,
                    "metadata.name",
                    format!(
                        "duplicate CronJob {} in namespace {}",
                        quoted(&name),
                        quoted(&o.namespace)
                    ),
                ));
            }
            let spec = raw.spec.unwrap_or_default();
            let Some(schedule_text) = &spec.schedule else {
                return Err(kube.err(
                    &o.at,
                    "spec.schedule",
                    format!("CronJob {}: expected `spec.schedule`", quoted(&name)),
                ));
            };
            // Upstream's validation: the zone is `timeZone`'s to give.
            let text = schedule_text.value.trim_start();
            if text.starts_with("TZ=") || text.starts_with("CRON_TZ=") {
                return Err(kube.err(
                    &schedule_text.referenced,
                    "spec.schedule",
                    "cannot use TZ or CRON_TZ in schedule, use the timeZone field instead",
                ));
            }
            let zone = match &spec.time_zone {
                None => None,
                Some(z) => Some(
                    Zone::named(&z.value)
                        .map_err(|e| kube.err(&z.referenced, "spec.timeZone", e))?,
                ),
            };
            let schedule = Schedule::parse(&schedule_text.value).map_err(|e| {
                kube.err(
                    &schedule_text.referenced,
                    "spec.schedule",
                    format!("invalid schedule {}: {e}", quoted(&schedule_text.value)),
                )
            })?;
            let concurrency_policy = match &spec.concurrency_policy {
                None => ConcurrencyPolicy::Allow,
                Some(p) => kube.spelled::<ConcurrencyPolicy>(
                    p,
                    "spec.concurrencyPolicy",
                    "concurrency policy",
                )?,
            };
            let starting_deadline = match &spec.starting_deadline_seconds {
                None => None,
                Some(v) => {
                    let secs = kube.integer(
                        v,
                        "spec.startingDeadlineSeconds",
                        0,
                        i128::from(i64::MAX),
                        "a non-negative number of seconds",
                    )?;
                    Some(SimTime::from_secs(secs as u64))
                }
            };
            // A snapshot's CronJob goes on from the time the snapshot was taken.
            let annotations = raw.metadata.as_ref().and_then(|m| m.annotations.as_ref());
            let snapshot = annotations
                .into_iter()
                .flat_map(|a| &a.0)
                .find(|(k, _)| k.value == SNAPSHOT_TIME_ANNOTATION);
            let clock = match snapshot {
                None => SimTime::ZERO,
                Some((_, v)) => parse_wall_clock(&v.value).map_err(|e| {
                    kube.err(
                        &v.referenced,
                        &format!("metadata.annotations.{SNAPSHOT_TIME_ANNOTATION}"),
                        e,
                    )
                })?,
            };
            let suspended = spec.suspend.as_ref().is_some_and(|s| s.value);
            let times = if suspended {
                Vec::new()
            } else {
                let Some(horizon) = self.horizon else {
                    return Err(kube.err(
                        &schedule_text.referenced,
                        "spec.schedule",
                        format!(
                            "CronJob {} creates Jobs for ever, so the run would never end; give the scenario a horizon with a top-level `duration:` (e.g. `duration: 1h`)",
                            quoted(&name)
                        ),
                    ));
                };
                schedule.times_from(zone.as_ref(), clock, horizon, MAX_RUNS).ok_or_else(|| {
                    kube.err(
                        &schedule_text.referenced,
                        "spec.schedule",
                        format!(
                            "schedule {} names more than {MAX_RUNS} times within the scenario's duration",
                            quoted(&schedule_text.value)
                        ),
                    )
                })?
            };
            // The Job template, as a Job manifest's spec.
            let job_spec = spec.job_template.and_then(|t| t.spec).unwrap_or_default();
            let mut w = RawWorkload::default();
            let template = job_spec.template.unwrap_or_default();
            let tmeta = template.metadata.unwrap_or_default();
            let pod = template.spec.unwrap_or_default();
            w.restart_policy = pod.restart_policy.clone();
            w.completions = job_spec.completions;
            w.parallelism = job_spec.parallelism;
            w.backoff_limit = job_spec.backoff_limit;
            w.active_deadline_seconds = job_spec.active_deadline_seconds;
            pod_fields(&mut w, pod, tmeta.labels, tmeta.annotations);
            w.namespace = raw.metadata.and_then(|m| m.namespace);
            let fix = |f: &str| {
                respell(f, "", &|h| match h {
                    "namespace" => Some("metadata"),
                    "labels" | "annotations" => Some("spec.jobTemplate.spec.template.metadata"),
                    "completions" | "parallelism" | "backoffLimit" | "activeDeadlineSeconds" => {
                        Some("spec.jobTemplate.spec")
                    }
                    _ => Some("spec.jobTemplate.spec.template.spec"),
                })
            };
            let item = at(w, &o.at);
            let job_name = name.clone();
            let schedule_text = schedule_text.value.clone();
            let time_zone = spec.time_zone.map(|z| z.value);
            let job = self.in_manifest(&file.shown, &fix, |b| {
                b.workload(&item, Kind::Job, job_name, "")
            })?;
            let WorkloadKind::Job { spec, .. } = &job.kind else {
                unreachable!("a Job manifest builds a Job workload")
            };
            let job_spec = spec.clone();
            out.push(PlannedCronJob {
                cron_job: CronJob {
                    name,
                    namespace: o.namespace.clone(),
                    concurrency_policy,
                    starting_deadline,
                    runs: Vec::new(),
                    adopted: Vec::new(),
                    schedule: schedule_text,
                    time_zone,
                    suspend: suspended,
                    job_template: Arc::clone(&job.template),
                    job_spec,
                    clock,
                },
                times,
                job,
            });
        }
        Ok(out)
    }
}

/// Makes each Job that a cluster snapshot shows owned by a CronJob of the manifests
/// (`adopted`: index among the manifests' workloads from `first` on, namespace, CronJob
/// name) that CronJob's active Job, unless it has completed already. Its pods take the
/// CronJob's `manifestDynamics:` duration when the Job has none of its own.
pub(in super::super) fn adopt(
    planned: &mut [PlannedCronJob],
    adopted: &[(usize, String, String)],
    first: usize,
    workloads: &mut [Workload],
) {
    for (i, namespace, name) in adopted {
        let Some(p) = planned
            .iter_mut()
            .find(|p| p.cron_job.name == *name && p.cron_job.namespace == *namespace)
        else {
            continue;
        };
        let w = first + i;
        let job = &mut workloads[w];
        if job.duration.is_none() {
            job.duration.clone_from(&p.job.duration);
        }
        let complete = matches!(&job.kind,
            WorkloadKind::Job { spec, .. } if spec.succeeded >= spec.completions);
        if !complete {
            p.cron_job.adopted.push(w as u32);
        }
    }
}
