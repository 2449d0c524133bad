//! The cluster autoscaler's settings and node groups (`clusterAutoscaler:` and a node
//! pool's `autoscaling:`), as plain data; `controllers::autoscaler` runs them.
//!
//! The settings and their defaults are cluster-autoscaler's flags of the same names
//! (kubernetes/autoscaler, `cluster-autoscaler/FAQ.md`, "What are the parameters to CA?").

use schedulers::NodeSpec;

use crate::time::SimTime;

/// `--scan-interval`: how often the autoscaler looks at the cluster.
pub const DEFAULT_SCAN_INTERVAL: SimTime = SimTime::from_secs(10);
/// `--scale-down-unneeded-time`: how long a node must stay unneeded before it is removed.
pub const DEFAULT_SCALE_DOWN_UNNEEDED_TIME: SimTime = SimTime::from_secs(600);
/// `--scale-down-delay-after-add`: no scale-down this long after a scale-up.
pub const DEFAULT_SCALE_DOWN_DELAY_AFTER_ADD: SimTime = SimTime::from_secs(600);
/// `--scale-down-utilization-threshold`, in thousandths: a node whose requested CPU and
/// memory are both below this share of its allocatable may be removed.
pub const DEFAULT_SCALE_DOWN_UTILIZATION_PERMILLE: u32 = 500;
/// `--max-node-provision-time`: a node that has not joined after this long never will.
pub const DEFAULT_MAX_NODE_PROVISION_TIME: SimTime = SimTime::from_secs(900);
/// `--max-empty-bulk-delete`: empty nodes removed at once.
pub const DEFAULT_MAX_EMPTY_BULK_DELETE: u32 = 10;
/// How long a new node takes to join when its group does not say (cluster-autoscaler has
/// no such flag: the cloud provider decides; a minute is typical of a VM booting and its
/// kubelet registering).
pub const DEFAULT_PROVISIONING_DELAY: SimTime = SimTime::from_secs(60);
/// How long a group whose node failed to join is skipped by scale-up
/// (`InitialNodeGroupBackoffDuration` in cluster-autoscaler's `clusterstate`).
pub const NODE_GROUP_BACKOFF: SimTime = SimTime::from_secs(300);

/// Which node group a scale-up grows when several could help (`--expander`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expander {
    /// The group whose new nodes would be left with the least idle CPU and memory
    /// (`least-waste`, the default); ties are broken at random.
    #[default]
    LeastWaste,
    /// The group whose new nodes cost least per pod they place (`price`).
    Price,
    /// The group whose new nodes would place the most pods (`most-pods`).
    MostPods,
    /// Any group that helps, at random (`random`).
    Random,
}

impl Expander {
    /// The flag value naming it.
    pub fn name(self) -> &'static str {
        match self {
            Expander::LeastWaste => "least-waste",
            Expander::Price => "price",
            Expander::MostPods => "most-pods",
            Expander::Random => "random",
        }
    }
}

/// The autoscaler's settings, each a cluster-autoscaler flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoscalerSettings {
    /// `scanInterval` (`--scan-interval`, 10s).
    pub scan_interval: SimTime,
    /// `scaleDownEnabled` (`--scale-down-enabled`, true).
    pub scale_down_enabled: bool,
    /// `scaleDownUnneededTime` (`--scale-down-unneeded-time`, 10m).
    pub scale_down_unneeded_time: SimTime,
    /// `scaleDownDelayAfterAdd` (`--scale-down-delay-after-add`, 10m).
    pub scale_down_delay_after_add: SimTime,
    /// `scaleDownUtilizationThreshold` (`--scale-down-utilization-threshold`, 0.5), in
    /// thousandths.
    pub scale_down_utilization_permille: u32,
    /// `maxNodeProvisionTime` (`--max-node-provision-time`, 15m).
    pub max_node_provision_time: SimTime,
    /// `maxEmptyBulkDelete` (`--max-empty-bulk-delete`, 10).
    pub max_empty_bulk_delete: u32,
    /// `expander` (`--expander`, least-waste).
    pub expander: Expander,
}

impl Default for AutoscalerSettings {
    fn default() -> AutoscalerSettings {
        AutoscalerSettings {
            scan_interval: DEFAULT_SCAN_INTERVAL,
            scale_down_enabled: true,
            scale_down_unneeded_time: DEFAULT_SCALE_DOWN_UNNEEDED_TIME,
            scale_down_delay_after_add: DEFAULT_SCALE_DOWN_DELAY_AFTER_ADD,
            scale_down_utilization_permille: DEFAULT_SCALE_DOWN_UTILIZATION_PERMILLE,
            max_node_provision_time: DEFAULT_MAX_NODE_PROVISION_TIME,
            max_empty_bulk_delete: DEFAULT_MAX_EMPTY_BULK_DELETE,
            expander: Expander::LeastWaste,
        }
    }
}

/// A node pool the autoscaler may grow and shrink (`cluster.nodePools[i].autoscaling`).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroup {
    /// The pool's name; its nodes are `<name>-<ordinal>`, new ones numbered on from the
    /// pool's `count`.
    pub name: String,
    /// What a new node is (its name left empty).
    pub template: NodeSpec,
    /// The fewest nodes the autoscaler leaves (`min`).
    pub min: u32,
    /// The most nodes the group may have, joined or on their way (`max`).
    pub max: u32,
    /// Nodes at time zero (the pool's `count`).
    pub initial: u32,
    /// What one node costs per hour (`pricePerHour`, default 0), for the `price` expander
    /// and the run's cost.
    pub price_per_hour: f64,
    /// From the scale-up decision to the node joining (`provisioningDelay`, default 60s).
    pub provisioning_delay: SimTime,
}

/// The cluster autoscaler of a scenario: its settings and the groups it manages.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterAutoscaler {
    /// The flags.
    pub settings: AutoscalerSettings,
    /// The autoscaled pools, in file order.
    pub groups: Vec<NodeGroup>,
}

impl ClusterAutoscaler {
    /// The group a node named `name` belongs to: `<group>-<ordinal>`.
    pub fn group_of(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| {
            name.strip_prefix(g.name.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    }
}
