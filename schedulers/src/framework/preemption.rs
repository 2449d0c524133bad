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
//! - the dry run runs every PreFilter and Filter of the profile on a copy of the cluster
//!   with the victims set aside ([`ClusterState::set_aside`]), so a preemptor kept off a
//!   node by inter-pod anti-affinity, topology spread or a host port evicts the pods in
//!   its way (`FrameworkScheduler::preempt`). When none of those pod-dependent filters is
//!   active for the pod, only resources can be freed, and the dry run re-checks resources
//!   alone on the nodes whose only objection is NodeResourcesFit's: the same answer
//!   without copying the cluster;
//! - pods nominated to a node with priority at least the preemptor's keep their room
//!   there, in filtering and in the dry run (upstream's `addNominatedPods`).
//!
//! Simplifications, stated: budgets' allowed disruptions are computed from the cluster
//! (see [`crate::pdb`]), with no `disruptedPods`; a nominated pod holds its requests and
//! pod slot only, not its host ports or its labels for other pods' affinity, and filters
//! do not run a second time without it. Victims are evicted by the host: the simulator
//! gives each its termination grace period, during which it keeps its node.

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
    select_victims_with(
        cluster,
        pod,
        node,
        Resources::ZERO,
        &pdb::disruptions_allowed(cluster),
    )
    .map(|c| (c.victims, c.num_pdb_violations))
}

/// The pods on `node` of lower priority than `pod`, most important first: who could
/// be evicted for it.
pub fn lower_priority_pods<'c>(
    cluster: &'c ClusterState,
    pod: &Pod,
    node: NodeId,
) -> Vec<(PodId, &'c Pod)> {
    let mut lower: Vec<(PodId, &Pod)> = cluster
        .node(node)
        .pods
        .iter()
        .filter_map(|&id| cluster.pod(id).map(|p| (id, p)))
        .filter(|(_, p)| p.priority() < pod.priority())
        .collect();
    lower.sort_by(|a, b| more_important(a.1, b.1).then(a.0.cmp(&b.0)));
    lower
}

/// Pods that could be evicted, each with the pod itself.
pub type Evictable<'c> = Vec<(PodId, &'c Pod)>;

/// `lower` split into the pods whose eviction would overdraw a budget and the others,
/// each in the order given (upstream's `filterPodsWithPDBViolation`).
pub fn split_by_budget<'c>(
    cluster: &ClusterState,
    allowed: &[i32],
    lower: Evictable<'c>,
) -> (Evictable<'c>, Evictable<'c>) {
    if cluster.pdbs().is_empty() {
        return (Vec::new(), lower);
    }
    let keyed: Vec<((PodId, &Pod), &Pod)> = lower.iter().map(|&(id, p)| ((id, p), p)).collect();
    pdb::split_by_violation(cluster.pdbs(), allowed, &keyed)
}

/// A candidate on `node` evicting `victims` (sorted here most important first, as
/// upstream re-sorts them after the reprieve).
pub fn candidate(
    node: NodeId,
    mut victims: Vec<(PodId, &Pod)>,
    num_pdb_violations: usize,
) -> Candidate {
    victims.sort_by(|a, b| more_important(a.1, b.1).then(a.0.cmp(&b.0)));
    Candidate {
        node,
        victims: victims.into_iter().map(|(id, _)| id).collect(),
        num_pdb_violations,
    }
}

/// [`select_victims`] for resources only, with `held` of the node kept for nominated
/// pods and the budgets' allowed disruptions (one per [`ClusterState::pdbs`] entry)
/// computed once by the caller.
pub fn select_victims_with(
    cluster: &ClusterState,
    pod: &Pod,
    node: NodeId,
    held: Resources,
    allowed: &[i32],
) -> Option<Candidate> {
    let lower = lower_priority_pods(cluster, pod, node);
    // Upstream: "No preemption victims found for incoming pod".
    if lower.is_empty() {
        return None;
    }
    let mut free: Resources = cluster.rows()[node.index()].free - held;
    for (_, p) in &lower {
        free += p.requests;
    }
    if !pod.requests.fits_in(&free) {
        return None;
    }
    let (violating, fine) = split_by_budget(cluster, allowed, lower);
    let mut victims = Vec::new();
    let mut num_violations = 0;
    for (group, counts) in [(violating, true), (fine, false)] {
        for (id, p) in group {
            let without = free - p.requests;
            if pod.requests.fits_in(&without) {
                free = without;
            } else {
                victims.push((id, p));
                num_violations += usize::from(counts);
            }
        }
    }
    Some(candidate(node, victims, num_violations))
}

/// How many candidates the dry run seeks among `potential` nodes:
/// `max(10% of the ready nodes, 100)`, at most all of them.
pub fn candidates_wanted(cluster: &ClusterState, potential: usize) -> usize {
    (cluster.ready_node_count() * MIN_CANDIDATE_NODES_PERCENTAGE / 100)
        .max(MIN_CANDIDATE_NODES_ABSOLUTE)
        .min(potential)
}

/// Dry-runs preemption for resources on `potential` nodes (those rejected as
/// Unschedulable whose other filters pass), each with what nominated pods hold there,
/// from a random offset as upstream, and picks the best candidate.
pub fn find(
    cluster: &ClusterState,
    pod: &Pod,
    potential: &[(NodeId, Resources)],
    rng: &mut crate::scheduler::SchedulerRng,
) -> Option<Candidate> {
    if potential.is_empty() || !eligible(pod) {
        return None;
    }
    let wanted = candidates_wanted(cluster, potential.len());
    let offset = rng.random_range(0..potential.len());
    let allowed = pdb::disruptions_allowed(cluster);
    let mut candidates = Vec::new();
    for k in 0..potential.len() {
        if candidates.len() >= wanted {
            break;
        }
        let (node, held) = potential[(offset + k) % potential.len()];
        if let Some(c) = select_victims_with(cluster, pod, node, held, &allowed) {
            candidates.push(c);
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
        assert_eq!(
            find(&c, &p, &[(NodeId(0), Resources::ZERO)], &mut rng),
            None
        );
        let p = pod("p", 100, 4);
        assert_eq!(
            find(&c, &p, &[(NodeId(0), Resources::ZERO)], &mut rng).map(|c| c.node),
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
        let chosen = find(
            &c,
            &preemptor,
            &[(NodeId(0), Resources::ZERO), (NodeId(1), Resources::ZERO)],
            &mut rng,
        )
        .unwrap();
        assert_eq!(chosen.node, NodeId(1));
        assert_eq!(chosen.num_pdb_violations, 0);
        // Without the budget, node1's lower-priority victim wins.
        let mut plain = cluster(2, 4);
        bind_on(&mut plain, 0, labelled("guarded", "foo", 0, 4), 0);
        bind_on(&mut plain, 1, labelled("other", "bar", 50, 4), 0);
        let chosen = find(
            &plain,
            &preemptor,
            &[(NodeId(0), Resources::ZERO), (NodeId(1), Resources::ZERO)],
            &mut rng,
        )
        .unwrap();
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

    const LOW: i32 = 0;
    const MID: i32 = 100;
    const HIGH: i32 = 1000;

    /// A cluster of `nodes` (name, zone), each with 4 CPUs, the hostname label and, when
    /// given, `zone`.
    fn labelled_nodes(nodes: &[(&str, &str)]) -> ClusterState {
        let mut c = ClusterState::default();
        for &(name, zone) in nodes {
            let mut a = Resources::cpu_mem(4, 1 << 40);
            a.set(ResourceKind::PODS, 110);
            let mut labels = crate::labels::Labels::new([("hostname", name)]);
            if !zone.is_empty() {
                labels.insert("zone".into(), zone.into());
            }
            c.add_node(NodeSpec {
                name: name.into(),
                allocatable: a,
                labels,
                ..Default::default()
            });
        }
        c
    }

    /// `st.MakePod().Label("foo", "")`: a pod of the default namespace labelled foo.
    fn foo(name: &str, priority: i32) -> PodTemplate {
        PodTemplate {
            name: name.into(),
            namespace: "default".into(),
            labels: crate::labels::Labels::new([("foo", "")]),
            priority,
            singleton: true,
            ..Default::default()
        }
    }

    fn foo_selector() -> crate::pod_affinity::LabelSelector {
        crate::pod_affinity::LabelSelector::equals("foo", "")
    }

    fn make(t: PodTemplate, cpu: i64) -> Pod {
        let mut r = Resources::cpu_mem(cpu, 0);
        r.set(ResourceKind::PODS, 1);
        Pod::with_requests(Arc::new(t), 0, r, cpu, 0)
    }

    fn schedule_one(c: &mut ClusterState, pod: PodId, seed: u64) -> crate::scheduler::Decision {
        let mut scheduler =
            super::super::FrameworkScheduler::new(super::super::Profile::kube_default());
        let mut rng = <crate::scheduler::SchedulerRng as rand::SeedableRng>::seed_from_u64(seed);
        let mut decisions = Vec::new();
        crate::scheduler::Scheduler::schedule(
            &mut scheduler,
            &mut crate::scheduler::Cycle::new(c, &[pod], &mut rng, &mut decisions),
        );
        assert_eq!(decisions.len(), 1, "{decisions:?}");
        decisions.pop().unwrap()
    }

    /// Mirrors upstream's TestDryRunPreemption "pod with anti-affinity is preempted": a
    /// low-priority pod whose required anti-affinity keeps the preemptor off node1 is
    /// evicted; the medium-priority pod beside it is reprieved, since its return does not
    /// stop the preemptor. node2 holds only a pod of the preemptor's priority (upstream's
    /// node2 is left out of the dry run the same way).
    #[test]
    fn pod_with_anti_affinity_is_preempted() {
        let mut c = labelled_nodes(&[("node1", ""), ("node2", "")]);
        let mut anti = foo("p1.1", LOW);
        anti.pod_anti_affinity
            .get_or_insert_with(Default::default)
            .required
            .push(crate::pod_affinity::PodAffinityTerm {
                label_selector: Some(foo_selector()),
                topology_key: "hostname".into(),
                ..Default::default()
            });
        let p11 = bind_on(&mut c, 0, make(anti, 1), 0);
        bind_on(&mut c, 0, make(foo("p1.2", MID), 1), 1);
        bind_on(&mut c, 0, make(foo("p1.3", HIGH), 1), 2);
        bind_on(&mut c, 1, make(foo("p2", HIGH), 4), 3);
        let p = c.add_pod(make(foo("p", HIGH), 1));
        assert_eq!(
            schedule_one(&mut c, p, 1),
            crate::scheduler::Decision::Preempt {
                pod: p,
                node: NodeId(0),
                victims: vec![p11],
            }
        );
    }

    /// Mirrors upstream's TestDryRunPreemption "preemption to resolve pod topology spread
    /// filter failure": zone1 (node-a, node-b) holds three `foo` pods and zone2 (node-x)
    /// two of the preemptor's priority, so with maxSkew 1 on zone and hostname the
    /// preemptor fits nowhere. On node-a the medium-priority pod is reprieved and the
    /// low one evicted; on node-b its one low pod goes; node-x has nothing to evict.
    #[test]
    fn preemption_to_resolve_pod_topology_spread_filter_failure() {
        let mut c = labelled_nodes(&[
            ("node-a", "zone1"),
            ("node-b", "zone1"),
            ("node-x", "zone2"),
        ]);
        bind_on(&mut c, 0, make(foo("pod-a1", MID), 0), 0);
        let a2 = bind_on(&mut c, 0, make(foo("pod-a2", LOW), 0), 1);
        let b1 = bind_on(&mut c, 1, make(foo("pod-b1", LOW), 0), 2);
        bind_on(&mut c, 2, make(foo("pod-x1", HIGH), 0), 3);
        bind_on(&mut c, 2, make(foo("pod-x2", HIGH), 0), 4);
        let mut t = foo("p", HIGH);
        for key in ["zone", "hostname"] {
            t.topology_spread_constraints
                .push(crate::pod_affinity::TopologySpreadConstraint {
                    max_skew: 1,
                    topology_key: key.into(),
                    when_unsatisfiable: crate::pod_affinity::WhenUnsatisfiable::DoNotSchedule,
                    label_selector: Some(foo_selector()),
                    ..Default::default()
                });
        }
        let p = c.add_pod(make(t, 0));
        let preemptor = c.pod(p).unwrap().clone();

        // The dry run, node by node, as upstream lists its candidates.
        let mut framework =
            super::super::FrameworkScheduler::new(super::super::Profile::kube_default());
        let allowed = pdb::disruptions_allowed(&c);
        let mut copy = c.clone();
        let mut dry = |node: u32| {
            let lower = lower_priority_pods(&c, &preemptor, NodeId(node));
            if lower.is_empty() {
                return None;
            }
            framework
                .dry_run(&mut copy, &preemptor, NodeId(node), lower, &allowed)
                .map(|c| c.victims)
        };
        assert_eq!(dry(0), Some(vec![a2]));
        assert_eq!(dry(1), Some(vec![b1]));
        assert_eq!(dry(2), None);
        // The copy is left as it was found.
        copy.check_invariants().unwrap();
        for n in 0..3 {
            let mut on_copy = copy.node(NodeId(n)).pods.clone();
            let mut on_real = c.node(NodeId(n)).pods.clone();
            on_copy.sort();
            on_real.sort();
            assert_eq!(on_copy, on_real);
        }

        // End to end: the two candidates tie on every criterion, so the first found
        // from the random offset wins; either way its one low-priority pod goes.
        match schedule_one(&mut c, p, 7) {
            crate::scheduler::Decision::Preempt { node, victims, .. } => {
                assert!(
                    (node, victims.clone()) == (NodeId(0), vec![a2])
                        || (node, victims.clone()) == (NodeId(1), vec![b1]),
                    "{node:?} {victims:?}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    /// Upstream's `addNominatedPods`: once a preemptor is nominated to a node, the room its
    /// victims free is held for it against pods of lower or equal priority, not against
    /// higher ones, and released when it binds.
    #[test]
    fn room_freed_for_a_nominated_pod_is_held_for_it() {
        let mut c = labelled_nodes(&[("node1", "")]);
        let victim = bind_on(&mut c, 0, make(foo("low", LOW), 4), 0);
        let preemptor = c.add_pod(make(foo("preemptor", HIGH), 4));
        assert_eq!(
            schedule_one(&mut c, preemptor, 1),
            crate::scheduler::Decision::Preempt {
                pod: preemptor,
                node: NodeId(0),
                victims: vec![victim],
            }
        );
        assert_eq!(c.nominated_pods(), [preemptor]);
        // The victim leaves; a medium and an equal-priority pod arrive first.
        c.remove_pod(victim);
        for (name, priority) in [("mid", MID), ("equal", HIGH)] {
            let other = c.add_pod(make(foo(name, priority), 4));
            match schedule_one(&mut c, other, 1) {
                crate::scheduler::Decision::Unschedulable { diagnosis, .. } => {
                    assert_eq!(
                        diagnosis.to_string(),
                        "0/1 nodes are available: 1 Insufficient cpu."
                    );
                }
                d => panic!("{name}: {d:?}"),
            }
            c.remove_pod(other);
        }
        // A pod more important than the preemptor is not held back.
        let higher = c.add_pod(make(foo("higher", HIGH + 1), 4));
        assert!(matches!(
            schedule_one(&mut c, higher, 1),
            crate::scheduler::Decision::Bound { .. }
        ));
        c.remove_pod(higher);
        // The preemptor itself takes its room, and the nomination ends.
        assert_eq!(
            schedule_one(&mut c, preemptor, 1),
            crate::scheduler::Decision::Bound {
                pod: preemptor,
                node: NodeId(0),
            }
        );
        assert!(c.nominated_pods().is_empty());
        c.check_invariants().unwrap();
    }

    /// A preemptor whose host port a lower-priority pod holds evicts that pod only: the
    /// other lower-priority pod on the node is reprieved (NodePorts in the dry run).
    #[test]
    fn a_host_port_held_by_a_lower_priority_pod_is_freed() {
        use crate::pod::{HostPort, Protocol};
        let mut c = labelled_nodes(&[("node1", "")]);
        let with_port = |name: &str, priority: i32| {
            let mut t = foo(name, priority);
            t.containers = vec![crate::pod::ContainerResources {
                name: "c".into(),
                host_ports: vec![HostPort::new(8080, Protocol::Tcp)],
                ..Default::default()
            }];
            t
        };
        let holder = bind_on(&mut c, 0, make(with_port("holder", MID), 1), 0);
        bind_on(&mut c, 0, make(foo("bystander", LOW), 1), 1);
        let p = c.add_pod(make(with_port("p", HIGH), 1));
        assert_eq!(
            schedule_one(&mut c, p, 1),
            crate::scheduler::Decision::Preempt {
                pod: p,
                node: NodeId(0),
                victims: vec![holder],
            }
        );
    }
}
