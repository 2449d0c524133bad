//! Filtering in parallel within one attempt (`Profile::parallel_filter`) changes nothing a
//! run can see: on a mixed 600-node cluster, 1,500 pods get the same decisions, in the
//! same order, and the same explanations, filtered one by one or on 1, 2 or 4 threads.

use std::sync::Arc;

use rand::SeedableRng;
use schedulers::framework::{Explanation, FrameworkScheduler, Profile};
use schedulers::{
    ClusterState, ContainerResources, Cycle, Decision, Labels, NodeAffinity, NodeId,
    NodeSelectorTerm, NodeSpec, Pod, PodId, PodTemplate, ResourceKind, Resources, Scheduler,
    SchedulerRng, SelectorOperator, SelectorRequirement, Taint, TaintEffect, Toleration,
    TopologySpreadConstraint, WhenUnsatisfiable,
};

const NODES: usize = 600;
const PODS: usize = 1_500;
const ZONES: [&str; 3] = ["zone-a", "zone-b", "zone-c"];

fn container(cpu: i64, mem: i64) -> ContainerResources {
    let mut c = ContainerResources::default();
    c.set_request(ResourceKind::CPU, cpu);
    c.set_request(ResourceKind::MEMORY, mem);
    c
}

/// Nodes of four sizes over three zones; every 7th is tainted, every 11th cordoned, so
/// that filters fail for several reasons across the visiting order.
fn cluster() -> ClusterState {
    let mut cluster = ClusterState::default();
    for i in 0..NODES {
        let cpu = [2_000, 4_000, 8_000, 16_000][i % 4];
        let mut alloc = Resources::cpu_mem(cpu, cpu << 21);
        alloc.set(ResourceKind::PODS, 20);
        let taints = if i % 7 == 0 {
            vec![Taint {
                key: "dedicated".into(),
                value: "batch".into(),
                effect: TaintEffect::NoSchedule,
            }]
        } else {
            Vec::new()
        };
        cluster.add_node(NodeSpec {
            name: format!("node-{i}"),
            allocatable: alloc,
            labels: Labels::new([
                ("topology.kubernetes.io/zone", ZONES[i % 3]),
                ("kubernetes.io/hostname", &format!("node-{i}")),
            ]),
            taints,
            unschedulable: i % 11 == 0,
            ..Default::default()
        });
    }
    cluster
}

/// Plain pods, pods that need a zone, pods spread over zones, batch pods tolerating the
/// taint, and pods too big for most nodes.
fn templates() -> Vec<Arc<PodTemplate>> {
    let plain = Arc::new(PodTemplate {
        name: "plain".into(),
        namespace: "default".into(),
        labels: Labels::new([("app", "plain")]),
        containers: vec![container(500, 1 << 30)],
        ..Default::default()
    });
    let zonal = Arc::new(PodTemplate {
        name: "zonal".into(),
        node_affinity: Some(NodeAffinity {
            required: Some(vec![NodeSelectorTerm {
                match_expressions: vec![SelectorRequirement {
                    key: "topology.kubernetes.io/zone".into(),
                    operator: SelectorOperator::In,
                    values: vec!["zone-b".into()],
                }],
                match_fields: vec![],
            }]),
            preferred: vec![],
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
    let batch = Arc::new(PodTemplate {
        name: "batch".into(),
        tolerations: vec![Toleration {
            key: "dedicated".into(),
            value: "batch".into(),
            effect: Some(TaintEffect::NoSchedule),
            ..Default::default()
        }],
        containers: vec![container(1_500, 2 << 30)],
        ..(*plain).clone()
    });
    let big = Arc::new(PodTemplate {
        name: "big".into(),
        containers: vec![container(12_000, 8 << 30)],
        ..(*plain).clone()
    });
    vec![plain, zonal, spread, batch, big]
}

/// Every decision of one run, and the explanation of every 97th pod taken mid-run.
fn run(parallel: bool) -> (Vec<Decision>, Vec<Explanation>) {
    let mut cluster = cluster();
    let kinds = templates();
    let pending: Vec<PodId> = (0..PODS)
        .map(|i| cluster.add_pod(Pod::from_template(kinds[i % kinds.len()].clone(), i as u32)))
        .collect();
    let mut profile = Profile::kube_default();
    profile.parallel_filter = parallel;
    let mut scheduler = FrameworkScheduler::new(profile);
    let mut rng = SchedulerRng::seed_from_u64(11);
    let mut decisions = Vec::new();
    let mut explanations = Vec::new();
    for chunk in pending.chunks(97) {
        let mut explain_rng = SchedulerRng::seed_from_u64(explanations.len() as u64);
        explanations.push(scheduler.explain(&cluster, chunk[0], &mut explain_rng));
        let mut cycle_decisions = Vec::new();
        scheduler.schedule(&mut Cycle::new(
            &mut cluster,
            chunk,
            &mut rng,
            &mut cycle_decisions,
        ));
        decisions.append(&mut cycle_decisions);
    }
    cluster.check_invariants().expect("consistent");
    (decisions, explanations)
}

fn on_threads(threads: usize, parallel: bool) -> (Vec<Decision>, Vec<Explanation>) {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(|| run(parallel))
}

#[test]
fn parallel_filtering_decides_exactly_as_filtering_one_by_one() {
    let (serial, serial_explained) = run(false);
    let bound = serial
        .iter()
        .filter(|d| matches!(d, Decision::Bound { .. }))
        .count();
    let unschedulable = serial
        .iter()
        .filter(|d| matches!(d, Decision::Unschedulable { .. }))
        .count();
    // The cluster fills up: both outcomes occur, so the comparison covers both paths.
    assert!(
        bound > 500 && unschedulable > 100,
        "{bound} bound, {unschedulable} not"
    );
    assert!(serial_explained.iter().any(|e| {
        e.nodes
            .iter()
            .any(|v| v.failed_plugin == Some("TaintToleration"))
    }));
    for threads in [1, 2, 4] {
        let (decisions, explained) = on_threads(threads, true);
        assert_eq!(decisions, serial, "{threads} threads");
        assert_eq!(explained, serial_explained, "{threads} threads");
    }
}

#[test]
fn an_unfilterable_cluster_gives_the_same_diagnosis_in_parallel() {
    // Nothing fits a 64-CPU pod: every node is visited and fails, in both modes.
    let build = || {
        let mut cluster = cluster();
        let huge = Arc::new(PodTemplate {
            name: "huge".into(),
            namespace: "default".into(),
            containers: vec![container(64_000, 1 << 30)],
            ..Default::default()
        });
        let pod = cluster.add_pod(Pod::from_template(huge, 0));
        (cluster, pod)
    };
    let explain = |parallel: bool| {
        let (cluster, pod) = build();
        let mut profile = Profile::kube_default();
        profile.parallel_filter = parallel;
        let e = FrameworkScheduler::new(profile).explain(
            &cluster,
            pod,
            &mut SchedulerRng::seed_from_u64(3),
        );
        assert_eq!(e.selected, None::<NodeId>);
        e
    };
    let serial = explain(false);
    assert_eq!(serial.nodes.iter().filter(|v| v.evaluated).count(), NODES);
    let parallel = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| explain(true));
    assert_eq!(parallel, serial);
}
