//! Namespaces as fairness-aware schedulers see them: each namespace's weight and the
//! resources its bound pods hold, kept up to date on every bind and removal so that a
//! Dominant Resource Fairness scheduler (or a metric) reads a namespace's share in O(1).

use std::collections::BTreeMap;

use crate::resources::{NUM_RESOURCES, ResourceKind, Resources};

/// A namespace's dense index in [`Namespaces`]: given out in order of first sight and never
/// reused, so it can index per-namespace arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamespaceId(pub u32);

impl NamespaceId {
    /// The id as an array index.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// The weight a namespace has when none is declared (DRF's equal shares).
pub const DEFAULT_WEIGHT: u32 = 1;

/// Every namespace the cluster has seen, with its weight and what its bound pods request.
#[derive(Debug, Clone, Default)]
pub struct Namespaces {
    /// Lookup only (never iterated for a decision), so a `BTreeMap` costs nothing in
    /// determinism and keeps names in order for [`Namespaces::by_name`].
    ids: BTreeMap<String, NamespaceId>,
    names: Vec<String>,
    weights: Vec<u32>,
    requested: Vec<Resources>,
    bound: Vec<u64>,
}

impl Namespaces {
    /// The id of `name`, registering it with the default weight if it is new.
    pub fn intern(&mut self, name: &str) -> NamespaceId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = NamespaceId(self.names.len() as u32);
        self.ids.insert(name.to_string(), id);
        self.names.push(name.to_string());
        self.weights.push(DEFAULT_WEIGHT);
        self.requested.push(Resources::ZERO);
        self.bound.push(0);
        id
    }

    /// Sets a namespace's weight (registering it if new). A weight of 0 is taken as 1:
    /// the scenario loader refuses it, and a zero weight would make shares infinite.
    pub fn set_weight(&mut self, name: &str, weight: u32) -> NamespaceId {
        let id = self.intern(name);
        self.weights[id.index()] = weight.max(1);
        id
    }

    /// The id of a namespace already seen.
    pub fn id(&self, name: &str) -> Option<NamespaceId> {
        self.ids.get(name).copied()
    }

    /// Number of namespaces seen.
    #[inline]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when no namespace has been seen.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// A namespace's name.
    #[inline]
    pub fn name(&self, id: NamespaceId) -> &str {
        &self.names[id.index()]
    }

    /// A namespace's weight (at least 1).
    #[inline]
    pub fn weight(&self, id: NamespaceId) -> u32 {
        self.weights[id.index()]
    }

    /// What the namespace's bound pods request, summed.
    #[inline]
    pub fn requested(&self, id: NamespaceId) -> &Resources {
        &self.requested[id.index()]
    }

    /// How many of the namespace's pods are bound now.
    #[inline]
    pub fn bound_pods(&self, id: NamespaceId) -> u64 {
        self.bound[id.index()]
    }

    /// What the bound pods of every namespace request together: everything charged to
    /// nodes, terminating pods included.
    pub fn requested_total(&self) -> Resources {
        let mut total = Resources::ZERO;
        for r in &self.requested {
            total += *r;
        }
        total
    }

    /// Every namespace id in name order.
    pub fn by_name(&self) -> impl Iterator<Item = NamespaceId> + '_ {
        self.ids.values().copied()
    }

    /// A pod of the namespace was bound (`sign` 1) or left its node (`sign` -1).
    #[inline]
    pub(crate) fn charge(&mut self, id: NamespaceId, requests: &Resources, sign: i64) {
        let r = &mut self.requested[id.index()];
        for k in 0..NUM_RESOURCES {
            r.0[k] += sign * requests.0[k];
        }
        self.bound[id.index()] = self.bound[id.index()].saturating_add_signed(sign);
    }

    /// The namespace's weighted dominant share against `capacity` (see [`dominant_share`]),
    /// divided by its weight.
    #[inline]
    pub fn weighted_share(&self, id: NamespaceId, capacity: &Resources) -> f64 {
        dominant_share(self.requested(id), capacity) / f64::from(self.weight(id))
    }
}

/// Dominant Resource Fairness's dominant share (Ghodsi et al., NSDI 2011): the largest
/// fraction of the cluster's capacity that `requested` takes in any one resource. Every
/// resource kind counts except pod slots, which are a per-node count limit rather than a
/// capacity tenants share; kinds with no capacity count for nothing.
#[inline]
pub fn dominant_share(requested: &Resources, capacity: &Resources) -> f64 {
    let mut share = 0.0f64;
    for k in 0..NUM_RESOURCES {
        if k == ResourceKind::PODS.index() || capacity.0[k] <= 0 {
            continue;
        }
        // One correctly rounded division of two integers: equal fractions give equal
        // floats, so ties between namespaces are exact ties, broken by name.
        share = share.max(requested.0[k] as f64 / capacity.0[k] as f64);
    }
    share
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_share_is_the_largest_fraction_and_ignores_pod_slots() {
        let mut cap = Resources::cpu_mem(9000, 18 << 30);
        cap.set(ResourceKind::PODS, 10);
        let mut req = Resources::cpu_mem(1000, 4 << 30);
        req.set(ResourceKind::PODS, 9);
        assert_eq!(dominant_share(&req, &cap), 4.0 / 18.0);
        let req = Resources::cpu_mem(3000, 1 << 30);
        assert_eq!(dominant_share(&req, &cap), 3.0 / 9.0);
        assert_eq!(dominant_share(&req, &Resources::ZERO), 0.0);
    }

    #[test]
    fn book_keeps_weights_and_charges() {
        let mut ns = Namespaces::default();
        let b = ns.intern("b");
        let a = ns.set_weight("a", 2);
        assert_eq!(ns.intern("b"), b);
        assert_eq!(ns.by_name().collect::<Vec<_>>(), vec![a, b]);
        assert_eq!((ns.weight(a), ns.weight(b)), (2, 1));
        let cap = Resources::cpu_mem(1000, 1000);
        ns.charge(a, &Resources::cpu_mem(500, 100), 1);
        assert_eq!(ns.weighted_share(a, &cap), 0.25);
        ns.charge(a, &Resources::cpu_mem(500, 100), -1);
        assert_eq!(ns.requested(a), &Resources::ZERO);
        assert_eq!(ns.bound_pods(a), 0);
        assert_eq!(ns.set_weight("c", 0), NamespaceId(2));
        assert_eq!(ns.weight(NamespaceId(2)), 1);
    }
}
