//! Trace replays in the general syntax: a `trace:` workload (a trace's pods, at shuffled or
//! recorded times), `cluster.trace` (a trace's nodes), and the two scenario-level options
//! the paper's protocol needs, `queue:` and `gpuFill:`. `gpuTrace:` (in `gpu`) is a
//! shorthand for all four, and expands through the same functions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use schedulers::yaml::Scalar;
use schedulers::yaml::message::{at_line, did_you_mean, one_of};
use schedulers::{NodeSpec, PodTemplate, ResourceKind};
use serde_saphyr::{Location, Spanned};

use super::super::raw::{RawClusterTrace, RawGpuFill, RawQueue, RawTraceWorkload, RawWorkload};
use super::super::raw::{RawMachineScale, RawTraceWindow};
use super::{Builder, Result};
use crate::controllers::workloads::target_workload;
use crate::scenario::alibaba_v2018::{
    FORMAT_ALIBABA_2018_BATCH, FORMAT_ALIBABA_2018_CONTAINERS, alibaba_job, load_batch_instances,
    load_batch_tasks, load_containers,
};
use crate::scenario::gpu_trace::{FORMAT_ALIBABA_GPU_V2023, load_nodes, load_pods};
use crate::scenario::trace_formats::{
    FORMAT_GENERIC_CSV, FORMAT_GOOGLE_2011, MachineScale, TraceOptions, google_job,
    load_generic_csv, load_google_2011,
};
use crate::scenario::trace_stream::{
    DEFAULT_LOOK_AHEAD, scan_alibaba_batch, scan_alibaba_containers, scan_generic_csv,
    scan_google_2011, scan_openb,
};
use crate::scenario::{
    GpuFillOptions, QueueOptions, TraceReplay, TraceSource, TraceTiming, Workload, WorkloadKind,
};
use crate::time::SimTime;
use schedulers::cluster::GpuTask;
use std::collections::BTreeMap;

/// The paper's protocol stops arrivals at 1.3 times the cluster's GPUs.
pub(super) const DEFAULT_DEMAND_PERMILLE: u32 = 1300;
/// `gpu-fill.csv` has a row every 1% of the cluster's GPUs by default.
pub(super) const DEFAULT_STEP_PERMILLE: u32 = 10;
/// The largest `demand`: a hundred times the cluster's GPUs.
pub(super) const MAX_DEMAND_PERMILLE: u32 = 100_000;

/// The formats a `trace:` workload reads.
const WORKLOAD_FORMATS: &[&str] = &[
    FORMAT_ALIBABA_GPU_V2023,
    FORMAT_ALIBABA_2018_BATCH,
    FORMAT_ALIBABA_2018_CONTAINERS,
    FORMAT_GENERIC_CSV,
    FORMAT_GOOGLE_2011,
];

/// The formats whose recorded replays stream (`stream`, on by default).
const STREAMED_FORMATS: &[&str] = &[
    FORMAT_GENERIC_CSV,
    FORMAT_GOOGLE_2011,
    FORMAT_ALIBABA_2018_BATCH,
    FORMAT_ALIBABA_2018_CONTAINERS,
    FORMAT_ALIBABA_GPU_V2023,
];

/// What 1.0 means in a Google trace without `machineScale`: a core and a byte.
const GOOGLE_DEFAULT_SCALE: MachineScale = MachineScale {
    cpu_milli: 1000,
    memory_bytes: 1,
};

/// The formats whose memory is normalized to 0-100 of `machineScale.memory`.
const ALIBABA_2018_FORMATS: &[&str] = &[FORMAT_ALIBABA_2018_BATCH, FORMAT_ALIBABA_2018_CONTAINERS];

/// The largest `sizeScale` and `timeScale`: beyond them requests and times leave any
/// range a cluster or a run has.
const MAX_TRACE_SCALE: f64 = 1000.0;

/// The largest `machineScale.cpu`, in millicores (about a billion cores), and
/// `machineScale.memory`, in bytes (1 PiB).
const MAX_MACHINE_CPU_MILLI: i64 = 1 << 40;
const MAX_MACHINE_MEMORY: i64 = 1 << 50;

/// The values of `timing`.
const TIMINGS: &[&str] = &["shuffled", "recorded"];

/// Time between two arrivals of a shuffled replay when `interval` is not given.
const DEFAULT_TRACE_INTERVAL: SimTime = crate::scenario::GPU_TRACE_INTERVAL;

/// The workload that replays `replay`: what a `trace:` workload and `gpuTrace:` both
/// become. Its template only names the workload; each trace pod has its own.
pub(super) fn trace_workload(replay: TraceReplay) -> Workload {
    Workload {
        kind: WorkloadKind::Trace(Arc::new(replay)),
        template: Arc::new(PodTemplate {
            name: "trace".into(),
            namespace: "default".into(),
            ..Default::default()
        }),
        sized: Vec::new(),
        duration: None,
        dynamics: None,
        adopted: Vec::new(),
        adopted_ordinals: Vec::new(),
        adopted_ran: Vec::new(),
        forbidden: None,
    }
}

/// A shuffled trace workload, remembered for the checks that need the cluster.
#[derive(Debug, Clone)]
pub(super) struct ShuffledTrace {
    /// Where its `timing` is.
    pub(super) at: Location,
    /// That field's path.
    pub(super) field: String,
    /// Its `demand`, in thousandths of the cluster's GPUs.
    pub(super) demand_permille: u32,
}

impl Builder<'_> {
    /// A node list's `format` (`cluster.trace`, `gpuTrace`): the one format with nodes.
    pub(super) fn trace_format(&self, v: &Spanned<String>, field: &str) -> Result<()> {
        if v.value != FORMAT_ALIBABA_GPU_V2023 && WORKLOAD_FORMATS.contains(&v.value.as_str()) {
            return Err(self.kube.err(
                &v.referenced,
                field,
                format!(
                    "a {:?} trace lists pods only; a trace's nodes come from the {FORMAT_ALIBABA_GPU_V2023:?} format (give the cluster nodePools for the others)",
                    v.value
                ),
            ));
        }
        if v.value != FORMAT_ALIBABA_GPU_V2023 {
            return Err(self.kube.err(
                &v.referenced,
                field,
                format!(
                    "unknown trace format {:?}; the one known is {FORMAT_ALIBABA_GPU_V2023:?}",
                    v.value
                ),
            ));
        }
        Ok(())
    }

    /// A `trace:` workload's `format`.
    fn workload_trace_format(&self, v: &Spanned<String>, field: &str) -> Result<&'static str> {
        match WORKLOAD_FORMATS.iter().find(|f| **f == v.value) {
            Some(f) => Ok(f),
            None => Err(self.kube.err(
                &v.referenced,
                field,
                format!(
                    "unknown trace format {:?}{}; expected {}",
                    v.value,
                    did_you_mean(&v.value, WORKLOAD_FORMATS),
                    one_of(WORKLOAD_FORMATS)
                ),
            )),
        }
    }

    /// A trace file's path, relative to the scenario's directory, and how errors show it.
    pub(super) fn trace_path(&self, p: &Spanned<String>, field: &str) -> Result<(PathBuf, String)> {
        if p.value.is_empty() {
            return Err(self.kube.err(&p.referenced, field, "expected a file path"));
        }
        let dir = Path::new(self.kube.file())
            .parent()
            .unwrap_or(Path::new(""));
        let full = dir.join(&p.value);
        let shown = full.display().to_string();
        Ok((full, shown))
    }

    /// A trace's nodes (`cluster.trace`, or `gpuTrace`'s `nodes`), only those with GPUs
    /// when `gpu_only`; an error when none is left, or, with `need_gpus`, none has GPUs.
    pub(super) fn trace_node_list(
        &self,
        p: &Spanned<String>,
        field: &str,
        gpu_only: bool,
        need_gpus: bool,
    ) -> Result<Vec<NodeSpec>> {
        let (path, shown) = self.trace_path(p, field)?;
        let nodes = load_nodes(&path, &shown, gpu_only)?;
        if need_gpus && !nodes.iter().any(|n| n.gpu.count > 0) {
            return Err(self.kube.err(
                &p.referenced,
                field,
                format!("{shown} lists no node with GPUs"),
            ));
        }
        if nodes.is_empty() {
            return Err(self
                .kube
                .err(&p.referenced, field, format!("{shown} lists no node")));
        }
        Ok(nodes)
    }

    /// `cluster.trace`: the trace's nodes, added to `nodes` after those defined before it.
    pub(super) fn cluster_trace(
        &self,
        t: &Spanned<RawClusterTrace>,
        nodes: &mut Vec<NodeSpec>,
        seen: &mut std::collections::HashMap<String, String>,
        max_nodes: u64,
    ) -> Result<()> {
        let raw = &t.value;
        self.trace_format(&raw.format, "cluster.trace.format")?;
        let field = "cluster.trace.nodes";
        let gpu_only = raw.gpu_nodes_only.unwrap_or(false);
        let list = self.trace_node_list(&raw.nodes, field, gpu_only, gpu_only)?;
        let total = nodes.len() as u64 + list.len() as u64;
        if total > max_nodes {
            return Err(self.kube.err(
                &raw.nodes.referenced,
                field,
                format!(
                    "this trace brings the cluster to {total} nodes; a scenario may define at most {max_nodes}"
                ),
            ));
        }
        let origin = format!("the node list of cluster.trace{}", at_line(&t.referenced));
        for node in list {
            if let Some(first) = seen.get(&node.name) {
                return Err(self.kube.err(
                    &raw.nodes.referenced,
                    field,
                    format!(
                        "the trace lists node {:?}, which {first} already defines",
                        node.name
                    ),
                ));
            }
            seen.insert(node.name.clone(), origin.clone());
            nodes.push(node);
        }
        Ok(())
    }

    /// A `trace:` workload: no other key of a workload applies.
    pub(super) fn trace_workload(
        &mut self,
        w: &RawWorkload,
        t: &Spanned<RawTraceWorkload>,
        base: &str,
    ) -> Result<Workload> {
        if let Some((key, at)) = other_keys(w).into_iter().next() {
            return Err(self.kube.err(
                at.unwrap_or(&t.referenced),
                &format!("{base}.{key}"),
                format!(
                    "`{key}` does not apply to a trace workload: its pods, their requests and \
                     their times come from the trace"
                ),
            ));
        }
        let base = format!("{base}.trace");
        let raw = &t.value;
        let format = self.workload_trace_format(&raw.format, &format!("{base}.format"))?;
        let timing_field = format!("{base}.timing");
        let recorded_default;
        let timing = match &raw.timing {
            Some(t) => Some(t),
            // The other formats are about their own times.
            None if format != FORMAT_ALIBABA_GPU_V2023 => {
                recorded_default = Spanned {
                    value: "recorded".to_owned(),
                    referenced: t.referenced,
                    defined: t.defined,
                };
                Some(&recorded_default)
            }
            None => None,
        };
        let Some(timing) = timing else {
            return Err(self.kube.err(
                &t.referenced,
                &timing_field,
                "missing required field `timing`: `shuffled` (the protocol of Weng et al., \
                 ATC 2023) or `recorded` (the trace's own times)",
            ));
        };
        let recorded = match timing.value.as_str() {
            "shuffled" => false,
            "recorded" => true,
            other => {
                return Err(self.kube.err(
                    &timing.referenced,
                    &timing_field,
                    format!(
                        "unknown timing {other:?}{}; expected {}",
                        did_you_mean(other, TIMINGS),
                        one_of(TIMINGS)
                    ),
                ));
            }
        };
        if recorded {
            for (key, v) in [("demand", &raw.demand), ("interval", &raw.interval)] {
                if let Some(v) = v {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.{key}"),
                        format!(
                            "`{key}` applies to timing: shuffled only; a recorded replay's pods \
                             arrive at the trace's times"
                        ),
                    ));
                }
            }
        }
        let timing = if recorded {
            TraceTiming::Recorded
        } else {
            let demand_permille = match &raw.demand {
                Some(v) => self.permille(v, &format!("{base}.demand"), 1, MAX_DEMAND_PERMILLE)?,
                None => DEFAULT_DEMAND_PERMILLE,
            };
            let interval = match &raw.interval {
                Some(v) => self.positive_duration(v, &format!("{base}.interval"))?,
                None => DEFAULT_TRACE_INTERVAL,
            };
            self.shuffled_traces.push(ShuffledTrace {
                at: timing.referenced,
                field: timing_field,
                demand_permille,
            });
            TraceTiming::Shuffled {
                demand_permille,
                interval,
            }
        };
        let options = self.trace_options(raw, &base)?;
        let scale = self.machine_scale(raw, format, &base, t)?;
        let strict = self.strict_traces || raw.strict.as_ref().is_some_and(|s| s.value);
        let pods_field = format!("{base}.pods");
        let tasks_field = format!("{base}.tasks");
        let tasks = match (&raw.tasks, format) {
            (Some(p), FORMAT_ALIBABA_2018_BATCH) => Some(self.trace_path(p, &tasks_field)?),
            (Some(p), _) => {
                return Err(self.kube.err(
                    &p.referenced,
                    &tasks_field,
                    format!(
                        "`tasks` applies to the {FORMAT_ALIBABA_2018_BATCH} format only, whose instances take their requests from their task"
                    ),
                ));
            }
            (None, FORMAT_ALIBABA_2018_BATCH) => {
                return Err(self.kube.err(
                    &t.referenced,
                    &tasks_field,
                    "missing required field `tasks`: the batch_task table, where each instance's requests (plan_cpu, plan_mem) are",
                ));
            }
            (None, _) => None,
        };
        let (path, shown) = self.trace_path(&raw.pods, &pods_field)?;
        let streams = recorded && STREAMED_FORMATS.contains(&format);
        let stream = match &raw.stream {
            Some(v) if v.value && !streams => {
                return Err(self.kube.err(
                    &v.referenced,
                    &format!("{base}.stream"),
                    format!(
                        "only a recorded {} replay streams; give `stream: false` or leave it out",
                        one_of(STREAMED_FORMATS)
                    ),
                ));
            }
            Some(v) => v.value,
            None => streams,
        };
        let look_ahead = match &raw.look_ahead {
            Some(v) if !(stream && format == FORMAT_GOOGLE_2011) => {
                return Err(self.kube.err(
                    &v.referenced,
                    &format!("{base}.lookAhead"),
                    format!(
                        "`lookAhead` applies to a streamed recorded {FORMAT_GOOGLE_2011} \
                         replay only"
                    ),
                ));
            }
            Some(v) => self.duration(v, &format!("{base}.lookAhead"))?,
            None => DEFAULT_LOOK_AHEAD,
        };
        // What mem_size or plan_mem 100 stands for.
        let alibaba_memory = scale.map_or(0, |s| s.memory_bytes);
        if stream {
            // The batch_task rows skipped, warned of before the instances' as read whole.
            let mut tasks_skipped = None;
            let scan = match format {
                FORMAT_GOOGLE_2011 => {
                    let scale = scale.unwrap_or(GOOGLE_DEFAULT_SCALE);
                    scan_google_2011(&path, &shown, strict, options, (scale, look_ahead))?
                }
                FORMAT_ALIBABA_2018_BATCH => {
                    let (tasks_path, tasks_shown) = tasks.as_ref().expect("checked above");
                    let (table, skipped) =
                        load_batch_tasks(tasks_path, tasks_shown, alibaba_memory, strict)?;
                    tasks_skipped = skipped;
                    scan_alibaba_batch((&path, &shown), Arc::new(table), strict, options)?
                }
                FORMAT_ALIBABA_2018_CONTAINERS => {
                    scan_alibaba_containers((&path, &shown), alibaba_memory, strict, options)?
                }
                // As read whole, with its times: the first bad row is the error.
                FORMAT_ALIBABA_GPU_V2023 => scan_openb(&path, &shown, options)?,
                _ => scan_generic_csv(&path, &shown, strict, options)?,
            };
            match scan.out_of_order {
                None => {
                    if let Some(skipped) = tasks_skipped {
                        self.trace_warnings.push(skipped.warning());
                    }
                    if let Some(skipped) = scan.skipped {
                        self.trace_warnings.push(skipped.warning());
                    }
                    if scan.rows == 0 {
                        return Err(self.kube.err(
                            &raw.pods.referenced,
                            &pods_field,
                            format!("{shown} lists no pod"),
                        ));
                    }
                    if scan.trace.pods == 0 {
                        return Err(self.kube.err(
                            &raw.pods.referenced,
                            &pods_field,
                            format!(
                                "no pod of {shown} is left once `window` and `sample` are applied"
                            ),
                        ));
                    }
                    return Ok(trace_workload(TraceReplay {
                        source: TraceSource::Streamed(scan.trace),
                        timing,
                    }));
                }
                // The whole load below sorts them (and counts its own skipped rows).
                Some(line) => self.trace_warnings.push(format!(
                    "{shown}: line {line} arrives before the row above it, so the replay is \
                     read whole and sorted instead of streamed"
                )),
            }
        }
        let (pods, skipped) = match format {
            FORMAT_ALIBABA_2018_BATCH => {
                let (tasks_path, tasks_shown) = tasks.expect("checked above");
                let l = load_batch_instances(
                    (&path, &shown),
                    (&tasks_path, &tasks_shown),
                    alibaba_memory,
                    strict,
                )?;
                if let Some(skipped) = l.tasks_skipped {
                    self.trace_warnings.push(skipped.warning());
                }
                (l.instances.pods, l.instances.skipped)
            }
            FORMAT_ALIBABA_2018_CONTAINERS => {
                let l = load_containers(&path, &shown, alibaba_memory, strict)?;
                (l.pods, l.skipped)
            }
            FORMAT_GENERIC_CSV => {
                let l = load_generic_csv(&path, &shown, strict)?;
                (l.pods, l.skipped)
            }
            FORMAT_GOOGLE_2011 => {
                let scale = scale.unwrap_or(GOOGLE_DEFAULT_SCALE);
                let l = load_google_2011(&path, &shown, scale, strict)?;
                (l.pods, l.skipped)
            }
            // The openb loader is strict: its files are the trace's own.
            _ => (
                load_pods(&path, &shown, recorded || options.window.is_some())?,
                None,
            ),
        };
        if let Some(skipped) = skipped {
            self.trace_warnings.push(skipped.warning());
        }
        if pods.is_empty() {
            return Err(self.kube.err(
                &raw.pods.referenced,
                &pods_field,
                format!("{shown} lists no pod"),
            ));
        }
        let pods = if format == FORMAT_GOOGLE_2011 {
            options.apply(pods, google_job)
        } else if ALIBABA_2018_FORMATS.contains(&format) {
            options.apply(pods, alibaba_job)
        } else {
            options.apply(pods, |p| p.name.as_str())
        };
        if pods.is_empty() {
            return Err(self.kube.err(
                &raw.pods.referenced,
                &pods_field,
                format!("no pod of {shown} is left once `window` and `sample` are applied"),
            ));
        }
        Ok(trace_workload(TraceReplay::in_memory(pods, timing)))
    }

    /// `window`, `sample`, `timeScale` and `sizeScale` of a trace workload.
    fn trace_options(&self, raw: &RawTraceWorkload, base: &str) -> Result<TraceOptions> {
        let window = match &raw.window {
            Some(w) => Some(self.trace_window(w, &format!("{base}.window"))?),
            None => None,
        };
        let sample = match &raw.sample {
            Some(v) => {
                let field = format!("{base}.sample");
                let x = self.kube.number(v, &field, false)?;
                if x > 1.0 {
                    return Err(self.kube.err(
                        &v.referenced,
                        &field,
                        format!(
                            "expected the fraction of jobs to keep, above 0 and at most 1, got {}",
                            v.value.0
                        ),
                    ));
                }
                Some(x)
            }
            None => None,
        };
        let scale = |v: &Option<Spanned<Scalar>>, key: &str| -> Result<Option<f64>> {
            let Some(v) = v else { return Ok(None) };
            let field = format!("{base}.{key}");
            let x = self.kube.number(v, &field, false)?;
            if x > MAX_TRACE_SCALE {
                return Err(self.kube.err(
                    &v.referenced,
                    &field,
                    format!(
                        "expected a positive factor of at most {MAX_TRACE_SCALE}, got {}",
                        v.value.0
                    ),
                ));
            }
            Ok(Some(x))
        };
        Ok(TraceOptions {
            window,
            sample,
            time_scale: scale(&raw.time_scale, "timeScale")?,
            size_scale: scale(&raw.size_scale, "sizeScale")?,
        })
    }

    /// `window: {start, end}`, in microseconds of trace time; `start` defaults to 0.
    pub(super) fn trace_window(
        &self,
        w: &Spanned<RawTraceWindow>,
        field: &str,
    ) -> Result<(u64, Option<u64>)> {
        let start = match &w.value.start {
            Some(v) => self.duration(v, &format!("{field}.start"))?,
            None => SimTime::ZERO,
        };
        let end = match &w.value.end {
            Some(v) => {
                let end = self.duration(v, &format!("{field}.end"))?;
                if end <= start {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{field}.end"),
                        format!(
                            "the window must end after it starts (at {}s), got {}",
                            start.as_secs_f64(),
                            v.value.0
                        ),
                    ));
                }
                Some(end.as_micros())
            }
            None => None,
        };
        if w.value.start.is_none() && end.is_none() {
            return Err(self.kube.err(
                &w.referenced,
                field,
                "expected `start`, `end` or both: the span of trace time to replay",
            ));
        }
        Ok((start.as_micros(), end))
    }

    /// `machineScale`: required by, and only for, the Google format (both sizes) and the
    /// Alibaba v2018 formats (memory only: their CPU is in hundredths of a core).
    fn machine_scale(
        &self,
        raw: &RawTraceWorkload,
        format: &str,
        base: &str,
        t: &Spanned<RawTraceWorkload>,
    ) -> Result<Option<MachineScale>> {
        let field = format!("{base}.machineScale");
        let alibaba = ALIBABA_2018_FORMATS.contains(&format);
        let Some(m) = &raw.machine_scale else {
            if alibaba {
                return Err(self.kube.err(
                    &t.referenced,
                    &field,
                    "missing required field `machineScale` (what memory 100 is: the trace's memory is normalized to 0-100), e.g. machineScale: {memory: 128Gi}",
                ));
            }
            if format == FORMAT_GOOGLE_2011 {
                return Err(self.kube.err(
                    &t.referenced,
                    &field,
                    "missing required field `machineScale` (what 1.0 is: the trace's CPU and memory are shares of its largest machine), e.g. machineScale: {cpu: \"32\", memory: 128Gi}",
                ));
            }
            return Ok(None);
        };
        if alibaba {
            if let Some(cpu) = &m.value.cpu {
                return Err(self.kube.err(
                    &cpu.referenced,
                    &format!("{field}.cpu"),
                    "this trace gives CPU in hundredths of a core (100 is 1 core); only `memory` (what memory 100 is) is scaled",
                ));
            }
            return Ok(Some(MachineScale {
                cpu_milli: 0,
                memory_bytes: self.machine_part(m, &field, "memory")?,
            }));
        }
        if format != FORMAT_GOOGLE_2011 {
            return Err(self.kube.err(
                &m.referenced,
                &field,
                format!(
                    "`machineScale` applies to the {FORMAT_GOOGLE_2011} and Alibaba v2018 formats only, whose sizes are normalized to the largest machine"
                ),
            ));
        }
        Ok(Some(MachineScale {
            cpu_milli: self.machine_part(m, &field, "cpu")?,
            memory_bytes: self.machine_part(m, &field, "memory")?,
        }))
    }

    /// `cpu` or `memory` of a `machineScale` at `field`: the largest machine's, required.
    pub(super) fn machine_part(
        &self,
        m: &Spanned<RawMachineScale>,
        field: &str,
        key: &str,
    ) -> Result<i64> {
        let (v, kind, max) = if key == "cpu" {
            (&m.value.cpu, ResourceKind::CPU, MAX_MACHINE_CPU_MILLI)
        } else {
            (&m.value.memory, ResourceKind::MEMORY, MAX_MACHINE_MEMORY)
        };
        let f = format!("{field}.{key}");
        let Some(v) = v else {
            return Err(self.kube.err(
                &m.referenced,
                &f,
                format!("missing required field `{key}`: the largest machine's {key}"),
            ));
        };
        let q = self.kube.quantity(kind, v, &f)?;
        if q <= 0 || q > max {
            return Err(self.kube.err(
                &v.referenced,
                &f,
                format!(
                    "expected a {key} above zero and at most a petascale machine's, got {}",
                    v.value.0
                ),
            ));
        }
        Ok(q)
    }

    /// `queue:`.
    pub(super) fn queue(&self, q: &Spanned<RawQueue>) -> Result<QueueOptions> {
        let max_attempts = match &q.value.max_attempts {
            Some(v) => Some(self.kube.integer(
                v,
                "queue.maxAttempts",
                1,
                u32::MAX.into(),
                "a number of attempts",
            )? as u32),
            None => None,
        };
        Ok(QueueOptions { max_attempts })
    }

    /// `gpuFill:`, once the cluster and the workloads are known: `demand` defaults to the
    /// largest of the shuffled trace workloads'.
    pub(super) fn gpu_fill(
        &self,
        f: &Spanned<RawGpuFill>,
        nodes: &[NodeSpec],
    ) -> Result<GpuFillOptions> {
        let raw = &f.value;
        if !nodes.iter().any(|n| n.gpu.count > 0) {
            return Err(self.kube.err(
                &f.referenced,
                "gpuFill",
                "the cluster has no GPUs: a GPU allocation curve needs nodes with `gpus` \
                 (or a trace's GPU nodes)",
            ));
        }
        let demand_permille = match &raw.demand {
            Some(v) => self.permille(v, "gpuFill.demand", 1, MAX_DEMAND_PERMILLE)?,
            None => match self.shuffled_traces.iter().map(|t| t.demand_permille).max() {
                Some(d) => d,
                None => {
                    return Err(self.kube.err(
                        &f.referenced,
                        "gpuFill.demand",
                        "missing required field `demand` (the arrived GPU demand, in multiples \
                         of the cluster's GPUs, at which the curve ends); it defaults only to a \
                         shuffled trace workload's",
                    ));
                }
            },
        };
        let step_permille = match &raw.step {
            Some(v) => self.permille(v, "gpuFill.step", 1, demand_permille)?,
            None => DEFAULT_STEP_PERMILLE.min(demand_permille),
        };
        Ok(GpuFillOptions {
            step_permille,
            demand_permille,
        })
    }

    /// A shuffled replay stops at a share of the cluster's GPUs: refused when it has none.
    pub(super) fn check_shuffled_traces(&self, nodes: &[NodeSpec]) -> Result<()> {
        match self.shuffled_traces.first() {
            Some(t) if !nodes.iter().any(|n| n.gpu.count > 0) => Err(self.kube.err(
                &t.at,
                &t.field,
                "a shuffled replay's arrivals stop at `demand` times the cluster's GPUs, but \
                 the cluster has no GPUs",
            )),
            _ => Ok(()),
        }
    }
}

/// The pod shapes of every trace workload with their counts: the task mix
/// fragmentation-aware schedulers measure against. A streamed replay's were counted by
/// its load-time scan.
pub(super) fn trace_tasks(workloads: &[Workload]) -> Vec<(GpuTask, u64)> {
    let mut counts: BTreeMap<GpuTask, u64> = BTreeMap::new();
    for w in workloads {
        let WorkloadKind::Trace(replay) = &w.kind else {
            continue;
        };
        match &replay.source {
            TraceSource::InMemory(pods) => {
                for (task, n) in target_workload(pods) {
                    *counts.entry(task).or_default() += n;
                }
            }
            TraceSource::Streamed(s) => {
                for (task, n) in &s.shapes {
                    *counts.entry(task.clone()).or_default() += n;
                }
            }
        }
    }
    counts.into_iter().collect()
}

/// The keys of a workload besides its kind, with where each is when known.
fn other_keys(w: &RawWorkload) -> Vec<(&'static str, Option<&Location>)> {
    fn at<T>(v: &Option<Spanned<T>>) -> Option<Option<&Location>> {
        v.as_ref().map(|v| Some(&v.referenced))
    }
    fn first<T>(v: &Option<Vec<Spanned<T>>>) -> Option<Option<&Location>> {
        v.as_ref().map(|v| v.first().map(|v| &v.referenced))
    }
    fn entries<K, V>(
        v: &Option<schedulers::yaml::Entries<Spanned<K>, V>>,
    ) -> Option<Option<&Location>> {
        v.as_ref().map(|e| e.0.first().map(|(k, _)| &k.referenced))
    }
    let keys = [
        ("pod", at(&w.pod)),
        ("deployment", at(&w.deployment)),
        ("batch", at(&w.batch)),
        ("count", at(&w.count)),
        ("replicas", at(&w.replicas)),
        ("at", at(&w.at)),
        ("arrivals", at(&w.arrivals)),
        ("duration", at(&w.duration)),
        ("namespace", at(&w.namespace)),
        ("labels", entries(&w.labels)),
        ("annotations", entries(&w.annotations)),
        ("priority", at(&w.priority)),
        (
            "terminationGracePeriodSeconds",
            at(&w.termination_grace_period_seconds),
        ),
        ("priorityClassName", at(&w.priority_class_name)),
        ("preemptionPolicy", at(&w.preemption_policy)),
        ("requests", at(&w.requests)),
        ("limits", at(&w.limits)),
        ("ports", at(&w.ports)),
        ("containers", at(&w.containers)),
        ("initContainers", at(&w.init_containers)),
        ("overhead", entries(&w.overhead)),
        ("nodeSelector", entries(&w.node_selector)),
        ("tolerations", first(&w.tolerations)),
        ("affinity", w.affinity.as_ref().map(|_| None)),
        (
            "topologySpreadConstraints",
            first(&w.topology_spread_constraints),
        ),
        ("nodeName", at(&w.node_name)),
        ("volumes", first(&w.volumes)),
        ("podGroup", at(&w.pod_group)),
        ("gpu", at(&w.gpu)),
        ("gpuModels", at(&w.gpu_models)),
    ];
    keys.into_iter()
        .filter_map(|(key, at)| at.map(|at| (key, at)))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::scenario::gpu_trace::TracePod;
    use schedulers::gpu::{GpuRequest, NodeGpus};
    use schedulers::{Labels, ResourceKind, Resources};

    use super::super::testing::{check_at, error, load};
    use super::*;

    /// A directory of this test's own, with the trace files written into it.
    fn dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("schedlab-trace-yaml-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        dir
    }

    const NODES: &str =
        "sn,cpu_milli,memory_mib,gpu,model\ncpu,32000,1024,0,\ng1,96000,2048,8,V100M32\n";
    const PODS: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,creation_time,deletion_time,scheduled_time\n\
                        a,1000,100,1,500,,10,40,12\nb,2000,200,2,1000,V100M32,5,,\n";

    fn files(name: &str) -> PathBuf {
        dir(name, &[("nodes.csv", NODES), ("pods.csv", PODS)])
    }

    fn pods(times: bool) -> Vec<TracePod> {
        let t = |v: u64| times.then_some(v * 1_000_000);
        vec![
            TracePod {
                name: "a".into(),
                cpu_milli: 1000,
                memory_bytes: 100 << 20,
                gpu: GpuRequest::share(500),
                created_micros: t(10),
                scheduled_micros: t(12),
                deleted_micros: t(40),
                ..Default::default()
            },
            TracePod {
                name: "b".into(),
                cpu_milli: 2000,
                memory_bytes: 200 << 20,
                gpu: GpuRequest {
                    count: 2,
                    milli: 1000,
                    models: vec!["V100M32".into()],
                },
                created_micros: t(5),
                scheduled_micros: None,
                deleted_micros: None,
                ..Default::default()
            },
        ]
    }

    fn replay(w: &Workload) -> &TraceReplay {
        match &w.kind {
            WorkloadKind::Trace(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trace_sections_load_into_exact_values() {
        let d = files("good");
        let d = d.display();
        let s = load(&format!(
            "queue: {{maxAttempts: 3}}
gpuFill: {{step: 0.05}}
cluster:
  nodePools: [{{name: small, count: 1, allocatable: {{cpu: '1'}}}}]
  trace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv, gpuNodesOnly: true}}
workloads:
  - trace: {{format: alibaba-gpu-v2023, pods: {d}/pods.csv, timing: shuffled, demand: 2, interval: 5s}}
  - trace: {{format: alibaba-gpu-v2023, pods: {d}/pods.csv, timing: recorded}}
"
        ));
        let names: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["small-0", "g1"], "file order; GPU nodes only");
        let mut allocatable = Resources::cpu_mem(96000, 2048 << 20);
        allocatable.set(ResourceKind::PODS, 110);
        let mut labels = Labels::default();
        labels.insert("kubernetes.io/hostname".into(), "g1".into());
        labels.insert("alibaba.com/gpu-model".into(), "V100M32".into());
        assert_eq!(
            s.nodes[1],
            NodeSpec {
                name: "g1".into(),
                allocatable,
                labels,
                gpu: NodeGpus {
                    count: 8,
                    model: "V100M32".into()
                },
                ..Default::default()
            }
        );
        assert_eq!(
            replay(&s.workloads[0]),
            &TraceReplay::in_memory(
                pods(false),
                TraceTiming::Shuffled {
                    demand_permille: 2000,
                    interval: SimTime::from_secs(5)
                }
            ),
            "a shuffled replay does not read the times"
        );
        assert_eq!(
            replay(&s.workloads[1]),
            &TraceReplay::in_memory(pods(true), TraceTiming::Recorded)
        );
        for w in &s.workloads {
            assert_eq!(w.template.name, "trace");
            assert!(w.duration.is_none() && w.sized.is_empty());
        }
        assert_eq!(s.queue.max_attempts, Some(3));
        assert_eq!(
            s.gpu_fill,
            Some(GpuFillOptions {
                step_permille: 50,
                demand_permille: 2000
            }),
            "the curve ends at the shuffled replay's demand"
        );
        let mut both = pods(false);
        both.extend(pods(true));
        assert_eq!(
            s.gpu_workload,
            crate::controllers::workloads::target_workload(&both),
            "fgd's task mix: every trace workload's pods"
        );
        assert_eq!(s.gpu_workload.iter().map(|(_, n)| n).sum::<u64>(), 4);
    }

    #[test]
    fn defaults_are_the_papers_and_kubernetes() {
        let d = files("defaults");
        let d = d.display();
        let s = load(&format!(
            "gpuFill: {{}}
cluster: {{trace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv}}}}
workloads: [{{trace: {{format: alibaba-gpu-v2023, pods: {d}/pods.csv, timing: shuffled}}}}]
"
        ));
        assert_eq!(s.nodes.len(), 2, "every node of the file");
        assert_eq!(
            replay(&s.workloads[0]).timing,
            TraceTiming::Shuffled {
                demand_permille: 1300,
                interval: SimTime::from_secs(1)
            }
        );
        assert_eq!(s.queue.max_attempts, None, "retried for ever");
        assert_eq!(
            s.gpu_fill,
            Some(GpuFillOptions {
                step_permille: 10,
                demand_permille: 1300
            })
        );
        let s = load(&format!(
            "cluster: {{trace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv}}}}
gpuFill: {{demand: 0.005}}
"
        ));
        assert_eq!(
            s.gpu_fill,
            Some(GpuFillOptions {
                step_permille: 5,
                demand_permille: 5
            }),
            "the step is at most the demand"
        );
        assert!(s.workloads.is_empty() && s.gpu_workload.is_empty());
    }

    #[test]
    fn the_shorthand_is_the_general_form() {
        let d = files("shorthand");
        let d = d.display();
        let short = load(&format!(
            "gpuTrace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv, pods: {d}/pods.csv, demand: 1.5, fillStep: 0.02}}\n"
        ));
        let long = load(&format!(
            "cluster: {{trace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv, gpuNodesOnly: true}}}}
workloads:
  - trace: {{format: alibaba-gpu-v2023, pods: {d}/pods.csv, timing: shuffled, demand: 1.5, interval: 1s}}
queue: {{maxAttempts: 1}}
gpuFill: {{step: 0.02, demand: 1.5}}
"
        ));
        assert_eq!(short.nodes, long.nodes);
        assert_eq!(short.workloads.len(), 1);
        assert_eq!(long.workloads.len(), 1);
        let (a, b) = (&short.workloads[0], &long.workloads[0]);
        assert_eq!(a.kind, b.kind);
        assert_eq!(a.template, b.template);
        assert_eq!((&a.sized, &a.duration), (&b.sized, &b.duration));
        assert_eq!(short.queue, long.queue);
        assert_eq!(short.gpu_fill, long.gpu_fill);
        assert_eq!(short.gpu_workload, long.gpu_workload);
        assert!(short.gpu_trace.is_some() && long.gpu_trace.is_none());
    }

    #[test]
    fn trace_errors_are_located() {
        let d = files("errors");
        let d = d.display();
        let nodes =
            format!("cluster: {{trace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv}}}}\n");
        let pods = format!("{d}/pods.csv");
        let trace = |rest: &str| {
            format!(
                "{nodes}workloads: [{{trace: {{format: alibaba-gpu-v2023, pods: {pods}{rest}}}}}]\n"
            )
        };
        check_at(
            &trace("}, requests: {cpu: '1'"),
            "{cpu",
            "workloads[0].requests",
            "`requests` does not apply to a trace workload: its pods, their requests and their times come from the trace",
        );
        check_at(
            "workloads: [{pod: p, trace: {format: alibaba-gpu-v2023, pods: x}}]\n",
            "{format",
            "workloads[0].trace",
            "a workload has exactly one kind, but this one has both `pod` and `trace`",
        );
        check_at(
            &trace(""),
            "{format: alibaba-gpu-v2023, pods",
            "workloads[0].trace.timing",
            "missing required field `timing`: `shuffled` (the protocol of Weng et al., ATC 2023) or `recorded` (the trace's own times)",
        );
        check_at(
            &trace(", timing: shufled"),
            "shufled",
            "workloads[0].trace.timing",
            "unknown timing \"shufled\" (did you mean shuffled?); expected shuffled or recorded",
        );
        check_at(
            &trace(", timing: recorded, interval: 1s"),
            "1s",
            "workloads[0].trace.interval",
            "`interval` applies to timing: shuffled only; a recorded replay's pods arrive at the trace's times",
        );
        check_at(
            &trace(", timing: recorded, demand: 1"),
            "1}",
            "workloads[0].trace.demand",
            "`demand` applies to timing: shuffled only; a recorded replay's pods arrive at the trace's times",
        );
        check_at(
            &trace(", timing: shuffled, demand: 0"),
            "0}",
            "workloads[0].trace.demand",
            "expected a positive number, got 0",
        );
        check_at(
            &trace(", timing: shuffled, interval: 0s"),
            "0s",
            "workloads[0].trace.interval",
            "expected a duration longer than zero, got 0",
        );
        check_at(
            "workloads: [{trace: {format: azure, pods: p.csv, timing: recorded}}]\n",
            "azure",
            "workloads[0].trace.format",
            "unknown trace format \"azure\"; expected alibaba-gpu-v2023, alibaba-2018-batch-instance, alibaba-2018-container-meta, generic-csv or google-2011-task-events",
        );
        check_at(
            "cluster: {trace: {format: generic-csv, nodes: n.csv}}\n",
            "generic-csv",
            "cluster.trace.format",
            "a \"generic-csv\" trace lists pods only; a trace's nodes come from the \"alibaba-gpu-v2023\" format (give the cluster nodePools for the others)",
        );
        check_at(
            "workloads: [{trace: {format: google-2011-task-events, pods: p.csv}}]\n",
            "{format: google",
            "workloads[0].trace.machineScale",
            "missing required field `machineScale` (what 1.0 is: the trace's CPU and memory are shares of its largest machine), e.g. machineScale: {cpu: \"32\", memory: 128Gi}",
        );
        check_at(
            "workloads: [{trace: {format: generic-csv, pods: p.csv, machineScale: {cpu: '1', memory: 1Gi}}}]\n",
            "{cpu: '1'",
            "workloads[0].trace.machineScale",
            "`machineScale` applies to the google-2011-task-events and Alibaba v2018 formats only, whose sizes are normalized to the largest machine",
        );
        check_at(
            "workloads: [{trace: {format: generic-csv, pods: p.csv, sample: 1.5}}]\n",
            "1.5",
            "workloads[0].trace.sample",
            "expected the fraction of jobs to keep, above 0 and at most 1, got 1.5",
        );
        check_at(
            "workloads: [{trace: {format: generic-csv, pods: p.csv, window: {start: 2h, end: 1h}}}]\n",
            "1h",
            "workloads[0].trace.window.end",
            "the window must end after it starts (at 7200s), got 1h",
        );
        check_at(
            "workloads: [{trace: {format: generic-csv, pods: p.csv, timeScale: 1001}}]\n",
            "1001",
            "workloads[0].trace.timeScale",
            "expected a positive factor of at most 1000, got 1001",
        );
        check_at(
            "workloads: [{trace: {format: alibaba-gpu-v2023, pods: '', timing: recorded}}]\n",
            "''",
            "workloads[0].trace.pods",
            "expected a file path",
        );
        let empty = dir(
            "empty",
            &[(
                "pods.csv",
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n",
            )],
        );
        let empty = format!("{}/pods.csv", empty.display());
        check_at(
            &format!(
                "workloads: [{{trace: {{format: alibaba-gpu-v2023, pods: {empty}, timing: shuffled}}}}]\n"
            ),
            &empty,
            "workloads[0].trace.pods",
            &format!("{empty} lists no pod"),
        );
        check_at(
            &format!(
                "cluster: {{nodePools: [{{name: n, count: 1}}]}}\nworkloads: [{{trace: {{format: alibaba-gpu-v2023, pods: {pods}, timing: shuffled}}}}]\n"
            ),
            "shuffled",
            "workloads[0].trace.timing",
            "a shuffled replay's arrivals stop at `demand` times the cluster's GPUs, but the cluster has no GPUs",
        );
        check_at(
            "queue: {maxAttempts: 0}\n",
            "0}",
            "queue.maxAttempts",
            "expected a number of attempts from 1 to 4294967295, got 0",
        );
        check_at(
            "cluster: {nodePools: [{name: n, count: 1}]}\ngpuFill: {demand: 1}\n",
            "{demand",
            "gpuFill",
            "the cluster has no GPUs: a GPU allocation curve needs nodes with `gpus` (or a trace's GPU nodes)",
        );
        check_at(
            &format!("{nodes}gpuFill: {{step: 0.01}}\n"),
            "{step",
            "gpuFill.demand",
            "missing required field `demand` (the arrived GPU demand, in multiples of the cluster's GPUs, at which the curve ends); it defaults only to a shuffled trace workload's",
        );
        check_at(
            &format!("{nodes}gpuFill: {{step: 2, demand: 1}}\n"),
            "2,",
            "gpuFill.step",
            "expected a number from 0.001 to 1, got 2",
        );
        check_at(
            &format!(
                "cluster:\n  nodePools: [{{name: g1, count: 1}}]\n  nodes: [{{name: cpu}}]\n  trace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv}}\n"
            ),
            &format!("{d}/nodes"),
            "cluster.trace.nodes",
            "the trace lists node \"cpu\", which cluster.nodes[0] (line 3) already defines",
        );
        check_at(
            &format!(
                "cluster:\n  trace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv}}\n  nodes: [{{name: g1}}]\n"
            ),
            "g1}",
            "cluster.nodes[0].name",
            "duplicate node name \"g1\": the node list of cluster.trace (line 2) already defines it",
        );
        let cpu = dir(
            "cpu",
            &[("nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nc,1,1,0,\n")],
        );
        let cpu = format!("{}/nodes.csv", cpu.display());
        check_at(
            &format!(
                "cluster: {{trace: {{format: alibaba-gpu-v2023, nodes: {cpu}, gpuNodesOnly: true}}}}\n"
            ),
            &cpu,
            "cluster.trace.nodes",
            &format!("{cpu} lists no node with GPUs"),
        );
        check_at(
            &format!(
                "gpuTrace: {{format: alibaba-gpu-v2023, nodes: {d}/nodes.csv, pods: {pods}}}\nqueue: {{maxAttempts: 2}}\n"
            ),
            "{format",
            "gpuTrace",
            "a gpuTrace scenario takes its nodes and pods from the trace and sets the queue and the GPU allocation curve itself; remove `queue` (or write the replay out in full: see docs/gpu-sharing.md)",
        );
    }

    #[test]
    fn trace_file_errors_name_the_trace_file() {
        let untimed = dir(
            "untimed",
            &[(
                "pods.csv",
                "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\na,1,1,0,0,\n",
            )],
        );
        let path = format!("{}/pods.csv", untimed.display());
        let e = error(&format!(
            "workloads: [{{trace: {{format: alibaba-gpu-v2023, pods: {path}, timing: recorded}}}}]\n"
        ));
        assert_eq!(
            (e.path.as_str(), e.line, e.column, e.field.as_deref()),
            (path.as_str(), Some(1), None, Some("creation_time"))
        );
        // The same file replays shuffled: it needs no times.
        let files = files("untimed-shuffled");
        load(&format!(
            "cluster: {{trace: {{format: alibaba-gpu-v2023, nodes: {}/nodes.csv}}}}\nworkloads: [{{trace: {{format: alibaba-gpu-v2023, pods: {path}, timing: shuffled}}}}]\n",
            files.display()
        ));
    }
}
