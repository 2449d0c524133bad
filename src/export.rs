//! A simulated cluster's state at one instant as Kubernetes objects: a `kind: List` of
//! Nodes and Pods, the form `kubectl get nodes,pods -A -o yaml` prints, which a
//! scenario's `manifests:` (or `--manifests`) loads back into the same state.
//!
//! What is written, and why it is enough for a round trip:
//! - every node still in the cluster, in node order (so a reload gives every node the
//!   same id): labels, taints, `unschedulable`, and its allocatable as both `capacity`
//!   and `allocatable`;
//! - every pod that holds or waits for a node (Pending, waiting at Permit, Bound,
//!   Running), sorted by namespace and name: labels, annotations, the containers' and init
//!   containers' requests, limits, host ports and images, overhead, node selector, node
//!   and pod (anti-)affinity, tolerations, topology spread constraints, priority,
//!   preemption policy, grace period, and `spec.nodeName` once it is bound, which the
//!   loader's kubelet admission honours at time 0.
//!
//! Simplified, stated: each pod is written as a bare Pod. The workloads that made the
//! pods (Deployments, Jobs, traces), their remaining run times and the scenario's
//! dynamics are not state a List can carry; a scenario that loads the List gives them
//! again. A pod whose requests were drawn (`sized:`) is written with one container asking
//! for what it was given. What manifests cannot express is left out and counted in
//! [`Export::omitted`]: GPU shares of the GPU-sharing model, pod groups, claims, nodes'
//! images and GPUs.

use std::fmt::Debug;

use schedulers::pod_affinity::{LabelSelector, PodAffinity, PodAffinityTerm};
use schedulers::quantity::{format_bytes, format_cpu_millis};
use schedulers::{
    ClusterState, ContainerResources, Labels, NodeSelectorTerm, Pod, PodPhase, ResourceKind,
    ResourceNames, Resources, SelectorRequirement,
};
use serde_json::{Map, Value, json};

/// The exported List and what it had to leave out.
#[derive(Debug)]
pub struct Export {
    /// The `kind: List` object.
    pub list: Value,
    /// One line per kind of thing left out, with how many objects it concerned.
    pub omitted: Vec<String>,
}

/// The nodes and live pods of `cluster` as a Kubernetes List.
pub fn cluster_list(cluster: &ClusterState) -> Export {
    let names = cluster.resource_names();
    let mut omitted = Omitted::default();
    let mut items: Vec<Value> = cluster
        .nodes()
        .iter()
        .filter(|n| !n.removed)
        .map(|n| {
            if n.spec.gpu.count > 0 {
                omitted.node_gpus += 1;
            }
            if !n.spec.images.is_empty() {
                omitted.node_images += 1;
            }
            let mut spec = Map::new();
            if !n.spec.taints.is_empty() {
                let taints = n.spec.taints.iter().map(|t| {
                    let mut taint = object([("key", json!(t.key)), ("effect", spelled(&t.effect))]);
                    if !t.value.is_empty() {
                        taint.insert("value".into(), json!(t.value));
                    }
                    Value::Object(taint)
                });
                spec.insert("taints".into(), Value::Array(taints.collect()));
            }
            if n.spec.unschedulable {
                spec.insert("unschedulable".into(), json!(true));
            }
            let allocatable = quantities(&n.spec.allocatable, names);
            json!({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": metadata(&n.spec.name, None, &n.spec.labels, &Labels::default()),
                "spec": spec,
                "status": {"capacity": allocatable, "allocatable": allocatable},
            })
        })
        .collect();

    let mut pods: Vec<(&str, String, &Pod)> = cluster
        .pods()
        .filter(|(_, p)| {
            matches!(
                p.phase,
                PodPhase::Pending | PodPhase::Waiting | PodPhase::Bound | PodPhase::Running
            )
        })
        .map(|(_, p)| (p.template.namespace.as_str(), p.name().to_string(), p))
        .collect();
    pods.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (namespace, name, pod) in pods {
        let node = pod.node.map(|id| cluster.node(id).spec.name.as_str());
        items.push(pod_object(namespace, &name, pod, node, names, &mut omitted));
    }
    Export {
        list: json!({"apiVersion": "v1", "kind": "List", "items": items}),
        omitted: omitted.lines(),
    }
}

/// Counts of what manifests cannot carry.
#[derive(Debug, Default)]
struct Omitted {
    gpu_shares: u64,
    pod_groups: u64,
    claims: u64,
    node_gpus: u64,
    node_images: u64,
}

impl Omitted {
    fn lines(&self) -> Vec<String> {
        [
            (
                self.gpu_shares,
                "pod(s) asking for GPUs of the GPU-sharing model: written without them",
            ),
            (
                self.pod_groups,
                "pod(s) of a pod group: written without their group",
            ),
            (
                self.claims,
                "pod(s) mounting PersistentVolumeClaims: written without their volumes",
            ),
            (
                self.node_gpus,
                "node(s) with GPUs of the GPU-sharing model: written without them",
            ),
            (
                self.node_images,
                "node(s) holding images: written without them",
            ),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect()
    }
}

/// One pod as a `v1 Pod`.
fn pod_object(
    namespace: &str,
    name: &str,
    pod: &Pod,
    node: Option<&str>,
    names: &ResourceNames,
    omitted: &mut Omitted,
) -> Value {
    let t = &*pod.template;
    if t.gpu.count > 0 {
        omitted.gpu_shares += 1;
    }
    if t.pod_group.is_some() {
        omitted.pod_groups += 1;
    }
    if !t.volume_claims.is_empty() {
        omitted.claims += 1;
    }
    let mut spec = Map::new();
    if pod.requests == t.effective_requests() {
        // The template lists init containers' images first, as kube-scheduler does; a
        // container without an image shifts the rest, which keeps the list (all that
        // ImageLocality and the pulls read) the same when the List is loaded again.
        let first_app_image = t.init_containers.len();
        spec.insert(
            "containers".into(),
            containers(&t.containers, &t.images, first_app_image, names),
        );
        if !t.init_containers.is_empty() {
            spec.insert(
                "initContainers".into(),
                containers(&t.init_containers, &t.images, 0, names),
            );
        }
    } else {
        // Drawn sizes: one container asking for exactly what the pod was given.
        let mut asked = ContainerResources {
            name: t
                .containers
                .first()
                .map_or("main", |c| c.name.as_str())
                .to_owned(),
            ..ContainerResources::default()
        };
        for kind in names.kinds() {
            let amount = pod.requests.get(kind) - t.overhead.get(kind);
            if amount > 0 {
                asked.set_request(kind, amount);
            }
        }
        spec.insert(
            "containers".into(),
            containers(&[asked], &t.images, 0, names),
        );
    }
    if !t.overhead.is_zero() {
        spec.insert("overhead".into(), quantities(&t.overhead, names));
    }
    if !t.node_selector.is_empty() {
        spec.insert("nodeSelector".into(), labels(&t.node_selector));
    }
    let mut affinity = Map::new();
    if let Some(a) = &t.node_affinity {
        let mut node_affinity = Map::new();
        if let Some(required) = &a.required {
            let terms = required.iter().map(node_selector_term).collect();
            node_affinity.insert(
                "requiredDuringSchedulingIgnoredDuringExecution".into(),
                json!({"nodeSelectorTerms": Value::Array(terms)}),
            );
        }
        if !a.preferred.is_empty() {
            let terms = a.preferred.iter().map(
                |p| json!({"weight": p.weight, "preference": node_selector_term(&p.preference)}),
            );
            node_affinity.insert(
                "preferredDuringSchedulingIgnoredDuringExecution".into(),
                Value::Array(terms.collect()),
            );
        }
        affinity.insert("nodeAffinity".into(), Value::Object(node_affinity));
    }
    for (key, a) in [
        ("podAffinity", &t.pod_affinity),
        ("podAntiAffinity", &t.pod_anti_affinity),
    ] {
        if let Some(a) = a {
            affinity.insert(key.into(), pod_affinity(a));
        }
    }
    if !affinity.is_empty() {
        spec.insert("affinity".into(), Value::Object(affinity));
    }
    if !t.tolerations.is_empty() {
        let tolerations = t.tolerations.iter().map(|tol| {
            let mut o = object([("operator", spelled(&tol.operator))]);
            if !tol.key.is_empty() {
                o.insert("key".into(), json!(tol.key));
            }
            if !tol.value.is_empty() {
                o.insert("value".into(), json!(tol.value));
            }
            if let Some(effect) = &tol.effect {
                o.insert("effect".into(), spelled(effect));
            }
            if let Some(seconds) = tol.toleration_seconds {
                o.insert("tolerationSeconds".into(), json!(seconds));
            }
            Value::Object(o)
        });
        spec.insert("tolerations".into(), Value::Array(tolerations.collect()));
    }
    if !t.topology_spread_constraints.is_empty() {
        let constraints = t.topology_spread_constraints.iter().map(|c| {
            let mut o = object([
                ("maxSkew", json!(c.max_skew)),
                ("topologyKey", json!(c.topology_key)),
                ("whenUnsatisfiable", spelled(&c.when_unsatisfiable)),
                ("nodeAffinityPolicy", spelled(&c.node_affinity_policy)),
                ("nodeTaintsPolicy", spelled(&c.node_taints_policy)),
            ]);
            if let Some(s) = &c.label_selector {
                o.insert("labelSelector".into(), label_selector(s));
            }
            if let Some(m) = c.min_domains {
                o.insert("minDomains".into(), json!(m));
            }
            if !c.match_label_keys.is_empty() {
                o.insert("matchLabelKeys".into(), json!(c.match_label_keys));
            }
            Value::Object(o)
        });
        spec.insert(
            "topologySpreadConstraints".into(),
            Value::Array(constraints.collect()),
        );
    }
    if let Some(node) = node {
        spec.insert("nodeName".into(), json!(node));
    }
    spec.insert("priority".into(), json!(t.priority));
    spec.insert("preemptionPolicy".into(), spelled(&t.preemption_policy));
    spec.insert(
        "terminationGracePeriodSeconds".into(),
        json!(t.termination_grace_period_seconds),
    );
    let phase = match pod.phase {
        PodPhase::Running => "Running",
        _ => "Pending",
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata(name, Some(namespace), &t.labels, &t.annotations),
        "spec": spec,
        "status": {"phase": phase},
    })
}

/// Containers with their requests, limits, host ports and images (`images[first_image
/// + i]` for container `i`, where the template names one).
fn containers(
    list: &[ContainerResources],
    images: &[String],
    first_image: usize,
    names: &ResourceNames,
) -> Value {
    let each = list.iter().enumerate().map(|(i, c)| {
        // Scenario workloads may leave containers unnamed; a manifest must name them.
        let name = match c.name.as_str() {
            "" => format!("c{i}"),
            named => named.to_owned(),
        };
        let mut o = object([("name", json!(name))]);
        if let Some(image) = images.get(first_image + i) {
            o.insert("image".into(), json!(image));
        }
        let mut resources = Map::new();
        let requests = explicit(&c.requests, c.requests_set, names);
        if !requests.is_empty() {
            resources.insert("requests".into(), Value::Object(requests));
        }
        let limits = explicit(&c.limits, c.limits_set, names);
        if !limits.is_empty() {
            resources.insert("limits".into(), Value::Object(limits));
        }
        if !resources.is_empty() {
            o.insert("resources".into(), Value::Object(resources));
        }
        if !c.host_ports.is_empty() {
            let ports = c.host_ports.iter().map(|p| {
                let mut port = object([
                    ("containerPort", json!(p.port)),
                    ("hostPort", json!(p.port)),
                    ("protocol", json!(p.protocol.as_str())),
                ]);
                if !p.host_ip.is_empty() {
                    port.insert("hostIP".into(), json!(p.host_ip));
                }
                Value::Object(port)
            });
            o.insert("ports".into(), Value::Array(ports.collect()));
        }
        Value::Object(o)
    });
    Value::Array(each.collect())
}

/// The amounts whose bit is set in `set`, by Kubernetes resource name.
fn explicit(amounts: &Resources, set: u8, names: &ResourceNames) -> Map<String, Value> {
    names
        .kinds()
        .filter(|k| set & (1 << k.index()) != 0)
        .map(|k| (names.name(k).to_owned(), json!(quantity(k, amounts.get(k)))))
        .collect()
}

/// Every non-zero amount, by Kubernetes resource name.
fn quantities(amounts: &Resources, names: &ResourceNames) -> Value {
    let map: Map<String, Value> = names
        .kinds()
        .filter(|k| amounts.get(*k) != 0)
        .map(|k| (names.name(k).to_owned(), json!(quantity(k, amounts.get(k)))))
        .collect();
    Value::Object(map)
}

/// An amount as Kubernetes writes it: CPU in cores or millicores, memory and storage with
/// the largest exact binary suffix, counts as integers.
fn quantity(kind: ResourceKind, amount: i64) -> String {
    match kind {
        ResourceKind::CPU => format_cpu_millis(amount),
        ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => format_bytes(amount),
        _ => amount.to_string(),
    }
}

/// `metadata` with the name, namespace, labels and annotations that are set.
fn metadata(name: &str, namespace: Option<&str>, l: &Labels, annotations: &Labels) -> Value {
    let mut o = object([("name", json!(name))]);
    if let Some(ns) = namespace {
        o.insert("namespace".into(), json!(ns));
    }
    if !l.is_empty() {
        o.insert("labels".into(), labels(l));
    }
    if !annotations.is_empty() {
        o.insert("annotations".into(), labels(annotations));
    }
    Value::Object(o)
}

fn labels(l: &Labels) -> Value {
    Value::Object(l.iter().map(|(k, v)| (k.to_owned(), json!(v))).collect())
}

fn node_selector_term(term: &NodeSelectorTerm) -> Value {
    let mut o = Map::new();
    if !term.match_expressions.is_empty() {
        o.insert(
            "matchExpressions".into(),
            requirements(&term.match_expressions),
        );
    }
    if !term.match_fields.is_empty() {
        o.insert("matchFields".into(), requirements(&term.match_fields));
    }
    Value::Object(o)
}

fn requirements(list: &[SelectorRequirement]) -> Value {
    let each = list.iter().map(|r| {
        let mut o = object([("key", json!(r.key)), ("operator", spelled(&r.operator))]);
        if !r.values.is_empty() {
            o.insert("values".into(), json!(r.values));
        }
        Value::Object(o)
    });
    Value::Array(each.collect())
}

fn label_selector(s: &LabelSelector) -> Value {
    let mut o = Map::new();
    if !s.match_labels.is_empty() {
        o.insert("matchLabels".into(), labels(&s.match_labels));
    }
    if !s.match_expressions.is_empty() {
        o.insert(
            "matchExpressions".into(),
            requirements(&s.match_expressions),
        );
    }
    Value::Object(o)
}

fn pod_affinity(a: &PodAffinity) -> Value {
    let mut o = Map::new();
    if !a.required.is_empty() {
        o.insert(
            "requiredDuringSchedulingIgnoredDuringExecution".into(),
            Value::Array(a.required.iter().map(pod_affinity_term).collect()),
        );
    }
    if !a.preferred.is_empty() {
        let terms = a
            .preferred
            .iter()
            .map(|w| json!({"weight": w.weight, "podAffinityTerm": pod_affinity_term(&w.term)}));
        o.insert(
            "preferredDuringSchedulingIgnoredDuringExecution".into(),
            Value::Array(terms.collect()),
        );
    }
    Value::Object(o)
}

fn pod_affinity_term(term: &PodAffinityTerm) -> Value {
    let mut o = object([("topologyKey", json!(term.topology_key))]);
    if let Some(s) = &term.label_selector {
        o.insert("labelSelector".into(), label_selector(s));
    }
    if !term.namespaces.is_empty() {
        o.insert("namespaces".into(), json!(term.namespaces));
    }
    if let Some(s) = &term.namespace_selector {
        o.insert("namespaceSelector".into(), label_selector(s));
    }
    if !term.match_label_keys.is_empty() {
        o.insert("matchLabelKeys".into(), json!(term.match_label_keys));
    }
    if !term.mismatch_label_keys.is_empty() {
        o.insert("mismatchLabelKeys".into(), json!(term.mismatch_label_keys));
    }
    Value::Object(o)
}

/// An enum of the scheduling model whose variants are named as Kubernetes spells the value
/// (`NoSchedule`, `Exists`, `DoNotSchedule`, `PreemptLowerPriority`, ...).
fn spelled(v: &impl Debug) -> Value {
    json!(format!("{v:?}"))
}

fn object<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
