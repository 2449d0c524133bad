//! What the cluster's nodes cost and what the cluster autoscaler did: node-hours (every
//! node, from joining to leaving), their cost at the node groups' `pricePerHour`, and the
//! autoscaler's scale-ups and scale-downs. Node-hours are integrated exactly in
//! node-microseconds; the cost is a sum of price x time per node change.

use crate::observe::summary::{Column, Summary, Unit, Value};
use crate::observe::{Fact, Observer, RunEnd, View};
use crate::scenario::ClusterAutoscaler;
use crate::time::SimTime;

/// `node_hours`.
pub static NODE_HOURS: Column = Column {
    name: "node_hours",
    unit: Unit::NodeHours,
    doc: "sum over nodes of the hours each spent in the cluster (joined to left, or to the end)",
};
/// `node_cost`.
pub static NODE_COST: Column = Column {
    name: "node_cost",
    unit: Unit::Cost,
    doc: "sum over nodes of their node group's pricePerHour times their hours in the cluster",
};
/// `ca_scale_ups`.
pub static CA_SCALE_UPS: Column = Column {
    name: "ca_scale_ups",
    unit: Unit::Count,
    doc: "scale-up decisions of the cluster autoscaler",
};
/// `ca_nodes_added`.
pub static CA_NODES_ADDED: Column = Column {
    name: "ca_nodes_added",
    unit: Unit::Count,
    doc: "nodes the cluster autoscaler asked for in its scale-ups",
};
/// `ca_scale_downs`.
pub static CA_SCALE_DOWNS: Column = Column {
    name: "ca_scale_downs",
    unit: Unit::Count,
    doc: "nodes the cluster autoscaler began removing (tainted and drained)",
};
/// `ca_nodes_removed`.
pub static CA_NODES_REMOVED: Column = Column {
    name: "ca_nodes_removed",
    unit: Unit::Count,
    doc: "nodes the cluster autoscaler removed (left the cluster after its scale-down)",
};

/// Microseconds per hour.
const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// Node-hours, cost and the autoscaler's actions.
#[derive(Debug, Default)]
pub struct AutoscalerMetrics {
    /// Node group (name, price per hour), to price a node by its name.
    groups: Option<ClusterAutoscaler>,
    /// Per node id: its price per hour while present (0 for unpriced nodes).
    price: Vec<f64>,
    /// Per node id: being removed by the autoscaler.
    scaling_down: Vec<bool>,
    present: u64,
    /// Sum of the prices of the present nodes.
    rate: f64,
    since: SimTime,
    node_micros: u128,
    cost: f64,
    scale_ups: u64,
    nodes_added: u64,
    scale_downs: u64,
    nodes_removed: u64,
}

impl AutoscalerMetrics {
    /// Prices nodes by the node groups of `autoscaler` (none: every node is free).
    pub fn new(autoscaler: Option<&ClusterAutoscaler>) -> AutoscalerMetrics {
        AutoscalerMetrics {
            groups: autoscaler.cloned(),
            ..AutoscalerMetrics::default()
        }
    }

    fn advance(&mut self, now: SimTime) {
        let dt = now.0.saturating_sub(self.since.0);
        if dt > 0 {
            self.node_micros += u128::from(self.present) * u128::from(dt);
            self.cost += self.rate * dt as f64 / MICROS_PER_HOUR;
            self.since = now;
        }
    }
}

impl Observer for AutoscalerMetrics {
    #[inline]
    fn observe(&mut self, fact: &Fact, view: &View<'_>) {
        match fact {
            Fact::NodeAdded { node } => {
                self.advance(view.now);
                let price = self.groups.as_ref().map_or(0.0, |ca| {
                    ca.group_of(view.cluster.node(*node).name())
                        .map_or(0.0, |g| ca.groups[g].price_per_hour)
                });
                let i = node.index();
                if self.price.len() <= i {
                    self.price.resize(i + 1, 0.0);
                    self.scaling_down.resize(i + 1, false);
                }
                self.price[i] = price;
                self.present += 1;
                self.rate += price;
            }
            Fact::NodeRemoved { node } => {
                self.advance(view.now);
                let i = node.index();
                let price = self.price.get(i).copied().unwrap_or(0.0);
                self.present = self.present.saturating_sub(1);
                self.rate -= price;
                if self.scaling_down.get(i).copied().unwrap_or(false) {
                    self.nodes_removed += 1;
                }
            }
            Fact::ScaleUp(d) => {
                self.scale_ups += 1;
                if let Some(o) = d.options.get(d.chosen) {
                    self.nodes_added += u64::from(o.nodes);
                }
            }
            Fact::ScaleDown { node, .. } => {
                self.scale_downs += 1;
                if let Some(s) = self.scaling_down.get_mut(node.index()) {
                    *s = true;
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, end: &RunEnd<'_>, summary: &mut Summary) {
        self.advance(end.end);
        summary.push(
            &NODE_HOURS,
            Value::Fraction(self.node_micros as i128, MICROS_PER_HOUR as i128),
        );
        summary.push(&NODE_COST, Value::Float(self.cost));
        summary.push(&CA_SCALE_UPS, Value::Count(self.scale_ups));
        summary.push(&CA_NODES_ADDED, Value::Count(self.nodes_added));
        summary.push(&CA_SCALE_DOWNS, Value::Count(self.scale_downs));
        summary.push(&CA_NODES_REMOVED, Value::Count(self.nodes_removed));
    }
}
