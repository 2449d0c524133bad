//! `schedlab validate`: loads scenario files exactly as `run` would, and reports each one's
//! size or its error without running anything.

use std::process::ExitCode;

use schedulers::Registry;

use super::{Stdout, expand_inputs, log};
use crate::cli::ValidateArgs;

/// Checks every file, the schedulers it lists and their arguments included; `ok  PATH (N
/// nodes, M workloads)` on stdout for each good one, the loader's `path:line:col: field:
/// message` on stderr for each bad one. Exit code 1 if any failed.
pub fn execute(
    args: ValidateArgs,
    registry: &Registry,
    out: &mut Stdout,
) -> anyhow::Result<ExitCode> {
    let (files, errors) = expand_inputs(&args.paths);
    let mut failed = !errors.is_empty();
    for error in errors {
        log(format_args!("error: {error:#}"));
    }
    for path in &files {
        let loaded = sim::load_scenario(path, &|spec, profiles| registry.check(spec, profiles));
        match loaded {
            Ok(scenario) => match &scenario.gpu_trace {
                Some(trace) => out.line(format_args!(
                    "ok  {} (GPU trace replay: {} nodes, {} pods)",
                    path.display(),
                    trace.nodes.len(),
                    trace.pods.len()
                ))?,
                None => out.line(format_args!(
                    "ok  {} ({} nodes, {} workloads)",
                    path.display(),
                    scenario.nodes.len(),
                    scenario.workloads.len()
                ))?,
            },
            Err(error) => {
                failed = true;
                log(format_args!("error: {error}"));
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
