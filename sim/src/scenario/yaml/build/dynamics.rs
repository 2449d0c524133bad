//! A Deployment's dynamics: `readinessDelay`, `service` (its load), `memoryUsage`,
//! `usage` and `horizontalPodAutoscaler` (autoscaling/v2's spec, with the controller's
//! flags beside it), and the scenario's `metricsResolution`.

use std::path::Path;

use schedulers::yaml::Scalar;
use schedulers::yaml::message::{did_you_mean, one_of};
use schedulers::{PodTemplate, ResourceKind};
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use super::super::raw::{RawWorkload, ScalarOrDist};
use super::workloads::Kind;
use super::{Builder, Result};
use crate::controllers::hpa::behavior::{Behavior, Policy, PolicyKind, ScalingRules, SelectPolicy};
use crate::controllers::hpa::calculator::{CalcSettings, Target};
use crate::scenario::WorkloadKind;
use crate::scenario::dynamics::{
    Dynamics, HpaMetric, HpaSpec, LoadProfile, MemoryUsage, PodUsageOverride, ServiceLoad,
    UsageOverride,
};
use crate::scenario::yaml::ScenarioError;
use crate::time::SimTime;

/// A usage series: (time, value) steps.
type Steps = Vec<(SimTime, i64)>;

/// `service:` of a Deployment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawService {
    load: Spanned<RawLoad>,
    cpu_per_request: Option<Spanned<Scalar>>,
    idle_cpu: Option<Spanned<Scalar>>,
    max_requests_per_pod: Option<Spanned<Scalar>>,
    /// A work queue in front of the pods (see `build::keda`).
    queue: Option<Spanned<super::keda::RawQueue>>,
}

/// `load:`: exactly one shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawLoad {
    constant: Option<Spanned<Scalar>>,
    steps: Option<Vec<Spanned<RawPoint>>>,
    spike: Option<Spanned<RawSpike>>,
    diurnal: Option<Spanned<RawDiurnal>>,
    series: Option<Vec<Spanned<RawPoint>>>,
    csv: Option<Spanned<String>>,
}

/// `{at, rps}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawPoint {
    at: Spanned<Scalar>,
    rps: Spanned<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawSpike {
    base: Spanned<Scalar>,
    peak: Spanned<Scalar>,
    at: Spanned<Scalar>,
    duration: Spanned<Scalar>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawDiurnal {
    mean: Spanned<Scalar>,
    amplitude: Spanned<Scalar>,
    period: Option<Spanned<Scalar>>,
    peak_at: Option<Spanned<Scalar>>,
}

/// `memoryUsage:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawMemoryUsage {
    base: Spanned<ScalarOrDist>,
    leak_per_hour: Option<Spanned<Scalar>>,
}

/// `usage:`: per resource, a constant or `[{at, value}]` steps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawUsage {
    cpu: Option<Spanned<RawSteps>>,
    memory: Option<Spanned<RawSteps>>,
    pods: Option<Vec<Spanned<RawPodUsage>>>,
}

/// One entry of `usage.pods:`: a pod named as the Deployment names its pods.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawPodUsage {
    name: Spanned<String>,
    cpu: Option<Spanned<RawSteps>>,
    memory: Option<Spanned<RawSteps>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(in crate::scenario::yaml) enum RawSteps {
    Constant(Scalar),
    Steps(Vec<Spanned<RawStep>>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawStep {
    at: Spanned<Scalar>,
    value: Spanned<Scalar>,
}

/// `horizontalPodAutoscaler:`: an autoscaling/v2 spec (without `scaleTargetRef`, which
/// is the Deployment it sits in) and the controller's settings.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawHpa {
    pub(in crate::scenario::yaml) min_replicas: Option<Spanned<Scalar>>,
    pub(in crate::scenario::yaml) max_replicas: Spanned<Scalar>,
    pub(in crate::scenario::yaml) metrics: Spanned<Vec<Spanned<RawMetric>>>,
    pub(in crate::scenario::yaml) behavior: Option<RawBehavior>,
    pub(in crate::scenario::yaml) sync_period: Option<Spanned<Scalar>>,
    pub(in crate::scenario::yaml) tolerance: Option<Spanned<Scalar>>,
    pub(in crate::scenario::yaml) cpu_initialization_period: Option<Spanned<Scalar>>,
    pub(in crate::scenario::yaml) initial_readiness_delay: Option<Spanned<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawMetric {
    #[serde(rename = "type")]
    pub(in crate::scenario::yaml) kind: Option<Spanned<String>>,
    pub(in crate::scenario::yaml) resource: Option<Spanned<RawResourceMetric>>,
    pub(in crate::scenario::yaml) pods: Option<Spanned<RawPodsMetric>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawResourceMetric {
    pub(in crate::scenario::yaml) name: Spanned<String>,
    pub(in crate::scenario::yaml) target: Spanned<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawPodsMetric {
    pub(in crate::scenario::yaml) metric: RawMetricName,
    pub(in crate::scenario::yaml) target: Spanned<RawTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawMetricName {
    pub(in crate::scenario::yaml) name: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawTarget {
    #[serde(rename = "type")]
    pub(in crate::scenario::yaml) kind: Option<Spanned<String>>,
    pub(in crate::scenario::yaml) average_utilization: Option<Spanned<Scalar>>,
    pub(in crate::scenario::yaml) average_value: Option<Spanned<Scalar>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawBehavior {
    pub(super) scale_up: Option<Spanned<RawRules>>,
    pub(super) scale_down: Option<Spanned<RawRules>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawRules {
    pub(in crate::scenario::yaml) stabilization_window_seconds: Option<Spanned<Scalar>>,
    pub(in crate::scenario::yaml) select_policy: Option<Spanned<String>>,
    pub(in crate::scenario::yaml) policies: Option<Vec<Spanned<RawPolicy>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawPolicy {
    #[serde(rename = "type")]
    pub(in crate::scenario::yaml) kind: Spanned<String>,
    pub(in crate::scenario::yaml) value: Spanned<Scalar>,
    pub(in crate::scenario::yaml) period_seconds: Spanned<Scalar>,
}

/// The one metric schedlab serves per pod besides resources.
const RPS_METRIC: &str = "requests_per_second";

/// What scaling a workload starts from: a Deployment's replicas (0 for other kinds) and
/// its pods' CPU request, as [`Builder::dynamics`] and [`Builder::hpa`] take them.
pub(super) fn scale_basis(kind: &WorkloadKind, template: &PodTemplate) -> (u32, i64) {
    let replicas = match kind {
        WorkloadKind::Deployment { replicas, .. } | WorkloadKind::StatefulSet { replicas, .. } => {
            *replicas
        }
        _ => 0,
    };
    (
        replicas,
        template.effective_requests().get(ResourceKind::CPU),
    )
}

impl Builder<'_> {
    /// The dynamics of a workload, if it gives any of their keys: a Deployment may give
    /// any; a StatefulSet `service`, `memoryUsage`, `usage` and `horizontalPodAutoscaler`
    /// (its pods are Ready once they run, and KEDA is modelled for Deployments only).
    pub(super) fn dynamics(
        &self,
        raw: &RawWorkload,
        kind: Kind,
        replicas: u32,
        cpu_request: i64,
        name: &str,
        base: &str,
    ) -> Result<Option<Dynamics>> {
        let keys: [(&str, Option<&Location>); 6] = [
            (
                "readinessDelay",
                raw.readiness_delay.as_ref().map(|v| &v.referenced),
            ),
            ("service", raw.service.as_ref().map(|v| &v.referenced)),
            (
                "memoryUsage",
                raw.memory_usage.as_ref().map(|v| &v.referenced),
            ),
            ("usage", raw.usage.as_ref().map(|v| &v.referenced)),
            (
                "horizontalPodAutoscaler",
                raw.horizontal_pod_autoscaler
                    .as_ref()
                    .map(|v| &v.referenced),
            ),
            (
                "scaledObject",
                raw.scaled_object.as_ref().map(|v| &v.referenced),
            ),
        ];
        let Some((first, at)) = keys.iter().find_map(|(k, at)| at.map(|at| (*k, at))) else {
            return Ok(None);
        };
        let stateful = ["service", "memoryUsage", "usage", "horizontalPodAutoscaler"];
        if kind == Kind::StatefulSet {
            if let Some((k, at)) = keys
                .iter()
                .find_map(|(k, at)| at.filter(|_| !stateful.contains(k)).map(|at| (*k, at)))
            {
                return Err(self.kube.err(
                    at,
                    &format!("{base}.{k}"),
                    format!("`{k}` applies to deployment workloads only"),
                ));
            }
        } else if kind != Kind::Deployment {
            let also = if stateful.contains(&first) {
                " and statefulSet"
            } else {
                ""
            };
            return Err(self.kube.err(
                at,
                &format!("{base}.{first}"),
                format!("`{first}` applies to deployment{also} workloads only"),
            ));
        }
        let readiness_delay = match &raw.readiness_delay {
            Some(v) => self.duration(v, &format!("{base}.readinessDelay"))?,
            None => SimTime::ZERO,
        };
        let service = match &raw.service {
            Some(s) => Some(self.service(s, &format!("{base}.service"))?),
            None => None,
        };
        let memory = match &raw.memory_usage {
            Some(m) => {
                let f = format!("{base}.memoryUsage");
                let mem = |b: &Builder<'_>, v: &Spanned<Scalar>, f: &str| {
                    b.kube.quantity(ResourceKind::MEMORY, v, f)
                };
                Some(MemoryUsage {
                    base: self.scalar_or_dist(&m.value.base, &format!("{f}.base"), &mem, 0)?,
                    leak_per_hour: match &m.value.leak_per_hour {
                        Some(v) => self.kube.quantity(
                            ResourceKind::MEMORY,
                            v,
                            &format!("{f}.leakPerHour"),
                        )?,
                        None => 0,
                    },
                })
            }
            None => None,
        };
        let usage = match &raw.usage {
            Some(u) => self.usage(&u.value, name, &format!("{base}.usage"))?,
            None => UsageOverride::default(),
        };
        let hpa = match &raw.horizontal_pod_autoscaler {
            Some(h) => Some(self.hpa(
                h,
                replicas,
                cpu_request,
                service.is_some(),
                &format!("{base}.horizontalPodAutoscaler"),
            )?),
            None => None,
        };
        let keda = match &raw.scaled_object {
            Some(k) => {
                let f = format!("{base}.scaledObject");
                if service.as_ref().is_none_or(|s| s.queue.is_none()) {
                    return Err(self.kube.err(
                        &k.referenced,
                        &f,
                        "a scaledObject scales on the length of the workload's queue: give the workload `service.queue`",
                    ));
                }
                if let Some(h) = &raw.horizontal_pod_autoscaler {
                    return Err(self.kube.err(
                        &h.referenced,
                        &format!("{base}.horizontalPodAutoscaler"),
                        "a workload with a scaledObject cannot also have a horizontalPodAutoscaler (KEDA creates and owns the HPA)",
                    ));
                }
                Some(self.scaled_object(k, &f)?)
            }
            None => None,
        };
        Ok(Some(Dynamics {
            readiness_delay,
            service,
            memory,
            usage,
            hpa,
            rollouts: Vec::new(),
            keda,
        }))
    }

    fn service(&self, s: &Spanned<RawService>, base: &str) -> Result<ServiceLoad> {
        let raw = &s.value;
        let cpu = |v: &Option<Spanned<Scalar>>, key: &str| -> Result<f64> {
            match v {
                Some(v) => Ok(self
                    .kube
                    .quantity(ResourceKind::CPU, v, &format!("{base}.{key}"))?
                    as f64),
                None => Ok(0.0),
            }
        };
        Ok(ServiceLoad {
            load: self.load(&raw.load, &format!("{base}.load"))?,
            cpu_per_request_milli: cpu(&raw.cpu_per_request, "cpuPerRequest")?,
            idle_cpu_milli: cpu(&raw.idle_cpu, "idleCpu")?,
            max_rps_per_pod: match &raw.max_requests_per_pod {
                Some(v) => Some(self.kube.number(
                    v,
                    &format!("{base}.maxRequestsPerPod"),
                    false,
                )?),
                None => None,
            },
            queue: match &raw.queue {
                Some(q) => Some(self.work_queue(q, &format!("{base}.queue"))?),
                None => None,
            },
        })
    }

    fn rate(&self, v: &Spanned<Scalar>, field: &str) -> Result<f64> {
        self.kube.number(v, field, true)
    }

    fn load(&self, l: &Spanned<RawLoad>, base: &str) -> Result<LoadProfile> {
        let raw = &l.value;
        let given: Vec<(&str, &Location)> = [
            ("constant", raw.constant.as_ref().map(|v| &v.referenced)),
            (
                "steps",
                raw.steps
                    .as_ref()
                    .and_then(|v| v.first())
                    .map(|v| &v.referenced),
            ),
            ("spike", raw.spike.as_ref().map(|v| &v.referenced)),
            ("diurnal", raw.diurnal.as_ref().map(|v| &v.referenced)),
            (
                "series",
                raw.series
                    .as_ref()
                    .and_then(|v| v.first())
                    .map(|v| &v.referenced),
            ),
            ("csv", raw.csv.as_ref().map(|v| &v.referenced)),
        ]
        .into_iter()
        .filter_map(|(k, at)| at.map(|at| (k, at)))
        .collect();
        let shapes = ["constant", "steps", "spike", "diurnal", "series", "csv"];
        match given.as_slice() {
            [] => {
                return Err(self.kube.err(
                    &l.referenced,
                    base,
                    format!(
                        "a load needs exactly one of {} (with at least one point)",
                        one_of(&shapes)
                    ),
                ));
            }
            [_, (second, at), ..] => {
                return Err(self.kube.err(
                    at,
                    &format!("{base}.{second}"),
                    format!(
                        "a load has exactly one shape, but this one has both `{}` and `{second}`",
                        given[0].0
                    ),
                ));
            }
            [_] => {}
        }
        if let Some(v) = &raw.constant {
            return Ok(LoadProfile::Constant(
                self.rate(v, &format!("{base}.constant"))?,
            ));
        }
        if let Some(points) = raw.steps.as_ref().or(raw.series.as_ref()) {
            let key = if raw.steps.is_some() {
                "steps"
            } else {
                "series"
            };
            let mut out = Vec::with_capacity(points.len());
            for (i, p) in points.iter().enumerate() {
                let f = format!("{base}.{key}[{i}]");
                let at = self.duration(&p.value.at, &format!("{f}.at"))?;
                if out.last().is_some_and(|&(last, _)| at <= last) {
                    return Err(self.kube.err(
                        &p.value.at.referenced,
                        &format!("{f}.at"),
                        "points must be in increasing order of time",
                    ));
                }
                out.push((at, self.rate(&p.value.rps, &format!("{f}.rps"))?));
            }
            return Ok(if key == "steps" {
                LoadProfile::Steps(out)
            } else {
                LoadProfile::Series(out)
            });
        }
        if let Some(s) = &raw.spike {
            let f = format!("{base}.spike");
            return Ok(LoadProfile::Spike {
                base: self.rate(&s.value.base, &format!("{f}.base"))?,
                peak: self.rate(&s.value.peak, &format!("{f}.peak"))?,
                at: self.duration(&s.value.at, &format!("{f}.at"))?,
                duration: self.duration(&s.value.duration, &format!("{f}.duration"))?,
            });
        }
        if let Some(d) = &raw.diurnal {
            let f = format!("{base}.diurnal");
            return Ok(LoadProfile::Diurnal {
                mean: self.rate(&d.value.mean, &format!("{f}.mean"))?,
                amplitude: self.rate(&d.value.amplitude, &format!("{f}.amplitude"))?,
                period: match &d.value.period {
                    Some(v) => self.positive_duration(v, &format!("{f}.period"))?,
                    None => SimTime::from_secs(86_400),
                },
                peak_at: match &d.value.peak_at {
                    Some(v) => self.duration(v, &format!("{f}.peakAt"))?,
                    None => SimTime::from_secs(14 * 3600),
                },
            });
        }
        let csv = raw.csv.as_ref().expect("one shape is given");
        let (path, shown) = self.trace_path(csv, &format!("{base}.csv"))?;
        load_csv(&path, &shown).map(LoadProfile::Series)
    }

    /// `usage:`: the Deployment-wide series and the per-pod ones of `pods:`.
    fn usage(&self, u: &RawUsage, deployment: &str, f: &str) -> Result<UsageOverride> {
        let series = |cpu: &Option<Spanned<RawSteps>>,
                      memory: &Option<Spanned<RawSteps>>,
                      f: &str|
         -> Result<(Option<Steps>, Option<Steps>)> {
            let cpu = match cpu {
                Some(s) => Some(self.steps(s, ResourceKind::CPU, &format!("{f}.cpu"))?),
                None => None,
            };
            let memory = match memory {
                Some(s) => Some(self.steps(s, ResourceKind::MEMORY, &format!("{f}.memory"))?),
                None => None,
            };
            Ok((cpu, memory))
        };
        let (cpu, memory) = series(&u.cpu, &u.memory, f)?;
        let mut pods: Vec<PodUsageOverride> = Vec::new();
        for (i, p) in u.pods.iter().flatten().enumerate() {
            let pf = format!("{f}.pods[{i}]");
            let name = &p.value.name;
            let ordinal = name
                .value
                .strip_prefix(deployment)
                .and_then(|rest| rest.strip_prefix('-'))
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u32>().ok());
            let Some(ordinal) = ordinal else {
                return Err(self.kube.err(
                    &name.referenced,
                    &format!("{pf}.name"),
                    format!(
                        "`{}` is not a pod of Deployment `{deployment}`: its pods are named \
                         `{deployment}-N`, N counting the pods it creates from 0",
                        name.value
                    ),
                ));
            };
            if pods.iter().any(|q| q.ordinal == ordinal) {
                return Err(self.kube.err(
                    &name.referenced,
                    &format!("{pf}.name"),
                    format!("pod `{}` is listed twice", name.value),
                ));
            }
            let (cpu, memory) = series(&p.value.cpu, &p.value.memory, &pf)?;
            pods.push(PodUsageOverride {
                ordinal,
                cpu,
                memory,
            });
        }
        pods.sort_by_key(|p| p.ordinal);
        Ok(UsageOverride { cpu, memory, pods })
    }

    fn steps(
        &self,
        s: &Spanned<RawSteps>,
        kind: ResourceKind,
        field: &str,
    ) -> Result<Vec<(SimTime, i64)>> {
        match &s.value {
            RawSteps::Constant(c) => {
                let v = Spanned::new(c.clone(), s.referenced, s.defined);
                Ok(vec![(SimTime::ZERO, self.kube.quantity(kind, &v, field)?)])
            }
            RawSteps::Steps(list) => {
                let mut out: Vec<(SimTime, i64)> = Vec::with_capacity(list.len());
                for (i, p) in list.iter().enumerate() {
                    let f = format!("{field}[{i}]");
                    let at = self.duration(&p.value.at, &format!("{f}.at"))?;
                    if out.last().is_some_and(|&(last, _)| at <= last) {
                        return Err(self.kube.err(
                            &p.value.at.referenced,
                            &format!("{f}.at"),
                            "steps must be in increasing order of time",
                        ));
                    }
                    out.push((
                        at,
                        self.kube
                            .quantity(kind, &p.value.value, &format!("{f}.value"))?,
                    ));
                }
                Ok(out)
            }
        }
    }

    pub(super) fn hpa(
        &self,
        h: &Spanned<RawHpa>,
        replicas: u32,
        cpu_request: i64,
        has_service: bool,
        base: &str,
    ) -> Result<HpaSpec> {
        let raw = &h.value;
        let min = match &raw.min_replicas {
            Some(v) => self.kube.count_i32(v, &format!("{base}.minReplicas"))?,
            None => 1,
        };
        let max = self
            .kube
            .count_i32(&raw.max_replicas, &format!("{base}.maxReplicas"))?;
        if max == 0 || max < min {
            return Err(self.kube.err(
                &raw.max_replicas.referenced,
                &format!("{base}.maxReplicas"),
                format!(
                    "maxReplicas must be at least 1 and at least minReplicas ({min}), got {max}"
                ),
            ));
        }
        let _ = replicas;
        if raw.metrics.value.is_empty() {
            return Err(self.kube.err(
                &raw.metrics.referenced,
                &format!("{base}.metrics"),
                "an autoscaler needs at least one metric",
            ));
        }
        let mut metrics = Vec::new();
        for (i, m) in raw.metrics.value.iter().enumerate() {
            metrics.push(self.metric(
                m,
                cpu_request,
                has_service,
                &format!("{base}.metrics[{i}]"),
            )?);
        }
        let behavior = match &raw.behavior {
            Some(b) => {
                let mut out = Behavior::default();
                if let Some(r) = &b.scale_up {
                    self.rules(r, &mut out.up, &format!("{base}.behavior.scaleUp"))?;
                }
                if let Some(r) = &b.scale_down {
                    self.rules(r, &mut out.down, &format!("{base}.behavior.scaleDown"))?;
                }
                out
            }
            None => Behavior::default(),
        };
        let mut settings = CalcSettings::default();
        if let Some(v) = &raw.tolerance {
            let t = self.kube.number(v, &format!("{base}.tolerance"), true)?;
            settings.tolerance_up = t;
            settings.tolerance_down = t;
        }
        if let Some(v) = &raw.cpu_initialization_period {
            settings.cpu_initialization_period =
                self.duration(v, &format!("{base}.cpuInitializationPeriod"))?;
        }
        if let Some(v) = &raw.initial_readiness_delay {
            settings.initial_readiness_delay =
                self.duration(v, &format!("{base}.initialReadinessDelay"))?;
        }
        Ok(HpaSpec {
            min,
            max,
            metrics,
            behavior,
            sync_period: match &raw.sync_period {
                Some(v) => self.positive_duration(v, &format!("{base}.syncPeriod"))?,
                None => SimTime::from_secs(15),
            },
            settings,
        })
    }

    fn metric(
        &self,
        m: &Spanned<RawMetric>,
        cpu_request: i64,
        has_service: bool,
        base: &str,
    ) -> Result<HpaMetric> {
        let raw = &m.value;
        let kinds = ["Resource", "Pods"];
        let kind = match (&raw.kind, &raw.resource, &raw.pods) {
            (Some(k), _, _) if !kinds.contains(&k.value.as_str()) => {
                return Err(self.kube.err(
                    &k.referenced,
                    &format!("{base}.type"),
                    format!(
                        "unsupported metric type {:?}{}; schedlab models {}",
                        k.value,
                        did_you_mean(&k.value, &kinds),
                        one_of(&kinds)
                    ),
                ));
            }
            (_, Some(r), None) => Ok(r),
            (_, None, Some(p)) => Err(p),
            _ => {
                return Err(self.kube.err(
                    &m.referenced,
                    base,
                    "a metric needs exactly one of `resource` or `pods`",
                ));
            }
        };
        match kind {
            Ok(r) => {
                let f = format!("{base}.resource");
                let name = r.value.name.value.as_str();
                let target = self.target(&r.value.target, true, &format!("{f}.target"), name)?;
                match name {
                    "cpu" => {
                        if matches!(target, Target::Utilization(_)) && cpu_request <= 0 {
                            return Err(self.kube.err(
                                &r.value.target.referenced,
                                &format!("{f}.target.averageUtilization"),
                                "a utilization target needs the pods to request cpu",
                            ));
                        }
                        Ok(HpaMetric::Cpu(target))
                    }
                    "memory" => Ok(HpaMetric::Memory(target)),
                    other => Err(self.kube.err(
                        &r.value.name.referenced,
                        &format!("{f}.name"),
                        format!(
                            "unknown resource metric {other:?}{}; expected cpu or memory",
                            did_you_mean(other, &["cpu", "memory"])
                        ),
                    )),
                }
            }
            Err(p) => {
                let f = format!("{base}.pods");
                let name = &p.value.metric.name;
                if name.value != RPS_METRIC {
                    return Err(self.kube.err(
                        &name.referenced,
                        &format!("{f}.metric.name"),
                        format!(
                            "unknown pods metric {:?}{}; schedlab serves {RPS_METRIC:?}",
                            name.value,
                            did_you_mean(&name.value, &[RPS_METRIC])
                        ),
                    ));
                }
                if !has_service {
                    return Err(self.kube.err(
                        &name.referenced,
                        &format!("{f}.metric.name"),
                        "requests_per_second needs the deployment's `service:` (its load)",
                    ));
                }
                match self.target(&p.value.target, false, &format!("{f}.target"), RPS_METRIC)? {
                    Target::AverageValue(v) => Ok(HpaMetric::RequestsPerSecond(v)),
                    Target::Utilization(_) => unreachable!("pods metrics take values only"),
                }
            }
        }
    }

    /// A metric target: `averageUtilization` (resources only) or `averageValue`.
    fn target(
        &self,
        t: &Spanned<RawTarget>,
        resource: bool,
        base: &str,
        name: &str,
    ) -> Result<Target> {
        let raw = &t.value;
        match (&raw.average_utilization, &raw.average_value) {
            (Some(u), None) if resource => {
                let pct = self
                    .kube
                    .count_u32(u, &format!("{base}.averageUtilization"))?;
                if pct == 0 || pct > i32::MAX as u32 {
                    return Err(self.kube.err(
                        &u.referenced,
                        &format!("{base}.averageUtilization"),
                        "expected a percentage above 0",
                    ));
                }
                Ok(Target::Utilization(pct as i32))
            }
            (None, Some(v)) => {
                let f = format!("{base}.averageValue");
                let milli = match name {
                    "cpu" => self.kube.quantity(ResourceKind::CPU, v, &f)?,
                    "memory" => self.kube.quantity(ResourceKind::MEMORY, v, &f)?,
                    _ => (self.kube.number(v, &f, false)? * 1000.0).round() as i64,
                };
                if milli <= 0 {
                    return Err(self.kube.err(&v.referenced, &f, "expected a value above 0"));
                }
                Ok(Target::AverageValue(milli))
            }
            _ => {
                let _ = &raw.kind;
                Err(self.kube.err(
                    &t.referenced,
                    base,
                    if resource {
                        "a target needs exactly one of averageUtilization or averageValue"
                    } else {
                        "a pods metric's target needs averageValue"
                    },
                ))
            }
        }
    }

    pub(super) fn rules(
        &self,
        r: &Spanned<RawRules>,
        out: &mut ScalingRules,
        base: &str,
    ) -> Result<()> {
        let raw = &r.value;
        if let Some(v) = &raw.stabilization_window_seconds {
            let secs = self.kube.integer(
                v,
                &format!("{base}.stabilizationWindowSeconds"),
                0,
                3600,
                "seconds between 0 and 3600",
            )?;
            out.stabilization = SimTime::from_secs(secs as u64);
        }
        if let Some(v) = &raw.select_policy {
            out.select = self.kube.spelled::<SelectPolicy>(
                v,
                &format!("{base}.selectPolicy"),
                "selectPolicy",
            )?;
        }
        if let Some(list) = &raw.policies {
            out.policies.clear();
            for (i, p) in list.iter().enumerate() {
                let f = format!("{base}.policies[{i}]");
                let kind = self.kube.spelled::<PolicyKind>(
                    &p.value.kind,
                    &format!("{f}.type"),
                    "policy type",
                )?;
                let value = self.kube.integer(
                    &p.value.value,
                    &format!("{f}.value"),
                    1,
                    i128::from(i32::MAX),
                    "a positive integer",
                )? as i32;
                let period = self.kube.integer(
                    &p.value.period_seconds,
                    &format!("{f}.periodSeconds"),
                    1,
                    1800,
                    "seconds between 1 and 1800",
                )?;
                out.policies.push(Policy {
                    kind,
                    value,
                    period: SimTime::from_secs(period as u64),
                });
            }
        }
        Ok(())
    }
}

/// A load CSV: a header, then `time,rps` rows; time in seconds from the start.
fn load_csv(path: &Path, shown: &str) -> Result<Vec<(SimTime, f64)>> {
    let err =
        |line: u64, message: String| ScenarioError::file(shown, format!("line {line}: {message}"));
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| ScenarioError::file(shown, format!("cannot read the load file: {e}")))?;
    let mut out: Vec<(SimTime, f64)> = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let (Some(t), Some(r), 2) = (record.get(0), record.get(1), record.len()) else {
            return Err(err(
                line,
                format!("expected 2 columns (time_s,rps), got {}", record.len()),
            ));
        };
        let t: f64 = t
            .trim()
            .parse()
            .map_err(|_| err(line, format!("time_s: expected seconds, got {t:?}")))?;
        let r: f64 = r
            .trim()
            .parse()
            .map_err(|_| err(line, format!("rps: expected a number, got {r:?}")))?;
        if !(t.is_finite() && t >= 0.0 && r.is_finite() && r >= 0.0) {
            return Err(err(
                line,
                "time_s and rps must be non-negative numbers".into(),
            ));
        }
        let at = SimTime::from_micros((t * 1e6).round() as u64);
        if out.last().is_some_and(|&(last, _)| at <= last) {
            return Err(err(line, "times must increase from row to row".into()));
        }
        out.push((at, r));
    }
    if out.is_empty() {
        return Err(err(1, "the load file has no rows".into()));
    }
    Ok(out)
}
