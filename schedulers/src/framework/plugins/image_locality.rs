//! ImageLocality: prefers nodes that already hold the pod's container images, weighted by
//! the images' sizes and by how widely they have spread, so that a pod does not pull a
//! large image where a node nearby has it, without piling every replica onto the first
//! node that pulled it (the "node heating" problem).
//!
//! Follows kube-scheduler v1.35 `pkg/scheduler/framework/plugins/imagelocality/
//! image_locality.go`:
//!
//! - each container (init and app) whose normalized image the node holds adds
//!   `size * nodes_holding / all_nodes`, truncated to an integer;
//! - the sum is clamped to `[23 MiB, 1000 MiB * containers]` and scaled linearly onto
//!   `0..=100`, in integers; there is no NormalizeScore;
//! - `all_nodes` counts every node in the cluster, whether it may take the pod or not.
//!
//! Upstream has no PreScore; this one resolves the pod's images once per attempt and skips
//! Score when no node holds any image or the pod names none, where upstream would score
//! every node 0: the ranking is the same.

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{MAX_NODE_SCORE, Plugin, Status};
use crate::node::NodeId;
use crate::pod::Pod;

/// One mebibyte, the unit of upstream's thresholds.
const MIB: i64 = 1024 * 1024;
/// Below this, image sizes do not count (upstream's `minThreshold`).
const MIN_THRESHOLD: i64 = 23 * MIB;
/// Per container, above this image sizes no longer add (`maxContainerThreshold`).
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MIB;

/// The ImageLocality plugin.
#[derive(Debug, Default, Clone)]
pub struct ImageLocality {
    /// The pod's images some node holds, by image id, with their spread-scaled sizes;
    /// kept across attempts so scoring allocates nothing once warm.
    scaled: Vec<(u32, i64)>,
    /// The pod's container count, which scales the upper threshold.
    containers: i64,
}

impl ImageLocality {
    /// Its name.
    pub const NAME: &'static str = "ImageLocality";
    /// Where it runs.
    pub const POINTS: Points = Points::SCORE;
}

/// An image's size scaled by the share of nodes that hold it (`scaledImageScore`).
fn scaled_image_score(size: i64, holders: u32, all_nodes: usize) -> i64 {
    let spread = f64::from(holders) / all_nodes as f64;
    (size as f64 * spread) as i64
}

/// The score of a node from its summed image scores (`calculatePriority`).
fn calculate_priority(sum: i64, containers: i64) -> i64 {
    let max_threshold = MAX_CONTAINER_THRESHOLD.saturating_mul(containers.max(1));
    let clamped = sum.clamp(MIN_THRESHOLD, max_threshold);
    MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max_threshold - MIN_THRESHOLD)
}

impl Plugin for ImageLocality {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_score(&mut self, pod: &Pod, cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        self.scaled.clear();
        let books = cluster.images();
        if books.is_empty() || pod.template.images.is_empty() {
            return Status::skip();
        }
        let all_nodes = cluster.present_node_count().max(1);
        for name in &pod.template.images {
            if let Some(id) = books.id(name) {
                let (size, holders) = books.state(id);
                self.scaled
                    .push((id, scaled_image_score(size, holders, all_nodes)));
            }
        }
        let t = &pod.template;
        self.containers = (t.containers.len() + t.init_containers.len())
            .max(t.images.len())
            .max(1) as i64;
        if self.scaled.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn score(&self, _pod: &Pod, cluster: &ClusterState, node: NodeId) -> i64 {
        let books = cluster.images();
        let sum = self
            .scaled
            .iter()
            .filter(|&&(id, _)| books.on_node(node, id))
            .map(|&(_, s)| s)
            .sum();
        calculate_priority(sum, self.containers)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::framework::Code;
    use crate::images::{NodeImage, normalized_image_name};
    use crate::node::NodeSpec;
    use crate::pod::{ContainerResources, PodTemplate};

    /// A node image of `mib` MiB under `names`.
    fn image(names: &[&str], mib: i64) -> NodeImage {
        NodeImage {
            names: names.iter().map(|n| n.to_string()).collect(),
            size_bytes: mib * MIB,
        }
    }

    /// Upstream's node statuses in TestImageLocalityPriority.
    fn node_status(which: &str) -> Vec<NodeImage> {
        match which {
            "node403002000" => vec![
                image(&["gcr.io/40:latest", "gcr.io/40:v1", "gcr.io/40:v1"], 40),
                image(&["gcr.io/300:latest", "gcr.io/300:v1"], 300),
                image(&["gcr.io/2000:latest"], 2000),
            ],
            "node25010" => vec![
                image(&["gcr.io/250:latest"], 250),
                image(&["gcr.io/10:latest", "gcr.io/10:v1"], 10),
            ],
            "node60040900" => vec![
                image(&["gcr.io/600:latest"], 600),
                image(&["gcr.io/40:latest"], 40),
                image(&["gcr.io/900:latest"], 900),
            ],
            "node300600900" => vec![
                image(&["gcr.io/300:latest"], 300),
                image(&["gcr.io/600:latest"], 600),
                image(&["gcr.io/900:latest"], 900),
            ],
            "node400030" => vec![
                image(&["gcr.io/4000:latest"], 4000),
                image(&["gcr.io/30:latest"], 30),
            ],
            "node203040" => vec![
                image(&["gcr.io/20:latest"], 20),
                image(&["gcr.io/30:latest"], 30),
                image(&["gcr.io/40:latest"], 40),
            ],
            "nodeWithNoImages" => vec![],
            other => panic!("no node status {other}"),
        }
    }

    /// The scores of a pod whose containers use `images` on nodes of those statuses.
    fn scores(images: &[&str], nodes: &[&str]) -> Vec<i64> {
        let mut cluster = ClusterState::default();
        for (i, status) in nodes.iter().enumerate() {
            cluster.add_node(NodeSpec {
                name: format!("node{}", i + 1),
                images: node_status(status),
                ..Default::default()
            });
        }
        let template = PodTemplate {
            name: "p".into(),
            containers: images
                .iter()
                .map(|_| ContainerResources::default())
                .collect(),
            images: images.iter().map(|i| normalized_image_name(i)).collect(),
            ..Default::default()
        };
        let pod = Pod::from_template(Arc::new(template), 0);
        let all: Vec<NodeId> = (0..nodes.len() as u32).map(NodeId).collect();
        let mut plugin = ImageLocality::default();
        if plugin.pre_score(&pod, &cluster, &all).code == Code::Skip {
            return vec![0; nodes.len()];
        }
        all.iter()
            .map(|&n| plugin.score(&pod, &cluster, n))
            .collect()
    }

    /// One upstream case: its name, the pod's images, the nodes' statuses, the scores.
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
        &'static [i64],
    );

    /// Upstream's TestImageLocalityPriority cases (v1.35, where the pull policy does not
    /// matter), by name, with upstream's arithmetic in the comments.
    #[test]
    fn upstream_image_locality_priority_cases() {
        let cases: &[Case] = &[
            // node1: 40M/2 < 23M -> 0; node2: 100 * (250M/2 - 23M) / (2000M - 23M) = 5.
            (
                "two images spread on two nodes, prefer the larger image one",
                &["gcr.io/40", "gcr.io/250"],
                &["node403002000", "node25010"],
                &[0, 5],
            ),
            // node1: 100 * ((40M + 300M)/2 - 23M) / (2000M - 23M) = 7.
            (
                "two images on one node, prefer this node",
                &["gcr.io/40", "gcr.io/300"],
                &["node403002000", "node25010"],
                &[7, 0],
            ),
            // node1: 4000M/2 >= 2000M -> 100; node2: 10M/2 < 23M -> 0.
            (
                "if exceed limit, use limit",
                &["gcr.io/10", "gcr.io/4000"],
                &["node400030", "node25010"],
                &[MAX_NODE_SCORE, 0],
            ),
            // node1: 100 * (4000M/3 - 23M) / (2000M - 23M) = 66.
            (
                "if exceed limit, use limit (with node which has no images present)",
                &["gcr.io/10", "gcr.io/4000"],
                &["node400030", "node25010", "nodeWithNoImages"],
                &[66, 0, 0],
            ),
            // node1: 100 * (600M*2/3 + 900M*2/3 - 23M) / (3000M - 23M) = 32;
            // node2: 100 * (300M/3 + 600M*2/3 + 900M*2/3 - 23M) / (3000M - 23M) = 36.
            (
                "pod with multiple large images, node2 is preferred",
                &["gcr.io/300", "gcr.io/600", "gcr.io/900"],
                &["node60040900", "node300600900", "nodeWithNoImages"],
                &[32, 36, 0],
            ),
            // node1: 100 * (30M + 40M/2 - 23M) / (2000M - 23M) = 1; node2: 0.
            (
                "pod with multiple small images",
                &["gcr.io/30", "gcr.io/40"],
                &["node203040", "node400030"],
                &[1, 0],
            ),
        ];
        for &(upstream, images, nodes, want) in cases {
            assert_eq!(scores(images, nodes), want, "{upstream}");
        }
    }

    #[test]
    fn a_pod_without_images_or_a_cluster_without_them_is_skipped() {
        assert_eq!(scores(&[], &["node25010"]), [0]);
        assert_eq!(scores(&["gcr.io/250"], &["nodeWithNoImages"]), [0]);
    }

    #[test]
    fn an_image_pulled_later_counts_and_spreads() {
        let mut cluster = ClusterState::default();
        for name in ["a", "b"] {
            cluster.add_node(NodeSpec {
                name: name.into(),
                ..Default::default()
            });
        }
        let pulled = image(&["app:latest"], 800);
        assert!(cluster.add_node_image(NodeId(0), &pulled).unwrap());
        assert!(!cluster.add_node_image(NodeId(0), &pulled).unwrap());
        let template = PodTemplate {
            images: vec!["app:latest".into()],
            ..Default::default()
        };
        let pod = Pod::from_template(Arc::new(template), 0);
        let mut plugin = ImageLocality::default();
        let all = [NodeId(0), NodeId(1)];
        assert_eq!(plugin.pre_score(&pod, &cluster, &all).code, Code::Success);
        // 100 * (800M/2 - 23M) / (1000M - 23M) = 38.
        assert_eq!(plugin.score(&pod, &cluster, NodeId(0)), 38);
        assert_eq!(plugin.score(&pod, &cluster, NodeId(1)), 0);
        assert!(cluster.add_node_image(NodeId(1), &pulled).unwrap());
        plugin.pre_score(&pod, &cluster, &all);
        // 100 * (800M - 23M) / (1000M - 23M) = 79 on both.
        assert_eq!(plugin.score(&pod, &cluster, NodeId(1)), 79);
        assert_eq!(plugin.score(&pod, &cluster, NodeId(0)), 79);
    }
}
