//! The Job controller: runs pods until `completions` of them succeed, or gives up after
//! `backoffLimit` failures.
//!
//! Follows kubernetes/pkg/controller/job/job_controller.go (`syncJob`, `manageJob`,
//! `pastBackoffLimitOnFailure`) for non-indexed Jobs: while the Job runs it keeps
//! `min(parallelism, completions - succeeded)` pods active (with `completions` unset, a
//! work queue: `parallelism` pods until one succeeds, then no new ones); it is Complete
//! when `succeeded` reaches `completions` (unset: once a pod succeeded and none is active),
//! and Failed with reason `BackoffLimitExceeded` when more than `backoffLimit` pods have
//! failed, or, for `restartPolicy: OnFailure`, when the active pods' containers have
//! restarted `backoffLimit` times. As upstream since v1.31, the Job gets
//! SuccessCriteriaMet (or FailureTarget) and then Complete (or Failed); here both in the
//! same pass. A finished Job deletes its active pods; a Job being deleted is left to the
//! garbage collector. A failed pod is replaced only after
//! upstream's back-off: 10 s, doubling with each failure since the last success, at most
//! 10 min, from the end of the last failure. Defaults as the API server's: `parallelism`
//! 1, `completions` 1 when neither is set, `backoffLimit` 6.
//! Pods carry the template's `restartPolicy` (Never or OnFailure; a template without one
//! gets Never, where upstream's validation would reject the Job), the labels
//! `batch.kubernetes.io/job-name` and `batch.kubernetes.io/controller-uid` (and their
//! legacy `job-name` / `controller-uid`), and the name `JOB-` plus five random characters.
//!
//! Simplified: `succeeded` and `failed` are the larger of the finished pods there now (a
//! pod being deleted that had not succeeded counts as failed, as upstream counts it) and
//! the Job's recorded status. Upstream tracks each finished pod with a finalizer and
//! `status.uncountedTerminatedPods`, so none is lost; here a finished pod deleted before a
//! pass saw it is never counted, and one deleted in the pass where another finishes hides
//! it. The back-off counts only the failed pods still there. A Job's pods are those whose
//! controller reference names its uid (upstream also claims orphans by `spec.selector`, as
//! a ReplicaSet does). No `activeDeadlineSeconds`, `podFailurePolicy`, `successPolicy`,
//! indexed completion, `suspend` or `ttlSecondsAfterFinished`.

use serde_json::{Map, Value, json};

use super::{
    Action, Event, EventType, NameSuffix, SECOND, Time, delete_pod, deletion_order, int_or,
    is_controlled_by, is_deleting, is_pod_active, is_pod_ready, name, parse_time,
    pod_from_template, pod_phase, restart_count, rfc3339, status_update, uid, well_formed,
};

/// The component named in this controller's Events.
pub const COMPONENT: &str = "job-controller";

/// Upstream's `MaxPodCreateDeletePerSync`: the most pods one pass creates or deletes.
pub const MAX_POD_CREATE_DELETE_PER_SYNC: i64 = 500;

/// Upstream's default `backoffLimit`.
pub const DEFAULT_BACKOFF_LIMIT: i64 = 6;

fn finished_condition(job: &Value) -> Option<&str> {
    job["status"]["conditions"]
        .as_array()?
        .iter()
        .find_map(|c| {
            let t = c["type"].as_str()?;
            (matches!(t, "Complete" | "Failed") && c["status"] == "True").then_some(t)
        })
}

/// One pass over a Job and the pods it may own (pods it does not control are ignored).
pub fn reconcile(
    job: &Value,
    pods: &[&Value],
    now: Time,
    names: &mut dyn NameSuffix,
) -> Vec<Action> {
    let mut actions = Vec::new();
    // A Job being deleted is left to the garbage collector, as upstream leaves it.
    if !well_formed(job) || is_deleting(job) {
        return actions;
    }
    let owned: Vec<&Value> = pods
        .iter()
        .copied()
        .filter(|p| is_controlled_by(p, job))
        .collect();
    let active: Vec<&Value> = owned.iter().copied().filter(|p| is_pod_active(p)).collect();
    let counted_succeeded = owned.iter().filter(|p| pod_phase(p) == "Succeeded").count() as i64;
    let counted_failed = owned
        .iter()
        .filter(|p| pod_phase(p) == "Failed" || (is_deleting(p) && pod_phase(p) != "Succeeded"))
        .count() as i64;
    let succeeded = counted_succeeded.max(int_or(&job["status"]["succeeded"], 0));
    let failed = counted_failed.max(int_or(&job["status"]["failed"], 0));

    let spec = &job["spec"];
    let completions = spec["completions"]
        .as_i64()
        .map(|c| c.clamp(0, i64::from(i32::MAX)))
        .or(if spec["parallelism"].is_null() {
            Some(1)
        } else {
            None
        });
    let parallelism = int_or(&spec["parallelism"], 1).max(0);
    let backoff_limit = int_or(&spec["backoffLimit"], DEFAULT_BACKOFF_LIMIT).max(0);

    let mut status = Map::new();
    let mut conditions: Vec<Value> = job["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut completion_time = job["status"]["completionTime"].clone();
    let mut active_after = active.len() as i64;

    let already = finished_condition(job);
    let finished = if already.is_some() {
        already.map(str::to_string)
    } else if failed > backoff_limit || past_backoff_limit_on_failure(job, &active, backoff_limit) {
        for type_ in ["FailureTarget", "Failed"] {
            conditions.push(condition(
                type_,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
                now,
            ));
        }
        actions.push(Action::Event(Event::about(
            job,
            EventType::Warning,
            "BackoffLimitExceeded",
            "Job has reached the specified backoff limit".into(),
            COMPONENT,
        )));
        Some("Failed".into())
    } else if match completions {
        Some(c) => succeeded >= c,
        None => succeeded > 0 && active.is_empty(),
    } {
        for type_ in ["SuccessCriteriaMet", "Complete"] {
            conditions.push(condition(
                type_,
                "CompletionsReached",
                "Reached expected number of succeeded pods",
                now,
            ));
        }
        completion_time = json!(rfc3339(now));
        actions.push(Action::Event(Event::about(
            job,
            EventType::Normal,
            "Completed",
            "Job completed".into(),
            COMPONENT,
        )));
        Some("Complete".into())
    } else {
        None
    };

    if finished.is_some() {
        for p in &active {
            actions.push(delete_pod(p));
        }
        active_after = 0;
    } else {
        let want = match completions {
            Some(c) => (c - succeeded).clamp(0, parallelism),
            // A work queue stops adding pods once one succeeded.
            None if succeeded > 0 => (active.len() as i64).min(parallelism),
            None => parallelism,
        };
        let have = active.len() as i64;
        let waiting = pod_failure_backoff(&owned, now);
        if have > want {
            let mut sorted = active.clone();
            sorted.sort_by(|a, b| deletion_order(a, b, &|_| 0));
            for p in sorted.iter().take((have - want) as usize) {
                actions.push(delete_pod(p));
                actions.push(Action::Event(Event::about(
                    job,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted pod: {}", name(p)),
                    COMPONENT,
                )));
            }
        } else if !waiting {
            for _ in have..want.min(have + MAX_POD_CREATE_DELETE_PER_SYNC) {
                let pod = job_pod(job, names);
                let message = format!("Created pod: {}", name(&pod));
                actions.push(Action::Create { object: pod });
                actions.push(Action::Event(Event::about(
                    job,
                    EventType::Normal,
                    "SuccessfulCreate",
                    message,
                    COMPONENT,
                )));
            }
        }
    }

    status.insert("active".into(), json!(active_after));
    status.insert(
        "ready".into(),
        json!(active.iter().filter(|p| is_pod_ready(p)).count()),
    );
    status.insert("succeeded".into(), json!(succeeded));
    status.insert("failed".into(), json!(failed));
    if job["status"]["startTime"].is_null() {
        status.insert("startTime".into(), json!(rfc3339(now)));
    }
    if !conditions.is_empty() {
        status.insert("conditions".into(), Value::Array(conditions));
    }
    status.insert("completionTime".into(), completion_time);
    actions.extend(status_update(job, status));
    actions
}

/// Upstream's `DefaultJobPodFailureBackOff`: the wait before replacing a failed pod,
/// doubling with each failure since the last success.
pub const POD_FAILURE_BACKOFF: Time = 10 * SECOND;
/// Upstream's `MaxJobPodFailureBackOff`.
pub const MAX_POD_FAILURE_BACKOFF: Time = 600 * SECOND;

/// When a finished pod finished: its containers' latest `finishedAt`, else the last
/// transition of its Ready condition, else its creation.
fn finish_time(pod: &Value) -> Time {
    let terminated = ["initContainerStatuses", "containerStatuses"]
        .iter()
        .filter_map(|k| pod["status"][k].as_array())
        .flatten()
        .filter_map(|c| {
            c["state"]["terminated"]["finishedAt"]
                .as_str()
                .and_then(parse_time)
        })
        .max();
    terminated
        .or_else(|| {
            pod["status"]["conditions"].as_array().and_then(|cs| {
                cs.iter()
                    .find(|c| c["type"] == "Ready")
                    .and_then(|c| c["lastTransitionTime"].as_str())
                    .and_then(parse_time)
            })
        })
        .or_else(|| {
            pod["metadata"]["creationTimestamp"]
                .as_str()
                .and_then(parse_time)
        })
        .unwrap_or(0)
}

/// Upstream's pod-failure back-off (`newBackoffRecord`, `getRemainingTimeForFailuresCount`):
/// after N failures since the last success, no new pod until 10 s * 2^(N-1) (at most
/// 10 min) after the last failure. Counted from the pods that are there.
fn pod_failure_backoff(owned: &[&Value], now: Time) -> bool {
    let mut finished: Vec<(Time, bool)> = owned
        .iter()
        .filter_map(|p| match pod_phase(p) {
            "Succeeded" => Some((finish_time(p), false)),
            "Failed" => Some((finish_time(p), true)),
            _ => None,
        })
        .collect();
    finished.sort();
    let since_success: Vec<Time> = finished
        .iter()
        .rev()
        .take_while(|(_, failed)| *failed)
        .map(|(t, _)| *t)
        .collect();
    let Some(&last) = since_success.first() else {
        return false;
    };
    let mut delay = POD_FAILURE_BACKOFF;
    for _ in 1..since_success.len() {
        delay = (delay * 2).min(MAX_POD_FAILURE_BACKOFF);
    }
    now < last + delay
}

/// Upstream's `pastBackoffLimitOnFailure`: with OnFailure, failures are container
/// restarts in the pods still running or pending.
fn past_backoff_limit_on_failure(job: &Value, active: &[&Value], backoff_limit: i64) -> bool {
    if job["spec"]["template"]["spec"]["restartPolicy"] != "OnFailure" {
        return false;
    }
    let restarts: i64 = active
        .iter()
        .filter(|p| matches!(pod_phase(p), "Running" | "Pending"))
        .map(|p| restart_count(p))
        .sum();
    if backoff_limit == 0 {
        restarts > 0
    } else {
        restarts >= backoff_limit
    }
}

fn condition(type_: &str, reason: &str, message: &str, now: Time) -> Value {
    let at = rfc3339(now);
    json!({"type": type_, "status": "True", "reason": reason, "message": message,
           "lastProbeTime": at, "lastTransitionTime": at})
}

fn job_pod(job: &Value, names: &mut dyn NameSuffix) -> Value {
    let mut pod = pod_from_template(&job["spec"]["template"], job, name(job), names);
    if !pod["spec"].is_object() {
        pod["spec"] = json!({});
    }
    let labels = pod["metadata"]
        .as_object_mut()
        .map(|m| m.entry("labels").or_insert_with(|| json!({})))
        .expect("a pod built from a template has metadata");
    for (k, v) in [
        ("batch.kubernetes.io/controller-uid", uid(job)),
        ("batch.kubernetes.io/job-name", name(job)),
        ("controller-uid", uid(job)),
        ("job-name", name(job)),
    ] {
        if labels.get(k).is_none() {
            labels[k] = json!(v);
        }
    }
    if !matches!(
        pod["spec"]["restartPolicy"].as_str(),
        Some("Never" | "OnFailure")
    ) {
        pod["spec"]["restartPolicy"] = json!("Never");
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controllers::harness::{counter, creates, job, pod, t};

    fn status(actions: &[Action]) -> Value {
        match actions.last() {
            Some(Action::UpdateStatus { object }) => object["status"].clone(),
            _ => panic!("no status update last: {actions:?}"),
        }
    }

    #[test]
    fn completions_three_parallelism_two_runs_to_completion() {
        let mut j = job("batch", Some(3), Some(2));
        // Pass 1: nothing yet, two pods.
        let a = reconcile(&j, &[], t(0), &mut counter());
        assert_eq!(creates(&a), ["batch-bbbb0", "batch-bbbb1"]);
        let Action::Create { object } = &a[0] else {
            panic!()
        };
        assert_eq!(object["spec"]["restartPolicy"], "Never");
        assert_eq!(
            object["metadata"]["labels"]["batch.kubernetes.io/job-name"],
            "batch"
        );
        assert_eq!(
            object["metadata"]["labels"]["controller-uid"],
            "uid-job-batch"
        );
        let s = status(&a);
        assert_eq!(
            (&s["active"], &s["succeeded"], &s["startTime"]),
            (&json!(0), &json!(0), &json!(rfc3339(t(0))))
        );
        j["status"] = s;

        // Pass 2: one succeeded, one running: min(3 - 1, 2) = 2 wanted, so one more.
        let p1 = pod("batch-1", &j, Some("n1"), "Succeeded", false);
        let p2 = pod("batch-2", &j, Some("n1"), "Running", true);
        let a = reconcile(&j, &[&p1, &p2], t(5), &mut counter());
        assert_eq!(creates(&a), ["batch-bbbb0"]);
        let s = status(&a);
        assert_eq!(
            (&s["active"], &s["succeeded"], &s["ready"]),
            (&json!(1), &json!(1), &json!(1))
        );

        // Pass 3: two succeeded, the third running: min(3 - 2, 2) = 1 wanted, 1 there.
        let p2 = pod("batch-2", &j, Some("n1"), "Succeeded", false);
        let p3 = pod("batch-3", &j, Some("n2"), "Running", true);
        let a = reconcile(&j, &[&p1, &p2, &p3], t(6), &mut counter());
        assert_eq!(creates(&a), Vec::<String>::new());
        // Had the third not been there, exactly one (3 - 2), not parallelism's two.
        let a = reconcile(&j, &[&p1, &p2], t(6), &mut counter());
        assert_eq!(creates(&a), ["batch-bbbb0"]);

        // Pass 4: the third succeeds -> Complete at t(9).
        let p3 = pod("batch-3", &j, Some("n2"), "Succeeded", false);
        let a = reconcile(&j, &[&p1, &p2, &p3], t(9), &mut counter());
        assert!(
            matches!(&a[0], Action::Event(e) if e.reason == "Completed" && e.message == "Job completed")
        );
        let s = status(&a);
        assert_eq!((&s["succeeded"], &s["active"]), (&json!(3), &json!(0)));
        assert_eq!(s["completionTime"], rfc3339(t(9)));
        // As upstream since v1.31: SuccessCriteriaMet, then Complete.
        let types: Vec<&Value> = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["type"])
            .collect();
        assert_eq!(types, [&json!("SuccessCriteriaMet"), &json!("Complete")]);
        assert_eq!(s["conditions"][1]["status"], "True");
        assert_eq!(s["conditions"][1]["reason"], "CompletionsReached");
        j["status"] = s;

        // Finished: nothing more, ever.
        assert_eq!(reconcile(&j, &[&p1, &p2, &p3], t(20), &mut counter()), []);
    }

    #[test]
    fn failures_past_backoff_limit_fail_the_job_and_delete_active_pods() {
        let mut j = job("b", Some(5), Some(2));
        j["spec"]["backoffLimit"] = json!(1);
        j["status"] = json!({"startTime": rfc3339(t(0))});
        let f1 = pod("b-1", &j, Some("n1"), "Failed", false);
        let r = pod("b-2", &j, Some("n1"), "Running", true);
        // One failure is within the limit of 1: replace it, once the 10 s back-off from
        // its end (t(0) in the harness) is over.
        let a = reconcile(&j, &[&f1, &r], t(9), &mut counter());
        assert_eq!(creates(&a), Vec::<String>::new());
        assert_eq!(status(&a)["failed"], 1);
        let a = reconcile(&j, &[&f1, &r], t(10), &mut counter());
        assert_eq!(creates(&a), ["b-bbbb0"]);
        // A second failure exceeds it.
        let f2 = pod("b-3", &j, Some("n1"), "Failed", false);
        let a = reconcile(&j, &[&f1, &r, &f2], t(4), &mut counter());
        let Action::Event(e) = &a[0] else {
            panic!("{a:?}")
        };
        assert_eq!(
            (e.type_, e.reason.as_str(), e.message.as_str()),
            (
                EventType::Warning,
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit"
            )
        );
        assert!(matches!(&a[1], Action::Delete { name, .. } if name == "b-2"));
        let s = status(&a);
        assert_eq!((&s["failed"], &s["active"]), (&json!(2), &json!(0)));
        let types: Vec<&Value> = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["type"])
            .collect();
        assert_eq!(types, [&json!("FailureTarget"), &json!("Failed")]);
        assert_eq!(s["conditions"][1]["reason"], "BackoffLimitExceeded");
        assert!(s["completionTime"].is_null());
    }

    // Mirrors upstream's backoff_utils_test.go rows: the wait doubles with each failure
    // since the last success and counts from the last failure's end.
    #[test]
    fn failed_pods_are_replaced_after_a_doubling_back_off() {
        let j = job("b", Some(1), Some(1));
        let finished = |n: &str, phase: &str, at: i64| {
            let mut p = pod(n, &j, Some("n1"), phase, false);
            p["status"]["containerStatuses"] =
                json!([{"name": "main", "state": {"terminated": {"finishedAt": rfc3339(t(at))}}}]);
            p
        };
        let f1 = finished("f1", "Failed", 100);
        let f2 = finished("f2", "Failed", 120);
        let created = |pods: &[&Value], now| {
            !creates(&reconcile(&j, pods, t(now), &mut counter())).is_empty()
        };
        assert!(!created(&[&f1], 109));
        assert!(created(&[&f1], 110));
        // Two failures: 20 s from the second.
        assert!(!created(&[&f1, &f2], 139));
        assert!(created(&[&f1, &f2], 140));
        // A success in between resets the count: one failure after it, 10 s.
        let ok = finished("ok", "Succeeded", 110);
        let j2 = job("b", Some(2), Some(1));
        let created2 = |pods: &[&Value], now| {
            !creates(&reconcile(&j2, pods, t(now), &mut counter())).is_empty()
        };
        assert!(!created2(&[&f1, &ok, &f2], 129));
        assert!(created2(&[&f1, &ok, &f2], 130));
    }

    #[test]
    fn on_failure_counts_container_restarts() {
        let mut j = job("b", Some(1), Some(1));
        j["spec"]["backoffLimit"] = json!(2);
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
        j["status"] = json!({"startTime": rfc3339(t(0))});
        let mut p = pod("b-1", &j, Some("n1"), "Running", false);
        p["status"]["containerStatuses"] = json!([{"name": "main", "restartCount": 1}]);
        let a = reconcile(&j, &[&p], t(3), &mut counter());
        assert_eq!(status(&a)["active"], 1);
        p["status"]["containerStatuses"][0]["restartCount"] = json!(2);
        let a = reconcile(&j, &[&p], t(4), &mut counter());
        assert_eq!(
            status(&a)["conditions"][1]["reason"],
            "BackoffLimitExceeded"
        );
        // The pods it makes keep OnFailure.
        let a = reconcile(&job_on_failure(), &[], t(0), &mut counter());
        let Action::Create { object } = &a[0] else {
            panic!()
        };
        assert_eq!(object["spec"]["restartPolicy"], "OnFailure");
    }

    fn job_on_failure() -> Value {
        let mut j = job("c", None, None);
        j["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure");
        j
    }

    #[test]
    fn defaults_one_completion_and_work_queue_without_completions() {
        // Neither set: completions 1, parallelism 1.
        let a = reconcile(&job("one", None, None), &[], t(0), &mut counter());
        assert_eq!(creates(&a).len(), 1);
        // Only parallelism: a work queue of 3; after one success, no new pods, and
        // complete when the others are done.
        let j = job("q", None, Some(3));
        assert_eq!(creates(&reconcile(&j, &[], t(0), &mut counter())).len(), 3);
        let s1 = pod("q-1", &j, Some("n1"), "Succeeded", false);
        let r2 = pod("q-2", &j, Some("n1"), "Running", true);
        let a = reconcile(&j, &[&s1, &r2], t(1), &mut counter());
        assert!(creates(&a).is_empty());
        assert!(status(&a)["conditions"].is_null());
        let s2 = pod("q-2", &j, Some("n1"), "Succeeded", false);
        let a = reconcile(&j, &[&s1, &s2], t(2), &mut counter());
        assert_eq!(status(&a)["conditions"][1]["type"], "Complete");
    }

    #[test]
    fn a_job_being_deleted_makes_no_pods() {
        let mut j = job("b", Some(3), Some(3));
        j["metadata"]["deletionTimestamp"] = json!(rfc3339(t(1)));
        assert_eq!(reconcile(&j, &[], t(2), &mut counter()), []);
    }

    #[test]
    fn lowered_parallelism_deletes_surplus_pending_first() {
        let j = job("b", Some(10), Some(1));
        let running = pod("b-1", &j, Some("n1"), "Running", true);
        let pending = pod("b-2", &j, None, "Pending", false);
        let a = reconcile(&j, &[&running, &pending], t(1), &mut counter());
        assert!(
            matches!(&a[0], Action::Delete { name, .. } if name == "b-2"),
            "{a:?}"
        );
    }
}
