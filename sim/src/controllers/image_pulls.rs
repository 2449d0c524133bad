//! The kubelets' image pulls: when a pod bound to a node has its container images there.
//!
//! A node already holding an image has it at once; otherwise the image is pulled at the
//! scenario's `images.pullBandwidth`, one image at a time per node (the kubelet's
//! default `serializeImagePulls: true`), and an image already being pulled for an earlier
//! pod is not pulled again. The node lists the image (ImageLocality sees it) once the pod
//! that needed it starts. See [`crate::scenario::images`] for what is simplified.

use std::collections::HashMap;

use schedulers::{ClusterState, NodeId, PodTemplate};

use crate::scenario::images::ImageCatalog;
use crate::time::SimTime;

/// Per-node pull queues and the pulls under way.
#[derive(Debug, Default)]
pub struct ImagePulls {
    /// `free_at[n]`: when node `n`'s pull queue is idle again.
    free_at: Vec<SimTime>,
    /// When an image pulled (or being pulled) on a node is there. Looked up, never
    /// iterated, so its order cannot reach any output.
    ready_at: HashMap<(NodeId, String), SimTime>,
}

impl ImagePulls {
    /// When a pod of `template` bound to `node` at `now` has all its images on the node,
    /// queueing the pulls it needs.
    pub fn images_ready(
        &mut self,
        template: &PodTemplate,
        node: NodeId,
        cluster: &ClusterState,
        catalog: &ImageCatalog,
        now: SimTime,
    ) -> SimTime {
        let mut ready = now;
        let books = cluster.images();
        for name in &template.images {
            if books.holds(node, name) {
                continue;
            }
            let key = (node, name.clone());
            let at = match self.ready_at.get(&key) {
                Some(&at) => at,
                None => {
                    if self.free_at.len() <= node.index() {
                        self.free_at.resize(node.index() + 1, SimTime::ZERO);
                    }
                    let size = catalog.sizes.get(name).copied().unwrap_or(0);
                    let begin = now.max(self.free_at[node.index()]);
                    let end = begin.saturating_add(catalog.pull_time(size));
                    self.free_at[node.index()] = end;
                    self.ready_at.insert(key, end);
                    end
                }
            };
            ready = ready.max(at);
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use schedulers::NodeSpec;
    use schedulers::images::NodeImage;

    use super::*;

    fn template(images: &[&str]) -> PodTemplate {
        PodTemplate {
            images: images.iter().map(|i| i.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn pulls_queue_per_node_and_are_shared() {
        let mut cluster = ClusterState::default();
        cluster.add_node(NodeSpec {
            name: "warm".into(),
            images: vec![NodeImage {
                names: vec!["base:1".into()],
                size_bytes: 100 << 20,
            }],
            ..Default::default()
        });
        cluster.add_node(NodeSpec {
            name: "cold".into(),
            ..Default::default()
        });
        let mut catalog = ImageCatalog {
            pull_bandwidth: Some(10 << 20),
            ..Default::default()
        };
        catalog.sizes.insert("base:1".into(), 100 << 20);
        catalog.sizes.insert("app:1".into(), 50 << 20);
        let mut pulls = ImagePulls::default();
        let t0 = SimTime::from_secs(100);
        let (warm, cold) = (NodeId(0), NodeId(1));
        // The warm node holds base:1: only app:1 (5 s) is pulled.
        let a = pulls.images_ready(
            &template(&["base:1", "app:1"]),
            warm,
            &cluster,
            &catalog,
            t0,
        );
        assert_eq!(a, SimTime::from_secs(105));
        // The cold node pulls base:1 (10 s) then app:1 (5 s), one after the other.
        let b = pulls.images_ready(
            &template(&["base:1", "app:1"]),
            cold,
            &cluster,
            &catalog,
            t0,
        );
        assert_eq!(b, SimTime::from_secs(115));
        // A second pod of the same images waits for the same pulls, not new ones.
        let c = pulls.images_ready(
            &template(&["app:1"]),
            cold,
            &cluster,
            &catalog,
            SimTime::from_secs(101),
        );
        assert_eq!(c, SimTime::from_secs(115));
        // A pod with no images, or only held ones, is ready at once.
        assert_eq!(
            pulls.images_ready(&template(&[]), cold, &cluster, &catalog, t0),
            t0
        );
        assert_eq!(
            pulls.images_ready(&template(&["base:1"]), warm, &cluster, &catalog, t0),
            t0
        );
    }
}
