//! NodeResourcesFit: a node fits a pod when its free resources cover the pod's effective
//! request and it has a pod slot left; feasible nodes are scored by how much of the
//! configured resources would be in use after placing the pod (LeastAllocated,
//! MostAllocated or RequestedToCapacityRatio).
//!
//! Follows kube-scheduler v1.35 `pkg/scheduler/framework/plugins/noderesources/fit.go`
//! (PreFilter, Filter, `fitsRequest`), `least_allocated.go`, `most_allocated.go`,
//! `requested_to_capacity_ratio.go` and `resource_allocation.go` (shared here through
//! [`super::resource_allocation`]):
//!
//! - Filter checks the pod slot first (`len(pods) + 1 > allowedPodNumber`: "Too many
//!   pods", whatever the pod requests), then each resource the pod requests (CPU, memory,
//!   ephemeral storage, extended resources in slot order), one `Insufficient <name>`
//!   reason per resource short. The code is Unschedulable, or UnschedulableAndUnresolvable
//!   when the pod requests more of some resource than the node's whole allocatable, since
//!   preemption cannot help there (kubernetes/kubernetes#131345, in v1.35).
//! - Scores count CPU and memory with kube's non-zero defaults on both sides (the node's
//!   `NonZeroRequested` plus the pod's request with 100m / 200 MiB for unset container
//!   requests), other resources as requested; see [`super::resource_allocation`] for
//!   which resources a node is scored on. Scores are already in `0..=100`, so there is no
//!   NormalizeScore, as upstream.
//!
//! Not modelled: restartable (sidecar) init containers, pod-level resources and
//! DRA-backed extended resources, which schedlab's pods do not have.

use super::resource_allocation::{
    ArgsError, Counting, ResolvedResource, ResourceSpec, ShapePoint, broken_linear,
    least_requested_score_wide, most_requested_score, node_amounts, pod_request, resolve,
    resolve_one, utilization_percent,
};
use crate::algorithms::least_allocated::least_allocated_score;
use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Code, MAX_NODE_SCORE, Plugin, Reasons, ShapeScore, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::reason::Reason;
use crate::resources::{FIRST_EXTENDED, NUM_RESOURCES, ResourceKind, Resources};

/// kube-scheduler's `MaxCustomPriorityScore`: RequestedToCapacityRatio shape scores are
/// given on `0..=10` and scaled by `MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE`.
pub const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;

/// How scores are computed from the per-resource utilization (`ScoringStrategyType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScoringStrategyType {
    /// Prefer nodes with the most free resources: per resource
    /// `(capacity - requested) * 100 / capacity`, weighted average, truncated.
    LeastAllocated,
    /// Prefer the fullest nodes (bin packing): per resource `requested * 100 / capacity`
    /// with requests above capacity counted as full, weighted average, truncated.
    MostAllocated,
    /// Score each resource's utilization (`requested * 100 / capacity`, 100 when over
    /// capacity) through a broken-linear function, then take the weighted average of the
    /// positive scores, rounded.
    RequestedToCapacityRatio {
        /// The function's points: utilization `0..=100` strictly increasing, score
        /// `0..=10` (upstream's `UtilizationShapePoint`, scaled by 10 to `0..=100`).
        shape: Vec<ShapePoint>,
    },
}

/// NodeResourcesFit's `scoringStrategy`: a strategy and the resources it weighs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoringStrategy {
    /// The strategy.
    pub strategy_type: ScoringStrategyType,
    /// The resources scored, with weights in `1..=100`.
    pub resources: Vec<ResourceSpec>,
}

impl Default for ScoringStrategy {
    /// kube-scheduler's default: LeastAllocated over `cpu` and `memory`, weight 1 each.
    fn default() -> ScoringStrategy {
        ScoringStrategy::least_allocated(ResourceSpec::defaults())
    }
}

impl ScoringStrategy {
    /// LeastAllocated over these resources.
    pub fn least_allocated(resources: Vec<ResourceSpec>) -> ScoringStrategy {
        ScoringStrategy {
            strategy_type: ScoringStrategyType::LeastAllocated,
            resources,
        }
    }

    /// MostAllocated over these resources.
    pub fn most_allocated(resources: Vec<ResourceSpec>) -> ScoringStrategy {
        ScoringStrategy {
            strategy_type: ScoringStrategyType::MostAllocated,
            resources,
        }
    }

    /// RequestedToCapacityRatio over these resources with this shape (scores `0..=10`).
    pub fn requested_to_capacity_ratio(
        resources: Vec<ResourceSpec>,
        shape: Vec<ShapePoint>,
    ) -> ScoringStrategy {
        ScoringStrategy {
            strategy_type: ScoringStrategyType::RequestedToCapacityRatio { shape },
            resources,
        }
    }

    /// Checks the strategy as upstream validates `NodeResourcesFitArgs`: weights in
    /// `1..=100`, and for RequestedToCapacityRatio a non-empty shape with strictly
    /// increasing utilizations in `0..=100` and scores in `0..=10`. An empty resource list
    /// is refused too (upstream accepts it and then fails every Score).
    pub fn validate(&self) -> Result<(), ArgsError> {
        if self.resources.is_empty() {
            return Err(ArgsError::NoResources);
        }
        if let Some(r) = self
            .resources
            .iter()
            .find(|r| !(1..=MAX_NODE_SCORE).contains(&r.weight))
        {
            return Err(ArgsError::BadWeight {
                name: r.name.to_string(),
                weight: r.weight,
                allowed: "(0, 100]",
            });
        }
        if let ScoringStrategyType::RequestedToCapacityRatio { shape } = &self.strategy_type {
            if shape.is_empty() {
                return Err(ArgsError::EmptyShape);
            }
            if let Some(index) =
                (1..shape.len()).find(|&i| shape[i - 1].utilization >= shape[i].utilization)
            {
                return Err(ArgsError::UnsortedShape { index });
            }
            for (index, p) in shape.iter().enumerate() {
                if !(0..=100).contains(&p.utilization) {
                    return Err(ArgsError::ShapeUtilization {
                        index,
                        value: p.utilization,
                    });
                }
                if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&p.score) {
                    return Err(ArgsError::ShapeScore {
                        index,
                        value: p.score,
                    });
                }
            }
        }
        Ok(())
    }

    /// True for LeastAllocated over exactly `cpu` and `memory` with equal weights: the
    /// weighted average is then the plain average, which
    /// [`least_allocated_score`] computes from the dense node row alone.
    fn is_default_least_allocated(&self) -> bool {
        let [a, b] = self.resources.as_slice() else {
            return false;
        };
        self.strategy_type == ScoringStrategyType::LeastAllocated
            && a.weight == b.weight
            && ((a.name == "cpu" && b.name == "memory") || (a.name == "memory" && b.name == "cpu"))
    }
}

/// The NodeResourcesFit plugin.
#[derive(Debug, Clone)]
pub struct NodeResourcesFit {
    strategy: ScoringStrategy,
    /// The shape with scores scaled to `0..=MAX_NODE_SCORE` (RequestedToCapacityRatio).
    scaled_shape: Vec<ShapePoint>,
    /// Scoring is the default LeastAllocated: take the allocation-free row path.
    default_scoring: bool,
    /// `ignoredResources`: extended resources Filter does not check.
    ignored_resources: Vec<String>,
    /// `ignoredResourceGroups`: extended-resource domains (`example.com`) Filter does not
    /// check.
    ignored_resource_groups: Vec<String>,
    /// All ones except in the slots of ignored extended resources, for the cluster
    /// `checked_for` names.
    checked: Resources,
    checked_for: u64,
    /// PreFilter's pod request, its pod slot set to 1.
    request: Resources,
    /// All ones in the slots Filter compares (requested and not ignored), zero elsewhere.
    mask: Resources,
    /// The scored resources resolved to slots of the cluster `resolved_for` (0: none).
    resolved: Vec<ResolvedResource>,
    resolved_for: u64,
}

impl Default for NodeResourcesFit {
    /// With kube-scheduler's default scoring strategy.
    fn default() -> NodeResourcesFit {
        NodeResourcesFit::new(ScoringStrategy::default())
    }
}

impl NodeResourcesFit {
    /// Its name.
    pub const NAME: &'static str = "NodeResourcesFit";
    /// Where it runs.
    pub const POINTS: Points = Points::ALL;
    /// Reason for too little CPU.
    pub const REASON_CPU: &'static str = "Insufficient cpu";
    /// Reason for too little memory.
    pub const REASON_MEMORY: &'static str = "Insufficient memory";
    /// Reason for too little ephemeral storage.
    pub const REASON_EPHEMERAL_STORAGE: &'static str = "Insufficient ephemeral-storage";

    /// With this scoring strategy.
    ///
    /// # Panics
    ///
    /// If the strategy is invalid (see [`ScoringStrategy::validate`]); use
    /// [`NodeResourcesFit::try_new`] for configurations read from users.
    pub fn new(strategy: ScoringStrategy) -> NodeResourcesFit {
        match NodeResourcesFit::try_new(strategy) {
            Ok(p) => p,
            Err(e) => panic!("invalid NodeResourcesFit scoring strategy: {e}"),
        }
    }

    /// With this scoring strategy, if it is valid.
    pub fn try_new(strategy: ScoringStrategy) -> Result<NodeResourcesFit, ArgsError> {
        strategy.validate()?;
        let scaled_shape = match &strategy.strategy_type {
            ScoringStrategyType::RequestedToCapacityRatio { shape } => shape
                .iter()
                .map(|p| ShapePoint {
                    utilization: p.utilization,
                    score: p.score * (MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE),
                })
                .collect(),
            _ => Vec::new(),
        };
        Ok(NodeResourcesFit {
            default_scoring: strategy.is_default_least_allocated(),
            strategy,
            scaled_shape,
            ignored_resources: Vec::new(),
            ignored_resource_groups: Vec::new(),
            checked: Resources([-1; NUM_RESOURCES]),
            checked_for: 0,
            request: Resources::ZERO,
            mask: Resources::ZERO,
            resolved: Vec::new(),
            resolved_for: 0,
        })
    }

    /// Filter skips these extended resources (`ignoredResources`) and every extended
    /// resource in these domains (`ignoredResourceGroups`, e.g. `example.com`). Native
    /// resources (`cpu`, `kubernetes.io/...`) are always checked, as upstream.
    pub fn with_ignored_resources(
        mut self,
        resources: Vec<String>,
        groups: Vec<String>,
    ) -> NodeResourcesFit {
        self.ignored_resources = resources;
        self.ignored_resource_groups = groups;
        self.checked_for = 0;
        self
    }

    /// The scoring strategy.
    pub fn strategy(&self) -> &ScoringStrategy {
        &self.strategy
    }

    /// Recomputes [`NodeResourcesFit::checked`] for this cluster's resource names.
    fn refresh_checked(&mut self, cluster: &ClusterState) {
        self.checked = Resources([-1; NUM_RESOURCES]);
        if !self.ignored_resources.is_empty() || !self.ignored_resource_groups.is_empty() {
            let names = cluster.resource_names();
            for kind in names.kinds().filter(|k| k.index() >= FIRST_EXTENDED) {
                let name = names.name(kind);
                let group = name.split('/').next().unwrap_or("");
                if is_extended_resource_name(name)
                    && (self.ignored_resources.iter().any(|r| r == name)
                        || self.ignored_resource_groups.iter().any(|g| g == group))
                {
                    self.checked.set(kind, 0);
                }
            }
        }
        self.checked_for = cluster.uid();
    }

    /// The failure status for a node the pod does not fit: every shortfall, in
    /// upstream's order, as codes (two fit inline, so CPU and memory short allocate
    /// nothing).
    #[cold]
    fn insufficient(&self, cluster: &ClusterState, node: NodeId) -> Status {
        let free = &cluster.rows()[node.index()].free;
        let allocatable = &cluster.node(node).spec.allocatable;
        let mut status = Status {
            code: Code::Unschedulable,
            reasons: Reasons::new(),
        };
        // The pod slot first: `len(pods) + 1 > allowedPodNumber`. Never unresolvable.
        if free.pods() < 1 {
            status.reasons.push(Reason::TooManyPods);
        }
        for i in (0..NUM_RESOURCES).filter(|&i| i != ResourceKind::PODS.index()) {
            let kind = ResourceKind(i as u8);
            let request = self.request.get(kind);
            if self.mask.0[i] == 0 || request <= free.get(kind) {
                continue;
            }
            status.reasons.push(Reason::Insufficient(kind));
            // Even an empty node would be too small: preemption cannot help.
            if request > allocatable.get(kind) {
                status.code = Code::UnschedulableAndUnresolvable;
            }
        }
        status
    }

    /// The score of a node over the configured resources, any strategy.
    fn general_score(
        &self,
        pod: &Pod,
        cluster: &ClusterState,
        node: NodeId,
        resources: impl Iterator<Item = ResolvedResource>,
    ) -> i64 {
        let (mut total, mut weights) = (0i64, 0i64);
        for r in resources {
            let Some(kind) = r.kind else { continue };
            let pod_request = pod_request(pod, kind, Counting::NonZero);
            let Some(amounts) = node_amounts(cluster, node, kind, pod_request, Counting::NonZero)
            else {
                continue;
            };
            let requested = amounts.requested.saturating_add(pod_request);
            let capacity = amounts.allocatable;
            let score = match self.strategy.strategy_type {
                ScoringStrategyType::LeastAllocated => {
                    least_requested_score_wide(requested, capacity)
                }
                ScoringStrategyType::MostAllocated => most_requested_score(requested, capacity),
                ScoringStrategyType::RequestedToCapacityRatio { .. } => {
                    let utilization = if requested > capacity {
                        100
                    } else {
                        utilization_percent(requested, capacity)
                    };
                    let s = broken_linear(&self.scaled_shape, utilization);
                    // Upstream averages only the resources that score above zero.
                    if s <= 0 {
                        continue;
                    }
                    s
                }
            };
            total += score * r.weight;
            weights += r.weight;
        }
        if weights == 0 {
            return 0;
        }
        match self.strategy.strategy_type {
            // `int64(math.Round(float64(total) / float64(weights)))` on non-negative
            // integers: round half up, done exactly in integers.
            ScoringStrategyType::RequestedToCapacityRatio { .. } => {
                (2 * total + weights) / (2 * weights)
            }
            _ => total / weights,
        }
    }
}

/// True for an extended resource name (`example.com/foo`): domain-prefixed and not in
/// the `kubernetes.io` namespace. Only these can be ignored by Filter.
fn is_extended_resource_name(name: &str) -> bool {
    name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests.")
}

/// True when `request` fits in `free` in every lane of `mask`: branch-free like
/// [`crate::filters::PodFilter::fits`]. A lane that does not fit makes `free - request`
/// negative, and OR-ing the masked differences keeps the sign bit. Amounts are below
/// 2^62 and `free` is never negative in a requested kind (binds check exactly), so the
/// subtraction cannot wrap.
#[inline]
fn fits(request: &Resources, mask: &Resources, free: &Resources) -> bool {
    let mut acc = 0i64;
    for i in 0..NUM_RESOURCES {
        acc |= free.0[i].wrapping_sub(request.0[i]) & mask.0[i];
    }
    acc >= 0
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// Computes the pod's request once (`computePodResourceRequest`): the effective
    /// request, with the pod slot, restricted to the resources Filter checks.
    fn pre_filter(&mut self, pod: &Pod, cluster: &ClusterState) -> Status {
        if self.checked_for != cluster.uid() {
            self.refresh_checked(cluster);
        }
        self.request = pod.requests;
        // Every pod takes a slot, whatever its own vector says: upstream checks
        // `len(pods) + 1 > allowedPodNumber` unconditionally.
        self.request.set(ResourceKind::PODS, 1);
        for i in 0..NUM_RESOURCES {
            // Zero requests are never checked, even on an over-committed node.
            self.mask.0[i] = if self.request.0[i] != 0 {
                self.checked.0[i]
            } else {
                0
            };
        }
        Status::success()
    }

    /// Requires [`Plugin::pre_filter`] for this pod first, as upstream's Filter does.
    #[inline]
    fn filter(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        if fits(
            &self.request,
            &self.mask,
            &cluster.rows()[node.index()].free,
        ) {
            // schedlab's GPU sharing (not upstream: kube-scheduler counts GPUs as an
            // extended resource and cannot share one): the per-GPU books decide.
            match cluster.gpu_miss(pod, node) {
                None => Status::success(),
                Some(miss) => Status::unschedulable(match miss {
                    crate::gpu::GpuMiss::Insufficient => Reason::InsufficientGpu,
                    crate::gpu::GpuMiss::Model => Reason::GpuModel,
                }),
            }
        } else {
            self.insufficient(cluster, node)
        }
    }

    /// Resolves the scored resources to this cluster's slots.
    fn pre_score(&mut self, _pod: &Pod, cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        if !self.default_scoring && self.resolved_for != cluster.uid() {
            resolve(
                &self.strategy.resources,
                cluster.resource_names(),
                &mut self.resolved,
            );
            self.resolved_for = cluster.uid();
        }
        Status::success()
    }

    fn score(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> i64 {
        if self.default_scoring {
            return least_allocated_score(
                &cluster.rows()[node.index()],
                pod.nonzero_cpu,
                pod.nonzero_memory,
            );
        }
        if self.resolved_for == cluster.uid() {
            self.general_score(pod, cluster, node, self.resolved.iter().copied())
        } else {
            // PreScore did not run for this cluster: resolve on the way (upstream too
            // recomputes what PreScore would have stored).
            let names = cluster.resource_names();
            let resources = self
                .strategy
                .resources
                .iter()
                .map(|s| resolve_one(s, names));
            self.general_score(pod, cluster, node, resources)
        }
    }

    /// Compares the pod's requests with the node's free amounts (and GPU books, which
    /// the shape index leaves to the scan).
    fn filter_by_shape(&self) -> bool {
        true
    }

    /// Every strategy scores a node from its own requested and allocatable amounts and
    /// the pod's requests; there is no NormalizeScore.
    fn score_by_shape(&self) -> ShapeScore {
        ShapeScore::PerNode
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::resource_allocation::test_support::{
        CORES, PodDef, Req, World, make_pod, pod, world,
    };

    /// Upstream's `defaultResources`.
    const DEFAULT: Req = &[("cpu", 1), ("memory", 1)];
    /// Upstream's `extendedResourceSet` (`extendedRes` is `abc.com/xyz`).
    const EXTENDED_SET: Req = &[("cpu", 1), ("memory", 1), ("abc.com/xyz", 1)];

    const NOTHING: PodDef = pod(&[]);
    /// Two containers, 1000 + 2000 cores and 2000 + 3000 bytes.
    const REQUESTS_3000_5000: PodDef = pod(&[
        &[("cpu", 1000 * CORES), ("memory", 2000)],
        &[("cpu", 2000 * CORES), ("memory", 3000)],
    ]);
    const CPU_3000_MEM_0: PodDef = pod(&[&[("cpu", 3000 * CORES), ("memory", 0)]]);
    const CPU_3000_MEM_5000: PodDef = pod(&[&[("cpu", 3000 * CORES), ("memory", 5000)]]);

    const N4000_10000: Req = &[("cpu", 4000 * CORES), ("memory", 10000)];
    const N6000_10000: Req = &[("cpu", 6000 * CORES), ("memory", 10000)];
    const N10000_20000: Req = &[("cpu", 10000 * CORES), ("memory", 20000)];

    /// One scoring case: the pod, the nodes (allocatable), the pods already on them and
    /// the scores upstream expects, node by node.
    struct ScoreCase<'a> {
        upstream: &'static str,
        pod: PodDef,
        nodes: &'static [Req],
        existing: &'a [(usize, PodDef)],
        resources: Req,
        want: &'static [i64],
    }

    fn specs(resources: Req) -> Vec<ResourceSpec> {
        resources
            .iter()
            .map(|&(name, weight)| ResourceSpec::new(name, weight))
            .collect()
    }

    /// Scores every node through the Plugin trait, with or without PreScore first.
    fn scores(plugin: &mut dyn Plugin, w: &World, run_pre_score: bool) -> Vec<i64> {
        if run_pre_score {
            let status = plugin.pre_score(&w.pod, &w.cluster, &w.nodes);
            assert_eq!(status, Status::success());
        }
        w.nodes
            .iter()
            .map(|&n| plugin.score(&w.pod, &w.cluster, n))
            .collect()
    }

    fn run(make: impl Fn(Vec<ResourceSpec>) -> ScoringStrategy, cases: &[ScoreCase<'_>]) {
        for c in cases {
            let w = world(c.nodes, c.existing, &c.pod);
            for run_pre_score in [true, false] {
                let mut plugin = NodeResourcesFit::new(make(specs(c.resources)));
                assert_eq!(
                    scores(&mut plugin, &w, run_pre_score),
                    c.want,
                    "{} (PreScore run: {run_pre_score})",
                    c.upstream
                );
            }
        }
    }

    #[test]
    fn least_allocated_scores_match_upstream() {
        run(
            ScoringStrategy::least_allocated,
            &[
                // mirrors TestLeastAllocatedScoringStrategy "nothing scheduled, nothing requested"
                ScoreCase {
                    upstream: "nothing scheduled, nothing requested",
                    pod: NOTHING,
                    nodes: &[N4000_10000, N4000_10000],
                    existing: &[],
                    resources: DEFAULT,
                    want: &[100, 100],
                },
                // mirrors TestLeastAllocatedScoringStrategy "nothing scheduled, resources
                // requested, differently sized nodes"
                ScoreCase {
                    upstream: "nothing scheduled, resources requested, differently sized nodes",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[],
                    resources: DEFAULT,
                    want: &[37, 50],
                },
                // mirrors TestLeastAllocatedScoringStrategy "no resources requested, pods
                // scheduled" (pods without containers charge nothing, not even defaults)
                ScoreCase {
                    upstream: "no resources requested, pods scheduled",
                    pod: NOTHING,
                    nodes: &[N4000_10000, N4000_10000],
                    existing: &[(0, NOTHING), (0, NOTHING), (1, NOTHING), (1, NOTHING)],
                    resources: DEFAULT,
                    want: &[100, 100],
                },
                // mirrors TestLeastAllocatedScoringStrategy "no resources requested, pods
                // scheduled with resources"
                ScoreCase {
                    upstream: "no resources requested, pods scheduled with resources",
                    pod: NOTHING,
                    nodes: &[N10000_20000, N10000_20000],
                    existing: &[
                        (0, CPU_3000_MEM_0),
                        (0, CPU_3000_MEM_0),
                        (1, CPU_3000_MEM_0),
                        (1, CPU_3000_MEM_5000),
                    ],
                    resources: DEFAULT,
                    want: &[70, 57],
                },
                // mirrors TestLeastAllocatedScoringStrategy "resources requested, pods
                // scheduled with resources"
                ScoreCase {
                    upstream: "resources requested, pods scheduled with resources",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N10000_20000, N10000_20000],
                    existing: &[(0, CPU_3000_MEM_0), (1, CPU_3000_MEM_5000)],
                    resources: DEFAULT,
                    want: &[57, 45],
                },
                // mirrors TestLeastAllocatedScoringStrategy "resources requested, pods
                // scheduled with resources, differently sized nodes"
                ScoreCase {
                    upstream: "resources requested, pods scheduled with resources, differently sized nodes",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N10000_20000, &[("cpu", 10000 * CORES), ("memory", 50000)]],
                    existing: &[(0, CPU_3000_MEM_0), (1, CPU_3000_MEM_5000)],
                    resources: DEFAULT,
                    want: &[57, 60],
                },
                // mirrors TestLeastAllocatedScoringStrategy "requested resources exceed node
                // capacity"
                ScoreCase {
                    upstream: "requested resources exceed node capacity",
                    pod: CPU_3000_MEM_0,
                    nodes: &[N4000_10000, N4000_10000],
                    existing: &[(0, CPU_3000_MEM_0), (1, CPU_3000_MEM_5000)],
                    resources: DEFAULT,
                    want: &[50, 25],
                },
                // mirrors TestLeastAllocatedScoringStrategy "zero node resources, pods
                // scheduled with resources". Upstream also lists pods on the empty nodes;
                // schedlab never binds beyond allocatable, and a node offering nothing
                // scores 0 whatever it holds.
                ScoreCase {
                    upstream: "zero node resources, pods scheduled with resources",
                    pod: NOTHING,
                    nodes: &[&[], &[]],
                    existing: &[],
                    resources: DEFAULT,
                    want: &[0, 0],
                },
                // mirrors TestLeastAllocatedScoringStrategy "nothing scheduled, resources
                // requested with different weight on CPU and memory, differently sized nodes"
                ScoreCase {
                    upstream: "different weight on CPU and memory",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[],
                    resources: &[("memory", 2), ("cpu", 1)],
                    want: &[41, 50],
                },
                // mirrors TestLeastAllocatedScoringStrategy "bypass extended resource if the
                // pod does not request"
                ScoreCase {
                    upstream: "bypass extended resource if the pod does not request",
                    pod: REQUESTS_3000_5000,
                    nodes: &[
                        N6000_10000,
                        &[("cpu", 6000 * CORES), ("memory", 10000), ("abc.com/xyz", 4)],
                    ],
                    existing: &[],
                    resources: EXTENDED_SET,
                    want: &[50, 50],
                },
                // mirrors TestLeastAllocatedScoringStrategy "honor extended resource if the
                // pod requests"
                ScoreCase {
                    upstream: "honor extended resource if the pod requests",
                    pod: pod(&[&[("cpu", 3000 * CORES), ("memory", 5000), ("abc.com/xyz", 2)]]),
                    nodes: &[
                        &[("cpu", 6000 * CORES), ("memory", 10000), ("abc.com/xyz", 4)],
                        &[
                            ("cpu", 6000 * CORES),
                            ("memory", 10000),
                            ("abc.com/xyz", 10),
                        ],
                    ],
                    existing: &[],
                    resources: EXTENDED_SET,
                    want: &[50, 60],
                },
                // mirrors TestLeastAllocatedScoringStrategy "if the node doesn't have a
                // resource"
                ScoreCase {
                    upstream: "if the node doesn't have a resource",
                    pod: pod(&[&[("cpu", 3000 * CORES), ("memory", 4000)]]),
                    nodes: &[
                        N6000_10000,
                        &[("cpu", 6000 * CORES), ("memory", 10000), ("abc.com/xyz", 4)],
                    ],
                    existing: &[],
                    resources: &[("abc.com/xyz", 2), ("cpu", 1), ("memory", 1)],
                    want: &[55, 55],
                },
                // mirrors TestFitScore "test case for ScoringStrategy LeastAllocated" (and
                // "... if PreScore is not called")
                ScoreCase {
                    upstream: "TestFitScore LeastAllocated",
                    pod: pod(&[&[("cpu", 1000 * CORES), ("memory", 2000)]]),
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[
                        (0, pod(&[&[("cpu", 2000 * CORES), ("memory", 4000)]])),
                        (1, pod(&[&[("cpu", 1000 * CORES), ("memory", 2000)]])),
                    ],
                    resources: DEFAULT,
                    want: &[32, 63],
                },
            ],
        );
    }

    #[test]
    fn most_allocated_scores_match_upstream() {
        run(
            ScoringStrategy::most_allocated,
            &[
                // mirrors TestMostAllocatedScoringStrategy "nothing scheduled, nothing requested"
                ScoreCase {
                    upstream: "nothing scheduled, nothing requested",
                    pod: NOTHING,
                    nodes: &[N4000_10000, N4000_10000],
                    existing: &[],
                    resources: DEFAULT,
                    want: &[0, 0],
                },
                // mirrors TestMostAllocatedScoringStrategy "nothing scheduled, resources
                // requested, differently sized nodes"
                ScoreCase {
                    upstream: "nothing scheduled, resources requested, differently sized nodes",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[],
                    resources: DEFAULT,
                    want: &[62, 50],
                },
                // mirrors TestMostAllocatedScoringStrategy "no resources requested, pods
                // scheduled with resources"
                ScoreCase {
                    upstream: "no resources requested, pods scheduled with resources",
                    pod: NOTHING,
                    nodes: &[N10000_20000, N10000_20000],
                    existing: &[
                        (0, CPU_3000_MEM_0),
                        (0, CPU_3000_MEM_0),
                        (1, CPU_3000_MEM_0),
                        (1, CPU_3000_MEM_5000),
                    ],
                    resources: DEFAULT,
                    want: &[30, 42],
                },
                // mirrors TestMostAllocatedScoringStrategy "resources requested, pods
                // scheduled with resources"
                ScoreCase {
                    upstream: "resources requested, pods scheduled with resources",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N10000_20000, N10000_20000],
                    existing: &[(0, CPU_3000_MEM_0), (1, CPU_3000_MEM_5000)],
                    resources: DEFAULT,
                    want: &[42, 55],
                },
                // mirrors TestMostAllocatedScoringStrategy "resources requested equal node
                // capacity"
                ScoreCase {
                    upstream: "resources requested equal node capacity",
                    pod: pod(&[
                        &[("cpu", 2000 * CORES), ("memory", 4000)],
                        &[("cpu", 3000 * CORES), ("memory", 5000)],
                    ]),
                    nodes: &[
                        &[("cpu", 5000 * CORES), ("memory", 10000)],
                        &[("cpu", 10000 * CORES), ("memory", 9000)],
                    ],
                    existing: &[],
                    resources: DEFAULT,
                    want: &[95, 75],
                },
                // mirrors TestMostAllocatedScoringStrategy "nothing scheduled, resources
                // requested, differently sized nodes" (memory weight 2)
                ScoreCase {
                    upstream: "different weight on CPU and memory",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[],
                    resources: &[("memory", 2), ("cpu", 1)],
                    want: &[58, 50],
                },
                // mirrors TestMostAllocatedScoringStrategy "no resources requested, pods
                // scheduled, nonzero request for resource": containers without requests
                // count 100m and 200 MiB, and 300m on a 250m node is capped at full.
                ScoreCase {
                    upstream: "no resources requested, pods scheduled, nonzero request for resource",
                    pod: pod(&[&[]]),
                    nodes: &[
                        &[("cpu", 250), ("memory", 1000 << 20)],
                        &[("cpu", 250), ("memory", 1000 << 20)],
                    ],
                    existing: &[(0, pod(&[&[]])), (0, pod(&[&[]]))],
                    resources: DEFAULT,
                    want: &[80, 30],
                },
                // mirrors TestMostAllocatedScoringStrategy "bypass extended resource if the
                // pod does not request"
                ScoreCase {
                    upstream: "bypass extended resource if the pod does not request",
                    pod: REQUESTS_3000_5000,
                    nodes: &[
                        N6000_10000,
                        &[("cpu", 6000 * CORES), ("memory", 10000), ("abc.com/xyz", 4)],
                    ],
                    existing: &[],
                    resources: EXTENDED_SET,
                    want: &[50, 50],
                },
                // mirrors TestMostAllocatedScoringStrategy "honor extended resource if the
                // pod request"
                ScoreCase {
                    upstream: "honor extended resource if the pod request",
                    pod: pod(&[&[("cpu", 3000 * CORES), ("memory", 5000), ("abc.com/xyz", 2)]]),
                    nodes: &[
                        &[("cpu", 6000 * CORES), ("memory", 10000), ("abc.com/xyz", 4)],
                        &[
                            ("cpu", 6000 * CORES),
                            ("memory", 10000),
                            ("abc.com/xyz", 10),
                        ],
                    ],
                    existing: &[],
                    resources: EXTENDED_SET,
                    want: &[50, 40],
                },
                // mirrors TestMostAllocatedScoringStrategy "if the node doesn't have a
                // resource"
                ScoreCase {
                    upstream: "if the node doesn't have a resource",
                    pod: pod(&[&[("cpu", 3000 * CORES), ("memory", 4000)]]),
                    nodes: &[
                        N6000_10000,
                        &[("cpu", 6000 * CORES), ("memory", 10000), ("abc.com/xyz", 4)],
                    ],
                    existing: &[],
                    resources: &[("abc.com/xyz", 2), ("cpu", 1), ("memory", 1)],
                    want: &[45, 45],
                },
                // mirrors TestFitScore "test case for ScoringStrategy MostAllocated" (and
                // "... if PreScore is not called")
                ScoreCase {
                    upstream: "TestFitScore MostAllocated",
                    pod: pod(&[&[("cpu", 1000 * CORES), ("memory", 2000)]]),
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[
                        (0, pod(&[&[("cpu", 2000 * CORES), ("memory", 4000)]])),
                        (1, pod(&[&[("cpu", 1000 * CORES), ("memory", 2000)]])),
                    ],
                    resources: DEFAULT,
                    want: &[67, 36],
                },
            ],
        );
    }

    fn shape(points: &[(i64, i64)]) -> Vec<ShapePoint> {
        points
            .iter()
            .map(|&(utilization, score)| ShapePoint { utilization, score })
            .collect()
    }

    #[test]
    fn requested_to_capacity_ratio_scores_match_upstream() {
        let falling =
            |r| ScoringStrategy::requested_to_capacity_ratio(r, shape(&[(0, 10), (100, 0)]));
        run(
            falling,
            &[
                // mirrors TestRequestedToCapacityRatioScoringStrategy "nothing scheduled,
                // nothing requested (default - least requested nodes have priority)"
                ScoreCase {
                    upstream: "nothing scheduled, nothing requested",
                    pod: NOTHING,
                    nodes: &[N4000_10000, N4000_10000],
                    existing: &[(0, NOTHING), (0, NOTHING)],
                    resources: DEFAULT,
                    want: &[100, 100],
                },
                // mirrors TestRequestedToCapacityRatioScoringStrategy "nothing scheduled,
                // resources requested, differently sized nodes (...)": (25 + 50) / 2 rounds
                // to 38
                ScoreCase {
                    upstream: "nothing scheduled, resources requested, differently sized nodes",
                    pod: REQUESTS_3000_5000,
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[(0, NOTHING), (0, NOTHING)],
                    resources: DEFAULT,
                    want: &[38, 50],
                },
                // mirrors TestRequestedToCapacityRatioScoringStrategy "no resources
                // requested, pods scheduled with resources (...)"
                ScoreCase {
                    upstream: "no resources requested, pods scheduled with resources",
                    pod: NOTHING,
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[(0, CPU_3000_MEM_5000), (1, CPU_3000_MEM_5000)],
                    resources: DEFAULT,
                    want: &[38, 50],
                },
                // mirrors TestFitScore "test case for ScoringStrategy
                // RequestedToCapacityRatio case1": node1's CPU is over capacity, scores 0 and
                // drops out of the average.
                ScoreCase {
                    upstream: "TestFitScore RequestedToCapacityRatio case1",
                    pod: CPU_3000_MEM_5000,
                    nodes: &[N4000_10000, N6000_10000],
                    existing: &[
                        (0, pod(&[&[("cpu", 2000 * CORES), ("memory", 4000)]])),
                        (1, pod(&[&[("cpu", 1000 * CORES), ("memory", 2000)]])),
                    ],
                    resources: DEFAULT,
                    want: &[10, 32],
                },
            ],
        );
        let rising =
            |r| ScoringStrategy::requested_to_capacity_ratio(r, shape(&[(0, 0), (100, 10)]));
        run(
            rising,
            // mirrors TestFitScore "test case for ScoringStrategy RequestedToCapacityRatio case2"
            &[ScoreCase {
                upstream: "TestFitScore RequestedToCapacityRatio case2",
                pod: CPU_3000_MEM_5000,
                nodes: &[N4000_10000, N6000_10000],
                existing: &[
                    (0, pod(&[&[("cpu", 2000 * CORES), ("memory", 4000)]])),
                    (1, pod(&[&[("cpu", 1000 * CORES), ("memory", 2000)]])),
                ],
                resources: DEFAULT,
                want: &[95, 68],
            }],
        );
    }

    /// Upstream's `makeNode(name, 4000, 10000*1024*1024, extended)` for the bin-packing
    /// tests.
    const FOO8: Req = &[("cpu", 4000), ("memory", 10000 << 20), ("intel.com/foo", 8)];
    const FOO4: Req = &[("cpu", 4000), ("memory", 10000 << 20), ("intel.com/foo", 4)];

    #[test]
    fn bin_packing_single_extended_matches_upstream() {
        let strategy =
            |r| ScoringStrategy::requested_to_capacity_ratio(r, shape(&[(0, 0), (100, 1)]));
        run(
            strategy,
            &[
                // mirrors TestResourceBinPackingSingleExtended "nothing scheduled, nothing
                // requested": a pod not asking for intel.com/foo is not scored on it.
                ScoreCase {
                    upstream: "single extended: nothing scheduled, nothing requested",
                    pod: NOTHING,
                    nodes: &[FOO8, FOO4],
                    existing: &[],
                    resources: &[("intel.com/foo", 1)],
                    want: &[0, 0],
                },
                // mirrors TestResourceBinPackingSingleExtended "resources requested, pods
                // scheduled with less resources" (its extra pod is on no node)
                ScoreCase {
                    upstream: "single extended: resources requested, pods scheduled with less resources",
                    pod: pod(&[&[("intel.com/foo", 2)]]),
                    nodes: &[FOO8, FOO4],
                    existing: &[],
                    resources: &[("intel.com/foo", 1)],
                    want: &[2, 5],
                },
                // mirrors TestResourceBinPackingSingleExtended "resources requested, pods
                // scheduled with resources, on node with existing pod running"
                ScoreCase {
                    upstream: "single extended: on node with existing pod running",
                    pod: pod(&[&[("intel.com/foo", 2)]]),
                    nodes: &[FOO8, FOO4],
                    existing: &[(1, pod(&[&[("intel.com/foo", 2)]]))],
                    resources: &[("intel.com/foo", 1)],
                    want: &[2, 10],
                },
                // mirrors TestResourceBinPackingSingleExtended "resources requested, pods
                // scheduled with more resources"
                ScoreCase {
                    upstream: "single extended: resources requested, pods scheduled with more resources",
                    pod: pod(&[&[("intel.com/foo", 4)]]),
                    nodes: &[FOO8, FOO4],
                    existing: &[],
                    resources: &[("intel.com/foo", 1)],
                    want: &[5, 10],
                },
            ],
        );
    }

    #[test]
    fn bin_packing_multiple_extended_matches_upstream() {
        // Upstream's extendedResources2 (node1) and extendedResources1 (node2).
        const NODE1: Req = &[
            ("cpu", 4000),
            ("memory", 10000 << 20),
            ("intel.com/foo", 8),
            ("intel.com/bar", 4),
        ];
        const NODE2: Req = &[
            ("cpu", 4000),
            ("memory", 10000 << 20),
            ("intel.com/foo", 4),
            ("intel.com/bar", 8),
        ];
        const POD1: PodDef = pod(&[&[("intel.com/foo", 2), ("intel.com/bar", 2)]]);
        const POD2: PodDef = pod(&[&[("intel.com/foo", 4), ("intel.com/bar", 2)]]);
        const WEIGHTS: Req = &[("intel.com/foo", 3), ("intel.com/bar", 5)];
        let strategy =
            |r| ScoringStrategy::requested_to_capacity_ratio(r, shape(&[(0, 0), (100, 1)]));
        run(
            strategy,
            &[
                // mirrors TestResourceBinPackingMultipleExtended "nothing scheduled, nothing
                // requested"
                ScoreCase {
                    upstream: "multiple extended: nothing scheduled, nothing requested",
                    pod: NOTHING,
                    nodes: &[NODE1, NODE2],
                    existing: &[],
                    resources: WEIGHTS,
                    want: &[0, 0],
                },
                // mirrors TestResourceBinPackingMultipleExtended "resources requested, pods
                // scheduled with less resources": (2*3 + 5*5) / 8 rounds to 4
                ScoreCase {
                    upstream: "multiple extended: resources requested, pods scheduled with less resources",
                    pod: POD1,
                    nodes: &[NODE1, NODE2],
                    existing: &[],
                    resources: WEIGHTS,
                    want: &[4, 3],
                },
                // mirrors TestResourceBinPackingMultipleExtended "resources requested, pods
                // scheduled with resources, on node with existing pod running"
                ScoreCase {
                    upstream: "multiple extended: on node with existing pod running",
                    pod: POD1,
                    nodes: &[NODE1, NODE2],
                    existing: &[(1, POD2)],
                    resources: WEIGHTS,
                    want: &[4, 7],
                },
                // mirrors TestResourceBinPackingMultipleExtended "resources requested, pods
                // scheduled with more resources"
                ScoreCase {
                    upstream: "multiple extended: resources requested, pods scheduled with more resources",
                    pod: POD2,
                    nodes: &[NODE1, NODE2],
                    existing: &[],
                    resources: WEIGHTS,
                    want: &[5, 5],
                },
            ],
        );
    }

    #[test]
    fn invalid_arguments_are_refused_as_upstream() {
        let least = |r: Req| ScoringStrategy::least_allocated(specs(r));
        let most = |r: Req| ScoringStrategy::most_allocated(specs(r));
        let rows: [(&str, ScoringStrategy, ArgsError); 8] = [
            // mirrors TestLeastAllocatedScoringStrategy / TestMostAllocatedScoringStrategy
            // "Resources not set, pods scheduled with error" (upstream fails each Score)
            ("resources not set", least(&[]), ArgsError::NoResources),
            // mirrors TestLeastAllocatedScoringStrategy "resource with negative weight"
            (
                "resource with negative weight",
                least(&[("memory", -1), ("cpu", 1)]),
                ArgsError::BadWeight {
                    name: "memory".into(),
                    weight: -1,
                    allowed: "(0, 100]",
                },
            ),
            // mirrors TestLeastAllocatedScoringStrategy "resource with zero weight"
            (
                "resource with zero weight",
                least(&[("memory", 1), ("cpu", 0)]),
                ArgsError::BadWeight {
                    name: "cpu".into(),
                    weight: 0,
                    allowed: "(0, 100]",
                },
            ),
            // mirrors TestLeastAllocatedScoringStrategy "resource weight larger than
            // MaxNodeScore"
            (
                "resource weight larger than MaxNodeScore",
                least(&[("memory", 1), ("cpu", 101)]),
                ArgsError::BadWeight {
                    name: "cpu".into(),
                    weight: 101,
                    allowed: "(0, 100]",
                },
            ),
            // mirrors TestMostAllocatedScoringStrategy "resource weight larger than
            // MaxNodeScore"
            (
                "most allocated: weight larger than MaxNodeScore",
                most(&[("memory", 101)]),
                ArgsError::BadWeight {
                    name: "memory".into(),
                    weight: 101,
                    allowed: "(0, 100]",
                },
            ),
            // upstream's validateFunctionShape rules
            (
                "empty shape",
                ScoringStrategy::requested_to_capacity_ratio(specs(DEFAULT), vec![]),
                ArgsError::EmptyShape,
            ),
            (
                "unsorted shape",
                ScoringStrategy::requested_to_capacity_ratio(
                    specs(DEFAULT),
                    shape(&[(50, 1), (50, 2)]),
                ),
                ArgsError::UnsortedShape { index: 1 },
            ),
            (
                "shape score above MaxCustomPriorityScore",
                ScoringStrategy::requested_to_capacity_ratio(
                    specs(DEFAULT),
                    shape(&[(0, 0), (100, 11)]),
                ),
                ArgsError::ShapeScore {
                    index: 1,
                    value: 11,
                },
            ),
        ];
        for (name, strategy, want) in rows {
            assert_eq!(
                NodeResourcesFit::try_new(strategy).unwrap_err(),
                want,
                "{name}"
            );
        }
        assert!(NodeResourcesFit::try_new(ScoringStrategy::default()).is_ok());
    }

    /// The default strategy's row-only path gives the general path's scores: compare with
    /// LeastAllocated over cpu, memory and ephemeral-storage on nodes that offer no
    /// ephemeral storage (so it is left out and the averages are the same).
    #[test]
    fn default_fast_path_equals_general_path() {
        let mut fast = NodeResourcesFit::default();
        let mut general = NodeResourcesFit::new(ScoringStrategy::least_allocated(specs(&[
            ("cpu", 1),
            ("memory", 1),
            ("ephemeral-storage", 1),
        ])));
        assert!(fast.default_scoring && !general.default_scoring);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: i64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m as u64) as i64
        };
        for _ in 0..50 {
            let mut cluster = ClusterState::default();
            let mut ids = Vec::new();
            for i in 0..4 {
                let mut alloc = Resources::cpu_mem(1 + next(64_000), 1 + next(1 << 40));
                if i == 3 {
                    alloc = Resources::cpu_mem(0, 1 + next(1 << 20));
                }
                alloc.set(ResourceKind::PODS, 110);
                ids.push(cluster.add_node(crate::node::NodeSpec {
                    allocatable: alloc,
                    ..Default::default()
                }));
            }
            // Only the non-zero requests matter to LeastAllocated.
            let mut pod = make_pod(cluster.resource_names(), &PodDef::default());
            pod.nonzero_cpu = next(40_000);
            pod.nonzero_memory = next(1 << 39);
            fast.pre_score(&pod, &cluster, &ids);
            general.pre_score(&pod, &cluster, &ids);
            for &n in &ids {
                assert_eq!(
                    fast.score(&pod, &cluster, n),
                    general.score(&pod, &cluster, n)
                );
            }
        }
    }

    /// The node of upstream's TestEnoughRequests and TestStorageRequests:
    /// `makeResources(10, 20, 32, 5, 20, 5)` (milli-CPU, memory, pods, example.com/aaa,
    /// ephemeral storage, hugepages-2Mi).
    const ENOUGH_NODE: Req = &[
        ("cpu", 10),
        ("memory", 20),
        ("pods", 32),
        ("example.com/aaa", 5),
        ("ephemeral-storage", 20),
        ("hugepages-2Mi", 5),
    ];
    /// TestNotEnoughRequests' node: one pod slot.
    const ONE_SLOT_NODE: Req = &[("cpu", 10), ("memory", 20), ("pods", 1)];

    const fn with_init(containers: &'static [Req], init: &'static [Req]) -> PodDef {
        PodDef {
            containers,
            init,
            overhead: &[],
        }
    }

    /// One Filter case: the pod, the node and the pod already on it, the ignored
    /// resources, and the expected status (`None`: success).
    struct FilterCase {
        upstream: &'static str,
        pod: PodDef,
        node: Req,
        existing: PodDef,
        ignored: (&'static [&'static str], &'static [&'static str]),
        want: Option<(Code, &'static [&'static str])>,
    }

    const U: Code = Code::Unschedulable;
    const UU: Code = Code::UnschedulableAndUnresolvable;
    const NONE: (&[&str], &[&str]) = (&[], &[]);

    fn filter_cases() -> Vec<FilterCase> {
        let case = |upstream, pod, existing, want| FilterCase {
            upstream,
            pod,
            node: ENOUGH_NODE,
            existing,
            ignored: NONE,
            want,
        };
        const C1_1: &[Req] = &[&[("cpu", 1), ("memory", 1)]];
        vec![
            // mirrors TestEnoughRequests "no resources requested always fits"
            case(
                "no resources requested always fits",
                NOTHING,
                pod(&[&[("cpu", 10), ("memory", 20)]]),
                None,
            ),
            // mirrors TestEnoughRequests "too many resources fails"
            case(
                "too many resources fails",
                pod(C1_1),
                pod(&[&[("cpu", 10), ("memory", 20)]]),
                Some((U, &["Insufficient cpu", "Insufficient memory"])),
            ),
            // mirrors TestEnoughRequests "too many resources fails due to init container cpu"
            case(
                "too many resources fails due to init container cpu",
                with_init(C1_1, &[&[("cpu", 3), ("memory", 1)]]),
                pod(&[&[("cpu", 8), ("memory", 19)]]),
                Some((U, &["Insufficient cpu"])),
            ),
            // mirrors TestEnoughRequests "too many resources fails due to highest init
            // container cpu"
            case(
                "too many resources fails due to highest init container cpu",
                with_init(
                    C1_1,
                    &[&[("cpu", 3), ("memory", 1)], &[("cpu", 2), ("memory", 1)]],
                ),
                pod(&[&[("cpu", 8), ("memory", 19)]]),
                Some((U, &["Insufficient cpu"])),
            ),
            // mirrors TestEnoughRequests "too many resources fails due to init container
            // memory"
            case(
                "too many resources fails due to init container memory",
                with_init(C1_1, &[&[("cpu", 1), ("memory", 3)]]),
                pod(&[&[("cpu", 9), ("memory", 19)]]),
                Some((U, &["Insufficient memory"])),
            ),
            // mirrors TestEnoughRequests "too many resources fails due to highest init
            // container memory"
            case(
                "too many resources fails due to highest init container memory",
                with_init(
                    C1_1,
                    &[&[("cpu", 1), ("memory", 3)], &[("cpu", 1), ("memory", 2)]],
                ),
                pod(&[&[("cpu", 9), ("memory", 19)]]),
                Some((U, &["Insufficient memory"])),
            ),
            // mirrors TestEnoughRequests "init container fits because it's the max, not
            // sum, of containers and init containers"
            case(
                "init container fits because it's the max, not sum",
                with_init(C1_1, C1_1),
                pod(&[&[("cpu", 9), ("memory", 19)]]),
                None,
            ),
            // mirrors TestEnoughRequests "multiple init containers fit because it's the
            // max, not sum, of containers and init containers"
            case(
                "multiple init containers fit because it's the max, not sum",
                with_init(
                    C1_1,
                    &[&[("cpu", 1), ("memory", 1)], &[("cpu", 1), ("memory", 1)]],
                ),
                pod(&[&[("cpu", 9), ("memory", 19)]]),
                None,
            ),
            // mirrors TestEnoughRequests "both resources fit"
            case(
                "both resources fit",
                pod(C1_1),
                pod(&[&[("cpu", 5), ("memory", 5)]]),
                None,
            ),
            // mirrors TestEnoughRequests "one resource memory fits"
            case(
                "one resource memory fits",
                pod(&[&[("cpu", 2), ("memory", 1)]]),
                pod(&[&[("cpu", 9), ("memory", 5)]]),
                Some((U, &["Insufficient cpu"])),
            ),
            // mirrors TestEnoughRequests "one resource cpu fits"
            case(
                "one resource cpu fits",
                pod(&[&[("cpu", 1), ("memory", 2)]]),
                pod(&[&[("cpu", 5), ("memory", 19)]]),
                Some((U, &["Insufficient memory"])),
            ),
            // mirrors TestEnoughRequests "equal edge case"
            case(
                "equal edge case",
                pod(&[&[("cpu", 5), ("memory", 1)]]),
                pod(&[&[("cpu", 5), ("memory", 19)]]),
                None,
            ),
            // mirrors TestEnoughRequests "equal edge case for init container"
            case(
                "equal edge case for init container",
                with_init(
                    &[&[("cpu", 4), ("memory", 1)]],
                    &[&[("cpu", 5), ("memory", 1)]],
                ),
                pod(&[&[("cpu", 5), ("memory", 19)]]),
                None,
            ),
            // mirrors TestEnoughRequests "extended resource fits"
            case(
                "extended resource fits",
                pod(&[&[("example.com/aaa", 1)]]),
                pod(&[&[]]),
                None,
            ),
            // mirrors TestEnoughRequests "extended resource fits for init container"
            case(
                "extended resource fits for init container",
                with_init(&[&[]], &[&[("example.com/aaa", 1)]]),
                pod(&[&[]]),
                None,
            ),
            // mirrors TestEnoughRequests "extended resource capacity enforced"
            case(
                "extended resource capacity enforced",
                pod(&[&[("cpu", 1), ("memory", 1), ("example.com/aaa", 10)]]),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 0)]]),
                Some((UU, &["Insufficient example.com/aaa"])),
            ),
            // mirrors TestEnoughRequests "extended resource capacity enforced for init
            // container"
            case(
                "extended resource capacity enforced for init container",
                with_init(
                    &[&[]],
                    &[&[("cpu", 1), ("memory", 1), ("example.com/aaa", 10)]],
                ),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 0)]]),
                Some((UU, &["Insufficient example.com/aaa"])),
            ),
            // mirrors TestEnoughRequests "extended resource allocatable enforced"
            case(
                "extended resource allocatable enforced",
                pod(&[&[("cpu", 1), ("memory", 1), ("example.com/aaa", 1)]]),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 5)]]),
                Some((U, &["Insufficient example.com/aaa"])),
            ),
            // mirrors TestEnoughRequests "extended resource allocatable enforced for init
            // container"
            case(
                "extended resource allocatable enforced for init container",
                with_init(
                    &[&[]],
                    &[&[("cpu", 1), ("memory", 1), ("example.com/aaa", 1)]],
                ),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 5)]]),
                Some((U, &["Insufficient example.com/aaa"])),
            ),
            // mirrors TestEnoughRequests "extended resource allocatable enforced for
            // multiple containers"
            case(
                "extended resource allocatable enforced for multiple containers",
                pod(&[
                    &[("cpu", 1), ("memory", 1), ("example.com/aaa", 3)],
                    &[("cpu", 1), ("memory", 1), ("example.com/aaa", 3)],
                ]),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 2)]]),
                Some((UU, &["Insufficient example.com/aaa"])),
            ),
            // mirrors TestEnoughRequests "extended resource allocatable admits multiple
            // init containers"
            case(
                "extended resource allocatable admits multiple init containers",
                with_init(
                    &[&[]],
                    &[
                        &[("cpu", 1), ("memory", 1), ("example.com/aaa", 3)],
                        &[("cpu", 1), ("memory", 1), ("example.com/aaa", 3)],
                    ],
                ),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 2)]]),
                None,
            ),
            // mirrors TestEnoughRequests "extended resource allocatable enforced for
            // multiple init containers"
            case(
                "extended resource allocatable enforced for multiple init containers",
                with_init(
                    &[&[]],
                    &[
                        &[("cpu", 1), ("memory", 1), ("example.com/aaa", 6)],
                        &[("cpu", 1), ("memory", 1), ("example.com/aaa", 3)],
                    ],
                ),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 2)]]),
                Some((UU, &["Insufficient example.com/aaa"])),
            ),
            // mirrors TestEnoughRequests "extended resource allocatable enforced for
            // unknown resource"
            case(
                "extended resource allocatable enforced for unknown resource",
                pod(&[&[("cpu", 1), ("memory", 1), ("example.com/bbb", 1)]]),
                pod(&[&[("cpu", 0), ("memory", 0)]]),
                Some((UU, &["Insufficient example.com/bbb"])),
            ),
            // mirrors TestEnoughRequests "extended resource allocatable enforced for
            // unknown resource for init container"
            case(
                "extended resource allocatable enforced for unknown resource for init container",
                with_init(
                    &[&[]],
                    &[&[("cpu", 1), ("memory", 1), ("example.com/bbb", 1)]],
                ),
                pod(&[&[("cpu", 0), ("memory", 0)]]),
                Some((UU, &["Insufficient example.com/bbb"])),
            ),
            // mirrors TestEnoughRequests "kubernetes.io resource capacity enforced"
            case(
                "kubernetes.io resource capacity enforced",
                pod(&[&[("cpu", 1), ("memory", 1), ("kubernetes.io/something", 10)]]),
                pod(&[&[("cpu", 0), ("memory", 0)]]),
                Some((UU, &["Insufficient kubernetes.io/something"])),
            ),
            // mirrors TestEnoughRequests "kubernetes.io resource capacity enforced for
            // init container"
            case(
                "kubernetes.io resource capacity enforced for init container",
                with_init(
                    &[&[]],
                    &[&[
                        ("cpu", 1),
                        ("memory", 1),
                        ("subdomain.kubernetes.io/something", 10),
                    ]],
                ),
                pod(&[&[("cpu", 0), ("memory", 0)]]),
                Some((UU, &["Insufficient subdomain.kubernetes.io/something"])),
            ),
            // mirrors TestEnoughRequests "hugepages resource capacity enforced"
            case(
                "hugepages resource capacity enforced",
                pod(&[&[("cpu", 1), ("memory", 1), ("hugepages-2Mi", 10)]]),
                pod(&[&[("cpu", 0), ("memory", 0), ("hugepages-2Mi", 0)]]),
                Some((UU, &["Insufficient hugepages-2Mi"])),
            ),
            // mirrors TestEnoughRequests "hugepages resource capacity enforced for init
            // container"
            case(
                "hugepages resource capacity enforced for init container",
                with_init(
                    &[&[]],
                    &[&[("cpu", 1), ("memory", 1), ("hugepages-2Mi", 10)]],
                ),
                pod(&[&[("cpu", 0), ("memory", 0), ("hugepages-2Mi", 0)]]),
                Some((UU, &["Insufficient hugepages-2Mi"])),
            ),
            // mirrors TestEnoughRequests "hugepages resource allocatable enforced for
            // multiple containers"
            case(
                "hugepages resource allocatable enforced for multiple containers",
                pod(&[
                    &[("cpu", 1), ("memory", 1), ("hugepages-2Mi", 3)],
                    &[("cpu", 1), ("memory", 1), ("hugepages-2Mi", 3)],
                ]),
                pod(&[&[("cpu", 0), ("memory", 0), ("hugepages-2Mi", 2)]]),
                Some((UU, &["Insufficient hugepages-2Mi"])),
            ),
            // mirrors TestEnoughRequests "skip checking ignored extended resource"
            FilterCase {
                ignored: (&["example.com/bbb"], &[]),
                ..case(
                    "skip checking ignored extended resource",
                    pod(&[&[("cpu", 1), ("memory", 1), ("example.com/bbb", 1)]]),
                    pod(&[&[("cpu", 0), ("memory", 0)]]),
                    None,
                )
            },
            // mirrors TestEnoughRequests "resources + pod overhead fits"
            case(
                "resources + pod overhead fits",
                PodDef {
                    containers: C1_1,
                    init: &[],
                    overhead: &[("cpu", 3), ("memory", 13)],
                },
                pod(&[&[("cpu", 5), ("memory", 5)]]),
                None,
            ),
            // mirrors TestEnoughRequests "requests + overhead does not fit for memory"
            case(
                "requests + overhead does not fit for memory",
                PodDef {
                    containers: C1_1,
                    init: &[],
                    overhead: &[("cpu", 1), ("memory", 15)],
                },
                pod(&[&[("cpu", 5), ("memory", 5)]]),
                Some((U, &["Insufficient memory"])),
            ),
            // mirrors TestEnoughRequests "skip checking ignored extended resource via
            // resource groups": kubernetes.io/ names are native, never ignored.
            FilterCase {
                ignored: (&[], &["example.com"]),
                ..case(
                    "skip checking ignored extended resource via resource groups",
                    pod(&[&[
                        ("cpu", 1),
                        ("memory", 1),
                        ("example.com/bbb", 1),
                        ("kubernetes.io/something", 1),
                    ]]),
                    pod(&[&[("cpu", 0), ("memory", 0)]]),
                    Some((UU, &["Insufficient kubernetes.io/something"])),
                )
            },
            // mirrors TestEnoughRequests "skip checking extended resource request with
            // quantity zero via resource groups". Upstream's node is over-committed
            // (6 of 5 used); schedlab never binds beyond allocatable, so it is full here.
            case(
                "skip checking extended resource request with quantity zero",
                pod(&[&[("cpu", 1), ("memory", 1), ("example.com/aaa", 0)]]),
                pod(&[&[("cpu", 0), ("memory", 0), ("example.com/aaa", 5)]]),
                None,
            ),
            // mirrors TestStorageRequests "empty storage requested, and pod fits"
            case(
                "storage: empty storage requested, and pod fits",
                pod(C1_1),
                pod(&[&[("cpu", 2), ("memory", 10)]]),
                None,
            ),
            // mirrors TestStorageRequests "storage ephemeral local storage request exceeds
            // allocatable"
            case(
                "storage: ephemeral local storage request exceeds allocatable",
                pod(&[&[("ephemeral-storage", 25)]]),
                pod(&[&[("cpu", 2), ("memory", 2)]]),
                Some((UU, &["Insufficient ephemeral-storage"])),
            ),
            // mirrors TestStorageRequests "ephemeral local storage is sufficient"
            case(
                "storage: ephemeral local storage is sufficient",
                pod(&[&[("ephemeral-storage", 5)]]),
                pod(&[&[("cpu", 2), ("memory", 2), ("ephemeral-storage", 10)]]),
                None,
            ),
            // mirrors TestStorageRequests "pod fits"
            case(
                "storage: pod fits",
                pod(&[&[("ephemeral-storage", 10)]]),
                pod(&[&[("cpu", 2), ("memory", 2)]]),
                None,
            ),
            // mirrors TestNotEnoughRequests "even without specified resources, predicate
            // fails when there's no space for additional pod"
            FilterCase {
                node: ONE_SLOT_NODE,
                ..case(
                    "no pod slot: even without specified resources",
                    NOTHING,
                    pod(&[&[("cpu", 10), ("memory", 20)]]),
                    Some((U, &["Too many pods"])),
                )
            },
            // mirrors TestNotEnoughRequests "even if both resources fit, predicate fails
            // when there's no space for additional pod"
            FilterCase {
                node: ONE_SLOT_NODE,
                ..case(
                    "no pod slot: even if both resources fit",
                    pod(C1_1),
                    pod(&[&[("cpu", 5), ("memory", 5)]]),
                    Some((U, &["Too many pods"])),
                )
            },
            // mirrors TestNotEnoughRequests "even for equal edge case, predicate fails
            // when there's no space for additional pod"
            FilterCase {
                node: ONE_SLOT_NODE,
                ..case(
                    "no pod slot: even for equal edge case",
                    pod(&[&[("cpu", 5), ("memory", 1)]]),
                    pod(&[&[("cpu", 5), ("memory", 19)]]),
                    Some((U, &["Too many pods"])),
                )
            },
            // mirrors TestNotEnoughRequests "even for equal edge case, predicate fails
            // when there's no space for additional pod due to init container"
            FilterCase {
                node: ONE_SLOT_NODE,
                ..case(
                    "no pod slot: even for equal edge case due to init container",
                    with_init(
                        &[&[("cpu", 5), ("memory", 1)]],
                        &[&[("cpu", 5), ("memory", 1)]],
                    ),
                    pod(&[&[("cpu", 5), ("memory", 19)]]),
                    Some((U, &["Too many pods"])),
                )
            },
        ]
    }

    #[test]
    fn filter_matches_upstream() {
        for c in filter_cases() {
            let w = world(&[c.node], &[(0, c.existing)], &c.pod);
            let (resources, groups) = c.ignored;
            let mut plugin = NodeResourcesFit::default().with_ignored_resources(
                resources.iter().map(|s| s.to_string()).collect(),
                groups.iter().map(|s| s.to_string()).collect(),
            );
            assert_eq!(
                plugin.pre_filter(&w.pod, &w.cluster),
                Status::success(),
                "{}",
                c.upstream
            );
            let got = plugin.filter(&w.pod, &w.cluster, w.nodes[0]);
            let got = (got.code, got.reasons.render(w.cluster.resource_names()));
            let want = match c.want {
                None => (Code::Success, Vec::new()),
                Some((code, reasons)) => (code, reasons.iter().map(|r| r.to_string()).collect()),
            };
            assert_eq!(got, want, "{}", c.upstream);
        }
    }

    #[test]
    fn filter_reports_every_shortfall_in_upstream_order() {
        // Pod slot, CPU, memory, ephemeral storage, then extended resources: all short.
        let w = world(
            &[&[
                ("cpu", 10),
                ("memory", 20),
                ("pods", 1),
                ("ephemeral-storage", 5),
                ("example.com/aaa", 1),
            ]],
            &[(0, pod(&[&[("cpu", 5), ("memory", 5)]]))],
            &pod(&[&[
                ("cpu", 6),
                ("memory", 16),
                ("ephemeral-storage", 6),
                ("example.com/aaa", 1),
                ("example.com/bbb", 1),
            ]]),
        );
        let mut plugin = NodeResourcesFit::default();
        plugin.pre_filter(&w.pod, &w.cluster);
        let got = plugin.filter(&w.pod, &w.cluster, w.nodes[0]);
        assert_eq!(got.code, Code::UnschedulableAndUnresolvable);
        assert_eq!(
            got.reasons.render(w.cluster.resource_names()),
            [
                "Too many pods",
                "Insufficient cpu",
                "Insufficient memory",
                "Insufficient ephemeral-storage",
                "Insufficient example.com/bbb",
            ]
        );
    }

    #[test]
    fn runs_in_a_framework_profile() {
        use crate::framework::plugins::balanced_allocation::BalancedAllocation;
        use crate::framework::{FrameworkScheduler, Profile};
        use rand::SeedableRng;

        // Three nodes; the first cannot hold the pod, so it is rejected with upstream's
        // reasons, and the others are scored by both resource plugins.
        let mut w = world(
            &[
                &[("cpu", 1000), ("memory", 1 << 30)],
                &[("cpu", 4000), ("memory", 8 << 30)],
                &[("cpu", 4000), ("memory", 2 << 30)],
            ],
            &[],
            &pod(&[&[("cpu", 2000), ("memory", 1 << 30)]]),
        );
        let mut profile = Profile::new("resources");
        profile
            .add(
                Box::new(NodeResourcesFit::default()),
                NodeResourcesFit::POINTS,
                1,
            )
            .unwrap();
        profile
            .add(
                Box::new(BalancedAllocation::default()),
                BalancedAllocation::POINTS,
                1,
            )
            .unwrap();
        let mut scheduler = FrameworkScheduler::new(profile);
        let id = w.cluster.add_pod(w.pod.clone());
        let mut rng = crate::scheduler::SchedulerRng::seed_from_u64(7);
        let e = scheduler.explain(&w.cluster, id, &mut rng);
        let verdict = |n: NodeId| e.nodes.iter().find(|v| v.node == n).unwrap();
        let small = verdict(w.nodes[0]);
        assert_eq!(small.failed_plugin, Some(NodeResourcesFit::NAME));
        assert_eq!(small.reasons, ["Insufficient cpu"]);
        // node2: cpu 50% free, memory 87% free -> 68; fractions 0.5 and 0.125 -> 81.
        // node3: cpu 50% free, memory 50% free -> 50; fractions 0.5 and 0.5 -> 100.
        let raw = |n: NodeId| -> Vec<i64> { verdict(n).scores.iter().map(|s| s.raw).collect() };
        assert_eq!(raw(w.nodes[1]), [68, 81]);
        assert_eq!(raw(w.nodes[2]), [50, 100]);
        assert_eq!(e.selected, Some(w.nodes[2]));
    }
}
