//! The trace formats besides openb (`generic-csv`, `google-2011-task-events`) and the
//! options of every trace workload (`window`, `sample`, `timeScale`, `sizeScale`,
//! `strict`): tiny hand-written traces replay at exactly the times and on exactly the
//! nodes their rows give, the real Google shard loads every task it submits, and bad rows
//! are skipped and counted, or with `strict` an error naming file, line and column.

use std::io::Read;

use sim::scenario::gpu_trace::TracePod;
use sim::{RunResult, Scenario, ScenarioError, TraceEvent};

#[path = "support/traces.rs"]
mod support;
use support::{dir, load, one_google_machine, play, replay};

/// (pod, microseconds) of each `event`, in trace order.
fn events(r: &RunResult, event: fn(&TraceEvent) -> bool) -> Vec<(String, u64)> {
    r.trace
        .iter()
        .filter(|t| event(&t.event))
        .map(|t| (t.pod.clone(), t.time.as_micros()))
        .collect()
}

/// (pod, node) of each binding.
fn bindings(r: &RunResult) -> Vec<(String, String)> {
    r.trace
        .iter()
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => Some((t.pod.clone(), node.clone())),
            _ => None,
        })
        .collect()
}

fn owned(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(p, t)| (p.to_string(), *t)).collect()
}

/// Three pods on two nodes (2 CPUs each; `small-0` before `big-0` for first-fit).
/// Times shift so the first arrival (10 s) is at 0; start latency is zero.
/// - a: arrives at 0, 1.5 CPUs: first-fit takes small-0; runs 30 s, finishes at 30.
/// - b: arrives at 0.5, `pool=big`: only big-0; no duration, runs until the end.
/// - c: arrives at 2, 1 CPU: small-0 has 0.5 left, big-0 has 1: big-0; runs 4.25 s,
///   finishes at 6.25.
const GENERIC: &str = "time,name,namespace,cpu,memory,duration,priority,gpu,node_selector
10,a,,1500m,1Gi,30,,,
10.5,b,team-a,1,1073741824,,5,,pool=big
12,c,,1,512Mi,4.25,-3,,
";

const TWO_NODES: &str = "startLatency: 0s
cluster:
  nodePools:
    - {name: small, count: 1, allocatable: {cpu: '2', memory: 4Gi}, labels: {pool: small}}
    - {name: big, count: 1, allocatable: {cpu: '2', memory: 4Gi}, labels: {pool: big}}
";

#[test]
fn a_generic_csv_replays_at_its_times_on_exact_nodes() {
    let d = dir("generic", &[("trace.csv", GENERIC)]);
    let s = load(
        &d,
        &format!("{TWO_NODES}workloads: [{{trace: {{format: generic-csv, pods: trace.csv}}}}]\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let pods = replay(&s).pods().unwrap();
    assert_eq!(pods.len(), 3);
    assert_eq!(
        (pods[0].cpu_milli, pods[0].memory_bytes, pods[0].priority),
        (1500, 1 << 30, 0)
    );
    assert_eq!(
        (
            pods[1].namespace.as_str(),
            pods[1].priority,
            pods[1].cpu_milli
        ),
        ("team-a", 5, 1000)
    );
    assert_eq!(pods[1].memory_bytes, 1 << 30, "plain bytes");
    assert_eq!(pods[1].node_selector.get("pool"), Some("big"));
    assert_eq!((pods[2].memory_bytes, pods[2].priority), (512 << 20, -3));
    assert_eq!(
        pods.iter()
            .map(|p| (p.created_micros, p.deleted_micros))
            .collect::<Vec<_>>(),
        [
            (Some(10_000_000), Some(40_000_000)),
            (Some(10_500_000), None),
            (Some(12_000_000), Some(16_250_000))
        ]
    );
    assert!(s.trace_warnings.is_empty());
    let r = play(&s, "first-fit", 1);
    assert_eq!(
        events(&r, |e| *e == TraceEvent::Created),
        owned(&[("a-0", 0), ("b-0", 500_000), ("c-0", 2_000_000)])
    );
    let b = |p: &str, n: &str| (p.to_string(), n.to_string());
    assert_eq!(
        bindings(&r),
        [b("a-0", "small-0"), b("b-0", "big-0"), b("c-0", "big-0")]
    );
    assert_eq!(
        events(&r, |e| *e == TraceEvent::Finished),
        owned(&[("c-0", 6_250_000), ("a-0", 30_000_000)])
    );
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn google_scenario(extra: &str) -> Result<Scenario, ScenarioError> {
    one_google_machine(
        &dir("google", &[]),
        &fixture("google_task_events.csv"),
        extra,
    )
}

/// `fixtures/google_task_events.csv`, by hand (machineScale 4 CPUs, 16Gi):
/// - 100-0: SUBMIT at 0 (before the window), SCHEDULE at 5 s, FINISH at 65 s: runs 60 s;
///   0.25 and 0.125 of the machine: 1000m and 2Gi; priority 9.
/// - 100-1: SUBMIT at 2 s, SCHEDULE at 3 s, KILL at 3.5 s: runs 0.5 s; 2000m, 4Gi.
/// - 200-0: SUBMIT at 10 s, priority 0, 500m and 1Gi; its SCHEDULE is after the window
///   (2^63-1): never ends.
/// - job 300 has no SUBMIT in the file: not replayed.
/// - line 10 (time "x") and line 11 (priority 12) are bad rows.
#[test]
fn a_google_task_events_file_gives_exact_pods_and_durations() {
    let s = google_scenario("").unwrap_or_else(|e| panic!("{e}"));
    let pods = replay(&s).pods().unwrap();
    let view = |p: &TracePod| {
        (
            p.name.clone(),
            p.cpu_milli,
            p.memory_bytes,
            p.priority,
            p.created_micros,
            p.scheduled_micros,
            p.deleted_micros,
        )
    };
    assert_eq!(
        pods.iter().map(view).collect::<Vec<_>>(),
        [
            (
                "100-0".into(),
                1000,
                2 << 30,
                9,
                Some(0),
                Some(5_000_000),
                Some(65_000_000)
            ),
            (
                "100-1".into(),
                2000,
                4 << 30,
                9,
                Some(2_000_000),
                Some(3_000_000),
                Some(3_500_000)
            ),
            (
                "200-0".into(),
                500,
                1 << 30,
                0,
                Some(10_000_000),
                None,
                None
            ),
        ]
    );
    let shown = fixture("google_task_events.csv");
    assert_eq!(
        s.trace_warnings,
        [format!(
            "{shown}: 2 rows skipped, first at line 10, column 1: time: expected a time in \
             microseconds, got \"x\""
        )]
    );
    let r = play(&s, "first-fit", 1);
    assert_eq!(
        events(&r, |e| *e == TraceEvent::Started),
        owned(&[
            ("100-0-0", 0),
            ("100-1-0", 2_000_000),
            ("200-0-0", 10_000_000)
        ])
    );
    assert_eq!(
        events(&r, |e| *e == TraceEvent::Finished),
        owned(&[("100-1-0", 2_500_000), ("100-0-0", 60_000_000)])
    );
}

#[test]
fn strict_makes_the_first_bad_row_an_error() {
    let e = google_scenario(", strict: true").unwrap_err();
    assert_eq!(
        (
            e.path.as_str(),
            e.line,
            e.column,
            e.field.as_deref(),
            e.message.as_str()
        ),
        (
            fixture("google_task_events.csv").as_str(),
            Some(10),
            Some(1),
            Some("time"),
            "expected a time in microseconds, got \"x\""
        )
    );
    // A generic CSV's bad row: line 3's cpu, column 5.
    let d = dir(
        "generic-bad",
        &[(
            "t.csv",
            "time,name,cpu,memory\n1,a,1,1Gi\n2,b,lots,1Gi\n3,c,1\n",
        )],
    );
    let yaml = |strict: &str| {
        format!("{TWO_NODES}workloads: [{{trace: {{format: generic-csv, pods: t.csv{strict}}}}}]\n")
    };
    let e = load(&d, &yaml(", strict: true")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:3:5: cpu: expected a CPU quantity such as 2 (cores) or 500m, got \"lots\"",
            d.join("t.csv").display()
        )
    );
    let s = load(&d, &yaml("")).unwrap();
    assert_eq!(replay(&s).pods().unwrap().len(), 1);
    assert_eq!(
        s.trace_warnings,
        [format!(
            "{}: 2 rows skipped, first at line 3, column 5: cpu: expected a CPU quantity such \
             as 2 (cores) or 500m, got \"lots\"",
            d.join("t.csv").display()
        )]
    );
}

/// Four pods at 0, 100, 150 and 200 s, each running 40 s.
const SPREAD: &str = "time,name,cpu,memory,duration
0,p1,1,1Gi,40
100,p2,1,1Gi,40
150,p3,500m,1Gi,40
200,p4,1,1Gi,40
";

#[test]
fn window_and_scales_are_exact() {
    let d = dir("window", &[("t.csv", SPREAD)]);
    let s = load(
        &d,
        &format!(
            "{TWO_NODES}workloads: [{{trace: {{format: generic-csv, pods: t.csv, \
             window: {{start: 100s, end: 200s}}, timeScale: 0.5, sizeScale: 2}}}}]\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // [100 s, 200 s) keeps p2 and p3, shifted to 0 and 50 s, then halved: 0 and 25 s,
    // running 20 s; requests doubled.
    let pods = replay(&s).pods().unwrap();
    assert_eq!(
        pods.iter()
            .map(|p| (
                p.name.as_str(),
                p.created_micros,
                p.deleted_micros,
                p.cpu_milli,
                p.memory_bytes
            ))
            .collect::<Vec<_>>(),
        [
            ("p2", Some(0), Some(20_000_000), 2000, 2 << 30),
            ("p3", Some(25_000_000), Some(45_000_000), 1000, 2 << 30)
        ]
    );
    let e = load(
        &d,
        &format!(
            "{TWO_NODES}workloads: [{{trace: {{format: generic-csv, pods: t.csv, \
             window: {{start: 300s}}}}}}]\n"
        ),
    )
    .unwrap_err();
    assert!(
        e.message
            .ends_with("is left once `window` and `sample` are applied"),
        "{e}"
    );
}

#[test]
fn sample_keeps_the_same_jobs_every_time() {
    // Names hashed with 64-bit FNV-1a then MurmurHash3's finalizer, kept when the hash
    // is below 0.5 * 2^64; computed apart in Python: job0, job1, job3, job6, job7 (and of
    // the Google fixture's jobs, 200 but not 100).
    let rows: String = (0..8).map(|i| format!("{i},job{i},1,1Gi,1\n")).collect();
    let d = dir(
        "sample",
        &[("t.csv", &format!("time,name,cpu,memory,duration\n{rows}"))],
    );
    let text = format!(
        "{TWO_NODES}workloads: [{{trace: {{format: generic-csv, pods: t.csv, sample: 0.5}}}}]\n"
    );
    let names = |s: &Scenario| {
        replay(s)
            .pods()
            .unwrap()
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };
    let first = names(&load(&d, &text).unwrap());
    assert_eq!(first, SAMPLED);
    assert_eq!(
        names(&load(&d, &text).unwrap()),
        first,
        "the same every load"
    );
    // A Google job is kept or dropped whole.
    let s = google_scenario(", sample: 0.5").unwrap();
    let pods = replay(&s).pods().unwrap();
    let jobs: Vec<&str> = pods
        .iter()
        .map(|p| p.name.split('-').next().unwrap())
        .collect();
    assert_eq!(jobs, ["200"]);
}

/// The jobs `sample: 0.5` keeps of job0..job7 (see the test).
const SAMPLED: &[&str] = &["job0", "job1", "job3", "job6", "job7"];

/// The real shard (`data/google-2011/task_events-part-00001-of-00500.csv.gz`): every
/// task with a SUBMIT event is a pod. `zcat ... | awk -F, '$6==0 {s[$3"-"$4]=1} END
/// {n=0; for (k in s) n++; print n}'` gives 20139; the test counts again from the raw
/// file.
#[test]
fn the_real_google_shard_loads_every_submitted_task() {
    let path = format!(
        "{}/../data/google-2011/task_events-part-00001-of-00500.csv.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let submitted: std::collections::BTreeSet<(&str, &str)> = text
        .lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[5] == "0")
        .map(|f| (f[2], f[3]))
        .collect();
    assert_eq!(submitted.len(), 20139);
    let d = dir("shard", &[]);
    let s = load(
        &d,
        &format!(
            "cluster: {{nodePools: [{{name: m, count: 1, allocatable: {{cpu: '32', memory: 128Gi}}}}]}}
workloads:
  - trace: {{format: google-2011-task-events, pods: {path}, machineScale: {{cpu: '32', memory: 128Gi}}}}
"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let pods = replay(&s).pods().unwrap();
    assert_eq!(pods.len(), 20139);
    assert!(s.trace_warnings.is_empty(), "{:?}", s.trace_warnings);
    // The first row: job 6251812952 task 1761 is not submitted in the file; the first
    // SUBMIT is job 6251995937 task 33 at 5612587446 us (line 4), 0.06873 and 0.01193
    // of the machine: 2199.36 -> 2199m and 1639646714.92 -> 1639646715 bytes.
    assert_eq!(pods[0].name, "6251995937-33");
    assert_eq!(pods[0].created_micros, Some(5_612_587_446));
    assert_eq!(
        (pods[0].cpu_milli, pods[0].memory_bytes),
        (2199, 1_639_646_715)
    );
    for p in pods.iter() {
        let name = p.name.rsplit_once('-').unwrap();
        assert!(submitted.contains(&name), "{}", p.name);
    }
}
