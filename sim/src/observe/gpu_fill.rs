//! The GPU allocation curve of a trace replay (`gpu-fill.csv`): how much of the cluster's
//! GPU is allocated each time the GPU asked for by arrived pods crosses another step, as
//! Weng et al. (ATC 2023, Figure 7) plot it.

use crate::observe::{Fact, Observer, View};

/// The cluster's GPU allocation once arrived demand first reached a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuFillPoint {
    /// The step: arrived GPU demand, in thousandths of the cluster's GPUs.
    pub step_permille: u32,
    /// GPU asked by the pods arrived so far, in milli-GPU (at least the step's amount).
    pub arrived_milli: u64,
    /// GPU allocated to pods then, in milli-GPU.
    pub allocated_milli: u64,
    /// The cluster's GPU, in milli-GPU.
    pub capacity_milli: u64,
    /// Pods arrived so far.
    pub pods_arrived: u64,
    /// Pods that failed (no node could take them) so far.
    pub pods_failed: u64,
    /// The paper's metric (the artifact's merge_alloc_discrete.py): the mean GPU allocated,
    /// in milli-GPU, after each arrival whose arrived demand rounds to this step; the value
    /// at the step's first crossing (`allocated_milli`) when no arrival rounds to it.
    pub allocated_rounded_mean_milli: u64,
}

/// Records a [`GpuFillPoint`] per step of arrived GPU demand. An arrival counts once its
/// attempt has ended (bound, or given up), so each point shows the cluster after it.
#[derive(Debug, Clone)]
pub struct GpuFill {
    /// Spacing of the steps, in thousandths of the cluster's GPUs.
    step_permille: u32,
    /// The last step, in thousandths of the cluster's GPUs.
    demand_permille: u32,
    /// The cluster's GPU, taken when the first pod arrives (every node has joined).
    capacity: Option<u64>,
    next_step: u64,
    arrived: u64,
    failed: u64,
    arrived_milli: u64,
    points: Vec<GpuFillPoint>,
    /// Per step: (sum of allocated milli-GPU, events) over the arrivals whose arrived
    /// demand rounds to it.
    rounded: Vec<(u128, u64)>,
    /// The cluster after the latest arrival's attempt, for the last step.
    latest: Option<GpuFillPoint>,
}

impl GpuFill {
    /// A curve with a point every `step_permille` of the cluster's GPUs, up to
    /// `demand_permille`.
    pub fn new(step_permille: u32, demand_permille: u32) -> GpuFill {
        GpuFill {
            step_permille: step_permille.max(1),
            demand_permille,
            capacity: None,
            next_step: 0,
            arrived: 0,
            failed: 0,
            arrived_milli: 0,
            points: Vec::new(),
            rounded: Vec::new(),
            latest: None,
        }
    }

    /// The points, once the run has closed.
    pub fn into_points(mut self) -> Vec<GpuFillPoint> {
        // Arrivals stop before the pod that would cross the demand target, so the last step
        // is short by less than one pod: it takes the cluster at the end.
        let steps = u64::from(self.demand_permille / self.step_permille);
        if self.next_step == steps
            && let Some(mut last) = self.latest
        {
            last.step_permille = (steps * u64::from(self.step_permille)) as u32;
            self.points.push(last);
        }
        for (k, p) in self.points.iter_mut().enumerate() {
            if let Some(&(sum, n)) = self.rounded.get(k).filter(|r| r.1 > 0) {
                p.allocated_rounded_mean_milli = (sum / u128::from(n)) as u64;
            }
        }
        self.points
    }

    fn record(&mut self, view: &View<'_>) {
        let Some(capacity) = self.capacity else {
            return;
        };
        let step = u128::from(self.step_permille);
        let steps = u64::from(self.demand_permille / self.step_permille);
        let step_milli = |k: u64| (u128::from(capacity) * u128::from(k) * step / 1000) as u64;
        let allocated = view.cluster.gpu_totals().0;
        // The step the arrived demand rounds to (halves up): arrived / (capacity * step).
        let unit = u128::from(capacity) * step;
        if unit > 0 {
            let k = (2 * 1000 * u128::from(self.arrived_milli) + unit) / (2 * unit);
            if k <= u128::from(steps) {
                let k = k as usize;
                if self.rounded.len() <= k {
                    self.rounded.resize(k + 1, (0, 0));
                }
                self.rounded[k].0 += u128::from(allocated);
                self.rounded[k].1 += 1;
            }
        }
        self.latest = Some(GpuFillPoint {
            step_permille: 0,
            arrived_milli: self.arrived_milli,
            allocated_milli: allocated,
            capacity_milli: capacity,
            pods_arrived: self.arrived,
            pods_failed: self.failed,
            allocated_rounded_mean_milli: allocated,
        });
        while self.next_step <= steps && self.arrived_milli >= step_milli(self.next_step) {
            self.points.push(GpuFillPoint {
                step_permille: (self.next_step * u64::from(self.step_permille)) as u32,
                arrived_milli: self.arrived_milli,
                allocated_milli: allocated,
                capacity_milli: capacity,
                pods_arrived: self.arrived,
                pods_failed: self.failed,
                allocated_rounded_mean_milli: allocated,
            });
            self.next_step += 1;
        }
    }
}

impl Observer for GpuFill {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        match fact {
            Fact::PodCreated { .. } => {
                if self.capacity.is_none() {
                    self.capacity = Some(view.cluster.gpu_totals().1);
                    self.record(view);
                }
                self.arrived += 1;
                if let Some(p) = view.pod {
                    self.arrived_milli += p.template.gpu.total_milli();
                }
            }
            Fact::PodBound { .. } => self.record(view),
            Fact::PodAbandoned { .. } | Fact::PodRejected { .. } => {
                self.failed += 1;
                self.record(view);
            }
            _ => {}
        }
    }
}
