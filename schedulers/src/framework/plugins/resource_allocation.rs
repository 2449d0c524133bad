//! What NodeResourcesFit's scoring strategies and NodeResourcesBalancedAllocation share:
//! the configured resources, which amounts of a resource count as "requested" and
//! "allocatable" on a node, and the integer per-resource scores.
//!
//! Follows kube-scheduler v1.35 `pkg/scheduler/framework/plugins/noderesources/`
//! `resource_allocation.go` (`calculateResourceAllocatableRequest`,
//! `calculatePodResourceRequest`), `least_allocated.go`, `most_allocated.go`,
//! `requested_to_capacity_ratio.go` and `plugins/helper/shape_score.go`
//! (`BuildBrokenLinearFunction`). The rules that decide scores:
//!
//! - CPU and memory: the node's charges plus the pod's request. NodeResourcesFit counts
//!   both with kube's non-zero defaults (100m / 200 MiB for a container that sets no
//!   request: `NonZeroRequested`); BalancedAllocation counts the actual requests.
//! - Ephemeral storage: always the actual requests, whatever the pod asks.
//! - Extended resources: the actual requests, and only when the pod requests some; a pod
//!   that does not ask for one is not scored on it, so it does not favour nodes that lack it.
//! - `pods`: never scored (upstream finds no such scalar resource and skips it).
//! - A resource the node does not offer (allocatable 0) is left out, weight included.

use std::borrow::Cow;

use crate::cluster::ClusterState;
use crate::framework::MAX_NODE_SCORE;
use crate::node::NodeId;
use crate::pod::Pod;
use crate::resources::{ResourceKind, ResourceNames};

/// One resource a scoring plugin considers, with its weight (upstream's `ResourceSpec`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceSpec {
    /// The Kubernetes resource name: `cpu`, `memory`, `ephemeral-storage` or an extended
    /// resource such as `nvidia.com/gpu`.
    pub name: Cow<'static, str>,
    /// Its weight in the weighted average, `1..=100` for NodeResourcesFit (exactly 1 for
    /// BalancedAllocation, which does not weigh resources).
    pub weight: i64,
}

impl ResourceSpec {
    /// A resource with a weight.
    pub fn new(name: impl Into<Cow<'static, str>>, weight: i64) -> ResourceSpec {
        ResourceSpec {
            name: name.into(),
            weight,
        }
    }

    /// kube-scheduler's default resource set (`defaultResourceSpec`): `cpu` and `memory`,
    /// weight 1 each.
    pub fn defaults() -> Vec<ResourceSpec> {
        vec![ResourceSpec::new("cpu", 1), ResourceSpec::new("memory", 1)]
    }
}

/// How a pod's and a node's CPU and memory are counted when scoring (upstream's
/// `useRequested`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Unset container requests count as 100m CPU and 200 MiB memory (NodeResourcesFit).
    NonZero,
    /// The requests as charged (BalancedAllocation).
    Actual,
}

/// Why a plugin configuration was refused (upstream's argument validation,
/// `ValidateNodeResourcesFitArgs` and `ValidateNodeResourcesBalancedAllocationArgs`).
///
/// The constructors take kube-scheduler's internal configuration, after the v1 API's
/// defaulting (an empty resource list becomes `cpu` and `memory`, a weight of 0 becomes 1),
/// which is the job of whoever reads a `KubeSchedulerConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgsError {
    /// No resources to score: upstream's Score fails with "resources not found" on every
    /// node, which schedlab refuses up front.
    #[error("no resources to score")]
    NoResources,
    /// A weight outside the allowed range.
    #[error("resource {name}: weight {weight} not in {allowed}")]
    BadWeight {
        /// The resource.
        name: String,
        /// Its weight.
        weight: i64,
        /// The allowed range.
        allowed: &'static str,
    },
    /// The same resource twice (BalancedAllocation).
    #[error("resource {0} listed twice")]
    DuplicateResource(String),
    /// RequestedToCapacityRatio without shape points.
    #[error("at least one shape point must be specified")]
    EmptyShape,
    /// Shape utilizations not strictly increasing.
    #[error("shape point {index}: utilization values must be sorted in increasing order")]
    UnsortedShape {
        /// The first point out of order.
        index: usize,
    },
    /// A shape utilization outside `0..=100`.
    #[error("shape point {index}: utilization {value} not in valid range [0, 100]")]
    ShapeUtilization {
        /// The point.
        index: usize,
        /// Its utilization.
        value: i64,
    },
    /// A shape score outside `0..=10` (`MaxCustomPriorityScore`).
    #[error("shape point {index}: score {value} not in valid range [0, 10]")]
    ShapeScore {
        /// The point.
        index: usize,
        /// Its score.
        value: i64,
    },
}

/// A [`ResourceSpec`] resolved to a slot of one cluster's resource vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedResource {
    /// The slot, or `None` for a resource that is never scored: `pods`, or a name the
    /// cluster does not know (no node offers it and no pod requests it).
    pub kind: Option<ResourceKind>,
    /// The configured weight.
    pub weight: i64,
}

/// Resolves `specs` against `names` into `out` (cleared first), in order. Called once per
/// pod, so scoring a node never compares strings.
pub fn resolve(specs: &[ResourceSpec], names: &ResourceNames, out: &mut Vec<ResolvedResource>) {
    out.clear();
    out.extend(specs.iter().map(|s| resolve_one(s, names)));
}

/// Resolves one [`ResourceSpec`] against `names`.
#[inline]
pub fn resolve_one(spec: &ResourceSpec, names: &ResourceNames) -> ResolvedResource {
    ResolvedResource {
        kind: names
            .lookup(&spec.name)
            .filter(|&k| k != ResourceKind::PODS),
        weight: spec.weight,
    }
}

/// The pod's request of one resource as the scorers count it
/// (`calculatePodResourceRequest`): for CPU and memory with or without the non-zero
/// defaults, for anything else the effective request (init containers and overhead
/// included).
#[inline]
pub fn pod_request(pod: &Pod, kind: ResourceKind, counting: Counting) -> i64 {
    match (kind, counting) {
        (ResourceKind::CPU, Counting::NonZero) => pod.nonzero_cpu,
        (ResourceKind::MEMORY, Counting::NonZero) => pod.nonzero_memory,
        // The pod slot in `Pod::requests` is the scheduler's bookkeeping, not a container
        // request; upstream never sees a `pods` request.
        (ResourceKind::PODS, _) => 0,
        _ => pod.requests.get(kind),
    }
}

/// One resource on one node, as a scorer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeAmounts {
    /// What the node offers (never 0: such resources are skipped).
    pub allocatable: i64,
    /// What is charged there already, counted as the scorer counts (without the pod).
    pub requested: i64,
}

/// The node's allocatable and charged amounts of `kind`, or `None` when upstream leaves
/// the resource out of the score (`calculateResourceAllocatableRequest` returning an
/// allocatable of 0): the node does not offer it, or it is an extended resource the pod
/// does not request.
#[inline]
pub fn node_amounts(
    cluster: &ClusterState,
    node: NodeId,
    kind: ResourceKind,
    pod_request: i64,
    counting: Counting,
) -> Option<NodeAmounts> {
    let row = &cluster.rows()[node.index()];
    let (allocatable, requested) = match kind {
        ResourceKind::CPU => (
            row.allocatable_cpu,
            match counting {
                Counting::NonZero => row.nonzero_cpu,
                Counting::Actual => row.allocatable_cpu - row.free.cpu(),
            },
        ),
        ResourceKind::MEMORY => (
            row.allocatable_memory,
            match counting {
                Counting::NonZero => row.nonzero_memory,
                Counting::Actual => row.allocatable_memory - row.free.memory(),
            },
        ),
        ResourceKind::PODS => return None,
        _ => {
            // Extended resources are scored only for pods that ask for them; ephemeral
            // storage (not a scalar resource upstream) always is.
            if kind.index() >= crate::resources::FIRST_EXTENDED && pod_request == 0 {
                return None;
            }
            let n = cluster.node(node);
            (n.spec.allocatable.get(kind), n.requested.get(kind))
        }
    };
    (allocatable != 0).then_some(NodeAmounts {
        allocatable,
        requested,
    })
}

/// `leastRequestedScore`: the free share of a resource after placing the pod, on
/// `0..=100`, truncated; 0 when the node is over-committed. 128-bit arithmetic, so any
/// capacity is exact.
#[inline]
pub fn least_requested_score_wide(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    ((capacity - requested) as i128 * MAX_NODE_SCORE as i128 / capacity as i128) as i64
}

/// `mostRequestedScore`: the used share of a resource after placing the pod, on
/// `0..=100`, truncated. Requests above capacity (possible with the non-zero defaults)
/// count as full.
#[inline]
pub fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 {
        return 0;
    }
    let requested = requested.min(capacity);
    (requested as i128 * MAX_NODE_SCORE as i128 / capacity as i128) as i64
}

/// `requested * 100 / capacity`, truncated, for `0 <= requested <= capacity`: the
/// utilization RequestedToCapacityRatio feeds its shape.
#[inline]
pub fn utilization_percent(requested: i64, capacity: i64) -> i64 {
    if capacity <= 0 || requested <= 0 {
        return 0;
    }
    (requested.min(capacity) as i128 * 100 / capacity as i128) as i64
}

/// One point of a broken-linear function: `score` at `utilization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShapePoint {
    /// The argument (a utilization percentage).
    pub utilization: i64,
    /// The value there.
    pub score: i64,
}

/// `BuildBrokenLinearFunction` evaluated at `p`: the first point's score left of the
/// first point, the last point's right of the last, linear in between with integer
/// arithmetic truncating toward zero exactly as upstream (the slope is applied before
/// the division). `shape` must be non-empty with strictly increasing utilizations.
pub fn broken_linear(shape: &[ShapePoint], p: i64) -> i64 {
    for (i, point) in shape.iter().enumerate() {
        if p <= point.utilization {
            if i == 0 {
                return point.score;
            }
            let prev = shape[i - 1];
            return prev.score
                + (point.score - prev.score) * (p - prev.utilization)
                    / (point.utilization - prev.utilization);
        }
    }
    shape.last().map_or(0, |p| p.score)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mirrors upstream's TestBrokenLinearFunction (requested_to_capacity_ratio_test.go),
    /// every case and assertion.
    #[test]
    fn broken_linear_matches_upstream() {
        let pts = |v: &[(i64, i64)]| -> Vec<ShapePoint> {
            v.iter()
                .map(|&(utilization, score)| ShapePoint { utilization, score })
                .collect()
        };
        // (shape, [(p, expected)])
        type Case = (Vec<ShapePoint>, &'static [(i64, i64)]);
        let cases: [Case; 3] = [
            // case_0
            (
                pts(&[(10, 1), (90, 9)]),
                &[
                    (-10, 1),
                    (0, 1),
                    (9, 1),
                    (10, 1),
                    (15, 1),
                    (19, 1),
                    (20, 2),
                    (89, 8),
                    (90, 9),
                    (99, 9),
                    (100, 9),
                    (110, 9),
                ],
            ),
            // case_1: a falling segment, where truncation is toward zero.
            (
                pts(&[(0, 2), (40, 10), (100, 0)]),
                &[
                    (-10, 2),
                    (0, 2),
                    (20, 6),
                    (30, 8),
                    (40, 10),
                    (70, 5),
                    (100, 0),
                    (110, 0),
                ],
            ),
            // case_2: flat.
            (
                pts(&[(0, 2), (40, 2), (100, 2)]),
                &[
                    (-10, 2),
                    (0, 2),
                    (20, 2),
                    (30, 2),
                    (40, 2),
                    (70, 2),
                    (100, 2),
                    (110, 2),
                ],
            ),
        ];
        for (i, (shape, assertions)) in cases.iter().enumerate() {
            for &(p, want) in *assertions {
                assert_eq!(broken_linear(shape, p), want, "case_{i} at p={p}");
            }
        }
    }

    #[test]
    fn per_resource_scores_use_integer_division() {
        assert_eq!(least_requested_score_wide(3000, 4000), 25);
        assert_eq!(least_requested_score_wide(1, 3), 66);
        assert_eq!(least_requested_score_wide(5000, 4000), 0);
        assert_eq!(least_requested_score_wide(1, 0), 0);
        assert_eq!(most_requested_score(3000, 4000), 75);
        assert_eq!(most_requested_score(300, 250), 100, "capped at capacity");
        assert_eq!(most_requested_score(2, 3), 66);
        assert_eq!(utilization_percent(3_000_200, 4_000_000), 75);
        // Capacities whose scaled amounts overflow 64 bits stay exact.
        assert_eq!(least_requested_score_wide(i64::MAX / 2, i64::MAX), 50);
        assert_eq!(most_requested_score(i64::MAX / 4, i64::MAX), 24);
    }
}

/// Builders for the plugin tests: clusters, nodes and pods written the way upstream's
/// unit tests write them (resource names and amounts).
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use crate::cluster::ClusterState;
    use crate::node::{NodeId, NodeSpec};
    use crate::pod::{ContainerResources, Pod, PodTemplate};
    use crate::resources::{ResourceKind, ResourceNames, Resources};

    /// Resource amounts by Kubernetes name: CPU in millicores, everything else in units.
    pub type Req = &'static [(&'static str, i64)];

    /// Upstream's quantity "1000" of CPU is 1000 cores.
    pub const CORES: i64 = 1000;

    /// A pod: app containers, init containers and overhead, each by explicit requests.
    #[derive(Debug, Clone, Copy, Default)]
    pub struct PodDef {
        /// App containers, one request list each (an empty list: a container without
        /// requests, which scoring counts as 100m / 200 MiB).
        pub containers: &'static [Req],
        /// Init containers.
        pub init: &'static [Req],
        /// `spec.overhead`.
        pub overhead: Req,
    }

    /// A pod with these app containers only.
    pub const fn pod(containers: &'static [Req]) -> PodDef {
        PodDef {
            containers,
            init: &[],
            overhead: &[],
        }
    }

    /// A cluster, its nodes and the incoming pod.
    pub struct World {
        /// The cluster, existing pods bound.
        pub cluster: ClusterState,
        /// The nodes, in the order given.
        pub nodes: Vec<NodeId>,
        /// The pod to place (not added to the cluster).
        pub pod: Pod,
    }

    fn names_in(req: Req, out: &mut Vec<&'static str>) {
        out.extend(req.iter().map(|&(n, _)| n));
    }

    fn pod_names(def: &PodDef, out: &mut Vec<&'static str>) {
        for r in def.containers.iter().chain(def.init) {
            names_in(r, out);
        }
        names_in(def.overhead, out);
    }

    fn resources(names: &ResourceNames, req: Req) -> Resources {
        let mut r = Resources::ZERO;
        for &(name, amount) in req {
            r.set(names.lookup(name).expect("interned"), amount);
        }
        r
    }

    fn container(names: &ResourceNames, req: Req) -> ContainerResources {
        let mut c = ContainerResources::default();
        for &(name, amount) in req {
            c.set_request(names.lookup(name).expect("interned"), amount);
        }
        c
    }

    /// The pod `def` in a cluster whose resource names are `names`.
    pub fn make_pod(names: &ResourceNames, def: &PodDef) -> Pod {
        let template = PodTemplate {
            name: "p".into(),
            containers: def.containers.iter().map(|r| container(names, r)).collect(),
            init_containers: def.init.iter().map(|r| container(names, r)).collect(),
            overhead: resources(names, def.overhead),
            ..Default::default()
        };
        Pod::from_template(Arc::new(template), 0)
    }

    /// Nodes with these allocatable amounts (`pods` defaults to 110), `existing` pods
    /// bound to the node of the given index, and the incoming pod. Every extended name
    /// used is registered with the cluster.
    pub fn world(nodes: &[Req], existing: &[(usize, PodDef)], incoming: &PodDef) -> World {
        let mut all = Vec::new();
        for n in nodes {
            names_in(n, &mut all);
        }
        for (_, p) in existing {
            pod_names(p, &mut all);
        }
        pod_names(incoming, &mut all);
        let mut names = ResourceNames::default();
        for n in all {
            names.intern(n).expect("at most four extended resources");
        }
        let mut cluster = ClusterState::new(names);
        let ids: Vec<NodeId> = nodes
            .iter()
            .enumerate()
            .map(|(i, alloc)| {
                let mut allocatable = Resources::ZERO;
                allocatable.set(ResourceKind::PODS, 110);
                for &(name, amount) in *alloc {
                    allocatable.set(cluster.resource_names().lookup(name).unwrap(), amount);
                }
                cluster.add_node(NodeSpec {
                    name: format!("node{}", i + 1),
                    allocatable,
                    ..Default::default()
                })
            })
            .collect();
        for (node, def) in existing {
            let p = make_pod(cluster.resource_names(), def);
            let id = cluster.add_pod(p);
            cluster.bind(id, ids[*node]).expect("existing pod fits");
        }
        let pod = make_pod(cluster.resource_names(), incoming);
        World {
            cluster,
            nodes: ids,
            pod,
        }
    }
}
