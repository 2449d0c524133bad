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

#[test]
fn print() {
    let s = load(RANKING);
    let r = run(&s);
    for t in trace(&r) {
        println!("{t:?}");
    }
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
