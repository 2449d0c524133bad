//! DefaultPreemption end to end: a high-priority pod evicts lower-priority pods through
//! the simulator (for resources, and for a lower-priority pod's anti-affinity), the
//! ReplicaSet replaces them, and `preemptionPolicy: Never` waits.

use schedulers::Registry;
use sim::{RunResult, Simulation, TraceEvent, parse_scenario};

/// One 4-CPU node full of priority-0 Deployment pods (with the given termination grace
/// period); a 3-CPU pod of priority 1000 arrives at 10 s with the given preemption policy.
fn run_with(policy: &str, grace_seconds: u32) -> RunResult {
    let yaml = scenario_yaml(policy, grace_seconds);
    let registry = Registry::builtin();
    let scenario = parse_scenario(&yaml, "preempt.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("valid");
    let mut sim = Simulation::new(&scenario, registry.create("kube-default").unwrap(), 1);
    sim.enable_trace();
    sim.run()
}

fn scenario_yaml(policy: &str, grace_seconds: u32) -> String {
    format!(
        r#"
name: preempt
duration: 1m
startLatency: 0s
cluster:
  nodes: [{{name: only, allocatable: {{cpu: "4", memory: 8Gi}}}}]
workloads:
  - deployment: low
    replicas: 2
    terminationGracePeriodSeconds: {grace_seconds}
    requests: {{cpu: "2", memory: 1Gi}}
  - pod: critical
    at: 10s
    priority: 1000
    preemptionPolicy: {policy}
    requests: {{cpu: "3", memory: 1Gi}}
"#
    )
}

fn run(policy: &str) -> RunResult {
    run_with(policy, 0)
}

fn events_of<'a>(r: &'a RunResult, pod: &str) -> Vec<(f64, &'a TraceEvent)> {
    r.trace
        .iter()
        .filter(|t| t.pod == pod)
        .map(|t| (t.time.as_secs_f64(), &t.event))
        .collect()
}

#[test]
fn high_priority_pod_preempts_both_low_pods() {
    let r = run("PreemptLowerPriority");
    // 3 CPUs needed, 2 per victim: evicting one leaves 2 free, so both go.
    assert_eq!(r.summary.count(&sim::columns::PREEMPTIONS), 2);
    let critical = events_of(&r, "critical");
    assert!(critical.contains(&(
        10.0,
        &TraceEvent::Unschedulable {
            reason: "preempting 2 pod(s) on node only".into()
        }
    )));
    assert!(
        critical.contains(&(
            10.0,
            &TraceEvent::Bound {
                node: "only".into()
            }
        )),
        "{critical:?}"
    );
    for victim in ["low-0", "low-1"] {
        assert!(
            events_of(&r, victim).contains(&(10.0, &TraceEvent::Evicted)),
            "{victim}"
        );
    }
    // The ReplicaSet replaces both; one CPU is left, so they wait.
    assert_eq!(r.summary.count(&sim::columns::PODS_PENDING_AT_END), 2);
    assert_eq!(r.summary.count(&sim::columns::PODS_RUNNING_AT_END), 1);
}

#[test]
fn never_policy_waits_instead() {
    let r = run("Never");
    assert_eq!(r.summary.count(&sim::columns::PREEMPTIONS), 0);
    assert_eq!(r.summary.count(&sim::columns::PODS_PENDING_AT_END), 1);
    assert!(
        events_of(&r, "critical")
            .iter()
            .all(|(_, e)| !matches!(e, TraceEvent::Bound { .. }))
    );
}

#[test]
fn victims_keep_their_node_for_their_grace_period() {
    let r = run_with("PreemptLowerPriority", 30);
    assert_eq!(r.summary.count(&sim::columns::PREEMPTIONS), 2);
    for victim in ["low-0", "low-1"] {
        assert!(
            events_of(&r, victim).contains(&(10.0, &TraceEvent::Evicted)),
            "{victim}"
        );
    }
    let critical = events_of(&r, "critical");
    // Nominated at 10 s; the victims shut down for 30 s and hold the node meanwhile; the
    // pod does not preempt again while they terminate, and binds when they are gone.
    let preemptions = critical.iter().filter(|(_, e)| matches!(e, TraceEvent::Unschedulable { reason } if reason.starts_with("preempting"))).count();
    assert_eq!(preemptions, 1, "{critical:?}");
    assert!(
        critical.contains(&(
            40.0,
            &TraceEvent::Bound {
                node: "only".into()
            }
        )),
        "{critical:?}"
    );
    // The replacements were created at eviction, not counted twice, and wait.
    assert_eq!(r.summary.count(&sim::columns::PODS_FAILED), 2);
    assert_eq!(r.summary.count(&sim::columns::PODS_PENDING_AT_END), 2);
    assert_eq!(r.summary.count(&sim::columns::PODS_RUNNING_AT_END), 1);
}

/// Two 4-CPU nodes each running one priority-0 pod; `guarded` started later, so without
/// a budget upstream's last criterion (latest start) evicts it. A budget that must keep
/// one `app: db` pod available makes the other node the one without PDB violations.
fn victim_with_budget(budget: &str) -> Vec<String> {
    let yaml = format!(
        r#"
name: pdb-choice
duration: 1m
startLatency: 0s
cluster:
  nodes:
    - {{name: a, allocatable: {{cpu: "4", memory: 8Gi}}}}
    - {{name: b, allocatable: {{cpu: "4", memory: 8Gi}}}}
{budget}
workloads:
  - pod: plain
    nodeName: b
    terminationGracePeriodSeconds: 0
    requests: {{cpu: "4", memory: 1Gi}}
  - pod: guarded
    at: 1s
    nodeName: a
    labels: {{app: db}}
    terminationGracePeriodSeconds: 0
    requests: {{cpu: "4", memory: 1Gi}}
  - pod: critical
    at: 10s
    priority: 1000
    requests: {{cpu: "3", memory: 1Gi}}
"#
    );
    let registry = Registry::builtin();
    let scenario = parse_scenario(&yaml, "pdb.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("valid");
    let mut sim = Simulation::new(&scenario, registry.create("kube-default").unwrap(), 1);
    sim.enable_trace();
    let r = sim.run();
    r.trace
        .iter()
        .filter(|t| t.event == TraceEvent::Evicted)
        .map(|t| t.pod.clone())
        .collect()
}

#[test]
fn budgets_steer_preemption_to_nodes_without_violations() {
    assert_eq!(victim_with_budget(""), ["guarded"]);
    let budget = "podDisruptionBudgets:\n  - {name: db, selector: {matchLabels: {app: db}}, minAvailable: 1}";
    assert_eq!(victim_with_budget(budget), ["plain"]);
}

/// A preemptor kept off both nodes by lower-priority pods' required anti-affinity evicts
/// one of them (not for resources: each node has room) and binds where it left; the
/// replacement the ReplicaSet creates joins the other guard.
#[test]
fn a_pod_kept_off_by_anti_affinity_preempts_the_pod_in_its_way() {
    let yaml = r#"
name: preempt-anti-affinity
duration: 1m
startLatency: 0s
cluster:
  nodes:
    - {name: a, allocatable: {cpu: "4", memory: 8Gi}, labels: {kubernetes.io/hostname: a}}
    - {name: b, allocatable: {cpu: "4", memory: 8Gi}, labels: {kubernetes.io/hostname: b}}
workloads:
  - deployment: guard
    replicas: 2
    terminationGracePeriodSeconds: 0
    labels: {app: guard}
    requests: {cpu: "1", memory: 1Gi}
    affinity:
      podAntiAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: web}}
            topologyKey: kubernetes.io/hostname
  - pod: web
    at: 10s
    priority: 1000
    labels: {app: web}
    requests: {cpu: "1", memory: 1Gi}
"#;
    let registry = Registry::builtin();
    let scenario = parse_scenario(yaml, "preempt-anti-affinity.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("valid");
    let mut sim = Simulation::new(&scenario, registry.create("kube-default").unwrap(), 1);
    sim.enable_trace();
    let r = sim.run();
    assert_eq!(r.summary.count(&sim::columns::PREEMPTIONS), 1);
    let web = events_of(&r, "web");
    let bound: Vec<&str> = web
        .iter()
        .filter_map(|(_, e)| match e {
            TraceEvent::Bound { node } => Some(node.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(bound.len(), 1, "{web:?}");
    let evicted: Vec<&str> = r
        .trace
        .iter()
        .filter(|t| t.event == TraceEvent::Evicted)
        .map(|t| t.pod.as_str())
        .collect();
    assert_eq!(evicted.len(), 1, "{evicted:?}");
    // The evicted guard was on the node web now holds; its replacement cannot join web.
    let guard_node = r
        .trace
        .iter()
        .filter(|t| t.pod == evicted[0])
        .find_map(|t| match &t.event {
            TraceEvent::Bound { node } => Some(node.as_str()),
            _ => None,
        });
    assert_eq!(guard_node, Some(bound[0]));
    let replacement: Vec<(&str, &str)> = r
        .trace
        .iter()
        .filter(|t| {
            t.pod.starts_with("guard") && t.pod != evicted[0] && t.time.as_secs_f64() >= 10.0
        })
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => Some((t.pod.as_str(), node.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(replacement.len(), 1, "{replacement:?}");
    assert_ne!(replacement[0].1, bound[0]);
    assert!(
        web.contains(&(
            10.0,
            &TraceEvent::Unschedulable {
                reason: format!("preempting 1 pod(s) on node {}", bound[0])
            }
        )),
        "{web:?}"
    );
}
