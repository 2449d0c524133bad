//! The flow scheduler: placements worked out by hand, and optimality against a brute force
//! over every assignment of small random instances.

use std::sync::Arc;

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::labels::Labels;
use crate::node::NodeSpec;
use crate::pod::{ContainerResources, PodTemplate};
use crate::resources::ResourceKind;
use crate::scheduler::{Decision, SchedulerRng};

const GI: i64 = 1 << 30;
const SEC: u64 = 1_000_000;

fn add_node(c: &mut ClusterState, name: &str, cpu: i64, mem: i64, pods: i64, zone: &str) {
    let mut allocatable = Resources::cpu_mem(cpu, mem);
    allocatable.set(ResourceKind::PODS, pods);
    c.add_node(NodeSpec {
        name: name.into(),
        allocatable,
        labels: Labels::new([("zone", zone)]),
        ..Default::default()
    });
}

fn template(name: &str, cpu: i64, mem: i64, zone: Option<&str>) -> Arc<PodTemplate> {
    let mut container = ContainerResources::default();
    container.set_request(ResourceKind::CPU, cpu);
    container.set_request(ResourceKind::MEMORY, mem);
    Arc::new(PodTemplate {
        name: name.into(),
        containers: vec![container],
        node_selector: zone.map_or_else(Labels::default, |z| Labels::new([("zone", z)])),
        ..Default::default()
    })
}

fn add_pod(c: &mut ClusterState, t: &Arc<PodTemplate>, ordinal: u32, created: u64) -> PodId {
    let mut pod = Pod::from_template(Arc::clone(t), ordinal);
    pod.created_stamp = created;
    c.add_pod(pod)
}

fn schedule(c: &mut ClusterState, pods: &[PodId]) -> Vec<Decision> {
    let mut rng = SchedulerRng::seed_from_u64(1);
    let mut decisions = Vec::new();
    Flow::default().schedule(&mut Cycle::new(c, pods, &mut rng, &mut decisions));
    decisions
}

/// Where each pod went (`None`: unschedulable), checking that every pod got exactly one
/// decision and the cluster's books still balance.
fn assignment(c: &ClusterState, pods: &[PodId], decisions: &[Decision]) -> Vec<Option<usize>> {
    c.check_invariants().unwrap();
    assert_eq!(decisions.len(), pods.len(), "one decision per pod");
    pods.iter()
        .map(|&p| {
            let mine: Vec<&Decision> = decisions
                .iter()
                .filter(|d| match d {
                    Decision::Bound { pod, .. } | Decision::Unschedulable { pod, .. } => *pod == p,
                    Decision::Preempt { .. } | Decision::Waiting { .. } => {
                        panic!("flow alone never preempts or waits")
                    }
                })
                .collect();
            assert_eq!(mine.len(), 1);
            match mine[0] {
                Decision::Bound { node, .. } => Some(node.index()),
                _ => None,
            }
        })
        .collect()
}

#[test]
fn two_sizes_pack_where_first_fit_leaves_one_out() {
    // Two 10-CPU nodes; 4, 4, 6, 6 CPU in queue order. First-fit puts both 4s on node 0
    // and then has room for one 6 only. Flow: the 4-CPU class may put 2 on a node, the
    // 6-CPU class 1, and no node holds more than floor(10 / 4) = 2 pods, so the only
    // maximum flow is one 6 and one 4 per node. Pods are bound class by class, in queue
    // order of the classes.
    let mut c = ClusterState::default();
    add_node(&mut c, "a", 10_000, 16 * GI, 110, "a");
    add_node(&mut c, "b", 10_000, 16 * GI, 110, "a");
    let small = template("small", 4000, GI, None);
    let big = template("big", 6000, GI, None);
    let pods = [
        add_pod(&mut c, &small, 0, 0),
        add_pod(&mut c, &small, 1, 0),
        add_pod(&mut c, &big, 0, 0),
        add_pod(&mut c, &big, 1, 0),
    ];
    let decisions = schedule(&mut c, &pods);
    let bound = |pod, node| Decision::Bound {
        pod,
        node: NodeId(node),
    };
    assert_eq!(
        decisions,
        vec![
            bound(pods[0], 0),
            bound(pods[1], 1),
            bound(pods[2], 0),
            bound(pods[3], 1)
        ]
    );

    let mut c2 = ClusterState::default();
    add_node(&mut c2, "a", 10_000, 16 * GI, 110, "a");
    add_node(&mut c2, "b", 10_000, 16 * GI, 110, "a");
    let pods2: Vec<PodId> = [&small, &small, &big, &big]
        .iter()
        .enumerate()
        .map(|(i, t)| add_pod(&mut c2, t, i as u32, 0))
        .collect();
    let mut rng = SchedulerRng::seed_from_u64(1);
    let mut ff = Vec::new();
    crate::algorithms::FirstFit::default()
        .schedule(&mut Cycle::new(&mut c2, &pods2, &mut rng, &mut ff));
    let placed = ff
        .iter()
        .filter(|d| matches!(d, Decision::Bound { .. }))
        .count();
    assert_eq!(placed, 3, "first-fit leaves a 6-CPU pod out");
}

/// One node with room for one 4-CPU pod; two classes want it. `old` asks 1Gi of 8Gi
/// (placement cost (0 + 87) / 2 = 43), `new` 2Gi (cost (0 + 75) / 2 = 37), and `new` was
/// created at 10 s. Leaving `old` out costs its wait past the newest pod, in seconds.
fn contest(old_created: u64) -> (PodId, PodId, Vec<Decision>) {
    let mut c = ClusterState::default();
    add_node(&mut c, "only", 4000, 8 * GI, 110, "a");
    let new = add_pod(&mut c, &template("new", 4000, 2 * GI, None), 0, 10 * SEC);
    let old = add_pod(&mut c, &template("old", 4000, GI, None), 0, old_created);
    let d = schedule(&mut c, &[new, old]);
    (old, new, d)
}

#[test]
fn the_longer_wait_wins_the_last_slot() {
    // Waited 10 s: placing `old` costs 43 + 0, placing `new` 37 + 10. `old` goes.
    let (old, new, d) = contest(0);
    assert_eq!(
        d[0],
        Decision::Bound {
            pod: old,
            node: NodeId(0)
        }
    );
    match &d[1] {
        Decision::Unschedulable { pod, diagnosis } => {
            assert_eq!(*pod, new);
            assert_eq!(
                diagnosis.to_string(),
                "0/1 nodes are available: 1 Insufficient cpu."
            );
        }
        other => panic!("{other:?}"),
    }
    // Waited 3 s: 43 + 0 against 37 + 3, so the better-packing `new` goes.
    let (old, new, d) = contest(7 * SEC);
    assert_eq!(
        d[0],
        Decision::Bound {
            pod: new,
            node: NodeId(0)
        }
    );
    assert!(matches!(d[1], Decision::Unschedulable { pod, .. } if pod == old));
}

#[test]
fn prefers_the_fuller_node_and_respects_selectors() {
    // Node 0 is half full, node 1 empty, node 2 in zone b. An unconstrained 1-CPU pod
    // goes to the fuller node 0 (cost (25 + 93) / 2 = 59 against (75 + 93) / 2 = 84);
    // a pod selecting zone b can only go to node 2.
    let mut c = ClusterState::default();
    add_node(&mut c, "a0", 4000, 16 * GI, 110, "a");
    add_node(&mut c, "a1", 4000, 16 * GI, 110, "a");
    add_node(&mut c, "b0", 4000, 16 * GI, 110, "b");
    let filler = add_pod(&mut c, &template("filler", 2000, 0, None), 0, 0);
    c.bind(filler, NodeId(0)).unwrap();
    let p = add_pod(&mut c, &template("p", 1000, GI, None), 0, 0);
    let q = add_pod(&mut c, &template("q", 1000, GI, Some("b")), 0, 0);
    let d = schedule(&mut c, &[p, q]);
    assert_eq!(
        d,
        vec![
            Decision::Bound {
                pod: p,
                node: NodeId(0)
            },
            Decision::Bound {
                pod: q,
                node: NodeId(2)
            }
        ]
    );
}

/// A random instance: up to 4 nodes (some partly used, two zones, some with few pod
/// slots) and up to 6 pending pods of the given shapes, some selecting a zone, created at
/// random times.
fn instance(rng: &mut ChaCha8Rng, shapes: &[(i64, i64)]) -> (ClusterState, Vec<PodId>) {
    let mut c = ClusterState::default();
    let n_nodes = rng.random_range(1..=4);
    for i in 0..n_nodes {
        let cpu = [2000, 3000, 4000, 6000][rng.random_range(0..4)];
        let mem = [4 * GI, 8 * GI][rng.random_range(0..2)];
        let slots = if rng.random_range(0..4) == 0 {
            rng.random_range(1..=3)
        } else {
            110
        };
        let zone = ["a", "b"][rng.random_range(0..2)];
        add_node(&mut c, &format!("n{i}"), cpu, mem, slots, zone);
        if rng.random_range(0..2) == 0 {
            let used = template(
                "used",
                rng.random_range(0..=cpu / 2),
                rng.random_range(0..=GI),
                None,
            );
            let id = add_pod(&mut c, &used, 0, 0);
            c.bind(id, NodeId(i)).unwrap();
        }
    }
    let templates: Vec<Vec<Arc<PodTemplate>>> = shapes
        .iter()
        .enumerate()
        .map(|(s, &(cpu, mem))| {
            [None, Some("a"), Some("b")]
                .iter()
                .map(|z| template(&format!("s{s}"), cpu, mem, *z))
                .collect()
        })
        .collect();
    let n_pods = rng.random_range(1..=6);
    let pods = (0..n_pods)
        .map(|i| {
            let shape = &templates[rng.random_range(0..shapes.len())];
            // Unconstrained twice as often as each zone.
            let t = &shape[[0, 0, 1, 2][rng.random_range(0..4)]];
            add_pod(&mut c, t, i, rng.random_range(0..20u64) * SEC)
        })
        .collect();
    (c, pods)
}

/// The flow's objective for an assignment, on the cluster as it was before the cycle:
/// (pods left out, placement costs of the placed + wait costs of the left out).
fn objective(c: &ClusterState, pods: &[PodId], a: &[Option<usize>]) -> (usize, i64) {
    let newest = pods
        .iter()
        .map(|&p| c.pod(p).unwrap().created_stamp)
        .max()
        .unwrap();
    let mut out = (0, 0);
    for (&p, &n) in pods.iter().zip(a) {
        let pod = c.pod(p).unwrap();
        match n {
            Some(n) => out.1 += placement_cost(&c.rows()[n], pod),
            None => {
                out.0 += 1;
                out.1 += wait_cost(pod, newest);
            }
        }
    }
    out
}

/// The best objective over every assignment of each pod to a node or to nothing that fits:
/// each pod passes the node's filters, and the pods given to a node fit in its free
/// resources together (summed here, independently of the scheduler's bookkeeping).
fn brute_force(c: &ClusterState, pods: &[PodId]) -> (usize, i64) {
    let n = c.rows().len();
    let mut a = vec![None; pods.len()];
    let mut best = (usize::MAX, i64::MAX);
    loop {
        let mut used = vec![Resources::ZERO; n];
        let feasible = pods.iter().zip(&a).all(|(&p, &node)| match node {
            None => true,
            Some(node) => {
                let pod = c.pod(p).unwrap();
                used[node] += pod.requests;
                PodFilter::new(pod).feasible(c, node) && used[node].fits_in(&c.rows()[node].free)
            }
        });
        if feasible {
            best = best.min(objective(c, pods, &a));
        }
        // Next assignment, odometer style over None, Some(0), .., Some(n - 1).
        let mut k = 0;
        loop {
            if k == a.len() {
                return best;
            }
            a[k] = match a[k] {
                None => Some(0),
                Some(x) if x + 1 < n => Some(x + 1),
                Some(_) => None,
            };
            if a[k].is_some() {
                break;
            }
            k += 1;
        }
    }
}

/// Runs flow on the instance and returns (flow's objective, brute force's).
fn compare(c: &mut ClusterState, pods: &[PodId]) -> ((usize, i64), (usize, i64)) {
    let before = c.clone();
    let best = brute_force(&before, pods);
    let decisions = schedule(c, pods);
    let a = assignment(c, pods, &decisions);
    (objective(&before, pods, &a), best)
}

/// The family where the flow model is exact: every pending pod has the same requests
/// (their node selectors, creation times, the nodes' sizes, load and pod slots vary).
/// Then `k_cj` and `N_j` are exact, so every maximum flow is a feasible placement and
/// flow's objective is the optimum. 1,500 random instances of up to 6 pods and 4 nodes.
#[test]
fn equals_brute_force_when_pods_share_one_shape() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for case in 0..1500 {
        let shape = (
            [500, 1000, 1500, 2000, 3000][rng.random_range(0..5)],
            [GI / 2, GI, 2 * GI][rng.random_range(0..3)],
        );
        let (mut c, pods) = instance(&mut rng, &[shape]);
        let (got, best) = compare(&mut c, &pods);
        assert_eq!(got, best, "case {case}");
    }
}

/// Mixed shapes (two or three per instance): the model is a relaxation there, so flow is
/// a heuristic. Every placement is feasible (checked by `assignment`), it never places
/// more pods than the optimum (a sanity check of the brute force), and it matches the
/// optimum's objective in most instances; the rate is printed and held above a floor.
#[test]
fn mixed_shapes_are_feasible_and_mostly_optimal() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (mut same_count, mut exact, cases) = (0, 0, 1000);
    let (mut ff_worse, mut ff_better) = (0, 0);
    for case in 0..cases {
        let k = rng.random_range(2..=3);
        let shapes: Vec<(i64, i64)> = (0..k)
            .map(|_| {
                (
                    [500, 1000, 1500, 2000, 3000][rng.random_range(0..5)],
                    [GI / 2, GI, 2 * GI, 3 * GI][rng.random_range(0..4)],
                )
            })
            .collect();
        let (mut c, pods) = instance(&mut rng, &shapes);
        let mut greedy = c.clone();
        let (got, best) = compare(&mut c, &pods);
        assert!(got >= best, "case {case}: better than the optimum?");
        let mut r = SchedulerRng::seed_from_u64(1);
        let mut d = Vec::new();
        crate::algorithms::FirstFit::default().schedule(&mut Cycle::new(
            &mut greedy,
            &pods,
            &mut r,
            &mut d,
        ));
        let ff_out = d
            .iter()
            .filter(|d| matches!(d, Decision::Unschedulable { .. }))
            .count();
        ff_worse += usize::from(ff_out > got.0);
        ff_better += usize::from(ff_out < got.0);
        same_count += usize::from(got.0 == best.0);
        exact += usize::from(got == best);
    }
    eprintln!(
        "mixed shapes: placed as many as the optimum in {same_count}/{cases}, equal \
         objective in {exact}/{cases}; first-fit placed fewer in {ff_worse}, more in {ff_better}"
    );
    // Measured (seed 12): 999 and 916 of 1000; first-fit placed fewer pods than flow in
    // 62 instances and more in none (before the repair: 980 and 905, first-fit fewer in
    // 53 and more in 10).
    assert!(same_count * 1000 >= cases * 995, "{same_count}/{cases}");
    assert!(exact * 100 >= cases * 90, "{exact}/{cases}");
    assert_eq!(ff_better, 0, "first-fit placed more in {ff_better}");
}

/// One pending pod: the shortcut (cheapest feasible node by a scan) decides exactly as
/// building and solving the network would, node and diagnosis alike, on random clusters.
#[test]
fn a_single_pod_is_placed_as_the_full_solve_places_it() {
    let mut rng = ChaCha8Rng::seed_from_u64(23);
    let shapes = [(500, GI / 2), (1500, GI), (3000, 2 * GI), (5000, GI)];
    let mut differs = 0;
    for case in 0..2000 {
        let (c, pods) = instance(&mut rng, &shapes);
        let pod = [pods[rng.random_range(0..pods.len())]];
        let decide = |mut flow: Flow| {
            let mut c = c.clone();
            let mut rng = SchedulerRng::seed_from_u64(1);
            let mut decisions = Vec::new();
            flow.schedule(&mut Cycle::new(&mut c, &pod, &mut rng, &mut decisions));
            c.check_invariants().unwrap();
            decisions
        };
        let (shortcut, solved) = (decide(Flow::default()), decide(Flow::always_solving()));
        assert_eq!(shortcut, solved, "case {case}");
        differs += usize::from(matches!(shortcut[0], Decision::Unschedulable { .. }));
    }
    // Both outcomes occur, so the comparison covers the diagnosis path too.
    assert!(differs > 50 && differs < 1950, "{differs} unschedulable");
}

/// The costs' arguments decide which of two pods gets the only pod slot. n0 has 3 CPU,
/// 4 GiB and room for one pod. `old` (1 CPU, 1 GiB) has waited 1000 s, `young` (3 CPU,
/// 1 GiB) was just created: they differ in shape, so they are two classes, and the slot
/// makes the node's sink arc capacity 1, so the flow itself chooses (no over-offer).
/// Placement costs (LeastAllocated of the node after the pod): old (66 + 75) / 2 = 70,
/// young (0 + 75) / 2 = 37. With the placement weight P, the wait weight W and the cap M:
/// placing old costs 70 P; placing young costs 37 P + W min(1000, M).
/// - defaults (P 1, W 1, M 1000): 70 against 1037: old.
/// - waitWeight=0: 70 against 37: young.
/// - maxWait=10: 70 against 47: young; maxWait=40: 70 against 77: old.
/// - placementWeight=40: 2800 against 2480: young; placementWeight=20: 1400 against 1740: old.
#[test]
fn cost_arguments_trade_waiting_against_fuller_nodes() {
    let registry = crate::Registry::builtin();
    for (spec, old_placed) in [
        ("flow", true),
        ("flow:waitWeight=0", false),
        ("flow:maxWait=10", false),
        ("flow:maxWait=40", true),
        ("flow:placementWeight=40", false),
        ("flow:placementWeight=20", true),
    ] {
        let mut c = ClusterState::default();
        add_node(&mut c, "n0", 3000, 4 * GI, 1, "a");
        let old = add_pod(&mut c, &template("old", 1000, GI, None), 0, 0);
        let young = add_pod(&mut c, &template("young", 3000, GI, None), 0, 1000 * SEC);
        let pods = [old, young];
        let spec = crate::SchedulerSpec::parse(spec).unwrap();
        let mut flow = registry
            .build(&spec, &crate::BuildContext::default())
            .unwrap();
        let (mut rng, mut decisions) = (SchedulerRng::seed_from_u64(1), Vec::new());
        flow.schedule(&mut Cycle::new(&mut c, &pods, &mut rng, &mut decisions));
        let a = assignment(&c, &pods, &decisions);
        let expected = if old_placed {
            [Some(0), None]
        } else {
            [None, Some(0)]
        };
        assert_eq!(a, expected, "{spec}");
    }
}

/// How many pods of `(cpu, memory)` flow places in one cycle on empty nodes of
/// `(cpu, memory)`, the pods queued in the given order and created at the same time.
fn flow_places(nodes: &[(i64, i64)], pods: &[(i64, i64)]) -> usize {
    let mut c = ClusterState::default();
    for (i, &(cpu, mem)) in nodes.iter().enumerate() {
        add_node(&mut c, &format!("n{i}"), cpu, mem, 110, "a");
    }
    let ids: Vec<PodId> = pods
        .iter()
        .enumerate()
        .map(|(i, &(cpu, mem))| add_pod(&mut c, &template(&format!("p{i}"), cpu, mem, None), 0, 0))
        .collect();
    let d = schedule(&mut c, &ids);
    assignment(&c, &ids, &d)
        .iter()
        .filter(|a| a.is_some())
        .count()
}

/// Issue 11's first reproducer: two 12-CPU nodes, pods 6, 6, 8, 8 CPU. No node holds two
/// 8s (16 > 12) nor an 8 and a 6 (14 > 12), so at most one 8 per node and the optimum is
/// 3: both 6s on one node, an 8 on the other (first-fit's placement). The flow's plan puts
/// one 8 on each node (the 8s are the cheaper arcs, fuller nodes), and then no 6 fits.
#[test]
fn issue_11_two_sizes_on_twelve_cpu_nodes_place_three() {
    let placed = flow_places(
        &[(12_000, 64 * GI), (12_000, 64 * GI)],
        &[(6000, GI), (6000, GI), (8000, GI), (8000, GI)],
    );
    assert_eq!(placed, 3);
}

/// Issue 11's second reproducer: two nodes of 8 CPU / 16 GiB; pods <5, 9Gi>, 2 x <7, 7Gi>,
/// <3, 4Gi>. A 7 shares a node with no other pod (7 + 3, 7 + 5 and 7 + 7 exceed 8 CPU),
/// so each node holds at most one 7; <5, 9Gi> and <3, 4Gi> fit together (8 CPU,
/// 13 GiB). Optimum 3: 5 + 3 on one node, a 7 on the other; 4 is impossible (both 7s need
/// a node each, leaving no room for the others).
#[test]
fn issue_11_two_dimensions_on_eight_cpu_nodes_place_three() {
    let placed = flow_places(
        &[(8000, 16 * GI), (8000, 16 * GI)],
        &[
            (5000, 9 * GI),
            (7000, 7 * GI),
            (7000, 7 * GI),
            (3000, 4 * GI),
        ],
    );
    assert_eq!(placed, 3);
}

/// The most pods of the given shapes (`counts[s]` pods of `shapes[s]`) that fit on empty
/// nodes of the given sizes, by exhaustive search over how many pods of each shape each
/// node takes (pods of one shape are interchangeable), independent of flow's model.
fn optimal_count(nodes: &[(i64, i64)], shapes: &[(i64, i64)], counts: &mut [usize]) -> usize {
    fn go(
        nodes: &[(i64, i64)],
        shapes: &[(i64, i64)],
        counts: &mut [usize],
        placed: usize,
        best: &mut usize,
    ) {
        let left: usize = counts.iter().sum();
        *best = (*best).max(placed);
        if nodes.is_empty() || left == 0 || placed + left <= *best {
            return;
        }
        // Every way node 0 can be filled (shape by shape, any count that fits), then the rest.
        #[allow(clippy::too_many_arguments)] // a recursion's state, in a test
        fn fill(
            s: usize,
            free: (i64, i64),
            taken: usize,
            nodes: &[(i64, i64)],
            shapes: &[(i64, i64)],
            counts: &mut [usize],
            placed: usize,
            best: &mut usize,
        ) {
            if s == shapes.len() {
                go(&nodes[1..], shapes, counts, placed + taken, best);
                return;
            }
            let (cpu, mem) = shapes[s];
            let most = counts[s];
            let mut k = 0;
            loop {
                let free_k = (free.0 - k as i64 * cpu, free.1 - k as i64 * mem);
                counts[s] -= k;
                fill(
                    s + 1,
                    free_k,
                    taken + k,
                    nodes,
                    shapes,
                    counts,
                    placed,
                    best,
                );
                counts[s] += k;
                k += 1;
                if k > most || free.0 - k as i64 * cpu < 0 || free.1 - k as i64 * mem < 0 {
                    break;
                }
            }
        }
        fill(0, nodes[0], 0, nodes, shapes, counts, placed, best);
    }
    let mut best = 0;
    go(nodes, shapes, counts, 0, &mut best);
    best
}

/// Pods placed by `s` on a copy of `c` for the queue `pods`.
fn placed_by(s: &mut dyn Scheduler, c: &ClusterState, pods: &[PodId]) -> usize {
    let mut c = c.clone();
    let mut rng = SchedulerRng::seed_from_u64(1);
    let mut d = Vec::new();
    s.schedule(&mut Cycle::new(&mut c, pods, &mut rng, &mut d));
    c.check_invariants().unwrap();
    d.iter()
        .filter(|d| matches!(d, Decision::Bound { .. }))
        .count()
}

/// Issue 11's acceptance: on 2,000 random batches (2 to 4 empty nodes, 3 to 8 pods of 2
/// or 3 shapes, in random queue order), flow places at least as many pods as first-fit,
/// first-fit decreasing (by dominant share of the cluster) and best-fit, each run as its
/// own scheduler on the same batch, and as many as the exhaustive optimum in at least 99%.
/// Sizes are drawn uniformly, to the millicore and the MiB: nodes of 4 to 16 CPU and 4 to
/// 32 GiB, pods of 1 to 8 CPU and 1 to 16 GiB, so a node holds a few pods and packing
/// matters; nothing in them depends on flow's cost model. The rate without the repair is
/// printed beside it. Measured (seed 2026): optimal in 1988/2000 (99.4%); without the
/// repair 1916/2000 (95.8%), and fewer pods than first-fit in 38.
#[test]
fn never_worse_than_greedy_and_optimal_in_99_percent_of_random_batches() {
    const MI: i64 = 1 << 20;
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    let cases = 2000;
    let (mut optimal, mut optimal_before, mut ff_beat_before) = (0, 0, 0);
    for case in 0..cases {
        let nodes: Vec<(i64, i64)> = (0..rng.random_range(2..=4))
            .map(|_| {
                (
                    rng.random_range(4_000..=16_000),
                    rng.random_range(4 * 1024..=32 * 1024) * MI,
                )
            })
            .collect();
        let shapes: Vec<(i64, i64)> = (0..rng.random_range(2..=3))
            .map(|_| {
                (
                    rng.random_range(1_000..=8_000),
                    rng.random_range(1024..=16 * 1024) * MI,
                )
            })
            .collect();
        let mut c = ClusterState::default();
        for (i, &(cpu, mem)) in nodes.iter().enumerate() {
            add_node(&mut c, &format!("n{i}"), cpu, mem, 110, "a");
        }
        let templates: Vec<Arc<PodTemplate>> = shapes
            .iter()
            .enumerate()
            .map(|(s, &(cpu, mem))| template(&format!("s{s}"), cpu, mem, None))
            .collect();
        let mut counts = vec![0; shapes.len()];
        let pods: Vec<PodId> = (0..rng.random_range(3..=8u32))
            .map(|i| {
                let s = rng.random_range(0..shapes.len());
                counts[s] += 1;
                add_pod(&mut c, &templates[s], i, 0)
            })
            .collect();
        let best = optimal_count(&nodes, &shapes, &mut counts);
        let flow = placed_by(&mut Flow::default(), &c, &pods);
        let before = placed_by(&mut Flow::without_repair(), &c, &pods);
        let ff = placed_by(&mut crate::algorithms::FirstFit::default(), &c, &pods);
        let bf = placed_by(&mut crate::algorithms::BestFit::default(), &c, &pods);
        // First-fit decreasing: first-fit on the queue sorted by dominant share of the
        // cluster's total, largest first (a stable sort keeps queue order on ties).
        let (total_cpu, total_mem) = nodes.iter().fold((0, 0), |(a, b), &(x, y)| (a + x, b + y));
        let share = |p: &PodId| {
            let pod = c.pod(*p).unwrap();
            let cpu = pod.requests.cpu() as f64 / total_cpu as f64;
            let mem = pod.requests.memory() as f64 / total_mem as f64;
            cpu.max(mem)
        };
        let mut decreasing = pods.clone();
        decreasing.sort_by(|a, b| share(b).total_cmp(&share(a)));
        let ffd = placed_by(&mut crate::algorithms::FirstFit::default(), &c, &decreasing);
        assert!(flow <= best, "case {case}: {flow} beats the optimum {best}");
        for (name, greedy) in [("first-fit", ff), ("best-fit", bf), ("ffd", ffd)] {
            assert!(
                flow >= greedy,
                "case {case}: flow {flow} < {name} {greedy} (nodes {nodes:?}, shapes {shapes:?})"
            );
        }
        optimal += usize::from(flow == best);
        optimal_before += usize::from(before == best);
        ff_beat_before += usize::from(before < ff);
    }
    eprintln!(
        "random batches: flow optimal in {optimal}/{cases}; without the repair optimal in \
         {optimal_before}/{cases}, fewer than first-fit in {ff_beat_before}/{cases}"
    );
    assert!(optimal * 100 >= cases * 99, "{optimal}/{cases}");
}
