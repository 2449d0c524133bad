//! What memory pressure cost a run: pods the kubelets' eviction managers evicted, OOM
//! kills and container restarts (see [`crate::controllers::node_pressure`]). Every run
//! fills the columns; without `nodePressure:` they are zero.

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{EvictionReason, Fact, Observer, RunEnd, View};

/// `evictions_node_pressure`.
pub static EVICTIONS_NODE_PRESSURE: Column = Column {
    name: "evictions_node_pressure",
    unit: Unit::Count,
    doc: "pods evicted by their node's kubelet under memory pressure (memory.available below the hard threshold)",
};
/// `oom_kills`.
pub static OOM_KILLS: Column = Column {
    name: "oom_kills",
    unit: Unit::Count,
    doc: "times a pod's containers were OOM-killed for using more memory than their limit",
};
/// `restarts`.
pub static RESTARTS: Column = Column {
    name: "restarts",
    unit: Unit::Count,
    doc: "container restarts after OOM kills (each after its CrashLoopBackOff delay)",
};

/// The memory-pressure metrics.
#[derive(Debug, Default)]
pub struct PressureMetrics {
    evictions: u64,
    oom_kills: u64,
    restarts: u64,
}

impl Observer for PressureMetrics {
    fn observe(&mut self, fact: &Fact, _view: &View<'_>) {
        match fact {
            Fact::PodEvicted {
                reason: EvictionReason::NodePressure,
                ..
            } => self.evictions += 1,
            Fact::PodOomKilled { .. } => self.oom_kills += 1,
            Fact::ContainerRestarted { .. } => self.restarts += 1,
            _ => {}
        }
    }

    fn finish(&mut self, _end: &RunEnd<'_>, summary: &mut Summary) {
        summary.push(&EVICTIONS_NODE_PRESSURE, Value::Count(self.evictions));
        summary.push(&OOM_KILLS, Value::Count(self.oom_kills));
        summary.push(&RESTARTS, Value::Count(self.restarts));
    }
}
