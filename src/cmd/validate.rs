//! `schedlab validate`: loads scenario files exactly as `run` would, and reports each one's
//! size or its error without running anything.

use std::process::ExitCode;

use schedulers::Registry;

use super::{Stdout, bounds, expand_inputs, log};
use crate::cli::ValidateArgs;

/// Checks every file, the schedulers it lists and their arguments included, and the work
/// estimate of its runs against the limits `run` would apply; `ok  PATH (N nodes, M
/// workloads; about P pods, ...)` on stdout for each good one, the loader's
/// `path:line:col: field: message` or the refusal on stderr for each bad one. Exit code 1
/// if any failed.
pub fn execute(
    args: ValidateArgs,
    registry: &Registry,
    out: &mut Stdout,
) -> anyhow::Result<ExitCode> {
    let (files, errors) = expand_inputs(&args.paths);
    let mut failed = !errors.is_empty();
    let limits = bounds::limits(&args.limits);
    let options = args.load.options();
    for error in errors {
        log(format_args!("error: {error:#}"));
    }
    for path in &files {
        let loaded = sim::load_scenario_with(
            path,
            &|spec, profiles| registry.check(spec, profiles),
            &options,
        );
        match loaded {
            Ok(scenario) => {
                super::log_profile_warnings(&scenario);
                let estimate = match bounds::check(&scenario, path, &limits) {
                    Ok(estimate) => estimate,
                    Err(refused) => {
                        failed = true;
                        log(format_args!("error: {refused}"));
                        continue;
                    }
                };
                let size = match &scenario.gpu_trace {
                    Some(trace) => format!(
                        "GPU trace replay: {} nodes, {} pods",
                        trace.nodes.len(),
                        trace.pods.len()
                    ),
                    None => format!(
                        "{} nodes, {} workloads",
                        scenario.nodes.len(),
                        scenario.workloads.len()
                    ),
                };
                out.line(format_args!(
                    "ok  {} ({size}; {})",
                    path.display(),
                    bounds::describe(&estimate)
                ))?;
            }
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
