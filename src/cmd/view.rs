//! `schedlab view RUN_DIR`: writes a run's replay page (`crate::view`).

use std::process::ExitCode;

use super::Stdout;
use crate::cli::ViewArgs;

/// Runs the command: a missing or malformed file of the run folder is an error naming it
/// (with its line and field), and so is a run too large to draw.
pub fn execute(args: ViewArgs, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    let page = crate::view::write(&args.run_dir, args.out.as_deref())?;
    out.line(format_args!("view: {}", page.display()))?;
    Ok(ExitCode::SUCCESS)
}
