//! `schedlab control-plane`: opens the state directory, serves the API and runs the
//! controllers until SIGINT or SIGTERM.
//!
//! The state directory holds `state.redb` (the objects), `tokens` (bearer tokens),
//! `audit.log`, and, written at every start with the address actually bound,
//! `admin.kubeconfig` (for kubectl) and `join.kubeconfig` (for `schedlab agent`). The
//! first start creates the admin and bootstrap ("join") tokens; every file is owner-only.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::api::audit::AuditLog;
use crate::api::auth::{self, Role, Tokens};
use crate::api::metrics::Metrics;
use crate::api::server::{Admission, ApiState, router};
use crate::api::store::{Key, Store, StoreError};
use crate::controllers::{self, node_lifecycle};
use crate::loops::LoopConfig;
use crate::scheduling::SchedulingLoop;

/// How the control plane is started.
#[derive(Clone, Debug)]
pub struct ControlPlaneOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// The state directory.
    pub state: PathBuf,
    /// How long a node may go without a heartbeat before it is NotReady (40 s).
    pub node_monitor_grace: Duration,
    /// DefaultTolerationSeconds for the not-ready and unreachable taints (300 s).
    pub default_toleration_seconds: u64,
    /// How often the controllers run when nothing wakes them.
    pub resync: Duration,
}

impl Default for ControlPlaneOptions {
    fn default() -> ControlPlaneOptions {
        ControlPlaneOptions {
            listen: "127.0.0.1:6443".parse().expect("literal address"),
            state: PathBuf::from("schedlab-state"),
            node_monitor_grace: Duration::from_secs(40),
            default_toleration_seconds: 300,
            resync: Duration::from_millis(200),
        }
    }
}

/// Why the control plane could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ControlPlaneError {
    /// A file of the state directory.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The object database.
    #[error("{path}: {source}")]
    Store {
        /// The database file.
        path: PathBuf,
        /// What failed.
        source: StoreError,
    },
    /// The control loop's thread could not start.
    #[error("starting the control loop: {0}")]
    Loop(std::io::Error),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ControlPlaneError + '_ {
    move |source| ControlPlaneError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `text` to `path`, owner-only.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).write(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write;
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// A kubeconfig naming one server, the CA to trust and one bearer token, as kubectl
/// reads it.
pub fn kubeconfig(server: &str, ca_pem: &str, user: &str, token: &str) -> String {
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: schedlab\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\ncontexts:\n- name: schedlab\n  context:\n    cluster: schedlab\n    user: {user}\n    namespace: default\ncurrent-context: schedlab\nusers:\n- name: {user}\n  user:\n    token: {token}\n"
    )
}

/// The state directory's files, created on first start.
pub struct StateDir {
    /// The directory.
    pub dir: PathBuf,
    /// The admin token.
    pub admin_token: String,
    /// The bootstrap token agents join with.
    pub join_token: String,
    /// The API's certificates.
    pub tls: crate::tls::TlsFiles,
}

impl StateDir {
    /// Opens `dir`, creating it and its tokens on first use.
    pub fn open(dir: &Path) -> Result<StateDir, ControlPlaneError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io_err(dir))?;
        }
        let tokens = dir.join("tokens");
        let admin_file = dir.join("admin.token");
        let join_file = dir.join("join.token");
        if !admin_file.exists() {
            let admin = auth::create_token(&tokens, &Role::Admin, None).map_err(io_err(&tokens))?;
            write_private(&admin_file, &admin).map_err(io_err(&admin_file))?;
        }
        if !join_file.exists() {
            let join =
                auth::create_token(&tokens, &Role::Bootstrap, None).map_err(io_err(&tokens))?;
            write_private(&join_file, &join).map_err(io_err(&join_file))?;
        }
        let read = |p: &Path| {
            std::fs::read_to_string(p)
                .map(|s| s.trim().to_owned())
                .map_err(io_err(p))
        };
        let tls = crate::tls::ensure(dir).map_err(io_err(dir))?;
        Ok(StateDir {
            tls,
            dir: dir.to_owned(),
            admin_token: read(&admin_file)?,
            join_token: read(&join_file)?,
        })
    }

    /// Writes `admin.kubeconfig` and `join.kubeconfig` for `server`.
    pub fn write_kubeconfigs(&self, server: &str) -> Result<(), ControlPlaneError> {
        let admin = self.dir.join("admin.kubeconfig");
        write_private(
            &admin,
            &kubeconfig(server, &self.tls.ca_pem, "admin", &self.admin_token),
        )
        .map_err(io_err(&admin))?;
        let join = self.dir.join("join.kubeconfig");
        write_private(
            &join,
            &kubeconfig(
                server,
                &self.tls.ca_pem,
                "system-bootstrap",
                &self.join_token,
            ),
        )
        .map_err(io_err(&join))?;
        Ok(())
    }
}

/// A running control plane (for tests and for `run`).
pub struct Running {
    /// The address bound.
    pub address: SocketAddr,
    /// The shared API state.
    pub state: Arc<ApiState>,
}

/// Binds, serves and runs the controllers, scheduling with `scheduler`, until `shutdown`
/// resolves.
pub async fn serve(
    options: ControlPlaneOptions,
    scheduler: SchedulingLoop,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(&Running) + Send,
) -> Result<(), ControlPlaneError> {
    let dir = StateDir::open(&options.state)?;
    let db = options.state.join("state.redb");
    let store = Arc::new(Store::open(&db).map_err(|source| ControlPlaneError::Store {
        path: db.clone(),
        source,
    })?);
    for ns in ["default", "kube-system", "kube-node-lease"] {
        let key = Key::new("namespaces", "", ns);
        if store.get(&key).is_none() {
            let object = json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns, "uid": crate::api::meta::new_uid(),
                             "creationTimestamp": crate::api::meta::now_rfc3339()},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
            store
                .create(&key, object)
                .map_err(|source| ControlPlaneError::Store {
                    path: db.clone(),
                    source,
                })?;
        }
    }
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| ControlPlaneError::Io {
            path: PathBuf::from(options.listen.to_string()),
            source,
        })?;
    let address = listener.local_addr().map_err(io_err(&options.state))?;
    dir.write_kubeconfigs(&format!("https://{address}"))?;
    let tokens_path = options.state.join("tokens");
    let audit_path = options.state.join("audit.log");
    let state = Arc::new(ApiState {
        store: store.clone(),
        tokens: Tokens::open(&tokens_path).map_err(io_err(&tokens_path))?,
        audit: AuditLog::open(&audit_path).map_err(io_err(&audit_path))?,
        metrics: Arc::new(Metrics::new()),
        address: address.to_string(),
        admission: Admission {
            default_toleration_seconds: options.default_toleration_seconds,
        },
        heartbeats: Mutex::new(BTreeMap::new()),
        token_file: tokens_path.clone(),
        // The agents' log endpoints are plain HTTP on loopback.
        http: reqwest::Client::new(),
    });
    let running = Running {
        address,
        state: state.clone(),
    };
    let secs = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    let grace = secs(options.node_monitor_grace);
    let config = LoopConfig {
        resync: options.resync,
        controllers: controllers::Config {
            node: node_lifecycle::Config {
                grace_period: grace,
                // Upstream waits 60 s for a node that never reported Ready, 1.5 times
                // the 40 s grace; kept in that ratio when the grace is shortened.
                startup_grace_period: grace.saturating_mul(3) / 2,
                default_toleration_seconds: i64::try_from(options.default_toleration_seconds)
                    .unwrap_or(i64::MAX),
            },
        },
    };
    let control =
        crate::loops::spawn(state.clone(), scheduler, config).map_err(ControlPlaneError::Loop)?;
    on_ready(&running);
    let acceptor = crate::tls::acceptor(&dir.tls).map_err(io_err(&options.state))?;
    crate::tls::serve(listener, acceptor, router(state), shutdown).await;
    control.stop();
    Ok(())
}

/// Runs the control plane on its own tokio runtime until SIGINT or SIGTERM, printing the
/// address and the kubeconfig's path once it listens.
pub fn run(
    options: ControlPlaneOptions,
    scheduler: SchedulingLoop,
) -> Result<(), ControlPlaneError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(io_err(&options.state))?;
    let state_dir = options.state.clone();
    runtime.block_on(serve(options, scheduler, shutdown_signal(), move |r| {
        println!(
            "schedlab control-plane: listening on https://{}; kubectl --kubeconfig {}",
            r.address,
            state_dir.join("admin.kubeconfig").display()
        );
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
