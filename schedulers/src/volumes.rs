//! Persistent storage as the volume plugins see it: StorageClasses, PersistentVolumes and
//! PersistentVolumeClaims.
//!
//! Access modes decide which volumes a claim may bind (a volume must offer every mode the
//! claim asks for, as the PV controller's `checkAccessModes`), and ReadWriteOncePod
//! claims are held to one pod by VolumeRestrictions. A volume's CSI driver (`csi.driver`,
//! or its class's `provisioner` for a provisioned one) is what NodeVolumeLimits counts
//! against a node's attach limit.
//!
//! Simplifications: the other modes are not enforced between pods (a bound
//! ReadWriteOnce claim's pods may share it on any node its affinity allows, as kubelet
//! would refuse only at attach time), capacity is a single byte count, there are no
//! volume modes or selectors on claims, and a deleted claim's volume is reclaimed by the
//! default policies only ([`VolumeState::remove_claim`]); a provisioner always succeeds
//! and creates a PV exactly the size of the claim.

use crate::kubernetes_enum;
use crate::labels::{Labels, NodeSelectorTerm};

/// The zone label of nodes and volumes.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// The region label of nodes and volumes.
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";

kubernetes_enum! {
    /// A StorageClass's `volumeBindingMode`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
    pub enum VolumeBindingMode {
        /// Claims are bound (or provisioned) as soon as they exist (the Kubernetes default).
        #[default]
        Immediate => "Immediate",
        /// Claims are bound when the first pod using them is scheduled, in that pod's node's
        /// topology.
        WaitForFirstConsumer => "WaitForFirstConsumer",
    }
}

kubernetes_enum! {
    /// One of Kubernetes' volume access modes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum AccessMode {
        /// `ReadWriteOnce`: read-write by the pods of one node.
        ReadWriteOnce => "ReadWriteOnce",
        /// `ReadOnlyMany`: read-only by many nodes.
        ReadOnlyMany => "ReadOnlyMany",
        /// `ReadWriteMany`: read-write by many nodes.
        ReadWriteMany => "ReadWriteMany",
        /// `ReadWriteOncePod`: read-write by a single pod.
        ReadWriteOncePod => "ReadWriteOncePod",
    }
}

/// A set of access modes (`accessModes`), as a bit mask so that matching allocates
/// nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AccessModes(u8);

impl AccessModes {
    /// No mode.
    pub const NONE: AccessModes = AccessModes(0);

    /// The set holding `modes`.
    pub fn of(modes: &[AccessMode]) -> AccessModes {
        let mut set = AccessModes::NONE;
        for &m in modes {
            set.insert(m);
        }
        set
    }

    /// Adds a mode.
    pub fn insert(&mut self, mode: AccessMode) {
        self.0 |= 1 << mode as u8;
    }

    /// True when the set holds `mode` (`ContainsAccessMode`).
    pub fn contains(self, mode: AccessMode) -> bool {
        self.0 & (1 << mode as u8) != 0
    }

    /// True when every mode of `wanted` is in this set (the PV controller's
    /// `checkAccessModes`: a volume must offer all that a claim requests).
    pub fn covers(self, wanted: AccessModes) -> bool {
        wanted.0 & !self.0 == 0
    }

    /// True for the empty set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The modes in the set, in Kubernetes' order.
    pub fn iter(self) -> impl Iterator<Item = AccessMode> {
        AccessMode::ALL
            .into_iter()
            .filter(move |&m| self.contains(m))
    }
}

/// A StorageClass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageClass {
    /// Its name.
    pub name: String,
    /// `provisioner`: the CSI driver of the volumes it provisions, which NodeVolumeLimits
    /// counts (empty for none).
    pub provisioner: String,
    /// When its claims are bound.
    pub volume_binding_mode: VolumeBindingMode,
    /// `allowedTopologies`: where dynamically provisioned volumes may live (ORed terms);
    /// empty means anywhere.
    pub allowed_topologies: Vec<NodeSelectorTerm>,
}

/// The provisioner of classes that provision nothing (upstream's
/// `NotSupportedProvisioner`): their claims bind only to existing volumes, such as local
/// PersistentVolumes.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

impl StorageClass {
    /// True when a volume of this class may be provisioned for a node with these labels.
    pub fn allows(&self, labels: &Labels, node_name: &str) -> bool {
        if self.provisioner == NO_PROVISIONER {
            return false;
        }
        self.allowed_topologies.is_empty()
            || self
                .allowed_topologies
                .iter()
                .any(|t| t.matches(labels, node_name))
    }
}

/// A PersistentVolume.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistentVolume {
    /// Its name.
    pub name: String,
    /// `capacity.storage`, in bytes.
    pub capacity: i64,
    /// `storageClassName` (empty for none).
    pub storage_class: String,
    /// `nodeAffinity.required.nodeSelectorTerms`: the nodes that can reach it.
    pub node_affinity: Option<Vec<NodeSelectorTerm>>,
    /// Its labels (the zone and region labels VolumeZone reads).
    pub labels: Labels,
    /// The claim it is bound to, as `namespace/name`.
    pub claim_ref: Option<String>,
    /// `accessModes`: the modes it offers.
    pub access_modes: AccessModes,
    /// `csi.driver`: the CSI driver that attaches it (empty for a volume of no CSI
    /// driver, which NodeVolumeLimits does not count).
    pub csi_driver: String,
}

impl PersistentVolume {
    /// True when a node with these labels and name can reach the volume.
    pub fn reachable_from(&self, labels: &Labels, node_name: &str) -> bool {
        match &self.node_affinity {
            None => true,
            Some(terms) => terms.iter().any(|t| t.matches(labels, node_name)),
        }
    }
}

/// A PersistentVolumeClaim.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersistentVolumeClaim {
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `storageClassName` (empty for none).
    pub storage_class: String,
    /// `resources.requests.storage`, in bytes.
    pub request: i64,
    /// `volumeName`: the PV it is bound to.
    pub bound_volume: Option<String>,
    /// `accessModes`: the modes it asks for.
    pub access_modes: AccessModes,
}

/// What NodeVolumeLimits counts as one attached volume: a bound claim's PV, or an
/// unbound claim (each unbound claim is a volume of its own, as upstream gives it a
/// random handle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeHandle<'a> {
    /// A PersistentVolume, by name.
    Volume(&'a str),
    /// An unbound claim, by namespace and name.
    Claim(&'a str, &'a str),
}

/// The CSI drivers that in-tree volume plugins migrated to (csi-translation-lib's
/// names), so that a class provisioned by `kubernetes.io/aws-ebs` counts against the
/// EBS driver's limit.
const MIGRATED_PLUGINS: [(&str, &str); 7] = [
    ("kubernetes.io/aws-ebs", "ebs.csi.aws.com"),
    ("kubernetes.io/gce-pd", "pd.csi.storage.gke.io"),
    ("kubernetes.io/azure-disk", "disk.csi.azure.com"),
    ("kubernetes.io/azure-file", "file.csi.azure.com"),
    ("kubernetes.io/cinder", "cinder.csi.openstack.org"),
    ("kubernetes.io/vsphere-volume", "csi.vsphere.vmware.com"),
    ("kubernetes.io/portworx-volume", "pxd.portworx.com"),
];

/// The CSI driver a provisioner's volumes are attached by: itself, or the driver an
/// in-tree plugin migrated to.
pub fn csi_driver_of(provisioner: &str) -> &str {
    MIGRATED_PLUGINS
        .iter()
        .find(|(in_tree, _)| *in_tree == provisioner)
        .map_or(provisioner, |(_, csi)| csi)
}

/// Why a volume operation was refused. A refused operation changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeError {
    /// No such claim.
    #[error("persistentvolumeclaim \"{0}\" not found")]
    NoSuchClaim(String),
    /// No such volume.
    #[error("persistentvolume \"{0}\" not found")]
    NoSuchVolume(String),
    /// The claim or volume is bound already.
    #[error("{0} is already bound")]
    AlreadyBound(String),
    /// The volume is too small or of another class.
    #[error("persistentvolume \"{0}\" does not satisfy the claim")]
    Unsuitable(String),
    /// A name is used twice.
    #[error("{0} exists already")]
    Duplicate(String),
}

/// The cluster's storage objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeState {
    classes: Vec<StorageClass>,
    volumes: Vec<PersistentVolume>,
    claims: Vec<PersistentVolumeClaim>,
    provisioned: u64,
    /// The volumes [`VolumeState::provision`] made, by name: their class's reclaim
    /// policy applies when their claim is deleted.
    dynamic: Vec<String>,
}

impl VolumeState {
    /// True when there are no claims, so no pod can use volumes.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty() && self.volumes.is_empty() && self.claims.is_empty()
    }

    /// Every StorageClass.
    pub fn classes(&self) -> &[StorageClass] {
        &self.classes
    }

    /// Every PersistentVolume.
    pub fn volumes(&self) -> &[PersistentVolume] {
        &self.volumes
    }

    /// Every PersistentVolumeClaim.
    pub fn claims(&self) -> &[PersistentVolumeClaim] {
        &self.claims
    }

    /// A StorageClass by name.
    pub fn class(&self, name: &str) -> Option<&StorageClass> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// A PersistentVolume by name.
    pub fn volume(&self, name: &str) -> Option<&PersistentVolume> {
        self.volumes.iter().find(|v| v.name == name)
    }

    /// A PersistentVolumeClaim by namespace and name.
    pub fn claim(&self, namespace: &str, name: &str) -> Option<&PersistentVolumeClaim> {
        self.claims
            .iter()
            .find(|c| c.name == name && c.namespace == namespace)
    }

    /// The CSI driver and volume NodeVolumeLimits counts for `claim` (upstream's
    /// `getCSIDriverInfo`): a bound claim's PV by its `csi.driver`, or, when the claim is
    /// unbound or its PV is missing, the claim itself under its class's provisioner.
    /// None when nothing is counted (a PV of no CSI driver, no class, no provisioner).
    pub fn csi_volume<'a>(
        &'a self,
        claim: &'a PersistentVolumeClaim,
    ) -> Option<(&'a str, VolumeHandle<'a>)> {
        if let Some(pv) = claim.bound_volume.as_deref().and_then(|v| self.volume(v)) {
            let driver = csi_driver_of(&pv.csi_driver);
            return (!driver.is_empty()).then_some((driver, VolumeHandle::Volume(&pv.name)));
        }
        let class = self.class(&claim.storage_class)?;
        let driver = csi_driver_of(&class.provisioner);
        (!driver.is_empty()).then_some((driver, VolumeHandle::Claim(&claim.namespace, &claim.name)))
    }

    /// Adds a StorageClass.
    pub fn add_class(&mut self, class: StorageClass) -> Result<(), VolumeError> {
        if self.class(&class.name).is_some() {
            return Err(VolumeError::Duplicate(format!(
                "storageclass \"{}\"",
                class.name
            )));
        }
        self.classes.push(class);
        Ok(())
    }

    /// Adds a PersistentVolume.
    pub fn add_volume(&mut self, volume: PersistentVolume) -> Result<(), VolumeError> {
        if self.volume(&volume.name).is_some() {
            return Err(VolumeError::Duplicate(format!(
                "persistentvolume \"{}\"",
                volume.name
            )));
        }
        self.volumes.push(volume);
        Ok(())
    }

    /// Adds a PersistentVolumeClaim. A claim naming a volume (`volumeName`) binds it, and
    /// the volume's `claim_ref` is set when the volume exists.
    pub fn add_claim(&mut self, claim: PersistentVolumeClaim) -> Result<(), VolumeError> {
        if self.claim(&claim.namespace, &claim.name).is_some() {
            return Err(VolumeError::Duplicate(format!(
                "persistentvolumeclaim \"{}/{}\"",
                claim.namespace, claim.name
            )));
        }
        if let Some(v) = &claim.bound_volume
            && let Some(pv) = self.volumes.iter_mut().find(|p| &p.name == v)
        {
            pv.claim_ref = Some(format!("{}/{}", claim.namespace, claim.name));
        }
        self.claims.push(claim);
        Ok(())
    }

    /// Deletes a claim (a StatefulSet's `whenScaled: Delete`); returns it, or `None`
    /// when there is no such claim. Its volume is reclaimed as the PV controller's
    /// `reclaimVolume` does under the default policies: a volume provisioned for it is
    /// deleted (a StorageClass's `reclaimPolicy` defaults to Delete), and any other is
    /// Released (a static PersistentVolume's `persistentVolumeReclaimPolicy` defaults to
    /// Retain): it keeps its `claim_ref`, so no claim binds it again. Simplified: the
    /// policy fields themselves are not read.
    pub fn remove_claim(&mut self, namespace: &str, name: &str) -> Option<PersistentVolumeClaim> {
        let i = self
            .claims
            .iter()
            .position(|c| c.name == name && c.namespace == namespace)?;
        let claim = self.claims.remove(i);
        if let Some(v) = &claim.bound_volume
            && let Some(d) = self.dynamic.iter().position(|n| n == v)
        {
            self.dynamic.remove(d);
            self.volumes.retain(|pv| &pv.name != v);
        }
        Some(claim)
    }

    /// True when `volume` is available (unbound), of the claim's class, large enough and
    /// offers every access mode the claim asks for.
    pub fn satisfies(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
        volume.claim_ref.is_none()
            && volume.storage_class == claim.storage_class
            && volume.capacity >= claim.request
            && volume.access_modes.covers(claim.access_modes)
    }

    /// The smallest available volume that satisfies the claim and that a node with these
    /// labels and name can reach (ties: the first added), as the PV controller's
    /// `FindMatchingVolume` picks.
    pub fn find_matching_volume(
        &self,
        claim: &PersistentVolumeClaim,
        node: Option<(&Labels, &str)>,
    ) -> Option<&PersistentVolume> {
        self.volumes
            .iter()
            .filter(|v| Self::satisfies(v, claim))
            .filter(|v| node.is_none_or(|(labels, name)| v.reachable_from(labels, name)))
            .min_by_key(|v| v.capacity)
    }

    /// Binds a claim to a volume.
    pub fn bind(&mut self, namespace: &str, claim: &str, volume: &str) -> Result<(), VolumeError> {
        let ci = self
            .claims
            .iter()
            .position(|c| c.name == claim && c.namespace == namespace)
            .ok_or_else(|| VolumeError::NoSuchClaim(claim.to_string()))?;
        let vi = self
            .volumes
            .iter()
            .position(|v| v.name == volume)
            .ok_or_else(|| VolumeError::NoSuchVolume(volume.to_string()))?;
        if self.claims[ci].bound_volume.is_some() {
            return Err(VolumeError::AlreadyBound(format!(
                "persistentvolumeclaim \"{claim}\""
            )));
        }
        if self.volumes[vi].claim_ref.is_some() {
            return Err(VolumeError::AlreadyBound(format!(
                "persistentvolume \"{volume}\""
            )));
        }
        if !Self::satisfies(&self.volumes[vi], &self.claims[ci]) {
            return Err(VolumeError::Unsuitable(volume.to_string()));
        }
        self.volumes[vi].claim_ref = Some(format!("{namespace}/{claim}"));
        self.claims[ci].bound_volume = Some(volume.to_string());
        Ok(())
    }

    /// Provisions a new volume for an unbound claim and binds it. With `node`, the volume
    /// is pinned to the node's zone (and region) when the node has those labels; without,
    /// it has no topology. Returns the new volume's name (`pvc-<namespace>-<claim>`,
    /// suffixed with a counter if taken).
    pub fn provision(
        &mut self,
        namespace: &str,
        claim: &str,
        node: Option<&Labels>,
    ) -> Result<String, VolumeError> {
        let c = self
            .claim(namespace, claim)
            .ok_or_else(|| VolumeError::NoSuchClaim(claim.to_string()))?;
        let (capacity, storage_class, access_modes) =
            (c.request, c.storage_class.clone(), c.access_modes);
        // A provisioned volume is attached by its class's provisioner.
        let csi_driver = self
            .class(&storage_class)
            .map(|c| c.provisioner.clone())
            .unwrap_or_default();
        if c.bound_volume.is_some() {
            return Err(VolumeError::AlreadyBound(format!(
                "persistentvolumeclaim \"{claim}\""
            )));
        }
        let mut labels = Labels::default();
        let mut terms = Vec::new();
        if let Some(node) = node {
            for key in [REGION_LABEL, ZONE_LABEL] {
                if let Some(v) = node.get(key) {
                    labels.insert(key.to_string(), v.to_string());
                    terms.push(crate::labels::SelectorRequirement {
                        key: key.to_string(),
                        operator: crate::labels::SelectorOperator::In,
                        values: vec![v.to_string()],
                    });
                }
            }
        }
        let mut name = format!("pvc-{namespace}-{claim}");
        while self.volume(&name).is_some() {
            self.provisioned += 1;
            name = format!("pvc-{namespace}-{claim}-{}", self.provisioned);
        }
        let volume = PersistentVolume {
            name: name.clone(),
            capacity,
            storage_class,
            node_affinity: (!terms.is_empty()).then(|| {
                vec![NodeSelectorTerm {
                    match_expressions: terms,
                    match_fields: Vec::new(),
                }]
            }),
            labels,
            claim_ref: None,
            access_modes,
            csi_driver,
        };
        self.volumes.push(volume);
        self.dynamic.push(name.clone());
        self.bind(namespace, claim, &name)?;
        Ok(name)
    }

    /// Binds every unbound claim whose class binds Immediately (or that names no known
    /// class) to its smallest matching volume, or provisions a volume without topology
    /// when its class exists and none matches. Claims are handled in the order added.
    pub fn bind_immediate_claims(&mut self) {
        for i in 0..self.claims.len() {
            let claim = &self.claims[i];
            if claim.bound_volume.is_some() {
                continue;
            }
            let class = self.class(&claim.storage_class);
            if class.is_some_and(|c| c.volume_binding_mode != VolumeBindingMode::Immediate) {
                continue;
            }
            let (ns, name) = (claim.namespace.clone(), claim.name.clone());
            if let Some(v) = self.find_matching_volume(claim, None) {
                let v = v.name.clone();
                self.bind(&ns, &name, &v).expect("the volume matches");
            } else if class.is_some() {
                self.provision(&ns, &name, None)
                    .expect("the claim is unbound");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{SelectorOperator, SelectorRequirement};

    fn zone_term(zone: &str) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: vec![SelectorRequirement {
                key: ZONE_LABEL.into(),
                operator: SelectorOperator::In,
                values: vec![zone.into()],
            }],
            match_fields: Vec::new(),
        }
    }

    fn state() -> VolumeState {
        let mut s = VolumeState::default();
        s.add_class(StorageClass {
            name: "fast".into(),
            volume_binding_mode: VolumeBindingMode::Immediate,
            ..Default::default()
        })
        .unwrap();
        for (name, cap, zone) in [("big", 100, "a"), ("small", 10, "b"), ("mid", 50, "a")] {
            s.add_volume(PersistentVolume {
                name: name.into(),
                capacity: cap,
                storage_class: "fast".into(),
                node_affinity: Some(vec![zone_term(zone)]),
                ..Default::default()
            })
            .unwrap();
        }
        s
    }

    fn claim(name: &str, request: i64) -> PersistentVolumeClaim {
        PersistentVolumeClaim {
            name: name.into(),
            namespace: "default".into(),
            storage_class: "fast".into(),
            request,
            ..Default::default()
        }
    }

    #[test]
    fn smallest_reachable_volume_matches() {
        let s = state();
        let c = claim("data", 5);
        assert_eq!(s.find_matching_volume(&c, None).unwrap().name, "small");
        let a = Labels::new([(ZONE_LABEL, "a")]);
        assert_eq!(
            s.find_matching_volume(&c, Some((&a, "n1"))).unwrap().name,
            "mid"
        );
        assert!(s.find_matching_volume(&claim("x", 101), None).is_none());
    }

    #[test]
    fn immediate_claims_bind_then_provision() {
        let mut s = state();
        s.add_claim(claim("one", 60)).unwrap();
        s.add_claim(claim("two", 60)).unwrap();
        s.bind_immediate_claims();
        assert_eq!(
            s.claim("default", "one").unwrap().bound_volume.as_deref(),
            Some("big")
        );
        let pv = s
            .claim("default", "two")
            .unwrap()
            .bound_volume
            .clone()
            .unwrap();
        assert_eq!(pv, "pvc-default-two");
        assert_eq!(s.volume(&pv).unwrap().node_affinity, None);
        assert_eq!(
            s.bind("default", "one", "mid"),
            Err(VolumeError::AlreadyBound(
                "persistentvolumeclaim \"one\"".into()
            ))
        );
    }

    /// As the PV controller's `checkAccessModes`: a volume offering a superset of the
    /// claim's modes matches, one missing any mode does not; a claim asking none takes
    /// any volume, and a provisioned volume offers what its claim asked for.
    #[test]
    fn a_volume_must_offer_every_mode_the_claim_asks_for() {
        use AccessMode::*;
        let mut s = state();
        let modes = |v: &mut VolumeState, name: &str, m: &[AccessMode]| {
            v.volumes
                .iter_mut()
                .find(|x| x.name == name)
                .unwrap()
                .access_modes = AccessModes::of(m);
        };
        modes(&mut s, "small", &[ReadWriteOnce]);
        modes(&mut s, "mid", &[ReadWriteOnce, ReadOnlyMany]);
        modes(&mut s, "big", &[ReadWriteMany]);
        let mut c = claim("data", 5);
        assert_eq!(s.find_matching_volume(&c, None).unwrap().name, "small");
        c.access_modes = AccessModes::of(&[ReadOnlyMany]);
        assert_eq!(s.find_matching_volume(&c, None).unwrap().name, "mid");
        c.access_modes = AccessModes::of(&[ReadWriteOnce, ReadWriteMany]);
        assert!(s.find_matching_volume(&c, None).is_none());
        c.access_modes = AccessModes::of(&[ReadWriteOncePod]);
        assert!(s.find_matching_volume(&c, None).is_none());
        s.add_claim(c).unwrap();
        assert_eq!(
            s.bind("default", "data", "small"),
            Err(VolumeError::Unsuitable("small".into()))
        );
        s.bind_immediate_claims();
        let pv = s
            .claim("default", "data")
            .unwrap()
            .bound_volume
            .clone()
            .unwrap();
        assert_eq!(pv, "pvc-default-data");
        assert_eq!(
            s.volume(&pv).unwrap().access_modes,
            AccessModes::of(&[ReadWriteOncePod])
        );
        assert_eq!(
            AccessMode::parse("ReadWriteOncePod"),
            Some(ReadWriteOncePod)
        );
        assert_eq!(AccessMode::parse("RWO"), None);
        assert_eq!(ReadOnlyMany.name(), "ReadOnlyMany");
    }

    /// The driver NodeVolumeLimits counts: the PV's, translated from an in-tree plugin;
    /// an unbound claim under its class's provisioner; nothing without either.
    #[test]
    fn claims_count_under_their_csi_driver() {
        let mut s = VolumeState::default();
        s.add_class(StorageClass {
            name: "ebs".into(),
            provisioner: "kubernetes.io/aws-ebs".into(),
            ..Default::default()
        })
        .unwrap();
        s.add_class(StorageClass {
            name: "none".into(),
            ..Default::default()
        })
        .unwrap();
        s.add_volume(PersistentVolume {
            name: "pv".into(),
            capacity: 1,
            csi_driver: "pd.csi.storage.gke.io".into(),
            ..Default::default()
        })
        .unwrap();
        let mut bound = claim("bound", 1);
        bound.bound_volume = Some("pv".into());
        let mut unbound = claim("unbound", 1);
        unbound.storage_class = "ebs".into();
        let mut plain = claim("plain", 1);
        plain.storage_class = "none".into();
        assert_eq!(
            s.csi_volume(&bound),
            Some(("pd.csi.storage.gke.io", VolumeHandle::Volume("pv")))
        );
        assert_eq!(
            s.csi_volume(&unbound),
            Some(("ebs.csi.aws.com", VolumeHandle::Claim("default", "unbound")))
        );
        assert_eq!(s.csi_volume(&plain), None);
        // Provisioned for the EBS class, the volume is attached by the EBS driver.
        s.add_claim(unbound).unwrap();
        let pv = s.provision("default", "unbound", None).unwrap();
        let claim = s.claim("default", "unbound").unwrap();
        assert_eq!(
            s.csi_volume(claim),
            Some(("ebs.csi.aws.com", VolumeHandle::Volume(&pv)))
        );
    }

    #[test]
    fn provisioning_pins_the_zone() {
        let mut s = state();
        s.add_claim(claim("data", 5)).unwrap();
        let node = Labels::new([(ZONE_LABEL, "c")]);
        let pv = s.provision("default", "data", Some(&node)).unwrap();
        let pv = s.volume(&pv).unwrap();
        assert_eq!(pv.labels.get(ZONE_LABEL), Some("c"));
        assert!(pv.reachable_from(&node, "n"));
        assert!(!pv.reachable_from(&Labels::new([(ZONE_LABEL, "a")]), "n"));
        assert_eq!(pv.claim_ref.as_deref(), Some("default/data"));
    }

    #[test]
    fn a_deleted_claim_deletes_its_provisioned_volume_and_releases_a_static_one() {
        let mut s = state();
        for name in ["a", "b"] {
            s.add_claim(PersistentVolumeClaim {
                name: name.into(),
                namespace: "ns".into(),
                storage_class: "fast".into(),
                request: 80,
                ..Default::default()
            })
            .unwrap();
        }
        // `a` takes `big` (static), `b` gets a provisioned volume.
        s.bind_immediate_claims();
        let bound = |s: &VolumeState, c: &str| s.claim("ns", c).unwrap().bound_volume.clone();
        assert_eq!(bound(&s, "a").as_deref(), Some("big"));
        assert_eq!(bound(&s, "b").as_deref(), Some("pvc-ns-b"));
        assert_eq!(s.remove_claim("ns", "b").unwrap().name, "b");
        assert!(s.volume("pvc-ns-b").is_none());
        assert!(s.remove_claim("ns", "b").is_none());
        s.remove_claim("ns", "a").unwrap();
        // Released: still claimed by the deleted claim, so a new claim of that name is
        // not bound to it.
        assert_eq!(s.volume("big").unwrap().claim_ref.as_deref(), Some("ns/a"));
        s.add_claim(PersistentVolumeClaim {
            name: "a".into(),
            namespace: "ns".into(),
            storage_class: "fast".into(),
            request: 80,
            ..Default::default()
        })
        .unwrap();
        s.bind_immediate_claims();
        assert_eq!(bound(&s, "a").as_deref(), Some("pvc-ns-a"));
    }
}
