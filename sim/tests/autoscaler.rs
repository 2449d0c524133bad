//! The cluster autoscaler end to end: scale-up after a burst of unschedulable pods at the
//! times the scan interval and provisioning delay give, the expanders' choices worked by
//! hand, scale-down after the unneeded time and the delay after a scale-up, the pods that
//! block a scale-down, `max`, random scenarios with every built-in scheduler checked
//! after every event, and determinism.

use schedulers::Registry;
use sim::observe::trace::TraceEvent;
use sim::{RunResult, Scenario, SimTime, Simulation, columns};

fn load(text: &str) -> Scenario {
    let registry = Registry::builtin();
    sim::parse_scenario(text, "autoscaler.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_or_else(|e| panic!("{e}"))
}

fn run(scenario: &Scenario, scheduler: &str, seed: u64) -> RunResult {
    let registry = Registry::builtin();
    let mut sim = Simulation::new(scenario, registry.create(scheduler).unwrap(), seed);
    sim.enable_trace();
    while sim.step() {
        if let Err(e) = sim.cluster().check_invariants() {
            panic!("{scheduler} at {}: {e}", sim.now());
        }
    }
    sim.finish()
}

/// (time in seconds, event, detail) of the trace lines that name no pod, and the node
/// lines the test asks for.
fn autoscaler_lines(r: &RunResult) -> Vec<(u64, &'static str, String)> {
    r.trace
        .iter()
        .filter(|t| t.pod.is_empty())
        .map(|t| {
            let (event, detail) = t.event.columns();
            (t.time.0 / 1_000_000, event, detail.to_string())
        })
        .collect()
}

/// Seconds at which the pod named `pod` was bound, in order.
fn bound_at(r: &RunResult, pod: &str) -> Vec<(u64, String)> {
    r.trace
        .iter()
        .filter(|t| t.pod == pod)
        .filter_map(|t| match &t.event {
            TraceEvent::Bound { node } => Some((t.time.0 / 1_000_000, node.clone())),
            _ => None,
        })
        .collect()
}

/// One fixed node of 4 CPUs and an autoscaled pool of 4-CPU nodes; six 1.5-CPU batch pods
/// at time zero for five minutes. By hand: the fixed node takes two (3 of 4 CPUs); the
/// scan at 0 s runs before the first cycle and sees nothing; the cycle at 0 s leaves four
/// unschedulable; the scan at 10 s packs them two to a fresh node: 2 nodes, which join at
/// 10 + 60 = 70 s, and the four bind at once (the queue retries on NodeAdded). They start
/// at 71 s and finish at 371 s; the nodes are empty from the scan at 380 s, so unneeded
/// since 380 s, and removed together (empty, bulk) at 380 + 600 = 980 s, well after the
/// scale-up's cooldown (10 + 600 = 610 s).
const BURST: &str = "
cluster:
  nodePools:
    - name: base
      count: 1
      allocatable: {cpu: \"4\", memory: 16Gi}
    - name: burst
      count: 0
      allocatable: {cpu: \"4\", memory: 16Gi}
      autoscaling: {min: 0, max: 5, provisioningDelay: 60s, pricePerHour: 0.5}
workloads:
  - batch: job
    arrivals: {process: burst, count: 6}
    requests: {cpu: 1500m, memory: 1Gi}
    duration: 5m
";

#[test]
fn a_burst_gets_exactly_the_nodes_it_needs_after_the_provisioning_delay() {
    let s = load(BURST);
    let r = run(&s, "first-fit", 1);
    let lines = autoscaler_lines(&r);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert_eq!((lines[0].0, lines[0].1), (10, "scale-up"));
    assert!(
        lines[0]
            .2
            .starts_with("group burst +2 node(s) for 4 pod(s); 4 unschedulable, 4 not fitting"),
        "{}",
        lines[0].2
    );
    for (i, node) in ["burst-0", "burst-1"].iter().enumerate() {
        assert_eq!((lines[1 + i].0, lines[1 + i].1), (980, "scale-down"));
        assert!(
            lines[1 + i].2.starts_with(&format!(
                "node {node} utilization 0.000 below threshold 0.500, unneeded since 6m20s, evicting 0 pod(s)"
            )),
            "{}",
            lines[1 + i].2
        );
    }
    // The four pods the fixed node could not take bind when the nodes join.
    let on_new: Vec<(u64, String)> = (2..6)
        .flat_map(|i| bound_at(&r, &format!("job-{i}")))
        .collect();
    assert_eq!(
        on_new,
        [
            (70, "burst-0".to_string()),
            (70, "burst-0".to_string()),
            (70, "burst-1".to_string()),
            (70, "burst-1".to_string())
        ]
    );
    let sum = &r.summary;
    assert_eq!(sum.count(&columns::CA_SCALE_UPS), 1);
    assert_eq!(sum.count(&columns::CA_NODES_ADDED), 2);
    assert_eq!(sum.count(&columns::CA_SCALE_DOWNS), 2);
    assert_eq!(sum.count(&columns::CA_NODES_REMOVED), 2);
    assert_eq!(sum.count(&columns::NODES_MAX), 3);
    assert_eq!(sum.time(&columns::SIM_END), SimTime::from_secs(980));
    // Node-hours: the base node for 980 s, each burst node from 70 s to 980 s.
    let hours = (980.0 + 2.0 * 910.0) / 3600.0;
    assert!((sum.number(&columns::NODE_HOURS).unwrap() - hours).abs() < 1e-9);
    // Cost: only the burst nodes are priced, 0.5 an hour.
    let cost = 0.5 * 2.0 * 910.0 / 3600.0;
    assert!((sum.number(&columns::NODE_COST).unwrap() - cost).abs() < 1e-9);
    // Every pod ran.
    assert_eq!(sum.count(&columns::PODS_COMPLETED), 6);
    // The time series shows the node count.
    assert!(r.samples.iter().any(|s| s.nodes == 3));
    assert_eq!(r.samples.last().map(|s| s.nodes), Some(1));
}

#[test]
fn scale_down_waits_for_the_delay_after_a_scale_up() {
    // The pods run one minute. The fixed node's two finish at 61 s and the queue puts
    // job-2 and job-3 there at once; the nodes asked for at 10 s join at 70 s, when
    // job-4 and job-5 go to burst-0 and burst-1 stays empty: unneeded from the scan at
    // 70 s (which runs as the nodes join, before the pods bind). burst-0's pods finish at
    // 71 + 60 = 131 s, so it is unneeded from the scan at 140 s. With a one-minute
    // unneeded time they are ripe at 130 s and 200 s, but the scale-up at 10 s holds
    // scale-down until 610 s.
    let text = format!(
        "clusterAutoscaler: {{scaleDownUnneededTime: 1m}}\n{}",
        BURST.replace("duration: 5m", "duration: 1m")
    );
    let r = run(&load(&text), "first-fit", 1);
    let downs: Vec<u64> = autoscaler_lines(&r)
        .iter()
        .filter(|l| l.1 == "scale-down")
        .map(|l| l.0)
        .collect();
    assert_eq!(downs, [610, 610]);
    // Without the cooldown they go when ripe.
    let text = text.replace(
        "scaleDownUnneededTime: 1m}",
        "scaleDownUnneededTime: 1m, scaleDownDelayAfterAdd: 0s}",
    );
    let r = run(&load(&text), "first-fit", 1);
    let downs: Vec<u64> = autoscaler_lines(&r)
        .iter()
        .filter(|l| l.1 == "scale-down")
        .map(|l| l.0)
        .collect();
    assert_eq!(downs, [130, 200]);
}

#[test]
fn max_empty_bulk_delete_limits_empty_nodes_removed_at_once() {
    let text = format!("clusterAutoscaler: {{maxEmptyBulkDelete: 1}}\n{BURST}");
    let r = run(&load(&text), "first-fit", 1);
    let downs: Vec<u64> = autoscaler_lines(&r)
        .iter()
        .filter(|l| l.1 == "scale-down")
        .map(|l| l.0)
        .collect();
    assert_eq!(downs, [980, 990]);
}

#[test]
fn the_group_max_is_respected() {
    // Four pods need two nodes; the group may have one.
    let text = BURST.replace("max: 5", "max: 1");
    let r = run(&load(&text), "first-fit", 1);
    assert_eq!(r.summary.count(&columns::CA_NODES_ADDED), 1);
    assert_eq!(r.summary.count(&columns::NODES_MAX), 2);
    let ups = autoscaler_lines(&r);
    assert!(
        ups[0].2.starts_with("group burst +1 node(s) for 2 pod(s)"),
        "{}",
        ups[0].2
    );
    // The two pods left wait for the fixed node to free up at 301 s.
    assert_eq!(r.summary.count(&columns::PODS_COMPLETED), 6);
}

/// Two groups: `small` (2 CPUs, 4 GiB, 0.1 an hour) and `large` (8 CPUs, 32 GiB, 1.0 an
/// hour), no node at start; four pods of 1 CPU and 2 GiB arrive.
fn two_groups(expander: &str, small_max: u32) -> String {
    format!(
        "
clusterAutoscaler: {{expander: {expander}}}
cluster:
  nodePools:
    - name: small
      count: 0
      allocatable: {{cpu: \"2\", memory: 4Gi}}
      autoscaling: {{max: {small_max}, pricePerHour: 0.1}}
    - name: large
      count: 0
      allocatable: {{cpu: \"8\", memory: 32Gi}}
      autoscaling: {{max: 4, pricePerHour: 1.0}}
workloads:
  - batch: job
    arrivals: {{process: burst, count: 4}}
    requests: {{cpu: \"1\", memory: 2Gi}}
    duration: 1m
"
    )
}

fn first_scale_up(text: &str) -> String {
    let r = run(&load(text), "first-fit", 1);
    autoscaler_lines(&r)
        .into_iter()
        .find(|l| l.1 == "scale-up")
        .map(|l| l.2)
        .expect("a scale-up")
}

#[test]
fn least_waste_picks_the_group_a_hand_computation_picks() {
    // small: 2 nodes for 4 pods, 4 of 4 CPUs and 8 of 8 GiB used: waste 0 + 0 = 0.
    // large: 1 node, 4 of 8 CPUs (0.5 idle) and 8 of 32 GiB (0.75 idle): 1.25.
    let d = first_scale_up(&two_groups("least-waste", 4));
    assert_eq!(
        d,
        "group small +2 node(s) for 4 pod(s); 4 unschedulable, 4 not fitting existing or \
         upcoming nodes; expander least-waste: small 2 node(s) 4 pod(s) score 0.000000; \
         large 1 node(s) 4 pod(s) score 1.250000"
    );
}

#[test]
fn most_pods_and_price_pick_as_computed() {
    // small may have one node, which takes 2 pods; large's one node takes all 4.
    // most-pods: large (4 > 2).
    let d = first_scale_up(&two_groups("most-pods", 1));
    assert!(d.starts_with("group large +1 node(s) for 4 pod(s)"), "{d}");
    assert!(
        d.ends_with(
            "small 1 node(s) 2 pod(s) score 2.000000; large 1 node(s) 4 pod(s) score 4.000000"
        ),
        "{d}"
    );
    // price per pod: small 0.1 x 1 / 2 = 0.05, large 1.0 x 1 / 4 = 0.25: small.
    let d = first_scale_up(&two_groups("price", 1));
    assert!(d.starts_with("group small +1 node(s) for 2 pod(s)"), "{d}");
    assert!(
        d.ends_with(
            "small 1 node(s) 2 pod(s) score 0.050000; large 1 node(s) 4 pod(s) score 0.250000"
        ),
        "{d}"
    );
    // The next scan grows large for the two pods small's upcoming node cannot take.
    let r = run(&load(&two_groups("price", 1)), "first-fit", 1);
    let ups: Vec<(u64, String)> = autoscaler_lines(&r)
        .into_iter()
        .filter(|l| l.1 == "scale-up")
        .map(|l| (l.0, l.2))
        .collect();
    assert_eq!(ups.len(), 2, "{ups:#?}");
    assert_eq!(ups[1].0, 20);
    assert!(
        ups[1]
            .1
            .starts_with("group large +1 node(s) for 2 pod(s); 4 unschedulable, 2 not fitting"),
        "{}",
        ups[1].1
    );
}

#[test]
fn random_expander_is_deterministic_per_seed_and_uses_its_stream() {
    let text = two_groups("random", 4);
    let picks: Vec<String> = (0..16)
        .map(|seed| {
            let r = run(&load(&text), "first-fit", seed);
            autoscaler_lines(&r)[0]
                .2
                .split(' ')
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(
        picks.iter().any(|p| p == "small") && picks.iter().any(|p| p == "large"),
        "{picks:?}"
    );
    let again: Vec<String> = (0..16)
        .map(|seed| {
            let r = run(&load(&text), "first-fit", seed);
            autoscaler_lines(&r)[0]
                .2
                .split(' ')
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(picks, again);
}

/// An autoscaled node `g-0` (listed first, so first-fit fills it) with one pod, and a
/// fixed node `base` with room for it. The pod is `pod`'s workload YAML.
fn movable(pod: &str) -> String {
    format!(
        "
duration: 30m
cluster:
  nodePools:
    - name: g
      count: 1
      allocatable: {{cpu: \"4\", memory: 16Gi}}
      autoscaling: {{min: 0, max: 2}}
    - name: base
      count: 1
      allocatable: {{cpu: \"4\", memory: 16Gi}}
workloads:
{pod}
"
    )
}

#[test]
fn an_underused_node_is_drained_and_its_deployment_pod_moves() {
    // g-0 is unneeded from the scan at 0 s (utilization 0.25), ripe at 600 s: tainted,
    // its pod evicted with its 30 s grace period and replaced at once on `base`; g-0
    // leaves at the scan at 630 s, after the old pod terminated at 630 s.
    let r = run(
        &load(&movable(
            "  - deployment: web\n    replicas: 1\n    requests: {cpu: \"1\", memory: 1Gi}\n",
        )),
        "first-fit",
        1,
    );
    let lines = autoscaler_lines(&r);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!((lines[0].0, lines[0].1), (600, "scale-down"));
    assert_eq!(
        lines[0].2,
        "node g-0 utilization 0.250 below threshold 0.500, unneeded since 0s, evicting 1 pod(s)"
    );
    assert_eq!(bound_at(&r, "web-0"), [(0, "g-0".to_string())]);
    assert_eq!(bound_at(&r, "web-1"), [(600, "base-0".to_string())]);
    assert_eq!(r.summary.count(&columns::CA_NODES_REMOVED), 1);
    // g-0 was in the cluster from 0 to 630 s, base for the whole 30 minutes.
    let hours = (630.0 + 1800.0) / 3600.0;
    assert!((r.summary.number(&columns::NODE_HOURS).unwrap() - hours).abs() < 1e-9);
}

#[test]
fn bare_pods_and_safe_to_evict_false_block_scale_down() {
    for pod in [
        "  - pod: solo\n    requests: {cpu: \"1\", memory: 1Gi}\n",
        "  - deployment: web\n    replicas: 1\n    requests: {cpu: \"1\", memory: 1Gi}\n    annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"}\n",
        "  - batch: job\n    arrivals: {process: burst, count: 1}\n    requests: {cpu: \"1\", memory: 1Gi}\n",
    ] {
        let r = run(&load(&movable(pod)), "first-fit", 1);
        assert!(
            autoscaler_lines(&r).is_empty(),
            "{pod}: {:#?}",
            autoscaler_lines(&r)
        );
        assert_eq!(r.summary.count(&columns::CA_SCALE_DOWNS), 0);
    }
    // safe-to-evict "true" lets a bare pod go.
    let r = run(
        &load(&movable(
            "  - pod: solo\n    requests: {cpu: \"1\", memory: 1Gi}\n    annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: \"true\"}\n",
        )),
        "first-fit",
        1,
    );
    assert_eq!(r.summary.count(&columns::CA_SCALE_DOWNS), 1);
}

#[test]
fn a_pdb_allowing_no_disruption_blocks_scale_down() {
    let deployment = "  - deployment: web\n    replicas: 1\n    labels: {app: web}\n    requests: {cpu: \"1\", memory: 1Gi}\n";
    let text = format!(
        "{}podDisruptionBudgets:\n  - {{name: web, selector: {{matchLabels: {{app: web}}}}, minAvailable: 1}}\n",
        movable(deployment)
    );
    let r = run(&load(&text), "first-fit", 1);
    assert_eq!(r.summary.count(&columns::CA_SCALE_DOWNS), 0);
    let text = text.replace("minAvailable: 1", "maxUnavailable: 1");
    let r = run(&load(&text), "first-fit", 1);
    assert_eq!(r.summary.count(&columns::CA_SCALE_DOWNS), 1);
}

#[test]
fn a_node_that_never_joins_backs_its_group_off() {
    // Provisioning takes 20 minutes, past the 15-minute maximum: the two nodes asked for
    // at 10 s are given up at 910 s, and the group is not grown again before 1210 s. The
    // pods run for two hours, so the four are still pending then.
    let text = format!(
        "duration: 25m\n{}",
        BURST
            .replace("provisioningDelay: 60s", "provisioningDelay: 20m")
            .replace("duration: 5m", "duration: 2h")
    );
    let r = run(&load(&text), "first-fit", 1);
    let lines: Vec<(u64, &str)> = autoscaler_lines(&r).iter().map(|l| (l.0, l.1)).collect();
    assert_eq!(lines[0], (10, "scale-up"));
    assert_eq!(lines[1], (910, "provision-failed"));
    assert_eq!(lines[2], (910, "provision-failed"));
    assert_eq!(lines[3], (1210, "scale-up"));
    assert_eq!(lines.len(), 4);
}

/// A small random scenario: one fixed pool and one or two autoscaled pools, Deployments,
/// batch bursts and Poisson arrivals, some with tolerations or selectors for a tainted
/// pool, a PDB.
fn random_scenario(seed: u64) -> Scenario {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let cpu = [1, 2, 4, 8][next(4) as usize];
    let expander = ["least-waste", "price", "most-pods", "random"][next(4) as usize];
    let mut text = format!(
        "duration: {}m
clusterAutoscaler: {{expander: {expander}, scaleDownUnneededTime: {}m, scaleDownDelayAfterAdd: {}m}}
cluster:
  nodePools:
    - name: fixed
      count: {}
      allocatable: {{cpu: \"{cpu}\", memory: 8Gi}}
    - name: auto
      count: 1
      allocatable: {{cpu: \"{}\", memory: 16Gi}}
      autoscaling: {{min: {}, max: {}, pricePerHour: 0.3, provisioningDelay: {}s}}
    - name: gpu
      count: 0
      allocatable: {{cpu: \"8\", memory: 32Gi}}
      labels: {{kind: special}}
      taints: [{{key: special, value: \"yes\", effect: NoSchedule}}]
      autoscaling: {{max: {}, pricePerHour: 1.2, provisioningDelay: 30s}}
workloads:
  - deployment: web
    replicas: {}
    labels: {{app: web}}
    requests: {{cpu: {}m, memory: 512Mi}}
    duration: {}m
  - batch: burst
    arrivals: {{process: burst, count: {}, start: {}s}}
    requests: {{cpu: {}m, memory: 1Gi}}
    duration: {{dist: uniform, min: 1m, max: 20m}}
  - batch: stream
    arrivals: {{process: poisson, ratePerMinute: {}, stop: 40m}}
    requests: {{cpu: {}m, memory: 256Mi}}
    tolerations: [{{key: special, operator: Exists}}]
    duration: {{dist: exponential, mean: 5m}}
  - deployment: special
    replicas: {}
    nodeSelector: {{kind: special}}
    tolerations: [{{key: special, operator: Equal, value: \"yes\", effect: NoSchedule}}]
    requests: {{cpu: 3, memory: 4Gi}}
    duration: 7m
  - pod: solo
    at: {}s
    requests: {{cpu: 250m}}
    duration: 15m
podDisruptionBudgets:
  - {{name: web, selector: {{matchLabels: {{app: web}}}}, maxUnavailable: 1}}
",
        60 + next(60),
        1 + next(10),
        next(10),
        next(3),
        [2, 4, 8][next(3) as usize],
        next(2),
        2 + next(6),
        next(120),
        1 + next(3),
        1 + next(6),
        100 + 100 * next(20),
        5 + next(30),
        next(40),
        5 + next(20),
        100 + 100 * next(30),
        1 + next(6),
        50 + 50 * next(20),
        next(3),
        next(600),
    );
    if next(2) == 0 {
        text = text.replace("  - pod: solo", "  - pod: solo\n    annotations: {cluster-autoscaler.kubernetes.io/safe-to-evict: \"true\"}");
    }
    load(&text)
}

#[test]
fn random_scenarios_with_every_scheduler_keep_the_invariants() {
    let registry = Registry::builtin();
    let mut scaled = (0, 0);
    for seed in 0..6 {
        let scenario = random_scenario(seed);
        for (name, _) in registry.iter() {
            let mut sim = Simulation::new(&scenario, registry.create(name).unwrap(), seed);
            while sim.step() {
                let cluster = sim.cluster();
                if let Err(e) = cluster.check_invariants() {
                    panic!("seed {seed} {name} at {}: {e}", sim.now());
                }
                let (completed, failed) = sim.finished_pods();
                assert_eq!(
                    sim.submitted_pods(),
                    sim.pending_pods() + sim.running_pods() + completed + failed,
                    "seed {seed} {name} at {}: pods not conserved",
                    sim.now()
                );
                // No group ever exceeds its max (auto: at most 2 + 6, gpu: at most 3).
                let auto = cluster
                    .nodes()
                    .iter()
                    .filter(|n| !n.removed && n.name().starts_with("auto-"))
                    .count();
                let max = scenario.autoscaler.as_ref().unwrap().groups[0].max as usize;
                assert!(auto <= max, "seed {seed} {name}: {auto} auto nodes > {max}");
                for n in cluster.nodes().iter().filter(|n| !n.removed) {
                    for &p in &n.pods {
                        let pod = cluster.pod(p).unwrap();
                        assert!(
                            !pod.template.name.starts_with("solo")
                                || pod
                                    .template
                                    .annotations
                                    .get("cluster-autoscaler.kubernetes.io/safe-to-evict")
                                    .is_some()
                                || !n
                                    .spec
                                    .taints
                                    .iter()
                                    .any(|t| t.key == "ToBeDeletedByClusterAutoscaler"),
                            "seed {seed} {name}: a bare pod's node is being removed"
                        );
                    }
                }
            }
            let r = sim.finish();
            scaled.0 += r.summary.count(&columns::CA_SCALE_UPS);
            scaled.1 += r.summary.count(&columns::CA_SCALE_DOWNS);
        }
    }
    assert!(
        scaled.0 > 0 && scaled.1 > 0,
        "the scenarios scale: {scaled:?}"
    );
}

#[test]
fn runs_with_the_autoscaler_are_deterministic() {
    for seed in [3, 11] {
        let scenario = random_scenario(seed);
        for name in ["kube-default", "random", "first-fit"] {
            let a = run(&scenario, name, seed);
            let b = run(&scenario, name, seed);
            assert_eq!(a.trace, b.trace);
            assert_eq!(
                a.summary
                    .metrics()
                    .iter()
                    .map(|m| m.value.render())
                    .collect::<Vec<_>>(),
                b.summary
                    .metrics()
                    .iter()
                    .map(|m| m.value.render())
                    .collect::<Vec<_>>()
            );
            assert_eq!(a.samples.len(), b.samples.len());
        }
    }
}

#[test]
fn the_bundled_scenario_scales_up_and_down_as_its_description_says() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/autoscaler-burst.yaml");
    let registry = Registry::builtin();
    let s = sim::load_scenario(&path, &|spec, profiles| registry.check(spec, profiles)).unwrap();
    for label in ["kube-default", "first-fit", "least-allocated"] {
        let r = run(&s, label, 1);
        let lines: Vec<(u64, &str)> = autoscaler_lines(&r).iter().map(|l| (l.0, l.1)).collect();
        assert_eq!(
            lines,
            [
                (310, "scale-up"),
                (320, "scale-up"),
                (1580, "scale-down"),
                (1580, "scale-down"),
                (1580, "scale-down"),
                (1580, "scale-down"),
                (1590, "scale-down")
            ],
            "{label}"
        );
        let sum = &r.summary;
        assert_eq!(sum.count(&columns::PODS_COMPLETED), 12, "{label}");
        assert_eq!(sum.count(&columns::CA_NODES_ADDED), 5);
        assert_eq!(sum.count(&columns::CA_NODES_REMOVED), 5);
        assert_eq!(sum.count(&columns::NODES_MAX), 6);
        // fixed: 40 minutes; small: 4 x (1580 - 370) s; large: 1590 - 380 s.
        let hours = (2400.0 + 4.0 * 1210.0 + 1210.0) / 3600.0;
        assert!((sum.number(&columns::NODE_HOURS).unwrap() - hours).abs() < 1e-9);
        let cost = (0.10 * 4.0 * 1210.0 + 0.35 * 1210.0) / 3600.0;
        assert!((sum.number(&columns::NODE_COST).unwrap() - cost).abs() < 1e-9);
    }
}
