//! The pieces of Kubernetes objects as a file writes them, with Kubernetes' field names and
//! the position of every value that is checked after parsing.
//!
//! Every struct denies unknown fields, so a misspelt key is an error that lists the allowed
//! ones. Values that need checking (quantities, numbers, names, operators) are kept as text
//! in [`Spanned`] wrappers, so that [`super::Reader`] can report their exact line and
//! column; serde only checks the shape here: which keys exist, and whether a value is a
//! mapping, a list or a single value. Fields that Kubernetes requires but that are checked
//! after parsing are optional here, so that the message can say what they are for.
//!
//! The types are named after their Kubernetes counterparts with a `Raw` prefix, which
//! tells them apart from the model types they become ([`crate::NodeAffinity`], ...).
//!
//! The whole objects at the end (a Pod, a Node, a Deployment's, ReplicaSet's, StatefulSet's
//! or Job's spec, and the pod spec, containers and metadata they hold) are the exception:
//! they allow unknown fields, because a manifest or an API request carries many fields
//! that do not concern scheduling (`env`, `livenessProbe`, `status.nodeInfo`, ...). The
//! manifest reader warns about those itself, and the API server keeps them as sent. They
//! hold only the fields schedlab reads.

use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;

use super::scalar::{LabelMap, QuantityMap, Scalar};

/// A node taint (`{key, value, effect}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTaint {
    /// The taint's key.
    pub key: Spanned<String>,
    /// Its value; empty when absent.
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: Spanned<String>,
    /// When a NoExecute taint was added (the node lifecycle controller writes it; only
    /// taint eviction reads it, and schedlab's scheduling does not).
    pub time_added: Option<String>,
}

/// A pod toleration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawToleration {
    /// The taint key it tolerates; empty with `Exists` for every key.
    pub key: Option<Spanned<String>>,
    /// `Equal` (the default) or `Exists`.
    pub operator: Option<Spanned<String>>,
    /// The value an `Equal` toleration matches.
    pub value: Option<Spanned<String>>,
    /// The effect it tolerates; every effect when absent or empty.
    pub effect: Option<Spanned<String>>,
    /// How long a `NoExecute` taint is tolerated.
    pub toleration_seconds: Option<Spanned<Scalar>>,
}

/// A pod's `affinity`: node affinity, and inter-pod affinity and anti-affinity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawAffinity {
    /// `nodeAffinity`.
    pub node_affinity: Option<RawNodeAffinity>,
    /// `podAffinity`.
    pub pod_affinity: Option<RawPodAffinity>,
    /// `podAntiAffinity`.
    pub pod_anti_affinity: Option<RawPodAffinity>,
}

/// A `NodeAffinity`: required terms (ORed) and weighted preferred terms.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawNodeAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    pub required_during_scheduling_ignored_during_execution: Option<Spanned<RawNodeSelector>>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred_during_scheduling_ignored_during_execution:
        Option<Vec<Spanned<RawPreferredSchedulingTerm>>>,
}

/// A `NodeSelector`: terms that are ORed. Kubernetes requires `nodeSelectorTerms` in a
/// pod's spec; kube-scheduler's plugin arguments take it absent or null, as no terms. So
/// both are kept apart from a list and checked after parsing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawNodeSelector {
    /// `nodeSelectorTerms`: `None` when absent, a located `None` when null.
    #[serde(default, deserialize_with = "present")]
    pub node_selector_terms: Option<Spanned<Option<Vec<Spanned<RawNodeSelectorTerm>>>>>,
}

/// A `NodeSelectorTerm`: requirements that are ANDed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawNodeSelectorTerm {
    /// Requirements on node labels.
    pub match_expressions: Option<Vec<Spanned<RawRequirement>>>,
    /// Requirements on node fields (only `metadata.name` exists).
    pub match_fields: Option<Vec<Spanned<RawRequirement>>>,
}

/// `{key, operator, values}`: a node selector requirement, or a label selector's
/// `matchExpressions` item, which has the same fields.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawRequirement {
    /// The label (or field) key.
    pub key: Spanned<String>,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, and in node selectors `Gt` and `Lt`.
    pub operator: Spanned<String>,
    /// The values the operator compares with.
    pub values: Option<Spanned<Vec<Spanned<String>>>>,
}

/// A `PreferredSchedulingTerm`: a node selector term with its weight.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawPreferredSchedulingTerm {
    /// The weight added to a node's score when the term matches it.
    pub weight: Spanned<Scalar>,
    /// The term.
    pub preference: Spanned<RawNodeSelectorTerm>,
}

/// A `PodAffinity` or `PodAntiAffinity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawPodAffinity {
    /// `requiredDuringSchedulingIgnoredDuringExecution`.
    pub required_during_scheduling_ignored_during_execution:
        Option<Vec<Spanned<RawPodAffinityTerm>>>,
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    pub preferred_during_scheduling_ignored_during_execution:
        Option<Vec<Spanned<RawWeightedPodAffinityTerm>>>,
}

/// A `PodAffinityTerm`. `topologyKey` is required, but checked after parsing so that the
/// message can say what it is for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawPodAffinityTerm {
    /// The pods the term is about.
    pub label_selector: Option<Spanned<RawLabelSelector>>,
    /// The namespaces those pods are looked for in.
    pub namespaces: Option<Vec<Spanned<String>>>,
    /// Namespaces by their labels.
    pub namespace_selector: Option<Spanned<RawLabelSelector>>,
    /// The node label whose values are the domains.
    pub topology_key: Option<Spanned<String>>,
    /// Keys whose incoming pod's values are added to the selector with `In`.
    pub match_label_keys: Option<Spanned<Vec<Spanned<String>>>>,
    /// Keys whose incoming pod's values are added to the selector with `NotIn`.
    pub mismatch_label_keys: Option<Spanned<Vec<Spanned<String>>>>,
}

/// A `WeightedPodAffinityTerm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawWeightedPodAffinityTerm {
    /// The weight, from 1 to 100.
    pub weight: Spanned<Scalar>,
    /// The term.
    pub pod_affinity_term: Spanned<RawPodAffinityTerm>,
}

/// A `LabelSelector` over pods or namespaces: `matchLabels` and `matchExpressions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawLabelSelector {
    /// Labels that must be equal.
    pub match_labels: Option<LabelMap>,
    /// Requirements, with the operators `In`, `NotIn`, `Exists` and `DoesNotExist`.
    pub match_expressions: Option<Vec<Spanned<RawRequirement>>>,
}

/// A `TopologySpreadConstraint`. The required keys are checked after parsing, so that the
/// message can say what they are for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTopologySpreadConstraint {
    /// How much the number of matching pods may differ between domains.
    pub max_skew: Option<Spanned<Scalar>>,
    /// The node label whose values are the domains.
    pub topology_key: Option<Spanned<String>>,
    /// `DoNotSchedule` or `ScheduleAnyway`.
    pub when_unsatisfiable: Option<Spanned<String>>,
    /// The pods that are counted.
    pub label_selector: Option<Spanned<RawLabelSelector>>,
    /// The fewest domains assumed.
    pub min_domains: Option<Spanned<Scalar>>,
    /// `Honor` or `Ignore` the pod's node affinity when counting domains.
    pub node_affinity_policy: Option<Spanned<String>>,
    /// `Honor` or `Ignore` node taints when counting domains.
    pub node_taints_policy: Option<Spanned<String>>,
    /// Keys whose incoming pod's values are added to the selector.
    pub match_label_keys: Option<Spanned<Vec<Spanned<String>>>>,
}

/// A `ContainerPort`. `containerPort` is required, but checked after parsing so that the
/// message can say where.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawContainerPort {
    /// The port the container listens on.
    pub container_port: Option<Spanned<Scalar>>,
    /// The node port it is exposed on; 0 or absent for none.
    pub host_port: Option<Spanned<Scalar>>,
    /// `TCP` (the default), `UDP` or `SCTP`.
    pub protocol: Option<Spanned<String>>,
    /// The node address the host port binds; every address when absent.
    #[serde(rename = "hostIP")]
    pub host_ip: Option<Spanned<String>>,
    /// An IANA service name for the port.
    pub name: Option<Spanned<String>>,
}

/// A pod `Volume`; only the PersistentVolumeClaim source is read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawVolume {
    /// The volume's name in the pod.
    pub name: Spanned<String>,
    /// `persistentVolumeClaim: {claimName}`.
    pub persistent_volume_claim: Option<Spanned<RawClaimSource>>,
}

/// A `PersistentVolumeClaimVolumeSource`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawClaimSource {
    /// The claim, in the pod's namespace.
    pub claim_name: Spanned<String>,
}

/// A PersistentVolume's `VolumeNodeAffinity`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawVolumeNodeAffinity {
    /// The nodes that can reach the volume.
    pub required: Spanned<RawNodeSelector>,
}

/// A `TopologySelectorTerm` (a StorageClass's `allowedTopologies` item).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTopologySelectorTerm {
    /// Requirements that are ANDed.
    pub match_label_expressions: Spanned<Vec<Spanned<RawTopologyRequirement>>>,
}

/// A `TopologySelectorLabelRequirement`: `{key, values}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawTopologyRequirement {
    /// The node label key.
    pub key: Spanned<String>,
    /// Its allowed values.
    pub values: Spanned<Vec<Spanned<String>>>,
}

/// An object's `metadata`, the fields schedlab reads (uid, resourceVersion,
/// ownerReferences, ... are skipped). A pod template's `metadata` is one too.
#[derive(Debug, Default, Deserialize)]
pub struct RawObjectMeta {
    /// The object's name.
    pub name: Option<Spanned<String>>,
    /// Its namespace (`default` when absent, for namespaced kinds).
    pub namespace: Option<Spanned<String>>,
    /// Its labels.
    pub labels: Option<LabelMap>,
    /// Its annotations.
    pub annotations: Option<LabelMap>,
}

/// A `PodSpec`, the fields schedlab reads.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPodSpec {
    /// The app containers.
    pub containers: Option<Spanned<Vec<Spanned<RawContainer>>>>,
    /// The init containers, run one at a time before the app containers.
    pub init_containers: Option<Spanned<Vec<Spanned<RawContainer>>>>,
    /// The RuntimeClass overhead, added to the pod's effective request.
    pub overhead: Option<QuantityMap>,
    /// Labels a node must have.
    pub node_selector: Option<LabelMap>,
    /// The taints the pod tolerates.
    pub tolerations: Option<Vec<Spanned<RawToleration>>>,
    /// Node affinity, inter-pod affinity and anti-affinity.
    pub affinity: Option<RawAffinity>,
    /// How the pod's replicas spread over topology domains.
    pub topology_spread_constraints: Option<Vec<Spanned<RawTopologySpreadConstraint>>>,
    /// The node the pod is bound to, or asks to be bound to.
    pub node_name: Option<Spanned<String>>,
    /// The pod's volumes; only claims concern scheduling.
    pub volumes: Option<Vec<Spanned<RawPodVolume>>>,
    /// The PriorityClass whose value becomes `priority`.
    pub priority_class_name: Option<Spanned<String>>,
    /// The priority, as admission resolved it from the PriorityClass.
    pub priority: Option<Spanned<Scalar>>,
    /// `PreemptLowerPriority` or `Never`.
    pub preemption_policy: Option<Spanned<String>>,
    /// How long a deleted pod may take to stop.
    pub termination_grace_period_seconds: Option<Spanned<Scalar>>,
    /// `Always`, `OnFailure` or `Never`.
    pub restart_policy: Option<Spanned<String>>,
}

/// A `Container`, the fields schedlab reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawContainer {
    /// The container's name, unique in its pod.
    pub name: Spanned<String>,
    /// Its image.
    pub image: Option<Spanned<String>>,
    /// Its requests and limits.
    pub resources: Option<RawResourceRequirements>,
    /// Its ports; those with a `hostPort` concern scheduling.
    pub ports: Option<Spanned<Vec<Spanned<RawContainerPort>>>>,
    /// `Always` on an init container makes it a sidecar.
    pub restart_policy: Option<Spanned<String>>,
}

/// A container's `resources` (`ResourceRequirements`).
#[derive(Debug, Default, Deserialize)]
pub struct RawResourceRequirements {
    /// What the container is guaranteed, and the scheduler charges.
    pub requests: Option<QuantityMap>,
    /// The most it may use.
    pub limits: Option<QuantityMap>,
}

/// A pod `Volume` in a PodSpec: only a claim source concerns scheduling, and other
/// sources (emptyDir, configMap, secret, ...) are skipped.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPodVolume {
    /// The volume's name in the pod.
    pub name: Spanned<String>,
    /// `persistentVolumeClaim: {claimName}`.
    pub persistent_volume_claim: Option<Spanned<RawClaimSource>>,
}

/// A `PodTemplateSpec` (a controller's `spec.template`).
#[derive(Debug, Default, Deserialize)]
pub struct RawPodTemplateSpec {
    /// The pods' metadata (labels, annotations).
    pub metadata: Option<RawObjectMeta>,
    /// The pods' spec.
    pub spec: Option<RawPodSpec>,
}

/// A Pod.
#[derive(Debug, Deserialize)]
pub struct RawPodObject {
    /// Its metadata.
    pub metadata: Option<RawObjectMeta>,
    /// Its spec.
    pub spec: Option<RawPodSpec>,
}

/// The spec of a Deployment, ReplicaSet, StatefulSet or Job, one type for the four
/// (each kind reads its own fields). `C` is a StatefulSet's claim template, which only the
/// scenario loader models; other readers skip them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawControllerSpec<C = serde::de::IgnoredAny> {
    /// Deployment, ReplicaSet, StatefulSet: the pods wanted.
    pub replicas: Option<Spanned<Scalar>>,
    /// The pods' template.
    pub template: Option<RawPodTemplateSpec>,
    /// StatefulSet: `OrderedReady` or `Parallel`.
    pub pod_management_policy: Option<Spanned<String>>,
    /// StatefulSet: the claims each pod gets.
    pub volume_claim_templates: Option<Spanned<Vec<Spanned<C>>>>,
    /// StatefulSet: what happens to its claims on a scale-down or its deletion.
    pub persistent_volume_claim_retention_policy: Option<Spanned<RawRetentionPolicy>>,
    /// Job: successful pods needed.
    pub completions: Option<Spanned<Scalar>>,
    /// Job: pods running at once.
    pub parallelism: Option<Spanned<Scalar>>,
    /// Job: failed pods tolerated.
    pub backoff_limit: Option<Spanned<Scalar>>,
    /// Job: how long it may run.
    pub active_deadline_seconds: Option<Spanned<Scalar>>,
}

impl<C> Default for RawControllerSpec<C> {
    fn default() -> Self {
        RawControllerSpec {
            replicas: None,
            template: None,
            pod_management_policy: None,
            volume_claim_templates: None,
            persistent_volume_claim_retention_policy: None,
            completions: None,
            parallelism: None,
            backoff_limit: None,
            active_deadline_seconds: None,
        }
    }
}

/// A StatefulSet's `persistentVolumeClaimRetentionPolicy` (apps/v1): `Retain` or
/// `Delete` for each case, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawRetentionPolicy {
    /// When the StatefulSet is deleted.
    pub when_deleted: Option<Spanned<String>>,
    /// When a scale-down removes ordinals.
    pub when_scaled: Option<Spanned<String>>,
}

/// A Deployment, ReplicaSet, StatefulSet or Job.
#[derive(Debug, Deserialize)]
pub struct RawControllerObject<C = serde::de::IgnoredAny> {
    /// Its metadata.
    pub metadata: Option<RawObjectMeta>,
    /// Its spec.
    pub spec: Option<RawControllerSpec<C>>,
}

/// A Node's `spec`.
#[derive(Debug, Default, Deserialize)]
pub struct RawNodeSpec {
    /// Its taints.
    pub taints: Option<Vec<Spanned<RawTaint>>>,
    /// Cordoned: no new pods.
    pub unschedulable: Option<bool>,
}

/// One of a Node's `status.conditions`; only `Ready` concerns scheduling.
#[derive(Debug, Deserialize)]
pub struct RawNodeCondition {
    /// `Ready`, `MemoryPressure`, ...
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// `True`, `False` or `Unknown`.
    pub status: Option<Spanned<String>>,
}

/// A Node's `status`.
#[derive(Debug, Default, Deserialize)]
pub struct RawNodeStatus {
    /// What pods may request in total.
    pub allocatable: Option<QuantityMap>,
    /// Its conditions (`Ready`, ...).
    pub conditions: Option<Vec<Spanned<RawNodeCondition>>>,
}

/// A Node.
#[derive(Debug, Deserialize)]
pub struct RawNodeObject {
    /// Its metadata.
    pub metadata: Option<RawObjectMeta>,
    /// Its spec.
    pub spec: Option<RawNodeSpec>,
    /// Its status.
    pub status: Option<RawNodeStatus>,
}

/// Reads a field whose absence (`None`, by `#[serde(default)]`) means something else than
/// a null, which `T` reads: `Option<T>` alone would read a null as absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}
