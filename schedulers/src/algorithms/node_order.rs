//! The order in which nodes with equal scores are taken: one random order of the nodes per
//! run, as the FGD paper's artifact (hkust-adsl/kubernetes-scheduler-simulator) gets it.
//!
//! The artifact names its nodes after a seeded permutation (`syncClusterResourceList`) and
//! its kube-scheduler keeps the lexically smallest name among equal scores (`selectHost`),
//! so every equal-score tie in a run falls the same way: it is not a fresh draw per pod.
//! `fgd` and the artifact's baselines ([`crate::algorithms::artifact`]) share this, so a
//! comparison between them differs in the score only.

use crate::scheduler::Cycle;
use rand::RngExt;

/// Which of the nodes with equal scores is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeOrder {
    /// The first in one random order of the nodes drawn once per run.
    #[default]
    Random,
    /// The lowest node index (the order nodes joined; a trace's file order).
    Index,
}

impl NodeOrder {
    /// The `nodeOrder` argument's value (`random` or `index`); anything else is `random`,
    /// the default (arguments are validated against a `Choice` before they get here).
    pub fn from_choice(choice: Option<&str>) -> NodeOrder {
        match choice {
            Some("index") => NodeOrder::Index,
            _ => NodeOrder::Random,
        }
    }
}

/// Each node's rank among equal scores for one run (lower first), drawn as nodes appear.
#[derive(Debug, Clone, Default)]
pub struct RunNodeOrder {
    /// How ranks are given.
    mode: NodeOrder,
    /// The cluster the ranks belong to ([`crate::ClusterState::uid`]).
    uid: u64,
    /// Per node: its random rank (unused with [`NodeOrder::Index`]).
    keys: Vec<u64>,
}

impl RunNodeOrder {
    /// An order of the given kind; ranks are drawn on the first [`Self::refresh`].
    pub fn new(mode: NodeOrder) -> RunNodeOrder {
        RunNodeOrder {
            mode,
            uid: 0,
            keys: Vec::new(),
        }
    }

    /// Ranks every node of the cycle's cluster, drawing for nodes seen for the first time
    /// from the cycle's random stream in index order, so the order is one permutation per
    /// run. A different cluster (another run) starts a new order; returns true then.
    pub fn refresh(&mut self, cycle: &mut Cycle<'_>) -> bool {
        let uid = cycle.cluster().uid();
        let nodes = cycle.cluster().rows().len();
        let fresh = self.uid != uid;
        if fresh {
            self.uid = uid;
            self.keys.clear();
        }
        while self.keys.len() < nodes {
            let key = match self.mode {
                NodeOrder::Random => cycle.rng().random::<u64>(),
                NodeOrder::Index => 0,
            };
            self.keys.push(key);
        }
        fresh
    }

    /// Node `n`'s place among equal scores (lower first).
    #[inline]
    pub fn rank(&self, n: usize) -> u64 {
        match self.mode {
            NodeOrder::Random => self.keys[n],
            NodeOrder::Index => n as u64,
        }
    }
}
