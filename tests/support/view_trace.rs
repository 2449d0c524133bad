//! What `tests/view.rs` and `tests/view_browser.rs` share: the demo run and the pods on
//! each node read from a `trace.csv` alone.

// Each test crate that includes this module uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/fixtures/view/demo.yaml`: three nodes; n1 crashes at 300 s (NotReady 50 s
/// later, its pod evicted by the taint at 650 s and replaced), n3 is drained at 720 s;
/// `big` fits nowhere.
pub const DEMO: &str = include_str!("../fixtures/view/demo.yaml");

/// Runs the binary in `dir`.
pub fn schedlab(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs `scenario` with `--view` and returns the run's folder.
pub fn run_view(dir: &Path, scenario: &str, scheduler: &str) -> PathBuf {
    fs::write(dir.join("s.yaml"), scenario).unwrap();
    let out = schedlab(
        &[
            "run",
            "s.yaml",
            "--scheduler",
            scheduler,
            "--view",
            "--out",
            "out",
        ],
        dir,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = scenario
        .lines()
        .find_map(|l| l.strip_prefix("name: "))
        .unwrap();
    let seed = scenario
        .lines()
        .find_map(|l| l.strip_prefix("seed: "))
        .unwrap();
    dir.join("out")
        .join(name)
        .join(scheduler)
        .join(format!("seed-{seed}"))
}

/// `trace.csv` as (time in microseconds, pod, event, detail) rows.
pub fn trace(run: &Path) -> Vec<(u64, String, String, String)> {
    let text = fs::read_to_string(run.join("trace.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,pod,event,detail"));
    lines
        .map(|line| {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let r = reader.records().next().unwrap().unwrap();
            let (s, us) = r[0].split_once('.').unwrap();
            let time = s.parse::<u64>().unwrap() * 1_000_000 + us.parse::<u64>().unwrap();
            (time, r[1].to_string(), r[2].to_string(), r[3].to_string())
        })
        .collect()
}

/// The pods on each node after every trace row at or before `t`, from the trace alone:
/// `bound` puts a pod on its node, and the events that end a pod take it off.
pub fn pods_on_nodes(
    rows: &[(u64, String, String, String)],
    t: u64,
) -> BTreeMap<String, Vec<String>> {
    let mut on: BTreeMap<String, String> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for (time, pod, event, detail) in rows.iter().filter(|r| r.0 <= t) {
        let _ = time;
        match event.as_str() {
            "bound" => {
                on.insert(pod.clone(), detail.clone());
                order.retain(|p| p != pod);
                order.push(pod.clone());
            }
            "finished" | "evicted" | "rejected" | "abandoned" | "created" => {
                on.remove(pod);
            }
            "failed" if detail != "restarting" => {
                on.remove(pod);
            }
            _ => {}
        }
    }
    let mut nodes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for pod in order {
        if let Some(node) = on.get(&pod) {
            nodes.entry(node.clone()).or_default().push(pod);
        }
    }
    nodes
}
