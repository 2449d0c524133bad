//! End-to-end tests of the `schedlab` binary: each test writes small scenario files to a
//! temporary directory, runs the real binary there, and checks exit codes, stderr and the
//! files written.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "support/cli.rs"]
mod support;
use support::{assert_code, schedlab, stderr, stdout, write};

/// The summary.csv header, spelled out independently of the binary's own constant.
const SUMMARY_HEADER: &str = "scenario,scheduler,seed,pods_submitted,pods_scheduled,pods_completed,\
pods_failed,pods_pending_at_end,pods_running_at_end,latency_p50_s,latency_p95_s,latency_p99_s,\
latency_max_s,cpu_alloc_mean,mem_alloc_mean,cpu_alloc_peak,mem_alloc_peak,nodes_max,\
scheduling_attempts,unschedulable_attempts,refused_binds,preemptions,gang_timeouts,events,sim_end_s,\
fragmentation,jain_index,makespan_s,mean_completion_s,pods_per_node_mean,pods_per_node_max,\
evictions_taint,evictions_drain,evictions_node_removed,node_failures,node_down_s,recovery_mean_s,recovery_max_s,pods_lost,\
node_hours,node_cost,ca_scale_ups,ca_nodes_added,ca_scale_downs,ca_nodes_removed,\
requests_served,requests_dropped,availability_min,hpa_scale_ups,hpa_scale_downs,\
queue_delay_p50_s,queue_delay_p99_s,keda_activations,keda_deactivations,\
jobs_completed,jobs_failed,job_duration_mean_s,\
rollouts_completed,rollout_duration_max_s,\
evictions_node_pressure,oom_kills,restarts,admission_rejections,trace_late_ends,evictions_node_resized";

/// The timeseries.csv header.
const TIMESERIES_HEADER: &str = "time_s,pending,running,nodes,cpu_requested_cores,\
cpu_allocatable_cores,mem_requested_gib,mem_allocatable_gib,cpu_alloc,mem_alloc,fragmentation";

/// Two nodes, three one-CPU pods: every scheduler places everything.
const TINY: &str = "\
name: tiny
seed: 7
schedulers: [first-fit, least-allocated]
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"2\", memory: 4Gi}}]
workloads:
  - pod: web
    count: 3
    requests: {cpu: \"1\", memory: 1Gi}
    duration: 10m
";

/// `count: -1` on line 8 (1-based) is invalid.
const BROKEN: &str = "\
name: broken
seed: 7
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"2\", memory: 4Gi}}]
workloads:
  - pod: web
    requests: {cpu: \"1\", memory: 1Gi}
    count: -1
";

/// Random arrivals and durations, so the seed matters; a tight cluster, so the scheduler
/// matters too. Two hours of simulated time keeps a debug build fast.
const POISSON: &str = "\
name: poisson
seed: 3
duration: 2h
schedulers: [first-fit, random]
cluster:
  nodePools: [{name: n, count: 3, allocatable: {cpu: \"4\", memory: 8Gi}}]
workloads:
  - batch: jobs
    arrivals: {process: poisson, ratePerMinute: 2}
    duration: {dist: exponential, mean: 10m}
    requests: {cpu: \"1\", memory: 1Gi}
";

/// Every file under `dir`, by path relative to `dir`, with its bytes.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else if path.file_name() == Some("manifest.json".as_ref()) {
                // It records the invocation (--jobs, --out), which differs by design.
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                files.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

/// The lines of a text file.
fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn schedulers_lists_the_builtin_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    let out = schedlab(dir.path(), &["schedulers"]);
    assert_code(&out, 0);
    let text = stdout(&out);
    for name in ["first-fit", "least-allocated", "random"] {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name} missing from:\n{text}"
        );
    }
    // Every line has a summary after the name.
    assert!(
        text.lines().all(|l| l.split_whitespace().count() > 1),
        "{text}"
    );
    // Arguments follow their algorithm, indented, with their defaults, types and docs.
    let tetris = text.lines().position(|l| l.starts_with("tetris ")).unwrap();
    let next = text.lines().nth(tetris + 1).unwrap();
    assert!(
        next.starts_with("    cpuWeight=1 ") && next.contains("number 0..=1000000: weight of CPU"),
        "{text}"
    );
    assert!(
        text.contains("    maxWait=1000 ") && text.contains("    workload=scenario "),
        "{text}"
    );
}

#[test]
fn validate_accepts_a_good_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    let out = schedlab(dir.path(), &["validate", "tiny.yaml"]);
    assert_code(&out, 0);
    assert_eq!(
        stdout(&out).trim_end(),
        "ok  tiny.yaml (2 nodes, 1 workloads; about 3 pods, 28 events, 11 samples, 4.0 MiB per run)"
    );
}

#[test]
fn validate_names_file_line_and_column_of_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    write(dir.path(), "broken.yaml", BROKEN);
    // A directory expands to both files; the good one is still reported ok.
    let out = schedlab(dir.path(), &["validate", "."]);
    assert_code(&out, 1);
    assert!(
        stdout(&out).contains("tiny.yaml (2 nodes"),
        "{}",
        stdout(&out)
    );
    let err = stderr(&out);
    let at = err
        .find("broken.yaml:8:")
        .unwrap_or_else(|| panic!("no file:line in:\n{err}"));
    let column: String = err[at + "broken.yaml:8:".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(!column.is_empty(), "no column in:\n{err}");
}

#[test]
fn a_broken_scenario_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("scen")).unwrap();
    write(&dir.path().join("scen"), "a-broken.yaml", BROKEN);
    write(&dir.path().join("scen"), "tiny.yaml", TINY);
    let out = schedlab(dir.path(), &["run", "scen", "--out", "out"]);
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("a-broken.yaml:8:"),
        "{}",
        stderr(&out)
    );

    let rows = lines(&dir.path().join("out/summary.csv"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[1].starts_with("tiny,first-fit,7,3,3,"), "{rows:?}");
    assert!(
        rows[2].starts_with("tiny,least-allocated,7,3,3,"),
        "{rows:?}"
    );
    for (i, scheduler) in ["first-fit", "least-allocated"].into_iter().enumerate() {
        let run = dir.path().join("out/tiny").join(scheduler).join("seed-7");
        assert_eq!(lines(&run.join("summary.csv")).len(), 2);
        assert_eq!(lines(&run.join("timeseries.csv"))[0], TIMESERIES_HEADER);
        // By hand: three pods bound at 0, running from 1 s for 10 min, so the batch ends
        // at 601 s; nothing ever pends at a sample (no fragmentation figure); one
        // namespace (Jain 1); 2 + 1 pods on the two nodes (1.5 per node, at most 2);
        // 3 of 4 CPUs and 3 of 8 GiB, so a dominant share of 0.75 throughout; no node
        // fails (no evictions, no failure, no down time, no recovery figure, none lost);
        // two nodes for 601 s (0.333889 node-hours), unpriced, no autoscaler; no Service
        // and no HorizontalPodAutoscaler, no queue, no ScaledObject, no Job and no
        // rollout (their columns empty); no memory pressure (no node-pressure eviction,
        // OOM kill or restart); no quota or LimitRange (no refused creation); no trace
        // replay (no late end); no machine trace (no node resized).
        assert!(
            rows[i + 1].ends_with(
                ",601.000000,,1.000000,601.000000,601.000000,1.500000,2,0,0,0,0,0.000000,,,0,\
                 0.333889,0.000000,0,0,0,0,,,,,,,,,,,,,,,0,0,0,0,0,0"
            ),
            "{}",
            rows[i + 1]
        );
        assert_eq!(
            lines(&run.join("namespaces.csv")),
            [
                "namespace,weight,pods_submitted,pods_bound,dominant_share_mean,weighted_share_mean",
                "default,1,3,3,0.750000,0.750000"
            ]
        );
    }
    assert_eq!(
        lines(&dir.path().join("out/namespaces.csv"))[1..],
        [
            "tiny,first-fit,7,default,1,3,3,0.750000,0.750000",
            "tiny,least-allocated,7,default,1,3,3,0.750000,0.750000"
        ]
    );
    // The table on stdout has one line per run and names the summary file.
    let text = stdout(&out);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("tiny ")).count(),
        2,
        "{text}"
    );
    assert!(text.contains("summary.csv"), "{text}");
}

#[test]
fn unknown_scheduler_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "tiny.yaml",
            "--scheduler",
            "first-fit",
            "--scheduler",
            "nope",
            "--out",
            "out",
        ],
    );
    assert_code(&out, 2);
    let err = stderr(&out);
    for name in ["nope", "first-fit", "least-allocated", "random"] {
        assert!(err.contains(name), "{name} missing from:\n{err}");
    }
    assert!(!dir.path().join("out").exists(), "something was written");
    assert!(stdout(&out).is_empty());
}

#[test]
fn a_bad_scheduler_argument_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    // Each: the spec, then what stderr must say (naming the scheduler and the argument).
    for (spec, says) in [
        (
            "tetris:cpuWeigth=2",
            r#"scheduler "tetris": unknown argument "cpuWeigth"; did you mean "cpuWeight"?"#,
        ),
        (
            "tetris:cpuWeight=heavy",
            r#"scheduler "tetris": argument "cpuWeight" takes number"#,
        ),
        (
            "flow:maxWait=-1",
            r#"scheduler "flow": argument "maxWait" is out of range"#,
        ),
        (
            "fgd:workload",
            r#"scheduler "fgd": argument "workload" has no value"#,
        ),
        (
            "first-fit:cpuWeight=2",
            r#"scheduler "first-fit" takes no arguments, got "cpuWeight""#,
        ),
        (
            "tetris(cpuWeight=2)",
            "arguments go after a colon: tetris:ARG=VALUE,...",
        ),
    ] {
        let out = schedlab(
            dir.path(),
            &[
                "run",
                "tiny.yaml",
                "--scheduler",
                "first-fit",
                "--scheduler",
                spec,
                "--out",
                "out",
            ],
        );
        assert_code(&out, 2);
        let err = stderr(&out);
        assert!(err.contains(says), "{spec}: {err}");
        assert!(
            !dir.path().join("out").exists(),
            "{spec}: something was written"
        );
        assert!(stdout(&out).is_empty(), "{spec}");
    }
}

#[test]
fn scheduler_arguments_label_runs_canonically() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "tiny.yaml",
            // Declaration order in the label, whatever the order given; default values
            // left out, so the third is the second again and runs once.
            "--scheduler",
            "tetris:otherWeight=3,memoryWeight=2.0,cpuWeight=1",
            "--scheduler",
            "tetris",
            "--scheduler",
            "tetris:cpuWeight=1.0",
            "--out",
            "out",
        ],
    );
    assert_code(&out, 0);
    let rows = lines(&dir.path().join("out/summary.csv"));
    // The label may hold commas (quoted): split the other columns off from the right.
    let after_label = rows[0].split(',').count() - 2;
    let labels: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.rsplitn(after_label + 1, ',').last().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            r#"tiny,"tetris:memoryWeight=2,otherWeight=3""#,
            "tiny,tetris"
        ]
    );
    for dir_name in ["tetris_memoryWeight_2_otherWeight_3", "tetris"] {
        let run = dir.path().join("out/tiny").join(dir_name).join("seed-7");
        assert_eq!(lines(&run.join("summary.csv")).len(), 2, "{dir_name}");
    }
}

#[test]
fn a_scenarios_bad_scheduler_argument_names_the_entry_and_the_argument() {
    let dir = tempfile::tempdir().unwrap();
    let text = TINY.replace(
        "schedulers: [first-fit, least-allocated]",
        "schedulers: [first-fit, \"flow:waitWeigth=0\"]",
    );
    write(dir.path(), "tiny.yaml", &text);
    let says = r#"tiny.yaml:3:25: schedulers[1]: scheduler "flow": unknown argument "waitWeigth"; did you mean "waitWeight"?"#;
    let out = schedlab(dir.path(), &["validate", "tiny.yaml"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains(says), "{}", stderr(&out));
    let out = schedlab(dir.path(), &["run", "tiny.yaml", "--out", "out"]);
    assert_code(&out, 1);
    assert!(stderr(&out).contains(says), "{}", stderr(&out));
    // Good arguments in the scenario run under their label.
    write(
        dir.path(),
        "tiny.yaml",
        &text.replace("waitWeigth", "waitWeight"),
    );
    let out = schedlab(dir.path(), &["run", "tiny.yaml", "--out", "out"]);
    assert_code(&out, 0);
    let rows = lines(&dir.path().join("out/summary.csv"));
    assert!(
        rows[2].starts_with("tiny,flow:waitWeight=0,7,3,3,"),
        "{rows:?}"
    );
}

#[test]
fn a_scenarios_mapping_entries_run_under_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    // Strings and mappings mixed; YAML numbers, a quoted number and a word as values.
    let text = TINY.replace(
        "schedulers: [first-fit, least-allocated]",
        "schedulers:
  - first-fit
  - {name: tetris, args: {memoryWeight: 2, cpuWeight: 1.0}}
  - name: flow
    args:
      waitWeight: \"0\"
      maxWait: 300
  - {name: fgd, args: {workload: cluster}}
  - tetris:otherWeight=0.5",
    );
    write(dir.path(), "tiny.yaml", &text);
    let out = schedlab(dir.path(), &["validate", "tiny.yaml"]);
    assert_code(&out, 0);
    let out = schedlab(dir.path(), &["run", "tiny.yaml", "--out", "out"]);
    assert_code(&out, 0);
    let rows = lines(&dir.path().join("out/summary.csv"));
    // The label may hold commas (quoted): split the other columns off from the right.
    let after_label = rows[0].split(',').count() - 2;
    let labels: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.rsplitn(after_label + 1, ',').last().unwrap())
        .collect();
    assert_eq!(
        labels,
        [
            "tiny,first-fit",
            "tiny,tetris:memoryWeight=2",
            r#"tiny,"flow:waitWeight=0,maxWait=300""#,
            "tiny,fgd:workload=cluster",
            "tiny,tetris:otherWeight=0.5",
        ]
    );
    for dir_name in [
        "tetris_memoryWeight_2",
        "flow_waitWeight_0_maxWait_300",
        "fgd_workload_cluster",
    ] {
        let run = dir.path().join("out/tiny").join(dir_name).join("seed-7");
        assert_eq!(lines(&run.join("summary.csv")).len(), 2, "{dir_name}");
    }
}

#[test]
fn validate_locates_a_bad_argument_of_a_mapping_entry() {
    let dir = tempfile::tempdir().unwrap();
    let text = TINY.replace(
        "schedulers: [first-fit, least-allocated]",
        "schedulers:\n  - first-fit\n  - name: tetris\n    args:\n      cpuWeight: -1\n",
    );
    write(dir.path(), "tiny.yaml", &text);
    let out = schedlab(dir.path(), &["validate", "tiny.yaml"]);
    assert_code(&out, 1);
    assert_eq!(
        stderr(&out).trim_end(),
        "error: tiny.yaml:7:18: schedulers[1].args.cpuWeight: scheduler \"tetris\": argument \
         \"cpuWeight\" is out of range: it takes number 0..=1000000, got -1"
    );
    // Two entries with one label are refused too, at the second.
    let text = TINY.replace(
        "schedulers: [first-fit, least-allocated]",
        "schedulers: [tetris, {name: tetris, args: {cpuWeight: 1}}]",
    );
    write(dir.path(), "tiny.yaml", &text);
    let out = schedlab(dir.path(), &["validate", "tiny.yaml"]);
    assert_code(&out, 1);
    assert_eq!(
        stderr(&out).trim_end(),
        "error: tiny.yaml:3:22: schedulers[1]: scheduler \"tetris\" is listed twice: \
         schedulers[0] has the same run label"
    );
}

/// Every controller of the dynamics on (Services, HPAs, the cluster autoscaler, node
/// failures and drains, work queues and KEDA, Jobs, rollouts): the bundled scenarios that use them give byte-identical outputs,
/// traces included, with 1 or 2 threads and when run again.
#[test]
fn dynamics_outputs_do_not_depend_on_threads_or_repetition() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let run = |out_dir: &str, jobs: &str| {
        let mut args: Vec<String> = [
            "run", "--trace", "--seed", "1", "--seed", "2", "--jobs", jobs, "--out", out_dir,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for name in [
            "black-friday",
            "spot-reclaim",
            "zone-outage",
            "autoscaler-burst",
            "stateful-outage",
            "queue-worker",
            "jobs",
            "rolling-update",
            "noisy-neighbour",
        ] {
            args.push(scenarios.join(format!("{name}.yaml")).display().to_string());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = schedlab(dir.path(), &args);
        assert_code(&out, 0);
        files_under(&dir.path().join(out_dir))
    };
    let serial = run("j1", "1");
    let parallel = run("j2", "2");
    let again = run("j2-again", "2");
    assert!(serial.contains_key(Path::new("black-friday/kube-default/seed-2/trace.csv")));
    assert!(serial == parallel, "--jobs 1 and --jobs 2 differ");
    assert!(parallel == again, "a second run differs");
    // The seeds differ where the dynamics draw (memory use, spot picks, random failures).
    let trace = |seed: u32| {
        serial[Path::new(&format!("zone-outage/kube-default/seed-{seed}/trace.csv"))].clone()
    };
    assert_ne!(trace(1), trace(2));
    // A run with Services writes services.csv; the queue worker's row has its queue's
    // delays.
    let services = String::from_utf8(
        serial[Path::new("queue-worker/kube-default/seed-1/services.csv")].clone(),
    )
    .unwrap();
    let rows: Vec<&str> = services.lines().collect();
    assert_eq!(
        rows[0],
        "service,requests_served,requests_dropped,availability,queue_delay_p50_s,queue_delay_p99_s"
    );
    assert_eq!(rows.len(), 2);
    assert!(rows[1].starts_with("worker,"), "{}", rows[1]);
    assert!(!rows[1].ends_with(','), "{}", rows[1]);
}

/// The files `run s.yaml --trace --seed 1 --seed 2 --jobs JOBS` writes for `scenario`,
/// run in `d`.
fn run_two_seeds(d: &Path, scenario: &str, jobs: &str) -> BTreeMap<PathBuf, Vec<u8>> {
    write(d, "s.yaml", scenario);
    let out = schedlab(
        d,
        &[
            "run", "s.yaml", "--trace", "--seed", "1", "--seed", "2", "--jobs", jobs, "--out",
            "out",
        ],
    );
    assert_code(&out, 0);
    files_under(&d.join("out"))
}

/// A recorded Google replay streamed with a look-ahead longer than the shard writes byte
/// for byte what the whole load writes; with a look-ahead of 1 s, where pods end late, the
/// outputs still do not depend on threads.
#[test]
fn streamed_google_outputs_match_the_whole_load_and_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let shard = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/google-2011/task_events-part-00001-of-00500.csv.gz");
    let run = |mode: &str, jobs: &str| {
        let d = dir.path().join(format!("{mode}-{jobs}"));
        fs::create_dir_all(&d).unwrap();
        let scenario = format!(
            "schedulers: [first-fit, random]
duration: 10m
cluster:
  nodePools: [{{name: m, count: 6, allocatable: {{cpu: \"32\", memory: 128Gi}}}}]
workloads:
  - trace: {{format: google-2011-task-events, pods: {}, machineScale: {{cpu: \"32\", memory: 128Gi}}, window: {{start: 6000s, end: 6060s}}{mode}}}
",
            shard.display()
        );
        run_two_seeds(&d, &scenario, jobs)
    };
    let streamed = run(", lookAhead: 100h", "1");
    assert!(
        streamed == run(", lookAhead: 100h", "2"),
        "--jobs 1 and --jobs 2 differ"
    );
    assert!(
        streamed == run(", stream: false", "1"),
        "the streamed replay differs from the whole load"
    );
    let late = run(", lookAhead: 1s", "1");
    let summary = String::from_utf8(late[Path::new("summary.csv")].clone()).unwrap();
    let header: Vec<&str> = summary.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|&c| c == "trace_late_ends").unwrap();
    let late_ends: u64 = summary
        .lines()
        .skip(1)
        .map(|row| row.split(',').nth(column).unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(late_ends > 0, "{summary}");
    assert!(
        late == run(", lookAhead: 1s", "2"),
        "--jobs 1 and --jobs 2 differ"
    );
}

/// A recorded generic CSV replay read from its file as the run goes writes byte for byte
/// what the same replay read whole (`stream: false`) writes, traces included, with 1 or 2
/// threads.
#[test]
fn streamed_trace_outputs_match_the_whole_load_and_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("time,name,namespace,cpu,memory,duration,priority\n");
    for i in 0..150 {
        let duration = if i % 11 == 0 {
            String::new()
        } else {
            format!("{}.25", 2 + (i * 7) % 30)
        };
        csv.push_str(&format!(
            "{},p{i},{},{},1Gi,{duration},{}\n",
            i / 2 * 3,
            ["", "team-a"][i % 2],
            ["500m", "1", "2"][i % 3],
            i % 4
        ));
    }
    let run = |mode: &str, jobs: &str| {
        let d = dir.path().join(format!("{mode}-{jobs}"));
        fs::create_dir_all(&d).unwrap();
        write(&d, "t.csv", &csv);
        let scenario = format!(
            "schedulers: [first-fit, random]
cluster:
  nodePools: [{{name: n, count: 2, allocatable: {{cpu: \"2\", memory: 4Gi}}}}]
workloads:
  - trace: {{format: generic-csv, pods: t.csv, timing: recorded{mode}}}
"
        );
        run_two_seeds(&d, &scenario, jobs)
    };
    let streamed = run("", "1");
    assert!(streamed.contains_key(Path::new("s/random/seed-2/trace.csv")));
    let trace =
        String::from_utf8(streamed[Path::new("s/first-fit/seed-1/trace.csv")].clone()).unwrap();
    assert_eq!(trace.matches(",created,").count(), 150, "every row arrives");
    assert!(streamed == run("", "2"), "--jobs 1 and --jobs 2 differ");
    assert!(
        streamed == run(", stream: false", "1"),
        "the streamed replay differs from the whole load"
    );
}

/// Recorded Alibaba v2018 replays (batch_instance with batch_task, container_meta) in
/// time order stream, and write byte for byte what they write read whole, with 1 or 2
/// threads; a repeated first attempt arrives once.
#[test]
fn streamed_alibaba_outputs_match_the_whole_load_and_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut tasks = String::new();
    for j in 0..4 {
        for (k, task) in ["M1", "R2"].iter().enumerate() {
            tasks.push_str(&format!(
                "{task},5,j_{j},1,Terminated,1,2,{},{}\n",
                [50, 100, 200][(j + k) % 3],
                1 + (j + k) % 3
            ));
        }
    }
    let mut instances = String::new();
    for i in 0..120 {
        let start = 10 + i / 3 * 2;
        let end = if i % 11 == 0 {
            0
        } else {
            start + 3 + (i * 7) % 25
        };
        let row = format!(
            "ins_{i},{},j_{},1,Terminated,{start},{end},m_1,1,1,,,,\n",
            ["M1", "R2"][i % 2],
            i % 4
        );
        instances.push_str(&row);
        if i % 20 == 7 {
            // The same first attempt again: not replayed twice.
            instances.push_str(&row);
        }
    }
    let mut containers = String::new();
    for i in 0..60 {
        containers.push_str(&format!(
            "c_{i},m_1,{},app_{},started,{},400,{}\n",
            5 + i * 4,
            i % 3,
            [50, 100, 150][i % 3],
            1 + i % 2
        ));
    }
    let run = |mode: &str, jobs: &str| {
        let d = dir.path().join(format!("{mode}-{jobs}"));
        fs::create_dir_all(&d).unwrap();
        write(&d, "t.csv", &tasks);
        write(&d, "i.csv", &instances);
        write(&d, "c.csv", &containers);
        let scenario = format!(
            "schedulers: [first-fit, random]
cluster:
  nodePools: [{{name: n, count: 3, allocatable: {{cpu: \"4\", memory: 8Gi}}}}]
workloads:
  - trace: {{format: alibaba-2018-batch-instance, pods: i.csv, tasks: t.csv, machineScale: {{memory: 100Gi}}{mode}}}
  - trace: {{format: alibaba-2018-container-meta, pods: c.csv, machineScale: {{memory: 100Gi}}{mode}}}
"
        );
        run_two_seeds(&d, &scenario, jobs)
    };
    let streamed = run("", "1");
    let trace =
        String::from_utf8(streamed[Path::new("s/first-fit/seed-1/trace.csv")].clone()).unwrap();
    assert_eq!(
        trace.matches(",created,").count(),
        180,
        "every instance once, every container"
    );
    assert!(streamed == run("", "2"), "--jobs 1 and --jobs 2 differ");
    assert!(
        streamed == run(", stream: false", "1"),
        "the streamed replay differs from the whole load"
    );
}

/// A recorded openb replay (`alibaba-gpu-v2023`) in creation_time order streams, and writes
/// byte for byte what it writes read whole, with 1 or 2 threads.
#[test]
fn streamed_openb_outputs_match_the_whole_load_and_do_not_depend_on_threads() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = "sn,cpu_milli,memory_mib,gpu,model\n\
                 g-0,8000,32768,2,T4\n\
                 g-1,8000,32768,2,V100M32\n";
    let mut pods = String::from(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,\
         deletion_time,scheduled_time\n",
    );
    for i in 0..150 {
        let t = 50 + i / 3 * 2;
        let (gpus, milli) = [(1, 500), (0, 0), (1, 1000), (2, 1000)][i % 4];
        let deleted = if i % 13 == 0 {
            String::new()
        } else {
            (t + 3 + (i * 7) % 25).to_string()
        };
        pods.push_str(&format!(
            "p{i},{},2048,{gpus},{milli},,LS,Running,{t},{deleted},{t}\n",
            [1000, 2000][i % 2]
        ));
    }
    let run = |mode: &str, jobs: &str| {
        let d = dir.path().join(format!("{mode}-{jobs}"));
        fs::create_dir_all(&d).unwrap();
        write(&d, "nodes.csv", nodes);
        write(&d, "pods.csv", &pods);
        let scenario = format!(
            "schedulers: [first-fit, random]
cluster:
  trace: {{format: alibaba-gpu-v2023, nodes: nodes.csv}}
workloads:
  - trace: {{format: alibaba-gpu-v2023, pods: pods.csv, timing: recorded{mode}}}
"
        );
        run_two_seeds(&d, &scenario, jobs)
    };
    let streamed = run("", "1");
    let trace =
        String::from_utf8(streamed[Path::new("s/first-fit/seed-1/trace.csv")].clone()).unwrap();
    assert_eq!(trace.matches(",created,").count(), 150, "every row arrives");
    assert!(streamed == run("", "2"), "--jobs 1 and --jobs 2 differ");
    assert!(
        streamed == run(", stream: false", "1"),
        "the streamed replay differs from the whole load"
    );
}

#[test]
fn outputs_do_not_depend_on_threads_or_repetition() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "poisson.yaml", POISSON);
    let run = |out_dir: &str, jobs: &str| {
        let out = schedlab(
            dir.path(),
            &[
                "run",
                "poisson.yaml",
                "--seed",
                "1",
                "--seed",
                "2",
                "--jobs",
                jobs,
                "--out",
                out_dir,
            ],
        );
        assert_code(&out, 0);
        files_under(&dir.path().join(out_dir))
    };
    let serial = run("j1", "1");
    let parallel = run("j2", "2");
    let again = run("j2-again", "2");
    // summary.csv, stats.csv and namespaces.csv plus 2 schedulers x 2 seeds x
    // (summary.csv, timeseries.csv, namespaces.csv), and the report: index.html and 9
    // charts, each as SVG and PNG.
    assert_eq!(serial.len(), 34, "{:?}", serial.keys());
    assert!(serial.contains_key(Path::new("poisson/random/seed-2/timeseries.csv")));
    assert!(serial == parallel, "--jobs 1 and --jobs 2 differ");
    assert!(parallel == again, "a second run differs");

    let summary = String::from_utf8(serial[Path::new("summary.csv")].clone()).unwrap();
    assert_eq!(summary.lines().next(), Some(SUMMARY_HEADER));
    // Rows in plan order: scheduler list order, then seed order.
    let order: Vec<String> = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        order,
        [
            "poisson,first-fit,1",
            "poisson,first-fit,2",
            "poisson,random,1",
            "poisson,random,2"
        ]
    );

    // The seed changes the arrivals, so the figures (not just the seed column) change.
    let figures = |seed: &str| -> String {
        let l = summary
            .lines()
            .find(|l| l.starts_with(&format!("poisson,first-fit,{seed},")))
            .unwrap();
        l.splitn(4, ',').nth(3).unwrap().to_string()
    };
    assert_ne!(
        figures("1"),
        figures("2"),
        "different seeds gave the same figures"
    );
}

#[test]
fn rows_follow_the_command_line_order_of_schedulers_and_seeds() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "tiny.yaml",
            "--scheduler",
            "random",
            "--scheduler",
            "first-fit",
            "--seed",
            "9",
            "--seed",
            "2",
            "-o",
            "out",
        ],
    );
    assert_code(&out, 0);
    let rows = lines(&dir.path().join("out/summary.csv"));
    assert_eq!(rows[0], SUMMARY_HEADER);
    let keys: Vec<String> = rows[1..]
        .iter()
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect();
    assert_eq!(
        keys,
        [
            "tiny,random,9",
            "tiny,random,2",
            "tiny,first-fit,9",
            "tiny,first-fit,2"
        ]
    );
    // Six decimals everywhere a time or ratio appears.
    let fields: Vec<&str> = rows[1].split(',').collect();
    for column in [9, 10, 11, 12, 13, 14, 15, 16, 24] {
        let decimals = fields[column].split('.').nth(1).map(str::len);
        assert_eq!(decimals, Some(6), "column {column} of {}", rows[1]);
    }
}

#[test]
fn run_without_arguments_or_scenarios_dir_explains() {
    let dir = tempfile::tempdir().unwrap();
    let out = schedlab(dir.path(), &["run"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(out.status.code().is_some(), "killed by a signal");
    let err = stderr(&out);
    assert!(err.contains("scenarios/"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!dir.path().join("results").exists());
}

#[test]
fn closed_stdout_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    let mut child = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .args(["run", "tiny.yaml", "-o", "out"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the table is printed (the runs take longer than this),
    // as `| head -0` would.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_code(&out, 0);
    assert!(dir.path().join("out/summary.csv").exists());
}

#[test]
fn defaults_are_scenarios_dir_and_results_dir() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("scenarios")).unwrap();
    write(&dir.path().join("scenarios"), "tiny.yml", TINY);
    let out = schedlab(dir.path(), &["run"]);
    assert_code(&out, 0);
    // The scenario's own schedulers and seed.
    let rows = lines(&dir.path().join("results/summary.csv"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(
        dir.path()
            .join("results/tiny/least-allocated/seed-7/timeseries.csv")
            .exists()
    );
}

#[test]
fn an_unwritable_run_directory_fails_that_run_only() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tiny.yaml", TINY);
    // A file where first-fit's directory should go.
    fs::create_dir_all(dir.path().join("out/tiny")).unwrap();
    fs::write(dir.path().join("out/tiny/first-fit"), "").unwrap();
    let out = schedlab(dir.path(), &["run", "tiny.yaml", "-o", "out"]);
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("out/tiny/first-fit/seed-7"), "{err}");
    assert!(
        dir.path()
            .join("out/tiny/least-allocated/seed-7/summary.csv")
            .exists()
    );
    // Both runs finished, so both keep their row in the sweep's summary.
    assert_eq!(lines(&dir.path().join("out/summary.csv")).len(), 3);
}

#[test]
fn trace_lists_every_pod_event_of_the_tutorial() {
    let tmp = tempfile::tempdir().unwrap();
    let tutorial = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tutorial.yaml");
    let out = tmp.path().join("out");
    let result = schedlab(
        tmp.path(),
        &[
            "run",
            tutorial.to_str().unwrap(),
            "--scheduler",
            "least-allocated",
            "--trace",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_code(&result, 0);
    let trace = lines(&out.join("tutorial/least-allocated/seed-1/trace.csv"));
    assert_eq!(trace[0], "time_s,pod,event,detail");
    assert_eq!(trace[1], "0.000000,web,created,");
    assert_eq!(trace[2], "0.000000,web,bound,large");
    assert!(trace.contains(
        &"120.000000,huge,unschedulable,0/3 nodes are available: 3 Insufficient cpu.".to_string()
    ));
    assert!(trace.contains(&"1262.000000,report-1,bound,large".to_string()));
    // Without --trace no trace file is written.
    let plain = tmp.path().join("plain");
    assert_code(
        &schedlab(
            tmp.path(),
            &[
                "run",
                tutorial.to_str().unwrap(),
                "--out",
                plain.to_str().unwrap(),
            ],
        ),
        0,
    );
    assert!(!plain.join("tutorial/first-fit/seed-1/trace.csv").exists());
}

#[test]
fn a_sweep_of_seeds_and_set_values_writes_the_columns_and_folders() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "poisson.yaml", POISSON);
    let run = |out_dir: &str, jobs: &str| {
        let out = schedlab(
            dir.path(),
            &[
                "run",
                "poisson.yaml",
                "--scheduler",
                "first-fit",
                "--seeds",
                "2",
                "--seeds",
                "5..5",
                "--set",
                "cluster.nodePools.n.count=1,2",
                "--jobs",
                jobs,
                "--out",
                out_dir,
            ],
        );
        assert_code(&out, 0);
        files_under(&dir.path().join(out_dir))
    };
    let serial = run("j1", "1");
    assert!(serial == run("j2", "2"), "--jobs 1 and --jobs 2 differ");
    assert!(serial.contains_key(Path::new(
        "poisson_cluster.nodePools.n.count_2/first-fit/seed-5/summary.csv"
    )));
    let summary = String::from_utf8(serial[Path::new("summary.csv")].clone()).unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    // The overridden path is the last column; 2 values x seeds 1, 2, 5.
    assert_eq!(
        rows[0],
        format!("{SUMMARY_HEADER},cluster.nodePools.n.count")
    );
    assert_eq!(rows.len(), 1 + 6);
    let keyed: Vec<String> = rows[1..]
        .iter()
        .map(|r| {
            let cells: Vec<&str> = r.split(',').collect();
            format!("{} {} {}", cells[1], cells[2], cells[cells.len() - 1])
        })
        .collect();
    assert_eq!(
        keyed,
        [
            "first-fit 1 1",
            "first-fit 2 1",
            "first-fit 5 1",
            "first-fit 1 2",
            "first-fit 2 2",
            "first-fit 5 2"
        ]
    );
    // One node instead of two changes the figures: the override reached the cluster.
    assert_ne!(rows[1], rows[4]);
    // stats.csv: one row per point and figure column, keyed by the point's value.
    let stats = String::from_utf8(serial[Path::new("stats.csv")].clone()).unwrap();
    assert!(stats.starts_with(
        "scenario,cluster.nodePools.n.count,scheduler,column,n,mean,sd,ci95_low,ci95_high,baseline,"
    ));
    assert!(
        stats.contains("\npoisson,2,first-fit,pods_submitted,3,"),
        "{stats}"
    );
}

#[test]
fn a_set_path_naming_nothing_fails_naming_the_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "poisson.yaml", POISSON);
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "poisson.yaml",
            "--set",
            "cluster.nodePools.gpu.count=3",
        ],
    );
    assert_code(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("poisson.yaml") && err.contains("no field cluster.nodePools.gpu"),
        "{err}"
    );
    // A bad value keeps the loader's line and field.
    let out = schedlab(
        dir.path(),
        &[
            "run",
            "poisson.yaml",
            "--set",
            "cluster.nodePools.n.count=-1",
        ],
    );
    assert_code(&out, 1);
    assert!(
        stderr(&out).contains("poisson.yaml:6:32: cluster.nodePools[0].count"),
        "{}",
        stderr(&out)
    );
    let out = schedlab(dir.path(), &["run", "poisson.yaml", "--seeds", "9..3"]);
    assert_code(&out, 2);
    assert!(stderr(&out).contains("--seeds"), "{}", stderr(&out));
}

#[test]
fn from_manifest_reruns_byte_identically_and_refuses_changed_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "poisson.yaml", POISSON);
    let first = schedlab(
        dir.path(),
        &[
            "run",
            "poisson.yaml",
            "--seeds",
            "2",
            "--set",
            "seed=3,4",
            "--out",
            "a",
        ],
    );
    assert_code(&first, 0);
    let manifest = fs::read_to_string(dir.path().join("a/manifest.json")).unwrap();
    // sha256 of POISSON as written, and the arguments as given.
    assert!(
        manifest.contains("\"path\": \"poisson.yaml\""),
        "{manifest}"
    );
    assert!(manifest.contains("\"seed=3,4\""), "{manifest}");
    let again = schedlab(
        dir.path(),
        &["run", "--from", "a/manifest.json", "--out", "b"],
    );
    assert_code(&again, 0);
    let (a, b) = (
        files_under(&dir.path().join("a")),
        files_under(&dir.path().join("b")),
    );
    // summary, stats, namespaces; 2 points x 2 schedulers x 2 seeds x 3 files; the report:
    // index.html, 5 metrics against the parameter and 2 points x 9 charts, SVG and PNG.
    assert_eq!(a.len(), 3 + 2 * 2 * 2 * 3 + 1 + 2 * (5 + 2 * 9));
    assert!(a == b, "the rerun differs");
    // The rerun records the original arguments, so its manifest is the same too.
    assert_eq!(
        manifest,
        fs::read_to_string(dir.path().join("b/manifest.json")).unwrap()
    );
    write(dir.path(), "poisson.yaml", &format!("{POISSON}# edited\n"));
    let refused = schedlab(
        dir.path(),
        &["run", "--from", "a/manifest.json", "--out", "c"],
    );
    assert_code(&refused, 1);
    assert!(
        stderr(&refused).contains("poisson.yaml has changed"),
        "{}",
        stderr(&refused)
    );
    assert!(!dir.path().join("c").exists());
}
