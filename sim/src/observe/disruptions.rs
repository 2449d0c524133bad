//! Evictions by reason, node failures, node-down time and the time to recover from each
//! failure: what `failures:` scenarios measure (every run fills the columns; without
//! failures they are zero or empty).
//!
//! A failure (a crash, a zone outage's crash of each node, a spot reclaim) opens an
//! episode on its node. Pods evicted from that node while the episode is open (by their
//! taint, a drain or the node's removal) are owed to it when a Deployment or a
//! StatefulSet replaces them; each start of a pod of the same workload pays one back. A
//! StatefulSet pod whose zonal volume is in a lost zone stays pending until the zone is
//! back, so its failure recovers only when that pod runs again there. The episode recovers when the
//! node is back (or gone, or empty) and nothing is owed: its recovery time runs from the
//! failure to the start of its last replacement. Episodes with no eviction (the node
//! came back first) have no recovery time; episodes still owing at the end are not
//! counted. Pods no controller replaces (bare pods, batch pods) are lost.

use schedulers::{NodeId, OwnerKind};

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{EvictionReason, Fact, NodeFailure, Observer, RunEnd, View};
use crate::time::SimTime;

/// `evictions_taint`.
pub static EVICTIONS_TAINT: Column = Column {
    name: "evictions_taint",
    unit: Unit::Count,
    doc: "pods evicted by a NoExecute taint (an unreachable node, after tolerationSeconds)",
};
/// `evictions_drain`.
pub static EVICTIONS_DRAIN: Column = Column {
    name: "evictions_drain",
    unit: Unit::Count,
    doc: "pods evicted by drains (scripted, or a spot reclaim's notice) through the PodDisruptionBudgets",
};
/// `evictions_node_removed`.
pub static EVICTIONS_NODE_REMOVED: Column = Column {
    name: "evictions_node_removed",
    unit: Unit::Count,
    doc: "pods evicted because their node left the cluster (a terminated spot node, a removed node)",
};
/// `evictions_node_resized`.
pub static EVICTIONS_NODE_RESIZED: Column = Column {
    name: "evictions_node_resized",
    unit: Unit::Count,
    doc: "pods the kubelet rejected because their node's machine shrank (a trace's capacity update) and they no longer fit",
};
/// `node_failures`.
pub static NODE_FAILURES: Column = Column {
    name: "node_failures",
    unit: Unit::Count,
    doc: "node failures: crashes (scripted, zone outages, random) and spot reclaims",
};
/// `node_down_s`.
pub static NODE_DOWN: Column = Column {
    name: "node_down_s",
    unit: Unit::Seconds,
    doc: "summed over nodes, time from a crash until the node recovered, left or the run ended",
};
/// `recovery_mean_s`.
pub static RECOVERY_MEAN: Column = Column {
    name: "recovery_mean_s",
    unit: Unit::Seconds,
    doc: "mean over failures that evicted pods of the time from the failure until every evicted pod's replacement runs",
};
/// `recovery_max_s`.
pub static RECOVERY_MAX: Column = Column {
    name: "recovery_max_s",
    unit: Unit::Seconds,
    doc: "the longest of those recovery times",
};
/// `pods_lost`.
pub static PODS_LOST: Column = Column {
    name: "pods_lost",
    unit: Unit::Count,
    doc: "pods evicted by a taint, a drain or a node's removal that no controller replaces (bare and batch pods)",
};

/// A failure and the replacements it is owed.
#[derive(Debug)]
struct Episode {
    node: NodeId,
    start: SimTime,
    /// (workload, replacements owed), few entries.
    owed: Vec<(u32, u32)>,
    outstanding: u32,
    evicted: u32,
    last_start: SimTime,
    /// The node is back or gone: nothing more will be evicted for this failure.
    node_done: bool,
}

/// The disruption metrics.
#[derive(Debug, Default)]
pub struct Disruptions {
    taint: u64,
    drain: u64,
    node_removed: u64,
    node_resized: u64,
    failures: u64,
    lost: u64,
    /// When each node went down, by node index.
    down_since: Vec<Option<SimTime>>,
    down_total: SimTime,
    episodes: Vec<Episode>,
    recoveries: Vec<SimTime>,
}

impl Disruptions {
    fn went_up(&mut self, node: NodeId, now: SimTime) {
        if let Some(since) = self.down_since.get_mut(node.index()).and_then(Option::take) {
            self.down_total = self.down_total.saturating_add(now.saturating_sub(since));
        }
        for e in self.episodes.iter_mut().filter(|e| e.node == node) {
            e.node_done = true;
        }
    }

    /// Closes the episodes that have recovered.
    fn close(&mut self, view: &View<'_>) {
        let recoveries = &mut self.recoveries;
        self.episodes.retain(|e| {
            let node = view.cluster.node(e.node);
            let done = e.node_done
                || node.removed
                || node
                    .pods
                    .iter()
                    .all(|&p| view.cluster.pod(p).is_none_or(|p| p.terminating));
            if !done || e.outstanding > 0 {
                return true;
            }
            if e.evicted > 0 {
                recoveries.push(e.last_start.saturating_sub(e.start));
            }
            false
        });
    }
}

impl Observer for Disruptions {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        match fact {
            Fact::NodeFailed { node, kind } => {
                self.failures += 1;
                if *kind == NodeFailure::Crash {
                    let i = node.index();
                    if i >= self.down_since.len() {
                        self.down_since.resize(i + 1, None);
                    }
                    self.down_since[i].get_or_insert(view.now);
                }
                for e in self.episodes.iter_mut().filter(|e| e.node == *node) {
                    e.node_done = true;
                }
                self.episodes.push(Episode {
                    node: *node,
                    start: view.now,
                    owed: Vec::new(),
                    outstanding: 0,
                    evicted: 0,
                    last_start: view.now,
                    node_done: false,
                });
            }
            Fact::NodeRecovered { node } | Fact::NodeRemoved { node }
                if !self.episodes.is_empty() || !self.down_since.is_empty() =>
            {
                self.went_up(*node, view.now);
                self.close(view);
            }
            Fact::PodEvicted { reason, .. } => {
                match reason {
                    EvictionReason::Taint => self.taint += 1,
                    EvictionReason::Drain => self.drain += 1,
                    EvictionReason::NodeRemoved => self.node_removed += 1,
                    EvictionReason::NodeResized => self.node_resized += 1,
                    // Counted by their own observers.
                    EvictionReason::Preemption
                    | EvictionReason::ScaleDown
                    | EvictionReason::DeploymentScaledDown
                    | EvictionReason::StatefulSetScaledDown
                    | EvictionReason::RolloutReplaced
                    | EvictionReason::JobTerminated
                    | EvictionReason::NodePressure => return,
                }
                let Some(p) = view.pod else {
                    return;
                };
                if !matches!(
                    p.template.owner,
                    OwnerKind::ReplicaSet | OwnerKind::StatefulSet
                ) {
                    self.lost += 1;
                    return;
                }
                let Some(e) = self
                    .episodes
                    .iter_mut()
                    .rev()
                    .find(|e| Some(e.node) == p.node && !e.node_done)
                else {
                    return;
                };
                e.evicted += 1;
                e.outstanding += 1;
                match e.owed.iter_mut().find(|(w, _)| *w == p.owner) {
                    Some((_, n)) => *n += 1,
                    None => e.owed.push((p.owner, 1)),
                }
            }
            Fact::PodStarted { .. } => {
                if self.episodes.iter().all(|e| e.outstanding == 0) {
                    return;
                }
                let Some(owner) = view.pod.map(|p| p.owner) else {
                    return;
                };
                let paid = self.episodes.iter_mut().find_map(|e| {
                    let (_, n) = e.owed.iter_mut().find(|(w, n)| *w == owner && *n > 0)?;
                    *n -= 1;
                    e.outstanding -= 1;
                    e.last_start = view.now;
                    Some(())
                });
                if paid.is_some() {
                    self.close(view);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>, summary: &mut Summary) {
        let mut down = self.down_total;
        for since in self.down_since.iter().flatten() {
            down = down.saturating_add(end.end.saturating_sub(*since));
        }
        summary.push(&EVICTIONS_TAINT, Value::Count(self.taint));
        summary.push(&EVICTIONS_DRAIN, Value::Count(self.drain));
        summary.push(&EVICTIONS_NODE_REMOVED, Value::Count(self.node_removed));
        summary.push(&EVICTIONS_NODE_RESIZED, Value::Count(self.node_resized));
        summary.push(&NODE_FAILURES, Value::Count(self.failures));
        summary.push(&NODE_DOWN, Value::Time(down));
        let sum: u64 = self.recoveries.iter().map(|t| t.0).sum();
        let mean = sum.checked_div(self.recoveries.len() as u64);
        summary.push(
            &RECOVERY_MEAN,
            mean.map_or(Value::Missing, |m| Value::Time(SimTime(m))),
        );
        summary.push(
            &RECOVERY_MAX,
            self.recoveries
                .iter()
                .copied()
                .max()
                .map_or(Value::Missing, Value::Time),
        );
        summary.push(&PODS_LOST, Value::Count(self.lost));
    }
}
