//! Why a node cannot take a pod, as data: a code for each of kube-scheduler's fixed
//! reasons, a resource kind for a shortfall, the error of a refused bind, and text only
//! for messages that are genuinely made up at run time. Reasons are counted by code and
//! turned into kube-scheduler's wording only when something writes them (a trace, an
//! explanation), because formatting one per rejected node dominated failed attempts.

use std::borrow::Cow;
use std::fmt;

use crate::cluster::BindError;
use crate::filters;
use crate::framework::plugins::{
    inter_pod_affinity::InterPodAffinity, node_affinity::NodeAffinity, node_ports::NodePorts,
    node_volume_limits::NodeVolumeLimits, pod_topology_spread::PodTopologySpread,
    volume_binding::VolumeBinding, volume_restrictions::VolumeRestrictions,
    volume_zone::VolumeZone,
};
use crate::resources::{FIRST_EXTENDED, ResourceKind, ResourceNames};

/// One reason a node failed a pod, in kube-scheduler's wording once rendered.
///
/// The wording of each fixed reason is the constant it is named after (in
/// [`crate::filters`] or the framework plugin that reports it), so there is one copy of
/// each upstream string. Comparing and cloning a reason other than [`Reason::Text`]
/// touches no heap.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// [`filters::REASON_NOT_READY`].
    NotReady,
    /// [`filters::REASON_UNSCHEDULABLE`] (NodeUnschedulable).
    Unschedulable,
    /// [`filters::REASON_NODE_NAME`] (NodeName).
    NodeName,
    /// [`filters::REASON_UNTOLERATED_TAINT`] (TaintToleration).
    UntoleratedTaint,
    /// [`filters::REASON_NODE_AFFINITY`] (NodeAffinity: nodeSelector, required terms).
    NodeAffinity,
    /// [`NodeAffinity::REASON_ENFORCED`].
    NodeAffinityEnforced,
    /// [`NodeAffinity::REASON_CONFLICT`].
    NodeAffinityConflict,
    /// [`filters::REASON_TOO_MANY_PODS`] (NodeResourcesFit, pod slots).
    TooManyPods,
    /// [`filters::REASON_INSUFFICIENT_GPU`].
    InsufficientGpu,
    /// [`filters::REASON_GPU_MODEL`].
    GpuModel,
    /// [`NodePorts::REASON`].
    NodePorts,
    /// [`InterPodAffinity::REASON_AFFINITY`].
    PodAffinity,
    /// [`InterPodAffinity::REASON_ANTI_AFFINITY`].
    PodAntiAffinity,
    /// [`InterPodAffinity::REASON_EXISTING_ANTI_AFFINITY`].
    ExistingPodAntiAffinity,
    /// [`InterPodAffinity::REASON_NO_PRE_FILTER`].
    InterPodAffinityNotPrepared,
    /// [`PodTopologySpread::REASON`].
    TopologySpread,
    /// [`PodTopologySpread::REASON_MISSING_LABEL`].
    TopologySpreadMissingLabel,
    /// [`VolumeZone::REASON`].
    VolumeZone,
    /// [`VolumeBinding::NODE_CONFLICT`].
    VolumeNodeConflict,
    /// [`VolumeBinding::BIND_CONFLICT`].
    VolumeBindConflict,
    /// [`VolumeBinding::PV_NOT_EXIST`].
    VolumeNotExist,
    /// [`VolumeBinding::UNBOUND_IMMEDIATE`].
    UnboundImmediateClaims,
    /// [`VolumeRestrictions::REASON_RWOP`].
    ReadWriteOncePodConflict,
    /// [`NodeVolumeLimits::REASON`].
    MaxVolumeCount,
    /// `Insufficient <resource>` (NodeResourcesFit). An extended resource's name comes
    /// from the cluster's [`ResourceNames`] when the reason is written.
    Insufficient(ResourceKind),
    /// The scheduler chose a node and the cluster refused the bind:
    /// `scheduler chose a node it could not bind to (<error>)`.
    RefusedBind(BindError),
    /// Any other message, verbatim (an external program's reasons, gang timeouts, a
    /// plugin's error).
    Text(Cow<'static, str>),
}

/// Every reason without a payload, for turning text back into codes.
const FIXED: [Reason; 24] = [
    Reason::NotReady,
    Reason::Unschedulable,
    Reason::NodeName,
    Reason::UntoleratedTaint,
    Reason::NodeAffinity,
    Reason::NodeAffinityEnforced,
    Reason::NodeAffinityConflict,
    Reason::TooManyPods,
    Reason::InsufficientGpu,
    Reason::GpuModel,
    Reason::NodePorts,
    Reason::PodAffinity,
    Reason::PodAntiAffinity,
    Reason::ExistingPodAntiAffinity,
    Reason::InterPodAffinityNotPrepared,
    Reason::TopologySpread,
    Reason::TopologySpreadMissingLabel,
    Reason::VolumeZone,
    Reason::VolumeNodeConflict,
    Reason::VolumeBindConflict,
    Reason::VolumeNotExist,
    Reason::UnboundImmediateClaims,
    Reason::ReadWriteOncePodConflict,
    Reason::MaxVolumeCount,
];

/// The built-in kinds' names, so that text and codes agree without a cluster at hand.
const BUILTIN: [(&str, ResourceKind); 4] = [
    ("cpu", ResourceKind::CPU),
    ("memory", ResourceKind::MEMORY),
    ("ephemeral-storage", ResourceKind::EPHEMERAL_STORAGE),
    ("pods", ResourceKind::PODS),
];

impl Reason {
    /// kube-scheduler's reason for a node short of `kind`: `Too many pods` for the pod
    /// slot, `Insufficient <kind>` for anything else.
    #[inline]
    pub fn shortfall(kind: ResourceKind) -> Reason {
        if kind == ResourceKind::PODS {
            Reason::TooManyPods
        } else {
            Reason::Insufficient(kind)
        }
    }

    /// The wording of a reason that carries nothing, `None` for the others.
    pub fn fixed_text(&self) -> Option<&'static str> {
        Some(match self {
            Reason::NotReady => filters::REASON_NOT_READY,
            Reason::Unschedulable => filters::REASON_UNSCHEDULABLE,
            Reason::NodeName => filters::REASON_NODE_NAME,
            Reason::UntoleratedTaint => filters::REASON_UNTOLERATED_TAINT,
            Reason::NodeAffinity => filters::REASON_NODE_AFFINITY,
            Reason::NodeAffinityEnforced => NodeAffinity::REASON_ENFORCED,
            Reason::NodeAffinityConflict => NodeAffinity::REASON_CONFLICT,
            Reason::TooManyPods => filters::REASON_TOO_MANY_PODS,
            Reason::InsufficientGpu => filters::REASON_INSUFFICIENT_GPU,
            Reason::GpuModel => filters::REASON_GPU_MODEL,
            Reason::NodePorts => NodePorts::REASON,
            Reason::PodAffinity => InterPodAffinity::REASON_AFFINITY,
            Reason::PodAntiAffinity => InterPodAffinity::REASON_ANTI_AFFINITY,
            Reason::ExistingPodAntiAffinity => InterPodAffinity::REASON_EXISTING_ANTI_AFFINITY,
            Reason::InterPodAffinityNotPrepared => InterPodAffinity::REASON_NO_PRE_FILTER,
            Reason::TopologySpread => PodTopologySpread::REASON,
            Reason::TopologySpreadMissingLabel => PodTopologySpread::REASON_MISSING_LABEL,
            Reason::VolumeZone => VolumeZone::REASON,
            Reason::VolumeNodeConflict => VolumeBinding::NODE_CONFLICT,
            Reason::VolumeBindConflict => VolumeBinding::BIND_CONFLICT,
            Reason::VolumeNotExist => VolumeBinding::PV_NOT_EXIST,
            Reason::UnboundImmediateClaims => VolumeBinding::UNBOUND_IMMEDIATE,
            Reason::ReadWriteOncePodConflict => VolumeRestrictions::REASON_RWOP,
            Reason::MaxVolumeCount => NodeVolumeLimits::REASON,
            Reason::Insufficient(_) | Reason::RefusedBind(_) | Reason::Text(_) => return None,
        })
    }

    /// True for a bind the cluster refused after the scheduler chose the node.
    #[inline]
    pub fn is_refused_bind(&self) -> bool {
        matches!(self, Reason::RefusedBind(_))
    }

    /// True when writing the reason needs the cluster's names (a shortfall of an
    /// extended resource).
    #[inline]
    pub fn names_extended_resource(&self) -> bool {
        matches!(self, Reason::Insufficient(kind) if kind.index() >= FIRST_EXTENDED)
    }

    /// The reason in kube-scheduler's wording, with extended resources named from
    /// `names`.
    pub fn display<'a>(&'a self, names: &'a ResourceNames) -> impl fmt::Display + 'a {
        Rendered {
            reason: self,
            names: Some(names),
        }
    }

    /// Writes the reason; without names an extended resource is `unknown`, as
    /// [`ResourceNames::name`] calls a slot it does not know.
    pub(crate) fn write(
        &self,
        out: &mut impl fmt::Write,
        names: Option<&ResourceNames>,
    ) -> fmt::Result {
        match self {
            Reason::Insufficient(kind) => {
                let name = match names {
                    Some(names) => names.name(*kind),
                    None => BUILTIN
                        .iter()
                        .find(|(_, k)| k == kind)
                        .map_or("unknown", |(n, _)| n),
                };
                write!(out, "Insufficient {name}")
            }
            Reason::RefusedBind(e) => {
                write!(out, "scheduler chose a node it could not bind to ({e})")
            }
            Reason::Text(text) => out.write_str(text),
            fixed => out.write_str(fixed.fixed_text().unwrap_or_default()),
        }
    }

    /// The code whose wording is `text`, if there is one.
    fn parse(text: &str) -> Option<Reason> {
        if let Some(name) = text.strip_prefix("Insufficient ")
            && let Some((_, kind)) = BUILTIN.iter().find(|(n, _)| *n == name)
        {
            return Some(Reason::Insufficient(*kind));
        }
        FIXED.iter().find(|r| r.fixed_text() == Some(text)).cloned()
    }
}

struct Rendered<'a> {
    reason: &'a Reason,
    names: Option<&'a ResourceNames>,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.reason.write(f, self.names)
    }
}

/// Text that is one of the fixed reasons (or a shortfall of a built-in resource) becomes
/// its code, so that a reason counts as the same whether it was given as text or as a
/// code; anything else stays [`Reason::Text`]. Shortfalls of extended resources given as
/// text stay text: only the cluster knows their slot.
impl From<&'static str> for Reason {
    fn from(text: &'static str) -> Reason {
        Reason::parse(text).unwrap_or(Reason::Text(Cow::Borrowed(text)))
    }
}

/// As `From<&'static str>`.
impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason::parse(&text).unwrap_or(Reason::Text(Cow::Owned(text)))
    }
}

/// As `From<&'static str>`.
impl From<Cow<'static, str>> for Reason {
    fn from(text: Cow<'static, str>) -> Reason {
        match text {
            Cow::Borrowed(t) => Reason::from(t),
            Cow::Owned(t) => Reason::from(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_render_the_upstream_constants() {
        let names = ResourceNames::default();
        let cases: [(Reason, &str); 24] = [
            (Reason::NotReady, "node(s) were not ready"),
            (Reason::Unschedulable, "node(s) were unschedulable"),
            (
                Reason::NodeName,
                "node(s) didn't match the requested node name",
            ),
            (Reason::UntoleratedTaint, "node(s) had untolerated taint(s)"),
            (
                Reason::NodeAffinity,
                "node(s) didn't match Pod's node affinity/selector",
            ),
            (
                Reason::NodeAffinityEnforced,
                "node(s) didn't match scheduler-enforced node affinity",
            ),
            (Reason::NodeAffinityConflict, "pod affinity terms conflict"),
            (Reason::TooManyPods, "Too many pods"),
            (Reason::InsufficientGpu, "Insufficient GPU"),
            (Reason::GpuModel, "node(s) didn't match Pod's GPU model"),
            (
                Reason::NodePorts,
                "node(s) didn't have free ports for the requested pod ports",
            ),
            (
                Reason::PodAffinity,
                "node(s) didn't match pod affinity rules",
            ),
            (
                Reason::PodAntiAffinity,
                "node(s) didn't match pod anti-affinity rules",
            ),
            (
                Reason::ExistingPodAntiAffinity,
                "node(s) didn't satisfy existing pods anti-affinity rules",
            ),
            (
                Reason::InterPodAffinityNotPrepared,
                "error reading \"PreFilterInterPodAffinity\" from cycleState: not found",
            ),
            (
                Reason::TopologySpread,
                "node(s) didn't match pod topology spread constraints",
            ),
            (
                Reason::TopologySpreadMissingLabel,
                "node(s) didn't match pod topology spread constraints (missing required label)",
            ),
            (Reason::VolumeZone, "node(s) had no available volume zone"),
            (
                Reason::VolumeNodeConflict,
                "node(s) had volume node affinity conflict",
            ),
            (
                Reason::VolumeBindConflict,
                "node(s) didn't find available persistent volumes to bind",
            ),
            (
                Reason::VolumeNotExist,
                "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)",
            ),
            (
                Reason::UnboundImmediateClaims,
                "pod has unbound immediate PersistentVolumeClaims",
            ),
            (
                Reason::ReadWriteOncePodConflict,
                "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode",
            ),
            (Reason::MaxVolumeCount, "node(s) exceed max volume count"),
        ];
        for (reason, text) in &cases {
            assert_eq!(reason.display(&names).to_string(), *text);
            assert_eq!(reason.fixed_text(), Some(*text));
            // Text and code are one reason.
            assert_eq!(Reason::from(*text), *reason);
            assert_eq!(Reason::from(text.to_string()), *reason);
        }
        // Every code without a payload is in the table above.
        assert!(FIXED.iter().all(|r| cases.iter().any(|(c, _)| c == r)));
    }

    #[test]
    fn shortfalls_render_with_the_clusters_names() {
        let mut names = ResourceNames::default();
        let gpu = names.intern("nvidia.com/gpu").unwrap();
        let text = |r: Reason| r.display(&names).to_string();
        use crate::framework::plugins::node_resources_fit::NodeResourcesFit;
        assert_eq!(
            text(Reason::shortfall(ResourceKind::CPU)),
            NodeResourcesFit::REASON_CPU
        );
        assert_eq!(
            text(Reason::shortfall(ResourceKind::MEMORY)),
            NodeResourcesFit::REASON_MEMORY
        );
        assert_eq!(
            text(Reason::shortfall(ResourceKind::EPHEMERAL_STORAGE)),
            NodeResourcesFit::REASON_EPHEMERAL_STORAGE
        );
        assert_eq!(
            text(Reason::shortfall(ResourceKind::CPU)),
            "Insufficient cpu"
        );
        assert_eq!(
            text(Reason::shortfall(ResourceKind::MEMORY)),
            "Insufficient memory"
        );
        assert_eq!(
            text(Reason::shortfall(ResourceKind::EPHEMERAL_STORAGE)),
            "Insufficient ephemeral-storage"
        );
        assert_eq!(text(Reason::shortfall(ResourceKind::PODS)), "Too many pods");
        assert_eq!(text(Reason::shortfall(gpu)), "Insufficient nvidia.com/gpu");
        assert!(Reason::Insufficient(gpu).names_extended_resource());
        assert!(!Reason::Insufficient(ResourceKind::CPU).names_extended_resource());
        assert_eq!(
            Reason::from("Insufficient cpu"),
            Reason::Insufficient(ResourceKind::CPU)
        );
        // Only the cluster knows an extended resource's slot.
        assert_eq!(
            Reason::from("Insufficient nvidia.com/gpu"),
            Reason::Text("Insufficient nvidia.com/gpu".into())
        );
        let mut unnamed = String::new();
        Reason::Insufficient(gpu).write(&mut unnamed, None).unwrap();
        assert_eq!(unnamed, "Insufficient unknown");
    }

    #[test]
    fn refused_binds_are_known_by_code() {
        let names = ResourceNames::default();
        for e in [
            BindError::NoSuchPod,
            BindError::NoSuchNode,
            BindError::NotPending,
            BindError::DoesNotFit,
            BindError::NotBound,
        ] {
            let r = Reason::RefusedBind(e);
            assert!(r.is_refused_bind());
            assert_eq!(
                r.display(&names).to_string(),
                format!("scheduler chose a node it could not bind to ({e})")
            );
        }
        assert_eq!(
            Reason::RefusedBind(BindError::DoesNotFit)
                .display(&names)
                .to_string(),
            "scheduler chose a node it could not bind to (pod does not fit on the node)"
        );
        // The wording alone is not a refused bind: an external program may say anything.
        let text = Reason::from(String::from(
            "scheduler chose a node it could not bind to (pod does not fit on the node)",
        ));
        assert!(!text.is_refused_bind());
        assert!(!Reason::Insufficient(ResourceKind::CPU).is_refused_bind());
    }

    #[test]
    fn text_stays_verbatim() {
        let names = ResourceNames::default();
        let r = Reason::from(String::from("pod group \"g\" timed out"));
        assert_eq!(
            r,
            Reason::Text(Cow::Owned("pod group \"g\" timed out".into()))
        );
        assert_eq!(r.display(&names).to_string(), "pod group \"g\" timed out");
        assert_eq!(Reason::from("x"), Reason::Text(Cow::Borrowed("x")));
    }
}
