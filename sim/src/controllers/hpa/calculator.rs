//! The HorizontalPodAutoscaler's replica calculator: from the pods of a scale target and
//! their metrics, the replica count one metric asks for.
//!
//! Follows kube-controller-manager's `pkg/controller/podautoscaler/replica_calculator.go`
//! (Kubernetes v1.35): pods are grouped first (`groupPods`), and pods that are being
//! deleted or have failed are ignored; pending pods count as unready; a running pod with no
//! metric is missing; for CPU, a pod still within its CPU initialization period counts as
//! unready while it is not ready or its newest sample began before it became ready, and
//! after that period only if it has never been ready and turned unready within the
//! initial-readiness delay of starting. The usage ratio is taken over the pods with
//! metrics; when it says scale up while some pods are unready, or some pods are missing,
//! it is taken again with unready pods at zero and missing pods at zero (scale up) or at
//! their full request (scale down), and a change of direction in between keeps the current
//! count. The tolerance is split into a scale-up and a scale-down one, as v1.33's
//! configurable tolerance has it; both default to 0.1.
//!
//! Percentages are integers as upstream computes them (the utilization is truncated
//! before it is divided by the target), so the same inputs give the same counts.

use crate::time::SimTime;

/// What the calculator knows of one pod of the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodSample {
    /// Pending (not yet running), running, or failed.
    pub phase: SamplePhase,
    /// Being deleted (it has a deletion timestamp).
    pub deleting: bool,
    /// Its Ready condition, and when that condition last changed; `None`: no condition.
    pub ready: Option<(bool, SimTime)>,
    /// When it started (`status.startTime`); `None` before.
    pub started: Option<SimTime>,
    /// Its request of the metric's resource (milli-units); 0 when it sets none.
    pub request: i64,
    /// Its newest sample, if the metrics pipeline has one.
    pub metric: Option<MetricSample>,
}

/// A pod's phase, as the calculator distinguishes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplePhase {
    /// Not running yet.
    Pending,
    /// Running.
    Running,
    /// Failed.
    Failed,
}

/// One metric sample of a pod.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSample {
    /// The value, in milli-units.
    pub value: i64,
    /// When the sample was taken.
    pub at: SimTime,
    /// The window it averages over (metrics-server's resolution).
    pub window: SimTime,
}

/// The calculator's settings: kube-controller-manager's flags.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalcSettings {
    /// Relative change below which a scale-up is not made (default 0.1).
    pub tolerance_up: f64,
    /// Relative change below which a scale-down is not made (default 0.1).
    pub tolerance_down: f64,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period` (default 5 minutes).
    pub cpu_initialization_period: SimTime,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay` (default 30 s).
    pub initial_readiness_delay: SimTime,
}

impl Default for CalcSettings {
    fn default() -> CalcSettings {
        CalcSettings {
            tolerance_up: 0.1,
            tolerance_down: 0.1,
            cpu_initialization_period: SimTime::from_secs(300),
            initial_readiness_delay: SimTime::from_secs(30),
        }
    }
}

impl CalcSettings {
    /// True when `ratio` is close enough to 1 that nothing changes.
    fn within(&self, ratio: f64) -> bool {
        (1.0 - self.tolerance_down) <= ratio && ratio <= (1.0 + self.tolerance_up)
    }
}

/// Why no recommendation could be made (upstream's errors, which leave the count alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalcError {
    /// No pods match the target.
    NoPods,
    /// No running, counted pod has a metric.
    NoMetrics,
    /// A pod sets no request of the resource, so utilization is undefined.
    MissingRequest,
}

/// What one metric recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recommendation {
    /// The replica count it asks for.
    pub replicas: i32,
    /// The current utilization in percent of requests (resource utilization targets), or
    /// the average value per pod in milli-units (value targets), over the pods counted.
    pub utilization: i64,
}

/// How a metric's target is stated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `averageUtilization`: percent of the pods' requests.
    Utilization(i32),
    /// `averageValue`: milli-units per pod.
    AverageValue(i64),
}

/// How the pods group for one metric.
#[derive(Debug, Default)]
struct Groups {
    ready: usize,
    /// Indices into the pod list.
    unready: Vec<usize>,
    missing: Vec<usize>,
    counted: Vec<usize>,
}

/// Upstream's `groupPods`; `cpu` applies the CPU-only readiness rules.
fn group(pods: &[PodSample], cpu: bool, now: SimTime, s: &CalcSettings) -> Groups {
    let mut g = Groups::default();
    for (i, pod) in pods.iter().enumerate() {
        if pod.deleting || pod.phase == SamplePhase::Failed {
            continue;
        }
        if pod.phase == SamplePhase::Pending {
            g.unready.push(i);
            continue;
        }
        let Some(metric) = pod.metric else {
            g.missing.push(i);
            continue;
        };
        if cpu && cpu_unready(pod, metric, now, s) {
            g.unready.push(i);
            continue;
        }
        g.ready += 1;
        g.counted.push(i);
    }
    g
}

/// Whether a running pod's CPU sample is set aside as unready.
fn cpu_unready(pod: &PodSample, metric: MetricSample, now: SimTime, s: &CalcSettings) -> bool {
    let (Some((ready, changed)), Some(started)) = (pod.ready, pod.started) else {
        return true;
    };
    if started.saturating_add(s.cpu_initialization_period) > now {
        // Still initializing: unready, or no full window sampled since it turned ready.
        !ready || metric.at < changed.saturating_add(metric.window)
    } else {
        // Unready and never ready since it started.
        !ready && started.saturating_add(s.initial_readiness_delay) > changed
    }
}

/// A value per counted pod: the pod's index and the value the ratio uses.
type Values = Vec<(usize, i64)>;

/// Upstream's `GetResourceUtilizationRatio`: (ratio, utilization in percent).
fn utilization_ratio(values: &Values, pods: &[PodSample], target: i32) -> Option<(f64, i64)> {
    let (mut usage, mut requests) = (0i128, 0i128);
    for &(i, v) in values {
        usage += i128::from(v);
        requests += i128::from(pods[i].request);
    }
    if requests == 0 {
        return None;
    }
    let utilization = (usage * 100 / requests) as i64;
    Some((utilization as f64 / f64::from(target), utilization))
}

/// Upstream's `GetMetricUtilizationRatio`: (ratio, average value per pod).
fn value_ratio(values: &Values, target: i64) -> (f64, i64) {
    let total: i128 = values.iter().map(|&(_, v)| i128::from(v)).sum();
    let average = (total / values.len().max(1) as i128) as i64;
    (average as f64 / target as f64, average)
}

/// The replica count one metric of the target asks for: `cpu` when the metric is the CPU
/// resource (which applies the CPU readiness rules); `target` a utilization (resource
/// metrics) or an average value (resource, pods metrics).
pub fn replicas(
    current: i32,
    target: Target,
    cpu: bool,
    pods: &[PodSample],
    now: SimTime,
    s: &CalcSettings,
) -> Result<Recommendation, CalcError> {
    if pods.is_empty() {
        return Err(CalcError::NoPods);
    }
    let g = group(pods, cpu, now, s);
    if matches!(target, Target::Utilization(_)) && pods.iter().any(|p| p.request <= 0) {
        return Err(CalcError::MissingRequest);
    }
    if g.counted.is_empty() {
        return Err(CalcError::NoMetrics);
    }
    let mut values: Values = g
        .counted
        .iter()
        .map(|&i| (i, pods[i].metric.map_or(0, |m| m.value)))
        .collect();
    let ratio_of = |values: &Values| match target {
        Target::Utilization(t) => utilization_ratio(values, pods, t).ok_or(CalcError::NoMetrics),
        Target::AverageValue(t) => Ok(value_ratio(values, t)),
    };
    let (ratio, utilization) = ratio_of(&values)?;
    let done = |replicas: i32| {
        Ok(Recommendation {
            replicas,
            utilization,
        })
    };

    let rebalance_unready = !g.unready.is_empty() && ratio > 1.0;
    if !rebalance_unready && g.missing.is_empty() {
        if s.within(ratio) {
            return done(current);
        }
        return done((ratio * g.ready as f64).ceil() as i32);
    }
    if ratio < 1.0 {
        // Scale-down: missing pods count as using all of their request (at least the
        // target, for utilization), or exactly the target value.
        for &i in &g.missing {
            let v = match target {
                Target::Utilization(t) => pods[i].request * i64::from(t.max(100)) / 100,
                Target::AverageValue(t) => t,
            };
            values.push((i, v));
        }
    } else if ratio > 1.0 {
        values.extend(g.missing.iter().map(|&i| (i, 0)));
    }
    if rebalance_unready {
        values.extend(g.unready.iter().map(|&i| (i, 0)));
    }
    let (new_ratio, _) = ratio_of(&values)?;
    if s.within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return done(current);
    }
    let replicas = (new_ratio * values.len() as f64).ceil() as i32;
    if (new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current) {
        return done(current);
    }
    done(replicas)
}

/// Table tests mirroring upstream's `replica_calculator_test.go` (rows of
/// `TestReplicaCalcResourceScale`, the tolerance tests and the missing-metrics tests,
/// named after the functions they used to be). Upstream's fixture: two containers per
/// pod, so a pod requests and uses twice the per-container figures; start times,
/// readiness transitions and metric timestamps at the zero time unless a pod is "hot"
/// (started now) or "cool" (started 3 minutes ago); a 2-minute CPU initialization period
/// and a 10 s initial-readiness delay; 1-minute metric windows.
/// Upstream's `GetExternalPerPodMetricReplicas`: an External metric with an AverageValue
/// target (what KEDA's HPA uses). `usage` is the metric's total in milli-units, `target`
/// the value per pod in milli-units; the ratio is taken over `current` replicas (the
/// HPA's spec replicas), and the recommendation is ceil(usage / target) unless the ratio
/// is within the tolerance. No pod is consulted, so nothing is missing or unready.
pub fn external_per_pod(current: i32, usage: i64, target: i64, s: &CalcSettings) -> Recommendation {
    let target = target.max(1);
    let ratio = usage as f64 / (target as f64 * f64::from(current.max(1)));
    let replicas = if s.within(ratio) {
        current
    } else {
        (usage as f64 / target as f64).ceil() as i32
    };
    Recommendation {
        replicas,
        utilization: (usage as f64 / f64::from(current.max(1))).ceil() as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: SimTime = SimTime::from_secs(86_400);
    const HOT: SimTime = NOW;
    const COOL: SimTime = SimTime::from_secs(86_400 - 180);

    fn settings(down: f64, up: f64) -> CalcSettings {
        CalcSettings {
            tolerance_up: up,
            tolerance_down: down,
            cpu_initialization_period: SimTime::from_secs(120),
            initial_readiness_delay: SimTime::from_secs(10),
        }
    }

    /// A default fixture pod: running, ready since the zero time, started at the zero time.
    fn pod(request_per_container: i64, level: Option<i64>) -> PodSample {
        PodSample {
            phase: SamplePhase::Running,
            deleting: false,
            ready: Some((true, SimTime::ZERO)),
            started: Some(SimTime::ZERO),
            request: 2 * request_per_container,
            metric: level.map(|l| MetricSample {
                value: 2 * l,
                at: SimTime::ZERO,
                window: SimTime::from_secs(60),
            }),
        }
    }

    fn pods(requests: &[i64], levels: &[i64]) -> Vec<PodSample> {
        requests
            .iter()
            .enumerate()
            .map(|(i, &r)| pod(r, levels.get(i).copied()))
            .collect()
    }

    fn unready(mut p: PodSample) -> PodSample {
        p.ready = Some((false, SimTime::ZERO));
        p
    }

    fn started(mut p: PodSample, at: SimTime) -> PodSample {
        p.started = Some(at);
        p
    }

    /// (current, pods, target %, tolerances) -> (replicas, utilization).
    fn cpu(current: i32, pods: &[PodSample], target: i32, s: CalcSettings) -> (i32, i64) {
        let r = replicas(current, Target::Utilization(target), true, pods, NOW, &s).unwrap();
        (r.replicas, r.utilization)
    }

    #[test]
    fn resource_scale_rows() {
        let d = settings(0.1, 0.1);
        let base = pods(&[1000; 3], &[300, 500, 700]);
        // ScaleUp
        assert_eq!(cpu(3, &base, 30, d), (5, 50));
        // ScaleUpUnreadyLessScale
        let mut p = base.clone();
        p[0] = unready(p[0]);
        assert_eq!(cpu(3, &p, 30, d), (4, 60));
        // ScaleUpHotCpuLessScale
        let mut p = base.clone();
        p[0] = started(p[0], HOT);
        p[1] = started(p[1], COOL);
        p[2] = started(p[2], COOL);
        assert_eq!(cpu(3, &p, 30, d), (4, 60));
        // ScaleUpUnreadyNoScale
        let mut p = pods(&[1000; 3], &[400, 500, 700]);
        p[1] = unready(p[1]);
        p[2] = unready(p[2]);
        assert_eq!(cpu(3, &p, 30, d), (3, 40));
        // ScaleUpHotCpuNoScale
        let mut p = pods(&[1000; 3], &[400, 500, 700]);
        p[0] = started(p[0], COOL);
        p[1] = started(unready(p[1]), HOT);
        p[2] = started(unready(p[2]), HOT);
        assert_eq!(cpu(3, &p, 30, d), (3, 40));
        // ScaleUpIgnoresFailedPods
        let mut p = pods(&[1000; 4], &[500, 700]);
        p[2].phase = SamplePhase::Failed;
        p[3].phase = SamplePhase::Failed;
        assert_eq!(cpu(2, &p, 30, d), (4, 60));
        // ScaleUpIgnoresDeletionPods
        let mut p = pods(&[1000; 4], &[500, 700]);
        p[2] = unready(p[2]);
        p[3] = unready(p[3]);
        p[2].deleting = true;
        p[3].deleting = true;
        assert_eq!(cpu(2, &p, 30, d), (4, 60));
        let down = pods(&[1000; 5], &[100, 300, 500, 250, 250]);
        // ScaleDown
        assert_eq!(cpu(5, &down, 50, d), (3, 28));
        // ScaleDownExcludeUnreadyPods
        let mut p = down.clone();
        p[3] = unready(p[3]);
        p[4] = unready(p[4]);
        assert_eq!(cpu(5, &p, 50, d), (2, 30));
        // ScaleDownExcludeUnscheduledPods
        let mut p = pods(&[1000; 5], &[100]);
        for q in &mut p[1..] {
            q.phase = SamplePhase::Pending;
            q.ready = Some((false, SimTime::ZERO));
        }
        assert_eq!(cpu(5, &p, 50, d), (1, 10));
        // ScaleDownIgnoreHotCpuPods
        let mut p = down.clone();
        for (i, q) in p.iter_mut().enumerate() {
            *q = started(*q, if i < 3 { COOL } else { HOT });
        }
        assert_eq!(cpu(5, &p, 50, d), (2, 30));
    }

    #[test]
    fn tolerance_rows() {
        let req = [900, 1000, 1100];
        // TestReplicaCalcTolerance
        let p = pods(&req, &[1010, 1030, 1020]);
        assert_eq!(cpu(3, &p, 100, settings(0.1, 0.1)), (3, 102));
        // ConfigurableTolerance cases
        let p = pods(&req, &[909, 1010, 1111]);
        assert_eq!(cpu(3, &p, 100, settings(0.0, 0.0)), (4, 101));
        let p = pods(&req, &[1890, 1910, 1900]);
        assert_eq!(cpu(3, &p, 100, settings(0.1, 2.0)), (3, 190));
        let p = pods(&req, &[1100, 1080, 1090]);
        assert_eq!(cpu(3, &p, 100, settings(2.0, 0.08)), (4, 109));
        let p = pods(&req, &[660, 640, 650]);
        assert_eq!(cpu(3, &p, 100, settings(0.36, 0.1)), (3, 65));
        assert_eq!(cpu(3, &p, 100, settings(0.34, 0.1)), (2, 65));
    }

    #[test]
    fn missing_metrics_rows() {
        let d = settings(0.1, 0.1);
        // MissingMetrics
        assert_eq!(cpu(4, &pods(&[1000; 4], &[400, 95]), 100, d), (3, 24));
        // MissingMetricsNoChangeEq / Gt / Lt
        assert_eq!(cpu(2, &pods(&[1000; 2], &[1000]), 100, d), (2, 100));
        assert_eq!(cpu(2, &pods(&[1000; 2], &[1900]), 100, d), (2, 190));
        assert_eq!(cpu(2, &pods(&[1000; 2], &[600]), 100, d), (2, 60));
        // MissingMetricsUnreadyChange
        let mut p = pods(&[1000; 3], &[100, 450]);
        p[0] = unready(p[0]);
        assert_eq!(cpu(3, &p, 50, d), (3, 45));
        // MissingMetricsUnreadyScaleUp
        let mut p = pods(&[1000; 3], &[100, 2000]);
        p[0] = unready(p[0]);
        assert_eq!(cpu(3, &p, 50, d), (4, 200));
        // MissingMetricsUnreadyScaleDown
        let mut p = pods(&[1000; 4], &[100, 100, 100]);
        p[0] = unready(p[0]);
        assert_eq!(cpu(4, &p, 50, d), (3, 10));
        // MissingMetricsScaleDownTargetOver100
        let mut p = pods(&[1000, 1000, 2000, 2000], &[200, 100, 100]);
        p[0] = unready(p[0]);
        assert_eq!(cpu(4, &p, 300, d), (2, 6));
        // DuringRollingUpdateWithMaxSurge
        assert_eq!(cpu(2, &pods(&[1000; 3], &[100, 100]), 50, d), (2, 10));
    }

    #[test]
    fn errors() {
        let d = settings(0.1, 0.1);
        assert_eq!(
            replicas(1, Target::Utilization(100), true, &[], NOW, &d),
            Err(CalcError::NoPods)
        );
        // EmptyCPURequest
        let p = pods(&[0], &[200]);
        assert_eq!(
            replicas(1, Target::Utilization(100), true, &p, NOW, &d),
            Err(CalcError::MissingRequest)
        );
    }
}
