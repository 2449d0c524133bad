//! HorizontalPodAutoscaler (autoscaling/v2) from manifests, and `manifestDynamics:`, the
//! load and usage a scenario gives the manifests' Deployments for it to scale on.
//!
//! An HPA manifest becomes the `horizontalPodAutoscaler:` of the Deployment or
//! StatefulSet its `scaleTargetRef` names (same namespace), built by the same code
//! (`build::dynamics`),
//! so the controller (`sim/src/controllers/hpa/`, after upstream's
//! `pkg/controller/podautoscaler/horizontal.go`) runs it as a scenario's own; the
//! controller's flags (sync period 15 s, tolerance 0.1, ...) keep their defaults. A
//! manifest carries no load: without a `manifestDynamics:` entry for its target
//! (`service:` or `usage:`), the pods report no usage and the HPA only scales down. A
//! StatefulSet's claims beyond its own replicas are made by its controller when a
//! scale-up first creates their ordinal's pod, as upstream does.
//!
//! Refused: a target of a built-in kind without a `scale` subresource (a DaemonSet, a
//! Job, a Pod, ...), which upstream's controller can never scale. Warned about and
//! ignored rather than refused, since the rest of the manifests still simulate: a target
//! of another kind (a custom resource, a ReplicationController) or not in the manifests,
//! a second HPA for the same target, and
//! metrics of a type the model lacks (Object, External, ContainerResource, and Pods
//! metrics other than `requests_per_second` of a Deployment with a `service:`). An HPA
//! left with no metric is ignored; one with no `metrics` at all gets upstream's default,
//! 80% average CPU utilization.

use std::sync::Arc;

use schedulers::yaml::Scalar;
use schedulers::yaml::kube::RawObjectMeta;
use schedulers::yaml::message::quoted;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::super::super::raw::{RawManifestDynamics, RawWorkload};
use super::super::dynamics::{
    RawBehavior, RawHpa, RawMetric, RawPodsMetric, RawResourceMetric, RawTarget, scale_basis,
};
use super::super::workloads::Kind;
use super::super::{Builder, Result};
use super::cron_jobs::PlannedCronJob;
use super::{ManifestFile, Manifests, Modelled, Parsed, at, name_of};
use crate::scenario::{Workload, WorkloadKind};
use crate::time::SimTime;

/// The one Pods metric the model serves (a Deployment's `service:` load).
const RPS_METRIC: &str = "requests_per_second";

/// A HorizontalPodAutoscaler.
#[derive(Debug, Deserialize)]
struct HpaObject {
    metadata: Option<RawObjectMeta>,
    spec: Option<HpaSpec>,
}

/// Its spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HpaSpec {
    scale_target_ref: Option<Spanned<TargetRef>>,
    min_replicas: Option<Spanned<Scalar>>,
    max_replicas: Option<Spanned<Scalar>>,
    metrics: Option<Spanned<Vec<Spanned<MetricObject>>>>,
    behavior: Option<RawBehavior>,
}

/// `scaleTargetRef`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetRef {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
}

/// One metric, any type: those the model lacks are dropped with a warning.
#[derive(Debug, Deserialize)]
struct MetricObject {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    resource: Option<Spanned<RawResourceMetric>>,
    pods: Option<Spanned<RawPodsMetric>>,
}

/// The workload of the manifests named `name` in `namespace` whose kind passes `is_kind`.
fn named<'w>(
    workloads: &'w mut [Workload],
    namespace: &str,
    name: &str,
    is_kind: impl Fn(&WorkloadKind) -> bool,
) -> Option<&'w mut Workload> {
    workloads
        .iter_mut()
        .find(|w| is_kind(&w.kind) && w.template.name == name && w.template.namespace == namespace)
}

/// The Deployment of the manifests named `name` in `namespace`.
fn deployment<'w>(
    workloads: &'w mut [Workload],
    namespace: &str,
    name: &str,
) -> Option<&'w mut Workload> {
    named(workloads, namespace, name, |k| {
        matches!(k, WorkloadKind::Deployment { .. })
    })
}

/// The StatefulSet of the manifests named `name` in `namespace`.
fn stateful_set<'w>(
    workloads: &'w mut [Workload],
    namespace: &str,
    name: &str,
) -> Option<&'w mut Workload> {
    named(workloads, namespace, name, |k| {
        matches!(k, WorkloadKind::StatefulSet { .. })
    })
}

/// Whether `api_version` (a `scaleTargetRef`'s; absent counts as built in) is a group
/// version of Kubernetes' own workloads, whose kinds schedlab knows all of.
fn built_in(api_version: Option<&str>) -> bool {
    matches!(
        api_version,
        None | Some("v1" | "apps/v1" | "batch/v1" | "extensions/v1beta1" | "apps/v1beta2")
    )
}

impl<'f> Builder<'f> {
    /// Applies `manifestDynamics:` (read with the scenario's reader) to the manifests'
    /// Deployments and Jobs, `workloads`, and to the Job templates of their CronJobs,
    /// `cron_jobs`.
    pub(in super::super) fn manifest_dynamics(
        &mut self,
        list: Vec<Spanned<RawManifestDynamics>>,
        workloads: &mut [Workload],
        cron_jobs: &mut [PlannedCronJob],
    ) -> Result<()> {
        let mut seen: Vec<(&'static str, String, String)> = Vec::new();
        for (i, item) in list.into_iter().enumerate() {
            let base = format!("manifestDynamics[{i}]");
            let raw = item.value;
            let targets = [
                ("deployment", "Deployment", &raw.deployment),
                ("statefulSet", "StatefulSet", &raw.stateful_set),
                ("job", "Job", &raw.job),
                ("cronJob", "CronJob", &raw.cron_job),
            ];
            let mut given = targets.iter().filter(|t| t.2.is_some());
            let Some(&(key, kind, Some(target))) = given.next() else {
                return Err(self.kube.err(
                    &item.referenced,
                    &base,
                    "expected one of `deployment`, `statefulSet`, `job` or `cronJob` (the manifest object's name)",
                ));
            };
            if let Some(&(second, _, Some(v))) = given.next() {
                return Err(self.kube.err(
                    &v.referenced,
                    &format!("{base}.{second}"),
                    format!(
                        "an entry names one object, but this one has both `{key}` and `{second}`"
                    ),
                ));
            }
            let field = format!("{base}.{key}");
            let name = self
                .kube
                .non_empty(target, &field, &format!("a {kind} name"))?;
            let namespace = match &raw.namespace {
                Some(ns) => self
                    .kube
                    .non_empty(ns, &format!("{base}.namespace"), "a namespace")?,
                None => "default".to_owned(),
            };
            if seen
                .iter()
                .any(|(k, n, ns)| *k == kind && *n == name && *ns == namespace)
            {
                return Err(self.kube.err(
                    &target.referenced,
                    &field,
                    format!(
                        "an earlier manifestDynamics entry already names {kind} {}",
                        quoted(&name)
                    ),
                ));
            }
            seen.push((kind, name.clone(), namespace.clone()));
            let missing = || {
                self.kube.err(
                    &target.referenced,
                    &field,
                    format!(
                        "the manifests have no {kind} {} in namespace {}",
                        quoted(&name),
                        quoted(&namespace)
                    ),
                )
            };
            if kind == "Job" || kind == "CronJob" {
                let dynamics = [
                    (
                        "readinessDelay",
                        raw.readiness_delay.as_ref().map(|v| v.referenced),
                    ),
                    ("service", raw.service.as_ref().map(|v| v.referenced)),
                    (
                        "memoryUsage",
                        raw.memory_usage.as_ref().map(|v| v.referenced),
                    ),
                    ("usage", raw.usage.as_ref().map(|v| v.referenced)),
                ];
                if let Some((k, Some(at))) = dynamics.iter().find(|(_, at)| at.is_some()) {
                    return Err(self.kube.err(
                        at,
                        &format!("{base}.{k}"),
                        format!("`{k}` applies to `deployment` and `statefulSet` entries only"),
                    ));
                }
                let w = if kind == "Job" {
                    named(workloads, &namespace, &name, |k| {
                        matches!(k, WorkloadKind::Job { .. })
                    })
                } else {
                    cron_jobs
                        .iter_mut()
                        .find(|c| c.cron_job.name == name && c.cron_job.namespace == namespace)
                        .map(|c| &mut c.job)
                };
                let w = w.ok_or_else(missing)?;
                if let Some(d) = &raw.duration {
                    w.duration = Some(self.scalar_or_dist(
                        d,
                        &format!("{base}.duration"),
                        &|b, v, f| b.duration(v, f),
                        SimTime::ZERO,
                    )?);
                }
                continue;
            }
            if let Some(d) = &raw.duration {
                return Err(self.kube.err(
                    &d.referenced,
                    &format!("{base}.duration"),
                    format!("a {kind}'s pods run until the end: `duration` applies to `job` and `cronJob` entries"),
                ));
            }
            let (w, built_as) = if kind == "Deployment" {
                (deployment(workloads, &namespace, &name), Kind::Deployment)
            } else {
                (
                    stateful_set(workloads, &namespace, &name),
                    Kind::StatefulSet,
                )
            };
            let w = w.ok_or_else(missing)?;
            let (replicas, cpu_request) = scale_basis(&w.kind, &w.template);
            let keys = RawWorkload {
                readiness_delay: raw.readiness_delay,
                service: raw.service,
                memory_usage: raw.memory_usage,
                usage: raw.usage,
                ..RawWorkload::default()
            };
            w.dynamics = self
                .dynamics(&keys, built_as, replicas, cpu_request, &name, &base)?
                .map(Arc::new);
        }
        Ok(())
    }

    /// Gives each HPA manifest's target, among the manifests' `workloads`, its
    /// autoscaler. Returns the warnings about what was ignored.
    pub(in super::super) fn manifest_hpas(
        &mut self,
        files: &'f [ManifestFile],
        m: &Manifests,
        workloads: &mut [Workload],
    ) -> Result<Vec<String>> {
        let mut warnings = Vec::new();
        for parsed in m.of_kind(files, Modelled::HorizontalPodAutoscaler) {
            let Parsed { file, kube, o, raw }: Parsed<'_, '_, HpaObject> = parsed?;
            let name = name_of(&kube, &raw.metadata, o)?.value;
            let spec = raw.spec.unwrap_or_default();
            let mut warn = |at: &serde_saphyr::Location, field: &str, what: String| {
                warnings.push(format!(
                    "{}:{}:{}: {} (HorizontalPodAutoscaler {name}): {field}: {what}",
                    file.shown,
                    at.line(),
                    at.column(),
                    o.doc,
                ));
            };
            let Some(target) = &spec.scale_target_ref else {
                return Err(kube.err(
                    &o.at,
                    "spec.scaleTargetRef",
                    "a HorizontalPodAutoscaler needs `spec.scaleTargetRef` (the Deployment or StatefulSet it scales)",
                ));
            };
            let (Some(kind), Some(target_name)) = (&target.value.kind, &target.value.name) else {
                return Err(kube.err(
                    &target.referenced,
                    "spec.scaleTargetRef",
                    "a scaleTargetRef needs `kind` and `name`",
                ));
            };
            let api_version = target.value.api_version.as_ref().map(|v| v.value.as_str());
            let scalable = matches!(
                kind.value.as_str(),
                "Deployment" | "ReplicaSet" | "StatefulSet"
            );
            if !scalable && built_in(api_version) && kind.value != "ReplicationController" {
                // Upstream's controller finds no `scale` subresource and never acts: a
                // mistake in the manifest, not a gap of the model.
                return Err(kube.err(
                    &kind.referenced,
                    "spec.scaleTargetRef.kind",
                    format!(
                        "a HorizontalPodAutoscaler scales a Deployment, ReplicaSet or StatefulSet (a kind with a `scale` subresource); {} has none",
                        quoted(&kind.value)
                    ),
                ));
            }
            if !scalable {
                warn(
                    &kind.referenced,
                    "spec.scaleTargetRef.kind",
                    format!(
                        "scaling a {} is not modelled by schedlab (only Deployments, ReplicaSets and StatefulSets), ignored",
                        kind.value
                    ),
                );
                continue;
            }
            let is_set = kind.value == "StatefulSet";
            let found = if is_set {
                stateful_set(workloads, &o.namespace, &target_name.value)
            } else {
                deployment(workloads, &o.namespace, &target_name.value)
            };
            let Some(w) = found else {
                warn(
                    &target_name.referenced,
                    "spec.scaleTargetRef.name",
                    format!(
                        "the manifests have no {} {} in namespace {}, ignored",
                        kind.value,
                        quoted(&target_name.value),
                        quoted(&o.namespace)
                    ),
                );
                continue;
            };
            if w.dynamics.as_ref().is_some_and(|d| d.hpa.is_some()) {
                warn(
                    &target_name.referenced,
                    "spec.scaleTargetRef.name",
                    format!(
                        "an earlier HorizontalPodAutoscaler already scales {}, ignored (upstream refuses to act on either)",
                        quoted(&target_name.value)
                    ),
                );
                continue;
            }
            let has_service = w.dynamics.as_ref().is_some_and(|d| d.service.is_some());
            // The metrics the model has, and their indices in the manifest.
            let mut kept: Vec<usize> = Vec::new();
            let mut metrics: Vec<Spanned<RawMetric>> = Vec::new();
            let given = spec.metrics.is_some();
            for (i, metric) in spec.metrics.into_iter().flat_map(|l| l.value).enumerate() {
                let Spanned {
                    value, referenced, ..
                } = metric;
                let field = format!("spec.metrics[{i}]");
                let type_name = value.kind.as_ref().map_or("", |k| k.value.as_str());
                let modelled = match type_name {
                    "Resource" => true,
                    "Pods" => match &value.pods {
                        Some(p) if p.value.metric.name.value == RPS_METRIC && has_service => true,
                        Some(p) => {
                            warn(
                                &p.value.metric.name.referenced,
                                &format!("{field}.pods.metric.name"),
                                format!(
                                    "pods metric {} is not modelled by schedlab (only {RPS_METRIC}, from a manifestDynamics `service:`), ignored",
                                    quoted(&p.value.metric.name.value)
                                ),
                            );
                            false
                        }
                        None => true,
                    },
                    _ => {
                        warn(
                            value.kind.as_ref().map_or(&referenced, |k| &k.referenced),
                            &format!("{field}.type"),
                            format!(
                                "metric type {} is not modelled by schedlab (only Resource cpu and memory, and Pods {RPS_METRIC}), ignored",
                                quoted(type_name)
                            ),
                        );
                        false
                    }
                };
                if modelled {
                    kept.push(i);
                    metrics.push(Spanned::new(
                        RawMetric {
                            kind: value.kind,
                            resource: value.resource,
                            pods: value.pods,
                        },
                        referenced,
                        referenced,
                    ));
                }
            }
            if given && metrics.is_empty() {
                warn(
                    &o.at,
                    "spec.metrics",
                    "no metric schedlab models is left, so the autoscaler is ignored".to_owned(),
                );
                continue;
            }
            if !given {
                // autoscaling/v2's default: 80% average CPU utilization.
                let utilization = RawTarget {
                    kind: Some(at("Utilization".to_owned(), &o.at)),
                    average_utilization: Some(at(Scalar("80".into()), &o.at)),
                    average_value: None,
                };
                metrics.push(at(
                    RawMetric {
                        kind: Some(at("Resource".to_owned(), &o.at)),
                        resource: Some(at(
                            RawResourceMetric {
                                name: at("cpu".to_owned(), &o.at),
                                target: at(utilization, &o.at),
                            },
                            &o.at,
                        )),
                        pods: None,
                    },
                    &o.at,
                ));
            }
            let Some(max_replicas) = spec.max_replicas else {
                return Err(kube.err(
                    &o.at,
                    "spec.maxReplicas",
                    "a HorizontalPodAutoscaler needs `spec.maxReplicas`",
                ));
            };
            let hpa = at(
                RawHpa {
                    min_replicas: spec.min_replicas,
                    max_replicas,
                    metrics: at(metrics, &o.at),
                    behavior: spec.behavior,
                    sync_period: None,
                    tolerance: None,
                    cpu_initialization_period: None,
                    initial_readiness_delay: None,
                },
                &o.at,
            );
            let (replicas, cpu_request) = scale_basis(&w.kind, &w.template);
            // The model's errors name metrics by their place among those kept.
            let fix = |f: &str| {
                let Some(rest) = f.strip_prefix("spec.metrics[") else {
                    return f.to_owned();
                };
                let Some(close) = rest.find(']') else {
                    return f.to_owned();
                };
                match rest[..close]
                    .parse::<usize>()
                    .ok()
                    .and_then(|j| kept.get(j))
                {
                    Some(i) => format!("spec.metrics[{i}]{}", &rest[close + 1..]),
                    None => f.to_owned(),
                }
            };
            let built = self.in_manifest(&file.shown, &fix, |b| {
                b.hpa(&hpa, replicas, cpu_request, has_service, "spec")
            })?;
            let has_usage = w
                .dynamics
                .as_ref()
                .is_some_and(|d| d.service.is_some() || d.usage != Default::default());
            if !has_usage {
                warn(
                    &target_name.referenced,
                    "spec.scaleTargetRef.name",
                    format!(
                        "{} {} has no load or usage, so its pods report none and the autoscaler only scales it down: give it a `manifestDynamics:` entry in the scenario (`service:` or `usage:`)",
                        kind.value,
                        quoted(&target_name.value)
                    ),
                );
            }
            let mut d = w.dynamics.as_deref().cloned().unwrap_or_default();
            d.hpa = Some(built);
            w.dynamics = Some(Arc::new(d));
        }
        Ok(warnings)
    }
}
