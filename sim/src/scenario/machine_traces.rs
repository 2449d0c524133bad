//! The machines of a trace as the cluster's nodes: the nodes a run starts with, and the
//! machines that join and leave during it as node lifecycle actions.
//!
//! - `google-2011-machine-events`: Google cluster-data 2011 `machine_events` (plain or
//!   gzip), 6 columns without a header: time (microseconds), machine ID, event type (0
//!   ADD, 1 REMOVE, 2 UPDATE), platform ID, CPUs and memory (shares of the largest
//!   machine, scaled by `machineScale` as for `task_events`). A machine becomes the node
//!   `machine-<ID>` with the label `kubernetes.io/hostname` and, when the row has one, its
//!   platform ID as `cluster-data.google.com/platform`.
//! - `alibaba-2018-machine-meta`: Alibaba cluster-trace-v2018 `machine_meta`, 7 columns
//!   without a header: machine_id, time_stamp (seconds), failure_domain_1,
//!   failure_domain_2, cpu_num (cores), mem_size (0 to 100, 100 being the largest
//!   machine, scaled by `machineScale.memory`) and status. A machine is a node, named by
//!   its ID, while its status is `USING`; another status (`IMPORT_INSTALLING`) takes it
//!   out. failure_domain_1 becomes its zone (`topology.kubernetes.io/zone`), so zone
//!   spread and anti-affinity see the trace's fault domains, and failure_domain_2 the
//!   label `alibaba.com/failure-domain-2`.
//!
//! What happened up to the window's start (`window.start`, 0 without a window) makes the
//! nodes a run starts with, at their latest capacity; what happens after it, until
//! `window.end`, becomes node actions at the trace time less the start: a machine that
//! is added joins, one that is removed leaves (its pods evicted and replaced, as for a
//! deleted Node). A change of capacity of a machine in the cluster (Google's UPDATE, a
//! later Alibaba row of a machine in use) resizes its node: the kubelet of a resized
//! machine restarts, reports the new allocatable and rejects the pods that no longer fit
//! (see `crate::controllers::nodes`); an update that keeps the capacity (most of them)
//! changes nothing. Simplified: an update's new platform ID or failure domains are not
//! applied (labels stay those the machine joined with). Every node may run 110 pods
//! (the kubelet's default `maxPods`). Rows that cannot be read are skipped and counted, or
//! with `strict` stop the load, as for the pod traces.

use std::collections::BTreeMap;
use std::path::Path;

use schedulers::{Labels, NodeSpec, ResourceKind, Resources};

use super::ScenarioError;
use super::trace_formats::{BadRows, MachineScale, Skipped, each_row, field_err, width_err};
use crate::controllers::nodes::NodeAction;
use crate::time::SimTime;

/// `format: google-2011-machine-events`.
pub const FORMAT_GOOGLE_2011_MACHINES: &str = "google-2011-machine-events";
/// `format: alibaba-2018-machine-meta`.
pub const FORMAT_ALIBABA_2018_MACHINES: &str = "alibaba-2018-machine-meta";

/// The columns of Google's `machine_events`, as its `schema.csv` spells them.
pub const GOOGLE_MACHINE_COLUMNS: [&str; 6] = [
    "time",
    "machine ID",
    "event type",
    "platform ID",
    "CPUs",
    "Memory",
];
/// The columns of Alibaba v2018's `machine_meta`, as its `schema.txt` spells them.
pub const ALIBABA_MACHINE_COLUMNS: [&str; 7] = [
    "machine_id",
    "time_stamp",
    "failure_domain_1",
    "failure_domain_2",
    "cpu_num",
    "mem_size",
    "status",
];

/// The pods a node may run: the kubelet's default `maxPods`.
const MAX_PODS: i64 = 110;
/// The most cores an Alibaba machine may list (a typo'd count is a bad row, not a node
/// that outweighs the cluster).
const MAX_ALIBABA_CPUS: u64 = 1 << 20;
/// The label that carries a Google machine's platform ID.
pub const GOOGLE_PLATFORM_LABEL: &str = "cluster-data.google.com/platform";
/// The label that carries an Alibaba machine's second failure domain.
pub const ALIBABA_DOMAIN_2_LABEL: &str = "alibaba.com/failure-domain-2";

/// Which trace the machines come from, with what its normalized sizes mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineFormat {
    /// Google 2011 `machine_events`: CPU and memory are shares of `MachineScale`.
    Google2011(MachineScale),
    /// Alibaba v2018 `machine_meta`: memory is a percentage of this many bytes.
    Alibaba2018 {
        /// The bytes of memory that `mem_size` 100 stands for.
        memory_bytes: i64,
    },
}

/// The nodes of a machine trace: those present at the window's start and the changes
/// after it.
#[derive(Debug, Clone, PartialEq)]
pub struct MachineTimeline {
    /// The nodes present when the run starts, in order of first appearance in the file.
    pub initial: Vec<NodeSpec>,
    /// Machines joining and leaving, in time order (file order among equal times), at
    /// run time.
    pub changes: Vec<(SimTime, NodeAction)>,
    /// Rows that could not be read, when any was skipped.
    pub skipped: Option<Skipped>,
}

/// One machine's row: when, which machine, and its state after the row.
struct MachineRow {
    time: u64,
    name: MachineName,
    /// `None`: the machine is gone (REMOVE, or an Alibaba status other than USING).
    spec: Option<Machine>,
}

/// Which machine a row is about. Google's machines are numbers, compared as such and
/// named `machine-<ID>` only when one becomes a node; Alibaba's are names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum MachineName {
    /// A Google 2011 machine ID.
    Id(u64),
    /// An Alibaba v2018 machine_id.
    Text(Box<str>),
}

impl MachineName {
    /// The name of the node this machine is.
    fn node_name(&self) -> String {
        match self {
            Self::Id(id) => format!("machine-{id}"),
            Self::Text(name) => name.to_string(),
        }
    }
}

/// What a row says a machine is. Only the rows that add a node become a [`NodeSpec`]
/// (most rows of a long trace are updates, which change at most the node's size), so
/// the labels map is built for those alone.
struct Machine {
    cpu_milli: i64,
    memory_bytes: i64,
    /// Up to two labels besides the hostname.
    labels: [Option<(&'static str, String)>; 2],
}

impl Machine {
    /// What a node of this machine offers.
    fn allocatable(&self) -> Resources {
        let mut allocatable = Resources::cpu_mem(self.cpu_milli, self.memory_bytes);
        allocatable.set(ResourceKind::PODS, MAX_PODS);
        allocatable
    }

    /// The node that machine `name` is.
    fn into_node(self, name: &MachineName) -> NodeSpec {
        let name = name.node_name();
        let allocatable = self.allocatable();
        let mut labels = Labels::new(self.labels.into_iter().flatten());
        labels.insert("kubernetes.io/hostname".to_string(), name.clone());
        NodeSpec {
            name,
            allocatable,
            labels,
            ..Default::default()
        }
    }
}

/// Reads a machine trace and splits it at the window: `window` is `[start, end)` in
/// microseconds of trace time.
pub fn load_machines(
    path: &Path,
    shown: &str,
    format: MachineFormat,
    window: Option<(u64, Option<u64>)>,
    strict: bool,
) -> Result<MachineTimeline, ScenarioError> {
    let mut rows = Vec::new();
    let mut bad = BadRows::new(strict);
    each_row(path, shown, |line, fields| {
        let row = match format {
            MachineFormat::Google2011(scale) => google_row(shown, line, fields, scale),
            MachineFormat::Alibaba2018 { memory_bytes } => {
                alibaba_row(shown, line, fields, memory_bytes)
            }
        };
        match row {
            Ok(r) => rows.push(r),
            Err(e) => bad.bad(e)?,
        }
        Ok(())
    })?;
    // Files are written in time order by machine; a stable sort keeps file order among
    // equal times, so the result does not depend on how the file was sorted.
    rows.sort_by_key(|r| r.time);
    let (start, end) = window.unwrap_or((0, None));
    let mut rows = rows.into_iter().peekable();
    // Ordered maps: which nodes exist and in what order never depends on hash order.
    let mut first_seen: BTreeMap<MachineName, usize> = BTreeMap::new();
    let mut present: BTreeMap<MachineName, (usize, Machine)> = BTreeMap::new();
    while let Some(row) = rows.next_if(|r| r.time <= start) {
        let order = first_seen.len();
        let order = *first_seen.entry(row.name.clone()).or_insert(order);
        match row.spec {
            Some(spec) => {
                present.insert(row.name, (order, spec));
            }
            None => {
                present.remove(&row.name);
            }
        }
    }
    // Each machine in the cluster with its capacity, so that only an update that
    // changes it becomes a resize.
    let mut alive: BTreeMap<MachineName, (i64, i64)> = present
        .iter()
        .map(|(name, (_, m))| (name.clone(), (m.cpu_milli, m.memory_bytes)))
        .collect();
    let mut changes = Vec::new();
    for row in rows.take_while(|r| end.is_none_or(|e| r.time < e)) {
        let at = SimTime::from_micros(row.time - start);
        match row.spec {
            Some(machine) => {
                let size = (machine.cpu_milli, machine.memory_bytes);
                match alive.insert(row.name.clone(), size) {
                    None => changes.push((at, NodeAction::Add(machine.into_node(&row.name)))),
                    Some(was) if was != size => changes.push((
                        at,
                        NodeAction::Resize(row.name.node_name(), machine.allocatable()),
                    )),
                    Some(_) => {}
                }
            }
            None => {
                if alive.remove(&row.name).is_some() {
                    changes.push((at, NodeAction::Remove(row.name.node_name())));
                }
            }
        }
    }
    let mut initial: Vec<(usize, MachineName, Machine)> = present
        .into_iter()
        .map(|(name, (order, machine))| (order, name, machine))
        .collect();
    initial.sort_by_key(|(order, ..)| *order);
    Ok(MachineTimeline {
        initial: initial
            .into_iter()
            .map(|(_, name, machine)| machine.into_node(&name))
            .collect(),
        changes,
        skipped: bad.skipped,
    })
}

/// Reads one `machine_events` row.
fn google_row(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
    scale: MachineScale,
) -> Result<MachineRow, ScenarioError> {
    let columns = &GOOGLE_MACHINE_COLUMNS;
    if fields.len() != columns.len() {
        return Err(width_err(
            shown,
            line,
            fields,
            "machine_events",
            columns.len(),
        ));
    }
    let err = |k: usize, what: &str| field_err(shown, line, fields, columns, k, what);
    let int = |k: usize, what: &str| fields[k].1.parse::<u64>().map_err(|_| err(k, what));
    let time = int(0, "a time in microseconds")?;
    let id = int(1, "a machine ID")?;
    let event = int(2, "an event type: 0 (ADD), 1 (REMOVE) or 2 (UPDATE)")?;
    let name = MachineName::Id(id);
    if event == 1 {
        return Ok(MachineRow {
            time,
            name,
            spec: None,
        });
    }
    if event > 2 {
        return Err(err(2, "an event type: 0 (ADD), 1 (REMOVE) or 2 (UPDATE)"));
    }
    let share = |k: usize| {
        fields[k]
            .1
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x > 0.0 && *x <= 1.0)
            .ok_or_else(|| err(k, "a share of the largest machine, above 0 and at most 1"))
    };
    let (cpu, memory) = (share(4)?, share(5)?);
    let spec = Machine {
        cpu_milli: (cpu * scale.cpu_milli as f64).round() as i64,
        memory_bytes: (memory * scale.memory_bytes as f64).round() as i64,
        // A machine without a platform ID gets no platform label.
        labels: [
            Some(fields[3].1)
                .filter(|platform| !platform.is_empty())
                .map(|platform| (GOOGLE_PLATFORM_LABEL, platform.to_string())),
            None,
        ],
    };
    Ok(MachineRow {
        time,
        name,
        spec: Some(spec),
    })
}

/// Reads one `machine_meta` row.
fn alibaba_row(
    shown: &str,
    line: usize,
    fields: &[(usize, &str)],
    memory_scale: i64,
) -> Result<MachineRow, ScenarioError> {
    let columns = &ALIBABA_MACHINE_COLUMNS;
    if fields.len() != columns.len() {
        return Err(width_err(
            shown,
            line,
            fields,
            "machine_meta",
            columns.len(),
        ));
    }
    let err = |k: usize, what: &str| field_err(shown, line, fields, columns, k, what);
    let name = fields[0].1;
    if name.is_empty() {
        return Err(err(0, "a machine ID"));
    }
    let time = fields[1]
        .1
        .parse::<u64>()
        .ok()
        .filter(|&t| t <= super::gpu_trace::MAX_TRACE_SECS)
        .ok_or_else(|| err(1, "a time in seconds"))?;
    let status = fields[6].1;
    if status.is_empty() {
        return Err(err(6, "a machine status such as USING"));
    }
    let name = MachineName::Text(name.into());
    if status != "USING" {
        return Ok(MachineRow {
            time: time * 1_000_000,
            name,
            spec: None,
        });
    }
    let cpus = fields[4]
        .1
        .parse::<u64>()
        .ok()
        .filter(|&n| (1..=MAX_ALIBABA_CPUS).contains(&n))
        .ok_or_else(|| err(4, "a number of cores"))?;
    let memory = fields[5]
        .1
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x > 0.0 && *x <= 100.0)
        .ok_or_else(|| err(5, "a memory size above 0 and at most 100"))?;
    let spec = Machine {
        cpu_milli: cpus as i64 * 1000,
        memory_bytes: (memory / 100.0 * memory_scale as f64).round() as i64,
        labels: [
            Some((schedulers::volumes::ZONE_LABEL, fields[2].1.to_string())),
            Some((ALIBABA_DOMAIN_2_LABEL, fields[3].1.to_string())),
        ],
    };
    Ok(MachineRow {
        time: time * 1_000_000,
        name,
        spec: Some(spec),
    })
}
