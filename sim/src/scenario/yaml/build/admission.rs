//! LimitRanges and ResourceQuotas: their specs read into [`LimitRange`] and
//! [`ResourceQuota`] (see [`crate::scenario::admission`] for what they do). The
//! `manifests:` objects of these kinds are read by the raw structs here, field paths as
//! the manifest spells them (`spec.hard["requests.cpu"]`, `spec.limits[0].max.cpu`).

use schedulers::ResourceKind;
use schedulers::field_path;
use schedulers::yaml::QuantityMap;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Builder, Result};
use crate::scenario::admission::{
    Amounts, ContainerLimits, Hard, LimitRange, PodLimits, QuotaResource, ResourceQuota,
};

/// A ResourceQuota's `spec`; `scopes` and `scopeSelector` are warned about as unmodelled.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawQuotaSpec {
    /// `hard`.
    pub(super) hard: Option<QuantityMap>,
}

/// A LimitRange's `spec`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawLimitRangeSpec {
    /// `limits`.
    pub(super) limits: Option<Vec<Spanned<RawLimitItem>>>,
}

/// One `spec.limits[]` item.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawLimitItem {
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    default: Option<QuantityMap>,
    default_request: Option<QuantityMap>,
    min: Option<QuantityMap>,
    max: Option<QuantityMap>,
    max_limit_request_ratio: Option<QuantityMap>,
}

/// Keys read but not modelled, with the field path each is warned about at.
pub(super) type Skipped = Vec<(Spanned<String>, String)>;

/// Sets `kind` to `amount` in `list`, replacing an entry of the same kind.
fn put(list: &mut Amounts, kind: ResourceKind, amount: i64) {
    match list.iter_mut().find(|(k, _)| *k == kind) {
        Some(e) => e.1 = amount,
        None => list.push((kind, amount)),
    }
}

impl Builder<'_> {
    /// The amounts of a LimitRange item's map, by resource name.
    fn amounts(&mut self, map: Option<&QuantityMap>, base: &str, ratio: bool) -> Result<Amounts> {
        let mut out = Amounts::new();
        let Some(map) = map else {
            return Ok(out);
        };
        for (key, value) in &map.0 {
            let field = field_path::key(base, &key.value);
            let kind = self.kube.pod_resource_kind(&mut self.names, key, &field)?;
            let amount = if ratio {
                // A ratio is a plain number (`2`, `1.5`), kept in thousandths.
                self.kube.quantity(ResourceKind::CPU, value, &field)?
            } else {
                self.kube.quantity(kind, value, &field)?
            };
            put(&mut out, kind, amount);
        }
        let names = &self.names;
        out.sort_by(|a, b| names.name(a.0).cmp(names.name(b.0)));
        Ok(out)
    }

    /// A LimitRange `name` in `namespace` from its spec (`base` is the spec's path).
    pub(super) fn limit_range(
        &mut self,
        name: String,
        namespace: String,
        spec: &RawLimitRangeSpec,
        base: &str,
    ) -> Result<(LimitRange, Skipped)> {
        let mut range = LimitRange {
            name,
            namespace,
            containers: Vec::new(),
            pods: Vec::new(),
        };
        let mut skipped = Vec::new();
        for (i, item) in spec.limits.iter().flatten().enumerate() {
            let b = format!("{base}.limits[{i}]");
            let raw = &item.value;
            let Some(kind) = &raw.kind else {
                return Err(self.kube.err(
                    &item.referenced,
                    &format!("{b}.type"),
                    "missing required field `type` (Container or Pod)",
                ));
            };
            if kind.value == "PersistentVolumeClaim" {
                // Claims' storage limits do not concern scheduling.
                skipped.push((kind.clone(), format!("{b}.type")));
                continue;
            }
            let min = self.amounts(raw.min.as_ref(), &format!("{b}.min"), false)?;
            let max = self.amounts(raw.max.as_ref(), &format!("{b}.max"), false)?;
            let max_ratio_milli = self.amounts(
                raw.max_limit_request_ratio.as_ref(),
                &format!("{b}.maxLimitRequestRatio"),
                true,
            )?;
            match kind.value.as_str() {
                "Container" => {
                    let mut default =
                        self.amounts(raw.default.as_ref(), &format!("{b}.default"), false)?;
                    let mut default_request = self.amounts(
                        raw.default_request.as_ref(),
                        &format!("{b}.defaultRequest"),
                        false,
                    )?;
                    // SetDefaults_LimitRangeItem: `max` stands in for an absent default
                    // limit, then the default limit, then `min`, for an absent default
                    // request.
                    for &(k, v) in &max {
                        if !default.iter().any(|e| e.0 == k) {
                            default.push((k, v));
                        }
                    }
                    for &(k, v) in default.iter().chain(&min) {
                        if !default_request.iter().any(|e| e.0 == k) {
                            default_request.push((k, v));
                        }
                    }
                    let names = &self.names;
                    default.sort_by(|a, b| names.name(a.0).cmp(names.name(b.0)));
                    default_request.sort_by(|a, b| names.name(a.0).cmp(names.name(b.0)));
                    range.containers.push(ContainerLimits {
                        default,
                        default_request,
                        min,
                        max,
                        max_ratio_milli,
                    });
                }
                "Pod" => {
                    for (key, map) in [
                        ("default", &raw.default),
                        ("defaultRequest", &raw.default_request),
                    ] {
                        if let Some((k, _)) = map.as_ref().and_then(|m| m.0.first()) {
                            return Err(self.kube.err(
                                &k.referenced,
                                &format!("{b}.{key}"),
                                format!("`{key}` may only be set for type Container"),
                            ));
                        }
                    }
                    range.pods.push(PodLimits {
                        min,
                        max,
                        max_ratio_milli,
                    });
                }
                other => {
                    return Err(self.kube.err(
                        &kind.referenced,
                        &format!("{b}.type"),
                        format!(
                            "unsupported type {other:?}: expected Container, Pod or PersistentVolumeClaim"
                        ),
                    ));
                }
            }
        }
        Ok((range, skipped))
    }

    /// A ResourceQuota `name` in `namespace` from its spec; `hard` entries schedlab does
    /// not count (object counts other than pods, storage) are returned as warnings.
    pub(super) fn resource_quota(
        &mut self,
        name: String,
        namespace: String,
        spec: &RawQuotaSpec,
        base: &str,
    ) -> Result<(ResourceQuota, Skipped)> {
        let mut hard = Vec::new();
        let mut skipped = Vec::new();
        let hard_base = format!("{base}.hard");
        for (key, value) in spec.hard.iter().flat_map(|m| &m.0) {
            let field = field_path::key(&hard_base, &key.value);
            let k = key.value.as_str();
            let resource = match k {
                "pods" | "count/pods" => Some(QuotaResource::Pods),
                "cpu" | "memory" | "ephemeral-storage" => Some(QuotaResource::Requests(
                    self.kube.resource_kind(&mut self.names, key, &field)?,
                )),
                _ => {
                    let (prefix, rest) = k.split_once('.').unwrap_or(("", k));
                    let inner = Spanned::new(rest.to_owned(), key.referenced, key.defined);
                    let builtin = matches!(rest, "cpu" | "memory" | "ephemeral-storage");
                    match prefix {
                        // `requests.storage` counts claims, which the quota here does not.
                        "requests" if rest != "storage" => Some(QuotaResource::Requests(
                            self.kube
                                .pod_resource_kind(&mut self.names, &inner, &field)?,
                        )),
                        "limits" if builtin => Some(QuotaResource::Limits(
                            self.kube
                                .pod_resource_kind(&mut self.names, &inner, &field)?,
                        )),
                        _ => None,
                    }
                }
            };
            let Some(resource) = resource else {
                skipped.push((key.clone(), field));
                continue;
            };
            let kind = match resource {
                QuotaResource::Pods => ResourceKind::PODS,
                QuotaResource::Requests(k) | QuotaResource::Limits(k) => k,
            };
            let amount = self.kube.quantity(kind, value, &field)?;
            if let Some(first) = hard.iter().find(|h: &&Hard| h.key == k) {
                return Err(self.kube.err(
                    &key.referenced,
                    &field,
                    format!("duplicate key {:?} (already {})", first.key, first.amount),
                ));
            }
            hard.push(Hard {
                key: k.to_owned(),
                resource,
                amount,
            });
        }
        hard.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((
            ResourceQuota {
                name,
                namespace,
                hard,
            },
            skipped,
        ))
    }
}
