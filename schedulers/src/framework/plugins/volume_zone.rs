//! VolumeZone: a pod whose bound PersistentVolumes carry zone or region labels fits only
//! nodes in those zones and regions.
//!
//! As upstream (pkg/scheduler/framework/plugins/volumezone): PreFilter collects the
//! topology labels (`topology.kubernetes.io/{zone,region}` and their deprecated
//! `failure-domain.beta.kubernetes.io/` forms; a value may list several zones joined by
//! `__`) of the pod's bound PVs, skipping unbound WaitForFirstConsumer claims, and skips
//! Filter when there are none. Filter admits a node with no topology label at all, and
//! otherwise requires the node's value for each PV label (the GA label standing in for a
//! beta one) to be among the PV's values.

use crate::cluster::ClusterState;
use crate::framework::profile::Points;
use crate::framework::{Plugin, Status};
use crate::node::NodeId;
use crate::pod::Pod;
use crate::reason::Reason;
use crate::volumes::{REGION_LABEL, VolumeBindingMode, ZONE_LABEL};

const BETA_ZONE: &str = "failure-domain.beta.kubernetes.io/zone";
const BETA_REGION: &str = "failure-domain.beta.kubernetes.io/region";
/// The labels VolumeZone reads, in upstream's order.
const TOPOLOGY_LABELS: [&str; 4] = [BETA_ZONE, BETA_REGION, ZONE_LABEL, REGION_LABEL];

/// The VolumeZone plugin.
#[derive(Debug, Default, Clone)]
pub struct VolumeZone {
    /// The current pod's PV topologies: label key and allowed values.
    topologies: Vec<(&'static str, Vec<String>)>,
}

impl VolumeZone {
    /// Its name.
    pub const NAME: &'static str = "VolumeZone";
    /// Where it runs.
    pub const POINTS: Points = Points {
        pre_filter: true,
        filter: true,
        pre_score: false,
        score: false,
    };
    /// `ErrReasonConflict`.
    pub const REASON: &'static str = "node(s) had no available volume zone";
}

fn to_ga(key: &str) -> &str {
    match key {
        BETA_ZONE => ZONE_LABEL,
        BETA_REGION => REGION_LABEL,
        k => k,
    }
}

impl Plugin for VolumeZone {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn pre_filter(&mut self, pod: &Pod, cluster: &ClusterState) -> Status {
        self.topologies.clear();
        let volumes = cluster.volumes();
        for name in &pod.template.volume_claims {
            let Some(claim) = volumes.claim(&pod.template.namespace, name) else {
                return Status::unresolvable(format!(
                    "PersistentVolumeClaim was not found: \"{name}\""
                ));
            };
            let Some(pv_name) = &claim.bound_volume else {
                if claim.storage_class.is_empty() {
                    return Status::unresolvable(
                        "PersistentVolumeClaim had no pv name and storageClass name",
                    );
                }
                let Some(class) = volumes.class(&claim.storage_class) else {
                    return Status::unresolvable(format!(
                        "storageclass.storage.k8s.io \"{}\" not found",
                        claim.storage_class
                    ));
                };
                if class.volume_binding_mode == VolumeBindingMode::WaitForFirstConsumer {
                    continue;
                }
                return Status::unresolvable("PersistentVolume had no name");
            };
            let Some(pv) = volumes.volume(pv_name) else {
                return Status::unresolvable(format!("persistentvolume \"{pv_name}\" not found"));
            };
            for key in TOPOLOGY_LABELS {
                if let Some(v) = pv.labels.get(key) {
                    let values = v
                        .split("__")
                        .map(|z| z.trim().to_string())
                        .filter(|z| !z.is_empty())
                        .collect();
                    self.topologies.push((key, values));
                }
            }
        }
        if self.topologies.is_empty() {
            Status::skip()
        } else {
            Status::success()
        }
    }

    fn filter(&self, _pod: &Pod, cluster: &ClusterState, node: NodeId) -> Status {
        let labels = &cluster.node(node).spec.labels;
        if !TOPOLOGY_LABELS.iter().any(|k| labels.get(k).is_some()) {
            return Status::success();
        }
        for (key, values) in &self.topologies {
            let v = labels.get(key).or_else(|| labels.get(to_ga(key)));
            if !v.is_some_and(|v| values.iter().any(|z| z == v)) {
                return Status::unresolvable(Reason::VolumeZone);
            }
        }
        Status::success()
    }

    /// Without claims bound to zonal volumes, Filter passes every node.
    fn filter_by_shape(&self) -> bool {
        self.topologies.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Code;
    use crate::framework::plugins::helper::testing::{add_pod, cluster, node};
    use crate::labels::Labels;
    use crate::pod::PodTemplate;
    use crate::volumes::{PersistentVolume, PersistentVolumeClaim, StorageClass};

    /// Runs VolumeZone for a pod claiming `pvc` (bound to a PV with `pv_labels`) on a node
    /// with `node_labels`; None when PreFilter skipped.
    fn run(pv_labels: &[(&str, &str)], node_labels: &[(&str, &str)]) -> Option<Status> {
        let mut c = cluster(vec![node("host1", node_labels, vec![])]);
        c.volumes_mut()
            .add_volume(PersistentVolume {
                name: "Vol_1".into(),
                capacity: 1,
                labels: Labels::new(pv_labels.iter().copied()),
                ..Default::default()
            })
            .unwrap();
        c.volumes_mut()
            .add_claim(PersistentVolumeClaim {
                name: "PVC_1".into(),
                namespace: "default".into(),
                request: 1,
                bound_volume: Some("Vol_1".into()),
                ..Default::default()
            })
            .unwrap();
        let id = add_pod(
            &mut c,
            PodTemplate {
                namespace: "default".into(),
                volume_claims: vec!["PVC_1".into()],
                ..Default::default()
            },
        );
        let pod = c.pod(id).unwrap();
        let mut p = VolumeZone::default();
        let pre = p.pre_filter(pod, &c);
        if pre.code == Code::Skip {
            return None;
        }
        assert!(pre.is_success());
        Some(p.filter(pod, &c, NodeId(0)))
    }

    /// Mirrors cases of TestSingleZone and TestMultiZone (volume_zone_test.go), by name.
    #[test]
    fn volume_zone_follows_upstream() {
        let ok = Some(Status::success());
        let conflict = Some(Status::unresolvable(VolumeZone::REASON));
        type LabelList<'a> = &'a [(&'a str, &'a str)];
        // (upstream case name, PV labels, node labels, Filter's status; None: skipped)
        let rows: &[(&str, LabelList, LabelList, Option<Status>)] = &[
            (
                "pv with no zone label",
                &[],
                &[(BETA_ZONE, "us-west1-a")],
                None,
            ),
            (
                "node without labels",
                &[(BETA_ZONE, "us-west1-a")],
                &[],
                ok.clone(),
            ),
            (
                "beta zone label matched",
                &[(BETA_ZONE, "us-west1-a")],
                &[(BETA_ZONE, "us-west1-a"), ("uselessLabel", "none")],
                ok.clone(),
            ),
            (
                "beta region label matched",
                &[(BETA_REGION, "us-west1")],
                &[(BETA_REGION, "us-west1"), ("uselessLabel", "none")],
                ok.clone(),
            ),
            (
                "beta region label doesn't match",
                &[(BETA_REGION, "us-west1")],
                &[(BETA_REGION, "no_us-west1"), ("uselessLabel", "none")],
                conflict.clone(),
            ),
            (
                "beta zone label doesn't match",
                &[(BETA_ZONE, "us-west1-a")],
                &[(BETA_ZONE, "no_us-west1-a"), ("uselessLabel", "none")],
                conflict.clone(),
            ),
            (
                "zone label matched",
                &[(ZONE_LABEL, "us-west1-a")],
                &[(ZONE_LABEL, "us-west1-a")],
                ok.clone(),
            ),
            (
                "zone label doesn't match",
                &[(ZONE_LABEL, "us-west1-a")],
                &[(ZONE_LABEL, "no_us-west1-a")],
                conflict.clone(),
            ),
            (
                "pv beta label, node GA label, matched",
                &[(BETA_ZONE, "us-west1-a")],
                &[(ZONE_LABEL, "us-west1-a")],
                ok.clone(),
            ),
            (
                "multi-zone: node in one of the PV's zones",
                &[(ZONE_LABEL, "us-west1-a__us-west1-b")],
                &[(ZONE_LABEL, "us-west1-b")],
                ok.clone(),
            ),
            (
                "multi-zone: node in none of the PV's zones",
                &[(ZONE_LABEL, "us-west1-a__us-west1-b")],
                &[(ZONE_LABEL, "us-west1-c")],
                conflict.clone(),
            ),
        ];
        for (name, pv, node, want) in rows {
            assert_eq!(&run(pv, node), want, "{name}");
        }
    }

    #[test]
    fn unbound_wait_for_first_consumer_claims_are_skipped() {
        let mut c = cluster(vec![node("n", &[(ZONE_LABEL, "a")], vec![])]);
        c.volumes_mut()
            .add_class(StorageClass {
                name: "wait".into(),
                volume_binding_mode: VolumeBindingMode::WaitForFirstConsumer,
                ..Default::default()
            })
            .unwrap();
        c.volumes_mut()
            .add_claim(PersistentVolumeClaim {
                name: "data".into(),
                namespace: "default".into(),
                storage_class: "wait".into(),
                request: 1,
                ..Default::default()
            })
            .unwrap();
        let id = add_pod(
            &mut c,
            PodTemplate {
                namespace: "default".into(),
                volume_claims: vec!["data".into()],
                ..Default::default()
            },
        );
        let mut p = VolumeZone::default();
        assert_eq!(p.pre_filter(c.pod(id).unwrap(), &c).code, Code::Skip);
    }
}
