//! End-to-end tests of `--scheduler-config`: the real binary loads a
//! `KubeSchedulerConfiguration` from a temporary directory and runs (or explains with)
//! its profiles by `schedulerName`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Two profiles: `bin-packing` scores with NodeResourcesFit's MostAllocated, and
/// `default-scheduler` is kube-scheduler's default profile. The process settings around
/// them are accepted and ignored; ImageLocality is accepted with a warning.
const CONFIG: &str = "\
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: /etc/kubernetes/scheduler.conf
leaderElection:
  leaderElect: false
profiles:
  - schedulerName: bin-packing
    pluginConfig:
      - name: NodeResourcesFit
        args:
          scoringStrategy:
            type: MostAllocated
            resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
  - schedulerName: default-scheduler
    plugins:
      multiPoint:
        enabled: [{name: ImageLocality, weight: 1}]
";

/// Four identical nodes and six pods arriving ten seconds apart, each a quarter of a node
/// in CPU and memory alike (so BalancedAllocation has no preference): spreading uses all
/// four nodes, packing fills one node before starting the next. The scenario names the
/// configuration's profiles in `schedulers:`.
const SCENARIO: &str = "\
name: packing
seed: 11
duration: 10m
schedulers: [bin-packing, default-scheduler]
cluster:
  nodePools: [{name: n, count: 4, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - batch: job
    arrivals: {process: fixed, interval: 10s, count: 6}
    requests: {cpu: \"1\", memory: 2Gi}
    duration: 1h
";

fn schedlab(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the schedlab binary starts")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
}

/// The nodes pods were bound to, from a run's trace.csv (`time_s,pod,event,detail`).
fn nodes_used(trace: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(trace).unwrap_or_else(|e| panic!("{}: {e}", trace.display()));
    let mut bound = 0;
    let nodes = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields.get(2) == Some(&"bound")).then(|| {
                bound += 1;
                fields[3].to_string()
            })
        })
        .collect();
    assert_eq!(bound, 6, "every pod is bound once:\n{text}");
    nodes
}

#[test]
fn bin_packing_profile_packs_tighter_than_the_default() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scheduler.yaml", CONFIG);
    write(dir.path(), "packing.yaml", SCENARIO);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "packing.yaml",
            "--scheduler-config",
            "scheduler.yaml",
            "--trace",
            "-o",
            "out",
        ],
    );
    assert_code(&out, 0);
    // The ignored plugin is reported on stderr with its position, once.
    let err = stderr(&out);
    assert_eq!(
        err.matches("warning: ").count(),
        1,
        "one warning expected:\n{err}"
    );
    assert!(
        err.contains(
            "warning: scheduler.yaml:18:26: profiles[1].plugins.multiPoint.enabled[0].name: \
             plugin ImageLocality is accepted but not simulated"
        ),
        "{err}"
    );

    let run = |scheduler: &str| dir.path().join(format!("out/packing/{scheduler}/seed-11"));
    let packed = nodes_used(&run("bin-packing").join("trace.csv"));
    let spread = nodes_used(&run("default-scheduler").join("trace.csv"));
    assert_eq!(
        packed.len(),
        2,
        "MostAllocated fills a node first: {packed:?}"
    );
    assert_eq!(spread.len(), 4, "LeastAllocated spreads: {spread:?}");

    let summary = fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    assert!(summary.contains("\npacking,bin-packing,11,"), "{summary}");
    assert!(
        summary.contains("\npacking,default-scheduler,11,"),
        "{summary}"
    );
}

#[test]
fn the_default_profile_places_pods_exactly_as_kube_default() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scheduler.yaml", CONFIG);
    write(dir.path(), "packing.yaml", SCENARIO);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "packing.yaml",
            "--scheduler-config",
            "scheduler.yaml",
            "--scheduler",
            "default-scheduler",
            "--scheduler",
            "kube-default",
            "--trace",
            "-o",
            "out",
        ],
    );
    assert_code(&out, 0);
    let trace = |s: &str| {
        fs::read(
            dir.path()
                .join(format!("out/packing/{s}/seed-11/trace.csv")),
        )
    };
    assert_eq!(
        trace("default-scheduler").unwrap(),
        trace("kube-default").unwrap()
    );
}

#[test]
fn explain_runs_a_configured_profile() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scheduler.yaml", CONFIG);
    write(dir.path(), "packing.yaml", SCENARIO);
    let out = schedlab(
        dir.path(),
        &[
            "explain",
            "packing.yaml",
            "--pod",
            "job-1",
            "--at",
            "10s",
            "--scheduler-config",
            "scheduler.yaml",
            "--scheduler",
            "bin-packing",
            "--json",
        ],
    );
    assert_code(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["profile"], "bin-packing", "{json}");
}

#[test]
fn the_bundled_example_loads() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/configs/bin-packing.yaml");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "packing.yaml", SCENARIO);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "packing.yaml",
            "--scheduler-config",
            example.to_str().unwrap(),
            "-o",
            "out",
        ],
    );
    assert_code(&out, 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn a_bad_configuration_is_refused_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "packing.yaml", SCENARIO);
    let bad = CONFIG.replace("type: MostAllocated", "type: MostAllocatd");
    write(dir.path(), "scheduler.yaml", &bad);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "packing.yaml",
            "--scheduler-config",
            "scheduler.yaml",
        ],
    );
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains(
            "error: scheduler.yaml:13:19: profiles[0].pluginConfig[0].args.scoringStrategy.type: \
             unsupported value \"MostAllocatd\""
        ),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("results").exists(), "nothing ran");

    // A profile may not take a built-in scheduler's name.
    let clash = CONFIG.replace("schedulerName: bin-packing", "schedulerName: kube-default");
    write(dir.path(), "scheduler.yaml", &clash);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "packing.yaml",
            "--scheduler-config",
            "scheduler.yaml",
        ],
    );
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains(
            "error: scheduler.yaml:8:20: profiles[0].schedulerName: \"kube-default\" is already \
             the name of a built-in scheduler"
        ),
        "{}",
        stderr(&out)
    );
}
