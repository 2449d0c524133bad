//! ResourceQuotas and LimitRanges: what the API server's admission plugins check when a
//! pod is created in their namespace.
//!
//! - [`LimitRange`] mirrors the LimitRanger plugin (plugin/pkg/admission/limitranger,
//!   `PodMutateLimitFunc` and `PodValidateLimitFunc`) and the LimitRange defaulting of
//!   the core API (`SetDefaults_LimitRangeItem`): a Container item's `default` limit
//!   becomes the container's limit where it sets none, its `defaultRequest` (or, absent,
//!   its `default`, or its `min`) the request; then `min`, `max` and
//!   `maxLimitRequestRatio` are checked for every container and init container, and a
//!   Pod item's for the pod as a whole, with upstream's messages.
//!   Simplified: LimitRanges are static (they come from the scenario), so they are
//!   applied once, when a workload's pod template is built, not at each creation; a
//!   template that violates one is remembered as forbidden ([`crate::scenario::Workload::forbidden`])
//!   and every creation of its pods is refused with that message. Templates a rollout
//!   brings and trace replays' pods are not limited.
//! - [`ResourceQuota`] mirrors the ResourceQuota plugin's check
//!   (staging/src/k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go,
//!   `checkRequest`) with the pod evaluator (pkg/quota/v1/evaluator/core/pods.go):
//!   usage counts the namespace's pods that are not terminal; a pod that would take a
//!   tracked resource past `hard` is refused (`exceeded quota: ...`), and one that sets
//!   no request or limit for a tracked cpu or memory resource is refused (`failed quota:
//!   ...: must specify ...`). Scopes are not modelled.
//!
//! Quantities in messages are printed as Kubernetes prints canonical quantities of the
//! binary (memory) and decimal (cpu, counts) formats; a memory amount written in decimal
//! units (`1G`) prints in bytes where upstream would keep the decimal suffix.

use schedulers::quantity::{format_bytes, format_cpu_millis};
use schedulers::{ContainerResources, Pod, PodTemplate, ResourceKind, ResourceNames, Resources};

/// What a quota's `hard` entry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaResource {
    /// `pods`, `count/pods`: the pods themselves.
    Pods,
    /// `requests.X` (or bare `cpu`, `memory`, `ephemeral-storage`): the pods' requests.
    Requests(ResourceKind),
    /// `limits.X`: the pods' limits.
    Limits(ResourceKind),
}

/// One `spec.hard` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hard {
    /// The key as written (`requests.cpu`, `cpu`, `count/pods`): messages name it.
    pub key: String,
    /// What it counts.
    pub resource: QuotaResource,
    /// The limit, in the resource's base units (millicores for cpu).
    pub amount: i64,
}

/// A ResourceQuota.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceQuota {
    /// `metadata.name`.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// `spec.hard`, sorted by key (the order upstream prints them in).
    pub hard: Vec<Hard>,
}

/// Amounts by resource kind, sorted by the resource's name (the order of the messages).
pub type Amounts = Vec<(ResourceKind, i64)>;

/// A LimitRange item of type Container.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerLimits {
    /// `default`, completed from `max` as the API defaults it.
    pub default: Amounts,
    /// `defaultRequest`, completed from `default` and `min` as the API defaults it.
    pub default_request: Amounts,
    /// `min`.
    pub min: Amounts,
    /// `max`.
    pub max: Amounts,
    /// `maxLimitRequestRatio`, in thousandths.
    pub max_ratio_milli: Amounts,
}

/// A LimitRange item of type Pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodLimits {
    /// `min`.
    pub min: Amounts,
    /// `max`.
    pub max: Amounts,
    /// `maxLimitRequestRatio`, in thousandths.
    pub max_ratio_milli: Amounts,
}

/// A LimitRange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRange {
    /// `metadata.name`.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its Container items, in order.
    pub containers: Vec<ContainerLimits>,
    /// Its Pod items, in order.
    pub pods: Vec<PodLimits>,
}

/// `amount` of `kind` as Kubernetes prints the quantity.
pub fn format_amount(kind: ResourceKind, amount: i64) -> String {
    match kind {
        ResourceKind::CPU => format_cpu_millis(amount),
        ResourceKind::MEMORY | ResourceKind::EPHEMERAL_STORAGE => format_bytes(amount),
        _ => amount.to_string(),
    }
}

/// The request the API server sees once it has defaulted an unset request to the limit.
fn request_of(c: &ContainerResources, kind: ResourceKind) -> Option<i64> {
    if c.has_request(kind) {
        Some(c.requests.get(kind))
    } else if c.has_limit(kind) {
        Some(c.limits.get(kind))
    } else {
        None
    }
}

/// The limit a container sets.
fn limit_of(c: &ContainerResources, kind: ResourceKind) -> Option<i64> {
    c.has_limit(kind).then(|| c.limits.get(kind))
}

/// The requests and limits a constraint reads, per kind.
type Lookup<'a> = &'a dyn Fn(ResourceKind) -> (Option<i64>, Option<i64>);

/// `minConstraint`, `maxConstraint` and `limitRequestRatioConstraint` for one item.
fn check(
    limit_type: &str,
    names: &ResourceNames,
    min: &Amounts,
    max: &Amounts,
    ratio: &Amounts,
    of: Lookup<'_>,
    errs: &mut Vec<String>,
) {
    for &(kind, enforced) in min {
        let name = names.name(kind);
        let e = format_amount(kind, enforced);
        match of(kind) {
            (None, _) => errs.push(format!(
                "minimum {name} usage per {limit_type} is {e}.  No request is specified"
            )),
            (Some(req), _) if req < enforced => errs.push(format!(
                "minimum {name} usage per {limit_type} is {e}, but request is {}",
                format_amount(kind, req)
            )),
            (_, Some(lim)) if lim < enforced => errs.push(format!(
                "minimum {name} usage per {limit_type} is {e}, but limit is {}",
                format_amount(kind, lim)
            )),
            _ => {}
        }
    }
    for &(kind, enforced) in max {
        let name = names.name(kind);
        let e = format_amount(kind, enforced);
        match of(kind) {
            (_, None) => errs.push(format!(
                "maximum {name} usage per {limit_type} is {e}.  No limit is specified"
            )),
            (_, Some(lim)) if lim > enforced => errs.push(format!(
                "maximum {name} usage per {limit_type} is {e}, but limit is {}",
                format_amount(kind, lim)
            )),
            (Some(req), _) if req > enforced => errs.push(format!(
                "maximum {name} usage per {limit_type} is {e}, but request is {}",
                format_amount(kind, req)
            )),
            _ => {}
        }
    }
    for &(kind, milli) in ratio {
        let name = names.name(kind);
        let e = format_cpu_millis(milli);
        match of(kind) {
            (None | Some(0), _) => errs.push(format!(
                "{name} max limit to request ratio per {limit_type} is {e}, but no request is specified or request is 0"
            )),
            (_, None | Some(0)) => errs.push(format!(
                "{name} max limit to request ratio per {limit_type} is {e}, but no limit is specified or limit is 0"
            )),
            (Some(req), Some(lim)) => {
                // lim / req > milli / 1000, in integers.
                if i128::from(lim) * 1000 > i128::from(milli) * i128::from(req) {
                    errs.push(format!(
                        "{name} max limit to request ratio per {limit_type} is {e}, but provided ratio is {:.6}",
                        lim as f64 / req as f64
                    ));
                }
            }
        }
    }
}

/// The LimitRanger's defaults applied to `containers` (every list of the pod), then its
/// checks: `Err` holds upstream's message (the aggregate of every violation) once the
/// caller prefixes it with `pods "NAME" is forbidden: `.
pub fn limit_pod(
    ranges: &[&LimitRange],
    names: &ResourceNames,
    containers: &mut [ContainerResources],
    init_containers: &mut [ContainerResources],
    overhead: &Resources,
) -> Result<(), String> {
    for range in ranges {
        for item in &range.containers {
            for c in containers.iter_mut().chain(init_containers.iter_mut()) {
                // Requests first: a container that sets only a limit already has it as
                // its request (the API defaulted it before admission), but a limit
                // defaulted here does not become the request.
                for &(kind, amount) in &item.default_request {
                    if request_of(c, kind).is_none() {
                        c.set_request(kind, amount);
                    }
                }
                for &(kind, amount) in &item.default {
                    if !c.has_limit(kind) {
                        c.set_limit(kind, amount);
                    }
                }
            }
        }
    }
    let mut errs = Vec::new();
    for range in ranges {
        for item in &range.containers {
            for c in containers.iter().chain(init_containers.iter()) {
                check(
                    "Container",
                    names,
                    &item.min,
                    &item.max,
                    &item.max_ratio_milli,
                    &|k| (request_of(c, k), limit_of(c, k)),
                    &mut errs,
                );
            }
        }
        for item in &range.pods {
            let total = |f: &dyn Fn(&ContainerResources, ResourceKind) -> Option<i64>,
                         k: ResourceKind| {
                // Sum of the containers, at least the largest init container, plus the
                // overhead (`podRequests`/`podLimits`); absent when no container sets it.
                let sum = containers
                    .iter()
                    .filter_map(|c| f(c, k))
                    .reduce(|a, b| a + b);
                let init = init_containers.iter().filter_map(|c| f(c, k)).max();
                let v = match (sum, init) {
                    (None, None) => return None,
                    (s, i) => s.unwrap_or(0).max(i.unwrap_or(0)),
                };
                Some(v + overhead.get(k))
            };
            check(
                "Pod",
                names,
                &item.min,
                &item.max,
                &item.max_ratio_milli,
                &|k| (total(&request_of, k), total(&limit_of, k)),
                &mut errs,
            );
        }
    }
    match errs.len() {
        0 => Ok(()),
        1 => Err(errs.remove(0)),
        _ => Err(format!("[{}]", errs.join(", "))),
    }
}

/// A pod's limits as the quota counts them (`limits.X`): the containers' sum, at least
/// the largest init container's, plus the overhead; zero where nothing sets one.
pub fn pod_limits(t: &PodTemplate) -> Resources {
    let mut out = Resources::ZERO;
    for k in 0..schedulers::resources::NUM_RESOURCES {
        let kind = ResourceKind(k as u8);
        let sum: i64 = t.containers.iter().filter_map(|c| limit_of(c, kind)).sum();
        let init = t
            .init_containers
            .iter()
            .filter_map(|c| limit_of(c, kind))
            .max()
            .unwrap_or(0);
        let any = t
            .containers
            .iter()
            .chain(&t.init_containers)
            .any(|c| c.has_limit(kind));
        if any {
            out.set(kind, sum.max(init) + t.overhead.get(kind));
        }
    }
    out
}

/// What `pod` adds to a quota's `resource`.
fn usage_of(pod: &Pod, limits: &Resources, resource: QuotaResource) -> i64 {
    match resource {
        QuotaResource::Pods => 1,
        QuotaResource::Requests(k) => pod.requests.get(k),
        QuotaResource::Limits(k) => limits.get(k),
    }
}

/// True when `pod` still counts against its namespace's quotas (not Succeeded or Failed).
pub fn counts(pod: &Pod) -> bool {
    !matches!(
        pod.phase,
        schedulers::PodPhase::Succeeded | schedulers::PodPhase::Failed
    )
}

impl ResourceQuota {
    /// The pod evaluator's `Constraints`: every container (and init container) must set
    /// a request (or a limit, which the API copies to the request) for a tracked
    /// `cpu`/`memory`/`requests.*` entry of those two, and a limit for a tracked
    /// `limits.*` one. `Err` is the message after `failed quota: NAME: `.
    fn constraints(&self, t: &PodTemplate) -> Result<(), String> {
        let mut missing: Vec<(&str, Vec<&str>)> = Vec::new();
        for h in &self.hard {
            let (kind, needs_limit) = match h.resource {
                QuotaResource::Requests(k) => (k, false),
                QuotaResource::Limits(k) => (k, true),
                QuotaResource::Pods => continue,
            };
            if kind != ResourceKind::CPU && kind != ResourceKind::MEMORY {
                continue;
            }
            let mut who: Vec<&str> = t
                .containers
                .iter()
                .chain(&t.init_containers)
                .filter(|c| {
                    if needs_limit {
                        !c.has_limit(kind)
                    } else {
                        request_of(c, kind).is_none()
                    }
                })
                .map(|c| c.name.as_str())
                .collect();
            if !who.is_empty() {
                who.sort_unstable();
                who.dedup();
                missing.push((h.key.as_str(), who));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort_by(|a, b| a.0.cmp(b.0));
        let parts: Vec<String> = missing
            .iter()
            .map(|(key, who)| format!("{key} for: {}", who.join(",")))
            .collect();
        Err(format!("must specify {}", parts.join("; ")))
    }

    /// Whether creating `pod` keeps this quota within `hard`, given the namespace's
    /// pods that count (`used`, summed by [`ResourceQuota::usage`]). `Err` is upstream's
    /// message without the `pods "NAME" is forbidden: ` prefix.
    pub fn admit(&self, pod: &Pod, used: &[i64]) -> Result<(), String> {
        self.constraints(&pod.template)
            .map_err(|m| format!("failed quota: {}: {m}", self.name))?;
        let limits = pod_limits(&pod.template);
        let mut requested = Vec::new();
        let mut was = Vec::new();
        let mut hard = Vec::new();
        for (i, h) in self.hard.iter().enumerate() {
            let delta = usage_of(pod, &limits, h.resource);
            // Only what the pod asks for is compared (`Mask(newUsage, requested)` after
            // zeros are dropped).
            if delta == 0 {
                continue;
            }
            if used[i].saturating_add(delta) > h.amount {
                let kind = match h.resource {
                    QuotaResource::Pods => ResourceKind::PODS,
                    QuotaResource::Requests(k) | QuotaResource::Limits(k) => k,
                };
                let show = |v: i64| format!("{}={}", h.key, format_amount(kind, v));
                requested.push(show(delta));
                was.push(show(used[i]));
                hard.push(show(h.amount));
            }
        }
        if requested.is_empty() {
            return Ok(());
        }
        Err(format!(
            "exceeded quota: {}, requested: {}, used: {}, limited: {}",
            self.name,
            requested.join(","),
            was.join(","),
            hard.join(",")
        ))
    }

    /// What `pods` (the namespace's pods that count) use of each `hard` entry.
    pub fn usage<'a>(&self, pods: impl Iterator<Item = &'a Pod>) -> Vec<i64> {
        let mut used = vec![0i64; self.hard.len()];
        for pod in pods {
            let limits = if self
                .hard
                .iter()
                .any(|h| matches!(h.resource, QuotaResource::Limits(_)))
            {
                pod_limits(&pod.template)
            } else {
                Resources::ZERO
            };
            for (i, h) in self.hard.iter().enumerate() {
                used[i] = used[i].saturating_add(usage_of(pod, &limits, h.resource));
            }
        }
        used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ResourceNames {
        ResourceNames::default()
    }

    fn container(
        name: &str,
        req: &[(ResourceKind, i64)],
        lim: &[(ResourceKind, i64)],
    ) -> ContainerResources {
        let mut c = ContainerResources {
            name: name.into(),
            ..Default::default()
        };
        for &(k, v) in req {
            c.set_request(k, v);
        }
        for &(k, v) in lim {
            c.set_limit(k, v);
        }
        c
    }

    fn range(containers: Vec<ContainerLimits>, pods: Vec<PodLimits>) -> LimitRange {
        LimitRange {
            name: "limits".into(),
            namespace: "default".into(),
            containers,
            pods,
        }
    }

    const CPU: ResourceKind = ResourceKind::CPU;
    const MEM: ResourceKind = ResourceKind::MEMORY;

    /// Mirrors limitranger's TestMergePodResourceRequirements (defaults fill a
    /// container that sets nothing; a container with some resources enumerated keeps
    /// them and gets only the rest).
    #[test]
    fn defaults_fill_only_what_a_container_leaves_unset() {
        let r = range(
            vec![ContainerLimits {
                default: vec![(CPU, 500), (MEM, 256 << 20)],
                default_request: vec![(CPU, 250), (MEM, 128 << 20)],
                ..Default::default()
            }],
            vec![],
        );
        let mut cs = vec![
            container("bare", &[], &[]),
            container("own", &[(CPU, 100)], &[]),
            container("limited", &[], &[(MEM, 64 << 20)]),
        ];
        limit_pod(&[&r], &names(), &mut cs, &mut [], &Resources::ZERO).unwrap();
        assert_eq!((cs[0].requests.get(CPU), cs[0].limits.get(CPU)), (250, 500));
        assert_eq!(
            (cs[0].requests.get(MEM), cs[0].limits.get(MEM)),
            (128 << 20, 256 << 20)
        );
        assert_eq!((cs[1].requests.get(CPU), cs[1].limits.get(CPU)), (100, 500));
        // Its limit is its request already: defaultRequest does not apply.
        assert!(!cs[2].has_request(MEM));
        assert_eq!(request_of(&cs[2], MEM), Some(64 << 20));
    }

    /// Like the error cases of limitranger's TestPodLimitFunc (a container over `max`, a
    /// container and a pod under `min`), with `maxConstraint`'s and `minConstraint`'s
    /// messages.
    #[test]
    fn min_and_max_are_refused_with_upstreams_wording() {
        let r = range(
            vec![ContainerLimits {
                max: vec![(CPU, 2000)],
                min: vec![(MEM, 64 << 20)],
                ..Default::default()
            }],
            vec![],
        );
        let mut cs = vec![container(
            "app",
            &[(CPU, 1000), (MEM, 1 << 30)],
            &[(CPU, 4000)],
        )];
        assert_eq!(
            limit_pod(&[&r], &names(), &mut cs, &mut [], &Resources::ZERO),
            Err("maximum cpu usage per Container is 2, but limit is 4".into())
        );
        let mut cs = vec![container("app", &[(MEM, 32 << 20)], &[])];
        assert_eq!(
            limit_pod(&[&r], &names(), &mut cs, &mut [], &Resources::ZERO),
            // Upstream's order: each container's `min` checks, then its `max` checks.
            Err("[minimum memory usage per Container is 64Mi, but request is 32Mi, maximum cpu usage per Container is 2.  No limit is specified]".into())
        );
        let p = range(
            vec![],
            vec![PodLimits {
                min: vec![(CPU, 1000)],
                ..Default::default()
            }],
        );
        let mut cs = vec![
            container("a", &[(CPU, 300)], &[]),
            container("b", &[(CPU, 300)], &[]),
        ];
        assert_eq!(
            limit_pod(&[&p], &names(), &mut cs, &mut [], &Resources::ZERO),
            Err("minimum cpu usage per Pod is 1, but request is 600m".into())
        );
    }

    #[test]
    fn the_ratio_is_checked_in_integers() {
        let r = range(
            vec![ContainerLimits {
                max_ratio_milli: vec![(CPU, 2000)],
                ..Default::default()
            }],
            vec![],
        );
        let mut ok = vec![container("a", &[(CPU, 500)], &[(CPU, 1000)])];
        assert_eq!(
            limit_pod(&[&r], &names(), &mut ok, &mut [], &Resources::ZERO),
            Ok(())
        );
        let mut over = vec![container("a", &[(CPU, 500)], &[(CPU, 1500)])];
        assert_eq!(
            limit_pod(&[&r], &names(), &mut over, &mut [], &Resources::ZERO),
            Err(
                "cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000"
                    .into()
            )
        );
    }
}
