//! The work estimate against real runs, and `run_bounded`: the same results as `try_run`
//! when no limit is reached, and a stop at the exact limit otherwise.

use schedulers::Registry;
use sim::bounds::{Bound, Exceeded};
use sim::{Limits, RunLimits, RunStop, SimTime, Simulation, estimate, parse_scenario, run_bounded};

fn load(text: &str) -> sim::Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "t.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn simulation(scenario: &sim::Scenario) -> Simulation<'_> {
    let scheduler = Registry::builtin().create("first-fit").unwrap();
    Simulation::new(scenario, scheduler, scenario.seed)
}

const CHURN: &str = "
duration: 2h
sampleInterval: 1m
cluster:
  nodePools: [{name: n, count: 4, allocatable: {cpu: \"8\", memory: 32Gi}}]
workloads:
  - pod: fixed
    count: 10
    requests: {cpu: 100m}
  - deployment: web
    replicas: 3
    duration: 10m
    requests: {cpu: 100m}
  - batch: jobs
    arrivals: {process: poisson, ratePerMinute: 6}
    duration: {dist: exponential, mean: 5m}
    requests: {cpu: 100m}
  - batch: ticks
    arrivals: {process: fixed, interval: 30s, start: 1h}
    requests: {cpu: 10m}
";

#[test]
fn the_estimate_is_near_the_real_run() {
    let s = load(CHURN);
    let e = estimate(&s);
    // 10 + 3 x (1 + 2h / 10m1s) + 6/min x 120 min + (1h / 30s + 1).
    assert_eq!(e.pods, 10 + 3 * 12 + 720 + 121);
    assert_eq!(e.samples, 121);
    assert_eq!(e.end, SimTime::from_secs(7200));
    assert_eq!(e.largest_workload, Some(2));
    let result = simulation(&s).try_run().unwrap();
    let pods = result.summary.count(&sim::columns::PODS_SUBMITTED);
    assert!(
        pods * 10 > e.pods * 8 && pods * 10 < e.pods * 12,
        "estimated {} pods, ran {pods}",
        e.pods
    );
    assert_eq!(result.samples.len() as u64, e.samples);
}

#[test]
fn without_a_horizon_the_end_is_the_last_change() {
    let s = load(
        "cluster:\n  nodePools: [{name: n, count: 1, allocatable: {cpu: \"8\"}}]\nworkloads:\n  - {batch: b, arrivals: {process: fixed, interval: 1m, count: 10}, duration: 5m, requests: {cpu: 1m}}\n",
    );
    let e = estimate(&s);
    assert_eq!(e.pods, 10);
    // The last arrival at 9m, its start 1s later, its end 5m after that.
    assert_eq!(e.end, SimTime::from_secs(9 * 60 + 1 + 300));
}

#[test]
fn limits_name_the_first_bound_exceeded() {
    let s = load("duration: 1h\nsampleInterval: 1us\nworkloads: [{pod: p, count: 100000000}]\n");
    let e = estimate(&s);
    assert_eq!(e.samples, 3_600_000_001);
    let refused = Limits::with_memory(u64::MAX).check(&e).unwrap_err();
    assert_eq!(
        refused,
        Exceeded {
            bound: Bound::Pods,
            value: 100_000_000,
            limit: Limits::DEFAULT_MAX_PODS
        }
    );
}

#[test]
fn a_bounded_run_that_reaches_no_limit_is_the_plain_run() {
    let s = load(CHURN);
    let plain = simulation(&s).try_run().unwrap();
    let mut checks = 0;
    let bounded = run_bounded(
        simulation(&s),
        &RunLimits {
            max_sim_time: Some(SimTime::from_secs(7200)),
            max_events: Some(1_000_000),
            max_pods: Some(1_000_000),
        },
        || {
            checks += 1;
            false
        },
    )
    .unwrap();
    assert_eq!(
        format!("{:?}", plain.summary),
        format!("{:?}", bounded.summary)
    );
    assert_eq!(plain.samples, bounded.samples);
    let events = plain.summary.count(&sim::columns::EVENTS);
    assert_eq!(checks, events / sim::bounds::INTERRUPT_CHECK_EVERY);
}

#[test]
fn limits_stop_a_run_at_the_same_point_every_time() {
    let s = load(CHURN);
    let stop = |limits: RunLimits| match run_bounded(simulation(&s), &limits, || false) {
        Ok(_) => panic!("the run was not stopped"),
        Err(stop) => stop,
    };
    let by_time = RunLimits {
        max_sim_time: Some(SimTime::from_secs(1800)),
        ..RunLimits::default()
    };
    match stop(by_time) {
        RunStop::SimTime { at, limit } => {
            assert!(at > limit && at <= SimTime::from_secs(1860), "{at}");
        }
        other => panic!("{other}"),
    }
    let by_pods = RunLimits {
        max_pods: Some(50),
        ..RunLimits::default()
    };
    let first = stop(by_pods);
    assert_eq!(first, stop(by_pods), "deterministic");
    assert!(
        matches!(
            first,
            RunStop::Limit {
                exceeded: Exceeded {
                    bound: Bound::Pods,
                    value: 51,
                    limit: 50
                },
                ..
            }
        ),
        "{first:?}"
    );
    // Interrupted at the first check, after INTERRUPT_CHECK_EVERY events.
    let busy = load(
        "duration: 2h\nworkloads: [{batch: b, arrivals: {process: fixed, interval: 1s}, duration: 1s}]\n",
    );
    let interrupted = run_bounded(simulation(&busy), &RunLimits::default(), || true).err();
    assert!(
        matches!(interrupted, Some(RunStop::Interrupted { events, .. }) if events == sim::bounds::INTERRUPT_CHECK_EVERY),
        "{interrupted:?}"
    );
}
