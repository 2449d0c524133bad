//! Scheduling algorithms written outside schedlab, as a user of its libraries would: the
//! companion crate of `docs/writing-a-scheduler.md`.
//!
//! Nothing here is part of schedlab. The crate depends on `schedulers` (the cluster model,
//! the [`Scheduler`] trait, the filters) and `sim` (scenario loading and the simulation),
//! defines [`PowerOfTwo`] (per pod) and [`LargestFirst`] (batch), registers them next to
//! the built-ins in [`registry`], and plays bundled scenarios with [`compare`].
//! `cargo run -p schedlab-examples` prints the comparison.
#![deny(missing_docs)]

pub mod largest_first;
pub mod power_of_two;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use largest_first::LargestFirst;
pub use power_of_two::PowerOfTwo;
use schedulers::framework::FrameworkScheduler;
use schedulers::{Registry, Scheduler, UnknownScheduler};
use sim::{RunResult, Scenario, ScenarioError, columns};

/// schedlab's built-in algorithms plus this crate's, by name.
pub fn registry() -> Registry {
    let mut registry = Registry::builtin();
    registry
        .register(
            PowerOfTwo::NAME,
            PowerOfTwo::SUMMARY,
            Box::new(|| Box::new(PowerOfTwo::default())),
        )
        .expect("no built-in is called power-of-two");
    registry
        .register(
            LargestFirst::NAME,
            LargestFirst::SUMMARY,
            Box::new(|| Box::new(LargestFirst::default())),
        )
        .expect("no built-in is called largest-first");
    registry
}

/// A scenario bundled with schedlab (`scenarios/<file>`), found from this crate's own
/// directory so that it loads whatever the working directory is.
pub fn bundled_scenario(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scenarios")
        .join(file)
}

/// Loads a scenario file; the `schedulers:` it lists must be known to `registry`. Errors
/// name the file, line, column and field.
pub fn load(path: &Path, registry: &Registry) -> Result<Scenario, ScenarioError> {
    sim::load_scenario(path, &|name| registry.contains(name))
}

/// A fresh scheduler called `name` for a run of `scenario`: a profile of the scenario's own
/// `schedulerConfig:` file when it defines that name (as `schedlab run` does), otherwise
/// the registry's.
pub fn create(
    name: &str,
    scenario: &Scenario,
    registry: &Registry,
) -> Result<Box<dyn Scheduler>, UnknownScheduler> {
    match scenario.profiles.iter().find(|(n, _)| n == name) {
        Some((_, profile)) => Ok(Box::new(FrameworkScheduler::new(profile.build()))),
        None => registry.create(name),
    }
}

/// Plays `scenario` once with each scheduler in `names`, in that order, with the scenario's
/// own seed. Refuses an unknown name before running anything.
pub fn compare(
    scenario: &Scenario,
    registry: &Registry,
    names: &[&str],
) -> Result<Vec<RunResult>, UnknownScheduler> {
    let schedulers = names
        .iter()
        .map(|name| create(name, scenario, registry))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(schedulers
        .into_iter()
        .map(|scheduler| sim::run(scenario, scheduler, scenario.seed))
        .collect())
}

/// The runs as an aligned text table, one row per run, with the figures that tell
/// schedulers apart: how many pods got a node, how long they waited, how often an attempt
/// failed and how much of the cluster was in use.
pub fn table(results: &[RunResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<16} {:>9} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "scenario",
        "scheduler",
        "submitted",
        "scheduled",
        "pending",
        "unsched",
        "p95_s",
        "p99_s",
        "cpu_mean"
    );
    for r in results {
        let s = &r.summary;
        let _ = writeln!(
            out,
            "{:<12} {:<16} {:>9} {:>9} {:>7} {:>8} {:>8.1} {:>8.1} {:>8.3}",
            r.scenario,
            r.scheduler,
            s.count(&columns::PODS_SUBMITTED),
            s.count(&columns::PODS_SCHEDULED),
            s.count(&columns::PODS_PENDING_AT_END),
            s.count(&columns::UNSCHEDULABLE_ATTEMPTS),
            s.time(&columns::LATENCY_P95).as_secs_f64(),
            s.time(&columns::LATENCY_P99).as_secs_f64(),
            s.number(&columns::CPU_ALLOC_MEAN).unwrap_or_default(),
        );
    }
    out
}
