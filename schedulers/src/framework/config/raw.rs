//! A KubeSchedulerConfiguration as written: serde structs mirroring kube-scheduler's v1
//! types. Where upstream's schema is closed they deny unknown fields, so a misspelt key is
//! an error listing the allowed ones; the settings that only matter to a real process
//! (`clientConnection`, `leaderElection`, profiling, ...) are accepted and never read. The
//! core/v1 pieces inside plugin arguments (`addedAffinity`, `defaultConstraints`) are the
//! located types every Kubernetes-YAML reader shares, from [`crate::yaml::kube`].

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::{Location, Spanned};

use crate::framework::plugin_registry::ExtensionPoint;
use crate::yaml::kube::{RawNodeAffinity, RawTopologySpreadConstraint};

/// An `int32` field as written: a number, or a quoted string, which kube-scheduler's
/// strict JSON decoding refuses (`percentageOfNodesToScore: "50"`); the reader refuses it
/// too, where it knows the field's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Int32 {
    /// A number, not yet checked against the `int32` range.
    Number(i128),
    /// A quoted string.
    Quoted(String),
}

impl<'de> Deserialize<'de> for Int32 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Int32, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Int32;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a 32-bit integer")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Int32, E> {
                Ok(Int32::Number(i128::from(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Int32, E> {
                Ok(Int32::Number(i128::from(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Int32, E> {
                Ok(Int32::Quoted(v.to_owned()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `leaderElection`: only what kube-scheduler validates is read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawLeaderElection {
    pub(super) leader_elect: Option<bool>,
    pub(super) resource_lock: Option<Spanned<String>>,
}

/// The identity of the document alone, every other key ignored: read first, so a file of
/// another version is refused for its version rather than for a key that version has.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawHead {
    pub(super) api_version: Option<Spanned<String>>,
    pub(super) kind: Option<Spanned<String>>,
}

/// The whole document (`KubeSchedulerConfiguration`). The `IgnoredAny` fields are
/// accepted, whatever they hold, and never read: they configure the process, not
/// scheduling decisions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawConfig {
    pub(super) api_version: Option<Spanned<String>>,
    pub(super) kind: Option<Spanned<String>>,
    pub(super) parallelism: Option<Spanned<Int32>>,
    pub(super) leader_election: Option<RawLeaderElection>,
    #[allow(dead_code)]
    pub(super) client_connection: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub(super) enable_profiling: Option<IgnoredAny>,
    #[allow(dead_code)]
    pub(super) enable_contention_profiling: Option<IgnoredAny>,
    pub(super) percentage_of_nodes_to_score: Option<Spanned<Int32>>,
    /// Workload (pod group) scheduling, after v1.35: accepted and ignored.
    #[allow(dead_code)]
    pub(super) percentage_of_placements_to_score: Option<IgnoredAny>,
    pub(super) pod_initial_backoff_seconds: Option<Spanned<i64>>,
    pub(super) pod_max_backoff_seconds: Option<Spanned<i64>>,
    pub(super) profiles: Option<Vec<Spanned<RawProfile>>>,
    pub(super) extenders: Option<Spanned<Vec<IgnoredAny>>>,
    #[allow(dead_code)]
    pub(super) delay_cache_until_active: Option<IgnoredAny>,
}

/// One item of `profiles`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawProfile {
    pub(super) scheduler_name: Option<Spanned<String>>,
    pub(super) percentage_of_nodes_to_score: Option<Spanned<Int32>>,
    /// Workload (pod group) scheduling, after v1.35: accepted and ignored.
    #[allow(dead_code)]
    pub(super) percentage_of_placements_to_score: Option<IgnoredAny>,
    pub(super) plugins: Option<Spanned<RawPlugins>>,
    pub(super) plugin_config: Option<Vec<Spanned<RawPluginConfig>>>,
}

/// `plugins`: one set per extension point, and `multiPoint`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPlugins {
    pub(super) pre_enqueue: Option<Spanned<RawPluginSet>>,
    pub(super) queue_sort: Option<Spanned<RawPluginSet>>,
    pub(super) pre_filter: Option<Spanned<RawPluginSet>>,
    pub(super) filter: Option<Spanned<RawPluginSet>>,
    pub(super) post_filter: Option<Spanned<RawPluginSet>>,
    pub(super) pre_score: Option<Spanned<RawPluginSet>>,
    pub(super) score: Option<Spanned<RawPluginSet>>,
    pub(super) reserve: Option<Spanned<RawPluginSet>>,
    pub(super) permit: Option<Spanned<RawPluginSet>>,
    pub(super) pre_bind: Option<Spanned<RawPluginSet>>,
    pub(super) bind: Option<Spanned<RawPluginSet>>,
    pub(super) post_bind: Option<Spanned<RawPluginSet>>,
    pub(super) multi_point: Option<Spanned<RawPluginSet>>,
    // Workload (pod group) scheduling, after v1.35: accepted and ignored.
    pub(super) placement_generate: Option<Spanned<RawPluginSet>>,
    pub(super) placement_score: Option<Spanned<RawPluginSet>>,
    pub(super) placement_feasible: Option<Spanned<RawPluginSet>>,
    pub(super) pod_group_post_filter: Option<Spanned<RawPluginSet>>,
}

impl RawPlugins {
    /// The set at an extension point.
    pub(super) fn at(&self, point: ExtensionPoint) -> Option<&Spanned<RawPluginSet>> {
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
pub(super) struct RawPluginSet {
    pub(super) enabled: Option<Vec<Spanned<RawPlugin>>>,
    pub(super) disabled: Option<Vec<Spanned<RawPlugin>>>,
}

/// `{name, weight}`.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPlugin {
    pub(super) name: Spanned<String>,
    pub(super) weight: Option<Spanned<i32>>,
}

/// One item of `pluginConfig`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPluginConfig {
    pub(super) name: Spanned<String>,
    pub(super) args: Option<Spanned<RawArgs>>,
}

/// `args`: every field of every argument kind schedlab reads, checked against the
/// plugin's kind afterwards (so the message can name the kind).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawArgs {
    pub(super) api_version: Option<Spanned<String>>,
    pub(super) kind: Option<Spanned<String>>,
    // NodeResourcesFitArgs
    pub(super) ignored_resources: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) ignored_resource_groups: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) scoring_strategy: Option<Spanned<RawScoringStrategy>>,
    // NodeResourcesBalancedAllocationArgs
    pub(super) resources: Option<Spanned<Vec<Spanned<RawResource>>>>,
    // NodeAffinityArgs
    pub(super) added_affinity: Option<Spanned<RawNodeAffinity>>,
    // PodTopologySpreadArgs
    pub(super) default_constraints: Option<Spanned<Vec<Spanned<RawTopologySpreadConstraint>>>>,
    pub(super) defaulting_type: Option<Spanned<String>>,
    // InterPodAffinityArgs
    pub(super) hard_pod_affinity_weight: Option<Spanned<i32>>,
    pub(super) ignore_preferred_terms_of_existing_pods: Option<Spanned<bool>>,
    // DefaultPreemptionArgs
    pub(super) min_candidate_nodes_percentage: Option<Spanned<i32>>,
    pub(super) min_candidate_nodes_absolute: Option<Spanned<i32>>,
    // VolumeBindingArgs (accepted, without effect: no timeouts, no capacity scoring)
    pub(super) bind_timeout_seconds: Option<Spanned<IgnoredAny>>,
    pub(super) shape: Option<Spanned<IgnoredAny>>,
    // DynamicResourcesArgs (ignored)
    pub(super) filter_timeout: Option<Spanned<IgnoredAny>>,
    pub(super) binding_timeout: Option<Spanned<IgnoredAny>>,
}

/// The fields of each argument kind, besides `apiVersion` and `kind`.
pub(super) const ARGS_FIELDS: &[(&str, &[&str])] = &[
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
    pub(super) fn present(&self) -> Vec<(&'static str, Location)> {
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
pub(super) struct RawScoringStrategy {
    #[serde(rename = "type")]
    pub(super) strategy_type: Option<Spanned<String>>,
    pub(super) resources: Option<Spanned<Vec<Spanned<RawResource>>>>,
    pub(super) requested_to_capacity_ratio: Option<Spanned<RawRequestedToCapacityRatio>>,
}

/// A `ResourceSpec`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawResource {
    pub(super) name: Spanned<String>,
    pub(super) weight: Option<Spanned<i64>>,
}

/// `scoringStrategy.requestedToCapacityRatio`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawRequestedToCapacityRatio {
    pub(super) shape: Option<Spanned<Vec<Spanned<RawShapePoint>>>>,
}

/// A `UtilizationShapePoint`; an unset field is 0, as when Go decodes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawShapePoint {
    pub(super) utilization: Option<Spanned<i32>>,
    pub(super) score: Option<Spanned<i32>>,
}
