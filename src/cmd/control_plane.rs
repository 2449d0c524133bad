//! `schedlab control-plane`: the real control plane of the `schedlab-agent` crate.

use std::process::ExitCode;

use schedlab_agent::control_plane::{self, ControlPlaneOptions};
use schedlab_agent::scheduling::SchedulingLoop;
use schedulers::{Registry, SchedulerSpec};

use super::UsageError;
use crate::cli::ControlPlaneArgs;

/// Builds the scheduler (a built-in, a profile of --scheduler-config, or exec:PATH, as
/// `run` resolves them) and runs the control plane until SIGINT or SIGTERM.
pub fn execute(args: ControlPlaneArgs, registry: &mut Registry) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.scheduler_config {
        super::register_scheduler_config(path, registry)?;
    }
    let spec = SchedulerSpec::parse(&args.scheduler)?;
    registry.check(&spec, &[])?;
    let scheduler = SchedulingLoop::seeded(registry, &spec, &[], 0)
        .map_err(|e| UsageError(format!("--scheduler {}: {e}", args.scheduler)))?;
    control_plane::run(
        ControlPlaneOptions {
            listen: args.listen,
            state: args.state,
            node_monitor_grace: args.node_monitor_grace_period,
            default_toleration_seconds: args.default_toleration_seconds,
            ..ControlPlaneOptions::default()
        },
        scheduler,
    )?;
    Ok(ExitCode::SUCCESS)
}
