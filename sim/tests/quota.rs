//! ResourceQuotas, LimitRanges and Namespaces from `manifests:`, end to end: exact
//! refusals with upstream's messages, the controllers' back-off after a refusal, a freed
//! quota letting a retry through, LimitRange defaults changing where a pod lands, and
//! located errors for bad values. Each test writes its files into a fresh directory.

use std::path::{Path, PathBuf};

use schedulers::Registry;
use sim::{RunResult, Scenario, ScenarioError, Simulation, TraceEvent, columns, load_scenario};

/// A fresh directory holding `files` (name, text).
fn dir_with(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("schedlab-quota-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

fn try_load(path: &Path) -> Result<Scenario, ScenarioError> {
    let registry = Registry::builtin();
    load_scenario(path, &|spec, profiles| registry.check(spec, profiles))
}

fn load(test: &str, files: &[(&str, &str)]) -> Scenario {
    let dir = dir_with(test, files);
    try_load(&dir.join("s.yaml")).unwrap_or_else(|e| panic!("{e}"))
}

fn run(scenario: &Scenario, scheduler: &str) -> RunResult {
    let registry = Registry::builtin();
    let mut sim = Simulation::new(scenario, registry.create(scheduler).unwrap(), 1);
    sim.enable_trace();
    sim.run()
}

/// (time in ms, pod, event, detail) of every trace line of `kinds`.
fn lines(r: &RunResult, kinds: &[&str]) -> Vec<(u64, String, String, String)> {
    r.trace
        .iter()
        .filter(|t| kinds.contains(&t.event.columns().0))
        .map(|t| {
            let (kind, detail) = t.event.columns();
            (
                t.time.as_micros() / 1000,
                t.pod.clone(),
                kind.to_owned(),
                detail.to_owned(),
            )
        })
        .collect()
}

/// The times (ms) of the `failed-create` lines.
fn refusals(r: &RunResult) -> Vec<u64> {
    lines(r, &["failed-create"])
        .into_iter()
        .map(|l| l.0)
        .collect()
}

const QUOTA_PODS_2: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: team
  labels: {tier: gold}
---
apiVersion: v1
kind: ResourceQuota
metadata:
  name: pods-quota
  namespace: team
spec:
  hard:
    pods: \"2\"
";

fn scenario(workloads: &str) -> String {
    format!(
        "duration: 10s\nmanifests: [quota.yaml]\ncluster:\n  nodes: [{{name: n, allocatable: {{cpu: \"4\", memory: 8Gi}}}}]\nworkloads:\n{workloads}"
    )
}

#[test]
fn a_deployment_over_its_pod_quota_runs_two_and_retries_the_third_with_back_off() {
    let s = load(
        "deployment",
        &[
            ("quota.yaml", QUOTA_PODS_2),
            (
                "s.yaml",
                &scenario(
                    "  - {deployment: web, namespace: team, replicas: 3, requests: {cpu: 100m}}\n",
                ),
            ),
        ],
    );
    assert_eq!(s.quotas.len(), 1);
    assert!(s.namespaces.iter().any(|(n, w)| n == "team" && *w == 1));
    assert_eq!(s.manifest_warnings.len(), 1);
    assert!(
        s.manifest_warnings[0].ends_with(
            "quota.yaml:5:12: Namespace team: metadata.labels: not modelled by schedlab \
             (a namespaceSelector sees only kubernetes.io/metadata.name), ignored"
        ),
        "{:?}",
        s.manifest_warnings
    );
    let r = run(&s, "kube-default");
    let created: Vec<_> = lines(&r, &["created"])
        .into_iter()
        .map(|l| (l.0, l.1))
        .collect();
    assert_eq!(created, [(0, "web-0".into()), (0, "web-1".into())]);
    let first = &lines(&r, &["failed-create"])[0];
    assert_eq!(
        (first.0, first.1.as_str(), first.3.as_str()),
        (
            0,
            "web",
            "Error creating: pods \"web-2\" is forbidden: exceeded quota: pods-quota, \
             requested: pods=1, used: pods=2, limited: pods=2"
        )
    );
    // The ReplicaSet's rate limiter: 5 ms doubling after each refusal, never twice at
    // one instant; 10 retries fall within the 10 s horizon.
    assert_eq!(
        refusals(&r),
        [0, 5, 15, 35, 75, 155, 315, 635, 1275, 2555, 5115]
    );
    assert_eq!(r.summary.count(&columns::ADMISSION_REJECTIONS), 11);
    assert_eq!(r.summary.count(&columns::PODS_RUNNING_AT_END), 2);
    assert_eq!(r.summary.count(&columns::PODS_SUBMITTED), 2);
}

#[test]
fn a_job_pod_refused_by_the_quota_starts_once_a_pod_of_the_namespace_finishes() {
    // a-0 and a-1 run from 1 s to 61 s. a-2 is refused at 0 and retried with the job
    // controller's API back-off (1 s doubling): at 1, 3, 7, 15 and 31 s. At 61 s a-0
    // leaves Succeeded, its namespace holds one pod, and the sync its departure starts
    // creates a-2, which runs from 62 s to 122 s; the retry queued for 63 s finds
    // nothing to do.
    let s = load(
        "job",
        &[
            ("quota.yaml", QUOTA_PODS_2),
            (
                "s.yaml",
                &scenario(
                    "  - {job: a, namespace: team, completions: 3, parallelism: 3, duration: 60s, requests: {cpu: 100m}}\n",
                )
                .replace("duration: 10s\n", ""),
            ),
        ],
    );
    let r = run(&s, "kube-default");
    assert_eq!(refusals(&r), [0, 1000, 3000, 7000, 15000, 31000]);
    let created: Vec<_> = lines(&r, &["created"])
        .into_iter()
        .map(|l| (l.0, l.1))
        .collect();
    assert_eq!(
        created,
        [(0, "a-0".into()), (0, "a-1".into()), (61_000, "a-2".into())]
    );
    assert_eq!(
        lines(&r, &["started"]).last().map(|l| (l.0, l.1.clone())),
        Some((62_000, "a-2".into()))
    );
    assert_eq!(r.summary.count(&columns::JOBS_COMPLETED), 1);
    assert_eq!(r.summary.count(&columns::ADMISSION_REJECTIONS), 6);
}

#[test]
fn a_cpu_quota_names_the_resource_it_would_exceed() {
    let quota = "\
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: team}
spec:
  hard: {requests.cpu: \"1\", requests.memory: 1Gi, pods: \"10\"}
";
    let s = load(
        "cpu",
        &[
            ("quota.yaml", quota),
            (
                "s.yaml",
                &scenario(
                    "  - {pod: p, namespace: team, count: 3, requests: {cpu: 400m, memory: 100Mi}}\n",
                ),
            ),
        ],
    );
    let r = run(&s, "kube-default");
    // Bare pods are not retried: the third is refused once.
    assert_eq!(
        lines(&r, &["failed-create"]),
        [(
            0,
            "p".into(),
            "failed-create".into(),
            "Error creating: pods \"p-2\" is forbidden: exceeded quota: compute, \
             requested: requests.cpu=400m, used: requests.cpu=800m, limited: requests.cpu=1"
                .into()
        )]
    );
    assert_eq!(r.summary.count(&columns::PODS_SUBMITTED), 2);
}

#[test]
fn a_quota_on_limits_requires_every_container_to_set_one() {
    let manifests = "\
apiVersion: v1
kind: ResourceQuota
metadata: {name: limits, namespace: team}
spec:
  hard: {limits.cpu: \"4\", limits.memory: 4Gi}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: team}
spec:
  containers:
  - name: app
    resources: {limits: {cpu: 500m}}
  - name: sidecar
    resources: {requests: {cpu: 100m}}
";
    let s = load(
        "limits",
        &[
            ("quota.yaml", manifests),
            (
                "s.yaml",
                &scenario("  []\n").replace("workloads:\n  []\n", ""),
            ),
        ],
    );
    let r = run(&s, "kube-default");
    assert_eq!(
        lines(&r, &["failed-create"])
            .into_iter()
            .map(|l| l.3)
            .collect::<Vec<_>>(),
        [
            "Error creating: pods \"solo\" is forbidden: failed quota: limits: must specify \
          limits.cpu for: sidecar; limits.memory for: app,sidecar"
        ]
    );
}

const LIMITS: &str = "\
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: team}
spec:
  limits:
  - type: Container
    default: {cpu: \"1\", memory: 512Mi}
    defaultRequest: {cpu: 500m}
    max: {cpu: \"2\"}
";

#[test]
fn a_limit_range_default_request_moves_a_pod_that_set_none() {
    // Node `small` (first in order) has 300m: a pod without requests fits there, but the
    // LimitRange makes the pod in `team` request 500m (and its memory request the
    // default limit, 512Mi, as the API defaults defaultRequest from default).
    let s = load(
        "defaults",
        &[
            ("quota.yaml", LIMITS),
            (
                "s.yaml",
                "manifests: [quota.yaml]\n\
                 cluster:\n  nodes:\n\
                 \x20   - {name: small, allocatable: {cpu: 300m, memory: 8Gi}}\n\
                 \x20   - {name: big, allocatable: {cpu: \"4\", memory: 8Gi}}\n\
                 workloads:\n\
                 \x20 - {pod: limited, namespace: team, duration: 1s}\n\
                 \x20 - {pod: free, duration: 1s}\n",
            ),
        ],
    );
    let limited = &s.workloads[0].template;
    assert_eq!(limited.effective_requests().cpu(), 500);
    assert_eq!(limited.effective_requests().memory(), 512 << 20);
    assert_eq!(limited.containers[0].limits.cpu(), 1000);
    assert_eq!(s.workloads[1].template.effective_requests().cpu(), 0);
    let r = run(&s, "first-fit");
    let bound: Vec<_> = lines(&r, &["bound"])
        .into_iter()
        .map(|l| (l.1, l.3))
        .collect();
    assert_eq!(
        bound,
        [
            ("limited".into(), "big".into()),
            ("free".into(), "small".into())
        ]
    );
}

#[test]
fn a_limit_range_max_forbids_the_pods_with_upstreams_wording() {
    let s = load(
        "max",
        &[
            ("quota.yaml", LIMITS),
            (
                "s.yaml",
                &scenario(
                    "  - {deployment: big, namespace: team, replicas: 1, requests: {cpu: 1}, limits: {cpu: 4}}\n",
                ),
            ),
        ],
    );
    assert_eq!(
        s.workloads[0].forbidden.as_deref(),
        Some("maximum cpu usage per Container is 2, but limit is 4")
    );
    let r = run(&s, "kube-default");
    let first = &lines(&r, &["failed-create"])[0];
    assert_eq!(
        first.3,
        "Error creating: pods \"big-0\" is forbidden: maximum cpu usage per Container is 2, but limit is 4"
    );
    assert_eq!(r.summary.count(&columns::PODS_SUBMITTED), 0);
    assert_eq!(refusals(&r).len(), 11);
}

#[test]
fn a_bad_quantity_in_hard_is_located() {
    let quota = "\
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard:
    pods: \"5\"
    requests.cpu: lots
";
    let dir = dir_with(
        "bad",
        &[("quota.yaml", quota), ("s.yaml", &scenario("  []\n"))],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert!(e.path.ends_with("quota.yaml"), "{e}");
    assert_eq!((e.line, e.column), (Some(7), Some(19)), "{e}");
    assert_eq!(e.field.as_deref(), Some("spec.hard[\"requests.cpu\"]"));
    assert!(e.message.starts_with("invalid quantity \"lots\""), "{e}");
}

#[test]
fn a_bad_limit_range_type_and_quantity_are_located() {
    let bad_type = "\
apiVersion: v1
kind: LimitRange
metadata: {name: l}
spec:
  limits:
  - type: Node
";
    let dir = dir_with(
        "badtype",
        &[("quota.yaml", bad_type), ("s.yaml", &scenario("  []\n"))],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(6), Some("spec.limits[0].type")),
        "{e}"
    );
    let bad_max = "\
apiVersion: v1
kind: LimitRange
metadata: {name: l}
spec:
  limits:
  - type: Container
    max: {memory: 2Zi}
";
    let dir = dir_with(
        "badmax",
        &[("quota.yaml", bad_max), ("s.yaml", &scenario("  []\n"))],
    );
    let e = try_load(&dir.join("s.yaml")).unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(7), Some("spec.limits[0].max.memory")),
        "{e}"
    );
}

#[test]
fn unmodelled_quota_entries_are_warned_about() {
    let quota = "\
apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: team}
spec:
  hard: {pods: \"5\", services: \"2\", requests.storage: 10Gi}
  scopes: [BestEffort]
---
apiVersion: v1
kind: LimitRange
metadata: {name: claims, namespace: team}
spec:
  limits:
  - type: PersistentVolumeClaim
    max: {storage: 2Gi}
";
    let s = load(
        "warn",
        &[("quota.yaml", quota), ("s.yaml", &scenario("  []\n"))],
    );
    let w = s.manifest_warnings.join("\n");
    assert!(
        w.contains("spec.scopes: not modelled by schedlab, ignored"),
        "{w}"
    );
    assert!(
        w.contains("ResourceQuota q: spec.hard.services: not modelled"),
        "{w}"
    );
    assert!(
        w.contains("ResourceQuota q: spec.hard[\"requests.storage\"]: not modelled"),
        "{w}"
    );
    assert!(
        w.contains("quota.yaml:13:11: LimitRange claims: spec.limits[0].type: PersistentVolumeClaim limits are not modelled"),
        "{w}"
    );
    assert_eq!(s.quotas[0].hard.len(), 1);
    assert_eq!(s.limit_ranges[0].containers, []);
    assert_eq!(s.manifests_ignored, None);
}

#[test]
fn refusals_are_deterministic() {
    let s = load(
        "determinism",
        &[
            ("quota.yaml", QUOTA_PODS_2),
            (
                "s.yaml",
                &scenario(
                    "  - {deployment: web, namespace: team, replicas: 3, requests: {cpu: 100m}}\n  - {batch: b, namespace: team, arrivals: {process: poisson, ratePerMinute: 30, count: 20}, duration: 2s, requests: {cpu: 100m}}\n",
                ),
            ),
        ],
    );
    let a = run(&s, "kube-default");
    let b = run(&s, "kube-default");
    assert_eq!(a.trace, b.trace);
    assert_eq!(
        a.summary
            .columns()
            .map(|c| a.summary.get(c).map(|v| v.render()))
            .collect::<Vec<_>>(),
        b.summary
            .columns()
            .map(|c| b.summary.get(c).map(|v| v.render()))
            .collect::<Vec<_>>()
    );
    assert!(a.summary.count(&columns::ADMISSION_REJECTIONS) > 11);
    // Nothing refused is a trace event of a pod.
    assert!(
        a.trace
            .iter()
            .all(|t| !matches!(t.event, TraceEvent::Rejected))
    );
}

#[test]
fn a_stateful_set_retries_its_next_ordinal_with_back_off() {
    // db-0 is created at 0 and starts at 1 s; then (OrderedReady) db-1 is due, refused,
    // and retried 5 ms later, doubling, until the 2 s horizon.
    let quota = QUOTA_PODS_2.replace("pods: \"2\"", "pods: \"1\"");
    let s = load(
        "statefulset",
        &[
            ("quota.yaml", &quota),
            (
                "s.yaml",
                &scenario(
                    "  - {statefulSet: db, namespace: team, replicas: 2, requests: {cpu: 100m}}\n",
                )
                .replace("duration: 10s", "duration: 2s"),
            ),
        ],
    );
    let r = run(&s, "kube-default");
    assert_eq!(
        refusals(&r),
        [1000, 1005, 1015, 1035, 1075, 1155, 1315, 1635]
    );
    assert_eq!(
        lines(&r, &["failed-create"])[0].3,
        "Error creating: pods \"db-1\" is forbidden: exceeded quota: pods-quota, \
         requested: pods=1, used: pods=1, limited: pods=1"
    );
}

#[test]
fn retries_do_not_keep_a_run_without_a_horizon_alive() {
    // The Deployment's only pod is forbidden: its retry 5 ms later waits for a change
    // that nothing queued can make, so the run ends at 0 after one refusal.
    let s = load(
        "nohorizon",
        &[
            ("quota.yaml", LIMITS),
            (
                "s.yaml",
                &scenario(
                    "  - {deployment: big, namespace: team, replicas: 1, requests: {cpu: 1}, limits: {cpu: 4}}\n",
                )
                .replace("duration: 10s\n", ""),
            ),
        ],
    );
    let r = run(&s, "kube-default");
    assert_eq!(refusals(&r), [0]);
    assert_eq!(r.summary.count(&columns::ADMISSION_REJECTIONS), 1);
}

#[test]
fn a_daemon_set_over_its_pod_quota_retries_the_last_node_every_ten_seconds() {
    // Three nodes, a quota of two pods: the daemon pods of n1 and n2 are created at 0, n3's
    // is refused and its sync requeued after the controller's 10 s hold-back, at 10, 20
    // and 30 s within the 35 s horizon.
    let s = load(
        "daemonset",
        &[
            ("quota.yaml", QUOTA_PODS_2),
            (
                "s.yaml",
                "duration: 35s\nmanifests: [quota.yaml]\ncluster:\n  nodePools: [{name: n, count: 3, allocatable: {cpu: \"4\", memory: 8Gi}}]\nworkloads:\n  - {daemonSet: agent, namespace: team, requests: {cpu: 100m}}\n",
            ),
        ],
    );
    let r = run(&s, "kube-default");
    let created: Vec<_> = lines(&r, &["created"])
        .into_iter()
        .map(|l| (l.0, l.1))
        .collect();
    assert_eq!(created, [(0, "agent-0".into()), (0, "agent-1".into())]);
    assert_eq!(refusals(&r), [0, 10_000, 20_000, 30_000]);
    assert_eq!(r.summary.count(&columns::ADMISSION_REJECTIONS), 4);

    // Without a horizon the refused node's retry waits for a change nothing queued can
    // make: the run ends at 0 after one refusal.
    let s = load(
        "daemonset-endless",
        &[
            ("quota.yaml", QUOTA_PODS_2),
            (
                "s.yaml",
                "manifests: [quota.yaml]\ncluster:\n  nodePools: [{name: n, count: 3, allocatable: {cpu: \"4\", memory: 8Gi}}]\nworkloads:\n  - {daemonSet: agent, namespace: team, requests: {cpu: 100m}}\n",
            ),
        ],
    );
    let r = run(&s, "kube-default");
    assert_eq!(refusals(&r), [0]);
    assert_eq!(r.summary.count(&columns::PODS_RUNNING_AT_END), 2);
}
