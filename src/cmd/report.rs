//! `schedlab report OUT`: rebuilds a sweep's charts and page from its CSV files
//! (`crate::report`).

use std::process::ExitCode;

use super::Stdout;
use crate::cli::ReportArgs;

/// Runs the command: any unreadable or malformed file is an error naming it.
pub fn execute(args: ReportArgs, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    let built = crate::report::build(&args.out)?;
    out.line(format_args!(
        "report: {} ({} charts in {})",
        built.index.display(),
        built.charts,
        args.out.join("charts").display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
