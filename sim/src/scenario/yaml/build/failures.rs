//! `failures:`: scripted node crashes, zone outages, spot reclaims and drains, random
//! failures of node sets, and the node lifecycle settings (grace period, default
//! toleration seconds, drain retry interval). Node names, zones and pools are checked
//! against the cluster the file defines.

use schedulers::NodeSpec;
use schedulers::yaml::Scalar;
use schedulers::yaml::kube::RawLabelSelector;
use schedulers::yaml::message::quoted;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Builder, Result};
use crate::controllers::failures::ZONE_LABEL;
use crate::scenario::{FailureSettings, Lifetime, NodeSet, RandomFailures, ScriptedFailure};
use crate::time::SimTime;

/// `failures:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawFailures {
    node_monitor_grace_period: Option<Spanned<Scalar>>,
    default_toleration_seconds: Option<Spanned<Scalar>>,
    drain_retry_interval: Option<Spanned<Scalar>>,
    events: Option<Vec<Spanned<RawFailureEvent>>>,
    random: Option<Vec<Spanned<RawRandomFailures>>>,
}

/// One item of `failures.events`: exactly one of the kind keys, with its time and the
/// keys of that kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFailureEvent {
    node_crash: Option<Spanned<String>>,
    zone_outage: Option<Spanned<String>>,
    spot_reclaim: Option<Spanned<RawNodeSet>>,
    drain: Option<Spanned<String>>,
    at: Option<Spanned<Scalar>>,
    recover_after: Option<Spanned<Scalar>>,
    duration: Option<Spanned<Scalar>>,
    fraction: Option<Spanned<Scalar>>,
    notice: Option<Spanned<Scalar>>,
}

/// `{pool: NAME}` or `{nodeSelector: {...}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawNodeSet {
    pool: Option<Spanned<String>>,
    node_selector: Option<Spanned<RawLabelSelector>>,
}

/// One item of `failures.random`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRandomFailures {
    nodes: Spanned<RawNodeSet>,
    time_to_failure: Spanned<RawLifetime>,
    time_to_repair: Spanned<RawLifetime>,
}

/// `{dist: exponential, mean: D}`, `{dist: weibull, shape: K, scale: D}` or
/// `{dist: constant, value: D}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawLifetime {
    dist: Spanned<String>,
    mean: Option<Spanned<Scalar>>,
    shape: Option<Spanned<Scalar>>,
    scale: Option<Spanned<Scalar>>,
    value: Option<Spanned<Scalar>>,
}

impl Builder<'_> {
    /// `failures:`, checked against the cluster's `nodes`.
    pub(super) fn failures(
        &self,
        raw: &Spanned<RawFailures>,
        nodes: &[NodeSpec],
    ) -> Result<FailureSettings> {
        let f = &raw.value;
        let mut out = FailureSettings::default();
        if let Some(v) = &f.node_monitor_grace_period {
            out.node_monitor_grace_period = self.duration(v, "failures.nodeMonitorGracePeriod")?;
        }
        if let Some(v) = &f.default_toleration_seconds {
            let n = self.kube.integer(
                v,
                "failures.defaultTolerationSeconds",
                0,
                u32::MAX.into(),
                "a non-negative number of seconds",
            )?;
            out.default_toleration_seconds = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(v) = &f.drain_retry_interval {
            out.drain_retry_interval = self.positive_duration(v, "failures.drainRetryInterval")?;
        }
        for (i, e) in f.events.iter().flatten().enumerate() {
            out.events
                .push(self.failure_event(e, &format!("failures.events[{i}]"), nodes)?);
        }
        for (i, r) in f.random.iter().flatten().enumerate() {
            let base = format!("failures.random[{i}]");
            out.random.push(RandomFailures {
                nodes: self.node_set(&r.value.nodes, &format!("{base}.nodes"), nodes)?,
                time_to_failure: self
                    .lifetime(&r.value.time_to_failure, &format!("{base}.timeToFailure"))?,
                time_to_repair: self
                    .lifetime(&r.value.time_to_repair, &format!("{base}.timeToRepair"))?,
            });
        }
        Ok(out)
    }

    fn failure_event(
        &self,
        item: &Spanned<RawFailureEvent>,
        base: &str,
        nodes: &[NodeSpec],
    ) -> Result<ScriptedFailure> {
        let e = &item.value;
        let kinds = [
            ("nodeCrash", e.node_crash.as_ref().map(|v| &v.referenced)),
            ("zoneOutage", e.zone_outage.as_ref().map(|v| &v.referenced)),
            (
                "spotReclaim",
                e.spot_reclaim.as_ref().map(|v| &v.referenced),
            ),
            ("drain", e.drain.as_ref().map(|v| &v.referenced)),
        ];
        let mut given = kinds.iter().filter_map(|(k, at)| at.map(|at| (*k, at)));
        let Some((kind, _)) = given.next() else {
            return Err(self.kube.err(
                &item.referenced,
                base,
                "expected one of nodeCrash, zoneOutage, spotReclaim or drain",
            ));
        };
        if let Some((other, at)) = given.next() {
            return Err(self.kube.err(
                at,
                &format!("{base}.{other}"),
                format!("{kind} and {other} cannot both be set: one event per item"),
            ));
        }
        // Keys that belong to other kinds.
        let extras = [
            ("recoverAfter", e.recover_after.as_ref(), "nodeCrash"),
            ("duration", e.duration.as_ref(), "zoneOutage"),
            ("fraction", e.fraction.as_ref(), "spotReclaim"),
            ("notice", e.notice.as_ref(), "spotReclaim"),
        ];
        for (key, v, owner) in extras {
            if let Some(v) = v
                && owner != kind
            {
                return Err(self.kube.err(
                    &v.referenced,
                    &format!("{base}.{key}"),
                    format!("{key} applies to {owner} events, not {kind}"),
                ));
            }
        }
        let at = match &e.at {
            Some(v) => self.duration(v, &format!("{base}.at"))?,
            None => {
                return Err(self.kube.err(
                    &item.referenced,
                    base,
                    format!("missing required field `at` (when the {kind} happens)"),
                ));
            }
        };
        let required = |v: Option<&Spanned<Scalar>>, key: &str, what: &str| match v {
            Some(v) => self.positive_duration(v, &format!("{base}.{key}")),
            None => Err(self.kube.err(
                &item.referenced,
                base,
                format!("missing required field `{key}` ({what})"),
            )),
        };
        Ok(match kind {
            "nodeCrash" | "drain" => {
                let v = e.node_crash.as_ref().or(e.drain.as_ref()).expect("given");
                let field = format!("{base}.{kind}");
                let node = self.kube.non_empty(v, &field, "a node name")?;
                if !nodes.iter().any(|n| n.name == node) {
                    return Err(self.kube.err(
                        &v.referenced,
                        &field,
                        format!("no node named {} in the cluster", quoted(&node)),
                    ));
                }
                if kind == "drain" {
                    ScriptedFailure::Drain { node, at }
                } else {
                    let recover_after = match &e.recover_after {
                        Some(v) => {
                            Some(self.positive_duration(v, &format!("{base}.recoverAfter"))?)
                        }
                        None => None,
                    };
                    ScriptedFailure::NodeCrash {
                        node,
                        at,
                        recover_after,
                    }
                }
            }
            "zoneOutage" => {
                let v = e.zone_outage.as_ref().expect("given");
                let field = format!("{base}.zoneOutage");
                let zone = self.kube.non_empty(v, &field, "a zone")?;
                if !nodes
                    .iter()
                    .any(|n| n.labels.get(ZONE_LABEL) == Some(zone.as_str()))
                {
                    return Err(self.kube.err(
                        &v.referenced,
                        &field,
                        format!("no node is labelled {ZONE_LABEL}: {}", quoted(&zone)),
                    ));
                }
                let duration =
                    required(e.duration.as_ref(), "duration", "how long the outage lasts")?;
                ScriptedFailure::ZoneOutage { zone, at, duration }
            }
            _ => {
                let v = e.spot_reclaim.as_ref().expect("given");
                let set = self.node_set(v, &format!("{base}.spotReclaim"), nodes)?;
                let fraction = match &e.fraction {
                    Some(v) => {
                        let field = format!("{base}.fraction");
                        let x = self.kube.number(v, &field, false)?;
                        if x > 1.0 {
                            return Err(self.kube.err(
                                &v.referenced,
                                &field,
                                format!(
                                    "expected a share of the nodes above 0 and at most 1, got {x}"
                                ),
                            ));
                        }
                        x
                    }
                    None => 1.0,
                };
                let notice = match &e.notice {
                    Some(v) => self.duration(v, &format!("{base}.notice"))?,
                    None => SimTime::ZERO,
                };
                ScriptedFailure::SpotReclaim {
                    nodes: set,
                    fraction,
                    at,
                    notice,
                }
            }
        })
    }

    fn node_set(&self, v: &Spanned<RawNodeSet>, base: &str, nodes: &[NodeSpec]) -> Result<NodeSet> {
        match (&v.value.pool, &v.value.node_selector) {
            (Some(pool), None) => {
                let field = format!("{base}.pool");
                let name = self.kube.non_empty(pool, &field, "a pool name")?;
                let set = NodeSet::Pool(name);
                if !nodes.iter().any(|n| set.contains(n)) {
                    let NodeSet::Pool(name) = set else {
                        unreachable!()
                    };
                    return Err(self.kube.err(
                        &pool.referenced,
                        &field,
                        format!("no node pool named {} in the cluster", quoted(&name)),
                    ));
                }
                Ok(set)
            }
            (None, Some(s)) => Ok(NodeSet::Selector(
                self.kube
                    .label_selector(&s.value, &format!("{base}.nodeSelector"))?,
            )),
            (Some(_), Some(s)) => Err(self.kube.err(
                &s.referenced,
                &format!("{base}.nodeSelector"),
                "pool and nodeSelector cannot both be set",
            )),
            (None, None) => {
                Err(self
                    .kube
                    .err(&v.referenced, base, "expected one of pool or nodeSelector"))
            }
        }
    }

    fn lifetime(&self, v: &Spanned<RawLifetime>, base: &str) -> Result<Lifetime> {
        let l = &v.value;
        let dist_field = format!("{base}.dist");
        let keys: [(&str, Option<&Spanned<Scalar>>); 4] = [
            ("mean", l.mean.as_ref()),
            ("shape", l.shape.as_ref()),
            ("scale", l.scale.as_ref()),
            ("value", l.value.as_ref()),
        ];
        let allowed: &[&str] = match l.dist.value.as_str() {
            "exponential" => &["mean"],
            "weibull" => &["shape", "scale"],
            "constant" => &["value"],
            other => {
                return Err(self.kube.err(
                    &l.dist.referenced,
                    &dist_field,
                    format!(
                        "unknown distribution {}: expected exponential, weibull or constant",
                        quoted(other)
                    ),
                ));
            }
        };
        for (key, given) in keys {
            if let Some(g) = given
                && !allowed.contains(&key)
            {
                return Err(self.kube.err(
                    &g.referenced,
                    &format!("{base}.{key}"),
                    format!("{key} does not apply to dist: {}", l.dist.value),
                ));
            }
            if given.is_none() && allowed.contains(&key) {
                return Err(self.kube.err(
                    &v.referenced,
                    base,
                    format!("missing required field `{key}` for dist: {}", l.dist.value),
                ));
            }
        }
        let duration = |s: Option<&Spanned<Scalar>>, key: &str| {
            self.positive_duration(s.expect("checked above"), &format!("{base}.{key}"))
        };
        Ok(match l.dist.value.as_str() {
            "exponential" => Lifetime::Exponential {
                mean: duration(l.mean.as_ref(), "mean")?,
            },
            "weibull" => Lifetime::Weibull {
                shape: self.kube.number(
                    l.shape.as_ref().expect("checked above"),
                    &format!("{base}.shape"),
                    false,
                )?,
                scale: duration(l.scale.as_ref(), "scale")?,
            },
            _ => Lifetime::Constant(duration(l.value.as_ref(), "value")?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, load};
    use super::*;

    const CLUSTER: &str = "cluster:\n  nodePools:\n  - {name: spot, count: 4, labels: {topology.kubernetes.io/zone: a}}\n  nodes:\n  - {name: n1, labels: {topology.kubernetes.io/zone: b}}\n";

    #[test]
    fn every_kind_loads_with_defaults() {
        let s = load(&format!(
            "{CLUSTER}failures:\n  events:\n  - {{nodeCrash: n1, at: 100s, recoverAfter: 10m}}\n  - {{zoneOutage: a, at: 1h, duration: 30m}}\n  - {{spotReclaim: {{pool: spot}}, fraction: 0.5, at: 2h, notice: 2m}}\n  - {{drain: spot-0, at: 3h}}\n  random:\n  - nodes: {{nodeSelector: {{matchLabels: {{topology.kubernetes.io/zone: b}}}}}}\n    timeToFailure: {{dist: weibull, shape: 1.5, scale: 720h}}\n    timeToRepair: {{dist: exponential, mean: 1h}}\n"
        ));
        let f = s.failures.expect("failures");
        assert_eq!(f.node_monitor_grace_period, SimTime::from_secs(50));
        assert_eq!(f.default_toleration_seconds, 300);
        assert_eq!(f.drain_retry_interval, SimTime::from_secs(5));
        assert_eq!(
            f.events[0],
            ScriptedFailure::NodeCrash {
                node: "n1".into(),
                at: SimTime::from_secs(100),
                recover_after: Some(SimTime::from_secs(600)),
            }
        );
        assert_eq!(
            f.events[2],
            ScriptedFailure::SpotReclaim {
                nodes: NodeSet::Pool("spot".into()),
                fraction: 0.5,
                at: SimTime::from_secs(7200),
                notice: SimTime::from_secs(120),
            }
        );
        assert_eq!(
            f.random[0].time_to_failure,
            Lifetime::Weibull {
                shape: 1.5,
                scale: SimTime::from_secs(720 * 3600)
            }
        );
        assert!(load(CLUSTER).failures.is_none());
    }

    #[test]
    fn settings_override_defaults() {
        let s = load(&format!(
            "{CLUSTER}failures: {{nodeMonitorGracePeriod: 40s, defaultTolerationSeconds: 60, drainRetryInterval: 1s}}\n"
        ));
        let f = s.failures.expect("failures");
        assert_eq!(f.node_monitor_grace_period, SimTime::from_secs(40));
        assert_eq!(f.default_toleration_seconds, 60);
        assert_eq!(f.drain_retry_interval, SimTime::from_secs(1));
    }

    #[test]
    fn bad_events_are_located() {
        let t = format!("{CLUSTER}failures:\n  events:\n  - {{nodeCrash: nope, at: 1s}}\n");
        check_at(
            &t,
            "nope",
            "failures.events[0].nodeCrash",
            "no node named \"nope\" in the cluster",
        );
        let t =
            format!("{CLUSTER}failures:\n  events:\n  - {{zoneOutage: z, at: 1s, duration: 1m}}\n");
        check_at(
            &t,
            "z, at",
            "failures.events[0].zoneOutage",
            "no node is labelled topology.kubernetes.io/zone: \"z\"",
        );
        let t =
            format!("{CLUSTER}failures:\n  events:\n  - {{nodeCrash: n1, at: 1s, duration: 1m}}\n");
        check_at(
            &t,
            "1m",
            "failures.events[0].duration",
            "duration applies to zoneOutage events, not nodeCrash",
        );
        let t =
            format!("{CLUSTER}failures:\n  events:\n  - {{nodeCrash: n1, drain: n1, at: 1s}}\n");
        check_at(
            &t,
            "n1, at",
            "failures.events[0].drain",
            "nodeCrash and drain cannot both be set: one event per item",
        );
        let t = format!(
            "{CLUSTER}failures:\n  events:\n  - {{spotReclaim: {{pool: spot}}, fraction: 2, at: 1s}}\n"
        );
        check_at(
            &t,
            "2, at",
            "failures.events[0].fraction",
            "expected a share of the nodes above 0 and at most 1, got 2",
        );
        let t = format!(
            "{CLUSTER}failures:\n  events:\n  - {{spotReclaim: {{pool: ondemand}}, at: 1s}}\n"
        );
        check_at(
            &t,
            "ondemand",
            "failures.events[0].spotReclaim.pool",
            "no node pool named \"ondemand\" in the cluster",
        );
        let t = format!("{CLUSTER}failures:\n  events:\n  - {{drain: n1}}\n");
        check_at(
            &t,
            "{drain",
            "failures.events[0]",
            "missing required field `at` (when the drain happens)",
        );
        let t = format!(
            "{CLUSTER}failures:\n  random:\n  - nodes: {{pool: spot}}\n    timeToFailure: {{dist: gamma, mean: 1h}}\n    timeToRepair: {{dist: exponential, mean: 1h}}\n"
        );
        check_at(
            &t,
            "gamma",
            "failures.random[0].timeToFailure.dist",
            "unknown distribution \"gamma\": expected exponential, weibull or constant",
        );
        let t = format!(
            "{CLUSTER}failures:\n  random:\n  - nodes: {{pool: spot}}\n    timeToFailure: {{dist: weibull, scale: 1h}}\n    timeToRepair: {{dist: exponential, mean: 1h}}\n"
        );
        check_at(
            &t,
            "{dist: weibull",
            "failures.random[0].timeToFailure",
            "missing required field `shape` for dist: weibull",
        );
    }
}
