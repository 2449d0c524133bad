//! Alibaba cluster-trace-v2018's pod tables as trace workloads (the machines come from
//! `machine_meta` through `cluster.machines`, in `machine_traces`). Both tables are CSV
//! without a header, their columns as `schema.txt` lists them; times are seconds from the
//! trace's start, where 0 (and, as the trace's notes say of a few rows, a negative time)
//! means before it; memory is normalized to 0-100, 100 being `machineScale.memory`; CPU
//! is in hundredths of a core.
//!
//! - `alibaba-2018-batch-instance`: `batch_instance` rows, each the attempt of one
//!   instance of a task of a job, with `batch_task` for the requests (an instance has
//!   none of its own: `plan_cpu` / 100 cores and `plan_mem` / 100 of `machineScale.memory`
//!   of its task). An instance becomes the pod `<job>/<task>/<instance>` with the label
//!   `batch.kubernetes.io/job-name` (as a Kubernetes Job labels its pods), arriving at its
//!   `start_time` and running until its `end_time` (0: until the end). Its status is not
//!   read: Terminated, Failed, Interrupted and Cancelled instances replay as they ran,
//!   Running ones (no end) until the end. Simplified: the trace records when an instance
//!   started, not when it was submitted, and the DAG between tasks is not followed (the
//!   times already order the tasks); `machine_id` and the usage columns are not read.
//!   Only an instance's first attempt (`seq_no` 1) is a pod, as with Google's
//!   resubmissions; a repeated first attempt of the same instance is not replayed again.
//!   An instance that neither started nor ended in the trace (both times 0) is not
//!   replayed. An instance whose task `batch_task` lacks is a bad row, as is one ending
//!   before it starts. A `batch_task` row naming a task again is a bad row of that file.
//! - `alibaba-2018-container-meta`: `container_meta` rows, snapshots of the online
//!   services' containers. A container becomes the pod named by its ID at its earliest
//!   `time_stamp` (file order among equal times), with that row's `cpu_request` / 100
//!   cores and `mem_size` / 100 of `machineScale.memory`, and its `app_du` as the label
//!   `app`, so that spread and anti-affinity can key on the deploy unit. It runs until the
//!   end: the later rows of a container (status changes, resizes) are not replayed, and
//!   nor are `machine_id`, `status` and `cpu_limit`.
//!
//! A row that cannot be read is skipped and counted, or with `strict` is an error naming
//! the file, the line and the column, as for the other trace formats.
//!
//! A recorded replay of either table streams when its file is in time order
//! (`batch_instance` by `start_time`, column 6; `container_meta` by `time_stamp`, column
//! 3), through the same row reader ([`ParsedRows`] with [`BatchInstances`] or
//! [`ContainerMeta`]) and rules; see [`super::trace_stream`]. `batch_task` ([`BatchTasks`]) is read whole in both modes:
//! it is the requests' lookup, a row per task. The seen-sets above become, in a stream,
//! the lines of the repeated first attempts and of each container's first row, found by
//! the load's scan.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use schedulers::Labels;

use super::ScenarioError;
use super::gpu_trace::{MAX_TRACE_SECS, TracePod};
use super::trace_formats::{
    BadRows, Loaded, ParsedRows, RowParser, Skipped, each_row, field_err, row_err, width_err,
};

/// `format: alibaba-2018-batch-instance`.
pub const FORMAT_ALIBABA_2018_BATCH: &str = "alibaba-2018-batch-instance";
/// `format: alibaba-2018-container-meta`.
pub const FORMAT_ALIBABA_2018_CONTAINERS: &str = "alibaba-2018-container-meta";

/// The columns of `batch_task`, as `schema.txt` spells them.
pub const TASK_COLUMNS: [&str; 9] = [
    "task_name",
    "instance_num",
    "job_name",
    "task_type",
    "status",
    "start_time",
    "end_time",
    "plan_cpu",
    "plan_mem",
];
/// The columns of `batch_instance`, as `schema.txt` spells them.
pub const INSTANCE_COLUMNS: [&str; 14] = [
    "instance_name",
    "task_name",
    "job_name",
    "task_type",
    "status",
    "start_time",
    "end_time",
    "machine_id",
    "seq_no",
    "total_seq_no",
    "cpu_avg",
    "cpu_max",
    "mem_avg",
    "mem_max",
];
/// The columns of `container_meta`, as `schema.txt` spells them.
pub const CONTAINER_COLUMNS: [&str; 8] = [
    "container_id",
    "machine_id",
    "time_stamp",
    "app_du",
    "status",
    "cpu_request",
    "cpu_limit",
    "mem_size",
];

/// The label naming a batch instance's job, as the Kubernetes Job controller sets it.
pub const JOB_LABEL: &str = "batch.kubernetes.io/job-name";
/// The label carrying a container's deploy unit (`app_du`).
pub const APP_LABEL: &str = "app";

/// The most CPU a row may ask, in hundredths of a core (a million cores): a typo'd
/// request is a bad row, not a pod no cluster holds.
const MAX_CPU_HUNDREDTHS: f64 = 1e8;

/// A time in whole seconds, in microseconds; negative (before the trace) reads as 0.
fn secs(text: &str) -> Option<u64> {
    let t: i64 = text.parse().ok()?;
    let t = u64::try_from(t).unwrap_or(0);
    (t <= MAX_TRACE_SECS).then_some(t * 1_000_000)
}

/// A number from 0 to `max`.
fn number(text: &str, max: f64) -> Option<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && (0.0..=max).contains(x))
}

/// Hundredths of a core in millicores.
fn cpu_milli(hundredths: f64) -> i64 {
    (hundredths * 10.0).round() as i64
}

/// A 0-100 memory size in bytes, 100 being `memory_bytes`.
fn memory(normalized: f64, memory_bytes: i64) -> i64 {
    (normalized / 100.0 * memory_bytes as f64).round() as i64
}

/// A task's key: (job name, task name).
type TaskKey = (String, String);
/// A `batch_task` table: each (job, task)'s requests in millicores and bytes.
type Tasks = BTreeMap<TaskKey, (i64, i64)>;

/// The `batch_task` table a batch replay takes its instances' requests from. The whole
/// load and a streamed replay both hold it in memory: a row per task, not per instance,
/// it is the small side table of the trace.
#[derive(Debug, PartialEq)]
pub struct BatchTasks {
    /// Each (job, task)'s requests.
    tasks: Tasks,
    /// How errors name the file.
    shown: String,
}

impl BatchTasks {
    /// How many tasks the table lists.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the table lists no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

/// Reads `batch_task` (see the module docs): the table and its rows skipped.
pub fn load_batch_tasks(
    path: &Path,
    shown: &str,
    memory_bytes: i64,
    strict: bool,
) -> Result<(BatchTasks, Option<Skipped>), ScenarioError> {
    let (tasks, skipped) = load_tasks(path, shown, memory_bytes, strict)?;
    Ok((
        BatchTasks {
            tasks,
            shown: shown.to_owned(),
        },
        skipped,
    ))
}

/// Reads `batch_task`: each (job, task)'s requests.
fn load_tasks(
    path: &Path,
    shown: &str,
    memory_bytes: i64,
    strict: bool,
) -> Result<(Tasks, Option<Skipped>), ScenarioError> {
    let mut tasks = Tasks::new();
    let mut first_line: BTreeMap<TaskKey, usize> = BTreeMap::new();
    let mut bad = BadRows::new(strict);
    each_row(path, shown, |line, fields| {
        let row = task_row(shown, line, fields, memory_bytes).and_then(|(key, requests)| {
            if let Some(first) = first_line.get(&key) {
                let (job, task) = &key;
                return Err(row_err(
                    shown,
                    line,
                    fields[0].0,
                    TASK_COLUMNS[0],
                    format!("task {task:?} of job {job:?} is already listed at line {first}"),
                ));
            }
            first_line.insert(key.clone(), line);
            Ok((key, requests))
        });
        match row {
            Ok((key, requests)) => {
                tasks.insert(key, requests);
            }
            Err(e) => bad.bad(e)?,
        }
        Ok(())
    })?;
    Ok((tasks, bad.skipped))
}

/// One `batch_task` row: its (job, task) and its requests in millicores and bytes.
fn task_row(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
    memory_bytes: i64,
) -> Result<(TaskKey, (i64, i64)), ScenarioError> {
    let columns = &TASK_COLUMNS;
    if fields.len() != columns.len() {
        return Err(width_err(shown, line, fields, "batch_task", columns.len()));
    }
    let err = |k: usize, what: &str| field_err(shown, line, fields, columns, k, what);
    let (task, job) = (fields[0].1, fields[2].1);
    if task.is_empty() {
        return Err(err(0, "a task name"));
    }
    if job.is_empty() {
        return Err(err(2, "a job name"));
    }
    let cpu = number(fields[7].1, MAX_CPU_HUNDREDTHS)
        .ok_or_else(|| err(7, "the task's CPU in hundredths of a core (100 is 1 core)"))?;
    let mem =
        number(fields[8].1, 100.0).ok_or_else(|| err(8, "the task's memory from 0 to 100"))?;
    Ok((
        (job.to_owned(), task.to_owned()),
        (cpu_milli(cpu), memory(mem, memory_bytes)),
    ))
}

/// The pods of a batch replay, and the rows of `batch_task` skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLoaded {
    /// The instances' pods and the `batch_instance` rows skipped.
    pub instances: Loaded,
    /// The `batch_task` rows skipped, when any was.
    pub tasks_skipped: Option<Skipped>,
}

/// Reads `batch_instance` at `path` with the requests of `batch_task` at `tasks` (see the
/// module docs).
pub fn load_batch_instances(
    (path, shown): (&Path, &str),
    (tasks_path, tasks_shown): (&Path, &str),
    memory_bytes: i64,
    strict: bool,
) -> Result<BatchLoaded, ScenarioError> {
    let (tasks, tasks_skipped) = load_batch_tasks(tasks_path, tasks_shown, memory_bytes, strict)?;
    let mut rows = ParsedRows::open(path, shown, BatchInstances(Arc::new(tasks)))?;
    let mut pods = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut bad = BadRows::new(strict);
    while let Some((_, row)) = rows.next_row()? {
        match row {
            // A repeated first attempt of an instance is not replayed twice.
            Ok(Some(pod)) if seen.insert(pod.name.clone()) => pods.push(pod),
            Ok(_) => {}
            Err(e) => bad.bad(e)?,
        }
    }
    Ok(BatchLoaded {
        instances: Loaded {
            pods,
            skipped: bad.skipped,
        },
        tasks_skipped,
    })
}

/// `batch_instance`'s row parser, with the `batch_task` table its requests come from:
/// each row is a pod, `None` for a retry or an instance that never ran, or its error.
/// The whole load, a streamed replay's scan and each of its runs read through
/// [`ParsedRows`] with it, so that all of them see the same pods and the same bad rows.
#[derive(Debug)]
pub(crate) struct BatchInstances(pub(crate) Arc<BatchTasks>);

impl RowParser for BatchInstances {
    type Row = Result<Option<TracePod>, ScenarioError>;

    fn parse(&self, shown: &str, line: usize, fields: &[(usize, &str)]) -> Self::Row {
        let tasks = &self.0;
        instance_row((shown, &tasks.shown), line, fields, &tasks.tasks)
    }
}

/// One `batch_instance` row: its pod, or `None` for a retry or an instance that never
/// ran.
fn instance_row(
    (shown, tasks_shown): (&str, &str),
    line: usize,
    fields: &[(usize, &str)],
    tasks: &Tasks,
) -> Result<Option<TracePod>, ScenarioError> {
    let columns = &INSTANCE_COLUMNS;
    if fields.len() != columns.len() {
        return Err(width_err(
            shown,
            line,
            fields,
            "batch_instance",
            columns.len(),
        ));
    }
    let err = |k: usize, what: &str| field_err(shown, line, fields, columns, k, what);
    let (instance, task, job) = (fields[0].1, fields[1].1, fields[2].1);
    for (k, name) in [(0, instance), (1, task), (2, job)] {
        if name.is_empty() {
            return Err(err(k, &format!("a {}", columns[k].replace('_', " "))));
        }
    }
    let start = secs(fields[5].1).ok_or_else(|| err(5, "a time in seconds"))?;
    let end = if fields[6].1.is_empty() {
        0
    } else {
        secs(fields[6].1).ok_or_else(|| err(6, "a time in seconds, or nothing"))?
    };
    let seq = fields[8]
        .1
        .parse::<u64>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| err(8, "an attempt number from 1"))?;
    let Some(&(cpu_milli, memory_bytes)) = tasks.get(&(job.to_owned(), task.to_owned())) else {
        return Err(row_err(
            shown,
            line,
            fields[1].0,
            columns[1],
            format!("task {task:?} of job {job:?} is not in {tasks_shown}"),
        ));
    };
    if end != 0 && end < start {
        return Err(row_err(
            shown,
            line,
            fields[6].0,
            columns[6],
            format!(
                "the instance ends at {}s, before it starts at {}s",
                end / 1_000_000,
                start / 1_000_000
            ),
        ));
    }
    if seq > 1 || (start == 0 && end == 0) {
        return Ok(None);
    }
    let mut labels = Labels::default();
    labels.insert(JOB_LABEL.into(), job.into());
    Ok(Some(TracePod {
        name: format!("{job}/{task}/{instance}"),
        cpu_milli,
        memory_bytes,
        created_micros: Some(start),
        deleted_micros: (end != 0).then_some(end),
        labels,
        ..Default::default()
    }))
}

/// Reads `container_meta` (see the module docs).
pub fn load_containers(
    path: &Path,
    shown: &str,
    memory_bytes: i64,
    strict: bool,
) -> Result<Loaded, ScenarioError> {
    let mut rows = ParsedRows::open(path, shown, ContainerMeta { memory_bytes })?;
    let mut pods: Vec<TracePod> = Vec::new();
    // Ordered map: which row a container keeps never depends on hash order.
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut bad = BadRows::new(strict);
    while let Some((_, row)) = rows.next_row()? {
        match row {
            Ok(pod) => match index.get(&pod.name) {
                // An earlier snapshot replaces the one kept; a later one changes nothing.
                Some(&i) if pods[i].created_micros > pod.created_micros => pods[i] = pod,
                Some(_) => {}
                None => {
                    index.insert(pod.name.clone(), pods.len());
                    pods.push(pod);
                }
            },
            Err(e) => bad.bad(e)?,
        }
    }
    Ok(Loaded {
        pods,
        skipped: bad.skipped,
    })
}

/// `container_meta`'s row parser, `mem_size` 100 being `memory_bytes`: each row is a
/// pod (every row of a container is one) or its error. The whole load, a streamed
/// replay's scan and each of its runs read through [`ParsedRows`] with it.
#[derive(Debug)]
pub(crate) struct ContainerMeta {
    /// What `mem_size` 100 is, in bytes.
    pub(crate) memory_bytes: i64,
}

impl RowParser for ContainerMeta {
    type Row = Result<TracePod, ScenarioError>;

    fn parse(&self, shown: &str, line: usize, fields: &[(usize, &str)]) -> Self::Row {
        container_row(shown, line, fields, self.memory_bytes)
    }
}

/// One `container_meta` row as a pod.
fn container_row(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
    memory_bytes: i64,
) -> Result<TracePod, ScenarioError> {
    let columns = &CONTAINER_COLUMNS;
    if fields.len() != columns.len() {
        return Err(width_err(
            shown,
            line,
            fields,
            "container_meta",
            columns.len(),
        ));
    }
    let err = |k: usize, what: &str| field_err(shown, line, fields, columns, k, what);
    let id = fields[0].1;
    if id.is_empty() {
        return Err(err(0, "a container ID"));
    }
    let time = secs(fields[2].1).ok_or_else(|| err(2, "a time in seconds"))?;
    let app = fields[3].1;
    if app.is_empty() {
        return Err(err(3, "the container's deploy unit (app_du)"));
    }
    let cpu = number(fields[5].1, MAX_CPU_HUNDREDTHS).ok_or_else(|| {
        err(
            5,
            "the container's CPU request in hundredths of a core (100 is 1 core)",
        )
    })?;
    let mem =
        number(fields[7].1, 100.0).ok_or_else(|| err(7, "the container's memory from 0 to 100"))?;
    let mut labels = Labels::default();
    labels.insert(APP_LABEL.into(), app.into());
    Ok(TracePod {
        name: id.to_owned(),
        cpu_milli: cpu_milli(cpu),
        memory_bytes: memory(mem, memory_bytes),
        created_micros: Some(time),
        labels,
        ..Default::default()
    })
}

/// The job a batch pod belongs to, or a container's deploy unit: what `sample` keeps or
/// drops whole.
pub fn alibaba_job(p: &TracePod) -> &str {
    p.labels
        .get(JOB_LABEL)
        .or_else(|| p.labels.get(APP_LABEL))
        .unwrap_or(p.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_before_the_trace_read_as_zero() {
        assert_eq!(secs("12"), Some(12_000_000));
        assert_eq!(secs("0"), Some(0));
        assert_eq!(secs("-5"), Some(0));
        assert_eq!(secs("1.5"), None);
        assert_eq!(secs(""), None);
    }

    #[test]
    fn units_are_hundredths_of_a_core_and_percent_of_memory() {
        assert_eq!(cpu_milli(100.0), 1000);
        assert_eq!(cpu_milli(50.0), 500);
        assert_eq!(cpu_milli(0.05), 1, "rounded to the nearest millicore");
        assert_eq!(memory(50.0, 1 << 30), 1 << 29);
        assert_eq!(memory(100.0, 1 << 30), 1 << 30);
        assert_eq!(number("101", 100.0), None);
        assert_eq!(number("-1", 100.0), None);
        assert_eq!(number("NaN", 100.0), None);
    }
}
