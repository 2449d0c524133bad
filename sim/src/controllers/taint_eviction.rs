//! The taint eviction controller (upstream's `pkg/controller/tainteviction`, the former
//! NoExecuteTaintManager): pods on a node with `NoExecute` taints are evicted at once if
//! some taint is not tolerated, after the smallest `tolerationSeconds` of the tolerations
//! used if all are, and never if those tolerate forever.
//!
//! Following upstream:
//! - It reacts to a node's taints changing and to a pod bound to a tainted node
//!   (`handleNodeUpdate`, `handlePodUpdate`); a node whose NoExecute taints are gone
//!   cancels its pods' timers.
//! - The tolerations used are, for each NoExecute taint, the first of the pod's that
//!   tolerates it (`GetMatchingTolerations`); their minimum is `getMinTolerationTime`:
//!   a `tolerationSeconds` of zero or less evicts at once, none at all tolerates forever.
//! - A pod that already has an eviction scheduled keeps it (`processPodOnNode` keeps the
//!   earlier work), so a second taint does not postpone the first one's deadline.
//! - The DefaultTolerationSeconds admission plugin
//!   (`plugin/pkg/admission/defaulttolerationseconds`) gives every pod
//!   `node.kubernetes.io/not-ready:NoExecute` and `node.kubernetes.io/unreachable:NoExecute`
//!   tolerations for `defaultTolerationSeconds` (300 s) unless one of its own tolerations
//!   has that key (or an empty key) and the NoExecute effect (or none). Here the
//!   tolerations are not added to the templates: the controller reads them as if they
//!   had been, which decides exactly the same and leaves runs without failures untouched.
//!
//! A timer that fires after its pod's eviction was cancelled or re-armed finds another
//! token in the table and does nothing. The controller runs only in scenarios with
//! `failures:`; simplified: it starts with the run, so NoExecute taints of the nodes the
//! cluster starts with apply to pods bound from then on, as they would upstream.

use std::collections::HashMap;

use schedulers::{NodeId, Pod, PodId, TaintEffect};

use crate::controllers::Controller;
use crate::controllers::kubelet::KubeletEvent;
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact};
use crate::time::SimTime;

/// The not-ready taint key (`v1.TaintNodeNotReady`).
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The unreachable taint key (`v1.TaintNodeUnreachable`).
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";

/// The taint eviction controller's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaintEvent {
    /// A pod's toleration ran out: it is evicted unless the timer was cancelled since.
    Evict {
        /// The pod.
        pod: PodId,
        /// The timer's token; a different one in the table means this timer is stale.
        token: u32,
    },
}

/// A scheduled eviction.
#[derive(Debug, Clone, Copy)]
struct Armed {
    /// When it was scheduled.
    created: SimTime,
    token: u32,
}

/// Pods on NoExecute-tainted nodes and when they go.
#[derive(Debug)]
pub struct TaintEviction {
    /// Scheduled evictions by pod; only looked up, never iterated.
    armed: HashMap<PodId, Armed>,
    next_token: u32,
    /// The admission plugin's `tolerationSeconds` for not-ready and unreachable.
    default_seconds: i64,
}

/// What a pod's tolerations make of a node's NoExecute taints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The node has no NoExecute taint.
    Untainted,
    /// Some taint is not tolerated, or a toleration has run out: evict now.
    EvictNow,
    /// Evict after this many seconds.
    After(i64),
    /// Every taint is tolerated forever.
    Never,
}

/// The taint eviction controller's decision for `pod` on `node`, with the default
/// not-ready/unreachable tolerations of `default_seconds` (see the module doc).
pub fn verdict(pod: &Pod, node: &schedulers::Node, default_seconds: i64) -> Verdict {
    let tolerations = &pod.template.tolerations;
    let mut tainted = false;
    let mut min: Option<i64> = None;
    for taint in node
        .spec
        .taints
        .iter()
        .filter(|t| t.effect == TaintEffect::NoExecute)
    {
        tainted = true;
        let seconds = match tolerations.iter().find(|t| t.tolerates(taint)) {
            Some(t) => t.toleration_seconds,
            None if defaulted(pod, &taint.key) => Some(default_seconds),
            None => return Verdict::EvictNow,
        };
        if let Some(s) = seconds {
            if s <= 0 {
                return Verdict::EvictNow;
            }
            min = Some(min.map_or(s, |m: i64| m.min(s)));
        }
    }
    match (tainted, min) {
        (false, _) => Verdict::Untainted,
        (true, Some(s)) => Verdict::After(s),
        (true, None) => Verdict::Never,
    }
}

/// True when admission gave the pod the default toleration of `key`: the key is
/// not-ready or unreachable and none of the pod's tolerations has that key (or an empty
/// one) with the NoExecute effect (or none).
fn defaulted(pod: &Pod, key: &str) -> bool {
    (key == TAINT_NOT_READY || key == TAINT_UNREACHABLE)
        && !pod.template.tolerations.iter().any(|t| {
            (t.key.is_empty() || t.key == key)
                && t.effect.is_none_or(|e| e == TaintEffect::NoExecute)
        })
}

impl TaintEviction {
    /// A controller with the scenario's default toleration seconds.
    pub(crate) fn new(default_seconds: u32) -> TaintEviction {
        TaintEviction {
            armed: HashMap::new(),
            next_token: 0,
            default_seconds: i64::from(default_seconds),
        }
    }

    /// Decides for one pod on `node`: evict now, arm a timer, or cancel one.
    fn process(&mut self, pod: PodId, node: NodeId, ctx: &mut Ctx<'_>) {
        let Some(p) = ctx.cluster.pod(pod) else {
            return;
        };
        if p.terminating || p.node != Some(node) {
            return;
        }
        match verdict(p, ctx.cluster.node(node), self.default_seconds) {
            Verdict::Untainted | Verdict::Never => {
                self.armed.remove(&pod);
            }
            Verdict::EvictNow => {
                self.armed.remove(&pod);
                ctx.then(Event::Kubelet(KubeletEvent::Evict {
                    pod,
                    reason: EvictionReason::Taint,
                }));
            }
            Verdict::After(seconds) => {
                if self.armed.get(&pod).is_some_and(|a| a.created < ctx.now) {
                    // Upstream keeps the work scheduled earlier.
                    return;
                }
                let token = self.next_token;
                self.next_token = self.next_token.wrapping_add(1);
                self.armed.insert(
                    pod,
                    Armed {
                        created: ctx.now,
                        token,
                    },
                );
                let at = ctx
                    .now
                    .saturating_add(SimTime::from_secs(u64::try_from(seconds).unwrap_or(0)));
                ctx.at(at, Event::Taint(TaintEvent::Evict { pod, token }));
            }
        }
    }

    fn fire(&mut self, pod: PodId, token: u32, ctx: &mut Ctx<'_>) {
        if self.armed.get(&pod).is_none_or(|a| a.token != token) {
            return; // Cancelled or re-armed since.
        }
        self.armed.remove(&pod);
        if ctx
            .cluster
            .pod(pod)
            .is_some_and(|p| p.node.is_some() && !p.terminating)
        {
            ctx.then(Event::Kubelet(KubeletEvent::Evict {
                pod,
                reason: EvictionReason::Taint,
            }));
        }
    }
}

impl Controller for TaintEviction {
    type Event = TaintEvent;

    fn on(&mut self, event: TaintEvent, ctx: &mut Ctx<'_>) {
        match event {
            TaintEvent::Evict { pod, token } => self.fire(pod, token, ctx),
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::NodeTaintsChanged { node } => {
                let n = ctx.cluster.node(*node);
                if n.pods.is_empty() {
                    return;
                }
                let pods = n.pods.clone();
                for pod in pods {
                    self.process(pod, *node, ctx);
                }
            }
            Fact::PodBound { pod, node, .. } => {
                let tainted = ctx
                    .cluster
                    .node(*node)
                    .spec
                    .taints
                    .iter()
                    .any(|t| t.effect == TaintEffect::NoExecute);
                if tainted {
                    self.process(*pod, *node, ctx);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use schedulers::{Node, NodeSpec, PodTemplate, Taint, Toleration, TolerationOperator};

    use super::*;

    fn node(taints: &[(&str, TaintEffect)]) -> Node {
        Node::new(NodeSpec {
            name: "n".into(),
            taints: taints
                .iter()
                .map(|(k, e)| Taint {
                    key: (*k).into(),
                    value: String::new(),
                    effect: *e,
                })
                .collect(),
            ..Default::default()
        })
    }

    fn pod(tolerations: Vec<Toleration>) -> Pod {
        Pod::from_template(
            Arc::new(PodTemplate {
                name: "p".into(),
                tolerations,
                ..Default::default()
            }),
            0,
        )
    }

    fn tol(key: &str, effect: Option<TaintEffect>, seconds: Option<i64>) -> Toleration {
        Toleration {
            key: key.into(),
            operator: TolerationOperator::Exists,
            value: String::new(),
            effect,
            toleration_seconds: seconds,
        }
    }

    const NE: TaintEffect = TaintEffect::NoExecute;

    /// Mirrors upstream's taint eviction `TestCreatePod` / `TestUpdateNode` cases and
    /// the DefaultTolerationSeconds admission tests (`TestForgivenessAdmission`).
    #[test]
    fn verdicts() {
        let unreachable = node(&[(TAINT_UNREACHABLE, NE)]);
        // "not scheduled - no taints": nothing to do.
        assert_eq!(verdict(&pod(vec![]), &node(&[]), 300), Verdict::Untainted);
        // A NoSchedule taint is not the controller's business.
        assert_eq!(
            verdict(&pod(vec![]), &node(&[("x", TaintEffect::NoSchedule)]), 300),
            Verdict::Untainted
        );
        // "pod without tolerations": evicted at once by a taint it does not tolerate.
        assert_eq!(
            verdict(&pod(vec![]), &node(&[("x", NE)]), 300),
            Verdict::EvictNow
        );
        // Admission's default toleration: 300 s on an unreachable node.
        assert_eq!(
            verdict(&pod(vec![]), &unreachable, 300),
            Verdict::After(300)
        );
        // "pod with tolerations, taints tolerated for a time".
        let p = pod(vec![tol(TAINT_UNREACHABLE, Some(NE), Some(30))]);
        assert_eq!(verdict(&p, &unreachable, 300), Verdict::After(30));
        // "tolerates forever": never evicted, and no default added.
        let p = pod(vec![tol(TAINT_UNREACHABLE, Some(NE), None)]);
        assert_eq!(verdict(&p, &unreachable, 300), Verdict::Never);
        // tolerationSeconds 0 or below evicts at once (getMinTolerationTime).
        let p = pod(vec![tol(TAINT_UNREACHABLE, Some(NE), Some(0))]);
        assert_eq!(verdict(&p, &unreachable, 300), Verdict::EvictNow);
        // An empty key with no effect tolerates everything, forever (admission adds
        // nothing: "pod has wildcard toleration").
        let p = pod(vec![tol("", None, None)]);
        assert_eq!(
            verdict(&p, &node(&[(TAINT_UNREACHABLE, NE), ("x", NE)]), 300),
            Verdict::Never
        );
        // Two taints: the minimum of the tolerations used.
        let p = pod(vec![tol("x", Some(NE), Some(600))]);
        assert_eq!(
            verdict(&p, &node(&[("x", NE), (TAINT_UNREACHABLE, NE)]), 300),
            Verdict::After(300)
        );
        // A toleration of the key for NoSchedule only: admission still adds the default.
        let p = pod(vec![tol(
            TAINT_UNREACHABLE,
            Some(TaintEffect::NoSchedule),
            None,
        )]);
        assert_eq!(verdict(&p, &unreachable, 300), Verdict::After(300));
        // A toleration naming the key that does not match the taint (Equal with a
        // value): admission adds nothing, and the taint is not tolerated.
        let p = pod(vec![Toleration {
            operator: TolerationOperator::Equal,
            value: "v".into(),
            ..tol(TAINT_UNREACHABLE, Some(NE), Some(10))
        }]);
        assert_eq!(verdict(&p, &unreachable, 300), Verdict::EvictNow);
    }
}
