//! `scenarios/flow-vs-greedy.yaml`: the `flow` batch scheduler binds the whole burst, and
//! the one-at-a-time greedy schedulers each leave big pods pending, as its description
//! works out by hand. Checked from the actual runs, placements included.

use schedulers::Registry;
use sim::{RunResult, Simulation, TraceEvent, load_scenario};

fn run(scheduler: &str) -> RunResult {
    let registry = Registry::builtin();
    let scenario = load_scenario(
        "../scenarios/flow-vs-greedy.yaml".as_ref(),
        &|spec, profiles| registry.check(spec, profiles),
    )
    .expect("flow-vs-greedy loads");
    assert!(
        scenario.schedulers.iter().any(|s| s.label == scheduler),
        "{scheduler} is in the scenario's list"
    );
    let mut sim = Simulation::new(
        &scenario,
        registry.create(scheduler).expect("registered"),
        scenario.seed,
    );
    sim.enable_trace();
    sim.run()
}

/// Pods bound to each node, by name prefix (`s` small, `b` big), in node order.
fn layout(result: &RunResult) -> Vec<String> {
    let mut nodes = vec![String::new(); 6];
    for r in &result.trace {
        if let TraceEvent::Bound { node } = &r.event {
            let i: usize = node.trim_start_matches("node-").parse().unwrap();
            nodes[i].push(if r.pod.starts_with("big") { 'b' } else { 's' });
        }
    }
    nodes
}

#[test]
fn flow_binds_every_pod_and_greedy_does_not() {
    let flow = run("flow");
    assert_eq!(flow.summary.count(&sim::columns::PODS_SUBMITTED), 18);
    assert_eq!(flow.summary.count(&sim::columns::PODS_PENDING_AT_END), 0);
    // Two nodes of five small pods, four of one small and one big pod (bound class by
    // class, small pods first).
    assert_eq!(layout(&flow), ["sssss", "sssss", "sb", "sb", "sb", "sb"]);

    let ff = run("first-fit");
    assert_eq!(ff.summary.count(&sim::columns::PODS_PENDING_AT_END), 1);
    assert_eq!(layout(&ff), ["sssss", "sssss", "ssss", "b", "b", "b"]);

    // The other packers fill nodes as first-fit does (most-allocated breaks ties at
    // random, so its nodes may come in another order).
    for packer in ["best-fit", "most-allocated"] {
        let r = run(packer);
        assert_eq!(
            r.summary.count(&sim::columns::PODS_PENDING_AT_END),
            1,
            "{packer}"
        );
        let mut nodes = layout(&r);
        nodes.sort();
        assert_eq!(nodes, ["b", "b", "b", "ssss", "sssss", "sssss"], "{packer}");
    }

    // tetris's alignment score favours the emptiest node, so it spreads like them.
    for spreader in ["least-allocated", "kube-default", "tetris"] {
        let r = run(spreader);
        assert_eq!(
            r.summary.count(&sim::columns::PODS_PENDING_AT_END),
            4,
            "{spreader}"
        );
        let nodes = layout(&r);
        assert!(
            nodes.iter().all(|n| !n.contains('b')),
            "{spreader}: {nodes:?}"
        );
    }
    // Packing: flow holds 56 of the 60 CPUs, first-fit 49.
    assert!(
        (flow.summary.number(&sim::columns::CPU_ALLOC_MEAN).unwrap() - 56.0 / 60.0).abs() < 1e-9
    );
    assert!((ff.summary.number(&sim::columns::CPU_ALLOC_MEAN).unwrap() - 49.0 / 60.0).abs() < 1e-9);
}
