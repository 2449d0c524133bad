//! VolumeRestrictions: a PersistentVolumeClaim with the ReadWriteOncePod access mode
//! serves one pod in the whole cluster.
//!
//! As upstream (pkg/scheduler/framework/plugins/volumerestrictions, v1.35): PreFilter
//! looks up the pod's claims (a missing one is UnschedulableAndUnresolvable,
//! `persistentvolumeclaim "<name>" not found`), keeps those asking for ReadWriteOncePod,
//! and counts those already used by a pod bound to some node; with no such conflict (and
//! no inline disk to check) it skips Filter. Filter then rejects every node as
//! Unschedulable with `ErrReasonReadWriteOncePodConflict`, so that preemption may evict
//! the pod holding the claim when it runs on the candidate node (upstream's
//! `RemovePod`; here the dry run sets the victim aside and PreFilter counts again).
//!
//! Simplified: the inline-disk half of the plugin (the same GCE PD, AWS EBS volume, RBD
//! image or iSCSI target mounted by two pods of one node, `node(s) had no available
//! disk`) is not modelled, because schedlab's pods mount claims only; the PreFilter that
//! counts conflicts scans the cluster's bound pods instead of keeping upstream's
//! per-claim reference counts.

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Plugin, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::reason::Reason;
use crate::volumes::AccessMode;

/// The VolumeRestrictions plugin.
#[derive(Debug, Default, Clone)]
pub struct VolumeRestrictions {
    /// Some other bound pod uses one of the current pod's ReadWriteOncePod claims
    /// (upstream's `conflictingPVCRefCount > 0`).
    conflict: bool,
}

impl VolumeRestrictions {
    /// Its name.
    pub const NAME: &'static str = "VolumeRestrictions";
    /// Where it runs.
    pub const POINTS: Points = Points {
        pre_filter: true,
        filter: true,
        pre_score: false,
        score: false,
    };
    /// `ErrReasonReadWriteOncePodConflict`.
    pub const REASON_RWOP: &'static str = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";
    /// `ErrReasonDiskConflict`, which schedlab never reports (no inline disks).
    pub const REASON_DISK: &'static str = "node(s) had no available disk";
}

impl Plugin for VolumeRestrictions {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, cluster: &ClusterState) -> Status {
        self.conflict = false;
        let claims = &pod.template.volume_claims;
        if claims.is_empty() {
            return Status::skip();
        }
        let volumes = cluster.volumes();
        let namespace = &pod.template.namespace;
        let mut rwop: Vec<&str> = Vec::new();
        for name in claims {
            let Some(claim) = volumes.claim(namespace, name) else {
                return Status::unresolvable(format!("persistentvolumeclaim \"{name}\" not found"));
            };
            if claim.access_modes.contains(AccessMode::ReadWriteOncePod) {
                rwop.push(name);
            }
        }
        if rwop.is_empty() {
            return Status::skip();
        }
        // The snapshot's pods are the bound ones; the pod itself is not among them.
        self.conflict = cluster.pods().any(|(_, other)| {
            other.node.is_some()
                && other.template.namespace == *namespace
                && other
                    .template
                    .volume_claims
                    .iter()
                    .any(|c| rwop.contains(&c.as_str()))
        });
        if self.conflict {
            Status::success()
        } else {
            Status::skip()
        }
    }

    fn filter(&self, _pod: &Pod, _cluster: &ClusterState, _node: NodeId) -> Status {
        if self.conflict {
            Status::unschedulable(Reason::ReadWriteOncePodConflict)
        } else {
            Status::success()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node};
    use crate::pod::PodTemplate;
    use crate::volumes::{AccessModes, PersistentVolumeClaim};

    fn pvc(name: &str, mode: AccessMode) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            name: name.into(),
            namespace: "default".into(),
            request: 1,
            access_modes: AccessModes::of(&[mode]),
            ..Default::default()
        }
    }

    fn pod(name: &str, claims: &[&str]) -> PodTemplate {
        PodTemplate {
            name: name.into(),
            namespace: "default".into(),
            volume_claims: claims.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    /// One node `node-1` holding `existing` (bound), the claims `pvcs`; runs PreFilter
    /// and, when it succeeded, Filter for `incoming`.
    fn run(
        pvcs: Vec<PersistentVolumeClaim>,
        existing: Vec<PodTemplate>,
        incoming: PodTemplate,
    ) -> (Status, Option<Status>) {
        let mut c = cluster(vec![node("node-1", &[], vec![])]);
        for x in pvcs {
            c.volumes_mut().add_claim(x).unwrap();
        }
        for t in existing {
            let id = add_pod(&mut c, t);
            c.bind(id, NodeId(0)).unwrap();
        }
        let id = add_pod(&mut c, incoming);
        let pod = c.pod(id).unwrap();
        let mut p = VolumeRestrictions::default();
        let pre = p.pre_filter(pod, &c);
        if pre.code != Code::Success {
            return (pre, None);
        }
        (pre, Some(p.filter(pod, &c, NodeId(0))))
    }

    /// Mirrors TestAccessModeConflicts (volume_restrictions_test.go), by name.
    #[test]
    fn access_mode_conflicts_follow_upstream() {
        use AccessMode::*;
        let rwop1 = || pvc("claim-with-rwop-1", ReadWriteOncePod);
        let rwop2 = || pvc("claim-with-rwop-2", ReadWriteOncePod);
        let rwx = || pvc("claim-with-rwx", ReadWriteMany);
        let with_one = || pod("pod-with-one-pvc", &["claim-with-rwop-1"]);
        let with_two = || {
            pod(
                "pod-with-two-pvcs",
                &["claim-with-rwop-1", "claim-with-rwop-2"],
            )
        };
        let with_rwx = || pod("pod-with-rwx", &["claim-with-rwx"]);
        let conflict = Some(Status::unschedulable(VolumeRestrictions::REASON_RWOP));

        // "nothing"
        let (pre, f) = run(vec![], vec![], pod("p", &[]));
        assert_eq!((pre.code, f), (Code::Skip, None));

        // "failed to get PVC"
        let (pre, f) = run(vec![], vec![], with_one());
        assert_eq!(
            pre,
            Status::unresolvable("persistentvolumeclaim \"claim-with-rwop-1\" not found")
        );
        assert_eq!(f, None);

        // "no access mode conflict"
        let (pre, f) = run(vec![rwop1(), rwx()], vec![with_rwx()], with_one());
        assert_eq!((pre.code, f), (Code::Skip, None));

        // "access mode conflict, unschedulable"
        let (pre, f) = run(
            vec![rwop1(), rwx()],
            vec![with_one(), with_rwx()],
            pod("pod-with-one-conflict", &["claim-with-rwop-1"]),
        );
        assert_eq!((pre, f), (Status::success(), conflict.clone()));

        // "two conflicts, unschedulable"
        let (pre, f) = run(
            vec![rwop1(), rwop2(), rwx()],
            vec![with_two(), with_rwx()],
            pod(
                "pod-with-two-conflicts",
                &["claim-with-rwop-1", "claim-with-rwop-2"],
            ),
        );
        assert_eq!((pre, f), (Status::success(), conflict));
    }

    #[test]
    fn a_claim_in_another_namespace_or_on_no_node_does_not_conflict() {
        let mut c = cluster(vec![node("node-1", &[], vec![])]);
        c.volumes_mut()
            .add_claim(pvc("data", AccessMode::ReadWriteOncePod))
            .unwrap();
        let mut other = pvc("data", AccessMode::ReadWriteOncePod);
        other.namespace = "ml".into();
        c.volumes_mut().add_claim(other).unwrap();
        let mut elsewhere = pod("ml-pod", &["data"]);
        elsewhere.namespace = "ml".into();
        let ml = add_pod(&mut c, elsewhere);
        c.bind(ml, NodeId(0)).unwrap();
        // A pending pod using the claim holds nothing yet.
        add_pod(&mut c, pod("pending", &["data"]));
        let id = add_pod(&mut c, pod("incoming", &["data"]));
        let mut p = VolumeRestrictions::default();
        assert_eq!(p.pre_filter(c.pod(id).unwrap(), &c).code, Code::Skip);
    }
}
