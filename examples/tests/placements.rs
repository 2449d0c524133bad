//! Placements of `power-of-two` and `largest-first` on clusters of two to four nodes,
//! worked out by hand in each test's comments, and `capped-fit`, an algorithm with an
//! argument registered out of tree.

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use schedlab_examples::power_of_two::load_ppm;
use schedlab_examples::{LargestFirst, PowerOfTwo};
use schedulers::algorithms::FirstFit;
use schedulers::filters::PodFilter;
use schedulers::spec::{ParamKind, Value};
use schedulers::{
    BuildContext, ClusterState, ContainerResources, Cycle, Decision, Diagnosis, NodeId, NodeSpec,
    Param, Placement, Pod, PodId, PodTemplate, Registry, ResourceKind, Resources, Scheduler,
    SchedulerRng, SchedulerSpec,
};

const GIB: i64 = 1 << 30;

/// A cluster of nodes given as (name, CPU millicores, memory GiB), 110 pod slots each.
fn cluster(nodes: &[(&str, i64, i64)]) -> ClusterState {
    let mut cluster = ClusterState::default();
    for &(name, cpu, mem) in nodes {
        let mut allocatable = Resources::cpu_mem(cpu, mem * GIB);
        allocatable.set(ResourceKind::PODS, 110);
        cluster.add_node(NodeSpec {
            name: name.into(),
            allocatable,
            ..Default::default()
        });
    }
    cluster
}

/// Adds a pending pod requesting `cpu` millicores and `mem_gib` GiB at `priority`.
fn pod(cluster: &mut ClusterState, name: &str, cpu: i64, mem_gib: i64, priority: i32) -> PodId {
    let mut container = ContainerResources::default();
    container.set_request(ResourceKind::CPU, cpu);
    container.set_request(ResourceKind::MEMORY, mem_gib * GIB);
    let template = Arc::new(PodTemplate {
        name: name.into(),
        containers: vec![container],
        priority,
        ..Default::default()
    });
    cluster.add_pod(Pod::from_template(template, 0))
}

/// Adds a pod and binds it to `node` at once: load already on the node.
fn bound(cluster: &mut ClusterState, node: u32, cpu: i64, mem_gib: i64) {
    let p = pod(cluster, "running", cpu, mem_gib, 0);
    cluster.bind(p, NodeId(node)).expect("fits");
}

/// Runs one cycle of `scheduler` over `pending` and returns its decisions.
fn schedule(
    scheduler: &mut dyn Scheduler,
    cluster: &mut ClusterState,
    pending: &[PodId],
    seed: u64,
) -> Vec<Decision> {
    let mut rng = SchedulerRng::seed_from_u64(seed);
    let mut decisions = Vec::new();
    scheduler.schedule(&mut Cycle::new(cluster, pending, &mut rng, &mut decisions));
    decisions
}

#[test]
fn load_is_the_dominant_share_in_parts_per_million() {
    let mut c = cluster(&[("a", 4000, 8), ("b", 4000, 8), ("empty", 3000, 3)]);
    bound(&mut c, 0, 1000, 1); // CPU 1/4 = 250,000; memory 1/8 = 125,000
    bound(&mut c, 1, 500, 4); // CPU 1/8 = 125,000; memory 4/8 = 500,000
    let loads: Vec<i64> = c.rows().iter().map(load_ppm).collect();
    assert_eq!(loads, vec![250_000, 500_000, 0]);
}

#[test]
fn two_feasible_nodes_give_the_less_loaded_whatever_the_draws() {
    // c has 1 CPU, so a 2-CPU pod fits only on a and b, and both are always drawn. b has
    // more free CPU (3.5 against 3) but half its memory is taken: its dominant share is
    // 500,000 against a's 250,000, so a wins, whatever the seed.
    let mut c = cluster(&[("a", 4000, 8), ("b", 4000, 8), ("c", 1000, 8)]);
    bound(&mut c, 0, 1000, 1);
    bound(&mut c, 1, 500, 4);
    let p = pod(&mut c, "web", 2000, 1, 0);
    let mut feasible = Vec::new();
    for seed in 0..50 {
        let mut rng = SchedulerRng::seed_from_u64(seed);
        assert_eq!(
            PowerOfTwo::place(&c, p, &mut rng, &mut feasible),
            Placement::Node(NodeId(0)),
            "seed {seed}"
        );
    }
}

#[test]
fn one_feasible_node_takes_the_pod_without_a_draw() {
    // Only b has 2 free CPUs. No draw is made, so the stream is where it was.
    let mut c = cluster(&[("a", 1000, 8), ("b", 4000, 8)]);
    let p = pod(&mut c, "web", 2000, 1, 0);
    let mut rng = SchedulerRng::seed_from_u64(7);
    let placement = PowerOfTwo::place(&c, p, &mut rng, &mut Vec::new());
    assert_eq!(placement, Placement::Node(NodeId(1)));
    assert_eq!(rng.next_u64(), SchedulerRng::seed_from_u64(7).next_u64());
}

#[test]
fn no_feasible_node_gives_kube_schedulers_reasons() {
    let mut c = cluster(&[("a", 1000, 8), ("b", 2000, 1), ("c", 3000, 8)]);
    let p = pod(&mut c, "big", 4000, 2, 0);
    let decisions = schedule(&mut PowerOfTwo::default(), &mut c, &[p], 1);
    let [Decision::Unschedulable { pod, diagnosis }] = decisions.as_slice() else {
        panic!("expected one unschedulable decision, got {decisions:?}");
    };
    assert_eq!(*pod, p);
    assert_eq!(
        diagnosis.to_string(),
        "0/3 nodes are available: 1 Insufficient memory, 3 Insufficient cpu."
    );
}

#[test]
fn equal_loads_go_to_the_lower_id_and_each_pod_sees_the_earlier_binds() {
    // Two empty nodes, two pods in one cycle. The first pod compares a and b at load 0:
    // the tie goes to a. The second sees a at 250,000 and b at 0: b.
    let mut c = cluster(&[("a", 4000, 8), ("b", 4000, 8)]);
    let first = pod(&mut c, "first", 1000, 1, 0);
    let second = pod(&mut c, "second", 1000, 1, 0);
    for seed in 0..10 {
        let mut c2 = c.clone();
        let decisions = schedule(&mut PowerOfTwo::default(), &mut c2, &[first, second], seed);
        assert_eq!(
            decisions,
            vec![
                Decision::Bound {
                    pod: first,
                    node: NodeId(0)
                },
                Decision::Bound {
                    pod: second,
                    node: NodeId(1)
                },
            ],
            "seed {seed}"
        );
        c2.check_invariants().expect("books balance");
    }
}

#[test]
fn never_the_most_loaded_and_the_least_loaded_half_the_time_of_four() {
    // Four 4-CPU nodes carrying 0, 1, 2 and 3 CPUs. Of the 6 pairs two distinct draws can
    // make, the emptiest node is in 3 and wins them all (1/2), the next wins 2 (1/3), the
    // next 1 (1/6), and the fullest none.
    let mut c = cluster(&[
        ("n0", 4000, 8),
        ("n1", 4000, 8),
        ("n2", 4000, 8),
        ("n3", 4000, 8),
    ]);
    for node in 1..4 {
        bound(&mut c, node, 1000 * node as i64, 1);
    }
    let p = pod(&mut c, "web", 500, 1, 0);
    let mut counts = [0u32; 4];
    let mut rng = SchedulerRng::seed_from_u64(42);
    let mut feasible = Vec::new();
    const TRIALS: u32 = 6_000;
    for _ in 0..TRIALS {
        match PowerOfTwo::place(&c, p, &mut rng, &mut feasible) {
            Placement::Node(n) => counts[n.index()] += 1,
            other => panic!("expected a node, got {other:?}"),
        }
    }
    assert_eq!(counts[3], 0, "the most loaded node is never chosen");
    for (node, sixths) in [(0, 3), (1, 2), (2, 1)] {
        let expected = TRIALS * sixths / 6;
        let slack = expected / 10;
        assert!(
            counts[node].abs_diff(expected) <= slack,
            "node {node}: {} of {TRIALS}, expected {expected} +- {slack}",
            counts[node]
        );
    }
}

#[test]
fn largest_first_fits_what_first_fit_in_queue_order_cannot() {
    // Two 5-CPU nodes; pods of 2, 2, 3 and 3 CPUs, queued in that order. First-fit puts both
    // 2s on a (1 CPU left) and the first 3 on b (2 left): the second 3 fits nowhere.
    // Largest-first places the 3s first, one per node, then a 2 in each gap.
    let mut c = cluster(&[("a", 5000, 8), ("b", 5000, 8)]);
    let pods: Vec<PodId> = [2000, 2000, 3000, 3000]
        .iter()
        .enumerate()
        .map(|(i, &cpu)| pod(&mut c, &format!("p{i}"), cpu, 1, 0))
        .collect();
    let bind = |pod: usize, node: u32| Decision::Bound {
        pod: pods[pod],
        node: NodeId(node),
    };

    let mut first_fit_cluster = c.clone();
    let decisions = schedule(&mut FirstFit::default(), &mut first_fit_cluster, &pods, 1);
    assert_eq!(&decisions[..3], &[bind(0, 0), bind(1, 0), bind(2, 1)]);
    assert_eq!(
        decisions[3],
        Decision::Unschedulable {
            pod: pods[3],
            diagnosis: Diagnosis::from_counts(2, [("Insufficient cpu", 2)])
        }
    );

    let decisions = schedule(&mut LargestFirst::default(), &mut c, &pods, 1);
    assert_eq!(
        decisions,
        vec![bind(2, 0), bind(3, 1), bind(0, 0), bind(1, 1)]
    );
    c.check_invariants().expect("books balance");
}

#[test]
fn largest_first_places_higher_priority_before_larger() {
    // One 4-CPU node. The 3-CPU pod is first in the queue and larger, but the 2-CPU pod
    // has priority 10: it takes the node, and the larger one no longer fits.
    let mut c = cluster(&[("a", 4000, 8)]);
    let big = pod(&mut c, "big", 3000, 1, 0);
    let urgent = pod(&mut c, "urgent", 2000, 1, 10);
    let decisions = schedule(&mut LargestFirst::default(), &mut c, &[big, urgent], 1);
    assert_eq!(
        decisions,
        vec![
            Decision::Bound {
                pod: urgent,
                node: NodeId(0)
            },
            Decision::Unschedulable {
                pod: big,
                diagnosis: Diagnosis::from_counts(1, [("Insufficient cpu", 1)])
            },
        ]
    );
}

/// `capped-fit`: the first feasible node whose requested CPU stays at or below
/// `max_percent` of its allocatable once the pod is placed.
struct CappedFit {
    max_percent: i64,
}

impl Scheduler for CappedFit {
    fn name(&self) -> &str {
        "capped-fit"
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        let max = self.max_percent;
        cycle.place_each(|cluster, pod_id, _rng| {
            let Some(pod) = cluster.pod(pod_id) else {
                return Placement::Unschedulable(Diagnosis::default());
            };
            let filter = PodFilter::new(pod);
            let under_cap = |i: &usize| {
                let row = &cluster.rows()[*i];
                let used = row.allocatable_cpu - row.free.cpu() + pod.requests.cpu();
                used * 100 <= max * row.allocatable_cpu
            };
            match (0..cluster.rows().len())
                .filter(|&i| filter.feasible(cluster, i))
                .find(under_cap)
            {
                Some(i) => Placement::Node(NodeId(i as u32)),
                None => Placement::Unschedulable(Diagnosis::default()),
            }
        });
    }
}

/// The built-ins, this crate's algorithms and `capped-fit` with its argument.
fn registry_with_capped_fit() -> Registry {
    const PARAMS: &[Param] = &[Param {
        name: "maxCpuPercent",
        kind: ParamKind::Int { min: 1, max: 100 },
        default: Value::Int(100),
        doc: "a node takes a pod only if its requested CPU stays at or below this share",
    }];
    let mut registry = schedlab_examples::registry();
    registry
        .register_with_args(
            "capped-fit",
            "the first feasible node that stays under a CPU cap",
            PARAMS,
            Box::new(|args, _context| {
                let max_percent = args.int("maxCpuPercent").unwrap_or(100);
                Box::new(CappedFit { max_percent })
            }),
        )
        .expect("no built-in is called capped-fit");
    registry
}

#[test]
fn an_argument_registered_out_of_tree_changes_the_placement() {
    // a (4 CPU) holds 2 CPU, b (4 CPU) is empty; the pod asks 1 CPU. On a it would take
    // the node to 3/4 = 75%, on b to 1/4 = 25%. No cap (100%) takes a, as first-fit does;
    // a 50% cap takes b; a 20% cap fits nowhere.
    let registry = registry_with_capped_fit();
    for (spec, expected) in [
        ("capped-fit", Some(0)),
        ("capped-fit:maxCpuPercent=75", Some(0)),
        ("capped-fit:maxCpuPercent=50", Some(1)),
        ("capped-fit:maxCpuPercent=20", None),
    ] {
        let mut c = cluster(&[("a", 4000, 8), ("b", 4000, 8)]);
        bound(&mut c, 0, 2000, 1);
        let p = pod(&mut c, "web", 1000, 1, 0);
        let spec = SchedulerSpec::parse(spec).unwrap();
        let mut scheduler = registry.build(&spec, &BuildContext::default()).unwrap();
        let decisions = schedule(scheduler.as_mut(), &mut c, &[p], 1);
        let node = match &decisions[..] {
            [Decision::Bound { node, .. }] => Some(node.index()),
            _ => None,
        };
        assert_eq!(node, expected, "{spec}");
    }
    // Validated once, when the scheduler is built: the error names the argument.
    let bad = SchedulerSpec::parse("capped-fit:maxCpuPercent=0").unwrap();
    let err = registry.check(&bad, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"scheduler "capped-fit": argument "maxCpuPercent" is out of range: it takes integer 1..=100, got 0"#
    );
    assert_eq!(
        registry
            .check(
                &SchedulerSpec::parse("capped-fit:maxCpuPercent=50").unwrap(),
                &[]
            )
            .unwrap(),
        "capped-fit:maxCpuPercent=50"
    );
}
