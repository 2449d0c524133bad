//! TaintToleration: PLACEHOLDER, being implemented (filter NoSchedule/NoExecute, score PreferNoSchedule).

use crate::framework::Plugin;
use crate::framework::profile::Points;

/// The TaintToleration plugin.
#[derive(Debug, Default, Clone)]
pub struct TaintToleration;

impl TaintToleration {
    /// Its name.
    pub const NAME: &'static str = "TaintToleration";
    /// Where it runs.
    pub const POINTS: Points = Points {
        pre_filter: false,
        filter: true,
        pre_score: true,
        score: true,
    };
}

impl Plugin for TaintToleration {
    fn name(&self) -> &'static str {
        Self::NAME
    }
}
