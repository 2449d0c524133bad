//! Trace replays written in the general syntax (`cluster.trace`, a `trace:` workload,
//! `queue:`, `gpuFill:`): a tiny hand-written trace at its recorded times makes pods arrive
//! and leave at exactly the times its rules give, retried as kube-scheduler retries; runs
//! are deterministic; and `gpuTrace:` gives the same results as the replay written out.

use schedulers::{Registry, SchedulerSpec};
use sim::columns;
use sim::{RunResult, Scenario, SimTime, TraceEvent, parse_scenario};

#[path = "support/traces.rs"]
mod support;
use support::{dir, play};

/// One node with one GPU, and a non-GPU node left out by `gpuNodesOnly`.
const NODES: &str = "sn,cpu_milli,memory_mib,gpu,model\n\
                     cpu,64000,65536,0,\n\
                     g0,8000,16384,1,T4\n";

/// Five pods, not in time order in the file. Times are shifted by -100 s (the earliest
/// creation). Start latency is zero, so a pod bound at once runs from its arrival.
/// - a: arrives at 0, takes the GPU, runs 160 - 100 = 60 s: leaves at 60.
/// - d: never scheduled in the trace: runs deletion - creation = 20 s from its arrival
///   at 30, so leaves at 50.
/// - b: arrives at 10 with c (file order among equal times), wants the GPU that a holds:
///   unschedulable until a leaves at 60, then runs 200 - 115 = 85 s: leaves at 145.
/// - c: no deletion time: runs until the end.
/// - e: deleted the instant it was scheduled: arrives at 20 and finishes at once.
const PODS: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n\
                    a,1000,1024,1,1000,,LS,Running,100,160,100\n\
                    d,1000,1024,0,0,,LS,Failed,130,150,\n\
                    b,1000,1024,1,1000,,LS,Running,110,200,115\n\
                    c,1000,1024,0,0,,LS,Running,110,,110\n\
                    e,1000,1024,0,0,,LS,Succeeded,120,120,120\n";

fn recorded_scenario() -> Scenario {
    let d = dir("recorded", &[("nodes.csv", NODES), ("pods.csv", PODS)]);
    let text = "startLatency: 0s
cluster:
  trace: {format: alibaba-gpu-v2023, nodes: nodes.csv, gpuNodesOnly: true}
workloads:
  - trace: {format: alibaba-gpu-v2023, pods: pods.csv, timing: recorded}
";
    let registry = Registry::builtin();
    let path = d.join("scenario.yaml");
    parse_scenario(text, &path.display().to_string(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

/// The times at which `pod` had `event`.
fn times(r: &RunResult, pod: &str, event: fn(&TraceEvent) -> bool) -> Vec<u64> {
    r.trace
        .iter()
        .filter(|t| t.pod == pod && event(&t.event))
        .map(|t| t.time.as_micros() / 1_000_000)
        .collect()
}

#[test]
fn recorded_pods_arrive_and_leave_at_the_traces_times() {
    let s = recorded_scenario();
    assert_eq!(s.queue.max_attempts, None, "retried as kube-scheduler does");
    for scheduler in ["first-fit", "kube-default", "fgd"] {
        let r = play(&s, scheduler, 1);
        let created = |pod| times(&r, pod, |e| *e == TraceEvent::Created);
        let started = |pod| times(&r, pod, |e| *e == TraceEvent::Started);
        let finished = |pod| times(&r, pod, |e| *e == TraceEvent::Finished);
        let bound = |pod| times(&r, pod, |e| matches!(e, TraceEvent::Bound { .. }));
        let failed = |pod| times(&r, pod, |e| matches!(e, TraceEvent::Unschedulable { .. }));
        // Arrivals in time order, file order among equal times.
        let arrivals: Vec<(&str, u64)> = r
            .trace
            .iter()
            .filter(|t| t.event == TraceEvent::Created)
            .map(|t| (t.pod.as_str(), t.time.as_micros() / 1_000_000))
            .collect();
        assert_eq!(
            arrivals,
            [
                ("a-0", 0),
                ("b-0", 10),
                ("c-0", 10),
                ("e-0", 20),
                ("d-0", 30)
            ],
            "{scheduler}"
        );
        assert_eq!(created("a-0"), [0]);
        assert_eq!((started("a-0"), finished("a-0")), (vec![0], vec![60]));
        assert_eq!((started("d-0"), finished("d-0")), (vec![30], vec![50]));
        assert_eq!((started("e-0"), finished("e-0")), (vec![20], vec![20]));
        assert_eq!((started("c-0"), finished("c-0")), (vec![10], vec![]));
        // b waits for a's GPU: found unschedulable on arrival, bound when a leaves.
        assert_eq!(failed("b-0").first(), Some(&10), "{scheduler}");
        assert!(failed("b-0").iter().all(|&t| t < 60), "{scheduler}");
        assert_eq!((bound("b-0"), finished("b-0")), (vec![60], vec![145]));
        let summary = &r.summary;
        assert_eq!(summary.count(&columns::PODS_SUBMITTED), 5);
        assert_eq!(summary.count(&columns::PODS_COMPLETED), 4);
        assert_eq!(summary.count(&columns::PODS_FAILED), 0);
        assert_eq!(summary.time(&columns::SIM_END), SimTime::from_secs(145));
        r.trace
            .iter()
            .for_each(|t| assert!(t.time <= SimTime::from_secs(145)));
    }
}

#[test]
fn recorded_replays_are_deterministic() {
    let s = recorded_scenario();
    for scheduler in ["random", "kube-default"] {
        let a = format!("{:?}", play(&s, scheduler, 7));
        assert_eq!(a, format!("{:?}", play(&s, scheduler, 7)), "{scheduler}");
        assert_eq!(
            a,
            format!("{:?}", play(&recorded_scenario(), scheduler, 7)),
            "{scheduler}, loaded again"
        );
    }
}

#[test]
fn max_attempts_gives_a_recorded_pod_up() {
    let mut s = recorded_scenario();
    s.queue.max_attempts = Some(1);
    let r = play(&s, "first-fit", 1);
    assert_eq!(
        times(&r, "b-0", |e| *e == TraceEvent::Abandoned),
        [10],
        "one attempt, on arrival"
    );
    assert_eq!(r.summary.count(&columns::PODS_FAILED), 1);
    assert_eq!(r.summary.time(&columns::SIM_END), SimTime::from_secs(60));
}

/// Pods that ask for shares of GPUs and whole GPUs, for the shorthand's comparison.
const GPU_PODS: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n\
                        p0,4000,1024,1,500,\n\
                        p1,8000,2048,1,250,\n\
                        p2,16000,4096,2,1000,\n\
                        p3,2000,512,0,0,\n\
                        p4,4000,1024,1,1000,T4\n\
                        p5,1000,256,1,750,\n";

const GPU_NODES: &str = "sn,cpu_milli,memory_mib,gpu,model\n\
                         c0,32000,65536,0,\n\
                         t0,32000,65536,2,T4\n\
                         t1,32000,65536,4,T4\n\
                         v0,64000,131072,8,V100M32\n";

#[test]
fn gpu_trace_is_the_replay_written_out() {
    let d = dir(
        "shorthand",
        &[("nodes.csv", GPU_NODES), ("pods.csv", GPU_PODS)],
    );
    let registry = Registry::builtin();
    let load = |text: &str| {
        let path = d.join("scenario.yaml").display().to_string();
        parse_scenario(text, &path, &|spec, profiles| {
            registry.check(spec, profiles)
        })
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let short = load(
        "gpuTrace: {format: alibaba-gpu-v2023, nodes: nodes.csv, pods: pods.csv, demand: 1.2, fillStep: 0.05}\n",
    );
    let long = load(
        "cluster:
  trace: {format: alibaba-gpu-v2023, nodes: nodes.csv, gpuNodesOnly: true}
workloads:
  - trace: {format: alibaba-gpu-v2023, pods: pods.csv, timing: shuffled, demand: 1.2}
queue: {maxAttempts: 1}
gpuFill: {step: 0.05}
",
    );
    for scheduler in ["fgd", "best-fit", "random", "kube-default"] {
        for seed in [1, 2] {
            let (a, b) = (play(&short, scheduler, seed), play(&long, scheduler, seed));
            assert!(!a.gpu_fill.is_empty() && !a.trace.is_empty());
            assert_eq!(a.gpu_fill, b.gpu_fill, "{scheduler} seed {seed}");
            assert_eq!(
                format!("{:?}", (&a.summary, &a.samples, &a.namespaces, &a.trace)),
                format!("{:?}", (&b.summary, &b.samples, &b.namespaces, &b.trace)),
                "{scheduler} seed {seed}"
            );
        }
    }
}

/// The bundled `scenarios/openb-churn.yaml`: the whole openb trace at its recorded times on
/// its GPU nodes, streamed; every pod arrives, runs and leaves, and the run ends at the last
/// deletion.
#[test]
fn bundled_churn_scenario_replays_the_whole_trace() {
    let registry = Registry::builtin();
    let s = sim::load_scenario(
        std::path::Path::new("../scenarios/openb-churn.yaml"),
        &|spec, profiles| registry.check(spec, profiles),
    )
    .expect("the bundled scenario loads (it reads data/alibaba-gpu-v2023)");
    assert_eq!(s.nodes.len(), 1213, "only the trace's GPU nodes");
    let labels: Vec<&str> = s.schedulers.iter().map(|l| l.label.as_str()).collect();
    assert_eq!(labels, ["fgd", "best-fit", "kube-default"]);
    assert_eq!(s.queue.max_attempts, None);
    assert!(s.gpu_fill.is_none());
    let sim::scenario::WorkloadKind::Trace(replay) = &s.workloads[0].kind else {
        panic!("a trace workload");
    };
    assert_eq!(replay.timing, sim::scenario::TraceTiming::Recorded);
    assert!(
        replay.is_streamed(),
        "the bundled list is in creation_time order: it streams"
    );
    assert!(s.trace_warnings.is_empty(), "{:?}", s.trace_warnings);
    assert_eq!(replay.pods().unwrap().len(), 8152);
    let spec = SchedulerSpec::named("first-fit");
    let r = sim::run(
        &s,
        registry.build(&spec, &s.build_context()).unwrap(),
        s.seed,
    );
    let summary = &r.summary;
    for column in [&columns::PODS_SUBMITTED, &columns::PODS_COMPLETED] {
        assert_eq!(summary.count(column), 8152, "{}", column.name);
    }
    assert_eq!(summary.count(&columns::PODS_FAILED), 0);
    assert_eq!(
        summary.time(&columns::SIM_END),
        SimTime::from_secs(12_902_960),
        "the last deletion"
    );
    let peak = r.samples.iter().map(|s| s.running).max().unwrap();
    assert!(
        (40..=56).contains(&peak),
        "{peak} pods running at the busiest sample"
    );
}
