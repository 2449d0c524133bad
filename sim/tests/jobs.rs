//! Jobs end to end: exact timelines of the job controller on one small node, worked out
//! by hand in each test's comment (start latency 1 s unless said), and random Job
//! scenarios with the cluster's invariants checked after every event.

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use schedulers::Registry;
use sim::{RunResult, Scenario, Simulation, TraceEvent, columns, parse_scenario};

fn load(yaml: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(yaml, "jobs.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn run(yaml: &str) -> RunResult {
    let scenario = load(yaml);
    let registry = Registry::builtin();
    let mut sim = Simulation::new(&scenario, registry.create("kube-default").unwrap(), 1);
    sim.enable_trace();
    sim.run()
}

/// One 4-CPU node (or `cpu` CPUs) and the given workloads.
fn scenario(cpu: u32, workloads: &str) -> String {
    format!(
        "cluster:\n  nodes: [{{name: n, allocatable: {{cpu: \"{cpu}\", memory: 8Gi}}}}]\nworkloads:\n{workloads}"
    )
}

/// The times (in seconds) of a trace event kind (`created`, `bound`, `failed`, ...) for
/// the records whose name starts with `prefix`.
fn times(r: &RunResult, prefix: &str, kind: &str) -> Vec<f64> {
    r.trace
        .iter()
        .filter(|t| t.pod.starts_with(prefix) && t.event.columns().0 == kind)
        .map(|t| t.time.as_secs_f64())
        .collect()
}

fn job_lines(r: &RunResult) -> Vec<(f64, TraceEvent)> {
    r.trace
        .iter()
        .filter(|t| {
            matches!(
                t.event,
                TraceEvent::JobCompleted | TraceEvent::JobFailed { .. }
            )
        })
        .map(|t| (t.time.as_secs_f64(), t.event.clone()))
        .collect()
}

#[test]
fn four_completions_two_at_a_time() {
    // a-0 and a-1 at 0, running from 1 to 61. Each success at 61 leaves
    // min(2, 4 - succeeded) wanted: a-2 and a-3 are created and bound at 61, run from 62
    // to 122. At 122 the fourth success completes the Job, 122 s after its start.
    let r = run(&scenario(
        4,
        "  - {job: a, completions: 4, parallelism: 2, duration: 60s, requests: {cpu: 1}}\n",
    ));
    assert_eq!(times(&r, "a-", "created"), [0.0, 0.0, 61.0, 61.0]);
    assert_eq!(times(&r, "a-", "bound"), [0.0, 0.0, 61.0, 61.0]);
    assert_eq!(times(&r, "a-", "finished"), [61.0, 61.0, 122.0, 122.0]);
    assert_eq!(job_lines(&r), [(122.0, TraceEvent::JobCompleted)]);
    assert_eq!(r.summary.count(&columns::JOBS_COMPLETED), 1);
    assert_eq!(r.summary.count(&columns::JOBS_FAILED), 0);
    assert_eq!(r.summary.count(&columns::PODS_COMPLETED), 4);
    assert_eq!(
        r.summary.get(&columns::JOB_DURATION_MEAN).unwrap().render(),
        "122.000000"
    );
}

#[test]
fn failures_back_off_and_exceed_the_limit() {
    // Every run fails after 30 s. Pod k is created at c_k, runs from c_k + 1 and fails at
    // c_k + 31; the next waits 10 s doubling from that failure: created at 0, 41 (31+10),
    // 92 (72+20), 163 (123+40), 274 (194+80), 465 (305+160), 816 (496+320). The seventh
    // failure, at 847, is one more than backoffLimit 6 allows: BackoffLimitExceeded.
    let r = run(&scenario(
        4,
        "  - {job: b, failureProbability: 1, duration: 30s, requests: {cpu: 1}}\n",
    ));
    assert_eq!(
        times(&r, "b-", "created"),
        [0.0, 41.0, 92.0, 163.0, 274.0, 465.0, 816.0]
    );
    assert_eq!(
        times(&r, "b-", "failed"),
        [31.0, 72.0, 123.0, 194.0, 305.0, 496.0, 847.0]
    );
    assert_eq!(
        job_lines(&r),
        [(
            847.0,
            TraceEvent::JobFailed {
                reason: "BackoffLimitExceeded"
            }
        )]
    );
    assert_eq!(r.summary.count(&columns::JOBS_FAILED), 1);
    assert_eq!(r.summary.count(&columns::PODS_FAILED), 7);
    assert_eq!(
        r.summary.get(&columns::JOB_DURATION_MEAN).unwrap().render(),
        ""
    );
}

#[test]
fn backoff_limit_zero_fails_on_the_first_failure() {
    let r = run(&scenario(
        4,
        "  - {job: b, backoffLimit: 0, failureProbability: 1, duration: 30s}\n",
    ));
    assert_eq!(times(&r, "b", "created"), [0.0]);
    assert_eq!(
        job_lines(&r),
        [(
            31.0,
            TraceEvent::JobFailed {
                reason: "BackoffLimitExceeded"
            }
        )]
    );
}

#[test]
fn on_failure_restarts_in_place_until_the_limit() {
    // restartPolicy OnFailure: the pod stays on its node. It runs from 1 to 31, fails,
    // restarts after the kubelet's 10 s back-off at 41, fails at 71, restarts at 91
    // (20 s), fails at 121: three restarts reach backoffLimit 3 and the Job fails; its
    // pod is deleted at once (terminationGracePeriodSeconds 0).
    let r = run(&scenario(
        4,
        "  - {job: c, restartPolicy: OnFailure, backoffLimit: 3, failureProbability: 1, duration: 30s, terminationGracePeriodSeconds: 0}\n",
    ));
    assert_eq!(times(&r, "c", "created"), [0.0]);
    assert_eq!(times(&r, "c", "started"), [1.0, 41.0, 91.0]);
    assert_eq!(times(&r, "c", "failed"), [31.0, 71.0, 121.0]);
    assert_eq!(times(&r, "c", "evicted"), [121.0]);
    assert_eq!(
        job_lines(&r),
        [(
            121.0,
            TraceEvent::JobFailed {
                reason: "BackoffLimitExceeded"
            }
        )]
    );
}

#[test]
fn active_deadline_cuts_a_job() {
    // One pod at a time, 60 s each: d-0 runs 1..61, d-1 is created at 61 and runs from
    // 62. At 100 the deadline passes: the Job fails and d-1 is deleted; no third pod.
    let r = run(&scenario(
        4,
        "  - {job: d, completions: 3, activeDeadlineSeconds: 100, duration: 60s, terminationGracePeriodSeconds: 0}\n",
    ));
    assert_eq!(times(&r, "d-", "created"), [0.0, 61.0]);
    assert_eq!(times(&r, "d-", "finished"), [61.0]);
    assert_eq!(times(&r, "d-", "evicted"), [100.0]);
    assert_eq!(
        job_lines(&r),
        [(
            100.0,
            TraceEvent::JobFailed {
                reason: "DeadlineExceeded"
            }
        )]
    );
    assert_eq!(r.summary.count(&columns::JOBS_COMPLETED), 0);
    assert_eq!(r.summary.count(&columns::PODS_RUNNING_AT_END), 0);
}

#[test]
fn a_deadline_also_removes_pending_pods() {
    // The node has 1 CPU and the pods ask 2: nothing ever binds. At 50 the Job fails and
    // its pending pod leaves the cluster.
    let r = run(&scenario(
        1,
        "  - {job: e, activeDeadlineSeconds: 50, duration: 10s, requests: {cpu: 2}}\n",
    ));
    assert_eq!(
        job_lines(&r),
        [(
            50.0,
            TraceEvent::JobFailed {
                reason: "DeadlineExceeded"
            }
        )]
    );
    assert_eq!(r.summary.count(&columns::PODS_PENDING_AT_END), 0);
}

#[test]
fn parallelism_is_limited_by_capacity() {
    // Four pods at once on a 2-CPU node, 1 CPU each: f-0 and f-1 bind at 0 and run
    // 1..61; f-2 and f-3 wait, bind when the first two leave at 61, and run 62..122.
    // No pod beyond the four is created: the waiting ones are active.
    let r = run(&scenario(
        2,
        "  - {job: f, completions: 4, parallelism: 4, duration: 60s, requests: {cpu: 1}}\n",
    ));
    assert_eq!(times(&r, "f-", "created"), [0.0; 4]);
    assert_eq!(times(&r, "f-", "bound"), [0.0, 0.0, 61.0, 61.0]);
    assert_eq!(job_lines(&r), [(122.0, TraceEvent::JobCompleted)]);
}

#[test]
fn job_keys_on_other_kinds_are_refused() {
    let registry = Registry::builtin();
    let err = parse_scenario(
        &scenario(4, "  - {pod: p, completions: 2}\n"),
        "jobs.yaml",
        &|spec, profiles| registry.check(spec, profiles),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("`completions` applies to job workloads only"),
        "{err}"
    );
}

/// Random Job scenarios: the invariants hold after every event, every Job ends
/// Complete, Failed or still running at the horizon, a completed Job had exactly
/// `completions` successes, and the run is deterministic.
#[test]
fn random_jobs_keep_the_invariants() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut completed, mut failed) = (0, 0);
    for case in 0..30 {
        let mut workloads = String::new();
        let jobs = rng.random_range(1..4);
        for j in 0..jobs {
            let completions = rng.random_range(1..6);
            let parallelism = rng.random_range(1..4);
            let limit = rng.random_range(0..4);
            let p = [0.0, 0.3, 0.7][rng.random_range(0..3)];
            let policy = ["Never", "OnFailure"][rng.random_range(0..2)];
            let deadline = if rng.random_bool(0.3) {
                format!(", activeDeadlineSeconds: {}", rng.random_range(30..400))
            } else {
                String::new()
            };
            workloads.push_str(&format!(
                "  - {{job: j{j}, at: {}s, completions: {completions}, parallelism: {parallelism}, \
                 backoffLimit: {limit}, failureProbability: {p}, restartPolicy: {policy}, \
                 duration: {{dist: uniform, min: 5s, max: 90s}}, requests: {{cpu: {}}}{deadline}}}\n",
                rng.random_range(0..60),
                rng.random_range(1..3),
            ));
        }
        workloads.push_str("  - {deployment: svc, replicas: 2, requests: {cpu: 1}}\n");
        let yaml = format!("duration: 1h\n{}", scenario(4, &workloads));
        let s = load(&yaml);
        let registry = Registry::builtin();
        let mut sim = Simulation::new(&s, registry.create("kube-default").unwrap(), case);
        sim.enable_trace();
        while sim.step() {
            sim.cluster()
                .check_invariants()
                .unwrap_or_else(|e| panic!("case {case}: {e}"));
        }
        let r = sim.finish();
        let mut ended = 0;
        for t in &r.trace {
            if matches!(t.event, TraceEvent::JobCompleted) {
                ended += 1;
                let successes = r
                    .trace
                    .iter()
                    .filter(|x| {
                        x.pod.starts_with(&format!("{}-", t.pod))
                            && matches!(x.event, TraceEvent::Finished)
                    })
                    .count();
                let want = s
                    .workloads
                    .iter()
                    .find(|w| *w.template.name == *t.pod)
                    .map(|w| match &w.kind {
                        sim::scenario::WorkloadKind::Job { spec, .. } => spec.completions as usize,
                        _ => 0,
                    })
                    .unwrap();
                assert_eq!(successes, want, "case {case}: {yaml}");
            }
            if matches!(t.event, TraceEvent::JobFailed { .. }) {
                ended += 1;
            }
        }
        assert_eq!(
            r.summary.count(&columns::JOBS_COMPLETED) + r.summary.count(&columns::JOBS_FAILED),
            ended
        );
        assert!(ended <= jobs as u64);
        completed += r.summary.count(&columns::JOBS_COMPLETED);
        failed += r.summary.count(&columns::JOBS_FAILED);
        // Deterministic: the same seed gives the same trace.
        let again = {
            let mut sim = Simulation::new(&s, registry.create("kube-default").unwrap(), case);
            sim.enable_trace();
            sim.run()
        };
        assert_eq!(again.trace, r.trace, "case {case}");
    }
    // The cases exercise both outcomes.
    assert!(
        completed > 5 && failed > 5,
        "{completed} completed, {failed} failed"
    );
}

#[test]
fn an_evicted_pod_is_replaced_after_the_backoff() {
    // g-0 holds the 2-CPU node from 0. At 10 s `vip` (priority 1000) preempts it: g-0
    // terminates over its 30 s grace period, and the Job counts it failed at once and
    // creates g-1 after the 10 s back-off, at 20 s.
    let r = run(&scenario(
        2,
        "  - {job: g, duration: 100s, requests: {cpu: 2}}\n  - {pod: vip, at: 10s, priority: 1000, requests: {cpu: 2}}\n",
    ));
    assert_eq!(times(&r, "g-", "created"), [0.0, 20.0]);
    assert_eq!(times(&r, "g-0", "evicted"), [10.0]);
}
