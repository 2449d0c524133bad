//! This crate's algorithms played through whole bundled scenarios with the `sim` API, as an
//! out-of-tree user would: placements of `scenarios/tutorial.yaml` worked out by hand,
//! the cluster's books after every event, every pod accounted for, and determinism.

use std::process::Command;

use rand::RngExt;
use schedlab_examples::{LargestFirst, PowerOfTwo, bundled_scenario, compare, load, registry};
use schedulers::SpecError;
use sim::rng::{Concern, stream};
use sim::{RunResult, Scenario, Simulation, TraceEvent};

fn scenario(file: &str) -> Scenario {
    load(&bundled_scenario(file), &registry()).unwrap_or_else(|e| panic!("{e}"))
}

/// A traced run of `scheduler` on `scenario` with the scenario's seed.
fn traced(scenario: &Scenario, scheduler: &str) -> RunResult {
    let mut sim = Simulation::new(
        scenario,
        registry().create(scheduler).unwrap(),
        scenario.seed,
    );
    sim.enable_trace();
    sim.run()
}

/// (seconds, pod, node) of every bind, in order.
fn binds(result: &RunResult) -> Vec<(f64, &str, &str)> {
    result
        .trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::Bound { node } => {
                Some((r.time.as_secs_f64(), r.pod.as_str(), node.as_str()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn tutorial_placements_of_power_of_two_by_hand() {
    // The simulation hands the scheduler the stream (seed 1, TieBreak, 0). web, api-0 and
    // api-1 each find all three nodes feasible and draw twice: a in 0..3, then b in 0..2,
    // moved past a. The draws are (2, 1), (1, 1), (2, 0):
    let mut rng = stream(1, Concern::TieBreak, 0);
    let draws: Vec<(usize, usize)> = (0..3)
        .map(|_| (rng.random_range(0..3), rng.random_range(0..2)))
        .collect();
    assert_eq!(draws, vec![(2, 1), (1, 1), (2, 0)]);
    // Nodes: small (2 CPU, 4Gi), medium (4, 8Gi), large (8, 16Gi); loads in ppm.
    // t=0   web (1 CPU, 1Gi): pair (large, medium), both at 0: tie, lower id: medium.
    // t=10  api-0 (1.5, 2Gi): b=1 >= a=1, so b=2: (medium, large); medium 250,000 (CPU
    //       1/4), large 0: large.
    // t=10  api-1: (large, small); large 187,500 (1.5/8), small 0: small.
    // t=60  report-0 (3, 4Gi): small has 0.5 CPU free; medium (250,000) and large
    //       (187,500) are the only pair: large.
    // t=360 report-1: medium (250,000) against large (4.5/8 = 562,500): medium.
    // t=660 report-2: medium has no CPU left, so large is the only feasible node. It has
    //       3.5 CPUs free even before report-0 leaves at 661 s: no pod waits.
    // t=120 huge (10 CPU) fits nowhere, every time it is tried.
    let result = traced(&scenario("tutorial.yaml"), PowerOfTwo::NAME);
    assert_eq!(
        binds(&result),
        vec![
            (0.0, "web", "medium"),
            (10.0, "api-0", "large"),
            (10.0, "api-1", "small"),
            (60.0, "report-0", "large"),
            (360.0, "report-1", "medium"),
            (660.0, "report-2", "large"),
        ]
    );
    let huge: Vec<(f64, &str)> = result
        .trace
        .iter()
        .filter(|r| r.pod == "huge")
        .filter_map(|r| match &r.event {
            TraceEvent::Unschedulable { reason } => Some((r.time.as_secs_f64(), reason.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        huge[0],
        (120.0, "0/3 nodes are available: 3 Insufficient cpu.")
    );
    assert!(huge.iter().all(|(_, r)| *r == huge[0].1), "{huge:?}");
    let s = &result.summary;
    assert_eq!(
        (
            s.count(&sim::columns::PODS_SUBMITTED),
            s.count(&sim::columns::PODS_SCHEDULED),
            s.count(&sim::columns::PODS_PENDING_AT_END)
        ),
        (7, 6, 1)
    );
    assert_eq!(
        s.time(&sim::columns::LATENCY_MAX).as_secs_f64(),
        0.0,
        "every bound pod was bound on arrival"
    );
}

/// Steps a run to its end, checking the cluster's books after every event, and returns
/// the result.
fn run_checked(scenario: &Scenario, scheduler: &str) -> RunResult {
    let mut sim = Simulation::new(
        scenario,
        registry().create(scheduler).unwrap(),
        scenario.seed,
    );
    sim.enable_trace();
    while sim.step() {
        if let Err(e) = sim.cluster().check_invariants() {
            panic!("{} / {scheduler} at {}: {e}", scenario.name, sim.now());
        }
        assert_eq!(
            sim.submitted_pods(),
            sim.pending_pods() + sim.running_pods() + sim.finished_pods().0 + sim.finished_pods().1,
            "{} / {scheduler} at {}: pods created = pending + running + finished",
            scenario.name,
            sim.now()
        );
    }
    sim.finish()
}

#[test]
fn every_pod_accounted_for_and_the_books_balance_after_every_event() {
    for file in ["tutorial.yaml", "ecommerce.yaml"] {
        let scenario = scenario(file);
        for scheduler in [PowerOfTwo::NAME, LargestFirst::NAME] {
            let r = run_checked(&scenario, scheduler);
            let s = &r.summary;
            let what = format!("{file} / {scheduler}");
            let created = r
                .trace
                .iter()
                .filter(|t| t.event == TraceEvent::Created)
                .count();
            assert_eq!(
                s.count(&sim::columns::PODS_SUBMITTED),
                created as u64,
                "{what}"
            );
            assert_eq!(
                s.count(&sim::columns::PODS_SUBMITTED),
                s.count(&sim::columns::PODS_PENDING_AT_END)
                    + s.count(&sim::columns::PODS_RUNNING_AT_END)
                    + s.count(&sim::columns::PODS_COMPLETED)
                    + s.count(&sim::columns::PODS_FAILED),
                "{what}"
            );
            assert_eq!(
                s.count(&sim::columns::REFUSED_BINDS),
                0,
                "{what}: chose a node that could not take the pod"
            );
            // Every pod created was bound but for the one that fits nowhere in the tutorial;
            // the shop's cluster has room for everything, given time.
            let expected_pending = if file == "tutorial.yaml" { 1 } else { 0 };
            assert_eq!(
                s.count(&sim::columns::PODS_PENDING_AT_END),
                expected_pending,
                "{what}"
            );
            assert_eq!(
                s.count(&sim::columns::PODS_SCHEDULED),
                s.count(&sim::columns::PODS_SUBMITTED) - expected_pending,
                "{what}"
            );
        }
    }
}

#[test]
fn same_scenario_and_seed_give_the_same_run() {
    let scenario = scenario("ecommerce.yaml");
    for scheduler in [PowerOfTwo::NAME, LargestFirst::NAME] {
        let (a, b) = (traced(&scenario, scheduler), traced(&scenario, scheduler));
        assert_eq!(a.summary, b.summary, "{scheduler}");
        assert_eq!(a.samples, b.samples, "{scheduler}");
        assert_eq!(a.trace, b.trace, "{scheduler}");
    }
}

#[test]
fn power_of_two_draws_only_from_its_own_stream() {
    // Another seed changes the scheduler's stream (and the workload's draws); the run must
    // still be repeatable, and differ from the first, or the seed would not reach it.
    let scenario = scenario("ecommerce.yaml");
    let run = |seed| {
        let mut sim = Simulation::new(
            &scenario,
            registry().create(PowerOfTwo::NAME).unwrap(),
            seed,
        );
        sim.enable_trace();
        sim.run()
    };
    let (a, b, c) = (run(7), run(7), run(8));
    assert_eq!(a.trace, b.trace);
    assert_ne!(binds(&a), binds(&c));
}

#[test]
fn compare_runs_in_the_order_given_and_refuses_unknown_names() {
    let scenario = scenario("tutorial.yaml");
    let registry = registry();
    let runs = compare(
        &scenario,
        &registry,
        &["first-fit", PowerOfTwo::NAME, LargestFirst::NAME],
    )
    .unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r.scheduler.as_str()).collect();
    assert_eq!(names, ["first-fit", "power-of-two", "largest-first"]);
    // largest-first sees one pod per cycle here but for api-0 and api-1, which are equal:
    // it places exactly as first-fit does (sim/tests/tutorial.rs has first-fit's binds).
    assert_eq!(
        binds(&traced(&scenario, "first-fit")),
        binds(&traced(&scenario, LargestFirst::NAME))
    );
    let err = compare(&scenario, &registry, &["power-of-three"]).unwrap_err();
    let SpecError::Unknown(unknown) = &err else {
        panic!("{err}");
    };
    assert!(unknown.known.iter().any(|n| n == PowerOfTwo::NAME), "{err}");
    // This crate's algorithms take no arguments, built-ins take theirs, and a run is
    // labelled by its spec.
    let err = compare(&scenario, &registry, &["power-of-two:choices=3"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"scheduler "power-of-two" takes no arguments, got "choices""#
    );
    let runs = compare(&scenario, &registry, &["tetris:memoryWeight=2"]).unwrap();
    assert_eq!(runs[0].scheduler, "tetris:memoryWeight=2");
}

#[test]
fn bin_packing_runs_the_scenarios_own_profile_and_largest_first_packs() {
    // scenarios/bin-packing.yaml: four 4-CPU nodes, eight 1-CPU pods at t=0, then a 4-CPU
    // pod at 1m. Its `bin-packing` profile comes from its own schedulerConfig file, which
    // `compare` must find. largest-first sees the eight equal pods in one cycle and fills
    // node-0, then node-1, so node-2 is empty for whole-node; kube-default spreads and
    // leaves whole-node pending.
    let scenario = scenario("bin-packing.yaml");
    let registry = registry();
    let runs = compare(
        &scenario,
        &registry,
        &["kube-default", "bin-packing", LargestFirst::NAME],
    )
    .unwrap();
    let pending: Vec<u64> = runs
        .iter()
        .map(|r| r.summary.count(&sim::columns::PODS_PENDING_AT_END))
        .collect();
    assert_eq!(pending, [1, 0, 0]);
    let result = traced(&scenario, LargestFirst::NAME);
    let mut expected: Vec<(f64, String, &str)> = (0..8)
        .map(|i| {
            (
                0.0,
                format!("small-{i}"),
                if i < 4 { "node-0" } else { "node-1" },
            )
        })
        .collect();
    expected.push((60.0, "whole-node".to_string(), "node-2"));
    let actual: Vec<(f64, String, &str)> = binds(&result)
        .into_iter()
        .map(|(t, p, n)| (t, p.to_string(), n))
        .collect();
    assert_eq!(actual, expected);
}

#[test]
fn registry_holds_the_builtins_and_this_crates_algorithms() {
    let registry = registry();
    let names: Vec<&str> = registry.iter().map(|(name, _)| name).collect();
    for name in [
        "first-fit",
        "kube-default",
        "least-allocated",
        "random",
        "power-of-two",
        "largest-first",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "listed in name order");
}

#[test]
fn the_binary_prints_one_row_per_run_and_names_a_bad_file() {
    let exe = env!("CARGO_BIN_EXE_schedlab-examples");
    let out = Command::new(exe)
        .arg(bundled_scenario("tutorial.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    // The tutorial lists four built-ins; the binary adds this crate's two.
    assert_eq!(rows.len(), 6, "{stdout}");
    let power = rows.iter().find(|r| r.contains("power-of-two")).unwrap();
    let cells: Vec<&str> = power.split_whitespace().collect();
    assert_eq!(
        &cells[..5],
        ["tutorial", "power-of-two", "7", "6", "1"],
        "{power}"
    );

    let dir = std::env::temp_dir().join(format!("schedlab-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "cluster:\n  nodes:\n    - name: a\n      allocatable: {cpu: lots}\n",
    )
    .unwrap();
    let out = Command::new(exe).arg(&bad).output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("bad.yaml:4:"), "{stderr}");
    assert!(stderr.contains("cpu"), "{stderr}");
}
