//! Node failures, drains and spot reclaims (`failures:`), and the node lifecycle
//! controller's response to a node that stops answering.
//!
//! Following upstream (`pkg/controller/nodelifecycle`):
//! - A crashed node's kubelet stops posting status. After `nodeMonitorGracePeriod`
//!   (kube-controller-manager's `--node-monitor-grace-period`, 50 s since v1.32, 40 s
//!   before) its Ready condition turns Unknown, shown here as not ready, and it gets the
//!   `node.kubernetes.io/unreachable:NoExecute` taint; the taint eviction controller
//!   (`taint_eviction`) does the rest. Its pods stay bound and, as far as the API knows,
//!   Running until they are evicted (the kubelet here starts and finishes nothing on a
//!   node that is down).
//! - When the kubelet is back, the controller removes the taint and the node is Ready
//!   and schedulable again.
//! - A drain is `kubectl drain --ignore-daemonsets`: the node is cordoned, and every pod
//!   on it but DaemonSets' (which tolerate the cordon and would come straight back) is
//!   evicted through the Eviction API ([`schedulers::pdb::eviction_allowed`]); a refused
//!   eviction is retried every `drainRetryInterval` (5 s) until no other pod is left.
//! - A spot reclaim gives each reclaimed node a notice: it is cordoned and drained as
//!   the AWS node termination handler does, and at the end of the notice terminated
//!   (its remaining pods evicted, the node deleted).
//!
//! Simplified, stated: the grace period counts from the crash (the last heartbeat is
//! taken to be the crash itself, and the 5 s monitor period is not modelled); nodes are
//! tainted as soon as they are found unreachable, with no per-zone eviction rate limit
//! (`--node-eviction-rate`) and no special case for a zone or a cluster fully disrupted;
//! the `unreachable:NoSchedule` taint is not added, since a node that is not ready takes
//! no pods here anyway; a drain evicts pods without a controller too (`--force`).
//!
//! Random failures: each node of a `random:` entry's set (the first entry that matches
//! it, whether it was there at the start or joined later) draws its times to failure and
//! repair from its own stream, `rng::stream(seed, Failures, entry << 32 | node)`; a
//! spot reclaim's choice of nodes draws from `stream(seed, Failures, 1 << 63 | event)`.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp, Weibull};
use schedulers::{NodeId, OwnerKind, Taint, TaintEffect, eviction_allowed_with};

use crate::controllers::Controller;
use crate::controllers::kubelet::KubeletEvent;
use crate::controllers::taint_eviction::TAINT_UNREACHABLE;
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact, NodeFailure};
use crate::rng::{Concern, stream};
use crate::scenario::{FailureSettings, Lifetime, ScriptedFailure};
use crate::time::SimTime;

/// The label a zone outage selects nodes by.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

/// The failure controller's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureEvent {
    /// The scripted event with this index in `failures.events` happens.
    Scripted {
        /// Its index.
        event: u32,
    },
    /// A node crashes (follow-up of a scripted event), to recover after `recover_after`
    /// ([`SimTime::MAX`]: never).
    Crash {
        /// The node.
        node: NodeId,
        /// How long it stays down.
        recover_after: SimTime,
    },
    /// A node's random process crashes it, unless the process moved on since.
    RandomCrash {
        /// The node.
        node: NodeId,
        /// The process's generation when the crash was drawn.
        generation: u32,
    },
    /// The node's grace period ran out: NotReady and tainted, if still down.
    Unreachable {
        /// The node.
        node: NodeId,
        /// The failure's generation.
        generation: u32,
    },
    /// A crashed node comes back, if this failure is still the current one.
    Recover {
        /// The node.
        node: NodeId,
        /// The failure's generation.
        generation: u32,
    },
    /// A reclaimed node gets its notice (follow-up of a spot reclaim).
    Notice {
        /// The node.
        node: NodeId,
        /// The notice period.
        notice: SimTime,
    },
    /// The next eviction attempt of a drain.
    DrainStep {
        /// The node.
        node: NodeId,
        /// The drain's generation.
        generation: u32,
    },
    /// A reclaimed node's notice is over: it is terminated.
    Terminate {
        /// The node.
        node: NodeId,
    },
    /// A terminated node's pods are gone: it leaves (follow-up work).
    Leave {
        /// The node.
        node: NodeId,
        /// Pods were found on it once already.
        retried: bool,
    },
}

impl FailureEvent {
    /// Random crashes and drain retries wait for nothing in particular: they do not keep
    /// a run without a horizon alive (a run with random failures would never end).
    pub(crate) fn keeps_run_alive(&self) -> bool {
        !matches!(
            self,
            FailureEvent::RandomCrash { .. } | FailureEvent::DrainStep { .. }
        )
    }
}

/// What the controller knows of one node.
#[derive(Debug, Default)]
struct NodeState {
    /// The kubelet is down.
    down: bool,
    /// Bumped at every crash and recovery, so stale timers are recognised.
    generation: u32,
    /// This controller marked it not ready and tainted it.
    marked: bool,
    /// The current drain's generation (0: none ever).
    drain: u32,
    /// Being drained.
    draining: bool,
    /// Reclaimed: it will leave, and random failures leave it alone.
    reclaimed: bool,
    /// Its random failure process: the `random:` entry and its stream.
    random: Option<(u32, Box<ChaCha8Rng>)>,
    /// Generation of the random process (a pending random crash carries it).
    random_generation: u32,
}

/// Node failures, repairs, drains and spot reclaims.
#[derive(Debug, Default)]
pub struct NodeFailures {
    nodes: Vec<NodeState>,
    seed: u64,
}

impl NodeFailures {
    /// Sets the timers of the scripted events.
    pub(crate) fn start(
        settings: Option<&FailureSettings>,
        seed: u64,
        ctx: &mut Ctx<'_>,
    ) -> NodeFailures {
        if let Some(f) = settings {
            for (i, e) in f.events.iter().enumerate() {
                let at = match e {
                    ScriptedFailure::NodeCrash { at, .. }
                    | ScriptedFailure::ZoneOutage { at, .. }
                    | ScriptedFailure::SpotReclaim { at, .. }
                    | ScriptedFailure::Drain { at, .. } => *at,
                };
                ctx.at(
                    at,
                    Event::Failures(FailureEvent::Scripted { event: i as u32 }),
                );
            }
        }
        NodeFailures {
            nodes: Vec::new(),
            seed,
        }
    }

    fn state(&mut self, node: NodeId) -> &mut NodeState {
        let i = node.index();
        if i >= self.nodes.len() {
            self.nodes.resize_with(i + 1, NodeState::default);
        }
        &mut self.nodes[i]
    }

    fn settings<'s>(ctx: &Ctx<'s>) -> Option<&'s FailureSettings> {
        ctx.scenario.failures.as_ref()
    }

    fn scripted(&mut self, index: usize, ctx: &mut Ctx<'_>) {
        let Some(event) = Self::settings(ctx).and_then(|f| f.events.get(index)) else {
            return;
        };
        match event {
            ScriptedFailure::NodeCrash {
                node,
                recover_after,
                ..
            } => {
                if let Some(node) = ctx.cluster.node_id(node) {
                    self.crash(node, recover_after.unwrap_or(SimTime::MAX), ctx);
                }
            }
            ScriptedFailure::ZoneOutage { zone, duration, .. } => {
                let zone_nodes: Vec<NodeId> = ctx
                    .cluster
                    .nodes()
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| {
                        !n.removed && n.spec.labels.get(ZONE_LABEL) == Some(zone.as_str())
                    })
                    .map(|(i, _)| NodeId(i as u32))
                    .collect();
                for node in zone_nodes {
                    ctx.then(Event::Failures(FailureEvent::Crash {
                        node,
                        recover_after: *duration,
                    }));
                }
            }
            ScriptedFailure::SpotReclaim {
                nodes,
                fraction,
                notice,
                ..
            } => {
                let mut candidates: Vec<NodeId> = ctx
                    .cluster
                    .nodes()
                    .iter()
                    .enumerate()
                    .filter(|(i, n)| {
                        !n.removed
                            && nodes.contains(&n.spec)
                            && !self.nodes.get(*i).is_some_and(|s| s.reclaimed)
                    })
                    .map(|(i, _)| NodeId(i as u32))
                    .collect();
                if candidates.is_empty() {
                    return;
                }
                let n = candidates.len();
                let k = ((fraction * n as f64).round() as usize).clamp(1, n);
                let mut rng = stream(self.seed, Concern::Failures, (1 << 63) | index as u64);
                // A partial Fisher-Yates shuffle: the first k are the reclaimed nodes.
                for i in 0..k {
                    let j = rng.random_range(i..n);
                    candidates.swap(i, j);
                }
                let chosen = &mut candidates[..k];
                chosen.sort_unstable();
                for &node in chosen.iter() {
                    ctx.then(Event::Failures(FailureEvent::Notice {
                        node,
                        notice: *notice,
                    }));
                }
            }
            ScriptedFailure::Drain { node, .. } => {
                if let Some(node) = ctx.cluster.node_id(node) {
                    self.start_drain(node, ctx);
                }
            }
        }
    }

    /// The node's kubelet stops; the grace period starts.
    fn crash(&mut self, node: NodeId, recover_after: SimTime, ctx: &mut Ctx<'_>) {
        if ctx.cluster.node(node).removed {
            return;
        }
        let grace = Self::settings(ctx).map_or(SimTime::ZERO, |f| f.node_monitor_grace_period);
        let st = self.state(node);
        if st.down || st.reclaimed {
            return;
        }
        st.down = true;
        st.generation = st.generation.wrapping_add(1);
        let generation = st.generation;
        ctx.at(
            ctx.now.saturating_add(grace),
            Event::Failures(FailureEvent::Unreachable { node, generation }),
        );
        if recover_after != SimTime::MAX {
            ctx.at(
                ctx.now.saturating_add(recover_after),
                Event::Failures(FailureEvent::Recover { node, generation }),
            );
        }
        ctx.publish(Fact::NodeFailed {
            node,
            kind: NodeFailure::Crash,
        });
    }

    /// The grace period is over: the node lifecycle controller marks the node NotReady
    /// and taints it unreachable.
    fn unreachable(&mut self, node: NodeId, generation: u32, ctx: &mut Ctx<'_>) {
        let st = self.state(node);
        if !st.down || st.generation != generation || ctx.cluster.node(node).removed {
            return;
        }
        st.marked = true;
        if ctx.cluster.node(node).ready && ctx.cluster.set_ready(node, false).is_ok() {
            ctx.publish(Fact::NodeReady { node, ready: false });
        }
        let mut taints = ctx.cluster.node(node).spec.taints.clone();
        if !taints
            .iter()
            .any(|t| t.key == TAINT_UNREACHABLE && t.effect == TaintEffect::NoExecute)
        {
            taints.push(Taint {
                key: TAINT_UNREACHABLE.to_owned(),
                value: String::new(),
                effect: TaintEffect::NoExecute,
            });
            if ctx.cluster.set_taints(node, taints).is_ok() {
                ctx.publish(Fact::NodeTaintsChanged { node });
            }
        }
    }

    /// The kubelet is back: the taint goes, the node is Ready again.
    fn recover(&mut self, node: NodeId, generation: u32, ctx: &mut Ctx<'_>) {
        let st = self.state(node);
        if !st.down || st.generation != generation {
            return;
        }
        st.down = false;
        st.generation = st.generation.wrapping_add(1);
        let marked = std::mem::take(&mut st.marked);
        self.next_random_crash(node, ctx);
        if ctx.cluster.node(node).removed {
            return;
        }
        ctx.publish(Fact::NodeRecovered { node });
        if marked {
            if ctx.cluster.set_ready(node, true).is_ok() && ctx.cluster.node(node).ready {
                ctx.publish(Fact::NodeReady { node, ready: true });
            }
            let taints: Vec<Taint> = ctx
                .cluster
                .node(node)
                .spec
                .taints
                .iter()
                .filter(|t| !(t.key == TAINT_UNREACHABLE && t.effect == TaintEffect::NoExecute))
                .cloned()
                .collect();
            if taints.len() != ctx.cluster.node(node).spec.taints.len()
                && ctx.cluster.set_taints(node, taints).is_ok()
            {
                ctx.publish(Fact::NodeTaintsChanged { node });
            }
        }
    }

    /// A new node: starts its random failure process if a `random:` entry covers it.
    fn node_added(&mut self, node: NodeId, ctx: &mut Ctx<'_>) {
        let Some(f) = Self::settings(ctx) else {
            return;
        };
        let spec = &ctx.cluster.node(node).spec;
        let Some(entry) = f.random.iter().position(|r| r.nodes.contains(spec)) else {
            return;
        };
        let rng = stream(
            self.seed,
            Concern::Failures,
            ((entry as u64) << 32) | u64::from(node.0),
        );
        self.state(node).random = Some((entry as u32, Box::new(rng)));
        self.next_random_crash(node, ctx);
    }

    /// Draws the node's next crash, if it has a random failure process.
    fn next_random_crash(&mut self, node: NodeId, ctx: &mut Ctx<'_>) {
        let Some(f) = Self::settings(ctx) else {
            return;
        };
        let st = self.state(node);
        let Some((entry, rng)) = st.random.as_mut() else {
            return;
        };
        let Some(r) = f.random.get(*entry as usize) else {
            return;
        };
        let wait = draw(&r.time_to_failure, rng);
        st.random_generation = st.random_generation.wrapping_add(1);
        let generation = st.random_generation;
        ctx.at(
            ctx.now.saturating_add(wait),
            Event::Failures(FailureEvent::RandomCrash { node, generation }),
        );
    }

    fn random_crash(&mut self, node: NodeId, generation: u32, ctx: &mut Ctx<'_>) {
        let Some(f) = Self::settings(ctx) else {
            return;
        };
        let st = self.state(node);
        if st.random_generation != generation || st.down {
            return;
        }
        let Some((entry, rng)) = st.random.as_mut() else {
            return;
        };
        let Some(r) = f.random.get(*entry as usize) else {
            return;
        };
        // At least a microsecond, so the repair never coincides with the crash.
        let repair = draw(&r.time_to_repair, rng).max(SimTime(1));
        self.crash(node, repair, ctx);
    }

    /// Notice of a spot reclaim: cordon and drain now, terminate at the end.
    fn notice(&mut self, node: NodeId, notice: SimTime, ctx: &mut Ctx<'_>) {
        if ctx.cluster.node(node).removed || self.state(node).reclaimed {
            return;
        }
        self.state(node).reclaimed = true;
        ctx.at(
            ctx.now.saturating_add(notice),
            Event::Failures(FailureEvent::Terminate { node }),
        );
        ctx.publish(Fact::NodeFailed {
            node,
            kind: NodeFailure::SpotReclaim,
        });
        self.start_drain(node, ctx);
    }

    /// `kubectl drain`: cordon, then evict pod by pod.
    fn start_drain(&mut self, node: NodeId, ctx: &mut Ctx<'_>) {
        if ctx.cluster.node(node).removed {
            return;
        }
        let st = self.state(node);
        st.drain = st.drain.wrapping_add(1);
        st.draining = true;
        let generation = st.drain;
        ctx.then(Event::Failures(FailureEvent::DrainStep {
            node,
            generation,
        }));
        if !ctx.cluster.node(node).spec.unschedulable
            && ctx.cluster.set_unschedulable(node, true).is_ok()
        {
            ctx.publish(Fact::NodeCordoned {
                node,
                unschedulable: true,
            });
        }
    }

    /// Evicts the first pod the budgets allow, then tries again at once; when every pod
    /// left is refused, tries again after the retry interval.
    fn drain_step(&mut self, node: NodeId, generation: u32, ctx: &mut Ctx<'_>) {
        let st = self.state(node);
        if !st.draining || st.drain != generation || ctx.cluster.node(node).removed {
            return;
        }
        let mut blocked = false;
        let mut chosen = None;
        for &pod in &ctx.cluster.node(node).pods {
            let Some(p) = ctx.cluster.pod(pod) else {
                continue;
            };
            if p.terminating || p.template.owner == OwnerKind::DaemonSet {
                continue;
            }
            // A budget's healthy pods are its Ready ones.
            let status = ctx.status();
            if eviction_allowed_with(ctx.cluster, p, &|id| status.is_ready(id)).is_ok() {
                chosen = Some(pod);
                break;
            }
            blocked = true;
        }
        if let Some(pod) = chosen {
            ctx.then(Event::Kubelet(KubeletEvent::Evict {
                pod,
                reason: EvictionReason::Drain,
            }));
            ctx.then(Event::Failures(FailureEvent::DrainStep {
                node,
                generation,
            }));
        } else if blocked {
            let retry =
                Self::settings(ctx).map_or(SimTime::from_secs(5), |f| f.drain_retry_interval);
            ctx.at(
                ctx.now.saturating_add(retry),
                Event::Failures(FailureEvent::DrainStep { node, generation }),
            );
        } else {
            self.state(node).draining = false;
        }
    }

    /// The end of a reclaimed node's notice: whatever is left is evicted and it leaves.
    fn terminate(&mut self, node: NodeId, ctx: &mut Ctx<'_>) {
        if ctx.cluster.node(node).removed {
            return;
        }
        self.state(node).draining = false;
        if ctx.cluster.node(node).ready && ctx.cluster.set_ready(node, false).is_ok() {
            ctx.publish(Fact::NodeReady { node, ready: false });
        }
        for &pod in &ctx.cluster.node(node).pods.clone() {
            ctx.then(Event::Kubelet(KubeletEvent::Evict {
                pod,
                reason: EvictionReason::NodeRemoved,
            }));
        }
        ctx.then(Event::Failures(FailureEvent::Leave {
            node,
            retried: false,
        }));
    }

    fn leave(&mut self, node: NodeId, retried: bool, ctx: &mut Ctx<'_>) {
        if ctx.cluster.remove_node(node).is_ok() {
            ctx.publish(Fact::NodeRemoved { node });
        } else if !retried && !ctx.cluster.node(node).removed {
            for &pod in &ctx.cluster.node(node).pods.clone() {
                ctx.then(Event::Kubelet(KubeletEvent::Evict {
                    pod,
                    reason: EvictionReason::NodeRemoved,
                }));
            }
            ctx.then(Event::Failures(FailureEvent::Leave {
                node,
                retried: true,
            }));
        }
    }
}

/// Draws a lifetime, rounded to the microsecond.
fn draw(l: &Lifetime, rng: &mut ChaCha8Rng) -> SimTime {
    match *l {
        Lifetime::Constant(t) => t,
        Lifetime::Exponential { mean } => {
            let secs = mean.as_secs_f64();
            match Exp::new(1.0 / secs) {
                Ok(d) => SimTime::from_secs_f64(d.sample(rng)),
                Err(_) => mean,
            }
        }
        Lifetime::Weibull { shape, scale } => match Weibull::new(scale.as_secs_f64(), shape) {
            Ok(d) => SimTime::from_secs_f64(d.sample(rng)),
            Err(_) => scale,
        },
    }
}

impl Controller for NodeFailures {
    type Event = FailureEvent;

    fn on(&mut self, event: FailureEvent, ctx: &mut Ctx<'_>) {
        match event {
            FailureEvent::Scripted { event } => self.scripted(event as usize, ctx),
            FailureEvent::Crash {
                node,
                recover_after,
            } => self.crash(node, recover_after, ctx),
            FailureEvent::RandomCrash { node, generation } => {
                self.random_crash(node, generation, ctx)
            }
            FailureEvent::Unreachable { node, generation } => {
                self.unreachable(node, generation, ctx)
            }
            FailureEvent::Recover { node, generation } => self.recover(node, generation, ctx),
            FailureEvent::Notice { node, notice } => self.notice(node, notice, ctx),
            FailureEvent::DrainStep { node, generation } => self.drain_step(node, generation, ctx),
            FailureEvent::Terminate { node } => self.terminate(node, ctx),
            FailureEvent::Leave { node, retried } => self.leave(node, retried, ctx),
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        if let Fact::NodeAdded { node } = fact {
            self.node_added(*node, ctx);
        }
    }
}
