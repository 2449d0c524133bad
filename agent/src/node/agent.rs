//! The node agent loop: `schedlab agent --kubeconfig FILE --name NODE`.
//!
//! What the kubelet does towards the API server, reduced:
//! - registers its Node (POST; on 409 the node exists, so GET and PUT it) with capacity
//!   and allocatable (`cpu`, `memory`, `pods: "110"`), the labels
//!   `kubernetes.io/hostname=NAME` plus the given ones, the address `InternalIP
//!   127.0.0.1`, `daemonEndpoints.kubeletEndpoint.Port` (the port of its log server) and
//!   the annotation `schedlab.io/limits` naming the enforcement path in use;
//! - heartbeats by PUT `/api/v1/nodes/NAME/status` with the `Ready` condition's
//!   `lastHeartbeatTime` (every 10 s by default, as the kubelet's
//!   `nodeStatusUpdateFrequency`; no Lease objects);
//! - polls `GET /api/v1/pods?fieldSelector=spec.nodeName=NAME` (every second by default;
//!   no watch), runs the pods bound to it with [`Runtime`], terminates those with a
//!   `deletionTimestamp` (grace: `metadata.deletionGracePeriodSeconds`, else the spec's)
//!   or gone from the list, and DELETEs a terminated pod with `gracePeriodSeconds=0`
//!   once its processes are gone, as the kubelet finishes a graceful deletion;
//! - PUTs `.../pods/NAME/status` whenever a pod's status changes;
//! - serves `GET /containerLogs/NS/POD/CONTAINER` (optional `tailLines`, and `follow`
//!   streaming until the container stops) on 127.0.0.1, without authentication (loopback
//!   only; the kubelet authenticates its callers).
//!
//! Every request that fails (connection refused while the control plane restarts, a 5xx,
//! a 409 from a stale resourceVersion) is retried later with back-off: the loop never
//! panics and keeps its processes running meanwhile. Pods that finished (Succeeded or
//! Failed) are not started again by an agent that restarts.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};

use super::cgroups::Enforcement;
use super::kubeconfig::{KubeconfigError, read_kubeconfig};

/// The Node annotation that says how the agent enforces limits (`cgroup v1`, ...).
pub const LIMITS_ANNOTATION: &str = "schedlab.io/limits";
use super::logs;
use super::runtime::{
    BackoffPolicy, EnforcementChoice, PodSpec, Runtime, RuntimeConfig, RuntimeError, rfc3339,
};

/// How an agent is started.
#[derive(Clone, Debug)]
pub struct AgentOptions {
    /// The kubeconfig with the control plane's URL and the node's token.
    pub kubeconfig: PathBuf,
    /// The node's name.
    pub name: String,
    /// Capacity: CPU as a Kubernetes quantity.
    pub cpu: String,
    /// Capacity: memory as a Kubernetes quantity.
    pub memory: String,
    /// Labels added to `kubernetes.io/hostname`.
    pub labels: Vec<(String, String)>,
    /// The agent's directory (logs, the runtime's state).
    pub root: PathBuf,
    /// How often the node's status is sent.
    pub heartbeat: Duration,
    /// How often the pods are listed.
    pub poll: Duration,
    /// How often the runtime ticks (reaping, back-off, memory sampling).
    pub tick: Duration,
    /// The crash-loop back-off.
    pub backoff: BackoffPolicy,
    /// Cgroups or sampling.
    pub enforcement: EnforcementChoice,
    /// Where the log server listens (port 0: any free port).
    pub listen: SocketAddr,
}

impl AgentOptions {
    /// The defaults: 2 CPUs, 4Gi, heartbeat 10 s, poll 1 s, tick 100 ms, root
    /// `./schedlab-agent-NAME`.
    pub fn new(kubeconfig: impl Into<PathBuf>, name: &str) -> AgentOptions {
        AgentOptions {
            kubeconfig: kubeconfig.into(),
            name: name.to_string(),
            cpu: "2".into(),
            memory: "4Gi".into(),
            labels: Vec::new(),
            root: PathBuf::from(format!("schedlab-agent-{name}")),
            heartbeat: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            tick: Duration::from_millis(100),
            backoff: BackoffPolicy::KUBELET,
            enforcement: EnforcementChoice::Auto,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// Parses `k=v,k2=v2` (the `--labels` option).
pub fn parse_labels(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => Err(format!("label {pair:?}: expected key=value")),
        })
        .collect()
}

/// Why the agent could not start (once running, it retries instead of failing).
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The kubeconfig is unusable.
    #[error(transparent)]
    Kubeconfig(#[from] KubeconfigError),
    /// The runtime's directories are unusable.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A bad option value.
    #[error("--{option}: {message}")]
    Option {
        /// The option's name.
        option: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The log server's address could not be bound, or tokio could not start.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Runs the agent until the process is interrupted (SIGINT or SIGTERM). Its pods keep
/// running after it exits; the next agent on the same root adopts them.
pub fn run_agent(opts: AgentOptions) -> Result<(), AgentError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| AgentError::Io {
            context: "starting tokio".into(),
            source,
        })?;
    rt.block_on(run_agent_until(opts, async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }))
}

/// Runs the agent until `shutdown` completes: the variant tests spawn.
pub async fn run_agent_until(
    opts: AgentOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), AgentError> {
    let config = read_kubeconfig(&opts.kubeconfig)?;
    schedulers::quantity::parse_cpu_millis(&opts.cpu).map_err(|e| AgentError::Option {
        option: "cpu",
        message: format!("{:?}: {e}", opts.cpu),
    })?;
    schedulers::quantity::parse_bytes(&opts.memory).map_err(|e| AgentError::Option {
        option: "memory",
        message: format!("{:?}: {e}", opts.memory),
    })?;
    let runtime = Runtime::open(RuntimeConfig {
        root: opts.root.clone(),
        backoff: opts.backoff,
        enforcement: opts.enforcement,
    })?;
    let enforcement = runtime.enforcement();
    let runtime = Arc::new(Mutex::new(runtime));
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| AgentError::Io {
            context: format!("binding the log server to {}", opts.listen),
            source,
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| AgentError::Io {
            context: "reading the log server's address".into(),
            source,
        })?
        .port();
    let app = axum::Router::new()
        .route("/containerLogs/{ns}/{pod}/{container}", get(container_logs))
        .with_state(runtime.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    eprintln!(
        "schedlab agent {}: limits by {}, logs on 127.0.0.1:{port}",
        opts.name,
        enforcement.name()
    );
    let builder = match &config.ca_pem {
        Some(ca) => crate::tls::client_builder(ca).map_err(|e| AgentError::Option {
            option: "kubeconfig",
            message: format!("certificate-authority-data: {e}"),
        })?,
        None => reqwest::Client::builder(),
    }
    .timeout(Duration::from_secs(5));
    let client = builder.build().map_err(|e| AgentError::Io {
        context: "building the HTTP client".into(),
        source: std::io::Error::other(e),
    })?;
    let mut agent = Agent {
        api: Api {
            client,
            server: config.server,
            token: config.token,
        },
        opts,
        port,
        enforcement,
        runtime,
        pods: BTreeMap::new(),
        reported: BTreeMap::new(),
        deleted: BTreeMap::new(),
        registered: false,
        listed_once: false,
    };
    let result = tokio::select! {
        joined = async {
            agent.api.token = agent.credential().await?;
            agent.run().await;
            Ok(())
        } => joined,
        _ = shutdown => Ok(()),
    };
    server.abort();
    result
}

type Shared = Arc<Mutex<Runtime>>;

async fn container_logs(
    State(runtime): State<Shared>,
    UrlPath((ns, pod, container)): UrlPath<(String, String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let tail: Option<usize> = query.get("tailLines").and_then(|t| t.parse().ok());
    let follow = query.get("follow").is_some_and(|v| v == "true" || v == "1");
    let found = {
        let rt = runtime.lock().expect("runtime lock");
        rt.find_pod(&ns, &pod).map(|uid| {
            let known = rt
                .pod_status(uid)
                .is_some_and(|s| s.containers.iter().any(|c| c.name == container));
            (uid.to_string(), rt.root().to_path_buf(), known)
        })
    };
    let Some((uid, root, known)) = found else {
        let text = format!("pod {ns}/{pod} does not run on this node\n");
        return (StatusCode::NOT_FOUND, text).into_response();
    };
    if !known {
        let text = format!("container {container} is not valid for pod {pod}\n");
        return (StatusCode::NOT_FOUND, text).into_response();
    }
    let all = match logs::read_log(&root, &uid, &container, None) {
        Ok(bytes) => bytes,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    };
    let first = match tail {
        Some(n) => logs::tail_lines(&all, n).to_vec(),
        None => all.clone(),
    };
    if !follow {
        return (StatusCode::OK, first).into_response();
    }
    // follow=true: what is appended is sent as it comes, until the container stops
    // running (as `kubectl logs -f` ends when the container exits) or the client leaves.
    struct Follow {
        runtime: Shared,
        root: PathBuf,
        uid: String,
        container: String,
        offset: u64,
        first: Option<Vec<u8>>,
    }
    let state = Follow {
        runtime,
        root,
        uid,
        container,
        offset: all.len() as u64,
        first: Some(first),
    };
    let stream = futures_util::stream::unfold(state, |mut st| async move {
        if let Some(first) = st.first.take() {
            return Some((Ok::<_, std::io::Error>(first), st));
        }
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let new = logs::read_from(&st.root, &st.uid, &st.container, st.offset).ok()?;
            if !new.is_empty() {
                st.offset += new.len() as u64;
                return Some((Ok(new), st));
            }
            let running = {
                let rt = st.runtime.lock().expect("runtime lock");
                rt.pod_status(&st.uid).is_some_and(|s| {
                    s.containers.iter().any(|c| {
                        c.name == st.container
                            && matches!(c.state, super::runtime::ContainerState::Running { .. })
                    })
                })
            };
            if !running {
                return None;
            }
        }
    });
    (StatusCode::OK, axum::body::Body::from_stream(stream)).into_response()
}

/// The control plane's REST API, as far as the agent uses it.
struct Api {
    client: reqwest::Client,
    server: String,
    token: String,
}

/// A request's outcome: the status code and the JSON body (Null when there is none), or
/// the transport error.
type Reply = Result<(StatusCode, Value), String>;

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Reply {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.server))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status =
            StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }
}

/// A pod as last listed (or as the last status update returned it).
struct Known {
    object: Value,
}

struct Agent {
    api: Api,
    opts: AgentOptions,
    port: u16,
    enforcement: Enforcement,
    runtime: Shared,
    /// The pods of the last list, by uid.
    pods: BTreeMap<String, Known>,
    /// The status last sent for each pod (so an unchanged status is not sent again).
    reported: BTreeMap<String, Value>,
    /// Pods whose final DELETE was sent, by uid (so it is sent once per listing).
    deleted: BTreeMap<String, Instant>,
    registered: bool,
    listed_once: bool,
}

impl Agent {
    /// The node's own token: the one saved in the root by an earlier join, or one the
    /// kubeconfig's bootstrap token is exchanged for (saved owner-only), or, when the
    /// server does not issue credentials to this token (403, 404), the kubeconfig's own.
    async fn credential(&self) -> Result<String, AgentError> {
        let saved = self.opts.root.join("node.token");
        if let Ok(token) = std::fs::read_to_string(&saved) {
            return Ok(token.trim().to_owned());
        }
        let body = serde_json::json!({"nodeName": self.opts.name});
        let mut wait = Duration::from_millis(200);
        loop {
            match self
                .api
                .send(
                    reqwest::Method::POST,
                    "/apis/schedlab.io/v1/nodecredentials",
                    Some(&body),
                )
                .await
            {
                Ok((code, reply)) if code == StatusCode::CREATED => {
                    let token = reply["token"].as_str().unwrap_or_default().to_owned();
                    crate::control_plane::write_private(&saved, &token).map_err(|source| {
                        AgentError::Io {
                            context: format!("saving {}", saved.display()),
                            source,
                        }
                    })?;
                    return Ok(token);
                }
                Ok((code, _)) if code == StatusCode::FORBIDDEN || code == StatusCode::NOT_FOUND => {
                    return Ok(self.api.token.clone());
                }
                Ok((code, reply)) if code == StatusCode::CONFLICT => {
                    return Err(AgentError::Option {
                        option: "name",
                        message: format!(
                            "{}: {}",
                            self.opts.name,
                            reply["message"].as_str().unwrap_or("already joined")
                        ),
                    });
                }
                Ok((code, reply)) => eprintln!(
                    "schedlab agent {}: joining: {code}: {}",
                    self.opts.name,
                    reply["message"].as_str().unwrap_or("")
                ),
                Err(e) => eprintln!("schedlab agent {}: joining: {e}", self.opts.name),
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    async fn run(&mut self) {
        // The runtime ticks on its own task, so a slow or absent control plane never
        // delays reaping, SIGKILL escalation or memory sampling.
        let (removed_tx, mut removed_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let runtime = self.runtime.clone();
        let period = self.opts.tick;
        let ticking = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let report = runtime
                    .lock()
                    .expect("runtime lock")
                    .tick(SystemTime::now());
                for uid in report.removed {
                    if removed_tx.send(uid).is_err() {
                        return;
                    }
                }
            }
        });
        // Stops the ticking task when this loop is dropped (the agent shutting down).
        struct AbortOnDrop(tokio::task::JoinHandle<()>);
        impl Drop for AbortOnDrop {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let _ticking = AbortOnDrop(ticking);
        let mut failures = 0u32;
        let mut next_heartbeat = Instant::now();
        let mut next_poll = Instant::now();
        let mut ticker = tokio::time::interval(self.opts.tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let mut removed = Vec::new();
            while let Ok(uid) = removed_rx.try_recv() {
                removed.push(uid);
            }
            for uid in removed {
                self.reported.remove(&uid);
                if let Some(known) = self.pods.get(&uid)
                    && !known.object["metadata"]["deletionTimestamp"].is_null()
                {
                    self.finish_deletion(&uid).await;
                }
            }
            let now = Instant::now();
            if !self.registered || now >= next_heartbeat {
                let ok = if self.registered {
                    self.heartbeat().await
                } else {
                    self.register().await
                };
                next_heartbeat = now
                    + if ok {
                        self.opts.heartbeat
                    } else {
                        self.retry(failures)
                    };
                failures = if ok { 0 } else { failures + 1 };
                if !ok {
                    continue;
                }
            }
            if now >= next_poll {
                let ok = self.sync_pods().await;
                next_poll = now
                    + if ok {
                        self.opts.poll
                    } else {
                        self.retry(failures)
                    };
                failures = if ok { 0 } else { failures + 1 };
            }
            // While the control plane is unreachable, statuses wait for the next good
            // round trip instead of failing every tick.
            if failures == 0 {
                self.report_statuses().await;
            }
        }
    }

    /// The wait before retrying after `failures` failures in a row: the poll period
    /// doubling to 30 s at most.
    fn retry(&self, failures: u32) -> Duration {
        self.opts
            .poll
            .checked_mul(1 << failures.min(5))
            .unwrap_or(Duration::from_secs(30))
            .min(Duration::from_secs(30))
    }

    fn node_object(&self) -> Value {
        let mut labels = serde_json::Map::new();
        labels.insert("kubernetes.io/hostname".into(), json!(self.opts.name));
        labels.insert("kubernetes.io/os".into(), json!("linux"));
        for (k, v) in &self.opts.labels {
            labels.insert(k.clone(), json!(v));
        }
        json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": self.opts.name,
                "labels": labels,
                "annotations": {LIMITS_ANNOTATION: self.enforcement.name()},
            },
            "spec": {},
            "status": self.node_status(None),
        })
    }

    /// The node's status; `previous` keeps the Ready condition's lastTransitionTime.
    fn node_status(&self, previous: Option<&Value>) -> Value {
        let now = rfc3339(SystemTime::now());
        let transition = previous
            .and_then(|s| s["conditions"].as_array())
            .and_then(|cs| {
                cs.iter()
                    .find(|c| c["type"] == "Ready" && c["status"] == "True")
                    .and_then(|c| c["lastTransitionTime"].as_str())
            })
            .map_or(now.clone(), str::to_string);
        let resources = json!({"cpu": self.opts.cpu, "memory": self.opts.memory, "pods": "110"});
        json!({
            "capacity": resources,
            "allocatable": resources,
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": self.opts.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            "conditions": [{
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "schedlab agent is posting ready status",
                "lastHeartbeatTime": now,
                "lastTransitionTime": transition,
            }],
            "nodeInfo": {
                "kubeletVersion": concat!("schedlab-", env!("CARGO_PKG_VERSION")),
                "operatingSystem": "linux",
                "architecture": std::env::consts::ARCH,
                "containerRuntimeVersion": "schedlab-process://",
            },
        })
    }

    fn warn(&self, what: &str, reply: &Reply) {
        match reply {
            Ok((code, body)) => eprintln!(
                "schedlab agent {}: {what}: {code} {}",
                self.opts.name,
                body["message"].as_str().unwrap_or("")
            ),
            Err(e) => eprintln!("schedlab agent {}: {what}: {e}", self.opts.name),
        }
    }

    /// POSTs the node, or on 409 updates the existing one; then sends its status.
    async fn register(&mut self) -> bool {
        let node = self.node_object();
        let reply = self
            .api
            .send(reqwest::Method::POST, "/api/v1/nodes", Some(&node))
            .await;
        match &reply {
            Ok((code, _)) if code.is_success() => {}
            Ok((StatusCode::CONFLICT, _)) => {
                let path = format!("/api/v1/nodes/{}", self.opts.name);
                let got = self.api.send(reqwest::Method::GET, &path, None).await;
                let Ok((StatusCode::OK, mut existing)) = got else {
                    self.warn("reading the existing node", &got);
                    return false;
                };
                let labels = &mut existing["metadata"]["labels"];
                if !labels.is_object() {
                    *labels = json!({});
                }
                for (k, v) in node["metadata"]["labels"].as_object().expect("built above") {
                    labels[k] = v.clone();
                }
                let annotations = &mut existing["metadata"]["annotations"];
                if !annotations.is_object() {
                    *annotations = json!({});
                }
                annotations[LIMITS_ANNOTATION] = json!(self.enforcement.name());
                let put = self
                    .api
                    .send(reqwest::Method::PUT, &path, Some(&existing))
                    .await;
                if !matches!(&put, Ok((c, _)) if c.is_success()) {
                    self.warn("updating the existing node", &put);
                    return false;
                }
            }
            _ => {
                self.warn("registering the node", &reply);
                return false;
            }
        }
        self.registered = true;
        eprintln!("schedlab agent {}: registered", self.opts.name);
        self.heartbeat().await
    }

    /// GETs the node and PUTs its status with a new heartbeat time. A node that is gone
    /// (deleted, or a control plane that lost it) is registered again.
    async fn heartbeat(&mut self) -> bool {
        let path = format!("/api/v1/nodes/{}", self.opts.name);
        let got = self.api.send(reqwest::Method::GET, &path, None).await;
        let mut node = match got {
            Ok((StatusCode::OK, node)) => node,
            Ok((StatusCode::NOT_FOUND, _)) => {
                self.registered = false;
                return false;
            }
            other => {
                self.warn("reading the node", &other);
                return false;
            }
        };
        node["status"] = self.node_status(Some(&node["status"]));
        let put = self
            .api
            .send(reqwest::Method::PUT, &format!("{path}/status"), Some(&node))
            .await;
        let ok = matches!(&put, Ok((c, _)) if c.is_success());
        if !ok {
            self.warn("sending the node status", &put);
        }
        ok
    }

    /// Lists the node's pods and makes the runtime match: new pods start, deleted or
    /// gone ones stop.
    async fn sync_pods(&mut self) -> bool {
        let path = format!(
            "/api/v1/pods?fieldSelector=spec.nodeName%3D{}",
            self.opts.name
        );
        let reply = self.api.send(reqwest::Method::GET, &path, None).await;
        let items = match &reply {
            Ok((StatusCode::OK, list)) => list["items"].as_array().cloned().unwrap_or_default(),
            _ => {
                self.warn("listing pods", &reply);
                return false;
            }
        };
        let now = SystemTime::now();
        let mut listed = BTreeMap::new();
        let mut to_delete = Vec::new();
        let mut bad_specs = Vec::new();
        {
            let mut rt = self.runtime.lock().expect("runtime lock");
            for pod in items {
                let Some(uid) = pod["metadata"]["uid"].as_str().map(str::to_string) else {
                    continue;
                };
                if pod["spec"]["nodeName"].as_str() != Some(self.opts.name.as_str()) {
                    continue;
                }
                let deleting = !pod["metadata"]["deletionTimestamp"].is_null();
                let finished = matches!(
                    pod["status"]["phase"].as_str(),
                    Some("Succeeded" | "Failed")
                );
                if deleting && !rt.has_pod(&uid) && rt.has_recovered(&uid) {
                    // Processes left by the previous agent: adopted so that they get
                    // their grace period and the DELETE waits for them.
                    if let Ok(spec) = PodSpec::from_object(&pod) {
                        rt.run_pod(spec);
                    }
                }
                if deleting {
                    if rt.has_pod(&uid) {
                        let grace = pod["metadata"]["deletionGracePeriodSeconds"]
                            .as_u64()
                            .map(Duration::from_secs);
                        rt.stop_pod(&uid, grace, now);
                    } else {
                        to_delete.push(uid.clone());
                    }
                } else if !rt.has_pod(&uid) && !finished {
                    match PodSpec::from_object(&pod) {
                        Ok(spec) => rt.run_pod(spec),
                        Err(e) => bad_specs.push((uid.clone(), e.to_string())),
                    }
                }
                listed.insert(uid, Known { object: pod });
            }
            for uid in rt.pod_uids() {
                if !listed.contains_key(&uid) {
                    rt.stop_pod(&uid, None, now);
                }
            }
            if !self.listed_once {
                let killed = rt.kill_unclaimed();
                if !killed.is_empty() {
                    eprintln!(
                        "schedlab agent {}: killed the processes of {} pod(s) no longer bound here",
                        self.opts.name,
                        killed.len()
                    );
                }
            }
        }
        self.listed_once = true;
        // Keep the objects of pods still terminating: their final DELETE needs the names.
        let rt_uids = self.runtime.lock().expect("runtime lock").pod_uids();
        for uid in rt_uids {
            if !listed.contains_key(&uid)
                && let Some(old) = self.pods.remove(&uid)
            {
                listed.insert(uid, old);
            }
        }
        self.pods = listed;
        self.deleted.retain(|uid, _| self.pods.contains_key(uid));
        self.reported.retain(|uid, _| self.pods.contains_key(uid));
        for uid in to_delete {
            self.finish_deletion(&uid).await;
        }
        for (uid, message) in bad_specs {
            eprintln!("schedlab agent {}: {message}", self.opts.name);
            let status = json!({"phase": "Failed", "reason": "CreateContainerConfigError", "message": message});
            if self.reported.get(&uid) != Some(&status) {
                self.put_status(&uid, status).await;
            }
        }
        true
    }

    /// DELETEs a pod whose processes are gone, with gracePeriodSeconds=0, once per
    /// listing (a failed DELETE is sent again after the next list).
    async fn finish_deletion(&mut self, uid: &str) {
        if self.deleted.contains_key(uid) {
            return;
        }
        let Some(known) = self.pods.get(uid) else {
            return;
        };
        let meta = &known.object["metadata"];
        let path = format!(
            "/api/v1/namespaces/{}/pods/{}?gracePeriodSeconds=0",
            meta["namespace"].as_str().unwrap_or("default"),
            meta["name"].as_str().unwrap_or("")
        );
        let reply = self.api.send(reqwest::Method::DELETE, &path, None).await;
        match &reply {
            Ok((code, _)) if code.is_success() || *code == StatusCode::NOT_FOUND => {
                self.deleted.insert(uid.to_string(), Instant::now());
            }
            _ => self.warn("deleting a terminated pod", &reply),
        }
    }

    /// Sends the status of every pod whose status changed since it was last sent.
    async fn report_statuses(&mut self) {
        let statuses: Vec<(String, Value)> = {
            let rt = self.runtime.lock().expect("runtime lock");
            self.pods
                .keys()
                .filter_map(|uid| Some((uid.clone(), rt.pod_status(uid)?.to_json())))
                .collect()
        };
        for (uid, status) in statuses {
            if self.reported.get(&uid) != Some(&status) {
                self.put_status(&uid, status).await;
            }
        }
    }

    /// PUTs a pod's status: the last listed object with `status` merged in (conditions by
    /// type). On success the stored object (and its resourceVersion) is the reply; on a
    /// conflict the next list brings a fresh object and the status is sent again.
    async fn put_status(&mut self, uid: &str, status: Value) {
        let Some(known) = self.pods.get(uid) else {
            return;
        };
        let mut object = known.object.clone();
        let old = std::mem::take(&mut object["status"]);
        let mut merged = if old.is_object() { old } else { json!({}) };
        for key in ["phase", "containerStatuses", "reason", "message"] {
            if !status[key].is_null() {
                merged[key] = status[key].clone();
            }
        }
        let mut conditions: Vec<Value> =
            merged["conditions"].as_array().cloned().unwrap_or_default();
        for c in status["conditions"].as_array().into_iter().flatten() {
            match conditions.iter_mut().find(|x| x["type"] == c["type"]) {
                Some(x) => {
                    if x["status"] != c["status"] {
                        *x = c.clone();
                        x["lastTransitionTime"] = json!(rfc3339(SystemTime::now()));
                    }
                }
                None => {
                    let mut c = c.clone();
                    c["lastTransitionTime"] = json!(rfc3339(SystemTime::now()));
                    conditions.push(c);
                }
            }
        }
        merged["conditions"] = json!(conditions);
        merged["hostIP"] = json!("127.0.0.1");
        merged["podIP"] = json!("127.0.0.1");
        if merged["startTime"].is_null() {
            merged["startTime"] = json!(rfc3339(SystemTime::now()));
        }
        object["status"] = merged;
        let meta = &object["metadata"];
        let path = format!(
            "/api/v1/namespaces/{}/pods/{}/status",
            meta["namespace"].as_str().unwrap_or("default"),
            meta["name"].as_str().unwrap_or("")
        );
        let reply = self
            .api
            .send(reqwest::Method::PUT, &path, Some(&object))
            .await;
        match reply {
            Ok((code, body)) if code.is_success() => {
                self.reported.insert(uid.to_string(), status);
                if let Some(k) = self.pods.get_mut(uid) {
                    k.object = if body.is_object() { body } else { object };
                }
            }
            other => {
                self.warn("sending a pod status", &other);
                self.reported.remove(uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_labels;

    #[test]
    fn labels_parse_as_comma_separated_pairs() {
        assert_eq!(
            parse_labels("zone=a, tier=gpu").unwrap(),
            [("zone".into(), "a".into()), ("tier".into(), "gpu".into())]
        );
        assert_eq!(parse_labels("").unwrap(), []);
        assert_eq!(
            parse_labels("zone").unwrap_err(),
            "label \"zone\": expected key=value"
        );
    }
}
