//! `seeds:` and `gpuTrace:`: the settings of a GPU trace replay (see
//! `crate::scenario::gpu_trace`), a shorthand for a trace's GPU nodes, a shuffled trace
//! workload, one attempt per pod and the GPU allocation curve (read by the functions of
//! `trace`, which reads the general form).

use serde_saphyr::Spanned;

use schedulers::gpu::{GPU_MILLI, GpuRequest, MAX_GPUS_PER_NODE, NodeGpus};
use schedulers::quantity::parse_cpu_millis;
use schedulers::yaml::Scalar;
use schedulers::yaml::message::shown;

use super::super::raw::RawGpuTrace;
use super::trace::{DEFAULT_DEMAND_PERMILLE, DEFAULT_STEP_PERMILLE, MAX_DEMAND_PERMILLE};
use super::{Builder, Result};
use crate::scenario::gpu_trace::{GpuTrace, load_pods};

impl Builder<'_> {
    /// `seeds`: distinct non-negative integers, in file order; refused next to `seed`.
    pub(super) fn seeds(
        &self,
        seeds: Option<&Spanned<Vec<Spanned<Scalar>>>>,
        has_seed: bool,
    ) -> Result<Vec<u64>> {
        let Some(list) = seeds else {
            return Ok(Vec::new());
        };
        if has_seed {
            return Err(self.kube.err(
                &list.referenced,
                "seeds",
                "give either `seed` (one run per scheduler) or `seeds` (a run per seed), not both",
            ));
        }
        if list.value.is_empty() {
            return Err(self
                .kube
                .err(&list.referenced, "seeds", "expected at least one seed"));
        }
        let mut out: Vec<u64> = Vec::new();
        for (i, v) in list.value.iter().enumerate() {
            let field = format!("seeds[{i}]");
            let n = self
                .kube
                .integer(v, &field, 0, u64::MAX.into(), "a non-negative integer")?;
            let n = u64::try_from(n).unwrap_or(u64::MAX);
            if out.contains(&n) {
                return Err(self.kube.err(
                    &v.referenced,
                    &field,
                    format!("seed {n} is listed twice"),
                ));
            }
            out.push(n);
        }
        Ok(out)
    }

    /// A fraction of the cluster's GPUs, in thousandths, from `min` to `max`.
    pub(super) fn permille(
        &self,
        v: &Spanned<Scalar>,
        field: &str,
        min: u32,
        max: u32,
    ) -> Result<u32> {
        let x = self.kube.number(v, field, false)?;
        let p = (x * 1000.0).round();
        if p < f64::from(min) || p > f64::from(max) {
            return Err(self.kube.err(
                &v.referenced,
                field,
                format!(
                    "expected a number from {} to {}, got {}",
                    f64::from(min) / 1000.0,
                    f64::from(max) / 1000.0,
                    v.value.0
                ),
            ));
        }
        Ok(p as u32)
    }

    /// `gpuTrace`: reads both trace files (paths relative to the scenario's directory).
    /// `others` are the sections it replaces, with where each is, in file order.
    pub(super) fn gpu_trace(
        &self,
        t: &Spanned<RawGpuTrace>,
        others: &[(&str, Option<&serde_saphyr::Location>)],
    ) -> Result<GpuTrace> {
        if let Some((key, _)) = others.iter().find(|(_, at)| at.is_some()) {
            return Err(self.kube.err(
                &t.referenced,
                "gpuTrace",
                format!(
                    "a gpuTrace scenario takes its nodes and pods from the trace and sets the \
                     queue and the GPU allocation curve itself; remove `{key}` (or write the \
                     replay out in full: see docs/gpu-sharing.md)"
                ),
            ));
        }
        let t_value = &t.value;
        self.trace_format(&t_value.format, "gpuTrace.format")?;
        let (pods_path, pods_shown) = self.trace_path(&t_value.pods, "gpuTrace.pods")?;
        let nodes = self.trace_node_list(
            &t_value.nodes,
            "gpuTrace.nodes",
            t_value.gpu_nodes_only.unwrap_or(true),
            true,
        )?;
        let pods = load_pods(&pods_path, &pods_shown, false)?;
        if !pods.iter().any(|p| p.gpu.is_some()) {
            return Err(self.kube.err(
                &t_value.pods.referenced,
                "gpuTrace.pods",
                format!("{pods_shown} lists no pod asking for GPUs"),
            ));
        }
        let demand_permille = match &t_value.demand {
            Some(v) => self.permille(v, "gpuTrace.demand", 1, MAX_DEMAND_PERMILLE)?,
            None => DEFAULT_DEMAND_PERMILLE,
        };
        let step_permille = match &t_value.fill_step {
            Some(v) => self.permille(v, "gpuTrace.fillStep", 1, demand_permille)?,
            None => DEFAULT_STEP_PERMILLE,
        };
        Ok(GpuTrace {
            nodes,
            pods,
            demand_permille,
            step_permille,
        })
    }
}

impl Builder<'_> {
    /// A node's or pool's `gpus` and `gpuModel`.
    pub(super) fn node_gpus(
        &self,
        gpus: Option<&Spanned<Scalar>>,
        model: Option<&Spanned<String>>,
        base: &str,
    ) -> Result<NodeGpus> {
        let count = match gpus {
            Some(v) => self.kube.integer(
                v,
                &format!("{base}.gpus"),
                0,
                MAX_GPUS_PER_NODE.into(),
                "a number of GPUs",
            )? as u32,
            None => 0,
        };
        let model = match model {
            Some(m) if count == 0 => {
                return Err(self.kube.err(
                    &m.referenced,
                    &format!("{base}.gpuModel"),
                    "a GPU model needs GPUs: set `gpus` to 1 or more",
                ));
            }
            Some(m) => self
                .kube
                .non_empty(m, &format!("{base}.gpuModel"), "a GPU model")?,
            None => String::new(),
        };
        Ok(NodeGpus { count, model })
    }

    /// A workload's `gpu` (a share of one GPU below 1, such as `0.5` or `250m`, or a
    /// whole number of GPUs) and `gpuModels`.
    pub(super) fn pod_gpu(
        &self,
        gpu: Option<&Spanned<Scalar>>,
        models: Option<&Spanned<Vec<Spanned<String>>>>,
        base: &str,
    ) -> Result<GpuRequest> {
        let field = format!("{base}.gpu");
        let mut req = match gpu {
            None => GpuRequest::default(),
            Some(v) => {
                let bad = || {
                    self.kube.err(
                        &v.referenced,
                        &field,
                        format!(
                            "expected a share of one GPU below 1 (0.5, 250m) or a whole number \
                             of GPUs from 1 to {MAX_GPUS_PER_NODE}, got {}",
                            shown(&v.value.0)
                        ),
                    )
                };
                let milli = parse_cpu_millis(&v.value.0).map_err(|_| bad())?;
                match milli {
                    1..=999 => GpuRequest::share(milli as u32),
                    m if m > 0
                        && m % i64::from(GPU_MILLI) == 0
                        && m / i64::from(GPU_MILLI) <= i64::from(MAX_GPUS_PER_NODE) =>
                    {
                        GpuRequest::whole((m / i64::from(GPU_MILLI)) as u32)
                    }
                    _ => return Err(bad()),
                }
            }
        };
        if let Some(list) = models {
            if !req.is_some() {
                return Err(self.kube.err(
                    &list.referenced,
                    &format!("{base}.gpuModels"),
                    "GPU models restrict where the pod's GPUs come from: set `gpu` too",
                ));
            }
            for (i, m) in list.value.iter().enumerate() {
                req.models.push(self.kube.non_empty(
                    m,
                    &format!("{base}.gpuModels[{i}]"),
                    "a GPU model",
                )?);
            }
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, load};
    use super::*;

    #[test]
    fn seeds_and_gpus_are_read() {
        let s = load(
            "seeds: [3, 1, 2]
cluster: {nodePools: [{name: g, count: 1, gpus: 8, gpuModel: V100}, {name: c, count: 1}]}
workloads:
  - {pod: share, gpu: 0.5}
  - {pod: milli, gpu: 250m, gpuModels: [V100, A100]}
  - {pod: whole, gpu: 2}
",
        );
        assert_eq!(s.seeds, [3, 1, 2]);
        assert_eq!(
            s.nodes[0].gpu,
            NodeGpus {
                count: 8,
                model: "V100".into()
            }
        );
        assert_eq!(s.nodes[1].gpu, NodeGpus::default());
        let gpus: Vec<&GpuRequest> = s.workloads.iter().map(|w| &w.template.gpu).collect();
        let mut milli = GpuRequest::share(250);
        milli.models = vec!["V100".into(), "A100".into()];
        assert_eq!(
            gpus,
            [&GpuRequest::share(500), &milli, &GpuRequest::whole(2)]
        );
    }

    #[test]
    fn gpu_errors_are_located() {
        check_at(
            "seed: 1\nseeds: [2]\n",
            "[2]",
            "seeds",
            "give either `seed` (one run per scheduler) or `seeds` (a run per seed), not both",
        );
        check_at(
            "seeds: [2, 2]\n",
            "2]",
            "seeds[1]",
            "seed 2 is listed twice",
        );
        check_at(
            "cluster: {nodes: [{name: n, gpuModel: V100}]}\n",
            "V100",
            "cluster.nodes[0].gpuModel",
            "a GPU model needs GPUs: set `gpus` to 1 or more",
        );
        check_at(
            "workloads: [{pod: p, gpu: 1.5}]\n",
            "1.5",
            "workloads[0].gpu",
            "expected a share of one GPU below 1 (0.5, 250m) or a whole number of GPUs from 1 to 64, got 1.5",
        );
        check_at(
            "workloads: [{pod: p, gpuModels: [V100]}]\n",
            "[V100]",
            "workloads[0].gpuModels",
            "GPU models restrict where the pod's GPUs come from: set `gpu` too",
        );
        check_at(
            "gpuTrace: {format: csv, nodes: n.csv, pods: p.csv}\n",
            "csv,",
            "gpuTrace.format",
            "unknown trace format \"csv\"; the one known is \"alibaba-gpu-v2023\"",
        );
    }
}
