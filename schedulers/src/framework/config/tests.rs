//! The reader's own tests: defaulting, profiles, plugin arguments and where errors point.

use super::*;
use crate::framework::plugin_registry::points_of;

const HEAD: &str = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

fn parse(body: &str) -> std::result::Result<SchedulerConfig, SchedulerConfigError> {
    parse_scheduler_config(&format!("{HEAD}{body}"), "cfg.yaml")
}

fn error(body: &str) -> SchedulerConfigError {
    parse(body).expect_err("the configuration is refused")
}

fn scores(p: &Profile) -> Vec<(&'static str, i64)> {
    p.score
        .iter()
        .map(|&(i, w)| (p.plugins[i].name(), w))
        .collect()
}

#[test]
fn no_profiles_means_one_default_scheduler() {
    let c = parse("").unwrap();
    assert_eq!(
        c.scheduler_names().collect::<Vec<_>>(),
        ["default-scheduler"]
    );
    let p = c.build_profile("default-scheduler").unwrap();
    assert_eq!(p.plugin_names(), Profile::kube_default().plugin_names());
    assert!(c.warnings().is_empty());
}

#[test]
fn ignores_process_settings() {
    let c = parse(
        "clientConnection: {kubeconfig: /etc/kubernetes/scheduler.conf}\n\
             leaderElection: {leaderElect: true}\n\
             parallelism: 16\nenableProfiling: true\n\
             profiles:\n- {}\n",
    )
    .unwrap();
    assert_eq!(
        c.scheduler_names().collect::<Vec<_>>(),
        ["default-scheduler"]
    );
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn two_profiles_with_args() {
    let c = parse(
        "percentageOfNodesToScore: 40
profiles:
- schedulerName: bin-packing
  percentageOfNodesToScore: 70
  pluginConfig:
  - name: NodeResourcesFit
    args:
      kind: NodeResourcesFitArgs
      apiVersion: kubescheduler.config.k8s.io/v1
      scoringStrategy:
        type: MostAllocated
        resources: [{name: cpu, weight: 3}, {name: memory}]
- schedulerName: default-scheduler
",
    )
    .unwrap();
    let names: Vec<&str> = c.scheduler_names().collect();
    assert_eq!(names, ["bin-packing", "default-scheduler"]);
    let packing = c.build_profile("bin-packing").unwrap();
    assert_eq!(packing.percentage_of_nodes_to_score, 70);
    let default = c.build_profile("default-scheduler").unwrap();
    assert_eq!(default.percentage_of_nodes_to_score, 40);
    assert!(c.build_profile("nope").is_none());
    let pairs = c.into_profiles();
    assert_eq!(pairs[0].0, "bin-packing");
}

#[test]
fn plugins_merge_with_weights() {
    let c = parse(
        "profiles:
- plugins:
    multiPoint:
      enabled: [{name: NodeAffinity, weight: 5}]
    score:
      disabled: [{name: TaintToleration}]
      enabled: [{name: NodeResourcesFit, weight: 4}]
    postFilter:
      disabled: [{name: '*'}]
",
    )
    .unwrap();
    let p = c.build_profile("default-scheduler").unwrap();
    assert_eq!(
        scores(&p),
        [
            ("NodeResourcesFit", 4),
            ("NodeAffinity", 5),
            ("VolumeBinding", 1),
            ("PodTopologySpread", 2),
            ("InterPodAffinity", 2),
            ("NodeResourcesBalancedAllocation", 1),
            ("ImageLocality", 1)
        ]
    );
    assert!(points_of(&p, "TaintToleration").filter);
    assert!(!p.preemption);
}

#[test]
fn args_kinds_are_read() {
    let c = parse(
        "profiles:
- pluginConfig:
  - name: NodeResourcesBalancedAllocation
    args: {resources: [{name: cpu}, {name: memory, weight: 1}]}
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions: [{key: pool, operator: In, values: [batch]}]
  - name: PodTopologySpread
    args:
      defaultingType: List
      defaultConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}
  - name: InterPodAffinity
    args: {hardPodAffinityWeight: 5}
  - name: DefaultPreemption
    args: {minCandidateNodesPercentage: 10, minCandidateNodesAbsolute: 100}
  - name: VolumeBinding
    args: {bindTimeoutSeconds: 600}
",
    )
    .unwrap();
    assert_eq!(c.profiles().len(), 1);
    // VolumeBinding is simulated; its arguments only tune binding timeouts and
    // capacity scoring, which schedlab does not model: no warning.
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn requested_to_capacity_ratio() {
    let c = parse(
        "profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        resources: [{name: cpu, weight: 1}]
        requestedToCapacityRatio:
          shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]
",
    );
    assert!(c.is_ok(), "{}", c.unwrap_err());
}

/// Line and column of `needle`'s first occurrence in the whole text (1-based).
fn position(body: &str, needle: &str) -> (u64, u64) {
    let text = format!("{HEAD}{body}");
    let offset = text.find(needle).expect("the needle is in the text");
    let line = text[..offset].matches('\n').count() as u64 + 1;
    let column = text[..offset].rsplit('\n').next().unwrap().chars().count() as u64 + 1;
    (line, column)
}

fn assert_at(e: &SchedulerConfigError, body: &str, needle: &str, field: &str) {
    let (line, column) = position(body, needle);
    assert_eq!(
        (e.line, e.column, e.field.as_deref()),
        (Some(line), Some(column), Some(field)),
        "{e}"
    );
}

#[test]
fn unknown_plugin_is_located() {
    let body = "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: NodeResourceFit\n        weight: 2\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "NodeResourceFit",
        "profiles[0].plugins.score.enabled[0].name",
    );
    assert!(e.message.contains("did you mean NodeResourcesFit?"), "{e}");
    assert!(e.message.contains("known plugins: "), "{e}");
    assert!(
        e.to_string().starts_with("cfg.yaml:7:15: profiles[0]"),
        "{e}"
    );
}

#[test]
fn bad_api_version_and_kind() {
    let text =
        "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n";
    let e = parse_scheduler_config(text, "cfg.yaml").unwrap_err();
    assert_eq!((e.line, e.column), (Some(1), Some(13)), "{e}");
    assert_eq!(e.field.as_deref(), Some("apiVersion"));
    assert!(
        e.message
            .contains("schedlab reads kubescheduler.config.k8s.io/v1"),
        "{e}"
    );
    let e = parse_scheduler_config("kind: KubeSchedulerConfiguration\n", "cfg.yaml").unwrap_err();
    assert!(e.message.contains("missing required field"), "{e}");
    let e = parse_scheduler_config(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: Policy\n",
        "cfg.yaml",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (Some(2), Some(7)), "{e}");
}

#[test]
fn bad_scoring_strategy_type() {
    let body = "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy: {type: MostAllocatd}\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "MostAllocatd",
        "profiles[0].pluginConfig[0].args.scoringStrategy.type",
    );
    assert!(
        e.message.contains("supported values: LeastAllocated"),
        "{e}"
    );
    let missing = "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        resources: [{name: cpu}]\n";
    assert!(error(missing).message.contains("unsupported value \"\""));
}

#[test]
fn negative_weight_is_located() {
    let body = "profiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: NodeAffinity, weight: -3}]\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "-3",
        "profiles[0].plugins.multiPoint.enabled[0].weight",
    );
    let resource = "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: LeastAllocated\n        resources: [{name: cpu, weight: -1}]\n";
    let e = error(resource);
    assert_at(
        &e,
        resource,
        "-1",
        "profiles[0].pluginConfig[0].args.scoringStrategy.resources[0].weight",
    );
    assert!(e.message.contains("not in valid range (0, 100]"), "{e}");
}

#[test]
fn shape_utilization_out_of_range_is_located() {
    let body = "profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: RequestedToCapacityRatio
        requestedToCapacityRatio:
          shape:
          - {utilization: 0, score: 10}
          - {utilization: 120, score: 0}
";
    let e = error(body);
    assert_at(
        &e,
        body,
        "120",
        "profiles[0].pluginConfig[0].args.scoringStrategy.requestedToCapacityRatio.shape[1].utilization",
    );
    assert!(e.message.contains("not in valid range [0, 100]"), "{e}");
}

#[test]
fn serde_errors_name_the_field() {
    let body = "profiles:\n- plugins:\n    score:\n      enabeld: []\n";
    let e = error(body);
    assert_at(&e, body, "enabeld", "profiles[0].plugins.score.enabeld");
    assert!(e.message.contains("did you mean `enabled`?"), "{e}");
    let body = "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategie: {}\n";
    let e = error(body);
    assert!(e.message.contains("in NodeResourcesFitArgs"), "{e}");
    assert!(e.message.contains("did you mean `scoringStrategy`?"), "{e}");
    let body =
        "profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeAffinity, weight: heavy}]\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "heavy",
        "profiles[0].plugins.score.enabled[0].weight",
    );
    let body = "profiles:\n- plugins:\n    score:\n      enabled: [{weight: 2}]\n";
    let e = error(body);
    assert_eq!(
        e.field.as_deref(),
        Some("profiles[0].plugins.score.enabled[0].name"),
        "{e}"
    );
    assert!(e.message.contains("missing required field `name`"), "{e}");
}

#[test]
fn args_of_another_kind_are_refused() {
    let body = "profiles:\n- pluginConfig:\n  - name: NodeAffinity\n    args: {resources: []}\n";
    let e = error(body);
    assert_at(&e, body, "[]", "profiles[0].pluginConfig[0].args.resources");
    assert!(
        e.message
            .contains("in NodeAffinityArgs; allowed: apiVersion, kind, addedAffinity"),
        "{e}"
    );
    let body = "profiles:\n- pluginConfig:\n  - name: NodeAffinity\n    args: {kind: NodeResourcesFitArgs}\n";
    assert!(error(body).message.contains("not of type NodeAffinityArgs"));
    let body = "profiles:\n- pluginConfig:\n  - name: NodeName\n    args: {resources: []}\n";
    assert!(error(body).message.contains("takes no arguments"));
}

#[test]
fn taken_names_are_refused_where_they_are_written() {
    let body = "profiles:\n- schedulerName: mine\n- schedulerName: kube-default\n";
    let c = parse(body).unwrap();
    let e = c.refuse_taken_names(&|n| n == "kube-default").unwrap_err();
    assert_at(&e, body, "kube-default", "profiles[1].schedulerName");
    assert!(e.message.contains("built-in"), "{e}");
    assert!(c.refuse_taken_names(&|n| n == "other").is_ok());
    let e = parse("")
        .unwrap()
        .refuse_taken_names(&|_| true)
        .unwrap_err();
    assert_eq!((e.line, e.field.as_deref()), (None, None), "{e}");
    assert!(e.message.contains("\"default-scheduler\""), "{e}");
}

#[test]
fn scalar_errors_say_what_was_expected() {
    let body =
        "profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeAffinity, weight: 1.5}]\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "1.5",
        "profiles[0].plugins.score.enabled[0].weight",
    );
    assert_eq!(e.message, "expected an integer (32 bits), got 1.5");
    let e = error("profiles: {a: 1}\n");
    assert_eq!(e.field.as_deref(), Some("profiles"), "{e}");
    assert_eq!(e.message, "expected a list, got a mapping");
}

#[test]
fn profile_names() {
    let body = "profiles:\n- schedulerName: a\n- {}\n";
    let e = error(body);
    assert_eq!(e.field.as_deref(), Some("profiles[1].schedulerName"), "{e}");
    let body = "profiles:\n- schedulerName: a\n- schedulerName: a\n";
    let e = error(body);
    assert_eq!(e.field.as_deref(), Some("profiles[1].schedulerName"), "{e}");
    assert!(e.message.contains("duplicate"), "{e}");
    let body = "profiles:\n- schedulerName: a\n  plugins: {queueSort: {enabled: [{name: PrioritySort}]}}\n- schedulerName: b\n";
    let e = error(body);
    assert_eq!(
        e.field.as_deref(),
        Some("profiles[1].plugins.queueSort"),
        "{e}"
    );
}

#[test]
fn percentages_and_backoff() {
    let e = error("percentageOfNodesToScore: 101\n");
    assert_eq!((e.line, e.column), (Some(3), Some(27)), "{e}");
    let e = error("profiles:\n- percentageOfNodesToScore: -1\n");
    assert_eq!(
        e.field.as_deref(),
        Some("profiles[0].percentageOfNodesToScore")
    );
    let c = parse("podInitialBackoffSeconds: 2\npodMaxBackoffSeconds: 10\n").unwrap();
    assert_eq!(c.warnings().len(), 1);
    assert!(c.warnings()[0].starts_with("cfg.yaml:3:27: podInitialBackoffSeconds: ignored"));
    assert!(
        error("podMaxBackoffSeconds: 0\n")
            .message
            .contains("greater than or equal")
    );
}

#[test]
fn empty_and_multi_document_files() {
    let e = parse_scheduler_config("# nothing\n", "cfg.yaml").unwrap_err();
    assert!(e.message.contains("empty"), "{e}");
    let e = parse_scheduler_config(&format!("{HEAD}---\n{HEAD}"), "cfg.yaml").unwrap_err();
    assert!(e.message.contains("more than one YAML document"), "{e}");
}

#[test]
fn added_affinity_errors_are_located() {
    let body = "profiles:
- pluginConfig:
  - name: NodeAffinity
    args:
      addedAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms:
          - matchExpressions:
            - {key: pool, operator: In, values: []}
";
    let e = error(body);
    assert_eq!(
        e.field.as_deref(),
        Some(
            "profiles[0].pluginConfig[0].args.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values"
        ),
        "{e}"
    );
    let (line, column) = position(body, "[]}");
    assert_eq!((e.line, e.column), (Some(line), Some(column)), "{e}");
    let body = "profiles:\n- pluginConfig:\n  - name: NodeAffinity\n    args:\n      addedAffinity:\n        preferredDuringSchedulingIgnoredDuringExecution:\n        - weight: 1\n          preference: {matchExpressions: [{key: a, operator: Near}]}\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "Near",
        "profiles[0].pluginConfig[0].args.addedAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].operator",
    );
}

#[test]
fn topology_spread_args_errors() {
    let body = "profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultConstraints:\n      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n";
    let e = error(body);
    // defaultingType is System by default, which takes no constraints.
    assert_eq!(
        e.field.as_deref(),
        Some("profiles[0].pluginConfig[0].args.defaultingType"),
        "{e}"
    );
    let body = "profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: List\n      defaultConstraints:\n      - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: Sometimes}\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "Sometimes",
        "profiles[0].pluginConfig[0].args.defaultConstraints[0].whenUnsatisfiable",
    );
    let body = "profiles:\n- pluginConfig:\n  - name: PodTopologySpread\n    args:\n      defaultingType: List\n      defaultConstraints:\n      - {maxSkew: 0, topologyKey: zone, whenUnsatisfiable: DoNotSchedule}\n";
    let e = error(body);
    assert_at(
        &e,
        body,
        "0, topologyKey",
        "profiles[0].pluginConfig[0].args.defaultConstraints[0].maxSkew",
    );
}

#[test]
fn warnings_are_located() {
    let body = "extenders: [{urlPrefix: 'http://x'}]\nprofiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: DynamicResources}]\n";
    let c = parse(body).unwrap();
    assert_eq!(c.warnings().len(), 2, "{:?}", c.warnings());
    assert!(
        c.warnings()[0].starts_with("cfg.yaml:3:12: extenders: "),
        "{}",
        c.warnings()[0]
    );
    let (line, column) = position(body, "DynamicResources");
    assert!(
            c.warnings()[1].starts_with(&format!(
                "cfg.yaml:{line}:{column}: profiles[0].plugins.multiPoint.enabled[0].name: plugin DynamicResources"
            )),
            "{}",
            c.warnings()[1]
        );
}

/// An out-of-tree plugin's arguments (Coscheduling's `permitWaitingTimeSeconds`) are
/// refused for what they are: the arguments of a plugin kube-scheduler does not know.
#[test]
fn arguments_of_an_unknown_plugin_name_the_plugin() {
    let e = error(
        "profiles:
- pluginConfig:
  - name: Coscheduling
    args:
      permitWaitingTimeSeconds: 10
",
    );
    assert!(
        e.message.starts_with("unknown plugin \"Coscheduling\""),
        "{e}"
    );
    assert!(!e.message.contains("allowed here"), "{e}");
    assert_eq!(e.line, Some(7), "{e}");
}

/// kube-scheduler decodes by apiVersion first: a v1beta3 file with a key v1 lacks is
/// refused for its version, not for the key.
#[test]
fn the_version_is_checked_before_the_keys() {
    let e = parse_scheduler_config(
        "apiVersion: kubescheduler.config.k8s.io/v1beta3\n\
         kind: KubeSchedulerConfiguration\n\
         notAKey: 1\n",
        "cfg.yaml",
    )
    .unwrap_err();
    assert!(e.message.starts_with("unsupported version"), "{e}");
    assert_eq!(e.line, Some(1), "{e}");
}

/// Upstream's ValidateKubeSchedulerConfiguration: with leader election on (the
/// default), the lock must be `leases`; with it off the lock is not looked at.
#[test]
fn leader_election_locks_other_than_leases_are_refused() {
    let e = error("leaderElection: {resourceLock: endpoints}\n");
    assert_eq!(
        e.field.as_deref(),
        Some("leaderElection.resourceLock"),
        "{e}"
    );
    assert_eq!(
        e.message,
        "invalid value \"endpoints\": resourceLock value must be \"leases\""
    );
    parse("leaderElection: {leaderElect: true, resourceLock: leases}\n").unwrap();
    parse("leaderElection: {leaderElect: false, resourceLock: endpoints}\n").unwrap();
}

/// kube-scheduler's strict decoding refuses a number written as a string.
#[test]
fn quoted_numbers_are_refused() {
    let e = error("percentageOfNodesToScore: \"50\"\n");
    assert_eq!(e.field.as_deref(), Some("percentageOfNodesToScore"), "{e}");
    assert_eq!(e.line, Some(3), "{e}");
    let e = error("profiles:\n- percentageOfNodesToScore: \"50\"\n");
    assert_eq!(
        e.field.as_deref(),
        Some("profiles[0].percentageOfNodesToScore"),
        "{e}"
    );
    parse("percentageOfNodesToScore: 50\nparallelism: 16\n").unwrap();
}
