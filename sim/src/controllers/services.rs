//! Services and what their pods use: each Deployment with dynamics gets a Service whose
//! endpoints are its ready pods; its load (requests per second) is spread evenly over
//! them; what a pod serves sets its CPU use, and its memory use follows `memoryUsage`.
//! This controller plays the kubelets' readiness probes and the metrics server: it marks
//! pods Ready after their workload's readiness delay and takes a usage sample of every
//! pod each metrics resolution, into the shared [`crate::engine::PodStatuses`] that
//! autoscalers read.
//!
//! Simplifications, each documented in docs/scenario-format.md: a pod is Ready once its
//! delay has passed and stays Ready until it is deleted (no failing probes); a pod
//! serves at most its capacity and requests beyond what the ready pods can serve are
//! dropped, not queued; a sample is the usage at the scrape instant, not an average over
//! the window (the load is smooth at that scale, and constant between scrapes when it is
//! a step function).

use rand::rngs::ChaCha8Rng;
use schedulers::{PodId, PodPhase};

use crate::controllers::Controller;
use crate::engine::status::Usage;
use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::rng::{Concern, stream};
use crate::sampling::sample_size;
use crate::scenario::dynamics::{Dynamics, cpu_limit, step_value};
use crate::scenario::{Scenario, Workload};
use crate::time::SimTime;

/// The Services controller's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceEvent {
    /// A started pod's readiness delay is over.
    Ready {
        /// The pod.
        pod: PodId,
    },
    /// The metrics server samples every pod of every workload with dynamics.
    Scrape,
}

impl ServiceEvent {
    /// Scrapes recur for ever and change nothing by themselves; a pod turning ready does.
    pub fn keeps_run_alive(&self) -> bool {
        matches!(self, ServiceEvent::Ready { .. })
    }
}

/// Per workload with dynamics: its ready endpoints and its pods' memory draws.
#[derive(Debug)]
struct Endpoints {
    ready: u32,
    /// Requests per second one pod can serve.
    capacity: f64,
    /// The pods' CPU limit (the sum of their containers'), if every container sets one.
    cpu_limit: Option<i64>,
    memory: ChaCha8Rng,
}

/// The Services of a run.
#[derive(Debug)]
pub struct Services {
    /// By workload index; `None` for workloads without dynamics.
    endpoints: Vec<Option<Endpoints>>,
}

impl Services {
    /// The Services of `scenario`, and its first scrape (none without dynamics).
    pub(crate) fn start(scenario: &Scenario, seed: u64, ctx: &mut Ctx<'_>) -> Services {
        let endpoints: Vec<Option<Endpoints>> = scenario
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| w.dynamics.as_ref().map(|d| Endpoints::new(w, d, seed, i)))
            .collect();
        if endpoints.iter().any(Option::is_some) {
            ctx.at(
                scenario.metrics_resolution,
                Event::Services(ServiceEvent::Scrape),
            );
        }
        Services { endpoints }
    }

    fn dynamics(scenario: &Scenario, w: u32) -> Option<&Dynamics> {
        scenario.workloads.get(w as usize)?.dynamics.as_deref()
    }

    fn ready(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        let running = ctx
            .cluster
            .pod(pod)
            .is_some_and(|p| p.phase == PodPhase::Running && !p.terminating);
        let now = ctx.now;
        let delay =
            |w: u32| Self::dynamics(ctx.scenario, w).map_or(SimTime::ZERO, |d| d.readiness_delay);
        // A timer of containers that were OOM-killed since is stale: the ones running now
        // turn ready after their own delay.
        let up = ctx.status().get(pod).is_some_and(|s| {
            s.running_since
                .is_some_and(|t| t.saturating_add(delay(s.workload)) <= now)
        });
        let Some(status) = ctx.status_mut().get_mut(pod).filter(|_| running && up) else {
            return;
        };
        if status.ready.is_some_and(|r| r.0) {
            return;
        }
        status.ready = Some((true, now));
        let w = status.workload;
        let Some(e) = self.endpoints[w as usize].as_mut() else {
            return;
        };
        e.ready += 1;
        let ready = e.ready;
        ctx.publish(Fact::PodReady { pod });
        ctx.publish(Fact::EndpointsChanged { workload: w, ready });
    }

    /// The pod stops being an endpoint (its deletion began, or it left).
    fn unready(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let Some(status) = ctx.status_mut().get_mut(pod) else {
            return;
        };
        if !status.ready.is_some_and(|r| r.0) {
            return;
        }
        status.ready = Some((false, now));
        let w = status.workload;
        if let Some(e) = self.endpoints[w as usize].as_mut() {
            e.ready -= 1;
            let ready = e.ready;
            ctx.publish(Fact::EndpointsChanged { workload: w, ready });
        }
    }

    /// Arms a pod's readiness probe: its containers just started.
    fn probe(pod: PodId, ctx: &mut Ctx<'_>) {
        let Some(w) = ctx.status().get(pod).map(|s| s.workload) else {
            return;
        };
        // A rollout's pods take its readiness delay.
        let template = ctx.cluster.pod(pod).map(|p| &p.template);
        let delay = Self::dynamics(ctx.scenario, w).map_or(SimTime::ZERO, |d| {
            d.rollouts
                .iter()
                .rev()
                .find(|r| template.is_some_and(|t| std::sync::Arc::ptr_eq(t, &r.template)))
                .map_or(d.readiness_delay, |r| r.readiness_delay)
        });
        let ready = Event::Services(ServiceEvent::Ready { pod });
        if delay == SimTime::ZERO {
            ctx.then(ready);
        } else {
            ctx.at(ctx.now.saturating_add(delay), ready);
        }
    }

    /// One sample of every running pod of every workload with dynamics.
    fn scrape(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        for w in 0..self.endpoints.len() {
            let Some(e) = &self.endpoints[w] else {
                continue;
            };
            let Some(d) = Self::dynamics(ctx.scenario, w as u32) else {
                continue;
            };
            // What each ready pod serves, in requests per second.
            let per_pod = match &d.service {
                Some(s) if e.ready > 0 => (s.load.at(now) / f64::from(e.ready)).min(e.capacity),
                _ => 0.0,
            };
            for i in 0..ctx.status().pods_of(w as u32).len() {
                let id = ctx.status().pods_of(w as u32)[i];
                let Some(status) = ctx.status().get(id).copied() else {
                    continue;
                };
                if status.started.is_none() {
                    continue;
                }
                let serving = if status.ready.is_some_and(|r| r.0) {
                    per_pod
                } else {
                    0.0
                };
                let mut cpu = d.service.as_ref().map_or(0.0, |s| {
                    s.idle_cpu_milli + serving * s.cpu_per_request_milli
                }) as i64;
                if let Some(limit) = e.cpu_limit {
                    cpu = cpu.min(limit);
                }
                // Containers that are down (OOM-killed, waiting to restart) use nothing.
                let mut memory = match (&d.memory, status.running_since) {
                    (Some(m), Some(since)) => {
                        let hours = now.saturating_sub(since).as_secs_f64() / 3600.0;
                        status.memory_base + (m.leak_per_hour as f64 * hours) as i64
                    }
                    _ => 0,
                };
                let ordinal = ctx.cluster.pod(id).map_or(0, |p| p.ordinal);
                if let Some(steps) = d.usage.cpu_of(ordinal) {
                    cpu = step_value(steps, now);
                }
                if let Some(steps) = d.usage.memory_of(ordinal) {
                    memory = step_value(steps, now);
                }
                if let Some(s) = ctx.status_mut().get_mut(id) {
                    s.usage = Some(Usage {
                        at: now,
                        cpu_milli: cpu,
                        memory_bytes: memory,
                        rps_milli: (serving * 1000.0) as i64,
                    });
                }
            }
        }
        let next = now.saturating_add(ctx.scenario.metrics_resolution);
        ctx.at(next, Event::Services(ServiceEvent::Scrape));
    }
}

impl Endpoints {
    fn new(w: &Workload, d: &Dynamics, seed: u64, index: usize) -> Endpoints {
        Endpoints {
            ready: 0,
            capacity: d
                .service
                .as_ref()
                .map_or(0.0, |s| s.capacity_per_pod(&w.template)),
            cpu_limit: cpu_limit(&w.template),
            memory: stream(seed, Concern::Usage, index as u64),
        }
    }
}

impl Controller for Services {
    type Event = ServiceEvent;

    fn on(&mut self, event: ServiceEvent, ctx: &mut Ctx<'_>) {
        match event {
            ServiceEvent::Ready { pod } => self.ready(pod, ctx),
            ServiceEvent::Scrape => self.scrape(ctx),
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::PodCreated { pod, .. } => {
                let Some(owner) = ctx.cluster.pod(*pod).map(|p| p.owner) else {
                    return;
                };
                let Some(e) = self
                    .endpoints
                    .get_mut(owner as usize)
                    .and_then(Option::as_mut)
                else {
                    return;
                };
                ctx.status_mut().add(*pod, owner);
                if let Some(m) = Self::dynamics(ctx.scenario, owner).and_then(|d| d.memory.as_ref())
                {
                    let base = sample_size(&m.base, &mut e.memory);
                    if let Some(s) = ctx.status_mut().get_mut(*pod) {
                        s.memory_base = base;
                    }
                }
            }
            Fact::PodStarted { pod } => {
                let now = ctx.now;
                let Some(status) = ctx.status_mut().get_mut(*pod) else {
                    return;
                };
                status.started = Some(now);
                status.running_since = Some(now);
                status.ready = Some((false, now));
                Self::probe(*pod, ctx);
            }
            // Killed containers are not ready; restarted ones are probed again.
            Fact::PodOomKilled { pod, .. } => self.unready(*pod, ctx),
            Fact::ContainerRestarted { pod, .. } => Self::probe(*pod, ctx),
            Fact::PodEvicted {
                pod,
                graceful: true,
                ..
            } => self.unready(*pod, ctx),
            Fact::PodDeleted { pod, .. } => {
                self.unready(*pod, ctx);
                ctx.status_mut().remove(*pod);
            }
            _ => {}
        }
    }
}
