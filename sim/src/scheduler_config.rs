//! Reading a kube-scheduler configuration file (`KubeSchedulerConfiguration`, API version
//! `kubescheduler.config.k8s.io/v1`) into one [`ResolvedProfile`] per profile, so that a
//! simulation can run each profile as a scheduler named by its `schedulerName`.
//!
//! Loading runs in three stages, as for scenarios:
//! 1. serde-saphyr reads the text into the `Raw*` structs below, which mirror
//!    kube-scheduler's v1 types. Where upstream's schema is closed they deny unknown fields,
//!    so a misspelt key is an error listing the allowed ones; the top-level settings that
//!    only matter to a real process (`clientConnection`, `leaderElection`, `parallelism`,
//!    profiling, ...) are accepted and ignored. A serde error is located by parsing the
//!    text again into an untyped tree, whose node at the error's position names the field.
//! 2. `Reader` applies the v1 API's defaulting (an unset resource weight is 1, a missing
//!    resource list is `cpu` and `memory`, a single unnamed profile is
//!    `default-scheduler`, ...) and checks what only makes sense with the spans at hand
//!    (enum spellings, required and forbidden fields), building
//!    [`schedulers::framework::plugin_registry::ProfileConfig`]s. It records the position
//!    of every field it reads.
//! 3. [`ResolvedProfile::resolve`] merges each profile with the default plugins and
//!    validates the result as kube-scheduler does when it starts; its errors name a field,
//!    which the recorded positions turn into a line and column.
//!
//! Every error reads `path:line:column: field: message`. What is accepted but not
//! simulated (ignored plugins, extenders, backoff settings, ...) comes back as warnings in
//! the same form, for the caller to print. The format is documented for users in
//! `docs/scheduler-config.md`.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use schedulers::suggest::closest;

use schedulers::framework::Profile;
use schedulers::framework::plugin_registry::{
    self as registry, API_VERSION, BalancedAllocationArgs, ConfigError, DEFAULT_SCHEDULER_NAME,
    DefaultPreemptionArgs, DefaultingType, ExtensionPoint, InterPodAffinityArgs, NodeAffinityArgs,
    NodeResourcesFitArgs, PluginArgs, PluginConfigEntry, PluginRef, PluginSet,
    PodTopologySpreadArgs, ProfileConfig, ResolvedProfile,
};
use schedulers::framework::plugins::node_resources_fit::{ScoringStrategy, ScoringStrategyType};
use schedulers::framework::plugins::resource_allocation::{ResourceSpec, ShapePoint};
use schedulers::labels::{self, NodeSelectorTerm, PreferredTerm, SelectorOperator};
use schedulers::pod_affinity::{InclusionPolicy, TopologySpreadConstraint, WhenUnsatisfiable};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Error, Location, MessageFormatter, Options, Spanned, UserMessageFormatter};

/// The `kind` of the document.
pub const KIND: &str = "KubeSchedulerConfiguration";

/// kube-scheduler's default `podInitialBackoffSeconds`, which the simulator always uses.
const DEFAULT_INITIAL_BACKOFF_SECONDS: i64 = 1;
/// kube-scheduler's default `podMaxBackoffSeconds`, which the simulator always uses.
const DEFAULT_MAX_BACKOFF_SECONDS: i64 = 10;

// ----- errors --------------------------------------------------------------------------

/// A scheduler configuration was rejected: where, which field, and what is wrong.
///
/// Displays as `configs/x.yaml:12:9: profiles[0].plugins.score.enabled[1].weight: ...`,
/// leaving out the parts that are unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerConfigError {
    /// The file, as given to the loader.
    pub path: String,
    /// 1-based line of the offending text, when known.
    pub line: Option<u64>,
    /// 1-based column (in characters) of the offending text, when known.
    pub column: Option<u64>,
    /// The field's path, spelt as in the file (`profiles[0].pluginConfig[1].args.resources`).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SchedulerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut prefix = self.path.clone();
        if let Some(line) = self.line {
            prefix.push_str(&format!(":{line}"));
            if let Some(column) = self.column {
                prefix.push_str(&format!(":{column}"));
            }
        }
        let prefix = prefix.trim_start_matches(':');
        if !prefix.is_empty() {
            write!(f, "{prefix}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for SchedulerConfigError {}

// ----- the result ----------------------------------------------------------------------

/// A loaded configuration: one resolved profile per `profiles` entry, in file order.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    profiles: Vec<ResolvedProfile>,
    /// Per profile, an error template pointing at its `schedulerName` (or at the profile,
    /// or nowhere, when the name was defaulted).
    name_sites: Vec<SchedulerConfigError>,
    warnings: Vec<String>,
}

impl SchedulerConfig {
    /// The profiles, in file order; each builds fresh [`Profile`]s.
    pub fn profiles(&self) -> &[ResolvedProfile] {
        &self.profiles
    }

    /// The profiles' scheduler names, in file order.
    pub fn scheduler_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(ResolvedProfile::name)
    }

    /// A fresh profile for the scheduler named `name`, if the configuration has one.
    pub fn build_profile(&self, name: &str) -> Option<Profile> {
        self.profiles
            .iter()
            .find(|p| p.name() == name)
            .map(ResolvedProfile::build)
    }

    /// What the configuration asks that schedlab accepts but does not simulate, one
    /// message per line, as `path:line:column: field: message`.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Refuses the first profile whose name `taken` says is already in use (a built-in
    /// scheduler's), pointing at its `schedulerName`.
    pub fn refuse_taken_names(
        &self,
        taken: &dyn Fn(&str) -> bool,
    ) -> std::result::Result<(), SchedulerConfigError> {
        match self
            .profiles
            .iter()
            .zip(&self.name_sites)
            .find(|(p, _)| taken(p.name()))
        {
            Some((p, site)) => Err(SchedulerConfigError {
                message: format!(
                    "{:?} is already the name of a built-in scheduler; give the profile \
                     another schedulerName",
                    p.name()
                ),
                ..site.clone()
            }),
            None => Ok(()),
        }
    }

    /// The profiles by scheduler name, in file order.
    pub fn into_profiles(self) -> Vec<(String, ResolvedProfile)> {
        self.profiles
            .into_iter()
            .map(|p| (p.name().to_owned(), p))
            .collect()
    }
}

/// Reads and resolves a configuration file.
pub fn load_scheduler_config(
    path: &Path,
) -> std::result::Result<SchedulerConfig, SchedulerConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| SchedulerConfigError {
        path: shown.clone(),
        line: None,
        column: None,
        field: None,
        message: format!("cannot read the scheduler configuration: {e}"),
    })?;
    parse_scheduler_config(&text, &shown)
}

/// Parses and resolves configuration text; `path` is only used in messages.
pub fn parse_scheduler_config(
    text: &str,
    path: &str,
) -> std::result::Result<SchedulerConfig, SchedulerConfigError> {
    let mut options = Options::default();
    // Messages carry the position; the snippet is for terminals.
    options.with_snippet = false;
    let raw = match serde_saphyr::from_str_with_options::<Option<Spanned<RawConfig>>>(text, options)
    {
        Ok(Some(raw)) => raw,
        Ok(None) => {
            return Err(SchedulerConfigError {
                path: path.to_owned(),
                line: None,
                column: None,
                field: None,
                message: format!(
                    "the file is empty; expected a {KIND} with apiVersion {API_VERSION}"
                ),
            });
        }
        Err(e) => return Err(translate(&e, text, path)),
    };
    let mut reader = Reader {
        path,
        spans: HashMap::new(),
        warnings: Vec::new(),
    };
    reader.config(&raw)
}

// ----- the file as written -------------------------------------------------------------

/// The whole document (`KubeSchedulerConfiguration`). The `IgnoredAny` fields are
/// accepted, whatever they hold, and never read: they configure the process, not
/// scheduling decisions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    parallelism: Option<Spanned<i32>>,
    #[allow(dead_code)]
    leader_election: Option<IgnoredAny>,
    #[allow(dead_code)]
    client_connection: Option<IgnoredAny>,
    #[allow(dead_code)]
    enable_profiling: Option<IgnoredAny>,
    #[allow(dead_code)]
    enable_contention_profiling: Option<IgnoredAny>,
    percentage_of_nodes_to_score: Option<Spanned<i32>>,
    /// Workload (pod group) scheduling, after v1.35: accepted and ignored.
    #[allow(dead_code)]
    percentage_of_placements_to_score: Option<IgnoredAny>,
    pod_initial_backoff_seconds: Option<Spanned<i64>>,
    pod_max_backoff_seconds: Option<Spanned<i64>>,
    profiles: Option<Vec<Spanned<RawProfile>>>,
    extenders: Option<Spanned<Vec<IgnoredAny>>>,
    #[allow(dead_code)]
    delay_cache_until_active: Option<IgnoredAny>,
}

/// One item of `profiles`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawProfile {
    scheduler_name: Option<Spanned<String>>,
    percentage_of_nodes_to_score: Option<Spanned<i32>>,
    /// Workload (pod group) scheduling, after v1.35: accepted and ignored.
    #[allow(dead_code)]
    percentage_of_placements_to_score: Option<IgnoredAny>,
    plugins: Option<Spanned<RawPlugins>>,
    plugin_config: Option<Vec<Spanned<RawPluginConfig>>>,
}

/// `plugins`: one set per extension point, and `multiPoint`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPlugins {
    pre_enqueue: Option<Spanned<RawPluginSet>>,
    queue_sort: Option<Spanned<RawPluginSet>>,
    pre_filter: Option<Spanned<RawPluginSet>>,
    filter: Option<Spanned<RawPluginSet>>,
    post_filter: Option<Spanned<RawPluginSet>>,
    pre_score: Option<Spanned<RawPluginSet>>,
    score: Option<Spanned<RawPluginSet>>,
    reserve: Option<Spanned<RawPluginSet>>,
    permit: Option<Spanned<RawPluginSet>>,
    pre_bind: Option<Spanned<RawPluginSet>>,
    bind: Option<Spanned<RawPluginSet>>,
    post_bind: Option<Spanned<RawPluginSet>>,
    multi_point: Option<Spanned<RawPluginSet>>,
    // Workload (pod group) scheduling, after v1.35: accepted and ignored.
    placement_generate: Option<Spanned<RawPluginSet>>,
    placement_score: Option<Spanned<RawPluginSet>>,
    placement_feasible: Option<Spanned<RawPluginSet>>,
    pod_group_post_filter: Option<Spanned<RawPluginSet>>,
}

impl RawPlugins {
    /// The set at an extension point.
    fn at(&self, point: ExtensionPoint) -> Option<&Spanned<RawPluginSet>> {
        match point {
            ExtensionPoint::PreEnqueue => self.pre_enqueue.as_ref(),
            ExtensionPoint::QueueSort => self.queue_sort.as_ref(),
            ExtensionPoint::PreFilter => self.pre_filter.as_ref(),
            ExtensionPoint::Filter => self.filter.as_ref(),
            ExtensionPoint::PostFilter => self.post_filter.as_ref(),
            ExtensionPoint::PreScore => self.pre_score.as_ref(),
            ExtensionPoint::Score => self.score.as_ref(),
            ExtensionPoint::Reserve => self.reserve.as_ref(),
            ExtensionPoint::Permit => self.permit.as_ref(),
            ExtensionPoint::PreBind => self.pre_bind.as_ref(),
            ExtensionPoint::Bind => self.bind.as_ref(),
            ExtensionPoint::PostBind => self.post_bind.as_ref(),
        }
    }
}

/// A `PluginSet`.
#[derive(Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPluginSet {
    enabled: Option<Vec<Spanned<RawPlugin>>>,
    disabled: Option<Vec<Spanned<RawPlugin>>>,
}

/// `{name, weight}`.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPlugin {
    name: Spanned<String>,
    weight: Option<Spanned<i32>>,
}

/// One item of `pluginConfig`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPluginConfig {
    name: Spanned<String>,
    args: Option<Spanned<RawArgs>>,
}

/// `args`: every field of every argument kind schedlab reads, checked against the
/// plugin's kind afterwards (so the message can name the kind).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawArgs {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    // NodeResourcesFitArgs
    ignored_resources: Option<Spanned<Vec<Spanned<String>>>>,
    ignored_resource_groups: Option<Spanned<Vec<Spanned<String>>>>,
    scoring_strategy: Option<Spanned<RawScoringStrategy>>,
    // NodeResourcesBalancedAllocationArgs
    resources: Option<Spanned<Vec<Spanned<RawResource>>>>,
    // NodeAffinityArgs
    added_affinity: Option<Spanned<RawNodeAffinity>>,
    // PodTopologySpreadArgs
    default_constraints: Option<Spanned<Vec<Spanned<RawConstraint>>>>,
    defaulting_type: Option<Spanned<String>>,
    // InterPodAffinityArgs
    hard_pod_affinity_weight: Option<Spanned<i32>>,
    ignore_preferred_terms_of_existing_pods: Option<Spanned<bool>>,
    // DefaultPreemptionArgs
    min_candidate_nodes_percentage: Option<Spanned<i32>>,
    min_candidate_nodes_absolute: Option<Spanned<i32>>,
    // VolumeBindingArgs (accepted, without effect: no timeouts, no capacity scoring)
    bind_timeout_seconds: Option<Spanned<IgnoredAny>>,
    shape: Option<Spanned<IgnoredAny>>,
    // DynamicResourcesArgs (ignored)
    filter_timeout: Option<Spanned<IgnoredAny>>,
    binding_timeout: Option<Spanned<IgnoredAny>>,
}

/// The fields of each argument kind, besides `apiVersion` and `kind`.
const ARGS_FIELDS: &[(&str, &[&str])] = &[
    (
        "NodeResourcesFitArgs",
        &[
            "ignoredResources",
            "ignoredResourceGroups",
            "scoringStrategy",
        ],
    ),
    ("NodeResourcesBalancedAllocationArgs", &["resources"]),
    ("NodeAffinityArgs", &["addedAffinity"]),
    (
        "PodTopologySpreadArgs",
        &["defaultConstraints", "defaultingType"],
    ),
    (
        "InterPodAffinityArgs",
        &[
            "hardPodAffinityWeight",
            "ignorePreferredTermsOfExistingPods",
        ],
    ),
    (
        "DefaultPreemptionArgs",
        &["minCandidateNodesPercentage", "minCandidateNodesAbsolute"],
    ),
    ("VolumeBindingArgs", &["bindTimeoutSeconds", "shape"]),
    ("DynamicResourcesArgs", &["filterTimeout", "bindingTimeout"]),
];

impl RawArgs {
    /// The fields present, with where they are.
    fn present(&self) -> Vec<(&'static str, Location)> {
        fn at<T>(v: &Option<Spanned<T>>) -> Option<Location> {
            v.as_ref().map(|s| s.referenced)
        }
        [
            ("ignoredResources", at(&self.ignored_resources)),
            ("ignoredResourceGroups", at(&self.ignored_resource_groups)),
            ("scoringStrategy", at(&self.scoring_strategy)),
            ("resources", at(&self.resources)),
            ("addedAffinity", at(&self.added_affinity)),
            ("defaultConstraints", at(&self.default_constraints)),
            ("defaultingType", at(&self.defaulting_type)),
            ("hardPodAffinityWeight", at(&self.hard_pod_affinity_weight)),
            (
                "ignorePreferredTermsOfExistingPods",
                at(&self.ignore_preferred_terms_of_existing_pods),
            ),
            (
                "minCandidateNodesPercentage",
                at(&self.min_candidate_nodes_percentage),
            ),
            (
                "minCandidateNodesAbsolute",
                at(&self.min_candidate_nodes_absolute),
            ),
            ("bindTimeoutSeconds", at(&self.bind_timeout_seconds)),
            ("shape", at(&self.shape)),
            ("filterTimeout", at(&self.filter_timeout)),
            ("bindingTimeout", at(&self.binding_timeout)),
        ]
        .into_iter()
        .filter_map(|(k, l)| l.map(|l| (k, l)))
        .collect()
    }
}

/// `NodeResourcesFitArgs.scoringStrategy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawScoringStrategy {
    #[serde(rename = "type")]
    strategy_type: Option<Spanned<String>>,
    resources: Option<Spanned<Vec<Spanned<RawResource>>>>,
    requested_to_capacity_ratio: Option<Spanned<RawRequestedToCapacityRatio>>,
}

/// A `ResourceSpec`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawResource {
    name: Spanned<String>,
    weight: Option<Spanned<i64>>,
}

/// `scoringStrategy.requestedToCapacityRatio`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRequestedToCapacityRatio {
    shape: Option<Spanned<Vec<Spanned<RawShapePoint>>>>,
}

/// A `UtilizationShapePoint`; an unset field is 0, as when Go decodes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawShapePoint {
    utilization: Option<Spanned<i32>>,
    score: Option<Spanned<i32>>,
}

/// `addedAffinity`, a core/v1 `NodeAffinity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawNodeAffinity {
    required_during_scheduling_ignored_during_execution: Option<Spanned<RawNodeSelector>>,
    preferred_during_scheduling_ignored_during_execution: Option<Vec<Spanned<RawPreferred>>>,
}

/// A `NodeSelector`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawNodeSelector {
    node_selector_terms: Option<Vec<Spanned<RawTerm>>>,
}

/// A `NodeSelectorTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTerm {
    match_expressions: Option<Vec<Spanned<RawRequirement>>>,
    match_fields: Option<Vec<Spanned<RawRequirement>>>,
}

/// A `NodeSelectorRequirement`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRequirement {
    key: Spanned<String>,
    operator: Spanned<String>,
    values: Option<Spanned<Vec<String>>>,
}

/// A `PreferredSchedulingTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPreferred {
    weight: Spanned<i32>,
    preference: Spanned<RawTerm>,
}

/// A `TopologySpreadConstraint` of `defaultConstraints`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConstraint {
    max_skew: Option<Spanned<i32>>,
    topology_key: Option<Spanned<String>>,
    when_unsatisfiable: Option<Spanned<String>>,
    label_selector: Option<Spanned<IgnoredAny>>,
    min_domains: Option<Spanned<i32>>,
    node_affinity_policy: Option<Spanned<String>>,
    node_taints_policy: Option<Spanned<String>>,
    match_label_keys: Option<Vec<String>>,
}

// ----- interpretation ------------------------------------------------------------------

/// Interprets the raw document, recording where every field it reads is.
struct Reader<'a> {
    path: &'a str,
    /// Field path -> position, for the errors [`ResolvedProfile::resolve`] names by field.
    spans: HashMap<String, Location>,
    warnings: Vec<String>,
}

type Result<T> = std::result::Result<T, SchedulerConfigError>;

impl Reader<'_> {
    /// An error at `at` about `field`.
    fn err(&self, at: Location, field: &str, message: impl Into<String>) -> SchedulerConfigError {
        let (line, column) = line_column(at);
        SchedulerConfigError {
            path: self.path.to_owned(),
            line,
            column,
            field: (!field.is_empty()).then(|| field.to_owned()),
            message: message.into(),
        }
    }

    /// Records that `field` is at `at`.
    fn mark(&mut self, field: &str, at: Location) {
        self.spans.insert(field.to_owned(), at);
    }

    /// The recorded position of `field`, or of its nearest recorded ancestor.
    fn locate(&self, field: &str) -> Option<Location> {
        let mut f = field;
        loop {
            if let Some(&at) = self.spans.get(f) {
                return Some(at);
            }
            let cut = f.rfind(['.', '['])?;
            f = &f[..cut];
        }
    }

    /// An error from the registry about `prefix.field`, placed where that field is.
    fn registry_error(&self, prefix: &str, e: ConfigError) -> SchedulerConfigError {
        let e = e.within(prefix);
        let at = self.locate(&e.field);
        let (line, column) = at.map_or((None, None), line_column);
        SchedulerConfigError {
            path: self.path.to_owned(),
            line,
            column,
            field: (!e.field.is_empty()).then_some(e.field),
            message: e.message,
        }
    }

    /// A warning about `field`, placed where it is.
    fn warn(&mut self, field: &str, message: impl fmt::Display) {
        let at = self.locate(field);
        let (line, column) = at.map_or((None, None), line_column);
        let rendered = SchedulerConfigError {
            path: self.path.to_owned(),
            line,
            column,
            field: (!field.is_empty()).then(|| field.to_owned()),
            message: message.to_string(),
        };
        self.warnings.push(rendered.to_string());
    }

    fn config(&mut self, raw: &Spanned<RawConfig>) -> Result<SchedulerConfig> {
        let root = raw.referenced;
        let raw = &raw.value;
        match &raw.api_version {
            None => {
                return Err(self.err(
                    root,
                    "apiVersion",
                    format!("missing required field; expected {API_VERSION}"),
                ));
            }
            Some(v) if v.value != API_VERSION => {
                let hint = if v.value.starts_with("kubescheduler.config.k8s.io/") {
                    " (the beta versions are no longer served since Kubernetes v1.29; \
                     the v1 format differs little: see docs/scheduler-config.md)"
                } else {
                    ""
                };
                return Err(self.err(
                    v.referenced,
                    "apiVersion",
                    format!(
                        "unsupported version {:?}; schedlab reads {API_VERSION}{hint}",
                        v.value
                    ),
                ));
            }
            Some(_) => {}
        }
        match &raw.kind {
            None => {
                return Err(self.err(
                    root,
                    "kind",
                    format!("missing required field; expected {KIND}"),
                ));
            }
            Some(k) if k.value != KIND => {
                return Err(self.err(
                    k.referenced,
                    "kind",
                    format!("unsupported kind {:?}; expected {KIND}", k.value),
                ));
            }
            Some(_) => {}
        }
        if let Some(p) = &raw.parallelism
            && p.value <= 0
        {
            return Err(self.err(
                p.referenced,
                "parallelism",
                format!(
                    "invalid value {}: should be an integer value greater than zero",
                    p.value
                ),
            ));
        }
        let global_percentage = match &raw.percentage_of_nodes_to_score {
            Some(p) => {
                self.check_percentage(p, "percentageOfNodesToScore")?;
                Some(i64::from(p.value))
            }
            None => None,
        };
        self.backoff(raw)?;
        if let Some(extenders) = &raw.extenders
            && !extenders.value.is_empty()
        {
            self.mark("extenders", extenders.referenced);
            self.warn(
                "extenders",
                "scheduler extenders are not simulated; the profiles run without them",
            );
        }

        // Profiles: none means one default profile; a single unnamed one is
        // default-scheduler; otherwise every profile needs a distinct name.
        let raw_profiles = raw.profiles.as_deref().unwrap_or_default();
        let mut configs = Vec::new();
        let mut name_sites = Vec::new();
        if raw_profiles.is_empty() {
            configs.push(registry::default_profile_config(DEFAULT_SCHEDULER_NAME));
            // The profile kube-scheduler adds: nowhere in the file.
            name_sites.push(SchedulerConfigError {
                path: self.path.to_owned(),
                line: None,
                column: None,
                field: None,
                message: String::new(),
            });
        }
        for (i, p) in raw_profiles.iter().enumerate() {
            let base = format!("profiles[{i}]");
            self.mark(&base, p.referenced);
            name_sites.push(match &p.value.scheduler_name {
                Some(n) => self.err(n.referenced, &format!("{base}.schedulerName"), ""),
                None => self.err(p.referenced, &base, ""),
            });
            let name = match &p.value.scheduler_name {
                None if raw_profiles.len() == 1 => DEFAULT_SCHEDULER_NAME.to_owned(),
                None => {
                    return Err(self.err(
                        p.referenced,
                        &format!("{base}.schedulerName"),
                        "required: every profile of a configuration with several profiles needs a schedulerName",
                    ));
                }
                Some(n) if n.value.is_empty() => {
                    return Err(self.err(
                        n.referenced,
                        &format!("{base}.schedulerName"),
                        "required value: the name must not be empty",
                    ));
                }
                Some(n) => {
                    if let Some(j) = configs
                        .iter()
                        .position(|c: &ProfileConfig| c.scheduler_name == n.value)
                    {
                        return Err(self.err(
                            n.referenced,
                            &format!("{base}.schedulerName"),
                            format!(
                                "duplicate value {:?}: profiles[{j}] has that name already",
                                n.value
                            ),
                        ));
                    }
                    n.value.clone()
                }
            };
            configs.push(self.profile(&p.value, &base, name)?);
        }
        self.common_queue_sort(raw_profiles)?;

        let mut profiles = Vec::with_capacity(configs.len());
        for (i, config) in configs.iter().enumerate() {
            let base = format!("profiles[{i}]");
            let resolution = ResolvedProfile::resolve(config, global_percentage)
                .map_err(|e| self.registry_error(&base, e))?;
            for w in resolution.warnings {
                self.warn(&join(&base, &w.field), w.message);
            }
            profiles.push(resolution.profile);
        }
        Ok(SchedulerConfig {
            profiles,
            name_sites,
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    fn check_percentage(&self, p: &Spanned<i32>, field: &str) -> Result<()> {
        if !(0..=100).contains(&p.value) {
            return Err(self.err(
                p.referenced,
                field,
                format!("invalid value {}: not in valid range [0-100]", p.value),
            ));
        }
        Ok(())
    }

    /// `podInitialBackoffSeconds` and `podMaxBackoffSeconds`: validated as upstream; the
    /// simulator's queue always uses kube-scheduler's defaults.
    fn backoff(&mut self, raw: &RawConfig) -> Result<()> {
        let initial = raw.pod_initial_backoff_seconds.as_ref();
        let max = raw.pod_max_backoff_seconds.as_ref();
        if let Some(i) = initial
            && i.value <= 0
        {
            return Err(self.err(
                i.referenced,
                "podInitialBackoffSeconds",
                format!("invalid value {}: must be greater than 0", i.value),
            ));
        }
        let initial_value = initial.map_or(DEFAULT_INITIAL_BACKOFF_SECONDS, |i| i.value);
        if let Some(m) = max
            && m.value < initial_value
        {
            return Err(self.err(
                m.referenced,
                "podMaxBackoffSeconds",
                format!(
                    "invalid value {}: must be greater than or equal to podInitialBackoffSeconds",
                    m.value
                ),
            ));
        }
        for (field, v, default) in [
            (
                "podInitialBackoffSeconds",
                initial,
                DEFAULT_INITIAL_BACKOFF_SECONDS,
            ),
            ("podMaxBackoffSeconds", max, DEFAULT_MAX_BACKOFF_SECONDS),
        ] {
            if let Some(v) = v
                && v.value != default
            {
                self.mark(field, v.referenced);
                self.warn(
                    field,
                    format!(
                        "ignored: the simulator's queue always backs off from \
                         {DEFAULT_INITIAL_BACKOFF_SECONDS}s to {DEFAULT_MAX_BACKOFF_SECONDS}s, \
                         kube-scheduler's defaults"
                    ),
                );
            }
        }
        Ok(())
    }

    /// Upstream's `validateCommonQueueSort`: every profile must sort the queue alike.
    fn common_queue_sort(&self, profiles: &[Spanned<RawProfile>]) -> Result<()> {
        fn queue_sort(p: &RawProfile) -> Option<&RawPluginSet> {
            p.plugins
                .as_ref()
                .and_then(|pl| pl.value.queue_sort.as_ref())
                .map(|s| &s.value)
                .filter(|s| **s != RawPluginSet::default())
        }
        let Some(first) = profiles.first() else {
            return Ok(());
        };
        let canon = queue_sort(&first.value);
        if let Some(set) = canon
            && set.enabled.as_ref().is_some_and(|e| e.len() > 1)
        {
            let at = first
                .value
                .plugins
                .as_ref()
                .and_then(|p| p.value.queue_sort.as_ref())
                .map_or(first.referenced, |s| s.referenced);
            return Err(self.err(
                at,
                "profiles[0].plugins.queueSort.enabled",
                "only one queue sort plugin can be enabled",
            ));
        }
        for (i, p) in profiles.iter().enumerate().skip(1) {
            if queue_sort(&p.value) != canon {
                let at = p
                    .value
                    .plugins
                    .as_ref()
                    .and_then(|pl| pl.value.queue_sort.as_ref())
                    .map_or(p.referenced, |s| s.referenced);
                return Err(self.err(
                    at,
                    &format!("profiles[{i}].plugins.queueSort"),
                    "must be the same for all profiles",
                ));
            }
        }
        Ok(())
    }

    fn profile(&mut self, raw: &RawProfile, base: &str, name: String) -> Result<ProfileConfig> {
        let mut config = registry::default_profile_config(name);
        if let Some(p) = &raw.percentage_of_nodes_to_score {
            let field = format!("{base}.percentageOfNodesToScore");
            self.check_percentage(p, &field)?;
            self.mark(&field, p.referenced);
            config.percentage_of_nodes_to_score = Some(i64::from(p.value));
        }
        if let Some(plugins) = &raw.plugins {
            let pbase = format!("{base}.plugins");
            self.mark(&pbase, plugins.referenced);
            if let Some(set) = &plugins.value.multi_point {
                config.plugins.multi_point = self.plugin_set(set, &format!("{pbase}.multiPoint"));
            }
            for point in ExtensionPoint::ALL {
                if let Some(set) = plugins.value.at(point) {
                    *config.plugins.set_mut(point) =
                        self.plugin_set(set, &format!("{pbase}.{}", point.config_key()));
                }
            }
            let workload_sets = [
                ("placementGenerate", &plugins.value.placement_generate),
                ("placementScore", &plugins.value.placement_score),
                ("placementFeasible", &plugins.value.placement_feasible),
                ("podGroupPostFilter", &plugins.value.pod_group_post_filter),
            ];
            for (key, set) in workload_sets {
                if let Some(set) = set
                    && set.value != RawPluginSet::default()
                {
                    let field = format!("{pbase}.{key}");
                    self.mark(&field, set.referenced);
                    self.warn(
                        &field,
                        "ignored: schedlab does not simulate workload (pod group) scheduling",
                    );
                }
            }
        }
        for (i, entry) in raw.plugin_config.iter().flatten().enumerate() {
            let field = format!("{base}.pluginConfig[{i}]");
            self.mark(&field, entry.referenced);
            self.mark(&format!("{field}.name"), entry.value.name.referenced);
            let args = self.plugin_args(&entry.value, &field)?;
            config.plugin_config.push(PluginConfigEntry {
                name: entry.value.name.value.clone(),
                args,
            });
        }
        Ok(config)
    }

    fn plugin_set(&mut self, set: &Spanned<RawPluginSet>, base: &str) -> PluginSet {
        self.mark(base, set.referenced);
        let mut out = PluginSet::default();
        for (i, p) in set.value.enabled.iter().flatten().enumerate() {
            let field = format!("{base}.enabled[{i}]");
            self.mark(&field, p.referenced);
            self.mark(&format!("{field}.name"), p.value.name.referenced);
            if let Some(w) = &p.value.weight {
                self.mark(&format!("{field}.weight"), w.referenced);
            }
            out.enabled.push(PluginRef {
                name: p.value.name.value.clone(),
                weight: p.value.weight.as_ref().map(|w| i64::from(w.value)),
            });
        }
        for (i, p) in set.value.disabled.iter().flatten().enumerate() {
            let field = format!("{base}.disabled[{i}]");
            self.mark(&field, p.referenced);
            self.mark(&format!("{field}.name"), p.value.name.referenced);
            out.disabled.push(p.value.name.value.clone());
        }
        out
    }

    /// `pluginConfig[i]`'s arguments, of the kind its plugin takes, with v1 defaulting.
    fn plugin_args(&mut self, entry: &RawPluginConfig, base: &str) -> Result<PluginArgs> {
        // An unknown plugin is reported by the registry, with the known names.
        let Some(info) = registry::plugin(&entry.name.value) else {
            return Ok(PluginArgs::Ignored);
        };
        let abase = format!("{base}.args");
        let Some(args) = &entry.args else {
            return Ok(match info.args_kind {
                Some(kind) => self.default_args(kind),
                None => PluginArgs::Ignored,
            });
        };
        self.mark(&abase, args.referenced);
        let raw = &args.value;
        let present = raw.present();
        let Some(kind) = info.args_kind else {
            if present.is_empty() && raw.kind.is_none() {
                return Ok(PluginArgs::Ignored);
            }
            return Err(self.err(
                args.referenced,
                &abase,
                format!("plugin {} takes no arguments", info.name),
            ));
        };
        if let Some(v) = &raw.api_version
            && v.value != API_VERSION
        {
            return Err(self.err(
                v.referenced,
                &format!("{abase}.apiVersion"),
                format!("unsupported version {:?}; expected {API_VERSION}", v.value),
            ));
        }
        if let Some(k) = &raw.kind
            && k.value != kind
        {
            return Err(self.err(
                k.referenced,
                &format!("{abase}.kind"),
                format!(
                    "args for plugin {} were not of type {kind}, got {}",
                    info.name, k.value
                ),
            ));
        }
        let allowed = ARGS_FIELDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(&[][..], |(_, f)| *f);
        if let Some((field, at)) = present.iter().find(|(f, _)| !allowed.contains(f)) {
            return Err(self.err(
                *at,
                &format!("{abase}.{field}"),
                format!(
                    "unknown field `{field}` in {kind}; allowed: {}",
                    allowed_with_meta(allowed)
                ),
            ));
        }
        Ok(match kind {
            "NodeResourcesFitArgs" => PluginArgs::NodeResourcesFit(self.fit_args(raw, &abase)?),
            "NodeResourcesBalancedAllocationArgs" => {
                let mut a = BalancedAllocationArgs::default();
                if let Some(r) = &raw.resources {
                    a.resources = self.resources(r, &format!("{abase}.resources"));
                }
                PluginArgs::NodeResourcesBalancedAllocation(a)
            }
            "NodeAffinityArgs" => {
                let mut a = NodeAffinityArgs::default();
                if let Some(added) = &raw.added_affinity {
                    a.added_affinity =
                        Some(self.node_affinity(added, &format!("{abase}.addedAffinity"))?);
                }
                PluginArgs::NodeAffinity(a)
            }
            "PodTopologySpreadArgs" => {
                PluginArgs::PodTopologySpread(self.spread_args(raw, &abase)?)
            }
            "InterPodAffinityArgs" => {
                let mut a = InterPodAffinityArgs::default();
                if let Some(w) = &raw.hard_pod_affinity_weight {
                    self.mark(&format!("{abase}.hardPodAffinityWeight"), w.referenced);
                    a.hard_pod_affinity_weight = w.value;
                }
                if let Some(b) = &raw.ignore_preferred_terms_of_existing_pods {
                    a.ignore_preferred_terms_of_existing_pods = b.value;
                }
                PluginArgs::InterPodAffinity(a)
            }
            "DefaultPreemptionArgs" => {
                let mut a = DefaultPreemptionArgs::default();
                if let Some(p) = &raw.min_candidate_nodes_percentage {
                    self.mark(
                        &format!("{abase}.minCandidateNodesPercentage"),
                        p.referenced,
                    );
                    a.min_candidate_nodes_percentage = p.value;
                }
                if let Some(n) = &raw.min_candidate_nodes_absolute {
                    self.mark(&format!("{abase}.minCandidateNodesAbsolute"), n.referenced);
                    a.min_candidate_nodes_absolute = n.value;
                }
                PluginArgs::DefaultPreemption(a)
            }
            _ => PluginArgs::Ignored,
        })
    }

    /// The v1 defaults of an argument kind, as kube-scheduler fills in a plugin without
    /// `pluginConfig`.
    fn default_args(&self, kind: &str) -> PluginArgs {
        match kind {
            "NodeResourcesFitArgs" => PluginArgs::NodeResourcesFit(NodeResourcesFitArgs::default()),
            "NodeResourcesBalancedAllocationArgs" => {
                PluginArgs::NodeResourcesBalancedAllocation(BalancedAllocationArgs::default())
            }
            "NodeAffinityArgs" => PluginArgs::NodeAffinity(NodeAffinityArgs::default()),
            "PodTopologySpreadArgs" => {
                PluginArgs::PodTopologySpread(PodTopologySpreadArgs::default())
            }
            "InterPodAffinityArgs" => PluginArgs::InterPodAffinity(InterPodAffinityArgs::default()),
            "DefaultPreemptionArgs" => {
                PluginArgs::DefaultPreemption(DefaultPreemptionArgs::default())
            }
            _ => PluginArgs::Ignored,
        }
    }

    /// `NodeResourcesFitArgs`, defaulted as `SetDefaults_NodeResourcesFitArgs`.
    fn fit_args(&mut self, raw: &RawArgs, base: &str) -> Result<NodeResourcesFitArgs> {
        let mut a = NodeResourcesFitArgs::default();
        for (key, list, out) in [
            (
                "ignoredResources",
                &raw.ignored_resources,
                &mut a.ignored_resources,
            ),
            (
                "ignoredResourceGroups",
                &raw.ignored_resource_groups,
                &mut a.ignored_resource_groups,
            ),
        ] {
            if let Some(list) = list {
                let field = format!("{base}.{key}");
                self.mark(&field, list.referenced);
                for (i, v) in list.value.iter().enumerate() {
                    self.mark(&format!("{field}[{i}]"), v.referenced);
                    out.push(v.value.clone());
                }
            }
        }
        let Some(strategy) = &raw.scoring_strategy else {
            return Ok(a);
        };
        let sbase = format!("{base}.scoringStrategy");
        self.mark(&sbase, strategy.referenced);
        let s = &strategy.value;
        let resources = match &s.resources {
            Some(r) => self.resources(r, &format!("{sbase}.resources")),
            None => ResourceSpec::defaults(),
        };
        const TYPES: &str = "LeastAllocated, MostAllocated, RequestedToCapacityRatio";
        let type_field = format!("{sbase}.type");
        let Some(t) = &s.strategy_type else {
            return Err(self.err(
                strategy.referenced,
                &type_field,
                format!("unsupported value \"\": supported values: {TYPES}"),
            ));
        };
        let ratio_field = format!("{sbase}.requestedToCapacityRatio");
        let strategy_type = match t.value.as_str() {
            "LeastAllocated" | "MostAllocated" => {
                if let Some(r) = &s.requested_to_capacity_ratio {
                    return Err(self.err(
                        r.referenced,
                        &ratio_field,
                        "forbidden: must be nil when type is not RequestedToCapacityRatio",
                    ));
                }
                if t.value == "LeastAllocated" {
                    ScoringStrategyType::LeastAllocated
                } else {
                    ScoringStrategyType::MostAllocated
                }
            }
            "RequestedToCapacityRatio" => {
                let Some(r) = &s.requested_to_capacity_ratio else {
                    return Err(self.err(
                        t.referenced,
                        &ratio_field,
                        "required: must be specified when type is RequestedToCapacityRatio",
                    ));
                };
                self.mark(&ratio_field, r.referenced);
                let shape_field = format!("{ratio_field}.shape");
                let mut shape = Vec::new();
                if let Some(points) = &r.value.shape {
                    self.mark(&shape_field, points.referenced);
                    for (i, p) in points.value.iter().enumerate() {
                        let pfield = format!("{shape_field}[{i}]");
                        self.mark(&pfield, p.referenced);
                        let mut value = |key: &str, v: &Option<Spanned<i32>>| {
                            if let Some(v) = v {
                                self.mark(&format!("{pfield}.{key}"), v.referenced);
                            }
                            v.as_ref().map_or(0, |v| i64::from(v.value))
                        };
                        let utilization = value("utilization", &p.value.utilization);
                        let score = value("score", &p.value.score);
                        shape.push(ShapePoint { utilization, score });
                    }
                }
                ScoringStrategyType::RequestedToCapacityRatio { shape }
            }
            other => {
                return Err(self.err(
                    t.referenced,
                    &type_field,
                    format!("unsupported value {other:?}: supported values: {TYPES}"),
                ));
            }
        };
        a.scoring_strategy = ScoringStrategy {
            strategy_type,
            resources,
        };
        Ok(a)
    }

    /// A list of `ResourceSpec`s: an empty one is `cpu` and `memory`, an unset or zero
    /// weight is 1.
    fn resources(
        &mut self,
        list: &Spanned<Vec<Spanned<RawResource>>>,
        base: &str,
    ) -> Vec<ResourceSpec> {
        self.mark(base, list.referenced);
        if list.value.is_empty() {
            return ResourceSpec::defaults();
        }
        let mut out = Vec::with_capacity(list.value.len());
        for (i, r) in list.value.iter().enumerate() {
            let field = format!("{base}[{i}]");
            self.mark(&field, r.referenced);
            self.mark(&format!("{field}.name"), r.value.name.referenced);
            if let Some(w) = &r.value.weight {
                self.mark(&format!("{field}.weight"), w.referenced);
            }
            let weight = match r.value.weight.as_ref().map(|w| w.value) {
                None | Some(0) => 1,
                Some(w) => w,
            };
            out.push(ResourceSpec::new(r.value.name.value.clone(), weight));
        }
        out
    }

    /// `addedAffinity`; term syntax is checked by the plugin, with field paths.
    fn node_affinity(
        &mut self,
        raw: &Spanned<RawNodeAffinity>,
        base: &str,
    ) -> Result<labels::NodeAffinity> {
        self.mark(base, raw.referenced);
        let mut out = labels::NodeAffinity::default();
        if let Some(required) = &raw
            .value
            .required_during_scheduling_ignored_during_execution
        {
            let rbase = format!("{base}.requiredDuringSchedulingIgnoredDuringExecution");
            self.mark(&rbase, required.referenced);
            let tbase = format!("{rbase}.nodeSelectorTerms");
            let mut terms = Vec::new();
            for (i, t) in required
                .value
                .node_selector_terms
                .iter()
                .flatten()
                .enumerate()
            {
                terms.push(self.term(t, &format!("{tbase}[{i}]"))?);
            }
            out.required = Some(terms);
        }
        let pbase = format!("{base}.preferredDuringSchedulingIgnoredDuringExecution");
        for (i, p) in raw
            .value
            .preferred_during_scheduling_ignored_during_execution
            .iter()
            .flatten()
            .enumerate()
        {
            let field = format!("{pbase}[{i}]");
            self.mark(&field, p.referenced);
            self.mark(&format!("{field}.weight"), p.value.weight.referenced);
            out.preferred.push(PreferredTerm {
                weight: p.value.weight.value,
                preference: self.term(&p.value.preference, &format!("{field}.preference"))?,
            });
        }
        Ok(out)
    }

    fn term(&mut self, raw: &Spanned<RawTerm>, base: &str) -> Result<NodeSelectorTerm> {
        self.mark(base, raw.referenced);
        let mut term = NodeSelectorTerm::default();
        for (fields, list) in [
            (false, &raw.value.match_expressions),
            (true, &raw.value.match_fields),
        ] {
            let key = if fields {
                "matchFields"
            } else {
                "matchExpressions"
            };
            for (i, r) in list.iter().flatten().enumerate() {
                let field = format!("{base}.{key}[{i}]");
                self.mark(&field, r.referenced);
                self.mark(&format!("{field}.key"), r.value.key.referenced);
                self.mark(&format!("{field}.operator"), r.value.operator.referenced);
                if let Some(v) = &r.value.values {
                    self.mark(&format!("{field}.values"), v.referenced);
                }
                let operator =
                    SelectorOperator::parse(&r.value.operator.value).ok_or_else(|| {
                        self.err(
                            r.value.operator.referenced,
                            &format!("{field}.operator"),
                            format!(
                                "unsupported value {:?}: supported values: In, NotIn, Exists, \
                             DoesNotExist, Gt, Lt",
                                r.value.operator.value
                            ),
                        )
                    })?;
                if fields && r.value.key.value != "metadata.name" {
                    return Err(self.err(
                        r.value.key.referenced,
                        &format!("{field}.key"),
                        format!(
                            "invalid value {:?}: not a supported field selector; only metadata.name",
                            r.value.key.value
                        ),
                    ));
                }
                let requirement = labels::SelectorRequirement {
                    key: r.value.key.value.clone(),
                    operator,
                    values: r
                        .value
                        .values
                        .as_ref()
                        .map_or_else(Vec::new, |v| v.value.clone()),
                };
                if fields {
                    term.match_fields.push(requirement);
                } else {
                    term.match_expressions.push(requirement);
                }
            }
        }
        Ok(term)
    }

    /// `PodTopologySpreadArgs`, defaulted as `SetDefaults_PodTopologySpreadArgs`.
    fn spread_args(&mut self, raw: &RawArgs, base: &str) -> Result<PodTopologySpreadArgs> {
        let mut a = PodTopologySpreadArgs::default();
        if let Some(t) = &raw.defaulting_type {
            let field = format!("{base}.defaultingType");
            self.mark(&field, t.referenced);
            a.defaulting_type = match t.value.as_str() {
                "System" => DefaultingType::System,
                "List" => DefaultingType::List,
                other => {
                    return Err(self.err(
                        t.referenced,
                        &field,
                        format!("unsupported value {other:?}: supported values: System, List"),
                    ));
                }
            };
        }
        let Some(list) = &raw.default_constraints else {
            return Ok(a);
        };
        let cbase = format!("{base}.defaultConstraints");
        self.mark(&cbase, list.referenced);
        for (i, c) in list.value.iter().enumerate() {
            let field = format!("{cbase}[{i}]");
            self.mark(&field, c.referenced);
            let c = &c.value;
            if let Some(s) = &c.label_selector {
                return Err(self.err(
                    s.referenced,
                    &format!("{field}.labelSelector"),
                    "forbidden: constraint must not define a selector, as they deduced for each pod",
                ));
            }
            let mut out = TopologySpreadConstraint {
                max_skew: 0,
                ..TopologySpreadConstraint::default()
            };
            if let Some(m) = &c.max_skew {
                self.mark(&format!("{field}.maxSkew"), m.referenced);
                out.max_skew = m.value;
            }
            if let Some(k) = &c.topology_key {
                self.mark(&format!("{field}.topologyKey"), k.referenced);
                out.topology_key = k.value.clone();
            }
            let when_field = format!("{field}.whenUnsatisfiable");
            out.when_unsatisfiable = match &c.when_unsatisfiable {
                None => {
                    return Err(self.err(
                        list.value[i].referenced,
                        &when_field,
                        "required value: can not be empty",
                    ));
                }
                Some(w) => match w.value.as_str() {
                    "DoNotSchedule" => WhenUnsatisfiable::DoNotSchedule,
                    "ScheduleAnyway" => WhenUnsatisfiable::ScheduleAnyway,
                    other => {
                        return Err(self.err(
                            w.referenced,
                            &when_field,
                            format!(
                                "unsupported value {other:?}: supported values: DoNotSchedule, ScheduleAnyway"
                            ),
                        ));
                    }
                },
            };
            out.min_domains = c.min_domains.as_ref().map(|m| m.value);
            for (key, v, slot) in [
                (
                    "nodeAffinityPolicy",
                    &c.node_affinity_policy,
                    &mut out.node_affinity_policy,
                ),
                (
                    "nodeTaintsPolicy",
                    &c.node_taints_policy,
                    &mut out.node_taints_policy,
                ),
            ] {
                if let Some(v) = v {
                    *slot = match v.value.as_str() {
                        "Honor" => InclusionPolicy::Honor,
                        "Ignore" => InclusionPolicy::Ignore,
                        other => {
                            return Err(self.err(
                                v.referenced,
                                &format!("{field}.{key}"),
                                format!(
                                    "unsupported value {other:?}: supported values: Honor, Ignore"
                                ),
                            ));
                        }
                    };
                }
            }
            out.match_label_keys = c.match_label_keys.clone().unwrap_or_default();
            a.default_constraints.push(out);
        }
        Ok(a)
    }
}

/// The allowed fields of an argument kind, for a message.
fn allowed_with_meta(fields: &[&str]) -> String {
    let mut all: Vec<&str> = vec!["apiVersion", "kind"];
    all.extend_from_slice(fields);
    all.join(", ")
}

/// `a.b`, or `a[0]` when `b` is an index, or either alone.
fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (_, true) => a.to_owned(),
        (true, false) => b.to_owned(),
        (false, false) if b.starts_with('[') => format!("{a}{b}"),
        (false, false) => format!("{a}.{b}"),
    }
}

/// The line and column of a location, `None` when unknown (line 0).
fn line_column(loc: Location) -> (Option<u64>, Option<u64>) {
    if loc.line() == 0 {
        (None, None)
    } else {
        (Some(loc.line()), (loc.column() > 0).then_some(loc.column()))
    }
}

// ----- locating serde errors -----------------------------------------------------------

/// An untyped YAML node with the positions of its children, read only to name the field
/// a serde error is about.
enum Tree {
    Scalar(String),
    Seq(Vec<Spanned<Tree>>),
    Map(Vec<(Spanned<Key>, Spanned<Tree>)>),
}

/// A mapping key as written (read with `deserialize_str`, which gives the source text).
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Key)
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Tree;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Tree, E> {
        Ok(Tree::Scalar(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Tree, E> {
        Ok(Tree::Scalar(v.to_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<Tree, E> {
        Ok(Tree::Scalar(String::new()))
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<Tree, E> {
        Ok(Tree::Scalar(String::new()))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Tree, D::Error> {
        Tree::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Tree, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Tree::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Tree, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Tree::Map(entries))
    }
}

/// What sits at a position: the path of the deepest key or value starting there, and
/// the value (`None` for a key).
fn find_at<'t>(
    node: &'t Spanned<Tree>,
    at: Location,
    path: &mut String,
    best: &mut Option<(String, Option<&'t Tree>)>,
) {
    let same = |l: Location| l.line() == at.line() && l.column() == at.column();
    if same(node.referenced) {
        *best = Some((path.clone(), Some(&node.value)));
    }
    let len = path.len();
    match &node.value {
        Tree::Scalar(_) => {}
        Tree::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                find_at(item, at, path, best);
                path.truncate(len);
            }
        }
        Tree::Map(entries) => {
            for (key, value) in entries {
                *path = join(&path[..len], &key.value.0);
                if same(key.referenced) {
                    *best = Some((path.clone(), None));
                }
                find_at(value, at, path, best);
                path.truncate(len);
            }
        }
    }
}

/// The scalar at `path` in the tree, if any (to name the plugin whose `args` failed).
fn scalar_at<'t>(node: &'t Spanned<Tree>, path: &str) -> Option<&'t str> {
    walk_to(node, path, "")
}

/// [`scalar_at`], with `at` the path of `node`; only the branches leading to `want` are
/// visited.
fn walk_to<'t>(node: &'t Spanned<Tree>, want: &str, at: &str) -> Option<&'t str> {
    if at == want {
        return match &node.value {
            Tree::Scalar(s) => Some(s),
            _ => None,
        };
    }
    let step = |child: &'t Spanned<Tree>, path: String| {
        want.starts_with(path.as_str())
            .then(|| walk_to(child, want, &path))
            .flatten()
    };
    match &node.value {
        Tree::Scalar(_) => None,
        Tree::Seq(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| step(item, format!("{at}[{i}]"))),
        Tree::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| step(v, join(at, &k.value.0))),
    }
}

/// The error serde-saphyr wraps in snippets and alias information.
fn innermost(mut err: &Error) -> &Error {
    loop {
        match err {
            Error::WithSnippet { error, .. } | Error::AliasError { error, .. } => err = error,
            _ => return err,
        }
    }
}

/// Turns a parse error into a [`SchedulerConfigError`] naming the field.
fn translate(err: &Error, text: &str, path: &str) -> SchedulerConfigError {
    let location = err.location();
    let inner = innermost(err);
    let mut options = Options::default();
    options.with_snippet = false;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    let tree = serde_saphyr::from_str_with_options::<Option<Spanned<Tree>>>(text, options)
        .ok()
        .flatten();
    let mut hit = None;
    if let (Some(root), Some(at)) = (&tree, location) {
        find_at(root, at, &mut String::new(), &mut hit);
    }
    let mut field = hit.as_ref().map(|(p, _)| p.clone()).unwrap_or_default();
    let message = match inner {
        Error::SerdeUnknownField {
            field: name,
            expected,
            ..
        } => {
            // In `args`, name the plugin's own fields rather than every kind's.
            let parent = field.rsplit_once('.').map_or("", |(p, _)| p);
            let args_kind = parent
                .strip_suffix(".args")
                .and_then(|entry| {
                    tree.as_ref()
                        .and_then(|t| scalar_at(t, &format!("{entry}.name")))
                })
                .and_then(registry::plugin)
                .and_then(|p| p.args_kind);
            let allowed: Vec<&str> =
                match args_kind.and_then(|k| ARGS_FIELDS.iter().find(|(n, _)| *n == k)) {
                    Some((_, fields)) => {
                        let mut all = vec!["apiVersion", "kind"];
                        all.extend_from_slice(fields);
                        all
                    }
                    None => expected.to_vec(),
                };
            let mut m = match args_kind {
                Some(kind) => format!("unknown field `{name}` in {kind}"),
                None => format!("unknown field `{name}`"),
            };
            if let Some(best) = closest(name, &allowed) {
                m.push_str(&format!(" (did you mean `{best}`?)"));
            }
            if !allowed.is_empty() {
                m.push_str("; allowed here: ");
                m.push_str(&allowed.join(", "));
            }
            m
        }
        Error::SerdeMissingField { field: name, .. } => {
            // Reported at the mapping (or its first key): the field belongs to it.
            if let Some((p, value)) = &hit {
                let mapping = if value.is_none() {
                    p.rfind('.').map_or("", |i| &p[..i])
                } else {
                    p.as_str()
                };
                field = join(mapping, name);
            }
            format!("missing required field `{name}`")
        }
        Error::Unexpected { expected, .. } => {
            let expected = match *expected {
                "sequence start" | "sequence" => "a list",
                "mapping start" | "mapping" | "empty mapping start" => "a mapping",
                "string scalar" | "scalar" => "a single value",
                other => other,
            };
            match hit.as_ref().and_then(|(_, v)| *v) {
                Some(Tree::Seq(_)) => format!("expected {expected}, got a list"),
                Some(Tree::Map(_)) => format!("expected {expected}, got a mapping"),
                Some(Tree::Scalar(got)) => format!("expected {expected}, got {got:?}"),
                None => format!("expected {expected}"),
            }
        }
        Error::InvalidScalar { ty, .. } => {
            let expected = match *ty {
                "i32" => "an integer (32 bits)",
                "i64" => "an integer",
                "bool" | "boolean" => "true or false",
                other => other,
            };
            match hit.as_ref().and_then(|(_, v)| *v) {
                Some(Tree::Scalar(got)) => format!("expected {expected}, got {got}"),
                _ => format!("expected {expected}"),
            }
        }
        Error::MultipleDocuments { .. } => {
            format!("the file holds more than one YAML document; a {KIND} is a single document")
        }
        other => UserMessageFormatter.format_message(other).into_owned(),
    };
    let (line, column) = location.map_or((None, None), line_column);
    SchedulerConfigError {
        path: path.to_owned(),
        line,
        column,
        field: (!field.is_empty()).then_some(field),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schedulers::framework::plugin_registry::points_of;

    const HEAD: &str =
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";

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
                ("NodeResourcesBalancedAllocation", 1)
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
        let e =
            parse_scheduler_config("kind: KubeSchedulerConfiguration\n", "cfg.yaml").unwrap_err();
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
        let body = "profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeAffinity, weight: heavy}]\n";
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
        let body =
            "profiles:\n- pluginConfig:\n  - name: NodeAffinity\n    args: {resources: []}\n";
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
        let body = "profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeAffinity, weight: 1.5}]\n";
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
        let body = "extenders: [{urlPrefix: 'http://x'}]\nprofiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: ImageLocality, weight: 2}]\n";
        let c = parse(body).unwrap();
        assert_eq!(c.warnings().len(), 2, "{:?}", c.warnings());
        assert!(
            c.warnings()[0].starts_with("cfg.yaml:3:12: extenders: "),
            "{}",
            c.warnings()[0]
        );
        let (line, column) = position(body, "ImageLocality");
        assert!(
            c.warnings()[1].starts_with(&format!(
                "cfg.yaml:{line}:{column}: profiles[0].plugins.multiPoint.enabled[0].name: plugin ImageLocality"
            )),
            "{}",
            c.warnings()[1]
        );
    }
}
