//! Streamed replays (`sim::scenario::trace_stream`): a recorded generic CSV replay read
//! from its file during the run gives the same run, event for event, as the same trace
//! read whole (`stream: false`); bad rows are reported alike; `window`, `sample`,
//! `timeScale` and `sizeScale` applied row by row keep the same pods; and a file out of
//! time order falls back to the whole load, sorted, with a notice. A recorded Google
//! replay streams with a look-ahead: long enough, the run is the whole load's, event for
//! event, on the bundled shard; too short, a pod's end row is read after it was due and
//! the pod ends late, at the documented time, and is counted. Recorded Alibaba v2018
//! and openb (`alibaba-gpu-v2023`) replays in time order stream as read whole.

use std::fmt::Write as _;
use std::path::Path;

use sim::observe::columns;
use sim::scenario::TraceSource;
use sim::scenario::trace_stream::StreamedFormat;
use sim::{RunResult, Scenario, ScenarioError, TraceEvent};

#[path = "support/traces.rs"]
mod support;
use support::{dir, load, one_google_machine, play, replay};

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
    assert_eq!(
        e.message,
        "only a recorded generic-csv, google-2011-task-events, alibaba-2018-batch-instance, \
         alibaba-2018-container-meta or alibaba-gpu-v2023 replay streams; give `stream: false` \
         or leave it out"
    );
}

/// The bundled Google shard (6,000 s to 6,120 s of trace time, 823 tasks) on 12
/// machines, run for `duration`.
fn google_shard(extra: &str) -> String {
    format!(
        "startLatency: 1s
duration: 30m
cluster:
  nodePools: [{{name: m, count: 12, allocatable: {{cpu: '32', memory: 128Gi, pods: 110}}}}]
workloads:
  - trace: {{format: google-2011-task-events, pods: {}/../data/google-2011/task_events-part-00001-of-00500.csv.gz, machineScale: {{cpu: '32', memory: 128Gi}}, window: {{start: 6000s, end: 6120s}}{extra}}}
",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// What a run's trace records of `event`: (pod, microseconds, detail).
fn records(r: &RunResult, event: &str) -> Vec<(String, u64, String)> {
    r.trace
        .iter()
        .filter(|t| t.event.columns().0 == event)
        .map(|t| {
            (
                t.pod.clone(),
                t.time.as_micros(),
                t.event.columns().1.to_owned(),
            )
        })
        .collect()
}

/// When each pod had `event` in a run's trace: (pod, microseconds).
fn times(r: &RunResult, event: &str) -> Vec<(String, u64)> {
    records(r, event)
        .into_iter()
        .map(|(pod, t, _)| (pod, t))
        .collect()
}

#[test]
fn the_google_shard_streamed_with_a_long_look_ahead_is_the_whole_load_event_for_event() {
    let d = dir("google-shard", &[]);
    // Longer than the shard (about 1.4 h of trace time): no end is read late.
    let streamed = load(&d, &google_shard(", lookAhead: 100h")).unwrap_or_else(|e| panic!("{e}"));
    let whole = load(&d, &google_shard(", stream: false")).unwrap();
    assert!(replay(&streamed).reads_ahead());
    assert!(!replay(&whole).is_streamed());
    assert_eq!(streamed.gpu_workload, whole.gpu_workload);
    assert_eq!(streamed.trace_warnings, whole.trace_warnings);
    for (scheduler, seed) in [("first-fit", 1), ("kube-default", 2)] {
        let a = play(&streamed, scheduler, seed);
        let b = play(&whole, scheduler, seed);
        assert_eq!(records(&a, "created").len(), 823, "{scheduler}");
        // Pods ended by their recorded runs within the half hour.
        assert!(records(&a, "finished").len() > 100, "{scheduler}");
        assert_eq!(a.summary.count(&columns::TRACE_LATE_ENDS), 0);
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{scheduler}");
    }
    // The same file and seed give the same run again (each run opens its own reader).
    assert_eq!(
        format!("{:?}", play(&streamed, "first-fit", 1)),
        format!("{:?}", play(&streamed, "first-fit", 1))
    );
}

#[test]
fn window_sample_and_scales_stream_the_same_google_pods() {
    let d = dir("google-options", &[]);
    let options = ", sample: 0.5, timeScale: 0.5, sizeScale: 2, lookAhead: 100h";
    let streamed = load(&d, &google_shard(options)).unwrap();
    let whole = load(
        &d,
        &google_shard(", sample: 0.5, timeScale: 0.5, sizeScale: 2, stream: false"),
    )
    .unwrap();
    assert!(replay(&streamed).reads_ahead());
    // The scan's pod shapes (sizes doubled) are the whole load's.
    assert_eq!(streamed.gpu_workload, whole.gpu_workload);
    let pods = replay(&whole).pods().unwrap();
    assert!(pods.len() > 100 && pods.len() < 800, "{}", pods.len());
    let a = play(&streamed, "first-fit", 1);
    // Every kept task arrives once, at its halved time after the window's start.
    let created = times(&a, "created");
    let first = pods[0].created_micros.unwrap();
    let expected: Vec<(String, u64)> = pods
        .iter()
        .map(|p| (format!("{}-0", p.name), p.created_micros.unwrap() - first))
        .collect();
    assert_eq!(created, expected);
    assert_eq!(
        format!("{a:?}"),
        format!("{:?}", play(&whole, "first-fit", 1))
    );
}

/// One machine of 4 CPUs and 16Gi, pods start at once; `rows` is the task_events file.
fn google_fixture(name: &str, rows: &str, extra: &str) -> Result<Scenario, ScenarioError> {
    one_google_machine(&dir(name, &[("t.csv", rows)]), "t.csv", extra)
}

/// Task 1-0 is submitted at 0 and started at once here, but Google scheduled it only at
/// 50 s and it finished at 60 s: it runs 10 s, so it ends at 10 s. Task 2-0 arrives at
/// 55 s and runs 15 s.
const LATE: &str = "0,,1,0,,0,u,0,0,0.25,0.125,0,0
50000000,,1,0,7,1,u,0,0,0.25,0.125,0,0
55000000,,2,0,,0,u,0,0,0.25,0.125,0,0
55000000,,2,0,7,1,u,0,0,0.25,0.125,0,0
60000000,,1,0,7,4,u,0,0,0.25,0.125,0,0
70000000,,2,0,7,4,u,0,0,0.25,0.125,0,0
";

#[test]
fn a_google_end_read_after_it_was_due_ends_the_pod_late_and_is_counted() {
    // With 1 s of look-ahead, 1-0's end row (60 s) is read at 55 s: when 2-0 arrives, the
    // reader reads on to the next arrival and finds it. 1-0 was due at 10 s: it ends at
    // 55 s, 45 s late. 2-0's end is read as it arrives, before it starts: it runs its
    // 15 s.
    let s = google_fixture("late", LATE, ", lookAhead: 1s").unwrap_or_else(|e| panic!("{e}"));
    assert!(replay(&s).reads_ahead());
    let r = play(&s, "first-fit", 1);
    let started = times(&r, "started");
    assert_eq!(
        started,
        [("1-0-0".to_owned(), 0), ("2-0-0".to_owned(), 55_000_000)]
    );
    assert_eq!(
        records(&r, "late-end"),
        [(
            "1-0-0".to_owned(),
            55_000_000,
            "45s after its recorded end".to_owned()
        )]
    );
    let finished = times(&r, "finished");
    assert_eq!(
        finished,
        [
            ("1-0-0".to_owned(), 55_000_000),
            ("2-0-0".to_owned(), 70_000_000)
        ]
    );
    assert_eq!(r.summary.count(&columns::TRACE_LATE_ENDS), 1);
    // 1-0 was created with no known run time, yet it finished: the makespan counts from
    // its creation, as read whole.
    assert_eq!(r.summary.time(&columns::MAKESPAN).as_micros(), 70_000_000);
    assert_eq!(format!("{r:?}"), format!("{:?}", play(&s, "first-fit", 1)));
    // With the default look-ahead (an hour), 1-0 ends at 10 s, as read whole.
    for extra in ["", ", stream: false"] {
        let s = google_fixture("late", LATE, extra).unwrap();
        let r = play(&s, "first-fit", 1);
        let finished = times(&r, "finished");
        assert_eq!(
            finished,
            [
                ("1-0-0".to_owned(), 10_000_000),
                ("2-0-0".to_owned(), 70_000_000)
            ],
            "{extra:?}"
        );
        assert_eq!(r.summary.count(&columns::TRACE_LATE_ENDS), 0);
        assert_eq!(r.summary.time(&columns::MAKESPAN).as_micros(), 70_000_000);
    }
}

#[test]
fn a_bad_google_row_names_file_line_and_column_while_streaming() {
    let rows = format!("{LATE}65000000,,3,0,,0,u,0,0,lots,0.1,0,0\n");
    let shown = dir("google-bad", &[]).join("t.csv").display().to_string();
    for mode in ["", ", stream: false"] {
        let e = google_fixture("google-bad", &rows, &format!("{mode}, strict: true")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{shown}:7:24: CPU request: expected a share of the largest machine from 0 \
                 to 1, or nothing, got \"lots\""
            ),
            "{mode:?}"
        );
        let s = google_fixture("google-bad", &rows, mode).unwrap();
        assert_eq!(replay(&s).reads_ahead(), mode.is_empty());
        assert_eq!(
            s.trace_warnings,
            [format!(
                "{shown}: 1 row skipped, first at line 7, column 24: CPU request: expected a \
                 share of the largest machine from 0 to 1, or nothing, got \"lots\""
            )]
        );
        let r = play(&s, "first-fit", 1);
        assert_eq!(records(&r, "created").len(), 2, "{mode:?}");
    }
}

#[test]
fn a_google_file_out_of_time_order_is_read_whole() {
    let rows = "5000000,,1,0,,0,u,0,0,0.25,0.125,0,0\n3000000,,2,0,,0,u,0,0,0.25,0.125,0,0\n";
    let s = google_fixture("google-unsorted", rows, "").unwrap();
    assert!(!replay(&s).is_streamed());
    assert_eq!(
        s.trace_warnings,
        [format!(
            "{}: line 2 arrives before the row above it, so the replay is read whole and \
             sorted instead of streamed",
            dir("google-unsorted", &[]).join("t.csv").display()
        )]
    );
    let e = google_fixture("google-unsorted", rows, ", stream: false, lookAhead: 1s").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("workloads[0].trace.lookAhead"));
}

// Alibaba cluster-trace-v2018 (`sim::scenario::alibaba_v2018`): both pod tables stream
// in time order, with the whole load's parser and rules.

/// The streamed replay's summary.
fn streamed(s: &Scenario) -> &sim::scenario::trace_stream::StreamedTrace {
    match &replay(s).source {
        TraceSource::Streamed(t) => t,
        TraceSource::InMemory(_) => panic!("read whole"),
    }
}

/// Three nodes of 4 cores and 8Gi; `trace` is a trace workload's flow mapping inside.
fn alibaba(d: &Path, trace: &str) -> Result<Scenario, ScenarioError> {
    load(
        d,
        &format!(
            "startLatency: 1s
cluster:
  nodePools: [{{name: n, count: 3, allocatable: {{cpu: '4', memory: 8Gi}}}}]
workloads:
  - trace: {{{trace}}}
"
        ),
    )
}

const BATCH: &str = "format: alibaba-2018-batch-instance, pods: i.csv, tasks: t.csv, \
                     machineScale: {memory: 100Gi}";
const CONTAINERS: &str =
    "format: alibaba-2018-container-meta, pods: c.csv, machineScale: {memory: 100Gi}";

/// `batch_task` for jobs j_0 to j_5, tasks M1 and R2 each (1 to 2 cores, 1Gi to 4Gi),
/// then a row without plan_cpu (skipped).
fn batch_tasks() -> String {
    let mut s = String::new();
    for j in 0..6 {
        for (k, task) in ["M1", "R2"].iter().enumerate() {
            let cpu = [100, 150, 200, 50][(j + k) % 4];
            let mem = [1, 2, 4][(j * 2 + k) % 3];
            writeln!(s, "{task},9,j_{j},1,Terminated,1,2,{cpu},{mem}").unwrap();
        }
    }
    s.push_str("X9,1,j_9,1,Terminated,1,2,,1\n");
    s
}

/// `batch_instance` of `n` instances in start_time order, two to an instant, and the
/// lines of the rows that repeat an instance's first attempt. Every 13th instance runs
/// until the end; every 9th has a retry (seq_no 2) after it; every 10th is listed again
/// five instances later, with its own (earlier) start: a repeat, not replayed and not out
/// of order; a row that never ran (times 0) is first, and one of task X9 (bad in
/// `batch_task`) is a bad row.
fn batch_instances(n: usize) -> (String, Vec<usize>) {
    let mut s = String::new();
    let mut line = 0;
    let mut repeated = Vec::new();
    let mut row = |s: &mut String, text: String| {
        s.push_str(&text);
        s.push('\n');
        line += 1;
        line
    };
    let start = |i: usize| 10 + i / 2 * 3;
    let instance = |i: usize, seq: u32, start: usize| {
        let end = if i.is_multiple_of(13) {
            0
        } else {
            start + 5 + (i * 7) % 40
        };
        format!(
            "ins_{i},{},j_{},1,Terminated,{start},{end},m_1,{seq},2,,,,",
            ["M1", "R2"][i % 2],
            i % 6
        )
    };
    row(&mut s, "ins_w,M1,j_0,1,Waiting,0,0,,1,1,,,,".into());
    for i in 0..n {
        row(&mut s, instance(i, 1, start(i)));
        if i.is_multiple_of(9) {
            row(&mut s, instance(i, 2, start(i) + 1));
        }
        if i >= 5 && (i - 5).is_multiple_of(10) {
            repeated.push(row(&mut s, instance(i - 5, 1, start(i - 5))));
        }
        if i == n / 2 {
            row(
                &mut s,
                format!("ins_x,X9,j_9,1,Terminated,{},0,m_1,1,1,,,,", start(i)),
            );
        }
    }
    (s, repeated)
}

/// `container_meta` of `n` containers in time_stamp order: each first listed at its own
/// time (two to an instant), every third listed again 7 s later, twice the size; one row
/// without app_du is bad.
fn containers(n: usize) -> String {
    let mut rows: Vec<(usize, String)> = Vec::new();
    for i in 0..n {
        let t = 5 + i / 2 * 2;
        let (cpu, mem) = ([100, 200, 400][i % 3], [1, 2, 3][i % 3]);
        let app = format!("app_{}", i % 4);
        rows.push((t, format!("c_{i},m_1,{t},{app},started,{cpu},{cpu},{mem}")));
        if i.is_multiple_of(3) {
            let (t, cpu, mem) = (t + 7, cpu * 2, mem * 2);
            rows.push((t, format!("c_{i},m_1,{t},{app},started,{cpu},{cpu},{mem}")));
        }
    }
    rows.push((
        5 + n / 2,
        format!("c_bad,m_1,{},,started,100,100,1", 5 + n / 2),
    ));
    // Stable: file order among equal times.
    rows.sort_by_key(|(t, _)| *t);
    rows.into_iter().map(|(_, r)| r + "\n").collect()
}

/// The same run, event for event, for each scheduler.
fn same_runs(a: &Scenario, b: &Scenario, pods: usize) {
    for (scheduler, seed) in [("first-fit", 1), ("random", 2), ("kube-default", 3)] {
        let x = play(a, scheduler, seed);
        assert_eq!(records(&x, "created").len(), pods, "{scheduler}");
        assert_eq!(format!("{x:?}"), format!("{:?}", play(b, scheduler, seed)));
    }
}

#[test]
fn an_alibaba_batch_replay_streams_as_read_whole_and_skips_only_the_repeats() {
    let (instances, repeated) = batch_instances(200);
    let d = dir(
        "ali-batch",
        &[("t.csv", &batch_tasks()), ("i.csv", &instances)],
    );
    let s = alibaba(&d, BATCH).unwrap_or_else(|e| panic!("{e}"));
    let whole = alibaba(&d, &format!("{BATCH}, stream: false")).unwrap();
    assert!(replay(&s).is_streamed() && !replay(&whole).is_streamed());
    // What a run holds of the repeats: their lines, no set of instances.
    assert_eq!(repeated.len(), 20);
    match &streamed(&s).format {
        StreamedFormat::Alibaba2018Batch { repeated: r, .. } => assert_eq!(&r[..], &repeated),
        other => panic!("{other:?}"),
    }
    let pods = replay(&s).pods().unwrap();
    assert_eq!(pods, replay(&whole).pods().unwrap());
    assert_eq!(pods.len(), 200, "each instance once");
    assert_eq!(streamed(&s).pods, 200);
    assert_eq!(s.gpu_workload, whole.gpu_workload);
    assert_eq!(s.trace_warnings, whole.trace_warnings);
    assert_eq!(
        s.trace_warnings,
        [
            format!(
                "{}: 1 row skipped, first at line 13, column 27: plan_cpu: expected the \
                 task's CPU in hundredths of a core (100 is 1 core), got \"\"",
                d.join("t.csv").display()
            ),
            format!(
                "{}: 1 row skipped, first at line 125, column 7: task_name: task \"X9\" of \
                 job \"j_9\" is not in {}",
                d.join("i.csv").display(),
                d.join("t.csv").display()
            )
        ]
    );
    same_runs(&s, &whole, 200);
}

#[test]
fn an_alibaba_container_replay_streams_as_read_whole() {
    let d = dir("ali-containers", &[("c.csv", &containers(150))]);
    let s = alibaba(&d, CONTAINERS).unwrap_or_else(|e| panic!("{e}"));
    let whole = alibaba(&d, &format!("{CONTAINERS}, stream: false")).unwrap();
    assert!(replay(&s).is_streamed() && !replay(&whole).is_streamed());
    let pods = replay(&s).pods().unwrap();
    assert_eq!(pods, replay(&whole).pods().unwrap());
    assert_eq!(pods.len(), 150);
    // Each container at its first (earliest) row: c_0 at 1 core and 1Gi, not doubled.
    assert_eq!((pods[0].cpu_milli, pods[0].memory_bytes), (1000, 1 << 30));
    // A run skips the later rows by line: it holds the first rows' lines, shared.
    match &streamed(&s).format {
        StreamedFormat::Alibaba2018Containers { firsts, .. } => assert_eq!(firsts.len(), 150),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.gpu_workload, whole.gpu_workload);
    assert_eq!(s.trace_warnings, whole.trace_warnings);
    assert_eq!(s.trace_warnings.len(), 1);
    same_runs(&s, &whole, 150);
}

/// The fixture `name` with its lines sorted by column `col` (1-based) as numbers, a
/// line whose column is no number first, file order among equal times: what
/// `sort -s -t, -k<col>,<col>n` makes of it.
fn sorted_fixture(name: &str, col: usize) -> String {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_by_key(|l| {
        l.split(',')
            .nth(col - 1)
            .unwrap()
            .parse::<i64>()
            .unwrap_or(0)
    });
    lines.into_iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn the_alibaba_fixtures_sorted_stream_as_read_whole() {
    let d = dir(
        "ali-fixtures",
        &[
            ("t.csv", &sorted_fixture("alibaba_batch_task.csv", 1)),
            ("i.csv", &sorted_fixture("alibaba_batch_instance.csv", 6)),
            ("c.csv", &sorted_fixture("alibaba_container_meta.csv", 3)),
        ],
    );
    for (trace, names) in [
        (
            BATCH,
            &[
                "j_1/M1/ins_1",
                "j_1/M1/ins_2",
                "j_2/task_YWJj==/ins_4",
                "j_1/R2_1/ins_3",
            ][..],
        ),
        (CONTAINERS, &["c_2", "c_3", "c_1"][..]),
    ] {
        let s = alibaba(&d, trace).unwrap_or_else(|e| panic!("{e}"));
        let whole = alibaba(&d, &format!("{trace}, stream: false")).unwrap();
        assert!(replay(&s).is_streamed(), "{trace}");
        let pods = replay(&s).pods().unwrap();
        let got: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(got, names);
        assert_eq!(pods, replay(&whole).pods().unwrap());
        assert_eq!(s.trace_warnings, whole.trace_warnings);
        same_runs(&s, &whole, names.len());
    }
}

#[test]
fn a_bad_alibaba_row_is_reported_alike_in_both_modes() {
    let (instances, _) = batch_instances(40);
    let d = dir(
        "ali-bad",
        &[
            ("t.csv", &batch_tasks()),
            ("i.csv", &instances),
            ("c.csv", &containers(30)),
        ],
    );
    let i = d.join("i.csv").display().to_string();
    let c = d.join("c.csv").display().to_string();
    // Strict stops at batch_task's bad row before any instance; with a good table, at
    // the instance of the unknown task.
    std::fs::write(
        d.join("t2.csv"),
        batch_tasks().replace("X9,1,j_9,1,Terminated,1,2,,1\n", ""),
    )
    .unwrap();
    let batch = BATCH.replace("t.csv", "t2.csv");
    let cases = [
        (
            batch.as_str(),
            format!(
                "{i}:28:7: task_name: task \"X9\" of job \"j_9\" is not in {}",
                d.join("t2.csv").display()
            ),
        ),
        (
            CONTAINERS,
            format!("{c}:21:14: app_du: expected the container's deploy unit (app_du), got \"\""),
        ),
    ];
    for (trace, error) in cases {
        for mode in ["", ", stream: false"] {
            let e = alibaba(&d, &format!("{trace}{mode}, strict: true")).unwrap_err();
            assert_eq!(e.to_string(), error, "{mode:?}");
        }
    }
}

#[test]
fn window_sample_and_scales_stream_the_same_alibaba_pods() {
    let (instances, _) = batch_instances(300);
    let d = dir(
        "ali-options",
        &[
            ("t.csv", &batch_tasks()),
            ("i.csv", &instances),
            ("c.csv", &containers(200)),
        ],
    );
    let options = ", window: {start: 40s, end: 400s}, sample: 0.5, timeScale: 0.5, sizeScale: 0.5";
    for trace in [BATCH, CONTAINERS] {
        let s = alibaba(&d, &format!("{trace}{options}")).unwrap();
        let whole = alibaba(&d, &format!("{trace}{options}, stream: false")).unwrap();
        assert!(replay(&s).is_streamed());
        let pods = replay(&s).pods().unwrap();
        assert_eq!(pods, replay(&whole).pods().unwrap(), "{trace}");
        // Sampled by job (batch) or deploy unit (containers): some kept, some dropped.
        assert!(
            pods.len() > 20 && pods.len() < 150,
            "{trace}: {}",
            pods.len()
        );
        assert_eq!(s.gpu_workload, whole.gpu_workload);
        same_runs(&s, &whole, pods.len());
    }
}

#[test]
fn a_container_snapshot_earlier_than_the_row_above_reads_the_file_whole() {
    // c_1's first row is in order, but its second, at 3 s, is earlier than c_2's row:
    // the container's earliest row is the second, as read whole.
    let rows = "c_1,m_1,5,app_1,started,100,100,1\nc_2,m_1,6,app_1,started,100,100,1\n\
                c_1,m_1,3,app_1,started,300,300,3\n";
    let d = dir("ali-unsorted", &[("c.csv", rows)]);
    let s = alibaba(&d, CONTAINERS).unwrap();
    assert!(!replay(&s).is_streamed());
    assert_eq!(
        s.trace_warnings,
        [format!(
            "{}: line 3 arrives before the row above it, so the replay is read whole and \
             sorted instead of streamed",
            d.join("c.csv").display()
        )]
    );
    let pods = replay(&s).pods().unwrap();
    let got: Vec<(&str, i64, Option<u64>)> = pods
        .iter()
        .map(|p| (p.name.as_str(), p.cpu_milli, p.created_micros))
        .collect();
    assert_eq!(
        got,
        [
            ("c_1", 3000, Some(3_000_000)),
            ("c_2", 1000, Some(6_000_000))
        ]
    );
}

// The openb GPU trace (`alibaba-gpu-v2023`, `sim::scenario::gpu_trace`): a recorded pod
// list in creation_time order streams with the whole load's parser; its loader skips no
// row.

/// Four GPU nodes (8 cores, 32Gi, 2 GPUs each, two models) and a CPU node left out.
const OPENB_NODES: &str = "sn,cpu_milli,memory_mib,gpu,model\n\
                           cpu-0,64000,262144,0,\n\
                           g-0,8000,32768,2,T4\n\
                           g-1,8000,32768,2,T4\n\
                           g-2,8000,32768,2,V100M32\n\
                           g-3,8000,32768,2,V100M32\n";

const OPENB_HEADER: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,\
                            pod_phase,creation_time,deletion_time,scheduled_time\n";

/// An openb pod list of `n` pods in creation_time order, three to an instant: GPU
/// shares, whole GPUs (one or two, some pinned to a model) and CPU-only pods; every
/// 7th never scheduled by the trace (deletion minus creation), every 11th never deleted
/// (runs until the end).
fn openb_pods(n: usize) -> String {
    let mut s = String::from(OPENB_HEADER);
    for i in 0..n {
        let t = 100 + i / 3 * 4;
        let (num_gpu, milli, spec) = [
            (1, 500, ""),
            (1, 1000, ""),
            (0, 0, ""),
            (2, 1000, "T4"),
            (1, 250, "V100M32|T4"),
        ][i % 5];
        let cpu = [1000, 2000, 4000][i % 3];
        let mem = [2048, 4096, 8192][i % 3];
        let scheduled = if i % 7 == 0 {
            String::new()
        } else {
            (t + i % 3).to_string()
        };
        let deleted = if i % 11 == 0 {
            String::new()
        } else {
            (t + 5 + (i * 13) % 60).to_string()
        };
        writeln!(
            s,
            "p{i},{cpu},{mem},{num_gpu},{milli},{spec},LS,Running,{t},{deleted},{scheduled}"
        )
        .unwrap();
    }
    s
}

/// The GPU nodes of [`OPENB_NODES`]; `trace` is a trace workload's flow mapping inside.
fn openb(d: &Path, trace: &str) -> Result<Scenario, ScenarioError> {
    load(
        d,
        &format!(
            "startLatency: 1s
cluster:
  trace: {{format: alibaba-gpu-v2023, nodes: nodes.csv, gpuNodesOnly: true}}
workloads:
  - trace: {{format: alibaba-gpu-v2023, pods: pods.csv, timing: recorded{trace}}}
"
        ),
    )
}

#[test]
fn an_openb_replay_streams_as_read_whole_event_for_event() {
    let d = dir(
        "openb",
        &[("nodes.csv", OPENB_NODES), ("pods.csv", &openb_pods(240))],
    );
    let s = openb(&d, "").unwrap_or_else(|e| panic!("{e}"));
    let whole = openb(&d, ", stream: false").unwrap();
    assert!(replay(&s).is_streamed() && !replay(&whole).is_streamed());
    assert_eq!(streamed(&s).format, StreamedFormat::AlibabaGpu2023);
    assert_eq!(streamed(&s).pods, 240);
    // From 100 s (p0) to 100 + 79 * 4 s (p239).
    assert_eq!(
        (streamed(&s).first_micros, streamed(&s).last_micros),
        (100_000_000, 416_000_000)
    );
    let pods = replay(&s).pods().unwrap();
    assert_eq!(pods, replay(&whole).pods().unwrap());
    assert_eq!(pods[3].gpu.models, ["T4"]);
    assert_eq!(pods[0].scheduled_micros, None, "p0 never scheduled");
    assert_eq!(pods[0].deleted_micros, None, "p0 never deleted");
    // The task mix fragmentation-aware schedulers measure against: the same five shapes.
    assert_eq!(s.gpu_workload, whole.gpu_workload);
    assert!(s.trace_warnings.is_empty(), "{:?}", s.trace_warnings);
    same_runs(&s, &whole, 240);
    // The GPU nodes were busy: some pod waited for room.
    let r = play(&s, "first-fit", 1);
    assert!(
        !records(&r, "unschedulable").is_empty(),
        "a trivial run: no pod waited"
    );
}

#[test]
fn a_bad_openb_row_is_the_same_error_streamed_or_read_whole() {
    let good = openb_pods(12);
    // A GPU share asked of two GPUs at line 5, and a pod deleted before it was created at
    // line 9: the first is the error, in both modes, whatever `strict` says.
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    lines[4] = "p3,1000,2048,2,500,T4,LS,Running,104,120,104".into();
    lines[8] = "p7,2000,4096,1,1000,,LS,Running,108,100,".into();
    let bad = lines.join("\n") + "\n";
    let d = dir(
        "openb-bad",
        &[("nodes.csv", OPENB_NODES), ("pods.csv", &bad)],
    );
    let shown = d.join("pods.csv").display().to_string();
    for mode in [
        "",
        ", stream: false",
        ", strict: true",
        ", stream: false, strict: true",
    ] {
        let e = openb(&d, mode).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{shown}:5:16: gpu_milli: a pod asking for several GPUs takes them whole: \
                 gpu_milli must be 1000, got 500"
            ),
            "{mode:?}"
        );
    }
    lines[4] = "p3,1000,2048,2,1000,T4,LS,Running,104,120,104".into();
    std::fs::write(d.join("pods.csv"), lines.join("\n") + "\n").unwrap();
    for mode in ["", ", stream: false"] {
        let e = openb(&d, mode).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{shown}:9:37: deletion_time: a pod cannot be deleted before it was created \
                 (at 108), got 100"
            ),
            "{mode:?}"
        );
    }
    // A header without creation_time: a recorded replay needs it, in both modes.
    std::fs::write(
        d.join("pods.csv"),
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\na,1000,1024,0,0,\n",
    )
    .unwrap();
    for mode in ["", ", stream: false"] {
        let e = openb(&d, mode).unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "{shown}:1: creation_time: the header lacks the column"
            )),
            "{mode:?}: {e}"
        );
    }
}

#[test]
fn window_sample_and_scales_stream_the_same_openb_pods() {
    let d = dir(
        "openb-options",
        &[("nodes.csv", OPENB_NODES), ("pods.csv", &openb_pods(300))],
    );
    let options = ", window: {start: 150s, end: 400s}, sample: 0.5, timeScale: 0.5, sizeScale: 0.5";
    let s = openb(&d, options).unwrap();
    let whole = openb(&d, &format!("{options}, stream: false")).unwrap();
    assert!(replay(&s).is_streamed() && !replay(&whole).is_streamed());
    let pods = replay(&s).pods().unwrap();
    assert_eq!(pods, replay(&whole).pods().unwrap());
    // The window keeps p39 (152 s) to p224 (396 s), 186 pods; sample about half.
    assert!(pods.len() > 60 && pods.len() < 130, "{}", pods.len());
    let first = &pods[0];
    let row: usize = first.name[1..].parse().unwrap();
    let t = (100 + row / 3 * 4) as u64;
    assert_eq!(first.created_micros, Some((t - 150) * 500_000));
    assert_eq!(first.cpu_milli, [1000, 2000, 4000][row % 3] / 2);
    assert_eq!(s.gpu_workload, whole.gpu_workload);
    same_runs(&s, &whole, pods.len());
}

#[test]
fn an_openb_list_out_of_time_order_is_read_whole_and_sorted() {
    let pods = format!(
        "{OPENB_HEADER}a,1000,1024,1,500,,LS,Running,20,40,20\n\
         b,1000,1024,0,0,,LS,Running,10,30,10\n\
         c,1000,1024,1,1000,,LS,Running,20,,\n"
    );
    let d = dir(
        "openb-unsorted",
        &[("nodes.csv", OPENB_NODES), ("pods.csv", &pods)],
    );
    let s = openb(&d, "").unwrap();
    assert!(!replay(&s).is_streamed());
    assert_eq!(
        s.trace_warnings,
        [format!(
            "{}: line 3 arrives before the row above it, so the replay is read whole and \
             sorted instead of streamed",
            d.join("pods.csv").display()
        )]
    );
    let r = play(&s, "first-fit", 1);
    assert_eq!(
        times(&r, "created"),
        [
            ("b-0".to_owned(), 0),
            ("a-0".to_owned(), 10_000_000),
            ("c-0".to_owned(), 10_000_000)
        ]
    );
    // A shuffled replay draws from the whole list: it cannot stream.
    let e = load(
        &d,
        "cluster:\n  trace: {format: alibaba-gpu-v2023, nodes: nodes.csv}\nworkloads:\n  - trace: {format: alibaba-gpu-v2023, pods: pods.csv, timing: shuffled, stream: true}\n",
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("workloads[0].trace.stream"));
}
