//! A Deployment's work queue and its KEDA ScaledObject: plain data, read from a
//! workload's `service.queue` and `scaledObject` keys (see `controllers::workqueue` and
//! `controllers::keda` for what they do).

use crate::controllers::hpa::behavior::Behavior;
use crate::controllers::hpa::calculator::CalcSettings;
use crate::time::SimTime;

/// A work queue in front of a Service: its load arrives as items, its ready pods drain it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkQueueSpec {
    /// Items it holds at most (`capacity:`); arrivals beyond it are dropped. `None`:
    /// unbounded (the default, as a broker's queue without a length limit).
    pub capacity: Option<u64>,
    /// How long an item may wait (`timeout:`, a message TTL); older items are dropped
    /// unserved. `None`: no limit (the default).
    pub timeout: Option<SimTime>,
    /// The queue's clock (`step:`, default 1 s): arrivals are counted, expired items
    /// dropped and items served once per step, so delays are whole steps.
    pub step: SimTime,
}

/// A KEDA ScaledObject (keda.sh/v1alpha1) with one queue-length trigger, targeting the
/// Deployment it sits in.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaledObjectSpec {
    /// `pollingInterval` (default 30 s): how often KEDA checks whether the trigger is
    /// active.
    pub polling_interval: SimTime,
    /// `cooldownPeriod` (default 300 s): how long after the trigger was last active the
    /// Deployment goes back to zero.
    pub cooldown_period: SimTime,
    /// `minReplicaCount` (default 0).
    pub min: i32,
    /// `maxReplicaCount` (default 100).
    pub max: i32,
    /// The trigger's `queueLength` (default 5): the target items per replica, the HPA's
    /// External metric AverageValue.
    pub queue_length: u64,
    /// The trigger's `activationQueueLength` (default 0): the trigger is active while the
    /// queue holds more items than this.
    pub activation_queue_length: u64,
    /// The HPA KEDA creates: `advanced.horizontalPodAutoscalerConfig.behavior`, defaults
    /// filled in.
    pub behavior: Behavior,
    /// The HPA controller's sync period (`syncPeriod:`, default 15 s).
    pub sync_period: SimTime,
    /// The HPA calculator's tolerance (default 0.1).
    pub settings: CalcSettings,
}

impl ScaledObjectSpec {
    /// The HPA's `minReplicas`: `minReplicaCount`, or 1 when that is 0 (KEDA's
    /// `getHPAMinReplicas`; the 0 <-> 1 steps are KEDA's own).
    pub fn hpa_min(&self) -> i32 {
        self.min.max(1)
    }
}
