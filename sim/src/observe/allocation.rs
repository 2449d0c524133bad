//! How much of the cluster's capacity pods requested, integrated exactly over time, and
//! how many pods shared a node: the capacity half of a run's summary.

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::time::SimTime;

/// `cpu_alloc_mean`.
pub static CPU_ALLOC_MEAN: Column = Column {
    name: "cpu_alloc_mean",
    unit: Unit::Ratio,
    doc: "time-weighted CPU requested by pods on ready nodes over CPU allocatable on ready nodes",
};
/// `mem_alloc_mean`.
pub static MEM_ALLOC_MEAN: Column = Column {
    name: "mem_alloc_mean",
    unit: Unit::Ratio,
    doc: "time-weighted memory requested over memory allocatable",
};
/// `cpu_alloc_peak`.
pub static CPU_ALLOC_PEAK: Column = Column {
    name: "cpu_alloc_peak",
    unit: Unit::Ratio,
    doc: "highest CPU requested over allocatable at any instant",
};
/// `mem_alloc_peak`.
pub static MEM_ALLOC_PEAK: Column = Column {
    name: "mem_alloc_peak",
    unit: Unit::Ratio,
    doc: "highest memory requested over allocatable at any instant",
};
/// `nodes_max`.
pub static NODES_MAX: Column = Column {
    name: "nodes_max",
    unit: Unit::Count,
    doc: "most nodes in the cluster at once",
};
/// `pods_per_node_mean`.
pub static PODS_PER_NODE_MEAN: Column = Column {
    name: "pods_per_node_mean",
    unit: Unit::PodsPerNode,
    doc: "time-weighted mean of pods per node, over nodes holding at least one pod",
};
/// `pods_per_node_max`.
pub static PODS_PER_NODE_MAX: Column = Column {
    name: "pods_per_node_max",
    unit: Unit::Count,
    doc: "most pods on one node at any instant",
};

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
struct Totals {
    requested: i64,
    allocatable: i64,
    requested_integral: u128,
    allocatable_integral: u128,
    peak: Ratio,
}

impl Totals {
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

/// Requested and allocatable CPU and memory, node counts and pods per node over time.
#[derive(Debug, Clone, Default)]
pub struct Allocation {
    last_change: SimTime,
    cpu: Totals,
    mem: Totals,
    nodes: u64,
    nodes_max: u64,
    /// Pods bound to a node now, and nodes holding at least one, with their time
    /// integrals: their ratio is the time-weighted pods per occupied node.
    pods_on_nodes: u64,
    occupied_nodes: u64,
    /// Pods on each node, by node index.
    node_pods: Vec<u64>,
    pods_on_nodes_integral: u128,
    occupied_nodes_integral: u128,
    pods_per_node_max: u64,
}

impl Allocation {
    /// Integrates the totals up to `now`; called before every change.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.last_change.0);
        if dt > 0 {
            self.cpu.advance(dt);
            self.mem.advance(dt);
            self.pods_on_nodes_integral += u128::from(self.pods_on_nodes) * u128::from(dt);
            self.occupied_nodes_integral += u128::from(self.occupied_nodes) * u128::from(dt);
            self.last_change = now;
        }
    }

    /// A pod joined (`sign` 1) or left (`sign` -1) the node with index `node`.
    #[inline]
    fn pod_on_node(&mut self, node: usize, sign: i64) {
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

    /// A pod's requests were charged (`sign` 1) or released (`sign` -1).
    #[inline]
    fn charge(&mut self, cpu: i64, mem: i64, sign: i64) {
        self.cpu.requested += sign * cpu;
        self.mem.requested += sign * mem;
        if sign > 0 {
            self.cpu.note_peak();
            self.mem.note_peak();
        }
    }

    /// Allocatable capacity joined (`sign` 1) or left (`sign` -1).
    fn capacity(&mut self, cpu: i64, mem: i64, sign: i64) {
        self.cpu.allocatable += sign * cpu;
        self.mem.allocatable += sign * mem;
        self.cpu.note_peak();
        self.mem.note_peak();
    }
}

impl Observer for Allocation {
    #[inline(always)]
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        match fact {
            // A pod waiting at Permit holds its node's resources: they count as allocated
            // from then on, not again when it is bound, and no longer once it is rejected.
            Fact::PodBound { waited: true, .. } => {}
            Fact::PodBound { node, .. } | Fact::PodWaiting { node, .. } => {
                self.advance(view.now);
                if let Some(p) = view.pod {
                    self.charge(p.requests.cpu(), p.requests.memory(), 1);
                }
                self.pod_on_node(node.index(), 1);
            }
            Fact::PermitRejected { node, .. } => {
                self.advance(view.now);
                if let Some(p) = view.pod
                    && view.cluster.node(*node).ready
                {
                    self.charge(p.requests.cpu(), p.requests.memory(), -1);
                }
                self.pod_on_node(node.index(), -1);
            }
            Fact::PodDeleted { .. } => {
                if let Some((p, node)) = view.pod.and_then(|p| Some((p, p.node?))) {
                    self.advance(view.now);
                    // A node that is not ready took its pods' requests out of the totals
                    // when it turned not ready.
                    if view.cluster.node(node).ready {
                        self.charge(p.requests.cpu(), p.requests.memory(), -1);
                    }
                    self.pod_on_node(node.index(), -1);
                }
            }
            Fact::NodeAdded { node } => {
                self.advance(view.now);
                let n = view.cluster.node(*node);
                self.nodes += 1;
                self.nodes_max = self.nodes_max.max(self.nodes);
                if n.ready {
                    self.capacity(n.spec.allocatable.cpu(), n.spec.allocatable.memory(), 1);
                }
            }
            Fact::NodeReady { node, ready } => {
                // The node's capacity and what its pods request count only while it is
                // ready, so the share stays a share of what can serve.
                self.advance(view.now);
                let n = view.cluster.node(*node);
                let sign = if *ready { 1 } else { -1 };
                self.capacity(n.spec.allocatable.cpu(), n.spec.allocatable.memory(), sign);
                self.charge(n.requested.cpu(), n.requested.memory(), sign);
            }
            Fact::NodeRemoved { .. } => {
                self.advance(view.now);
                self.nodes -= 1;
            }
            Fact::NodeResized {
                node,
                cpu_before,
                memory_before,
            } => {
                let n = view.cluster.node(*node);
                if n.ready {
                    self.advance(view.now);
                    self.capacity(*cpu_before, *memory_before, -1);
                    self.capacity(n.spec.allocatable.cpu(), n.spec.allocatable.memory(), 1);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>, summary: &mut Summary) {
        self.advance(end.end);
        summary.push(&CPU_ALLOC_MEAN, Value::Float(self.cpu.mean()));
        summary.push(&MEM_ALLOC_MEAN, Value::Float(self.mem.mean()));
        summary.push(&CPU_ALLOC_PEAK, Value::Float(self.cpu.peak.value()));
        summary.push(&MEM_ALLOC_PEAK, Value::Float(self.mem.peak.value()));
        summary.push(&NODES_MAX, Value::Count(self.nodes_max));
        summary.push(
            &PODS_PER_NODE_MEAN,
            Value::Float(if self.occupied_nodes_integral == 0 {
                0.0
            } else {
                self.pods_on_nodes_integral as f64 / self.occupied_nodes_integral as f64
            }),
        );
        summary.push(&PODS_PER_NODE_MAX, Value::Count(self.pods_per_node_max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schedulers::ClusterState;

    fn end(c: &ClusterState, at: u64) -> RunEnd<'_> {
        RunEnd {
            end: SimTime(at),
            cluster: c,
            events: 0,
        }
    }

    #[test]
    fn allocation_is_time_weighted() {
        let c = ClusterState::default();
        let mut m = Allocation::default();
        let at = |m: &mut Allocation, t| m.advance(SimTime(t));
        m.capacity(1000, 1000, 1);
        m.charge(500, 0, 1);
        at(&mut m, 10);
        m.charge(500, 0, -1);
        m.capacity(1000, 1000, 1);
        let mut s = Summary::default();
        m.finish(&end(&c, 20), &mut s);
        // 500*10 requested over 1000*10 + 2000*10 allocatable.
        let mean = s.number(&CPU_ALLOC_MEAN).unwrap();
        assert!((mean - 5000.0 / 30000.0).abs() < 1e-12);
        assert_eq!(s.number(&CPU_ALLOC_PEAK), Some(0.5));
    }

    #[test]
    fn pods_per_node_is_time_weighted_over_occupied_nodes() {
        let c = ClusterState::default();
        let mut m = Allocation::default();
        // 0-10: node 0 holds 2 pods; 10-30: node 0 holds 2, node 2 holds 1; 30-40: node 2
        // alone holds 1. Pods: 2*10 + 3*20 + 1*10 = 90; occupied nodes: 10 + 40 + 10 = 60.
        for (t, node, sign) in [
            (0, 0, 1),
            (0, 0, 1),
            (10, 2, 1),
            (30, 0, -1),
            (30, 0, -1),
            (40, 2, -1),
        ] {
            m.advance(SimTime(t));
            m.pod_on_node(node, sign);
        }
        let mut s = Summary::default();
        m.finish(&end(&c, 50), &mut s);
        assert_eq!(s.number(&PODS_PER_NODE_MEAN), Some(1.5));
        assert_eq!(s.count(&PODS_PER_NODE_MAX), 2);
    }
}
