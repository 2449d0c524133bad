//! What the trace replay tests share (`trace_formats`, `trace_stream`, `trace_replay`):
//! a directory of input files, loading a scenario written beside them, and one traced run.

// Each test crate that includes this module uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use schedulers::{Registry, SchedulerSpec};
use sim::scenario::{TraceReplay, WorkloadKind};
use sim::{RunResult, Scenario, ScenarioError, Simulation, parse_scenario};

/// A directory of this test binary's own, named `name`, holding `files`.
pub fn dir(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "schedlab-{}-{}-{name}",
        env!("CARGO_CRATE_NAME"),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

/// Loads scenario `text` as if it were `scenario.yaml` in `dir`.
pub fn load(dir: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let registry = Registry::builtin();
    let path = dir.join("scenario.yaml");
    parse_scenario(text, &path.display().to_string(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
}

/// One run of `s` by the built-in `scheduler` with `seed`, its trace kept.
pub fn play(s: &Scenario, scheduler: &str, seed: u64) -> RunResult {
    let registry = Registry::builtin();
    let spec = SchedulerSpec::named(scheduler);
    let mut sim = Simulation::new(s, registry.build(&spec, &s.build_context()).unwrap(), seed);
    sim.enable_trace();
    sim.run()
}

/// The replay of the scenario's first workload, which must be a trace.
pub fn replay(s: &Scenario) -> &TraceReplay {
    match &s.workloads[0].kind {
        WorkloadKind::Trace(r) => r,
        other => panic!("{other:?}"),
    }
}

/// One machine of 4 CPUs and 16Gi, pods started at once, replaying the Google 2011
/// `task_events` file `pods` (relative to `dir`, or absolute) with 1.0 as that machine;
/// `extra` adds trace keys in flow style (`", strict: true"`).
pub fn one_google_machine(dir: &Path, pods: &str, extra: &str) -> Result<Scenario, ScenarioError> {
    load(
        dir,
        &format!(
            "startLatency: 0s
cluster:
  nodePools: [{{name: m, count: 1, allocatable: {{cpu: '4', memory: 16Gi}}}}]
workloads:
  - trace: {{format: google-2011-task-events, pods: '{pods}', machineScale: {{cpu: '4', memory: 16Gi}}{extra}}}
"
        ),
    )
}
