//! Nodes ordered by an exact key, for the algorithms whose scores are not small integers.
//!
//! [`crate::score_tree::ScoreTree`] buckets kube-scheduler's integer scores; `best-fit`
//! and `worst-fit` compare leftover shares as exact fractions, which no bucket count
//! holds. A [`RankSet`] keeps every feasible node in a B-tree by (key, node index), so the
//! first entry is the node a scan keeping the first strictly better node finds: the best
//! key, the lowest index among equals. Behind a [`crate::shape_cache::ShapeCache`], a
//! changed node costs a removal and an insertion instead of a scan over every node.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::algorithms::demand::{Demand, cmp_fractions};
use crate::cluster::ClusterState;
use crate::filters::PodFilter;
use crate::pod::PodId;
use crate::scheduler::Placement;
use crate::shape_cache::{NodeScores, ShapeCache, placement};

/// Every feasible node by key, the smallest first.
#[derive(Debug, Clone)]
pub struct RankSet<K> {
    keys: Vec<Option<K>>,
    order: BTreeSet<(K, u32)>,
}

impl<K> Default for RankSet<K> {
    fn default() -> Self {
        RankSet {
            keys: Vec::new(),
            order: BTreeSet::new(),
        }
    }
}

impl<K: Ord + Copy> RankSet<K> {
    /// The feasible node of the smallest key, the lowest index among equals.
    pub fn first(&self) -> Option<usize> {
        self.order.first().map(|&(_, i)| i as usize)
    }
}

impl<K: Ord + Copy> NodeScores for RankSet<K> {
    type Score = K;

    fn with_nodes(len: usize) -> Self {
        RankSet {
            keys: vec![None; len],
            order: BTreeSet::new(),
        }
    }

    fn node_count(&self) -> usize {
        self.keys.len()
    }

    fn set(&mut self, i: usize, key: Option<K>) {
        let old = std::mem::replace(&mut self.keys[i], key);
        if old == key {
            return;
        }
        if let Some(k) = old {
            self.order.remove(&(k, i as u32));
        }
        if let Some(k) = key {
            self.order.insert((k, i as u32));
        }
    }

    fn prefetch(&self, i: usize) {
        if let Some(&key) = self.keys.get(i) {
            std::hint::black_box(key);
        }
    }
}

/// The placement of the algorithms that take the node of the smallest key (`best-fit`,
/// `worst-fit`, `tetris`): an unconstrained pod reads the first node of its shape in
/// `cache`, where nodes are ranked by `key` (of the pod's demand and a node index, which
/// must depend only on the node and the pod's requests); other pods get `scan`'s node,
/// which must be the one the cache would give. The diagnosis when no node is feasible.
pub(crate) fn place_by_rank<K: Ord + Copy>(
    cache: &mut ShapeCache<RankSet<K>>,
    cluster: &ClusterState,
    pod_id: PodId,
    key: impl Fn(&Demand, usize) -> K,
    scan: impl FnOnce(&PodFilter<'_>, &Demand) -> Option<usize>,
) -> Placement {
    let Some(pod) = cluster.pod(pod_id) else {
        return Placement::Unschedulable(Default::default());
    };
    let filter = PodFilter::new(pod);
    let demand = Demand::of(pod);
    let node = match cache.scores(cluster, &filter, |i| key(&demand, i)) {
        Some(set) => set.first(),
        None => scan(&filter, &demand),
    };
    placement(cluster, pod, node)
}

/// A fraction `numerator / denominator`, compared as `best-fit` compares them: exactly, by cross-multiplication
/// ([`cmp_fractions`]), so `1/2` and `2/4` are equal. Denominators are positive.
#[derive(Debug, Clone, Copy)]
pub struct Fraction(pub i64, pub i64);

impl PartialEq for Fraction {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Fraction {}

impl PartialOrd for Fraction {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Fraction {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_fractions((self.0, self.1), (other.0, other.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use std::cmp::Reverse;

    /// The first entry is what a scan keeping the first strictly smaller key finds, for
    /// fractions that are equal in different terms too.
    #[test]
    fn first_is_the_scans_pick() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(4);
        let mut set: RankSet<Fraction> = RankSet::with_nodes(50);
        let mut worst: RankSet<Reverse<Fraction>> = RankSet::with_nodes(50);
        let mut keys: Vec<Option<Fraction>> = vec![None; 50];
        for _ in 0..5_000 {
            let i = rng.random_range(0..50);
            let key = (rng.random_range(0..4) > 0).then(|| {
                let d = rng.random_range(1..4);
                Fraction(rng.random_range(-1..=3) * d, 3 * d)
            });
            keys[i] = key;
            set.set(i, key);
            worst.set(i, key.map(Reverse));
            let scan = |better: Ordering| {
                let mut best: Option<(usize, Fraction)> = None;
                for (j, k) in keys.iter().enumerate() {
                    if let Some(k) = *k
                        && best.is_none_or(|(_, b)| k.cmp(&b) == better)
                    {
                        best = Some((j, k));
                    }
                }
                best.map(|(j, _)| j)
            };
            assert_eq!(set.first(), scan(Ordering::Less));
            assert_eq!(worst.first(), scan(Ordering::Greater));
        }
    }
}
