//! A run's summary as named, typed values: each observer declares its [`Column`]s (name,
//! unit, one-line meaning) and fills a [`Value`] for each, and whatever writes the summary
//! (a CSV file, statistics over seeds) works from the columns alone. A new metric is one
//! column and one value in the observer that measures it.
//!
//! Values are exact where they can be: times are integer microseconds and ratios of
//! integers are kept as fractions, so [`Value::render`] prints them with exact integer
//! arithmetic; the few figures that are `f64` print with `{:.6}`, which Rust rounds exactly
//! and identically on every platform.

use crate::time::SimTime;

/// What a column's numbers count or measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count of things (pods, attempts, events, nodes).
    Count,
    /// Seconds of simulated time.
    Seconds,
    /// A dimensionless share, usually between 0 and 1.
    Ratio,
    /// Pods per node.
    PodsPerNode,
    /// Text (names).
    Text,
    /// Node-hours: nodes times hours of simulated time.
    NodeHours,
    /// Money, in the unit the scenario's prices are given in.
    Cost,
}

/// One documented column of the summary.
#[derive(Debug, PartialEq, Eq)]
pub struct Column {
    /// The column's header in `summary.csv`.
    pub name: &'static str,
    /// What its numbers measure.
    pub unit: Unit,
    /// What it means, in one line (`results/README.md` says the same at more length).
    pub doc: &'static str,
}

/// One figure of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A count.
    Count(u64),
    /// A span of simulated time.
    Time(SimTime),
    /// An exact fraction `num / den` (0 when `den` is 0).
    Fraction(i128, i128),
    /// A floating-point figure.
    Float(f64),
    /// Text.
    Text(String),
    /// Not defined for this run (e.g. a makespan when no pod finished).
    Missing,
}

impl Value {
    /// The value as `summary.csv` writes it: counts as integers, times as seconds with six
    /// decimals, fractions and floats with six decimals, a missing value as nothing.
    pub fn render(&self) -> String {
        match self {
            Value::Count(n) => n.to_string(),
            Value::Time(t) => secs(*t),
            Value::Fraction(num, den) => fixed6(*num, *den),
            Value::Float(x) => float(*x),
            Value::Text(s) => s.clone(),
            Value::Missing => String::new(),
        }
    }

    /// The value as a number, for statistics and tests: times in seconds; `None` for text
    /// and missing values.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Count(n) => Some(*n as f64),
            Value::Time(t) => Some(t.as_secs_f64()),
            Value::Fraction(_, 0) => Some(0.0),
            Value::Fraction(num, den) => Some(*num as f64 / *den as f64),
            Value::Float(x) => Some(*x),
            Value::Text(_) | Value::Missing => None,
        }
    }
}

/// One column's value in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// The column.
    pub column: &'static Column,
    /// Its value.
    pub value: Value,
}

/// A run's figures, one per column, in the order `summary.csv` lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    metrics: Vec<Metric>,
}

impl Summary {
    /// Adds a column's value (observers call this when the run closes).
    pub fn push(&mut self, column: &'static Column, value: Value) {
        self.metrics.push(Metric { column, value });
    }

    /// Every figure, in order.
    pub fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// The columns, in order.
    pub fn columns(&self) -> impl Iterator<Item = &'static Column> + '_ {
        self.metrics.iter().map(|m| m.column)
    }

    /// The value of `column`, if the run has it.
    pub fn get(&self, column: &Column) -> Option<&Value> {
        self.metrics
            .iter()
            .find(|m| m.column.name == column.name)
            .map(|m| &m.value)
    }

    /// The value of a count column.
    ///
    /// # Panics
    /// If the run has no such column or it is not a count: a mistake in the caller's
    /// code, not in any input.
    pub fn count(&self, column: &Column) -> u64 {
        match self.get(column) {
            Some(Value::Count(n)) => *n,
            other => panic!("{} is not a count column here: {other:?}", column.name),
        }
    }

    /// The value of a time column.
    ///
    /// # Panics
    /// If the run has no such column or it is not a time (a mistake in the caller's code).
    pub fn time(&self, column: &Column) -> SimTime {
        match self.get(column) {
            Some(Value::Time(t)) => *t,
            other => panic!("{} is not a time column here: {other:?}", column.name),
        }
    }

    /// The value of a numeric column as `f64` (`None` when missing for this run).
    ///
    /// # Panics
    /// If the run has no such column (a mistake in the caller's code).
    pub fn number(&self, column: &Column) -> Option<f64> {
        match self.get(column) {
            Some(value) => value.as_f64(),
            None => panic!("the run has no column {}", column.name),
        }
    }

    /// Puts the metrics in the order of `order` (by column name); columns it does not
    /// name keep their relative order after those it does.
    pub(crate) fn sort_by_order(&mut self, order: &[&Column]) {
        let rank = |m: &Metric| {
            order
                .iter()
                .position(|c| c.name == m.column.name)
                .unwrap_or(order.len())
        };
        // Stable: the unranked columns stay in the order their observers gave them.
        self.metrics.sort_by_key(rank);
    }
}

/// Microseconds per second ([`SimTime`]'s unit).
const MICROS_PER_SEC: i128 = 1_000_000;

/// A time in seconds with exactly six decimals: exact, since the unit is the microsecond.
pub fn secs(t: SimTime) -> String {
    fixed6(i128::from(t.as_micros()), MICROS_PER_SEC)
}

/// A float with exactly six decimals; a negative value that rounds to zero prints as
/// `0.000000`, so float noise cannot flip a sign in the files.
pub fn float(x: f64) -> String {
    let s = format!("{x:.6}");
    if s == "-0.000000" {
        "0.000000".to_string()
    } else {
        s
    }
}

/// `num / den` with exactly six decimals, rounded half away from zero, using integers only;
/// `0.000000` when `den` is zero (an empty cluster has no allocation rather than NaN).
pub fn fixed6(num: i128, den: i128) -> String {
    if den == 0 {
        return "0.000000".to_string();
    }
    let negative = (num < 0) != (den < 0);
    let (num, den) = (num.unsigned_abs(), den.unsigned_abs());
    // |num| < 2^127 and the factor is < 2^20; values that could overflow are far beyond any
    // cluster (u64 microseconds or i64 bytes times a million still fits comfortably).
    let scaled = num.saturating_mul(1_000_000);
    let mut q = scaled / den;
    if (scaled % den) * 2 >= den {
        q += 1;
    }
    let sign = if negative && q != 0 { "-" } else { "" };
    format!("{sign}{}.{:06}", q / 1_000_000, q % 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed6_is_exact_and_rounds_half_away_from_zero() {
        assert_eq!(fixed6(1_500_000, 1_000_000), "1.500000");
        assert_eq!(fixed6(0, 1_000_000), "0.000000");
        assert_eq!(fixed6(1, 3), "0.333333");
        assert_eq!(fixed6(2, 3), "0.666667");
        assert_eq!(fixed6(1, 2_000_000), "0.000001");
        assert_eq!(fixed6(-1, 2_000_000), "-0.000001");
        assert_eq!(fixed6(-1, 3_000_000), "0.000000");
        assert_eq!(fixed6(5, 0), "0.000000");
        assert_eq!(fixed6(3 << 30, 1 << 30), "3.000000");
        assert_eq!(
            fixed6(i128::from(u64::MAX), 1_000_000),
            "18446744073709.551615"
        );
    }

    #[test]
    fn floats_have_six_decimals_and_no_negative_zero() {
        assert_eq!(float(0.375), "0.375000");
        assert_eq!(float(-1e-9), "0.000000");
        assert_eq!(float(1.0 / 3.0), "0.333333");
    }

    static A: Column = Column {
        name: "a",
        unit: Unit::Count,
        doc: "a",
    };
    static B: Column = Column {
        name: "b",
        unit: Unit::Seconds,
        doc: "b",
    };
    static C: Column = Column {
        name: "c",
        unit: Unit::Ratio,
        doc: "c",
    };

    #[test]
    fn values_render_as_the_files_write_them() {
        assert_eq!(Value::Count(7).render(), "7");
        assert_eq!(Value::Time(SimTime(1_500_000)).render(), "1.500000");
        assert_eq!(Value::Fraction(1, 3).render(), "0.333333");
        assert_eq!(Value::Float(0.5).render(), "0.500000");
        assert_eq!(Value::Missing.render(), "");
        assert_eq!(Value::Missing.as_f64(), None);
        assert_eq!(Value::Time(SimTime(2_500_000)).as_f64(), Some(2.5));
    }

    #[test]
    fn summaries_are_ordered_and_looked_up_by_column() {
        let mut s = Summary::default();
        s.push(&C, Value::Float(0.25));
        s.push(&B, Value::Time(SimTime(3)));
        s.push(&A, Value::Count(2));
        s.sort_by_order(&[&A, &B]);
        let names: Vec<_> = s.columns().map(|c| c.name).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(s.count(&A), 2);
        assert_eq!(s.time(&B), SimTime(3));
        assert_eq!(s.number(&C), Some(0.25));
    }
}
