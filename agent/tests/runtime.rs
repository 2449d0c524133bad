//! The node agent's process runtime with real processes: each test starts a few processes
//! under its own root in the temporary directory, bounds every wait, and kills what it
//! started even when it fails.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use schedlab_agent::node::cgroups::Enforcement;
use schedlab_agent::node::logs;
use schedlab_agent::node::runtime::{
    BackoffPolicy, ContainerState, EnforcementChoice, PodPhase, PodSpec, PodStatus, Runtime,
    RuntimeConfig,
};
use serde_json::{Value, json};

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempRoot(PathBuf);

impl TempRoot {
    fn new(name: &str) -> TempRoot {
        let dir = std::env::temp_dir().join(format!(
            "schedlab-runtime-{name}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempRoot(dir)
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A runtime that kills its processes when the test ends, passed or failed.
struct Guard(Runtime);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.kill_all();
    }
}

impl std::ops::Deref for Guard {
    type Target = Runtime;
    fn deref(&self) -> &Runtime {
        &self.0
    }
}

impl std::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Runtime {
        &mut self.0
    }
}

fn config(root: &Path, enforcement: EnforcementChoice) -> RuntimeConfig {
    RuntimeConfig {
        root: root.to_path_buf(),
        backoff: BackoffPolicy::scaled(Duration::from_millis(100)),
        enforcement,
    }
}

fn open(root: &Path) -> Guard {
    Guard(Runtime::open(config(root, EnforcementChoice::Auto)).unwrap())
}

fn pod(uid: &str, policy: &str, command: &[&str], extra: Value) -> PodSpec {
    let mut container = json!({"name": "main", "image": "ignored", "command": command});
    if let (Value::Object(c), Value::Object(e)) = (&mut container, extra) {
        c.extend(e);
    }
    PodSpec::from_object(&json!({
        "metadata": {"name": format!("pod-{uid}"), "namespace": "default", "uid": uid},
        "spec": {"restartPolicy": policy, "terminationGracePeriodSeconds": 1,
                 "containers": [container]}
    }))
    .unwrap()
}

/// Ticks (with the wall clock) every 10 ms until `done` holds for the pod's status, or
/// panics after `limit`.
fn tick_until(
    rt: &mut Runtime,
    uid: &str,
    limit: Duration,
    mut done: impl FnMut(Option<&PodStatus>) -> bool,
) -> Option<PodStatus> {
    let start = Instant::now();
    loop {
        rt.tick(SystemTime::now());
        let status = rt.pod_status(uid);
        if done(status.as_ref()) {
            return status;
        }
        assert!(
            start.elapsed() < limit,
            "pod {uid} did not get there in {limit:?}; last status: {status:#?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn state(s: &PodStatus) -> &ContainerState {
    &s.containers[0].state
}

fn terminated(s: Option<&PodStatus>) -> bool {
    s.is_some_and(|s| matches!(state(s), ContainerState::Terminated(_)))
}

fn alive(pid: i32) -> bool {
    // A zombie (an exited child of this test process not reaped yet) is not alive.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s[s.rfind(')').unwrap() + 1..].trim_start().starts_with('Z'))
}

#[test]
fn a_sleeping_process_runs_in_its_own_process_group() {
    let root = TempRoot::new("sleep");
    let mut rt = open(&root.0);
    rt.run_pod(pod("s1", "Always", &["sleep", "30"], json!({})));
    let before = rt.pod_status("s1").unwrap();
    assert_eq!(
        state(&before),
        &ContainerState::Waiting {
            reason: "ContainerCreating",
            message: None
        }
    );
    assert_eq!(before.phase, PodPhase::Pending);
    let status = tick_until(&mut rt, "s1", Duration::from_secs(5), |s| {
        s.is_some_and(|s| s.phase == PodPhase::Running)
    })
    .unwrap();
    let pid = status.containers[0].pid.unwrap();
    assert!(alive(pid));
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .collect();
    assert_eq!(
        fields[2],
        pid.to_string(),
        "the container leads its own group"
    );
    assert_eq!(
        status.to_json()["containerStatuses"][0]["state"]["running"]["startedAt"]
            .as_str()
            .map(|s| s.ends_with('Z')),
        Some(true)
    );
    // sleep dies of SIGTERM at once; the pod is forgot and its files removed.
    rt.stop_pod("s1", None, SystemTime::now());
    tick_until(&mut rt, "s1", Duration::from_secs(3), |s| s.is_none());
    assert!(!alive(pid));
    assert!(!logs::pod_dir(&root.0, "s1").exists());
}

#[test]
fn never_reports_the_exit_code_and_fails_the_pod() {
    let root = TempRoot::new("never");
    let mut rt = open(&root.0);
    rt.run_pod(pod("n1", "Never", &["sh", "-c", "exit 3"], json!({})));
    let s = tick_until(&mut rt, "n1", Duration::from_secs(5), terminated).unwrap();
    let ContainerState::Terminated(t) = state(&s) else {
        unreachable!()
    };
    assert_eq!((t.exit_code, t.reason.as_str()), (3, "Error"));
    assert_eq!(s.phase, PodPhase::Failed);
    assert_eq!(s.containers[0].restart_count, 0);
    // Never restarts: a second later it is still the same.
    std::thread::sleep(Duration::from_millis(300));
    rt.tick(SystemTime::now());
    assert_eq!(rt.pod_status("n1").unwrap(), s);
}

#[test]
fn on_failure_restarts_failures_and_completes_on_success() {
    let root = TempRoot::new("onfailure");
    let mut rt = open(&root.0);
    // Fails twice, then succeeds: the count lives in a file in the working directory.
    let script = "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n; [ $n -ge 3 ]";
    let dir = root.0.join("work");
    std::fs::create_dir_all(&dir).unwrap();
    rt.run_pod(pod(
        "f1",
        "OnFailure",
        &["sh", "-c", script],
        json!({"workingDir": dir}),
    ));
    let mut saw_backoff = false;
    let s = tick_until(&mut rt, "f1", Duration::from_secs(10), |s| {
        if let Some(s) = s
            && let ContainerState::Waiting { reason, .. } = state(s)
            && *reason == "CrashLoopBackOff"
        {
            saw_backoff = true;
            assert_eq!(
                s.phase,
                PodPhase::Running,
                "OnFailure with a failure: Running"
            );
            assert_eq!(s.containers[0].last_state.as_ref().unwrap().exit_code, 1);
        }
        terminated(s)
    })
    .unwrap();
    assert!(saw_backoff);
    let ContainerState::Terminated(t) = state(&s) else {
        unreachable!()
    };
    assert_eq!((t.exit_code, t.reason.as_str()), (0, "Completed"));
    assert_eq!(s.containers[0].restart_count, 2);
    assert_eq!(s.phase, PodPhase::Succeeded);
    assert_eq!(std::fs::read_to_string(dir.join("n")).unwrap(), "3\n");
}

#[test]
fn always_restarts_even_a_success_and_the_back_off_doubles() {
    let root = TempRoot::new("always");
    let mut rt = open(&root.0);
    rt.run_pod(pod("a1", "Always", &["sh", "-c", "exit 0"], json!({})));
    // Time is given, not read: each restart is due exactly at the back-off's end.
    let mut now = SystemTime::now();
    let running = |rt: &Runtime| {
        matches!(
            state(&rt.pod_status("a1").unwrap()),
            ContainerState::Running { .. }
        )
    };
    rt.tick(now);
    assert!(running(&rt));
    // The first exit is restarted at once, by the tick that sees it (the kubelet's first
    // restart has no back-off). Wait (really) for it, without moving the runtime's clock.
    let start = Instant::now();
    while rt.pod_status("a1").unwrap().containers[0].restart_count == 0 {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(5));
        rt.tick(now);
    }
    let s = rt.pod_status("a1").unwrap();
    assert!(running(&rt));
    assert_eq!(
        s.containers[0].last_state.as_ref().unwrap().reason,
        "Completed"
    );
    let mut delays = Vec::new();
    for round in 1..4 {
        let start = Instant::now();
        let s = loop {
            rt.tick(now);
            let s = rt.pod_status("a1").unwrap();
            if let ContainerState::Waiting { .. } = state(&s) {
                break s;
            }
            assert!(start.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(5));
        };
        let ContainerState::Waiting { reason, message } = state(&s) else {
            unreachable!()
        };
        assert_eq!(*reason, "CrashLoopBackOff");
        assert_eq!(s.phase, PodPhase::Running);
        assert_eq!(s.containers[0].restart_count, round);
        delays.push(message.clone().unwrap());
        let delay = BackoffPolicy::scaled(Duration::from_millis(100)).delay(round + 1);
        // A microsecond before the back-off ends, nothing starts.
        rt.tick(now + delay - Duration::from_micros(1));
        assert!(!running(&rt));
        now += delay;
        rt.tick(now);
        assert!(
            running(&rt),
            "round {round}: restarted when the back-off ends"
        );
        assert_eq!(
            rt.pod_status("a1").unwrap().containers[0].restart_count,
            round + 1
        );
    }
    assert_eq!(
        delays,
        [100, 200, 400].map(|ms| format!(
            "back-off {ms}ms restarting failed container=main pod=pod-a1_default(a1)"
        ))
    );
}

#[test]
fn graceful_termination_escalates_to_sigkill_after_the_grace_period() {
    let root = TempRoot::new("grace");
    let mut rt = open(&root.0);
    rt.run_pod(pod(
        "g1",
        "Always",
        &["sh", "-c", "trap '' TERM; echo ready; sleep 100"],
        json!({}),
    ));
    let s = tick_until(&mut rt, "g1", Duration::from_secs(5), |s| {
        s.is_some_and(|s| s.containers[0].pid.is_some())
    })
    .unwrap();
    let pid = s.containers[0].pid.unwrap();
    // The trap must be set before SIGTERM comes: wait for the script's first line.
    let log = logs::log_path(&root.0, "g1", "main");
    let start = Instant::now();
    while std::fs::read_to_string(&log).unwrap_or_default() != "ready\n" {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(10));
    }
    let t0 = SystemTime::now();
    rt.stop_pod("g1", None, t0);
    assert!(rt.pod_status("g1").unwrap().terminating);
    // SIGTERM is ignored: after 300 ms of real time, still running (grace is 1 s).
    std::thread::sleep(Duration::from_millis(300));
    rt.tick(t0 + Duration::from_millis(999));
    assert!(alive(pid), "SIGTERM is trapped");
    assert!(rt.has_pod("g1"));
    // At the end of the grace period the group gets SIGKILL.
    rt.tick(t0 + Duration::from_secs(1));
    let start = Instant::now();
    while rt.has_pod("g1") {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "SIGKILL did not end it"
        );
        std::thread::sleep(Duration::from_millis(10));
        rt.tick(t0 + Duration::from_secs(1));
    }
    assert!(!alive(pid));
}

fn oom_test(name: &str, choice: EnforcementChoice, expect: Option<Enforcement>) {
    let root = TempRoot::new(name);
    let mut rt = Guard(Runtime::open(config(&root.0, choice)).unwrap());
    let path = rt.enforcement();
    eprintln!("{name}: enforcement path {path:?}");
    if let Some(e) = expect {
        assert_eq!(path, e);
    }
    // tail keeps the endless line it reads in memory.
    rt.run_pod(pod(
        "m1",
        "Never",
        &["tail", "/dev/zero"],
        json!({"resources": {"limits": {"memory": "32Mi", "cpu": "1"}}}),
    ));
    let s = tick_until(&mut rt, "m1", Duration::from_secs(20), terminated).unwrap();
    let ContainerState::Terminated(t) = state(&s) else {
        unreachable!()
    };
    assert_eq!(
        (t.exit_code, t.reason.as_str(), t.signal),
        (137, "OOMKilled", Some(9)),
        "via {path:?}"
    );
    assert_eq!(s.phase, PodPhase::Failed);
    let dirs = rt.container_cgroup("m1", "main");
    if path == Enforcement::Sampling {
        assert!(dirs.is_empty());
    } else {
        assert!(!dirs.is_empty());
        let limit = if path == Enforcement::CgroupV1 {
            "memory.limit_in_bytes"
        } else {
            "memory.max"
        };
        assert_eq!(
            std::fs::read_to_string(dirs[0].join(limit)).unwrap().trim(),
            (32u64 << 20).to_string()
        );
        // One CPU: a 100 ms quota per 100 ms period.
        let quota = if path == Enforcement::CgroupV1 {
            dirs.get(1).map(|d| d.join("cpu.cfs_quota_us"))
        } else {
            Some(dirs[0].join("cpu.max"))
        };
        if let Some(q) = quota {
            let text = std::fs::read_to_string(q).unwrap();
            assert!(
                text.trim() == "100000" || text.trim() == "100000 100000",
                "{text:?}"
            );
        }
    }
    rt.stop_pod("m1", None, SystemTime::now());
    tick_until(&mut rt, "m1", Duration::from_secs(3), |s| s.is_none());
    for d in dirs {
        assert!(!d.exists(), "{} removed", d.display());
        assert!(!d.parent().unwrap().exists(), "the pod's cgroup removed");
    }
}

#[test]
fn memory_limit_exceeded_is_oom_killed_by_the_best_path() {
    // On the development machine only the v1 memory and cpu hierarchies are writable.
    let expect = if Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists()
        && !Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
    {
        Some(Enforcement::CgroupV1)
    } else {
        None
    };
    oom_test("oom-auto", EnforcementChoice::Auto, expect);
}

#[test]
fn memory_limit_exceeded_is_oom_killed_by_sampling() {
    oom_test(
        "oom-sampling",
        EnforcementChoice::Sampling,
        Some(Enforcement::Sampling),
    );
}

#[test]
fn logs_capture_stdout_and_stderr_with_env_and_working_dir() {
    let root = TempRoot::new("logs");
    let mut rt = open(&root.0);
    rt.run_pod(pod(
        "l1",
        "Never",
        &["sh", "-c"],
        json!({"args": ["echo out $GREETING; echo err >&2; pwd"],
               "env": [{"name": "GREETING", "value": "hello"}],
               "workingDir": "/"}),
    ));
    tick_until(&mut rt, "l1", Duration::from_secs(5), terminated);
    let text = logs::read_log(&root.0, "l1", "main", None).unwrap();
    assert_eq!(String::from_utf8(text).unwrap(), "out hello\nerr\n/\n");
    let tail = logs::read_log(&root.0, "l1", "main", Some(1)).unwrap();
    assert_eq!(tail, b"/\n");
}

#[test]
fn a_missing_program_is_a_start_error() {
    let root = TempRoot::new("starterror");
    let mut rt = open(&root.0);
    rt.run_pod(pod("e1", "Never", &["/nonexistent/program"], json!({})));
    let s = tick_until(&mut rt, "e1", Duration::from_secs(5), terminated).unwrap();
    let ContainerState::Terminated(t) = state(&s) else {
        unreachable!()
    };
    assert_eq!((t.exit_code, t.reason.as_str()), (128, "StartError"));
    assert!(t.message.as_ref().unwrap().contains("/nonexistent/program"));
}

#[test]
fn a_reopened_runtime_adopts_its_pods_and_kills_the_others() {
    let root = TempRoot::new("adopt");
    let (keep_pid, drop_pid);
    {
        // The first agent: no Guard, it "crashes" with its processes running.
        let mut first = Runtime::open(config(&root.0, EnforcementChoice::Auto)).unwrap();
        first.run_pod(pod("keep", "Always", &["sleep", "30"], json!({})));
        first.run_pod(pod("drop", "Always", &["sleep", "30"], json!({})));
        first.tick(SystemTime::now());
        keep_pid = first.pod_status("keep").unwrap().containers[0].pid.unwrap();
        drop_pid = first.pod_status("drop").unwrap().containers[0].pid.unwrap();
    }
    assert!(alive(keep_pid) && alive(drop_pid));
    let mut rt = open(&root.0);
    rt.run_pod(pod("keep", "Always", &["sleep", "30"], json!({})));
    let s = rt.pod_status("keep").unwrap();
    assert_eq!(
        s.containers[0].pid,
        Some(keep_pid),
        "adopted, not restarted"
    );
    assert_eq!(s.phase, PodPhase::Running);
    assert_eq!(rt.kill_unclaimed(), ["drop"]);
    let start = Instant::now();
    while alive(drop_pid) {
        assert!(start.elapsed() < Duration::from_secs(3));
        std::thread::sleep(Duration::from_millis(10));
    }
    rt.tick(SystemTime::now());
    assert!(alive(keep_pid));
    // An adopted process's exit is seen, though not its code.
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(keep_pid).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let s = tick_until(&mut rt, "keep", Duration::from_secs(3), |s| {
        s.is_some_and(|s| s.containers[0].last_state.is_some())
    })
    .unwrap();
    assert_eq!(
        s.containers[0].last_state.as_ref().unwrap().reason,
        "ContainerStatusUnknown"
    );
}

#[test]
fn an_oom_killed_container_is_restarted_with_back_off() {
    let root = TempRoot::new("oom-restart");
    let mut rt = open(&root.0);
    rt.run_pod(pod(
        "r1",
        "Always",
        &["tail", "/dev/zero"],
        json!({"resources": {"limits": {"memory": "32Mi"}}}),
    ));
    let s = tick_until(&mut rt, "r1", Duration::from_secs(20), |s| {
        s.is_some_and(|s| s.containers[0].restart_count >= 1)
    })
    .unwrap();
    let last = s.containers[0].last_state.as_ref().unwrap();
    assert_eq!((last.exit_code, last.reason.as_str()), (137, "OOMKilled"));
    let s = tick_until(&mut rt, "r1", Duration::from_secs(20), |s| {
        s.is_some_and(|s| matches!(state(s), ContainerState::Waiting { .. }))
    })
    .unwrap();
    let ContainerState::Waiting { reason, message } = state(&s) else {
        unreachable!()
    };
    assert_eq!(*reason, "CrashLoopBackOff");
    // The first restart was at once; the second waits the initial delay.
    assert!(
        message.as_ref().unwrap().starts_with("back-off 100ms "),
        "{message:?}"
    );
}

#[test]
fn a_reopened_runtime_keeps_final_states_restart_counts_and_sees_lost_processes() {
    let root = TempRoot::new("reopen");
    let (looped, gone_pid);
    {
        let mut first = Runtime::open(config(&root.0, EnforcementChoice::Auto)).unwrap();
        first.run_pod(pod(
            "done",
            "Never",
            &["sh", "-c", "echo once; exit 3"],
            json!({}),
        ));
        first.run_pod(pod("loop", "Always", &["sh", "-c", "exit 1"], json!({})));
        first.run_pod(pod("gone", "Always", &["sleep", "30"], json!({})));
        tick_until(&mut first, "done", Duration::from_secs(5), terminated);
        looped = tick_until(&mut first, "loop", Duration::from_secs(5), |s| {
            s.is_some_and(|s| s.containers[0].restart_count >= 2)
        })
        .unwrap()
        .containers[0]
            .restart_count;
        gone_pid = first.pod_status("gone").unwrap().containers[0].pid.unwrap();
        // The first agent "crashes"; then the process of "gone" dies while no agent runs.
    }
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(gone_pid).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let start = Instant::now();
    while alive(gone_pid) {
        assert!(start.elapsed() < Duration::from_secs(3));
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut rt = open(&root.0);
    rt.run_pod(pod(
        "done",
        "Never",
        &["sh", "-c", "echo once; exit 3"],
        json!({}),
    ));
    rt.run_pod(pod("loop", "Always", &["sh", "-c", "exit 1"], json!({})));
    rt.run_pod(pod("gone", "Always", &["sleep", "30"], json!({})));
    // "done" is not run again: same final state, one line in its log.
    let s = rt.pod_status("done").unwrap();
    let ContainerState::Terminated(t) = state(&s) else {
        panic!("{s:?}")
    };
    assert_eq!((t.exit_code, t.reason.as_str()), (3, "Error"));
    assert_eq!(s.phase, PodPhase::Failed);
    // "loop" carries its count on.
    let s = tick_until(&mut rt, "loop", Duration::from_secs(5), |s| {
        s.is_some_and(|s| s.containers[0].restart_count > looped)
    })
    .unwrap();
    assert!(s.containers[0].restart_count <= looped + 2);
    // "gone" ended unseen: reported lost, then restarted by its policy.
    let s = tick_until(&mut rt, "gone", Duration::from_secs(5), |s| {
        s.is_some_and(|s| s.containers[0].last_state.is_some())
    })
    .unwrap();
    let last = s.containers[0].last_state.as_ref().unwrap();
    assert_eq!(
        (last.exit_code, last.reason.as_str()),
        (137, "ContainerStatusUnknown")
    );
    tick_until(&mut rt, "gone", Duration::from_secs(5), |s| {
        s.is_some_and(|s| s.containers[0].restart_count == 1 && s.containers[0].pid.is_some())
    });
    assert_eq!(
        logs::read_log(&root.0, "done", "main", None).unwrap(),
        b"once\n"
    );
}

/// Not a check: prints what 100 pods cost the runtime on each path. Run with
/// `cargo test -p schedlab-agent --release --test runtime tick_cost -- --ignored --nocapture`.
#[test]
#[ignore]
fn tick_cost_with_100_pods() {
    for choice in [EnforcementChoice::Auto, EnforcementChoice::Sampling] {
        let root = TempRoot::new("cost");
        let mut rt = Guard(Runtime::open(config(&root.0, choice)).unwrap());
        for i in 0..100 {
            rt.run_pod(pod(
                &format!("c{i}"),
                "Always",
                &["sleep", "60"],
                json!({"resources": {"limits": {"memory": "256Mi", "cpu": "100m"}}}),
            ));
        }
        let t = Instant::now();
        rt.tick(SystemTime::now());
        let start_all = t.elapsed();
        let running = (0..100)
            .filter(|i| rt.pod_status(&format!("c{i}")).unwrap().phase == PodPhase::Running)
            .count();
        assert_eq!(running, 100);
        let t = Instant::now();
        for _ in 0..50 {
            rt.tick(SystemTime::now());
        }
        let steady = t.elapsed() / 50;
        let t = Instant::now();
        rt.0.kill_all();
        let kill = t.elapsed();
        eprintln!(
            "{:?}: starting 100 pods {start_all:?} ({:?} per pod), a tick with 100 running {steady:?}, killing all {kill:?}",
            rt.enforcement(),
            start_all / 100
        );
    }
}

#[test]
fn kill_recorded_ends_the_pods_of_a_dead_agent() {
    let root = TempRoot::new("killrecorded");
    let pid;
    {
        let mut dead = Runtime::open(config(&root.0, EnforcementChoice::Auto)).unwrap();
        dead.run_pod(pod(
            "k1",
            "Always",
            &["sleep", "30"],
            json!({"resources": {"limits": {"memory": "64Mi"}}}),
        ));
        dead.tick(SystemTime::now());
        pid = dead.pod_status("k1").unwrap().containers[0].pid.unwrap();
    }
    assert!(alive(pid));
    let uids = schedlab_agent::node::runtime::kill_recorded(&root.0).unwrap();
    assert_eq!(uids, ["k1"]);
    assert!(!alive(pid));
    // Nothing is left to adopt.
    let mut rt = open(&root.0);
    rt.run_pod(pod("k1", "Always", &["sleep", "30"], json!({})));
    assert_eq!(rt.pod_status("k1").unwrap().containers[0].pid, None);
}
