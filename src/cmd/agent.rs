//! `schedlab agent` and `schedlab logs`: the node agent of the `schedlab-agent` crate, and
//! a pod's log read through the control plane.

use std::process::ExitCode;

use schedlab_agent::node::agent::{AgentOptions, run_agent};
use schedlab_agent::node::kubeconfig::read_kubeconfig;
use schedlab_agent::node::runtime::{BackoffPolicy, EnforcementChoice};

use super::Stdout;
use crate::cli::{AgentArgs, LogsArgs};

/// Runs the agent until SIGINT or SIGTERM.
pub fn execute(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let mut options = AgentOptions::new(&args.kubeconfig, &args.name);
    options.cpu = args.cpu;
    options.memory = args.memory;
    options.labels = args
        .labels
        .into_iter()
        .filter(|(k, _)| !k.is_empty())
        .collect();
    if let Some(root) = args.root {
        options.root = root;
    }
    options.heartbeat = args.heartbeat;
    options.backoff = BackoffPolicy {
        initial: args.backoff,
        max: args.backoff * 30,
        reset_after: args.backoff * 60,
    };
    if args.sampling {
        options.enforcement = EnforcementChoice::Sampling;
    }
    run_agent(options)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a container's log, fetched from `GET .../pods/POD/log`.
pub fn logs(args: LogsArgs, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    let config = read_kubeconfig(&args.kubeconfig)?;
    let text = schedlab_agent::client::get_text(
        &config,
        &format!(
            "/api/v1/namespaces/{}/pods/{}/log{}",
            args.namespace,
            args.pod,
            args.container
                .as_ref()
                .map(|c| format!("?container={c}"))
                .unwrap_or_default()
        ),
    )?;
    out.line(format_args!("{}", text.trim_end_matches('\n')))?;
    Ok(ExitCode::SUCCESS)
}
