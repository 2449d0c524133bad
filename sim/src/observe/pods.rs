//! Pod counts, scheduling latency and completion times: the pod half of a run's summary.

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{AttemptFailure, EvictionReason, Fact, Observer, RunEnd, View};
use crate::time::SimTime;

/// `pods_submitted`.
pub static PODS_SUBMITTED: Column = Column {
    name: "pods_submitted",
    unit: Unit::Count,
    doc: "pods created during the run",
};
/// `pods_scheduled`.
pub static PODS_SCHEDULED: Column = Column {
    name: "pods_scheduled",
    unit: Unit::Count,
    doc: "binds of pods to nodes (a pod bound again after an eviction counts again)",
};
/// `pods_completed`.
pub static PODS_COMPLETED: Column = Column {
    name: "pods_completed",
    unit: Unit::Count,
    doc: "pods whose work ended successfully",
};
/// `pods_failed`.
pub static PODS_FAILED: Column = Column {
    name: "pods_failed",
    unit: Unit::Count,
    doc: "pods evicted, preempted, rejected by their node, given up by the queue, or whose containers failed (and were not restarted)",
};
/// `pods_pending_at_end`.
pub static PODS_PENDING_AT_END: Column = Column {
    name: "pods_pending_at_end",
    unit: Unit::Count,
    doc: "pods still waiting for a node when the run ended",
};
/// `pods_running_at_end`.
pub static PODS_RUNNING_AT_END: Column = Column {
    name: "pods_running_at_end",
    unit: Unit::Count,
    doc: "pods bound or running, and not terminating, when the run ended",
};
/// `latency_p50_s`.
pub static LATENCY_P50: Column = Column {
    name: "latency_p50_s",
    unit: Unit::Seconds,
    doc: "median creation-to-bind time (nearest rank) over every bind",
};
/// `latency_p95_s`.
pub static LATENCY_P95: Column = Column {
    name: "latency_p95_s",
    unit: Unit::Seconds,
    doc: "95th percentile creation-to-bind time",
};
/// `latency_p99_s`.
pub static LATENCY_P99: Column = Column {
    name: "latency_p99_s",
    unit: Unit::Seconds,
    doc: "99th percentile creation-to-bind time",
};
/// `latency_max_s`.
pub static LATENCY_MAX: Column = Column {
    name: "latency_max_s",
    unit: Unit::Seconds,
    doc: "longest creation-to-bind time",
};
/// `scheduling_attempts`.
pub static SCHEDULING_ATTEMPTS: Column = Column {
    name: "scheduling_attempts",
    unit: Unit::Count,
    doc: "pods handed to the scheduler, summed over cycles",
};
/// `unschedulable_attempts`.
pub static UNSCHEDULABLE_ATTEMPTS: Column = Column {
    name: "unschedulable_attempts",
    unit: Unit::Count,
    doc: "attempts that left the pod pending (including those that preempted)",
};
/// `refused_binds`.
pub static REFUSED_BINDS: Column = Column {
    name: "refused_binds",
    unit: Unit::Count,
    doc: "binds a scheduler reported that the cluster did not make",
};
/// `preemptions`.
pub static PREEMPTIONS: Column = Column {
    name: "preemptions",
    unit: Unit::Count,
    doc: "pods evicted to make room for higher-priority pods",
};
/// `gang_timeouts`.
pub static GANG_TIMEOUTS: Column = Column {
    name: "gang_timeouts",
    unit: Unit::Count,
    doc: "times a pod group waited past its scheduleTimeoutSeconds",
};
/// `admission_rejections`.
pub static ADMISSION_REJECTIONS: Column = Column {
    name: "admission_rejections",
    unit: Unit::Count,
    doc: "pod creations the API server refused: over a ResourceQuota, or against a LimitRange",
};
/// `trace_late_ends`.
pub static TRACE_LATE_ENDS: Column = Column {
    name: "trace_late_ends",
    unit: Unit::Count,
    doc: "pods of a streamed Google replay whose end row was read after they were due to end (they ended then; a longer lookAhead avoids it)",
};
/// `makespan_s`.
pub static MAKESPAN: Column = Column {
    name: "makespan_s",
    unit: Unit::Seconds,
    doc: "from the first finite pod's creation to the last successful finish (empty if none)",
};
/// `mean_completion_s`.
pub static MEAN_COMPLETION: Column = Column {
    name: "mean_completion_s",
    unit: Unit::Seconds,
    doc: "mean creation-to-finish time of the pods that finished (empty if none)",
};

/// Counts pods through their lives and times their scheduling and completion.
#[derive(Debug, Clone, Default)]
pub struct PodMetrics {
    submitted: u64,
    scheduled: u64,
    completed: u64,
    failed: u64,
    attempts: u64,
    failed_attempts: u64,
    refused_binds: u64,
    preemptions: u64,
    gang_timeouts: u64,
    /// Pod creations refused at admission.
    refused_creations: u64,
    /// Streamed trace pods that ended late ([`Fact::TraceLateEnd`]).
    late_ends: u64,
    /// Creation-to-bind time of every bind, in microseconds.
    latencies: Vec<u64>,
    /// Creation of the first finite-duration pod (known finite at creation, or finished
    /// since), and finish of the last one to finish.
    first_batch_created: Option<SimTime>,
    last_batch_finished: Option<SimTime>,
    /// Sum of creation-to-finish times of the pods that finished, in microseconds.
    completion_sum: u128,
}

impl PodMetrics {
    /// Pods created so far.
    pub fn submitted(&self) -> u64 {
        self.submitted
    }

    /// Pods that finished successfully and pods that failed, so far.
    pub fn finished(&self) -> (u64, u64) {
        (self.completed, self.failed)
    }
}

/// When the fact's pod was created, from its stamp (the simulator stamps simulated time).
#[inline]
fn created(view: &View<'_>) -> SimTime {
    view.pod.map_or(view.now, |p| SimTime(p.created_stamp))
}

impl Observer for PodMetrics {
    #[inline(always)]
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        match fact {
            Fact::PodCreated { run_for, .. } => {
                self.submitted += 1;
                if *run_for != SimTime::MAX && self.first_batch_created.is_none() {
                    self.first_batch_created = Some(view.now);
                }
            }
            Fact::CycleStarted { pods } => self.attempts += u64::from(*pods),
            Fact::PodBound { .. } => {
                self.scheduled += 1;
                self.latencies
                    .push(view.now.saturating_sub(created(view)).0);
            }
            Fact::BindRefused { .. } => self.refused_binds += 1,
            Fact::AttemptFailed { why, .. } => {
                self.failed_attempts += 1;
                // A bind the scheduler chose and the cluster refused (place_each turns it
                // into an unschedulable attempt with this reason).
                if let AttemptFailure::Unschedulable(diagnosis) = why
                    && diagnosis.refused_bind()
                {
                    self.refused_binds += 1;
                }
            }
            Fact::GangTimedOut { .. } => self.gang_timeouts += 1,
            Fact::CreateRefused { .. } => self.refused_creations += 1,
            Fact::TraceLateEnd { .. } => self.late_ends += 1,
            Fact::PodFinished { .. } => {
                self.completed += 1;
                let created = created(view);
                self.completion_sum += u128::from(view.now.0.saturating_sub(created.0));
                self.last_batch_finished = Some(view.now);
                // A pod created without a known run time can still finish (a streamed
                // Google task whose end row was read after it started): it was finite.
                self.first_batch_created =
                    Some(self.first_batch_created.map_or(created, |f| f.min(created)));
            }
            Fact::PodEvicted { reason, .. } => {
                if *reason == EvictionReason::Preemption {
                    self.preemptions += 1;
                }
                self.failed += 1;
            }
            Fact::PodRejected { .. }
            | Fact::PodAbandoned { .. }
            | Fact::PodFailed {
                restarting: false, ..
            } => self.failed += 1,
            _ => {}
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>, summary: &mut Summary) {
        let mut lat = std::mem::take(&mut self.latencies);
        lat.sort_unstable();
        let count = Value::Count;
        summary.push(&PODS_SUBMITTED, count(self.submitted));
        summary.push(&PODS_SCHEDULED, count(self.scheduled));
        summary.push(&PODS_COMPLETED, count(self.completed));
        summary.push(&PODS_FAILED, count(self.failed));
        summary.push(&PODS_PENDING_AT_END, count(end.cluster.pending_pod_count()));
        summary.push(&PODS_RUNNING_AT_END, count(end.cluster.bound_pod_count()));
        summary.push(&LATENCY_P50, Value::Time(percentile(&lat, 50)));
        summary.push(&LATENCY_P95, Value::Time(percentile(&lat, 95)));
        summary.push(&LATENCY_P99, Value::Time(percentile(&lat, 99)));
        summary.push(
            &LATENCY_MAX,
            Value::Time(SimTime(lat.last().copied().unwrap_or(0))),
        );
        summary.push(&SCHEDULING_ATTEMPTS, count(self.attempts));
        summary.push(&UNSCHEDULABLE_ATTEMPTS, count(self.failed_attempts));
        summary.push(&REFUSED_BINDS, count(self.refused_binds));
        summary.push(&PREEMPTIONS, count(self.preemptions));
        summary.push(&GANG_TIMEOUTS, count(self.gang_timeouts));
        summary.push(&ADMISSION_REJECTIONS, count(self.refused_creations));
        summary.push(&TRACE_LATE_ENDS, count(self.late_ends));
        summary.push(
            &MAKESPAN,
            match (self.first_batch_created, self.last_batch_finished) {
                (Some(first), Some(last)) => Value::Time(last.saturating_sub(first)),
                _ => Value::Missing,
            },
        );
        summary.push(
            &MEAN_COMPLETION,
            if self.completed == 0 {
                Value::Missing
            } else {
                let sum = i128::try_from(self.completion_sum).unwrap_or(i128::MAX);
                Value::Fraction(sum, i128::from(self.completed) * 1_000_000)
            },
        );
    }
}

/// Nearest-rank percentile of sorted values (the smallest value with at least `p`% of
/// the values at or below it); exact, so hand-checked scenarios give round numbers.
pub fn percentile(sorted: &[u64], p: u64) -> SimTime {
    if sorted.is_empty() {
        return SimTime::ZERO;
    }
    let rank = (sorted.len() as u64 * p).div_ceil(100).max(1);
    SimTime(sorted[(rank - 1) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), SimTime(50));
        assert_eq!(percentile(&v, 99), SimTime(99));
        assert_eq!(percentile(&[7], 99), SimTime(7));
        assert_eq!(percentile(&[1, 2, 3], 50), SimTime(2));
        assert_eq!(percentile(&[], 50), SimTime(0));
    }
}
