//! The CSV files `schedlab run` writes and the directory layout they land in.
//!
//! Every function here is a pure function of run results: no wall clock, no thread ids, no
//! hash-map order. That is what makes the files byte-identical for equal inputs whatever
//! `--jobs` is. Numbers that are ratios of integers (times, cores, GiB, allocation) are
//! formatted with exact integer arithmetic; the few figures that arrive as `f64` are
//! formatted with `{:.6}`, which Rust rounds exactly and identically on every platform.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sim::{NamespaceSummary, RunResult, RunSummary, Sample, SimTime, TraceEvent, TraceRecord};

/// Columns of `summary.csv`, in order.
pub const SUMMARY_COLUMNS: [&str; 31] = [
    "scenario",
    "scheduler",
    "seed",
    "pods_submitted",
    "pods_scheduled",
    "pods_completed",
    "pods_failed",
    "pods_pending_at_end",
    "pods_running_at_end",
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "latency_max_s",
    "cpu_alloc_mean",
    "mem_alloc_mean",
    "cpu_alloc_peak",
    "mem_alloc_peak",
    "nodes_max",
    "scheduling_attempts",
    "unschedulable_attempts",
    "refused_binds",
    "preemptions",
    "gang_timeouts",
    "events",
    "sim_end_s",
    "fragmentation",
    "jain_index",
    "makespan_s",
    "mean_completion_s",
    "pods_per_node_mean",
    "pods_per_node_max",
];

/// Columns of `timeseries.csv`, in order.
pub const TIMESERIES_COLUMNS: [&str; 11] = [
    "time_s",
    "pending",
    "running",
    "nodes",
    "cpu_requested_cores",
    "cpu_allocatable_cores",
    "mem_requested_gib",
    "mem_allocatable_gib",
    "cpu_alloc",
    "mem_alloc",
    "fragmentation",
];

/// Columns of a run's `namespaces.csv`, in order.
pub const NAMESPACE_COLUMNS: [&str; 6] = [
    "namespace",
    "weight",
    "pods_submitted",
    "pods_bound",
    "dominant_share_mean",
    "weighted_share_mean",
];

/// Millicores per core.
const MILLIS_PER_CORE: i128 = 1_000;
/// Bytes per GiB.
const BYTES_PER_GIB: i128 = 1 << 30;
/// Microseconds per second ([`SimTime`]'s unit).
const MICROS_PER_SEC: i128 = 1_000_000;

/// What identifies one run in the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunKey<'a> {
    /// The scenario's name, as written in the CSV.
    pub scenario: &'a str,
    /// The scheduler's registered name, as written in the CSV.
    pub scheduler: &'a str,
    /// The seed.
    pub seed: u64,
}

/// Turns a name into a safe directory name: anything outside `[A-Za-z0-9._-]` becomes `_`,
/// and names that would mean something to the file system (`""`, `"."`, `".."`) become
/// underscores, so no name can escape the output directory.
pub fn sanitize(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.chars().all(|c| c == '.') {
        // Covers "", "." and "..": all-dot names are the ones a path would interpret.
        "_".repeat(safe.len().max(1))
    } else {
        safe
    }
}

/// The directory of one run's files: `OUT/<scenario>/<scheduler>/seed-<N>`.
pub fn run_dir(out: &Path, key: &RunKey<'_>) -> PathBuf {
    out.join(sanitize(key.scenario))
        .join(sanitize(key.scheduler))
        .join(format!("seed-{}", key.seed))
}

/// One `summary.csv` row, in [`SUMMARY_COLUMNS`] order.
pub fn summary_record(key: &RunKey<'_>, s: &RunSummary) -> Vec<String> {
    vec![
        key.scenario.to_string(),
        key.scheduler.to_string(),
        key.seed.to_string(),
        s.pods_submitted.to_string(),
        s.pods_scheduled.to_string(),
        s.pods_completed.to_string(),
        s.pods_failed.to_string(),
        s.pods_pending_at_end.to_string(),
        s.pods_running_at_end.to_string(),
        secs(s.latency_p50),
        secs(s.latency_p95),
        secs(s.latency_p99),
        secs(s.latency_max),
        float(s.cpu_alloc_mean),
        float(s.mem_alloc_mean),
        float(s.cpu_alloc_peak),
        float(s.mem_alloc_peak),
        s.nodes_max.to_string(),
        s.scheduling_attempts.to_string(),
        s.unschedulable_attempts.to_string(),
        s.refused_binds.to_string(),
        s.preemptions.to_string(),
        s.gang_timeouts.to_string(),
        s.events.to_string(),
        secs(s.end),
        s.fragmentation.map_or_else(String::new, float),
        float(s.jain_index),
        s.makespan.map_or_else(String::new, secs),
        s.mean_completion().map_or_else(String::new, |(sum, n)| {
            fixed6(i128::from(sum), i128::from(n) * MICROS_PER_SEC)
        }),
        float(s.pods_per_node_mean),
        s.pods_per_node_max.to_string(),
    ]
}

/// One `namespaces.csv` row, in [`NAMESPACE_COLUMNS`] order.
pub fn namespace_record(n: &NamespaceSummary) -> Vec<String> {
    vec![
        n.name.clone(),
        n.weight.to_string(),
        n.pods_submitted.to_string(),
        n.pods_bound.to_string(),
        float(n.dominant_share_mean),
        float(n.weighted_share_mean()),
    ]
}

/// Writes a run's `namespaces.csv`: one row per namespace, in name order.
pub fn write_namespaces(path: &Path, s: &RunSummary) -> anyhow::Result<()> {
    write_csv(
        path,
        &NAMESPACE_COLUMNS,
        s.namespaces.iter().map(namespace_record),
    )
}

/// Writes the sweep's `namespaces.csv`: the runs' rows prefixed with the run's scenario,
/// scheduler and seed, runs in the order given.
pub fn write_sweep_namespaces<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = (RunKey<'a>, &'a RunSummary)>,
) -> anyhow::Result<()> {
    let header: Vec<&str> = ["scenario", "scheduler", "seed"]
        .into_iter()
        .chain(NAMESPACE_COLUMNS)
        .collect();
    write_csv(
        path,
        &header,
        rows.into_iter().flat_map(|(key, s)| {
            s.namespaces.iter().map(move |n| {
                let mut row = vec![
                    key.scenario.to_string(),
                    key.scheduler.to_string(),
                    key.seed.to_string(),
                ];
                row.extend(namespace_record(n));
                row
            })
        }),
    )
}

/// One `timeseries.csv` row, in [`TIMESERIES_COLUMNS`] order.
pub fn timeseries_record(s: &Sample) -> Vec<String> {
    let (cpu_req, cpu_alloc) = (i128::from(s.cpu_requested), i128::from(s.cpu_allocatable));
    let (mem_req, mem_alloc) = (i128::from(s.mem_requested), i128::from(s.mem_allocatable));
    vec![
        secs(s.time),
        s.pending.to_string(),
        s.running.to_string(),
        s.nodes.to_string(),
        fixed6(cpu_req, MILLIS_PER_CORE),
        fixed6(cpu_alloc, MILLIS_PER_CORE),
        fixed6(mem_req, BYTES_PER_GIB),
        fixed6(mem_alloc, BYTES_PER_GIB),
        fixed6(cpu_req, cpu_alloc),
        fixed6(mem_req, mem_alloc),
        {
            let (num, den) = s.fragmentation_fraction();
            fixed6(num, den)
        },
    ]
}

/// Writes `summary.csv` with a header and one row per run, in the order given.
pub fn write_summary<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = (RunKey<'a>, &'a RunSummary)>,
) -> anyhow::Result<()> {
    write_csv(
        path,
        &SUMMARY_COLUMNS,
        rows.into_iter().map(|(key, s)| summary_record(&key, s)),
    )
}

/// Writes `timeseries.csv` with a header and one row per sample.
pub fn write_timeseries(path: &Path, samples: &[Sample]) -> anyhow::Result<()> {
    write_csv(
        path,
        &TIMESERIES_COLUMNS,
        samples.iter().map(timeseries_record),
    )
}

/// Columns of `trace.csv`, in order.
pub const TRACE_COLUMNS: [&str; 4] = ["time_s", "pod", "event", "detail"];

/// One `trace.csv` row: the event's name and its detail (the node, or the reason).
pub fn trace_record(r: &TraceRecord) -> Vec<String> {
    let (event, detail) = match &r.event {
        TraceEvent::Created => ("created", ""),
        TraceEvent::Bound { node } => ("bound", node.as_str()),
        TraceEvent::Unschedulable { reason } => ("unschedulable", reason.as_str()),
        TraceEvent::Started => ("started", ""),
        TraceEvent::Finished => ("finished", ""),
        TraceEvent::Evicted => ("evicted", ""),
        TraceEvent::Rejected => ("rejected", ""),
    };
    vec![
        secs(r.time),
        r.pod.clone(),
        event.to_string(),
        detail.to_string(),
    ]
}

/// Writes one run's directory: its `summary.csv` (one row), `timeseries.csv`,
/// `namespaces.csv`, and with
/// `trace` its `trace.csv`, creating the directories first. Returns the directory.
pub fn write_run(
    out: &Path,
    key: &RunKey<'_>,
    result: &RunResult,
    trace: bool,
) -> anyhow::Result<PathBuf> {
    let dir = run_dir(out, key);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    write_summary(&dir.join("summary.csv"), [(*key, &result.summary)])?;
    write_timeseries(&dir.join("timeseries.csv"), &result.samples)?;
    write_namespaces(&dir.join("namespaces.csv"), &result.summary)?;
    if !result.gpu_fill.is_empty() {
        write_csv(
            &dir.join("gpu-fill.csv"),
            &crate::gpu_fill::RUN_COLUMNS,
            result.gpu_fill.iter().map(crate::gpu_fill::run_record),
        )?;
    }
    if trace {
        write_csv(
            &dir.join("trace.csv"),
            &TRACE_COLUMNS,
            result.trace.iter().map(trace_record),
        )?;
    }
    Ok(dir)
}

/// Streams a header and records to `path`; every error names the path.
pub fn write_csv(
    path: &Path,
    header: &[&str],
    records: impl Iterator<Item = Vec<String>>,
) -> anyhow::Result<()> {
    let write = || -> anyhow::Result<()> {
        let file = File::create(path)?;
        // "\n" whatever the platform or the csv crate's default, so files compare equal
        // across machines.
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(BufWriter::new(file));
        csv.write_record(header)?;
        for record in records {
            csv.write_record(&record)?;
        }
        // Flushes the csv buffer and the BufWriter, so a full disk is reported here rather
        // than lost in a drop.
        csv.flush()?;
        let mut inner = csv.into_inner().map_err(|e| e.into_error())?;
        inner.flush()?;
        Ok(())
    };
    write().with_context(|| format!("writing {}", path.display()))
}

/// A time in seconds with exactly six decimals: exact, since the unit is the microsecond.
pub fn secs(t: SimTime) -> String {
    fixed6(i128::from(t.as_micros()), MICROS_PER_SEC)
}

/// A float with exactly six decimals; a negative value that rounds to zero prints as
/// `0.000000`, so float noise cannot flip a sign in the files.
pub fn float(x: f64) -> String {
    let s = format!("{x:.6}");
    if s == "-0.000000" {
        "0.000000".to_string()
    } else {
        s
    }
}

/// `num / den` with exactly six decimals, rounded half away from zero, using integers only;
/// `0.000000` when `den` is zero (an empty cluster has no allocation rather than NaN).
pub fn fixed6(num: i128, den: i128) -> String {
    if den == 0 {
        return "0.000000".to_string();
    }
    let negative = (num < 0) != (den < 0);
    let (num, den) = (num.unsigned_abs(), den.unsigned_abs());
    // |num| < 2^127 and the factor is < 2^20; values that could overflow are far beyond any
    // cluster (u64 microseconds or i64 bytes times a million still fits comfortably).
    let scaled = num.saturating_mul(1_000_000);
    let mut q = scaled / den;
    if (scaled % den) * 2 >= den {
        q += 1;
    }
    let sign = if negative && q != 0 { "-" } else { "" };
    format!("{sign}{}.{:06}", q / 1_000_000, q % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed6_is_exact_and_rounds_half_away_from_zero() {
        assert_eq!(fixed6(1_500_000, 1_000_000), "1.500000");
        assert_eq!(fixed6(0, 1_000_000), "0.000000");
        assert_eq!(fixed6(1, 3), "0.333333");
        assert_eq!(fixed6(2, 3), "0.666667");
        assert_eq!(fixed6(1, 2_000_000), "0.000001");
        assert_eq!(fixed6(-1, 2_000_000), "-0.000001");
        assert_eq!(fixed6(-1, 3_000_000), "0.000000");
        assert_eq!(fixed6(5, 0), "0.000000");
        assert_eq!(fixed6(3 << 30, 1 << 30), "3.000000");
        assert_eq!(
            fixed6(i128::from(u64::MAX), 1_000_000),
            "18446744073709.551615"
        );
    }

    #[test]
    fn floats_have_six_decimals_and_no_negative_zero() {
        assert_eq!(float(0.375), "0.375000");
        assert_eq!(float(-1e-9), "0.000000");
        assert_eq!(float(1.0 / 3.0), "0.333333");
    }

    #[test]
    fn sanitize_keeps_names_inside_the_output_directory() {
        assert_eq!(sanitize("first-fit"), "first-fit");
        assert_eq!(sanitize("exec:/usr/bin/x y"), "exec__usr_bin_x_y");
        assert_eq!(sanitize("v1.2_a"), "v1.2_a");
        assert_eq!(sanitize(".."), "__");
        assert_eq!(sanitize("."), "_");
        assert_eq!(sanitize(""), "_");
        assert_eq!(sanitize("é"), "_");
    }

    #[test]
    fn run_dir_layout() {
        let key = RunKey {
            scenario: "a/b",
            scheduler: "exec:x",
            seed: 7,
        };
        assert_eq!(
            run_dir(Path::new("out"), &key),
            Path::new("out/a_b/exec_x/seed-7")
        );
    }

    #[test]
    fn timeseries_row() {
        let s = Sample {
            time: SimTime(90_000_000),
            pending: 1,
            running: 2,
            nodes: 3,
            cpu_requested: 1500,
            cpu_allocatable: 6000,
            mem_requested: 1 << 30,
            mem_allocatable: 0,
            cpu_stranded: 1000,
            cpu_free: 4000,
            mem_stranded: 0,
            mem_free: 0,
        };
        assert_eq!(
            timeseries_record(&s).join(","),
            "90.000000,1,2,3,1.500000,6.000000,1.000000,0.000000,0.250000,0.000000,0.250000"
        );
        // Both resources free: (1/4 + 1/3) / 2 = 7/24.
        let s = Sample {
            mem_stranded: 1 << 30,
            mem_free: 3 << 30,
            ..s
        };
        assert_eq!(timeseries_record(&s)[10], "0.291667");
    }
}
