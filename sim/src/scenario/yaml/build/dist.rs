//! Distributions (`{dist: exponential, mean: 1h}`): where a workload's durations and a batch
//! workload's requests may vary from pod to pod.

use schedulers::yaml::Scalar;
use schedulers::yaml::message::{did_you_mean, one_of};
use serde_saphyr::{Location, Spanned};

use super::super::raw::{RawDist, ScalarOrDist};
use super::{Builder, Result};
use crate::scenario::Dist;

const DISTS: &[&str] = &["exponential", "uniform", "lognormal", "choice"];

/// Parses one value of a distribution (a duration, or a quantity of one resource kind).
pub(super) type ParseFn<'p, T> = dyn Fn(&Builder<'_>, &Spanned<Scalar>, &str) -> Result<T> + 'p;

impl Builder<'_> {
    /// A single value or a distribution of values, each parsed by `parse`; `zero` is the
    /// bound for parameters that must be positive.
    pub(super) fn scalar_or_dist<T: PartialOrd + Clone + std::fmt::Display>(
        &self,
        v: &Spanned<ScalarOrDist>,
        field: &str,
        parse: &ParseFn<'_, T>,
        zero: T,
    ) -> Result<Dist<T>> {
        match &v.value {
            ScalarOrDist::Scalar(s) => {
                let spanned = Spanned::new(s.clone(), v.referenced, v.defined);
                Ok(Dist::Constant(parse(self, &spanned, field)?))
            }
            ScalarOrDist::Dist(d) => self.dist(d, &v.referenced, field, parse, zero),
        }
    }

    /// A `{dist: ...}` mapping.
    fn dist<T: PartialOrd + Clone + std::fmt::Display>(
        &self,
        d: &RawDist,
        at: &Location,
        base: &str,
        parse: &ParseFn<'_, T>,
        zero: T,
    ) -> Result<Dist<T>> {
        let kind = d.dist.value.as_str();
        let params: [(&str, Option<&Location>); 6] = [
            ("mean", d.mean.as_ref().map(|v| &v.referenced)),
            ("min", d.min.as_ref().map(|v| &v.referenced)),
            ("max", d.max.as_ref().map(|v| &v.referenced)),
            ("median", d.median.as_ref().map(|v| &v.referenced)),
            ("sigma", d.sigma.as_ref().map(|v| &v.referenced)),
            ("values", d.values.as_ref().map(|v| &v.referenced)),
        ];
        let takes: &[&str] = match kind {
            "exponential" => &["mean"],
            "uniform" => &["min", "max"],
            "lognormal" => &["median", "sigma"],
            "choice" => &["values"],
            other => {
                return Err(self.kube.err(
                    &d.dist.referenced,
                    &format!("{base}.dist"),
                    format!(
                        "unknown distribution {other:?}{}; expected {}",
                        did_you_mean(other, DISTS),
                        one_of(DISTS)
                    ),
                ));
            }
        };
        let takes_text = takes
            .iter()
            .map(|t| format!("`{t}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        for (key, loc) in params {
            if let Some(loc) = loc
                && !takes.contains(&key)
            {
                return Err(self.kube.err(
                    loc,
                    &format!("{base}.{key}"),
                    format!("`{key}` does not apply to dist: {kind}, which takes {takes_text}"),
                ));
            }
        }
        let required = |v: Option<&Spanned<Scalar>>, key: &str| -> Result<T> {
            let field = format!("{base}.{key}");
            match v {
                Some(v) => parse(self, v, &field),
                None => Err(self.kube.err(
                    at,
                    &field,
                    format!("dist: {kind} needs {takes_text}; `{key}` is missing"),
                )),
            }
        };
        let positive = |v: T, key: &str, loc: Option<&Spanned<Scalar>>| -> Result<T> {
            if v > zero {
                return Ok(v);
            }
            let loc = loc.map_or(at, |l| &l.referenced);
            Err(self.kube.err(
                loc,
                &format!("{base}.{key}"),
                format!("expected a {key} greater than zero, got {v}"),
            ))
        };
        Ok(match kind {
            "exponential" => Dist::Exponential {
                mean: positive(required(d.mean.as_ref(), "mean")?, "mean", d.mean.as_ref())?,
            },
            "uniform" => {
                let min = required(d.min.as_ref(), "min")?;
                let max = required(d.max.as_ref(), "max")?;
                if min > max {
                    let loc = d.max.as_ref().map_or(at, |m| &m.referenced);
                    return Err(self.kube.err(
                        loc,
                        &format!("{base}.max"),
                        format!("max must not be smaller than min ({min}), got {max}"),
                    ));
                }
                Dist::Uniform { min, max }
            }
            "lognormal" => {
                let median = positive(
                    required(d.median.as_ref(), "median")?,
                    "median",
                    d.median.as_ref(),
                )?;
                let sigma = match &d.sigma {
                    Some(s) => self.kube.number(s, &format!("{base}.sigma"), true)?,
                    None => {
                        return Err(self.kube.err(
                            at,
                            &format!("{base}.sigma"),
                            format!("dist: lognormal needs {takes_text}; `sigma` is missing"),
                        ));
                    }
                };
                Dist::LogNormal { median, sigma }
            }
            // "choice", the one name left after the check above.
            _ => {
                let values_field = format!("{base}.values");
                let Some(values) = &d.values else {
                    return Err(self.kube.err(
                        at,
                        &values_field,
                        format!("dist: choice needs {takes_text}; `values` is missing"),
                    ));
                };
                if values.value.is_empty() {
                    return Err(self.kube.err(
                        &values.referenced,
                        &values_field,
                        "expected at least one value to choose from",
                    ));
                }
                let mut out = Vec::with_capacity(values.value.len());
                for (i, v) in values.value.iter().enumerate() {
                    out.push(parse(self, v, &format!("{values_field}[{i}]"))?);
                }
                Dist::Choice(out)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{check_at, load};
    use super::*;
    use crate::time::SimTime;

    fn duration(text: &str) -> Dist<SimTime> {
        let s = load(&format!("workloads: [{{pod: p, duration: {text}}}]\n"));
        s.workloads[0].duration.clone().expect("a duration")
    }

    fn check_duration_error(dist: &str, needle: &str, field: &str, message: &str) {
        check_at(
            &format!("workloads: [{{pod: p, duration: {dist}}}]\n"),
            needle,
            &format!("workloads[0].duration{field}"),
            message,
        );
    }

    #[test]
    fn every_distribution_is_read() {
        let s = SimTime::from_secs;
        assert_eq!(duration("90s"), Dist::Constant(s(90)));
        assert_eq!(
            duration("{dist: exponential, mean: 1h}"),
            Dist::Exponential { mean: s(3600) }
        );
        assert_eq!(
            duration("{dist: uniform, min: 1m, max: 2m}"),
            Dist::Uniform {
                min: s(60),
                max: s(120)
            }
        );
        assert_eq!(
            duration("{dist: lognormal, median: 10m, sigma: 0.5}"),
            Dist::LogNormal {
                median: s(600),
                sigma: 0.5
            }
        );
        assert_eq!(
            duration("{dist: choice, values: [1m, 5m]}"),
            Dist::Choice(vec![s(60), s(300)])
        );
    }

    #[test]
    fn distribution_errors_are_located() {
        check_duration_error(
            "{dist: gaussian, mean: 1h}",
            "gaussian",
            ".dist",
            "unknown distribution \"gaussian\"; expected exponential, uniform, lognormal or choice",
        );
        check_duration_error(
            "{dist: exponential, mean: 1h, sigma: 2}",
            "2}",
            ".sigma",
            "`sigma` does not apply to dist: exponential, which takes `mean`",
        );
        check_duration_error(
            "{dist: uniform, min: 1m}",
            "{dist",
            ".max",
            "dist: uniform needs `min` and `max`; `max` is missing",
        );
        check_duration_error(
            "{dist: uniform, min: 2m, max: 1m}",
            "1m}",
            ".max",
            "max must not be smaller than min (2m), got 1m",
        );
        check_duration_error(
            "{dist: exponential, mean: 0s}",
            "0s",
            ".mean",
            "expected a mean greater than zero, got 0s",
        );
        check_duration_error(
            "{dist: choice, values: []}",
            "[]",
            ".values",
            "expected at least one value to choose from",
        );
        check_duration_error(
            "{dist: choice, values: [1m, soon]}",
            "soon",
            ".values[1]",
            "invalid duration \"soon\": expected a number at \"soon\"",
        );
    }
}
