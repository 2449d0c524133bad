//! The node agent loop against a fake control plane: a few axum routes on 127.0.0.1 that
//! keep nodes and pods in memory and record every request. The agent runs real processes;
//! every wait is bounded, and the test deletes its pods (through the agent) before it ends.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use schedlab_agent::node::agent::{AgentOptions, run_agent_until};
use schedlab_agent::node::runtime::{BackoffPolicy, EnforcementChoice};
use serde_json::{Value, json};

const TOKEN: &str = "node-token";

#[derive(Default)]
struct Fake {
    nodes: BTreeMap<String, Value>,
    /// Pods by name (namespace "default").
    pods: BTreeMap<String, Value>,
    /// (method, path with query) of every request, in order.
    log: Vec<(String, String)>,
    version: u64,
}

type Shared = Arc<Mutex<Fake>>;
type Reply = (StatusCode, Json<Value>);

fn record(s: &Shared, headers: &HeaderMap, method: &str, path: String) -> Result<(), Reply> {
    let mut f = s.lock().unwrap();
    f.log.push((method.to_string(), path));
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {TOKEN}")) {
        return Err((StatusCode::UNAUTHORIZED, Json(json!({"kind": "Status"}))));
    }
    Ok(())
}

fn bump(f: &mut Fake, obj: &mut Value) {
    f.version += 1;
    obj["metadata"]["resourceVersion"] = json!(f.version.to_string());
}

async fn create_node(State(s): State<Shared>, h: HeaderMap, Json(mut node): Json<Value>) -> Reply {
    if let Err(e) = record(&s, &h, "POST", "/api/v1/nodes".into()) {
        return e;
    }
    let mut f = s.lock().unwrap();
    let name = node["metadata"]["name"].as_str().unwrap().to_string();
    if f.nodes.contains_key(&name) {
        return (StatusCode::CONFLICT, Json(json!({"kind": "Status"})));
    }
    bump(&mut f, &mut node);
    f.nodes.insert(name, node.clone());
    (StatusCode::CREATED, Json(node))
}

async fn get_node(State(s): State<Shared>, h: HeaderMap, Path(name): Path<String>) -> Reply {
    if let Err(e) = record(&s, &h, "GET", format!("/api/v1/nodes/{name}")) {
        return e;
    }
    let f = s.lock().unwrap();
    match f.nodes.get(&name) {
        Some(n) => (StatusCode::OK, Json(n.clone())),
        None => (StatusCode::NOT_FOUND, Json(json!({"kind": "Status"}))),
    }
}

async fn put_node(
    State(s): State<Shared>,
    h: HeaderMap,
    Path(name): Path<String>,
    Json(mut node): Json<Value>,
) -> Reply {
    if let Err(e) = record(&s, &h, "PUT", format!("/api/v1/nodes/{name}")) {
        return e;
    }
    let mut f = s.lock().unwrap();
    bump(&mut f, &mut node);
    f.nodes.insert(name, node.clone());
    (StatusCode::OK, Json(node))
}

async fn put_node_status(
    State(s): State<Shared>,
    h: HeaderMap,
    Path(name): Path<String>,
    Json(node): Json<Value>,
) -> Reply {
    if let Err(e) = record(&s, &h, "PUT", format!("/api/v1/nodes/{name}/status")) {
        return e;
    }
    let mut f = s.lock().unwrap();
    let Some(mut stored) = f.nodes.get(&name).cloned() else {
        return (StatusCode::NOT_FOUND, Json(json!({"kind": "Status"})));
    };
    stored["status"] = node["status"].clone();
    bump(&mut f, &mut stored);
    f.nodes.insert(name, stored.clone());
    (StatusCode::OK, Json(stored))
}

async fn list_pods(
    State(s): State<Shared>,
    h: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Reply {
    let selector = q.get("fieldSelector").cloned().unwrap_or_default();
    if let Err(e) = record(
        &s,
        &h,
        "GET",
        format!("/api/v1/pods?fieldSelector={selector}"),
    ) {
        return e;
    }
    let node = selector.strip_prefix("spec.nodeName=").unwrap_or("");
    let f = s.lock().unwrap();
    let items: Vec<Value> = f
        .pods
        .values()
        .filter(|p| p["spec"]["nodeName"] == node)
        .cloned()
        .collect();
    (
        StatusCode::OK,
        Json(json!({"kind": "PodList", "items": items})),
    )
}

async fn put_pod_status(
    State(s): State<Shared>,
    h: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    Json(pod): Json<Value>,
) -> Reply {
    if let Err(e) = record(
        &s,
        &h,
        "PUT",
        format!("/api/v1/namespaces/{ns}/pods/{name}/status"),
    ) {
        return e;
    }
    let mut f = s.lock().unwrap();
    let Some(mut stored) = f.pods.get(&name).cloned() else {
        return (StatusCode::NOT_FOUND, Json(json!({"kind": "Status"})));
    };
    if pod["metadata"]["resourceVersion"] != stored["metadata"]["resourceVersion"] {
        return (StatusCode::CONFLICT, Json(json!({"kind": "Status"})));
    }
    stored["status"] = pod["status"].clone();
    bump(&mut f, &mut stored);
    f.pods.insert(name, stored.clone());
    (StatusCode::OK, Json(stored))
}

async fn delete_pod(
    State(s): State<Shared>,
    h: HeaderMap,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Reply {
    let grace = q.get("gracePeriodSeconds").cloned().unwrap_or_default();
    let path = format!("/api/v1/namespaces/{ns}/pods/{name}?gracePeriodSeconds={grace}");
    if let Err(e) = record(&s, &h, "DELETE", path) {
        return e;
    }
    let mut f = s.lock().unwrap();
    match f.pods.remove(&name) {
        Some(p) => (StatusCode::OK, Json(p)),
        None => (StatusCode::NOT_FOUND, Json(json!({"kind": "Status"}))),
    }
}

fn router(s: Shared) -> axum::Router {
    axum::Router::new()
        .route("/api/v1/nodes", axum::routing::post(create_node))
        .route("/api/v1/nodes/{name}", get(get_node).put(put_node))
        .route("/api/v1/nodes/{name}/status", put(put_node_status))
        .route("/api/v1/pods", get(list_pods))
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/status",
            put(put_pod_status),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}",
            axum::routing::delete(delete_pod),
        )
        .with_state(s)
}

async fn serve(s: Shared, addr: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router(s)).await.unwrap();
    });
    (addr, task)
}

fn add_pod(s: &Shared, name: &str, policy: &str, command: &[&str]) {
    add_pod_with(s, name, policy, command, json!({}));
}

fn add_pod_with(s: &Shared, name: &str, policy: &str, command: &[&str], resources: Value) {
    let mut f = s.lock().unwrap();
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}")},
        "spec": {"nodeName": "n1", "restartPolicy": policy, "terminationGracePeriodSeconds": 5,
                 "containers": [{"name": "main", "image": "none", "command": command,
                                 "resources": resources}]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}]}
    });
    bump(&mut f, &mut pod);
    f.pods.insert(name.to_string(), pod);
}

/// Polls `check` on the fake's state every 20 ms until it gives a value, at most `limit`.
async fn until<T>(
    s: &Shared,
    limit: Duration,
    what: &str,
    check: impl Fn(&Fake) -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = check(&s.lock().unwrap()) {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count(f: &Fake, method: &str, path: &str) -> usize {
    f.log
        .iter()
        .filter(|(m, p)| m == method && p == path)
        .count()
}

fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s[s.rfind(')').unwrap() + 1..].trim_start().starts_with('Z'))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_registers_runs_reports_and_deletes_pods() {
    let root = std::env::temp_dir().join(format!(
        "schedlab-agent-loop-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&root).unwrap();
    let fake: Shared = Arc::default();
    let (addr, server) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let kubeconfig: PathBuf = root.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: http://{addr}\n\
             users:\n- name: n1\n  user:\n    token: {TOKEN}\ncontexts:\n- name: lab\n  context: {{cluster: lab, user: n1}}\n\
             current-context: lab\n"
        ),
    )
    .unwrap();
    let mut opts = AgentOptions::new(&kubeconfig, "n1");
    opts.root = root.join("agent");
    opts.cpu = "3".into();
    opts.memory = "2Gi".into();
    opts.labels = vec![("zone".into(), "a".into())];
    opts.heartbeat = Duration::from_millis(200);
    opts.poll = Duration::from_millis(100);
    opts.tick = Duration::from_millis(20);
    opts.backoff = BackoffPolicy::scaled(Duration::from_millis(100));
    opts.enforcement = EnforcementChoice::Auto;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(run_agent_until(opts, async {
        let _ = stopped.await;
    }));

    // Registration: labels, capacity, address, the log server's port.
    let node = until(&fake, Duration::from_secs(10), "the node", |f| {
        f.nodes
            .get("n1")
            .filter(|n| !n["status"]["conditions"].is_null())
            .cloned()
    })
    .await;
    assert_eq!(node["metadata"]["labels"]["kubernetes.io/hostname"], "n1");
    assert_eq!(node["metadata"]["labels"]["zone"], "a");
    let limits = node["metadata"]["annotations"]["schedlab.io/limits"]
        .as_str()
        .unwrap();
    assert!(
        ["cgroup v2", "cgroup v1", "sampling /proc"].contains(&limits),
        "{limits}"
    );
    assert_eq!(
        node["status"]["capacity"],
        json!({"cpu": "3", "memory": "2Gi", "pods": "110"})
    );
    assert_eq!(node["status"]["allocatable"], node["status"]["capacity"]);
    assert_eq!(
        node["status"]["addresses"][0],
        json!({"type": "InternalIP", "address": "127.0.0.1"})
    );
    assert_eq!(node["status"]["conditions"][0]["type"], "Ready");
    let port = node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]
        .as_u64()
        .unwrap();
    assert!(port > 0);

    // Two pods: one sleeps, one prints and fails.
    add_pod(&fake, "sleeper", "Always", &["sleep", "20"]);
    add_pod(
        &fake,
        "failer",
        "Never",
        &["sh", "-c", "echo hi from failer; exit 3"],
    );
    let pid = until(&fake, Duration::from_secs(10), "sleeper running", |f| {
        let st = &f.pods["sleeper"]["status"];
        (st["phase"] == "Running").then(|| st["containerStatuses"][0]["containerID"].clone())
    })
    .await;
    let pid: i64 = pid
        .as_str()
        .unwrap()
        .strip_prefix("schedlab://")
        .unwrap()
        .parse()
        .unwrap();
    assert!(alive(pid));
    let sleeper = fake.lock().unwrap().pods["sleeper"]["status"].clone();
    assert_eq!(sleeper["hostIP"], "127.0.0.1");
    let types: Vec<&str> = sleeper["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["PodScheduled", "ContainersReady", "Ready"],
        "the scheduler's condition is kept"
    );
    let failed = until(&fake, Duration::from_secs(10), "failer failed", |f| {
        let st = &f.pods["failer"]["status"];
        (st["phase"] == "Failed").then(|| st["containerStatuses"][0]["state"]["terminated"].clone())
    })
    .await;
    assert_eq!(failed["exitCode"], 3);
    assert_eq!(failed["reason"], "Error");

    // Past its memory limit: OOMKilled, reported, restarted with back-off.
    add_pod_with(
        &fake,
        "hog",
        "Always",
        &["tail", "/dev/zero"],
        json!({"limits": {"memory": "32Mi"}}),
    );
    let hog = until(
        &fake,
        Duration::from_secs(20),
        "hog OOMKilled and restarted",
        |f| {
            let c = &f.pods["hog"]["status"]["containerStatuses"][0];
            (c["restartCount"].as_u64()? >= 1).then(|| c.clone())
        },
    )
    .await;
    assert_eq!(hog["lastState"]["terminated"]["reason"], "OOMKilled");
    assert_eq!(hog["lastState"]["terminated"]["exitCode"], 137);
    fake.lock().unwrap().pods.remove("hog");

    // Logs through the agent's endpoint.
    let url = format!("http://127.0.0.1:{port}/containerLogs/default/failer/main");
    let body = reqwest::get(&url).await.unwrap();
    assert_eq!(body.status().as_u16(), 200);
    assert_eq!(body.text().await.unwrap(), "hi from failer\n");
    let missing = reqwest::get(format!(
        "http://127.0.0.1:{port}/containerLogs/default/nope/main"
    ))
    .await
    .unwrap();
    assert_eq!(missing.status().as_u16(), 404);

    let bad = reqwest::get(format!(
        "http://127.0.0.1:{port}/containerLogs/default/failer/nope"
    ))
    .await
    .unwrap();
    assert_eq!(bad.status().as_u16(), 404);
    // follow=true streams what comes until the container exits.
    add_pod(
        &fake,
        "talker",
        "Never",
        &["sh", "-c", "echo one; sleep 0.4; echo two; sleep 0.2"],
    );
    until(&fake, Duration::from_secs(10), "talker running", |f| {
        (f.pods["talker"]["status"]["phase"] == "Running").then_some(())
    })
    .await;
    let start = Instant::now();
    let url = format!("http://127.0.0.1:{port}/containerLogs/default/talker/main?follow=true");
    let streamed = tokio::time::timeout(Duration::from_secs(10), async {
        reqwest::get(&url).await.unwrap().text().await.unwrap()
    })
    .await
    .expect("the stream ends when the container exits");
    assert_eq!(streamed, "one\ntwo\n");
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "it waited for the second line"
    );
    fake.lock().unwrap().pods.remove("talker");

    // Heartbeats keep coming.
    until(&fake, Duration::from_secs(5), "three heartbeats", |f| {
        (count(f, "PUT", "/api/v1/nodes/n1/status") >= 3).then_some(())
    })
    .await;

    // The control plane goes away for a while: the agent keeps its processes and
    // resumes once a server answers on the same address again.
    server.abort();
    let _ = server.await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!agent.is_finished());
    assert!(alive(pid), "the pod survives the control plane's absence");
    let before = count(&fake.lock().unwrap(), "PUT", "/api/v1/nodes/n1/status");
    let (_, server) = serve(fake.clone(), addr).await;
    until(
        &fake,
        Duration::from_secs(10),
        "heartbeats after the restart",
        |f| (count(f, "PUT", "/api/v1/nodes/n1/status") > before).then_some(()),
    )
    .await;

    // Graceful deletion: deletionTimestamp set; the agent stops the process, then DELETEs.
    {
        let mut f = fake.lock().unwrap();
        let mut pod = f.pods["sleeper"].clone();
        pod["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        pod["metadata"]["deletionGracePeriodSeconds"] = json!(2);
        bump(&mut f, &mut pod);
        f.pods.insert("sleeper".into(), pod);
    }
    until(&fake, Duration::from_secs(10), "the final DELETE", |f| {
        (count(
            f,
            "DELETE",
            "/api/v1/namespaces/default/pods/sleeper?gracePeriodSeconds=0",
        ) == 1)
            .then_some(())
    })
    .await;
    assert!(!alive(pid));
    // A pod deleted outright (gone from the list) is forgot without a DELETE.
    fake.lock().unwrap().pods.remove("failer");
    let agent_root = root.join("agent");
    let start = Instant::now();
    while agent_root.join("pods").join("uid-failer").exists()
        || agent_root.join("pods").join("uid-hog").exists()
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "failer's files stay"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    {
        let f = fake.lock().unwrap();
        assert_eq!(
            count(
                &f,
                "DELETE",
                "/api/v1/namespaces/default/pods/failer?gracePeriodSeconds=0"
            ),
            0
        );
        assert_eq!(count(&f, "POST", "/api/v1/nodes"), 1);
        // Each pod's list request names the node.
        assert!(
            f.log
                .iter()
                .any(|(m, p)| m == "GET" && p == "/api/v1/pods?fieldSelector=spec.nodeName=n1")
        );
    }
    stop.send(()).unwrap();
    agent.await.unwrap().unwrap();
    server.abort();
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn a_bad_kubeconfig_is_an_error_naming_the_file() {
    let path = std::env::temp_dir().join(format!("schedlab-bad-kubeconfig-{}", std::process::id()));
    std::fs::write(&path, "clusters: []\nusers: []\n").unwrap();
    let err = run_agent_until(AgentOptions::new(&path, "n1"), async {})
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: field clusters: no context names the cluster, and there is not exactly one",
            path.display()
        )
    );
    let _ = std::fs::remove_file(&path);
}

/// Writes a kubeconfig for the fake at `addr` and returns agent options under `root`.
fn options(root: &std::path::Path, addr: SocketAddr) -> AgentOptions {
    let kubeconfig = root.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "clusters:\n- name: lab\n  cluster: {{server: 'http://{addr}'}}\n\
             users:\n- name: n1\n  user: {{token: {TOKEN}}}\n"
        ),
    )
    .unwrap();
    let mut opts = AgentOptions::new(&kubeconfig, "n1");
    opts.root = root.join("agent");
    opts.heartbeat = Duration::from_millis(200);
    opts.poll = Duration::from_millis(100);
    opts.tick = Duration::from_millis(20);
    opts.backoff = BackoffPolicy::scaled(Duration::from_millis(100));
    opts
}

fn container_pid(f: &Fake, pod: &str) -> Option<i64> {
    let st = &f.pods.get(pod)?["status"];
    if st["phase"] != "Running" {
        return None;
    }
    st["containerStatuses"][0]["containerID"]
        .as_str()?
        .strip_prefix("schedlab://")?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_agent_adopts_its_pods_and_kills_unbound_ones() {
    let root = std::env::temp_dir().join(format!(
        "schedlab-agent-restart-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&root).unwrap();
    let fake: Shared = Arc::default();
    let (addr, server) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    add_pod(&fake, "keep", "Always", &["sleep", "20"]);
    add_pod(&fake, "stale", "Always", &["sleep", "20"]);
    // Leaves a mark when it gets SIGTERM (a SIGKILL would leave none).
    let mark = root.join("doomed-got-sigterm");
    let script = format!(
        "trap 'touch {}; exit 0' TERM; while true; do sleep 0.05; done",
        mark.display()
    );
    add_pod(&fake, "doomed", "Always", &["sh", "-c", &script]);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let first = tokio::spawn(run_agent_until(options(&root, addr), async {
        let _ = stopped.await;
    }));
    let (keep, stale, doomed) = until(&fake, Duration::from_secs(10), "the pods running", |f| {
        Some((
            container_pid(f, "keep")?,
            container_pid(f, "stale")?,
            container_pid(f, "doomed")?,
        ))
    })
    .await;
    stop.send(()).unwrap();
    first.await.unwrap().unwrap();
    assert!(
        alive(keep) && alive(stale) && alive(doomed),
        "an agent's exit leaves its pods running"
    );

    // While no agent runs, "stale" is unbound from this node and "doomed" is being
    // deleted.
    {
        let mut f = fake.lock().unwrap();
        f.pods.remove("stale");
        let mut pod = f.pods["doomed"].clone();
        pod["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        bump(&mut f, &mut pod);
        f.pods.insert("doomed".into(), pod);
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(run_agent_until(options(&root, addr), async {
        let _ = stopped.await;
    }));
    let start = Instant::now();
    while alive(stale) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the unbound pod's process lives on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    until(
        &fake,
        Duration::from_secs(5),
        "a heartbeat from the second agent",
        |f| (count(f, "PUT", "/api/v1/nodes/n1") == 1).then_some(()),
    )
    .await;
    assert!(
        alive(keep),
        "the bound pod's process is adopted, not restarted"
    );
    // The pod being deleted is adopted, terminated, and only then DELETEd.
    until(&fake, Duration::from_secs(10), "doomed deleted", |f| {
        (!f.pods.contains_key("doomed")).then_some(())
    })
    .await;
    assert!(!alive(doomed), "DELETE is sent once the process is gone");
    assert!(mark.exists(), "the adopted pod was terminated gracefully");
    {
        let f = fake.lock().unwrap();
        assert_eq!(container_pid(&f, "keep"), Some(keep));
        assert_eq!(
            f.pods["keep"]["status"]["containerStatuses"][0]["restartCount"],
            0
        );
        // The second registration found the node and updated it.
        assert_eq!(count(&f, "POST", "/api/v1/nodes"), 2);
    }

    // Clean up through the agent: delete "keep" gracefully.
    {
        let mut f = fake.lock().unwrap();
        let mut pod = f.pods["keep"].clone();
        pod["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        bump(&mut f, &mut pod);
        f.pods.insert("keep".into(), pod);
    }
    until(&fake, Duration::from_secs(10), "keep deleted", |f| {
        (!f.pods.contains_key("keep")).then_some(())
    })
    .await;
    assert!(!alive(keep));
    stop.send(()).unwrap();
    second.await.unwrap().unwrap();
    server.abort();
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_node_is_registered_again_and_a_bad_token_is_retried() {
    let root = std::env::temp_dir().join(format!(
        "schedlab-agent-lost-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&root).unwrap();
    let fake: Shared = Arc::default();
    let (addr, server) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(run_agent_until(options(&root, addr), async {
        let _ = stopped.await;
    }));
    until(&fake, Duration::from_secs(10), "the node", |f| {
        f.nodes.get("n1").map(|_| ())
    })
    .await;
    // The control plane forgets the node (a wiped store, or `kubectl delete node`): the
    // next heartbeat finds it gone and the agent registers again.
    fake.lock().unwrap().nodes.clear();
    until(&fake, Duration::from_secs(10), "the node again", |f| {
        (count(f, "POST", "/api/v1/nodes") == 2 && f.nodes.contains_key("n1")).then_some(())
    })
    .await;
    stop.send(()).unwrap();
    agent.await.unwrap().unwrap();

    // With a token the server refuses, the agent keeps trying and never gives up or panics.
    let other = root.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let mut opts = options(&other, addr);
    std::fs::write(
        &opts.kubeconfig,
        format!(
            "clusters:\n- name: lab\n  cluster: {{server: 'http://{addr}'}}\n\
             users:\n- name: n2\n  user: {{token: wrong}}\n"
        ),
    )
    .unwrap();
    opts.name = "n2".into();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(run_agent_until(opts, async {
        let _ = stopped.await;
    }));
    until(
        &fake,
        Duration::from_secs(10),
        "three refused registrations",
        |f| (count(f, "POST", "/api/v1/nodes") >= 5).then_some(()),
    )
    .await;
    assert!(!agent.is_finished());
    assert!(!fake.lock().unwrap().nodes.contains_key("n2"));
    stop.send(()).unwrap();
    agent.await.unwrap().unwrap();
    server.abort();
    let _ = std::fs::remove_dir_all(&root);
}
