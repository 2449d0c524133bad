//! The Deployment controller: one ReplicaSet per pod template, scaled to `spec.replicas`.
//!
//! Follows kubernetes/pkg/controller/deployment/ (deployment_controller.go `syncDeployment`,
//! sync.go `getNewReplicaSet` and `calculateStatus`, recreate.go, and
//! util/deployment_util.go for the revision annotation and the Available condition's
//! wording) and kubernetes/pkg/controller/controller_utils.go `ComputeHash` for the
//! template hash: the ReplicaSet of a template is named `DEPLOYMENT-HASH`, and carries the
//! label `pod-template-hash=HASH` on itself, its selector and its pod template. The hash
//! is FNV-1a (32 bit) of the template with that label removed, plus
//! `status.collisionCount` when set, written as a decimal number and mapped onto
//! apimachinery's safe alphabet as `rand.SafeEncodeString` does. Upstream feeds the hasher
//! a `spew` dump of the Go struct; here it is canonical JSON (keys sorted), so the values
//! differ from upstream's but are stable across runs and machines.
//!
//! Status as upstream computes it: `replicas`, `readyReplicas` and `availableReplicas`
//! summed over the ReplicaSets' statuses, `updatedReplicas` the new ReplicaSet's,
//! `unavailableReplicas` what the desired total lacks, `observedGeneration`, and the
//! Available condition (`MinimumReplicasAvailable` / `MinimumReplicasUnavailable`).
//!
//! Rollouts as upstream's rolling.go and recreate.go: with RollingUpdate, a pass either
//! grows the new ReplicaSet while all ReplicaSets together want at most `replicas +
//! maxSurge` pods, or, when the new one did not change, shrinks the old ones (oldest
//! first; unavailable pods first, `cleanupUnhealthyReplicas`) while `replicas -
//! maxUnavailable` stay available. `maxSurge` and `maxUnavailable` default to 25%, the
//! surge rounded up and the unavailable down, as `ResolveFenceposts` does. Recreate scales
//! the old ReplicaSets to 0 and creates or scales the new one once their pods are gone.
//! A ReplicaSet that one pass would scale twice is written once, with the final size.
//!
//! Simplified: a change of `spec.replicas` in the middle of a rollout is not spread over
//! the ReplicaSets in proportion (upstream's `scale`); the rollout rules absorb it. No
//! Progressing condition, no `progressDeadlineSeconds`, no rollback, no revision history
//! cleanup (`revisionHistoryLimit`), no adoption of ReplicaSets by selector, and no
//! hash-collision handling: a ReplicaSet of that name owned by someone else just makes the
//! create fail each pass. A changed `minReadySeconds` reaches only new ReplicaSets.
//! `spec.paused` stops scaling; status is still reported.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{
    ALPHANUMS, Action, Event, EventType, Time, int_or, is_controlled_by, is_deleting, name,
    namespace, owner_ref, parse_time, status_update, well_formed,
};

/// The label that ties a ReplicaSet and its pods to one template.
pub const HASH_LABEL: &str = "pod-template-hash";

/// The annotation holding a ReplicaSet's revision number.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// The annotation with the Deployment's `spec.replicas` when the ReplicaSet was last sized.
pub const DESIRED_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";

/// The annotation with `spec.replicas + maxSurge` when the ReplicaSet was last sized.
pub const MAX_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";

/// The component named in this controller's Events.
pub const COMPONENT: &str = "deployment-controller";

/// The hash of a pod template (see the module doc), as used in names and labels.
pub fn template_hash(template: &Value, collision_count: Option<i64>) -> String {
    let mut t = template.clone();
    let labels = t.get_mut("metadata").and_then(|m| m.get_mut("labels"));
    if let Some(labels) = labels.and_then(Value::as_object_mut) {
        labels.remove(HASH_LABEL);
    }
    let mut canonical = String::new();
    write_canonical(&t, &mut canonical);
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= u32::from(*b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    feed(canonical.as_bytes());
    if let Some(c) = collision_count {
        // Upstream writes eight bytes: the count's four, little-endian, then zeros.
        let mut bytes = [0u8; 8];
        bytes[..4].copy_from_slice(&(c as u32).to_le_bytes());
        feed(&bytes);
    }
    h.to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// JSON with object keys in sorted order, whatever map the build's serde_json uses.
fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// One pass over a Deployment and the ReplicaSets it may own (others are ignored).
pub fn reconcile(d: &Value, replicasets: &[&Value], now: Time) -> Vec<Action> {
    let mut actions = Vec::new();
    if is_deleting(d) || !well_formed(d) {
        return actions;
    }
    let owned: Vec<&Value> = replicasets
        .iter()
        .copied()
        .filter(|rs| is_controlled_by(rs, d))
        .collect();
    let collision = d["status"]["collisionCount"].as_i64();
    let hash = template_hash(&d["spec"]["template"], collision);
    let new_rs = owned
        .iter()
        .copied()
        .find(|rs| rs["metadata"]["labels"][HASH_LABEL] == hash.as_str());
    let old: Vec<&Value> = owned
        .iter()
        .copied()
        .filter(|rs| rs["metadata"]["labels"][HASH_LABEL] != hash.as_str())
        .collect();
    let mut old: Vec<&Value> = old;
    // Oldest first, as upstream's `ReplicaSetsByCreationTimestamp` (then by name).
    old.sort_by(|a, b| {
        let created = |rs: &Value| {
            rs["metadata"]["creationTimestamp"]
                .as_str()
                .and_then(parse_time)
        };
        created(a)
            .cmp(&created(b))
            .then_with(|| name(a).cmp(name(b)))
    });
    let replicas = int_or(&d["spec"]["replicas"], 1).max(0);
    let paused = d["spec"]["paused"].as_bool() == Some(true);
    let recreate = d["spec"]["strategy"]["type"].as_str() == Some("Recreate");

    let mut plan = Plan::default();
    let mut created: Option<Value> = None;
    if paused {
        // Only the status is reported.
    } else if recreate {
        // Upstream's rolloutRecreate: old ReplicaSets to 0; the new one only once the
        // old pods are gone.
        for rs in &old {
            plan.set(rs, 0);
        }
        let old_pods_left = old
            .iter()
            .any(|rs| int_or(&rs["status"]["replicas"], 0) > 0);
        if plan.changes.is_empty() && !old_pods_left {
            match new_rs {
                Some(rs) => plan.set(rs, replicas),
                None => created = Some(new_replicaset(d, &hash, replicas, next_revision(&old))),
            }
        }
    } else {
        // Upstream's rolloutRolling: the new ReplicaSet grows within maxSurge; when it
        // did not change, the old ones shrink within maxUnavailable.
        let surge = max_surge(d, replicas);
        let old_total: i64 = old.iter().map(|rs| plan.spec(rs)).sum();
        let grown = |current: i64| -> i64 {
            let room = replicas + surge - (old_total + current);
            if room <= 0 {
                current
            } else {
                current + room.min(replicas - current)
            }
        };
        let (new_spec, new_available) = match new_rs {
            None => {
                let to = grown(0);
                created = Some(new_replicaset(d, &hash, to, next_revision(&old)));
                (to, 0)
            }
            Some(rs) => {
                let current = plan.spec(rs);
                if current > replicas {
                    plan.set(rs, replicas);
                } else if current < replicas {
                    plan.set(rs, grown(current));
                }
                (current, int_or(&rs["status"]["availableReplicas"], 0))
            }
        };
        if plan.changes.is_empty() && old_total > 0 {
            let min_available = replicas - max_unavailable(d, replicas);
            let new_unavailable = new_spec - new_available;
            let max_scaled_down = old_total + new_spec - min_available - new_unavailable;
            if max_scaled_down > 0 {
                // cleanupUnhealthyReplicas: first the old pods that are not available.
                let mut cleaned = 0;
                for rs in &old {
                    if cleaned >= max_scaled_down {
                        break;
                    }
                    let (spec, available) =
                        (plan.spec(rs), int_or(&rs["status"]["availableReplicas"], 0));
                    if spec == 0 || spec <= available {
                        continue;
                    }
                    let down = (max_scaled_down - cleaned).min(spec - available);
                    plan.set(rs, spec - down);
                    cleaned += down;
                }
                // scaleDownOldReplicaSetsForRollingUpdate: then available ones, as long as
                // minAvailable stay.
                let available: i64 = owned
                    .iter()
                    .map(|rs| int_or(&rs["status"]["availableReplicas"], 0))
                    .sum();
                let mut left = available - min_available;
                for rs in &old {
                    if left <= 0 {
                        break;
                    }
                    let spec = plan.spec(rs);
                    if spec == 0 {
                        continue;
                    }
                    let down = spec.min(left);
                    plan.set(rs, spec - down);
                    left -= down;
                }
            }
        }
    }

    if let Some(rs) = &created {
        let to = int_or(&rs["spec"]["replicas"], 0);
        let message = format!("Scaled up replica set {} to {to}", name(rs));
        actions.push(Action::Create { object: rs.clone() });
        if to > 0 {
            actions.push(Action::Event(Event::about(
                d,
                EventType::Normal,
                "ScalingReplicaSet",
                message,
                COMPONENT,
            )));
        }
    }
    for rs in old.iter().copied().chain(new_rs) {
        if let Some(&to) = plan.changes.get(name(rs)) {
            actions.extend(scale(d, rs, to));
        }
    }
    let planned_total: i64 = old
        .iter()
        .copied()
        .chain(new_rs)
        .map(|rs| plan.spec(rs))
        .sum::<i64>()
        + created
            .as_ref()
            .map_or(0, |rs| int_or(&rs["spec"]["replicas"], 0));

    let sum = |field: &str| -> i64 { owned.iter().map(|rs| int_or(&rs["status"][field], 0)).sum() };
    let available = sum("availableReplicas");
    let mut status = Map::new();
    status.insert(
        "observedGeneration".into(),
        d["metadata"]["generation"].clone(),
    );
    status.insert("replicas".into(), json!(sum("replicas")));
    status.insert(
        "updatedReplicas".into(),
        json!(new_rs.map_or(0, |rs| int_or(&rs["status"]["replicas"], 0))),
    );
    status.insert("readyReplicas".into(), json!(sum("readyReplicas")));
    status.insert("availableReplicas".into(), json!(available));
    status.insert(
        "unavailableReplicas".into(),
        json!((planned_total - available).max(0)),
    );
    let min_available = replicas - max_unavailable(d, replicas);
    let condition = if available >= min_available {
        (
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
        )
    } else {
        (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
    };
    status.insert("conditions".into(), available_condition(d, condition, now));
    actions.extend(status_update(d, status));
    actions
}

/// The Deployment's conditions with Available set; an unchanged condition keeps its times.
fn available_condition(
    d: &Value,
    (status, reason, message): (&str, &str, &str),
    now: Time,
) -> Value {
    let mut conditions: Vec<Value> = d["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let at = super::rfc3339(now);
    let existing = conditions.iter_mut().find(|c| c["type"] == "Available");
    match existing {
        Some(c) if c["status"] == status && c["reason"] == reason => {}
        Some(c) => {
            let transition = if c["status"] == status { c["lastTransitionTime"].clone() } else { json!(at) };
            *c = json!({"type": "Available", "status": status, "reason": reason, "message": message,
                        "lastUpdateTime": at, "lastTransitionTime": transition});
        }
        None => conditions.push(json!({"type": "Available", "status": status, "reason": reason,
                                       "message": message, "lastUpdateTime": at, "lastTransitionTime": at})),
    }
    Value::Array(conditions)
}

/// Upstream's `ResolveFenceposts`: `maxSurge` and `maxUnavailable` of a RollingUpdate
/// (both 0 with Recreate) against `replicas` (25% each by default; percentages round up for the surge, down for
/// the unavailable; when both come to 0, one pod may be unavailable).
fn fenceposts(d: &Value, replicas: i64) -> (i64, i64) {
    if d["spec"]["strategy"]["type"] == "Recreate" {
        return (0, 0);
    }
    let rolling = &d["spec"]["strategy"]["rollingUpdate"];
    let resolve = |v: &Value, round_up: bool| -> i64 {
        let pct = match v {
            Value::Number(n) => return n.as_i64().unwrap_or(0).clamp(0, i64::from(i32::MAX)),
            Value::String(s) if s.ends_with('%') => s.trim_end_matches('%').parse().unwrap_or(25),
            _ => 25,
        };
        let scaled = replicas.saturating_mul(pct.clamp(0, i64::from(i32::MAX)));
        if round_up {
            scaled.saturating_add(99) / 100
        } else {
            scaled / 100
        }
    };
    let surge = resolve(&rolling["maxSurge"], true);
    let unavailable = resolve(&rolling["maxUnavailable"], false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

/// What upstream's `SetReplicasAnnotations` records as `max-replicas`.
fn max_replicas(d: &Value) -> i64 {
    let replicas = int_or(&d["spec"]["replicas"], 1).max(0);
    replicas + max_surge(d, replicas)
}

/// Upstream's `MaxSurge`.
fn max_surge(d: &Value, replicas: i64) -> i64 {
    fenceposts(d, replicas).0
}

/// Upstream's `MaxUnavailable`: never more than `replicas`.
fn max_unavailable(d: &Value, replicas: i64) -> i64 {
    fenceposts(d, replicas).1.min(replicas)
}

/// The `spec.replicas` this pass gives each ReplicaSet it changes, so a ReplicaSet
/// scaled twice in one pass (unhealthy cleanup, then scale-down) is written once.
#[derive(Default)]
struct Plan {
    changes: BTreeMap<String, i64>,
}

impl Plan {
    fn spec(&self, rs: &Value) -> i64 {
        self.changes
            .get(name(rs))
            .copied()
            .unwrap_or_else(|| int_or(&rs["spec"]["replicas"], 1))
    }

    fn set(&mut self, rs: &Value, to: i64) {
        if to == int_or(&rs["spec"]["replicas"], 1) {
            self.changes.remove(name(rs));
        } else {
            self.changes.insert(name(rs).to_string(), to);
        }
    }
}

/// One more than the highest revision of the old ReplicaSets.
fn next_revision(old: &[&Value]) -> i64 {
    old.iter()
        .filter_map(|rs| rs["metadata"]["annotations"][REVISION_ANNOTATION].as_str())
        .filter_map(|s| s.parse::<i64>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

/// An Update of a ReplicaSet's `spec.replicas`, with upstream's ScalingReplicaSet Event.
fn scale(d: &Value, rs: &Value, to: i64) -> Vec<Action> {
    let from = int_or(&rs["spec"]["replicas"], 1);
    let mut object = rs.clone();
    object["spec"]["replicas"] = json!(to);
    if !object["metadata"]["annotations"].is_object() {
        object["metadata"]["annotations"] = json!({});
    }
    object["metadata"]["annotations"][DESIRED_ANNOTATION] =
        json!(int_or(&d["spec"]["replicas"], 1).to_string());
    object["metadata"]["annotations"][MAX_ANNOTATION] = json!(max_replicas(d).to_string());
    let direction = if to > from { "up" } else { "down" };
    let message = format!(
        "Scaled {direction} replica set {} to {to} from {from}",
        name(rs)
    );
    vec![
        Action::Update { object },
        Action::Event(Event::about(
            d,
            EventType::Normal,
            "ScalingReplicaSet",
            message,
            COMPONENT,
        )),
    ]
}

/// The ReplicaSet for the Deployment's current template.
fn new_replicaset(d: &Value, hash: &str, replicas: i64, revision: i64) -> Value {
    let mut template = d["spec"]["template"].clone();
    if !template.is_object() {
        template = json!({});
    }
    if !template["metadata"].is_object() {
        template["metadata"] = json!({});
    }
    if !template["metadata"]["labels"].is_object() {
        template["metadata"]["labels"] = json!({});
    }
    template["metadata"]["labels"][HASH_LABEL] = json!(hash);
    let mut selector = d["spec"]["selector"].clone();
    if !selector.is_object() {
        selector = json!({});
    }
    if !selector["matchLabels"].is_object() {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"][HASH_LABEL] = json!(hash);
    let mut spec =
        json!({"replicas": replicas, "selector": selector, "template": template.clone()});
    if let Some(m) = d["spec"]["minReadySeconds"].as_i64() {
        spec["minReadySeconds"] = json!(m);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": format!("{}-{hash}", name(d)),
            "namespace": namespace(d),
            "labels": template["metadata"]["labels"],
            "annotations": {
                REVISION_ANNOTATION: revision.to_string(),
                DESIRED_ANNOTATION: int_or(&d["spec"]["replicas"], 1).to_string(),
                MAX_ANNOTATION: max_replicas(d).to_string(),
            },
            "ownerReferences": [owner_ref(d)],
        },
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::harness::{deployment, t};

    fn owned_rs(
        d: &Value,
        template: &Value,
        replicas: i64,
        status_replicas: i64,
        revision: &str,
    ) -> Value {
        let hash = template_hash(template, None);
        let mut rs = new_replicaset(d, &hash, replicas, 1);
        rs["spec"]["template"] = template.clone();
        rs["spec"]["template"]["metadata"]["labels"][HASH_LABEL] = json!(hash);
        rs["metadata"]["annotations"][REVISION_ANNOTATION] = json!(revision);
        rs["metadata"]["uid"] = json!(format!("uid-{hash}"));
        rs["metadata"]["resourceVersion"] = json!("11");
        rs["status"] = json!({"replicas": status_replicas, "readyReplicas": status_replicas,
                              "availableReplicas": status_replicas});
        rs
    }

    #[test]
    fn hash_is_stable_ignores_its_own_label_and_changes_with_the_template() {
        let d = deployment("web", 3);
        let h = template_hash(&d["spec"]["template"], None);
        assert_eq!(
            h.len(),
            h.chars()
                .filter(|c| ALPHANUMS.contains(&(*c as u8)))
                .count()
        );
        assert!((1..=10).contains(&h.len()));
        let mut labelled = d["spec"]["template"].clone();
        labelled["metadata"]["labels"][HASH_LABEL] = json!(h);
        assert_eq!(template_hash(&labelled, None), h);
        let mut changed = d["spec"]["template"].clone();
        changed["spec"]["containers"][0]["image"] = json!("busybox:2");
        assert_ne!(template_hash(&changed, None), h);
        assert_ne!(template_hash(&d["spec"]["template"], Some(1)), h);
        // Key order in the input does not matter.
        let reordered: Value = serde_json::from_str(
            r#"{"spec":{"containers":[{"command":["sleep","1000"],"image":"busybox","name":"main"}]},"metadata":{"labels":{"app":"web"}}}"#,
        )
        .unwrap();
        assert_eq!(template_hash(&reordered, None), h);
    }

    #[test]
    fn new_deployment_creates_its_replicaset() {
        let d = deployment("web", 3);
        let hash = template_hash(&d["spec"]["template"], None);
        let actions = reconcile(&d, &[], t(1));
        let Action::Create { object: rs } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(name(rs), format!("web-{hash}"));
        assert_eq!(rs["spec"]["replicas"], 3);
        assert_eq!(
            rs["metadata"]["labels"],
            json!({"app": "web", "pod-template-hash": hash})
        );
        assert_eq!(
            rs["spec"]["selector"]["matchLabels"],
            json!({"app": "web", "pod-template-hash": hash})
        );
        assert_eq!(
            rs["spec"]["template"]["metadata"]["labels"][HASH_LABEL],
            json!(hash)
        );
        assert_eq!(rs["metadata"]["annotations"][REVISION_ANNOTATION], "1");
        // 3 replicas and a surge of 25% rounded up.
        assert_eq!(rs["metadata"]["annotations"][DESIRED_ANNOTATION], "3");
        assert_eq!(rs["metadata"]["annotations"][MAX_ANNOTATION], "4");
        assert_eq!(
            rs["metadata"]["ownerReferences"][0]["uid"],
            "uid-deploy-web"
        );
        let Action::Event(e) = &actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!(e.message, format!("Scaled up replica set web-{hash} to 3"));
        let Action::UpdateStatus { object } = &actions[2] else {
            panic!("{actions:?}")
        };
        assert_eq!(object["status"]["replicas"], 0);
        assert_eq!(object["status"]["unavailableReplicas"], 3);
        assert_eq!(object["status"]["observedGeneration"], 1);
        assert_eq!(
            object["status"]["conditions"][0]["reason"],
            "MinimumReplicasUnavailable"
        );
        assert_eq!(actions.len(), 3);
    }

    #[test]
    fn status_sums_the_replicasets_for_kubectl_columns() {
        let d = deployment("web", 3);
        let rs = owned_rs(&d, &d["spec"]["template"], 3, 3, "1");
        let actions = reconcile(&d, &[&rs], t(1));
        assert_eq!(actions.len(), 1, "{actions:?}");
        let Action::UpdateStatus { object } = &actions[0] else {
            panic!("{actions:?}")
        };
        let s = &object["status"];
        assert_eq!(
            (
                &s["replicas"],
                &s["readyReplicas"],
                &s["updatedReplicas"],
                &s["availableReplicas"],
                &s["unavailableReplicas"]
            ),
            (&json!(3), &json!(3), &json!(3), &json!(3), &json!(0))
        );
        assert_eq!(s["conditions"][0]["reason"], "MinimumReplicasAvailable");
        // Applied, the same pass again changes nothing.
        let again = reconcile(object, &[&rs], t(2));
        assert_eq!(again, []);
    }

    #[test]
    fn scaling_updates_the_replicaset_with_its_resource_version() {
        let mut d = deployment("web", 5);
        d["status"] = json!({});
        let rs = owned_rs(&d, &d["spec"]["template"], 3, 3, "1");
        let actions = reconcile(&d, &[&rs], t(1));
        let Action::Update { object } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(object["spec"]["replicas"], 5);
        assert_eq!(object["metadata"]["annotations"][DESIRED_ANNOTATION], "5");
        assert_eq!(object["metadata"]["annotations"][MAX_ANNOTATION], "7");
        assert_eq!(object["metadata"]["resourceVersion"], "11");
        let Action::Event(e) = &actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!(
            e.message,
            format!("Scaled up replica set {} to 5 from 3", name(&rs))
        );
    }

    #[test]
    fn template_change_creates_a_new_replicaset_within_max_surge() {
        let old_template = deployment("web", 2)["spec"]["template"].clone();
        let mut d = deployment("web", 2);
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
        let old = owned_rs(&d, &old_template, 2, 2, "4");
        let actions = reconcile(&d, &[&old], t(1));
        // 25% of 2: a surge of 1 (rounded up), 0 unavailable (rounded down). The new
        // ReplicaSet starts at 1; the old keeps 2 until the new pod is available.
        let Action::Create { object: new } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(new["spec"]["replicas"], 1);
        assert_eq!(new["metadata"]["annotations"][REVISION_ANNOTATION], "5");
        let Action::Event(e) = &actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!(
            e.message,
            format!("Scaled up replica set {} to 1", name(new))
        );
        let Action::UpdateStatus { object } = &actions[2] else {
            panic!("{actions:?}")
        };
        assert_eq!(
            (
                &object["status"]["replicas"],
                &object["status"]["updatedReplicas"]
            ),
            (&json!(2), &json!(0))
        );
        assert_eq!(actions.len(), 3);
    }

    // Upstream's rolling update, pass by pass (cf. rolling_test.go's
    // TestDeploymentController_reconcileNewReplicaSet and _reconcileOldReplicaSets rows):
    // 4 replicas, maxSurge 1 and maxUnavailable 1 (25%), pods available as soon as made.
    #[test]
    fn rolling_update_stays_within_surge_and_unavailable() {
        let old_template = deployment("web", 4)["spec"]["template"].clone();
        let mut d = deployment("web", 4);
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
        let mut sets = vec![owned_rs(&d, &old_template, 4, 4, "1")];
        let mut seen = Vec::new();
        for pass in 0..8 {
            let refs: Vec<&Value> = sets.iter().collect();
            let actions = reconcile(&d, &refs, t(pass));
            for a in actions {
                match a {
                    Action::Create { mut object } => {
                        object["metadata"]["uid"] = json!("uid-new");
                        object["metadata"]["creationTimestamp"] =
                            json!(crate::controllers::rfc3339(t(pass)));
                        sets.push(object);
                    }
                    Action::Update { object } => {
                        let i = sets
                            .iter()
                            .position(|rs| name(rs) == name(&object))
                            .unwrap();
                        sets[i] = object;
                    }
                    _ => {}
                }
            }
            // The ReplicaSet controller and the agents: every pod up and available.
            for rs in &mut sets {
                let n = rs["spec"]["replicas"].clone();
                rs["status"] = json!({"replicas": n, "readyReplicas": n, "availableReplicas": n});
            }
            let specs: Vec<i64> = sets
                .iter()
                .map(|rs| rs["spec"]["replicas"].as_i64().unwrap())
                .collect();
            assert!(specs.iter().sum::<i64>() <= 5, "pass {pass}: {specs:?}");
            seen.push((specs[0], specs.get(1).copied().unwrap_or(0)));
        }
        assert_eq!(
            seen,
            [
                (3, 1),
                (3, 2),
                (1, 2),
                (1, 4),
                (0, 4),
                (0, 4),
                (0, 4),
                (0, 4)
            ]
        );
    }

    #[test]
    fn a_replicaset_scaled_twice_in_one_pass_is_written_once() {
        // 4 replicas, surge 1, unavailable 1 (minAvailable 3). Old: 2 wanted, 1 available.
        // New: 3 of 3 available, and cannot grow (2 + 3 = 4 + 1). maxScaledDown =
        // 5 - 3 - 0 = 2: the unhealthy old pod goes (2 -> 1), then 4 available - 3 = 1
        // more (1 -> 0): one Update, to 0.
        let old_template = deployment("web", 4)["spec"]["template"].clone();
        let mut d = deployment("web", 4);
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
        let mut old = owned_rs(&d, &old_template, 2, 2, "1");
        old["status"]["availableReplicas"] = json!(1);
        let new = owned_rs(&d, &d["spec"]["template"], 3, 3, "2");
        let actions = reconcile(&d, &[&old, &new], t(1));
        let updates: Vec<(&str, &Value)> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Update { object } => Some((name(object), &object["spec"]["replicas"])),
                _ => None,
            })
            .collect();
        assert_eq!(updates, [(name(&old), &json!(0))]);
        assert!(matches!(&actions[1], Action::Event(e) if e.message.ends_with("to 0 from 2")));
    }

    #[test]
    fn no_surge_shrinks_the_old_first_and_paused_waits() {
        let old_template = deployment("web", 2)["spec"]["template"].clone();
        let mut d = deployment("web", 2);
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
        d["spec"]["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}});
        let old = owned_rs(&d, &old_template, 2, 2, "1");
        let actions = reconcile(&d, &[&old], t(1));
        // The new ReplicaSet starts empty (no event for a scale to 0); the old gives one up.
        let Action::Create { object: new } = &actions[0] else {
            panic!("{actions:?}")
        };
        assert_eq!(new["spec"]["replicas"], 0);
        let Action::Update { object } = &actions[1] else {
            panic!("{actions:?}")
        };
        assert_eq!(
            (name(object), &object["spec"]["replicas"]),
            (name(&old), &json!(1))
        );

        d["spec"]["paused"] = json!(true);
        let actions = reconcile(&d, &[&old], t(2));
        assert!(
            actions
                .iter()
                .all(|a| matches!(a, Action::UpdateStatus { .. })),
            "{actions:?}"
        );
    }

    #[test]
    fn recreate_waits_for_the_old_pods_to_go() {
        let old_template = deployment("web", 2)["spec"]["template"].clone();
        let mut d = deployment("web", 2);
        d["spec"]["strategy"] = json!({"type": "Recreate"});
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
        let mut old = owned_rs(&d, &old_template, 0, 2, "1");
        let actions = reconcile(&d, &[&old], t(1));
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Create { .. })),
            "{actions:?}"
        );
        old["status"]["replicas"] = json!(0);
        let actions = reconcile(&d, &[&old], t(2));
        assert!(matches!(actions[0], Action::Create { .. }), "{actions:?}");
    }

    #[test]
    fn max_unavailable_resolution() {
        let mut d = deployment("web", 10);
        assert_eq!(max_unavailable(&d, 10), 2);
        d["spec"]["strategy"] = json!({"rollingUpdate": {"maxUnavailable": "50%"}});
        assert_eq!(max_unavailable(&d, 10), 5);
        d["spec"]["strategy"] = json!({"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0}});
        assert_eq!(max_unavailable(&d, 10), 1);
    }
}
