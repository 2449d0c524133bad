//! Issue 14: "Same scheduler, same decisions". One set of Kubernetes objects (nodes of
//! different sizes, zones and taints; pods of several shapes with a node selector, node
//! affinity, a toleration, pod anti-affinity and a priority) is given to the simulator as
//! a scenario's `manifests:` and to the control plane's `SchedulingLoop` as the JSON the
//! API server stores; both schedule with the same algorithm and the same tie-break stream
//! (the simulator's `TieBreak` stream of the seed), and must bind every pod to the same
//! node and leave the same pods pending.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schedlab_agent::objects::validate;
use schedlab_agent::scheduling::{Outcome, SchedulingLoop};
use schedulers::{Registry, SchedulerSpec};
use serde_json::{Value, json};
use sim::rng::{Concern, stream};
use sim::{Simulation, TraceEvent, load_scenario};

/// The cluster and the pods, in creation order.
const OBJECTS: &str = "\
apiVersion: v1
kind: Node
metadata:
  name: big
  labels: {kubernetes.io/hostname: big, topology.kubernetes.io/zone: a, disk: ssd}
status:
  allocatable: {cpu: \"8\", memory: 16Gi, pods: \"20\"}
---
apiVersion: v1
kind: Node
metadata:
  name: mid
  labels: {kubernetes.io/hostname: mid, topology.kubernetes.io/zone: b}
status:
  allocatable: {cpu: \"4\", memory: 8Gi, pods: \"20\"}
---
apiVersion: v1
kind: Node
metadata:
  name: mid2
  labels: {kubernetes.io/hostname: mid2, topology.kubernetes.io/zone: a}
status:
  allocatable: {cpu: \"4\", memory: 8Gi, pods: \"20\"}
---
apiVersion: v1
kind: Node
metadata:
  name: infra
  labels: {kubernetes.io/hostname: infra, topology.kubernetes.io/zone: b}
spec:
  taints: [{key: dedicated, value: infra, effect: NoSchedule}]
status:
  allocatable: {cpu: \"2\", memory: 4Gi, pods: \"20\"}
---
apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  nodeSelector: {disk: ssd}
  containers: [{name: c, resources: {requests: {cpu: \"3\", memory: 6Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
  containers: [{name: c, resources: {requests: {cpu: 500m, memory: 512Mi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: web}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
  containers: [{name: c, resources: {requests: {cpu: 500m, memory: 512Mi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-3, labels: {app: web}}
spec:
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        topologyKey: kubernetes.io/hostname
  containers: [{name: c, resources: {requests: {cpu: 500m, memory: 512Mi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: agent}
spec:
  tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [b]}]
  containers: [{name: c, resources: {requests: {cpu: 1500m, memory: 1Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: batch-1}
spec:
  containers: [{name: c, resources: {requests: {cpu: \"2\", memory: 2Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: batch-2}
spec:
  initContainers: [{name: i, resources: {requests: {cpu: \"3\"}}}]
  containers: [{name: c, resources: {requests: {cpu: \"1\", memory: 3Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: batch-3}
spec:
  priority: 100
  containers: [{name: c, resources: {requests: {cpu: 1500m, memory: 1Gi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: tiny}
spec:
  containers: [{name: c}]
---
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers: [{name: c, resources: {requests: {cpu: \"6\", memory: 4Gi}}}]
";

const SEED: u64 = 7;

/// Pods bound (pod -> node), and the pods left pending with their first FailedScheduling
/// message.
type Decisions = (BTreeMap<String, String>, BTreeMap<String, String>);

/// The simulator's first binding of every pod, and the pods it never bound.
fn simulated(scheduler: &str) -> Decisions {
    let dir = std::env::temp_dir().join(format!(
        "schedlab-same-decisions-{}-{scheduler}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("objects.yaml"), OBJECTS).unwrap();
    let path: PathBuf = dir.join("s.yaml");
    std::fs::write(&path, "duration: 1m\nmanifests: [objects.yaml]\n").unwrap();
    let registry = Registry::builtin();
    let scenario = load_scenario(&path, &|spec, profiles| registry.check(spec, profiles)).unwrap();
    let mut sim = Simulation::new(&scenario, registry.create(scheduler).unwrap(), SEED);
    sim.enable_trace();
    let run = sim.run();
    let _ = std::fs::remove_dir_all(&dir);
    let mut bound = BTreeMap::new();
    let mut failed = BTreeMap::new();
    for t in &run.trace {
        match &t.event {
            TraceEvent::Bound { node } => {
                bound.entry(t.pod.clone()).or_insert_with(|| node.clone());
            }
            TraceEvent::Unschedulable { reason } => {
                failed
                    .entry(t.pod.clone())
                    .or_insert_with(|| reason.clone());
            }
            _ => {}
        }
    }
    failed.retain(|p, _| !bound.contains_key(p));
    (bound, failed)
}

/// The control plane's decisions for the same objects, created one second apart in file
/// order, after one cycle.
fn controlled(scheduler: &str) -> Decisions {
    let spec = SchedulerSpec::parse(scheduler).unwrap();
    let rng = stream(SEED, Concern::TieBreak, 0);
    let mut l = SchedulingLoop::new(&Registry::builtin(), &spec, &[], rng).unwrap();
    let docs: Vec<Value> = OBJECTS
        .split("---\n")
        .enumerate()
        .map(|(i, text)| {
            let kind = if text.contains("kind: Node") {
                "Node"
            } else {
                "Pod"
            };
            let mut v = validate(kind, text, &format!("document {i}")).unwrap();
            if kind == "Pod" {
                let name = v["metadata"]["name"].clone();
                v["metadata"]["uid"] = name;
                v["metadata"]["creationTimestamp"] = json!(format!("2026-01-01T00:00:{i:02}Z"));
            }
            v
        })
        .collect();
    for v in &docs {
        if v["kind"] == "Node" {
            l.upsert_node(v).unwrap();
        } else {
            l.upsert_pod(v).unwrap();
        }
    }
    let mut bound = BTreeMap::new();
    let mut pending = BTreeMap::new();
    for o in l.schedule(0) {
        match o {
            Outcome::Bound { uid, node } => {
                bound.insert(uid, node);
            }
            Outcome::Unschedulable { uid, message } => {
                pending.insert(uid, message);
            }
            Outcome::Preempt { uid, .. } => panic!("{uid} preempted"),
        }
    }
    l.cluster().check_invariants().unwrap();
    (bound, pending)
}

fn same_decisions(scheduler: &str) -> BTreeMap<String, String> {
    let (sim_bound, sim_pending) = simulated(scheduler);
    let (cp_bound, cp_pending) = controlled(scheduler);
    assert_eq!(cp_bound, sim_bound, "{scheduler}: bindings");
    assert_eq!(
        cp_pending, sim_pending,
        "{scheduler}: pending pods and their messages"
    );
    // `huge` (6 CPUs) fits no node once the others are placed, on both sides.
    assert_eq!(cp_pending.keys().collect::<Vec<_>>(), ["huge"]);
    cp_bound
}

fn placements(bound: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    bound
        .iter()
        .map(|(p, n)| (p.as_str(), n.as_str()))
        .collect()
}

// The placements are pinned too, so that a change moving both sides alike is noticed.
// batch-3 (priority 100, created late) is decided first on both sides, by the queue's
// order, and takes the emptiest node where least-allocated scores decide.
// first-fit and least-allocated check resources, selectors, affinity to nodes and taints
// but not inter-pod anti-affinity (only the framework's InterPodAffinity does), so they
// may put two `web` pods on one node; kube-default spreads them over three nodes.

#[test]
fn first_fit_decides_alike() {
    let bound = same_decisions("first-fit");
    assert_eq!(
        placements(&bound),
        [
            ("agent", "mid"),
            ("batch-1", "big"),
            ("batch-2", "mid2"),
            ("batch-3", "big"),
            ("db", "big"),
            ("tiny", "big"),
            ("web-1", "big"),
            ("web-2", "big"),
            ("web-3", "big"),
        ]
    );
}

#[test]
fn least_allocated_decides_alike() {
    let bound = same_decisions("least-allocated");
    assert_eq!(
        placements(&bound),
        [
            ("agent", "mid"),
            ("batch-1", "mid2"),
            ("batch-2", "big"),
            ("batch-3", "big"),
            ("db", "big"),
            ("tiny", "mid"),
            ("web-1", "mid"),
            ("web-2", "mid2"),
            ("web-3", "mid2"),
        ]
    );
}

#[test]
fn kube_default_decides_alike() {
    let bound = same_decisions("kube-default");
    assert_eq!(
        placements(&bound),
        [
            ("agent", "mid"),
            ("batch-1", "mid2"),
            ("batch-2", "big"),
            ("batch-3", "big"),
            ("db", "big"),
            ("tiny", "mid"),
            ("web-1", "mid"),
            ("web-2", "mid2"),
            ("web-3", "big"),
        ]
    );
}
