//! Alibaba's GPU cluster trace (`alibaba-gpu-v2023`, the "openb" files of Weng et al.,
//! "Beware of Fragmentation", USENIX ATC 2023) and the replay protocol of that paper.
//!
//! Two CSV files: the nodes (`sn,cpu_milli,memory_mib,gpu,model`) and the pods
//! (`name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,...`; `gpu_spec` lists the GPU
//! models a pod accepts, separated by `|`, empty for any; for a replay at the trace's own
//! times, `creation_time`, `scheduled_time` and `deletion_time` in seconds, the last two
//! optional). Columns are found by their header name, so their order and extra columns do
//! not matter. Every error names the file, the line and the column (in characters) of the
//! offending field.
//!
//! Both files are read a row at a time ([`RowReader`]); the pod list through its row
//! parser ([`OpenbPods`], built from the header by [`open_pods`]), which the whole load
//! ([`load_pods`]) and a streamed recorded replay ([`super::trace_stream`]) share. Unlike
//! the other trace formats, no row is skipped: the first bad one is the error.

use std::collections::BTreeMap;
use std::path::Path;

use schedulers::gpu::{GPU_MILLI, GpuRequest, MAX_GPUS_PER_NODE, NodeGpus};
use schedulers::{Labels, NodeSpec, ResourceKind, Resources};

use super::ScenarioError;
use super::trace_formats::{ParsedRows, RowParser, RowReader};

/// The trace format this loader reads (`gpuTrace.format`).
pub const FORMAT_ALIBABA_GPU_V2023: &str = "alibaba-gpu-v2023";

/// Pod slots a trace node offers (Kubernetes' default `maxPods`; the trace gives none).
pub const TRACE_NODE_PODS: i64 = 110;

/// The latest time a trace may give, in seconds (about 35,000 years): far beyond any
/// trace, yet small enough that microseconds fit a `u64`.
pub const MAX_TRACE_SECS: u64 = 1 << 40;

/// One task of the trace: what it asks for, and when it came and went (read only for a
/// replay at the trace's own times).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TracePod {
    /// Its name in the trace.
    pub name: String,
    /// CPU millicores.
    pub cpu_milli: i64,
    /// Memory in bytes.
    pub memory_bytes: i64,
    /// Whole GPUs or a share of one.
    pub gpu: GpuRequest,
    /// When the trace created it (`creation_time`), in microseconds of trace time.
    pub created_micros: Option<u64>,
    /// When the trace's scheduler bound it (`scheduled_time`), in microseconds; empty for
    /// a pod the trace never scheduled.
    pub scheduled_micros: Option<u64>,
    /// When the trace deleted it (`deletion_time`), in microseconds.
    pub deleted_micros: Option<u64>,
    /// Its namespace; empty for `default`.
    pub namespace: String,
    /// Its pod priority (`spec.priority`); 0 when the trace gives none.
    pub priority: i32,
    /// Its `nodeSelector`, empty for none.
    pub node_selector: Labels,
    /// Its labels, empty for none: what the trace says it belongs to (an Alibaba
    /// container's `app`, a batch instance's job), for selectors and `sample` to key on.
    pub labels: Labels,
}

/// A GPU trace replay under the paper's protocol (`gpuTrace:` in a scenario): the trace's
/// nodes (only those with GPUs, when asked), its pods in a seeded random order, topped up
/// with pods drawn with replacement from the trace until the GPU they ask for reaches
/// `demand` times the cluster's GPUs; nothing departs and a pod no node can take fails.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuTrace {
    /// The nodes, in file order.
    pub nodes: Vec<NodeSpec>,
    /// The pods, in file order.
    pub pods: Vec<TracePod>,
    /// Arrived GPU demand at which arrivals stop, in thousandths of the cluster's GPUs
    /// (1300: 1.3 times).
    pub demand_permille: u32,
    /// Spacing of the rows of `gpu-fill.csv`, in thousandths of the cluster's GPUs.
    pub step_permille: u32,
}

/// An error at a position in a CSV file.
fn csv_err(path: &str, line: usize, column: usize, field: &str, message: String) -> ScenarioError {
    ScenarioError {
        path: path.to_owned(),
        line: Some(line as u64),
        column: (column > 0).then_some(column as u64),
        field: (!field.is_empty()).then(|| field.to_owned()),
        message,
    }
}

/// A CSV file's header: its column names, found by name in each row.
#[derive(Debug, Clone)]
struct Header {
    shown: String,
    names: Vec<String>,
}

impl Header {
    /// Reads the header from the first line of `rows` (`shown` names the file in errors).
    /// The trace's fields are never quoted, so a field is what lies between commas.
    fn read(rows: &mut RowReader, shown: &str) -> Result<Header, ScenarioError> {
        let first = rows.next_row(shown, |line, fields| {
            (line, fields.iter().map(|(_, f)| (*f).to_owned()).collect())
        })?;
        match first {
            // The header is the first line: a blank one is no header.
            Some((1, names)) => Ok(Header {
                shown: shown.to_owned(),
                names,
            }),
            _ => Err(csv_err(
                shown,
                1,
                0,
                "",
                "the trace file is empty; expected a header line".into(),
            )),
        }
    }

    /// The index of the column named `name`, or an error naming the header line.
    fn column(&self, name: &str) -> Result<usize, ScenarioError> {
        self.names.iter().position(|h| h == name).ok_or_else(|| {
            csv_err(
                &self.shown,
                1,
                0,
                name,
                format!(
                    "the header lacks the column {name:?} (it has: {})",
                    self.names.join(", ")
                ),
            )
        })
    }

    /// The index of the column named `name`, if the header has it.
    fn optional_column(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|h| h == name)
    }

    /// A time in seconds, `None` when the field is empty.
    fn time(
        &self,
        line: usize,
        row: &[(usize, &str)],
        col: usize,
    ) -> Result<Option<u64>, ScenarioError> {
        let (c, text) = self.field(line, row, col)?;
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<u64>() {
            Ok(n) if n <= MAX_TRACE_SECS => Ok(Some(n)),
            _ => Err(csv_err(
                &self.shown,
                line,
                c,
                &self.names[col],
                format!(
                    "expected a time in whole seconds from 0 to {MAX_TRACE_SECS}, or nothing, got {text:?}"
                ),
            )),
        }
    }

    /// Field `col` of a row, or an error when the row is short.
    fn field<'r>(
        &self,
        line: usize,
        row: &[(usize, &'r str)],
        col: usize,
    ) -> Result<(usize, &'r str), ScenarioError> {
        match row.get(col) {
            Some(&(c, text)) => Ok((c, text)),
            None => Err(csv_err(
                &self.shown,
                line,
                row.last().map_or(1, |(c, t)| c + t.chars().count()),
                &self.names[col],
                format!(
                    "the row has {} fields but the header names {}",
                    row.len(),
                    self.names.len()
                ),
            )),
        }
    }

    /// An integer field in `min..=max`.
    fn int(
        &self,
        line: usize,
        row: &[(usize, &str)],
        col: usize,
        min: i64,
        max: i64,
    ) -> Result<i64, ScenarioError> {
        let (c, text) = self.field(line, row, col)?;
        match text.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(csv_err(
                &self.shown,
                line,
                c,
                &self.names[col],
                format!("expected an integer from {min} to {max}, got {text:?}"),
            )),
        }
    }
}

/// Reads the node list; with `gpu_only`, nodes without GPUs are left out.
pub fn load_nodes(
    path: &Path,
    shown: &str,
    gpu_only: bool,
) -> Result<Vec<NodeSpec>, ScenarioError> {
    let mut rows = RowReader::open(path, shown)?;
    let csv = Header::read(&mut rows, shown)?;
    let columns = [
        csv.column("sn")?,
        csv.column("cpu_milli")?,
        csv.column("memory_mib")?,
        csv.column("gpu")?,
        csv.column("model")?,
    ];
    let mut nodes = Vec::new();
    // The line each name is on, to report one listed twice.
    let mut lines: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(node) = rows.next_row(shown, |line, row| {
        node_row(&csv, columns, line, row, &mut lines)
    })? {
        let node = node?;
        if !(gpu_only && node.gpu.count == 0) {
            nodes.push(node);
        }
    }
    Ok(nodes)
}

/// One row of the node list (`columns`: where `sn`, `cpu_milli`, `memory_mib`, `gpu` and
/// `model` are); `lines` holds the line of each name read before.
fn node_row(
    csv: &Header,
    [sn, cpu, mem, gpu, model]: [usize; 5],
    line: usize,
    row: &[(usize, &str)],
    lines: &mut BTreeMap<String, usize>,
) -> Result<NodeSpec, ScenarioError> {
    let shown = csv.shown.as_str();
    let (c, name) = csv.field(line, row, sn)?;
    if name.is_empty() {
        return Err(csv_err(shown, line, c, "sn", "expected a node name".into()));
    }
    if let Some(&first) = lines.get(name) {
        return Err(csv_err(
            shown,
            line,
            c,
            "sn",
            format!("node {name:?} is listed twice (first on line {first})"),
        ));
    }
    lines.insert(name.to_owned(), line);
    let cpu_milli = csv.int(line, row, cpu, 0, 1 << 40)?;
    let memory_mib = csv.int(line, row, mem, 0, 1 << 40)?;
    let gpus = csv.int(line, row, gpu, 0, MAX_GPUS_PER_NODE.into())? as u32;
    let (_, model) = csv.field(line, row, model)?;
    let mut allocatable = Resources::cpu_mem(cpu_milli, memory_mib << 20);
    allocatable.set(ResourceKind::PODS, TRACE_NODE_PODS);
    let mut labels = Labels::default();
    labels.insert("kubernetes.io/hostname".into(), name.into());
    if !model.is_empty() {
        labels.insert("alibaba.com/gpu-model".into(), model.into());
    }
    Ok(NodeSpec {
        name: name.to_owned(),
        allocatable,
        labels,
        gpu: NodeGpus {
            count: gpus,
            model: model.to_owned(),
        },
        ..Default::default()
    })
}

/// The time columns of the pod list: `creation_time` (required), `scheduled_time` and
/// `deletion_time` (optional).
#[derive(Debug, Clone)]
struct TimeColumns {
    created: usize,
    scheduled: Option<usize>,
    deleted: Option<usize>,
}

impl TimeColumns {
    fn find(csv: &Header) -> Result<TimeColumns, ScenarioError> {
        Ok(TimeColumns {
            created: csv.column("creation_time")?,
            scheduled: csv.optional_column("scheduled_time"),
            deleted: csv.optional_column("deletion_time"),
        })
    }

    /// A row's (creation, scheduled, deletion) times, in order: created first, scheduled
    /// and deleted no earlier, deleted no earlier than scheduled.
    #[allow(clippy::type_complexity)]
    fn read(
        &self,
        csv: &Header,
        line: usize,
        row: &[(usize, &str)],
    ) -> Result<(u64, Option<u64>, Option<u64>), ScenarioError> {
        let Some(created) = csv.time(line, row, self.created)? else {
            let (c, _) = csv.field(line, row, self.created)?;
            return Err(csv_err(
                &csv.shown,
                line,
                c,
                "creation_time",
                "expected the time the pod was created, in seconds: a replay at the trace's \
                 own times needs every pod's"
                    .into(),
            ));
        };
        let optional = |col: Option<usize>| match col {
            Some(col) => csv.time(line, row, col),
            None => Ok(None),
        };
        let (scheduled, deleted) = (optional(self.scheduled)?, optional(self.deleted)?);
        let column = |col: Option<usize>| col.and_then(|col| row.get(col)).map_or(1, |f| f.0);
        if let Some(s) = scheduled
            && s < created
        {
            return Err(csv_err(
                &csv.shown,
                line,
                column(self.scheduled),
                "scheduled_time",
                format!("a pod cannot be scheduled before it was created (at {created}), got {s}"),
            ));
        }
        if let Some(d) = deleted {
            let (after, what) = match scheduled {
                Some(s) => (s, "scheduled"),
                None => (created, "created"),
            };
            if d < after {
                return Err(csv_err(
                    &csv.shown,
                    line,
                    column(self.deleted),
                    "deletion_time",
                    format!("a pod cannot be deleted before it was {what} (at {after}), got {d}"),
                ));
            }
        }
        Ok((created, scheduled, deleted))
    }
}

/// The pod list's row parser: where its columns are (found by the header), each row a
/// pod or its error. The whole load ([`load_pods`]) and a streamed recorded replay
/// ([`super::trace_stream`]) both read through it.
#[derive(Debug, Clone)]
pub(crate) struct OpenbPods {
    csv: Header,
    /// `name`, `cpu_milli`, `memory_mib`, `num_gpu`, `gpu_milli`, `gpu_spec`.
    columns: [usize; 6],
    /// The time columns, when the times are read.
    times: Option<TimeColumns>,
}

impl RowParser for OpenbPods {
    type Row = Result<TracePod, ScenarioError>;

    fn parse(&self, _shown: &str, line: usize, row: &[(usize, &str)]) -> Self::Row {
        pod_row(self, line, row)
    }
}

/// Opens the pod list and reads its header; with `times`, its rows carry when each pod
/// was created, scheduled and deleted (see [`TracePod`]).
pub(crate) fn open_pods(
    path: &Path,
    shown: &str,
    times: bool,
) -> Result<ParsedRows<OpenbPods>, ScenarioError> {
    let mut rows = RowReader::open(path, shown)?;
    let csv = Header::read(&mut rows, shown)?;
    let columns = [
        csv.column("name")?,
        csv.column("cpu_milli")?,
        csv.column("memory_mib")?,
        csv.column("num_gpu")?,
        csv.column("gpu_milli")?,
        csv.column("gpu_spec")?,
    ];
    let times = if times {
        Some(TimeColumns::find(&csv)?)
    } else {
        None
    };
    Ok(ParsedRows::new(
        rows,
        shown,
        OpenbPods {
            csv,
            columns,
            times,
        },
    ))
}

/// Reads the pod list; with `times`, also when each pod was created, scheduled and
/// deleted (see [`TracePod`]), which must come in that order. The first bad row is an
/// error: the files are the trace's own.
pub fn load_pods(path: &Path, shown: &str, times: bool) -> Result<Vec<TracePod>, ScenarioError> {
    let mut rows = open_pods(path, shown, times)?;
    let mut pods = Vec::new();
    while let Some((_, pod)) = rows.next_row()? {
        pods.push(pod?);
    }
    Ok(pods)
}

/// One row of the pod list.
fn pod_row(p: &OpenbPods, line: usize, row: &[(usize, &str)]) -> Result<TracePod, ScenarioError> {
    let csv = &p.csv;
    let [name, cpu, mem, num_gpu, gpu_milli, spec] = p.columns;
    let (_, pod_name) = csv.field(line, row, name)?;
    let cpu_milli = csv.int(line, row, cpu, 0, 1 << 40)?;
    let memory_mib = csv.int(line, row, mem, 0, 1 << 40)?;
    let count = csv.int(line, row, num_gpu, 0, MAX_GPUS_PER_NODE.into())? as u32;
    let milli = csv.int(line, row, gpu_milli, 0, GPU_MILLI.into())? as u32;
    let (c, _) = csv.field(line, row, gpu_milli)?;
    let bad = match count {
        0 => (milli != 0).then_some("a pod asking for no GPU (num_gpu 0) must have gpu_milli 0"),
        1 => (milli == 0).then_some("a pod asking for one GPU must have gpu_milli from 1 to 1000"),
        _ => (milli != GPU_MILLI)
            .then_some("a pod asking for several GPUs takes them whole: gpu_milli must be 1000"),
    };
    if let Some(message) = bad {
        return Err(csv_err(
            &csv.shown,
            line,
            c,
            "gpu_milli",
            format!("{message}, got {milli}"),
        ));
    }
    let (_, models) = csv.field(line, row, spec)?;
    let models = models
        .split('|')
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect();
    let micros = |secs: u64| secs * 1_000_000;
    let (created_micros, scheduled_micros, deleted_micros) = match &p.times {
        Some(t) => {
            let (c, s, d) = t.read(csv, line, row)?;
            (Some(micros(c)), s.map(micros), d.map(micros))
        }
        None => (None, None, None),
    };
    Ok(TracePod {
        name: pod_name.to_owned(),
        cpu_milli,
        memory_bytes: memory_mib << 20,
        gpu: GpuRequest {
            count,
            milli,
            models,
        },
        created_micros,
        scheduled_micros,
        deleted_micros,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("schedlab-gpu-trace-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn reads_nodes_and_pods() {
        let nodes = write(
            "nodes.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,262144,0,\nn1,96000,786432,8,V100M32\n",
        );
        let all = load_nodes(&nodes, "nodes.csv", false).unwrap();
        assert_eq!(all.len(), 2);
        let gpu = load_nodes(&nodes, "nodes.csv", true).unwrap();
        assert_eq!(gpu.len(), 1);
        assert_eq!(gpu[0].name, "n1");
        assert_eq!(gpu[0].allocatable.cpu(), 96000);
        assert_eq!(gpu[0].allocatable.memory(), 786432 << 20);
        assert_eq!(gpu[0].gpu.count, 8);
        assert_eq!(gpu[0].gpu.model, "V100M32");
        let pods = write(
            "pods.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos\n\
             a,12000,16384,1,460,,LS\nb,88000,327680,8,1000,V100M16|V100M32,BE\nc,4000,100,0,0,,LS\n",
        );
        let pods = load_pods(&pods, "pods.csv", false).unwrap();
        assert_eq!(pods[0].gpu, GpuRequest::share(460));
        assert_eq!(pods[1].gpu.count, 8);
        assert_eq!(pods[1].gpu.models, ["V100M16", "V100M32"]);
        assert!(!pods[2].gpu.is_some());
        assert_eq!(pods[2].memory_bytes, 100 << 20);
    }

    #[test]
    fn reads_times_when_asked() {
        let pods = write(
            "timed-pods.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\n\
             a,1000,100,0,0,,5,20,7\nb,1000,100,0,0,,6,,\nc,1000,100,0,0,,6,9,\n",
        );
        let times = |p: &TracePod| {
            let secs = |t: Option<u64>| t.map(|t| t / 1_000_000);
            (
                secs(p.created_micros),
                secs(p.scheduled_micros),
                secs(p.deleted_micros),
            )
        };
        let timed = load_pods(&pods, "timed-pods.csv", true).unwrap();
        assert_eq!(
            timed.iter().map(times).collect::<Vec<_>>(),
            [
                (Some(5), Some(7), Some(20)),
                (Some(6), None, None),
                (Some(6), None, Some(9))
            ]
        );
        let untimed = load_pods(&pods, "timed-pods.csv", false).unwrap();
        assert!(untimed.iter().all(|p| times(p) == (None, None, None)));
        // Only creation_time is required.
        let pods = write(
            "created-only.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time\na,1,1,0,0,,3\n",
        );
        let p = load_pods(&pods, "created-only.csv", true).unwrap();
        assert_eq!(times(&p[0]), (Some(3), None, None));
    }

    #[test]
    fn time_errors_name_file_line_column_and_field() {
        let header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\n";
        let check = |file: &str, row: &str, at: (u64, u64), field: &str, message: &str| {
            let path = write(file, &format!("{header}a,1,1,0,0,,1,2,1\n{row}\n"));
            let e = load_pods(&path, file, true).unwrap_err();
            assert_eq!((e.line, e.column), (Some(at.0), Some(at.1)), "{e}");
            assert_eq!(e.field.as_deref(), Some(field), "{e}");
            assert_eq!(e.message, message);
        };
        check(
            "t1.csv",
            "b,1,1,0,0,,x,2,1",
            (3, 12),
            "creation_time",
            "expected a time in whole seconds from 0 to 1099511627776, or nothing, got \"x\"",
        );
        check(
            "t2.csv",
            "b,1,1,0,0,,,2,1",
            (3, 12),
            "creation_time",
            "expected the time the pod was created, in seconds: a replay at the trace's own \
             times needs every pod's",
        );
        check(
            "t3.csv",
            "b,1,1,0,0,,5,9,4",
            (3, 16),
            "scheduled_time",
            "a pod cannot be scheduled before it was created (at 5), got 4",
        );
        check(
            "t4.csv",
            "b,1,1,0,0,,5,4,",
            (3, 14),
            "deletion_time",
            "a pod cannot be deleted before it was created (at 5), got 4",
        );
        check(
            "t5.csv",
            "b,1,1,0,0,,5,6,7",
            (3, 14),
            "deletion_time",
            "a pod cannot be deleted before it was scheduled (at 7), got 6",
        );
        check(
            "t6.csv",
            "b,1,1,0,0,,-1,6,7",
            (3, 12),
            "creation_time",
            "expected a time in whole seconds from 0 to 1099511627776, or nothing, got \"-1\"",
        );
        let untimed = write(
            "untimed.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\na,1,1,0,0,\n",
        );
        let e = load_pods(&untimed, "untimed.csv", true).unwrap_err();
        assert_eq!((e.line, e.column), (Some(1), None));
        assert!(
            e.to_string()
                .starts_with("untimed.csv:1: creation_time: the header lacks the column"),
            "{e}"
        );
        assert!(load_pods(&untimed, "untimed.csv", false).is_ok());
    }

    #[test]
    fn a_node_listed_twice_is_an_error() {
        let nodes = write(
            "twice.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,1,T4\nn1,1,1,1,T4\nn0,1,1,1,T4\n",
        );
        let e = load_nodes(&nodes, "twice.csv", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "twice.csv:4:1: sn: node \"n0\" is listed twice (first on line 2)"
        );
    }

    #[test]
    fn errors_name_file_line_column_and_field() {
        let pods = write(
            "bad-pods.csv",
            "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\na,1,1,1,500,\nb,1,1,2,500,\n",
        );
        let e = load_pods(&pods, "bad-pods.csv", false).unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(9)));
        assert_eq!(e.field.as_deref(), Some("gpu_milli"));
        assert!(
            e.to_string().starts_with("bad-pods.csv:3:9: gpu_milli: "),
            "{e}"
        );
        let nodes = write(
            "bad-nodes.csv",
            "sn,cpu_milli,memory_mib,gpu,model\nn0,x,1,0,\n",
        );
        let e = load_nodes(&nodes, "bad-nodes.csv", false).unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(4)));
        assert!(
            e.to_string().contains("cpu_milli: expected an integer"),
            "{e}"
        );
        let short = write("short.csv", "sn,cpu_milli,memory_mib,gpu,model\nn0,1,1\n");
        let e = load_nodes(&short, "short.csv", false).unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().contains("the row has 3 fields"), "{e}");
        let no_col = write("nocol.csv", "sn,cpu,memory_mib,gpu,model\n");
        let e = load_nodes(&no_col, "nocol.csv", false).unwrap_err();
        assert!(
            e.to_string().contains("lacks the column \"cpu_milli\""),
            "{e}"
        );
    }
}
