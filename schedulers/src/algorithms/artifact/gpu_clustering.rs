//! `artifact-gpu-clustering`: the artifact's GpuClustering policy
//! (`pkg/simulator/plugin/gpu_clustering_score.go`).
//!
//! Pods are labelled by their GPU ask as the artifact labels them
//! (`GetGpuAffinityFromPodAnnotation`): a share of one GPU, or `k` whole GPUs (one label
//! per `k`); a pod asking for no GPU has none and scores 0 everywhere (so it goes by the
//! node order alone). A node carries the labels of the pods bound to it. With
//! `fill = int(25 * (8000 - free milli-GPU of the node) / 8000)`, a pod scores a node:
//! - `75 + fill` when the node carries the pod's label and no other;
//! - `50 + fill` when it carries the pod's label among others;
//! - `25 + fill` when it carries no label (no GPU pod yet);
//! - `fill` when it carries only other labels.
//!
//! So pods of one kind cluster on the same nodes, the fullest first. The integer
//! arithmetic is the artifact's (Go's `int64`, truncating; 8000 is its largest node).
//!
//! Simplified: nothing in the score; a shared pod's GPU is the default binding's (least
//! free that fits), the artifact's `gpuSelMethod: best` for this policy.

use super::{ArtifactPolicy, MAX_NODE_SCORE, MAX_SPEC_GPU, gpu_left};
use crate::cluster::ClusterState;
use crate::gpu::GpuRequest;
use crate::pod::Pod;

/// GpuClustering's score ([`super::ArtifactGpuClustering`]), with each node's labels cached
/// by the node's generation.
#[derive(Debug, Clone, Default)]
pub struct GpuClusteringScore {
    /// Per node: the generation `labels` was computed at (0: never).
    cache_gen: Vec<u64>,
    /// Per node: the labels of its pods as a bit set ([`label_bit`]).
    labels: Vec<u128>,
}

/// A GPU ask's label as one bit: bit 0 for a share of one GPU, bit `k` for `k` whole GPUs
/// (`k <= 64`); 0 for no GPU.
pub fn label_bit(req: &GpuRequest) -> u128 {
    if !req.is_some() {
        0
    } else if req.is_share() {
        1
    } else {
        1u128 << req.count.min(64)
    }
}

/// The artifact's score of a node with `labels` and `free_milli` GPU free for a pod with
/// label `pod_label` (0: the pod asks for no GPU).
pub fn clustering_score(labels: u128, free_milli: i64, pod_label: u128) -> i64 {
    if pod_label == 0 {
        return 0;
    }
    let quarter = MAX_NODE_SCORE / 4;
    let fill = quarter * (MAX_SPEC_GPU - free_milli) / MAX_SPEC_GPU;
    let tier = if labels & pod_label != 0 {
        if labels.count_ones() == 1 { 3 } else { 2 }
    } else if labels == 0 {
        1
    } else {
        0
    };
    fill + MAX_NODE_SCORE * tier / 4
}

impl GpuClusteringScore {
    /// Node `n`'s labels, from the cache when its generation has not moved.
    fn labels(&mut self, cluster: &ClusterState, n: usize) -> u128 {
        let generation = cluster.generations()[n];
        if self.cache_gen[n] != generation {
            self.labels[n] = cluster.nodes()[n]
                .pods
                .iter()
                .filter_map(|&p| cluster.pod(p))
                .fold(0, |set, p| set | label_bit(&p.template.gpu));
            self.cache_gen[n] = generation;
        }
        self.labels[n]
    }
}

impl ArtifactPolicy for GpuClusteringScore {
    const NAME: &'static str = "artifact-gpu-clustering";
    const SUMMARY: &'static str =
        "the FGD artifact's GpuClustering: nodes already running the same GPU ask, fullest first";

    fn prepare(&mut self, cluster: &ClusterState, _fresh: bool) {
        // Generations are unique in the process, so entries of another cluster never
        // match; only the length must follow the node count.
        let nodes = cluster.rows().len();
        self.cache_gen.resize(nodes, 0);
        self.labels.resize(nodes, 0);
    }

    fn score(&mut self, cluster: &ClusterState, n: usize, pod: &Pod) -> i64 {
        let pod_label = label_bit(&pod.template.gpu);
        if pod_label == 0 {
            return 0;
        }
        clustering_score(self.labels(cluster, n), gpu_left(cluster, n), pod_label)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Artifact;
    use super::super::testkit::*;
    use super::*;
    use crate::algorithms::node_order::NodeOrder;

    /// n0: 8 GPUs, a 0.3 share on GPU 0; n1: 8 GPUs, one whole GPU (GPU 0) and a 0.5 share
    /// (GPU 1); n2: 4 free GPUs; n3: 2 GPUs, one whole GPU taken (GPU 0). Ties by index.
    /// With fill = int(25 * (8000 - free) / 8000):
    /// - A 0.2 share: n0 carries only shares (75 + int(25 * 300 / 8000) = 75); n1 shares
    ///   and 1-GPU pods (50 + int(25 * 1500 / 8000) = 54); n2 none (25 + 12 = 37); n3 only
    ///   1-GPU pods (0 + 21 = 21): n0, on GPU 0 (700 free, the least that fits).
    /// - One whole GPU: n3 carries only its label (75 + 21 = 96): n3, GPU 1.
    /// - Another: n3 is full; n1 (54) over n2 (37) and n0 (only shares: int(25 * 500 /
    ///   8000) = 1): n1, its first entirely free GPU, GPU 2.
    /// - A pod without GPU scores 0 everywhere: n0 by index.
    #[test]
    fn pods_of_one_gpu_ask_cluster_on_the_fullest_nodes() {
        let share = label_bit(&GpuRequest::share(200));
        let one = label_bit(&GpuRequest::whole(1));
        assert_eq!((share, one, label_bit(&GpuRequest::whole(2))), (1, 2, 4));
        assert_eq!(clustering_score(share, 7700, share), 75);
        assert_eq!(clustering_score(share | one, 6500, share), 54);
        assert_eq!(clustering_score(0, 4000, share), 37);
        assert_eq!(clustering_score(one, 1000, share), 21);
        assert_eq!(clustering_score(one, 1000, one), 96);
        assert_eq!(clustering_score(share, 7500, one), 1);
        assert_eq!(clustering_score(share, 7500, 0), 0);

        let mut c = gpu_cluster(&[(32_000, 8), (32_000, 8), (32_000, 4), (32_000, 2)]);
        preload(&mut c, 0, 1000, GpuRequest::share(300), Some(0b1));
        preload(&mut c, 1, 1000, GpuRequest::whole(1), Some(0b01));
        preload(&mut c, 1, 1000, GpuRequest::share(500), Some(0b10));
        preload(&mut c, 3, 1000, GpuRequest::whole(1), Some(0b01));
        let pods = vec![
            gpu_pod(1000, GpuRequest::share(200)),
            gpu_pod(1000, GpuRequest::whole(1)),
            gpu_pod(1000, GpuRequest::whole(1)),
            gpu_pod(1000, GpuRequest::default()),
        ];
        let mut s = Artifact::<GpuClusteringScore>::new(NodeOrder::Index);
        assert_eq!(
            place(&mut s, &mut c, pods, 1),
            vec![(0, 0b1), (3, 0b10), (1, 0b100), (0, 0)]
        );
    }
}
