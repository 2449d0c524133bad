//! Profiles: plugins composed at extension points with weights, as in a
//! `KubeSchedulerConfiguration` profile.

use super::Plugin;
use super::plugins::{
    balanced_allocation::BalancedAllocation,
    image_locality::ImageLocality,
    inter_pod_affinity::InterPodAffinity,
    node_affinity::NodeAffinity,
    node_name::NodeName,
    node_ports::NodePorts,
    node_resources_fit::{NodeResourcesFit, ScoringStrategy},
    node_unschedulable::NodeUnschedulable,
    node_volume_limits::NodeVolumeLimits,
    pod_topology_spread::PodTopologySpread,
    taint_toleration::TaintToleration,
    volume_binding::VolumeBinding,
    volume_restrictions::VolumeRestrictions,
    volume_zone::VolumeZone,
};

/// The extension points a plugin runs at in a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Points {
    /// PreFilter.
    pub pre_filter: bool,
    /// Filter.
    pub filter: bool,
    /// PreScore.
    pub pre_score: bool,
    /// Score (and NormalizeScore).
    pub score: bool,
}

impl Points {
    /// Filter only.
    pub const FILTER: Points = Points {
        pre_filter: false,
        filter: true,
        pre_score: false,
        score: false,
    };
    /// Every point.
    pub const ALL: Points = Points {
        pre_filter: true,
        filter: true,
        pre_score: true,
        score: true,
    };
    /// PreScore and Score.
    pub const SCORE: Points = Points {
        pre_filter: false,
        filter: false,
        pre_score: true,
        score: true,
    };
}

/// A profile could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The same plugin was added twice.
    #[error("plugin {0} appears twice in the profile")]
    Duplicate(String),
    /// A score weight outside 1..=100... (kube-scheduler allows up to 100 by default).
    #[error("plugin {plugin}: score weight {weight} must be positive")]
    BadWeight {
        /// The plugin.
        plugin: String,
        /// Its weight.
        weight: i64,
    },
}

/// Plugins at extension points, in order, with score weights.
pub struct Profile {
    /// The profile's scheduler name (`schedulerName`), e.g. `kube-default`.
    pub name: String,
    /// The plugins; the lists below index into it.
    pub plugins: Vec<Box<dyn Plugin>>,
    /// PreFilter plugins, in order.
    pub pre_filter: Vec<usize>,
    /// Filter plugins, in order: a node's verdict is the first that rejects it.
    pub filter: Vec<usize>,
    /// PreScore plugins, in order.
    pub pre_score: Vec<usize>,
    /// Score plugins with their weights, in order.
    pub score: Vec<(usize, i64)>,
    /// `percentageOfNodesToScore`; 0 means kube-scheduler's adaptive default.
    pub percentage_of_nodes_to_score: u32,
    /// DefaultPreemption runs as PostFilter when no node fits.
    pub preemption: bool,
}

impl Profile {
    /// An empty profile.
    pub fn new(name: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            plugins: Vec::new(),
            pre_filter: Vec::new(),
            filter: Vec::new(),
            pre_score: Vec::new(),
            score: Vec::new(),
            percentage_of_nodes_to_score: 0,
            preemption: false,
        }
    }

    /// Adds a plugin at `points` (kube-scheduler's multiPoint), with `weight` if it scores.
    pub fn add(
        &mut self,
        plugin: Box<dyn Plugin>,
        points: Points,
        weight: i64,
    ) -> Result<(), ProfileError> {
        if self.plugins.iter().any(|p| p.name() == plugin.name()) {
            return Err(ProfileError::Duplicate(plugin.name().to_string()));
        }
        if points.score && weight <= 0 {
            return Err(ProfileError::BadWeight {
                plugin: plugin.name().to_string(),
                weight,
            });
        }
        let i = self.plugins.len();
        self.plugins.push(plugin);
        if points.pre_filter {
            self.pre_filter.push(i);
        }
        if points.filter {
            self.filter.push(i);
        }
        if points.pre_score {
            self.pre_score.push(i);
        }
        if points.score {
            self.score.push((i, weight));
        }
        Ok(())
    }

    /// Names of the plugins, in order.
    pub fn plugin_names(&self) -> Vec<&'static str> {
        self.plugins.iter().map(|p| p.name()).collect()
    }

    /// kube-scheduler's default profile (v1.35 `getDefaultPlugins`), with the plugins
    /// schedlab implements (all but SchedulingGates, PrioritySort, which the queue does,
    /// DynamicResources and DefaultBinder), in upstream order and with upstream weights.
    pub fn kube_default() -> Profile {
        let mut p = Profile::new("kube-default");
        p.preemption = true;
        let plugins: [(Box<dyn Plugin>, Points, i64); 14] = [
            (Box::new(NodeUnschedulable), NodeUnschedulable::POINTS, 0),
            (Box::new(NodeName), NodeName::POINTS, 0),
            (
                Box::new(TaintToleration::default()),
                TaintToleration::POINTS,
                3,
            ),
            (Box::new(NodeAffinity::default()), NodeAffinity::POINTS, 2),
            (Box::new(NodePorts::default()), NodePorts::POINTS, 0),
            (
                Box::new(NodeResourcesFit::new(ScoringStrategy::default())),
                NodeResourcesFit::POINTS,
                1,
            ),
            (
                Box::new(VolumeRestrictions::default()),
                VolumeRestrictions::POINTS,
                0,
            ),
            (Box::new(NodeVolumeLimits), NodeVolumeLimits::POINTS, 0),
            (Box::new(VolumeBinding::default()), VolumeBinding::POINTS, 1),
            (Box::new(VolumeZone::default()), VolumeZone::POINTS, 0),
            (
                Box::new(PodTopologySpread::default()),
                PodTopologySpread::POINTS,
                2,
            ),
            (
                Box::new(InterPodAffinity::default()),
                InterPodAffinity::POINTS,
                2,
            ),
            (
                Box::new(BalancedAllocation::default()),
                BalancedAllocation::POINTS,
                1,
            ),
            (Box::new(ImageLocality::default()), ImageLocality::POINTS, 1),
        ];
        for (plugin, points, weight) in plugins {
            p.add(plugin, points, weight)
                .expect("the default profile is valid");
        }
        p
    }
}
