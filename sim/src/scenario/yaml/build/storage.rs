//! Storage: `storageClasses:`, `persistentVolumes:`, `persistentVolumeClaims:` (a claim
//! naming its volume is bound to it), access modes, the claims a workload mounts and a
//! node's or pool's `csiAttachLimits`.

use schedulers::volumes::{
    AccessMode, AccessModes, PersistentVolume, PersistentVolumeClaim, StorageClass,
    VolumeBindingMode, VolumeError,
};
use schedulers::yaml::kube::RawVolume;
use schedulers::yaml::message::{did_you_mean, one_of, quoted};
use schedulers::yaml::names::dns_subdomain_error;
use schedulers::yaml::{NodeAffinityRules, QuantityMap};
use schedulers::{NodeSelectorTerm, ResourceKind, SelectorOperator, SelectorRequirement};
use serde_saphyr::Spanned;

use super::super::raw::{RawClaim, RawPersistentVolume, RawStorage, RawStorageClass};
use super::{Builder, Result};

impl Builder<'_> {
    /// `accessModes`: Kubernetes' four spellings, ReadWriteOncePod alone (as the API
    /// server validates a claim or a volume).
    pub(super) fn access_modes(
        &self,
        list: Option<&Spanned<Vec<Spanned<String>>>>,
        field: &str,
    ) -> Result<AccessModes> {
        let mut modes = AccessModes::NONE;
        let Some(list) = list else {
            return Ok(modes);
        };
        for (j, mode) in list.value.iter().enumerate() {
            let m =
                self.kube
                    .spelled::<AccessMode>(mode, &format!("{field}[{j}]"), "access mode")?;
            modes.insert(m);
        }
        if modes.contains(AccessMode::ReadWriteOncePod) && modes.iter().count() > 1 {
            return Err(self.kube.err(
                &list.referenced,
                field,
                "may not use ReadWriteOncePod with other access modes",
            ));
        }
        Ok(modes)
    }

    /// A node's or pool's `csiAttachLimits`: how many volumes each CSI driver may attach
    /// (its CSINode's `spec.drivers[].allocatable.count`), in file order.
    pub(super) fn csi_attach_limits(
        &self,
        map: Option<&QuantityMap>,
        base: &str,
    ) -> Result<Vec<(String, u32)>> {
        let mut out: Vec<(String, u32)> = Vec::new();
        for (driver, count) in map.iter().flat_map(|m| m.0.iter()) {
            let field =
                schedulers::field_path::key(&format!("{base}.csiAttachLimits"), &driver.value);
            if let Some(why) = dns_subdomain_error(&driver.value) {
                return Err(self.kube.err(
                    &driver.referenced,
                    &field,
                    format!("invalid CSI driver name {}: {why}", quoted(&driver.value)),
                ));
            }
            if out.iter().any(|(d, _)| *d == driver.value) {
                return Err(self.kube.err(
                    &driver.referenced,
                    &field,
                    format!("CSI driver {} is listed twice", quoted(&driver.value)),
                ));
            }
            out.push((driver.value.clone(), self.kube.count_u32(count, &field)?));
        }
        Ok(out)
    }

    /// A DNS subdomain name of a storage object (`what`: "storage class", ...).
    pub(super) fn storage_name(
        &self,
        v: &Spanned<String>,
        field: &str,
        what: &str,
    ) -> Result<String> {
        let name = self.kube.non_empty(v, field, &format!("a {what} name"))?;
        match dns_subdomain_error(&name) {
            None => Ok(name),
            Some(why) => Err(self.kube.err(
                &v.referenced,
                field,
                format!("invalid {what} name {}: {why}", quoted(&name)),
            )),
        }
    }

    /// A `storage` size.
    pub(super) fn storage(&self, v: &RawStorage, field: &str) -> Result<i64> {
        let bytes = self
            .kube
            .quantity(ResourceKind::EPHEMERAL_STORAGE, &v.storage, field)?;
        if bytes <= 0 {
            return Err(self.kube.err(
                &v.storage.referenced,
                field,
                format!("expected a positive size, got {}", v.storage.value.0),
            ));
        }
        Ok(bytes)
    }

    /// A claim's `storageClassName`: as [`Builder::storage_class_name`], but a claim that
    /// names none gets the default class, as upstream's DefaultStorageClass admission
    /// plugin gives it (`""` names no class: static binding only).
    pub(super) fn claim_class_name(
        &self,
        v: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<String> {
        match (v, &self.default_class) {
            (None, Some(class)) => Ok(class.clone()),
            _ => self.storage_class_name(v, field),
        }
    }

    /// Chooses the default StorageClass among the classes marked default (creation
    /// time, read from RFC 3339 so that offsets and fractions order by time, or none for
    /// the scenario's own; name): upstream's `GetDefaultClass`
    /// (pkg/volume/util/storageclass.go) takes the newest, ties by name. Returns a
    /// warning when several are marked.
    pub(super) fn choose_default_class(
        &mut self,
        marked: &[(Option<schedulers::yaml::timestamp::Instant>, String)],
    ) -> Option<String> {
        let chosen = marked
            .iter()
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))?;
        self.default_class = Some(chosen.1.clone());
        (marked.len() > 1).then(|| {
            let names: Vec<&str> = marked.iter().map(|(_, n)| n.as_str()).collect();
            format!(
                "storage classes {} are all marked default; claims without a class get {}, the newest (then first by name), as the DefaultStorageClass admission plugin picks",
                names.join(", "),
                quoted(&chosen.1)
            )
        })
    }

    /// A `storageClassName`, which must name a class of `storageClasses` (Kubernetes
    /// accepts a missing class, but in a scenario it can only be a typo).
    pub(super) fn storage_class_name(
        &self,
        v: Option<&Spanned<String>>,
        field: &str,
    ) -> Result<String> {
        let Some(v) = v else {
            return Ok(String::new());
        };
        if v.value.is_empty() || self.volumes.class(&v.value).is_some() {
            return Ok(v.value.clone());
        }
        let known: Vec<&str> = self
            .volumes
            .classes()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        Err(self.kube.err(
            &v.referenced,
            field,
            format!(
                "unknown storage class {}{}; storageClasses defines {}",
                quoted(&v.value),
                did_you_mean(&v.value, &known),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    one_of(&known)
                }
            ),
        ))
    }

    /// `storageClasses`; returns the names of those marked `default: true`.
    pub(super) fn storage_classes(
        &mut self,
        list: &[Spanned<RawStorageClass>],
    ) -> Result<Vec<String>> {
        let mut marked = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let base = format!("storageClasses[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let name = self.storage_name(&raw.name, &name_field, "storage class")?;
            if self.volumes.class(&name).is_some() {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate storage class {}", quoted(&name)),
                ));
            }
            let volume_binding_mode = match &raw.volume_binding_mode {
                None => VolumeBindingMode::Immediate,
                Some(v) => self.kube.spelled::<VolumeBindingMode>(
                    v,
                    &format!("{base}.volumeBindingMode"),
                    "volume binding mode",
                )?,
            };
            let mut allowed_topologies = Vec::new();
            for (t, term) in raw.allowed_topologies.iter().flatten().enumerate() {
                let tbase = format!("{base}.allowedTopologies[{t}].matchLabelExpressions");
                let exprs = &term.value.match_label_expressions;
                if exprs.value.is_empty() {
                    return Err(self.kube.err(
                        &exprs.referenced,
                        &tbase,
                        "expected at least one label expression",
                    ));
                }
                let mut out = NodeSelectorTerm::default();
                for (r, req) in exprs.value.iter().enumerate() {
                    let rbase = format!("{tbase}[{r}]");
                    let key = self
                        .kube
                        .label_key(&req.value.key, &format!("{rbase}.key"))?;
                    if req.value.values.value.is_empty() {
                        return Err(self.kube.err(
                            &req.value.values.referenced,
                            &format!("{rbase}.values"),
                            "expected at least one value",
                        ));
                    }
                    let mut values = Vec::new();
                    for (k, v) in req.value.values.value.iter().enumerate() {
                        values.push(self.kube.label_value(v, &format!("{rbase}.values[{k}]"))?);
                    }
                    out.match_expressions.push(SelectorRequirement {
                        key,
                        operator: SelectorOperator::In,
                        values,
                    });
                }
                allowed_topologies.push(out);
            }
            let provisioner = match &raw.provisioner {
                None => String::new(),
                Some(p) => self.kube.non_empty(
                    p,
                    &format!("{base}.provisioner"),
                    "a provisioner (CSI driver) name",
                )?,
            };
            if raw.default.as_ref().is_some_and(|d| d.value) {
                marked.push(name.clone());
            }
            self.volumes
                .add_class(StorageClass {
                    name,
                    provisioner,
                    volume_binding_mode,
                    allowed_topologies,
                })
                .expect("the name was checked to be new");
        }
        Ok(marked)
    }

    /// `persistentVolumes`.
    pub(super) fn persistent_volumes(
        &mut self,
        list: &[Spanned<RawPersistentVolume>],
    ) -> Result<()> {
        for (i, item) in list.iter().enumerate() {
            let base = format!("persistentVolumes[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let name = self.storage_name(&raw.name, &name_field, "persistent volume")?;
            if self.volumes.volume(&name).is_some() {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate persistent volume {}", quoted(&name)),
                ));
            }
            let labels = self
                .kube
                .labels(raw.labels.as_ref(), &format!("{base}.labels"))?;
            let capacity =
                self.storage(&raw.capacity.value, &format!("{base}.capacity.storage"))?;
            let storage_class = self.storage_class_name(
                raw.storage_class_name.as_ref(),
                &format!("{base}.storageClassName"),
            )?;
            let node_affinity = match &raw.node_affinity {
                None => None,
                Some(a) => Some(self.kube.node_selector(
                    &a.value.required,
                    &format!("{base}.nodeAffinity.required"),
                    NodeAffinityRules::Pod,
                )?),
            };
            let access_modes =
                self.access_modes(raw.access_modes.as_ref(), &format!("{base}.accessModes"))?;
            let csi_driver = match &raw.csi {
                None => String::new(),
                Some(csi) => self.kube.non_empty(
                    &csi.value.driver,
                    &format!("{base}.csi.driver"),
                    "a CSI driver name",
                )?,
            };
            self.volumes
                .add_volume(PersistentVolume {
                    name,
                    capacity,
                    storage_class,
                    node_affinity,
                    labels,
                    claim_ref: None,
                    access_modes,
                    csi_driver,
                })
                .expect("the name was checked to be new");
        }
        Ok(())
    }

    /// `persistentVolumeClaims`; a claim naming a `volumeName` is bound to it.
    pub(super) fn claims(&mut self, list: &[Spanned<RawClaim>]) -> Result<()> {
        for (i, item) in list.iter().enumerate() {
            let base = format!("persistentVolumeClaims[{i}]");
            let raw = &item.value;
            let name_field = format!("{base}.name");
            let name = self.storage_name(&raw.name, &name_field, "persistent volume claim")?;
            let namespace = match &raw.namespace {
                Some(ns) => self
                    .kube
                    .non_empty(ns, &format!("{base}.namespace"), "a namespace")?,
                None => "default".to_owned(),
            };
            if self.volumes.claim(&namespace, &name).is_some() {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!(
                        "duplicate persistent volume claim {} in namespace {}",
                        quoted(&name),
                        quoted(&namespace)
                    ),
                ));
            }
            let request = self.storage(
                &raw.resources.value.requests.value,
                &format!("{base}.resources.requests.storage"),
            )?;
            let storage_class = self.claim_class_name(
                raw.storage_class_name.as_ref(),
                &format!("{base}.storageClassName"),
            )?;
            let access_modes =
                self.access_modes(raw.access_modes.as_ref(), &format!("{base}.accessModes"))?;
            self.volumes
                .add_claim(PersistentVolumeClaim {
                    name: name.clone(),
                    namespace: namespace.clone(),
                    storage_class,
                    request,
                    bound_volume: None,
                    access_modes,
                })
                .expect("the name was checked to be new");
            if let Some(v) = &raw.volume_name {
                let field = format!("{base}.volumeName");
                if let Err(e) = self.volumes.bind(&namespace, &name, &v.value) {
                    let message = match e {
                        VolumeError::Unsuitable(_) => format!(
                            "persistent volume {} cannot hold this claim: it must have the claim's storage class, at least its requested size and every access mode it asks for",
                            quoted(&v.value)
                        ),
                        other => other.to_string(),
                    };
                    return Err(self.kube.err(&v.referenced, &field, message));
                }
            }
        }
        Ok(())
    }

    /// A workload's `volumes`: the names of the claims it mounts, each of which must exist
    /// in the workload's namespace.
    pub(super) fn pod_volumes(
        &self,
        list: &[Spanned<RawVolume>],
        namespace: &str,
        base: &str,
    ) -> Result<Vec<String>> {
        let mut claims = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for (i, v) in list.iter().enumerate() {
            let vbase = format!("{base}[{i}]");
            let name =
                self.kube
                    .non_empty(&v.value.name, &format!("{vbase}.name"), "a volume name")?;
            if names.contains(&name.as_str()) {
                return Err(self.kube.err(
                    &v.value.name.referenced,
                    &format!("{vbase}.name"),
                    format!("duplicate volume name {}", quoted(&name)),
                ));
            }
            names.push(&v.value.name.value);
            let Some(source) = &v.value.persistent_volume_claim else {
                return Err(self.kube.err(
                    &v.referenced,
                    &vbase,
                    "expected `persistentVolumeClaim: {claimName: ...}`: schedlab models no other volume sources",
                ));
            };
            let claim = &source.value.claim_name;
            let field = format!("{vbase}.persistentVolumeClaim.claimName");
            let claim_name = self.kube.non_empty(claim, &field, "a claim name")?;
            if self.volumes.claim(namespace, &claim_name).is_none() {
                let known: Vec<&str> = self
                    .volumes
                    .claims()
                    .iter()
                    .filter(|c| c.namespace == namespace)
                    .map(|c| c.name.as_str())
                    .collect();
                return Err(self.kube.err(
                    &claim.referenced,
                    &field,
                    format!(
                        "persistentVolumeClaims has no claim {} in namespace {}{}",
                        quoted(&claim_name),
                        quoted(namespace),
                        did_you_mean(&claim_name, &known)
                    ),
                ));
            }
            if !claims.contains(&claim_name) {
                claims.push(claim_name);
            }
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use schedulers::Labels;
    use schedulers::volumes::{PersistentVolume, PersistentVolumeClaim, StorageClass};

    use super::super::testing::{check_at, load};
    use super::*;

    const STORAGE: &str = "storageClasses:
  - name: fast
    volumeBindingMode: WaitForFirstConsumer
    allowedTopologies: [{matchLabelExpressions: [{key: zone, values: [a, b]}]}]
  - {name: slow, provisioner: x}
persistentVolumes:
  - name: pv
    labels: {kind: ssd}
    capacity: {storage: 10Gi}
    storageClassName: slow
    accessModes: [ReadWriteOnce, ReadOnlyMany]
    csi: {driver: ebs.csi.aws.com, volumeHandle: vol-0a1}
    nodeAffinity:
      required:
        nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [n0]}]}]
persistentVolumeClaims:
  - {name: data, storageClassName: slow, resources: {requests: {storage: 5Gi}}, volumeName: pv, accessModes: [ReadWriteOnce]}
  - {name: scratch, namespace: ml, storageClassName: fast, resources: {requests: {storage: 1Gi}}}
";

    fn requirement(key: &str, values: &[&str]) -> SelectorRequirement {
        SelectorRequirement {
            key: key.into(),
            operator: SelectorOperator::In,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    #[test]
    fn classes_volumes_and_claims_are_read_and_bound() {
        let s = load(STORAGE);
        assert_eq!(
            s.volumes.classes(),
            [
                StorageClass {
                    name: "fast".into(),
                    volume_binding_mode: VolumeBindingMode::WaitForFirstConsumer,
                    allowed_topologies: vec![NodeSelectorTerm {
                        match_expressions: vec![requirement("zone", &["a", "b"])],
                        match_fields: vec![],
                    }],
                    provisioner: String::new(),
                },
                StorageClass {
                    name: "slow".into(),
                    volume_binding_mode: VolumeBindingMode::Immediate,
                    allowed_topologies: vec![],
                    provisioner: "x".into(),
                },
            ]
        );
        let mut labels = Labels::default();
        labels.insert("kind".into(), "ssd".into());
        assert_eq!(
            s.volumes.volume("pv"),
            Some(&PersistentVolume {
                name: "pv".into(),
                capacity: 10 << 30,
                storage_class: "slow".into(),
                node_affinity: Some(vec![NodeSelectorTerm {
                    match_expressions: vec![requirement("kubernetes.io/hostname", &["n0"])],
                    match_fields: vec![],
                }]),
                labels,
                claim_ref: Some("default/data".into()),
                access_modes: AccessModes::of(&[
                    AccessMode::ReadWriteOnce,
                    AccessMode::ReadOnlyMany
                ]),
                csi_driver: "ebs.csi.aws.com".into(),
            })
        );
        assert_eq!(
            s.volumes.claim("ml", "scratch"),
            Some(&PersistentVolumeClaim {
                name: "scratch".into(),
                namespace: "ml".into(),
                storage_class: "fast".into(),
                request: 1 << 30,
                bound_volume: None,
                access_modes: AccessModes::NONE,
            })
        );
        assert_eq!(
            s.volumes.claim("default", "data").map(|c| c.access_modes),
            Some(AccessModes::of(&[AccessMode::ReadWriteOnce]))
        );
        assert_eq!(
            s.volumes
                .claim("default", "data")
                .and_then(|c| c.bound_volume.as_deref()),
            Some("pv")
        );
    }

    #[test]
    fn a_default_class_is_given_to_claims_that_name_none() {
        let s = load(
            "storageClasses:
  - {name: slow}
  - {name: fast, default: true}
persistentVolumeClaims:
  - {name: a, resources: {requests: {storage: 1Gi}}}
  - {name: b, storageClassName: slow, resources: {requests: {storage: 1Gi}}}
  - {name: c, storageClassName: '', resources: {requests: {storage: 1Gi}}}
workloads:
  - statefulSet: db
    replicas: 1
    volumeClaimTemplates: [{metadata: {name: d}, spec: {resources: {requests: {storage: 1Gi}}}}]
",
        );
        let classes: Vec<(&str, &str)> = s
            .volumes
            .claims()
            .iter()
            .map(|c| (c.name.as_str(), c.storage_class.as_str()))
            .collect();
        assert_eq!(
            classes,
            [("a", "fast"), ("b", "slow"), ("c", ""), ("d-db-0", "fast")]
        );
        // Several defaults: without timestamps, the first by name.
        let s = load(
            "storageClasses:
  - {name: zeta, default: true}
  - {name: alpha, default: true}
persistentVolumeClaims:
  - {name: a, resources: {requests: {storage: 1Gi}}}
",
        );
        assert_eq!(s.volumes.claims()[0].storage_class, "alpha");
        assert_eq!(s.manifest_warnings.len(), 1, "{:?}", s.manifest_warnings);
    }

    #[test]
    fn workloads_mount_claims_of_their_namespace() {
        let s = load(&format!(
            "{STORAGE}workloads:\n  - pod: p\n    namespace: ml\n    volumes: [{{name: a, persistentVolumeClaim: {{claimName: scratch}}}}, {{name: b, persistentVolumeClaim: {{claimName: scratch}}}}]\n"
        ));
        assert_eq!(
            s.workloads[0].template.volume_claims,
            ["scratch"],
            "once each"
        );
        check_at(
            &format!(
                "{STORAGE}workloads: [{{pod: p, volumes: [{{name: a, persistentVolumeClaim: {{claimName: scratch}}}}]}}]\n"
            ),
            "scratch}",
            "workloads[0].volumes[0].persistentVolumeClaim.claimName",
            "persistentVolumeClaims has no claim \"scratch\" in namespace \"default\"",
        );
        check_at(
            "workloads: [{pod: p, volumes: [{name: a}]}]\n",
            "{name",
            "workloads[0].volumes[0]",
            "expected `persistentVolumeClaim: {claimName: ...}`: schedlab models no other volume sources",
        );
    }

    #[test]
    fn storage_errors_are_located() {
        check_at(
            "storageClasses: [{name: a, volumeBindingMode: Later}]\n",
            "Later",
            "storageClasses[0].volumeBindingMode",
            "unknown volume binding mode \"Later\"; expected Immediate or WaitForFirstConsumer",
        );
        check_at(
            "storageClasses: [{name: fast}]\npersistentVolumes: [{name: v, capacity: {storage: 1Gi}, storageClassName: slow}]\n",
            "slow",
            "persistentVolumes[0].storageClassName",
            "unknown storage class \"slow\"; storageClasses defines fast",
        );
        check_at(
            "persistentVolumes: [{name: v, capacity: {storage: 0}}]\n",
            "0}",
            "persistentVolumes[0].capacity.storage",
            "expected a positive size, got 0",
        );
        check_at(
            "persistentVolumes: [{name: v, capacity: {storage: 1Gi}, nodeAffinity: {required: {}}}]\n",
            "{}}",
            "persistentVolumes[0].nodeAffinity.required.nodeSelectorTerms",
            "missing required field `nodeSelectorTerms`",
        );
        check_at(
            "persistentVolumes: [{name: v, capacity: {storage: 1Gi}}]\npersistentVolumeClaims: [{name: c, resources: {requests: {storage: 2Gi}}, volumeName: v}]\n",
            "v}]\n",
            "persistentVolumeClaims[0].volumeName",
            "persistent volume \"v\" cannot hold this claim: it must have the claim's storage class, at least its requested size and every access mode it asks for",
        );
        check_at(
            "persistentVolumes: [{name: v, capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce]}]\npersistentVolumeClaims: [{name: c, resources: {requests: {storage: 1Gi}}, volumeName: v, accessModes: [ReadWriteMany]}]\n",
            "v, access",
            "persistentVolumeClaims[0].volumeName",
            "persistent volume \"v\" cannot hold this claim: it must have the claim's storage class, at least its requested size and every access mode it asks for",
        );
        check_at(
            "persistentVolumeClaims: [{name: c, resources: {requests: {storage: 1Gi}}, accessModes: [ReadWriteOnce, ReadWriteOncePod]}]\n",
            "[ReadWriteOnce, ",
            "persistentVolumeClaims[0].accessModes",
            "may not use ReadWriteOncePod with other access modes",
        );
        check_at(
            "persistentVolumes: [{name: v, capacity: {storage: 1Gi}, accessModes: [ReadWriteOncePods]}]\n",
            "ReadWriteOncePods",
            "persistentVolumes[0].accessModes[0]",
            "unknown access mode \"ReadWriteOncePods\" (did you mean ReadWriteOncePod?); expected ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod",
        );
        check_at(
            "cluster: {nodes: [{name: n, csiAttachLimits: {ebs.csi.aws.com: -1}}]}\n",
            "-1",
            "cluster.nodes[0].csiAttachLimits[\"ebs.csi.aws.com\"]",
            "expected a non-negative integer, got -1",
        );
        check_at(
            "cluster: {nodePools: [{name: p, count: 1, csiAttachLimits: {EBS: 2}}]}\n",
            "EBS",
            "cluster.nodePools[0].csiAttachLimits.EBS",
            "invalid CSI driver name \"EBS\": it must consist of lowercase letters, digits, `-` and `.`, with a letter or digit at the start, the end and on both sides of each `.`",
        );
        check_at(
            "persistentVolumeClaims: [{name: Data, resources: {requests: {storage: 1Gi}}}]\n",
            "Data",
            "persistentVolumeClaims[0].name",
            "invalid persistent volume claim name \"Data\": it must consist of lowercase letters, digits, `-` and `.`, with a letter or digit at the start, the end and on both sides of each `.`",
        );
    }
}
