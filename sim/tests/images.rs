//! Container images end to end: kube-default's ImageLocality sends a pod to the node that
//! holds its image, a pod on a node without it waits for the pull (size over bandwidth,
//! one pull at a time per node, shared by pods of the same image), and a node that pulled
//! an image then scores as holding it. Every time below is worked out by hand.

use std::sync::{Arc, Mutex};

use schedulers::Registry;
use sim::observe::{Fact, Observer, View};
use sim::{Scenario, Simulation, parse_scenario};

/// Three identical nodes; `warm` holds `app:v1` (800 MiB) from the start. Nodes pull at
/// 100 MiB/s, and a pod starts 1 s after its images are there.
const IMAGES: &str = "
duration: 10m
startLatency: 1s
images:
  pullBandwidth: 100Mi
  sizes:
    app:v1: 800Mi
    tools: 200Mi
cluster:
  nodes:
    - {name: warm, allocatable: {cpu: \"4\", memory: 8Gi}, images: [app:v1]}
    - {name: cold-a, allocatable: {cpu: \"4\", memory: 8Gi}, labels: {tier: cold}}
    - {name: cold-b, allocatable: {cpu: \"4\", memory: 8Gi}, labels: {tier: cold}}
workloads:
  - pod: first
    image: app:v1
    requests: {cpu: 100m, memory: 64Mi}
  - pod: pinned
    at: 1m
    count: 2
    nodeSelector: {kubernetes.io/hostname: cold-a}
    containers:
      - {name: app, image: app:v1, requests: {cpu: 100m}}
      - {name: tools, image: tools:latest, requests: {cpu: 100m}}
  - pod: later
    at: 5m
    image: app:v1
    nodeSelector: {tier: cold}
    requests: {cpu: 100m, memory: 64Mi}
";

fn scenario(text: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "images.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A bind or a start: (seconds, what, pod, node).
type Entry = (f64, &'static str, String, String);

/// Every bind and start.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Entry>>>);

impl Observer for Log {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        let what = match fact {
            Fact::PodBound { .. } => "bound",
            Fact::PodStarted { .. } => "started",
            _ => return,
        };
        let Some(pod) = view.pod else { return };
        let node = pod
            .node
            .map_or(String::new(), |n| view.cluster.node(n).name().to_string());
        self.0
            .lock()
            .unwrap()
            .push((view.now.as_secs_f64(), what, pod.name().to_string(), node));
    }
}

fn run(text: &str) -> Vec<Entry> {
    let s = scenario(text);
    let scheduler = Registry::builtin().create("kube-default").unwrap();
    let log = Log::default();
    let mut sim = Simulation::new(&s, scheduler, s.seed);
    sim.add_observer(Box::new(log.clone()));
    sim.try_run().unwrap();
    log.0.lock().unwrap().clone()
}

fn event<'a>(log: &'a [Entry], what: &str, pod: &str) -> &'a Entry {
    log.iter()
        .find(|e| e.1 == what && e.2 == pod)
        .unwrap_or_else(|| panic!("no {what} event for {pod} in {log:?}"))
}

#[test]
fn image_locality_pulls_and_spread_as_worked_out() {
    let log = run(IMAGES);
    // ImageLocality on `first`: warm holds app:v1, held by 1 node of 3:
    // 100 * (800Mi / 3 - 23Mi) / (1000Mi - 23Mi) = 24; the cold nodes score 0, and every
    // other plugin scores the three empty, identical nodes alike. No pull: it starts 1 s
    // after binding.
    assert_eq!(event(&log, "bound", "first").3, "warm");
    assert_eq!(event(&log, "started", "first").0, 1.0);
    // The two pinned pods are bound to cold-a at 60 s. The node pulls app:v1 (8 s) then
    // tools:latest (2 s), one at a time; the second pod shares those pulls. Both start
    // at 60 + 10 + 1 = 71 s.
    for pod in ["pinned-0", "pinned-1"] {
        let bound = event(&log, "bound", pod);
        assert_eq!((bound.0, bound.3.as_str()), (60.0, "cold-a"));
        assert_eq!(event(&log, "started", pod).0, 71.0, "{pod}");
    }
    // By 300 s cold-a holds app:v1 (2 nodes of 3): on cold-a
    // 100 * (800Mi * 2/3 - 23Mi) / 977Mi = 52, on cold-b 0; cold-a carries 200m more of
    // 4 CPUs, which costs LeastAllocated and BalancedAllocation a few points only.
    let later = event(&log, "bound", "later");
    assert_eq!((later.0, later.3.as_str()), (300.0, "cold-a"));
    assert_eq!(event(&log, "started", "later").0, 301.0);
}

#[test]
fn without_images_or_bandwidth_nothing_changes() {
    // No pull bandwidth: pulls are instant, pods start at startLatency.
    let instant = IMAGES.replace("  pullBandwidth: 100Mi\n", "");
    let log = run(&instant);
    assert_eq!(event(&log, "started", "pinned-0").0, 61.0);
    // No node holds app:v1 at the start: `first` lands where the usual scores (a tie on
    // three identical nodes, broken by the seeded draw) send it, cold-b, and pulls 800Mi
    // at 100Mi/s: it starts at 8 + 1 = 9 s.
    let plain = IMAGES.replace(", images: [app:v1]", "");
    let log = run(&plain);
    assert_eq!(event(&log, "bound", "first").3, "cold-b");
    assert_eq!(event(&log, "started", "first").0, 9.0);
    assert_eq!(event(&log, "started", "pinned-0").0, 71.0);
    // At 300 s both cold nodes hold app:v1 (52 each) and warm holds nothing; cold-b
    // carries less than cold-a, so `later` goes there and pulls nothing.
    let later = event(&log, "bound", "later");
    assert_eq!((later.0, later.3.as_str()), (300.0, "cold-b"));
    assert_eq!(event(&log, "started", "later").0, 301.0);
}

#[test]
fn image_errors_name_file_line_and_field() {
    let registry = Registry::builtin();
    let parse = |text: &str| {
        parse_scenario(text, "images.yaml", &|spec, profiles| {
            registry.check(spec, profiles)
        })
        .unwrap_err()
        .to_string()
    };
    let e = parse(&IMAGES.replace("images: [app:v1]", "images: [app:v2]"));
    assert!(
        e.starts_with("images.yaml:11:")
            && e.contains("cluster.nodes[0].images[0]")
            && e.contains("\"app:v2\" has no size"),
        "{e}"
    );
    let e = parse(&IMAGES.replace("pullBandwidth: 100Mi", "pullBandwidth: fast"));
    assert!(
        e.starts_with("images.yaml:5:") && e.contains("images.pullBandwidth"),
        "{e}"
    );
    let e = parse(&IMAGES.replace(
        "    tools: 200Mi\n",
        "    tools: 200Mi\n    tools:latest: 1Gi\n",
    ));
    assert!(e.contains("listed twice"), "{e}");
    let e = parse(&IMAGES.replace("    containers:\n", "    image: x\n    containers:\n"));
    assert!(
        e.contains("cannot be combined with the top-level `image`"),
        "{e}"
    );
}
