//! Scenario files: the YAML format, its validation and error reporting, and the validated
//! [`Scenario`] a run starts from.

pub mod gpu_trace;
mod model;
pub mod yaml;

use std::path::Path;
use std::sync::Arc;

use schedulers::PodTemplate;

pub use model::*;
pub use yaml::ScenarioError;

/// Reads and validates a scenario file. `known_scheduler` says whether a name in its
/// `schedulers:` list is registered. Errors name the file, line, column and field.
pub fn load_scenario(
    path: &Path,
    known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario, ScenarioError> {
    yaml::load_scenario(path, known_scheduler).map(expand_gpu_trace)
}

/// [`load_scenario`] from text; `path` is only used in error messages and to resolve
/// relative paths the scenario names.
pub fn parse_scenario(
    text: &str,
    path: &str,
    known_scheduler: &dyn Fn(&str) -> bool,
) -> Result<Scenario, ScenarioError> {
    yaml::parse_scenario(text, path, known_scheduler).map(expand_gpu_trace)
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
