//! End-to-end tests of `--scheduler-config`: the real binary loads a
//! `KubeSchedulerConfiguration` from a temporary directory and runs (or explains with)
//! its profiles by `schedulerName`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

#[path = "support/cli.rs"]
mod support;
use support::{assert_code, schedlab, stderr, write};

/// Two profiles: `bin-packing` scores with NodeResourcesFit's MostAllocated, and
/// `default-scheduler` is kube-scheduler's default profile. The process settings around
/// them are accepted and ignored; DynamicResources is accepted with a warning.
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
        enabled: [{name: DynamicResources, weight: 1}]
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
             plugin DynamicResources is accepted but not simulated"
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

// ----- `schedulerConfig:` in the scenario ----------------------------------------------

/// [`SCENARIO`] with a `schedulerConfig:` naming [`CONFIG`] at `configs/scheduler.yaml`,
/// relative to the scenario's own directory, `scenarios/`.
fn scenario_with_config(dir: &Path, config: &str) -> PathBuf {
    fs::create_dir_all(dir.join("configs")).unwrap();
    fs::create_dir_all(dir.join("scenarios")).unwrap();
    write(dir, "configs/scheduler.yaml", config);
    let scenario = SCENARIO.replace(
        "schedulers: [bin-packing, default-scheduler]",
        "schedulerConfig: ../configs/scheduler.yaml\nschedulers: [bin-packing]",
    );
    write(dir, "scenarios/packing.yaml", &scenario)
}

/// The built-in registry's check of a `schedulers:` entry, as hosts pass it.
fn is_builtin(
    spec: &schedulers::SchedulerSpec,
    profiles: &[(
        String,
        schedulers::framework::plugin_registry::ResolvedProfile,
    )],
) -> Result<String, schedulers::SpecError> {
    schedulers::Registry::builtin().check(spec, profiles)
}

#[test]
fn a_scenario_loads_the_profiles_of_its_scheduler_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario_with_config(dir.path(), CONFIG);
    let scenario = sim::load_scenario(&path, &is_builtin).expect("loads");
    let names: Vec<&str> = scenario.profiles.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["bin-packing", "default-scheduler"]);
    let labels: Vec<&str> = scenario
        .schedulers
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(labels, ["bin-packing"]);
    assert_eq!(scenario.profiles[0].1.name(), "bin-packing");
    // The ignored plugin comes back as a warning pointing into the configuration file.
    assert_eq!(
        scenario.profile_warnings.len(),
        1,
        "{:?}",
        scenario.profile_warnings
    );
    assert!(
        scenario.profile_warnings[0].contains("scheduler.yaml:18:26: "),
        "{:?}",
        scenario.profile_warnings
    );
}

#[test]
fn scenario_scheduler_config_errors_say_where() {
    let dir = tempfile::tempdir().unwrap();

    // An unknown plugin inside the configuration: its file, line and column.
    let bad = CONFIG.replace("name: DynamicResources", "name: DynamicResourcs");
    let path = scenario_with_config(dir.path(), &bad);
    let err = sim::load_scenario(&path, &is_builtin).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("scheduler.yaml:18:26: "), "{shown}");
    assert!(shown.contains("DynamicResourcs"), "{shown}");
    assert_eq!((err.line, err.column), (Some(18), Some(26)), "{shown}");

    // A profile named like a built-in scheduler.
    let clash = CONFIG.replace("schedulerName: bin-packing", "schedulerName: kube-default");
    let path = scenario_with_config(dir.path(), &clash);
    let shown = sim::load_scenario(&path, &is_builtin)
        .unwrap_err()
        .to_string();
    assert!(
        shown.contains(
            "scheduler.yaml:8:20: profiles[0].schedulerName: \"kube-default\" is already the \
             name of a built-in scheduler"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("packing.yaml:4:"),
        "names the scenario's line: {shown}"
    );

    // A missing file: the scenario's line and column.
    let path = scenario_with_config(dir.path(), CONFIG);
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("../configs/scheduler.yaml", "nowhere.yaml");
    fs::write(&path, text).unwrap();
    let shown = sim::load_scenario(&path, &is_builtin)
        .unwrap_err()
        .to_string();
    assert!(
        shown.contains("packing.yaml:4:18: schedulerConfig: no scheduler configuration at"),
        "{shown}"
    );
}

#[test]
fn a_scenario_runs_the_profiles_of_its_scheduler_config() {
    let dir = tempfile::tempdir().unwrap();
    scenario_with_config(dir.path(), CONFIG);
    let out = schedlab(
        dir.path(),
        &["run", "scenarios/packing.yaml", "--trace", "-o", "out"],
    );
    assert_code(&out, 0);
    let err = stderr(&out);
    assert_eq!(err.matches("warning: ").count(), 1, "{err}");
    assert!(
        err.contains("plugin DynamicResources is accepted but not simulated"),
        "{err}"
    );
    let packed = nodes_used(&dir.path().join("out/packing/bin-packing/seed-11/trace.csv"));
    assert_eq!(
        packed.len(),
        2,
        "MostAllocated fills a node first: {packed:?}"
    );
    let summary = fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    assert!(summary.contains("\npacking,bin-packing,11,"), "{summary}");

    // explain builds the scenario's profile too.
    let out = schedlab(
        dir.path(),
        &[
            "explain",
            "scenarios/packing.yaml",
            "--pod",
            "job-1",
            "--at",
            "10s",
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
fn the_bundled_bin_packing_scenario_leaves_a_node_free() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let scenario = root.join("scenarios/bin-packing.yaml");
    let out = schedlab(
        dir.path(),
        &["run", scenario.to_str().unwrap(), "-o", "out"],
    );
    assert_code(&out, 0);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let summary = fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let pending = header
        .iter()
        .position(|c| *c == "pods_pending_at_end")
        .expect("a pods_pending_at_end column");
    let pending_of = |scheduler: &str| {
        let row = summary
            .lines()
            .find(|l| l.starts_with(&format!("bin-packing,{scheduler},")))
            .unwrap_or_else(|| panic!("no {scheduler} row:\n{summary}"));
        row.split(',').nth(pending).unwrap().to_string()
    };
    assert_eq!(pending_of("kube-default"), "1", "{summary}");
    assert_eq!(pending_of("bin-packing"), "0", "{summary}");
}

/// A scenario with its configuration inline, under `schedulerConfig:`.
const INLINE: &str = "\
name: inline
schedulerConfig:
  apiVersion: kubescheduler.config.k8s.io/v1
  kind: KubeSchedulerConfiguration
  profiles:
    # packs
    - schedulerName: packer
      pluginConfig:
        - name: NodeResourcesFit
          args:
            scoringStrategy: {type: MostAllocated}
schedulers: [kube-default, packer]
cluster:
  nodePools: [{name: n, count: 4, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - pod: p
    count: 4
    requests: {cpu: \"1\", memory: 2Gi}
";

#[test]
fn an_inline_scheduler_config_loads_and_points_into_the_scenario() {
    let scenario =
        sim::parse_scenario(INLINE, "scenarios/inline.yaml", &is_builtin).expect("loads");
    let names: Vec<&str> = scenario.profiles.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["packer"]);
    let labels: Vec<&str> = scenario
        .schedulers
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(labels, ["kube-default", "packer"]);
    assert!(
        scenario.profile_warnings.is_empty(),
        "{:?}",
        scenario.profile_warnings
    );

    // An unknown plugin: the scenario's file, line and column, and the field below
    // `schedulerConfig`.
    let bad = INLINE.replace("name: NodeResourcesFit", "name: NodeResourceFit");
    let err = sim::parse_scenario(&bad, "scenarios/inline.yaml", &is_builtin).unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.starts_with(
            "scenarios/inline.yaml:9:17: schedulerConfig.profiles[0].pluginConfig[0].name: "
        ),
        "{shown}"
    );
    assert!(shown.contains("NodeResourceFit"), "{shown}");

    // A misspelt key, found by the reader's own shape check.
    let bad = INLINE.replace("  kind: Kube", "  kindd: Kube");
    let shown = sim::parse_scenario(&bad, "scenarios/inline.yaml", &is_builtin)
        .unwrap_err()
        .to_string();
    assert!(shown.starts_with("scenarios/inline.yaml:4:3: "), "{shown}");

    // Flow style on one line.
    let flow = "schedulerConfig: {apiVersion: kubescheduler.config.k8s.io/v1, kind: \
                KubeSchedulerConfiguration, profiles: [{schedulerName: x, plugins: {score: \
                {enabled: [{name: Nope}]}}}]}\n";
    let err = sim::parse_scenario(flow, "flow.yaml", &is_builtin).unwrap_err();
    assert_eq!(err.line, Some(1), "{err}");
    assert_eq!(
        err.field.as_deref(),
        Some("schedulerConfig.profiles[0].plugins.score.enabled[0].name"),
        "{err}"
    );
    let column = flow.find("Nope").unwrap() + 1;
    assert_eq!(err.column, Some(column as u64), "{err}");
}
