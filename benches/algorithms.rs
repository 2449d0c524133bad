//! Per-algorithm throughput: pods placed per second by every algorithm in
//! `Registry::builtin()`, on 1,000 and 10,000 nodes.
//!
//! The cluster of each size is built once: nodes of 32 CPU / 128 GiB / 110 pod slots, node
//! `i` already running `i % 8` pods of 1 CPU / 4 GiB, so nodes differ and scoring
//! algorithms have something to choose between. Every iteration takes a fresh clone of it
//! (untimed), queues the pending pods, four shapes in turn (500m/1Gi, 1/4Gi, 2/2Gi,
//! 4/16Gi), and times one `Scheduler::schedule` over the whole queue through `Cycle::new`:
//! 2,000 pods on 1,000 nodes, 5,000 on 10,000. Each algorithm keeps one instance per size
//! across iterations, as in a run, but a clone is a new cluster to its caches (a new
//! `ClusterState::uid`), so every iteration starts them cold, as the first cycle of a run
//! does. Throughput is criterion's "elem/s", one element per pending pod.
//!
//! The loop iterates the registry, so an algorithm registered later is benched with no
//! change here. Before measuring, each algorithm's decisions on one clone are counted and
//! printed to stderr (every pod fits, so all should be bound): an algorithm cannot look
//! fast by placing fewer pods without it showing.
//!
//! ```text
//! cargo bench --bench algorithms
//! ```

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use schedulers::{
    ClusterState, ContainerResources, Cycle, Decision, NodeId, NodeSpec, Pod, PodId, PodTemplate,
    Registry, ResourceKind, Resources, Scheduler, SchedulerRng,
};

/// (nodes, pending pods per iteration).
const SIZES: [(usize, usize); 2] = [(1_000, 2_000), (10_000, 5_000)];
/// The pending pods' shapes, (CPU millicores, memory bytes), queued in turn.
const SHAPES: [(i64, i64); 4] = [
    (500, 1 << 30),
    (1_000, 4 << 30),
    (2_000, 2 << 30),
    (4_000, 16 << 30),
];

fn template(name: &str, cpu: i64, memory: i64) -> Arc<PodTemplate> {
    let mut c = ContainerResources::default();
    c.set_request(ResourceKind::CPU, cpu);
    c.set_request(ResourceKind::MEMORY, memory);
    Arc::new(PodTemplate {
        name: name.into(),
        namespace: "default".into(),
        containers: vec![c],
        ..Default::default()
    })
}

/// `nodes` nodes of 32 CPU / 128 GiB, node `i` running `i % 8` pods of 1 CPU / 4 GiB.
fn cluster(nodes: usize) -> ClusterState {
    let mut cluster = ClusterState::default();
    let mut allocatable = Resources::cpu_mem(32_000, 128 << 30);
    allocatable.set(ResourceKind::PODS, 110);
    for i in 0..nodes {
        cluster.add_node(NodeSpec {
            name: format!("node-{i}"),
            allocatable,
            ..Default::default()
        });
    }
    let existing = template("existing", 1_000, 4 << 30);
    let mut ordinal = 0;
    for n in 0..nodes {
        for _ in 0..n % 8 {
            let id = cluster.add_pod(Pod::from_template(existing.clone(), ordinal));
            ordinal += 1;
            cluster.bind(id, NodeId(n as u32)).expect("fits");
        }
    }
    cluster
}

/// A clone of `base` with `pods` pending pods queued, and their ids in queue order.
fn with_pending(
    base: &ClusterState,
    shapes: &[Arc<PodTemplate>],
    pods: usize,
) -> (ClusterState, Vec<PodId>) {
    let mut cluster = base.clone();
    let pending = (0..pods)
        .map(|i| {
            cluster.add_pod(Pod::from_template(
                shapes[i % shapes.len()].clone(),
                i as u32,
            ))
        })
        .collect();
    (cluster, pending)
}

/// One cycle of `scheduler` over the pending pods; returns the cluster (dropped untimed)
/// and how many pods were bound.
fn schedule(
    scheduler: &mut dyn Scheduler,
    (mut cluster, pending): (ClusterState, Vec<PodId>),
    rng: &mut SchedulerRng,
    decisions: &mut Vec<Decision>,
) -> (ClusterState, usize) {
    scheduler.schedule(&mut Cycle::new(&mut cluster, &pending, rng, decisions));
    let bound = decisions
        .iter()
        .filter(|d| matches!(d, Decision::Bound { .. }))
        .count();
    (cluster, bound)
}

fn throughput(c: &mut Criterion) {
    let registry = Registry::builtin();
    let shapes: Vec<Arc<PodTemplate>> = SHAPES
        .iter()
        .enumerate()
        .map(|(i, &(cpu, mem))| template(&format!("shape{i}"), cpu, mem))
        .collect();
    let mut group = c.benchmark_group("algorithms");
    // One iteration takes from milliseconds to about a second: flat sampling with 10
    // samples keeps the whole bench to a few minutes.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (nodes, pods) in SIZES {
        let base = cluster(nodes);
        group.throughput(Throughput::Elements(pods as u64));
        for (name, _) in registry.iter() {
            let mut scheduler = registry.create(name).expect("registered");
            let mut rng = SchedulerRng::seed_from_u64(1);
            let mut decisions = Vec::with_capacity(pods);

            let (_, bound) = schedule(
                scheduler.as_mut(),
                with_pending(&base, &shapes, pods),
                &mut rng,
                &mut decisions,
            );
            eprintln!("{name} on {nodes} nodes: {bound} of {pods} pods bound");
            if bound != pods {
                eprintln!("WARNING: {name} left pods pending although every pod fits");
            }

            group.bench_function(format!("{name}/{nodes}_nodes"), |b| {
                b.iter_batched(
                    || with_pending(&base, &shapes, pods),
                    |input| {
                        let (cluster, bound) =
                            schedule(scheduler.as_mut(), input, &mut rng, &mut decisions);
                        black_box(bound);
                        cluster
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    group.finish();
}

criterion_group!(benches, throughput);
criterion_main!(benches);
