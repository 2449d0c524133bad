//! The time series (`timeseries.csv`): a row of pod counts, allocation and fragmentation
//! at every sampling tick, and the run's mean fragmentation.

use schedulers::{ClusterState, Resources};

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::time::SimTime;

/// `fragmentation`.
pub static FRAGMENTATION: Column = Column {
    name: "fragmentation",
    unit: Unit::Ratio,
    doc: "mean over samples with pods pending of the free capacity stranded on nodes the median pending pod does not fit (empty if never pending)",
};

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
    /// CPU millicores requested by the pods on ready nodes.
    pub cpu_requested: i64,
    /// CPU millicores allocatable on ready nodes.
    pub cpu_allocatable: i64,
    /// Memory bytes requested by the pods on ready nodes.
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
    /// CPU millicores requested by the pods on ready nodes.
    pub cpu_requested: i64,
    /// Memory bytes requested by the pods on ready nodes.
    pub mem_requested: i64,
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
            f.cpu_requested += node.requested.cpu();
            f.mem_requested += node.requested.memory();
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

/// Takes a [`Sample`] at every [`Fact::Sample`] tick and one at the end of the run.
#[derive(Debug, Clone, Default)]
pub struct TimeSeries {
    samples: Vec<Sample>,
    /// Fragmentation of the samples taken with pods pending: sum and count.
    fragmentation_sum: f64,
    fragmentation_samples: u64,
    /// Pending pods' requests, reused by every fragmentation measurement.
    scratch: Vec<Resources>,
}

impl TimeSeries {
    /// Records a row for `cluster` at `time`.
    pub fn sample(&mut self, time: SimTime, cluster: &ClusterState) {
        let pending = cluster.pending_pod_count();
        let f = Fragmentation::measure(cluster, pending > 0, &mut self.scratch);
        let allocatable = cluster.ready_capacity();
        let sample = Sample {
            time,
            pending,
            running: cluster.bound_pod_count(),
            nodes: cluster.present_node_count() as u64,
            cpu_requested: f.cpu_requested,
            cpu_allocatable: allocatable.cpu(),
            mem_requested: f.mem_requested,
            mem_allocatable: allocatable.memory(),
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

    /// The rows so far.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The rows, once the run has closed.
    pub fn into_samples(self) -> Vec<Sample> {
        self.samples
    }
}

impl Observer for TimeSeries {
    #[inline(always)]
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        if let Fact::Sample = fact {
            self.sample(view.now, view.cluster);
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>, summary: &mut Summary) {
        if self.samples.last().is_none_or(|s| s.time < end.end) {
            self.sample(end.end, end.cluster);
        }
        summary.push(
            &FRAGMENTATION,
            if self.fragmentation_samples > 0 {
                Value::Float(self.fragmentation_sum / self.fragmentation_samples as f64)
            } else {
                Value::Missing
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schedulers::{NodeSpec, Pod, PodTemplate, ResourceKind};
    use std::sync::Arc;

    #[test]
    fn fragmentation_of_one_sample() {
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
        let mut m = TimeSeries::default();
        m.sample(SimTime(0), &c);
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
                cpu_requested: 0,
                mem_requested: 0,
                cpu_stranded: 500,
                cpu_free: 4500,
                mem_stranded: 4000,
                mem_free: 12000,
            }
        );
        m.sample(SimTime(10), &c);
        let s = m.samples()[1];
        assert_eq!(s.pending, 3);
        // (500/4500 + 4000/12000) / 2 = (1/9 + 1/3) / 2 = 2/9.
        assert_eq!(
            s.fragmentation_fraction(),
            (500 * 12000 + 4000 * 4500, 2 * 4500 * 12000)
        );
        let mut summary = Summary::default();
        m.finish(
            &RunEnd {
                end: SimTime(10),
                cluster: &c,
                events: 0,
            },
            &mut summary,
        );
        assert_eq!(m.samples().len(), 2, "a row at the end exists already");
        let mean = summary.number(&FRAGMENTATION).unwrap();
        assert!((mean - 2.0 / 9.0).abs() < 1e-15);
    }
}
