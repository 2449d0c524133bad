//! `schedlab run` on a small GPU trace replay: each run's `gpu-fill.csv`, the scenario's
//! mean table and chart (PNG and SVG), hand-checked figures, and byte-identical outputs
//! whatever `--jobs` is.

use std::fs;
use std::path::Path;
use std::process::Command;

/// Two nodes: one with 2 GPUs, one with 1 (3000 milli-GPU); a CPU-only node that
/// `gpuNodesOnly` drops. Pods: four half-GPU shares and one whole GPU (3000 milli in all).
fn write_inputs(dir: &Path) {
    fs::write(
        dir.join("nodes.csv"),
        "sn,cpu_milli,memory_mib,gpu,model\ncpu,32000,1024,0,\ng2,32000,65536,2,T4\ng1,32000,65536,1,T4\n",
    )
    .unwrap();
    fs::write(
        dir.join("pods.csv"),
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n\
         a,1000,1024,1,500,\nb,1000,1024,1,500,\nc,1000,1024,1,500,\nd,1000,1024,1,500,\nw,1000,1024,1,1000,\n",
    )
    .unwrap();
    fs::write(
        dir.join("replay.yaml"),
        "name: tiny\nseeds: [1, 2]\nschedulers: [fgd, first-fit]\n\
         gpuTrace: {format: alibaba-gpu-v2023, nodes: nodes.csv, pods: pods.csv, demand: 1.0, fillStep: 0.5}\n",
    )
    .unwrap();
}

fn run(dir: &Path, out: &str, jobs: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .current_dir(dir)
        .args(["run", "replay.yaml", "--out", out, "--jobs", jobs])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn replay_writes_fill_tables_and_charts_deterministically() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    run(dir.path(), "one", "1");
    run(dir.path(), "two", "2");
    let one = dir.path().join("one");
    for f in [
        "summary.csv",
        "tiny/gpu-fill.csv",
        "tiny/gpu-fill.svg",
        "tiny/gpu-fill.png",
        "tiny/fgd/seed-1/gpu-fill.csv",
        "tiny/first-fit/seed-2/gpu-fill.csv",
    ] {
        let a = fs::read(one.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        let b = fs::read(dir.path().join("two").join(f)).unwrap();
        assert!(a == b, "{f} differs between --jobs 1 and --jobs 2");
    }
    let png = fs::read(one.join("tiny/gpu-fill.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = fs::read_to_string(one.join("tiny/gpu-fill.svg")).unwrap();
    assert!(svg.contains("fgd") && svg.contains("first-fit"));
    // The trace asks for exactly the cluster's 3000 milli-GPU, so it arrives once, with no
    // draws. Both schedulers pair the shares whatever the order: first-fit's binding puts
    // a share on the fullest GPU that holds it, and fgd's fragmentation drops by 500 when a
    // share completes a half-used GPU (F counts the half GPU against the 1-GPU kind) and
    // rises by 500 when it opens a fresh one. So four shares use two GPUs, a whole GPU is
    // always left for the fifth pod, and every run allocates all 3000 milli-GPU.
    for (scheduler, seed) in [("fgd", 1), ("fgd", 2), ("first-fit", 1), ("first-fit", 2)] {
        let f = format!("tiny/{scheduler}/seed-{seed}/gpu-fill.csv");
        let run_csv = fs::read_to_string(one.join(&f)).unwrap();
        let lines: Vec<&str> = run_csv.lines().collect();
        assert_eq!(
            lines[0],
            "demand_step,arrived_gpu,allocated_gpu,allocated_over_arrived,pods_arrived,pods_failed,\
             allocated_gpu_rounded"
        );
        assert_eq!(lines.len(), 4, "steps 0, 0.5 and 1.0: {run_csv}");
        // The last column is the mean allocation over the arrivals whose arrived demand
        // rounds to the step; every pod fits, so allocated = arrived after each. Step 0:
        // the start (0) and, when a share comes first, 500 milli (0.5/3 rounds to 0):
        // 0 or 250/3000. Step 1.0 (arrived >= 2250): 3000 at the end and 2500 when the
        // whole GPU is not last: 1 or 2750/3000.
        let (first, last) = (
            lines[1].rsplit_once(',').unwrap(),
            lines[3].rsplit_once(','),
        );
        assert_eq!(first.0, "0.000000,0.000000,0.000000,0.000000,0,0");
        assert!(
            ["0.000000", "0.083333"].contains(&first.1),
            "{f}: {}",
            lines[1]
        );
        let last = last.unwrap();
        assert_eq!(last.0, "1.000000,1.000000,1.000000,1.000000,5,0", "{f}");
        assert!(
            ["1.000000", "0.916667"].contains(&last.1),
            "{f}: {}",
            lines[3]
        );
    }
    let mean = fs::read_to_string(one.join("tiny/gpu-fill.csv")).unwrap();
    assert!(mean.starts_with("scheduler,demand_step,seeds,allocated_gpu_mean"));
    assert!(mean.contains("fgd,1.000000,2,"));
}

#[test]
fn a_failing_external_scheduler_fails_only_its_own_replay() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let crash = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/exec/crash.py");
    let output = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .current_dir(dir.path())
        .args(["run", "replay.yaml", "--out", "out", "--seed", "1"])
        .args(["--scheduler", "first-fit"])
        .arg("--scheduler")
        .arg(format!("exec:{}", crash.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("crash.py"), "{stderr}");
    // The first arrival comes at t=0 and is the first message the program gets.
    assert!(
        stderr.contains("the scheduler failed at t=0s") && stderr.contains("message #1"),
        "{stderr}"
    );
    // first-fit's replay still wrote its results; the failed one wrote none.
    let summary = fs::read_to_string(dir.path().join("out/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 2, "{summary}");
    assert!(
        summary
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("tiny,first-fit,1,")
    );
    assert!(
        dir.path()
            .join("out/tiny/first-fit/seed-1/gpu-fill.csv")
            .exists()
    );
}

/// A trace replay is an event simulation like any other: its runs have a time series and
/// a trace, and `explain` stops at a trace pod's attempt. Arrivals come one a second in
/// the seed's order; the tiny trace's five pods all fit, so each is bound on arrival.
#[test]
fn replay_runs_have_time_series_traces_and_explanations() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let output = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .current_dir(dir.path())
        .args(["run", "replay.yaml", "--out", "out", "--seed", "1"])
        .args(["--scheduler", "first-fit", "--trace"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run = dir.path().join("out/tiny/first-fit/seed-1");
    let trace = fs::read_to_string(run.join("trace.csv")).unwrap();
    let created: Vec<&str> = trace.lines().filter(|l| l.contains(",created,")).collect();
    assert_eq!(created.len(), 5, "{trace}");
    for (i, line) in created.iter().enumerate() {
        assert!(line.starts_with(&format!("{i}.000000,")), "{line}");
    }
    assert_eq!(trace.lines().filter(|l| l.contains(",bound,")).count(), 5);
    let series = fs::read_to_string(run.join("timeseries.csv")).unwrap();
    // A row at 0 s, the first pod bound, and one at the end, when the last pod, bound
    // at 4 s, starts (1 s later): five running on the two GPU nodes.
    let rows: Vec<&str> = series.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{series}");
    assert!(rows[0].starts_with("0.000000,0,1,2,"), "{series}");
    assert!(rows[1].starts_with("5.000000,0,5,2,"), "{series}");
    // The first pod of seed 1's order, explained by kube-default when it arrives.
    let first = created[0].split(',').nth(1).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_schedlab"))
        .current_dir(dir.path())
        .args([
            "explain",
            "replay.yaml",
            "--seed",
            "1",
            "--pod",
            first,
            "--json",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("\"pod\":\"{first}\"")), "{stdout}");
    assert!(
        stdout.contains("\"g2\"") && stdout.contains("\"g1\""),
        "{stdout}"
    );
}
