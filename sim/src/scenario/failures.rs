//! Node failures, drains and spot reclaims a scenario scripts or draws (`failures:`), and
//! the node lifecycle controller's settings that decide what follows a failure. Plain
//! data; `controllers::failures` and `controllers::taint_eviction` play it.

use schedulers::{LabelSelector, NodeSpec};

use crate::time::SimTime;

/// kube-controller-manager's `--node-monitor-grace-period` since Kubernetes v1.32
/// (kubernetes/kubernetes#126287 raised it from 40 s): how long a node may stay silent
/// before the node lifecycle controller marks it NotReady.
pub const DEFAULT_NODE_MONITOR_GRACE_PERIOD: SimTime = SimTime::from_secs(50);
/// The DefaultTolerationSeconds admission plugin's `--default-not-ready-toleration-seconds`
/// and `--default-unreachable-toleration-seconds`.
pub const DEFAULT_TOLERATION_SECONDS: u32 = 300;
/// How often a drain retries evictions a PodDisruptionBudget refused (`kubectl drain`
/// waits 5 s between attempts).
pub const DEFAULT_DRAIN_RETRY_INTERVAL: SimTime = SimTime::from_secs(5);

/// `failures:`: the failure events of a run and the settings that govern them.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureSettings {
    /// `nodeMonitorGracePeriod`: from a node's last heartbeat (its crash) to NotReady and
    /// the `node.kubernetes.io/unreachable:NoExecute` taint.
    pub node_monitor_grace_period: SimTime,
    /// `defaultTolerationSeconds`: the `tolerationSeconds` of the not-ready and
    /// unreachable tolerations that admission adds to pods that set none of their own.
    pub default_toleration_seconds: u32,
    /// `drainRetryInterval`: time between two attempts of a blocked drain.
    pub drain_retry_interval: SimTime,
    /// `events`: scripted failures, in file order.
    pub events: Vec<ScriptedFailure>,
    /// `random`: failure processes of node sets, in file order.
    pub random: Vec<RandomFailures>,
}

impl Default for FailureSettings {
    fn default() -> FailureSettings {
        FailureSettings {
            node_monitor_grace_period: DEFAULT_NODE_MONITOR_GRACE_PERIOD,
            default_toleration_seconds: DEFAULT_TOLERATION_SECONDS,
            drain_retry_interval: DEFAULT_DRAIN_RETRY_INTERVAL,
            events: Vec::new(),
            random: Vec::new(),
        }
    }
}

/// One scripted failure event.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptedFailure {
    /// `nodeCrash: NAME`: the node's kubelet stops at `at`; it comes back after
    /// `recover_after`, or never.
    NodeCrash {
        /// The node's name.
        node: String,
        /// When it crashes.
        at: SimTime,
        /// How long it stays down; `None`: for the rest of the run.
        recover_after: Option<SimTime>,
    },
    /// `zoneOutage: ZONE`: every node labelled `topology.kubernetes.io/zone: ZONE` at `at`
    /// crashes then, and all come back `duration` later.
    ZoneOutage {
        /// The zone.
        zone: String,
        /// When it starts.
        at: SimTime,
        /// How long it lasts.
        duration: SimTime,
    },
    /// `spotReclaim: {pool | nodeSelector}`: the provider reclaims `fraction` of the
    /// matching nodes (chosen by the seed): at `at` each gets its notice, is cordoned and
    /// drained; at `at + notice` it is terminated and leaves the cluster.
    SpotReclaim {
        /// Which nodes may be reclaimed.
        nodes: NodeSet,
        /// Share of them reclaimed, rounded to the nearest node, at least one.
        fraction: f64,
        /// When the notices arrive.
        at: SimTime,
        /// The notice period.
        notice: SimTime,
    },
    /// `drain: NAME`: `kubectl drain` at `at`: the node is cordoned and its pods evicted
    /// through the Eviction API, which PodDisruptionBudgets may refuse (retried).
    Drain {
        /// The node's name.
        node: String,
        /// When the drain starts.
        at: SimTime,
    },
}

/// A set of nodes, matched against the cluster when the event happens.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeSet {
    /// `pool: NAME`: the nodes of a node pool (`NAME-<i>`).
    Pool(String),
    /// `nodeSelector: {matchLabels, matchExpressions}`: nodes whose labels match.
    Selector(LabelSelector),
}

impl NodeSet {
    /// True when the node belongs to the set.
    pub fn contains(&self, node: &NodeSpec) -> bool {
        match self {
            NodeSet::Pool(pool) => node
                .name
                .strip_prefix(pool.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit())),
            NodeSet::Selector(s) => s.matches(&node.labels),
        }
    }
}

/// `random:` entry: every node of `nodes` fails and is repaired over and over, its
/// times to failure drawn from `time_to_failure` (the MTBF distribution) and its repair
/// times from `time_to_repair` (MTTR), each node from its own random stream.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFailures {
    /// The nodes (those present at the start and those that join later).
    pub nodes: NodeSet,
    /// `timeToFailure`: from a node's start or repair to its next crash.
    pub time_to_failure: Lifetime,
    /// `timeToRepair`: from a crash until the node is back.
    pub time_to_repair: Lifetime,
}

/// A distribution of lifetimes (time to failure, time to repair).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lifetime {
    /// Always this long.
    Constant(SimTime),
    /// Exponential with this mean (memoryless failures).
    Exponential {
        /// The mean (MTBF or MTTR).
        mean: SimTime,
    },
    /// Weibull with this shape `k` and scale `lambda` (k < 1: infant mortality; k > 1:
    /// wear-out).
    Weibull {
        /// The shape `k`.
        shape: f64,
        /// The scale `lambda`.
        scale: SimTime,
    },
}
