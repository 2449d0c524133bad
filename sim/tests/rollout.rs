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
  - {at: 50s, image: web:v2, strategy: {type: Recreate}}
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

/// A random scenario: a fixed pool and an autoscaled one, a `web` Deployment with a
/// readiness delay and one or two rolling updates with maxUnavailable 1, batch pods that
/// come and go (so autoscaled nodes empty out and are scaled down), drains of random
/// nodes, and a PDB with maxUnavailable 1 over `web`. Returns the scenario and `web`'s
/// replicas.
fn random_disruptions(seed: u64) -> (Scenario, u32) {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let replicas = 3 + next(4) as u32;
    let mut rollouts = String::new();
    let mut at = 120 + next(300);
    for _ in 0..1 + next(2) {
        rollouts.push_str(&format!(
            "    - {{at: {at}s, requests: {{cpu: {}m, memory: 256Mi}}, readinessDelay: {}s, minReadySeconds: {}, strategy: {{rollingUpdate: {{maxSurge: {}, maxUnavailable: 1}}}}}}\n",
            200 + 100 * next(4),
            5 + next(30),
            next(2) * 5,
            next(2),
        ));
        at += 200 + next(600);
    }
    let mut drains = String::new();
    for _ in 0..2 + next(3) {
        let node = if next(2) == 0 {
            format!("fixed-{}", next(3))
        } else {
            format!("auto-{}", next(2))
        };
        drains.push_str(&format!(
            "    - {{drain: {node}, at: {}s}}\n",
            60 + next(1500)
        ));
    }
    let text = format!(
        "duration: 40m
clusterAutoscaler: {{scaleDownUnneededTime: 1m, scaleDownDelayAfterAdd: 0s}}
cluster:
  nodePools:
    - name: fixed
      count: 4
      allocatable: {{cpu: '2', memory: 8Gi}}
    - name: auto
      count: 2
      allocatable: {{cpu: '2', memory: 8Gi}}
      autoscaling: {{min: 0, max: 6, provisioningDelay: 30s}}
workloads:
  - deployment: web
    replicas: {replicas}
    labels: {{app: web}}
    requests: {{cpu: 300m, memory: 256Mi}}
    readinessDelay: {}s
    rollouts:
{rollouts}  - batch: jobs
    arrivals: {{process: poisson, ratePerMinute: {}, stop: 20m}}
    requests: {{cpu: 700m, memory: 512Mi}}
    duration: {{dist: exponential, mean: 3m}}
failures:
  events:
{drains}podDisruptionBudgets:
  - {{name: web, selector: {{matchLabels: {{app: web}}}}, maxUnavailable: 1}}
",
        5 + next(20),
        1 + next(4),
    );
    (load(&text), replicas)
}

/// What the budget observer saw, shared with the test.
#[derive(Debug, Default)]
struct BudgetBooks {
    /// `web`'s Ready pods, not being deleted.
    ready: std::collections::BTreeSet<schedulers::PodId>,
    /// True once every replica has been Ready: from then on only voluntary disruptions
    /// (no node fails here) can make pods unready.
    settled: bool,
    /// The fewest Ready pods seen once settled.
    least: Option<usize>,
    /// Evictions by reason.
    drains: u64,
    scale_downs: u64,
    replaced: u64,
}

/// Checks, after every fact, that `web` never has more than one pod short of Ready
/// (the PDB's maxUnavailable, and the rollouts' too) once it has settled.
struct BudgetCheck {
    books: Arc<Mutex<BudgetBooks>>,
    replicas: usize,
    label: String,
}

impl Observer for BudgetCheck {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        let mut b = self.books.lock().unwrap();
        let web = view.pod.is_some_and(|p| p.template.name == "web");
        match fact {
            Fact::PodReady { pod } if web => {
                b.ready.insert(*pod);
            }
            Fact::PodEvicted { pod, reason, .. } if web => {
                b.ready.remove(pod);
                match reason {
                    sim::observe::EvictionReason::Drain => b.drains += 1,
                    sim::observe::EvictionReason::ScaleDown => b.scale_downs += 1,
                    sim::observe::EvictionReason::RolloutReplaced => b.replaced += 1,
                    other => panic!(
                        "{}: unexpected eviction of a web pod: {other:?}",
                        self.label
                    ),
                }
            }
            Fact::PodDeleted { pod, .. } => {
                b.ready.remove(pod);
            }
            _ => {}
        }
        if b.ready.len() >= self.replicas {
            b.settled = true;
        }
        if b.settled {
            let n = b.ready.len();
            assert!(
                n + 1 >= self.replicas,
                "{} at {}: {n} of {} web pods Ready after {fact:?}",
                self.label,
                view.now,
                self.replicas
            );
            b.least = Some(b.least.map_or(n, |l| l.min(n)));
        }
    }
}

/// "A PDB with maxUnavailable 1 is never violated by a drain, a scale-down or a rolling
/// update": with all three at random times, `web` is never two pods short of Ready once
/// it has settled, under three schedulers; and the scenarios do disrupt (every kind of
/// eviction happens, and `web` is one short at some point).
#[test]
fn a_budget_of_one_holds_through_drains_scale_downs_and_rollouts() {
    let registry = Registry::builtin();
    let mut totals = (0, 0, 0, 0);
    let mut one_short = false;
    for seed in 0..8 {
        let (s, replicas) = random_disruptions(seed);
        for name in ["first-fit", "least-allocated", "kube-default"] {
            let books: Arc<Mutex<BudgetBooks>> = Arc::default();
            let mut sim = Simulation::new(&s, registry.create(name).unwrap(), seed);
            sim.add_observer(Box::new(BudgetCheck {
                books: Arc::clone(&books),
                replicas: replicas as usize,
                label: format!("seed {seed} {name}"),
            }));
            while sim.step() {
                if let Err(e) = sim.cluster().check_invariants() {
                    panic!("seed {seed} {name} at {}: {e}", sim.now());
                }
            }
            let r = sim.finish();
            totals.3 += count(&r, &columns::ROLLOUTS_COMPLETED).unwrap_or(0);
            let b = books.lock().unwrap();
            assert!(b.settled, "seed {seed} {name}: web never settled");
            one_short |= b.least.is_some_and(|l| l + 1 == replicas as usize);
            totals.0 += b.drains;
            totals.1 += b.scale_downs;
            totals.2 += b.replaced;
        }
    }
    assert!(
        totals.0 > 0 && totals.1 > 0 && totals.2 > 0 && totals.3 > 0,
        "drains, scale-downs, rollout replacements, rollouts completed: {totals:?}"
    );
    assert!(one_short, "no scenario ever disrupted web");
}

/// An HPA that doubles the Deployment in the middle of a rolling update does not break
/// it: the rollout still finishes, and at the end every pod is of the new template and
/// there are as many as the HPA last asked for.
#[test]
fn an_hpa_scale_up_during_a_rollout() {
    let s = load(
        "
duration: 20m
cluster:
  nodes:
  - {name: a, allocatable: {cpu: '32', memory: 64Gi}}
workloads:
- deployment: web
  replicas: 4
  requests: {cpu: 500m, memory: 128Mi}
  readinessDelay: 20s
  usage: {cpu: [{at: 0s, value: 200m}, {at: 100s, value: 450m}]}
  horizontalPodAutoscaler:
    minReplicas: 2
    maxReplicas: 10
    metrics:
    - resource: {name: cpu, target: {averageUtilization: 50}}
  rollout:
    at: 90s
    requests: {cpu: 600m, memory: 128Mi}
    strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
",
    );
    let steps: Steps = Arc::default();
    let mut sim = Simulation::new(&s, Registry::builtin().create("first-fit").unwrap(), 1);
    sim.enable_trace();
    sim.add_observer(Box::new(Steplog(Arc::clone(&steps))));
    let mut scaled = Vec::new();
    while sim.step() {}
    let live: Vec<i64> = sim
        .cluster()
        .pods()
        .filter(|(_, p)| !p.terminating)
        .map(|(_, p)| p.requests.cpu())
        .collect();
    let r = sim.finish();
    for t in &r.trace {
        if let TraceEvent::HpaScaled { .. } = &t.event {
            scaled.push(t.time.as_micros() / 1_000_000);
        }
    }
    let steps = steps.lock().unwrap().clone();
    let at = |what: &str| steps.iter().find(|s| s.2 == what).map(|s| s.0);
    let (started, finished) = (at("rollout-started"), at("rollout-finished"));
    assert_eq!(started, Some(90));
    let finished = finished.expect("the rollout finished");
    // The HPA scaled up while the rollout was under way.
    assert!(
        scaled.iter().any(|&t| t > 90 && t < finished),
        "HPA scalings {scaled:?}, rollout 90 s to {finished} s"
    );
    assert_eq!(count(&r, &columns::ROLLOUTS_COMPLETED), Some(1));
    // Every pod left is a new one, and there are more than the 4 the rollout began with.
    assert!(live.iter().all(|&c| c == 600), "{live:?}");
    assert!(live.len() > 4, "{live:?}");
}
