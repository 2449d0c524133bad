//! `workloads:`: each one's kind (`pod`, `deployment`, `batch`, `statefulSet`,
//! `daemonSet`, `job` or `trace`), the keys that
//! belong to that kind, and a batch workload's `arrivals`. A trace workload is read in
//! `trace`.

use std::collections::HashMap;
use std::sync::Arc;

use schedulers::OwnerKind;
use schedulers::yaml::Scalar;
use schedulers::yaml::message::{at_line, did_you_mean, one_of};
use serde_saphyr::{Location, Spanned};

use super::super::raw::{RawArrivals, RawTraceWorkload, RawWorkload};
use super::dynamics::scale_basis;
use super::{Builder, Result};
use crate::scenario::{ArrivalProcess, Arrivals, Workload, WorkloadKind};
use crate::time::SimTime;

const PROCESSES: &[&str] = &["poisson", "fixed", "burst"];

/// The kinds of workload that have a name, each named by the key that introduces it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Pod,
    Deployment,
    Batch,
    StatefulSet,
    DaemonSet,
    Job,
}

impl Kind {
    /// The key that names a workload of this kind.
    fn key(self) -> &'static str {
        match self {
            Kind::Pod => "pod",
            Kind::Deployment => "deployment",
            Kind::Batch => "batch",
            Kind::StatefulSet => "statefulSet",
            Kind::DaemonSet => "daemonSet",
            Kind::Job => "job",
        }
    }
}

/// What introduces a workload: the name of one of the named kinds, or a trace (the fourth
/// kind, which has no name).
enum Head<'w> {
    Named(Kind, &'w Spanned<String>),
    Trace(&'w Spanned<RawTraceWorkload>),
}

impl Builder<'_> {
    /// `workloads:`.
    pub(super) fn workloads(&mut self, list: &[Spanned<RawWorkload>]) -> Result<Vec<Workload>> {
        let mut out = Vec::new();
        let mut seen: HashMap<String, String> = HashMap::new();
        for (i, w) in list.iter().enumerate() {
            let base = format!("workloads[{i}]");
            let (kind, name_value) = match self.workload_kind(w, &base)? {
                Head::Named(kind, name) => (kind, name),
                Head::Trace(t) => {
                    out.push(self.trace_workload(&w.value, t, &base)?);
                    continue;
                }
            };
            let name_field = format!("{base}.{}", kind.key());
            let name = self
                .kube
                .non_empty(name_value, &name_field, "a workload name")?;
            if let Some(first) = seen.get(&name) {
                return Err(self.kube.err(
                    &name_value.referenced,
                    &name_field,
                    format!("duplicate workload name {name:?}: {first} already uses it"),
                ));
            }
            seen.insert(
                name.clone(),
                format!("{base}{}", at_line(&name_value.referenced)),
            );
            out.push(self.workload(w, kind, name, &base)?);
        }
        Ok(out)
    }

    /// Which of `pod`, `deployment`, `batch` and `trace` the workload is: exactly one
    /// must be given.
    fn workload_kind<'w>(&self, w: &'w Spanned<RawWorkload>, base: &str) -> Result<Head<'w>> {
        let raw = &w.value;
        let named = [
            (Kind::Pod, &raw.pod),
            (Kind::Deployment, &raw.deployment),
            (Kind::Batch, &raw.batch),
            (Kind::StatefulSet, &raw.stateful_set),
            (Kind::DaemonSet, &raw.daemon_set),
            (Kind::Job, &raw.job),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| Head::Named(k, v)));
        let given: Vec<Head<'w>> = named.chain(raw.trace.as_ref().map(Head::Trace)).collect();
        let key_at = |h: &Head<'w>| match h {
            Head::Named(kind, v) => (kind.key(), v.referenced),
            Head::Trace(t) => ("trace", t.referenced),
        };
        let mut given = given.into_iter();
        match (given.next(), given.next()) {
            (Some(one), None) => Ok(one),
            (None, _) => Err(self.kube.err(
                &w.referenced,
                base,
                "a workload needs exactly one of `pod`, `deployment`, `batch`, `statefulSet`, \
                 `daemonSet` or `job` (naming it), or `trace`; found none",
            )),
            (Some(first), Some(second)) => {
                let ((first, _), (second, at)) = (key_at(&first), key_at(&second));
                Err(self.kube.err(
                    &at,
                    &format!("{base}.{second}"),
                    format!("a workload has exactly one kind, but this one has both `{first}` and `{second}`"),
                ))
            }
        }
    }

    /// Rejects keys that belong to another kind of workload, saying where they belong.
    fn kind_specific_keys(&self, w: &RawWorkload, kind: Kind, base: &str) -> Result<()> {
        let checks: [(&str, Option<&Location>, &[Kind], &str); 7] = [
            (
                "count",
                w.count.as_ref().map(|v| &v.referenced),
                &[Kind::Pod],
                " (for a batch workload, put it under `arrivals`)",
            ),
            (
                "replicas",
                w.replicas.as_ref().map(|v| &v.referenced),
                &[Kind::Deployment, Kind::StatefulSet],
                "",
            ),
            (
                "at",
                w.at.as_ref().map(|v| &v.referenced),
                &[
                    Kind::Pod,
                    Kind::Deployment,
                    Kind::StatefulSet,
                    Kind::DaemonSet,
                    Kind::Job,
                ],
                " (a batch workload starts at `arrivals.start`)",
            ),
            (
                "arrivals",
                w.arrivals.as_ref().map(|v| &v.referenced),
                &[Kind::Batch],
                "",
            ),
            (
                "podManagementPolicy",
                w.pod_management_policy.as_ref().map(|v| &v.referenced),
                &[Kind::StatefulSet],
                "",
            ),
            (
                "volumeClaimTemplates",
                w.volume_claim_templates.as_ref().map(|v| &v.referenced),
                &[Kind::StatefulSet],
                "",
            ),
            (
                "persistentVolumeClaimRetentionPolicy",
                w.persistent_volume_claim_retention_policy
                    .as_ref()
                    .map(|v| &v.referenced),
                &[Kind::StatefulSet],
                "",
            ),
        ];
        for (key, at, kinds, hint) in checks {
            if let Some(at) = at
                && !kinds.contains(&kind)
            {
                return Err(self.kube.err(
                    at,
                    &format!("{base}.{key}"),
                    format!(
                        "`{key}` applies to {} workloads only, not to a {}{hint}",
                        one_of(&kinds.iter().map(|k| k.key()).collect::<Vec<_>>()),
                        kind.key()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// One workload.
    pub(super) fn workload(
        &mut self,
        w: &Spanned<RawWorkload>,
        kind: Kind,
        name: String,
        base: &str,
    ) -> Result<Workload> {
        let raw = &w.value;
        self.kind_specific_keys(raw, kind, base)?;
        if kind != Kind::Job {
            self.job_keys_only_on_jobs(raw, kind.key(), base)?;
        }
        let at = |b: &Self| match &raw.at {
            Some(v) => b.duration(v, &format!("{base}.at")),
            None => Ok(SimTime::ZERO),
        };
        let (workload_kind, owner, singleton) = match kind {
            Kind::Pod => {
                let count = match &raw.count {
                    Some(v) => self.kube.count_u32(v, &format!("{base}.count"))?,
                    None => 1,
                };
                (
                    WorkloadKind::Pods {
                        at: at(self)?,
                        count,
                    },
                    OwnerKind::None,
                    count == 1,
                )
            }
            Kind::Deployment | Kind::StatefulSet => {
                let replicas = match &raw.replicas {
                    Some(v) => self.kube.count_u32(v, &format!("{base}.replicas"))?,
                    None => {
                        return Err(self.kube.err(
                            &w.referenced,
                            &format!("{base}.replicas"),
                            format!(
                                "missing required field `replicas` (how many pods the {} keeps running)",
                                kind.key()
                            ),
                        ));
                    }
                };
                if kind == Kind::StatefulSet {
                    // Its policy and claims are read once the template (its namespace) is.
                    (
                        WorkloadKind::StatefulSet {
                            at: at(self)?,
                            replicas,
                            pod_management: Default::default(),
                            claim_templates: Vec::new(),
                            when_scaled: Default::default(),
                        },
                        OwnerKind::StatefulSet,
                        false,
                    )
                } else {
                    (
                        WorkloadKind::Deployment {
                            at: at(self)?,
                            replicas,
                        },
                        OwnerKind::ReplicaSet,
                        false,
                    )
                }
            }
            Kind::Batch => {
                let arrivals = match &raw.arrivals {
                    Some(a) => self.arrivals(a, &format!("{base}.arrivals"))?,
                    None => {
                        return Err(self.kube.err(
                            &w.referenced,
                            &format!("{base}.arrivals"),
                            "missing required field `arrivals` (when the batch pods arrive, e.g. {process: poisson, ratePerMinute: 4})",
                        ));
                    }
                };
                (WorkloadKind::Batch { arrivals }, OwnerKind::Job, false)
            }
            Kind::Job => (self.job(raw, at(self)?, base)?, OwnerKind::Job, false),
            Kind::DaemonSet => (
                WorkloadKind::DaemonSet { at: at(self)? },
                OwnerKind::DaemonSet,
                false,
            ),
        };
        let (template, sized, forbidden) = self.template(
            raw,
            name,
            owner,
            singleton,
            matches!(kind, Kind::Batch | Kind::Job),
            base,
        )?;
        let mut workload_kind = workload_kind;
        let duration = match &raw.duration {
            None => None,
            Some(d) => Some(self.scalar_or_dist(
                d,
                &format!("{base}.duration"),
                &|b, v, f| b.duration(v, f),
                SimTime::ZERO,
            )?),
        };
        // Checked once every value of the workload is known to be good: this rule spans
        // fields, so a plain mistake in one of them is the better message.
        if let (WorkloadKind::Batch { arrivals }, Some(a), None) =
            (&workload_kind, &raw.arrivals, self.horizon)
        {
            let endless = !matches!(arrivals.process, ArrivalProcess::Burst)
                && arrivals.stop.is_none()
                && arrivals.count.is_none();
            if endless {
                return Err(self.kube.err(
                    &a.referenced,
                    &format!("{base}.arrivals"),
                    format!(
                        "arrivals never stop: process: {} with neither `count` nor `stop` \
                         creates pods for ever, so the run would never end; give the scenario a \
                         horizon with a top-level `duration:` (e.g. `duration: 1h`), or add \
                         `count:` or `stop:` here",
                        a.value.process.value
                    ),
                ));
            }
        }
        // A ReplicaSet (or a StatefulSet, a DaemonSet) replaces every pod that finishes,
        // so finite pods churn for ever.
        if let (Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet, Some(d), None) =
            (kind, &raw.duration, self.horizon)
        {
            return Err(self.kube.err(
                &d.referenced,
                &format!("{base}.duration"),
                format!(
                    "a {} replaces each pod that finishes, so pods with a `duration` are \
                     created for ever and the run would never end; give the scenario a horizon \
                     with a top-level `duration:` (e.g. `duration: 1h`), or remove this \
                     `duration` so that the pods run until the end",
                    kind.key()
                ),
            ));
        }
        let (replicas, cpu_request) = scale_basis(&workload_kind, &template);
        let mut dynamics = self.dynamics(raw, kind, replicas, cpu_request, &template.name, base)?;
        if let WorkloadKind::StatefulSet {
            replicas,
            pod_management,
            claim_templates,
            when_scaled,
            ..
        } = &mut workload_kind
        {
            // The claims of ordinals an autoscaler adds are made with their pods.
            (*pod_management, *claim_templates, *when_scaled) =
                self.stateful_set(raw, &template, *replicas, base)?;
        }
        let template = Arc::new(template);
        if kind != Kind::Deployment {
            let given = [("rollouts", raw.rollouts.as_ref().map(|v| &v.referenced))]
                .into_iter()
                .chain([("rollout", raw.rollout.as_ref().map(|v| &v.referenced))]);
            for (key, at) in given {
                if let Some(at) = at {
                    return Err(self.kube.err(
                        at,
                        &format!("{base}.{key}"),
                        format!("`{key}` applies to deployment workloads only"),
                    ));
                }
            }
        } else {
            let created = match &workload_kind {
                WorkloadKind::Deployment { at, .. } => *at,
                _ => SimTime::ZERO,
            };
            let delay = dynamics
                .as_ref()
                .map_or(SimTime::ZERO, |d| d.readiness_delay);
            let rollouts = self.rollouts(raw, &template, created, delay, base)?;
            if !rollouts.is_empty() {
                // A rollout is gated by readiness, which the Services controller plays
                // for Deployments with dynamics.
                dynamics.get_or_insert_default().rollouts = rollouts;
            }
        }
        let dynamics = dynamics.map(Arc::new);
        Ok(Workload {
            kind: workload_kind,
            template,
            sized,
            duration,
            dynamics,
            adopted: Vec::new(),
            adopted_ordinals: Vec::new(),
            adopted_ran: Vec::new(),
            forbidden: forbidden.map(Arc::from),
        })
    }

    /// `arrivals:` of a batch workload.
    fn arrivals(&self, a: &Spanned<RawArrivals>, base: &str) -> Result<Arrivals> {
        let raw = &a.value;
        let process_field = format!("{base}.process");
        let process_name = raw.process.value.as_str();
        if !PROCESSES.contains(&process_name) {
            return Err(self.kube.err(
                &raw.process.referenced,
                &process_field,
                format!(
                    "unknown arrival process {process_name:?}{}; expected {}",
                    did_you_mean(process_name, PROCESSES),
                    one_of(PROCESSES)
                ),
            ));
        }
        let rates = [
            ("ratePerSecond", &raw.rate_per_second, 1.0),
            ("ratePerMinute", &raw.rate_per_minute, 60.0),
            ("ratePerHour", &raw.rate_per_hour, 3600.0),
        ];
        let given: Vec<(&str, &Spanned<Scalar>, f64)> = rates
            .iter()
            .filter_map(|(k, v, per)| v.as_ref().map(|v| (*k, v, *per)))
            .collect();
        // Parameters of the other processes are mistakes, not silently ignored settings.
        let misplaced = |key: &str, at: &Location| {
            self.kube.err(
                at,
                &format!("{base}.{key}"),
                format!("`{key}` does not apply to process: {process_name}"),
            )
        };
        if process_name != "poisson"
            && let Some((key, v, _)) = given.first()
        {
            return Err(misplaced(key, &v.referenced));
        }
        if process_name != "fixed"
            && let Some(v) = &raw.interval
        {
            return Err(misplaced("interval", &v.referenced));
        }
        let process = match process_name {
            "poisson" => match given.as_slice() {
                [(key, v, per)] => {
                    let rate = self.kube.number(v, &format!("{base}.{key}"), false)?;
                    ArrivalProcess::Poisson {
                        rate_per_second: rate / per,
                    }
                }
                [] => {
                    return Err(self.kube.err(
                        &a.referenced,
                        base,
                        "process: poisson needs one of ratePerSecond, ratePerMinute or ratePerHour",
                    ));
                }
                [(first, _, _), (second, v, _), ..] => {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.{second}"),
                        format!("give only one rate; `{first}` is already set"),
                    ));
                }
            },
            "fixed" => match &raw.interval {
                Some(v) => ArrivalProcess::Fixed {
                    interval: self.positive_duration(v, &format!("{base}.interval"))?,
                },
                None => {
                    return Err(self.kube.err(
                        &a.referenced,
                        &format!("{base}.interval"),
                        "process: fixed needs `interval` (time between arrivals)",
                    ));
                }
            },
            // "burst", the one name left after the check above.
            _ => {
                if raw.count.is_none() {
                    return Err(self.kube.err(
                        &a.referenced,
                        &format!("{base}.count"),
                        "process: burst needs `count` (how many pods arrive at once)",
                    ));
                }
                ArrivalProcess::Burst
            }
        };
        let start = match &raw.start {
            Some(v) => self.duration(v, &format!("{base}.start"))?,
            None => SimTime::ZERO,
        };
        let stop = match &raw.stop {
            None => None,
            Some(v) => {
                let stop = self.duration(v, &format!("{base}.stop"))?;
                if stop <= start {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.stop"),
                        format!("stop must be later than start ({start}), got {stop}"),
                    ));
                }
                Some(stop)
            }
        };
        let count = match &raw.count {
            None => None,
            Some(v) => {
                let n = self.kube.integer(
                    v,
                    &format!("{base}.count"),
                    0,
                    u64::MAX.into(),
                    "a non-negative integer",
                )?;
                Some(u64::try_from(n).unwrap_or(u64::MAX))
            }
        };
        Ok(Arrivals {
            process,
            start,
            stop,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, load};
    use super::*;
    use crate::scenario::Dist;

    #[test]
    fn each_kind_is_read_with_its_defaults() {
        let s = load(
            "duration: 2h
workloads:
  - pod: single
  - pod: many
    count: 3
    at: 5m
  - deployment: web
    replicas: 4
    duration: 10m
  - batch: jobs
    arrivals: {process: poisson, ratePerMinute: 6, start: 1m, stop: 1h, count: 100}
",
        );
        let kinds: Vec<&WorkloadKind> = s.workloads.iter().map(|w| &w.kind).collect();
        assert_eq!(
            kinds,
            [
                &WorkloadKind::Pods {
                    at: SimTime::ZERO,
                    count: 1
                },
                &WorkloadKind::Pods {
                    at: SimTime::from_secs(300),
                    count: 3
                },
                &WorkloadKind::Deployment {
                    at: SimTime::ZERO,
                    replicas: 4
                },
                &WorkloadKind::Batch {
                    arrivals: Arrivals {
                        process: ArrivalProcess::Poisson {
                            rate_per_second: 0.1
                        },
                        start: SimTime::from_secs(60),
                        stop: Some(SimTime::from_secs(3600)),
                        count: Some(100),
                    }
                },
            ]
        );
        let owners: Vec<(OwnerKind, bool)> = s
            .workloads
            .iter()
            .map(|w| (w.template.owner, w.template.singleton))
            .collect();
        assert_eq!(
            owners,
            [
                (OwnerKind::None, true),
                (OwnerKind::None, false),
                (OwnerKind::ReplicaSet, false),
                (OwnerKind::Job, false),
            ]
        );
        assert_eq!(s.workloads[0].duration, None, "runs until the end");
        assert_eq!(
            s.workloads[2].duration,
            Some(Dist::Constant(SimTime::from_secs(600)))
        );
    }

    #[test]
    fn endless_workloads_need_a_horizon() {
        check_at(
            "workloads:\n  - batch: j\n    arrivals: {process: poisson, ratePerMinute: 2}\n",
            "{process",
            "workloads[0].arrivals",
            "arrivals never stop: process: poisson with neither `count` nor `stop` creates pods \
             for ever, so the run would never end; give the scenario a horizon with a top-level \
             `duration:` (e.g. `duration: 1h`), or add `count:` or `stop:` here",
        );
        check_at(
            "workloads:\n  - deployment: d\n    replicas: 2\n    duration: 5m\n",
            "5m",
            "workloads[0].duration",
            "a deployment replaces each pod that finishes, so pods with a `duration` are \
             created for ever and the run would never end; give the scenario a horizon with a \
             top-level `duration:` (e.g. `duration: 1h`), or remove this `duration` so that \
             the pods run until the end",
        );
        // A count, a stop or a horizon each end them; a burst always ends.
        for ok in [
            "workloads: [{batch: j, arrivals: {process: poisson, ratePerMinute: 2, count: 9}}]",
            "workloads: [{batch: j, arrivals: {process: fixed, interval: 1s, stop: 1h}}]",
            "duration: 1h\nworkloads: [{batch: j, arrivals: {process: poisson, ratePerHour: 2}}]",
            "duration: 1h\nworkloads: [{deployment: d, replicas: 2, duration: 5m}]",
            "workloads: [{deployment: d, replicas: 2}]",
        ] {
            load(ok);
        }
    }

    #[test]
    fn fixed_and_burst_arrivals() {
        let s = load(
            "duration: 2h
workloads:
  - {batch: a, arrivals: {process: fixed, interval: 30s}}
  - {batch: b, arrivals: {process: burst, count: 5, start: 10m}}
",
        );
        let arrivals = |i: usize| match &s.workloads[i].kind {
            WorkloadKind::Batch { arrivals } => arrivals.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            arrivals(0).process,
            ArrivalProcess::Fixed {
                interval: SimTime::from_secs(30)
            }
        );
        assert_eq!(
            arrivals(1),
            Arrivals {
                process: ArrivalProcess::Burst,
                start: SimTime::from_secs(600),
                stop: None,
                count: Some(5),
            }
        );
    }

    #[test]
    fn kind_errors_are_located() {
        check_at(
            "workloads: [{count: 2}]\n",
            "{count",
            "workloads[0]",
            "a workload needs exactly one of `pod`, `deployment`, `batch`, `statefulSet`, `daemonSet` or `job` (naming it), or `trace`; found none",
        );
        check_at(
            "workloads: [{pod: a, batch: b}]\n",
            "b}",
            "workloads[0].batch",
            "a workload has exactly one kind, but this one has both `pod` and `batch`",
        );
        check_at(
            "workloads: [{pod: a}, {deployment: a, replicas: 1}]\n",
            "a, replicas",
            "workloads[1].deployment",
            "duplicate workload name \"a\": workloads[0] (line 1) already uses it",
        );
        check_at(
            "workloads: [{batch: b, count: 2, arrivals: {process: burst, count: 2}}]\n",
            "2, arrivals",
            "workloads[0].count",
            "`count` applies to pod workloads only, not to a batch (for a batch workload, put it under `arrivals`)",
        );
        check_at(
            "workloads: [{deployment: d}]\n",
            "{deployment",
            "workloads[0].replicas",
            "missing required field `replicas` (how many pods the deployment keeps running)",
        );
    }

    #[test]
    fn arrival_errors_are_located() {
        check_at(
            "workloads: [{batch: b, arrivals: {process: poison}}]\n",
            "poison",
            "workloads[0].arrivals.process",
            "unknown arrival process \"poison\" (did you mean poisson?); expected poisson, fixed or burst",
        );
        check_at(
            "workloads: [{batch: b, arrivals: {process: poisson, ratePerSecond: 1, ratePerHour: 2}}]\n",
            "2}",
            "workloads[0].arrivals.ratePerHour",
            "give only one rate; `ratePerSecond` is already set",
        );
        check_at(
            "workloads: [{batch: b, arrivals: {process: fixed, interval: 1s, ratePerMinute: 1}}]\n",
            "1}",
            "workloads[0].arrivals.ratePerMinute",
            "`ratePerMinute` does not apply to process: fixed",
        );
        check_at(
            "workloads: [{batch: b, arrivals: {process: burst}}]\n",
            "{process",
            "workloads[0].arrivals.count",
            "process: burst needs `count` (how many pods arrive at once)",
        );
        check_at(
            "workloads: [{batch: b, arrivals: {process: poisson, ratePerSecond: 1, start: 1h, stop: 1h}}]\n",
            "1h}",
            "workloads[0].arrivals.stop",
            "stop must be later than start (1h), got 1h",
        );
    }
}
