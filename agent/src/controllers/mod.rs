//! The control plane's controllers as pure reconcile functions.
//!
//! Each controller reads Kubernetes objects as JSON (`serde_json::Value`, the store's
//! wire format) and the current time, and returns the [`Action`]s that move the cluster
//! toward what the objects ask for. Nothing here does I/O, sleeps or reads a clock: the
//! control plane's loop lists the objects, calls [`reconcile_all`] (or one controller),
//! applies the actions, and runs again. The controllers are level-triggered as upstream's
//! are: a write that fails (a 409 for a stale `resourceVersion`, a 404 for an object
//! deleted meanwhile) is dropped, and the next pass computes it again from fresh objects.
//!
//! Upstream keeps "expectations" so a controller does not create the same pods twice while
//! its informer cache lags behind its own writes. Here the loop lists after it applies,
//! so a pass always sees the previous pass's writes and no expectations are kept.
//!
//! Each controller writes an object at most once per pass, so the `resourceVersion` it
//! read is still current when the write arrives unless another writer got there first.
//!
//! - [`deployment`]: Deployment -> one ReplicaSet per pod-template hash.
//! - [`replicaset`]: ReplicaSet -> its pods.
//! - [`job`]: Job -> pods run to completion.
//! - [`node_lifecycle`]: heartbeats -> node conditions, taints, and taint-based eviction.
//! - [`gc`]: objects whose owners are gone are deleted (background propagation).

pub mod deployment;
pub mod gc;
pub mod job;
pub mod node_lifecycle;
pub mod replicaset;

#[cfg(test)]
mod harness;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schedulers::labels::{Labels, SelectorOperator, SelectorRequirement};
use serde_json::{Map, Value, json};

/// A point in time: microseconds since the Unix epoch (integer, so decisions are exact).
pub type Time = i64;

/// One second as a [`Time`] difference.
pub const SECOND: Time = 1_000_000;

/// Formats a time as Kubernetes' `metav1.Time` does on the wire: RFC 3339, whole seconds.
pub fn rfc3339(t: Time) -> String {
    let since = Duration::from_micros(t.max(0) as u64);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + since).to_string()
}

/// Parses an RFC 3339 timestamp (`2026-12-07T01:47:21Z`, fractions allowed) into a time.
pub fn parse_time(s: &str) -> Option<Time> {
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    let micros = t.duration_since(UNIX_EPOCH).ok()?.as_micros();
    i64::try_from(micros).ok()
}

/// The current wall-clock time, for the control plane's loop (never called here).
pub fn now() -> Time {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The characters of apimachinery's `util/rand` (no vowels, no confusable digits), used
/// for generated-name suffixes and the pod-template hash.
pub const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Where generated names get their random part: `NAME-` + five characters, as the API
/// server does for `metadata.generateName`. Tests pass a fixed sequence.
pub trait NameSuffix {
    /// The next suffix (upstream: five characters of [`ALPHANUMS`]).
    fn suffix(&mut self) -> String;
}

impl<F: FnMut() -> String> NameSuffix for F {
    fn suffix(&mut self) -> String {
        self()
    }
}

/// Five random characters of [`ALPHANUMS`] from the operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomSuffix;

impl NameSuffix for RandomSuffix {
    fn suffix(&mut self) -> String {
        // Bytes past the last whole multiple of the alphabet's length are drawn again, so
        // every character is equally likely (upstream's `rand.Intn`).
        let limit = 256 - 256 % ALPHANUMS.len();
        let mut out = String::with_capacity(5);
        for _ in 0..64 {
            let mut bytes = [0u8; 8];
            // Without OS randomness the names only lose their unpredictability; the server
            // still rejects a duplicate, and the next pass retries with another suffix.
            let _ = getrandom::fill(&mut bytes);
            for b in bytes.iter().map(|b| usize::from(*b)).filter(|b| *b < limit) {
                out.push(ALPHANUMS[b % ALPHANUMS.len()] as char);
                if out.len() == 5 {
                    return out;
                }
            }
        }
        // Only reached when the generator keeps failing (all zero bytes pass the filter,
        // so in practice never): pad with the alphabet's first character.
        while out.len() < 5 {
            out.push(ALPHANUMS[0] as char);
        }
        out
    }
}

/// What a controller wants done. The loop applies these in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// POST a new object; the server fills uid, resourceVersion and timestamps.
    Create {
        /// The whole object, with `apiVersion`, `kind` and `metadata.name` set.
        object: Value,
    },
    /// PUT an object back; it carries the `resourceVersion` it was read at, so a
    /// concurrent change gets a 409 instead of being overwritten.
    Update {
        /// The whole object as read, with the controller's change.
        object: Value,
    },
    /// PUT the status subresource, with the `resourceVersion` it was read at.
    UpdateStatus {
        /// The whole object as read, with the new `status`.
        object: Value,
    },
    /// DELETE an object.
    Delete {
        /// `Pod`, `ReplicaSet`, `Deployment`, `Job` or `Node`.
        kind: String,
        /// Its namespace (none for nodes).
        namespace: Option<String>,
        /// Its name.
        name: String,
        /// Grace period in seconds; none means the object's own (a pod's
        /// `terminationGracePeriodSeconds`).
        grace: Option<u64>,
    },
    /// Record a core/v1 Event (see [`Event::to_object`]).
    Event(Event),
}

/// Normal or Warning, as core/v1 Events are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Something expected happened.
    Normal,
    /// Something a user may need to act on.
    Warning,
}

impl EventType {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// A core/v1 Event about one object, before it has a name and timestamps.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The object it is about: `apiVersion`, `kind`, `namespace`, `name`, `uid`.
    pub involved: Value,
    /// Normal or Warning.
    pub type_: EventType,
    /// Upstream's CamelCase reason (`SuccessfulCreate`, `TaintManagerEviction`).
    pub reason: String,
    /// Upstream's message wording.
    pub message: String,
    /// The controller that reports it (`replicaset-controller`, `node-controller`).
    pub component: &'static str,
}

impl Event {
    fn about(
        object: &Value,
        type_: EventType,
        reason: &str,
        message: String,
        component: &'static str,
    ) -> Event {
        Event {
            involved: object_ref(object),
            type_,
            reason: reason.to_string(),
            message,
            component,
        }
    }

    /// The Event object to POST to `/api/v1/namespaces/NS/events`: named
    /// `INVOLVED.SUFFIX` (upstream uses a hex timestamp; a suffix cannot collide within
    /// one second), in the involved object's namespace (`default` for nodes, as upstream).
    pub fn to_object(&self, now: Time, names: &mut dyn NameSuffix) -> Value {
        let name = self.involved["name"].as_str().unwrap_or("unknown");
        let namespace = self.involved["namespace"].as_str().unwrap_or("default");
        let at = rfc3339(now);
        json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": format!("{name}.{}", names.suffix()), "namespace": namespace},
            "involvedObject": self.involved,
            "reason": self.reason,
            "message": self.message,
            "type": self.type_.as_str(),
            "source": {"component": self.component},
            "reportingComponent": self.component,
            "firstTimestamp": at,
            "lastTimestamp": at,
            "count": 1,
        })
    }
}

/// The objects one pass reads, as listed from the store.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every Node.
    pub nodes: Vec<Value>,
    /// Every Pod, all namespaces.
    pub pods: Vec<Value>,
    /// Every ReplicaSet.
    pub replicasets: Vec<Value>,
    /// Every Deployment.
    pub deployments: Vec<Value>,
    /// Every Job.
    pub jobs: Vec<Value>,
}

/// Settings of the controllers that upstream takes from kube-controller-manager flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Node lifecycle timing.
    pub node: node_lifecycle::Config,
}

/// Runs every controller once over a snapshot, in a fixed order (Deployments, ReplicaSets,
/// Jobs, node lifecycle, garbage collection). `heartbeats` maps a node's name to when the
/// server last heard from its agent.
///
/// ```
/// use std::collections::BTreeMap;
/// use schedlab_agent::controllers::{Action, Config, SECOND, Snapshot, reconcile_all};
/// use serde_json::json;
///
/// let rs = json!({
///     "apiVersion": "apps/v1", "kind": "ReplicaSet",
///     "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "1"},
///     "spec": {"replicas": 2, "template": {
///         "metadata": {"labels": {"app": "web"}},
///         "spec": {"containers": [{"name": "c", "command": ["sleep", "60"]}]},
///     }},
/// });
/// let snapshot = Snapshot { replicasets: vec![rs], ..Snapshot::default() };
/// let mut n = 0;
/// let mut names = move || { n += 1; format!("x{n}") };
/// let now = 1_800_000_000 * SECOND;
/// let actions = reconcile_all(&snapshot, &BTreeMap::new(), now, &Config::default(), &mut names);
/// let created: Vec<&str> = actions
///     .iter()
///     .filter_map(|a| match a {
///         Action::Create { object } => object["metadata"]["name"].as_str(),
///         _ => None,
///     })
///     .collect();
/// assert_eq!(created, ["web-x1", "web-x2"]);
/// ```
pub fn reconcile_all(
    snapshot: &Snapshot,
    heartbeats: &BTreeMap<String, Time>,
    now: Time,
    config: &Config,
    names: &mut dyn NameSuffix,
) -> Vec<Action> {
    let mut actions = Vec::new();
    let by_owner = index_by_controller(&snapshot.replicasets);
    for d in &snapshot.deployments {
        let owned = by_owner.get(uid(d)).map_or(&[][..], Vec::as_slice);
        actions.extend(deployment::reconcile(d, owned, now));
    }
    let pods_by_owner = index_by_controller(&snapshot.pods);
    let mut orphans_by_namespace: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for p in snapshot.pods.iter().filter(|p| controller_ref(p).is_none()) {
        orphans_by_namespace
            .entry(namespace(p))
            .or_default()
            .push(p);
    }
    for rs in &snapshot.replicasets {
        // Its own pods, and the orphans of its namespace it may adopt.
        let mut candidates: Vec<&Value> = pods_by_owner.get(uid(rs)).cloned().unwrap_or_default();
        candidates.extend(
            orphans_by_namespace
                .get(namespace(rs))
                .into_iter()
                .flatten(),
        );
        actions.extend(replicaset::reconcile(rs, &candidates, now, names));
    }
    for j in &snapshot.jobs {
        let owned = pods_by_owner.get(uid(j)).map_or(&[][..], Vec::as_slice);
        actions.extend(job::reconcile(j, owned, now, names));
    }
    actions.extend(node_lifecycle::reconcile(
        &snapshot.nodes,
        &snapshot.pods,
        heartbeats,
        now,
        &config.node,
    ));
    actions.extend(gc::reconcile(snapshot));
    actions
}

/// Objects grouped by their controller owner's uid, in listing order.
fn index_by_controller(objects: &[Value]) -> BTreeMap<&str, Vec<&Value>> {
    let mut index: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for o in objects {
        if let Some(owner) = controller_ref(o).and_then(|r| r["uid"].as_str()) {
            index.entry(owner).or_default().push(o);
        }
    }
    index
}

// ---- Reading objects -------------------------------------------------------------

/// Whether an object has the shape every controller writes into: an object whose
/// `metadata`, `spec` and `status` are objects or absent. The server validates what it
/// stores; a controller skips anything else rather than fail the whole pass.
pub fn well_formed(o: &Value) -> bool {
    o.is_object()
        && ["metadata", "spec", "status"]
            .iter()
            .all(|k| o[*k].is_null() || o[*k].is_object())
}

/// Whether a metav1 LabelSelector (`matchLabels`, `matchExpressions` with In, NotIn,
/// Exists, DoesNotExist) selects these labels, with the scheduler's own matching
/// (`schedulers::labels`). A missing or empty selector selects nothing here (the API
/// server rejects one on a ReplicaSet), and so does one with an unknown operator.
pub fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let Some(selector) = selector.as_object() else {
        return false;
    };
    let mut any = false;
    if let Some(want) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in want {
            any = true;
            if v.as_str().is_none() || labels.get(k) != Some(v) {
                return false;
            }
        }
    }
    if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
        let have = Labels::new(
            labels
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))),
        );
        for e in exprs {
            any = true;
            let operator = e["operator"].as_str().and_then(SelectorOperator::parse);
            let (Some(key), Some(operator)) = (e["key"].as_str(), operator) else {
                return false;
            };
            if matches!(operator, SelectorOperator::Gt | SelectorOperator::Lt) {
                return false;
            }
            let values = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let requirement = SelectorRequirement {
                key: key.to_string(),
                operator,
                values,
            };
            if !requirement.matches(&have) {
                return false;
            }
        }
    }
    any
}

/// `metadata.name`, or "" when missing.
pub fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

/// `metadata.namespace`, `default` when missing (as the API server defaults it).
pub fn namespace(o: &Value) -> &str {
    o["metadata"]["namespace"].as_str().unwrap_or("default")
}

/// `metadata.uid`, or "" when missing.
pub fn uid(o: &Value) -> &str {
    o["metadata"]["uid"].as_str().unwrap_or("")
}

/// The owner reference marked `controller: true`, if any.
pub fn controller_ref(o: &Value) -> Option<&Value> {
    o["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"].as_bool() == Some(true))
}

/// Whether `o`'s controller owner is `owner` (same namespace, same uid).
pub fn is_controlled_by(o: &Value, owner: &Value) -> bool {
    namespace(o) == namespace(owner)
        && controller_ref(o)
            .is_some_and(|r| r["uid"].as_str() == Some(uid(owner)) && !uid(owner).is_empty())
}

/// Whether the object has a `deletionTimestamp` (it is terminating).
pub fn is_deleting(o: &Value) -> bool {
    !o["metadata"]["deletionTimestamp"].is_null()
}

/// A pod's `status.phase`, `Pending` when missing (a pod the server has just accepted).
pub fn pod_phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or("Pending")
}

/// Upstream's `IsPodActive`: not Succeeded, not Failed, not being deleted.
pub fn is_pod_active(pod: &Value) -> bool {
    !matches!(pod_phase(pod), "Succeeded" | "Failed") && !is_deleting(pod)
}

fn condition<'a>(o: &'a Value, type_: &str) -> Option<&'a Value> {
    o["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"].as_str() == Some(type_))
}

/// Whether the pod's Ready condition is True.
pub fn is_pod_ready(pod: &Value) -> bool {
    condition(pod, "Ready").is_some_and(|c| c["status"].as_str() == Some("True"))
}

/// When a ready pod became ready (its Ready condition's `lastTransitionTime`).
fn ready_since(pod: &Value) -> Option<Time> {
    if !is_pod_ready(pod) {
        return None;
    }
    condition(pod, "Ready")?["lastTransitionTime"]
        .as_str()
        .and_then(parse_time)
}

/// Upstream's `IsPodAvailable`: ready, and ready for longer than `min_ready_seconds`.
pub fn is_pod_available(pod: &Value, min_ready_seconds: i64, now: Time) -> bool {
    if !is_pod_ready(pod) {
        return false;
    }
    if min_ready_seconds <= 0 {
        return true;
    }
    ready_since(pod).is_some_and(|t| t + min_ready_seconds * SECOND < now)
}

fn creation_time(o: &Value) -> Option<Time> {
    o["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(parse_time)
}

fn restart_count(pod: &Value) -> i64 {
    ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|k| pod["status"][k].as_array())
        .flatten()
        .map(|s| s["restartCount"].as_i64().unwrap_or(0))
        .sum()
}

/// A count or a duration in seconds (an int32 in Kubernetes' types), with a default when
/// missing or not an integer, held to 0..=i32::MAX so no arithmetic on it overflows.
fn int_or(v: &Value, default: i64) -> i64 {
    v.as_i64().unwrap_or(default).clamp(0, i64::from(i32::MAX))
}

/// An `involvedObject` / reference for an object.
pub fn object_ref(o: &Value) -> Value {
    let mut r = Map::new();
    r.insert("apiVersion".into(), o["apiVersion"].clone());
    r.insert("kind".into(), o["kind"].clone());
    if let Some(ns) = o["metadata"]["namespace"].as_str() {
        r.insert("namespace".into(), ns.into());
    }
    r.insert("name".into(), name(o).into());
    r.insert("uid".into(), uid(o).into());
    Value::Object(r)
}

/// The owner reference a controller puts on what it creates.
pub fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// Upstream's `GetPodFromTemplate`: a pod with the template's labels, annotations and
/// spec, owned by `owner`, named `PREFIX-SUFFIX` (`generateName` kept for the record).
fn pod_from_template(
    template: &Value,
    owner: &Value,
    prefix: &str,
    names: &mut dyn NameSuffix,
) -> Value {
    let mut metadata = Map::new();
    metadata.insert("name".into(), format!("{prefix}-{}", names.suffix()).into());
    metadata.insert("generateName".into(), format!("{prefix}-").into());
    metadata.insert("namespace".into(), namespace(owner).into());
    for key in ["labels", "annotations"] {
        if let Some(m) = template["metadata"][key].as_object() {
            metadata.insert(key.into(), Value::Object(m.clone()));
        }
    }
    metadata.insert("ownerReferences".into(), json!([owner_ref(owner)]));
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": template["spec"].clone(),
    })
}

fn delete_pod(pod: &Value) -> Action {
    Action::Delete {
        kind: "Pod".into(),
        namespace: Some(namespace(pod).into()),
        name: name(pod).into(),
        grace: None,
    }
}

/// Upstream's `ActivePods` order for deleting the pods of a Job (and, with ranks, of a
/// ReplicaSet): the pods to delete first come first. `rank` counts the related pods on
/// the pod's node; a doubled-up pod goes first. Upstream compares ready times and
/// creation times on a logarithmic scale and breaks ties by uid; here they compare
/// exactly and ties fall to the name, so the order is total and deterministic.
fn deletion_order(a: &Value, b: &Value, rank: &dyn Fn(&Value) -> usize) -> Ordering {
    let node = |p: &Value| p["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    let (na, nb) = (node(a), node(b));
    // 1. Unassigned before assigned.
    if na != nb && (na.is_empty() || nb.is_empty()) {
        return if na.is_empty() {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    // 2. Pending < Unknown < Running.
    let ordinal = |p: &Value| match pod_phase(p) {
        "Pending" => 0,
        "Unknown" => 1,
        "Running" => 2,
        _ => 3,
    };
    let by = ordinal(a).cmp(&ordinal(b));
    if by != Ordering::Equal {
        return by;
    }
    // 3. Not ready < ready.
    let by = is_pod_ready(a).cmp(&is_pod_ready(b));
    if by != Ordering::Equal {
        return by;
    }
    // 4. Lower pod-deletion-cost first.
    let cost = |p: &Value| {
        p["metadata"]["annotations"]["controller.kubernetes.io/pod-deletion-cost"]
            .as_str()
            .and_then(|s| s.parse::<i32>().ok())
            .unwrap_or(0)
    };
    let by = cost(a).cmp(&cost(b));
    if by != Ordering::Equal {
        return by;
    }
    // 5. More related pods on the same node first.
    let by = rank(b).cmp(&rank(a));
    if by != Ordering::Equal {
        return by;
    }
    // 6. Ready for less time first (no ready time first).
    if is_pod_ready(a) && is_pod_ready(b) {
        let by = match (ready_since(a), ready_since(b)) {
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => y.cmp(&x),
            (None, None) => Ordering::Equal,
        };
        if by != Ordering::Equal {
            return by;
        }
    }
    // 7. More restarts first.
    let by = restart_count(b).cmp(&restart_count(a));
    if by != Ordering::Equal {
        return by;
    }
    // 8. Newer first (no creation time first).
    let by = match (creation_time(a), creation_time(b)) {
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(&x),
        (None, None) => Ordering::Equal,
    };
    by.then_with(|| name(a).cmp(name(b)))
}

/// Sets `status` on a copy of `o` and returns an UpdateStatus when it differs from the
/// status read, so a steady cluster causes no writes.
fn status_update(o: &Value, status: Map<String, Value>) -> Option<Action> {
    let mut merged = o["status"].as_object().cloned().unwrap_or_default();
    for (k, v) in status {
        if v.is_null() {
            merged.remove(&k);
        } else {
            merged.insert(k, v);
        }
    }
    let merged = Value::Object(merged);
    if merged == o["status"] || (o["status"].is_null() && merged == json!({})) {
        return None;
    }
    let mut object = o.clone();
    object["status"] = merged;
    Some(Action::UpdateStatus { object })
}

#[cfg(test)]
mod tests {
    use super::harness::{World, counter, deployment, job, node, t};
    use super::*;

    fn pods_on(world: &World, node: &str) -> Vec<String> {
        world
            .all("Pod")
            .iter()
            .filter(|p| p["spec"]["nodeName"] == node)
            .map(|p| name(p).to_string())
            .collect()
    }

    fn bind_pending(world: &mut World, to: &str) {
        let pending: Vec<String> = world
            .all("Pod")
            .iter()
            .filter(|p| p["spec"]["nodeName"].is_null())
            .map(|p| name(p).to_string())
            .collect();
        for n in pending {
            let mut p = world.get("Pod", "default", &n).cloned().expect("listed");
            p["spec"]["nodeName"] = json!(to);
            world.put(p);
        }
    }

    // The whole loop on an in-memory store: a Deployment becomes a ReplicaSet and pods;
    // a node that stops heartbeating goes Unknown after 40 s, is tainted, and its pods
    // are evicted 300 s later and recreated by the ReplicaSet; deleting the Deployment
    // removes everything it made.
    #[test]
    fn deployment_survives_a_dead_node_and_cascades_on_delete() {
        let mut world = World::default();
        world.put(node("n1"));
        world.put(node("n2"));
        world.put(deployment("web", 3));
        let config = Config::default();
        let mut names = counter();
        let beats = |n1: i64, now: i64| {
            BTreeMap::from([("n1".to_string(), t(n1)), ("n2".to_string(), t(now))])
        };

        world.step(&beats(1, 1), t(1), &config, &mut names);
        let rs = world.all("ReplicaSet");
        assert_eq!(rs.len(), 1);
        let rs_name = name(&rs[0]).to_string();
        world.step(&beats(2, 2), t(2), &config, &mut names);
        assert_eq!(world.all("Pod").len(), 3);
        // The scheduler's part: two pods on n1, one on n2; the agents start them.
        let pods: Vec<String> = world
            .all("Pod")
            .iter()
            .map(|p| name(p).to_string())
            .collect();
        assert_eq!(pods, [0, 1, 2].map(|i| format!("{rs_name}-bbbb{i}")));
        for (p, n) in pods.iter().zip(["n1", "n2", "n1"]) {
            let mut pod = world.get("Pod", "default", p).cloned().unwrap();
            pod["spec"]["nodeName"] = json!(n);
            world.put(pod);
        }
        world.run_pods(t(3));
        world.step(&beats(3, 3), t(3), &config, &mut names);
        world.step(&beats(5, 5), t(5), &config, &mut names);
        let d = world.get("Deployment", "default", "web").unwrap();
        let s = &d["status"];
        assert_eq!(
            [
                &s["replicas"],
                &s["readyReplicas"],
                &s["updatedReplicas"],
                &s["availableReplicas"]
            ],
            [&json!(3); 4]
        );

        // n1 last heard at t(5). At t(45) it is still Ready.
        world.step(&beats(5, 45), t(45), &config, &mut names);
        assert_eq!(
            condition(world.get("Node", "", "n1").unwrap(), "Ready").unwrap()["status"],
            "True"
        );
        world.step(&beats(5, 46), t(46), &config, &mut names);
        assert_eq!(
            condition(world.get("Node", "", "n1").unwrap(), "Ready").unwrap()["status"],
            "Unknown"
        );
        world.step(&beats(5, 47), t(47), &config, &mut names);
        let taints = &world.get("Node", "", "n1").unwrap()["spec"]["taints"];
        assert_eq!(taints[1]["timeAdded"], rfc3339(t(47)));
        world.step(&beats(5, 48), t(48), &config, &mut names);
        assert_eq!(
            world.get("ReplicaSet", "default", &rs_name).unwrap()["status"]["readyReplicas"],
            1
        );
        world.step(&beats(5, 346), t(346), &config, &mut names);
        assert_eq!(pods_on(&world, "n1").len(), 2);
        world.step(&beats(5, 347), t(347), &config, &mut names);
        assert_eq!(pods_on(&world, "n1"), Vec::<String>::new());
        let evictions = world
            .events
            .iter()
            .filter(|e| e.0 == "TaintManagerEviction")
            .count();
        assert_eq!(evictions, 2);
        world.step(&beats(5, 348), t(348), &config, &mut names);
        assert_eq!(world.all("Pod").len(), 3);
        bind_pending(&mut world, "n2");
        world.run_pods(t(349));
        for s in 349..352 {
            world.step(&beats(5, s), t(s), &config, &mut names);
        }
        assert_eq!(pods_on(&world, "n2").len(), 3);
        assert_eq!(
            world.get("Deployment", "default", "web").unwrap()["status"]["readyReplicas"],
            3
        );

        // Delete the Deployment: its ReplicaSet goes, then the pods.
        world
            .objects
            .remove(&("Deployment".into(), "default".into(), "web".into()));
        world.step(&beats(5, 352), t(352), &config, &mut names);
        assert!(world.all("ReplicaSet").is_empty());
        world.step(&beats(5, 353), t(353), &config, &mut names);
        assert!(world.all("Pod").is_empty());
        assert_eq!(world.conflicts, 0);
    }

    #[test]
    fn a_job_runs_to_completion_through_the_loop() {
        let mut world = World::default();
        world.put(node("n1"));
        world.put(job("batch", Some(3), Some(2)));
        let config = Config::default();
        let mut names = counter();
        let mut now = 0;
        while now < 20 {
            now += 1;
            let beats = BTreeMap::from([("n1".to_string(), t(now))]);
            world.step(&beats, t(now), &config, &mut names);
            // Every pod bound at once and done by the next pass.
            bind_pending(&mut world, "n1");
            for o in world.objects.values_mut() {
                if o["kind"] == "Pod" {
                    o["status"] = json!({"phase": "Succeeded"});
                }
            }
        }
        let j = world.get("Job", "default", "batch").unwrap();
        assert_eq!(j["status"]["succeeded"], 3);
        assert_eq!(j["status"]["conditions"][1]["type"], "Complete");
        assert_eq!(j["status"]["completionTime"], rfc3339(t(3)));
        // Two pods in the first pass, one in the second: never more than completions.
        assert_eq!(world.all("Pod").len(), 3);
    }

    // The inequality rows of upstream's TestSortingActivePodsWithRanks
    // (pkg/controller/controller_utils_test.go): `lesser` is deleted before `greater`.
    // Its equality rows compare ready and creation times on a logarithmic scale, which
    // this order does not (it compares them exactly), so they are not here.
    #[test]
    fn deletion_order_rows() {
        let now = t(100_000);
        let month = t(100_000 - 30 * 86_400);
        let hours = |h: i64| t(100_000 - h * 3_600);
        let pod = |name: &str,
                   node: &str,
                   phase: &str,
                   ready: Option<Time>,
                   restarts: i64,
                   created: Option<Time>,
                   cost: Option<&str>| {
            let mut p = json!({
                "metadata": {"name": name},
                "spec": {"nodeName": node},
                "status": {"phase": phase},
            });
            if let Some(c) = created {
                p["metadata"]["creationTimestamp"] = json!(rfc3339(c));
            }
            if let Some(c) = cost {
                p["metadata"]["annotations"] =
                    json!({"controller.kubernetes.io/pod-deletion-cost": c});
            }
            if let Some(since) = ready {
                let mut ready = json!({"type": "Ready", "status": "True"});
                if since > 0 {
                    ready["lastTransitionTime"] = json!(rfc3339(since));
                }
                p["status"]["conditions"] = json!([ready]);
                p["status"]["containerStatuses"] = json!([{"restartCount": restarts}]);
            }
            p
        };
        let unscheduled = pod("unscheduled", "", "Pending", None, 0, None, None);
        let scheduled_pending = pod("pending", "node", "Pending", None, 0, None, None);
        let unknown_phase = pod("unknown-phase", "node", "Unknown", None, 0, None, None);
        let not_ready = pod("not-ready", "node", "Running", None, 0, None, None);
        let ready_no_time = pod(
            "ready-no-last-transition-time",
            "node",
            "Running",
            Some(0),
            0,
            None,
            None,
        );
        let ready_now = pod(
            "ready-now",
            "node",
            "Running",
            Some(now),
            0,
            Some(now),
            None,
        );
        let ready_then = pod(
            "ready-then",
            "node",
            "Running",
            Some(month),
            0,
            Some(month),
            None,
        );
        let high_restarts = pod(
            "ready-high-restarts",
            "node",
            "Running",
            Some(now),
            9001,
            Some(now),
            None,
        );
        let created_then = pod(
            "ready-now-created-then",
            "node",
            "Running",
            Some(now),
            0,
            Some(month),
            None,
        );
        let low_cost = pod(
            "low-deletion-cost",
            "node",
            "Running",
            Some(now),
            0,
            Some(month),
            Some("10"),
        );
        let high_cost = pod(
            "high-deletion-cost",
            "node",
            "Running",
            Some(now),
            0,
            Some(month),
            Some("100"),
        );
        let ready_2h = pod(
            "ready-2-hours",
            "",
            "Running",
            Some(hours(2)),
            0,
            Some(month),
            None,
        );
        let ready_5h = pod(
            "ready-5-hours",
            "",
            "Running",
            Some(hours(5)),
            0,
            Some(month),
            None,
        );
        // A pod and its rank (related pods on its node).
        type Ranked<'a> = (&'a Value, usize);
        let rows: [(Ranked, Ranked); 15] = [
            ((&unscheduled, 1), (&scheduled_pending, 2)),
            ((&unscheduled, 2), (&scheduled_pending, 1)),
            ((&scheduled_pending, 1), (&unknown_phase, 2)),
            ((&unknown_phase, 1), (&not_ready, 2)),
            ((&not_ready, 1), (&ready_no_time, 1)),
            ((&ready_no_time, 1), (&ready_now, 1)),
            ((&ready_now, 2), (&ready_no_time, 1)),
            ((&ready_now, 1), (&ready_then, 1)),
            ((&ready_now, 2), (&ready_then, 1)),
            ((&high_restarts, 1), (&ready_now, 1)),
            ((&ready_now, 2), (&high_restarts, 1)),
            ((&ready_now, 1), (&created_then, 1)),
            ((&created_then, 2), (&ready_now, 1)),
            ((&low_cost, 2), (&high_cost, 1)),
            ((&ready_2h, 1), (&ready_5h, 1)),
        ];
        for (i, ((lesser, lr), (greater, gr))) in rows.into_iter().enumerate() {
            let rank = |p: &Value| if std::ptr::eq(p, lesser) { lr } else { gr };
            assert_eq!(
                deletion_order(lesser, greater, &rank),
                Ordering::Less,
                "row {i}"
            );
            assert_eq!(
                deletion_order(greater, lesser, &rank),
                Ordering::Greater,
                "row {i}"
            );
        }
    }

    #[test]
    fn label_selectors_as_metav1() {
        let labels = json!({"app": "web", "tier": "front"});
        let sel = |s: Value| selector_matches(&s, &labels);
        assert!(sel(json!({"matchLabels": {"app": "web"}})));
        assert!(!sel(json!({"matchLabels": {"app": "web", "zone": "a"}})));
        assert!(sel(
            json!({"matchExpressions": [{"key": "tier", "operator": "Exists"}]})
        ));
        assert!(!sel(
            json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]})
        ));
        assert!(sel(
            json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]})
        ));
        assert!(!sel(
            json!({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]})
        ));
        // Node-affinity-only operators, unknown ones, and empty selectors select nothing.
        assert!(!sel(
            json!({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]})
        ));
        assert!(!sel(
            json!({"matchExpressions": [{"key": "app", "operator": "Like"}]})
        ));
        assert!(!sel(json!({})));
        assert!(!sel(json!(null)));
    }

    #[test]
    fn times_round_trip_at_whole_seconds() {
        assert_eq!(rfc3339(t(0)), "2027-01-15T08:00:00Z");
        assert_eq!(parse_time("2027-01-15T08:00:00Z"), Some(t(0)));
        assert_eq!(
            parse_time("2027-01-15T08:00:00.5Z"),
            Some(t(0) + SECOND / 2)
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn random_suffixes_use_the_safe_alphabet() {
        let drawn: std::collections::BTreeSet<String> =
            (0..1000).map(|_| RandomSuffix.suffix()).collect();
        for s in &drawn {
            assert_eq!(s.len(), 5);
            assert!(s.bytes().all(|b| ALPHANUMS.contains(&b)), "{s}");
        }
        // 27^5 = 14.3 million names: 1,000 draws collide about once in 30 runs.
        assert!(drawn.len() >= 995, "{}", drawn.len());
    }

    #[test]
    fn events_become_core_v1_objects() {
        let e = Event::about(
            &node("n1"),
            EventType::Normal,
            "NodeNotReady",
            "Node n1 status is now: NodeNotReady".into(),
            "node-controller",
        );
        let o = e.to_object(t(0), &mut counter());
        assert_eq!(
            o["metadata"],
            json!({"name": "n1.bbbb0", "namespace": "default"})
        );
        assert_eq!(
            o["involvedObject"],
            json!({"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "uid-node-n1"})
        );
        assert_eq!(
            (&o["reason"], &o["type"], &o["count"]),
            (&json!("NodeNotReady"), &json!("Normal"), &json!(1))
        );
        assert_eq!(o["firstTimestamp"], "2027-01-15T08:00:00Z");
    }
}

#[cfg(test)]
mod malformed {
    use super::harness::{counter, deployment, job, node, pod, rs, t};
    use super::*;

    /// Every JSON path the controllers read or write, set in turn to each wrong shape.
    const PATHS: &[&[&str]] = &[
        &["metadata"],
        &["metadata", "name"],
        &["metadata", "labels"],
        &["metadata", "annotations"],
        &["metadata", "ownerReferences"],
        &["metadata", "creationTimestamp"],
        &["metadata", "deletionTimestamp"],
        &["spec"],
        &["spec", "replicas"],
        &["spec", "template"],
        &["spec", "template", "metadata"],
        &["spec", "template", "metadata", "labels"],
        &["spec", "template", "spec"],
        &["spec", "selector"],
        &["spec", "strategy"],
        &["spec", "strategy", "rollingUpdate"],
        &["spec", "taints"],
        &["spec", "tolerations"],
        &["spec", "nodeName"],
        &["status"],
        &["status", "conditions"],
        &["status", "containerStatuses"],
        &["status", "replicas"],
        &["status", "succeeded"],
        &["spec", "parallelism"],
        &["spec", "completions"],
        &["spec", "backoffLimit"],
        &["spec", "minReadySeconds"],
    ];

    fn set(o: &mut Value, path: &[&str], to: Value) {
        let mut at = o;
        for key in &path[..path.len() - 1] {
            match at.get_mut(*key) {
                Some(next) if next.is_object() => at = next,
                _ => return,
            }
        }
        if let Some(m) = at.as_object_mut() {
            m.insert(path[path.len() - 1].to_string(), to);
        }
    }

    // The server validates what it stores, but a controller must not take the control
    // plane down over one odd object: every wrong shape is read as missing or ignored.
    #[test]
    fn wrong_shapes_never_panic() {
        let d = deployment("web", 2);
        let r = rs("web", 3);
        let j = job("batch", Some(2), Some(2));
        let mut n = node("n1");
        n["spec"]["taints"] = json!([{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": rfc3339(t(0))}]);
        n["status"]["conditions"][0]["status"] = json!("Unknown");
        let p = pod("web-1", &r, Some("n1"), "Running", true);
        let q = pod("batch-1", &j, Some("n1"), "Failed", false);
        let wrong = [
            json!("x"),
            json!(7),
            json!([1, "a", null]),
            json!(null),
            json!({"a": 1}),
            json!([{"a": 1}]),
            json!(i64::MAX),
            json!(-3),
            json!(1e300),
            json!({"maxSurge": "9223372036854775807%", "maxUnavailable": i64::MAX}),
            json!([{"operator": "Exists", "tolerationSeconds": i64::MAX}]),
            json!([{"operator": "Exists", "tolerationSeconds": i64::MIN}]),
        ];
        let snapshot = Snapshot {
            nodes: vec![n],
            pods: vec![p, q],
            replicasets: vec![r],
            deployments: vec![d],
            jobs: vec![j],
        };
        let beats = BTreeMap::from([("n1".to_string(), t(0))]);
        let mut failures = Vec::new();
        for kind in 0..5 {
            for path in PATHS {
                for w in &wrong {
                    let mut s = snapshot.clone();
                    let list = match kind {
                        0 => &mut s.nodes,
                        1 => &mut s.pods,
                        2 => &mut s.replicasets,
                        3 => &mut s.deployments,
                        _ => &mut s.jobs,
                    };
                    for o in list.iter_mut() {
                        set(o, path, w.clone());
                    }
                    for now in [t(1), t(500)] {
                        let result = std::panic::catch_unwind(|| {
                            reconcile_all(&s, &beats, now, &Config::default(), &mut counter())
                        });
                        if result.is_err() {
                            failures.push(format!("kind {kind}, {path:?} = {w}"));
                        }
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

#[cfg(test)]
mod scale {
    use super::harness::{World, counter, deployment, node, t};
    use super::*;

    /// How long one pass takes on a steady cluster of 1,000 pods: 50 Deployments of 20
    /// replicas on 20 nodes, in one namespace. Run with
    /// `cargo test -p schedlab-agent --release --lib controllers::scale -- --ignored --nocapture`.
    #[test]
    #[ignore = "a timing, not a check"]
    fn one_pass_over_a_thousand_pods() {
        let mut world = World::default();
        for i in 0..20 {
            world.put(node(&format!("n{i}")));
        }
        for i in 0..50 {
            world.put(deployment(&format!("app{i}"), 20));
        }
        let config = Config::default();
        let mut names = counter();
        let beats = |now: i64| {
            (0..20)
                .map(|i| (format!("n{i}"), t(now)))
                .collect::<BTreeMap<_, _>>()
        };
        for s in 1..4 {
            world.step(&beats(s), t(s), &config, &mut names);
        }
        let pods: Vec<String> = world
            .all("Pod")
            .iter()
            .map(|p| name(p).to_string())
            .collect();
        for (i, p) in pods.iter().enumerate() {
            let mut pod = world.get("Pod", "default", p).cloned().unwrap();
            pod["spec"]["nodeName"] = json!(format!("n{}", i % 20));
            world.put(pod);
        }
        world.run_pods(t(4));
        for s in 4..8 {
            world.step(&beats(s), t(s), &config, &mut names);
        }
        let snapshot = world.snapshot();
        assert_eq!(snapshot.pods.len(), 1000);
        let runs = 20;
        let start = std::time::Instant::now();
        let mut writes = 0;
        for _ in 0..runs {
            writes += reconcile_all(&snapshot, &beats(8), t(8), &config, &mut names).len();
        }
        let per_pass = start.elapsed() / runs;
        assert_eq!(writes, 0, "a steady cluster needs no writes");
        println!("one pass over 1000 pods, 50 ReplicaSets, 20 nodes: {per_pass:?}");
    }
}
