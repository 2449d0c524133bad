//! Node taints and the pod tolerations that allow them.

use crate::kubernetes_enum;
use std::fmt;

kubernetes_enum! {
    /// What a taint does to pods that do not tolerate it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
    pub enum TaintEffect {
        /// New pods are not scheduled on the node.
        NoSchedule => "NoSchedule",
        /// The scheduler avoids the node when it can.
        PreferNoSchedule => "PreferNoSchedule",
        /// New pods are not scheduled and running pods are evicted.
        NoExecute => "NoExecute",
    }
}

impl fmt::Display for TaintEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A taint on a node: `key=value:effect`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Taint {
    /// The taint key.
    pub key: String,
    /// The taint value (may be empty).
    pub value: String,
    /// What the taint does.
    pub effect: TaintEffect,
}

kubernetes_enum! {
    /// How a toleration compares its value with a taint's.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub enum TolerationOperator {
        /// The values must be equal (the Kubernetes default).
        #[default]
        Equal => "Equal",
        /// Any value matches.
        Exists => "Exists",
    }
}

/// A pod's toleration of taints.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Toleration {
    /// The taint key it tolerates; empty with `Exists` tolerates every key.
    pub key: String,
    /// How values compare.
    pub operator: TolerationOperator,
    /// The value for `Equal`.
    pub value: String,
    /// The effect it tolerates; `None` tolerates every effect.
    pub effect: Option<TaintEffect>,
    /// For NoExecute taints: how long the pod stays bound after the taint appears
    /// (`None` means forever).
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// True when this toleration tolerates the taint, with Kubernetes' matching rules.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self.effect.is_some_and(|e| e != taint.effect) {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        }
    }
}

/// The first taint with a NoSchedule or NoExecute effect that none of the tolerations
/// tolerates: the taint that keeps a pod off a node.
pub fn first_untolerated<'a>(taints: &'a [Taint], tolerations: &[Toleration]) -> Option<&'a Taint> {
    taints.iter().find(|t| {
        t.effect != TaintEffect::PreferNoSchedule && !tolerations.iter().any(|tol| tol.tolerates(t))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint {
            key: key.into(),
            value: value.into(),
            effect,
        }
    }

    #[test]
    fn toleration_matching() {
        let t = taint("dedicated", "gpu", TaintEffect::NoSchedule);
        let equal = Toleration {
            key: "dedicated".into(),
            value: "gpu".into(),
            ..Default::default()
        };
        let wrong_value = Toleration {
            key: "dedicated".into(),
            value: "db".into(),
            ..Default::default()
        };
        let exists = Toleration {
            key: "dedicated".into(),
            operator: TolerationOperator::Exists,
            ..Default::default()
        };
        let wildcard = Toleration {
            operator: TolerationOperator::Exists,
            ..Default::default()
        };
        let wrong_effect = Toleration {
            effect: Some(TaintEffect::NoExecute),
            ..exists.clone()
        };
        assert!(equal.tolerates(&t));
        assert!(!wrong_value.tolerates(&t));
        assert!(exists.tolerates(&t));
        assert!(wildcard.tolerates(&t));
        assert!(!wrong_effect.tolerates(&t));
    }

    #[test]
    fn prefer_no_schedule_never_blocks() {
        let taints = [
            taint("soft", "", TaintEffect::PreferNoSchedule),
            taint("hard", "x", TaintEffect::NoExecute),
        ];
        assert_eq!(
            first_untolerated(&taints, &[]).map(|t| t.key.as_str()),
            Some("hard")
        );
        let tol = Toleration {
            key: "hard".into(),
            value: "x".into(),
            ..Default::default()
        };
        assert_eq!(first_untolerated(&taints, &[tol]), None);
    }
}
