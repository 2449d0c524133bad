//! DaemonSets: one pod on each matching node at exact places on small clusters, for nodes
//! present at the start and joining later, none on a node whose taint it does not
//! tolerate, a pod left Pending on a full node with kube-scheduler's message, replacement
//! of a lost daemon pod and none for a node that leaves; the cluster autoscaler's
//! template nodes carrying the daemon pods; and random scenarios checked after every
//! event (every daemon pod on a distinct node that should run it).

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use schedulers::{
    Labels, NodeSpec, OwnerKind, PodPhase, PodTemplate, Registry, ResourceKind, Resources, Taint,
    TaintEffect,
};
use sim::controllers::daemonsets::{should_run, with_daemon_tolerations};
use sim::{NodeAction, RunResult, Scenario, SimTime, Simulation, TraceEvent, parse_scenario};

fn load(text: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "daemonset.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn sim<'a>(s: &'a Scenario, scheduler: &str) -> Simulation<'a> {
    let mut sim = Simulation::new(s, Registry::builtin().create(scheduler).unwrap(), 1);
    sim.enable_trace();
    sim
}

/// Plays to the end, checking the cluster's books and the daemon pods after every event.
fn play(s: &Scenario, mut sim: Simulation<'_>) -> RunResult {
    let mut steps = 0;
    while sim.step() {
        check(s, &sim);
        steps += 1;
        assert!(steps < 200_000, "run does not end");
    }
    sim.finish()
}

/// (seconds, pod, node) of every bind of a pod whose name starts with `prefix`.
fn binds(r: &RunResult, prefix: &str) -> Vec<(u64, String, String)> {
    r.trace
        .iter()
        .filter(|t| t.pod.starts_with(prefix))
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => {
                Some((t.time.as_micros() / 1_000_000, t.pod.clone(), node.clone()))
            }
            _ => None,
        })
        .collect()
}

/// (seconds, reason) of every failed attempt of `pod`.
fn failures(r: &RunResult, pod: &str) -> Vec<(u64, String)> {
    r.trace
        .iter()
        .filter(|t| t.pod == pod)
        .filter_map(|t| match &t.event {
            TraceEvent::Unschedulable { reason } => {
                Some((t.time.as_micros() / 1_000_000, reason.clone()))
            }
            _ => None,
        })
        .collect()
}

/// The cluster's invariants, and for each DaemonSet: every daemon pod is pinned to one
/// node, no node has two live pods of one set, and a bound one sits on its own node,
/// which should run it (or, for a taint added since, may keep it).
fn check(s: &Scenario, sim: &Simulation<'_>) {
    let cluster = sim.cluster();
    let now = sim.now();
    cluster
        .check_invariants()
        .unwrap_or_else(|e| panic!("at {now}: {e}"));
    let mut seen = std::collections::BTreeSet::new();
    for (_, p) in cluster.pods() {
        if p.template.owner != OwnerKind::DaemonSet || p.terminating {
            continue;
        }
        let fields = &p.template.node_affinity.as_ref().expect("pinned").required;
        let terms = fields.as_ref().expect("required terms");
        assert_eq!(terms.len(), 1, "at {now}: {} pinned by one term", p.name());
        let target = terms[0].match_fields[0].values[0].clone();
        assert!(
            seen.insert((p.owner, target.clone())),
            "at {now}: two live pods of one DaemonSet for node {target}"
        );
        if let Some(n) = p.node {
            let node = cluster.node(n);
            assert_eq!(node.name(), target, "at {now}: {} off its node", p.name());
            let base = with_daemon_tolerations(&s.workloads[p.owner as usize].template);
            assert!(
                should_run(&base, &node.spec).1,
                "at {now}: {} on {target}, which should not run it",
                p.name()
            );
        }
    }
}

/// Three nodes, two labelled `disk: ssd`; a DaemonSet selecting them.
const THREE_NODES: &str = r#"
duration: 10m
cluster:
  nodes:
    - {name: n-0, allocatable: {cpu: "4", memory: 8Gi}, labels: {disk: ssd}}
    - {name: n-1, allocatable: {cpu: "4", memory: 8Gi}}
    - {name: n-2, allocatable: {cpu: "4", memory: 8Gi}, labels: {disk: ssd}}
workloads:
  - daemonSet: agent
    nodeSelector: {disk: ssd}
    requests: {cpu: 100m, memory: 64Mi}
"#;

fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, TaintEffect)]) -> NodeSpec {
    NodeSpec {
        name: name.into(),
        allocatable: {
            let mut r = Resources::cpu_mem(4000, 8 << 30);
            r.set(ResourceKind::PODS, 110);
            r
        },
        labels: Labels::new(labels.iter().copied()),
        taints: taints
            .iter()
            .map(|&(key, effect)| Taint {
                key: key.into(),
                value: "x".into(),
                effect,
            })
            .collect(),
        ..Default::default()
    }
}

#[test]
fn one_pod_per_matching_node_including_nodes_that_join_later() {
    let s = load(THREE_NODES);
    for scheduler in ["kube-default", "first-fit", "most-allocated"] {
        let mut sim = sim(&s, scheduler);
        // A matching node joins at 60 s; a matching one tainted NoSchedule, which the
        // set does not tolerate, at 120 s; a non-matching one at 180 s.
        sim.schedule_node_action(
            SimTime::from_secs(60),
            NodeAction::Add(node("n-3", &[("disk", "ssd")], &[])),
        );
        sim.schedule_node_action(
            SimTime::from_secs(120),
            NodeAction::Add(node(
                "n-4",
                &[("disk", "ssd")],
                &[("dedicated", TaintEffect::NoSchedule)],
            )),
        );
        sim.schedule_node_action(
            SimTime::from_secs(180),
            NodeAction::Add(node("n-5", &[], &[])),
        );
        let r = play(&s, sim);
        assert_eq!(
            binds(&r, "agent"),
            [
                (0, "agent-0".to_owned(), "n-0".to_owned()),
                (0, "agent-1".to_owned(), "n-2".to_owned()),
                (60, "agent-2".to_owned(), "n-3".to_owned()),
            ],
            "{scheduler}"
        );
        // Nothing else was created: no pod for n-1, n-4 or n-5, pending or not.
        assert!(
            !r.trace.iter().any(|t| t.pod == "agent-3"),
            "{scheduler}: a fourth daemon pod"
        );
    }
}

#[test]
fn a_full_node_leaves_its_daemon_pod_pending_with_the_schedulers_reason() {
    // n-0 is full with `hog` (created first); the DaemonSet comes at 10 s and its pod for
    // n-0 cannot go anywhere else.
    let s = load(
        r#"
duration: 10m
cluster:
  nodes:
    - {name: n-0, allocatable: {cpu: "1", memory: 8Gi}}
    - {name: n-1, allocatable: {cpu: "2", memory: 8Gi}}
workloads:
  - pod: hog
    requests: {cpu: "1", memory: 64Mi}
    nodeName: n-0
  - daemonSet: agent
    at: 10s
    requests: {cpu: 500m, memory: 64Mi}
"#,
    );
    let r = play(&s, sim(&s, "kube-default"));
    assert_eq!(
        binds(&r, "agent"),
        [(10, "agent-1".to_owned(), "n-1".to_owned())]
    );
    // kube-scheduler's FitError wording; retried at the unschedulable queue's 5-minute
    // flush, with nothing changed.
    let reason = "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.";
    assert_eq!(
        failures(&r, "agent-0"),
        [(10, reason.to_owned()), (310, reason.to_owned())]
    );
}

#[test]
fn a_leaving_nodes_daemon_pod_is_not_recreated() {
    let s = load(
        r#"
duration: 10m
cluster:
  nodes:
    - {name: n-0, allocatable: {cpu: "4", memory: 8Gi}}
    - {name: n-1, allocatable: {cpu: "4", memory: 8Gi}}
workloads:
  - daemonSet: agent
    requests: {cpu: 100m, memory: 64Mi}
"#,
    );
    let mut sim = sim(&s, "kube-default");
    sim.schedule_node_action(SimTime::from_secs(100), NodeAction::Remove("n-1".into()));
    let r = play(&s, sim);
    assert_eq!(
        binds(&r, "agent"),
        [
            (0, "agent-0".to_owned(), "n-0".to_owned()),
            (0, "agent-1".to_owned(), "n-1".to_owned()),
        ]
    );
    assert!(
        !r.trace.iter().any(|t| t.pod == "agent-2"),
        "recreated for a leaving node"
    );
}

#[test]
fn a_finished_daemon_pod_is_replaced_on_its_node() {
    let s = load(
        r#"
duration: 150s
startLatency: 0s
cluster:
  nodes:
    - {name: n-0, allocatable: {cpu: "4", memory: 8Gi}}
workloads:
  - daemonSet: agent
    duration: 60s
    requests: {cpu: 100m, memory: 64Mi}
"#,
    );
    let r = play(&s, sim(&s, "kube-default"));
    assert_eq!(
        binds(&r, "agent"),
        [
            (0, "agent-0".to_owned(), "n-0".to_owned()),
            (60, "agent-1".to_owned(), "n-0".to_owned()),
            (120, "agent-2".to_owned(), "n-0".to_owned()),
        ]
    );
}

/// Random clusters (labels, taints) with a DaemonSet selecting some of them, a
/// Deployment and bare pods competing for room, and nodes joining and leaving: checked
/// after every event, and at the end every node that should run the set and has room
/// for it runs exactly one of its pods.
#[test]
fn random_scenarios_keep_one_daemon_pod_per_qualifying_node() {
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = rng.random_range(2..6);
        let mut text = String::from("duration: 20m\ncluster:\n  nodes:\n");
        for i in 0..n {
            let ssd = rng.random_bool(0.6);
            let taint = rng.random_bool(0.3);
            text.push_str(&format!(
                "    - {{name: n-{i}, allocatable: {{cpu: \"{}\", memory: 8Gi}}{}{}}}\n",
                rng.random_range(1..5),
                if ssd { ", labels: {disk: ssd}" } else { "" },
                if taint {
                    ", taints: [{key: dedicated, value: infra, effect: NoSchedule}]"
                } else {
                    ""
                },
            ));
        }
        let tolerate = rng.random_bool(0.5);
        text.push_str(&format!(
            "workloads:\n  - deployment: web\n    replicas: {}\n    requests: {{cpu: 700m, memory: 64Mi}}\n  - daemonSet: agent\n    at: {}s\n    nodeSelector: {{disk: ssd}}\n    requests: {{cpu: 300m, memory: 64Mi}}\n    priority: {}\n{}",
            rng.random_range(0..8),
            rng.random_range(0..30),
            if rng.random_bool(0.5) { 1000 } else { 0 },
            if tolerate { "    tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]\n" } else { "" },
        ));
        let s = load(&text);
        let mut sim = sim(
            &s,
            if seed % 2 == 0 {
                "kube-default"
            } else {
                "first-fit"
            },
        );
        for k in 0..rng.random_range(0..4) {
            let at = SimTime::from_secs(rng.random_range(1..600));
            if rng.random_bool(0.6) {
                let labels: &[(&str, &str)] = if rng.random_bool(0.6) {
                    &[("disk", "ssd")]
                } else {
                    &[]
                };
                sim.schedule_node_action(at, NodeAction::Add(node(&format!("x-{k}"), labels, &[])));
            } else {
                let i = rng.random_range(0..n);
                sim.schedule_node_action(at, NodeAction::Remove(format!("n-{i}")));
            }
        }
        let mut steps = 0;
        while sim.step() {
            check(&s, &sim);
            steps += 1;
            assert!(steps < 200_000, "seed {seed}: run does not end");
        }
        // Settled: a node that should run the set has its pod, bound unless the node
        // lacks room for it.
        let cluster = sim.cluster();
        let base: PodTemplate = with_daemon_tolerations(&s.workloads[1].template);
        for (i, node) in cluster.nodes().iter().enumerate() {
            if node.removed || !should_run(&base, &node.spec).0 {
                continue;
            }
            let on_it: Vec<PodPhase> = cluster
                .pods()
                .filter(|(_, p)| {
                    p.template.owner == OwnerKind::DaemonSet
                        && p.template.node_affinity.as_ref().is_some_and(|a| {
                            a.required.as_ref().unwrap()[0].match_fields[0].values[0] == node.name()
                        })
                })
                .map(|(_, p)| p.phase)
                .collect();
            assert_eq!(
                on_it.len(),
                1,
                "seed {seed}: node {i} ({}) has {on_it:?}\n{text}",
                node.name()
            );
        }
    }
}

/// `scenarios/online-boutique-agents.yaml`, as its description works it out: the two
/// nodes hold 1500m of the shop's 1570m beside their daemon pods, so the autoscaler adds
/// exactly one node (counting the daemon pods on its template node), which gets its
/// own two daemon pods; everything ends bound.
#[test]
fn the_bundled_agents_scenario_grows_by_one_node_with_its_daemon_pods() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/online-boutique-agents.yaml");
    let registry = Registry::builtin();
    let s = sim::load_scenario(&path, &|spec, profiles| registry.check(spec, profiles))
        .unwrap_or_else(|e| panic!("{e}"));
    let daemons: Vec<i64> = s
        .workloads
        .iter()
        .filter(|w| matches!(w.kind, sim::scenario::WorkloadKind::DaemonSet { .. }))
        .map(|w| w.template.effective_requests().cpu())
        .collect();
    assert_eq!(daemons, [100, 150]);
    let r = play(&s, sim(&s, "kube-default"));
    let mut agents: Vec<(String, String)> = binds(&r, "node-exporter")
        .into_iter()
        .chain(binds(&r, "log-shipper"))
        .map(|(_, pod, node)| (node, pod))
        .collect();
    agents.sort();
    let nodes: Vec<&str> = agents.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        nodes,
        ["node-0", "node-0", "node-1", "node-1", "node-2", "node-2"],
        "{agents:?}"
    );
    let scale_ups = r
        .trace
        .iter()
        .filter(|t| t.event.columns().0 == "scale-up")
        .count();
    assert_eq!(scale_ups, 1);
    let bound = r
        .trace
        .iter()
        .filter(|t| matches!(t.event, TraceEvent::Bound { .. }))
        .count();
    assert_eq!(bound, 12 + 6, "every pod bound once");
}

/// The autoscaler's template node carries the daemon pod: one 1-CPU node runs the
/// 300m agent and one 400m web pod; the three other web pods are pending. A template
/// node takes the agent and one web pod (700m, another 400m does not fit), so a single
/// scale-up asks for three nodes; were the agent left out, two pods per node would
/// seem to fit, two nodes would be asked for and a second scale-up would follow.
#[test]
fn a_scale_up_counts_the_daemon_pods_of_its_template_node() {
    let s = load(
        r#"
duration: 30m
cluster:
  nodePools:
    - name: pool
      count: 1
      allocatable: {cpu: "1", memory: 4Gi}
      autoscaling: {min: 1, max: 6, provisioningDelay: 60s}
workloads:
  - daemonSet: agent
    priority: 1000
    requests: {cpu: 300m, memory: 64Mi}
  - deployment: web
    replicas: 4
    requests: {cpu: 400m, memory: 64Mi}
"#,
    );
    let r = play(&s, sim(&s, "kube-default"));
    let scale_ups: Vec<u64> = r
        .trace
        .iter()
        .filter(|t| t.event.columns().0 == "scale-up")
        .map(|t| t.time.as_micros() / 1_000_000)
        .collect();
    assert_eq!(scale_ups.len(), 1, "{scale_ups:?}");
    let agents: Vec<String> = binds(&r, "agent").into_iter().map(|b| b.2).collect();
    assert_eq!(agents, ["pool-0", "pool-1", "pool-2", "pool-3"]);
    let mut web: Vec<String> = binds(&r, "web").into_iter().map(|b| b.2).collect();
    web.sort();
    assert_eq!(web, ["pool-0", "pool-1", "pool-2", "pool-3"]);
}

#[test]
fn a_daemon_set_entry_refuses_replicas_and_endless_churn_with_located_errors() {
    let registry = Registry::builtin();
    let check = |text: &str| {
        parse_scenario(text, "ds.yaml", &|spec, profiles| {
            registry.check(spec, profiles)
        })
        .unwrap_err()
    };
    let e = check("workloads:\n  - daemonSet: agent\n    replicas: 2\n");
    assert_eq!((e.line, e.column), (Some(3), Some(15)), "{e}");
    assert_eq!(e.field.as_deref(), Some("workloads[0].replicas"));
    assert!(
        e.message.contains(
            "`replicas` applies to deployment or statefulSet workloads only, not to a daemonSet"
        ),
        "{e}"
    );
    // `restartPolicy` makes a sidecar of an init container only.
    let e = check(
        "workloads:\n  - daemonSet: agent\n    containers: [{name: a, restartPolicy: Always}]\n",
    );
    assert_eq!(
        e.field.as_deref(),
        Some("workloads[0].containers[0].restartPolicy"),
        "{e}"
    );
    assert_eq!((e.line, e.column), (Some(3), Some(43)), "{e}");
    assert!(
        e.message.contains("may not be set for non-init containers"),
        "{e}"
    );
    let e = check("workloads:\n  - daemonSet: agent\n    duration: 1m\n");
    assert_eq!(e.field.as_deref(), Some("workloads[0].duration"), "{e}");
    assert!(
        e.message
            .contains("a daemonSet replaces each pod that finishes"),
        "{e}"
    );
}

/// A drain (`kubectl drain --ignore-daemonsets`) evicts the Deployment's pod from the
/// cordoned node and leaves the daemon pod, which tolerates the cordon, where it is.
#[test]
fn a_drain_leaves_daemon_pods_in_place() {
    let s = load(
        r#"
duration: 10m
cluster:
  nodes:
    - {name: n-0, allocatable: {cpu: "4", memory: 8Gi}}
    - {name: n-1, allocatable: {cpu: "4", memory: 8Gi}}
workloads:
  - daemonSet: agent
    requests: {cpu: 100m, memory: 64Mi}
  - deployment: web
    replicas: 1
    requests: {cpu: "3", memory: 64Mi}
    nodeSelector: {kubernetes.io/hostname: n-0}
failures:
  events:
    - {drain: n-0, at: 60s}
"#,
    );
    let r = play(&s, sim(&s, "kube-default"));
    let evicted: Vec<String> = r
        .trace
        .iter()
        .filter(|t| t.event.columns().0 == "evicted")
        .map(|t| t.pod.clone())
        .collect();
    assert_eq!(evicted, ["web-0"]);
    assert_eq!(
        binds(&r, "agent"),
        [
            (0, "agent-0".to_owned(), "n-0".to_owned()),
            (0, "agent-1".to_owned(), "n-1".to_owned()),
        ]
    );
}
