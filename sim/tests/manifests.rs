//! `manifests:`: plain Kubernetes YAML read into a scenario. Each test writes its files
//! into a fresh directory and loads a scenario from there, so relative paths resolve as
//! they do for a user.

use std::path::{Path, PathBuf};

use schedulers::Registry;
use sim::{RunResult, Scenario, ScenarioError, Simulation, TraceEvent, load_scenario};

/// A fresh directory holding `files` (name, text).
fn dir_with(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("schedlab-manifests-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

fn try_load(path: &Path) -> Result<Scenario, ScenarioError> {
    let registry = Registry::builtin();
    load_scenario(path, &|spec, profiles| registry.check(spec, profiles))
}

fn load(path: &Path) -> Scenario {
    try_load(path).unwrap_or_else(|e| panic!("{e}"))
}

fn run(scenario: &Scenario, scheduler: &str) -> RunResult {
    let registry = Registry::builtin();
    let mut sim = Simulation::new(scenario, registry.create(scheduler).unwrap(), 1);
    sim.enable_trace();
    sim.run()
}

/// (pod, node) of every binding, in order.
fn bindings(r: &RunResult) -> Vec<(String, String)> {
    r.trace
        .iter()
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => Some((t.pod.clone(), node.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn online_boutique_loads_with_its_counts() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/online-boutique.yaml");
    let s = load(&path);
    let names: Vec<&str> = s
        .workloads
        .iter()
        .map(|w| w.template.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "frontend",
            "adservice",
            "currencyservice",
            "cartservice",
            "redis-cart",
            "loadgenerator",
            "recommendationservice",
            "checkoutservice",
            "emailservice",
            "paymentservice",
            "shippingservice",
            "productcatalogservice"
        ]
    );
    assert_eq!(
        s.manifests_ignored.as_deref(),
        Some("manifests: 12 Services, 11 ServiceAccounts ignored (no effect on scheduling)")
    );
    // Every key of the file is modelled or on the quiet list.
    assert_eq!(s.manifest_warnings, Vec::<String>::new());
    // frontend: one container, 100m and 64Mi.
    let frontend = &s.workloads[0].template;
    assert_eq!(frontend.namespace, "default");
    assert_eq!(frontend.effective_requests().cpu(), 100);
    // loadgenerator: init container frontend-check sets no requests; main 300m.
    assert_eq!(s.workloads[5].template.effective_requests().cpu(), 300);
    // The total the scenario's description states: 1570m.
    let total: i64 = s
        .workloads
        .iter()
        .map(|w| w.template.effective_requests().cpu())
        .sum();
    assert_eq!(total, 1570);
}

const NODES: &str = "\
apiVersion: v1
kind: Node
metadata:
  name: a
  labels: {zone: z1}
status:
  allocatable: {cpu: \"2\", memory: 4Gi, pods: \"10\"}
---
apiVersion: v1
kind: Node
metadata:
  name: b
spec:
  taints: [{key: dedicated, value: db, effect: NoSchedule}]
status:
  allocatable: {cpu: \"2\", memory: 4Gi, pods: \"10\"}
";

/// A Deployment (as a List with a ConfigMap), then a Pod whose init container makes its
/// request 1000m although its app containers add up to 500m.
const APPS: &str = "\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop}
  spec:
    replicas: 2
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        tolerations: [{key: dedicated, operator: Exists}]
        containers:
        - name: server
          image: nginx
          resources: {requests: {cpu: 1500m, memory: 1Gi}}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings}
  data: {a: b}
---
apiVersion: v1
kind: Pod
metadata: {name: solo}
spec:
  tolerations: [{key: dedicated, operator: Exists}]
  initContainers:
  - name: setup
    resources: {requests: {cpu: \"1\"}}
  containers:
  - name: app
    resources: {requests: {cpu: 300m}}
  - name: helper
    resources: {requests: {cpu: 200m}}
---
apiVersion: v1
kind: Pod
metadata: {name: tiny}
spec:
  containers:
  - name: app
    resources: {requests: {cpu: 500m}}
";

#[test]
fn a_tiny_set_is_placed_exactly() {
    let dir = dir_with(
        "tiny",
        &[
            ("nodes.yaml", NODES),
            ("apps.yaml", APPS),
            (
                "s.yaml",
                "duration: 1m\nmanifests: [nodes.yaml, apps.yaml]\n",
            ),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    let nodes: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(nodes, ["a", "b"]);
    assert_eq!(
        s.manifests_ignored.as_deref(),
        Some("manifests: 1 ConfigMap ignored (no effect on scheduling)")
    );
    let names: Vec<(&str, &str)> = s
        .workloads
        .iter()
        .map(|w| (w.template.name.as_str(), w.template.namespace.as_str()))
        .collect();
    assert_eq!(
        names,
        [("web", "shop"), ("solo", "default"), ("tiny", "default")]
    );
    // solo: max(init 1000m, app 300m + 200m) = 1000m.
    assert_eq!(s.workloads[1].template.effective_requests().cpu(), 1000);

    // first-fit, in creation order: web's two 1500m pods take a (2 CPU) and then b (a
    // has 500m left). solo needs 1000m: neither node has it (500m free each), so it
    // stays pending; were its request the app sum (500m) it would fit on a. tiny (500m)
    // fits a; it does not tolerate b's taint, which does not matter here.
    let r = run(&s, "first-fit");
    let bound: Vec<(String, String)> = bindings(&r)
        .into_iter()
        .map(|(p, n)| (p.split('-').next().unwrap().to_owned(), n))
        .collect();
    assert_eq!(
        bound,
        [
            ("web".to_owned(), "a".to_owned()),
            ("web".to_owned(), "b".to_owned()),
            ("tiny".to_owned(), "a".to_owned()),
        ]
    );
}

#[test]
fn a_directory_is_read_in_path_order() {
    let dir = dir_with("dir", &[("s.yaml", "manifests: [m]\n")]);
    std::fs::create_dir_all(dir.join("m")).unwrap();
    std::fs::write(dir.join("m/2-apps.yaml"), APPS).unwrap();
    std::fs::write(dir.join("m/1-nodes.yml"), NODES).unwrap();
    std::fs::write(dir.join("m/notes.txt"), "not yaml: [").unwrap();
    let s = load(&dir.join("s.yaml"));
    assert_eq!(s.nodes.len(), 2);
    assert_eq!(s.workloads.len(), 3);
}

#[test]
fn a_bad_quantity_names_file_line_column_and_field() {
    let apps = APPS.replace("cpu: 1500m", "cpu: 1.5.0");
    let dir = dir_with(
        "quantity",
        &[("apps.yaml", &apps), ("s.yaml", "manifests: [apps.yaml]\n")],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    // Line 17 of APPS: `          resources: {requests: {cpu: 1500m, memory: 1Gi}}`; the
    // value starts after 10 + 11 + 11 + 6 = 38 characters, at column 39.
    assert_eq!(e.path, dir.join("apps.yaml").display().to_string());
    assert_eq!((e.line, e.column), (Some(17), Some(39)), "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("spec.template.spec.containers[0].resources.requests.cpu"),
        "{e}"
    );
}

#[test]
fn an_unknown_field_gets_one_warning_with_file_document_and_line() {
    // `hostNetwork` is not on the quiet list: a pod on the host network does affect
    // scheduling (its ports), which schedlab does not model. Two Pods have it; one
    // warning names the first.
    let text = "\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c, image: x, livenessProbe: {exec: {command: [true]}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: q}
spec:
  hostNetwork: true
  containers: [{name: c}]
---
apiVersion: v1
kind: Pod
metadata: {name: r}
spec:
  hostNetwork: true
  containers: [{name: c}]
";
    let dir = dir_with(
        "unknown",
        &[("p.yaml", text), ("s.yaml", "manifests: [p.yaml]\n")],
    );
    let s = load(&dir.join("s.yaml"));
    let file = dir.join("p.yaml").display().to_string();
    assert_eq!(
        s.manifest_warnings,
        [format!(
            "{file}:11:3: document 2 (Pod q): spec.hostNetwork: not modelled by schedlab, ignored (and in 1 more)"
        )]
    );
    assert_eq!(s.manifests_ignored, None);
}

#[test]
fn a_missing_file_names_the_scenario_line() {
    let dir = dir_with(
        "missing",
        &[("s.yaml", "duration: 1m\nmanifests:\n  - gone.yaml\n")],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(e.path, dir.join("s.yaml").display().to_string());
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(3), Some(5), Some("manifests[0]"))
    );
    assert_eq!(
        e.message,
        format!(
            "no manifest file or directory at {} (the path is relative to the scenario's directory)",
            dir.join("gone.yaml").display()
        )
    );
}

#[test]
fn an_object_without_kind_is_refused() {
    let dir = dir_with(
        "nokind",
        &[
            ("m.yaml", "apiVersion: v1\nmetadata: {name: x}\n"),
            ("s.yaml", "manifests: [m.yaml]\n"),
        ],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!((e.line, e.column), (Some(1), Some(1)), "{e}");
    assert_eq!(
        e.message,
        "document 1: expected a Kubernetes object with `apiVersion` and `kind`"
    );
}

#[test]
fn extra_manifests_follow_the_scenarios_own() {
    // What `schedlab run --manifests` passes: paths as given, not relative to the
    // scenario; their objects come after those of the scenario's `manifests:`.
    let dir = dir_with(
        "extra",
        &[
            ("nodes.yaml", NODES),
            ("apps.yaml", APPS),
            ("s.yaml", "manifests: [nodes.yaml]\n"),
        ],
    );
    let registry = Registry::builtin();
    let options = |manifests: Vec<std::path::PathBuf>| sim::LoadOptions {
        manifests,
        strict: false,
    };
    let s = sim::load_scenario_with(
        &dir.join("s.yaml"),
        &|spec, profiles| registry.check(spec, profiles),
        &options(vec![dir.join("apps.yaml")]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.nodes.len(), 2);
    let names: Vec<&str> = s
        .workloads
        .iter()
        .map(|w| w.template.name.as_str())
        .collect();
    assert_eq!(names, ["web", "solo", "tiny"]);
    // Given twice, the same Deployment is a duplicate workload name.
    let e = sim::load_scenario_with(
        &dir.join("s.yaml"),
        &|spec, profiles| registry.check(spec, profiles),
        &options(vec![dir.join("apps.yaml"), dir.join("apps.yaml")]),
    )
    .unwrap_err();
    // Line 6 of APPS, `  metadata: {name: web, namespace: shop}`: the name after
    // 2 + 10 + 1 + 6 = 19 characters, at column 20.
    assert_eq!((e.line, e.column), (Some(6), Some(20)), "{e}");
    assert_eq!(e.field.as_deref(), Some("metadata.name"));
}

/// A `kubectl get nodes,deployments,replicasets,pods -A -o yaml` dump in miniature: the
/// Deployment `web` (3 replicas) owns the ReplicaSet `web-5d8` (and an old, scaled-down
/// one), which owns three pods: two bound (to n2 and n1, in pod-name order), one not yet.
/// `solo` is a bare pod bound to n1, `orphan` a pod whose ReplicaSet is not in the dump.
const SNAPSHOT: &str = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
- apiVersion: v1
  kind: Node
  metadata: {name: n2}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: shop}
  spec:
    replicas: 3
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: c, resources: {requests: {cpu: '1', memory: 1Gi}}}]
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: web-5d8
    namespace: shop
    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
  spec:
    replicas: 3
    template:
      spec:
        containers: [{name: c, resources: {requests: {cpu: '1', memory: 1Gi}}}]
- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    name: web-4c1
    namespace: shop
    ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, controller: true}]
  spec: {replicas: 0}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8-b
    namespace: shop
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8, controller: true}]
  spec:
    nodeName: n1
    containers: [{name: c, resources: {requests: {cpu: '1', memory: 1Gi}}}]
  status: {phase: Running}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8-a
    namespace: shop
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8, controller: true}]
  spec:
    nodeName: n2
    containers: [{name: c, resources: {requests: {cpu: '1', memory: 1Gi}}}]
  status: {phase: Running}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-5d8-c
    namespace: shop
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d8, controller: true}]
  spec:
    containers: [{name: c, resources: {requests: {cpu: '1', memory: 1Gi}}}]
  status: {phase: Pending}
- apiVersion: v1
  kind: Pod
  metadata: {name: solo, namespace: shop}
  spec:
    nodeName: n1
    containers: [{name: c, resources: {requests: {cpu: '2', memory: 1Gi}}}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: orphan
    namespace: shop
    ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: gone-1, controller: true}]
  spec:
    containers: [{name: c, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
";

#[test]
fn a_cluster_snapshot_starts_with_its_pods_where_they_run() {
    let dir = dir_with(
        "snapshot",
        &[
            ("cluster.yaml", SNAPSHOT),
            ("s.yaml", "startLatency: 0s\nmanifests: [cluster.yaml]\n"),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    // The ReplicaSets and the pods of `web` are the Deployment's; the others stand alone.
    let names: Vec<&str> = s
        .workloads
        .iter()
        .map(|w| w.template.name.as_str())
        .collect();
    assert_eq!(names, ["web", "solo", "orphan"]);
    let adopted: Vec<Option<&str>> = s.workloads[0]
        .adopted
        .iter()
        .map(|t| t.node_name.as_deref())
        .collect();
    assert_eq!(adopted, [Some("n2"), Some("n1")]);
    assert_eq!(
        s.manifests_ignored.as_deref(),
        Some(
            "manifests: 3 Pods, 2 ReplicaSets left to their controllers in the manifests, \
             2 bound pod(s) adopted on their nodes"
        )
    );

    // web-0 and web-1 start on the snapshot's nodes without meeting the scheduler, as
    // does solo; web-2 (the snapshot's pending pod) and orphan wait for the scheduling
    // cycle after every creation at 0: first-fit gives web-2 n1's last free CPU (web-1
    // and solo hold 3 of 4), and orphan (0.5 CPU) n2.
    let r = run(&s, "first-fit");
    let bound = bindings(&r);
    let at_zero: Vec<(&str, &str)> = bound
        .iter()
        .map(|(p, n)| (p.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        at_zero,
        [
            ("web-0", "n2"),
            ("web-1", "n1"),
            ("solo", "n1"),
            ("web-2", "n1"),
            ("orphan", "n2"),
        ]
    );
}

/// A DaemonSet for the nodes of `NODES` (`a` untainted, `b` tainted `dedicated=db`), with
/// a sidecar init container: its pods request 100m (app) + 50m (sidecar) = 150m, more than
/// its 120m regular init container with the sidecar started before it (70m + 50m).
const DAEMONS: &str = "\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      initContainers:
      - name: proxy
        restartPolicy: Always
        resources: {requests: {cpu: 50m}}
      - name: setup
        resources: {requests: {cpu: 70m}}
      containers:
      - name: agent
        resources: {requests: {cpu: 100m, memory: 64Mi}}
";

#[test]
fn a_daemon_set_manifest_runs_one_pod_per_node_it_tolerates() {
    let dir = dir_with(
        "daemons",
        &[
            ("nodes.yaml", NODES),
            ("ds.yaml", DAEMONS),
            ("s.yaml", "duration: 1m\nmanifests: [nodes.yaml, ds.yaml]\n"),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    assert_eq!(s.manifests_ignored, None);
    assert!(s.manifest_warnings.is_empty(), "{:?}", s.manifest_warnings);
    let w = &s.workloads[0];
    assert!(matches!(
        w.kind,
        sim::scenario::WorkloadKind::DaemonSet { .. }
    ));
    assert_eq!(w.template.namespace, "kube-system");
    assert_eq!(w.template.effective_requests().cpu(), 150);
    // b's `dedicated=db:NoSchedule` is not tolerated: one pod, on a.
    assert_eq!(
        bindings(&run(&s, "kube-default")),
        [("agent-0".to_owned(), "a".to_owned())]
    );
    // Tolerating it, both nodes run one.
    let tolerant = DAEMONS.replace(
        "    spec:\n      initContainers:",
        "    spec:\n      tolerations: [{key: dedicated, operator: Exists}]\n      initContainers:",
    );
    let dir = dir_with(
        "daemons-tolerant",
        &[
            ("nodes.yaml", NODES),
            ("ds.yaml", &tolerant),
            ("s.yaml", "duration: 1m\nmanifests: [nodes.yaml, ds.yaml]\n"),
        ],
    );
    assert_eq!(
        bindings(&run(&load(&dir.join("s.yaml")), "kube-default")),
        [
            ("agent-0".to_owned(), "a".to_owned()),
            ("agent-1".to_owned(), "b".to_owned())
        ]
    );
}

#[test]
fn a_bad_daemon_set_field_names_file_line_column_and_field() {
    for (from, to, line, column, field) in [
        (
            "cpu: 70m",
            "cpu: 7x",
            15,
            37,
            "spec.template.spec.initContainers[1].resources.requests.cpu",
        ),
        (
            "restartPolicy: Always",
            "restartPolicy: OnFailure",
            12,
            24,
            "spec.template.spec.initContainers[0].restartPolicy",
        ),
    ] {
        let dir = dir_with(
            "daemons-bad",
            &[
                ("ds.yaml", &DAEMONS.replace(from, to)),
                ("s.yaml", "manifests: [ds.yaml]\n"),
            ],
        );
        let e = try_load(&dir.join("s.yaml")).unwrap_err();
        assert_eq!(e.path, dir.join("ds.yaml").display().to_string());
        assert_eq!((e.line, e.column), (Some(line), Some(column)), "{e}");
        assert_eq!(e.field.as_deref(), Some(field), "{e}");
    }
}

/// Two nodes in zones a and b; the scenario around `m.yaml`.
const ZONES: &str = "\
duration: 10m
manifests: [m.yaml]
cluster:
  nodes:
    - {name: a1, labels: {topology.kubernetes.io/zone: a}, allocatable: {cpu: \"8\", memory: 16Gi}}
    - {name: b1, labels: {topology.kubernetes.io/zone: b}, allocatable: {cpu: \"4\", memory: 8Gi}}
";

/// A WaitForFirstConsumer class, a local volume in zone b, a claim of the class and a pod
/// that mounts it.
const ZONAL_STORAGE: &str = "\
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: zonal}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-b}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: zonal
  local: {path: /mnt/disks/1}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - {key: topology.kubernetes.io/zone, operator: In, values: [b]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: zonal
  resources: {requests: {storage: 5Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  containers: [{name: c, image: postgres, resources: {requests: {cpu: 100m}}}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
";

#[test]
fn a_wait_for_first_consumer_claim_takes_its_pod_to_the_volumes_zone() {
    let dir = dir_with("wffc", &[("s.yaml", ZONES), ("m.yaml", ZONAL_STORAGE)]);
    let s = load(&dir.join("s.yaml"));
    assert_eq!(s.manifests_ignored, None, "every kind is modelled");
    assert_eq!(s.manifest_warnings, Vec::<String>::new());
    let claim = s.volumes.claim("default", "data").unwrap();
    assert_eq!(claim.bound_volume, None, "bound when its pod is scheduled");
    // kube-default's scores prefer a1, the emptier node, unless the volume rules it out.
    let r = run(&s, "kube-default");
    assert_eq!(bindings(&r), [("db".to_owned(), "b1".to_owned())]);
}

#[test]
fn a_claim_ref_binds_its_volume_and_a_claim_of_an_unknown_class_is_refused() {
    let prebound = ZONAL_STORAGE.replace(
        "  local: {path: /mnt/disks/1}\n",
        "  claimRef: {name: data, namespace: default}\n",
    );
    let dir = dir_with("claimref", &[("s.yaml", ZONES), ("m.yaml", &prebound)]);
    let s = load(&dir.join("s.yaml"));
    let claim = s.volumes.claim("default", "data").unwrap();
    assert_eq!(claim.bound_volume.as_deref(), Some("pv-b"));

    let unknown = ZONAL_STORAGE.replace(
        "  storageClassName: zonal\n  resources",
        "  storageClassName: fast\n  resources",
    );
    let dir = dir_with("unknown-class", &[("s.yaml", ZONES), ("m.yaml", &unknown)]);
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    let line = unknown[..unknown.find("fast").unwrap()]
        .matches('\n')
        .count() as u64
        + 1;
    assert!(e.path.ends_with("m.yaml"), "{e}");
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(line), Some(21), Some("spec.storageClassName")),
        "{e}"
    );
    assert!(
        e.message.starts_with("unknown storage class \"fast\""),
        "{e}"
    );
}

/// A Deployment of one 500m pod and its HPA (50% CPU, 1 to 5 replicas), with an
/// External metric the model lacks.
const HPA: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx, resources: {requests: {cpu: 500m}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
    - type: External
      external:
        metric: {name: queue_messages}
        target: {type: AverageValue, averageValue: \"30\"}
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 50}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 3
";

#[test]
fn an_hpa_manifest_scales_its_deployment_on_the_scenarios_load() {
    // 100 requests/s at 10m of CPU each: 1000m in all, 4 pods at 250m (50%) each.
    let scenario = "\
duration: 5m
manifests: [m.yaml]
cluster:
  nodes: [{name: n, allocatable: {cpu: \"8\", memory: 16Gi}}]
manifestDynamics:
  - deployment: web
    service: {load: {constant: 100}, cpuPerRequest: 10m}
";
    let dir = dir_with("hpa", &[("s.yaml", scenario), ("m.yaml", HPA)]);
    let s = load(&dir.join("s.yaml"));
    let m = dir.join("m.yaml").display().to_string();
    let external = HPA[..HPA.find("External").unwrap()].matches('\n').count() + 1;
    let api = HPA[..HPA.find("name: api").unwrap()].matches('\n').count() + 1;
    assert_eq!(
        s.manifest_warnings,
        [
            format!(
                "{m}:{external}:13: document 2 (HorizontalPodAutoscaler web): spec.metrics[0].type: metric type \"External\" is not modelled by schedlab (only Resource cpu and memory, and Pods requests_per_second), ignored"
            ),
            format!(
                "{m}:{api}:65: document 3 (HorizontalPodAutoscaler ghost): spec.scaleTargetRef.name: the manifests have no Deployment \"api\" in namespace \"default\", ignored"
            ),
        ]
    );
    let hpa = s.workloads[0]
        .dynamics
        .as_ref()
        .unwrap()
        .hpa
        .as_ref()
        .unwrap();
    assert_eq!((hpa.min, hpa.max), (1, 5));
    let r = run(&s, "first-fit");
    let scaled: Vec<(u64, String)> = r
        .trace
        .iter()
        .filter(|t| matches!(t.event, TraceEvent::HpaScaled { .. }))
        .map(|t| (t.time.as_micros() / 1_000_000, format!("{:?}", t.event)))
        .collect();
    assert_eq!(scaled.len(), 1, "{scaled:?}");
    assert!(scaled[0].1.contains("replicas 1 -> 4"), "{scaled:?}");
    let web_pods = bindings(&r)
        .iter()
        .filter(|(p, _)| p.starts_with("web-"))
        .count();
    assert_eq!(web_pods, 4);
}

/// A CronJob every ten minutes whose pods run `run` each.
fn cron(policy: &str, deadline: &str) -> String {
    format!(
        "\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: report}}
spec:
  schedule: \"*/10 * * * *\"
  concurrencyPolicy: {policy}
{deadline}  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: c, image: busybox, resources: {{requests: {{cpu: 100m}}}}}}]
"
    )
}

/// (time in seconds, Job name) of every Job a CronJob created.
fn jobs_created(scenario: &str, manifest: &str, test: &str) -> Vec<(u64, String)> {
    let dir = dir_with(test, &[("s.yaml", scenario), ("m.yaml", manifest)]);
    let s = load(&dir.join("s.yaml"));
    assert_eq!(s.manifest_warnings, Vec::<String>::new());
    run(&s, "first-fit")
        .trace
        .iter()
        .filter(|t| matches!(t.event, TraceEvent::JobCreated))
        .map(|t| (t.time.as_micros() / 1_000_000, t.pod.clone()))
        .collect()
}

fn cron_scenario(pod_run: &str) -> String {
    format!(
        "\
duration: 35m
manifests: [m.yaml]
cluster:
  nodes: [{{name: n, allocatable: {{cpu: \"4\", memory: 8Gi}}}}]
manifestDynamics:
  - {{cronJob: report, duration: {pod_run}}}
"
    )
}

#[test]
fn a_cron_job_creates_a_job_at_each_scheduled_time() {
    let created = jobs_created(&cron_scenario("1m"), &cron("Allow", ""), "cron-allow");
    // Time 0 is Monday 1970-01-05 00:00 UTC, 5760 minutes after the Unix epoch.
    assert_eq!(
        created,
        [
            (0, "report-5760".to_owned()),
            (600, "report-5770".to_owned()),
            (1200, "report-5780".to_owned()),
            (1800, "report-5790".to_owned()),
        ]
    );
}

#[test]
fn forbid_holds_a_run_back_while_the_previous_job_is_active() {
    // Each Job runs 15 minutes: the run at 10 is missed, and 5 minutes late when the
    // first Job finishes, past a 60 s starting deadline.
    let created = jobs_created(
        &cron_scenario("15m"),
        &cron("Forbid", "  startingDeadlineSeconds: 60\n"),
        "cron-forbid-deadline",
    );
    assert_eq!(
        created,
        [
            (0, "report-5760".to_owned()),
            (1200, "report-5780".to_owned())
        ]
    );
    // Without a deadline the missed run starts late, as soon as the active Job is done.
    let late = jobs_created(&cron_scenario("15m"), &cron("Forbid", ""), "cron-forbid");
    let names: Vec<&str> = late.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        ["report-5760", "report-5770", "report-5790"],
        "{late:?}"
    );
    assert!(late[1].0 > 900 && late[1].0 < 960, "{late:?}");
}

#[test]
fn replace_deletes_the_active_job() {
    let created = jobs_created(&cron_scenario("15m"), &cron("Replace", ""), "cron-replace");
    assert_eq!(created.len(), 4, "{created:?}");
}

#[test]
fn a_bad_schedule_names_file_line_and_field_and_an_hpa_without_load_is_warned_about() {
    let bad = cron("Allow", "").replace("*/10 * * * *", "*/10 * * *");
    let dir = dir_with(
        "cron-bad",
        &[("s.yaml", &cron_scenario("1m")), ("m.yaml", &bad)],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert!(e.path.ends_with("m.yaml"), "{e}");
    assert_eq!(
        (e.line, e.column, e.field.as_deref(), e.message.as_str()),
        (
            Some(5),
            Some(13),
            Some("spec.schedule"),
            "invalid schedule \"*/10 * * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 4"
        ),
        "{e}"
    );

    let scenario = "\
manifests: [m.yaml]
cluster:
  nodes: [{name: n, allocatable: {cpu: \"8\", memory: 16Gi}}]
";
    let dir = dir_with("hpa-no-load", &[("s.yaml", scenario), ("m.yaml", HPA)]);
    let s = load(&dir.join("s.yaml"));
    assert_eq!(s.manifest_warnings.len(), 3, "{:?}", s.manifest_warnings);
    assert!(
        s.manifest_warnings[1].contains("Deployment \"web\" has no load or usage"),
        "{:?}",
        s.manifest_warnings
    );
}

/// A PriorityClass manifest gives the pods that name it its value; a second file that
/// defines the same class again is refused at its name.
#[test]
fn a_priority_class_manifest_sets_its_pods_priority_and_a_duplicate_is_refused() {
    let class = |value: &str| {
        format!(
            "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: {value}\n"
        )
    };
    let app = "\
apiVersion: v1
kind: Pod
metadata: {name: urgent}
spec:
  priorityClassName: high
  containers:
  - name: app
    resources: {requests: {cpu: 100m}}
";
    let dir = dir_with(
        "priority",
        &[
            ("classes.yaml", &class("1000")),
            ("again.yaml", &class("5")),
            ("app.yaml", app),
            ("s.yaml", "manifests: [classes.yaml, app.yaml]\n"),
            ("twice.yaml", "manifests: [classes.yaml, again.yaml]\n"),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    assert_eq!(s.workloads[0].template.priority, 1000);
    let e = try_load(&dir.join("twice.yaml")).unwrap_err();
    assert_eq!(e.path, dir.join("again.yaml").display().to_string());
    // `  name: high`: the name starts at line 4, column 9.
    assert_eq!((e.line, e.column), (Some(4), Some(9)), "{e}");
    assert_eq!(e.field.as_deref(), Some("metadata.name"), "{e}");
    assert!(
        e.to_string().contains("duplicate PriorityClass \"high\""),
        "{e}"
    );
}

/// A `job:` entry of `manifestDynamics:` gives a manifest Job's pods their run time; one
/// naming no Job of the manifests is refused at its name.
#[test]
fn manifest_dynamics_give_a_job_its_duration_and_refuse_a_missing_one() {
    let job = "\
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  template:
    spec:
      containers:
      - name: work
        resources: {requests: {cpu: 100m}}
";
    let scenario = |name: &str| {
        format!("manifests: [m.yaml]\nmanifestDynamics:\n  - {{job: {name}, duration: 30s}}\n")
    };
    let dir = dir_with(
        "job-dynamics",
        &[
            ("m.yaml", job),
            ("s.yaml", &scenario("batch")),
            ("ghost.yaml", &scenario("ghost")),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    assert_eq!(
        s.workloads[0].duration,
        Some(sim::scenario::Dist::Constant(
            sim::time::SimTime::from_secs(30)
        ))
    );
    let e = try_load(&dir.join("ghost.yaml")).unwrap_err();
    // `  - {job: ghost, ...}`: the name at line 3, column 11.
    assert_eq!((e.line, e.column), (Some(3), Some(11)), "{e}");
    assert_eq!(e.field.as_deref(), Some("manifestDynamics[0].job"), "{e}");
    assert!(
        e.to_string()
            .contains("the manifests have no Job \"ghost\" in namespace \"default\""),
        "{e}"
    );
}

/// (time in seconds, pod, node) of every binding.
fn timed_bindings(r: &RunResult) -> Vec<(u64, String, String)> {
    r.trace
        .iter()
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => {
                Some((t.time.as_micros() / 1_000_000, t.pod.clone(), node.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Pods created in a run.
fn created(r: &RunResult) -> usize {
    r.trace
        .iter()
        .filter(|t| matches!(t.event, TraceEvent::Created))
        .count()
}

/// Three nodes of 4 CPUs.
const THREE_NODES: &str = "\
- apiVersion: v1
  kind: Node
  metadata: {name: n1}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
- apiVersion: v1
  kind: Node
  metadata: {name: n2}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
- apiVersion: v1
  kind: Node
  metadata: {name: n3}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
";

/// A snapshot of the StatefulSet `web` (4 replicas, a `data` claim per ordinal): web-0
/// runs on n2 and web-2 on n3, their claims bound to local volumes there; web-1 and
/// web-3 are missing, and `web-7` (beyond the replicas) is left to the controller.
fn stateful_snapshot(policy: &str) -> String {
    format!(
        "apiVersion: v1
kind: List
items:
{THREE_NODES}- apiVersion: storage.k8s.io/v1
  kind: StorageClass
  metadata:
    name: local
    annotations: {{storageclass.kubernetes.io/is-default-class: 'true'}}
  provisioner: local.csi
  volumeBindingMode: WaitForFirstConsumer
- apiVersion: v1
  kind: PersistentVolume
  metadata: {{name: pv-a}}
  spec:
    capacity: {{storage: 1Gi}}
    storageClassName: local
    nodeAffinity:
      required:
        nodeSelectorTerms: [{{matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [n2]}}]}}]
- apiVersion: v1
  kind: PersistentVolume
  metadata: {{name: pv-b}}
  spec:
    capacity: {{storage: 1Gi}}
    storageClassName: local
    nodeAffinity:
      required:
        nodeSelectorTerms: [{{matchExpressions: [{{key: kubernetes.io/hostname, operator: In, values: [n3]}}]}}]
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {{name: data-web-0}}
  spec:
    resources: {{requests: {{storage: 1Gi}}}}
    volumeName: pv-a
- apiVersion: v1
  kind: PersistentVolumeClaim
  metadata: {{name: data-web-2}}
  spec:
    storageClassName: local
    resources: {{requests: {{storage: 1Gi}}}}
    volumeName: pv-b
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {{name: web}}
  spec:
    replicas: 4
    podManagementPolicy: {policy}
    serviceName: web
    selector: {{matchLabels: {{app: web}}}}
    template:
      metadata: {{labels: {{app: web}}}}
      spec:
        containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
    volumeClaimTemplates:
    - metadata: {{name: data}}
      spec: {{resources: {{requests: {{storage: 1Gi}}}}}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-2
    ownerReferences: [{{apiVersion: apps/v1, kind: StatefulSet, name: web, controller: true}}]
  spec:
    nodeName: n3
    containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
    volumes: [{{name: data, persistentVolumeClaim: {{claimName: data-web-2}}}}]
  status: {{phase: Running}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-0
    ownerReferences: [{{apiVersion: apps/v1, kind: StatefulSet, name: web, controller: true}}]
  spec:
    nodeName: n2
    containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
    volumes: [{{name: data, persistentVolumeClaim: {{claimName: data-web-0}}}}]
  status: {{phase: Running}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-7
    ownerReferences: [{{apiVersion: apps/v1, kind: StatefulSet, name: web, controller: true}}]
  spec:
    nodeName: n1
    containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
  status: {{phase: Running}}
"
    )
}

#[test]
fn a_snapshots_stateful_set_keeps_its_ordinals_on_their_nodes_with_their_claims() {
    let dir = dir_with(
        "sts-adopt",
        &[
            ("cluster.yaml", &stateful_snapshot("OrderedReady")),
            (
                "s.yaml",
                "startLatency: 0s\nmanifests: [cluster.yaml]\nschedulers: [kube-default]\n",
            ),
            ("p.yaml", &stateful_snapshot("Parallel")),
            (
                "p-s.yaml",
                "startLatency: 0s\nmanifests: [p.yaml]\nschedulers: [kube-default]\n",
            ),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    let names: Vec<&str> = s
        .workloads
        .iter()
        .map(|w| w.template.name.as_str())
        .collect();
    assert_eq!(names, ["web"]);
    let adopted: Vec<Option<&str>> = s.workloads[0]
        .adopted
        .iter()
        .map(|t| t.node_name.as_deref())
        .collect();
    assert_eq!(adopted, [Some("n2"), Some("n3")]);
    assert_eq!(s.workloads[0].adopted_ordinals, [0, 2]);
    assert_eq!(
        s.manifests_ignored.as_deref(),
        Some(
            "manifests: 3 Pods left to their controllers in the manifests, 2 bound pod(s) adopted on their nodes"
        )
    );
    // The snapshot's claims are the ordinals' (bound to their volumes); the missing
    // ordinals' claims are made with the default class (`local`), as is data-web-0,
    // which names none.
    let claims: Vec<(&str, &str, Option<&str>)> = s
        .volumes
        .claims()
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.storage_class.as_str(),
                c.bound_volume.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        claims,
        [
            ("data-web-0", "local", Some("pv-a")),
            ("data-web-2", "local", Some("pv-b")),
            ("data-web-1", "local", None),
            ("data-web-3", "local", None),
        ]
    );

    // web-0 and web-2 start at 0 on their nodes through the kubelet; OrderedReady then
    // creates web-1, and web-3 once web-1 runs: only those two meet the scheduler.
    let r = run(&s, "kube-default");
    let bound = timed_bindings(&r);
    assert_eq!(
        bound[..2],
        [
            (0, "web-0".to_owned(), "n2".to_owned()),
            (0, "web-2".to_owned(), "n3".to_owned()),
        ]
    );
    let later: Vec<&str> = bound[2..].iter().map(|(_, p, _)| p.as_str()).collect();
    assert_eq!(later, ["web-1", "web-3"], "{bound:?}");
    assert_eq!(r.summary.count(&sim::columns::SCHEDULING_ATTEMPTS), 2);
    assert_eq!(created(&r), 4);
    let pods = |r: &RunResult, at: &str| -> Vec<String> {
        r.trace
            .iter()
            .filter(|t| matches!(&t.event, TraceEvent::Bound { node } if node == at))
            .map(|t| t.pod.clone())
            .collect()
    };
    assert_eq!(pods(&r, "n2"), ["web-0"]);

    // Parallel: the same two adopted first, then web-1 and web-3 at once.
    let p = load(&dir.join("p-s.yaml"));
    let r = run(&p, "kube-default");
    let bound = timed_bindings(&r);
    let names: Vec<(u64, &str)> = bound.iter().map(|(t, p, _)| (*t, p.as_str())).collect();
    assert_eq!(
        names,
        [(0, "web-0"), (0, "web-2"), (0, "web-1"), (0, "web-3")],
        "{bound:?}"
    );
    assert_eq!(r.summary.count(&sim::columns::SCHEDULING_ATTEMPTS), 2);
}

/// A snapshot's Job `batch` (4 completions, 2 at a time): `status` as given, two pods
/// running on n2 and n1, one Succeeded on n3.
fn job_snapshot(status: &str) -> String {
    format!(
        "apiVersion: v1
kind: List
items:
{THREE_NODES}- apiVersion: batch/v1
  kind: Job
  metadata: {{name: batch}}
  spec:
    completions: 4
    parallelism: 2
    template:
      spec:
        restartPolicy: Never
        containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
  status: {status}
- apiVersion: v1
  kind: Pod
  metadata:
    name: batch-x7k2p
    ownerReferences: [{{apiVersion: batch/v1, kind: Job, name: batch, controller: true}}]
  spec:
    nodeName: n2
    containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
  status: {{phase: Running}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: batch-a1b2c
    ownerReferences: [{{apiVersion: batch/v1, kind: Job, name: batch, controller: true}}]
  spec:
    nodeName: n3
    containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
  status: {{phase: Succeeded}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: batch-q9w8e
    ownerReferences: [{{apiVersion: batch/v1, kind: Job, name: batch, controller: true}}]
  spec:
    nodeName: n1
    containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
  status: {{phase: Running}}
"
    )
}

#[test]
fn a_snapshots_job_keeps_its_running_pods_and_creates_only_what_it_still_needs() {
    let scenario = "startLatency: 0s\nmanifests: [m.yaml]\nmanifestDynamics:\n  - {job: batch, duration: 1m}\n";
    let run_job = |status: &str, test: &str| {
        let dir = dir_with(
            test,
            &[("s.yaml", scenario), ("m.yaml", &job_snapshot(status))],
        );
        let s = load(&dir.join("s.yaml"));
        let adopted: Vec<Option<&str>> = s.workloads[0]
            .adopted
            .iter()
            .map(|t| t.node_name.as_deref())
            .collect();
        // Pod-name order; the Succeeded pod holds no node.
        assert_eq!(adopted, [Some("n1"), Some("n2")]);
        run(&s, "first-fit")
    };
    // Two of four completions done and two running: nothing more to create; the Job
    // completes when its two pods finish, a minute in.
    let r = run_job("{succeeded: 2, active: 2}", "job-adopt-2");
    assert_eq!(
        timed_bindings(&r),
        [
            (0, "batch-0".to_owned(), "n1".to_owned()),
            (0, "batch-1".to_owned(), "n2".to_owned()),
        ]
    );
    assert_eq!(r.summary.count(&sim::columns::SCHEDULING_ATTEMPTS), 0);
    assert_eq!(created(&r), 2);
    let completed: Vec<u64> = r
        .trace
        .iter()
        .filter(|t| matches!(t.event, TraceEvent::JobCompleted))
        .map(|t| t.time.as_micros() / 1_000_000)
        .collect();
    assert_eq!(completed, [60]);
    // Without `status.succeeded`, the Succeeded pod counts: 3 of 4 are done once the
    // two running pods finish, and one more pod is created and scheduled then.
    let r = run_job("{active: 2}", "job-adopt-pods");
    let bound = timed_bindings(&r);
    assert_eq!(bound.len(), 3, "{bound:?}");
    assert_eq!(bound[2].0, 60);
    assert_eq!(bound[2].1, "batch-2");
    assert_eq!(r.summary.count(&sim::columns::SCHEDULING_ATTEMPTS), 1);
    assert_eq!(created(&r), 3);
}

#[test]
fn a_snapshots_job_owned_by_a_cron_job_is_its_active_job() {
    let job = "\
---
apiVersion: batch/v1
kind: Job
metadata:
  name: report-5750
  ownerReferences: [{apiVersion: batch/v1, kind: CronJob, name: report, controller: true}]
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox, resources: {requests: {cpu: 100m}}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: report-5750-zz9
  ownerReferences: [{apiVersion: batch/v1, kind: Job, name: report-5750, controller: true}]
spec:
  nodeName: n
  containers: [{name: c, image: busybox, resources: {requests: {cpu: 100m}}}]
status: {phase: Running}
";
    // Forbid: the adopted Job is active from the start (its pod runs 15 minutes), so the
    // run at 0 is held back and the one at 10 runs late, when it finishes.
    let manifest = format!("{}{job}", cron("Forbid", ""));
    let created = jobs_created(&cron_scenario("15m"), &manifest, "cron-adopt-forbid");
    let names: Vec<&str> = created.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["report-5770", "report-5790"], "{created:?}");
    assert!(created[0].0 >= 900 && created[0].0 < 960, "{created:?}");
    // Replace: the run at 0 deletes the adopted Job and its pod.
    let dir = dir_with(
        "cron-adopt-replace",
        &[
            ("s.yaml", &cron_scenario("15m")),
            ("m.yaml", &format!("{}{job}", cron("Replace", ""))),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    assert_eq!(
        s.manifests_ignored.as_deref(),
        Some(
            "manifests: 1 Pod left to their controllers in the manifests, 1 bound pod(s) adopted on their nodes; 1 Job adopted by their CronJobs"
        )
    );
    assert_eq!(s.cron_jobs[0].adopted.len(), 1);
    let r = run(&s, "first-fit");
    let adopted_pod: Vec<(u64, &TraceEvent)> = r
        .trace
        .iter()
        .filter(|t| t.pod == "report-5750-0")
        .map(|t| (t.time.as_micros() / 1_000_000, &t.event))
        .collect();
    assert!(
        matches!(
            adopted_pod[..],
            [(0, TraceEvent::Created), (0, TraceEvent::Bound { .. }), ..]
        ),
        "{adopted_pod:?}"
    );
    // It was deleted at 0 by the run that replaced it, long before its 15 minutes.
    assert!(
        !adopted_pod
            .iter()
            .any(|(_, e)| matches!(e, TraceEvent::Finished)),
        "{adopted_pod:?}"
    );
}

/// A `kind: List` of `n` bare pods, seven lines each after a three-line header: item `i`
/// starts at line `4 + 7 * i`; `edit(i, item)` may change an item's text (same lines).
fn pod_list(n: usize, edit: &dyn Fn(usize, String) -> String) -> String {
    let mut out = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..n {
        let item = format!(
            "- apiVersion: v1\n  kind: Pod\n  metadata: {{name: p-{i}, namespace: default}}\n  spec:\n    containers:\n    - name: c\n      resources: {{requests: {{cpu: 100m}}}}\n"
        );
        out.push_str(&edit(i, item));
    }
    out
}

#[test]
fn an_error_deep_in_a_big_list_names_its_line_and_column() {
    // A value the builder refuses (its position comes from the parsed object), in the
    // 1,501st of 2,000 pods: its line is 4 + 7 * 1500 + 6.
    let bad_value = pod_list(2_000, &|i, item| {
        if i == 1_500 {
            item.replace("cpu: 100m", "cpu: 7x")
        } else {
            item
        }
    });
    // A value serde refuses (its position comes from the parse error), in the 1,701st.
    let bad_shape = pod_list(2_000, &|i, item| {
        if i == 1_700 {
            item.replace("    - name: c\n", "    - name: [c]\n")
        } else {
            item
        }
    });
    // A key schedlab does not model, in the 1,901st: a warning at its line.
    let unknown_key = pod_list(2_000, &|i, item| {
        if i == 1_900 {
            item.replace("  spec:\n", "  spec:\n    hostNetwork: true\n")
        } else {
            item
        }
    });
    let dir = dir_with(
        "big-list",
        &[
            ("bad-value.yaml", &bad_value),
            ("bad-shape.yaml", &bad_shape),
            ("unknown-key.yaml", &unknown_key),
            ("v.yaml", "manifests: [bad-value.yaml]\n"),
            ("s.yaml", "manifests: [bad-shape.yaml]\n"),
            ("k.yaml", "manifests: [unknown-key.yaml]\n"),
        ],
    );
    let e = try_load(&dir.join("v.yaml")).unwrap_err();
    assert_eq!(e.path, dir.join("bad-value.yaml").display().to_string());
    assert_eq!((e.line, e.column), (Some(10_510), Some(35)), "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("spec.containers[0].resources.requests.cpu"),
        "{e}"
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(e.path, dir.join("bad-shape.yaml").display().to_string());
    assert_eq!(
        (e.line, e.column),
        (Some(4 + 7 * 1_700 + 5), Some(13)),
        "{e}"
    );
    assert_eq!(e.field.as_deref(), Some("spec.containers[0].name"), "{e}");
    let s = load(&dir.join("k.yaml"));
    assert_eq!(
        s.manifest_warnings,
        [format!(
            "{}:{}:5: document 1, items[1900] (Pod p-1900): spec.hostNetwork: not modelled by schedlab, ignored",
            dir.join("unknown-key.yaml").display(),
            4 + 7 * 1_900 + 4
        )]
    );
    assert_eq!(s.workloads.len(), 2_000);
}

/// Three nodes (`a` and `b` workers, `c` not), a DaemonSet for the workers, and its pods
/// of a snapshot: on `a` (Running), a second one on `a`, on `c`; `b` has none.
const DAEMON_SNAPSHOT: &str = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: a, labels: {role: worker}}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
- apiVersion: v1
  kind: Node
  metadata: {name: b, labels: {role: worker}}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
- apiVersion: v1
  kind: Node
  metadata: {name: c}
  status: {allocatable: {cpu: '4', memory: 8Gi}}
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: agent, namespace: kube-system}
  spec:
    selector: {matchLabels: {app: agent}}
    template:
      metadata: {labels: {app: agent}}
      spec:
        nodeSelector: {role: worker}
        containers: [{name: agent, resources: {requests: {cpu: 500m, memory: 64Mi}}}]
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-x7k2p
    namespace: kube-system
    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, controller: true}]
  spec:
    nodeName: a
    containers: [{name: agent, resources: {requests: {cpu: 500m, memory: 64Mi}}}]
  status: {phase: Running}
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-zz9q1
    namespace: kube-system
    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, controller: true}]
  spec:
    nodeName: a
    containers: [{name: agent, resources: {requests: {cpu: 500m, memory: 64Mi}}}]
  status: {phase: Running}
- apiVersion: v1
  kind: Pod
  metadata:
    name: agent-c0c0c
    namespace: kube-system
    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: agent, controller: true}]
  spec:
    nodeName: c
    containers: [{name: agent, resources: {requests: {cpu: 500m, memory: 64Mi}}}]
  status: {phase: Running}
";

#[test]
fn a_snapshots_daemon_set_keeps_its_pods_on_their_nodes() {
    let dir = dir_with(
        "daemon-adopt",
        &[
            ("m.yaml", DAEMON_SNAPSHOT),
            (
                "s.yaml",
                "startLatency: 0s\nduration: 1m\nmanifests: [m.yaml]\n",
            ),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    let adopted: Vec<Option<&str>> = s.workloads[0]
        .adopted
        .iter()
        .map(|t| t.node_name.as_deref())
        .collect();
    // The second pod on `a` and the one on `c` (not a worker) are left out.
    assert_eq!(adopted, [Some("a")]);
    assert_eq!(
        s.manifests_ignored.as_deref(),
        Some(
            "manifests: 3 Pods left to their controllers in the manifests, 1 bound pod(s) adopted on their nodes"
        )
    );
    assert_eq!(
        s.manifest_warnings,
        [
            "manifests: 2 DaemonSet pod(s) bound to nodes their DaemonSet would not run them on \
          (node selector, affinity, an untolerated NoExecute taint, or no such node) left out; \
          the DaemonSet's controller does not recreate them there"
        ]
    );
    let r = run(&s, "first-fit");
    // `a`'s pod is there at 0 without the scheduler; `b` gets a new one, scheduled.
    assert_eq!(
        timed_bindings(&r),
        [
            (0, "agent-0".to_owned(), "a".to_owned()),
            (0, "agent-1".to_owned(), "b".to_owned()),
        ]
    );
    assert_eq!(r.summary.count(&sim::columns::SCHEDULING_ATTEMPTS), 1);
    assert_eq!(created(&r), 2);
}

#[test]
fn a_snapshots_failed_pods_count_towards_the_jobs_backoff_limit() {
    let scenario = "startLatency: 0s\nmanifests: [m.yaml]\nmanifestDynamics:\n  - {job: batch, duration: 1m}\n";
    let run_job = |status: &str, test: &str| {
        let dir = dir_with(
            test,
            &[("s.yaml", scenario), ("m.yaml", &job_snapshot(status))],
        );
        run(&load(&dir.join("s.yaml")), "first-fit")
    };
    let failed = |r: &RunResult| -> Vec<u64> {
        r.trace
            .iter()
            .filter(|t| matches!(t.event, TraceEvent::JobFailed { .. }))
            .map(|t| t.time.as_micros() / 1_000_000)
            .collect()
    };
    // Seven failures, past the default limit of six: failed at the start, no pod.
    let r = run_job("{succeeded: 2, active: 2, failed: 7}", "job-failed-past");
    assert_eq!(failed(&r), [0]);
    assert_eq!(created(&r), 0);
    // Six: at the limit, not past it; the Job goes on as without them.
    let r = run_job("{succeeded: 2, active: 2, failed: 6}", "job-failed-at");
    assert_eq!(failed(&r), Vec::<u64>::new());
    assert_eq!(created(&r), 2);
    let dir = dir_with(
        "job-failed-bad",
        &[
            ("s.yaml", scenario),
            ("m.yaml", &job_snapshot("{failed: many}")),
        ],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("status.failed"), "{e}");
    assert_eq!(e.line, Some(16), "{e}");
}

/// StorageClasses marked default, created at `stamps`, named `sc-0`, `sc-1`, ...
fn default_classes(stamps: &[&str]) -> String {
    let mut out = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for (i, stamp) in stamps.iter().enumerate() {
        out.push_str(&format!(
            "- apiVersion: storage.k8s.io/v1\n  kind: StorageClass\n  metadata:\n    name: sc-{i}\n    creationTimestamp: '{stamp}'\n    annotations: {{storageclass.kubernetes.io/is-default-class: 'true'}}\n  provisioner: local.csi\n"
        ));
    }
    out
}

#[test]
fn the_newest_default_class_is_chosen_by_time_not_by_text() {
    // As text, sc-1 (`13:30+02:00`) sorts last; as times it is the oldest (11:30 UTC),
    // and sc-2, half a second after sc-0, is the newest.
    let dir = dir_with(
        "default-class-times",
        &[
            (
                "m.yaml",
                &default_classes(&[
                    "2024-05-01T12:00:00Z",
                    "2024-05-01T13:30:00+02:00",
                    "2024-05-01T12:00:00.5Z",
                ]),
            ),
            ("s.yaml", "manifests: [m.yaml]\n"),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    assert!(
        s.manifest_warnings.iter().any(|w| w
            == "storage classes sc-0, sc-1, sc-2 are all marked default; claims without a class get \"sc-2\", the newest (then first by name), as the DefaultStorageClass admission plugin picks"),
        "{:?}",
        s.manifest_warnings
    );
    let dir = dir_with(
        "default-class-bad-time",
        &[
            (
                "m.yaml",
                &default_classes(&["2024-05-01T12:00:00Z", "2024-05-01 noon"]),
            ),
            ("s.yaml", "manifests: [m.yaml]\n"),
        ],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(e.path, dir.join("m.yaml").display().to_string());
    assert_eq!((e.line, e.column), (Some(15), Some(24)), "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("metadata.creationTimestamp"),
        "{e}"
    );
    assert!(e.message.contains("RFC 3339"), "{e}");
}

/// A StatefulSet of two 500m pods and its HPA (50% CPU, up to 4), and an HPA of a
/// DaemonSet (`KIND` replaced by each test).
const STATEFUL_HPA: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: postgres, resources: {requests: {cpu: 500m}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: db}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: KIND, name: db}
  maxReplicas: 4
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: {type: Utilization, averageUtilization: 50}
";

#[test]
fn an_hpa_manifest_scales_its_stateful_set_and_an_unscalable_kind_is_refused() {
    // Each pod uses 500m (100%): the first scrape is at 15 s, as the first sync, which
    // sees no sample yet; at 30 s 2 -> 4, and db-2 then db-3 are created in order.
    let scenario = "\
duration: 2m
manifests: [m.yaml]
cluster:
  nodes: [{name: n, allocatable: {cpu: \"8\", memory: 16Gi}}]
manifestDynamics:
  - statefulSet: db
    usage: {cpu: 500m}
";
    let manifest = STATEFUL_HPA.replace("KIND", "StatefulSet");
    let dir = dir_with("hpa-sts", &[("s.yaml", scenario), ("m.yaml", &manifest)]);
    let s = load(&dir.join("s.yaml"));
    assert_eq!(s.manifest_warnings, Vec::<String>::new());
    let hpa = s.workloads[0]
        .dynamics
        .as_ref()
        .unwrap()
        .hpa
        .as_ref()
        .unwrap();
    assert_eq!((hpa.min, hpa.max), (1, 4));
    let r = run(&s, "first-fit");
    let scaled: Vec<(u64, String)> = r
        .trace
        .iter()
        .filter(|t| matches!(t.event, TraceEvent::HpaScaled { .. }))
        .map(|t| (t.time.as_micros() / 1_000_000, format!("{:?}", t.event)))
        .collect();
    assert_eq!(scaled.len(), 1, "{scaled:?}");
    assert_eq!(scaled[0].0, 30, "{scaled:?}");
    assert!(scaled[0].1.contains("replicas 2 -> 4"), "{scaled:?}");
    let pods: Vec<String> = bindings(&r).into_iter().map(|(p, _)| p).collect();
    assert_eq!(pods, ["db-0", "db-1", "db-2", "db-3"]);

    // readinessDelay is a Deployment's only.
    let delayed = scenario.replace("usage: {cpu: 500m}", "readinessDelay: 5s");
    let dir = dir_with(
        "hpa-sts-delay",
        &[("s.yaml", &delayed), ("m.yaml", &manifest)],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(7), Some("manifestDynamics[0].readinessDelay")),
        "{e}"
    );

    // A DaemonSet has no scale subresource: the HPA can never act.
    let manifest = STATEFUL_HPA.replace("KIND", "DaemonSet");
    let dir = dir_with("hpa-ds", &[("s.yaml", scenario), ("m.yaml", &manifest)]);
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    let line = manifest[..manifest.find("kind: DaemonSet").unwrap()]
        .matches('\n')
        .count() as u64
        + 1;
    assert!(e.path.ends_with("m.yaml"), "{e}");
    assert_eq!(
        (e.line, e.column, e.field.as_deref(), e.message.as_str()),
        (
            Some(line),
            Some(47),
            Some("spec.scaleTargetRef.kind"),
            "a HorizontalPodAutoscaler scales a Deployment, ReplicaSet or StatefulSet (a kind with a `scale` subresource); \"DaemonSet\" has none"
        ),
        "{e}"
    );
}

#[test]
fn a_cron_jobs_time_zone_moves_its_runs_and_an_unknown_one_is_refused() {
    // 09:00 in New York on 1970-01-05 is 14:00 UTC (EST, UTC-5, in the bundled tzdb):
    // 840 minutes after time 0, Unix minute 5760 + 840.
    let scenario = "\
duration: 24h
manifests: [m.yaml]
cluster:
  nodes: [{name: n, allocatable: {cpu: \"4\", memory: 8Gi}}]
manifestDynamics:
  - {cronJob: report, duration: 1m}
";
    let zoned =
        cron("Allow", "  timeZone: America/New_York\n").replace("*/10 * * * *", "0 9 * * *");
    let created = jobs_created(scenario, &zoned, "cron-tz");
    assert_eq!(created, [(840 * 60, "report-6600".to_owned())]);

    let unknown = zoned.replace("America/New_York", "America/Gotham");
    let dir = dir_with("cron-tz-bad", &[("s.yaml", scenario), ("m.yaml", &unknown)]);
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert!(e.path.ends_with("m.yaml"), "{e}");
    assert_eq!(
        (e.line, e.column, e.field.as_deref(), e.message.as_str()),
        (
            Some(7),
            Some(13),
            Some("spec.timeZone"),
            "unknown time zone \"America/Gotham\" (an IANA name such as \"America/New_York\" or \"Etc/UTC\")"
        ),
        "{e}"
    );
    let prefixed = zoned.replace("\"0 9 * * *\"", "\"CRON_TZ=UTC 0 9 * * *\"");
    let dir = dir_with(
        "cron-tz-prefix",
        &[("s.yaml", scenario), ("m.yaml", &prefixed)],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("spec.schedule"), "{e}");
    assert!(e.message.starts_with("cannot use TZ or CRON_TZ"), "{e}");
}

/// A CronJob annotated with the time of the snapshot it comes from (`schedlab export`)
/// goes on from there: at 7m30s, `*/10` next runs at 10 m, 150 s into the reload, and
/// its Jobs keep their names; an annotation that is not such a time is refused where it
/// is written.
#[test]
fn a_snapshot_time_annotation_moves_a_cron_job_s_clock() {
    let scenario = &cron_scenario("1m");
    let annotated = cron("Allow", "").replace(
        "metadata: {name: report}",
        "metadata: {name: report, annotations: {schedlab.io/snapshot-time: '1970-01-05T00:07:30Z'}}",
    );
    let created = jobs_created(scenario, &annotated, "cron-snapshot");
    assert_eq!(
        created,
        [
            (150, "report-5770".to_owned()),
            (750, "report-5780".to_owned()),
            (1350, "report-5790".to_owned()),
            (1950, "report-5800".to_owned()),
        ]
    );
    let bad = annotated.replace("1970-01-05T00:07:30Z", "1969-12-31T00:00:00Z");
    let dir = dir_with(
        "cron-snapshot-bad",
        &[("s.yaml", scenario), ("m.yaml", &bad)],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert!(e.path.ends_with("m.yaml"), "{e}");
    assert_eq!(
        (e.line, e.column, e.field.as_deref(), e.message.as_str()),
        (
            Some(3),
            Some(67),
            Some("metadata.annotations.schedlab.io/snapshot-time"),
            "1969-12-31T00:00:00Z is before simulated time 0 (1970-01-05T00:00:00Z), which no run reaches"
        ),
        "{e}"
    );
}

/// A snapshot whose newest timestamp is n1's Ready condition, 2024-05-01T12:00:50Z: the
/// Job `capped` (activeDeadlineSeconds 60) started at 12:00:00; the Job `long` runs one
/// pod, started at 12:00:20; the Job `old` runs one pod started at 11:58:00.
const TIMED_SNAPSHOT: &str = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: n1, creationTimestamp: '2024-05-01T11:00:00Z'}
  status:
    allocatable: {cpu: '8', memory: 16Gi}
    conditions:
    - {type: Ready, status: 'True', lastTransitionTime: '2024-05-01T14:00:50+02:00'}
- apiVersion: batch/v1
  kind: Job
  metadata: {name: capped, creationTimestamp: '2024-05-01T12:00:00Z'}
  spec:
    activeDeadlineSeconds: 60
    template:
      spec:
        restartPolicy: Never
        containers: [{name: c, resources: {requests: {cpu: '1'}}}]
  status: {startTime: '2024-05-01T12:00:00Z', active: 1}
- apiVersion: v1
  kind: Pod
  metadata:
    name: capped-a1b2c
    ownerReferences: [{apiVersion: batch/v1, kind: Job, name: capped, controller: true}]
  spec:
    nodeName: n1
    containers: [{name: c, resources: {requests: {cpu: '1'}}}]
  status: {phase: Running, startTime: '2024-05-01T12:00:01Z'}
- apiVersion: batch/v1
  kind: Job
  metadata: {name: long}
  spec:
    template:
      spec:
        restartPolicy: Never
        containers: [{name: c, resources: {requests: {cpu: '1'}}}]
  status: {startTime: '2024-05-01T12:00:19Z', active: 1}
- apiVersion: v1
  kind: Pod
  metadata:
    name: long-x7k2p
    ownerReferences: [{apiVersion: batch/v1, kind: Job, name: long, controller: true}]
  spec:
    nodeName: n1
    containers: [{name: c, resources: {requests: {cpu: '1'}}}]
  status: {phase: Running, startTime: '2024-05-01T12:00:20Z'}
- apiVersion: batch/v1
  kind: Job
  metadata: {name: old}
  spec:
    template:
      spec:
        restartPolicy: Never
        containers: [{name: c, resources: {requests: {cpu: '1'}}}]
  status: {startTime: '2024-05-01T11:58:00Z', active: 1}
- apiVersion: v1
  kind: Pod
  metadata:
    name: old-q9w8e
    ownerReferences: [{apiVersion: batch/v1, kind: Job, name: old, controller: true}]
  spec:
    nodeName: n1
    containers: [{name: c, resources: {requests: {cpu: '1'}}}]
  status: {phase: Running, startTime: '2024-05-01T11:58:00Z'}
";

/// The scenario of [`TIMED_SNAPSHOT`]: every Job's pods run a minute; `extra` adds keys.
fn timed_scenario(extra: &str) -> String {
    format!(
        "startLatency: 0s\n{extra}manifests: [m.yaml]\nmanifestDynamics:\n  - {{job: capped, duration: 1h}}\n  - {{job: long, duration: 1m}}\n  - {{job: old, duration: 1m}}\n"
    )
}

/// (time in µs, Job or pod, what) of the Job verdicts and pod ends of a run.
fn job_ends(r: &RunResult) -> Vec<(u64, String, String)> {
    r.trace
        .iter()
        .filter_map(|t| {
            let what = match &t.event {
                TraceEvent::JobCompleted => "completed".to_owned(),
                TraceEvent::JobFailed { reason } => (*reason).to_owned(),
                TraceEvent::Finished => "finished".to_owned(),
                _ => return None,
            };
            Some((t.time.as_micros(), t.pod.clone(), what))
        })
        .collect()
}

#[test]
fn a_snapshots_now_is_its_newest_timestamp_and_start_times_count_from_it() {
    let dir = dir_with(
        "snapshot-now",
        &[("s.yaml", &timed_scenario("")), ("m.yaml", TIMED_SNAPSHOT)],
    );
    let s = load(&dir.join("s.yaml"));
    let line = s.manifests_now.as_deref().unwrap();
    assert!(
        line.starts_with(
            "manifests: snapshot time 2024-05-01T14:00:50+02:00, the newest timestamp of the manifests ("
        ) && line.contains("m.yaml:10:")
            && line.contains("(Node n1 status.conditions[0].lastTransitionTime)"),
        "{line}"
    );
    let names: Vec<&str> = s
        .workloads
        .iter()
        .map(|w| w.template.name.as_str())
        .collect();
    assert_eq!(names, ["capped", "long", "old"]);
    let ran: Vec<Vec<u64>> = s
        .workloads
        .iter()
        .map(|w| {
            w.adopted_ran
                .iter()
                .map(|t| t.as_micros() / 1_000_000)
                .collect()
        })
        .collect();
    assert_eq!(ran, [vec![49], vec![30], vec![170]]);
    let r = run(&s, "first-fit");
    // `old`'s pod is past its minute: it ends 1 µs after it starts. `capped` started 50 s
    // before "now" with 60 s allowed: it fails at 10 s. `long`'s pod has 30 s left.
    assert_eq!(
        job_ends(&r),
        [
            (1, "old-0".to_owned(), "finished".to_owned()),
            (1, "old".to_owned(), "completed".to_owned()),
            (
                10_000_000,
                "capped".to_owned(),
                "DeadlineExceeded".to_owned()
            ),
            (30_000_000, "long-0".to_owned(), "finished".to_owned()),
            (30_000_000, "long".to_owned(), "completed".to_owned()),
        ]
    );
}

#[test]
fn snapshot_time_sets_the_now_and_a_job_past_its_deadline_fails_at_once() {
    let dir = dir_with(
        "snapshot-time",
        &[
            (
                "s.yaml",
                &timed_scenario("snapshotTime: '2024-05-01T12:00:30Z'\n"),
            ),
            (
                "late.yaml",
                &timed_scenario("snapshotTime: 2024-05-01T12:01:00Z\n"),
            ),
            ("m.yaml", TIMED_SNAPSHOT),
        ],
    );
    let s = load(&dir.join("s.yaml"));
    assert_eq!(
        s.manifests_now.as_deref(),
        Some("manifests: snapshot time 2024-05-01T12:00:30Z (snapshotTime)")
    );
    let r = run(&s, "first-fit");
    let ends = job_ends(&r);
    assert_eq!(
        ends[2..],
        [
            (
                30_000_000,
                "capped".to_owned(),
                "DeadlineExceeded".to_owned()
            ),
            (50_000_000, "long-0".to_owned(), "finished".to_owned()),
            (50_000_000, "long".to_owned(), "completed".to_owned()),
        ],
        "{ends:?}"
    );
    // At 12:01:00 `capped` has run its 60 s: it fails at time 0 and its pod is deleted
    // (the kubelet's graceful deletion), never finishing.
    let r = run(&load(&dir.join("late.yaml")), "first-fit");
    let ends = job_ends(&r);
    assert_eq!(
        ends[0],
        (0, "capped".to_owned(), "DeadlineExceeded".to_owned()),
        "{ends:?}"
    );
    assert!(!ends.iter().any(|(_, p, _)| p == "capped-0"), "{ends:?}");
}

#[test]
fn a_snapshot_timestamp_that_is_not_rfc_3339_is_an_error_at_its_place() {
    let bad = TIMED_SNAPSHOT.replace(
        "startTime: '2024-05-01T12:00:20Z'",
        "startTime: '2024-05-01 12:00'",
    );
    let dir = dir_with(
        "snapshot-bad-time",
        &[
            ("s.yaml", &timed_scenario("")),
            ("m.yaml", &bad),
            ("n.yaml", TIMED_SNAPSHOT),
        ],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err().to_string();
    assert!(
        e.contains("m.yaml:47:39")
            && e.contains("status.startTime")
            && e.contains("Pod \"long-x7k2p\": expected an RFC 3339 time")
            && e.contains("got \"2024-05-01 12:00\""),
        "{e}"
    );
    let t = timed_scenario("snapshotTime: yesterday\n").replace("m.yaml", "n.yaml");
    std::fs::write(dir.join("t.yaml"), t).unwrap();
    let e = try_load(&dir.join("t.yaml")).unwrap_err().to_string();
    assert!(
        e.contains("t.yaml:2:15") && e.contains("snapshotTime") && e.contains("got \"yesterday\""),
        "{e}"
    );
}

/// A snapshot's Job whose Failed condition is True has failed before the run: it fails
/// at 0 s (a reason schedlab does not model, such as PodFailurePolicy, counts as
/// BackoffLimitExceeded), and its pod that was still running is deleted, not run out.
/// A condition that is False changes nothing.
#[test]
fn a_snapshot_job_with_a_failed_condition_fails_at_the_start() {
    let failed = TIMED_SNAPSHOT.replace(
        "  status: {startTime: '2024-05-01T12:00:19Z', active: 1}",
        "  status:\n    startTime: '2024-05-01T12:00:19Z'\n    conditions: [{type: Failed, status: 'True', reason: PodFailurePolicy}]",
    );
    assert_ne!(failed, TIMED_SNAPSHOT);
    let not_failed = failed.replace("status: 'True'", "status: 'False'");
    let dir = dir_with(
        "snapshot-failed-job",
        &[
            ("s.yaml", &timed_scenario("")),
            ("m.yaml", &failed),
            ("t.yaml", &timed_scenario("").replace("m.yaml", "n.yaml")),
            ("n.yaml", &not_failed),
        ],
    );
    let r = run(&load(&dir.join("s.yaml")), "first-fit");
    let long: Vec<_> = job_ends(&r)
        .into_iter()
        .filter(|(_, who, _)| who.starts_with("long"))
        .collect();
    assert_eq!(
        long,
        [(0, "long".to_owned(), "BackoffLimitExceeded".to_owned())]
    );
    let r = run(&load(&dir.join("t.yaml")), "first-fit");
    let long: Vec<_> = job_ends(&r)
        .into_iter()
        .filter(|(_, who, _)| who.starts_with("long"))
        .collect();
    assert_eq!(
        long,
        [
            (30_000_000, "long-0".to_owned(), "finished".to_owned()),
            (30_000_000, "long".to_owned(), "completed".to_owned()),
        ]
    );
}
