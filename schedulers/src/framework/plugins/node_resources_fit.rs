//! NodeResourcesFit: PLACEHOLDER, being implemented (fit filter; LeastAllocated, MostAllocated, RequestedToCapacityRatio scoring).

use crate::framework::Plugin;
use crate::framework::profile::Points;

/// How NodeResourcesFit scores nodes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum ScoringStrategy {
    /// Prefer nodes with the most free resources (the default).
    #[default]
    LeastAllocated,
}

/// The NodeResourcesFit plugin.
#[derive(Debug, Default, Clone)]
pub struct NodeResourcesFit {
    strategy: ScoringStrategy,
}

impl NodeResourcesFit {
    /// Its name.
    pub const NAME: &'static str = "NodeResourcesFit";
    /// Where it runs.
    pub const POINTS: Points = Points::ALL;

    /// With this scoring strategy.
    pub fn new(strategy: ScoringStrategy) -> NodeResourcesFit {
        NodeResourcesFit { strategy }
    }

    /// The scoring strategy.
    pub fn strategy(&self) -> &ScoringStrategy {
        &self.strategy
    }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        Self::NAME
    }
}
