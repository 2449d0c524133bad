//! Server-side printing: the `meta.k8s.io/v1` `Table` kubectl asks for with
//! `Accept: application/json;as=Table;...`, with the columns of kubectl's own printers
//! for each kind (`pkg/printers/internalversion/printers.go`); columns of priority 1 show
//! with `-o wide`.

use serde_json::{Value, json};

use super::meta::{age_secs, human_duration, str_at};

struct Column(&'static str, &'static str, u8);

fn columns(resource: &str) -> &'static [Column] {
    match resource {
        "pods" => &[
            Column("Name", "name", 0),
            Column("Ready", "", 0),
            Column("Status", "", 0),
            Column("Restarts", "", 0),
            Column("Age", "", 0),
            Column("IP", "", 1),
            Column("Node", "", 1),
            Column("Nominated Node", "", 1),
            Column("Readiness Gates", "", 1),
        ],
        "nodes" => &[
            Column("Name", "name", 0),
            Column("Status", "", 0),
            Column("Roles", "", 0),
            Column("Age", "", 0),
            Column("Version", "", 0),
            Column("Internal-IP", "", 1),
            Column("External-IP", "", 1),
            Column("OS-Image", "", 1),
            Column("Kernel-Version", "", 1),
            Column("Container-Runtime", "", 1),
        ],
        "deployments" => &[
            Column("Name", "name", 0),
            Column("Ready", "", 0),
            Column("Up-to-date", "", 0),
            Column("Available", "", 0),
            Column("Age", "", 0),
            Column("Containers", "", 1),
            Column("Images", "", 1),
            Column("Selector", "", 1),
        ],
        "replicasets" => &[
            Column("Name", "name", 0),
            Column("Desired", "", 0),
            Column("Current", "", 0),
            Column("Ready", "", 0),
            Column("Age", "", 0),
            Column("Containers", "", 1),
            Column("Images", "", 1),
            Column("Selector", "", 1),
        ],
        "jobs" => &[
            Column("Name", "name", 0),
            Column("Status", "", 0),
            Column("Completions", "", 0),
            Column("Duration", "", 0),
            Column("Age", "", 0),
            Column("Containers", "", 1),
            Column("Images", "", 1),
            Column("Selector", "", 1),
        ],
        "events" => &[
            Column("Last Seen", "", 0),
            Column("Type", "", 0),
            Column("Reason", "", 0),
            Column("Object", "", 0),
            Column("Message", "", 0),
        ],
        _ => &[
            Column("Name", "name", 0),
            Column("Status", "", 0),
            Column("Age", "", 0),
        ],
    }
}

/// A `Table` of `items`, each row carrying its object (`includeObject=Object`).
pub fn table(resource: &str, items: &[&Value], resource_version: u64) -> Value {
    let defs: Vec<Value> = columns(resource)
        .iter()
        .map(|c| {
            json!({"name": c.0, "type": "string", "format": c.1, "description": "",
                   "priority": c.2})
        })
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|o| json!({"cells": cells(resource, o), "object": o}))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": defs,
        "rows": rows,
    })
}

fn age(o: &Value) -> String {
    human_duration(age_secs(str_at(o, "/metadata/creationTimestamp")))
}

fn int(o: &Value, pointer: &str) -> i64 {
    o.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn containers_and_images(o: &Value, spec: &str) -> (String, String) {
    let list = o
        .pointer(&format!("{spec}/containers"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = list.iter().map(|c| str_at(c, "/name")).collect();
    let images: Vec<&str> = list.iter().map(|c| str_at(c, "/image")).collect();
    (names.join(","), images.join(","))
}

fn selector(o: &Value) -> String {
    o.pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn cells(resource: &str, o: &Value) -> Vec<Value> {
    let name = str_at(o, "/metadata/name");
    match resource {
        "pods" => {
            let statuses = o
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = o
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            let ready = statuses
                .iter()
                .filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true))
                .count();
            let restarts: i64 = statuses.iter().map(|s| int(s, "/restartCount")).sum();
            let node = str_at(o, "/spec/nodeName");
            let ip = str_at(o, "/status/podIP");
            let nominated = str_at(o, "/status/nominatedNodeName");
            vec![
                json!(name),
                json!(format!("{ready}/{total}")),
                json!(pod_status(o)),
                json!(restarts),
                json!(age(o)),
                json!(if ip.is_empty() { "<none>" } else { ip }),
                json!(if node.is_empty() { "<none>" } else { node }),
                json!(if nominated.is_empty() {
                    "<none>"
                } else {
                    nominated
                }),
                json!("<none>"),
            ]
        }
        "nodes" => {
            let ready = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| str_at(c, "/type") == "Ready"))
                .map(|c| str_at(c, "/status"));
            let mut status = if ready == Some("True") {
                "Ready"
            } else {
                "NotReady"
            }
            .to_owned();
            if o.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
                status.push_str(",SchedulingDisabled");
            }
            let ip = o
                .pointer("/status/addresses")
                .and_then(Value::as_array)
                .and_then(|a| a.iter().find(|x| str_at(x, "/type") == "InternalIP"))
                .map_or("<none>", |x| str_at(x, "/address"));
            let version = str_at(o, "/status/nodeInfo/kubeletVersion");
            vec![
                json!(name),
                json!(status),
                json!("<none>"),
                json!(age(o)),
                json!(version),
                json!(ip),
                json!("<none>"),
                json!(str_at(o, "/status/nodeInfo/osImage")),
                json!(str_at(o, "/status/nodeInfo/kernelVersion")),
                json!(str_at(o, "/status/nodeInfo/containerRuntimeVersion")),
            ]
        }
        "deployments" => {
            let (c, i) = containers_and_images(o, "/spec/template/spec");
            vec![
                json!(name),
                json!(format!(
                    "{}/{}",
                    int(o, "/status/readyReplicas"),
                    int(o, "/spec/replicas")
                )),
                json!(int(o, "/status/updatedReplicas")),
                json!(int(o, "/status/availableReplicas")),
                json!(age(o)),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "replicasets" => {
            let (c, i) = containers_and_images(o, "/spec/template/spec");
            vec![
                json!(name),
                json!(int(o, "/spec/replicas")),
                json!(int(o, "/status/replicas")),
                json!(int(o, "/status/readyReplicas")),
                json!(age(o)),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "jobs" => {
            let (c, i) = containers_and_images(o, "/spec/template/spec");
            let conditions = o
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let has = |t: &str| {
                conditions
                    .iter()
                    .any(|c| str_at(c, "/type") == t && str_at(c, "/status") == "True")
            };
            let status = if has("Complete") {
                "Complete"
            } else if has("Failed") {
                "Failed"
            } else {
                "Running"
            };
            let completions = o
                .pointer("/spec/completions")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let start = str_at(o, "/status/startTime");
            let end = str_at(o, "/status/completionTime");
            let duration = if start.is_empty() {
                String::new()
            } else if end.is_empty() {
                human_duration(age_secs(start))
            } else {
                human_duration(age_secs(start).saturating_sub(age_secs(end)))
            };
            vec![
                json!(name),
                json!(status),
                json!(format!("{}/{completions}", int(o, "/status/succeeded"))),
                json!(duration),
                json!(age(o)),
                json!(c),
                json!(i),
                json!(selector(o)),
            ]
        }
        "events" => {
            let last = str_at(o, "/lastTimestamp");
            vec![
                json!(human_duration(age_secs(last))),
                json!(str_at(o, "/type")),
                json!(str_at(o, "/reason")),
                json!(format!(
                    "{}/{}",
                    str_at(o, "/involvedObject/kind").to_lowercase(),
                    str_at(o, "/involvedObject/name")
                )),
                json!(str_at(o, "/message")),
            ]
        }
        _ => vec![
            json!(name),
            json!(match str_at(o, "/status/phase") {
                "" => "Active",
                p => p,
            }),
            json!(age(o)),
        ],
    }
}

/// The STATUS column of `kubectl get pods`: Terminating, a container's waiting or
/// terminated reason, or the phase.
pub fn pod_status(o: &Value) -> String {
    if o.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return "Terminating".into();
    }
    let mut reason = str_at(o, "/status/phase").to_owned();
    if reason.is_empty() {
        reason = "Pending".into();
    }
    if let Some(statuses) = o
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for s in statuses {
            let waiting = str_at(s, "/state/waiting/reason");
            let terminated = str_at(s, "/state/terminated/reason");
            if !waiting.is_empty() {
                reason = waiting.to_owned();
            } else if !terminated.is_empty() && reason != "Running" {
                reason = terminated.to_owned();
            }
        }
    }
    reason
}
