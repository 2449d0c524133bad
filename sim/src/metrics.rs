//! What a run measures: pod counts, scheduling latency, time-weighted allocation, and the
//! time series, collected incrementally as the simulation changes the cluster.

use crate::time::SimTime;

/// One row of the time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When it was taken.
    pub time: SimTime,
    /// Pods waiting for a node.
    pub pending: u64,
    /// Pods bound or running.
    pub running: u64,
    /// Nodes in the cluster.
    pub nodes: u64,
    /// CPU millicores requested by bound pods.
    pub cpu_requested: i64,
    /// CPU millicores allocatable on ready nodes.
    pub cpu_allocatable: i64,
    /// Memory bytes requested by bound pods.
    pub mem_requested: i64,
    /// Memory bytes allocatable on ready nodes.
    pub mem_allocatable: i64,
}

/// A requested/allocatable ratio kept as a fraction, compared without rounding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Ratio {
    num: i64,
    den: i64,
}

impl Ratio {
    fn exceeds(&self, other: &Ratio) -> bool {
        if other.den == 0 {
            return self.den != 0 && self.num > 0;
        }
        self.den != 0
            && (self.num as i128) * (other.den as i128) > (other.num as i128) * (self.den as i128)
    }

    fn value(&self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            self.num as f64 / self.den as f64
        }
    }
}

/// Running totals of one resource over the cluster, integrated over time exactly.
#[derive(Debug, Clone, Default)]
struct Allocation {
    requested: i64,
    allocatable: i64,
    requested_integral: u128,
    allocatable_integral: u128,
    peak: Ratio,
}

impl Allocation {
    fn advance(&mut self, dt: u64) {
        self.requested_integral += self.requested.max(0) as u128 * dt as u128;
        self.allocatable_integral += self.allocatable.max(0) as u128 * dt as u128;
    }

    fn note_peak(&mut self) {
        let now = Ratio {
            num: self.requested,
            den: self.allocatable,
        };
        if now.exceeds(&self.peak) {
            self.peak = now;
        }
    }

    /// Time-weighted share of allocatable capacity that was requested: the integral of
    /// requested over the integral of allocatable, so periods with more nodes weigh more.
    fn mean(&self) -> f64 {
        if self.allocatable_integral == 0 {
            0.0
        } else {
            self.requested_integral as f64 / self.allocatable_integral as f64
        }
    }
}

/// Collects a run's measurements.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    last_change: SimTime,
    cpu: Allocation,
    mem: Allocation,
    nodes: u64,
    nodes_max: u64,
    /// Pods created.
    pub submitted: u64,
    /// Pods bound at least once.
    pub scheduled: u64,
    /// Pods that finished successfully.
    pub completed: u64,
    /// Pods that failed (rejected by the node, evicted, preempted).
    pub failed: u64,
    /// Scheduling attempts (one per pod per cycle).
    pub attempts: u64,
    /// Attempts that left the pod unschedulable.
    pub failed_attempts: u64,
    /// Binds the cluster refused (a scheduler chose a node that could not take the pod).
    pub refused_binds: u64,
    /// Pods evicted to make room for higher-priority pods.
    pub preemptions: u64,
    /// Pod groups that waited longer than their `scheduleTimeoutSeconds`.
    pub gang_timeouts: u64,
    /// Creation-to-binding latency of every bound pod, in microseconds.
    latencies: Vec<u64>,
    samples: Vec<Sample>,
}

impl Metrics {
    /// Integrates the allocation totals up to `now`; call before every change.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.last_change.0);
        if dt > 0 {
            self.cpu.advance(dt);
            self.mem.advance(dt);
            self.last_change = now;
        }
    }

    /// A pod's requests were charged to a node (`sign` 1) or released (`sign` -1).
    #[inline]
    pub fn charge(&mut self, now: SimTime, cpu: i64, mem: i64, sign: i64) {
        self.advance(now);
        self.cpu.requested += sign * cpu;
        self.mem.requested += sign * mem;
        if sign > 0 {
            self.cpu.note_peak();
            self.mem.note_peak();
        }
    }

    /// A node joined (`sign` 1) or left (`sign` -1) with this allocatable CPU and memory.
    pub fn node_capacity(&mut self, now: SimTime, cpu: i64, mem: i64, sign: i64) {
        self.advance(now);
        self.cpu.allocatable += sign * cpu;
        self.mem.allocatable += sign * mem;
        self.nodes = self.nodes.saturating_add_signed(sign);
        self.nodes_max = self.nodes_max.max(self.nodes);
        self.cpu.note_peak();
        self.mem.note_peak();
    }

    /// A pod was bound `latency` after it was created.
    #[inline]
    pub fn bound(&mut self, latency: SimTime) {
        self.scheduled += 1;
        self.latencies.push(latency.0);
    }

    /// Records a time-series row.
    pub fn sample(&mut self, time: SimTime, pending: u64, running: u64) {
        self.samples.push(Sample {
            time,
            pending,
            running,
            nodes: self.nodes,
            cpu_requested: self.cpu.requested,
            cpu_allocatable: self.cpu.allocatable,
            mem_requested: self.mem.requested,
            mem_allocatable: self.mem.allocatable,
        });
    }

    /// The time series so far.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Closes the books at `end` and computes the summary figures.
    pub fn finish(
        mut self,
        end: SimTime,
        pending: u64,
        running: u64,
        events: u64,
    ) -> (RunSummary, Vec<Sample>) {
        self.advance(end);
        let mut lat = std::mem::take(&mut self.latencies);
        lat.sort_unstable();
        let summary = RunSummary {
            pods_submitted: self.submitted,
            pods_scheduled: self.scheduled,
            pods_completed: self.completed,
            pods_failed: self.failed,
            pods_pending_at_end: pending,
            pods_running_at_end: running,
            latency_p50: percentile(&lat, 50),
            latency_p95: percentile(&lat, 95),
            latency_p99: percentile(&lat, 99),
            latency_max: SimTime(lat.last().copied().unwrap_or(0)),
            cpu_alloc_mean: self.cpu.mean(),
            mem_alloc_mean: self.mem.mean(),
            cpu_alloc_peak: self.cpu.peak.value(),
            mem_alloc_peak: self.mem.peak.value(),
            nodes_max: self.nodes_max,
            scheduling_attempts: self.attempts,
            unschedulable_attempts: self.failed_attempts,
            refused_binds: self.refused_binds,
            preemptions: self.preemptions,
            gang_timeouts: self.gang_timeouts,
            events,
            end,
        };
        (summary, self.samples)
    }
}

/// Nearest-rank percentile of sorted values (the smallest value with at least `p`% of
/// the values at or below it); exact, so hand-checked scenarios give round numbers.
fn percentile(sorted: &[u64], p: u64) -> SimTime {
    if sorted.is_empty() {
        return SimTime::ZERO;
    }
    let rank = (sorted.len() as u64 * p).div_ceil(100).max(1);
    SimTime(sorted[(rank - 1) as usize])
}

/// The figures of one run: one row of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Pods created.
    pub pods_submitted: u64,
    /// Pods bound at least once.
    pub pods_scheduled: u64,
    /// Pods that finished successfully.
    pub pods_completed: u64,
    /// Pods that failed, were evicted or preempted.
    pub pods_failed: u64,
    /// Pods still waiting for a node at the end.
    pub pods_pending_at_end: u64,
    /// Pods bound or running at the end.
    pub pods_running_at_end: u64,
    /// Median creation-to-binding latency.
    pub latency_p50: SimTime,
    /// 95th percentile latency.
    pub latency_p95: SimTime,
    /// 99th percentile latency.
    pub latency_p99: SimTime,
    /// Largest latency.
    pub latency_max: SimTime,
    /// Time-weighted CPU requested / allocatable.
    pub cpu_alloc_mean: f64,
    /// Time-weighted memory requested / allocatable.
    pub mem_alloc_mean: f64,
    /// Highest CPU requested / allocatable at any instant.
    pub cpu_alloc_peak: f64,
    /// Highest memory requested / allocatable at any instant.
    pub mem_alloc_peak: f64,
    /// Most nodes at once.
    pub nodes_max: u64,
    /// Scheduling attempts.
    pub scheduling_attempts: u64,
    /// Attempts that ended unschedulable.
    pub unschedulable_attempts: u64,
    /// Binds refused by the cluster.
    pub refused_binds: u64,
    /// Pods preempted.
    pub preemptions: u64,
    /// Times a pod group waited past its `scheduleTimeoutSeconds` without being admitted.
    pub gang_timeouts: u64,
    /// Events processed.
    pub events: u64,
    /// Simulated time at the end.
    pub end: SimTime,
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

    #[test]
    fn allocation_is_time_weighted() {
        let mut m = Metrics::default();
        m.node_capacity(SimTime(0), 1000, 1000, 1);
        m.charge(SimTime(0), 500, 0, 1);
        m.charge(SimTime(10), 500, 0, -1);
        m.node_capacity(SimTime(10), 1000, 1000, 1);
        let (s, _) = m.finish(SimTime(20), 0, 0, 0);
        // 500*10 requested over 1000*10 + 2000*10 allocatable.
        assert!((s.cpu_alloc_mean - 5000.0 / 30000.0).abs() < 1e-12);
        assert_eq!(s.cpu_alloc_peak, 0.5);
        assert_eq!(s.nodes_max, 2);
    }
}
