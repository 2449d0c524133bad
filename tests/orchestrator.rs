//! The real orchestrator end to end, on loopback: `schedlab control-plane`, three
//! `schedlab agent`s running pods as real processes, and the stock `kubectl` (installed by
//! `.ci/run`; each test that needs it prints SKIP and passes where it is missing).
//!
//! Every process a test starts is killed when the test ends, pass or fail, and every pod
//! process too (`kill_recorded` on each agent's root). Each test waits with a deadline,
//! never an unbounded loop. Each test's pods run a command of its own (`sleep 10001`,
//! ...), so counting the processes of one test is not confused by another running beside
//! it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use schedlab_agent::client::{BlockingClient, Method};
use schedlab_agent::node::kubeconfig::read_kubeconfig;
use schedlab_agent::node::runtime::kill_recorded;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_schedlab");

/// A child process killed (SIGKILL) and reaped when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Agents' roots whose recorded pod processes are killed when dropped.
struct Roots(Vec<PathBuf>);

impl Drop for Roots {
    fn drop(&mut self) {
        for r in &self.0 {
            let _ = kill_recorded(r);
        }
    }
}

/// The path of kubectl and its minor version, or None (with a SKIP line).
fn kubectl(test: &str) -> Option<(PathBuf, u32)> {
    let out = Command::new("kubectl")
        .args(["version", "--client", "-o", "json"])
        .output();
    let Some(out) = out.ok().filter(|o| o.status.success()) else {
        eprintln!("SKIP {test}: kubectl is not installed (.ci/run installs it with apt-get)");
        return None;
    };
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let minor = v["clientVersion"]["minor"]
        .as_str()
        .and_then(|m| m.trim_end_matches('+').parse().ok())
        .unwrap_or(0);
    Some((PathBuf::from("kubectl"), minor))
}

/// Starts the control plane (on a free port unless `extra` gives `--listen`) and waits
/// for its "listening" line.
fn control_plane(state: &Path, extra: &[&str]) -> Proc {
    let listen = if extra.contains(&"--listen") {
        &[][..]
    } else {
        &["--listen", "127.0.0.1:0"][..]
    };
    let mut child = Command::new(BIN)
        .arg("control-plane")
        .args(listen)
        .arg("--state")
        .arg(state)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the control plane");
    let stdout = child.stdout.take().expect("piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the control plane's first line");
    assert!(line.contains("listening on https://127.0.0.1:"), "{line}");
    Proc(child)
}

fn agent(state: &Path, name: &str, root: &Path, extra: &[&str]) -> Proc {
    let child = Command::new(BIN)
        .args(["agent", "--kubeconfig"])
        .arg(state.join("join.kubeconfig"))
        .args(["--name", name, "--root"])
        .arg(root)
        .args([
            "--cpu",
            "2",
            "--memory",
            "2Gi",
            "--heartbeat",
            "1s",
            "--backoff",
            "1s",
        ])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start an agent");
    Proc(child)
}

/// Runs kubectl with the admin kubeconfig of `state` (or `kubeconfig`).
fn run_kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("run kubectl")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `--validate=false` for kubectl older than 1.27, which validates against the OpenAPI
/// v2 schema the server does not serve; newer ones ask the server to validate.
fn validate_flag(minor: u32) -> &'static str {
    if minor >= 27 {
        "--validate=true"
    } else {
        "--validate=false"
    }
}

fn wait_until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// How many processes run exactly `argv`.
fn count_processes(argv: &[&str]) -> usize {
    pids_of(argv).len()
}

fn admin(state: &Path) -> BlockingClient {
    let config = read_kubeconfig(&state.join("admin.kubeconfig")).expect("admin kubeconfig");
    BlockingClient::new(config, Duration::from_secs(10)).expect("client")
}

fn pods(client: &BlockingClient, ns: &str) -> Vec<Value> {
    let (code, list) = client
        .send(Method::GET, &format!("/api/v1/namespaces/{ns}/pods"), None)
        .expect("list pods");
    assert_eq!(code, 200, "{list}");
    list["items"].as_array().cloned().unwrap_or_default()
}

fn running_on(pods: &[Value], nodes: &[&str]) -> usize {
    pods.iter()
        .filter(|p| {
            p["status"]["phase"] == "Running" && p["metadata"]["deletionTimestamp"].is_null()
        })
        .filter(|p| nodes.contains(&p["spec"]["nodeName"].as_str().unwrap_or("")))
        .count()
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleepers
spec:
  replicas: 6
  selector:
    matchLabels: {app: sleepers}
  template:
    metadata:
      labels: {app: sleepers}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: ignored
        command: [sleep, '10001']
        resources:
          requests: {cpu: 300m, memory: 64Mi}
";

/// The first two scenarios on one cluster: `kubectl create -f` a 6-replica
/// Deployment, six real processes placed as least-allocated decides (two per node),
/// `kubectl get pods -o wide` and `describe`; then a node dies (its agent and its pods
/// killed), goes NotReady, its pods are evicted after their toleration and recreated on
/// the other two, and six processes run again.
#[test]
fn deployment_runs_as_processes_and_moves_off_a_dead_node() {
    let Some((_, minor)) = kubectl("deployment_runs_as_processes_and_moves_off_a_dead_node") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let _cp = control_plane(
        &state,
        &[
            "--scheduler",
            "least-allocated",
            "--node-monitor-grace-period",
            "3s",
            "--default-toleration-seconds",
            "2",
        ],
    );
    let roots = Roots(
        ["n1", "n2", "n3"]
            .iter()
            .map(|n| dir.path().join(n))
            .collect(),
    );
    let mut agents: Vec<Option<Proc>> = ["n1", "n2", "n3"]
        .iter()
        .zip(&roots.0)
        .map(|(n, r)| Some(agent(&state, n, r, &[])))
        .collect();
    let kubeconfig = state.join("admin.kubeconfig");
    wait_until("three Ready nodes", Duration::from_secs(30), || {
        let out = run_kubectl(&kubeconfig, &["get", "nodes", "--no-headers"]);
        String::from_utf8_lossy(&out.stdout)
            .matches(" Ready ")
            .count()
            == 3
    });
    let manifest = dir.path().join("deployment.yaml");
    std::fs::write(&manifest, DEPLOYMENT).unwrap();
    let created = ok(&run_kubectl(
        &kubeconfig,
        &[
            "create",
            validate_flag(minor),
            "-f",
            manifest.to_str().unwrap(),
        ],
    ));
    assert_eq!(created.trim(), "deployment.apps/sleepers created");
    let argv = ["sleep", "10001"];
    wait_until("six sleeping processes", Duration::from_secs(60), || {
        count_processes(&argv) == 6
    });
    let client = admin(&state);
    wait_until("six Running pods", Duration::from_secs(30), || {
        running_on(&pods(&client, "default"), &["n1", "n2", "n3"]) == 6
    });
    // least-allocated spreads six equal pods over three equal nodes two by two.
    let wide = ok(&run_kubectl(
        &kubeconfig,
        &["get", "pods", "-o", "wide", "--no-headers"],
    ));
    for node in ["n1", "n2", "n3"] {
        let on = wide
            .lines()
            .filter(|l| l.split_whitespace().nth(6) == Some(node))
            .count();
        assert_eq!(on, 2, "pods on {node}:\n{wide}");
    }
    assert_eq!(
        wide.lines().filter(|l| l.contains(" Running ")).count(),
        6,
        "{wide}"
    );
    wait_until("the Deployment 6/6 ready", Duration::from_secs(20), || {
        let d = run_kubectl(&kubeconfig, &["get", "deployments", "--no-headers"]);
        let d = String::from_utf8_lossy(&d.stdout).into_owned();
        let cols: Vec<&str> = d.split_whitespace().collect();
        cols.get(..4) == Some(&["sleepers", "6/6", "6", "6"][..])
    });

    // A pod no node can take: describe shows kube-scheduler's reason.
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, "apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  containers:\n  - name: main\n    image: x\n    command: [sleep, '10002']\n    resources: {requests: {cpu: '5'}}\n").unwrap();
    ok(&run_kubectl(
        &kubeconfig,
        &["create", validate_flag(minor), "-f", big.to_str().unwrap()],
    ));
    wait_until(
        "FailedScheduling in describe",
        Duration::from_secs(20),
        || {
            let d = run_kubectl(&kubeconfig, &["describe", "pod", "big"]);
            String::from_utf8_lossy(&d.stdout)
                .contains("0/3 nodes are available: 3 Insufficient cpu.")
        },
    );
    let describe = ok(&run_kubectl(&kubeconfig, &["describe", "pod", "big"]));
    assert!(describe.contains("FailedScheduling"), "{describe}");
    assert!(describe.contains("default-scheduler"), "{describe}");
    ok(&run_kubectl(&kubeconfig, &["delete", "pod", "big"]));

    // The node n3 dies: its agent and its pods are killed.
    agents[2].take();
    kill_recorded(&roots.0[2]).unwrap();
    wait_until("n3 NotReady", Duration::from_secs(30), || {
        let out = run_kubectl(&kubeconfig, &["get", "node", "n3", "--no-headers"]);
        String::from_utf8_lossy(&out.stdout).contains("NotReady")
    });
    wait_until(
        "six Running pods on n1 and n2",
        Duration::from_secs(60),
        || running_on(&pods(&client, "default"), &["n1", "n2"]) == 6,
    );
    wait_until(
        "six sleeping processes again",
        Duration::from_secs(30),
        || count_processes(&argv) == 6,
    );
    drop(agents);
}

/// Killing the control plane with SIGKILL at random points of a burst of creates loses
/// no acknowledged object and duplicates none.
#[test]
fn killed_control_plane_keeps_every_acknowledged_create() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mut acknowledged: Vec<String> = Vec::new();
    let mut next = 0usize;
    // The kill points, from a fixed seed: after 7, 19 and 3 acknowledged creates.
    for kill_after in [7usize, 19, 3] {
        let mut cp = control_plane(&state, &[]);
        let client = admin(&state);
        let mut acked_now = 0;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let pid = cp.0.id();
        let killer = std::thread::spawn(move || {
            let _ = rx.recv();
            // SIGKILL while the next creates are in flight.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        });
        let mut sent_kill = false;
        loop {
            let name = format!("p-{next}");
            next += 1;
            let body = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"containers": [{"name": "c", "image": "x", "command": ["true"]}]}});
            match client.send(Method::POST, "/api/v1/namespaces/default/pods", Some(&body)) {
                Ok((201, _)) => {
                    acknowledged.push(name);
                    acked_now += 1;
                    if acked_now == kill_after && !sent_kill {
                        let _ = tx.send(());
                        sent_kill = true;
                    }
                }
                Ok((code, reply)) => panic!("create {name}: {code} {reply}"),
                // The server is gone: this create was never acknowledged.
                Err(_) => break,
            }
        }
        killer.join().unwrap();
        let _ = cp.0.wait();
    }
    let _cp = control_plane(&state, &[]);
    let listed = pods(&admin(&state), "default");
    let names: Vec<&str> = listed
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap())
        .collect();
    for name in &acknowledged {
        assert!(
            names.contains(&name.as_str()),
            "acknowledged {name} is missing"
        );
    }
    let mut uids: Vec<&str> = listed
        .iter()
        .map(|p| p["metadata"]["uid"].as_str().unwrap())
        .collect();
    uids.sort_unstable();
    uids.dedup();
    assert_eq!(uids.len(), listed.len(), "a pod is stored twice");
    let mut sorted = names.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "a name is stored twice");
    assert!(acknowledged.len() >= 29, "{}", acknowledged.len());
}

/// A pod that allocates past its memory limit is killed, reported OOMKilled, and
/// restarted with back-off; its log is readable with kubectl and `schedlab logs`.
#[test]
fn oom_killed_pod_is_reported_and_restarted() {
    let Some((_, minor)) = kubectl("oom_killed_pod_is_reported_and_restarted") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let _cp = control_plane(&state, &[]);
    let roots = Roots(vec![dir.path().join("n1")]);
    let _agent = agent(&state, "n1", &roots.0[0], &[]);
    let kubeconfig = state.join("admin.kubeconfig");
    let manifest = dir.path().join("hog.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: hog}\nspec:\n  containers:\n  - name: main\n    image: x\n    command: [sh, -c, 'echo allocating; exec tail /dev/zero']\n    resources: {limits: {memory: 32Mi}}\n",
    )
    .unwrap();
    ok(&run_kubectl(
        &kubeconfig,
        &[
            "create",
            validate_flag(minor),
            "-f",
            manifest.to_str().unwrap(),
        ],
    ));
    let client = admin(&state);
    wait_until("an OOM kill and a restart", Duration::from_secs(60), || {
        let (_, pod) = client
            .send(Method::GET, "/api/v1/namespaces/default/pods/hog", None)
            .unwrap();
        let s = &pod["status"]["containerStatuses"][0];
        s["lastState"]["terminated"]["reason"] == "OOMKilled"
            && s["lastState"]["terminated"]["exitCode"] == 137
            && s["restartCount"].as_u64().unwrap_or(0) >= 1
    });
    let logs = ok(&run_kubectl(&kubeconfig, &["logs", "hog"]));
    assert!(logs.contains("allocating"), "{logs}");
    let ours = Command::new(BIN)
        .args(["logs", "hog", "--kubeconfig"])
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&ours.stdout).contains("allocating"));
}

/// Tokens and roles through kubectl: a wrong token is refused (401), a viewer cannot
/// write (403), an editor of one namespace cannot touch another (403), each refusal is in
/// the audit log, and a malformed manifest is a 400 naming its field.
#[test]
fn kubectl_meets_authentication_and_authorization() {
    let Some((_, minor)) = kubectl("kubectl_meets_authentication_and_authorization") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let _cp = control_plane(&state, &[]);
    let kubeconfig = state.join("admin.kubeconfig");
    for ns in ["a", "b"] {
        let file = dir.path().join(format!("{ns}.yaml"));
        std::fs::write(
            &file,
            format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"),
        )
        .unwrap();
        ok(&run_kubectl(
            &kubeconfig,
            &["create", validate_flag(minor), "-f", file.to_str().unwrap()],
        ));
    }
    let token = |role: &str, ns: &str, file: &str| {
        let path = dir.path().join(file);
        let out = Command::new(BIN)
            .args(["token", "create", "--state"])
            .arg(&state)
            .args(["--role", role, "--namespace", ns, "--kubeconfig"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    };
    let viewer = token("viewer", "a", "viewer.kubeconfig");
    let editor = token("editor", "a", "editor.kubeconfig");
    let pod = dir.path().join("pod.yaml");
    std::fs::write(&pod, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: x, command: [sleep, '1']}\n").unwrap();
    let pod = pod.to_str().unwrap();
    let v = validate_flag(minor);

    let denied = run_kubectl(&viewer, &["create", v, "-n", "a", "-f", pod]);
    assert!(!denied.status.success());
    let err = String::from_utf8_lossy(&denied.stderr);
    assert!(
        err.contains("Forbidden") && err.contains("viewer:a"),
        "{err}"
    );
    let other = run_kubectl(&editor, &["create", v, "-n", "b", "-f", pod]);
    assert!(String::from_utf8_lossy(&other.stderr).contains("Forbidden"));
    ok(&run_kubectl(&editor, &["create", v, "-n", "a", "-f", pod]));
    let listed = ok(&run_kubectl(
        &viewer,
        &["get", "pods", "-n", "a", "--no-headers"],
    ));
    assert!(listed.starts_with("p "), "{listed}");

    let wrong = dir.path().join("wrong.kubeconfig");
    let text = std::fs::read_to_string(&viewer).unwrap();
    let real = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_owned();
    std::fs::write(&wrong, text.replace(&real, "not-a-token")).unwrap();
    let refused = run_kubectl(&wrong, &["get", "pods", "-n", "a"]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("You must be logged in to the server"), "{err}");

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  containers:\n  - name: c\n    image: x\n    resources:\n      requests: {cpu: 2x}\n").unwrap();
    let rejected = run_kubectl(&kubeconfig, &["create", v, "-f", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&rejected.stderr);
    assert!(
        err.contains("spec.containers[0].resources.requests.cpu"),
        "{err}"
    );

    let audit = std::fs::read_to_string(state.join("audit.log")).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let has = |user: &str, verb: &str, ns: &str, code: u64| {
        lines.iter().any(|l| {
            l["user"] == user && l["verb"] == verb && l["namespace"] == ns && l["code"] == code
        })
    };
    assert!(has("viewer:a", "create", "a", 403), "{audit}");
    assert!(has("editor:a", "create", "b", 403), "{audit}");
    assert!(has("editor:a", "create", "a", 201), "{audit}");
    assert!(
        lines
            .iter()
            .any(|l| l["user"] == "system:anonymous" && l["code"] == 401)
    );
    assert!(has("admin", "create", "default", 400), "{audit}");
}

/// A free loopback port, for a control plane that must come back on the same address.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The control plane killed with SIGKILL and started again on the same state and port:
/// the agent re-syncs, its pods keep running (the same processes, none started twice),
/// and the Deployment is still whole.
#[test]
fn agents_resync_after_the_control_plane_restarts() {
    let Some((_, minor)) = kubectl("agents_resync_after_the_control_plane_restarts") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let listen = format!("127.0.0.1:{}", free_port());
    let args = ["--listen", listen.as_str()];
    let cp = control_plane(&state, &args);
    let roots = Roots(vec![dir.path().join("n1")]);
    let _agent = agent(&state, "n1", &roots.0[0], &[]);
    let kubeconfig = state.join("admin.kubeconfig");
    let manifest = dir.path().join("d.yaml");
    std::fs::write(
        &manifest,
        DEPLOYMENT
            .replace("replicas: 6", "replicas: 2")
            .replace("'10001'", "'10003'"),
    )
    .unwrap();
    ok(&run_kubectl(
        &kubeconfig,
        &[
            "create",
            validate_flag(minor),
            "-f",
            manifest.to_str().unwrap(),
        ],
    ));
    let argv = ["sleep", "10003"];
    wait_until("two sleeping processes", Duration::from_secs(60), || {
        count_processes(&argv) == 2
    });
    let pids_before = pids_of(&argv);
    drop(cp);
    let _cp = control_plane(&state, &args);
    let client = admin(&state);
    wait_until(
        "two Running pods after the restart",
        Duration::from_secs(30),
        || running_on(&pods(&client, "default"), &["n1"]) == 2,
    );
    // Long enough for a few heartbeats and pod polls of the agent against the new server.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        pids_of(&argv),
        pids_before,
        "the pods' processes were restarted"
    );
    assert_eq!(pods(&client, "default").len(), 2);
    let nodes = ok(&run_kubectl(&kubeconfig, &["get", "nodes", "--no-headers"]));
    assert!(nodes.contains("n1") && nodes.contains(" Ready "), "{nodes}");
}

/// The processes running exactly `argv` (a zombie has an empty cmdline, so what matches
/// is alive), in pid order.
fn pids_of(argv: &[&str]) -> Vec<u32> {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter(|p| std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c == want))
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    pids
}
