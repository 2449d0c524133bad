//! The per-node series (`Simulation::enable_node_series`): one row per ready node per
//! sampling tick on a small cluster, nothing on a cluster larger than its cap, and
//! nothing unless asked for.

use schedulers::Registry;
use sim::observe::node_series::MAX_NODES;
use sim::{RunResult, Simulation, parse_scenario};

fn run(nodes: usize, enable: bool) -> RunResult {
    let yaml = format!(
        "name: nodes
duration: 10m
sampleInterval: 5m
startLatency: 0s
cluster:
  nodePools: [{{name: n, count: {nodes}, allocatable: {{cpu: \"4\", memory: 8Gi}}}}]
workloads:
  - pod: p
    count: 3
    requests: {{cpu: \"1\", memory: 1Gi}}
"
    );
    let registry = Registry::builtin();
    let scenario = parse_scenario(&yaml, "nodes.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("valid");
    let mut sim = Simulation::new(&scenario, registry.create("first-fit").unwrap(), 1);
    if enable {
        sim.enable_node_series();
    }
    sim.run()
}

#[test]
fn a_row_per_ready_node_per_tick_on_small_clusters_only() {
    let r = run(2, true);
    // Ticks at 0, 5 and 10 minutes; first-fit puts the three pods on the first node.
    let rows: Vec<(u64, &str, i64, i64)> = r
        .node_samples
        .iter()
        .map(|s| {
            (
                s.time.as_secs_f64() as u64,
                s.node.as_str(),
                s.cpu_requested,
                s.cpu_allocatable,
            )
        })
        .collect();
    let first = rows[0].1;
    let second = rows[1].1;
    assert_ne!(first, second);
    assert_eq!(
        rows,
        [0, 300, 600]
            .iter()
            .flat_map(|&t| [(t, first, 3000, 4000), (t, second, 0, 4000)])
            .collect::<Vec<_>>()
    );
    assert!(run(2, false).node_samples.is_empty());
    assert!(run(MAX_NODES + 1, true).node_samples.is_empty());
    assert_eq!(run(MAX_NODES, true).node_samples.len(), 3 * MAX_NODES);
}
