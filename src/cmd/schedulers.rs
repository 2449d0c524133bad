//! `schedlab schedulers`: the registered algorithms, one per line, name then summary, each
//! followed by its arguments (name, default, type, what it does), and how to name an
//! external one.

use std::process::ExitCode;

use schedulers::Registry;

use super::Stdout;

/// Prints every registered algorithm with its one-line summary, in name order, each
/// followed by one indented line per argument (`ARG=DEFAULT  TYPE: what it does`), then the
/// `exec:PATH` form and the syntax of arguments.
pub fn execute(registry: &Registry, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    const EXEC: &str = "exec:PATH";
    const INDENT: &str = "    ";
    let width = registry
        .iter()
        .map(|(name, _)| name.len())
        .chain([EXEC.len()])
        .max()
        .unwrap_or(0);
    let arg_width = registry
        .iter()
        .flat_map(|(name, _)| registry.params(name).unwrap_or_default())
        .map(|p| p.name.len() + 1 + p.default.to_string().len())
        .max()
        .unwrap_or(0);
    for (name, summary) in registry.iter() {
        out.line(format_args!("{name:<width$}  {summary}"))?;
        for param in registry.params(name).unwrap_or_default() {
            let arg = format!("{}={}", param.name, param.default);
            out.line(format_args!(
                "{INDENT}{arg:<arg_width$}  {}: {}",
                param.kind, param.doc
            ))?;
        }
    }
    // Not in the registry (any program, checked when `run` names it), but usable.
    out.line(format_args!(
        "{EXEC:<width$}  an external program speaking the schedlab-exec/1 protocol (docs/exec-protocol.md)"
    ))?;
    out.line(
        "Arguments: --scheduler NAME:ARG=VALUE,... (e.g. tetris:cpuWeight=2,memoryWeight=1); \
         indented above with their defaults.",
    )?;
    Ok(ExitCode::SUCCESS)
}
