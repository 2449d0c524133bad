//! Streamed replays: a recorded (`timing: recorded`) `generic-csv` replay reads its file as
//! simulated time advances instead of holding every pod from the start, so its memory
//! does not grow with the file (issue 13, "replay streaming, in constant memory").
//!
//! Upstream has no counterpart: a real cluster receives its pods from the API server as
//! they are created; this is how the replay stands in for that stream.
//!
//! - At load, [`scan_generic_csv`] reads every row once with the same parser as the whole
//!   load ([`super::trace_formats::load_generic_csv`]): the same errors naming file, line
//!   and column, the same skipped-row count, and `strict` stops at the same row. It keeps
//!   only a summary ([`StreamedTrace`]): how many pods, the first and last arrival, the
//!   longest run (for the run's bounds) and the pod shapes with their counts (the task mix
//!   fragmentation-aware schedulers measure against).
//! - `window`, `sample`, `timeScale` and `sizeScale` apply row by row
//!   ([`super::trace_formats::TraceOptions::apply_one`]), the same arithmetic as for a
//!   whole trace.
//! - Each run opens its own [`TraceStream`] when it starts, so parallel runs and seeds
//!   share nothing but the file, and holds one pod read ahead: the next to arrive.
//! - A streamed replay needs its pods in arrival order. When the scan finds a row that
//!   arrives before the one above it (after the options), the replay falls back to the
//!   whole load, which sorts by time (file order among equal times), and the loader
//!   prints a one-line notice. Either way the run is the same, event for event.
//! - Simplified: the file must not change between the load and the end of the runs; a
//!   run skips rows it cannot read (the load already counted or refused them) and ends
//!   its arrivals where the file cannot be read any more.
//!
//! Recorded `google-2011-task-events` replays stream too, with a look-ahead: a task's
//! duration is known only at its end event, later in the file than its SUBMIT.
//!
//! - The load's scan ([`scan_google_2011`]) reads every row once with the whole load's
//!   parser and rules ([`super::trace_formats::load_google_2011`]), holding only the tasks
//!   submitted and not yet ended (the trace's concurrency) to learn each run time, and
//!   which tasks are done (runs of task indices per job, see [`DoneTasks`]), since a
//!   task's resubmission is not a new pod. The options apply task by task: `window` on
//!   the SUBMIT's time, `sample` on the job, `timeScale` to every time.
//! - A run's reader ([`GoogleStream`]) reads the rows up to `lookAhead` (default
//!   [`DEFAULT_LOOK_AHEAD`]) of the replay's clock past the run's clock, and always up to
//!   the next arrival. It holds the tasks submitted and not arrived (those within the
//!   look-ahead) and the arrived ones whose end it has not read. A pod arrives at its
//!   SUBMIT as in the whole load. When its end row is read before it arrives, it runs for
//!   its recorded time once started, exactly as read whole.
//! - A pod that arrives before its end row is read runs until the reader reads that row;
//!   it then ends at its start plus its recorded run time, or at once when that moment is
//!   already past: a *late end*, which the run counts (`trace_late_ends` in summary.csv, a
//!   `late-end` record in trace.csv) and notices once on stderr. A pod that had not
//!   started then runs its recorded time once started, as read whole. With a look-ahead
//!   longer than every task's SUBMIT-to-end time, no end is late and the run is the one
//!   of the whole load, event for event.
//! - Simplified: a Google file out of time order (rows whose time goes back, ignoring
//!   events after the trace window) is read whole, as for generic CSV.
//!
//! A recorded openb pod list (`alibaba-gpu-v2023`, see [`super::gpu_trace`]) streams as
//! generic CSV does, one pod a row through the whole load's row parser ([`OpenbPods`]),
//! its scan ([`scan_openb`]) sharing `scan_pods` with generic CSV. Its loader skips no
//! row, so the scan is always strict: the first bad row is the whole load's error. The
//! paper's `shuffled` protocol (and any shuffled replay) draws pods in a seeded order from
//! the whole list and, for `demand`, draws them again: it is read whole.
//!
//! Every table of a record a row is read through one reader, [`ParsedRows`], with the
//! table's [`RowParser`]: the whole load, the scan and each run all parse alike.
//!
//! Recorded Alibaba cluster-trace-v2018 replays (`alibaba-2018-batch-instance`,
//! `alibaba-2018-container-meta`, see [`super::alibaba_v2018`]) stream as generic CSV
//! does, one pod a row, through the whole load's parser ([`BatchInstances`],
//! [`ContainerMeta`]) and its rules; `sample` keeps or drops a job (or a deploy unit)
//! whole, as read whole. What each needs beyond a row:
//!
//! - `batch_instance` takes its requests from `batch_task`, which the load reads whole
//!   ([`BatchTasks`]) and every run shares: a row per task, the small side table. A
//!   repeated first attempt of an instance is not replayed again; rather than a set of
//!   every instance seen, which grows with the rows, the load's scan
//!   ([`scan_alibaba_batch`]) finds the rows that repeat an instance and each run skips
//!   their lines, a sorted list that grows with the repeats alone. The scan finds them by
//!   a 64-bit fingerprint of each first attempt's name, held in bounded memory
//!   ([`super::seen_twice`]: a set of up to 3.5 million in memory, about 38 MB, then
//!   sorted runs in temporary files, 8 bytes an instance on disk, merged at the end);
//!   when a fingerprint comes again, a second pass compares the names of the rows with
//!   those fingerprints only, so a collision of fingerprints never drops a pod. A repeat
//!   found only in the merge (its first sight already on disk) was counted as a pod by
//!   the first pass, which a third pass then counts again without it.
//! - `container_meta` lists several rows per container (snapshots), and a container is a
//!   pod at its earliest. In a file in time order that is its first row: the scan keeps
//!   the set of containers seen (it grows with the containers, not the rows) and records
//!   the lines of their first rows, which every run shares; a run keeps those rows and
//!   skips the others, holding nothing of its own.
//! - In time order means every first attempt (after `window`) for `batch_instance`, and
//!   every row, whatever its container, for `container_meta` (a later row earlier in time
//!   would be its container's earliest). The real files are not sorted; the replay then
//!   falls back to the whole load with the notice, and `sort -t, -k6,6n` (`start_time`)
//!   or `sort -t, -k3,3n` (`time_stamp`) makes them stream.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schedulers::PodId;
use schedulers::cluster::GpuTask;

use super::ScenarioError;
use super::alibaba_v2018::{BatchInstances, BatchTasks, ContainerMeta, alibaba_job};
use super::gpu_trace::{OpenbPods, TracePod, open_pods};
use super::seen_twice::{Fingerprints, SeenTwice};
use super::trace_formats::{
    BadRows, GenericHeader, GoogleEvent, MachineScale, ParsedRows, RowParser, RowReader, Skipped,
    TraceOptions, file_err, google_job, google_pod, google_row, load_google_2011, open_generic_csv,
    sampled, stable_hash,
};
use crate::controllers::workloads::recorded_run_time;
use crate::time::SimTime;

/// How far past the run's clock a streamed Google replay reads when `lookAhead` is not
/// given: an hour of the replay's clock.
pub const DEFAULT_LOOK_AHEAD: SimTime = SimTime::from_secs(3600);

/// The format of a streamed trace, with what its reader needs.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamedFormat {
    /// `generic-csv`: one pod a row.
    GenericCsv,
    /// `alibaba-gpu-v2023` (the openb pod list): one pod a row.
    AlibabaGpu2023,
    /// `google-2011-task-events`: a task's events spread over rows.
    Google2011 {
        /// What 1.0 of the largest machine is (`machineScale`).
        scale: MachineScale,
        /// How far past the run's clock the run's reader reads (`lookAhead`).
        look_ahead: SimTime,
    },
    /// `alibaba-2018-batch-instance`: one instance attempt a row.
    Alibaba2018Batch {
        /// The `batch_task` table, where the requests are.
        tasks: Arc<BatchTasks>,
        /// The lines of the rows that repeat an instance's first attempt, sorted: skipped.
        repeated: Arc<[usize]>,
    },
    /// `alibaba-2018-container-meta`: a snapshot of a container a row.
    Alibaba2018Containers {
        /// What `mem_size` 100 is, in bytes.
        memory_bytes: i64,
        /// The lines of each container's first row, sorted: the rows replayed.
        firsts: Arc<[usize]>,
    },
}

/// A trace replayed from its file while the run goes: where it is and what the load-time
/// scan learned of it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedTrace {
    /// The file.
    pub path: PathBuf,
    /// How errors name it.
    pub shown: String,
    /// The options applied to each row.
    pub options: TraceOptions,
    /// The file's format.
    pub format: StreamedFormat,
    /// Pods replayed (rows read and kept by `window` and `sample`).
    pub pods: u64,
    /// The first arrival, in microseconds of trace time after the options.
    pub first_micros: u64,
    /// The last arrival, likewise.
    pub last_micros: u64,
    /// The longest finite run of a pod ([`recorded_run_time`]).
    pub longest: SimTime,
    /// Each pod shape (CPU and GPU) with how many pods have it, in shape order.
    pub shapes: Vec<(GpuTask, u64)>,
}

impl StreamedTrace {
    /// Every pod of the replay, read from the file: for tests and analysis, not for runs
    /// (it holds the whole trace).
    pub fn read_all(&self) -> Result<Vec<TracePod>, ScenarioError> {
        if let StreamedFormat::Google2011 { scale, .. } = &self.format {
            // The scan refused the file already if it is strict and has a bad row.
            let loaded = load_google_2011(&self.path, &self.shown, *scale, false)?;
            return Ok(self.options.apply(loaded.pods, google_job));
        }
        let mut stream = TraceStream::open(self)?;
        Ok(std::iter::from_fn(|| stream.next_pod()).collect())
    }
}

impl StreamedTrace {
    /// The summary of a scan about to start: no pod yet.
    fn empty(path: &Path, shown: &str, options: TraceOptions, format: StreamedFormat) -> Self {
        StreamedTrace {
            path: path.to_owned(),
            shown: shown.to_owned(),
            options,
            format,
            pods: 0,
            first_micros: 0,
            last_micros: 0,
            longest: SimTime::ZERO,
            shapes: Vec::new(),
        }
    }

    /// Counts a pod that arrives (its shape into `shapes`): false when it arrives before
    /// the one counted last.
    fn arrival(&mut self, pod: &TracePod, shapes: &mut BTreeMap<GpuTask, u64>) -> bool {
        // A streamed pod always has its time.
        let created = pod.created_micros.unwrap_or(0);
        let in_order = self.pods == 0 || created >= self.last_micros;
        if self.pods == 0 {
            self.first_micros = created;
        }
        self.pods += 1;
        self.last_micros = self.last_micros.max(created);
        *shapes
            .entry(GpuTask {
                cpu_milli: pod.cpu_milli,
                gpu: pod.gpu.clone(),
            })
            .or_default() += 1;
        in_order
    }

    /// Counts a pod's run time into the longest finite one.
    fn ran(&mut self, run: SimTime) {
        if run < SimTime::MAX {
            self.longest = self.longest.max(run);
        }
    }
}

/// What the load-time scan of a generic CSV trace found.
#[derive(Debug)]
pub struct Scan {
    /// Rows read (before `window` and `sample`); of a Google trace, its SUBMIT rows.
    pub rows: u64,
    /// Rows skipped, when any was.
    pub skipped: Option<Skipped>,
    /// The line of the first kept row that arrives before the kept row above it: the
    /// trace cannot stream.
    pub out_of_order: Option<usize>,
    /// The replay's summary.
    pub trace: StreamedTrace,
}

/// Reads every row of a generic CSV trace once, keeping a summary and no pod (see the
/// module docs).
pub fn scan_generic_csv(
    path: &Path,
    shown: &str,
    strict: bool,
    options: TraceOptions,
) -> Result<Scan, ScenarioError> {
    let trace = StreamedTrace::empty(path, shown, options, StreamedFormat::GenericCsv);
    scan_pods(open_generic_csv(path, shown)?, BadRows::new(strict), trace)
}

/// Reads every row of an openb pod list (`alibaba-gpu-v2023`, with its times) once,
/// keeping a summary and no pod. Its loader skips no row: the first bad one is the
/// error, as read whole.
pub fn scan_openb(path: &Path, shown: &str, options: TraceOptions) -> Result<Scan, ScenarioError> {
    let trace = StreamedTrace::empty(path, shown, options, StreamedFormat::AlibabaGpu2023);
    scan_pods(open_pods(path, shown, true)?, BadRows::new(true), trace)
}

/// The scan of a trace of one pod a row read through `rows`, its bad rows to `bad`, into
/// `trace` (empty): `sample` keeps or drops each pod by its name.
fn scan_pods<P: RowParser<Row = Result<TracePod, ScenarioError>>>(
    mut rows: ParsedRows<P>,
    mut bad: BadRows,
    mut trace: StreamedTrace,
) -> Result<Scan, ScenarioError> {
    let options = trace.options;
    let (mut read, mut out_of_order) = (0, None);
    let mut shapes: BTreeMap<GpuTask, u64> = BTreeMap::new();
    while let Some((line, row)) = rows.next_row()? {
        let pod = match row {
            Ok(pod) => pod,
            Err(e) => {
                bad.bad(e)?;
                continue;
            }
        };
        read += 1;
        let Some(pod) = options.apply_one(pod, generic_job) else {
            continue;
        };
        if !trace.arrival(&pod, &mut shapes) && out_of_order.is_none() {
            out_of_order = Some(line);
        }
        trace.ran(recorded_run_time(&pod));
    }
    trace.shapes = shapes.into_iter().collect();
    Ok(Scan {
        rows: read,
        skipped: bad.skipped,
        out_of_order,
        trace,
    })
}

/// A sorted list of lines, asked about lines in increasing order: a cursor walks it, so
/// each answer takes constant time and the list is shared by every run.
#[derive(Debug)]
struct Lines {
    lines: Arc<[usize]>,
    next: usize,
}

impl Lines {
    fn new(lines: &Arc<[usize]>) -> Lines {
        Lines {
            lines: Arc::clone(lines),
            next: 0,
        }
    }

    /// Whether `line` is listed; `line` is at least the one asked about before.
    fn has(&mut self, line: usize) -> bool {
        while self.lines.get(self.next).is_some_and(|&l| l < line) {
            self.next += 1;
        }
        self.lines.get(self.next) == Some(&line)
    }
}

/// One pass of [`scan_alibaba_batch`] over `batch_instance`: the summary and, without
/// `repeated` (the first pass), the rows whose first attempt's fingerprint came before
/// (line, fingerprint), which the summary leaves out; with `repeated`, those lines are
/// the ones left out.
fn batch_pass(
    (path, shown): (&Path, &str),
    tasks: &Arc<BatchTasks>,
    (strict, options): (bool, TraceOptions),
    repeated: Option<&Arc<[usize]>>,
    names: Fingerprinting,
) -> Result<BatchPass, ScenarioError> {
    let mut rows = ParsedRows::open(path, shown, BatchInstances(Arc::clone(tasks)))?;
    let mut bad = BadRows::new(strict);
    let mut seen = SeenTwice::with_limit(names.held);
    let spill_failed = |e: std::io::Error| {
        file_err(
            shown,
            format!("cannot write the scan's temporary file: {e}"),
        )
    };
    let mut again = Vec::new();
    let mut skip = repeated.map(Lines::new);
    let (mut instances, mut out_of_order) = (0, None);
    let mut shapes: BTreeMap<GpuTask, u64> = BTreeMap::new();
    let format = StreamedFormat::Alibaba2018Batch {
        tasks: Arc::clone(tasks),
        repeated: repeated.cloned().unwrap_or_else(|| Arc::from([])),
    };
    let mut trace = StreamedTrace::empty(path, shown, options, format);
    while let Some((line, row)) = rows.next_row()? {
        let pod = match row {
            Ok(Some(pod)) => pod,
            // A retry, or an instance that never ran.
            Ok(None) => continue,
            Err(e) => {
                bad.bad(e)?;
                continue;
            }
        };
        match &mut skip {
            Some(skip) => {
                if skip.has(line) {
                    continue;
                }
            }
            None => {
                let print = (names.fingerprint)(&pod.name);
                if !seen.insert(print).map_err(spill_failed)? {
                    again.push((line, print));
                    continue;
                }
            }
        }
        instances += 1;
        let Some(pod) = options.apply_one(pod, alibaba_job) else {
            continue;
        };
        if !trace.arrival(&pod, &mut shapes) && out_of_order.is_none() {
            out_of_order = Some(line);
        }
        trace.ran(recorded_run_time(&pod));
    }
    trace.shapes = shapes.into_iter().collect();
    let across = seen.across_runs().map_err(spill_failed)?;
    Ok(BatchPass {
        scan: Scan {
            rows: instances,
            skipped: bad.skipped,
            out_of_order,
            trace,
        },
        again,
        across,
    })
}

/// What one pass over `batch_instance` found.
struct BatchPass {
    /// The summary, right when the pass knew of every repeat.
    scan: Scan,
    /// The lines (with their fingerprints) of rows whose fingerprint the pass had seen in
    /// memory: repeats, unless two names share a fingerprint.
    again: Vec<(usize, u64)>,
    /// Fingerprints seen again only across the runs written to disk: their repeats were
    /// counted as pods.
    across: Vec<u64>,
}

/// The lines of the rows of `batch_instance` that repeat an instance's first attempt,
/// among those whose fingerprint is in `fingerprints`: found by comparing the names of the
/// rows with those fingerprints, so this holds names for them only.
fn repeated_rows(
    (path, shown): (&Path, &str),
    tasks: &Arc<BatchTasks>,
    fingerprints: &Fingerprints,
    fingerprint: fn(&str) -> u64,
) -> Result<Vec<usize>, ScenarioError> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    let mut repeated = Vec::new();
    let mut rows = ParsedRows::open(path, shown, BatchInstances(Arc::clone(tasks)))?;
    while let Some((line, row)) = rows.next_row()? {
        if let Ok(Some(pod)) = row
            && fingerprints.contains(&fingerprint(&pod.name))
            && !names.insert(pod.name)
        {
            repeated.push(line);
        }
    }
    Ok(repeated)
}

/// How the scan tells instances apart: a fingerprint of the name, and how many
/// fingerprints it holds in memory before writing them to disk.
#[derive(Debug, Clone, Copy)]
struct Fingerprinting {
    fingerprint: fn(&str) -> u64,
    held: usize,
}

/// Reads every row of an Alibaba `batch_instance` trace, keeping a summary and no pod,
/// and finds the rows that repeat an instance's first attempt (see the module docs): one
/// pass when no fingerprint comes twice, two when some does and the first pass knew of
/// every repeat, three when it did not (two instances with the same fingerprint, or a
/// repeat found only across the runs written to disk).
pub fn scan_alibaba_batch(
    file: (&Path, &str),
    tasks: Arc<BatchTasks>,
    strict: bool,
    options: TraceOptions,
) -> Result<Scan, ScenarioError> {
    let names = Fingerprinting {
        fingerprint: stable_hash,
        held: SeenTwice::DEFAULT_LIMIT,
    };
    scan_batch_by(file, tasks, (strict, options), names)
}

/// [`scan_alibaba_batch`] with `names` (tests make fingerprints collide and hold few).
fn scan_batch_by(
    (path, shown): (&Path, &str),
    tasks: Arc<BatchTasks>,
    (strict, options): (bool, TraceOptions),
    names: Fingerprinting,
) -> Result<Scan, ScenarioError> {
    let how = (strict, options);
    let BatchPass {
        scan,
        again,
        across,
    } = batch_pass((path, shown), &tasks, how, None, names)?;
    if again.is_empty() && across.is_empty() {
        return Ok(scan);
    }
    // Bad rows and strict were dealt with by the first pass.
    let suspects: Fingerprints = again
        .iter()
        .map(|&(_, f)| f)
        .chain(across.iter().copied())
        .collect();
    let repeated = repeated_rows((path, shown), &tasks, &suspects, names.fingerprint)?;
    let repeated: Arc<[usize]> = Arc::from(repeated);
    if across.is_empty() && repeated.iter().eq(again.iter().map(|(line, _)| line)) {
        let mut scan = scan;
        scan.trace.format = StreamedFormat::Alibaba2018Batch { tasks, repeated };
        return Ok(scan);
    }
    // The first pass counted a row that is a pod after all, or one that repeats an
    // instance written to disk before: count again, leaving out the repeats alone.
    Ok(batch_pass((path, shown), &tasks, how, Some(&repeated), names)?.scan)
}

/// Reads every row of an Alibaba `container_meta` trace once, keeping a summary, the
/// containers seen and the lines of their first rows (see the module docs).
/// `out_of_order` is the first row whose `time_stamp` goes back, whatever its container.
pub fn scan_alibaba_containers(
    (path, shown): (&Path, &str),
    memory_bytes: i64,
    strict: bool,
    options: TraceOptions,
) -> Result<Scan, ScenarioError> {
    let mut rows = ParsedRows::open(path, shown, ContainerMeta { memory_bytes })?;
    let mut bad = BadRows::new(strict);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut firsts = Vec::new();
    let (mut latest, mut out_of_order) = (0, None);
    let mut shapes: BTreeMap<GpuTask, u64> = BTreeMap::new();
    let format = StreamedFormat::Alibaba2018Containers {
        memory_bytes,
        firsts: Arc::from([]),
    };
    let mut trace = StreamedTrace::empty(path, shown, options, format);
    while let Some((line, row)) = rows.next_row()? {
        let pod = match row {
            Ok(pod) => pod,
            Err(e) => {
                bad.bad(e)?;
                continue;
            }
        };
        // Every row read counts: a later snapshot earlier in time would be its
        // container's earliest, which the whole load keeps.
        let time = pod.created_micros.unwrap_or(0);
        if time < latest && out_of_order.is_none() {
            out_of_order = Some(line);
        }
        latest = latest.max(time);
        if seen.contains(&pod.name) {
            continue;
        }
        seen.insert(pod.name.clone());
        firsts.push(line);
        let Some(pod) = options.apply_one(pod, alibaba_job) else {
            continue;
        };
        trace.arrival(&pod, &mut shapes);
        trace.ran(recorded_run_time(&pod));
    }
    trace.shapes = shapes.into_iter().collect();
    trace.format = StreamedFormat::Alibaba2018Containers {
        memory_bytes,
        firsts: Arc::from(firsts),
    };
    Ok(Scan {
        rows: seen.len() as u64,
        skipped: bad.skipped,
        out_of_order,
        trace,
    })
}

/// The rows of a streamed trace, through its format's parser.
#[derive(Debug)]
enum Rows {
    /// A generic CSV trace.
    Generic(ParsedRows<GenericHeader>),
    /// An openb pod list.
    Openb(ParsedRows<OpenbPods>),
    /// `batch_instance`, skipping the repeated first attempts' lines.
    Batch(ParsedRows<BatchInstances>, Lines),
    /// `container_meta`, keeping the containers' first rows.
    Containers(ParsedRows<ContainerMeta>, Lines),
}

impl Rows {
    /// The next row's pod before the options (`Some(None)`: a row that is no pod);
    /// `None` at the end, `Err` when the file cannot be read.
    fn next(&mut self) -> Result<Option<Option<TracePod>>, ScenarioError> {
        Ok(match self {
            // A bad row was counted (or refused) by the load's scan.
            Rows::Generic(r) => r.next_row()?.map(|(_, row)| row.ok()),
            Rows::Openb(r) => r.next_row()?.map(|(_, row)| row.ok()),
            Rows::Batch(r, repeated) => r.next_row()?.map(|(line, row)| match row {
                Ok(Some(pod)) if !repeated.has(line) => Some(pod),
                _ => None,
            }),
            Rows::Containers(r, firsts) => r
                .next_row()?
                .map(|(line, row)| row.ok().filter(|_| firsts.has(line))),
        })
    }
}

/// A generic CSV or openb pod's job for `sample`: its name.
fn generic_job(p: &TracePod) -> &str {
    p.name.as_str()
}

/// One run's reader of a streamed trace: the pods in arrival order, one at a time.
#[derive(Debug)]
pub struct TraceStream {
    /// `None` once the file is read to its end or cannot be read any more.
    reader: Option<Rows>,
    options: TraceOptions,
    /// The job a pod belongs to, which `sample` keeps or drops whole.
    job_of: fn(&TracePod) -> &str,
}

impl TraceStream {
    /// Opens the file of `trace` for one run.
    pub fn open(trace: &StreamedTrace) -> Result<TraceStream, ScenarioError> {
        let (path, shown) = (&trace.path, &trace.shown);
        let (reader, job_of): (Rows, fn(&TracePod) -> &str) = match &trace.format {
            StreamedFormat::Alibaba2018Batch { tasks, repeated } => (
                Rows::Batch(
                    ParsedRows::open(path, shown, BatchInstances(Arc::clone(tasks)))?,
                    Lines::new(repeated),
                ),
                alibaba_job,
            ),
            StreamedFormat::Alibaba2018Containers {
                memory_bytes,
                firsts,
            } => (
                Rows::Containers(
                    ParsedRows::open(
                        path,
                        shown,
                        ContainerMeta {
                            memory_bytes: *memory_bytes,
                        },
                    )?,
                    Lines::new(firsts),
                ),
                alibaba_job,
            ),
            StreamedFormat::AlibabaGpu2023 => {
                (Rows::Openb(open_pods(path, shown, true)?), generic_job)
            }
            // A Google trace has its own reader, GoogleStream; read as generic CSV, its
            // rows do not parse and nothing arrives.
            StreamedFormat::GenericCsv | StreamedFormat::Google2011 { .. } => {
                (Rows::Generic(open_generic_csv(path, shown)?), generic_job)
            }
        };
        Ok(TraceStream {
            reader: Some(reader),
            options: trace.options,
            job_of,
        })
    }

    /// The next pod to arrive, with the options applied; `None` after the last.
    pub fn next_pod(&mut self) -> Option<TracePod> {
        loop {
            let reader = self.reader.as_mut()?;
            match reader.next() {
                Ok(Some(Some(pod))) => {
                    if let Some(pod) = self.options.apply_one(pod, self.job_of) {
                        return Some(pod);
                    }
                }
                Ok(Some(None)) => {}
                Ok(None) | Err(_) => self.reader = None,
            }
        }
    }
}

/// A task of a Google trace: its job ID and task index.
type TaskKey = (u64, u64);

/// Tasks that can no longer become pods (ended, or first submitted before `window`), as
/// runs of task indices per job: a job numbers its tasks from 0 and they mostly end
/// together, so this holds a few runs per job rather than an entry per task.
#[derive(Debug, Default)]
pub struct DoneTasks {
    /// Per job, sorted disjoint runs `[first, last]` of indices, no two adjacent.
    jobs: BTreeMap<u64, Vec<(u64, u64)>>,
}

impl DoneTasks {
    /// Whether `task` is done.
    pub fn contains(&self, (job, index): TaskKey) -> bool {
        self.jobs.get(&job).is_some_and(|runs| {
            let i = runs.partition_point(|&(_, last)| last < index);
            runs.get(i).is_some_and(|&(first, _)| first <= index)
        })
    }

    /// Marks `task` done, merging it into the runs beside it.
    pub fn insert(&mut self, (job, index): TaskKey) {
        let runs = self.jobs.entry(job).or_default();
        // The first run that ends at or after `index`; every run before it ends before.
        let i = runs.partition_point(|&(_, last)| last < index);
        if runs.get(i).is_some_and(|&(first, _)| first <= index) {
            return;
        }
        // Runs before `i` end below `index`, runs from `i` begin above it: no overflow.
        let left = i > 0 && runs[i - 1].1 + 1 == index;
        let right = runs.get(i).is_some_and(|&(first, _)| first - 1 == index);
        match (left, right) {
            (true, true) => {
                runs[i - 1].1 = runs[i].1;
                runs.remove(i);
            }
            (true, false) => runs[i - 1].1 = index,
            (false, true) => runs[i].0 = index,
            (false, false) => runs.insert(i, (index, index)),
        }
    }

    /// How many runs are held, for tests.
    pub fn runs(&self) -> usize {
        self.jobs.values().map(Vec::len).sum()
    }
}

/// A task submitted (and kept by the options) that is not done: its SUBMIT and first
/// SCHEDULE in the file, and what a run knows of it.
#[derive(Debug)]
struct OpenTask {
    submit: u64,
    schedule: Option<u64>,
    /// Its recorded run time, once its end row is read.
    run: Option<SimTime>,
    /// Its pod once it arrived, and when that pod started.
    pod: Option<(PodId, Option<SimTime>)>,
}

/// What a row did to its task.
enum Change {
    /// Nothing a replay sees.
    Nothing,
    /// The task's first SUBMIT: its pod (options applied, no name yet).
    Submitted(TaskKey, TracePod),
    /// The task's end: its recorded run time (after `timeScale`).
    Ended(TaskKey, SimTime),
}

/// The tasks of a Google trace as its rows are read in file order, under the whole
/// load's rules (`apply_google_event`), with the options applied task by task: what the
/// load's scan and each run's reader share.
#[derive(Debug)]
struct GoogleTasks {
    options: TraceOptions,
    scale: MachineScale,
    open: BTreeMap<TaskKey, OpenTask>,
    done: DoneTasks,
    /// The job's name for `sample`: one buffer for every row.
    job: String,
}

impl GoogleTasks {
    fn new(options: TraceOptions, scale: MachineScale) -> GoogleTasks {
        GoogleTasks {
            options,
            scale,
            open: BTreeMap::new(),
            done: DoneTasks::default(),
            job: String::new(),
        }
    }

    /// Folds one row's event into its task.
    fn apply(&mut self, (time, job, index, event, priority, cpu, memory): GoogleEvent) -> Change {
        // An event after the trace window did not happen within it.
        let Some(time) = time else {
            return Change::Nothing;
        };
        let key = (job, index);
        match event {
            0 if !self.open.contains_key(&key) && !self.done.contains(key) => {
                // `sample` keeps or drops every row of a job: checked first, on the job's
                // name (`google_job`), so that the pod needs no name yet.
                if let Some(sample) = self.options.sample {
                    self.job.clear();
                    let _ = write!(self.job, "{job}");
                    if !sampled(&self.job, sample) {
                        return Change::Nothing;
                    }
                }
                let options = TraceOptions {
                    sample: None,
                    ..self.options
                };
                let pod = google_pod(String::new(), (time, priority, cpu, memory), self.scale);
                match options.apply_one(pod, |p| p.name.as_str()) {
                    Some(pod) => {
                        self.open.insert(
                            key,
                            OpenTask {
                                submit: time,
                                schedule: None,
                                run: None,
                                pod: None,
                            },
                        );
                        Change::Submitted(key, pod)
                    }
                    None => {
                        // Submitted before the window: its resubmission within the window
                        // is not a pod either. (After the window, any resubmission is too.)
                        if self.options.window.is_some_and(|(start, _)| time < start) {
                            self.done.insert(key);
                        }
                        Change::Nothing
                    }
                }
            }
            1 => {
                if let Some(t) = self.open.get_mut(&key)
                    && t.schedule.is_none()
                    && t.run.is_none()
                    && time >= t.submit
                {
                    t.schedule = Some(time);
                }
                Change::Nothing
            }
            2..=6 => match self.open.get_mut(&key) {
                Some(t) if t.run.is_none() && time >= t.schedule.unwrap_or(t.submit) => {
                    // `recorded_run_time` of the pod with the options' times.
                    let from = self.options.time(t.schedule.unwrap_or(t.submit));
                    let run = SimTime::from_micros(self.options.time(time).saturating_sub(from));
                    t.run = Some(run);
                    Change::Ended(key, run)
                }
                _ => Change::Nothing,
            },
            _ => Change::Nothing,
        }
    }

    /// Forgets a task that can no longer change a run.
    fn finish(&mut self, key: TaskKey) {
        self.open.remove(&key);
        self.done.insert(key);
    }
}

/// Reads every row of a Google `task_events` trace once, keeping a summary and no pod
/// (see the module docs). `out_of_order` is the first row whose time goes back.
pub fn scan_google_2011(
    path: &Path,
    shown: &str,
    strict: bool,
    options: TraceOptions,
    (scale, look_ahead): (MachineScale, SimTime),
) -> Result<Scan, ScenarioError> {
    let mut rows = RowReader::open(path, shown)?;
    let mut bad = BadRows::new(strict);
    let mut tasks = GoogleTasks::new(options, scale);
    // SUBMIT rows within the trace window: none, and the file lists no pod.
    let (mut submits, mut last_time, mut out_of_order) = (0, 0, None);
    let mut shapes: BTreeMap<GpuTask, u64> = BTreeMap::new();
    let format = StreamedFormat::Google2011 { scale, look_ahead };
    let mut trace = StreamedTrace::empty(path, shown, options, format);
    while let Some((line, row)) = rows.next_row(shown, |line, fields| {
        (line, google_row(shown, line, fields))
    })? {
        let event = match row {
            Ok(event) => event,
            Err(e) => {
                bad.bad(e)?;
                continue;
            }
        };
        if event.3 == 0 && event.0.is_some() {
            submits += 1;
        }
        if let Some(time) = event.0 {
            if time < last_time && out_of_order.is_none() {
                out_of_order = Some(line);
            }
            last_time = last_time.max(time);
        }
        match tasks.apply(event) {
            Change::Submitted(_, pod) => {
                trace.arrival(&pod, &mut shapes);
            }
            Change::Ended(key, run) => {
                trace.ran(run);
                tasks.finish(key);
            }
            Change::Nothing => {}
        }
    }
    trace.shapes = shapes.into_iter().collect();
    Ok(Scan {
        rows: submits,
        skipped: bad.skipped,
        out_of_order,
        trace,
    })
}

/// One run's reader of a streamed Google trace (see the module docs): the rows up to the
/// look-ahead past the run's clock, the pods to arrive, and the ends read of pods that
/// arrived before them.
#[derive(Debug)]
pub struct GoogleStream {
    /// `None` once the file is read to its end or cannot be read any more.
    rows: Option<RowReader>,
    shown: String,
    tasks: GoogleTasks,
    /// The next row, read and not yet applied: the reader stops before it.
    peeked: Option<GoogleEvent>,
    /// Tasks submitted and not arrived, in arrival order, with their pods.
    pending: VecDeque<(TaskKey, TracePod)>,
    /// Arrived pods whose end row is not read yet: their task.
    waiting: BTreeMap<PodId, TaskKey>,
    /// Ends read of arrived pods, for the run to apply: the pod, when it started if it
    /// has, and its recorded run time.
    ended: VecDeque<(PodId, Option<SimTime>, SimTime)>,
    /// The first arrival's time, which arrives at zero.
    first_micros: u64,
    look_ahead: SimTime,
}

impl GoogleStream {
    /// Opens the file of `trace` (a Google one) for one run and reads up to its first
    /// arrival and the look-ahead.
    pub fn open(trace: &StreamedTrace) -> Result<GoogleStream, ScenarioError> {
        let (scale, look_ahead) = match &trace.format {
            StreamedFormat::Google2011 { scale, look_ahead } => (*scale, *look_ahead),
            // Not a Google trace: its rows do not parse, so nothing arrives.
            _ => (
                MachineScale {
                    cpu_milli: 1000,
                    memory_bytes: 1,
                },
                SimTime::ZERO,
            ),
        };
        let mut stream = GoogleStream {
            rows: Some(RowReader::open(&trace.path, &trace.shown)?),
            shown: trace.shown.clone(),
            tasks: GoogleTasks::new(trace.options, scale),
            peeked: None,
            pending: VecDeque::new(),
            waiting: BTreeMap::new(),
            ended: VecDeque::new(),
            first_micros: trace.first_micros,
            look_ahead,
        };
        stream.fill(SimTime::ZERO);
        Ok(stream)
    }

    /// The run's clock at which a row of file time `t` arrives or ends.
    fn clock(&self, t: u64) -> SimTime {
        SimTime::from_micros(self.tasks.options.time(t).saturating_sub(self.first_micros))
    }

    /// Reads the rows up to the look-ahead past `now`, and on to the next arrival.
    pub fn fill(&mut self, now: SimTime) {
        let horizon = now.saturating_add(self.look_ahead);
        loop {
            let Some(event) = self.peeked.take() else {
                let Some(rows) = self.rows.as_mut() else {
                    return;
                };
                match rows.next_row(&self.shown, |line, fields| {
                    google_row(&self.shown, line, fields)
                }) {
                    Ok(Some(Ok(event))) => self.peeked = Some(event),
                    // Counted (or refused) by the load's scan.
                    Ok(Some(Err(_))) => {}
                    Ok(None) | Err(_) => self.rows = None,
                }
                continue;
            };
            if let Some(t) = event.0
                && self.clock(t) > horizon
                && !self.pending.is_empty()
            {
                self.peeked = Some(event);
                return;
            }
            match self.tasks.apply(event) {
                Change::Submitted(key, mut pod) => {
                    pod.name = format!("{}-{}", key.0, key.1);
                    self.pending.push_back((key, pod));
                }
                Change::Ended(key, run) => {
                    // Not arrived yet: it arrives knowing its run time.
                    if let Some(&Some((pod, started))) = self.tasks.open.get(&key).map(|t| &t.pod) {
                        self.waiting.remove(&pod);
                        self.ended.push_back((pod, started, run));
                        self.tasks.finish(key);
                    }
                }
                Change::Nothing => {}
            }
        }
    }

    /// When the next pod arrives on the run's clock; `None` after the last.
    pub fn next_arrival(&self) -> Option<SimTime> {
        let (_, pod) = self.pending.front()?;
        Some(SimTime::from_micros(
            pod.created_micros?.saturating_sub(self.first_micros),
        ))
    }

    /// The pod that arrives next, its task, and its recorded run time when its end row
    /// has been read; call [`GoogleStream::arrived`] once it exists.
    pub fn arrive(&mut self) -> Option<(TaskKey, TracePod, Option<SimTime>)> {
        let (key, pod) = self.pending.pop_front()?;
        let run = self.tasks.open.get(&key).and_then(|t| t.run);
        if run.is_some() {
            self.tasks.finish(key);
        }
        Some((key, pod, run))
    }

    /// The pod of `task`, whose end is not read yet, exists (`None`: admission refused
    /// it).
    pub fn arrived(&mut self, task: TaskKey, pod: Option<PodId>) {
        match pod {
            Some(pod) => {
                if let Some(t) = self.tasks.open.get_mut(&task) {
                    t.pod = Some((pod, None));
                    self.waiting.insert(pod, task);
                }
            }
            None => self.tasks.finish(task),
        }
    }

    /// A pod started at `now`: remembered when its end is still to be read.
    pub fn started(&mut self, pod: PodId, now: SimTime) {
        if let Some(key) = self.waiting.get(&pod)
            && let Some(t) = self.tasks.open.get_mut(key)
        {
            t.pod = Some((pod, Some(now)));
        }
    }

    /// The next end read of an arrived pod: the pod, when it started if it has, and its
    /// recorded run time.
    pub fn next_end(&mut self) -> Option<(PodId, Option<SimTime>, SimTime)> {
        self.ended.pop_front()
    }

    /// When the run should read again: when the next row comes within the look-ahead,
    /// while an arrived pod waits for its end row.
    pub fn next_read(&self) -> Option<SimTime> {
        if self.waiting.is_empty() {
            return None;
        }
        let t = self.peeked.as_ref()?.0?;
        Some(self.clock(t).saturating_sub(self.look_ahead))
    }

    /// The look-ahead, for the run's notice.
    pub fn look_ahead(&self) -> SimTime {
        self.look_ahead
    }

    /// How the errors name the file.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::alibaba_v2018::load_batch_tasks;

    #[test]
    fn colliding_fingerprints_never_drop_a_batch_pod() {
        let dir = std::env::temp_dir().join(format!("schedlab-scan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (t, i) = (dir.join("t.csv"), dir.join("i.csv"));
        std::fs::write(&t, "M1,1,j_1,1,Terminated,1,2,100,1\n").unwrap();
        // b at line 4 and a at line 5 repeat first attempts; line 3 is a retry.
        let rows = ["a", "b", "b2", "b", "a", "c"]
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let seq = if *name == "b2" { 2 } else { 1 };
                let name = &name[..1];
                format!(
                    "{name},M1,j_1,1,Terminated,{},{},m_1,{seq},1,,,,\n",
                    k + 1,
                    k + 9
                )
            })
            .collect::<String>();
        std::fs::write(&i, rows).unwrap();
        let (table, _) = load_batch_tasks(&t, "t.csv", 1 << 30, true).unwrap();
        let tasks = Arc::new(table);
        let how = (true, TraceOptions::default());
        let file = (i.as_path(), "i.csv");
        let names = Fingerprinting {
            fingerprint: stable_hash,
            held: SeenTwice::DEFAULT_LIMIT,
        };
        let real = scan_batch_by(file, Arc::clone(&tasks), how, names).unwrap();
        // Every name the same fingerprint: the second pass holds every name, finds lines
        // 4 and 5 only, and the third counts a, b and c.
        let collide = Fingerprinting {
            fingerprint: |_| 0,
            ..names
        };
        let all_collide = scan_batch_by(file, Arc::clone(&tasks), how, collide).unwrap();
        assert_eq!(real.trace, all_collide.trace);
        // One fingerprint held in memory at a time: a and b are written to disk before
        // they come again, so only the merge of the runs finds them, and the third pass
        // counts a, b and c.
        let on_disk = Fingerprinting { held: 1, ..names };
        let spilled = scan_batch_by(file, Arc::clone(&tasks), how, on_disk).unwrap();
        assert_eq!(real.trace, spilled.trace);
        assert_eq!((real.rows, all_collide.rows, spilled.rows), (3, 3, 3));
        match &real.trace.format {
            StreamedFormat::Alibaba2018Batch { repeated, .. } => assert_eq!(&repeated[..], [4, 5]),
            other => panic!("{other:?}"),
        }
        // From 1 s to 6 s (c at line 6), the longest run 8 s.
        assert_eq!(
            (real.trace.first_micros, real.trace.last_micros),
            (1_000_000, 6_000_000)
        );
        assert_eq!(real.trace.longest, SimTime::from_secs(8));
        let names: Vec<String> = real
            .trace
            .read_all()
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["j_1/M1/a", "j_1/M1/b", "j_1/M1/c"]);
    }

    #[test]
    fn done_tasks_are_a_set_of_runs() {
        let mut done = DoneTasks::default();
        let mut set = std::collections::BTreeSet::new();
        // A fixed permutation of 0..64 for two jobs, plus the extremes.
        let mut x = 7u64;
        for _ in 0..200 {
            x = (x * 37 + 11) % 64;
            let key = (x % 2, x / 2);
            done.insert(key);
            set.insert(key);
            for job in 0..2 {
                for i in 0..34 {
                    assert_eq!(done.contains((job, i)), set.contains(&(job, i)));
                }
            }
        }
        // Indices 0 to 31 of both jobs went in: one run per job.
        assert_eq!(set.len(), 64);
        assert_eq!(done.runs(), 2);
        let mut done = DoneTasks::default();
        for i in (0..10).chain([u64::MAX, 0, u64::MAX - 1]) {
            done.insert((1, i));
        }
        assert_eq!(done.runs(), 2);
        assert!(done.contains((1, u64::MAX)) && done.contains((1, 9)) && !done.contains((1, 10)));
        for i in 10..u64::from(u16::MAX) {
            done.insert((1, i));
        }
        assert_eq!(done.runs(), 2);
    }
}
