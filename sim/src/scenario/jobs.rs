//! Jobs (`job:` workloads): what the job controller is asked to run. Follows
//! `batch/v1` `JobSpec` (k8s.io/api/batch/v1/types.go) for a NonIndexed Job: the same
//! field names and defaults; the controller is [`crate::controllers::jobs`].

use crate::observe::JobFailureReason;
use crate::time::SimTime;
use schedulers::kubernetes_enum;

/// `completions` when absent (a NonIndexed Job with neither completions nor
/// parallelism set gets 1 of each).
pub const DEFAULT_COMPLETIONS: u32 = 1;
/// `parallelism` when absent.
pub const DEFAULT_PARALLELISM: u32 = 1;
/// `backoffLimit` when absent (`batch/v1` defaulting).
pub const DEFAULT_BACKOFF_LIMIT: u32 = 6;

/// One Job: how many pods must succeed, how many may run at once, and when it gives up.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// Successful pods that complete the Job (`completions`).
    pub completions: u32,
    /// Pods running at once at most (`parallelism`); 0 suspends nothing here, it simply
    /// runs no pod.
    pub parallelism: u32,
    /// Failures tolerated (`backoffLimit`): the Job fails on the one after.
    pub backoff_limit: u32,
    /// Time from the Job's start after which it fails (`activeDeadlineSeconds`).
    pub active_deadline: Option<SimTime>,
    /// What a failed container does (`restartPolicy`).
    pub restart_policy: RestartPolicy,
    /// Chance that one run of a pod's containers ends with an error
    /// (`failureProbability`, default 0), drawn per run from the Job's own stream.
    pub failure_probability: f64,
    /// Completions already done when the run starts (a cluster snapshot's
    /// `status.succeeded`); 0 for a Job the scenario creates.
    pub succeeded: u32,
    /// Failed pods already counted towards `backoff_limit` (a cluster snapshot's
    /// `status.failed`); 0 for a Job the scenario creates.
    pub failed: u32,
    /// How long the Job had been running at the run's start (a cluster snapshot's "now"
    /// less its `status.startTime`): its `activeDeadlineSeconds` count from then. Zero for
    /// a Job the scenario creates.
    pub started_before: SimTime,
    /// A cluster snapshot's Job whose `Failed` condition is `True`, with the condition's
    /// reason: it has failed before the run, so it fails at its start and creates nothing.
    /// `None` for a Job the scenario creates.
    pub failed_before: Option<JobFailureReason>,
}

kubernetes_enum! {
    /// A Job pod's `restartPolicy` (a Job accepts only these two).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RestartPolicy {
        /// A failed pod stays failed; the Job controller creates a new one after its
        /// pod-failure back-off (the default here).
        Never => "Never",
        /// The kubelet restarts the failed container in place after its crash-loop back-off;
        /// each restart counts towards `backoffLimit`.
        OnFailure => "OnFailure",
    }
}
