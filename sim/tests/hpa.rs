//! The HorizontalPodAutoscaler end to end: a Deployment under a step load scales at the
//! times the sync period, the metrics' readiness rules, the scale-up policies and the
//! scale-down stabilization window imply, worked by hand below; the Service's books
//! (served, dropped, availability) follow from the load and the ready pods.

use std::sync::{Arc, Mutex};

use schedulers::Registry;
use schedulers::algorithms::FirstFit;
use sim::observe::{Fact, Observer, View};
use sim::{Scenario, Simulation, parse_scenario};

const STEP: &str = "
name: hpa-step
duration: 30m
cluster:
  nodePools: [{name: n, count: 10, allocatable: {cpu: \"16\", memory: 64Gi}}]
workloads:
  - deployment: web
    replicas: 2
    requests: {cpu: 500m, memory: 256Mi}
    readinessDelay: 10s
    service:
      load: {steps: [{at: 0s, rps: 100}, {at: 5m, rps: 400}, {at: 20m, rps: 100}]}
      cpuPerRequest: 5m
    horizontalPodAutoscaler:
      minReplicas: 2
      maxReplicas: 20
      metrics:
        - type: Resource
          resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
";

fn scenario(text: &str) -> Scenario {
    let registry = Registry::builtin();
    parse_scenario(text, "hpa.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap()
}

/// Records every scale decision: (seconds, from, to).
#[derive(Clone, Default)]
struct Decisions(Arc<Mutex<Vec<(f64, u32, u32)>>>);

impl Observer for Decisions {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        if let Fact::Scaled { from, to, .. } = fact {
            self.0
                .lock()
                .unwrap()
                .push((view.now.as_secs_f64(), *from, *to));
        }
    }
}

fn run(text: &str, seed: u64) -> (Vec<(f64, u32, u32)>, String) {
    let scenario = scenario(text);
    let decisions = Decisions::default();
    let mut sim = Simulation::new(&scenario, Box::new(FirstFit::default()), seed);
    sim.add_observer(Box::new(decisions.clone()));
    let result = sim.try_run().unwrap();
    let d = decisions.0.lock().unwrap().clone();
    (d, format!("{:?}", result.summary))
}

/// Syncs and scrapes every 15 s. At 300 s the step to 400 rps makes each of the 2 pods
/// use 1000m (200% of 500m): the calculator asks for ceil(4 x 2) = 8, the scale-up
/// policies allow max(2 + 4 pods, 2 x 200%) = 6. The 4 new pods start at 301 s and are
/// ready at 311 s; at 315 s their samples do not yet cover a window since turning ready,
/// so they count as unready and the rebalanced ratio flips direction: no change. At 330 s
/// all 6 count at 66% (ratio 1.33): ceil(8) = 8. From then on 8 pods run at 50%. At
/// 1200 s the load drops to 100 rps (12% each, ratio 0.24, ceil(1.92) = 2), but the
/// 300 s stabilization window holds the highest recommendation, 8, until the last one
/// (at 1185 s) leaves the window: at 1485 s the Deployment goes down to 2.
#[test]
fn a_step_load_scales_at_the_times_upstream_semantics_give() {
    let (decisions, _) = run(STEP, 1);
    assert_eq!(
        decisions,
        vec![(300.0, 2, 6), (330.0, 6, 8), (1485.0, 8, 2)]
    );
}

/// 100 rps for 300 s, 400 rps for 900 s, 100 rps for 600 s = 450,000 requests, less the
/// first 11 s (start latency 1 s + readiness delay 10 s) when no pod was ready: 1,100
/// dropped, availability 1 - 11/1800.
#[test]
fn the_services_books_follow_the_load_and_the_ready_pods() {
    let scenario = scenario(STEP);
    let result = Simulation::new(&scenario, Box::new(FirstFit::default()), 1)
        .try_run()
        .unwrap();
    let s = &result.summary;
    assert_eq!(s.count(&sim::columns::REQUESTS_SERVED), 448_900);
    assert_eq!(s.count(&sim::columns::REQUESTS_DROPPED), 1_100);
    let availability = s.number(&sim::columns::AVAILABILITY_MIN).unwrap();
    assert!((availability - (1.0 - 11.0 / 1800.0)).abs() < 1e-12);
    assert_eq!(s.count(&sim::columns::HPA_SCALE_UPS), 2);
    assert_eq!(s.count(&sim::columns::HPA_SCALE_DOWNS), 1);
}

/// A diurnal load with an HPA on requests per second and memory targets: same seed, same
/// decisions and summary; the replica count stays within min and max.
#[test]
fn diurnal_runs_repeat_exactly_and_respect_bounds() {
    let text = "
name: diurnal
duration: 2d
cluster:
  nodePools: [{name: n, count: 20, allocatable: {cpu: \"16\", memory: 64Gi}}]
workloads:
  - deployment: api
    replicas: 3
    requests: {cpu: 250m, memory: 512Mi}
    limits: {cpu: \"1\"}
    readinessDelay: 20s
    service:
      load: {diurnal: {mean: 300, amplitude: 250, period: 24h, peakAt: 14h}}
      cpuPerRequest: 2m
      idleCpu: 20m
    memoryUsage: {base: {dist: uniform, min: 200Mi, max: 400Mi}, leakPerHour: 5Mi}
    horizontalPodAutoscaler:
      minReplicas: 2
      maxReplicas: 12
      metrics:
        - type: Pods
          pods: {metric: {name: requests_per_second}, target: {type: AverageValue, averageValue: \"60\"}}
        - type: Resource
          resource: {name: memory, target: {type: AverageValue, averageValue: 1Gi}}
";
    let (a, sa) = run(text, 7);
    let (b, sb) = run(text, 7);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    assert!(a.len() >= 4, "a daily cycle scales up and down: {a:?}");
    assert!(a.iter().all(|&(_, _, to)| (2..=12).contains(&to)));
    assert!(a.iter().any(|&(_, f, t)| t > f) && a.iter().any(|&(_, f, t)| t < f));
}

/// Each decision's `hpa-scale` trace line carries its inputs: replicas before and after,
/// the calculator's recommendation, the deciding metric's value, its target and their
/// ratio, and what limited it. The figures are those worked by hand above: at 300 s 200%
/// of requests against a 50% target (ratio 4, recommend ceil(4 x 2) = 8) held to 6 by the
/// scale-up policies; at 330 s 66% (6 pods at 400 rps x 5m / 500m / 6), ceil(1.32 x 6)
/// = 8; at 1485 s 12% (100 rps over 8 pods), ceil(0.24 x 8) = 2 once the stabilization
/// window has let go.
#[test]
fn decision_lines_carry_their_inputs() {
    let scenario = scenario(STEP);
    let mut sim = Simulation::new(&scenario, Box::new(FirstFit::default()), 1);
    sim.enable_trace();
    let result = sim.try_run().unwrap();
    let lines: Vec<String> = result
        .trace
        .iter()
        .filter_map(|t| {
            let (event, detail) = t.event.columns();
            (event == "hpa-scale").then(|| format!("{} {} {detail}", t.time, t.pod))
        })
        .collect();
    assert_eq!(
        lines,
        [
            "5m web replicas 2 -> 6; metrics recommend 8 (current value 200, target 50, usage ratio 4.000); limited: ScaleUpLimit",
            "5m30s web replicas 6 -> 8; metrics recommend 8 (current value 66, target 50, usage ratio 1.320)",
            "24m45s web replicas 8 -> 2; metrics recommend 2 (current value 12, target 50, usage ratio 0.240)",
        ]
    );
}

/// Usage set per pod: every pod of `web` uses 100m (20% of its 500m request) except
/// `web-0`, which uses 700m from 5 minutes on. Before that the calculator sees 20%
/// (ratio 0.4, ceil(0.8) = 1, held at minReplicas 2). At 300 s it sees (700 + 100) / 2 =
/// 400m = 80% (ratio 1.6): ceil(3.2) = 4, within the scale-up policies. The two new
/// pods (`web-2`, `web-3`, the Deployment-wide 100m) start at 301 s and are ready at
/// 311 s; at 315 s they still count as unready, and counting them at zero flips the ratio
/// below 1: no change. From 330 s on the four average (700 + 3 x 100) / 4 = 250m = 50%,
/// the target: no further decision.
#[test]
fn usage_set_per_pod_is_what_the_autoscaler_sees() {
    let text = "
name: per-pod-usage
duration: 20m
cluster:
  nodePools: [{name: n, count: 4, allocatable: {cpu: \"16\", memory: 64Gi}}]
workloads:
  - deployment: web
    replicas: 2
    requests: {cpu: 500m, memory: 256Mi}
    readinessDelay: 10s
    usage:
      cpu: 100m
      pods:
        - name: web-0
          cpu: [{at: 0s, value: 100m}, {at: 5m, value: 700m}]
    horizontalPodAutoscaler:
      minReplicas: 2
      maxReplicas: 10
      metrics:
        - resource: {name: cpu, target: {averageUtilization: 50}}
";
    let (decisions, _) = run(text, 1);
    assert_eq!(decisions, vec![(300.0, 2, 4)]);
    // Without the per-pod series every pod stays at 20%: nothing scales.
    let flat = text.replace("      pods:\n        - name: web-0\n          cpu: [{at: 0s, value: 100m}, {at: 5m, value: 700m}]\n", "");
    assert_ne!(flat, text);
    assert_eq!(run(&flat, 1).0, vec![]);
}

#[test]
fn the_work_estimate_counts_a_scaled_deployment_at_its_ceiling() {
    // Without a horizon-long churn, the Deployment's own pods are its replicas; the
    // autoscaler may ask for 20 at once, and a scale-up is one event the runtime limits
    // cannot stop halfway, so the estimate must see the 20 before the run starts.
    let e = sim::estimate(&scenario(STEP));
    assert_eq!(e.pods, 20);
    let huge = STEP.replace("maxReplicas: 20", "maxReplicas: 2147483647");
    let e = sim::estimate(&scenario(&huge));
    assert_eq!(e.pods, 2_147_483_647);
    assert!(sim::Limits::with_memory(u64::MAX).check(&e).is_err());
}

#[test]
fn replica_bounds_beyond_int32_are_refused_with_their_line() {
    let text = STEP.replace("maxReplicas: 20", "maxReplicas: 2147483648");
    let registry = Registry::builtin();
    let e = parse_scenario(&text, "hpa.yaml", &|spec, profiles| {
        registry.check(spec, profiles)
    })
    .unwrap_err();
    assert_eq!((e.line, e.column), (Some(16), Some(20)), "{e}");
    assert!(e.to_string().contains("maxReplicas"), "{e}");
    assert!(e.to_string().contains("32-bit"), "{e}");
}

#[test]
fn misspelt_behavior_words_are_refused_with_the_words_kubernetes_takes() {
    let registry = Registry::builtin();
    let refused = |behavior: &str| {
        let text = format!("{STEP}      behavior:\n        scaleDown: {behavior}\n");
        parse_scenario(&text, "hpa.yaml", &|spec, profiles| {
            registry.check(spec, profiles)
        })
        .unwrap_err()
    };
    let e = refused("{selectPolicy: max}");
    assert_eq!((e.line, e.column), (Some(21), Some(35)), "{e}");
    assert_eq!(
        e.field.as_deref(),
        Some("workloads[0].horizontalPodAutoscaler.behavior.scaleDown.selectPolicy")
    );
    assert!(
        e.to_string().contains(
            "unknown selectPolicy \"max\" (did you mean Max?); expected Max, Min or Disabled"
        ),
        "{e}"
    );
    let e = refused("{policies: [{type: Percents, value: 10, periodSeconds: 60}]}");
    assert_eq!(
        e.field.as_deref(),
        Some("workloads[0].horizontalPodAutoscaler.behavior.scaleDown.policies[0].type")
    );
    assert!(
        e.to_string().contains(
            "unknown policy type \"Percents\" (did you mean Percent?); expected Pods or Percent"
        ),
        "{e}"
    );
}
