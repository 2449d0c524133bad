//! `nodePressure:`: the kubelets' hard memory eviction threshold, the eviction
//! manager's period, the MemoryPressure transition period, OOM kills and the
//! CrashLoopBackOff delays.

use schedulers::ResourceKind;
use schedulers::yaml::Scalar;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{Builder, Result};
use crate::scenario::node_pressure::{MemoryThreshold, NodePressureSettings};

/// `nodePressure:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(in crate::scenario::yaml) struct RawNodePressure {
    eviction_hard: Option<Spanned<RawEvictionHard>>,
    housekeeping_interval: Option<Spanned<Scalar>>,
    eviction_pressure_transition_period: Option<Spanned<Scalar>>,
    oom_kill: Option<Spanned<bool>>,
    crash_loop_back_off: Option<Spanned<RawBackOff>>,
}

/// `evictionHard:`, KubeletConfiguration's map of signals; only memory is modelled.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvictionHard {
    #[serde(rename = "memory.available")]
    memory_available: Option<Spanned<Scalar>>,
}

/// `crashLoopBackOff:`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawBackOff {
    initial: Option<Spanned<Scalar>>,
    max: Option<Spanned<Scalar>>,
}

impl Builder<'_> {
    /// `nodePressure:`.
    pub(super) fn node_pressure(
        &self,
        raw: &Spanned<RawNodePressure>,
    ) -> Result<NodePressureSettings> {
        let p = &raw.value;
        let mut out = NodePressureSettings::default();
        if let Some(v) = p
            .eviction_hard
            .as_ref()
            .and_then(|e| e.value.memory_available.as_ref())
        {
            out.memory_available = self.memory_threshold(v)?;
        }
        if let Some(v) = &p.housekeeping_interval {
            out.housekeeping_interval =
                self.positive_duration(v, "nodePressure.housekeepingInterval")?;
        }
        if let Some(v) = &p.eviction_pressure_transition_period {
            out.pressure_transition_period =
                self.duration(v, "nodePressure.evictionPressureTransitionPeriod")?;
        }
        if let Some(v) = &p.oom_kill {
            out.oom_kill = v.value;
        }
        if let Some(b) = &p.crash_loop_back_off {
            if let Some(v) = &b.value.initial {
                out.backoff_initial =
                    self.positive_duration(v, "nodePressure.crashLoopBackOff.initial")?;
            }
            if let Some(v) = &b.value.max {
                out.backoff_max = self.positive_duration(v, "nodePressure.crashLoopBackOff.max")?;
                if out.backoff_max < out.backoff_initial {
                    return Err(self.kube.err(
                        &v.referenced,
                        "nodePressure.crashLoopBackOff.max",
                        format!(
                            "must be at least crashLoopBackOff.initial ({}), got {}",
                            out.backoff_initial, out.backoff_max
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// `memory.available`: a quantity (`100Mi`) or a percentage of allocatable (`5%`).
    fn memory_threshold(&self, v: &Spanned<Scalar>) -> Result<MemoryThreshold> {
        const FIELD: &str = "nodePressure.evictionHard[\"memory.available\"]";
        let text = v.value.0.trim();
        if let Some(pct) = text.strip_suffix('%') {
            // Upstream parses a percentage as a float in [0, 100].
            return match pct.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && (0.0..=100.0).contains(&x) => {
                    Ok(MemoryThreshold::Permille((x * 10.0).round() as u32))
                }
                _ => Err(self.kube.err(
                    &v.referenced,
                    FIELD,
                    format!(
                        "expected a percentage from 0% to 100% or a size such as 100Mi, got {text:?}"
                    ),
                )),
            };
        }
        let bytes = self.kube.quantity(ResourceKind::MEMORY, v, FIELD)?;
        Ok(MemoryThreshold::Bytes(bytes))
    }
}
