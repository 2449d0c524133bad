//! Helpers shared by the in-tree plugins, after kube-scheduler's
//! `pkg/scheduler/framework/plugins/helper` package (v1.35).
//!
//! - [`default_normalize_score`] is `helper.DefaultNormalizeScore` (`normalize_score.go`),
//!   the NormalizeScore of TaintToleration, NodeAffinity and others whose raw score is a
//!   count or a sum of weights rather than a value already in `0..=MAX_NODE_SCORE`.

/// Rescales raw scores from `0..=max(scores)` to `0..=max_priority`, in place, as
/// kube-scheduler's `DefaultNormalizeScore`; with `reverse`, each result is then subtracted
/// from `max_priority`, so the lowest raw score ranks highest.
///
/// Integer arithmetic exactly as upstream: `max_priority * score / max` (truncating).
/// When every score is 0 (or the list is empty) there is nothing to scale: the scores stay
/// 0, or all become `max_priority` with `reverse`. Raw scores are assumed non-negative, as
/// upstream assumes; a negative one never raises the maximum above 0.
pub fn default_normalize_score(max_priority: i64, reverse: bool, scores: &mut [i64]) {
    let max = scores.iter().copied().fold(0, i64::max);
    if max == 0 {
        if reverse {
            scores.fill(max_priority);
        }
        return;
    }
    for score in scores.iter_mut() {
        let scaled = max_priority * *score / max;
        *score = if reverse {
            max_priority - scaled
        } else {
            scaled
        };
    }
}

/// Test support shared by the plugin tests: small clusters built directly, and the
/// PreScore → Score → NormalizeScore sequence kube-scheduler's plugin tests run.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::Arc;

    use crate::cluster::ClusterState;
    use crate::framework::{Code, Plugin, Status};
    use crate::labels::Labels;
    use crate::node::{NodeId, NodeSpec};
    use crate::pod::{Pod, PodId, PodTemplate};
    use crate::resources::{ResourceKind, Resources};
    use crate::taints::Taint;

    /// A node with room for anything the tests ask (4 cores, 16 GiB, 110 pods), so that
    /// resource filters and scorers never decide a test about labels or taints.
    pub(crate) fn node(name: &str, labels: &[(&str, &str)], taints: Vec<Taint>) -> NodeSpec {
        let mut allocatable = Resources::cpu_mem(4000, 16 << 30);
        allocatable.set(ResourceKind::PODS, 110);
        NodeSpec {
            name: name.into(),
            allocatable,
            labels: Labels::new(labels.iter().copied()),
            taints,
            ..Default::default()
        }
    }

    /// A cluster of these nodes, in order (node `i` gets `NodeId(i)`).
    pub(crate) fn cluster(nodes: Vec<NodeSpec>) -> ClusterState {
        let mut cluster = ClusterState::default();
        for spec in nodes {
            cluster.add_node(spec);
        }
        cluster
    }

    /// Adds a pending pod stamped from `template` (no containers unless the template has
    /// some, so it requests only its pod slot).
    pub(crate) fn add_pod(cluster: &mut ClusterState, template: PodTemplate) -> PodId {
        cluster.add_pod(Pod::from_template(Arc::new(template), 0))
    }

    /// Every node of the cluster, in id order.
    pub(crate) fn all_nodes(cluster: &ClusterState) -> Vec<NodeId> {
        (0..cluster.nodes().len() as u32).map(NodeId).collect()
    }

    /// Runs a score plugin over every node as the framework and upstream's plugin tests
    /// do: PreScore with all nodes (unless `pre_score` is false), Score per node, then
    /// NormalizeScore over the list. Returns the normalized scores in node order, or the
    /// PreScore status when it is not Success (Skip, Error).
    pub(crate) fn normalized_scores(
        plugin: &mut dyn Plugin,
        cluster: &ClusterState,
        pod: PodId,
        pre_score: bool,
    ) -> Result<Vec<i64>, Status> {
        let pod = cluster.pod(pod).expect("the pod exists");
        let nodes = all_nodes(cluster);
        if pre_score {
            let status = plugin.pre_score(pod, cluster, &nodes);
            if status.code != Code::Success {
                return Err(status);
            }
        }
        let mut scores: Vec<i64> = nodes
            .iter()
            .map(|&n| plugin.score(pod, cluster, n))
            .collect();
        plugin.normalize_score(pod, &mut scores);
        Ok(scores)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::MAX_NODE_SCORE;

    /// Mirrors TestDefaultNormalizeScore (helper/normalize_score_test.go), case by case.
    #[test]
    fn default_normalize_score_follows_upstream() {
        let rows: [(bool, [i64; 4], [i64; 4]); 7] = [
            // mirrors case_0
            (false, [1, 2, 3, 4], [25, 50, 75, 100]),
            // mirrors case_1
            (true, [1, 2, 3, 4], [75, 50, 25, 0]),
            // mirrors case_2
            (false, [1000, 10, 20, 30], [100, 1, 2, 3]),
            // mirrors case_3
            (true, [1000, 10, 20, 30], [0, 99, 98, 97]),
            // mirrors case_4
            (false, [1, 1, 1, 1], [100, 100, 100, 100]),
            // mirrors case_5
            (false, [1000, 1, 1, 1], [100, 0, 0, 0]),
            // mirrors case_6
            (true, [0, 1, 1, 1], [100, 0, 0, 0]),
        ];
        for (i, (reverse, mut scores, want)) in rows.into_iter().enumerate() {
            default_normalize_score(MAX_NODE_SCORE, reverse, &mut scores);
            assert_eq!(scores, want, "case_{i}");
        }
    }

    /// All-zero raw scores have no maximum to scale by: they stay 0, or all become the
    /// maximum when reversed (every node equally free of the thing being counted).
    #[test]
    fn all_zero_scores() {
        let mut scores = [0, 0, 0];
        default_normalize_score(MAX_NODE_SCORE, false, &mut scores);
        assert_eq!(scores, [0, 0, 0]);
        default_normalize_score(MAX_NODE_SCORE, true, &mut scores);
        assert_eq!(scores, [100, 100, 100]);
        let mut empty: [i64; 0] = [];
        default_normalize_score(MAX_NODE_SCORE, true, &mut empty);
    }
}
