//! TaintToleration: keeps pods off nodes whose NoSchedule and NoExecute taints they do not
//! tolerate, and steers them away from nodes with PreferNoSchedule taints they do not
//! tolerate.
//!
//! Follows kube-scheduler v1.35,
//! `pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go`:
//! - Filter rejects a node with an untolerated NoSchedule or NoExecute taint, code
//!   UnschedulableAndUnresolvable (evicting pods never removes a taint). Since v1.35 (and
//!   the v1.34 patch releases) the reason no longer names the taint, whose key and value
//!   may be sensitive: it is always `node(s) had untolerated taint(s)`.
//! - PreScore keeps the pod's tolerations that can tolerate a PreferNoSchedule taint
//!   (effect PreferNoSchedule, or empty, which means every effect).
//! - Score is the number of the node's PreferNoSchedule taints none of those tolerates.
//! - NormalizeScore is `DefaultNormalizeScore(MaxNodeScore, reverse = true)`: the node
//!   with the most untolerated PreferNoSchedule taints gets 0, a node with none gets 100.
//!
//! Not modelled: the alpha `Lt`/`Gt` toleration operators (feature gate
//! `TaintTolerationComparisonOperators`, off by default in v1.35).

use std::sync::Arc;

use crate::cluster::ClusterState;
use crate::framework::plugins::helper::default_normalize_score;
use crate::framework::profile::Points;
use crate::framework::{MAX_NODE_SCORE, Plugin, ShapeScore, Status};
use crate::node::NodeId;
use crate::pod::{Pod, PodTemplate};
use crate::reason::Reason;
use crate::taints::{TaintEffect, Toleration, first_untolerated};

/// The TaintToleration plugin.
#[derive(Debug, Default, Clone)]
pub struct TaintToleration {
    /// The template whose tolerations `prefer_no_schedule` holds. Templates are immutable
    /// behind their `Arc` and shared by all pods of a workload, so pointer equality means
    /// the same tolerations; holding the `Arc` keeps the address from being reused.
    pre_scored: Option<Arc<PodTemplate>>,
    /// PreScore's state: the tolerations of `pre_scored` that may tolerate a
    /// PreferNoSchedule taint.
    prefer_no_schedule: Vec<Toleration>,
}

impl TaintToleration {
    /// Its name.
    pub const NAME: &'static str = "TaintToleration";
    /// Where it runs.
    pub const POINTS: Points = Points {
        pre_filter: false,
        filter: true,
        pre_score: true,
        score: true,
    };
    /// Upstream's Filter reason (v1.35), the same for every untolerated taint.
    pub const REASON: &'static str = crate::filters::REASON_UNTOLERATED_TAINT;

    /// The tolerations Score should consider for this pod: PreScore's selection when it
    /// ran for this pod's template, otherwise all of them. Both give the same count,
    /// because a toleration whose effect is set to something other than
    /// PreferNoSchedule never tolerates a PreferNoSchedule taint; PreScore's selection
    /// only spares Score from looking at them on every node.
    fn score_tolerations<'a>(&'a self, pod: &'a Pod) -> &'a [Toleration] {
        match &self.pre_scored {
            Some(t) if Arc::ptr_eq(t, &pod.template) => &self.prefer_no_schedule,
            _ => &pod.template.tolerations,
        }
    }
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn filter(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        // A plain node has no taints at all: nothing to tolerate, and no need to read the
        // node record (the common case in a scan).
        if cluster.rows()[node.index()].plain {
            return Status::success();
        }
        // The first NoSchedule or NoExecute taint, in the node's order, that no toleration
        // tolerates (upstream's FindMatchingUntoleratedTaint with
        // DoNotScheduleTaintsFilterFunc); which one it is no longer shows in the reason.
        match first_untolerated(&cluster.node(node).spec.taints, &pod.template.tolerations) {
            None => Status::success(),
            Some(_) => Status::unresolvable(Reason::UntoleratedTaint),
        }
    }

    /// Reads only the node's taints and the pod's tolerations, which a pod without node
    /// constraints does not have.
    fn filter_by_shape(&self) -> bool {
        true
    }

    /// The raw score counts the node's untolerated PreferNoSchedule taints; when it is 0
    /// on every node, the reversed normalization gives each the maximum.
    fn score_by_shape(&self) -> ShapeScore {
        ShapeScore::SameWhereZero
    }

    fn pre_score(&mut self, pod: &Pod, _cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        let fresh = self
            .pre_scored
            .as_ref()
            .is_none_or(|t| !Arc::ptr_eq(t, &pod.template));
        if fresh {
            self.prefer_no_schedule.clear();
            self.prefer_no_schedule.extend(
                pod.template
                    .tolerations
                    .iter()
                    // No effect means every effect, PreferNoSchedule included.
                    .filter(|t| t.effect.is_none_or(|e| e == TaintEffect::PreferNoSchedule))
                    .cloned(),
            );
            self.pre_scored = Some(Arc::clone(&pod.template));
        }
        Status::success()
    }

    fn score(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> i64 {
        if cluster.rows()[node.index()].plain {
            return 0;
        }
        let tolerations = self.score_tolerations(pod);
        let untolerated = cluster
            .node(node)
            .spec
            .taints
            .iter()
            .filter(|taint| taint.effect == TaintEffect::PreferNoSchedule)
            .filter(|taint| !tolerations.iter().any(|t| t.tolerates(taint)))
            .count();
        untolerated as i64
    }

    fn normalize_score(&self, _pod: &Pod, scores: &mut [i64]) {
        // Fewer untolerated PreferNoSchedule taints is better, hence reversed.
        default_normalize_score(MAX_NODE_SCORE, true, scores);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node, normalized_scores};
    use crate::taints::{Taint, TolerationOperator};

    const NO_SCHEDULE: TaintEffect = TaintEffect::NoSchedule;
    const PREFER: TaintEffect = TaintEffect::PreferNoSchedule;

    fn taint(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect,
        }
    }

    /// `operator: Equal` (upstream's default when the operator is empty).
    fn equal(key: &str, value: &str, effect: Option<TaintEffect>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: TolerationOperator::Equal,
            value: value.into(),
            effect,
            toleration_seconds: None,
        }
    }

    fn exists(key: &str, effect: Option<TaintEffect>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect,
            toleration_seconds: None,
        }
    }

    fn pod_with(tolerations: Vec<Toleration>) -> PodTemplate {
        PodTemplate {
            name: "pod1".into(),
            tolerations,
            ..Default::default()
        }
    }

    /// Mirrors TestTaintTolerationScore (taint_toleration_test.go): PreScore, Score on
    /// every node, NormalizeScore, and the final scores per node.
    #[test]
    fn score_follows_upstream() {
        struct Row {
            name: &'static str,
            tolerations: Vec<Toleration>,
            nodes: Vec<(&'static str, Vec<Taint>)>,
            want: Vec<i64>,
        }
        let rows = vec![
            // mirrors TestTaintTolerationScore "node with taints tolerated by the pod, gets
            // a higher score than those node with intolerable taints"
            Row {
                name: "tolerated taint scores higher than intolerable taint",
                tolerations: vec![equal("foo", "bar", Some(PREFER))],
                nodes: vec![
                    ("nodeA", vec![taint("foo", "bar", PREFER)]),
                    ("nodeB", vec![taint("foo", "blah", PREFER)]),
                ],
                want: vec![MAX_NODE_SCORE, 0],
            },
            // mirrors TestTaintTolerationScore "the nodes that all of their taints are
            // tolerated by the pod, get the same score, no matter how many tolerable
            // taints a node has"
            Row {
                name: "the number of tolerated taints does not matter",
                tolerations: vec![
                    equal("cpu-type", "arm64", Some(PREFER)),
                    equal("disk-type", "ssd", Some(PREFER)),
                ],
                nodes: vec![
                    ("nodeA", vec![]),
                    ("nodeB", vec![taint("cpu-type", "arm64", PREFER)]),
                    (
                        "nodeC",
                        vec![
                            taint("cpu-type", "arm64", PREFER),
                            taint("disk-type", "ssd", PREFER),
                        ],
                    ),
                ],
                want: vec![MAX_NODE_SCORE, MAX_NODE_SCORE, MAX_NODE_SCORE],
            },
            // mirrors TestTaintTolerationScore "the more intolerable taints a node has,
            // the lower score it gets."
            Row {
                name: "more intolerable taints, lower score",
                tolerations: vec![equal("foo", "bar", Some(PREFER))],
                nodes: vec![
                    ("nodeA", vec![]),
                    ("nodeB", vec![taint("cpu-type", "arm64", PREFER)]),
                    (
                        "nodeC",
                        vec![
                            taint("cpu-type", "arm64", PREFER),
                            taint("disk-type", "ssd", PREFER),
                        ],
                    ),
                ],
                want: vec![MAX_NODE_SCORE, 50, 0],
            },
            // mirrors TestTaintTolerationScore "only taints and tolerations that have
            // effect PreferNoSchedule are checked by taints-tolerations priority function"
            Row {
                name: "only PreferNoSchedule taints and tolerations count",
                tolerations: vec![
                    equal("cpu-type", "arm64", Some(NO_SCHEDULE)),
                    equal("disk-type", "ssd", Some(NO_SCHEDULE)),
                ],
                nodes: vec![
                    ("nodeA", vec![]),
                    ("nodeB", vec![taint("cpu-type", "arm64", NO_SCHEDULE)]),
                    (
                        "nodeC",
                        vec![
                            taint("cpu-type", "arm64", PREFER),
                            taint("disk-type", "ssd", PREFER),
                        ],
                    ),
                ],
                want: vec![MAX_NODE_SCORE, MAX_NODE_SCORE, 0],
            },
            // mirrors TestTaintTolerationScore "Default behaviour No taints and
            // tolerations, lands on node with no taints"
            Row {
                name: "no tolerations: the untainted node wins",
                tolerations: vec![],
                nodes: vec![
                    ("nodeA", vec![]),
                    ("nodeB", vec![taint("cpu-type", "arm64", PREFER)]),
                ],
                want: vec![MAX_NODE_SCORE, 0],
            },
        ];
        for row in rows {
            let mut c = cluster(
                row.nodes
                    .into_iter()
                    .map(|(name, taints)| node(name, &[], taints))
                    .collect(),
            );
            let pod = add_pod(&mut c, pod_with(row.tolerations));
            let mut plugin = TaintToleration::default();
            let got = normalized_scores(&mut plugin, &c, pod, true);
            assert_eq!(got, Ok(row.want), "{}", row.name);
        }
    }

    /// Mirrors TestTaintTolerationFilter (taint_toleration_test.go), with v1.35's reason.
    #[test]
    fn filter_follows_upstream() {
        let rejected = Some(TaintToleration::REASON);
        /// Name, the pod's tolerations, the node's taints, the expected reason if rejected.
        type Row = (
            &'static str,
            Vec<Toleration>,
            Vec<Taint>,
            Option<&'static str>,
        );
        let rows: Vec<Row> = vec![
            // mirrors TestTaintTolerationFilter "A pod having no tolerations can't be
            // scheduled onto a node with nonempty taints"
            (
                "no tolerations, NoSchedule taint",
                vec![],
                vec![taint("dedicated", "user1", NO_SCHEDULE)],
                rejected,
            ),
            // mirrors TestTaintTolerationFilter "A pod which can be scheduled on a
            // dedicated node assigned to user1 with effect NoSchedule"
            (
                "matching toleration",
                vec![equal("dedicated", "user1", Some(NO_SCHEDULE))],
                vec![taint("dedicated", "user1", NO_SCHEDULE)],
                None,
            ),
            // mirrors TestTaintTolerationFilter "A pod which can't be scheduled on a
            // dedicated node assigned to user2 with effect NoSchedule"
            (
                "toleration for another value",
                vec![equal("dedicated", "user2", Some(NO_SCHEDULE))],
                vec![taint("dedicated", "user1", NO_SCHEDULE)],
                rejected,
            ),
            // mirrors TestTaintTolerationFilter "A pod can be scheduled onto the node,
            // with a toleration uses operator Exists that tolerates the taints on the node"
            (
                "Exists toleration",
                vec![exists("foo", Some(NO_SCHEDULE))],
                vec![taint("foo", "bar", NO_SCHEDULE)],
                None,
            ),
            // mirrors TestTaintTolerationFilter "A pod has multiple tolerations, node has
            // multiple taints, all the taints are tolerated, pod can be scheduled onto the
            // node"
            (
                "every taint tolerated",
                vec![
                    equal("dedicated", "user2", Some(NO_SCHEDULE)),
                    exists("foo", Some(NO_SCHEDULE)),
                ],
                vec![
                    taint("dedicated", "user2", NO_SCHEDULE),
                    taint("foo", "bar", NO_SCHEDULE),
                ],
                None,
            ),
            // mirrors TestTaintTolerationFilter "A pod has a toleration that keys and
            // values match the taint on the node, but (non-empty) effect doesn't match,
            // can't be scheduled onto the node"
            (
                "effect mismatch",
                vec![equal("foo", "bar", Some(PREFER))],
                vec![taint("foo", "bar", NO_SCHEDULE)],
                rejected,
            ),
            // mirrors TestTaintTolerationFilter "The pod has a toleration that keys and
            // values match the taint on the node, the effect of toleration is empty, and
            // the effect of taint is NoSchedule. Pod can be scheduled onto the node"
            (
                "empty effect tolerates every effect",
                vec![equal("foo", "bar", None)],
                vec![taint("foo", "bar", NO_SCHEDULE)],
                None,
            ),
            // mirrors TestTaintTolerationFilter "The pod has a toleration that key and
            // value don't match the taint on the node, but the effect of taint on node is
            // PreferNoSchedule. Pod can be scheduled onto the node"
            (
                "PreferNoSchedule never filters, mismatched toleration",
                vec![equal("dedicated", "user2", Some(NO_SCHEDULE))],
                vec![taint("dedicated", "user1", PREFER)],
                None,
            ),
            // mirrors TestTaintTolerationFilter "The pod has no toleration, but the effect
            // of taint on node is PreferNoSchedule. Pod can be scheduled onto the node"
            (
                "PreferNoSchedule never filters, no tolerations",
                vec![],
                vec![taint("dedicated", "user1", PREFER)],
                None,
            ),
        ];
        for (name, tolerations, taints, want) in rows {
            let mut c = cluster(vec![node("nodeA", &[], taints)]);
            let pod = add_pod(&mut c, pod_with(tolerations));
            let status = TaintToleration::default().filter(c.pod(pod).unwrap(), &c, NodeId(0));
            let want = match want {
                None => Status::success(),
                Some(reason) => Status::unresolvable(reason),
            };
            assert_eq!(status, want, "{name}");
        }
    }

    /// NoExecute taints filter like NoSchedule ones, and the code is the one preemption
    /// cannot help with.
    #[test]
    fn no_execute_taints_filter_too() {
        let mut c = cluster(vec![node(
            "n",
            &[],
            vec![taint(
                "node.kubernetes.io/not-ready",
                "",
                TaintEffect::NoExecute,
            )],
        )]);
        let pod = add_pod(&mut c, pod_with(vec![]));
        let status = TaintToleration::default().filter(c.pod(pod).unwrap(), &c, NodeId(0));
        assert_eq!(status.code, Code::UnschedulableAndUnresolvable);
        let tolerant = add_pod(&mut c, pod_with(vec![exists("", None)]));
        let status = TaintToleration::default().filter(c.pod(tolerant).unwrap(), &c, NodeId(0));
        assert!(status.is_success());
    }

    /// Score reads PreScore's selection only for the template it was made for: a plugin
    /// reused for another pod without PreScore (a profile that omits it) still counts
    /// with that pod's own tolerations.
    #[test]
    fn score_never_uses_another_pods_pre_score() {
        let mut c = cluster(vec![node("n", &[], vec![taint("soft", "", PREFER)])]);
        let tolerant = add_pod(&mut c, pod_with(vec![exists("soft", None)]));
        let plain = add_pod(&mut c, pod_with(vec![]));
        let mut plugin = TaintToleration::default();
        plugin.pre_score(c.pod(tolerant).unwrap(), &c, &[NodeId(0)]);
        assert_eq!(plugin.score(c.pod(tolerant).unwrap(), &c, NodeId(0)), 0);
        assert_eq!(plugin.score(c.pod(plain).unwrap(), &c, NodeId(0)), 1);
    }
}
