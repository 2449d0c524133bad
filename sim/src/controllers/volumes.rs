//! The PersistentVolume controller's and VolumeBinding's PreBind work for a pod just
//! bound: each of its unbound WaitForFirstConsumer claims, smallest first, gets the
//! smallest available PersistentVolume of its class that the node can reach, else a
//! volume provisioned in the node's zone. (Immediate claims were bound when the cluster
//! was set up.)

use schedulers::PodId;
use schedulers::volumes::VolumeBindingMode;

use crate::controllers::Controller;
use crate::engine::Ctx;
use crate::observe::Fact;

/// The volume binder has no events of its own: it only reacts to binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VolumeEvent {}

/// Binds and provisions volumes for pods' claims.
#[derive(Debug, Default)]
pub struct VolumeBinder;

impl VolumeBinder {
    /// Binds the claims of `pod`, just bound to its node; true if any claim was bound.
    fn bind_claims(&mut self, pod: PodId, ctx: &mut Ctx<'_>) -> bool {
        let Some(p) = ctx.cluster.pod(pod) else {
            return false;
        };
        let Some(node) = p.node else {
            return false;
        };
        if p.template.volume_claims.is_empty() {
            return false;
        }
        let template = p.template.clone();
        let spec = ctx.cluster.node(node).spec.clone();
        let volumes = ctx.cluster.volumes_mut();
        let mut changed = false;
        // Smallest claims first, as the scheduler matched them.
        let mut claims: Vec<&String> = template.volume_claims.iter().collect();
        claims.sort_by_key(|name| {
            volumes
                .claim(&template.namespace, name)
                .map_or(0, |c| c.request)
        });
        for name in claims {
            let Some(claim) = volumes.claim(&template.namespace, name) else {
                continue;
            };
            let Some(class) = volumes.class(&claim.storage_class) else {
                continue;
            };
            if claim.bound_volume.is_some()
                || class.volume_binding_mode != VolumeBindingMode::WaitForFirstConsumer
            {
                continue;
            }
            // A pod that named its node skipped VolumeBinding: the class may not allow it.
            let provisionable = class.allows(&spec.labels, &spec.name);
            let matching = volumes
                .find_matching_volume(claim, Some((&spec.labels, &spec.name)))
                .map(|v| v.name.clone());
            let result = match matching {
                Some(v) => volumes.bind(&template.namespace, name, &v),
                None if provisionable => volumes
                    .provision(&template.namespace, name, Some(&spec.labels))
                    .map(|_| ()),
                None => continue,
            };
            changed |= result.is_ok();
        }
        changed
    }
}

impl Controller for VolumeBinder {
    type Event = VolumeEvent;

    fn on(&mut self, event: VolumeEvent, _ctx: &mut Ctx<'_>) {
        match event {}
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        if let Fact::PodBound { pod, .. } = fact
            && self.bind_claims(*pod, ctx)
        {
            // Other pods waiting on these claims may fit now (upstream requeues on PVC
            // and PV updates).
            ctx.publish(Fact::VolumesBound { pod: *pod });
        }
    }
}
