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
//! A second group, `gpu-sharing`, runs the algorithms of the openb GPU replay (`fgd`,
//! `best-fit`, `tetris`, `random`, `first-fit`) on GPU nodes with a queue of GPU shares and
//! whole GPUs (see `gpu_throughput`).
//!
//! ```text
//! cargo bench --bench algorithms
//! cargo bench --bench algorithms -- gpu-sharing
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
    let names: Vec<&str> = registry.iter().map(|(name, _)| name).collect();
    bench_group(c, "algorithms", &registry, &names, &shapes, cluster);
}

/// The algorithms of the openb GPU replay on GPU nodes: 64 CPU / 256 GiB and 8 GPUs each,
/// node `i` already holding `i % 8` half-GPU pods, and a queue of GPU shares (a quarter,
/// a half), one whole GPU and two whole GPUs, in turn.
fn gpu_throughput(c: &mut Criterion) {
    let registry = Registry::builtin();
    let shapes: Vec<Arc<PodTemplate>> = [
        (2_000, 250u32, 1u32),
        (4_000, 500, 1),
        (8_000, 1_000, 1),
        (16_000, 1_000, 2),
    ]
    .iter()
    .enumerate()
    .map(|(i, &(cpu, milli, count))| gpu_template(&format!("gpu{i}"), cpu, milli, count))
    .collect();
    let names = ["fgd", "best-fit", "tetris", "random", "first-fit"];
    bench_group(c, "gpu-sharing", &registry, &names, &shapes, gpu_cluster);
}

/// A pod template asking `cpu` millicores, 8 GiB and `count` GPUs of `milli` each.
fn gpu_template(name: &str, cpu: i64, milli: u32, count: u32) -> Arc<PodTemplate> {
    let gpu = if count == 1 {
        schedulers::gpu::GpuRequest::share(milli)
    } else {
        schedulers::gpu::GpuRequest::whole(count)
    };
    Arc::new(PodTemplate {
        gpu,
        ..(*template(name, cpu, 8 << 30)).clone()
    })
}

/// `nodes` GPU nodes, node `i` holding `i % 8` half-GPU pods.
fn gpu_cluster(nodes: usize) -> ClusterState {
    let mut cluster = ClusterState::default();
    let mut allocatable = Resources::cpu_mem(64_000, 256 << 30);
    allocatable.set(ResourceKind::PODS, 110);
    for i in 0..nodes {
        cluster.add_node(NodeSpec {
            name: format!("gpu-node-{i}"),
            allocatable,
            gpu: schedulers::gpu::NodeGpus {
                count: 8,
                model: "V100M32".into(),
            },
            ..Default::default()
        });
    }
    let existing = gpu_template("existing", 2_000, 500, 1);
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

/// Benches `names` at every size of [`SIZES`] on clusters from `build`, with a queue of
/// `shapes` in turn.
fn bench_group(
    c: &mut Criterion,
    group_name: &str,
    registry: &Registry,
    names: &[&str],
    shapes: &[Arc<PodTemplate>],
    build: fn(usize) -> ClusterState,
) {
    let mut group = c.benchmark_group(group_name);
    // One iteration takes from milliseconds to about a second: flat sampling with 10
    // samples keeps the whole bench to a few minutes.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (nodes, pods) in SIZES {
        let base = build(nodes);
        group.throughput(Throughput::Elements(pods as u64));
        for &name in names {
            let mut scheduler = registry.create(name).expect("registered");
            let mut rng = SchedulerRng::seed_from_u64(1);
            let mut decisions = Vec::with_capacity(pods);

            let (_, bound) = schedule(
                scheduler.as_mut(),
                with_pending(&base, shapes, pods),
                &mut rng,
                &mut decisions,
            );
            eprintln!("{group_name}: {name} on {nodes} nodes: {bound} of {pods} pods bound");
            if bound != pods {
                eprintln!("WARNING: {name} left pods pending although every pod fits");
            }

            group.bench_function(format!("{name}/{nodes}_nodes"), |b| {
                b.iter_batched(
                    || with_pending(&base, shapes, pods),
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

criterion_group!(benches, throughput, gpu_throughput);
criterion_main!(benches);
