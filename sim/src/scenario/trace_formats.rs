//! Trace formats besides the openb GPU trace, and the options every trace workload takes.
//!
//! - `generic-csv`: the format anyone can convert a trace to. A header line, then one pod a
//!   row: `time` (arrival, seconds, decimals allowed), `name`, `cpu` (a Kubernetes CPU
//!   quantity: `2` is two cores, `500m` half a core), `memory` (a Kubernetes quantity:
//!   `512Mi`, `1G`, or plain bytes) are required; `namespace` (empty: `default`),
//!   `duration` (seconds the pod runs once started; empty: until the end), `priority`
//!   (the pod's `spec.priority`, empty: 0), `gpu` (whole GPUs, or a decimal below 1 for a
//!   share of one) and `node_selector` (`k=v;k2=v2`) are optional. Columns go by their
//!   header name, in any order; an unknown column is an error (a misspelt optional column
//!   would otherwise be ignored). Fields are not quoted: a field is what lies between
//!   commas.
//! - `google-2011-task-events`: Google cluster-data 2011 `task_events` files (plain or
//!   gzip, recognised by their first bytes), 13 columns without a header. A task (job ID
//!   and task index) becomes the pod `<job>-<index>`: it arrives at its first SUBMIT
//!   (event 0), and once started runs for as long as the trace ran it, from its first
//!   SCHEDULE (1) to the first EVICT, FAIL, FINISH, KILL or LOST (2-6) after it (from the
//!   SUBMIT when the trace ended it before scheduling it); with no end in the file it runs
//!   until the end. Its CPU and memory requests are the SUBMIT's, normalized to the
//!   largest machine and multiplied by `machineScale` (what 1.0 is); its priority (0-11)
//!   becomes the pod's priority unchanged, so production tasks (9-11) preempt free ones
//!   (0-1) as they did at Google. Only the first submission of a task is replayed (a
//!   resubmission after an eviction is not a new pod), UPDATE events (7, 8) are ignored,
//!   and tasks without a SUBMIT in the file (submitted before it begins) are not
//!   replayed. Time 0 (before the trace window) is read as 0; 2^63-1 (after it) as an
//!   event that did not happen. A recorded replay streams by default
//!   ([`super::trace_stream`], with a look-ahead for the end events); [`load_google_2011`]
//!   reads the whole file for `stream: false`, shuffled replays and files out of time
//!   order.
//!
//! A row that cannot be read is skipped and counted ([`Skipped`]), or with `strict` is an
//! error naming the file, the line and the column.

use std::io::{BufRead, BufReader};
use std::path::Path;

use schedulers::gpu::{GPU_MILLI, GpuRequest, MAX_GPUS_PER_NODE};
use schedulers::quantity::{parse_bytes, parse_cpu_millis};

use super::ScenarioError;
use super::gpu_trace::{MAX_TRACE_SECS, TracePod};

/// `format: generic-csv`.
pub const FORMAT_GENERIC_CSV: &str = "generic-csv";
/// `format: google-2011-task-events`.
pub const FORMAT_GOOGLE_2011: &str = "google-2011-task-events";

/// The columns of a generic CSV trace: required first.
pub const GENERIC_COLUMNS: &[&str] = &[
    "time",
    "name",
    "cpu",
    "memory",
    "namespace",
    "duration",
    "priority",
    "gpu",
    "node_selector",
];
/// How many of [`GENERIC_COLUMNS`] are required.
const GENERIC_REQUIRED: usize = 4;

/// The names of the 13 columns of Google's `task_events`, as its `schema.csv` spells them.
pub const GOOGLE_COLUMNS: [&str; 13] = [
    "time",
    "missing info",
    "job ID",
    "task index",
    "machine ID",
    "event type",
    "user",
    "scheduling class",
    "priority",
    "CPU request",
    "memory request",
    "disk space request",
    "different machines restriction",
];

/// Google's timestamp for an event after the trace window.
const GOOGLE_AFTER_WINDOW: u64 = i64::MAX as u64;

/// What 1.0 means in a trace normalized to its largest machine (`machineScale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineScale {
    /// CPU millicores of the largest machine.
    pub cpu_milli: i64,
    /// Memory bytes of the largest machine.
    pub memory_bytes: i64,
}

/// The rows a lenient load skipped: how many, and the first one's error.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// Rows skipped.
    pub count: u64,
    /// Why the first was.
    pub first: ScenarioError,
}

impl Skipped {
    /// The warning a run prints once: `trace.csv: 3 rows skipped, first at line 17: ...`.
    pub fn warning(&self) -> String {
        let e = &self.first;
        let rows = if self.count == 1 { "row" } else { "rows" };
        let mut at = format!("line {}", e.line.unwrap_or(0));
        if let Some(c) = e.column {
            at.push_str(&format!(", column {c}"));
        }
        let field = e
            .field
            .as_deref()
            .map_or(String::new(), |f| format!("{f}: "));
        format!(
            "{}: {} {rows} skipped, first at {at}: {field}{}",
            e.path, self.count, e.message
        )
    }
}

/// The pods read from a trace file, and the rows skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The pods, in order of arrival in the file.
    pub pods: Vec<TracePod>,
    /// Rows that could not be read, when any was skipped.
    pub skipped: Option<Skipped>,
}

/// Bad rows: an error on the first with `strict`, else counted.
pub(super) struct BadRows {
    strict: bool,
    pub(super) skipped: Option<Skipped>,
}

impl BadRows {
    pub(super) fn new(strict: bool) -> BadRows {
        BadRows {
            strict,
            skipped: None,
        }
    }

    /// A row that cannot be read: `Err` when strict.
    pub(super) fn bad(&mut self, e: ScenarioError) -> Result<(), ScenarioError> {
        if self.strict {
            return Err(e);
        }
        match &mut self.skipped {
            Some(s) => s.count += 1,
            None => self.skipped = Some(Skipped { count: 1, first: e }),
        }
        Ok(())
    }
}

/// An error about the whole file.
pub(crate) fn file_err(shown: &str, message: String) -> ScenarioError {
    ScenarioError {
        path: shown.to_owned(),
        line: None,
        column: None,
        field: None,
        message,
    }
}

/// An error at a field of a row.
pub(super) fn row_err(
    shown: &str,
    line: usize,
    column: usize,
    field: &str,
    message: String,
) -> ScenarioError {
    ScenarioError {
        path: shown.to_owned(),
        line: Some(line as u64),
        column: (column > 0).then_some(column as u64),
        field: (!field.is_empty()).then(|| field.to_owned()),
        message,
    }
}

/// The error for a row of the wrong width: `the row has N fields; a TABLE row has M`.
pub(super) fn width_err(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
    table: &str,
    want: usize,
) -> ScenarioError {
    let end = fields.last().map_or(1, |(c, t)| c + t.chars().count());
    row_err(
        shown,
        line,
        end,
        "",
        format!(
            "the row has {} fields; a {table} row has {want}",
            fields.len()
        ),
    )
}

/// The error for column `k` of a row: `expected WHAT, got "..."`, named by `columns[k]`.
pub(super) fn field_err(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
    columns: &[&str],
    k: usize,
    what: &str,
) -> ScenarioError {
    let (c, text) = fields[k];
    row_err(
        shown,
        line,
        c,
        columns[k],
        format!("expected {what}, got {text:?}"),
    )
}

/// The file's lines, through gzip when it starts with gzip's magic bytes.
fn open_lines(path: &Path, shown: &str) -> Result<Box<dyn BufRead + Send>, ScenarioError> {
    let cannot = |e: std::io::Error| file_err(shown, format!("cannot read the trace file: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut reader = BufReader::new(file);
    let gzip = reader
        .fill_buf()
        .map_err(cannot)?
        .starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
    } else {
        Box::new(reader)
    })
}

/// A trace file read one row at a time: what both a whole load and a streamed replay
/// read through, so both see the same rows with the same line numbers.
pub(crate) struct RowReader {
    lines: Box<dyn BufRead + Send>,
    text: String,
    number: usize,
    /// One fields buffer for the whole file: a fresh one per row cost an allocation a row.
    spare: Vec<(usize, &'static str)>,
}

impl std::fmt::Debug for RowReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowReader")
            .field("line", &self.number)
            .finish_non_exhaustive()
    }
}

impl RowReader {
    /// Opens `path` (`shown` names it in errors).
    pub(crate) fn open(path: &Path, shown: &str) -> Result<RowReader, ScenarioError> {
        Ok(RowReader {
            lines: open_lines(path, shown)?,
            text: String::new(),
            number: 0,
            spare: Vec::with_capacity(16),
        })
    }

    /// Calls `row` with the next non-blank line's 1-based number and its fields, each
    /// with its 1-based column in characters; `None` at the end of the file.
    pub(crate) fn next_row<R>(
        &mut self,
        shown: &str,
        row: impl FnOnce(usize, &[(usize, &str)]) -> R,
    ) -> Result<Option<R>, ScenarioError> {
        loop {
            self.text.clear();
            let n = self.lines.read_line(&mut self.text).map_err(|e| {
                file_err(
                    shown,
                    format!("cannot read the trace file after line {}: {e}", self.number),
                )
            })?;
            if n == 0 {
                return Ok(None);
            }
            self.number += 1;
            let line = self.text.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                continue;
            }
            let mut fields = recycle(std::mem::take(&mut self.spare));
            let mut column = 1;
            for f in line.split(',') {
                fields.push((column, f.trim()));
                column += if f.is_ascii() {
                    f.len()
                } else {
                    f.chars().count()
                } + 1;
            }
            let r = row(self.number, &fields);
            self.spare = recycle(fields);
            return Ok(Some(r));
        }
    }
}

/// Calls `row` with each non-blank line's 1-based number and its fields, each with its
/// 1-based column in characters.
pub(super) fn each_row(
    path: &Path,
    shown: &str,
    mut row: impl FnMut(usize, &[(usize, &str)]) -> Result<(), ScenarioError>,
) -> Result<(), ScenarioError> {
    let mut rows = RowReader::open(path, shown)?;
    while let Some(r) = rows.next_row(shown, &mut row)? {
        r?;
    }
    Ok(())
}

/// A table's row parser: what a [`ParsedRows`] reader makes of each row (typically its
/// pod, or the row's error to skip or stop at).
pub(crate) trait RowParser {
    /// What a row becomes.
    type Row;

    /// Parses the row at `line` of the file errors name `shown`; `fields` as
    /// [`RowReader::next_row`] gives them.
    fn parse(&self, shown: &str, line: usize, fields: &[(usize, &str)]) -> Self::Row;
}

/// A trace file read one row at a time through its table's parser: what a whole load, a
/// streamed replay's load-time scan and each of its runs read through, so that all of
/// them see the same rows, line numbers and bad rows. One reader for every table that is
/// a row per record (generic CSV, openb pods, Alibaba v2018 `batch_instance` and
/// `container_meta`); only the parser differs.
#[derive(Debug)]
pub(crate) struct ParsedRows<P> {
    rows: RowReader,
    shown: String,
    parser: P,
}

impl<P: RowParser> ParsedRows<P> {
    /// Opens `path` (`shown` names it in errors), a file without a header.
    pub(crate) fn open(
        path: &Path,
        shown: &str,
        parser: P,
    ) -> Result<ParsedRows<P>, ScenarioError> {
        Ok(ParsedRows::new(
            RowReader::open(path, shown)?,
            shown,
            parser,
        ))
    }

    /// Reads on from `rows` (past a header its caller read to build `parser`).
    pub(crate) fn new(rows: RowReader, shown: &str, parser: P) -> ParsedRows<P> {
        ParsedRows {
            rows,
            shown: shown.to_owned(),
            parser,
        }
    }

    /// The next non-blank row's line and what the parser made of it; `None` at the end of
    /// the file, `Err` when the file cannot be read.
    pub(crate) fn next_row(&mut self) -> Result<Option<(usize, P::Row)>, ScenarioError> {
        let ParsedRows {
            rows,
            shown,
            parser,
        } = self;
        rows.next_row(shown, |line, fields| {
            (line, parser.parse(shown, line, fields))
        })
    }
}

/// `v`'s allocation, emptied, for fields borrowing another line: the borrow checker
/// cannot see that an empty buffer holds no borrow, so the buffer is rebuilt in place,
/// which the standard library does without allocating (elements of the same layout).
fn recycle<'b>(mut v: Vec<(usize, &str)>) -> Vec<(usize, &'b str)> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the buffer was cleared"))
        .collect()
}

/// A time in seconds with up to six decimals, in microseconds.
pub fn parse_secs(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if whole > MAX_TRACE_SECS {
        return None;
    }
    // Digits only and at most six of them (checked above), so no overflow; padding with
    // zeros to six digits without formatting a string.
    let frac = frac.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'))
        * 10u64.pow(6 - frac.len() as u32);
    Some(whole * 1_000_000 + frac)
}

/// Where each of [`GENERIC_COLUMNS`] is in a generic CSV trace's rows, from its header.
#[derive(Debug, Clone)]
pub(crate) struct GenericHeader {
    cols: Vec<Option<usize>>,
    width: usize,
}

/// Reads a generic CSV trace's header line.
fn generic_header(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
) -> Result<GenericHeader, ScenarioError> {
    let mut cols = vec![None; GENERIC_COLUMNS.len()];
    for (i, (c, name)) in fields.iter().enumerate() {
        match GENERIC_COLUMNS.iter().position(|k| k == name) {
            Some(k) if cols[k].is_none() => cols[k] = Some(i),
            Some(_) => {
                return Err(row_err(
                    shown,
                    line,
                    *c,
                    name,
                    format!("the header names column {name:?} twice"),
                ));
            }
            None => {
                return Err(row_err(
                    shown,
                    line,
                    *c,
                    name,
                    format!(
                        "unknown column {name:?}; a generic CSV trace has the columns {}",
                        GENERIC_COLUMNS.join(", ")
                    ),
                ));
            }
        }
    }
    if let Some(k) = (0..GENERIC_REQUIRED).find(|&k| cols[k].is_none()) {
        return Err(row_err(
            shown,
            line,
            0,
            GENERIC_COLUMNS[k],
            format!(
                "the header lacks the column {:?}; time, name, cpu and memory are required",
                GENERIC_COLUMNS[k]
            ),
        ));
    }
    Ok(GenericHeader {
        cols,
        width: fields.len(),
    })
}

/// A generic CSV trace's row parser: its header's columns, each row a pod or its error.
impl RowParser for GenericHeader {
    type Row = Result<TracePod, ScenarioError>;

    fn parse(&self, shown: &str, line: usize, fields: &[(usize, &str)]) -> Self::Row {
        generic_row(shown, line, fields, &self.cols, self.width)
    }
}

/// Opens a generic CSV trace and reads its header (an error when it has none or a bad
/// one): the rows that follow, one pod at a time in file order, are what the whole load
/// and the streamed replay ([`super::trace_stream`]) both read.
pub(crate) fn open_generic_csv(
    path: &Path,
    shown: &str,
) -> Result<ParsedRows<GenericHeader>, ScenarioError> {
    let mut rows = RowReader::open(path, shown)?;
    let header = rows
        .next_row(shown, |line, fields| generic_header(shown, line, fields))?
        .unwrap_or_else(|| {
            Err(row_err(
                shown,
                1,
                0,
                "",
                "the trace file is empty; expected a header line naming the columns time, \
                 name, cpu and memory"
                    .into(),
            ))
        })?;
    Ok(ParsedRows::new(rows, shown, header))
}

/// Reads a generic CSV trace (see the module docs).
pub fn load_generic_csv(path: &Path, shown: &str, strict: bool) -> Result<Loaded, ScenarioError> {
    let mut rows = open_generic_csv(path, shown)?;
    let mut pods = Vec::new();
    let mut bad = BadRows::new(strict);
    while let Some((_, row)) = rows.next_row()? {
        match row {
            Ok(pod) => pods.push(pod),
            Err(e) => bad.bad(e)?,
        }
    }
    Ok(Loaded {
        pods,
        skipped: bad.skipped,
    })
}

/// One row of a generic CSV trace.
fn generic_row(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
    cols: &[Option<usize>],
    width: usize,
) -> Result<TracePod, ScenarioError> {
    if fields.len() != width {
        let end = fields.last().map_or(1, |(c, t)| c + t.chars().count());
        return Err(row_err(
            shown,
            line,
            end,
            "",
            format!(
                "the row has {} fields but the header names {width}",
                fields.len()
            ),
        ));
    }
    // (column, text) of known column `k`, empty when the header lacks it.
    let get = |k: usize| cols[k].map_or((0, ""), |i| fields[i]);
    let err =
        |k: usize, message: String| row_err(shown, line, get(k).0, GENERIC_COLUMNS[k], message);
    let (_, time) = get(0);
    let created = parse_secs(time).ok_or_else(|| {
        err(
            0,
            format!(
                "expected the arrival time in seconds (decimals allowed) from 0 to \
                 {MAX_TRACE_SECS}, got {time:?}"
            ),
        )
    })?;
    let (_, name) = get(1);
    if name.is_empty() {
        return Err(err(1, "expected a pod name".into()));
    }
    let (_, cpu) = get(2);
    let cpu_milli = parse_cpu_millis(cpu)
        .ok()
        .filter(|&m| m >= 0)
        .ok_or_else(|| {
            err(
                2,
                format!("expected a CPU quantity such as 2 (cores) or 500m, got {cpu:?}"),
            )
        })?;
    let (_, memory) = get(3);
    let memory_bytes = parse_bytes(memory)
        .ok()
        .filter(|&b| b >= 0)
        .ok_or_else(|| {
            err(
                3,
                format!("expected a memory quantity such as 512Mi, 1G or bytes, got {memory:?}"),
            )
        })?;
    let (_, namespace) = get(4);
    let (_, duration) = get(5);
    let deleted = if duration.is_empty() {
        None
    } else {
        let d = parse_secs(duration).ok_or_else(|| {
            err(
                5,
                format!(
                    "expected how long the pod runs, in seconds (decimals allowed), or \
                     nothing for until the end, got {duration:?}"
                ),
            )
        })?;
        Some(created + d)
    };
    let (_, priority) = get(6);
    let priority = if priority.is_empty() {
        0
    } else {
        priority.parse::<i32>().map_err(|_| {
            err(
                6,
                format!("expected a pod priority (an integer), got {priority:?}"),
            )
        })?
    };
    let (_, gpu) = get(7);
    let gpu = generic_gpu(gpu).ok_or_else(|| {
        err(
            7,
            format!(
                "expected whole GPUs from 0 to {MAX_GPUS_PER_NODE}, or a share of one GPU \
                 such as 0.5, got {gpu:?}"
            ),
        )
    })?;
    let (_, selector) = get(8);
    let mut node_selector = schedulers::Labels::default();
    for pair in selector.split(';').filter(|p| !p.trim().is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                node_selector.insert(k.trim().into(), v.trim().into());
            }
            _ => {
                return Err(err(
                    8,
                    format!("expected key=value pairs separated by ';', got {pair:?}"),
                ));
            }
        }
    }
    Ok(TracePod {
        name: name.to_owned(),
        cpu_milli,
        memory_bytes,
        gpu,
        created_micros: Some(created),
        scheduled_micros: None,
        deleted_micros: deleted,
        namespace: namespace.to_owned(),
        priority,
        node_selector,
        labels: Default::default(),
    })
}

/// A generic trace's `gpu`: empty or whole GPUs, or a decimal below 1 for a share.
fn generic_gpu(text: &str) -> Option<GpuRequest> {
    if text.is_empty() {
        return Some(GpuRequest::default());
    }
    if let Ok(n) = text.parse::<u32>() {
        return (n <= MAX_GPUS_PER_NODE).then(|| GpuRequest {
            count: n,
            milli: if n == 0 { 0 } else { GPU_MILLI },
            models: Vec::new(),
        });
    }
    let x: f64 = text.parse().ok()?;
    let milli = (x * f64::from(GPU_MILLI)).round();
    (x > 0.0 && milli >= 1.0 && milli < f64::from(GPU_MILLI))
        .then(|| GpuRequest::share(milli as u32))
}

/// One task of a Google trace, as its events so far tell it.
struct GoogleTask {
    job: u64,
    index: u64,
    submit: u64,
    schedule: Option<u64>,
    end: Option<u64>,
    priority: i32,
    cpu: f64,
    memory: f64,
}

/// Reads a Google cluster-data 2011 `task_events` file (see the module docs).
pub fn load_google_2011(
    path: &Path,
    shown: &str,
    scale: MachineScale,
    strict: bool,
) -> Result<Loaded, ScenarioError> {
    let mut tasks: Vec<GoogleTask> = Vec::new();
    // Ordered map: nothing here depends on hash order.
    let mut index: std::collections::BTreeMap<(u64, u64), usize> = Default::default();
    let mut bad = BadRows::new(strict);
    each_row(path, shown, |line, fields| {
        match google_row(shown, line, fields) {
            Ok(ev) => apply_google_event(ev, &mut tasks, &mut index),
            Err(e) => bad.bad(e)?,
        }
        Ok(())
    })?;
    let pods = tasks
        .into_iter()
        .map(|t| TracePod {
            scheduled_micros: t.schedule,
            deleted_micros: t.end,
            ..google_pod(
                format!("{}-{}", t.job, t.index),
                (t.submit, t.priority, t.cpu, t.memory),
                scale,
            )
        })
        .collect();
    Ok(Loaded {
        pods,
        skipped: bad.skipped,
    })
}

/// The pod of a Google task named `name` submitted as `(time, priority, CPU, memory)`
/// (shares of the largest machine), before its schedule and end are known.
pub(crate) fn google_pod(
    name: String,
    (submit, priority, cpu, memory): (u64, i32, f64, f64),
    scale: MachineScale,
) -> TracePod {
    TracePod {
        name,
        cpu_milli: (cpu * scale.cpu_milli as f64).round() as i64,
        memory_bytes: (memory * scale.memory_bytes as f64).round() as i64,
        gpu: GpuRequest::default(),
        created_micros: Some(submit),
        scheduled_micros: None,
        deleted_micros: None,
        namespace: String::new(),
        priority,
        node_selector: Default::default(),
        labels: Default::default(),
    }
}

/// One event of a Google trace: (time, job, task index, event type, priority, CPU, memory);
/// time `None` after the trace window.
pub(crate) type GoogleEvent = (Option<u64>, u64, u64, u8, i32, f64, f64);

/// Reads one `task_events` row.
pub(crate) fn google_row(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
) -> Result<GoogleEvent, ScenarioError> {
    if fields.len() != GOOGLE_COLUMNS.len() {
        return Err(width_err(
            shown,
            line,
            fields,
            "task_events",
            GOOGLE_COLUMNS.len(),
        ));
    }
    let err = |k: usize, what: &str| field_err(shown, line, fields, &GOOGLE_COLUMNS, k, what);
    let int = |k: usize, max: u64, what: &str| {
        fields[k]
            .1
            .parse::<u64>()
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| err(k, what))
    };
    let time = int(0, GOOGLE_AFTER_WINDOW, "a time in microseconds")?;
    let job = int(2, u64::MAX, "a job ID")?;
    let task = int(3, u64::MAX, "a task index")?;
    let event = int(5, 8, "an event type from 0 to 8")? as u8;
    let priority = int(8, 11, "a priority from 0 to 11")? as i32;
    let share = |k: usize| {
        let text = fields[k].1;
        if text.is_empty() {
            return Ok(0.0);
        }
        text.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && (0.0..=1.0).contains(x))
            .ok_or_else(|| err(k, "a share of the largest machine from 0 to 1, or nothing"))
    };
    let (cpu, memory) = (share(9)?, share(10)?);
    let time = (time != GOOGLE_AFTER_WINDOW).then_some(time);
    Ok((time, job, task, event, priority, cpu, memory))
}

/// Folds one event into its task (see the module docs for what counts).
fn apply_google_event(
    (time, job, task, event, priority, cpu, memory): GoogleEvent,
    tasks: &mut Vec<GoogleTask>,
    index: &mut std::collections::BTreeMap<(u64, u64), usize>,
) {
    // An event after the trace window did not happen within it.
    let Some(time) = time else { return };
    match (event, index.get(&(job, task))) {
        (0, None) => {
            index.insert((job, task), tasks.len());
            tasks.push(GoogleTask {
                job,
                index: task,
                submit: time,
                schedule: None,
                end: None,
                priority,
                cpu,
                memory,
            });
        }
        (1, Some(&i)) => {
            let t = &mut tasks[i];
            if t.schedule.is_none() && t.end.is_none() && time >= t.submit {
                t.schedule = Some(time);
            }
        }
        (2..=6, Some(&i)) => {
            let t = &mut tasks[i];
            if t.end.is_none() && time >= t.schedule.unwrap_or(t.submit) {
                t.end = Some(time);
            }
        }
        _ => {}
    }
}

/// The options of any trace workload, applied in this order to the pods read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TraceOptions {
    /// `window`: only pods arriving in `[start, end)`, in microseconds of trace time, with
    /// every time shifted back by `start`.
    pub window: Option<(u64, Option<u64>)>,
    /// `sample`: the fraction of jobs kept, chosen by a hash of the job's name.
    pub sample: Option<f64>,
    /// `timeScale`: every time (so every duration) multiplied.
    pub time_scale: Option<f64>,
    /// `sizeScale`: CPU and memory requests multiplied (GPUs are not).
    pub size_scale: Option<f64>,
}

/// FNV-1a, 64 bits: a stable hash (unlike std's, the same in every build and run).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// MurmurHash3's 64-bit finalizer: FNV-1a alone barely moves its high bits when names
/// differ in their last character (`job1`, `job2`), and `sample` compares high bits.
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A stable 64-bit hash of `text` (the same in every build and run): `sample`'s, and the
/// fingerprint a streamed Alibaba batch scan finds repeated instances by.
pub(crate) fn stable_hash(text: &str) -> u64 {
    mix(fnv1a(text))
}

/// Whether `sample` keeps the job named `job`: the same answer in every run.
pub fn sampled(job: &str, sample: f64) -> bool {
    (mix(fnv1a(job)) as f64) < sample * u64::MAX as f64
}

impl TraceOptions {
    /// A time of the file shifted back by `window`'s start (0 before it).
    fn shift(&self, t: u64) -> u64 {
        self.window.map_or(t, |(start, _)| t.saturating_sub(start))
    }

    /// A shifted time multiplied by `timeScale`.
    fn scale_time(&self, t: u64) -> u64 {
        self.time_scale.map_or(t, |k| (t as f64 * k).round() as u64)
    }

    /// A time of the file as the replay sees it: shifted by `window`, then scaled by
    /// `timeScale`, as [`TraceOptions::apply_one`] does to a pod's times.
    pub fn time(&self, t: u64) -> u64 {
        self.scale_time(self.shift(t))
    }

    /// Applies the options to `pods`; `job_of` names the job a pod belongs to, which
    /// `sample` keeps or drops whole.
    pub fn apply(&self, pods: Vec<TracePod>, job_of: impl Fn(&TracePod) -> &str) -> Vec<TracePod> {
        pods.into_iter()
            .filter_map(|p| self.apply_one(p, &job_of))
            .collect()
    }

    /// Applies the options to one pod: `None` when `window` or `sample` drops it. Each
    /// option looks at the pod alone, so a streamed replay applies them row by row.
    pub fn apply_one(
        &self,
        mut p: TracePod,
        job_of: impl Fn(&TracePod) -> &str,
    ) -> Option<TracePod> {
        if let Some((start, end)) = self.window {
            if !p
                .created_micros
                .is_some_and(|t| t >= start && end.is_none_or(|e| t < e))
            {
                return None;
            }
            for t in [
                &mut p.created_micros,
                &mut p.scheduled_micros,
                &mut p.deleted_micros,
            ]
            .into_iter()
            .flatten()
            {
                *t = self.shift(*t);
            }
        }
        if let Some(sample) = self.sample
            && !sampled(job_of(&p), sample)
        {
            return None;
        }
        if self.time_scale.is_some() {
            let scale = |t: u64| self.scale_time(t);
            p.created_micros = p.created_micros.map(scale);
            p.scheduled_micros = p.scheduled_micros.map(scale);
            p.deleted_micros = p.deleted_micros.map(scale);
        }
        if let Some(k) = self.size_scale {
            p.cpu_milli = (p.cpu_milli as f64 * k).round() as i64;
            p.memory_bytes = (p.memory_bytes as f64 * k).round() as i64;
        }
        Some(p)
    }
}

/// The job a Google pod (`<job>-<index>`) belongs to.
pub fn google_job(p: &TracePod) -> &str {
    p.name.rsplit_once('-').map_or(p.name.as_str(), |(j, _)| j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_with_decimals_are_exact_microseconds() {
        assert_eq!(parse_secs("0"), Some(0));
        assert_eq!(parse_secs("1.5"), Some(1_500_000));
        assert_eq!(parse_secs("2.000001"), Some(2_000_001));
        assert_eq!(parse_secs(".25"), Some(250_000));
        assert_eq!(parse_secs("3."), Some(3_000_000));
        for bad in ["", ".", "-1", "1.0000001", "1e3", "x", "1.2.3"] {
            assert_eq!(parse_secs(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_hash_is_stable() {
        // FNV-1a's published test vectors.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
