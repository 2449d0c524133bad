//! Test fixtures: objects as the server would store them, and `World`, an in-memory store
//! that applies actions the way the control plane's loop does (uids, resourceVersions,
//! 409 on a stale write, immediate deletion).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Action, Config, SECOND, Snapshot, Time, name, namespace, reconcile_all, rfc3339};

/// The harness's epoch: 2027-01-15T08:00:00Z.
pub const BASE: Time = 1_800_000_000 * SECOND;

/// The names of the objects `actions` create, in order.
pub fn creates(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Create { object } => Some(name(object).to_string()),
            _ => None,
        })
        .collect()
}

/// `BASE` plus whole seconds.
pub fn t(seconds: i64) -> Time {
    BASE + seconds * SECOND
}

/// Suffixes `bbbb0`, `bbbb1`, ... in order.
pub fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        let s = format!("bbbb{n}");
        n += 1;
        s
    }
}

fn template(app: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "main", "image": "busybox", "command": ["sleep", "1000"]}]},
    })
}

/// A stored ReplicaSet `name` (uid `uid-rs-NAME`, resourceVersion 7, generation 1).
pub fn rs(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name, "namespace": "default", "uid": format!("uid-rs-{name}"),
            "resourceVersion": "7", "generation": 1, "creationTimestamp": rfc3339(t(0)),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template(name),
        },
    })
}

/// A stored Deployment `name` (uid `uid-deploy-NAME`).
pub fn deployment(name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name, "namespace": "default", "uid": format!("uid-deploy-{name}"),
            "resourceVersion": "3", "generation": 1, "creationTimestamp": rfc3339(t(0)),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": template(name),
        },
    })
}

/// A stored Job `name` (uid `uid-job-NAME`).
pub fn job(name: &str, completions: Option<i64>, parallelism: Option<i64>) -> Value {
    let mut j = json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name, "namespace": "default", "uid": format!("uid-job-{name}"),
            "resourceVersion": "5", "generation": 1, "creationTimestamp": rfc3339(t(0)),
        },
        "spec": {"template": template(name)},
    });
    j["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    if let Some(c) = completions {
        j["spec"]["completions"] = json!(c);
    }
    if let Some(p) = parallelism {
        j["spec"]["parallelism"] = json!(p);
    }
    j
}

/// A stored pod owned by `owner`, created at t(0); when `ready`, Ready since t(0).
pub fn pod(name: &str, owner: &Value, node: Option<&str>, phase: &str, ready: bool) -> Value {
    let mut p = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name, "namespace": "default", "uid": format!("uid-pod-{name}"),
            "resourceVersion": "9", "creationTimestamp": rfc3339(t(0)),
            "ownerReferences": [super::owner_ref(owner)],
            "labels": owner["spec"]["template"]["metadata"]["labels"],
        },
        "spec": {"containers": [{"name": "main"}]},
        "status": {"phase": phase, "conditions": [{
            "type": "Ready", "status": if ready { "True" } else { "False" },
            "lastTransitionTime": rfc3339(t(0)),
        }]},
    });
    if let Some(n) = node {
        p["spec"]["nodeName"] = json!(n);
    }
    p
}

/// A stored Ready node `name`, created at t(0).
pub fn node(name: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name, "uid": format!("uid-node-{name}"), "resourceVersion": "2",
            "creationTimestamp": rfc3339(t(0)),
        },
        "spec": {},
        "status": {"conditions": [{
            "type": "Ready", "status": "True", "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": rfc3339(t(0)), "lastTransitionTime": rfc3339(t(0)),
        }]},
    })
}

/// An in-memory store that applies actions as the control plane's loop does.
#[derive(Debug, Default)]
pub struct World {
    /// Objects by (kind, namespace, name).
    pub objects: BTreeMap<(String, String, String), Value>,
    /// Events recorded, as (reason, message).
    pub events: Vec<(String, String)>,
    /// Writes refused for a stale resourceVersion.
    pub conflicts: usize,
    next_rv: u64,
}

fn key(o: &Value) -> (String, String, String) {
    let kind = o["kind"].as_str().unwrap_or("").to_string();
    let ns = if kind == "Node" {
        String::new()
    } else {
        namespace(o).to_string()
    };
    (kind, ns, name(o).to_string())
}

impl World {
    /// Stores an object as given.
    pub fn put(&mut self, o: Value) {
        self.objects.insert(key(&o), o);
    }

    /// The stored object, if any.
    pub fn get(&self, kind: &str, ns: &str, n: &str) -> Option<&Value> {
        self.objects
            .get(&(kind.to_string(), ns.to_string(), n.to_string()))
    }

    /// Every stored object of a kind, in key order.
    pub fn all(&self, kind: &str) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|(k, _)| k.0 == kind)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The store as one listing.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            nodes: self.all("Node"),
            pods: self.all("Pod"),
            replicasets: self.all("ReplicaSet"),
            deployments: self.all("Deployment"),
            jobs: self.all("Job"),
        }
    }

    fn bump(&mut self) -> String {
        self.next_rv += 1;
        (1000 + self.next_rv).to_string()
    }

    /// Applies actions in order, as the server would.
    pub fn apply(&mut self, actions: Vec<Action>, now: Time) {
        for a in actions {
            match a {
                Action::Create { mut object } => {
                    let k = key(&object);
                    if self.objects.contains_key(&k) {
                        self.conflicts += 1;
                        continue;
                    }
                    let rv = self.bump();
                    let kind = k.0.to_lowercase();
                    object["metadata"]["uid"] = json!(format!("uid-{kind}-{}", k.2));
                    object["metadata"]["resourceVersion"] = json!(rv);
                    object["metadata"]["creationTimestamp"] = json!(rfc3339(now));
                    self.objects.insert(k, object);
                }
                Action::Update { mut object } | Action::UpdateStatus { mut object } => {
                    let k = key(&object);
                    let Some(stored) = self.objects.get(&k) else {
                        self.conflicts += 1;
                        continue;
                    };
                    if stored["metadata"]["resourceVersion"]
                        != object["metadata"]["resourceVersion"]
                    {
                        self.conflicts += 1;
                        continue;
                    }
                    object["metadata"]["resourceVersion"] = json!(self.bump());
                    self.objects.insert(k, object);
                }
                Action::Delete {
                    kind,
                    namespace,
                    name,
                    ..
                } => {
                    self.objects
                        .remove(&(kind, namespace.unwrap_or_default(), name));
                }
                Action::Event(e) => self.events.push((e.reason, e.message)),
            }
        }
    }

    /// One pass of every controller, applied.
    pub fn step(
        &mut self,
        heartbeats: &BTreeMap<String, Time>,
        now: Time,
        config: &Config,
        names: &mut dyn super::NameSuffix,
    ) {
        let actions = reconcile_all(&self.snapshot(), heartbeats, now, config, names);
        self.apply(actions, now);
    }

    /// Marks every pod bound to `node` Running and Ready since `now`, as an agent would.
    pub fn run_pods(&mut self, now: Time) {
        for o in self.objects.values_mut() {
            if o["kind"] == "Pod"
                && o["status"]["phase"].is_null()
                && !o["spec"]["nodeName"].is_null()
            {
                o["status"] = json!({"phase": "Running", "conditions": [{
                    "type": "Ready", "status": "True", "lastTransitionTime": rfc3339(now),
                }]});
            }
        }
    }
}
