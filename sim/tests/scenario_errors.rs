//! The scenario loader's promises to users: every rejected file names the file, the line
//! and column, the field and what was expected, without panicking; and a good file loads
//! into exactly the [`Scenario`] it describes.
//!
//! Each error class has a small fixture under `tests/fixtures/`, whose first line says what
//! is wrong with it. The assertions pin the exact position and field, and a key phrase of
//! the message rather than all of it, so rewording a message does not break them.

use std::path::PathBuf;

use schedulers::{
    HostPort, InclusionPolicy, LabelSelector, Labels, NodeAffinity, NodeSelectorTerm, OwnerKind,
    PodAffinity, PodAffinityTerm, PreemptionPolicy, PreferredTerm, Protocol, Registry,
    ResourceKind, SelectorOperator, SelectorRequirement, Taint, TaintEffect, Toleration,
    TolerationOperator, TopologySpreadConstraint, WeightedPodAffinityTerm, WhenUnsatisfiable,
};
use sim::scenario::{ArrivalProcess, Arrivals, Dist, WorkloadKind};
use sim::time::SimTime;
use sim::{Scenario, ScenarioError, load_scenario, parse_scenario};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The built-in registry's check of a `schedulers:` entry, as hosts pass it.
fn is_known(
    spec: &schedulers::SchedulerSpec,
    profiles: &[(
        String,
        schedulers::framework::plugin_registry::ResolvedProfile,
    )],
) -> Result<String, schedulers::SpecError> {
    Registry::builtin().check(spec, profiles)
}

/// Loads a fixture that must be rejected.
fn rejected(name: &str) -> ScenarioError {
    match load_scenario(&fixture(name), &is_known) {
        Ok(_) => panic!("{name} loaded, but it should have been rejected"),
        Err(e) => e,
    }
}

/// Checks where an error points and that its message says `phrase`.
#[track_caller]
fn assert_error(e: &ScenarioError, line: u64, column: u64, field: &str, phrase: &str) {
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(line), Some(column), Some(field)),
        "position and field of: {e}"
    );
    assert!(
        e.message.contains(phrase),
        "expected {phrase:?} in the message of: {e}"
    );
    assert!(e.path.ends_with(".yaml"), "the file is named: {e}");
    let shown = e.to_string();
    assert!(
        shown.contains(&format!(".yaml:{line}:{column}: {field}: ")),
        "display: {shown}"
    );
}

#[test]
fn unknown_field_lists_the_allowed_ones() {
    let e = rejected("unknown_field.yaml");
    assert_error(&e, 4, 5, "workloads[0].replica", "unknown field `replica`");
    assert!(e.message.contains("did you mean `replicas`?"), "{e}");
    assert!(
        e.message
            .contains("allowed here: pod, deployment, batch, count, replicas"),
        "{e}"
    );
}

#[test]
fn wrong_type() {
    let e = rejected("wrong_type.yaml");
    assert_error(
        &e,
        5,
        14,
        "cluster.nodePools[0].count",
        "expected a non-negative integer, got lots",
    );
}

#[test]
fn not_a_mapping() {
    let e = rejected("not_a_mapping.yaml");
    assert_error(
        &e,
        5,
        15,
        "cluster.nodes[0].labels",
        "expected a mapping, got a list",
    );
}

#[test]
fn bad_quantity() {
    let e = rejected("bad_quantity.yaml");
    assert_error(
        &e,
        5,
        26,
        "cluster.nodes[0].allocatable.cpu",
        "invalid quantity \"12Q\"",
    );
    assert!(e.message.contains("(expected one of n, u, m, k"), "{e}");
}

#[test]
fn negative_count() {
    let e = rejected("negative_count.yaml");
    assert_error(
        &e,
        5,
        14,
        "cluster.nodePools[0].count",
        "expected a non-negative integer, got -1",
    );
    assert!(e.to_string().ends_with(
        "negative_count.yaml:5:14: cluster.nodePools[0].count: expected a non-negative integer, got -1"
    ));
}

#[test]
fn bad_duration() {
    let e = rejected("bad_duration.yaml");
    assert_error(
        &e,
        4,
        15,
        "workloads[0].duration",
        "invalid duration \"10x\"",
    );
    assert!(
        e.message.contains("expected one of ns, us, ms, s, m, h, d"),
        "{e}"
    );
}

#[test]
fn unknown_scheduler() {
    let e = rejected("unknown_scheduler.yaml");
    assert_error(&e, 2, 25, "schedulers[1]", "unknown scheduler \"nope-fit\"");
}

#[test]
fn missing_required_field() {
    let e = rejected("missing_replicas.yaml");
    assert_error(
        &e,
        4,
        5,
        "workloads[1].replicas",
        "missing required field `replicas`",
    );
}

#[test]
fn missing_field_found_by_serde() {
    // A taint without `effect` is caught while parsing, not after; the loader still finds
    // the field from the position.
    let text = "cluster:\n  nodes:\n    - name: n1\n      taints:\n        - key: dedicated\n";
    let e = parse_scenario(text, "inline.yaml", &is_known).unwrap_err();
    assert_error(
        &e,
        5,
        11,
        "cluster.nodes[0].taints[0].effect",
        "missing required field `effect`",
    );
}

#[test]
fn workload_with_two_kinds() {
    let e = rejected("two_kinds.yaml");
    assert_error(
        &e,
        4,
        17,
        "workloads[0].deployment",
        "has both `pod` and `deployment`",
    );
}

#[test]
fn workload_with_no_kind() {
    let e = rejected("no_kind.yaml");
    assert_error(
        &e,
        4,
        5,
        "workloads[1]",
        "exactly one of `pod`, `deployment`, `batch`, `statefulSet`, `daemonSet` or `job`",
    );
}

#[test]
fn trace_workload_with_unknown_timing() {
    let e = rejected("trace_unknown_timing.yaml");
    assert_error(
        &e,
        8,
        15,
        "workloads[0].trace.timing",
        "unknown timing \"recoded\" (did you mean recorded?); expected shuffled or recorded",
    );
}

#[test]
fn trace_file_errors_name_the_trace_file() {
    let e = rejected("trace_bad_time.yaml");
    assert!(e.path.ends_with("trace_pods_bad_time.csv"), "{e}");
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(3), Some(21), Some("deletion_time")),
        "{e}"
    );
    assert!(
        e.message
            .contains("a pod cannot be deleted before it was created (at 30), got 25"),
        "{e}"
    );
    // The same trace replayed shuffled reads no times.
    let text = std::fs::read_to_string(fixture("trace_bad_time.yaml"))
        .unwrap()
        .replace("recorded", "shuffled");
    let path = fixture("trace_bad_time.yaml").display().to_string();
    parse_scenario(&text, &path, &is_known).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn unknown_taint_effect() {
    let e = rejected("unknown_taint_effect.yaml");
    assert_error(
        &e,
        7,
        48,
        "cluster.nodePools[0].taints[0].effect",
        "unknown taint effect \"NoScheduel\"",
    );
    assert!(e.message.contains("did you mean NoSchedule?"), "{e}");
}

#[test]
fn unknown_selector_operator() {
    let e = rejected("unknown_selector_operator.yaml");
    let field = "workloads[0].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution\
                 .nodeSelectorTerms[0].matchExpressions[0].operator";
    assert_error(&e, 11, 29, field, "unknown selector operator \"Equals\"");
    assert!(
        e.message
            .contains("In, NotIn, Exists, DoesNotExist, Gt or Lt"),
        "{e}"
    );
}

#[test]
fn missing_topology_key() {
    let e = rejected("missing_topology_key.yaml");
    assert_error(
        &e,
        8,
        13,
        "workloads[0].affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
        "missing required field `topologyKey`",
    );
}

#[test]
fn bad_when_unsatisfiable() {
    let e = rejected("bad_when_unsatisfiable.yaml");
    assert_error(
        &e,
        8,
        28,
        "workloads[0].topologySpreadConstraints[0].whenUnsatisfiable",
        "unknown whenUnsatisfiable \"DoNotScheduel\" (did you mean DoNotSchedule?); expected DoNotSchedule or ScheduleAnyway",
    );
}

#[test]
fn unknown_priority_class() {
    let e = rejected("unknown_priority_class.yaml");
    assert_error(
        &e,
        7,
        24,
        "workloads[0].priorityClassName",
        "unknown priority class \"hight\" (did you mean high?)",
    );
    assert!(
        e.message.contains(
            "the known classes are high, low, system-cluster-critical, system-node-critical"
        ),
        "{e}"
    );
}

#[test]
fn two_global_default_classes() {
    let e = rejected("two_global_defaults.yaml");
    assert_error(
        &e,
        8,
        20,
        "priorityClasses[1].globalDefault",
        "normal (priorityClasses[0] (line 3)) is already the global default",
    );
}

#[test]
fn priority_conflicts_with_class() {
    let e = rejected("priority_conflict.yaml");
    assert_error(
        &e,
        7,
        15,
        "workloads[0].priority",
        "priority 100 conflicts with priorityClassName high, whose value is 1000",
    );
}

#[test]
fn duplicate_workload_name() {
    let e = rejected("duplicate_workload.yaml");
    assert_error(
        &e,
        6,
        12,
        "workloads[2].batch",
        "duplicate workload name \"web\"",
    );
    assert!(e.message.contains("workloads[0] (line 3)"), "{e}");
}

#[test]
fn duplicate_node_name() {
    let e = rejected("duplicate_node.yaml");
    assert_error(
        &e,
        6,
        13,
        "cluster.nodes[0].name",
        "duplicate node name \"general-1\"",
    );
    assert!(e.message.contains("node pool \"general\" (line 4)"), "{e}");
}

#[test]
fn bad_distribution() {
    let e = rejected("bad_distribution.yaml");
    assert_error(
        &e,
        5,
        46,
        "workloads[0].duration.max",
        "max must not be smaller than min (10m)",
    );
}

#[test]
fn too_many_extended_resources() {
    let e = rejected("too_many_extended.yaml");
    assert_error(
        &e,
        10,
        9,
        "cluster.nodes[0].allocatable[\"example.com/e\"]",
        "at most 4 are supported",
    );
}

#[test]
fn duplicate_key() {
    let e = rejected("duplicate_key.yaml");
    assert_error(&e, 4, 1, "name", "duplicate key `name`");
}

#[test]
fn malformed_yaml() {
    let e = rejected("syntax_error.yaml");
    assert_eq!(e.field, None, "{e}");
    assert!(
        e.line.is_some() && e.column.is_some(),
        "a syntax error has a position: {e}"
    );
    assert!(e.to_string().contains("syntax_error.yaml:"), "{e}");
    assert!(!e.message.is_empty());
}

#[test]
fn empty_file() {
    let e = rejected("empty.yaml");
    assert_eq!((e.line, e.column, e.field.as_deref()), (None, None, None));
    assert!(e.message.contains("empty"), "{e}");
    let blank = parse_scenario("", "blank.yaml", &is_known).unwrap_err();
    assert!(
        blank
            .to_string()
            .starts_with("blank.yaml: the scenario file is empty"),
        "{blank}"
    );
}

#[test]
fn missing_file() {
    let path = fixture("no_such_file.yaml");
    let e = load_scenario(&path, &is_known).unwrap_err();
    assert_eq!(e.path, path.display().to_string());
    assert_eq!((e.line, e.column, e.field.as_deref()), (None, None, None));
    assert!(
        e.message.starts_with("cannot read the scenario file: "),
        "{e}"
    );
    // The OS's words for it, whatever the platform says.
    let os = std::io::Error::from(std::io::ErrorKind::NotFound).to_string();
    assert!(
        e.message.contains("No such file") || e.message.contains(&os),
        "{e}"
    );

    let dir = load_scenario(&fixture(""), &is_known).unwrap_err();
    assert!(
        dir.message.starts_with("cannot read the scenario file: "),
        "{dir}"
    );
}

/// More rejections, inline: each is one line of a file that is otherwise fine.
#[test]
fn inline_rejections() {
    let cases: &[(&str, u64, u64, &str, &str)] = &[
        (
            "seed: -3",
            1,
            7,
            "seed",
            "expected a non-negative integer, got -3",
        ),
        (
            "sampleInterval: 0s",
            1,
            17,
            "sampleInterval",
            "longer than zero",
        ),
        ("name: a/b", 1, 7, "name", "without slashes"),
        (
            "schedulers: [random, random]",
            1,
            22,
            "schedulers[1]",
            "listed twice",
        ),
        (
            "cluster: {nodes: [{name: n, allocatable: {cpus: 2}}]}",
            1,
            43,
            "cluster.nodes[0].allocatable.cpus",
            "did you mean cpu?",
        ),
        (
            "workloads: [{pod: p, requests: {pods: 1}}]",
            1,
            33,
            "workloads[0].requests.pods",
            "pod slot",
        ),
        (
            "workloads: [{pod: p, requests: {cpu: \"2\"}, limits: {cpu: 1}}]",
            1,
            38,
            "workloads[0].requests.cpu",
            "larger than the limit (1)",
        ),
        (
            "workloads: [{pod: p, replicas: 2}]",
            1,
            32,
            "workloads[0].replicas",
            "applies to deployment or statefulSet workloads only",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: burst, count: 1}, at: 5s}]",
            1,
            66,
            "workloads[0].at",
            "arrivals.start",
        ),
        (
            "workloads: [{batch: b}]",
            1,
            13,
            "workloads[0].arrivals",
            "missing required field `arrivals`",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: poisson}}]",
            1,
            34,
            "workloads[0].arrivals",
            "ratePerSecond, ratePerMinute or ratePerHour",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: poisson, ratePerSecond: 1, ratePerHour: 2}}]",
            1,
            84,
            "workloads[0].arrivals.ratePerHour",
            "only one rate",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: poisson, ratePerMinute: 0}}]",
            1,
            68,
            "workloads[0].arrivals.ratePerMinute",
            "expected a positive number, got 0",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: steady, ratePerMinute: 1}}]",
            1,
            44,
            "workloads[0].arrivals.process",
            "unknown arrival process \"steady\"",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: fixed, ratePerMinute: 1, interval: 1s}}]",
            1,
            66,
            "workloads[0].arrivals.ratePerMinute",
            "does not apply to process: fixed",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: burst}}]",
            1,
            34,
            "workloads[0].arrivals.count",
            "needs `count`",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: burst, count: 2, start: 1h, stop: 1m}}]",
            1,
            78,
            "workloads[0].arrivals.stop",
            "later than start (1h)",
        ),
        (
            "workloads: [{pod: p, duration: {dist: lognormal, median: 1m, sigma: -1}}]",
            1,
            69,
            "workloads[0].duration.sigma",
            "expected a non-negative number, got -1",
        ),
        (
            "workloads: [{pod: p, duration: {dist: exponential, mean: 0s}}]",
            1,
            58,
            "workloads[0].duration.mean",
            "greater than zero",
        ),
        (
            "workloads: [{pod: p, duration: {dist: choice, values: []}}]",
            1,
            55,
            "workloads[0].duration.values",
            "at least one value",
        ),
        (
            "workloads: [{pod: p, duration: {dist: uniform, mean: 1m}}]",
            1,
            54,
            "workloads[0].duration.mean",
            "takes `min` and `max`",
        ),
        (
            "workloads: [{pod: p, duration: {dist: normal, mean: 1m}}]",
            1,
            39,
            "workloads[0].duration.dist",
            "unknown distribution \"normal\"",
        ),
        (
            "workloads: [{pod: p, duration: {dist: uniform, min: 1m}}]",
            1,
            32,
            "workloads[0].duration.max",
            "`max` is missing",
        ),
        (
            "workloads: [{pod: p, duration: [1m]}]",
            1,
            32,
            "workloads[0].duration",
            "got a list",
        ),
        (
            "workloads: [{pod: p, requests: {cpu: {dist: choice, values: [1]}}}]",
            1,
            38,
            "workloads[0].requests.cpu",
            "only allowed in a batch",
        ),
        (
            "workloads: [{pod: p, requests: {cpu: 1}, containers: [{name: c}]}]",
            1,
            54,
            "workloads[0].containers",
            "cannot be combined",
        ),
        (
            "workloads: [{pod: p, containers: [{name: c}], initContainers: [{name: c}]}]",
            1,
            71,
            "workloads[0].initContainers[0].name",
            "duplicate container name \"c\"",
        ),
        (
            "workloads: [{pod: p, containers: [{requests: {cpu: 1}}]}]",
            1,
            36,
            "workloads[0].containers[0].name",
            "missing required field `name`",
        ),
        (
            "workloads: [{pod: p, priority: 3000000000}]",
            1,
            32,
            "workloads[0].priority",
            "expected an integer from -2147483648 to 2147483647, got 3000000000",
        ),
        (
            "workloads: [{pod: p, tolerations: [{operator: Maybe}]}]",
            1,
            47,
            "workloads[0].tolerations[0].operator",
            "expected Equal or Exists",
        ),
        (
            "workloads: [{pod: p, tolerations: [{value: x}]}]",
            1,
            36,
            "workloads[0].tolerations[0].key",
            "operator: Exists",
        ),
        (
            "workloads: [{pod: p, tolerations: [{key: k, operator: Exists, value: v}]}]",
            1,
            70,
            "workloads[0].tolerations[0].value",
            "takes no value",
        ),
        (
            "workloads: [{pod: p, tolerations: [{key: k, effect: NoSchedule, tolerationSeconds: 5}]}]",
            1,
            84,
            "workloads[0].tolerations[0].tolerationSeconds",
            "only applies to effect: NoExecute",
        ),
        (
            "workloads: [{pod: p, affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, preference: {}}]}}}]",
            1,
            107,
            "workloads[0].affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
            "expected an integer from 1 to 100, got 0",
        ),
        (
            "workloads: [{pod: p, affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: Gt, values: [big]}]}]}}}}]",
            1,
            169,
            "workloads[0].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]",
            "expected an integer, got big",
        ),
        (
            "workloads: [{pod: p, affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: In}]}]}}}}]",
            1,
            137,
            "workloads[0].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values",
            "needs at least one value",
        ),
        (
            "workloads: [{pod: p, affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}}}]",
            1,
            116,
            "workloads[0].affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
            "at least one node selector term",
        ),
        (
            "cluster: {nodePools: [{name: a, count: 1}, {name: a, count: 1}]}",
            1,
            51,
            "cluster.nodePools[1].name",
            "duplicate node pool name \"a\"",
        ),
        (
            "cluster: {nodePools: [{name: a}]}",
            1,
            23,
            "cluster.nodePools[0].count",
            "missing required field `count`",
        ),
        (
            "cluster: {nodePools: [{name: a, count: 2000000}]}",
            1,
            40,
            "cluster.nodePools[0].count",
            "at most 1000000",
        ),
        (
            "cluster: {nodePools: [{name: a, count: 1, unschedulable: maybe}]}",
            1,
            58,
            "cluster.nodePools[0].unschedulable",
            "expected true or false, got maybe",
        ),
        (
            "cluster: {nodes: [{name: a, count: 1}]}",
            1,
            29,
            "cluster.nodes[0].count",
            "unknown field `count`",
        ),
        (
            "cluster: {nodePools: [{name: a, count: 1, allocatable: {memory: 1.5.3Gi}}]}",
            1,
            65,
            "cluster.nodePools[0].allocatable.memory",
            "more than one decimal point",
        ),
        ("- a\n- b", 1, 1, "", "expected a mapping, got a list"),
        (
            "name: x\n---\nname: y\n",
            3,
            1,
            "",
            "more than one YAML document",
        ),
    ];
    check_inline(cases);
}

/// Parses each case's text, which must be rejected at `line:column` in `field` (empty for
/// none) with `phrase` in the message. Every case is checked before failing, so one run
/// shows all mismatches.
#[track_caller]
fn check_inline(cases: &[(&str, u64, u64, &str, &str)]) {
    let mut failures = Vec::new();
    for &(text, line, column, field, phrase) in cases {
        let e = match parse_scenario(text, "inline.yaml", &is_known) {
            Ok(_) => {
                failures.push(format!("accepted: {text}"));
                continue;
            }
            Err(e) => e,
        };
        let want_field = (!field.is_empty()).then_some(field);
        if (e.line, e.column, e.field.as_deref()) != (Some(line), Some(column), want_field)
            || !e.message.contains(phrase)
        {
            failures.push(format!(
                "for {text:?}\n  want {line}:{column} {field:?} {phrase:?}\n  got  {e}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Rejections of a Job's fields (`job:` workloads), one bad value each.
#[test]
fn job_rejections() {
    check_inline(&[
        (
            "workloads: [{job: j, completions: -1}]",
            1,
            35,
            "workloads[0].completions",
            "expected a non-negative integer, got -1",
        ),
        (
            "workloads: [{job: j, parallelism: x}]",
            1,
            35,
            "workloads[0].parallelism",
            "expected a non-negative integer",
        ),
        (
            "workloads: [{job: j, backoffLimit: 1.5}]",
            1,
            36,
            "workloads[0].backoffLimit",
            "expected a non-negative integer",
        ),
        (
            "workloads: [{job: j, activeDeadlineSeconds: 0}]",
            1,
            45,
            "workloads[0].activeDeadlineSeconds",
            "expected a positive integer",
        ),
        (
            "workloads: [{job: j, restartPolicy: Always}]",
            1,
            37,
            "workloads[0].restartPolicy",
            "supported values: \"OnFailure\", \"Never\"",
        ),
        (
            "workloads: [{job: j, failureProbability: 2}]",
            1,
            42,
            "workloads[0].failureProbability",
            "expected a probability from 0 to 1, got 2",
        ),
        (
            "workloads: [{job: j, failureProbability: -0.1}]",
            1,
            42,
            "workloads[0].failureProbability",
            "expected a non-negative number",
        ),
        (
            "workloads: [{batch: b, arrivals: {process: burst}, backoffLimit: 1}]",
            1,
            66,
            "workloads[0].backoffLimit",
            "applies to job workloads only, not to a batch",
        ),
        (
            "workloads: [{job: j, arrivals: {process: burst}}]",
            1,
            32,
            "workloads[0].arrivals",
            "applies to batch workloads only, not to a job",
        ),
    ]);
}

/// Rejections of topology spread constraints, one rule each.
#[test]
fn spread_constraint_rejections() {
    check_inline(&[
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}]",
            1,
            60,
            "workloads[0].topologySpreadConstraints[0].maxSkew",
            "expected an integer from 1 to 2147483647, got 0",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, minDomains: 2}]}]",
            1,
            129,
            "workloads[0].topologySpreadConstraints[0].minDomains",
            "minDomains only applies to whenUnsatisfiable: DoNotSchedule, not ScheduleAnyway",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, minDomains: 0}]}]",
            1,
            128,
            "workloads[0].topologySpreadConstraints[0].minDomains",
            "expected an integer from 1 to 2147483647, got 0",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}]",
            1,
            50,
            "workloads[0].topologySpreadConstraints[0].maxSkew",
            "missing required field `maxSkew`",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone}]}]",
            1,
            50,
            "workloads[0].topologySpreadConstraints[0].whenUnsatisfiable",
            "missing required field `whenUnsatisfiable`",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, whenUnsatisfiable: DoNotSchedule}]}]",
            1,
            50,
            "workloads[0].topologySpreadConstraints[0].topologyKey",
            "missing required field `topologyKey`",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: \"\", whenUnsatisfiable: DoNotSchedule}]}]",
            1,
            76,
            "workloads[0].topologySpreadConstraints[0].topologyKey",
            "got an empty string",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}, {maxSkew: 2, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}]}]",
            1,
            143,
            "workloads[0].topologySpreadConstraints[1].topologyKey",
            "workloads[0].topologySpreadConstraints[0] (line 1) already spreads over zone with whenUnsatisfiable: DoNotSchedule",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: honor}]}]",
            1,
            134,
            "workloads[0].topologySpreadConstraints[0].nodeTaintsPolicy",
            "unknown policy \"honor\" (did you mean Honor?); expected Honor or Ignore",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, matchLabelKeys: [pod-template-hash]}]}]",
            1,
            132,
            "workloads[0].topologySpreadConstraints[0].matchLabelKeys",
            "`matchLabelKeys` needs a `labelSelector`",
        ),
        (
            "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}, matchLabelKeys: [app]}]}]",
            1,
            175,
            "workloads[0].topologySpreadConstraints[0].matchLabelKeys[0]",
            "label key \"app\" is also in labelSelector",
        ),
    ]);
}

/// Rejections of inter-pod affinity and anti-affinity, one rule each.
#[test]
fn pod_affinity_rejections() {
    check_inline(&[
        (
            "workloads: [{pod: p, affinity: {podAntiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 0, podAffinityTerm: {topologyKey: zone}}]}}}]",
            1,
            110,
            "workloads[0].affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
            "expected an integer from 1 to 100, got 0",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 101, podAffinityTerm: {topologyKey: zone}}]}}}]",
            1,
            106,
            "workloads[0].affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
            "expected an integer from 1 to 100, got 101",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 5}]}}}]",
            1,
            98,
            "workloads[0].affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm",
            "missing required field `podAffinityTerm`",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: a/b/c}]}}}]",
            1,
            110,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
            "invalid label key \"a/b/c\": a label key has at most one `/`",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchExpressions: [{key: n, operator: Gt, values: [\"1\"]}]}}]}}}]",
            1,
            170,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator",
            "operator Gt only applies to node selectors; a label selector takes In, NotIn, Exists or DoesNotExist",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchExpressions: [{key: app, operator: Exists, values: [web]}]}}]}}}]",
            1,
            188,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values",
            "operator Exists takes no values",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchExpressions: [{key: app, operator: In}]}}]}}}]",
            1,
            151,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values",
            "operator In needs at least one value",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: \"web server\"}}}]}}}]",
            1,
            151,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels.app",
            "invalid label value \"web server\"",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, namespaces: [shop, Cache]}]}}}]",
            1,
            135,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespaces[1]",
            "invalid namespace name \"Cache\"",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, matchLabelKeys: [app]}]}}}]",
            1,
            132,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].matchLabelKeys",
            "`matchLabelKeys` needs a `labelSelector`",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchExpressions: [{key: app, operator: Exists}]}, matchLabelKeys: [app]}]}}}]",
            1,
            200,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].matchLabelKeys[0]",
            "label key \"app\" is also in labelSelector",
        ),
        (
            "workloads: [{pod: p, affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {}, matchLabelKeys: [version], mismatchLabelKeys: [tenant, version]}]}}}]",
            1,
            194,
            "workloads[0].affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].mismatchLabelKeys[1]",
            "label key \"version\" is also in matchLabelKeys[0]",
        ),
        (
            "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, namespace: shop}]}}}]",
            1,
            116,
            "workloads[0].affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].namespace",
            "unknown field `namespace` (did you mean `namespaces`?)",
        ),
    ]);
}

/// Rejections of priority classes and of how workloads use them, one rule each.
#[test]
fn priority_class_rejections() {
    check_inline(&[
        (
            "priorityClasses: [{name: system-high, value: 1}]",
            1,
            26,
            "priorityClasses[0].name",
            "names starting with `system-` are reserved",
        ),
        (
            "priorityClasses: [{name: huge, value: 2000000000}]",
            1,
            39,
            "priorityClasses[0].value",
            "at most 1000000000",
        ),
        (
            "priorityClasses: [{name: a, value: 1}, {name: a, value: 2}]",
            1,
            47,
            "priorityClasses[1].name",
            "duplicate priority class name \"a\": priorityClasses[0] (line 1) already declares it",
        ),
        (
            "priorityClasses: [{name: a}]",
            1,
            19,
            "priorityClasses[0].value",
            "missing required field `value`",
        ),
        (
            "priorityClasses: [{name: High, value: 1}]",
            1,
            26,
            "priorityClasses[0].name",
            "invalid priority class name \"High\"",
        ),
        (
            "priorityClasses: [{name: a, value: 1, preemptionPolicy: never}]",
            1,
            57,
            "priorityClasses[0].preemptionPolicy",
            "unknown preemption policy \"never\" (did you mean Never?)",
        ),
        (
            "priorityClasses: [{name: a, value: 1, globalDefault: maybe}]",
            1,
            54,
            "priorityClasses[0].globalDefault",
            "expected true or false, got maybe",
        ),
        (
            "workloads: [{pod: p, priorityClassName: \"\"}]",
            1,
            41,
            "workloads[0].priorityClassName",
            "expected a priority class name, got an empty string",
        ),
        (
            "workloads: [{pod: p, priorityClassName: high}]",
            1,
            41,
            "workloads[0].priorityClassName",
            "the known classes are system-cluster-critical, system-node-critical",
        ),
        (
            "workloads: [{pod: p, preemptionPolicy: Sometimes}]",
            1,
            40,
            "workloads[0].preemptionPolicy",
            "unknown preemption policy \"Sometimes\"; expected PreemptLowerPriority or Never",
        ),
        (
            "priorityClasses: [{name: a, value: 1}]\nworkloads: [{pod: p, priorityClassName: a, preemptionPolicy: Never}]",
            2,
            62,
            "workloads[0].preemptionPolicy",
            "preemptionPolicy Never conflicts with priorityClassName a, whose preemptionPolicy is PreemptLowerPriority (the default)",
        ),
        (
            "priorityClasses: [{name: a, value: 10, globalDefault: true}]\nworkloads: [{pod: p, priority: 5}]",
            2,
            32,
            "workloads[0].priority",
            "priority 5 conflicts with the globalDefault priority class a",
        ),
        (
            "workloads: [{pod: p, priority: 5, priorityClassName: system-node-critical}]",
            1,
            32,
            "workloads[0].priority",
            "whose value is 2000001000",
        ),
    ]);
}

/// Garbage never panics the loader, and every rejection still says where.
#[test]
fn garbage_is_rejected_not_panicked_on() {
    let inputs = [
        "\0",
        "\t- x",
        "a: [1,",
        "{",
        "]",
        ":",
        "cluster: &a [*a]",
        "workloads: [{pod: p, duration: .inf}]",
        "workloads: [{pod: p, duration: 1e400}]",
        "workloads: [{pod: p, requests: {cpu: 99999999999999999999999}}]",
        "cluster: {nodePools: [{name: \"\", count: 1}]}",
        "workloads: [{pod: ~}]",
        "workloads: [{batch: b, arrivals: {process: poisson, ratePerSecond: .nan}}]",
        "workloads: [~]",
        "workloads: 5",
        "seed: 1.5",
        "? [a, b]\n: c",
        "a: *nope",
        "priorityClasses: [~]",
        "priorityClasses: [{name: a, value: 1, globalDefault: ~}]",
        "workloads: [{pod: p, priorityClassName: ~}]",
        "workloads: [{pod: p, topologySpreadConstraints: [~, {}]}]",
        "workloads: [{pod: p, topologySpreadConstraints: [{maxSkew: 99999999999, topologyKey: z, whenUnsatisfiable: DoNotSchedule}]}]",
        "workloads: [{pod: p, affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: \"é/é\", labelSelector: {matchLabels: {\"\": \"\"}}}]}}}]",
        "workloads: [{pod: p, affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: z, labelSelector: ~, mismatchLabelKeys: [~]}]}}}]",
        "workloads: [{trace: ~}]",
        "workloads: [{trace: {format: ~, pods: ~}}]",
        "workloads: [{trace: {format: alibaba-gpu-v2023, pods: '', timing: recorded}}]",
        "workloads: [{trace: {format: alibaba-gpu-v2023, pods: p.csv, timing: [recorded]}}]",
        "workloads: [{trace: {format: alibaba-gpu-v2023, pods: p.csv, timing: shuffled, demand: .nan}}]",
        "workloads: [{trace: {format: alibaba-gpu-v2023, pods: p.csv, timing: shuffled, demand: 1e400}}]",
        "workloads: [{trace: {format: alibaba-gpu-v2023, pods: p.csv, timing: shuffled, interval: -1s}}]",
        "cluster: {trace: ~}",
        "cluster: {trace: {format: alibaba-gpu-v2023, nodes: ''}}",
        "cluster: {trace: {format: alibaba-gpu-v2023, nodes: n.csv, gpuNodesOnly: maybe}}",
        "queue: 5",
        "queue: {maxAttempts: -1}",
        "queue: {maxAttempts: 99999999999999999999999}",
        "gpuFill: {step: .nan, demand: 1e400}",
        "gpuFill: []",
    ];
    for text in inputs {
        if let Err(e) = parse_scenario(text, "garbage.yaml", &is_known) {
            assert!(!e.message.is_empty(), "{text:?}");
            assert_eq!(e.path, "garbage.yaml");
        }
    }
}

const GOOD: &str = r#"
name: tutorial
description: |
  Three general nodes and a GPU node.
seed: 42
duration: 2h
sampleInterval: 30s
startLatency: 500ms
schedulers: [first-fit, least-allocated]
cluster:
  nodePools:
    - name: general
      count: 3
      allocatable: {cpu: "4", memory: 16Gi, ephemeral-storage: 100Gi}
      labels: {topology.kubernetes.io/zone: a}
  nodes:
    - name: gpu-1
      allocatable: {cpu: 8, memory: 64Gi, pods: 32, nvidia.com/gpu: 2}
      taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
      unschedulable: true
workloads:
  - pod: web
    at: 5s
    namespace: shop
    labels: {app: web}
    priority: 100
    requests: {cpu: 0.5, memory: 256Mi}
    limits: {cpu: 1, memory: 512Mi}
    overhead: {cpu: 10m}
    nodeSelector: {topology.kubernetes.io/zone: a}
    nodeName: general-0
    duration: 10m
  - pod: worker
    count: 2
  - deployment: cart
    replicas: 3
    at: 1m
    tolerations:
      - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
      - {operator: Exists}
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 300}
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
            - matchExpressions:
                - {key: topology.kubernetes.io/zone, operator: In, values: [a, b]}
              matchFields:
                - {key: metadata.name, operator: NotIn, values: [gpu-1]}
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 20
            preference:
              matchExpressions: [{key: disk, operator: Exists}]
    containers:
      - name: app
        requests: {cpu: 250m, memory: 128Mi}
        limits: {memory: 256Mi}
      - name: sidecar
        requests: {cpu: 50m}
    initContainers:
      - name: migrate
        requests: {cpu: "1"}
  - batch: etl
    arrivals: {process: poisson, ratePerMinute: 6, start: 1m, stop: 1h, count: 100}
    duration: {dist: lognormal, median: 10m, sigma: 0.8}
    requests:
      cpu: {dist: choice, values: [250m, 500m, "1", "2", "4"]}
      memory: 1Gi
      nvidia.com/gpu: {dist: uniform, min: 0, max: 1}
  - batch: nightly
    arrivals: {process: fixed, interval: 24h}
    duration: {dist: exponential, mean: 1h}
  - batch: storm
    arrivals: {process: burst, count: 50}
    duration: {dist: uniform, min: 1m, max: 5m}
  - batch: mixed
    arrivals: {process: poisson, ratePerHour: 36}
    duration: {dist: choice, values: [1m, 5m]}
"#;

fn parse_good() -> Scenario {
    match parse_scenario(GOOD, "scenarios/tutorial.yaml", &is_known) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn good_scenario_settings() {
    let s = parse_good();
    assert_eq!(s.name, "tutorial");
    assert_eq!(s.description, "Three general nodes and a GPU node.");
    assert_eq!(s.path, Some(PathBuf::from("scenarios/tutorial.yaml")));
    assert_eq!(s.seed, 42);
    assert_eq!(s.duration, Some(SimTime::from_secs(7200)));
    assert_eq!(s.sample_interval, SimTime::from_secs(30));
    assert_eq!(s.start_latency, SimTime::from_millis(500));
    let labels: Vec<&str> = s.schedulers.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["first-fit", "least-allocated"]);
}

#[test]
fn good_scenario_nodes() {
    let s = parse_good();
    let gpu = s
        .resource_names
        .lookup("nvidia.com/gpu")
        .expect("gpu interned");
    assert_eq!(
        gpu.index(),
        4,
        "the first extended resource takes the first extended slot"
    );
    let names: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["general-0", "general-1", "general-2", "gpu-1"]);

    let general = &s.nodes[1];
    assert_eq!(general.allocatable.cpu(), 4000);
    assert_eq!(general.allocatable.memory(), 16 << 30);
    assert_eq!(
        general.allocatable.get(ResourceKind::EPHEMERAL_STORAGE),
        100 << 30
    );
    assert_eq!(general.allocatable.pods(), 110, "pods default to 110");
    assert_eq!(general.allocatable.get(gpu), 0);
    assert_eq!(general.labels.get("topology.kubernetes.io/zone"), Some("a"));
    assert!(general.taints.is_empty() && !general.unschedulable);

    let node = &s.nodes[3];
    assert_eq!(
        (
            node.allocatable.cpu(),
            node.allocatable.pods(),
            node.allocatable.get(gpu)
        ),
        (8000, 32, 2)
    );
    assert_eq!(
        node.taints,
        [Taint {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: TaintEffect::NoSchedule
        }]
    );
    assert!(node.unschedulable);
}

#[test]
fn good_scenario_pods_and_deployments() {
    let s = parse_good();
    let web = &s.workloads[0];
    assert_eq!(
        web.kind,
        WorkloadKind::Pods {
            at: SimTime::from_secs(5),
            count: 1
        }
    );
    let t = &web.template;
    assert_eq!(
        (t.name.as_str(), t.namespace.as_str(), t.priority),
        ("web", "shop", 100)
    );
    assert!(
        t.singleton,
        "a lone pod is named exactly after the workload"
    );
    assert_eq!(t.owner, OwnerKind::None);
    assert_eq!(t.labels.get("app"), Some("web"));
    assert_eq!(t.containers.len(), 1);
    let c = &t.containers[0];
    assert_eq!(c.name, "web");
    assert_eq!((c.requests.cpu(), c.requests.memory()), (500, 256 << 20));
    assert_eq!((c.limits.cpu(), c.limits.memory()), (1000, 512 << 20));
    assert!(c.has_request(ResourceKind::CPU) && !c.has_request(ResourceKind::EPHEMERAL_STORAGE));
    assert_eq!(t.overhead.cpu(), 10);
    assert_eq!(
        t.node_selector.get("topology.kubernetes.io/zone"),
        Some("a")
    );
    assert_eq!(t.node_name.as_deref(), Some("general-0"));
    assert_eq!(web.duration, Some(Dist::Constant(SimTime::from_secs(600))));
    assert!(web.sized.is_empty());

    let worker = &s.workloads[1];
    assert_eq!(
        worker.kind,
        WorkloadKind::Pods {
            at: SimTime::ZERO,
            count: 2
        }
    );
    assert!(!worker.template.singleton);
    assert_eq!(worker.template.namespace, "default");
    assert_eq!(worker.duration, None, "no duration: runs until the end");
    assert_eq!(
        worker.template.containers.len(),
        1,
        "one empty container named after the workload"
    );

    let cart = &s.workloads[2];
    assert_eq!(
        cart.kind,
        WorkloadKind::Deployment {
            at: SimTime::from_secs(60),
            replicas: 3
        }
    );
    let t = &cart.template;
    assert_eq!(t.owner, OwnerKind::ReplicaSet);
    assert!(!t.singleton);
    assert_eq!(
        t.tolerations,
        [
            Toleration {
                key: "dedicated".into(),
                operator: TolerationOperator::Equal,
                value: "gpu".into(),
                effect: Some(TaintEffect::NoSchedule),
                toleration_seconds: None,
            },
            Toleration {
                operator: TolerationOperator::Exists,
                ..Default::default()
            },
            Toleration {
                key: "node.kubernetes.io/unreachable".into(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: Some(TaintEffect::NoExecute),
                toleration_seconds: Some(300),
            },
        ]
    );
    let req = |key: &str, operator, values: &[&str]| SelectorRequirement {
        key: key.into(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    assert_eq!(
        t.node_affinity,
        Some(NodeAffinity {
            required: Some(vec![NodeSelectorTerm {
                match_expressions: vec![req(
                    "topology.kubernetes.io/zone",
                    SelectorOperator::In,
                    &["a", "b"]
                )],
                match_fields: vec![req("metadata.name", SelectorOperator::NotIn, &["gpu-1"])],
            }]),
            preferred: vec![PreferredTerm {
                weight: 20,
                preference: NodeSelectorTerm {
                    match_expressions: vec![req("disk", SelectorOperator::Exists, &[])],
                    match_fields: vec![],
                },
            }],
        })
    );
    let names: Vec<&str> = t.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["app", "sidecar"]);
    assert_eq!(t.containers[0].limits.memory(), 256 << 20);
    assert!(!t.containers[0].has_limit(ResourceKind::CPU));
    assert_eq!(t.containers[1].requests.cpu(), 50);
    assert_eq!(t.init_containers.len(), 1);
    assert_eq!(
        (
            t.init_containers[0].name.as_str(),
            t.init_containers[0].requests.cpu()
        ),
        ("migrate", 1000)
    );
    assert_eq!(
        t.effective_requests().cpu(),
        1000,
        "the init container dominates"
    );
}

#[test]
fn good_scenario_batches() {
    let s = parse_good();
    let gpu = s
        .resource_names
        .lookup("nvidia.com/gpu")
        .expect("gpu interned");
    let etl = &s.workloads[3];
    assert_eq!(
        etl.kind,
        WorkloadKind::Batch {
            arrivals: Arrivals {
                process: ArrivalProcess::Poisson {
                    rate_per_second: 0.1
                },
                start: SimTime::from_secs(60),
                stop: Some(SimTime::from_secs(3600)),
                count: Some(100),
            }
        }
    );
    assert_eq!(etl.template.owner, OwnerKind::Job);
    assert_eq!(
        etl.duration,
        Some(Dist::LogNormal {
            median: SimTime::from_secs(600),
            sigma: 0.8
        })
    );
    assert_eq!(
        etl.sized,
        [
            (
                ResourceKind::CPU,
                Dist::Choice(vec![250, 500, 1000, 2000, 4000])
            ),
            (gpu, Dist::Uniform { min: 0, max: 1 }),
        ]
    );
    let c = &etl.template.containers[0];
    assert_eq!(c.name, "etl");
    assert_eq!(
        c.requests.memory(),
        1 << 30,
        "constant requests stay in the template"
    );
    assert!(
        !c.has_request(ResourceKind::CPU),
        "sized kinds are drawn per pod"
    );

    let nightly = &s.workloads[4];
    assert!(matches!(
        &nightly.kind,
        WorkloadKind::Batch { arrivals } if arrivals.process == ArrivalProcess::Fixed { interval: SimTime::from_secs(86_400) }
            && arrivals.start == SimTime::ZERO && arrivals.stop.is_none() && arrivals.count.is_none()
    ));
    assert_eq!(
        nightly.duration,
        Some(Dist::Exponential {
            mean: SimTime::from_secs(3600)
        })
    );

    let storm = &s.workloads[5];
    assert!(matches!(
        &storm.kind,
        WorkloadKind::Batch { arrivals } if arrivals.process == ArrivalProcess::Burst && arrivals.count == Some(50)
    ));
    assert_eq!(
        storm.duration,
        Some(Dist::Uniform {
            min: SimTime::from_secs(60),
            max: SimTime::from_secs(300)
        })
    );

    let mixed = &s.workloads[6];
    match &mixed.kind {
        WorkloadKind::Batch {
            arrivals:
                Arrivals {
                    process: ArrivalProcess::Poisson { rate_per_second },
                    ..
                },
        } => {
            assert!(
                (rate_per_second - 0.01).abs() < 1e-12,
                "36 per hour is 0.01 per second"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        mixed.duration,
        Some(Dist::Choice(vec![
            SimTime::from_secs(60),
            SimTime::from_secs(300)
        ]))
    );
}

/// Inter-pod affinity, anti-affinity and spread constraints with every field Kubernetes has.
const PLACEMENT: &str = r#"
workloads:
  - deployment: web
    replicas: 3
    namespace: shop
    labels: {app: web, version: v2}
    affinity:
      podAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: {app: cache}
              matchExpressions:
                - {key: tier, operator: In, values: [front, edge]}
                - {key: canary, operator: DoesNotExist}
            namespaces: [shop, cache]
            topologyKey: topology.kubernetes.io/zone
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              labelSelector: {}
              namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
              topologyKey: kubernetes.io/hostname
              matchLabelKeys: [version]
              mismatchLabelKeys: [tenant]
      podAntiAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchExpressions: [{key: app, operator: NotIn, values: [batch]}]
            namespaceSelector: {}
            topologyKey: kubernetes.io/hostname
            mismatchLabelKeys: [app]
        preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 1
            podAffinityTerm:
              topologyKey: topology.kubernetes.io/zone
    topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: web}}
        minDomains: 3
        nodeAffinityPolicy: Ignore
        nodeTaintsPolicy: Honor
        matchLabelKeys: [pod-template-hash]
      - maxSkew: 2
        topologyKey: topology.kubernetes.io/zone
        whenUnsatisfiable: ScheduleAnyway
  - pod: plain
  - pod: empty
    affinity: {podAffinity: {}, podAntiAffinity: {}}
    topologySpreadConstraints: []
"#;

#[test]
fn pod_affinity_and_spread_round_trip() {
    let s =
        parse_scenario(PLACEMENT, "placement.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"));
    let req = |key: &str, operator, values: &[&str]| SelectorRequirement {
        key: key.into(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    };
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let t = &s.workloads[0].template;
    assert_eq!(
        t.pod_affinity,
        Some(PodAffinity {
            required: vec![PodAffinityTerm {
                label_selector: Some(LabelSelector {
                    match_labels: Labels::new([("app", "cache")]),
                    match_expressions: vec![
                        req("tier", SelectorOperator::In, &["front", "edge"]),
                        req("canary", SelectorOperator::DoesNotExist, &[]),
                    ],
                }),
                namespaces: strings(&["shop", "cache"]),
                namespace_selector: None,
                topology_key: "topology.kubernetes.io/zone".into(),
                match_label_keys: vec![],
                mismatch_label_keys: vec![],
            }],
            preferred: vec![WeightedPodAffinityTerm {
                weight: 100,
                term: PodAffinityTerm {
                    label_selector: Some(LabelSelector::default()),
                    namespaces: vec![],
                    namespace_selector: Some(LabelSelector {
                        match_labels: Labels::new([("kubernetes.io/metadata.name", "shop")]),
                        match_expressions: vec![],
                    }),
                    topology_key: "kubernetes.io/hostname".into(),
                    match_label_keys: strings(&["version"]),
                    mismatch_label_keys: strings(&["tenant"]),
                },
            }],
        })
    );
    assert_eq!(
        t.pod_anti_affinity,
        Some(PodAffinity {
            required: vec![PodAffinityTerm {
                label_selector: Some(LabelSelector {
                    match_labels: Labels::default(),
                    match_expressions: vec![req("app", SelectorOperator::NotIn, &["batch"])],
                }),
                namespaces: vec![],
                namespace_selector: Some(LabelSelector::default()),
                topology_key: "kubernetes.io/hostname".into(),
                match_label_keys: vec![],
                // Unlike matchLabelKeys, a mismatch key may also be in the selector.
                mismatch_label_keys: strings(&["app"]),
            }],
            preferred: vec![WeightedPodAffinityTerm {
                weight: 1,
                term: PodAffinityTerm {
                    label_selector: None,
                    namespaces: vec![],
                    namespace_selector: None,
                    topology_key: "topology.kubernetes.io/zone".into(),
                    match_label_keys: vec![],
                    mismatch_label_keys: vec![],
                },
            }],
        })
    );
    assert_eq!(
        t.topology_spread_constraints,
        [
            TopologySpreadConstraint {
                max_skew: 1,
                topology_key: "topology.kubernetes.io/zone".into(),
                when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                label_selector: Some(LabelSelector {
                    match_labels: Labels::new([("app", "web")]),
                    match_expressions: vec![],
                }),
                min_domains: Some(3),
                node_affinity_policy: InclusionPolicy::Ignore,
                node_taints_policy: InclusionPolicy::Honor,
                match_label_keys: strings(&["pod-template-hash"]),
            },
            TopologySpreadConstraint {
                max_skew: 2,
                topology_key: "topology.kubernetes.io/zone".into(),
                when_unsatisfiable: WhenUnsatisfiable::ScheduleAnyway,
                label_selector: None,
                min_domains: None,
                // The defaults.
                node_affinity_policy: InclusionPolicy::Honor,
                node_taints_policy: InclusionPolicy::Ignore,
                match_label_keys: vec![],
            },
        ]
    );

    let plain = &s.workloads[1].template;
    assert_eq!(plain.pod_affinity, None);
    assert_eq!(plain.pod_anti_affinity, None);
    assert!(plain.topology_spread_constraints.is_empty());

    let empty = &s.workloads[2].template;
    assert_eq!(empty.pod_affinity, Some(PodAffinity::default()));
    assert_eq!(empty.pod_anti_affinity, Some(PodAffinity::default()));
    assert!(empty.topology_spread_constraints.is_empty());
}

/// Priority classes with every field, and workloads resolving them in each way.
const PRIORITIES: &str = r#"
priorityClasses:
  - name: critical
    value: 1000000
    preemptionPolicy: PreemptLowerPriority
    description: Customer-facing services.
  - name: batch
    value: -5
    preemptionPolicy: Never
  - name: normal
    value: 100
    globalDefault: true
workloads:
  - pod: defaulted
  - pod: named
    priorityClassName: critical
    priority: 1000000
    preemptionPolicy: PreemptLowerPriority
  - pod: never
    priorityClassName: batch
  - pod: system
    priorityClassName: system-node-critical
  - pod: cluster
    priorityClassName: system-cluster-critical
  - pod: policy-only
    preemptionPolicy: PreemptLowerPriority
  - pod: same-as-default
    priority: 100
"#;

#[test]
fn priority_classes_round_trip() {
    let s =
        parse_scenario(PRIORITIES, "priorities.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"));
    let resolved: Vec<(&str, i32, PreemptionPolicy)> = s
        .workloads
        .iter()
        .map(|w| {
            let t = &w.template;
            (t.name.as_str(), t.priority, t.preemption_policy)
        })
        .collect();
    use PreemptionPolicy::{Never, PreemptLowerPriority as Preempt};
    assert_eq!(
        resolved,
        [
            ("defaulted", 100, Preempt),
            ("named", 1_000_000, Preempt),
            ("never", -5, Never),
            ("system", 2_000_001_000, Preempt),
            ("cluster", 2_000_000_000, Preempt),
            ("policy-only", 100, Preempt),
            ("same-as-default", 100, Preempt),
        ]
    );

    // Without classes, `priority` and `preemptionPolicy` stand on their own, as before.
    let text = "workloads: [{pod: a, priority: 7, preemptionPolicy: Never}, {pod: b}]";
    let s = parse_scenario(text, "own.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"));
    let own: Vec<(i32, PreemptionPolicy)> = s
        .workloads
        .iter()
        .map(|w| (w.template.priority, w.template.preemption_policy))
        .collect();
    assert_eq!(own, [(7, Never), (0, Preempt)]);

    // Workloads may come before the classes they name.
    let text = "workloads: [{pod: a, priorityClassName: late}]\n\
                priorityClasses: [{name: late, value: 3, preemptionPolicy: Never}]\n";
    let s = parse_scenario(text, "late.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"));
    let t = &s.workloads[0].template;
    assert_eq!((t.priority, t.preemption_policy), (3, Never));
}

/// Container ports in both places the format accepts them, with Kubernetes' defaults.
const PORTS: &str = r#"
workloads:
  - deployment: ingress
    replicas: 2
    requests: {cpu: 100m}
    ports:
      - {containerPort: 80, hostPort: 80}
      - {containerPort: 443, hostPort: 8443, protocol: TCP, hostIP: 10.0.0.1, name: https}
      - {containerPort: 9090, name: metrics}
  - pod: dns
    containers:
      - name: coredns
        ports:
          - {containerPort: 53, hostPort: 53, protocol: UDP}
          - {containerPort: 53, hostPort: 53, protocol: TCP}
      - name: sidecar
        ports:
          - {containerPort: 9000, hostPort: 9000, protocol: SCTP, hostIP: "::1"}
          - {containerPort: 53, hostPort: 53, protocol: UDP, hostIP: 127.0.0.1}
    initContainers:
      - name: setup
        ports: [{containerPort: 53, hostPort: 53, protocol: UDP}]
  - pod: plain
"#;

#[test]
fn ports_round_trip() {
    let s = parse_scenario(PORTS, "ports.yaml", &is_known).unwrap_or_else(|e| panic!("{e}"));
    let ingress = &s.workloads[0].template;
    assert_eq!(ingress.containers.len(), 1);
    assert_eq!(ingress.containers[0].name, "ingress");
    // The port without a hostPort does not concern the scheduler and is not kept.
    assert_eq!(
        ingress.containers[0].host_ports,
        [
            HostPort::new(80, Protocol::Tcp),
            HostPort::new(8443, Protocol::Tcp).on_ip("10.0.0.1"),
        ]
    );
    let dns = &s.workloads[1].template;
    let ports = |i: usize| dns.containers[i].host_ports.clone();
    assert_eq!(
        ports(0),
        [
            HostPort::new(53, Protocol::Udp),
            HostPort::new(53, Protocol::Tcp)
        ]
    );
    assert_eq!(
        ports(1),
        [
            HostPort::new(9000, Protocol::Sctp).on_ip("::1"),
            HostPort::new(53, Protocol::Udp).on_ip("127.0.0.1"),
        ]
    );
    // An init container's ports are kept, but are not the pod's host ports (only a
    // sidecar's would be, and schedlab models none).
    assert_eq!(
        dns.init_containers[0].host_ports,
        [HostPort::new(53, Protocol::Udp)]
    );
    assert_eq!(dns.host_ports().count(), 4);
    assert!(!s.workloads[2].template.has_host_ports());
}

#[test]
fn bad_port_values_are_rejected() {
    check_inline(&[
        (
            "workloads: [{pod: p, ports: [{containerPort: 0}]}]",
            1,
            46,
            "workloads[0].ports[0].containerPort",
            "expected a port number from 1 to 65535, got 0",
        ),
        (
            "workloads: [{pod: p, ports: [{hostPort: 80}]}]",
            1,
            30,
            "workloads[0].ports[0].containerPort",
            "missing `containerPort`",
        ),
        (
            "workloads: [{pod: p, ports: [{containerPort: 80, hostPort: 65536}]}]",
            1,
            60,
            "workloads[0].ports[0].hostPort",
            "expected a port number from 1 to 65535, got 65536",
        ),
        (
            "workloads:\n  - pod: p\n    containers:\n      - name: c\n        ports: [{containerPort: 80, protocol: tcp}]",
            5,
            47,
            "workloads[0].containers[0].ports[0].protocol",
            "unknown protocol \"tcp\" (did you mean TCP?); expected TCP, UDP or SCTP",
        ),
        (
            "workloads: [{pod: p, ports: [{containerPort: 80, hostPort: 80, hostIP: localhost}]}]",
            1,
            72,
            "workloads[0].ports[0].hostIP",
            "expected an IP address",
        ),
        (
            "workloads: [{pod: p, ports: [{containerPort: 80, name: HTTP}]}]",
            1,
            56,
            "workloads[0].ports[0].name",
            "invalid port name HTTP: must contain only lowercase letters",
        ),
        (
            "workloads: [{pod: p, ports: [{containerPort: 80, hostPrt: 80}]}]",
            1,
            50,
            "workloads[0].ports[0].hostPrt",
            "unknown field `hostPrt`",
        ),
    ]);
}

#[test]
fn duplicate_and_misplaced_host_ports_are_rejected() {
    check_inline(&[
        (
            "workloads:\n  - pod: p\n    containers:\n      - name: a\n        ports: [{containerPort: 80, hostPort: 8080}]\n      - name: b\n        ports: [{containerPort: 81, hostPort: 8080, protocol: TCP, hostIP: 0.0.0.0}]",
            7,
            47,
            "workloads[0].containers[1].ports[0].hostPort",
            "duplicate host port 8080/TCP on 0.0.0.0: workloads[0].containers[0].ports[0] (line 5) already binds it",
        ),
        (
            "workloads: [{pod: p, ports: [{containerPort: 80, hostPort: 53, protocol: UDP}, {containerPort: 81, hostPort: 53, protocol: UDP}]}]",
            1,
            110,
            "workloads[0].ports[1].hostPort",
            "duplicate host port 53/UDP",
        ),
        (
            "workloads: [{pod: p, ports: [{containerPort: 80, name: web}, {containerPort: 81, name: web}]}]",
            1,
            88,
            "workloads[0].ports[1].name",
            "duplicate port name \"web\"",
        ),
        (
            "workloads:\n  - pod: p\n    ports: [{containerPort: 80, hostPort: 80}]\n    containers: [{name: c}]",
            4,
            17,
            "workloads[0].containers",
            "cannot be combined with the top-level `ports` (line 3)",
        ),
    ]);
}

#[test]
fn defaults_and_file_names() {
    let s = parse_scenario("seed: 7\n", "scenarios/small-cluster.yaml", &is_known).unwrap();
    assert_eq!(
        s.name, "small-cluster",
        "the name defaults to the file stem"
    );
    assert_eq!(s.description, "");
    assert_eq!(s.duration, None);
    assert_eq!(s.sample_interval, SimTime::from_secs(60));
    assert_eq!(s.start_latency, SimTime::from_secs(1));
    assert!(s.schedulers.is_empty() && s.nodes.is_empty() && s.workloads.is_empty());
}

#[test]
fn extended_resources_are_numbered_in_file_order() {
    // Workloads come first in this file, so their resource takes the first slot.
    let text = "workloads: [{pod: p, requests: {example.com/b: 1}}]\n\
                cluster: {nodes: [{name: n, allocatable: {example.com/a: 1, example.com/b: 2}}]}\n";
    let s = parse_scenario(text, "order.yaml", &is_known).unwrap();
    assert_eq!(
        s.resource_names.lookup("example.com/b").map(|k| k.index()),
        Some(4)
    );
    assert_eq!(
        s.resource_names.lookup("example.com/a").map(|k| k.index()),
        Some(5)
    );
}

#[test]
fn the_documented_example_loads() {
    let doc_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/scenario-format.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/scenario-format.md is readable");
    let example = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the reference starts with a complete yaml example");
    let s = match parse_scenario(example, "tutorial.yaml", &is_known) {
        Ok(s) => s,
        Err(e) => panic!("the documented example is rejected: {e}"),
    };
    assert_eq!(s.nodes.len(), 4);
    assert_eq!(s.workloads.len(), 3);
    assert_eq!(s.workloads[2].sized.len(), 1, "the batch draws its cpu");
    let web: Vec<&HostPort> = s.workloads[0].template.host_ports().collect();
    assert_eq!(web, [&HostPort::new(80, Protocol::Tcp)]);
    let cart = &s.workloads[1].template;
    assert_eq!(
        (cart.priority, cart.preemption_policy),
        (1000, PreemptionPolicy::PreemptLowerPriority)
    );
    assert_eq!(
        cart.pod_affinity.as_ref().map(|a| a.preferred.len()),
        Some(1)
    );
    assert_eq!(cart.topology_spread_constraints.len(), 1);
    let train = &s.workloads[2].template;
    assert_eq!(
        (train.priority, train.preemption_policy),
        (10, PreemptionPolicy::Never)
    );
}

// ----- storage ---------------------------------------------------------------------------

/// Parses inline YAML that must be rejected.
fn rejected_inline(yaml: &str) -> ScenarioError {
    match parse_scenario(yaml, "storage.yaml", &is_known) {
        Ok(_) => panic!("loaded, but it should have been rejected:\n{yaml}"),
        Err(e) => e,
    }
}

#[test]
fn good_scenario_storage() {
    use schedulers::volumes::{
        PersistentVolume, PersistentVolumeClaim, StorageClass, VolumeBindingMode,
    };
    let yaml = r#"
storageClasses:
  - name: zonal
    provisioner: ebs.csi.aws.com
    volumeBindingMode: WaitForFirstConsumer
    allowedTopologies:
      - matchLabelExpressions: [{key: topology.kubernetes.io/zone, values: [a, b]}]
  - name: standard
persistentVolumes:
  - name: pv-b
    labels: {topology.kubernetes.io/zone: b}
    capacity: {storage: 10Gi}
    storageClassName: standard
    nodeAffinity:
      required:
        nodeSelectorTerms:
          - matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [b]}]
persistentVolumeClaims:
  - name: data
    namespace: db
    storageClassName: standard
    resources: {requests: {storage: 5Gi}}
    volumeName: pv-b
  - name: scratch
    namespace: db
    storageClassName: zonal
    resources: {requests: {storage: 1Gi}}
workloads:
  - deployment: db
    replicas: 1
    namespace: db
    volumes:
      - {name: data, persistentVolumeClaim: {claimName: data}}
      - {name: scratch, persistentVolumeClaim: {claimName: scratch}}
"#;
    let s = parse_scenario(yaml, "storage.yaml", &is_known).expect("valid");
    let zone = |values: &[&str], operator| NodeSelectorTerm {
        match_expressions: vec![SelectorRequirement {
            key: "topology.kubernetes.io/zone".into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }],
        match_fields: vec![],
    };
    let v = &s.volumes;
    assert_eq!(
        v.classes(),
        [
            StorageClass {
                name: "zonal".into(),
                volume_binding_mode: VolumeBindingMode::WaitForFirstConsumer,
                allowed_topologies: vec![zone(&["a", "b"], SelectorOperator::In)],
                provisioner: "ebs.csi.aws.com".into(),
            },
            StorageClass {
                name: "standard".into(),
                volume_binding_mode: VolumeBindingMode::Immediate,
                allowed_topologies: vec![],
                provisioner: String::new(),
            }
        ]
    );
    assert_eq!(
        v.volumes(),
        [PersistentVolume {
            name: "pv-b".into(),
            capacity: 10 << 30,
            storage_class: "standard".into(),
            node_affinity: Some(vec![zone(&["b"], SelectorOperator::In)]),
            labels: Labels::new([("topology.kubernetes.io/zone", "b")]),
            claim_ref: Some("db/data".into()),
            ..Default::default()
        }]
    );
    assert_eq!(
        v.claims(),
        [
            PersistentVolumeClaim {
                name: "data".into(),
                namespace: "db".into(),
                storage_class: "standard".into(),
                request: 5 << 30,
                bound_volume: Some("pv-b".into()),
                ..Default::default()
            },
            PersistentVolumeClaim {
                name: "scratch".into(),
                namespace: "db".into(),
                storage_class: "zonal".into(),
                request: 1 << 30,
                bound_volume: None,
                ..Default::default()
            }
        ]
    );
    assert_eq!(s.workloads[0].template.volume_claims, ["data", "scratch"]);
}

#[test]
fn unknown_binding_mode_and_storage_class() {
    let e = rejected_inline(
        "storageClasses:\n  - name: zonal\n    volumeBindingMode: WaitForFirstConsumr\n",
    );
    assert_error(
        &e,
        3,
        24,
        "storageClasses[0].volumeBindingMode",
        "did you mean WaitForFirstConsumer?",
    );
    let e = rejected_inline(
        "storageClasses: [{name: zonal}]\npersistentVolumeClaims:\n  - name: data\n    storageClassName: zonl\n    resources: {requests: {storage: 1Gi}}\n",
    );
    assert_error(
        &e,
        4,
        23,
        "persistentVolumeClaims[0].storageClassName",
        "unknown storage class \"zonl\" (did you mean zonal?)",
    );
}

#[test]
fn workload_claims_must_exist_and_volumes_must_fit() {
    let e = rejected_inline(
        "persistentVolumeClaims:\n  - name: data\n    resources: {requests: {storage: 1Gi}}\nworkloads:\n  - pod: p\n    volumes: [{name: v, persistentVolumeClaim: {claimName: dta}}]\n",
    );
    assert_error(
        &e,
        6,
        60,
        "workloads[0].volumes[0].persistentVolumeClaim.claimName",
        "no claim \"dta\" in namespace \"default\" (did you mean data?)",
    );
    let e = rejected_inline(
        "persistentVolumes:\n  - {name: small, capacity: {storage: 1Gi}}\npersistentVolumeClaims:\n  - name: data\n    resources: {requests: {storage: 2Gi}}\n    volumeName: small\n",
    );
    assert_error(
        &e,
        6,
        17,
        "persistentVolumeClaims[0].volumeName",
        "cannot hold this claim",
    );
    let e = rejected_inline("persistentVolumes:\n  - {name: pv, capacity: {storage: lots}}\n");
    assert_error(
        &e,
        2,
        36,
        "persistentVolumes[0].capacity.storage",
        "invalid quantity",
    );
}

/// `namespaces:` takes names and `{name, weight}` mappings; weights default to 1.
#[test]
fn namespaces_with_weights_load() {
    let s = parse_scenario(
        "namespaces:\n  - team-a\n  - {name: team-b, weight: 3}\n  - name: team-c\n",
        "inline.yaml",
        &is_known,
    )
    .unwrap();
    assert_eq!(
        s.namespaces,
        vec![
            ("team-a".to_string(), 1),
            ("team-b".to_string(), 3),
            ("team-c".to_string(), 1)
        ]
    );
    assert!(
        parse_scenario("name: x\n", "inline.yaml", &is_known)
            .unwrap()
            .namespaces
            .is_empty()
    );
}

/// Rejections of `namespaces:` items, one rule each.
#[test]
fn namespace_rejections() {
    check_inline(&[
        (
            "namespaces: [{name: a, weight: 0}]",
            1,
            32,
            "namespaces[0].weight",
            "expected a positive integer from 1 to 4294967295, got 0",
        ),
        (
            "namespaces: [{name: a, weight: -2}]",
            1,
            32,
            "namespaces[0].weight",
            "got -2",
        ),
        (
            "namespaces: [{name: a, weight: 1.5}]",
            1,
            32,
            "namespaces[0].weight",
            "got 1.5",
        ),
        (
            "namespaces:\n  - a\n  - {weight: 2}\n",
            3,
            5,
            "namespaces[1].name",
            "missing required field `name`",
        ),
        (
            "namespaces: [Team_A]",
            1,
            14,
            "namespaces[0]",
            "invalid namespace name \"Team_A\"",
        ),
        (
            "namespaces: [{name: \"\"}]",
            1,
            21,
            "namespaces[0].name",
            "expected a namespace name, got an empty string",
        ),
        (
            "namespaces: [a, {name: a, weight: 2}]",
            1,
            24,
            "namespaces[1].name",
            "namespace \"a\" is listed twice",
        ),
        (
            "namespaces: [{name: a, wieght: 2}]",
            1,
            24,
            "namespaces[0].wieght",
            "unknown field `wieght` (did you mean `weight`?)",
        ),
    ]);
}

/// Rejections of Deployment rollouts (`rollout:`/`rollouts:`), one rule each.
#[test]
fn rollout_rejections() {
    check_inline(&[
        (
            "workloads: [{deployment: w, replicas: 2, rollout: {at: 1m, strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0}}}}]",
            1,
            116,
            "workloads[0].rollout.strategy.rollingUpdate.maxUnavailable",
            "may not be 0 when `maxSurge` is 0",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollout: {at: 1m, strategy: {type: Blue}}}]",
            1,
            77,
            "workloads[0].rollout.strategy.type",
            "unknown strategy type \"Blue\"",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollout: {at: 1m, strategy: {type: Recreat}}}]",
            1,
            77,
            "workloads[0].rollout.strategy.type",
            "did you mean",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollout: {at: 1m, strategy: {type: Recreate, rollingUpdate: {maxSurge: 1}}}}]",
            1,
            102,
            "workloads[0].rollout.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollout: {at: 1m, strategy: {rollingUpdate: {maxSurge: '150%'}}}}]",
            1,
            97,
            "workloads[0].rollout.strategy.rollingUpdate.maxSurge",
            "percentage from 0% to 100%",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollout: {at: soon}}]",
            1,
            56,
            "workloads[0].rollout.at",
            "duration",
        ),
        (
            "workloads: [{pod: w, rollout: {at: 1m}}]",
            1,
            31,
            "workloads[0].rollout",
            "applies to deployment workloads only",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, at: 5m, rollouts: [{at: 1m}]}]",
            1,
            66,
            "workloads[0].rollouts[0].at",
            "a rollout must come after the deployment's creation",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollouts: [{at: 2m}, {at: 1m}]}]",
            1,
            68,
            "workloads[0].rollouts[1].at",
            "list rollouts in time order",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollout: {at: 1m, minReadySeconds: -1}}]",
            1,
            77,
            "workloads[0].rollout.minReadySeconds",
            "non-negative integer",
        ),
        (
            "workloads: [{deployment: w, replicas: 2, rollouts: [{at: 1m}], rollout: {at: 2m}}]",
            1,
            73,
            "workloads[0].rollout",
            "not both",
        ),
    ]);
}

#[test]
fn stateful_set_rejections() {
    const SC: &str = "storageClasses: [{name: zonal, volumeBindingMode: WaitForFirstConsumer}]\n";
    let tmpl = |spec: &str| {
        format!(
            "{SC}workloads:\n  - statefulSet: db\n    replicas: 2\n    volumeClaimTemplates:\n      - metadata: {{name: data}}\n        spec: {spec}\n"
        )
    };
    let cases = [
        (
            "workloads: [{statefulSet: db, replicas: 1, podManagementPolicy: Random}]".to_owned(),
            1,
            65,
            "workloads[0].podManagementPolicy",
            "unknown pod management policy \"Random\"; expected OrderedReady or Parallel",
        ),
        (
            "workloads: [{statefulSet: db, replicas: -1}]".to_owned(),
            1,
            41,
            "workloads[0].replicas",
            "expected a non-negative integer, got -1",
        ),
        (
            "workloads: [{pod: p, volumeClaimTemplates: []}]".to_owned(),
            1,
            44,
            "workloads[0].volumeClaimTemplates",
            "applies to statefulSet workloads only",
        ),
        (
            tmpl("{storageClassName: fast, resources: {requests: {storage: 1Gi}}}"),
            7,
            34,
            "workloads[0].volumeClaimTemplates[0].spec.storageClassName",
            "unknown storage class \"fast\"",
        ),
        (
            tmpl("{resources: {requests: {storage: -1Gi}}}"),
            7,
            48,
            "workloads[0].volumeClaimTemplates[0].spec.resources.requests.storage",
            "must not be negative",
        ),
        (
            tmpl("{accessModes: [ReadWrite], resources: {requests: {storage: 1Gi}}}"),
            7,
            30,
            "workloads[0].volumeClaimTemplates[0].spec.accessModes[0]",
            "unknown access mode \"ReadWrite\"",
        ),
        (
            tmpl("{resources: {requests: {storage: 1Gi}}, size: 1}"),
            7,
            55,
            "workloads[0].volumeClaimTemplates[0].spec.size",
            "unknown field `size`",
        ),
        (
            "workloads: [{statefulSet: DB, replicas: 1, volumeClaimTemplates: [{metadata: {name: data}, spec: {resources: {requests: {storage: 1Gi}}}}]}]".to_owned(),
            1,
            85,
            "workloads[0].volumeClaimTemplates[0].metadata.name",
            "the claim \"data-DB-0\" of ordinal 0",
        ),
    ];
    let cases: Vec<(&str, u64, u64, &str, &str)> = cases
        .iter()
        .map(|(t, l, c, f, p)| (t.as_str(), *l, *c, *f, *p))
        .collect();
    check_inline(&cases);
}

/// A worker with a work queue and a KEDA ScaledObject, `QUEUE` and `SO` to fill in.
const KEDA_BASE: &str = "name: k
duration: 1h
cluster:
  nodePools: [{name: n, count: 1, allocatable: {cpu: \"8\", memory: 32Gi}}]
workloads:
  - deployment: w
    replicas: 0
    requests: {cpu: 500m}
    service:
      load: {constant: 1}
      QUEUE
    SO
";

/// The 1-based line and column of byte `at` of `text`.
fn position(text: &str, at: usize) -> (u64, u64) {
    let line = text[..at].matches('\n').count() as u64 + 1;
    let column = (at - text[..at].rfind('\n').map_or(0, |i| i + 1)) as u64 + 1;
    (line, column)
}

/// Each bad value of `service.queue` and `scaledObject` is reported at the value, with
/// its field.
#[test]
fn bad_work_queue_and_scaled_object_values() {
    let w = "workloads[0]";
    let cases: [(&str, &str, &str, &str, &str); 14] = [
        (
            "queue: {capacity: 0}",
            "scaledObject: {}",
            "0}",
            "service.queue.capacity",
            "at least 1",
        ),
        (
            "queue: {capacity: -3}",
            "scaledObject: {}",
            "-3",
            "service.queue.capacity",
            "non-negative integer",
        ),
        (
            "queue: {timeout: soon}",
            "scaledObject: {}",
            "soon",
            "service.queue.timeout",
            "duration",
        ),
        (
            "queue: {step: 0s}",
            "scaledObject: {}",
            "0s",
            "service.queue.step",
            "longer than zero",
        ),
        (
            "queue: {}",
            "scaledObject: {pollingInterval: 0}",
            "0}",
            "scaledObject.pollingInterval",
            "at least 1",
        ),
        (
            "queue: {}",
            "scaledObject: {cooldownPeriod: 5m}",
            "5m",
            "scaledObject.cooldownPeriod",
            "integer",
        ),
        (
            "queue: {}",
            "scaledObject: {minReplicaCount: -1}",
            "-1",
            "scaledObject.minReplicaCount",
            "non-negative 32-bit integer",
        ),
        (
            "queue: {}",
            "scaledObject: {minReplicaCount: 3, maxReplicaCount: 2}",
            "2}",
            "scaledObject.maxReplicaCount",
            "at least minReplicaCount (3)",
        ),
        (
            "queue: {}",
            "scaledObject: {queueLength: 0}",
            "0}",
            "scaledObject.queueLength",
            "at least 1",
        ),
        (
            "queue: {}",
            "scaledObject: {activationQueueLength: x}",
            "x}",
            "scaledObject.activationQueueLength",
            "integer",
        ),
        (
            "queue: {}",
            "scaledObject: {syncPeriod: 0s}",
            "0s",
            "scaledObject.syncPeriod",
            "longer than zero",
        ),
        (
            "queue: {}",
            "scaledObject: {tolerance: -1}",
            "-1",
            "scaledObject.tolerance",
            "non-negative number",
        ),
        (
            "cpuPerRequest: 1m",
            "scaledObject: {}",
            "{}",
            "scaledObject",
            "give the workload `service.queue`",
        ),
        (
            "queue: {}",
            "scaledObject: {}\n    horizontalPodAutoscaler: {maxReplicas: 2, metrics: [{resource: {name: cpu, target: {averageUtilization: 50}}}]}",
            "{maxReplicas",
            "horizontalPodAutoscaler",
            "cannot also have a horizontalPodAutoscaler",
        ),
    ];
    for (queue, so, at, field, phrase) in cases {
        let text = KEDA_BASE.replace("QUEUE", queue).replace("SO", so);
        let e = parse_scenario(&text, "keda.yaml", &is_known)
            .err()
            .unwrap_or_else(|| panic!("loaded:\n{text}"));
        // The value's position: the first `at` on the line that sets the field.
        let key_line = if field.contains("queue.") {
            queue
        } else {
            so.lines().last().unwrap()
        };
        let from = text.find(key_line).unwrap();
        let (line, column) = position(&text, from + text[from..].find(at).unwrap());
        assert_error(&e, line, column, &format!("{w}.{field}"), phrase);
    }
}

/// `nodePressure:`: each bad value is refused at its position, naming the field.
#[test]
fn node_pressure_bad_values_are_rejected() {
    let cases: &[(&str, u64, u64, &str, &str)] = &[
        (
            "nodePressure: {evictionHard: {memory.available: lots}}",
            1,
            49,
            r#"nodePressure.evictionHard["memory.available"]"#,
            "invalid quantity \"lots\"",
        ),
        (
            "nodePressure: {evictionHard: {memory.available: 120%}}",
            1,
            49,
            r#"nodePressure.evictionHard["memory.available"]"#,
            "expected a percentage from 0% to 100%",
        ),
        (
            "nodePressure: {evictionHard: {nodefs.available: 10%}}",
            1,
            31,
            r#"nodePressure.evictionHard["nodefs.available"]"#,
            "unknown field `nodefs.available`; allowed here: memory.available",
        ),
        (
            "nodePressure: {housekeepingInterval: 0s}",
            1,
            38,
            "nodePressure.housekeepingInterval",
            "longer than zero",
        ),
        (
            "nodePressure: {evictionPressureTransitionPeriod: soon}",
            1,
            50,
            "nodePressure.evictionPressureTransitionPeriod",
            "invalid duration \"soon\"",
        ),
        (
            "nodePressure: {oomKill: maybe}",
            1,
            25,
            "nodePressure.oomKill",
            "expected true or false",
        ),
        (
            "nodePressure: {crashLoopBackOff: {initial: 0s}}",
            1,
            44,
            "nodePressure.crashLoopBackOff.initial",
            "longer than zero",
        ),
        (
            "nodePressure: {crashLoopBackOff: {initial: 1m, max: 10s}}",
            1,
            53,
            "nodePressure.crashLoopBackOff.max",
            "must be at least crashLoopBackOff.initial",
        ),
        (
            "nodePressure: {memoryAvailable: 1Gi}",
            1,
            16,
            "nodePressure.memoryAvailable",
            "unknown field `memoryAvailable`",
        ),
    ];
    check_inline(cases);
}

/// `nodePressure:` loads into exact values: upstream's defaults, and overrides.
#[test]
fn node_pressure_loads() {
    use sim::scenario::node_pressure::MemoryThreshold;
    let s = parse_scenario("nodePressure: {}", "inline.yaml", &is_known).unwrap();
    let p = s.node_pressure.unwrap();
    assert_eq!(p.memory_available, MemoryThreshold::Bytes(100 << 20));
    assert_eq!(p.housekeeping_interval, SimTime::from_secs(10));
    assert_eq!(p.pressure_transition_period, SimTime::from_secs(300));
    assert!(p.oom_kill);
    assert_eq!(
        (p.backoff_initial, p.backoff_max),
        (SimTime::from_secs(10), SimTime::from_secs(300))
    );
    let s = parse_scenario(
        "nodePressure: {evictionHard: {memory.available: 7.5%}, housekeepingInterval: 5s, \
         evictionPressureTransitionPeriod: 0s, oomKill: false, crashLoopBackOff: {initial: 1s, max: 1m}}",
        "inline.yaml",
        &is_known,
    )
    .unwrap();
    let p = s.node_pressure.unwrap();
    assert_eq!(p.memory_available, MemoryThreshold::Permille(75));
    assert_eq!(p.memory_available.bytes(1000), 75);
    assert_eq!(p.housekeeping_interval, SimTime::from_secs(5));
    assert_eq!(p.pressure_transition_period, SimTime::ZERO);
    assert!(!p.oom_kill);
    assert_eq!(
        (p.backoff_initial, p.backoff_max),
        (SimTime::from_secs(1), SimTime::from_secs(60))
    );
    assert!(
        parse_scenario("seed: 1", "inline.yaml", &is_known)
            .unwrap()
            .node_pressure
            .is_none()
    );
}

/// `usage.pods`: a name that is not one of the Deployment's pods, or a pod listed twice,
/// is refused at the name, naming the field.
#[test]
fn per_pod_usage_bad_names_are_rejected() {
    let base = "name: per-pod\nduration: 1h\ncluster:\n  nodePools: [{name: n, count: 1, allocatable: {cpu: \"4\", memory: 8Gi}}]\nworkloads:\n  - deployment: web\n    replicas: 2\n    requests: {cpu: 500m, memory: 256Mi}\n    usage:\n      pods: PODS\n";
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "[{name: api-0, cpu: 500m}]",
            "api-0",
            "usage.pods[0].name",
            "not a pod of Deployment `web`",
        ),
        (
            "[{name: web-x, cpu: 500m}]",
            "web-x",
            "usage.pods[0].name",
            "`web-N`",
        ),
        (
            "[{name: web-, cpu: 500m}]",
            "web-,",
            "usage.pods[0].name",
            "`web-N`",
        ),
        (
            "[{name: web-1, cpu: 500m}, {name: web-1, memory: 1Gi}]",
            "web-1, memory",
            "usage.pods[1].name",
            "listed twice",
        ),
        (
            "[{name: web-0, cpu: lots}]",
            "lots",
            "usage.pods[0].cpu",
            "lots",
        ),
        ("[{name: web-0, gpu: 1}]", "gpu", "usage.pods[0]", "gpu"),
    ];
    for (pods, at, field, phrase) in cases {
        let text = base.replace("PODS", pods);
        let e = parse_scenario(&text, "per-pod.yaml", &is_known)
            .err()
            .unwrap_or_else(|| panic!("loaded:\n{text}"));
        let (line, column) = position(&text, text.rfind(at).unwrap());
        if field.ends_with("[0]") {
            // An unknown key: the serde error names the field's parent and the key.
            assert!(e.to_string().contains(phrase), "{e}");
            assert_eq!(e.line, Some(line), "{e}");
        } else {
            assert_error(&e, line, column, &format!("workloads[0].{field}"), phrase);
        }
    }
}
