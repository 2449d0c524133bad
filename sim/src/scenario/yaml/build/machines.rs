//! `cluster.machines`: the nodes of a machine trace (see `scenario::machine_traces`), those
//! present when the run starts among the cluster's nodes, the later arrivals and
//! departures as the scenario's node changes.

use std::collections::HashMap;

use schedulers::NodeSpec;
use schedulers::yaml::message::{at_line, one_of};
use serde_saphyr::Spanned;

use super::super::raw::RawClusterMachines;
use super::{Builder, Result};
use crate::controllers::nodes::NodeAction;
use crate::scenario::machine_traces::{
    FORMAT_ALIBABA_2018_MACHINES, FORMAT_GOOGLE_2011_MACHINES, MachineFormat, load_machines,
};
use crate::scenario::trace_formats::MachineScale;

/// The machine trace formats, as `format:` names them.
const FORMATS: [&str; 2] = [FORMAT_ALIBABA_2018_MACHINES, FORMAT_GOOGLE_2011_MACHINES];

impl Builder<'_> {
    /// Reads `cluster.machines`: its nodes at the start go to `nodes`, the changes after
    /// it to [`Builder::node_changes`].
    pub(super) fn cluster_machines(
        &mut self,
        m: &Spanned<RawClusterMachines>,
        nodes: &mut Vec<NodeSpec>,
        seen: &mut HashMap<String, String>,
        max_nodes: u64,
    ) -> Result<()> {
        let base = "cluster.machines";
        let raw = &m.value;
        let format_field = format!("{base}.format");
        let scale_field = format!("{base}.machineScale");
        let format = match raw.format.value.as_str() {
            FORMAT_GOOGLE_2011_MACHINES | FORMAT_ALIBABA_2018_MACHINES => {
                let Some(scale) = &raw.machine_scale else {
                    return Err(self.kube.err(
                        &m.referenced,
                        &scale_field,
                        "missing required field `machineScale` (what the trace's normalized sizes stand for), e.g. machineScale: {cpu: \"32\", memory: 128Gi}",
                    ));
                };
                if raw.format.value == FORMAT_GOOGLE_2011_MACHINES {
                    MachineFormat::Google2011(MachineScale {
                        cpu_milli: self.machine_part(scale, &scale_field, "cpu")?,
                        memory_bytes: self.machine_part(scale, &scale_field, "memory")?,
                    })
                } else {
                    if let Some(cpu) = &scale.value.cpu {
                        return Err(self.kube.err(
                            &cpu.referenced,
                            &format!("{scale_field}.cpu"),
                            "machine_meta gives each machine's cores (cpu_num); only `memory` (what mem_size 100 is) is scaled",
                        ));
                    }
                    MachineFormat::Alibaba2018 {
                        memory_bytes: self.machine_part(scale, &scale_field, "memory")?,
                    }
                }
            }
            other => {
                return Err(self.kube.err(
                    &raw.format.referenced,
                    &format_field,
                    format!(
                        "unknown machine trace format {other:?}; expected {}",
                        one_of(&FORMATS)
                    ),
                ));
            }
        };
        let window = match &raw.window {
            Some(w) => Some(self.trace_window(w, &format!("{base}.window"))?),
            None => None,
        };
        let strict = self.strict_traces || raw.strict.as_ref().is_some_and(|s| s.value);
        let path_field = format!("{base}.path");
        let (path, shown) = self.trace_path(&raw.path, &path_field)?;
        let timeline = load_machines(&path, &shown, format, window, strict)?;
        if let Some(skipped) = &timeline.skipped {
            self.trace_warnings.push(skipped.warning());
        }
        if timeline.initial.is_empty() && timeline.changes.is_empty() {
            return Err(self.kube.err(
                &raw.path.referenced,
                &path_field,
                format!("{shown} lists no machine in the window"),
            ));
        }
        let joining = timeline
            .changes
            .iter()
            .filter(|(_, a)| matches!(a, NodeAction::Add(_)))
            .count();
        let total = (nodes.len() + timeline.initial.len() + joining) as u64;
        if total > max_nodes {
            return Err(self.kube.err(
                &raw.path.referenced,
                &path_field,
                format!("the machines bring the cluster to {total} nodes over the run; a scenario may define at most {max_nodes}"),
            ));
        }
        let origin = format!("{base}{}", at_line(&raw.path.referenced));
        let names = timeline
            .initial
            .iter()
            .chain(timeline.changes.iter().filter_map(|(_, a)| match a {
                NodeAction::Add(spec) => Some(spec),
                _ => None,
            }));
        for spec in names {
            if let Some(first) = seen.get(&spec.name)
                && *first != origin
            {
                return Err(self.kube.err(
                    &raw.path.referenced,
                    &path_field,
                    format!(
                        "machine {:?} of {shown} is a node {first} already defines",
                        spec.name
                    ),
                ));
            }
            seen.insert(spec.name.clone(), origin.clone());
            self.charge_capacity(&spec.allocatable, 1, &raw.path.referenced, &path_field)?;
        }
        // A resize may grow a node: its size counts towards the total as a node's would,
        // so that no sum over the run's nodes can overflow.
        for (_, action) in &timeline.changes {
            if let NodeAction::Resize(_, allocatable) = action {
                self.charge_capacity(allocatable, 1, &raw.path.referenced, &path_field)?;
            }
        }
        nodes.extend(timeline.initial);
        self.node_changes.extend(timeline.changes);
        Ok(())
    }
}
