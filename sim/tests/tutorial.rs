//! The tutorial scenario (`scenarios/tutorial.yaml`), whose placements were worked out by
//! hand in its description: every bind, every unschedulable reason and the summary are
//! checked here for each scheduler.

use schedulers::Registry;
use sim::{RunResult, Simulation, TraceEvent, load_scenario};

fn run_traced(scheduler: &str) -> RunResult {
    let registry = Registry::builtin();
    let scenario = load_scenario("../scenarios/tutorial.yaml".as_ref(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("tutorial loads");
    let mut sim = Simulation::new(
        &scenario,
        registry.create(scheduler).expect("registered"),
        scenario.seed,
    );
    sim.enable_trace();
    sim.run()
}

/// (seconds, pod, node) of every bind, in order.
fn binds(result: &RunResult) -> Vec<(f64, String, String)> {
    result
        .trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::Bound { node } => Some((r.time.as_secs_f64(), r.pod.clone(), node.clone())),
            _ => None,
        })
        .collect()
}

/// (seconds, pod, reason) of every failed attempt of `pod`.
fn failures(result: &RunResult, pod: &str) -> Vec<(f64, String)> {
    result
        .trace
        .iter()
        .filter(|r| r.pod == pod)
        .filter_map(|r| match &r.event {
            TraceEvent::Unschedulable { reason } => Some((r.time.as_secs_f64(), reason.clone())),
            _ => None,
        })
        .collect()
}

fn check(actual: Vec<(f64, String, String)>, expected: &[(f64, &str, &str)]) {
    let expected: Vec<(f64, String, String)> = expected
        .iter()
        .map(|&(t, p, n)| (t, p.to_string(), n.to_string()))
        .collect();
    assert_eq!(actual, expected);
}

const HUGE_REASON: &str = "0/3 nodes are available: 3 Insufficient cpu.";

#[test]
fn first_fit_packs_the_first_node_that_fits() {
    let r = run_traced("first-fit");
    check(
        binds(&r),
        &[
            (0.0, "web", "small"),
            (10.0, "api-0", "medium"),
            (10.0, "api-1", "medium"),
            (60.0, "report-0", "large"),
            (360.0, "report-1", "large"),
            (661.0, "report-2", "large"),
        ],
    );
    // report-2 arrives while report-0 still holds the large node; small also lacks memory.
    assert_eq!(
        failures(&r, "report-2"),
        vec![(
            660.0,
            "0/3 nodes are available: 1 Insufficient memory, 3 Insufficient cpu.".to_string()
        )]
    );
    let huge = failures(&r, "huge");
    assert_eq!(huge.first(), Some(&(120.0, HUGE_REASON.to_string())));
    assert!(huge.iter().all(|(_, reason)| reason == HUGE_REASON));
    let s = &r.summary;
    assert_eq!(
        (
            s.count(&sim::columns::PODS_SUBMITTED),
            s.count(&sim::columns::PODS_SCHEDULED),
            s.count(&sim::columns::PODS_COMPLETED),
            s.count(&sim::columns::PODS_PENDING_AT_END),
            s.count(&sim::columns::PODS_RUNNING_AT_END)
        ),
        (7, 6, 5, 1, 1)
    );
    assert_eq!(
        (
            s.time(&sim::columns::LATENCY_P50).as_secs_f64(),
            s.time(&sim::columns::LATENCY_P95).as_secs_f64(),
            s.time(&sim::columns::LATENCY_MAX).as_secs_f64()
        ),
        (0.0, 1.0, 1.0)
    );
    assert_eq!(s.count(&sim::columns::NODES_MAX), 3);
    assert_eq!(s.time(&sim::columns::SIM_END).as_secs_f64(), 3600.0);
}

#[test]
fn least_allocated_spreads_and_strands_the_big_report() {
    let r = run_traced("least-allocated");
    check(
        binds(&r),
        &[
            (0.0, "web", "large"),
            (10.0, "api-0", "large"),
            (10.0, "api-1", "medium"),
            (60.0, "report-0", "large"),
            (661.0, "report-2", "large"),
            (1262.0, "report-1", "large"),
        ],
    );
    let report1: Vec<f64> = failures(&r, "report-1").iter().map(|(t, _)| *t).collect();
    // Fails on arrival, at its 5-minute retry, after its backoff, and at its next
    // 5-minute retry; the cluster changes in between (report-0 finishing at 661 s) move
    // it to the backoff queue because its 2 s backoff has not yet run out.
    assert_eq!(report1, vec![360.0, 660.0, 662.0, 962.0]);
    let s = &r.summary;
    assert_eq!(
        (
            s.count(&sim::columns::PODS_SUBMITTED),
            s.count(&sim::columns::PODS_SCHEDULED),
            s.count(&sim::columns::PODS_COMPLETED),
            s.count(&sim::columns::PODS_PENDING_AT_END),
            s.count(&sim::columns::PODS_RUNNING_AT_END)
        ),
        (7, 6, 5, 1, 1)
    );
    assert_eq!(
        (
            s.time(&sim::columns::LATENCY_P50).as_secs_f64(),
            s.time(&sim::columns::LATENCY_P95).as_secs_f64(),
            s.time(&sim::columns::LATENCY_MAX).as_secs_f64()
        ),
        (0.0, 902.0, 902.0)
    );
}

#[test]
fn random_picks_only_feasible_nodes_and_is_reproducible() {
    let r = run_traced("random");
    let b = binds(&r);
    assert_eq!(b.len(), 6);
    // Hand-checked feasible sets: web and the api pods fit anywhere they were tried, the
    // 3-CPU reports only where 3 CPUs are free; the huge pod nowhere.
    for (t, pod, node) in &b {
        assert!(pod != "huge", "{pod} can never fit");
        if pod.starts_with("report") {
            assert_ne!(node, "small", "{pod} at {t}s cannot fit on small (2 CPU)");
        }
    }
    assert!(
        failures(&r, "huge")
            .iter()
            .all(|(_, reason)| reason == HUGE_REASON)
    );
    // The draws come from the scenario's seeded tie-break stream: the same seed gives the
    // same placements, run after run.
    assert_eq!(binds(&run_traced("random")), b);
}

#[test]
fn random_depends_on_the_seed() {
    let registry = Registry::builtin();
    let scenario = load_scenario("../scenarios/tutorial.yaml".as_ref(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap();
    let nodes_for = |seed| {
        let mut sim = Simulation::new(&scenario, registry.create("random").unwrap(), seed);
        sim.enable_trace();
        binds(&sim.run())
            .into_iter()
            .map(|b| b.2)
            .collect::<Vec<_>>()
    };
    // Golden values of the seeded tie-break stream: seed 1 happens to match
    // least-allocated's choices, seed 2 does not.
    assert_eq!(
        nodes_for(1),
        ["large", "large", "medium", "large", "large", "large"]
    );
    assert_eq!(
        nodes_for(2),
        ["medium", "small", "medium", "large", "large", "large"]
    );
}
