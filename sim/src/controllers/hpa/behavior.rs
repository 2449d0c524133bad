//! The HorizontalPodAutoscaler's `behavior`: stabilization windows and scaling policies
//! that turn the metrics' recommendation into the replica count actually set.
//!
//! Follows `normalizeDesiredReplicasWithBehaviors` of kube-controller-manager's
//! `pkg/controller/podautoscaler/horizontal.go` (v1.35) and the autoscaling/v2 defaults
//! (`pkg/apis/autoscaling/v2/defaults.go`): every recommendation is remembered; a scale-up
//! goes no higher than the lowest recommendation of the scale-up window, a scale-down no
//! lower than the highest of the scale-down window; then each policy bounds the change
//! relative to the replica count at the start of its period (the current count less the
//! changes made within the period), and `selectPolicy` takes the policy allowing the most
//! change (`Max`), the least (`Min`), or none (`Disabled`). `minReplicas` and
//! `maxReplicas` bound the result.

use crate::time::SimTime;

/// How a policy measures change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// `type: Pods`: a number of pods.
    Pods,
    /// `type: Percent`: a percentage of the count at the start of the period.
    Percent,
}

/// One scaling policy (`HPAScalingPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Pods or percent.
    pub kind: PolicyKind,
    /// How many pods, or what percentage.
    pub value: i32,
    /// The period the change is counted over (`periodSeconds`).
    pub period: SimTime,
}

/// Which policy applies when several are given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectPolicy {
    /// The one allowing the most change (the default).
    Max,
    /// The one allowing the least change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// `scaleUp` or `scaleDown` of a `behavior` (`HPAScalingRules`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingRules {
    /// `stabilizationWindowSeconds`.
    pub stabilization: SimTime,
    /// `selectPolicy`.
    pub select: SelectPolicy,
    /// `policies`.
    pub policies: Vec<Policy>,
}

/// A whole `behavior`, with the API's defaults for what is not given.
#[derive(Debug, Clone, PartialEq)]
pub struct Behavior {
    /// Rules for scaling up.
    pub up: ScalingRules,
    /// Rules for scaling down.
    pub down: ScalingRules,
}

impl Default for Behavior {
    /// autoscaling/v2's defaults: up at once by 4 pods or 100% per 15 s, whichever is
    /// more; down after a 300 s window by up to 100% per 15 s.
    fn default() -> Behavior {
        let period = SimTime::from_secs(15);
        Behavior {
            up: ScalingRules {
                stabilization: SimTime::ZERO,
                select: SelectPolicy::Max,
                policies: vec![
                    Policy {
                        kind: PolicyKind::Pods,
                        value: 4,
                        period,
                    },
                    Policy {
                        kind: PolicyKind::Percent,
                        value: 100,
                        period,
                    },
                ],
            },
            down: ScalingRules {
                stabilization: SimTime::from_secs(300),
                select: SelectPolicy::Max,
                policies: vec![Policy {
                    kind: PolicyKind::Percent,
                    value: 100,
                    period,
                }],
            },
        }
    }
}

/// What bounded a decision, for the trace (upstream's `ScalingLimited` reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Nothing: the recommendation was taken as it was.
    None,
    /// A stabilization window held it back.
    Stabilized,
    /// A scale-up policy (`ScaleUpLimit`).
    ScaleUpLimit,
    /// `maxReplicas` (`TooManyReplicas`).
    TooManyReplicas,
    /// A scale-down policy (`ScaleDownLimit`).
    ScaleDownLimit,
    /// `minReplicas` (`TooFewReplicas`).
    TooFewReplicas,
}

impl Limit {
    /// Upstream's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Limit::None => "",
            Limit::Stabilized => "Stabilized",
            Limit::ScaleUpLimit => "ScaleUpLimit",
            Limit::TooManyReplicas => "TooManyReplicas",
            Limit::ScaleDownLimit => "ScaleDownLimit",
            Limit::TooFewReplicas => "TooFewReplicas",
        }
    }
}

/// One autoscaler's memory: its recent recommendations and the scale changes it made.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// (recommendation, when).
    recommendations: Vec<(i32, SimTime)>,
    /// (pods added, when).
    ups: Vec<(i32, SimTime)>,
    /// (pods removed, when).
    downs: Vec<(i32, SimTime)>,
}

impl History {
    /// Remembers a change of the target's replicas from `from` to `to` made at `now`.
    pub fn record_scale(&mut self, from: i32, to: i32, now: SimTime, behavior: &Behavior) {
        // Changes older than every period can no longer bound anything.
        let longest = |r: &ScalingRules| r.policies.iter().map(|p| p.period).max();
        if let Some(p) = longest(&behavior.up) {
            self.ups.retain(|&(_, at)| at.saturating_add(p) > now);
        }
        if let Some(p) = longest(&behavior.down) {
            self.downs.retain(|&(_, at)| at.saturating_add(p) > now);
        }
        if to > from {
            self.ups.push((to - from, now));
        } else if to < from {
            self.downs.push((from - to, now));
        }
    }

    /// The count to set: `desired` (the metrics' recommendation) stabilized and bounded
    /// by the policies and by `min..=max`, and what bounded it.
    pub fn normalize(
        &mut self,
        now: SimTime,
        current: i32,
        desired: i32,
        (min, max): (i32, i32),
        behavior: &Behavior,
    ) -> (i32, Limit) {
        let stabilized = self.stabilize(now, current, desired, behavior);
        let (bounded, limit) = self.rate_limit(now, current, stabilized, (min, max), behavior);
        let limit = if limit == Limit::None && stabilized != desired {
            Limit::Stabilized
        } else {
            limit
        };
        (bounded, limit)
    }

    /// Upstream's `stabilizeRecommendationWithBehaviors`.
    fn stabilize(&mut self, now: SimTime, current: i32, desired: i32, b: &Behavior) -> i32 {
        let up_cutoff = now.saturating_sub(b.up.stabilization);
        let down_cutoff = now.saturating_sub(b.down.stabilization);
        let (mut up, mut down) = (desired, desired);
        let mut old = None;
        for (i, &(rec, at)) in self.recommendations.iter().enumerate() {
            if at > up_cutoff {
                up = up.min(rec);
            }
            if at > down_cutoff {
                down = down.max(rec);
            }
            if at < up_cutoff && at < down_cutoff {
                old = Some(i);
            }
        }
        let recommendation = current.max(up).min(down);
        match old {
            Some(i) => self.recommendations[i] = (desired, now),
            None => self.recommendations.push((desired, now)),
        }
        recommendation
    }

    /// Upstream's `convertDesiredReplicasWithBehaviorRate`.
    fn rate_limit(
        &self,
        now: SimTime,
        current: i32,
        desired: i32,
        (min, max): (i32, i32),
        b: &Behavior,
    ) -> (i32, Limit) {
        if desired > current {
            let limit = self.up_limit(now, current, &b.up).max(current);
            let (allowed, why) = if max > limit {
                (limit, Limit::ScaleUpLimit)
            } else {
                (max, Limit::TooManyReplicas)
            };
            if desired > allowed {
                return (allowed, why);
            }
        } else if desired < current {
            let limit = self.down_limit(now, current, &b.down).min(current);
            let (allowed, why) = if min < limit {
                (limit, Limit::ScaleDownLimit)
            } else {
                (min, Limit::TooFewReplicas)
            };
            if desired < allowed {
                return (allowed, why);
            }
        }
        (desired, Limit::None)
    }

    /// Upstream's `calculateScaleUpLimitWithScalingRules`.
    fn up_limit(&self, now: SimTime, current: i32, rules: &ScalingRules) -> i32 {
        let pick: fn(i32, i32) -> i32 = match rules.select {
            SelectPolicy::Disabled => return current,
            SelectPolicy::Min => i32::min,
            SelectPolicy::Max => i32::max,
        };
        let mut result = if rules.select == SelectPolicy::Min {
            i32::MAX
        } else {
            i32::MIN
        };
        for p in &rules.policies {
            let start =
                current - changed(&self.ups, p.period, now) + changed(&self.downs, p.period, now);
            let proposed = match p.kind {
                PolicyKind::Pods => start.saturating_add(p.value),
                PolicyKind::Percent => {
                    (f64::from(start) * (1.0 + f64::from(p.value) / 100.0)).ceil() as i32
                }
            };
            result = pick(result, proposed);
        }
        result
    }

    /// Upstream's `calculateScaleDownLimitWithBehaviors`.
    fn down_limit(&self, now: SimTime, current: i32, rules: &ScalingRules) -> i32 {
        let pick: fn(i32, i32) -> i32 = match rules.select {
            SelectPolicy::Disabled => return current,
            // The least change down is the highest count.
            SelectPolicy::Min => i32::max,
            SelectPolicy::Max => i32::min,
        };
        let mut result = if rules.select == SelectPolicy::Min {
            i32::MIN
        } else {
            i32::MAX
        };
        for p in &rules.policies {
            let start =
                current - changed(&self.ups, p.period, now) + changed(&self.downs, p.period, now);
            let proposed = match p.kind {
                PolicyKind::Pods => start.saturating_sub(p.value),
                PolicyKind::Percent => {
                    (f64::from(start) * (1.0 - f64::from(p.value) / 100.0)) as i32
                }
            };
            result = pick(result, proposed);
        }
        result
    }
}

/// Upstream's `getReplicasChangePerPeriod`: the changes made within `period` before `now`.
fn changed(events: &[(i32, SimTime)], period: SimTime, now: SimTime) -> i32 {
    let cutoff = now.saturating_sub(period);
    events
        .iter()
        .filter(|&&(_, at)| at > cutoff)
        .map(|&(n, _)| n)
        .sum()
}
