//! A `statefulSet:` workload's own keys: `podManagementPolicy` and `volumeClaimTemplates`.
//! Each template becomes one PersistentVolumeClaim per ordinal, named as upstream's
//! StatefulSet controller names them (`getPersistentVolumeClaimName` in
//! pkg/controller/statefulset/stateful_set_utils.go: `<template>-<set>-<ordinal>`),
//! created with the scenario's storage for the ordinals below the set's `replicas` (the
//! pods the set makes first, when it is created). The claims of ordinals an autoscaler
//! adds are made by the StatefulSet controller when it first creates that ordinal's pod,
//! as upstream's `createMissingPersistentVolumeClaims` (stateful_pod_control.go) does
//! for every ordinal ([`crate::controllers::statefulsets`]). Simplified: for the first
//! ordinals upstream too makes them with the pod, so an Immediate claim binds at time
//! zero here rather than when its ordinal's pod is created. Each claim asks for the
//! template's `accessModes`.

use schedulers::PodTemplate;
use schedulers::volumes::PersistentVolumeClaim;
use schedulers::yaml::message::quoted;
use schedulers::yaml::names::dns_subdomain_error;
use serde_saphyr::Spanned;

use super::super::raw::{RawClaimTemplate, RawWorkload};
use super::{Builder, Result};
use crate::scenario::{ClaimRetention, ClaimTemplate, PodManagementPolicy};

/// The claim of `template` for ordinal `ordinal` of the StatefulSet `set`.
pub(crate) fn claim_name(template: &str, set: &str, ordinal: u32) -> String {
    format!("{template}-{set}-{ordinal}")
}

/// Most claims one StatefulSet's templates may make (replicas times templates).
pub(crate) const MAX_CLAIMS: u64 = 100_000;

impl Builder<'_> {
    /// A StatefulSet's `podManagementPolicy` and the names of its `volumeClaimTemplates`,
    /// whose claims for ordinals `0..replicas` (the set's own replicas) are added to the
    /// scenario's storage.
    pub(super) fn stateful_set(
        &mut self,
        raw: &RawWorkload,
        template: &PodTemplate,
        replicas: u32,
        base: &str,
    ) -> Result<(PodManagementPolicy, Vec<ClaimTemplate>, ClaimRetention)> {
        let policy = match &raw.pod_management_policy {
            None => PodManagementPolicy::OrderedReady,
            Some(v) => self.kube.spelled::<PodManagementPolicy>(
                v,
                &format!("{base}.podManagementPolicy"),
                "pod management policy",
            )?,
        };
        let mut when_scaled = ClaimRetention::Retain;
        if let Some(p) = &raw.persistent_volume_claim_retention_policy {
            let cases = [
                ("whenDeleted", &p.value.when_deleted),
                ("whenScaled", &p.value.when_scaled),
            ];
            for (key, v) in cases {
                let Some(v) = v else { continue };
                let retention = self.kube.spelled::<ClaimRetention>(
                    v,
                    &format!("{base}.persistentVolumeClaimRetentionPolicy.{key}"),
                    "claim retention",
                )?;
                // whenDeleted: no StatefulSet is deleted during a run, so it never applies.
                if key == "whenScaled" {
                    when_scaled = retention;
                }
            }
        }
        let mut templates: Vec<ClaimTemplate> = Vec::new();
        let Some(list) = &raw.volume_claim_templates else {
            return Ok((policy, templates, when_scaled));
        };
        // Claims are made when the scenario loads, one per ordinal and template: a count
        // no cluster runs would only exhaust memory before any limit is checked.
        let claims = u64::from(replicas).saturating_mul(list.value.len() as u64);
        if claims > MAX_CLAIMS {
            let at = raw
                .replicas
                .as_ref()
                .map_or(&list.referenced, |r| &r.referenced);
            return Err(self.kube.err(
                at,
                &format!("{base}.replicas"),
                format!(
                    "{replicas} replicas with {} volume claim template(s) would make {claims} \
                     claims; a statefulSet may have at most {MAX_CLAIMS} claims",
                    list.value.len()
                ),
            ));
        }
        for (i, item) in list.value.iter().enumerate() {
            let tbase = format!("{base}.volumeClaimTemplates[{i}]");
            let claim_template =
                self.claim_template(&item.value, template, replicas, &templates, &tbase)?;
            templates.push(claim_template);
        }
        Ok((policy, templates, when_scaled))
    }

    /// One claim template, after adding its claims.
    fn claim_template(
        &mut self,
        raw: &RawClaimTemplate,
        template: &PodTemplate,
        replicas: u32,
        earlier: &[ClaimTemplate],
        base: &str,
    ) -> Result<ClaimTemplate> {
        let name_v: &Spanned<String> = &raw.metadata.value.name;
        let name_field = format!("{base}.metadata.name");
        let name = self.storage_name(name_v, &name_field, "volume claim template")?;
        if earlier.iter().any(|t| t.name == name) {
            return Err(self.kube.err(
                &name_v.referenced,
                &name_field,
                format!("duplicate volume claim template {}", quoted(&name)),
            ));
        }
        let spec = &raw.spec.value;
        let access_modes = self.access_modes(
            spec.access_modes.as_ref(),
            &format!("{base}.spec.accessModes"),
        )?;
        let request = self.storage(
            &spec.resources.value.requests.value,
            &format!("{base}.spec.resources.requests.storage"),
        )?;
        let storage_class = self.claim_class_name(
            spec.storage_class_name.as_ref(),
            &format!("{base}.spec.storageClassName"),
        )?;
        let namespace = &template.namespace;
        for ordinal in 0..replicas {
            let claim = claim_name(&name, &template.name, ordinal);
            let clash = self.volumes.claim(namespace, &claim).is_some();
            if clash && self.adopt_claims {
                continue;
            }
            if let Some(why) = dns_subdomain_error(&claim).or(clash.then(|| {
                "persistentVolumeClaims already has a claim of that name in the namespace"
                    .to_owned()
            })) {
                return Err(self.kube.err(
                    &name_v.referenced,
                    &name_field,
                    format!("the claim {} of ordinal {ordinal}: {why}", quoted(&claim)),
                ));
            }
            self.volumes
                .add_claim(PersistentVolumeClaim {
                    name: claim,
                    namespace: namespace.clone(),
                    storage_class: storage_class.clone(),
                    request,
                    bound_volume: None,
                    access_modes,
                })
                .expect("the name was checked to be new");
        }
        Ok(ClaimTemplate {
            name,
            storage_class,
            request,
            access_modes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, load};
    use crate::scenario::{ClaimRetention, ClaimTemplate, PodManagementPolicy, WorkloadKind};
    use crate::time::SimTime;
    use schedulers::volumes::{AccessMode, AccessModes};

    const STORAGE: &str = "storageClasses:
  - {name: zonal, volumeBindingMode: WaitForFirstConsumer}
";

    #[test]
    fn a_stateful_set_gets_one_claim_per_ordinal_and_template() {
        let s = load(&format!(
            "{STORAGE}workloads:
  - statefulSet: db
    replicas: 2
    namespace: data
    at: 1m
    requests: {{cpu: 500m}}
    volumeClaimTemplates:
      - metadata: {{name: data}}
        spec: {{accessModes: [ReadWriteOnce], storageClassName: zonal, resources: {{requests: {{storage: 1Gi}}}}}}
      - metadata: {{name: logs}}
        spec: {{storageClassName: zonal, resources: {{requests: {{storage: 100Mi}}}}}}
"
        ));
        assert_eq!(
            s.workloads[0].kind,
            WorkloadKind::StatefulSet {
                at: SimTime::from_secs(60),
                replicas: 2,
                pod_management: PodManagementPolicy::OrderedReady,
                claim_templates: vec![
                    ClaimTemplate {
                        name: "data".into(),
                        storage_class: "zonal".into(),
                        request: 1 << 30,
                        access_modes: AccessModes::of(&[AccessMode::ReadWriteOnce]),
                    },
                    ClaimTemplate {
                        name: "logs".into(),
                        storage_class: "zonal".into(),
                        request: 100 << 20,
                        access_modes: AccessModes::NONE,
                    },
                ],
                when_scaled: ClaimRetention::Retain,
            }
        );
        assert_eq!(
            s.workloads[0].template.owner,
            schedulers::OwnerKind::StatefulSet
        );
        let claims: Vec<(&str, &str, i64)> = s
            .volumes
            .claims()
            .iter()
            .map(|c| (c.namespace.as_str(), c.name.as_str(), c.request))
            .collect();
        assert_eq!(
            claims,
            [
                ("data", "data-db-0", 1 << 30),
                ("data", "data-db-1", 1 << 30),
                ("data", "logs-db-0", 100 << 20),
                ("data", "logs-db-1", 100 << 20),
            ]
        );
        let s = load("workloads: [{statefulSet: w, replicas: 3, podManagementPolicy: Parallel}]");
        assert!(matches!(
            s.workloads[0].kind,
            WorkloadKind::StatefulSet {
                pod_management: PodManagementPolicy::Parallel,
                ..
            }
        ));
    }

    #[test]
    fn stateful_set_errors_are_located() {
        check_at(
            "workloads: [{statefulSet: w, replicas: 1, podManagementPolicy: OrderReady}]\n",
            "OrderReady}",
            "workloads[0].podManagementPolicy",
            "unknown pod management policy \"OrderReady\" (did you mean OrderedReady?); expected OrderedReady or Parallel",
        );
        check_at(
            "workloads: [{statefulSet: w}]\n",
            "{statefulSet",
            "workloads[0].replicas",
            "missing required field `replicas` (how many pods the statefulSet keeps running)",
        );
        check_at(
            "workloads: [{deployment: d, replicas: 1, podManagementPolicy: Parallel}]\n",
            "Parallel}",
            "workloads[0].podManagementPolicy",
            "`podManagementPolicy` applies to statefulSet workloads only, not to a deployment",
        );
        let tmpl = |spec: &str| {
            format!(
                "{STORAGE}workloads:\n  - statefulSet: w\n    replicas: 1\n    volumeClaimTemplates: [{{metadata: {{name: data}}, spec: {spec}}}]\n"
            )
        };
        // Claims are made as the scenario loads: a fuzzed replica count must be refused,
        // not allocated.
        check_at(
            &tmpl("{resources: {requests: {storage: 1Gi}}}")
                .replace("replicas: 1", "replicas: 2147483648"),
            "2147483648",
            "workloads[0].replicas",
            "2147483648 replicas with 1 volume claim template(s) would make 2147483648 claims; a statefulSet may have at most 100000 claims",
        );
        check_at(
            &tmpl("{storageClassName: zonl, resources: {requests: {storage: 1Gi}}}"),
            "zonl",
            "workloads[0].volumeClaimTemplates[0].spec.storageClassName",
            "unknown storage class \"zonl\" (did you mean zonal?); storageClasses defines zonal",
        );
        check_at(
            &tmpl("{accessModes: [ReadWriteOne], resources: {requests: {storage: 1Gi}}}"),
            "ReadWriteOne]",
            "workloads[0].volumeClaimTemplates[0].spec.accessModes[0]",
            "unknown access mode \"ReadWriteOne\" (did you mean ReadWriteOnce?); expected ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod",
        );
        check_at(
            &tmpl("{resources: {requests: {storage: 0}}}"),
            "0}}}",
            "workloads[0].volumeClaimTemplates[0].spec.resources.requests.storage",
            "expected a positive size, got 0",
        );
        check_at(
            &tmpl("{resources: {requests: {storage: 1Gi}}}").replace(
                "    volumeClaimTemplates",
                "    persistentVolumeClaimRetentionPolicy: {whenScaled: Delet}\n    volumeClaimTemplates",
            ),
            "Delet}",
            "workloads[0].persistentVolumeClaimRetentionPolicy.whenScaled",
            "unknown claim retention \"Delet\" (did you mean Delete?); expected Retain or Delete",
        );
        check_at(
            &format!(
                "{STORAGE}persistentVolumeClaims: [{{name: data-w-0, resources: {{requests: {{storage: 1Gi}}}}}}]\nworkloads:\n  - statefulSet: w\n    replicas: 1\n    volumeClaimTemplates: [{{metadata: {{name: data}}, spec: {{resources: {{requests: {{storage: 1Gi}}}}}}}}]\n"
            ),
            "data}",
            "workloads[0].volumeClaimTemplates[0].metadata.name",
            "the claim \"data-w-0\" of ordinal 0: persistentVolumeClaims already has a claim of that name in the namespace",
        );
    }
}
