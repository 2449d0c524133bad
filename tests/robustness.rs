//! Issue 9's reproducers, each a file in `tests/fixtures/robustness/`: every one is refused
//! before it runs, with the location or the estimate and the flag to raise, or run to an end
//! by a safety net, in seconds; the other runs of the sweep still finish.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/robustness")
        .join(name)
        .display()
        .to_string()
}

/// Runs the binary in `cwd`; every reproducer must be answered within seconds.
fn schedlab(cwd: &Path, args: &[&str]) -> Output {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the schedlab binary starts");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{args:?} took {:?}",
        started.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `validate` and `run` both refuse `name` with exit code 1 and this error after the path.
#[track_caller]
fn refused(name: &str, expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(name);
    let line = format!("error: {path}{expected}");
    for command in ["validate", "run"] {
        let out = schedlab(dir.path(), &[command, &path]);
        assert_eq!(out.status.code(), Some(1), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).lines().any(|l| l.starts_with(&line)),
            "{command}: expected a line starting with\n{line}\ngot:\n{}",
            stderr(&out)
        );
    }
}

#[test]
fn endless_arrivals_need_a_horizon() {
    refused(
        "endless-poisson.yaml",
        ":11:7: workloads[0].arrivals: arrivals never stop: process: poisson with neither \
         `count` nor `stop` creates pods for ever, so the run would never end; give the \
         scenario a horizon with a top-level `duration:`",
    );
    refused(
        "fixed-1us-endless.yaml",
        ":8:15: workloads[0].arrivals: arrivals never stop: process: fixed",
    );
    refused(
        "endless-deployment.yaml",
        ":9:15: workloads[0].duration: a deployment replaces each pod that finishes",
    );
}

#[test]
fn runs_estimated_above_the_limits_are_refused_with_the_flag() {
    refused(
        "sample-1us.yaml",
        ": refused: a run would take about 3,600,000,001 time-series samples (a run of 1h \
         sampled every 1us), more than --max-samples 1,000,000",
    );
    refused(
        "count-100m.yaml",
        ": refused: a run would take about 100,000,000 pods (most from workload `web`), more \
         than --max-pods 10,000,000",
    );
    refused(
        "rate-1e9.yaml",
        ": refused: a run would take about 60,000,000,000 pods (most from workload `jobs`), \
         more than --max-pods 10,000,000",
    );
    refused(
        "fixed-1us.yaml",
        ": refused: a run would take about 3,600,000,001 pods",
    );
}

#[test]
fn limits_are_flags_and_validate_prints_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let busy = fixture("busy.yaml");
    let out = schedlab(dir.path(), &["validate", &busy]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with(&format!(
            "ok  {busy} (50 nodes, 1 workloads; about 216,000 pods, 1,080,171 events, 121 \
             samples, "
        )),
        "{stdout}"
    );
    let out = schedlab(dir.path(), &["validate", &busy, "--max-memory", "1Mi"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "of memory (216,000 pods, 50 nodes, 121 samples), more than --max-memory 1.0 MiB"
        ),
        "{}",
        stderr(&out)
    );
    let out = schedlab(dir.path(), &["validate", &busy, "--max-pods", "1000"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("more than --max-pods 1,000"),
        "{}",
        stderr(&out)
    );
    // Raised, the sampling reproducer passes.
    let out = schedlab(
        dir.path(),
        &[
            "validate",
            &fixture("sample-1us.yaml"),
            "--max-samples",
            "4000000000",
            "--max-memory",
            "1Ei",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn safety_nets_fail_their_run_and_the_others_finish() {
    let dir = tempfile::tempdir().unwrap();
    let (busy, long) = (fixture("busy.yaml"), fixture("long-horizon.yaml"));
    let out = schedlab(
        dir.path(),
        &["run", &busy, &long, "--timeout", "1ms", "-o", "out"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "error: run busy / first-fit / seed 1 failed: timed out: still running after \
             --timeout 1ms of wall time (at simulated time "
        ),
        "{}",
        stderr(&out)
    );
    let summary = std::fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    assert_eq!(
        summary.lines().count(),
        2,
        "the header and long-horizon: {summary}"
    );
    assert!(
        summary
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("long-horizon,first-fit,1,61,")
    );

    let out = schedlab(
        dir.path(),
        &["run", &long, "--max-sim-time", "1h", "-o", "out2"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "error: run long-horizon / first-fit / seed 1 failed: stopped at simulated time \
             1h1s, past --max-sim-time 1h"
        ),
        "{}",
        stderr(&out)
    );
    // A safety net that is not reached changes nothing.
    let plain = schedlab(dir.path(), &["run", &long, "-o", "a"]);
    let netted = schedlab(
        dir.path(),
        &[
            "run",
            &long,
            "-o",
            "b",
            "--max-sim-time",
            "10h",
            "--timeout",
            "10m",
        ],
    );
    assert_eq!(plain.status.code(), Some(0));
    assert_eq!(netted.status.code(), Some(0));
    for file in [
        "summary.csv",
        "long-horizon/first-fit/seed-1/timeseries.csv",
    ] {
        assert_eq!(
            std::fs::read(dir.path().join("a").join(file)).unwrap(),
            std::fs::read(dir.path().join("b").join(file)).unwrap(),
            "{file}"
        );
    }
}

/// 40,000 listed nodes: past serde-saphyr's default budget, which stopped such a file at
/// about 28,000 ("limits breached: Nodes { nodes: 250001 }").
#[test]
fn tens_of_thousands_of_listed_nodes_load() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("name: many\ncluster:\n  nodes:\n");
    for i in 0..40_000 {
        text.push_str(&format!(
            "    - {{name: n{i}, allocatable: {{cpu: \"8\", memory: 32Gi}}, labels: {{zone: z{}}}}}\n",
            i % 3
        ));
    }
    std::fs::write(dir.path().join("many.yaml"), text).unwrap();
    let out = schedlab(dir.path(), &["validate", "many.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .starts_with("ok  many.yaml (40000 nodes, 0 workloads;"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `--strict` reads every trace as if it said `strict: true`: the bad row that `validate`
/// and `run` otherwise skip and count becomes the error, naming file, line and column.
#[test]
fn strict_flag_stops_at_the_first_bad_trace_row() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.csv"),
        "time,name,cpu,memory\n1,a,1,1Gi\n2,b,lots,1Gi\n3,c,1\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "startLatency: 0s\ncluster:\n  nodePools:\n    - {name: n, count: 1, allocatable: {cpu: '2', memory: 4Gi}}\nworkloads: [{trace: {format: generic-csv, pods: t.csv}}]\n",
    )
    .unwrap();
    // The scenario is named relative to the working directory, and so is its trace.
    let trace = "t.csv";
    let skipped =
        format!("{trace}: 2 rows skipped, first at line 3, column 5: cpu: expected a CPU quantity");
    let error = format!(
        "error: {trace}:3:5: cpu: expected a CPU quantity such as 2 (cores) or 500m, got \"lots\""
    );
    for command in ["validate", "run"] {
        let lenient = schedlab(dir.path(), &[command, "s.yaml"]);
        assert_eq!(
            lenient.status.code(),
            Some(0),
            "{command}: {}",
            stderr(&lenient)
        );
        assert!(
            stderr(&lenient).contains(&skipped),
            "{command}: {}",
            stderr(&lenient)
        );

        let strict = schedlab(dir.path(), &[command, "--strict", "s.yaml"]);
        assert_eq!(
            strict.status.code(),
            Some(1),
            "{command}: {}",
            stderr(&strict)
        );
        assert!(
            stderr(&strict).lines().any(|l| l == error),
            "{command}: expected the line\n{error}\ngot:\n{}",
            stderr(&strict)
        );
    }
}
