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
//!
//! A pod on a node that is not Ready is expected but not healthy: upstream's node
//! lifecycle controller marks such pods not ready (`MarkPodsNotReady`) when their node
//! turns NotReady, and the disruption controller counts only ready pods as healthy.
//! Where the caller knows pods' Ready condition (the simulation does for Deployments with
//! dynamics or rollouts), [`PodDisruptionBudget::disruptions_allowed_with`] and
//! [`eviction_allowed_with`] count only Ready pods as healthy, as upstream does: a pod
//! still starting, or within its readiness delay, is expected but not healthy, so a
//! drain or a scale-down waits while replacements start. A Deployment's rolling update
//! is not bound by budgets (upstream's is not: it keeps to its own `maxUnavailable`).
//!
//! [`eviction_allowed`] is the Eviction API's rule (`pkg/registry/core/pod/storage/eviction.go`)
//! that every voluntary disruption goes through: drains, and the cluster autoscaler's
//! scale-down.

use crate::cluster::ClusterState;
use crate::pod::{Pod, PodId, PodPhase};
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
        self.disruptions_allowed_with(cluster, &|_| None)
    }

    /// `status.disruptionsAllowed` in `cluster` when `ready` knows pods' Ready
    /// condition: a bound pod for which it says `Some(false)` (not started, or within its
    /// readiness delay) is expected but not healthy, as upstream counts only Ready pods as
    /// healthy; `None` falls back to the rule above (a bound pod on a Ready node is
    /// healthy).
    pub fn disruptions_allowed_with(
        &self,
        cluster: &ClusterState,
        ready: &dyn Fn(PodId) -> Option<bool>,
    ) -> i32 {
        let mut expected = 0i32;
        let mut healthy = 0i32;
        for (id, p) in cluster.pods() {
            if !self.covers(p) {
                continue;
            }
            match p.phase {
                // A pod waiting at Permit is not bound as far as the API server knows.
                PodPhase::Pending | PodPhase::Waiting => expected += 1,
                // A pod being deleted is neither expected nor healthy, as upstream's
                // disruption controller counts.
                PodPhase::Bound | PodPhase::Running if p.terminating => {}
                // On a node that is not Ready: marked not ready, so not healthy.
                PodPhase::Bound | PodPhase::Running
                    if p.node.is_some_and(|n| !cluster.node(n).ready)
                        || ready(id) == Some(false) =>
                {
                    expected += 1
                }
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

/// Why the Eviction API refuses to evict a pod now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvictionBlocked {
    /// The budget with this index in [`ClusterState::pdbs`] allows no disruption now
    /// (upstream's `429 Too Many Requests`: "Cannot evict pod as it would violate the
    /// pod's disruption budget"); the caller retries later, as `kubectl drain` does.
    Budget(usize),
    /// More than one budget covers the pod: upstream refuses such evictions outright
    /// ("This pod has more than one PodDisruptionBudget, which the eviction subresource
    /// does not support").
    MultipleBudgets,
}

/// The Eviction API's rule: may `pod` be evicted now under the cluster's
/// PodDisruptionBudgets? A pod that is not bound (pending) or already terminating, or
/// that no budget covers, may always be; a covered pod only while its budget's
/// `disruptionsAllowed` is above zero. Each eviction changes the cluster (the pod
/// terminates, its replacement is pending), so the next call sees the budget spent:
/// call it again before each eviction rather than once for several pods.
///
/// Used by node drains (`sim::controllers::failures`) and meant for any other voluntary
/// disruption (the cluster autoscaler's scale-down).
pub fn eviction_allowed(cluster: &ClusterState, pod: &Pod) -> Result<(), EvictionBlocked> {
    eviction_allowed_with(cluster, pod, &|_| None)
}

/// [`eviction_allowed`] with pods' Ready condition from `ready` (see
/// [`PodDisruptionBudget::disruptions_allowed_with`]): a budget's healthy pods are its
/// Ready ones, so a drain or a scale-down waits while replacements start.
pub fn eviction_allowed_with(
    cluster: &ClusterState,
    pod: &Pod,
    ready: &dyn Fn(PodId) -> Option<bool>,
) -> Result<(), EvictionBlocked> {
    if pod.node.is_none() || pod.terminating {
        return Ok(());
    }
    let mut covering = cluster
        .pdbs()
        .iter()
        .enumerate()
        .filter(|(_, b)| b.covers(pod));
    let Some((index, budget)) = covering.next() else {
        return Ok(());
    };
    if covering.next().is_some() {
        return Err(EvictionBlocked::MultipleBudgets);
    }
    if budget.disruptions_allowed_with(cluster, ready) > 0 {
        Ok(())
    } else {
        Err(EvictionBlocked::Budget(index))
    }
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
