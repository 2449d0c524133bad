//! `schedlab view` and `run --view` through the real binary: the data embedded in the
//! page against the run's own `trace.csv` (pod events one for one, the pods on each node
//! at every event time), node changes, kube-default's explanations, the size of a page
//! of 10,000 events, the refusal of a run too large, and errors naming file, line and
//! field. `tests/view_browser.rs` drives the page itself in Chromium.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

#[path = "support/view_trace.rs"]
mod view_trace;
use view_trace::{DEMO, pods_on_nodes, run_view, schedlab, trace};

/// The JSON the page embeds.
fn embedded(page: &str) -> Value {
    let start = page
        .find("<script id=\"view-data\" type=\"application/json\">")
        .unwrap();
    let rest = &page[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(body).unwrap()
}

/// The page's events as trace rows: (time in microseconds, pod, event, detail).
fn decoded(data: &Value) -> Vec<(u64, String, String, String)> {
    let kinds = [
        "created",
        "bound",
        "unschedulable",
        "started",
        "finished",
        "evicted",
        "rejected",
        "abandoned",
        "failed",
        "oom-killed",
        "restarted",
    ];
    let name = |list: &str, i: &Value| {
        data[list][i.as_u64().unwrap() as usize][0]
            .as_str()
            .unwrap()
            .to_string()
    };
    data["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kind = kinds[e[2].as_u64().unwrap() as usize].to_string();
            let arg = e[3].as_i64().unwrap();
            let detail = if kind == "bound" {
                name("nodes", &e[3])
            } else if arg >= 0 {
                data["strings"][arg as usize].as_str().unwrap().to_string()
            } else {
                String::new()
            };
            (e[0].as_u64().unwrap(), name("pods", &e[1]), kind, detail)
        })
        .collect()
}

#[test]
fn the_page_embeds_the_trace_and_the_cluster_changes() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_view(dir.path(), DEMO, "kube-default");
    let page = fs::read_to_string(run.join("view.html")).unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "the page fetches nothing"
    );
    let data = embedded(&page);
    let rows = trace(&run);

    // Every pod row of the trace, and only those, in order.
    let pods: Vec<&str> = data["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[0].as_str().unwrap())
        .collect();
    assert_eq!(pods, ["web-0", "web-1", "web-2", "big", "web-3", "web-4"]);
    let pod_rows: Vec<_> = rows
        .iter()
        .filter(|r| pods.contains(&r.1.as_str()))
        .cloned()
        .collect();
    assert_eq!(decoded(&data), pod_rows);
    assert_eq!(
        pod_rows.len(),
        rows.len() - 1,
        "all but n1's node-failed row"
    );

    // The pods on each node at every time the trace names, both ways.
    let mut times: Vec<u64> = rows.iter().map(|r| r.0).collect();
    times.dedup();
    for &t in &times {
        assert_eq!(
            pods_on_nodes(&decoded(&data), t),
            pods_on_nodes(&rows, t),
            "at {t} us"
        );
    }
    // By hand: web-0 and web-1 score alike on n1 and n2 (the seed's tie-break sends
    // web-0 to n2), web-2 goes to the then emptiest n3; n1 crashes at 300 s, turns
    // NotReady at 350 s, and its pod web-1 is evicted at 650 s, when the 300 s toleration
    // of the unreachable taint runs out; its replacement web-3 goes to n2 (n1 is tainted),
    // and the drain of n3 at 720 s sends web-2's replacement web-4 to n2 too.
    let at = |s: u64| pods_on_nodes(&rows, s * 1_000_000);
    let expect = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(n, p)| (n.to_string(), p.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    assert_eq!(
        at(60),
        expect(&[("n1", &["web-1"]), ("n2", &["web-0"]), ("n3", &["web-2"])])
    );
    assert_eq!(
        at(660),
        expect(&[("n2", &["web-0", "web-3"]), ("n3", &["web-2"])])
    );
    assert_eq!(at(1199), expect(&[("n2", &["web-0", "web-3", "web-4"])]));

    // Node changes: n1 fails at 5m and turns NotReady 50 s later; n3 is cordoned at 12m.
    let node_events: Vec<(u64, String, &str)> = data["node_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kinds = [
                "added",
                "removed",
                "not-ready",
                "ready",
                "cordoned",
                "uncordoned",
                "failed",
                "recovered",
            ];
            (
                e[0].as_u64().unwrap(),
                data["nodes"][e[1].as_u64().unwrap() as usize][0]
                    .as_str()
                    .unwrap()
                    .to_string(),
                kinds[e[2].as_u64().unwrap() as usize],
            )
        })
        .collect();
    assert_eq!(
        node_events,
        [
            (0, "n1".to_string(), "added"),
            (0, "n2".to_string(), "added"),
            (0, "n3".to_string(), "added"),
            (300_000_000, "n1".to_string(), "failed"),
            (350_000_000, "n1".to_string(), "not-ready"),
            (720_000_000, "n3".to_string(), "cordoned"),
        ]
    );
    assert_eq!(
        data["nodes"][2],
        serde_json::json!(["n3", 2000, 4u64 << 30])
    );
    assert_eq!(
        data["pods"][3],
        serde_json::json!(["big", 1, 8000, 1u64 << 30])
    );

    // kube-default explains each placement: web-0's chosen node is where the trace bound
    // it, and big's attempt is unschedulable in upstream's words.
    let explained = data["explained"].as_array().unwrap();
    assert_eq!(explained.len(), 6);
    let web0 = &explained[0];
    assert_eq!(web0["pod"], 0);
    assert_eq!(
        data["nodes"][web0["selected"].as_u64().unwrap() as usize][0],
        "n2"
    );
    assert_eq!(web0["nodes"].as_array().unwrap().len(), 3);
    // The score plugins that scored this pod (the others skip a pod without affinity,
    // spread constraints or images), and per node their weighted scores, which add up to
    // the total: TaintToleration 100 x3, NodeResourcesFit and BalancedAllocation x1.
    assert_eq!(
        web0["plugins"],
        serde_json::json!([
            "TaintToleration",
            "NodeResourcesFit",
            "NodeResourcesBalancedAllocation"
        ])
    );
    for x in explained {
        for v in x["nodes"].as_array().unwrap() {
            let scores = v[3].as_array().unwrap();
            if v[1] == -1 {
                let sum: i64 = scores.iter().map(|s| s.as_i64().unwrap()).sum();
                assert_eq!(sum, v[2].as_i64().unwrap(), "{v}");
                assert_eq!(scores[0], 300, "{v}");
            } else {
                assert!(scores.is_empty(), "{v}");
            }
        }
    }
    let big = &explained[3];
    assert_eq!(big["selected"], Value::Null);
    assert_eq!(
        data["strings"][big["diagnosis"].as_u64().unwrap() as usize],
        "0/3 nodes are available: 3 Insufficient cpu."
    );
    let verdicts: Vec<&str> = big["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            data["strings"][v[1].as_u64().unwrap() as usize]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(verdicts, ["NodeResourcesFit: Insufficient cpu"; 3]);
}

#[test]
fn view_rewrites_the_page_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_view(dir.path(), DEMO, "kube-default");
    let out = schedlab(
        &["view", run.to_str().unwrap(), "--out", "again.html"],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "view: again.html\n");
    assert_eq!(
        fs::read(dir.path().join("again.html")).unwrap(),
        fs::read(run.join("view.html")).unwrap()
    );
    // A run with --trace alone has what view needs, without explanations.
    let out = schedlab(
        &[
            "run",
            "s.yaml",
            "--scheduler",
            "kube-default",
            "--trace",
            "--out",
            "traced",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let traced = dir.path().join("traced/view-demo/kube-default/seed-1");
    assert!(!traced.join("view.html").exists());
    let out = schedlab(&["view", traced.to_str().unwrap()], dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = embedded(&fs::read_to_string(traced.join("view.html")).unwrap());
    let full = embedded(&fs::read_to_string(run.join("view.html")).unwrap());
    assert_eq!(data["explained"], serde_json::json!([]));
    assert_eq!(decoded(&data), decoded(&full));
    assert_eq!(data["pods"], full["pods"]);
}

#[test]
fn ten_thousand_events_make_a_page_of_under_two_megabytes() {
    let dir = tempfile::tempdir().unwrap();
    // 2,500 pods, each created, bound, started and finished: 10,000 trace rows.
    let scenario = "\
name: many
seed: 1
duration: 10h
cluster:
  nodePools: [{name: n, count: 40, allocatable: {cpu: \"8\", memory: 32Gi}}]
workloads:
  - batch: job
    arrivals: {process: poisson, ratePerMinute: 10, count: 2500}
    requests: {cpu: \"1\", memory: 1Gi}
    duration: 5m
";
    let run = run_view(dir.path(), scenario, "least-allocated");
    let rows = trace(&run).len();
    assert_eq!(rows, 10_000);
    let size = fs::metadata(run.join("view.html")).unwrap().len();
    println!("view.html of {rows} events: {size} bytes");
    assert!(size < 2_000_000, "{size} bytes");
}

#[test]
fn a_run_too_large_to_draw_is_refused_and_its_other_files_kept() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = "\
name: wide
seed: 1
duration: 1m
cluster:
  nodePools: [{name: n, count: 501, allocatable: {cpu: \"1\", memory: 1Gi}}]
workloads:
  - pod: one
    requests: {cpu: \"1\", memory: 1Gi}
";
    fs::write(dir.path().join("s.yaml"), scenario).unwrap();
    let out = schedlab(
        &[
            "run",
            "s.yaml",
            "--scheduler",
            "first-fit",
            "--view",
            "--out",
            "out",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("view.html not written")
            && stderr.contains("the run has 501 nodes; view draws runs of at most 500"),
        "{stderr}"
    );
    let run = dir.path().join("out/wide/first-fit/seed-1");
    assert!(run.join("trace.csv").exists() && !run.join("view.html").exists());
}

#[test]
fn a_bad_run_folder_is_named_with_its_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_view(dir.path(), DEMO, "first-fit");
    let view = |path: &Path| {
        let out = schedlab(&["view", path.to_str().unwrap()], dir.path());
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    let missing = view(&dir.path().join("nowhere"));
    assert!(missing.contains("nowhere: not a run folder"), "{missing}");

    let trace_path = run.join("trace.csv");
    let good = fs::read_to_string(&trace_path).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines[2] = "soon,web-1,created,";
    fs::write(&trace_path, lines.join("\n")).unwrap();
    let bad_time = view(&run);
    assert!(
        bad_time.contains("trace.csv:3: field time_s: `soon` is not a time in seconds"),
        "{bad_time}"
    );
    lines[2] = "0.000000,web-1,bound,n9";
    fs::write(&trace_path, lines.join("\n")).unwrap();
    let bad_node = view(&run);
    assert!(
        bad_node.contains("trace.csv:3: field detail: node `n9` is not in view-data.json"),
        "{bad_node}"
    );
    let long = format!(
        "time_s,pod,event,detail\n{}",
        "0.000000,web-0,started,\n".repeat(50_001)
    );
    fs::write(&trace_path, long).unwrap();
    let too_long = view(&run);
    assert!(
        too_long.contains(
            "trace.csv: the trace has more than 50000 rows; view replays runs of at most 50000"
        ),
        "{too_long}"
    );
    fs::write(&trace_path, &good).unwrap();

    let data_path = run.join("view-data.json");
    let text = fs::read_to_string(&data_path).unwrap();
    fs::write(&data_path, text.replace("\"pods\":", "\"pods\":7,\"x\":")).unwrap();
    let bad_json = view(&run);
    assert!(
        bad_json.contains("view-data.json:1:") && bad_json.contains("invalid type: integer `7`"),
        "{bad_json}"
    );
    fs::remove_file(&data_path).unwrap();
    let no_data = view(&run);
    assert!(
        no_data.contains("view-data.json: cannot be read") && no_data.contains("run --trace"),
        "{no_data}"
    );
}

#[test]
fn nodes_that_join_and_leave_appear_when_they_did() {
    let dir = tempfile::tempdir().unwrap();
    // Lesson 10: the cluster autoscaler adds two nodes for the burst and removes them
    // once they have been unneeded long enough.
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/learn/10-autoscaler.yaml");
    let out = schedlab(
        &["run", scenario.to_str().unwrap(), "--view", "--out", "out"],
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = dir
        .path()
        .join("out/learn-10-autoscaler/kube-default/seed-1");
    let data = embedded(&fs::read_to_string(run.join("view.html")).unwrap());
    let kinds = [
        "added",
        "removed",
        "not-ready",
        "ready",
        "cordoned",
        "uncordoned",
        "failed",
        "recovered",
    ];
    let later: Vec<(u64, &str, &str)> = data["node_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e[0].as_u64().unwrap() > 0)
        .map(|e| {
            (
                e[0].as_u64().unwrap() / 1_000_000,
                data["nodes"][e[1].as_u64().unwrap() as usize][0]
                    .as_str()
                    .unwrap(),
                kinds[e[2].as_u64().unwrap() as usize],
            )
        })
        .collect();
    assert_eq!(
        later,
        [
            (370, "extra-0", "added"),
            (370, "extra-1", "added"),
            (1580, "extra-0", "removed"),
            (1580, "extra-1", "removed"),
        ]
    );
    // The trace's pods on the new nodes while they are there, and none once they left.
    let rows = trace(&run);
    let on_extra = |t: u64| {
        pods_on_nodes(&rows, t * 1_000_000)
            .into_iter()
            .filter(|(node, _)| node.starts_with("extra-"))
            .map(|(_, pods)| pods.len())
            .sum::<usize>()
    };
    assert!(on_extra(400) > 0);
    assert_eq!(on_extra(1580), 0);
    assert_eq!(
        pods_on_nodes(&decoded(&data), 400 * 1_000_000),
        pods_on_nodes(&rows, 400 * 1_000_000)
    );
}

#[test]
fn the_page_is_the_same_on_every_run() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    let a = fs::read(run_view(one.path(), DEMO, "kube-default").join("view.html")).unwrap();
    let b = fs::read(run_view(two.path(), DEMO, "kube-default").join("view.html")).unwrap();
    assert!(
        a == b,
        "view.html differs between two runs of the same scenario and seed"
    );
}
