//! `fgd`: Fragmentation Gradient Descent for clusters whose pods share GPUs.
//!
//! Follows Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing Workloads with
//! Fragmentation Gradient Descent" (USENIX ATC 2023), with the definitions of its public
//! simulator (hkust-adsl/kubernetes-scheduler-simulator):
//!
//! - The target workload `M` is a set of task kinds `m` (CPU, GPUs per task, milli-GPU
//!   per GPU, accepted GPU models) with popularities `p_m`.
//! - The fragmentation of node `n` measured by task `m`, `F_n(m)`, is the free GPU (in
//!   milli-GPU) that `m` could not use there: all of the node's free GPU when `m` cannot
//!   run on `n` at all (too little CPU, a GPU model it does not accept, too few GPUs with
//!   room, or `m` asks for no GPU), and otherwise the free GPU of the GPUs whose free part
//!   is smaller than what `m` asks per GPU.
//! - The node's fragmentation is the expectation `F_n(M) = sum_m p_m F_n(m)`.
//! - A pod goes to the node, and the GPU on it, that increases `F_n(M)` the least (the
//!   steepest descent of the cluster's fragmentation). A share may go to any GPU with room;
//!   whole GPUs are the lowest-indexed free ones, as binding picks them by default.
//!
//! Scoring and ties, by default as the simulator does them: a placement's score is the
//! artifact's integer `int(100 * sigmoid(decrease of F in GPUs))` (`score=sigmoid`), so
//! nearby changes tie, and equal scores go to the node first in one random order of the
//! nodes drawn once per run (`nodeOrder=random`, [`crate::algorithms::node_order`]), then on
//! one node to the lowest GPU index. `score=exact` compares the change itself (popularities
//! as integer counts, fragmentation in integer milli-GPU), and `nodeOrder=index` sends ties
//! to the lowest node index, the behaviour before issue 11.
//!
//! Where `M` comes from, by the `workload` argument ([`Fgd::PARAMS`]):
//! - `workload=scenario` (the default): the GPU workload the host knows when it builds the
//!   scheduler ([`crate::BuildContext::gpu_workload`]; a trace replay hands over its whole
//!   trace, as the paper does). When the host knows none (an event simulation), the same as
//!   `cluster`.
//! - `workload=cluster`: the pods in the cluster (bound and pending), counted again
//!   whenever their number has doubled or halved since the last count.
//!
//! Either way the kinds are reduced as the paper's artifact runs the simulator
//! (typicalPodsConfig in scripts/generate_config_and_run.py: CPU-only pods included, no GPU
//! weighting): the most popular kinds, `kindsStep` at a time (default 1), until they cover
//! `popularityThreshold` percent of the tasks (default 95). (The simulator's code falls
//! back to ten at a time and 60% when the config leaves them unset:
//! `fgd:popularityThreshold=60,kindsStep=10`.)
//!
//! Cost: `F_n(M)` of the node as it is is cached per node and recomputed only when the
//! node's generation moves; a pod costs, per feasible node, one evaluation per distinct
//! free amount among the GPUs that can hold it, each `O(kinds x GPUs)`.

pub use crate::algorithms::node_order::NodeOrder;

use crate::algorithms::node_order::RunNodeOrder;
use crate::cluster::{ClusterState, GpuTask};
use crate::filters::{PodFilter, diagnose};
use crate::gpu::{GPU_MILLI, GpuRequest};
use crate::node::NodeId;
use crate::scheduler::{Cycle, Scheduler};
use crate::spec::{Args, Param, ParamKind, Value};

/// Share of the tasks the typical kinds must cover, by default. The simulator's code falls
/// back to 60% when unset, but every run of the paper's artifact
/// (scripts/generate_config_and_run.py, typicalPodsConfig) sets 95%.
pub const POPULARITY_PERCENT: u64 = 95;
/// Kinds are taken this many at a time until they cover the threshold, by default: 1 in
/// the paper's artifact runs (the code's fallback is 10).
pub const KINDS_STEP: usize = 1;

/// What `fgd` is built with: the workload it measures fragmentation against and how it
/// picks the typical kinds of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FgdArgs {
    /// The target workload `M` as task kinds with counts (only ratios matter); empty to
    /// learn it from the cluster's pods.
    pub workload: Vec<(GpuTask, u64)>,
    /// The typical kinds must cover this percentage of the tasks (1..=100).
    pub popularity_threshold: u64,
    /// Kinds are taken this many at a time until they do (at least 1).
    pub kinds_step: usize,
    /// How a placement's fragmentation change becomes a node score.
    pub score: Score,
    /// How nodes with equal scores are ordered.
    pub node_order: NodeOrder,
}

/// How `fgd` turns a placement's fragmentation change into a node score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Score {
    /// The artifact's `calculateGpuShareFragExtendScore`: `int(100 * sigmoid(decrease in
    /// GPUs))`, the decrease weighted by each kind's share of all tasks; nearby changes tie.
    #[default]
    Sigmoid,
    /// The change itself, compared exactly (integer milli-GPU x task counts): the paper's
    /// gradient without the artifact's rounding, so ties are rare.
    Exact,
}

impl Default for FgdArgs {
    /// Learn the workload from the cluster; the paper's artifact's cut (95%, one at a time).
    fn default() -> FgdArgs {
        FgdArgs {
            workload: Vec::new(),
            popularity_threshold: POPULARITY_PERCENT,
            kinds_step: KINDS_STEP,
            score: Score::default(),
            node_order: NodeOrder::default(),
        }
    }
}

/// One typical task kind with its popularity (a count; only ratios matter).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kind {
    cpu: i64,
    gpu: GpuRequest,
    weight: u64,
}

/// The `fgd` algorithm.
#[derive(Debug, Clone)]
pub struct Fgd {
    /// The typical task kinds `M`.
    kinds: Vec<Kind>,
    /// True when `kinds` come from the workload it was built with, and so never change;
    /// false when they are counted from the cluster's pods.
    fixed: bool,
    /// The typical kinds cover this percentage of the tasks.
    popularity_threshold: u64,
    /// Kinds are taken this many at a time.
    kinds_step: usize,
    /// Pods in the cluster when `kinds` were last counted from them.
    counted_pods: usize,
    /// The cluster the caches belong to ([`ClusterState::uid`]).
    cache_uid: u64,
    /// Per node: the generation `cache_frag` was computed at (0: never).
    cache_gen: Vec<u64>,
    /// Per node: `F_n(M)` in popularity-weighted milli-GPU.
    cache_frag: Vec<u64>,
    /// The free milli of each GPU of the node being scored; reused between nodes.
    frees: Vec<u32>,
    /// Counts of kinds while rebuilding `kinds`; reused.
    tally: Vec<(GpuTask, u64)>,
    /// Tasks in the workload `kinds` were cut from (all kinds, kept or not): the artifact
    /// divides each kind's count by it to get its popularity.
    total_tasks: u64,
    /// How a placement is scored.
    score: Score,
    /// Each node's rank among equal scores, one order per run.
    order: RunNodeOrder,
}

impl Default for Fgd {
    /// Learns the workload from the cluster, with the paper's artifact's cut.
    fn default() -> Fgd {
        Fgd::new(FgdArgs::default())
    }
}

impl Fgd {
    /// The name it is registered under.
    pub const NAME: &'static str = "fgd";

    /// Its arguments (see the module docs).
    pub const PARAMS: &'static [Param] = &[
        Param {
            name: "workload",
            kind: ParamKind::Choice(&["scenario", "cluster"]),
            default: Value::Choice("scenario"),
            doc: "what fragmentation is measured against: scenario (a gpuTrace's pods, else \
                  the cluster's) or cluster (the pods in the cluster)",
        },
        Param {
            name: "popularityThreshold",
            kind: ParamKind::Int { min: 1, max: 100 },
            default: Value::Int(POPULARITY_PERCENT as i64),
            doc: "percentage of the tasks the typical task kinds must cover",
        },
        Param {
            name: "kindsStep",
            kind: ParamKind::Int {
                min: 1,
                max: 1_000_000,
            },
            default: Value::Int(KINDS_STEP as i64),
            doc: "typical kinds are taken this many at a time, most popular first",
        },
        Param {
            name: "score",
            kind: ParamKind::Choice(&["sigmoid", "exact"]),
            default: Value::Choice("sigmoid"),
            doc: "sigmoid (the artifact's integer 0..100 score of the fragmentation decrease) \
                  or exact (the change itself, compared exactly)",
        },
        Param {
            name: "nodeOrder",
            kind: ParamKind::Choice(&["random", "index"]),
            default: Value::Choice("random"),
            doc: "equal scores go to the first node in one random order per run (random) or \
                  to the lowest node index (index)",
        },
    ];

    /// fgd built with `args`: its typical kinds are made now when `args.workload` is given.
    pub fn new(args: FgdArgs) -> Fgd {
        let mut fgd = Fgd {
            kinds: Vec::new(),
            fixed: !args.workload.is_empty(),
            popularity_threshold: args.popularity_threshold,
            kinds_step: args.kinds_step.max(1),
            counted_pods: 0,
            cache_uid: 0,
            cache_gen: Vec::new(),
            cache_frag: Vec::new(),
            frees: Vec::new(),
            tally: args.workload,
            total_tasks: 0,
            score: args.score,
            order: RunNodeOrder::new(args.node_order),
        };
        if fgd.fixed {
            fgd.rebuild_from_tally();
        }
        fgd
    }

    /// fgd with validated [`Self::PARAMS`] arguments; `expected` is the GPU workload the
    /// host knows ([`crate::BuildContext::gpu_workload`]), used for `workload=scenario`.
    pub fn from_args(args: &Args, expected: &[(GpuTask, u64)]) -> Fgd {
        let workload = match args.choice("workload") {
            Some("cluster") => Vec::new(),
            _ => expected.to_vec(),
        };
        let d = FgdArgs::default();
        Fgd::new(FgdArgs {
            workload,
            popularity_threshold: args
                .int("popularityThreshold")
                .map_or(d.popularity_threshold, |v| v.clamp(1, 100) as u64),
            kinds_step: args
                .int("kindsStep")
                .map_or(d.kinds_step, |v| v.max(1) as usize),
            score: match args.choice("score") {
                Some("exact") => Score::Exact,
                _ => Score::Sigmoid,
            },
            node_order: NodeOrder::from_choice(args.choice("nodeOrder")),
        })
    }

    /// Makes `kinds` current when they are counted from the cluster: again whenever the
    /// number of pods doubled or halved since the last count.
    fn refresh_kinds(&mut self, cluster: &ClusterState) {
        if self.fixed {
            return;
        }
        let n = cluster.pod_count();
        let stale = self.kinds.is_empty()
            || n >= 2 * self.counted_pods.max(1)
            || 2 * n <= self.counted_pods;
        if !stale || n == 0 {
            return;
        }
        self.counted_pods = n;
        self.tally.clear();
        for (_, pod) in cluster.pods() {
            self.tally.push((
                GpuTask {
                    cpu_milli: pod.requests.cpu(),
                    gpu: pod.template.gpu.clone(),
                },
                1,
            ));
        }
        self.rebuild_from_tally();
    }

    /// Merges equal kinds in `tally`, keeps the most popular ones as the simulator does
    /// (`kinds_step` at a time until they cover `popularity_threshold` percent of the
    /// tasks), and drops every cached fragmentation (it was measured against the old kinds).
    fn rebuild_from_tally(&mut self) {
        let (percent, step) = (self.popularity_threshold, self.kinds_step);
        self.tally.sort();
        self.tally.dedup_by(|b, a| {
            let same = a.0 == b.0;
            if same {
                a.1 += b.1;
            }
            same
        });
        // Most popular first; equal counts in kind order, so the cut is deterministic.
        self.tally
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let total: u64 = self.tally.iter().map(|t| t.1).sum();
        self.total_tasks = total;
        let (mut taken, mut covered) = (0, 0u64);
        while covered * 100 < percent * total && taken < self.tally.len() {
            let end = (taken + step).min(self.tally.len());
            covered += self.tally[taken..end].iter().map(|t| t.1).sum::<u64>();
            taken = end;
        }
        self.kinds.clear();
        self.kinds
            .extend(self.tally[..taken].iter().map(|(task, weight)| Kind {
                cpu: task.cpu_milli,
                gpu: task.gpu.clone(),
                weight: *weight,
            }));
        self.cache_gen.clear();
    }

    /// `F_n(M)` of node `n` as it is now, from the cache when its generation has not moved.
    fn current_frag(&mut self, cluster: &ClusterState, n: usize) -> u64 {
        let generation = cluster.generations()[n];
        if self.cache_gen[n] != generation {
            self.load_frees(cluster, n);
            let cpu = cluster.rows()[n].free.cpu();
            let model = &cluster.nodes()[n].spec.gpu.model;
            self.cache_frag[n] = fragmentation(&self.kinds, cpu, &self.frees, model);
            self.cache_gen[n] = generation;
        }
        self.cache_frag[n]
    }

    /// Loads node `n`'s free milli per GPU into `frees`.
    fn load_frees(&mut self, cluster: &ClusterState, n: usize) {
        self.frees.clear();
        if let Some(books) = cluster.gpus() {
            self.frees.extend(
                books
                    .used(NodeId(n as u32))
                    .iter()
                    .map(|&u| GPU_MILLI - u32::from(u)),
            );
        }
    }

    /// A placement's score from `F_n(M)` before and after it, higher is better: the
    /// artifact's `int64(sigmoid(decrease / 1000) * 100)`, the decrease in GPUs weighted by
    /// each kind's share of all the workload's tasks, or the negated exact change.
    fn placement_score(&self, before: u64, after: u64) -> i64 {
        match self.score {
            Score::Exact => before as i64 - after as i64,
            Score::Sigmoid => {
                let tasks = self.total_tasks.max(1) as f64;
                let decrease = (before as f64 - after as f64) / tasks / f64::from(GPU_MILLI);
                (100.0 / (1.0 + (-decrease).exp())) as i64
            }
        }
    }

    /// The best node and GPU choice for a pod, as (node, GPU mask); `None` if no node fits.
    /// The highest score wins; equal scores go to the node first in the tie order, and on
    /// one node to the lowest GPU index (the artifact keeps the first GPU of the best score).
    fn choose(&mut self, cluster: &ClusterState, filter: &PodFilter<'_>) -> Option<(usize, u64)> {
        let pod = filter.pod();
        let req = &pod.template.gpu;
        let cpu = pod.requests.cpu();
        // (score, tie rank, node, mask)
        let mut best: Option<(i64, u64, usize, u64)> = None;
        for n in 0..cluster.rows().len() {
            if !filter.feasible(cluster, n) {
                continue;
            }
            let before = self.current_frag(cluster, n);
            let rank = self.order.rank(n);
            self.load_frees(cluster, n);
            let cpu_after = cluster.rows()[n].free.cpu() - cpu;
            let model = &cluster.nodes()[n].spec.gpu.model;
            let mut consider = |score: i64, mask: u64| {
                if best.is_none_or(|(s, r, _, _)| score > s || (score == s && rank < r)) {
                    best = Some((score, rank, n, mask));
                }
            };
            if req.is_share() {
                // GPUs with the same free amount leave the node in the same state, so
                // only the first GPU of each free amount is tried.
                for g in 0..self.frees.len() {
                    let free = self.frees[g];
                    if free < req.milli || self.frees[..g].contains(&free) {
                        continue;
                    }
                    self.frees[g] = free - req.milli;
                    let after = fragmentation(&self.kinds, cpu_after, &self.frees, model);
                    self.frees[g] = free;
                    consider(self.placement_score(before, after), 1 << g);
                }
            } else if req.is_some() {
                let Some(mask) = cluster
                    .gpus()
                    .and_then(|b| b.default_choice(NodeId(n as u32), req))
                else {
                    continue;
                };
                for (g, free) in self.frees.iter_mut().enumerate() {
                    if mask & (1 << g) != 0 {
                        *free = 0;
                    }
                }
                let after = fragmentation(&self.kinds, cpu_after, &self.frees, model);
                consider(self.placement_score(before, after), mask);
            } else {
                let after = fragmentation(&self.kinds, cpu_after, &self.frees, model);
                consider(self.placement_score(before, after), 0);
            }
        }
        best.map(|(_, _, n, mask)| (n, mask))
    }
}

/// `F_n(M)`: the popularity-weighted free milli-GPU of a node (with `cpu_free` CPU, GPUs
/// with `frees` milli free, of GPU `model`) that the task kinds could not use.
fn fragmentation(kinds: &[Kind], cpu_free: i64, frees: &[u32], model: &str) -> u64 {
    let total: u32 = frees.iter().sum();
    if total == 0 {
        return 0;
    }
    let mut frag = 0u64;
    for kind in kinds {
        let g = &kind.gpu;
        let lost = if !g.is_some() || cpu_free < kind.cpu || !g.accepts_model(model) {
            total
        } else {
            let (mut hosts, mut small) = (0u32, 0u32);
            for &f in frees {
                if f >= g.milli {
                    hosts += 1;
                } else {
                    small += f;
                }
            }
            if hosts >= g.count { small } else { total }
        };
        frag += kind.weight * u64::from(lost);
    }
    frag
}

impl Scheduler for Fgd {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let nodes = cycle.cluster().rows().len();
        if self.cache_uid != cycle.cluster().uid() {
            // Another cluster: nothing learned or cached about this one applies (kinds it
            // was built with do).
            self.cache_uid = cycle.cluster().uid();
            self.cache_gen.clear();
            if !self.fixed {
                self.kinds.clear();
            }
        }
        self.order.refresh(cycle);
        self.refresh_kinds(cycle.cluster());
        // Generations start at 1, so 0 marks an entry never computed.
        self.cache_gen.resize(nodes, 0);
        self.cache_frag.resize(nodes, 0);
        for &pod_id in cycle.pending() {
            let cluster = cycle.cluster();
            let Some(pod) = cluster.pod(pod_id) else {
                continue;
            };
            let filter = PodFilter::new(pod);
            let gpu = pod.template.gpu.is_some();
            match self.choose(cluster, &filter) {
                Some((n, mask)) => {
                    let gpus = gpu.then_some(mask);
                    cycle.bind_or_unschedulable(pod_id, NodeId(n as u32), gpus);
                }
                None => {
                    let diagnosis = diagnose(cluster, pod);
                    cycle.unschedulable(pod_id, diagnosis);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand::SeedableRng;

    use super::*;
    use crate::gpu::NodeGpus;
    use crate::node::NodeSpec;
    use crate::pod::{Pod, PodTemplate};
    use crate::resources::{ResourceKind, Resources};
    use crate::scheduler::{Decision, SchedulerRng};

    fn node(name: &str, gpus: u32) -> NodeSpec {
        let mut alloc = Resources::cpu_mem(32_000, 64 << 30);
        alloc.set(ResourceKind::PODS, 110);
        NodeSpec {
            name: name.into(),
            allocatable: alloc,
            gpu: NodeGpus {
                count: gpus,
                model: "V100".into(),
            },
            ..Default::default()
        }
    }

    fn pod(gpu: GpuRequest) -> Pod {
        let t = Arc::new(PodTemplate {
            name: "p".into(),
            gpu,
            ..Default::default()
        });
        let mut r = Resources::cpu_mem(1000, 1 << 30);
        r.set(ResourceKind::PODS, 1);
        Pod::with_requests(t, 0, r, 1000, 1 << 30)
    }

    fn task(gpu: GpuRequest) -> GpuTask {
        GpuTask {
            cpu_milli: 1000,
            gpu,
        }
    }

    /// n0 has one GPU with 200 milli taken (800 free); n1 has two free GPUs. A pod asks
    /// for 400 milli. Best-fit (least free GPU left) and first-fit both take n0.
    ///
    /// Workload 3 x (0.5 GPU) : 1 x (1 GPU), so p = 3/4, 1/4 (milli-GPU below):
    /// - n0 now: the 0.5 task fits and no GPU is below 500, F = 0; the 1-GPU task finds no
    ///   whole GPU, F = 800. F_n0 = 3/4*0 + 1/4*800 = 200.
    ///   After (400 free): 0.5 cannot run, F = 400; 1 GPU cannot, F = 400. F = 400.
    ///   Increase: +200.
    /// - n1 now: both kinds fit, no GPU below their ask: F_n1 = 0. After (600, 1000): the
    ///   0.5 task loses nothing; the 1-GPU task loses the 600 of GPU 0. F = 1/4*600 = 150.
    ///   Increase: +150 (GPU 1 gives the same state, so GPU 0 is kept).
    ///
    /// fgd takes n1, GPU 0. With a 1 : 1 workload instead, n0 goes from 1/2*800 = 400 to
    /// 1/2*400 + 1/2*400 = 400 (+0) and n1 from 0 to 1/2*600 = 300 (+300): fgd takes n0.
    #[test]
    fn fgd_avoids_the_node_best_fit_would_fragment() {
        for (shares, wholes, expected, mask) in [(3, 1, 1, 0b01), (1, 1, 0, 0b1)] {
            let mut c = ClusterState::default();
            c.add_node(node("n0", 1));
            c.add_node(node("n1", 2));
            let first = c.add_pod(pod(GpuRequest::share(200)));
            c.bind(first, NodeId(0)).unwrap();
            let mut fgd = Fgd::new(FgdArgs {
                workload: vec![
                    (task(GpuRequest::share(500)), shares),
                    (task(GpuRequest::whole(1)), wholes),
                ],
                ..FgdArgs::default()
            });
            let p = c.add_pod(pod(GpuRequest::share(400)));
            let (mut rng, mut out) = (SchedulerRng::seed_from_u64(1), Vec::new());
            fgd.schedule(&mut Cycle::new(&mut c, &[p], &mut rng, &mut out));
            assert_eq!(
                out,
                vec![Decision::Bound {
                    pod: p,
                    node: NodeId(expected)
                }],
                "workload {shares}:{wholes}"
            );
            assert_eq!(c.pod(p).unwrap().gpus(), mask);
            c.check_invariants().unwrap();
        }
    }

    /// Without a target workload fgd counts the pods in the cluster. n0 holds a 0.2 share
    /// (800 free), n1 is empty, n2 is full (two 0.5 shares on GPU 0, one whole GPU on GPU 1).
    /// With the pending 0.4 pod, the kinds are 0.5 x2, 0.2 x1, 0.4 x1, 1 GPU x1. For the 0.4
    /// pod (milli-GPU):
    /// - n0: now only the 1-GPU kind loses its 800: F = 800. After (400 free) the 0.5 kind
    ///   loses 400 twice, the 1-GPU kind 400, the others nothing: F = 1200. Increase +400.
    /// - n1: now 0. After (600, 1000) only the 1-GPU kind loses 600: +600.
    /// - n2 has no room. fgd takes n0, where the 3 : 1 workload of the test above took n1.
    #[test]
    fn fgd_learns_the_workload_from_the_cluster_without_one() {
        let mut c = ClusterState::default();
        c.add_node(node("n0", 1));
        c.add_node(node("n1", 2));
        c.add_node(node("n2", 2));
        let first = c.add_pod(pod(GpuRequest::share(200)));
        c.bind(first, NodeId(0)).unwrap();
        for gpu in [
            GpuRequest::share(500),
            GpuRequest::share(500),
            GpuRequest::whole(1),
        ] {
            let p = c.add_pod(pod(gpu));
            c.bind(p, NodeId(2)).unwrap();
        }
        assert_eq!(c.gpus().unwrap().used(NodeId(2)), [1000, 1000]);
        let p = c.add_pod(pod(GpuRequest::share(400)));
        let (mut rng, mut out) = (SchedulerRng::seed_from_u64(1), Vec::new());
        let mut fgd = Fgd::default();
        fgd.schedule(&mut Cycle::new(&mut c, &[p], &mut rng, &mut out));
        assert_eq!(
            out,
            vec![Decision::Bound {
                pod: p,
                node: NodeId(0)
            }]
        );
        assert_eq!(fgd.kinds.len(), 4);
        assert_eq!(
            fgd.kinds[0].weight, 2,
            "the 0.5 share is the most popular kind"
        );
        c.check_invariants().unwrap();
    }

    #[test]
    fn fragmentation_by_kind() {
        let kinds = [
            Kind {
                cpu: 4000,
                gpu: GpuRequest::share(500),
                weight: 1,
            },
            Kind {
                cpu: 1000,
                gpu: GpuRequest::whole(2),
                weight: 10,
            },
            Kind {
                cpu: 1000,
                gpu: GpuRequest::default(),
                weight: 100,
            },
        ];
        // 0.5 GPU: fits (700 >= 500), loses the 300-free GPU: 300.
        // 2 GPUs: only one whole GPU: loses all 2000. CPU-only: loses all 2000.
        assert_eq!(
            fragmentation(&kinds, 4000, &[300, 1000, 700], ""),
            300 + 10 * 2000 + 100 * 2000
        );
        // Too little CPU for the share task: it loses everything too.
        assert_eq!(
            fragmentation(&kinds, 3999, &[300, 1000, 700], ""),
            2000 + 10 * 2000 + 100 * 2000
        );
        assert_eq!(fragmentation(&kinds, 4000, &[0, 0], ""), 0);
    }

    #[test]
    fn popular_kinds_cover_ninety_five_percent_one_at_a_time() {
        let mut f = Fgd::default();
        // 25 kinds: one with 100 tasks, 24 with 1 each (124 tasks). 95% of 124 is 117.8:
        // one kind at a time, 100 + 18 = 118 is reached with the 19th kind. The code's
        // fallback (ten at a time to 60%) stops after the first ten (109 tasks).
        f.tally.push((task(GpuRequest::share(100)), 100));
        for i in 0..24 {
            f.tally.push((task(GpuRequest::share(200 + i)), 1));
        }
        let tally = f.tally.clone();
        f.rebuild_from_tally();
        assert_eq!(f.kinds.len(), 19);
        assert_eq!(f.kinds[0].weight, 100);
        assert_eq!(f.kinds[1].gpu, GpuRequest::share(200), "ties in kind order");
        f.tally = tally;
        (f.popularity_threshold, f.kinds_step) = (60, 10);
        f.rebuild_from_tally();
        assert_eq!(f.kinds.len(), 10);
    }

    /// The cut decides a placement. n0 has one GPU with 200 milli taken (800 free), n1 two
    /// free GPUs; a 0.4 share arrives. The workload: 180 CPU-only tasks, 10 tasks of 0.5
    /// GPU, and ten kinds of one whole GPU (CPU 1000..1009 milli) with 1 task each: 200.
    ///
    /// The artifact's cut (95%, one at a time) keeps CPU-only (180, 90%) and 0.5 (190, 95%).
    /// In weighted milli-GPU:
    /// - n0: now 180*800 + 0 = 144000; after (400 free) 180*400 + 10*400 = 76000: -68000.
    /// - n1: now 180*2000 = 360000; after (600, 1000) 180*1600 + 0 = 288000: -72000.
    ///
    /// fgd takes n1 (GPU 0). The fallback cut (60%, ten at a time) also keeps eight of the
    /// whole-GPU kinds, which add 8*800 now and 8*400 after on n0 (-71200 in all), and 0 now
    /// and 8*600 after on n1 (-67200 in all): it would take n0.
    #[test]
    fn fgd_uses_the_artifacts_kind_cut() {
        let mut expected = Vec::new();
        for cut in [None, Some((60, 10))] {
            let mut c = ClusterState::default();
            c.add_node(node("n0", 1));
            c.add_node(node("n1", 2));
            let first = c.add_pod(pod(GpuRequest::share(200)));
            c.bind(first, NodeId(0)).unwrap();
            let mut workload = vec![
                (task(GpuRequest::default()), 180),
                (task(GpuRequest::share(500)), 10),
            ];
            for i in 0..10 {
                let whole = GpuTask {
                    cpu_milli: 1000 + i,
                    gpu: GpuRequest::whole(1),
                };
                workload.push((whole, 1));
            }
            // Exact scores, index ties: the cut alone decides (the sigmoid scores both
            // nodes 58; see the test below).
            let mut args = FgdArgs {
                workload,
                score: Score::Exact,
                node_order: NodeOrder::Index,
                ..FgdArgs::default()
            };
            if let Some((percent, step)) = cut {
                (args.popularity_threshold, args.kinds_step) = (percent, step);
            }
            let mut fgd = Fgd::new(args);
            if cut.is_some() {
                assert_eq!(fgd.kinds.len(), 10);
            }
            let p = c.add_pod(pod(GpuRequest::share(400)));
            let (mut rng, mut out) = (SchedulerRng::seed_from_u64(1), Vec::new());
            fgd.schedule(&mut Cycle::new(&mut c, &[p], &mut rng, &mut out));
            if cut.is_none() {
                assert_eq!(fgd.kinds.len(), 2);
            }
            assert_eq!(out.len(), 1);
            let Decision::Bound { pod, node } = out[0].clone() else {
                panic!("not bound: {out:?}");
            };
            assert_eq!(pod, p);
            expected.push((node, c.pod(p).unwrap().gpus()));
            c.check_invariants().unwrap();
        }
        assert_eq!(expected, vec![(NodeId(1), 0b01), (NodeId(0), 0b1)]);
    }

    /// `workload` chooses what fgd measures against (exact scores, index ties). The cluster of the first test above
    /// (n0: one GPU with 800 milli free; n1: two free GPUs) and a 0.4 share arriving:
    /// - `fgd` with the host's 3 : 1 workload of 0.5 shares and whole GPUs takes n1 (worked
    ///   out above);
    /// - `fgd:workload=cluster` ignores it and counts the cluster's pods: a 0.2 share (bound)
    ///   and the 0.4 share (pending), one each. On n0 (800 free, 400 after) and on n1 (1000
    ///   and 1000, 600 and 1000 after) both kinds fit on every GPU with room before and after,
    ///   so F stays 0 everywhere: a tie, which goes to the lowest index, n0;
    /// - `fgd` on a host that knows no workload does the same.
    #[test]
    fn the_workload_argument_chooses_what_fgd_measures_against() {
        let expected = [
            (task(GpuRequest::share(500)), 3),
            (task(GpuRequest::whole(1)), 1),
        ];
        let registry = crate::Registry::builtin();
        for (spec, workload, chosen) in [
            ("fgd:score=exact,nodeOrder=index", &expected[..], 1),
            (
                "fgd:workload=scenario,score=exact,nodeOrder=index",
                &expected[..],
                1,
            ),
            (
                "fgd:workload=cluster,score=exact,nodeOrder=index",
                &expected[..],
                0,
            ),
            ("fgd:score=exact,nodeOrder=index", &[][..], 0),
        ] {
            let mut c = ClusterState::default();
            c.add_node(node("n0", 1));
            c.add_node(node("n1", 2));
            let first = c.add_pod(pod(GpuRequest::share(200)));
            c.bind(first, NodeId(0)).unwrap();
            let p = c.add_pod(pod(GpuRequest::share(400)));
            let ctx = crate::BuildContext {
                gpu_workload: workload,
                ..Default::default()
            };
            let spec = crate::SchedulerSpec::parse(spec).unwrap();
            let mut fgd = registry.build(&spec, &ctx).unwrap();
            let (mut rng, mut out) = (SchedulerRng::seed_from_u64(1), Vec::new());
            fgd.schedule(&mut Cycle::new(&mut c, &[p], &mut rng, &mut out));
            assert_eq!(
                out,
                vec![Decision::Bound {
                    pod: p,
                    node: NodeId(chosen)
                }],
                "{spec} with {} kinds from the host",
                workload.len()
            );
        }
    }

    /// The cut's arguments reach the kinds: the 25-kind tally of the test above, handed in
    /// as the workload.
    #[test]
    fn popularity_arguments_set_the_cut() {
        let mut workload = vec![(task(GpuRequest::share(100)), 100)];
        for i in 0..24 {
            workload.push((task(GpuRequest::share(200 + i)), 1));
        }
        let registry = crate::Registry::builtin();
        let ctx = crate::BuildContext {
            gpu_workload: &workload,
            ..Default::default()
        };
        for (spec, kinds) in [
            ("fgd", 19),
            ("fgd:popularityThreshold=60,kindsStep=10", 10),
            ("fgd:popularityThreshold=80", 1),
            ("fgd:kindsStep=4", 20),
        ] {
            let spec = crate::SchedulerSpec::parse(spec).unwrap();
            let args = Args::validate(&spec.name, Fgd::PARAMS, &spec.args).unwrap();
            assert_eq!(
                Fgd::from_args(&args, &workload).kinds.len(),
                kinds,
                "{spec}"
            );
            registry.build(&spec, &ctx).unwrap();
        }
    }

    /// The artifact's score rounds nearby changes together. The kind-cut test's cluster and
    /// workload (200 tasks; the 95% cut keeps CPU-only x180 and 0.5 GPU x10): a 0.4 share
    /// decreases F by 68000 on n0 and 72000 on n1 (count-weighted milli-GPU). Exact takes
    /// n1. The sigmoid: 68000 / 200 tasks / 1000 = 0.34 GPU, int(100 * sigmoid(0.34)) =
    /// int(58.42) = 58; 72000 -> 0.36, int(58.90) = 58. A tie: index order takes n0.
    #[test]
    fn sigmoid_scores_tie_where_exact_scores_differ() {
        for (score, expected) in [(Score::Exact, 1), (Score::Sigmoid, 0)] {
            let mut c = ClusterState::default();
            c.add_node(node("n0", 1));
            c.add_node(node("n1", 2));
            let first = c.add_pod(pod(GpuRequest::share(200)));
            c.bind(first, NodeId(0)).unwrap();
            let mut workload = vec![
                (task(GpuRequest::default()), 180),
                (task(GpuRequest::share(500)), 10),
            ];
            for i in 0..10 {
                let whole = GpuTask {
                    cpu_milli: 1000 + i,
                    gpu: GpuRequest::whole(1),
                };
                workload.push((whole, 1));
            }
            let mut fgd = Fgd::new(FgdArgs {
                workload,
                score,
                node_order: NodeOrder::Index,
                ..FgdArgs::default()
            });
            if score == Score::Sigmoid {
                assert_eq!(fgd.placement_score(144000, 76000), 58);
                assert_eq!(fgd.placement_score(360000, 288000), 58);
                assert_eq!(fgd.placement_score(0, 0), 50);
            }
            let p = c.add_pod(pod(GpuRequest::share(400)));
            let (mut rng, mut out) = (SchedulerRng::seed_from_u64(1), Vec::new());
            fgd.schedule(&mut Cycle::new(&mut c, &[p], &mut rng, &mut out));
            assert_eq!(
                out,
                vec![Decision::Bound {
                    pod: p,
                    node: NodeId(expected)
                }],
                "{score:?}"
            );
        }
    }

    /// Ties follow one node order per run, not a fresh draw per pod. Four empty nodes of 8
    /// GPUs and a workload of one whole-GPU kind: a 1-GPU pod leaves F at 0 on every node
    /// (score 50 everywhere), so all eight pods of a batch tie on every node and go, in a
    /// fixed order, to the same node until it is full. Which node depends on the seed (the
    /// first node in that run's order); with `nodeOrder=index` it is always n0.
    #[test]
    fn ties_follow_one_random_node_order_per_run() {
        let mut firsts = Vec::new();
        for (order, seed) in (1..=8)
            .map(|s| (NodeOrder::Random, s))
            .chain([(NodeOrder::Index, 1)])
        {
            let mut c = ClusterState::default();
            for i in 0..4 {
                c.add_node(node(&format!("n{i}"), 8));
            }
            let mut fgd = Fgd::new(FgdArgs {
                workload: vec![(task(GpuRequest::whole(1)), 1)],
                node_order: order,
                ..FgdArgs::default()
            });
            let pods: Vec<_> = (0..8)
                .map(|_| c.add_pod(pod(GpuRequest::whole(1))))
                .collect();
            let (mut rng, mut out) = (SchedulerRng::seed_from_u64(seed), Vec::new());
            fgd.schedule(&mut Cycle::new(&mut c, &pods, &mut rng, &mut out));
            let nodes: Vec<NodeId> = out
                .iter()
                .map(|d| match d {
                    Decision::Bound { node, .. } => *node,
                    other => panic!("not bound: {other:?}"),
                })
                .collect();
            assert_eq!(nodes, vec![nodes[0]; 8], "{order:?} seed {seed}");
            c.check_invariants().unwrap();
            if order == NodeOrder::Index {
                assert_eq!(nodes[0], NodeId(0));
            } else {
                firsts.push(nodes[0]);
            }
        }
        firsts.sort();
        firsts.dedup();
        assert!(
            firsts.len() >= 2,
            "the order depends on the seed: {firsts:?}"
        );
    }
}
