//! NodeResourcesBalancedAllocation: prefers nodes whose resources would be used in
//! balanced proportions, scoring `(1 - std) * 100` where `std` is the standard deviation
//! of the requested fractions (requested / allocatable, capped at 1) of the configured
//! resources after placing the pod.
//!
//! Follows kube-scheduler v1.35
//! `pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go`:
//!
//! - requests are the actual ones (`useRequested: true`): the node's charges plus the
//!   pod's effective request, without the 100m / 200 MiB defaults NodeResourcesFit uses;
//! - with two resources `std = |f1 - f2| / 2`, with more the population standard
//!   deviation, with fewer 0; the score is `int64((1 - std) * 100)`, computed in `f64` in
//!   upstream's order so results agree to the bit;
//! - resources are left out as in [`super::resource_allocation`] (a node that does not
//!   offer one, an extended resource the pod does not request);
//! - PreScore returns Skip for a pod that requests none of the resources (a best-effort
//!   pod), so it is not scored at all (kubernetes/kubernetes#130260, fixing #129138);
//! - scores lie in `50..=100`; there is no NormalizeScore.
//!
//! [`BalancedAllocation::scoring_change_in_balance`] offers the scoring kube-scheduler
//! adopted after v1.35 (kubernetes/kubernetes#135573): the change in the node's balance.

use super::resource_allocation::{
    ArgsError, Counting, ResolvedResource, ResourceSpec, node_amounts, pod_request, resolve,
    resolve_one,
};
use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{MAX_NODE_SCORE, Plugin, ShapeScore, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::resources::{NUM_RESOURCES, ResourceKind};

/// What BalancedAllocation scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BalanceScoring {
    /// v1.35: the balance after placing the pod, `(1 - std) * 100`, in `50..=100`.
    #[default]
    AfterPlacement,
    /// Later releases (kubernetes/kubernetes#135573, merged after v1.35): how much the
    /// pod improves the node's balance. With `with` and `without` the v1.35 score with and
    /// without the pod, `50 + (50 + with - without) / 2` in integers: 75 when the balance
    /// does not change, towards 100 when the pod improves it, towards 50 when it worsens it.
    /// Taken from that pull request's diff and test expectations, not from a released
    /// `balanced_allocation.go`; best-effort pods are still skipped.
    ChangeInBalance,
}

/// The NodeResourcesBalancedAllocation plugin.
#[derive(Debug, Clone)]
pub struct BalancedAllocation {
    resources: Vec<ResourceSpec>,
    scoring: BalanceScoring,
    /// The resources resolved to slots of the cluster `resolved_for` (0: none).
    resolved: Vec<ResolvedResource>,
    resolved_for: u64,
    /// The resolved resources are exactly cpu then memory (the default), so Score can
    /// read both from the node's dense row without the generic lookups.
    cpu_memory_only: bool,
}

impl Default for BalancedAllocation {
    /// kube-scheduler v1.35's default: `cpu` and `memory`, balance after placement.
    fn default() -> BalancedAllocation {
        BalancedAllocation {
            resources: ResourceSpec::defaults(),
            scoring: BalanceScoring::AfterPlacement,
            resolved: Vec::new(),
            resolved_for: 0,
            cpu_memory_only: false,
        }
    }
}

impl BalancedAllocation {
    /// Its name.
    pub const NAME: &'static str = "NodeResourcesBalancedAllocation";
    /// Where it runs.
    pub const POINTS: Points = Points::SCORE;

    /// Over these resources (upstream's `NodeResourcesBalancedAllocationArgs`): each
    /// listed once, weight exactly 1 (BalancedAllocation does not weigh resources).
    pub fn new(
        resources: Vec<ResourceSpec>,
        scoring: BalanceScoring,
    ) -> Result<BalancedAllocation, ArgsError> {
        if resources.is_empty() {
            return Err(ArgsError::NoResources);
        }
        for (i, r) in resources.iter().enumerate() {
            if resources[..i].iter().any(|s| s.name == r.name) {
                return Err(ArgsError::DuplicateResource(r.name.to_string()));
            }
            if r.weight != 1 {
                return Err(ArgsError::BadWeight {
                    name: r.name.to_string(),
                    weight: r.weight,
                    allowed: "{1}",
                });
            }
        }
        Ok(BalancedAllocation {
            resources,
            scoring,
            ..BalancedAllocation::default()
        })
    }

    /// Over `cpu` and `memory`, scoring the change in balance the way kube-scheduler does
    /// after v1.35 ([`BalanceScoring::ChangeInBalance`]).
    pub fn scoring_change_in_balance() -> BalancedAllocation {
        BalancedAllocation {
            scoring: BalanceScoring::ChangeInBalance,
            ..BalancedAllocation::default()
        }
    }

    /// What it scores.
    pub fn scoring(&self) -> BalanceScoring {
        self.scoring
    }

    /// The score of one node over `resources`.
    fn score_with(
        &self,
        pod: &Pod,
        cluster: &ClusterState,
        node: NodeId,
        resources: impl Iterator<Item = ResolvedResource>,
    ) -> i64 {
        // Fractions with and without the pod. Distinct names resolve to distinct slots
        // (duplicates are refused), and `pods` never resolves, so at most
        // NUM_RESOURCES - 1 resources count and fixed arrays suffice: no allocation.
        let mut with = [0f64; NUM_RESOURCES];
        let mut without = [0f64; NUM_RESOURCES];
        let mut n = 0;
        for r in resources {
            let Some(kind) = r.kind else { continue };
            let request = pod_request(pod, kind, Counting::Actual);
            let Some(a) = node_amounts(cluster, node, kind, request, Counting::Actual) else {
                continue;
            };
            if n == NUM_RESOURCES {
                break;
            }
            let capacity = a.allocatable as f64;
            with[n] = fraction(a.requested.saturating_add(request) as f64 / capacity);
            without[n] = fraction(a.requested as f64 / capacity);
            n += 1;
        }
        let after = balanced_resource_score(&with[..n]);
        match self.scoring {
            BalanceScoring::AfterPlacement => after,
            BalanceScoring::ChangeInBalance => {
                let before = balanced_resource_score(&without[..n]);
                MAX_NODE_SCORE / 2 + (MAX_NODE_SCORE / 2 + after - before) / 2
            }
        }
    }
}

/// A requested fraction, capped at 1 as upstream caps it (nodes can be over-committed
/// in what they report).
#[inline]
fn fraction(f: f64) -> f64 {
    if f > 1.0 { 1.0 } else { f }
}

/// Upstream's `balancedResourceScorer` on the fractions, in the same `f64` operations and
/// order, truncated toward zero: `(1 - std) * MaxNodeScore`.
pub fn balanced_resource_score(fractions: &[f64]) -> i64 {
    let std = match fractions.len() {
        // The common case, simplified upstream to half the difference.
        2 => ((fractions[0] - fractions[1]) / 2.0).abs(),
        n if n > 2 => {
            let mut total = 0.0;
            for &f in fractions {
                total += f;
            }
            let mean = total / n as f64;
            let mut sum = 0.0;
            for &f in fractions {
                sum += (f - mean) * (f - mean);
            }
            (sum / n as f64).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// Resolves the resources for this cluster and skips best-effort pods: a pod that
    /// requests none of them would otherwise be drawn to already unbalanced nodes.
    fn pre_score(&mut self, pod: &Pod, cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        if self.resolved_for != cluster.uid() {
            resolve(
                &self.resources,
                cluster.resource_names(),
                &mut self.resolved,
            );
            self.resolved_for = cluster.uid();
            let kinds: Vec<_> = self.resolved.iter().map(|r| r.kind).collect();
            self.cpu_memory_only = kinds == [Some(ResourceKind::CPU), Some(ResourceKind::MEMORY)];
        }
        let requests_any = self
            .resolved
            .iter()
            .filter_map(|r| r.kind)
            .any(|kind| pod_request(pod, kind, Counting::Actual) != 0);
        if requests_any {
            Status::success()
        } else {
            Status::skip()
        }
    }

    fn score(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> i64 {
        let row = &cluster.rows()[node.index()];
        if self.cpu_memory_only
            && self.resolved_for == cluster.uid()
            && row.allocatable_cpu != 0
            && row.allocatable_memory != 0
        {
            // The same float operations, in the same order, as `score_with` on [cpu,
            // memory]: requested is allocatable minus free (actual requests).
            let with = |allocatable: i64, free: i64, request: i64| {
                fraction((allocatable - free).saturating_add(request) as f64 / allocatable as f64)
            };
            let without = |allocatable: i64, free: i64| {
                fraction((allocatable - free) as f64 / allocatable as f64)
            };
            let after = balanced_resource_score(&[
                with(row.allocatable_cpu, row.free.cpu(), pod.requests.cpu()),
                with(
                    row.allocatable_memory,
                    row.free.memory(),
                    pod.requests.memory(),
                ),
            ]);
            return match self.scoring {
                BalanceScoring::AfterPlacement => after,
                BalanceScoring::ChangeInBalance => {
                    let before = balanced_resource_score(&[
                        without(row.allocatable_cpu, row.free.cpu()),
                        without(row.allocatable_memory, row.free.memory()),
                    ]);
                    MAX_NODE_SCORE / 2 + (MAX_NODE_SCORE / 2 + after - before) / 2
                }
            };
        }
        if self.resolved_for == cluster.uid() {
            self.score_with(pod, cluster, node, self.resolved.iter().copied())
        } else {
            // PreScore did not run for this cluster: resolve on the way, and score a
            // best-effort pod 0, as upstream's Score does without PreScore's state.
            let names = cluster.resource_names();
            let resources = self.resources.iter().map(|s| resolve_one(s, names));
            let best_effort = resources
                .clone()
                .filter_map(|r| r.kind)
                .all(|kind| pod_request(pod, kind, Counting::Actual) == 0);
            if best_effort {
                return 0;
            }
            self.score_with(pod, cluster, node, resources)
        }
    }

    /// A node's balance before and after the pod, from its own amounts and the pod's
    /// requests; there is no NormalizeScore.
    fn score_by_shape(&self) -> ShapeScore {
        ShapeScore::PerNode
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::framework::plugins::resource_allocation::test_support::{
        PodDef, Req, World, pod, world,
    };

    // Upstream's pod specs in TestNodeResourcesBalancedAllocation (CPU in millicores).
    const CPU_AND_MEMORY: PodDef = pod(&[
        &[("cpu", 1000), ("memory", 2000)],
        &[("cpu", 2000), ("memory", 3000)],
    ]);
    const CPU_ONLY: PodDef = pod(&[
        &[("cpu", 1000), ("memory", 0)],
        &[("cpu", 2000), ("memory", 0)],
    ]);
    const CPU_AND_MEMORY_AND_GPU: PodDef = pod(&[
        &[("cpu", 1000), ("memory", 2000)],
        &[("cpu", 2000), ("memory", 3000), ("nvidia.com/gpu", 3)],
    ]);
    const CPU_MEMORY_GPU: Req = &[("cpu", 1), ("memory", 1), ("nvidia.com/gpu", 1)];

    /// One case: the pod, `makeNode(name, milliCPU, memory, extended)` nodes, the pods on
    /// them, the resources, and the scores upstream expects.
    struct Case<'a> {
        upstream: &'static str,
        pod: PodDef,
        nodes: &'static [Req],
        existing: &'a [(usize, PodDef)],
        resources: Req,
        run_pre_score: bool,
        want: &'static [i64],
    }

    fn plugin(resources: Req, scoring: BalanceScoring) -> BalancedAllocation {
        let specs = resources
            .iter()
            .map(|&(name, weight)| ResourceSpec::new(name, weight))
            .collect();
        BalancedAllocation::new(specs, scoring).unwrap()
    }

    /// Scores every node through the Plugin trait, PreScore first if asked.
    fn scores(plugin: &mut BalancedAllocation, w: &World, run_pre_score: bool) -> Vec<i64> {
        if run_pre_score {
            assert_eq!(
                plugin.pre_score(&w.pod, &w.cluster, &w.nodes),
                Status::success()
            );
        }
        w.nodes
            .iter()
            .map(|&n| plugin.score(&w.pod, &w.cluster, n))
            .collect()
    }

    fn run(scoring: BalanceScoring, cases: &[Case<'_>]) {
        for c in cases {
            let w = world(c.nodes, c.existing, &c.pod);
            let mut p = plugin(c.resources, scoring);
            assert_eq!(
                scores(&mut p, &w, c.run_pre_score),
                c.want,
                "{}",
                c.upstream
            );
        }
    }

    const DEFAULT: Req = &[("cpu", 1), ("memory", 1)];

    #[test]
    fn scores_match_upstream() {
        run(
            BalanceScoring::AfterPlacement,
            &[
                // mirrors TestNodeResourcesBalancedAllocation "nothing scheduled, resources
                // requested, differently sized nodes": |0.75 - 0.5| / 2 -> 87
                Case {
                    upstream: "nothing scheduled, resources requested, differently sized nodes",
                    pod: CPU_AND_MEMORY,
                    nodes: &[
                        &[("cpu", 4000), ("memory", 10000)],
                        &[("cpu", 6000), ("memory", 10000)],
                    ],
                    existing: &[],
                    resources: DEFAULT,
                    run_pre_score: true,
                    want: &[87, 100],
                },
                // mirrors TestNodeResourcesBalancedAllocation "resources requested, pods
                // scheduled with resources": actual requests, so cpuOnly's explicit zero
                // memory counts 0
                Case {
                    upstream: "resources requested, pods scheduled with resources",
                    pod: CPU_AND_MEMORY,
                    nodes: &[
                        &[("cpu", 10000), ("memory", 20000)],
                        &[("cpu", 10000), ("memory", 20000)],
                    ],
                    existing: &[(0, CPU_ONLY), (1, CPU_AND_MEMORY)],
                    resources: DEFAULT,
                    run_pre_score: true,
                    want: &[82, 95],
                },
                // mirrors TestNodeResourcesBalancedAllocation "resources requested, pods
                // scheduled with resources, differently sized nodes"
                Case {
                    upstream: "resources requested, pods scheduled with resources, differently sized nodes",
                    pod: CPU_AND_MEMORY,
                    nodes: &[
                        &[("cpu", 10000), ("memory", 20000)],
                        &[("cpu", 10000), ("memory", 50000)],
                    ],
                    existing: &[(0, CPU_ONLY), (1, CPU_AND_MEMORY)],
                    resources: DEFAULT,
                    run_pre_score: true,
                    want: &[82, 80],
                },
                // mirrors TestNodeResourcesBalancedAllocation "requested resources at node
                // capacity"
                Case {
                    upstream: "requested resources at node capacity",
                    pod: CPU_ONLY,
                    nodes: &[
                        &[("cpu", 6000), ("memory", 10000)],
                        &[("cpu", 6000), ("memory", 10000)],
                    ],
                    existing: &[(0, CPU_ONLY), (1, CPU_AND_MEMORY)],
                    resources: DEFAULT,
                    run_pre_score: true,
                    want: &[50, 75],
                },
                // mirrors TestNodeResourcesBalancedAllocation "include scalar resource on a
                // node for balanced resource allocation": three fractions, population std
                Case {
                    upstream: "include scalar resource on a node for balanced resource allocation",
                    pod: pod(&[&[("memory", 0), ("nvidia.com/gpu", 1)]]),
                    nodes: &[
                        &[("cpu", 3500), ("memory", 40000), ("nvidia.com/gpu", 8)],
                        &[("cpu", 3500), ("memory", 40000), ("nvidia.com/gpu", 8)],
                    ],
                    existing: &[(1, CPU_AND_MEMORY), (0, CPU_AND_MEMORY_AND_GPU)],
                    resources: CPU_MEMORY_GPU,
                    run_pre_score: true,
                    want: &[70, 65],
                },
                // mirrors TestNodeResourcesBalancedAllocation "node without the scalar
                // resource should skip the scalar resource"
                Case {
                    upstream: "node without the scalar resource should skip the scalar resource",
                    pod: CPU_AND_MEMORY,
                    nodes: &[
                        &[("cpu", 3500), ("memory", 40000), ("nvidia.com/gpu", 8)],
                        &[("cpu", 3500), ("memory", 40000)],
                    ],
                    existing: &[],
                    resources: CPU_MEMORY_GPU,
                    run_pre_score: true,
                    want: &[63, 63],
                },
                // mirrors TestNodeResourcesBalancedAllocation "resources requested, pods
                // scheduled with resources if PreScore not called"
                Case {
                    upstream: "resources requested, pods scheduled with resources if PreScore not called",
                    pod: CPU_AND_MEMORY,
                    nodes: &[
                        &[("cpu", 10000), ("memory", 20000)],
                        &[("cpu", 10000), ("memory", 20000)],
                    ],
                    existing: &[(0, CPU_ONLY), (1, CPU_AND_MEMORY)],
                    resources: DEFAULT,
                    run_pre_score: false,
                    want: &[82, 95],
                },
            ],
        );
    }

    #[test]
    fn best_effort_pods_are_skipped() {
        // mirrors TestNodeResourcesBalancedAllocation "nothing scheduled, nothing
        // requested, skip in PreScore"; a container without requests is best-effort too,
        // since BalancedAllocation does not apply the 100m / 200 MiB defaults.
        for (name, def) in [("no containers", pod(&[])), ("no requests", pod(&[&[]]))] {
            let w = world(
                &[
                    &[("cpu", 4000), ("memory", 10000)],
                    &[("cpu", 4000), ("memory", 10000)],
                ],
                &[],
                &def,
            );
            let mut p = BalancedAllocation::default();
            assert_eq!(
                p.pre_score(&w.pod, &w.cluster, &w.nodes).code,
                Code::Skip,
                "{name}"
            );
            // Upstream's Score without PreScore's state scores a best-effort pod 0.
            let mut fresh = BalancedAllocation::default();
            assert_eq!(scores(&mut fresh, &w, false), [0, 0], "{name}");
        }
    }

    #[test]
    fn change_in_balance_scores_the_improvement() {
        run(
            BalanceScoring::ChangeInBalance,
            &[
                // Reconstructed from kubernetes#135573's test "resources requested, pods
                // scheduled with resources, nodes to reach min/max score": node1 goes from
                // (1, 0) to (1, 1), from 50 to 100, scoring 100; node2 from (0, 0) to
                // (0, 1), from 100 to 50, scoring 50.
                Case {
                    upstream: "change in balance: nodes to reach min/max score",
                    pod: pod(&[&[("memory", 5000)]]),
                    nodes: &[
                        &[("cpu", 3000), ("memory", 5000)],
                        &[("cpu", 3000), ("memory", 5000)],
                    ],
                    existing: &[(0, CPU_ONLY)],
                    resources: DEFAULT,
                    run_pre_score: true,
                    want: &[100, 50],
                },
                // Balance unchanged (an empty node stays perfectly balanced): 75. A node
                // whose CPU is already at 60% and memory at 25% (82) goes to 90% / 50%
                // (80): 50 + (50 + 80 - 82) / 2 = 74.
                Case {
                    upstream: "change in balance: unchanged and slightly worse",
                    pod: CPU_AND_MEMORY,
                    nodes: &[
                        &[("cpu", 6000), ("memory", 10000)],
                        &[("cpu", 10000), ("memory", 20000)],
                    ],
                    existing: &[(1, CPU_ONLY), (1, CPU_AND_MEMORY)],
                    resources: DEFAULT,
                    run_pre_score: true,
                    want: &[75, 74],
                },
            ],
        );
        assert_eq!(
            BalancedAllocation::scoring_change_in_balance().scoring(),
            BalanceScoring::ChangeInBalance
        );
        assert_eq!(
            BalancedAllocation::default().scoring(),
            BalanceScoring::AfterPlacement
        );
    }

    #[test]
    fn balanced_resource_score_is_upstreams_float_formula() {
        assert_eq!(balanced_resource_score(&[]), 100);
        assert_eq!(balanced_resource_score(&[0.3]), 100);
        assert_eq!(balanced_resource_score(&[1.0, 0.0]), 50);
        assert_eq!(balanced_resource_score(&[0.75, 0.5]), 87);
        // The three-resource case of "include scalar resource ...", node1.
        assert_eq!(
            balanced_resource_score(&[3000.0 / 3500.0, 5000.0 / 40000.0, 0.5]),
            70
        );
    }

    #[test]
    fn invalid_arguments_are_refused_as_upstream() {
        let specs = |r: Req| -> Vec<ResourceSpec> {
            r.iter().map(|&(n, w)| ResourceSpec::new(n, w)).collect()
        };
        let new = |r: Req| BalancedAllocation::new(specs(r), BalanceScoring::AfterPlacement);
        assert_eq!(new(&[]).unwrap_err(), ArgsError::NoResources);
        assert_eq!(
            new(&[("cpu", 1), ("cpu", 1)]).unwrap_err(),
            ArgsError::DuplicateResource("cpu".into())
        );
        assert_eq!(
            new(&[("cpu", 2)]).unwrap_err(),
            ArgsError::BadWeight {
                name: "cpu".into(),
                weight: 2,
                allowed: "{1}",
            }
        );
        assert!(new(CPU_MEMORY_GPU).is_ok());
    }

    /// The dense-row fast path of Score gives exactly the generic path's integers.
    #[test]
    fn fast_path_equals_generic_scoring() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |m: i64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % m as u64) as i64 + 1
        };
        // The builders take 'static request lists; a few hundred tiny leaks in a test.
        let leak = |v: Vec<(&'static str, i64)>| -> Req { Box::leak(v.into_boxed_slice()) };
        for _ in 0..300 {
            let (cpu, mem) = (next(64_000), next(1 << 38));
            let node = leak(vec![("cpu", cpu), ("memory", mem)]);
            let used = leak(vec![("cpu", next(cpu) - 1), ("memory", next(mem) - 1)]);
            let incoming = leak(vec![("cpu", next(cpu)), ("memory", next(mem))]);
            let w = world(
                &[node],
                &[(0, pod(Box::leak(vec![used].into_boxed_slice())))],
                &pod(Box::leak(vec![incoming].into_boxed_slice())),
            );
            for mut plugin in [
                BalancedAllocation::default(),
                BalancedAllocation::scoring_change_in_balance(),
            ] {
                plugin.pre_score(&w.pod, &w.cluster, &w.nodes);
                assert!(plugin.cpu_memory_only);
                let fast = plugin.score(&w.pod, &w.cluster, w.nodes[0]);
                let generic = plugin.score_with(
                    &w.pod,
                    &w.cluster,
                    w.nodes[0],
                    plugin.resolved.iter().copied(),
                );
                assert_eq!(fast, generic, "{node:?} {used:?} {incoming:?}");
            }
        }
    }
}
