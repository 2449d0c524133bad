//! End-to-end tests of what `schedlab run` leaves behind, on the real binary: `--jobs`
//! capped with a warning; run folders replaced whole and the summary listing only this
//! invocation's runs; SIGINT and SIGTERM stopping a sweep cleanly (no temporary folder, a
//! summary of the finished runs, no `exec:` program left running); an `exec:` program that
//! hangs killed with its grandchild on the timeout; notes for skipped scenario files and
//! duplicate arguments. The exec tests need `python3` and `sleep` on PATH.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Two nodes, three one-CPU pods: done in milliseconds.
const TINY: &str = "\
name: tiny
seed: 7
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: \"2\", memory: 4Gi}}]
workloads:
  - pod: web
    count: 3
    requests: {cpu: \"1\", memory: 1Gi}
    duration: 10m
";

/// A pod a second for 2000 simulated hours: millions of events, tens of seconds of work,
/// which a test interrupts long before the end.
const SLOW: &str = "\
name: slow
seed: 1
duration: 2000h
cluster:
  nodePools: [{name: n, count: 4, allocatable: {cpu: \"64\", memory: 64Gi}}]
workloads:
  - batch: jobs
    arrivals: {process: fixed, interval: 1s}
    duration: 1s
    requests: {cpu: 100m}
";

const HANG_WITH_CHILD: &str = "exec:tests/fixtures/exec/hang_with_child.py";

/// The binary with `args`, run from the repository root (so `exec:` paths resolve), its
/// output captured.
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_schedlab"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The rows of a summary.csv as `scenario,scheduler,seed`.
fn summary_keys(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .skip(1)
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect()
}

/// Every path under `dir` whose name starts with `.` (temporary or set-aside folders).
fn hidden_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return found;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with('.') {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(hidden_under(&path));
        }
    }
    found
}

/// Waits for `child` for at most `limit`; kills it and fails the test if it takes longer.
fn wait_at_most(mut child: Child, limit: Duration) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "schedlab still running after {limit:?}; stderr:\n{}",
                stderr(&out)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Polls `done` every 20 ms for at most `limit`.
fn wait_for(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Sends `signal` (`TERM`, `INT`) to process `pid` with kill(1).
fn send(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Whether process `pid` exists and is not a zombie (a killed process whose parent is
/// gone may wait a moment to be reaped; it runs nothing any more).
fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesized command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The exec fixture's pid and its grandchild's, once it has written them.
fn pids(pidfile: &Path) -> Option<[u32; 2]> {
    let text = fs::read_to_string(pidfile).ok()?;
    let mut it = text.split_whitespace().map(|p| p.parse().unwrap());
    Some([it.next()?, it.next()?])
}

/// Kills what a failed test may have left running, so a failure does not leak processes.
struct KillOnDrop(Vec<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Asserts that both processes are gone within a second (the kernel delivers SIGKILL
/// asynchronously).
fn assert_gone(pids: [u32; 2]) {
    let started = Instant::now();
    while pids.iter().any(|&p| alive(p)) && started.elapsed() < Duration::from_secs(1) {
        thread::sleep(Duration::from_millis(20));
    }
    for pid in pids {
        assert!(!alive(pid), "process {pid} is still running");
    }
}

#[test]
fn jobs_far_beyond_the_runs_are_capped_with_a_warning() {
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = command(&[
        "run",
        "scenarios/tutorial.yaml",
        "--jobs",
        "100000",
        "-o",
        out.path().to_str().unwrap(),
    ])
    .spawn()
    .unwrap();
    let result = wait_at_most(child, Duration::from_secs(20));
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = stderr(&result);
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("--jobs")).collect();
    assert_eq!(
        warnings,
        ["warning: --jobs 100000 lowered to 4: there are 4 runs"]
    );
    assert_eq!(summary_keys(&out.path().join("summary.csv")).len(), 4);
}

#[test]
fn a_rerun_replaces_run_folders_whole_and_its_summary_lists_only_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = write(dir.path(), "tiny.yaml", TINY);
    let out = dir.path().join("out");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", &tiny, "-o", out.to_str().unwrap()];
        args.extend(extra);
        let result = command(&args).output().unwrap();
        assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
        result
    };
    run(&["--trace", "--seed", "1", "--seed", "2"]);
    assert!(out.join("tiny/first-fit/seed-1/trace.csv").exists());

    let second = run(&["--seed", "1"]);
    // The earlier trace.csv does not survive beside the new files.
    let mut files: Vec<String> = fs::read_dir(out.join("tiny/first-fit/seed-1"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["namespaces.csv", "summary.csv", "timeseries.csv"]);
    assert_eq!(summary_keys(&out.join("summary.csv")), ["tiny,first-fit,1"]);
    // The earlier invocation's seed-2 is kept, and said to be outside the summary.
    assert!(out.join("tiny/first-fit/seed-2/trace.csv").exists());
    let err = stderr(&second);
    assert!(
        err.contains("holds 1 run folder(s) from earlier invocations"),
        "{err}"
    );
    assert_eq!(hidden_under(&out), Vec::<PathBuf>::new());
}

#[test]
fn sigint_stops_a_long_run_and_keeps_the_finished_ones() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = write(dir.path(), "tiny.yaml", TINY);
    let slow = write(dir.path(), "slow.yaml", SLOW);
    let out = dir.path().join("out");
    // An earlier summary, which must not survive beside this invocation's folders.
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("summary.csv"), "stale\n").unwrap();
    let child = command(&[
        "run",
        &tiny,
        &slow,
        "--jobs",
        "2",
        "-o",
        out.to_str().unwrap(),
    ])
    .spawn()
    .unwrap();
    let _guard = KillOnDrop(vec![child.id()]);
    wait_for(Duration::from_secs(10), "the tiny run's folder", || {
        out.join("tiny/first-fit/seed-7").exists()
    });
    // Long enough for the slow run to be well under way.
    thread::sleep(Duration::from_millis(200));
    let pid = child.id();
    let sent = Instant::now();
    send("INT", pid);
    let result = wait_at_most(child, Duration::from_secs(5));
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(result.status.code(), Some(130), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("interrupted by SIGINT: 1 of 2 run(s) finished"),
        "{err}"
    );
    assert!(err.contains("finished: tiny/first-fit/seed-7"), "{err}");
    assert!(
        err.contains("not finished (discarded or never started): slow/first-fit/seed-1"),
        "{err}"
    );
    assert_eq!(summary_keys(&out.join("summary.csv")), ["tiny,first-fit,7"]);
    assert!(!out.join("slow").exists());
    assert_eq!(hidden_under(&out), Vec::<PathBuf>::new());
}

#[test]
fn sigterm_kills_exec_programs_with_their_children() {
    let dir = tempfile::tempdir().unwrap();
    let tiny = write(dir.path(), "tiny.yaml", TINY);
    let pidfile = dir.path().join("pids");
    let out = dir.path().join("out");
    let child = command(&[
        "run",
        &tiny,
        "--scheduler",
        "first-fit",
        "--scheduler",
        HANG_WITH_CHILD,
        "--exec-timeout",
        "60s",
        "--jobs",
        "2",
        "-o",
        out.to_str().unwrap(),
    ])
    .env("SCHEDLAB_EXEC_PIDFILE", &pidfile)
    .spawn()
    .unwrap();
    let mut guard = KillOnDrop(vec![child.id()]);
    wait_for(
        Duration::from_secs(10),
        "the exec program's pid file",
        || pids(&pidfile).is_some(),
    );
    let exec_pids = pids(&pidfile).unwrap();
    guard.0.extend(exec_pids);
    wait_for(
        Duration::from_secs(10),
        "the first-fit run's folder",
        || out.join("tiny/first-fit/seed-7").exists(),
    );
    assert!(exec_pids.iter().all(|&p| alive(p)));

    let sent = Instant::now();
    send("TERM", child.id());
    let result = wait_at_most(child, Duration::from_secs(5));
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(result.status.code(), Some(143), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(!err.contains("panicked"), "{err}");
    // The exec run stopped because of the signal: not reported as a failure of its own.
    assert!(!err.contains("error:"), "{err}");
    assert!(
        err.contains("not finished (discarded or never started): tiny/exec:"),
        "{err}"
    );
    assert_gone(exec_pids);
    assert_eq!(summary_keys(&out.join("summary.csv")), ["tiny,first-fit,7"]);
    assert_eq!(hidden_under(&out), Vec::<PathBuf>::new());
}

#[test]
fn a_hanging_exec_program_and_its_child_are_killed_on_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pids");
    let out = dir.path().join("out");
    let child = command(&[
        "run",
        "scenarios/tutorial.yaml",
        "--scheduler",
        HANG_WITH_CHILD,
        "--exec-timeout",
        "500ms",
        "-o",
        out.to_str().unwrap(),
    ])
    .env("SCHEDLAB_EXEC_PIDFILE", &pidfile)
    .spawn()
    .unwrap();
    let mut guard = KillOnDrop(vec![child.id()]);
    wait_for(
        Duration::from_secs(10),
        "the exec program's pid file",
        || pids(&pidfile).is_some(),
    );
    let exec_pids = pids(&pidfile).unwrap();
    guard.0.extend(exec_pids);
    let result = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(result.status.code(), Some(1), "{}", stderr(&result));
    let err = stderr(&result);
    assert!(err.contains("no answer to"), "{err}");
    assert_gone(exec_pids);
    // The failed run has no folder, and the summary no row.
    assert!(!out.join("tutorial").exists());
    assert_eq!(summary_keys(&out.join("summary.csv")), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn skipped_files_and_duplicate_arguments_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    fs::create_dir(&scenarios).unwrap();
    write(&scenarios, "a.yaml", TINY);
    write(
        &scenarios,
        "B.YAML",
        &TINY.replace("name: tiny", "name: upper"),
    );
    std::os::unix::fs::symlink(scenarios.join("missing.yaml"), scenarios.join("x.yaml")).unwrap();
    let a = scenarios.join("a.yaml");
    let out = dir.path().join("out");
    let result = command(&[
        "run",
        scenarios.to_str().unwrap(),
        a.to_str().unwrap(),
        "--seed",
        "1",
        "--seed",
        "1",
        "--scheduler",
        "first-fit",
        "--scheduler",
        "first-fit",
        "-o",
        out.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(result.status.code(), Some(0), "{}", stderr(&result));
    let err = stderr(&result);
    let notes: Vec<&str> = err.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(
        notes,
        [
            "note: ignoring duplicate --scheduler first-fit".to_string(),
            "note: ignoring duplicate --seed 1".to_string(),
            format!(
                "note: skipping {}: a dangling symbolic link",
                scenarios.join("x.yaml").display()
            ),
            format!("note: ignoring duplicate scenario file {}", a.display()),
        ]
    );
    // B.YAML is a scenario like any other.
    assert_eq!(
        summary_keys(&out.join("summary.csv")),
        ["upper,first-fit,1", "tiny,first-fit,1"]
    );
}
