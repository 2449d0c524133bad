//! What a run measures: pod counts, scheduling latency, time-weighted allocation, and the
//! time series, collected incrementally as the simulation changes the cluster.

use schedulers::namespaces::dominant_share;
use schedulers::{ClusterState, NamespaceId, Namespaces, Resources};

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
    /// Free CPU millicores on ready nodes where the median pending pod does not fit by
    /// resources (0 when nothing is pending); see [`Fragmentation`].
    pub cpu_stranded: i64,
    /// Free CPU millicores on ready nodes.
    pub cpu_free: i64,
    /// Free memory bytes on ready nodes where the median pending pod does not fit.
    pub mem_stranded: i64,
    /// Free memory bytes on ready nodes.
    pub mem_free: i64,
}

impl Sample {
    /// The sample's fragmentation: the mean, over CPU and memory where anything is free,
    /// of stranded free capacity over free capacity (0 if nothing is free). Exactly
    /// `num / den` of [`Sample::fragmentation_fraction`].
    pub fn fragmentation(&self) -> f64 {
        let (num, den) = self.fragmentation_fraction();
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    }

    /// The fragmentation as an exact fraction of integers, for exact printing: `(0, 0)`
    /// when neither resource has anything free.
    pub fn fragmentation_fraction(&self) -> (i128, i128) {
        let ratio = |stranded: i64, free: i64| (i128::from(stranded), i128::from(free.max(0)));
        let (sc, fc) = ratio(self.cpu_stranded, self.cpu_free);
        let (sm, fm) = ratio(self.mem_stranded, self.mem_free);
        match (fc, fm) {
            (0, 0) => (0, 0),
            // A resource with nothing free has nothing to strand: the other one decides.
            (0, _) => (sm, fm),
            (_, 0) => (sc, fc),
            // sc/fc + sm/fm over 2: below 2^31 millicores times 2^55 bytes, far from i128's
            // range even after output scales it by a million.
            _ => (sc * fm + sm * fc, 2 * fc * fm),
        }
    }
}

/// Where free capacity is stranded at one instant: the median pending pod (pending pods
/// ordered by CPU request, then memory, then the other resources; the lower median when
/// their number is even) is tried against every ready node by resources alone, and the
/// free CPU and memory of nodes where it does not fit count as stranded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fragmentation {
    /// Free CPU millicores on ready nodes where the median pending pod does not fit.
    pub cpu_stranded: i64,
    /// Free CPU millicores on ready nodes.
    pub cpu_free: i64,
    /// Free memory bytes on ready nodes where the median pending pod does not fit.
    pub mem_stranded: i64,
    /// Free memory bytes on ready nodes.
    pub mem_free: i64,
}

impl Fragmentation {
    /// Measures `cluster` now; `scratch` holds the pending pods' requests (reused).
    /// O(live pods + nodes), or O(nodes) when `any_pending` is false: meant for sample
    /// times only.
    pub fn measure(
        cluster: &ClusterState,
        any_pending: bool,
        scratch: &mut Vec<Resources>,
    ) -> Fragmentation {
        scratch.clear();
        if any_pending {
            scratch.extend(
                cluster
                    .pods()
                    .filter(|(_, p)| p.node.is_none())
                    .map(|(_, p)| p.requests),
            );
        }
        let mut f = Fragmentation::default();
        let median = if scratch.is_empty() {
            None
        } else {
            let mid = (scratch.len() - 1) / 2;
            // Lexicographic on [cpu, memory, ...]: equal keys are equal pods' requests, so
            // the pick is the same whatever order the pods came in.
            Some(*scratch.select_nth_unstable_by(mid, |a, b| a.0.cmp(&b.0)).1)
        };
        for (node, row) in cluster.nodes().iter().zip(cluster.rows()) {
            if !node.ready {
                continue;
            }
            let (cpu, mem) = (row.free.cpu().max(0), row.free.memory().max(0));
            f.cpu_free += cpu;
            f.mem_free += mem;
            if median.is_some_and(|m| !m.fits_in(&row.free)) {
                f.cpu_stranded += cpu;
                f.mem_stranded += mem;
            }
        }
        f
    }
}

/// Jain's fairness index of `xs`: `(sum x)^2 / (n * sum x^2)`, from `1/n` (one value has
/// everything) to 1 (all equal). 1 for no values, one value, or all zeros.
pub fn jain_index(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let squares: f64 = xs.iter().map(|x| x * x).sum();
    if xs.len() <= 1 || squares == 0.0 {
        1.0
    } else {
        sum * sum / (xs.len() as f64 * squares)
    }
}

/// One namespace's figures over a run: a row of `namespaces.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceSummary {
    /// The namespace.
    pub name: String,
    /// Its fairness weight (`namespaces:` in the scenario, default 1).
    pub weight: u32,
    /// Its pods created during the run.
    pub pods_submitted: u64,
    /// Binds of its pods during the run.
    pub pods_bound: u64,
    /// Time-weighted mean of its dominant share (largest fraction of the ready cluster's
    /// allocatable capacity its bound pods request in any resource but pod slots).
    pub dominant_share_mean: f64,
}

impl NamespaceSummary {
    /// The mean dominant share divided by the weight: what DRF equalizes.
    pub fn weighted_share_mean(&self) -> f64 {
        self.dominant_share_mean / f64::from(self.weight.max(1))
    }
}

/// One namespace's running figures; its share integrates exactly between changes.
#[derive(Debug, Clone, Copy, Default)]
struct NamespaceMeter {
    share: f64,
    since: SimTime,
    /// Integral of the dominant share over time, in share-microseconds.
    integral: f64,
    submitted: u64,
    bound: u64,
}

impl NamespaceMeter {
    fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.since.0);
        if dt > 0 {
            self.integral += self.share * dt as f64;
            self.since = now;
        }
    }
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
    /// Per namespace, indexed by [`NamespaceId`].
    namespaces: Vec<NamespaceMeter>,
    /// Pods bound to a node now, and ready nodes holding at least one, with their time
    /// integrals: their ratio is the time-weighted pods per occupied node.
    pods_on_nodes: u64,
    occupied_nodes: u64,
    /// Pods on each node, by node index.
    node_pods: Vec<u64>,
    pods_on_nodes_integral: u128,
    occupied_nodes_integral: u128,
    pods_per_node_max: u64,
    /// Creation of the first finite-duration pod, and finish of the last one to finish.
    first_batch_created: Option<SimTime>,
    last_batch_finished: Option<SimTime>,
    /// Sum of creation-to-finish times of the pods that finished, in microseconds.
    completion_sum: u128,
    /// Fragmentation of the samples taken with pods pending: sum and count.
    fragmentation_sum: f64,
    fragmentation_samples: u64,
    /// Pending pods' requests, reused by every fragmentation measurement.
    scratch: Vec<Resources>,
}

impl Metrics {
    /// Integrates the allocation totals up to `now`; call before every change.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.last_change.0);
        if dt > 0 {
            self.cpu.advance(dt);
            self.mem.advance(dt);
            self.pods_on_nodes_integral += u128::from(self.pods_on_nodes) * u128::from(dt);
            self.occupied_nodes_integral += u128::from(self.occupied_nodes) * u128::from(dt);
            self.last_change = now;
        }
    }

    /// A pod joined (`sign` 1) or left (`sign` -1) the node with index `node`. The counts
    /// are kept here rather than read from the cluster: a cycle binds several pods before
    /// the simulation reports the first.
    #[inline]
    pub fn pod_on_node(&mut self, now: SimTime, node: usize, sign: i64) {
        self.advance(now);
        if self.node_pods.len() <= node {
            self.node_pods.resize(node + 1, 0);
        }
        let count = &mut self.node_pods[node];
        let before = *count;
        *count = count.saturating_add_signed(sign);
        self.pods_on_nodes = self.pods_on_nodes.saturating_add_signed(sign);
        match (before, *count) {
            (0, 1..) => self.occupied_nodes += 1,
            (1.., 0) => self.occupied_nodes -= 1,
            _ => {}
        }
        self.pods_per_node_max = self.pods_per_node_max.max(*count);
    }

    fn meter(&mut self, ns: NamespaceId) -> &mut NamespaceMeter {
        if self.namespaces.len() <= ns.index() {
            self.namespaces
                .resize(ns.index() + 1, NamespaceMeter::default());
        }
        &mut self.namespaces[ns.index()]
    }

    /// A pod was created at `now`; `batch` when it runs for a finite time.
    #[inline]
    pub fn pod_created(&mut self, now: SimTime, ns: NamespaceId, batch: bool) {
        self.submitted += 1;
        self.meter(ns).submitted += 1;
        if batch && self.first_batch_created.is_none() {
            self.first_batch_created = Some(now);
        }
    }

    /// A pod created at `created` finished successfully at `now`.
    #[inline]
    pub fn pod_finished(&mut self, now: SimTime, created: SimTime) {
        self.completed += 1;
        self.completion_sum += u128::from(now.0.saturating_sub(created.0));
        self.last_batch_finished = Some(now);
    }

    /// The requests of namespace `ns` changed (a bind, `bound` true, or a release):
    /// integrates its old share up to `now` and takes the new one from `cluster`.
    #[inline]
    pub fn namespace_changed(
        &mut self,
        now: SimTime,
        ns: NamespaceId,
        cluster: &ClusterState,
        bound: bool,
    ) {
        let share = dominant_share(cluster.namespaces().requested(ns), cluster.ready_capacity());
        let m = self.meter(ns);
        m.advance(now);
        m.share = share;
        if bound {
            m.bound += 1;
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

    /// Records a time-series row, measuring fragmentation on `cluster`.
    pub fn sample(&mut self, time: SimTime, pending: u64, running: u64, cluster: &ClusterState) {
        let f = Fragmentation::measure(cluster, pending > 0, &mut self.scratch);
        let sample = Sample {
            time,
            pending,
            running,
            nodes: self.nodes,
            cpu_requested: self.cpu.requested,
            cpu_allocatable: self.cpu.allocatable,
            mem_requested: self.mem.requested,
            mem_allocatable: self.mem.allocatable,
            cpu_stranded: f.cpu_stranded,
            cpu_free: f.cpu_free,
            mem_stranded: f.mem_stranded,
            mem_free: f.mem_free,
        };
        if pending > 0 {
            self.fragmentation_sum += sample.fragmentation();
            self.fragmentation_samples += 1;
        }
        self.samples.push(sample);
    }

    /// The time series so far.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Closes the books at `end` and computes the summary figures; `namespaces` names the
    /// namespaces and gives their weights.
    pub fn finish(
        mut self,
        end: SimTime,
        pending: u64,
        running: u64,
        events: u64,
        namespaces: &Namespaces,
    ) -> (RunSummary, Vec<Sample>) {
        self.advance(end);
        let mut per_namespace = Vec::with_capacity(namespaces.len());
        for id in namespaces.by_name() {
            let mut m = self.namespaces.get(id.index()).copied().unwrap_or_default();
            m.advance(end);
            per_namespace.push(NamespaceSummary {
                name: namespaces.name(id).to_string(),
                weight: namespaces.weight(id),
                pods_submitted: m.submitted,
                pods_bound: m.bound,
                dominant_share_mean: if end.0 == 0 {
                    m.share
                } else {
                    m.integral / end.0 as f64
                },
            });
        }
        // Namespaces that only were declared, with no pod, have nothing to be fair to.
        let weighted: Vec<f64> = per_namespace
            .iter()
            .filter(|n| n.pods_submitted > 0)
            .map(NamespaceSummary::weighted_share_mean)
            .collect();
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
            fragmentation: (self.fragmentation_samples > 0)
                .then(|| self.fragmentation_sum / self.fragmentation_samples as f64),
            jain_index: jain_index(&weighted),
            makespan: match (self.first_batch_created, self.last_batch_finished) {
                (Some(first), Some(last)) => Some(last.saturating_sub(first)),
                _ => None,
            },
            completion_sum: SimTime(u64::try_from(self.completion_sum).unwrap_or(u64::MAX)),
            pods_per_node_mean: if self.occupied_nodes_integral == 0 {
                0.0
            } else {
                self.pods_on_nodes_integral as f64 / self.occupied_nodes_integral as f64
            },
            pods_per_node_max: self.pods_per_node_max,
            namespaces: per_namespace,
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
    /// Mean fragmentation ([`Sample::fragmentation`]) over the samples taken while pods
    /// were pending; `None` if pods were never pending at a sample.
    pub fragmentation: Option<f64>,
    /// Jain's index of the namespaces' mean weighted dominant shares (namespaces with at
    /// least one pod).
    pub jain_index: f64,
    /// From the first finite-duration pod's creation to the last successful finish;
    /// `None` if no pod finished.
    pub makespan: Option<SimTime>,
    /// Sum over the pods that finished successfully of their creation-to-finish time;
    /// divided by `pods_completed` it is the mean completion time.
    pub completion_sum: SimTime,
    /// Time-weighted mean of pods per node, over nodes holding at least one pod.
    pub pods_per_node_mean: f64,
    /// Most pods on one node at any instant.
    pub pods_per_node_max: u64,
    /// Per namespace, in name order.
    pub namespaces: Vec<NamespaceSummary>,
}

impl RunSummary {
    /// Mean creation-to-finish time of the pods that finished, as the exact fraction
    /// `(sum of microseconds, pods)`; `None` if none finished.
    pub fn mean_completion(&self) -> Option<(u64, u64)> {
        (self.pods_completed > 0).then_some((self.completion_sum.0, self.pods_completed))
    }
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
        let (s, _) = m.finish(SimTime(20), 0, 0, 0, &Namespaces::default());
        // 500*10 requested over 1000*10 + 2000*10 allocatable.
        assert!((s.cpu_alloc_mean - 5000.0 / 30000.0).abs() < 1e-12);
        assert_eq!(s.cpu_alloc_peak, 0.5);
        assert_eq!(s.nodes_max, 2);
    }

    #[test]
    fn jain_index_on_known_inputs() {
        assert_eq!(jain_index(&[]), 1.0);
        assert_eq!(jain_index(&[0.3]), 1.0);
        assert_eq!(jain_index(&[0.5, 0.5, 0.5]), 1.0);
        // One of four has everything: 1/n.
        assert_eq!(jain_index(&[1.0, 0.0, 0.0, 0.0]), 0.25);
        // (1 + 3)^2 / (2 * (1 + 9)) = 16 / 20.
        assert_eq!(jain_index(&[1.0, 3.0]), 0.8);
        assert_eq!(jain_index(&[0.0, 0.0]), 1.0);
    }

    #[test]
    fn pods_per_node_is_time_weighted_over_occupied_nodes() {
        let mut m = Metrics::default();
        // 0-10: node 0 holds 2 pods; 10-30: node 0 holds 2, node 2 holds 1; 30-40: node 2
        // alone holds 1. Pods: 2*10 + 3*20 + 1*10 = 90; occupied nodes: 10 + 40 + 10 = 60.
        m.pod_on_node(SimTime(0), 0, 1);
        m.pod_on_node(SimTime(0), 0, 1);
        m.pod_on_node(SimTime(10), 2, 1);
        m.pod_on_node(SimTime(30), 0, -1);
        m.pod_on_node(SimTime(30), 0, -1);
        m.pod_on_node(SimTime(40), 2, -1);
        let (s, _) = m.finish(SimTime(50), 0, 0, 0, &Namespaces::default());
        assert_eq!(s.pods_per_node_mean, 1.5);
        assert_eq!(s.pods_per_node_max, 2);
        assert_eq!(s.makespan, None);
        assert_eq!(s.mean_completion(), None);
        assert_eq!(s.fragmentation, None);
    }

    #[test]
    fn makespan_and_completion() {
        let mut m = Metrics::default();
        let mut names = Namespaces::default();
        let ns = names.intern("default");
        m.pod_created(SimTime(5), ns, false); // a service: not batch
        m.pod_created(SimTime(10), ns, true);
        m.pod_created(SimTime(20), ns, true);
        m.pod_finished(SimTime(50), SimTime(10));
        m.pod_finished(SimTime(90), SimTime(20));
        let (s, _) = m.finish(SimTime(100), 0, 1, 0, &names);
        assert_eq!(s.makespan, Some(SimTime(80)));
        // (40 + 70) / 2.
        assert_eq!(s.mean_completion(), Some((110, 2)));
        assert_eq!(s.namespaces[0].pods_submitted, 3);
    }

    #[test]
    fn fragmentation_of_one_sample() {
        use schedulers::{NodeSpec, Pod, PodTemplate, ResourceKind};
        use std::sync::Arc;
        let mut c = ClusterState::default();
        for cpu in [1000, 3000, 500] {
            let mut alloc = Resources::cpu_mem(cpu, 4000);
            alloc.set(ResourceKind::PODS, 10);
            c.add_node(NodeSpec {
                name: format!("n{cpu}"),
                allocatable: alloc,
                ..Default::default()
            });
        }
        let t = Arc::new(PodTemplate::default());
        let add = |c: &mut ClusterState, cpu: i64, mem: i64| {
            let mut r = Resources::cpu_mem(cpu, mem);
            r.set(ResourceKind::PODS, 1);
            c.add_pod(Pod::with_requests(t.clone(), 0, r, cpu, mem))
        };
        let mut scratch = Vec::new();
        let mut m = Metrics::default();
        m.sample(SimTime(0), 0, 0, &c);
        // Nothing pending: nothing stranded, and no sample counts for the mean.
        assert_eq!(m.samples()[0].fragmentation(), 0.0);
        assert_eq!(m.samples()[0].cpu_free, 4500);
        // Pending CPU requests 200m, 800m, 2000m: the median asks 800m and 100 bytes.
        add(&mut c, 2000, 100);
        add(&mut c, 200, 100);
        add(&mut c, 800, 100);
        assert_eq!(
            Fragmentation::measure(&c, false, &mut scratch).cpu_stranded,
            0,
            "told nothing is pending, it looks for no median"
        );
        let f = Fragmentation::measure(&c, true, &mut scratch);
        // It fits the 1000m and 3000m nodes; the 500m node strands 500m and 4000 bytes.
        assert_eq!(
            f,
            Fragmentation {
                cpu_stranded: 500,
                cpu_free: 4500,
                mem_stranded: 4000,
                mem_free: 12000,
            }
        );
        m.sample(SimTime(10), 3, 0, &c);
        let s = m.samples()[1];
        // (500/4500 + 4000/12000) / 2 = (1/9 + 1/3) / 2 = 2/9.
        assert_eq!(
            s.fragmentation_fraction(),
            (500 * 12000 + 4000 * 4500, 2 * 4500 * 12000)
        );
        let (summary, _) = m.finish(SimTime(10), 3, 0, 0, c.namespaces());
        assert!((summary.fragmentation.unwrap() - 2.0 / 9.0).abs() < 1e-15);
    }

    #[test]
    fn namespace_shares_integrate_exactly() {
        use schedulers::{NodeId, NodeSpec, Pod, PodTemplate, ResourceKind};
        use std::sync::Arc;
        let mut c = ClusterState::default();
        let mut alloc = Resources::cpu_mem(4000, 4000);
        alloc.set(ResourceKind::PODS, 10);
        c.add_node(NodeSpec {
            name: "n".into(),
            allocatable: alloc,
            ..Default::default()
        });
        c.set_namespace_weight("b", 2);
        let pod = |c: &mut ClusterState, ns: &str, cpu: i64, mem: i64| {
            let t = Arc::new(PodTemplate {
                namespace: ns.into(),
                ..Default::default()
            });
            let mut r = Resources::cpu_mem(cpu, mem);
            r.set(ResourceKind::PODS, 1);
            let id = c.add_pod(Pod::with_requests(t, 0, r, cpu, mem));
            c.bind(id, NodeId(0)).unwrap();
            id
        };
        let mut m = Metrics::default();
        // a holds 1000m/2000 bytes (share 1/2) from 0 to 60; b holds 2000m (share 1/2)
        // from 20 to 100. Means over 100: a 0.3, b 0.4, weighted b 0.2.
        let a = pod(&mut c, "a", 1000, 2000);
        let a_ns = c.pod(a).unwrap().namespace_id();
        m.pod_created(SimTime(0), a_ns, true);
        m.namespace_changed(SimTime(0), a_ns, &c, true);
        let b = pod(&mut c, "b", 2000, 0);
        let b_ns = c.pod(b).unwrap().namespace_id();
        m.pod_created(SimTime(20), b_ns, true);
        m.namespace_changed(SimTime(20), b_ns, &c, true);
        c.remove_pod(a);
        m.namespace_changed(SimTime(60), a_ns, &c, false);
        let (s, _) = m.finish(SimTime(100), 0, 1, 0, c.namespaces());
        let rows: Vec<(&str, u32, u64, f64, f64)> = s
            .namespaces
            .iter()
            .map(|n| {
                (
                    n.name.as_str(),
                    n.weight,
                    n.pods_bound,
                    n.dominant_share_mean,
                    n.weighted_share_mean(),
                )
            })
            .collect();
        assert_eq!(rows, [("a", 1, 1, 0.3, 0.3), ("b", 2, 1, 0.4, 0.2)]);
        // (0.3 + 0.2)^2 / (2 * (0.09 + 0.04)) = 0.25 / 0.26.
        assert!((s.jain_index - 0.25 / 0.26).abs() < 1e-12);
    }
}
