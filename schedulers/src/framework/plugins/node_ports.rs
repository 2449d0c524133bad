//! NodePorts: a pod that binds host ports goes only where no bound pod already holds a
//! conflicting one (kube-scheduler's `nodeports` plugin).
//!
//! Semantics, after kube-scheduler v1.35:
//! - PreFilter collects the pod's host ports: the `ports[]` entries of its app containers
//!   with a non-zero `hostPort`. A pod without any gets Skip, so its Filter never runs
//!   and plain pods pay nothing.
//! - Filter rejects a node where a bound pod holds a port that conflicts with one of the
//!   pod's ([`HostPort::conflicts_with`], upstream's `HostPortInfo.CheckConflict`): the
//!   same protocol and port number, on the same host IP or with either side on the
//!   wildcard `0.0.0.0`. The status is Unschedulable, so upstream's preemption may
//!   consider the node.
//!
//! Not modelled: restartable (sidecar) init containers, whose ports upstream counts as
//! the pod's; schedlab's init containers are never sidecars, so their ports are ignored,
//! as upstream ignores a plain init container's. Nominated pods are not added before
//! filtering, since schedlab's framework does not run filters with nominated pods.
//! schedlab's preemption only looks at nodes that NodeResourcesFit alone rejects, so it
//! never evicts a pod to free a host port.

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Plugin, Status};
use crate::node::NodeId;
use crate::pod::{HostPort, Pod};
use crate::reason::Reason;

/// The NodePorts plugin. It keeps the current pod's host ports between PreFilter and
/// Filter (upstream's `preFilterState`).
#[derive(Debug, Default, Clone)]
pub struct NodePorts {
    wanted: Vec<HostPort>,
}

impl NodePorts {
    /// Its name.
    pub const NAME: &'static str = "NodePorts";
    /// Where it runs: PreFilter and Filter.
    pub const POINTS: Points = Points {
        pre_filter: true,
        filter: true,
        pre_score: false,
        score: false,
    };
    /// Upstream's reason (`ErrReason`).
    pub const REASON: &'static str = "node(s) didn't have free ports for the requested pod ports";

    /// Whether the wanted ports fit on the node: no bound pod holds a conflicting port.
    fn fits(&self, cluster: &ClusterState, node: NodeId) -> bool {
        cluster
            .node(node)
            .pods
            .iter()
            .filter_map(|&id| cluster.pod(id))
            .flat_map(|p| p.template.host_ports())
            .all(|used| !self.wanted.iter().any(|w| w.conflicts_with(used)))
    }
}

impl Plugin for NodePorts {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, _cluster: &ClusterState) -> Status {
        self.wanted.clear();
        self.wanted.extend(pod.template.host_ports().cloned());
        if self.wanted.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn filter(&self, _pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        if self.wanted.is_empty() || self.fits(cluster, node) {
            Status::success()
        } else {
            Status::unschedulable(Reason::NodePorts)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rand::SeedableRng;

    use super::*;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node};
    use crate::framework::{Code, FrameworkScheduler, Profile};
    use crate::pod::{ContainerResources, PodTemplate, Protocol};
    use crate::scheduler::{Placement, SchedulerRng};

    /// A host port written as upstream's tests write them: `"TCP/127.0.0.1/8080"`.
    fn port(spec: &str) -> HostPort {
        let mut parts = spec.split('/');
        let protocol = Protocol::parse(parts.next().unwrap()).unwrap();
        let ip = parts.next().unwrap();
        let number = parts.next().unwrap().parse().unwrap();
        HostPort::new(number, protocol).on_ip(ip)
    }

    /// A pod template with one app container binding these ports (upstream's `newPod`).
    fn with_ports(name: &str, ports: &[&str]) -> PodTemplate {
        PodTemplate {
            name: name.into(),
            containers: vec![ContainerResources {
                name: "c".into(),
                host_ports: ports.iter().map(|p| port(p)).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    /// A one-node cluster running a pod that holds `existing`, plus the pending `pod`;
    /// returns PreFilter's status and, unless it skipped, Filter's on the node.
    fn run(pod: PodTemplate, existing: &[&str]) -> (Status, Option<Status>) {
        let mut c = cluster(vec![node("n", &[], vec![])]);
        if !existing.is_empty() {
            let holder = add_pod(&mut c, with_ports("p1", existing));
            c.bind(holder, NodeId(0)).unwrap();
        }
        let id = add_pod(&mut c, pod);
        let pod = c.pod(id).unwrap();
        let mut plugin = NodePorts::default();
        let pre = plugin.pre_filter(pod, &c);
        if pre.code == Code::Skip {
            return (pre, None);
        }
        let filter = plugin.filter(pod, &c, NodeId(0));
        (pre, Some(filter))
    }

    /// Mirrors TestNodePorts (node_ports_test.go), case for case.
    #[test]
    fn node_ports_follows_upstream() {
        // (upstream case name, pod's ports, the existing pod's ports, fits)
        let cases: &[(&str, &[&str], &[&str], bool)] = &[
            (
                "other port",
                &["UDP/127.0.0.1/8080"],
                &["UDP/127.0.0.1/9090"],
                true,
            ),
            (
                "same udp port",
                &["UDP/127.0.0.1/8080"],
                &["UDP/127.0.0.1/8080"],
                false,
            ),
            (
                "same tcp port",
                &["TCP/127.0.0.1/8080"],
                &["TCP/127.0.0.1/8080"],
                false,
            ),
            (
                "different host ip",
                &["TCP/127.0.0.1/8080"],
                &["TCP/127.0.0.2/8080"],
                true,
            ),
            (
                "different protocol",
                &["UDP/127.0.0.1/8080"],
                &["TCP/127.0.0.1/8080"],
                true,
            ),
            (
                "second udp port conflict",
                &["UDP/127.0.0.1/8000", "UDP/127.0.0.1/8080"],
                &["UDP/127.0.0.1/8080"],
                false,
            ),
            (
                "first tcp port conflict",
                &["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8080"],
                &["TCP/127.0.0.1/8001", "UDP/127.0.0.1/8081"],
                false,
            ),
            (
                "first tcp port conflict due to 0.0.0.0 hostIP",
                &["TCP/0.0.0.0/8001"],
                &["TCP/127.0.0.1/8001"],
                false,
            ),
            (
                "TCP hostPort conflict due to 0.0.0.0 hostIP",
                &["TCP/10.0.10.10/8001", "TCP/0.0.0.0/8001"],
                &["TCP/127.0.0.1/8001"],
                false,
            ),
            (
                "second tcp port conflict to 0.0.0.0 hostIP",
                &["TCP/127.0.0.1/8001"],
                &["TCP/0.0.0.0/8001"],
                false,
            ),
            (
                "second different protocol",
                &["UDP/127.0.0.1/8001"],
                &["TCP/0.0.0.0/8001"],
                true,
            ),
            (
                "UDP hostPort conflict due to 0.0.0.0 hostIP",
                &["UDP/127.0.0.1/8001"],
                &["TCP/0.0.0.0/8001", "UDP/0.0.0.0/8001"],
                false,
            ),
        ];
        for &(name, wanted, existing, fits) in cases {
            let (pre, filter) = run(with_ports("pod", wanted), existing);
            assert_eq!(pre, Status::success(), "{name}: PreFilter");
            let want = if fits {
                Status::success()
            } else {
                Status::unschedulable(NodePorts::REASON)
            };
            assert_eq!(filter, Some(want), "{name}: Filter");
        }
    }

    /// Upstream's "skip filter": a pod without ports skips Filter.
    #[test]
    fn skip_filter() {
        let (pre, filter) = run(PodTemplate::default(), &["TCP/0.0.0.0/8001"]);
        assert_eq!(pre, Status::skip());
        assert_eq!(filter, None);
        // Container ports without a host port (hostPort 0) are not host ports either.
        let (pre, _) = run(with_ports("pod", &["TCP/0.0.0.0/0"]), &["TCP/0.0.0.0/8001"]);
        assert_eq!(pre, Status::skip());
    }

    /// Upstream's "non-sidecar initContainer using hostPort": an init container's ports
    /// are not the pod's, so PreFilter skips.
    #[test]
    fn non_sidecar_init_container_using_host_port() {
        let pod = PodTemplate {
            init_containers: with_ports("pod", &["TCP/0.0.0.0/8001"]).containers,
            ..Default::default()
        };
        let (pre, filter) = run(pod, &["TCP/0.0.0.0/8001"]);
        assert_eq!(pre, Status::skip());
        assert_eq!(filter, None);
    }

    /// Mirrors TestFits (node_ports_test.go).
    #[test]
    fn fits_follows_upstream() {
        let cases: &[(&str, &[&str], &[&str], bool)] = &[
            (
                "non-conflicting ports",
                &["TCP/127.0.0.1/80"],
                &["TCP/127.0.0.1/9090"],
                true,
            ),
            (
                "multiple non-conflicting ports",
                &[
                    "TCP/127.0.0.1/80",
                    "TCP/127.0.1.1/80",
                    "TCP/127.0.1.1/90",
                    "TCP/127.0.1.1/100",
                ],
                &[
                    "TCP/127.0.0.1/9090",
                    "TCP/127.0.0.1/9191",
                    "TCP/127.0.1.1/8080",
                ],
                true,
            ),
            (
                "same ports on different protocols",
                &["TCP/127.0.0.1/80"],
                &["UDP/127.0.0.1/80"],
                true,
            ),
            (
                "conflicting ports",
                &["TCP/127.0.0.1/80"],
                &["TCP/127.0.0.1/80"],
                false,
            ),
            (
                "multiple ports, some conflicting",
                &[
                    "TCP/127.0.0.1/80",
                    "TCP/127.0.1.1/80",
                    "TCP/127.0.1.1/90",
                    "TCP/127.0.1.1/100",
                ],
                &[
                    "TCP/127.0.0.1/9090",
                    "TCP/127.0.1.1/90",
                    "TCP/127.0.1.1/8080",
                ],
                false,
            ),
        ];
        for &(name, wanted, existing, fits) in cases {
            let (_, filter) = run(with_ports("pod", wanted), existing);
            assert_eq!(filter.map(|s| s.is_success()), Some(fits), "{name}");
        }
    }

    /// The conflict rule is symmetric, a zero port conflicts with nothing and an empty
    /// host IP counts as the wildcard (upstream's sanitizing in `HostPortInfo`).
    #[test]
    fn conflict_rule() {
        let pairs = [
            ("TCP/0.0.0.0/80", "TCP/10.0.0.1/80", true),
            ("SCTP/10.0.0.1/80", "SCTP/10.0.0.1/80", true),
            ("SCTP/10.0.0.1/80", "TCP/10.0.0.1/80", false),
            ("TCP/10.0.0.1/80", "TCP/10.0.0.2/80", false),
            ("TCP/0.0.0.0/0", "TCP/0.0.0.0/0", false),
        ];
        for (a, b, conflict) in pairs {
            assert_eq!(port(a).conflicts_with(&port(b)), conflict, "{a} vs {b}");
            assert_eq!(port(b).conflicts_with(&port(a)), conflict, "{b} vs {a}");
        }
        let empty_ip = HostPort::new(80, Protocol::Tcp).on_ip("");
        assert!(empty_ip.conflicts_with(&port("TCP/10.0.0.1/80")));
    }

    /// Only pods bound to the node count, and a pod that left releases its ports.
    #[test]
    fn only_bound_pods_hold_ports() {
        let mut c = cluster(vec![node("a", &[], vec![]), node("b", &[], vec![])]);
        let holder = add_pod(&mut c, with_ports("holder", &["TCP/0.0.0.0/80"]));
        let pending = add_pod(&mut c, with_ports("pending", &["TCP/0.0.0.0/80"]));
        c.bind(holder, NodeId(0)).unwrap();
        let mut plugin = NodePorts::default();
        let pod = c.pod(pending).unwrap().clone();
        assert!(plugin.pre_filter(&pod, &c).is_success());
        assert!(!plugin.filter(&pod, &c, NodeId(0)).is_success());
        assert!(plugin.filter(&pod, &c, NodeId(1)).is_success());
        c.remove_pod(holder);
        assert!(plugin.filter(&pod, &c, NodeId(0)).is_success());
    }

    /// End to end in kube-default: pods binding the same host port spread one per node,
    /// and the one too many is unschedulable with upstream's reason on every node.
    #[test]
    fn kube_default_places_one_per_node() {
        let mut c = cluster(vec![node("a", &[], vec![]), node("b", &[], vec![])]);
        let template = Arc::new(with_ports("web", &["TCP/0.0.0.0/8080"]));
        let mut scheduler = FrameworkScheduler::new(Profile::kube_default());
        let mut rng = SchedulerRng::seed_from_u64(1);
        let mut used = Vec::new();
        for ordinal in 0..2 {
            let id = c.add_pod(Pod::from_template(template.clone(), ordinal));
            let e = scheduler.explain(&c, id, &mut rng);
            let node = e.selected.expect("a free node");
            c.bind(id, node).unwrap();
            used.push(node);
        }
        assert_ne!(used[0], used[1]);
        let id = c.add_pod(Pod::from_template(template, 2));
        let e = scheduler.explain(&c, id, &mut rng);
        assert_eq!(e.selected, None);
        assert_eq!(e.preemption, None);
        let diagnosis = e.diagnosis.expect("a diagnosis");
        assert_eq!(diagnosis.reasons(), [(Reason::from(NodePorts::REASON), 2)]);
        assert!(
            e.nodes
                .iter()
                .all(|v| v.failed_plugin == Some(NodePorts::NAME))
        );
        let mut c2 = c.clone();
        let id2 = c2.add_pod(Pod::from_template(
            Arc::new(with_ports("web2", &["TCP/0.0.0.0/8080"])),
            0,
        ));
        assert!(matches!(
            scheduler.schedule_pod(&c2, id2, &mut rng, None),
            Placement::Unschedulable(_)
        ));
    }
}
