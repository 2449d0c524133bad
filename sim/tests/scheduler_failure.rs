//! A scheduler that reports a failure ([`schedulers::Scheduler::failure`]) stops its run:
//! `try_run` returns the failure with the simulated time of the cycle, and no later event
//! is processed.

use schedulers::algorithms::FirstFit;
use schedulers::{Cycle, Registry, Scheduler};
use sim::{SchedulerFailure, SimTime, Simulation, parse_scenario};

/// First-fit that gives up at its `fail_at`-th cycle (1-based), after binding that
/// cycle's pods, as a broken external program might have.
struct FailsAt {
    cycles: u32,
    fail_at: u32,
    failure: Option<String>,
}

impl Scheduler for FailsAt {
    fn name(&self) -> &str {
        "fails-at"
    }

    fn schedule(&mut self, cycle: &mut Cycle<'_>) {
        self.cycles += 1;
        FirstFit::default().schedule(cycle);
        if self.cycles == self.fail_at {
            self.failure = Some(format!("gave up in cycle {}", self.cycles));
        }
    }

    fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }
}

/// Pods arrive at 0s, 10s and 20s, one per cycle.
const SCENARIO: &str = "
name: failing
duration: 1h
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - pod: a
    requests: {cpu: \"1\"}
  - pod: b
    at: 10s
    requests: {cpu: \"1\"}
  - pod: c
    at: 20s
    requests: {cpu: \"1\"}
";

fn simulation(fail_at: u32) -> Simulation<'static> {
    let registry = Registry::builtin();
    let scenario = parse_scenario(SCENARIO, "failing.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap();
    let scenario: &'static _ = Box::leak(Box::new(scenario));
    let scheduler = FailsAt {
        cycles: 0,
        fail_at,
        failure: None,
    };
    let mut simulation = Simulation::new(scenario, Box::new(scheduler), 1);
    simulation.enable_trace();
    simulation
}

#[test]
fn a_failing_scheduler_stops_the_run_at_that_cycle() {
    let failure = simulation(2).try_run().unwrap_err();
    assert_eq!(
        failure,
        SchedulerFailure {
            time: SimTime::from_secs(10),
            message: "gave up in cycle 2".to_string(),
        }
    );
    assert_eq!(
        failure.to_string(),
        "the scheduler failed at t=10s: gave up in cycle 2"
    );

    // Stepping shows where it stopped: nothing after the 10 s cycle is processed.
    let mut sim = simulation(2);
    while sim.step() {}
    assert_eq!(sim.now(), SimTime::from_secs(10));
    assert_eq!(sim.submitted_pods(), 2);
    assert!(sim.failure().is_some());
}

#[test]
fn a_scheduler_that_never_fails_runs_to_the_end() {
    let result = simulation(99).try_run().unwrap();
    assert_eq!(result.summary.count(&sim::columns::PODS_SCHEDULED), 3);
}
