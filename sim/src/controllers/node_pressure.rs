//! The kubelets' eviction managers and container restarts: node-pressure eviction under
//! memory pressure, OOM kills and CrashLoopBackOff (only in scenarios with
//! `nodePressure:`).
//!
//! Following upstream's `pkg/kubelet/eviction` (`eviction_manager.go`, `helpers.go`):
//! - Every `housekeepingInterval` (the kubelet's `evictionMonitoringPeriod`, 10 s) each
//!   node's manager observes `memory.available` and compares it with the hard threshold
//!   (`evictionHard`, default `memory.available<100Mi`).
//! - While the threshold is met the node has the MemoryPressure condition, and the node
//!   lifecycle controller's `node.kubernetes.io/memory-pressure:NoSchedule` taint
//!   (TaintNodesByCondition); the condition holds until the signal has stayed above the
//!   threshold for `evictionPressureTransitionPeriod` (`nodeConditionsObservedSince`).
//! - Each pass that meets the threshold evicts at most one pod, the first of
//!   `rankMemoryPressure`: pods whose usage exceeds their memory request first
//!   (`exceedMemoryRequests`), then by priority, lowest first, then by usage above the
//!   request, largest first. Critical pods (priority of `system-cluster-critical` or
//!   above) are skipped (`evictPod`). The evicted pod fails (reason Evicted) and its
//!   Deployment replaces it.
//!
//! Following the kubelet's container runtime manager (`doBackOff` in
//! `kuberuntime_manager.go`, `client-go/util/flowcontrol/backoff.go`): a container above
//! its memory limit is OOM-killed by the kernel at once and restarted in place
//! (restartPolicy Always). At each death the restart backoff entry is read: none, or one
//! last updated more than twice the maximum delay before this death (the container ran
//! for longer than 10 minutes), restarts it at once and sets the delay to `initial`
//! (10 s); otherwise it restarts once the delay has passed since the death, and the delay
//! doubles up to `max` (5 minutes). So a crash loop restarts after 0, 10, 20, 40 ... 300 s.
//! While down the pod stays Running and bound, is not Ready and uses no memory; its
//! memory starts over from its base (the leak restarts).
//!
//! Simplified: `memory.available` is the node's allocatable memory minus the pods'
//! usage (upstream uses capacity minus the node's working set, which includes the
//! system's own use, reserved out of allocatable); pods whose memory is not modelled
//! (`memoryUsage:` or `usage.memory`) use their memory request; only running pods count
//! and only they are candidates; an evicted pod leaves at once (upstream gives hard
//! evictions a one-second grace period); soft thresholds, `evictionMinimumReclaim` and
//! the other signals (disk, PIDs) are not modelled. Only Deployments model memory, so
//! every OOM-killed pod restarts (there is no Never/OnFailure batch pod to fail).

use schedulers::{NodeId, PodId, PodPhase, Taint, TaintEffect};
use slotmap::SecondaryMap;

use crate::controllers::Controller;
use crate::controllers::kubelet::KubeletEvent;
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact};
use crate::scenario::NodePressureSettings;
use crate::scenario::dynamics::{memory_limit, step_value};
use crate::time::SimTime;

/// The memory-pressure taint key (`v1.TaintNodeMemoryPressure`).
pub const TAINT_MEMORY_PRESSURE: &str = "node.kubernetes.io/memory-pressure";
/// Priority at or above which a pod is critical and never evicted for pressure
/// (`scheduling.SystemCriticalPriority`).
pub const SYSTEM_CRITICAL_PRIORITY: i32 = 2_000_000_000;
/// Microseconds in an hour, the unit of a leak.
const HOUR_MICROS: i128 = 3_600_000_000;

/// The eviction managers' events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PressureEvent {
    /// Every node's manager looks at its node.
    Housekeeping,
    /// One node's pass (follow-up work of a housekeeping tick).
    Pass {
        /// The node.
        node: NodeId,
    },
    /// A pod's memory reaches its limit: the kernel kills its containers.
    OomKill {
        /// The pod.
        pod: PodId,
        /// The timer's token; another one in the table means the timer is stale.
        token: u32,
    },
    /// An OOM-killed pod's backoff is over: its containers start again.
    Restart {
        /// The pod.
        pod: PodId,
        /// The timer's token.
        token: u32,
    },
}

/// One node's MemoryPressure condition.
#[derive(Debug, Clone, Copy, Default)]
struct NodeCondition {
    pressure: bool,
    /// The last pass that found the threshold met.
    last_observed: SimTime,
}

/// A pod's containers, as far as OOM kills go.
#[derive(Debug, Clone, Copy)]
struct Container {
    /// The pending timer's token.
    token: u32,
    restarts: u32,
    /// The restart backoff entry (`flowcontrol.Backoff`): the current delay and when it
    /// was last updated; `None` before the first death.
    backoff: Option<(SimTime, SimTime)>,
}

/// A pod as `rankMemoryPressure` compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The pod.
    pub pod: PodId,
    /// Its memory usage exceeds its request.
    pub exceeds: bool,
    /// Its priority.
    pub priority: i32,
    /// Usage minus request, in bytes (negative under the request).
    pub above_request: i64,
    /// Its start stamp: ties go to the pod that started first.
    pub stamp: u64,
}

/// Sorts pods in the order the eviction manager evicts them under memory pressure
/// (`rankMemoryPressure`: `exceedMemoryRequests`, `priority`, `memory`), ties broken by
/// start order (upstream's sort leaves them to chance).
pub fn rank_memory_pressure(pods: &mut [Candidate]) {
    pods.sort_unstable_by(|a, b| {
        b.exceeds
            .cmp(&a.exceeds)
            .then(a.priority.cmp(&b.priority))
            .then(b.above_request.cmp(&a.above_request))
            .then(a.stamp.cmp(&b.stamp))
    });
}

/// The eviction managers of every node.
#[derive(Debug)]
pub struct NodePressure {
    settings: NodePressureSettings,
    /// By node index.
    nodes: Vec<NodeCondition>,
    containers: SecondaryMap<PodId, Container>,
    next_token: u32,
    /// Scratch for one node's ranking, reused.
    ranked: Vec<Candidate>,
}

/// The first instant from `since` (when the containers started) at which a pod's memory
/// is above `limit`, if ever: `base + leak x elapsed` with the leak in bytes per hour, or
/// a step function of absolute time.
pub fn oom_time(
    since: SimTime,
    base: i64,
    leak_per_hour: i64,
    steps: Option<&[(SimTime, i64)]>,
    limit: i64,
) -> Option<SimTime> {
    if let Some(steps) = steps {
        if step_value(steps, since) > limit {
            return Some(since);
        }
        return steps
            .iter()
            .find(|&&(at, v)| at > since && v > limit)
            .map(|&(at, _)| at);
    }
    if base > limit {
        return Some(since);
    }
    if leak_per_hour <= 0 {
        return None;
    }
    // The first microsecond at which floor(leak x t / 1h) > limit - base.
    let need = (i128::from(limit) - i128::from(base) + 1) * HOUR_MICROS;
    let leak = i128::from(leak_per_hour);
    let micros = (need + leak - 1) / leak;
    Some(since.saturating_add(SimTime(u64::try_from(micros).unwrap_or(u64::MAX))))
}

impl NodePressure {
    /// The eviction managers of a run with `settings`, and their first pass.
    pub(crate) fn start(settings: &NodePressureSettings, ctx: &mut Ctx<'_>) -> NodePressure {
        ctx.at(
            settings.housekeeping_interval,
            Event::Pressure(PressureEvent::Housekeeping),
        );
        NodePressure {
            settings: settings.clone(),
            nodes: Vec::new(),
            containers: SecondaryMap::new(),
            next_token: 0,
            ranked: Vec::new(),
        }
    }

    /// Memory a running pod uses now, in bytes: its model's, or its request.
    fn usage(pod: PodId, ctx: &Ctx<'_>) -> i64 {
        let Some(p) = ctx.cluster.pod(pod) else {
            return 0;
        };
        let request = p.requests.memory();
        let Some(status) = ctx.status().get(pod) else {
            return request;
        };
        let Some(d) = ctx
            .scenario
            .workloads
            .get(status.workload as usize)
            .and_then(|w| w.dynamics.as_deref())
        else {
            return request;
        };
        let fixed = d.usage.memory_of(p.ordinal);
        if fixed.is_none() && d.memory.is_none() {
            return request;
        }
        // Containers that are down use nothing.
        let Some(since) = status.running_since else {
            return 0;
        };
        if let Some(steps) = fixed {
            return step_value(steps, ctx.now);
        }
        let leak = d.memory.as_ref().map_or(0, |m| m.leak_per_hour);
        let elapsed = i128::from(ctx.now.saturating_sub(since).as_micros());
        status.memory_base + (i128::from(leak) * elapsed / HOUR_MICROS) as i64
    }

    /// Arms the OOM kill of a pod whose containers just started, if its memory will pass
    /// its limit.
    fn arm(&mut self, pod: PodId, ctx: &mut Ctx<'_>) {
        if !self.settings.oom_kill {
            return;
        }
        let Some(p) = ctx.cluster.pod(pod) else {
            return;
        };
        let Some(limit) = memory_limit(&p.template) else {
            return;
        };
        let Some(status) = ctx.status().get(pod) else {
            return;
        };
        let Some(d) = ctx
            .scenario
            .workloads
            .get(status.workload as usize)
            .and_then(|w| w.dynamics.as_deref())
        else {
            return;
        };
        let leak = d.memory.as_ref().map_or(0, |m| m.leak_per_hour);
        let (base, steps) = match (d.usage.memory_of(p.ordinal), &d.memory) {
            (Some(steps), _) => (0, Some(steps)),
            (None, Some(_)) => (status.memory_base, None),
            (None, None) => return,
        };
        let Some(at) = oom_time(ctx.now, base, leak, steps, limit) else {
            return;
        };
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        match self.containers.get_mut(pod) {
            Some(c) => c.token = token,
            None => {
                self.containers.insert(
                    pod,
                    Container {
                        token,
                        restarts: 0,
                        backoff: None,
                    },
                );
            }
        }
        ctx.at(at, Event::Pressure(PressureEvent::OomKill { pod, token }));
    }

    /// True when `pod` is running, not leaving, and `token` is its current timer.
    fn current(&self, pod: PodId, token: u32, ctx: &Ctx<'_>) -> bool {
        self.containers.get(pod).is_some_and(|c| c.token == token)
            && ctx
                .cluster
                .pod(pod)
                .is_some_and(|p| p.phase == PodPhase::Running && !p.terminating)
    }

    fn oom_kill(&mut self, pod: PodId, token: u32, ctx: &mut Ctx<'_>) {
        if !self.current(pod, token, ctx) {
            return;
        }
        let now = ctx.now;
        let (initial, max) = (self.settings.backoff_initial, self.settings.backoff_max);
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1);
        let Some(c) = self.containers.get_mut(pod) else {
            return;
        };
        c.token = token;
        // doBackOff: in backoff since this death unless the entry is new or expired
        // (last updated more than 2 x max before it); a restart moves the entry on.
        let restart_at = match c.backoff {
            Some((delay, updated)) if now.saturating_sub(updated) <= max.saturating_add(max) => {
                let at = now.saturating_add(delay);
                c.backoff = Some((delay.saturating_add(delay).min(max), at));
                at
            }
            _ => {
                c.backoff = Some((initial, now));
                now
            }
        };
        if let Some(s) = ctx.status_mut().get_mut(pod) {
            s.running_since = None;
        }
        ctx.publish(Fact::PodOomKilled { pod, restart_at });
        ctx.at_after(
            restart_at,
            Event::Pressure(PressureEvent::Restart { pod, token }),
        );
    }

    fn restart(&mut self, pod: PodId, token: u32, ctx: &mut Ctx<'_>) {
        if !self.current(pod, token, ctx) {
            return;
        }
        let Some(c) = self.containers.get_mut(pod) else {
            return;
        };
        c.restarts += 1;
        let restarts = c.restarts;
        // Memory starts over from its base; the Services controller restarts readiness.
        let now = ctx.now;
        if let Some(s) = ctx.status_mut().get_mut(pod) {
            s.running_since = Some(now);
        }
        self.arm(pod, ctx);
        ctx.publish(Fact::ContainerRestarted { pod, restarts });
    }

    /// One node's pass: observe, set the condition, evict at most one pod.
    fn pass(&mut self, node: NodeId, ctx: &mut Ctx<'_>) {
        let n = ctx.cluster.node(node);
        if n.removed || !n.ready {
            return;
        }
        let allocatable = n.spec.allocatable.memory();
        let threshold = self.settings.memory_available.bytes(allocatable);
        self.ranked.clear();
        let mut used = 0i64;
        for i in 0..n.pods.len() {
            let id = ctx.cluster.node(node).pods[i];
            let Some(p) = ctx.cluster.pod(id) else {
                continue;
            };
            if p.phase != PodPhase::Running {
                continue;
            }
            let (request, priority, stamp, terminating) = (
                p.requests.memory(),
                p.priority(),
                p.start_stamp,
                p.terminating,
            );
            let usage = Self::usage(id, ctx);
            used = used.saturating_add(usage);
            if !terminating {
                self.ranked.push(Candidate {
                    pod: id,
                    exceeds: usage > request,
                    priority,
                    above_request: usage - request,
                    stamp,
                });
            }
        }
        let available = allocatable.saturating_sub(used);
        let met = available < threshold;
        let i = node.index();
        if i >= self.nodes.len() {
            self.nodes.resize(i + 1, NodeCondition::default());
        }
        let cond = &mut self.nodes[i];
        let now = ctx.now;
        if met {
            cond.last_observed = now;
        }
        let pressure = met
            || (cond.pressure
                && now.saturating_sub(cond.last_observed)
                    < self.settings.pressure_transition_period);
        if pressure != cond.pressure {
            cond.pressure = pressure;
            self.set_condition(node, pressure, available, ctx);
        }
        if !met {
            return;
        }
        rank_memory_pressure(&mut self.ranked);
        if let Some(victim) = self
            .ranked
            .iter()
            .find(|c| c.priority < SYSTEM_CRITICAL_PRIORITY)
        {
            ctx.then(Event::Kubelet(KubeletEvent::Evict {
                pod: victim.pod,
                reason: EvictionReason::NodePressure,
            }));
        }
    }

    /// The MemoryPressure condition changed: the taint follows it.
    fn set_condition(&mut self, node: NodeId, pressure: bool, available: i64, ctx: &mut Ctx<'_>) {
        ctx.publish(Fact::NodeMemoryPressure {
            node,
            pressure,
            available,
        });
        let tainted =
            |t: &Taint| t.key == TAINT_MEMORY_PRESSURE && t.effect == TaintEffect::NoSchedule;
        let mut taints = ctx.cluster.node(node).spec.taints.clone();
        if pressure && !taints.iter().any(tainted) {
            taints.push(Taint {
                key: TAINT_MEMORY_PRESSURE.to_owned(),
                value: String::new(),
                effect: TaintEffect::NoSchedule,
            });
        } else if !pressure {
            taints.retain(|t| !tainted(t));
        }
        if taints != ctx.cluster.node(node).spec.taints
            && ctx.cluster.set_taints(node, taints).is_ok()
        {
            ctx.publish(Fact::NodeTaintsChanged { node });
        }
    }

    fn housekeeping(&mut self, ctx: &mut Ctx<'_>) {
        for i in 0..ctx.cluster.nodes().len() {
            let n = &ctx.cluster.nodes()[i];
            let tracked = self.nodes.get(i).is_some_and(|c| c.pressure);
            if !n.removed && (tracked || !n.pods.is_empty()) {
                ctx.then(Event::Pressure(PressureEvent::Pass {
                    node: NodeId(i as u32),
                }));
            }
        }
        let next = ctx.now.saturating_add(self.settings.housekeeping_interval);
        ctx.at(next, Event::Pressure(PressureEvent::Housekeeping));
    }
}

impl Controller for NodePressure {
    type Event = PressureEvent;

    fn on(&mut self, event: PressureEvent, ctx: &mut Ctx<'_>) {
        match event {
            PressureEvent::Housekeeping => self.housekeeping(ctx),
            PressureEvent::Pass { node } => self.pass(node, ctx),
            PressureEvent::OomKill { pod, token } => self.oom_kill(pod, token, ctx),
            PressureEvent::Restart { pod, token } => self.restart(pod, token, ctx),
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        if let Fact::PodStarted { pod } = fact {
            self.arm(*pod, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MI: i64 = 1 << 20;

    /// Upstream's helpers_test.go cases, through the combined ranking:
    /// `TestOrderedByExceedsRequestMemory` (a pod above its request goes before one below,
    /// whatever their priorities), `TestOrderedByPriority` (lower priority first) and
    /// `TestOrderedbyMemory` (more usage above the request first), then start order.
    #[test]
    fn rank_memory_pressure_orders_as_upstream() {
        let mut keys = slotmap::SlotMap::<PodId, ()>::with_key();
        let ids: Vec<PodId> = (0..7).map(|_| keys.insert(())).collect();
        let c = |i: usize, usage: i64, request: i64, priority: i32| Candidate {
            pod: ids[i],
            exceeds: usage > request,
            priority,
            above_request: usage - request,
            stamp: i as u64,
        };
        let mut pods = vec![
            c(0, 100 * MI, 200 * MI, 0),    // below its request, lowest priority
            c(1, 300 * MI, 100 * MI, 1000), // above, high priority
            c(2, 150 * MI, 100 * MI, 0),    // above by 50 Mi, low priority
            c(3, 400 * MI, 100 * MI, 0),    // above by 300 Mi, low priority
            c(4, 100 * MI, 100 * MI, -10),  // at its request: not above
            c(5, 150 * MI, 100 * MI, 0),    // as pod 2, started later
            c(6, 190 * MI, 200 * MI, 0),    // below by 10 Mi
        ];
        rank_memory_pressure(&mut pods);
        let order: Vec<usize> = pods
            .iter()
            .map(|p| ids.iter().position(|&i| i == p.pod).unwrap())
            .collect();
        assert_eq!(order, [3, 2, 5, 1, 4, 6, 0]);
    }

    /// Leak arithmetic worked by hand: 100 Mi/h from 200 Mi to a 300 Mi limit passes
    /// the limit one byte after an hour: (100 Mi + 1) x 3600 s / 100 Mi, rounded up to a
    /// microsecond.
    #[test]
    fn oom_times() {
        let t0 = SimTime::from_secs(5);
        let at = oom_time(t0, 200 * MI, 100 * MI, None, 300 * MI).unwrap();
        let need = (100 * MI as i128 + 1) * HOUR_MICROS;
        let micros = (need + 100 * MI as i128 - 1) / (100 * MI as i128);
        assert_eq!(at, t0.saturating_add(SimTime(micros as u64)));
        assert_eq!(micros, 3_600_000_035);
        // Above the limit from the start: killed at once; no leak: never.
        assert_eq!(oom_time(t0, 301 * MI, 0, None, 300 * MI), Some(t0));
        assert_eq!(oom_time(t0, 200 * MI, 0, None, 300 * MI), None);
        // Steps: the first step after the start above the limit, or the start itself.
        let steps = [
            (SimTime::ZERO, 100 * MI),
            (SimTime::from_secs(60), 400 * MI),
            (SimTime::from_secs(120), 100 * MI),
        ];
        assert_eq!(
            oom_time(t0, 0, 0, Some(&steps), 300 * MI),
            Some(SimTime::from_secs(60))
        );
        assert_eq!(
            oom_time(SimTime::from_secs(90), 0, 0, Some(&steps), 300 * MI),
            Some(SimTime::from_secs(90))
        );
        assert_eq!(
            oom_time(SimTime::from_secs(120), 0, 0, Some(&steps), 300 * MI),
            None
        );
    }
}
