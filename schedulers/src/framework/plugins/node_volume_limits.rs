//! NodeVolumeLimits: a node takes no more volumes of a CSI driver than the driver may
//! attach to it.
//!
//! As upstream's CSILimits (pkg/scheduler/framework/plugins/nodevolumelimits/csi.go,
//! v1.35): PreFilter skips pods without claims. Filter finds the CSI driver and volume of
//! each of the pod's claims (a bound claim's PV by its `csi.driver`, in-tree plugins
//! translated to the driver they migrated to; an unbound claim, or one whose PV is
//! missing, as a volume of its own under its StorageClass's `provisioner`; a claim of no
//! class, or a PV of no driver, is not counted), does the same for every pod on the node,
//! counts each distinct volume once (two pods sharing a claim use one attachment), and
//! rejects the node as Unschedulable with `ErrReasonMaxVolumeCountExceeded` when, for a
//! driver the pod adds volumes of, the volumes already attached plus the new ones pass the
//! node's limit (its CSINode's `allocatable.count`, [`crate::NodeSpec::csi_attach_limits`]).
//! A driver with no limit, or a node with none, admits anything. Counts follow the pods
//! bound to the node, so they drop as pods leave.
//!
//! Simplified: no VolumeAttachment objects (upstream also counts attachments still held
//! by pods that left, until the attach-detach controller detaches them), no limits read
//! from the Node's `attachable-volumes-csi-*` allocatable, no inline or generic ephemeral
//! volumes, and in-tree migration is taken as on for every node (upstream checks the
//! CSINode's migrated-plugins annotation).

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Plugin, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::reason::Reason;
use crate::volumes::{VolumeHandle, VolumeState};

/// The NodeVolumeLimits plugin.
#[derive(Debug, Default, Clone)]
pub struct NodeVolumeLimits;

impl NodeVolumeLimits {
    /// Its name.
    pub const NAME: &'static str = "NodeVolumeLimits";
    /// Where it runs.
    pub const POINTS: Points = Points {
        pre_filter: true,
        filter: true,
        pre_score: false,
        score: false,
    };
    /// `ErrReasonMaxVolumeCountExceeded`.
    pub const REASON: &'static str = "node(s) exceed max volume count";
}

/// Adds the CSI volumes of a pod's claims to `out`, each distinct volume once.
fn add_volumes<'a>(
    volumes: &'a VolumeState,
    pod: &'a Pod,
    out: &mut Vec<(&'a str, VolumeHandle<'a>)>,
) {
    for name in &pod.template.volume_claims {
        // An existing pod's missing claim is not counted, as upstream.
        let Some(claim) = volumes.claim(&pod.template.namespace, name) else {
            continue;
        };
        if let Some(v) = volumes.csi_volume(claim)
            && !out.contains(&v)
        {
            out.push(v);
        }
    }
}

impl Plugin for NodeVolumeLimits {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, _cluster: &ClusterState) -> Status {
        if pod.template.volume_claims.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn filter(&self, pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        let volumes = cluster.volumes();
        let namespace = &pod.template.namespace;
        for name in &pod.template.volume_claims {
            if volumes.claim(namespace, name).is_none() {
                return Status::unresolvable(format!(
                    "looking up PVC {namespace}/{name}: persistentvolumeclaim \"{name}\" not found"
                ));
            }
        }
        let limits = &cluster.node(node).spec.csi_attach_limits;
        if limits.is_empty() {
            return Status::success();
        }
        let mut new = Vec::new();
        add_volumes(volumes, pod, &mut new);
        if new.is_empty() {
            return Status::success();
        }
        let mut attached = Vec::new();
        for &p in &cluster.node(node).pods {
            if let Some(existing) = cluster.pod(p) {
                add_volumes(volumes, existing, &mut attached);
            }
        }
        // A volume already attached for another pod costs nothing more.
        new.retain(|v| !attached.contains(v));
        for (driver, limit) in limits {
            let adding = new.iter().filter(|(d, _)| d == driver).count();
            if adding == 0 {
                continue;
            }
            let current = attached.iter().filter(|(d, _)| d == driver).count();
            if current + adding > *limit as usize {
                return Status::unschedulable(Reason::MaxVolumeCount);
            }
        }
        Status::success()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node};
    use crate::pod::PodTemplate;
    use crate::volumes::{PersistentVolume, PersistentVolumeClaim, StorageClass};

    const EBS: &str = "ebs.csi.aws.com";
    const GCE: &str = "pd.csi.storage.gke.io";
    const IN_TREE_EBS: &str = "kubernetes.io/aws-ebs";

    /// Upstream's fixtures: claim `csi-<driver>-<i>` bound to a PV of that name attached
    /// by `<driver>`; `csi-4` unbound of class `csi-sc` (provisioner EBS); `csi-5` of no
    /// class; `csi-6` bound to a PV that does not exist, of class `csi-sc`.
    fn storage(c: &mut ClusterState) {
        let v = c.volumes_mut();
        v.add_class(StorageClass {
            name: "csi-sc".into(),
            provisioner: EBS.into(),
            ..Default::default()
        })
        .unwrap();
        for driver in [EBS, GCE, IN_TREE_EBS, "kubernetes.io/hostpath"] {
            for i in 0..4 {
                let name = format!("csi-{driver}-{i}").replace('/', "-");
                v.add_volume(PersistentVolume {
                    name: name.clone(),
                    capacity: 1,
                    csi_driver: driver.into(),
                    ..Default::default()
                })
                .unwrap();
                v.add_claim(PersistentVolumeClaim {
                    name: name.clone(),
                    namespace: "default".into(),
                    request: 1,
                    bound_volume: Some(name),
                    ..Default::default()
                })
                .unwrap();
            }
        }
        for (name, class, bound) in [
            ("csi-4", "csi-sc", None),
            ("csi-5", "", None),
            ("csi-6", "csi-sc", Some("missing-pv")),
        ] {
            v.add_claim(PersistentVolumeClaim {
                name: name.into(),
                namespace: "default".into(),
                storage_class: class.into(),
                request: 1,
                bound_volume: bound.map(Into::into),
                ..Default::default()
            })
            .unwrap();
        }
    }

    fn claims(driver: &str, ids: &[u32]) -> Vec<String> {
        ids.iter()
            .map(|i| format!("csi-{driver}-{i}").replace('/', "-"))
            .collect()
    }

    fn pod(claims: Vec<String>) -> PodTemplate {
        PodTemplate {
            name: "pod".into(),
            namespace: "default".into(),
            volume_claims: claims,
            ..Default::default()
        }
    }

    /// Filter for `new` on a node holding `existing`, with `max` volumes allowed for each
    /// of `drivers` (none: the CSINode reports no limit).
    fn run(new: Vec<String>, existing: Vec<Vec<String>>, max: u32, drivers: &[&str]) -> Status {
        let mut spec = node("node-1", &[], vec![]);
        spec.csi_attach_limits = drivers.iter().map(|d| (d.to_string(), max)).collect();
        let mut c = cluster(vec![spec]);
        storage(&mut c);
        for e in existing {
            let id = add_pod(&mut c, pod(e));
            c.bind(id, NodeId(0)).unwrap();
        }
        let id = add_pod(&mut c, pod(new));
        let pod = c.pod(id).unwrap();
        let mut p = NodeVolumeLimits;
        assert_eq!(p.pre_filter(pod, &c).code, Code::Success);
        p.filter(pod, &c, NodeId(0))
    }

    /// Mirrors cases of TestCSILimits (csi_test.go), by name.
    #[test]
    fn csi_limits_follow_upstream() {
        let exceeded = Status::unschedulable(NodeVolumeLimits::REASON);
        let ok = Status::success();
        let ebs_one = || claims(EBS, &[0]);
        let ebs_two = || claims(EBS, &[1, 2]);
        let running = || claims(EBS, &[3]);
        let pending = || vec!["csi-4".to_string()];
        let gce_two = || claims(GCE, &[1, 2]);
        let in_tree_one = || claims(IN_TREE_EBS, &[0]);
        let in_tree_two = || claims(IN_TREE_EBS, &[1, 2]);

        // "fits when node volume limit >= new pods CSI volume"
        assert_eq!(run(ebs_one(), vec![running(), ebs_two()], 4, &[EBS]), ok);
        // "doesn't when node volume limit <= pods CSI volume"
        assert_eq!(
            run(ebs_one(), vec![running(), ebs_two()], 2, &[EBS]),
            exceeded
        );
        // "should when driver does not support volume limits"
        assert_eq!(run(ebs_one(), vec![running(), ebs_two()], 2, &[]), ok);
        // "count pending PVCs towards volume limit <= pods CSI volume"
        assert_eq!(
            run(ebs_one(), vec![pending(), ebs_two()], 2, &[EBS]),
            exceeded
        );
        // "count multiple pending pvcs towards volume limit >= pods CSI volume"
        assert_eq!(
            run(ebs_one(), vec![pending(), pending(), ebs_two()], 4, &[EBS]),
            ok
        );
        // "should count PVCs with invalid PV name but valid SC"
        assert_eq!(
            run(ebs_one(), vec![vec!["csi-6".into()], ebs_two()], 2, &[EBS]),
            exceeded
        );
        // "don't count pvcs with missing SC towards volume limit"
        assert_eq!(
            run(ebs_one(), vec![running(), vec!["csi-5".into()]], 2, &[EBS]),
            ok
        );
        // "count pvcs with the same type towards volume limit"
        assert_eq!(
            run(ebs_one(), vec![gce_two(), ebs_two()], 2, &[EBS, GCE]),
            exceeded
        );
        // "don't count pvcs with different type towards volume limit"
        assert_eq!(
            run(gce_two(), vec![ebs_two(), running()], 2, &[EBS, GCE]),
            ok
        );
        // "should count in-tree volumes if migration is enabled"
        assert_eq!(run(in_tree_one(), vec![in_tree_two()], 2, &[EBS]), exceeded);
        // "should count unbound in-tree volumes if migration is enabled"
        assert_eq!(run(pending(), vec![in_tree_two()], 2, &[EBS]), exceeded);
        // "should not limit pod if volume used does not report limits"
        assert_eq!(run(in_tree_one(), vec![in_tree_two()], 2, &[]), ok);
        // "should not count non-migratable in-tree volumes"
        assert_eq!(
            run(
                claims("kubernetes.io/hostpath", &[0]),
                vec![ebs_two()],
                2,
                &[EBS]
            ),
            ok
        );
        // "should count in-tree and csi volumes if migration is enabled (when scheduling
        // in-tree volumes)"
        assert_eq!(run(in_tree_one(), vec![ebs_two()], 2, &[EBS]), exceeded);
        // A volume the node already has for another pod costs nothing more.
        assert_eq!(run(claims(EBS, &[1]), vec![ebs_two()], 2, &[EBS]), ok);
    }

    #[test]
    fn a_missing_claim_of_the_new_pod_is_unresolvable() {
        assert_eq!(
            run(vec!["nope".into()], vec![], 2, &[EBS]),
            Status::unresolvable(
                "looking up PVC default/nope: persistentvolumeclaim \"nope\" not found"
            )
        );
    }

    #[test]
    fn counts_drop_when_pods_leave() {
        let mut spec = node("node-1", &[], vec![]);
        spec.csi_attach_limits = vec![(EBS.into(), 2)];
        let mut c = cluster(vec![spec]);
        storage(&mut c);
        let a = add_pod(&mut c, pod(claims(EBS, &[1, 2])));
        c.bind(a, NodeId(0)).unwrap();
        let b = add_pod(&mut c, pod(claims(EBS, &[0])));
        let p = NodeVolumeLimits;
        assert_eq!(
            p.filter(c.pod(b).unwrap(), &c, NodeId(0)),
            Status::unschedulable(NodeVolumeLimits::REASON)
        );
        c.remove_pod(a).unwrap();
        assert!(p.filter(c.pod(b).unwrap(), &c, NodeId(0)).is_success());
    }
}
