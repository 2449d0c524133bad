//! `schedlab schedulers`: the registered algorithms, one per line, name then summary.

use std::process::ExitCode;

use schedulers::Registry;

use super::Stdout;

/// Prints every registered algorithm with its one-line summary, in name order.
pub fn execute(registry: &Registry, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    let width = registry
        .iter()
        .map(|(name, _)| name.len())
        .max()
        .unwrap_or(0);
    for (name, summary) in registry.iter() {
        out.line(format_args!("{name:<width$}  {summary}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
