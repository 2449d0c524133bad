//! DefaultPreemption end to end: a high-priority pod evicts lower-priority pods through
//! the simulator, the ReplicaSet replaces them, and `preemptionPolicy: Never` waits.

use schedulers::Registry;
use sim::{RunResult, Simulation, TraceEvent, parse_scenario};

/// One 4-CPU node full of priority-0 Deployment pods; a 3-CPU pod of priority 1000
/// arrives at 10 s with the given preemption policy.
fn run(policy: &str) -> RunResult {
    let yaml = format!(
        r#"
name: preempt
duration: 1m
startLatency: 0s
cluster:
  nodes: [{{name: only, allocatable: {{cpu: "4", memory: 8Gi}}}}]
workloads:
  - deployment: low
    replicas: 2
    requests: {{cpu: "2", memory: 1Gi}}
  - pod: critical
    at: 10s
    priority: 1000
    preemptionPolicy: {policy}
    requests: {{cpu: "3", memory: 1Gi}}
"#
    );
    let registry = Registry::builtin();
    let scenario = parse_scenario(&yaml, "preempt.yaml", &|n| registry.contains(n)).expect("valid");
    let mut sim = Simulation::new(&scenario, registry.create("kube-default").unwrap(), 1);
    sim.enable_trace();
    sim.run()
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
    assert_eq!(r.summary.preemptions, 2);
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
    assert_eq!(r.summary.pods_pending_at_end, 2);
    assert_eq!(r.summary.pods_running_at_end, 1);
}

#[test]
fn never_policy_waits_instead() {
    let r = run("Never");
    assert_eq!(r.summary.preemptions, 0);
    assert_eq!(r.summary.pods_pending_at_end, 1);
    assert!(
        events_of(&r, "critical")
            .iter()
            .all(|(_, e)| !matches!(e, TraceEvent::Bound { .. }))
    );
}
