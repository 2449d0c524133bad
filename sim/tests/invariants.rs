//! Whole-run properties of the simulator, checked on random scenarios built in code.
//!
//! This test binary holds the tests that drive complete [`Simulation`]s with every registered
//! scheduler and assert what must hold between any two events and at the end of any run:
//! the cluster's bookkeeping, the placement constraints of bound pods, conservation of pods,
//! monotonic time, a consistent [`RunResult`], termination of runs without `duration`, and
//! determinism (same scenario, scheduler and seed give identical results, also when runs go
//! on concurrently). Scenarios are built as [`Scenario`] values, never through YAML, so these
//! tests do not depend on the loader. Tests of one module's internals belong in that module;
//! tests of scenario files belong with the loader.
//!
//! Every assertion message names the scenario, seed and scheduler: `random_scenario(seed)` run by
//! that scheduler with that seed reproduces the failure.

use std::fmt;
use std::sync::Arc;

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use schedulers::filters::check_constraints;
use schedulers::{
    ContainerResources, Labels, Node, NodeAffinity, NodeSelectorTerm, NodeSpec, Pod, PodPhase,
    PodTemplate, PreferredTerm, Registry, ResourceKind, Resources, SelectorOperator,
    SelectorRequirement, Taint, TaintEffect, Toleration, TolerationOperator,
};
use sim::observe::View;
use sim::rng::{Concern, stream};
use sim::scenario::{ArrivalProcess, Arrivals, Dist, Workload, WorkloadKind};
use sim::{Fact, NodeAction, Observer, RunResult, Scenario, SimTime, Simulation};

/// Random scenarios checked per property test; four such tests cover [`SEEDS_PER_TEST`] x 4.
const SEEDS_PER_TEST: u64 = 50;
/// A run taking more steps than this is taken to be stuck (the largest of the random runs
/// takes under 10,000).
const STEP_CAP: u64 = 200_000;
/// Slack for comparing floating-point means and peaks.
const EPSILON: f64 = 1e-9;

const MIB: i64 = 1 << 20;
const GIB: i64 = 1 << 30;
const ZONE_KEY: &str = "topology.kubernetes.io/zone";
const ZONES: [&str; 3] = ["a", "b", "c"];
const TAINT_KEYS: [&str; 2] = ["dedicated", "gpu"];
const TAINT_VALUES: [&str; 2] = ["infra", "ml"];
/// The taint Kubernetes puts on cordoned nodes; tolerating it lets a pod onto them.
const UNSCHEDULABLE_TAINT_KEY: &str = "node.kubernetes.io/unschedulable";
/// A CPU request no generated node can satisfy (1000 cores).
const HUGE_CPU: i64 = 1_000_000;

// ---------------------------------------------------------------------------------------
// Scenario generator
// ---------------------------------------------------------------------------------------

/// One element of `items`, drawn uniformly.
fn pick<T: Clone>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())].clone()
}

/// A duration of a whole number of seconds drawn from `range`.
fn secs(rng: &mut ChaCha8Rng, range: std::ops::RangeInclusive<u64>) -> SimTime {
    SimTime::from_secs(rng.random_range(range))
}

/// A node of varied size, sometimes zoned, tainted, cordoned or short of pod slots.
fn random_node(rng: &mut ChaCha8Rng, i: usize) -> NodeSpec {
    let name = format!("node-{i}");
    let cpu = pick(rng, &[500, 1000, 2000, 4000, 8000, 16000]);
    let memory = pick(rng, &[1, 2, 4, 8, 16, 32]) * GIB;
    let mut allocatable = Resources::cpu_mem(cpu, memory);
    // A few pod slots make "Too many pods" the binding constraint.
    let pods = if rng.random_bool(0.2) {
        rng.random_range(1..=4)
    } else {
        110
    };
    allocatable.set(ResourceKind::PODS, pods);
    let mut labels = Labels::new([("kubernetes.io/hostname", name.as_str())]);
    if rng.random_bool(0.7) {
        labels.insert(ZONE_KEY.into(), pick(rng, &ZONES).into());
    }
    if rng.random_bool(0.3) {
        labels.insert("disk".into(), pick(rng, &["ssd", "hdd"]).into());
    }
    let mut taints = Vec::new();
    if rng.random_bool(0.3) {
        for _ in 0..rng.random_range(1..=2) {
            taints.push(Taint {
                key: pick(rng, &TAINT_KEYS).into(),
                value: pick(rng, &TAINT_VALUES).into(),
                effect: pick(
                    rng,
                    &[
                        TaintEffect::NoSchedule,
                        TaintEffect::PreferNoSchedule,
                        TaintEffect::NoExecute,
                    ],
                ),
            });
        }
    }
    NodeSpec {
        name,
        allocatable,
        labels,
        taints,
        unschedulable: rng.random_bool(0.1),
        gpu: Default::default(),
        images: Vec::new(),
        csi_attach_limits: Vec::new(),
    }
}

/// One container: sometimes BestEffort, sometimes with limits only (requests default to
/// them), sometimes asking for more CPU than any node has.
fn random_container(rng: &mut ChaCha8Rng, huge: bool) -> ContainerResources {
    let mut c = ContainerResources::default();
    if huge {
        c.set_request(ResourceKind::CPU, HUGE_CPU);
        return c;
    }
    if rng.random_bool(0.15) {
        return c;
    }
    let cpu = pick(rng, &[50, 100, 250, 500, 1000, 2000, 3000]);
    let memory = pick(rng, &[64, 256, 512, 1024, 2048, 4096]) * MIB;
    if rng.random_bool(0.1) {
        c.set_limit(ResourceKind::CPU, cpu);
        c.set_limit(ResourceKind::MEMORY, memory);
    } else {
        c.set_request(ResourceKind::CPU, cpu);
        c.set_request(ResourceKind::MEMORY, memory);
        if rng.random_bool(0.2) {
            c.set_limit(ResourceKind::CPU, cpu * 2);
        }
    }
    c
}

/// A toleration of one of the generated taints, of every taint, or of cordoning.
fn random_toleration(rng: &mut ChaCha8Rng) -> Toleration {
    let effect = pick(
        rng,
        &[
            None,
            Some(TaintEffect::NoSchedule),
            Some(TaintEffect::NoExecute),
        ],
    );
    match rng.random_range(0..4) {
        0 => Toleration {
            key: pick(rng, &TAINT_KEYS).into(),
            value: pick(rng, &TAINT_VALUES).into(),
            effect,
            ..Default::default()
        },
        1 => Toleration {
            key: pick(rng, &TAINT_KEYS).into(),
            operator: TolerationOperator::Exists,
            effect,
            ..Default::default()
        },
        2 => Toleration {
            operator: TolerationOperator::Exists,
            ..Default::default()
        },
        _ => Toleration {
            key: UNSCHEDULABLE_TAINT_KEY.into(),
            operator: TolerationOperator::Exists,
            effect: Some(TaintEffect::NoSchedule),
            ..Default::default()
        },
    }
}

/// A required node-affinity term on zone, disk or node name.
fn random_term(rng: &mut ChaCha8Rng, nodes: &[NodeSpec]) -> NodeSelectorTerm {
    let requirement = |key: &str, operator, values: Vec<String>| SelectorRequirement {
        key: key.into(),
        operator,
        values,
    };
    let zones = |rng: &mut ChaCha8Rng| -> Vec<String> {
        (0..rng.random_range(1..=2))
            .map(|_| pick(rng, &ZONES).to_string())
            .collect()
    };
    match rng.random_range(0..5) {
        0 => NodeSelectorTerm {
            match_expressions: vec![requirement(ZONE_KEY, SelectorOperator::In, zones(rng))],
            match_fields: vec![],
        },
        1 => NodeSelectorTerm {
            match_expressions: vec![requirement(ZONE_KEY, SelectorOperator::NotIn, zones(rng))],
            match_fields: vec![],
        },
        2 => NodeSelectorTerm {
            match_expressions: vec![requirement("disk", SelectorOperator::Exists, vec![])],
            match_fields: vec![],
        },
        3 => NodeSelectorTerm {
            match_expressions: vec![requirement(
                ZONE_KEY,
                SelectorOperator::DoesNotExist,
                vec![],
            )],
            match_fields: vec![],
        },
        _ => NodeSelectorTerm {
            match_expressions: vec![],
            match_fields: vec![requirement(
                "metadata.name",
                SelectorOperator::In,
                vec![pick(rng, nodes).name],
            )],
        },
    }
}

/// A pod template with a random mix of containers and placement constraints.
fn random_template(rng: &mut ChaCha8Rng, name: String, nodes: &[NodeSpec]) -> PodTemplate {
    let huge = rng.random_bool(0.08);
    let containers = (0..rng.random_range(1..=2))
        .map(|i| random_container(rng, huge && i == 0))
        .collect();
    let init_containers = if rng.random_bool(0.2) {
        vec![random_container(rng, false)]
    } else {
        vec![]
    };
    let overhead = if rng.random_bool(0.1) {
        Resources::cpu_mem(50, 64 * MIB)
    } else {
        Resources::ZERO
    };
    let tolerations = if rng.random_bool(0.4) {
        (0..rng.random_range(1..=2))
            .map(|_| random_toleration(rng))
            .collect()
    } else {
        vec![]
    };
    let node_selector = if rng.random_bool(0.25) {
        Labels::new([(ZONE_KEY, pick(rng, &ZONES))])
    } else {
        Labels::default()
    };
    let node_affinity = match rng.random_range(0..10) {
        0..=1 => Some(NodeAffinity {
            required: Some(
                (0..rng.random_range(1..=2))
                    .map(|_| random_term(rng, nodes))
                    .collect(),
            ),
            preferred: vec![],
        }),
        2 => Some(NodeAffinity {
            required: None,
            preferred: vec![PreferredTerm {
                weight: 50,
                preference: random_term(rng, nodes),
            }],
        }),
        _ => None,
    };
    let node_name = match rng.random_range(0..20) {
        0 => Some(pick(rng, nodes).name),
        1 if rng.random_bool(0.3) => Some("no-such-node".to_string()),
        _ => None,
    };
    let grace = (name.len() % 3) as u32 * 15;
    PodTemplate {
        name,
        namespace: "default".into(),
        labels: Labels::new([("app", "test")]),
        containers,
        init_containers,
        overhead,
        priority: pick(rng, &[0, 0, 100, 1000]),
        tolerations,
        node_selector,
        node_affinity,
        node_name,
        // 0, 15 or 30 s, derived without a draw so that every other draw stays put: some
        // preemption victims leave at once, others keep their node while terminating.
        termination_grace_period_seconds: grace,
        ..Default::default()
    }
}

/// A run-time distribution, of every kind the scenario model offers.
fn random_duration(rng: &mut ChaCha8Rng) -> Dist<SimTime> {
    match rng.random_range(0..5) {
        0 => Dist::Constant(secs(rng, 30..=1800)),
        1 => Dist::Exponential {
            mean: secs(rng, 30..=900),
        },
        2 => Dist::LogNormal {
            median: secs(rng, 30..=600),
            sigma: rng.random_range(0.1..1.5),
        },
        3 => {
            let min = secs(rng, 10..=300);
            Dist::Uniform {
                min,
                max: min.saturating_add(secs(rng, 0..=900)),
            }
        }
        _ => Dist::Choice(
            (0..rng.random_range(1..=4))
                .map(|_| secs(rng, 20..=1200))
                .collect(),
        ),
    }
}

/// A request distribution for one resource kind, in that kind's unit.
fn random_size(rng: &mut ChaCha8Rng, kind: ResourceKind) -> Dist<i64> {
    let unit = if kind == ResourceKind::CPU { 1 } else { MIB };
    match rng.random_range(0..4) {
        0 => Dist::Choice(
            (0..rng.random_range(1..=4))
                .map(|_| pick(rng, &[100, 250, 500, 1000, 4000, 20000]) * unit)
                .collect(),
        ),
        1 => {
            let min = rng.random_range(0..=1000) * unit;
            Dist::Uniform {
                min,
                max: min + rng.random_range(0..=4000) * unit,
            }
        }
        2 => Dist::LogNormal {
            median: 500 * unit,
            sigma: 0.7,
        },
        _ => Dist::Exponential { mean: 800 * unit },
    }
}

/// How a batch workload's pods arrive; bounded by a count or a stop time when the run has
/// no duration, so that it ends.
fn random_arrivals(rng: &mut ChaCha8Rng, bounded: bool) -> Arrivals {
    let process = match rng.random_range(0..3) {
        0 => ArrivalProcess::Poisson {
            rate_per_second: rng.random_range(0.002..0.05),
        },
        1 => ArrivalProcess::Fixed {
            interval: secs(rng, 5..=300),
        },
        _ => ArrivalProcess::Burst,
    };
    let start = secs(rng, 0..=300);
    let mut stop = rng
        .random_bool(0.4)
        .then(|| start.saturating_add(secs(rng, 0..=3600)));
    let mut count = rng.random_bool(0.6).then(|| rng.random_range(0..=40));
    if bounded && stop.is_none() && count.is_none() {
        if rng.random_bool(0.5) {
            stop = Some(start.saturating_add(secs(rng, 0..=3600)));
        } else {
            count = Some(rng.random_range(0..=40));
        }
    }
    Arrivals {
        process,
        start,
        stop,
        count,
    }
}

/// A workload of a random kind with a random template, sizes and run time. With
/// `bounded` (the run has no duration) it creates finitely many pods.
fn random_workload(rng: &mut ChaCha8Rng, i: usize, nodes: &[NodeSpec], bounded: bool) -> Workload {
    let kind = match rng.random_range(0..3) {
        0 => WorkloadKind::Pods {
            at: secs(rng, 0..=600),
            count: rng.random_range(0..=8),
        },
        1 => WorkloadKind::Deployment {
            at: secs(rng, 0..=600),
            replicas: rng.random_range(0..=6),
        },
        _ => WorkloadKind::Batch {
            arrivals: random_arrivals(rng, bounded),
        },
    };
    let template = random_template(rng, format!("w{i}"), nodes);
    let mut sized = Vec::new();
    if rng.random_bool(0.3) {
        sized.push((ResourceKind::CPU, random_size(rng, ResourceKind::CPU)));
        if rng.random_bool(0.5) {
            sized.push((ResourceKind::MEMORY, random_size(rng, ResourceKind::MEMORY)));
        }
    }
    // A Deployment replaces every pod that finishes, so with finite run times it never
    // settles: a run without duration needs its pods to run forever.
    let forever =
        rng.random_bool(0.2) || (bounded && matches!(kind, WorkloadKind::Deployment { .. }));
    let duration = (!forever).then(|| random_duration(rng));
    Workload {
        dynamics: None,
        adopted: Vec::new(),
        adopted_ordinals: Vec::new(),
        adopted_ran: Vec::new(),
        forbidden: None,
        kind,
        template: Arc::new(template),
        sized,
        duration,
    }
}

/// A random scenario: 1-30 varied nodes and 1-6 workloads of every kind, drawn from a
/// stream of its own so that the scenario does not share draws with the run.
fn random_scenario(seed: u64) -> Scenario {
    let mut rng = stream(seed, Concern::Sizes, u64::MAX);
    let nodes: Vec<NodeSpec> = (0..rng.random_range(1..=30))
        .map(|i| random_node(&mut rng, i))
        .collect();
    let duration = rng.random_bool(0.7).then(|| secs(&mut rng, 300..=3600));
    let workloads = (0..rng.random_range(1..=6))
        .map(|i| random_workload(&mut rng, i, &nodes, duration.is_none()))
        .collect();
    Scenario {
        metrics_resolution: sim::SimTime::from_secs(15),
        name: format!("random-{seed}"),
        description: "generated by sim/tests/invariants.rs".into(),
        path: None,
        seed,
        duration,
        sample_interval: pick(
            &mut rng,
            &[
                SimTime::from_secs(30),
                SimTime::from_secs(30),
                SimTime::from_secs(7),
                SimTime::from_secs(120),
                // Degenerate: one sample at the start and one at the end.
                SimTime::ZERO,
            ],
        ),
        start_latency: pick(
            &mut rng,
            &[
                SimTime::ZERO,
                SimTime::from_millis(500),
                SimTime::from_secs(1),
                SimTime::from_secs(5),
            ],
        ),
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
        namespaces: Vec::new(),
        quotas: Vec::new(),
        limit_ranges: Vec::new(),
        pod_groups: Vec::new(),
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

// ---------------------------------------------------------------------------------------
// Invariant checks
// ---------------------------------------------------------------------------------------

/// Names a run in assertion messages so that a failure can be replayed (`random-<seed>`
/// is `random_scenario(seed)`).
#[derive(Clone, Copy)]
struct Run<'a> {
    scenario: &'a str,
    seed: u64,
    scheduler: &'a str,
    /// Nodes join, leave, turn not ready or are cordoned during the run.
    nodes_change: bool,
}

impl fmt::Display for Run<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario {} seed {} scheduler {}",
            self.scenario, self.seed, self.scheduler
        )
    }
}

/// What the runs of one property test exercised, so that a generator change that stops
/// producing a situation is noticed instead of silently testing less.
#[derive(Debug, Default)]
struct Coverage {
    runs: u64,
    unbounded_runs: u64,
    completed: u64,
    failed: u64,
    pending_at_end: u64,
    never_fit_pending: u64,
    bound_with_constraints: u64,
    bound_by_node_name: u64,
    bound_on_cordoned: u64,
    /// Observations of an evicted pod inside its termination grace period.
    terminating: u64,
    pod_slots_full: u64,
}

/// Kubernetes' `ToleratesTaint`, written out here rather than taken from the crate, so that
/// a bug in the schedulers' filters cannot also hide in the oracle that checks them.
fn tolerates(tol: &Toleration, key: &str, value: &str, effect: TaintEffect) -> bool {
    tol.effect.is_none_or(|e| e == effect)
        && (tol.key.is_empty() || tol.key == key)
        && (tol.operator == TolerationOperator::Exists || tol.value == value)
}

/// Whether a label (or field) with this value satisfies one selector requirement.
fn requirement_holds(r: &SelectorRequirement, value: Option<&str>) -> bool {
    let number = |s: &str| s.parse::<i64>().ok();
    match r.operator {
        SelectorOperator::In => value.is_some_and(|v| r.values.iter().any(|x| x == v)),
        SelectorOperator::NotIn => value.is_none_or(|v| r.values.iter().all(|x| x != v)),
        SelectorOperator::Exists => value.is_some(),
        SelectorOperator::DoesNotExist => value.is_none(),
        SelectorOperator::Gt | SelectorOperator::Lt => {
            let bound = r.values.first().and_then(|b| number(b));
            match (value.and_then(number), bound) {
                (Some(v), Some(b)) => {
                    (r.operator == SelectorOperator::Gt && v > b)
                        || (r.operator == SelectorOperator::Lt && v < b)
                }
                _ => false,
            }
        }
    }
}

/// Whether the node satisfies the pod's required node affinity: some term (never an
/// empty one) whose every requirement holds.
fn affinity_holds(affinity: &NodeAffinity, node: &Node) -> bool {
    let Some(terms) = &affinity.required else {
        return true;
    };
    terms.iter().any(|t| {
        (!t.match_expressions.is_empty() || !t.match_fields.is_empty())
            && t.match_expressions
                .iter()
                .all(|r| requirement_holds(r, node.spec.labels.get(&r.key)))
            && t.match_fields
                .iter()
                .all(|r| r.key == "metadata.name" && requirement_holds(r, Some(node.name())))
    })
}

/// Why a pod may not be bound to this node, or `Ok` when it may, by Kubernetes' rules
/// (resources aside).
///
/// A pod that goes through a scheduler must pass every constraint filter. A pod that names
/// its node skips the scheduler, so cordoning and NoSchedule taints do not apply to it, but
/// the kubelet still admits it only if its node selector and required affinity match and it
/// tolerates the node's NoExecute taints (kubelet's GeneralPredicates and its taint check).
fn placement_error(pod: &Pod, node: &Node) -> Result<(), String> {
    let t = &pod.template;
    let scheduled = t.node_name.is_none();
    if !node.ready {
        return Err("the node is not ready".into());
    }
    if let Some(name) = &t.node_name
        && name != node.name()
    {
        return Err(format!("it names node {name}"));
    }
    let tolerated = |key: &str, value: &str, effect| {
        t.tolerations
            .iter()
            .any(|tol| tolerates(tol, key, value, effect))
    };
    if scheduled
        && node.spec.unschedulable
        && !tolerated(UNSCHEDULABLE_TAINT_KEY, "", TaintEffect::NoSchedule)
    {
        return Err("the node is cordoned".into());
    }
    for taint in &node.spec.taints {
        let blocks = taint.effect == TaintEffect::NoExecute
            || (scheduled && taint.effect == TaintEffect::NoSchedule);
        if blocks && !tolerated(&taint.key, &taint.value, taint.effect) {
            let how = if scheduled {
                "scheduled"
            } else {
                "admitted by nodeName"
            };
            return Err(format!("{how} despite untolerated taint {taint:?}"));
        }
    }
    if !t
        .node_selector
        .iter()
        .all(|(k, v)| node.spec.labels.get(k) == Some(v))
    {
        return Err(format!(
            "nodeSelector {:?} does not match labels {:?}",
            t.node_selector, node.spec.labels
        ));
    }
    if t.node_affinity
        .as_ref()
        .is_some_and(|a| !affinity_holds(a, node))
    {
        return Err(format!(
            "required node affinity does not match labels {:?}",
            node.spec.labels
        ));
    }
    Ok(())
}

/// Checks everything that must hold between two events: the cluster's books, where every
/// bound pod sits, and that the pod counters agree with each other and with the cluster.
fn check_state(sim: &Simulation<'_>, run: Run<'_>, coverage: Option<&mut Coverage>) {
    let cluster = sim.cluster();
    let now = sim.now();
    if let Err(e) = cluster.check_invariants() {
        panic!("{run} at {now}: cluster invariant broken: {e}");
    }
    let (completed, failed) = sim.finished_pods();
    let (submitted, pending, running) =
        (sim.submitted_pods(), sim.pending_pods(), sim.running_pods());
    assert_eq!(
        submitted,
        pending + running + completed + failed,
        "{run} at {now}: pods not conserved: submitted {submitted} != pending {pending} + running {running} + completed {completed} + failed {failed}"
    );
    let (mut live_pending, mut live_running) = (0, 0);
    let mut cov = Coverage::default();
    for (_, pod) in cluster.pods() {
        let never_fits = cluster
            .nodes()
            .iter()
            .all(|n| !pod.requests.fits_in(&n.spec.allocatable));
        match pod.phase {
            PodPhase::Pending => {
                live_pending += 1;
                assert!(
                    pod.node.is_none(),
                    "{run} at {now}: pending pod {} has a node",
                    pod.name()
                );
                cov.never_fit_pending += u64::from(never_fits);
            }
            PodPhase::Waiting => {
                // Held at Permit for its gang: pending, on a node, not terminating.
                live_pending += 1;
                assert!(
                    pod.node.is_some() && !pod.terminating && pod.template.pod_group.is_some(),
                    "{run} at {now}: waiting pod {} has no node, terminates or has no group",
                    pod.name()
                );
            }
            PodPhase::Bound | PodPhase::Running => {
                // An evicted pod in its grace period still holds its node but already
                // counts as failed, not running.
                live_running += u64::from(!pod.terminating);
                cov.terminating += u64::from(pod.terminating);
                let Some(node_id) = pod.node else {
                    panic!(
                        "{run} at {now}: {:?} pod {} has no node",
                        pod.phase,
                        pod.name()
                    );
                };
                let node = cluster.node(node_id);
                let t = &pod.template;
                let crate_filters = || match t.node_name {
                    None => check_constraints(pod, node)
                        .map_err(|r| format!("filters::check_constraints rejects it: {r:?}")),
                    Some(_) => Ok(()),
                };
                if node.removed {
                    panic!(
                        "{run} at {now}: pod {} on {}, which left",
                        pod.name(),
                        node.name()
                    );
                }
                // A node that turns not ready or is cordoned keeps its pods: with nodes
                // changing, placement is checked when the pod binds (`BindWatch`).
                let admitted = if run.nodes_change {
                    Ok(())
                } else {
                    placement_error(pod, node).and_then(|()| crate_filters())
                };
                if let Err(e) = admitted {
                    panic!(
                        "{run} at {now}: pod {} on {} breaks its constraints: {e}",
                        pod.name(),
                        node.name()
                    );
                }
                assert!(
                    !never_fits,
                    "{run} at {now}: pod {} bound although it fits no node",
                    pod.name()
                );
                cov.bound_with_constraints += u64::from(t.has_node_constraints());
                cov.bound_by_node_name += u64::from(t.node_name.is_some());
                cov.bound_on_cordoned += u64::from(node.spec.unschedulable);
            }
            PodPhase::Succeeded | PodPhase::Failed => {
                panic!(
                    "{run} at {now}: finished pod {} still in the cluster",
                    pod.name()
                )
            }
        }
    }
    assert_eq!(
        (live_pending, live_running),
        (pending, running),
        "{run} at {now}: live pods by phase (pending, bound+running) disagree with the counters"
    );
    if let Some(coverage) = coverage {
        coverage.never_fit_pending += cov.never_fit_pending;
        coverage.bound_with_constraints += cov.bound_with_constraints;
        coverage.bound_by_node_name += cov.bound_by_node_name;
        coverage.bound_on_cordoned += cov.bound_on_cordoned;
        coverage.terminating += cov.terminating;
        coverage.pod_slots_full += cluster
            .nodes()
            .iter()
            .filter(|n| n.requested.pods() == n.spec.allocatable.pods())
            .count() as u64;
    }
}

/// Checks a finished run's summary and time series against each other and the scenario.
fn check_result(result: &RunResult, scenario: &Scenario, steps: u64, run: Run<'_>) {
    let s = &result.summary;
    assert_eq!(
        s.count(&sim::columns::PODS_SUBMITTED),
        s.count(&sim::columns::PODS_PENDING_AT_END)
            + s.count(&sim::columns::PODS_RUNNING_AT_END)
            + s.count(&sim::columns::PODS_COMPLETED)
            + s.count(&sim::columns::PODS_FAILED),
        "{run}: summary does not conserve pods: {s:?}"
    );
    assert!(
        s.count(&sim::columns::PODS_SCHEDULED)
            >= s.count(&sim::columns::PODS_COMPLETED) + s.count(&sim::columns::PODS_RUNNING_AT_END),
        "{run}: more pods completed or running than were ever bound: {s:?}"
    );
    assert!(
        s.time(&sim::columns::LATENCY_P50) <= s.time(&sim::columns::LATENCY_P95)
            && s.time(&sim::columns::LATENCY_P95) <= s.time(&sim::columns::LATENCY_P99)
            && s.time(&sim::columns::LATENCY_P99) <= s.time(&sim::columns::LATENCY_MAX),
        "{run}: latency percentiles out of order: {s:?}"
    );
    assert!(
        s.time(&sim::columns::LATENCY_MAX) <= s.time(&sim::columns::SIM_END),
        "{run}: a latency longer than the run: {s:?}"
    );
    for (what, mean, peak) in [
        (
            "cpu",
            s.number(&sim::columns::CPU_ALLOC_MEAN).unwrap(),
            s.number(&sim::columns::CPU_ALLOC_PEAK).unwrap(),
        ),
        (
            "memory",
            s.number(&sim::columns::MEM_ALLOC_MEAN).unwrap(),
            s.number(&sim::columns::MEM_ALLOC_PEAK).unwrap(),
        ),
    ] {
        assert!(
            (0.0..=1.0).contains(&mean),
            "{run}: {what} allocation mean {mean} outside [0, 1]"
        );
        assert!(
            (0.0..=1.0).contains(&peak),
            "{run}: {what} allocation peak {peak} outside [0, 1]"
        );
        assert!(
            mean <= peak + EPSILON,
            "{run}: {what} allocation mean {mean} above its peak {peak}"
        );
    }
    assert!(
        s.count(&sim::columns::UNSCHEDULABLE_ATTEMPTS)
            <= s.count(&sim::columns::SCHEDULING_ATTEMPTS),
        "{run}: more failed attempts than attempts: {s:?}"
    );
    assert_eq!(
        s.count(&sim::columns::EVENTS),
        steps,
        "{run}: summary counts {} events but step() succeeded {steps} times",
        s.count(&sim::columns::EVENTS)
    );
    assert_eq!(
        s.count(&sim::columns::NODES_MAX),
        scenario.nodes.len() as u64,
        "{run}: nodes_max"
    );
    if let Some(duration) = scenario.duration {
        assert_eq!(
            s.time(&sim::columns::SIM_END),
            duration,
            "{run}: a run with a duration ends at it"
        );
    }
    let samples = &result.samples;
    assert!(
        samples.windows(2).all(|w| w[0].time < w[1].time),
        "{run}: sample times not strictly increasing"
    );
    let last = samples
        .last()
        .unwrap_or_else(|| panic!("{run}: no samples"));
    assert_eq!(
        last.time,
        s.time(&sim::columns::SIM_END),
        "{run}: the last sample is not at the end"
    );
    assert_eq!(
        (last.pending, last.running),
        (
            s.count(&sim::columns::PODS_PENDING_AT_END),
            s.count(&sim::columns::PODS_RUNNING_AT_END)
        ),
        "{run}: the last sample disagrees with the summary"
    );
    for sample in samples {
        assert!(
            (0..=sample.cpu_allocatable).contains(&sample.cpu_requested)
                && (0..=sample.mem_allocatable).contains(&sample.mem_requested),
            "{run}: sample over-committed or negative: {sample:?}"
        );
    }
    assert_eq!(
        (
            result.scenario.as_str(),
            result.scheduler.as_str(),
            result.seed
        ),
        (scenario.name.as_str(), run.scheduler, run.seed),
        "{run}: result labelled wrongly"
    );
}

/// Schedulers that bind a pending pod whenever some node passes every filter. For them a
/// run without duration may end only when no pending pod fits on any node.
const WORK_CONSERVING: [&str; 9] = [
    "first-fit",
    "flow",
    "least-allocated",
    "random",
    "best-fit",
    "most-allocated",
    "worst-fit",
    "round-robin",
    "tetris",
];

/// Checks that a run which ended by itself ended because nothing could change: no pending
/// pod fits on a node that admits it by [`placement_error`]'s rules (a missed retry, or a
/// filter stricter than Kubernetes, would leave one that does).
fn check_quiescent(sim: &Simulation<'_>, run: Run<'_>) {
    let cluster = sim.cluster();
    for (_, pod) in cluster.pods().filter(|(_, p)| p.phase == PodPhase::Pending) {
        if let Some(node) = cluster
            .nodes()
            .iter()
            .find(|n| placement_error(pod, n).is_ok() && pod.requests.fits_in(&n.free()))
        {
            panic!(
                "{run}: the run ended at {} with pod {} pending although {} could take it",
                sim.now(),
                pod.name(),
                node.name()
            );
        }
    }
}

/// Plays `scenario` with the named scheduler step by step, checking [`check_state`] after
/// every event and [`check_result`] at the end, and returns the result.
fn drive_checked(
    scenario: &Scenario,
    registry: &Registry,
    scheduler: &str,
    seed: u64,
    coverage: Option<&mut Coverage>,
) -> RunResult {
    drive_with_nodes(scenario, registry, scheduler, seed, coverage, &[])
}

/// [`drive_checked`] with node actions scheduled at the given times, and a check, at every
/// bind, that the node was in the cluster and ready.
fn drive_with_nodes(
    scenario: &Scenario,
    registry: &Registry,
    scheduler: &str,
    seed: u64,
    mut coverage: Option<&mut Coverage>,
    actions: &[(SimTime, NodeAction)],
) -> RunResult {
    let run = Run {
        scenario: &scenario.name,
        seed,
        scheduler,
        nodes_change: !actions.is_empty(),
    };
    let mut sim = Simulation::new(scenario, registry.create(scheduler).unwrap(), seed);
    for (at, action) in actions {
        sim.schedule_node_action(*at, action.clone());
    }
    let watch = BindWatch::default();
    let bad_binds = Arc::clone(&watch.bad);
    sim.add_observer(Box::new(watch));
    check_state(&sim, run, None);
    let mut steps = 0u64;
    let mut last = sim.now();
    while sim.step() {
        steps += 1;
        assert!(
            steps <= STEP_CAP,
            "{run}: no end after {STEP_CAP} steps (at {})",
            sim.now()
        );
        let now = sim.now();
        assert!(now >= last, "{run}: time went back from {last} to {now}");
        if let Some(end) = scenario.duration {
            assert!(now <= end, "{run}: event at {now} after the end {end}");
        }
        assert_eq!(sim.events_processed(), steps, "{run}: events_processed");
        last = now;
        check_state(&sim, run, coverage.as_deref_mut());
    }
    assert!(!sim.step(), "{run}: step() after the end did something");
    let bad_binds = bad_binds.lock().unwrap();
    assert!(
        bad_binds.is_empty(),
        "{run}: binds to nodes that could not take pods: {bad_binds:?}"
    );
    if scenario.duration.is_none() && WORK_CONSERVING.contains(&scheduler) {
        check_quiescent(&sim, run);
    }
    let result = sim.finish();
    check_result(&result, scenario, steps, run);
    if let Some(c) = coverage {
        let s = &result.summary;
        c.runs += 1;
        c.unbounded_runs += u64::from(scenario.duration.is_none());
        c.completed += s.count(&sim::columns::PODS_COMPLETED);
        c.failed += s.count(&sim::columns::PODS_FAILED);
        c.pending_at_end += s.count(&sim::columns::PODS_PENDING_AT_END);
    }
    result
}

/// Records every bind that breaks Kubernetes' rules ([`placement_error`]) or lands on a node
/// that left, as the observer sees it: the cluster just after the bind.
#[derive(Default)]
struct BindWatch {
    bad: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Observer for BindWatch {
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        if let (Fact::PodBound { node, .. }, Some(pod)) = (fact, view.pod) {
            let n = view.cluster.node(*node);
            let filters = || match pod.template.node_name {
                None => check_constraints(pod, n).map_err(|r| format!("{r:?}")),
                Some(_) => Ok(()),
            };
            let why = if n.removed {
                Err("the node left".to_string())
            } else {
                placement_error(pod, n).and_then(|()| filters())
            };
            if let Err(why) = why {
                self.bad.lock().unwrap().push(format!(
                    "{} to {} at {}: {why}",
                    pod.name(),
                    n.name(),
                    view.now
                ));
            }
        }
    }
}

/// Asserts two results of the same run are identical, summary and time series alike.
fn assert_same(a: &RunResult, b: &RunResult, what: &str) {
    let run = Run {
        scenario: &a.scenario,
        seed: a.seed,
        scheduler: &a.scheduler,
        nodes_change: false,
    };
    assert_eq!(
        (&a.scenario, &a.scheduler, a.seed),
        (&b.scenario, &b.scheduler, b.seed),
        "{run}: {what}: different runs compared"
    );
    assert_eq!(a.summary, b.summary, "{run}: {what}: summaries differ");
    assert_eq!(a.samples, b.samples, "{run}: {what}: samples differ");
}

/// Runs the property check on `SEEDS_PER_TEST` seeds starting at `first` with every
/// registered scheduler, then checks the runs exercised what they are meant to.
fn check_seeds(first: u64) {
    let registry = Registry::builtin();
    let mut coverage = Coverage::default();
    for seed in first..first + SEEDS_PER_TEST {
        let scenario = random_scenario(seed);
        for (name, _) in registry.iter() {
            drive_checked(&scenario, &registry, name, seed, Some(&mut coverage));
        }
    }
    let c = &coverage;
    let exercised = c.unbounded_runs > 0
        && c.completed > 0
        && c.failed > 0
        && c.pending_at_end > 0
        && c.never_fit_pending > 0
        && c.bound_with_constraints > 0
        && c.bound_by_node_name > 0
        && c.bound_on_cordoned > 0
        && c.pod_slots_full > 0;
    assert!(
        exercised,
        "seeds {first}..{}: the random scenarios missed a situation: {c:?}",
        first + SEEDS_PER_TEST
    );
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

// Four tests of 50 seeds rather than one of 200, so the harness spreads them over cores.

#[test]
fn random_runs_keep_invariants_seeds_0_to_49() {
    check_seeds(0);
}

#[test]
fn random_runs_keep_invariants_seeds_50_to_99() {
    check_seeds(SEEDS_PER_TEST);
}

#[test]
fn random_runs_keep_invariants_seeds_100_to_149() {
    check_seeds(2 * SEEDS_PER_TEST);
}

#[test]
fn random_runs_keep_invariants_seeds_150_to_199() {
    check_seeds(3 * SEEDS_PER_TEST);
}

/// Node churn for a random scenario: one node leaves and joins again under its name, one
/// turns not ready and back, one is cordoned and uncordoned, at times drawn from a stream
/// of the seed's own.
fn node_churn(scenario: &Scenario, seed: u64) -> Vec<(SimTime, NodeAction)> {
    let mut rng = stream(seed, Concern::Failures, 0);
    let n = scenario.nodes.len();
    let mut actions = Vec::new();
    let node = |rng: &mut ChaCha8Rng| scenario.nodes[rng.random_range(0..n)].clone();
    let gone = node(&mut rng);
    let left = secs(&mut rng, 0..=300);
    actions.push((left, NodeAction::Remove(gone.name.clone())));
    actions.push((left + secs(&mut rng, 0..=600), NodeAction::Add(gone)));
    let sick = node(&mut rng).name;
    let at = secs(&mut rng, 0..=300);
    actions.push((at, NodeAction::SetReady(sick.clone(), false)));
    actions.push((
        at + secs(&mut rng, 1..=600),
        NodeAction::SetReady(sick, true),
    ));
    let cordoned = node(&mut rng).name;
    let at = secs(&mut rng, 0..=300);
    actions.push((at, NodeAction::Cordon(cordoned.clone(), true)));
    actions.push((
        at + secs(&mut rng, 1..=600),
        NodeAction::Cordon(cordoned, false),
    ));
    actions
}

#[test]
fn nodes_leaving_joining_and_failing_keep_invariants() {
    let registry = Registry::builtin();
    let mut evicted = 0;
    for seed in 0..SEEDS_PER_TEST {
        let scenario = random_scenario(seed);
        let actions = node_churn(&scenario, seed);
        for (name, _) in registry.iter() {
            let result = drive_with_nodes(&scenario, &registry, name, seed, None, &actions);
            evicted += result.summary.count(&sim::columns::PODS_FAILED);
        }
    }
    assert!(evicted > 0, "no pod was ever lost to a leaving node");
}

#[test]
fn a_node_that_joins_again_is_a_new_node_and_takes_pods() {
    let registry = Registry::builtin();
    let nodes = vec![plain_node("a", 4000), plain_node("b", 4000)];
    let deployment = Workload {
        dynamics: None,
        adopted: Vec::new(),
        adopted_ordinals: Vec::new(),
        adopted_ran: Vec::new(),
        forbidden: None,
        kind: WorkloadKind::Deployment {
            at: SimTime::ZERO,
            replicas: 2,
        },
        template: Arc::new(cpu_template("web", 3000)),
        sized: Vec::new(),
        duration: None,
    };
    let scenario = scenario(
        "rejoin",
        nodes.clone(),
        vec![deployment],
        Some(SimTime::from_secs(100)),
    );
    let actions = [
        (SimTime::from_secs(10), NodeAction::Remove("a".into())),
        (SimTime::from_secs(20), NodeAction::Add(nodes[0].clone())),
    ];
    for (name, _) in registry.iter() {
        let mut sim = Simulation::new(&scenario, registry.create(name).unwrap(), 1);
        for (at, action) in &actions {
            sim.schedule_node_action(*at, action.clone());
        }
        sim.step_until(SimTime::from_secs(15));
        // a left with its pod, whose replacement waits: b has no room for it.
        let cluster = sim.cluster();
        assert!(cluster.node(schedulers::NodeId(0)).removed, "{name}");
        assert_eq!(cluster.node_id("a"), None, "{name}");
        assert_eq!((sim.running_pods(), sim.pending_pods()), (1, 1), "{name}");
        assert_eq!(sim.finished_pods(), (0, 1), "{name}: the pod on a failed");
        while sim.step() {}
        // a joined again as node 2, and the replacement runs there.
        let cluster = sim.cluster();
        let again = cluster.node_id("a");
        assert_eq!(again, Some(schedulers::NodeId(2)), "{name}");
        assert_eq!(cluster.node(schedulers::NodeId(2)).pods.len(), 1, "{name}");
        assert_eq!((sim.running_pods(), sim.pending_pods()), (2, 0), "{name}");
        cluster.check_invariants().unwrap();
        let result = sim.finish();
        assert_eq!(result.summary.count(&sim::columns::NODES_MAX), 2, "{name}");
        let last = result.samples.last().unwrap();
        assert_eq!((last.nodes, last.cpu_allocatable), (2, 8000), "{name}");
        // 10 s with 2 nodes, 10 s with 1, 80 s with 2: the mean counts what was there.
        let cpu_mean = result
            .summary
            .number(&sim::columns::CPU_ALLOC_MEAN)
            .unwrap();
        let expected =
            (6000.0 * 10.0 + 3000.0 * 10.0 + 6000.0 * 80.0) / (8000.0 * 90.0 + 4000.0 * 10.0);
        assert!(
            (cpu_mean - expected).abs() < 1e-9,
            "{name}: {cpu_mean} vs {expected}"
        );
    }
}

#[test]
fn filters_agree_with_kubernetes_rules() {
    let (mut admitted, mut rejected) = (0, 0);
    for seed in 0..4 * SEEDS_PER_TEST {
        let scenario = random_scenario(seed);
        let nodes: Vec<Node> = scenario.nodes.iter().cloned().map(Node::new).collect();
        for w in scenario
            .workloads
            .iter()
            .filter(|w| w.template.node_name.is_none())
        {
            let pod = Pod::from_template(Arc::clone(&w.template), 0);
            for node in &nodes {
                let ours = placement_error(&pod, node);
                let theirs = check_constraints(&pod, node);
                assert_eq!(
                    ours.is_ok(),
                    theirs.is_ok(),
                    "seed {seed}: pod {} on {}: Kubernetes' rules say {ours:?}, check_constraints says {theirs:?}\n{:?}\n{:?}",
                    pod.name(),
                    node.name(),
                    w.template,
                    node.spec
                );
                admitted += u64::from(ours.is_ok());
                rejected += u64::from(ours.is_err());
            }
        }
    }
    assert!(
        admitted > 1000 && rejected > 1000,
        "too few cases: {admitted} admitted, {rejected} rejected"
    );
}

#[test]
fn generator_produces_every_feature() {
    let mut seen = [false; 14];
    for seed in 0..4 * SEEDS_PER_TEST {
        let s = random_scenario(seed);
        seen[0] |= s.duration.is_none();
        seen[1] |= s.duration.is_some();
        seen[2] |= s.nodes.iter().any(|n| n.unschedulable);
        seen[3] |= s.nodes.iter().any(|n| n.allocatable.pods() < 10);
        for w in &s.workloads {
            let t = &w.template;
            seen[4] |= matches!(w.kind, WorkloadKind::Pods { .. });
            seen[5] |= matches!(w.kind, WorkloadKind::Deployment { .. });
            seen[6] |= matches!(&w.kind, WorkloadKind::Batch { arrivals } if arrivals.process == ArrivalProcess::Burst);
            seen[7] |= matches!(&w.kind, WorkloadKind::Batch { arrivals } if matches!(arrivals.process, ArrivalProcess::Poisson { .. }));
            seen[8] |= matches!(&w.kind, WorkloadKind::Batch { arrivals } if matches!(arrivals.process, ArrivalProcess::Fixed { .. }));
            seen[9] |= !w.sized.is_empty();
            seen[10] |= w.duration.is_none();
            seen[11] |= t.containers.iter().any(|c| c.requests.cpu() >= HUGE_CPU);
            seen[12] |= t
                .node_affinity
                .as_ref()
                .is_some_and(|a| a.required.is_some())
                && !t.init_containers.is_empty();
            seen[13] |= t.node_name.is_some() && !t.tolerations.is_empty();
        }
    }
    assert!(
        seen.iter().all(|&s| s),
        "features never generated: {seen:?}"
    );
}

/// A node with `cpu` millicores, 8 GiB and 110 pod slots, and no labels or taints.
fn plain_node(name: &str, cpu: i64) -> NodeSpec {
    let mut allocatable = Resources::cpu_mem(cpu, 8 * GIB);
    allocatable.set(ResourceKind::PODS, 110);
    NodeSpec {
        name: name.into(),
        allocatable,
        ..Default::default()
    }
}

/// A template of one container requesting `cpu` millicores.
fn cpu_template(name: &str, cpu: i64) -> PodTemplate {
    let mut c = ContainerResources::default();
    c.set_request(ResourceKind::CPU, cpu);
    PodTemplate {
        name: name.into(),
        containers: vec![c],
        ..Default::default()
    }
}

/// `count` bare pods created at time zero, each running `run_for` (forever when `None`).
fn bare_pods(template: PodTemplate, count: u32, run_for: Option<SimTime>) -> Workload {
    Workload {
        dynamics: None,
        adopted: Vec::new(),
        adopted_ordinals: Vec::new(),
        adopted_ran: Vec::new(),
        forbidden: None,
        kind: WorkloadKind::Pods {
            at: SimTime::ZERO,
            count,
        },
        template: Arc::new(template),
        sized: vec![],
        duration: run_for.map(Dist::Constant),
    }
}

/// A hand-built scenario of these nodes and workloads, with the loader's defaults elsewhere.
fn scenario(
    name: &str,
    nodes: Vec<NodeSpec>,
    workloads: Vec<Workload>,
    duration: Option<SimTime>,
) -> Scenario {
    Scenario {
        metrics_resolution: sim::SimTime::from_secs(15),
        name: name.into(),
        description: String::new(),
        path: None,
        seed: 1,
        duration,
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
        namespaces: Vec::new(),
        quotas: Vec::new(),
        limit_ranges: Vec::new(),
        pod_groups: Vec::new(),
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

#[test]
fn pod_larger_than_every_node_stays_pending_and_run_ends() {
    let registry = Registry::builtin();
    let nodes = (0..3).map(|i| plain_node(&format!("n{i}"), 4000)).collect();
    let minute = Some(SimTime::from_secs(60));
    let batch = |template: PodTemplate, process, count, sized| Workload {
        dynamics: None,
        adopted: Vec::new(),
        adopted_ordinals: Vec::new(),
        adopted_ran: Vec::new(),
        forbidden: None,
        kind: WorkloadKind::Batch {
            arrivals: Arrivals {
                process,
                start: SimTime::ZERO,
                stop: None,
                count: Some(count),
            },
        },
        template: Arc::new(template),
        sized,
        duration: minute.map(Dist::Constant),
    };
    let scenario = scenario(
        "never-fits",
        nodes,
        vec![
            bare_pods(cpu_template("huge", 5000), 2, minute),
            // Drawn sizes override the template's request: every draw exceeds every node.
            batch(
                cpu_template("drawn-too-big", 1000),
                ArrivalProcess::Fixed {
                    interval: SimTime::from_secs(10),
                },
                3,
                vec![(ResourceKind::CPU, Dist::Choice(vec![4001, 9000]))],
            ),
            batch(
                cpu_template("small", 1000),
                ArrivalProcess::Poisson {
                    rate_per_second: 0.1,
                },
                4,
                vec![],
            ),
        ],
        None,
    );
    for (name, _) in registry.iter() {
        let s = drive_checked(&scenario, &registry, name, 7, None).summary;
        assert_eq!(s.count(&sim::columns::PODS_SUBMITTED), 9, "{name}: {s:?}");
        assert_eq!(
            s.count(&sim::columns::PODS_PENDING_AT_END),
            5,
            "{name}: the pods that fit nowhere stay pending: {s:?}"
        );
        assert_eq!(
            (
                s.count(&sim::columns::PODS_COMPLETED),
                s.count(&sim::columns::PODS_SCHEDULED)
            ),
            (4, 4),
            "{name}: {s:?}"
        );
        assert_eq!(
            (
                s.count(&sim::columns::PODS_RUNNING_AT_END),
                s.count(&sim::columns::PODS_FAILED)
            ),
            (0, 0),
            "{name}: {s:?}"
        );
        assert!(
            s.count(&sim::columns::UNSCHEDULABLE_ATTEMPTS) >= 5,
            "{name}: {s:?}"
        );
    }
}

#[test]
fn pod_slots_limit_placement() {
    let registry = Registry::builtin();
    let mut node = plain_node("tiny", 64000);
    node.allocatable.set(ResourceKind::PODS, 2);
    let pods = bare_pods(cpu_template("p", 10), 5, Some(SimTime::from_secs(60)));
    let scenario = scenario("too-many-pods", vec![node], vec![pods], None);
    for (name, _) in registry.iter() {
        let s = drive_checked(&scenario, &registry, name, 1, None).summary;
        assert_eq!(
            (
                s.count(&sim::columns::PODS_COMPLETED),
                s.count(&sim::columns::PODS_PENDING_AT_END)
            ),
            (5, 0),
            "{name}: {s:?}"
        );
        // Two at 0s, two when they finish at 61s, the last at 122s; each run takes 61s.
        assert_eq!(
            s.time(&sim::columns::SIM_END),
            SimTime::from_secs(183),
            "{name}: {s:?}"
        );
        assert_eq!(
            s.time(&sim::columns::LATENCY_MAX),
            SimTime::from_secs(122),
            "{name}: {s:?}"
        );
    }
}

#[test]
fn higher_priority_pods_are_scheduled_first() {
    let registry = Registry::builtin();
    let pods = |name: &str, priority| {
        let template = PodTemplate {
            priority,
            ..cpu_template(name, 1000)
        };
        bare_pods(template, 1, None)
    };
    let scenario = scenario(
        "priority",
        vec![plain_node("n0", 1000)],
        vec![pods("low", 0), pods("high", 10), pods("mid", 5)],
        None,
    );
    for (name, _) in registry.iter() {
        let run = Run {
            scenario: &scenario.name,
            seed: 1,
            scheduler: name,
            nodes_change: false,
        };
        let mut sim = Simulation::new(&scenario, registry.create(name).unwrap(), 1);
        while sim.step() {
            check_state(&sim, run, None);
        }
        let running: Vec<String> = sim
            .cluster()
            .pods()
            .filter(|(_, p)| p.node.is_some())
            .map(|(_, p)| p.name().to_string())
            .collect();
        assert_eq!(
            running,
            ["high-0"],
            "{run}: created at the same time, the highest priority wins"
        );
    }
}

/// Minimal repro: a pod that names its node skips the scheduler, but the kubelet still
/// refuses it when its node selector or required affinity does not match the node or it
/// does not tolerate a NoExecute taint there (cordoning and NoSchedule taints do not stop
/// it). The simulator admitted all three pods below.
#[test]
fn node_name_pods_pass_kubelet_admission() {
    let registry = Registry::builtin();
    let mut node = plain_node("n0", 8000);
    node.labels = Labels::new([(ZONE_KEY, "a")]);
    node.unschedulable = true;
    node.taints = vec![
        Taint {
            key: "dedicated".into(),
            value: "infra".into(),
            effect: TaintEffect::NoSchedule,
        },
        Taint {
            key: "evict".into(),
            value: String::new(),
            effect: TaintEffect::NoExecute,
        },
    ];
    let tolerate_evict = Toleration {
        key: "evict".into(),
        operator: TolerationOperator::Exists,
        ..Default::default()
    };
    let named = |name: &str, zone: &str, tolerations: Vec<Toleration>| PodTemplate {
        node_name: Some("n0".into()),
        node_selector: Labels::new([(ZONE_KEY, zone)]),
        tolerations,
        ..cpu_template(name, 1000)
    };
    let scenario = scenario(
        "node-name-admission",
        vec![node],
        vec![
            bare_pods(
                named("admitted", "a", vec![tolerate_evict.clone()]),
                1,
                None,
            ),
            bare_pods(named("wrong-zone", "b", vec![tolerate_evict]), 1, None),
            bare_pods(named("untolerated", "a", vec![]), 1, None),
        ],
        None,
    );
    for (name, _) in registry.iter() {
        let s = drive_checked(&scenario, &registry, name, 1, None).summary;
        assert_eq!(
            (
                s.count(&sim::columns::PODS_RUNNING_AT_END),
                s.count(&sim::columns::PODS_FAILED)
            ),
            (1, 2),
            "{name}: only the pod that matches and tolerates NoExecute may run: {s:?}"
        );
    }
}

/// Minimal repro: Deployment pods that end at once, with no start latency, are replaced at
/// the same instant forever, so simulated time stops and the run never ends.
#[test]
fn deployment_of_instant_pods_does_not_stall_time() {
    let registry = Registry::builtin();
    let deployment = Workload {
        dynamics: None,
        adopted: Vec::new(),
        adopted_ordinals: Vec::new(),
        adopted_ran: Vec::new(),
        forbidden: None,
        kind: WorkloadKind::Deployment {
            at: SimTime::ZERO,
            replicas: 1,
        },
        template: Arc::new(cpu_template("crashloop", 100)),
        sized: vec![],
        duration: Some(Dist::Constant(SimTime::ZERO)),
    };
    let mut scenario = scenario(
        "instant",
        vec![plain_node("n0", 1000)],
        vec![deployment],
        Some(SimTime::from_secs(60)),
    );
    scenario.start_latency = SimTime::ZERO;
    for (name, _) in registry.iter() {
        drive_checked(&scenario, &registry, name, 1, None);
    }
}

#[test]
fn stepping_matches_run_and_repeats_exactly() {
    let registry = Registry::builtin();
    for seed in [3, 17, 42, 99, 123] {
        let scenario = random_scenario(seed);
        for (name, _) in registry.iter() {
            let stepped = drive_checked(&scenario, &registry, name, seed, None);
            let again = sim::run(&scenario, registry.create(name).unwrap(), seed);
            assert_same(&stepped, &again, "step()+finish() vs run()");
            let third = sim::run(&scenario, registry.create(name).unwrap(), seed);
            assert_same(&again, &third, "two identical runs");
            // Observers never change a run: the trace records every event, the stepped
            // run above carried an extra observer, and neither moves a figure.
            let mut traced = Simulation::new(&scenario, registry.create(name).unwrap(), seed);
            traced.enable_trace();
            let traced = traced.run();
            assert!(!traced.trace.is_empty());
            assert_same(&again, &traced, "with and without a trace");
        }
    }
}

#[test]
fn concurrent_runs_match_sequential_runs() {
    let registry = Registry::builtin();
    let seeds: &[u64] = &[200, 201, 202, 203, 204, 205, 206, 207];
    let scenarios: Vec<Scenario> = seeds.iter().map(|&s| random_scenario(s)).collect();
    let run_all = |i: usize| -> Vec<RunResult> {
        registry
            .iter()
            .map(|(name, _)| sim::run(&scenarios[i], registry.create(name).unwrap(), seeds[i]))
            .collect()
    };
    let sequential: Vec<Vec<RunResult>> = (0..seeds.len()).map(run_all).collect();
    let mut concurrent: Vec<(usize, Vec<RunResult>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let run_all = &run_all;
                scope.spawn(move || {
                    (t..seeds.len())
                        .step_by(2)
                        .map(|i| (i, run_all(i)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    concurrent.sort_by_key(|(i, _)| *i);
    assert_eq!(concurrent.len(), seeds.len());
    for ((i, results), expected) in concurrent.iter().zip(&sequential) {
        assert_eq!(results.len(), expected.len(), "seed {}", seeds[*i]);
        for (got, want) in results.iter().zip(expected) {
            assert_same(got, want, "concurrent vs sequential");
        }
    }
}
