//! What the work queues delivered and what KEDA did: the queueing delay of every served
//! item (p50 and p99, nearest rank, over every queue of the run) and the ScaledObjects'
//! activations (0 -> n) and deactivations (n -> 0).
//!
//! Delays are whole queue steps, so a histogram of exact delays keeps them: memory grows
//! with the number of distinct delays (at most the longest wait over the step, bounded
//! by a queue's timeout), not with the items, and the percentiles are exact.

use std::collections::BTreeMap;

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::scenario::Scenario;
use crate::time::SimTime;

/// `queue_delay_p50_s`.
pub static QUEUE_DELAY_P50: Column = Column {
    name: "queue_delay_p50_s",
    unit: Unit::Seconds,
    doc: "median time a served item waited in its work queue (nearest rank; empty without queues)",
};
/// `queue_delay_p99_s`.
pub static QUEUE_DELAY_P99: Column = Column {
    name: "queue_delay_p99_s",
    unit: Unit::Seconds,
    doc: "99th percentile time a served item waited in its work queue",
};
/// `keda_activations`.
pub static KEDA_ACTIVATIONS: Column = Column {
    name: "keda_activations",
    unit: Unit::Count,
    doc: "times KEDA scaled a Deployment up from zero (empty without scaledObjects)",
};
/// `keda_deactivations`.
pub static KEDA_DEACTIVATIONS: Column = Column {
    name: "keda_deactivations",
    unit: Unit::Count,
    doc: "times KEDA scaled a Deployment to zero after its cooldown",
};

/// Served items by exact delay, in microseconds.
#[derive(Debug, Default)]
struct Histogram {
    delays: BTreeMap<u64, u64>,
    served: u64,
}

impl Histogram {
    fn add(&mut self, delay: SimTime, items: u64) {
        *self.delays.entry(delay.as_micros()).or_insert(0) += items;
        self.served += items;
    }

    /// The `p`th percentile (nearest rank), if any item was served.
    fn percentile(&self, p: u64) -> Option<SimTime> {
        let rank = (self.served * p).div_ceil(100).max(1);
        let mut seen = 0;
        for (&delay, &n) in &self.delays {
            seen += n;
            if seen >= rank {
                return Some(SimTime(delay));
            }
        }
        None
    }
}

/// Queueing delays and KEDA's activations.
#[derive(Debug, Default)]
pub struct QueueMetrics {
    /// Over every queue.
    all: Histogram,
    /// By workload index (empty for workloads without a queue).
    by_workload: Vec<Histogram>,
    activations: u64,
    deactivations: u64,
    queues: bool,
    keda: bool,
}

impl QueueMetrics {
    /// The books of `scenario`'s queues.
    pub fn new(scenario: &Scenario) -> QueueMetrics {
        let dynamics = || {
            scenario
                .workloads
                .iter()
                .filter_map(|w| w.dynamics.as_ref())
        };
        QueueMetrics {
            queues: dynamics().any(|d| d.service.as_ref().is_some_and(|s| s.queue.is_some())),
            keda: dynamics().any(|d| d.keda.is_some()),
            ..QueueMetrics::default()
        }
    }

    /// The `p`th percentile delay over every queue (nearest rank), if any item was
    /// served.
    pub fn percentile(&self, p: u64) -> Option<SimTime> {
        self.all.percentile(p)
    }

    /// The `p`th percentile delay of one workload's queue, if it served any item.
    pub fn percentile_of(&self, workload: u32, p: u64) -> Option<SimTime> {
        self.by_workload.get(workload as usize)?.percentile(p)
    }
}

impl Observer for QueueMetrics {
    fn observe(&mut self, fact: &Fact, _view: &View<'_>) {
        match fact {
            Fact::QueueServed {
                workload,
                items,
                waited,
            } => {
                self.all.add(*waited, *items);
                let w = *workload as usize;
                if self.by_workload.len() <= w {
                    self.by_workload.resize_with(w + 1, Histogram::default);
                }
                self.by_workload[w].add(*waited, *items);
            }
            Fact::KedaScaled { from, to, .. } => {
                if *from == 0 && *to > 0 {
                    self.activations += 1;
                } else if *to == 0 {
                    self.deactivations += 1;
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, _end: &RunEnd<'_>, summary: &mut Summary) {
        let delay = |p| {
            self.percentile(p)
                .filter(|_| self.queues)
                .map_or(Value::Missing, Value::Time)
        };
        summary.push(&QUEUE_DELAY_P50, delay(50));
        summary.push(&QUEUE_DELAY_P99, delay(99));
        let count = |n| {
            if self.keda {
                Value::Count(n)
            } else {
                Value::Missing
            }
        };
        summary.push(&KEDA_ACTIVATIONS, count(self.activations));
        summary.push(&KEDA_DEACTIVATIONS, count(self.deactivations));
    }
}
