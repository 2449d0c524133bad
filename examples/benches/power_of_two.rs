//! How fast `power-of-two` places pods, next to the built-ins it sits between.
//!
//! One scheduling cycle of 1,000 identical pending pods (500m CPU, 1 GiB) on 1,000 empty
//! nodes of 16 CPU and 64 GiB, for `random`, `least-allocated`, `first-fit` and this
//! crate's `power-of-two` and `largest-first`. Throughput is in pods per second
//! (criterion's "elem/s"). Each iteration starts from a clone of the same cluster
//! (untimed), so every scheduler sees the same work.
//!
//! ```text
//! cargo bench -p schedlab-examples
//! ```

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use schedlab_examples::{LargestFirst, PowerOfTwo, registry};
use schedulers::{
    ClusterState, ContainerResources, Cycle, NodeSpec, Pod, PodId, PodTemplate, ResourceKind,
    Resources, SchedulerRng,
};

const NODES: usize = 1_000;
const PODS: usize = 1_000;

/// The cluster and its pending pods, built once and cloned for every iteration.
fn setup() -> (ClusterState, Vec<PodId>) {
    let mut cluster = ClusterState::default();
    let mut allocatable = Resources::cpu_mem(16_000, 64 << 30);
    allocatable.set(ResourceKind::PODS, 110);
    for i in 0..NODES {
        cluster.add_node(NodeSpec {
            name: format!("node-{i}"),
            allocatable,
            ..Default::default()
        });
    }
    let mut container = ContainerResources::default();
    container.set_request(ResourceKind::CPU, 500);
    container.set_request(ResourceKind::MEMORY, 1 << 30);
    let template = Arc::new(PodTemplate {
        name: "web".into(),
        containers: vec![container],
        ..Default::default()
    });
    let pending = (0..PODS)
        .map(|i| cluster.add_pod(Pod::from_template(template.clone(), i as u32)))
        .collect();
    (cluster, pending)
}

fn cycle(c: &mut Criterion) {
    let (cluster, pending) = setup();
    let registry = registry();
    let mut group = c.benchmark_group("cycle-1000-nodes-1000-pods");
    group.sample_size(20);
    group.throughput(Throughput::Elements(PODS as u64));
    for name in [
        "random",
        "least-allocated",
        "first-fit",
        PowerOfTwo::NAME,
        LargestFirst::NAME,
    ] {
        // One scheduler for all iterations, as in a run: its scratch buffers stay warm.
        let mut scheduler = registry.create(name).expect("registered");
        let mut rng = SchedulerRng::seed_from_u64(1);
        let mut decisions = Vec::with_capacity(PODS);
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || cluster.clone(),
                |cluster| {
                    scheduler.schedule(&mut Cycle::new(
                        cluster,
                        &pending,
                        &mut rng,
                        &mut decisions,
                    ));
                    black_box(decisions.len())
                },
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, cycle);
criterion_main!(benches);
