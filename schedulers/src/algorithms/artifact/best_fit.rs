//! `artifact-best-fit`: the artifact's BestFit policy
//! (`pkg/simulator/plugin/best_fit_score.go`).
//!
//! The leftover once the pod is placed, of CPU and of GPU (all the node's GPUs together),
//! each divided by the artifact's largest node (128 cores, 8 GPUs) and weighted one half:
//! `int(100 * (1 - (0.5 (cpu_free - cpu) / 128 cores + 0.5 (gpu_free - gpu) / 8000)))`;
//! the least leftover wins. It differs from schedlab's `best-fit`, which measures the
//! leftover of the pod's dominant resource as a share of that node's own allocatable.
//!
//! Simplified: the artifact then min-max normalizes the scores of a cycle onto 0..100
//! (`NormalizeScore`); with scores already in 0..100 that map keeps their order and their
//! ties, so it is left out. (A node larger than 128 cores or 8 GPUs could score outside
//! 0..100; the order would still be kept.)

use super::{ArtifactPolicy, MAX_NODE_SCORE, MAX_SPEC_CPU, MAX_SPEC_GPU, gpu_left};
use crate::cluster::ClusterState;
use crate::pod::Pod;

/// BestFit's score ([`super::ArtifactBestFit`]).
#[derive(Debug, Clone, Default)]
pub struct BestFitScore;

/// The artifact's `getBestFitScore` from the node's free CPU and milli-GPU and the pod's
/// ask, in the artifact's float operations and order.
pub fn best_fit_score(cpu_free: i64, gpu_free: i64, cpu_ask: i64, gpu_ask: i64) -> i64 {
    let mut left = 0.0;
    left += (cpu_free - cpu_ask) as f64 / MAX_SPEC_CPU * 0.5;
    left += (gpu_free - gpu_ask) as f64 / MAX_SPEC_GPU as f64 * 0.5;
    ((1.0 - left) * MAX_NODE_SCORE as f64) as i64
}

impl ArtifactPolicy for BestFitScore {
    const NAME: &'static str = "artifact-best-fit";
    const SUMMARY: &'static str = "the FGD artifact's BestFit: least CPU and GPU left, half weight each, over its largest node";

    fn score(&mut self, cluster: &ClusterState, n: usize, pod: &Pod) -> i64 {
        best_fit_score(
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

    /// n0: 96 cores, 8 GPUs; n1: 32 cores, 2 GPUs. Two pods of 8 cores and half a GPU, then
    /// one of 1 core and two whole GPUs. Leftover (half CPU / 128 cores, half GPU / 8000):
    /// - pod 0: n0 88/128/2 + 7500/8000/2 = 0.8125 -> 100 * 0.1875 -> 18; n1 24/128/2 +
    ///   1500/8000/2 = 0.1875 -> 81: n1, on GPU 0 (the first of two equally free);
    /// - pod 1: n1 16/128/2 + 1000/8000/2 = 0.125 -> 87 against n0's 18: n1, on GPU 0 again
    ///   (500 free, the least that fits);
    /// - pod 2: n1 has one whole GPU left, so only n0 holds it: GPUs 0 and 1.
    #[test]
    fn takes_the_node_with_least_weighted_leftover() {
        assert_eq!(best_fit_score(96_000, 8000, 8000, 500), 18);
        assert_eq!(best_fit_score(32_000, 2000, 8000, 500), 81);
        assert_eq!(best_fit_score(24_000, 1500, 8000, 500), 87);
        let mut c = gpu_cluster(&[(96_000, 8), (32_000, 2)]);
        let pods = vec![
            gpu_pod(8000, GpuRequest::share(500)),
            gpu_pod(8000, GpuRequest::share(500)),
            gpu_pod(1000, GpuRequest::whole(2)),
        ];
        let mut s = Artifact::<BestFitScore>::new(NodeOrder::Random);
        assert_eq!(
            place(&mut s, &mut c, pods, 1),
            vec![(1, 0b01), (1, 0b01), (0, 0b11)]
        );
    }
}
