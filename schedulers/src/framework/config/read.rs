//! Interpreting the raw document: the v1 API's defaulting (an unset resource weight is 1,
//! a missing resource list is `cpu` and `memory`, a single unnamed profile is
//! `default-scheduler`, ...) and the checks that only make sense with the spans at hand
//! (enum spellings, required and forbidden fields), building
//! [`ProfileConfig`]s. [`ConfigReader`] records the position of every field it reads, so
//! that the errors [`ResolvedProfile::resolve`] names by field get a line and column.

use std::collections::HashMap;
use std::fmt;

use serde_saphyr::{Location, Spanned};

use super::raw::{
    ARGS_FIELDS, Int32, RawArgs, RawConfig, RawPluginConfig, RawPluginSet, RawProfile, RawResource,
};
use super::{
    DEFAULT_INITIAL_BACKOFF_SECONDS, DEFAULT_MAX_BACKOFF_SECONDS, KIND, SchedulerConfig,
    SchedulerConfigError,
};
use crate::field_path;
use crate::framework::plugin_registry::{
    self as registry, API_VERSION, BalancedAllocationArgs, ConfigError, DEFAULT_SCHEDULER_NAME,
    DefaultPreemptionArgs, DefaultingType, ExtensionPoint, InterPodAffinityArgs, NodeAffinityArgs,
    NodeResourcesFitArgs, PluginArgs, PluginConfigEntry, PluginRef, PluginSet,
    PodTopologySpreadArgs, ProfileConfig, ResolvedProfile,
};
use crate::framework::plugins::node_resources_fit::{ScoringStrategy, ScoringStrategyType};
use crate::framework::plugins::resource_allocation::{ResourceSpec, ShapePoint};
use crate::labels;
use crate::pod_affinity::{InclusionPolicy, TopologySpreadConstraint, WhenUnsatisfiable};
use crate::yaml::kube::{RawNodeAffinity, RawNodeSelectorTerm};
use crate::yaml::{NodeAffinityRules, Reader, line_column};

/// Interprets the raw document, recording where every field it reads is.
pub(super) struct ConfigReader<'a> {
    /// The shared reader of Kubernetes pieces (`addedAffinity`, integers), which knows the
    /// file's name.
    kube: Reader<'a>,
    /// Field path -> position, for the errors [`ResolvedProfile::resolve`] names by field.
    spans: HashMap<String, Location>,
    warnings: Vec<String>,
}

type Result<T> = std::result::Result<T, SchedulerConfigError>;

impl<'a> ConfigReader<'a> {
    /// A reader of the configuration in the file `path`, as it is named in messages.
    pub(super) fn new(path: &'a str) -> ConfigReader<'a> {
        ConfigReader {
            kube: Reader::new(path),
            spans: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    /// An error at `at` about `field`.
    fn err(&self, at: Location, field: &str, message: impl Into<String>) -> SchedulerConfigError {
        self.kube.err(&at, field, message)
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
        let (line, column) = at.map_or((None, None), |l| line_column(&l));
        SchedulerConfigError {
            path: self.kube.file().to_owned(),
            line,
            column,
            field: (!e.field.is_empty()).then_some(e.field),
            message: e.message,
        }
    }

    /// A warning about `field`, placed where it is.
    fn warn(&mut self, field: &str, message: impl fmt::Display) {
        let at = self.locate(field);
        let (line, column) = at.map_or((None, None), |l| line_column(&l));
        let rendered = SchedulerConfigError {
            path: self.kube.file().to_owned(),
            line,
            column,
            field: (!field.is_empty()).then(|| field.to_owned()),
            message: message.to_string(),
        };
        self.warnings.push(rendered.to_string());
    }

    /// Refuses a document that is not a v1 KubeSchedulerConfiguration.
    pub(super) fn identity(
        &self,
        root: Location,
        api_version: &Option<Spanned<String>>,
        kind: &Option<Spanned<String>>,
    ) -> Result<()> {
        match api_version {
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
        match kind {
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
        Ok(())
    }

    pub(super) fn config(&mut self, raw: &Spanned<RawConfig>) -> Result<SchedulerConfig> {
        let root = raw.referenced;
        let raw = &raw.value;
        self.identity(root, &raw.api_version, &raw.kind)?;
        if let Some(p) = &raw.parallelism {
            let v = self.int32(p, "parallelism")?;
            if v <= 0 {
                return Err(self.err(
                    p.referenced,
                    "parallelism",
                    format!("invalid value {v}: should be an integer value greater than zero"),
                ));
            }
        }
        let global_percentage = match &raw.percentage_of_nodes_to_score {
            Some(p) => Some(i64::from(
                self.check_percentage(p, "percentageOfNodesToScore")?,
            )),
            None => None,
        };
        // kube-scheduler's validation: with leader election on (the default), only the
        // `leases` lock exists.
        if let Some(le) = &raw.leader_election
            && le.leader_elect != Some(false)
            && let Some(lock) = &le.resource_lock
            && lock.value != "leases"
        {
            return Err(self.err(
                lock.referenced,
                "leaderElection.resourceLock",
                format!(
                    "invalid value {:?}: resourceLock value must be \"leases\"",
                    lock.value
                ),
            ));
        }
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
                path: self.kube.file().to_owned(),
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
                self.warn(&field_path::join(&base, &w.field), w.message);
            }
            profiles.push(resolution.profile);
        }
        Ok(SchedulerConfig {
            profiles,
            name_sites,
            warnings: std::mem::take(&mut self.warnings),
        })
    }

    fn check_percentage(&self, p: &Spanned<Int32>, field: &str) -> Result<i32> {
        let v = self.int32(p, field)?;
        if !(0..=100).contains(&v) {
            return Err(self.err(
                p.referenced,
                field,
                format!("invalid value {v}: not in valid range [0-100]"),
            ));
        }
        Ok(v)
    }

    /// An `int32` field's value; a quoted string or a number out of range is refused, as
    /// kube-scheduler's strict decoding refuses it.
    fn int32(&self, p: &Spanned<Int32>, field: &str) -> Result<i32> {
        match &p.value {
            Int32::Number(n) => i32::try_from(*n).map_err(|_| {
                self.err(
                    p.referenced,
                    field,
                    format!("invalid value {n}: out of the range of a 32-bit integer"),
                )
            }),
            Int32::Quoted(text) => Err(self.err(
                p.referenced,
                field,
                format!(
                    "expected a 32-bit integer, got the string {text:?} (write it without quotes)"
                ),
            )),
        }
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
            let v = self.check_percentage(p, &field)?;
            self.mark(&field, p.referenced);
            config.percentage_of_nodes_to_score = Some(i64::from(v));
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

    /// `addedAffinity`, read by the rules kube-scheduler reads plugin arguments by: the
    /// plugin checks the terms when its arguments are validated, naming the fields that
    /// the positions recorded here place.
    fn node_affinity(
        &mut self,
        raw: &Spanned<RawNodeAffinity>,
        base: &str,
    ) -> Result<labels::NodeAffinity> {
        let affinity = self
            .kube
            .node_affinity(&raw.value, base, NodeAffinityRules::PluginArgs)?;
        self.mark(base, raw.referenced);
        if let Some(required) = &raw
            .value
            .required_during_scheduling_ignored_during_execution
        {
            let rbase = format!("{base}.requiredDuringSchedulingIgnoredDuringExecution");
            self.mark(&rbase, required.referenced);
            let terms = required.value.node_selector_terms.iter();
            for (i, t) in terms.flat_map(|t| t.value.iter().flatten()).enumerate() {
                self.mark_term(t, &format!("{rbase}.nodeSelectorTerms[{i}]"));
            }
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
            self.mark_term(&p.value.preference, &format!("{field}.preference"));
        }
        Ok(affinity)
    }

    /// Records where a node selector term and its requirements are.
    fn mark_term(&mut self, raw: &Spanned<RawNodeSelectorTerm>, base: &str) {
        self.mark(base, raw.referenced);
        for (key, list) in [
            ("matchExpressions", &raw.value.match_expressions),
            ("matchFields", &raw.value.match_fields),
        ] {
            for (i, r) in list.iter().flatten().enumerate() {
                let field = format!("{base}.{key}[{i}]");
                self.mark(&field, r.referenced);
                self.mark(&format!("{field}.key"), r.value.key.referenced);
                self.mark(&format!("{field}.operator"), r.value.operator.referenced);
                if let Some(v) = &r.value.values {
                    self.mark(&format!("{field}.values"), v.referenced);
                }
            }
        }
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
                let skew_field = format!("{field}.maxSkew");
                self.mark(&skew_field, m.referenced);
                out.max_skew = self.kube.int32(m, &skew_field)?;
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
            out.min_domains = match &c.min_domains {
                Some(m) => Some(self.kube.int32(m, &format!("{field}.minDomains"))?),
                None => None,
            };
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
            out.match_label_keys = c
                .match_label_keys
                .iter()
                .flat_map(|keys| &keys.value)
                .map(|k| k.value.clone())
                .collect();
            a.default_constraints.push(out);
        }
        Ok(a)
    }
}

/// The allowed fields of an argument kind, for a message.
pub(super) fn allowed_with_meta(fields: &[&str]) -> String {
    let mut all: Vec<&str> = vec!["apiVersion", "kind"];
    all.extend_from_slice(fields);
    all.join(", ")
}
