//! VolumeRestrictions and NodeVolumeLimits end to end, placements worked out by hand: a
//! ReadWriteOncePod claim serves one pod at a time, and a node whose CSI driver attaches
//! at most two volumes sends the third volume pod elsewhere until one leaves.

use schedulers::Registry;
use sim::{ExplainOutcome, RunResult, Scenario, SimTime, Simulation, TraceEvent, parse_scenario};

fn scenario(text: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "volume-limits.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn run(text: &str, seed: u64) -> RunResult {
    let registry = Registry::builtin();
    let scenario = scenario(text);
    let mut sim = Simulation::new(&scenario, registry.create("kube-default").unwrap(), seed);
    sim.enable_trace();
    while sim.step() {
        sim.cluster().check_invariants().unwrap();
    }
    sim.finish()
}

/// (seconds, pod, node) of every bind.
fn binds(result: &RunResult) -> Vec<(u64, String, String)> {
    result
        .trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::Bound { node } => Some((r.time.0 / 1_000_000, r.pod.clone(), node.clone())),
            _ => None,
        })
        .collect()
}

/// Every failed attempt's reason for `pod`, deduplicated in order.
fn reasons(result: &RunResult, pod: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in result.trace.iter().filter(|r| r.pod == pod) {
        if let TraceEvent::Unschedulable { reason } = &r.event
            && !out.contains(reason)
        {
            out.push(reason.clone());
        }
    }
    out
}

/// Two roomy nodes. `reader-a` and `reader-b` share a ReadWriteMany claim, so both run;
/// `writer-a` (2s, for 20s) takes the ReadWriteOncePod claim `solo`, and `writer-b` (3s),
/// mounting `solo` too, is rejected on both nodes until `writer-a` is gone.
const RWOP: &str = r#"
name: rwop
duration: 2m
startLatency: 0s
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: "4", memory: 8Gi}}]
storageClasses:
  - {name: standard, provisioner: ebs.csi.aws.com}
persistentVolumeClaims:
  - {name: shared, storageClassName: standard, accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
  - {name: solo, storageClassName: standard, accessModes: [ReadWriteOncePod], resources: {requests: {storage: 1Gi}}}
workloads:
  - {pod: reader-a, at: 0s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: d, persistentVolumeClaim: {claimName: shared}}]}
  - {pod: reader-b, at: 1s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: d, persistentVolumeClaim: {claimName: shared}}]}
  - {pod: writer-a, at: 2s, duration: 20s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: d, persistentVolumeClaim: {claimName: solo}}]}
  - {pod: writer-b, at: 3s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: d, persistentVolumeClaim: {claimName: solo}}]}
"#;

#[test]
fn a_read_write_once_pod_claim_serves_one_pod_at_a_time() {
    for seed in 1..=3 {
        let r = run(RWOP, seed);
        let b = binds(&r);
        let order: Vec<(u64, &str)> = b.iter().map(|(t, p, _)| (*t, p.as_str())).collect();
        assert_eq!(
            order[..3],
            [(0, "reader-a"), (1, "reader-b"), (2, "writer-a")],
            "seed {seed}: {b:?}"
        );
        // writer-a ends at 22s; its deletion requeues writer-b, which binds at once.
        assert_eq!(order[3..], [(22, "writer-b")], "seed {seed}: {b:?}");
        assert_eq!(
            reasons(&r, "writer-b"),
            [
                "0/2 nodes are available: 2 node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode."
            ],
            "seed {seed}"
        );
        assert!(reasons(&r, "reader-b").is_empty());
    }
}

/// `small` (16 CPUs) attaches at most two EBS volumes; `big` (4 CPUs) has no limit.
/// Every pod mounts a claim of its own, provisioned at time zero by the EBS driver, and
/// requests 1 CPU and 1Gi, so both LeastAllocated and BalancedAllocation prefer `small`
/// for each of them (after k pods there, 15-k of 16 CPUs free against 3 of 4).
/// `vol-a` (0s, for 30s) and `vol-b` (1s) go to `small`; `vol-c` (2s) would too, but
/// `small` would then attach three volumes, so it goes to `big`. `vol-a` leaves at 30s,
/// and `vol-d` (40s) finds one free attachment on `small` again.
const LIMITS: &str = r#"
name: attach-limits
duration: 2m
startLatency: 0s
cluster:
  nodes:
    - {name: small, allocatable: {cpu: "16", memory: 32Gi}, csiAttachLimits: {ebs.csi.aws.com: 2}}
    - {name: big, allocatable: {cpu: "4", memory: 8Gi}}
storageClasses:
  - {name: gp3, provisioner: ebs.csi.aws.com}
persistentVolumeClaims:
  - {name: a, storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
  - {name: b, storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
  - {name: c, storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
  - {name: d, storageClassName: gp3, resources: {requests: {storage: 1Gi}}}
workloads:
  - {pod: vol-a, at: 0s, duration: 30s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: v, persistentVolumeClaim: {claimName: a}}]}
  - {pod: vol-b, at: 1s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: v, persistentVolumeClaim: {claimName: b}}]}
  - {pod: vol-c, at: 2s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: v, persistentVolumeClaim: {claimName: c}}]}
  - {pod: vol-d, at: 40s, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: v, persistentVolumeClaim: {claimName: d}}]}
"#;

#[test]
fn a_node_takes_no_more_volumes_than_its_attach_limit() {
    for seed in 1..=3 {
        let r = run(LIMITS, seed);
        let expected: Vec<(u64, String, String)> = [
            (0, "vol-a", "small"),
            (1, "vol-b", "small"),
            (2, "vol-c", "big"),
            (40, "vol-d", "small"),
        ]
        .into_iter()
        .map(|(t, p, n)| (t, p.to_owned(), n.to_owned()))
        .collect();
        assert_eq!(binds(&r), expected, "seed {seed}");
    }
    // Without the limit, vol-c would have gone to small too.
    let unlimited = LIMITS.replace(", csiAttachLimits: {ebs.csi.aws.com: 2}", "");
    let r = run(&unlimited, 1);
    let nodes: Vec<String> = binds(&r).into_iter().map(|(_, _, n)| n).collect();
    assert_eq!(nodes, ["small", "small", "small", "small"]);
}

#[test]
fn explain_names_the_volume_reasons() {
    let registry = Registry::builtin();
    let s = scenario(LIMITS);
    let mut sim = Simulation::new(&s, registry.create("kube-default").unwrap(), 1);
    let Some(ExplainOutcome::Explained {
        explanation, time, ..
    }) = sim.explain("vol-c", SimTime::ZERO)
    else {
        panic!("vol-c is explained");
    };
    assert_eq!(time.0 / 1_000_000, 2);
    let small = sim.cluster().node_id("small").unwrap();
    let verdict = explanation.nodes.iter().find(|v| v.node == small).unwrap();
    assert_eq!(verdict.failed_plugin, Some("NodeVolumeLimits"));
    assert_eq!(verdict.reasons, ["node(s) exceed max volume count"]);
    assert_eq!(
        explanation.selected,
        Some(sim.cluster().node_id("big").unwrap())
    );

    let s = scenario(RWOP);
    let mut sim = Simulation::new(&s, registry.create("kube-default").unwrap(), 1);
    let Some(ExplainOutcome::Explained { explanation, .. }) =
        sim.explain("writer-b", SimTime::ZERO)
    else {
        panic!("writer-b is explained");
    };
    assert_eq!(explanation.nodes.len(), 2);
    for v in &explanation.nodes {
        assert_eq!(v.failed_plugin, Some("VolumeRestrictions"));
        assert_eq!(
            v.reasons,
            [
                "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
            ]
        );
    }
}

/// Upstream's Filter rejects a ReadWriteOncePod conflict as Unschedulable, not
/// unresolvable, so preemption may evict the holder: `holder` (priority 0, no grace
/// period) keeps `solo` from 0s; `urgent` (priority 1000, 5s) mounts `solo` too, evicts
/// `holder` and binds at once (on either node: with `solo` free, both fit).
const RWOP_PREEMPTION: &str = r#"
name: rwop-preemption
duration: 1m
startLatency: 0s
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: "4", memory: 8Gi}}]
storageClasses:
  - {name: standard, provisioner: ebs.csi.aws.com}
persistentVolumeClaims:
  - {name: solo, storageClassName: standard, accessModes: [ReadWriteOncePod], resources: {requests: {storage: 1Gi}}}
workloads:
  - {pod: holder, at: 0s, terminationGracePeriodSeconds: 0, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: d, persistentVolumeClaim: {claimName: solo}}]}
  - {pod: urgent, at: 5s, priority: 1000, requests: {cpu: "1", memory: 1Gi}, volumes: [{name: d, persistentVolumeClaim: {claimName: solo}}]}
"#;

#[test]
fn a_higher_priority_pod_preempts_the_holder_of_a_read_write_once_pod_claim() {
    for seed in 1..=3 {
        let r = run(RWOP_PREEMPTION, seed);
        let b = binds(&r);
        assert_eq!(b.len(), 2, "seed {seed}: {b:?}");
        assert_eq!((b[0].0, b[0].1.as_str()), (0, "holder"));
        assert_eq!(
            (b[1].0, b[1].1.as_str()),
            (5, "urgent"),
            "seed {seed}: {b:?}"
        );
        let evicted: Vec<&str> = r
            .trace
            .iter()
            .filter(|t| t.event == TraceEvent::Evicted)
            .map(|t| t.pod.as_str())
            .collect();
        assert_eq!(evicted, ["holder"], "seed {seed}");
        assert_eq!(r.summary.count(&sim::columns::PREEMPTIONS), 1);
    }
}
