//! StorageClass (storage.k8s.io/v1), PersistentVolume and PersistentVolumeClaim (v1) from
//! manifests, built by the same code as `storageClasses:`, `persistentVolumes:` and
//! `persistentVolumeClaims:` (see `build::storage`), so the PV controller's binding
//! (`pkg/controller/volume/persistentvolume/pv_controller.go`) and the scheduler's
//! VolumeBinding plugin see them exactly as a scenario's own.
//!
//! A class annotated `storageclass.kubernetes.io/is-default-class: "true"` (or the beta
//! annotation) is the default: every claim that names no `storageClassName` (manifest and
//! scenario claims, StatefulSet claim templates) gets it, as from upstream's
//! DefaultStorageClass admission plugin (plugin/pkg/admission/storage/storageclass/
//! setdefault); with several, the newest by `creationTimestamp` wins, ties by name, as
//! upstream's `GetDefaultClass`. `storageClassName: ""` names no class.
//!
//! Simplified: a volume's `claimRef` to a claim that is in neither the manifests nor the scenario
//! does not reserve the volume (a warning says so); `parameters`, `reclaimPolicy` and the
//! volume source (`local`, `hostPath`, ...) are accepted and have no effect, since
//! volumes are never released and `nodeAffinity` says where a volume can be reached.

use schedulers::yaml::kube::{RawObjectMeta, RawTopologySelectorTerm, RawVolumeNodeAffinity};
use schedulers::yaml::message::quoted;
use schedulers::yaml::timestamp::{self, Instant};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::super::super::raw::{
    RawClaim, RawClaimResources, RawCsiSource, RawPersistentVolume, RawStorage, RawStorageClass,
};
use super::super::{Builder, Result};
use super::{ManifestFile, Manifests, Modelled, Parsed, at, name_of, respell};

/// The annotations that make a StorageClass the default (GA and beta).
const DEFAULT_CLASS_ANNOTATIONS: [&str; 2] = [
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
];

/// A StorageClass's `metadata.creationTimestamp`, which picks among several defaults.
#[derive(Debug, Deserialize)]
struct Stamped {
    metadata: Option<StampedMeta>,
}

/// The timestamp of [`Stamped`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StampedMeta {
    creation_timestamp: Option<Spanned<String>>,
}

/// A StorageClass: its fields sit at the top level, beside `metadata`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StorageClassObject {
    metadata: Option<RawObjectMeta>,
    provisioner: Option<Spanned<String>>,
    volume_binding_mode: Option<Spanned<String>>,
    allowed_topologies: Option<Vec<Spanned<RawTopologySelectorTerm>>>,
}

/// A PersistentVolume.
#[derive(Debug, Deserialize)]
struct VolumeObject {
    metadata: Option<RawObjectMeta>,
    spec: Option<VolumeSpec>,
}

/// A PersistentVolume's spec, the fields that matter to scheduling.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VolumeSpec {
    capacity: Option<Spanned<RawStorage>>,
    storage_class_name: Option<Spanned<String>>,
    node_affinity: Option<Spanned<RawVolumeNodeAffinity>>,
    access_modes: Option<Spanned<Vec<Spanned<String>>>>,
    csi: Option<Spanned<CsiObject>>,
    claim_ref: Option<Spanned<ClaimRef>>,
}

/// A PersistentVolume's `csi:` source: only the driver is read (`fsType`,
/// `volumeAttributes`, ... describe the data).
#[derive(Debug, Deserialize)]
struct CsiObject {
    driver: Spanned<String>,
}

/// A PersistentVolume's `claimRef`: the claim it is reserved for.
#[derive(Debug, Deserialize)]
struct ClaimRef {
    name: Option<Spanned<String>>,
    namespace: Option<Spanned<String>>,
}

/// A PersistentVolumeClaim.
#[derive(Debug, Deserialize)]
struct ClaimObject {
    metadata: Option<RawObjectMeta>,
    spec: Option<ClaimSpec>,
}

/// A PersistentVolumeClaim's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimSpec {
    access_modes: Option<Spanned<Vec<Spanned<String>>>>,
    resources: Option<Spanned<ClaimResources>>,
    storage_class_name: Option<Spanned<String>>,
    volume_name: Option<Spanned<String>>,
}

/// A claim's `resources` (`limits` has no effect on binding).
#[derive(Debug, Deserialize)]
struct ClaimResources {
    requests: Option<Spanned<RawStorage>>,
}

impl<'f> Builder<'f> {
    /// Builds the manifests' StorageClasses, after the scenario's `storageClasses:`;
    /// returns (creation timestamp, name) of those annotated as the default.
    pub(in super::super) fn manifest_storage_classes(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
    ) -> Result<Vec<(Option<Instant>, String)>> {
        let mut marked = Vec::new();
        for parsed in m.of_kind(files, Modelled::StorageClass) {
            let Parsed { file, kube, o, raw }: Parsed<'_, '_, StorageClassObject> = parsed?;
            let default = raw
                .metadata
                .as_ref()
                .and_then(|m| m.annotations.as_ref())
                .is_some_and(|a| {
                    a.0.iter().any(|(k, v)| {
                        DEFAULT_CLASS_ANNOTATIONS.contains(&k.value.as_str()) && v.value == "true"
                    })
                });
            if default {
                let stamped: Stamped = super::parse(o, file)?;
                let stamp = match stamped.metadata.and_then(|m| m.creation_timestamp) {
                    None => None,
                    Some(t) => Some(timestamp::parse(&t.value).ok_or_else(|| {
                        kube.err(
                            &t.referenced,
                            "metadata.creationTimestamp",
                            format!(
                                "StorageClass {}: expected an RFC 3339 time (2024-05-01T12:00:00Z, 2024-05-01T14:00:00.5+02:00), got {}",
                                quoted(&o.name),
                                quoted(&t.value)
                            ),
                        )
                    })?),
                };
                marked.push((stamp, o.name.clone()));
            }
            let item = at(
                RawStorageClass {
                    name: name_of(&kube, &raw.metadata, o)?,
                    provisioner: raw.provisioner,
                    volume_binding_mode: raw.volume_binding_mode,
                    allowed_topologies: raw.allowed_topologies,
                    // Read above, with its creation timestamp.
                    default: None,
                },
                &o.at,
            );
            let fix = |f: &str| {
                respell(f, "storageClasses[0]", &|h| {
                    Some(if h == "name" { "metadata" } else { "" })
                })
            };
            self.in_manifest(&file.shown, &fix, |b| {
                b.storage_classes(std::slice::from_ref(&item))
            })?;
        }
        Ok(marked)
    }

    /// Builds the manifests' PersistentVolumes, after the scenario's
    /// `persistentVolumes:` (their `claimRef`s are bound by
    /// [`Builder::manifest_claims`], once the claims exist).
    pub(in super::super) fn manifest_volumes(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
    ) -> Result<()> {
        for parsed in m.of_kind(files, Modelled::PersistentVolume) {
            let Parsed { file, kube, o, raw }: Parsed<'_, '_, VolumeObject> = parsed?;
            let name = name_of(&kube, &raw.metadata, o)?;
            let spec = raw.spec.unwrap_or_default();
            let Some(capacity) = spec.capacity else {
                return Err(kube.err(
                    &o.at,
                    "spec.capacity.storage",
                    format!(
                        "PersistentVolume {}: expected `spec.capacity.storage` (its size)",
                        quoted(&name.value)
                    ),
                ));
            };
            let item = at(
                RawPersistentVolume {
                    name,
                    labels: raw.metadata.and_then(|m| m.labels),
                    capacity,
                    storage_class_name: spec.storage_class_name,
                    node_affinity: spec.node_affinity,
                    access_modes: spec.access_modes,
                    csi: spec.csi.map(|c| {
                        let Spanned {
                            value,
                            referenced,
                            defined,
                        } = c;
                        Spanned::new(
                            RawCsiSource {
                                driver: value.driver,
                                volume_handle: None,
                            },
                            referenced,
                            defined,
                        )
                    }),
                },
                &o.at,
            );
            let fix = |f: &str| {
                respell(f, "persistentVolumes[0]", &|h| {
                    Some(if matches!(h, "name" | "labels") {
                        "metadata"
                    } else {
                        "spec"
                    })
                })
            };
            self.in_manifest(&file.shown, &fix, |b| {
                b.persistent_volumes(std::slice::from_ref(&item))
            })?;
        }
        Ok(())
    }

    /// Builds the manifests' PersistentVolumeClaims, after the scenario's
    /// `persistentVolumeClaims:`, then binds every manifest volume whose `claimRef` names
    /// a claim. Returns the warnings about `claimRef`s to claims that do not exist.
    pub(in super::super) fn manifest_claims(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
    ) -> Result<Vec<String>> {
        for parsed in m.of_kind(files, Modelled::PersistentVolumeClaim) {
            let Parsed { file, kube, o, raw }: Parsed<'_, '_, ClaimObject> = parsed?;
            let name = name_of(&kube, &raw.metadata, o)?;
            let spec = raw.spec.unwrap_or_default();
            let Some(requests) = spec.resources.and_then(|r| r.value.requests) else {
                return Err(kube.err(
                    &o.at,
                    "spec.resources.requests.storage",
                    format!(
                        "PersistentVolumeClaim {}: expected `spec.resources.requests.storage` (the size it asks for)",
                        quoted(&name.value)
                    ),
                ));
            };
            let item = at(
                RawClaim {
                    name,
                    namespace: raw.metadata.and_then(|m| m.namespace),
                    storage_class_name: spec.storage_class_name,
                    resources: at(RawClaimResources { requests }, &o.at),
                    volume_name: spec.volume_name,
                    access_modes: spec.access_modes,
                },
                &o.at,
            );
            let fix = |f: &str| {
                respell(f, "persistentVolumeClaims[0]", &|h| {
                    Some(if matches!(h, "name" | "namespace") {
                        "metadata"
                    } else {
                        "spec"
                    })
                })
            };
            self.in_manifest(&file.shown, &fix, |b| b.claims(std::slice::from_ref(&item)))?;
        }
        let mut warnings = Vec::new();
        for parsed in m.of_kind(files, Modelled::PersistentVolume) {
            let Parsed { file, kube, o, raw }: Parsed<'_, '_, VolumeObject> = parsed?;
            let Some(claim_ref) = raw.spec.and_then(|s| s.claim_ref) else {
                continue;
            };
            let volume = o.name.as_str();
            let Some(claim) = &claim_ref.value.name else {
                return Err(kube.err(
                    &claim_ref.referenced,
                    "spec.claimRef.name",
                    "a claimRef needs the claim's `name`",
                ));
            };
            let namespace = claim_ref
                .value
                .namespace
                .as_ref()
                .map_or("default", |n| n.value.as_str());
            match self.volumes.claim(namespace, &claim.value) {
                None => warnings.push(format!(
                    "{}:{}:{}: {} (PersistentVolume {volume}): spec.claimRef: no claim {} in namespace {}, so the volume is not reserved and any matching claim may bind it",
                    file.shown,
                    claim.referenced.line(),
                    claim.referenced.column(),
                    o.doc,
                    quoted(&claim.value),
                    quoted(namespace),
                )),
                // The claim's `volumeName` bound them already.
                Some(c) if c.bound_volume.as_deref() == Some(volume) => {}
                Some(_) => {
                    let namespace = namespace.to_owned();
                    if let Err(e) = self.volumes.bind(&namespace, &claim.value, volume) {
                        let message = match e {
                            schedulers::volumes::VolumeError::Unsuitable(_) => format!(
                                "persistent volume {} cannot hold claim {}: it must have the claim's storage class, at least its requested size and every access mode it asks for",
                                quoted(volume),
                                quoted(&claim.value)
                            ),
                            other => other.to_string(),
                        };
                        return Err(kube.err(&claim.referenced, "spec.claimRef.name", message));
                    }
                }
            }
        }
        Ok(warnings)
    }
}
