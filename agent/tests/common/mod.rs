//! An in-process control plane for the API tests: `control_plane::serve` on 127.0.0.1:0
//! in the test's tokio runtime, its state in a temporary directory removed on drop, and a
//! reqwest client trusting only the control plane's CA.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use schedlab_agent::control_plane::{ControlPlaneOptions, serve};
use schedlab_agent::scheduling::SchedulingLoop;
use schedulers::{Registry, SchedulerSpec};
use serde_json::{Value, json};

/// A running control plane; [`Plane::stop`] shuts it down and removes its state.
pub struct Plane {
    /// `https://127.0.0.1:PORT`.
    pub base: String,
    /// The state directory (removed when the plane is dropped).
    pub dir: tempfile::TempDir,
    /// The admin token.
    pub admin: String,
    /// The bootstrap token.
    pub join: String,
    /// Trusts the plane's CA alone.
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts a control plane scheduling with least-allocated. Nodes stay Ready for
/// `node_grace` without heartbeats (the tests create Node objects, no agents).
pub async fn start(node_grace: Duration) -> Plane {
    let dir = tempfile::tempdir().expect("temp dir");
    let scheduler = SchedulingLoop::seeded(
        &Registry::builtin(),
        &SchedulerSpec::parse("least-allocated").expect("known scheduler"),
        &[],
        0,
    )
    .expect("scheduler");
    let options = ControlPlaneOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        state: dir.path().join("state"),
        node_monitor_grace: node_grace,
        resync: Duration::from_millis(20),
        ..ControlPlaneOptions::default()
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop_rx.await;
        };
        serve(options, scheduler, shutdown, move |r| {
            let _ = ready_tx.send(r.address);
        })
        .await
        .expect("control plane serves");
    });
    let address = tokio::time::timeout(Duration::from_secs(30), ready_rx)
        .await
        .expect("control plane ready within 30 s")
        .expect("control plane started");
    let state = dir.path().join("state");
    let read = |name: &str| {
        std::fs::read_to_string(state.join(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    let client = schedlab_agent::tls::client(&read("ca.crt")).expect("TLS client");
    Plane {
        base: format!("https://{address}"),
        admin: read("admin.token"),
        join: read("join.token"),
        client,
        dir,
        shutdown: Some(stop_tx),
        task: Some(task),
    }
}

impl Plane {
    /// The state directory.
    pub fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }

    /// A new token for `role`, added to the running plane's token file.
    pub fn token(&self, role: &schedlab_agent::api::auth::Role) -> String {
        schedlab_agent::api::auth::create_token(&self.state().join("tokens"), role, None)
            .expect("token written")
    }

    /// Sends `method path` with `token` (if any) and a JSON body (if any); returns the code
    /// and the decoded body (`Value::String` when it is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .timeout(Duration::from_secs(20));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(b);
        }
        let answer = request.send().await.expect("request answered");
        let code = answer.status().as_u16();
        let text = answer.text().await.expect("body read");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (code, value)
    }

    /// Sends a raw text body with a content type.
    pub async fn call_text(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        content_type: &str,
        body: &str,
    ) -> (u16, Value) {
        let answer = self
            .client
            .request(method, format!("{}{path}", self.base))
            .timeout(Duration::from_secs(20))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("request answered");
        let code = answer.status().as_u16();
        let text = answer.text().await.expect("body read");
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (code, value)
    }

    /// Polls `GET path` (admin) until `done` holds for the answer, or panics after
    /// `limit`.
    pub async fn wait_for(
        &self,
        path: &str,
        limit: Duration,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let (code, body) = self
                .call(reqwest::Method::GET, path, Some(&self.admin), None)
                .await;
            if code == 200 && done(&body) {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within {limit:?}; last answer {code} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Shuts the plane down (serve returns, the control loop joins) and removes its state.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("control plane stops within 20 s")
                .expect("control plane task");
        }
    }
}

/// A Ready node with `cpu` (a quantity), `memory` and room for `pods` pods.
pub fn node(name: &str, cpu: &str, memory: &str, pods: u32) -> Value {
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let resources = json!({"cpu": cpu, "memory": memory, "pods": pods.to_string()});
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                            "lastHeartbeatTime": now, "lastTransitionTime": now}],
        },
    })
}

/// A pod of one container requesting `cpu` and `memory`.
pub fn pod(name: &str, cpu: &str, memory: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "none", "command": ["sleep", "3600"],
                                 "resources": {"requests": {"cpu": cpu, "memory": memory}}}]},
    })
}

/// The audit log's records, one JSON object a line.
pub fn audit(state: &Path) -> Vec<Value> {
    std::fs::read_to_string(state.join("audit.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit line is JSON"))
        .collect()
}
