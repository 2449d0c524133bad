//! `schedlab control-plane`: the real control plane of the `schedlab-agent` crate.

use std::process::ExitCode;

use schedlab_agent::control_plane::{self, ControlPlaneOptions};

use crate::cli::ControlPlaneArgs;

/// Runs the control plane until SIGINT or SIGTERM.
pub fn execute(args: ControlPlaneArgs) -> anyhow::Result<ExitCode> {
    control_plane::run(ControlPlaneOptions {
        listen: args.listen,
        state: args.state,
        scheduler: args.scheduler,
        scheduler_config: args.scheduler_config,
        node_monitor_grace: args.node_monitor_grace_period,
        default_toleration_seconds: args.default_toleration_seconds,
        ..ControlPlaneOptions::default()
    })?;
    Ok(ExitCode::SUCCESS)
}
