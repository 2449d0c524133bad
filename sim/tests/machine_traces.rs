//! Machine traces as the cluster's nodes (`cluster.machines`): Google 2011's
//! `machine_events` and Alibaba v2018's `machine_meta`. The machines present at the
//! window's start are the nodes a run starts with; later arrivals and departures join and
//! leave during the run, at the trace's times less the start. Bad rows are skipped and
//! counted, or with `strict` an error naming file, line and column.

use std::path::{Path, PathBuf};

use schedulers::{Registry, ResourceKind, SchedulerSpec};
use sim::controllers::nodes::NodeAction;
use sim::{
    RunResult, Scenario, ScenarioError, SimTime, Simulation, TraceEvent, columns, parse_scenario,
};

/// The repository's `data/` folder, where the scenarios below pretend to live.
fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

/// This test's fixtures.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Loads `text` as if it were `scenario.yaml` in `dir`.
fn load_in(dir: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let registry = Registry::builtin();
    let path = dir.join("scenario.yaml");
    parse_scenario(text, &path.display().to_string(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
}

const GIB: i64 = 1 << 30;

/// The fixture (tests/fixtures/google_machine_events.csv, ours, in Google's schema) from 6,000 s to 6,120 s of
/// trace time, with 1.0 = 32 CPUs and 128 GiB, and a Deployment of eight 10-CPU pods.
const GOOGLE: &str = "
duration: 5m
cluster:
  machines:
    format: google-2011-machine-events
    path: google_machine_events.csv
    machineScale: {cpu: \"32\", memory: 128Gi}
    window: {start: 6000s, end: 6120s}
workloads:
  - deployment: web
    replicas: 8
    requests: {cpu: \"10\", memory: 1Gi}
";

/// `(name, millicores, bytes)` of each node.
fn sizes(s: &Scenario) -> Vec<(String, i64, i64)> {
    s.nodes
        .iter()
        .map(|n| {
            (
                n.name.clone(),
                n.allocatable.get(ResourceKind::CPU),
                n.allocatable.get(ResourceKind::MEMORY),
            )
        })
        .collect()
}

#[test]
fn google_machines_at_the_window_start_are_the_initial_nodes_and_later_events_are_changes() {
    let s = load_in(&fixtures(), GOOGLE).unwrap_or_else(|e| panic!("{e}"));
    let half = (0.4995 * (128 * GIB) as f64).round() as i64;
    // Machine 7 left at 4,800 s and machine 8 joined at 5,500 s, before the window;
    // machine 3's UPDATE at 5,900 s gave it 0.4995 of the memory. First-appearance order.
    assert_eq!(
        sizes(&s),
        vec![
            ("machine-1".into(), 16_000, half),
            ("machine-2".into(), 16_000, half),
            ("machine-3".into(), 16_000, half),
            ("machine-4".into(), 32_000, 128 * GIB),
            ("machine-5".into(), 16_000, half),
            ("machine-6".into(), 16_000, half),
            ("machine-8".into(), 16_000, half),
        ]
    );
    let platform = s.nodes[3].labels.get("cluster-data.google.com/platform");
    assert_eq!(
        platform,
        Some("70ZOvysYGtB6j9MUHMPzA2Iy7GRzWu6kFjCNu2rFqcU=")
    );
    assert_eq!(
        s.nodes[0].labels.get("kubernetes.io/hostname"),
        Some("machine-1")
    );
    // During the window: machine 5 leaves at +30 s, machine 9 joins at +60 s, machine
    // 2's UPDATE at +90 s halves its memory, machine 5 joins again at +100 s; machine 1's
    // REMOVE at 7,000 s lies past the window's end.
    let changes: Vec<(u64, String)> = s
        .node_changes
        .iter()
        .map(|(at, a)| {
            let what = match a {
                NodeAction::Add(spec) => format!(
                    "add {} {}m",
                    spec.name,
                    spec.allocatable.get(ResourceKind::CPU)
                ),
                NodeAction::Remove(name) => format!("remove {name}"),
                NodeAction::Resize(name, size) => format!(
                    "resize {name} {}m {}",
                    size.get(ResourceKind::CPU),
                    size.get(ResourceKind::MEMORY)
                ),
                other => format!("{other:?}"),
            };
            (at.as_micros() / 1_000_000, what)
        })
        .collect();
    assert_eq!(
        changes,
        vec![
            (30, "remove machine-5".to_string()),
            (60, "add machine-9 32000m".to_string()),
            (
                90,
                format!(
                    "resize machine-2 16000m {}",
                    (0.2493 * (128 * GIB) as f64).round() as i64
                )
            ),
            (100, "add machine-5 16000m".to_string()),
        ]
    );
}

fn play(s: &Scenario) -> RunResult {
    let registry = Registry::builtin();
    let spec = SchedulerSpec::named("first-fit");
    let mut sim = Simulation::new(s, registry.build(&spec, &s.build_context()).unwrap(), 1);
    sim.enable_trace();
    sim.step_until(SimTime::from_secs(200));
    let names: Vec<String> = {
        let mut n: Vec<String> = sim
            .cluster()
            .nodes()
            .iter()
            .filter(|n| !n.removed)
            .map(|n| n.spec.name.clone())
            .collect();
        n.sort();
        n
    };
    assert_eq!(
        names,
        [1, 2, 3, 4, 5, 6, 8, 9].map(|i| format!("machine-{i}")),
        "the nodes after the window's changes"
    );
    sim.cluster().check_invariants().unwrap();
    sim.run()
}

#[test]
fn a_departing_machine_evicts_its_pod_which_is_replaced_on_another() {
    let s = load_in(&fixtures(), GOOGLE).unwrap();
    let r = play(&s);
    let binds: Vec<(u64, String, String)> = r
        .trace
        .iter()
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => {
                Some((t.time.as_micros() / 1_000_000, t.pod.clone(), node.clone()))
            }
            _ => None,
        })
        .collect();
    let on_5: Vec<&(u64, String, String)> = binds.iter().filter(|b| b.2 == "machine-5").collect();
    assert_eq!(on_5.len(), 1, "{binds:?}");
    let evicted: Vec<(u64, String)> = r
        .trace
        .iter()
        .filter(|t| matches!(t.event, TraceEvent::Evicted | TraceEvent::Disrupted { .. }))
        .map(|t| (t.time.as_micros() / 1_000_000, t.pod.clone()))
        .collect();
    assert_eq!(evicted, vec![(30, on_5[0].1.clone())], "{:?}", r.trace);
    // Eight pods were bound before the departure and one replacement after it.
    assert_eq!(binds.len(), 9, "{binds:?}");
    let replacement = &binds[8];
    assert_eq!(replacement.0, 30);
    assert_ne!(replacement.2, "machine-5");
}

/// Machine 1 of 32 CPUs shrinks to 16 at 60 s; machine 2 of 16 CPUs grows to 32 at
/// 120 s; an UPDATE that keeps the size at 90 s changes nothing.
const RESIZES: &str = "\
0,1,0,p,1,1
0,2,0,p,0.5,1
60000000,1,2,p,0.5,1
90000000,2,2,p,0.5,1
120000000,2,2,p,1,1
";

#[test]
fn a_shrinking_machine_rejects_its_newest_pods_and_their_replacements_land_elsewhere() {
    let dir = with_file("resize", "m.csv", RESIZES);
    // Five pods of 8 CPUs: first-fit puts web-0..web-3 on machine-1, web-4 on machine-2.
    let s = load_in(
        &dir,
        "
duration: 5m
cluster:
  machines: {format: google-2011-machine-events, path: m.csv, machineScale: {cpu: \"32\", memory: 128Gi}}
workloads:
  - deployment: web
    replicas: 5
    requests: {cpu: \"8\", memory: 1Gi}
",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let resizes = s
        .node_changes
        .iter()
        .filter(|(_, a)| matches!(a, NodeAction::Resize(..)))
        .count();
    assert_eq!(resizes, 2, "the UPDATE that keeps the size is not a resize");
    let registry = Registry::builtin();
    let spec = SchedulerSpec::named("first-fit");
    let mut sim = Simulation::new(&s, registry.build(&spec, &s.build_context()).unwrap(), 1);
    sim.enable_trace();
    while sim.now() < SimTime::from_secs(300) && sim.step() {
        sim.cluster().check_invariants().unwrap();
    }
    let cpu = |name: &str| {
        let c = sim.cluster();
        c.node(c.node_id(name).unwrap())
            .spec
            .allocatable
            .get(ResourceKind::CPU)
    };
    assert_eq!((cpu("machine-1"), cpu("machine-2")), (16_000, 32_000));
    let r = sim.run();
    let shown: Vec<(u64, String, String)> = r
        .trace
        .iter()
        .filter_map(|t| {
            let what = match &t.event {
                TraceEvent::Bound { node } => format!("bound {node}"),
                TraceEvent::Disrupted { reason } => format!("disrupted {reason}"),
                TraceEvent::Evicted => "evicted".to_string(),
                _ => return None,
            };
            Some((t.time.as_micros() / 1_000_000, t.pod.clone(), what))
        })
        .collect();
    // At 60 s the kubelet admits the oldest pods on machine-1 again (web-0 and web-1, 16
    // of 16 CPUs) and rejects web-2 and web-3; their replacements find 8 CPUs on
    // machine-2, room for one, so the other waits until machine-2 grows at 120 s.
    let after: Vec<&(u64, String, String)> = shown.iter().filter(|s| s.0 >= 60).collect();
    let expected: Vec<(u64, String, String)> = vec![
        (60, "web-2".into(), "disrupted node-resized".into()),
        (60, "web-3".into(), "disrupted node-resized".into()),
        (60, "web-5".into(), "bound machine-2".into()),
        (120, "web-6".into(), "bound machine-2".into()),
    ];
    assert_eq!(after, expected.iter().collect::<Vec<_>>(), "{shown:?}");
    assert_eq!(r.summary.count(&columns::EVICTIONS_NODE_RESIZED), 2);
}

#[test]
fn the_real_alibaba_machine_meta_gives_3887_nodes_and_146_arrivals() {
    // Recounted from the raw file: sorted by time (file order among equal times), 3,887
    // machines are USING at time 0 (of 96 cores each), 146 more turn USING later, and
    // none leaves; `mem_size` 100 stands for 512 GiB here.
    let s = load_in(
        &data(),
        "
cluster:
  machines:
    format: alibaba-2018-machine-meta
    path: alibaba-v2018/machine_meta.csv
    machineScale: {memory: 512Gi}
workloads: [{pod: p, requests: {cpu: \"1\"}}]
",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.nodes.len(), 3887);
    assert!(
        s.nodes
            .iter()
            .all(|n| n.allocatable.get(ResourceKind::CPU) == 96_000
                && n.allocatable.get(ResourceKind::MEMORY) == 512 * GIB)
    );
    assert_eq!(s.nodes[0].name, "m_1");
    assert_eq!(
        s.nodes[0].labels.get("topology.kubernetes.io/zone"),
        Some("219")
    );
    assert_eq!(
        s.nodes[0].labels.get("alibaba.com/failure-domain-2"),
        Some("17")
    );
    assert_eq!(s.node_changes.len(), 146);
    assert!(
        s.node_changes
            .iter()
            .all(|(_, a)| matches!(a, NodeAction::Add(_)))
    );
    assert!(s.node_changes.windows(2).all(|w| w[0].0 <= w[1].0));
}

/// A directory of this test's own holding `file` = `text`.
fn with_file(name: &str, file: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "schedlab-machine-traces-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), text).unwrap();
    dir
}

const BAD_ROWS: &str = "\
0,1,0,p,0.5,0.5
0,2,0,p,abc,0.5
0,3,7,p,0.5,0.5
0,4,0,p,0.5
";

fn google_on(dir: &Path, strict: bool) -> Result<Scenario, ScenarioError> {
    load_in(
        dir,
        &format!(
            "cluster:\n  machines:\n    format: google-2011-machine-events\n    path: m.csv\n    machineScale: {{cpu: \"32\", memory: 128Gi}}\n    strict: {strict}\nworkloads: [{{pod: p}}]\n"
        ),
    )
}

#[test]
fn bad_rows_are_skipped_and_counted_or_with_strict_an_error_at_their_line_and_column() {
    let dir = with_file("bad", "m.csv", BAD_ROWS);
    let s = google_on(&dir, false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.nodes.len(), 1);
    assert_eq!(s.trace_warnings.len(), 1);
    let w = &s.trace_warnings[0];
    assert!(
        w.ends_with(
            "m.csv: 3 rows skipped, first at line 2, column 9: CPUs: expected a share of the largest machine, above 0 and at most 1, got \"abc\""
        ),
        "{w}"
    );
    let e = google_on(&dir, true).unwrap_err();
    assert_eq!((e.line, e.column), (Some(2), Some(9)));
    assert_eq!(e.field.as_deref(), Some("CPUs"));
}

#[test]
fn scenario_mistakes_name_the_field() {
    let dir = with_file("fields", "m.csv", "0,1,0,p,0.5,0.5\n");
    // A machine that joins only after the window below ends.
    std::fs::write(dir.join("later.csv"), "10000000,1,0,p,0.5,0.5\n").unwrap();
    let cases = [
        (
            "cluster:\n  machines: {format: azure, path: m.csv}\n",
            "cluster.machines.format",
            "unknown machine trace format \"azure\"",
        ),
        (
            "cluster:\n  machines: {format: google-2011-machine-events, path: m.csv}\n",
            "cluster.machines.machineScale",
            "missing required field `machineScale`",
        ),
        (
            "cluster:\n  machines: {format: alibaba-2018-machine-meta, path: m.csv, machineScale: {cpu: \"96\", memory: 1Gi}}\n",
            "cluster.machines.machineScale.cpu",
            "only `memory`",
        ),
        (
            "cluster:\n  machines: {format: google-2011-machine-events, path: later.csv, machineScale: {cpu: \"32\", memory: 1Gi}, window: {end: 5s}}\n",
            "cluster.machines.path",
            "lists no machine in the window",
        ),
        (
            "cluster:\n  nodes: [{name: machine-1}]\n  machines: {format: google-2011-machine-events, path: m.csv, machineScale: {cpu: \"32\", memory: 1Gi}}\n",
            "cluster.machines.path",
            "machine \"machine-1\"",
        ),
    ];
    for (text, field, message) in cases {
        let e = load_in(&dir, text).unwrap_err();
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
        assert!(e.message.contains(message), "{e}");
        assert!(e.line.is_some(), "{e}");
    }
}
