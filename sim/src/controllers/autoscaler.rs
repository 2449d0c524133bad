//! The cluster autoscaler, after kubernetes/autoscaler's `cluster-autoscaler`
//! (`FAQ.md`; `core/static_autoscaler.go` for the loop, `core/scaleup` and
//! `estimator/binpacking_estimator.go` for scale-up, `expander/{waste,price,mostpods,
//! random}` for the choice of group, `core/scaledown` and `simulator/drain.go` for
//! scale-down).
//!
//! Every `scanInterval` (10 s) from time zero the autoscaler looks at the cluster:
//!
//! - **Scale-up.** The pods the scheduler found unschedulable (this controller keeps
//!   them from [`Fact::AttemptFailed`]) that still fit no existing node, and no node on
//!   its way (upstream counts upcoming nodes in its snapshot), are ordered by decreasing
//!   `cpu/nodeCpu + mem/nodeMem` (upstream's `DecreasingPodOrderer`) and packed first-fit
//!   onto fresh template nodes of each group with room below `max` (the binpacking
//!   estimator), each pod checked with the scheduler's own filters ([`PodFilter`]:
//!   resources, GPUs, cordons, taints and tolerations, node selector and required node
//!   affinity) against a scratch cluster of template nodes. Groups that would take no pod
//!   are dropped; the expander picks one of the rest (least-waste: least idle CPU plus
//!   memory fraction on the new nodes; price: least cost per hour per pod placed;
//!   most-pods; random; ties at random from the run's autoscaler stream). Its nodes join
//!   after the group's `provisioningDelay`; one whose delay exceeds `maxNodeProvisionTime`
//!   never joins: it is given up at that time and the group is skipped by scale-up for 5
//!   minutes (upstream's initial node-group backoff). One group grows per scan, as
//!   upstream does without `--balance-similar-node-groups`.
//! - **Scale-down.** A ready node of an autoscaled group, above the group's `min`, whose
//!   requested utilization (the larger of CPU and memory requests over allocatable) is
//!   below `scaleDownUtilizationThreshold`, is unneeded when every pod on it may be
//!   evicted and fits another node (checked with the same filters, counting the pods
//!   already moved there in this scan, never onto a node already found unneeded). Pods
//!   that block: pods with the annotation `cluster-autoscaler.kubernetes.io/safe-to-evict:
//!   "false"`; pods no controller would recreate (bare `pod:` workloads, and here also
//!   Job and trace pods, which nothing in the simulation replaces) unless annotated
//!   `safe-to-evict: "true"`; pods whose PodDisruptionBudget allows fewer disruptions
//!   than the node would cause ([`schedulers::pdb`]). A node unneeded for
//!   `scaleDownUnneededTime` without a break, outside `scaleDownDelayAfterAdd` of the last
//!   scale-up, is removed: empty nodes up to `maxEmptyBulkDelete` at once, otherwise one
//!   non-empty node at a time, tainted `ToBeDeletedByClusterAutoscaler:NoSchedule` and its
//!   pods evicted through the kubelet ([`EvictionReason::ScaleDown`], with their grace
//!   period; their Deployments replace them). It leaves once its pods are gone: at once,
//!   or at the first scan after their grace period.
//!
//! DaemonSets, as upstream: a template node of the scale-up simulation first takes the
//! pod of every DaemonSet (created by then) that should run on it
//! (`daemonset.GetDaemonSetPodsForNode`), so the estimate packs only what is left; daemon
//! pods neither block a scale-down nor need room elsewhere (`drain.GetPodsToMove` leaves
//! them out, and their PodDisruptionBudgets with them), and a node running nothing else
//! counts as empty; they are evicted with the node's other pods
//! (`--daemonset-eviction-for-occupied-nodes`, default true; here also on empty nodes,
//! since a node leaves only once its pods are gone). Utilization counts them, as
//! upstream's default `--ignore-daemonsets-utilization=false` does.
//!
//! Simplified, stated: no mirror pods exist; inter-pod affinity, topology spread and host ports are not checked in either
//! simulation (the scheduler still applies them when it places the pods); the price
//! expander is cost per pod, not upstream's price-to-pod-value ratio with its
//! preferred-node penalty; `scale-down-delay-after-delete` and `-after-failure`, unready
//! nodes' scale-down and `--balance-similar-node-groups` are not modelled.
//!
//! The scan keeps a run without a horizon alive only while the autoscaler has something
//! ahead of it (a scale-up just made, a group backed off with pods it could help, nodes
//! unneeded or draining); a pod that fails, or leaves a node of a group, meanwhile
//! queues a scan that does.

use std::collections::{BTreeMap, BTreeSet};

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use schedulers::filters::{PodFilter, check_constraints};
use schedulers::pdb::PodDisruptionBudget;
use std::sync::Arc;

use schedulers::{
    ClusterState, NodeId, NodeSpec, OwnerKind, Pod, PodId, PodPhase, PodTemplate, Resources, Taint,
    TaintEffect,
};

use crate::controllers::Controller;
use crate::controllers::daemonsets;
use crate::controllers::kubelet::KubeletEvent;
use crate::controllers::nodes;
use crate::engine::{Ctx, Event};
use crate::observe::{AttemptFailure, EvictionReason, Fact, ScaleUpDecision, ScaleUpOption};
use crate::rng::{Concern, stream};
use crate::scenario::autoscaler::NODE_GROUP_BACKOFF;
use crate::scenario::{ClusterAutoscaler, Expander, NodeGroup, WorkloadKind};
use crate::time::SimTime;

/// The taint cluster-autoscaler puts on a node it is removing.
pub const TO_BE_DELETED_TAINT: &str = "ToBeDeletedByClusterAutoscaler";
/// The annotation that marks a pod as blocking (`"false"`) or allowing (`"true"`) its
/// node's scale-down.
pub const SAFE_TO_EVICT: &str = "cluster-autoscaler.kubernetes.io/safe-to-evict";

/// The cluster autoscaler's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoscalerEvent {
    /// A scan of the cluster.
    Scan {
        /// Keeps a run without a horizon going (see the module documentation).
        alive: bool,
    },
    /// A node of the group asked for at a scale-up joins, or is given up.
    Provisioned {
        /// The group's index.
        group: u32,
    },
    /// A node's pods were evicted for its removal (follow-up work): it leaves if they
    /// are gone, else at the first scan after their grace period.
    Drained {
        /// The node.
        node: NodeId,
    },
}

impl AutoscalerEvent {
    /// Provisioning always keeps the run alive; a scan only when it says so.
    pub fn keeps_run_alive(&self) -> bool {
        match self {
            AutoscalerEvent::Scan { alive } => *alive,
            AutoscalerEvent::Provisioned { .. } | AutoscalerEvent::Drained { .. } => true,
        }
    }
}

/// Per node group: nodes on their way, the next ordinal to name a node, and the backoff.
#[derive(Debug, Clone, Copy)]
struct GroupState {
    upcoming: u32,
    next_ordinal: u32,
    backoff_until: SimTime,
}

/// The cluster autoscaler.
pub struct Autoscaler {
    settings: crate::scenario::AutoscalerSettings,
    groups: Vec<NodeGroup>,
    state: Vec<GroupState>,
    /// Pods the scheduler reported unschedulable; pruned at each scan.
    unschedulable: BTreeSet<PodId>,
    /// Nodes found unneeded, with the time since when, without a break.
    unneeded: BTreeMap<NodeId, SimTime>,
    /// Nodes tainted and drained, waiting for their pods to leave.
    draining: BTreeSet<NodeId>,
    last_scale_up: Option<SimTime>,
    /// The time of the next scan, and whether a scan that keeps the run alive is queued
    /// for it.
    next_scan: SimTime,
    alive_queued: bool,
    last_scan: Option<SimTime>,
    rng: ChaCha8Rng,
    /// The scenario's DaemonSets: creation time and template with the default daemon
    /// tolerations, for the template nodes of a scale-up.
    daemons: Vec<(SimTime, Arc<PodTemplate>)>,
}

impl Autoscaler {
    /// The DaemonSets created by `now`, whose pods a new node would run.
    fn daemons_at(&self, now: SimTime) -> Vec<Arc<PodTemplate>> {
        self.daemons
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, t)| Arc::clone(t))
            .collect()
    }

    /// The autoscaler of `ca`, its first scan queued at time zero.
    pub(crate) fn start(ca: &ClusterAutoscaler, seed: u64, ctx: &mut Ctx<'_>) -> Autoscaler {
        ctx.at(
            SimTime::ZERO,
            Event::Autoscaler(AutoscalerEvent::Scan { alive: false }),
        );
        Autoscaler {
            settings: ca.settings,
            groups: ca.groups.clone(),
            state: ca
                .groups
                .iter()
                .map(|g| GroupState {
                    upcoming: 0,
                    next_ordinal: g.initial,
                    backoff_until: SimTime::ZERO,
                })
                .collect(),
            unschedulable: BTreeSet::new(),
            unneeded: BTreeMap::new(),
            draining: BTreeSet::new(),
            last_scale_up: None,
            next_scan: SimTime::ZERO,
            alive_queued: false,
            last_scan: None,
            rng: stream(seed, Concern::Autoscaler, 0),
            daemons: ctx
                .scenario
                .workloads
                .iter()
                .filter_map(|w| match w.kind {
                    WorkloadKind::DaemonSet { at } => Some((
                        at,
                        Arc::new(daemonsets::with_daemon_tolerations(&w.template)),
                    )),
                    _ => None,
                })
                .collect(),
        }
    }

    /// The group of a node, by its name.
    fn group_of(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| {
            name.strip_prefix(g.name.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
    }

    /// Present nodes of each group, those being drained excluded.
    fn group_sizes(&self, cluster: &ClusterState) -> Vec<u32> {
        let mut sizes = vec![0u32; self.groups.len()];
        for (i, n) in cluster.nodes().iter().enumerate() {
            if n.removed || self.draining.contains(&NodeId(i as u32)) {
                continue;
            }
            if let Some(g) = self.group_of(n.name()) {
                sizes[g] += 1;
            }
        }
        sizes
    }

    fn scan(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        if self.last_scan == Some(now) {
            // A second scan queued for the same instant (one that keeps the run alive).
            return;
        }
        self.last_scan = Some(now);
        self.alive_queued = false;
        self.finish_drains(ctx);
        let sizes = self.group_sizes(ctx.cluster);
        let (scaled_up, waiting) = self.scale_up(&sizes, ctx);
        if self.settings.scale_down_enabled && !scaled_up {
            self.scale_down(&sizes, ctx);
        }
        let alive = scaled_up || waiting || !self.unneeded.is_empty() || !self.draining.is_empty();
        self.next_scan = now.saturating_add(self.settings.scan_interval);
        self.alive_queued = alive;
        ctx.at(
            self.next_scan,
            Event::Autoscaler(AutoscalerEvent::Scan { alive }),
        );
    }

    /// Removes drained nodes whose pods are gone; evicts pods that landed on one anyway
    /// (a pod tolerating every taint).
    fn finish_drains(&mut self, ctx: &mut Ctx<'_>) {
        let draining: Vec<NodeId> = self.draining.iter().copied().collect();
        for node in draining {
            if ctx.cluster.node(node).removed {
                self.draining.remove(&node);
                continue;
            }
            if nodes::leave(node, ctx) {
                self.draining.remove(&node);
                continue;
            }
            for &pod in &ctx.cluster.node(node).pods.clone() {
                if ctx.cluster.pod(pod).is_some_and(|p| !p.terminating) {
                    ctx.then(Event::Kubelet(KubeletEvent::Evict {
                        pod,
                        reason: EvictionReason::ScaleDown,
                    }));
                }
            }
        }
    }

    /// One scale-up, if some group helps; returns (scaled up, pods a backed-off group
    /// could help).
    fn scale_up(&mut self, sizes: &[u32], ctx: &mut Ctx<'_>) -> (bool, bool) {
        let cluster = &*ctx.cluster;
        self.unschedulable.retain(|&id| {
            cluster
                .pod(id)
                .is_some_and(|p| p.phase == PodPhase::Pending && p.node.is_none())
        });
        if self.unschedulable.is_empty() {
            return (false, false);
        }
        let pending = self.unschedulable.len() as u32;
        // Pods that fit an existing node now: the scheduler will place them.
        let mut charges: BTreeMap<usize, Resources> = BTreeMap::new();
        let mut left: Vec<PodId> = Vec::new();
        for &id in &self.unschedulable {
            let Some(pod) = cluster.pod(id) else { continue };
            match fit_existing(cluster, pod, &charges, &BTreeSet::new(), None) {
                Some(n) => charge(&mut charges, n, pod.requests),
                None => left.push(id),
            }
        }
        // Pods that nodes on their way will take.
        let upcoming: Vec<(usize, u32)> = self
            .state
            .iter()
            .enumerate()
            .filter(|(_, s)| s.upcoming > 0)
            .map(|(g, s)| (g, s.upcoming))
            .collect();
        if !upcoming.is_empty() && !left.is_empty() {
            let daemons = self.daemons_at(ctx.now);
            let mut scratch = Scratch::new(cluster, &daemons);
            for &(g, n) in &upcoming {
                for _ in 0..n {
                    scratch.add_node(&self.groups[g].template);
                }
            }
            left.retain(|&id| {
                let pod = cluster.pod(id).expect("kept above");
                !scratch.place_first_fit(pod)
            });
        }
        if left.is_empty() {
            return (false, false);
        }
        let unhelped = left.len() as u32;
        let daemons = self.daemons_at(ctx.now);
        let mut options: Vec<(ScaleUpOption, Vec<PodId>)> = Vec::new();
        let mut waiting = false;
        for (g, group) in self.groups.iter().enumerate() {
            let room = group.max.saturating_sub(sizes[g] + self.state[g].upcoming);
            if room == 0 {
                continue;
            }
            let (nodes, pods) = estimate(cluster, &daemons, &group.template, &left, room);
            if nodes == 0 {
                continue;
            }
            if ctx.now < self.state[g].backoff_until {
                waiting = true;
                continue;
            }
            options.push((
                ScaleUpOption {
                    group: g as u32,
                    name: group.name.clone(),
                    nodes,
                    pods: pods.len() as u32,
                    score: 0.0,
                },
                pods,
            ));
        }
        if options.is_empty() {
            return (false, waiting);
        }
        for (o, pods) in &mut options {
            let group = &self.groups[o.group as usize];
            o.score = match self.settings.expander {
                Expander::LeastWaste => waste(cluster, &group.template, o.nodes, pods),
                Expander::Price => {
                    group.price_per_hour * f64::from(o.nodes) / f64::from(o.pods.max(1))
                }
                Expander::MostPods => f64::from(o.pods),
                Expander::Random => 0.0,
            };
        }
        let best = match self.settings.expander {
            Expander::MostPods => options
                .iter()
                .map(|(o, _)| o.score)
                .fold(f64::NEG_INFINITY, f64::max),
            Expander::Random => 0.0,
            _ => options
                .iter()
                .map(|(o, _)| o.score)
                .fold(f64::INFINITY, f64::min),
        };
        let tied: Vec<usize> = (0..options.len())
            .filter(|&i| options[i].0.score == best)
            .collect();
        let chosen = if tied.len() == 1 {
            tied[0]
        } else {
            tied[self.rng.random_range(0..tied.len())]
        };
        let o = &options[chosen].0;
        let g = o.group as usize;
        let nodes_asked = o.nodes;
        self.state[g].upcoming += nodes_asked;
        self.last_scale_up = Some(ctx.now);
        let group = &self.groups[g];
        let at = ctx.now.saturating_add(
            group
                .provisioning_delay
                .min(self.settings.max_node_provision_time),
        );
        for _ in 0..nodes_asked {
            ctx.at(
                at,
                Event::Autoscaler(AutoscalerEvent::Provisioned { group: g as u32 }),
            );
        }
        let decision = ScaleUpDecision {
            expander: self.settings.expander,
            pending,
            unhelped,
            options: options.into_iter().map(|(o, _)| o).collect(),
            chosen,
        };
        ctx.publish(Fact::ScaleUp(Box::new(decision)));
        (true, waiting)
    }

    /// A node asked for at a scale-up joins, or is given up past the provision time.
    fn provisioned(&mut self, group: usize, ctx: &mut Ctx<'_>) {
        let Some(g) = self.groups.get(group) else {
            return;
        };
        let state = &mut self.state[group];
        state.upcoming = state.upcoming.saturating_sub(1);
        if g.provisioning_delay > self.settings.max_node_provision_time {
            state.backoff_until = ctx.now.saturating_add(NODE_GROUP_BACKOFF);
            ctx.publish(Fact::NodeProvisionFailed {
                group: g.name.as_str().into(),
            });
            return;
        }
        let mut spec = g.template.clone();
        spec.name = format!("{}-{}", g.name, state.next_ordinal);
        state.next_ordinal += 1;
        const HOSTNAME: &str = "kubernetes.io/hostname";
        if spec.labels.get(HOSTNAME).is_none() {
            spec.labels.insert(HOSTNAME.to_string(), spec.name.clone());
        }
        nodes::join(spec, ctx);
    }

    fn scale_down(&mut self, sizes: &[u32], ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        let cluster = &*ctx.cluster;
        let threshold = self.settings.scale_down_utilization_permille;
        // Candidates, in node order, with their utilization.
        let mut room: Vec<u32> = sizes
            .iter()
            .zip(&self.groups)
            .map(|(&s, g)| s.saturating_sub(g.min))
            .collect();
        let mut allowed: Option<Vec<i32>> = None;
        let mut unneeded_now: BTreeSet<NodeId> = BTreeSet::new();
        let mut utilization: BTreeMap<NodeId, u32> = BTreeMap::new();
        let mut charges: BTreeMap<usize, Resources> = BTreeMap::new();
        for (i, n) in cluster.nodes().iter().enumerate() {
            let id = NodeId(i as u32);
            if n.removed || !n.ready || self.draining.contains(&id) {
                continue;
            }
            let Some(g) = self.group_of(n.name()) else {
                continue;
            };
            if room[g] == 0 {
                continue;
            }
            let u = utilization_permille(n);
            if u >= threshold {
                continue;
            }
            if !self.pods_can_move(cluster, id, &unneeded_now, &mut charges, &mut allowed, ctx) {
                continue;
            }
            room[g] -= 1;
            unneeded_now.insert(id);
            utilization.insert(id, u);
        }
        self.unneeded.retain(|n, _| unneeded_now.contains(n));
        for &n in &unneeded_now {
            self.unneeded.entry(n).or_insert(now);
        }
        let cooling = self
            .last_scale_up
            .is_some_and(|t| now < t.saturating_add(self.settings.scale_down_delay_after_add));
        if cooling {
            return;
        }
        let ripe: Vec<(NodeId, SimTime)> = self
            .unneeded
            .iter()
            .filter(|&(_, &since)| {
                now >= since.saturating_add(self.settings.scale_down_unneeded_time)
            })
            .map(|(&n, &s)| (n, s))
            .collect();
        let empty: Vec<(NodeId, SimTime)> = ripe
            .iter()
            .copied()
            .filter(|(n, _)| {
                let c = &*ctx.cluster;
                c.node(*n)
                    .pods
                    .iter()
                    .all(|&id| c.pod(id).is_some_and(is_daemon))
            })
            .take(self.settings.max_empty_bulk_delete as usize)
            .collect();
        if !empty.is_empty() {
            for (node, since) in empty {
                let u = utilization.get(&node).copied().unwrap_or(0);
                self.remove(node, u, since, ctx);
            }
            return;
        }
        if !self.draining.is_empty() {
            return;
        }
        if let Some(&(node, since)) = ripe.first() {
            let u = utilization.get(&node).copied().unwrap_or(0);
            self.remove(node, u, since, ctx);
        }
    }

    /// Whether every pod on `node` may be evicted and fits elsewhere; the pods' moves are
    /// charged to their destinations.
    fn pods_can_move(
        &self,
        cluster: &ClusterState,
        node: NodeId,
        unneeded: &BTreeSet<NodeId>,
        charges: &mut BTreeMap<usize, Resources>,
        allowed: &mut Option<Vec<i32>>,
        ctx: &Ctx<'_>,
    ) -> bool {
        let pods = &cluster.node(node).pods;
        if pods.is_empty() {
            return true;
        }
        let pdbs: &[PodDisruptionBudget] = cluster.pdbs();
        let mut used = vec![0i32; pdbs.len()];
        let mut moves: Vec<(usize, Resources)> = Vec::new();
        let mut ok = true;
        for &id in pods {
            let Some(pod) = cluster.pod(id) else { continue };
            if pod.terminating || is_daemon(pod) {
                continue;
            }
            if blocks(pod, ctx) {
                ok = false;
                break;
            }
            let mut over_budget = false;
            for (b, pdb) in pdbs.iter().enumerate() {
                if pdb.covers(pod) {
                    let allowed = allowed.get_or_insert_with(|| {
                        // A budget's healthy pods are its Ready ones.
                        let status = ctx.status();
                        pdbs.iter()
                            .map(|b| b.disruptions_allowed_with(cluster, &|id| status.is_ready(id)))
                            .collect()
                    });
                    used[b] += 1;
                    if used[b] > allowed[b] {
                        over_budget = true;
                    }
                }
            }
            if over_budget {
                ok = false;
                break;
            }
            let mut excluded = unneeded.clone();
            excluded.insert(node);
            match fit_existing(cluster, pod, charges, &excluded, Some(&self.draining)) {
                Some(n) => {
                    charge(charges, n, pod.requests);
                    moves.push((n, pod.requests));
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            // Undo this node's moves.
            for (n, r) in moves {
                if let Some(c) = charges.get_mut(&n) {
                    *c -= r;
                }
            }
        }
        ok
    }

    /// Starts removing `node`: taints it and removes it at once if it is empty, else
    /// evicts its pods (it leaves once they are gone).
    fn remove(&mut self, node: NodeId, utilization: u32, since: SimTime, ctx: &mut Ctx<'_>) {
        self.unneeded.remove(&node);
        let mut taints = ctx.cluster.node(node).spec.taints.clone();
        taints.push(Taint {
            key: TO_BE_DELETED_TAINT.to_string(),
            value: String::new(),
            effect: TaintEffect::NoSchedule,
        });
        if ctx.cluster.set_taints(node, taints).is_err() {
            return;
        }
        let pods: Vec<PodId> = ctx.cluster.node(node).pods.clone();
        ctx.publish(Fact::ScaleDown {
            node,
            utilization_permille: utilization,
            pods: pods.len() as u32,
            unneeded_since: since,
        });
        if pods.is_empty() {
            nodes::leave(node, ctx);
            return;
        }
        self.draining.insert(node);
        for pod in pods {
            ctx.then(Event::Kubelet(KubeletEvent::Evict {
                pod,
                reason: EvictionReason::ScaleDown,
            }));
        }
        ctx.then(Event::Autoscaler(AutoscalerEvent::Drained { node }));
    }
}

/// True for a DaemonSet's pod, which a scale-down neither moves nor waits for.
fn is_daemon(pod: &Pod) -> bool {
    pod.template.owner == OwnerKind::DaemonSet
}

/// True when `pod` keeps its node from being removed (upstream's `drain.GetPodsToMove`):
/// annotated `safe-to-evict: "false"`, or with no controller that would recreate it
/// (unless annotated `safe-to-evict: "true"`).
fn blocks(pod: &Pod, ctx: &Ctx<'_>) -> bool {
    match pod.template.annotations.get(SAFE_TO_EVICT) {
        Some("false") => return true,
        Some("true") => return false,
        _ => {}
    }
    let replicated = ctx
        .scenario
        .workloads
        .get(pod.owner as usize)
        .is_some_and(|w| {
            matches!(
                w.kind,
                WorkloadKind::Deployment { .. } | WorkloadKind::StatefulSet { .. }
            )
        });
    !replicated
}

/// The larger of CPU and memory requests over allocatable, in thousandths (upstream's
/// `utilization.Calculate` without DaemonSets or mirror pods, which schedlab lacks).
fn utilization_permille(n: &schedulers::Node) -> u32 {
    let share = |req: i64, alloc: i64| {
        if alloc <= 0 {
            0
        } else {
            ((i128::from(req) * 1000) / i128::from(alloc)) as u32
        }
    };
    share(n.requested.cpu(), n.spec.allocatable.cpu())
        .max(share(n.requested.memory(), n.spec.allocatable.memory()))
}

fn charge(charges: &mut BTreeMap<usize, Resources>, node: usize, r: Resources) {
    let c = charges.entry(node).or_insert(Resources::ZERO);
    *c += r;
}

/// The first ready node (in node order, not in `excluded` or `draining`) that passes the
/// scheduler's filters for `pod` with `charges` already taken from its free resources.
fn fit_existing(
    cluster: &ClusterState,
    pod: &Pod,
    charges: &BTreeMap<usize, Resources>,
    excluded: &BTreeSet<NodeId>,
    draining: Option<&BTreeSet<NodeId>>,
) -> Option<usize> {
    let filter = PodFilter::new(pod);
    let rows = cluster.rows();
    (0..rows.len()).find(|&i| {
        let id = NodeId(i as u32);
        if excluded.contains(&id) || draining.is_some_and(|d| d.contains(&id)) {
            return false;
        }
        let node = &cluster.nodes()[i];
        if node.removed || !node.ready {
            return false;
        }
        match charges.get(&i) {
            None => filter.feasible(cluster, i),
            Some(c) => {
                let free = rows[i].free - *c;
                filter.fits(&free)
                    && check_constraints(pod, node).is_ok()
                    && (!pod.template.gpu.is_some() || cluster.gpu_miss(pod, id).is_none())
            }
        }
    })
}

/// A scratch cluster of template nodes, to pack pending pods onto with the scheduler's
/// filters (upstream's cluster snapshot with template nodes).
struct Scratch {
    cluster: ClusterState,
    /// The DaemonSets whose pods each template node runs first.
    daemons: Vec<Arc<PodTemplate>>,
}

impl Scratch {
    fn new(like: &ClusterState, daemons: &[Arc<PodTemplate>]) -> Scratch {
        Scratch {
            cluster: ClusterState::new(like.resource_names().clone()),
            daemons: daemons.to_vec(),
        }
    }

    /// Adds a template node, with the daemon pods that should run on it bound where
    /// they fit (upstream's template NodeInfo carries them).
    fn add_node(&mut self, template: &NodeSpec) -> usize {
        let mut spec = template.clone();
        let i = self.cluster.nodes().len();
        spec.name = format!("template-{i}");
        let pods: Vec<Pod> = self
            .daemons
            .iter()
            .filter(|base| daemonsets::should_run(base, &spec).0)
            .map(|base| {
                let pinned = daemonsets::pinned_template(base, &spec.name);
                Pod::from_template(Arc::new(pinned), 0)
            })
            .collect();
        self.cluster.add_node(spec);
        for pod in &pods {
            self.bind(pod, i);
        }
        i
    }

    /// Binds a copy of `pod` to a node where it passes every filter.
    fn bind(&mut self, pod: &Pod, node: usize) -> bool {
        let id = self.cluster.add_pod(pod.clone());
        let fits = self
            .cluster
            .pod(id)
            .is_some_and(|p| PodFilter::new(p).feasible(&self.cluster, node));
        if fits && self.cluster.bind(id, NodeId(node as u32)).is_ok() {
            return true;
        }
        self.cluster.remove_pod(id);
        false
    }

    /// Places a copy of `pod` on the first node that takes it.
    fn place_first_fit(&mut self, pod: &Pod) -> bool {
        let n = self.cluster.nodes().len();
        (0..n).any(|i| self.bind(pod, i))
    }
}

/// Upstream's binpacking estimate for one group: the pods, ordered by decreasing
/// `cpu/nodeCpu + mem/nodeMem` (stable, so queue order breaks ties), each onto the
/// first new node that takes it, else onto a new node while fewer than `limit` exist; a
/// pod that a fresh node does not take is skipped. Returns the nodes needed and the
/// pods they take.
fn estimate(
    cluster: &ClusterState,
    daemons: &[Arc<PodTemplate>],
    template: &NodeSpec,
    pods: &[PodId],
    limit: u32,
) -> (u32, Vec<PodId>) {
    let (node_cpu, node_mem) = (
        template.allocatable.cpu().max(1) as f64,
        template.allocatable.memory().max(1) as f64,
    );
    let mut order: Vec<(f64, usize, PodId)> = pods
        .iter()
        .enumerate()
        .filter_map(|(i, &id)| {
            let p = cluster.pod(id)?;
            let score = p.requests.cpu() as f64 / node_cpu + p.requests.memory() as f64 / node_mem;
            Some((score, i, id))
        })
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut scratch = Scratch::new(cluster, daemons);
    let mut placed = Vec::new();
    let mut nodes = 0u32;
    for (_, _, id) in order {
        let Some(pod) = cluster.pod(id) else { continue };
        if scratch.place_first_fit(pod) {
            placed.push(id);
            continue;
        }
        if nodes >= limit {
            continue;
        }
        let n = scratch.add_node(template);
        if scratch.bind(pod, n) {
            nodes += 1;
            placed.push(id);
        } else {
            // A fresh node does not take it: leave that node out again.
            let _ = scratch.cluster.remove_node(NodeId(n as u32));
        }
    }
    (nodes, placed)
}

/// Least-waste's score (`expander/waste`): the idle share of the new nodes' CPU plus
/// that of their memory once the pods they take are placed.
fn waste(cluster: &ClusterState, template: &NodeSpec, nodes: u32, pods: &[PodId]) -> f64 {
    let (mut cpu, mut mem) = (0i64, 0i64);
    for &id in pods {
        if let Some(p) = cluster.pod(id) {
            cpu += p.requests.cpu();
            mem += p.requests.memory();
        }
    }
    let avail_cpu = template.allocatable.cpu() * i64::from(nodes);
    let avail_mem = template.allocatable.memory() * i64::from(nodes);
    let share = |avail: i64, used: i64| {
        if avail <= 0 {
            0.0
        } else {
            (avail - used) as f64 / avail as f64
        }
    };
    share(avail_cpu, cpu) + share(avail_mem, mem)
}

impl Controller for Autoscaler {
    type Event = AutoscalerEvent;

    fn on(&mut self, event: AutoscalerEvent, ctx: &mut Ctx<'_>) {
        match event {
            AutoscalerEvent::Scan { .. } => self.scan(ctx),
            AutoscalerEvent::Provisioned { group } => self.provisioned(group as usize, ctx),
            AutoscalerEvent::Drained { node } => {
                if self.draining.contains(&node) && nodes::leave(node, ctx) {
                    self.draining.remove(&node);
                }
            }
        }
    }

    fn react(&mut self, fact: &Fact, ctx: &mut Ctx<'_>) {
        match fact {
            Fact::AttemptFailed {
                pod,
                why: AttemptFailure::Unschedulable(_),
            } => {
                self.unschedulable.insert(*pod);
                self.wake(ctx);
            }
            // A pod leaving a node of a group may make the node unneeded.
            Fact::PodDeleted { pod, .. } => {
                let on_group = ctx
                    .departed(*pod)
                    .and_then(|p| p.node)
                    .is_some_and(|n| self.group_of(ctx.cluster.node(n).name()).is_some());
                if on_group {
                    self.wake(ctx);
                }
            }
            _ => {}
        }
    }
}

impl Autoscaler {
    /// Makes sure the next scan keeps the run alive: something changed that it may act on.
    fn wake(&mut self, ctx: &mut Ctx<'_>) {
        if !self.alive_queued && self.next_scan >= ctx.now {
            self.alive_queued = true;
            ctx.at(
                self.next_scan,
                Event::Autoscaler(AutoscalerEvent::Scan { alive: true }),
            );
        }
    }
}
