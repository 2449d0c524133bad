//! `artifact-random`: the artifact's Random policy (`pkg/simulator/plugin/random_score.go`,
//! run with `-gpusel random`).
//!
//! A node drawn uniformly from the feasible ones (the artifact draws it in PreScore and
//! scores it 100, every other node 0), then for a pod that shares a GPU, a GPU drawn
//! uniformly from the node's GPUs that can hold it (`allocateGpuIdBasedOnRandomFit`);
//! whole GPUs are the lowest-indexed free ones, as there. schedlab's `random` differs in
//! the GPU: it leaves a share to the default binding (the fullest GPU that fits).
//!
//! Simplified: the artifact draws the GPU by reservoir sampling, one draw per GPU that
//! fits; one uniform draw here gives the same distribution, not the same stream.

use rand::RngExt;

use super::gpu_frees;
use crate::filters::{PodFilter, diagnose};
use crate::node::NodeId;
use crate::scheduler::{Cycle, Scheduler};
use crate::spec::{Args, Param, ParamKind, Value};

/// The artifact's Random policy.
#[derive(Debug, Clone, Default)]
pub struct ArtifactRandom {
    /// Feasible nodes of the pod being placed; reused.
    feasible: Vec<usize>,
    /// Free milli per GPU of the chosen node; reused.
    frees: Vec<u32>,
}

impl ArtifactRandom {
    /// The name it is registered under.
    pub const NAME: &'static str = "artifact-random";
    /// One line for `schedlab list`.
    pub const SUMMARY: &'static str =
        "the FGD artifact's Random: a random feasible node, and a random GPU on it for a share";
    /// Its arguments: those of every artifact policy; `nodeOrder` changes nothing here (no
    /// score ties), it is accepted so that every artifact policy takes the same ones.
    pub const PARAMS: &'static [Param] = &[Param {
        name: "nodeOrder",
        kind: ParamKind::Choice(&["random", "index"]),
        default: Value::Choice("random"),
        doc: "accepted as every artifact-* policy accepts it; Random scores no ties, so it \
              changes nothing",
    }];

    /// Built from validated [`Self::PARAMS`] arguments.
    pub fn from_args(_args: &Args) -> ArtifactRandom {
        ArtifactRandom::default()
    }
}

impl Scheduler for ArtifactRandom {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        for &pod_id in cycle.pending() {
            let (cluster, rng) = cycle.cluster_and_rng();
            let Some(pod) = cluster.pod(pod_id) else {
                continue;
            };
            let filter = PodFilter::new(pod);
            self.feasible.clear();
            self.feasible
                .extend((0..cluster.rows().len()).filter(|&n| filter.feasible(cluster, n)));
            if self.feasible.is_empty() {
                let diagnosis = diagnose(cluster, pod);
                cycle.unschedulable(pod_id, diagnosis);
                continue;
            }
            let n = self.feasible[rng.random_range(0..self.feasible.len())];
            let req = &pod.template.gpu;
            let mask = if req.is_share() {
                gpu_frees(cluster, n, &mut self.frees);
                let fits = self.frees.iter().filter(|&&f| f >= req.milli).count();
                // A feasible node has at least one GPU that holds the share.
                let pick = rng.random_range(0..fits.max(1));
                let g = (0..self.frees.len())
                    .filter(|&g| self.frees[g] >= req.milli)
                    .nth(pick);
                g.map(|g| 1u64 << g)
            } else {
                None
            };
            cycle.bind_or_unschedulable(pod_id, NodeId(n as u32), mask);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use super::*;
    use crate::gpu::GpuRequest;

    /// n0: one GPU with 100 milli free (cannot hold a 0.2 share); n1: 2 GPUs, GPU 0 with 300
    /// free, GPU 1 entirely free; n2: 4 cores only for a pod of 8 (no room). Over seeds
    /// 1..=64, a 0.2 share lands on n1 only, on either GPU (the default binding would
    /// always take GPU 0, the fuller), and the same seed places it the same way.
    #[test]
    fn a_random_feasible_node_and_a_random_gpu_that_fits() {
        let mut seen = Vec::new();
        for seed in 1..=64 {
            let mut twice = Vec::new();
            for _ in 0..2 {
                let mut c = gpu_cluster(&[(32_000, 1), (32_000, 2), (4000, 4)]);
                preload(&mut c, 0, 1000, GpuRequest::share(900), Some(0b1));
                preload(&mut c, 1, 1000, GpuRequest::share(700), Some(0b01));
                let pods = vec![gpu_pod(8000, GpuRequest::share(200))];
                twice.push(place(&mut ArtifactRandom::default(), &mut c, pods, seed));
            }
            assert_eq!(twice[0], twice[1], "seed {seed}");
            seen.push(twice[0][0]);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen, vec![(1, 0b01), (1, 0b10)]);
    }

    /// Four empty nodes: over seeds 1..=64 a 1-GPU pod reaches every node, always on the
    /// node's GPU 0 (whole GPUs are the lowest-indexed free ones).
    #[test]
    fn every_feasible_node_can_be_drawn() {
        let mut seen = Vec::new();
        for seed in 1..=64 {
            let mut c = gpu_cluster(&[(32_000, 2); 4]);
            let pods = vec![gpu_pod(1000, GpuRequest::whole(1))];
            seen.push(place(&mut ArtifactRandom::default(), &mut c, pods, seed)[0]);
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen, vec![(0, 1), (1, 1), (2, 1), (3, 1)]);
    }
}
