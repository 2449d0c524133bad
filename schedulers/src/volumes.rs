//! Persistent storage as the volume plugins see it: StorageClasses, PersistentVolumes and
//! PersistentVolumeClaims.
//!
//! Simplifications: volumes have one access mode in effect (a PV binds to at most one
//! claim and a bound claim's pods may share it on any node its affinity allows), capacity
//! is a single byte count, there are no volume modes, reclaim policies, selectors on
//! claims or CSI drivers; a provisioner always succeeds and creates a PV exactly the size
//! of the claim.

use crate::labels::{Labels, NodeSelectorTerm};

/// The zone label of nodes and volumes.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
/// The region label of nodes and volumes.
pub const REGION_LABEL: &str = "topology.kubernetes.io/region";

/// A StorageClass's `volumeBindingMode`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum VolumeBindingMode {
    /// Claims are bound (or provisioned) as soon as they exist (the Kubernetes default).
    #[default]
    Immediate,
    /// Claims are bound when the first pod using them is scheduled, in that pod's node's
    /// topology.
    WaitForFirstConsumer,
}

impl VolumeBindingMode {
    /// Parses Kubernetes' spelling.
    pub fn parse(s: &str) -> Option<VolumeBindingMode> {
        match s {
            "Immediate" => Some(VolumeBindingMode::Immediate),
            "WaitForFirstConsumer" => Some(VolumeBindingMode::WaitForFirstConsumer),
            _ => None,
        }
    }
}

/// A StorageClass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageClass {
    /// Its name.
    pub name: String,
    /// When its claims are bound.
    pub volume_binding_mode: VolumeBindingMode,
    /// `allowedTopologies`: where dynamically provisioned volumes may live (ORed terms);
    /// empty means anywhere.
    pub allowed_topologies: Vec<NodeSelectorTerm>,
}

impl StorageClass {
    /// True when a volume of this class may be provisioned for a node with these labels.
    pub fn allows(&self, labels: &Labels, node_name: &str) -> bool {
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

    /// True when `volume` is available (unbound), of the claim's class and large enough.
    pub fn satisfies(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
        volume.claim_ref.is_none()
            && volume.storage_class == claim.storage_class
            && volume.capacity >= claim.request
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
        let (capacity, storage_class) = (c.request, c.storage_class.clone());
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
        };
        self.volumes.push(volume);
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
            allowed_topologies: Vec::new(),
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
            bound_volume: None,
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
}
