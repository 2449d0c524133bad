//! kube-default's scheduling throughput, as kube-scheduler's scheduler_perf measures it:
//! pods placed per second on 500, 5,000 and 10,000 nodes that already run 30 pods each,
//! for plain pods and for a mix of plain pods, pods with node affinity and pods with a
//! zone topology spread constraint. One scheduling cycle per pod, one core, with the
//! scheduler's caches warm as in a running simulation.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use schedulers::framework::{FrameworkScheduler, Profile};
use schedulers::{
    ClusterState, ContainerResources, Cycle, Labels, NodeAffinity, NodeSelectorTerm, NodeSpec, Pod,
    PodId, PodTemplate, PreferredTerm, ResourceKind, Resources, Scheduler, SchedulerRng,
    SelectorOperator, SelectorRequirement, TopologySpreadConstraint, WhenUnsatisfiable,
};

/// Pods scheduled per measured iteration.
const PODS: usize = 2_000;
/// Pods already running on every node.
const PODS_PER_NODE: usize = 30;
const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

fn container(cpu: i64, mem: i64) -> ContainerResources {
    let mut c = ContainerResources::default();
    c.set_request(ResourceKind::CPU, cpu);
    c.set_request(ResourceKind::MEMORY, mem);
    c
}

/// `nodes` nodes of 32 CPU / 128 GiB over three zones, each running 30 pods of 250m / 512Mi.
fn cluster(nodes: usize) -> ClusterState {
    let mut cluster = ClusterState::default();
    let mut alloc = Resources::cpu_mem(32_000, 128 << 30);
    alloc.set(ResourceKind::PODS, 110);
    for i in 0..nodes {
        cluster.add_node(NodeSpec {
            name: format!("node-{i}"),
            allocatable: alloc,
            labels: Labels::new([
                ("topology.kubernetes.io/zone", ZONES[i % 3]),
                ("kubernetes.io/hostname", &format!("node-{i}")),
            ]),
            ..Default::default()
        });
    }
    let existing = Arc::new(PodTemplate {
        name: "existing".into(),
        namespace: "default".into(),
        labels: Labels::new([("app", "existing")]),
        containers: vec![container(250, 512 << 20)],
        ..Default::default()
    });
    for n in 0..nodes {
        for k in 0..PODS_PER_NODE {
            let id = cluster.add_pod(Pod::from_template(
                existing.clone(),
                (n * PODS_PER_NODE + k) as u32,
            ));
            cluster
                .bind(id, schedulers::NodeId(n as u32))
                .expect("fits");
        }
    }
    cluster
}

/// The pods to place: all plain, or a third each plain, with node affinity (required
/// zones a or b, preferring a), and with a hard zone spread constraint.
fn templates(mix: bool) -> Vec<Arc<PodTemplate>> {
    let plain = Arc::new(PodTemplate {
        name: "plain".into(),
        namespace: "default".into(),
        labels: Labels::new([("app", "plain")]),
        containers: vec![container(100, 256 << 20)],
        ..Default::default()
    });
    if !mix {
        return vec![plain];
    }
    let zone = |values: &[&str]| SelectorRequirement {
        key: "topology.kubernetes.io/zone".into(),
        operator: SelectorOperator::In,
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let affinity = Arc::new(PodTemplate {
        name: "affinity".into(),
        node_affinity: Some(NodeAffinity {
            required: Some(vec![NodeSelectorTerm {
                match_expressions: vec![zone(&["zone-a", "zone-b"])],
                match_fields: vec![],
            }]),
            preferred: vec![PreferredTerm {
                weight: 10,
                preference: NodeSelectorTerm {
                    match_expressions: vec![zone(&["zone-a"])],
                    match_fields: vec![],
                },
            }],
        }),
        ..(*plain).clone()
    });
    let spread = Arc::new(PodTemplate {
        name: "spread".into(),
        labels: Labels::new([("app", "spread")]),
        topology_spread_constraints: vec![TopologySpreadConstraint {
            max_skew: 1,
            topology_key: "topology.kubernetes.io/zone".into(),
            when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
            label_selector: Some(schedulers::LabelSelector::equals("app", "spread")),
            ..Default::default()
        }],
        ..(*plain).clone()
    });
    vec![plain, affinity, spread]
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("kube_default");
    group.sample_size(10);
    group.throughput(Throughput::Elements(PODS as u64));
    for nodes in [500, 5_000, 10_000] {
        for mix in [false, true] {
            let kinds = templates(mix);
            let label = format!("{}/{nodes}_nodes", if mix { "mix" } else { "plain" });
            // One cluster and one scheduler for the whole benchmark, as in a running
            // simulation: caches keyed by node generations (zone order, shape and
            // inter-pod census) are warm, and only what changed is recomputed. Each
            // iteration adds PODS pending pods (untimed), schedules them (timed) and
            // removes them again (untimed), so every iteration starts from the same load.
            let mut cluster = cluster(nodes);
            let mut scheduler = FrameworkScheduler::new(Profile::kube_default());
            let mut rng = SchedulerRng::seed_from_u64(1);
            let mut decisions = Vec::with_capacity(PODS);
            group.bench_function(label, |b| {
                b.iter_custom(|iterations| {
                    let mut total = std::time::Duration::ZERO;
                    for _ in 0..iterations {
                        let pending: Vec<PodId> = (0..PODS)
                            .map(|i| {
                                cluster.add_pod(Pod::from_template(
                                    kinds[i % kinds.len()].clone(),
                                    i as u32,
                                ))
                            })
                            .collect();
                        let start = std::time::Instant::now();
                        scheduler.schedule(&mut Cycle::new(
                            &mut cluster,
                            &pending,
                            &mut rng,
                            &mut decisions,
                        ));
                        total += start.elapsed();
                        black_box(decisions.len());
                        for pod in pending {
                            cluster.remove_pod(pod);
                        }
                    }
                    total
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
