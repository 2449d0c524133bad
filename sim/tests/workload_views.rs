//! `Simulation::workloads`: the controllers' objects a snapshot writes (desired replicas,
//! a Job's completions, the live pods each owns), at times worked by hand.

use schedulers::Registry;
use sim::{Scenario, SimTime, Simulation, WorkloadView, parse_scenario};

const SCENARIO: &str = r#"
startLatency: 0s
duration: 1h
cluster:
  nodes:
    - {name: a, allocatable: {cpu: "4", memory: 8Gi}}
    - {name: b, allocatable: {cpu: "4", memory: 8Gi}}
workloads:
  - deployment: web
    replicas: 3
    requests: {cpu: 500m, memory: 512Mi}
    duration: 2m
  - statefulSet: db
    replicas: 2
    podManagementPolicy: Parallel
    requests: {cpu: 500m, memory: 512Mi}
  - daemonSet: agent
    requests: {cpu: 100m, memory: 64Mi}
  - job: crunch
    completions: 3
    parallelism: 2
    requests: {cpu: 500m, memory: 512Mi}
    duration: 1m
  - statefulSet: later
    at: 1h
    replicas: 1
    requests: {cpu: 100m}
  - pod: bare
    requests: {cpu: 100m}
"#;

fn load() -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(SCENARIO, "views.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// (name, replicas, succeeded, owned pods' names) of every view.
fn summary(sim: &Simulation<'_>) -> Vec<(String, Option<u32>, u32, Vec<String>)> {
    sim.workloads()
        .iter()
        .map(|v: &WorkloadView<'_>| {
            let pods = v
                .pods
                .iter()
                .map(|&id| sim.cluster().pod(id).unwrap().name().to_string())
                .collect();
            (v.template.name.clone(), v.replicas, v.succeeded, pods)
        })
        .collect()
}

fn row(
    name: &str,
    replicas: Option<u32>,
    succeeded: u32,
    pods: &[&str],
) -> (String, Option<u32>, u32, Vec<String>) {
    (
        name.to_owned(),
        replicas,
        succeeded,
        pods.iter().map(|p| (*p).to_owned()).collect(),
    )
}

#[test]
fn views_follow_the_controllers_and_own_only_live_pods() {
    let scenario = load();
    let mut sim = Simulation::new(
        &scenario,
        Registry::builtin().create("first-fit").unwrap(),
        1,
    );
    // At 90 s: crunch-0 and crunch-1 finished at 60 s and crunch-2 replaced them; the
    // Deployment's first pods run until 120 s; `later` does not exist yet and the bare pod
    // has no controller.
    sim.step_until(SimTime::from_secs(90));
    assert_eq!(
        summary(&sim),
        vec![
            row("web", Some(3), 0, &["web-0", "web-1", "web-2"]),
            row("db", Some(2), 0, &["db-0", "db-1"]),
            row("agent", None, 0, &["agent-0", "agent-1"]),
            row("crunch", None, 2, &["crunch-2"]),
        ]
    );
    let views = sim.workloads();
    assert_eq!(views[0].replica_sets, 1);
    assert_eq!(views[3].index, 3);
    // At 150 s the Deployment replaced its three pods; crunch completed at 120 s.
    sim.step_until(SimTime::from_secs(150));
    assert_eq!(
        summary(&sim),
        vec![
            row("web", Some(3), 0, &["web-3", "web-4", "web-5"]),
            row("db", Some(2), 0, &["db-0", "db-1"]),
            row("agent", None, 0, &["agent-0", "agent-1"]),
            row("crunch", None, 3, &[]),
        ]
    );
}
