//! NodeResourcesBalancedAllocation: PLACEHOLDER, being implemented.

use crate::framework::Plugin;
use crate::framework::profile::Points;

/// The NodeResourcesBalancedAllocation plugin.
#[derive(Debug, Default, Clone)]
pub struct BalancedAllocation;

impl BalancedAllocation {
    /// Its name.
    pub const NAME: &'static str = "NodeResourcesBalancedAllocation";
    /// Where it runs.
    pub const POINTS: Points = Points::SCORE;
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        Self::NAME
    }
}
