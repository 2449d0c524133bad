//! `cluster:`: node pools expanded to `<pool>-<i>`, then the named nodes, in file order.

use std::collections::HashMap;

use schedulers::NodeSpec;
use schedulers::yaml::message::at_line;
use serde_saphyr::Spanned;

use super::super::raw::{RawCluster, RawNode, RawPool};
use super::{Builder, Result, before};

/// The most nodes one scenario may define. Far above the 10,000-node target scale, but a
/// typo'd `count: 1000000000` is an error instead of an allocation that aborts the process.
const MAX_NODES: u64 = 1_000_000;

/// The label every kubelet puts on its node, which hostname-keyed spread constraints and
/// anti-affinity terms rely on; a label the file sets itself is kept.
fn with_hostname_label(mut node: NodeSpec) -> NodeSpec {
    const HOSTNAME: &str = "kubernetes.io/hostname";
    if node.labels.get(HOSTNAME).is_none() {
        node.labels.insert(HOSTNAME.to_string(), node.name.clone());
    }
    node
}

impl Builder<'_> {
    /// `cluster:`: pools expanded to `<pool>-<i>`, then the named nodes, in file order.
    pub(super) fn cluster(&mut self, c: &RawCluster) -> Result<Vec<NodeSpec>> {
        let mut nodes = Vec::new();
        // Where each node name was defined, to report duplicates.
        let mut seen: HashMap<String, String> = HashMap::new();
        let pools_first = match (&c.node_pools, &c.nodes) {
            (Some(p), Some(n)) => before(&p.referenced, &n.referenced),
            _ => true,
        };
        let pools = c
            .node_pools
            .as_ref()
            .map(|p| p.value.as_slice())
            .unwrap_or_default();
        let named = c
            .nodes
            .as_ref()
            .map(|n| n.value.as_slice())
            .unwrap_or_default();
        if pools_first {
            self.pools(pools, &mut nodes, &mut seen)?;
            self.named_nodes(named, &mut nodes, &mut seen)?;
        } else {
            self.named_nodes(named, &mut nodes, &mut seen)?;
            self.pools(pools, &mut nodes, &mut seen)?;
        }
        Ok(nodes)
    }

    /// `cluster.nodePools`.
    fn pools(
        &mut self,
        pools: &[Spanned<RawPool>],
        nodes: &mut Vec<NodeSpec>,
        seen: &mut HashMap<String, String>,
    ) -> Result<()> {
        let mut pool_names: HashMap<String, String> = HashMap::new();
        for (i, pool) in pools.iter().enumerate() {
            let base = format!("cluster.nodePools[{i}]");
            let p = &pool.value;
            let name_field = format!("{base}.name");
            let name = self.kube.non_empty(&p.name, &name_field, "a pool name")?;
            if let Some(first) = pool_names.insert(
                name.clone(),
                format!("{base}{}", at_line(&p.name.referenced)),
            ) {
                return Err(self.kube.err(
                    &p.name.referenced,
                    &name_field,
                    format!("duplicate node pool name {name:?}: already used by {first}"),
                ));
            }
            let count_field = format!("{base}.count");
            let count = match &p.count {
                Some(c) => self.kube.count_u32(c, &count_field)?,
                None => {
                    return Err(self.kube.err(
                        &pool.referenced,
                        &count_field,
                        "missing required field `count` (how many nodes the pool has)",
                    ));
                }
            };
            let total = nodes.len() as u64 + u64::from(count);
            if total > MAX_NODES {
                let at = p.count.as_ref().map_or(&pool.referenced, |c| &c.referenced);
                return Err(self.kube.err(
                    at,
                    &count_field,
                    format!("this pool brings the cluster to {total} nodes; a scenario may define at most {MAX_NODES}"),
                ));
            }
            let template = NodeSpec {
                name: String::new(),
                allocatable: self.kube.allocatable(
                    &mut self.names,
                    p.allocatable.as_ref(),
                    &format!("{base}.allocatable"),
                )?,
                labels: self
                    .kube
                    .labels(p.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.kube.taints(p.taints.as_deref(), &base)?,
                unschedulable: p.unschedulable.unwrap_or(false),
                gpu: self.node_gpus(p.gpus.as_ref(), p.gpu_model.as_ref(), &base)?,
            };
            let origin = format!("node pool {name:?}{}", at_line(&p.name.referenced));
            for ordinal in 0..count {
                let node_name = format!("{name}-{ordinal}");
                if let Some(first) = seen.get(&node_name) {
                    return Err(self.kube.err(
                        &p.name.referenced,
                        &name_field,
                        format!("pool {name:?} would create node {node_name:?}, which {first} already defines"),
                    ));
                }
                seen.insert(node_name.clone(), origin.clone());
                nodes.push(with_hostname_label(NodeSpec {
                    name: node_name,
                    ..template.clone()
                }));
            }
        }
        Ok(())
    }

    /// `cluster.nodes`.
    fn named_nodes(
        &mut self,
        list: &[Spanned<RawNode>],
        nodes: &mut Vec<NodeSpec>,
        seen: &mut HashMap<String, String>,
    ) -> Result<()> {
        for (i, node) in list.iter().enumerate() {
            let base = format!("cluster.nodes[{i}]");
            let n = &node.value;
            let name_field = format!("{base}.name");
            let name = self.kube.non_empty(&n.name, &name_field, "a node name")?;
            if let Some(first) = seen.get(&name) {
                return Err(self.kube.err(
                    &n.name.referenced,
                    &name_field,
                    format!("duplicate node name {name:?}: {first} already defines it"),
                ));
            }
            if nodes.len() as u64 >= MAX_NODES {
                return Err(self.kube.err(
                    &n.name.referenced,
                    &name_field,
                    format!("a scenario may define at most {MAX_NODES} nodes"),
                ));
            }
            seen.insert(
                name.clone(),
                format!("{base}{}", at_line(&n.name.referenced)),
            );
            nodes.push(with_hostname_label(NodeSpec {
                name,
                allocatable: self.kube.allocatable(
                    &mut self.names,
                    n.allocatable.as_ref(),
                    &format!("{base}.allocatable"),
                )?,
                labels: self
                    .kube
                    .labels(n.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.kube.taints(n.taints.as_deref(), &base)?,
                unschedulable: n.unschedulable.unwrap_or(false),
                gpu: self.node_gpus(n.gpus.as_ref(), n.gpu_model.as_ref(), &base)?,
            }));
        }
        Ok(())
    }
}
