//! The kubelets: what happens to a pod on its node. A pod that names its node is admitted
//! or rejected here (it bypasses the scheduler, as in Kubernetes); a bound pod starts
//! after the scenario's start latency and runs for its drawn duration; an evicted pod
//! leaves at once or terminates gracefully, holding its resources for its termination
//! grace period (Kubernetes' graceful deletion).

use std::sync::Arc;

use schedulers::filters::check_admission;
use schedulers::{PodId, PodPhase};

use crate::controllers::Controller;
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact};
use crate::time::SimTime;

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
            Some((node, Ok(()))) => ctx.publish(Fact::PodBound { pod, node }),
            _ => {
                ctx.publish(Fact::PodRejected { pod });
                self.release(pod, false, ctx);
            }
        }
    }

    fn started(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        let Some(run_for) = ctx
            .cluster
            .pod(pod)
            .filter(|p| p.phase == PodPhase::Bound)
            .map(|p| SimTime(p.run_micros))
        else {
            return;
        };
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

    fn finished(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        let Some(terminating) = ctx
            .cluster
            .pod(pod)
            .filter(|p| p.phase == PodPhase::Running)
            .map(|p| p.terminating)
        else {
            return;
        };
        if !terminating {
            ctx.publish(Fact::PodFinished { pod });
        }
        // Evicted and shutting down, its work ended first: it leaves now, uncounted (it
        // was counted when evicted, and its replacement already exists).
        self.release(pod, !terminating, ctx);
    }

    fn evict(&mut self, pod: PodId, reason: EvictionReason, ctx: &mut Ctx<'_>) {
        let Some(p) = ctx.cluster.pod(pod) else {
            return;
        };
        let Some(_) = p.node else {
            return;
        };
        let run_for = SimTime(p.run_micros);
        if p.terminating {
            // Already leaving; a node that goes away takes it at once.
            if reason == EvictionReason::NodeRemoved {
                self.release(pod, false, ctx);
            }
            return;
        }
        let grace = SimTime::from_secs(u64::from(p.template.termination_grace_period_seconds));
        let graceful = grace > SimTime::ZERO
            && matches!(
                reason,
                EvictionReason::Preemption | EvictionReason::ScaledDown
            );
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
            Fact::PodBound { pod, .. } => {
                let at = ctx.now.saturating_add(ctx.scenario.start_latency);
                ctx.at(at, Event::Kubelet(KubeletEvent::Started { pod: *pod }));
            }
            _ => {}
        }
    }
}
