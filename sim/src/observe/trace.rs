//! The trace (`trace.csv`): every pod event with the node or the reason, in the order the
//! run made them. It is the one built-in observer that turns reasons into text, so a run
//! without a trace formats none.

use schedulers::NodeId;

use crate::observe::{AttemptFailure, EvictionReason, Fact, NodeFailure, Observer, View};
use crate::time::SimTime;

/// What happened to a pod, in a run's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// The pod was created.
    Created,
    /// The pod was bound to this node.
    Bound {
        /// The node's name.
        node: String,
    },
    /// A pod group member holds this node and waits at Permit for its group.
    Waiting {
        /// The node's name, then the group's count: `n-1; pod group "train": 2/3
        /// members bound or waiting`.
        detail: String,
    },
    /// A pod that waited at Permit was let through: its group reached `minMember` (a
    /// `bound` record follows).
    Permitted {
        /// The group's count: `pod group "train": 3/3 members bound`.
        detail: String,
    },
    /// A pod waiting at Permit was rejected and gave its node back.
    PermitRejected {
        /// The node and why: `released n-1 (timeout)`.
        detail: String,
    },
    /// A scheduling attempt failed, for this reason (kube-scheduler's wording).
    Unschedulable {
        /// The diagnosis.
        reason: String,
    },
    /// The pod's containers started.
    Started,
    /// The pod finished successfully.
    Finished,
    /// A streamed Google replay read the pod's end only after it was due: it finishes
    /// now, this late (a `finished` record follows).
    LateEnd {
        /// `1.5s after its recorded end`.
        detail: String,
    },
    /// The pod was evicted (preempted).
    Evicted,
    /// The node it named rejected it (kubelet admission).
    Rejected,
    /// The scheduling queue gave up on it after its last allowed attempt.
    Abandoned,
    /// The pod was evicted by a taint or a drain (the reason).
    Disrupted {
        /// `taint` or `drain`.
        reason: &'static str,
    },
    /// A node failed; the record's `pod` is the node's name.
    NodeFailed {
        /// `crash` or `spot-reclaim`.
        kind: &'static str,
    },
    /// A failed node is back; the record's `pod` is the node's name.
    NodeRecovered,
    /// The cluster autoscaler grew a node group (the record names no pod).
    ScaleUp {
        /// What it weighed and chose.
        detail: String,
    },
    /// The cluster autoscaler began removing a node (the record names no pod).
    ScaleDown {
        /// The node and why.
        detail: String,
    },
    /// A node the cluster autoscaler asked for did not join in time (the record names
    /// no pod).
    ProvisionFailed {
        /// The node group.
        detail: String,
    },
    /// A HorizontalPodAutoscaler set its Deployment's replicas; the record's `pod` is the
    /// Deployment's name.
    HpaScaled {
        /// From, to, what the metrics recommended, the deciding metric and the limit.
        detail: String,
    },
    /// KEDA's executor set a Deployment's replicas (from zero, to zero, or to its
    /// minimum); the record's `pod` is the Deployment's name.
    KedaScaled {
        /// From, to, the queue length the trigger saw and its last activity.
        detail: String,
    },
    /// The pod's containers exited with an error: `failed`, or `failed` `restarting`
    /// when the kubelet restarts them in place (restartPolicy OnFailure).
    Failed {
        /// True when restarted in place.
        restarting: bool,
    },
    /// A CronJob created a Job; the record's `pod` is the Job's name.
    JobCreated,
    /// A Job completed; the record's `pod` is the Job's name.
    JobCompleted,
    /// A Job failed; the record's `pod` is the Job's name.
    JobFailed {
        /// `BackoffLimitExceeded` or `DeadlineExceeded`.
        reason: &'static str,
    },
    /// A Deployment's rollout began; the record's `pod` is the Deployment's name.
    RolloutStarted {
        /// Which rollout, its strategy and image.
        detail: String,
    },
    /// A Deployment's rollout finished; the record's `pod` is the Deployment's name.
    RolloutFinished {
        /// Which rollout and how long it took.
        detail: String,
    },
    /// The pod's containers were OOM-killed.
    OomKilled {
        /// When they restart.
        detail: String,
    },
    /// The pod's containers started again after an OOM kill.
    Restarted {
        /// Its restart count.
        detail: String,
    },
    /// The API server refused to create one of a workload's pods (its controller's
    /// FailedCreate event); the record's `pod` is the workload's name.
    FailedCreate {
        /// `Error creating: pods "NAME" is forbidden: ...`.
        detail: String,
    },
    /// A node's MemoryPressure condition changed; the record's `pod` is the node's name.
    MemoryPressure {
        /// `true` or `false`, and memory.available.
        detail: String,
    },
}

impl TraceEvent {
    /// The event's name and detail as `trace.csv` writes them.
    pub fn columns(&self) -> (&'static str, &str) {
        match self {
            TraceEvent::Created => ("created", ""),
            TraceEvent::Bound { node } => ("bound", node.as_str()),
            TraceEvent::Unschedulable { reason } => ("unschedulable", reason.as_str()),
            TraceEvent::Waiting { detail } => ("waiting", detail.as_str()),
            TraceEvent::Permitted { detail } => ("permitted", detail.as_str()),
            TraceEvent::PermitRejected { detail } => ("rejected", detail.as_str()),
            TraceEvent::Started => ("started", ""),
            TraceEvent::Finished => ("finished", ""),
            TraceEvent::LateEnd { detail } => ("late-end", detail.as_str()),
            TraceEvent::Evicted => ("evicted", ""),
            TraceEvent::Rejected => ("rejected", ""),
            TraceEvent::Abandoned => ("abandoned", ""),
            TraceEvent::Disrupted { reason } => ("evicted", reason),
            TraceEvent::NodeFailed { kind } => ("node-failed", kind),
            TraceEvent::NodeRecovered => ("node-recovered", ""),
            TraceEvent::ScaleUp { detail } => ("scale-up", detail.as_str()),
            TraceEvent::ScaleDown { detail } => ("scale-down", detail.as_str()),
            TraceEvent::ProvisionFailed { detail } => ("provision-failed", detail.as_str()),
            TraceEvent::HpaScaled { detail } => ("hpa-scale", detail.as_str()),
            TraceEvent::KedaScaled { detail } => ("keda-scale", detail.as_str()),
            TraceEvent::Failed { restarting } => {
                ("failed", if *restarting { "restarting" } else { "" })
            }
            TraceEvent::JobCreated => ("job-created", ""),
            TraceEvent::JobCompleted => ("job-complete", ""),
            TraceEvent::JobFailed { reason } => ("job-failed", reason),
            TraceEvent::RolloutStarted { detail } => ("rollout-started", detail.as_str()),
            TraceEvent::RolloutFinished { detail } => ("rollout-finished", detail.as_str()),
            TraceEvent::OomKilled { detail } => ("oom-killed", detail.as_str()),
            TraceEvent::Restarted { detail } => ("restarted", detail.as_str()),
            TraceEvent::MemoryPressure { detail } => ("memory-pressure", detail.as_str()),
            TraceEvent::FailedCreate { detail } => ("failed-create", detail.as_str()),
        }
    }
}

/// One line of a run's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRecord {
    /// When.
    pub time: SimTime,
    /// The pod's name.
    pub pod: String,
    /// What happened.
    pub event: TraceEvent,
}

/// Records every pod event. Costs a string per event: meant for small scenarios,
/// tutorials and tests.
#[derive(Debug, Clone, Default)]
pub struct TraceLog {
    records: Vec<TraceRecord>,
    /// The scenario's workload names, by index (for autoscaler records).
    workloads: Vec<String>,
    /// The cluster autoscaler's scale-down utilization threshold, in thousandths.
    threshold_permille: u32,
}

impl TraceLog {
    /// A record naming a workload rather than a pod.
    fn workload_record(&mut self, view: &View<'_>, workload: u32, event: TraceEvent) {
        self.records.push(TraceRecord {
            time: view.now,
            pod: self
                .workloads
                .get(workload as usize)
                .cloned()
                .unwrap_or_default(),
            event,
        });
    }

    /// A trace of a run of `scenario`.
    pub fn for_scenario(scenario: &crate::scenario::Scenario) -> TraceLog {
        TraceLog {
            records: Vec::new(),
            workloads: scenario
                .workloads
                .iter()
                .map(|w| w.template.name.to_string())
                .collect(),
            threshold_permille: scenario
                .autoscaler
                .as_ref()
                .map_or(0, |a| a.settings.scale_down_utilization_permille),
        }
    }

    /// The records, in order.
    pub fn into_records(self) -> Vec<TraceRecord> {
        self.records
    }
}

impl TraceLog {
    /// A node's event: the record names the node where a pod's names the pod.
    fn node_record(&mut self, view: &View<'_>, node: NodeId, event: TraceEvent) {
        self.records.push(TraceRecord {
            time: view.now,
            pod: view.cluster.node(node).name().to_string(),
            event,
        });
    }
}

impl Observer for TraceLog {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        let cluster = view.cluster;
        if let Some(event) = autoscaler_event(fact, view, self.threshold_permille) {
            self.records.push(TraceRecord {
                time: view.now,
                pod: String::new(),
                event,
            });
            return;
        }
        let event = match fact {
            Fact::PodCreated { .. } => TraceEvent::Created,
            Fact::PodBound { node, waited, .. } => {
                if *waited
                    && let Some(p) = view.pod
                    && let Some(g) = p.template.pod_group
                    && let Some(spec) = cluster.pod_groups().get(g as usize)
                {
                    self.records.push(TraceRecord {
                        time: view.now,
                        pod: p.name().to_string(),
                        event: TraceEvent::Permitted {
                            detail: format!(
                                "pod group \"{}\": {}/{} members bound",
                                spec.display_name(),
                                cluster.group_bound(g),
                                spec.min_member
                            ),
                        },
                    });
                }
                TraceEvent::Bound {
                    node: cluster.node(*node).name().to_string(),
                }
            }
            Fact::PodWaiting { node, .. } => {
                let node = cluster.node(*node).name();
                let detail = match view
                    .pod
                    .and_then(|p| p.template.pod_group)
                    .and_then(|g| Some((g, cluster.pod_groups().get(g as usize)?)))
                {
                    Some((g, spec)) => format!(
                        "{node}; pod group \"{}\": {}/{} members bound or waiting",
                        spec.display_name(),
                        cluster.group_bound(g) + cluster.group_waiting(g),
                        spec.min_member
                    ),
                    None => node.to_string(),
                };
                TraceEvent::Waiting { detail }
            }
            Fact::PermitRejected { node, cause, .. } => TraceEvent::PermitRejected {
                detail: format!(
                    "released {} ({})",
                    cluster.node(*node).name(),
                    cause.as_str()
                ),
            },
            Fact::AttemptFailed { why, .. } => {
                let reason = match why {
                    AttemptFailure::Unschedulable(diagnosis) => diagnosis.to_string(),
                    AttemptFailure::Preempting { node, victims } => format!(
                        "preempting {victims} pod(s) on node {}",
                        cluster.node(*node).name()
                    ),
                    AttemptFailure::PreemptionRefused | AttemptFailure::NoDecision => return,
                };
                TraceEvent::Unschedulable { reason }
            }
            Fact::MemberTimedOut { group, bound, .. } => {
                let Some(spec) = cluster.pod_groups().get(*group as usize) else {
                    return;
                };
                let reason = format!(
                    "pod group \"{}\" timed out: {bound}/{} members bound after {}s",
                    spec.display_name(),
                    spec.min_member,
                    spec.schedule_timeout_seconds
                );
                TraceEvent::Unschedulable { reason }
            }
            Fact::PodStarted { .. } => TraceEvent::Started,
            Fact::PodFinished { .. } => TraceEvent::Finished,
            Fact::PodEvicted {
                reason:
                    reason @ (EvictionReason::Taint
                    | EvictionReason::Drain
                    | EvictionReason::JobTerminated
                    | EvictionReason::NodePressure
                    | EvictionReason::NodeResized),
                ..
            } => TraceEvent::Disrupted {
                reason: reason.as_str(),
            },
            Fact::PodEvicted { .. } => TraceEvent::Evicted,
            Fact::NodeFailed { node, kind } => {
                let kind = match kind {
                    NodeFailure::Crash => "crash",
                    NodeFailure::SpotReclaim => "spot-reclaim",
                };
                return self.node_record(view, *node, TraceEvent::NodeFailed { kind });
            }
            Fact::NodeRecovered { node } => {
                return self.node_record(view, *node, TraceEvent::NodeRecovered);
            }
            Fact::Scaled {
                workload,
                from,
                to,
                recommended,
                utilization,
                limit,
                target,
            } => {
                let mut detail = if *target > 0 {
                    format!(
                        "replicas {from} -> {to}; metrics recommend {recommended} (current value \
                         {utilization}, target {target}, usage ratio {:.3})",
                        *utilization as f64 / *target as f64
                    )
                } else {
                    format!("replicas {from} -> {to}; outside minReplicas..maxReplicas")
                };
                if !limit.name().is_empty() {
                    detail.push_str(&format!("; limited: {}", limit.name()));
                }
                self.records.push(TraceRecord {
                    time: view.now,
                    pod: self
                        .workloads
                        .get(*workload as usize)
                        .cloned()
                        .unwrap_or_default(),
                    event: TraceEvent::HpaScaled { detail },
                });
                return;
            }
            Fact::KedaScaled {
                workload,
                from,
                to,
                queue,
                last_active,
            } => {
                let mut detail = format!("replicas {from} -> {to}; queue length {queue}");
                if let Some(at) = last_active {
                    detail.push_str(&format!("; last active at {}s", at.as_secs_f64()));
                }
                self.records.push(TraceRecord {
                    time: view.now,
                    pod: self
                        .workloads
                        .get(*workload as usize)
                        .cloned()
                        .unwrap_or_default(),
                    event: TraceEvent::KedaScaled { detail },
                });
                return;
            }
            Fact::RolloutStarted { workload, rollout } => {
                let detail = format!("rollout {rollout}");
                self.workload_record(view, *workload, TraceEvent::RolloutStarted { detail });
                return;
            }
            Fact::RolloutFinished {
                workload,
                rollout,
                took,
            } => {
                let detail = format!("rollout {rollout} took {took}");
                self.workload_record(view, *workload, TraceEvent::RolloutFinished { detail });
                return;
            }
            Fact::CreateRefused { workload, message } => {
                let detail = format!("Error creating: {message}");
                self.workload_record(view, *workload, TraceEvent::FailedCreate { detail });
                return;
            }
            Fact::PodOomKilled { restart_at, .. } => TraceEvent::OomKilled {
                detail: format!("restart at {restart_at}"),
            },
            Fact::ContainerRestarted { restarts, .. } => TraceEvent::Restarted {
                detail: format!("restart {restarts}"),
            },
            Fact::NodeMemoryPressure {
                node,
                pressure,
                available,
            } => {
                let detail = format!("{pressure}; memory.available {available} bytes");
                return self.node_record(view, *node, TraceEvent::MemoryPressure { detail });
            }
            Fact::PodRejected { .. } => TraceEvent::Rejected,
            Fact::TraceLateEnd { late, .. } => TraceEvent::LateEnd {
                detail: format!("{late} after its recorded end"),
            },
            Fact::PodAbandoned { .. } => TraceEvent::Abandoned,
            Fact::PodFailed { restarting, .. } => TraceEvent::Failed {
                restarting: *restarting,
            },
            Fact::JobCreated { workload }
            | Fact::JobCompleted { workload, .. }
            | Fact::JobFailed { workload, .. } => {
                let event = match fact {
                    Fact::JobFailed { reason, .. } => TraceEvent::JobFailed {
                        reason: reason.name(),
                    },
                    Fact::JobCreated { .. } => TraceEvent::JobCreated,
                    _ => TraceEvent::JobCompleted,
                };
                self.records.push(TraceRecord {
                    time: view.now,
                    pod: self
                        .workloads
                        .get(*workload as usize)
                        .cloned()
                        .unwrap_or_default(),
                    event,
                });
                return;
            }
            _ => return,
        };
        if let Some(p) = view.pod {
            self.records.push(TraceRecord {
                time: view.now,
                pod: p.name().to_string(),
                event,
            });
        }
    }
}

/// The trace line of a cluster autoscaler decision, with its inputs.
fn autoscaler_event(fact: &Fact, view: &View<'_>, threshold_permille: u32) -> Option<TraceEvent> {
    match fact {
        Fact::ScaleUp(d) => {
            let chosen = d.options.get(d.chosen)?;
            let mut detail = format!(
                "group {} +{} node(s) for {} pod(s); {} unschedulable, {} not fitting existing or upcoming nodes; expander {}:",
                chosen.name,
                chosen.nodes,
                chosen.pods,
                d.pending,
                d.unhelped,
                d.expander.name()
            );
            for o in &d.options {
                detail.push_str(&format!(
                    " {} {} node(s) {} pod(s) score {:.6};",
                    o.name, o.nodes, o.pods, o.score
                ));
            }
            detail.pop();
            Some(TraceEvent::ScaleUp { detail })
        }
        Fact::ScaleDown {
            node,
            utilization_permille,
            pods,
            unneeded_since,
        } => Some(TraceEvent::ScaleDown {
            detail: format!(
                "node {} utilization {}.{:03} below threshold {}.{:03}, unneeded since {}, evicting {} pod(s)",
                view.cluster.node(*node).name(),
                utilization_permille / 1000,
                utilization_permille % 1000,
                threshold_permille / 1000,
                threshold_permille % 1000,
                unneeded_since,
                pods
            ),
        }),
        Fact::NodeProvisionFailed { group } => Some(TraceEvent::ProvisionFailed {
            detail: format!("group {group}: node not ready within maxNodeProvisionTime"),
        }),
        _ => None,
    }
}
