//! `SchedulingLoop` on small clusters given as Kubernetes JSON objects: exact placements,
//! upstream's FailedScheduling wording, and the state kept across cycles (a deleted pod
//! frees its node, a NotReady or cordoned node takes nothing, a removed node's pods go).

use schedlab_agent::scheduling::{Outcome, SchedulingLoop};
use schedulers::{Registry, SchedulerSpec};
use serde_json::{Value, json};

/// A Ready node with `cpu` and `memory` allocatable.
fn node(name: &str, cpu: &str, memory: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    })
}

/// A pod (uid = name) with one container requesting `cpu` and `memory`, created at
/// second `created` of a fixed day.
fn pod(name: &str, cpu: &str, memory: &str, created: u32) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": name,
            "creationTimestamp": format!("2026-01-01T00:00:{created:02}Z"),
        },
        "spec": {"containers": [{
            "name": "main",
            "image": "busybox",
            "resources": {"requests": {"cpu": cpu, "memory": memory}},
        }]},
    })
}

fn new_loop(scheduler: &str) -> SchedulingLoop {
    let spec = SchedulerSpec::parse(scheduler).unwrap();
    SchedulingLoop::seeded(&Registry::builtin(), &spec, &[], 1).unwrap()
}

fn bound(uid: &str, node: &str) -> Outcome {
    Outcome::Bound {
        uid: uid.into(),
        node: node.into(),
    }
}

fn unschedulable(uid: &str, message: &str) -> Outcome {
    Outcome::Unschedulable {
        uid: uid.into(),
        message: message.into(),
    }
}

#[test]
fn least_allocated_places_exactly_and_words_the_failure_as_upstream() {
    let mut l = new_loop("least-allocated");
    l.upsert_node(&node("n1", "4", "8Gi")).unwrap();
    l.upsert_node(&node("n2", "2", "4Gi")).unwrap();
    l.upsert_node(&node("n3", "1", "2Gi")).unwrap();
    // p1: n1 scores (75 + 87) / 2 = 81, n2 (50 + 75) / 2 = 62, n3 (0 + 50) / 2 = 25.
    // p2: n1 (62 + 81) / 2 = 71, n2 (75 + 87) / 2 = 81.
    // p3: 1500m fits n1 (49) and n2 would have 0 cpu left (18); n3 has 1000m.
    // p4: 2 CPUs, which no node has left (1500m, 1500m, 1000m).
    for (i, (name, cpu, mem)) in [
        ("p1", "1", "1Gi"),
        ("p2", "500m", "512Mi"),
        ("p3", "1500m", "2Gi"),
        ("p4", "2", "1Gi"),
    ]
    .into_iter()
    .enumerate()
    {
        l.upsert_pod(&pod(name, cpu, mem, i as u32)).unwrap();
    }
    assert_eq!(
        l.schedule(0),
        [
            bound("p1", "n1"),
            bound("p2", "n2"),
            bound("p3", "n1"),
            unschedulable("p4", "0/3 nodes are available: 3 Insufficient cpu."),
        ]
    );
    // Bound pods are not offered again; the unschedulable one is, with the same answer.
    assert_eq!(
        l.schedule(1),
        [unschedulable(
            "p4",
            "0/3 nodes are available: 3 Insufficient cpu."
        )]
    );
    assert_eq!(l.node_of("p3"), Some("n1"));
}

#[test]
fn queue_order_is_priority_then_creation() {
    let mut l = new_loop("first-fit");
    l.upsert_node(&node("n1", "1", "4Gi")).unwrap();
    l.upsert_node(&node("n2", "1", "4Gi")).unwrap();
    l.upsert_pod(&pod("late", "1", "1Gi", 9)).unwrap();
    l.upsert_pod(&pod("early", "1", "1Gi", 1)).unwrap();
    let mut urgent = pod("urgent", "1", "1Gi", 30);
    urgent["spec"]["priority"] = json!(1000);
    l.upsert_pod(&urgent).unwrap();
    // first-fit takes the first node that fits: urgent (priority 1000) first, then early
    // (created at 1 s), and late (9 s) finds both nodes full.
    assert_eq!(
        l.schedule(0),
        [
            bound("urgent", "n1"),
            bound("early", "n2"),
            unschedulable("late", "0/2 nodes are available: 2 Insufficient cpu."),
        ]
    );
}

#[test]
fn a_deleted_or_finished_pod_frees_its_node() {
    let mut l = new_loop("first-fit");
    l.upsert_node(&node("n1", "2", "4Gi")).unwrap();
    l.upsert_pod(&pod("a", "2", "1Gi", 0)).unwrap();
    l.upsert_pod(&pod("b", "2", "1Gi", 1)).unwrap();
    assert_eq!(
        l.schedule(0),
        [
            bound("a", "n1"),
            unschedulable("b", "0/1 nodes are available: 1 Insufficient cpu."),
        ]
    );
    assert!(l.remove_pod("a"));
    assert!(!l.remove_pod("a"));
    assert_eq!(l.schedule(1), [bound("b", "n1")]);
    // b finishes: its status says Succeeded, and c takes its place.
    let mut done = pod("b", "2", "1Gi", 1);
    done["status"]["phase"] = json!("Succeeded");
    l.upsert_pod(&done).unwrap();
    l.upsert_pod(&pod("c", "2", "1Gi", 2)).unwrap();
    assert_eq!(l.schedule(2), [bound("c", "n1")]);
    l.cluster().check_invariants().unwrap();
}

#[test]
fn a_not_ready_or_cordoned_node_gets_nothing() {
    let mut l = new_loop("least-allocated");
    let mut big = node("big", "8", "16Gi");
    big["status"]["conditions"][0]["status"] = json!("False");
    l.upsert_node(&big).unwrap();
    l.upsert_node(&node("small", "2", "4Gi")).unwrap();
    l.upsert_pod(&pod("a", "1", "1Gi", 0)).unwrap();
    l.upsert_pod(&pod("b", "2", "1Gi", 1)).unwrap();
    // The not-ready node is not counted, as the simulator's trace words it.
    assert_eq!(
        l.schedule(0),
        [
            bound("a", "small"),
            unschedulable("b", "0/1 nodes are available: 1 Insufficient cpu."),
        ]
    );
    // Ready again, but cordoned: still nothing, now for upstream's reason.
    big["status"]["conditions"][0]["status"] = json!("True");
    big["spec"] = json!({"unschedulable": true});
    l.upsert_node(&big).unwrap();
    assert_eq!(
        l.schedule(1),
        [unschedulable(
            "b",
            "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable."
        )]
    );
    big["spec"] = json!({});
    l.upsert_node(&big).unwrap();
    assert_eq!(l.schedule(2), [bound("b", "big")]);
}

#[test]
fn a_removed_node_takes_its_pods_and_a_new_one_is_used() {
    let mut l = new_loop("first-fit");
    l.upsert_node(&node("n1", "2", "4Gi")).unwrap();
    l.upsert_pod(&pod("a", "1", "1Gi", 0)).unwrap();
    l.upsert_pod(&pod("b", "1", "1Gi", 1)).unwrap();
    assert_eq!(l.schedule(0), [bound("a", "n1"), bound("b", "n1")]);
    assert_eq!(l.remove_node("n1"), ["a", "b"]);
    assert_eq!(l.node_of("a"), None);
    l.upsert_pod(&pod("c", "1", "1Gi", 2)).unwrap();
    assert_eq!(
        l.schedule(1),
        [unschedulable("c", "0/0 nodes are available.")]
    );
    l.upsert_node(&node("n2", "1", "1Gi")).unwrap();
    assert_eq!(l.schedule(2), [bound("c", "n2")]);
}

#[test]
fn taints_and_selectors_word_their_reasons() {
    // kube-default reports each node's first failing filter, in upstream's order:
    // TaintToleration before NodeResourcesFit on `tainted`, and on `ssd` (whose label
    // matches) NodeResourcesFit.
    let mut l = new_loop("kube-default");
    let mut tainted = node("tainted", "4", "8Gi");
    tainted["spec"] =
        json!({"taints": [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]});
    l.upsert_node(&tainted).unwrap();
    let mut ssd = node("ssd", "1", "2Gi");
    ssd["metadata"]["labels"]["disk"] = json!("ssd");
    l.upsert_node(&ssd).unwrap();
    let mut db = pod("db", "2", "1Gi", 0);
    db["spec"]["nodeSelector"] = json!({"disk": "ssd"});
    let mut infra = pod("infra", "2", "1Gi", 1);
    infra["spec"]["tolerations"] = json!([{"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"}]);
    l.upsert_pod(&db).unwrap();
    l.upsert_pod(&infra).unwrap();
    assert_eq!(
        l.schedule(0),
        [
            unschedulable(
                "db",
                "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s)."
            ),
            bound("infra", "tainted"),
        ]
    );
}

#[test]
fn a_pod_naming_its_node_is_charged_there_and_never_scheduled() {
    let mut l = new_loop("first-fit");
    l.upsert_node(&node("n1", "2", "4Gi")).unwrap();
    let mut pinned = pod("pinned", "2", "1Gi", 0);
    pinned["spec"]["nodeName"] = json!("n1");
    l.upsert_pod(&pinned).unwrap();
    l.upsert_pod(&pod("other", "1", "1Gi", 1)).unwrap();
    assert_eq!(
        l.schedule(0),
        [unschedulable(
            "other",
            "0/1 nodes are available: 1 Insufficient cpu."
        )]
    );
    assert_eq!(l.node_of("pinned"), Some("n1"));
}

#[test]
fn kube_default_preempts_a_lower_priority_pod() {
    let mut l = new_loop("kube-default");
    l.upsert_node(&node("n1", "2", "4Gi")).unwrap();
    l.upsert_pod(&pod("low", "2", "1Gi", 0)).unwrap();
    assert_eq!(l.schedule(0), [bound("low", "n1")]);
    let mut high = pod("high", "2", "1Gi", 1);
    high["spec"]["priority"] = json!(100);
    l.upsert_pod(&high).unwrap();
    assert_eq!(
        l.schedule(1),
        [Outcome::Preempt {
            uid: "high".into(),
            node: "n1".into(),
            victims: vec!["low".into()],
        }]
    );
    // The victim holds its node while it terminates: nothing new happens.
    let got = l.schedule(2);
    assert!(
        got.iter()
            .all(|o| !matches!(o, Outcome::Bound { .. } | Outcome::Preempt { .. })),
        "{got:?}"
    );
    // The server deletes it; the preemptor binds.
    l.remove_pod("low");
    assert_eq!(l.schedule(3), [bound("high", "n1")]);
}

#[test]
fn bad_objects_are_refused_with_their_field() {
    let mut l = new_loop("first-fit");
    let mut bad = node("n1", "2", "4Gi");
    bad["status"]["allocatable"]["cpu"] = json!("two");
    let e = l.upsert_node(&bad).unwrap_err().to_string();
    assert!(
        e.starts_with("node n1:") && e.contains("status.allocatable.cpu: invalid quantity \"two\""),
        "{e}"
    );
    let mut no_uid = pod("p", "1", "1Gi", 0);
    no_uid["metadata"]["uid"] = json!("");
    assert_eq!(
        l.upsert_pod(&no_uid).unwrap_err().to_string(),
        "a pod needs a `metadata.uid`"
    );
}

#[test]
fn a_scheduler_config_profile_schedules() {
    // The bundled bin-packing profile: NodeResourcesFit MostAllocated (cpu weight 2,
    // memory 1). a and b go to the smaller node, which they fill the most ((2 * 50 + 25)
    // / 3 = 41 against 20 for the bigger one, then 83 against 20); c finds it full.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios/configs/bin-packing.yaml");
    let config = schedulers::framework::config::load_scheduler_config(&path).unwrap();
    let profiles = config.into_profiles();
    let spec = SchedulerSpec::parse("bin-packing").unwrap();
    let mut l = SchedulingLoop::seeded(&Registry::builtin(), &spec, &profiles, 1).unwrap();
    l.upsert_node(&node("n1", "4", "8Gi")).unwrap();
    l.upsert_node(&node("n2", "2", "4Gi")).unwrap();
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        l.upsert_pod(&pod(name, "1", "1Gi", i as u32)).unwrap();
    }
    assert_eq!(
        l.schedule(0),
        [bound("a", "n2"), bound("b", "n2"), bound("c", "n1")]
    );
    // An unknown name is refused with the registry's message.
    let unknown = SchedulerSpec::parse("bin-packin").unwrap();
    let e = SchedulingLoop::seeded(&Registry::builtin(), &unknown, &profiles, 1)
        .err()
        .unwrap();
    assert!(e.to_string().contains("bin-packin"), "{e}");
}

#[test]
fn extended_resources_learnt_at_run_time_are_named_in_messages() {
    let mut l = new_loop("first-fit");
    let mut n = node("n1", "4", "8Gi");
    n["status"]["allocatable"]["example.com/foo"] = json!("2");
    l.upsert_node(&n).unwrap();
    let mut p = pod("p", "1", "1Gi", 0);
    p["spec"]["containers"][0]["resources"]["requests"]["example.com/foo"] = json!("3");
    l.upsert_pod(&p).unwrap();
    let mut q = pod("q", "1", "1Gi", 1);
    q["spec"]["containers"][0]["resources"]["requests"]["example.com/bar"] = json!("1");
    l.upsert_pod(&q).unwrap();
    assert_eq!(
        l.schedule(0),
        [
            unschedulable(
                "p",
                "0/1 nodes are available: 1 Insufficient example.com/foo."
            ),
            unschedulable(
                "q",
                "0/1 nodes are available: 1 Insufficient example.com/bar."
            ),
        ]
    );
}
