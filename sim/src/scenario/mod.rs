//! Scenario files: the YAML format, its validation and error reporting, and the validated
//! [`Scenario`] a run starts from.

pub mod gpu_trace;
mod model;
pub mod yaml;

use std::path::Path;

pub use model::*;
pub use yaml::ScenarioError;

/// Reads and validates a scenario file. `known_scheduler` says whether a name in its
/// `schedulers:` list is registered. Errors name the file, line, column and field.
pub fn load_scenario(
    path: &Path,
    known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario, ScenarioError> {
    yaml::load_scenario(path, known_scheduler)
}

/// [`load_scenario`] from text; `path` is only used in error messages and to resolve
/// relative paths the scenario names.
pub fn parse_scenario(
    text: &str,
    path: &str,
    known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario, ScenarioError> {
    yaml::parse_scenario(text, path, known_scheduler)
}

/// Time between two arrivals of a shuffled trace replay when its `interval` is not given,
/// and of a `gpuTrace:` replay: the paper's protocol has no clock, only an order, so
/// arrivals are spaced evenly.
pub const GPU_TRACE_INTERVAL: crate::time::SimTime = crate::time::SimTime::from_secs(1);
