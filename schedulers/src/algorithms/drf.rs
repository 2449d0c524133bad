//! `drf`: Dominant Resource Fairness across namespaces.
//!
//! Follows Ghodsi, Zaharia, Hindman, Konwinski, Shenker and Stoica, "Dominant Resource
//! Fairness: Fair Allocation of Multiple Resource Types" (NSDI 2011), with namespaces as
//! the paper's users and the weighted variant of its section 4.3. A namespace's dominant
//! share is the largest fraction of the ready cluster's allocatable capacity that its bound
//! pods request in any one resource (CPU, memory, ephemeral storage, extended resources;
//! not pod slots), divided by its weight (`namespaces:` in the scenario, default 1).
//!
//! Within a cycle the algorithm is the paper's progressive filling: take the namespace with
//! the smallest weighted dominant share (ties by name), place its next pod in queue order,
//! update its share, repeat. A namespace whose next pod fits nowhere is saturated, as a
//! user whose demand cannot be met is in the paper: it is skipped for the rest of the
//! cycle, its pod declared unschedulable with the usual per-node diagnosis and the pods
//! behind it with a diagnosis saying they queue behind it.
//!
//! Where a pod goes: the first feasible node in node order (first-fit). DRF decides which
//! tenant gets the next slice of the cluster, and the paper treats the cluster as one pool
//! (its Mesos setting places a task wherever the offered slot is), so placement is left to
//! the simplest deterministic rule; it also packs low-numbered nodes and keeps large holes
//! at the end of the list, where later, larger pods of the other namespaces can still fit.
//!
//! Cost per cycle: O(pending) to group pods by namespace, O(k log k) to rank the k
//! namespaces with pending pods by name, and O(log k) per placement for the heap, plus the
//! first-fit scan; all buffers are reused between cycles.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::filters::{PodFilter, diagnose};
use crate::namespaces::NamespaceId;
use crate::node::NodeId;
use crate::pod::PodId;
use crate::reason::Reason;
use crate::scheduler::{Cycle, Diagnosis, Scheduler};

/// The `drf` algorithm.
#[derive(Debug, Default, Clone)]
pub struct Drf {
    /// Pending pods of each namespace this cycle, in queue order, indexed by namespace id.
    queues: Vec<Vec<PodId>>,
    /// How many of each namespace's queued pods have been decided.
    next: Vec<usize>,
    /// Namespaces with pending pods this cycle; sorted by name to rank ties.
    active: Vec<NamespaceId>,
    /// Namespaces still being served, smallest weighted share on top.
    heap: BinaryHeap<Turn>,
}

/// A namespace waiting for its next pod to be placed.
#[derive(Debug, Clone, Copy)]
struct Turn {
    share: f64,
    /// Position of the namespace's name among this cycle's namespaces: the tie-break.
    rank: u32,
    namespace: NamespaceId,
}

impl Ord for Turn {
    /// Reversed, so the max-heap pops the smallest share, then the smallest name.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .share
            .total_cmp(&self.share)
            .then(other.rank.cmp(&self.rank))
    }
}

impl PartialOrd for Turn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Turn {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Turn {}

impl Drf {
    /// The name it is registered under.
    pub const NAME: &'static str = "drf";

    /// Sorts this cycle's pending pods into per-namespace queues.
    fn group(&mut self, cycle: &Cycle<'_>) {
        for &ns in &self.active {
            self.queues[ns.index()].clear();
            self.next[ns.index()] = 0;
        }
        self.active.clear();
        let cluster = cycle.cluster();
        let count = cluster.namespaces().len();
        if self.queues.len() < count {
            self.queues.resize_with(count, Vec::new);
            self.next.resize(count, 0);
        }
        for &pod in cycle.pending() {
            let Some(p) = cluster.pod(pod) else {
                continue;
            };
            let ns = p.namespace_id();
            let queue = &mut self.queues[ns.index()];
            if queue.is_empty() {
                self.active.push(ns);
            }
            queue.push(pod);
        }
        let namespaces = cluster.namespaces();
        self.active
            .sort_unstable_by(|&a, &b| namespaces.name(a).cmp(namespaces.name(b)));
    }

    /// Declares every pod of `ns` from position `from` on unschedulable: they queue behind
    /// a pod of their namespace that fits nowhere.
    fn skip_rest(&mut self, cycle: &mut Cycle<'_>, ns: NamespaceId, from: usize) {
        let queue = &self.queues[ns.index()];
        if from >= queue.len() {
            return;
        }
        let nodes = cycle.cluster().ready_node_count() as u32;
        let reason = Reason::from(format!(
            "node(s) were not tried: an earlier pod of namespace {} fits nowhere, and drf serves each namespace in queue order",
            cycle.cluster().namespaces().name(ns)
        ));
        for &pod in &queue[from..] {
            let mut diagnosis = Diagnosis::new(nodes);
            diagnosis.add_nodes(reason.clone(), nodes);
            cycle.unschedulable(pod, diagnosis);
        }
    }
}

impl Scheduler for Drf {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        self.group(cycle);
        self.heap.clear();
        {
            let cluster = cycle.cluster();
            let capacity = cluster.ready_capacity();
            for (rank, &namespace) in self.active.iter().enumerate() {
                self.heap.push(Turn {
                    share: cluster.namespaces().weighted_share(namespace, capacity),
                    rank: rank as u32,
                    namespace,
                });
            }
        }
        while let Some(turn) = self.heap.pop() {
            let ns = turn.namespace;
            let at = self.next[ns.index()];
            let pod = self.queues[ns.index()][at];
            self.next[ns.index()] = at + 1;
            let choice = {
                let cluster = cycle.cluster();
                match cluster.pod(pod) {
                    Some(p) => PodFilter::new(p)
                        .first_feasible(cluster)
                        .map(|i| NodeId(i as u32))
                        .ok_or_else(|| diagnose(cluster, p)),
                    None => Err(Diagnosis::default()),
                }
            };
            // A refused bind cannot happen while the books are consistent (the filter
            // checked the same free resources), but the pod must still get a decision.
            let bound = match choice {
                Ok(node) => cycle.bind_or_unschedulable(pod, node, None),
                Err(diagnosis) => {
                    cycle.unschedulable(pod, diagnosis);
                    false
                }
            };
            if !bound {
                self.skip_rest(cycle, ns, at + 1);
                continue;
            }
            if at + 1 < self.queues[ns.index()].len() {
                let cluster = cycle.cluster();
                self.heap.push(Turn {
                    share: cluster
                        .namespaces()
                        .weighted_share(ns, cluster.ready_capacity()),
                    rank: turn.rank,
                    namespace: ns,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand::SeedableRng;

    use super::*;
    use crate::cluster::ClusterState;
    use crate::node::NodeSpec;
    use crate::pod::{Pod, PodTemplate};
    use crate::resources::{ResourceKind, Resources};
    use crate::scheduler::{Decision, SchedulerRng};

    const GIB: i64 = 1 << 30;

    fn cluster(nodes: &[(i64, i64)]) -> ClusterState {
        let mut c = ClusterState::default();
        for (i, &(cpu, mem)) in nodes.iter().enumerate() {
            let mut alloc = Resources::cpu_mem(cpu, mem);
            alloc.set(ResourceKind::PODS, 110);
            c.add_node(NodeSpec {
                name: format!("n{i}"),
                allocatable: alloc,
                ..Default::default()
            });
        }
        c
    }

    /// Adds `count` pending pods of `namespace` requesting `cpu` millicores and `mem` bytes.
    fn pods(c: &mut ClusterState, namespace: &str, count: u32, cpu: i64, mem: i64) -> Vec<PodId> {
        let t = Arc::new(PodTemplate {
            name: format!("{namespace}-{cpu}"),
            namespace: namespace.into(),
            ..Default::default()
        });
        let mut r = Resources::cpu_mem(cpu, mem);
        r.set(ResourceKind::PODS, 1);
        (0..count)
            .map(|i| c.add_pod(Pod::with_requests(t.clone(), i, r, cpu, mem)))
            .collect()
    }

    fn run(c: &mut ClusterState, pending: &[PodId]) -> Vec<Decision> {
        let mut rng = SchedulerRng::seed_from_u64(1);
        let mut decisions = Vec::new();
        Drf::default().schedule(&mut Cycle::new(c, pending, &mut rng, &mut decisions));
        c.check_invariants().unwrap();
        decisions
    }

    fn bound_in(c: &ClusterState, namespace: &str) -> u64 {
        let ns = c.namespaces();
        ns.id(namespace).map_or(0, |id| ns.bound_pods(id))
    }

    /// The paper's example (section 4): 9 CPUs and 18 GB; user A's tasks need <1 CPU, 4 GB>,
    /// B's <3 CPUs, 1 GB>. Progressive filling gives A three tasks and B two, both with a
    /// dominant share of 2/3.
    #[test]
    fn paper_example_gives_three_and_two() {
        let mut c = cluster(&[(9000, 18 * GIB)]);
        let b = pods(&mut c, "b", 10, 3000, GIB);
        let a = pods(&mut c, "a", 10, 1000, 4 * GIB);
        // Interleave B first in queue order: the order within the queue must not matter.
        let pending: Vec<PodId> = b.iter().zip(&a).flat_map(|(x, y)| [*x, *y]).collect();
        let decisions = run(&mut c, &pending);
        assert_eq!((bound_in(&c, "a"), bound_in(&c, "b")), (3, 2));
        assert_eq!(decisions.len(), 20, "every pending pod gets a decision");
        // Served in the order of the paper's table: A, B, A, B, A.
        let order: Vec<PodId> = decisions
            .iter()
            .filter_map(|d| match d {
                Decision::Bound { pod, .. } => Some(*pod),
                _ => None,
            })
            .collect();
        assert_eq!(order, vec![a[0], b[0], a[1], b[1], a[2]]);
        let cap = *c.ready_capacity();
        let ns = c.namespaces();
        let share = |n: &str| ns.weighted_share(ns.id(n).unwrap(), &cap);
        assert_eq!(share("a"), 2.0 / 3.0);
        assert_eq!(share("b"), 2.0 / 3.0);
    }

    /// Weight 2 for A: A's weighted share grows half as fast. Worked by hand: A1 (1/9),
    /// B1 (1/3), A2 (2/9), A3 (1/3, tie with B, A by name), A4 (4/9, 7 CPUs used), then
    /// B2 needs 3 CPUs of the 2 left and A5 needs 4 GB of the 2 left: 4 and 1.
    #[test]
    fn weights_change_the_split() {
        let mut c = cluster(&[(9000, 18 * GIB)]);
        c.set_namespace_weight("a", 2);
        let a = pods(&mut c, "a", 10, 1000, 4 * GIB);
        let b = pods(&mut c, "b", 10, 3000, GIB);
        let pending: Vec<PodId> = a.iter().chain(&b).copied().collect();
        run(&mut c, &pending);
        assert_eq!((bound_in(&c, "a"), bound_in(&c, "b")), (4, 1));
        assert_eq!(c.namespace_weight("a"), 2);
        assert_eq!(c.namespace_weight("b"), 1);
        assert_eq!(c.namespace_weight("never-seen"), 1);
    }

    /// Two nodes of 4 CPUs / 8 GiB (capacity 8 CPUs / 16 GiB). Namespace a: three pods of
    /// <2, 1Gi> and a small <500m, 1Gi>; b: three of <1, 4Gi>. By hand: a0 -> n0 (a 1/4),
    /// b0 -> n0 (b 1/4; n0 keeps 1 CPU, 3Gi), tie, a1 -> n1 (a 1/2), b1 -> n1 (b 1/2; n1
    /// keeps 1 CPU, 3Gi), tie, a2 fits nowhere (2 Insufficient cpu) so a3 is skipped though
    /// it would fit, then b2 fits nowhere (2 Insufficient memory).
    #[test]
    fn hand_checked_two_nodes() {
        let mut c = cluster(&[(4000, 8 * GIB), (4000, 8 * GIB)]);
        let mut a = pods(&mut c, "a", 3, 2000, GIB);
        a.extend(pods(&mut c, "a", 1, 500, GIB));
        let b = pods(&mut c, "b", 3, 1000, 4 * GIB);
        let pending: Vec<PodId> = a.iter().chain(&b).copied().collect();
        let decisions = run(&mut c, &pending);
        let bound = |pod, node| Decision::Bound {
            pod,
            node: NodeId(node),
        };
        assert_eq!(
            decisions[..4],
            [
                bound(a[0], 0),
                bound(b[0], 0),
                bound(a[1], 1),
                bound(b[1], 1)
            ]
        );
        let rest: Vec<(PodId, String)> = decisions[4..]
            .iter()
            .map(|d| match d {
                Decision::Unschedulable { pod, diagnosis } => (*pod, diagnosis.to_string()),
                other => panic!("expected unschedulable, got {other:?}"),
            })
            .collect();
        assert_eq!(rest.len(), 3);
        assert_eq!(
            rest[0],
            (a[2], "0/2 nodes are available: 2 Insufficient cpu.".into())
        );
        assert_eq!(rest[1].0, a[3]);
        assert!(
            rest[1]
                .1
                .contains("earlier pod of namespace a fits nowhere"),
            "{}",
            rest[1].1
        );
        assert_eq!(
            rest[2],
            (
                b[2],
                "0/2 nodes are available: 2 Insufficient memory.".into()
            )
        );
    }

    /// Shares carry over between cycles: a namespace that already holds most of the
    /// cluster waits while an empty one is served, whatever the queue order.
    #[test]
    fn bound_pods_from_earlier_cycles_count() {
        let mut c = cluster(&[(4000, 4 * GIB)]);
        let early = pods(&mut c, "a", 2, 1000, GIB);
        run(&mut c, &early);
        let a = pods(&mut c, "a", 2, 1000, GIB);
        let z = pods(&mut c, "z", 2, 1000, GIB);
        let pending: Vec<PodId> = a.iter().chain(&z).copied().collect();
        let decisions = run(&mut c, &pending);
        // z (share 0) twice, reaching a's 1/2; then a by name; the cluster is full.
        let order: Vec<PodId> = decisions
            .iter()
            .filter_map(|d| match d {
                Decision::Bound { pod, .. } => Some(*pod),
                _ => None,
            })
            .collect();
        assert_eq!(order, vec![z[0], z[1]]);
        assert_eq!((bound_in(&c, "a"), bound_in(&c, "z")), (2, 2));
    }

    /// Random clusters, namespaces, weights and queues: replaying the cycle's decisions in
    /// order, every bind went to a namespace whose weighted share was the smallest (ties by
    /// name) among those not yet saturated; a namespace is saturated by its first pod that
    /// fits on no node (checked here against every node's free resources), after which all
    /// its pods are unschedulable; every pending pod gets exactly one decision; and the
    /// cluster's books stay consistent.
    #[test]
    fn random_cycles_follow_progressive_filling() {
        use rand::RngExt;
        use std::collections::BTreeMap;
        let names = ["a", "b", "c", "d"];
        for seed in 0..200u64 {
            let mut rng = SchedulerRng::seed_from_u64(seed);
            let nodes: Vec<(i64, i64)> = (0..rng.random_range(1..5))
                .map(|_| (rng.random_range(1..9) * 1000, rng.random_range(1..17) * GIB))
                .collect();
            let mut c = cluster(&nodes);
            for ns in names {
                if rng.random_bool(0.5) {
                    c.set_namespace_weight(ns, rng.random_range(1..4));
                }
            }
            let mut pending = Vec::new();
            for _ in 0..rng.random_range(0..30) {
                let ns = names[rng.random_range(0..names.len())];
                let cpu = rng.random_range(1..9) * 500;
                let mem = rng.random_range(1..9) * GIB / 2;
                pending.extend(pods(&mut c, ns, 1, cpu, mem));
            }
            // Some pods bound before the cycle, so shares do not all start at 0.
            let early = pending.len() / 4;
            let before: Vec<PodId> = pending.drain(..early).collect();
            run(&mut c, &before);
            let mut shadow = c.clone();
            let decisions = run(&mut c, &pending);

            let mut decided: Vec<PodId> = decisions
                .iter()
                .map(|d| match d {
                    Decision::Bound { pod, .. } | Decision::Unschedulable { pod, .. } => *pod,
                    Decision::Preempt { .. } | Decision::Waiting { .. } => {
                        panic!("drf alone never preempts or waits")
                    }
                })
                .collect();
            decided.sort();
            let mut expected = pending.clone();
            expected.sort();
            assert_eq!(
                decided, expected,
                "seed {seed}: one decision per pending pod"
            );

            let ns_of = |c: &ClusterState, pod: PodId| {
                let ns = c.pod(pod).unwrap().namespace_id();
                c.namespaces().name(ns).to_string()
            };
            let mut left: BTreeMap<String, usize> = BTreeMap::new();
            for &p in &pending {
                *left.entry(ns_of(&shadow, p)).or_default() += 1;
            }
            let mut saturated: Vec<String> = Vec::new();
            for d in &decisions {
                match d {
                    Decision::Bound { pod, node } => {
                        let ns = ns_of(&shadow, *pod);
                        assert!(
                            !saturated.contains(&ns),
                            "seed {seed}: {ns} served after saturation"
                        );
                        let cap = *shadow.ready_capacity();
                        let books = shadow.namespaces();
                        let key = |n: &str| {
                            (
                                books.weighted_share(books.id(n).unwrap(), &cap),
                                n.to_string(),
                            )
                        };
                        let mine = key(&ns);
                        for (other, &count) in &left {
                            if count > 0 && !saturated.contains(other) {
                                assert!(
                                    mine.0 < key(other).0
                                        || (mine.0 == key(other).0 && mine.1 <= key(other).1),
                                    "seed {seed}: served {ns} at {mine:?} before {other} at {:?}",
                                    key(other)
                                );
                            }
                        }
                        shadow.bind(*pod, *node).unwrap();
                        *left.get_mut(&ns).unwrap() -= 1;
                    }
                    Decision::Unschedulable { pod, .. } => {
                        let ns = ns_of(&shadow, *pod);
                        if !saturated.contains(&ns) {
                            let p = shadow.pod(*pod).unwrap();
                            assert!(
                                shadow.rows().iter().all(|r| !p.requests.fits_in(&r.free)),
                                "seed {seed}: {ns}'s pod fits somewhere but was declared unschedulable"
                            );
                            saturated.push(ns.clone());
                        }
                        *left.get_mut(&ns).unwrap() -= 1;
                    }
                    Decision::Preempt { .. } | Decision::Waiting { .. } => unreachable!(),
                }
            }
        }
    }
}
