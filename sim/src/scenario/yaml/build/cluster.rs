//! `cluster:`: node pools expanded to `<pool>-<i>`, the named nodes and a trace's nodes
//! (`trace`, read in the `trace` module), in file order.

use std::collections::HashMap;

use schedulers::yaml::message::at_line;
use schedulers::{NodeSpec, Resources};
use serde_saphyr::{Location, Spanned};

use super::super::raw::{RawCluster, RawClusterMachines, RawClusterTrace, RawNode, RawPool};
use super::{Builder, Result};

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
    /// Adds `count` nodes of `allocatable` to the cluster's total, which the simulation
    /// keeps in 64-bit integers: a total that would not fit (ten nodes of `memory: 1Ei`)
    /// is refused here, at the pool or node that passes it, rather than overflowing in
    /// the run.
    pub(super) fn charge_capacity(
        &mut self,
        allocatable: &Resources,
        count: u64,
        at: &Location,
        field: &str,
    ) -> Result<()> {
        for kind in self.names.kinds() {
            let i = kind.index();
            let total = self.capacity[i] + i128::from(allocatable.0[i]) * i128::from(count);
            if total > i128::from(i64::MAX) {
                return Err(self.kube.err(
                    at,
                    field,
                    format!(
                        "the cluster's total allocatable {} would pass {} (in {}), the most \
                         schedlab can count; a value this large is likely a typo",
                        self.names.name(kind),
                        i64::MAX,
                        if i == 0 {
                            "millicores"
                        } else if i == 1 || i == 2 {
                            "bytes"
                        } else {
                            "units"
                        }
                    ),
                ));
            }
            self.capacity[i] = total;
        }
        Ok(())
    }

    /// `cluster:`: pools expanded to `<pool>-<i>`, the named nodes and a trace's nodes,
    /// in file order.
    pub(super) fn cluster(&mut self, c: &RawCluster) -> Result<Vec<NodeSpec>> {
        let mut nodes = Vec::new();
        // Where each node name was defined, to report duplicates.
        let mut seen: HashMap<String, String> = HashMap::new();
        enum Source<'c> {
            Pools(&'c [Spanned<RawPool>]),
            Named(&'c [Spanned<RawNode>]),
            Trace(&'c Spanned<RawClusterTrace>),
            Machines(&'c Spanned<RawClusterMachines>),
        }
        let mut sources: Vec<(&Location, Source<'_>)> = Vec::new();
        if let Some(p) = &c.node_pools {
            sources.push((&p.referenced, Source::Pools(&p.value)));
        }
        if let Some(n) = &c.nodes {
            sources.push((&n.referenced, Source::Named(&n.value)));
        }
        if let Some(t) = &c.trace {
            sources.push((&t.referenced, Source::Trace(t)));
        }
        if let Some(m) = &c.machines {
            sources.push((&m.referenced, Source::Machines(m)));
        }
        sources.sort_by_key(|(at, _)| (at.line(), at.column()));
        for (_, source) in sources {
            match source {
                Source::Pools(pools) => self.pools(pools, &mut nodes, &mut seen)?,
                Source::Named(named) => self.named_nodes(named, &mut nodes, &mut seen)?,
                Source::Trace(t) => self.cluster_trace(t, &mut nodes, &mut seen, MAX_NODES)?,
                Source::Machines(m) => {
                    self.cluster_machines(m, &mut nodes, &mut seen, MAX_NODES)?
                }
            }
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
                images: self.node_images(p.images.as_ref(), &base)?,
                csi_attach_limits: self.csi_attach_limits(p.csi_attach_limits.as_ref(), &base)?,
            };
            self.charge_capacity(
                &template.allocatable,
                u64::from(count),
                &pool.referenced,
                &format!("{base}.allocatable"),
            )?;
            if let Some(a) = &p.autoscaling {
                self.node_group(&name, &template, count, a, &base)?;
            }
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
            let allocatable = self.kube.allocatable(
                &mut self.names,
                n.allocatable.as_ref(),
                &format!("{base}.allocatable"),
            )?;
            self.charge_capacity(
                &allocatable,
                1,
                &n.name.referenced,
                &format!("{base}.allocatable"),
            )?;
            nodes.push(with_hostname_label(NodeSpec {
                name,
                allocatable,
                labels: self
                    .kube
                    .labels(n.labels.as_ref(), &format!("{base}.labels"))?,
                taints: self.kube.taints(n.taints.as_deref(), &base)?,
                unschedulable: n.unschedulable.unwrap_or(false),
                gpu: self.node_gpus(n.gpus.as_ref(), n.gpu_model.as_ref(), &base)?,
                images: self.node_images(n.images.as_ref(), &base)?,
                csi_attach_limits: self.csi_attach_limits(n.csi_attach_limits.as_ref(), &base)?,
            }));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use schedulers::{Labels, ResourceKind, Resources, Taint, TaintEffect};

    use super::super::testing::{check_error, error, load};
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        let mut l = Labels::default();
        for (k, v) in pairs {
            l.insert((*k).to_owned(), (*v).to_owned());
        }
        l
    }

    #[test]
    fn pools_expand_and_nodes_follow_in_file_order() {
        let s = load(
            "cluster:
  nodes:
    - {name: edge, allocatable: {cpu: 500m}, unschedulable: true}
  nodePools:
    - name: big
      count: 2
      allocatable: {cpu: \"4\", memory: 8Gi, pods: 20}
      labels: {zone: a}
      taints: [{key: dedicated, value: batch, effect: NoSchedule}]
",
        );
        let names: Vec<&str> = s.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["edge", "big-0", "big-1"]);
        let mut alloc = Resources::cpu_mem(4000, 8 << 30);
        alloc.set(ResourceKind::PODS, 20);
        assert_eq!(
            s.nodes[2],
            NodeSpec {
                name: "big-1".into(),
                allocatable: alloc,
                labels: labels(&[("zone", "a"), ("kubernetes.io/hostname", "big-1")]),
                taints: vec![Taint {
                    key: "dedicated".into(),
                    value: "batch".into(),
                    effect: TaintEffect::NoSchedule,
                }],
                unschedulable: false,
                gpu: Default::default(),
                images: Vec::new(),
                csi_attach_limits: Vec::new(),
            }
        );
        let mut edge = Resources::ZERO;
        edge.set(ResourceKind::CPU, 500);
        edge.set(ResourceKind::PODS, 110);
        assert_eq!(s.nodes[0].allocatable, edge, "pods default to 110");
        assert!(s.nodes[0].unschedulable);
    }

    #[test]
    fn a_hostname_label_in_the_file_is_kept() {
        let s = load("cluster: {nodes: [{name: n, labels: {kubernetes.io/hostname: other}}]}\n");
        assert_eq!(
            s.nodes[0].labels.get("kubernetes.io/hostname"),
            Some("other")
        );
    }

    #[test]
    fn cluster_errors_are_located() {
        check_error(
            "cluster: {nodePools: [{name: a}]}\n",
            1,
            23,
            "cluster.nodePools[0].count",
            "missing required field `count` (how many nodes the pool has)",
        );
        check_error(
            "cluster: {nodePools: [{name: a, count: 1}, {name: a, count: 1}]}\n",
            1,
            51,
            "cluster.nodePools[1].name",
            "duplicate node pool name \"a\": already used by cluster.nodePools[0] (line 1)",
        );
        check_error(
            "cluster:\n  nodes: [{name: a-0}]\n  nodePools: [{name: a, count: 1}]\n",
            3,
            22,
            "cluster.nodePools[0].name",
            "pool \"a\" would create node \"a-0\", which cluster.nodes[0] (line 2) already defines",
        );
        check_error(
            "cluster:\n  nodePools: [{name: a, count: 1}]\n  nodes: [{name: a-0}]\n",
            3,
            18,
            "cluster.nodes[0].name",
            "duplicate node name \"a-0\": node pool \"a\" (line 2) already defines it",
        );
        check_error(
            "cluster: {nodes: [{name: n}], nodePools: [{name: b, count: 1000000}]}\n",
            1,
            60,
            "cluster.nodePools[0].count",
            "this pool brings the cluster to 1000001 nodes; a scenario may define at most 1000000",
        );
        check_error(
            "cluster: {nodes: [{name: n, taints: [{key: k, effect: Sometimes}]}]}\n",
            1,
            55,
            "cluster.nodes[0].taints[0].effect",
            "unknown taint effect \"Sometimes\"; expected NoSchedule, PreferNoSchedule or NoExecute",
        );
    }

    #[test]
    fn a_cluster_total_past_64_bits_is_refused() {
        // Found by the fuzzer: ten nodes of 1Ei overflowed the cluster's total memory.
        let e = error(
            "cluster:\n  nodePools:\n    - {name: a, count: 4, allocatable: {memory: 1Ei}}\n    - {name: b, count: 4, allocatable: {memory: 1Ei}}\n",
        );
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(4), Some("cluster.nodePools[1].allocatable")),
            "{e}"
        );
        assert!(
            e.message.starts_with(
                "the cluster's total allocatable memory would pass 9223372036854775807 (in bytes)"
            ),
            "{e}"
        );
        let e = error(
            "cluster:\n  nodes:\n    - {name: a, allocatable: {cpu: 5000000000000000}}\n    - {name: b, allocatable: {cpu: 5000000000000000}}\n",
        );
        assert_eq!(
            e.field.as_deref(),
            Some("cluster.nodes[1].allocatable"),
            "{e}"
        );
        load("cluster:\n  nodePools: [{name: a, count: 7, allocatable: {memory: 1Ei}}]\n");
    }
}
