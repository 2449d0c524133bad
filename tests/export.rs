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
            other => panic!("unexpected kind {other:?}"),
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
