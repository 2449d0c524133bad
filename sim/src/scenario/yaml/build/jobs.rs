//! `job: NAME` workloads: a Job's spec (`completions`, `parallelism`, `backoffLimit`,
//! `activeDeadlineSeconds`, `restartPolicy`) with `batch/v1`'s defaults and validation
//! (pkg/apis/batch/validation), and `failureProbability`, schedlab's own. The keys are
//! refused on workloads of other kinds.

use serde_saphyr::{Location, Spanned};

use super::super::raw::RawWorkload;
use super::{Builder, Result};
use crate::scenario::jobs::{DEFAULT_BACKOFF_LIMIT, DEFAULT_COMPLETIONS, DEFAULT_PARALLELISM};
use crate::scenario::{JobSpec, RestartPolicy, WorkloadKind};
use crate::time::SimTime;

impl Builder<'_> {
    /// A Job created at `at`.
    pub(super) fn job(&self, raw: &RawWorkload, at: SimTime, base: &str) -> Result<WorkloadKind> {
        let count = |v: &Option<Spanned<schedulers::yaml::Scalar>>, key: &str, default: u32| {
            v.as_ref().map_or(Ok(default), |v| {
                self.kube.count_u32(v, &format!("{base}.{key}"))
            })
        };
        let completions = count(&raw.completions, "completions", DEFAULT_COMPLETIONS)?;
        let parallelism = count(&raw.parallelism, "parallelism", DEFAULT_PARALLELISM)?;
        let backoff_limit = count(&raw.backoff_limit, "backoffLimit", DEFAULT_BACKOFF_LIMIT)?;
        let active_deadline = match &raw.active_deadline_seconds {
            Some(v) => {
                let field = format!("{base}.activeDeadlineSeconds");
                let secs =
                    self.kube
                        .integer(v, &field, 1, i128::from(u32::MAX), "a positive integer")?;
                Some(SimTime::from_secs(u64::try_from(secs).unwrap_or(u64::MAX)))
            }
            None => None,
        };
        let restart_policy = match &raw.restart_policy {
            None => RestartPolicy::Never,
            Some(v) => RestartPolicy::parse(&v.value).ok_or_else(|| {
                self.kube.err(
                    &v.referenced,
                    &format!("{base}.restartPolicy"),
                    format!(
                        "Unsupported value: {:?}: supported values: \"OnFailure\", \"Never\" \
                         (a Job's pods may not restart Always)",
                        v.value
                    ),
                )
            })?,
        };
        let failure_probability = match &raw.failure_probability {
            Some(v) => {
                let field = format!("{base}.failureProbability");
                let p = self.kube.number(v, &field, true)?;
                if p > 1.0 {
                    return Err(self.kube.err(
                        &v.referenced,
                        &field,
                        format!("expected a probability from 0 to 1, got {}", v.value.0),
                    ));
                }
                p
            }
            None => 0.0,
        };
        Ok(WorkloadKind::Job {
            at,
            spec: JobSpec {
                completions,
                parallelism,
                backoff_limit,
                active_deadline,
                restart_policy,
                failure_probability,
                succeeded: 0,
                failed: 0,
                started_before: SimTime::ZERO,
                failed_before: None,
            },
        })
    }

    /// Refuses a Job's keys on a workload that is not a Job.
    pub(super) fn job_keys_only_on_jobs(
        &self,
        raw: &RawWorkload,
        kind: &str,
        base: &str,
    ) -> Result<()> {
        let keys: [(&str, Option<&Location>); 6] = [
            (
                "completions",
                raw.completions.as_ref().map(|v| &v.referenced),
            ),
            (
                "parallelism",
                raw.parallelism.as_ref().map(|v| &v.referenced),
            ),
            (
                "backoffLimit",
                raw.backoff_limit.as_ref().map(|v| &v.referenced),
            ),
            (
                "activeDeadlineSeconds",
                raw.active_deadline_seconds.as_ref().map(|v| &v.referenced),
            ),
            (
                "restartPolicy",
                raw.restart_policy.as_ref().map(|v| &v.referenced),
            ),
            (
                "failureProbability",
                raw.failure_probability.as_ref().map(|v| &v.referenced),
            ),
        ];
        match keys.iter().find_map(|(k, at)| at.map(|at| (k, at))) {
            Some((key, at)) => Err(self.kube.err(
                at,
                &format!("{base}.{key}"),
                format!("`{key}` applies to job workloads only, not to a {kind}"),
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, load};
    use super::*;

    #[test]
    fn jobs_are_read_with_upstream_defaults() {
        let s = load(
            "workloads:
  - {job: a, duration: 1m}
  - job: b
    at: 30s
    completions: 4
    parallelism: 2
    backoffLimit: 0
    activeDeadlineSeconds: 600
    restartPolicy: OnFailure
    failureProbability: 0.25
",
        );
        assert_eq!(
            s.workloads[0].kind,
            WorkloadKind::Job {
                at: SimTime::ZERO,
                spec: JobSpec {
                    completions: 1,
                    parallelism: 1,
                    backoff_limit: 6,
                    active_deadline: None,
                    restart_policy: RestartPolicy::Never,
                    failure_probability: 0.0,
                    succeeded: 0,
                    failed: 0,
                    started_before: SimTime::ZERO,
                    failed_before: None,
                },
            }
        );
        assert_eq!(
            s.workloads[1].kind,
            WorkloadKind::Job {
                at: SimTime::from_secs(30),
                spec: JobSpec {
                    completions: 4,
                    parallelism: 2,
                    backoff_limit: 0,
                    active_deadline: Some(SimTime::from_secs(600)),
                    restart_policy: RestartPolicy::OnFailure,
                    failure_probability: 0.25,
                    succeeded: 0,
                    failed: 0,
                    started_before: SimTime::ZERO,
                    failed_before: None,
                },
            }
        );
        assert_eq!(s.workloads[1].template.name, "b");
    }

    #[test]
    fn job_errors_are_located() {
        check_at(
            "workloads: [{job: a, completions: -1}]\n",
            "-1",
            "workloads[0].completions",
            "expected a non-negative integer, got -1",
        );
        check_at(
            "workloads: [{job: a, activeDeadlineSeconds: 0}]\n",
            "0}",
            "workloads[0].activeDeadlineSeconds",
            "expected a positive integer from 1 to 4294967295, got 0",
        );
        check_at(
            "workloads: [{job: a, restartPolicy: Always}]\n",
            "Always",
            "workloads[0].restartPolicy",
            "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\" \
             (a Job's pods may not restart Always)",
        );
        check_at(
            "workloads: [{job: a, failureProbability: 1.5}]\n",
            "1.5",
            "workloads[0].failureProbability",
            "expected a probability from 0 to 1, got 1.5",
        );
        check_at(
            "workloads: [{deployment: d, replicas: 1, backoffLimit: 2}]\n",
            "2}",
            "workloads[0].backoffLimit",
            "`backoffLimit` applies to job workloads only, not to a deployment",
        );
    }
}
