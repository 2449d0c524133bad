//! `manifests:`: plain Kubernetes YAML (multi-document files and `kind: List`) read into
//! the same model the scenario's own sections build.
//!
//! Each object is turned into the scenario's raw struct of its kind (a Deployment into the
//! [`RawWorkload`] a `deployment:` entry parses to, a Node into a [`RawNode`], ...) and
//! built by the same `Builder` methods, so requests, affinity, tolerations and the
//! effective pod requests are computed exactly as for a scenario's workloads. While an
//! object is built, the builder's reader names the manifest file, and the field paths of
//! its errors are respelt in the manifest's shape (`spec.template.spec.containers[0]
//! .resources.requests.cpu`).
//!
//! Reading is in two passes per file: every document (and every `items` entry of a
//! `kind: List`) is first read for its `kind` only; the objects of a modelled kind are
//! then read again from their own text alone, with the file's lines and columns
//! ([`Fragment`]), so that a List of thousands of objects is read in linear time. Keys that a modelled kind has but schedlab does not
//! model get one warning each ([`SILENT`] lists the ones accepted quietly); objects of
//! other kinds are counted in one summary line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schedulers::yaml::kube::{
    RawContainer, RawControllerObject, RawLabelSelector, RawNodeObject, RawObjectMeta,
    RawPodObject, RawPodSpec, RawVolume,
};
use schedulers::yaml::{Entries, Fragment, LabelMap, Reader, Scalar, Schema, YamlError};
use schedulers::yaml::{parse_options, translate};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::super::raw::{
    RawClaimTemplate, RawCluster, RawContainer as ScenarioContainer, RawNode, RawPdb,
    RawPriorityClass, RawWorkload, ScalarOrDist,
};
use super::admission::{RawLimitRangeSpec, RawQuotaSpec};
use super::workloads::Kind;
use super::{Builder, Result};
use crate::observe::JobFailureReason;
use crate::scenario::{Workload, WorkloadKind};
use crate::time::SimTime;
use schedulers::pdb::PodDisruptionBudget;
use schedulers::yaml::timestamp::{self, Instant};
use schedulers::{NodeSpec, PodTemplate};
use std::sync::Arc;

mod cron_jobs;
pub(super) use cron_jobs::{adopt as adopt_cron_jobs, lay_out as lay_out_cron_jobs};
mod hpa;
mod volumes;

/// A manifest file, read before the builder exists (the builder's reader borrows its name).
pub(super) struct ManifestFile {
    /// The path as messages show it.
    pub(super) shown: String,
    /// The file's text.
    pub(super) text: String,
}

/// Reads the files and directories `manifests:` names (relative to the scenario's
/// directory) and `extra` (as given); a directory's `*.yaml`/`*.yml` files are read in
/// path order.
pub(super) fn read_files(
    kube: &Reader<'_>,
    listed: Option<&Spanned<Vec<Spanned<String>>>>,
    extra: &[PathBuf],
) -> Result<Vec<ManifestFile>> {
    let dir = Path::new(kube.file()).parent().unwrap_or(Path::new(""));
    let mut paths: Vec<(PathBuf, Option<(Location, String)>)> = Vec::new();
    for (i, p) in listed
        .map(|l| l.value.as_slice())
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        paths.push((
            dir.join(&p.value),
            Some((p.referenced, format!("manifests[{i}]"))),
        ));
    }
    paths.extend(extra.iter().map(|p| (p.clone(), None)));
    let mut out = Vec::new();
    for (path, at) in paths {
        let missing = |what: String| match &at {
            Some((loc, field)) => kube.err(
                loc,
                field,
                format!("{what} (the path is relative to the scenario's directory)"),
            ),
            None => YamlError::file(&path.display().to_string(), what),
        };
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| missing(format!("cannot read the directory {}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|e| {
                            e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml")
                        })
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(missing(format!(
                    "no *.yaml or *.yml manifest in the directory {}",
                    path.display()
                )));
            }
            files
        } else if path.is_file() {
            vec![path.clone()]
        } else {
            return Err(missing(format!(
                "no manifest file or directory at {}",
                path.display()
            )));
        };
        for f in files {
            let shown = f.display().to_string();
            let text = std::fs::read_to_string(&f).map_err(|e| {
                YamlError::file(&shown, format!("cannot read the manifest file: {e}"))
            })?;
            out.push(ManifestFile { shown, text });
        }
    }
    Ok(out)
}

/// What the locator says a manifest document is.
struct ManifestSchema;

impl Schema for ManifestSchema {
    fn document(&self) -> &str {
        "a Kubernetes manifest"
    }
}

/// The first pass: an object's `apiVersion`, `kind`, identity, the node a pod is bound
/// to, and a List's items; every other key is skipped.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    api_version: Option<Spanned<Scalar>>,
    kind: Option<Spanned<Scalar>>,
    metadata: Option<HeaderMeta>,
    spec: Option<HeaderSpec>,
    status: Option<HeaderStatus>,
    items: Option<Vec<Spanned<Header>>>,
}

/// The name, namespace, owners and creation time in a header's `metadata`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeaderMeta {
    name: Option<Scalar>,
    namespace: Option<Scalar>,
    owner_references: Option<Vec<HeaderOwner>>,
    creation_timestamp: Option<Spanned<Scalar>>,
}

/// One of `metadata.ownerReferences`.
#[derive(Debug, Deserialize)]
struct HeaderOwner {
    kind: Option<Scalar>,
    name: Option<Scalar>,
    controller: Option<Scalar>,
}

/// A pod's `spec.nodeName` (what a snapshot's bound pod has), and a StatefulSet's
/// `spec.replicas` (which of its pods' ordinals it keeps).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeaderSpec {
    node_name: Option<Scalar>,
    replicas: Option<Scalar>,
}

/// A pod's `status.phase` (a snapshot lists finished pods too), a Job's
/// `status.succeeded` and `status.failed` (its completions and failures so far), a pod's
/// or Job's `status.startTime`, and the times of any object's `status.conditions` (read
/// for the snapshot's "now").
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeaderStatus {
    phase: Option<Scalar>,
    succeeded: Option<Scalar>,
    failed: Option<Scalar>,
    start_time: Option<Spanned<Scalar>>,
    conditions: Option<Vec<HeaderCondition>>,
}

/// One of `status.conditions`: its `lastTransitionTime` (for the snapshot's "now"), and
/// its `type`, `status` and `reason` (a Job's `Failed` condition).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeaderCondition {
    last_transition_time: Option<Spanned<Scalar>>,
    #[serde(rename = "type")]
    kind: Option<Scalar>,
    status: Option<Scalar>,
    reason: Option<Scalar>,
}

/// A PriorityClass.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PriorityClassObject {
    metadata: Option<RawObjectMeta>,
    value: Option<Spanned<Scalar>>,
    preemption_policy: Option<Spanned<String>>,
    global_default: Option<Spanned<bool>>,
    description: Option<String>,
}

/// A PodDisruptionBudget's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PdbSpec {
    selector: Option<Spanned<RawLabelSelector>>,
    min_available: Option<Spanned<Scalar>>,
    max_unavailable: Option<Spanned<Scalar>>,
}

/// A PodDisruptionBudget.
#[derive(Debug, Deserialize)]
struct PdbObject {
    metadata: Option<RawObjectMeta>,
    spec: Option<PdbSpec>,
}

/// A Namespace, a LimitRange or a ResourceQuota: its metadata and its spec.
#[derive(Debug, Deserialize)]
struct AdmissionObject<S> {
    metadata: Option<RawObjectMeta>,
    spec: Option<S>,
}

/// The kinds that are modelled, and the scenario section each becomes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Modelled {
    Workload(Kind),
    PriorityClass,
    Pdb,
    Node,
    Namespace,
    LimitRange,
    ResourceQuota,
    StorageClass,
    PersistentVolume,
    PersistentVolumeClaim,
    HorizontalPodAutoscaler,
    CronJob,
}

/// The kind named `kind`, if schedlab models it.
fn modelled(kind: &str) -> Option<Modelled> {
    Some(match kind {
        "Deployment" | "ReplicaSet" => Modelled::Workload(Kind::Deployment),
        "StatefulSet" => Modelled::Workload(Kind::StatefulSet),
        "DaemonSet" => Modelled::Workload(Kind::DaemonSet),
        "Job" => Modelled::Workload(Kind::Job),
        "Pod" => Modelled::Workload(Kind::Pod),
        "PriorityClass" => Modelled::PriorityClass,
        "PodDisruptionBudget" => Modelled::Pdb,
        "Node" => Modelled::Node,
        "Namespace" => Modelled::Namespace,
        "LimitRange" => Modelled::LimitRange,
        "ResourceQuota" => Modelled::ResourceQuota,
        "StorageClass" => Modelled::StorageClass,
        "PersistentVolume" => Modelled::PersistentVolume,
        "PersistentVolumeClaim" => Modelled::PersistentVolumeClaim,
        "HorizontalPodAutoscaler" => Modelled::HorizontalPodAutoscaler,
        "CronJob" => Modelled::CronJob,
        _ => return None,
    })
}

/// Keys of a modelled kind accepted without a warning although schedlab does not use them
/// (they do not affect scheduling), by the path of the mapping that holds them (`[]` for
/// any index; `POD` for a pod spec wherever it sits, `CONTAINER` for a container).
const SILENT: &[(&str, &[&str])] = &[
    ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
    (
        "metadata",
        &[
            "name",
            "namespace",
            "labels",
            "annotations",
            "generateName",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "ownerReferences",
            "finalizers",
            "managedFields",
        ],
    ),
    (
        "spec",
        &[
            "replicas",
            "selector",
            "template",
            "strategy",
            "minReadySeconds",
            "revisionHistoryLimit",
            "progressDeadlineSeconds",
            "paused",
            "serviceName",
            "podManagementPolicy",
            "updateStrategy",
            "volumeClaimTemplates",
            "persistentVolumeClaimRetentionPolicy",
            "completions",
            "parallelism",
            "backoffLimit",
            "activeDeadlineSeconds",
            "ttlSecondsAfterFinished",
            "completionMode",
            "manualSelector",
        ],
    ),
    ("spec.template", &["metadata", "spec"]),
    (
        "spec.template.metadata",
        &["labels", "annotations", "name", "namespace"],
    ),
    (
        "POD",
        &[
            "containers",
            "initContainers",
            "overhead",
            "nodeSelector",
            "tolerations",
            "affinity",
            "topologySpreadConstraints",
            "nodeName",
            "volumes",
            "priorityClassName",
            "priority",
            "preemptionPolicy",
            "terminationGracePeriodSeconds",
            "restartPolicy",
            "serviceAccountName",
            "serviceAccount",
            "automountServiceAccountToken",
            "securityContext",
            "imagePullSecrets",
            "dnsPolicy",
            "dnsConfig",
            "hostname",
            "subdomain",
            "enableServiceLinks",
            "shareProcessNamespace",
            "hostAliases",
            "readinessGates",
            "setHostnameAsFQDN",
            "activeDeadlineSeconds",
        ],
    ),
    (
        "CONTAINER",
        &[
            "name",
            "image",
            "imagePullPolicy",
            "command",
            "args",
            "workingDir",
            "env",
            "envFrom",
            "ports",
            "resources",
            "volumeMounts",
            "volumeDevices",
            "livenessProbe",
            "readinessProbe",
            "startupProbe",
            "lifecycle",
            "securityContext",
            "terminationMessagePath",
            "terminationMessagePolicy",
            "stdin",
            "stdinOnce",
            "tty",
            "resizePolicy",
            "restartPolicy",
        ],
    ),
    ("CONTAINER.resources", &["requests", "limits"]),
];

/// The keys checked for a kind, below which the silent list applies; a key listed here
/// that is not in [`SILENT`] is warned about.
fn silent_keys(kind: Modelled, parent: &str) -> Option<&'static [&'static str]> {
    // A CronJob's `spec.jobTemplate.spec` is a Job's `spec`.
    if kind == Modelled::CronJob
        && let Some(rest) = parent.strip_prefix("spec.jobTemplate.spec")
        && (rest.is_empty() || rest.starts_with(['.', '[']))
    {
        return silent_keys(Modelled::Workload(Kind::Job), &format!("spec{rest}"));
    }
    let pod_at = match kind {
        Modelled::Workload(Kind::Pod) => "spec",
        Modelled::Workload(_) => "spec.template.spec",
        _ => "",
    };
    let normalized = if !pod_at.is_empty() && parent == pod_at {
        "POD".to_owned()
    } else if !pod_at.is_empty()
        && let Some(rest) = parent.strip_prefix(pod_at)
        && (rest.starts_with(".containers[") || rest.starts_with(".initContainers["))
    {
        let after = &rest[rest.find(']').map_or(rest.len(), |i| i + 1)..];
        format!("CONTAINER{after}")
    } else if kind == Modelled::LimitRange
        && let Some(rest) = parent.strip_prefix("spec.limits[")
    {
        let after = &rest[rest.find(']').map_or(rest.len(), |i| i + 1)..];
        format!("spec.limits[]{after}")
    } else {
        parent.to_owned()
    };
    let table: &[(&str, &[&str])] = match kind {
        Modelled::Workload(Kind::Pod) => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            (SILENT[5].0, SILENT[5].1),
            (SILENT[6].0, SILENT[6].1),
            (SILENT[7].0, SILENT[7].1),
        ],
        Modelled::Workload(_) => SILENT,
        Modelled::PriorityClass => &[
            (
                "",
                &[
                    "apiVersion",
                    "kind",
                    "metadata",
                    "value",
                    "globalDefault",
                    "preemptionPolicy",
                    "description",
                ],
            ),
            (SILENT[1].0, SILENT[1].1),
        ],
        Modelled::Pdb => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            (
                "spec",
                &[
                    "selector",
                    "minAvailable",
                    "maxUnavailable",
                    "unhealthyPodEvictionPolicy",
                ],
            ),
        ],
        Modelled::Namespace => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            ("spec", &["finalizers"]),
        ],
        Modelled::LimitRange => &[
            ("", &["apiVersion", "kind", "metadata", "spec"]),
            (SILENT[1].0, SILENT[1].1),
            ("spec", &["limits"]),
            (
                "spec.limits[]",
                &[
                    "type",
                    "default",
                    "defaultRequest",
                    "min",
                    "max",
                    "maxLimitRequestRatio",
                ],
            ),
        ],
        Modelled::ResourceQuota => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            ("spec", &["hard"]),
        ],
        Modelled::StorageClass => &[
            (
                "",
                &[
                    "apiVersion",
                    "kind",
                    "metadata",
                    "provisioner",
                    "volumeBindingMode",
                    "allowedTopologies",
                    "parameters",
                    "reclaimPolicy",
                    "allowVolumeExpansion",
                    "mountOptions",
                ],
            ),
            (SILENT[1].0, SILENT[1].1),
        ],
        Modelled::PersistentVolume => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            (
                "spec",
                &[
                    "capacity",
                    "accessModes",
                    "storageClassName",
                    "nodeAffinity",
                    "claimRef",
                    "csi",
                    "persistentVolumeReclaimPolicy",
                    "volumeMode",
                    "mountOptions",
                    // Volume sources: where the data lives, not where pods may run
                    // (nodeAffinity says that).
                    "local",
                    "hostPath",
                    "nfs",
                    "awsElasticBlockStore",
                    "gcePersistentDisk",
                    "azureDisk",
                    "azureFile",
                    "cephfs",
                    "rbd",
                    "iscsi",
                    "fc",
                ],
            ),
            ("spec.capacity", &["storage"]),
            (
                "spec.claimRef",
                &[
                    "apiVersion",
                    "kind",
                    "name",
                    "namespace",
                    "uid",
                    "resourceVersion",
                ],
            ),
        ],
        Modelled::PersistentVolumeClaim => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            (
                "spec",
                &[
                    "accessModes",
                    "resources",
                    "storageClassName",
                    "volumeName",
                    "volumeMode",
                    "dataSource",
                    "dataSourceRef",
                ],
            ),
            ("spec.resources", &["requests", "limits"]),
            ("spec.resources.requests", &["storage"]),
        ],
        Modelled::HorizontalPodAutoscaler => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            (
                "spec",
                &[
                    "scaleTargetRef",
                    "minReplicas",
                    "maxReplicas",
                    "metrics",
                    "behavior",
                ],
            ),
            ("spec.scaleTargetRef", &["apiVersion", "kind", "name"]),
        ],
        Modelled::CronJob => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            (
                "spec",
                &[
                    "schedule",
                    "timeZone",
                    "concurrencyPolicy",
                    "suspend",
                    "startingDeadlineSeconds",
                    "successfulJobsHistoryLimit",
                    "failedJobsHistoryLimit",
                    "jobTemplate",
                ],
            ),
            ("spec.jobTemplate", &["metadata", "spec"]),
            ("spec.jobTemplate.metadata", &["labels", "annotations"]),
        ],
        Modelled::Node => &[
            ("", &["apiVersion", "kind", "metadata", "spec", "status"]),
            (SILENT[1].0, SILENT[1].1),
            (
                "spec",
                &[
                    "taints",
                    "unschedulable",
                    "podCIDR",
                    "podCIDRs",
                    "providerID",
                    "externalID",
                ],
            ),
            (
                "status",
                &[
                    "allocatable",
                    "capacity",
                    "conditions",
                    "addresses",
                    "nodeInfo",
                    "images",
                    "daemonEndpoints",
                    "volumesAttached",
                    "volumesInUse",
                    "phase",
                ],
            ),
        ],
    };
    table
        .iter()
        .find(|(p, _)| *p == normalized)
        .map(|(_, keys)| *keys)
}

/// One object read from a manifest file, ready to build.
struct Object {
    kind: Modelled,
    /// `kind` as written, for messages.
    kind_name: String,
    /// Where it is among the file's documents (`document 2`, `document 1, items[3]`),
    /// for warnings.
    doc: String,
    /// Where the object starts.
    at: Location,
    /// Its byte range in its file's text.
    range: std::ops::Range<usize>,
    /// `metadata.namespace` (`default` when unset) and `metadata.name`.
    namespace: String,
    name: String,
    /// The kind and name of its managing owner (`ownerReferences` with `controller: true`).
    controller: Option<(String, String)>,
    /// A pod's `spec.nodeName`.
    node_name: Option<String>,
    /// A pod's `status.phase`.
    phase: Option<String>,
    /// A StatefulSet's `spec.replicas` as written (1 when absent).
    replicas: Option<String>,
    /// A Job's `status.succeeded` as written.
    succeeded: Option<String>,
    /// A Job's `status.failed` as written.
    failed: Option<String>,
    /// The reason of a `Failed` condition whose status is `True` (empty when it gives
    /// none): a Job that failed before the snapshot.
    failed_condition: Option<String>,
    /// A pod's or Job's `status.startTime`.
    start_time: Option<Instant>,
    /// Left to an owner the manifests also hold, which makes its pods (see
    /// [`Manifests::resolve_owners`]).
    managed: bool,
    /// A Deployment's, ReplicaSet's, DaemonSet's or Job's pods the manifests show bound
    /// and not finished: their nodes, in pod name order; a StatefulSet's, in ordinal
    /// order.
    adopted: Vec<String>,
    /// A StatefulSet's: the ordinal of each of `adopted`.
    adopted_ordinals: Vec<u32>,
    /// The `status.startTime` of each of `adopted`.
    adopted_started: Vec<Option<Instant>>,
    /// A Job's pods the manifests show Succeeded.
    succeeded_pods: u32,
    /// A Job's CronJob in the manifests (its controller), which adopts it as active.
    cron_job: Option<String>,
}

impl Object {
    /// The object's text alone, read with the file's positions.
    fn fragment(&self, file: &ManifestFile) -> Fragment {
        Fragment::new(&file.text, self.range.start, self.range.end, &self.at)
    }
}

/// What reading every manifest found: the objects to build (with the index of their
/// file), the ignored kinds and the warnings.
#[derive(Default)]
pub(super) struct Manifests {
    objects: Vec<(usize, Object)>,
    /// Ignored objects by kind.
    ignored: BTreeMap<String, usize>,
    /// Objects left to an owner in the manifests, by kind.
    managed: BTreeMap<String, usize>,
    /// Bound pods adopted by their Deployment, ReplicaSet, StatefulSet, DaemonSet or Job.
    adopted: usize,
    /// Jobs adopted by their CronJob as its active Jobs.
    cron_adopted: usize,
    /// Unmodelled keys by (kind, path): the first one's warning and how many more.
    unknown: BTreeMap<(String, String), (String, usize)>,
    /// The newest timestamp of any object (`metadata.creationTimestamp`,
    /// `status.startTime`, `status.conditions[].lastTransitionTime`), as written, with
    /// where it is (`m.yaml:12:20 (Pod web-0 status.startTime)`).
    newest: Option<(Instant, String, String)>,
    /// The snapshot's "now": `snapshotTime:`, else [`Manifests::newest`]; the run's time
    /// zero, against which `status.startTime` is measured.
    now: Option<Instant>,
}

/// Where the object starting at byte `start` (column `column`, 1-based) ends: at the first
/// later line that is indented less than it (a sibling or a parent's key), or at a
/// document marker.
fn object_end(text: &str, start: usize, column: usize) -> usize {
    let mut offset = match text[start..].find('\n') {
        Some(i) => start + i + 1,
        None => return text.len(),
    };
    for line in text[offset..].split_inclusive('\n') {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        let blank = trimmed.trim().is_empty() || trimmed.starts_with('#');
        if line.starts_with("---") || line.starts_with("...") || (!blank && indent + 1 < column) {
            return offset;
        }
        offset += line.len();
    }
    text.len()
}

/// Renders an object's position for warnings: `document 3` or `document 3, items[1]`.
fn document_label(doc: usize, item: Option<usize>) -> String {
    match item {
        Some(i) => format!("document {doc}, items[{i}]"),
        None => format!("document {doc}"),
    }
}

/// The plural of a kind (`Services`, `Ingresses`, `NetworkPolicies`).
fn plural(kind: &str, n: usize) -> String {
    if n == 1 {
        return format!("1 {kind}");
    }
    let p = if let Some(stem) = kind.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        format!("{stem}ies")
    } else if kind.ends_with('s') {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    };
    format!("{n} {p}")
}

impl Manifests {
    /// Reads the documents of every file: modelled objects kept, others counted, and
    /// unmodelled keys noted.
    pub(super) fn read(files: &[ManifestFile]) -> Result<Manifests> {
        let mut out = Manifests::default();
        for (f, file) in files.iter().enumerate() {
            let docs: Vec<Spanned<Header>> =
                serde_saphyr::from_multiple_with_options(&file.text, parse_options())
                    .map_err(|e| translate(&e, &file.text, &file.shown, &ManifestSchema))?;
            for (d, doc) in docs.iter().enumerate() {
                out.object(file, f, &doc.value, &doc.referenced, d + 1, None)?;
            }
        }
        out.resolve_owners();
        Ok(out)
    }

    /// Lets the controllers of a cluster snapshot (`kubectl get ... -o yaml`) own what
    /// they made, so nothing is created twice: a ReplicaSet whose Deployment is in the
    /// manifests is the Deployment's; a pod whose controller (its ReplicaSet, or that
    /// ReplicaSet's Deployment, a StatefulSet, a Job, a DaemonSet) is in the manifests is
    /// left to it, and when it is bound to a node and not finished, a Deployment's,
    /// ReplicaSet's or Job's first pods start on the same nodes, a StatefulSet's
    /// ordinal on its node, and a DaemonSet's pod on its node ([`Workload::adopted`];
    /// [`not_run_daemon_pods`] leaves out those on nodes the DaemonSet would not run); a Job's Succeeded pods count as its
    /// completions when it has no `status.succeeded`. A Job whose controller is a CronJob
    /// of the manifests is that CronJob's active Job. An owner that is not in the
    /// manifests leaves the object as it is: a bare pod, or a ReplicaSet of its own.
    fn resolve_owners(&mut self) {
        let index: BTreeMap<(&str, &str, &str), usize> = self
            .objects
            .iter()
            .enumerate()
            .map(|(i, (_, o))| {
                (
                    (o.kind_name.as_str(), o.namespace.as_str(), o.name.as_str()),
                    i,
                )
            })
            .collect();
        let owner_of = |o: &Object| -> Option<usize> {
            let (kind, name) = o.controller.as_ref()?;
            index
                .get(&(kind.as_str(), o.namespace.as_str(), name.as_str()))
                .copied()
        };
        // (pod's object, the workload that adopts it, or none when left to its controller)
        let mut managed: Vec<(usize, Option<usize>)> = Vec::new();
        let mut cron_owned: Vec<(usize, String)> = Vec::new();
        for (i, (_, o)) in self.objects.iter().enumerate() {
            let Some(owner) = owner_of(o) else { continue };
            let owner_kind = self.objects[owner].1.kind_name.as_str();
            match (o.kind_name.as_str(), owner_kind) {
                ("ReplicaSet", "Deployment") => managed.push((i, None)),
                ("Job", "CronJob") => cron_owned.push((i, self.objects[owner].1.name.clone())),
                ("Pod", "ReplicaSet") => {
                    let set = &self.objects[owner].1;
                    let workload = match owner_of(set) {
                        Some(d) if self.objects[d].1.kind_name == "Deployment" => d,
                        _ => owner,
                    };
                    managed.push((i, Some(workload)));
                }
                ("Pod", "Deployment" | "StatefulSet" | "Job" | "DaemonSet") => {
                    managed.push((i, Some(owner)));
                }
                ("Pod", _) if matches!(self.objects[owner].1.kind, Modelled::Workload(_)) => {
                    managed.push((i, None));
                }
                _ => {}
            }
        }
        self.cron_adopted = cron_owned.len();
        for (i, cron) in cron_owned {
            self.objects[i].1.cron_job = Some(cron);
        }
        // (workload, ordinal, pod name, node, start): a StatefulSet's adopted pods by
        // ordinal, the others by name.
        type Adoption<'a> = (usize, Option<u32>, &'a str, &'a str, Option<Instant>);
        let mut adoptions: Vec<Adoption<'_>> = Vec::new();
        let mut succeeded: Vec<usize> = Vec::new();
        for &(i, workload) in &managed {
            let o = &self.objects[i].1;
            *self.managed.entry(o.kind_name.clone()).or_default() += 1;
            let Some(w) = workload else { continue };
            let owner = &self.objects[w].1;
            match o.phase.as_deref() {
                // A finished pod holds nothing; a Job's Succeeded one is a completion.
                Some("Succeeded") => {
                    if owner.kind_name == "Job" {
                        succeeded.push(w);
                    }
                    continue;
                }
                Some("Failed") => continue,
                _ => {}
            }
            let Some(node) = &o.node_name else { continue };
            let ordinal = if owner.kind_name == "StatefulSet" {
                // `<set>-<ordinal>`, an ordinal the set keeps; any other pod of the set
                // is one the controller would delete, and is not adopted.
                let replicas = owner
                    .replicas
                    .as_deref()
                    .map_or(Some(1), |r| r.parse::<u32>().ok());
                match o
                    .name
                    .strip_prefix(owner.name.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .and_then(|n| n.parse::<u32>().ok())
                    .filter(|n| n.to_string().len() == o.name.len() - owner.name.len() - 1)
                {
                    Some(n) if replicas.is_some_and(|r| n < r) => Some(n),
                    _ => continue,
                }
            } else {
                None
            };
            adoptions.push((w, ordinal, o.name.as_str(), node.as_str(), o.start_time));
        }
        adoptions.sort();
        // Two pods of one ordinal (a snapshot taken mid-replacement): the first is kept.
        adoptions.dedup_by(|b, a| a.0 == b.0 && a.1.is_some() && a.1 == b.1);
        let adoptions: Vec<(usize, Option<u32>, String, Option<Instant>)> = adoptions
            .into_iter()
            .map(|(w, ordinal, _, node, start)| (w, ordinal, node.to_owned(), start))
            .collect();
        self.adopted = adoptions.len();
        for (w, ordinal, node, start) in adoptions {
            let o = &mut self.objects[w].1;
            o.adopted.push(node);
            o.adopted_ordinals.extend(ordinal);
            o.adopted_started.push(start);
        }
        for w in succeeded {
            self.objects[w].1.succeeded_pods += 1;
        }
        for (i, _) in managed {
            self.objects[i].1.managed = true;
        }
    }

    /// One document or List item.
    fn object(
        &mut self,
        file: &ManifestFile,
        f: usize,
        h: &Header,
        at: &Location,
        doc: usize,
        item: Option<usize>,
    ) -> Result<()> {
        let kube = Reader::new(&file.shown);
        let field = item.map(|i| format!("items[{i}]")).unwrap_or_default();
        let sub = |key: &str| {
            if field.is_empty() {
                key.to_owned()
            } else {
                format!("{field}.{key}")
            }
        };
        let (Some(_), Some(kind)) = (&h.api_version, &h.kind) else {
            return Err(kube.err(
                at,
                &field,
                format!(
                    "{}: expected a Kubernetes object with `apiVersion` and `kind`",
                    document_label(doc, item)
                ),
            ));
        };
        let kind_name = kind.value.0.clone();
        if kind_name == "List" {
            if item.is_some() {
                return Err(kube.err(&kind.referenced, &sub("kind"), "a List cannot hold a List"));
            }
            for (i, it) in h.items.iter().flatten().enumerate() {
                self.object(file, f, &it.value, &it.referenced, doc, Some(i))?;
            }
            return Ok(());
        }
        let start_time = self.timestamps(&kube, h, &kind_name)?;
        let Some(kind) = modelled(&kind_name) else {
            *self.ignored.entry(kind_name).or_default() += 1;
            return Ok(());
        };
        let start = usize::try_from(at.span().byte_offset().unwrap_or(0)).unwrap_or(0);
        let end = object_end(&file.text, start, at.column() as usize);
        let piece = Fragment::new(&file.text, start, end, at);
        let meta = h.metadata.as_ref();
        let name = meta
            .and_then(|m| m.name.as_ref())
            .map(|n| n.0.clone())
            .unwrap_or_default();
        if let Some(tree) = piece.tree() {
            for key in tree.keys() {
                let known = silent_keys(kind, &key.parent);
                // Below a key whose value is read strictly (affinity, resources.requests,
                // ...), or a mapping of names (labels), nothing is checked here.
                let Some(known) = known else { continue };
                if known.contains(&key.key.as_str()) {
                    continue;
                }
                let path = schedulers::field_path::key(&key.parent, &key.key);
                let general: String = path
                    .split('[')
                    .enumerate()
                    .map(|(i, s)| {
                        if i == 0 {
                            s.to_owned()
                        } else {
                            format!("[]{}", &s[s.find(']').map_or(s.len(), |j| j + 1)..])
                        }
                    })
                    .collect();
                let entry = self.unknown.entry((kind_name.clone(), general));
                entry
                    .and_modify(|(_, n)| *n += 1)
                    .or_insert_with(|| {
                        (
                            format!(
                                "{}:{}:{}: {} ({kind_name} {name}): {path}: not modelled by schedlab, ignored",
                                file.shown,
                                key.at.line(),
                                key.at.column(),
                                document_label(doc, item),
                            ),
                            0,
                        )
                    });
            }
        }
        self.objects.push((
            f,
            Object {
                kind,
                kind_name,
                doc: document_label(doc, item),
                at: *at,
                range: start..end,
                namespace: meta
                    .and_then(|m| m.namespace.as_ref())
                    .map_or_else(|| "default".to_owned(), |n| n.0.clone()),
                name,
                controller: meta
                    .and_then(|m| m.owner_references.as_ref())
                    .and_then(|owners| {
                        owners
                            .iter()
                            .find(|o| o.controller.as_ref().is_some_and(|c| c.0 == "true"))
                    })
                    .and_then(|o| Some((o.kind.as_ref()?.0.clone(), o.name.as_ref()?.0.clone()))),
                node_name: h
                    .spec
                    .as_ref()
                    .and_then(|s| s.node_name.as_ref())
                    .map(|n| n.0.clone()),
                phase: h
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.as_ref())
                    .map(|p| p.0.clone()),
                replicas: h
                    .spec
                    .as_ref()
                    .and_then(|s| s.replicas.as_ref())
                    .map(|r| r.0.clone()),
                succeeded: h
                    .status
                    .as_ref()
                    .and_then(|s| s.succeeded.as_ref())
                    .map(|n| n.0.clone()),
                failed: h
                    .status
                    .as_ref()
                    .and_then(|s| s.failed.as_ref())
                    .map(|n| n.0.clone()),
                start_time,
                failed_condition: h
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .into_iter()
                    .flatten()
                    .find(|c| {
                        c.kind.as_ref().is_some_and(|k| k.0 == "Failed")
                            && c.status.as_ref().is_some_and(|s| s.0 == "True")
                    })
                    .map(|c| c.reason.as_ref().map_or_else(String::new, |r| r.0.clone())),
                managed: false,
                adopted: Vec::new(),
                adopted_ordinals: Vec::new(),
                adopted_started: Vec::new(),
                succeeded_pods: 0,
                cron_job: None,
            },
        ));
        Ok(())
    }

    /// Reads an object's timestamps (`metadata.creationTimestamp`, `status.startTime`,
    /// `status.conditions[].lastTransitionTime`), keeps the newest of the manifests in
    /// [`Manifests::newest`], and returns its `status.startTime`; a time that is not RFC
    /// 3339 is an error at its place.
    fn timestamps(&mut self, kube: &Reader<'_>, h: &Header, kind: &str) -> Result<Option<Instant>> {
        let name = h
            .metadata
            .as_ref()
            .and_then(|m| m.name.as_ref())
            .map_or("", |n| n.0.as_str());
        let status = h.status.as_ref();
        let mut stamps: Vec<(&Spanned<Scalar>, String)> = Vec::new();
        if let Some(t) = h
            .metadata
            .as_ref()
            .and_then(|m| m.creation_timestamp.as_ref())
        {
            stamps.push((t, "metadata.creationTimestamp".to_owned()));
        }
        if let Some(t) = status.and_then(|s| s.start_time.as_ref()) {
            stamps.push((t, "status.startTime".to_owned()));
        }
        for (i, c) in status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(t) = &c.last_transition_time {
                stamps.push((t, format!("status.conditions[{i}].lastTransitionTime")));
            }
        }
        let mut start_time = None;
        for (t, field) in stamps {
            let instant = timestamp::parse(&t.value.0).ok_or_else(|| {
                kube.err(
                    &t.referenced,
                    &field,
                    format!(
                        "{kind} {name:?}: expected an RFC 3339 time (2024-05-01T12:00:00Z, 2024-05-01T14:00:00.5+02:00), got {:?}",
                        t.value.0
                    ),
                )
            })?;
            if field == "status.startTime" {
                start_time = Some(instant);
            }
            if self.newest.as_ref().is_none_or(|(n, _, _)| instant > *n) {
                self.newest = Some((
                    instant,
                    t.value.0.clone(),
                    format!(
                        "{}:{}:{} ({kind} {name} {field})",
                        kube.file(),
                        t.referenced.line(),
                        t.referenced.column()
                    ),
                ));
            }
        }
        Ok(start_time)
    }

    /// Sets the snapshot's "now" (the run's time zero): `explicit` (`snapshotTime:`, as
    /// read and as written) or else the newest timestamp of the manifests; returns the
    /// line for stderr that says which was taken, none when there is neither.
    pub(super) fn choose_now(&mut self, explicit: Option<(Instant, String)>) -> Option<String> {
        let (now, line) = match explicit {
            Some((at, text)) => (
                at,
                format!("manifests: snapshot time {text} (snapshotTime)"),
            ),
            None => {
                let (at, text, place) = self.newest.as_ref()?;
                (
                    *at,
                    format!(
                        "manifests: snapshot time {text}, the newest timestamp of the manifests ({place}); give `snapshotTime:` to choose another"
                    ),
                )
            }
        };
        self.now = Some(now);
        Some(line)
    }

    /// The time from `start` to the snapshot's "now" (zero without either, or for a
    /// start after it).
    fn since(&self, start: Option<Instant>) -> SimTime {
        match (self.now, start) {
            (Some(now), Some(start)) => {
                SimTime::from_micros(u64::try_from(now.micros_since(start)).unwrap_or(0))
            }
            _ => SimTime::ZERO,
        }
    }

    /// The warnings about unmodelled keys, one per kind and key path.
    pub(super) fn warnings(&self) -> Vec<String> {
        self.unknown
            .values()
            .map(|(w, more)| match more {
                0 => w.clone(),
                n => format!("{w} (and in {n} more)"),
            })
            .collect()
    }

    /// `n` adopted pods were left out after all (see [`not_run_daemon_pods`]).
    pub(super) fn not_adopted(&mut self, n: usize) {
        self.adopted -= n;
    }

    /// The one line naming the ignored kinds, if any.
    pub(super) fn ignored_line(&self) -> Option<String> {
        if self.ignored.is_empty() && self.managed.is_empty() && self.cron_adopted == 0 {
            return None;
        }
        let mut counts: Vec<(&String, &usize)> = self.ignored.iter().collect();
        // Most numerous first; ties by kind name, so the line is always the same.
        counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let listed: Vec<String> = counts.iter().map(|(k, n)| plural(k, **n)).collect();
        let mut line = String::from("manifests:");
        if !listed.is_empty() {
            line.push_str(&format!(
                " {} ignored (no effect on scheduling)",
                listed.join(", ")
            ));
        }
        if !self.managed.is_empty() {
            let managed: Vec<String> = self.managed.iter().map(|(k, n)| plural(k, *n)).collect();
            if !listed.is_empty() {
                line.push(';');
            }
            line.push_str(&format!(
                " {} left to their controllers in the manifests, {} bound pod(s) adopted on their nodes",
                managed.join(", "),
                self.adopted
            ));
        }
        if self.cron_adopted > 0 {
            if line.len() > "manifests:".len() {
                line.push(';');
            }
            line.push_str(&format!(
                " {} adopted by their CronJobs",
                plural("Job", self.cron_adopted)
            ));
        }
        Some(line)
    }
}

/// Respells a field path of the scenario's shape (after `prefix`) in the manifest's.
fn respell(field: &str, prefix: &str, map: &dyn Fn(&str) -> Option<&'static str>) -> String {
    let Some(rest) = field.strip_prefix(prefix) else {
        return field.to_owned();
    };
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let head_len = rest.find(['.', '[']).unwrap_or(rest.len());
    let (head, tail) = rest.split_at(head_len);
    let mut tail = tail.to_owned();
    if (head == "containers" || head == "initContainers")
        && let Some(close) = tail.find("].")
    {
        let after = &tail[close + 2..];
        if after.starts_with("requests") || after.starts_with("limits") {
            tail = format!("{}.resources.{}", &tail[..close + 1], after);
        }
    }
    match map(head) {
        Some("") | None => format!("{head}{tail}"),
        Some(new) => format!("{new}.{head}{tail}"),
    }
}

impl<'f> Builder<'f> {
    /// Runs `build` with the reader naming `file`, and the error's field respelt.
    fn in_manifest<T>(
        &mut self,
        file: &'f str,
        fix: &dyn Fn(&str) -> String,
        build: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let saved = std::mem::replace(&mut self.kube, Reader::new(file));
        let out = build(self);
        self.kube = saved;
        out.map_err(|mut e| {
            e.field = e.field.map(|f| fix(&f));
            e
        })
    }
}

/// One manifest object of the kind a builder asked for ([`Manifests::of_kind`]), parsed.
struct Parsed<'f, 'm, T> {
    /// Its file.
    file: &'f ManifestFile,
    /// A reader naming its file, for errors.
    kube: Reader<'f>,
    /// The object as first read: kind, place, namespace and name.
    o: &'m Object,
    /// The object parsed as its kind's struct.
    raw: T,
}

impl Manifests {
    /// The objects of `kind`, in manifest order, each parsed as `T` (the loop of the
    /// builders of one kind); an object that does not parse is the error in its place.
    fn of_kind<'f, 'm, T: for<'de> Deserialize<'de>>(
        &'m self,
        files: &'f [ManifestFile],
        kind: Modelled,
    ) -> impl Iterator<Item = Result<Parsed<'f, 'm, T>>> {
        self.objects
            .iter()
            .filter(move |(_, o)| o.kind == kind)
            .map(move |(f, o)| {
                let file = &files[*f];
                Ok(Parsed {
                    file,
                    kube: Reader::new(&file.shown),
                    o,
                    raw: parse(o, file)?,
                })
            })
    }
}

/// Parses one object as `T`.
fn parse<T: for<'de> Deserialize<'de>>(o: &Object, file: &ManifestFile) -> Result<T> {
    let piece = o.fragment(file);
    piece
        .parse::<T>()
        .map_err(|e| piece.translate(&e, &file.shown, &ManifestSchema))
}

/// A value `v` placed at `at` (for defaults the manifest leaves out).
fn at<T>(v: T, at: &Location) -> Spanned<T> {
    Spanned::new(v, *at, *at)
}

/// A manifest container as the scenario's.
fn container(c: Spanned<RawContainer>) -> Spanned<ScenarioContainer> {
    let Spanned {
        value,
        referenced,
        defined,
    } = c;
    let resources = value.resources.unwrap_or_default();
    // A manifest's requests are single quantities; the scenario's may be distributions.
    let requests = resources.requests.map(|r| {
        Entries(
            r.0.into_iter()
                .map(|(k, v)| {
                    let Spanned {
                        value,
                        referenced,
                        defined,
                    } = v;
                    (
                        k,
                        Spanned::new(ScalarOrDist::Scalar(value), referenced, defined),
                    )
                })
                .collect(),
        )
    });
    Spanned::new(
        ScenarioContainer {
            name: value.name,
            requests,
            limits: resources.limits,
            ports: value.ports,
            image: value.image,
            restart_policy: value.restart_policy,
        },
        referenced,
        defined,
    )
}

/// The pod-spec fields of a [`RawWorkload`].
fn pod_fields(
    w: &mut RawWorkload,
    spec: RawPodSpec,
    labels: Option<LabelMap>,
    annotations: Option<LabelMap>,
) {
    let list = |l: Option<Spanned<Vec<Spanned<RawContainer>>>>| {
        l.map(|l| {
            Spanned::new(
                l.value.into_iter().map(container).collect(),
                l.referenced,
                l.defined,
            )
        })
    };
    w.labels = labels;
    w.annotations = annotations;
    w.containers = list(spec.containers);
    w.init_containers = list(spec.init_containers);
    w.overhead = spec.overhead;
    w.node_selector = spec.node_selector;
    w.tolerations = spec.tolerations;
    w.affinity = spec.affinity;
    w.topology_spread_constraints = spec.topology_spread_constraints;
    w.node_name = spec.node_name;
    // Only claims matter to scheduling; emptyDir, configMap, secret ... volumes are left
    // out (the scenario's own `volumes` refuses them).
    w.volumes = spec.volumes.map(|vs| {
        vs.into_iter()
            .filter(|v| v.value.persistent_volume_claim.is_some())
            .map(|v| {
                Spanned::new(
                    RawVolume {
                        name: v.value.name,
                        persistent_volume_claim: v.value.persistent_volume_claim,
                    },
                    v.referenced,
                    v.defined,
                )
            })
            .collect()
    });
    w.priority_class_name = spec.priority_class_name;
    w.priority = spec.priority;
    w.preemption_policy = spec.preemption_policy;
    w.termination_grace_period_seconds = spec.termination_grace_period_seconds;
}

/// The templates of a workload's adopted pods: its own pinned to each node by
/// `nodeName`, one `Arc` per node. None for a workload with rollouts, which follow their
/// ReplicaSets' pods by template.
fn adopted_templates(w: &Workload, nodes: &[String]) -> Vec<Arc<PodTemplate>> {
    let rolls_out = w.dynamics.as_ref().is_some_and(|d| !d.rollouts.is_empty());
    if rolls_out || w.template.node_name.is_some() {
        return Vec::new();
    }
    let mut pinned: BTreeMap<&str, Arc<PodTemplate>> = BTreeMap::new();
    nodes
        .iter()
        .map(|node| {
            Arc::clone(pinned.entry(node).or_insert_with(|| {
                let mut t = (*w.template).clone();
                t.node_name = Some(node.clone());
                Arc::new(t)
            }))
        })
        .collect()
}

/// Leaves out of each DaemonSet's adopted pods (`workloads`, the manifests' ones) those
/// whose node is not among `nodes` or would not keep running the DaemonSet's pod
/// (upstream's controller deletes such a pod: `NodeShouldRunDaemonPod`'s "should
/// continue running"), and a second pod on one node; returns how many were left out.
pub(super) fn not_run_daemon_pods(workloads: &mut [Workload], nodes: &[NodeSpec]) -> usize {
    let by_name: BTreeMap<&str, &NodeSpec> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut left_out = 0;
    for w in workloads {
        if !matches!(w.kind, WorkloadKind::DaemonSet { .. }) || w.adopted.is_empty() {
            continue;
        }
        let base = crate::controllers::daemonsets::with_daemon_tolerations(&w.template);
        let before = w.adopted.len();
        let mut seen: Vec<&str> = Vec::new();
        let mut kept = Vec::with_capacity(before);
        let mut kept_ran = Vec::with_capacity(before);
        for (i, t) in w.adopted.iter().enumerate() {
            let Some(name) = t.node_name.as_deref() else {
                continue;
            };
            let runs = by_name
                .get(name)
                .is_some_and(|n| crate::controllers::daemonsets::should_run(&base, n).1);
            if runs && !seen.contains(&name) {
                seen.push(name);
                kept.push(Arc::clone(t));
                kept_ran.push(w.adopted_ran.get(i).copied().unwrap_or(SimTime::ZERO));
            }
        }
        left_out += before - kept.len();
        w.adopted = kept;
        w.adopted_ran = kept_ran;
    }
    left_out
}

/// The metadata name, or an error at the object.
fn name_of(kube: &Reader<'_>, meta: &Option<RawObjectMeta>, o: &Object) -> Result<Spanned<String>> {
    meta.as_ref().and_then(|m| m.name.clone()).ok_or_else(|| {
        kube.err(
            &o.at,
            "metadata.name",
            format!("a {} needs a `metadata.name`", o.kind_name),
        )
    })
}

/// What the manifests' Namespaces and ResourceQuotas add to a scenario.
#[derive(Default)]
pub(super) struct AdmissionBuilt {
    pub(super) namespaces: Vec<String>,
    pub(super) quotas: Vec<crate::scenario::admission::ResourceQuota>,
    /// `spec.hard` keys that are not counted.
    pub(super) warnings: Vec<String>,
}

/// What the manifests add to a scenario.
#[derive(Default)]
pub(super) struct Built {
    pub(super) nodes: Vec<NodeSpec>,
    pub(super) workloads: Vec<Workload>,
    pub(super) budgets: Vec<PodDisruptionBudget>,
    /// Jobs owned by a CronJob of the manifests: (index in `workloads`, namespace,
    /// CronJob name).
    pub(super) cron_adopted: Vec<(usize, String, String)>,
}

impl<'f> Builder<'f> {
    /// Builds the PriorityClasses of the manifests (before any workload, which may name
    /// them).
    pub(super) fn manifest_priority_classes(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
    ) -> Result<()> {
        for parsed in m.of_kind(files, Modelled::PriorityClass) {
            let Parsed { file, kube, o, raw }: Parsed<'_, '_, PriorityClassObject> = parsed?;
            let name = name_of(&kube, &raw.metadata, o)?;
            if let Some(c) = self.classes.iter().find(|c| c.name == name.value) {
                return Err(kube.err(
                    &name.referenced,
                    "metadata.name",
                    format!(
                        "duplicate PriorityClass {:?}: {} already defines it",
                        name.value, c.origin
                    ),
                ));
            }
            let item = at(
                RawPriorityClass {
                    name,
                    value: raw.value,
                    preemption_policy: raw.preemption_policy,
                    global_default: raw.global_default,
                    description: raw.description,
                },
                &o.at,
            );
            let before = std::mem::take(&mut self.classes);
            let fix = |f: &str| {
                respell(f, "priorityClasses[0]", &|h| {
                    (h == "name").then_some("metadata")
                })
            };
            self.in_manifest(&file.shown, &fix, |b| {
                b.priority_classes(std::slice::from_ref(&item))
            })?;
            let added = std::mem::replace(&mut self.classes, before);
            self.classes.extend(added);
        }
        Ok(())
    }

    /// Builds the Namespaces, LimitRanges and ResourceQuotas of the manifests (before any
    /// workload: a LimitRange changes the templates of its namespace). The LimitRanges
    /// are kept in the builder; the rest is returned.
    pub(super) fn manifest_admission(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
    ) -> Result<AdmissionBuilt> {
        let mut out = AdmissionBuilt::default();
        for (f, o) in &m.objects {
            let file = &files[*f];
            let kube = Reader::new(&file.shown);
            let namespace_of = |meta: &Option<RawObjectMeta>| -> Result<String> {
                match meta.as_ref().and_then(|m| m.namespace.as_ref()) {
                    Some(ns) => kube.non_empty(ns, "metadata.namespace", "a namespace"),
                    None => Ok("default".to_owned()),
                }
            };
            match o.kind {
                Modelled::Namespace => {
                    let raw: AdmissionObject<serde::de::IgnoredAny> = parse(o, file)?;
                    let name = name_of(&kube, &raw.metadata, o)?;
                    let name = kube.non_empty(&name, "metadata.name", "a namespace name")?;
                    // Pod affinity's namespaceSelector sees a namespace's name label only.
                    if let Some((key, _)) = raw
                        .metadata
                        .as_ref()
                        .and_then(|m| m.labels.as_ref())
                        .and_then(|l| {
                            l.0.iter()
                                .find(|(k, _)| k.value != "kubernetes.io/metadata.name")
                        })
                    {
                        out.warnings.push(format!(
                            "{}:{}:{}: Namespace {name}: metadata.labels: not modelled by schedlab (a namespaceSelector sees only kubernetes.io/metadata.name), ignored",
                            file.shown,
                            key.referenced.line(),
                            key.referenced.column(),
                        ));
                    }
                    if !out.namespaces.contains(&name) {
                        out.namespaces.push(name);
                    }
                }
                Modelled::LimitRange => {
                    let raw: AdmissionObject<RawLimitRangeSpec> = parse(o, file)?;
                    let name = name_of(&kube, &raw.metadata, o)?.value;
                    let namespace = namespace_of(&raw.metadata)?;
                    let spec = raw.spec.unwrap_or_default();
                    let (range, skipped) =
                        self.in_manifest(&file.shown, &|f| f.to_owned(), |b| {
                            b.limit_range(name, namespace, &spec, "spec")
                        })?;
                    for (at, field) in skipped {
                        out.warnings.push(format!(
                            "{}:{}:{}: LimitRange {}: {field}: PersistentVolumeClaim limits are not modelled by schedlab, ignored",
                            file.shown,
                            at.referenced.line(),
                            at.referenced.column(),
                            range.name,
                        ));
                    }
                    self.limit_ranges.push(range);
                }
                Modelled::ResourceQuota => {
                    let raw: AdmissionObject<RawQuotaSpec> = parse(o, file)?;
                    let name = name_of(&kube, &raw.metadata, o)?.value;
                    let namespace = namespace_of(&raw.metadata)?;
                    let spec = raw.spec.unwrap_or_default();
                    let (quota, skipped) =
                        self.in_manifest(&file.shown, &|f| f.to_owned(), |b| {
                            b.resource_quota(name, namespace, &spec, "spec")
                        })?;
                    for (key, field) in skipped {
                        out.warnings.push(format!(
                            "{}:{}:{}: ResourceQuota {}: {field}: not modelled by schedlab (only pods and compute resources are counted), ignored",
                            file.shown,
                            key.referenced.line(),
                            key.referenced.column(),
                            quota.name,
                        ));
                    }
                    out.quotas.push(quota);
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// Builds the PodDisruptionBudgets, Nodes and workloads of the manifests; node and
    /// workload names must not clash with the scenario's own (`nodes`, `workloads`).
    pub(super) fn manifest_objects(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
        nodes: &[NodeSpec],
        workloads: &[Workload],
    ) -> Result<Built> {
        let mut out = Built::default();
        for (f, o) in m.objects.iter().filter(|(_, o)| !o.managed) {
            let file = &files[*f];
            let kube = Reader::new(&file.shown);
            match o.kind {
                Modelled::PriorityClass
                | Modelled::Namespace
                | Modelled::LimitRange
                | Modelled::ResourceQuota
                | Modelled::StorageClass
                | Modelled::PersistentVolume
                | Modelled::PersistentVolumeClaim
                | Modelled::HorizontalPodAutoscaler
                | Modelled::CronJob => {}
                Modelled::Pdb => {
                    let raw: PdbObject = parse(o, file)?;
                    let meta = raw.metadata;
                    let name = name_of(&kube, &meta, o)?;
                    let spec = raw.spec.unwrap_or_default();
                    let item = at(
                        RawPdb {
                            name,
                            namespace: meta.and_then(|m| m.namespace),
                            selector: spec.selector,
                            min_available: spec.min_available,
                            max_unavailable: spec.max_unavailable,
                        },
                        &o.at,
                    );
                    let fix = |f: &str| {
                        respell(f, "podDisruptionBudgets[0]", &|h| match h {
                            "name" | "namespace" => Some("metadata"),
                            _ => Some("spec"),
                        })
                    };
                    let built = self.in_manifest(&file.shown, &fix, |b| {
                        b.pod_disruption_budgets(std::slice::from_ref(&item))
                    })?;
                    out.budgets.extend(built);
                }
                Modelled::Node => {
                    let raw: RawNodeObject = parse(o, file)?;
                    let meta = raw.metadata.unwrap_or_default();
                    let name = name_of(
                        &kube,
                        &Some(RawObjectMeta {
                            name: meta.name.clone(),
                            ..RawObjectMeta::default()
                        }),
                        o,
                    )?;
                    if nodes.iter().chain(&out.nodes).any(|n| n.name == name.value) {
                        return Err(kube.err(
                            &name.referenced,
                            "metadata.name",
                            format!("duplicate node name {:?}: the scenario or an earlier manifest already defines it", name.value),
                        ));
                    }
                    let spec = raw.spec.unwrap_or_default();
                    let node = at(
                        RawNode {
                            name,
                            allocatable: raw.status.unwrap_or_default().allocatable,
                            labels: meta.labels,
                            taints: spec.taints,
                            unschedulable: spec.unschedulable,
                            gpus: None,
                            gpu_model: None,
                            // `status.images` is not read: the scenario's `images:`
                            // gives sizes, and a node of a manifest starts with none.
                            images: None,
                            csi_attach_limits: None,
                        },
                        &o.at,
                    );
                    let cluster = RawCluster {
                        node_pools: None,
                        nodes: Some(at(vec![node], &o.at)),
                        trace: None,
                        machines: None,
                    };
                    let fix = |f: &str| {
                        respell(f, "cluster.nodes[0]", &|h| match h {
                            "name" | "labels" => Some("metadata"),
                            "allocatable" => Some("status"),
                            _ => Some("spec"),
                        })
                    };
                    let built = self.in_manifest(&file.shown, &fix, |b| b.cluster(&cluster))?;
                    out.nodes.extend(built);
                }
                Modelled::Workload(kind) => {
                    let mut w = self.manifest_workload(file, o, kind)?;
                    w.adopted = adopted_templates(&w, &o.adopted);
                    if !w.adopted.is_empty() {
                        w.adopted_ordinals.clone_from(&o.adopted_ordinals);
                        w.adopted_ran = o.adopted_started.iter().map(|&t| m.since(t)).collect();
                    }
                    if let WorkloadKind::Job { spec, .. } = &mut w.kind {
                        let done = match &o.succeeded {
                            None => o.succeeded_pods,
                            Some(n) => n.parse::<u32>().map_err(|_| {
                                kube.err(
                                    &o.at,
                                    "status.succeeded",
                                    format!("Job {}: expected `status.succeeded` to be a non-negative integer, got {n:?}", o.name),
                                )
                            })?,
                        };
                        spec.succeeded = done.min(spec.completions);
                        spec.started_before = m.since(o.start_time);
                        // A reason schedlab does not model (PodFailurePolicy, failed
                        // indexes) still means the Job is over; it is counted as
                        // BackoffLimitExceeded.
                        spec.failed_before = o.failed_condition.as_deref().map(|r| {
                            JobFailureReason::parse(r)
                                .unwrap_or(JobFailureReason::BackoffLimitExceeded)
                        });
                        if let Some(n) = &o.failed {
                            spec.failed = n.parse::<u32>().map_err(|_| {
                                kube.err(
                                    &o.at,
                                    "status.failed",
                                    format!("Job {}: expected `status.failed` to be a non-negative integer, got {n:?}", o.name),
                                )
                            })?;
                        }
                    }
                    if let Some(cron) = &o.cron_job {
                        out.cron_adopted.push((
                            out.workloads.len(),
                            o.namespace.clone(),
                            cron.clone(),
                        ));
                    }
                    if workloads
                        .iter()
                        .chain(&out.workloads)
                        .any(|x| x.template.name == w.template.name)
                    {
                        let raw: RawPodObject = parse(o, file)?;
                        let name = name_of(&kube, &raw.metadata, o)?;
                        return Err(kube.err(
                            &name.referenced,
                            "metadata.name",
                            format!("duplicate workload name {:?}: the scenario or an earlier manifest already uses it", w.template.name),
                        ));
                    }
                    out.workloads.push(w);
                }
            }
        }
        Ok(out)
    }

    /// A Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or Pod as the workload its scenario
    /// entry would build.
    fn manifest_workload(
        &mut self,
        file: &'f ManifestFile,
        o: &Object,
        kind: Kind,
    ) -> Result<Workload> {
        let kube = Reader::new(&file.shown);
        let mut w = RawWorkload::default();
        let meta = if kind == Kind::Pod {
            let raw: RawPodObject = parse(o, file)?;
            let meta = raw.metadata.unwrap_or_default();
            pod_fields(
                &mut w,
                raw.spec.unwrap_or_default(),
                meta.labels.clone(),
                meta.annotations.clone(),
            );
            meta
        } else {
            let raw: RawControllerObject<RawClaimTemplate> = parse(o, file)?;
            let meta = raw.metadata.unwrap_or_default();
            let spec = raw.spec.unwrap_or_default();
            let template = spec.template.unwrap_or_default();
            let tmeta = template.metadata.unwrap_or_default();
            let pod = template.spec.unwrap_or_default();
            if kind == Kind::Job {
                w.restart_policy = pod.restart_policy.clone();
                w.completions = spec.completions;
                w.parallelism = spec.parallelism;
                w.backoff_limit = spec.backoff_limit;
                w.active_deadline_seconds = spec.active_deadline_seconds;
            } else if kind != Kind::DaemonSet {
                // Kubernetes' default of one replica.
                w.replicas = Some(
                    spec.replicas
                        .unwrap_or_else(|| at(Scalar("1".into()), &o.at)),
                );
            }
            if kind == Kind::StatefulSet {
                // A snapshot's claims of the set's ordinals are the set's own.
                self.adopt_claims = true;
                w.pod_management_policy = spec.pod_management_policy;
                w.volume_claim_templates = spec.volume_claim_templates;
                w.persistent_volume_claim_retention_policy =
                    spec.persistent_volume_claim_retention_policy;
            }
            pod_fields(&mut w, pod, tmeta.labels, tmeta.annotations);
            meta
        };
        let name = name_of(
            &kube,
            &Some(RawObjectMeta {
                name: meta.name.clone(),
                ..RawObjectMeta::default()
            }),
            o,
        )?;
        w.namespace = meta.namespace;
        let field_name = kube.non_empty(&name, "metadata.name", "a workload name")?;
        let fix = move |f: &str| {
            respell(f, "", &|h| match h {
                "namespace" => Some("metadata"),
                "labels" | "annotations" if kind == Kind::Pod => Some("metadata"),
                "labels" | "annotations" => Some("spec.template.metadata"),
                "replicas"
                | "completions"
                | "parallelism"
                | "backoffLimit"
                | "activeDeadlineSeconds"
                | "podManagementPolicy"
                | "volumeClaimTemplates"
                | "persistentVolumeClaimRetentionPolicy" => Some("spec"),
                _ => Some(if kind == Kind::Pod {
                    "spec"
                } else {
                    "spec.template.spec"
                }),
            })
        };
        let item = at(w, &o.at);
        let built = self.in_manifest(&file.shown, &fix, |b| {
            b.workload(&item, kind, field_name, "")
        });
        self.adopt_claims = false;
        built
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_respelt_in_the_manifest_shape() {
        let fix = |f: &str| {
            respell(f, "", &|h| match h {
                "namespace" => Some("metadata"),
                _ => Some("spec.template.spec"),
            })
        };
        assert_eq!(
            fix("containers[0].requests.cpu"),
            "spec.template.spec.containers[0].resources.requests.cpu"
        );
        assert_eq!(fix("namespace"), "metadata.namespace");
        assert_eq!(plural("Service", 12), "12 Services");
        assert_eq!(plural("NetworkPolicy", 2), "2 NetworkPolicies");
        assert_eq!(plural("Ingress", 2), "2 Ingresses");
        assert_eq!(plural("Gateway", 2), "2 Gateways");
    }

    #[test]
    fn an_object_ends_at_a_less_indented_line() {
        let text = "items:\n- kind: A\n  x: 1\n- kind: B\nkind: List\n";
        let start = text.find("kind: A").unwrap();
        assert_eq!(
            &text[start..object_end(text, start, 3)],
            "kind: A\n  x: 1\n"
        );
        let start = text.find("kind: B").unwrap();
        assert_eq!(&text[start..object_end(text, start, 3)], "kind: B\n");
    }
}
