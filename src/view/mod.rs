//! `schedlab view` and `run --view`: one self-contained HTML page that replays a run.
//!
//! The page is drawn from two files of the run's folder. `trace.csv` gives the pod
//! events (created, bound, unschedulable with kube-scheduler's reasons, started,
//! finished, evicted, ...), read row by row here exactly as the run wrote them.
//! `view-data.json` ([`DATA_FILE`]), which `run --trace` writes beside it, gives what the
//! trace lacks: each node's name and allocatable CPU and memory, when nodes joined, left,
//! turned NotReady, were cordoned, failed or recovered, and each pod's workload and
//! requests ([`record::Recorder`] collects them during the run). With `run --view` it also
//! holds, for schedulers that explain themselves (framework profiles such as
//! `kube-default`), the per-node filter verdicts and scores of each pod's placement,
//! computed after the run by replaying it up to each placement
//! ([`record::explain_pods`]); `view` itself never runs anything.
//!
//! The embedded data is compact: pods, nodes and workloads are listed once and named by
//! their index, events are `[time_us, pod, kind, argument]` arrays, and every reason is
//! an index into one table of distinct strings. Runs above [`MAX_NODES`] nodes or
//! [`MAX_EVENTS`] trace rows are refused rather than drawn as a giant page.

pub mod record;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

/// The side file `run --trace` writes for the page, in the run's folder.
pub const DATA_FILE: &str = "view-data.json";
/// The page's file name in the run's folder.
pub const PAGE_FILE: &str = "view.html";
/// The most nodes a page draws; larger runs are refused.
pub const MAX_NODES: usize = 500;
/// The most `trace.csv` rows a page replays; longer traces are refused.
pub const MAX_EVENTS: usize = 50_000;
/// The most placements `run --view` explains (each costs a replay up to it).
pub const MAX_EXPLAINED: usize = 300;
/// The most node verdicts `run --view` keeps over all explained placements, which bounds
/// the page's size on large clusters (300 placements of 200 nodes each).
pub const MAX_VERDICTS: usize = 60_000;
/// The version of [`ViewData`]'s layout, checked when reading.
pub const DATA_VERSION: u32 = 1;

/// The pod events of `trace.csv` the page replays, by the index the data names them by.
/// Other rows (node, workload and autoscaler records) are not about a pod and are skipped.
pub const EVENT_KINDS: [&str; 11] = [
    "created",
    "bound",
    "unschedulable",
    "started",
    "finished",
    "evicted",
    "rejected",
    "abandoned",
    "failed",
    "oom-killed",
    "restarted",
];

/// What can happen to a node, by the index [`ViewData::node_events`] names it by.
pub const NODE_EVENT_KINDS: [&str; 8] = [
    "added",
    "removed",
    "not-ready",
    "ready",
    "cordoned",
    "uncordoned",
    "failed",
    "recovered",
];

/// Everything the page shows, as embedded in it (and, without `events`, as
/// `view-data.json` stores it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewData {
    /// [`DATA_VERSION`].
    pub version: u32,
    /// The scenario's name.
    pub scenario: String,
    /// The scheduler's label.
    pub scheduler: String,
    /// The run's seed.
    pub seed: u64,
    /// Distinct reason and detail strings; events and verdicts name them by index.
    pub strings: Vec<String>,
    /// Every node that was ever in the cluster: name, allocatable CPU (millicores) and
    /// memory (bytes).
    pub nodes: Vec<(String, i64, i64)>,
    /// `[time_us, node, kind]`, kind an index into [`NODE_EVENT_KINDS`], in time order.
    pub node_events: Vec<(u64, u32, u8)>,
    /// Workload names.
    pub workloads: Vec<String>,
    /// Every pod: name, workload, requested CPU (millicores) and memory (bytes).
    pub pods: Vec<(String, u32, i64, i64)>,
    /// Explained placements, in pod order.
    pub explained: Vec<Explained>,
    /// True when more placements could have been explained than [`MAX_EXPLAINED`].
    #[serde(default)]
    pub explained_truncated: bool,
    /// `[time_us, pod, kind, argument]` from `trace.csv`, kind an index into
    /// [`EVENT_KINDS`]; the argument is the node for `bound`, else the detail's string
    /// index, or -1 without detail. Not stored in `view-data.json`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<(u64, u32, u8, i64)>,
}

/// One scheduling attempt explained node by node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explained {
    /// The pod's index.
    pub pod: u32,
    /// When the attempt was made, in microseconds.
    pub time: u64,
    /// The profile's name.
    pub profile: String,
    /// The chosen node, if any.
    pub selected: Option<u32>,
    /// Why no node was chosen (a string index), if none was.
    pub diagnosis: Option<u32>,
    /// The score plugins, in profile order.
    pub plugins: Vec<String>,
    /// `[node, verdict, total score, [score per plugin]]` in the order the nodes were
    /// visited; the verdict is -1 for a feasible node, -2 for one not evaluated, else the
    /// string index of `Plugin: reasons`; a plugin's score is its normalized score times
    /// its weight (the list is empty for a node not scored).
    pub nodes: Vec<(u32, i64, i64, Vec<i64>)>,
}

impl ViewData {
    /// The index of `text` in [`ViewData::strings`], added if new.
    pub fn intern(&mut self, text: &str, index: &mut HashMap<String, u32>) -> u32 {
        if let Some(&i) = index.get(text) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(text.to_string());
        index.insert(text.to_string(), i);
        i
    }
}

/// Reads a run folder's `view-data.json` and `trace.csv` into the page's data. Every
/// error names the file, and for a bad row its line and field.
pub fn load(run_dir: &Path) -> anyhow::Result<ViewData> {
    if !run_dir.is_dir() {
        bail!(
            "{}: not a run folder (no such directory)",
            run_dir.display()
        );
    }
    let data_path = run_dir.join(DATA_FILE);
    let text = fs::read_to_string(&data_path).map_err(|e| {
        anyhow!(
            "{}: cannot be read ({e}); `schedlab run --trace` or `--view` writes it",
            data_path.display()
        )
    })?;
    let mut data: ViewData = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}:{}:{}: {e}", data_path.display(), e.line(), e.column()))?;
    check(&data).map_err(|m| anyhow!("{}: {m}", data_path.display()))?;
    data.events = read_trace(&run_dir.join("trace.csv"), &mut data)?;
    Ok(data)
}

/// Checks the side file's indices and sizes, naming the field of the first problem.
fn check(data: &ViewData) -> Result<(), String> {
    if data.version != DATA_VERSION {
        return Err(format!(
            "field version: {} is not {DATA_VERSION}, the layout this schedlab reads",
            data.version
        ));
    }
    if data.nodes.len() > MAX_NODES {
        return Err(format!(
            "the run has {} nodes; view draws runs of at most {MAX_NODES}",
            data.nodes.len()
        ));
    }
    let (nodes, strings) = (data.nodes.len() as u64, data.strings.len() as i64);
    for (i, &(_, node, kind)) in data.node_events.iter().enumerate() {
        if u64::from(node) >= nodes {
            return Err(format!("field node_events[{i}]: node {node} is not listed"));
        }
        if usize::from(kind) >= NODE_EVENT_KINDS.len() {
            return Err(format!("field node_events[{i}]: unknown kind {kind}"));
        }
    }
    for (i, (_, workload, _, _)) in data.pods.iter().enumerate() {
        if *workload as usize >= data.workloads.len() {
            return Err(format!(
                "field pods[{i}]: workload {workload} is not listed"
            ));
        }
    }
    for (i, e) in data.explained.iter().enumerate() {
        let node_ok = |n: u32| u64::from(n) < nodes;
        if e.pod as usize >= data.pods.len()
            || !e.selected.is_none_or(node_ok)
            || e.diagnosis.is_some_and(|d| i64::from(d) >= strings)
            || e.nodes.iter().any(|&(n, verdict, _, ref scores)| {
                !node_ok(n)
                    || verdict < -2
                    || verdict >= strings
                    || !(scores.is_empty() || scores.len() == e.plugins.len())
            })
        {
            return Err(format!("field explained[{i}]: an index is out of range"));
        }
    }
    Ok(())
}

/// A `trace.csv` time (`12.500000`, seconds with six decimals) in microseconds.
fn parse_micros(text: &str) -> Option<u64> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || frac.len() > 6
        || !(whole.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac_micros: u64 = format!("{frac:0<6}").parse().ok()?;
    whole
        .parse::<u64>()
        .ok()?
        .checked_mul(1_000_000)?
        .checked_add(frac_micros)
}

/// Reads `trace.csv`: the pod events the page replays, strings interned into `data`.
fn read_trace(path: &Path, data: &mut ViewData) -> anyhow::Result<Vec<(u64, u32, u8, i64)>> {
    let shown = path.display();
    let file = fs::File::open(path).map_err(|e| {
        anyhow!("{shown}: cannot be read ({e}); `schedlab run --trace` or `--view` writes it")
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| anyhow!("{shown}:1: {e}"))?
        .clone();
    if header.iter().collect::<Vec<_>>() != crate::output::TRACE_COLUMNS {
        bail!(
            "{shown}:1: the header is `{}`, not `{}`",
            header.iter().collect::<Vec<_>>().join(","),
            crate::output::TRACE_COLUMNS.join(",")
        );
    }
    // Looked up only, never iterated: the order of the page's data is the files' order.
    let pods: HashMap<String, u32> = data
        .pods
        .iter()
        .enumerate()
        .map(|(i, p)| (p.0.clone(), i as u32))
        .collect();
    let nodes: HashMap<String, u32> = data
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.0.clone(), i as u32))
        .collect();
    let mut index: HashMap<String, u32> = data
        .strings
        .iter()
        .enumerate()
        .map(|(i, s)| (s.clone(), i as u32))
        .collect();
    let mut events = Vec::new();
    let mut rows = 0usize;
    let mut last = 0u64;
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            anyhow!("{shown}:{line}: {e}")
        })?;
        let line = record.position().map_or(0, |p| p.line());
        rows += 1;
        if rows > MAX_EVENTS {
            bail!(
                "{shown}: the trace has more than {MAX_EVENTS} rows; view replays runs of at most {MAX_EVENTS}"
            );
        }
        let field = |i: usize| record.get(i).unwrap_or("");
        let time = parse_micros(field(0)).ok_or_else(|| {
            anyhow!(
                "{shown}:{line}: field time_s: `{}` is not a time in seconds",
                field(0)
            )
        })?;
        if time < last {
            bail!(
                "{shown}:{line}: field time_s: {} is earlier than the row before",
                field(0)
            );
        }
        last = time;
        let (Some(&pod), Some(kind)) = (
            pods.get(field(1)),
            EVENT_KINDS.iter().position(|k| *k == field(2)),
        ) else {
            continue;
        };
        let detail = field(3);
        let argument = if EVENT_KINDS[kind] == "bound" {
            i64::from(*nodes.get(detail).ok_or_else(|| {
                anyhow!("{shown}:{line}: field detail: node `{detail}` is not in {DATA_FILE}")
            })?)
        } else if detail.is_empty() {
            -1
        } else {
            i64::from(data.intern(detail, &mut index))
        };
        events.push((time, pod, kind as u8, argument));
    }
    Ok(events)
}

/// The page for `data`: one HTML file with its script, style and data inline.
pub fn render(data: &ViewData) -> anyhow::Result<String> {
    let json = serde_json::to_string(data)?;
    // `<` never appears outside a JSON string, and inside one `\u003c` means the same,
    // so no reason text can close the script element.
    let json = json.replace('<', "\\u003c");
    let template = include_str!("page.html");
    let (head, tail) = template
        .split_once("__SCHEDLAB_VIEW_DATA__")
        .context("the page template has no data placeholder")?;
    Ok(format!("{head}{json}{tail}"))
}

/// Reads the run folder and writes its page to `out` (by default `RUN_DIR/view.html`);
/// returns the page's path.
pub fn write(run_dir: &Path, out: Option<&Path>) -> anyhow::Result<PathBuf> {
    let data = load(run_dir)?;
    let page = render(&data)?;
    let out = out.map_or_else(|| run_dir.join(PAGE_FILE), Path::to_path_buf);
    crate::output::write_atomically(&out, |temp| {
        fs::write(temp, page).with_context(|| format!("writing {}", temp.display()))
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_times_are_exact_microseconds() {
        assert_eq!(parse_micros("0.000000"), Some(0));
        assert_eq!(parse_micros("12.500000"), Some(12_500_000));
        assert_eq!(parse_micros("3.000001"), Some(3_000_001));
        assert_eq!(parse_micros("7"), Some(7_000_000));
        assert_eq!(parse_micros("1.5"), Some(1_500_000));
        assert_eq!(parse_micros("-1.0"), None);
        assert_eq!(parse_micros("1.0000001"), None);
        assert_eq!(parse_micros("x"), None);
        assert_eq!(parse_micros(""), None);
    }

    #[test]
    fn the_page_cannot_be_closed_by_a_reason() {
        let data = ViewData {
            version: DATA_VERSION,
            strings: vec!["</script><b>".to_string()],
            ..ViewData::default()
        };
        let page = render(&data).unwrap();
        assert_eq!(
            page.matches("</script>").count(),
            include_str!("page.html").matches("</script>").count()
        );
        assert!(page.contains("\\u003c/script>\\u003cb>"));
    }
}
