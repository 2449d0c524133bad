//! The packing-baselines scenario (`scenarios/packing-baselines.yaml`): the packers keep
//! whole nodes free for the pods that need one, the spreaders do not, and how many of those
//! pods wait follows from how many nodes each algorithm left empty. Every expectation is
//! derived from the scenario's own figures (node size, replica count, requests), read from
//! the loaded file.

use std::collections::BTreeMap;

use schedulers::{Registry, ResourceKind};
use sim::scenario::WorkloadKind;
use sim::{RunResult, Scenario, Simulation, TraceEvent, load_scenario};

const PATH: &str = "../scenarios/packing-baselines.yaml";
/// Algorithms that fill a node before opening the next.
const PACKERS: [&str; 3] = ["first-fit", "best-fit", "most-allocated"];
/// Algorithms that put each pod on the emptiest (or next) node.
const SPREADERS: [&str; 3] = ["worst-fit", "round-robin", "tetris"];

fn run_traced(registry: &Registry, scenario: &Scenario, scheduler: &str) -> RunResult {
    let mut sim = Simulation::new(
        scenario,
        registry.create(scheduler).expect("registered"),
        scenario.seed,
    );
    sim.enable_trace();
    sim.run()
}

/// What one run did with the scenario's two workloads.
#[derive(Debug)]
struct Outcome {
    /// `web` pods per node that holds any (they run to the end, so this is also the
    /// placement when the big pods arrive).
    web_per_node: BTreeMap<String, u32>,
    /// Nodes the `whole-node` pods were bound to.
    big_nodes: Vec<String>,
    /// The reason given by the last failed attempt of a `whole-node` pod, if any.
    big_reason: Option<String>,
    pending_at_end: u64,
}

fn outcome(result: &RunResult) -> Outcome {
    let mut o = Outcome {
        web_per_node: BTreeMap::new(),
        big_nodes: Vec::new(),
        big_reason: None,
        pending_at_end: result.summary.count(&sim::columns::PODS_PENDING_AT_END),
    };
    for r in &result.trace {
        match &r.event {
            TraceEvent::Bound { node } if r.pod.starts_with("web-") => {
                *o.web_per_node.entry(node.clone()).or_default() += 1;
            }
            TraceEvent::Bound { node } if r.pod.starts_with("whole-node-") => {
                o.big_nodes.push(node.clone())
            }
            TraceEvent::Unschedulable { reason } if r.pod.starts_with("whole-node-") => {
                o.big_reason = Some(reason.clone())
            }
            _ => {}
        }
    }
    o
}

/// The scenario's figures the expectations are derived from.
struct Figures {
    nodes: u32,
    node_cpu: i64,
    web_replicas: u32,
    web_cpu: i64,
    big_count: u32,
}

fn figures(scenario: &Scenario) -> Figures {
    let node_cpu = scenario.nodes[0].allocatable.get(ResourceKind::CPU);
    assert!(
        scenario
            .nodes
            .iter()
            .all(|n| n.allocatable.get(ResourceKind::CPU) == node_cpu),
        "the scenario's nodes are identical"
    );
    let [web, big] = scenario.workloads.as_slice() else {
        panic!("two workloads expected");
    };
    let WorkloadKind::Deployment { replicas, .. } = web.kind else {
        panic!("web is a Deployment");
    };
    let WorkloadKind::Pods { count, .. } = big.kind else {
        panic!("whole-node is bare pods");
    };
    let cpu = |w: &sim::scenario::Workload| w.template.effective_requests().cpu();
    assert_eq!(cpu(big), node_cpu, "a big pod needs a whole node");
    Figures {
        nodes: scenario.nodes.len() as u32,
        node_cpu,
        web_replicas: replicas,
        web_cpu: cpu(web),
        big_count: count,
    }
}

#[test]
fn packers_keep_whole_nodes_free_and_spreaders_do_not() {
    let registry = Registry::builtin();
    let scenario = load_scenario(PATH.as_ref(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("the scenario loads");
    let f = figures(&scenario);
    let listed: Vec<&str> = scenario
        .schedulers
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    for name in PACKERS.iter().chain(&SPREADERS) {
        assert!(listed.contains(name), "the scenario runs {name}");
    }

    // The fewest nodes that hold every web pod, and the most they can occupy.
    let packed = (f.web_replicas as u64 * f.web_cpu as u64).div_ceil(f.node_cpu as u64) as usize;
    let spread = f.web_replicas.min(f.nodes) as usize;
    assert!(
        packed < spread && f.nodes as usize - packed >= f.big_count as usize,
        "the scenario must separate the two families"
    );

    let mut used = BTreeMap::new();
    for &name in &listed {
        let o = outcome(&run_traced(&registry, &scenario, name));
        let web_nodes = o.web_per_node.len();
        assert_eq!(
            o.web_per_node.values().sum::<u32>(),
            f.web_replicas,
            "{name}: every web pod is bound: {o:?}"
        );
        // A big pod needs an empty node: as many are bound as there are empty nodes (up to
        // their count), never next to a web pod, and the rest wait for lack of CPU.
        let empty = f.nodes as usize - web_nodes;
        assert_eq!(
            o.big_nodes.len(),
            empty.min(f.big_count as usize),
            "{name}: {o:?}"
        );
        assert!(
            o.big_nodes.iter().all(|n| !o.web_per_node.contains_key(n)),
            "{name}: {o:?}"
        );
        assert_eq!(
            o.pending_at_end,
            (f.big_count as usize - o.big_nodes.len()) as u64,
            "{name}: {o:?}"
        );
        if o.pending_at_end > 0 {
            let n = f.nodes;
            assert_eq!(
                o.big_reason.as_deref(),
                Some(format!("0/{n} nodes are available: {n} Insufficient cpu.").as_str()),
                "{name}"
            );
        }
        if PACKERS.contains(&name) {
            assert_eq!(web_nodes, packed, "{name} packs optimally here: {o:?}");
        }
        if SPREADERS.contains(&name) {
            assert_eq!(web_nodes, spread, "{name} uses every node: {o:?}");
            let (lo, hi) = (
                o.web_per_node.values().min().unwrap(),
                o.web_per_node.values().max().unwrap(),
            );
            assert!(hi - lo <= 1, "{name} spreads evenly: {o:?}");
        }
        used.insert(name, web_nodes);
    }
    assert!(
        used["best-fit"] < used["worst-fit"],
        "best-fit uses fewer nodes than worst-fit: {used:?}"
    );
}
