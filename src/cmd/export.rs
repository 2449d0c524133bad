//! `schedlab export`: plays one run up to a time and writes the cluster's state there as a
//! Kubernetes List (see `crate::export`).

use std::process::ExitCode;

use anyhow::Context;
use schedulers::Registry;
use sim::Simulation;

use super::{Stdout, log};
use crate::cli::ExportArgs;

/// Runs `schedlab export`.
pub fn execute(
    args: ExportArgs,
    registry: &mut Registry,
    out: &mut Stdout,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.scheduler_config {
        super::register_scheduler_config(path, registry)?;
    }
    let registry = &*registry;
    let scenario = sim::load_scenario_with(
        &args.scenario,
        &|spec, profiles| registry.check(spec, profiles),
        &args.load.options(),
    )?;
    super::log_profile_warnings(&scenario);
    let (spec, label) = super::pick_scheduler(args.scheduler.as_deref(), registry, &scenario)?;
    let scheduler = registry.build(&spec, &scenario.build_context())?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let mut simulation = Simulation::new(&scenario, scheduler, seed);
    simulation.step_until(args.at);
    if let Some(failure) = simulation.failure() {
        anyhow::bail!(
            "scheduler {label} failed at {} before --at {}: {failure}",
            simulation.now(),
            args.at
        );
    }
    let export = crate::export::cluster_list(
        simulation.cluster(),
        &simulation.workloads(),
        &scenario,
        // The instant written, which the run's clock may not have reached if nothing
        // happened since.
        args.at,
    );
    for line in &export.omitted {
        log(format_args!("warning: not in the List: {line}"));
    }
    let yaml = serde_saphyr::to_string(&export.list).context("cannot write the List as YAML")?;
    match &args.out {
        Some(path) => std::fs::write(path, yaml)
            .with_context(|| format!("{}: cannot write the List", path.display()))?,
        None => out.line(yaml.trim_end_matches('\n'))?,
    }
    Ok(ExitCode::SUCCESS)
}
