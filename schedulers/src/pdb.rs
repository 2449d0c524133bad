//! PodDisruptionBudgets, as DefaultPreemption reads them.
//!
//! A budget's `status.disruptionsAllowed` is what the disruption controller would compute:
//! `max(0, currentHealthy - desiredHealthy)`, where `currentHealthy` counts the matching
//! pods bound to a node (bound or running), `expected` counts the matching pods that have
//! not finished, and `desiredHealthy` is `minAvailable`, or `expected - maxUnavailable`;
//! percentages scale `expected` and round up, as `GetScaledValueFromIntOrPercent(..., true)`.
//! Simplification, stated: `expected` is the number of matching pods rather than the scale
//! of their controllers.
//!
//! Following preemption's `filterPodsWithPDBViolation`, a budget with an empty selector
//! matches no pod, and a pod without labels matches no budget.

use crate::cluster::ClusterState;
use crate::pod::{Pod, PodPhase};
use crate::pod_affinity::LabelSelector;

/// An integer or a percentage (Kubernetes' `IntOrString` as budgets use it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    /// An absolute number of pods.
    Int(i32),
    /// A percentage of the expected pods, `0..=100`.
    Percent(i32),
}

impl IntOrPercent {
    /// The value against `total`, percentages rounded up.
    pub fn scaled(self, total: i32) -> i32 {
        match self {
            IntOrPercent::Int(n) => n,
            IntOrPercent::Percent(p) => {
                let product = i64::from(p) * i64::from(total);
                // Ceiling division for the non-negative values budgets hold.
                ((product + 99).div_euclid(100)) as i32
            }
        }
    }
}

/// How many pods a budget lets be unavailable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// `spec.minAvailable`.
    MinAvailable(IntOrPercent),
    /// `spec.maxUnavailable`.
    MaxUnavailable(IntOrPercent),
}

/// A PodDisruptionBudget (`policy/v1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodDisruptionBudget {
    /// The budget's name.
    pub name: String,
    /// Its namespace: it covers only pods of this namespace.
    pub namespace: String,
    /// The pods it covers.
    pub selector: LabelSelector,
    /// `minAvailable` or `maxUnavailable`.
    pub budget: Budget,
}

impl PodDisruptionBudget {
    /// True when the budget covers `pod`.
    pub fn covers(&self, pod: &Pod) -> bool {
        let t = &pod.template;
        t.namespace == self.namespace
            && !t.labels.is_empty()
            && !(self.selector.match_labels.is_empty()
                && self.selector.match_expressions.is_empty())
            && self.selector.matches(&t.labels)
    }

    /// `status.disruptionsAllowed` in `cluster`.
    pub fn disruptions_allowed(&self, cluster: &ClusterState) -> i32 {
        let mut expected = 0i32;
        let mut healthy = 0i32;
        for (_, p) in cluster.pods() {
            if !self.covers(p) {
                continue;
            }
            match p.phase {
                PodPhase::Pending => expected += 1,
                // A pod being deleted is neither expected nor healthy, as upstream's
                // disruption controller counts.
                PodPhase::Bound | PodPhase::Running if p.terminating => {}
                PodPhase::Bound | PodPhase::Running => {
                    expected += 1;
                    healthy += 1;
                }
                PodPhase::Succeeded | PodPhase::Failed => {}
            }
        }
        let desired = match self.budget {
            Budget::MinAvailable(v) => v.scaled(expected),
            Budget::MaxUnavailable(v) => expected - v.scaled(expected),
        };
        (healthy - desired).max(0)
    }
}

/// The disruptions each of the cluster's budgets allows, in budget order.
pub fn disruptions_allowed(cluster: &ClusterState) -> Vec<i32> {
    cluster
        .pdbs()
        .iter()
        .map(|b| b.disruptions_allowed(cluster))
        .collect()
}

/// Upstream's `filterPodsWithPDBViolation`: walks `pods` in order, each consuming one
/// disruption of every budget covering it; a pod that drives any budget below zero
/// violates. Returns `(violating, non_violating)`, each in input order.
pub fn split_by_violation<T: Copy>(
    pdbs: &[PodDisruptionBudget],
    allowed: &[i32],
    pods: &[(T, &Pod)],
) -> (Vec<T>, Vec<T>) {
    let mut left = allowed.to_vec();
    let mut violating = Vec::new();
    let mut fine = Vec::new();
    for &(id, pod) in pods {
        let mut violated = false;
        for (i, b) in pdbs.iter().enumerate() {
            if b.covers(pod) {
                left[i] -= 1;
                if left[i] < 0 {
                    violated = true;
                }
            }
        }
        if violated {
            violating.push(id);
        } else {
            fine.push(id);
        }
    }
    (violating, fine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up() {
        assert_eq!(IntOrPercent::Percent(50).scaled(3), 2);
        assert_eq!(IntOrPercent::Percent(50).scaled(4), 2);
        assert_eq!(IntOrPercent::Percent(10).scaled(1), 1);
        assert_eq!(IntOrPercent::Percent(0).scaled(7), 0);
        assert_eq!(IntOrPercent::Percent(100).scaled(7), 7);
        assert_eq!(IntOrPercent::Int(2).scaled(7), 2);
    }
}
