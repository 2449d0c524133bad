//! `artifact-gpu-packing`: the artifact's GpuPacking policy
//! (`pkg/simulator/plugin/gpu_packing_score.go`).
//!
//! Three tiers, highest first, for a pod that asks for GPU:
//! 1. the pod fits on GPUs already in use (none of the GPUs it would take is entirely
//!    free): `max(100 - sum of int(100 * free / 1000) over those GPUs / 10, 50)`, so the
//!    fuller the GPUs, the better;
//! 2. it needs `k` entirely free GPUs on a node with some GPU in use: `max(50 - k, 33)`;
//! 3. every GPU of the node is free (`f` of them): `max(33 - f, f)`, so smaller idle nodes
//!    first.
//!
//! The GPUs "it would take" are found as the artifact finds them: the node's GPUs sorted by
//! free milli, least first (stable, so equal ones in index order), taking each that can
//! hold the pod's per-GPU ask until it has its count. A pod that asks for no GPU scores 0
//! everywhere, so it goes by the node order alone. The integer arithmetic is the
//! artifact's (Go's `int64`, truncating).
//!
//! Simplified: nothing in the score; the GPU a shared pod gets is the default binding's
//! (least free that fits, `gpuSelMethod: best`), which is also the GPU the score assumed.

use super::{ArtifactPolicy, MAX_NODE_SCORE, gpu_frees};
use crate::cluster::ClusterState;
use crate::gpu::{GPU_MILLI, GpuRequest};
use crate::pod::Pod;

/// GpuPacking's score ([`super::ArtifactGpuPacking`]).
#[derive(Debug, Clone, Default)]
pub struct GpuPackingScore {
    /// The free milli of each GPU of the node being scored; reused between nodes.
    frees: Vec<u32>,
    /// GPU indices sorted by free milli; reused.
    sorted: Vec<usize>,
}

/// The artifact's `getPackingScore` for a node whose GPUs have `frees` milli free and a pod
/// asking `req`; `None` when the GPUs cannot hold it (the artifact's error).
pub fn packing_score(frees: &[u32], req: &GpuRequest, sorted: &mut Vec<usize>) -> Option<i64> {
    if !req.is_some() {
        return Some(0);
    }
    let whole = frees.iter().filter(|&&f| f == GPU_MILLI).count() as i64;
    if whole == frees.len() as i64 {
        return Some((MAX_NODE_SCORE / 3 - whole).max(whole));
    }
    sorted.clear();
    sorted.extend(0..frees.len());
    sorted.sort_by_key(|&g| frees[g]); // stable: equal frees stay in index order
    let (mut wanted, mut whole_used, mut ratio) = (req.count, 0i64, 0i64);
    for &g in sorted.iter() {
        if wanted == 0 {
            break;
        }
        if req.milli <= frees[g] {
            wanted -= 1;
            if frees[g] == GPU_MILLI {
                whole_used += 1;
            }
            ratio += i64::from(frees[g]) * 100 / i64::from(GPU_MILLI);
        }
    }
    if wanted != 0 {
        return None;
    }
    if whole_used > 0 {
        return Some((MAX_NODE_SCORE / 2 - whole_used).max(MAX_NODE_SCORE / 3));
    }
    Some((MAX_NODE_SCORE - ratio / 10).max(MAX_NODE_SCORE / 2))
}

impl ArtifactPolicy for GpuPackingScore {
    const NAME: &'static str = "artifact-gpu-packing";
    const SUMMARY: &'static str =
        "the FGD artifact's GpuPacking: shared GPUs first, then used nodes, then small idle ones";

    fn score(&mut self, cluster: &ClusterState, n: usize, pod: &Pod) -> i64 {
        gpu_frees(cluster, n, &mut self.frees);
        // A feasible node holds the pod; the artifact's error would score it 0.
        packing_score(&self.frees, &pod.template.gpu, &mut self.sorted).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Artifact;
    use super::super::testkit::*;
    use super::*;
    use crate::algorithms::node_order::NodeOrder;

    /// n0: 4 GPUs, GPU 0 with 700 milli free; n1: 2 free GPUs; n2: 8 free GPUs; n3: 4 GPUs,
    /// GPU 0 with 400 free and GPU 1 with 100. Ties by index (`nodeOrder=index`).
    /// - A 0.3 share: n0 uses GPU 0 (int(100 * 700 / 1000) = 70: 100 - 7 = 93); n1 and n2
    ///   are idle (33 - 2 = 31, 33 - 8 = 25); n3's least free GPU that holds it is GPU 0
    ///   (40: 100 - 4 = 96): n3, GPU 0.
    /// - Another 0.3 share: n3 has 100 and 100 left, so it needs a free GPU (50 - 1 = 49);
    ///   n0 still scores 93: n0, GPU 0.
    /// - Two whole GPUs: n0 and n3 both need two free GPUs (50 - 2 = 48), n1 31, n2 25: the
    ///   tie goes to n0, its GPUs 1 and 2.
    /// - A pod without GPU scores 0 everywhere: n0 by index.
    #[test]
    fn shared_gpus_first_then_used_nodes_then_small_idle_ones() {
        let mut sorted = Vec::new();
        let share = GpuRequest::share(300);
        assert_eq!(
            packing_score(&[700, 1000, 1000, 1000], &share, &mut sorted),
            Some(93)
        );
        assert_eq!(packing_score(&[1000, 1000], &share, &mut sorted), Some(31));
        assert_eq!(packing_score(&[1000; 8], &share, &mut sorted), Some(25));
        assert_eq!(
            packing_score(&[400, 100, 1000, 1000], &share, &mut sorted),
            Some(96)
        );
        assert_eq!(
            packing_score(&[100, 100, 1000, 1000], &share, &mut sorted),
            Some(49)
        );
        let two = GpuRequest::whole(2);
        assert_eq!(
            packing_score(&[400, 1000, 1000, 1000], &two, &mut sorted),
            Some(48)
        );
        assert_eq!(
            packing_score(&[100, 100, 1000, 1000], &two, &mut sorted),
            Some(48)
        );
        assert_eq!(packing_score(&[100, 100, 1000, 0], &two, &mut sorted), None);
        // An idle node of 40 GPUs: 33 - 40 < 40, the artifact's cap keeps 40.
        assert_eq!(packing_score(&[1000; 40], &two, &mut sorted), Some(40));

        let mut c = gpu_cluster(&[(32_000, 4), (32_000, 2), (32_000, 8), (32_000, 4)]);
        preload(&mut c, 0, 1000, GpuRequest::share(300), Some(0b1));
        preload(&mut c, 3, 1000, GpuRequest::share(600), Some(0b01));
        preload(&mut c, 3, 1000, GpuRequest::share(900), Some(0b10));
        let pods = vec![
            gpu_pod(1000, GpuRequest::share(300)),
            gpu_pod(1000, GpuRequest::share(300)),
            gpu_pod(1000, GpuRequest::whole(2)),
            gpu_pod(1000, GpuRequest::default()),
        ];
        let mut s = Artifact::<GpuPackingScore>::new(NodeOrder::Index);
        assert_eq!(
            place(&mut s, &mut c, pods, 1),
            vec![(3, 0b0001), (0, 0b0001), (0, 0b0110), (0, 0)]
        );
    }
}
