//! GPU sharing through the scenario format and the event simulation: `gpus`/`gpuModel` on
//! nodes, `gpu`/`gpuModels` on workloads, placements worked out by hand, and the loader's
//! errors for bad GPU fields.

use schedulers::gpu::GpuRequest;
use schedulers::{NodeId, Registry};
use sim::{Simulation, parse_scenario};

const SCENARIO: &str = r#"
cluster:
  nodePools:
    - {name: a, count: 1, allocatable: {cpu: "32", memory: 64Gi}, gpus: 2, gpuModel: A}
    - {name: b, count: 1, allocatable: {cpu: "32", memory: 64Gi}, gpus: 1, gpuModel: B}
workloads:
  - {pod: s1, at: 0s, requests: {cpu: "1", memory: 1Gi}, gpu: 0.6}
  - {pod: s2, at: 1s, requests: {cpu: "1", memory: 1Gi}, gpu: 600m}
  - {pod: s3, at: 2s, requests: {cpu: "1", memory: 1Gi}, gpu: 0.6}
  - {pod: w1, at: 3s, requests: {cpu: "1", memory: 1Gi}, gpu: 1}
  - {pod: typed, at: 4s, requests: {cpu: "1", memory: 1Gi}, gpu: 0.4, gpuModels: [A]}
"#;

fn load(text: &str) -> Result<sim::Scenario, sim::ScenarioError> {
    let registry = Registry::builtin();
    parse_scenario(text, "gpu.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
}

/// first-fit, worked by hand (a: GPUs a0, a1; b: GPU b0; shares go to the fullest GPU
/// that holds them):
/// - s1 (0.6) -> a, a0 (both free, lowest index): a0 600 used.
/// - s2 (0.6) -> a, a1 (a0 has 400 free): a1 600 used.
/// - s3 (0.6) -> a has 400 + 400 free, no GPU holds 600 -> b, b0.
/// - w1 (1 GPU) -> no GPU is entirely free anywhere: it stays pending.
/// - typed (0.4 of model A) -> a, a0 (400 free, best fit; a1 ties, lower index wins).
#[test]
fn first_fit_places_shares_and_whole_gpus_by_hand() {
    let scenario = load(SCENARIO).unwrap();
    assert_eq!(scenario.nodes[0].gpu.count, 2);
    assert_eq!(scenario.nodes[1].gpu.model, "B");
    assert_eq!(scenario.workloads[1].template.gpu, GpuRequest::share(600));
    assert_eq!(scenario.workloads[3].template.gpu, GpuRequest::whole(1));
    assert_eq!(scenario.workloads[4].template.gpu.models, ["A"]);
    let registry = Registry::builtin();
    let mut sim = Simulation::new(&scenario, registry.create("first-fit").unwrap(), 1);
    while sim.step() {
        sim.cluster().check_invariants().unwrap();
    }
    let c = sim.cluster();
    let books = c.gpus().unwrap();
    assert_eq!(books.used(NodeId(0)), [1000, 600]);
    assert_eq!(books.used(NodeId(1)), [600]);
    let placed = |name: &str| {
        c.pods()
            .find(|(_, p)| p.template.name == name)
            .map(|(_, p)| (p.node, p.gpus()))
            .unwrap()
    };
    assert_eq!(placed("s1"), (Some(NodeId(0)), 0b01));
    assert_eq!(placed("s2"), (Some(NodeId(0)), 0b10));
    assert_eq!(placed("s3"), (Some(NodeId(1)), 0b1));
    assert_eq!(placed("w1"), (None, 0));
    assert_eq!(placed("typed"), (Some(NodeId(0)), 0b01));
}

#[test]
fn bad_gpu_fields_are_reported_with_position() {
    let cases = [
        (
            "cluster:\n  nodePools:\n    - {name: a, count: 1, gpus: 2, gpuModel: A}\nworkloads:\n  - {pod: p, gpu: 1.5}\n",
            (5, 19),
            "workloads[0].gpu",
            "expected a share of one GPU below 1",
        ),
        (
            "cluster:\n  nodePools:\n    - {name: a, count: 1, gpuModel: A}\n",
            (3, 37),
            "cluster.nodePools[0].gpuModel",
            "a GPU model needs GPUs",
        ),
        (
            "cluster:\n  nodePools:\n    - {name: a, count: 1, gpus: 65}\n",
            (3, 33),
            "cluster.nodePools[0].gpus",
            "from 0 to 64",
        ),
        (
            "workloads:\n  - {pod: p, gpuModels: [A]}\n",
            (2, 25),
            "workloads[0].gpuModels",
            "set `gpu` too",
        ),
    ];
    for (text, (line, column), field, phrase) in cases {
        let e = load(text).unwrap_err();
        assert_eq!(
            (e.line, e.column, e.field.as_deref()),
            (Some(line), Some(column), Some(field)),
            "{e}"
        );
        assert!(e.message.contains(phrase), "{e}");
    }
}

#[test]
fn seeds_list_and_its_errors() {
    let s = load("seeds: [3, 1, 2]\n").unwrap();
    assert_eq!(s.seeds, [3, 1, 2]);
    let e = load("seed: 4\nseeds: [1]\n").unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (Some(2), Some("seeds")));
    let e = load("seeds: [1, 1]\n").unwrap_err();
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(1), Some(12), Some("seeds[1]"))
    );
    let e = load("gpuTrace: {format: csv, nodes: n.csv, pods: p.csv}\n").unwrap_err();
    assert!(e.message.contains("unknown trace format"), "{e}");
    let e = load("gpuTrace: {format: alibaba-gpu-v2023, nodes: missing.csv, pods: p.csv}\n")
        .unwrap_err();
    assert!(e.to_string().contains("missing.csv"), "{e}");
    assert!(e.message.contains("cannot read the trace file"), "{e}");
}

/// kube-default's NodeResourcesFit consults the GPU books too, so it never chooses a node
/// whose GPUs cannot hold the pod. Wherever it puts them, the three 0.6 shares take three
/// different GPUs (two do not fit on one), so no GPU is left whole for w1, and model A's
/// GPUs both keep 400 free for the 0.4 pod: four pods bound, none refused.
#[test]
fn kube_default_respects_gpus() {
    let scenario = load(SCENARIO).unwrap();
    let registry = Registry::builtin();
    let result = sim::run(&scenario, registry.create("kube-default").unwrap(), 1);
    assert_eq!(result.summary.count(&sim::columns::REFUSED_BINDS), 0);
    assert_eq!(
        result.summary.count(&sim::columns::PODS_SCHEDULED),
        4,
        "w1 finds no free GPU"
    );
}

/// Random GPU clusters and pods, every registered scheduler: after every cycle and every
/// removal the books hold (`check_invariants` recomputes each GPU's use from the pods),
/// no scheduler ever picks a node whose GPUs cannot take the pod (no refused bind), and a
/// pod left unplaced really fits nowhere (an independent check over every GPU).
#[test]
fn random_gpu_clusters_keep_books_for_every_scheduler() {
    use rand::rngs::ChaCha8Rng;
    use rand::{RngExt, SeedableRng};
    use schedulers::gpu::{GPU_MILLI, NodeGpus};
    use schedulers::{
        ClusterState, Cycle, Decision, NodeSpec, Pod, PodTemplate, ResourceKind, Resources,
    };
    use std::sync::Arc;

    let registry = Registry::builtin();
    let models = ["A", "B", ""];
    for (name, _) in registry.iter() {
        for seed in 0..4u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut c = ClusterState::default();
            for i in 0..6 {
                let mut alloc = Resources::cpu_mem(16_000, 64 << 30);
                alloc.set(ResourceKind::PODS, 110);
                let count = [0, 1, 2, 4, 8][rng.random_range(0..5)];
                c.add_node(NodeSpec {
                    name: format!("n{i}"),
                    allocatable: alloc,
                    gpu: NodeGpus {
                        count,
                        model: if count == 0 {
                            String::new()
                        } else {
                            models[rng.random_range(0..2)].into()
                        },
                    },
                    ..Default::default()
                });
            }
            let mut scheduler = registry.create(name).unwrap();
            let mut sched_rng = ChaCha8Rng::seed_from_u64(seed);
            let mut decisions = Vec::new();
            let mut bound = Vec::new();
            for step in 0..120 {
                let gpu = match rng.random_range(0..4) {
                    0 => GpuRequest::default(),
                    1 | 2 => GpuRequest::share(rng.random_range(1..GPU_MILLI)),
                    _ => GpuRequest::whole([1, 1, 2, 4][rng.random_range(0..4)]),
                };
                let mut gpu = gpu;
                if gpu.is_some() && rng.random_range(0..5) == 0 {
                    gpu.models = vec![models[rng.random_range(0..3)].to_string()];
                }
                let template = Arc::new(PodTemplate {
                    name: format!("p{step}"),
                    singleton: true,
                    gpu,
                    ..Default::default()
                });
                let cpu = rng.random_range(100..3000);
                let mut r = Resources::cpu_mem(cpu, 1 << 30);
                r.set(ResourceKind::PODS, 1);
                let id = c.add_pod(Pod::with_requests(template, 0, r, cpu, 1 << 30));
                scheduler.schedule(&mut Cycle::new(
                    &mut c,
                    &[id],
                    &mut sched_rng,
                    &mut decisions,
                ));
                c.check_invariants().unwrap();
                match &decisions[..] {
                    [Decision::Bound { .. }] => bound.push(id),
                    [Decision::Unschedulable { diagnosis, .. }] => {
                        let text = diagnosis.to_string();
                        assert!(!text.contains("could not bind"), "{name}: {text}");
                        // Oracle: no node has room for the pod's CPU and GPU ask.
                        let pod = c.pod(id).unwrap();
                        let g = &pod.template.gpu;
                        let fits_somewhere = c.nodes().iter().enumerate().any(|(n, node)| {
                            let used = c
                                .gpus()
                                .map(|b| b.used(NodeId(n as u32)).to_vec())
                                .unwrap_or_default();
                            let room = used
                                .iter()
                                .filter(|&&u| u32::from(u) + g.milli <= GPU_MILLI)
                                .count() as u32;
                            pod.requests.fits_in(&c.rows()[n].free)
                                && (!g.is_some()
                                    || (g.accepts_model(&node.spec.gpu.model) && room >= g.count))
                        });
                        assert!(
                            !fits_somewhere,
                            "{name}: {} left unplaced but fits: {text}",
                            pod.template.name
                        );
                        c.remove_pod(id);
                    }
                    other => panic!("{name}: {other:?}"),
                }
                if !bound.is_empty() && rng.random_range(0..4) == 0 {
                    let victim = bound.swap_remove(rng.random_range(0..bound.len()));
                    c.remove_pod(victim).unwrap();
                    c.check_invariants().unwrap();
                }
            }
        }
    }
}
