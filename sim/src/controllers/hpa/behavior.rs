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

use schedulers::kubernetes_enum;

use crate::time::SimTime;

kubernetes_enum! {
    /// How a policy measures change.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum PolicyKind {
        /// `type: Pods`: a number of pods.
        Pods => "Pods",
        /// `type: Percent`: a percentage of the count at the start of the period.
        Percent => "Percent",
    }
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

kubernetes_enum! {
    /// Which policy applies when several are given.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SelectPolicy {
        /// The one allowing the most change (the default).
        Max => "Max",
        /// The one allowing the least change.
        Min => "Min",
        /// No scaling in this direction.
        Disabled => "Disabled",
    }
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
        // Saturating: counts near i32's ends (a fuzzed maxReplicas) must not overflow.
        if to > from {
            self.ups.push((to.saturating_sub(from), now));
        } else if to < from {
            self.downs.push((from.saturating_sub(to), now));
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
            let start = current
                .saturating_sub(changed(&self.ups, p.period, now))
                .saturating_add(changed(&self.downs, p.period, now));
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
            let start = current
                .saturating_sub(changed(&self.ups, p.period, now))
                .saturating_add(changed(&self.downs, p.period, now));
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
        .fold(0, i32::saturating_add)
}

/// Table tests mirroring upstream's `horizontal_test.go`: rows of `TestScalingWithRules`
/// (the policies alone), `TestCalculateScaleUpLimitWithScalingRules`,
/// `TestCalculateScaleDownLimitWithBehaviors` and
/// `TestNormalizeDesiredReplicasWithBehavior` (stabilization). Past events are given by
/// their age, as upstream's `generateEventsUniformDistribution` spreads them over 120 s.
#[cfg(test)]
mod tests {
    use super::*;

    const NOW: SimTime = SimTime::from_secs(10_000);

    fn rules(pods: i32, pods_period: u64, percent: i32, percent_period: u64) -> ScalingRules {
        let mut policies = Vec::new();
        if pods != 0 {
            policies.push(Policy {
                kind: PolicyKind::Pods,
                value: pods,
                period: SimTime::from_secs(pods_period),
            });
        }
        if percent != 0 {
            policies.push(Policy {
                kind: PolicyKind::Percent,
                value: percent,
                period: SimTime::from_secs(percent_period),
            });
        }
        ScalingRules {
            stabilization: SimTime::ZERO,
            select: SelectPolicy::Max,
            policies,
        }
    }

    /// `(change, age in seconds)` events.
    fn events(list: &[(i32, u64)]) -> Vec<(i32, SimTime)> {
        list.iter()
            .map(|&(n, age)| (n, NOW.saturating_sub(SimTime::from_secs(age))))
            .collect()
    }

    /// Upstream's [1, 5, 9] spread over 120 s.
    const EVENTS_159: &[(i32, u64)] = &[(1, 100), (5, 60), (9, 20)];

    #[allow(clippy::too_many_arguments)]
    fn case(
        current: i32,
        desired: i32,
        (min, max): (i32, i32),
        up: Option<ScalingRules>,
        down: Option<ScalingRules>,
        ups: &[(i32, u64)],
        downs: &[(i32, u64)],
    ) -> (i32, Limit) {
        let defaults = Behavior::default();
        let behavior = Behavior {
            up: up.unwrap_or(defaults.up),
            down: down.unwrap_or(defaults.down),
        };
        let history = History {
            recommendations: Vec::new(),
            ups: events(ups),
            downs: events(downs),
        };
        history.rate_limit(NOW, current, desired, (min, max), &behavior)
    }

    #[test]
    fn scaling_with_rules() {
        use Limit::{ScaleDownLimit, ScaleUpLimit, TooFewReplicas, TooManyReplicas};
        let within = Limit::None;
        // within range; < minReplicas; scaleUp default behavior
        assert_eq!(case(5, 7, (3, 8), None, None, &[], &[]), (7, within));
        assert_eq!(
            case(3, 1, (2, 8), None, None, &[], &[]),
            (2, TooFewReplicas)
        );
        assert_eq!(
            case(10, 50, (1, 1000), None, None, &[], &[]),
            (20, ScaleUpLimit)
        );
        // pods policy > percent; percent > pods; pod and percent policy limitations
        let up = |p: i32, pp: u64, c: i32, cp: u64| Some(rules(p, pp, c, cp));
        assert_eq!(
            case(10, 500, (1, 1000), up(100, 60, 100, 60), None, &[], &[]),
            (110, ScaleUpLimit)
        );
        assert_eq!(
            case(10, 500, (1, 1000), up(2, 60, 100, 60), None, &[], &[]),
            (20, ScaleUpLimit)
        );
        assert_eq!(
            case(10, 50, (1, 1000), up(30, 60, 0, 0), None, &[], &[]),
            (40, ScaleUpLimit)
        );
        assert_eq!(
            case(10, 50, (1, 1000), up(0, 0, 200, 60), None, &[], &[]),
            (30, ScaleUpLimit)
        );
        // user percent 1%: ceil(3.03)
        assert_eq!(
            case(3, 1000, (1, 2000), up(0, 0, 1, 60), None, &[], &[]),
            (4, ScaleUpLimit)
        );
        // desired > max; maxReplicas binds with events
        assert_eq!(
            case(100, 1000, (100, 150), None, None, &[], &[]),
            (150, TooManyReplicas)
        );
        assert_eq!(
            case(100, 500, (1, 200), up(300, 60, 0, 0), None, EVENTS_159, &[]),
            (200, TooManyReplicas)
        );
        // recent events block scale up; pod and percent policies with events
        assert_eq!(
            case(100, 500, (1, 1000), up(5, 120, 0, 0), None, EVENTS_159, &[]),
            (100, ScaleUpLimit)
        );
        assert_eq!(
            case(
                100,
                500,
                (1, 1000),
                up(150, 120, 0, 0),
                None,
                EVENTS_159,
                &[]
            ),
            (235, ScaleUpLimit)
        );
        assert_eq!(
            case(
                100,
                500,
                (1, 1000),
                up(0, 0, 200, 120),
                None,
                EVENTS_159,
                &[]
            ),
            (255, ScaleUpLimit)
        );
        // up with up and down events: period start 6 - 4 + 2 = 4, x4
        assert_eq!(
            case(
                6,
                24,
                (1, 1000),
                up(0, 0, 300, 300),
                None,
                &[(4, 60)],
                &[(2, 60)]
            ),
            (16, ScaleUpLimit)
        );
        let down = |p: i32, pp: u64, c: i32, cp: u64| Some(rules(p, pp, c, cp));
        // down: percent > pods; pods > percent
        assert_eq!(
            case(100, 2, (1, 1000), None, down(20, 60, 1, 60), &[], &[]),
            (80, ScaleDownLimit)
        );
        assert_eq!(
            case(100, 2, (1, 1000), None, down(2, 60, 1, 60), &[], &[]),
            (98, ScaleDownLimit)
        );
        // large pod / percent policies hit min; pod policy limitation; percent 50
        assert_eq!(
            case(10, 0, (1, 1000), None, down(100, 60, 0, 0), &[], &[]),
            (1, TooFewReplicas)
        );
        assert_eq!(
            case(10, 2, (5, 1000), None, down(0, 0, 100, 60), &[], &[]),
            (5, TooFewReplicas)
        );
        assert_eq!(
            case(10, 2, (1, 1000), None, down(5, 60, 0, 0), &[], &[]),
            (5, ScaleDownLimit)
        );
        assert_eq!(
            case(10, 5, (1, 1000), None, down(0, 0, 50, 60), &[], &[]),
            (5, within)
        );
        // default policy with events; pod policy and events
        assert_eq!(
            case(10, 5, (1, 1000), None, None, &[], EVENTS_159),
            (5, within)
        );
        assert_eq!(
            case(100, 2, (1, 1000), None, down(5, 120, 0, 0), &[], EVENTS_159),
            (100, ScaleDownLimit)
        );
        // percent and events: start 100 + 12 = 112, x0.5
        let three = &[(2, 100), (4, 60), (6, 20)];
        assert_eq!(
            case(100, 0, (1, 1000), None, down(0, 0, 50, 120), &[], three),
            (56, ScaleDownLimit)
        );
        // percent with up and down events: 10 - 2 + 4 = 12, x0.5
        assert_eq!(
            case(
                10,
                1,
                (1, 1000),
                None,
                down(0, 0, 50, 180),
                &[(2, 60)],
                &[(4, 60)]
            ),
            (6, ScaleDownLimit)
        );
        // events prevent further scale down; 1000% allows anything
        let tens = &[(10, 100), (10, 60), (10, 20)];
        assert_eq!(
            case(100, 0, (1, 1000), None, down(0, 0, 10, 120), &[], tens),
            (100, ScaleDownLimit)
        );
        assert_eq!(
            case(10, 5, (1, 1000), None, down(0, 0, 1000, 120), &[], tens),
            (5, within)
        );
    }

    #[test]
    fn limits_with_select_policy_min() {
        let mut r = rules(2, 60, 50, 60);
        r.select = SelectPolicy::Min;
        // TestCalculateScaleUpLimitWithScalingRules: min(1 + 2, ceil(1.5))
        assert_eq!(History::default().up_limit(NOW, 1, &r), 2);
        // TestCalculateScaleDownLimitWithBehaviors: max(5 - 2, int(2.5))
        assert_eq!(History::default().down_limit(NOW, 5, &r), 3);
    }

    #[test]
    fn stabilization_rows() {
        // (recommendations as (value, age), current, desired, up window, down window) ->
        // (expected, stored values)
        type Row = (
            &'static [(i32, u64)],
            i32,
            i32,
            u64,
            u64,
            i32,
            &'static [i32],
        );
        let rows: &[Row] = &[
            (&[], 100, 5, 0, 0, 5, &[5]),
            (&[(4, 120), (5, 60)], 100, 3, 0, 180, 5, &[4, 5, 3]),
            (&[(4, 120), (5, 60)], 1, 7, 300, 0, 4, &[4, 5, 7]),
            (&[(1, 120), (2, 60)], 100, 3, 300, 0, 3, &[1, 2, 3]),
            (&[(4, 120), (5, 60)], 1, 3, 0, 300, 3, &[4, 5, 3]),
        ];
        for &(recs, current, desired, up, down, expected, stored) in rows {
            let mut b = Behavior::default();
            b.up.stabilization = SimTime::from_secs(up);
            b.down.stabilization = SimTime::from_secs(down);
            let mut h = History {
                recommendations: events(recs),
                ..History::default()
            };
            assert_eq!(
                h.stabilize(NOW, current, desired, &b),
                expected,
                "{recs:?} {desired}"
            );
            let values: Vec<i32> = h.recommendations.iter().map(|r| r.0).collect();
            assert_eq!(values, stored);
        }
    }
}
