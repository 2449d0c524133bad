//! End-to-end tests of external schedulers (`--scheduler exec:PATH`, protocol
//! schedlab-exec/1): the Python first-fit of examples/exec/ against the built-in one, and
//! the misbehaving programs of tests/fixtures/exec/ (crash, hang, garbage, wrong version,
//! unknown node), each failing its own run with an error that names the message sent while
//! the other runs of the sweep still write their results. Needs `python3` on PATH.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary from the repository root, so `exec:` paths are relative to it as a
/// user's would be.
fn schedlab(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schedlab"));
    command.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the schedlab binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of a run's summary.csv with the scheduler column blanked, for comparing
/// two schedulers' figures.
fn summary_without_scheduler(path: &Path) -> Vec<String> {
    read(path)
        .lines()
        .skip(1)
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields[1] = "";
            fields.join(",")
        })
        .collect()
}

const PYTHON_FIRST_FIT: &str = "exec:examples/exec/first_fit.py";
/// Where the runs of [`PYTHON_FIRST_FIT`] go: the name with `:` and `/` made safe.
const PYTHON_FIRST_FIT_DIR: &str = "exec_examples_exec_first_fit.py";

/// Runs `scenario` with the built-in first-fit and the Python one, and checks that the
/// two runs' traces, time series and summaries are identical; returns the trace.
fn same_as_builtin(scenario: &Path, name: &str, out: &Path) -> String {
    let output = schedlab(
        &[
            "run",
            scenario.to_str().unwrap(),
            "--scheduler",
            "first-fit",
            "--scheduler",
            PYTHON_FIRST_FIT,
            "--trace",
            "-o",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let builtin = out.join(name).join("first-fit/seed-1");
    let python = out.join(name).join(PYTHON_FIRST_FIT_DIR).join("seed-1");
    for file in ["trace.csv", "timeseries.csv"] {
        assert_eq!(
            read(&python.join(file)),
            read(&builtin.join(file)),
            "{file}"
        );
    }
    assert_eq!(
        summary_without_scheduler(&python.join("summary.csv")),
        summary_without_scheduler(&builtin.join("summary.csv"))
    );
    read(&python.join("trace.csv"))
}

#[test]
fn python_first_fit_places_the_tutorial_like_the_builtin() {
    let out = tempfile::tempdir().unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tutorial.yaml");
    let trace = same_as_builtin(&scenario, "tutorial", out.path());
    // The placements the tutorial works out by hand for first-fit.
    let bound: Vec<&str> = trace.lines().filter(|l| l.contains(",bound,")).collect();
    assert_eq!(
        bound,
        [
            "0.000000,web,bound,small",
            "10.000000,api-0,bound,medium",
            "10.000000,api-1,bound,medium",
            "60.000000,report-0,bound,large",
            "360.000000,report-1,bound,large",
            "661.000000,report-2,bound,large",
        ]
    );
    assert!(
        trace.contains(
            "120.000000,huge,unschedulable,0/3 nodes are available: 3 Insufficient cpu.\n"
        )
    );
    assert!(trace.contains("660.000000,report-2,unschedulable,"));
}

/// Every filter the Python first-fit implements, and the reasons it reports.
const CONSTRAINED: &str = "\
name: constrained
seed: 1
duration: 10m
cluster:
  nodes:
    - name: cordoned
      allocatable: {cpu: \"8\", memory: 16Gi}
      unschedulable: true
    - name: gpu
      allocatable: {cpu: \"4\", memory: 8Gi, nvidia.com/gpu: 2}
      labels: {accelerator: gpu, cores: \"4\"}
      taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
    - name: zone-a
      allocatable: {cpu: \"2\", memory: 4Gi, pods: 2}
      labels: {topology.kubernetes.io/zone: a, cores: \"2\"}
    - name: zone-b
      allocatable: {cpu: \"4\", memory: 8Gi}
      labels: {topology.kubernetes.io/zone: b, cores: \"4\"}
workloads:
  - pod: plain
    count: 3
    requests: {cpu: 500m, memory: 1Gi}
  - pod: trainer
    at: 1s
    requests: {cpu: \"1\", memory: 1Gi, nvidia.com/gpu: 1}
    tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]
  - pod: in-b
    at: 2s
    nodeSelector: {topology.kubernetes.io/zone: b}
    requests: {cpu: \"1\"}
  - pod: many-cores
    at: 3s
    requests: {cpu: \"1\"}
    tolerations: [{key: dedicated, operator: Exists}]
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
            - matchExpressions: [{key: cores, operator: Gt, values: [\"3\"]}]
  - pod: anywhere
    at: 4s
    requests: {cpu: \"1\"}
    tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]
  - pod: greedy
    at: 5s
    requests: {cpu: \"3\", nvidia.com/gpu: 2}
    tolerations: [{operator: Exists}]
";

#[test]
fn python_first_fit_applies_every_filter_like_the_builtin() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("constrained.yaml");
    fs::write(&scenario, CONSTRAINED).unwrap();
    let trace = same_as_builtin(&scenario, "constrained", &dir.path().join("out"));
    let decided: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains(",bound,") || l.contains(",unschedulable,"))
        .map(|l| l.split_once(',').unwrap().1)
        .take(8)
        .collect();
    assert_eq!(
        decided,
        [
            // Not the cordoned node, not the tainted gpu node; zone-a has 2 pod slots.
            "plain-0,bound,zone-a",
            "plain-1,bound,zone-a",
            "plain-2,bound,zone-b",
            "trainer,bound,gpu",
            "in-b,bound,zone-b",
            // Tolerates the gpu taint and has more than 3 cores there.
            "many-cores,bound,gpu",
            // Tolerates the cordon: the first node.
            "anywhere,bound,cordoned",
            // Tolerates everything, but only gpu has GPUs and one is taken; only cordoned
            // has 3 CPUs free; zone-a has no pod slot left.
            "greedy,unschedulable,\"0/4 nodes are available: 1 Too many pods, \
             3 Insufficient cpu, 4 Insufficient nvidia.com/gpu.\"",
        ]
    );
}

#[test]
fn broken_programs_fail_their_own_runs_only() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().to_str().unwrap();
    let mut args = vec!["run", "scenarios/tutorial.yaml", "-o", out_dir];
    args.extend(["--exec-timeout", "2s"]);
    for program in [
        "exec:tests/fixtures/exec/crash.py",
        "exec:tests/fixtures/exec/hang.py",
        "exec:tests/fixtures/exec/garbage.py",
        "exec:tests/fixtures/exec/wrong_version.py",
        "exec:tests/fixtures/exec/unknown_node.py",
        "first-fit",
    ] {
        args.extend(["--scheduler", program]);
    }
    let output = schedlab(&args, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);

    // The first cycle of the tutorial: at t=0 with one pending pod (web), three nodes.
    let first_cycle = "message #1 (\"cycle\" at t=0s, 1 pending pod(s), 3 node(s) sent, 0 removed) \
                       `{\"type\":\"cycle\",\"seq\":1,\"time_us\":0,\"full\":true,";
    let expected = [
        (
            "crash.py",
            format!("the program exited (exit status: 3) instead of answering {first_cycle}"),
        ),
        ("crash.py", "    | crash.py: giving up on cycle 1\n".to_string()),
        (
            "hang.py",
            format!("no answer to {first_cycle}"),
        ),
        (
            "hang.py",
            "within 2s; the program was killed (raise the limit with --exec-timeout)".to_string(),
        ),
        ("garbage.py", format!("bad answer to {first_cycle}")),
        (
            "garbage.py",
            ": not valid JSON (expected value at line 1 column 1); the answer was `placing pods, please wait`"
                .to_string(),
        ),
        (
            "wrong_version.py",
            "bad answer to message #0 (\"hello\") `{\"type\":\"hello\",\"protocol\":\"schedlab-exec/1\",\"seq\":0,"
                .to_string(),
        ),
        (
            "wrong_version.py",
            "the program speaks protocol \"schedlab-exec/2\", schedlab speaks \"schedlab-exec/1\""
                .to_string(),
        ),
        (
            "unknown_node.py",
            "decisions[0] (pod \"web\"): no node named \"nowhere\" is in the cluster".to_string(),
        ),
    ];
    for (program, text) in &expected {
        let prefix = format!(
            "error: run tutorial / exec:tests/fixtures/exec/{program} / seed 1 failed: \
             the scheduler failed at t=0s: exec:tests/fixtures/exec/{program}: "
        );
        let report = err
            .split("error: ")
            .map(|part| format!("error: {part}"))
            .find(|part| part.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no error for {program} in:\n{err}"));
        assert!(
            report.contains(text.as_str()),
            "{program}: {text:?} not in:\n{report}"
        );
    }
    assert!(err.contains("6 run(s) in "), "{err}");
    assert!(err.contains(", 5 failed"), "{err}");

    // The healthy run wrote everything; the failed ones wrote nothing.
    let tutorial = out.path().join("tutorial");
    assert!(tutorial.join("first-fit/seed-1/summary.csv").is_file());
    let mut dirs: Vec<String> = fs::read_dir(&tutorial)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    dirs.sort();
    assert_eq!(dirs, ["first-fit"]);
    let summary = read(&out.path().join("summary.csv"));
    assert_eq!(summary.lines().count(), 2, "{summary}");
    assert!(
        summary
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("tutorial,first-fit,1,7,6,")
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.ends_with(" FAILED              -               -"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(failed.len(), 5, "{stdout}");
    assert!(
        failed
            .iter()
            .all(|s| s.starts_with("exec:tests/fixtures/exec/"))
    );
}

#[test]
fn later_cycles_send_only_the_nodes_that_changed() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("messages.jsonl");
    let output = schedlab(
        &[
            "run",
            "scenarios/tutorial.yaml",
            "--scheduler",
            "exec:tests/fixtures/exec/record.py",
            "-o",
            dir.path().join("out").to_str().unwrap(),
        ],
        &[("SCHEDLAB_EXEC_RECORD", &record)],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let messages = read(&record);
    let lines: Vec<&str> = messages.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"type":"hello","protocol":"schedlab-exec/1","seq":0,"scheduler":"exec:tests/fixtures/exec/record.py","resources":["cpu","memory","ephemeral-storage","pods"]}"#
    );
    // The first cycle: every node in full, then web.
    assert_eq!(
        lines[1],
        concat!(
            r#"{"type":"cycle","seq":1,"time_us":0,"full":true,"nodes":["#,
            r#"{"id":0,"name":"small","labels":{"kubernetes.io/hostname":"small"},"taints":[],"unschedulable":false,"#,
            r#""allocatable":{"cpu":2000,"memory":4294967296,"ephemeral-storage":0,"pods":110},"#,
            r#""requested":{"cpu":0,"memory":0,"ephemeral-storage":0,"pods":0},"#,
            r#""free":{"cpu":2000,"memory":4294967296,"ephemeral-storage":0,"pods":110}},"#,
            r#"{"id":1,"name":"medium","labels":{"kubernetes.io/hostname":"medium"},"taints":[],"unschedulable":false,"#,
            r#""allocatable":{"cpu":4000,"memory":8589934592,"ephemeral-storage":0,"pods":110},"#,
            r#""requested":{"cpu":0,"memory":0,"ephemeral-storage":0,"pods":0},"#,
            r#""free":{"cpu":4000,"memory":8589934592,"ephemeral-storage":0,"pods":110}},"#,
            r#"{"id":2,"name":"large","labels":{"kubernetes.io/hostname":"large"},"taints":[],"unschedulable":false,"#,
            r#""allocatable":{"cpu":8000,"memory":17179869184,"ephemeral-storage":0,"pods":110},"#,
            r#""requested":{"cpu":0,"memory":0,"ephemeral-storage":0,"pods":0},"#,
            r#""free":{"cpu":8000,"memory":17179869184,"ephemeral-storage":0,"pods":110}}],"#,
            r#""removed":[],"pending":[{"name":"web","namespace":"default","priority":0,"#,
            r#""requests":{"cpu":1000,"memory":1073741824,"pods":1},"labels":{},"node_selector":{},"#,
            r#""node_affinity":null,"tolerations":[],"node_name":null}]}"#,
        )
    );
    // Later cycles: (seq, time, the nodes sent) worked out from the tutorial. Web took
    // small at t=0, so small comes again at 10s; the api pods took medium at 10s; report-0
    // took large at 60s; nothing changed between 120s and 360s; and so on.
    let summary: Vec<CycleSummary> = lines[2..7]
        .iter()
        .map(|line| {
            let seq = field(line, "\"seq\":");
            let time = field(line, "\"time_us\":");
            let nodes = line
                .split("\"name\":\"")
                .skip(1)
                .filter_map(|part| {
                    let (name, rest) = part.split_once('"')?;
                    let free = rest.split_once("\"free\":{\"cpu\":")?.1;
                    let cpu = free.split(|c: char| !c.is_ascii_digit()).next()?;
                    Some((name.to_string(), cpu.parse().ok()?))
                })
                .collect();
            (seq, time, nodes)
        })
        .collect();
    let node = |name: &str, cpu: i64| (name.to_string(), cpu);
    assert_eq!(
        summary,
        [
            (2, 10_000_000, vec![node("small", 1000)]),
            (3, 60_000_000, vec![node("medium", 1000)]),
            (4, 120_000_000, vec![node("large", 5000)]),
            (5, 360_000_000, vec![]),
            (6, 420_000_000, vec![node("large", 2000)]),
        ]
    );
    assert!(lines[2..].iter().all(|l| l.contains("\"full\":false")));
}

/// A cycle message in brief: seq, time, and the (name, free cpu) of the nodes it sent.
type CycleSummary = (u64, u64, Vec<(String, i64)>);

/// The integer after `key` in a JSON line.
fn field(line: &str, key: &str) -> u64 {
    let rest = line.split_once(key).unwrap().1;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_missing_program_is_refused_before_anything_runs() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("results");
    for (program, message) in [
        (
            "exec:examples/exec/no_such.py",
            "error: scheduler \"exec:examples/exec/no_such.py\": cannot use program examples/exec/no_such.py: ",
        ),
        (
            "exec:Cargo.toml",
            "error: scheduler \"exec:Cargo.toml\": Cargo.toml is not executable",
        ),
        (
            "exec:",
            "error: scheduler \"exec:\": give the program's path after \"exec:\"",
        ),
    ] {
        let output = schedlab(
            &[
                "run",
                "scenarios/tutorial.yaml",
                "--scheduler",
                program,
                "--scheduler",
                "first-fit",
                "-o",
                target.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert!(stderr(&output).starts_with(message), "{}", stderr(&output));
        assert!(!target.exists(), "nothing may be written");
    }
    let output = schedlab(
        &["run", "--exec-timeout", "0s", "scenarios/tutorial.yaml"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("the timeout must be longer than zero"));
}

#[test]
fn scenario_files_cannot_name_external_schedulers() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.yaml");
    fs::write(
        &scenario,
        "name: s\nschedulers: [exec:examples/exec/first_fit.py]\n\
         cluster:\n  nodes: [{name: a, allocatable: {cpu: \"1\", memory: 1Gi}}]\n",
    )
    .unwrap();
    let output = schedlab(
        &[
            "run",
            scenario.to_str().unwrap(),
            "-o",
            dir.path().join("out").to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains(
            "s.yaml:2:14: schedulers[0]: unknown scheduler \"exec:examples/exec/first_fit.py\": \
             external schedulers are named on the command line only \
             (--scheduler exec:examples/exec/first_fit.py)"
        ),
        "{}",
        stderr(&output)
    );
}
