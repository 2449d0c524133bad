//! Streamed replays (`sim::scenario::trace_stream`): a recorded generic CSV replay read
//! from its file during the run gives the same run, event for event, as the same trace
//! read whole (`stream: false`); bad rows are reported alike; `window`, `sample`,
//! `timeScale` and `sizeScale` applied row by row keep the same pods; and a file out of
//! time order falls back to the whole load, sorted, with a notice.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use schedulers::{Registry, SchedulerSpec};
use sim::scenario::{TraceReplay, WorkloadKind};
use sim::{RunResult, Scenario, ScenarioError, Simulation, TraceEvent, parse_scenario};

/// A directory of this test's own holding `files`.
fn dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "schedlab-trace-stream-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

/// Loads scenario `text` as if it were `scenario.yaml` in `dir`.
fn load(dir: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let registry = Registry::builtin();
    let path = dir.join("scenario.yaml");
    parse_scenario(text, &path.display().to_string(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
}

fn play(s: &Scenario, scheduler: &str, seed: u64) -> RunResult {
    let registry = Registry::builtin();
    let spec = SchedulerSpec::named(scheduler);
    let mut sim = Simulation::new(s, registry.build(&spec, &s.build_context()).unwrap(), seed);
    sim.enable_trace();
    sim.run()
}

fn replay(s: &Scenario) -> &TraceReplay {
    match &s.workloads[0].kind {
        WorkloadKind::Trace(r) => r,
        other => panic!("{other:?}"),
    }
}

/// Three nodes of 2 CPUs, so most of the trace queues and the order of arrivals matters.
const NODES: &str = "startLatency: 1s
cluster:
  nodePools:
    - {name: n, count: 3, allocatable: {cpu: '2', memory: 4Gi}}
";

/// `n` rows in time order, three to an instant, with every optional column that varies:
/// namespaces, priorities (preemption), durations with decimals and none (until the end).
fn sorted_csv(n: usize) -> String {
    let mut s = String::from("time,name,namespace,cpu,memory,duration,priority\n");
    for i in 0..n {
        let t = 5 + i / 3 * 2;
        let ns = ["", "team-a", "team-b"][i % 3];
        let cpu = ["500m", "1", "250m", "2"][i % 4];
        let mem = ["512Mi", "1Gi", "256Mi"][i % 3];
        let dur = if i % 17 == 0 {
            String::new()
        } else {
            format!("{}.5", 3 + (i * 13) % 40)
        };
        let prio = (i % 5) as i32 - 1;
        writeln!(s, "{t},p{i},{ns},{cpu},{mem},{dur},{prio}").unwrap();
    }
    s
}

fn workload(extra: &str) -> String {
    format!("{NODES}workloads:\n  - trace: {{format: generic-csv, pods: t.csv{extra}}}\n")
}

#[test]
fn a_streamed_replay_is_the_in_memory_replay_event_for_event() {
    let d = dir("equal", &[("t.csv", &sorted_csv(240))]);
    let streamed = load(&d, &workload("")).unwrap_or_else(|e| panic!("{e}"));
    let whole = load(&d, &workload(", stream: false")).unwrap();
    assert!(replay(&streamed).is_streamed());
    assert!(!replay(&whole).is_streamed());
    assert_eq!(
        replay(&streamed).pods().unwrap(),
        replay(&whole).pods().unwrap()
    );
    assert_eq!(streamed.gpu_workload, whole.gpu_workload);
    for (scheduler, seed) in [("first-fit", 1), ("random", 2), ("kube-default", 3)] {
        let a = play(&streamed, scheduler, seed);
        let b = play(&whole, scheduler, seed);
        // Every pod arrived, and the run is not trivial: pods queued and some preempted.
        let created = a
            .trace
            .iter()
            .filter(|t| t.event == TraceEvent::Created)
            .count();
        assert_eq!(created, 240, "{scheduler}");
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{scheduler}");
    }
}

#[test]
fn a_bad_row_names_file_line_and_column_in_both_modes() {
    let csv = "time,name,cpu,memory\n1,a,1,1Gi\n\n2,b,1,lots\n3,c,1,1Gi\n4,d\n";
    let d = dir("bad", &[("t.csv", csv)]);
    let shown = d.join("t.csv").display().to_string();
    for mode in ["", ", stream: false"] {
        let e = load(&d, &workload(&format!("{mode}, strict: true"))).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{shown}:4:7: memory: expected a memory quantity such as 512Mi, 1G or bytes, \
                 got \"lots\""
            ),
            "{mode:?}"
        );
        let s = load(&d, &workload(mode)).unwrap();
        assert_eq!(replay(&s).is_streamed(), mode.is_empty());
        let names: Vec<String> = replay(&s)
            .pods()
            .unwrap()
            .iter()
            .map(|p| p.name.clone())
            .collect();
        assert_eq!(names, ["a", "c"], "{mode:?}");
        assert_eq!(
            s.trace_warnings,
            [format!(
                "{shown}: 2 rows skipped, first at line 4, column 7: memory: expected a memory \
                 quantity such as 512Mi, 1G or bytes, got \"lots\""
            )],
            "{mode:?}"
        );
        // The run replays the two good rows.
        let r = play(&s, "first-fit", 1);
        let created: Vec<(&str, u64)> = r
            .trace
            .iter()
            .filter(|t| t.event == TraceEvent::Created)
            .map(|t| (t.pod.as_str(), t.time.as_micros()))
            .collect();
        assert_eq!(created, [("a-0", 0), ("c-0", 2_000_000)], "{mode:?}");
    }
}

#[test]
fn window_sample_and_scales_stream_the_same_pods() {
    let d = dir("options", &[("t.csv", &sorted_csv(300))]);
    let options = ", window: {start: 40s, end: 300s}, sample: 0.5, timeScale: 0.5, sizeScale: 2";
    let streamed = load(&d, &workload(options)).unwrap();
    let whole = load(&d, &workload(&format!("{options}, stream: false"))).unwrap();
    assert!(replay(&streamed).is_streamed());
    let pods = replay(&streamed).pods().unwrap();
    assert_eq!(pods, replay(&whole).pods().unwrap());
    // The window keeps rows 54 to 299 (times 41 s to 203 s; 40 s is no row's time), and
    // sample about half of those.
    assert!(pods.len() > 80 && pods.len() < 170, "{}", pods.len());
    // Shifted by 40 s, then halved; requests doubled.
    let first = &pods[0];
    let row: usize = first.name[1..].parse().unwrap();
    let t = (5 + row / 3 * 2) as u64;
    assert_eq!(first.created_micros, Some((t - 40) * 500_000));
    let cpu = [500, 1000, 250, 2000][row % 4];
    assert_eq!(first.cpu_milli, cpu * 2);
    assert_eq!(
        format!("{:?}", play(&streamed, "first-fit", 1)),
        format!("{:?}", play(&whole, "first-fit", 1))
    );
}

#[test]
fn rows_out_of_time_order_are_read_whole_and_sorted() {
    let csv = "time,name,cpu,memory,duration\n5,a,1,1Gi,10\n3,b,1,1Gi,10\n5,c,1,1Gi,10\n";
    let d = dir("unsorted", &[("t.csv", csv)]);
    let s = load(&d, &workload("")).unwrap();
    assert!(!replay(&s).is_streamed());
    assert_eq!(
        s.trace_warnings,
        [format!(
            "{}: line 3 arrives before the row above it, so the replay is read whole and \
             sorted instead of streamed",
            d.join("t.csv").display()
        )]
    );
    let r = play(&s, "first-fit", 1);
    let created: Vec<(&str, u64)> = r
        .trace
        .iter()
        .filter(|t| t.event == TraceEvent::Created)
        .map(|t| (t.pod.as_str(), t.time.as_micros()))
        .collect();
    assert_eq!(
        created,
        [("b-0", 0), ("a-0", 2_000_000), ("c-0", 2_000_000)]
    );
}

#[test]
fn stream_true_where_a_replay_cannot_stream_is_an_error() {
    let d = dir("cannot", &[("t.csv", "time,name,cpu,memory\n1,a,1,1Gi\n")]);
    let e = load(
        &d,
        &format!(
            "{NODES}workloads:\n  - trace: {{format: generic-csv, pods: t.csv, timing: shuffled, stream: true}}\n"
        ),
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("workloads[0].trace.stream"));
    assert!(
        e.message
            .starts_with("only a recorded generic-csv replay streams"),
        "{e}"
    );
}
