//! Service-level objectives for `schedlab plan`: `--slo "p99_latency<=30s,pending_at_end==0"`
//! parsed into terms over a run's summary columns, and the test of a run against them.
//!
//! A term is `METRIC OP VALUE`. METRIC is a friendly name (`p99_latency`, ...) or any
//! numeric column of `summary.csv`; OP is one of `<= < >= > ==`; VALUE is a number, or for
//! a column in seconds a duration in the scenario syntax (`30s`, `2m`, `1h30m`). Everything
//! is checked when the flag is parsed, so a bad objective stops the command before any run.

use sim::time::parse_duration;
use sim::{Column, Summary, Unit, Value, columns};

/// Friendly metric names and the summary column each stands for.
static FRIENDLY: [(&str, &Column); 8] = [
    ("p99_latency", &columns::LATENCY_P99),
    ("p95_latency", &columns::LATENCY_P95),
    ("p50_latency", &columns::LATENCY_P50),
    ("p99_queue_delay", &columns::QUEUE_DELAY_P99),
    ("pending_at_end", &columns::PODS_PENDING_AT_END),
    ("availability", &columns::AVAILABILITY_MIN),
    ("dropped_requests", &columns::REQUESTS_DROPPED),
    ("cost", &columns::NODE_COST),
];

/// A comparison of a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<=`
    Le,
    /// `<`
    Lt,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `==`
    Eq,
}

impl Op {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Eq => "==",
        }
    }
}

/// One `METRIC OP VALUE` of an objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The summary column the term reads.
    pub column: &'static Column,
    /// The comparison.
    pub op: Op,
    /// The bound, in the column's unit (seconds for times).
    pub bound: f64,
    /// The term as the user wrote it, trimmed (for messages).
    pub text: String,
}

/// `==` on figures printed with six decimals: closer than this is equal.
const EQ_TOLERANCE: f64 = 5e-7;

impl Term {
    /// Whether a value meets the term; a missing value (say, a makespan when no pod
    /// finished) meets nothing, since nothing shows the objective is met.
    pub fn holds(&self, value: &Value) -> bool {
        let Some(v) = value.as_f64() else {
            return false;
        };
        match self.op {
            Op::Le => v <= self.bound,
            Op::Lt => v < self.bound,
            Op::Ge => v >= self.bound,
            Op::Gt => v > self.bound,
            Op::Eq => (v - self.bound).abs() <= EQ_TOLERANCE,
        }
    }

    /// The worst of several runs' values for this term: the highest for `<`/`<=`, the
    /// lowest for `>`/`>=`, the farthest from the bound for `==`, a missing value before
    /// any number (the first of equals, so the choice is deterministic). `None` for no runs.
    pub fn worst<'a>(&self, values: impl IntoIterator<Item = &'a Value>) -> Option<&'a Value> {
        // Higher badness is worse; a missing value is the worst of all.
        let badness = |value: &Value| match value.as_f64() {
            None => f64::INFINITY,
            Some(v) => match self.op {
                Op::Le | Op::Lt => v,
                Op::Ge | Op::Gt => -v,
                Op::Eq => (v - self.bound).abs(),
            },
        };
        let mut worst: Option<&Value> = None;
        for value in values {
            if worst.is_none_or(|w| badness(value) > badness(w)) {
                worst = Some(value);
            }
        }
        worst
    }

    /// The term's value in a run: [`Value::Missing`] when the run lacks the column.
    pub fn value_in(&self, summary: &Summary) -> Value {
        summary.get(self.column).cloned().unwrap_or(Value::Missing)
    }
}

/// The parsed `--slo`: its terms in the order written.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo(pub Vec<Term>);

/// Every metric a term may name, for error messages: the friendly names with their
/// columns, then every numeric summary column.
pub fn known_metrics() -> String {
    let friendly: Vec<String> = FRIENDLY
        .iter()
        .map(|(name, c)| format!("{name} ({})", c.name))
        .collect();
    let numeric: Vec<&str> = columns::ORDER
        .iter()
        .filter(|c| c.unit != Unit::Text)
        .map(|c| c.name)
        .collect();
    format!(
        "known metrics: {}; or any summary column: {}",
        friendly.join(", "),
        numeric.join(", ")
    )
}

/// The column a metric name stands for.
fn column(name: &str) -> Option<&'static Column> {
    FRIENDLY
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .or_else(|| {
            columns::ORDER
                .iter()
                .find(|c| c.name == name && c.unit != Unit::Text)
                .copied()
        })
}

/// `--slo`'s value parser: every term checked, errors naming the bad term.
pub fn parse(s: &str) -> Result<Slo, String> {
    let mut terms = Vec::new();
    for text in s.split(',') {
        let text = text.trim();
        if text.is_empty() {
            return Err(format!(
                "empty term in \"{s}\": expected METRIC OP VALUE terms separated by commas"
            ));
        }
        terms.push(parse_term(text)?);
    }
    Ok(Slo(terms))
}

/// One `METRIC OP VALUE`.
fn parse_term(text: &str) -> Result<Term, String> {
    let bad = |why: String| format!("bad objective term \"{text}\": {why}");
    let Some(at) = text.find(['<', '>', '=']) else {
        return Err(bad(
            "expected METRIC OP VALUE with OP one of <= < >= > ==".to_string()
        ));
    };
    let (metric, rest) = (text[..at].trim(), &text[at..]);
    let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix(">=") {
        (Op::Ge, v)
    } else if let Some(v) = rest.strip_prefix("==") {
        (Op::Eq, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else if let Some(v) = rest.strip_prefix('>') {
        (Op::Gt, v)
    } else {
        return Err(bad(
            "\"=\" is not a comparison: use == (or <= >= < >)".to_string()
        ));
    };
    let value = value.trim();
    if metric.is_empty() {
        return Err(bad(format!("no metric before {}", op.symbol())));
    }
    let column = column(metric)
        .ok_or_else(|| bad(format!("unknown metric \"{metric}\"; {}", known_metrics())))?;
    if value.is_empty() {
        return Err(bad(format!("no value after {}", op.symbol())));
    }
    let bound = match value.parse::<f64>() {
        Ok(x) if x.is_finite() => x,
        Ok(_) => return Err(bad(format!("\"{value}\" is not a finite number"))),
        Err(_) if column.unit == Unit::Seconds => parse_duration(value)
            .map_err(|e| {
                bad(format!(
                    "\"{value}\" is neither a number nor a duration: {e}"
                ))
            })?
            .as_secs_f64(),
        Err(_) => {
            return Err(bad(format!(
                "\"{value}\" is not a number (durations such as 30s are for time metrics; {} is not one)",
                column.name
            )));
        }
    };
    Ok(Term {
        column,
        op,
        bound,
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim::SimTime;

    #[test]
    fn friendly_names_units_and_column_names_parse() {
        let slo = parse("p99_latency<=30s, pending_at_end==0,availability>=0.999").unwrap();
        assert_eq!(slo.0.len(), 3);
        assert_eq!(slo.0[0].column.name, "latency_p99_s");
        assert_eq!((slo.0[0].op, slo.0[0].bound), (Op::Le, 30.0));
        assert_eq!(slo.0[1].column.name, "pods_pending_at_end");
        assert_eq!((slo.0[1].op, slo.0[1].bound), (Op::Eq, 0.0));
        assert_eq!((slo.0[2].op, slo.0[2].bound), (Op::Ge, 0.999));
        let t = &parse("queue_delay_p99_s < 2m").unwrap().0[0];
        assert_eq!(
            (t.column.name, t.op, t.bound),
            ("queue_delay_p99_s", Op::Lt, 120.0)
        );
        assert_eq!(parse("events>5").unwrap().0[0].op, Op::Gt);
    }

    #[test]
    fn bad_terms_are_named() {
        let e = parse("p99_latency<=30s,p99_latnecy<=1").unwrap_err();
        assert!(e.contains("\"p99_latnecy<=1\""), "{e}");
        assert!(e.contains("known metrics: p99_latency"), "{e}");
        assert!(e.contains("pods_pending_at_end"), "{e}");
        assert!(parse("pending_at_end=0").unwrap_err().contains("use =="));
        assert!(
            parse("pending_at_end==2m")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse("p99_latency<=soon").unwrap_err().contains("duration"));
        assert!(
            parse("p99_latency")
                .unwrap_err()
                .contains("METRIC OP VALUE")
        );
        assert!(
            parse("events==1,,events==2")
                .unwrap_err()
                .contains("empty term")
        );
        assert!(parse("<=3").unwrap_err().contains("no metric"));
        assert!(parse("events>=").unwrap_err().contains("no value"));
        // Text columns are not metrics.
        assert!(
            parse("scheduler==1")
                .unwrap_err()
                .contains("unknown metric")
        );
    }

    #[test]
    fn worst_values_and_holds() {
        let le = &parse("p99_latency<=30s").unwrap().0[0];
        let values = [
            Value::Time(SimTime::from_secs(10)),
            Value::Time(SimTime::from_secs(31)),
            Value::Time(SimTime::from_secs(20)),
        ];
        assert_eq!(le.worst(&values), Some(&values[1]));
        assert!(le.holds(&values[0]) && !le.holds(&values[1]));
        let ge = &parse("availability>=0.999").unwrap().0[0];
        let values = [Value::Fraction(999, 1000), Value::Fraction(1, 2)];
        assert_eq!(ge.worst(&values), Some(&values[1]));
        assert!(ge.holds(&values[0]) && !ge.holds(&values[1]));
        let eq = &parse("pending_at_end==0").unwrap().0[0];
        let values = [Value::Count(0), Value::Count(3), Value::Missing];
        assert_eq!(eq.worst(&values), Some(&Value::Missing));
        assert!(eq.holds(&values[0]) && !eq.holds(&values[1]) && !eq.holds(&values[2]));
        assert_eq!(eq.worst(&[]), None);
    }
}
