//! A Deployment's `rollouts:` (or `rollout:`): template changes at given times and the
//! strategy that applies them, with upstream's defaults (RollingUpdate, 25% surge, 25%
//! unavailable) and its validation wording (`ValidateRollingUpdateDeployment`).

use std::sync::Arc;

use schedulers::pdb::IntOrPercent;
use schedulers::yaml::Scalar;
use schedulers::yaml::message::{did_you_mean, one_of};
use schedulers::yaml::{Entries, QuantityMap};
use schedulers::{ContainerResources, PodTemplate};
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::super::raw::RawWorkload;
use super::{Builder, Result};
use crate::scenario::rollout::{Rollout, Strategy};
use crate::time::SimTime;

/// The strategy types a Deployment accepts.
const STRATEGIES: &[&str] = &["RollingUpdate", "Recreate"];

/// One rollout entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawRollout {
    at: Spanned<Scalar>,
    requests: Option<Spanned<Entries<Spanned<String>, Spanned<Scalar>>>>,
    limits: Option<Spanned<QuantityMap>>,
    image: Option<Spanned<String>>,
    readiness_delay: Option<Spanned<Scalar>>,
    strategy: Option<Spanned<RawStrategySpec>>,
    min_ready_seconds: Option<Spanned<Scalar>>,
}

/// `spec.strategy`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawStrategySpec {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    rolling_update: Option<Spanned<RawRollingUpdate>>,
}

/// `spec.strategy.rollingUpdate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawRollingUpdate {
    max_surge: Option<Spanned<Scalar>>,
    max_unavailable: Option<Spanned<Scalar>>,
}

impl Builder<'_> {
    /// The rollouts of a Deployment whose pods use `template`, created at `created`, with
    /// the readiness delay `readiness_delay`; empty when it has none.
    pub(super) fn rollouts(
        &mut self,
        raw: &RawWorkload,
        template: &Arc<PodTemplate>,
        created: SimTime,
        readiness_delay: SimTime,
        base: &str,
    ) -> Result<Vec<Rollout>> {
        let (list, key): (Vec<&Spanned<RawRollout>>, &str) = match (&raw.rollouts, &raw.rollout) {
            (Some(_), Some(one)) => {
                return Err(self.kube.err(
                    &one.referenced,
                    &format!("{base}.rollout"),
                    "give either `rollout` or `rollouts`, not both",
                ));
            }
            (Some(list), None) => (list.value.iter().collect(), "rollouts"),
            (None, Some(one)) => (vec![one], "rollout"),
            (None, None) => return Ok(Vec::new()),
        };
        let mut out: Vec<Rollout> = Vec::with_capacity(list.len());
        let mut previous = template.clone();
        for (i, r) in list.into_iter().enumerate() {
            let f = if key == "rollout" {
                format!("{base}.rollout")
            } else {
                format!("{base}.rollouts[{i}]")
            };
            let v = &r.value;
            let at = self.duration(&v.at, &format!("{f}.at"))?;
            let earliest = out.last().map_or(created, |p| p.at);
            if at < earliest || (!out.is_empty() && at == earliest) {
                let what = if out.is_empty() {
                    format!("the deployment's creation (`at: {created}`)")
                } else {
                    format!("the previous rollout's ({earliest})")
                };
                return Err(self.kube.err(
                    &v.at.referenced,
                    &format!("{f}.at"),
                    format!("a rollout must come after {what}; list rollouts in time order"),
                ));
            }
            let mut t: PodTemplate = (*previous).clone();
            if v.requests.is_some() || v.limits.is_some() {
                if t.containers.len() != 1 {
                    let at = v
                        .requests
                        .as_ref()
                        .map(|x| &x.referenced)
                        .or(v.limits.as_ref().map(|x| &x.referenced))
                        .unwrap_or(&r.referenced);
                    return Err(self.kube.err(
                        at,
                        &f,
                        "a rollout's `requests`/`limits` apply to a workload with a single container",
                    ));
                }
                let old = &t.containers[0];
                let mut c = ContainerResources {
                    name: old.name.clone(),
                    host_ports: old.host_ports.clone(),
                    ..Default::default()
                };
                // A list given replaces the old one; one not given is kept.
                if v.requests.is_none() {
                    c.requests = old.requests;
                    c.requests_set = old.requests_set;
                }
                if v.limits.is_none() {
                    c.limits = old.limits;
                    c.limits_set = old.limits_set;
                }
                self.kube.container_resources(
                    &mut self.names,
                    &mut c,
                    v.requests.as_ref().map(|x| &x.value),
                    v.limits.as_ref().map(|x| &x.value),
                    &f,
                    |s, _| Ok(s.clone()),
                )?;
                t.containers[0] = c;
            }
            let image = match &v.image {
                Some(s) => Some(self.kube.non_empty(s, &format!("{f}.image"), "an image")?),
                None => None,
            };
            let delay = match &v.readiness_delay {
                Some(d) => self.duration(d, &format!("{f}.readinessDelay"))?,
                None => out.last().map_or(readiness_delay, |p| p.readiness_delay),
            };
            let strategy = match &v.strategy {
                Some(s) => self.strategy(s, &format!("{f}.strategy"))?,
                None => Strategy::DEFAULT,
            };
            let min_ready = match &v.min_ready_seconds {
                Some(s) => SimTime::from_secs(u64::from(
                    self.kube.count_u32(s, &format!("{f}.minReadySeconds"))?,
                )),
                None => SimTime::ZERO,
            };
            let template = Arc::new(t);
            previous = Arc::clone(&template);
            out.push(Rollout {
                at,
                template,
                readiness_delay: delay,
                image,
                strategy,
                min_ready,
            });
        }
        Ok(out)
    }

    /// `spec.strategy`: its `type` (default RollingUpdate) and `rollingUpdate`.
    fn strategy(&self, s: &Spanned<RawStrategySpec>, f: &str) -> Result<Strategy> {
        let spec = &s.value;
        let rolling = spec.rolling_update.as_ref();
        let (kind, at) = match &spec.kind {
            Some(k) => (k.value.as_str(), &k.referenced),
            None => ("RollingUpdate", &s.referenced),
        };
        let type_field = format!("{f}.type");
        match kind {
            "Recreate" => {
                if let Some(r) = rolling {
                    // Upstream's wording for a rollingUpdate beside type Recreate.
                    return Err(self.kube.err(
                        &r.referenced,
                        &format!("{f}.rollingUpdate"),
                        "may not be specified when strategy `type` is 'Recreate'",
                    ));
                }
                Ok(Strategy::Recreate)
            }
            "RollingUpdate" => {
                let Some(r) = rolling else {
                    return Ok(Strategy::DEFAULT);
                };
                let base = format!("{f}.rollingUpdate");
                let value = |v: &Option<Spanned<Scalar>>, key: &str| -> Result<IntOrPercent> {
                    match v {
                        Some(v) => self.kube.int_or_percent(v, &format!("{base}.{key}")),
                        None => Ok(IntOrPercent::Percent(25)),
                    }
                };
                let max_surge = value(&r.value.max_surge, "maxSurge")?;
                let max_unavailable = value(&r.value.max_unavailable, "maxUnavailable")?;
                let zero =
                    |v: IntOrPercent| matches!(v, IntOrPercent::Int(0) | IntOrPercent::Percent(0));
                if zero(max_surge) && zero(max_unavailable) {
                    let at = r
                        .value
                        .max_unavailable
                        .as_ref()
                        .map_or(&r.referenced, |v| &v.referenced);
                    return Err(self.kube.err(
                        at,
                        &format!("{base}.maxUnavailable"),
                        "may not be 0 when `maxSurge` is 0",
                    ));
                }
                Ok(Strategy::RollingUpdate {
                    max_surge,
                    max_unavailable,
                })
            }
            other => Err(self.kube.err(
                at,
                &type_field,
                format!(
                    "unknown strategy type {other:?}{}; expected {}",
                    did_you_mean(other, STRATEGIES),
                    one_of(STRATEGIES)
                ),
            )),
        }
    }
}
