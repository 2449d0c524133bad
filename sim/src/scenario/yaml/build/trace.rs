//! Trace replays in the general syntax: a `trace:` workload (a trace's pods, at shuffled or
//! recorded times), `cluster.trace` (a trace's nodes), and the two scenario-level options
//! the paper's protocol needs, `queue:` and `gpuFill:`. `gpuTrace:` (in `gpu`) is a
//! shorthand for all four, and expands through the same functions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use schedulers::yaml::message::{at_line, did_you_mean, one_of};
use schedulers::{NodeSpec, PodTemplate};
use serde_saphyr::{Location, Spanned};

use super::super::raw::{RawClusterTrace, RawGpuFill, RawQueue, RawTraceWorkload, RawWorkload};
use super::{Builder, Result};
use crate::scenario::gpu_trace::{FORMAT_ALIBABA_GPU_V2023, TracePod, load_nodes, load_pods};
use crate::scenario::{
    GpuFillOptions, QueueOptions, TraceReplay, TraceTiming, Workload, WorkloadKind,
};
use crate::time::SimTime;

/// The paper's protocol stops arrivals at 1.3 times the cluster's GPUs.
pub(super) const DEFAULT_DEMAND_PERMILLE: u32 = 1300;
/// `gpu-fill.csv` has a row every 1% of the cluster's GPUs by default.
pub(super) const DEFAULT_STEP_PERMILLE: u32 = 10;
/// The largest `demand`: a hundred times the cluster's GPUs.
pub(super) const MAX_DEMAND_PERMILLE: u32 = 100_000;

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
    /// A trace's `format`: the one format known.
    pub(super) fn trace_format(&self, v: &Spanned<String>, field: &str) -> Result<()> {
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
        let origin = format!(
            "the trace's node list (cluster.trace{})",
            at_line(&t.referenced)
        );
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
        self.trace_format(&raw.format, &format!("{base}.format"))?;
        let timing_field = format!("{base}.timing");
        let Some(timing) = &raw.timing else {
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
        let pods_field = format!("{base}.pods");
        let (path, shown) = self.trace_path(&raw.pods, &pods_field)?;
        let pods = load_pods(&path, &shown, recorded)?;
        if pods.is_empty() {
            return Err(self.kube.err(
                &raw.pods.referenced,
                &pods_field,
                format!("{shown} lists no pod"),
            ));
        }
        Ok(trace_workload(TraceReplay { pods, timing }))
    }

    /// `queue:`.
    pub(super) fn queue(&self, q: &Spanned<RawQueue>) -> Result<QueueOptions> {
        let max_attempts = match &q.value.max_attempts {
            Some(v) => Some(self.kube.integer(
                v,
                "queue.maxAttempts",
                1,
                u32::MAX.into(),
                "a number of attempts from 1",
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

/// The pods of every trace workload, in workload and file order: the task mix
/// fragmentation-aware schedulers measure against.
pub(super) fn trace_pods(workloads: &[Workload]) -> Vec<TracePod> {
    workloads
        .iter()
        .filter_map(|w| match &w.kind {
            WorkloadKind::Trace(replay) => Some(replay.pods.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect()
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
