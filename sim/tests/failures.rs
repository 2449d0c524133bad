//! `failures:`: node crashes and the taint eviction that follows, tolerations, drains
//! within PodDisruptionBudgets, spot reclaims, zone outages and random failures, at exact
//! times worked by hand, and under every built-in scheduler with the cluster's invariants
//! checked after every event.

use std::sync::{Arc, Mutex};

use schedulers::{PodPhase, Registry, TaintEffect};
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
    parse_scenario(text, "failures.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"))
}

fn sim<'a>(s: &'a Scenario, scheduler: &str, seed: u64) -> Simulation<'a> {
    let mut sim = Simulation::new(s, Registry::builtin().create(scheduler).unwrap(), seed);
    sim.enable_trace();
    sim
}

/// (seconds, name, event, detail) of every trace record, for comparison with a hand-worked list.
fn trace(r: &RunResult) -> Vec<(u64, String, &'static str, String)> {
    r.trace
        .iter()
        .map(|t| {
            let (e, d) = t.event.columns();
            (
                t.time.as_micros() / 1_000_000,
                t.pod.clone(),
                e,
                d.to_owned(),
            )
        })
        .collect()
}

fn rec(t: u64, name: &str, e: &'static str, d: &str) -> (u64, String, &'static str, String) {
    (t, name.to_owned(), e, d.to_owned())
}

fn count(r: &RunResult, c: &sim::Column) -> u64 {
    match r.summary.get(c) {
        Some(Value::Count(n)) => *n,
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

const TWO_NODES: &str = "
cluster:
  nodes:
  - {name: a, allocatable: {cpu: '4', memory: 8Gi}}
  - {name: b, allocatable: {cpu: '4', memory: 8Gi}}
";

/// Worked by hand (first-fit, start latency 1 s): web-0 is bound to `a` at 0 s and
/// starts at 1 s. `a` crashes at 100 s; with a 40 s grace period the node lifecycle
/// controller marks it NotReady and taints it unreachable at 140 s; web-0 has admission's
/// default toleration (300 s), so the taint eviction controller evicts it at 440 s. Its
/// Deployment creates web-1 at once, the scheduler binds it to `b` in the same instant,
/// and it starts at 441 s: the failure recovers in 341 s.
#[test]
fn crash_evicts_after_grace_period_and_default_toleration() {
    let s = load(&format!(
        "duration: 1000s\n{TWO_NODES}workloads:\n- {{deployment: web, replicas: 1, requests: {{cpu: '1', memory: 1Gi}}}}\nfailures:\n  nodeMonitorGracePeriod: 40s\n  events:\n  - {{nodeCrash: a, at: 100s}}\n"
    ));
    let mut run = sim(&s, "first-fit", 1);
    let a = run.cluster().node_id("a").unwrap();
    run.step_until(SimTime::from_secs(139));
    assert!(
        run.cluster().node(a).ready,
        "still Ready within the grace period"
    );
    run.step_until(SimTime::from_secs(140));
    let node = run.cluster().node(a);
    assert!(!node.ready, "NotReady at 140 s");
    assert!(
        node.spec.taints.iter().any(
            |t| t.key == "node.kubernetes.io/unreachable" && t.effect == TaintEffect::NoExecute
        )
    );
    run.step_until(SimTime::from_secs(439));
    // Still bound to the crashed node, and Running as far as the API knows.
    let (_, web0) = run.cluster().pods().next().unwrap();
    assert_eq!((web0.node, web0.phase), (Some(a), PodPhase::Running));
    while run.step() {}
    let r = run.finish();
    assert_eq!(
        trace(&r),
        vec![
            rec(0, "web-0", "created", ""),
            rec(0, "web-0", "bound", "a"),
            rec(1, "web-0", "started", ""),
            rec(100, "a", "node-failed", "crash"),
            rec(440, "web-0", "evicted", "taint"),
            rec(440, "web-1", "created", ""),
            rec(440, "web-1", "bound", "b"),
            rec(441, "web-1", "started", ""),
        ]
    );
    assert_eq!(count(&r, &columns::EVICTIONS_TAINT), 1);
    assert_eq!(count(&r, &columns::NODE_FAILURES), 1);
    assert_eq!(count(&r, &columns::PODS_LOST), 0);
    // Down from 100 s to the end of the run at 1000 s.
    assert_eq!(time(&r, &columns::NODE_DOWN), Some(SimTime::from_secs(900)));
    assert_eq!(
        time(&r, &columns::RECOVERY_MEAN),
        Some(SimTime::from_secs(341))
    );
    assert_eq!(
        time(&r, &columns::RECOVERY_MAX),
        Some(SimTime::from_secs(341))
    );
}

/// The default grace period is upstream's 50 s (v1.32 and later): NotReady at 150 s,
/// evicted at 450 s.
#[test]
fn default_grace_period_is_50s() {
    let s = load(&format!(
        "duration: 1000s\n{TWO_NODES}workloads:\n- {{deployment: web, replicas: 1, requests: {{cpu: '1', memory: 1Gi}}}}\nfailures:\n  events:\n  - {{nodeCrash: a, at: 100s}}\n"
    ));
    let r = sim(&s, "first-fit", 1).run();
    let t = trace(&r);
    assert!(t.contains(&rec(450, "web-0", "evicted", "taint")), "{t:?}");
    assert!(t.contains(&rec(450, "web-1", "bound", "b")), "{t:?}");
}

/// tolerationSeconds variants on one crashed node (grace 40 s, so tainted at 140 s), the
/// node back at 700 s:
/// - `dflt` (admission's 300 s): evicted at 440 s;
/// - `short` (unreachable tolerated 30 s): evicted at 170 s;
/// - `zero` (0 s): evicted at 140 s, as soon as the taint appears;
/// - `forever` (no tolerationSeconds): never evicted; still on `a`;
/// - `long` (1000 s, deadline 1140 s): the node recovers first, the taint goes, the timer
///   is cancelled and its firing at 1140 s is ignored: still on `a` at the end;
/// - `other` (tolerates only `not-ready`): admission adds the unreachable default, 300 s.
#[test]
fn toleration_seconds_variants() {
    let tol = |secs: &str| {
        format!(
            "[{{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute{secs}}}]"
        )
    };
    let dep = |name: &str, tolerations: &str| {
        format!(
            "- {{deployment: {name}, replicas: 1, requests: {{cpu: 100m, memory: 100Mi}}, nodeSelector: {{kubernetes.io/hostname: a}}, tolerations: {tolerations}}}\n"
        )
    };
    let s = load(&format!(
        "duration: 1500s\n{TWO_NODES}workloads:\n{}{}{}{}{}{}failures:\n  nodeMonitorGracePeriod: 40s\n  events:\n  - {{nodeCrash: a, at: 100s, recoverAfter: 600s}}\n",
        dep("dflt", "[]"),
        dep("short", &tol(", tolerationSeconds: 30")),
        dep("zero", &tol(", tolerationSeconds: 0")),
        dep("forever", &tol("")),
        dep("long", &tol(", tolerationSeconds: 1000")),
        dep(
            "other",
            "[{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}]"
        ),
    ));
    let mut run = sim(&s, "first-fit", 1);
    while run.step() {}
    let a = run.cluster().node_id("a").unwrap();
    for name in ["forever", "long"] {
        let (_, p) = run
            .cluster()
            .pods()
            .find(|(_, p)| p.template.name == name)
            .unwrap();
        assert_eq!(
            (p.node, p.phase, p.ordinal),
            (Some(a), PodPhase::Running, 0),
            "{name}"
        );
    }
    assert!(run.cluster().node(a).ready);
    assert!(
        run.cluster().node(a).spec.taints.is_empty(),
        "the taint is gone"
    );
    let r = run.finish();
    let evicted: Vec<(u64, String)> = trace(&r)
        .into_iter()
        .filter(|(_, _, e, d)| *e == "evicted" && d == "taint")
        .map(|(t, p, _, _)| (t, p))
        .collect();
    assert_eq!(
        evicted,
        vec![
            (140, "zero-0".to_owned()),
            (170, "short-0".to_owned()),
            (440, "dflt-0".to_owned()),
            (440, "other-0".to_owned()),
        ]
    );
    let t = trace(&r);
    assert!(t.contains(&rec(700, "a", "node-recovered", "")), "{t:?}");
    // The replacements of the evicted pods select `a` and wait for it: bound at 700 s.
    assert!(t.contains(&rec(700, "dflt-1", "bound", "a")), "{t:?}");
    assert_eq!(count(&r, &columns::EVICTIONS_TAINT), 4);
    assert_eq!(time(&r, &columns::NODE_DOWN), Some(SimTime::from_secs(600)));
    // Every replacement started at 701 s: 601 s after the crash.
    assert_eq!(
        time(&r, &columns::RECOVERY_MAX),
        Some(SimTime::from_secs(601))
    );
}

/// Counts, at every fact from the drain on, the pods of `web` that are available (bound
/// or running, not terminating); records the smallest count.
struct Availability {
    from: SimTime,
    min: Arc<Mutex<Option<usize>>>,
}

impl Observer for Availability {
    fn observe(&mut self, _fact: &Fact, view: &View<'_>) {
        if view.now < self.from {
            return;
        }
        let up = view
            .cluster
            .pods()
            .filter(|(_, p)| {
                p.template.name == "web"
                    && matches!(p.phase, PodPhase::Bound | PodPhase::Running)
                    && !p.terminating
            })
            .count();
        let mut min = self.min.lock().unwrap();
        *min = Some(min.map_or(up, |m| m.min(up)));
    }
}

/// A drain of `a`, which holds all four `web` pods, under a budget of maxUnavailable 1:
/// each eviction leaves a replacement pending, so the budget allows nothing more until
/// the replacement is bound; the drain retries every 5 s. Evictions at 100, 105, 110 and
/// 115 s, and never fewer than 3 of 4 pods available.
#[test]
fn drain_respects_max_unavailable_one() {
    let text = format!(
        "duration: 300s\n{TWO_NODES}workloads:\n- {{deployment: web, replicas: 4, labels: {{app: web}}, requests: {{cpu: 500m, memory: 1Gi}}}}\npodDisruptionBudgets:\n- {{name: web, selector: {{matchLabels: {{app: web}}}}, maxUnavailable: BUDGET}}\nfailures:\n  events:\n  - {{drain: a, at: 100s}}\n"
    );
    for scheduler in ["first-fit", "kube-default"] {
        let s = load(&text.replace("BUDGET", "1"));
        let mut run = sim(&s, scheduler, 1);
        let min = Arc::new(Mutex::new(None));
        run.add_observer(Box::new(Availability {
            from: SimTime::from_secs(100),
            min: Arc::clone(&min),
        }));
        while run.step() {
            run.cluster().check_invariants().unwrap();
        }
        let a = run.cluster().node_id("a").unwrap();
        assert!(run.cluster().node(a).spec.unschedulable, "cordoned");
        assert!(run.cluster().node(a).pods.is_empty(), "drained");
        let r = run.finish();
        let t = trace(&r);
        let drained: Vec<u64> = t
            .iter()
            .filter(|(_, _, e, d)| *e == "evicted" && d == "drain")
            .map(|(t, ..)| *t)
            .collect();
        if scheduler == "first-fit" {
            assert_eq!(drained, vec![100, 105, 110, 115], "{t:?}");
        } else {
            // Whatever it had placed on `a`.
            let on_a = t
                .iter()
                .filter(|x| x.0 == 0 && x.2 == "bound" && x.3 == "a")
                .count();
            assert_eq!(drained.len(), on_a, "{t:?}");
        }
        assert_eq!(
            *min.lock().unwrap(),
            Some(3),
            "{scheduler}: the budget was broken"
        );
        assert_eq!(count(&r, &columns::EVICTIONS_DRAIN), drained.len() as u64);
    }
    // maxUnavailable 0: nothing may go; the node stays cordoned with its pods.
    let s = load(&text.replace("BUDGET", "0"));
    let r = sim(&s, "first-fit", 1).run();
    assert_eq!(count(&r, &columns::EVICTIONS_DRAIN), 0);
    assert_eq!(count(&r, &columns::PODS_RUNNING_AT_END), 4);
}

/// A spot reclaim of half of a four-node pool with a 2-minute notice: two nodes drained at
/// 60 s and gone at 180 s; which two is the seed's choice, the same for the same seed.
#[test]
fn spot_reclaim_takes_half_the_pool() {
    let s = load(
        "duration: 600s\ncluster:\n  nodePools:\n  - {name: spot, count: 4, allocatable: {cpu: '4', memory: 8Gi}}\n  - {name: base, count: 1, allocatable: {cpu: '8', memory: 16Gi}}\nworkloads:\n- {deployment: web, replicas: 8, requests: {cpu: '1', memory: 1Gi}}\nfailures:\n  events:\n  - {spotReclaim: {pool: spot}, fraction: 0.5, at: 60s, notice: 2m}\n",
    );
    let names = |seed| {
        let r = sim(&s, "least-allocated", seed).run();
        let gone: Vec<String> = trace(&r)
            .into_iter()
            .filter(|(t, _, e, d)| *t == 60 && *e == "node-failed" && d == "spot-reclaim")
            .map(|(_, n, _, _)| n)
            .collect();
        assert_eq!(gone.len(), 2);
        assert_eq!(count(&r, &columns::PODS_RUNNING_AT_END), 8);
        assert_eq!(count(&r, &columns::PODS_LOST), 0);
        assert_eq!(count(&r, &columns::NODES_MAX), 5);
        gone
    };
    assert_eq!(names(1), names(1));
    let picks: std::collections::BTreeSet<Vec<String>> = (1..8).map(names).collect();
    assert!(picks.len() > 1, "the seed chooses the nodes: {picks:?}");
}

/// A random scenario with random failures (exponential MTBF, Weibull MTTR), a zone
/// outage, a drain and a spot reclaim, Deployments with and without budgets, and batch
/// pods: played by every built-in scheduler with the invariants checked after every event.
fn random_failures(seed: u64) -> Scenario {
    load(&format!(
        "seed: {seed}
duration: 3h
cluster:
  nodePools:
  - {{name: za, count: 3, allocatable: {{cpu: '4', memory: 8Gi}}, labels: {{topology.kubernetes.io/zone: a}}}}
  - {{name: zb, count: 3, allocatable: {{cpu: '4', memory: 8Gi}}, labels: {{topology.kubernetes.io/zone: b}}}}
  - {{name: spot, count: 2, allocatable: {{cpu: '8', memory: 16Gi}}, labels: {{topology.kubernetes.io/zone: c}}}}
workloads:
- {{deployment: web, replicas: 6, labels: {{app: web}}, requests: {{cpu: 500m, memory: 512Mi}}}}
- {{deployment: api, replicas: 4, labels: {{app: api}}, requests: {{cpu: '1', memory: 1Gi}},
   tolerations: [{{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 60}}]}}
- batch: jobs
  arrivals: {{process: poisson, ratePerMinute: 2, stop: 2h}}
  requests: {{cpu: 250m, memory: 256Mi}}
  duration: {{dist: exponential, mean: 10m}}
podDisruptionBudgets:
- {{name: web, selector: {{matchLabels: {{app: web}}}}, maxUnavailable: 1}}
failures:
  events:
  - {{zoneOutage: a, at: 30m, duration: 20m}}
  - {{drain: zb-0, at: 1h}}
  - {{spotReclaim: {{pool: spot}}, fraction: 0.5, at: 90m, notice: 2m}}
  random:
  - nodes: {{nodeSelector: {{matchLabels: {{topology.kubernetes.io/zone: b}}}}}}
    timeToFailure: {{dist: exponential, mean: 40m}}
    timeToRepair: {{dist: weibull, shape: 1.5, scale: 10m}}
"
    ))
}

#[test]
fn random_failures_keep_the_invariants_under_every_scheduler() {
    let registry = Registry::builtin();
    for seed in 1..=3 {
        let s = random_failures(seed);
        for (name, _) in registry.iter() {
            let mut run = Simulation::new(&s, registry.create(name).unwrap(), seed);
            while run.step() {
                let c = run.cluster();
                if let Err(e) = c.check_invariants() {
                    panic!("{name} seed {seed} at {}: {e}", run.now());
                }
                let (completed, failed) = run.finished_pods();
                assert_eq!(
                    run.submitted_pods(),
                    run.pending_pods() + run.running_pods() + completed + failed,
                    "{name} seed {seed} at {}: pods not accounted for",
                    run.now()
                );
                // No pod is bound to a node that left.
                for (_, p) in c.pods() {
                    if let Some(n) = p.node {
                        assert!(
                            !c.node(n).removed,
                            "{name} seed {seed}: pod on a removed node"
                        );
                    }
                }
            }
            let r = run.finish();
            assert!(
                count(&r, &columns::NODE_FAILURES) >= 4,
                "{name} seed {seed}"
            );
            // Deployment pods are replaced, never lost; only batch pods may be.
            assert!(
                count(&r, &columns::EVICTIONS_TAINT) > 0,
                "{name} seed {seed}"
            );
        }
    }
}

#[test]
fn random_failures_are_deterministic() {
    let s = random_failures(7);
    let a = sim(&s, "kube-default", 7).run();
    let b = sim(&s, "kube-default", 7).run();
    assert_eq!(a.summary, b.summary);
    assert_eq!(a.trace, b.trace);
    let c = sim(&s, "kube-default", 8).run();
    assert_ne!(
        time(&a, &columns::NODE_DOWN),
        time(&c, &columns::NODE_DOWN),
        "another seed draws other failures"
    );
}

#[test]
fn node_events_are_in_the_trace() {
    let s = load(&format!(
        "duration: 10m\n{TWO_NODES}failures:\n  events:\n  - {{nodeCrash: b, at: 1m, recoverAfter: 2m}}\n"
    ));
    let r = sim(&s, "first-fit", 1).run();
    let nodes: Vec<_> = r
        .trace
        .iter()
        .filter(|t| {
            matches!(
                t.event,
                TraceEvent::NodeFailed { .. } | TraceEvent::NodeRecovered
            )
        })
        .map(|t| (t.time, t.pod.as_str(), t.event.columns().0))
        .collect();
    assert_eq!(
        nodes,
        vec![
            (SimTime::from_secs(60), "b", "node-failed"),
            (SimTime::from_secs(180), "b", "node-recovered"),
        ]
    );
    // Recovered before its grace period ran out: never NotReady, nothing evicted.
    assert_eq!(count(&r, &columns::EVICTIONS_TAINT), 0);
    assert_eq!(time(&r, &columns::NODE_DOWN), Some(SimTime::from_secs(120)));
    assert_eq!(time(&r, &columns::RECOVERY_MEAN), None);
}
