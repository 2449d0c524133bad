//! HorizontalPodAutoscalers (autoscaling/v2): each one, every sync period, reads its
//! target's pods (a Deployment's or a StatefulSet's) and their newest usage samples, asks
//! the [`calculator`] what each metric recommends, takes the largest, and lets the
//! [`behavior`] stabilize and bound it; a change is published as [`Fact::Scaled`], which
//! the Deployment's ReplicaSet or the StatefulSet controller acts on (upstream reads and
//! writes either through the `scale` subresource, so the algorithm is the same).
//!
//! Follows `reconcileAutoscaler` of kube-controller-manager's
//! `pkg/controller/podautoscaler/horizontal.go` (v1.35): a target at zero replicas with
//! `minReplicas` above zero is left alone (autoscaling is off); a count outside
//! `minReplicas..=maxReplicas` is brought inside first; metrics that cannot be computed
//! are skipped, and if any was skipped the others may scale up but not down. Every
//! autoscaler syncs on its own period from its target's creation (upstream syncs them
//! all through one work queue, which has no fixed phase).

pub mod behavior;
pub mod calculator;

use crate::controllers::Controller;
use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::scenario::dynamics::{HpaMetric, HpaSpec};
use crate::scenario::{Scenario, WorkloadKind};
use behavior::{History, Limit};
use calculator::{MetricSample, PodSample, SamplePhase, Target};
use schedulers::{PodPhase, ResourceKind};

/// The autoscalers' events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HpaEvent {
    /// The autoscaler of this workload syncs.
    Sync {
        /// The workload's index in the scenario.
        workload: u32,
    },
}

/// One autoscaler's state.
#[derive(Debug)]
struct Autoscaler {
    /// The target's `spec.replicas`, which only this autoscaler changes.
    replicas: i32,
    history: History,
}

/// Every HorizontalPodAutoscaler of a run.
#[derive(Debug, Default)]
pub struct Autoscalers {
    /// By workload index.
    hpas: Vec<Option<Autoscaler>>,
    /// The pods of the target being synced (reused).
    samples: Vec<PodSample>,
}

impl Autoscalers {
    /// The autoscalers of `scenario`, with their first syncs.
    pub(crate) fn start(scenario: &Scenario, ctx: &mut Ctx<'_>) -> Autoscalers {
        let mut hpas = Vec::with_capacity(scenario.workloads.len());
        for (i, w) in scenario.workloads.iter().enumerate() {
            let spec = w.dynamics.as_ref().and_then(|d| d.hpa.as_ref());
            let (
                Some(spec),
                WorkloadKind::Deployment { at, replicas }
                | WorkloadKind::StatefulSet { at, replicas, .. },
            ) = (spec, &w.kind)
            else {
                hpas.push(None);
                continue;
            };
            ctx.at(
                at.saturating_add(spec.sync_period),
                Event::Hpa(HpaEvent::Sync { workload: i as u32 }),
            );
            hpas.push(Some(Autoscaler {
                replicas: *replicas as i32,
                history: History::default(),
            }));
        }
        Autoscalers {
            hpas,
            samples: Vec::new(),
        }
    }

    fn sync(&mut self, w: u32, ctx: &mut Ctx<'_>) {
        let Some(spec) = ctx.scenario.workloads[w as usize]
            .dynamics
            .as_ref()
            .and_then(|d| d.hpa.as_ref())
        else {
            return;
        };
        ctx.at(
            ctx.now.saturating_add(spec.sync_period),
            Event::Hpa(HpaEvent::Sync { workload: w }),
        );
        let Some(hpa) = self.hpas[w as usize].as_mut() else {
            return;
        };
        let current = hpa.replicas;
        if current == 0 && spec.min != 0 {
            return;
        }
        let (desired, recommended, utilization, limit, target) = if current > spec.max {
            (spec.max, spec.max, 0, Limit::TooManyReplicas, 0)
        } else if current < spec.min {
            (spec.min, spec.min, 0, Limit::TooFewReplicas, 0)
        } else {
            let Some((recommended, utilization, target)) =
                recommend(spec, current, w, &mut self.samples, ctx)
            else {
                return;
            };
            let (desired, limit) = hpa.history.normalize(
                ctx.now,
                current,
                recommended,
                (spec.min, spec.max),
                &spec.behavior,
            );
            (desired, recommended, utilization, limit, target)
        };
        if desired == current {
            return;
        }
        hpa.history
            .record_scale(current, desired, ctx.now, &spec.behavior);
        hpa.replicas = desired;
        ctx.publish(Fact::Scaled {
            workload: w,
            from: current as u32,
            to: desired as u32,
            recommended: recommended.max(0) as u32,
            utilization,
            limit,
            target,
        });
    }
}

/// The largest recommendation over the autoscaler's metrics, with the deciding metric's
/// current value and target; `None` when no metric could be computed. When some could not, a
/// recommendation below `current` is not made (upstream's rule against scaling down on
/// partial information).
fn recommend(
    spec: &HpaSpec,
    current: i32,
    w: u32,
    samples: &mut Vec<PodSample>,
    ctx: &Ctx<'_>,
) -> Option<(i32, i64, i64)> {
    let mut best: Option<(i32, i64, i64)> = None;
    let mut invalid = false;
    for metric in &spec.metrics {
        let (target, cpu) = fill_samples(*metric, w, samples, ctx);
        match calculator::replicas(current, target, cpu, samples, ctx.now, &spec.settings) {
            Ok(r) => {
                if best.is_none_or(|(b, _, _)| r.replicas > b) {
                    let target = match target {
                        Target::Utilization(t) => i64::from(t),
                        Target::AverageValue(v) => v,
                    };
                    best = Some((r.replicas, r.utilization, target));
                }
            }
            Err(_) => invalid = true,
        }
    }
    match best {
        Some((r, _, _)) if invalid && r < current => None,
        other => other,
    }
}

/// The target's pods as the calculator sees them for `metric`; returns the metric's
/// target and whether it is CPU.
fn fill_samples(
    metric: HpaMetric,
    w: u32,
    samples: &mut Vec<PodSample>,
    ctx: &Ctx<'_>,
) -> (Target, bool) {
    let (target, kind, cpu) = match metric {
        HpaMetric::Cpu(t) => (t, Some(ResourceKind::CPU), true),
        HpaMetric::Memory(t) => (t, Some(ResourceKind::MEMORY), false),
        HpaMetric::RequestsPerSecond(v) => (Target::AverageValue(v), None, false),
    };
    samples.clear();
    let status = ctx.status();
    for &id in status.pods_of(w) {
        let (Some(pod), Some(s)) = (ctx.cluster.pod(id), status.get(id)) else {
            continue;
        };
        let value = |u: &crate::engine::status::Usage| match kind {
            Some(ResourceKind::CPU) => u.cpu_milli,
            Some(_) => u.memory_bytes,
            None => u.rps_milli,
        };
        samples.push(PodSample {
            phase: if pod.phase == PodPhase::Running {
                SamplePhase::Running
            } else {
                SamplePhase::Pending
            },
            deleting: pod.terminating,
            ready: s.ready,
            started: s.started,
            request: kind.map_or(0, |k| pod.requests.get(k)),
            metric: s.usage.map(|u| MetricSample {
                value: value(&u),
                at: u.at,
                window: status.window,
            }),
        });
    }
    (target, cpu)
}

impl Controller for Autoscalers {
    type Event = HpaEvent;

    fn on(&mut self, event: HpaEvent, ctx: &mut Ctx<'_>) {
        match event {
            HpaEvent::Sync { workload } => self.sync(workload, ctx),
        }
    }
}
