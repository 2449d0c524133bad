//! Pods as the scheduler sees them: a shared template (what a workload stamps out) and a
//! small per-pod record (its own requests, phase and node).

use crate::kubernetes_enum;
use std::fmt;
use std::sync::Arc;

use crate::NodeId;
use crate::labels::{Labels, NodeAffinity};
use crate::namespaces::NamespaceId;
use crate::pod_affinity::{PodAffinity, TopologySpreadConstraint};
use crate::resources::{ResourceKind, Resources};
use crate::taints::Toleration;

slotmap::new_key_type! {
    /// A pod's identity: a slot in the cluster's pod arena plus a generation, so an id kept
    /// by an event never names a later pod that reused the slot.
    pub struct PodId;
}

/// CPU a container counts for when scoring if it sets no CPU request (kube-scheduler's
/// `DefaultMilliCPURequest`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory a container counts for when scoring if it sets no memory request
/// (kube-scheduler's `DefaultMemoryRequest`, 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// One container's requests and limits, remembering which were set at all, because
/// Kubernetes treats "not set" and "set to zero" differently (QoS, scoring defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ContainerResources {
    /// The container's name.
    pub name: String,
    /// Requested amounts (zero where unset).
    pub requests: Resources,
    /// Limit amounts (zero where unset).
    pub limits: Resources,
    /// Bit `k` set when resource kind `k` has an explicit request.
    pub requests_set: u8,
    /// Bit `k` set when resource kind `k` has an explicit limit.
    pub limits_set: u8,
    /// The container's ports that bind a port on the node (`ports[]` entries with a
    /// non-zero `hostPort`); ports without a host port do not concern the scheduler.
    pub host_ports: Vec<HostPort>,
    /// An init container with `restartPolicy: Always`: a sidecar, which keeps running
    /// beside the app containers, so its request adds up instead of being maxed.
    pub restartable: bool,
}

kubernetes_enum! {
    /// A container port's protocol (`ports[].protocol`).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum Protocol {
        /// `TCP`, the Kubernetes default.
        #[default]
        Tcp => "TCP",
        /// `UDP`.
        Udp => "UDP",
        /// `SCTP`.
        Sctp => "SCTP",
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A port a container binds on its node: `hostPort`, `protocol` and `hostIP` of a
/// container port whose `hostPort` is set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostPort {
    /// `hostPort`; 0 means none, and such a port is never a conflict.
    pub port: u16,
    /// `protocol`.
    pub protocol: Protocol,
    /// `hostIP`; [`HostPort::ANY_IP`] binds every address of the node.
    pub host_ip: String,
}

impl HostPort {
    /// The wildcard host IP, and the default when `hostIP` is unset.
    pub const ANY_IP: &'static str = "0.0.0.0";

    /// A port on every address of the node.
    pub fn new(port: u16, protocol: Protocol) -> HostPort {
        HostPort {
            port,
            protocol,
            host_ip: Self::ANY_IP.to_owned(),
        }
    }

    /// The same port bound on `host_ip` only.
    pub fn on_ip(mut self, host_ip: impl Into<String>) -> HostPort {
        self.host_ip = host_ip.into();
        self
    }

    /// The host IP with upstream's defaulting: empty counts as [`HostPort::ANY_IP`].
    fn ip(&self) -> &str {
        if self.host_ip.is_empty() {
            Self::ANY_IP
        } else {
            &self.host_ip
        }
    }

    /// Whether two host ports cannot both be bound on one node (kube-scheduler's
    /// `HostPortInfo.CheckConflict`): same protocol and port, and the same host IP or
    /// either of them the wildcard `0.0.0.0`. A zero port conflicts with nothing.
    pub fn conflicts_with(&self, other: &HostPort) -> bool {
        if self.port == 0 || other.port == 0 {
            return false;
        }
        if self.port != other.port || self.protocol != other.protocol {
            return false;
        }
        let (a, b) = (self.ip(), other.ip());
        a == b || a == Self::ANY_IP || b == Self::ANY_IP
    }
}

impl Default for HostPort {
    fn default() -> HostPort {
        HostPort::new(0, Protocol::Tcp)
    }
}

impl ContainerResources {
    /// True when the container sets a request for this kind.
    pub fn has_request(&self, kind: ResourceKind) -> bool {
        self.requests_set & (1 << kind.0) != 0
    }

    /// True when the container sets a limit for this kind.
    pub fn has_limit(&self, kind: ResourceKind) -> bool {
        self.limits_set & (1 << kind.0) != 0
    }

    /// Sets a request, marking it as explicit.
    pub fn set_request(&mut self, kind: ResourceKind, amount: i64) {
        self.requests.set(kind, amount);
        self.requests_set |= 1 << kind.0;
    }

    /// Sets a limit, marking it as explicit.
    pub fn set_limit(&mut self, kind: ResourceKind, amount: i64) {
        self.limits.set(kind, amount);
        self.limits_set |= 1 << kind.0;
    }

    /// The request the scheduler charges: an unset request falls back to the limit, as the
    /// API server defaults it.
    fn effective_request(&self, kind: ResourceKind) -> i64 {
        if self.has_request(kind) {
            self.requests.get(kind)
        } else if self.has_limit(kind) {
            self.limits.get(kind)
        } else {
            0
        }
    }

    fn effective_requests(&self) -> Resources {
        let mut r = Resources::ZERO;
        for k in 0..crate::resources::NUM_RESOURCES {
            let kind = ResourceKind(k as u8);
            r.set(kind, self.effective_request(kind));
        }
        r
    }

    /// CPU and memory as kube-scheduler counts them when scoring: unset requests count as
    /// 100m and 200 MiB, an explicit zero stays zero.
    fn nonzero_cpu_mem(&self) -> (i64, i64) {
        let cpu = if self.has_request(ResourceKind::CPU) || self.has_limit(ResourceKind::CPU) {
            self.effective_request(ResourceKind::CPU)
        } else {
            DEFAULT_MILLI_CPU_REQUEST
        };
        let mem = if self.has_request(ResourceKind::MEMORY) || self.has_limit(ResourceKind::MEMORY)
        {
            self.effective_request(ResourceKind::MEMORY)
        } else {
            DEFAULT_MEMORY_REQUEST
        };
        (cpu, mem)
    }
}

/// A pod's Quality of Service class, derived from its containers as Kubernetes does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QosClass {
    /// Every container has equal CPU and memory requests and limits.
    Guaranteed,
    /// Some container requests or limits CPU or memory, but not Guaranteed.
    Burstable,
    /// No container requests or limits CPU or memory.
    BestEffort,
}

/// What kind of controller owns a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OwnerKind {
    /// A bare pod.
    #[default]
    None,
    /// A ReplicaSet (from a Deployment).
    ReplicaSet,
    /// A Job (batch work).
    Job,
    /// A StatefulSet.
    StatefulSet,
    /// A DaemonSet.
    DaemonSet,
}

/// What every pod stamped from one workload shares: identity, placement constraints,
/// containers. Shared behind an `Arc`, so a hundred thousand pods of one batch workload
/// cost one template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodTemplate {
    /// The workload's name; pods are named `<name>-<ordinal>` (or `<name>` for a lone bare pod).
    pub name: String,
    /// The namespace.
    pub namespace: String,
    /// Pod labels.
    pub labels: Labels,
    /// Pod annotations (`metadata.annotations`); only the cluster autoscaler reads one,
    /// `cluster-autoscaler.kubernetes.io/safe-to-evict`.
    pub annotations: Labels,
    /// App containers.
    pub containers: Vec<ContainerResources>,
    /// Init containers, which run one at a time before the app containers.
    pub init_containers: Vec<ContainerResources>,
    /// `spec.overhead`, added to the effective request (RuntimeClass overhead).
    pub overhead: Resources,
    /// Scheduling priority (from the PriorityClass); higher goes first.
    pub priority: i32,
    /// Taints this pod tolerates.
    pub tolerations: Vec<Toleration>,
    /// `spec.nodeSelector`.
    pub node_selector: Labels,
    /// `spec.affinity.nodeAffinity`.
    pub node_affinity: Option<NodeAffinity>,
    /// `spec.nodeName`: bypasses the scheduler's choice of node.
    pub node_name: Option<String>,
    /// The owning controller's kind.
    pub owner: OwnerKind,
    /// True when the pod is a lone bare pod named exactly `name`.
    pub singleton: bool,
    /// Whether the pod may preempt lower-priority pods (from its PriorityClass).
    pub preemption_policy: PreemptionPolicy,
    /// The PriorityClass its priority came from, as an index into the host's table of
    /// classes (the simulator's `Scenario::priority_classes`), so that the class name can
    /// be written back; `None` when the pod names none. Opaque to schedulers, which read
    /// `priority` and `preemption_policy`.
    pub priority_class: Option<u32>,
    /// `spec.affinity.podAffinity`.
    pub pod_affinity: Option<PodAffinity>,
    /// `spec.affinity.podAntiAffinity`.
    pub pod_anti_affinity: Option<PodAffinity>,
    /// `spec.topologySpreadConstraints`.
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    /// The PersistentVolumeClaims the pod mounts (`volumes[].persistentVolumeClaim
    /// .claimName`), by name in the pod's namespace.
    pub volume_claims: Vec<String>,
    /// `terminationGracePeriodSeconds`: how long an evicted pod keeps its node while it
    /// shuts down (the scenario loader defaults it to Kubernetes' 30; 0 leaves at once).
    pub termination_grace_period_seconds: u32,
    /// The pod group (gang) the pods belong to, as an index into
    /// [`crate::ClusterState::pod_groups`] (the `scheduling.x-k8s.io/pod-group` label).
    pub pod_group: Option<u32>,
    /// Whole GPUs or a share of one GPU (see [`crate::gpu`]); none by default.
    pub gpu: crate::gpu::GpuRequest,
    /// The images of its init containers then its app containers, normalized
    /// ([`crate::images::normalized_image_name`]); empty when the scenario names none.
    pub images: Vec<String>,
}

kubernetes_enum! {
    /// A PriorityClass's `preemptionPolicy`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub enum PreemptionPolicy {
        /// The pod may evict lower-priority pods to make room (the Kubernetes default).
        #[default]
        PreemptLowerPriority => "PreemptLowerPriority",
        /// The pod waits instead of preempting.
        Never => "Never",
    }
}

impl PodTemplate {
    /// True when the template constrains nodes beyond resources (selector, affinity,
    /// tolerations, node name); the fast paths of simple schedulers skip these checks
    /// when it is false.
    pub fn has_node_constraints(&self) -> bool {
        !self.node_selector.is_empty()
            || self
                .node_affinity
                .as_ref()
                .is_some_and(|a| a.required.is_some())
            || !self.tolerations.is_empty()
            || self.node_name.is_some()
    }

    /// The host ports the pod binds on its node, as kube-scheduler's NodePorts counts
    /// them (`GetHostPorts`): those of the sidecar (restartable) init containers, which
    /// run for the pod's whole life, then of the app containers, with a non-zero port.
    /// Ordinary init containers have finished before the app starts, so theirs do not count.
    pub fn host_ports(&self) -> impl Iterator<Item = &HostPort> {
        self.init_containers
            .iter()
            .filter(|c| c.restartable)
            .chain(self.containers.iter())
            .flat_map(|c| c.host_ports.iter())
            .filter(|p| p.port != 0)
    }

    /// True when the pod binds any host port (see [`PodTemplate::host_ports`]).
    pub fn has_host_ports(&self) -> bool {
        self.host_ports().next().is_some()
    }

    /// The pod's effective request, as the scheduler charges it, by upstream's
    /// `PodRequests` (k8s.io/component-helpers/resource): the app containers' sum plus
    /// every sidecar (restartable init container), or, if larger per resource, what some
    /// init container needs while it runs (itself plus the sidecars started before it);
    /// plus overhead, plus one pod slot.
    pub fn effective_requests(&self) -> Resources {
        let mut r = self.aggregate(ContainerResources::effective_requests);
        r += self.overhead;
        r.set(ResourceKind::PODS, 1);
        r
    }

    /// Upstream's `aggregateContainerResourcesByFn` over the containers' `amount`s: the
    /// sidecar KEP's formula, per resource kind.
    fn aggregate(&self, amount: impl Fn(&ContainerResources) -> Resources) -> Resources {
        let mut total = Resources::ZERO;
        for c in &self.containers {
            total += amount(c);
        }
        // What the sidecars started so far hold, and the most any init step needs.
        let mut sidecars = Resources::ZERO;
        let mut init_peak = Resources::ZERO;
        for c in &self.init_containers {
            let own = amount(c);
            let during = if c.restartable {
                total += own;
                sidecars += own;
                sidecars
            } else {
                own + sidecars
            };
            init_peak = init_peak.max(&during);
        }
        total.max(&init_peak)
    }

    /// CPU and memory as counted for scoring, with the 100m / 200 MiB defaults for unset
    /// requests, aggregated as [`PodTemplate::effective_requests`] does (upstream's
    /// `PodRequests` with `NonMissingContainerRequests`).
    pub fn nonzero_cpu_mem(&self) -> (i64, i64) {
        let r = self.aggregate(|c| {
            let (cpu, mem) = c.nonzero_cpu_mem();
            Resources::cpu_mem(cpu, mem)
        });
        (
            r.cpu() + self.overhead.cpu(),
            r.memory() + self.overhead.memory(),
        )
    }

    /// The QoS class, by Kubernetes' rules (only CPU and memory count).
    pub fn qos_class(&self) -> QosClass {
        let all = || self.containers.iter().chain(self.init_containers.iter());
        let kinds = [ResourceKind::CPU, ResourceKind::MEMORY];
        let any_set = all().any(|c| kinds.iter().any(|&k| c.has_request(k) || c.has_limit(k)));
        if !any_set {
            return QosClass::BestEffort;
        }
        let guaranteed = all().all(|c| {
            kinds.iter().all(|&k| {
                c.has_limit(k) && (!c.has_request(k) || c.requests.get(k) == c.limits.get(k))
            })
        });
        if guaranteed {
            QosClass::Guaranteed
        } else {
            QosClass::Burstable
        }
    }
}

/// Where a pod is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    /// Waiting for a node.
    Pending,
    /// Holding a node's resources but not bound: a pod group member waiting at Permit
    /// for its group to reach `minMember` (coscheduling). The API server still sees it
    /// pending; nothing starts it.
    Waiting,
    /// Bound to a node, containers starting.
    Bound,
    /// Running on its node.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error, evicted or preempted.
    Failed,
}

/// One pod: its template, its own requests (batch pods draw their sizes), and where it is.
#[derive(Debug, Clone)]
pub struct Pod {
    /// What it shares with its siblings.
    pub template: Arc<PodTemplate>,
    /// Ordinal within its workload, for its name.
    pub ordinal: u32,
    /// The effective request charged to its node (one pod slot included).
    pub requests: Resources,
    /// CPU millicores counted for scoring (unset requests count as 100m).
    pub nonzero_cpu: i64,
    /// Memory bytes counted for scoring (unset requests count as 200 MiB).
    pub nonzero_memory: i64,
    /// The phase.
    pub phase: PodPhase,
    /// The node it is bound to, if any.
    pub node: Option<NodeId>,
    /// The node a preemption nominated for it, if any.
    pub nominated_node: Option<NodeId>,
    /// The order in which pods started running: earlier starts have smaller stamps.
    /// Opaque to schedulers (they know nothing of time) but ordered, for preemption.
    pub start_stamp: u64,
    /// When the pod was created, in microseconds of the host's clock (the simulator sets
    /// its simulated time; 0 when the host does not say). Schedulers use differences only,
    /// as a wait time (the `flow` scheduler's unscheduled cost grows with it).
    pub created_stamp: u64,
    /// Being deleted (Kubernetes' deletionTimestamp): still on its node, holding its
    /// resources, until its termination grace period ends.
    pub terminating: bool,
    /// The host's controller object that created it (its ownerReference; the simulator
    /// puts the workload's index here, `u32::MAX` for none). Opaque to schedulers.
    pub owner: u32,
    /// How long its work takes once started, in microseconds of the host's clock, when
    /// the host knows (the simulator draws it from the workload; `u64::MAX`: until it is
    /// stopped). What a real pod does is not known in advance, so schedulers must not
    /// use it.
    pub run_micros: u64,
    /// How many of its runs end with a container error before one succeeds (the
    /// simulator draws it for a Job's pods; 0 for other pods). Like `run_micros`, not
    /// known in advance for a real pod, so schedulers must not use it.
    pub failing_runs: u32,
    /// Times its containers were restarted in place (`status.containerStatuses[].
    /// restartCount`, restartPolicy OnFailure).
    pub restarts: u32,
    /// Its position in its node's pod list, for O(1) removal.
    pub(crate) slot_on_node: u32,
    /// Its namespace's id in [`crate::ClusterState::namespaces`], set when it is added.
    pub(crate) namespace_id: NamespaceId,
    /// The GPUs it holds on its node, as a bit mask over the node's GPUs (0 when unbound
    /// or when it asks for no GPU).
    pub(crate) gpus: u64,
}

impl Pod {
    /// A pending pod whose requests come from its template.
    pub fn from_template(template: Arc<PodTemplate>, ordinal: u32) -> Pod {
        let requests = template.effective_requests();
        let (nonzero_cpu, nonzero_memory) = template.nonzero_cpu_mem();
        Pod::with_requests(template, ordinal, requests, nonzero_cpu, nonzero_memory)
    }

    /// A pending pod with its own requests (a batch pod whose size was drawn).
    pub fn with_requests(
        template: Arc<PodTemplate>,
        ordinal: u32,
        requests: Resources,
        nonzero_cpu: i64,
        nonzero_memory: i64,
    ) -> Pod {
        Pod {
            template,
            ordinal,
            requests,
            nonzero_cpu,
            nonzero_memory,
            phase: PodPhase::Pending,
            node: None,
            nominated_node: None,
            start_stamp: 0,
            created_stamp: 0,
            terminating: false,
            owner: u32::MAX,
            run_micros: u64::MAX,
            failing_runs: 0,
            restarts: 0,
            slot_on_node: u32::MAX,
            namespace_id: NamespaceId(u32::MAX),
            gpus: 0,
        }
    }

    /// The pod's name, `<workload>-<ordinal>`.
    pub fn name(&self) -> PodName<'_> {
        PodName(self)
    }

    /// Scheduling priority.
    pub fn priority(&self) -> i32 {
        self.template.priority
    }

    /// Its namespace's id in [`crate::ClusterState::namespaces`] (meaningless before the
    /// pod is added to a cluster).
    #[inline]
    pub fn namespace_id(&self) -> NamespaceId {
        self.namespace_id
    }

    /// The GPUs it holds on its node, as a bit mask over the node's GPUs (bit `i`: GPU `i`).
    pub fn gpus(&self) -> u64 {
        self.gpus
    }
}

/// Displays a pod's name without allocating.
pub struct PodName<'a>(&'a Pod);

impl fmt::Display for PodName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.0.template;
        if t.singleton {
            f.write_str(&t.name)
        } else {
            write!(f, "{}-{}", t.name, self.0.ordinal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(req: &[(ResourceKind, i64)], lim: &[(ResourceKind, i64)]) -> ContainerResources {
        let mut c = ContainerResources::default();
        for &(k, v) in req {
            c.set_request(k, v);
        }
        for &(k, v) in lim {
            c.set_limit(k, v);
        }
        c
    }

    const CPU: ResourceKind = ResourceKind::CPU;
    const MEM: ResourceKind = ResourceKind::MEMORY;

    #[test]
    fn qos_classes() {
        let t = |cs: Vec<ContainerResources>| PodTemplate {
            containers: cs,
            ..Default::default()
        };
        assert_eq!(
            t(vec![container(&[], &[])]).qos_class(),
            QosClass::BestEffort
        );
        assert_eq!(
            t(vec![container(&[(CPU, 100)], &[])]).qos_class(),
            QosClass::Burstable
        );
        assert_eq!(
            t(vec![container(&[], &[(CPU, 100), (MEM, 10)])]).qos_class(),
            QosClass::Guaranteed,
            "requests default to limits"
        );
        assert_eq!(
            t(vec![container(&[(CPU, 50)], &[(CPU, 100), (MEM, 10)])]).qos_class(),
            QosClass::Burstable
        );
        assert_eq!(
            t(vec![
                container(&[(CPU, 100), (MEM, 10)], &[(CPU, 100), (MEM, 10)]),
                container(&[], &[])
            ])
            .qos_class(),
            QosClass::Burstable,
            "one BestEffort container spoils Guaranteed"
        );
    }

    #[test]
    fn effective_requests_take_init_max_and_overhead() {
        let t = PodTemplate {
            containers: vec![
                container(&[(CPU, 100), (MEM, 100)], &[]),
                container(&[(CPU, 200)], &[]),
            ],
            init_containers: vec![container(&[(CPU, 500), (MEM, 50)], &[])],
            overhead: Resources::cpu_mem(10, 1),
            ..Default::default()
        };
        let r = t.effective_requests();
        assert_eq!((r.cpu(), r.memory(), r.pods()), (510, 101, 1));
    }

    /// Rows of upstream's `TestPodResourceRequests` (k8s.io/component-helpers/resource,
    /// helpers_test.go) with sidecars: (upstream description, init containers as
    /// (CPU cores, restartable), app containers' CPU cores, expected CPU cores).
    #[test]
    fn sidecar_init_containers_add_up_as_pod_requests_says() {
        type Row = (&'static str, &'static [(i64, bool)], &'static [i64], i64);
        let rows: &[Row] = &[
            ("restartable init container", &[(1, true)], &[1], 2),
            (
                "multiple restartable init containers",
                &[(5, false), (1, true), (2, true), (3, true)],
                &[1],
                7,
            ),
            (
                "multiple restartable and regular init containers",
                &[(5, false), (1, true), (2, true), (5, false), (3, true)],
                &[1],
                8,
            ),
            (
                "restartable-init, init and regular",
                &[(10, true), (200, false)],
                &[100],
                210,
            ),
        ];
        for &(name, init, app, want) in rows {
            let t = PodTemplate {
                init_containers: init
                    .iter()
                    .map(|&(cpu, restartable)| ContainerResources {
                        restartable,
                        ..container(&[(CPU, cpu * 1000)], &[])
                    })
                    .collect(),
                containers: app
                    .iter()
                    .map(|&cpu| container(&[(CPU, cpu * 1000)], &[]))
                    .collect(),
                ..Default::default()
            };
            assert_eq!(t.effective_requests().cpu(), want * 1000, "{name}");
            assert_eq!(t.nonzero_cpu_mem().0, want * 1000, "{name} (scoring)");
        }
    }

    #[test]
    fn sidecars_count_unset_requests_as_the_scoring_defaults_and_bind_host_ports() {
        // A sidecar with no requests counts 100m / 200 MiB beside the app container,
        // as upstream's NonMissingContainerRequests applies per container.
        let mut sidecar = container(&[], &[]);
        sidecar.restartable = true;
        sidecar.host_ports = vec![HostPort::new(9100, Protocol::Tcp)];
        let mut plain_init = container(&[], &[]);
        plain_init.host_ports = vec![HostPort::new(9200, Protocol::Tcp)];
        let t = PodTemplate {
            init_containers: vec![plain_init, sidecar],
            containers: vec![container(&[(CPU, 300)], &[])],
            ..Default::default()
        };
        assert_eq!(t.nonzero_cpu_mem(), (400, 2 * (200 << 20)));
        assert_eq!(t.effective_requests().cpu(), 300);
        let ports: Vec<u16> = t.host_ports().map(|p| p.port).collect();
        assert_eq!(
            ports,
            [9100],
            "only the sidecar's port is held for the pod's life"
        );
    }

    #[test]
    fn nonzero_defaults_apply_only_to_unset_requests() {
        let unset = PodTemplate {
            containers: vec![container(&[], &[])],
            ..Default::default()
        };
        assert_eq!(unset.nonzero_cpu_mem(), (100, 200 << 20));
        let zero = PodTemplate {
            containers: vec![container(&[(CPU, 0), (MEM, 0)], &[])],
            ..Default::default()
        };
        assert_eq!(zero.nonzero_cpu_mem(), (0, 0));
        let limit_only = PodTemplate {
            containers: vec![container(&[], &[(CPU, 300)])],
            ..Default::default()
        };
        assert_eq!(limit_only.nonzero_cpu_mem(), (300, 200 << 20));
    }
}
