//! `schedlab export`: the tutorial's cluster at 7 minutes under first-fit, node by node,
//! and the round trip: a scenario that loads the exported List starts in the same state,
//! so exporting it at time 0 writes the same bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn schedlab(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the schedlab binary starts");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn tutorial() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/tutorial.yaml")
}

/// (node, sorted pod names) for every node, and the pods without one under "".
fn placements(list: &Value) -> BTreeMap<String, Vec<String>> {
    let mut on: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in list["items"].as_array().expect("a List has items") {
        let name = item["metadata"]["name"].as_str().unwrap().to_owned();
        match item["kind"].as_str() {
            Some("Node") => {
                on.entry(name).or_default();
            }
            Some("Pod") => {
                let node = item["spec"]["nodeName"].as_str().unwrap_or("").to_owned();
                on.entry(node).or_default().push(name);
            }
            // Controllers, storage and budgets hold no node.
            _ => {}
        }
    }
    for pods in on.values_mut() {
        pods.sort();
    }
    on
}

fn read_list(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn the_tutorial_at_seven_minutes_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let tutorial = tutorial().display().to_string();
    let out = schedlab(
        dir.path(),
        &[
            "export",
            &tutorial,
            "--scheduler",
            "first-fit",
            "--at",
            "7m",
            "-o",
            "state.yaml",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = read_list(&dir.path().join("state.yaml"));
    assert_eq!(
        (first["apiVersion"].as_str(), first["kind"].as_str()),
        (Some("v1"), Some("List"))
    );

    // The tutorial's own account of first-fit: web on small, api-0/1 on medium, report-0
    // (61 s..661 s) and report-1 (from 6 m) on large; huge fits nowhere. report-2 has not
    // arrived (11 m) and nothing has finished.
    let expected: BTreeMap<String, Vec<String>> = [
        ("", vec!["huge"]),
        ("large", vec!["report-0", "report-1"]),
        ("medium", vec!["api-0", "api-1"]),
        ("small", vec!["web"]),
    ]
    .into_iter()
    .map(|(n, pods)| (n.to_owned(), pods.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(placements(&first), expected);

    let items = first["items"].as_array().unwrap();
    let api0 = items
        .iter()
        .find(|i| i["metadata"]["name"] == "api-0")
        .unwrap();
    assert_eq!(
        api0["spec"]["containers"][0]["resources"]["requests"],
        serde_json::json!({"cpu": "1500m", "memory": "2Gi"})
    );
    assert_eq!(api0["status"]["phase"], "Running");
    let huge = items
        .iter()
        .find(|i| i["metadata"]["name"] == "huge")
        .unwrap();
    assert_eq!(huge["status"]["phase"], "Pending");
    let large = items
        .iter()
        .find(|i| i["metadata"]["name"] == "large")
        .unwrap();
    assert_eq!(
        large["status"]["allocatable"],
        serde_json::json!({"cpu": "8", "memory": "16Gi", "pods": "110"})
    );

    // A scenario made of the List alone starts where the tutorial was at 7 minutes.
    std::fs::write(
        dir.path().join("from-state.yaml"),
        "startLatency: 0s\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    let out = schedlab(
        dir.path(),
        &[
            "export",
            "from-state.yaml",
            "--scheduler",
            "first-fit",
            "-o",
            "again.yaml",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = std::fs::read_to_string(dir.path().join("again.yaml")).unwrap();
    let before = std::fs::read_to_string(dir.path().join("state.yaml")).unwrap();
    assert_eq!(
        again, before,
        "the reloaded state differs from the exported one"
    );

    // Without -o the List goes to standard output, the same bytes.
    let out = schedlab(
        dir.path(),
        &["export", "from-state.yaml", "--scheduler", "first-fit"],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), before);
}

#[test]
fn equal_seeds_export_equal_bytes_and_bad_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let tutorial = tutorial().display().to_string();
    let export = |seed: &str| {
        let out = schedlab(
            dir.path(),
            &[
                "export",
                &tutorial,
                "--scheduler",
                "random",
                "--seed",
                seed,
                "--at",
                "12m",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert_eq!(export("5"), export("5"));

    let out = schedlab(dir.path(), &["export", &tutorial, "--at", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--at"));
    let out = schedlab(dir.path(), &["export", &tutorial, "--scheduler", "no-such"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Online Boutique with its DaemonSets at 5 minutes: init containers with images,
/// sidecars, affinity and several namespaces survive the round trip byte for byte.
#[test]
fn the_online_boutique_with_daemon_sets_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/online-boutique-agents.yaml")
        .display()
        .to_string();
    let out = schedlab(
        dir.path(),
        &["export", &scenario, "--at", "5m", "-o", "state.yaml"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = read_list(&dir.path().join("state.yaml"));
    let bound = placements(&list)
        .iter()
        .filter(|(node, _)| !node.is_empty())
        .map(|(_, pods)| pods.len())
        .sum::<usize>();
    assert!(bound > 0, "no pod is bound at 5 minutes");
    std::fs::write(
        dir.path().join("from-state.yaml"),
        "startLatency: 0s\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    let out = schedlab(
        dir.path(),
        &["export", "from-state.yaml", "-o", "again.yaml"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again.yaml")).unwrap(),
        std::fs::read_to_string(dir.path().join("state.yaml")).unwrap()
    );
}

/// A snapshot whose StatefulSet and Job pods are adopted where they run: exported at 0 s
/// they are on the snapshot's nodes, and the export reloads to the same bytes.
#[test]
fn a_snapshot_with_adopted_stateful_set_and_job_pods_round_trips_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let pod = |name: &str, kind: &str, owner: &str, node: &str| {
        format!(
            "- apiVersion: v1
  kind: Pod
  metadata:
    name: {name}
    ownerReferences: [{{apiVersion: apps/v1, kind: {kind}, name: {owner}, controller: true}}]
  spec:
    nodeName: {node}
    containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
  status: {{phase: Running}}
"
        )
    };
    let snapshot = format!(
        "apiVersion: v1
kind: List
items:
- {{apiVersion: v1, kind: Node, metadata: {{name: n1}}, status: {{allocatable: {{cpu: '4', memory: 8Gi}}}}}}
- {{apiVersion: v1, kind: Node, metadata: {{name: n2}}, status: {{allocatable: {{cpu: '4', memory: 8Gi}}}}}}
- apiVersion: apps/v1
  kind: StatefulSet
  metadata: {{name: db}}
  spec:
    replicas: 3
    podManagementPolicy: Parallel
    template:
      spec:
        containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
- apiVersion: batch/v1
  kind: Job
  metadata: {{name: crunch}}
  spec:
    completions: 3
    parallelism: 2
    template:
      spec:
        restartPolicy: Never
        containers: [{{name: c, resources: {{requests: {{cpu: '1', memory: 1Gi}}}}}}]
  status: {{succeeded: 1}}
{}{}{}",
        pod("db-1", "StatefulSet", "db", "n2"),
        pod("db-2", "StatefulSet", "db", "n2"),
        pod("crunch-abcde", "Job", "crunch", "n2"),
    );
    std::fs::write(dir.path().join("cluster.yaml"), snapshot).unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "startLatency: 0s\nmanifests: [cluster.yaml]\n",
    )
    .unwrap();
    let export = |scenario: &str, out: &str| {
        let o = schedlab(
            dir.path(),
            &[
                "export",
                scenario,
                "--scheduler",
                "first-fit",
                "--at",
                "0s",
                "-o",
                out,
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    export("s.yaml", "state.yaml");
    // db-1, db-2 and crunch-0 stay on n2; db-0 and crunch's second pod (of the two it
    // still needs at once) are scheduled, first-fit, on n1.
    let expected: BTreeMap<String, Vec<String>> = [
        ("n1", vec!["crunch-1", "db-0"]),
        ("n2", vec!["crunch-0", "db-1", "db-2"]),
    ]
    .into_iter()
    .map(|(n, pods)| (n.to_owned(), pods.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(
        placements(&read_list(&dir.path().join("state.yaml"))),
        expected
    );
    std::fs::write(
        dir.path().join("from-state.yaml"),
        "startLatency: 0s\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    export("from-state.yaml", "again.yaml");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again.yaml")).unwrap(),
        std::fs::read_to_string(dir.path().join("state.yaml")).unwrap()
    );
}

/// The workloads of the round trip: a Deployment of 3, a StatefulSet of 2 with a claim
/// each, a Job of 4 completions 2 at a time, and a PodDisruptionBudget, placed by
/// `least-allocated` (which spreads them; first-fit would stack them on n1).
const WORKLOADS: &str = "startLatency: 0s
storageClasses:
  - {name: standard, provisioner: pd.csi.storage.gke.io}
podDisruptionBudgets:
  - {name: web, selector: {matchLabels: {app: web}}, minAvailable: 2}
cluster:
  nodes:
    - {name: n1, allocatable: {cpu: '4', memory: 8Gi}}
    - {name: n2, allocatable: {cpu: '4', memory: 8Gi}}
    - {name: n3, allocatable: {cpu: '4', memory: 8Gi}}
workloads:
  - deployment: web
    replicas: 3
    labels: {app: web}
    requests: {cpu: '1', memory: 1Gi}
  - statefulSet: db
    replicas: 2
    podManagementPolicy: Parallel
    labels: {app: db}
    requests: {cpu: 500m, memory: 1Gi}
    volumeClaimTemplates:
      - metadata: {name: data}
        spec: {accessModes: [ReadWriteOnce], storageClassName: standard, resources: {requests: {storage: 10Gi}}}
  - job: crunch
    completions: 4
    parallelism: 2
    requests: {cpu: 500m, memory: 512Mi}
    duration: 1m
";

/// `schedlab export SCENARIO --scheduler S --at T -o OUT` in `dir`, which must succeed;
/// its standard error.
fn export_ok(dir: &Path, scenario: &str, scheduler: &str, at: &str, out: &str) -> String {
    let o = schedlab(
        dir,
        &[
            "export",
            scenario,
            "--scheduler",
            scheduler,
            "--at",
            at,
            "-o",
            out,
        ],
    );
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    stderr
}

/// The item of `kind` named `name`.
fn item<'a>(list: &'a Value, kind: &str, name: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {list:#}"))
}

/// A column of the one row of `summary.csv` in `out`.
fn summary_column(out: &Path, column: &str) -> String {
    let summary = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = header.iter().position(|&c| c == column).unwrap();
    lines.next().unwrap().split(',').nth(at).unwrap().to_owned()
}

#[test]
fn workloads_and_storage_round_trip_and_their_controllers_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("w.yaml"), WORKLOADS).unwrap();
    // At 30 s nothing has finished: every pod still has its first name.
    let stderr = export_ok(d, "w.yaml", "least-allocated", "30s", "state.yaml");
    assert!(
        stderr.contains("1 workload(s) with a `duration`"),
        "{stderr}"
    );
    let first = read_list(&d.join("state.yaml"));
    let deployment = item(&first, "Deployment", "web");
    assert_eq!(deployment["apiVersion"], "apps/v1");
    assert_eq!(deployment["spec"]["replicas"], 3);
    assert_eq!(
        deployment["spec"]["selector"],
        serde_json::json!({"matchLabels": {"app": "web"}})
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"],
        serde_json::json!({"cpu": "1", "memory": "1Gi"})
    );
    let set = item(&first, "StatefulSet", "db");
    assert_eq!(set["spec"]["serviceName"], "db");
    assert_eq!(set["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(
        set["spec"]["volumeClaimTemplates"],
        serde_json::json!([{"metadata": {"name": "data"}, "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
            "resources": {"requests": {"storage": "10Gi"}}}}])
    );
    let job = item(&first, "Job", "crunch");
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(
        (
            &job["spec"]["completions"],
            &job["spec"]["parallelism"],
            &job["status"]["succeeded"]
        ),
        (
            &serde_json::json!(4),
            &serde_json::json!(2),
            &serde_json::json!(0)
        )
    );
    assert_eq!(
        item(&first, "Pod", "web-1")["metadata"]["ownerReferences"],
        serde_json::json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "controller": true}])
    );
    let db0 = item(&first, "Pod", "db-0");
    assert_eq!(db0["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
    assert_eq!(
        db0["spec"]["volumes"],
        serde_json::json!([{"name": "data-db-0", "persistentVolumeClaim": {"claimName": "data-db-0"}}])
    );
    assert_eq!(
        item(&first, "Pod", "crunch-0")["metadata"]["ownerReferences"][0],
        serde_json::json!({"apiVersion": "batch/v1", "kind": "Job", "name": "crunch", "controller": true})
    );
    let claim = item(&first, "PersistentVolumeClaim", "data-db-1");
    let volume = claim["spec"]["volumeName"].as_str().unwrap();
    assert_eq!(
        item(&first, "PersistentVolume", volume)["spec"]["claimRef"],
        serde_json::json!({"namespace": "default", "name": "data-db-1"})
    );
    assert_eq!(
        item(&first, "PodDisruptionBudget", "web")["spec"],
        serde_json::json!({"selector": {"matchLabels": {"app": "web"}}, "minAvailable": 2})
    );
    // least-allocated spread the seven pods over the three nodes.
    let spread = placements(&first);
    assert!(
        spread.len() == 3 && spread.values().all(|pods| !pods.is_empty()),
        "{spread:?}"
    );

    // Reloaded under first-fit, which would stack everything on n1: exported at 0 s, the
    // same bytes, so every pod was adopted where it was.
    std::fs::write(
        d.join("from-state.yaml"),
        "startLatency: 0s\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    export_ok(d, "from-state.yaml", "first-fit", "0s", "again.yaml");
    assert_eq!(
        std::fs::read_to_string(d.join("again.yaml")).unwrap(),
        std::fs::read_to_string(d.join("state.yaml")).unwrap(),
        "the reloaded state differs from the exported one"
    );
    // ... and no pod met the scheduler in a run of the reloaded state.
    std::fs::write(
        d.join("run-state.yaml"),
        "startLatency: 0s\nduration: 10m\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    let o = schedlab(
        d,
        &[
            "run",
            "run-state.yaml",
            "--scheduler",
            "first-fit",
            "--out",
            "out",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(summary_column(&d.join("out"), "scheduling_attempts"), "0");

    // The reloaded controllers go on: draining web-0's node at 1 minute, the Deployment
    // replaces it (web-3, on another node) and the StatefulSet recreates its ordinal there
    // under the same name.
    let web0_node = item(&first, "Pod", "web-0")["spec"]["nodeName"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(
        d.join("drained.yaml"),
        format!(
            "startLatency: 0s\nduration: 10m\nmanifests: [state.yaml]\nfailures:\n  events:\n    - {{drain: {web0_node}, at: 1m}}\n"
        ),
    )
    .unwrap();
    export_ok(d, "drained.yaml", "first-fit", "3m", "drained-state.yaml");
    let drained = read_list(&d.join("drained-state.yaml"));
    let on = placements(&drained);
    assert!(on[&web0_node].is_empty(), "{on:?}");
    let webs: Vec<&String> = on
        .values()
        .flatten()
        .filter(|p| p.starts_with("web-"))
        .collect();
    assert_eq!(webs.len(), 3, "{on:?}");
    assert!(webs.iter().any(|p| *p == "web-3"), "{on:?}");
    assert!(!webs.iter().any(|p| *p == "web-0"), "{on:?}");
    let mut dbs: Vec<&String> = on
        .values()
        .flatten()
        .filter(|p| p.starts_with("db-"))
        .collect();
    dbs.sort();
    assert_eq!(dbs, ["db-0", "db-1"], "{on:?}");
}

/// After completions, a Job's `status.succeeded` carries them: reloaded, the Job creates
/// only what it still lacks, and a DaemonSet's pods name their DaemonSet.
#[test]
fn a_job_s_completions_and_daemon_sets_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("w.yaml"),
        format!("{WORKLOADS}  - daemonSet: agent\n    requests: {{cpu: 100m, memory: 64Mi}}\n"),
    )
    .unwrap();
    // At 90 s crunch-0 and crunch-1 have succeeded and crunch-2 and crunch-3 run.
    export_ok(d, "w.yaml", "first-fit", "90s", "state.yaml");
    let state = read_list(&d.join("state.yaml"));
    assert_eq!(item(&state, "Job", "crunch")["status"]["succeeded"], 2);
    let crunch: Vec<String> = placements(&state)
        .into_values()
        .flatten()
        .filter(|p| p.starts_with("crunch-"))
        .collect();
    assert_eq!(crunch, ["crunch-2", "crunch-3"]);
    let agent = item(&state, "DaemonSet", "agent");
    assert!(agent["spec"].get("replicas").is_none(), "{agent:#}");
    assert_eq!(
        item(&state, "Pod", "agent-0")["metadata"]["ownerReferences"][0]["kind"],
        "DaemonSet"
    );
    // Reloaded, the Job adopts its two running pods and creates nothing more: 2 done and
    // 2 active make its 4 completions (adopted pods run without their duration).
    std::fs::write(
        d.join("from-state.yaml"),
        "startLatency: 0s\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    export_ok(d, "from-state.yaml", "first-fit", "5m", "again.yaml");
    let again = read_list(&d.join("again.yaml"));
    assert_eq!(item(&again, "Job", "crunch")["status"]["succeeded"], 2);
    let crunch: Vec<String> = placements(&again)
        .into_values()
        .flatten()
        .filter(|p| p.starts_with("crunch-"))
        .collect();
    assert_eq!(crunch, ["crunch-0", "crunch-1"]);
}

/// A Job that failed is written with its `status.failed` and its Failed condition, and a
/// reload reads that condition: the Job fails at 0 s with the same reason and creates no
/// pod, instead of starting over.
#[test]
fn a_failed_job_stays_failed_when_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("w.yaml"),
        "startLatency: 0s
cluster:
  nodes:
    - {name: n1, allocatable: {cpu: '4', memory: 8Gi}}
workloads:
  - job: crunch
    completions: 4
    parallelism: 2
    activeDeadlineSeconds: 60
    requests: {cpu: 500m, memory: 512Mi}
    duration: 10m
",
    )
    .unwrap();
    // At 60 s the deadline passes: crunch fails and its two running pods are deleted.
    export_ok(d, "w.yaml", "first-fit", "90s", "state.yaml");
    let state = read_list(&d.join("state.yaml"));
    assert_eq!(
        item(&state, "Job", "crunch")["status"],
        serde_json::json!({"succeeded": 0, "conditions": [
            {"type": "Failed", "status": "True", "reason": "DeadlineExceeded"}]})
    );
    assert!(placements(&state).values().flatten().next().is_none());
    std::fs::write(
        d.join("from-state.yaml"),
        "startLatency: 0s\nduration: 5m\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    let o = schedlab(
        d,
        &[
            "run",
            "from-state.yaml",
            "--scheduler",
            "first-fit",
            "--trace",
            "--out",
            "out",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let trace =
        std::fs::read_to_string(d.join("out/from-state/first-fit/seed-1/trace.csv")).unwrap();
    let events: Vec<&str> = trace.lines().skip(1).collect();
    assert_eq!(
        events,
        ["0.000000,crunch,job-failed,DeadlineExceeded"],
        "{trace}"
    );
    // Exported again, the same status.
    export_ok(d, "from-state.yaml", "first-fit", "1m", "again.yaml");
    let again = read_list(&d.join("again.yaml"));
    assert_eq!(
        item(&again, "Job", "crunch")["status"],
        item(&state, "Job", "crunch")["status"]
    );
}

/// Writes `manifests: [state.yaml]` as `from-state.yaml` in `dir`, exports it at 0 s
/// under `scheduler` and checks that the bytes are `state.yaml`'s; then runs it for 10
/// minutes and checks that no pod met the scheduler (every one was adopted where it was).
fn reloads_to_the_same_bytes_without_scheduling(dir: &Path, scheduler: &str) {
    std::fs::write(
        dir.join("from-state.yaml"),
        "startLatency: 0s\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    export_ok(dir, "from-state.yaml", scheduler, "0s", "again.yaml");
    assert_eq!(
        std::fs::read_to_string(dir.join("again.yaml")).unwrap(),
        std::fs::read_to_string(dir.join("state.yaml")).unwrap(),
        "the reloaded state differs from the exported one"
    );
    std::fs::write(
        dir.join("run-state.yaml"),
        "startLatency: 0s\nduration: 10m\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    let o = schedlab(
        dir,
        &[
            "run",
            "run-state.yaml",
            "--scheduler",
            scheduler,
            "--out",
            "out",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(summary_column(&dir.join("out"), "scheduling_attempts"), "0");
}

/// A StatefulSet of 0 replicas has no claim at all: its `volumeClaimTemplates` are still
/// written whole, from the scenario, with its claim retention, and reload to the same
/// bytes.
#[test]
fn a_stateful_set_without_claims_keeps_its_claim_templates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("w.yaml"),
        "startLatency: 0s
storageClasses:
  - {name: standard, provisioner: pd.csi.storage.gke.io, volumeBindingMode: WaitForFirstConsumer}
  - {name: fast, provisioner: pd.csi.storage.gke.io}
cluster:
  nodes:
    - {name: n1, allocatable: {cpu: '4', memory: 8Gi}}
workloads:
  - statefulSet: db
    replicas: 0
    labels: {app: db}
    requests: {cpu: 500m, memory: 1Gi}
    persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}
    volumeClaimTemplates:
      - metadata: {name: data}
        spec: {accessModes: [ReadWriteOnce, ReadOnlyMany], storageClassName: standard, resources: {requests: {storage: 10Gi}}}
      - metadata: {name: logs}
        spec: {accessModes: [ReadWriteOncePod], storageClassName: fast, resources: {requests: {storage: 512Mi}}}
",
    )
    .unwrap();
    let stderr = export_ok(d, "w.yaml", "first-fit", "1m", "state.yaml");
    assert!(!stderr.contains("claim template"), "{stderr}");
    let state = read_list(&d.join("state.yaml"));
    let kinds: Vec<&str> = state["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["Node", "StorageClass", "StorageClass", "StatefulSet"]
    );
    let set = item(&state, "StatefulSet", "db");
    assert_eq!(set["spec"]["replicas"], 0);
    assert_eq!(
        set["spec"]["persistentVolumeClaimRetentionPolicy"],
        serde_json::json!({"whenScaled": "Delete"})
    );
    assert_eq!(
        set["spec"]["volumeClaimTemplates"],
        serde_json::json!([
            {"metadata": {"name": "data"}, "spec": {
                "accessModes": ["ReadWriteOnce", "ReadOnlyMany"], "storageClassName": "standard",
                "resources": {"requests": {"storage": "10Gi"}}}},
            {"metadata": {"name": "logs"}, "spec": {
                "accessModes": ["ReadWriteOncePod"], "storageClassName": "fast",
                "resources": {"requests": {"storage": "512Mi"}}}},
        ])
    );
    reloads_to_the_same_bytes_without_scheduling(d, "least-allocated");
}

/// A DaemonSet on three nodes (one tainted, which both tolerate) and a Deployment spread
/// one replica a node by `least-allocated`: reloaded under
/// first-fit (which would stack the Deployment on n1), the state exports to the same
/// bytes and no pod meets the scheduler.
#[test]
fn a_daemon_set_and_a_deployment_round_trip_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("w.yaml"),
        "startLatency: 0s
cluster:
  nodes:
    - {name: n1, allocatable: {cpu: '4', memory: 8Gi}}
    - {name: n2, allocatable: {cpu: '4', memory: 8Gi}}
    - {name: n3, allocatable: {cpu: '4', memory: 8Gi}, taints: [{key: gpu, value: 'yes', effect: NoSchedule}]}
workloads:
  - daemonSet: agent
    labels: {app: agent}
    requests: {cpu: 100m, memory: 64Mi}
    tolerations: [{operator: Exists}]
  - deployment: web
    replicas: 3
    labels: {app: web}
    requests: {cpu: '1', memory: 1Gi}
    tolerations: [{key: gpu, operator: Equal, value: 'yes', effect: NoSchedule}]
",
    )
    .unwrap();
    export_ok(d, "w.yaml", "least-allocated", "1m", "state.yaml");
    let state = read_list(&d.join("state.yaml"));
    let expected: BTreeMap<String, Vec<String>> = [
        ("n1", vec!["agent-0", "web-2"]),
        ("n2", vec!["agent-1", "web-1"]),
        ("n3", vec!["agent-2", "web-0"]),
    ]
    .into_iter()
    .map(|(n, pods)| (n.to_owned(), pods.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(placements(&state), expected);
    let agent = item(&state, "DaemonSet", "agent");
    assert_eq!(
        agent["spec"]["template"]["spec"]["tolerations"],
        serde_json::json!([{"operator": "Exists"}])
    );
    assert_eq!(
        item(&state, "Node", "n3")["spec"]["taints"],
        serde_json::json!([{"key": "gpu", "effect": "NoSchedule", "value": "yes"}])
    );
    reloads_to_the_same_bytes_without_scheduling(d, "first-fit");
}

/// PriorityClasses are written (the declared ones, not the built-in system classes) with
/// every pod's and template's `priorityClassName` beside the priority it resolved to,
/// including the globalDefault class a workload naming none gets; reloaded, the same
/// bytes and no scheduling.
#[test]
fn priority_classes_and_class_names_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("w.yaml"),
        "startLatency: 0s
priorityClasses:
  - {name: high, value: 1000, preemptionPolicy: Never, description: serving traffic}
  - {name: base, value: 10, globalDefault: true}
  - {name: unused, value: 5}
cluster:
  nodes:
    - {name: n1, allocatable: {cpu: '4', memory: 8Gi}}
workloads:
  - deployment: web
    replicas: 2
    labels: {app: web}
    priorityClassName: high
    requests: {cpu: '1', memory: 1Gi}
  - pod: solo
    requests: {cpu: 500m, memory: 512Mi}
  - daemonSet: agent
    priorityClassName: system-node-critical
    requests: {cpu: 100m, memory: 64Mi}
",
    )
    .unwrap();
    export_ok(d, "w.yaml", "first-fit", "30s", "state.yaml");
    let state = read_list(&d.join("state.yaml"));
    let classes: Vec<&Value> = state["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "PriorityClass")
        .collect();
    assert_eq!(
        classes,
        [
            &serde_json::json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "high"}, "value": 1000, "preemptionPolicy": "Never",
                "description": "serving traffic"}),
            &serde_json::json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "base"}, "value": 10, "globalDefault": true,
                "preemptionPolicy": "PreemptLowerPriority"}),
            &serde_json::json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                "metadata": {"name": "unused"}, "value": 5,
                "preemptionPolicy": "PreemptLowerPriority"}),
        ]
    );
    let class_of = |kind: &str, name: &str, spec: &Value| {
        (
            spec["priorityClassName"].clone(),
            spec["priority"].clone(),
            spec["preemptionPolicy"].clone(),
            format!("{kind} {name}"),
        )
    };
    let web = item(&state, "Deployment", "web");
    let got = [
        class_of("Deployment", "web", &web["spec"]["template"]["spec"]),
        class_of("Pod", "web-0", &item(&state, "Pod", "web-0")["spec"]),
        class_of("Pod", "solo", &item(&state, "Pod", "solo")["spec"]),
        class_of("Pod", "agent-0", &item(&state, "Pod", "agent-0")["spec"]),
    ];
    let want = |class: &str, value: i64, policy: &str, what: &str| {
        (
            serde_json::json!(class),
            serde_json::json!(value),
            serde_json::json!(policy),
            what.to_owned(),
        )
    };
    assert_eq!(
        got,
        [
            want("high", 1000, "Never", "Deployment web"),
            want("high", 1000, "Never", "Pod web-0"),
            want("base", 10, "PreemptLowerPriority", "Pod solo"),
            want(
                "system-node-critical",
                2_000_001_000,
                "PreemptLowerPriority",
                "Pod agent-0"
            ),
        ]
    );
    reloads_to_the_same_bytes_without_scheduling(d, "least-allocated");
}

/// A Deployment's HorizontalPodAutoscaler is written as an autoscaling/v2 object (its
/// metrics and its whole `behavior`) beside the Deployment at the replicas it has scaled
/// to; the usage driving it is what the omission line names. Reloaded, the same bytes,
/// and the reloaded autoscaler scales the Deployment down once its window has passed
/// (its pods report no usage).
#[test]
fn a_horizontal_pod_autoscaler_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("w.yaml"),
        "startLatency: 0s
duration: 10m
cluster:
  nodes:
    - {name: n1, allocatable: {cpu: '8', memory: 16Gi}}
workloads:
  - deployment: web
    replicas: 2
    labels: {app: web}
    requests: {cpu: 500m, memory: 256Mi}
    usage: {cpu: 400m}
    horizontalPodAutoscaler:
      minReplicas: 2
      maxReplicas: 6
      metrics:
        - type: Resource
          resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
        - type: Resource
          resource: {name: memory, target: {type: AverageValue, averageValue: 1Gi}}
      behavior:
        scaleUp:
          selectPolicy: Min
          policies: [{type: Pods, value: 1, periodSeconds: 60}, {type: Percent, value: 50, periodSeconds: 30}]
        scaleDown: {stabilizationWindowSeconds: 120}
",
    )
    .unwrap();
    let stderr = export_ok(d, "w.yaml", "first-fit", "3m", "state.yaml");
    assert!(
        stderr.contains("1 Deployment(s) or StatefulSet(s) with Service load, readiness, usage"),
        "{stderr}"
    );
    let state = read_list(&d.join("state.yaml"));
    let replicas = item(&state, "Deployment", "web")["spec"]["replicas"].clone();
    // One pod a minute (the Min of the two scale-up policies) from 15 s on: 3, 4, 5.
    assert_eq!(
        replicas, 5,
        "the autoscaler's scale-ups are in the replicas"
    );
    assert_eq!(
        item(&state, "HorizontalPodAutoscaler", "web"),
        &serde_json::json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 6,
                "metrics": [
                    {"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 50}}},
                    {"type": "Resource", "resource": {"name": "memory",
                        "target": {"type": "AverageValue", "averageValue": "1Gi"}}},
                ],
                "behavior": {
                    "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Min",
                        "policies": [
                            {"type": "Pods", "value": 1, "periodSeconds": 60},
                            {"type": "Percent", "value": 50, "periodSeconds": 30},
                        ]},
                    "scaleDown": {"stabilizationWindowSeconds": 120, "selectPolicy": "Max",
                        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
                },
            },
        })
    );
    reloads_to_the_same_bytes_without_scheduling(d, "first-fit");
    // The reloaded autoscaler goes on, without the usage (its pods report none) and
    // without its memory of past recommendations, as after a controller restart: its
    // first sync (15 s) recommends nothing, which the empty scale-down window does not
    // hold back, so the Deployment drops to minReplicas there.
    std::fs::write(
        d.join("later.yaml"),
        "startLatency: 0s\nduration: 10m\nmanifests: [state.yaml]\n",
    )
    .unwrap();
    let replicas_at = |at: &str| {
        export_ok(d, "later.yaml", "first-fit", at, "at.yaml");
        item(&read_list(&d.join("at.yaml")), "Deployment", "web")["spec"]["replicas"].clone()
    };
    assert_eq!(
        (replicas_at("10s"), replicas_at("20s")),
        (5.into(), 2.into())
    );
}

/// The `job-created` lines of a run of `scenario` in `dir` (under first-fit, with a
/// trace): (seconds, Job name).
fn jobs_created(dir: &Path, scenario: &str) -> Vec<(f64, String)> {
    let out = format!("out-{scenario}");
    let o = schedlab(
        dir,
        &[
            "run",
            scenario,
            "--scheduler",
            "first-fit",
            "--trace",
            "--out",
            &out,
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stem = scenario.trim_end_matches(".yaml");
    let trace = dir.join(&out).join(stem).join("first-fit/seed-1/trace.csv");
    let text = std::fs::read_to_string(&trace).unwrap();
    text.lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            (fields.get(2) == Some(&"job-created"))
                .then(|| (fields[0].parse().unwrap(), fields[1].to_owned()))
        })
        .collect()
}

/// A CronJob is written as one, with its schedule, policy, deadline, zone and Job
/// template, and its running Job names it as its owner (its finished Job is not kept).
/// Reloaded, the same bytes; and the reloaded CronJob goes on from the instant written:
/// its Jobs are created at the same instants, under the same names, as the original
/// run's after that instant.
#[test]
fn a_cron_job_round_trips_and_goes_on_at_the_same_instants() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("cron.yaml"),
        "apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: '4', memory: 8Gi}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report}
spec:
  schedule: '*/5 * * * *'
  timeZone: Etc/UTC
  startingDeadlineSeconds: 60
  jobTemplate:
    spec:
      completions: 1
      template:
        metadata: {labels: {app: report}}
        spec:
          restartPolicy: Never
          containers: [{name: c, resources: {requests: {cpu: 500m, memory: 256Mi}}}]
",
    )
    .unwrap();
    let dynamics = "manifestDynamics: [{cronJob: report, duration: 7m}]\n";
    std::fs::write(
        d.join("s.yaml"),
        format!("startLatency: 0s\nduration: 30m\nmanifests: [cron.yaml]\n{dynamics}"),
    )
    .unwrap();
    // At 7m30s the Job of 0 s has finished (7 minutes) and that of 5 m runs.
    export_ok(d, "s.yaml", "first-fit", "7m30s", "state.yaml");
    let state = read_list(&d.join("state.yaml"));
    assert_eq!(
        item(&state, "CronJob", "report"),
        &serde_json::json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "report", "namespace": "default",
                "annotations": {"schedlab.io/snapshot-time": "1970-01-05T00:07:30Z"}},
            "spec": {
                "schedule": "*/5 * * * *",
                "timeZone": "Etc/UTC",
                "concurrencyPolicy": "Allow",
                "startingDeadlineSeconds": 60,
                "jobTemplate": {"spec": {
                    "completions": 1, "parallelism": 1, "backoffLimit": 6,
                    "selector": {"matchLabels": {"app": "report"}},
                    "template": {
                        "metadata": {"labels": {"app": "report"}},
                        "spec": {
                            "containers": [{"name": "c", "resources":
                                {"requests": {"cpu": "500m", "memory": "256Mi"}}}],
                            "priority": 0,
                            "preemptionPolicy": "PreemptLowerPriority",
                            "terminationGracePeriodSeconds": 30,
                            "restartPolicy": "Never",
                        },
                    },
                }},
            },
        })
    );
    let jobs: Vec<&str> = state["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "Job")
        .map(|i| i["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(jobs, ["report-5765"]);
    assert_eq!(
        item(&state, "Job", "report-5765")["metadata"]["ownerReferences"],
        serde_json::json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "controller": true}])
    );
    let bound: Vec<String> = placements(&state).remove("n1").unwrap();
    assert_eq!(bound, ["report-5765-0"]);

    // Reloaded (a CronJob needs the horizon and, for its pods' run time, the same
    // manifestDynamics), exported at 0 s: the same bytes.
    std::fs::write(
        d.join("r.yaml"),
        format!("startLatency: 0s\nduration: 30m\nmanifests: [state.yaml]\n{dynamics}"),
    )
    .unwrap();
    export_ok(d, "r.yaml", "first-fit", "0s", "again.yaml");
    assert_eq!(
        std::fs::read_to_string(d.join("again.yaml")).unwrap(),
        std::fs::read_to_string(d.join("state.yaml")).unwrap(),
        "the reloaded state differs from the exported one"
    );

    // The original creates report-5770 at 10 m, ... up to its 30 m horizon; the reload,
    // whose 0 s is the original's 7m30s, creates the same Jobs 450 s earlier.
    let original: Vec<(f64, String)> = jobs_created(d, "s.yaml")
        .into_iter()
        .filter(|(t, _)| *t > 450.0)
        .collect();
    let reloaded: Vec<(f64, String)> = jobs_created(d, "r.yaml")
        .into_iter()
        .map(|(t, name)| (t + 450.0, name))
        .filter(|(t, _)| *t < 1800.0)
        .collect();
    assert_eq!(original.len(), 4, "{original:?}");
    assert_eq!(original[0], (600.0, "report-5770".to_owned()));
    assert_eq!(reloaded, original);
}
