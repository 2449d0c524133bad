//! The kubelets: what happens to a pod on its node. A pod that names its node is admitted
//! or rejected here (it bypasses the scheduler, as in Kubernetes); a bound pod starts
//! after the scenario's start latency and runs for its drawn duration; an evicted pod
//! leaves at once or terminates gracefully, holding its resources for its termination
//! grace period (Kubernetes' graceful deletion).
//!
//! A pod whose work ends is marked Succeeded ([`Fact::PodFinished`]), or Failed
//! ([`Fact::PodFailed`]) when the run was drawn to fail ([`schedulers::Pod::failing_runs`],
//! only Job pods), and leaves its node. Under a Job's restartPolicy OnFailure a failed run
//! is restarted in place instead, after the kubelet's crash-loop back-off (10 s doubling,
//! capped at 300 s, pkg/kubelet's `backOffPeriod` and `MaxContainerBackOff`); its reset
//! after 10 minutes of running is not modelled.
//!
//! A node whose kubelet is down ([`Fact::NodeFailed`] with [`NodeFailure::Crash`], only
//! in scenarios with `failures:`) starts and finishes nothing: a pod bound to it does not
//! start and a pod whose work would end there does not finish (its containers are gone),
//! though both stay bound, and Running as far as the API knows, until evicted. When the
//! kubelet is back ([`Fact::NodeRecovered`]) such pods start again from the beginning
//! (restartPolicy Always). Evictions are graceful for preemption and drains (the
//! Eviction API), and for taints while the node is Ready; a pod evicted from a node that
//! is not Ready or that leaves goes at once, since no kubelet will run its shutdown.

use std::sync::Arc;

use schedulers::filters::check_admission;
use schedulers::{NodeId, PodId, PodPhase};

use crate::controllers::Controller;
use crate::controllers::image_pulls::ImagePulls;
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact, NodeFailure, PermitRejection};
use crate::scenario::{RestartPolicy, WorkloadKind};
use crate::time::SimTime;

/// The kubelet's first crash-loop back-off (`initialDuration` of its container back-off,
/// pkg/kubelet/kubelet.go `backOffPeriod`).
pub const CRASH_LOOP_BACKOFF_INITIAL: SimTime = SimTime::from_secs(10);
/// The longest crash-loop back-off (`MaxContainerBackOff`, 300 s).
pub const CRASH_LOOP_BACKOFF_MAX: SimTime = SimTime::from_secs(300);

/// The wait before the `restart`-th in-place restart (1 for the first): 10 s doubling,
/// capped at 5 minutes. Its reset after 10 minutes of running is not modelled.
pub fn crash_loop_backoff(restart: u32) -> SimTime {
    let doublings = restart.saturating_sub(1).min(16);
    let wait = CRASH_LOOP_BACKOFF_INITIAL.as_micros() << doublings;
    SimTime::from_micros(wait.min(CRASH_LOOP_BACKOFF_MAX.as_micros()))
}

/// The kubelets' events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeletEvent {
    /// A bound pod's containers are up.
    Started {
        /// The pod.
        pod: PodId,
    },
    /// A running pod's work ends successfully.
    Finished {
        /// The pod.
        pod: PodId,
    },
    /// An evicted pod's termination grace period is over: it leaves its node.
    Terminated {
        /// The pod.
        pod: PodId,
    },
    /// Evicts a pod from its node (follow-up work of a preemption or a node leaving).
    Evict {
        /// The pod.
        pod: PodId,
        /// Why.
        reason: EvictionReason,
    },
    /// Starts an evicted pod's grace period (follow-up work, once its eviction has been
    /// processed).
    StartGrace {
        /// The pod.
        pod: PodId,
    },
}

/// Every node's kubelet. What a pod does once started comes with the pod
/// ([`schedulers::Pod::run_micros`]).
#[derive(Debug, Default)]
pub struct Kubelet {
    /// The next start stamp: pods are ordered by when they started.
    start_stamps: u64,
    /// Nodes whose kubelet is down (few, and empty without `failures:`).
    down: Vec<NodeId>,
    /// Pods whose start or finish fell while their node was down: they start afresh
    /// when it is back.
    stalled: Vec<PodId>,
    /// Image pulls under way, per node.
    pulls: ImagePulls,
}

impl Kubelet {
    /// A pod that names its node: admitted and bound there, or rejected.
    fn admit(&mut self, pod: PodId, name: &str, ctx: &mut Ctx<'_>) {
        let node = ctx.cluster.node_id(name).filter(|&n| {
            ctx.cluster
                .pod(pod)
                .is_some_and(|p| check_admission(p, ctx.cluster.node(n)).is_ok())
        });
        match node.map(|n| (n, ctx.cluster.bind(pod, n))) {
            Some((node, Ok(()))) => ctx.publish(Fact::PodBound {
                pod,
                node,
                waited: false,
            }),
            _ => {
                ctx.publish(Fact::PodRejected { pod });
                self.release(pod, false, ctx);
            }
        }
    }

    /// True when `pod` is on a node whose kubelet is down: it is set aside.
    fn stalls(&mut self, pod: PodId, ctx: &Ctx<'_>) -> bool {
        if self.down.is_empty() {
            return false;
        }
        let stalled = ctx
            .cluster
            .pod(pod)
            .and_then(|p| p.node)
            .is_some_and(|n| self.down.contains(&n));
        if stalled {
            self.stalled.push(pod);
        }
        stalled
    }

    /// A node's kubelet is back: its stalled pods start again.
    fn node_back(&mut self, node: NodeId, ctx: &mut Ctx<'_>) {
        self.down.retain(|&n| n != node);
        let at = ctx.now.saturating_add(ctx.scenario.start_latency);
        let mut i = 0;
        while i < self.stalled.len() {
            let pod = self.stalled[i];
            match ctx.cluster.pod(pod).map(|p| p.node) {
                Some(Some(n)) if n == node => {
                    self.stalled.swap_remove(i);
                    ctx.cluster.set_phase(pod, PodPhase::Bound);
                    ctx.at(at, Event::Kubelet(KubeletEvent::Started { pod }));
                }
                Some(Some(_)) => i += 1,
                // Gone, or no longer bound: forget it.
                _ => {
                    self.stalled.swap_remove(i);
                }
            }
        }
    }

    fn started(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        if self.stalls(pod, ctx) {
            return;
        }
        let Some(run_for) = ctx
            .cluster
            .pod(pod)
            .filter(|p| p.phase == PodPhase::Bound)
            .map(|p| SimTime(p.run_micros))
        else {
            return;
        };
        self.record_images(pod, ctx);
        ctx.cluster.set_phase(pod, PodPhase::Running);
        ctx.cluster.set_start_stamp(pod, self.start_stamps);
        self.start_stamps += 1;
        if run_for != SimTime::MAX {
            ctx.at(
                ctx.now.saturating_add(run_for),
                Event::Kubelet(KubeletEvent::Finished { pod }),
            );
        }
        ctx.publish(Fact::PodStarted { pod });
    }

    /// A started pod's images are on its node from now on, for ImageLocality.
    fn record_images(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        let Some((template, node)) = ctx
            .cluster
            .pod(pod)
            .filter(|p| !p.template.images.is_empty())
            .and_then(|p| Some((Arc::clone(&p.template), p.node?)))
        else {
            return;
        };
        for name in &template.images {
            // Most starts find their images already there: no entry to build.
            if ctx.cluster.images().holds(node, name) {
                continue;
            }
            let image = ctx.scenario.images.node_image(name);
            // A node that left holds nothing; the pod is about to go with it.
            let _ = ctx.cluster.add_node_image(node, &image);
        }
    }

    fn finished(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        if self.stalls(pod, ctx) {
            return;
        }
        let Some((terminating, fails, owner, restarts)) = ctx
            .cluster
            .pod(pod)
            .filter(|p| p.phase == PodPhase::Running)
            .map(|p| {
                (
                    p.terminating,
                    p.restarts < p.failing_runs,
                    p.owner,
                    p.restarts,
                )
            })
        else {
            return;
        };
        if fails && !terminating {
            self.failed(pod, owner, restarts, ctx);
            return;
        }
        if !terminating {
            ctx.cluster.set_phase(pod, PodPhase::Succeeded);
            ctx.publish(Fact::PodFinished { pod });
        }
        // Evicted and shutting down, its work ended first: it leaves now, uncounted (it
        // was counted when evicted, and its replacement already exists).
        self.release(pod, !terminating, ctx);
    }

    /// A run of a pod's containers ended with an error (a Job pod's drawn failure). Under
    /// restartPolicy OnFailure the containers restart in place after the crash-loop
    /// back-off; otherwise the pod is Failed and leaves its node, not replaced by the
    /// kubelet (its Job decides).
    fn failed(&mut self, pod: PodId, owner: u32, restarts: u32, ctx: &mut Ctx<'_>) {
        let in_place = ctx.scenario.workloads.get(owner as usize).is_some_and(|w| {
            matches!(
                &w.kind,
                WorkloadKind::Job { spec, .. } if spec.restart_policy == RestartPolicy::OnFailure
            )
        });
        if in_place {
            ctx.cluster.record_restart(pod);
            // Waiting in CrashLoopBackOff: not running, still on its node.
            ctx.cluster.set_phase(pod, PodPhase::Bound);
            ctx.publish(Fact::PodFailed {
                pod,
                restarting: true,
            });
            let at = ctx.now.saturating_add(crash_loop_backoff(restarts + 1));
            ctx.at(at, Event::Kubelet(KubeletEvent::Started { pod }));
        } else {
            ctx.cluster.set_phase(pod, PodPhase::Failed);
            ctx.publish(Fact::PodFailed {
                pod,
                restarting: false,
            });
            self.release(pod, false, ctx);
        }
    }

    fn evict(&mut self, pod: PodId, reason: EvictionReason, ctx: &mut Ctx<'_>) {
        let Some(p) = ctx.cluster.pod(pod) else {
            return;
        };
        let Some(node) = p.node else {
            return;
        };
        let run_for = SimTime(p.run_micros);
        let waiting = p.phase == PodPhase::Waiting;
        if waiting && !reason.deletes_pod() {
            // Upstream rejects a pod waiting at Permit instead of deleting it (a
            // preemption's `RejectWaitingPod`; a node that goes has no bound pods to
            // delete): it gives up its node and is scheduled again.
            if let Ok(node) = ctx.cluster.release(pod) {
                ctx.publish(Fact::PermitRejected {
                    pod,
                    node,
                    cause: PermitRejection::Evicted,
                });
            }
            return;
        }
        if p.terminating {
            // Already leaving; a node that goes away takes it at once.
            if matches!(
                reason,
                EvictionReason::NodeRemoved | EvictionReason::NodeResized
            ) {
                self.release(pod, false, ctx);
            }
            return;
        }
        let grace = SimTime::from_secs(u64::from(p.template.termination_grace_period_seconds));
        // A pod waiting at Permit runs nothing to shut down.
        let graceful = grace > SimTime::ZERO
            && !waiting
            && match reason {
                EvictionReason::Preemption
                | EvictionReason::Drain
                | EvictionReason::ScaleDown
                | EvictionReason::DeploymentScaledDown
                | EvictionReason::StatefulSetScaledDown
                | EvictionReason::RolloutReplaced
                | EvictionReason::JobTerminated => true,
                EvictionReason::Taint => ctx.cluster.node(node).ready,
                // Hard node-pressure evictions kill at once (upstream gives one second).
                // Rejected at the kubelet's re-admission: the pod fails at once.
                EvictionReason::NodeRemoved
                | EvictionReason::NodePressure
                | EvictionReason::NodeResized => false,
            };
        if graceful {
            ctx.cluster.set_terminating(pod);
        }
        ctx.publish(Fact::PodEvicted {
            pod,
            reason,
            run_for,
            graceful,
        });
        if graceful {
            // Its grace period starts once its controller has replaced it.
            ctx.then(Event::Kubelet(KubeletEvent::StartGrace { pod }));
        } else {
            self.release(pod, true, ctx);
        }
    }

    /// Takes a pod out of the cluster, releasing its node's resources; observers have
    /// already seen why (finished, evicted, rejected).
    fn release(&mut self, pod: PodId, replace: bool, ctx: &mut Ctx<'_>) {
        ctx.remove_pod(pod, replace);
    }
}

impl Controller for Kubelet {
    type Event = KubeletEvent;

    fn on(&mut self, event: KubeletEvent, ctx: &mut Ctx<'_>) {
        match event {
            KubeletEvent::Started { pod } => self.started(pod, ctx),
            KubeletEvent::Finished { pod } => self.finished(pod, ctx),
            KubeletEvent::Terminated { pod } => {
                if ctx.cluster.pod(pod).is_some_and(|p| p.terminating) {
                    self.release(pod, false, ctx);
                }
            }
            KubeletEvent::Evict { pod, reason } => self.evict(pod, reason, ctx),
            KubeletEvent::StartGrace { pod } => {
                if let Some(p) = ctx.cluster.pod(pod) {
                    let grace =
                        SimTime::from_secs(u64::from(p.template.termination_grace_period_seconds));
                    ctx.at(
                        ctx.now.saturating_add(grace),
                        Event::Kubelet(KubeletEvent::Terminated { pod }),
                    );
                }
            }
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::PodCreated { pod, .. } => {
                // Most pods name no node: look before taking a reference to the template.
                let template = ctx
                    .cluster
                    .pod(*pod)
                    .filter(|p| p.template.node_name.is_some())
                    .map(|p| Arc::clone(&p.template));
                if let Some(name) = template.as_ref().and_then(|t| t.node_name.as_deref()) {
                    self.admit(*pod, name, ctx);
                }
            }
            Fact::PodBound { pod, node, .. } => {
                let images_ready = match ctx.cluster.pod(*pod) {
                    Some(p) if !p.template.images.is_empty() => self.pulls.images_ready(
                        &p.template,
                        *node,
                        ctx.cluster,
                        &ctx.scenario.images,
                        ctx.now,
                    ),
                    _ => ctx.now,
                };
                let at = images_ready.saturating_add(ctx.scenario.start_latency);
                ctx.at(at, Event::Kubelet(KubeletEvent::Started { pod: *pod }));
            }
            Fact::NodeFailed {
                node,
                kind: NodeFailure::Crash,
            } if !self.down.contains(node) => self.down.push(*node),
            Fact::NodeRecovered { node } => self.node_back(*node, ctx),
            _ => {}
        }
    }
}
