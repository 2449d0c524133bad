//! The `ExecScheduler` library on its own: a hand-built cluster, and a scripted program
//! (tests/fixtures/exec/scripted.py) that answers whatever a test writes. Checks how
//! answers become decisions, and that every protocol error stops the scheduler with a
//! message naming the message sent. Needs `python3` on PATH; Unix only (the fixture is run
//! through its `#!` line).
#![cfg(unix)]

use std::fs;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use schedulers::exec::ExecScheduler;
use schedulers::*;

/// A script file of answers, unique per test, removed with its log when dropped.
struct Script(PathBuf);

impl Script {
    fn new(lines: &[&str]) -> Script {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "schedlab-exec-test-{}-{}.txt",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        fs::write(&path, lines.join("\n") + "\n").unwrap();
        Script(path)
    }

    /// What the program received, one message per line.
    fn log(&self) -> Vec<String> {
        let mut log = self.0.clone().into_os_string();
        log.push(".log");
        fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn scheduler(&self, timeout: Duration) -> ExecScheduler {
        let program =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/exec/scripted.py");
        ExecScheduler::new(
            format!("test script={}", self.0.display()),
            program,
            timeout,
        )
    }
}

impl Drop for Script {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
        let mut log = self.0.clone().into_os_string();
        log.push(".log");
        let _ = fs::remove_file(log);
    }
}

const HELLO: &str = r#"{"type":"hello","protocol":"schedlab-exec/1"}"#;

/// Nodes a (2 CPU) and b (4 CPU); pods p-0, p-1, p-2 of 2 CPU each.
fn cluster() -> (ClusterState, Vec<PodId>) {
    let mut cluster = ClusterState::default();
    for (name, cpu) in [("a", 2000), ("b", 4000)] {
        let mut alloc = Resources::cpu_mem(cpu, 8 << 30);
        alloc.set(ResourceKind::PODS, 110);
        cluster.add_node(NodeSpec {
            name: name.into(),
            allocatable: alloc,
            ..Default::default()
        });
    }
    let mut c = ContainerResources::default();
    c.set_request(ResourceKind::CPU, 2000);
    let template = Arc::new(PodTemplate {
        name: "p".into(),
        containers: vec![c],
        ..Default::default()
    });
    let pods = (0..3)
        .map(|i| cluster.add_pod(Pod::from_template(template.clone(), i)))
        .collect();
    (cluster, pods)
}

fn cycle(
    scheduler: &mut ExecScheduler,
    cluster: &mut ClusterState,
    pending: &[PodId],
) -> Vec<Decision> {
    let mut rng = SchedulerRng::seed_from_u64(1);
    let mut decisions = Vec::new();
    scheduler
        .schedule(&mut Cycle::new(cluster, pending, &mut rng, &mut decisions).at_micros(1_500_000));
    decisions
}

#[test]
fn answers_become_decisions_in_order() {
    let script = Script::new(&[
        HELLO,
        r#"{"type":"decisions","seq":{seq},"decisions":[{"pod":"p-1","node":"b"},{"pod":"p-0","unschedulable":{"Insufficient cpu":1,"node(s) were unschedulable":1}},{"pod":"p-2","node":"b"}]}"#,
        r#"{"type":"decisions","seq":{seq},"decisions":[{"pod":"p-0","node":"a"}]}"#,
    ]);
    let mut scheduler = script.scheduler(Duration::from_secs(10));
    let (mut cluster, pods) = cluster();
    let decisions = cycle(&mut scheduler, &mut cluster, &pods);
    assert_eq!(scheduler.failure(), None);
    assert_eq!(
        decisions,
        vec![
            Decision::Bound {
                pod: pods[1],
                node: NodeId(1)
            },
            Decision::Unschedulable {
                pod: pods[0],
                diagnosis: Diagnosis::from_counts(
                    2,
                    [("Insufficient cpu", 1), ("node(s) were unschedulable", 1)]
                )
            },
            Decision::Bound {
                pod: pods[2],
                node: NodeId(1)
            },
        ]
    );
    // The second cycle sends only node b, which the two bindings changed.
    let decisions = cycle(&mut scheduler, &mut cluster, &pods[..1]);
    assert_eq!(
        decisions,
        vec![Decision::Bound {
            pod: pods[0],
            node: NodeId(0)
        }]
    );
    let log = script.log();
    assert_eq!(log.len(), 3);
    assert!(log[0].starts_with(r#"{"type":"hello","protocol":"schedlab-exec/1","seq":0,"#));
    assert!(log[1].starts_with(
        r#"{"type":"cycle","seq":1,"time_us":1500000,"full":true,"nodes":[{"id":0,"name":"a","#
    ));
    assert!(log[1].contains(r#"{"id":1,"name":"b","#));
    assert!(log[2].starts_with(
        r#"{"type":"cycle","seq":2,"time_us":1500000,"full":false,"nodes":[{"id":1,"name":"b","labels":{},"taints":[],"unschedulable":false,"allocatable":{"cpu":4000,"memory":8589934592,"ephemeral-storage":0,"pods":110},"requested":{"cpu":4000,"memory":0,"ephemeral-storage":0,"pods":2},"free":{"cpu":0,"memory":8589934592,"ephemeral-storage":0,"pods":108}}],"removed":[],"pending":[{"name":"p-0","#
    ));
}

/// Runs one cycle whose answer is `answer` and returns the failure.
fn failure_of(answer: &str) -> String {
    let script = Script::new(&[HELLO, answer]);
    let mut scheduler = script.scheduler(Duration::from_secs(10));
    let (mut cluster, pods) = cluster();
    cycle(&mut scheduler, &mut cluster, &pods);
    let failure = scheduler
        .failure()
        .expect("the answer is refused")
        .to_string();
    // A failed scheduler decides nothing more and keeps its first error.
    assert!(cycle(&mut scheduler, &mut cluster, &pods).is_empty());
    assert_eq!(scheduler.failure(), Some(failure.as_str()));
    failure
}

#[test]
fn wrong_answers_are_protocol_errors_naming_the_message() {
    let sent = r#"test script="#;
    let cases = [
        (
            r#"{"type":"decisions","seq":{seq},"decisions":[{"pod":"p-0","node":"a"},{"pod":"p-0","node":"b"}]}"#,
            r#"decisions[1] (pod "p-0"): a second decision for the same pod"#,
        ),
        (
            r#"{"type":"decisions","seq":{seq},"decisions":[{"pod":"q","node":"a"}]}"#,
            r#"decisions[0] (pod "q"): no such pod is pending in this cycle"#,
        ),
        (
            r#"{"type":"decisions","seq":{seq},"decisions":[{"pod":"p-0","node":"a"},{"pod":"p-1","node":"a"}]}"#,
            r#"decisions[1] (pod "p-1"): the cluster refused to bind it to "a": "#,
        ),
        (
            r#"{"type":"decisions","seq":7,"decisions":[]}"#,
            r#""seq" is 7, but this answers message #1"#,
        ),
    ];
    for (answer, want) in cases {
        let failure = failure_of(answer);
        assert!(failure.starts_with(sent), "{failure}");
        assert!(
            failure.contains(
                r#": bad answer to message #1 ("cycle" at t=1.5s, 3 pending pod(s), 2 node(s) sent, 0 removed) `{"type":"cycle","seq":1,"#
            ),
            "{failure}"
        );
        assert!(failure.contains(want), "{want:?} not in {failure}");
    }
}

#[test]
fn exit_and_timeout_are_reported() {
    let script = Script::new(&[HELLO, "EXIT 7"]);
    let mut scheduler = script.scheduler(Duration::from_secs(10));
    let (mut cluster, pods) = cluster();
    assert!(cycle(&mut scheduler, &mut cluster, &pods).is_empty());
    let failure = scheduler.failure().unwrap();
    assert!(
        failure.contains(
            ": the program exited (exit status: 7) instead of answering message #1 (\"cycle\""
        ),
        "{failure}"
    );
    assert!(
        failure.ends_with("; it wrote nothing to stderr"),
        "{failure}"
    );

    // No line after the hello: the program hangs on the first cycle.
    let script = Script::new(&[HELLO]);
    let mut scheduler = script.scheduler(Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert!(cycle(&mut scheduler, &mut cluster, &pods).is_empty());
    assert!(started.elapsed() < Duration::from_secs(5));
    let failure = scheduler.failure().unwrap();
    assert!(
        failure.contains(": no answer to message #1 (\"cycle\"")
            && failure.ends_with(
                "within 0.3s; the program was killed (raise the limit with --exec-timeout)"
            ),
        "{failure}"
    );
}

#[test]
fn a_missing_program_fails_at_the_first_cycle() {
    let mut scheduler = ExecScheduler::new(
        "exec:nowhere",
        "/nonexistent/schedlab-exec-test",
        Duration::from_secs(1),
    );
    let (mut cluster, pods) = cluster();
    assert!(cycle(&mut scheduler, &mut cluster, &pods).is_empty());
    let failure = scheduler.failure().unwrap();
    assert!(
        failure.starts_with("exec:nowhere: cannot start /nonexistent/schedlab-exec-test: "),
        "{failure}"
    );
}
