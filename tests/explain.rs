//! End-to-end tests of `schedlab explain`: each test runs the real binary from a temporary
//! directory, on the bundled `scenarios/explain-demo.yaml` or on a small scenario written
//! there, and checks the exit code, stderr, the JSON object or the table.
//!
//! The demo's nodes are each built to fail one filter plugin (NodeUnschedulable,
//! TaintToleration, NodeAffinity, NodeResourcesFit), so the tests check every plugin's
//! verdict and reason as `explain` reports them.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The nodes of explain-demo.yaml, in kube-scheduler's visiting order (zones a, b, c
/// interleaved), which is also file order there.
const DEMO_NODES: [&str; 6] = [
    "a-ssd",
    "b-spot",
    "c-plain",
    "a-full",
    "b-cordoned",
    "a-gpu",
];

/// The score plugins of kube-default, in profile order.
const SCORE_PLUGINS: [&str; 4] = [
    "TaintToleration",
    "NodeAffinity",
    "NodeResourcesFit",
    "NodeResourcesBalancedAllocation",
];

/// Two nodes, both cordoned: NodeUnschedulable (implemented) rejects both, so the pod is
/// unschedulable whatever the placeholder plugins do.
const ALL_CORDONED: &str = "\
name: all-cordoned
cluster:
  nodes:
    - {name: n1, allocatable: {cpu: \"2\", memory: 4Gi}, unschedulable: true}
    - {name: n2, allocatable: {cpu: \"2\", memory: 4Gi}, unschedulable: true}
workloads:
  - pod: stuck
    at: 5s
    requests: {cpu: \"1\", memory: 1Gi}
";

/// The bundled demo scenario, as an absolute path so tests can run from a temporary
/// directory.
fn demo() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/explain-demo.yaml")
        .to_str()
        .expect("the checkout path is UTF-8")
        .to_string()
}

/// Runs `schedlab explain ARGS...` in a fresh temporary directory, so nothing depends on
/// (or writes to) the current directory.
fn explain(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .arg("explain")
        .args(args)
        .current_dir(dir.path())
        .output()
        .expect("the schedlab binary starts")
}

/// Writes a scenario into `dir` and returns its path as a string argument.
fn scenario_file(dir: &Path, name: &str, text: &str) -> String {
    let path: PathBuf = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Asserts the exit code (and that nothing panicked), showing both streams otherwise;
/// returns (stdout, stderr).
#[track_caller]
fn expect_code(out: &Output, code: i32) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "stderr:\n{stderr}");
    (stdout, stderr)
}

/// `explain --json` on the demo's `demo` pod, parsed.
fn demo_json() -> Value {
    let (stdout, _) = expect_code(&explain(&[&demo(), "--pod", "demo", "--json"]), 0);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// The entry of `nodes` for the named node.
#[track_caller]
fn node<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == name)
        .unwrap_or_else(|| panic!("no entry for {name} in {report}"))
}

/// Asserts that the node was evaluated and rejected by `plugin`, with a reason containing
/// `reason`, and carries no scores.
#[track_caller]
fn assert_rejected(report: &Value, name: &str, plugin: &str, reason: &str) {
    let n = node(report, name);
    assert_eq!(n["evaluated"], true, "{n}");
    assert_eq!(n["feasible"], false, "{n}");
    assert_eq!(n["failedPlugin"], plugin, "{n}");
    let reasons: Vec<&str> = n["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(reasons.iter().any(|r| r.contains(reason)), "{n}");
    assert_eq!(n["scores"], serde_json::json!({}), "{n}");
}

#[test]
fn json_is_one_object_naming_the_pod_and_every_node() {
    let report = demo_json();
    let object = report.as_object().unwrap();
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    for key in ["pod", "time_s", "profile", "selected", "diagnosis", "nodes"] {
        assert!(keys.contains(&key), "missing {key}: {report}");
    }
    assert_eq!(report["pod"], "demo");
    assert_eq!(report["profile"], "kube-default");
    // demo arrives at 10s and is attempted at once.
    assert_eq!(report["time_s"].as_f64(), Some(10.0));
    assert!(report["diagnosis"].is_null());

    let names: Vec<&str> = report["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    assert_eq!(names, DEMO_NODES, "one entry per node, in visiting order");

    let selected = report["selected"].as_str().expect("a node is selected");
    assert!(DEMO_NODES.contains(&selected), "{selected}");
    assert_eq!(node(&report, selected)["feasible"], true);
}

#[test]
fn cordoned_node_is_rejected_by_node_unschedulable() {
    let report = demo_json();
    assert_rejected(
        &report,
        "b-cordoned",
        "NodeUnschedulable",
        "node(s) were unschedulable",
    );
}

#[test]
fn feasible_nodes_carry_every_score_plugin_and_their_total() {
    let (stdout, _) = expect_code(&explain(&[&demo(), "--pod", "demo", "--json"]), 0);
    // Every non-empty `scores` object lists its plugins in profile order.
    let objects: Vec<&str> = stdout
        .split("\"scores\":{")
        .skip(1)
        .map(|rest| rest.split("}}").next().unwrap())
        .filter(|object| !object.starts_with('}'))
        .collect();
    assert!(!objects.is_empty(), "{stdout}");
    for object in objects {
        let positions: Vec<usize> = SCORE_PLUGINS
            .iter()
            .map(|p| object.find(&format!("\"{p}\":")).expect(p))
            .collect();
        assert!(positions.is_sorted(), "not in profile order: {object}");
    }

    let report: Value = serde_json::from_str(&stdout).unwrap();
    for n in report["nodes"].as_array().unwrap() {
        assert_eq!(n["evaluated"], true, "six nodes are all evaluated: {n}");
        if n["feasible"] != true {
            assert!(n["failedPlugin"].is_string(), "{n}");
            continue;
        }
        assert!(n["failedPlugin"].is_null(), "{n}");
        assert_eq!(n["reasons"], serde_json::json!([]), "{n}");
        let scores = n["scores"].as_object().unwrap();
        let mut plugins: Vec<&str> = scores.keys().map(String::as_str).collect();
        let mut expected = SCORE_PLUGINS;
        // The order was checked on the raw text above: a parsed map may reorder keys.
        plugins.sort_unstable();
        expected.sort_unstable();
        assert_eq!(plugins, expected, "{n}");
        let mut total = 0;
        for score in scores.values() {
            let normalized = score["normalized"].as_i64().unwrap();
            assert!((0..=100).contains(&normalized), "{n}");
            assert!(score["raw"].is_i64(), "{n}");
            total += normalized * score["weight"].as_i64().unwrap();
        }
        assert_eq!(n["total"].as_i64(), Some(total), "{n}");
    }
    let scores = &node(&report, report["selected"].as_str().unwrap())["scores"];
    let weights = SCORE_PLUGINS.map(|p| scores[p]["weight"].as_i64());
    assert_eq!(
        weights,
        [Some(3), Some(2), Some(1), Some(1)],
        "kube-default's weights"
    );
}

#[test]
fn tainted_node_is_rejected_by_taint_toleration() {
    let report = demo_json();
    assert_rejected(&report, "a-gpu", "TaintToleration", "untolerated taint");
    // demo tolerates the spot taint, so that node stays in the running.
    assert_eq!(node(&report, "b-spot")["feasible"], true);
}

#[test]
fn node_in_another_zone_is_rejected_by_node_affinity() {
    let report = demo_json();
    assert_rejected(
        &report,
        "c-plain",
        "NodeAffinity",
        "didn't match Pod's node affinity/selector",
    );
}

#[test]
fn full_node_is_rejected_by_node_resources_fit() {
    let report = demo_json();
    assert_rejected(&report, "a-full", "NodeResourcesFit", "Insufficient cpu");
    // Memory still fits (4Gi + 2Gi of 8Gi): only the CPU is reported.
    let reasons = &node(&report, "a-full")["reasons"];
    assert_eq!(reasons, &serde_json::json!(["Insufficient cpu"]));
}

#[test]
fn preferred_ssd_node_beats_the_emptier_one() {
    let report = demo_json();
    assert_eq!(report["selected"], "a-ssd", "{report}");
    let ssd = &node(&report, "a-ssd")["scores"];
    let spot = &node(&report, "b-spot")["scores"];
    // The preference (weight 50) is the only one, so it normalizes to the maximum.
    assert_eq!(
        ssd["NodeAffinity"],
        serde_json::json!({"raw": 50, "normalized": 100, "weight": 2})
    );
    assert_eq!(spot["NodeAffinity"]["normalized"], 0);
    // LeastAllocated prefers the empty node; the preference outweighs it.
    assert!(
        spot["NodeResourcesFit"]["normalized"].as_i64()
            > ssd["NodeResourcesFit"]["normalized"].as_i64(),
        "{report}"
    );
}

#[test]
fn unschedulable_pod_has_no_selection_and_a_diagnosis() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), "all-cordoned.yaml", ALL_CORDONED);
    let (stdout, _) = expect_code(&explain(&[&path, "--pod", "stuck", "--json"]), 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(report["selected"].is_null(), "{report}");
    assert_eq!(
        report["diagnosis"],
        "0/2 nodes are available: 2 node(s) were unschedulable."
    );
    assert_eq!(report["time_s"].as_f64(), Some(5.0));

    let (table, _) = expect_code(&explain(&[&path, "--pod", "stuck"]), 0);
    let header = table.lines().next().unwrap();
    assert_eq!(
        header,
        "pod stuck at 5s, profile kube-default: unschedulable: \
         0/2 nodes are available: 2 node(s) were unschedulable."
    );
}

#[test]
fn table_marks_the_selected_node_and_lists_every_node() {
    let (table, _) = expect_code(&explain(&[&demo(), "--pod", "demo"]), 0);
    let lines: Vec<&str> = table.lines().collect();
    let header = lines[0];
    let selected = header
        .strip_prefix("pod demo at 10s, profile kube-default: selected ")
        .unwrap_or_else(|| panic!("header: {header}"));
    assert!(DEMO_NODES.contains(&selected), "{header}");

    // The column header, then one row per node: the name is the second column, and it
    // starts at the same position on every row.
    let column = lines[1].find("node").expect("a column header");
    assert!(lines[1].contains("feasible"), "{table}");
    for (row, name) in lines[2..].iter().zip(DEMO_NODES) {
        assert_eq!(row.get(column..column + name.len()), Some(name), "{table}");
        let marked = row.starts_with('*');
        assert_eq!(
            marked,
            name == selected,
            "only {selected} is marked:\n{table}"
        );
    }
    let cordoned = lines
        .iter()
        .find(|l| l.contains("b-cordoned"))
        .expect("a row for b-cordoned");
    assert!(
        cordoned.contains("NodeUnschedulable: node(s) were unschedulable"),
        "{cordoned}"
    );
    for plugin in SCORE_PLUGINS {
        assert!(lines[1].contains(plugin), "{table}");
    }
}

#[test]
fn runs_are_deterministic() {
    for args in [
        vec![demo(), "--pod".into(), "demo".into()],
        vec![demo(), "--pod".into(), "demo".into(), "--json".into()],
        vec![
            demo(),
            "--pod".into(),
            "demo".into(),
            "--seed".into(),
            "99".into(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let first = explain(&args);
        let second = explain(&args);
        expect_code(&first, 0);
        assert_eq!(first.stdout, second.stdout, "{args:?}");
        assert_eq!(first.stderr, second.stderr, "{args:?}");
    }
}

#[test]
fn a_pod_that_never_exists_is_an_error() {
    let (stdout, stderr) = expect_code(&explain(&[&demo(), "--pod", "ghost"]), 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("pod \"ghost\" had no scheduling attempt at or after 0s"),
        "{stderr}"
    );
    assert!(stderr.contains("no pod has that name"), "{stderr}");
}

#[test]
fn pods_without_an_attempt_after_at_are_errors() {
    // filler names its node, so the scheduler never sees it.
    let (_, stderr) = expect_code(&explain(&[&demo(), "--pod", "filler"]), 1);
    assert!(stderr.contains("nodeName"), "{stderr}");
    // demo is bound at 10s: there is no attempt left to explain from 1m on.
    let (_, stderr) = expect_code(&explain(&[&demo(), "--pod", "demo", "--at", "1m"]), 1);
    assert!(
        stderr.contains("no scheduling attempt at or after 1m"),
        "{stderr}"
    );
    assert!(stderr.contains("bound before 1m"), "{stderr}");
}

#[test]
fn first_fit_cannot_explain_itself() {
    let (stdout, stderr) = expect_code(
        &explain(&[&demo(), "--pod", "demo", "--scheduler", "first-fit"]),
        1,
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("scheduler \"first-fit\" cannot explain"),
        "{stderr}"
    );
    assert!(stderr.contains("kube-default"), "{stderr}");
}

#[test]
fn unknown_scheduler_is_a_usage_error() {
    let (_, stderr) = expect_code(
        &explain(&[&demo(), "--pod", "demo", "--scheduler", "nope-fit"]),
        2,
    );
    assert!(
        stderr.contains("unknown scheduler \"nope-fit\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("kube-default"),
        "known names listed: {stderr}"
    );
}

#[test]
fn a_scheduler_argument_is_checked_like_runs() {
    let (_, stderr) = expect_code(
        &explain(&[&demo(), "--pod", "demo", "--scheduler", "kube-default:x=1"]),
        2,
    );
    assert!(
        stderr.contains(r#"scheduler "kube-default" takes no arguments, got "x""#),
        "{stderr}"
    );
}

#[test]
fn bad_at_names_the_flag() {
    let (_, stderr) = expect_code(&explain(&[&demo(), "--pod", "demo", "--at", "soon"]), 2);
    assert!(stderr.contains("--at"), "{stderr}");
    assert!(stderr.contains("invalid duration \"soon\""), "{stderr}");
}

#[test]
fn scenario_errors_are_reported_as_run_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), "bad.yaml", "cluster:\n  nodes: 3\n");
    let (_, stderr) = expect_code(&explain(&[&path, "--pod", "x"]), 1);
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("bad.yaml:2:"), "{stderr}");
}

/// One 4-CPU node full of priority-0 pods; a 3-CPU pod of priority 1000 arrives at 10 s.
const PREEMPTION: &str = "\
name: preempt-demo
duration: 1m
startLatency: 0s
cluster:
  nodes: [{name: only, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - deployment: low
    replicas: 2
    requests: {cpu: \"2\", memory: 1Gi}
  - pod: critical
    at: 10s
    priority: 1000
    requests: {cpu: \"3\", memory: 1Gi}
";

#[test]
fn preemption_names_the_nominated_node_and_its_victims() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), "preempt.yaml", PREEMPTION);
    let (stdout, _) = expect_code(&explain(&[&path, "--pod", "critical", "--json"]), 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["selected"], Value::Null);
    assert_eq!(report["preemption"]["node"], "only");
    assert_eq!(
        report["preemption"]["victims"],
        serde_json::json!(["low-0", "low-1"])
    );
    let (table, _) = expect_code(&explain(&[&path, "--pod", "critical"]), 0);
    assert!(
        table
            .lines()
            .next()
            .unwrap()
            .ends_with("-> preempts 2 on only (low-0, low-1)"),
        "{table}"
    );
}

/// Three 2-CPU nodes, two of them taken by 1500m blockers: the first member of a gang of
/// three finds one node and would wait there at Permit, its group at 1/3.
const GANG: &str = "\
name: gang-permit
podGroups:
  - {name: train, minMember: 3}
cluster:
  nodePools: [{name: n, count: 3, allocatable: {cpu: \"2\", memory: 8Gi}}]
workloads:
  - pod: blocker
    count: 2
    requests: {cpu: 1500m, memory: 1Gi}
  - pod: train
    count: 3
    at: 5s
    podGroup: train
    requests: {cpu: 1500m, memory: 1Gi}
";

#[test]
fn a_gang_member_says_it_waits_at_permit() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_file(dir.path(), "gang.yaml", GANG);
    let wait = "waits at Permit for pod group \"train\": 1/3 members bound or waiting";
    let (stdout, _) = expect_code(&explain(&[&path, "--pod", "train-0", "--json"]), 0);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["permit"], wait, "{report}");
    assert!(report["selected"].is_string(), "{report}");

    let (table, _) = expect_code(&explain(&[&path, "--pod", "train-0"]), 0);
    let header = table.lines().next().unwrap();
    assert!(
        header.starts_with("pod train-0 at 5s, profile kube-default: selected n-")
            && header.ends_with(&format!("; {wait}")),
        "{header}"
    );
    // A pod outside groups has no `permit` key.
    assert!(demo_json().get("permit").is_none());
}
