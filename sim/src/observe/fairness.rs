//! Fair shares across namespaces: each namespace's dominant share integrated over time,
//! the rows of `namespaces.csv`, and Jain's index over them.

use schedulers::NamespaceId;
use schedulers::namespaces::dominant_share;

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::time::SimTime;

/// `jain_index`.
pub static JAIN_INDEX: Column = Column {
    name: "jain_index",
    unit: Unit::Ratio,
    doc: "Jain's fairness index of the namespaces' mean weighted dominant shares",
};

/// Jain's fairness index of `xs`: `(sum x)^2 / (n * sum x^2)`, from `1/n` (one value has
/// everything) to 1 (all equal). 1 for no values, one value, or all zeros.
pub fn jain_index(xs: &[f64]) -> f64 {
    let sum: f64 = xs.iter().sum();
    let squares: f64 = xs.iter().map(|x| x * x).sum();
    if xs.len() <= 1 || squares == 0.0 {
        1.0
    } else {
        sum * sum / (xs.len() as f64 * squares)
    }
}

/// One namespace's figures over a run: a row of `namespaces.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceSummary {
    /// The namespace.
    pub name: String,
    /// Its fairness weight (`namespaces:` in the scenario, default 1).
    pub weight: u32,
    /// Its pods created during the run.
    pub pods_submitted: u64,
    /// Binds of its pods during the run.
    pub pods_bound: u64,
    /// Time-weighted mean of its dominant share (largest fraction of the ready cluster's
    /// allocatable capacity its bound pods request in any resource but pod slots).
    pub dominant_share_mean: f64,
}

impl NamespaceSummary {
    /// The mean dominant share divided by the weight: what DRF equalizes.
    pub fn weighted_share_mean(&self) -> f64 {
        self.dominant_share_mean / f64::from(self.weight.max(1))
    }
}

/// One namespace's running figures; its share integrates exactly between changes.
#[derive(Debug, Clone, Copy, Default)]
struct Meter {
    share: f64,
    since: SimTime,
    /// Integral of the dominant share over time, in share-microseconds.
    integral: f64,
    submitted: u64,
    bound: u64,
}

impl Meter {
    fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.since.0);
        if dt > 0 {
            self.integral += self.share * dt as f64;
            self.since = now;
        }
    }
}

/// Dominant shares per namespace over time.
#[derive(Debug, Clone, Default)]
pub struct Fairness {
    /// Per namespace, indexed by [`NamespaceId`].
    meters: Vec<Meter>,
    /// The rows, once the run has closed.
    rows: Vec<NamespaceSummary>,
}

impl Fairness {
    fn meter(&mut self, ns: NamespaceId) -> &mut Meter {
        if self.meters.len() <= ns.index() {
            self.meters.resize(ns.index() + 1, Meter::default());
        }
        &mut self.meters[ns.index()]
    }

    /// The namespace's requests changed: integrates its old share up to now and takes
    /// the new one from the cluster.
    #[inline]
    fn changed(&mut self, ns: NamespaceId, view: &View<'_>, bound: bool) {
        let cluster = view.cluster;
        let share = dominant_share(cluster.namespaces().requested(ns), cluster.ready_capacity());
        let m = self.meter(ns);
        m.advance(view.now);
        m.share = share;
        if bound {
            m.bound += 1;
        }
    }

    /// The rows of `namespaces.csv`, in name order (after the run closed).
    pub fn into_rows(self) -> Vec<NamespaceSummary> {
        self.rows
    }
}

impl Observer for Fairness {
    #[inline(always)]
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        match fact {
            Fact::PodCreated { .. } => {
                if let Some(p) = view.pod {
                    self.meter(p.namespace_id()).submitted += 1;
                }
            }
            Fact::PodBound { .. } => {
                if let Some(p) = view.pod {
                    self.changed(p.namespace_id(), view, true);
                }
            }
            // Its namespace's books charge a pod waiting at Permit from when it holds its
            // node until it is rejected; it counts as bound only once bound.
            Fact::PodWaiting { .. } | Fact::PermitRejected { .. } => {
                if let Some(p) = view.pod {
                    self.changed(p.namespace_id(), view, false);
                }
            }
            Fact::PodDeleted { .. } => {
                if let Some(p) = view.pod.filter(|p| p.node.is_some()) {
                    self.changed(p.namespace_id(), view, false);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>, summary: &mut Summary) {
        let namespaces = end.cluster.namespaces();
        self.rows = namespaces
            .by_name()
            .map(|id| {
                let mut m = self.meters.get(id.index()).copied().unwrap_or_default();
                m.advance(end.end);
                NamespaceSummary {
                    name: namespaces.name(id).to_string(),
                    weight: namespaces.weight(id),
                    pods_submitted: m.submitted,
                    pods_bound: m.bound,
                    dominant_share_mean: if end.end.0 == 0 {
                        m.share
                    } else {
                        m.integral / end.end.0 as f64
                    },
                }
            })
            .collect();
        // Namespaces that only were declared, with no pod, have nothing to be fair to.
        let weighted: Vec<f64> = self
            .rows
            .iter()
            .filter(|n| n.pods_submitted > 0)
            .map(NamespaceSummary::weighted_share_mean)
            .collect();
        summary.push(&JAIN_INDEX, Value::Float(jain_index(&weighted)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_index_on_known_inputs() {
        assert_eq!(jain_index(&[]), 1.0);
        assert_eq!(jain_index(&[0.3]), 1.0);
        assert_eq!(jain_index(&[0.5, 0.5, 0.5]), 1.0);
        // One of four has everything: 1/n.
        assert_eq!(jain_index(&[1.0, 0.0, 0.0, 0.0]), 0.25);
        // (1 + 3)^2 / (2 * (1 + 9)) = 16 / 20.
        assert_eq!(jain_index(&[1.0, 3.0]), 0.8);
        assert_eq!(jain_index(&[0.0, 0.0]), 1.0);
    }
}
