//! A simulated cluster's state at one instant as Kubernetes objects: a `kind: List` of
//! Nodes, PriorityClasses, storage, PodDisruptionBudgets, the workload controllers, their
//! HorizontalPodAutoscalers, CronJobs and Pods, the form `kubectl get -A -o yaml
//! nodes,priorityclasses,pvc,pv,storageclasses,pdb,deployments,statefulsets,daemonsets,
//! jobs,cronjobs,hpa,pods` prints, which a scenario's `manifests:` (or `--manifests`)
//! loads back into the same state.
//!
//! What is written, and why it is enough for a round trip:
//! - every node still in the cluster, in node order (so a reload gives every node the
//!   same id): labels, taints, `unschedulable`, and its allocatable as both `capacity`
//!   and `allocatable`;
//! - the declared PriorityClasses of [`sim::Scenario::priority_classes`] (not the
//!   built-in `system-` ones, which every cluster has);
//! - the StorageClasses, PersistentVolumes (with their `claimRef`) and
//!   PersistentVolumeClaims (with their `volumeName` once bound) of
//!   `ClusterState::volumes`, in its order, and the scenario's PodDisruptionBudgets;
//! - every workload controller that exists by then ([`sim::Simulation::workloads`]),
//!   sorted by namespace and name: a Deployment with its desired replicas (after its
//!   autoscaler) and its newest ReplicaSet's template; a StatefulSet with `serviceName`,
//!   `podManagementPolicy` and its `volumeClaimTemplates` (kept whole in the scenario's
//!   [`sim::scenario::ClaimTemplate`]s, so they are written even when no claim exists); a
//!   DaemonSet; a Job with `completions`, `parallelism`, `backoffLimit`,
//!   `activeDeadlineSeconds`, `status.succeeded`, `status.failed` and, once it has failed,
//!   its `Failed` condition (which the loader reads back: a reload does not start it
//!   again);
//! - each Deployment's or StatefulSet's HorizontalPodAutoscaler (autoscaling/v2, as the
//!   loader's `manifests/hpa.rs` reads it), named after its target as `kubectl
//!   autoscale` names it: `minReplicas`, `maxReplicas`, the metrics, and the whole
//!   `behavior` unless it is the API's default; the target's replicas are those it has
//!   scaled to;
//! - the CronJobs of [`sim::Scenario::cron_jobs`] (`schedule`, `timeZone`,
//!   `concurrencyPolicy`, `suspend`, `startingDeadlineSeconds`, `jobTemplate`),
//!   annotated with the wall-clock time written
//!   ([`sim::scenario::cron_jobs::SNAPSHOT_TIME_ANNOTATION`]), from which the reloaded
//!   CronJob lays out its next runs, so that they come at the instants and under the
//!   names they would have in this run; their running Jobs name them in
//!   `ownerReferences` (the loader makes such a Job the CronJob's active Job), and their
//!   finished Jobs are left out (upstream's history limits are not modelled);
//! - every pod that holds or waits for a node (Pending, waiting at Permit, Bound,
//!   Running), sorted by namespace and name: labels, annotations, the containers' and init
//!   containers' requests, limits, host ports and images, overhead, node selector, node
//!   and pod (anti-)affinity, tolerations, topology spread constraints,
//!   `priorityClassName` (from [`schedulers::PodTemplate::priority_class`], an index
//!   into the scenario's classes, so the name costs no per-pod allocation), priority,
//!   preemption policy, grace period, claims, `spec.nodeName` once it is bound, which the
//!   loader's kubelet admission honours at time 0, and an `ownerReferences` entry
//!   (`controller: true`) naming its controller. The loader adopts a controller's bound
//!   pods on their nodes (`resolve_owners` in `sim/src/scenario/yaml/build/manifests.rs`),
//!   so the reloaded controllers go on from there: they replace what they lose, and a Job
//!   creates only the completions it still lacks.
//!
//! Simplified, stated: a Deployment's pods name the Deployment itself as their owner,
//! not a ReplicaSet (the loader treats both alike), and are renamed `<name>-0`, ... in
//! name order when adopted; a StatefulSet's `serviceName` is its own name (Services are
//! not modelled as objects). An autoscaler's memory of its recent recommendations and
//! scale changes is not state an object holds: reloaded, it starts afresh, as upstream's
//! after a controller restart (a scale-down is then not held back by what it recommended
//! before). A CronJob's scheduled time that Forbid is holding back is lost likewise. What
//! manifests or a state cannot express is left out and counted in [`Export::omitted`]:
//! the remaining run time of every pod (a reloaded pod runs until stopped), the workloads
//! that are processes rather than objects (batch arrivals, trace replays: their pods are
//! written as bare Pods), a workload's drawn sizes (`sized:`; its pods are written bare,
//! each with one container asking for what it was given), a Deployment's dynamics other
//! than its autoscaler (Service load, readiness, usage, KEDA, rollouts) and an
//! autoscaler's controller settings (`syncPeriod`, tolerance, ...) when not the
//! defaults, the scenario's other dynamics (failures, later arrivals), GPU shares of the
//! GPU-sharing model, pod groups, and nodes' images and GPUs.
//!
//! Every enumerated value (`podManagementPolicy`, `restartPolicy`, `volumeBindingMode`,
//! `preemptionPolicy`, `concurrencyPolicy`, taint effects, operators,
//! `whenUnsatisfiable`, inclusion policies, an HPA's `selectPolicy` and policy `type`) is
//! written with its type's `name()`, declared by `kubernetes_enum!` with the words the
//! loader parses, so the two sides cannot drift apart.

use schedulers::pdb::{Budget, IntOrPercent};
use schedulers::pod_affinity::{LabelSelector, PodAffinity, PodAffinityTerm};
use schedulers::quantity::{format_bytes, format_cpu_millis};
use schedulers::volumes::AccessModes;
use schedulers::{
    ClusterState, ContainerResources, Labels, NodeSelectorTerm, Pod, PodPhase, ResourceKind,
    ResourceNames, Resources, SelectorRequirement,
};
use schedulers::{PodId, PodTemplate};
use serde_json::{Map, Value, json};
use sim::SimTime;
use sim::controllers::hpa::behavior::{Behavior, ScalingRules};
use sim::controllers::hpa::calculator::{CalcSettings, Target};
use sim::scenario::cron_jobs::{CronJob, SNAPSHOT_TIME_ANNOTATION, wall_clock};
use sim::scenario::dynamics::{Dynamics, HpaMetric, HpaSpec, UsageOverride};
use sim::scenario::{ClaimRetention, JobSpec, PriorityClassSpec, WorkloadKind};
use sim::{Scenario, WorkloadView};
use std::collections::BTreeMap;

/// The exported List and what it had to leave out.
#[derive(Debug)]
pub struct Export {
    /// The `kind: List` object.
    pub list: Value,
    /// One line per kind of thing left out, with how many objects it concerned.
    pub omitted: Vec<String>,
}

/// The nodes, storage, PodDisruptionBudgets, workload controllers (`workloads`, from
/// [`sim::Simulation::workloads`]) and live pods of a run of `scenario` now in `cluster`,
/// as a Kubernetes List.
pub fn cluster_list(
    cluster: &ClusterState,
    workloads: &[WorkloadView<'_>],
    scenario: &Scenario,
    now: SimTime,
) -> Export {
    let names = cluster.resource_names();
    let classes = &scenario.priority_classes[..];
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
                    let mut taint =
                        object([("key", json!(t.key)), ("effect", json!(t.effect.name()))]);
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

    for class in scenario.priority_classes.iter().filter(|c| !c.built_in) {
        let mut o = object([
            ("apiVersion", json!("scheduling.k8s.io/v1")),
            ("kind", json!("PriorityClass")),
            ("metadata", json!({"name": class.name})),
            ("value", json!(class.value)),
        ]);
        if class.global_default {
            o.insert("globalDefault".into(), json!(true));
        }
        o.insert(
            "preemptionPolicy".into(),
            json!(class.preemption_policy.name()),
        );
        if let Some(d) = &class.description {
            o.insert("description".into(), json!(d));
        }
        items.push(Value::Object(o));
    }
    storage(cluster, &mut items);
    for budget in &scenario.pod_disruption_budgets {
        let (key, value) = match &budget.budget {
            Budget::MinAvailable(v) => ("minAvailable", v),
            Budget::MaxUnavailable(v) => ("maxUnavailable", v),
        };
        let value = match value {
            IntOrPercent::Int(n) => json!(n),
            IntOrPercent::Percent(p) => json!(format!("{p}%")),
        };
        items.push(json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": budget.name, "namespace": budget.namespace},
            "spec": {"selector": label_selector(&budget.selector), key: value},
        }));
    }

    // The controllers, and which of them owns each live pod.
    let mut owners: BTreeMap<PodId, (&'static str, &str)> = BTreeMap::new();
    let mut controllers: Vec<(&str, &str, Value)> = Vec::new();
    let mut autoscalers: Vec<(&str, &str, Value)> = Vec::new();
    // The CronJob owning each of its Jobs' workloads.
    let mut cron_of: BTreeMap<u32, &CronJob> = BTreeMap::new();
    for cron in &scenario.cron_jobs {
        let runs = cron.runs.iter().map(|&(_, w)| w);
        cron_of.extend(runs.chain(cron.adopted.iter().copied()).map(|w| (w, cron)));
        let object = cron_job_object(cron, now, names, classes);
        controllers.push((cron.namespace.as_str(), cron.name.as_str(), object));
    }
    for view in workloads {
        let w = view.workload;
        let cron = cron_of.get(&view.index);
        // A CronJob keeps no finished Jobs here (no history limits are modelled).
        if cron.is_some() && view.finished {
            continue;
        }
        if !w.sized.is_empty() {
            omitted.sized += 1;
            continue;
        }
        if w.dynamics.as_deref().is_some_and(lost_dynamics) || view.replica_sets > 1 {
            omitted.dynamics += 1;
        }
        let (kind, mut object) = workload_object(view, names, classes);
        if let Some(cron) = cron {
            object["metadata"]["ownerReferences"] = json!([{
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "name": cron.name,
                "controller": true,
            }]);
        }
        if let Some(hpa) = w.dynamics.as_ref().and_then(|d| d.hpa.as_ref()) {
            let t = &view.template;
            let object = autoscaler_object(kind, &t.name, &t.namespace, hpa);
            autoscalers.push((t.namespace.as_str(), t.name.as_str(), object));
        }
        for &id in &view.pods {
            // A pod of an older ReplicaSet (a rollout under way) is not the newest
            // template's; it is written bare rather than adopted as if it were.
            let pod_template = cluster.pod(id).map(|p| &p.template);
            if view.replica_sets > 1 && pod_template.is_none_or(|t| **t != **view.template) {
                continue;
            }
            owners.insert(id, (kind, &view.template.name));
        }
        let t = &view.template;
        controllers.push((t.namespace.as_str(), t.name.as_str(), object));
    }
    controllers.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    items.extend(controllers.into_iter().map(|(_, _, o)| o));
    autoscalers.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    items.extend(autoscalers.into_iter().map(|(_, _, o)| o));

    for (i, w) in scenario.workloads.iter().enumerate() {
        // A CronJob's Jobs share its duration: counted once, by the CronJob.
        let first_of_cron = cron_of.get(&(i as u32)).is_none_or(|c| {
            let first = c
                .runs
                .first()
                .map(|&(_, w)| w)
                .or(c.adopted.first().copied());
            first == Some(i as u32)
        });
        if w.duration.is_some() && first_of_cron {
            omitted.durations += 1;
        }
        if matches!(w.kind, WorkloadKind::Batch { .. } | WorkloadKind::Trace(_)) {
            omitted.processes += 1;
        }
    }

    let mut pods: Vec<(&str, String, PodId, &Pod)> = cluster
        .pods()
        .filter(|(_, p)| {
            matches!(
                p.phase,
                PodPhase::Pending | PodPhase::Waiting | PodPhase::Bound | PodPhase::Running
            )
        })
        .map(|(id, p)| (p.template.namespace.as_str(), p.name().to_string(), id, p))
        .collect();
    pods.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    for (namespace, name, id, pod) in pods {
        let node = pod.node.map(|id| cluster.node(id).spec.name.as_str());
        let mut object = pod_object(namespace, &name, pod, node, names, classes, &mut omitted);
        if let Some((kind, owner)) = owners.get(&id) {
            let api = if *kind == "Job" {
                "batch/v1"
            } else {
                "apps/v1"
            };
            object["metadata"]["ownerReferences"] = json!([{
                "apiVersion": api,
                "kind": kind,
                "name": owner,
                "controller": true,
            }]);
        }
        items.push(object);
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
    node_gpus: u64,
    node_images: u64,
    /// Workloads whose pods' requests were drawn (`sized:`).
    sized: u64,
    /// Workloads with a `duration`: their pods' remaining run times are lost.
    durations: u64,
    /// Deployments and StatefulSets with dynamics an HPA object does not carry (Service
    /// load, readiness, usage, KEDA, rollouts, the autoscaler controller's settings).
    dynamics: u64,
    /// Batch arrivals and trace replays.
    processes: u64,
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
                self.sized,
                "workload(s) with drawn requests (`sized`): their pods written as bare Pods",
            ),
            (
                self.durations,
                "workload(s) with a `duration`: their pods' remaining run times (reloaded, they run until stopped)",
            ),
            (
                self.dynamics,
                "Deployment(s) or StatefulSet(s) with Service load, readiness, usage, KEDA, rollouts or autoscaler controller settings: written without them",
            ),
            (
                self.processes,
                "batch or trace workload(s): their pods written as bare Pods, later arrivals lost",
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
    classes: &[PriorityClassSpec],
    omitted: &mut Omitted,
) -> Value {
    let t = &*pod.template;
    if t.gpu.count > 0 {
        omitted.gpu_shares += 1;
    }
    if t.pod_group.is_some() {
        omitted.pod_groups += 1;
    }
    let drawn = (pod.requests != t.effective_requests()).then_some(&pod.requests);
    let spec = pod_spec(t, drawn, node, names, classes);
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

/// A pod spec from template `t`: its containers, or, when the pod's requests were drawn
/// (`drawn`), one container asking for exactly those; `spec.nodeName` when bound; the
/// name of its PriorityClass (one of `classes`) beside the priority it resolved to.
fn pod_spec(
    t: &PodTemplate,
    drawn: Option<&Resources>,
    node: Option<&str>,
    names: &ResourceNames,
    classes: &[PriorityClassSpec],
) -> Map<String, Value> {
    let mut spec = Map::new();
    if let Some(requests) = drawn {
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
            let amount = requests.get(kind) - t.overhead.get(kind);
            if amount > 0 {
                asked.set_request(kind, amount);
            }
        }
        spec.insert(
            "containers".into(),
            containers(&[asked], &t.images, 0, names),
        );
    } else {
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
            let mut o = object([("operator", json!(tol.operator.name()))]);
            if !tol.key.is_empty() {
                o.insert("key".into(), json!(tol.key));
            }
            if !tol.value.is_empty() {
                o.insert("value".into(), json!(tol.value));
            }
            if let Some(effect) = &tol.effect {
                o.insert("effect".into(), json!(effect.name()));
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
                ("whenUnsatisfiable", json!(c.when_unsatisfiable.name())),
                ("nodeAffinityPolicy", json!(c.node_affinity_policy.name())),
                ("nodeTaintsPolicy", json!(c.node_taints_policy.name())),
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
    if !t.volume_claims.is_empty() {
        let volumes = t
            .volume_claims
            .iter()
            .map(|claim| json!({"name": claim, "persistentVolumeClaim": {"claimName": claim}}));
        spec.insert("volumes".into(), Value::Array(volumes.collect()));
    }
    if let Some(node) = node {
        spec.insert("nodeName".into(), json!(node));
    }
    if let Some(class) = t.priority_class.and_then(|i| classes.get(i as usize)) {
        spec.insert("priorityClassName".into(), json!(class.name));
    }
    spec.insert("priority".into(), json!(t.priority));
    spec.insert("preemptionPolicy".into(), json!(t.preemption_policy.name()));
    spec.insert(
        "terminationGracePeriodSeconds".into(),
        json!(t.termination_grace_period_seconds),
    );
    spec
}

/// One workload controller as its object, with its kind.
fn workload_object(
    view: &WorkloadView<'_>,
    names: &ResourceNames,
    classes: &[PriorityClassSpec],
) -> (&'static str, Value) {
    let t = &**view.template;
    let mut template_spec = pod_spec(t, None, None, names, classes);
    let mut spec = Map::new();
    let (api, kind) = match &view.workload.kind {
        WorkloadKind::Deployment { .. } => ("apps/v1", "Deployment"),
        WorkloadKind::StatefulSet {
            pod_management,
            claim_templates,
            when_scaled,
            ..
        } => {
            spec.insert("serviceName".into(), json!(t.name));
            spec.insert("podManagementPolicy".into(), json!(pod_management.name()));
            if *when_scaled != ClaimRetention::Retain {
                spec.insert(
                    "persistentVolumeClaimRetentionPolicy".into(),
                    json!({"whenScaled": when_scaled.name()}),
                );
            }
            let templates = claim_templates.iter().map(|c| {
                let claim_spec = object([
                    ("accessModes", access_modes(c.access_modes)),
                    (
                        "resources",
                        json!({"requests": {"storage": format_bytes(c.request)}}),
                    ),
                    ("storageClassName", json!(c.storage_class)),
                ]);
                json!({"metadata": {"name": c.name}, "spec": claim_spec})
            });
            let templates: Vec<Value> = templates.collect();
            if !templates.is_empty() {
                spec.insert("volumeClaimTemplates".into(), Value::Array(templates));
            }
            ("apps/v1", "StatefulSet")
        }
        WorkloadKind::DaemonSet { .. } => ("apps/v1", "DaemonSet"),
        WorkloadKind::Job { spec: job, .. } => {
            job_fields(job, &mut spec, &mut template_spec);
            ("batch/v1", "Job")
        }
        _ => unreachable!("Simulation::workloads lists controllers only"),
    };
    if let Some(replicas) = view.replicas {
        spec.insert("replicas".into(), json!(replicas));
    }
    selector_and_template(t, template_spec, &mut spec);
    let mut o = object([
        ("apiVersion", json!(api)),
        ("kind", json!(kind)),
        (
            "metadata",
            metadata(
                &t.name,
                Some(&t.namespace),
                &Labels::default(),
                &Labels::default(),
            ),
        ),
        ("spec", Value::Object(spec)),
    ]);
    if kind == "Job" {
        let mut status = Map::new();
        status.insert("succeeded".into(), json!(view.succeeded));
        if view.failed > 0 {
            status.insert("failed".into(), json!(view.failed));
        }
        if let Some(reason) = view.failure {
            // What upstream's Job controller sets on a failed Job; the loader reads it
            // back, so a reload does not start the Job again.
            status.insert(
                "conditions".into(),
                json!([{"type": "Failed", "status": "True", "reason": reason.name()}]),
            );
        }
        o.insert("status".into(), Value::Object(status));
    }
    (kind, Value::Object(o))
}

/// A Job's own fields: `completions`, `parallelism`, `backoffLimit`,
/// `activeDeadlineSeconds` into its `spec`, `restartPolicy` into its pods' spec.
fn job_fields(
    job: &JobSpec,
    spec: &mut Map<String, Value>,
    template_spec: &mut Map<String, Value>,
) {
    spec.insert("completions".into(), json!(job.completions));
    spec.insert("parallelism".into(), json!(job.parallelism));
    spec.insert("backoffLimit".into(), json!(job.backoff_limit));
    if let Some(deadline) = job.active_deadline {
        spec.insert(
            "activeDeadlineSeconds".into(),
            json!(deadline.as_micros().div_ceil(1_000_000)),
        );
    }
    template_spec.insert("restartPolicy".into(), json!(job.restart_policy.name()));
}

/// A controller's `selector` (its pods' labels) and pod `template` (their labels,
/// annotations and `template_spec`), into its `spec`.
fn selector_and_template(
    t: &PodTemplate,
    template_spec: Map<String, Value>,
    spec: &mut Map<String, Value>,
) {
    if !t.labels.is_empty() {
        spec.insert("selector".into(), json!({"matchLabels": labels(&t.labels)}));
    }
    let mut template_meta = Map::new();
    if !t.labels.is_empty() {
        template_meta.insert("labels".into(), labels(&t.labels));
    }
    if !t.annotations.is_empty() {
        template_meta.insert("annotations".into(), labels(&t.annotations));
    }
    let mut template = Map::new();
    if !template_meta.is_empty() {
        template.insert("metadata".into(), Value::Object(template_meta));
    }
    template.insert("spec".into(), Value::Object(template_spec));
    spec.insert("template".into(), Value::Object(template));
}

/// A CronJob as its batch/v1 object at `now`: its schedule, policy and Job template,
/// annotated with the wall-clock time of `now` (see
/// [`sim::scenario::cron_jobs::SNAPSHOT_TIME_ANNOTATION`]) so that a reload goes on
/// with the same scheduled times.
fn cron_job_object(
    cron: &CronJob,
    now: SimTime,
    names: &ResourceNames,
    classes: &[PriorityClassSpec],
) -> Value {
    let t = &*cron.job_template;
    let mut template_spec = pod_spec(t, None, None, names, classes);
    let mut job = Map::new();
    job_fields(&cron.job_spec, &mut job, &mut template_spec);
    selector_and_template(t, template_spec, &mut job);
    let mut spec = object([("schedule", json!(cron.schedule))]);
    if let Some(zone) = &cron.time_zone {
        spec.insert("timeZone".into(), json!(zone));
    }
    spec.insert(
        "concurrencyPolicy".into(),
        json!(cron.concurrency_policy.name()),
    );
    if cron.suspend {
        spec.insert("suspend".into(), json!(true));
    }
    if let Some(deadline) = cron.starting_deadline {
        spec.insert(
            "startingDeadlineSeconds".into(),
            json!(deadline.as_micros() / 1_000_000),
        );
    }
    spec.insert("jobTemplate".into(), json!({"spec": job}));
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": cron.name,
            "namespace": cron.namespace,
            "annotations": {SNAPSHOT_TIME_ANNOTATION: wall_clock(cron.clock, now)},
        },
        "spec": spec,
    })
}

/// Whether a workload's dynamics hold more than a HorizontalPodAutoscaler object says:
/// what manifests cannot carry (a Service's load, readiness, usage, KEDA, rollouts) or
/// the controller's flags (`syncPeriod`, tolerance, ...) set away from their defaults.
fn lost_dynamics(d: &Dynamics) -> bool {
    let hpa_flags = d.hpa.as_ref().is_some_and(|h| {
        h.sync_period != SimTime::from_secs(15) || h.settings != CalcSettings::default()
    });
    d.readiness_delay != SimTime::ZERO
        || d.service.is_some()
        || d.memory.is_some()
        || d.usage != UsageOverride::default()
        || !d.rollouts.is_empty()
        || d.keda.is_some()
        || hpa_flags
}

/// The autoscaling/v2 HorizontalPodAutoscaler of the `kind` named `name`: named after its
/// target (the scenario keeps no name of its own, and `kubectl autoscale` names it so),
/// with its metrics and, unless it is the API's default, its whole `behavior`.
fn autoscaler_object(kind: &str, name: &str, namespace: &str, hpa: &HpaSpec) -> Value {
    let target = |t: Target, value: &dyn Fn(i64) -> Value| match t {
        Target::Utilization(pct) => json!({"type": "Utilization", "averageUtilization": pct}),
        Target::AverageValue(v) => json!({"type": "AverageValue", "averageValue": value(v)}),
    };
    let metrics = hpa.metrics.iter().map(|m| match *m {
        HpaMetric::Cpu(t) => json!({"type": "Resource", "resource": {
            "name": "cpu", "target": target(t, &|v| json!(format_cpu_millis(v)))}}),
        HpaMetric::Memory(t) => json!({"type": "Resource", "resource": {
            "name": "memory", "target": target(t, &|v| json!(format_bytes(v)))}}),
        // The loader reads a pods metric's value as a plain number.
        HpaMetric::RequestsPerSecond(milli) => json!({"type": "Pods", "pods": {
        "metric": {"name": "requests_per_second"},
        "target": target(Target::AverageValue(milli), &|v| if v % 1000 == 0 {
            json!(v / 1000)
        } else {
            json!(v as f64 / 1000.0)
        })}}),
    });
    let mut spec = object([
        (
            "scaleTargetRef",
            json!({"apiVersion": "apps/v1", "kind": kind, "name": name}),
        ),
        ("minReplicas", json!(hpa.min)),
        ("maxReplicas", json!(hpa.max)),
        ("metrics", Value::Array(metrics.collect())),
    ]);
    if hpa.behavior != Behavior::default() {
        let rules = |r: &ScalingRules| {
            let policies = r.policies.iter().map(|p| {
                json!({"type": p.kind.name(), "value": p.value,
                    "periodSeconds": p.period.as_micros() / 1_000_000})
            });
            json!({
                "stabilizationWindowSeconds": r.stabilization.as_micros() / 1_000_000,
                "selectPolicy": r.select.name(),
                "policies": Value::Array(policies.collect()),
            })
        };
        spec.insert(
            "behavior".into(),
            json!({"scaleUp": rules(&hpa.behavior.up), "scaleDown": rules(&hpa.behavior.down)}),
        );
    }
    json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    })
}

/// The StorageClasses, PersistentVolumes and PersistentVolumeClaims of the cluster, in
/// the order `ClusterState::volumes` holds them.
fn storage(cluster: &ClusterState, items: &mut Vec<Value>) {
    let volumes = cluster.volumes();
    for class in volumes.classes() {
        let mut o = object([
            ("apiVersion", json!("storage.k8s.io/v1")),
            ("kind", json!("StorageClass")),
            ("metadata", json!({"name": class.name})),
            ("provisioner", json!(class.provisioner)),
        ]);
        o.insert(
            "volumeBindingMode".into(),
            json!(class.volume_binding_mode.name()),
        );
        if !class.allowed_topologies.is_empty() {
            // A topology term is a node selector term of `matchLabelExpressions`.
            let terms = class.allowed_topologies.iter().map(|term| {
                let each = term
                    .match_expressions
                    .iter()
                    .map(|r| json!({"key": r.key, "values": r.values}));
                json!({"matchLabelExpressions": Value::Array(each.collect())})
            });
            o.insert("allowedTopologies".into(), Value::Array(terms.collect()));
        }
        items.push(Value::Object(o));
    }
    for volume in volumes.volumes() {
        let mut spec = object([
            (
                "capacity",
                json!({"storage": format_bytes(volume.capacity)}),
            ),
            ("accessModes", access_modes(volume.access_modes)),
        ]);
        if !volume.storage_class.is_empty() {
            spec.insert("storageClassName".into(), json!(volume.storage_class));
        }
        if let Some(terms) = &volume.node_affinity {
            let terms = terms.iter().map(node_selector_term).collect();
            spec.insert(
                "nodeAffinity".into(),
                json!({"required": {"nodeSelectorTerms": Value::Array(terms)}}),
            );
        }
        if let Some(claim) = &volume.claim_ref {
            let (namespace, name) = claim.split_once('/').unwrap_or(("default", claim));
            spec.insert(
                "claimRef".into(),
                json!({"namespace": namespace, "name": name}),
            );
        }
        if !volume.csi_driver.is_empty() {
            spec.insert(
                "csi".into(),
                json!({"driver": volume.csi_driver, "volumeHandle": volume.name}),
            );
        }
        items.push(json!({
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": metadata(&volume.name, None, &volume.labels, &Labels::default()),
            "spec": spec,
        }));
    }
    for claim in volumes.claims() {
        let mut spec = object([
            ("accessModes", access_modes(claim.access_modes)),
            (
                "resources",
                json!({"requests": {"storage": format_bytes(claim.request)}}),
            ),
            ("storageClassName", json!(claim.storage_class)),
        ]);
        if let Some(volume) = &claim.bound_volume {
            spec.insert("volumeName".into(), json!(volume));
        }
        items.push(json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim.name, "namespace": claim.namespace},
            "spec": spec,
        }));
    }
}

/// Access modes as Kubernetes lists them.
fn access_modes(modes: AccessModes) -> Value {
    Value::Array(modes.iter().map(|m| json!(m.name())).collect())
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
                    ("protocol", json!(p.protocol.name())),
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
        let mut o = object([
            ("key", json!(r.key)),
            ("operator", json!(r.operator.name())),
        ]);
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

fn object<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
