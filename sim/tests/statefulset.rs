//! StatefulSets: ordinals created in order (OrderedReady) or at once (Parallel), a lost
//! ordinal recreated with the same name and claims, and a pod whose zonal volume is in a
//! lost zone stranded there until the zone returns, at exact times worked by hand; the
//! bundled `stateful-outage.yaml` scenario; the cluster's invariants after every event.

use schedulers::volumes::ZONE_LABEL;
use schedulers::{ClusterState, PodPhase, Registry};
use sim::{RunResult, Scenario, SimTime, Simulation, Value, columns, parse_scenario};

fn load(text: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "statefulset.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn sim<'a>(s: &'a Scenario, scheduler: &str, seed: u64) -> Simulation<'a> {
    let mut sim = Simulation::new(s, Registry::builtin().create(scheduler).unwrap(), seed);
    sim.enable_trace();
    sim
}

/// "time pod event detail" lines of the trace, seconds whole.
fn trace(r: &RunResult) -> Vec<String> {
    r.trace
        .iter()
        .map(|t| {
            let (e, d) = t.event.columns();
            format!("{} {} {e} {d}", t.time.as_micros() / 1_000_000, t.pod)
                .trim_end()
                .to_owned()
        })
        .collect()
}

fn time(r: &RunResult, c: &sim::Column) -> Option<SimTime> {
    match r.summary.get(c) {
        Some(Value::Time(t)) => Some(*t),
        Some(Value::Missing) => None,
        other => panic!("{}: {other:?}", c.name),
    }
}

/// The pod named `name`, its phase and the zone of its node.
fn pod(cluster: &ClusterState, name: &str) -> (PodPhase, Option<String>) {
    let (_, p) = cluster
        .pods()
        .find(|(_, p)| p.name().to_string() == name)
        .unwrap_or_else(|| panic!("no pod {name}"));
    let zone = p.node.and_then(|n| {
        cluster
            .node(n)
            .spec
            .labels
            .get(ZONE_LABEL)
            .map(str::to_owned)
    });
    (p.phase, zone)
}

/// The zone of the volume bound to claim `claim`.
fn volume_zone(cluster: &ClusterState, claim: &str) -> Option<String> {
    let v = cluster.volumes();
    let pv = v.claim("default", claim)?.bound_volume.as_deref()?;
    v.volume(pv)?.labels.get(ZONE_LABEL).map(str::to_owned)
}

/// Three nodes, one per zone, sized so that the scores decide placements by hand; a
/// Deployment that prefers zone a and a StatefulSet spread one per zone with a
/// WaitForFirstConsumer volume each; zone a lost from 100 s to 1000 s.
const OUTAGE: &str = r#"
duration: 30m
startLatency: 1s
cluster:
  nodes:
    - {name: a-0, allocatable: {cpu: "10", memory: 8Gi}, labels: {topology.kubernetes.io/zone: a}}
    - {name: b-0, allocatable: {cpu: "9", memory: 8Gi}, labels: {topology.kubernetes.io/zone: b}}
    - {name: c-0, allocatable: {cpu: "8", memory: 8Gi}, labels: {topology.kubernetes.io/zone: c}}
storageClasses:
  - {name: zonal, volumeBindingMode: WaitForFirstConsumer}
workloads:
  - deployment: web
    replicas: 1
    requests: {cpu: "1", memory: 64Mi}
    affinity:
      nodeAffinity:
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            preference: {matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a]}]}
  - statefulSet: db
    replicas: 3
    POLICY
    labels: {app: db}
    requests: {cpu: "3", memory: 64Mi}
    topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: db}}}
    volumeClaimTemplates:
      - metadata: {name: data}
        spec: {accessModes: [ReadWriteOnce], storageClassName: zonal, resources: {requests: {storage: 10Gi}}}
failures:
  events:
    - {zoneOutage: a, at: 100s, duration: 900s}
"#;

/// Worked by hand (kube-default, start latency 1 s). At 0 s web-0 goes to a-0 (its
/// preferred zone) and db-0 is created alone (OrderedReady). LeastAllocated scores db-0's
/// nodes by free CPU after it: a-0 6/10, b-0 6/9, c-0 5/8, so b-0; its claim data-db-0
/// is provisioned in zone b. db-0 runs at 1 s, and only then is db-1 created: the spread
/// constraint now excludes zone b (skew 2), and c-0 (5/8) beats a-0 (6/10 = 0.6 <
/// 0.625), so c-0. db-1 runs at 2 s; db-2 is created then and can only go to zone a.
///
/// Zone a is lost at 100 s: NotReady and tainted unreachable after the 50 s grace
/// period (150 s); web-0 and db-2 are evicted after the default 300 s toleration (450 s),
/// outright since the node is not Ready. web's ReplicaSet replaces web-0 with web-1 on
/// b-0 (free CPU 5/9 against c-0's 4/8). The StatefulSet recreates db-2 with the same
/// name and claim, whose volume is in zone a: b-0 and c-0 have "volume node affinity
/// conflict", a-0 is not Ready, so it stays pending, retried at the unschedulable
/// queue's 300 s flush (750 s), until the zone is back at 1000 s; it is bound to a-0 at
/// once and runs at 1001 s.
///
/// The failure of a-0 evicted two pods; it recovers when both run again: web-1 at 451 s,
/// db-2 at 1001 s, so its recovery time is 1001 - 100 = 901 s.
#[test]
fn ordered_ready_ordinals_and_a_pod_stranded_with_its_zonal_volume() {
    let s = load(&OUTAGE.replace("POLICY", "podManagementPolicy: OrderedReady"));
    let mut run = sim(&s, "kube-default", 1);
    // Pending from its eviction until the zone returns, its volume still in zone a.
    run.step_until(SimTime::from_secs(999));
    let c = run.cluster();
    assert_eq!(pod(c, "db-2"), (PodPhase::Pending, None));
    assert_eq!(volume_zone(c, "data-db-2").as_deref(), Some("a"));
    assert_eq!(
        (pod(c, "db-0").1, pod(c, "db-1").1),
        (Some("b".into()), Some("c".into()))
    );
    let r = run.run();
    assert_eq!(
        trace(&r),
        [
            "0 web-0 created",
            "0 db-0 created",
            "0 web-0 bound a-0",
            "0 db-0 bound b-0",
            "1 web-0 started",
            "1 db-0 started",
            "1 db-1 created",
            "1 db-1 bound c-0",
            "2 db-1 started",
            "2 db-2 created",
            "2 db-2 bound a-0",
            "3 db-2 started",
            "100 a-0 node-failed crash",
            "450 web-0 evicted taint",
            "450 web-1 created",
            "450 db-2 evicted taint",
            "450 db-2 created",
            "450 web-1 bound b-0",
            "450 db-2 unschedulable 0/2 nodes are available: 2 node(s) had volume node affinity conflict.",
            "451 web-1 started",
            "750 db-2 unschedulable 0/2 nodes are available: 2 node(s) had volume node affinity conflict.",
            "1000 a-0 node-recovered",
            "1000 db-2 bound a-0",
            "1001 db-2 started",
        ]
    );
    assert_eq!(
        time(&r, &columns::RECOVERY_MAX),
        Some(SimTime::from_secs(901))
    );
    assert_eq!(
        time(&r, &columns::RECOVERY_MEAN),
        Some(SimTime::from_secs(901))
    );
    assert_eq!(
        r.summary.get(&columns::PODS_LOST),
        Some(&Value::Count(0)),
        "StatefulSet pods are replaced, not lost"
    );
}

/// Parallel creates every ordinal at 0 s; the placements follow the same scores (db-0
/// b-0, db-1 c-0, db-2 a-0), all three bound at 0 s and running at 1 s.
#[test]
fn parallel_creates_every_ordinal_at_once() {
    let s = load(&OUTAGE.replace("POLICY", "podManagementPolicy: Parallel"));
    let r = sim(&s, "kube-default", 1).run();
    let t = trace(&r);
    assert_eq!(
        t[..9],
        [
            "0 web-0 created",
            "0 db-0 created",
            "0 db-1 created",
            "0 db-2 created",
            "0 web-0 bound a-0",
            "0 db-0 bound b-0",
            "0 db-1 bound c-0",
            "0 db-2 bound a-0",
            "1 web-0 started",
        ]
    );
    assert!(t.contains(&"1001 db-2 started".to_owned()), "{t:#?}");
}

/// OrderedReady stops at the first ordinal that does not run: db-0 asks for more CPU
/// than any node has, so db-1 is never created.
#[test]
fn ordered_ready_waits_for_a_pod_that_never_runs() {
    let s = load(
        "duration: 10m
cluster:
  nodes: [{name: n, allocatable: {cpu: '4', memory: 8Gi}}]
workloads:
  - {statefulSet: db, replicas: 2, requests: {cpu: '8'}}
  - {statefulSet: p, replicas: 2, podManagementPolicy: Parallel, requests: {cpu: '8'}}
",
    );
    let r = sim(&s, "first-fit", 1).run();
    let created: Vec<String> = trace(&r)
        .into_iter()
        .filter(|l| l.ends_with("created"))
        .collect();
    assert_eq!(
        created,
        ["0 db-0 created", "0 p-0 created", "0 p-1 created"]
    );
}

/// A drained pod is replaced only once it is gone (at most one pod per identity): db-0
/// on `a`, drained at 100 s, terminates for its 30 s grace period and is recreated at
/// 130 s, on `b` (first-fit; no volumes).
#[test]
fn a_drained_ordinal_is_recreated_after_its_termination() {
    let s = load(
        "duration: 10m
cluster:
  nodes:
    - {name: a, allocatable: {cpu: '4', memory: 8Gi}}
    - {name: b, allocatable: {cpu: '4', memory: 8Gi}}
workloads:
  - {statefulSet: db, replicas: 1, requests: {cpu: '1'}}
failures:
  events: [{drain: a, at: 100s}]
",
    );
    let r = sim(&s, "first-fit", 1).run();
    assert_eq!(
        trace(&r),
        [
            "0 db-0 created",
            "0 db-0 bound a",
            "1 db-0 started",
            "100 db-0 evicted drain",
            "130 db-0 created",
            "130 db-0 bound b",
            "131 db-0 started",
        ]
    );
}

/// The bundled scenario, as its description says: the StatefulSet's zone-a ordinal is
/// pending with a volume node affinity conflict from its eviction (15:50) until zone a
/// returns (40:00), then runs on its volume's zone; the Deployment's zone-a pods run in
/// zones b and c from 15:50.
#[test]
fn the_bundled_stateful_outage_scenario() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/stateful-outage.yaml"
    );
    let s = sim::load_scenario(std::path::Path::new(path), &|spec, profiles| {
        Registry::builtin().check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let mut run = sim(&s, "kube-default", s.seed);
    run.step_until(SimTime::from_secs(15 * 60 + 51));
    let c = run.cluster();
    let stranded: Vec<String> = c
        .pods()
        .filter(|(_, p)| p.template.name == "db" && p.phase == PodPhase::Pending)
        .map(|(_, p)| p.name().to_string())
        .collect();
    assert_eq!(stranded.len(), 1, "{stranded:?}");
    let name = &stranded[0];
    let claim = format!("data-{name}");
    assert_eq!(volume_zone(c, &claim).as_deref(), Some("a"));
    for (_, p) in c.pods().filter(|(_, p)| p.template.name == "web") {
        let zone = p
            .node
            .and_then(|n| c.node(n).spec.labels.get(ZONE_LABEL).map(str::to_owned));
        assert!(
            matches!(zone.as_deref(), Some("b" | "c")),
            "{}: {zone:?}",
            p.name()
        );
    }
    run.step_until(SimTime::from_secs(40 * 60 + 1));
    assert_eq!(
        pod(run.cluster(), name),
        (PodPhase::Running, Some("a".into()))
    );
    let r = run.run();
    let lines = trace(&r);
    let conflict = format!(
        "950 {name} unschedulable 0/4 nodes are available: 4 node(s) had volume node affinity conflict."
    );
    assert!(lines.contains(&conflict), "{lines:#?}");
    // Its node's failure recovers only when it runs again, 30 min 1 s after the outage.
    assert_eq!(
        time(&r, &columns::RECOVERY_MAX),
        Some(SimTime::from_secs(1801))
    );
}

/// Every scheduler, a zone outage, a drain and random failures with StatefulSets of
/// both policies: the cluster's books hold after every event, and each ordinal has at
/// most one pod.
#[test]
fn invariants_hold_with_stateful_sets_and_failures() {
    let s = load(
        r#"
duration: 3h
cluster:
  nodePools:
    - {name: a, count: 2, allocatable: {cpu: "4", memory: 8Gi}, labels: {topology.kubernetes.io/zone: a}}
    - {name: b, count: 2, allocatable: {cpu: "4", memory: 8Gi}, labels: {topology.kubernetes.io/zone: b}}
    - {name: c, count: 2, allocatable: {cpu: "4", memory: 8Gi}, labels: {topology.kubernetes.io/zone: c}}
storageClasses:
  - {name: zonal, volumeBindingMode: WaitForFirstConsumer}
workloads:
  - deployment: web
    replicas: 4
    requests: {cpu: "1", memory: 1Gi}
  - statefulSet: db
    replicas: 4
    requests: {cpu: "1", memory: 1Gi}
    volumeClaimTemplates:
      - {metadata: {name: data}, spec: {storageClassName: zonal, resources: {requests: {storage: 1Gi}}}}
  - statefulSet: cache
    replicas: 3
    podManagementPolicy: Parallel
    duration: {dist: exponential, mean: 20m}
    requests: {cpu: 500m, memory: 512Mi}
failures:
  events:
    - {zoneOutage: a, at: 30m, duration: 20m}
    - {drain: b-0, at: 1h}
  random:
    - nodes: {pool: c}
      timeToFailure: {dist: exponential, mean: 40m}
      timeToRepair: {dist: exponential, mean: 10m}
"#,
    );
    let registry = Registry::builtin();
    for (name, _) in registry.iter() {
        for seed in 1..=2 {
            let mut run = Simulation::new(&s, registry.create(name).unwrap(), seed);
            while run.step() {
                let c = run.cluster();
                if let Err(e) = c.check_invariants() {
                    panic!("{name} seed {seed} at {}: {e}", run.now());
                }
                let mut names: Vec<String> = c
                    .pods()
                    .filter(|(_, p)| p.template.name != "web")
                    .map(|(_, p)| p.name().to_string())
                    .collect();
                let n = names.len();
                names.sort();
                names.dedup();
                assert_eq!(
                    names.len(),
                    n,
                    "{name} seed {seed}: two pods share an ordinal"
                );
                assert!(n <= 7, "{name} seed {seed}: {names:?}");
            }
        }
    }
}

/// A StatefulSet of 2 pods of 500m whose autoscaler (50% CPU, 2 to 4) sees them use
/// 250m (50%) until 110 s, 500m (100%) until 600 s, 100m (20%) until 1190 s and 500m
/// again; with claims (WaitForFirstConsumer) and a 5 s start latency, so that
/// OrderedReady's order shows in time.
const SCALED: &str = r#"
duration: 25m
startLatency: 5s
cluster:
  nodes: [{name: n, allocatable: {cpu: "16", memory: 16Gi}}]
storageClasses:
  - {name: local, volumeBindingMode: WaitForFirstConsumer}
workloads:
  - statefulSet: db
    replicas: 2
    POLICY
    requests: {cpu: 500m, memory: 64Mi}
    usage:
      cpu: [{at: 0s, value: 250m}, {at: 110s, value: 500m}, {at: 600s, value: 100m}, {at: 1190s, value: 500m}]
    volumeClaimTemplates:
      - metadata: {name: data}
        spec: {accessModes: [ReadWriteOnce], storageClassName: local, resources: {requests: {storage: 1Gi}}}
    horizontalPodAutoscaler:
      minReplicas: 2
      maxReplicas: 4
      metrics:
        - resource: {name: cpu, target: {averageUtilization: 50}}
"#;

/// The trace of a run of [`SCALED`] under `policy`, but for bindings and the decisions'
/// details; the replicas the set wants at 1000 s (scaled down, both condemned pods gone)
/// and at the end; the volume bound to each claim at 1000 s and at the end.
#[allow(clippy::type_complexity)]
fn scaled(policy: &str) -> (Vec<String>, [Option<u32>; 2], [Vec<Option<String>>; 2]) {
    let s = load(&SCALED.replace("POLICY", policy));
    let mut run = sim(&s, "first-fit", 1);
    let claims = |run: &Simulation<'_>| -> Vec<Option<String>> {
        let volumes = run.cluster().volumes();
        (0..4)
            .map(|i| {
                volumes
                    .claim("default", &format!("data-db-{i}"))
                    .and_then(|c| c.bound_volume.clone())
            })
            .collect()
    };
    run.step_until(SimTime::from_secs(1000));
    let at_1000 = (run.workloads()[0].replicas, claims(&run));
    run.step_until(SimTime::from_secs(25 * 60));
    let at_end = (run.workloads()[0].replicas, claims(&run));
    let t = trace(&run.finish())
        .into_iter()
        .filter(|l| !l.contains(" bound "))
        .map(|l| match l.find(';') {
            Some(i) => l[..i].to_owned(),
            None => l,
        })
        .collect();
    (t, [at_1000.0, at_end.0], [at_1000.1, at_end.1])
}

/// Worked by hand. The autoscaler syncs every 15 s from 0 s; at 120 s it sees 100%
/// (ratio 2): 4 replicas. OrderedReady creates db-2, and db-3 only once db-2 runs (5 s
/// later). At 600 s the pods use 20% (2 wanted), but the 300 s scale-down stabilization
/// holds the highest recommendation (4, last at 585 s) until 885 s: the highest ordinal,
/// db-3, is deleted first, and db-2 only once db-3 is gone after its 30 s grace period
/// (915 s). Their claims stay bound to their volumes; at 1200 s (usage up at 1190 s)
/// the set scales to 4 again and db-2 and db-3 come back with the same claims and
/// volumes.
#[test]
fn an_autoscaled_ordered_ready_set_adds_and_removes_ordinals_one_at_a_time() {
    let (t, replicas, claims) = scaled("podManagementPolicy: OrderedReady");
    assert_eq!(
        t,
        [
            "0 db-0 created",
            "5 db-0 started",
            "5 db-1 created",
            "10 db-1 started",
            "120 db hpa-scale replicas 2 -> 4",
            "120 db-2 created",
            "125 db-2 started",
            "125 db-3 created",
            "130 db-3 started",
            "885 db hpa-scale replicas 4 -> 2",
            "885 db-3 evicted",
            "915 db-2 evicted",
            "1200 db hpa-scale replicas 2 -> 4",
            "1200 db-2 created",
            "1205 db-2 started",
            "1205 db-3 created",
            "1210 db-3 started",
        ]
    );
    assert_eq!(replicas, [Some(2), Some(4)]);
    // Retain: the claims of the deleted ordinals stay bound, and are theirs again.
    assert!(claims[0].iter().all(Option::is_some), "{claims:?}");
    assert_eq!(claims[0], claims[1]);
}

/// Parallel: the new ordinals are created at once, and the condemned ones deleted at
/// once, highest first.
#[test]
fn an_autoscaled_parallel_set_adds_and_removes_ordinals_at_once() {
    let (t, replicas, claims) = scaled("podManagementPolicy: Parallel");
    assert_eq!(
        t,
        [
            "0 db-0 created",
            "0 db-1 created",
            "5 db-0 started",
            "5 db-1 started",
            "120 db hpa-scale replicas 2 -> 4",
            "120 db-2 created",
            "120 db-3 created",
            "125 db-2 started",
            "125 db-3 started",
            "885 db hpa-scale replicas 4 -> 2",
            "885 db-3 evicted",
            "885 db-2 evicted",
            "1200 db hpa-scale replicas 2 -> 4",
            "1200 db-2 created",
            "1200 db-3 created",
            "1205 db-2 started",
            "1205 db-3 started",
        ]
    );
    assert_eq!(replicas, [Some(2), Some(4)]);
    assert_eq!(claims[0], claims[1]);
}

/// Upstream makes an ordinal's claims when it first creates the ordinal's pod: with an
/// Immediate class (which provisions at once), the claims of the ordinals the
/// autoscaler adds appear, bound, only with their pods (db-2 at 120 s, db-3 at 125 s
/// under OrderedReady), not when the scenario loads.
#[test]
fn a_scale_up_makes_its_new_ordinals_claims_with_their_pods() {
    let s = load(&SCALED.replace("POLICY", "").replace(
        "{name: local, volumeBindingMode: WaitForFirstConsumer}",
        "{name: local, provisioner: ebs.csi.aws.com, volumeBindingMode: Immediate}",
    ));
    let names = |v: &schedulers::volumes::VolumeState| -> Vec<String> {
        v.claims().iter().map(|c| c.name.clone()).collect()
    };
    assert_eq!(names(&s.volumes), ["data-db-0", "data-db-1"]);
    let mut run = sim(&s, "first-fit", 1);
    let bound = |run: &Simulation<'_>| -> Vec<(String, Option<String>)> {
        run.cluster()
            .volumes()
            .claims()
            .iter()
            .map(|c| (c.name.clone(), c.bound_volume.clone()))
            .collect()
    };
    let provisioned = |i: u32| Some(format!("pvc-default-data-db-{i}"));
    run.step_until(SimTime::from_secs(119));
    assert_eq!(
        bound(&run),
        [
            ("data-db-0".to_owned(), provisioned(0)),
            ("data-db-1".to_owned(), provisioned(1)),
        ]
    );
    run.step_until(SimTime::from_secs(121));
    assert_eq!(bound(&run)[2..], [("data-db-2".to_owned(), provisioned(2))]);
    run.step_until(SimTime::from_secs(126));
    assert_eq!(
        bound(&run)[2..],
        [
            ("data-db-2".to_owned(), provisioned(2)),
            ("data-db-3".to_owned(), provisioned(3)),
        ]
    );
}

/// `persistentVolumeClaimRetentionPolicy: {whenScaled: Delete}`: the scale-down to 2
/// (db-3 gone at 915 s, db-2 at 945 s) deletes their claims and the volumes provisioned
/// for them (the class's default reclaim policy, Delete); the scale-up at 1200 s makes
/// new claims, bound to new volumes when their pods are.
#[test]
fn when_scaled_delete_removes_the_claims_of_the_ordinals_a_scale_down_removes() {
    let s = load(&SCALED.replace("POLICY", "").replace(
        "    volumeClaimTemplates:",
        "    persistentVolumeClaimRetentionPolicy: {whenDeleted: Retain, whenScaled: Delete}\n    volumeClaimTemplates:",
    ));
    let mut run = sim(&s, "first-fit", 1);
    let state = |run: &Simulation<'_>| -> (Vec<(String, Option<String>)>, usize) {
        let v = run.cluster().volumes();
        let claims = v
            .claims()
            .iter()
            .map(|c| (c.name.clone(), c.bound_volume.clone()))
            .collect();
        (claims, v.volumes().len())
    };
    let bound = |i: u32| {
        (
            format!("data-db-{i}"),
            Some(format!("pvc-default-data-db-{i}")),
        )
    };
    run.step_until(SimTime::from_secs(200));
    assert_eq!(
        state(&run),
        (vec![bound(0), bound(1), bound(2), bound(3)], 4)
    );
    // db-3 is evicted at 885 s and gone after its 30 s grace period; db-2 follows.
    run.step_until(SimTime::from_secs(916));
    assert_eq!(state(&run), (vec![bound(0), bound(1), bound(2)], 3));
    run.step_until(SimTime::from_secs(1000));
    assert_eq!(state(&run), (vec![bound(0), bound(1)], 2));
    run.step_until(SimTime::from_secs(25 * 60));
    assert_eq!(
        state(&run),
        (vec![bound(0), bound(1), bound(2), bound(3)], 4)
    );
}
