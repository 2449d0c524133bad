//! The report's charts, drawn with plotters into SVG strings (and PNG files): line charts
//! with a band or whiskers per series, and bar charts with 95% confidence whiskers.
//!
//! Coinciding series must stay visible (two schedulers often place every pod alike), so
//! each series gets its own colour, dash pattern and marker shape, the markers of series k
//! are shifted along the line so that identical lines do not stack their markers, and the
//! legend gives each series' final value. Text is drawn with the bundled DejaVu Sans
//! (`crate::gpu_fill::ensure_font`), so no system font is needed and the files are
//! byte-identical on every machine.

use std::path::Path;

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

use crate::gpu_fill::{COLOURS, FONT, ensure_font};

/// Size of every chart, in pixels.
const SIZE: (u32, u32) = (800, 480);

/// One line of a line chart.
pub struct Series {
    /// The legend's name of the series.
    pub name: String,
    /// `(x, y)` points, by x.
    pub points: Vec<(f64, f64)>,
    /// `(x, low, high)`: a shaded band (min–max over seeds), empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// `(x, low, high)`: vertical whiskers (confidence intervals), empty for none.
    pub whiskers: Vec<(f64, f64, f64)>,
    /// Whether the legend gives the last point's value after the name (not for a CDF,
    /// whose last value is always 1: its name carries its own figures).
    pub final_in_legend: bool,
}

/// One bar of a bar chart.
pub struct Bar {
    /// The bar's name (a scheduler).
    pub name: String,
    /// Its height.
    pub mean: f64,
    /// Its 95% interval, when known.
    pub ci: Option<(f64, f64)>,
}

/// What a chart shows besides its data.
pub struct Labels<'a> {
    /// The title above the chart.
    pub title: &'a str,
    /// The x axis' description.
    pub x: &'a str,
    /// The y axis' description.
    pub y: &'a str,
}

/// Dash patterns `(dash, gap)` in pixels, one per series in turn; `None` is a solid line.
/// One more pattern than marker shapes, so that the first 20 series differ in the pair.
const DASHES: [Option<(u32, u32)>; 5] = [
    None,
    Some((10, 5)),
    Some((3, 4)),
    Some((16, 6)),
    Some((6, 2)),
];

/// The marker shapes, one per series in turn.
#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Triangle,
    Square,
    Cross,
}

const MARKERS: [Marker; 4] = [
    Marker::Circle,
    Marker::Triangle,
    Marker::Square,
    Marker::Cross,
];

/// How series `i` of a chart is drawn.
#[derive(Clone, Copy)]
struct Look {
    colour: RGBColor,
    dash: Option<(u32, u32)>,
    marker: Marker,
}

fn look(i: usize) -> Look {
    Look {
        colour: COLOURS[i % COLOURS.len()],
        dash: DASHES[i % DASHES.len()],
        marker: MARKERS[i % MARKERS.len()],
    }
}

/// A series' marker at a point; for the legend (`sample`), also a short stretch of the
/// series' line, dashed like it. Drawn straight on the backend so that one element type
/// covers every shape.
struct Mark<C> {
    at: C,
    look: Look,
    sample: bool,
    /// Pixels to the right of `at`: spreads the markers of identical points apart.
    shift: i32,
}

impl<'a, C> PointCollection<'a, C> for &'a Mark<C> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for Mark<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = points.next() else {
            return Ok(());
        };
        let x = x + self.shift;
        let style = ShapeStyle::from(&self.look.colour).stroke_width(2);
        let (x, y) = if self.sample {
            // The legend hands over the sample's left end; the marker sits in its middle.
            match self.look.dash {
                None => backend.draw_line((x, y), (x + 24, y), &style)?,
                Some(_) => {
                    for start in [0, 9, 18] {
                        backend.draw_line((x + start, y), (x + start + 5, y), &style)?;
                    }
                }
            }
            (x + 12, y)
        } else {
            (x, y)
        };
        match self.look.marker {
            Marker::Circle => backend.draw_circle((x, y), 4, &style, false),
            Marker::Triangle => {
                backend.fill_polygon([(x, y - 5), (x - 5, y + 4), (x + 5, y + 4)], &style)
            }
            Marker::Square => backend.draw_rect((x - 4, y - 4), (x + 4, y + 4), &style, false),
            Marker::Cross => {
                backend.draw_line((x - 4, y - 4), (x + 4, y + 4), &style)?;
                backend.draw_line((x - 4, y + 4), (x + 4, y - 4), &style)
            }
        }
    }
}

/// Draws the chart's legend in its upper right corner, with labels of `font_size`, and
/// writes the drawing out: the last step every chart here shares.
fn legend_and_present<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    root: &DrawingArea<DB, Shift>,
    font_size: u32,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, font_size))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// A drawing error as an `anyhow` error.
fn err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("drawing the chart: {e}")
}

/// The y range of a chart holding `values`: from zero (or below, for negative values) to a
/// little above the highest, and never empty.
fn y_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = (hi - lo).max(1e-9);
    let hi = if hi - lo < 1e-9 { lo + 1.0 } else { hi };
    (
        if lo < 0.0 { lo - span * 0.05 } else { lo },
        hi + span * 0.08,
    )
}

/// A figure for a label: at most four decimals, no trailing zeros.
pub fn short(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn draw_lines<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    labels: &Labels<'_>,
    series: &[Series],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let xs = || series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let x_lo = xs().fold(f64::INFINITY, f64::min);
    let x_hi = xs().fold(f64::NEG_INFINITY, f64::max);
    let (x_lo, x_hi) = if x_lo.is_finite() && x_hi > x_lo {
        (x_lo, x_hi)
    } else if x_lo.is_finite() {
        (x_lo - 0.5, x_lo + 0.5)
    } else {
        (0.0, 1.0)
    };
    let (y_lo, y_hi) = y_range(series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
            .chain(s.whiskers.iter().flat_map(|w| [w.1, w.2]))
    }));
    let mut chart = ChartBuilder::on(&root)
        .caption(labels.title, (FONT, 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(labels.x)
        .y_desc(labels.y)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .x_label_formatter(&|x| short(*x))
        .y_label_formatter(&|y| short(*y))
        .draw()
        .map_err(err)?;
    // Bands first, all of them, so that no band hides another series' line.
    for (i, s) in series.iter().enumerate() {
        if s.band.is_empty() {
            continue;
        }
        let polygon: Vec<(f64, f64)> = s
            .band
            .iter()
            .map(|b| (b.0, b.1))
            .chain(s.band.iter().rev().map(|b| (b.0, b.2)))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                polygon,
                look(i).colour.mix(0.15).filled(),
            )))
            .map_err(err)?;
    }
    let n = series.len();
    for (i, s) in series.iter().enumerate() {
        draw_series(&mut chart, i, n, s)?;
    }
    legend_and_present(&mut chart, &root, 13)
}

/// Draws series `i` of `n` on `chart`: its line in the series' colour and dash pattern,
/// its whiskers, its markers and its legend entry with the final value. The GPU fill chart
/// (`crate::gpu_fill`) draws its lines with this too.
pub(crate) fn draw_series<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    i: usize,
    n: usize,
    s: &Series,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let n = n.max(1);
    let l = look(i);
    let style = ShapeStyle::from(&l.colour).stroke_width(2);
    match l.dash {
        None => chart
            .draw_series(LineSeries::new(s.points.iter().copied(), style))
            .map_err(err)?,
        Some((dash, gap)) => chart
            .draw_series(DashedLineSeries::new(
                s.points.iter().copied(),
                dash,
                gap,
                style,
            ))
            .map_err(err)?,
    };
    for &(x, lo, hi) in &s.whiskers {
        if lo.is_finite() && hi.is_finite() {
            chart
                .draw_series(std::iter::once(PathElement::new([(x, lo), (x, hi)], style)))
                .map_err(err)?;
            for y in [lo, hi] {
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x, y)) + PathElement::new([(-5, 0), (5, 0)], style),
                    ))
                    .map_err(err)?;
            }
        }
    }
    // About a dozen markers per line; series i starts i/n of a step later, so that the
    // markers of identical lines sit side by side instead of on top of each other.
    let step = s.points.len().div_ceil(12).max(1);
    let offset = (step * i / n).min(s.points.len().saturating_sub(1));
    let marks: Vec<(f64, f64)> = s
        .points
        .iter()
        .copied()
        .skip(offset)
        .step_by(step)
        .collect();
    // With every point marked, the markers cannot move along the line: identical
    // points of different series get their markers a few pixels apart instead.
    let shift = if step == 1 {
        (2 * i as i32 - (n as i32 - 1)) * 3
    } else {
        0
    };
    let final_value = s.points.last().map_or(f64::NAN, |p| p.1);
    chart
        .draw_series(marks.into_iter().map(|at| Mark {
            at,
            look: l,
            sample: false,
            shift,
        }))
        .map_err(err)?
        .label(if s.final_in_legend {
            format!("{}: final {}", s.name, short(final_value))
        } else {
            s.name.clone()
        })
        .legend(move |at| Mark {
            at,
            look: l,
            sample: true,
            shift: 0,
        });
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    labels: &Labels<'_>,
    bars: &[Bar],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let (y_lo, y_hi) = y_range(bars.iter().flat_map(|b| {
        let (lo, hi) = b.ci.unwrap_or((b.mean, b.mean));
        [b.mean, lo, hi]
    }));
    // Room above the bars for the legend.
    let y_hi = y_hi + (y_hi - y_lo) * 0.25;
    let n = bars.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(labels.title, (FONT, 20))
        .margin(14)
        .x_label_area_size(20)
        .y_label_area_size(64)
        .build_cartesian_2d(-0.5..n - 0.5, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc(labels.y)
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        // The bars are named in the legend, so the x axis needs no labels.
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|y| short(*y))
        .draw()
        .map_err(err)?;
    for (i, b) in bars.iter().enumerate() {
        let l = look(i);
        let x = i as f64;
        let edge = ShapeStyle::from(&BLACK).stroke_width(1);
        let label = match b.ci {
            Some((lo, hi)) => format!(
                "{}: {} [{}, {}]",
                b.name,
                short(b.mean),
                short(lo),
                short(hi)
            ),
            None => format!("{}: {}", b.name, short(b.mean)),
        };
        chart
            .draw_series([
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, b.mean)], l.colour.filled()),
                Rectangle::new([(x - 0.35, 0.0), (x + 0.35, b.mean)], edge),
            ])
            .map_err(err)?
            .label(label)
            .legend(move |(px, py)| {
                Rectangle::new([(px, py - 5), (px + 16, py + 5)], l.colour.filled())
            });
        if let Some((lo, hi)) = b.ci.filter(|(lo, hi)| lo.is_finite() && hi.is_finite()) {
            let whisker = ShapeStyle::from(&BLACK).stroke_width(2);
            chart
                .draw_series([
                    PathElement::new([(x, lo), (x, hi)], whisker),
                    PathElement::new([(x - 0.1, lo), (x + 0.1, lo)], whisker),
                    PathElement::new([(x - 0.1, hi), (x + 0.1, hi)], whisker),
                ])
                .map_err(err)?;
        }
    }
    legend_and_present(&mut chart, &root, 13)
}

/// A per-node timeline: which pod ran on which node when.
pub struct Gantt {
    /// The nodes, top to bottom.
    pub nodes: Vec<String>,
    /// The workloads, in legend order; a placement's colour is its workload's.
    pub workloads: Vec<String>,
    /// `(node index, workload index, from, to)`, times in the x axis' unit.
    pub placements: Vec<(usize, usize, f64, f64)>,
    /// The end of the x axis.
    pub end: f64,
}

/// Each node's CPU allocation over time, as a grid of coloured cells.
pub struct HeatMap {
    /// Node names, top row first.
    pub nodes: Vec<String>,
    /// `(node index, from, to, allocation in 0..=1)`, times in the x axis' unit.
    pub cells: Vec<(usize, f64, f64, f64)>,
    /// The end of the x axis.
    pub end: f64,
}

/// What a chart draws.
pub enum Chart<'a> {
    /// Lines with bands or whiskers.
    Lines(&'a [Series]),
    /// Bars with whiskers.
    Bars(&'a [Bar]),
    /// A per-node timeline.
    Gantt(&'a Gantt),
    /// A per-node heat map.
    Heat(&'a HeatMap),
}

/// The frame of a per-node chart (the Gantt timeline, the heat map): time across, one
/// row per node, node 0 at the top, each row labelled with its node's name.
fn node_rows<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &Labels<'_>,
    nodes: &[String],
    end: f64,
) -> anyhow::Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(err)?;
    let n = nodes.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(labels.title, (FONT, 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..end.max(1e-9), 0.0..n as f64)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(labels.x)
        .label_style((FONT, 11))
        .axis_desc_style((FONT, 15))
        .x_label_formatter(&|x| short(*x))
        // One label per node, at the middle of its row (node 0 at the top).
        .y_labels(n * 2 + 1)
        .y_label_formatter(&|y| {
            let row = y - y.floor();
            if (row - 0.5).abs() < 1e-6 {
                let k = n - 1 - (y.floor() as usize).min(n - 1);
                nodes.get(k).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(err)?;
    Ok(chart)
}

fn draw_gantt<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    labels: &Labels<'_>,
    gantt: &Gantt,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let n = gantt.nodes.len().max(1);
    let mut chart = node_rows(&root, labels, &gantt.nodes, gantt.end)?;
    let mut labelled = vec![false; gantt.workloads.len()];
    for &(node, workload, from, to) in &gantt.placements {
        let colour = COLOURS[workload % COLOURS.len()];
        let top = (n - node) as f64 - 0.1;
        let bottom = (n - node - 1) as f64 + 0.1;
        let bar = Rectangle::new([(from, bottom), (to, top)], colour.mix(0.7).filled());
        let edge = Rectangle::new(
            [(from, bottom), (to, top)],
            ShapeStyle::from(&WHITE).stroke_width(1),
        );
        let drawn = chart.draw_series([bar, edge]).map_err(err)?;
        if !labelled[workload] {
            labelled[workload] = true;
            drawn
                .label(gantt.workloads[workload].clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.mix(0.7).filled())
                });
        }
    }
    legend_and_present(&mut chart, &root, 12)
}

/// The colour of an allocation in 0..=1: white (idle) through yellow to dark red (full),
/// a sequential scale that also reads in grey.
fn heat_colour(a: f64) -> RGBColor {
    let a = a.clamp(0.0, 1.0);
    let lerp = |from: f64, to: f64, t: f64| (from + (to - from) * t).round() as u8;
    if a < 0.5 {
        let t = a / 0.5;
        RGBColor(255, lerp(255.0, 200.0, t), lerp(255.0, 60.0, t))
    } else {
        let t = (a - 0.5) / 0.5;
        RGBColor(
            lerp(255.0, 150.0, t),
            lerp(200.0, 0.0, t),
            lerp(60.0, 20.0, t),
        )
    }
}

fn draw_heat<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    labels: &Labels<'_>,
    heat: &HeatMap,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let n = heat.nodes.len().max(1);
    let mut chart = node_rows(&root, labels, &heat.nodes, heat.end)?;
    chart
        .draw_series(heat.cells.iter().map(|&(node, from, to, a)| {
            let top = (n - node) as f64;
            let bottom = (n - node - 1) as f64;
            Rectangle::new([(from, bottom), (to, top)], heat_colour(a).filled())
        }))
        .map_err(err)?;
    // The scale, as legend entries.
    for (a, name) in [(0.0, "0% requested"), (0.5, "50%"), (1.0, "100%")] {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 16, y + 5)], heat_colour(a).filled())
            });
    }
    legend_and_present(&mut chart, &root, 12)
}

/// Writes `<stem>.svg` (and `<stem>.png` when `png`) for `chart`.
pub fn write(stem: &Path, labels: &Labels<'_>, chart: &Chart<'_>, png: bool) -> anyhow::Result<()> {
    ensure_font()?;
    // Appended, not `with_extension`: stems hold dotted parameter paths.
    let with_extension = |ext: &str| {
        let mut name = stem.as_os_str().to_owned();
        name.push(".");
        name.push(ext);
        std::path::PathBuf::from(name)
    };
    let svg_path = with_extension("svg");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        match chart {
            Chart::Lines(s) => draw_lines(root, labels, s),
            Chart::Bars(b) => draw_bars(root, labels, b),
            Chart::Gantt(g) => draw_gantt(root, labels, g),
            Chart::Heat(h) => draw_heat(root, labels, h),
        }
        .with_context(|| format!("drawing {}", svg_path.display()))?;
    }
    std::fs::write(&svg_path, svg).with_context(|| format!("writing {}", svg_path.display()))?;
    if png {
        let png_path = with_extension("png");
        let root = BitMapBackend::new(&png_path, SIZE).into_drawing_area();
        match chart {
            Chart::Lines(s) => draw_lines(root, labels, s),
            Chart::Bars(b) => draw_bars(root, labels, b),
            Chart::Gantt(g) => draw_gantt(root, labels, g),
            Chart::Heat(h) => draw_heat(root, labels, h),
        }
        .with_context(|| format!("writing {}", png_path.display()))?;
    }
    Ok(())
}
