//! Gang scheduling through the simulator, with every registered scheduler: hand-checked
//! runs (a group of four where three fit waits at Permit holding three nodes, then all
//! four bind at once; a group gathered over three cycles as room frees; the timeout,
//! which gives the held room back), and random scenarios checked after every event that
//! no group is ever admitted partly: whenever members of a group bind, at least
//! `minMember` of its pods are bound (and not terminating) right after.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use schedulers::{
    ContainerResources, NodeSpec, PodGroupSpec, PodId, PodPhase, PodTemplate, Registry,
    ResourceKind, Resources,
};
use sim::scenario::{ArrivalProcess, Arrivals, Dist, Workload, WorkloadKind};
use sim::{RunResult, Scenario, SimTime, Simulation, TraceEvent, parse_scenario};

fn schedulers() -> Vec<String> {
    Registry::builtin()
        .iter()
        .map(|(n, _)| n.to_owned())
        .collect()
}

fn run_yaml(text: &str, scheduler: &str) -> RunResult {
    let registry = Registry::builtin();
    let scenario = parse_scenario(text, "gang-test.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, registry.create(scheduler).unwrap(), 1);
    sim.enable_trace();
    let mut steps = 0;
    while sim.step() {
        sim.cluster().check_invariants().unwrap();
        steps += 1;
        assert!(steps < 100_000, "{scheduler}: run does not end");
    }
    sim.finish()
}

/// (seconds, pod) of every bind of a pod whose name starts with `prefix`.
fn binds(result: &RunResult, prefix: &str) -> Vec<(u64, String)> {
    result
        .trace
        .iter()
        .filter(|r| r.pod.starts_with(prefix))
        .filter_map(|r| match &r.event {
            TraceEvent::Bound { .. } => Some((r.time.0 / 1_000_000, r.pod.clone())),
            _ => None,
        })
        .collect()
}

/// (seconds, event, detail) of every trace record of `pod`, as `trace.csv` writes them.
fn events(result: &RunResult, pod: &str) -> Vec<(u64, String, String)> {
    result
        .trace
        .iter()
        .filter(|r| r.pod == pod)
        .map(|r| {
            let (event, detail) = r.event.columns();
            (r.time.0 / 1_000_000, event.to_string(), detail.to_string())
        })
        .collect()
}

/// (seconds, pod) of every record of `event` (`waiting`, `permitted`, `rejected`) of a
/// pod whose name starts with `prefix`.
fn records(result: &RunResult, prefix: &str, event: &str) -> Vec<(u64, String)> {
    result
        .trace
        .iter()
        .filter(|r| r.pod.starts_with(prefix) && r.event.columns().0 == event)
        .map(|r| (r.time.0 / 1_000_000, r.pod.clone()))
        .collect()
}

/// (seconds, reason) of every failed attempt of `pod`.
fn failures(result: &RunResult, pod: &str) -> Vec<(u64, String)> {
    result
        .trace
        .iter()
        .filter(|r| r.pod == pod)
        .filter_map(|r| match &r.event {
            TraceEvent::Unschedulable { reason } => Some((r.time.0 / 1_000_000, reason.clone())),
            _ => None,
        })
        .collect()
}

/// Four 2-CPU nodes. `blocker` (1 CPU, 0s to 31s: bound at 0s, started at 1s, runs 30s)
/// leaves three nodes with room for a 1500m pod. The gang `train` (four 1500m pods,
/// minMember 4) arrives at 5s: three fit and wait at Permit, holding their nodes; the
/// fourth finds no room. When blocker ends at 31s the fourth fits and all four bind.
const FOUR_OF_FOUR: &str = r#"
duration: 1h
podGroups:
  - {name: train, minMember: 4, scheduleTimeoutSeconds: 600}
cluster:
  nodePools: [{name: n, count: 4, allocatable: {cpu: "2", memory: 8Gi, pods: 110}}]
workloads:
  - pod: blocker
    requests: {cpu: "1", memory: 1Gi}
    duration: 30s
  - pod: train
    count: 4
    at: 5s
    podGroup: train
    requests: {cpu: 1500m, memory: 1Gi}
    duration: 10m
"#;

#[test]
fn a_gang_of_four_where_three_fit_waits_then_binds_whole() {
    for name in schedulers() {
        let r = run_yaml(FOUR_OF_FOUR, &name);
        let mut got = binds(&r, "train");
        got.sort();
        let expected: Vec<(u64, String)> = (0..4).map(|i| (31, format!("train-{i}"))).collect();
        assert_eq!(got, expected, "{name}");
        // At 5s three members wait at Permit, the fourth finds no room; at 31s the three
        // are let through.
        let waits = records(&r, "train", "waiting");
        assert_eq!(waits.len(), 3, "{name}: {waits:?}");
        assert!(waits.iter().all(|(t, _)| *t == 5), "{name}: {waits:?}");
        let last = (0..4)
            .map(|i| format!("train-{i}"))
            .find(|p| !waits.iter().any(|(_, w)| w == p))
            .unwrap();
        assert_eq!(
            failures(&r, &last),
            vec![(
                5,
                "0/4 nodes are available: 4 Insufficient cpu.".to_string()
            )],
            "{name}"
        );
        let permitted: Vec<(u64, String)> = records(&r, "train", "permitted");
        assert_eq!(
            permitted.iter().map(|(_, p)| p).collect::<Vec<_>>(),
            waits.iter().map(|(_, p)| p).collect::<Vec<_>>(),
            "{name}"
        );
        assert!(permitted.iter().all(|(t, _)| *t == 31), "{name}");
        let waited = events(&r, &waits[0].1);
        // Recorded once the cycle is decided: the three wait together.
        assert_eq!(
            (waited[1].0, waited[1].1.as_str()),
            (5, "waiting"),
            "{name}"
        );
        assert!(
            waited[1].2.starts_with("n-")
                && waited[1]
                    .2
                    .ends_with("; pod group \"train\": 3/4 members bound or waiting"),
            "{name}: {waited:?}"
        );
        assert!(
            waited.contains(&(
                31,
                "permitted".into(),
                "pod group \"train\": 4/4 members bound".into()
            )),
            "{name}: {waited:?}"
        );
        assert_eq!(r.summary.count(&sim::columns::GANG_TIMEOUTS), 0, "{name}");
        assert_eq!(r.summary.count(&sim::columns::PODS_COMPLETED), 5, "{name}");
    }
}

/// Two 2-CPU nodes and a gang of three 1500m pods that needs three nodes: never
/// admitted. It begins waiting at 0s and times out every 20s: at 20, 40, 60, 80 and
/// 100s (the run's last instant), each time its pods backed off for 10s.
const NEVER_FITS: &str = r#"
duration: 100s
podGroups:
  - {name: big, minMember: 3, scheduleTimeoutSeconds: 20}
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: "2", memory: 8Gi, pods: 110}}]
workloads:
  - pod: big
    count: 3
    labels: {scheduling.x-k8s.io/pod-group: big}
    requests: {cpu: 1500m, memory: 1Gi}
"#;

#[test]
fn a_gang_that_cannot_be_admitted_times_out_every_timeout() {
    for name in schedulers() {
        let r = run_yaml(NEVER_FITS, &name);
        assert!(binds(&r, "big").is_empty(), "{name}");
        assert_eq!(r.summary.count(&sim::columns::GANG_TIMEOUTS), 5, "{name}");
        let timeouts: Vec<u64> = failures(&r, "big-0")
            .into_iter()
            .filter(|(_, reason)| reason.contains("timed out"))
            .map(|(t, _)| t)
            .collect();
        assert_eq!(timeouts, vec![20, 40, 60, 80, 100], "{name}");
        assert!(
            failures(&r, "big-2").contains(&(
                20,
                "pod group \"big\" timed out: 0/3 members bound after 20s".to_string()
            )),
            "{name}"
        );
        // Two members wait at Permit each time, holding both nodes, and give them back
        // at each timeout.
        let released = records(&r, "big", "rejected");
        assert_eq!(released.len(), 10, "{name}: {released:?}");
        for t in [20, 40, 60, 80, 100] {
            assert_eq!(released.iter().filter(|r| r.0 == t).count(), 2, "{name}");
        }
        // Backed off as a group: no attempt between a timeout and 10s later.
        for pod in ["big-0", "big-1", "big-2"] {
            let attempts: Vec<u64> = events(&r, pod)
                .into_iter()
                .filter(|(_, event, detail)| {
                    event == "waiting"
                        || (event == "unschedulable" && !detail.contains("timed out"))
                })
                .map(|(t, _, _)| t)
                .collect();
            assert!(
                attempts.iter().all(|t| !(21..30).contains(t)),
                "{name} {pod}: {attempts:?}"
            );
            assert!(attempts.contains(&30), "{name} {pod}: {attempts:?}");
        }
    }
}

/// A group of three with minMember 2 on two 2-CPU nodes: two members bind at once (the
/// group is admitted), the third waits for room and never times out.
const ADMITTED: &str = r#"
duration: 5m
podGroups:
  - {name: web, minMember: 2, scheduleTimeoutSeconds: 30}
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: "2", memory: 8Gi, pods: 110}}]
workloads:
  - deployment: web
    replicas: 3
    podGroup: web
    requests: {cpu: 1500m, memory: 1Gi}
"#;

#[test]
fn extra_members_of_an_admitted_gang_do_not_time_out() {
    for name in schedulers() {
        let r = run_yaml(ADMITTED, &name);
        let b = binds(&r, "web");
        assert_eq!(b.len(), 2, "{name}: {b:?}");
        assert!(b.iter().all(|(t, _)| *t == 0), "{name}: {b:?}");
        assert_eq!(r.summary.count(&sim::columns::GANG_TIMEOUTS), 0, "{name}");
        assert_eq!(
            r.summary.count(&sim::columns::PODS_PENDING_AT_END),
            1,
            "{name}"
        );
    }
}

/// Two 2-CPU nodes. `a` (two 1500m pods, minMember 2) is admitted at 0s and runs until
/// 31s; `b`, a third member arriving at 10s, finds no room, but the group has its two
/// members bound, so `b` does not wait. When `a` ends at 31s the group is short again
/// with `b` pending: it waits from 31s and times out at 51, 71 and 91s; `b` alone can
/// never be admitted ("1/2 members pending or bound").
const SHORT_AGAIN: &str = r#"
duration: 100s
podGroups:
  - {name: g, minMember: 2, scheduleTimeoutSeconds: 20}
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: "2", memory: 8Gi, pods: 110}}]
workloads:
  - pod: a
    count: 2
    podGroup: g
    requests: {cpu: 1500m, memory: 1Gi}
    duration: 30s
  - pod: b
    at: 10s
    podGroup: g
    requests: {cpu: 1500m, memory: 1Gi}
"#;

#[test]
fn a_group_that_falls_short_again_waits_from_then() {
    for name in schedulers() {
        let r = run_yaml(SHORT_AGAIN, &name);
        assert_eq!(
            binds(&r, ""),
            vec![(0, "a-0".to_string()), (0, "a-1".to_string())],
            "{name}"
        );
        let f = failures(&r, "b");
        let timeouts: Vec<u64> = f
            .iter()
            .filter(|(_, reason)| reason.contains("timed out"))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(timeouts, vec![51, 71, 91], "{name}: {f:?}");
        assert_eq!(r.summary.count(&sim::columns::GANG_TIMEOUTS), 3, "{name}");
        assert_eq!(
            f[0],
            (10, "0/2 nodes are available: 2 Insufficient cpu.".into()),
            "{name}"
        );
        assert!(
            f.contains(&(
                31,
                "0/2 nodes are available: 2 pod group \"g\" has 1/2 members pending or bound."
                    .into()
            )),
            "{name}: {f:?}"
        );
    }
}

/// Three 2-CPU nodes, each taken by a 1500m blocker: `b1` ends at 11s, `b2` at 21s, `b3`
/// at 31s. The gang `train` (three 1500m pods, minMember 3) arrives at 5s and finds no
/// room. At 11s train-0 takes the freed node and waits at Permit, at 21s train-1 does
/// (2/3); `late` (1500m, from 25s, runs to the end) finds both held; at 31s train-2 fits
/// and the three bind together; `late` binds when they finish at 92s. Without the wait at Permit (a group admitted only when
/// three members fit at one instant), `late` took a freed node at 25s and the gang was
/// never admitted.
const ACROSS_CYCLES: &str = r#"
duration: 2m
podGroups:
  - {name: train, minMember: 3, scheduleTimeoutSeconds: 120}
cluster:
  nodePools: [{name: n, count: 3, allocatable: {cpu: "2", memory: 8Gi, pods: 110}}]
workloads:
  - pod: b1
    requests: {cpu: 1500m, memory: 1Gi}
    duration: 10s
  - pod: b2
    requests: {cpu: 1500m, memory: 1Gi}
    duration: 20s
  - pod: b3
    requests: {cpu: 1500m, memory: 1Gi}
    duration: 30s
  - pod: train
    count: 3
    at: 5s
    podGroup: train
    requests: {cpu: 1500m, memory: 1Gi}
    duration: 1m
  - pod: late
    at: 25s
    requests: {cpu: 1500m, memory: 1Gi}
"#;

#[test]
fn a_gang_gathers_its_members_over_three_cycles_at_permit() {
    for name in schedulers() {
        let r = run_yaml(ACROSS_CYCLES, &name);
        assert_eq!(
            records(&r, "train", "waiting"),
            vec![(11, "train-0".to_string()), (21, "train-1".to_string())],
            "{name}"
        );
        assert_eq!(
            binds(&r, "train"),
            vec![
                (31, "train-2".to_string()),
                (31, "train-0".to_string()),
                (31, "train-1".to_string())
            ],
            "{name}"
        );
        assert_eq!(
            records(&r, "train", "permitted"),
            vec![(31, "train-0".to_string()), (31, "train-1".to_string())],
            "{name}"
        );
        let waited = events(&r, "train-1");
        assert!(
            waited.iter().any(|(t, e, d)| *t == 21
                && e == "waiting"
                && d.ends_with("; pod group \"train\": 2/3 members bound or waiting")),
            "{name}: {waited:?}"
        );
        // The held room kept `late` out until the gang finished (31s + 1s start + 1m).
        assert_eq!(binds(&r, "late"), vec![(92, "late".to_string())], "{name}");
        assert_eq!(
            failures(&r, "late"),
            vec![
                (
                    25,
                    "0/3 nodes are available: 3 Insufficient cpu.".to_string()
                ),
                (
                    31,
                    "0/3 nodes are available: 3 Insufficient cpu.".to_string()
                )
            ],
            "{name}"
        );
        assert_eq!(r.summary.count(&sim::columns::GANG_TIMEOUTS), 0, "{name}");
        assert!(records(&r, "", "rejected").is_empty(), "{name}");
    }
}

/// Two 2-CPU nodes; the gang `big` (three 1500m pods, minMember 3, timeout 20s) can
/// never be admitted: two members wait at Permit holding both nodes, the third finds no
/// room. `web` (1500m) arrives at 5s and finds no room either. At 20s the group times
/// out: its two waiting members give their nodes back, the group backs off for 10s, and
/// `web` binds in the room they freed at that same instant.
const RELEASED: &str = r#"
duration: 100s
podGroups:
  - {name: big, minMember: 3, scheduleTimeoutSeconds: 20}
cluster:
  nodePools: [{name: n, count: 2, allocatable: {cpu: "2", memory: 8Gi, pods: 110}}]
workloads:
  - pod: big
    count: 3
    podGroup: big
    requests: {cpu: 1500m, memory: 1Gi}
  - pod: web
    at: 5s
    requests: {cpu: 1500m, memory: 1Gi}
"#;

#[test]
fn a_gang_that_times_out_gives_its_held_room_to_other_pods() {
    for name in schedulers() {
        let r = run_yaml(RELEASED, &name);
        let waits: Vec<(u64, String)> = records(&r, "big", "waiting")
            .into_iter()
            .filter(|w| w.0 == 0)
            .collect();
        assert_eq!(waits.len(), 2, "{name}: {waits:?}");
        assert_eq!(
            failures(&r, "web"),
            vec![(
                5,
                "0/2 nodes are available: 2 Insufficient cpu.".to_string()
            )],
            "{name}"
        );
        let released: Vec<(u64, String)> = records(&r, "big", "rejected")
            .into_iter()
            .filter(|r| r.0 == 20)
            .collect();
        assert_eq!(released.len(), 2, "{name}: {released:?}");
        for (r, w) in released.iter().zip(&waits) {
            assert_eq!((r.0, &r.1), (20, &w.1), "{name}: in the order they waited");
        }
        let (_, _, first) = events(&r, &waits[0].1)
            .into_iter()
            .find(|(t, e, _)| *t == 20 && e == "rejected")
            .unwrap();
        assert!(
            first.starts_with("released n-") && first.ends_with(" (timeout)"),
            "{name}: {first}"
        );
        assert_eq!(binds(&r, "web"), vec![(20, "web".to_string())], "{name}");
        assert!(binds(&r, "big").is_empty(), "{name}");
        // After the backoff one member waits again beside web; the group times out at
        // 40, 60, 80 and 100s, each time releasing that one.
        assert_eq!(r.summary.count(&sim::columns::GANG_TIMEOUTS), 5, "{name}");
        let later: Vec<u64> = records(&r, "big", "rejected")
            .iter()
            .map(|r| r.0)
            .filter(|&t| t > 20)
            .collect();
        assert_eq!(later, vec![40, 60, 80, 100], "{name}");
    }
}

#[test]
fn runs_with_waiting_gangs_trace_identically_for_the_same_seed() {
    for text in [ACROSS_CYCLES, RELEASED, FOUR_OF_FOUR] {
        for name in schedulers() {
            let a = run_yaml(text, &name);
            let b = run_yaml(text, &name);
            assert!(!records(&a, "", "waiting").is_empty(), "{name}");
            assert_eq!(a.trace, b.trace, "{name}");
            assert_eq!(
                format!("{:?}", a.summary),
                format!("{:?}", b.summary),
                "{name}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Random scenarios

fn cpu_template(name: &str, cpu: i64, priority: i32, group: Option<u32>) -> PodTemplate {
    let mut c = ContainerResources::default();
    c.set_request(ResourceKind::CPU, cpu);
    c.set_request(ResourceKind::MEMORY, 1 << 30);
    PodTemplate {
        name: name.into(),
        namespace: "default".into(),
        containers: vec![c],
        priority,
        termination_grace_period_seconds: 5,
        pod_group: group,
        ..Default::default()
    }
}

fn random_scenario(seed: u64) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let nodes: Vec<NodeSpec> = (0..rng.random_range(2..=6))
        .map(|i| {
            let mut a = Resources::cpu_mem(rng.random_range(1..=4) * 1000, 16 << 30);
            a.set(ResourceKind::PODS, 110);
            NodeSpec {
                name: format!("n{i}"),
                allocatable: a,
                ..Default::default()
            }
        })
        .collect();
    let groups: Vec<PodGroupSpec> = (0..rng.random_range(1..=3))
        .map(|i| PodGroupSpec {
            name: format!("g{i}"),
            namespace: "default".into(),
            min_member: rng.random_range(1..=5),
            schedule_timeout_seconds: rng.random_range(5..=120),
        })
        .collect();
    let mut workloads = Vec::new();
    for i in 0..rng.random_range(2..=6) {
        let group = if rng.random_range(0..3) > 0 {
            Some(rng.random_range(0..groups.len() as u32))
        } else {
            None
        };
        let cpu = rng.random_range(1..=8) * 250;
        let priority = rng.random_range(0..=2) * 100;
        let template = Arc::new(cpu_template(&format!("w{i}"), cpu, priority, group));
        let at = SimTime::from_secs(rng.random_range(0..=60));
        let kind = match rng.random_range(0..3) {
            0 => WorkloadKind::Pods {
                at,
                count: rng.random_range(1..=6),
            },
            1 => WorkloadKind::Deployment {
                at,
                replicas: rng.random_range(1..=5),
            },
            _ => WorkloadKind::Batch {
                arrivals: Arrivals {
                    process: ArrivalProcess::Poisson {
                        rate_per_second: 0.05,
                    },
                    start: at,
                    stop: None,
                    count: Some(rng.random_range(2..=12)),
                },
            },
        };
        let duration = Some(Dist::Uniform {
            min: SimTime::from_secs(5),
            max: SimTime::from_secs(rng.random_range(10..=300)),
        });
        workloads.push(Workload {
            dynamics: None,
            adopted: Vec::new(),
            adopted_ordinals: Vec::new(),
            adopted_ran: Vec::new(),
            forbidden: None,
            kind,
            template,
            sized: vec![],
            duration,
        });
    }
    Scenario {
        metrics_resolution: sim::SimTime::from_secs(15),
        name: format!("gang-{seed}"),
        description: String::new(),
        path: None,
        seed,
        duration: Some(SimTime::from_secs(900)),
        sample_interval: SimTime::from_secs(60),
        start_latency: SimTime::from_secs(1),
        schedulers: vec![],
        profiles: vec![],
        profile_warnings: vec![],
        trace_warnings: vec![],
        manifest_warnings: vec![],
        manifests_ignored: None,
        manifests_now: None,
        resource_names: Default::default(),
        nodes,
        workloads,
        volumes: Default::default(),
        pod_disruption_budgets: Vec::new(),
        pod_groups: groups,
        namespaces: Vec::new(),
        quotas: Vec::new(),
        limit_ranges: Vec::new(),
        seeds: Vec::new(),
        gpu_trace: None,
        queue: Default::default(),
        gpu_fill: None,
        gpu_workload: Vec::new(),
        failures: None,
        autoscaler: None,
        node_pressure: None,
        images: Default::default(),
        node_changes: Vec::new(),
        cron_jobs: Vec::new(),
        priority_classes: Vec::new(),
    }
}

/// Steps the run, checking after every event that every group with a member bound in
/// that event has at least `minMember` members bound and not terminating. Returns the
/// result and how many admissions were seen (so the test knows it exercised some).
fn run_checked(scenario: &Scenario, scheduler: &str) -> (RunResult, u64, u64) {
    let registry = Registry::builtin();
    let mut sim = Simulation::new(scenario, registry.create(scheduler).unwrap(), scenario.seed);
    sim.enable_trace();
    let mut bound_before: BTreeSet<PodId> = BTreeSet::new();
    let (mut admissions, mut plain_binds) = (0, 0);
    while sim.step() {
        let cluster = sim.cluster();
        cluster
            .check_invariants()
            .unwrap_or_else(|e| panic!("{scheduler} seed {}: {e}", scenario.seed));
        // Group-wide queue moves and timeouts lose no pod.
        let (completed, failed) = sim.finished_pods();
        assert_eq!(
            sim.submitted_pods(),
            sim.pending_pods() + sim.running_pods() + completed + failed,
            "{scheduler} seed {}: pods not conserved",
            scenario.seed
        );
        let mut bound_now = BTreeSet::new();
        let mut members: BTreeMap<u32, u32> = BTreeMap::new();
        let mut admitted: BTreeSet<u32> = BTreeSet::new();
        for (id, pod) in cluster.pods() {
            if pod.node.is_none() {
                assert_eq!(pod.phase, PodPhase::Pending);
                continue;
            }
            if pod.phase == PodPhase::Waiting {
                // Held at Permit: a group member, short of minMember with the others.
                let g = pod.template.pod_group.expect("only gang members wait");
                let min = scenario.pod_groups[g as usize].min_member;
                assert!(
                    cluster.group_bound(g) + cluster.group_waiting(g) < min
                        || cluster.group_bound(g) >= min,
                    "{scheduler} seed {}: g{g} waits with its quorum reached",
                    scenario.seed
                );
                continue;
            }
            bound_now.insert(id);
            let Some(g) = pod.template.pod_group else {
                plain_binds += u64::from(!bound_before.contains(&id));
                continue;
            };
            if !pod.terminating {
                *members.entry(g).or_default() += 1;
            }
            if !bound_before.contains(&id) {
                admitted.insert(g);
            }
        }
        for &g in &admitted {
            let min = scenario.pod_groups[g as usize].min_member;
            let have = members.get(&g).copied().unwrap_or(0);
            assert!(
                have >= min,
                "{scheduler} seed {} at {}: group g{g} bound members now {have} < minMember {min}",
                scenario.seed,
                sim.now()
            );
            assert_eq!(have, cluster.group_bound(g));
            admissions += 1;
        }
        bound_before = bound_now;
    }
    (sim.finish(), admissions, plain_binds)
}

#[test]
fn random_gangs_never_run_partly_with_any_scheduler() {
    let (mut admissions, mut plain, mut timeouts) = (0, 0, 0);
    let (mut waits, mut permits, mut releases) = (0, 0, 0);
    for seed in 0..50 {
        let scenario = random_scenario(seed);
        for name in schedulers() {
            let (r, a, p) = run_checked(&scenario, &name);
            admissions += a;
            plain += p;
            timeouts += r.summary.count(&sim::columns::GANG_TIMEOUTS);
            for t in &r.trace {
                match &t.event {
                    TraceEvent::Waiting { .. } => waits += 1,
                    TraceEvent::Permitted { .. } => permits += 1,
                    TraceEvent::PermitRejected { .. } => releases += 1,
                    _ => {}
                }
            }
            // Same scenario, scheduler and seed: the same summary (traced or not).
            let again = sim::run(
                &scenario,
                Registry::builtin().create(&name).unwrap(),
                scenario.seed,
            );
            assert_eq!(
                format!("{:?}", r.summary),
                format!("{:?}", again.summary),
                "{name} seed {seed}"
            );
        }
    }
    // The generator must exercise admissions, plain pods, waits at Permit that end in a
    // bind or a release, timeouts.
    assert!(admissions > 100, "{admissions}");
    assert!(
        waits > 50 && permits > 20 && releases > 20,
        "{waits} {permits} {releases}"
    );
    assert!(plain > 100, "{plain}");
    assert!(timeouts > 10, "{timeouts}");
}

// ---------------------------------------------------------------------------------------
// Scenario syntax

fn load(text: &str) -> Result<Scenario, sim::ScenarioError> {
    let registry = Registry::builtin();
    parse_scenario(text, "gang.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
}

#[track_caller]
fn assert_rejected(text: &str, line: u64, column: u64, field: &str, phrase: &str) {
    let e = match load(text) {
        Ok(_) => panic!("loaded, but should be rejected:\n{text}"),
        Err(e) => e,
    };
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(line), Some(column), Some(field)),
        "position and field of: {e}"
    );
    assert!(e.message.contains(phrase), "expected {phrase:?} in: {e}");
    assert!(
        e.to_string()
            .starts_with(&format!("gang.yaml:{line}:{column}: {field}: ")),
        "{e}"
    );
}

const HEAD: &str = "cluster:\n  nodes: [{name: a, allocatable: {cpu: \"4\", memory: 8Gi}}]\n";

#[test]
fn pod_groups_load_into_exact_values() {
    let text = format!(
        "{HEAD}podGroups:
  - name: train
    minMember: 4
    scheduleTimeoutSeconds: 30
  - {{name: etl, namespace: batch, minMember: 2}}
workloads:
  - pod: worker
    count: 4
    podGroup: train
  - batch: step
    namespace: batch
    labels: {{scheduling.x-k8s.io/pod-group: etl, app: step}}
    arrivals: {{process: burst, count: 2}}
  - pod: loner
"
    );
    let s = load(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.pod_groups,
        vec![
            PodGroupSpec {
                name: "train".into(),
                namespace: "default".into(),
                min_member: 4,
                schedule_timeout_seconds: 30,
            },
            PodGroupSpec {
                name: "etl".into(),
                namespace: "batch".into(),
                min_member: 2,
                schedule_timeout_seconds: 60,
            },
        ]
    );
    let t: Vec<_> = s.workloads.iter().map(|w| &w.template).collect();
    assert_eq!(
        t.iter().map(|t| t.pod_group).collect::<Vec<_>>(),
        vec![Some(0), Some(1), None]
    );
    // `podGroup` is the label's shorthand: selectors see the label.
    assert_eq!(
        t[0].labels.get("scheduling.x-k8s.io/pod-group"),
        Some("train")
    );
    assert_eq!(t[1].labels.get("app"), Some("step"));
}

#[test]
fn pod_group_errors_name_line_column_and_field() {
    let groups = "podGroups:\n  - {name: train, minMember: 4}\n";
    assert_rejected(
        &format!("{HEAD}{groups}workloads:\n  - pod: w\n    podGroup: trian\n"),
        7,
        15,
        "workloads[0].podGroup",
        "unknown pod group \"trian\" (declared in namespace \"default\": train)",
    );
    assert_rejected(
        &format!(
            "{HEAD}{groups}workloads:\n  - pod: w\n    labels: {{scheduling.x-k8s.io/pod-group: x}}\n"
        ),
        7,
        45,
        "workloads[0].labels[\"scheduling.x-k8s.io/pod-group\"]",
        "unknown pod group \"x\"",
    );
    // Groups are namespaced: a pod of another namespace does not see `train`.
    assert_rejected(
        &format!("{HEAD}{groups}workloads:\n  - pod: w\n    namespace: ml\n    podGroup: train\n"),
        8,
        15,
        "workloads[0].podGroup",
        "no podGroups are declared in namespace \"ml\"",
    );
    assert_rejected(
        &format!(
            "{HEAD}{groups}workloads:\n  - pod: w\n    podGroup: train\n    labels: {{scheduling.x-k8s.io/pod-group: other}}\n"
        ),
        7,
        15,
        "workloads[0].podGroup",
        "disagrees with the label",
    );
    assert_rejected(
        &format!("{HEAD}podGroups:\n  - {{name: train, minMember: 0}}\n"),
        4,
        30,
        "podGroups[0].minMember",
        "expected a number of pods from 1 to 2147483647, got 0",
    );
    assert_rejected(
        &format!("{HEAD}podGroups:\n  - name: train\n"),
        4,
        5,
        "podGroups[0]",
        "expected minMember",
    );
    assert_rejected(
        &format!("{HEAD}podGroups:\n  - {{name: t, minMember: 1, scheduleTimeoutSeconds: -5}}\n"),
        4,
        53,
        "podGroups[0].scheduleTimeoutSeconds",
        "expected a positive number of seconds",
    );
    assert_rejected(
        &format!(
            "{HEAD}podGroups:\n  - {{name: t, minMember: 1}}\n  - {{name: t, minMember: 2}}\n"
        ),
        5,
        12,
        "podGroups[1].name",
        "duplicate PodGroup \"t\"",
    );
    assert_rejected(
        &format!("{HEAD}podGroups:\n  - {{name: t, minMembers: 1}}\n"),
        4,
        15,
        "podGroups[0].minMembers",
        "unknown field `minMembers`",
    );
}

/// The figures quoted in `scenarios/gang.yaml` and `scenarios/README.md`.
#[test]
fn bundled_gang_scenario_matches_its_description() {
    let registry = Registry::builtin();
    let scenario = sim::load_scenario("../scenarios/gang.yaml".as_ref(), &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .expect("gang.yaml loads");
    for (name, bert_at, timeouts) in [
        ("kube-default", 12836, 19),
        ("first-fit", 19061, 30),
        ("least-allocated", 19061, 30),
        ("random", 19149, 30),
    ] {
        let mut sim = Simulation::new(&scenario, registry.create(name).unwrap(), scenario.seed);
        sim.enable_trace();
        let r = sim.run();
        let whole = |job: &str, at: u64| -> Vec<(u64, String)> {
            (0..4).map(|i| (at, format!("{job}-{i}"))).collect()
        };
        // Sorted: the worker that completes a gang binds before those that waited.
        let sorted = |mut b: Vec<(u64, String)>| {
            b.sort();
            b
        };
        assert_eq!(sorted(binds(&r, "resnet")), whole("resnet", 600), "{name}");
        assert_eq!(sorted(binds(&r, "bert")), whole("bert", bert_at), "{name}");
        assert!(!records(&r, "bert", "waiting").is_empty(), "{name}");
        assert_eq!(
            r.summary.count(&sim::columns::GANG_TIMEOUTS),
            timeouts,
            "{name}"
        );
    }
}
