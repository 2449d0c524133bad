//! The outputs of scenarios with a GPU fill curve (`gpuFill:`, which `gpuTrace:` implies):
//! each run's `gpu-fill.csv`, and per scenario a table of means across seeds
//! (`gpu-fill.csv` in the scenario's directory) and a chart of it (`gpu-fill.png`,
//! `gpu-fill.svg`): GPU allocated against GPU demand arrived, both as shares of the
//! cluster's GPUs, one line per scheduler with a band from the lowest to the highest seed,
//! as Figure 7 of Weng et al. (ATC 2023) plots it.
//!
//! Every figure is a pure function of the runs' results, so the files are byte-identical
//! for equal inputs. The chart's text uses DejaVu Sans from the `dejavu` crate, registered
//! once with plotters, so no system font is needed.

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{Context, anyhow};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use sim::GpuFillPoint;

use sim::observe::summary::fixed6;

/// Columns of a run's `gpu-fill.csv`, in order.
pub const RUN_COLUMNS: [&str; 7] = [
    "demand_step",
    "arrived_gpu",
    "allocated_gpu",
    "allocated_over_arrived",
    "pods_arrived",
    "pods_failed",
    "allocated_gpu_rounded",
];

/// Columns of a scenario's `gpu-fill.csv` (means across seeds), in order.
pub const MEAN_COLUMNS: [&str; 7] = [
    "scheduler",
    "demand_step",
    "seeds",
    "allocated_gpu_mean",
    "allocated_gpu_min",
    "allocated_gpu_max",
    "allocated_gpu_rounded_mean",
];

/// One `gpu-fill.csv` row of a run: shares of the cluster's GPUs.
pub fn run_record(p: &GpuFillPoint) -> Vec<String> {
    let cap = i128::from(p.capacity_milli.max(1));
    vec![
        fixed6(i128::from(p.step_permille), 1000),
        fixed6(i128::from(p.arrived_milli), cap),
        fixed6(i128::from(p.allocated_milli), cap),
        fixed6(
            i128::from(p.allocated_milli),
            i128::from(p.arrived_milli.max(1)),
        ),
        p.pods_arrived.to_string(),
        p.pods_failed.to_string(),
        fixed6(i128::from(p.allocated_rounded_mean_milli), cap),
    ]
}

/// One scheduler's curve: per demand step, the allocated share of each seed.
pub struct Curve {
    /// The scheduler's name.
    pub scheduler: String,
    /// `(step in thousandths, allocated share per seed)`, by step.
    pub steps: Vec<(u32, Vec<f64>)>,
    /// Per step, the paper's metric (mean allocated share over the arrivals whose arrived
    /// demand rounds to the step) per seed.
    pub rounded: Vec<Vec<f64>>,
}

impl Curve {
    /// Gathers the runs of one scheduler (one fill series per seed, in seed order). A step
    /// is kept only when every seed reached it.
    pub fn new(scheduler: &str, runs: &[&[GpuFillPoint]]) -> Curve {
        let len = runs.iter().map(|r| r.len()).min().unwrap_or(0);
        let steps = (0..len)
            .map(|k| {
                let shares = runs
                    .iter()
                    .map(|r| r[k].allocated_milli as f64 / r[k].capacity_milli.max(1) as f64)
                    .collect();
                (runs[0][k].step_permille, shares)
            })
            .collect();
        let rounded = (0..len)
            .map(|k| {
                runs.iter()
                    .map(|r| {
                        r[k].allocated_rounded_mean_milli as f64 / r[k].capacity_milli.max(1) as f64
                    })
                    .collect()
            })
            .collect();
        Curve {
            scheduler: scheduler.to_string(),
            steps,
            rounded,
        }
    }

    fn stats(shares: &[f64]) -> (f64, f64, f64) {
        let n = shares.len().max(1) as f64;
        let mean = shares.iter().sum::<f64>() / n;
        let min = shares.iter().copied().fold(f64::INFINITY, f64::min);
        let max = shares.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (mean, min, max)
    }
}

/// The rows of a scenario's mean table.
pub fn mean_records(curves: &[Curve]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for c in curves {
        for ((step, shares), rounded) in c.steps.iter().zip(&c.rounded) {
            let (mean, min, max) = Curve::stats(shares);
            let (rounded_mean, _, _) = Curve::stats(rounded);
            rows.push(vec![
                c.scheduler.clone(),
                fixed6(i128::from(*step), 1000),
                shares.len().to_string(),
                sim::observe::summary::float(mean),
                sim::observe::summary::float(min),
                sim::observe::summary::float(max),
                sim::observe::summary::float(rounded_mean),
            ]);
        }
    }
    rows
}

/// The font family name the chart registers DejaVu Sans under.
pub(crate) const FONT: &str = "sans-serif";

/// Registers DejaVu Sans with plotters, once per process.
pub(crate) fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        register_font(FONT, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && register_font(FONT, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the bundled DejaVu Sans font could not be loaded"))
    }
}

/// Line colours, one per scheduler in order: a colour-blind-safe palette of eight (Okabe
/// and Ito), then grey and wine so that the openb replay's ten schedulers each get their own.
pub(crate) const COLOURS: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
    RGBColor(240, 228, 66),
    RGBColor(128, 128, 128),
    RGBColor(136, 34, 85),
];

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    curves: &[Curve],
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("drawing the chart: {e}");
    root.fill(&WHITE).map_err(err)?;
    let x_max = curves
        .iter()
        .flat_map(|c| c.steps.last())
        .map(|(s, _)| f64::from(*s) / 1000.0)
        .fold(0.0, f64::max)
        .max(0.1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("arrived GPU demand / cluster GPUs")
        .y_desc("allocated GPU / cluster GPUs")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .x_label_formatter(&|x| format!("{x:.1}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .draw()
        .map_err(err)?;
    // The ideal: everything that arrives is allocated, until the cluster is full.
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (1.0, 1.0), (x_max, 1.0)],
            ShapeStyle::from(&RGBColor(160, 160, 160)).stroke_width(1),
        ))
        .map_err(err)?
        .label("ideal")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RGBColor(160, 160, 160)));
    for (i, c) in curves.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points = |pick: fn((f64, f64, f64)) -> f64| -> Vec<(f64, f64)> {
            c.steps
                .iter()
                .map(|(s, v)| (f64::from(*s) / 1000.0, pick(Curve::stats(v))))
                .collect()
        };
        let (lows, highs) = (points(|s| s.1), points(|s| s.2));
        if c.steps.iter().any(|(_, v)| v.len() > 1) {
            let band: Vec<(f64, f64)> = lows
                .iter()
                .copied()
                .chain(highs.iter().rev().copied())
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band,
                    colour.mix(0.18).filled(),
                )))
                .map_err(err)?;
        }
        // Dash patterns, marker shapes and final values keep coinciding curves apart
        // (first-fit's, drawn last, used to hide fgd's).
        crate::report::charts::draw_series(
            &mut chart,
            i,
            curves.len(),
            &crate::report::charts::Series {
                name: c.scheduler.clone(),
                points: points(|s| s.0),
                band: Vec::new(),
                whiskers: Vec::new(),
                final_in_legend: true,
            },
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Writes `gpu-fill.png` and `gpu-fill.svg` into `dir`.
pub fn write_charts(dir: &Path, title: &str, curves: &[Curve]) -> anyhow::Result<()> {
    ensure_font()?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let png = dir.join("gpu-fill.png");
    draw(
        BitMapBackend::new(&png, (960, 640)).into_drawing_area(),
        title,
        curves,
    )
    .with_context(|| format!("writing {}", png.display()))?;
    let svg = dir.join("gpu-fill.svg");
    draw(
        SVGBackend::new(&svg, (960, 640)).into_drawing_area(),
        title,
        curves,
    )
    .with_context(|| format!("writing {}", svg.display()))?;
    Ok(())
}
