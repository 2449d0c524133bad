//! `schedlab`: the command-line tool of the schedlab workspace.
//!
//! - `schedlab run [SCENARIO|DIR]...` runs scenarios x schedulers x seeds in parallel and
//!   writes CSV results (see `results/README.md` for what lands where).
//! - `schedlab validate FILE...` checks scenario files without running them.
//! - `schedlab schedulers` lists the registered algorithms.
//! - `schedlab explain SCENARIO --pod NAME` shows, node by node, why a framework profile
//!   placed one pod where it did.
//! - `schedlab merge OUT... --out DIR` puts the outputs of a sharded sweep (`run --shard
//!   K/N`) back together.
//! - `schedlab report OUT` rebuilds a sweep's charts and `index.html` from its CSV files.
//! - `schedlab plan SCENARIO --pool NAME --slo ...` finds the smallest node count of a
//!   pool that meets an objective on every seed.
//! - `schedlab control-plane --state DIR` serves a real Kubernetes-shaped API that kubectl
//!   works against; `schedlab token create` makes its tokens.
//!
//! Exit codes: 0 success; 1 something failed (a scenario did not load, a run failed, a file
//! could not be written; whatever could run still ran); 2 the command line was wrong (clap's
//! parse errors, an unknown scheduler or a bad scheduler argument, nothing to run), before
//! anything ran; 130 or 143 `run` was stopped by SIGINT or SIGTERM (the runs that finished
//! are kept and listed in summary.csv).

mod cli;
mod cmd;
mod export;
mod gpu_fill;
mod interrupt;
mod manifest;
mod output;
mod report;
mod shard;
mod slo;
mod stats;
mod sweep;
mod view;

use std::process::ExitCode;

use clap::Parser;
use schedulers::{Registry, SpecError, UnknownScheduler};

use crate::cli::{Cli, Command};
use crate::cmd::{Stdout, UsageError, log};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut registry = Registry::builtin();
    let mut out = Stdout::lock();
    let result = match cli.command {
        Command::Run(args) => cmd::run::execute(*args, &mut registry, &mut out),
        Command::Validate(args) => cmd::validate::execute(args, &registry, &mut out),
        Command::Schedulers => cmd::schedulers::execute(&registry, &mut out),
        Command::Explain(args) => cmd::explain::execute(args, &mut registry, &mut out),
        Command::Merge(args) => cmd::merge::execute(args, &mut out),
        Command::Report(args) => cmd::report::execute(args, &mut out),
        Command::Plan(args) => cmd::plan::execute(*args, &mut registry, &mut out),
        Command::Export(args) => cmd::export::execute(args, &mut registry, &mut out),
        Command::View(args) => cmd::view::execute(args, &mut out),
        Command::ControlPlane(args) => cmd::control_plane::execute(args, &mut registry),
        Command::Token(cli::TokenCommand::Create(args)) => cmd::token::create(args, &mut out),
        Command::Agent(args) => cmd::agent::execute(args),
        Command::Logs(args) => cmd::agent::logs(args, &mut out),
    }
    .and_then(|code| out.flush().map(|()| code));
    match result {
        Ok(code) => code,
        Err(error) => {
            log(format_args!("error: {error:#}"));
            ExitCode::from(exit_code(&error))
        }
    }
}

/// 2 for mistakes in the invocation (matching clap's usage errors), 1 for everything else.
fn exit_code(error: &anyhow::Error) -> u8 {
    if error.is::<UsageError>() || error.is::<UnknownScheduler>() || error.is::<SpecError>() {
        2
    } else {
        1
    }
}
