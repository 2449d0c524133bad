//! Alibaba cluster-trace-v2018's pod tables as trace workloads
//! (`alibaba-2018-batch-instance` with `batch_task`, `alibaba-2018-container-meta`): our
//! hand-written fixtures (`tests/fixtures/alibaba_*.csv`, not Alibaba's data, in the
//! columns of `data/alibaba-v2018/schema.txt`) give exact pods, replay on exact nodes,
//! and their bad rows are skipped and counted, or with `strict` an error at file, line
//! and column; scenario mistakes name the field.

use std::path::{Path, PathBuf};

use schedulers::{Registry, SchedulerSpec};
use sim::scenario::alibaba_v2018::{APP_LABEL, JOB_LABEL};
use sim::scenario::gpu_trace::TracePod;
use sim::scenario::{TraceReplay, WorkloadKind};
use sim::{RunResult, Scenario, ScenarioError, Simulation, TraceEvent, parse_scenario};

const GI: i64 = 1 << 30;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn shown(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Loads scenario `text` as if it were `scenario.yaml` in `dir`.
fn load_in(dir: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let registry = Registry::builtin();
    let path = dir.join("scenario.yaml");
    parse_scenario(text, &path.display().to_string(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
}

/// Two nodes `n-0` and `n-1` of `cpu` cores and 8Gi, pods starting as soon as bound, and
/// one trace workload of `trace` (a flow mapping's inside).
fn scenario(cpu: &str, trace: &str) -> Result<Scenario, ScenarioError> {
    load_in(
        &fixtures(),
        &format!(
            "startLatency: 0s
cluster:
  nodePools: [{{name: n, count: 2, allocatable: {{cpu: '{cpu}', memory: 8Gi}}}}]
workloads:
  - trace: {{{trace}}}
"
        ),
    )
}

const BATCH: &str = "format: alibaba-2018-batch-instance, pods: alibaba_batch_instance.csv, \
                     tasks: alibaba_batch_task.csv, machineScale: {memory: 100Gi}";
const CONTAINERS: &str = "format: alibaba-2018-container-meta, pods: alibaba_container_meta.csv, \
                          machineScale: {memory: 100Gi}";

fn replay(s: &Scenario) -> &TraceReplay {
    match &s.workloads[0].kind {
        WorkloadKind::Trace(r) => r,
        other => panic!("{other:?}"),
    }
}

/// (name, millicores, bytes, arrival, end) of a trace pod, times in seconds.
fn view(p: &TracePod) -> (String, i64, i64, Option<u64>, Option<u64>) {
    let s = |t: Option<u64>| t.map(|t| t / 1_000_000);
    (
        p.name.clone(),
        p.cpu_milli,
        p.memory_bytes,
        s(p.created_micros),
        s(p.deleted_micros),
    )
}

fn play(s: &Scenario) -> RunResult {
    let registry = Registry::builtin();
    let spec = SchedulerSpec::named("first-fit");
    let mut sim = Simulation::new(s, registry.build(&spec, &s.build_context()).unwrap(), 1);
    sim.enable_trace();
    sim.run()
}

/// (pod, node) of each binding, in order.
fn bindings(r: &RunResult) -> Vec<(String, String)> {
    r.trace
        .iter()
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => Some((t.pod.clone(), node.clone())),
            _ => None,
        })
        .collect()
}

/// (pod, seconds) of each `event`, in order.
fn events(r: &RunResult, event: TraceEvent) -> Vec<(String, u64)> {
    r.trace
        .iter()
        .filter(|t| t.event == event)
        .map(|t| (t.pod.clone(), t.time.as_micros() / 1_000_000))
        .collect()
}

fn pairs<T: Clone>(v: &[(&str, T)]) -> Vec<(String, T)> {
    v.iter().map(|(a, b)| (a.to_string(), b.clone())).collect()
}

/// `alibaba_batch_task.csv` (machineScale.memory 100Gi, so plan_mem 1 is 1Gi):
/// - line 1: j_1's M1, plan_cpu 100 and plan_mem 2: 1000m, 2Gi.
/// - line 2: j_1's R2_1, 50 and 1: 500m, 1Gi.
/// - line 3: j_2's task_YWJj==, 200 and 4.5: 2000m, 4.5Gi.
/// - line 4: j_3's M1 without plan_cpu: a bad row.
/// - line 5: j_1's M1 again: a bad row.
///
/// `alibaba_batch_instance.csv`:
/// - line 1: ins_1 of j_1/M1, 100 s to 160 s.
/// - line 2: ins_2 of j_1/M1, Failed, 105 s to 130 s: replayed as it ran.
/// - line 3: ins_2's second attempt (seq_no 2): not a pod.
/// - line 4: ins_3 of j_1/R2_1, Running from 170 s (end_time 0): until the end.
/// - line 5: ins_4 of j_2, 120 s to 500 s.
/// - line 6: ins_5 of j_3/M1, whose task row was bad: a bad row.
/// - line 7: ins_6, Waiting, never started (times 0): not replayed.
/// - line 8: ins_7 ends (150 s) before it starts (200 s): a bad row.
/// - line 9: ins_1's first attempt again: not replayed twice.
///
/// Line 5 starts before line 4: the file is not in time order, so the replay is read
/// whole and sorted rather than streamed, with a notice.
#[test]
fn batch_instances_become_exact_pods_with_their_tasks_requests() {
    let s = scenario("2", BATCH).unwrap_or_else(|e| panic!("{e}"));
    let pods = replay(&s).pods().unwrap();
    assert_eq!(
        pods.iter().map(view).collect::<Vec<_>>(),
        [
            ("j_1/M1/ins_1".into(), 1000, 2 * GI, Some(100), Some(160)),
            ("j_1/M1/ins_2".into(), 1000, 2 * GI, Some(105), Some(130)),
            ("j_1/R2_1/ins_3".into(), 500, GI, Some(170), None),
            (
                "j_2/task_YWJj==/ins_4".into(),
                2000,
                9 * GI / 2,
                Some(120),
                Some(500)
            ),
        ]
    );
    let jobs: Vec<Option<&str>> = pods.iter().map(|p| p.labels.get(JOB_LABEL)).collect();
    assert_eq!(jobs, [Some("j_1"), Some("j_1"), Some("j_1"), Some("j_2")]);
    assert!(pods.iter().all(|p| p.scheduled_micros.is_none()));
    let task_rows = shown("alibaba_batch_task.csv");
    let instance_rows = shown("alibaba_batch_instance.csv");
    assert!(!replay(&s).is_streamed());
    assert_eq!(
        s.trace_warnings,
        [
            format!(
                "{instance_rows}: line 5 arrives before the row above it, so the replay is \
                 read whole and sorted instead of streamed"
            ),
            format!(
                "{task_rows}: 2 rows skipped, first at line 4, column 26: plan_cpu: expected \
                 the task's CPU in hundredths of a core (100 is 1 core), got \"\""
            ),
            format!(
                "{instance_rows}: 2 rows skipped, first at line 6, column 7: task_name: task \
                 \"M1\" of job \"j_3\" is not in {task_rows}"
            ),
        ]
    );
}

/// The replay on two 2-core nodes, first-fit, times shifted so the first arrival (100 s)
/// is at 0:
/// - 0 s: ins_1 (1 core) takes n-0; it ends at 60 s.
/// - 5 s: ins_2 (1 core) fills n-0; it fails at 30 s, as in the trace.
/// - 20 s: ins_4 (2 cores) finds n-0 full: n-1; it ends at 400 s.
/// - 70 s: ins_3 (half a core): n-0 is empty again; it runs until the end.
#[test]
fn a_batch_replay_binds_and_ends_exactly() {
    let s = scenario("2", BATCH).unwrap();
    let r = play(&s);
    assert_eq!(
        events(&r, TraceEvent::Created),
        pairs(&[
            ("j_1/M1/ins_1-0", 0),
            ("j_1/M1/ins_2-0", 5),
            ("j_2/task_YWJj==/ins_4-0", 20),
            ("j_1/R2_1/ins_3-0", 70),
        ])
    );
    assert_eq!(
        bindings(&r),
        pairs(&[
            ("j_1/M1/ins_1-0", "n-0".to_string()),
            ("j_1/M1/ins_2-0", "n-0".to_string()),
            ("j_2/task_YWJj==/ins_4-0", "n-1".to_string()),
            ("j_1/R2_1/ins_3-0", "n-0".to_string()),
        ])
    );
    assert_eq!(
        events(&r, TraceEvent::Finished),
        pairs(&[
            ("j_1/M1/ins_2-0", 30),
            ("j_1/M1/ins_1-0", 60),
            ("j_2/task_YWJj==/ins_4-0", 400),
        ])
    );
}

/// `alibaba_container_meta.csv` (machineScale.memory 100Gi):
/// - c_1: first at line 1 (50 s, cpu_request 400, mem_size 1.5): 4000m, 1.5Gi; its later
///   snapshot (line 3, twice the size) is not replayed.
/// - c_2: line 2 at 10 s, but line 5 is an earlier snapshot (5 s, 50, 2): 500m, 2Gi.
/// - c_3: line 4 at 40 s, 200 and 2: 2000m, 2Gi.
/// - lines 6-8: bad time_stamp, empty app_du, mem_size 101 (the trace's invalid value).
///
/// Line 2 is earlier than line 1: read whole and sorted, with a notice.
#[test]
fn containers_become_long_running_pods_labelled_by_app() {
    let s = scenario("4", CONTAINERS).unwrap_or_else(|e| panic!("{e}"));
    let pods = replay(&s).pods().unwrap();
    assert_eq!(
        pods.iter().map(view).collect::<Vec<_>>(),
        [
            ("c_1".into(), 4000, 3 * GI / 2, Some(50), None),
            ("c_2".into(), 500, 2 * GI, Some(5), None),
            ("c_3".into(), 2000, 2 * GI, Some(40), None),
        ]
    );
    let apps: Vec<Option<&str>> = pods.iter().map(|p| p.labels.get(APP_LABEL)).collect();
    assert_eq!(apps, [Some("app_1"), Some("app_2"), Some("app_1")]);
    assert!(!replay(&s).is_streamed());
    let rows = shown("alibaba_container_meta.csv");
    assert_eq!(
        s.trace_warnings,
        [
            format!(
                "{rows}: line 2 arrives before the row above it, so the replay is read whole \
                 and sorted instead of streamed"
            ),
            format!(
                "{rows}: 3 rows skipped, first at line 6, column 9: time_stamp: expected a \
                 time in seconds, got \"x\""
            )
        ]
    );
    // By arrival, from 5 s: c_2 at 0 takes n-0, c_3 at 35 s fits beside it (2.5 of 4
    // cores), c_1 at 45 s needs 4 cores: n-1. None ends.
    let r = play(&s);
    assert_eq!(
        bindings(&r),
        pairs(&[
            ("c_2-0", "n-0".to_string()),
            ("c_3-0", "n-0".to_string()),
            ("c_1-0", "n-1".to_string()),
        ])
    );
    assert_eq!(
        events(&r, TraceEvent::Started),
        pairs(&[("c_2-0", 0), ("c_3-0", 35), ("c_1-0", 45)])
    );
    assert!(events(&r, TraceEvent::Finished).is_empty());
}

#[test]
fn strict_stops_at_the_first_bad_row() {
    let e = scenario("2", &format!("{BATCH}, strict: true")).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:4:26: plan_cpu: expected the task's CPU in hundredths of a core (100 is 1 core), \
             got \"\"",
            shown("alibaba_batch_task.csv")
        )
    );
    let e = scenario("4", &format!("{CONTAINERS}, strict: true")).unwrap_err();
    assert_eq!(
        (e.line, e.column, e.field.as_deref(), e.message.as_str()),
        (
            Some(6),
            Some(9),
            Some("time_stamp"),
            "expected a time in seconds, got \"x\""
        )
    );
    // With good tasks, the instances' first bad row: line 2's missing task.
    let dir = std::env::temp_dir().join(format!("schedlab-alibaba-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("t.csv"), "M1,1,j_1,1,Terminated,1,2,100,1\n").unwrap();
    std::fs::write(
        dir.join("i.csv"),
        "a,M1,j_1,1,Terminated,1,2,m_1,1,1,,,,\nb,M9,j_1,1,Terminated,1,2,m_1,1,1,,,,\n",
    )
    .unwrap();
    let e = load_in(
        &dir,
        "workloads: [{trace: {format: alibaba-2018-batch-instance, pods: i.csv, tasks: t.csv, \
         machineScale: {memory: 1Gi}, strict: true}}]\n",
    )
    .unwrap_err();
    let i = dir.join("i.csv").display().to_string();
    let t = dir.join("t.csv").display().to_string();
    assert_eq!(
        e.to_string(),
        format!("{i}:2:3: task_name: task \"M9\" of job \"j_1\" is not in {t}")
    );
}

#[test]
fn sample_keeps_or_drops_whole_jobs() {
    // Job names hashed with 64-bit FNV-1a then MurmurHash3's finalizer, computed apart in
    // Python: j_1 at 0.713 of 2^64, j_2 at 0.742, so 0.72 keeps all of j_1 and none of j_2.
    let s = scenario("2", &format!("{BATCH}, sample: 0.72")).unwrap();
    let pods = replay(&s).pods().unwrap();
    let names: Vec<&str> = pods.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["j_1/M1/ins_1", "j_1/M1/ins_2", "j_1/R2_1/ins_3"]);
    let s = scenario("2", &format!("{BATCH}, sample: 0.75")).unwrap();
    assert_eq!(replay(&s).pods().unwrap().len(), 4, "0.75 keeps both jobs");
}

#[test]
fn scenario_mistakes_name_the_field() {
    let err = |trace: &str| {
        let e = scenario("2", trace).unwrap_err();
        (e.field.unwrap_or_default(), e.message)
    };
    assert_eq!(
        err(
            "format: alibaba-2018-batch-instance, pods: alibaba_batch_instance.csv, \
             machineScale: {memory: 1Gi}"
        ),
        (
            "workloads[0].trace.tasks".into(),
            "missing required field `tasks`: the batch_task table, where each instance's \
             requests (plan_cpu, plan_mem) are"
                .into()
        )
    );
    assert_eq!(
        err(
            "format: alibaba-2018-container-meta, pods: alibaba_container_meta.csv, \
             tasks: alibaba_batch_task.csv, machineScale: {memory: 1Gi}"
        ),
        (
            "workloads[0].trace.tasks".into(),
            "`tasks` applies to the alibaba-2018-batch-instance format only, whose instances \
             take their requests from their task"
                .into()
        )
    );
    assert_eq!(
        err("format: alibaba-2018-container-meta, pods: alibaba_container_meta.csv"),
        (
            "workloads[0].trace.machineScale".into(),
            "missing required field `machineScale` (what memory 100 is: the trace's memory is \
             normalized to 0-100), e.g. machineScale: {memory: 128Gi}"
                .into()
        )
    );
    assert_eq!(
        err(
            "format: alibaba-2018-container-meta, pods: alibaba_container_meta.csv, \
             machineScale: {cpu: '96', memory: 1Gi}"
        ),
        (
            "workloads[0].trace.machineScale.cpu".into(),
            "this trace gives CPU in hundredths of a core (100 is 1 core); only `memory` (what \
             memory 100 is) is scaled"
                .into()
        )
    );
    assert_eq!(
        err(
            "format: alibaba-2018-batch-instance, pods: alibaba_batch_instance.csv, \
             tasks: missing.csv, machineScale: {memory: 1Gi}"
        )
        .0,
        "",
        "a missing task file is an error about that file"
    );
    let e = scenario(
        "2",
        "format: alibaba-2018-batch-instance, pods: alibaba_batch_instance.csv, \
         tasks: missing.csv, machineScale: {memory: 1Gi}",
    )
    .unwrap_err();
    assert_eq!(e.path, shown("missing.csv"));
    assert!(e.message.starts_with("cannot read the trace file: "), "{e}");
}
