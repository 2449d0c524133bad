//! kube-scheduler's plugins by name, and [`Profile`]s built from a
//! `KubeSchedulerConfiguration` profile the way kube-scheduler builds its frameworks.
//!
//! This module is the typed half of reading a scheduler configuration: it knows nothing
//! about YAML (the `sim` crate parses files into [`ProfileConfig`]s), only what the
//! configuration means. It holds
//!
//! - the catalogue of kube-scheduler v1.35's in-tree plugins ([`PLUGINS`]): the extension
//!   points each implements, whether it is enabled by default and with which score weight,
//!   which arguments it takes, and whether schedlab simulates it ([`Support`]);
//! - the plugin arguments schedlab understands ([`PluginArgs`]), in kube-scheduler's
//!   internal form, that is after the v1 API's defaulting (a resource weight of 0 has
//!   become 1, an empty resource list `cpu` and `memory`): defaulting belongs to whoever
//!   reads the file;
//! - [`ResolvedProfile::resolve`], which merges a profile's `plugins` into the default
//!   plugin set and validates the result, and [`ResolvedProfile::build`], which makes a
//!   fresh [`Profile`] from it as often as needed (a profile owns its plugins' per-pod
//!   state, so every simulation run needs its own).
//!
//! # Semantics, after kube-scheduler v1.35
//!
//! - **Defaults.** Every profile starts from `getDefaultPlugins`
//!   (`pkg/scheduler/apis/config/v1/default_plugins.go`): one `multiPoint` list of
//!   plugins, with weights 3 (TaintToleration), 2 (NodeAffinity, PodTopologySpread,
//!   InterPodAffinity) and 1 (NodeResourcesFit, NodeResourcesBalancedAllocation,
//!   ImageLocality). Every other extension point starts empty.
//! - **Merging** (`mergePluginSet`), per extension point and for `multiPoint`: with
//!   `disabled: [{name: "*"}]` no default is kept; otherwise each default not disabled is
//!   kept in place, replaced (weight included) by an `enabled` entry of the same name.
//!   The `enabled` entries that replaced nothing follow, in the order given. So a default
//!   disabled and enabled again moves to the end, with the new weight (or weight 1).
//! - **Expansion** (the framework's `expandMultiPointPlugins`): each extension point runs
//!   the plugins enabled there explicitly and the `multiPoint` plugins that implement it
//!   and are not disabled there (none when the point disables `"*"`). A plugin in both
//!   lists keeps its explicit position, first; then come the `multiPoint`-only plugins,
//!   then the rest of the explicit ones.
//! - **Weights** (`getScoreWeights`): a score plugin's weight comes from `score.enabled`
//!   if it is listed there, else from `multiPoint.enabled`; an unset weight, or 0, is 1.
//! - **PostFilter:** DefaultPreemption runs when it is at `postFilter` after expansion.
//! - **`percentageOfNodesToScore`:** the profile's value, else the top-level one, else 0
//!   (kube-scheduler's adaptive default).
//!
//! # What schedlab does differently
//!
//! - Plugins kube-scheduler has but schedlab does not model ([`Support::Ignored`]:
//!   volumes, images, queue sorting, binding, DRA, scheduling gates) are accepted
//!   wherever kube-scheduler accepts them and left out of the profile; the resolution
//!   lists, in [`Warning`]s, those the configuration names explicitly.
//! - A plugin name kube-scheduler does not know is an error wherever it is enabled or
//!   configured (kube-scheduler fails too); in a `disabled` list it only draws a warning,
//!   since kube-scheduler ignores it there.
//! - A negative score weight is refused (kube-scheduler would invert the plugin's
//!   preference without complaint).
//! - A configuration on which kube-scheduler would fail every scheduling attempt is
//!   refused up front: a plugin whose Filter (or Score) reads what its own PreFilter (or
//!   PreScore) stored, enabled at the one point but disabled at the other
//!   (NodeResourcesFit's Filter, TaintToleration's Score).
//! - DefaultPreemption's arguments are validated, but schedlab always dry-runs
//!   `max(10% of nodes, 100)` candidates ([`super::preemption`]); other values draw a
//!   warning.
//! - Extension points that only act after a node is chosen (Reserve, Permit, PreBind,
//!   Bind, PostBind) or before the cycle (PreEnqueue, QueueSort) are checked for plugin
//!   names and then ignored: the simulator queues and binds pods itself.

use std::fmt;

use super::plugins::balanced_allocation::{BalanceScoring, BalancedAllocation};
use super::plugins::image_locality::ImageLocality;
use super::plugins::inter_pod_affinity::InterPodAffinity;
pub use super::plugins::inter_pod_affinity::InterPodAffinityArgs;
use super::plugins::node_affinity::NodeAffinity;
use super::plugins::node_name::NodeName;
use super::plugins::node_ports::NodePorts;
use super::plugins::node_resources_fit::{
    MAX_CUSTOM_PRIORITY_SCORE, NodeResourcesFit, ScoringStrategy, ScoringStrategyType,
};
use super::plugins::node_unschedulable::NodeUnschedulable;
use super::plugins::pod_topology_spread::PodTopologySpread;
use super::plugins::resource_allocation::{ResourceSpec, ShapePoint};
use super::plugins::taint_toleration::TaintToleration;
use super::plugins::volume_binding::VolumeBinding;
use super::plugins::volume_zone::VolumeZone;
use super::plugins::{
    node_volume_limits::NodeVolumeLimits, volume_restrictions::VolumeRestrictions,
};
use super::preemption::{MIN_CANDIDATE_NODES_ABSOLUTE, MIN_CANDIDATE_NODES_PERCENTAGE};
use super::profile::Points;
use super::{MAX_NODE_SCORE, Plugin, Profile};
use crate::field_path;
use crate::labels;
use crate::pod_affinity::{TopologySpreadConstraint, WhenUnsatisfiable};
use crate::suggest::closest;

/// The profile name kube-scheduler gives the only profile of a configuration that names
/// none (`v1.DefaultSchedulerName`), and the profile of a configuration without profiles.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// The API version of the configuration schedlab reads.
pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";

// ----- extension points ----------------------------------------------------------------

/// An extension point of kube-scheduler's scheduling framework, as named in a profile's
/// `plugins` (`multiPoint` is not one: it stands for all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExtensionPoint {
    /// `preEnqueue`: before a pod enters the active queue.
    PreEnqueue,
    /// `queueSort`: orders the scheduling queue.
    QueueSort,
    /// `preFilter`.
    PreFilter,
    /// `filter`.
    Filter,
    /// `postFilter`: when no node fits (DefaultPreemption).
    PostFilter,
    /// `preScore`.
    PreScore,
    /// `score` (and NormalizeScore).
    Score,
    /// `reserve`.
    Reserve,
    /// `permit`.
    Permit,
    /// `preBind`.
    PreBind,
    /// `bind`.
    Bind,
    /// `postBind`.
    PostBind,
}

impl ExtensionPoint {
    /// Every extension point, in the scheduling cycle's order.
    pub const ALL: [ExtensionPoint; 12] = [
        ExtensionPoint::PreEnqueue,
        ExtensionPoint::QueueSort,
        ExtensionPoint::PreFilter,
        ExtensionPoint::Filter,
        ExtensionPoint::PostFilter,
        ExtensionPoint::PreScore,
        ExtensionPoint::Score,
        ExtensionPoint::Reserve,
        ExtensionPoint::Permit,
        ExtensionPoint::PreBind,
        ExtensionPoint::Bind,
        ExtensionPoint::PostBind,
    ];

    /// The key under a profile's `plugins` (`preFilter`).
    pub fn config_key(self) -> &'static str {
        match self {
            ExtensionPoint::PreEnqueue => "preEnqueue",
            ExtensionPoint::QueueSort => "queueSort",
            ExtensionPoint::PreFilter => "preFilter",
            ExtensionPoint::Filter => "filter",
            ExtensionPoint::PostFilter => "postFilter",
            ExtensionPoint::PreScore => "preScore",
            ExtensionPoint::Score => "score",
            ExtensionPoint::Reserve => "reserve",
            ExtensionPoint::Permit => "permit",
            ExtensionPoint::PreBind => "preBind",
            ExtensionPoint::Bind => "bind",
            ExtensionPoint::PostBind => "postBind",
        }
    }

    /// The name kube-scheduler's messages use (`PreFilter`).
    pub fn title(self) -> &'static str {
        match self {
            ExtensionPoint::PreEnqueue => "PreEnqueue",
            ExtensionPoint::QueueSort => "QueueSort",
            ExtensionPoint::PreFilter => "PreFilter",
            ExtensionPoint::Filter => "Filter",
            ExtensionPoint::PostFilter => "PostFilter",
            ExtensionPoint::PreScore => "PreScore",
            ExtensionPoint::Score => "Score",
            ExtensionPoint::Reserve => "Reserve",
            ExtensionPoint::Permit => "Permit",
            ExtensionPoint::PreBind => "PreBind",
            ExtensionPoint::Bind => "Bind",
            ExtensionPoint::PostBind => "PostBind",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

// ----- the catalogue -------------------------------------------------------------------

/// Whether schedlab simulates a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Simulated: the plugin runs in profiles that enable it.
    Simulated,
    /// Accepted wherever kube-scheduler accepts it, then left out; the text says why.
    Ignored(&'static str),
}

/// One of kube-scheduler's in-tree plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PluginInfo {
    /// Its name in configurations.
    pub name: &'static str,
    /// Whether schedlab simulates it.
    pub support: Support,
    /// The extension points it implements upstream.
    pub points: &'static [ExtensionPoint],
    /// Where schedlab's implementation can run: upstream's points among PreFilter, Filter,
    /// PreScore and Score, plus helpers upstream lacks that only let the plugin skip work
    /// (NodeName's PreFilter), which run whenever the Filter (or Score) they serve runs.
    /// Nothing for plugins schedlab does not simulate, and for DefaultPreemption, which
    /// is [`Profile::preemption`].
    pub runs_at: Points,
    /// In kube-scheduler's default plugin set (`multiPoint`).
    pub enabled_by_default: bool,
    /// Its score weight in the default plugin set, for score plugins.
    pub default_weight: Option<i64>,
    /// The kind of its arguments in `pluginConfig` (`NodeResourcesFitArgs`), if it takes any.
    pub args_kind: Option<&'static str>,
    /// (point, needed): upstream's implementation at `point` reads state the plugin stores
    /// at `needed` and fails the scheduling attempt without it.
    requires: &'static [(ExtensionPoint, ExtensionPoint)],
}

impl PluginInfo {
    /// True when the plugin implements `point` upstream.
    pub fn implements(&self, point: ExtensionPoint) -> bool {
        self.points.contains(&point)
    }

    /// True when schedlab simulates it.
    pub fn is_simulated(&self) -> bool {
        self.support == Support::Simulated
    }
}

use ExtensionPoint as P;

const FILTER: &[ExtensionPoint] = &[P::Filter];
const PRE_FILTER_FILTER: &[ExtensionPoint] = &[P::PreFilter, P::Filter];
const FILTER_AND_SCORE: &[ExtensionPoint] = &[P::PreFilter, P::Filter, P::PreScore, P::Score];
const NOWHERE: Points = Points {
    pre_filter: false,
    filter: false,
    pre_score: false,
    score: false,
};

/// kube-scheduler v1.35's in-tree plugins, the default ones in the order of
/// `getDefaultPlugins` (with DynamicResources before DefaultPreemption, as its feature
/// gate is on by default).
pub const PLUGINS: &[PluginInfo] = &[
    PluginInfo {
        name: "SchedulingGates",
        support: Support::Ignored("schedlab's pods have no scheduling gates"),
        points: &[P::PreEnqueue],
        runs_at: NOWHERE,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[],
    },
    PluginInfo {
        name: "PrioritySort",
        support: Support::Ignored(
            "the simulator's queue always orders pods by priority, then arrival, as PrioritySort does",
        ),
        points: &[P::QueueSort],
        runs_at: NOWHERE,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[],
    },
    PluginInfo {
        name: NodeUnschedulable::NAME,
        support: Support::Simulated,
        points: FILTER,
        runs_at: NodeUnschedulable::POINTS,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[],
    },
    PluginInfo {
        name: NodeName::NAME,
        support: Support::Simulated,
        points: FILTER,
        runs_at: NodeName::POINTS,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[],
    },
    PluginInfo {
        name: TaintToleration::NAME,
        support: Support::Simulated,
        points: &[P::Filter, P::PreScore, P::Score],
        runs_at: TaintToleration::POINTS,
        enabled_by_default: true,
        default_weight: Some(3),
        args_kind: None,
        requires: &[(P::Score, P::PreScore)],
    },
    PluginInfo {
        name: NodeAffinity::NAME,
        support: Support::Simulated,
        points: FILTER_AND_SCORE,
        runs_at: NodeAffinity::POINTS,
        enabled_by_default: true,
        default_weight: Some(2),
        args_kind: Some("NodeAffinityArgs"),
        requires: &[],
    },
    PluginInfo {
        name: NodePorts::NAME,
        support: Support::Simulated,
        points: PRE_FILTER_FILTER,
        runs_at: NodePorts::POINTS,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[(P::Filter, P::PreFilter)],
    },
    PluginInfo {
        name: NodeResourcesFit::NAME,
        support: Support::Simulated,
        points: FILTER_AND_SCORE,
        runs_at: NodeResourcesFit::POINTS,
        enabled_by_default: true,
        default_weight: Some(1),
        args_kind: Some("NodeResourcesFitArgs"),
        requires: &[(P::Filter, P::PreFilter)],
    },
    PluginInfo {
        name: VolumeRestrictions::NAME,
        support: Support::Simulated,
        points: PRE_FILTER_FILTER,
        runs_at: VolumeRestrictions::POINTS,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[(P::Filter, P::PreFilter)],
    },
    PluginInfo {
        name: NodeVolumeLimits::NAME,
        support: Support::Simulated,
        points: PRE_FILTER_FILTER,
        runs_at: NodeVolumeLimits::POINTS,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[],
    },
    PluginInfo {
        name: VolumeBinding::NAME,
        support: Support::Simulated,
        points: &[
            P::PreFilter,
            P::Filter,
            P::PreScore,
            P::Score,
            P::Reserve,
            P::PreBind,
        ],
        runs_at: VolumeBinding::POINTS,
        enabled_by_default: true,
        default_weight: Some(1),
        args_kind: Some("VolumeBindingArgs"),
        requires: &[(P::Filter, P::PreFilter)],
    },
    PluginInfo {
        name: VolumeZone::NAME,
        support: Support::Simulated,
        points: PRE_FILTER_FILTER,
        runs_at: VolumeZone::POINTS,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[],
    },
    PluginInfo {
        name: PodTopologySpread::NAME,
        support: Support::Simulated,
        points: FILTER_AND_SCORE,
        runs_at: PodTopologySpread::POINTS,
        enabled_by_default: true,
        default_weight: Some(2),
        args_kind: Some("PodTopologySpreadArgs"),
        requires: &[(P::Filter, P::PreFilter), (P::Score, P::PreScore)],
    },
    PluginInfo {
        name: InterPodAffinity::NAME,
        support: Support::Simulated,
        points: FILTER_AND_SCORE,
        runs_at: InterPodAffinity::POINTS,
        enabled_by_default: true,
        default_weight: Some(2),
        args_kind: Some("InterPodAffinityArgs"),
        requires: &[(P::Filter, P::PreFilter), (P::Score, P::PreScore)],
    },
    PluginInfo {
        name: "DynamicResources",
        support: Support::Ignored(
            "schedlab models no ResourceClaims (dynamic resource allocation)",
        ),
        points: &[
            P::PreEnqueue,
            P::PreFilter,
            P::Filter,
            P::PostFilter,
            P::Reserve,
            P::PreBind,
        ],
        runs_at: NOWHERE,
        enabled_by_default: true,
        default_weight: None,
        args_kind: Some("DynamicResourcesArgs"),
        requires: &[],
    },
    PluginInfo {
        name: DEFAULT_PREEMPTION,
        support: Support::Simulated,
        points: &[P::PreEnqueue, P::PostFilter],
        runs_at: NOWHERE,
        enabled_by_default: true,
        default_weight: None,
        args_kind: Some("DefaultPreemptionArgs"),
        requires: &[],
    },
    PluginInfo {
        name: BalancedAllocation::NAME,
        support: Support::Simulated,
        points: &[P::PreScore, P::Score],
        runs_at: BalancedAllocation::POINTS,
        enabled_by_default: true,
        default_weight: Some(1),
        args_kind: Some("NodeResourcesBalancedAllocationArgs"),
        requires: &[],
    },
    PluginInfo {
        name: ImageLocality::NAME,
        support: Support::Simulated,
        points: &[P::Score],
        runs_at: ImageLocality::POINTS,
        enabled_by_default: true,
        default_weight: Some(1),
        args_kind: None,
        requires: &[],
    },
    PluginInfo {
        name: "DefaultBinder",
        support: Support::Ignored("the simulator binds pods itself"),
        points: &[P::Bind],
        runs_at: NOWHERE,
        enabled_by_default: true,
        default_weight: None,
        args_kind: None,
        requires: &[],
    },
];

/// DefaultPreemption's name; schedlab runs it as [`Profile::preemption`].
pub const DEFAULT_PREEMPTION: &str = "DefaultPreemption";

/// Plugins the v1 API refuses (`invalidPluginsByVersion`): removed in-tree volume limits.
const REMOVED_PLUGINS: &[&str] = &[
    "AzureDiskLimits",
    "CinderLimits",
    "EBSLimits",
    "GCEPDLimits",
];

/// The plugin of that name.
pub fn plugin(name: &str) -> Option<&'static PluginInfo> {
    PLUGINS.iter().find(|p| p.name == name)
}

/// Every known plugin name, sorted.
pub fn known_plugin_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = PLUGINS.iter().map(|p| p.name).collect();
    names.sort_unstable();
    names
}

// ----- configuration -------------------------------------------------------------------

/// One entry of an `enabled` list: a plugin and its weight, as written (`None` when unset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRef {
    /// The plugin's name.
    pub name: String,
    /// Its score weight as written; unset and 0 both mean 1.
    pub weight: Option<i64>,
}

impl PluginRef {
    /// A plugin without a weight.
    pub fn new(name: impl Into<String>) -> PluginRef {
        PluginRef {
            name: name.into(),
            weight: None,
        }
    }

    /// A plugin with a weight.
    pub fn weighted(name: impl Into<String>, weight: i64) -> PluginRef {
        PluginRef {
            name: name.into(),
            weight: Some(weight),
        }
    }
}

/// A `PluginSet`: plugins enabled and disabled at one extension point (or `multiPoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginSet {
    /// `enabled`, in order.
    pub enabled: Vec<PluginRef>,
    /// `disabled` names; `*` disables every default.
    pub disabled: Vec<String>,
}

/// A profile's `plugins`: `multiPoint` and one set per extension point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginsConfig {
    /// `multiPoint`.
    pub multi_point: PluginSet,
    points: [PluginSet; 12],
}

impl PluginsConfig {
    /// The set at `point`.
    pub fn set(&self, point: ExtensionPoint) -> &PluginSet {
        &self.points[point.index()]
    }

    /// The set at `point`, to fill in.
    pub fn set_mut(&mut self, point: ExtensionPoint) -> &mut PluginSet {
        &mut self.points[point.index()]
    }
}

/// One `pluginConfig` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfigEntry {
    /// The plugin configured.
    pub name: String,
    /// Its arguments.
    pub args: PluginArgs,
}

/// A `KubeSchedulerConfiguration` profile, as read from the file (after the v1 API's
/// defaulting of plugin arguments, before any merging with the default plugins).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileConfig {
    /// `schedulerName`.
    pub scheduler_name: String,
    /// The profile's `percentageOfNodesToScore`, if set.
    pub percentage_of_nodes_to_score: Option<i64>,
    /// `plugins`.
    pub plugins: PluginsConfig,
    /// `pluginConfig`, in file order.
    pub plugin_config: Vec<PluginConfigEntry>,
}

// ----- plugin arguments ----------------------------------------------------------------

/// Arguments of one plugin (`pluginConfig[].args`), in kube-scheduler's internal form.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginArgs {
    /// `NodeResourcesFitArgs`.
    NodeResourcesFit(NodeResourcesFitArgs),
    /// `NodeResourcesBalancedAllocationArgs`.
    NodeResourcesBalancedAllocation(BalancedAllocationArgs),
    /// `NodeAffinityArgs`.
    NodeAffinity(NodeAffinityArgs),
    /// `PodTopologySpreadArgs`.
    PodTopologySpread(PodTopologySpreadArgs),
    /// `InterPodAffinityArgs`.
    InterPodAffinity(InterPodAffinityArgs),
    /// `DefaultPreemptionArgs` (validated; schedlab always uses the defaults).
    DefaultPreemption(DefaultPreemptionArgs),
    /// Arguments of a plugin schedlab ignores (`VolumeBindingArgs`,
    /// `DynamicResourcesArgs`), already checked by the reader.
    Ignored,
}

impl PluginArgs {
    /// The kind of these arguments (`NodeResourcesFitArgs`); `None` for ignored ones.
    pub fn kind(&self) -> Option<&'static str> {
        Some(match self {
            PluginArgs::NodeResourcesFit(_) => "NodeResourcesFitArgs",
            PluginArgs::NodeResourcesBalancedAllocation(_) => "NodeResourcesBalancedAllocationArgs",
            PluginArgs::NodeAffinity(_) => "NodeAffinityArgs",
            PluginArgs::PodTopologySpread(_) => "PodTopologySpreadArgs",
            PluginArgs::InterPodAffinity(_) => "InterPodAffinityArgs",
            PluginArgs::DefaultPreemption(_) => "DefaultPreemptionArgs",
            PluginArgs::Ignored => return None,
        })
    }

    /// Checks the arguments as kube-scheduler validates them; the error's field is
    /// relative to `args`.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            PluginArgs::NodeResourcesFit(a) => a.validate(),
            PluginArgs::NodeResourcesBalancedAllocation(a) => a.validate(),
            PluginArgs::NodeAffinity(a) => a.validate(),
            PluginArgs::PodTopologySpread(a) => a.validate(),
            PluginArgs::InterPodAffinity(a) => inter_pod_affinity(*a).map(|_| ()),
            PluginArgs::DefaultPreemption(a) => a.validate(),
            PluginArgs::Ignored => Ok(()),
        }
    }
}

/// `NodeResourcesFitArgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeResourcesFitArgs {
    /// `scoringStrategy`: type, resources with weights in `1..=100`, and the shape for
    /// RequestedToCapacityRatio (scores `0..=10`, as in the file).
    pub scoring_strategy: ScoringStrategy,
    /// `ignoredResources`: extended resources Filter does not check.
    pub ignored_resources: Vec<String>,
    /// `ignoredResourceGroups`: extended-resource domains Filter does not check.
    pub ignored_resource_groups: Vec<String>,
}

impl NodeResourcesFitArgs {
    /// Upstream's `ValidateNodeResourcesFitArgs`, first error only, plus schedlab's refusal
    /// of an empty resource list (which the v1 defaulting never leaves).
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (i, r) in self.ignored_resources.iter().enumerate() {
            if r.is_empty() {
                return Err(ConfigError::new(
                    format!("ignoredResources[{i}]"),
                    "a resource name must not be empty",
                ));
            }
        }
        for (i, g) in self.ignored_resource_groups.iter().enumerate() {
            if g.contains('/') {
                return Err(ConfigError::new(
                    format!("ignoredResourceGroups[{i}]"),
                    format!("invalid value {g:?}: resource group name can't contain '/'"),
                ));
            }
            if g.is_empty() {
                return Err(ConfigError::new(
                    format!("ignoredResourceGroups[{i}]"),
                    "a resource group name must not be empty",
                ));
            }
        }
        let strategy = &self.scoring_strategy;
        if strategy.resources.is_empty() {
            return Err(ConfigError::new(
                "scoringStrategy.resources",
                "at least one resource must be scored",
            ));
        }
        for (i, r) in strategy.resources.iter().enumerate() {
            if !(1..=MAX_NODE_SCORE).contains(&r.weight) {
                return Err(ConfigError::new(
                    format!("scoringStrategy.resources[{i}].weight"),
                    format!(
                        "invalid value {}: resource weight of {} not in valid range (0, 100]",
                        r.weight, r.name
                    ),
                ));
            }
        }
        if let ScoringStrategyType::RequestedToCapacityRatio { shape } = &strategy.strategy_type {
            validate_shape(shape, "scoringStrategy.requestedToCapacityRatio.shape")?;
        }
        NodeResourcesFit::try_new(strategy.clone())
            .map(|_| ())
            .map_err(|e| ConfigError::new("scoringStrategy", e.to_string()))
    }
}

/// Upstream's `validateFunctionShape`, first error only.
fn validate_shape(shape: &[ShapePoint], path: &str) -> Result<(), ConfigError> {
    if shape.is_empty() {
        return Err(ConfigError::new(
            path,
            "at least one point must be specified",
        ));
    }
    if let Some(i) = (1..shape.len()).find(|&i| shape[i - 1].utilization >= shape[i].utilization) {
        return Err(ConfigError::new(
            format!("{path}[{i}].utilization"),
            format!(
                "invalid value {}: values must be sorted in increasing order",
                shape[i].utilization
            ),
        ));
    }
    for (i, p) in shape.iter().enumerate() {
        if !(0..=100).contains(&p.utilization) {
            return Err(ConfigError::new(
                format!("{path}[{i}].utilization"),
                format!(
                    "invalid value {}: not in valid range [0, 100]",
                    p.utilization
                ),
            ));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&p.score) {
            return Err(ConfigError::new(
                format!("{path}[{i}].score"),
                format!(
                    "invalid value {}: not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]",
                    p.score
                ),
            ));
        }
    }
    Ok(())
}

/// `NodeResourcesBalancedAllocationArgs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancedAllocationArgs {
    /// `resources`, each once, weight exactly 1.
    pub resources: Vec<ResourceSpec>,
}

impl Default for BalancedAllocationArgs {
    /// `cpu` and `memory`.
    fn default() -> BalancedAllocationArgs {
        BalancedAllocationArgs {
            resources: ResourceSpec::defaults(),
        }
    }
}

impl BalancedAllocationArgs {
    /// Upstream's `ValidateNodeResourcesBalancedAllocationArgs`, first error only, plus
    /// schedlab's refusal of an empty list (which the v1 defaulting never leaves).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.resources.is_empty() {
            return Err(ConfigError::new(
                "resources",
                "at least one resource must be scored",
            ));
        }
        for (i, r) in self.resources.iter().enumerate() {
            if self.resources[..i].iter().any(|s| s.name == r.name) {
                return Err(ConfigError::new(
                    format!("resources[{i}].name"),
                    format!("duplicate value {:?}", r.name),
                ));
            }
            if r.weight != 1 {
                return Err(ConfigError::new(
                    format!("resources[{i}].weight"),
                    format!("invalid value {}: must be 1", r.weight),
                ));
            }
        }
        Ok(())
    }
}

/// `NodeAffinityArgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeAffinityArgs {
    /// `addedAffinity`: node affinity every pod must also satisfy (required terms) and is
    /// scored on (preferred terms).
    pub added_affinity: Option<labels::NodeAffinity>,
}

impl NodeAffinityArgs {
    /// Upstream's `ValidateNodeAffinityArgs`: every term must parse.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.plugin().map(|_| ())
    }

    fn plugin(&self) -> Result<NodeAffinity, ConfigError> {
        match &self.added_affinity {
            None => Ok(NodeAffinity::default()),
            Some(added) => NodeAffinity::with_added_affinity(added.clone()).map_err(|e| {
                // The message is `<path below addedAffinity>: <what is wrong>`.
                match e.0.split_once(": ") {
                    Some((field, message)) => {
                        ConfigError::new(format!("addedAffinity.{field}"), message)
                    }
                    None => ConfigError::new("addedAffinity", e.0),
                }
            }),
        }
    }
}

/// How PodTopologySpread finds constraints for pods that set none (`defaultingType`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DefaultingType {
    /// Kubernetes' built-in defaults: spread over nodes and zones.
    #[default]
    System,
    /// `defaultConstraints`.
    List,
}

/// `PodTopologySpreadArgs`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodTopologySpreadArgs {
    /// `defaultConstraints` (without label selectors: those come from the pod's owner).
    pub default_constraints: Vec<TopologySpreadConstraint>,
    /// `defaultingType`.
    pub defaulting_type: DefaultingType,
}

impl PodTopologySpreadArgs {
    /// Upstream's `ValidatePodTopologySpreadArgs`, first error only.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.defaulting_type == DefaultingType::System && !self.default_constraints.is_empty() {
            return Err(ConfigError::new(
                "defaultingType",
                "invalid value \"System\": when .defaultConstraints are not empty",
            ));
        }
        for (i, c) in self.default_constraints.iter().enumerate() {
            let at = |field: &str| format!("defaultConstraints[{i}].{field}");
            if c.max_skew <= 0 {
                return Err(ConfigError::new(
                    at("maxSkew"),
                    format!("invalid value {}: not in valid range (0, inf)", c.max_skew),
                ));
            }
            if c.topology_key.is_empty() {
                return Err(ConfigError::new(at("topologyKey"), "can not be empty"));
            }
            if c.label_selector.is_some() {
                return Err(ConfigError::new(
                    at("labelSelector"),
                    "forbidden: constraint must not define a selector, as they deduced for each pod",
                ));
            }
            if self.default_constraints[..i].iter().any(|o| {
                o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable
            }) {
                let when = match c.when_unsatisfiable {
                    WhenUnsatisfiable::DoNotSchedule => "DoNotSchedule",
                    WhenUnsatisfiable::ScheduleAnyway => "ScheduleAnyway",
                };
                return Err(ConfigError::new(
                    format!("defaultConstraints[{i}]"),
                    format!("duplicate value \"{{{}, {when}}}\"", c.topology_key),
                ));
            }
        }
        Ok(())
    }
}

/// The InterPodAffinity plugin with these arguments, as `ValidateInterPodAffinityArgs`
/// checks them.
fn inter_pod_affinity(args: InterPodAffinityArgs) -> Result<InterPodAffinity, ConfigError> {
    InterPodAffinity::with_args(args).map_err(|e| {
        ConfigError::new(
            "hardPodAffinityWeight",
            format!("invalid value {}: not in valid range [0, 100]", e.0),
        )
    })
}

impl PodTopologySpreadArgs {
    /// The plugin with these arguments.
    fn plugin(&self) -> PodTopologySpread {
        match self.defaulting_type {
            DefaultingType::System => PodTopologySpread::default(),
            DefaultingType::List => {
                PodTopologySpread::with_default_constraints(self.default_constraints.clone())
            }
        }
    }
}

/// `DefaultPreemptionArgs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultPreemptionArgs {
    /// `minCandidateNodesPercentage`, `0..=100`, default 10.
    pub min_candidate_nodes_percentage: i32,
    /// `minCandidateNodesAbsolute`, at least 0, default 100.
    pub min_candidate_nodes_absolute: i32,
}

impl Default for DefaultPreemptionArgs {
    fn default() -> DefaultPreemptionArgs {
        DefaultPreemptionArgs {
            min_candidate_nodes_percentage: MIN_CANDIDATE_NODES_PERCENTAGE as i32,
            min_candidate_nodes_absolute: MIN_CANDIDATE_NODES_ABSOLUTE as i32,
        }
    }
}

impl DefaultPreemptionArgs {
    /// Upstream's `ValidateDefaultPreemptionArgs`, first error only.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let percentage = self.min_candidate_nodes_percentage;
        let absolute = self.min_candidate_nodes_absolute;
        if !(0..=100).contains(&percentage) {
            return Err(ConfigError::new(
                "minCandidateNodesPercentage",
                format!("invalid value {percentage}: not in valid range [0, 100]"),
            ));
        }
        if absolute < 0 {
            return Err(ConfigError::new(
                "minCandidateNodesAbsolute",
                format!("invalid value {absolute}: not in valid range [0, inf)"),
            ));
        }
        if percentage == 0 && absolute == 0 {
            return Err(ConfigError::new(
                "minCandidateNodesPercentage",
                "invalid value 0: cannot be zero at the same time as minCandidateNodesAbsolute",
            ));
        }
        Ok(())
    }
}

// ----- errors and warnings -------------------------------------------------------------

/// A configuration kube-scheduler (or schedlab) refuses: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The field's path as spelt in the file, relative to what was being checked (a
    /// profile: `plugins.score.enabled[1].weight`; plugin arguments:
    /// `scoringStrategy.resources[0].weight`); empty for the whole of it.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error with `prefix.` put before its field.
    pub fn within(mut self, prefix: &str) -> ConfigError {
        self.field = field_path::join(prefix, &self.field);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Something accepted but not simulated as written; for the user to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where, as [`ConfigError::field`].
    pub field: String,
    /// What schedlab does instead.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// "unknown plugin" with a likely correction and the known names.
/// kube-scheduler's refusal of a plugin name it does not know, with the known names.
pub(crate) fn unknown_plugin(name: &str) -> String {
    let known = known_plugin_names();
    let mut message = format!("unknown plugin {name:?}");
    if let Some(best) = closest(name, &known) {
        message.push_str(&format!(" (did you mean {best}?)"));
    }
    message.push_str("; known plugins: ");
    message.push_str(&known.join(", "));
    message
}

/// Refuses a name kube-scheduler does not know, or refuses in v1.
fn check_known(name: &str, field: &str) -> Result<&'static PluginInfo, ConfigError> {
    if REMOVED_PLUGINS.contains(&name) {
        return Err(ConfigError::new(
            field,
            format!(
                "invalid value {name:?}: was invalid in version {API_VERSION:?} \
                 (the in-tree volume limit plugins were removed; NodeVolumeLimits replaces them)"
            ),
        ));
    }
    plugin(name).ok_or_else(|| ConfigError::new(field, unknown_plugin(name)))
}

// ----- resolution ----------------------------------------------------------------------

/// Where an `enabled` entry came from: the default set, or a list in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Default,
    /// `plugins.<set>.enabled[index]`; `None` is `multiPoint`.
    Config {
        set: Option<ExtensionPoint>,
        index: usize,
    },
}

impl Origin {
    /// The entry's path, `plugins.score.enabled[1]`, if it is in the configuration.
    fn path(self) -> Option<String> {
        match self {
            Origin::Default => None,
            Origin::Config { set, index } => Some(format!(
                "plugins.{}.enabled[{index}]",
                set.map_or("multiPoint", ExtensionPoint::config_key)
            )),
        }
    }

    /// The entry's path, or `fallback` for a default.
    fn path_or(self, fallback: &str) -> String {
        self.path().unwrap_or_else(|| fallback.to_owned())
    }
}

/// An `enabled` entry after merging.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    info: &'static PluginInfo,
    weight: Option<i64>,
    origin: Origin,
    name: &'a str,
}

/// A merged plugin set.
struct Merged<'a> {
    enabled: Vec<Entry<'a>>,
    disabled: Vec<&'a str>,
}

impl Merged<'_> {
    fn disables(&self, name: &str) -> bool {
        self.disabled.contains(&name)
    }
}

/// The default plugin set, as `multiPoint` entries.
fn default_entries() -> Vec<Entry<'static>> {
    PLUGINS
        .iter()
        .filter(|p| p.enabled_by_default)
        .map(|info| Entry {
            info,
            weight: info.default_weight,
            origin: Origin::Default,
            name: info.name,
        })
        .collect()
}

/// `mergePluginSet`: the custom set applied to the default one. Unknown names in
/// `enabled` are refused here.
fn merge_set<'a>(
    defaults: &[Entry<'a>],
    custom: &'a PluginSet,
    set: Option<ExtensionPoint>,
) -> Result<Merged<'a>, ConfigError> {
    let mut custom_entries = Vec::with_capacity(custom.enabled.len());
    for (index, p) in custom.enabled.iter().enumerate() {
        let origin = Origin::Config { set, index };
        let info = check_known(&p.name, &format!("{}.name", origin.path_or("")))?;
        custom_entries.push(Entry {
            info,
            weight: p.weight,
            origin,
            name: &p.name,
        });
    }
    let disabled: Vec<&str> = custom.disabled.iter().map(String::as_str).collect();
    let mut replaced = vec![false; custom_entries.len()];
    let mut enabled = Vec::new();
    if !disabled.contains(&"*") {
        for d in defaults {
            if disabled.contains(&d.name) {
                continue;
            }
            // The last entry of that name replaces the default (upstream keeps a map by
            // name); the others are appended below and then refused as duplicates.
            match custom_entries.iter().rposition(|c| c.name == d.name) {
                Some(i) => {
                    replaced[i] = true;
                    enabled.push(custom_entries[i]);
                }
                None => enabled.push(*d),
            }
        }
    }
    enabled.extend(
        custom_entries
            .iter()
            .zip(&replaced)
            .filter(|&(_, &r)| !r)
            .map(|(e, _)| *e),
    );
    Ok(Merged { enabled, disabled })
}

/// The plugins running at `point` after multiPoint expansion, in order.
fn expand<'a>(
    point: ExtensionPoint,
    specific: &Merged<'a>,
    multi: &Merged<'a>,
) -> Result<Vec<Entry<'a>>, ConfigError> {
    // The explicit list (`updatePluginList`): each plugin must implement the point, once.
    for (i, e) in specific.enabled.iter().enumerate() {
        let field = e.origin.path_or("plugins");
        if !e.info.implements(point) {
            return Err(ConfigError::new(
                format!("{field}.name"),
                format!(
                    "plugin {:?} does not extend {}Plugin plugin (it runs at: {})",
                    e.name,
                    point.title(),
                    points_list(e.info)
                ),
            ));
        }
        if specific.enabled[..i].iter().any(|o| o.name == e.name) {
            return Err(ConfigError::new(
                format!("{field}.name"),
                format!(
                    "plugin {:?} already registered as \"{}Plugin\"",
                    e.name,
                    point.title()
                ),
            ));
        }
    }
    if multi.enabled.is_empty() || specific.disables("*") {
        return Ok(specific.enabled.clone());
    }
    let mut overrides: Vec<&str> = Vec::new();
    let mut from_multi: Vec<Entry<'a>> = Vec::new();
    for e in &multi.enabled {
        if !e.info.implements(point) {
            continue;
        }
        if specific.disables(e.name) {
            continue;
        }
        if specific.enabled.iter().any(|s| s.name == e.name) {
            overrides.push(e.name);
            continue;
        }
        if from_multi.iter().any(|m| m.name == e.name) {
            return Err(ConfigError::new(
                format!("{}.name", e.origin.path_or("plugins.multiPoint")),
                format!(
                    "plugin {:?} already registered as \"{}Plugin\"",
                    e.name,
                    point.title()
                ),
            ));
        }
        from_multi.push(*e);
    }
    let (first, rest): (Vec<Entry<'a>>, Vec<Entry<'a>>) = specific
        .enabled
        .iter()
        .partition(|s| overrides.contains(&s.name));
    Ok(first.into_iter().chain(from_multi).chain(rest).collect())
}

/// Inserts `i` before the first entry greater than it.
fn insert_by_index(list: &mut Vec<usize>, i: usize) {
    let at = list.iter().position(|&x| x > i).unwrap_or(list.len());
    list.insert(at, i);
}

/// `PreFilter, Filter` for a message.
fn points_list(info: &PluginInfo) -> String {
    info.points
        .iter()
        .map(|p| p.config_key())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A profile configuration merged with the default plugins and validated: what it takes to
/// build the same [`Profile`] again and again, one per simulation run.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedProfile {
    name: String,
    /// The simulated plugins, in the order they first run, with their arguments.
    plugins: Vec<(&'static str, Option<PluginArgs>)>,
    pre_filter: Vec<usize>,
    filter: Vec<usize>,
    pre_score: Vec<usize>,
    score: Vec<(usize, i64)>,
    percentage_of_nodes_to_score: u32,
    preemption: bool,
}

/// A resolved profile and what the user should know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The profile.
    pub profile: ResolvedProfile,
    /// Plugins and arguments accepted but not simulated, in file order.
    pub warnings: Vec<Warning>,
}

impl ResolvedProfile {
    /// Merges `config` into kube-scheduler's default plugins and checks everything
    /// kube-scheduler checks when it starts. `global_percentage` is the top-level
    /// `percentageOfNodesToScore`, used when the profile sets none. Error and warning
    /// fields are relative to the profile.
    pub fn resolve(
        config: &ProfileConfig,
        global_percentage: Option<i64>,
    ) -> Result<Resolution, ConfigError> {
        let mut warnings = Vec::new();

        // percentageOfNodesToScore.
        let percentage = config.percentage_of_nodes_to_score.or(global_percentage);
        let percentage = match percentage {
            None => 0,
            Some(p) => u32::try_from(p).ok().filter(|&p| p <= 100).ok_or_else(|| {
                ConfigError::new(
                    "percentageOfNodesToScore",
                    format!("invalid value {p}: not in valid range [0-100]"),
                )
            })?,
        };

        // pluginConfig: known plugins, each once, valid arguments of the right kind.
        for (i, entry) in config.plugin_config.iter().enumerate() {
            let field = format!("pluginConfig[{i}]");
            let info = check_known(&entry.name, &format!("{field}.name"))?;
            if config.plugin_config[..i]
                .iter()
                .any(|o| o.name == entry.name)
            {
                return Err(ConfigError::new(
                    format!("{field}.name"),
                    format!(
                        "duplicate value {:?}: one pluginConfig per plugin",
                        entry.name
                    ),
                ));
            }
            match (info.args_kind, entry.args.kind()) {
                (None, Some(_)) => {
                    return Err(ConfigError::new(
                        format!("{field}.args"),
                        format!("plugin {} takes no arguments", info.name),
                    ));
                }
                (Some(want), Some(got)) if want != got => {
                    return Err(ConfigError::new(
                        format!("{field}.args"),
                        format!("plugin {} takes {want}, not {got}", info.name),
                    ));
                }
                _ => {}
            }
            entry
                .args
                .validate()
                .map_err(|e| e.within(&format!("{field}.args")))?;
            if let PluginArgs::DefaultPreemption(a) = &entry.args
                && *a != DefaultPreemptionArgs::default()
            {
                warnings.push(Warning {
                    field: format!("{field}.args"),
                    message: format!(
                        "schedlab's DefaultPreemption always dry-runs \
                         max({MIN_CANDIDATE_NODES_PERCENTAGE}% of nodes, \
                         {MIN_CANDIDATE_NODES_ABSOLUTE}) candidates; these arguments are ignored"
                    ),
                });
            }
        }

        // mergePlugins.
        let defaults = default_entries();
        let multi = merge_set(&defaults, &config.plugins.multi_point, None)?;
        let mut sets = Vec::with_capacity(ExtensionPoint::ALL.len());
        for point in ExtensionPoint::ALL {
            sets.push(merge_set(&[], config.plugins.set(point), Some(point))?);
        }

        // Disabling a name kube-scheduler does not know disables nothing.
        let disabled_lists = std::iter::once((None, &config.plugins.multi_point)).chain(
            ExtensionPoint::ALL
                .iter()
                .map(|&p| (Some(p), config.plugins.set(p))),
        );
        for (set, list) in disabled_lists {
            for (i, name) in list.disabled.iter().enumerate() {
                if name != "*"
                    && plugin(name).is_none()
                    && !REMOVED_PLUGINS.contains(&name.as_str())
                {
                    let key = set.map_or("multiPoint", ExtensionPoint::config_key);
                    warnings.push(Warning {
                        field: format!("plugins.{key}.disabled[{i}].name"),
                        message: format!("{}; disabling it has no effect", unknown_plugin(name)),
                    });
                }
            }
        }

        // Expansion at every point (for the checks), weights at Score.
        let mut expanded: Vec<Vec<Entry<'_>>> = Vec::with_capacity(ExtensionPoint::ALL.len());
        for point in ExtensionPoint::ALL {
            expanded.push(expand(point, &sets[point.index()], &multi)?);
        }
        let at = |point: ExtensionPoint| &expanded[point.index()];

        // NewFramework's checks: exactly one queue sort plugin, at least one binder.
        let queue_sort = at(ExtensionPoint::QueueSort).len();
        if queue_sort != 1 {
            return Err(ConfigError::new(
                "plugins.queueSort",
                format!(
                    "only one queue sort plugin required for profile with scheduler name {:?}, \
                     but got {queue_sort}",
                    config.scheduler_name
                ),
            ));
        }
        if at(ExtensionPoint::Bind).is_empty() {
            return Err(ConfigError::new(
                "plugins.bind",
                format!(
                    "at least one bind plugin is needed for profile with scheduler name {:?}",
                    config.scheduler_name
                ),
            ));
        }

        let score_entries = sets[ExtensionPoint::Score.index()]
            .enabled
            .iter()
            .chain(&multi.enabled);
        let mut weights: Vec<(&str, i64)> = Vec::new();
        for e in score_entries {
            if !e.info.implements(ExtensionPoint::Score)
                || weights.iter().any(|(n, _)| *n == e.name)
            {
                continue;
            }
            let weight = match e.weight {
                None | Some(0) => 1,
                Some(w) if w < 0 => {
                    return Err(ConfigError::new(
                        format!("{}.weight", e.origin.path_or("plugins")),
                        format!(
                            "invalid value {w}: the score weight of {} must be positive \
                             (or 0 or unset for 1)",
                            e.name
                        ),
                    ));
                }
                Some(w) => w,
            };
            weights.push((e.name, weight));
        }

        // Plugins whose upstream implementation would fail every attempt.
        for info in PLUGINS {
            for &(point, needed) in info.requires {
                let runs = |p: ExtensionPoint| at(p).iter().any(|e| e.name == info.name);
                if runs(point) && !runs(needed) {
                    return Err(ConfigError::new(
                        format!("plugins.{}", needed.config_key()),
                        format!(
                            "{name} runs at {} but not at {}: kube-scheduler's {name} {} \
                             reads what its {} stores, and fails every scheduling attempt \
                             without it; enable both or neither",
                            point.config_key(),
                            needed.config_key(),
                            point.title(),
                            needed.title(),
                            name = info.name,
                        ),
                    ));
                }
            }
        }

        // Ignored plugins the configuration names explicitly.
        let mut mentioned: Vec<&str> = Vec::new();
        let named = multi
            .enabled
            .iter()
            .chain(sets.iter().flat_map(|s| &s.enabled))
            .filter_map(|e| e.origin.path().map(|p| (e.info, format!("{p}.name"))));
        let configured = config
            .plugin_config
            .iter()
            .enumerate()
            .filter_map(|(i, c)| plugin(&c.name).map(|p| (p, format!("pluginConfig[{i}]"))));
        for (info, field) in named.chain(configured) {
            if let Support::Ignored(why) = info.support
                && !mentioned.contains(&info.name)
            {
                mentioned.push(info.name);
                warnings.push(Warning {
                    field,
                    message: format!("plugin {} is accepted but not simulated: {why}", info.name),
                });
            }
        }

        // The profile: the simulated plugins that run somewhere, in the order of the
        // merged multiPoint list, then of first appearance in the explicit lists.
        let lists = [
            ExtensionPoint::PreFilter,
            ExtensionPoint::Filter,
            ExtensionPoint::PreScore,
            ExtensionPoint::Score,
        ];
        let runs = |name: &str| lists.iter().any(|&p| at(p).iter().any(|e| e.name == name));
        let mut order: Vec<&'static PluginInfo> = Vec::new();
        let candidates = multi
            .enabled
            .iter()
            .chain(lists.iter().flat_map(|&p| &sets[p.index()].enabled));
        for e in candidates {
            if e.info.is_simulated()
                && e.name != DEFAULT_PREEMPTION
                && runs(e.name)
                && !order.iter().any(|o| o.name == e.name)
            {
                order.push(e.info);
            }
        }
        let mut resolved = ResolvedProfile {
            name: config.scheduler_name.clone(),
            plugins: Vec::with_capacity(order.len()),
            pre_filter: Vec::new(),
            filter: Vec::new(),
            pre_score: Vec::new(),
            score: Vec::new(),
            percentage_of_nodes_to_score: percentage,
            preemption: at(ExtensionPoint::PostFilter)
                .iter()
                .any(|e| e.name == DEFAULT_PREEMPTION),
        };
        for info in &order {
            let args = config
                .plugin_config
                .iter()
                .position(|c| c.name == info.name)
                .map(|i| (i, &config.plugin_config[i].args))
                // `Ignored` stands for no arguments (a plugin that takes none).
                .filter(|(_, a)| **a != PluginArgs::Ignored);
            // Built once here so that arguments the plugin refuses are reported now, not
            // when a run starts.
            if let Err(error) = instantiate(info.name, args.map(|a| a.1)) {
                let field = args.map_or(String::new(), |(i, _)| format!("pluginConfig[{i}].args"));
                return Err(error.within(&field));
            }
            resolved
                .plugins
                .push((info.name, args.map(|a| a.1.clone())));
        }
        let index = |name: &str| order.iter().position(|o| o.name == name);
        for point in lists {
            for e in at(point) {
                let Some(i) = index(e.name) else { continue };
                match point {
                    ExtensionPoint::PreFilter => resolved.pre_filter.push(i),
                    ExtensionPoint::Filter => resolved.filter.push(i),
                    ExtensionPoint::PreScore => resolved.pre_score.push(i),
                    _ => {
                        let weight = weights
                            .iter()
                            .find(|(n, _)| *n == e.name)
                            .map_or(1, |&(_, w)| w);
                        resolved.score.push((i, weight));
                    }
                }
            }
        }
        // schedlab's helper points, wherever the point they serve runs. Their place in
        // the list does not matter (a helper never rejects a pod); they go among the
        // others by plugin index, as in a profile built with `Profile::add`.
        for (i, info) in order.iter().enumerate() {
            if info.runs_at.pre_filter
                && !info.implements(ExtensionPoint::PreFilter)
                && resolved.filter.contains(&i)
            {
                insert_by_index(&mut resolved.pre_filter, i);
            }
            if info.runs_at.pre_score
                && !info.implements(ExtensionPoint::PreScore)
                && resolved.score.iter().any(|&(s, _)| s == i)
            {
                insert_by_index(&mut resolved.pre_score, i);
            }
        }
        Ok(Resolution {
            profile: resolved,
            warnings,
        })
    }

    /// The profile's scheduler name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A fresh profile, with new plugin instances.
    pub fn build(&self) -> Profile {
        let mut profile = Profile::new(self.name.clone());
        for (name, args) in &self.plugins {
            let plugin = instantiate(name, args.as_ref())
                .expect("the plugin's arguments were accepted when the profile was resolved");
            profile.plugins.push(plugin);
        }
        profile.pre_filter = self.pre_filter.clone();
        profile.filter = self.filter.clone();
        profile.pre_score = self.pre_score.clone();
        profile.score = self.score.clone();
        profile.percentage_of_nodes_to_score = self.percentage_of_nodes_to_score;
        profile.preemption = self.preemption;
        profile
    }
}

/// A simulated plugin with its arguments (the defaults when `None`); errors are relative
/// to the arguments.
fn instantiate(name: &str, args: Option<&PluginArgs>) -> Result<Box<dyn Plugin>, ConfigError> {
    let wrong = |kind: Option<&str>| {
        ConfigError::new(
            "",
            format!(
                "plugin {name} does not take {}",
                kind.unwrap_or("these arguments")
            ),
        )
    };
    Ok(match (name, args) {
        (NodeUnschedulable::NAME, None) => Box::new(NodeUnschedulable),
        (ImageLocality::NAME, None) => Box::new(ImageLocality::default()),
        (NodeName::NAME, None) => Box::new(NodeName),
        (NodePorts::NAME, None) => Box::new(NodePorts::default()),
        (TaintToleration::NAME, None) => Box::new(TaintToleration::default()),
        (VolumeBinding::NAME, None | Some(PluginArgs::Ignored)) => {
            Box::new(VolumeBinding::default())
        }
        (VolumeZone::NAME, None) => Box::new(VolumeZone::default()),
        (VolumeRestrictions::NAME, None) => Box::new(VolumeRestrictions::default()),
        (NodeVolumeLimits::NAME, None) => Box::new(NodeVolumeLimits),
        (NodeAffinity::NAME, None) => Box::new(NodeAffinity::default()),
        (NodeAffinity::NAME, Some(PluginArgs::NodeAffinity(a))) => Box::new(a.plugin()?),
        (NodeResourcesFit::NAME, None) => Box::new(NodeResourcesFit::default()),
        (NodeResourcesFit::NAME, Some(PluginArgs::NodeResourcesFit(a))) => {
            a.validate()?;
            let plugin = NodeResourcesFit::try_new(a.scoring_strategy.clone())
                .map_err(|e| ConfigError::new("scoringStrategy", e.to_string()))?;
            Box::new(plugin.with_ignored_resources(
                a.ignored_resources.clone(),
                a.ignored_resource_groups.clone(),
            ))
        }
        (PodTopologySpread::NAME, None) => Box::new(PodTopologySpread::default()),
        (PodTopologySpread::NAME, Some(PluginArgs::PodTopologySpread(a))) => {
            a.validate()?;
            Box::new(a.plugin())
        }
        (InterPodAffinity::NAME, None) => Box::new(InterPodAffinity::default()),
        (InterPodAffinity::NAME, Some(PluginArgs::InterPodAffinity(a))) => {
            Box::new(inter_pod_affinity(*a)?)
        }
        (BalancedAllocation::NAME, None) => Box::new(BalancedAllocation::default()),
        (BalancedAllocation::NAME, Some(PluginArgs::NodeResourcesBalancedAllocation(a))) => {
            a.validate()?;
            Box::new(
                BalancedAllocation::new(a.resources.clone(), BalanceScoring::AfterPlacement)
                    .map_err(|e| ConfigError::new("resources", e.to_string()))?,
            )
        }
        (_, args) => return Err(wrong(args.and_then(PluginArgs::kind))),
    })
}

/// kube-scheduler's default profile as a configuration: no `plugins`, no `pluginConfig`.
pub fn default_profile_config(name: impl Into<String>) -> ProfileConfig {
    ProfileConfig {
        scheduler_name: name.into(),
        ..ProfileConfig::default()
    }
}

/// Points for a message or a test: where `plugin` runs in a built profile.
pub fn points_of(profile: &Profile, plugin: &str) -> Points {
    let Some(i) = profile.plugins.iter().position(|p| p.name() == plugin) else {
        return Points::default();
    };
    Points {
        pre_filter: profile.pre_filter.contains(&i),
        filter: profile.filter.contains(&i),
        pre_score: profile.pre_score.contains(&i),
        score: profile.score.iter().any(|&(s, _)| s == i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::plugins::resource_allocation::ResourceSpec;

    fn resolve(config: &ProfileConfig) -> Result<Resolution, ConfigError> {
        ResolvedProfile::resolve(config, None)
    }

    fn profile(config: &ProfileConfig) -> Profile {
        resolve(config)
            .expect("the profile resolves")
            .profile
            .build()
    }

    fn names(profile: &Profile, list: &[usize]) -> Vec<&'static str> {
        list.iter().map(|&i| profile.plugins[i].name()).collect()
    }

    fn scores(profile: &Profile) -> Vec<(&'static str, i64)> {
        profile
            .score
            .iter()
            .map(|&(i, w)| (profile.plugins[i].name(), w))
            .collect()
    }

    fn with(edit: impl FnOnce(&mut ProfileConfig)) -> ProfileConfig {
        let mut config = default_profile_config("custom");
        edit(&mut config);
        config
    }

    fn enable(set: &mut PluginSet, name: &str, weight: Option<i64>) {
        set.enabled.push(PluginRef {
            name: name.into(),
            weight,
        });
    }

    fn error(config: &ProfileConfig) -> ConfigError {
        resolve(config).expect_err("the profile is refused")
    }

    /// With no `plugins`, the profile is kube-default's, plugin for plugin.
    #[test]
    fn no_plugins_is_kube_default() {
        let built = profile(&default_profile_config("default-scheduler"));
        let reference = Profile::kube_default();
        assert_eq!(built.name, "default-scheduler");
        assert_eq!(built.plugin_names(), reference.plugin_names());
        assert_eq!(built.pre_filter, reference.pre_filter);
        assert_eq!(built.filter, reference.filter);
        assert_eq!(built.pre_score, reference.pre_score);
        assert_eq!(built.score, reference.score);
        assert_eq!(built.preemption, reference.preemption);
        assert_eq!(
            built.percentage_of_nodes_to_score,
            reference.percentage_of_nodes_to_score
        );
        for name in reference.plugin_names() {
            let info = plugin(name).unwrap();
            assert_eq!(info.support, Support::Simulated, "{name}");
            assert!(info.enabled_by_default, "{name}");
            assert_eq!(
                points_of(&built, name),
                points_of(&reference, name),
                "{name}"
            );
        }
        // Every simulated default plugin is in kube-default, and vice versa.
        let simulated: Vec<&str> = PLUGINS
            .iter()
            .filter(|p| p.is_simulated() && p.enabled_by_default && p.name != DEFAULT_PREEMPTION)
            .map(|p| p.name)
            .collect();
        assert_eq!(simulated, reference.plugin_names());
        assert!(
            resolve(&default_profile_config("x"))
                .unwrap()
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn disabling_one_default_removes_it_everywhere() {
        let config = with(|c| {
            c.plugins
                .multi_point
                .disabled
                .push(TaintToleration::NAME.into())
        });
        let p = profile(&config);
        assert!(!p.plugin_names().contains(&TaintToleration::NAME));
        assert_eq!(
            names(&p, &p.filter),
            [
                "NodeUnschedulable",
                "NodeName",
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "NodeVolumeLimits",
                "VolumeBinding",
                "VolumeZone",
                "PodTopologySpread",
                "InterPodAffinity"
            ]
        );
        assert_eq!(
            scores(&p),
            [
                ("NodeAffinity", 2),
                ("NodeResourcesFit", 1),
                ("VolumeBinding", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("ImageLocality", 1)
            ]
        );
        assert!(p.preemption);
    }

    #[test]
    fn disabling_one_default_at_one_point_keeps_the_others() {
        let config = with(|c| {
            c.plugins
                .set_mut(P::Score)
                .disabled
                .push(NodeAffinity::NAME.into())
        });
        let p = profile(&config);
        assert!(points_of(&p, NodeAffinity::NAME).filter);
        assert!(points_of(&p, NodeAffinity::NAME).pre_score);
        assert!(!points_of(&p, NodeAffinity::NAME).score);
        assert_eq!(
            scores(&p),
            [
                ("TaintToleration", 3),
                ("NodeResourcesFit", 1),
                ("VolumeBinding", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("NodeResourcesBalancedAllocation", 1),
                ("ImageLocality", 1)
            ]
        );
    }

    #[test]
    fn disabling_star_in_multi_point_leaves_only_what_is_enabled() {
        let config = with(|c| {
            c.plugins.multi_point.disabled.push("*".into());
            enable(&mut c.plugins.multi_point, "PrioritySort", None);
            enable(&mut c.plugins.multi_point, NodeResourcesFit::NAME, Some(5));
            enable(&mut c.plugins.multi_point, "DefaultBinder", None);
        });
        let p = profile(&config);
        assert_eq!(p.plugin_names(), ["NodeResourcesFit"]);
        assert_eq!(scores(&p), [("NodeResourcesFit", 5)]);
        assert!(
            !p.preemption,
            "DefaultPreemption was disabled with the rest"
        );
    }

    /// Mirrors NewFramework's checks (framework_test.go "queue sort plugin" and "bind
    /// plugin" cases): a profile that disables every plugin keeps no queue sort and no
    /// binder, and kube-scheduler refuses it at start-up.
    #[test]
    fn a_profile_needs_one_queue_sort_and_a_binder() {
        let no_queue_sort = with(|c| {
            c.plugins.multi_point.disabled.push("*".into());
            enable(&mut c.plugins.multi_point, NodeResourcesFit::NAME, None);
        });
        let e = resolve(&no_queue_sort).unwrap_err();
        assert_eq!(e.field, "plugins.queueSort");
        assert_eq!(
            e.message,
            "only one queue sort plugin required for profile with scheduler name \"custom\", \
             but got 0"
        );
        let no_binder = with(|c| {
            c.plugins
                .set_mut(P::Bind)
                .disabled
                .push("DefaultBinder".into());
        });
        let e = resolve(&no_binder).unwrap_err();
        assert_eq!(e.field, "plugins.bind");
        assert_eq!(
            e.message,
            "at least one bind plugin is needed for profile with scheduler name \"custom\""
        );
    }

    /// Mirrors updatePluginList: a plugin enabled at a point it does not implement is
    /// refused, whether or not schedlab simulates it.
    #[test]
    fn a_plugin_at_a_point_it_does_not_extend_is_refused() {
        let config = with(|c| enable(c.plugins.set_mut(P::Filter), "ImageLocality", None));
        let e = resolve(&config).unwrap_err();
        assert_eq!(e.field, "plugins.filter.enabled[0].name");
        assert!(
            e.message
                .starts_with("plugin \"ImageLocality\" does not extend FilterPlugin plugin"),
            "{}",
            e.message
        );
    }

    #[test]
    fn disabling_star_at_one_point_skips_multi_point_there() {
        let config = with(|c| {
            let filter = c.plugins.set_mut(P::Filter);
            filter.disabled.push("*".into());
            enable(filter, NodeName::NAME, None);
        });
        let p = profile(&config);
        assert_eq!(names(&p, &p.filter), ["NodeName"]);
        // NodeResourcesFit's PreFilter still runs; its Filter does not.
        assert!(points_of(&p, NodeResourcesFit::NAME).pre_filter);
        assert!(!points_of(&p, NodeResourcesFit::NAME).filter);
        assert_eq!(scores(&p).len(), 8);
    }

    #[test]
    fn helper_points_follow_the_point_they_serve() {
        // NodeName has no PreFilter upstream; schedlab's, which only skips its Filter for
        // pods that name no node, runs exactly when its Filter does.
        assert!(points_of(&profile(&default_profile_config("p")), NodeName::NAME).pre_filter);
        let off = with(|c| {
            c.plugins
                .set_mut(P::Filter)
                .disabled
                .push(NodeName::NAME.into())
        });
        let p = profile(&off);
        assert_eq!(points_of(&p, NodeName::NAME), Points::default());
        assert!(!p.plugin_names().contains(&NodeName::NAME));
        // Disabling a point a plugin does not implement upstream changes nothing.
        let noop = with(|c| {
            c.plugins
                .set_mut(P::PreFilter)
                .disabled
                .push(NodeName::NAME.into())
        });
        assert!(points_of(&profile(&noop), NodeName::NAME).pre_filter);
    }

    #[test]
    fn re_enabling_a_default_with_a_new_weight_moves_it_last() {
        let config = with(|c| {
            let mp = &mut c.plugins.multi_point;
            mp.disabled.push(TaintToleration::NAME.into());
            enable(mp, TaintToleration::NAME, Some(7));
        });
        let p = profile(&config);
        assert_eq!(
            names(&p, &p.filter),
            [
                "NodeUnschedulable",
                "NodeName",
                "NodeAffinity",
                "NodePorts",
                "NodeResourcesFit",
                "VolumeRestrictions",
                "NodeVolumeLimits",
                "VolumeBinding",
                "VolumeZone",
                "PodTopologySpread",
                "InterPodAffinity",
                "TaintToleration"
            ]
        );
        assert_eq!(scores(&p).last(), Some(&("TaintToleration", 7)));
    }

    #[test]
    fn enabling_a_default_again_replaces_it_in_place() {
        // Without disabling, the entry replaces the default where it stands; an unset
        // weight is 1, not the default's 3.
        let config = with(|c| enable(&mut c.plugins.multi_point, TaintToleration::NAME, None));
        let p = profile(&config);
        assert_eq!(names(&p, &p.filter)[2], "TaintToleration");
        assert_eq!(scores(&p)[0], ("TaintToleration", 1));
    }

    #[test]
    fn score_weight_takes_precedence_over_multi_point() {
        let config = with(|c| {
            enable(&mut c.plugins.multi_point, NodeResourcesFit::NAME, Some(4));
            enable(c.plugins.set_mut(P::Score), NodeResourcesFit::NAME, Some(9));
            enable(
                c.plugins.set_mut(P::Score),
                BalancedAllocation::NAME,
                Some(0),
            );
        });
        let p = profile(&config);
        // Plugins enabled at score explicitly and through multiPoint come first, in the
        // score list's order; weight 0 means 1.
        assert_eq!(
            scores(&p),
            [
                ("NodeResourcesFit", 9),
                ("NodeResourcesBalancedAllocation", 1),
                ("TaintToleration", 3),
                ("NodeAffinity", 2),
                ("VolumeBinding", 1),
                ("PodTopologySpread", 2),
                ("InterPodAffinity", 2),
                ("ImageLocality", 1)
            ]
        );
        // Elsewhere NodeResourcesFit keeps its multiPoint position.
        assert_eq!(names(&p, &p.filter)[5], "NodeResourcesFit");
    }

    #[test]
    fn multi_point_weight_applies_when_score_names_no_weight() {
        let config = with(|c| enable(&mut c.plugins.multi_point, NodeAffinity::NAME, Some(6)));
        let p = profile(&config);
        assert_eq!(scores(&p)[1], ("NodeAffinity", 6));
    }

    #[test]
    fn post_filter_controls_preemption() {
        let off = with(|c| {
            c.plugins
                .set_mut(P::PostFilter)
                .disabled
                .push(DEFAULT_PREEMPTION.into())
        });
        assert!(!profile(&off).preemption);
        let star = with(|c| c.plugins.set_mut(P::PostFilter).disabled.push("*".into()));
        assert!(!profile(&star).preemption);
        let back = with(|c| {
            let post = c.plugins.set_mut(P::PostFilter);
            post.disabled.push("*".into());
            enable(post, DEFAULT_PREEMPTION, None);
        });
        assert!(profile(&back).preemption);
    }

    #[test]
    fn percentage_of_nodes_to_score_profile_overrides_global() {
        let mut config = default_profile_config("p");
        let r = ResolvedProfile::resolve(&config, Some(30)).unwrap();
        assert_eq!(r.profile.build().percentage_of_nodes_to_score, 30);
        config.percentage_of_nodes_to_score = Some(0);
        let r = ResolvedProfile::resolve(&config, Some(30)).unwrap();
        assert_eq!(r.profile.build().percentage_of_nodes_to_score, 0);
        config.percentage_of_nodes_to_score = Some(101);
        let e = ResolvedProfile::resolve(&config, None).unwrap_err();
        assert_eq!(e.field, "percentageOfNodesToScore");
    }

    #[test]
    fn builds_are_independent_and_equal() {
        let r = resolve(&default_profile_config("p")).unwrap().profile;
        let (a, b) = (r.build(), r.build());
        assert_eq!(a.plugin_names(), b.plugin_names());
        assert_eq!(a.score, b.score);
    }

    #[test]
    fn ignored_plugins_are_dropped_with_a_warning() {
        let config = with(|c| {
            let mp = &mut c.plugins.multi_point;
            enable(mp, "DynamicResources", None);
            enable(c.plugins.set_mut(P::Bind), "DefaultBinder", None);
            c.plugins
                .set_mut(P::Filter)
                .disabled
                .push("VolumeZone".into());
        });
        let r = resolve(&config).unwrap();
        assert_eq!(
            r.profile.build().plugin_names(),
            Profile::kube_default().plugin_names()
        );
        let fields: Vec<&str> = r.warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "plugins.multiPoint.enabled[0].name",
                "plugins.bind.enabled[0].name"
            ]
        );
        assert!(r.warnings[0].message.contains("DynamicResources"));
        assert!(r.warnings[0].message.contains("ResourceClaims"));
    }

    #[test]
    fn unknown_plugin_is_refused_with_the_known_names() {
        let config = with(|c| enable(c.plugins.set_mut(P::Score), "NodeResourceFit", Some(2)));
        let e = error(&config);
        assert_eq!(e.field, "plugins.score.enabled[0].name");
        assert!(
            e.message.contains("unknown plugin \"NodeResourceFit\""),
            "{e}"
        );
        assert!(e.message.contains("did you mean NodeResourcesFit?"), "{e}");
        assert!(e.message.contains("known plugins: DefaultBinder, "), "{e}");
    }

    #[test]
    fn unknown_plugin_in_disabled_only_warns() {
        let config = with(|c| c.plugins.multi_point.disabled.push("SelectorSpread".into()));
        let r = resolve(&config).unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].field, "plugins.multiPoint.disabled[0].name");
        assert!(r.warnings[0].message.contains("has no effect"));
    }

    #[test]
    fn removed_plugins_are_refused() {
        let config = with(|c| enable(c.plugins.set_mut(P::Filter), "EBSLimits", None));
        let e = error(&config);
        assert_eq!(e.field, "plugins.filter.enabled[0].name");
        assert!(e.message.contains("was invalid in version"), "{e}");
    }

    #[test]
    fn a_plugin_at_a_point_it_does_not_implement_is_refused() {
        let config = with(|c| enable(c.plugins.set_mut(P::Score), NodeName::NAME, Some(1)));
        let e = error(&config);
        assert_eq!(e.field, "plugins.score.enabled[0].name");
        assert!(e.message.contains("does not extend ScorePlugin"), "{e}");
    }

    #[test]
    fn double_registration_is_refused() {
        let config = with(|c| {
            c.plugins.multi_point.disabled.push("*".into());
            enable(&mut c.plugins.multi_point, NodeName::NAME, None);
            enable(&mut c.plugins.multi_point, NodeName::NAME, None);
        });
        let e = error(&config);
        assert!(e.message.contains("already registered"), "{e}");
        let config = with(|c| {
            enable(c.plugins.set_mut(P::Filter), NodeName::NAME, None);
            enable(c.plugins.set_mut(P::Filter), NodeName::NAME, None);
        });
        assert_eq!(error(&config).field, "plugins.filter.enabled[1].name");
    }

    #[test]
    fn negative_weight_is_refused() {
        let config = with(|c| enable(c.plugins.set_mut(P::Score), NodeAffinity::NAME, Some(-2)));
        let e = error(&config);
        assert_eq!(e.field, "plugins.score.enabled[0].weight");
        assert!(e.message.contains("must be positive"), "{e}");
    }

    #[test]
    fn filter_without_its_pre_filter_is_refused() {
        let config = with(|c| {
            c.plugins
                .set_mut(P::PreFilter)
                .disabled
                .push(NodeResourcesFit::NAME.into())
        });
        let e = error(&config);
        assert_eq!(e.field, "plugins.preFilter");
        assert!(e.message.contains("NodeResourcesFit runs at filter"), "{e}");
        let config = with(|c| c.plugins.set_mut(P::PreScore).disabled.push("*".into()));
        assert!(
            error(&config)
                .message
                .contains("TaintToleration runs at score")
        );
        // NodeAffinity computes what it needs when PreFilter is off, as upstream.
        let config = with(|c| {
            c.plugins
                .set_mut(P::PreFilter)
                .disabled
                .push(NodeAffinity::NAME.into())
        });
        assert!(!points_of(&profile(&config), NodeAffinity::NAME).pre_filter);
    }

    fn with_args(name: &str, args: PluginArgs) -> ProfileConfig {
        with(|c| {
            c.plugin_config.push(PluginConfigEntry {
                name: name.into(),
                args,
            })
        })
    }

    #[test]
    fn node_resources_fit_args() {
        let args = NodeResourcesFitArgs {
            scoring_strategy: ScoringStrategy::most_allocated(vec![
                ResourceSpec::new("cpu", 3),
                ResourceSpec::new("memory", 1),
            ]),
            ignored_resources: vec!["example.com/foo".into()],
            ignored_resource_groups: vec!["example.org".into()],
        };
        let config = with_args(NodeResourcesFit::NAME, PluginArgs::NodeResourcesFit(args));
        assert!(resolve(&config).unwrap().warnings.is_empty());
        let p = profile(&config);
        assert_eq!(p.plugin_names(), Profile::kube_default().plugin_names());

        let bad_weight = NodeResourcesFitArgs {
            scoring_strategy: ScoringStrategy::least_allocated(vec![ResourceSpec::new("cpu", 101)]),
            ..NodeResourcesFitArgs::default()
        };
        let e = error(&with_args(
            NodeResourcesFit::NAME,
            PluginArgs::NodeResourcesFit(bad_weight),
        ));
        assert_eq!(
            e.field,
            "pluginConfig[0].args.scoringStrategy.resources[0].weight"
        );

        let bad_group = NodeResourcesFitArgs {
            ignored_resource_groups: vec!["example.com/x".into()],
            ..NodeResourcesFitArgs::default()
        };
        let e = bad_group.validate().unwrap_err();
        assert_eq!(e.field, "ignoredResourceGroups[0]");
    }

    #[test]
    fn requested_to_capacity_ratio_shape_is_validated() {
        let shape = |points: &[(i64, i64)]| NodeResourcesFitArgs {
            scoring_strategy: ScoringStrategy::requested_to_capacity_ratio(
                ResourceSpec::defaults(),
                points
                    .iter()
                    .map(|&(utilization, score)| ShapePoint { utilization, score })
                    .collect(),
            ),
            ..NodeResourcesFitArgs::default()
        };
        assert!(shape(&[(0, 0), (100, 10)]).validate().is_ok());
        let path = "scoringStrategy.requestedToCapacityRatio.shape";
        assert_eq!(shape(&[]).validate().unwrap_err().field, path);
        assert_eq!(
            shape(&[(0, 0), (101, 10)]).validate().unwrap_err().field,
            format!("{path}[1].utilization")
        );
        assert_eq!(
            shape(&[(50, 0), (10, 10)]).validate().unwrap_err().field,
            format!("{path}[1].utilization")
        );
        assert_eq!(
            shape(&[(0, 11)]).validate().unwrap_err().field,
            format!("{path}[0].score")
        );
    }

    #[test]
    fn balanced_allocation_args() {
        let args = |resources| {
            PluginArgs::NodeResourcesBalancedAllocation(BalancedAllocationArgs { resources })
        };
        let ok = with_args(
            BalancedAllocation::NAME,
            args(vec![ResourceSpec::new("cpu", 1)]),
        );
        assert_eq!(
            profile(&ok).plugin_names(),
            Profile::kube_default().plugin_names()
        );
        let twice = args(vec![
            ResourceSpec::new("cpu", 1),
            ResourceSpec::new("cpu", 1),
        ]);
        assert_eq!(twice.validate().unwrap_err().field, "resources[1].name");
        let weighted = args(vec![ResourceSpec::new("cpu", 2)]);
        assert_eq!(
            weighted.validate().unwrap_err().field,
            "resources[0].weight"
        );
    }

    #[test]
    fn node_affinity_args() {
        let term = |key: &str, values: &[&str]| labels::NodeSelectorTerm {
            match_expressions: vec![labels::SelectorRequirement {
                key: key.into(),
                operator: labels::SelectorOperator::In,
                values: values.iter().map(|v| v.to_string()).collect(),
            }],
            match_fields: Vec::new(),
        };
        let args = |t| {
            PluginArgs::NodeAffinity(NodeAffinityArgs {
                added_affinity: Some(labels::NodeAffinity {
                    required: Some(vec![t]),
                    preferred: Vec::new(),
                }),
            })
        };
        let ok = with_args(NodeAffinity::NAME, args(term("pool", &["batch"])));
        assert!(resolve(&ok).is_ok());
        let e = error(&with_args(NodeAffinity::NAME, args(term("pool", &[]))));
        assert_eq!(
            e.field,
            "pluginConfig[0].args.addedAffinity.requiredDuringSchedulingIgnoredDuringExecution\
             .nodeSelectorTerms[0].matchExpressions[0].values"
        );
    }

    #[test]
    fn topology_spread_and_inter_pod_affinity_args() {
        let constraint = |key: &str| TopologySpreadConstraint {
            topology_key: key.into(),
            ..TopologySpreadConstraint::default()
        };
        let list = PodTopologySpreadArgs {
            default_constraints: vec![constraint("topology.kubernetes.io/zone")],
            defaulting_type: DefaultingType::List,
        };
        assert!(list.validate().is_ok());
        let system = PodTopologySpreadArgs {
            defaulting_type: DefaultingType::System,
            ..list.clone()
        };
        assert_eq!(system.validate().unwrap_err().field, "defaultingType");
        let repeated = PodTopologySpreadArgs {
            default_constraints: vec![constraint("zone"), constraint("zone")],
            ..list.clone()
        };
        assert_eq!(
            repeated.validate().unwrap_err().field,
            "defaultConstraints[1]"
        );
        let skew = PodTopologySpreadArgs {
            default_constraints: vec![TopologySpreadConstraint {
                max_skew: 0,
                ..constraint("zone")
            }],
            ..list.clone()
        };
        assert_eq!(
            skew.validate().unwrap_err().field,
            "defaultConstraints[0].maxSkew"
        );

        let config = with_args(PodTopologySpread::NAME, PluginArgs::PodTopologySpread(list));
        let r = resolve(&config).unwrap();
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert!(
            r.profile
                .build()
                .plugin_names()
                .contains(&PodTopologySpread::NAME)
        );

        let heavy = InterPodAffinityArgs {
            hard_pod_affinity_weight: 101,
            ..InterPodAffinityArgs::default()
        };
        let e = error(&with_args(
            InterPodAffinity::NAME,
            PluginArgs::InterPodAffinity(heavy),
        ));
        assert_eq!(e.field, "pluginConfig[0].args.hardPodAffinityWeight");
    }

    #[test]
    fn default_preemption_args() {
        let args = |percentage, absolute| {
            PluginArgs::DefaultPreemption(DefaultPreemptionArgs {
                min_candidate_nodes_percentage: percentage,
                min_candidate_nodes_absolute: absolute,
            })
        };
        assert!(
            resolve(&with_args(DEFAULT_PREEMPTION, args(10, 100)))
                .unwrap()
                .warnings
                .is_empty()
        );
        let r = resolve(&with_args(DEFAULT_PREEMPTION, args(20, 100))).unwrap();
        assert_eq!(r.warnings[0].field, "pluginConfig[0].args");
        assert!(args(0, 0).validate().is_err());
        assert!(args(101, 5).validate().is_err());
    }

    /// Upstream's NewFramework builds only the plugins a profile enables, so `pluginConfig`
    /// for any other plugin is ignored; ValidateKubeSchedulerConfiguration still checks
    /// those arguments, by plugin name, whether or not the plugin runs.
    #[test]
    fn plugin_config_for_a_plugin_no_point_enables() {
        let disabled = |args: NodeResourcesFitArgs| {
            let mut config = with_args(NodeResourcesFit::NAME, PluginArgs::NodeResourcesFit(args));
            config
                .plugins
                .multi_point
                .disabled
                .push(NodeResourcesFit::NAME.into());
            config
        };
        let valid = NodeResourcesFitArgs {
            scoring_strategy: ScoringStrategy::most_allocated(vec![ResourceSpec::new("cpu", 1)]),
            ..NodeResourcesFitArgs::default()
        };
        let p = profile(&disabled(valid));
        assert!(!p.plugin_names().contains(&NodeResourcesFit::NAME));
        let invalid = NodeResourcesFitArgs {
            scoring_strategy: ScoringStrategy::least_allocated(vec![ResourceSpec::new("cpu", 101)]),
            ..NodeResourcesFitArgs::default()
        };
        assert!(
            error(&disabled(invalid))
                .field
                .starts_with("pluginConfig[0].args")
        );
    }

    #[test]
    fn plugin_config_mistakes() {
        let twice = with(|c| {
            for _ in 0..2 {
                c.plugin_config.push(PluginConfigEntry {
                    name: NodeAffinity::NAME.into(),
                    args: PluginArgs::NodeAffinity(NodeAffinityArgs::default()),
                });
            }
        });
        assert_eq!(error(&twice).field, "pluginConfig[1].name");
        let wrong_kind = with_args(
            NodeAffinity::NAME,
            PluginArgs::InterPodAffinity(InterPodAffinityArgs::default()),
        );
        assert_eq!(error(&wrong_kind).field, "pluginConfig[0].args");
        let no_args = with_args(
            NodeName::NAME,
            PluginArgs::NodeAffinity(NodeAffinityArgs::default()),
        );
        assert!(error(&no_args).message.contains("takes no arguments"));
        assert!(resolve(&with_args(NodeName::NAME, PluginArgs::Ignored)).is_ok());
        let unknown = with_args("Coscheduling", PluginArgs::Ignored);
        assert_eq!(error(&unknown).field, "pluginConfig[0].name");
    }

    #[test]
    fn catalogue_is_consistent() {
        for (i, p) in PLUGINS.iter().enumerate() {
            assert!(
                PLUGINS[..i].iter().all(|o| o.name != p.name),
                "{} twice",
                p.name
            );
            assert_eq!(
                p.default_weight.is_some(),
                p.implements(P::Score),
                "{}: score plugins, and only they, have a weight",
                p.name
            );
            for &(point, needed) in p.requires {
                assert!(p.implements(point) && p.implements(needed), "{}", p.name);
            }
            // schedlab runs a simulated plugin at every upstream point it implements,
            // and elsewhere only at helper points.
            let r = p.runs_at;
            if p.is_simulated() && p.name != DEFAULT_PREEMPTION {
                assert_eq!(r.filter, p.implements(P::Filter), "{}", p.name);
                assert_eq!(r.score, p.implements(P::Score), "{}", p.name);
                assert!(r.pre_filter || !p.implements(P::PreFilter), "{}", p.name);
                assert!(r.pre_score || !p.implements(P::PreScore), "{}", p.name);
                assert!(
                    !r.pre_filter || r.filter,
                    "{}: a PreFilter helper serves Filter",
                    p.name
                );
                assert!(
                    !r.pre_score || r.score,
                    "{}: a PreScore helper serves Score",
                    p.name
                );
            } else {
                assert_eq!(r, NOWHERE, "{}", p.name);
            }
        }
        assert_eq!(
            closest("nodeaffinity", &known_plugin_names()),
            Some("NodeAffinity")
        );
    }
}
