//! Small clusters and pods for the algorithms' hand-checked tests.

use std::sync::Arc;

use rand::{RngExt, SeedableRng};

use crate::cluster::ClusterState;
use crate::node::{NodeId, NodeSpec};
use crate::pod::{ContainerResources, Pod, PodId, PodTemplate};
use crate::resources::{ResourceKind, Resources};
use crate::scheduler::{Cycle, Decision, Placement, Scheduler, SchedulerRng};
use crate::taints::{Taint, TaintEffect};

/// One gibibyte.
pub const GIB: i64 = 1 << 30;

/// A plain node of `cpu` millicores and `memory` bytes, 110 pod slots, named `n<i>`.
pub fn node(i: usize, cpu: i64, memory: i64) -> NodeSpec {
    let mut allocatable = Resources::cpu_mem(cpu, memory);
    allocatable.set(ResourceKind::PODS, 110);
    NodeSpec {
        name: format!("n{i}"),
        allocatable,
        ..Default::default()
    }
}

/// A cluster of plain nodes, `(cpu, memory)` each.
pub fn cluster(nodes: &[(i64, i64)]) -> ClusterState {
    cluster_of(
        nodes
            .iter()
            .enumerate()
            .map(|(i, &(cpu, mem))| node(i, cpu, mem))
            .collect(),
    )
}

/// A cluster of the given nodes.
pub fn cluster_of(nodes: Vec<NodeSpec>) -> ClusterState {
    let mut c = ClusterState::default();
    for n in nodes {
        c.add_node(n);
    }
    c
}

/// Taints a node spec `NoSchedule` with `key`.
pub fn tainted(mut spec: NodeSpec, key: &str) -> NodeSpec {
    spec.taints.push(Taint {
        key: key.into(),
        value: String::new(),
        effect: TaintEffect::NoSchedule,
    });
    spec
}

/// A pending pod requesting `cpu` millicores and `memory` bytes; a zero amount is left
/// unset, so it counts as kube's scoring default.
pub fn pod_of(cpu: i64, memory: i64) -> Pod {
    pod_with(cpu, memory, &[])
}

/// Like [`pod_of`], with extra requests of other kinds.
pub fn pod_with(cpu: i64, memory: i64, extra: &[(ResourceKind, i64)]) -> Pod {
    let mut c = ContainerResources::default();
    for (kind, amount) in [(ResourceKind::CPU, cpu), (ResourceKind::MEMORY, memory)]
        .into_iter()
        .chain(extra.iter().copied())
    {
        if amount > 0 {
            c.set_request(kind, amount);
        }
    }
    let template = Arc::new(PodTemplate {
        name: "p".into(),
        containers: vec![c],
        ..Default::default()
    });
    Pod::from_template(template, 0)
}

/// Binds a pod of `(cpu, memory)` to `node` before the test's cycle.
pub fn preload(c: &mut ClusterState, node: u32, cpu: i64, memory: i64) {
    let id = c.add_pod(pod_of(cpu, memory));
    c.bind(id, NodeId(node)).expect("preloaded pod fits");
}

/// Queues pods of `(cpu, memory)` and runs one cycle of `s` with a fixed seed; returns
/// the decisions in queue order.
pub fn run(s: &mut dyn Scheduler, c: &mut ClusterState, pods: &[(i64, i64)]) -> Vec<Decision> {
    let pods: Vec<Pod> = pods.iter().map(|&(cpu, mem)| pod_of(cpu, mem)).collect();
    run_pods(s, c, pods)
}

/// Queues the given pods and runs one cycle of `s` with a fixed seed.
pub fn run_pods(s: &mut dyn Scheduler, c: &mut ClusterState, pods: Vec<Pod>) -> Vec<Decision> {
    let ids: Vec<PodId> = pods.into_iter().map(|p| c.add_pod(p)).collect();
    let mut rng = SchedulerRng::seed_from_u64(7);
    let mut decisions = Vec::new();
    s.schedule(&mut Cycle::new(c, &ids, &mut rng, &mut decisions));
    assert_eq!(decisions.len(), ids.len(), "one decision per pod");
    c.check_invariants().expect("bookkeeping holds");
    decisions
}

/// The node index of each decision, or the diagnosis text of an unschedulable pod.
pub fn outcome(decisions: &[Decision]) -> Vec<Result<u32, String>> {
    decisions
        .iter()
        .map(|d| match d {
            Decision::Bound { node, .. } => Ok(node.0),
            Decision::Unschedulable { diagnosis, .. } => Err(diagnosis.to_string()),
            Decision::Preempt { .. } => Err("preempt".into()),
            Decision::Waiting { .. } => Err("waiting".into()),
        })
        .collect()
}

/// The node index of each decision; panics on a pod left pending.
pub fn nodes(decisions: &[Decision]) -> Vec<u32> {
    outcome(decisions)
        .into_iter()
        .map(|o| o.expect("every pod placed"))
        .collect()
}

/// Churns `c` for `steps` steps drawn from `seed`, for the tests of a shape cache against
/// the scan it replaces: a pod of one of `shapes` (`(cpu, memory)`) arrives (6 steps in
/// 10), a pod bound earlier leaves (3 in 10), or a node is cordoned or uncordoned (the
/// rest, and any step that finds no pod to remove). `place` gets each arriving pod,
/// pending in the cluster, and returns its placement by the cache and by the scan; they
/// must be equal. The pod is then bound where they put it, or removed.
pub fn churn(
    c: &mut ClusterState,
    seed: u64,
    steps: usize,
    shapes: &[(i64, i64)],
    mut place: impl FnMut(&ClusterState, PodId) -> (Placement, Placement),
) {
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
    let mut bound = Vec::new();
    for step in 0..steps {
        match rng.random_range(0..10) {
            0..6 => {
                let (cpu, memory) = shapes[rng.random_range(0..shapes.len())];
                let id = c.add_pod(pod_of(cpu, memory));
                let (cached, scanned) = place(c, id);
                assert_eq!(cached, scanned, "step {step}: the cache against the scan");
                match cached {
                    Placement::Node(node) => {
                        c.bind(id, node).unwrap();
                        bound.push(id);
                    }
                    _ => {
                        c.remove_pod(id);
                    }
                }
            }
            6..9 if !bound.is_empty() => {
                let id = bound.swap_remove(rng.random_range(0..bound.len()));
                c.unbind(id).unwrap();
                c.remove_pod(id);
            }
            _ => {
                let node = NodeId(rng.random_range(0..c.rows().len() as u32));
                let cordoned = c.node(node).spec.unschedulable;
                c.set_unschedulable(node, !cordoned).unwrap();
            }
        }
    }
}
