//! KEDA ScaledObjects: a Deployment scaled on the length of its work queue, to zero and
//! back.
//!
//! Follows kedacore/keda's scale loop and executor (`pkg/scaling/scale_handler.go`,
//! `pkg/scaling/executor/scale_scaledobjects.go`): every `pollingInterval`, from the
//! Deployment's creation, the trigger is active when the queue holds more than
//! `activationQueueLength` items, and then
//!
//! - at zero replicas and active: scale to `max(minReplicaCount, 1)`, and the trigger was
//!   last active now;
//! - not active, above zero and `minReplicaCount` 0: scale to zero once the last activity
//!   plus `cooldownPeriod` is strictly before now (at once if it was never active);
//! - not active and below `minReplicaCount`: scale to it;
//! - active otherwise: the trigger was last active now.
//!
//! Between 1 and `maxReplicaCount` the HPA KEDA creates decides: `minReplicas`
//! `max(minReplicaCount, 1)`, one External metric with an AverageValue target of
//! `queueLength`, synced every `syncPeriod` (15 s) with upstream's
//! `GetExternalPerPodMetricReplicas` (desired = ceil(length / queueLength) outside the
//! tolerance) and the HPA's behavior (stabilization, policies; the shared
//! [`crate::controllers::hpa::behavior`]). At zero replicas the HPA does nothing, as
//! upstream's does when `minReplicas` is above zero. Its changes are published as
//! [`Fact::Scaled`] (they count as HPA scale events), the executor's as
//! [`Fact::KedaScaled`].
//!
//! Simplifications: the scaler reads the queue's length as of its last step (no scaler
//! errors, no fallback, no `idleReplicaCount`); the HPA reads it live at each sync
//! (KEDA's metrics server asks the scaler on each request).

use crate::controllers::Controller;
use crate::controllers::hpa::behavior::{History, Limit};
use crate::controllers::hpa::calculator::external_per_pod;
use crate::engine::{Ctx, Event};
use crate::observe::Fact;
use crate::scenario::keda::ScaledObjectSpec;
use crate::scenario::{Scenario, WorkloadKind};
use crate::time::SimTime;

/// The ScaledObjects' events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KedaEvent {
    /// KEDA's scale loop polls this workload's trigger.
    Poll {
        /// The workload's index in the scenario.
        workload: u32,
    },
    /// The HPA KEDA created for this workload syncs.
    Sync {
        /// The workload's index in the scenario.
        workload: u32,
    },
}

/// One ScaledObject's state and its HPA's.
#[derive(Debug)]
struct Scaled {
    /// The Deployment's `spec.replicas`, which only KEDA and its HPA change.
    replicas: i32,
    /// The queue's length as of its last step.
    queue: u64,
    /// `status.lastActiveTime`.
    last_active: Option<SimTime>,
    history: History,
}

/// Every ScaledObject of a run.
#[derive(Debug, Default)]
pub struct ScaledObjects {
    /// By workload index.
    objects: Vec<Option<Scaled>>,
}

fn spec(scenario: &Scenario, w: u32) -> Option<&ScaledObjectSpec> {
    scenario
        .workloads
        .get(w as usize)?
        .dynamics
        .as_ref()?
        .keda
        .as_ref()
}

impl ScaledObjects {
    /// The ScaledObjects of `scenario`, with their first poll (at the Deployment's
    /// creation, as KEDA checks once before its ticker) and their HPAs' first sync.
    pub(crate) fn start(scenario: &Scenario, ctx: &mut Ctx<'_>) -> ScaledObjects {
        let mut objects = Vec::with_capacity(scenario.workloads.len());
        for (i, w) in scenario.workloads.iter().enumerate() {
            let spec = w.dynamics.as_ref().and_then(|d| d.keda.as_ref());
            let (Some(spec), WorkloadKind::Deployment { at, replicas }) = (spec, &w.kind) else {
                objects.push(None);
                continue;
            };
            let workload = i as u32;
            ctx.at(*at, Event::Keda(KedaEvent::Poll { workload }));
            ctx.at(
                at.saturating_add(spec.sync_period),
                Event::Keda(KedaEvent::Sync { workload }),
            );
            objects.push(Some(Scaled {
                replicas: *replicas as i32,
                queue: 0,
                last_active: None,
                history: History::default(),
            }));
        }
        ScaledObjects { objects }
    }

    /// KEDA's `RequestScale`.
    fn poll(&mut self, w: u32, ctx: &mut Ctx<'_>) {
        let Some(spec) = spec(ctx.scenario, w) else {
            return;
        };
        let now = ctx.now;
        ctx.at(
            now.saturating_add(spec.polling_interval),
            Event::Keda(KedaEvent::Poll { workload: w }),
        );
        let Some(o) = self.objects.get_mut(w as usize).and_then(Option::as_mut) else {
            return;
        };
        let active = o.queue > spec.activation_queue_length;
        let current = o.replicas;
        let to = if current == 0 && active {
            o.last_active = Some(now);
            spec.min.max(1)
        } else if !active && current > 0 && spec.min == 0 {
            let cooled = o
                .last_active
                .is_none_or(|at| at.saturating_add(spec.cooldown_period) < now);
            if cooled { 0 } else { current }
        } else if !active && current < spec.min {
            spec.min
        } else {
            if active {
                o.last_active = Some(now);
            }
            current
        };
        if to == current {
            return;
        }
        o.replicas = to;
        ctx.publish(Fact::KedaScaled {
            workload: w,
            from: current as u32,
            to: to as u32,
            queue: o.queue,
            last_active: o.last_active,
        });
    }

    /// The HPA's `reconcileAutoscaler` on the External metric.
    fn sync(&mut self, w: u32, ctx: &mut Ctx<'_>) {
        let Some(spec) = spec(ctx.scenario, w) else {
            return;
        };
        let now = ctx.now;
        ctx.at(
            now.saturating_add(spec.sync_period),
            Event::Keda(KedaEvent::Sync { workload: w }),
        );
        let Some(o) = self.objects.get_mut(w as usize).and_then(Option::as_mut) else {
            return;
        };
        let current = o.replicas;
        if current == 0 {
            return;
        }
        let (min, max) = (spec.hpa_min(), spec.max);
        let usage = i64::try_from(o.queue.saturating_mul(1000)).unwrap_or(i64::MAX);
        let per_replica = i64::try_from(spec.queue_length.saturating_mul(1000)).unwrap_or(i64::MAX);
        let (desired, recommended, utilization, limit, target) = if current > max {
            (max, max, 0, Limit::TooManyReplicas, 0)
        } else if current < min {
            (min, min, 0, Limit::TooFewReplicas, 0)
        } else {
            let target = per_replica;
            let r = external_per_pod(current, usage, target, &spec.settings);
            let (desired, limit) =
                o.history
                    .normalize(now, current, r.replicas, (min, max), &spec.behavior);
            (desired, r.replicas, r.utilization, limit, target)
        };
        if desired == current {
            return;
        }
        o.history
            .record_scale(current, desired, now, &spec.behavior);
        o.replicas = desired;
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

impl Controller for ScaledObjects {
    type Event = KedaEvent;

    fn on(&mut self, event: KedaEvent, ctx: &mut Ctx<'_>) {
        match event {
            KedaEvent::Poll { workload } => self.poll(workload, ctx),
            KedaEvent::Sync { workload } => self.sync(workload, ctx),
        }
    }

    fn react(&mut self, fact: &Fact, _ctx: &mut Ctx<'_>) {
        if let Fact::QueueLength { workload, length } = fact
            && let Some(Some(o)) = self.objects.get_mut(*workload as usize)
        {
            o.queue = *length;
        }
    }
}
