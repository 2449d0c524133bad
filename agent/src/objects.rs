//! Kubernetes objects as the API receives them (Pod, Node, Deployment, ReplicaSet, Job),
//! checked with the located YAML front end of [`schedulers::yaml`], and turned into the
//! scheduling model ([`PodTemplate`], [`NodeSpec`]).
//!
//! A body is JSON or YAML text (serde-saphyr reads both: JSON is YAML's flow style), read
//! once into the located types of [`schedulers::yaml::kube`], which the simulator's
//! manifest reader shares, and checked field by field by [`Reader`], so a bad request gets
//! the same message, with line, column and field, as the same object in a scenario's
//! manifest. The object itself is stored whole, unknown fields included, as the API server
//! keeps what it was sent.
//!
//! Where this simplifies: priority comes from `spec.priority` alone (there are no
//! PriorityClass objects to resolve `priorityClassName` against), and a pod's claims are
//! kept by name for VolumeBinding, with no PersistentVolumeClaim objects behind them.

use std::collections::HashMap;

use schedulers::images::normalized_image_name;
use schedulers::yaml::kube::{
    RawContainer, RawControllerObject, RawNodeObject, RawObjectMeta, RawPodObject, RawPodSpec,
};
use schedulers::yaml::{
    Location, NodeAffinityRules, Reader, Schema, Spanned, YamlError, parse_options, translate,
};
use schedulers::{
    ContainerResources, NodeSpec, OwnerKind, PodTemplate, PreemptionPolicy, ResourceNames,
    Resources,
};
use serde::Deserialize;
use serde_json::Value;

/// What every reader here returns.
pub type Result<T> = std::result::Result<T, YamlError>;

/// Kubernetes' default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE_SECONDS: u32 = 30;

/// The kinds the API accepts and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A Pod (`v1`).
    Pod,
    /// A Node (`v1`).
    Node,
    /// A Deployment (`apps/v1`).
    Deployment,
    /// A ReplicaSet (`apps/v1`).
    ReplicaSet,
    /// A Job (`batch/v1`).
    Job,
}

impl Kind {
    /// Every kind, in the order messages list them.
    pub const ALL: [Kind; 5] = [
        Kind::Pod,
        Kind::Node,
        Kind::Deployment,
        Kind::ReplicaSet,
        Kind::Job,
    ];

    /// The kind named `name` (`Pod`, `Deployment`, ...), if the API serves it.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The kind's name, as `kind:` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pod => "Pod",
            Kind::Node => "Node",
            Kind::Deployment => "Deployment",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Job => "Job",
        }
    }

    /// The `apiVersion` of the kind.
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Pod | Kind::Node => "v1",
            Kind::Deployment | Kind::ReplicaSet => "apps/v1",
            Kind::Job => "batch/v1",
        }
    }

    /// Whether objects of the kind live in a namespace.
    pub fn namespaced(self) -> bool {
        self != Kind::Node
    }
}

/// What the locator says a request body is.
struct BodySchema(Kind);

impl Schema for BodySchema {
    fn document(&self) -> &str {
        match self.0 {
            Kind::Pod => "a Pod",
            Kind::Node => "a Node",
            Kind::Deployment => "a Deployment",
            Kind::ReplicaSet => "a ReplicaSet",
            Kind::Job => "a Job",
        }
    }
}

/// The fields every object has, read first.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Header {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
}

/// Reads `text` as a located `T`, errors named after `source`.
fn parse<T: for<'de> Deserialize<'de>>(text: &str, source: &str, kind: Kind) -> Result<T> {
    serde_saphyr::from_str_with_options::<T>(text, parse_options())
        .map_err(|e| translate(&e, text, source, &BodySchema(kind)))
}

/// Checks a request body (`source` names it in messages: `POST /api/v1/nodes`) as an
/// object of `kind` (`Pod`, `Node`, `Deployment`, `ReplicaSet` or `Job`) and returns it as
/// JSON, every field kept as sent. The object must say its `kind` (the same one) and have a
/// `metadata.name`; `apiVersion`, when given, must be the kind's. Its scheduling fields are
/// checked as the pod template or node they become: a malformed quantity, selector or
/// toleration is a [`YamlError`] at its line and column.
pub fn validate(kind: &str, body: &str, source: &str) -> Result<Value> {
    let Some(k) = Kind::parse(kind) else {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(YamlError::file(
            source,
            format!("unknown kind {kind:?}; expected {}", names.join(", ")),
        ));
    };
    if body.trim().is_empty() {
        return Err(YamlError::file(
            source,
            format!("empty body: expected {}", BodySchema(k).document()),
        ));
    }
    let header: Spanned<Header> = parse(body, source, k)?;
    let start = header.referenced;
    match &header.value.kind {
        Some(v) if v.value == k.as_str() => {}
        Some(v) => {
            return Err(YamlError::at(
                source,
                &v.referenced,
                "kind",
                format!("expected kind {:?} here, got {:?}", k.as_str(), v.value),
            ));
        }
        None => {
            return Err(YamlError::at(
                source,
                &start,
                "kind",
                format!("missing `kind`: expected kind: {}", k.as_str()),
            ));
        }
    }
    if let Some(v) = &header.value.api_version
        && v.value != k.api_version()
    {
        return Err(YamlError::at(
            source,
            &v.referenced,
            "apiVersion",
            format!(
                "expected apiVersion {:?} for a {}, got {:?}",
                k.api_version(),
                k.as_str(),
                v.value
            ),
        ));
    }
    let kube = Reader::new(source);
    let mut names = ResourceNames::default();
    match k {
        Kind::Pod => {
            let raw: RawPodObject = parse(body, source, k)?;
            let meta = raw.metadata.unwrap_or_default();
            let (name, namespace) = object_name(&kube, &meta, &start, k)?;
            pod_spec(
                &kube,
                &start,
                &mut names,
                &name,
                &namespace,
                &meta,
                &raw.spec.unwrap_or_default(),
                "spec",
            )?;
        }
        Kind::Node => {
            read_node(&kube, &mut names, body, source)?;
        }
        Kind::Deployment | Kind::ReplicaSet | Kind::Job => {
            let raw: RawControllerObject = parse(body, source, k)?;
            let meta = raw.metadata.unwrap_or_default();
            let (name, namespace) = object_name(&kube, &meta, &start, k)?;
            let spec = raw.spec.unwrap_or_default();
            for (field, v) in [
                ("spec.replicas", &spec.replicas),
                ("spec.completions", &spec.completions),
                ("spec.parallelism", &spec.parallelism),
                ("spec.backoffLimit", &spec.backoff_limit),
            ] {
                if let Some(v) = v {
                    kube.count_i32(v, field)?;
                }
            }
            if let Some(v) = &spec.active_deadline_seconds {
                kube.integer(
                    v,
                    "spec.activeDeadlineSeconds",
                    1,
                    i64::MAX.into(),
                    "a positive number of seconds",
                )?;
            }
            let Some(template) = spec.template else {
                return Err(kube.err(
                    &start,
                    "spec.template",
                    format!("a {} needs a pod template (`spec.template`)", k.as_str()),
                ));
            };
            let tmeta = template.metadata.unwrap_or_default();
            let tspec = template.spec.unwrap_or_default();
            pod_spec(
                &kube,
                &start,
                &mut names,
                &name,
                &namespace,
                &tmeta,
                &tspec,
                "spec.template.spec",
            )?;
            if k == Kind::Job
                && let Some(p) = tspec
                    .restart_policy
                    .as_ref()
                    .filter(|p| p.value != "Never" && p.value != "OnFailure")
            {
                return Err(kube.err(
                    &p.referenced,
                    "spec.template.spec.restartPolicy",
                    format!(
                        "a Job's pods need restartPolicy Never or OnFailure, got {:?}",
                        p.value
                    ),
                ));
            }
        }
    }
    serde_saphyr::from_str_with_options::<Value>(body, parse_options())
        .map_err(|e| translate(&e, body, source, &BodySchema(k)))
}

/// `metadata.name` (required) and `metadata.namespace` (`default` when absent) of an
/// object of `kind`.
fn object_name(
    kube: &Reader<'_>,
    meta: &RawObjectMeta,
    start: &Location,
    kind: Kind,
) -> Result<(String, String)> {
    let Some(name) = &meta.name else {
        return Err(kube.err(
            start,
            "metadata.name",
            format!("a {} needs a `metadata.name`", kind.as_str()),
        ));
    };
    kube.object_name(name, meta.namespace.as_ref(), "metadata", kind.as_str())
}

/// A stored object as text again, for the located reader: positions in its errors are
/// those of this pretty-printed JSON.
fn text_of(object: &Value) -> String {
    // A Value always serializes.
    serde_json::to_string_pretty(object).unwrap_or_default()
}

/// The pod template of a stored Pod (or of a body [`validate`] accepted): its containers'
/// requests and limits (so that [`PodTemplate::effective_requests`] computes upstream's
/// effective request over containers, init containers and overhead), priority,
/// nodeSelector, affinity, tolerations, host ports, labels and namespace. Extended
/// resources are interned in `names`. Named `<namespace>/<name>` in errors.
pub fn pod_template(pod: &Value, names: &mut ResourceNames) -> Result<PodTemplate> {
    let text = text_of(pod);
    let source = format!(
        "pod {}/{}",
        pod["metadata"]["namespace"].as_str().unwrap_or("default"),
        pod["metadata"]["name"].as_str().unwrap_or("")
    );
    let kube = Reader::new(&source);
    let raw: Spanned<RawPodObject> = parse(&text, &source, Kind::Pod)?;
    let meta = raw.value.metadata.unwrap_or_default();
    let (name, namespace) = object_name(&kube, &meta, &raw.referenced, Kind::Pod)?;
    let mut t = pod_spec(
        &kube,
        &raw.referenced,
        names,
        &name,
        &namespace,
        &meta,
        &raw.value.spec.unwrap_or_default(),
        "spec",
    )?;
    t.owner = match pod["metadata"]["ownerReferences"][0]["kind"].as_str() {
        Some("ReplicaSet") => OwnerKind::ReplicaSet,
        Some("Job") => OwnerKind::Job,
        Some("StatefulSet") => OwnerKind::StatefulSet,
        _ => OwnerKind::None,
    };
    Ok(t)
}

/// The node a stored Node is: allocatable, labels, taints, unschedulable. Extended
/// resources are interned in `names`. Whether it is Ready is [`node_ready`].
pub fn node_spec(node: &Value, names: &mut ResourceNames) -> Result<NodeSpec> {
    let text = text_of(node);
    let source = format!("node {}", node["metadata"]["name"].as_str().unwrap_or(""));
    let kube = Reader::new(&source);
    Ok(read_node(&kube, names, &text, &source)?.0)
}

/// Whether a stored Node is Ready: its `Ready` condition says `True`, or it has no
/// `Ready` condition at all (a node registered by hand, before any agent reported).
pub fn node_ready(node: &Value) -> bool {
    let Some(conditions) = node["status"]["conditions"].as_array() else {
        return true;
    };
    conditions
        .iter()
        .find(|c| c["type"] == "Ready")
        .is_none_or(|c| c["status"] == "True")
}

/// A Node's spec, and its Ready condition (see [`node_ready`]).
fn read_node(
    kube: &Reader<'_>,
    names: &mut ResourceNames,
    text: &str,
    source: &str,
) -> Result<(NodeSpec, bool)> {
    let raw: Spanned<RawNodeObject> = parse(text, source, Kind::Node)?;
    let start = raw.referenced;
    let raw = raw.value;
    let meta = raw.metadata.unwrap_or_default();
    let Some(name) = &meta.name else {
        return Err(kube.err(&start, "metadata.name", "a Node needs a `metadata.name`"));
    };
    let (name, _) = kube.object_name(name, None, "metadata", "Node")?;
    let status = raw.status.unwrap_or_default();
    let spec = raw.spec.unwrap_or_default();
    let mut ready = true;
    for (i, c) in status.conditions.iter().flatten().enumerate() {
        if c.value.kind.as_ref().is_some_and(|k| k.value == "Ready") {
            let field = format!("status.conditions[{i}].status");
            ready = match &c.value.status {
                Some(s) if s.value == "True" => true,
                Some(s) if s.value == "False" || s.value == "Unknown" => false,
                Some(s) => {
                    return Err(kube.err(
                        &s.referenced,
                        &field,
                        format!("expected True, False or Unknown, got {:?}", s.value),
                    ));
                }
                None => return Err(kube.err(&c.referenced, &field, "missing `status`")),
            };
        }
    }
    let node = NodeSpec {
        name,
        allocatable: kube.allocatable(names, status.allocatable.as_ref(), "status.allocatable")?,
        labels: kube.labels(meta.labels.as_ref(), "metadata.labels")?,
        taints: kube.taints(spec.taints.as_deref(), "spec.taints")?,
        unschedulable: spec.unschedulable.unwrap_or(false),
        ..NodeSpec::default()
    };
    Ok((node, ready))
}

/// A pod spec (at `base`: `spec`, or a controller's `spec.template.spec`) as the template
/// of the pod `name` in `namespace`, with the labels and annotations of `meta`; `at` is
/// the object's position, for what is missing.
#[allow(clippy::too_many_arguments)]
fn pod_spec(
    kube: &Reader<'_>,
    at: &Location,
    names: &mut ResourceNames,
    name: &str,
    namespace: &str,
    meta: &RawObjectMeta,
    spec: &RawPodSpec,
    base: &str,
) -> Result<PodTemplate> {
    let meta_base = base.strip_suffix("spec").unwrap_or("").to_owned() + "metadata";
    let labels = kube.labels(meta.labels.as_ref(), &format!("{meta_base}.labels"))?;
    let annotations = kube.labels(
        meta.annotations.as_ref(),
        &format!("{meta_base}.annotations"),
    )?;
    let mut container_names: HashMap<String, String> = HashMap::new();
    let mut images = Vec::new();
    let containers = match &spec.containers {
        Some(list) if !list.value.is_empty() => read_containers(
            kube,
            names,
            &list.value,
            &format!("{base}.containers"),
            &mut container_names,
            &mut Vec::new(),
        )?,
        Some(list) => {
            return Err(kube.err(
                &list.referenced,
                &format!("{base}.containers"),
                "expected at least one container",
            ));
        }
        None => {
            return Err(kube.err(
                at,
                &format!("{base}.containers"),
                "a pod needs at least one container",
            ));
        }
    };
    let init_containers = match &spec.init_containers {
        Some(list) => read_containers(
            kube,
            names,
            &list.value,
            &format!("{base}.initContainers"),
            &mut container_names,
            &mut images,
        )?,
        None => Vec::new(),
    };
    // Init containers' images first, as kube-scheduler lists them.
    for c in spec.containers.iter().flat_map(|l| &l.value) {
        if let Some(image) = &c.value.image {
            images.push(normalized_image_name(&image.value));
        }
    }
    let mut overhead = Resources::ZERO;
    if let Some(map) = &spec.overhead {
        for (kind, amount) in kube.pod_quantities(names, map, &format!("{base}.overhead"))? {
            overhead.set(kind, amount);
        }
    }
    let node_selector =
        kube.labels(spec.node_selector.as_ref(), &format!("{base}.nodeSelector"))?;
    let mut tolerations = Vec::new();
    for (i, t) in spec.tolerations.iter().flatten().enumerate() {
        tolerations.push(kube.toleration(t, &format!("{base}.tolerations[{i}]"))?);
    }
    let affinity = spec.affinity.as_ref();
    let node_affinity = match affinity.and_then(|a| a.node_affinity.as_ref()) {
        Some(a) => Some(kube.node_affinity(
            a,
            &format!("{base}.affinity.nodeAffinity"),
            NodeAffinityRules::Pod,
        )?),
        None => None,
    };
    let pod_affinity = match affinity.and_then(|a| a.pod_affinity.as_ref()) {
        Some(a) => Some(kube.pod_affinity(a, &format!("{base}.affinity.podAffinity"))?),
        None => None,
    };
    let pod_anti_affinity = match affinity.and_then(|a| a.pod_anti_affinity.as_ref()) {
        Some(a) => Some(kube.pod_affinity(a, &format!("{base}.affinity.podAntiAffinity"))?),
        None => None,
    };
    let topology_spread_constraints = kube.spread_constraints(
        spec.topology_spread_constraints
            .as_deref()
            .unwrap_or_default(),
        &format!("{base}.topologySpreadConstraints"),
    )?;
    let node_name = match &spec.node_name {
        Some(n) => Some(kube.non_empty(n, &format!("{base}.nodeName"), "a node name")?),
        None => None,
    };
    let priority = match &spec.priority {
        Some(p) => kube.integer(
            p,
            &format!("{base}.priority"),
            i32::MIN.into(),
            i32::MAX.into(),
            "an integer",
        )? as i32,
        None => 0,
    };
    let preemption_policy = match &spec.preemption_policy {
        Some(p) => kube.preemption_policy(p, &format!("{base}.preemptionPolicy"))?,
        None => PreemptionPolicy::PreemptLowerPriority,
    };
    let termination_grace_period_seconds = match &spec.termination_grace_period_seconds {
        Some(v) => kube.integer(
            v,
            &format!("{base}.terminationGracePeriodSeconds"),
            0,
            u32::MAX.into(),
            "a non-negative number of seconds",
        )? as u32,
        None => DEFAULT_GRACE_SECONDS,
    };
    let volume_claims = spec
        .volumes
        .iter()
        .flatten()
        .filter_map(|v| v.value.persistent_volume_claim.as_ref())
        .map(|c| c.value.claim_name.value.clone())
        .collect();
    Ok(PodTemplate {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        labels,
        annotations,
        containers,
        init_containers,
        overhead,
        priority,
        tolerations,
        node_selector,
        node_affinity,
        node_name,
        owner: OwnerKind::None,
        singleton: true,
        preemption_policy,
        // The agent keeps no table of PriorityClasses: the pod's priority is all it reads.
        priority_class: None,
        pod_affinity,
        pod_anti_affinity,
        topology_spread_constraints,
        volume_claims,
        termination_grace_period_seconds,
        pod_group: None,
        gpu: Default::default(),
        images,
    })
}

/// `containers` or `initContainers` (at `base`); names must be unique across both lists,
/// and host ports within each. Images are added to `images`, normalized.
fn read_containers(
    kube: &Reader<'_>,
    names: &mut ResourceNames,
    list: &[Spanned<RawContainer>],
    base: &str,
    seen_names: &mut HashMap<String, String>,
    images: &mut Vec<String>,
) -> Result<Vec<ContainerResources>> {
    let mut out = Vec::new();
    let mut host_ports = HashMap::new();
    for (i, item) in list.iter().enumerate() {
        let c_base = format!("{base}[{i}]");
        let raw = &item.value;
        let name_field = format!("{c_base}.name");
        let name = kube.non_empty(&raw.name, &name_field, "a container name")?;
        if let Some(first) = seen_names.get(&name) {
            return Err(kube.err(
                &raw.name.referenced,
                &name_field,
                format!("duplicate container name {name:?}: {first} already uses it"),
            ));
        }
        seen_names.insert(name.clone(), c_base.clone());
        let mut c = ContainerResources {
            name,
            ..Default::default()
        };
        let resources = raw.resources.as_ref();
        kube.container_resources(
            names,
            &mut c,
            resources.and_then(|r| r.requests.as_ref()),
            resources.and_then(|r| r.limits.as_ref()),
            &format!("{c_base}.resources"),
            |v, _| Ok(v.clone()),
        )?;
        if let Some(ports) = &raw.ports {
            c.host_ports = kube.ports(ports, &format!("{c_base}.ports"), &mut host_ports)?;
        }
        if let Some(image) = &raw.image {
            images.push(normalized_image_name(&image.value));
        }
        c.restartable = kube.container_restart_policy(
            raw.restart_policy.as_ref(),
            &format!("{c_base}.restartPolicy"),
            base.ends_with("initContainers"),
        )?;
        out.push(c);
    }
    Ok(out)
}
