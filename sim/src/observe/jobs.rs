//! Jobs' outcomes: how many completed or failed, and how long the completed ones took
//! from their start (`status.startTime`) to their Complete condition.

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::scenario::{Scenario, WorkloadKind};

/// `jobs_completed`.
pub static JOBS_COMPLETED: Column = Column {
    name: "jobs_completed",
    unit: Unit::Count,
    doc: "Jobs whose pods succeeded `completions` times (empty without Jobs)",
};
/// `jobs_failed`.
pub static JOBS_FAILED: Column = Column {
    name: "jobs_failed",
    unit: Unit::Count,
    doc: "Jobs that failed, by BackoffLimitExceeded or DeadlineExceeded (empty without Jobs)",
};
/// `job_duration_mean_s`.
pub static JOB_DURATION_MEAN: Column = Column {
    name: "job_duration_mean_s",
    unit: Unit::Seconds,
    doc: "mean start-to-completion time of the completed Jobs (empty if none)",
};

/// Counts Jobs' outcomes.
#[derive(Debug, Clone, Default)]
pub struct JobMetrics {
    /// The scenario has Jobs (the columns are empty without).
    any: bool,
    completed: u64,
    failed: u64,
    /// Sum of the completed Jobs' durations, in microseconds.
    duration_sum: u128,
}

impl JobMetrics {
    /// The metrics of a run of `scenario`.
    pub fn new(scenario: &Scenario) -> JobMetrics {
        JobMetrics {
            any: scenario
                .workloads
                .iter()
                .any(|w| matches!(w.kind, WorkloadKind::Job { .. })),
            ..JobMetrics::default()
        }
    }
}

impl Observer for JobMetrics {
    #[inline(always)]
    fn observe(&mut self, fact: &Fact, _view: &View<'_>) {
        match fact {
            Fact::JobCompleted { duration, .. } => {
                self.completed += 1;
                self.duration_sum += u128::from(duration.as_micros());
            }
            Fact::JobFailed { .. } => self.failed += 1,
            _ => {}
        }
    }

    fn finish(&mut self, _end: &RunEnd<'_>, summary: &mut Summary) {
        let count = |n| {
            if self.any {
                Value::Count(n)
            } else {
                Value::Missing
            }
        };
        summary.push(&JOBS_COMPLETED, count(self.completed));
        summary.push(&JOBS_FAILED, count(self.failed));
        summary.push(
            &JOB_DURATION_MEAN,
            if self.completed == 0 {
                Value::Missing
            } else {
                let sum = i128::try_from(self.duration_sum).unwrap_or(i128::MAX);
                Value::Fraction(sum, i128::from(self.completed) * 1_000_000)
            },
        );
    }
}
