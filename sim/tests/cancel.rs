//! A run given a cancellation flag ([`Simulation::set_cancel_flag`]) stops at its next look
//! at the flag once it is set, and says so; a flag that is never set changes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use schedulers::Registry;
use schedulers::algorithms::FirstFit;
use sim::simulation::CANCEL_CHECK_EVENTS;
use sim::{Scenario, Simulation, parse_scenario};

/// A pod a second for an hour: thousands of events.
const SCENARIO: &str = "
name: steady
duration: 1h
cluster:
  nodePools: [{name: n, count: 4, allocatable: {cpu: \"64\", memory: 64Gi}}]
workloads:
  - batch: jobs
    arrivals: {process: fixed, interval: 1s}
    duration: 30s
    requests: {cpu: 100m}
";

fn scenario() -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(SCENARIO, "steady.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap()
}

#[test]
fn a_flag_set_before_the_start_stops_the_run_before_its_first_event() {
    let scenario = scenario();
    let mut sim = Simulation::new(&scenario, Box::new(FirstFit::default()), 1);
    sim.set_cancel_flag(Arc::new(AtomicBool::new(true)));
    assert!(!sim.step());
    assert!(sim.cancelled());
    assert_eq!(sim.events_processed(), 0);
}

#[test]
fn a_flag_set_midway_stops_the_run_within_the_check_interval() {
    let scenario = scenario();
    let flag = Arc::new(AtomicBool::new(false));
    let mut sim = Simulation::new(&scenario, Box::new(FirstFit::default()), 1);
    sim.set_cancel_flag(Arc::clone(&flag));
    for _ in 0..10 {
        assert!(sim.step());
    }
    flag.store(true, Ordering::Relaxed);
    while sim.step() {}
    assert!(sim.cancelled());
    assert_eq!(sim.events_processed(), CANCEL_CHECK_EVENTS);
    // Cut short: it ended long before its horizon, and the summary says when.
    let end = sim.now();
    let result = sim.finish();
    assert!(end.as_secs_f64() < 3600.0);
    assert_eq!(result.summary.time(&sim::columns::SIM_END), end);
}

#[test]
fn a_flag_never_set_changes_nothing() {
    let scenario = scenario();
    let plain = Simulation::new(&scenario, Box::new(FirstFit::default()), 1)
        .try_run()
        .unwrap();
    let mut sim = Simulation::new(&scenario, Box::new(FirstFit::default()), 1);
    sim.set_cancel_flag(Arc::new(AtomicBool::new(false)));
    assert!(plain.summary.count(&sim::columns::EVENTS) > 2 * CANCEL_CHECK_EVENTS);
    let flagged = sim.try_run().unwrap();
    assert_eq!(
        format!("{:?}", flagged.summary),
        format!("{:?}", plain.summary)
    );
    assert_eq!(flagged.samples.len(), plain.samples.len());
}
