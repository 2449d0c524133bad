//! `nodePressure:`: the kubelets' memory eviction settings (KubeletConfiguration's
//! `evictionHard`, `evictionPressureTransitionPeriod`, the eviction manager's monitoring
//! period) and the container restart backoff. Plain data; the behaviour is
//! [`crate::controllers::node_pressure`].

use crate::time::SimTime;

/// The kubelet's default hard threshold, `memory.available<100Mi`.
pub const DEFAULT_MEMORY_AVAILABLE: i64 = 100 << 20;
/// The kubelet's `evictionMonitoringPeriod` (pkg/kubelet/kubelet.go): how often the
/// eviction manager looks at the node.
pub const DEFAULT_HOUSEKEEPING_INTERVAL: SimTime = SimTime::from_secs(10);
/// KubeletConfiguration's `evictionPressureTransitionPeriod` default.
pub const DEFAULT_PRESSURE_TRANSITION_PERIOD: SimTime = SimTime::from_secs(300);
/// The kubelet's `backOffPeriod`: the first CrashLoopBackOff delay.
pub const DEFAULT_BACKOFF_INITIAL: SimTime = SimTime::from_secs(10);
/// The kubelet's `MaxContainerBackOff`: the longest CrashLoopBackOff delay.
pub const DEFAULT_BACKOFF_MAX: SimTime = SimTime::from_secs(300);

/// The hard `memory.available` threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryThreshold {
    /// A quantity of bytes (`100Mi`).
    Bytes(i64),
    /// A share of the node's allocatable memory, in thousandths (`10%` is 100).
    Permille(u32),
}

impl MemoryThreshold {
    /// The threshold in bytes on a node with `allocatable` bytes of memory.
    pub fn bytes(self, allocatable: i64) -> i64 {
        match self {
            MemoryThreshold::Bytes(b) => b,
            MemoryThreshold::Permille(p) => (i128::from(allocatable) * i128::from(p) / 1000) as i64,
        }
    }
}

/// Node-pressure eviction and OOM kills (`nodePressure:`).
#[derive(Debug, Clone, PartialEq)]
pub struct NodePressureSettings {
    /// `evictionHard: {memory.available: ...}` (default `100Mi`).
    pub memory_available: MemoryThreshold,
    /// `housekeepingInterval` (default 10 s): the eviction manager's period.
    pub housekeeping_interval: SimTime,
    /// `evictionPressureTransitionPeriod` (default 5 min): how long a node keeps its
    /// MemoryPressure condition after the signal last crossed the threshold.
    pub pressure_transition_period: SimTime,
    /// `oomKill` (default true): containers above their memory limit are killed.
    pub oom_kill: bool,
    /// `crashLoopBackOff.initial` (default 10 s).
    pub backoff_initial: SimTime,
    /// `crashLoopBackOff.max` (default 5 min); the backoff resets after twice this
    /// without a restart.
    pub backoff_max: SimTime,
}

impl Default for NodePressureSettings {
    fn default() -> Self {
        NodePressureSettings {
            memory_available: MemoryThreshold::Bytes(DEFAULT_MEMORY_AVAILABLE),
            housekeeping_interval: DEFAULT_HOUSEKEEPING_INTERVAL,
            pressure_transition_period: DEFAULT_PRESSURE_TRANSITION_PERIOD,
            oom_kill: true,
            backoff_initial: DEFAULT_BACKOFF_INITIAL,
            backoff_max: DEFAULT_BACKOFF_MAX,
        }
    }
}
