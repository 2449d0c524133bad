//! A Deployment's work queue (`service.queue`) and its KEDA ScaledObject (`scaledObject`):
//! the fields of keda.sh/v1alpha1's ScaledObject spec that a queue-length trigger uses,
//! with KEDA's defaults, and the trigger's `queueLength` and `activationQueueLength` as
//! the AWS SQS and Azure queue scalers name them.

use schedulers::yaml::Scalar;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::dynamics::RawBehavior;
use super::{Builder, Result};
use crate::controllers::hpa::behavior::Behavior;
use crate::controllers::hpa::calculator::CalcSettings;
use crate::scenario::keda::{ScaledObjectSpec, WorkQueueSpec};
use crate::time::SimTime;

/// `service.queue:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawQueue {
    capacity: Option<Spanned<Scalar>>,
    timeout: Option<Spanned<Scalar>>,
    step: Option<Spanned<Scalar>>,
}

/// `scaledObject:`: a ScaledObject's spec without `scaleTargetRef` (the Deployment it sits
/// in) and with its one trigger's metadata inline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawScaledObject {
    polling_interval: Option<Spanned<Scalar>>,
    cooldown_period: Option<Spanned<Scalar>>,
    min_replica_count: Option<Spanned<Scalar>>,
    max_replica_count: Option<Spanned<Scalar>>,
    queue_length: Option<Spanned<Scalar>>,
    activation_queue_length: Option<Spanned<Scalar>>,
    behavior: Option<RawBehavior>,
    sync_period: Option<Spanned<Scalar>>,
    tolerance: Option<Spanned<Scalar>>,
}

/// KEDA's `defaultPollingInterval`, in seconds.
const DEFAULT_POLLING_INTERVAL: u32 = 30;
/// KEDA's `defaultCooldownPeriod`, in seconds.
const DEFAULT_COOLDOWN_PERIOD: u32 = 300;
/// KEDA's default `maxReplicaCount`.
const DEFAULT_MAX_REPLICAS: i32 = 100;
/// The queue scalers' default `queueLength`.
const DEFAULT_QUEUE_LENGTH: u32 = 5;

impl Builder<'_> {
    /// `service.queue`.
    pub(super) fn work_queue(&self, q: &Spanned<RawQueue>, base: &str) -> Result<WorkQueueSpec> {
        let raw = &q.value;
        let capacity = match &raw.capacity {
            Some(v) => {
                let n = self.kube.count_u32(v, &format!("{base}.capacity"))?;
                if n == 0 {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.capacity"),
                        "a queue's capacity must be at least 1 (leave it out for no limit)",
                    ));
                }
                Some(u64::from(n))
            }
            None => None,
        };
        Ok(WorkQueueSpec {
            capacity,
            timeout: match &raw.timeout {
                Some(v) => Some(self.positive_duration(v, &format!("{base}.timeout"))?),
                None => None,
            },
            step: match &raw.step {
                Some(v) => self.positive_duration(v, &format!("{base}.step"))?,
                None => SimTime::from_secs(1),
            },
        })
    }

    /// `scaledObject`.
    pub(super) fn scaled_object(
        &self,
        s: &Spanned<RawScaledObject>,
        base: &str,
    ) -> Result<ScaledObjectSpec> {
        let raw = &s.value;
        let count = |v: &Option<Spanned<Scalar>>, key: &str, default: u32| -> Result<u32> {
            match v {
                Some(v) => self.kube.count_u32(v, &format!("{base}.{key}")),
                None => Ok(default),
            }
        };
        let seconds = |v: &Option<Spanned<Scalar>>, key: &str, default: u32| -> Result<SimTime> {
            let n = count(v, key, default)?;
            if n == 0 {
                let at = &v.as_ref().expect("defaults are positive").referenced;
                return Err(self.kube.err(
                    at,
                    &format!("{base}.{key}"),
                    "expected a whole number of seconds of at least 1, got 0",
                ));
            }
            Ok(SimTime::from_secs(u64::from(n)))
        };
        let polling_interval = seconds(
            &raw.polling_interval,
            "pollingInterval",
            DEFAULT_POLLING_INTERVAL,
        )?;
        let cooldown_period = match &raw.cooldown_period {
            Some(_) => {
                SimTime::from_secs(u64::from(count(&raw.cooldown_period, "cooldownPeriod", 0)?))
            }
            None => SimTime::from_secs(u64::from(DEFAULT_COOLDOWN_PERIOD)),
        };
        let replicas = |v: &Option<Spanned<Scalar>>, key: &str, default: i32| -> Result<i32> {
            match v {
                Some(v) => self.kube.count_i32(v, &format!("{base}.{key}")),
                None => Ok(default),
            }
        };
        let min = replicas(&raw.min_replica_count, "minReplicaCount", 0)?;
        let max = replicas(
            &raw.max_replica_count,
            "maxReplicaCount",
            DEFAULT_MAX_REPLICAS,
        )?;
        if max == 0 || max < min {
            let at = raw
                .max_replica_count
                .as_ref()
                .or(raw.min_replica_count.as_ref())
                .map_or(&s.referenced, |v| &v.referenced);
            return Err(self.kube.err(
                at,
                &format!("{base}.maxReplicaCount"),
                format!(
                    "maxReplicaCount must be at least 1 and at least minReplicaCount ({min}), got {max}"
                ),
            ));
        }
        let queue_length = count(&raw.queue_length, "queueLength", DEFAULT_QUEUE_LENGTH)?;
        if queue_length == 0 {
            return Err(self.kube.err(
                &raw.queue_length
                    .as_ref()
                    .expect("the default is 5")
                    .referenced,
                &format!("{base}.queueLength"),
                "queueLength is the target number of items per replica and must be at least 1",
            ));
        }
        let activation = count(&raw.activation_queue_length, "activationQueueLength", 0)?;
        let mut behavior = Behavior::default();
        if let Some(b) = &raw.behavior {
            if let Some(r) = &b.scale_up {
                self.rules(r, &mut behavior.up, &format!("{base}.behavior.scaleUp"))?;
            }
            if let Some(r) = &b.scale_down {
                self.rules(r, &mut behavior.down, &format!("{base}.behavior.scaleDown"))?;
            }
        }
        let mut settings = CalcSettings::default();
        if let Some(v) = &raw.tolerance {
            let t = self.kube.number(v, &format!("{base}.tolerance"), true)?;
            settings.tolerance_up = t;
            settings.tolerance_down = t;
        }
        Ok(ScaledObjectSpec {
            polling_interval,
            cooldown_period,
            min,
            max,
            queue_length: u64::from(queue_length),
            activation_queue_length: u64::from(activation),
            behavior,
            sync_period: match &raw.sync_period {
                Some(v) => self.positive_duration(v, &format!("{base}.syncPeriod"))?,
                None => SimTime::from_secs(15),
            },
            settings,
        })
    }
}
