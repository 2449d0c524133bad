//! The ReplicaSet controller: keeps `spec.replicas` live pods.
//!
//! Follows kubernetes/pkg/controller/replicaset/replica_set.go (`syncReplicaSet`,
//! `manageReplicas`, `getPodsToDelete`), replica_set_utils.go (`calculateStatus`) and the
//! deletion order of `ActivePodsWithRanks` in kubernetes/pkg/controller/controller_utils.go.
//! A pod is live when it is neither Succeeded nor Failed nor being deleted
//! (`FilterActivePods`); missing pods are created from `spec.template` with a controller
//! owner reference and the name `RS-` plus five random characters; surplus pods are
//! deleted unassigned first, then pending, then not ready, then by deletion cost, pods
//! doubled up on a node, shortest ready, most restarts, newest.
//!
//! A ReplicaSet's pods are claimed as upstream's `ControllerRefManager.ClaimPods` does,
//! among the live pods of its namespace: a pod whose controller reference names the
//! ReplicaSet's uid is its own while `spec.selector` matches it, and is released (the
//! reference removed) when its labels no longer match; a live pod with no controller that
//! the selector matches is adopted (a controller reference added). Selectors are
//! evaluated with `schedulers::labels`; a missing selector means the template's labels
//! (the old extensions/v1beta1 default), and a ReplicaSet whose selector does not match
//! its own template creates nothing (the API server would have rejected it).
//!
//! Simplified: no slow-start batches (upstream creates 1, 2, 4, ... pods and stops at
//! the first error): one pass asks for every missing pod, capped at upstream's burst of
//! 500. Before adopting, upstream re-reads the ReplicaSet to make sure it is not being
//! deleted; here the listed object is trusted. The ReplicaFailure condition is not kept.

use serde_json::{Map, Value, json};

use super::{
    Action, Event, EventType, NameSuffix, Time, controller_ref, delete_pod, deletion_order, int_or,
    is_controlled_by, is_deleting, is_pod_active, is_pod_available, is_pod_ready, name, namespace,
    owner_ref, pod_from_template, selector_matches, status_update, uid, well_formed,
};

/// Upstream's `BurstReplicas`: the most pods one pass creates or deletes.
pub const BURST_REPLICAS: usize = 500;

/// The component named in this controller's Events.
pub const COMPONENT: &str = "replicaset-controller";

/// One pass over a ReplicaSet and the pods of its namespace (it adopts matching orphans;
/// pods of other namespaces or other controllers are ignored).
pub fn reconcile(
    rs: &Value,
    pods: &[&Value],
    now: Time,
    names: &mut dyn NameSuffix,
) -> Vec<Action> {
    let mut actions = Vec::new();
    if !well_formed(rs) {
        return actions;
    }
    let selector = match &rs["spec"]["selector"] {
        // extensions/v1beta1 defaulted a missing selector to the template's labels.
        Value::Null => json!({"matchLabels": rs["spec"]["template"]["metadata"]["labels"]}),
        given => given.clone(),
    };
    let active = claim(rs, &selector, pods, &mut actions);
    // Pods made from a template the selector does not match would never be counted, and
    // the set would grow without end (the API server rejects such a ReplicaSet).
    let template_selected =
        selector_matches(&selector, &rs["spec"]["template"]["metadata"]["labels"]);

    // A ReplicaSet being deleted only reports; the garbage collector removes its pods.
    if !is_deleting(rs) && template_selected {
        let want = usize::try_from(int_or(&rs["spec"]["replicas"], 1)).unwrap_or(0);
        if active.len() < want {
            for _ in 0..(want - active.len()).min(BURST_REPLICAS) {
                let pod = pod_from_template(&rs["spec"]["template"], rs, name(rs), names);
                let message = format!("Created pod: {}", super::name(&pod));
                actions.push(Action::Create { object: pod });
                actions.push(Action::Event(Event::about(
                    rs,
                    EventType::Normal,
                    "SuccessfulCreate",
                    message,
                    COMPONENT,
                )));
            }
        } else if active.len() > want {
            let surplus = (active.len() - want).min(BURST_REPLICAS);
            for pod in pods_to_delete(&active, surplus) {
                actions.push(delete_pod(pod));
                actions.push(Action::Event(Event::about(
                    rs,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted pod: {}", name(pod)),
                    COMPONENT,
                )));
            }
        }
    }

    let min_ready = int_or(&rs["spec"]["minReadySeconds"], 0);
    let template_labels = rs["spec"]["template"]["metadata"]["labels"].as_object();
    let fully_labeled = active
        .iter()
        .filter(|p| {
            template_labels.is_none_or(|want| {
                want.iter()
                    .all(|(k, v)| p["metadata"]["labels"][k.as_str()] == *v)
            })
        })
        .count();
    let mut status = Map::new();
    status.insert("replicas".into(), json!(active.len()));
    status.insert("fullyLabeledReplicas".into(), json!(fully_labeled));
    status.insert(
        "readyReplicas".into(),
        json!(active.iter().filter(|p| is_pod_ready(p)).count()),
    );
    status.insert(
        "availableReplicas".into(),
        json!(
            active
                .iter()
                .filter(|p| is_pod_available(p, min_ready, now))
                .count()
        ),
    );
    status.insert(
        "observedGeneration".into(),
        rs["metadata"]["generation"].clone(),
    );
    actions.extend(status_update(rs, status));
    actions
}

/// The live pods that are the ReplicaSet's, adopting and releasing as its selector says
/// (upstream's `ClaimPods`); the adoptions and releases are pushed as Updates.
fn claim<'a>(
    rs: &Value,
    selector: &Value,
    pods: &[&'a Value],
    actions: &mut Vec<Action>,
) -> Vec<&'a Value> {
    let mut claimed = Vec::new();
    for &p in pods {
        if namespace(p) != namespace(rs) || !is_pod_active(p) || !p["metadata"].is_object() {
            continue;
        }
        // Most pods of a namespace belong to other controllers: match only the rest.
        let matches = || selector_matches(selector, &p["metadata"]["labels"]);
        match controller_ref(p) {
            Some(_) if is_controlled_by(p, rs) => {
                if is_deleting(rs) || matches() {
                    claimed.push(p);
                } else {
                    let mut object = p.clone();
                    if let Some(refs) = object["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"].as_str() != Some(uid(rs)));
                    }
                    actions.push(Action::Update { object });
                }
            }
            Some(_) => {}
            None if !is_deleting(rs) && !uid(rs).is_empty() && matches() => {
                let mut object = p.clone();
                let mut refs = object["metadata"]["ownerReferences"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                refs.push(owner_ref(rs));
                object["metadata"]["ownerReferences"] = Value::Array(refs);
                actions.push(Action::Update { object });
                claimed.push(p);
            }
            None => {}
        }
    }
    claimed
}

/// The `count` pods to delete first, in upstream's order; the rank of a pod is the number
/// of live pods of the same ReplicaSet on its node.
fn pods_to_delete<'a>(active: &[&'a Value], count: usize) -> Vec<&'a Value> {
    let node = |p: &Value| p["spec"]["nodeName"].as_str().unwrap_or("").to_string();
    let rank = |p: &Value| active.iter().filter(|q| node(q) == node(p)).count();
    let mut sorted = active.to_vec();
    sorted.sort_by(|a, b| deletion_order(a, b, &rank));
    sorted.truncate(count);
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::harness::{counter, creates, pod, rs, t};
    use crate::controllers::rfc3339;

    fn deletes(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Delete { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn three_replicas_with_one_pod_creates_two_owned_pods() {
        let rs = rs("web", 3);
        let p = pod("web-aaaaa", &rs, Some("n1"), "Running", true);
        let actions = reconcile(&rs, &[&p], t(10), &mut counter());
        assert_eq!(creates(&actions), ["web-bbbb0", "web-bbbb1"]);
        let Action::Create { object } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(object["metadata"]["generateName"], "web-");
        assert_eq!(object["metadata"]["namespace"], "default");
        assert_eq!(object["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(
            object["metadata"]["ownerReferences"][0]["uid"],
            "uid-rs-web"
        );
        assert_eq!(object["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(object["spec"]["containers"][0]["name"], "main");
        let Action::Event(e) = &actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!(
            (e.reason.as_str(), e.message.as_str()),
            ("SuccessfulCreate", "Created pod: web-bbbb0")
        );
        // Status reports what is there now (one pod), not what was just asked for.
        let Some(Action::UpdateStatus { object }) = actions.last() else {
            panic!("{actions:?}")
        };
        assert_eq!(object["status"]["replicas"], 1);
        assert_eq!(object["status"]["readyReplicas"], 1);
        assert_eq!(object["metadata"]["resourceVersion"], "7");
    }

    // The brief's case: the surplus goes in upstream's order (see `deletion_order_rows` in
    // mod.rs for TestSortingActivePodsWithRanks), so the two unassigned pods go first.
    #[test]
    fn five_pods_for_three_replicas_deletes_the_unassigned_first() {
        let rs = rs("web", 3);
        let p1 = pod("web-1", &rs, Some("n1"), "Running", true);
        let p2 = pod("web-2", &rs, None, "Pending", false);
        let p3 = pod("web-3", &rs, Some("n2"), "Running", true);
        let p4 = pod("web-4", &rs, None, "Pending", false);
        let p5 = pod("web-5", &rs, Some("n3"), "Running", true);
        let actions = reconcile(&rs, &[&p1, &p2, &p3, &p4, &p5], t(10), &mut counter());
        assert_eq!(deletes(&actions), ["web-2", "web-4"]);
        assert!(creates(&actions).is_empty());
    }

    #[test]
    fn surplus_order_pending_then_not_ready_then_doubled_up() {
        let rs = rs("web", 1);
        let running_alone = pod("a", &rs, Some("n1"), "Running", true);
        let pending = pod("b", &rs, Some("n2"), "Pending", false);
        let not_ready = pod("c", &rs, Some("n3"), "Running", false);
        let doubled1 = pod("d", &rs, Some("n4"), "Running", true);
        let doubled2 = pod("e", &rs, Some("n4"), "Running", true);
        let all = [&running_alone, &pending, &not_ready, &doubled1, &doubled2];
        let actions = reconcile(&rs, &all, t(10), &mut counter());
        // The two on n4 tie on everything but the name.
        assert_eq!(deletes(&actions), ["b", "c", "d", "e"]);
    }

    #[test]
    fn finished_deleting_and_foreign_pods_do_not_count() {
        let rs = rs("web", 2);
        let other = rs_named("other");
        let done = pod("web-1", &rs, Some("n1"), "Succeeded", false);
        let failed = pod("web-2", &rs, Some("n1"), "Failed", false);
        let mut going = pod("web-3", &rs, Some("n1"), "Running", true);
        going["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
        let foreign = pod("other-1", &other, Some("n1"), "Running", true);
        let live = pod("web-4", &rs, Some("n1"), "Running", true);
        let actions = reconcile(
            &rs,
            &[&done, &failed, &going, &foreign, &live],
            t(10),
            &mut counter(),
        );
        assert_eq!(creates(&actions), ["web-bbbb0"]);
        assert!(deletes(&actions).is_empty());
    }

    fn rs_named(n: &str) -> Value {
        rs(n, 1)
    }

    // The rows of upstream's TestClaimPods (pkg/controller/controller_ref_manager_test.go),
    // with "app: web" for productionLabel and "app: test" for testLabel: which pods are
    // claimed, and how many adoptions or releases (patches) are written.
    #[test]
    fn claim_pods_rows() {
        let web = rs("web", 2);
        let mut deleting = web.clone();
        deleting["metadata"]["deletionTimestamp"] = json!(rfc3339(t(0)));
        let other = rs_named("other");
        let make = |n: &str, app: &str, owner: Option<&Value>| {
            let mut p = pod(n, &web, None, "Pending", false);
            p["metadata"]["labels"] = json!({"app": app});
            p["metadata"]["ownerReferences"] =
                json!(owner.map(owner_ref).into_iter().collect::<Vec<_>>());
            p
        };
        let mut gone_owned = make("pod1", "web", Some(&web));
        gone_owned["metadata"]["deletionTimestamp"] = json!(rfc3339(t(0)));
        let mut gone_orphan = make("pod2", "web", None);
        gone_orphan["metadata"]["deletionTimestamp"] = json!(rfc3339(t(0)));
        let mut elsewhere = make("pod2", "web", None);
        elsewhere["metadata"]["namespace"] = json!("fakens");
        // (row, the ReplicaSet, its candidate pods, the names claimed, the patches)
        type Row<'a> = (&'a str, &'a Value, Vec<Value>, Vec<&'a str>, usize);
        let rows: Vec<Row> = vec![
            (
                "Claim pods with correct label",
                &web,
                vec![make("pod1", "web", None), make("pod2", "test", None)],
                vec!["pod1"],
                1,
            ),
            (
                "Controller marked for deletion can not claim pods",
                &deleting,
                vec![make("pod1", "web", None), make("pod2", "web", None)],
                vec![],
                0,
            ),
            (
                "Controller marked for deletion can not claim new pods",
                &deleting,
                vec![make("pod1", "web", Some(&web)), make("pod2", "web", None)],
                vec!["pod1"],
                0,
            ),
            (
                "Controller can not claim pods owned by another controller",
                &web,
                vec![
                    make("pod1", "web", Some(&web)),
                    make("pod2", "web", Some(&other)),
                ],
                vec!["pod1"],
                0,
            ),
            (
                "Controller releases claimed pods when selector doesn't match",
                &web,
                vec![
                    make("pod1", "web", Some(&web)),
                    make("pod2", "test", Some(&web)),
                ],
                vec!["pod1"],
                1,
            ),
            // Upstream's ClaimPods keeps the owned pod1 here; the ReplicaSet filters
            // terminating pods out before it claims, so neither counts.
            (
                "Controller does not claim orphaned pods marked for deletion",
                &web,
                vec![gone_owned, gone_orphan],
                vec![],
                0,
            ),
            (
                "Controller does not claim pods of different namespace",
                &web,
                vec![make("pod1", "web", None), elsewhere],
                vec!["pod1"],
                1,
            ),
        ];
        for (row, owner, pods, want, patches) in rows {
            let refs: Vec<&Value> = pods.iter().collect();
            let mut actions = Vec::new();
            let claimed = claim(owner, &owner["spec"]["selector"], &refs, &mut actions);
            let names: Vec<&str> = claimed.iter().map(|p| name(p)).collect();
            assert_eq!(names, want, "{row}");
            assert_eq!(actions.len(), patches, "{row}: {actions:?}");
        }
    }

    // Through a whole pass: a matching orphan is adopted and counted, a pod relabelled out
    // of the selector is released and replaced, another controller's pod is left alone.
    #[test]
    fn orphans_are_adopted_and_relabelled_pods_released() {
        let rs = rs("web", 2);
        let other = rs_named("other");
        let mut orphan = pod("orphan", &rs, Some("n1"), "Running", true);
        orphan["metadata"]["ownerReferences"] = json!([]);
        let mut relabelled = pod("relabelled", &rs, Some("n1"), "Running", true);
        relabelled["metadata"]["labels"] = json!({"app": "debug"});
        let mut theirs = pod("theirs", &other, Some("n1"), "Running", true);
        theirs["metadata"]["labels"] = json!({"app": "web"});
        let mine = pod("mine", &rs, Some("n1"), "Running", true);
        let actions = reconcile(
            &rs,
            &[&orphan, &relabelled, &theirs, &mine],
            t(10),
            &mut counter(),
        );
        let Action::Update { object } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(name(object), "orphan");
        assert_eq!(
            object["metadata"]["ownerReferences"][0]["uid"],
            "uid-rs-web"
        );
        assert_eq!(object["metadata"]["ownerReferences"][0]["controller"], true);
        let Action::Update { object } = &actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!(name(object), "relabelled");
        assert_eq!(object["metadata"]["ownerReferences"], json!([]));
        // orphan + mine = 2: nothing to create or delete.
        assert!(
            creates(&actions).is_empty() && deletes(&actions).is_empty(),
            "{actions:?}"
        );
        let Some(Action::UpdateStatus { object }) = actions.last() else {
            panic!("{actions:?}")
        };
        assert_eq!(object["status"]["replicas"], 2);
        assert_eq!(actions.len(), 3);
    }

    #[test]
    fn a_selector_that_misses_the_template_creates_nothing() {
        let mut rs = rs("web", 2);
        rs["spec"]["selector"] = json!({"matchLabels": {"app": "elsewhere"}});
        assert!(creates(&reconcile(&rs, &[], t(1), &mut counter())).is_empty());
        // No selector at all: the template's labels.
        let mut rs = rs_named("web");
        rs["spec"].as_object_mut().unwrap().remove("selector");
        assert_eq!(
            creates(&reconcile(&rs, &[], t(1), &mut counter())),
            ["web-bbbb0"]
        );
        // matchExpressions: In and NotIn.
        let mut rs = rs_named("web");
        rs["spec"]["selector"] = json!({"matchExpressions": [
            {"key": "app", "operator": "In", "values": ["web", "www"]},
            {"key": "tier", "operator": "NotIn", "values": ["db"]},
        ]});
        let p = pod("web-1", &rs, Some("n1"), "Running", true);
        assert!(creates(&reconcile(&rs, &[&p], t(1), &mut counter())).is_empty());
    }

    #[test]
    fn steady_state_writes_nothing() {
        let mut rs = rs("web", 1);
        let p = pod("web-1", &rs, Some("n1"), "Running", true);
        rs["status"] = json!({
            "replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1,
            "availableReplicas": 1, "observedGeneration": 1,
        });
        assert_eq!(reconcile(&rs, &[&p], t(10), &mut counter()), []);
    }

    #[test]
    fn available_waits_for_min_ready_seconds() {
        let mut rs = rs("web", 1);
        rs["spec"]["minReadySeconds"] = json!(10);
        // The harness's pods became ready at t(0).
        let p = pod("web-1", &rs, Some("n1"), "Running", true);
        let status_at = |now| {
            let actions = reconcile(&rs, &[&p], now, &mut counter());
            let Some(Action::UpdateStatus { object }) = actions.last() else {
                panic!("{actions:?}")
            };
            object["status"]["availableReplicas"].clone()
        };
        assert_eq!(status_at(t(10)), 0);
        assert_eq!(status_at(t(11)), 1);
    }
}
