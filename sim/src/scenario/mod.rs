//! Scenario files: the YAML format, its validation and error reporting, and the validated
//! [`Scenario`] a run starts from.

pub mod admission;
pub mod alibaba_v2018;
pub mod autoscaler;
pub mod cron_jobs;
pub mod dynamics;
mod failures;
pub mod gpu_trace;
pub mod images;
pub mod jobs;
pub mod keda;
pub mod machine_traces;
mod model;
pub mod node_pressure;
pub mod rollout;
mod seen_twice;
pub mod trace_formats;
pub mod trace_stream;
pub mod yaml;

use std::path::Path;

use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::{SchedulerSpec, SpecError};

pub use autoscaler::{AutoscalerSettings, ClusterAutoscaler, Expander, NodeGroup};
pub use failures::*;
pub use jobs::{JobSpec, RestartPolicy};
pub use model::*;
pub use node_pressure::NodePressureSettings;
pub use yaml::{LoadOptions, ScenarioError};

/// How the loader checks a `schedulers:` entry against the schedulers the host knows: the
/// spec and the scenario's own profiles in, the run label out, or the scheduler's error
/// naming the argument at fault. Hosts pass their registry's
/// ([`schedulers::Registry::check`]): `&|spec, profiles| registry.check(spec, profiles)`.
pub type SchedulerCheck<'a> =
    dyn Fn(&SchedulerSpec, &[(String, ResolvedProfile)]) -> Result<String, SpecError> + 'a;

/// Reads and validates a scenario file. `check` checks each entry of its `schedulers:`
/// list and gives its run label. Errors name the file, line, column and field.
pub fn load_scenario(path: &Path, check: &SchedulerCheck<'_>) -> Result<Scenario, ScenarioError> {
    yaml::load_scenario(path, check)
}

/// [`load_scenario`] with what the command line adds: manifests (`--manifests`) and
/// strict trace reading (`--strict`).
pub fn load_scenario_with(
    path: &Path,
    check: &SchedulerCheck<'_>,
    options: &LoadOptions,
) -> Result<Scenario, ScenarioError> {
    yaml::load_scenario_with(path, check, options)
}

/// [`parse_scenario`] with what the command line adds (see [`load_scenario_with`]).
pub fn parse_scenario_with(
    text: &str,
    path: &str,
    check: &SchedulerCheck<'_>,
    options: &LoadOptions,
) -> Result<Scenario, ScenarioError> {
    yaml::parse_with(text, path, check, options)
}

/// [`load_scenario`] from text; `path` is only used in error messages and to resolve
/// relative paths the scenario names.
pub fn parse_scenario(
    text: &str,
    path: &str,
    check: &SchedulerCheck<'_>,
) -> Result<Scenario, ScenarioError> {
    yaml::parse_scenario(text, path, check)
}

/// Time between two arrivals of a shuffled trace replay when its `interval` is not given,
/// and of a `gpuTrace:` replay: the paper's protocol has no clock, only an order, so
/// arrivals are spaced evenly.
pub const GPU_TRACE_INTERVAL: crate::time::SimTime = crate::time::SimTime::from_secs(1);
