//! `OUT/stats.csv`: per scenario x parameter point x scheduler, for every numeric
//! summary.csv column, the mean over seeds with a 95% confidence interval, and against a
//! baseline scheduler the paired difference and ratio.
//!
//! The intervals are Student's t intervals: mean ± t(0.975, n-1) · sd / √n, with the
//! sample standard deviation (n-1 in the denominator). The comparison is a paired t test:
//! runs of two schedulers with the same seed see the same arrivals, so the per-seed
//! differences (and ratios) are what is averaged; a difference whose interval excludes
//! zero is flagged `significant`. The t quantile comes from `statrs`.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Columns of stats.csv after the key and the parameter columns.
pub const COLUMNS: [&str; 16] = [
    "scheduler",
    "column",
    "n",
    "mean",
    "sd",
    "ci95_low",
    "ci95_high",
    "baseline",
    "pairs",
    "diff_mean",
    "diff_ci95_low",
    "diff_ci95_high",
    "ratio_mean",
    "ratio_ci95_low",
    "ratio_ci95_high",
    "significant",
];

/// Mean, sample standard deviation and 95% t interval of a sample; `None` when empty. The
/// sd and interval are NaN for one value (no spread can be estimated).
pub fn describe(xs: &[f64]) -> Option<(f64, f64, f64, f64)> {
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Some((mean, f64::NAN, f64::NAN, f64::NAN));
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let t = StudentsT::new(0.0, 1.0, (n - 1) as f64)
        .map(|d| d.inverse_cdf(0.975))
        .unwrap_or(f64::NAN);
    let half = t * sd / (n as f64).sqrt();
    Some((mean, sd, mean - half, mean + half))
}

/// A figure for the CSV: six decimals, empty for NaN or infinite.
fn fmt(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        String::new()
    }
}

/// One run's row of summary.csv, as the statistics need it.
pub struct Row<'a> {
    /// Scenario name plus the parameter values: the group the run belongs to.
    pub group: Vec<&'a str>,
    /// The scheduler's label.
    pub scheduler: &'a str,
    /// The seed, for pairing.
    pub seed: u64,
    /// The figure cells, in header order.
    pub cells: &'a [String],
}

/// The stats.csv records for `rows` (in plan order): `names` are the figure columns;
/// groups and schedulers in the order first met; `baseline` the scheduler compared against
/// (default: each group's first).
pub fn records(rows: &[Row<'_>], names: &[&str], baseline: Option<&str>) -> Vec<Vec<String>> {
    let mut groups: Vec<&Vec<&str>> = Vec::new();
    for r in rows {
        if !groups.contains(&&r.group) {
            groups.push(&r.group);
        }
    }
    let mut out = Vec::new();
    for group in groups {
        let in_group: Vec<&Row<'_>> = rows.iter().filter(|r| &r.group == group).collect();
        let mut schedulers: Vec<&str> = Vec::new();
        for r in &in_group {
            if !schedulers.contains(&r.scheduler) {
                schedulers.push(r.scheduler);
            }
        }
        let baseline = baseline.unwrap_or(schedulers[0]);
        for scheduler in &schedulers {
            for (c, name) in names.iter().enumerate() {
                let value = |r: &Row<'_>| r.cells.get(c).and_then(|v| v.parse::<f64>().ok());
                let mine: Vec<(u64, f64)> = in_group
                    .iter()
                    .filter(|r| r.scheduler == *scheduler)
                    .filter_map(|r| value(r).map(|v| (r.seed, v)))
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                let xs: Vec<f64> = mine.iter().map(|(_, v)| *v).collect();
                let Some((mean, sd, lo, hi)) = describe(&xs) else {
                    continue;
                };
                let mut record: Vec<String> = group.iter().map(|s| s.to_string()).collect();
                record.extend([
                    scheduler.to_string(),
                    name.to_string(),
                    xs.len().to_string(),
                    fmt(mean),
                    fmt(sd),
                    fmt(lo),
                    fmt(hi),
                    baseline.to_string(),
                ]);
                // Pairs by seed with the baseline's runs of the same group.
                let (mut diffs, mut ratios) = (Vec::new(), Vec::new());
                for (seed, v) in &mine {
                    let base = in_group
                        .iter()
                        .find(|r| r.scheduler == baseline && r.seed == *seed)
                        .and_then(|r| value(r));
                    if let Some(b) = base {
                        diffs.push(v - b);
                        if b != 0.0 {
                            ratios.push(v / b);
                        }
                    }
                }
                record.push(diffs.len().to_string());
                let paired = *scheduler != baseline;
                match describe(&diffs).filter(|_| paired) {
                    Some((m, _, lo, hi)) => {
                        record.extend([fmt(m), fmt(lo), fmt(hi)]);
                        match describe(&ratios) {
                            Some((m, _, lo, hi)) => record.extend([fmt(m), fmt(lo), fmt(hi)]),
                            None => record.extend([String::new(), String::new(), String::new()]),
                        }
                        let significant = lo.is_finite() && (lo > 0.0 || hi < 0.0);
                        record.push(significant.to_string());
                    }
                    None => record.extend(std::iter::repeat_n(String::new(), 7)),
                }
                out.push(record);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_matches_a_hand_computation() {
        // 2, 4, 6, 8: mean 5, sd sqrt(20/3) = 2.581989, t(0.975, 3) = 3.182446,
        // half-width 3.182446 * 2.581989 / 2 = 4.108521.
        let (mean, sd, lo, hi) = describe(&[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert_eq!(fmt(mean), "5.000000");
        assert_eq!(fmt(sd), "2.581989");
        assert_eq!(fmt(lo), "0.891479");
        assert_eq!(fmt(hi), "9.108521");
        assert!(describe(&[]).is_none());
        assert!(describe(&[1.0]).unwrap().1.is_nan());
    }

    #[test]
    fn paired_difference_matches_a_hand_computation() {
        // Baseline a: 10, 20, 30; b: 12, 23, 33 on seeds 1..3: differences 2, 3, 3, mean
        // 8/3 = 2.666667, sd sqrt(1/3) = 0.577350, t(0.975, 2) = 4.302653, half-width
        // 4.302653 / 3 = 1.434218: [1.232449, 4.100884], excludes 0. Ratios 1.2, 1.15,
        // 1.1: mean 1.15, sd 0.05, half 4.302653 * 0.05 / sqrt(3) = 0.124207. b alone:
        // mean 68/3, sd sqrt(220.666667 / 2) = 10.503968, half 26.093302.
        let cells: Vec<Vec<String>> = [10, 20, 30, 12, 23, 33]
            .iter()
            .map(|v| vec![v.to_string()])
            .collect();
        let rows: Vec<Row<'_>> = (0..6)
            .map(|i| Row {
                group: vec!["s"],
                scheduler: if i < 3 { "a" } else { "b" },
                seed: (i % 3) as u64 + 1,
                cells: &cells[i],
            })
            .collect();
        let out = records(&rows, &["x"], None);
        assert_eq!(out.len(), 2);
        // The baseline has no comparison with itself.
        assert_eq!(out[0][10..], vec![String::new(); 7]);
        assert_eq!(
            out[1][1..],
            [
                "b",
                "x",
                "3",
                "22.666667",
                "10.503968",
                "-3.426635",
                "48.759968",
                "a",
                "3",
                "2.666667",
                "1.232449",
                "4.100884",
                "1.150000",
                "1.025793",
                "1.274207",
                "true"
            ]
        );
    }
}
