//! VolumeBinding: a pod's PersistentVolumeClaims must be bound, or bindable, to volumes
//! its node can reach.
//!
//! As upstream (pkg/scheduler/framework/plugins/volumebinding): PreFilter skips pods
//! without claims, rejects a pod whose claim is missing or whose Immediate claim is still
//! unbound; Filter requires every bound claim's PV node affinity to match the node and
//! every unbound WaitForFirstConsumer claim to find an available PV of its class, large
//! enough and reachable from the node (each claim a different PV, smallest first), or to
//! be provisionable there (the class's `allowedTopologies` match the node).
//!
//! Simplifications: no scoring (upstream scores only with the StorageCapacityScoring
//! gate, off by default), no CSI storage capacity or volume limits, every StorageClass has a working
//! provisioner except `kubernetes.io/no-provisioner`'s, which provisions nothing (as
//! upstream's `NotSupportedProvisioner`), a claim naming an unknown class binds Immediately, and Reserve/PreBind
//! (the actual binding) is done by the simulator after the pod is bound.

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Code, Plugin, Reasons, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::reason::Reason;
use crate::volumes::{PersistentVolumeClaim, StorageClass, VolumeBindingMode, VolumeState};

/// The VolumeBinding plugin.
#[derive(Debug, Default, Clone)]
pub struct VolumeBinding {
    /// The current pod's bound claims' volume names.
    bound: Vec<String>,
    /// The current pod's unbound WaitForFirstConsumer claims with their classes.
    unbound: Vec<(PersistentVolumeClaim, StorageClass)>,
}

impl VolumeBinding {
    /// Its name.
    pub const NAME: &'static str = "VolumeBinding";
    /// Where it runs: every point, but PreScore always skips Score, as upstream's does
    /// while the StorageCapacityScoring feature gate is off (its default in v1.35).
    pub const POINTS: Points = Points::ALL;
    /// `ErrReasonBindConflict`.
    pub const BIND_CONFLICT: &'static str =
        "node(s) didn't find available persistent volumes to bind";
    /// `ErrReasonNodeConflict`.
    pub const NODE_CONFLICT: &'static str = "node(s) had volume node affinity conflict";
    /// `ErrReasonPVNotExist`.
    pub const PV_NOT_EXIST: &'static str =
        "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)";
    /// PreFilter's reason for an unbound Immediate claim.
    pub const UNBOUND_IMMEDIATE: &'static str = "pod has unbound immediate PersistentVolumeClaims";

    /// True when the unbound claims can all be satisfied on this node: each by a distinct
    /// available PV (claims by increasing request, each taking the smallest fitting PV, as
    /// `findMatchingVolumes`), or else by provisioning.
    fn unbound_satisfied(
        &self,
        volumes: &VolumeState,
        cluster: &ClusterState,
        node: NodeId,
    ) -> bool {
        let n = cluster.node(node);
        let (labels, name) = (&n.spec.labels, n.name());
        let mut chosen: Vec<&str> = Vec::new();
        for (claim, class) in &self.unbound {
            let pv = volumes
                .volumes()
                .iter()
                .filter(|v| VolumeState::satisfies(v, claim))
                .filter(|v| !chosen.contains(&v.name.as_str()))
                .filter(|v| v.reachable_from(labels, name))
                .min_by_key(|v| v.capacity);
            match pv {
                Some(v) => chosen.push(&v.name),
                None if class.allows(labels, name) => {}
                None => return false,
            }
        }
        true
    }
}

impl Plugin for VolumeBinding {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, cluster: &ClusterState) -> Status {
        self.bound.clear();
        self.unbound.clear();
        let claims = &pod.template.volume_claims;
        if claims.is_empty() {
            return Status::skip();
        }
        let volumes = cluster.volumes();
        let namespace = &pod.template.namespace;
        let mut found = Vec::with_capacity(claims.len());
        for name in claims {
            match volumes.claim(namespace, name) {
                Some(c) => found.push(c),
                None => {
                    return Status::unresolvable(format!(
                        "persistentvolumeclaim \"{name}\" not found"
                    ));
                }
            }
        }
        let mut unbound_immediate = false;
        for claim in found {
            if let Some(v) = &claim.bound_volume {
                self.bound.push(v.clone());
                continue;
            }
            match volumes.class(&claim.storage_class) {
                Some(class)
                    if class.volume_binding_mode == VolumeBindingMode::WaitForFirstConsumer =>
                {
                    self.unbound.push((claim.clone(), class.clone()));
                }
                _ => unbound_immediate = true,
            }
        }
        if unbound_immediate {
            return Status::unresolvable(Reason::UnboundImmediateClaims);
        }
        // `findMatchingVolumes` matches the smallest claims first (a stable sort).
        self.unbound.sort_by_key(|(claim, _)| claim.request);
        Status::success()
    }

    fn pre_score(&mut self, _pod: &Pod, _cluster: &ClusterState, _feasible: &[NodeId]) -> Status {
        Status::skip()
    }

    fn filter(&self, _pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        let volumes = cluster.volumes();
        let n = cluster.node(node);
        // `checkBoundClaims`: stops at the first missing PV or affinity conflict.
        let (mut bound_ok, mut pvs_found) = (true, true);
        for name in &self.bound {
            match volumes.volume(name) {
                Some(pv) if pv.reachable_from(&n.spec.labels, n.name()) => {}
                Some(_) => {
                    bound_ok = false;
                    break;
                }
                None => {
                    pvs_found = false;
                    break;
                }
            }
        }
        let unbound_ok = self.unbound.is_empty() || self.unbound_satisfied(volumes, cluster, node);
        // Upstream's order of reasons (`FindPodVolumes`).
        let mut reasons = Reasons::new();
        if !bound_ok {
            reasons.push(Reason::VolumeNodeConflict);
        }
        if !unbound_ok {
            reasons.push(Reason::VolumeBindConflict);
        }
        if !pvs_found {
            reasons.push(Reason::VolumeNotExist);
        }
        if reasons.is_empty() {
            Status::success()
        } else {
            Status {
                code: Code::UnschedulableAndUnresolvable,
                reasons,
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node};
    use crate::labels::{NodeSelectorTerm, SelectorOperator, SelectorRequirement};
    use crate::pod::PodTemplate;
    use crate::volumes::{PersistentVolume, ZONE_LABEL};

    pub(crate) fn zone_term(zones: &[&str]) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: vec![SelectorRequirement {
                key: ZONE_LABEL.into(),
                operator: SelectorOperator::In,
                values: zones.iter().map(|z| z.to_string()).collect(),
            }],
            match_fields: Vec::new(),
        }
    }

    fn class(name: &str, mode: VolumeBindingMode, zones: &[&str]) -> StorageClass {
        StorageClass {
            name: name.into(),
            volume_binding_mode: mode,
            allowed_topologies: if zones.is_empty() {
                Vec::new()
            } else {
                vec![zone_term(zones)]
            },
            ..Default::default()
        }
    }

    fn pv(name: &str, class: &str, cap: i64, zone: Option<&str>) -> PersistentVolume {
        PersistentVolume {
            name: name.into(),
            capacity: cap,
            storage_class: class.into(),
            node_affinity: zone.map(|z| vec![zone_term(&[z])]),
            ..Default::default()
        }
    }

    fn pvc(name: &str, class: &str, request: i64, bound: Option<&str>) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            name: name.into(),
            namespace: "default".into(),
            storage_class: class.into(),
            request,
            bound_volume: bound.map(Into::into),
            ..Default::default()
        }
    }

    /// A one-node cluster in zone `zone-a` holding these objects; runs PreFilter and, if it
    /// succeeded, Filter for a pod claiming `claims`.
    fn run(
        classes: Vec<StorageClass>,
        pvs: Vec<PersistentVolume>,
        pvcs: Vec<PersistentVolumeClaim>,
        claims: &[&str],
    ) -> (Status, Option<Status>) {
        let mut c = cluster(vec![node("node-a", &[(ZONE_LABEL, "zone-a")], vec![])]);
        for x in classes {
            c.volumes_mut().add_class(x).unwrap();
        }
        for x in pvs {
            c.volumes_mut().add_volume(x).unwrap();
        }
        for x in pvcs {
            c.volumes_mut().add_claim(x).unwrap();
        }
        let id = add_pod(
            &mut c,
            PodTemplate {
                name: "pod".into(),
                namespace: "default".into(),
                volume_claims: claims.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            },
        );
        let pod = c.pod(id).unwrap();
        let mut p = VolumeBinding::default();
        let pre = p.pre_filter(pod, &c);
        if pre.code != Code::Success {
            return (pre, None);
        }
        let f = p.filter(pod, &c, NodeId(0));
        (pre, Some(f))
    }

    fn unresolvable(reason: &str) -> Option<Status> {
        Some(Status::unresolvable(reason.to_string()))
    }

    /// Mirrors cases of TestVolumeBinding (volume_binding_test.go), by name.
    #[test]
    fn volume_binding_follows_upstream() {
        use VolumeBindingMode::*;
        let wffc = || class("wait-sc", WaitForFirstConsumer, &[]);
        let immediate = || class("immediate-sc", Immediate, &[]);

        // "pod has not pvcs"
        let (pre, f) = run(vec![], vec![], vec![], &[]);
        assert_eq!((pre.code, f), (Code::Skip, None));

        // "all bound"
        let (pre, f) = run(
            vec![immediate()],
            vec![pv("pv-a", "immediate-sc", 100, None)],
            vec![pvc("pvc-a", "immediate-sc", 100, Some("pv-a"))],
            &["pvc-a"],
        );
        assert!(pre.is_success());
        assert_eq!(f, Some(Status::success()));

        // "PVC does not exist"
        let (pre, f) = run(vec![], vec![], vec![], &["pvc-a"]);
        assert_eq!(
            pre,
            Status::unresolvable("persistentvolumeclaim \"pvc-a\" not found")
        );
        assert_eq!(f, None);

        // "Part of PVCs do not exist"
        let (pre, _) = run(
            vec![immediate()],
            vec![pv("pv-a", "immediate-sc", 100, None)],
            vec![pvc("pvc-a", "immediate-sc", 100, Some("pv-a"))],
            &["pvc-a", "pvc-b"],
        );
        assert_eq!(
            pre,
            Status::unresolvable("persistentvolumeclaim \"pvc-b\" not found")
        );

        // "immediate claims not bound"
        let (pre, _) = run(
            vec![immediate()],
            vec![],
            vec![pvc("pvc-a", "immediate-sc", 100, None)],
            &["pvc-a"],
        );
        assert_eq!(pre, Status::unresolvable(VolumeBinding::UNBOUND_IMMEDIATE));

        // "unbound claims no matches"
        let (_, f) = run(
            vec![wffc()],
            vec![pv("pv-b", "wait-sc", 100, Some("zone-b"))],
            vec![pvc("pvc-a", "wait-sc", 100, None)],
            &["pvc-a"],
        );
        // No PV reachable, but the class (no allowedTopologies) can provision anywhere.
        assert_eq!(f, Some(Status::success()));
        let (_, f) = run(
            vec![class("wait-sc", WaitForFirstConsumer, &["zone-b"])],
            vec![pv("pv-b", "wait-sc", 100, Some("zone-b"))],
            vec![pvc("pvc-a", "wait-sc", 100, None)],
            &["pvc-a"],
        );
        assert_eq!(f, unresolvable(VolumeBinding::BIND_CONFLICT));

        // "bound and unbound unsatisfied"
        let (_, f) = run(
            vec![
                class("wait-sc", WaitForFirstConsumer, &["zone-b"]),
                immediate(),
            ],
            vec![pv("pv-b", "immediate-sc", 100, Some("zone-b"))],
            vec![
                pvc("pvc-b", "immediate-sc", 100, Some("pv-b")),
                pvc("pvc-a", "wait-sc", 100, None),
            ],
            &["pvc-b", "pvc-a"],
        );
        assert_eq!(
            f,
            Some(Status {
                code: Code::UnschedulableAndUnresolvable,
                reasons: [VolumeBinding::NODE_CONFLICT, VolumeBinding::BIND_CONFLICT]
                    .into_iter()
                    .map(Reason::from)
                    .collect(),
            })
        );

        // "pv not found"
        let (_, f) = run(
            vec![immediate()],
            vec![],
            vec![pvc("pvc-a", "immediate-sc", 100, Some("pv-a"))],
            &["pvc-a"],
        );
        assert_eq!(f, unresolvable(VolumeBinding::PV_NOT_EXIST));

        // An available PV in the node's zone satisfies a WaitForFirstConsumer claim.
        let (_, f) = run(
            vec![class("wait-sc", WaitForFirstConsumer, &["zone-b"])],
            vec![pv("pv-a", "wait-sc", 100, Some("zone-a"))],
            vec![pvc("pvc-a", "wait-sc", 50, None)],
            &["pvc-a"],
        );
        assert_eq!(f, Some(Status::success()));
        // Too small, or claimed twice by one pod: no.
        let (_, f) = run(
            vec![class("wait-sc", WaitForFirstConsumer, &["zone-b"])],
            vec![pv("pv-a", "wait-sc", 100, Some("zone-a"))],
            vec![
                pvc("pvc-a", "wait-sc", 50, None),
                pvc("pvc-b", "wait-sc", 50, None),
            ],
            &["pvc-a", "pvc-b"],
        );
        assert_eq!(f, unresolvable(VolumeBinding::BIND_CONFLICT));
        // allowedTopologies matching the node: provisioned there.
        let (_, f) = run(
            vec![class(
                "wait-sc",
                WaitForFirstConsumer,
                &["zone-a", "zone-b"],
            )],
            vec![],
            vec![pvc("pvc-a", "wait-sc", 50, None)],
            &["pvc-a"],
        );
        assert_eq!(f, Some(Status::success()));
    }
}
