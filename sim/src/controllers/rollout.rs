//! The deployment controller's rollout arithmetic, after upstream's
//! `pkg/controller/deployment/rolling.go` and `recreate.go`: how many replicas each
//! ReplicaSet of a Deployment should have, given their current `spec.replicas` and
//! available pods. Pure functions; [`super::workloads`] applies them to the ReplicaSets
//! it keeps and creates or deletes the pods.
//!
//! One sync here does what upstream does over consecutive syncs (scale the new
//! ReplicaSet up, then the old ones down); upstream requeues the Deployment after each
//! step at once, so the result at an instant is the same. Simplification, stated: a
//! change of the Deployment's replicas during a rollout (an HPA's) is applied to the new
//! ReplicaSet by the rolling rules below, not spread proportionally over the ReplicaSets
//! as upstream's `scale` does.

/// One ReplicaSet's counts: `spec.replicas` and `status.availableReplicas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SetCounts {
    /// `spec.replicas`.
    pub replicas: u32,
    /// Pods Ready for at least `minReadySeconds` and not being deleted.
    pub available: u32,
}

/// One rolling-update sync over `sets` (oldest first, the new ReplicaSet last) for a
/// Deployment of `desired` replicas with resolved `surge` and `unavailable` counts:
/// `reconcileNewReplicaSet` (the new ReplicaSet grows while all replicas stay within
/// `desired + surge`), then `reconcileOldReplicaSets` (old ReplicaSets shrink, unhealthy
/// pods first, while `desired - unavailable` pods stay available). Changes `replicas` in
/// place.
pub(crate) fn rolling_step(sets: &mut [SetCounts], desired: u32, surge: u32, unavailable: u32) {
    let Some((new, old)) = sets.split_last_mut() else {
        return;
    };
    // reconcileNewReplicaSet / NewRSNewReplicas.
    if new.replicas > desired {
        new.replicas = desired;
    } else if new.replicas < desired {
        // In i64: a surge as large as the scenario allows cannot overflow.
        let total: i64 =
            old.iter().map(|s| i64::from(s.replicas)).sum::<i64>() + i64::from(new.replicas);
        let max_total = i64::from(desired) + i64::from(surge);
        if total < max_total {
            new.replicas += (max_total - total).min(i64::from(desired - new.replicas)) as u32;
        }
    }
    // reconcileOldReplicaSets.
    let old_count: i64 = old.iter().map(|s| i64::from(s.replicas)).sum();
    if old_count == 0 {
        return;
    }
    let all = old_count + i64::from(new.replicas);
    let min_available = i64::from(desired) - i64::from(unavailable);
    let new_unavailable = i64::from(new.replicas.saturating_sub(new.available));
    let max_scaled_down = all - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return;
    }
    // cleanupUnhealthyReplicas: old ReplicaSets' unavailable pods go first, oldest set
    // first, as they cost no availability.
    let mut cleaned = 0i64;
    for s in old.iter_mut() {
        if cleaned >= max_scaled_down {
            break;
        }
        let unhealthy = i64::from(s.replicas.saturating_sub(s.available));
        if s.replicas == 0 || unhealthy == 0 {
            continue;
        }
        let down = (max_scaled_down - cleaned).min(unhealthy);
        s.replicas -= down as u32;
        cleaned += down;
    }
    // scaleDownOldReplicaSetsForRollingUpdate: then available old pods, as long as
    // `min_available` pods stay available.
    let available: i64 =
        old.iter().map(|s| i64::from(s.available)).sum::<i64>() + i64::from(new.available);
    if available <= min_available {
        return;
    }
    let total = available - min_available;
    let mut done = 0i64;
    for s in old.iter_mut() {
        if done >= total {
            break;
        }
        if s.replicas == 0 {
            continue;
        }
        let down = i64::from(s.replicas).min(total - done);
        s.replicas -= down as u32;
        done += down;
    }
}

/// True when a rolling update is complete (upstream's `DeploymentComplete`): the new
/// ReplicaSet has `desired` replicas, all available, and no old ReplicaSet keeps any.
pub(crate) fn complete(sets: &[SetCounts], live_old: u32, desired: u32) -> bool {
    let Some((new, old)) = sets.split_last() else {
        return true;
    };
    new.replicas == desired
        && new.available >= desired
        && live_old == 0
        && old.iter().all(|s| s.replicas == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sets(v: &[(u32, u32)]) -> Vec<SetCounts> {
        v.iter()
            .map(|&(replicas, available)| SetCounts {
                replicas,
                available,
            })
            .collect()
    }

    fn replicas(s: &[SetCounts]) -> Vec<u32> {
        s.iter().map(|s| s.replicas).collect()
    }

    #[test]
    fn surge_one_unavailable_zero_steps() {
        // 4 old available, new empty: the new set grows to 1 (total 5 = 4 + 1); nothing
        // old goes, since one new pod is not yet available.
        let mut s = sets(&[(4, 4), (0, 0)]);
        rolling_step(&mut s, 4, 1, 0);
        assert_eq!(replicas(&s), [4, 1]);
        // The new pod is available: one old pod goes (5 available > 4), and the next
        // sync grows the new set again.
        let mut s = sets(&[(4, 4), (1, 1)]);
        rolling_step(&mut s, 4, 1, 0);
        assert_eq!(replicas(&s), [3, 1]);
        let mut s = sets(&[(3, 3), (1, 1)]);
        rolling_step(&mut s, 4, 1, 0);
        assert_eq!(replicas(&s), [3, 2]);
    }

    #[test]
    fn unavailable_one_surge_zero_deletes_first() {
        let mut s = sets(&[(4, 4), (0, 0)]);
        rolling_step(&mut s, 4, 0, 1);
        assert_eq!(replicas(&s), [3, 0]);
        let mut s = sets(&[(3, 3), (0, 0)]);
        rolling_step(&mut s, 4, 0, 1);
        assert_eq!(replicas(&s), [3, 1]);
    }

    #[test]
    fn unhealthy_old_pods_go_first() {
        // Old set of 4 with 2 unavailable, surge 1, unavailable 1: max scaled down =
        // 5 - 3 - 1 = 1, taken from the unhealthy pods; then available 2 < 3, no more.
        let mut s = sets(&[(4, 2), (1, 0)]);
        rolling_step(&mut s, 4, 1, 1);
        assert_eq!(replicas(&s), [3, 1]);
    }

    #[test]
    fn the_new_set_shrinks_to_desired() {
        let mut s = sets(&[(1, 1), (5, 5)]);
        rolling_step(&mut s, 3, 1, 0);
        assert_eq!(replicas(&s), [0, 3]);
        assert!(complete(&s, 0, 3));
        assert!(!complete(&s, 1, 3));
    }
}
