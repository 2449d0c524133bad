//! What the Services of a run delivered: requests served and dropped, each Service's
//! availability (the share of its lifetime with at least one ready endpoint), and the
//! autoscalers' scale-ups and scale-downs.
//!
//! Served requests are the integral of min(load, capacity per pod x ready pods) over
//! time; the rest of the load is dropped. The integral is exact for piecewise-constant
//! loads (constant, steps, spikes: every jump starts a new segment, as does every change
//! of the ready count) and uses the midpoint rule on pieces of at most a minute for the
//! others (diurnal, series). A Service whose requests wait in a work queue counts the
//! items its queue served and dropped instead.

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::scenario::dynamics::LoadProfile;
use crate::scenario::{Scenario, WorkloadKind};
use crate::time::SimTime;

/// `requests_served`.
pub static REQUESTS_SERVED: Column = Column {
    name: "requests_served",
    unit: Unit::Count,
    doc: "requests the Services' ready pods served (empty without services)",
};
/// `requests_dropped`.
pub static REQUESTS_DROPPED: Column = Column {
    name: "requests_dropped",
    unit: Unit::Count,
    doc: "requests that found no ready pod, or more load than the ready pods could serve",
};
/// `availability_min`.
pub static AVAILABILITY_MIN: Column = Column {
    name: "availability_min",
    unit: Unit::Ratio,
    doc: "the least available Service's share of time with at least one ready endpoint",
};
/// `hpa_scale_ups`.
pub static HPA_SCALE_UPS: Column = Column {
    name: "hpa_scale_ups",
    unit: Unit::Count,
    doc: "times a HorizontalPodAutoscaler raised its Deployment's replicas",
};
/// `hpa_scale_downs`.
pub static HPA_SCALE_DOWNS: Column = Column {
    name: "hpa_scale_downs",
    unit: Unit::Count,
    doc: "times a HorizontalPodAutoscaler lowered its Deployment's replicas",
};

/// One Service's figures, a row of a run's `services.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSummary {
    /// The Deployment's name.
    pub name: String,
    /// Its index in the scenario.
    pub workload: u32,
    /// Requests (or queue items) served.
    pub served: u64,
    /// Requests (or queue items) dropped.
    pub dropped: u64,
    /// Time with at least one ready endpoint, and the Service's lifetime, in
    /// microseconds: its availability is the one over the other.
    pub available: (u64, u64),
    /// Median queueing delay, for a Service with a work queue that served anything.
    pub queue_delay_p50: Option<SimTime>,
    /// 99th percentile queueing delay, likewise.
    pub queue_delay_p99: Option<SimTime>,
}

/// The longest piece the midpoint rule integrates a smooth load over.
const PIECE: SimTime = SimTime::from_secs(60);

/// One Service's books.
#[derive(Debug, Clone)]
struct Books {
    workload: usize,
    /// When its Deployment is created: the Service exists from then on.
    from: SimTime,
    /// Requests per second one pod serves at most.
    capacity: f64,
    ready: u32,
    /// Accounted up to here.
    until: SimTime,
    available: SimTime,
    served: f64,
    dropped: f64,
    /// Its requests wait in a work queue: served and dropped come from the queue's facts.
    queued: bool,
}

/// Requests, availability and autoscaling of the Services of a run.
#[derive(Debug, Default)]
pub struct ServiceMetrics {
    books: Vec<Books>,
    /// `books` index by workload index.
    index: Vec<Option<u32>>,
    loads: Vec<LoadProfile>,
    scale_ups: u64,
    scale_downs: u64,
    /// True when some Deployment has dynamics (the columns are empty otherwise).
    any: bool,
    /// The Deployments' names, by workload index.
    names: Vec<String>,
    /// Per Service, filled when the run closes.
    rows: Vec<ServiceSummary>,
}

impl ServiceMetrics {
    /// The books of `scenario`'s Services.
    pub fn new(scenario: &Scenario) -> ServiceMetrics {
        let mut m = ServiceMetrics {
            index: vec![None; scenario.workloads.len()],
            names: scenario
                .workloads
                .iter()
                .map(|w| w.template.name.to_string())
                .collect(),
            ..ServiceMetrics::default()
        };
        for (i, w) in scenario.workloads.iter().enumerate() {
            let Some(d) = &w.dynamics else {
                continue;
            };
            m.any = true;
            let (Some(s), WorkloadKind::Deployment { at, .. }) = (&d.service, &w.kind) else {
                continue;
            };
            m.index[i] = Some(m.books.len() as u32);
            m.loads.push(s.load.clone());
            m.books.push(Books {
                workload: i,
                from: *at,
                capacity: s.capacity_per_pod(&w.template),
                ready: 0,
                until: *at,
                available: SimTime::ZERO,
                served: 0.0,
                dropped: 0.0,
                queued: s.queue.is_some(),
            });
        }
        m
    }

    fn account(books: &mut Books, load: &LoadProfile, to: SimTime) {
        let mut t = books.until;
        if to <= t {
            return;
        }
        if books.ready > 0 {
            books.available = books.available.saturating_add(to.saturating_sub(t));
        }
        // No ready pod serves nothing (and an unbounded capacity times zero is not a number).
        let serve = if books.ready == 0 {
            0.0
        } else {
            books.capacity * f64::from(books.ready)
        };
        let piecewise = matches!(
            load,
            LoadProfile::Constant(_) | LoadProfile::Steps(_) | LoadProfile::Spike { .. }
        );
        while t < to && !books.queued {
            let mut end = load.next_jump(t).map_or(to, |j| j.min(to));
            if !piecewise {
                end = end.min(t.saturating_add(PIECE));
            }
            let dt = end.saturating_sub(t).as_secs_f64();
            let mid = SimTime(t.as_micros() + (end.as_micros() - t.as_micros()) / 2);
            let rate = load.at(mid);
            let served = rate.min(serve);
            books.served += served * dt;
            books.dropped += (rate - served) * dt;
            t = end;
        }
        books.until = to;
    }
}

impl ServiceMetrics {
    /// The Services' rows, in workload order (after [`Observer::finish`]).
    pub fn into_rows(self) -> Vec<ServiceSummary> {
        self.rows
    }
}

impl Observer for ServiceMetrics {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        match fact {
            Fact::EndpointsChanged { workload, ready } => {
                if let Some(Some(i)) = self.index.get(*workload as usize) {
                    let i = *i as usize;
                    Self::account(&mut self.books[i], &self.loads[i], view.now);
                    self.books[i].ready = *ready;
                }
            }
            Fact::QueueServed {
                workload, items, ..
            } => {
                if let Some(Some(i)) = self.index.get(*workload as usize) {
                    self.books[*i as usize].served += *items as f64;
                }
            }
            Fact::QueueDropped {
                workload, items, ..
            } => {
                if let Some(Some(i)) = self.index.get(*workload as usize) {
                    self.books[*i as usize].dropped += *items as f64;
                }
            }
            Fact::Scaled { from, to, .. } => {
                if to > from {
                    self.scale_ups += 1;
                } else {
                    self.scale_downs += 1;
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>, summary: &mut Summary) {
        let (mut served, mut dropped) = (0.0, 0.0);
        let mut availability: Option<(u64, u64)> = None;
        for (i, b) in self.books.iter_mut().enumerate() {
            Self::account(b, &self.loads[i], end.end);
            served += b.served;
            dropped += b.dropped;
            let life = end.end.saturating_sub(b.from).as_micros();
            self.rows.push(ServiceSummary {
                name: self.names.get(b.workload).cloned().unwrap_or_default(),
                workload: b.workload as u32,
                served: b.served.round() as u64,
                dropped: b.dropped.round() as u64,
                available: (b.available.as_micros(), life),
                queue_delay_p50: None,
                queue_delay_p99: None,
            });
            if life > 0 {
                let share = (b.available.as_micros(), life);
                // The smaller share, compared exactly.
                if availability.is_none_or(|(n, d)| {
                    u128::from(share.0) * u128::from(d) < u128::from(n) * u128::from(share.1)
                }) {
                    availability = Some(share);
                }
            }
        }
        let services = !self.books.is_empty();
        let count = |x: f64| {
            if services {
                Value::Count(x.round() as u64)
            } else {
                Value::Missing
            }
        };
        summary.push(&REQUESTS_SERVED, count(served));
        summary.push(&REQUESTS_DROPPED, count(dropped));
        summary.push(
            &AVAILABILITY_MIN,
            availability.map_or(Value::Missing, |(n, d)| {
                Value::Fraction(i128::from(n), i128::from(d))
            }),
        );
        let scaled = |n: u64| {
            if self.any {
                Value::Count(n)
            } else {
                Value::Missing
            }
        };
        summary.push(&HPA_SCALE_UPS, scaled(self.scale_ups));
        summary.push(&HPA_SCALE_DOWNS, scaled(self.scale_downs));
    }
}
