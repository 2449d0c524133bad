//! The StatefulSet controller (upstream's pkg/controller/statefulset,
//! `StatefulSetControl.UpdateStatefulSet`): each set keeps one pod per ordinal,
//! `NAME-0` ... `NAME-(replicas-1)`, and a pod that is lost is recreated with the same
//! ordinal, name and claims (`<template>-<NAME>-<ordinal>`), so a replacement is bound
//! wherever its volumes are: a zonal volume keeps the ordinal in its zone.
//!
//! `podManagementPolicy: OrderedReady` (the default) walks the ordinals in order and stops
//! at the first that is missing (it creates it) or not Running and Ready, so ordinal
//! `i+1` is created only once `i` runs, and a lost ordinal is recreated before anything
//! above it. `Parallel` creates every missing ordinal at once. As upstream, a pod being
//! deleted is not replaced until it is gone (at most one pod per identity). A creation
//! the API server refuses (a ResourceQuota, a LimitRange) ends the sync, which is
//! requeued with the controller's rate limiter (5 ms doubling to 1000 s); `Parallel`
//! stops at that ordinal too, where upstream would try the others in the same pass.
//!
//! A cluster snapshot's pods (`Workload::adopted`, with their ordinals) exist already
//! when the set is created: at its first sync each adopted ordinal's pod is created
//! first, whatever the policy, named and claimed as its ordinal and pinned to the
//! snapshot's node by `nodeName`, so the kubelet admits it there without the scheduler
//! (as upstream finds the pod already running); the missing ordinals then follow the
//! policy. An adopted pod runs what is left of its `duration` (`Workload::adopted_ran`).
//! A replacement of an adopted pod is scheduled as any other.
//!
//! Replicas change when a HorizontalPodAutoscaler scales the set ([`Fact::Scaled`], the
//! same autoscaler as a Deployment's). As upstream's `updateStatefulSet`
//! (pkg/controller/statefulset/stateful_set_control.go, v1.35), the pods of ordinals at
//! or above the replicas are condemned and deleted highest ordinal first, after every
//! ordinal below the replicas has been processed: under OrderedReady only once those all
//! run and are Ready, one at a time, each after the previous has terminated (a condemned
//! pod that is not Running and Ready blocks unless it is the lowest such one, upstream's
//! `firstUnhealthyPod`); under Parallel all at once. A scale-up creates the new ordinals
//! by the policy as above, making the claims of an ordinal that has none when its pod is
//! first created (`createMissingPersistentVolumeClaims`, stateful_pod_control.go; the
//! loader makes those of the set's first `replicas` ordinals). A deleted ordinal's
//! claims stay (the default `persistentVolumeClaimRetentionPolicy.whenScaled`, Retain)
//! and are the ones its pod takes again when a scale-up brings the ordinal back; under
//! `whenScaled: Delete` they are deleted once its pod is gone, and a scale-up makes new
//! ones. `whenDeleted` never applies: no StatefulSet is deleted during a run.
//!
//! Simplified: no readiness probes, so a pod is Ready as soon as it runs (no
//! `minReadySeconds`); no rolling updates or revisions; a pod that ran for no time, or was refused rather than
//! evicted, is recreated after the kubelet's initial crash-loop back-off (10 s) rather
//! than upstream's immediate delete-and-recreate, which would spin at one instant.

use std::sync::Arc;

use rand::rngs::ChaCha8Rng;
use schedulers::volumes::PersistentVolumeClaim;
use schedulers::{Pod, PodId, PodPhase, PodTemplate};

use crate::controllers::Controller;
use crate::controllers::admission::{self, CreateBackoff};
use crate::controllers::kubelet::KubeletEvent;
use crate::controllers::workloads::{CRASH_LOOP_BACKOFF, left_to_run, owned_pod};
use crate::engine::{Ctx, Event};
use crate::observe::{EvictionReason, Fact};
use crate::rng::{Concern, stream};
use crate::scenario::{ClaimRetention, ClaimTemplate, PodManagementPolicy, Scenario, WorkloadKind};
use crate::time::SimTime;

/// The label upstream sets on each pod to its name (`apps/v1` StatefulSetPodNameLabel).
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
/// The label upstream sets on each pod to its ordinal (`apps/v1` PodIndexLabel).
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// The StatefulSet controller's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatefulSetEvent {
    /// A set reconciles: at its creation time, and when a held-back ordinal may be
    /// recreated.
    Sync {
        /// The set's index among the scenario's StatefulSets.
        set: u32,
    },
    /// A set reconciles again after the API server refused one of its pods.
    Retry {
        /// The set's index among the scenario's StatefulSets.
        set: u32,
    },
}

impl StatefulSetEvent {
    /// A retry waits for a pod of its namespace to free its quota, so it does not keep
    /// a run without a horizon alive (as an unschedulable pod's periodic retry does not).
    pub(crate) fn keeps_run_alive(&self) -> bool {
        matches!(self, StatefulSetEvent::Sync { .. })
    }
}

/// One StatefulSet.
#[derive(Debug)]
struct Set {
    workload: u32,
    policy: PodManagementPolicy,
    /// `spec.replicas`: the scenario's, then the autoscaler's.
    replicas: usize,
    /// Created: its creation time has come.
    live: bool,
    /// Per ordinal ever wanted: its template (the set's, with its own claims and
    /// labels), its pod, when it may be recreated, and whether the set is deleting its
    /// pod (condemned by a scale-down); longer than `replicas` after a scale-down.
    templates: Vec<Arc<PodTemplate>>,
    pods: Vec<Option<PodId>>,
    not_before: Vec<SimTime>,
    deleting: Vec<bool>,
    /// Per ordinal: a snapshot's pod's template, pinned to its node, and how long that
    /// pod had run (`Workload::adopted_ran`), for its first creation only; empty when
    /// there is none left to adopt.
    pinned: Vec<Option<(Arc<PodTemplate>, SimTime)>>,
    /// The workload's duration stream (the workload controllers create none of its pods).
    durations: ChaCha8Rng,
    /// The requeue after refused creations.
    backoff: CreateBackoff,
}

impl Set {
    /// Creates ordinal `i`'s pod from `template`, a snapshot's pod having run `ran`
    /// already; false when the API server refused it (the sync then fails and is
    /// requeued with the rate limiter).
    fn create(
        &mut self,
        set: usize,
        i: usize,
        template: Arc<PodTemplate>,
        ran: SimTime,
        ctx: &mut Ctx<'_>,
    ) -> bool {
        let w = self.workload as usize;
        make_claims(ctx, w, i as u32);
        let (mut pod, run_for) = owned_pod(
            Pod::from_template(template, i as u32),
            &ctx.scenario.workloads[w],
            w,
            &mut self.durations,
            ctx.now,
        );
        let run_for = left_to_run(&mut pod, run_for, ran);
        let Some(id) = admission::create_pod(ctx, pod, run_for) else {
            let retry = Event::StatefulSets(StatefulSetEvent::Retry { set: set as u32 });
            self.backoff.requeue(ctx, retry);
            return false;
        };
        self.backoff.succeeded();
        self.pods[i] = Some(id);
        true
    }
}

impl Set {
    /// Upstream's pass over the condemned pods (ordinals at or above `replicas`),
    /// highest ordinal first: deletes them one at a time under OrderedReady (`ordered`),
    /// all at once under Parallel.
    fn condemn(&mut self, ordered: bool, ctx: &mut Ctx<'_>) {
        let condemned = self.replicas.min(self.pods.len())..self.pods.len();
        // The lowest condemned pod that is not Running and Ready may go before the
        // healthy ones above it (upstream's `firstUnhealthyPod`, the replicas being all
        // healthy here under OrderedReady).
        let first_unhealthy = condemned
            .clone()
            .find(|&i| self.pods[i].is_some_and(|id| !healthy(ctx, id)));
        for i in condemned.rev() {
            let Some(id) = self.pods[i] else {
                continue;
            };
            let terminating =
                self.deleting[i] || ctx.cluster.pod(id).is_some_and(|p| p.terminating);
            if terminating {
                if ordered {
                    // Wait for it to be gone.
                    return;
                }
                continue;
            }
            if ordered && !healthy(ctx, id) && first_unhealthy != Some(i) {
                return;
            }
            self.deleting[i] = true;
            if ctx.cluster.pod(id).is_some_and(|p| p.node.is_none()) {
                // Never bound: nothing runs, the API server deletes it at once.
                ctx.remove_pod(id, false);
            } else {
                ctx.then(Event::Kubelet(KubeletEvent::Evict {
                    pod: id,
                    reason: EvictionReason::StatefulSetScaledDown,
                }));
            }
            if ordered {
                return;
            }
        }
    }

    /// The autoscaler set the replicas to `to`: the new ordinals get their templates.
    fn scale(&mut self, to: usize, base: &PodTemplate, claim_templates: &[ClaimTemplate]) {
        self.replicas = to;
        for i in self.templates.len()..to {
            self.templates
                .push(Arc::new(ordinal_template(base, claim_templates, i as u32)));
        }
        if self.pods.len() < to {
            self.pods.resize(to, None);
            self.not_before.resize(to, SimTime::ZERO);
            self.deleting.resize(to, false);
        }
    }
}

/// Whether pod `id` is Running and Ready, and not being deleted (a pod is Ready once it
/// runs: no readiness probes).
fn healthy(ctx: &Ctx<'_>, id: PodId) -> bool {
    ctx.cluster
        .pod(id)
        .is_some_and(|p| p.phase == PodPhase::Running && !p.terminating)
}

/// Every StatefulSet of the scenario.
#[derive(Debug, Default)]
pub struct StatefulSets {
    sets: Vec<Set>,
    /// By workload index: the set's index, or `u32::MAX`.
    by_workload: Vec<u32>,
}

impl StatefulSets {
    /// Whether the set of workload `w` exists (its creation time has come); read by
    /// [`crate::Simulation::workloads`].
    pub(crate) fn is_live(&self, w: usize) -> bool {
        let set = self.by_workload.get(w).copied().unwrap_or(u32::MAX);
        self.sets.get(set as usize).is_some_and(|s| s.live)
    }

    /// The replicas the set of workload `w` wants now (its autoscaler's, if it has one);
    /// read by [`crate::Simulation::workloads`].
    pub(crate) fn replicas(&self, w: usize) -> Option<u32> {
        let set = self.by_workload.get(w).copied().unwrap_or(u32::MAX);
        self.sets.get(set as usize).map(|s| s.replicas as u32)
    }

    /// The sets of `scenario`; sets the timer of each one's creation.
    pub(crate) fn new(scenario: &Scenario, seed: u64, ctx: &mut Ctx<'_>) -> StatefulSets {
        let mut s = StatefulSets {
            sets: Vec::new(),
            by_workload: vec![u32::MAX; scenario.workloads.len()],
        };
        for (w, workload) in scenario.workloads.iter().enumerate() {
            let WorkloadKind::StatefulSet {
                at,
                replicas,
                pod_management,
                claim_templates,
                ..
            } = &workload.kind
            else {
                continue;
            };
            let base = &workload.template;
            let templates: Vec<Arc<PodTemplate>> = (0..*replicas)
                .map(|i| Arc::new(ordinal_template(base, claim_templates, i)))
                .collect();
            // Empty when the set adopts nothing (or once it has adopted all).
            let mut pinned: Vec<Option<(Arc<PodTemplate>, SimTime)>> =
                if workload.adopted_ordinals.is_empty() {
                    Vec::new()
                } else {
                    vec![None; *replicas as usize]
                };
            for (k, (t, &i)) in workload
                .adopted
                .iter()
                .zip(&workload.adopted_ordinals)
                .enumerate()
            {
                if let Some(slot) = pinned.get_mut(i as usize) {
                    let mut own = (*templates[i as usize]).clone();
                    own.node_name.clone_from(&t.node_name);
                    let ran = workload
                        .adopted_ran
                        .get(k)
                        .copied()
                        .unwrap_or(SimTime::ZERO);
                    *slot = Some((Arc::new(own), ran));
                }
            }
            let set = s.sets.len() as u32;
            s.by_workload[w] = set;
            s.sets.push(Set {
                workload: w as u32,
                policy: *pod_management,
                replicas: *replicas as usize,
                live: false,
                templates,
                pods: vec![None; *replicas as usize],
                not_before: vec![SimTime::ZERO; *replicas as usize],
                deleting: vec![false; *replicas as usize],
                pinned,
                durations: stream(seed, Concern::Durations, w as u64),
                backoff: CreateBackoff::controller(),
            });
            ctx.at(*at, Event::StatefulSets(StatefulSetEvent::Sync { set }));
        }
        s
    }

    /// Upstream's reconcile loop for one set: creates missing ordinals, in order and one
    /// at a time under OrderedReady, after any snapshot pods still to adopt.
    fn sync(&mut self, set: usize, ctx: &mut Ctx<'_>) {
        let Some(s) = self.sets.get_mut(set) else {
            return;
        };
        if !s.live {
            return;
        }
        // A snapshot's pods are there already: none waits for a lower ordinal.
        if !s.pinned.is_empty() {
            for i in 0..s.pinned.len().min(s.replicas) {
                if s.pods[i].is_none()
                    && let Some((t, ran)) = s.pinned[i].clone()
                {
                    if !s.create(set, i, t, ran, ctx) {
                        return;
                    }
                    s.pinned[i] = None;
                }
            }
            // All adopted: later syncs skip this pass.
            s.pinned = Vec::new();
        }
        let ordered = s.policy == PodManagementPolicy::OrderedReady;
        for i in 0..s.replicas {
            match s.pods[i] {
                None if s.not_before[i] > ctx.now => {
                    if ordered {
                        return;
                    }
                }
                None => {
                    let template = Arc::clone(&s.templates[i]);
                    if !s.create(set, i, template, SimTime::ZERO, ctx) || ordered {
                        // Refused, or not Running and Ready yet: wait for it.
                        return;
                    }
                }
                Some(id) => {
                    if ordered && !healthy(ctx, id) {
                        return;
                    }
                }
            }
        }
        s.condemn(ordered, ctx);
    }

    /// The set and ordinal of a pod of a set, if it is the ordinal's current pod.
    fn slot(&self, owner: u32, ordinal: u32, pod: PodId) -> Option<(usize, usize)> {
        let set = *self.by_workload.get(owner as usize)? as usize;
        let s = self.sets.get(set)?;
        (s.pods.get(ordinal as usize).copied()? == Some(pod)).then_some((set, ordinal as usize))
    }
}

/// The claim of `template` for ordinal `i` of the set `set` (upstream's
/// `getPersistentVolumeClaimName`: `<template>-<set>-<ordinal>`).
fn claim_name(template: &str, set: &str, i: u32) -> String {
    format!("{template}-{set}-{i}")
}

/// Upstream's `createMissingPersistentVolumeClaims`: before ordinal `i`'s pod of the
/// set of workload `w` is created, each of its claims that does not exist is made from
/// its template, and an Immediate one is bound (or provisioned) at once, as the PV
/// controller would. The loader makes the claims of the set's first `replicas`
/// ordinals; this makes those a scale-up adds.
fn make_claims(ctx: &mut Ctx<'_>, w: usize, i: u32) {
    let scenario = ctx.scenario;
    let workload = &scenario.workloads[w];
    let WorkloadKind::StatefulSet {
        claim_templates, ..
    } = &workload.kind
    else {
        return;
    };
    let namespace = &workload.template.namespace;
    let volumes = ctx.cluster.volumes_mut();
    let mut made = false;
    for c in claim_templates {
        let name = claim_name(&c.name, &workload.template.name, i);
        if volumes.claim(namespace, &name).is_some() {
            continue;
        }
        let claim = PersistentVolumeClaim {
            name,
            namespace: namespace.clone(),
            storage_class: c.storage_class.clone(),
            request: c.request,
            bound_volume: None,
            access_modes: c.access_modes,
        };
        made |= volumes.add_claim(claim).is_ok();
    }
    if made {
        volumes.bind_immediate_claims();
    }
}

/// `persistentVolumeClaimRetentionPolicy.whenScaled: Delete`: once the pod of ordinal
/// `i`, removed by a scale-down, is gone, the ordinal's claims are deleted (upstream
/// makes the pod their owner when it condemns it, and the garbage collector deletes
/// them after it), and their volumes reclaimed ([`VolumeState::remove_claim`]: a
/// provisioned one deleted, a static one Released). A later scale-up makes new claims.
///
/// [`VolumeState::remove_claim`]: schedulers::volumes::VolumeState::remove_claim
fn delete_claims(ctx: &mut Ctx<'_>, w: usize, i: u32) {
    let scenario = ctx.scenario;
    let workload = &scenario.workloads[w];
    let WorkloadKind::StatefulSet {
        claim_templates,
        when_scaled: ClaimRetention::Delete,
        ..
    } = &workload.kind
    else {
        return;
    };
    let volumes = ctx.cluster.volumes_mut();
    for c in claim_templates {
        let name = claim_name(&c.name, &workload.template.name, i);
        volumes.remove_claim(&workload.template.namespace, &name);
    }
}

/// The template of ordinal `i` of the set stamped from `base`: its own claims and the
/// labels upstream gives each pod.
fn ordinal_template(base: &PodTemplate, claim_templates: &[ClaimTemplate], i: u32) -> PodTemplate {
    let mut t = base.clone();
    for c in claim_templates {
        let claim = claim_name(&c.name, &base.name, i);
        if !t.volume_claims.contains(&claim) {
            t.volume_claims.push(claim);
        }
    }
    t.labels
        .insert(POD_NAME_LABEL.into(), format!("{}-{i}", base.name));
    t.labels.insert(POD_INDEX_LABEL.into(), i.to_string());
    t
}

impl Controller for StatefulSets {
    type Event = StatefulSetEvent;

    fn on(&mut self, event: StatefulSetEvent, ctx: &mut Ctx<'_>) {
        match event {
            StatefulSetEvent::Sync { set } => {
                if let Some(s) = self.sets.get_mut(set as usize) {
                    s.live = true;
                }
                self.sync(set as usize, ctx);
            }
            StatefulSetEvent::Retry { set } => {
                if let Some(s) = self.sets.get_mut(set as usize) {
                    s.backoff.fired();
                }
                self.sync(set as usize, ctx);
            }
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::PodStarted { pod } => {
                let Some((set, _)) = ctx
                    .cluster
                    .pod(*pod)
                    .and_then(|p| self.slot(p.owner, p.ordinal, *pod))
                else {
                    return;
                };
                if self.sets[set].policy == PodManagementPolicy::OrderedReady {
                    self.sync(set, ctx);
                }
            }
            Fact::PodDeleted { pod, replace } => {
                let Some((set, i, at_once)) = ctx.departed(*pod).and_then(|p| {
                    let (set, i) = self.slot(p.owner, p.ordinal, *pod)?;
                    // Evicted outright, finished, or at the end of a graceful deletion;
                    // not refused at admission or given up, nor crashed on start.
                    let at_once = (*replace || p.terminating) && p.run_micros != 0;
                    Some((set, i, at_once))
                }) else {
                    return;
                };
                let s = &mut self.sets[set];
                s.pods[i] = None;
                // Deleted by a scale-down: gone for good, or, when a scale-up wants the
                // ordinal back meanwhile, recreated now that it is gone.
                let condemned = std::mem::take(&mut s.deleting[i]);
                if condemned && i >= s.replicas {
                    delete_claims(ctx, s.workload as usize, i as u32);
                }
                if condemned || at_once {
                    self.sync(set, ctx);
                } else {
                    let at = ctx.now.saturating_add(CRASH_LOOP_BACKOFF);
                    s.not_before[i] = at;
                    ctx.at(
                        at,
                        Event::StatefulSets(StatefulSetEvent::Sync { set: set as u32 }),
                    );
                }
            }
            Fact::Scaled { workload, to, .. } => {
                let set = self
                    .by_workload
                    .get(*workload as usize)
                    .copied()
                    .unwrap_or(u32::MAX) as usize;
                let Some(s) = self.sets.get_mut(set) else {
                    return;
                };
                let w = &ctx.scenario.workloads[*workload as usize];
                let WorkloadKind::StatefulSet {
                    claim_templates, ..
                } = &w.kind
                else {
                    return;
                };
                s.scale(*to as usize, &w.template, claim_templates);
                self.sync(set, ctx);
            }
            _ => {}
        }
    }
}
