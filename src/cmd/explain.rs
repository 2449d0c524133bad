//! `schedlab explain`: plays a scenario up to one pod's scheduling attempt and shows, node
//! by node, what the scheduler's plugins made of it: which filter rejected each node and
//! why, and how each feasible node scored.
//!
//! The simulation itself does the stopping ([`sim::Simulation::explain`]): pods ahead of
//! the target in the same cycle are scheduled first, so the explanation sees the cluster
//! exactly as the real attempt would. This module only resolves node ids to names and
//! renders the result, as an aligned table or as one JSON object.

use std::process::ExitCode;

use anyhow::anyhow;
use schedulers::cluster::ClusterState;
use schedulers::framework::Explanation;
use schedulers::{Registry, SchedulerSpec};
use serde::ser::{Serialize, SerializeMap, Serializer};
use sim::{ExplainOutcome, SimTime, Simulation};

use super::Stdout;
use crate::cli::ExplainArgs;

/// Marks the selected node in the table's first column.
const SELECTED_MARK: &str = "*";

/// Explains the attempt; exit code 0 when it was explained, an error (exit code 1) when
/// the pod had no attempt to explain or the scheduler cannot explain itself, exit code 2
/// for an unknown scheduler.
pub fn execute(
    args: ExplainArgs,
    registry: &mut Registry,
    out: &mut Stdout,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.scheduler_config {
        super::register_scheduler_config(path, registry)?;
    }
    let registry = &*registry;
    let spec = SchedulerSpec::parse(&args.scheduler)?;
    // A name the registry lacks may still be a profile of the scenario's own
    // `schedulerConfig`, so the scenario is loaded before an unknown name is reported; when
    // neither is usable, the scheduler's error (exit code 2) is what is reported.
    let early = registry.check(&spec, &[]);
    let scenario = sim::load_scenario_with(
        &args.scenario,
        &|spec, profiles| registry.check(spec, profiles),
        &args.load.options(),
    );
    let scenario = match (early, scenario) {
        (Err(unknown), Err(_)) => return Err(unknown.into()),
        (_, Err(error)) => return Err(error.into()),
        (_, Ok(scenario)) => scenario,
    };
    super::log_profile_warnings(&scenario);
    let scheduler = registry.build(&spec, &scenario.build_context())?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let mut simulation = Simulation::new(&scenario, scheduler, seed);
    let outcome = simulation.explain(&args.pod, args.at).ok_or_else(|| {
        // "Bound before 0s" cannot happen, so that possibility is named only when it can.
        let bound_earlier = if args.at > SimTime::ZERO {
            format!(", or it was bound before {} (try an earlier --at)", args.at)
        } else {
            String::new()
        };
        anyhow!(
            "pod \"{}\" had no scheduling attempt at or after {} (scenario {}, seed {seed}): \
             either no pod has that name (a workload's pods are named after it, with -0, \
             -1, ... when there are several), or it names its node with `nodeName:` and so \
             never meets the scheduler{bound_earlier}",
            args.pod,
            args.at,
            scenario.name,
        )
    })?;
    let (time, explanation) = match outcome {
        ExplainOutcome::Explained {
            time, explanation, ..
        } => (time, explanation),
        ExplainOutcome::NotExplainable { time } => {
            return Err(anyhow!(
                "scheduler \"{}\" cannot explain its decisions (pod \"{}\" was attempted at \
                 {time}); only framework profiles such as kube-default can",
                args.scheduler,
                args.pod
            ));
        }
    };
    let report = Report::new(&args.pod, time, &explanation, simulation.cluster());
    if args.json {
        out.line(serde_json::to_string(&report)?)?;
    } else {
        for line in report.table() {
            out.line(line)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// An explained attempt with node ids resolved to names: what both renderings show. Its
/// `Serialize` implementation is the `--json` format.
#[derive(Debug, serde::Serialize)]
struct Report {
    pod: String,
    #[serde(rename = "time_s", serialize_with = "seconds")]
    time: SimTime,
    profile: String,
    selected: Option<String>,
    diagnosis: Option<String>,
    /// When no node fits but DefaultPreemption can make room: the nominated node and the
    /// pods it would evict.
    preemption: Option<Preemption>,
    /// For a pod group member placed on a node: whether it would wait at Permit for its
    /// group or complete it. Left out for other pods.
    #[serde(skip_serializing_if = "Option::is_none")]
    permit: Option<String>,
    nodes: Vec<NodeRow>,
}

/// A preemption decision, names resolved.
#[derive(Debug, serde::Serialize)]
struct Preemption {
    node: String,
    victims: Vec<String>,
}

/// One node's verdict.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeRow {
    node: String,
    evaluated: bool,
    feasible: bool,
    failed_plugin: Option<&'static str>,
    reasons: Vec<String>,
    scores: Scores,
    total: i64,
}

/// A node's score plugins in profile order. Serialized as a JSON object keyed by plugin
/// name; written entry by entry rather than through a map type, so the key order is the
/// profile's whatever map implementation serde_json was built with.
#[derive(Debug, Default)]
struct Scores(Vec<Score>);

/// One score plugin's contribution to a node's total.
#[derive(Debug, serde::Serialize)]
struct Score {
    #[serde(skip)]
    plugin: &'static str,
    raw: i64,
    normalized: i64,
    weight: i64,
}

impl Serialize for Scores {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for score in &self.0 {
            map.serialize_entry(score.plugin, score)?;
        }
        map.end()
    }
}

/// A time as a JSON number of seconds. Exact for any run shorter than 2^53 microseconds
/// (285 years), and printed in serde_json's shortest round-trip form, so equal times
/// always print alike.
fn seconds<S: Serializer>(time: &SimTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(time.as_secs_f64())
}

impl Report {
    fn new(pod: &str, time: SimTime, e: &Explanation, cluster: &ClusterState) -> Report {
        let name = |id| cluster.node(id).name().to_string();
        Report {
            pod: pod.to_string(),
            time,
            profile: e.profile.clone(),
            selected: e.selected.map(name),
            diagnosis: e.diagnosis.as_ref().map(|d| d.to_string()),
            preemption: e.preemption.as_ref().map(|c| Preemption {
                node: name(c.node),
                victims: c
                    .victims
                    .iter()
                    .filter_map(|&v| cluster.pod(v).map(|p| p.name().to_string()))
                    .collect(),
            }),
            permit: e.permit.clone(),
            nodes: e
                .nodes
                .iter()
                .map(|v| NodeRow {
                    node: name(v.node),
                    evaluated: v.evaluated,
                    feasible: v.feasible,
                    failed_plugin: v.failed_plugin,
                    reasons: v.reasons.clone(),
                    scores: Scores(
                        v.scores
                            .iter()
                            .map(|s| Score {
                                plugin: s.plugin,
                                raw: s.raw,
                                normalized: s.normalized,
                                weight: s.weight,
                            })
                            .collect(),
                    ),
                    total: v.total,
                })
                .collect(),
        }
    }

    /// The header line, the table and a legend, one string per line.
    fn table(&self) -> Vec<String> {
        let mut outcome = match (&self.selected, &self.diagnosis) {
            (Some(node), _) => format!("selected {node}"),
            (None, Some(diagnosis)) => format!("unschedulable: {diagnosis}"),
            (None, None) => "unschedulable".to_string(),
        };
        if let Some(p) = &self.preemption {
            outcome.push_str(&format!(
                " -> preempts {} on {} ({})",
                p.victims.len(),
                p.node,
                p.victims.join(", ")
            ));
        }
        if let Some(permit) = &self.permit {
            outcome.push_str(&format!("; {permit}"));
        }
        let mut lines = vec![format!(
            "pod {} at {}, profile {}: {outcome}",
            self.pod, self.time, self.profile
        )];

        // Score columns in profile order. Every scored node has the same plugins (a
        // plugin that skips a pod skips it on every node), but collecting over all nodes
        // keeps a column for any plugin that shows up anywhere.
        let mut plugins: Vec<&'static str> = Vec::new();
        for row in &self.nodes {
            for score in &row.scores.0 {
                if !plugins.contains(&score.plugin) {
                    plugins.push(score.plugin);
                }
            }
        }

        let mut header = vec![String::new(), "node".to_string(), "feasible".to_string()];
        header.extend(plugins.iter().map(|p| p.to_string()));
        header.extend(["total".to_string(), "rejected by".to_string()]);
        let mut rows = vec![header];
        for row in &self.nodes {
            let selected = self.selected.as_deref() == Some(row.node.as_str());
            let feasible = match (row.evaluated, row.feasible) {
                (false, _) => "not evaluated",
                (true, true) => "yes",
                (true, false) => "no",
            };
            let mut cells = vec![
                if selected { SELECTED_MARK } else { "" }.to_string(),
                row.node.clone(),
                feasible.to_string(),
            ];
            for plugin in &plugins {
                cells.push(match row.scores.0.iter().find(|s| s.plugin == *plugin) {
                    Some(s) => format!("{}->{} x{}", s.raw, s.normalized, s.weight),
                    None => "-".to_string(),
                });
            }
            cells.push(if row.scores.0.is_empty() {
                "-".to_string()
            } else {
                row.total.to_string()
            });
            cells.push(match row.failed_plugin {
                Some(plugin) if row.reasons.is_empty() => plugin.to_string(),
                Some(plugin) => format!("{plugin}: {}", row.reasons.join("; ")),
                None => String::new(),
            });
            rows.push(cells);
        }
        lines.extend(align(&rows));
        if !plugins.is_empty() {
            lines.push(String::new());
            lines.push(format!(
                "{SELECTED_MARK} selected; scores are raw->normalized x weight, and total is \
                 the sum of normalized x weight"
            ));
        }
        lines
    }
}

/// Pads every column to its widest cell, two spaces apart. The last column is left
/// unpadded: it holds the free-text rejection reasons, whose length should not widen
/// anything, and trailing spaces would only get in the way of copying and diffing.
fn align(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; columns];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::new();
            for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                line.push_str(cell);
                if i + 1 < row.len() {
                    line.push_str(&" ".repeat(width - cell.chars().count()));
                }
            }
            line.trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_lines_have_no_trailing_spaces() {
        let rows = vec![
            vec!["".to_string(), "node".to_string(), "why".to_string()],
            vec!["*".to_string(), "a-long-name".to_string(), "".to_string()],
            vec!["".to_string(), "b".to_string(), "a reason".to_string()],
        ];
        assert_eq!(
            align(&rows),
            [
                "   node         why",
                "*  a-long-name",
                "   b            a reason",
            ]
        );
    }

    #[test]
    fn scores_serialize_in_profile_order() {
        let scores = Scores(vec![
            Score {
                plugin: "Zeta",
                raw: 1,
                normalized: 2,
                weight: 3,
            },
            Score {
                plugin: "Alpha",
                raw: 4,
                normalized: 5,
                weight: 6,
            },
        ]);
        assert_eq!(
            serde_json::to_string(&scores).unwrap(),
            r#"{"Zeta":{"raw":1,"normalized":2,"weight":3},"Alpha":{"raw":4,"normalized":5,"weight":6}}"#
        );
    }
}
