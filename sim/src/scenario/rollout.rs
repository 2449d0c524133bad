//! A Deployment's scripted rollouts: at a given time its pod template changes and the
//! deployment controller replaces its pods by its strategy. Plain data, read from a
//! workload's `rollouts:` (or `rollout:`) entries.

use std::sync::Arc;

use schedulers::PodTemplate;
use schedulers::pdb::IntOrPercent;

use crate::time::SimTime;

/// One rollout: the Deployment's template changes at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    /// When the new template is applied (`at:`).
    pub at: SimTime,
    /// The new pod template (the old one with the entry's changes); its pods are the
    /// new ReplicaSet's.
    pub template: Arc<PodTemplate>,
    /// The new pods' readiness delay (`readinessDelay:`, default the Deployment's).
    pub readiness_delay: SimTime,
    /// The container image named by the entry (`image:`), for the record only.
    pub image: Option<String>,
    /// How old pods are replaced (`strategy:`, default RollingUpdate 25%/25%).
    pub strategy: Strategy,
    /// How long a new pod must be Ready before it counts as available
    /// (`minReadySeconds:`, default 0).
    pub min_ready: SimTime,
}

/// `spec.strategy` of a Deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// `type: RollingUpdate`, with `rollingUpdate.maxSurge` and `maxUnavailable`.
    RollingUpdate {
        /// Pods above the desired count the rollout may create (default 25%).
        max_surge: IntOrPercent,
        /// Pods below the desired count that may be unavailable (default 25%).
        max_unavailable: IntOrPercent,
    },
    /// `type: Recreate`: every old pod is deleted, and once they are all gone the new
    /// ones are created.
    Recreate,
}

impl Strategy {
    /// Upstream's default: RollingUpdate with 25% surge and 25% unavailable.
    pub const DEFAULT: Strategy = Strategy::RollingUpdate {
        max_surge: IntOrPercent::Percent(25),
        max_unavailable: IntOrPercent::Percent(25),
    };

    /// `(maxSurge, maxUnavailable)` as pod counts for `replicas`, as upstream's
    /// `ResolveFenceposts`: the surge rounds up, the unavailable count down, and when both
    /// come to zero one pod may be unavailable. `None` for Recreate.
    pub fn fenceposts(self, replicas: u32) -> Option<(u32, u32)> {
        let Strategy::RollingUpdate {
            max_surge,
            max_unavailable,
        } = self
        else {
            return None;
        };
        let r = i64::from(replicas);
        let count = |v: IntOrPercent, up: bool| -> u32 {
            match v {
                IntOrPercent::Int(n) => n.max(0) as u32,
                IntOrPercent::Percent(p) => {
                    let product = i64::from(p) * r;
                    let v = if up {
                        (product + 99).div_euclid(100)
                    } else {
                        product.div_euclid(100)
                    };
                    v.max(0) as u32
                }
            }
        };
        let surge = count(max_surge, true);
        let mut unavailable = count(max_unavailable, false);
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        Some((surge, unavailable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        // 25% of 10: surge ceil(2.5) = 3, unavailable floor(2.5) = 2.
        assert_eq!(Strategy::DEFAULT.fenceposts(10), Some((3, 2)));
        // 25% of 1: surge 1, unavailable 0.
        assert_eq!(Strategy::DEFAULT.fenceposts(1), Some((1, 0)));
        let s = Strategy::RollingUpdate {
            max_surge: IntOrPercent::Percent(0),
            max_unavailable: IntOrPercent::Percent(10),
        };
        // Both round to zero for 4 replicas: one may be unavailable.
        assert_eq!(s.fenceposts(4), Some((0, 1)));
        assert_eq!(Strategy::Recreate.fenceposts(4), None);
    }
}
