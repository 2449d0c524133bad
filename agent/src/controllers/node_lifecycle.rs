//! The node lifecycle controller and taint-based eviction.
//!
//! Follows kubernetes/pkg/controller/nodelifecycle/node_lifecycle_controller.go
//! (`monitorNodeHealth`, `tryUpdateNodeHealth`, `doNoExecuteTaintingPass`,
//! `doNoScheduleTaintingPass`, `MarkPodsNotReady` from controller_utils.go) and
//! kubernetes/pkg/controller/tainteviction/taint_eviction.go (`processPodOnNode`), with
//! the default tolerations of plugin/pkg/admission/defaulttolerationseconds:
//!
//! - A node not heard from for longer than the grace period (`--node-monitor-grace-period`,
//!   40 s, the long-standing default; 60 s, `--node-startup-grace-period`, for a node that
//!   never reported Ready) gets Ready=Unknown, reason `NodeStatusUnknown`, "Kubelet stopped
//!   posting node status." (its other conditions too), and a `NodeNotReady` Event.
//! - A node whose Ready condition is Unknown is tainted `node.kubernetes.io/unreachable`
//!   with NoSchedule and NoExecute (the NoExecute taint with `timeAdded`); one whose Ready
//!   is False, `node.kubernetes.io/not-ready`; a Ready node loses both. As upstream, the
//!   taints follow the condition the controller has observed, so they come one pass after
//!   the condition is written.
//! - A pod on a node with a NoExecute taint it does not tolerate is deleted at once; one
//!   that tolerates it for `tolerationSeconds` is deleted that long after the taint's
//!   `timeAdded`. A pod with no toleration of the not-ready or unreachable NoExecute taint
//!   is treated as tolerating it for 300 s, as DefaultTolerationSeconds admission would
//!   have given it (configurable here, for tests). Each eviction is a Delete and a
//!   `TaintManagerEviction` Event "Marking for deletion Pod NS/NAME".
//! - Pods on a node that is not Ready get their Ready condition set to False.
//!
//! The brief's addition: heartbeats are an input (the server records when each agent last
//! reported), and when a node whose Ready=Unknown was set here is heard from again, this
//! controller sets Ready=True (`KubeletReady`) itself, where upstream waits for the
//! kubelet to post its status; the taints then go.
//!
//! Simplified: no eviction rate limiting per zone (`--node-eviction-rate`, the
//! large-cluster and full-disruption modes), no Lease objects (the heartbeat map stands
//! for them), no DisruptionTarget condition before an eviction, and finished pods
//! (Succeeded/Failed) are left alone so a Job's counts survive. A NoExecute taint without
//! `timeAdded` counts as added at the epoch.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{
    Action, Event, EventType, SECOND, Time, condition, is_deleting, is_pod_active, is_pod_ready,
    name, namespace, parse_time, rfc3339, well_formed,
};

/// The taint of a node whose Ready condition is Unknown.
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// The taint of a node whose Ready condition is False.
pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
/// The component named in node status Events.
pub const COMPONENT: &str = "node-controller";
/// The component named in eviction Events.
pub const EVICTION_COMPONENT: &str = "taint-eviction-controller";

const STOPPED: &str = "Kubelet stopped posting node status.";
const NEVER: &str = "Kubelet never posted node status.";

/// The controller's timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// How long a Ready node may go unheard before it becomes Unknown (40 s).
    pub grace_period: Time,
    /// The same for a node that never reported Ready (60 s).
    pub startup_grace_period: Time,
    /// The tolerationSeconds a pod without its own toleration of the not-ready and
    /// unreachable NoExecute taints gets (300 s).
    pub default_toleration_seconds: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            grace_period: 40 * SECOND,
            startup_grace_period: 60 * SECOND,
            default_toleration_seconds: 300,
        }
    }
}

/// The pressure conditions that go Unknown with Ready, and the kubelet's words for them
/// when all is well.
const OTHER_CONDITIONS: [(&str, &str, &str); 3] = [
    (
        "MemoryPressure",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    (
        "DiskPressure",
        "KubeletHasNoDiskPressure",
        "kubelet has no disk pressure",
    ),
    (
        "PIDPressure",
        "KubeletHasSufficientPID",
        "kubelet has sufficient PID available",
    ),
];

/// One pass over every node and the pods bound to them. `heartbeats` maps a node's name
/// to when its agent was last heard from; a node missing from it falls back to its Ready
/// condition's `lastHeartbeatTime`, then to its creation time.
pub fn reconcile(
    nodes: &[Value],
    pods: &[Value],
    heartbeats: &BTreeMap<String, Time>,
    now: Time,
    config: &Config,
) -> Vec<Action> {
    let mut sorted: Vec<&Value> = nodes.iter().collect();
    sorted.sort_by(|a, b| name(a).cmp(name(b)));
    let mut pods_on: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for p in pods {
        if let Some(n) = p["spec"]["nodeName"].as_str() {
            pods_on.entry(n).or_default().push(p);
        }
    }
    let mut actions = Vec::new();
    for node in sorted {
        let on_node = pods_on.get(name(node)).map_or(&[][..], Vec::as_slice);
        actions.extend(reconcile_node(
            node,
            on_node,
            heartbeats.get(name(node)).copied(),
            now,
            config,
        ));
    }
    actions
}

fn reconcile_node(
    node: &Value,
    pods: &[&Value],
    heartbeat: Option<Time>,
    now: Time,
    config: &Config,
) -> Vec<Action> {
    let mut actions = Vec::new();
    if !well_formed(node) {
        return actions;
    }
    let ready = condition(node, "Ready");
    let ready_status = ready.and_then(|c| c["status"].as_str());
    let last_heard = heartbeat
        .or_else(|| {
            ready
                .and_then(|c| c["lastHeartbeatTime"].as_str())
                .and_then(parse_time)
        })
        .or_else(|| {
            node["metadata"]["creationTimestamp"]
                .as_str()
                .and_then(parse_time)
        });
    let grace = if ready.is_some() {
        config.grace_period
    } else {
        config.startup_grace_period
    };
    let stale = last_heard.is_some_and(|h| now > h + grace);
    let set_by_us = ready.is_some_and(|c| {
        matches!(
            c["reason"].as_str(),
            Some("NodeStatusUnknown" | "NodeStatusNeverUpdated")
        )
    });

    let mut effective = ready_status;
    if stale && ready_status != Some("Unknown") {
        effective = Some("Unknown");
        actions.push(Action::UpdateStatus {
            object: mark_unknown(node, now),
        });
        actions.push(Action::Event(Event::about(
            node,
            EventType::Normal,
            "NodeNotReady",
            format!("Node {} status is now: NodeNotReady", name(node)),
            COMPONENT,
        )));
    } else if !stale && heartbeat.is_some() && ready_status == Some("Unknown") && set_by_us {
        effective = Some("True");
        actions.push(Action::UpdateStatus {
            object: mark_ready(node, heartbeat.unwrap_or(now), now),
        });
        actions.push(Action::Event(Event::about(
            node,
            EventType::Normal,
            "NodeReady",
            format!("Node {} status is now: NodeReady", name(node)),
            COMPONENT,
        )));
    } else if let Some(object) = retaint(node, ready_status, now) {
        // The taints follow the observed condition, so never in the pass that writes it
        // (one write per object per pass).
        actions.push(Action::Update { object });
    }

    let evicted = evictions(node, pods, now, config);
    for (p, _) in pods.iter().zip(&evicted).filter(|(_, e)| !**e) {
        if !is_pod_active(p) {
            continue;
        }
        if matches!(effective, Some("Unknown" | "False")) && is_pod_ready(p) {
            actions.push(Action::UpdateStatus {
                object: pod_not_ready(p, now),
            });
        }
    }
    for (p, _) in pods.iter().zip(&evicted).filter(|(_, e)| **e) {
        actions.push(Action::Delete {
            kind: "Pod".into(),
            namespace: Some(namespace(p).into()),
            name: name(p).into(),
            grace: None,
        });
        actions.push(Action::Event(Event::about(
            p,
            EventType::Normal,
            "TaintManagerEviction",
            format!("Marking for deletion Pod {}/{}", namespace(p), name(p)),
            EVICTION_COMPONENT,
        )));
    }
    actions
}

fn mark_unknown(node: &Value, now: Time) -> Value {
    let at = rfc3339(now);
    let mut object = node.clone();
    let mut conditions: Vec<Value> = node["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let created = node["metadata"]["creationTimestamp"].clone();
    for type_ in std::iter::once("Ready").chain(OTHER_CONDITIONS.iter().map(|c| c.0)) {
        match conditions.iter_mut().find(|c| c["type"] == type_) {
            Some(c) if c["status"] != "Unknown" => {
                c["status"] = json!("Unknown");
                c["reason"] = json!("NodeStatusUnknown");
                c["message"] = json!(STOPPED);
                c["lastTransitionTime"] = json!(at);
            }
            Some(_) => {}
            None => conditions.push(json!({
                "type": type_, "status": "Unknown", "reason": "NodeStatusNeverUpdated",
                "message": NEVER, "lastHeartbeatTime": created, "lastTransitionTime": at,
            })),
        }
    }
    object["status"]["conditions"] = Value::Array(conditions);
    object
}

fn mark_ready(node: &Value, heard: Time, now: Time) -> Value {
    let at = rfc3339(now);
    let mut object = node.clone();
    let mut conditions: Vec<Value> = node["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for c in &mut conditions {
        let ours = matches!(
            c["reason"].as_str(),
            Some("NodeStatusUnknown" | "NodeStatusNeverUpdated")
        );
        if !ours {
            continue;
        }
        let (status, reason, message) = if c["type"] == "Ready" {
            ("True", "KubeletReady", "kubelet is posting ready status")
        } else if let Some((_, r, m)) = OTHER_CONDITIONS.iter().find(|o| c["type"] == o.0) {
            ("False", *r, *m)
        } else {
            continue;
        };
        c["status"] = json!(status);
        c["reason"] = json!(reason);
        c["message"] = json!(message);
        c["lastHeartbeatTime"] = json!(rfc3339(heard));
        c["lastTransitionTime"] = json!(at);
    }
    object["status"]["conditions"] = Value::Array(conditions);
    object
}

/// The node with the taints its observed Ready status calls for, if they differ.
fn retaint(node: &Value, ready_status: Option<&str>, now: Time) -> Option<Value> {
    let want: &[&str] = match ready_status {
        Some("Unknown") => &[UNREACHABLE],
        Some("False") => &[NOT_READY],
        _ => &[],
    };
    let taints: Vec<Value> = node["spec"]["taints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let ours = |t: &Value| {
        matches!(t["key"].as_str(), Some(UNREACHABLE | NOT_READY))
            && matches!(t["effect"].as_str(), Some("NoSchedule" | "NoExecute"))
    };
    let mut next: Vec<Value> = taints
        .iter()
        .filter(|t| !ours(t) || want.contains(&t["key"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    for key in want {
        for effect in ["NoSchedule", "NoExecute"] {
            if !next
                .iter()
                .any(|t| t["key"] == *key && t["effect"] == effect)
            {
                let mut t = json!({"key": key, "effect": effect});
                if effect == "NoExecute" {
                    t["timeAdded"] = json!(rfc3339(now));
                }
                next.push(t);
            }
        }
    }
    if next == taints {
        return None;
    }
    let mut object = node.clone();
    if next.is_empty() {
        if let Some(spec) = object["spec"].as_object_mut() {
            spec.remove("taints");
        }
    } else {
        object["spec"]["taints"] = Value::Array(next);
    }
    Some(object)
}

/// Upstream's `ToleratesTaint`: a toleration matches a taint's key (or all keys, with
/// Exists and no key), its effect (or all effects) and, with Equal, its value.
fn tolerates(toleration: &Value, taint: &Value) -> bool {
    let effect_ok = toleration["effect"]
        .as_str()
        .is_none_or(|e| e.is_empty() || taint["effect"] == e);
    let key = toleration["key"].as_str().unwrap_or("");
    let exists = toleration["operator"] == "Exists";
    let key_ok = (key.is_empty() && exists) || taint["key"] == key;
    let value_ok = exists
        || toleration["value"].as_str().unwrap_or("") == taint["value"].as_str().unwrap_or("");
    effect_ok && key_ok && value_ok
}

/// For each pod on `node`, whether its toleration of the node's NoExecute taints has run
/// out.
fn evictions(node: &Value, pods: &[&Value], now: Time, config: &Config) -> Vec<bool> {
    let taints: Vec<&Value> = node["spec"]["taints"]
        .as_array()
        .map(|ts| ts.iter().filter(|t| t["effect"] == "NoExecute").collect())
        .unwrap_or_default();
    if taints.is_empty() {
        return vec![false; pods.len()];
    }
    let mut out = vec![false; pods.len()];
    for (i, pod) in pods.iter().enumerate() {
        if is_deleting(pod) || matches!(super::pod_phase(pod), "Succeeded" | "Failed") {
            continue;
        }
        let tolerations: Vec<&Value> = pod["spec"]["tolerations"]
            .as_array()
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        let mut deadline: Option<Time> = None;
        let mut now_due = false;
        for taint in &taints {
            let matched: Vec<&&Value> =
                tolerations.iter().filter(|t| tolerates(t, taint)).collect();
            let seconds = if matched.is_empty() {
                if matches!(taint["key"].as_str(), Some(UNREACHABLE | NOT_READY)) {
                    Some(config.default_toleration_seconds)
                } else {
                    now_due = true;
                    break;
                }
            } else {
                // The shortest of the tolerations that match; none with seconds = forever.
                matched
                    .iter()
                    .filter_map(|t| t["tolerationSeconds"].as_i64())
                    .min()
            };
            if let Some(s) = seconds {
                let added = taint["timeAdded"]
                    .as_str()
                    .and_then(parse_time)
                    .unwrap_or(0);
                let due = added.saturating_add(s.max(0).saturating_mul(SECOND));
                deadline = Some(deadline.map_or(due, |d: Time| d.min(due)));
            }
        }
        if now_due || deadline.is_some_and(|d| now >= d) {
            out[i] = true;
        }
    }
    out
}

fn pod_not_ready(pod: &Value, now: Time) -> Value {
    let mut object = pod.clone();
    if let Some(conditions) = object["status"]["conditions"].as_array_mut() {
        for c in conditions.iter_mut().filter(|c| c["type"] == "Ready") {
            c["status"] = json!("False");
            c["lastTransitionTime"] = json!(rfc3339(now));
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::harness::{node, pod, rs, t};

    fn run(node: &Value, pods: &[&Value], heard: Time, now: Time) -> Vec<Action> {
        let hb = BTreeMap::from([("n1".to_string(), heard)]);
        let pods: Vec<Value> = pods.iter().map(|p| (*p).clone()).collect();
        reconcile(
            std::slice::from_ref(node),
            &pods,
            &hb,
            now,
            &Config::default(),
        )
    }

    fn applied(actions: &[Action], kind: &str) -> Value {
        actions
            .iter()
            .find_map(|a| match a {
                Action::UpdateStatus { object } | Action::Update { object }
                    if object["kind"] == kind =>
                {
                    Some(object.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("no write of a {kind}: {actions:?}"))
    }

    #[test]
    fn heartbeat_timeline_39_41_341_and_back() {
        let owner = rs("web", 1);
        let p = pod("web-1", &owner, Some("n1"), "Running", true);
        let n = node("n1");
        // Last heard at t(0). At 39 s, and at exactly 40 s (upstream: strictly after), nothing.
        assert_eq!(run(&n, &[&p], t(0), t(39)), []);
        assert_eq!(run(&n, &[&p], t(0), t(40)), []);

        // At 41 s: Ready=Unknown, a NodeNotReady event, and the pod marked not ready.
        let a = run(&n, &[&p], t(0), t(41));
        let n = applied(&a, "Node");
        let ready = condition(&n, "Ready").unwrap();
        assert_eq!(
            (&ready["status"], &ready["reason"], &ready["message"]),
            (
                &json!("Unknown"),
                &json!("NodeStatusUnknown"),
                &json!("Kubelet stopped posting node status.")
            )
        );
        assert_eq!(
            condition(&n, "MemoryPressure").unwrap()["reason"],
            "NodeStatusNeverUpdated"
        );
        assert!(a.iter().any(
            |x| matches!(x, Action::Event(e) if e.message == "Node n1 status is now: NodeNotReady")
        ));
        let p = applied(&a, "Pod");
        assert!(!is_pod_ready(&p));
        assert_eq!(a.len(), 3, "{a:?}");

        // Still at 41 s, the next pass sees Unknown and taints.
        let a = run(&n, &[&p], t(0), t(41));
        let n = applied(&a, "Node");
        assert_eq!(
            n["spec"]["taints"],
            json!([
                {"key": UNREACHABLE, "effect": "NoSchedule"},
                {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": rfc3339(t(41))},
            ])
        );
        assert_eq!(a.len(), 1, "{a:?}");

        // The pod tolerates the taint for the default 300 s: still there at 340 s.
        assert_eq!(run(&n, &[&p], t(0), t(340)), []);
        // At 41 + 300 s: evicted, with upstream's event.
        let a = run(&n, &[&p], t(0), t(341));
        assert_eq!(
            a[0],
            Action::Delete {
                kind: "Pod".into(),
                namespace: Some("default".into()),
                name: "web-1".into(),
                grace: None
            }
        );
        let Action::Event(e) = &a[1] else {
            panic!("{a:?}")
        };
        assert_eq!(
            (e.reason.as_str(), e.message.as_str()),
            (
                "TaintManagerEviction",
                "Marking for deletion Pod default/web-1"
            )
        );
        assert_eq!(e.involved["kind"], "Pod");

        // Heard from again at 400 s: Ready=True, then the taints go.
        let a = run(&n, &[], t(400), t(401));
        let n = applied(&a, "Node");
        let ready = condition(&n, "Ready").unwrap();
        assert_eq!(
            (&ready["status"], &ready["reason"]),
            (&json!("True"), &json!("KubeletReady"))
        );
        assert_eq!(ready["lastHeartbeatTime"], rfc3339(t(400)));
        assert_eq!(condition(&n, "DiskPressure").unwrap()["status"], "False");
        let a = run(&n, &[], t(400), t(401));
        let n = applied(&a, "Node");
        assert!(n["spec"]["taints"].is_null(), "{n}");
        assert_eq!(run(&n, &[], t(400), t(402)), []);
    }

    fn tainted_node(key: &str, added: i64) -> Value {
        let mut n = node("n1");
        n["spec"]["taints"] =
            json!([{"key": key, "effect": "NoExecute", "timeAdded": rfc3339(t(added))}]);
        n["status"]["conditions"][0]["status"] = json!("Unknown");
        n["status"]["conditions"][0]["reason"] = json!("NodeStatusUnknown");
        n
    }

    // The rows of upstream's TestCreatePod and TestUpdateNodeWithMultipleTaints
    // (pkg/controller/tainteviction/taint_eviction_test.go), with a taint added at t(100)
    // and the pass at t(101): whether the pod is deleted.
    #[test]
    fn taint_eviction_rows() {
        let owner = rs("web", 1);
        let taint = |n: i64| json!({"key": format!("testTaint{n}"), "value": format!("test{n}"), "effect": "NoExecute", "timeAdded": rfc3339(t(100))});
        let toleration = |n: i64, seconds: i64| {
            let mut t = json!({"key": format!("testTaint{n}"), "value": format!("test{n}"), "effect": "NoExecute"});
            if seconds >= 0 {
                t["tolerationSeconds"] = json!(seconds);
            }
            t
        };
        let rows = [
            (
                "not scheduled - ignore",
                None,
                vec![taint(1)],
                json!([]),
                false,
            ),
            (
                "scheduled on untainted Node",
                Some("n1"),
                vec![],
                json!([]),
                false,
            ),
            (
                "schedule on tainted Node",
                Some("n1"),
                vec![taint(1)],
                json!([]),
                true,
            ),
            (
                "schedule on tainted Node with finite toleration",
                Some("n1"),
                vec![taint(1)],
                json!([toleration(1, 100)]),
                false,
            ),
            (
                "schedule on tainted Node with infinite toleration",
                Some("n1"),
                vec![taint(1)],
                json!([toleration(1, -1)]),
                false,
            ),
            (
                "schedule on tainted Node with infinite invalid toleration",
                Some("n1"),
                vec![taint(1)],
                json!([toleration(2, -1)]),
                true,
            ),
            // TestUpdateNodeWithMultipleTaints: a taint tolerated forever and one for 60 s.
            (
                "infinitely tolerated taint",
                Some("n1"),
                vec![taint(1)],
                json!([toleration(1, -1), toleration(2, 60)]),
                false,
            ),
            (
                "temporarily tolerated taint, within its time",
                Some("n1"),
                vec![taint(1), taint(2)],
                json!([toleration(1, -1), toleration(2, 60)]),
                false,
            ),
        ];
        for (row, node_name, taints, tolerations, deleted) in rows {
            let mut n = node("n1");
            n["spec"]["taints"] = json!(taints);
            let mut p = pod("pod1", &owner, node_name, "Running", false);
            p["spec"]["tolerations"] = tolerations;
            let a = run(&n, &[&p], t(100), t(101));
            let got = a
                .iter()
                .any(|x| matches!(x, Action::Delete { name, .. } if name == "pod1"));
            assert_eq!(got, deleted, "{row}: {a:?}");
        }
        // And the temporarily tolerated one runs out 60 s after its taint came.
        let mut n = node("n1");
        n["spec"]["taints"] = json!([taint(1), taint(2)]);
        let mut p = pod("pod1", &owner, Some("n1"), "Running", false);
        p["spec"]["tolerations"] = json!([toleration(1, -1), toleration(2, 60)]);
        assert!(run(&n, &[&p], t(159), t(159)).is_empty());
        assert!(matches!(
            &run(&n, &[&p], t(160), t(160))[0],
            Action::Delete { .. }
        ));
    }

    // Our own cases: a toleration of every key (`operator: Exists`, no key), and finished
    // pods, which are left alone.
    #[test]
    fn tolerations_decide_when_pods_go() {
        let owner = rs("web", 1);
        let n = tainted_node(UNREACHABLE, 100);
        let mut forever = pod("forever", &owner, Some("n1"), "Running", false);
        forever["spec"]["tolerations"] =
            json!([{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}]);
        let mut short = pod("short", &owner, Some("n1"), "Running", false);
        short["spec"]["tolerations"] =
            json!([{"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": 5}]);
        let mut all = pod("all", &owner, Some("n1"), "Running", false);
        all["spec"]["tolerations"] = json!([{"operator": "Exists"}]);
        let done = pod("done", &owner, Some("n1"), "Succeeded", false);
        let pods = [&forever, &short, &all, &done];
        let deleted = |now| -> Vec<String> {
            run(&n, &pods, t(0), now)
                .into_iter()
                .filter_map(|a| match a {
                    Action::Delete { name, .. } => Some(name),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(deleted(t(104)), Vec::<String>::new());
        assert_eq!(deleted(t(105)), ["short"]);
        assert_eq!(deleted(t(100_000)), ["short"]);

        // A NoExecute taint nobody tolerates: out at once.
        let mut n2 = node("n1");
        n2["spec"]["taints"] = json!([{"key": "dedicated", "value": "db", "effect": "NoExecute", "timeAdded": rfc3339(t(100))}]);
        let plain = pod("plain", &owner, Some("n1"), "Running", true);
        let mut tolerant = pod("tolerant", &owner, Some("n1"), "Running", true);
        tolerant["spec"]["tolerations"] =
            json!([{"key": "dedicated", "value": "db", "effect": "NoExecute"}]);
        let a = run(&n2, &[&plain, &tolerant], t(100), t(101));
        assert_eq!(a.len(), 2, "{a:?}");
        assert!(matches!(&a[0], Action::Delete { name, .. } if name == "plain"));
    }

    #[test]
    fn same_name_in_two_namespaces_is_two_pods() {
        let owner = rs("web", 1);
        let mut n = node("n1");
        n["spec"]["taints"] =
            json!([{"key": "dedicated", "effect": "NoExecute", "timeAdded": rfc3339(t(0))}]);
        let plain = pod("web-1", &owner, Some("n1"), "Running", false);
        let mut tolerant = plain.clone();
        tolerant["metadata"]["namespace"] = json!("other");
        tolerant["spec"]["tolerations"] = json!([{"key": "dedicated", "operator": "Exists"}]);
        let a = run(&n, &[&tolerant, &plain], t(0), t(1));
        let deleted: Vec<(&Option<String>, &String)> = a
            .iter()
            .filter_map(|x| match x {
                Action::Delete {
                    namespace, name, ..
                } => Some((namespace, name)),
                _ => None,
            })
            .collect();
        assert_eq!(
            deleted,
            [(&Some("default".to_string()), &"web-1".to_string())]
        );
    }

    #[test]
    fn configurable_default_toleration_and_grace() {
        let owner = rs("web", 1);
        let n = tainted_node(UNREACHABLE, 10);
        let p = pod("p", &owner, Some("n1"), "Running", false);
        let config = Config {
            grace_period: 2 * SECOND,
            startup_grace_period: 2 * SECOND,
            default_toleration_seconds: 3,
        };
        let hb = BTreeMap::from([("n1".to_string(), t(0))]);
        let a = reconcile(
            std::slice::from_ref(&n),
            std::slice::from_ref(&p),
            &hb,
            t(12),
            &config,
        );
        assert!(
            !a.iter().any(|x| matches!(x, Action::Delete { .. })),
            "{a:?}"
        );
        let a = reconcile(&[n], &[p], &hb, t(13), &config);
        assert!(
            a.iter()
                .any(|x| matches!(x, Action::Delete { name, .. } if name == "p")),
            "{a:?}"
        );
        let a = reconcile(&[node("n1")], &[], &hb, t(3), &config);
        assert_eq!(
            condition(&applied(&a, "Node"), "Ready").unwrap()["status"],
            "Unknown"
        );
    }

    #[test]
    fn ready_false_from_the_agent_gets_not_ready_taints_and_is_not_overridden() {
        let mut n = node("n1");
        n["status"]["conditions"][0]["status"] = json!("False");
        n["status"]["conditions"][0]["reason"] = json!("KubeletNotReady");
        n["spec"]["taints"] = json!([{"key": "other", "effect": "NoSchedule"}]);
        let a = run(&n, &[], t(10), t(11));
        let n = applied(&a, "Node");
        assert_eq!(
            n["spec"]["taints"],
            json!([
                {"key": "other", "effect": "NoSchedule"},
                {"key": NOT_READY, "effect": "NoSchedule"},
                {"key": NOT_READY, "effect": "NoExecute", "timeAdded": rfc3339(t(11))},
            ])
        );
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn a_node_that_never_reported_gets_the_startup_grace() {
        let mut n = node("n1");
        n["status"] = json!({});
        let none = BTreeMap::new();
        assert_eq!(
            reconcile(
                std::slice::from_ref(&n),
                &[],
                &none,
                t(60),
                &Config::default()
            ),
            []
        );
        let a = reconcile(&[n], &[], &none, t(61), &Config::default());
        let ready = condition(&applied(&a, "Node"), "Ready").unwrap().clone();
        assert_eq!(
            (&ready["status"], &ready["reason"], &ready["message"]),
            (
                &json!("Unknown"),
                &json!("NodeStatusNeverUpdated"),
                &json!("Kubelet never posted node status.")
            )
        );
    }
}
