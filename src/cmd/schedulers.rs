//! `schedlab schedulers`: the registered algorithms, one per line, name then summary, and
//! how to name an external one.

use std::process::ExitCode;

use schedulers::Registry;

use super::Stdout;

/// Prints every registered algorithm with its one-line summary, in name order, then the
/// `exec:PATH` form.
pub fn execute(registry: &Registry, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    const EXEC: &str = "exec:PATH";
    let width = registry
        .iter()
        .map(|(name, _)| name.len())
        .chain([EXEC.len()])
        .max()
        .unwrap_or(0);
    for (name, summary) in registry.iter() {
        out.line(format_args!("{name:<width$}  {summary}"))?;
    }
    // Not in the registry (one entry per program, made when `run` names it), but usable.
    out.line(format_args!(
        "{EXEC:<width$}  an external program speaking the schedlab-exec/1 protocol (docs/exec-protocol.md)"
    ))?;
    Ok(ExitCode::SUCCESS)
}
