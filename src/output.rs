//! The CSV files `schedlab run` writes and the directory layout they land in.
//!
//! Every function here is a pure function of run results: no wall clock, no thread ids, no
//! hash-map order. That is what makes the files byte-identical for equal inputs whatever
//! `--jobs` is. Numbers that are ratios of integers (times, cores, GiB, allocation) are
//! formatted with exact integer arithmetic; the few figures that arrive as `f64` are
//! formatted with `{:.6}`, which Rust rounds exactly and identically on every platform.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use sim::observe::node_series::NodeSample;
use sim::observe::summary::{fixed6, float, secs};
use sim::{Column, NamespaceSummary, RunResult, Sample, Summary, TraceRecord, Value};

/// The columns that identify a run, ahead of its figures in every `summary.csv` row.
pub const KEY_COLUMNS: [&str; 3] = ["scenario", "scheduler", "seed"];

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

/// Columns of a run's `services.csv`, in order.
pub const SERVICE_COLUMNS: [&str; 6] = [
    "service",
    "requests_served",
    "requests_dropped",
    "availability",
    "queue_delay_p50_s",
    "queue_delay_p99_s",
];

/// One `services.csv` row, in [`SERVICE_COLUMNS`] order.
pub fn service_record(s: &sim::observe::services::ServiceSummary) -> Vec<String> {
    let delay = |d: Option<sim::time::SimTime>| d.map_or(String::new(), secs);
    vec![
        s.name.clone(),
        s.served.to_string(),
        s.dropped.to_string(),
        if s.available.1 == 0 {
            String::new()
        } else {
            fixed6(i128::from(s.available.0), i128::from(s.available.1))
        },
        delay(s.queue_delay_p50),
        delay(s.queue_delay_p99),
    ]
}

/// Millicores per core.
const MILLIS_PER_CORE: i128 = 1_000;
/// Bytes per GiB.
const BYTES_PER_GIB: i128 = 1 << 30;

/// What identifies one run in the outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunKey<'a> {
    /// The scenario's name, as written in the CSV.
    pub scenario: &'a str,
    /// The scheduler's registered name, as written in the CSV.
    pub scheduler: &'a str,
    /// The seed.
    pub seed: u64,
    /// The run's parameter point (`--set` paths and values), empty without overrides.
    pub params: &'a [(String, String)],
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
/// With `--set`, the scenario's folder carries the point: `<scenario>@<path>=<value>,...`.
pub fn run_dir(out: &Path, key: &RunKey<'_>) -> PathBuf {
    out.join(scenario_dir(key.scenario, key.params))
        .join(sanitize(key.scheduler))
        .join(format!("seed-{}", key.seed))
}

/// A run's folder relative to the output directory, `/`-separated whatever the platform
/// (as recorded in a shard's manifest).
pub fn relative_run_dir(key: &RunKey<'_>) -> String {
    format!(
        "{}/{}/seed-{}",
        scenario_dir(key.scenario, key.params),
        sanitize(key.scheduler),
        key.seed
    )
}

/// The folder name of a scenario at a parameter point.
pub fn scenario_dir(scenario: &str, params: &[(String, String)]) -> String {
    sanitize(&format!("{scenario}{}", crate::sweep::point_label(params)))
}

/// The figure columns of a sweep's `summary.csv`: those of the first run, then any
/// column a later run adds, in the order met. Built-in observers give every run the same
/// columns; observers added to some runs only add theirs.
pub fn summary_columns<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
) -> Vec<&'static Column> {
    let mut columns: Vec<&'static Column> = Vec::new();
    for summary in summaries {
        for column in summary.columns() {
            if !columns.iter().any(|c| c.name == column.name) {
                columns.push(column);
            }
        }
    }
    columns
}

/// One `summary.csv` row: the run's key, then its value of each of `columns` (empty
/// where it has none), then its parameter point's values.
pub fn summary_record(key: &RunKey<'_>, s: &Summary, columns: &[&'static Column]) -> Vec<String> {
    let mut row = vec![
        key.scenario.to_string(),
        key.scheduler.to_string(),
        key.seed.to_string(),
    ];
    row.extend(
        columns
            .iter()
            .map(|c| s.get(c).map_or_else(String::new, Value::render)),
    );
    row.extend(key.params.iter().map(|(_, v)| v.clone()));
    row
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
pub fn write_namespaces(path: &Path, namespaces: &[NamespaceSummary]) -> anyhow::Result<()> {
    write_csv(
        path,
        &NAMESPACE_COLUMNS,
        namespaces.iter().map(namespace_record),
    )
}

/// Writes the sweep's `namespaces.csv`: the runs' rows prefixed with the run's scenario,
/// scheduler and seed, runs in the order given.
pub fn write_sweep_namespaces<'a>(
    path: &Path,
    rows: impl IntoIterator<Item = (RunKey<'a>, &'a [NamespaceSummary])>,
) -> anyhow::Result<()> {
    let header: Vec<&str> = KEY_COLUMNS.into_iter().chain(NAMESPACE_COLUMNS).collect();
    write_csv(
        path,
        &header,
        rows.into_iter().flat_map(|(key, namespaces)| {
            namespaces.iter().map(move |n| {
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
pub fn write_summary<'a>(path: &Path, rows: &[(RunKey<'a>, &'a Summary)]) -> anyhow::Result<()> {
    let columns = summary_columns(rows.iter().map(|(_, s)| *s));
    let header: Vec<&str> = KEY_COLUMNS
        .into_iter()
        .chain(columns.iter().map(|c| c.name))
        // Every run of a sweep has the same overridden paths, in `--set` order.
        .chain(
            rows.first()
                .map_or(&[][..], |(key, _)| key.params)
                .iter()
                .map(|(p, _)| p.as_str()),
        )
        .collect();
    write_csv(
        path,
        &header,
        rows.iter().map(|(key, s)| summary_record(key, s, &columns)),
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

/// Columns of a run's `nodes.csv` (with `--trace`, clusters of at most 50 nodes), in order.
pub const NODE_COLUMNS: [&str; 8] = [
    "time_s",
    "node",
    "cpu_requested_cores",
    "cpu_allocatable_cores",
    "mem_requested_gib",
    "mem_allocatable_gib",
    "cpu_alloc",
    "mem_alloc",
];

/// One `nodes.csv` row, in [`NODE_COLUMNS`] order.
pub fn node_record(s: &NodeSample) -> Vec<String> {
    let (cpu_req, cpu_alloc) = (i128::from(s.cpu_requested), i128::from(s.cpu_allocatable));
    let (mem_req, mem_alloc) = (i128::from(s.mem_requested), i128::from(s.mem_allocatable));
    vec![
        secs(s.time),
        s.node.clone(),
        fixed6(cpu_req, MILLIS_PER_CORE),
        fixed6(cpu_alloc, MILLIS_PER_CORE),
        fixed6(mem_req, BYTES_PER_GIB),
        fixed6(mem_alloc, BYTES_PER_GIB),
        fixed6(cpu_req, cpu_alloc),
        fixed6(mem_req, mem_alloc),
    ]
}

/// One `trace.csv` row: the event's name and its detail (the node, or the reason).
pub fn trace_record(r: &TraceRecord) -> Vec<String> {
    let (event, detail) = r.event.columns();
    vec![
        secs(r.time),
        r.pod.clone(),
        event.to_string(),
        detail.to_string(),
    ]
}

/// One run's files, written into a temporary folder beside the run's own and not yet
/// moved into place. [`StagedRun::commit`] moves it; dropping it uncommitted (the run was
/// interrupted, or writing failed) deletes it, so nothing half-written is ever found under
/// the run's name.
#[derive(Debug)]
pub struct StagedRun {
    /// The temporary folder, `.tmp-seed-<N>-<pid>` beside the final one.
    temp: PathBuf,
    /// The run's folder, `OUT/<scenario>/<scheduler>/seed-<N>`.
    dest: PathBuf,
    /// Set once the folder is in place (or gone): nothing left to clean up.
    done: bool,
}

impl StagedRun {
    /// The temporary folder the run's files are written into before the commit.
    pub fn dir(&self) -> &Path {
        &self.temp
    }

    /// Moves the folder into place, replacing an earlier folder of the same name whole,
    /// so that no file of an earlier run (a `trace.csv` this run did not write) survives
    /// beside this run's. The earlier folder is first renamed aside, then deleted: for a
    /// moment the run has no folder, but never a mixed or partial one.
    pub fn commit(mut self) -> anyhow::Result<PathBuf> {
        let context = || format!("moving {} into place", self.dest.display());
        let aside = sibling(&self.dest, ".old");
        if fs::symlink_metadata(&self.dest).is_ok() {
            remove_any(&aside).with_context(context)?;
            fs::rename(&self.dest, &aside).with_context(context)?;
        }
        if let Err(error) = fs::rename(&self.temp, &self.dest) {
            // Put the earlier folder back rather than leave the run with none.
            let _ = fs::rename(&aside, &self.dest);
            return Err(error).with_context(context);
        }
        self.done = true;
        remove_any(&aside)
            .with_context(|| format!("removing the earlier {}", self.dest.display()))?;
        Ok(self.dest.clone())
    }
}

impl Drop for StagedRun {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.temp);
        }
    }
}

/// `dir/<prefix>-<name>-<pid>` for `dir/<name>`: a hidden sibling no other process of
/// schedlab uses (the process id), on the same file system (so renaming it is atomic).
fn sibling(path: &Path, prefix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!("{prefix}-{name}-{}", std::process::id()))
}

/// Removes a file or a folder at `path`; nothing there is fine.
fn remove_any(path: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    }
}

/// Removes the folder of run `key`, if an earlier invocation left one: called when this
/// invocation's run of that name failed, so that nothing at its path passes for its result.
pub fn remove_run(out: &Path, key: &RunKey<'_>) -> anyhow::Result<()> {
    let dir = run_dir(out, key);
    remove_any(&dir).with_context(|| format!("removing the earlier {}", dir.display()))
}

/// Writes one run's files, its `summary.csv` (one row), `timeseries.csv`,
/// `namespaces.csv`, `gpu-fill.csv` for a GPU replay, `services.csv` with Services and with
/// `trace` its `trace.csv` (and `nodes.csv` when the run kept a node series),
/// into a fresh temporary folder (see [`StagedRun`]); every error names the run's folder.
pub fn write_run(
    out: &Path,
    key: &RunKey<'_>,
    result: &RunResult,
    trace: bool,
) -> anyhow::Result<StagedRun> {
    let dest = run_dir(out, key);
    let staged = StagedRun {
        temp: sibling(&dest, ".tmp"),
        dest,
        done: false,
    };
    let write = || -> anyhow::Result<()> {
        let dir = &staged.temp;
        // A folder of this name can only be left by a killed process that had our id.
        remove_any(dir).with_context(|| format!("removing {}", dir.display()))?;
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        write_summary(&dir.join("summary.csv"), &[(*key, &result.summary)])?;
        write_timeseries(&dir.join("timeseries.csv"), &result.samples)?;
        write_namespaces(&dir.join("namespaces.csv"), &result.namespaces)?;
        if !result.gpu_fill.is_empty() {
            write_csv(
                &dir.join("gpu-fill.csv"),
                &crate::gpu_fill::RUN_COLUMNS,
                result.gpu_fill.iter().map(crate::gpu_fill::run_record),
            )?;
        }
        if !result.services.is_empty() {
            write_csv(
                &dir.join("services.csv"),
                &SERVICE_COLUMNS,
                result.services.iter().map(service_record),
            )?;
        }
        if !result.node_samples.is_empty() {
            write_csv(
                &dir.join("nodes.csv"),
                &NODE_COLUMNS,
                result.node_samples.iter().map(node_record),
            )?;
        }
        if trace {
            write_csv(
                &dir.join("trace.csv"),
                &TRACE_COLUMNS,
                result.trace.iter().map(trace_record),
            )?;
        }
        Ok(())
    };
    write().with_context(|| format!("writing the run folder {}", staged.dest.display()))?;
    Ok(staged)
}

/// Writes a run's `view-data.json` (what its replay page needs beside `trace.csv`) into
/// `dir`.
pub fn write_view_data(dir: &Path, data: &crate::view::ViewData) -> anyhow::Result<()> {
    let path = dir.join(crate::view::DATA_FILE);
    let mut text = serde_json::to_string(data)?;
    text.push('\n');
    fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes `path` through `write`, which is given a temporary path beside it; the file
/// then replaces `path` in one rename, so a reader sees the earlier file or the whole new
/// one, never a part. The temporary file is removed if `write` fails.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let temp = sibling(path, ".tmp");
    let result = write(&temp).and_then(|()| {
        fs::rename(&temp, path).with_context(|| format!("moving {} into place", path.display()))
    });
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// The run folders (`<scenario>/<scheduler>/seed-<N>`) under `out` other than `ours`:
/// what earlier invocations left. Unreadable folders are skipped; this only informs.
pub fn other_run_folders(out: &Path, ours: &HashSet<PathBuf>) -> Vec<PathBuf> {
    let subdirs = |dir: &Path| -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Vec::new();
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .filter(|p| {
                // Hidden folders are temporary ones, not runs.
                p.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .collect();
        dirs.sort();
        dirs
    };
    let mut found = Vec::new();
    for scenario in subdirs(out) {
        for scheduler in subdirs(&scenario) {
            for run in subdirs(&scheduler) {
                let is_run = run
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("seed-"));
                if is_run && !ours.contains(&run) {
                    found.push(run);
                }
            }
        }
    }
    found
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

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

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
            params: &[],
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
