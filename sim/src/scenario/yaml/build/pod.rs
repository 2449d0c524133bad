//! The pod template every pod of a workload shares: labels, priority, containers (the
//! top-level shorthand or explicit lists) and their resources and ports, scheduling
//! constraints, volumes and GPUs.

use std::collections::HashMap;

use schedulers::field_path;
use schedulers::yaml::message::at_line;
use schedulers::yaml::{NodeAffinityRules, Reader, Scalar};
use schedulers::{ContainerResources, OwnerKind, PodTemplate, ResourceKind, Resources};
use serde_saphyr::Spanned;

use super::super::raw::{RawContainer, RawWorkload, ScalarOrDist};
use super::{Builder, Result};
use crate::scenario::Dist;
use crate::scenario::admission::{LimitRange, limit_pod};

/// Requests drawn per pod, by resource kind (`Workload::sized`).
pub(super) type SizedRequests = Vec<(ResourceKind, Dist<i64>)>;

/// A single value where a distribution is not allowed.
fn constant(kube: &Reader<'_>, v: &Spanned<ScalarOrDist>, field: &str) -> Result<Spanned<Scalar>> {
    match &v.value {
        ScalarOrDist::Scalar(s) => Ok(Spanned::new(s.clone(), v.referenced, v.defined)),
        ScalarOrDist::Dist(_) => Err(kube.err(
            &v.referenced,
            field,
            "a distribution is only allowed in a batch workload's top-level `requests`; expected a single quantity",
        )),
    }
}

impl Builder<'_> {
    /// The pod template every pod of the workload shares, and the requests batch pods draw.
    pub(super) fn template(
        &mut self,
        w: &RawWorkload,
        name: String,
        owner: OwnerKind,
        singleton: bool,
        is_batch: bool,
        base: &str,
    ) -> Result<(PodTemplate, SizedRequests, Option<String>)> {
        let namespace = match &w.namespace {
            Some(ns) => self
                .kube
                .non_empty(ns, &format!("{base}.namespace"), "a namespace")?,
            None => "default".to_owned(),
        };
        let mut labels = self
            .kube
            .labels(w.labels.as_ref(), &format!("{base}.labels"))?;
        let pod_group = self.workload_pod_group(w, &namespace, &mut labels, base)?;
        let annotations = self
            .kube
            .labels(w.annotations.as_ref(), &format!("{base}.annotations"))?;
        let (priority, preemption_policy, priority_class) = self.pod_priority(w, base)?;

        // Either the shorthand (top-level requests/limits: one container named after the
        // workload) or explicit container lists, never both: mixing them would leave it
        // unclear which container the shorthand describes.
        if w.requests.is_some() || w.limits.is_some() {
            for (key, list) in [
                ("containers", &w.containers),
                ("initContainers", &w.init_containers),
            ] {
                if let Some(list) = list {
                    return Err(self.kube.err(
                        &list.referenced,
                        &format!("{base}.{key}"),
                        format!("`{key}` cannot be combined with the top-level `requests`/`limits`, which describe a single container named after the workload"),
                    ));
                }
            }
        }
        if let Some(ports) = &w.ports {
            for (key, list) in [
                ("containers", &w.containers),
                ("initContainers", &w.init_containers),
            ] {
                if let Some(list) = list {
                    return Err(self.kube.err(
                        &list.referenced,
                        &format!("{base}.{key}"),
                        format!("`{key}` cannot be combined with the top-level `ports` (line {}), which describe a single container named after the workload; list the ports under each container instead", ports.referenced.line()),
                    ));
                }
            }
        }
        if let (Some(image), Some(list)) = (&w.image, &w.containers) {
            return Err(self.kube.err(
                &list.referenced,
                &format!("{base}.containers"),
                format!("`containers` cannot be combined with the top-level `image` (line {}), which is the image of a single container named after the workload; give each container its `image` instead", image.referenced.line()),
            ));
        }
        let mut sized = Vec::new();
        let mut container_names: HashMap<String, String> = HashMap::new();
        let mut app_images = Vec::new();
        let mut containers = match &w.containers {
            Some(list) => {
                if list.value.is_empty() {
                    return Err(self.kube.err(
                        &list.referenced,
                        &format!("{base}.containers"),
                        "expected at least one container",
                    ));
                }
                self.containers(
                    &list.value,
                    &format!("{base}.containers"),
                    &mut container_names,
                    &mut app_images,
                )?
            }
            None => {
                if let Some(image) = &w.image {
                    app_images.push(self.image_name(image, &format!("{base}.image"))?);
                }
                let mut c = ContainerResources {
                    name: name.clone(),
                    ..Default::default()
                };
                if let Some(requests) = &w.requests {
                    let req_base = format!("{base}.requests");
                    for (key, value) in &requests.value.0 {
                        let field = field_path::key(&req_base, &key.value);
                        let kind = self.kube.pod_resource_kind(&mut self.names, key, &field)?;
                        match &value.value {
                            ScalarOrDist::Dist(_) if is_batch => {
                                let quantity = |b: &Builder<'_>, v: &Spanned<Scalar>, f: &str| {
                                    b.kube.quantity(kind, v, f)
                                };
                                sized.push((
                                    kind,
                                    self.scalar_or_dist(value, &field, &quantity, 0)?,
                                ));
                            }
                            _ => {
                                let v = constant(&self.kube, value, &field)?;
                                c.set_request(kind, self.kube.quantity(kind, &v, &field)?);
                            }
                        }
                    }
                }
                if let Some(limits) = &w.limits {
                    self.kube.set_limits(
                        &mut self.names,
                        &mut c,
                        &limits.value,
                        &format!("{base}.limits"),
                    )?;
                }
                if let Some(ports) = &w.ports {
                    c.host_ports =
                        self.kube
                            .ports(ports, &format!("{base}.ports"), &mut HashMap::new())?;
                }
                self.kube.check_requests_within_limits(
                    &self.names,
                    &c,
                    w.requests.as_ref().map(|r| &r.value),
                    &format!("{base}.requests"),
                )?;
                vec![c]
            }
        };
        let mut images = Vec::new();
        let mut init_containers = match &w.init_containers {
            Some(list) => self.containers(
                &list.value,
                &format!("{base}.initContainers"),
                &mut container_names,
                &mut images,
            )?,
            None => Vec::new(),
        };
        // Init containers' images first, as kube-scheduler lists them.
        images.append(&mut app_images);

        let mut overhead = Resources::ZERO;
        if let Some(map) = &w.overhead {
            for (kind, amount) in
                self.kube
                    .pod_quantities(&mut self.names, map, &format!("{base}.overhead"))?
            {
                overhead.set(kind, amount);
            }
        }
        // The LimitRanger's defaults and checks, once, for every pod of the template.
        let ranges: Vec<&LimitRange> = self
            .limit_ranges
            .iter()
            .filter(|r| r.namespace == namespace)
            .collect();
        let forbidden = if ranges.is_empty() {
            None
        } else {
            limit_pod(
                &ranges,
                &self.names,
                &mut containers,
                &mut init_containers,
                &overhead,
            )
            .err()
        };
        let node_selector = self
            .kube
            .labels(w.node_selector.as_ref(), &format!("{base}.nodeSelector"))?;
        let mut tolerations = Vec::new();
        for (i, t) in w.tolerations.iter().flatten().enumerate() {
            tolerations.push(
                self.kube
                    .toleration(t, &format!("{base}.tolerations[{i}]"))?,
            );
        }
        let affinity = w.affinity.as_ref();
        let node_affinity = match affinity.and_then(|a| a.node_affinity.as_ref()) {
            Some(a) => Some(self.kube.node_affinity(
                a,
                &format!("{base}.affinity.nodeAffinity"),
                NodeAffinityRules::Pod,
            )?),
            None => None,
        };
        let pod_affinity = match affinity.and_then(|a| a.pod_affinity.as_ref()) {
            Some(a) => Some(
                self.kube
                    .pod_affinity(a, &format!("{base}.affinity.podAffinity"))?,
            ),
            None => None,
        };
        let pod_anti_affinity = match affinity.and_then(|a| a.pod_anti_affinity.as_ref()) {
            Some(a) => Some(
                self.kube
                    .pod_affinity(a, &format!("{base}.affinity.podAntiAffinity"))?,
            ),
            None => None,
        };
        let topology_spread_constraints = self.kube.spread_constraints(
            w.topology_spread_constraints.as_deref().unwrap_or_default(),
            &format!("{base}.topologySpreadConstraints"),
        )?;
        let node_name = match &w.node_name {
            Some(n) => Some(
                self.kube
                    .non_empty(n, &format!("{base}.nodeName"), "a node name")?,
            ),
            None => None,
        };
        let volume_claims = self.pod_volumes(
            w.volumes.as_deref().unwrap_or_default(),
            &namespace,
            &format!("{base}.volumes"),
        )?;
        let termination_grace_period_seconds = match &w.termination_grace_period_seconds {
            Some(v) => self.kube.integer(
                v,
                &format!("{base}.terminationGracePeriodSeconds"),
                0,
                u32::MAX.into(),
                "a non-negative number of seconds",
            )? as u32,
            // Kubernetes' default.
            None => 30,
        };
        let template = PodTemplate {
            termination_grace_period_seconds,
            name,
            namespace,
            labels,
            annotations,
            containers,
            init_containers,
            overhead,
            priority,
            tolerations,
            node_selector,
            node_affinity,
            node_name,
            owner,
            singleton,
            preemption_policy,
            priority_class,
            pod_affinity,
            pod_anti_affinity,
            topology_spread_constraints,
            volume_claims,
            pod_group,
            gpu: self.pod_gpu(w.gpu.as_ref(), w.gpu_models.as_ref(), base)?,
            images,
        };
        Ok((template, sized, forbidden))
    }

    /// `containers` or `initContainers`; names must be unique across both lists. The
    /// containers' images, normalized, are added to `images` in order.
    fn containers(
        &mut self,
        list: &[Spanned<RawContainer>],
        base: &str,
        names: &mut HashMap<String, String>,
        images: &mut Vec<String>,
    ) -> Result<Vec<ContainerResources>> {
        let mut out = Vec::new();
        // Host ports must be unique within the list, as Kubernetes checks each list.
        let mut host_ports = HashMap::new();
        for (i, item) in list.iter().enumerate() {
            let c_base = format!("{base}[{i}]");
            let raw = &item.value;
            let name_field = format!("{c_base}.name");
            let name = self
                .kube
                .non_empty(&raw.name, &name_field, "a container name")?;
            if let Some(first) = names.get(&name) {
                return Err(self.kube.err(
                    &raw.name.referenced,
                    &name_field,
                    format!("duplicate container name {name:?}: {first} already uses it"),
                ));
            }
            names.insert(
                name.clone(),
                format!("{c_base}{}", at_line(&raw.name.referenced)),
            );
            let mut c = ContainerResources {
                name,
                ..Default::default()
            };
            let kube = self.kube;
            kube.container_resources(
                &mut self.names,
                &mut c,
                raw.requests.as_ref(),
                raw.limits.as_ref(),
                &c_base,
                |v: &Spanned<ScalarOrDist>, field: &str| constant(&kube, v, field),
            )?;
            if let Some(ports) = &raw.ports {
                c.host_ports =
                    self.kube
                        .ports(ports, &format!("{c_base}.ports"), &mut host_ports)?;
            }
            if let Some(image) = &raw.image {
                images.push(self.image_name(image, &format!("{c_base}.image"))?);
            }
            c.restartable = self.kube.container_restart_policy(
                raw.restart_policy.as_ref(),
                &format!("{c_base}.restartPolicy"),
                base.ends_with("initContainers"),
            )?;
            out.push(c);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use schedulers::{
        HostPort, Labels, NodeAffinity, NodeSelectorTerm, PreemptionPolicy, Protocol,
        SelectorOperator, SelectorRequirement, Toleration, TolerationOperator,
    };

    use super::super::testing::{check_at, load, template};
    use super::*;

    fn container(
        name: &str,
        requests: &[(ResourceKind, i64)],
        limits: &[(ResourceKind, i64)],
    ) -> ContainerResources {
        let mut c = ContainerResources {
            name: name.into(),
            ..Default::default()
        };
        for &(kind, amount) in requests {
            c.set_request(kind, amount);
        }
        for &(kind, amount) in limits {
            c.set_limit(kind, amount);
        }
        c
    }

    #[test]
    fn the_shorthand_is_one_container_named_after_the_workload() {
        let t = template(
            "workloads:
  - pod: web
    namespace: shop
    labels: {app: web}
    requests: {cpu: 250m, memory: 1Gi}
    limits: {cpu: 500m}
    ports: [{containerPort: 80, hostPort: 8080}]
    overhead: {memory: 64Mi}
    nodeSelector: {disk: ssd}
    nodeName: n1
    terminationGracePeriodSeconds: 5
",
        );
        let mut web = container(
            "web",
            &[(ResourceKind::CPU, 250), (ResourceKind::MEMORY, 1 << 30)],
            &[(ResourceKind::CPU, 500)],
        );
        web.host_ports = vec![HostPort {
            port: 8080,
            protocol: Protocol::Tcp,
            host_ip: HostPort::ANY_IP.into(),
        }];
        let mut overhead = Resources::ZERO;
        overhead.set(ResourceKind::MEMORY, 64 << 20);
        let mut labels = Labels::default();
        labels.insert("app".into(), "web".into());
        let mut node_selector = Labels::default();
        node_selector.insert("disk".into(), "ssd".into());
        assert_eq!(
            t,
            PodTemplate {
                name: "web".into(),
                namespace: "shop".into(),
                labels,
                containers: vec![web],
                overhead,
                node_selector,
                node_name: Some("n1".into()),
                owner: OwnerKind::None,
                singleton: true,
                preemption_policy: PreemptionPolicy::PreemptLowerPriority,
                termination_grace_period_seconds: 5,
                ..PodTemplate::default()
            }
        );
        assert_eq!(
            template("workloads: [{pod: p}]\n").termination_grace_period_seconds,
            30,
            "Kubernetes' default"
        );
    }

    #[test]
    fn explicit_containers_and_constraints() {
        let t = template(
            "workloads:
  - deployment: app
    replicas: 1
    containers:
      - {name: main, requests: {cpu: \"1\"}, limits: {cpu: \"2\"}}
      - {name: side, requests: {memory: 128Mi}}
    initContainers:
      - {name: setup, requests: {cpu: \"3\"}}
    tolerations: [{key: gpu, operator: Exists}]
    affinity:
      nodeAffinity:
        requiredDuringSchedulingIgnoredDuringExecution:
          nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]
",
        );
        assert_eq!(
            t.containers,
            [
                container(
                    "main",
                    &[(ResourceKind::CPU, 1000)],
                    &[(ResourceKind::CPU, 2000)]
                ),
                container("side", &[(ResourceKind::MEMORY, 128 << 20)], &[]),
            ]
        );
        assert_eq!(
            t.init_containers,
            [container("setup", &[(ResourceKind::CPU, 3000)], &[])]
        );
        assert_eq!(
            t.tolerations,
            [Toleration {
                key: "gpu".into(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: None,
                toleration_seconds: None,
            }]
        );
        assert_eq!(
            t.node_affinity,
            Some(NodeAffinity {
                required: Some(vec![NodeSelectorTerm {
                    match_expressions: vec![SelectorRequirement {
                        key: "zone".into(),
                        operator: SelectorOperator::In,
                        values: vec!["a".into()],
                    }],
                    match_fields: vec![],
                }]),
                preferred: vec![],
            })
        );
    }

    #[test]
    fn batch_requests_may_be_drawn_per_pod() {
        let s = load(
            "workloads:
  - batch: b
    arrivals: {process: burst, count: 1}
    requests: {cpu: {dist: uniform, min: 100m, max: \"2\"}, memory: 1Gi}
",
        );
        let w = &s.workloads[0];
        assert_eq!(
            w.sized,
            [(
                ResourceKind::CPU,
                Dist::Uniform {
                    min: 100,
                    max: 2000
                }
            )]
        );
        assert_eq!(
            w.template.containers,
            [container("b", &[(ResourceKind::MEMORY, 1 << 30)], &[])],
            "constant requests stay in the template"
        );
    }

    #[test]
    fn template_errors_are_located() {
        check_at(
            "workloads: [{pod: p, requests: {cpu: 1}, containers: [{name: c}]}]\n",
            "[{name",
            "workloads[0].containers",
            "`containers` cannot be combined with the top-level `requests`/`limits`, which describe a single container named after the workload",
        );
        check_at(
            "workloads: [{pod: p, containers: []}]\n",
            "[]",
            "workloads[0].containers",
            "expected at least one container",
        );
        check_at(
            "workloads: [{pod: p, containers: [{name: c}], initContainers: [{name: c}]}]\n",
            "c}]}",
            "workloads[0].initContainers[0].name",
            "duplicate container name \"c\": workloads[0].containers[0] (line 1) already uses it",
        );
        check_at(
            "workloads: [{pod: p, requests: {memory: 2Gi}, limits: {memory: 1Gi}}]\n",
            "2Gi",
            "workloads[0].requests.memory",
            "the request is larger than the limit (1Gi); a request must not exceed its limit",
        );
        check_at(
            "workloads: [{pod: p, requests: {cpu: {dist: exponential, mean: 1}}}]\n",
            "{dist",
            "workloads[0].requests.cpu",
            "a distribution is only allowed in a batch workload's top-level `requests`; expected a single quantity",
        );
        check_at(
            "workloads: [{pod: p, requests: {pods: 1}}]\n",
            "pods",
            "workloads[0].requests.pods",
            "`pods` is only set in a node's allocatable; every pod takes one pod slot",
        );
    }
}
