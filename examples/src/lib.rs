//! Scheduling algorithms written outside schedlab, as a user of its libraries would: the
//! companion crate of `docs/writing-a-scheduler.md`.
//!
//! Nothing here is part of schedlab. The crate depends on `schedulers` (the cluster model,
//! the [`Scheduler`] trait, the filters) and `sim` (scenario loading and the simulation),
//! defines [`PowerOfTwo`] (per pod) and [`LargestFirst`] (batch), registers them next to
//! the built-ins in [`registry`], builds every scheduler through schedlab's one factory
//! ([`Registry::build`], in [`create`]), and plays bundled scenarios with [`compare`].
//! `cargo run -p schedlab-examples` prints the comparison.
#![deny(missing_docs)]

pub mod largest_first;
pub mod power_of_two;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub use largest_first::LargestFirst;
pub use power_of_two::PowerOfTwo;
use schedulers::{Registry, Scheduler, SchedulerSpec, SpecError};
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

/// Loads a scenario file; the `schedulers:` it lists, arguments included, are checked
/// against `registry`. Errors name the file, line, column and field.
pub fn load(path: &Path, registry: &Registry) -> Result<Scenario, ScenarioError> {
    sim::load_scenario(path, &|spec, profiles| registry.check(spec, profiles))
}

/// A fresh scheduler for a run of `scenario`, from `spec` (`NAME` or
/// `NAME:ARG=VALUE,...`), by the factory `schedlab run` uses: a profile of the scenario's
/// own `schedulerConfig:` file when it defines that name, else the registry's algorithm
/// with its arguments checked. Returns the run's label with it.
pub fn create(
    spec: &str,
    scenario: &Scenario,
    registry: &Registry,
) -> Result<(String, Box<dyn Scheduler>), SpecError> {
    let spec = SchedulerSpec::parse(spec)?;
    let label = registry.check(&spec, &scenario.profiles)?;
    Ok((label, registry.build(&spec, &scenario.build_context())?))
}

/// Plays `scenario` once with each scheduler in `specs`, in that order, with the scenario's
/// own seed. Refuses an unknown name or a bad argument before running anything.
pub fn compare(
    scenario: &Scenario,
    registry: &Registry,
    specs: &[&str],
) -> Result<Vec<RunResult>, SpecError> {
    let schedulers = specs
        .iter()
        .map(|spec| create(spec, scenario, registry))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(schedulers
        .into_iter()
        .map(|(label, scheduler)| RunResult {
            scheduler: label,
            ..sim::run(scenario, scheduler, scenario.seed)
        })
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
