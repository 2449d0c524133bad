//! `schedlab token create`: a new bearer token in the control plane's token file.

use std::process::ExitCode;

use anyhow::Context;
use schedlab_agent::api::auth::{Role, create_token, default_user};
use schedlab_agent::control_plane::{kubeconfig, write_private};

use super::{Stdout, UsageError};
use crate::cli::TokenCreateArgs;

/// Appends the token (the running control plane reads it at its next request) and prints
/// it; with --kubeconfig, writes a kubeconfig pointing at the server of the state
/// directory's admin kubeconfig.
pub fn create(args: TokenCreateArgs, out: &mut Stdout) -> anyhow::Result<ExitCode> {
    let scope = match args.role.as_str() {
        "editor" | "viewer" => args.namespace.clone().unwrap_or_default(),
        "node" => args.node.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let role = Role::parse(&args.role, &scope).map_err(|e| {
        UsageError(format!(
            "--role: {e}{}",
            match args.role.as_str() {
                "editor" | "viewer" => " (give --namespace)",
                "node" => " (give --node)",
                _ => "",
            }
        ))
    })?;
    let tokens = args.state.join("tokens");
    if !args.state.join("admin.token").exists() {
        anyhow::bail!(
            "{}: not a control plane's state directory (start `schedlab control-plane --state {}` once first)",
            args.state.display(),
            args.state.display()
        );
    }
    let token = create_token(&tokens, &role, args.user.as_deref())
        .with_context(|| format!("writing {}", tokens.display()))?;
    if let Some(path) = &args.kubeconfig {
        let admin = args.state.join("admin.kubeconfig");
        let text = std::fs::read_to_string(&admin)
            .with_context(|| format!("reading {}", admin.display()))?;
        let server = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: "))
            .with_context(|| format!("{}: no server line", admin.display()))?;
        let ca = std::fs::read_to_string(args.state.join("ca.crt"))
            .with_context(|| format!("reading {}", args.state.join("ca.crt").display()))?;
        let user = args
            .user
            .clone()
            .unwrap_or_else(|| default_user(&role))
            .replace(':', "-");
        write_private(path, &kubeconfig(server, &ca, &user, &token))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    out.line(format_args!("{token}"))?;
    Ok(ExitCode::SUCCESS)
}
