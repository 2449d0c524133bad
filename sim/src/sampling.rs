//! Drawing durations and sizes from a scenario's distributions with rand_distr.

use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};

use crate::scenario::Dist;
use crate::time::SimTime;

/// Draws a duration. Continuous draws are rounded to the nearest microsecond.
pub fn sample_duration(dist: &Dist<SimTime>, rng: &mut ChaCha8Rng) -> SimTime {
    match dist {
        Dist::Constant(v) => *v,
        Dist::Uniform { min, max } => SimTime(rng.random_range(min.0..=max.0.max(min.0))),
        Dist::Exponential { mean } => SimTime::from_secs_f64(exponential(mean.as_secs_f64(), rng)),
        Dist::LogNormal { median, sigma } => {
            SimTime::from_secs_f64(lognormal(median.as_secs_f64(), *sigma, rng))
        }
        Dist::Choice(values) => choice(values, rng).unwrap_or(SimTime::ZERO),
    }
}

/// Draws a resource amount (millicores, bytes or a count). Continuous draws round up,
/// as Kubernetes rounds quantities, and never go below zero.
pub fn sample_size(dist: &Dist<i64>, rng: &mut ChaCha8Rng) -> i64 {
    match dist {
        Dist::Constant(v) => *v,
        Dist::Uniform { min, max } => rng.random_range(*min..=(*max).max(*min)),
        Dist::Exponential { mean } => exponential(*mean as f64, rng).ceil() as i64,
        Dist::LogNormal { median, sigma } => lognormal(*median as f64, *sigma, rng).ceil() as i64,
        Dist::Choice(values) => choice(values, rng).unwrap_or(0),
    }
}

/// An exponential inter-arrival gap, in seconds, for `rate` arrivals per second.
pub fn exponential_gap(rate: f64, rng: &mut ChaCha8Rng) -> SimTime {
    SimTime::from_secs_f64(exponential(1.0 / rate, rng))
}

fn exponential(mean: f64, rng: &mut ChaCha8Rng) -> f64 {
    // The loader guarantees mean > 0; a bad value degenerates to the mean, never a panic.
    match Exp::new(1.0 / mean) {
        Ok(d) => d.sample(rng),
        Err(_) => mean.max(0.0),
    }
}

fn lognormal(median: f64, sigma: f64, rng: &mut ChaCha8Rng) -> f64 {
    match LogNormal::new(median.ln(), sigma) {
        Ok(d) => d.sample(rng),
        Err(_) => median.max(0.0),
    }
}

fn choice<T: Copy>(values: &[T], rng: &mut ChaCha8Rng) -> Option<T> {
    if values.is_empty() {
        None
    } else {
        Some(values[rng.random_range(0..values.len())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Concern, stream};

    #[test]
    fn draws_have_the_right_moments() {
        let mut rng = stream(7, Concern::Durations, 0);
        let n = 20_000;
        let mean = |d: &Dist<SimTime>, rng: &mut ChaCha8Rng| {
            (0..n)
                .map(|_| sample_duration(d, rng).as_secs_f64())
                .sum::<f64>()
                / n as f64
        };
        let exp = mean(
            &Dist::Exponential {
                mean: SimTime::from_secs(100),
            },
            &mut rng,
        );
        assert!((exp - 100.0).abs() < 3.0, "exponential mean {exp}");
        let uni = mean(
            &Dist::Uniform {
                min: SimTime::from_secs(10),
                max: SimTime::from_secs(20),
            },
            &mut rng,
        );
        assert!((uni - 15.0).abs() < 0.2, "uniform mean {uni}");
        let mut logn: Vec<f64> = (0..n)
            .map(|_| {
                sample_duration(
                    &Dist::LogNormal {
                        median: SimTime::from_secs(60),
                        sigma: 0.8,
                    },
                    &mut rng,
                )
                .as_secs_f64()
            })
            .collect();
        logn.sort_by(f64::total_cmp);
        let median = logn[n / 2];
        assert!((median - 60.0).abs() < 2.5, "lognormal median {median}");
        let sizes = Dist::Choice(vec![250, 500, 1000]);
        let mut seen = [0; 3];
        for _ in 0..3000 {
            match sample_size(&sizes, &mut rng) {
                250 => seen[0] += 1,
                500 => seen[1] += 1,
                1000 => seen[2] += 1,
                other => panic!("drew {other}, not one of the choices"),
            }
        }
        assert!(seen.iter().all(|&c| c > 900), "{seen:?}");
    }
}
