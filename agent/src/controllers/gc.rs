//! The garbage collector: objects whose owners are gone are deleted.
//!
//! Follows kubernetes/pkg/controller/garbagecollector/garbagecollector.go
//! (`attemptToDeleteItem`, `classifyReferences`): an owner reference is dangling when no
//! object of that kind exists in the namespace with the referenced uid (an object of the
//! same name but another uid is a different object). A dependent whose every owner is
//! dangling is deleted; one with some owners left loses only the dangling references.
//! Deleting a Deployment thus removes its ReplicaSets in one pass and their pods in the
//! next, which is background propagation.
//!
//! Also the pod garbage collector's orphan rule (kubernetes/pkg/controller/podgc/
//! gc_controller.go `gcOrphaned`): a pod bound to a node that no longer exists is deleted
//! with a grace period of 0, since no agent is left to stop it. Upstream waits until the
//! node has been missing for 40 s (its quarantine) and first adds a DisruptionTarget
//! condition; here the pod goes at once, so the loop must list pods before nodes (a node
//! created between the two lists is then seen, never missed).
//!
//! Simplified: background propagation only (no foreground deletion with the
//! `foregroundDeletion` finalizer, no orphaning, which is the server's business if
//! `propagationPolicy: Orphan` is asked for), no dependency graph kept between passes,
//! and only owners of the kinds this control plane stores are judged: Deployments,
//! ReplicaSets and Jobs. A reference to any other kind (a CronJob, a StatefulSet) is
//! assumed to be live, so its dependents are never collected.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::{Action, Snapshot, is_deleting, name, namespace, uid};

const OWNER_KINDS: [&str; 3] = ["Deployment", "ReplicaSet", "Job"];

/// One pass over a snapshot: pods on vanished nodes, then the ReplicaSets, Jobs and pods
/// whose owners are gone (in that order).
pub fn reconcile(snapshot: &Snapshot) -> Vec<Action> {
    let mut live: BTreeSet<(&str, &str, &str)> = BTreeSet::new();
    for (kind, objects) in [
        ("Deployment", &snapshot.deployments),
        ("ReplicaSet", &snapshot.replicasets),
        ("Job", &snapshot.jobs),
    ] {
        for o in objects {
            live.insert((kind, namespace(o), uid(o)));
        }
    }
    let nodes: BTreeSet<&str> = snapshot.nodes.iter().map(name).collect();
    let mut actions = Vec::new();
    let mut gone: BTreeSet<(&str, &str)> = BTreeSet::new();
    for pod in &snapshot.pods {
        let Some(node) = pod["spec"]["nodeName"].as_str() else {
            continue;
        };
        if !node.is_empty() && !nodes.contains(node) && !is_deleting(pod) {
            gone.insert((namespace(pod), name(pod)));
            actions.push(Action::Delete {
                kind: "Pod".into(),
                namespace: Some(namespace(pod).into()),
                name: name(pod).into(),
                grace: Some(0),
            });
        }
    }
    for dependent in snapshot
        .replicasets
        .iter()
        .chain(&snapshot.jobs)
        .chain(&snapshot.pods)
    {
        let Some(refs) = dependent["metadata"]["ownerReferences"].as_array() else {
            continue;
        };
        let already =
            dependent["kind"] == "Pod" && gone.contains(&(namespace(dependent), name(dependent)));
        if refs.is_empty() || is_deleting(dependent) || already {
            continue;
        }
        let dangling = |r: &Value| {
            let kind = r["kind"].as_str().unwrap_or("");
            OWNER_KINDS.contains(&kind)
                && !live.contains(&(kind, namespace(dependent), r["uid"].as_str().unwrap_or("")))
        };
        let kept: Vec<Value> = refs.iter().filter(|r| !dangling(r)).cloned().collect();
        if kept.is_empty() {
            let kind = dependent["kind"].as_str().unwrap_or("Pod");
            actions.push(Action::Delete {
                kind: kind.into(),
                namespace: Some(namespace(dependent).into()),
                name: name(dependent).into(),
                grace: None,
            });
        } else if kept.len() < refs.len() {
            let mut object = dependent.clone();
            object["metadata"]["ownerReferences"] = json!(kept);
            actions.push(Action::Update { object });
        }
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::harness::{deployment, job, node, pod, rs};
    use crate::controllers::owner_ref;

    fn deleted(actions: &[Action]) -> Vec<(String, String)> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { kind, name, .. } => Some((kind.clone(), name.clone())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn orphans_of_a_deleted_deployment_go_in_two_passes() {
        let d = deployment("web", 1);
        let mut r = rs("web-abc", 1);
        r["metadata"]["ownerReferences"] = json!([owner_ref(&d)]);
        let p = pod("web-abc-1", &r, Some("n1"), "Running", true);
        // With the Deployment there, nothing.
        let all = Snapshot {
            nodes: vec![node("n1")],
            deployments: vec![d],
            replicasets: vec![r.clone()],
            pods: vec![p.clone()],
            ..Snapshot::default()
        };
        assert_eq!(reconcile(&all), []);
        // Deployment gone: the ReplicaSet goes; its pod still has a live owner.
        let gone = Snapshot {
            nodes: vec![node("n1")],
            replicasets: vec![r],
            pods: vec![p.clone()],
            ..Snapshot::default()
        };
        assert_eq!(
            deleted(&reconcile(&gone)),
            [("ReplicaSet".to_string(), "web-abc".to_string())]
        );
        // ReplicaSet gone: the pod goes.
        let gone = Snapshot {
            nodes: vec![node("n1")],
            pods: vec![p],
            ..Snapshot::default()
        };
        assert_eq!(
            deleted(&reconcile(&gone)),
            [("Pod".to_string(), "web-abc-1".to_string())]
        );
    }

    #[test]
    fn pods_of_a_deleted_node_go_at_once_with_no_grace() {
        let r = rs("web", 2);
        let on_gone = pod("a", &r, Some("gone"), "Running", true);
        let on_n1 = pod("b", &r, Some("n1"), "Running", true);
        let unbound = pod("c", &r, None, "Pending", false);
        let s = Snapshot {
            nodes: vec![node("n1")],
            replicasets: vec![r.clone()],
            pods: vec![on_gone, on_n1, unbound],
            ..Snapshot::default()
        };
        assert_eq!(
            reconcile(&s),
            [Action::Delete {
                kind: "Pod".into(),
                namespace: Some("default".into()),
                name: "a".into(),
                grace: Some(0)
            }]
        );
    }

    #[test]
    fn same_name_other_uid_is_another_owner() {
        let j = job("batch", Some(1), None);
        let p = pod("batch-1", &j, Some("n1"), "Succeeded", false);
        let mut recreated = j.clone();
        recreated["metadata"]["uid"] = json!("uid-job-batch-2");
        let s = Snapshot {
            nodes: vec![node("n1")],
            jobs: vec![recreated],
            pods: vec![p],
            ..Snapshot::default()
        };
        assert_eq!(
            deleted(&reconcile(&s)),
            [("Pod".to_string(), "batch-1".to_string())]
        );
    }

    #[test]
    fn partial_owners_lose_only_the_dangling_reference_and_unknown_kinds_are_kept() {
        let a = rs("a", 1);
        let b = rs("b", 1);
        let mut p = pod("p", &a, None, "Pending", false);
        p["metadata"]["ownerReferences"] = json!([owner_ref(&a), {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "uid-rs-b"}]);
        let s = Snapshot {
            replicasets: vec![b],
            pods: vec![p],
            ..Snapshot::default()
        };
        let actions = reconcile(&s);
        let [Action::Update { object }] = actions.as_slice() else {
            panic!("{actions:?}")
        };
        assert_eq!(
            object["metadata"]["ownerReferences"],
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "uid-rs-b"}])
        );

        let mut cron_job = job("nightly", Some(1), None);
        cron_job["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "batch/v1", "kind": "CronJob", "name": "n", "uid": "u"}]);
        let mut going = pod("x", &a, None, "Pending", false);
        going["metadata"]["deletionTimestamp"] = json!("2027-01-01T00:00:00Z");
        let s = Snapshot {
            jobs: vec![cron_job],
            pods: vec![going],
            ..Snapshot::default()
        };
        assert_eq!(reconcile(&s), []);
    }
}
