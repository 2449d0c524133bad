//! `artifact-dotprod`: the artifact's DotProd policy
//! (`pkg/simulator/plugin/dot_product_score.go`, run with `-dimext merge -norm max`), the
//! packing heuristic of Tetris (Grandl et al., SIGCOMM 2014) as the FGD paper runs it.
//!
//! The node's free vector is (free CPU / 128 cores, free milli-GPU of all its GPUs / 8000),
//! the pod's is (CPU / 128 cores, milli-GPU asked in all / 8000), both divided by the
//! artifact's largest node (`-norm max`) and the GPUs merged into one dimension
//! (`-dimext merge`); the score is `int(100 * (1 - dot / 2))`, so the node whose free
//! resources align least with the pod wins. Note the direction: the artifact's comment
//! says "the larger the dot product, the lower the score", the opposite of Tetris's
//! alignment (schedlab's `tetris` keeps Tetris's). The free vector is the node's before the
//! pod is placed, as there. The float operations are the artifact's, in its order, so the
//! truncation to an integer falls the same way.
//!
//! Simplified: nothing; the artifact's other `dimext` and `norm` methods (used by its FGD
//! runs, not by DotProd's) are not offered.

use super::{ArtifactPolicy, MAX_NODE_SCORE, MAX_SPEC_CPU, MAX_SPEC_GPU, gpu_left};
use crate::cluster::ClusterState;
use crate::pod::Pod;

/// DotProd's score ([`super::ArtifactDotProd`]).
#[derive(Debug, Clone, Default)]
pub struct DotProductScore;

/// `int(100 * (1 - (cpu_free * cpu_ask + gpu_free * gpu_ask) / 2))`, every amount divided
/// by the artifact's largest node; the artifact's `calculateDotProductScore`.
pub fn dot_product_score(cpu_free: i64, gpu_free: i64, cpu_ask: i64, gpu_ask: i64) -> i64 {
    let max_gpu = MAX_SPEC_GPU as f64;
    let mut dot = 0.0;
    dot += (cpu_free as f64 / MAX_SPEC_CPU) * (cpu_ask as f64 / MAX_SPEC_CPU);
    dot += (gpu_free as f64 / max_gpu) * (gpu_ask as f64 / max_gpu);
    let score = 1.0 - dot / 2.0;
    (MAX_NODE_SCORE as f64 * score) as i64
}

impl ArtifactPolicy for DotProductScore {
    const NAME: &'static str = "artifact-dotprod";
    const SUMMARY: &'static str =
        "the FGD artifact's DotProd: least dot product of free CPU/GPU and the pod's ask";

    fn score(&mut self, cluster: &ClusterState, n: usize, pod: &Pod) -> i64 {
        dot_product_score(
            cluster.rows()[n].free.cpu(),
            gpu_left(cluster, n),
            pod.requests.cpu(),
            pod.template.gpu.total_milli() as i64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::Artifact;
    use super::super::testkit::*;
    use super::*;
    use crate::algorithms::node_order::NodeOrder;
    use crate::gpu::GpuRequest;

    /// n0: 32 cores, 8 free GPUs; n1: 64 cores, 2 free GPUs; n2: 32 cores, 4 GPUs of which
    /// a 1-core pod holds three. Pods of 4 cores and one whole GPU. With a = CPU free /
    /// 128 cores, b = GPU free / 8000, the pod's vector is (1/32, 1/8):
    /// - n0: 1/4 * 1/32 + 1 * 1/8 = 0.1328125; 100 * (1 - 0.06640625) = 93.36 -> 93;
    /// - n1: 1/2 * 1/32 + 1/4 * 1/8 = 0.046875 -> 97.66 -> 97;
    /// - n2: 31/128 * 1/32 + 1/8 * 1/8 = 0.023193359375 -> 98.84 -> 98: n2, its GPU 3.
    ///
    /// Then n2 is out of GPUs: n1 (97) over n0 (93), GPU 0; then n1 (60 cores and one GPU
    /// free: 0.0302734375 -> 98.49 -> 98) again, GPU 1.
    #[test]
    fn takes_the_node_whose_free_resources_align_least() {
        assert_eq!(dot_product_score(32_000, 8000, 4000, 1000), 93);
        assert_eq!(dot_product_score(64_000, 2000, 4000, 1000), 97);
        assert_eq!(dot_product_score(31_000, 1000, 4000, 1000), 98);
        assert_eq!(dot_product_score(60_000, 1000, 4000, 1000), 98);
        let mut c = gpu_cluster(&[(32_000, 8), (64_000, 2), (32_000, 4)]);
        preload(&mut c, 2, 1000, GpuRequest::whole(3), None);
        let pods = (0..3)
            .map(|_| gpu_pod(4000, GpuRequest::whole(1)))
            .collect();
        let mut s = Artifact::<DotProductScore>::new(NodeOrder::Random);
        assert_eq!(
            place(&mut s, &mut c, pods, 1),
            vec![(2, 0b1000), (1, 0b01), (1, 0b10)]
        );
    }
}
