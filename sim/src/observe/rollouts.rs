//! What the Deployments' rollouts did: how many finished and the longest one, from
//! [`Fact::RolloutFinished`] (see [`crate::controllers::rollout`]).

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::scenario::Scenario;
use crate::time::SimTime;

/// `rollouts_completed`.
pub static ROLLOUTS_COMPLETED: Column = Column {
    name: "rollouts_completed",
    unit: Unit::Count,
    doc: "Deployment rollouts that finished (empty without rollouts)",
};
/// `rollout_duration_max_s`.
pub static ROLLOUT_DURATION_MAX: Column = Column {
    name: "rollout_duration_max_s",
    unit: Unit::Seconds,
    doc: "the longest finished rollout, from its start to its last new pod available",
};

/// Counts finished rollouts and keeps the longest.
#[derive(Debug, Default)]
pub struct RolloutMetrics {
    /// True when the scenario has rollouts (the columns are empty otherwise).
    any: bool,
    completed: u64,
    longest: Option<SimTime>,
}

impl RolloutMetrics {
    /// The books of a run of `scenario`.
    pub fn new(scenario: &Scenario) -> RolloutMetrics {
        RolloutMetrics {
            any: scenario
                .workloads
                .iter()
                .any(|w| w.dynamics.as_ref().is_some_and(|d| !d.rollouts.is_empty())),
            ..Default::default()
        }
    }
}

impl Observer for RolloutMetrics {
    #[inline(always)]
    fn observe(&mut self, fact: &Fact, _view: &View<'_>) {
        if let Fact::RolloutFinished { took, .. } = fact {
            self.completed += 1;
            self.longest = Some(self.longest.map_or(*took, |l| l.max(*took)));
        }
    }

    fn finish(&mut self, _end: &RunEnd<'_>, summary: &mut Summary) {
        summary.push(
            &ROLLOUTS_COMPLETED,
            if self.any {
                Value::Count(self.completed)
            } else {
                Value::Missing
            },
        );
        summary.push(
            &ROLLOUT_DURATION_MAX,
            self.longest.map_or(Value::Missing, Value::Time),
        );
    }
}
