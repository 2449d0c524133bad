//! The report of a sweep: charts in `OUT/charts/` and one page, `OUT/index.html`, built
//! from the sweep's CSV files alone (`summary.csv`, `stats.csv` and each run's
//! `timeseries.csv`, and `trace.csv` when there), so that `schedlab report OUT` rebuilds
//! exactly what `run` wrote.
//!
//! Per scenario folder (a scenario at one `--set` point) the charts are: the time series of
//! pending pods, CPU and memory allocation and node count, one line per scheduler (the
//! mean over seeds at each sample time, with a band from the lowest to the highest seed);
//! and bars of key metrics with their 95% intervals from stats.csv; with `run --trace`, the
//! CDF of scheduling latency, per scheduler over all seeds' pods, and for at most 50 nodes
//! a per-node timeline of the pods per scheduler. Per scenario with
//! `--set` points, each key metric against each overridden value, with the intervals as
//! whiskers.
//!
//! Everything is a pure function of the files read, in their row order: the outputs are
//! byte-identical for equal inputs. A missing or malformed file is an error naming the
//! file, and the line and column where one is at fault.

pub(crate) mod charts;
mod html;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use crate::output::{self, RunKey, sanitize};
use charts::{Bar, Chart, Labels, Series};

/// Whether PNG copies of the charts are written beside the SVG files. The page uses the
/// SVG files; the PNGs are for pasting into documents.
const PNG: bool = true;

/// The time series charted per scenario folder: `(timeseries.csv column, file stem, title,
/// y axis)`.
const TIME_SERIES: [(&str, &str, &str, &str); 4] = [
    ("pending", "pending", "Pending pods", "pods"),
    (
        "cpu_alloc",
        "cpu_alloc",
        "CPU allocation",
        "requested / allocatable",
    ),
    (
        "mem_alloc",
        "mem_alloc",
        "Memory allocation",
        "requested / allocatable",
    ),
    ("nodes", "nodes", "Nodes", "nodes"),
];

/// The summary metrics drawn as bars, and against swept parameters: `(column, title)`.
const KEY_METRICS: [(&str, &str); 5] = [
    ("pods_scheduled", "Pods scheduled"),
    ("pods_pending_at_end", "Pods pending at the end"),
    ("latency_p99_s", "Scheduling latency p99 (s)"),
    ("cpu_alloc_mean", "Mean CPU allocation"),
    ("mem_alloc_mean", "Mean memory allocation"),
];

/// A CSV reading error in the report's `FILE: line N: ...` form.
fn csv_error(path: &Path, e: csv::Error) -> anyhow::Error {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos: Some(pos),
            expected_len,
            len,
        } => anyhow!(
            "{}: line {}: {len} field(s), but the header has {expected_len}",
            path.display(),
            pos.line()
        ),
        csv::ErrorKind::Utf8 { pos: Some(pos), .. } => {
            anyhow!("{}: line {}: not valid UTF-8", path.display(), pos.line())
        }
        _ => anyhow!("{}: {e}", path.display()),
    }
}

/// A CSV file read whole: its header and its records with their line numbers.
pub struct Table {
    path: PathBuf,
    header: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    /// Reads `path`; every record must have the header's number of fields.
    pub fn read(path: &Path) -> anyhow::Result<Table> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .with_context(|| format!("reading {}", path.display()))?;
        let header = reader
            .headers()
            .with_context(|| format!("{}: line 1: unreadable header", path.display()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| csv_error(path, e))?;
            let line = record.position().map_or(0, |p| p.line());
            rows.push((line, record.iter().map(str::to_string).collect()));
        }
        Ok(Table {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// The index of column `name`.
    pub fn col(&self, name: &str) -> anyhow::Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow!("{}: line 1: no column `{name}`", self.path.display()))
    }

    /// Row `row`'s value in column `col` as a number; `None` when the cell is empty.
    pub fn num(&self, row: usize, col: usize) -> anyhow::Result<Option<f64>> {
        let (line, cells) = &self.rows[row];
        let cell = cells[col].as_str();
        if cell.is_empty() {
            return Ok(None);
        }
        cell.parse::<f64>().map(Some).map_err(|_| {
            anyhow!(
                "{}: line {line}: column `{}`: `{cell}` is not a number",
                self.path.display(),
                self.header[col]
            )
        })
    }

    /// Row `row`'s cell in column `col`.
    fn cell(&self, row: usize, col: usize) -> &str {
        &self.rows[row].1[col]
    }
}

/// One scheduler's runs in a group: `(seed, summary.csv row)`, in row order.
struct SchedulerRuns {
    name: String,
    runs: Vec<(u64, usize)>,
}

/// The runs of one scenario at one parameter point: one scenario folder.
struct Group {
    scenario: String,
    /// `(path, value)` of each `--set` override.
    point: Vec<(String, String)>,
    schedulers: Vec<SchedulerRuns>,
}

impl Group {
    /// The group's folder name under OUT (and under OUT/charts).
    fn dir(&self) -> String {
        output::scenario_dir(&self.scenario, &self.point)
    }

    /// The group's name in chart titles: the scenario and its point, unsanitized (the
    /// charts escape their text).
    fn title(&self) -> String {
        if self.point.is_empty() {
            return self.scenario.clone();
        }
        let point: Vec<String> = self.point.iter().map(|(p, v)| format!("{p}={v}")).collect();
        format!("{} ({})", self.scenario, point.join(", "))
    }
}

/// A chart written, for the page: its path relative to OUT (without extension) and title.
pub struct ChartRef {
    /// Path of the SVG file relative to OUT, with `/` separators.
    pub svg: String,
    /// The chart's title, for the image's alt text.
    pub title: String,
}

/// Everything the page shows.
pub struct Model {
    summary: Table,
    stats: Table,
    /// Names of the `--set` columns (in both tables).
    params: Vec<String>,
    groups: Vec<Group>,
}

/// Reads OUT's summary.csv and stats.csv and groups the runs.
fn load(out: &Path) -> anyhow::Result<Model> {
    let summary = Table::read(&out.join("summary.csv"))?;
    let stats = Table::read(&out.join("stats.csv"))?;
    // stats.csv's key is `scenario, <params...>, scheduler`: that is where the sweep's
    // overridden paths are named.
    let (s_scenario, s_scheduler) = (stats.col("scenario")?, stats.col("scheduler")?);
    if s_scheduler < s_scenario {
        bail!(
            "{}: line 1: `scheduler` comes before `scenario`",
            stats.path.display()
        );
    }
    let params: Vec<String> = stats.header[s_scenario + 1..s_scheduler].to_vec();
    let (scenario, scheduler, seed) = (
        summary.col("scenario")?,
        summary.col("scheduler")?,
        summary.col("seed")?,
    );
    // summary.csv ends with the parameter columns; found from the end, since a path may
    // share its name with a key column (`--set seed=...`).
    let first_param = summary.header.len().saturating_sub(params.len());
    let param_cols: Vec<usize> = (first_param..summary.header.len()).collect();
    if summary.header[first_param..] != params[..] {
        bail!(
            "{}: line 1: the last columns should be the overridden paths of {} ({})",
            summary.path.display(),
            stats.path.display(),
            params.join(", ")
        );
    }
    let mut groups: Vec<Group> = Vec::new();
    for row in 0..summary.rows.len() {
        let line = summary.rows[row].0;
        let seed_value: u64 = summary.cell(row, seed).parse().map_err(|_| {
            anyhow!(
                "{}: line {line}: column `seed`: `{}` is not a seed",
                summary.path.display(),
                summary.cell(row, seed)
            )
        })?;
        let name = summary.cell(row, scenario);
        let point: Vec<(String, String)> = params
            .iter()
            .zip(&param_cols)
            .map(|(p, &c)| (p.clone(), summary.cell(row, c).to_string()))
            .collect();
        let g = match groups
            .iter()
            .position(|g| g.scenario == name && g.point == point)
        {
            Some(g) => g,
            None => {
                groups.push(Group {
                    scenario: name.to_string(),
                    point,
                    schedulers: Vec::new(),
                });
                groups.len() - 1
            }
        };
        let label = summary.cell(row, scheduler);
        let schedulers = &mut groups[g].schedulers;
        match schedulers.iter_mut().find(|s| s.name == label) {
            Some(s) => s.runs.push((seed_value, row)),
            None => schedulers.push(SchedulerRuns {
                name: label.to_string(),
                runs: vec![(seed_value, row)],
            }),
        }
    }
    Ok(Model {
        summary,
        stats,
        params,
        groups,
    })
}

/// The folder of one run, relative to OUT.
fn run_rel(group: &Group, scheduler: &str, seed: u64) -> PathBuf {
    output::run_dir(
        Path::new(""),
        &RunKey {
            scenario: &group.scenario,
            scheduler,
            seed,
            params: &group.point,
        },
    )
}

/// Sample times are keyed in microseconds: the CSV has six decimals of seconds.
fn time_key(t: f64) -> i64 {
    (t * 1e6).round() as i64
}

/// The time axis' unit for a run of `end` seconds: `(divisor, name)`.
fn time_unit(end: f64) -> (f64, &'static str) {
    if end > 3.0 * 3600.0 {
        (3600.0, "time (h)")
    } else if end > 180.0 {
        (60.0, "time (min)")
    } else {
        (1.0, "time (s)")
    }
}

/// Draws the time-series charts of `group` into `dir`.
fn time_series_charts(
    out: &Path,
    group: &Group,
    dir: &Path,
    rel: &str,
    written: &mut Vec<ChartRef>,
) -> anyhow::Result<()> {
    // Per metric, per scheduler: sample time -> values over seeds.
    let mut data: Vec<Vec<BTreeMap<i64, Vec<f64>>>> =
        vec![vec![BTreeMap::new(); group.schedulers.len()]; TIME_SERIES.len()];
    let mut end = 0.0_f64;
    for (k, s) in group.schedulers.iter().enumerate() {
        for &(seed, _) in &s.runs {
            let table = Table::read(
                &out.join(run_rel(group, &s.name, seed))
                    .join("timeseries.csv"),
            )?;
            let time = table.col("time_s")?;
            let cols = TIME_SERIES
                .iter()
                .map(|(c, ..)| table.col(c))
                .collect::<anyhow::Result<Vec<_>>>()?;
            for row in 0..table.rows.len() {
                let Some(t) = table.num(row, time)? else {
                    continue;
                };
                end = end.max(t);
                for (m, &c) in cols.iter().enumerate() {
                    if let Some(v) = table.num(row, c)? {
                        data[m][k].entry(time_key(t)).or_default().push(v);
                    }
                }
            }
        }
    }
    let (unit, x_desc) = time_unit(end);
    for (m, (_, stem, title, y_desc)) in TIME_SERIES.iter().enumerate() {
        let series: Vec<Series> = group
            .schedulers
            .iter()
            .zip(&data[m])
            .map(|(s, by_time)| {
                let multi = s.runs.len() > 1;
                let mut points = Vec::new();
                let mut band = Vec::new();
                for (&t, vs) in by_time {
                    let x = t as f64 / 1e6 / unit;
                    let mean = vs.iter().sum::<f64>() / vs.len() as f64;
                    points.push((x, mean));
                    if multi {
                        let lo = vs.iter().copied().fold(f64::INFINITY, f64::min);
                        let hi = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        band.push((x, lo, hi));
                    }
                }
                Series {
                    name: s.name.clone(),
                    points,
                    band,
                    whiskers: Vec::new(),
                    final_in_legend: true,
                }
            })
            .collect();
        let full_title = format!("{}: {title}", group.title());
        write_listed(
            dir,
            rel,
            stem,
            &Labels {
                title: &full_title,
                x: x_desc,
                y: y_desc,
            },
            &Chart::Lines(&series),
            written,
        )?;
    }
    Ok(())
}

/// A mean and, when stats.csv has one, its 95% interval `(low, high)`.
type MeanCi = (f64, Option<(f64, f64)>);

/// The most points a CDF line is drawn with: larger samples are drawn at evenly spaced
/// quantiles, which keeps the SVG small for a 100,000-pod trace.
const CDF_POINTS: usize = 400;

/// Draws the CDF of scheduling latency (creation to first binding, pooled over seeds) per
/// scheduler, from the runs' `trace.csv`; only when every run of the group has one
/// (`run --trace`).
fn latency_cdf_chart(
    out: &Path,
    group: &Group,
    dir: &Path,
    rel: &str,
    written: &mut Vec<ChartRef>,
) -> anyhow::Result<()> {
    let paths: Vec<Vec<PathBuf>> = group
        .schedulers
        .iter()
        .map(|s| {
            s.runs
                .iter()
                .map(|&(seed, _)| out.join(run_rel(group, &s.name, seed)).join("trace.csv"))
                .collect()
        })
        .collect();
    if !paths.iter().flatten().all(|p| p.is_file()) {
        return Ok(());
    }
    let mut series = Vec::new();
    for (s, paths) in group.schedulers.iter().zip(&paths) {
        let mut latencies: Vec<f64> = Vec::new();
        for path in paths {
            let table = Table::read(path)?;
            let (time, pod, event) = (table.col("time_s")?, table.col("pod")?, table.col("event")?);
            // Lookups only: the latencies are sorted before use, so no map order shows.
            let mut created: std::collections::HashMap<&str, f64> = Default::default();
            for row in 0..table.rows.len() {
                let Some(t) = table.num(row, time)? else {
                    continue;
                };
                match table.cell(row, event) {
                    "created" => {
                        created.entry(table.cell(row, pod)).or_insert(t);
                    }
                    "bound" => {
                        if let Some(c) = created.remove(table.cell(row, pod)) {
                            latencies.push(t - c);
                        }
                    }
                    _ => {}
                }
            }
        }
        if latencies.is_empty() {
            continue;
        }
        latencies.sort_by(f64::total_cmp);
        let n = latencies.len();
        let quantile = |q: f64| latencies[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
        let picked: Vec<usize> = if n <= CDF_POINTS {
            (0..n).collect()
        } else {
            (0..=CDF_POINTS).map(|j| j * (n - 1) / CDF_POINTS).collect()
        };
        // A step function: flat until a latency, then up by that pod's share.
        let mut points: Vec<(f64, f64)> = Vec::with_capacity(2 * picked.len());
        let mut below = 0.0;
        for i in picked {
            let share = (i + 1) as f64 / n as f64;
            points.push((latencies[i], below));
            points.push((latencies[i], share));
            below = share;
        }
        series.push(Series {
            name: format!(
                "{}: p50 {} s, p99 {} s ({n} pods)",
                s.name,
                charts::short(quantile(0.5)),
                charts::short(quantile(0.99))
            ),
            points,
            band: Vec::new(),
            whiskers: Vec::new(),
            final_in_legend: false,
        });
    }
    if series.is_empty() {
        return Ok(());
    }
    let title = format!("{}: Scheduling latency CDF", group.title());
    write_listed(
        dir,
        rel,
        "latency-cdf",
        &Labels {
            title: &title,
            x: "creation to first binding (s)",
            y: "share of bound pods",
        },
        &Chart::Lines(&series),
        written,
    )?;
    Ok(())
}

/// Scenarios with at most this many nodes get a per-node timeline.
const GANTT_MAX_NODES: usize = 50;

/// A pod's workload: its name without the replica's `-<number>` suffixes.
fn workload_of(pod: &str) -> &str {
    let mut name = pod;
    while let Some((head, tail)) = name.rsplit_once('-') {
        if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) && !head.is_empty() {
            name = head;
        } else {
            break;
        }
    }
    name
}

/// Draws, for a scenario of at most [`GANTT_MAX_NODES`] nodes, one per-node timeline per
/// scheduler from its first seed's `trace.csv` (`run --trace`): each pod a bar from its
/// binding to its end (finished, evicted, or failed for good), coloured by workload.
fn gantt_charts(
    out: &Path,
    group: &Group,
    dir: &Path,
    rel: &str,
    written: &mut Vec<ChartRef>,
) -> anyhow::Result<()> {
    for s in &group.schedulers {
        let Some(&(seed, _)) = s.runs.first() else {
            continue;
        };
        let run = out.join(run_rel(group, &s.name, seed));
        let path = run.join("trace.csv");
        if !path.is_file() {
            return Ok(());
        }
        let table = Table::read(&path)?;
        let (time, pod, event, detail) = (
            table.col("time_s")?,
            table.col("pod")?,
            table.col("event")?,
            table.col("detail")?,
        );
        let mut nodes: Vec<String> = Vec::new();
        let mut workloads: Vec<String> = Vec::new();
        let mut placements: Vec<(usize, usize, f64, f64)> = Vec::new();
        // Per pod, the index of its open placement.
        let mut open: BTreeMap<String, usize> = BTreeMap::new();
        let mut end = 0.0_f64;
        for row in 0..table.rows.len() {
            let Some(t) = table.num(row, time)? else {
                continue;
            };
            end = end.max(t);
            let name = table.cell(row, pod);
            match (table.cell(row, event), table.cell(row, detail)) {
                ("bound", node) => {
                    let k = match nodes.iter().position(|n| n == node) {
                        Some(k) => k,
                        None => {
                            nodes.push(node.to_string());
                            nodes.len() - 1
                        }
                    };
                    let w = workload_of(name);
                    let w = match workloads.iter().position(|x| x == w) {
                        Some(w) => w,
                        None => {
                            workloads.push(w.to_string());
                            workloads.len() - 1
                        }
                    };
                    open.insert(name.to_string(), placements.len());
                    placements.push((k, w, t, f64::NAN));
                }
                ("finished" | "evicted", _) | ("failed", "") => {
                    if let Some(p) = open.remove(name) {
                        placements[p].3 = t;
                    }
                }
                _ => {}
            }
        }
        if nodes.len() > GANTT_MAX_NODES || placements.is_empty() {
            return Ok(());
        }
        // The run's end from its time series, when longer than the last event.
        if let Ok(series) = Table::read(&run.join("timeseries.csv"))
            && let Ok(c) = series.col("time_s")
        {
            for r in 0..series.rows.len() {
                if let Ok(Some(t)) = series.num(r, c) {
                    end = end.max(t);
                }
            }
        }
        let (unit, x_desc) = time_unit(end);
        for p in &mut placements {
            if p.3.is_nan() {
                p.3 = end;
            }
            p.2 /= unit;
            p.3 /= unit;
        }
        let gantt = charts::Gantt {
            nodes,
            workloads,
            placements,
            end: end / unit,
        };
        let title = format!("{}: pods per node, {} seed {seed}", group.title(), s.name);
        let stem = format!("gantt-{}", sanitize(&s.name));
        write_listed(
            dir,
            rel,
            &stem,
            &Labels {
                title: &title,
                x: x_desc,
                y: "",
            },
            &Chart::Gantt(&gantt),
            written,
        )?;
    }
    Ok(())
}

/// Draws, per scheduler, a heat map of each node's CPU allocation over time from its
/// first seed's `nodes.csv` (written with `run --trace` for clusters of at most 50
/// nodes): a row per node, a cell per sampling interval, coloured by requested over
/// allocatable CPU.
fn heat_charts(
    out: &Path,
    group: &Group,
    dir: &Path,
    rel: &str,
    written: &mut Vec<ChartRef>,
) -> anyhow::Result<()> {
    for s in &group.schedulers {
        let Some(&(seed, _)) = s.runs.first() else {
            continue;
        };
        let path = out.join(run_rel(group, &s.name, seed)).join("nodes.csv");
        if !path.is_file() {
            return Ok(());
        }
        let table = Table::read(&path)?;
        let (time, node, alloc) = (
            table.col("time_s")?,
            table.col("node")?,
            table.col("cpu_alloc")?,
        );
        let mut nodes: Vec<String> = Vec::new();
        // Per node, its samples (time, allocation) in file order.
        let mut samples: Vec<Vec<(f64, f64)>> = Vec::new();
        let mut end = 0.0_f64;
        for row in 0..table.rows.len() {
            let (Some(t), Some(a)) = (table.num(row, time)?, table.num(row, alloc)?) else {
                continue;
            };
            end = end.max(t);
            let name = table.cell(row, node);
            let k = match nodes.iter().position(|n| n == name) {
                Some(k) => k,
                None => {
                    nodes.push(name.to_string());
                    samples.push(Vec::new());
                    nodes.len() - 1
                }
            };
            samples[k].push((t, a));
        }
        if nodes.is_empty() {
            return Ok(());
        }
        let (unit, x_desc) = time_unit(end);
        // A sample holds until the node's next one (or the last tick).
        let mut cells = Vec::new();
        for (k, series) in samples.iter().enumerate() {
            for (i, &(t, a)) in series.iter().enumerate() {
                let to = series.get(i + 1).map_or(end, |next| next.0);
                if to > t {
                    cells.push((k, t / unit, to / unit, a));
                }
            }
        }
        let heat = charts::HeatMap {
            nodes,
            cells,
            end: end / unit,
        };
        let title = format!(
            "{}: CPU requested per node, {} seed {seed}",
            group.title(),
            s.name
        );
        let stem = format!("heat-{}", sanitize(&s.name));
        write_listed(
            dir,
            rel,
            &stem,
            &Labels {
                title: &title,
                x: x_desc,
                y: "",
            },
            &Chart::Heat(&heat),
            written,
        )?;
    }
    Ok(())
}

/// Writes `chart` as `dir/stem.svg` (and `.png`) and lists it for index.html under its
/// title.
fn write_listed(
    dir: &Path,
    rel: &str,
    stem: &str,
    labels: &Labels<'_>,
    chart: &Chart<'_>,
    written: &mut Vec<ChartRef>,
) -> anyhow::Result<()> {
    charts::write(&dir.join(stem), labels, chart, PNG)?;
    written.push(ChartRef {
        svg: format!("{rel}/{stem}.svg"),
        title: labels.title.to_owned(),
    });
    Ok(())
}

/// stats.csv's `(mean, ci95_low, ci95_high)` for a scenario, point, scheduler and column.
struct StatsIndex<'a> {
    stats: &'a Table,
    cols: [usize; 6],
    params: Vec<usize>,
}

impl<'a> StatsIndex<'a> {
    fn new(model: &'a Model) -> anyhow::Result<StatsIndex<'a>> {
        let s = &model.stats;
        Ok(StatsIndex {
            stats: s,
            cols: [
                s.col("scenario")?,
                s.col("scheduler")?,
                s.col("column")?,
                s.col("mean")?,
                s.col("ci95_low")?,
                s.col("ci95_high")?,
            ],
            // By position, as in `load`: a path may be named like a column.
            params: (s.col("scenario")? + 1..s.col("scheduler")?).collect(),
        })
    }

    /// The rows of a scenario at a point.
    fn rows<'b>(
        &'b self,
        scenario: &'b str,
        point: &'b [(String, String)],
    ) -> impl Iterator<Item = usize> + 'b {
        (0..self.stats.rows.len()).filter(move |&r| {
            self.stats.cell(r, self.cols[0]) == scenario
                && self
                    .params
                    .iter()
                    .zip(point)
                    .all(|(&c, (_, v))| self.stats.cell(r, c) == v)
        })
    }

    fn get(
        &self,
        scenario: &str,
        point: &[(String, String)],
        scheduler: &str,
        column: &str,
    ) -> anyhow::Result<Option<MeanCi>> {
        let Some(r) = self.rows(scenario, point).find(|&r| {
            self.stats.cell(r, self.cols[1]) == scheduler
                && self.stats.cell(r, self.cols[2]) == column
        }) else {
            return Ok(None);
        };
        let Some(mean) = self.stats.num(r, self.cols[3])? else {
            return Ok(None);
        };
        let ci = match (
            self.stats.num(r, self.cols[4])?,
            self.stats.num(r, self.cols[5])?,
        ) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        Ok(Some((mean, ci)))
    }
}

/// Draws the key-metric bar charts of `group` into `dir`.
fn bar_charts(
    index: &StatsIndex<'_>,
    group: &Group,
    dir: &Path,
    rel: &str,
    written: &mut Vec<ChartRef>,
) -> anyhow::Result<()> {
    for (column, title) in KEY_METRICS {
        let mut bars = Vec::new();
        for s in &group.schedulers {
            if let Some((mean, ci)) = index.get(&group.scenario, &group.point, &s.name, column)? {
                bars.push(Bar {
                    name: s.name.clone(),
                    mean,
                    ci,
                });
            }
        }
        if bars.is_empty() {
            continue;
        }
        let full_title = format!("{}: {title}", group.title());
        let stem = format!("bar-{column}");
        write_listed(
            dir,
            rel,
            &stem,
            &Labels {
                title: &full_title,
                x: "",
                y: column,
            },
            &Chart::Bars(&bars),
            written,
        )?;
    }
    Ok(())
}

/// Draws, for a scenario swept over `--set` points, each key metric against each
/// overridden path: one line per scheduler (and per value of the other paths), the 95%
/// intervals as whiskers. Values that are all numbers are placed by value, others in the
/// order met, one step apart.
fn parameter_charts(
    model: &Model,
    index: &StatsIndex<'_>,
    scenario: &str,
    dir: &Path,
    rel: &str,
    written: &mut Vec<ChartRef>,
) -> anyhow::Result<()> {
    let groups: Vec<&Group> = model
        .groups
        .iter()
        .filter(|g| g.scenario == scenario)
        .collect();
    for (p, param) in model.params.iter().enumerate() {
        let mut values: Vec<&str> = Vec::new();
        for g in &groups {
            if !values.contains(&g.point[p].1.as_str()) {
                values.push(&g.point[p].1);
            }
        }
        if values.len() < 2 {
            continue;
        }
        let numeric: Option<Vec<f64>> = values.iter().map(|v| v.parse::<f64>().ok()).collect();
        let x_of = |v: &str| -> f64 {
            let k = values.iter().position(|w| *w == v).unwrap_or(0);
            numeric.as_ref().map_or(k as f64, |n| n[k])
        };
        for (column, title) in KEY_METRICS {
            // Series key: the scheduler and the values of the other overridden paths.
            let mut series: Vec<Series> = Vec::new();
            for g in &groups {
                let others: Vec<String> = g
                    .point
                    .iter()
                    .enumerate()
                    .filter(|(q, _)| *q != p)
                    .map(|(_, (path, v))| format!("{path}={v}"))
                    .collect();
                for s in &g.schedulers {
                    let Some((mean, ci)) = index.get(scenario, &g.point, &s.name, column)? else {
                        continue;
                    };
                    let name = if others.is_empty() {
                        s.name.clone()
                    } else {
                        format!("{} ({})", s.name, others.join(", "))
                    };
                    let x = x_of(&g.point[p].1);
                    let k = match series.iter().position(|t| t.name == name) {
                        Some(k) => k,
                        None => {
                            series.push(Series {
                                name,
                                points: Vec::new(),
                                band: Vec::new(),
                                whiskers: Vec::new(),
                                final_in_legend: true,
                            });
                            series.len() - 1
                        }
                    };
                    series[k].points.push((x, mean));
                    if let Some((lo, hi)) = ci {
                        series[k].whiskers.push((x, lo, hi));
                    }
                }
            }
            if series.is_empty() {
                continue;
            }
            for s in &mut series {
                s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
            let full_title = format!("{scenario}: {title} against {param}");
            let stem = format!("vs-{}-{column}", sanitize(param));
            let x_desc = if numeric.is_some() {
                param.clone()
            } else {
                format!("{param} (values in order: {})", values.join(", "))
            };
            write_listed(
                dir,
                rel,
                &stem,
                &Labels {
                    title: &full_title,
                    x: &x_desc,
                    y: column,
                },
                &Chart::Lines(&series),
                written,
            )?;
        }
    }
    Ok(())
}

/// What [`build`] wrote.
pub struct Built {
    /// The page.
    pub index: PathBuf,
    /// How many charts.
    pub charts: usize,
}

/// Draws every chart of the sweep in OUT into OUT/charts (replacing that folder whole) and
/// writes OUT/index.html.
pub fn build(out: &Path) -> anyhow::Result<Built> {
    let model = load(out)?;
    let index = StatsIndex::new(&model)?;
    // Charts are drawn into a fresh folder that then replaces OUT/charts, so no chart of
    // an earlier sweep survives next to this one's.
    let staging = out.join(".charts.tmp");
    let _ = fs::remove_dir_all(&staging);
    // Created here, so a sweep with no runs (an empty shard) still gets an empty folder.
    fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    let result = draw_all(out, &model, &index, &staging);
    let charts = match result {
        Ok(c) => c,
        Err(e) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let final_dir = out.join("charts");
    if final_dir.exists() {
        fs::remove_dir_all(&final_dir)
            .with_context(|| format!("removing the old {}", final_dir.display()))?;
    }
    fs::rename(&staging, &final_dir)
        .with_context(|| format!("moving the charts into {}", final_dir.display()))?;
    let page = out.join("index.html");
    let text = html::page(out, &model, &charts);
    output::write_atomically(&page, |temp| {
        fs::write(temp, text).with_context(|| format!("writing {}", temp.display()))
    })?;
    Ok(Built {
        index: page,
        charts: charts.iter().map(|(_, c)| c.len()).sum(),
    })
}

/// Charts per section of the page: the scenario-level charts (key `scenario`) and each
/// group's, in page order.
type ChartsBySection = Vec<(String, Vec<ChartRef>)>;

fn draw_all(
    out: &Path,
    model: &Model,
    index: &StatsIndex<'_>,
    staging: &Path,
) -> anyhow::Result<ChartsBySection> {
    let mut sections: ChartsBySection = Vec::new();
    let mut scenarios_done: Vec<&str> = Vec::new();
    for group in &model.groups {
        if !model.params.is_empty() && !scenarios_done.contains(&group.scenario.as_str()) {
            scenarios_done.push(&group.scenario);
            let name = sanitize(&group.scenario);
            let dir = staging.join(&name);
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut written = Vec::new();
            parameter_charts(
                model,
                index,
                &group.scenario,
                &dir,
                &format!("charts/{name}"),
                &mut written,
            )?;
            sections.push((format!("scenario:{}", group.scenario), written));
        }
        let name = group.dir();
        let dir = staging.join(&name);
        fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let rel = format!("charts/{name}");
        let mut written = Vec::new();
        time_series_charts(out, group, &dir, &rel, &mut written)?;
        latency_cdf_chart(out, group, &dir, &rel, &mut written)?;
        gantt_charts(out, group, &dir, &rel, &mut written)?;
        heat_charts(out, group, &dir, &rel, &mut written)?;
        bar_charts(index, group, &dir, &rel, &mut written)?;
        sections.push((format!("group:{name}"), written));
    }
    Ok(sections)
}
