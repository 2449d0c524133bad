//! The node agent's process runtime: a pod's containers as real OS processes.
//!
//! What the kubelet does with a container runtime, reduced to processes:
//! - each container runs `command ++ args` (images are ignored: there is no root filesystem
//!   but the node's; `$(VAR)` references expanded) with the spec's `env` (values and
//!   `fieldRef`s) on top of the agent's `PATH`, in
//!   `workingDir` (default: the pod's directory under the agent's root), in its own process
//!   group, stdout and stderr appended to `ROOT/pods/<uid>/<container>.log`;
//! - limits are enforced by cgroups or by sampling (see [`super::cgroups`]), an OOM kill is
//!   reported as `OOMKilled`;
//! - restart policies Always / OnFailure / Never with the kubelet's crash-loop back-off
//!   (`doBackOff` in pkg/kubelet/kuberuntime/kuberuntime_manager.go: the first restart at
//!   once, then 10 s doubling to 300 s, `backOffPeriod` and `MaxContainerBackOff` in
//!   pkg/kubelet/kubelet.go; the count starts over after a crash more than twice the
//!   maximum after the previous one, `hasExpired` in client-go's
//!   util/flowcontrol/backoff.go; [`BackoffPolicy`] scales the three together so tests
//!   run in seconds), with the kubelet's `back-off 10s restarting failed container=NAME
//!   pod=POD_NAMESPACE(UID)` message;
//! - graceful termination: SIGTERM to the process group, SIGKILL after the grace period;
//! - status as the kubelet reports it (`containerStatuses`, the phase by the rules of
//!   `getPhase` in pkg/kubelet/kubelet_pods.go, without init containers).
//!
//! The design is tick-driven: [`Runtime::tick`] reaps exited processes with `try_wait`,
//! starts containers whose back-off is over, samples memory and escalates SIGTERM to
//! SIGKILL. Every decision is a function of the runtime's state and the `now` it is given.
//!
//! The runtime records every pod's containers (processes, restart counts, final states)
//! in `ROOT/state/pods.json`; a runtime opened on the same root finds the processes still
//! alive (same pid and same start time, so a reused pid is not mistaken for them) and
//! adopts those of the pods it is asked to run again, with their counts and states;
//! [`Runtime::kill_unclaimed`] kills the rest. An adopted process is not the new
//! agent's child, so its exit code cannot be read: it is reported as the kubelet reports a
//! container it lost, `ContainerStatusUnknown` with exit code 137 (or `OOMKilled` when its
//! cgroup counted an OOM kill).
//!
//! Not modelled: init and sidecar containers, probes, environment from secrets, config
//! maps and resource fields, volumes, image pulls, ephemeral storage limits, `--previous`
//! logs.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::cgroups::{Cgroups, ContainerCgroup, Enforcement};
use super::logs;

/// A container's restart policy (`spec.restartPolicy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Restart whenever the container exits (the default).
    Always,
    /// Restart when it exits with a non-zero code.
    OnFailure,
    /// Never restart.
    Never,
}

/// The crash-loop back-off, as the kubelet's: the first restart is at once, the n-th
/// consecutive one waits `initial * 2^(n-2)`, at most `max`; a crash more than
/// `reset_after` after the previous one starts the count over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffPolicy {
    /// The first delay (kubelet: 10 s).
    pub initial: Duration,
    /// The longest delay (kubelet: 300 s).
    pub max: Duration,
    /// How long without a crash resets the count (kubelet: twice `max`, 10 minutes).
    pub reset_after: Duration,
}

impl BackoffPolicy {
    /// The kubelet's values.
    pub const KUBELET: BackoffPolicy = BackoffPolicy {
        initial: Duration::from_secs(10),
        max: Duration::from_secs(300),
        reset_after: Duration::from_secs(600),
    };

    /// The kubelet's ratios from another initial delay: max = 30x, reset after 60x.
    pub fn scaled(initial: Duration) -> BackoffPolicy {
        BackoffPolicy {
            initial,
            max: initial * 30,
            reset_after: initial * 60,
        }
    }

    /// The delay before the restart after `consecutive` crashes in a row (1 = the first,
    /// restarted at once).
    pub fn delay(&self, consecutive: u32) -> Duration {
        if consecutive <= 1 {
            return Duration::ZERO;
        }
        let doublings = (consecutive - 2).min(31);
        self.initial
            .checked_mul(1u32 << doublings)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// Which enforcement the runtime should use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EnforcementChoice {
    /// The best the machine offers: cgroup v2, else v1, else sampling.
    #[default]
    Auto,
    /// Sampling even where cgroups are writable (tests of that path).
    Sampling,
}

/// How a runtime is set up.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// The agent's directory: `pods/` (logs) and `state/` (the recorded processes).
    pub root: PathBuf,
    /// The crash-loop back-off.
    pub backoff: BackoffPolicy,
    /// Cgroups or sampling.
    pub enforcement: EnforcementChoice,
}

impl RuntimeConfig {
    /// The kubelet's back-off and the best enforcement, under `root`.
    pub fn new(root: impl Into<PathBuf>) -> RuntimeConfig {
        RuntimeConfig {
            root: root.into(),
            backoff: BackoffPolicy::KUBELET,
            enforcement: EnforcementChoice::Auto,
        }
    }
}

/// What the runtime needs of one container of a pod spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerSpec {
    /// `name`.
    pub name: String,
    /// `image`, reported back but never pulled or run.
    pub image: String,
    /// `command` followed by `args`.
    pub argv: Vec<String>,
    /// The `env` entries the runtime can resolve (values, `fieldRef`s), in order.
    pub env: Vec<(String, String)>,
    /// `workingDir`.
    pub working_dir: Option<PathBuf>,
    /// `resources.limits.memory` in bytes.
    pub memory_limit: Option<i64>,
    /// `resources.limits.cpu` in millicores.
    pub cpu_limit: Option<i64>,
}

/// What the runtime needs of a pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodSpec {
    /// `metadata.uid`: the key of everything the runtime keeps.
    pub uid: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.restartPolicy`.
    pub restart_policy: RestartPolicy,
    /// `spec.terminationGracePeriodSeconds` (default 30 s).
    pub grace: Duration,
    /// `spec.containers`.
    pub containers: Vec<ContainerSpec>,
}

/// A pod object the runtime cannot run.
#[derive(Debug, thiserror::Error)]
#[error("pod {pod}: field {field}: {message}")]
pub struct SpecError {
    /// `namespace/name` of the pod.
    pub pod: String,
    /// The JSON path of the bad field.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl PodSpec {
    /// Reads the fields the runtime uses from a pod object (Kubernetes JSON).
    pub fn from_object(pod: &Value) -> Result<PodSpec, SpecError> {
        let meta = &pod["metadata"];
        let namespace = meta["namespace"].as_str().unwrap_or("default").to_string();
        let name = meta["name"].as_str().unwrap_or("").to_string();
        let err = |field: &str, message: &str| SpecError {
            pod: format!("{namespace}/{name}"),
            field: field.to_string(),
            message: message.to_string(),
        };
        let uid = meta["uid"]
            .as_str()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| err("metadata.uid", "missing"))?
            .to_string();
        let spec = &pod["spec"];
        let restart_policy = match spec["restartPolicy"].as_str() {
            None | Some("Always") => RestartPolicy::Always,
            Some("OnFailure") => RestartPolicy::OnFailure,
            Some("Never") => RestartPolicy::Never,
            Some(_) => {
                return Err(err(
                    "spec.restartPolicy",
                    "must be Always, OnFailure or Never",
                ));
            }
        };
        let grace = match &spec["terminationGracePeriodSeconds"] {
            Value::Null => Duration::from_secs(30),
            v => Duration::from_secs(v.as_u64().ok_or_else(|| {
                err(
                    "spec.terminationGracePeriodSeconds",
                    "must be a non-negative integer",
                )
            })?),
        };
        let list = spec["containers"]
            .as_array()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| err("spec.containers", "needs at least one container"))?;
        let mut containers = Vec::new();
        for (i, c) in list.iter().enumerate() {
            let at = |f: &str| format!("spec.containers[{i}].{f}");
            let strings = |f: &str| -> Result<Vec<String>, SpecError> {
                match &c[f] {
                    Value::Null => Ok(Vec::new()),
                    Value::Array(items) => items
                        .iter()
                        .map(|s| {
                            s.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| err(&at(f), "must be a list of strings"))
                        })
                        .collect(),
                    _ => Err(err(&at(f), "must be a list of strings")),
                }
            };
            let name = c["name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .ok_or_else(|| err(&at("name"), "missing"))?
                .to_string();
            let mut env: Vec<(String, String)> = Vec::new();
            for (j, e) in c["env"].as_array().into_iter().flatten().enumerate() {
                let Some(k) = e["name"].as_str() else {
                    return Err(err(&at(&format!("env[{j}].name")), "missing"));
                };
                let value = if let Some(v) = e["value"].as_str() {
                    // An entry may use the ones before it, as Kubernetes allows.
                    Some(expand(v, &env))
                } else if let Some(path) = e["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                    field_ref(pod, path)
                } else {
                    // Secrets, config maps and resource fields are not modelled: the
                    // variable is left unset.
                    None
                };
                if let Some(v) = value {
                    env.retain(|(name, _)| name != k);
                    env.push((k.to_string(), v));
                }
            }
            let argv: Vec<String> = strings("command")?
                .into_iter()
                .chain(strings("args")?)
                .map(|a| expand(&a, &env))
                .collect();
            let limits = &c["resources"]["limits"];
            let memory_limit = match limits["memory"].as_str() {
                Some(q) => Some(
                    schedulers::quantity::parse_bytes(q)
                        .map_err(|e| err(&at("resources.limits.memory"), &e.to_string()))?,
                ),
                None => limits["memory"].as_i64(),
            };
            let cpu_limit = match limits["cpu"].as_str() {
                Some(q) => Some(
                    schedulers::quantity::parse_cpu_millis(q)
                        .map_err(|e| err(&at("resources.limits.cpu"), &e.to_string()))?,
                ),
                None => limits["cpu"].as_i64().map(|c| c * 1000),
            };
            containers.push(ContainerSpec {
                name,
                image: c["image"].as_str().unwrap_or("").to_string(),
                argv,
                env,
                working_dir: c["workingDir"].as_str().map(PathBuf::from),
                memory_limit,
                cpu_limit,
            });
        }
        Ok(PodSpec {
            uid,
            namespace,
            name,
            restart_policy,
            grace,
            containers,
        })
    }
}

/// Expands `$(NAME)` references to the variables in `env` as Kubernetes does in
/// `command`, `args` and `env` values: `$$` is a literal `$`, and a reference to a
/// variable not set (or not closed) stays as written.
pub fn expand(text: &str, env: &[(String, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(')
            && let Some(end) = inner.find(')')
        {
            let name = &inner[..end];
            match env.iter().rev().find(|(k, _)| k == name) {
                Some((_, v)) => out.push_str(v),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &inner[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// An environment variable's `valueFrom.fieldRef`, for the fields a node agent knows.
fn field_ref(pod: &Value, path: &str) -> Option<String> {
    let meta = &pod["metadata"];
    let s = |v: &Value| v.as_str().map(str::to_string);
    match path {
        "metadata.name" => s(&meta["name"]),
        "metadata.namespace" => s(&meta["namespace"]).or(Some("default".into())),
        "metadata.uid" => s(&meta["uid"]),
        "spec.nodeName" => s(&pod["spec"]["nodeName"]),
        "spec.serviceAccountName" => s(&pod["spec"]["serviceAccountName"]),
        "status.hostIP" | "status.podIP" => Some("127.0.0.1".into()),
        _ => {
            let key = path
                .strip_prefix("metadata.labels['")
                .map(|k| (k, "labels"))
                .or_else(|| {
                    path.strip_prefix("metadata.annotations['")
                        .map(|k| (k, "annotations"))
                });
            let (k, map) = key?;
            s(&meta[map][k.strip_suffix("']")?])
        }
    }
}

/// How a container run ended (`state.terminated` / `lastState.terminated`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Terminated {
    /// The exit code; 128 + n for a process killed by signal n.
    pub exit_code: i32,
    /// The signal that killed the main process, if one did.
    pub signal: Option<i32>,
    /// `Completed`, `Error`, `OOMKilled`, `StartError` or `ContainerStatusUnknown`.
    pub reason: String,
    /// Details for a start error or a lost container.
    pub message: Option<String>,
    /// When the process started (the failed start's time for a start error).
    pub started_at: SystemTime,
    /// When the runtime saw it end.
    pub finished_at: SystemTime,
}

/// A container's state (`state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Not running: `ContainerCreating` before its first start, `CrashLoopBackOff`
    /// while a restart waits out its back-off.
    Waiting {
        /// `ContainerCreating` or `CrashLoopBackOff`.
        reason: &'static str,
        /// The back-off message, as the kubelet words it.
        message: Option<String>,
    },
    /// Its process runs.
    Running {
        /// When this run started.
        started_at: SystemTime,
    },
    /// Its last run ended and it will not be restarted.
    Terminated(Terminated),
}

/// One entry of `status.containerStatuses`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerStatus {
    /// The container's name.
    pub name: String,
    /// The image named in the spec.
    pub image: String,
    /// Its current state.
    pub state: ContainerState,
    /// How its previous run ended.
    pub last_state: Option<Terminated>,
    /// How many times it was restarted.
    pub restart_count: u32,
    /// The pid (and process group) of the running process.
    pub pid: Option<i32>,
}

/// `status.phase`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodPhase {
    /// Some container has not started yet.
    Pending,
    /// Containers run, or will be restarted.
    Running,
    /// Every container exited 0 and none will restart.
    Succeeded,
    /// Every container ended, some with a failure, and none will restart.
    Failed,
}

impl PodPhase {
    /// The phase as Kubernetes spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
        }
    }
}

/// A pod's status as the runtime sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodStatus {
    /// The phase.
    pub phase: PodPhase,
    /// One status per container, in spec order.
    pub containers: Vec<ContainerStatus>,
    /// Whether the pod is being terminated.
    pub terminating: bool,
}

impl PodStatus {
    /// The status as Kubernetes JSON: `phase`, `containerStatuses` and the `Ready` and
    /// `ContainersReady` conditions.
    pub fn to_json(&self) -> Value {
        let all_running = self
            .containers
            .iter()
            .all(|c| matches!(c.state, ContainerState::Running { .. }));
        let ready = if all_running && !self.terminating {
            "True"
        } else {
            "False"
        };
        json!({
            "phase": self.phase.as_str(),
            "conditions": [
                {"type": "ContainersReady", "status": ready},
                {"type": "Ready", "status": ready},
            ],
            "containerStatuses": self.containers.iter().map(ContainerStatus::to_json).collect::<Vec<_>>(),
        })
    }
}

/// RFC 3339 with second precision, as Kubernetes' `metav1.Time`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl Terminated {
    fn to_json(&self) -> Value {
        let mut t = json!({
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": rfc3339(self.started_at),
            "finishedAt": rfc3339(self.finished_at),
        });
        if let Some(s) = self.signal {
            t["signal"] = json!(s);
        }
        if let Some(m) = &self.message {
            t["message"] = json!(m);
        }
        json!({ "terminated": t })
    }
}

impl ContainerStatus {
    fn to_json(&self) -> Value {
        let state = match &self.state {
            ContainerState::Waiting { reason, message } => {
                let mut w = json!({ "reason": reason });
                if let Some(m) = message {
                    w["message"] = json!(m);
                }
                json!({ "waiting": w })
            }
            ContainerState::Running { started_at } => {
                json!({ "running": { "startedAt": rfc3339(*started_at) } })
            }
            ContainerState::Terminated(t) => t.to_json(),
        };
        let running = matches!(self.state, ContainerState::Running { .. });
        let mut s = json!({
            "name": self.name,
            "image": self.image,
            "imageID": "",
            "state": state,
            "lastState": self.last_state.as_ref().map_or(json!({}), Terminated::to_json),
            "ready": running,
            "started": running,
            "restartCount": self.restart_count,
        });
        if let Some(pid) = self.pid {
            s["containerID"] = json!(format!("schedlab://{pid}"));
        }
        s
    }
}

/// What went wrong opening the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The root or state directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// What one tick did that the caller may act on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Pods whose termination finished: their processes are gone and the runtime forgot
    /// them (the agent then deletes the pod object).
    pub removed: Vec<String>,
    /// Pods whose status changed.
    pub changed: Vec<String>,
}

/// A process the runtime watches.
#[derive(Debug)]
enum Proc {
    /// Started by this runtime: `try_wait` gives its exit status.
    Child(Child),
    /// Found alive on open: only its liveness can be seen.
    Adopted,
    /// Recorded by the previous agent, gone when this one opened.
    Lost,
}

#[derive(Debug)]
struct Running {
    proc: Proc,
    pid: i32,
    /// Field 22 of /proc/PID/stat, which tells the process from a later one with its pid.
    start_ticks: u64,
    started_at: SystemTime,
    /// When SIGKILL follows the SIGTERM already sent.
    kill_at: Option<SystemTime>,
    /// The cgroup's OOM kill count when this run started.
    oom_base: u64,
    /// Killed by the sampler for exceeding its memory limit.
    sampled_oom: bool,
}

#[derive(Debug)]
enum State {
    Waiting {
        reason: &'static str,
        message: Option<String>,
        /// The back-off's end; `None` starts at the next tick.
        until: Option<SystemTime>,
    },
    Running(Running),
    Terminated(Terminated),
}

#[derive(Debug)]
struct Container {
    spec: ContainerSpec,
    state: State,
    last: Option<Terminated>,
    restart_count: u32,
    /// Crashes in a row, none more than `reset_after` after the one before.
    consecutive: u32,
    /// When the last crash that led to a restart happened.
    last_crash: Option<SystemTime>,
    cgroup: Option<ContainerCgroup>,
}

#[derive(Debug)]
struct Pod {
    spec: PodSpec,
    containers: Vec<Container>,
    /// Termination was asked for; the grace period of the SIGTERMs sent.
    stopping: Option<Duration>,
}

/// The record of one container in `ROOT/state/pods.json`: its running process if it has
/// one, and what a new agent needs to carry its status on.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct ContainerRecord {
    name: String,
    /// The running process, if any.
    process: Option<ProcessRecord>,
    restart_count: u32,
    consecutive: u32,
    last_crash: Option<SystemTime>,
    cgroup: Option<ContainerCgroup>,
    /// `lastState`.
    last: Option<Terminated>,
    /// The final state of a container that will not run again.
    terminated: Option<Terminated>,
}

/// A running container's process.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct ProcessRecord {
    pid: i32,
    start_ticks: u64,
    started_at: SystemTime,
    oom_base: u64,
    /// Set on open when the process is no longer there.
    #[serde(skip)]
    lost: bool,
}

/// The record of one pod's processes.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct PodRecord {
    uid: String,
    namespace: String,
    name: String,
    containers: Vec<ContainerRecord>,
}

/// The node agent's process runtime. See the module documentation.
#[derive(Debug)]
pub struct Runtime {
    root: PathBuf,
    backoff: BackoffPolicy,
    cgroups: Option<Cgroups>,
    pods: BTreeMap<String, Pod>,
    /// Processes found alive on open, by pod uid, not yet adopted or killed.
    recovered: BTreeMap<String, PodRecord>,
    /// Cgroup directories that still had processes when their pod went away.
    leftover_cgroups: Vec<ContainerCgroup>,
}

impl Runtime {
    /// Opens the runtime on its root: creates the directories, finds the enforcement path
    /// and reads the processes a previous agent recorded.
    pub fn open(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RuntimeError::Io { path, source }
        };
        for dir in [config.root.join("pods"), config.root.join("state")] {
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        let cgroups = match config.enforcement {
            EnforcementChoice::Auto => Cgroups::detect(),
            EnforcementChoice::Sampling => None,
        };
        let state_file = config.root.join("state").join("pods.json");
        let records: Vec<PodRecord> = match fs::read(&state_file) {
            // A state file that does not parse is as good as none: its processes cannot be
            // found, and a fresh agent starts over.
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io_err(&state_file)(e)),
        };
        let mut recovered = BTreeMap::new();
        for mut rec in records {
            for c in &mut rec.containers {
                if let Some(p) = &mut c.process {
                    p.lost = start_ticks(p.pid) != Some(p.start_ticks);
                }
            }
            recovered.insert(rec.uid.clone(), rec);
        }
        Ok(Runtime {
            root: config.root,
            backoff: config.backoff,
            cgroups,
            pods: BTreeMap::new(),
            recovered,
            leftover_cgroups: Vec::new(),
        })
    }

    /// The enforcement path in use.
    pub fn enforcement(&self) -> Enforcement {
        self.cgroups
            .as_ref()
            .map_or(Enforcement::Sampling, Cgroups::kind)
    }

    /// The agent's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the runtime runs (or is terminating) the pod.
    pub fn has_pod(&self, uid: &str) -> bool {
        self.pods.contains_key(uid)
    }

    /// Whether a previous agent left processes of the pod that are not adopted yet.
    pub fn has_recovered(&self, uid: &str) -> bool {
        self.recovered.contains_key(uid)
    }

    /// The uids of the pods the runtime holds, in order.
    pub fn pod_uids(&self) -> Vec<String> {
        self.pods.keys().cloned().collect()
    }

    /// Finds a pod's uid by namespace and name.
    pub fn find_pod(&self, namespace: &str, name: &str) -> Option<&str> {
        self.pods
            .values()
            .find(|p| p.spec.namespace == namespace && p.spec.name == name)
            .map(|p| p.spec.uid.as_str())
    }

    /// Takes a pod to run. Its containers start at the next tick, except those a
    /// previous agent on this root recorded: a process still running is adopted, one that
    /// ended meanwhile is reported lost (`ContainerStatusUnknown`) and follows the restart
    /// policy, a container that had ended keeps its final state, and restart counts carry
    /// on. A pod already held is left as it is (pod specs are immutable where the runtime
    /// looks).
    pub fn run_pod(&mut self, spec: PodSpec) {
        let now = SystemTime::now();
        if self.pods.contains_key(&spec.uid) {
            return;
        }
        let mut recovered = self.recovered.remove(&spec.uid);
        let containers = spec
            .containers
            .iter()
            .map(|c| {
                let rec = recovered.as_mut().and_then(|r| {
                    let i = r.containers.iter().position(|x| x.name == c.name)?;
                    Some(r.containers.remove(i))
                });
                let mut container = Container {
                    spec: c.clone(),
                    state: State::Waiting {
                        reason: "ContainerCreating",
                        message: None,
                        until: None,
                    },
                    last: None,
                    restart_count: 0,
                    consecutive: 0,
                    last_crash: None,
                    cgroup: None,
                };
                if let Some(rec) = rec {
                    container.restart_count = rec.restart_count;
                    container.consecutive = rec.consecutive;
                    container.last_crash = rec.last_crash;
                    container.cgroup = rec.cgroup;
                    container.last = rec.last;
                    match (rec.process, rec.terminated) {
                        (Some(p), _) => {
                            container.state = State::Running(Running {
                                // One that ended meanwhile is seen ended by the first reap.
                                proc: if p.lost { Proc::Lost } else { Proc::Adopted },
                                pid: p.pid,
                                start_ticks: p.start_ticks,
                                started_at: p.started_at,
                                kill_at: None,
                                oom_base: p.oom_base,
                                sampled_oom: false,
                            });
                        }
                        (None, Some(t)) => container.state = State::Terminated(t),
                        // It was waiting out a back-off: it restarts at the next tick.
                        (None, None) if container.last.is_some() => {
                            container.state = State::Waiting {
                                reason: "CrashLoopBackOff",
                                message: None,
                                until: Some(now),
                            };
                        }
                        (None, None) => {}
                    }
                }
                container
            })
            .collect();
        // Recorded containers the spec no longer names are not the pod's any more.
        if let Some(rest) = recovered {
            for c in rest.containers {
                if let Some(p) = c.process.filter(|p| !p.lost) {
                    kill_group(p.pid, c.cgroup.as_ref(), rustix::process::Signal::KILL);
                }
                self.leftover_cgroups.extend(c.cgroup);
            }
        }
        self.pods.insert(
            spec.uid.clone(),
            Pod {
                spec,
                containers,
                stopping: None,
            },
        );
        self.save();
    }

    /// Kills the processes found on open that no pod claimed with [`Runtime::run_pod`]:
    /// the agent calls it once it knows every pod it should run.
    pub fn kill_unclaimed(&mut self) -> Vec<String> {
        let recovered = std::mem::take(&mut self.recovered);
        let mut killed = Vec::new();
        for (uid, rec) in recovered {
            for c in rec.containers {
                if let Some(p) = c.process.filter(|p| !p.lost) {
                    kill_group(p.pid, c.cgroup.as_ref(), rustix::process::Signal::KILL);
                }
                self.leftover_cgroups.extend(c.cgroup);
            }
            let _ = fs::remove_dir_all(logs::pod_dir(&self.root, &uid));
            if let Some(c) = &self.cgroups {
                c.remove_pod(&uid);
            }
            killed.push(uid);
        }
        self.save();
        killed
    }

    /// Starts terminating a pod: SIGTERM to each running container's process group now,
    /// SIGKILL once `grace` (the pod's own grace period if `None`) has passed. The pod is
    /// forgot by the first tick after its processes are gone. Asking again with a shorter
    /// grace shortens it, as a second `kubectl delete --grace-period` does.
    pub fn stop_pod(&mut self, uid: &str, grace: Option<Duration>, now: SystemTime) {
        let Some(pod) = self.pods.get_mut(uid) else {
            return;
        };
        let grace = grace.unwrap_or(pod.spec.grace);
        if pod.stopping.is_some_and(|g| g <= grace) {
            return;
        }
        pod.stopping = Some(grace);
        for c in &mut pod.containers {
            if let State::Running(r) = &mut c.state {
                if r.kill_at.is_none() {
                    kill_group(r.pid, c.cgroup.as_ref(), rustix::process::Signal::TERM);
                }
                r.kill_at = Some(now + grace);
            }
        }
    }

    /// One step: reaps exited processes, samples memory (sampling path), sends SIGKILL
    /// where a grace period ran out, starts containers whose back-off is over and forgets
    /// pods whose termination finished.
    pub fn tick(&mut self, now: SystemTime) -> TickReport {
        let mut report = TickReport::default();
        let sampling = self.cgroups.is_none();
        let rss = if sampling {
            let groups = self.sampled_groups();
            (!groups.is_empty()).then(|| rss_by_group(&groups))
        } else {
            None
        };
        let mut any_pid_change = false;
        for (uid, pod) in &mut self.pods {
            let mut changed = false;
            for c in &mut pod.containers {
                if let State::Running(r) = &mut c.state {
                    if let (Some(rss), Some(limit)) = (&rss, c.spec.memory_limit)
                        && !r.sampled_oom
                        && rss.get(&r.pid).copied().unwrap_or(0) > limit as u64
                    {
                        r.sampled_oom = true;
                        kill_group(r.pid, c.cgroup.as_ref(), rustix::process::Signal::KILL);
                    }
                    if r.kill_at.is_some_and(|t| now >= t) {
                        kill_group(r.pid, c.cgroup.as_ref(), rustix::process::Signal::KILL);
                    }
                }
                if let Some(ended) = reap(c, now) {
                    changed = true;
                    any_pid_change = true;
                    finish(c, ended, &pod.spec, pod.stopping, &self.backoff, now);
                }
                if pod.stopping.is_none()
                    && let State::Waiting { until, .. } = &c.state
                    && until.is_none_or(|t| now >= t)
                {
                    changed = true;
                    any_pid_change = true;
                    let is_restart = c.last.is_some();
                    match start(&self.root, self.cgroups.as_ref(), &pod.spec, c, now) {
                        Ok(run) => {
                            if is_restart {
                                c.restart_count += 1;
                            }
                            c.state = State::Running(run);
                        }
                        Err(message) => {
                            let ended = Terminated {
                                exit_code: 128,
                                signal: None,
                                reason: "StartError".to_string(),
                                message: Some(message),
                                started_at: now,
                                finished_at: now,
                            };
                            if is_restart {
                                c.restart_count += 1;
                            }
                            finish(c, ended, &pod.spec, None, &self.backoff, now);
                        }
                    }
                }
            }
            if changed {
                report.changed.push(uid.clone());
            }
        }
        let done: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, p)| {
                p.stopping.is_some()
                    && !p
                        .containers
                        .iter()
                        .any(|c| matches!(c.state, State::Running(_)))
            })
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in &done {
            let pod = self.pods.remove(uid).expect("listed above");
            for c in pod.containers {
                if let Some(cg) = c.cgroup
                    && !cg.remove()
                {
                    self.leftover_cgroups.push(cg);
                }
            }
            if let Some(c) = &self.cgroups {
                c.remove_pod(uid);
            }
            let _ = fs::remove_dir_all(logs::pod_dir(&self.root, uid));
        }
        self.leftover_cgroups.retain(|cg| !cg.remove());
        report.removed = done;
        if any_pid_change || !report.removed.is_empty() {
            self.save();
        }
        report
    }

    /// A pod's status.
    pub fn pod_status(&self, uid: &str) -> Option<PodStatus> {
        let pod = self.pods.get(uid)?;
        let containers: Vec<ContainerStatus> = pod
            .containers
            .iter()
            .map(|c| ContainerStatus {
                name: c.spec.name.clone(),
                image: c.spec.image.clone(),
                state: match &c.state {
                    State::Waiting {
                        reason, message, ..
                    } => ContainerState::Waiting {
                        reason,
                        message: message.clone(),
                    },
                    State::Running(r) => ContainerState::Running {
                        started_at: r.started_at,
                    },
                    State::Terminated(t) => ContainerState::Terminated(t.clone()),
                },
                last_state: c.last.clone(),
                restart_count: c.restart_count,
                pid: match &c.state {
                    State::Running(r) => Some(r.pid),
                    _ => None,
                },
            })
            .collect();
        Some(PodStatus {
            phase: phase(pod.spec.restart_policy, &containers),
            containers,
            terminating: pod.stopping.is_some(),
        })
    }

    /// The cgroup directories of a container, empty on the sampling path.
    pub fn container_cgroup(&self, uid: &str, container: &str) -> Vec<PathBuf> {
        self.pods
            .get(uid)
            .and_then(|p| p.containers.iter().find(|c| c.spec.name == container))
            .and_then(|c| c.cgroup.as_ref())
            .map_or_else(Vec::new, |cg| cg.dirs.clone())
    }

    /// Kills every process and forgets every pod at once (SIGKILL, no grace): for tests
    /// and for an agent told to drain immediately.
    pub fn kill_all(&mut self) {
        for pod in self.pods.values_mut() {
            pod.stopping = Some(Duration::ZERO);
            for c in &mut pod.containers {
                if let State::Running(r) = &mut c.state {
                    kill_group(r.pid, c.cgroup.as_ref(), rustix::process::Signal::KILL);
                    if let Proc::Child(child) = &mut r.proc {
                        let _ = child.wait();
                    }
                }
            }
        }
        self.kill_unclaimed();
        let deadline = SystemTime::now() + Duration::from_secs(5);
        loop {
            self.tick(SystemTime::now());
            let done = self.pods.is_empty() && self.leftover_cgroups.is_empty();
            if done || SystemTime::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process groups of the running containers that have a memory limit.
    fn sampled_groups(&self) -> std::collections::BTreeSet<i32> {
        self.pods
            .values()
            .flat_map(|p| &p.containers)
            .filter(|c| c.spec.memory_limit.is_some())
            .filter_map(|c| match &c.state {
                State::Running(r) => Some(r.pid),
                _ => None,
            })
            .collect()
    }

    /// Writes the running processes to `ROOT/state/pods.json` (via a temporary file and a
    /// rename, so a crash leaves the old or the new record, never half of one). Recovered
    /// processes not yet claimed stay recorded.
    fn save(&self) {
        let mut records: Vec<PodRecord> = self.recovered.values().cloned().collect();
        for pod in self.pods.values() {
            let containers = pod
                .containers
                .iter()
                .map(|c| ContainerRecord {
                    name: c.spec.name.clone(),
                    process: match &c.state {
                        State::Running(r) => Some(ProcessRecord {
                            pid: r.pid,
                            start_ticks: r.start_ticks,
                            started_at: r.started_at,
                            oom_base: r.oom_base,
                            lost: false,
                        }),
                        _ => None,
                    },
                    restart_count: c.restart_count,
                    consecutive: c.consecutive,
                    last_crash: c.last_crash,
                    cgroup: c.cgroup.clone(),
                    last: c.last.clone(),
                    terminated: match &c.state {
                        State::Terminated(t) => Some(t.clone()),
                        _ => None,
                    },
                })
                .collect();
            records.push(PodRecord {
                uid: pod.spec.uid.clone(),
                namespace: pod.spec.namespace.clone(),
                name: pod.spec.name.clone(),
                containers,
            });
        }
        let dir = self.root.join("state");
        let tmp = dir.join("pods.json.tmp");
        let body = serde_json::to_vec_pretty(&records).expect("records serialize");
        // A failed write keeps the previous record; the next change writes again.
        if fs::write(&tmp, body).is_ok() {
            let _ = fs::rename(&tmp, dir.join("pods.json"));
        }
    }
}

/// Kills every process an agent that is no longer running recorded under `root`, as a
/// node's failure ends its pods (an agent's own exit leaves them running, to be adopted).
/// Tests that kill an agent to play a node failure call it; it returns the pods' uids.
pub fn kill_recorded(root: &Path) -> Result<Vec<String>, RuntimeError> {
    let mut rt = Runtime::open(RuntimeConfig {
        enforcement: EnforcementChoice::Sampling,
        ..RuntimeConfig::new(root)
    })?;
    let uids: Vec<String> = rt.recovered.keys().cloned().collect();
    // Removes the cgroups too, waiting (a few seconds at most) for the processes to go.
    rt.kill_all();
    Ok(uids)
}

/// The phase by the kubelet's `getPhase` rules (no init containers): a container waiting
/// for its first start keeps the pod Pending; one waiting to be restarted counts as
/// stopped.
fn phase(policy: RestartPolicy, containers: &[ContainerStatus]) -> PodPhase {
    let (mut waiting, mut running, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for c in containers {
        match &c.state {
            ContainerState::Running { .. } => running += 1,
            ContainerState::Terminated(t) => {
                stopped += 1;
                if t.exit_code == 0 {
                    succeeded += 1;
                }
            }
            ContainerState::Waiting { .. } if c.last_state.is_some() => stopped += 1,
            ContainerState::Waiting { .. } => waiting += 1,
        }
    }
    if waiting > 0 {
        PodPhase::Pending
    } else if running > 0 {
        PodPhase::Running
    } else if stopped > 0 {
        if policy == RestartPolicy::Always {
            PodPhase::Running
        } else if stopped == succeeded {
            PodPhase::Succeeded
        } else if policy == RestartPolicy::Never {
            PodPhase::Failed
        } else {
            PodPhase::Running
        }
    } else {
        PodPhase::Pending
    }
}

/// Checks a running container's process; returns how it ended if it did.
fn reap(c: &mut Container, now: SystemTime) -> Option<Terminated> {
    let State::Running(r) = &mut c.state else {
        return None;
    };
    let (exit_code, signal) = match &mut r.proc {
        Proc::Child(child) => match child.try_wait() {
            Ok(Some(status)) => match (status.code(), status.signal()) {
                (Some(code), _) => (code, None),
                (None, Some(sig)) => (128 + sig, Some(sig)),
                (None, None) => (255, None),
            },
            Ok(None) => return None,
            Err(_) => (255, None),
        },
        Proc::Adopted => {
            if start_ticks(r.pid) == Some(r.start_ticks) {
                return None;
            }
            (137, None)
        }
        Proc::Lost => (137, None),
    };
    let adopted = !matches!(r.proc, Proc::Child(_));
    // The container ends with its main process: what is left of its group and cgroup
    // goes too, as a container's processes do when its init exits. The group of a process
    // that was not this runtime's child is left alone: its pid may be another's by now.
    let group = if adopted { 0 } else { r.pid };
    kill_group(group, c.cgroup.as_ref(), rustix::process::Signal::KILL);
    let oom = r.sampled_oom
        || c.cgroup
            .as_ref()
            .is_some_and(|cg| cg.oom_kills() > r.oom_base);
    let (reason, message) = if oom {
        ("OOMKilled", None)
    } else if adopted {
        (
            "ContainerStatusUnknown",
            Some("The container exited while the agent that started it was not running; its exit code is unknown".to_string()),
        )
    } else if exit_code == 0 {
        ("Completed", None)
    } else {
        ("Error", None)
    };
    Some(Terminated {
        exit_code: if oom && exit_code == 0 {
            137
        } else {
            exit_code
        },
        signal,
        reason: reason.to_string(),
        message,
        started_at: r.started_at,
        finished_at: now,
    })
}

/// Moves a container whose run ended to CrashLoopBackOff or Terminated.
fn finish(
    c: &mut Container,
    ended: Terminated,
    pod: &PodSpec,
    stopping: Option<Duration>,
    backoff: &BackoffPolicy,
    now: SystemTime,
) {
    let restart = stopping.is_none()
        && match pod.restart_policy {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => ended.exit_code != 0,
            RestartPolicy::Never => false,
        };
    if !restart {
        c.state = State::Terminated(ended);
        return;
    }
    // The kubelet's flowcontrol.Backoff keyed by container: a crash within `reset_after`
    // of the previous one doubles the delay, a later one starts over.
    let finished = ended.finished_at;
    c.consecutive = match c.last_crash {
        Some(t) if finished.duration_since(t).unwrap_or_default() <= backoff.reset_after => {
            c.consecutive + 1
        }
        _ => 1,
    };
    c.last_crash = Some(finished);
    let delay = backoff.delay(c.consecutive);
    c.state = if delay.is_zero() {
        // Restarted by this very tick (or the next, after a failed start).
        State::Waiting {
            reason: "ContainerCreating",
            message: None,
            until: Some(now),
        }
    } else {
        State::Waiting {
            reason: "CrashLoopBackOff",
            message: Some(format!(
                "back-off {} restarting failed container={} pod={}_{}({})",
                go_duration(delay),
                c.spec.name,
                pod.name,
                pod.namespace,
                pod.uid,
            )),
            until: Some(now + delay),
        }
    };
    c.last = Some(ended);
}

/// A duration as Go's `time.Duration.String` writes it (`100ms`, `10s`, `2m40s`, `5m0s`),
/// since the back-off message is the kubelet's.
pub fn go_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros == 0 {
        return "0s".to_string();
    }
    if micros < 1_000_000 {
        return if micros.is_multiple_of(1000) {
            format!("{}ms", micros / 1000)
        } else {
            format!("{}µs", micros)
        };
    }
    let secs = d.as_secs();
    let frac = d.subsec_micros();
    let mut s_part = (secs % 60).to_string();
    if frac > 0 {
        let f = format!("{frac:06}");
        s_part = format!("{s_part}.{}", f.trim_end_matches('0'));
    }
    let (h, m) = (secs / 3600, secs / 60 % 60);
    if h > 0 {
        format!("{h}h{m}m{s_part}s")
    } else if m > 0 {
        format!("{m}m{s_part}s")
    } else {
        format!("{s_part}s")
    }
}

/// Spawns a container's process: own process group, cgroup joined before exec, log file
/// for stdout and stderr.
fn start(
    root: &Path,
    cgroups: Option<&Cgroups>,
    pod: &PodSpec,
    c: &mut Container,
    now: SystemTime,
) -> Result<Running, String> {
    let Some((program, args)) = c.spec.argv.split_first() else {
        return Err(
            "container has no command: images are not run, so command (or args) must name the program"
                .to_string(),
        );
    };
    if c.cgroup.is_none()
        && let Some(cg) = cgroups
    {
        c.cgroup = Some(
            cg.create(
                &pod.uid,
                &c.spec.name,
                c.spec.memory_limit,
                c.spec.cpu_limit,
            )
            .map_err(|e| format!("creating the container's cgroup: {e}"))?,
        );
    }
    let (out, err) = logs::open_for_append(root, &pod.uid, &c.spec.name)
        .map_err(|e| format!("opening the log file: {e}"))?;
    let mut cmd = Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("HOSTNAME", &pod.name)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in &c.spec.env {
        cmd.env(k, v);
    }
    let dir = c
        .spec
        .working_dir
        .clone()
        .unwrap_or_else(|| logs::pod_dir(root, &pod.uid));
    cmd.current_dir(dir);
    let oom_base = c.cgroup.as_ref().map_or(0, ContainerCgroup::oom_kills);
    if let Some(cg) = &c.cgroup {
        let files: Vec<File> = cg
            .procs_files()
            .iter()
            .map(|p| OpenOptions::new().write(true).open(p))
            .collect::<io::Result<_>>()
            .map_err(|e| format!("opening the container's cgroup: {e}"))?;
        // SAFETY: the closure runs in the forked child before exec and only calls write(2)
        // on descriptors opened above (no allocation, no locks). Writing "0" to
        // cgroup.procs moves the writing process, so the container is limited before its
        // program's first instruction.
        unsafe {
            cmd.pre_exec(move || {
                for f in &files {
                    rustix::io::write(f, b"0")?;
                }
                Ok(())
            });
        }
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("starting {program:?}: {e}"))?;
    let pid = child.id() as i32;
    Ok(Running {
        proc: Proc::Child(child),
        pid,
        start_ticks: start_ticks(pid).unwrap_or(0),
        started_at: now,
        kill_at: None,
        oom_base,
        sampled_oom: false,
    })
}

/// Sends `sig` to a container's process group and to every process left in its cgroup
/// (a process that made its own group or session is still there).
/// A `pid` of 0 signals the cgroup only.
fn kill_group(pid: i32, cgroup: Option<&ContainerCgroup>, sig: rustix::process::Signal) {
    if let Some(p) = rustix::process::Pid::from_raw(pid).filter(|_| pid > 0) {
        let _ = rustix::process::kill_process_group(p, sig);
    }
    if let Some(cg) = cgroup {
        for other in cg.pids() {
            if let Some(p) = rustix::process::Pid::from_raw(other) {
                let _ = rustix::process::kill_process(p, sig);
            }
        }
    }
}

/// The fields of /proc/PID/stat after the command name (field 3, the state, first).
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_string).collect())
}

/// A live process's start time (field 22 of /proc/PID/stat); `None` for a missing or
/// zombie process.
fn start_ticks(pid: i32) -> Option<u64> {
    let f = stat_fields(pid)?;
    if f.first().map(String::as_str) == Some("Z") {
        return None;
    }
    f.get(19)?.parse().ok()
}

/// The resident memory of the given process groups, in bytes: the `VmRSS` (from
/// /proc/PID/status) of every process whose group (field 5 of /proc/PID/stat) is one of
/// them. Only the members' status files are read.
fn rss_by_group(wanted: &std::collections::BTreeSet<i32>) -> BTreeMap<i32, u64> {
    let mut groups = BTreeMap::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return groups;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Some(pgrp) = stat_fields(pid).and_then(|f| f.get(2)?.parse::<i32>().ok()) else {
            continue;
        };
        if !wanted.contains(&pgrp) {
            continue;
        }
        let rss_kb = fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("VmRSS:")
                        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                })
            })
            .unwrap_or(0);
        *groups.entry(pgrp).or_insert(0) += rss_kb * 1024;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn expansion_follows_kubernetes() {
        // Rows of TestExpand in kubernetes' third_party/forked/golang/expansion/
        // expand_test.go, by their names there.
        let env = vec![
            ("VAR_A".to_string(), "A".to_string()),
            ("VAR_B".to_string(), "B".to_string()),
            ("VAR_C".to_string(), "C".to_string()),
            ("VAR_REF".to_string(), "$(VAR_A)".to_string()),
            ("VAR_EMPTY".to_string(), String::new()),
        ];
        let cases = [
            ("whole string", "$(VAR_A)", "A"),
            ("middle", "___$(VAR_B)___", "___B___"),
            ("compound", "$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"),
            ("escape & expand", "$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"),
            ("mixed in escapes", "f000-$$VAR_A", "f000-$VAR_A"),
            ("backslash escape ignored", "foo\\$(VAR_C)bar", "foo\\Cbar"),
            (
                "nested var references",
                "$(VAR_A$(VAR_B))",
                "$(VAR_A$(VAR_B))",
            ),
            ("value is a reference", "$(VAR_REF)", "$(VAR_A)"),
            ("empty var", "foo$(VAR_EMPTY)bar", "foobar"),
            (
                "unterminated expression",
                "foo$(VAR_Awhoops!",
                "foo$(VAR_Awhoops!",
            ),
            ("shell special vars pass through", "$?_boo_$!", "$?_boo_$!"),
            ("bare operators are ignored", "$VAR_A", "$VAR_A"),
            (
                "undefined vars are passed through",
                "$(VAR_DNE)",
                "$(VAR_DNE)",
            ),
            (
                "multiple (odd) operators, var defined",
                "$$$$$$$(VAR_A)",
                "$$$A",
            ),
            ("shell syntax ignored", "${VAR_A}", "${VAR_A}"),
            (
                "trailing incomplete expression not consumed",
                "$(VAR_B)_______$(A",
                "B_______$(A",
            ),
            (
                "operator at end of input string is preserved",
                "$(VAR_A)foobarzab$",
                "Afoobarzab$",
            ),
            ("lots of $( in middle", "--$($($($($--", "--$($($($($--"),
        ];
        for (name, input, want) in cases {
            assert_eq!(expand(input, &env), want, "{name}");
        }
    }

    #[test]
    fn env_values_refer_to_earlier_entries_and_pod_fields() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u", "labels": {"app": "web"}},
            "spec": {"nodeName": "n1", "containers": [{
                "name": "c",
                "command": ["echo", "$(GREETING)"],
                "env": [
                    {"name": "WHO", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "GREETING", "value": "hello $(WHO) on $(NODE)"},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                    {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
                    {"name": "SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                ]
            }]}
        });
        let spec = PodSpec::from_object(&pod).unwrap();
        let c = &spec.containers[0];
        // NODE comes after GREETING, so GREETING keeps the reference as written.
        assert_eq!(c.argv, ["echo", "hello p on $(NODE)"]);
        let env: Vec<(&str, &str)> = c
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            env,
            [
                ("WHO", "p"),
                ("GREETING", "hello p on $(NODE)"),
                ("NODE", "n1"),
                ("APP", "web")
            ]
        );
    }

    #[test]
    fn durations_print_as_go_does() {
        let d = |ms: u64| go_duration(Duration::from_millis(ms));
        assert_eq!(
            [
                d(0),
                d(100),
                d(10_000),
                d(160_000),
                d(300_000),
                d(1_500),
                d(3_600_000)
            ],
            ["0s", "100ms", "10s", "2m40s", "5m0s", "1.5s", "1h0m0s"]
        );
    }

    #[test]
    fn backoff_doubles_from_10s_to_300s() {
        let b = BackoffPolicy::KUBELET;
        let secs: Vec<u64> = (1..=8).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(secs, [0, 10, 20, 40, 80, 160, 300, 300]);
        assert_eq!(b.delay(1000), Duration::from_secs(300));
        let fast = BackoffPolicy::scaled(Duration::from_millis(100));
        assert_eq!(fast.max, Duration::from_secs(3));
        assert_eq!(fast.reset_after, Duration::from_secs(6));
        assert_eq!(fast.delay(4), Duration::from_millis(400));
    }

    #[test]
    fn the_back_off_starts_over_after_ten_minutes_without_a_crash() {
        let pod = PodSpec {
            uid: "u".into(),
            namespace: "ns".into(),
            name: "p".into(),
            restart_policy: RestartPolicy::Always,
            grace: Duration::from_secs(30),
            containers: Vec::new(),
        };
        let mut c = Container {
            spec: ContainerSpec {
                name: "c".into(),
                image: String::new(),
                argv: Vec::new(),
                env: Vec::new(),
                working_dir: None,
                memory_limit: None,
                cpu_limit: None,
            },
            state: State::Waiting {
                reason: "ContainerCreating",
                message: None,
                until: None,
            },
            last: None,
            restart_count: 0,
            consecutive: 0,
            last_crash: None,
            cgroup: None,
        };
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut crash = |at: u64| {
            let at = t0 + Duration::from_secs(at);
            let mut ended = term(1);
            ended.finished_at = at;
            finish(&mut c, ended, &pod, None, &BackoffPolicy::KUBELET, at);
            match &c.state {
                State::Waiting { until, .. } => {
                    until.unwrap().duration_since(at).unwrap().as_secs()
                }
                other => panic!("{other:?}"),
            }
        };
        // At once, then 10 s, 20 s while crashes come within 600 s of each other.
        assert_eq!([crash(0), crash(5), crash(30), crash(100)], [0, 10, 20, 40]);
        // 600 s after the last crash is still "in a row"; 601 s is not.
        assert_eq!(crash(700), 80);
        assert_eq!([crash(1301), crash(1302)], [0, 10]);
    }

    fn status(state: ContainerState, last: bool) -> ContainerStatus {
        ContainerStatus {
            name: "c".into(),
            image: String::new(),
            state,
            last_state: last.then(|| term(1)),
            restart_count: 0,
            pid: None,
        }
    }

    fn term(code: i32) -> Terminated {
        Terminated {
            exit_code: code,
            signal: None,
            reason: if code == 0 { "Completed" } else { "Error" }.into(),
            message: None,
            started_at: UNIX_EPOCH,
            finished_at: UNIX_EPOCH,
        }
    }

    #[test]
    fn phase_follows_the_kubelets_get_phase() {
        use RestartPolicy::*;
        let creating = ContainerState::Waiting {
            reason: "ContainerCreating",
            message: None,
        };
        let backoff = ContainerState::Waiting {
            reason: "CrashLoopBackOff",
            message: None,
        };
        let running = ContainerState::Running {
            started_at: UNIX_EPOCH,
        };
        let ok = ContainerState::Terminated(term(0));
        let failed = ContainerState::Terminated(term(3));
        let p = |policy, cs: Vec<ContainerStatus>| phase(policy, &cs);
        assert_eq!(
            p(Always, vec![status(creating.clone(), false)]),
            PodPhase::Pending
        );
        assert_eq!(
            p(
                Always,
                vec![status(running.clone(), false), status(creating, false)]
            ),
            PodPhase::Pending
        );
        assert_eq!(
            p(Always, vec![status(backoff.clone(), true)]),
            PodPhase::Running
        );
        assert_eq!(p(OnFailure, vec![status(backoff, true)]), PodPhase::Running);
        assert_eq!(
            p(Never, vec![status(ok.clone(), false)]),
            PodPhase::Succeeded
        );
        assert_eq!(
            p(OnFailure, vec![status(ok.clone(), false)]),
            PodPhase::Succeeded
        );
        assert_eq!(
            p(
                Never,
                vec![status(ok, false), status(failed.clone(), false)]
            ),
            PodPhase::Failed
        );
        assert_eq!(
            p(Never, vec![status(running, false), status(failed, false)]),
            PodPhase::Running
        );
    }

    #[test]
    fn spec_reads_command_args_env_and_limits() {
        let pod = json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {
                "restartPolicy": "OnFailure",
                "terminationGracePeriodSeconds": 2,
                "containers": [{
                    "name": "c", "image": "busybox",
                    "command": ["sh", "-c"], "args": ["echo $A"],
                    "env": [{"name": "A", "value": "1"}, {"name": "B", "valueFrom": {}}],
                    "workingDir": "/tmp",
                    "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}}
                }]
            }
        });
        let spec = PodSpec::from_object(&pod).unwrap();
        assert_eq!(spec.restart_policy, RestartPolicy::OnFailure);
        assert_eq!(spec.grace, Duration::from_secs(2));
        let c = &spec.containers[0];
        assert_eq!(c.argv, ["sh", "-c", "echo $A"]);
        assert_eq!(c.env, [("A".to_string(), "1".to_string())]);
        assert_eq!(c.memory_limit, Some(64 << 20));
        assert_eq!(c.cpu_limit, Some(500));
        let mut bad = pod.clone();
        bad["spec"]["containers"][0]["resources"]["limits"]["memory"] = json!("lots");
        let e = PodSpec::from_object(&bad).unwrap_err();
        assert_eq!(e.field, "spec.containers[0].resources.limits.memory");
        assert_eq!(e.pod, "ns/p");
    }
}
