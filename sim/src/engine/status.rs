//! What the simulated API server and metrics server know of pods beyond the
//! [`schedulers::ClusterState`]: each pod's Ready condition and start time, and its newest
//! usage sample. Written by the Services controller (kubelets' probes and metrics
//! scrapes) and, for containers OOM-killed and restarted, the node pressure controller;
//! read by autoscalers and the eviction managers, the way real controllers read pod
//! status and the metrics API. Only pods of workloads with dynamics are kept.

use schedulers::PodId;
use slotmap::SecondaryMap;

use crate::time::SimTime;

/// One pod's status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodStatus {
    /// The workload it belongs to.
    pub workload: u32,
    /// When its containers started (`status.startTime`); `None` before.
    pub started: Option<SimTime>,
    /// Its Ready condition and when it last changed; `None` before it starts.
    pub ready: Option<(bool, SimTime)>,
    /// Its newest usage sample; `None` before the first scrape after it started.
    pub usage: Option<Usage>,
    /// Where it sits in its workload's list.
    slot: u32,
    /// Bytes of memory its containers use when they start (`memoryUsage.base`, drawn
    /// when the pod is created); 0 when memory is not modelled.
    pub memory_base: i64,
    /// When its containers last started: its start, or its last restart after an OOM
    /// kill; `None` before it starts and while its containers are down. A leak counts
    /// from here.
    pub running_since: Option<SimTime>,
}

/// A usage sample of one pod, as the metrics API serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// When it was taken.
    pub at: SimTime,
    /// CPU, millicores.
    pub cpu_milli: i64,
    /// Memory, bytes.
    pub memory_bytes: i64,
    /// Requests served per second, in thousandths.
    pub rps_milli: i64,
}

/// Pod status and metrics of the pods of workloads with dynamics.
#[derive(Debug, Default)]
pub struct PodStatuses {
    pods: SecondaryMap<PodId, PodStatus>,
    /// Live pods per workload index (empty for workloads without dynamics).
    by_workload: Vec<Vec<PodId>>,
    /// The metrics server's window: how much time a sample averages over.
    pub window: SimTime,
}

impl PodStatuses {
    /// A store for `workloads` workloads whose samples average over `window`.
    pub fn new(workloads: usize, window: SimTime) -> PodStatuses {
        PodStatuses {
            pods: SecondaryMap::new(),
            by_workload: vec![Vec::new(); workloads],
            window,
        }
    }

    /// Starts tracking a new pod of `workload`.
    pub fn add(&mut self, pod: PodId, workload: u32) {
        let list = &mut self.by_workload[workload as usize];
        self.pods.insert(
            pod,
            PodStatus {
                workload,
                started: None,
                ready: None,
                usage: None,
                slot: list.len() as u32,
                memory_base: 0,
                running_since: None,
            },
        );
        list.push(pod);
    }

    /// Stops tracking a pod that left; returns its last status.
    pub fn remove(&mut self, pod: PodId) -> Option<PodStatus> {
        let status = self.pods.remove(pod)?;
        let list = &mut self.by_workload[status.workload as usize];
        let slot = status.slot as usize;
        list.swap_remove(slot);
        if let Some(&moved) = list.get(slot) {
            self.pods[moved].slot = slot as u32;
        }
        Some(status)
    }

    /// A tracked pod's status.
    pub fn get(&self, pod: PodId) -> Option<&PodStatus> {
        self.pods.get(pod)
    }

    /// A pod's Ready condition: `None` when it is not tracked (its workload has no
    /// dynamics, so nothing models its readiness), false before it starts.
    pub fn is_ready(&self, pod: PodId) -> Option<bool> {
        self.pods.get(pod).map(|s| s.ready.is_some_and(|r| r.0))
    }

    /// A tracked pod's status, to change it.
    pub fn get_mut(&mut self, pod: PodId) -> Option<&mut PodStatus> {
        self.pods.get_mut(pod)
    }

    /// The live pods of `workload`, in no particular order.
    pub fn pods_of(&self, workload: u32) -> &[PodId] {
        self.by_workload
            .get(workload as usize)
            .map_or(&[], Vec::as_slice)
    }
}
