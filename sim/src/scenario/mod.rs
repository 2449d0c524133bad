//! Scenario files: the YAML format, its validation and error reporting, and the validated
//! [`Scenario`] a run starts from.

pub mod gpu_trace;
mod model;
pub mod yaml;

use std::path::Path;
use std::sync::Arc;

use schedulers::framework::plugin_registry::ResolvedProfile;
use schedulers::{PodTemplate, SchedulerSpec, SpecError};

pub use model::*;
pub use yaml::ScenarioError;

/// How the loader checks a `schedulers:` entry against the schedulers the host knows: the
/// spec and the scenario's own profiles in, the run label out, or the scheduler's error
/// naming the argument at fault. Hosts pass their registry's
/// ([`schedulers::Registry::check`]): `&|spec, profiles| registry.check(spec, profiles)`.
pub type SchedulerCheck<'a> =
    dyn Fn(&SchedulerSpec, &[(String, ResolvedProfile)]) -> Result<String, SpecError> + 'a;

/// Reads and validates a scenario file. `check` checks each entry of its `schedulers:`
/// list and gives its run label. Errors name the file, line, column and field.
pub fn load_scenario(path: &Path, check: &SchedulerCheck<'_>) -> Result<Scenario, ScenarioError> {
    yaml::load_scenario(path, check).map(expand_gpu_trace)
}

/// [`load_scenario`] from text; `path` is only used in error messages and to resolve
/// relative paths the scenario names.
pub fn parse_scenario(
    text: &str,
    path: &str,
    check: &SchedulerCheck<'_>,
) -> Result<Scenario, ScenarioError> {
    yaml::parse_scenario(text, path, check).map(expand_gpu_trace)
}

/// Time between two arrivals of a `gpuTrace:` replay: the paper's protocol has no clock,
/// only an order, so arrivals are spaced evenly.
pub const GPU_TRACE_INTERVAL: crate::time::SimTime = crate::time::SimTime::from_secs(1);

/// Turns a `gpuTrace:` scenario into what the engine runs: the trace's nodes as the
/// cluster, its pods as a [`WorkloadKind::Trace`] workload under the paper's protocol
/// (shuffled arrivals up to the demand, none leaving), a queue that gives a pod one
/// attempt, and the GPU allocation curve.
fn expand_gpu_trace(mut scenario: Scenario) -> Scenario {
    let Some(trace) = scenario.gpu_trace.clone() else {
        return scenario;
    };
    scenario.nodes = trace.nodes.clone();
    scenario.workloads = vec![Workload {
        kind: WorkloadKind::Trace(Arc::new(TraceReplay {
            pods: trace.pods.clone(),
            timing: TraceTiming::Shuffled {
                demand_permille: trace.demand_permille,
                interval: GPU_TRACE_INTERVAL,
            },
        })),
        template: Arc::new(PodTemplate {
            name: "trace".into(),
            namespace: "default".into(),
            ..Default::default()
        }),
        sized: Vec::new(),
        duration: None,
    }];
    scenario.gpu_workload = crate::controllers::workloads::target_workload(&trace.pods);
    scenario.queue.max_attempts = Some(1);
    scenario.gpu_fill = Some(GpuFillOptions {
        step_permille: trace.step_permille,
        demand_permille: trace.demand_permille,
    });
    scenario
}
