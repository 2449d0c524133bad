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
//! Google's `task_events` and the other formats still load whole: a Google task's
//! duration is known only at its end event, later in the file than its SUBMIT.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schedulers::cluster::GpuTask;

use super::ScenarioError;
use super::gpu_trace::TracePod;
use super::trace_formats::{BadRows, GenericCsvReader, Skipped, TraceOptions};
use crate::controllers::workloads::recorded_run_time;
use crate::time::SimTime;

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
        let mut stream = TraceStream::open(self)?;
        Ok(std::iter::from_fn(|| stream.next_pod()).collect())
    }
}

/// What the load-time scan of a generic CSV trace found.
#[derive(Debug)]
pub struct Scan {
    /// Rows read (before `window` and `sample`).
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
    let mut reader = GenericCsvReader::open(path, shown)?;
    let mut bad = BadRows::new(strict);
    let mut rows = 0;
    let mut out_of_order = None;
    let mut shapes: BTreeMap<GpuTask, u64> = BTreeMap::new();
    let mut trace = StreamedTrace {
        path: path.to_owned(),
        shown: shown.to_owned(),
        options,
        pods: 0,
        first_micros: 0,
        last_micros: 0,
        longest: SimTime::ZERO,
        shapes: Vec::new(),
    };
    while let Some(row) = reader.next_pod()? {
        let pod = match row {
            Ok(pod) => pod,
            Err(e) => {
                bad.bad(e)?;
                continue;
            }
        };
        rows += 1;
        let Some(pod) = options.apply_one(pod, |p| p.name.as_str()) else {
            continue;
        };
        // A generic row always has its time.
        let created = pod.created_micros.unwrap_or(0);
        if trace.pods == 0 {
            trace.first_micros = created;
        } else if created < trace.last_micros && out_of_order.is_none() {
            out_of_order = Some(reader.line());
        }
        trace.pods += 1;
        trace.last_micros = trace.last_micros.max(created);
        let run = recorded_run_time(&pod);
        if run < SimTime::MAX {
            trace.longest = trace.longest.max(run);
        }
        *shapes
            .entry(GpuTask {
                cpu_milli: pod.cpu_milli,
                gpu: pod.gpu,
            })
            .or_default() += 1;
    }
    trace.shapes = shapes.into_iter().collect();
    Ok(Scan {
        rows,
        skipped: bad.skipped,
        out_of_order,
        trace,
    })
}

/// One run's reader of a streamed trace: the pods in arrival order, one at a time.
#[derive(Debug)]
pub struct TraceStream {
    /// `None` once the file is read to its end or cannot be read any more.
    reader: Option<GenericCsvReader>,
    options: TraceOptions,
}

impl TraceStream {
    /// Opens the file of `trace` for one run.
    pub fn open(trace: &StreamedTrace) -> Result<TraceStream, ScenarioError> {
        Ok(TraceStream {
            reader: Some(GenericCsvReader::open(&trace.path, &trace.shown)?),
            options: trace.options,
        })
    }

    /// The next pod to arrive, with the options applied; `None` after the last.
    pub fn next_pod(&mut self) -> Option<TracePod> {
        loop {
            let reader = self.reader.as_mut()?;
            match reader.next_pod() {
                Ok(Some(Ok(pod))) => {
                    if let Some(pod) = self.options.apply_one(pod, |p| p.name.as_str()) {
                        return Some(pod);
                    }
                }
                // Counted (or refused) by the load's scan.
                Ok(Some(Err(_))) => {}
                Ok(None) | Err(_) => self.reader = None,
            }
        }
    }
}
