//! `nodePressure:`: the kubelet's eviction manager ranks and evicts pods under memory
//! pressure as upstream's `rankMemoryPressure` does, and containers above their memory
//! limit are OOM-killed and restarted with CrashLoopBackOff, at exact times worked by
//! hand.

use schedulers::Registry;
use sim::{RunResult, Scenario, Simulation, Value, columns, parse_scenario};

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
    parse_scenario(text, "pressure.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"))
}

fn run(s: &Scenario) -> RunResult {
    let mut sim = Simulation::new(s, Registry::builtin().create("first-fit").unwrap(), 1);
    sim.enable_trace();
    sim.run()
}

/// (microseconds, name, event, detail) of every trace record but creations, binds and
/// unschedulable attempts.
fn trace(r: &RunResult) -> Vec<(u64, String, &'static str, String)> {
    r.trace
        .iter()
        .map(|t| {
            let (e, d) = t.event.columns();
            (t.time.as_micros(), t.pod.clone(), e, d.to_owned())
        })
        .filter(|(_, _, e, _)| !matches!(*e, "created" | "bound" | "unschedulable"))
        .collect()
}

fn count(r: &RunResult, c: &sim::Column) -> u64 {
    match r.summary.get(c) {
        Some(Value::Count(n)) => *n,
        other => panic!("{}: {other:?}", c.name),
    }
}

/// Worked by hand (first-fit, start latency 1 s, one node of 1124 Mi, hard threshold
/// `memory.available<100Mi`, so pressure once the pods use more than 1024 Mi). Every pod
/// starts at 1 s. Usage (request, priority): a 150 Mi (100, 1000), b 120 (100, 0),
/// c 150 (200, 0), d 300 (100, 100), e 100 (200, 100), f 100 (100, 0), g 10 Mi (100,
/// 1000000) until 100 s, then 900 Mi. Until 100 s they use 930 Mi; at the pass of 100 s,
/// 1820 Mi: memory.available = 1124 - 1820 = -696 Mi, the node gets MemoryPressure.
/// rankMemoryPressure: those above their requests first (a +50, b +20, d +200, g +800)
/// by priority (b 0, d 100, a 1000, g 1000000), then the others (f 0 and c -50 at
/// priority 0, e at 100). One eviction per pass: b at 100 s (1700 Mi used), d at 110 s
/// (1400), a at 120 s (1250), g at 130 s (350 Mi: 774 Mi available). g goes before f, c
/// and e though its priority is the highest, because it uses more than it asked for.
/// The last pass under the threshold was 130 s; the condition and its NoSchedule taint go
/// at the first pass 300 s later, 430 s, and the replacements, pending on the taint
/// since they were created, are bound at once and start at 431 s.
#[test]
fn eviction_order_matches_the_kubelets_ranking() {
    let s = load(RANKING);
    let r = run(&s);
    let secs = |t: u64| t * 1_000_000;
    let mut expected: Vec<(u64, String, &'static str, String)> =
        ["g", "a", "d", "e", "b", "c", "f"]
            .iter()
            .map(|w| (secs(1), format!("{w}-0"), "started", String::new()))
            .collect();
    let rec = |t: u64, p: &str, e: &'static str, d: &str| (secs(t), p.to_owned(), e, d.to_owned());
    expected.extend([
        rec(
            100,
            "n",
            "memory-pressure",
            "true; memory.available -729808896 bytes",
        ),
        rec(100, "b-0", "evicted", "node-pressure"),
        rec(110, "d-0", "evicted", "node-pressure"),
        rec(120, "a-0", "evicted", "node-pressure"),
        rec(130, "g-0", "evicted", "node-pressure"),
        rec(
            430,
            "n",
            "memory-pressure",
            "false; memory.available 811597824 bytes",
        ),
        rec(431, "g-1", "started", ""),
        rec(431, "a-1", "started", ""),
        rec(431, "d-1", "started", ""),
        rec(431, "b-1", "started", ""),
    ]);
    assert_eq!(trace(&r), expected);
    assert_eq!(count(&r, &columns::EVICTIONS_NODE_PRESSURE), 4);
    assert_eq!(count(&r, &columns::OOM_KILLS), 0);
    // The replacements could not be bound while the node was tainted.
    let unschedulable = r
        .trace
        .iter()
        .filter(|t| t.event.columns().0 == "unschedulable")
        .map(|t| t.time.as_micros())
        .collect::<Vec<_>>();
    assert!(!unschedulable.is_empty());
    assert!(
        unschedulable
            .iter()
            .all(|&t| (secs(100)..secs(430)).contains(&t))
    );
    let taint = r
        .trace
        .iter()
        .find(|t| t.event.columns().0 == "unschedulable")
        .unwrap();
    assert!(
        taint.event.columns().1.contains("untolerated taint"),
        "{:?}",
        taint.event
    );
}

/// Without `nodePressure:` the same cluster evicts nothing: memory is not enforced.
#[test]
fn without_node_pressure_nothing_is_evicted() {
    let s = load(&RANKING.replace("nodePressure: {}\n", ""));
    assert!(s.node_pressure.is_none());
    let r = run(&s);
    assert_eq!(count(&r, &columns::EVICTIONS_NODE_PRESSURE), 0);
    assert!(trace(&r).iter().all(|(_, _, e, _)| *e == "started"));
}

/// A percentage threshold is a share of the node's allocatable memory: 10% of 1124 Mi is
/// 112.4 Mi, so the 930 Mi the pods use before 100 s (194 Mi available) is fine, and the
/// order and times are those of 100Mi.
#[test]
fn a_percentage_threshold_is_a_share_of_allocatable() {
    let s = load(&RANKING.replace(
        "nodePressure: {}",
        "nodePressure: {evictionHard: {memory.available: 10%}}",
    ));
    let r = run(&s);
    assert_eq!(count(&r, &columns::EVICTIONS_NODE_PRESSURE), 4);
    // With a threshold above 194 Mi the node is under pressure from the first pass.
    let s = load(&RANKING.replace(
        "nodePressure: {}",
        "nodePressure: {evictionHard: {memory.available: 200Mi}, housekeepingInterval: 5s}",
    ));
    let r = run(&s);
    let first = trace(&r)
        .into_iter()
        .find(|(_, _, e, _)| *e == "evicted")
        .unwrap();
    // At 5 s the lowest-priority pod above its request, b, goes first.
    assert_eq!((first.0, first.1.as_str()), (5_000_000, "b-0"));
}

/// Worked by hand: `cache` starts at 1 s with 200 Mi and leaks 3600 Mi an hour (1 Mi a
/// second) towards its 300 Mi limit; it is above the limit once the leak passes 100 Mi
/// by a byte: ceil((100 Mi + 1) x 3600 s / 3600 Mi) = 100.000001 s after each start.
/// CrashLoopBackOff (doBackOff): the first death restarts at once, and each later one
/// waits 10, 20, 40, 80, 160, 300, 300 s. Kills at 101.000001, 201.000002 (+10 s),
/// 311.000003 (+20), 431.000004 (+40), 571.000005 (+80), 751.000006 (+160), 1011.000007
/// (+300), 1411.000008 (+300), 1811.000009 (restart at 2111.000009, after the end).
/// `slow` leaks 360 Mi an hour: killed 1000.00001 s after each start, at 1001.00001 and
/// 2001.00002; it ran more than 10 minutes (twice the maximum delay) before each death,
/// so its backoff resets and it restarts at once both times.
#[test]
fn oom_kills_restart_with_crash_loop_backoff() {
    let s = load(OOM);
    let r = run(&s);
    let t = trace(&r);
    let cache: Vec<(u64, &str, &str)> = t
        .iter()
        .filter(|(_, p, ..)| p == "cache-0")
        .map(|(t, _, e, d)| (*t, *e, d.as_str()))
        .collect();
    assert_eq!(
        cache,
        [
            (1_000_000, "started", ""),
            (101_000_001, "oom-killed", "restart at 1m41.000001s"),
            (101_000_001, "restarted", "restart 1"),
            (201_000_002, "oom-killed", "restart at 3m31.000002s"),
            (211_000_002, "restarted", "restart 2"),
            (311_000_003, "oom-killed", "restart at 5m31.000003s"),
            (331_000_003, "restarted", "restart 3"),
            (431_000_004, "oom-killed", "restart at 7m51.000004s"),
            (471_000_004, "restarted", "restart 4"),
            (571_000_005, "oom-killed", "restart at 10m51.000005s"),
            (651_000_005, "restarted", "restart 5"),
            (751_000_006, "oom-killed", "restart at 15m11.000006s"),
            (911_000_006, "restarted", "restart 6"),
            (1_011_000_007, "oom-killed", "restart at 21m51.000007s"),
            (1_311_000_007, "restarted", "restart 7"),
            (1_411_000_008, "oom-killed", "restart at 28m31.000008s"),
            (1_711_000_008, "restarted", "restart 8"),
            (1_811_000_009, "oom-killed", "restart at 35m11.000009s"),
        ]
    );
    let slow: Vec<(u64, &str)> = t
        .iter()
        .filter(|(_, p, ..)| p == "slow-0")
        .map(|(t, _, e, _)| (*t, *e))
        .collect();
    assert_eq!(
        slow,
        [
            (1_000_000, "started"),
            (1_001_000_010, "oom-killed"),
            (1_001_000_010, "restarted"),
            (2_001_000_020, "oom-killed"),
            (2_001_000_020, "restarted"),
        ]
    );
    assert_eq!(count(&r, &columns::OOM_KILLS), 11);
    assert_eq!(count(&r, &columns::RESTARTS), 10);
    assert_eq!(count(&r, &columns::EVICTIONS_NODE_PRESSURE), 0);
    // Not Ready while down: cache's Service had a ready endpoint from 1 s except during
    // its backoffs (10 + 20 + 40 + 80 + 160 + 300 + 300 s, and the last 288.999991 s),
    // about 900 s of its 2100.
    match r.summary.get(&columns::AVAILABILITY_MIN) {
        Some(Value::Fraction(n, d)) => {
            let x = *n as f64 / *d as f64;
            assert!((x - 900.0 / 2100.0).abs() < 1e-4, "{x}");
        }
        Some(Value::Float(x)) => assert!((x - 900.0 / 2100.0).abs() < 1e-4, "{x}"),
        other => panic!("{other:?}"),
    }
}

/// `oomKill: false` leaves containers above their limits alone.
#[test]
fn oom_kills_can_be_turned_off() {
    let s = load(&OOM.replace("nodePressure: {}", "nodePressure: {oomKill: false}"));
    let r = run(&s);
    assert_eq!(count(&r, &columns::OOM_KILLS), 0);
    assert_eq!(count(&r, &columns::RESTARTS), 0);
}

const OOM: &str = "
duration: 2100s
nodePressure: {}
cluster:
  nodes:
  - {name: n, allocatable: {cpu: '8', memory: 64Gi}}
workloads:
- deployment: cache
  replicas: 1
  requests: {cpu: 100m, memory: 100Mi}
  limits: {memory: 300Mi}
  memoryUsage: {base: 200Mi, leakPerHour: 3600Mi}
  service: {load: {constant: 1}, cpuPerRequest: 1m}
- deployment: slow
  replicas: 1
  requests: {cpu: 100m, memory: 100Mi}
  limits: {memory: 300Mi}
  memoryUsage: {base: 200Mi, leakPerHour: 360Mi}
  service: {load: {constant: 1}, cpuPerRequest: 1m}
";

/// A random cluster under memory pressure: leaking Deployments with and without limits,
/// priorities, batch pods; every scheduler of a few keeps the cluster's invariants after
/// every event, accounts for every pod, and never binds a pod to a node with the
/// memory-pressure taint.
fn random_pressure(seed: u64) -> Scenario {
    load(&format!(
        "seed: {seed}
duration: 2h
priorityClasses:
- {{name: low, value: 0}}
- {{name: high, value: 1000}}
nodePressure: {{evictionHard: {{memory.available: 5%}}, evictionPressureTransitionPeriod: 2m, crashLoopBackOff: {{initial: 5s, max: 1m}}}}
cluster:
  nodePools:
  - {{name: small, count: 3, allocatable: {{cpu: '4', memory: 4Gi}}}}
  - {{name: big, count: 1, allocatable: {{cpu: '8', memory: 8Gi}}}}
workloads:
- deployment: cache
  replicas: 3
  priorityClassName: low
  requests: {{cpu: 250m, memory: 512Mi}}
  memoryUsage: {{base: {{dist: uniform, min: 256Mi, max: 1Gi}}, leakPerHour: 2Gi}}
- deployment: api
  replicas: 4
  priorityClassName: high
  requests: {{cpu: 500m, memory: 512Mi}}
  limits: {{memory: 1Gi}}
  memoryUsage: {{base: {{dist: uniform, min: 256Mi, max: 768Mi}}, leakPerHour: 1Gi}}
  service: {{load: {{constant: 20}}, cpuPerRequest: 10m}}
- deployment: web
  replicas: 4
  requests: {{cpu: 250m, memory: 256Mi}}
  memoryUsage: {{base: {{dist: uniform, min: 128Mi, max: 384Mi}}}}
- batch: jobs
  arrivals: {{process: poisson, ratePerMinute: 1, stop: 90m}}
  requests: {{cpu: 250m, memory: 512Mi}}
  duration: {{dist: exponential, mean: 10m}}
"
    ))
}

/// Records a bind to a node tainted memory-pressure (none should happen).
struct TaintedBinds(std::sync::Arc<std::sync::atomic::AtomicU64>);

impl sim::Observer for TaintedBinds {
    fn observe(&mut self, fact: &sim::Fact, view: &sim::observe::View<'_>) {
        let sim::Fact::PodBound { node, .. } = fact else {
            return;
        };
        let tainted = view
            .cluster
            .node(*node)
            .spec
            .taints
            .iter()
            .any(|t| t.key == "node.kubernetes.io/memory-pressure");
        if tainted {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

#[test]
fn random_pressure_keeps_the_invariants_under_several_schedulers() {
    let registry = Registry::builtin();
    let (mut evictions, mut kills) = (0, 0);
    for seed in 1..=2 {
        let s = random_pressure(seed);
        for name in [
            "first-fit",
            "least-allocated",
            "most-allocated",
            "kube-default",
        ] {
            let tainted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let mut run = Simulation::new(&s, registry.create(name).unwrap(), seed);
            run.add_observer(Box::new(TaintedBinds(std::sync::Arc::clone(&tainted))));
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
            }
            assert_eq!(
                tainted.load(std::sync::atomic::Ordering::Relaxed),
                0,
                "{name} seed {seed}: bound to a node under memory pressure"
            );
            let r = run.finish();
            evictions += count(&r, &columns::EVICTIONS_NODE_PRESSURE);
            kills += count(&r, &columns::OOM_KILLS);
            assert!(
                count(&r, &columns::RESTARTS) <= count(&r, &columns::OOM_KILLS),
                "{name} seed {seed}: every restart follows a kill"
            );
        }
    }
    assert!(evictions > 0, "no node-pressure eviction in any run");
    assert!(kills > 0, "no OOM kill in any run");
}

const RANKING: &str = "
duration: 435s
priorityClasses:
- {name: low, value: 0}
- {name: mid, value: 100}
- {name: high, value: 1000}
- {name: top, value: 1000000}
nodePressure: {}
cluster:
  nodes:
  - {name: n, allocatable: {cpu: '8', memory: 1124Mi}}
workloads:
- {deployment: a, replicas: 1, priorityClassName: high, requests: {cpu: 100m, memory: 100Mi}, memoryUsage: {base: 150Mi}}
- {deployment: b, replicas: 1, priorityClassName: low, requests: {cpu: 100m, memory: 100Mi}, memoryUsage: {base: 120Mi}}
- {deployment: c, replicas: 1, priorityClassName: low, requests: {cpu: 100m, memory: 200Mi}, memoryUsage: {base: 150Mi}}
- {deployment: d, replicas: 1, priorityClassName: mid, requests: {cpu: 100m, memory: 100Mi}, memoryUsage: {base: 300Mi}}
- {deployment: e, replicas: 1, priorityClassName: mid, requests: {cpu: 100m, memory: 200Mi}, memoryUsage: {base: 100Mi}}
- {deployment: f, replicas: 1, priorityClassName: low, requests: {cpu: 100m, memory: 100Mi}, memoryUsage: {base: 100Mi}}
- deployment: g
  replicas: 1
  priorityClassName: top
  requests: {cpu: 100m, memory: 100Mi}
  usage: {memory: [{at: 0s, value: 10Mi}, {at: 100s, value: 900Mi}]}
";

/// `scenarios/noisy-neighbour.yaml` does what its description says.
#[test]
fn noisy_neighbour_scenario_evicts_the_cache() {
    let s = load(include_str!("../../scenarios/noisy-neighbour.yaml"));
    for (name, evictions) in [
        (
            "first-fit",
            vec![(630, "cache-0"), (12880, "cache-1"), (12890, "cache-2")],
        ),
        ("kube-default", vec![(9050, "cache-0")]),
    ] {
        let mut sim = Simulation::new(&s, Registry::builtin().create(name).unwrap(), 1);
        sim.enable_trace();
        let r = sim.run();
        let t = trace(&r);
        let evicted: Vec<(u64, &str)> = t
            .iter()
            .filter(|(_, _, e, _)| *e == "evicted")
            .map(|(t, p, ..)| (t / 1_000_000, p.as_str()))
            .collect();
        assert_eq!(evicted, evictions, "{name}");
        let kills: Vec<(u64, &str)> = t
            .iter()
            .filter(|(_, _, e, _)| *e == "oom-killed")
            .map(|(t, p, ..)| (t / 1_000_000, p.as_str()))
            .collect();
        assert_eq!(
            kills,
            [
                (3601, "sessions-0"),
                (3601, "sessions-1"),
                (7201, "sessions-0"),
                (7201, "sessions-1"),
                (10801, "sessions-0"),
                (10801, "sessions-1"),
            ],
            "{name}"
        );
        assert_eq!(count(&r, &columns::RESTARTS), 6, "{name}");
    }
}
