//! `tetris`: the feasible node whose free resources are best aligned with the pod's demand.
//!
//! Follows the packing heuristic of Grandl, Ananthanarayanan, Kandula, Rao and Akella,
//! "Multi-resource packing for cluster schedulers", SIGCOMM 2014 (Tetris). For each node
//! that can take the pod, the alignment score is the dot product of the pod's demand vector
//! and the node's free-resource vector, each component divided by the node's allocatable
//! amount of that resource (the paper normalizes by machine capacity):
//!
//! ```text
//! score(pod, node) = sum over resources r of (demand_r / allocatable_r) * (free_r / allocatable_r)
//! ```
//!
//! Arguments (`tetris:cpuWeight=2,...`, see [`Tetris::PARAMS`]) weigh each resource's term
//! of the sum: `cpuWeight`, `memoryWeight`, `gpuWeight` and `otherWeight` (ephemeral storage
//! and extended resources), each 1 by default, which is the paper's unweighted dot product.
//! A weight of 0 leaves a resource out of the score (it is still filtered on); a larger one
//! makes the pods' shape on that resource count for more when nodes are compared.
//!
//! The resources are CPU and memory, counted as kube-scheduler's scorers count them (unset
//! requests as 100m / 200 MiB), plus ephemeral storage and every extended resource the pod
//! requests (see [`crate::algorithms::demand`]); the free vector is taken before the pod is
//! placed, as in the paper. The highest score wins; equal scores go to the lowest node
//! index, so the algorithm draws nothing from the random stream. The score is computed in
//! `f64`, which is deterministic (IEEE 754 operations in a fixed order, no fused
//! multiply-add) but not exact: two nodes whose exact scores differ by less than a rounding
//! error may compare equal. Feasibility is [`PodFilter`]'s, as for every algorithm here, and
//! a pod that fits nowhere gets [`crate::filters::diagnose`]'s kube-scheduler-worded reasons.
//!
//! The paper works machine by machine: when resources free up on a machine, it scores the
//! pending tasks that fit there and starts the best-aligned one. A per-pod scheduler takes
//! the pods in the host's queue order instead, so here the score picks the node for the pod
//! at the head of the queue; the same alignment, searched along the other axis.
//!
//! Left out of the paper, because a per-pod scheduler cannot express them or schedlab has
//! nothing to feed them:
//! - the mix with shortest-remaining-time-first (the paper adds `epsilon` times a
//!   remaining-work score of the pod's job, to finish small jobs first): pods carry no
//!   job-level remaining work here;
//! - the fairness knob `f` (only the `1 - f` fraction of jobs furthest below their fair
//!   share are considered): the queue order is the host's (priority, then arrival);
//! - the penalty on remote disk and network usage, the barrier knob for DAG stages, and
//!   the estimation of peak demands from earlier tasks: pods have exact requests and no
//!   data locality.

use crate::algorithms::demand::Demand;
use crate::cluster::ClusterState;
use crate::filters::PodFilter;
use crate::pod::PodId;
use std::cmp::Reverse;

use crate::rank_set::{RankSet, place_by_rank};
use crate::resources::ResourceKind;
use crate::scheduler::{Cycle, Placement, Scheduler};
use crate::shape_cache::ShapeCache;
use crate::spec::{Args, Param, ParamKind, Value};

/// The `tetris` algorithm, with the weights of its alignment score. Unconstrained pods
/// read the best node from a shape cache of nodes ordered by score ([`RankSet`]) instead
/// of a scan.
#[derive(Debug, Default, Clone)]
pub struct Tetris {
    weights: Weights,
    cache: ShapeCache<RankSet<Reverse<i64>>>,
}

/// The weight of each resource's term in the alignment score; all 1 by default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Weights {
    /// CPU (`cpuWeight`).
    pub cpu: f64,
    /// Memory (`memoryWeight`).
    pub memory: f64,
    /// The pod's GPU ask against the node's GPUs as a pool (`gpuWeight`).
    pub gpu: f64,
    /// Ephemeral storage and every extended resource (`otherWeight`).
    pub other: f64,
}

impl Default for Weights {
    /// 1 for every resource: the paper's unweighted dot product.
    fn default() -> Weights {
        Weights {
            cpu: 1.0,
            memory: 1.0,
            gpu: 1.0,
            other: 1.0,
        }
    }
}

impl Weights {
    /// The weight of a dimension of [`Demand`]: its resource kind, `None` for GPUs.
    #[inline]
    fn of(&self, resource: Option<ResourceKind>) -> f64 {
        match resource {
            Some(ResourceKind::CPU) => self.cpu,
            Some(ResourceKind::MEMORY) => self.memory,
            Some(_) => self.other,
            None => self.gpu,
        }
    }
}

/// The range of every weight: finite, never negative (a negative weight would reward
/// leaving a resource idle).
const WEIGHT: ParamKind = ParamKind::Number { min: 0.0, max: 1e6 };

impl Tetris {
    /// The name it is registered under.
    pub const NAME: &'static str = "tetris";

    /// Its arguments, each a weight of [`Weights`].
    pub const PARAMS: &'static [Param] = &[
        Param {
            name: "cpuWeight",
            kind: WEIGHT,
            default: Value::Number(1.0),
            doc: "weight of CPU in the alignment score",
        },
        Param {
            name: "memoryWeight",
            kind: WEIGHT,
            default: Value::Number(1.0),
            doc: "weight of memory in the alignment score",
        },
        Param {
            name: "gpuWeight",
            kind: WEIGHT,
            default: Value::Number(1.0),
            doc: "weight of GPU (the node's GPUs as one pool) in the alignment score",
        },
        Param {
            name: "otherWeight",
            kind: WEIGHT,
            default: Value::Number(1.0),
            doc: "weight of ephemeral storage and each extended resource in the alignment score",
        },
    ];

    /// Tetris with these weights.
    pub fn new(weights: Weights) -> Tetris {
        Tetris {
            weights,
            cache: ShapeCache::default(),
        }
    }

    /// Tetris with the weights of validated [`Self::PARAMS`] arguments.
    pub fn from_args(args: &Args) -> Tetris {
        let d = Weights::default();
        Tetris::new(Weights {
            cpu: args.number("cpuWeight").unwrap_or(d.cpu),
            memory: args.number("memoryWeight").unwrap_or(d.memory),
            gpu: args.number("gpuWeight").unwrap_or(d.gpu),
            other: args.number("otherWeight").unwrap_or(d.other),
        })
    }

    /// Its weights.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The best-aligned feasible node for `pod`, or why there is none.
    pub fn place(&mut self, cluster: &ClusterState, pod_id: PodId) -> Placement {
        let weights = self.weights;
        let score =
            |demand: &Demand, i: usize| Reverse(ordered(alignment(demand, cluster, i, &weights)));
        place_by_rank(&mut self.cache, cluster, pod_id, score, |filter, demand| {
            scan(cluster, filter, demand, &weights)
        })
    }
}

/// The best-aligned feasible node by a scan over every node, the lowest index among
/// equal scores.
fn scan(
    cluster: &ClusterState,
    filter: &PodFilter<'_>,
    demand: &Demand,
    weights: &Weights,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for i in 0..cluster.rows().len() {
        if !filter.feasible(cluster, i) {
            continue;
        }
        let score = alignment(demand, cluster, i, weights);
        // Strictly greater only, so the lowest index keeps a tie.
        if best.is_none_or(|(_, b)| score > b) {
            best = Some((i, score));
        }
    }
    best.map(|(i, _)| i)
}

/// A score as an integer in the same order. Scores are finite sums that start at +0.0
/// (never NaN, never -0.0), so the bit pattern with the sign folded in orders exactly as
/// the floats compare.
fn ordered(score: f64) -> i64 {
    let bits = score.to_bits() as i64;
    bits ^ ((bits >> 63) as u64 >> 1) as i64
}

/// Tetris's alignment score of node `node` for `demand`: the dot product of demand and
/// free resources, both as shares of the node's allocatable, each term times its weight.
/// (A weight of 1 multiplies exactly, so the default weights give the unweighted sum to
/// the last bit.)
#[inline]
pub fn alignment(demand: &Demand, cluster: &ClusterState, node: usize, weights: &Weights) -> f64 {
    let mut score = 0.0;
    demand.for_each_on(cluster, node, |d| {
        let capacity = d.capacity as f64;
        score +=
            weights.of(d.resource) * ((d.demand as f64 / capacity) * (d.free() as f64 / capacity));
    });
    score
}

impl Scheduler for Tetris {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        cycle.place_each(|cluster, pod, _rng| self.place(cluster, pod));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithms::testkit::*;
    use crate::node::NodeId;
    use crate::shape_cache::placement;

    #[test]
    fn alignment_is_the_normalized_dot_product() {
        // 4 CPU / 8 GiB node holding 1 CPU / 6 GiB; pod 2 CPU / 1 GiB:
        // (2/4) * (3/4) + (1/8) * (2/8) = 0.375 + 0.03125 = 0.40625 (exact in binary).
        let mut c = cluster(&[(4000, 8 * GIB)]);
        preload(&mut c, 0, 1000, 6 * GIB);
        let p = pod_of(2000, GIB);
        assert_eq!(
            alignment(&Demand::of(&p), &c, 0, &Weights::default()),
            0.40625
        );
    }

    #[test]
    fn places_pods_where_free_resources_match_their_shape() {
        // Three nodes of 4 CPU / 16 GiB: n0 holds 3 CPU / 1 GiB (memory left), n1 holds
        // 1 CPU / 13 GiB (CPU left), n2 holds 2 CPU / 8 GiB (half of each left).
        let mut c = cluster(&[(4000, 16 * GIB); 3]);
        preload(&mut c, 0, 3000, GIB);
        preload(&mut c, 1, 1000, 13 * GIB);
        preload(&mut c, 2, 2000, 8 * GIB);
        let d = run(
            &mut Tetris::default(),
            &mut c,
            &[(1000, 8 * GIB), (2000, GIB), (1000, GIB)],
        );
        // Pod 0 (1 CPU, 8 GiB; memory-heavy): demand (1/4, 8/16).
        //   n0 free (1/4, 15/16): 1/16 + 15/32 = 17/32 = 0.53125
        //   n1 free (3/4, 3/16): fails (8 GiB > 3 GiB free)
        //   n2 free (2/4, 8/16): 1/8 + 1/4 = 0.375          -> n0.
        // Pod 1 (2 CPU, 1 GiB; CPU-heavy): demand (2/4, 1/16). n0 has no CPU left.
        //   n1 free (3/4, 3/16): 3/8 + 3/256 = 0.38671875;
        //   n2 free (2/4, 8/16): 1/4 + 1/32 = 0.28125      -> n1.
        // Pod 2 (1 CPU, 1 GiB): demand (1/4, 1/16). n1 free (1/4, 2/16): 1/16 + 2/256 =
        //   0.0703125; n2 free (2/4, 8/16): 1/8 + 1/32 = 0.15625 -> n2.
        assert_eq!(nodes(&d), vec![0, 1, 2]);
    }

    #[test]
    fn ties_go_to_the_lowest_index_and_free_nodes_attract() {
        // Identical empty nodes tie -> n0; afterwards n0 has less free, so the next pod
        // scores higher on n1, then n2: on a fresh cluster the dot product spreads.
        let mut c = cluster(&[(4000, 8 * GIB); 3]);
        let d = run(&mut Tetris::default(), &mut c, &[(1000, GIB); 4]);
        assert_eq!(nodes(&d), vec![0, 1, 2, 0]);
    }

    #[test]
    fn infeasible_pods_get_kube_style_diagnoses() {
        let mut c = cluster(&[(4000, 8 * GIB); 2]);
        preload(&mut c, 0, 1000, GIB);
        preload(&mut c, 1, 1000, 7 * GIB);
        // 3.5 CPU and 2 GiB: n0 lacks CPU, n1 lacks CPU and memory.
        let d = run(&mut Tetris::default(), &mut c, &[(3500, 2 * GIB)]);
        assert_eq!(
            outcome(&d),
            vec![Err(
                "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu.".to_string()
            )]
        );
    }

    #[test]
    fn weights_change_the_node_chosen() {
        // Two nodes of 4 CPU / 16 GiB: n0 holds 3 CPU / 1 GiB (free 1 CPU, 15 GiB), n1
        // holds 1 CPU / 13 GiB (free 3 CPU, 3 GiB). The pod asks 1 CPU / 2 GiB: demand
        // (1/4, 1/8). Terms in 128ths, (cpu, memory):
        //   n0: (1/4)(1/4) = 8,  (1/8)(15/16) = 15
        //   n1: (1/4)(3/4) = 24, (1/8)(3/16)  = 3
        // Default weights: n0 23, n1 27 -> n1. memoryWeight=2: n0 8 + 30 = 38, n1 24 + 6 =
        // 30 -> n0. cpuWeight=0: n0 15, n1 3 -> n0. memoryWeight=0: n0 8, n1 24 -> n1.
        let registry = crate::Registry::builtin();
        for (spec, expected) in [
            ("tetris", 1),
            ("tetris:memoryWeight=2", 0),
            ("tetris:cpuWeight=0", 0),
            ("tetris:memoryWeight=0", 1),
            ("tetris:cpuWeight=1.5,memoryWeight=2", 0),
        ] {
            let mut c = cluster(&[(4000, 16 * GIB); 2]);
            preload(&mut c, 0, 3000, GIB);
            preload(&mut c, 1, 1000, 13 * GIB);
            let spec = crate::SchedulerSpec::parse(spec).unwrap();
            let mut tetris = registry
                .build(&spec, &crate::BuildContext::default())
                .unwrap();
            let d = run(tetris.as_mut(), &mut c, &[(1000, 2 * GIB)]);
            assert_eq!(nodes(&d), vec![expected], "{spec}");
        }
    }

    /// Builds `spec` and places one pod on `c`: the node index chosen.
    fn place_with(spec: &str, c: &mut ClusterState, pod: crate::pod::Pod) -> Vec<u32> {
        let spec = crate::SchedulerSpec::parse(spec).unwrap();
        let mut tetris = crate::Registry::builtin()
            .build(&spec, &crate::BuildContext::default())
            .unwrap();
        nodes(&run_pods(tetris.as_mut(), c, vec![pod]))
    }

    #[test]
    fn other_weight_weighs_ephemeral_storage_and_extended_resources() {
        // Two nodes of 4 CPU / 16 GiB / 100 units of ephemeral storage. n0 holds 3 CPU /
        // 9 GiB, n1 holds 1 CPU / 1 GiB / 90 storage. The pod asks 1 CPU / 1 GiB / 10
        // storage: demand (1/4, 1/16, 1/10). Terms (cpu, memory, storage):
        //   n0: (1/4)(1/4) = 0.0625, (1/16)(7/16) = 0.02734, (1/10)(1) = 0.1
        //   n1: (1/4)(3/4) = 0.1875, (1/16)(15/16) = 0.05859, (1/10)(1/10) = 0.01
        // Default: n0 0.190, n1 0.256 -> n1. otherWeight=2: n0 0.290, n1 0.266 -> n0.
        let storage = ResourceKind::EPHEMERAL_STORAGE;
        for (spec, expected) in [("tetris", 1), ("tetris:otherWeight=2", 0)] {
            let mut specs = vec![node(0, 4000, 16 * GIB), node(1, 4000, 16 * GIB)];
            for n in &mut specs {
                n.allocatable.set(storage, 100);
            }
            let mut c = cluster_of(specs);
            preload(&mut c, 0, 3000, 9 * GIB);
            let held = c.add_pod(pod_with(1000, GIB, &[(storage, 90)]));
            c.bind(held, NodeId(1)).unwrap();
            let chosen = place_with(spec, &mut c, pod_with(1000, GIB, &[(storage, 10)]));
            assert_eq!(chosen, vec![expected], "{spec}");
        }
    }

    #[test]
    fn gpu_weight_weighs_the_gpu_pool() {
        // Two nodes of 32 CPU / 64 GiB / 2 GPUs. n0 holds 1 CPU / 1 GiB / 1 GPU, n1 holds
        // 24 CPU / 1 GiB and no GPU. The pod asks 4 CPU / 4 GiB / 1 GPU: demand (1/8,
        // 1/16, 1/2). Terms (cpu, memory, GPU):
        //   n0: (1/8)(31/32) = 0.1211, (1/16)(63/64) = 0.0615, (1/2)(1/2) = 0.25
        //   n1: (1/8)(8/32)  = 0.0313, (1/16)(63/64) = 0.0615, (1/2)(1)   = 0.5
        // Default: n0 0.433, n1 0.593 -> n1. gpuWeight=0: n0 0.183, n1 0.093 -> n0.
        use crate::gpu::{GpuRequest, NodeGpus};
        use crate::pod::{ContainerResources, Pod, PodTemplate};
        let gpu_pod = |cpu: i64, memory: i64, gpu: GpuRequest| {
            let mut container = ContainerResources::default();
            container.set_request(ResourceKind::CPU, cpu);
            container.set_request(ResourceKind::MEMORY, memory);
            let template = PodTemplate {
                name: "g".into(),
                containers: vec![container],
                gpu,
                ..Default::default()
            };
            Pod::from_template(std::sync::Arc::new(template), 0)
        };
        for (spec, expected) in [("tetris", 1), ("tetris:gpuWeight=0", 0)] {
            let mut specs = vec![node(0, 32_000, 64 * GIB), node(1, 32_000, 64 * GIB)];
            for n in &mut specs {
                n.gpu = NodeGpus {
                    count: 2,
                    model: "V100".into(),
                };
            }
            let mut c = cluster_of(specs);
            let held = c.add_pod(gpu_pod(1000, GIB, GpuRequest::whole(1)));
            c.bind(held, NodeId(0)).unwrap();
            preload(&mut c, 1, 24_000, GIB);
            let chosen = place_with(spec, &mut c, gpu_pod(4000, 4 * GIB, GpuRequest::whole(1)));
            assert_eq!(chosen, vec![expected], "{spec}");
        }
    }

    /// The cache picks what the scan picks, pod after pod, while pods come and go and
    /// nodes are cordoned; and the integer order of scores is the float order.
    #[test]
    fn the_cache_picks_what_the_scan_picks() {
        for (a, b) in [
            (0.0, 0.5),
            (0.25, 0.25),
            (-1.5, 0.0),
            (1e-300, 2e-300),
            (3.0, -3.0),
        ] {
            assert_eq!(ordered(a).cmp(&ordered(b)), a.partial_cmp(&b).unwrap());
        }
        let sizes: Vec<(i64, i64)> = (0..120)
            .map(|i| ([2_000, 4_000, 8_000][i % 3], [4, 8, 16][i % 3] * GIB))
            .collect();
        let mut c = cluster(&sizes);
        let mut tetris = Tetris::default();
        let weights = Weights::default();
        let shapes = [(0, GIB / 2), (500, GIB), (1_000, 0), (2_000, 2 * GIB)];
        churn(&mut c, 8, 3_000, &shapes, |c, id| {
            let pod = c.pod(id).unwrap();
            let scanned = scan(c, &PodFilter::new(pod), &Demand::of(pod), &weights);
            (tetris.place(c, id), placement(c, pod, scanned))
        });
    }
}
