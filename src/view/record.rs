//! What the page needs that `trace.csv` does not say, collected during the run: the
//! nodes with their allocatable CPU and memory and their changes over time, and each
//! pod's workload and requests. And, after the run, the explained placements.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use schedulers::{ClusterState, NodeId, Pod, Scheduler};
use sim::observe::View;
use sim::{ExplainOutcome, Fact, Observer, Scenario, SimTime, Simulation};

use super::{DATA_VERSION, Explained, MAX_EXPLAINED, MAX_VERDICTS, NODE_EVENT_KINDS, ViewData};

/// The books the recorder keeps, shared with the host that reads them after the run.
#[derive(Debug, Default)]
struct Books {
    data: ViewData,
    /// Pod name -> index; looked up only.
    pods: HashMap<String, u32>,
    /// Workload name -> index; looked up only.
    workloads: HashMap<String, u32>,
    /// Per pod, the attempt to explain: when it was first bound, else when its first
    /// attempt failed.
    targets: Vec<Option<(u64, bool)>>,
}

impl Books {
    fn node_event(&mut self, now: SimTime, node: NodeId, kind: &str) {
        let kind = NODE_EVENT_KINDS
            .iter()
            .position(|k| *k == kind)
            .expect("a listed node event kind") as u8;
        self.data.node_events.push((now.0, node.0, kind));
    }

    fn add_node(&mut self, cluster: &ClusterState, node: NodeId) {
        // Node ids are dense and never reused, so a node's index is its id.
        while self.data.nodes.len() <= node.index() {
            let n = cluster.node(NodeId(self.data.nodes.len() as u32));
            let a = &n.spec.allocatable;
            self.data
                .nodes
                .push((n.name().to_string(), a.cpu(), a.memory()));
        }
    }

    fn add_pod(&mut self, pod: &Pod) -> u32 {
        let name = pod.name().to_string();
        if let Some(&i) = self.pods.get(&name) {
            return i;
        }
        let workload = pod.template.name.to_string();
        let w = match self.workloads.get(&workload) {
            Some(&w) => w,
            None => {
                let w = self.data.workloads.len() as u32;
                self.data.workloads.push(workload.clone());
                self.workloads.insert(workload, w);
                w
            }
        };
        let i = self.data.pods.len() as u32;
        self.data
            .pods
            .push((name.clone(), w, pod.requests.cpu(), pod.requests.memory()));
        self.pods.insert(name, i);
        self.targets.push(None);
        i
    }
}

/// The observer that fills [`ViewData`] during a run ([`Recorder::attach`]).
pub struct Recorder(Arc<Mutex<Books>>);

/// The host's handle on what a [`Recorder`] collected.
pub struct Recording(Arc<Mutex<Books>>);

impl Recorder {
    /// Attaches a recorder to `simulation`, starting from the cluster as it is now (the
    /// nodes that joined when the simulation was set up included).
    pub fn attach(
        simulation: &mut Simulation<'_>,
        scenario: &str,
        scheduler: &str,
        seed: u64,
    ) -> Recording {
        let mut books = Books::default();
        books.data.version = DATA_VERSION;
        books.data.scenario = scenario.to_string();
        books.data.scheduler = scheduler.to_string();
        books.data.seed = seed;
        let (now, cluster) = (simulation.now(), simulation.cluster());
        for (i, node) in cluster.nodes().iter().enumerate() {
            let id = NodeId(i as u32);
            books.add_node(cluster, id);
            if node.removed {
                continue;
            }
            books.node_event(now, id, "added");
            if !node.ready {
                books.node_event(now, id, "not-ready");
            }
            if node.spec.unschedulable {
                books.node_event(now, id, "cordoned");
            }
        }
        let mut pods: Vec<&Pod> = cluster.pods().map(|(_, p)| p).collect();
        pods.sort_by_key(|p| (p.created_stamp, p.name().to_string()));
        for pod in pods {
            books.add_pod(pod);
        }
        let shared = Arc::new(Mutex::new(books));
        simulation.add_observer(Box::new(Recorder(Arc::clone(&shared))));
        Recording(shared)
    }
}

impl Observer for Recorder {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        let mut books = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (now, cluster) = (view.now, view.cluster);
        let node_event = |books: &mut Books, node: NodeId, kind: &str| {
            books.add_node(cluster, node);
            books.node_event(now, node, kind);
        };
        match fact {
            Fact::NodeAdded { node } => node_event(&mut books, *node, "added"),
            Fact::NodeRemoved { node } => node_event(&mut books, *node, "removed"),
            Fact::NodeReady { node, ready } => {
                node_event(
                    &mut books,
                    *node,
                    if *ready { "ready" } else { "not-ready" },
                );
            }
            Fact::NodeCordoned {
                node,
                unschedulable,
            } => node_event(
                &mut books,
                *node,
                if *unschedulable {
                    "cordoned"
                } else {
                    "uncordoned"
                },
            ),
            Fact::NodeResized { node, .. } => node_event(&mut books, *node, "resized"),
            Fact::NodeFailed { node, .. } => node_event(&mut books, *node, "failed"),
            Fact::NodeRecovered { node } => node_event(&mut books, *node, "recovered"),
            Fact::PodCreated { .. } => {
                if let Some(pod) = view.pod {
                    books.add_pod(pod);
                }
            }
            Fact::PodBound { .. } | Fact::AttemptFailed { .. } => {
                let Some(pod) = view.pod else { return };
                let bound = matches!(fact, Fact::PodBound { .. });
                let i = books.add_pod(pod) as usize;
                let target = &mut books.targets[i];
                // The first binding wins over failures; the first failure over later ones.
                match target {
                    Some((_, true)) => {}
                    Some((_, false)) if !bound => {}
                    _ => *target = Some((now.0, bound)),
                }
            }
            _ => {}
        }
    }
}

impl Recording {
    /// What was collected, and per pod the attempt worth explaining (its first binding,
    /// else its first failed attempt), in pod order.
    pub fn finish(self) -> (ViewData, Vec<(u32, u64)>) {
        let books = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        let targets = books
            .targets
            .iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|(time, _)| (i as u32, time)))
            .collect();
        (books.data, targets)
    }
}

/// Explains up to [`MAX_EXPLAINED`] of `targets` (and [`MAX_VERDICTS`] node verdicts in
/// all) (pod, attempt time) by replaying the run
/// (`build` makes the scheduler afresh for each replay) up to each attempt and asking the
/// scheduler to explain it. Stops at once for a scheduler that cannot explain itself, and
/// as soon as `cancel` is set (each replay watches it, as the run did).
pub fn explain_pods<E>(
    data: &mut ViewData,
    targets: &[(u32, u64)],
    scenario: &Scenario,
    seed: u64,
    build: &dyn Fn() -> Result<Box<dyn Scheduler>, E>,
    cancel: &Arc<AtomicBool>,
) -> Result<(), E> {
    data.explained_truncated = targets.len() > MAX_EXPLAINED;
    let mut verdicts = 0usize;
    // Looked up only.
    let mut index: HashMap<String, u32> = data
        .strings
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i as u32))
        .collect();
    for &(pod, time) in targets.iter().take(MAX_EXPLAINED) {
        if cancel.load(Ordering::Relaxed) {
            return Ok(());
        }
        let name = data.pods[pod as usize].0.clone();
        let mut simulation = Simulation::new(scenario, build()?, seed);
        simulation.set_cancel_flag(Arc::clone(cancel));
        let Some(outcome) = simulation.explain(&name, SimTime(time)) else {
            continue;
        };
        let ExplainOutcome::Explained {
            time, explanation, ..
        } = outcome
        else {
            return Ok(());
        };
        verdicts += explanation.nodes.len();
        if verdicts > MAX_VERDICTS {
            data.explained_truncated = true;
            return Ok(());
        }
        // Every scored node has the same plugins; collecting over all keeps any plugin
        // that shows up anywhere, in the order met.
        let mut plugins: Vec<&'static str> = Vec::new();
        for v in &explanation.nodes {
            for score in &v.scores {
                if !plugins.contains(&score.plugin) {
                    plugins.push(score.plugin);
                }
            }
        }
        let diagnosis = explanation
            .diagnosis
            .as_ref()
            .map(|d| data.intern(&d.to_string(), &mut index));
        let nodes = explanation
            .nodes
            .iter()
            .map(|v| {
                let verdict = match (v.evaluated, v.feasible) {
                    (false, _) => -2,
                    (true, true) => -1,
                    (true, false) => {
                        let text = format!(
                            "{}: {}",
                            v.failed_plugin.unwrap_or("filter"),
                            v.reasons.join(", ")
                        );
                        i64::from(data.intern(&text, &mut index))
                    }
                };
                let scores = if v.scores.is_empty() {
                    Vec::new()
                } else {
                    plugins
                        .iter()
                        .map(|p| {
                            v.scores
                                .iter()
                                .find(|s| s.plugin == *p)
                                .map_or(0, |s| s.normalized * s.weight)
                        })
                        .collect()
                };
                (v.node.0, verdict, v.total, scores)
            })
            .collect();
        data.explained.push(Explained {
            pod,
            time: time.0,
            profile: explanation.profile.clone(),
            plugins: plugins.iter().map(|p| p.to_string()).collect(),
            selected: explanation.selected.map(|n| n.0),
            diagnosis,
            nodes,
        });
    }
    Ok(())
}
