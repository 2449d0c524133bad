//! DefaultPreemption (the PostFilter of kube-scheduler's default profile): when no node
//! fits a pod, find nodes where evicting lower-priority pods makes it fit, choose the
//! fewest and least important victims, and nominate the node.
//!
//! Follows kube-scheduler v1.35 `defaultpreemption` and `framework/preemption`:
//! - only nodes rejected as Unschedulable are candidates (UnschedulableAndUnresolvable
//!   means eviction cannot help);
//! - on a candidate, every pod of lower priority is removed; if the pod then fits, the
//!   removed pods are added back one by one, most important first (higher priority, then
//!   earlier start), and each one that still lets the pod fit is reprieved;
//! - candidates are dry-run from a random offset until `max(10% of nodes, 100)` are found;
//! - PodDisruptionBudgets: the lower-priority pods, most important first, consume their
//!   budgets' allowed disruptions in turn (`filterPodsWithPDBViolation`); those that
//!   overdraw a budget are reprieved first, then the others, and the victims that still
//!   overdraw one are counted as violations;
//! - the node is chosen by: fewest PDB violations, then lowest priority of its most
//!   important victim, then smallest sum of victim priorities, then fewest victims, then
//!   the latest start among its most important victims, then the first candidate.
//!
//! Simplifications, stated: budgets' allowed disruptions are computed from the cluster
//! (see [`crate::pdb`]), with no `disruptedPods`; candidates are the nodes whose only
//! objection is NodeResourcesFit's, and the dry run re-checks resources with the victims
//! removed (exact for them), so preemption to satisfy pod-dependent filters (inter-pod
//! anti-affinity, topology spread) is not attempted. Victims are evicted by the host: the
//! simulator gives each its termination grace period, during which it keeps its node.

use rand::RngExt;

use crate::cluster::ClusterState;
use crate::node::NodeId;
use crate::pdb;
use crate::pod::{Pod, PodId, PreemptionPolicy};
use crate::resources::Resources;

/// Smallest share of nodes dry-run for candidates (`minCandidateNodesPercentage`).
pub const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
/// Smallest number of candidates sought (`minCandidateNodesAbsolute`).
pub const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// A node where preemption would let the pod fit, and whom it would evict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The node.
    pub node: NodeId,
    /// The pods to evict, most important first.
    pub victims: Vec<PodId>,
    /// How many of the victims' evictions would violate a PodDisruptionBudget.
    pub num_pdb_violations: usize,
}

/// True when `pod` may preempt at all.
pub fn eligible(pod: &Pod) -> bool {
    pod.template.preemption_policy != PreemptionPolicy::Never
}

/// kube-scheduler's `MoreImportantPod`: higher priority, then the one that started first.
fn more_important(a: &Pod, b: &Pod) -> std::cmp::Ordering {
    b.priority()
        .cmp(&a.priority())
        .then(a.start_stamp.cmp(&b.start_stamp))
}

/// The victims on `node` that make `pod` fit, after reprieving all it can, and how many of
/// them violate a PodDisruptionBudget; `None` if even evicting every lower-priority pod is
/// not enough.
pub fn select_victims(
    cluster: &ClusterState,
    pod: &Pod,
    node: NodeId,
) -> Option<(Vec<PodId>, usize)> {
    select_victims_with(cluster, pod, node, &pdb::disruptions_allowed(cluster))
}

/// [`select_victims`] with the budgets' allowed disruptions (one per
/// [`ClusterState::pdbs`] entry) computed once by the caller.
pub fn select_victims_with(
    cluster: &ClusterState,
    pod: &Pod,
    node: NodeId,
    allowed: &[i32],
) -> Option<(Vec<PodId>, usize)> {
    let mut lower: Vec<(PodId, &Pod)> = cluster
        .node(node)
        .pods
        .iter()
        .filter_map(|&id| cluster.pod(id).map(|p| (id, p)))
        .filter(|(_, p)| p.priority() < pod.priority())
        .collect();
    // Upstream: "No preemption victims found for incoming pod".
    if lower.is_empty() {
        return None;
    }
    let mut free: Resources = cluster.rows()[node.index()].free;
    for (_, p) in &lower {
        free += p.requests;
    }
    if !pod.requests.fits_in(&free) {
        return None;
    }
    lower.sort_by(|a, b| more_important(a.1, b.1).then(a.0.cmp(&b.0)));
    let (violating, fine) = if cluster.pdbs().is_empty() {
        (Vec::new(), lower.clone())
    } else {
        let (v, f) = pdb::split_by_violation(cluster.pdbs(), allowed, &lower);
        let by_id = |ids: Vec<PodId>| -> Vec<(PodId, &Pod)> {
            ids.into_iter()
                .filter_map(|id| cluster.pod(id).map(|p| (id, p)))
                .collect()
        };
        (by_id(v), by_id(f))
    };
    let mut victims = Vec::new();
    let mut num_violations = 0;
    for (group, counts) in [(violating, true), (fine, false)] {
        for (id, p) in group {
            let without = free - p.requests;
            if pod.requests.fits_in(&without) {
                free = without;
            } else {
                victims.push((id, p));
                if counts {
                    num_violations += 1;
                }
            }
        }
    }
    // Upstream re-sorts so the victims stay most important first.
    victims.sort_by(|a, b| more_important(a.1, b.1).then(a.0.cmp(&b.0)));
    Some((
        victims.into_iter().map(|(id, _)| id).collect(),
        num_violations,
    ))
}

/// Dry-runs preemption on `potential` nodes (those rejected as Unschedulable whose other
/// filters pass), from a random offset as upstream, and picks the best candidate.
pub fn find(
    cluster: &ClusterState,
    pod: &Pod,
    potential: &[NodeId],
    rng: &mut crate::scheduler::SchedulerRng,
) -> Option<Candidate> {
    if potential.is_empty() || !eligible(pod) {
        return None;
    }
    let all = cluster.ready_node_count();
    let wanted = (all * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
        .max(MIN_CANDIDATE_NODES_ABSOLUTE)
        .min(potential.len());
    let offset = rng.random_range(0..potential.len());
    let allowed = pdb::disruptions_allowed(cluster);
    let mut candidates = Vec::new();
    for k in 0..potential.len() {
        if candidates.len() >= wanted {
            break;
        }
        let node = potential[(offset + k) % potential.len()];
        if let Some((victims, num_pdb_violations)) =
            select_victims_with(cluster, pod, node, &allowed)
        {
            candidates.push(Candidate {
                node,
                victims,
                num_pdb_violations,
            });
        }
    }
    pick(cluster, candidates)
}

/// kube-scheduler's `pickOneNodeForPreemption`.
pub fn pick(cluster: &ClusterState, candidates: Vec<Candidate>) -> Option<Candidate> {
    let key = |c: &Candidate| {
        let victims: Vec<&Pod> = c.victims.iter().filter_map(|&v| cluster.pod(v)).collect();
        let highest = victims
            .iter()
            .map(|p| p.priority())
            .max()
            .unwrap_or(i32::MIN);
        // Upstream adds MaxInt32 + 1 to each priority so negative priorities still count.
        let sum: i64 = victims
            .iter()
            .map(|p| i64::from(p.priority()) + i64::from(i32::MAX) + 1)
            .sum();
        let earliest_start_of_highest = victims
            .iter()
            .filter(|p| p.priority() == highest)
            .map(|p| p.start_stamp)
            .min()
            .unwrap_or(u64::MAX);
        // Smaller is better in every component; a later start is better, hence the negation.
        (
            c.num_pdb_violations,
            highest,
            sum,
            victims.len(),
            std::cmp::Reverse(earliest_start_of_highest),
        )
    };
    let mut best: Option<(Candidate, _)> = None;
    for c in candidates {
        let k = key(&c);
        if best.as_ref().is_none_or(|(_, bk)| k < *bk) {
            best = Some((c, k));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::node::NodeSpec;
    use crate::pod::PodTemplate;
    use crate::resources::ResourceKind;

    fn cluster(nodes: usize, cpu: i64) -> ClusterState {
        let mut c = ClusterState::default();
        for i in 0..nodes {
            let mut a = Resources::cpu_mem(cpu, 1 << 40);
            a.set(ResourceKind::PODS, 110);
            c.add_node(NodeSpec {
                name: format!("node{}", i + 1),
                allocatable: a,
                ..Default::default()
            });
        }
        c
    }

    fn pod(name: &str, priority: i32, cpu: i64) -> Pod {
        let t = Arc::new(PodTemplate {
            name: name.into(),
            priority,
            singleton: true,
            ..Default::default()
        });
        let mut r = Resources::cpu_mem(cpu, 0);
        r.set(ResourceKind::PODS, 1);
        Pod::with_requests(t, 0, r, cpu, 0)
    }

    /// Places `pods` (name, priority, cpu, start stamp) on `node`.
    fn place(c: &mut ClusterState, node: u32, pods: &[(&str, i32, i64, u64)]) -> Vec<PodId> {
        pods.iter()
            .map(|&(name, prio, cpu, start)| {
                let id = c.add_pod(pod(name, prio, cpu));
                c.bind(id, NodeId(node)).unwrap();
                c.set_start_stamp(id, start);
                id
            })
            .collect()
    }

    fn names(c: &ClusterState, ids: &[PodId]) -> Vec<String> {
        ids.iter()
            .map(|&i| c.pod(i).unwrap().name().to_string())
            .collect()
    }

    /// Mirrors upstream's TestSelectNodesForPreemption / TestPickOneNodeForPreemption
    /// "a pod that would fit on the machines, but other pods running are higher priority, no preemption would happen".
    #[test]
    fn higher_priority_pods_are_never_victims() {
        let mut c = cluster(2, 5);
        place(&mut c, 0, &[("p1", 1000, 3, 0)]);
        place(&mut c, 1, &[("p2", 1000, 3, 1)]);
        let preemptor = pod("preemptor", 100, 3);
        assert_eq!(select_victims(&c, &preemptor, NodeId(0)), None);
        assert_eq!(select_victims(&c, &preemptor, NodeId(1)), None);
    }

    /// Mirrors "a pod that fits with the lowest priority pod removed": only the lower
    /// priority pods go, and of those only as many as needed (reprieve).
    #[test]
    fn reprieve_keeps_the_most_important_victims() {
        let mut c = cluster(1, 10);
        place(
            &mut c,
            0,
            &[("low1", 0, 3, 0), ("low2", 10, 3, 1), ("high", 2000, 3, 2)],
        );
        // Needs 4: the free 1 plus one 3-CPU pod. low2 outranks low1, so low2 is reprieved.
        let preemptor = pod("preemptor", 1000, 4);
        let (victims, violations) = select_victims(&c, &preemptor, NodeId(0)).unwrap();
        assert_eq!(names(&c, &victims), ["low1"]);
        assert_eq!(violations, 0);
    }

    /// Mirrors TestPickOneNodeForPreemption: "a pod that fits on a machine with no
    /// preemption" is not this function's job; the ordering cases follow.
    #[test]
    fn node_choice_follows_upstream_order() {
        let mut c = cluster(4, 6);
        // node1: victim of priority 10; node2: victim of priority 5 -> node2 wins on the
        // lowest highest-victim priority.
        place(&mut c, 0, &[("a1", 10, 6, 0)]);
        place(&mut c, 1, &[("b1", 5, 6, 0)]);
        let preemptor = pod("p", 100, 6);
        let pick2 = |c: &ClusterState, nodes: &[u32]| {
            let cands = nodes
                .iter()
                .filter_map(|&n| {
                    select_victims(c, &preemptor, NodeId(n)).map(|(v, n_pdb)| Candidate {
                        node: NodeId(n),
                        victims: v,
                        num_pdb_violations: n_pdb,
                    })
                })
                .collect();
            pick(c, cands).map(|c| c.node)
        };
        assert_eq!(pick2(&c, &[0, 1]), Some(NodeId(1)));
        // node3: two victims of priority 5 (sum larger) -> node2 still wins on the sum.
        place(&mut c, 2, &[("c1", 5, 3, 0), ("c2", 5, 3, 1)]);
        assert_eq!(pick2(&c, &[1, 2]), Some(NodeId(1)));
        // node4: one victim of priority 5 that started later than b1 -> same priority,
        // same sum, same count; the later start wins.
        place(&mut c, 3, &[("d1", 5, 6, 9)]);
        assert_eq!(pick2(&c, &[1, 3]), Some(NodeId(3)));
        assert_eq!(pick2(&c, &[3, 1]), Some(NodeId(3)));
    }

    #[test]
    fn never_policy_does_not_preempt() {
        let mut c = cluster(1, 4);
        place(&mut c, 0, &[("low", 0, 4, 0)]);
        let mut t = PodTemplate {
            name: "p".into(),
            priority: 100,
            ..Default::default()
        };
        t.preemption_policy = PreemptionPolicy::Never;
        let mut r = Resources::cpu_mem(4, 0);
        r.set(ResourceKind::PODS, 1);
        let p = Pod::with_requests(Arc::new(t), 0, r, 4, 0);
        let mut rng = <crate::scheduler::SchedulerRng as rand::SeedableRng>::seed_from_u64(1);
        assert_eq!(find(&c, &p, &[NodeId(0)], &mut rng), None);
        let p = pod("p", 100, 4);
        assert_eq!(
            find(&c, &p, &[NodeId(0)], &mut rng).map(|c| c.node),
            Some(NodeId(0))
        );
    }

    /// A pod labelled `app=<app>` (name, priority, cpu).
    fn labelled(name: &str, app: &str, priority: i32, cpu: i64) -> Pod {
        let t = Arc::new(PodTemplate {
            name: name.into(),
            namespace: "default".into(),
            labels: crate::labels::Labels::new([("app", app)]),
            priority,
            singleton: true,
            ..Default::default()
        });
        let mut r = Resources::cpu_mem(cpu, 0);
        r.set(ResourceKind::PODS, 1);
        Pod::with_requests(t, 0, r, cpu, 0)
    }

    fn bind_on(c: &mut ClusterState, node: u32, p: Pod, start: u64) -> PodId {
        let id = c.add_pod(p);
        c.bind(id, NodeId(node)).unwrap();
        c.set_start_stamp(id, start);
        id
    }

    fn pdb_min_available(
        app: &str,
        min: crate::pdb::IntOrPercent,
    ) -> crate::pdb::PodDisruptionBudget {
        crate::pdb::PodDisruptionBudget {
            name: format!("pdb-{app}"),
            namespace: "default".into(),
            selector: crate::pod_affinity::LabelSelector::equals("app", app),
            budget: crate::pdb::Budget::MinAvailable(min),
        }
    }

    /// Mirrors upstream's TestSelectNodesForPreemption "preemption with violation of same
    /// pdb": both pods of one budget that allows one disruption must go, so both are
    /// victims and one of them counts as a violation.
    #[test]
    fn preemption_with_violation_of_same_pdb() {
        let mut c = cluster(1, 6);
        bind_on(&mut c, 0, labelled("p1", "foo", 0, 3), 0);
        bind_on(&mut c, 0, labelled("p2", "foo", 0, 3), 1);
        c.add_pdb(pdb_min_available("foo", crate::pdb::IntOrPercent::Int(1)));
        assert_eq!(crate::pdb::disruptions_allowed(&c), [1]);
        let preemptor = pod("preemptor", 100, 6);
        let (victims, violations) = select_victims(&c, &preemptor, NodeId(0)).unwrap();
        assert_eq!(names(&c, &victims), ["p1", "p2"]);
        assert_eq!(violations, 1);
    }

    /// Upstream's `selectVictimsOnNode` reprieves the PDB-violating pods first: here the
    /// covered pod is less important, yet it is kept and the uncovered one is evicted.
    #[test]
    fn pdb_violating_pods_are_reprieved_first() {
        let mut c = cluster(1, 6);
        bind_on(&mut c, 0, labelled("guarded", "foo", 0, 3), 0);
        bind_on(&mut c, 0, labelled("free", "bar", 10, 3), 1);
        let preemptor = pod("preemptor", 100, 3);
        // Without a budget, the more important pod is reprieved.
        let (victims, violations) = select_victims(&c, &preemptor, NodeId(0)).unwrap();
        assert_eq!(
            (names(&c, &victims), violations),
            (vec!["guarded".to_string()], 0)
        );
        // With a budget allowing no disruption of `foo`, the guarded pod is reprieved.
        c.add_pdb(pdb_min_available(
            "foo",
            crate::pdb::IntOrPercent::Percent(100),
        ));
        let (victims, violations) = select_victims(&c, &preemptor, NodeId(0)).unwrap();
        assert_eq!(
            (names(&c, &victims), violations),
            (vec!["free".to_string()], 0)
        );
    }

    /// Mirrors TestPickOneNodeForPreemption's first criterion: the node whose victims
    /// violate fewer budgets wins even over lower-priority victims.
    #[test]
    fn fewest_pdb_violations_wins() {
        let mut c = cluster(2, 4);
        bind_on(&mut c, 0, labelled("guarded", "foo", 0, 4), 0);
        bind_on(&mut c, 1, labelled("other", "bar", 50, 4), 0);
        c.add_pdb(crate::pdb::PodDisruptionBudget {
            budget: crate::pdb::Budget::MaxUnavailable(crate::pdb::IntOrPercent::Int(0)),
            ..pdb_min_available("foo", crate::pdb::IntOrPercent::Int(0))
        });
        let preemptor = pod("preemptor", 100, 4);
        assert_eq!(
            select_victims(&c, &preemptor, NodeId(0)).map(|v| v.1),
            Some(1)
        );
        let mut rng = <crate::scheduler::SchedulerRng as rand::SeedableRng>::seed_from_u64(3);
        let chosen = find(&c, &preemptor, &[NodeId(0), NodeId(1)], &mut rng).unwrap();
        assert_eq!(chosen.node, NodeId(1));
        assert_eq!(chosen.num_pdb_violations, 0);
        // Without the budget, node1's lower-priority victim wins.
        let mut plain = cluster(2, 4);
        bind_on(&mut plain, 0, labelled("guarded", "foo", 0, 4), 0);
        bind_on(&mut plain, 1, labelled("other", "bar", 50, 4), 0);
        let chosen = find(&plain, &preemptor, &[NodeId(0), NodeId(1)], &mut rng).unwrap();
        assert_eq!(chosen.node, NodeId(0));
    }

    /// End to end through kube-default: the preemptor nominates the node whose victims
    /// violate no PodDisruptionBudget.
    #[test]
    fn kube_default_preempts_where_no_pdb_is_violated() {
        let mut c = cluster(2, 4);
        bind_on(&mut c, 0, labelled("guarded", "foo", 0, 4), 0);
        let other = bind_on(&mut c, 1, labelled("other", "bar", 50, 4), 0);
        c.add_pdb(pdb_min_available("foo", crate::pdb::IntOrPercent::Int(1)));
        let p = c.add_pod(pod("preemptor", 100, 4));
        let mut scheduler = crate::registry::Registry::builtin()
            .create("kube-default")
            .unwrap();
        let mut rng = <crate::scheduler::SchedulerRng as rand::SeedableRng>::seed_from_u64(1);
        let mut decisions = Vec::new();
        scheduler.schedule(&mut crate::scheduler::Cycle::new(
            &mut c,
            &[p],
            &mut rng,
            &mut decisions,
        ));
        assert_eq!(
            decisions,
            vec![crate::scheduler::Decision::Preempt {
                pod: p,
                node: NodeId(1),
                victims: vec![other],
            }]
        );
    }
}
