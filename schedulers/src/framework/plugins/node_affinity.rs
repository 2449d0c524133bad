//! NodeAffinity: PLACEHOLDER, being implemented (nodeSelector and required affinity filter, preferred affinity score).

use crate::framework::Plugin;
use crate::framework::profile::Points;

/// The NodeAffinity plugin.
#[derive(Debug, Default, Clone)]
pub struct NodeAffinity;

impl NodeAffinity {
    /// Its name.
    pub const NAME: &'static str = "NodeAffinity";
    /// Where it runs.
    pub const POINTS: Points = Points::ALL;
}

impl Plugin for NodeAffinity {
    fn name(&self) -> &'static str {
        Self::NAME
    }
}
