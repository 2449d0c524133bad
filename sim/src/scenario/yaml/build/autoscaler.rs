//! `clusterAutoscaler:` (cluster-autoscaler's flags) and `cluster.nodePools[i].autoscaling`
//! (the pools it manages, read as the cluster section reaches them).

use schedulers::NodeSpec;
use serde_saphyr::Spanned;

use super::super::raw::{RawClusterAutoscaler, RawPoolAutoscaling};
use super::{Builder, Result};
use crate::scenario::autoscaler::DEFAULT_PROVISIONING_DELAY;
use crate::scenario::{AutoscalerSettings, ClusterAutoscaler, Expander, NodeGroup};

impl Builder<'_> {
    /// `cluster.nodePools[i].autoscaling` of the pool `name` with `count` nodes at start.
    pub(super) fn node_group(
        &mut self,
        name: &str,
        template: &NodeSpec,
        count: u32,
        a: &Spanned<RawPoolAutoscaling>,
        pool: &str,
    ) -> Result<()> {
        let base = format!("{pool}.autoscaling");
        let raw = &a.value;
        let min = match &raw.min {
            Some(v) => self.kube.count_u32(v, &format!("{base}.min"))?,
            None => 0,
        };
        let max = match &raw.max {
            Some(v) => self.kube.count_u32(v, &format!("{base}.max"))?,
            None => {
                return Err(self.kube.err(
                    &a.referenced,
                    &format!("{base}.max"),
                    "missing required field `max` (the most nodes the autoscaler may give the pool)",
                ));
            }
        };
        if let Some(v) = &raw.max
            && max < min
        {
            return Err(self.kube.err(
                &v.referenced,
                &format!("{base}.max"),
                format!("max ({max}) is below min ({min})"),
            ));
        }
        if count < min || count > max {
            return Err(self.kube.err(
                &a.referenced,
                &format!("{pool}.count"),
                format!(
                    "the pool starts with {count} node(s), outside its autoscaling range {min}..={max}"
                ),
            ));
        }
        let price_per_hour = match &raw.price_per_hour {
            Some(v) => self.kube.number(v, &format!("{base}.pricePerHour"), true)?,
            None => 0.0,
        };
        let provisioning_delay = match &raw.provisioning_delay {
            Some(v) => self.duration(v, &format!("{base}.provisioningDelay"))?,
            None => DEFAULT_PROVISIONING_DELAY,
        };
        self.node_groups.push(NodeGroup {
            name: name.to_owned(),
            template: template.clone(),
            min,
            max,
            initial: count,
            price_per_hour,
            provisioning_delay,
        });
        Ok(())
    }

    /// The cluster autoscaler, once the cluster is read: none without autoscaled pools,
    /// and `clusterAutoscaler:` without one is an error (there would be nothing to scale).
    pub(super) fn cluster_autoscaler(
        &mut self,
        raw: Option<&Spanned<RawClusterAutoscaler>>,
    ) -> Result<Option<ClusterAutoscaler>> {
        let settings = match raw {
            Some(r) => self.autoscaler_settings(r)?,
            None => AutoscalerSettings::default(),
        };
        if self.node_groups.is_empty() {
            return match raw {
                Some(r) => Err(self.kube.err(
                    &r.referenced,
                    "clusterAutoscaler",
                    "no node pool has `autoscaling: {min, max}`: the cluster autoscaler would have no node group to scale",
                )),
                None => Ok(None),
            };
        }
        Ok(Some(ClusterAutoscaler {
            settings,
            groups: std::mem::take(&mut self.node_groups),
        }))
    }

    fn autoscaler_settings(&self, r: &Spanned<RawClusterAutoscaler>) -> Result<AutoscalerSettings> {
        let raw = &r.value;
        let mut s = AutoscalerSettings::default();
        let base = "clusterAutoscaler";
        if let Some(v) = &raw.scan_interval {
            s.scan_interval = self.positive_duration(v, &format!("{base}.scanInterval"))?;
        }
        if let Some(v) = &raw.scale_down_enabled {
            s.scale_down_enabled = v.value;
        }
        if let Some(v) = &raw.scale_down_unneeded_time {
            s.scale_down_unneeded_time =
                self.duration(v, &format!("{base}.scaleDownUnneededTime"))?;
        }
        if let Some(v) = &raw.scale_down_delay_after_add {
            s.scale_down_delay_after_add =
                self.duration(v, &format!("{base}.scaleDownDelayAfterAdd"))?;
        }
        if let Some(v) = &raw.scale_down_utilization_threshold {
            let field = format!("{base}.scaleDownUtilizationThreshold");
            let x = self.kube.number(v, &field, true)?;
            if x > 1.0 {
                return Err(self.kube.err(
                    &v.referenced,
                    &field,
                    format!("expected a fraction from 0 to 1, got {}", v.value.0),
                ));
            }
            s.scale_down_utilization_permille = (x * 1000.0).round() as u32;
        }
        if let Some(v) = &raw.max_node_provision_time {
            s.max_node_provision_time =
                self.positive_duration(v, &format!("{base}.maxNodeProvisionTime"))?;
        }
        if let Some(v) = &raw.max_empty_bulk_delete {
            let field = format!("{base}.maxEmptyBulkDelete");
            s.max_empty_bulk_delete =
                self.kube
                    .integer(v, &field, 1, u32::MAX.into(), "a positive integer")?
                    as u32;
        }
        if let Some(v) = &raw.expander {
            s.expander = match v.value.as_str() {
                "least-waste" => Expander::LeastWaste,
                "price" => Expander::Price,
                "most-pods" => Expander::MostPods,
                "random" => Expander::Random,
                other => {
                    return Err(self.kube.err(
                        &v.referenced,
                        &format!("{base}.expander"),
                        format!(
                            "unknown expander {other:?}; expected least-waste, price, most-pods or random"
                        ),
                    ));
                }
            };
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_error, load};
    use super::*;
    use crate::time::SimTime;

    #[test]
    fn an_autoscaled_pool_is_a_node_group_with_upstream_defaults() {
        let s = load(
            "cluster:
  nodePools:
    - name: fixed
      count: 1
    - name: burst
      count: 2
      allocatable: {cpu: \"4\", memory: 8Gi}
      labels: {tier: burst}
      autoscaling: {min: 1, max: 5, pricePerHour: 0.25, provisioningDelay: 90s}
",
        );
        let ca = s.autoscaler.expect("an autoscaler");
        assert_eq!(ca.settings, AutoscalerSettings::default());
        assert_eq!(ca.settings.scan_interval, SimTime::from_secs(10));
        assert_eq!(
            ca.settings.scale_down_unneeded_time,
            SimTime::from_secs(600)
        );
        assert_eq!(
            ca.settings.scale_down_delay_after_add,
            SimTime::from_secs(600)
        );
        assert_eq!(ca.settings.scale_down_utilization_permille, 500);
        assert_eq!(ca.settings.max_node_provision_time, SimTime::from_secs(900));
        assert_eq!(ca.settings.max_empty_bulk_delete, 10);
        assert_eq!(ca.settings.expander, Expander::LeastWaste);
        assert_eq!(ca.groups.len(), 1);
        let g = &ca.groups[0];
        assert_eq!(
            (g.name.as_str(), g.min, g.max, g.initial),
            ("burst", 1, 5, 2)
        );
        assert_eq!(g.price_per_hour, 0.25);
        assert_eq!(g.provisioning_delay, SimTime::from_secs(90));
        assert_eq!(g.template.allocatable.cpu(), 4000);
        assert_eq!(g.template.labels.get("tier"), Some("burst"));
        assert_eq!(g.template.name, "");
        assert_eq!(ca.group_of("burst-17"), Some(0));
        assert_eq!(ca.group_of("burst-"), None);
        assert_eq!(ca.group_of("fixed-0"), None);
        assert!(
            load("cluster: {nodePools: [{name: a, count: 1}]}\n")
                .autoscaler
                .is_none()
        );
    }

    #[test]
    fn every_flag_can_be_overridden() {
        let s = load(
            "clusterAutoscaler:
  scanInterval: 30s
  scaleDownEnabled: false
  scaleDownUnneededTime: 5m
  scaleDownDelayAfterAdd: 0s
  scaleDownUtilizationThreshold: 0.65
  maxNodeProvisionTime: 20m
  maxEmptyBulkDelete: 3
  expander: price
cluster: {nodePools: [{name: a, count: 0, autoscaling: {max: 3}}]}
",
        );
        let ca = s.autoscaler.expect("an autoscaler");
        assert_eq!(
            ca.settings,
            AutoscalerSettings {
                scan_interval: SimTime::from_secs(30),
                scale_down_enabled: false,
                scale_down_unneeded_time: SimTime::from_secs(300),
                scale_down_delay_after_add: SimTime::ZERO,
                scale_down_utilization_permille: 650,
                max_node_provision_time: SimTime::from_secs(1200),
                max_empty_bulk_delete: 3,
                expander: Expander::Price,
            }
        );
        assert_eq!(ca.groups[0].min, 0);
        assert_eq!(ca.groups[0].provisioning_delay, SimTime::from_secs(60));
    }

    #[test]
    fn autoscaler_errors_are_located() {
        check_error(
            "cluster: {nodePools: [{name: a, count: 1, autoscaling: {min: 0}}]}\n",
            1,
            56,
            "cluster.nodePools[0].autoscaling.max",
            "missing required field `max` (the most nodes the autoscaler may give the pool)",
        );
        check_error(
            "cluster: {nodePools: [{name: a, count: 1, autoscaling: {min: 2, max: 1}}]}\n",
            1,
            70,
            "cluster.nodePools[0].autoscaling.max",
            "max (1) is below min (2)",
        );
        check_error(
            "cluster: {nodePools: [{name: a, count: 4, autoscaling: {min: 0, max: 3}}]}\n",
            1,
            56,
            "cluster.nodePools[0].count",
            "the pool starts with 4 node(s), outside its autoscaling range 0..=3",
        );
        check_error(
            "clusterAutoscaler: {expander: cheapest}\ncluster: {nodePools: [{name: a, count: 0, autoscaling: {max: 1}}]}\n",
            1,
            31,
            "clusterAutoscaler.expander",
            "unknown expander \"cheapest\"; expected least-waste, price, most-pods or random",
        );
        check_error(
            "clusterAutoscaler: {scaleDownUtilizationThreshold: 1.5}\ncluster: {nodePools: [{name: a, count: 0, autoscaling: {max: 1}}]}\n",
            1,
            52,
            "clusterAutoscaler.scaleDownUtilizationThreshold",
            "expected a fraction from 0 to 1, got 1.5",
        );
        check_error(
            "clusterAutoscaler: {scanInterval: 10s}\ncluster: {nodePools: [{name: a, count: 1}]}\n",
            1,
            20,
            "clusterAutoscaler",
            "no node pool has `autoscaling: {min, max}`: the cluster autoscaler would have no node group to scale",
        );
        check_error(
            "cluster: {nodePools: [{name: a, count: 1, autoscaling: {max: 2, provisioningDelay: soon}}]}\n",
            1,
            84,
            "cluster.nodePools[0].autoscaling.provisioningDelay",
            "invalid duration \"soon\": expected a number at \"soon\"",
        );
    }
}
